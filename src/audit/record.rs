//! The decision record stored in each audit entry, and its canonical bytes.
//!
//! Records hold no personal data in plaintext: the subject is a keyed
//! [`SubjectId`], message content appears only as a keyed digest or as
//! ciphertext under the subject's key. Canonical bytes are JSON with the field
//! order of the structs below (serde keeps it), no floats and no maps, so the
//! same record always gives the same bytes.

use serde::{Serialize, Serializer};

use crate::pseudonym::{PseudonymKey, SubjectId, hex};

/// What happened. Serialised in snake_case; add new kinds at the end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// A policy decision on a message.
    MessageDecision,
    /// Consent given or withdrawn.
    ConsentChange,
    /// A policy file was loaded.
    PolicyLoaded,
    /// A data subject's key was destroyed (Art. 17).
    Erasure,
    /// An operator revealed pseudonymised PII.
    PiiReveal,
    /// An inbound webhook was rejected.
    WebhookRejected,
    /// An inbound webhook was accepted.
    WebhookReceived,
    /// A delivery status update from upstream.
    DeliveryStatus,
    /// A customer's message arrived (inbound webhook event).
    MessageReceived,
    /// The gateway started.
    GatewayStarted,
    /// The gateway stopped.
    GatewayStopped,
    /// The upstream's answer to a forwarded send (status, pseudonymised wamid).
    UpstreamResult,
}

/// Message direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Company → WhatsApp.
    Outbound,
    /// WhatsApp → company.
    Inbound,
    /// Not about a message.
    None,
}

/// Outcome of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Forwarded unchanged.
    Allow,
    /// Refused.
    Deny,
    /// Forwarded after changes (for example redaction).
    Modify,
    /// No decision was taken.
    None,
}

/// The policy a decision was taken under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRef {
    /// SHA-256 of the policy file, hex.
    pub sha256: String,
    /// Version string from the policy file.
    pub version: String,
}

/// One PII category found and what was done to it (counts, never values).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PiiFinding {
    /// Category label, for example `IBAN_CODE`.
    pub label: String,
    /// Action taken, for example `redact`.
    pub action: String,
    /// Number of occurrences.
    pub count: u32,
}

/// The upstream outcome of a forwarded message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Upstream {
    /// HTTP status from the WhatsApp Cloud API.
    pub status: Option<u16>,
    /// Keyed token of the WhatsApp message id (never the raw wamid).
    pub wamid: Option<String>,
}

/// An OPA-style decision record. Build with [`Record::new`] and the `with_*`
/// methods; the writer adds index and timestamp.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    kind: Kind,
    actor: String,
    direction: Direction,
    #[serde(serialize_with = "subject_ser")]
    subject: Option<SubjectId>,
    decision: Decision,
    rule_ids: Vec<String>,
    policy: Option<PolicyRef>,
    content_digest: Option<String>,
    pii: Vec<PiiFinding>,
    upstream: Option<Upstream>,
    correlation_id: Option<String>,
    sealed_content: Option<String>,
}

#[derive(Serialize)]
struct Entry<'a> {
    index: u64,
    timestamp: &'a str,
    #[serde(flatten)]
    record: &'a Record,
}

/// Canonical bytes of entry `index` stamped at `timestamp` (RFC 3339).
/// Index and timestamp come first so a verifier can check them cheaply.
pub fn canonical_bytes(
    index: u64,
    timestamp: &str,
    record: &Record,
) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(&Entry {
        index,
        timestamp,
        record,
    })
}

