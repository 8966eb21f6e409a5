//! Shared SQLite conventions for schleuse's durable stores.
//!
//! Every store that backs a promise ("acknowledged means stored") opens its
//! database the same way: WAL journal, `synchronous=FULL` (a commit survives
//! power loss, not only a process crash), defensive mode, and a busy timeout
//! so readers such as the DPO's CLI never make the writer fail.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::config::DbConfig;

/// Opens (creating if needed) a database with the durable settings.
pub fn open_durable(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_settings_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_durable(&dir.path().join("x.db")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }
}
