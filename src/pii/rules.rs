//! Per-label operator rules, parsed from a TOML table such as
//! `{ IBAN_CODE = "mask:4", PERSON = "pseudonymise", HEALTH_INFO = "block",
//! default = "replace" }`. Unknown labels and operators are errors, and all
//! of them are reported at once.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use super::Label;

/// What to do with one finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    /// Remove the value.
    Redact,
    /// Replace with a typed placeholder such as `[IBAN_CODE]`.
    Replace,
    /// Replace all but the last `keep_last` characters with `*`.
    Mask {
        /// Characters kept at the end.
        keep_last: usize,
    },
    /// Replace with a stable keyed token `[PERSON:…]` (same value, same token).
    Pseudonymise,
    /// Leave the value as it is; it is still counted in the audit record
    /// (for example a customer's own name in a reply to them).
    Keep,
    /// Replace with a reversible `[ENC:…]` token (AES-256-GCM).
    Encrypt,
    /// Refuse the whole message.
    Block,
}

/// The operator per label, with a default for labels not listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rules {
    per_label: BTreeMap<Label, Operator>,
    default: Operator,
}

/// Everything wrong with a rules table (all problems, not just the first).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid PII rules: {}", .problems.join("; "))]
pub struct RulesError {
    /// One message per bad entry, naming the key.
    pub problems: Vec<String>,
}

// === impl Operator ===

impl FromStr for Operator {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "redact" => Self::Redact,
            "replace" => Self::Replace,
            "mask" => Self::Mask { keep_last: 4 },
            "pseudonymise" | "pseudonymize" => Self::Pseudonymise,
            "keep" => Self::Keep,
            "encrypt" => Self::Encrypt,
            "block" => Self::Block,
            other => {
                let n = other
                    .strip_prefix("mask:")
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("unknown operator {other:?} (expected keep, redact, replace, mask[:N], pseudonymise, encrypt or block)"))?;
                Self::Mask { keep_last: n }
            }
        })
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Redact => f.write_str("redact"),
            Self::Replace => f.write_str("replace"),
            Self::Mask { keep_last } => write!(f, "mask:{keep_last}"),
            Self::Pseudonymise => f.write_str("pseudonymise"),
            Self::Keep => f.write_str("keep"),
            Self::Encrypt => f.write_str("encrypt"),
            Self::Block => f.write_str("block"),
        }
    }
}

// === impl Rules ===

impl Rules {
    /// One operator for every label.
    pub fn uniform(op: Operator) -> Self {
        Self {
            per_label: BTreeMap::new(),
            default: op,
        }
    }

    /// Sets the operator for one label.
    pub fn with(mut self, label: Label, op: Operator) -> Self {
        self.per_label.insert(label, op);
        self
    }

    /// The operator for `label`.
    pub fn operator(&self, label: Label) -> Operator {
        self.per_label.get(&label).copied().unwrap_or(self.default)
    }

    /// Parses a TOML table of `LABEL = "operator"` plus optional `default`
    /// (which itself defaults to `replace`).
    pub fn from_table(table: &toml::Table) -> Result<Self, RulesError> {
        let mut rules = Self::uniform(Operator::Replace);
        let mut problems = Vec::new();
        for (key, value) in table {
            let label = match key.as_str() {
                "default" => None,
                k => match k.parse::<Label>() {
                    Ok(l) => Some(l),
                    Err(e) => {
                        problems.push(format!("{key}: {e}"));
                        continue;
                    }
                },
            };
            let op = match value.as_str().map(str::parse::<Operator>) {
                Some(Ok(op)) => op,
                Some(Err(e)) => {
                    problems.push(format!("{key}: {e}"));
                    continue;
                }
                None => {
                    problems.push(format!("{key}: expected a string such as \"replace\""));
                    continue;
                }
            };
            match label {
                Some(l) => {
                    rules.per_label.insert(l, op);
                }
                None => rules.default = op,
            }
        }
        if problems.is_empty() {
            Ok(rules)
        } else {
            Err(RulesError { problems })
        }
    }

    /// Parses TOML text: either a `[pii.outbound]` table inside a larger
    /// policy file, or a plain rules table.
    pub fn from_toml(text: &str) -> Result<Self, RulesError> {
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| RulesError {
            problems: vec![format!("not valid TOML: {}", e.message())],
        })?;
        let nested = doc
            .get("pii")
            .and_then(toml::Value::as_table)
            .and_then(|p| p.get("outbound"))
            .and_then(toml::Value::as_table);
        Self::from_table(nested.unwrap_or(&doc))
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self::uniform(Operator::Replace)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_labels_operators_and_default() {
        let r = Rules::from_toml(
            "IBAN_CODE = \"mask:4\"\nPERSON = \"pseudonymise\"\nHEALTH_INFO = \"block\"\ndefault = \"redact\"",
        );
        let r = r.unwrap_or_default();
        assert_eq!(r.operator(Label::IbanCode), Operator::Mask { keep_last: 4 });
        assert_eq!(r.operator(Label::Person), Operator::Pseudonymise);
        assert_eq!(r.operator(Label::HealthInfo), Operator::Block);
        assert_eq!(r.operator(Label::City), Operator::Redact);
    }

    #[test]
    fn rules_inside_a_policy_file_are_found() {
        let r = Rules::from_toml("[other]\nx = 1\n[pii.outbound]\nCITY = \"encrypt\"\n");
        assert_eq!(r.map(|r| r.operator(Label::City)), Ok(Operator::Encrypt));
    }

    #[test]
    fn unknown_labels_and_operators_are_all_reported() {
        let err = Rules::from_toml("IBAN = \"replace\"\nPERSON = \"shred\"\nCITY = 3").err();
        let problems = err.map(|e| e.problems).unwrap_or_default();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems.iter().any(|p| p.starts_with("IBAN:")));
        assert!(problems.iter().any(|p| p.contains("shred")));
    }
}
