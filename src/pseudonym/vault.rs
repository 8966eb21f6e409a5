//! The identity vault: the only way back from a pseudonym to the real
//! identifier. Values are sealed (AES-256-GCM, key derived from the
//! pseudonym key), looked up by pseudonym, written durably.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, params};

use super::{IdKind, Mapping};
use crate::store::{Sealer, open_durable};

/// HKDF purpose of the vault key.
const VAULT_PURPOSE: &[u8] = b"schleuse identity vault v1";

/// Pseudonym → sealed real value.
pub struct Vault {
    conn: Mutex<Connection>,
    sealer: Sealer,
}

/// Why the vault failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// SQLite failed.
    #[error("identity vault database: {0}")]
    Db(#[from] rusqlite::Error),
    /// Sealing or opening failed (RNG failure or a tampered row).
    #[error("identity vault encryption failed")]
    Crypto,
    /// A lock holder panicked.
    #[error("identity vault lock poisoned")]
    Poisoned,
}

// === impl Vault ===

impl Vault {
    /// Opens (creating) the vault database.
    pub fn open(path: &Path, pseudonym_key: &[u8; 32]) -> Result<Self, VaultError> {
        let conn = open_durable(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Mutex::new(conn),
            sealer: Sealer::derive(pseudonym_key, VAULT_PURPOSE),
        })
    }

    /// Stores resolvable mappings in one durable transaction; known
    /// pseudonyms are left as they are.
    pub fn remember(&self, mappings: &[Mapping]) -> Result<(), VaultError> {
        let mut conn = self.conn.lock().map_err(|_| VaultError::Poisoned)?;
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO identities (pseudonym, kind, nonce, sealed) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for m in mappings.iter().filter(|m| m.kind.resolvable()) {
                let (nonce, sealed) = self
                    .sealer
                    .seal(m.value.as_bytes(), m.pseudonym.as_bytes())
                    .ok_or(VaultError::Crypto)?;
                insert.execute(params![
                    m.pseudonym,
                    m.kind.as_str(),
                    nonce.to_vec(),
                    sealed
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// The real value behind a pseudonym of the expected kind, if known.
    pub fn resolve(&self, kind: IdKind, pseudonym: &str) -> Result<Option<String>, VaultError> {
        let conn = self.conn.lock().map_err(|_| VaultError::Poisoned)?;
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
