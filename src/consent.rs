//! The consent ledger: what each data subject agreed to, withdrew, and when.
//!
//! The ledger is append-only evidence (GDPR Art. 7(1): consent must be
//! demonstrable; UWG §7: marketing needs prior express consent, in practice a
//! double opt-in confirmed from the WhatsApp number itself). Every change is
//! an [`Event`] carrying who, when, how, the consent text version and the
//! pseudonymised confirming message; the current [`SubjectState`] is derived
//! from the events, never stored as a mutable flag. Subjects are keyed
//! pseudonyms ([`SubjectId`]); no phone number is ever stored.
//!
//! This module holds the pure part (types and derivation). Storage lives in
//! [`store`] (SQLite) behind the [`Ledger`] trait so another backend can
//! follow. Each event also becomes an audit entry: [`Event::audit_record`]
//! builds it, the caller appends it and then marks the event audited.

use std::fmt;

use jiff::Timestamp;

use crate::audit::{Kind, Record};
use crate::pseudonym::SubjectId;

pub mod cli;
mod inbound;
mod inflight;
mod learn;
mod sends;
mod state;
pub mod store;

pub use inbound::{GATEWAY_ACTOR, inbound_events, marketing_stop};
pub use inflight::{InFlight, PendingSends, Reservation, Turn};
pub use learn::{ConsentLearner, SharedLedger, inbound_subject};
pub use sends::SendRecorder;
pub use state::{ConsentStatus, SendFact, SubjectState};
pub use store::{Ledger, SqliteLedger, StateQuery, StoredEvent};

/// A purpose consent is given for (`service`, `marketing`, and others the
/// policy names). Lowercase ASCII letters, digits and `_`, at most 32 chars.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Purpose(String);

/// How a consent event came about (the "how" of the evidence record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// An inbound WhatsApp message from the subject's own number.
    WhatsappInbound,
    /// An opt-in, opt-out or confirm keyword sent over WhatsApp.
    Keyword,
    /// A quick-reply button payload (for example "Stop promotions").
    ButtonPayload,
    /// A web-form sign-up imported by an operator (pending until confirmed).
    WebForm,
    /// Entered by an operator on the command line.
    Operator,
    /// Meta's `user_preferences` webhook (`stop`).
    MetaUserPreferences,
    /// A `failed` status with code 131050 (user stopped marketing).
    MetaMarketingFailure,
}

/// What an event changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// First step of a double opt-in (web form, opt-in keyword, operator
    /// entry for a purpose that needs confirmation): pending.
    Requested,
    /// Confirmation over WhatsApp: every pending purpose (or the named one)
    /// becomes granted.
    Confirmed,
    /// Directly granted (purposes that need no double opt-in).
    Granted,
    /// Withdrawn for the named purpose, or for every purpose.
    Revoked,
    /// Opt-out (STOP): every purpose except `service` is revoked, and
    /// business-initiated contact ends until the subject writes again if
    /// the policy says so.
    OptedOut,
}

/// Evidence fields of an event (audit-and-compliance.md §4.5).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evidence {
    /// How it happened.
    pub method: Method,
    /// Who recorded it (`system:gateway`, `operator:NAME`, `client:NAME`).
    pub actor: String,
    /// Version id of the consent text the subject was shown.
    pub text_version: Option<String>,
    /// Keyed token of the confirming inbound message (never a raw wamid).
    pub message: Option<String>,
    /// Free-text note (web-form source, operator evidence). Must not hold
    /// phone numbers.
    pub note: Option<String>,
}

/// One consent event about one subject.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The subject (keyed pseudonym).
    pub subject: SubjectId,
    /// When it happened (server clock, UTC).
    pub at: Timestamp,
    /// What it changes.
    pub change: Change,
    /// The purpose, or `None` for "every purpose".
    pub purpose: Option<Purpose>,
    /// Who, how, what text, which message.
    pub evidence: Evidence,
}

/// Keyed digest of a message's content (for the mass-message rule).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ContentDigest(String);

