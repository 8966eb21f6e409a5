//! Group commit: one thread owns a store's writing connection and writes
//! whatever is queued in one transaction, so many concurrent callers share
//! one fsync instead of paying one each. Callers wait until their items are
//! durable (or the write failed); a full queue makes them wait, it never
//! drops anything.

use tokio::sync::{mpsc, oneshot};

/// Most callers' items written in one transaction.
const MAX_JOBS_PER_BATCH: usize = 1024;

type Reply = oneshot::Sender<Result<(), CommitError>>;

/// Why a group commit did not complete.
#[derive(Clone, Debug, thiserror::Error)]
pub enum CommitError {
    /// The writer thread is gone (shutdown or a panic).
    #[error("the {0} writer has stopped")]
    Stopped(&'static str),
    /// The transaction failed; nothing of the batch was written.
    #[error("{0}")]
    Failed(String),
}

/// Handle to a group-commit writer; cheap to clone.
pub struct GroupCommit<T> {
    name: &'static str,
    tx: mpsc::Sender<(Vec<T>, Reply)>,
}

impl<T> Clone for GroupCommit<T> {
    fn clone(&self) -> Self {
        Self {
            name: self.name,
            tx: self.tx.clone(),
        }
    }
}

impl<T> std::fmt::Debug for GroupCommit<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

// === impl GroupCommit ===

impl<T: Send + 'static> GroupCommit<T> {
    /// Starts the writer thread. `write` must write all items in one
    /// transaction (all or nothing); it runs only on that thread.
    pub fn start<W>(name: &'static str, queue: usize, mut write: W) -> std::io::Result<Self>
    where
        W: FnMut(&[T]) -> Result<(), String> + Send + 'static,
    {
        let (tx, mut rx) = mpsc::channel::<(Vec<T>, Reply)>(queue.max(1));
        std::thread::Builder::new()
            .name(format!("{name}-writer"))
            .spawn(move || {
                while let Some(first) = rx.blocking_recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < MAX_JOBS_PER_BATCH {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    let mut items = Vec::new();
                    let mut replies = Vec::with_capacity(jobs.len());
                    for (batch, reply) in jobs {
                        items.extend(batch);
                        replies.push(reply);
                    }
                    let result = write(&items).map_err(CommitError::Failed);
                    for reply in replies {
                        let _ = reply.send(result.clone());
                    }
                }
            })?;
        Ok(Self { name, tx })
    }

    /// Writes `items`; resolves once they are durable.
    pub async fn commit(&self, items: Vec<T>) -> Result<(), CommitError> {
        let (reply, done) = oneshot::channel();
        self.tx
            .send((items, reply))
            .await
            .map_err(|_| CommitError::Stopped(self.name))?;
        done.await.map_err(|_| CommitError::Stopped(self.name))?
    }

    /// [`Self::commit`] for threads outside the async runtime.
    pub fn commit_blocking(&self, items: Vec<T>) -> Result<(), CommitError> {
        let (reply, done) = oneshot::channel();
        self.tx
            .blocking_send((items, reply))
            .map_err(|_| CommitError::Stopped(self.name))?;
        done.blocking_recv()
            .map_err(|_| CommitError::Stopped(self.name))?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_callers_share_batches_and_all_items_arrive() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let batches = Arc::new(Mutex::new(0usize));
        let (s, b) = (Arc::clone(&seen), Arc::clone(&batches));
        let writer = GroupCommit::start("test", 8, move |items: &[u32]| {
            std::thread::sleep(std::time::Duration::from_millis(2));
            s.lock().unwrap().extend_from_slice(items);
            *b.lock().unwrap() += 1;
            Ok(())
        })
        .unwrap();
        let tasks: Vec<_> = (0..200u32)
            .map(|i| {
                let w = writer.clone();
                tokio::spawn(async move { w.commit(vec![i]).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let mut all = seen.lock().unwrap().clone();
        all.sort_unstable();
        assert_eq!(all, (0..200).collect::<Vec<_>>());
        assert!(*batches.lock().unwrap() < 200, "no batching happened");
    }

    #[test]
    fn a_failed_write_reaches_every_caller_of_the_batch() {
        let writer =
            GroupCommit::start("test", 4, |_: &[u8]| Err("disk full".to_string())).unwrap();
        let err = writer.commit_blocking(vec![1]).unwrap_err();
        assert_eq!(err.to_string(), "disk full");
    }
}
