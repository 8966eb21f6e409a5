//! The single writer: one thread owns the SQLite connection, drains the
//! bounded queue into one transaction per batch (group commit), then answers
//! every caller. Checkpoints are signed inside the same transaction.

use std::collections::HashMap;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use super::merkle::{CompactRange, leaf_hash};
use super::note::Signer;
use super::record::{Kind, Record, canonical_bytes};
use super::shred::{SealedContent, SubjectKey};
use super::store::Store;
use super::{AuditError, AuditSettings, Receipt};
use crate::pseudonym::{PseudonymKey, SubjectId};

/// A request to the writer.
pub(crate) enum Command {
    Append(Box<Record>, oneshot::Sender<Result<Receipt, AuditError>>),
    Seal(
        SubjectId,
        Vec<u8>,
        oneshot::Sender<Result<SealedContent, AuditError>>,
    ),
    Open(
        SubjectId,
        SealedContent,
        oneshot::Sender<Result<Vec<u8>, AuditError>>,
    ),
    Erase(
        SubjectId,
        String,
        oneshot::Sender<Result<Receipt, AuditError>>,
    ),
    Checkpoint(oneshot::Sender<Result<String, AuditError>>),
    Shutdown(oneshot::Sender<Result<(), AuditError>>),
}

/// An answer held back until the batch is committed.
enum Reply {
    Receipt(oneshot::Sender<Result<Receipt, AuditError>>, Receipt),
    Sealed(
        oneshot::Sender<Result<SealedContent, AuditError>>,
        SealedContent,
    ),
    Checkpoint(oneshot::Sender<Result<String, AuditError>>),
}

pub(crate) struct Writer {
    /// Held for the writer's lifetime: one writer per database file.
    _lock: std::fs::File,
    store: Store,
    range: CompactRange,
    signer: Signer,
    pseudonym_key: PseudonymKey,
    keys: HashMap<SubjectId, SubjectKey>,
    every_entries: u64,
    every: std::time::Duration,
    last_cp_size: Option<u64>,
    last_note: Option<String>,
    last_cp_at: Instant,
    stop: bool,
    /// Answered only after the database and lock are released.
    shutdown_reply: Option<oneshot::Sender<Result<(), AuditError>>>,
    /// Error of the last batch, if it failed.
    last_error: Option<String>,
}

const MAX_BATCH: usize = 8192;
const MIN_WAIT: std::time::Duration = std::time::Duration::from_millis(10);

// === impl Writer ===

impl Writer {
    /// Opens the store and rebuilds the in-memory frontier.
    pub(crate) fn open(settings: &AuditSettings, signer: Signer) -> Result<Self, AuditError> {
        let lock = lock_writer(&settings.db_path)?;
        let store = Store::open(&settings.db_path)?;
        let size = store.size()?;
        let range = CompactRange::from_source(&store, size)?;
        let latest = store.latest_checkpoint()?;
        Ok(Self {
            _lock: lock,
            store,
            range,
            signer,
            pseudonym_key: settings.pseudonym_key.clone(),
            keys: HashMap::new(),
            every_entries: settings.checkpoint_every_entries.max(1),
            every: settings.checkpoint_every,
            last_cp_size: latest.as_ref().map(|c| c.size),
            last_note: latest.map(|c| c.note),
            last_cp_at: Instant::now(),
            stop: false,
            shutdown_reply: None,
            last_error: None,
        })
    }

    /// Runs until shutdown or until every handle is dropped.
    pub(crate) fn run(mut self, mut rx: mpsc::Receiver<Command>) {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        else {
            return;
        };
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while !self.stop {
            let wait = self
                .every
                .saturating_sub(self.last_cp_at.elapsed())
                .max(MIN_WAIT);
            let first = rt.block_on(async { tokio::time::timeout(wait, rx.recv()).await });
            match first {
                Ok(Some(cmd)) => batch.push(cmd),
                Ok(None) => self.stop = true,
                Err(_elapsed) => {}
            }
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            self.commit_batch(&mut batch);
        }
        let reply = self.shutdown_reply.take();
        let result = match self.last_error.take() {
            None => Ok(()),
            Some(e) => Err(AuditError::BatchFailed(e)),
        };
        drop(self);
        if let Some(tx) = reply {
            let _ = tx.send(result);
        }
    }