/// Errors of the consent ledger.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// The database failed.
    #[error("consent database: {0}")]
    Database(#[from] rusqlite::Error),
    /// A purpose name is not valid.
    #[error("purpose must be 1-32 lowercase letters, digits or _")]
    InvalidPurpose,
    /// A stored row could not be read back.
    #[error("consent database holds an unreadable row: {0}")]
    Corrupt(String),
    /// An import file was refused; nothing was imported.
    #[error("import refused, nothing imported:\n{}", .0.join("\n"))]
    Import(Vec<String>),
    /// Reading a file or writing output failed.
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    /// A request that cannot be answered.
    #[error("{0}")]
    Invalid(String),
    /// A thread holding the ledger panicked.
    #[error("consent ledger lock poisoned")]
    Poisoned,
}

// === impl Purpose ===

impl Purpose {
    /// Validates a purpose name.
    pub fn new(name: &str) -> Result<Self, ConsentError> {
        let ok = !name.is_empty()
            && name.len() <= 32
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(ConsentError::InvalidPurpose)
        }
    }

    /// `service`: answering the customer (not consent to advertising).
    pub fn service() -> Self {
        Self("service".into())
    }

    /// `marketing`: advertising; needs a double opt-in.
    pub fn marketing() -> Self {
        Self("marketing".into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

// === impl Method ===

impl Method {
    /// Every method, for parsing.
    pub const ALL: [Self; 7] = [
        Self::WhatsappInbound,
        Self::Keyword,
        Self::ButtonPayload,
        Self::WebForm,
        Self::Operator,
        Self::MetaUserPreferences,
        Self::MetaMarketingFailure,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhatsappInbound => "whatsapp_inbound",
            Self::Keyword => "keyword",
            Self::ButtonPayload => "button_payload",
            Self::WebForm => "web_form",
            Self::Operator => "operator",
            Self::MetaUserPreferences => "meta_user_preferences",
            Self::MetaMarketingFailure => "meta_131050",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

// === impl Change ===

impl Change {
    /// Every change, for parsing.
    pub const ALL: [Self; 5] = [
        Self::Requested,
        Self::Confirmed,
        Self::Granted,
        Self::Revoked,
        Self::OptedOut,
    ];

    /// The stored name (also the audit rule id suffix).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::Confirmed => "confirmed",
            Self::Granted => "granted",
            Self::Revoked => "revoked",
            Self::OptedOut => "opted_out",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

// === impl Event ===

impl Event {
    /// An event with evidence `method` recorded by `actor`.
    pub fn new(
        subject: SubjectId,
        at: Timestamp,
        change: Change,
        purpose: Option<Purpose>,
        method: Method,
        actor: impl Into<String>,
    ) -> Self {
        Self {
            subject,
            at,
            change,
            purpose,
            evidence: Evidence {
                method,
                actor: actor.into(),
                text_version: None,
                message: None,
                note: None,
            },
        }
    }

    /// Sets the consent text version.
    pub fn with_text_version(mut self, version: impl Into<String>) -> Self {
        self.evidence.text_version = Some(version.into());
        self
    }

    /// Sets the keyed token of the confirming inbound message.
    pub fn with_message(mut self, token: impl Into<String>) -> Self {
        self.evidence.message = Some(token.into());
        self
    }

    /// Sets the free-text note.
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.evidence.note = Some(note.into());
        self
    }

    /// The audit entry for this event (`Kind::ConsentChange`). Rule ids name
    /// the change, purpose and method; the correlation id links the ledger
    /// row (`consent:<id>`) when known.
    pub fn audit_record(&self, ledger_id: Option<i64>) -> Record {
        let purpose = self.purpose.as_ref().map_or("all", Purpose::as_str);
        let mut ids = vec![
            format!("consent.{}", self.change.as_str()),
            format!("purpose:{purpose}"),
            format!("method:{}", self.evidence.method.as_str()),
        ];
        if let Some(v) = &self.evidence.text_version {
            ids.push(format!("text_version:{v}"));
        }
        if let Some(m) = &self.evidence.message {
            ids.push(format!("message:{m}"));
        }
        let record = Record::new(Kind::ConsentChange, self.evidence.actor.clone())
            .with_subject(self.subject.clone())
            .with_rule_ids(ids);
        match ledger_id {
            Some(id) => record.with_correlation_id(format!("consent:{id}")),
            None => record,
        }
    }
}

// === impl ContentDigest ===

impl ContentDigest {
    /// Wraps a hex digest (as computed by `policy::content_digest`).
    pub fn from_hex(hex: String) -> Self {
        Self(hex)
    }

    /// The hex text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests;
