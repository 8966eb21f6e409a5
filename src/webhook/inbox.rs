//! The webhook inbox: verified batches are stored durably, encrypted, before
//! Meta gets its 200 — so a crash never loses an acknowledged message.
//!
//! One writer thread owns the connection and commits whatever is queued in
//! one transaction (group commit, `synchronous=FULL`), then answers each
//! caller. Bodies hold phone numbers and message text, so they are sealed
//! with AES-256-GCM under a key derived from the pseudonym key; plaintext
//! never reaches the disk.

use std::path::Path;

use bytes::Bytes;
use rusqlite::{Connection, params};
use tokio::sync::{mpsc, oneshot};

use crate::store::{Sealer, open_durable};

/// HKDF purpose of the inbox key.
const INBOX_PURPOSE: &[u8] = b"schleuse webhook inbox v1";

/// Most batches committed in one transaction.
const MAX_GROUP: usize = 1024;

/// Handle to the inbox writer; cheap to clone.
#[derive(Clone, Debug)]
pub struct Inbox {
    tx: mpsc::Sender<Job>,
}

/// Why a batch could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// SQLite failed.
    #[error("inbox database: {0}")]
    Db(#[from] rusqlite::Error),
    /// Sealing failed (system RNG).
    #[error("inbox encryption failed")]
    Seal,
    /// The writer thread is gone.
    #[error("the inbox writer has stopped")]
    Closed,
    /// The writer thread could not be started.
    #[error("cannot start the inbox writer: {0}")]
    Spawn(#[from] std::io::Error),
}

/// A stored batch, decrypted.
#[derive(Debug, PartialEq, Eq)]
pub struct StoredBatch {
    /// Inbox row id (increasing).
    pub id: i64,
    /// When it was received (RFC 3339).
    pub received_at: String,
    /// The exact body Meta signed.
    pub body: Vec<u8>,
}

struct Job {
    body: Bytes,
    received_at: String,
    reply: oneshot::Sender<Result<i64, String>>,
}

// === impl Inbox ===

impl Inbox {
    /// Opens the inbox database and starts its writer thread.
    pub fn open(path: &Path, pseudonym_key: &[u8; 32], queue: usize) -> Result<Self, InboxError> {
        let conn = open_durable(path)?;
        conn.execute_batch(SCHEMA)?;
        let sealer = Sealer::derive(pseudonym_key, INBOX_PURPOSE);
        let (tx, rx) = mpsc::channel(queue.max(1));
        std::thread::Builder::new()
            .name("webhook-inbox".into())
            .spawn(move || write_loop(conn, sealer, rx))?;
        Ok(Self { tx })
    }

    /// Stores one verified batch; resolves after it is durably committed.
    pub async fn store(&self, body: Bytes, received_at: String) -> Result<i64, InboxError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            body,
            received_at,
            reply,
        };
        self.tx.send(job).await.map_err(|_| InboxError::Closed)?;
        rx.await
            .map_err(|_| InboxError::Closed)?
            .map_err(|_| InboxError::Closed)
    }
}

/// Reads and decrypts every stored batch after `after_id` (for processing
/// and recovery after a restart).
pub fn read_batches(
    path: &Path,
    pseudonym_key: &[u8; 32],
    after_id: i64,
) -> Result<Vec<StoredBatch>, InboxError> {
    let conn = Connection::open(path)?;
    let sealer = Sealer::derive(pseudonym_key, INBOX_PURPOSE);
    let mut stmt =
        conn.prepare("SELECT id, received_at, nonce, sealed FROM inbox WHERE id > ?1 ORDER BY id")?;
    let rows = stmt.query_map(params![after_id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, Vec<u8>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, received_at, nonce, sealed) = row?;
        let body = sealer
            .open(&nonce, sealed, b"inbox")
            .ok_or(InboxError::Seal)?;
        out.push(StoredBatch {
            id,
            received_at,
            body,
        });
    }
    Ok(out)
}

fn write_loop(mut conn: Connection, sealer: Sealer, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        match commit_group(&mut conn, &sealer, &jobs) {
            Ok(ids) => {
                for (job, id) in jobs.into_iter().zip(ids) {
                    let _ = job.reply.send(Ok(id));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "webhook inbox commit failed");
                for job in jobs {
                    let _ = job.reply.send(Err(e.to_string()));
                }
            }
        }
    }
}

fn commit_group(
    conn: &mut Connection,
    sealer: &Sealer,
    jobs: &[Job],
) -> Result<Vec<i64>, InboxError> {
    let tx = conn.transaction()?;
    let mut ids = Vec::with_capacity(jobs.len());
    {
        let mut insert = tx
            .prepare_cached("INSERT INTO inbox (received_at, nonce, sealed) VALUES (?1, ?2, ?3)")?;
        for job in jobs {
            let (nonce, sealed) = sealer.seal(&job.body, b"inbox").ok_or(InboxError::Seal)?;
            insert.execute(params![job.received_at, nonce.to_vec(), sealed])?;
            ids.push(tx.last_insert_rowid());
        }
    }
    tx.commit()?;
    Ok(ids)
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at TEXT NOT NULL,
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL
);
";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stored_batches_are_encrypted_at_rest_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("webhooks.db");
        let key = [9u8; 32];
        let inbox = Inbox::open(&path, &key, 16).unwrap();
        let body =
            Bytes::from_static(br#"{"from":"4915199999001","text":{"body":"Wann \u00f6ffnet"}}"#);
        let id = inbox
            .store(body.clone(), "2026-11-23T10:00:00Z".into())
            .await
            .unwrap();
        let batches = read_batches(&path, &key, 0).unwrap();
        assert_eq!(
            batches,
            vec![StoredBatch {
                id,
                received_at: "2026-11-23T10:00:00Z".into(),
                body: body.to_vec()
            }]
        );
        drop(inbox);
        for suffix in ["", "-wal"] {
            if let Ok(bytes) = std::fs::read(format!("{}{suffix}", path.display())) {
                assert!(!String::from_utf8_lossy(&bytes).contains("4915199999001"));
            }
        }
        assert!(
            read_batches(&path, &[8u8; 32], 0).is_err(),
            "another key cannot read it"
        );
    }

    #[tokio::test]
    async fn concurrent_stores_get_distinct_increasing_ids() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = Inbox::open(&dir.path().join("w.db"), &[1u8; 32], 64).unwrap();
        let mut tasks = Vec::new();
        for n in 0..100 {
            let inbox = inbox.clone();
            tasks.push(tokio::spawn(async move {
                inbox
                    .store(Bytes::from(format!("{{\"n\":{n}}}")), "t".into())
                    .await
                    .unwrap()
            }));
        }
        let mut ids = Vec::new();
        for t in tasks {
            ids.push(t.await.unwrap());
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 100);
    }
}
