//! The messaging policy: the rules a send must pass, loaded from `policies/`.
//!
//! The policy file is parsed with unknown fields denied (a typo is a load
//! error, never a silently ignored rule) and compiled into a [`Policy`].
//! Decisions are pure: `evaluate` takes a validated request and returns a
//! [`Permit`] (which forwarding requires) or a Cloud-API-shaped denial that
//! names the rule. Consent, the 24-hour window, templates, broadcast caps and
//! quiet hours join here with the consent ledger (issue 5).

use std::path::Path;
use std::sync::{Arc, RwLock};

use serde::Deserialize;

use crate::error::ApiError;
use crate::message::{Recipient, SendRequest};
use crate::pii::Rules;
use crate::pseudonym::hex;

/// A loaded, validated policy.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The `version` string the file declares.
    pub version: String,
    /// SHA-256 of the exact file bytes (hex); recorded with every decision.
    pub sha256: String,
    groups: GroupRules,
    /// What happens to personal data found in outbound messages.
    pub pii_outbound: Rules,
    /// What happens to personal data in inbound messages delivered to
    /// clients in pseudonym mode.
    pub pii_inbound: Rules,
}

/// The policy in force, shared by the send path and the webhook processor;
/// replaced whole on reload.
#[derive(Debug)]
pub struct PolicyCell(RwLock<Arc<Policy>>);

/// Proof that a request passed the policy; forwarding requires one.
#[derive(Debug)]
pub struct Permit {
    /// Rule ids that were evaluated and passed.
    pub rules: Vec<&'static str>,
}

/// A policy file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid or has unknown keys.
    #[error("policy file {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong, with the key path.
        message: String,
    },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    version: String,
    groups: GroupRules,
    #[serde(default)]
    pii: RawPii,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPii {
    #[serde(default)]
    outbound: toml::Table,
    #[serde(default)]
    inbound: toml::Table,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupRules {
    allow_group_sends: bool,
}

// === impl PolicyCell ===

impl PolicyCell {
    /// A cell holding `policy`.
    pub fn new(policy: Policy) -> Self {
        Self(RwLock::new(Arc::new(policy)))
    }

    /// The policy in force now (a snapshot: later reloads do not change it).
    pub fn current(&self) -> Arc<Policy> {
        match self.0.read() {
            Ok(p) => Arc::clone(&p),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Puts `policy` in force.
    pub fn replace(&self, policy: Policy) {
        let new = Arc::new(policy);
        match self.0.write() {
            Ok(mut p) => *p = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}

/// Rule id: customers are never messaged in groups that expose their numbers.
pub const RULE_NO_CUSTOMER_GROUPS: &str = "groups.no_customer_groups";

// === impl Policy ===

impl Policy {
    /// Loads and compiles a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let bytes = std::fs::read(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|message| PolicyError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Compiles policy text.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_string())?;
        let raw: RawPolicy = toml::from_str(text).map_err(|e| e.to_string())?;
        if raw.version.trim().is_empty() {
            return Err("version: must not be empty".into());
        }
        let rules = |t: &toml::Table, key: &str| {
            Rules::from_table(t).map_err(|e| {
                let problems: Vec<String> =
                    e.problems.iter().map(|p| format!("{key}.{p}")).collect();
                problems.join("; ")
            })
        };
        Ok(Self {
            version: raw.version,
            sha256: hex(&crate::ingress::sha256(bytes)),
            groups: raw.groups,
            pii_outbound: rules(&raw.pii.outbound, "pii.outbound")?,
            pii_inbound: rules(&raw.pii.inbound, "pii.inbound")?,
        })
    }

    /// Decides whether a validated request may be forwarded.
    pub fn evaluate(&self, request: &SendRequest) -> Result<Permit, ApiError> {
        let mut rules = Vec::new();
        if matches!(request.recipient(), Some(Recipient::Group(_))) {
            if !self.groups.allow_group_sends {
                return Err(ApiError::forbidden(
                    RULE_NO_CUSTOMER_GROUPS,
                    "group sends are disabled by policy: group members see each other's phone numbers",
                ));
            }
            rules.push(RULE_NO_CUSTOMER_GROUPS);
        }
        Ok(Permit { rules })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::message::Endpoint;

    const DEFAULT: &[u8] = include_bytes!("../policies/default.toml");

    #[test]
    fn shipped_default_policy_loads() {
        let p = Policy::from_bytes(DEFAULT).unwrap();
        assert_eq!(p.sha256.len(), 64);
    }

    #[test]
    fn unknown_keys_are_load_errors_naming_the_key() {
        let err = Policy::from_bytes(
            b"version = \"1\"\n[groups]\nallow_group_sends = false\nallow_grups = true\n",
        )
        .unwrap_err();
        assert!(err.contains("allow_grups"), "{err}");
    }

    #[test]
    fn pii_rules_with_unknown_labels_or_operators_fail_naming_the_key() {
        let text = b"version = \"1\"\n[groups]\nallow_group_sends = false\n[pii.outbound]\nIBAN = \"mask:4\"\nPERSON = \"hide\"\n";
        let err = Policy::from_bytes(text).unwrap_err();
        assert!(err.contains("pii.outbound.IBAN"), "{err}");
        assert!(err.contains("pii.outbound.PERSON"), "{err}");
    }

    #[test]
    fn group_sends_are_denied_by_default() {
        let p = Policy::from_bytes(DEFAULT).unwrap();
        let body = br#"{"messaging_product":"whatsapp","recipient_type":"group","to":"120363000000000001","type":"text","text":{"body":"hi"}}"#;
        let req = SendRequest::parse(body, Endpoint::Messages).unwrap();
        assert_eq!(p.evaluate(&req).unwrap_err().rule, RULE_NO_CUSTOMER_GROUPS);
    }
}
