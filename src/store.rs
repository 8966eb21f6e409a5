//! Shared SQLite conventions for schleuse's durable stores.
//!
//! Every store that backs a promise ("acknowledged means stored") opens its
//! database the same way: WAL journal, `synchronous=FULL` (a commit survives
//! power loss, not only a process crash), defensive mode, and a busy timeout
//! so readers such as the DPO's CLI never make the writer fail.

use std::path::Path;
use std::time::Duration;

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::Connection;
use rusqlite::config::DbConfig;

mod group_commit;
pub use group_commit::{CommitError, GroupCommit};

/// AES-256-GCM for personal data at rest, keyed per purpose from the
/// pseudonym key (HKDF-SHA-256), with random 96-bit nonces.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

/// Opens (creating if needed) a database with the durable settings.
pub fn open_durable(path: &Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

// === impl Sealer ===

impl Sealer {
    /// Derives the key for one purpose (e.g. `b"schleuse webhook inbox v1"`).
    pub fn derive(secret: &[u8; 32], purpose: &[u8]) -> Self {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"schleuse").extract(secret);
        let info: &[&[u8]] = &[purpose];
        let key = prk
            .expand(info, &AES_256_GCM)
            .map(UnboundKey::from)
            .map(LessSafeKey::new);
        // Expanding to 32 bytes cannot fail (HKDF's limit is 255 * 32 bytes).
        #[allow(clippy::expect_used)]
        let key = key.expect("HKDF output length is within limits");
        Self {
            key,
            rng: SystemRandom::new(),
        }
    }

    /// Encrypts; returns the nonce and ciphertext with tag. `None` only if the
    /// system RNG fails.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Option<([u8; NONCE_LEN], Vec<u8>)> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).ok()?;
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf,
            )
            .ok()?;
        Some((nonce, buf))
    }

    /// Decrypts; `None` for a wrong key, nonce, AAD or tampered data.
    pub fn open(&self, nonce: &[u8], mut sealed: Vec<u8>, aad: &[u8]) -> Option<Vec<u8>> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad), &mut sealed)
            .ok()?;
        Some(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_the_same_key_purpose_and_aad() {
        let a = Sealer::derive(&[1u8; 32], b"p1");
        let (nonce, sealed) = a.seal(b"4915199999001", b"x").unwrap();
        assert_eq!(
            a.open(&nonce, sealed.clone(), b"x").as_deref(),
            Some(&b"4915199999001"[..])
        );
        assert!(a.open(&nonce, sealed.clone(), b"y").is_none());
        assert!(
            Sealer::derive(&[1u8; 32], b"p2")
                .open(&nonce, sealed.clone(), b"x")
                .is_none()
        );
        assert!(
            Sealer::derive(&[2u8; 32], b"p1")
                .open(&nonce, sealed, b"x")
                .is_none()
        );
    }

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
