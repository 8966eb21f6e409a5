//! Ledger storage: the [`Ledger`] trait and its SQLite implementation.
//!
//! `{storage_dir}/consent.db`, WAL with `synchronous=FULL` (a recorded
//! opt-out must survive a crash). Four tables: append-only consent events
//! (with an `audited` outbox flag), the last inbound message per subject,
//! recent sends (pair and frequency limits), and per content digest the
//! subjects that received it (mass-message limit). Only keyed pseudonyms
//! and digests are stored.

use std::path::Path;

use jiff::Timestamp;
use rusqlite::{Connection, Row, params};

use super::{
    Change, ConsentError, ContentDigest, Event, Evidence, Method, Purpose, SendFact, SubjectState,
};
use crate::pseudonym::SubjectId;

/// The bounds of a state lookup (the policy builds it, see
/// `Policy::state_query`).
#[derive(Clone, Debug)]
pub struct StateQuery {
    /// A send after this time is looked for (pair rate).
    pub sends_since: Timestamp,
    /// Marketing sends after this time are counted (frequency rule) …
    pub marketing_since: Timestamp,
    /// … up to this many: the rule only needs to know whether the cap is
    /// reached, so a lookup costs the same however much was sent.
    pub marketing_limit: u32,
    /// The request's content digest and the start of the mass-message
    /// period, when the mass rule needs a count.
    pub content: Option<(ContentDigest, Timestamp)>,
    /// Other recipients of the same content are counted up to this many.
    pub content_limit: u32,
}

/// A stored event with its ledger id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    /// Row id.
    pub id: i64,
    /// The event.
    pub event: Event,
    /// Whether its audit entry was appended.
    pub audited: bool,
}

/// The narrow storage interface (a PostgreSQL backend can implement it).
pub trait Ledger {
    /// Appends one consent event; returns its id.
    fn append(&self, event: &Event) -> Result<i64, ConsentError>;
    /// Appends all events in one transaction, or none.
    fn append_all(&self, events: &[Event]) -> Result<Vec<i64>, ConsentError>;
    /// Records an inbound message (opens or refreshes the window).
    fn record_inbound(
        &self,
        subject: &SubjectId,
        at: Timestamp,
        message: Option<&str>,
    ) -> Result<(), ConsentError>;
    /// Records that Meta could not deliver to `subject` (error 131026) at
    /// `at`; sends are refused until the person writes again.
    fn record_undeliverable(&self, subject: &SubjectId, at: Timestamp) -> Result<(), ConsentError>;
    /// Records a forwarded send.
    fn record_send(
        &self,
        subject: &SubjectId,
        send: SendFact,
        content: Option<&ContentDigest>,
    ) -> Result<(), ConsentError>;
    /// What the ledger knows about `subject` within the query's bounds.
    fn state(&self, subject: &SubjectId, query: &StateQuery) -> Result<SubjectState, ConsentError>;
    /// Every event about `subject`, oldest first.
    fn events(&self, subject: &SubjectId) -> Result<Vec<StoredEvent>, ConsentError>;
    /// Events whose audit entry is not yet appended, oldest first.
    fn unaudited(&self, limit: usize) -> Result<Vec<StoredEvent>, ConsentError>;
    /// Marks an event's audit entry as appended.
    fn mark_audited(&self, id: i64) -> Result<(), ConsentError>;
    /// Deletes send records older than `before` (storage limitation).
    fn prune_sends(&self, before: Timestamp) -> Result<usize, ConsentError>;
}

/// What [`SqliteLedger::subject_facts`] reads.
struct SubjectFacts {
    last_inbound: Option<Timestamp>,
    undeliverable_since: Option<Timestamp>,
    marketing_sends: u32,
    same_content_recipients: u32,
    recent_send: Option<Timestamp>,
}

/// The SQLite ledger. Not `Sync`: share it behind a mutex or a dedicated
/// thread.
#[derive(Debug)]
pub struct SqliteLedger {
    conn: Connection,
}

// === impl SqliteLedger ===

