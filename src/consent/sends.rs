//! Recording forwarded sends (for the pair, frequency and mass rules) with
//! group commit, so a busy gateway pays one fsync per batch, not per send.

use super::{ContentDigest, SendFact, SharedLedger};
use crate::pseudonym::SubjectId;
use crate::store::{CommitError, GroupCommit};

type Send = (SubjectId, SendFact, Option<ContentDigest>);

/// Handle to the send recorder; cheap to clone.
#[derive(Clone, Debug)]
pub struct SendRecorder {
    writer: GroupCommit<Send>,
}

// === impl SendRecorder ===

impl SendRecorder {
    /// Starts the recorder thread writing to `ledger`.
    pub fn start(ledger: SharedLedger, queue: usize) -> std::io::Result<Self> {
        let writer = GroupCommit::start("consent-sends", queue, move |sends: &[Send]| {
            ledger
                .with(|l| l.record_sends(sends))
                .map_err(|e| e.to_string())
        })?;
        Ok(Self { writer })
    }

    /// Records one send; resolves when its batch is committed.
    pub async fn record(
        &self,
        subject: SubjectId,
        fact: SendFact,
        digest: Option<ContentDigest>,
    ) -> Result<(), CommitError> {
        self.writer.commit(vec![(subject, fact, digest)]).await
    }
}
