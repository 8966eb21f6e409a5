//! The durable outbox toward internal systems, and the processing marks
//! that make processing idempotent: `seen` (events already processed, by
//! keyed id) and `progress` (the last inbox batch processed). All live in
//! `webhooks.db` next to the inbox, so a batch's outbox rows, its `seen`
//! keys and the progress mark commit in one transaction.

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use crate::store::Sealer;

/// HKDF purpose of the outbox key.
pub(super) const OUTBOX_PURPOSE: &[u8] = b"schleuse webhook outbox v1";

/// One queued delivery.
#[derive(Debug)]
pub(super) struct OutboxRow {
    pub(super) id: i64,
    pub(super) body: Vec<u8>,
    pub(super) attempts: u32,
    pub(super) created_ms: i64,
}

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    client TEXT NOT NULL,
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL,
    created_ms INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    parked INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (client, parked, id);
CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS progress (name TEXT PRIMARY KEY, last_id INTEGER NOT NULL) WITHOUT ROWID;
";

/// The last inbox batch id processed.
pub(super) fn progress(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT last_id FROM progress WHERE name = 'inbox'",
        [],
        |r| r.get(0),
    )
    .optional()
    .map(|v| v.unwrap_or(0))
}

pub(super) fn set_progress(tx: &Transaction<'_>, last_id: i64) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO progress (name, last_id) VALUES ('inbox', ?1) ON CONFLICT(name) DO UPDATE SET last_id = excluded.last_id",
        params![last_id],
    )?;
    Ok(())
}

/// Records an event key; `false` if it was seen before.
pub(super) fn first_sighting(tx: &Transaction<'_>, key: &str) -> rusqlite::Result<bool> {
    Ok(tx.execute("INSERT OR IGNORE INTO seen (key) VALUES (?1)", params![key])? == 1)
}

pub(super) fn enqueue(
    tx: &Transaction<'_>,
    sealer: &Sealer,
    client: &str,
    body: &[u8],
    now_ms: i64,
) -> rusqlite::Result<()> {
    let (nonce, sealed) = sealer
        .seal(body, client.as_bytes())
        .ok_or_else(|| rusqlite::Error::ToSqlConversionFailure("outbox sealing failed".into()))?;
    tx.execute(
        "INSERT INTO outbox (client, nonce, sealed, created_ms, next_attempt_ms) VALUES (?1, ?2, ?3, ?4, ?4)",
        params![client, nonce.to_vec(), sealed, now_ms],
    )?;
    Ok(())
}

/// The oldest undelivered, unparked row of a client, if it is due. Rows are
/// delivered strictly in order: a row waiting for its retry holds back the
/// ones behind it.
pub(super) fn next_due(
    conn: &Connection,
    sealer: &Sealer,
    client: &str,
    now_ms: i64,
) -> rusqlite::Result<Option<OutboxRow>> {
    let head = conn
        .prepare_cached(
            "SELECT id, nonce, sealed, attempts, next_attempt_ms, created_ms FROM outbox
             WHERE client = ?1 AND parked = 0 ORDER BY id LIMIT 1",
        )?
        .query_row(params![client], |r| {
            Ok(Head {
                id: r.get(0)?,
                nonce: r.get(1)?,
                sealed: r.get(2)?,
                attempts: r.get(3)?,
                next_ms: r.get(4)?,
                created_ms: r.get(5)?,
            })
        })
        .optional()?;
    let Some(head) = head.filter(|h| h.next_ms <= now_ms) else {
        return Ok(None);
    };
    let body = sealer
        .open(&head.nonce, head.sealed, client.as_bytes())
        .ok_or_else(|| {
            rusqlite::Error::InvalidColumnType(2, "sealed".into(), rusqlite::types::Type::Blob)
        })?;
    Ok(Some(OutboxRow {
        id: head.id,
        body,
        attempts: head.attempts,
        created_ms: head.created_ms,
    }))
}

/// The head row of a client's queue, still sealed.
struct Head {
    id: i64,
    nonce: Vec<u8>,
    sealed: Vec<u8>,
    attempts: u32,
    next_ms: i64,
    created_ms: i64,
}

pub(super) fn delivered(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM outbox WHERE id = ?1", params![id])?;
    Ok(())
}

pub(super) fn retry_later(
    conn: &Connection,
    id: i64,
    attempts: u32,
    next_ms: i64,
    error: &str,
) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE outbox SET attempts = ?2, next_attempt_ms = ?3, last_error = ?4 WHERE id = ?1",
        params![id, attempts, next_ms, error],
    )?;
    Ok(())
}

pub(super) fn park(conn: &Connection, id: i64, attempts: u32, error: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE outbox SET parked = 1, attempts = ?2, last_error = ?3 WHERE id = ?1",
        params![id, attempts, error],
    )?;
    Ok(())
}

/// Queued and parked deliveries of one client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueStatus {
    /// Client name.
    pub client: String,
    /// Waiting for (re)delivery.
    pub pending: i64,
    /// Given up on; kept for an operator.
    pub parked: i64,
    /// Attempts of the oldest pending delivery.
    pub head_attempts: i64,
}

/// The outbox per client, for operators (`schleuse webhook status`).
pub fn queue_status(path: &std::path::Path) -> rusqlite::Result<Vec<QueueStatus>> {
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt = conn.prepare(
        "SELECT client, sum(parked = 0), sum(parked = 1),
                coalesce((SELECT attempts FROM outbox o2 WHERE o2.client = o.client AND o2.parked = 0
                          ORDER BY id LIMIT 1), 0)
         FROM outbox o GROUP BY client ORDER BY client",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(QueueStatus {
            client: r.get(0)?,
            pending: r.get(1)?,
            parked: r.get(2)?,
            head_attempts: r.get(3)?,
        })
    })?;
    rows.collect()
}