impl SqliteLedger {
    /// Opens (creating if needed) the ledger file.
    pub fn open(path: &Path) -> Result<Self, ConsentError> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::init(conn)
    }

    /// Records many forwarded sends in one transaction (group commit).
    pub fn record_sends(
        &self,
        sends: &[(SubjectId, SendFact, Option<ContentDigest>)],
    ) -> Result<(), ConsentError> {
        let tx = self.conn.unchecked_transaction()?;
        for (subject, send, content) in sends {
            insert_send(&tx, subject, *send, content.as_ref())?;
        }
        tx.commit()?;
        Ok(())
    }

    /// An in-memory ledger (tests, dry runs).
    pub fn open_in_memory() -> Result<Self, ConsentError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self, ConsentError> {
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    fn insert(conn: &Connection, e: &Event) -> Result<i64, ConsentError> {
        let mut stmt = conn.prepare_cached(
            "INSERT INTO consent_event (subject, at_ms, change, purpose, method, actor, \
             text_version, message, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        stmt.execute(params![
            e.subject.as_str(),
            e.at.as_millisecond(),
            e.change.as_str(),
            e.purpose.as_ref().map(Purpose::as_str),
            e.evidence.method.as_str(),
            e.evidence.actor,
            e.evidence.text_version,
            e.evidence.message,
            e.evidence.note,
        ])?;
        Ok(conn.last_insert_rowid())
    }

    fn query_events(
        &self,
        sql: &str,
        param: &dyn rusqlite::ToSql,
        subject: Option<&SubjectId>,
    ) -> Result<Vec<StoredEvent>, ConsentError> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map([param], |row| Ok(read_row(row, subject)))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    /// The per-subject facts the rules need, in one statement (each
    /// statement costs a few µs of its own): last inbound message, when Meta
    /// reported the number undeliverable, the marketing sends in the
    /// frequency period (few: the rule refuses beyond its cap), and how
    /// many *other* people got the same content in the mass-message period,
    /// and a send within the pair-rate window (any one: the rule only asks
    /// whether there is one; `MAX()` or `ORDER BY` here would make SQLite
    /// with STAT4 re-prepare the statement on every call, +8 µs).
    ///
    /// Same content: one row per (digest, subject), so a plain COUNT
    /// suffices, stopping at `content_limit + 1` rows (the subject itself
    /// may be one of them, subtracted with a key lookup). The limit is part
    /// of the SQL text: a bound `LIMIT ?` makes SQLite re-plan the statement
    /// on every call (measured: +10 µs).
    fn subject_facts(
        &self,
        subject: &SubjectId,
        query: &StateQuery,
    ) -> Result<SubjectFacts, ConsentError> {
        let sql = format!(
            "SELECT (SELECT last_at_ms FROM inbound WHERE subject = ?1), \
                    (SELECT at_ms FROM undeliverable WHERE subject = ?1), \
                    (SELECT COUNT(*) FROM send \
                     WHERE subject = ?1 AND marketing = 1 AND at_ms > ?2), \
                    (SELECT COUNT(*) FROM (SELECT 1 FROM content_recipient \
                     WHERE digest = ?3 AND last_at_ms >= ?4 LIMIT {})), \
                    (SELECT COUNT(*) FROM content_recipient \
                     WHERE digest = ?3 AND subject = ?1 AND last_at_ms >= ?4), \
                    (SELECT at_ms FROM send WHERE subject = ?1 AND at_ms > ?5 LIMIT 1)",
            u64::from(query.content_limit) + 1
        );
        // Without a digest the content counts look up nothing.
        let (digest, since) = query
            .content
            .as_ref()
            .map_or(("", i64::MAX), |(d, t)| (d.as_str(), t.as_millisecond()));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let row = stmt.query_row(
            params![
                subject.as_str(),
                query.marketing_since.as_millisecond(),
                digest,
                since,
                query.sends_since.as_millisecond()
            ],
            |r| {
                Ok((
                    r.get::<_, Option<i64>>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, i64>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            },
        )?;
        let (inbound, undeliverable, marketing, all, own, recent_send) = row;
        let count = |n: i64| u32::try_from(n).unwrap_or(u32::MAX);
        Ok(SubjectFacts {
            last_inbound: inbound.map(millis).transpose()?,
            undeliverable_since: undeliverable.map(millis).transpose()?,
            marketing_sends: count(marketing).min(query.marketing_limit),
            same_content_recipients: count(all - own).min(query.content_limit),
            recent_send: recent_send.map(millis).transpose()?,
        })
    }

    fn read_snapshot<T>(
        &self,
        read: impl FnOnce() -> Result<T, ConsentError>,
    ) -> Result<T, ConsentError> {
        self.conn.prepare_cached("BEGIN DEFERRED")?.execute([])?;
        let result = read();
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        self.conn.prepare_cached(end)?.execute([])?;
        result
    }
}

impl Ledger for SqliteLedger {
    fn append(&self, event: &Event) -> Result<i64, ConsentError> {
        Self::insert(&self.conn, event)
    }

    fn append_all(&self, events: &[Event]) -> Result<Vec<i64>, ConsentError> {
        let tx = self.conn.unchecked_transaction()?;
        let ids = events
            .iter()
            .map(|e| Self::insert(&tx, e))
            .collect::<Result<Vec<_>, _>>()?;
        tx.commit()?;
        Ok(ids)
    }

    fn record_inbound(
        &self,
        subject: &SubjectId,
        at: Timestamp,
        message: Option<&str>,
    ) -> Result<(), ConsentError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO inbound (subject, last_at_ms, message) VALUES (?1, ?2, ?3) \
             ON CONFLICT(subject) DO UPDATE SET last_at_ms = excluded.last_at_ms, \
             message = excluded.message WHERE excluded.last_at_ms > inbound.last_at_ms",
        )?;
        stmt.execute(params![subject.as_str(), at.as_millisecond(), message])?;
        Ok(())
    }

    fn record_undeliverable(&self, subject: &SubjectId, at: Timestamp) -> Result<(), ConsentError> {
        let mut stmt = self.conn.prepare_cached(
            "INSERT INTO undeliverable (subject, at_ms) VALUES (?1, ?2) \
             ON CONFLICT(subject) DO UPDATE SET at_ms = excluded.at_ms \
             WHERE excluded.at_ms > undeliverable.at_ms",
        )?;
        stmt.execute(params![subject.as_str(), at.as_millisecond()])?;
        Ok(())
    }

    fn record_send(
        &self,
        subject: &SubjectId,
        send: SendFact,
        content: Option<&ContentDigest>,
    ) -> Result<(), ConsentError> {
        let tx = self.conn.unchecked_transaction()?;
        insert_send(&tx, subject, send, content)?;
        tx.commit()?;
        Ok(())
    }

    fn state(&self, subject: &SubjectId, query: &StateQuery) -> Result<SubjectState, ConsentError> {
        // One read transaction: a consistent snapshot of all four lookups.
        self.read_snapshot(|| {
            let events = self.events(subject)?;
            let events: Vec<Event> = events.into_iter().map(|s| s.event).collect();
            let mut state = SubjectState::from_events(&events);
            let facts = self.subject_facts(subject, query)?;
            state.last_inbound = facts.last_inbound;
            state.undeliverable_since = facts.undeliverable_since;
            state.recent_marketing_sends = facts.marketing_sends;
            state.same_content_recipients = facts.same_content_recipients;
            state.last_send = facts.recent_send;
            Ok(state)
        })
    }

    fn events(&self, subject: &SubjectId) -> Result<Vec<StoredEvent>, ConsentError> {
        // Sorted here: `ORDER BY` on this query makes SQLite (with STAT4)
        // re-prepare the statement on every call (measured: +15 µs).
        let sql = "SELECT id, subject, at_ms, change, purpose, method, actor, text_version, \
                   message, note, audited FROM consent_event WHERE subject = ?1";
        let mut events = self.query_events(sql, &subject.as_str(), Some(subject))?;
        events.sort_by_key(|s| (s.event.at, s.id));
        Ok(events)
    }

    fn unaudited(&self, limit: usize) -> Result<Vec<StoredEvent>, ConsentError> {
        // No bound parameters: with STAT4, SQLite re-prepares an ORDER BY
        // query on every call when a parameter constrains it. The limit is
        // a number, formatted in (one cached statement per limit used).
        let sql = format!(
            "SELECT id, subject, at_ms, change, purpose, method, actor, text_version, \
             message, note, audited FROM consent_event WHERE audited = 0 \
             ORDER BY id LIMIT {limit}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([], |row| Ok(read_row(row, None)))?;
        let mut out = Vec::new();
        for row in rows {
            out.push(row??);
        }
        Ok(out)
    }

    fn mark_audited(&self, id: i64) -> Result<(), ConsentError> {
        let mut stmt = self
            .conn
            .prepare_cached("UPDATE consent_event SET audited = 1 WHERE id = ?1")?;
        stmt.execute([id])?;
        Ok(())
    }

    fn prune_sends(&self, before: Timestamp) -> Result<usize, ConsentError> {
        let tx = self.conn.unchecked_transaction()?;
        let ms = before.as_millisecond();
        let n = tx
            .prepare_cached("DELETE FROM send WHERE at_ms < ?1")?
            .execute([ms])?;
        tx.prepare_cached("DELETE FROM content_recipient WHERE last_at_ms < ?1")?
            .execute([ms])?;
        tx.commit()?;
        Ok(n)
    }
}

