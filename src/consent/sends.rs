//! Recording forwarded sends (for the pair, frequency and mass rules) with
//! group commit: one thread takes whatever is queued and writes it in one
//! transaction, so a busy gateway pays one fsync per batch, not per send.

use tokio::sync::{mpsc, oneshot};

use super::{ContentDigest, SendFact, SharedLedger};
use crate::pseudonym::SubjectId;

/// Most sends written in one transaction.
const MAX_GROUP: usize = 1024;

type Job = (
    (SubjectId, SendFact, Option<ContentDigest>),
    oneshot::Sender<Result<(), String>>,
);

/// Handle to the send recorder; cheap to clone.
#[derive(Clone, Debug)]
pub struct SendRecorder {
    tx: mpsc::Sender<Job>,
}

// === impl SendRecorder ===

impl SendRecorder {
    /// Starts the recorder thread writing to `ledger`.
    pub fn start(ledger: SharedLedger, queue: usize) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel(queue.max(1));
        std::thread::Builder::new()
            .name("consent-sends".into())
            .spawn(move || write_loop(&ledger, rx))?;
        Ok(Self { tx })
    }

    /// Records one send; resolves when its batch is committed.
    pub async fn record(
        &self,
        subject: SubjectId,
        fact: SendFact,
        digest: Option<ContentDigest>,
    ) -> Result<(), String> {
        let (reply, done) = oneshot::channel();
        self.tx
            .send(((subject, fact, digest), reply))
            .await
            .map_err(|_| "the send recorder has stopped".to_string())?;
        done.await
            .map_err(|_| "the send recorder has stopped".to_string())?
    }
}

fn write_loop(ledger: &SharedLedger, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.blocking_recv() {
        let mut jobs = vec![first];
        while jobs.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let (sends, replies): (Vec<_>, Vec<_>) = jobs.into_iter().unzip();
        let result = ledger
            .with(|l| l.record_sends(&sends))
            .map_err(|e| e.to_string());
        for reply in replies {
            let _ = reply.send(result.clone());
        }
    }
}
