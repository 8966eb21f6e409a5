//! Tamper-evident, append-only audit log (issue 3).
//!
//! Every decision the gateway takes becomes one entry: a canonical JSON
//! [`Record`] holding only pseudonyms, keyed digests and ciphertext. Entries are
//! leaves of an RFC 6962 Merkle tree whose complete subtrees are stored next to
//! them in SQLite; signed C2SP checkpoints commit to the tree. A verifier with
//! the public key (and ideally a checkpoint saved elsewhere) detects any change,
//! deletion, reordering or truncation; see `docs/audit-log.md`.
//!
//! One writer thread owns the database and commits queued entries in batches
//! (group commit); [`AuditLog::append`] resolves only after the commit is
//! durable (`synchronous=FULL`), so "no audit, no send" holds.

use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::pseudonym::{PseudonymKey, SubjectId};

pub mod bench;
pub mod cli;
pub mod merkle;
pub mod note;
pub mod record;
mod shred;
mod store;
pub mod verify;
mod writer;

pub use note::{Checkpoint, NoteError, VerifierKey};
pub use record::{Decision, Direction, Kind, PiiFinding, PolicyRef, Record, Upstream};
pub use shred::{CryptoError, SealedContent};
pub use verify::{VerifyFailure, VerifyReport, verify};

/// Everything the audit log needs from the configuration.
#[derive(Debug, Clone)]
pub struct AuditSettings {
    /// SQLite file, for example `{storage}/audit.db`.
    pub db_path: PathBuf,
    /// Ed25519 seed of the checkpoint signing key.
    pub signing_seed: [u8; 32],
    /// Key for pseudonyms, content digests and subject-key wrapping.
    pub pseudonym_key: PseudonymKey,
    /// Checkpoint origin line and key name, e.g. `schleuse.example/audit`.
    pub origin: String,
    /// Sign a checkpoint at least every this many entries.
    pub checkpoint_every_entries: u64,
    /// Sign a checkpoint at least this often while entries arrive.
    pub checkpoint_every: Duration,
    /// Capacity of the bounded queue to the writer (back-pressure, no drops).
    pub queue_capacity: usize,
}

/// Errors of the audit log.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The database failed.
    #[error("audit database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A record could not be encoded.
    #[error("audit record encoding: {0}")]
    Encode(serde_json::Error),
    /// The writer has stopped; nothing more can be appended.
    #[error("audit writer is stopped")]
    Closed,
    /// The batch holding this request was rolled back.
    #[error("audit batch rolled back: {0}")]
    BatchFailed(String),
    /// The subject's key was erased (or never existed).
    #[error("subject key erased or missing")]
    SubjectErased,
    /// Encryption or decryption failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// A key or checkpoint is malformed or does not verify.
    #[error(transparent)]
    Note(#[from] NoteError),
    /// Reading or writing a file or the output failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A request that cannot be answered (bad index, missing checkpoint ...).
    #[error("{0}")]
    Invalid(String),
}

/// Proof that an entry was durably committed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Receipt {
    /// Leaf index of the entry.
    pub index: u64,
    /// Its RFC 6962 leaf hash.
    pub leaf_hash: [u8; 32],
}

/// Cheap, cloneable handle to the audit writer.
#[derive(Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<writer::Command>,
    vkey: VerifierKey,
}

// === impl AuditLog ===

impl AuditLog {
    /// Opens the database and starts the writer thread. Safe to call inside a
    /// tokio runtime (the writer does not use the caller's runtime).
    pub fn open(settings: AuditSettings) -> Result<Self, AuditError> {
        let signer = note::Signer::from_seed(&settings.origin, &settings.signing_seed)?;
        let vkey = signer.verifier_key();
        let w = writer::Writer::open(&settings, signer)?;
        let (tx, rx) = mpsc::channel(settings.queue_capacity.max(1));
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || w.run(rx))?;
        Ok(Self { tx, vkey })
    }

    /// Appends a record; resolves after the batch holding it is committed.
    pub async fn append(&self, record: Record) -> Result<Receipt, AuditError> {
        self.request(|tx| writer::Command::Append(Box::new(record), tx))
            .await?
    }

    /// Seals content under the subject's key (created on first use, durably
    /// stored before this returns) for [`Record::with_sealed_content`].
    pub async fn seal(
        &self,
        subject: &SubjectId,
        plaintext: &[u8],
    ) -> Result<SealedContent, AuditError> {
        let (s, p) = (subject.clone(), plaintext.to_vec());
        self.request(|tx| writer::Command::Seal(s, p, tx)).await?
    }

    /// Opens sealed content; [`AuditError::SubjectErased`] after erasure.
    pub async fn unseal(
        &self,
        subject: &SubjectId,
        sealed: &SealedContent,
    ) -> Result<Vec<u8>, AuditError> {
        let (s, c) = (subject.clone(), sealed.clone());
        self.request(|tx| writer::Command::Open(s, c, tx)).await?
    }

    /// Destroys the subject's key and appends an `erasure` entry by `actor`,
    /// in one transaction.
    pub async fn erase_subject(
        &self,
        subject: &SubjectId,
        actor: &str,
    ) -> Result<Receipt, AuditError> {
        let (s, a) = (subject.clone(), actor.to_owned());
        self.request(|tx| writer::Command::Erase(s, a, tx)).await?
    }

    /// Signs a checkpoint now (if the tree grew) and returns the newest one.
    pub async fn checkpoint(&self) -> Result<String, AuditError> {
        self.request(writer::Command::Checkpoint).await?
    }

    /// Commits what is queued, writes a final checkpoint and stops the writer.
    pub async fn shutdown(&self) -> Result<(), AuditError> {
        self.request(writer::Command::Shutdown).await?
    }

    /// The verifier key line for the DPO:
    /// `<name>+<keyid hex>+<base64(0x01 ‖ pubkey)>`.
    pub fn public_key_note(&self) -> String {
        self.vkey.to_note_line()
    }

    /// The verifier key.
    pub fn verifier_key(&self) -> &VerifierKey {
        &self.vkey
    }

    async fn request<T>(
        &self,
        make: impl FnOnce(oneshot::Sender<T>) -> writer::Command,
    ) -> Result<T, AuditError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(make(tx))
            .await
            .map_err(|_| AuditError::Closed)?;
        rx.await.map_err(|_| AuditError::Closed)
    }
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("key", &self.vkey.to_note_line())
            .finish()
    }
}

#[cfg(test)]
mod tests;
