//! What the ledger knows about one subject, derived from its events.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::{Change, Event, Purpose};

/// Consent for one purpose, as derived from the events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsentStatus {
    /// Asked for (web form, opt-in keyword) but not yet confirmed over
    /// WhatsApp: not consent.
    Pending {
        /// When it was requested.
        since: Timestamp,
    },
    /// Given (and confirmed where the policy requires a double opt-in).
    Granted {
        /// When it became effective.
        since: Timestamp,
    },
    /// Withdrawn.
    Revoked {
        /// When.
        since: Timestamp,
    },
}

/// One earlier send to this subject (for pair and frequency limits).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SendFact {
    /// When it was forwarded.
    pub at: Timestamp,
    /// Whether it counted as marketing.
    pub marketing: bool,
}

/// Everything a decision needs to know about one subject.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SubjectState {
    /// The subject's last inbound message (opens and refreshes the
    /// customer-service window; "customer first").
    pub last_inbound: Option<Timestamp>,
    /// When Meta last reported the number undeliverable (error 131026).
    pub undeliverable_since: Option<Timestamp>,
    /// The latest opt-out (keyword, operator revoke-all).
    pub opted_out_at: Option<Timestamp>,
    /// Consent per purpose.
    pub consents: BTreeMap<Purpose, ConsentStatus>,
    /// A forwarded send within the pair-rate window, if there is one (older
    /// sends are not loaded; in-flight sends add the newest).
    pub last_send: Option<Timestamp>,
    /// Marketing sends within the frequency period, counted up to the
    /// query's limit (a count at the limit means "at least").
    pub recent_marketing_sends: u32,
    /// Distinct *other* subjects that got the same content within the
    /// mass-message period, counted up to the query's limit.
    pub same_content_recipients: u32,
}

// === impl SubjectState ===

impl SubjectState {
    /// Whether Meta reported the number undeliverable and the person has
    /// not written since (a message from them proves it works again).
    pub fn undeliverable(&self) -> bool {
        self.undeliverable_since
            .is_some_and(|u| self.last_inbound.is_none_or(|i| i <= u))
    }

    /// Derives consent and opt-out state from events, applied in time order
    /// (ties keep their given order).
    pub fn from_events(events: &[Event]) -> Self {
        let mut sorted: Vec<&Event> = events.iter().collect();
        sorted.sort_by_key(|e| e.at);
        let mut state = Self::default();
        for event in sorted {
            state.apply(event);
        }
        state
    }

    /// Applies one event (events must come in time order).
    pub fn apply(&mut self, event: &Event) {
        let at = event.at;
        match (event.change, &event.purpose) {
            (Change::Requested, Some(p)) => {
                if !matches!(self.consents.get(p), Some(ConsentStatus::Granted { .. })) {
                    self.consents
                        .insert(p.clone(), ConsentStatus::Pending { since: at });
                }
            }
            (Change::Requested, None) => {}
            (Change::Confirmed, purpose) => self.confirm(purpose.as_ref(), at),
            (Change::Granted, Some(p)) => {
                self.consents
                    .insert(p.clone(), ConsentStatus::Granted { since: at });
            }
            (Change::Granted, None) => {}
            (Change::Revoked, Some(p)) => {
                self.consents
                    .insert(p.clone(), ConsentStatus::Revoked { since: at });
            }
            (Change::Revoked, None) => self.revoke_all(at, true),
            (Change::OptedOut, _) => {
                self.opted_out_at = Some(at);
                self.revoke_all(at, false);
            }
        }
    }

    /// The consent status for a purpose, if any event named it.
    pub fn consent(&self, purpose: &Purpose) -> Option<ConsentStatus> {
        self.consents.get(purpose).copied()
    }

    /// Whether consent for `purpose` is currently granted.
    pub fn has_consent(&self, purpose: &Purpose) -> bool {
        matches!(self.consent(purpose), Some(ConsentStatus::Granted { .. }))
    }

    /// Whether an opt-out is in force that the subject has not lifted by
    /// writing again (an inbound message strictly after the opt-out).
    pub fn opt_out_in_force(&self) -> bool {
        match (self.opted_out_at, self.last_inbound) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(out), Some(inbound)) => inbound <= out,
        }
    }

    fn confirm(&mut self, purpose: Option<&Purpose>, at: Timestamp) {
        for (p, status) in &mut self.consents {
            let named = purpose.is_none_or(|want| want == p);
            if named && matches!(status, ConsentStatus::Pending { .. }) {
                *status = ConsentStatus::Granted { since: at };
            }
        }
    }

    fn revoke_all(&mut self, at: Timestamp, including_service: bool) {
        let service = Purpose::service();
        for (p, status) in &mut self.consents {
            if including_service || *p != service {
                *status = ConsentStatus::Revoked { since: at };
            }
        }
        // A purpose never named before is revoked too, so a later
        // confirmation has nothing pending to confirm.
        self.consents
            .entry(Purpose::marketing())
            .or_insert(ConsentStatus::Revoked { since: at });
    }
}
