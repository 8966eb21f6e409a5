//! SQLite storage: schema, pragmas, append-only triggers and row access.
//!
//! Tables `entries`, `nodes` and `checkpoints` form the log and are guarded by
//! triggers; `subject_keys` is deliberately mutable (crypto-shredding). Node
//! rows are keyed by their emission order, so a verifier can stream them next
//! to the entries and a proof finds any complete subtree with one lookup.

use std::path::Path;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OptionalExtension, params};

use super::merkle::{Hash, HashSource};

/// One connection to the audit database.
pub(crate) struct Store {
    pub(crate) conn: Connection,
}

/// The newest stored checkpoint.
#[derive(Debug, Clone)]
pub(crate) struct StoredCheckpoint {
    pub(crate) size: u64,
    pub(crate) note: String,
}

/// Position of node `(level, index)` (level ≥ 1) in emission order: the node
/// closes at leaf `L = ((index + 1) << level) - 1`; leaves `0..L` emitted
/// `L - popcount(L)` nodes before it, and leaf `L` emits levels `1..` in order.
pub(crate) fn node_seq(level: u32, index: u64) -> i64 {
    let last_leaf = ((index + 1) << level) - 1;
    (last_leaf - u64::from(last_leaf.count_ones()) + u64::from(level) - 1) as i64
}

// === impl Store ===

impl Store {
    /// Opens (and if needed creates) the database with WAL, FULL sync and
    /// defensive mode.
    pub(crate) fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Fewer, larger WAL checkpoints: each one costs an fsync of the main
        // file inside some caller's commit.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES)?;
        conn.pragma_update(None, "cache_size", CACHE_KIB)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self { conn })
    }

    /// Opens an existing database without creating or changing anything
    /// (for the read-only CLI commands).
    pub(crate) fn open_existing(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(Self { conn })
    }

    /// Number of entries.
    pub(crate) fn size(&self) -> rusqlite::Result<u64> {
        let n: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries", [], |r| {
                    r.get(0)
                })?;
        Ok(n as u64)
    }

    /// Inserts one entry.
    pub(crate) fn insert_entry(
        &self,
        index: u64,
        ts: &str,
        body: &[u8],
        leaf: &Hash,
    ) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO entries (idx, ts, body, leaf_hash) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![index as i64, ts, body, leaf.as_slice()])?;
        Ok(())
    }

    /// Inserts one complete subtree hash.
    pub(crate) fn insert_node(&self, level: u32, index: u64, hash: &Hash) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached("INSERT INTO nodes (seq, hash) VALUES (?1, ?2)")?
            .execute(params![node_seq(level, index), hash.as_slice()])?;
        Ok(())
    }

    /// Inserts a signed checkpoint.
    pub(crate) fn insert_checkpoint(
        &self,
        size: u64,
        root: &Hash,
        ts: &str,
        note: &str,
    ) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO checkpoints (size, root, ts, note) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![size as i64, root.as_slice(), ts, note])?;
        Ok(())
    }

    /// The newest checkpoint, if any.
    pub(crate) fn latest_checkpoint(&self) -> rusqlite::Result<Option<StoredCheckpoint>> {
        self.conn
            .query_row(
                "SELECT size, note FROM checkpoints ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok(StoredCheckpoint {
                        size: r.get::<_, i64>(0)? as u64,
                        note: r.get(1)?,
                    })
                },
            )
            .optional()
    }

    /// Stored bytes of one entry.
    pub(crate) fn entry_body(&self, index: u64) -> rusqlite::Result<Option<Vec<u8>>> {
        self.conn
            .query_row(
                "SELECT body FROM entries WHERE idx = ?1",
                [index as i64],
                |r| r.get(0),
            )
            .optional()
    }

    /// A subject's wrapped key.
    pub(crate) fn subject_key(&self, subject: &str) -> rusqlite::Result<Option<Vec<u8>>> {
        self.conn
            .prepare_cached("SELECT wrapped FROM subject_keys WHERE subject = ?1")?
            .query_row([subject], |r| r.get(0))
            .optional()
    }

    /// Stores a subject's wrapped key.
    pub(crate) fn insert_subject_key(
        &self,
        subject: &str,
        wrapped: &[u8],
        ts: &str,
    ) -> rusqlite::Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO subject_keys (subject, wrapped, created) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![subject, wrapped, ts])?;
        Ok(())
    }

    /// Deletes a subject's key; true if one existed.
    pub(crate) fn delete_subject_key(&self, subject: &str) -> rusqlite::Result<bool> {
        let n = self
            .conn
            .execute("DELETE FROM subject_keys WHERE subject = ?1", [subject])?;
        Ok(n > 0)
    }
}

impl HashSource for Store {
    type Error = rusqlite::Error;

    fn subtree(&self, level: u32, index: u64) -> rusqlite::Result<Hash> {
        let blob: Vec<u8> = if level == 0 {
            self.conn
                .prepare_cached("SELECT leaf_hash FROM entries WHERE idx = ?1")?
                .query_row([index as i64], |r| r.get(0))?
        } else {
            self.conn
                .prepare_cached("SELECT hash FROM nodes WHERE seq = ?1")?
                .query_row([node_seq(level, index)], |r| r.get(0))?
        };
        blob.try_into().map_err(|_| {
            rusqlite::Error::InvalidColumnType(0, "hash".into(), rusqlite::types::Type::Blob)
        })
    }
}

const WAL_AUTOCHECKPOINT_PAGES: i64 = 16_384;
const CACHE_KIB: i64 = -65_536;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY, ts TEXT NOT NULL, body BLOB NOT NULL, leaf_hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (seq INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
  id INTEGER PRIMARY KEY, size INTEGER NOT NULL, root BLOB NOT NULL, ts TEXT NOT NULL,
  note TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subject_keys (
  subject TEXT PRIMARY KEY, wrapped BLOB NOT NULL, created TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS nodes_no_update BEFORE UPDATE ON nodes
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS nodes_no_delete BEFORE DELETE ON nodes
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_update BEFORE UPDATE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS checkpoints_no_delete BEFORE DELETE ON checkpoints
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_seq_follows_emission_order() {
        let mut range = super::super::merkle::CompactRange::default();
        let mut seq = 0i64;
        for i in 0..100u64 {
            range.push(
                super::super::merkle::leaf_hash(&i.to_be_bytes()),
                |level, index, _| {
                    assert_eq!(node_seq(level, index), seq);
                    seq += 1;
                },
            );
        }
    }
}