    fn commit_batch(&mut self, batch: &mut Vec<Command>) {
        let mut replies = Vec::with_capacity(batch.len());
        let mut cmds = batch.drain(..);
        let result = self.write_batch(&mut cmds, &mut replies);
        match result {
            Ok(()) => {
                self.last_error = None;
                let note = self.last_note.clone().unwrap_or_default();
                replies.into_iter().for_each(|r| send_ok(r, &note));
            }
            Err(e) => {
                tracing::error!(error = %e, "audit batch failed; rolled back");
                let _ = self.store.conn.execute_batch("ROLLBACK");
                self.last_error = Some(e.to_string());
                self.recover();
                replies.into_iter().for_each(|r| send_err(r, &e));
                // Commands after the failing one were never run: fail them too.
                for cmd in cmds {
                    self.fail_unrun(cmd, &e);
                }
            }
        }
    }

    fn write_batch(
        &mut self,
        cmds: &mut impl Iterator<Item = Command>,
        replies: &mut Vec<Reply>,
    ) -> Result<(), AuditError> {
        self.store.conn.execute_batch("BEGIN IMMEDIATE")?;
        let mut force_cp = self.stop;
        for cmd in cmds {
            force_cp |= self.handle(cmd, replies)?;
        }
        self.maybe_checkpoint(force_cp)?;
        self.store.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    /// Executes one command inside the open transaction. Answers that must
    /// wait for the commit go to `replies`; returns whether a checkpoint is
    /// requested. An error aborts (and later rolls back) the whole batch.
    fn handle(&mut self, cmd: Command, replies: &mut Vec<Reply>) -> Result<bool, AuditError> {
        match cmd {
            Command::Append(rec, tx) => match self.append(&rec) {
                Ok(r) => replies.push(Reply::Receipt(tx, r)),
                Err(e @ AuditError::Encode(_)) => drop(tx.send(Err(e))),
                Err(e) => {
                    replies.push(Reply::Receipt(tx, Receipt::default()));
                    return Err(e);
                }
            },
            Command::Erase(subject, actor, tx) => match self.erase(subject, actor) {
                Ok(r) => replies.push(Reply::Receipt(tx, r)),
                Err(e) => {
                    replies.push(Reply::Receipt(tx, Receipt::default()));
                    return Err(e);
                }
            },
            Command::Seal(subject, plain, tx) => match self.seal(&subject, &plain) {
                Ok(s) => replies.push(Reply::Sealed(tx, s)),
                Err(e) => drop(tx.send(Err(e))),
            },
            Command::Open(subject, sealed, tx) => drop(tx.send(self.unseal(&subject, &sealed))),
            Command::Checkpoint(tx) => {
                replies.push(Reply::Checkpoint(tx));
                return Ok(true);
            }
            Command::Shutdown(tx) => {
                self.stop = true;
                self.shutdown_reply = Some(tx);
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn fail_unrun(&mut self, cmd: Command, e: &AuditError) {
        let err = || AuditError::BatchFailed(e.to_string());
        match cmd {
            Command::Append(_, tx) | Command::Erase(_, _, tx) => drop(tx.send(Err(err()))),
            Command::Seal(_, _, tx) => drop(tx.send(Err(err()))),
            Command::Open(_, _, tx) => drop(tx.send(Err(err()))),
            Command::Checkpoint(tx) => drop(tx.send(Err(err()))),
            Command::Shutdown(tx) => {
                self.stop = true;
                self.shutdown_reply = Some(tx);
            }
        }
    }

    fn append(&mut self, record: &Record) -> Result<Receipt, AuditError> {
        let index = self.range.size();
        let ts = format!("{:.6}", jiff::Timestamp::now());
        let body = canonical_bytes(index, &ts, record).map_err(AuditError::Encode)?;
        let leaf = leaf_hash(&body);
        self.store.insert_entry(index, &ts, &body, &leaf)?;
        let store = &self.store;
        let mut err = None;
        self.range.push(leaf, |level, idx, hash| {
            if let Err(e) = store.insert_node(level, idx, hash) {
                err.get_or_insert(e);
            }
        });
        match err {
            Some(e) => Err(e.into()),
            None => Ok(Receipt {
                index,
                leaf_hash: leaf,
            }),
        }
    }

    fn subject_key(
        &mut self,
        subject: &SubjectId,
        create: bool,
    ) -> Result<Option<SubjectKey>, AuditError> {
        if let Some(k) = self.keys.get(subject) {
            return Ok(Some(k.clone()));
        }
        let key = match self.store.subject_key(subject.as_str())? {
            Some(wrapped) => SubjectKey::unwrap_from(&self.pseudonym_key, subject, &wrapped)?,
            None if create => {
                let key = SubjectKey::generate()?;
                let wrapped = key.wrap(&self.pseudonym_key, subject)?;
                let ts = jiff::Timestamp::now().to_string();
                self.store
                    .insert_subject_key(subject.as_str(), &wrapped, &ts)?;
                key
            }
            None => return Ok(None),
        };
        self.keys.insert(subject.clone(), key.clone());
        Ok(Some(key))
    }

    fn seal(&mut self, subject: &SubjectId, plain: &[u8]) -> Result<SealedContent, AuditError> {
        let key = self
            .subject_key(subject, true)?
            .ok_or(AuditError::SubjectErased)?;
        Ok(key.seal(subject, plain)?)
    }

    fn unseal(
        &mut self,
        subject: &SubjectId,
        sealed: &SealedContent,
    ) -> Result<Vec<u8>, AuditError> {
        let key = self
            .subject_key(subject, false)?
            .ok_or(AuditError::SubjectErased)?;
        Ok(key.open(subject, sealed)?)
    }

    fn erase(&mut self, subject: SubjectId, actor: String) -> Result<Receipt, AuditError> {
        self.store.delete_subject_key(subject.as_str())?;
        self.keys.remove(&subject);
        self.append(&Record::new(Kind::Erasure, actor).with_subject(subject))
    }

    fn maybe_checkpoint(&mut self, force: bool) -> Result<(), AuditError> {
        let size = self.range.size();
        let since = size - self.last_cp_size.unwrap_or(0);
        let due =
            since >= self.every_entries || (since > 0 && self.last_cp_at.elapsed() >= self.every);
        let changed = self.last_cp_size != Some(size);
        if !(due || force && changed) {
            if self.last_cp_at.elapsed() >= self.every {
                self.last_cp_at = Instant::now();
            }
            return Ok(());
        }
        let root = self.range.root();
        let note = self.signer.sign_checkpoint(size, &root);
        let ts = jiff::Timestamp::now().to_string();
        self.store.insert_checkpoint(size, &root, &ts, &note)?;
        self.last_cp_size = Some(size);
        self.last_note = Some(note);
        self.last_cp_at = Instant::now();
        Ok(())
    }

    /// Rebuilds the in-memory state from the database after a rollback.
    fn recover(&mut self) {
        self.keys.clear();
        let range = self
            .store
            .size()
            .and_then(|size| CompactRange::from_source(&self.store, size));
        match range {
            Ok(r) => self.range = r,
            Err(e) => {
                tracing::error!(error = %e, "audit frontier rebuild failed; stopping writer");
                self.stop = true;
            }
        }
        let latest = self.store.latest_checkpoint().ok().flatten();
        self.last_cp_size = latest.as_ref().map(|c| c.size);
        self.last_note = latest.map(|c| c.note);
    }
}

/// Takes an exclusive lock on `<db>.lock`, so a second writer (another
/// process or another `AuditLog::open`) fails instead of forking the tree.
fn lock_writer(db: &std::path::Path) -> Result<std::fs::File, AuditError> {
    let mut path = db.as_os_str().to_owned();
    path.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    file.try_lock().map_err(|_| {
        AuditError::Invalid("the audit log is already open by another writer".into())
    })?;
    Ok(file)
}

fn send_ok(reply: Reply, note: &str) {
    let _ = match reply {
        Reply::Receipt(tx, r) => tx.send(Ok(r)).map_err(drop),
        Reply::Sealed(tx, s) => tx.send(Ok(s)).map_err(drop),
        Reply::Checkpoint(tx) => tx.send(Ok(note.to_owned())).map_err(drop),
    };
}

fn send_err(reply: Reply, e: &AuditError) {
    let err = || AuditError::BatchFailed(e.to_string());
    let _ = match reply {
        Reply::Receipt(tx, _) => tx.send(Err(err())).map_err(drop),
        Reply::Sealed(tx, _) => tx.send(Err(err())).map_err(drop),
        Reply::Checkpoint(tx) => tx.send(Err(err())).map_err(drop),
    };
}