/// Checks that canonical bytes start with the given index and timestamp.
pub fn header_matches(body: &[u8], index: u64, timestamp: &str) -> bool {
    let mut digits = [0u8; 20];
    let mut pos = digits.len();
    let mut n = index;
    loop {
        pos -= 1;
        digits[pos] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let rest = body.strip_prefix(b"{\"index\":".as_slice());
    let rest = rest.and_then(|r| r.strip_prefix(&digits[pos..]));
    let rest = rest.and_then(|r| r.strip_prefix(b",\"timestamp\":\"".as_slice()));
    let rest = rest.and_then(|r| r.strip_prefix(timestamp.as_bytes()));
    rest.is_some_and(|r| r.first() == Some(&b'"'))
}

// === impl Record ===

impl Record {
    /// A record of `kind` by `actor` (`client:NAME` or `operator:NAME`), with
    /// every optional field empty.
    pub fn new(kind: Kind, actor: impl Into<String>) -> Self {
        Self {
            kind,
            actor: actor.into(),
            direction: Direction::None,
            subject: None,
            decision: Decision::None,
            rule_ids: Vec::new(),
            policy: None,
            content_digest: None,
            pii: Vec::new(),
            upstream: None,
            correlation_id: None,
            sealed_content: None,
        }
    }

    /// A message decision about `subject`.
    pub fn message_decision(
        actor: impl Into<String>,
        direction: Direction,
        subject: SubjectId,
        decision: Decision,
    ) -> Self {
        Self::new(Kind::MessageDecision, actor)
            .with_direction(direction)
            .with_subject(subject)
            .with_decision(decision)
    }

    /// The record kind.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The subject, if any.
    pub fn subject(&self) -> Option<&SubjectId> {
        self.subject.as_ref()
    }

    /// Sets the direction.
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Sets the data subject (a keyed pseudonym, never a raw identity).
    pub fn with_subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Sets the decision.
    pub fn with_decision(mut self, decision: Decision) -> Self {
        self.decision = decision;
        self
    }

    /// Sets the ids of the rules that fired.
    pub fn with_rule_ids<I: IntoIterator<Item = S>, S: Into<String>>(mut self, ids: I) -> Self {
        self.rule_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the policy file hash and version.
    pub fn with_policy(mut self, sha256: impl Into<String>, version: impl Into<String>) -> Self {
        self.policy = Some(PolicyRef {
            sha256: sha256.into(),
            version: version.into(),
        });
        self
    }

    /// Sets the keyed digest of the message content (the content itself is
    /// never stored in the clear).
    pub fn with_content(mut self, key: &PseudonymKey, content: &[u8]) -> Self {
        self.content_digest = Some(hex(&key.digest("audit-content", content)));
        self
    }

    /// Adds one PII finding.
    pub fn with_pii(
        mut self,
        label: impl Into<String>,
        action: impl Into<String>,
        count: u32,
    ) -> Self {
        self.pii.push(PiiFinding {
            label: label.into(),
            action: action.into(),
            count,
        });
        self
    }

    /// Sets the upstream outcome; the wamid is pseudonymised with `key`.
    pub fn with_upstream(
        mut self,
        key: &PseudonymKey,
        status: Option<u16>,
        wamid: Option<&str>,
    ) -> Self {
        self.upstream = Some(Upstream {
            status,
            wamid: wamid.map(|w| key.token("wamid", w)),
        });
        self
    }

    /// Sets the correlation id.
    pub fn with_correlation_id(mut self, id: impl Into<String>) -> Self {
        self.correlation_id = Some(id.into());
        self
    }

    /// Attaches content sealed under the subject's key (see
    /// `AuditLog::seal`).
    pub fn with_sealed_content(mut self, sealed: super::SealedContent) -> Self {
        self.sealed_content = Some(sealed.into_string());
        self
    }
}

fn subject_ser<S: Serializer>(subject: &Option<SubjectId>, s: S) -> Result<S::Ok, S::Error> {
    subject.as_ref().map(SubjectId::as_str).serialize(s)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn canonical_bytes_are_fixed_order_json_with_header_first() {
        let key = PseudonymKey::new(&[1u8; 32]);
        let r = Record::message_decision(
            "client:default",
            Direction::Outbound,
            key.subject("+4915100000000"),
            Decision::Modify,
        )
        .with_rule_ids(["pii.iban"])
        .with_pii("IBAN_CODE", "redact", 2);
        let bytes = canonical_bytes(17, "2026-01-01T00:00:00Z", &r).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(
            r#"{"index":17,"timestamp":"2026-01-01T00:00:00Z","kind":"message_decision","actor":"client:default","direction":"outbound","subject":"sub_"#
        ));
        assert!(!text.contains("4915100000000"));
        assert_eq!(
            bytes,
            canonical_bytes(17, "2026-01-01T00:00:00Z", &r).unwrap()
        );
        assert!(header_matches(&bytes, 17, "2026-01-01T00:00:00Z"));
        assert!(!header_matches(&bytes, 1, "2026-01-01T00:00:00Z"));
        assert!(!header_matches(&bytes, 17, "2026-01-01T00:00:01Z"));
    }
}