/// Reads one `consent_event` row. `known` avoids re-reading the subject.
fn read_row(row: &Row<'_>, known: Option<&SubjectId>) -> Result<StoredEvent, ConsentError> {
    let corrupt = |what: &str| ConsentError::Corrupt(what.to_owned());
    let subject = match known {
        Some(s) => s.clone(),
        None => SubjectId::from_stored(row.get::<_, String>(1)?),
    };
    let change: String = row.get(3)?;
    let purpose: Option<String> = row.get(4)?;
    let method: String = row.get(5)?;
    let event = Event {
        subject,
        at: millis(row.get(2)?)?,
        change: Change::parse(&change).ok_or_else(|| corrupt("change"))?,
        purpose: purpose.map(|p| Purpose::new(&p)).transpose()?,
        evidence: Evidence {
            method: Method::parse(&method).ok_or_else(|| corrupt("method"))?,
            actor: row.get(6)?,
            text_version: row.get(7)?,
            message: row.get(8)?,
            note: row.get(9)?,
        },
    };
    Ok(StoredEvent {
        id: row.get(0)?,
        event,
        audited: row.get(10)?,
    })
}

fn millis(ms: i64) -> Result<Timestamp, ConsentError> {
    Timestamp::from_millisecond(ms).map_err(|_| ConsentError::Corrupt("timestamp".into()))
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS consent_event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    change TEXT NOT NULL,
    purpose TEXT,
    method TEXT NOT NULL,
    actor TEXT NOT NULL,
    text_version TEXT,
    message TEXT,
    note TEXT,
    audited INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS consent_event_subject ON consent_event (subject, at_ms, id);
CREATE INDEX IF NOT EXISTS consent_event_outbox ON consent_event (audited, id);
CREATE TABLE IF NOT EXISTS inbound (
    subject TEXT PRIMARY KEY,
    last_at_ms INTEGER NOT NULL,
    message TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS send (
    subject TEXT NOT NULL,
    at_ms INTEGER NOT NULL,
    marketing INTEGER NOT NULL,
    digest TEXT
);
CREATE TABLE IF NOT EXISTS undeliverable (
    subject TEXT PRIMARY KEY,
    at_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS send_subject ON send (subject, at_ms);
CREATE TABLE IF NOT EXISTS content_recipient (
    digest TEXT NOT NULL,
    subject TEXT NOT NULL,
    last_at_ms INTEGER NOT NULL,
    PRIMARY KEY (digest, subject)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS content_recipient_recent ON content_recipient (digest, last_at_ms);
";

fn insert_send(
    tx: &rusqlite::Transaction<'_>,
    subject: &SubjectId,
    send: SendFact,
    content: Option<&ContentDigest>,
) -> Result<(), ConsentError> {
    let at = send.at.as_millisecond();
    tx.prepare_cached(
        "INSERT INTO send (subject, at_ms, marketing, digest) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        subject.as_str(),
        at,
        send.marketing,
        content.map(ContentDigest::as_str)
    ])?;
    if let Some(digest) = content {
        tx.prepare_cached(
            "INSERT INTO content_recipient (digest, subject, last_at_ms) VALUES (?1, ?2, ?3) \
             ON CONFLICT(digest, subject) DO UPDATE SET last_at_ms = excluded.last_at_ms \
             WHERE excluded.last_at_ms > content_recipient.last_at_ms",
        )?
        .execute(params![digest.as_str(), subject.as_str(), at])?;
    }
    Ok(())
}
