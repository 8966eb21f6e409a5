//! Sends that are permitted but not yet in the ledger.
//!
//! A decision reads the ledger, and a send is written to the ledger only
//! after Meta accepted it. Without this module, concurrent requests would
//! each read the same counts and together pass a cap that each alone
//! respects (the pair interval, the marketing frequency, the mass-message
//! limit). So a decision takes its *turn* — a lock shared by every request
//! to the same person or with the same content — notes the sends still in
//! flight, then reads the ledger, adds the two, decides, and reserves its
//! own send before the turn ends. A reservation is released only after its
//! send is committed to the ledger (or did not happen), so noting the
//! in-flight sends *before* the read misses none: a send released since was
//! committed before the read began. One committed in between is counted
//! twice, which errs toward refusing.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use tokio::sync::{Mutex as AsyncMutex, MutexGuard as AsyncGuard};

use super::{ContentDigest, StateQuery, SubjectState};
use crate::pseudonym::SubjectId;

/// Number of turn locks; requests that hash to the same one wait for each
/// other, others run in parallel.
const STRIPES: usize = 256;

/// The in-flight sends and the decision turns.
#[derive(Debug)]
pub struct InFlight {
    turns: Box<[AsyncMutex<()>]>,
    hasher: RandomState,
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    next_id: u64,
    sends: HashMap<u64, PendingSend>,
}

#[derive(Debug)]
struct PendingSend {
    subject: SubjectId,
    digest: ContentDigest,
    at: Timestamp,
    marketing: bool,
}

/// In-flight sends as they count for one decision.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PendingSends {
    last_send: Option<Timestamp>,
    marketing: u32,
    same_content_recipients: u32,
}

impl PendingSends {
    /// Adds these sends to a state read from the ledger.
    pub fn add_to(self, state: &mut SubjectState) {
        state.last_send = state.last_send.max(self.last_send);
        state.recent_marketing_sends = state.recent_marketing_sends.saturating_add(self.marketing);
        state.same_content_recipients = state
            .same_content_recipients
            .saturating_add(self.same_content_recipients);
    }
}

/// Held while a decision reads, decides and reserves.
#[derive(Debug)]
pub struct Turn<'a> {
    _guards: Vec<AsyncGuard<'a, ()>>,
}

/// A permitted send that counts for later decisions until dropped. Drop it
/// after the send is recorded in the ledger, or when it was not sent.
#[derive(Debug)]
pub struct Reservation {
    inflight: Arc<InFlight>,
    id: u64,
}

// === impl InFlight ===

impl Default for InFlight {
    fn default() -> Self {
        Self {
            turns: (0..STRIPES).map(|_| AsyncMutex::new(())).collect(),
            hasher: RandomState::new(),
            pending: Mutex::new(Pending::default()),
        }
    }
}

impl InFlight {
    /// Waits for the decision turn of `subject` and `digest`.
    pub async fn turn(&self, subject: &SubjectId, digest: &ContentDigest) -> Turn<'_> {
        let mut stripes = [self.stripe(subject), self.stripe(digest)];
        stripes.sort_unstable();
        let mut guards = Vec::with_capacity(2);
        guards.push(self.turns[stripes[0]].lock().await);
        if stripes[1] != stripes[0] {
            guards.push(self.turns[stripes[1]].lock().await);
        }
        Turn { _guards: guards }
    }

    /// What the in-flight sends add to `subject`'s state under `query`.
    /// Call during the turn and *before* reading the ledger.
    pub fn pending(&self, subject: &SubjectId, query: &StateQuery) -> PendingSends {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out = PendingSends::default();
        let mut others = Vec::new();
        for send in pending.sends.values() {
            if &send.subject == subject {
                out.last_send = out.last_send.max(Some(send.at));
                if send.marketing && send.at > query.marketing_since {
                    out.marketing += 1;
                }
            } else if query
                .content
                .as_ref()
                .is_some_and(|(digest, _)| digest == &send.digest)
                && !others.contains(&&send.subject)
            {
                others.push(&send.subject);
            }
        }
        out.same_content_recipients = u32::try_from(others.len()).unwrap_or(u32::MAX);
        out
    }

    /// Reserves a permitted send (call during the turn).
    pub fn reserve(
        self: &Arc<Self>,
        subject: SubjectId,
        digest: ContentDigest,
        at: Timestamp,
        marketing: bool,
    ) -> Reservation {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let id = pending.next_id;
        pending.next_id += 1;
        pending.sends.insert(
            id,
            PendingSend {
                subject,
                digest,
                at,
                marketing,
            },
        );
        Reservation {
            inflight: Arc::clone(self),
            id,
        }
    }

    /// Sends reserved and not yet released.
    pub fn len(&self) -> usize {
        let pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        pending.sends.len()
    }

    /// True when nothing is in flight.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn stripe(&self, key: &impl Hash) -> usize {
        // `as usize` keeps the low bits, which is all the modulo needs.
        #[allow(clippy::cast_possible_truncation)]
        let h = self.hasher.hash_one(key) as usize;
        h % STRIPES
    }
}

// === impl Reservation ===

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut pending = self
            .inflight
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        pending.sends.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::pseudonym::PseudonymKey;

    fn query(now: Timestamp, digest: &ContentDigest) -> StateQuery {
        StateQuery {
            sends_since: now - SignedDuration::from_secs(6),
            marketing_since: now - SignedDuration::from_hours(168),
            marketing_limit: 2,
            content: Some((digest.clone(), now - SignedDuration::from_hours(24))),
            content_limit: 30,
        }
    }

    #[test]
    fn pending_sends_count_until_released() {
        let key = PseudonymKey::new(&[1u8; 32]);
        let (me, other) = (key.subject("+4915100000001"), key.subject("+4915100000002"));
        let digest = ContentDigest::from_hex("d".into());
        let now: Timestamp = "2026-06-10T12:00:00Z".parse().unwrap();
        let inflight = Arc::new(InFlight::default());
        let mine = inflight.reserve(me.clone(), digest.clone(), now, true);
        let theirs = inflight.reserve(other.clone(), digest.clone(), now, true);
        let again = inflight.reserve(other, digest.clone(), now, true);

        let mut state = SubjectState::default();
        inflight
            .pending(&me, &query(now, &digest))
            .add_to(&mut state);
        assert_eq!(state.last_send, Some(now));
        assert_eq!(state.recent_marketing_sends, 1);
        assert_eq!(state.same_content_recipients, 1, "distinct people");

        drop((mine, theirs, again));
        assert!(inflight.is_empty());
        let mut state = SubjectState::default();
        inflight
            .pending(&me, &query(now, &digest))
            .add_to(&mut state);
        assert_eq!(state, SubjectState::default());
    }

    #[tokio::test]
    async fn a_turn_excludes_the_same_subject_or_content_only() {
        let key = PseudonymKey::new(&[1u8; 32]);
        let inflight = InFlight::default();
        let d1 = ContentDigest::from_hex("d1".into());
        let a = key.subject("+4915100000001");
        let turn = inflight.turn(&a, &d1).await;
        let again = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            inflight.turn(&a, &ContentDigest::from_hex("d9".into())),
        )
        .await;
        assert!(again.is_err(), "same subject must wait");
        drop(turn);
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), inflight.turn(&a, &d1))
                .await
                .is_ok()
        );
    }
}
