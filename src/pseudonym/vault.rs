//! The identity vault: the only way back from a pseudonym to the real
//! identifier. Values are sealed (AES-256-GCM, key derived from the
//! pseudonym key), looked up by pseudonym, written durably.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::{IdKind, Mapping};
use crate::store::{CommitError, GroupCommit, Sealer, open_durable};

/// HKDF purpose of the vault key.
const VAULT_PURPOSE: &[u8] = b"schleuse identity vault v1";

/// Pseudonym → sealed real value. Reads use their own connection; writes
/// go through one group-commit writer thread, so concurrent sends share an
/// fsync.
pub struct Vault {
    reader: Mutex<Connection>,
    writer: GroupCommit<SealedRow>,
    sealer: Sealer,
}

/// One row as stored: pseudonym, kind, nonce, sealed value.
type SealedRow = (String, &'static str, Vec<u8>, Vec<u8>);

/// Why the vault failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// SQLite failed.
    #[error("identity vault database: {0}")]
    Db(#[from] rusqlite::Error),
    /// The durable write did not complete.
    #[error("identity vault write: {0}")]
    Write(#[from] CommitError),
    /// Sealing or opening failed (RNG failure or a tampered row).
    #[error("identity vault encryption failed")]
    Crypto,
    /// A lock holder panicked.
    #[error("identity vault lock poisoned")]
    Poisoned,
    /// The writer thread could not be started.
    #[error("identity vault writer: {0}")]
    Thread(#[from] std::io::Error),
}

// === impl Vault ===

impl Vault {
    /// Opens (creating) the vault database and starts its writer thread.
    pub fn open(path: &Path, pseudonym_key: &[u8; 32]) -> Result<Self, VaultError> {
        let conn = open_durable(path)?;
        conn.execute_batch(SCHEMA)?;
        let writer = GroupCommit::start("identity-vault", 1024, move |rows: &[SealedRow]| {
            insert_rows(&conn, rows).map_err(|e| e.to_string())
        })?;
        Ok(Self {
            reader: Mutex::new(open_durable(path)?),
            writer,
            sealer: Sealer::derive(pseudonym_key, VAULT_PURPOSE),
        })
    }

    /// Stores resolvable mappings durably (blocking; for threads outside
    /// the async runtime); known pseudonyms are left as they are.
    pub fn remember(&self, mappings: &[Mapping]) -> Result<(), VaultError> {
        let rows = self.seal_rows(mappings)?;
        if !rows.is_empty() {
            self.writer.commit_blocking(rows)?;
        }
        Ok(())
    }

    /// [`Self::remember`] for async callers.
    pub async fn remember_async(&self, mappings: &[Mapping]) -> Result<(), VaultError> {
        let rows = self.seal_rows(mappings)?;
        if !rows.is_empty() {
            self.writer.commit(rows).await?;
        }
        Ok(())
    }

    fn seal_rows(&self, mappings: &[Mapping]) -> Result<Vec<SealedRow>, VaultError> {
        mappings
            .iter()
            .filter(|m| m.kind.resolvable())
            .map(|m| {
                let (nonce, sealed) = self
                    .sealer
                    .seal(m.value.as_bytes(), m.pseudonym.as_bytes())
                    .ok_or(VaultError::Crypto)?;
                Ok((m.pseudonym.clone(), m.kind.as_str(), nonce.to_vec(), sealed))
            })
            .collect()
    }

    /// The real value behind a pseudonym of the expected kind, if known.
    pub fn resolve(&self, kind: IdKind, pseudonym: &str) -> Result<Option<String>, VaultError> {
        let conn = self.reader.lock().map_err(|_| VaultError::Poisoned)?;
        let row: Option<(Vec<u8>, Vec<u8>)> = conn
            .prepare_cached(
                "SELECT nonce, sealed FROM identities WHERE pseudonym = ?1 AND kind = ?2",
            )?
            .query_row(params![pseudonym, kind.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((nonce, sealed)) = row else {
            return Ok(None);
        };
        let plain = self
            .sealer
            .open(&nonce, sealed, pseudonym.as_bytes())
            .ok_or(VaultError::Crypto)?;
        String::from_utf8(plain)
            .map(Some)
            .map_err(|_| VaultError::Crypto)
    }
}

/// Writes one batch in one transaction; known pseudonyms stay as they are.
fn insert_rows(conn: &Connection, rows: &[SealedRow]) -> rusqlite::Result<()> {
    let tx = conn.unchecked_transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO identities (pseudonym, kind, nonce, sealed) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for (pseudonym, kind, nonce, sealed) in rows {
            insert.execute(params![pseudonym, kind, nonce, sealed])?;
        }
    }
    tx.commit()
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS identities (
    pseudonym TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    nonce BLOB NOT NULL,
    sealed BLOB NOT NULL
) WITHOUT ROWID;
";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pseudonym::PseudonymKey;

    #[test]
    fn remembered_pseudonyms_resolve_and_nothing_is_plaintext_at_rest() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("identities.db");
        let key = PseudonymKey::new(&[5u8; 32]);
        let vault = Vault::open(&path, &[5u8; 32]).unwrap();
        let pn = key.identity(IdKind::Phone, "4915199999001");
        let mapping = Mapping {
            kind: IdKind::Phone,
            pseudonym: pn.clone(),
            value: "4915199999001".into(),
        };
        vault.remember(&[mapping.clone(), mapping]).unwrap();
        assert_eq!(
            vault.resolve(IdKind::Phone, &pn).unwrap().as_deref(),
            Some("4915199999001")
        );
        assert_eq!(
            vault.resolve(IdKind::Wamid, &pn).unwrap(),
            None,
            "kinds are not interchangeable"
        );
        assert_eq!(
            vault
                .resolve(IdKind::Phone, "pn_00000000000000000000000000000000")
                .unwrap(),
            None
        );
        drop(vault);
        for suffix in ["", "-wal"] {
            let bytes = std::fs::read(format!("{}{suffix}", path.display())).unwrap_or_default();
            assert!(!String::from_utf8_lossy(&bytes).contains("4915199999001"));
        }
    }
}
