//! Inbound keywords (opt-out, opt-in, confirm, help) and the advertising
//! lexicon, both matched on normalised text.
//!
//! Normalisation: Unicode NFKC (full-width `ＳＴＯＰ` becomes `stop`),
//! lowercase with `ß` folded to `ss`, whitespace trimmed and collapsed, and
//! trailing punctuation dropped. A keyword matches only the whole message:
//! "STOP!" and " stop " match, "STOP it" does not (Twilio's rule).

use std::collections::{BTreeMap, HashMap};

use regex::Regex;
use unicode_normalization::UnicodeNormalization;

/// What an inbound message asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeywordAction {
    /// Stop messages (scope per `keywords.opt_out_scope`).
    OptOut,
    /// Start the marketing double opt-in (consent becomes pending).
    OptIn,
    /// Confirm a pending opt-in (the second step of the double opt-in).
    Confirm,
    /// Ask for help / information.
    Help,
}

/// Compiled keyword lists: normalised keyword → action.
#[derive(Clone, Debug, Default)]
pub(super) struct Keywords {
    map: HashMap<String, KeywordAction>,
}

/// Compiled advertising lexicon.
#[derive(Clone, Debug)]
pub(super) struct Lexicon {
    regex: Option<Regex>,
}

/// Normalises a message or keyword for whole-message matching.
pub fn normalise(text: &str) -> String {
    let folded = fold(text);
    let trimmed = folded.trim_end_matches(|c: char| c.is_whitespace() || is_trailing_punct(c));
    trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// NFKC, lowercase, `ß` → `ss`.
fn fold(text: &str) -> String {
    let nfkc: String = text.nfkc().collect();
    nfkc.to_lowercase().replace('ß', "ss")
}

fn is_trailing_punct(c: char) -> bool {
    c.is_ascii_punctuation() || matches!(c, '…' | '¡' | '¿' | '‼' | '⁉' | '。')
}

// === impl Keywords ===

impl Keywords {
    /// Compiles `(list name, language → words)` lists. Returns the problems
    /// as `(key path below keywords, message)`.
    pub(super) fn compile<const N: usize>(
        lists: [(&str, BTreeMap<String, Vec<String>>); N],
    ) -> (Self, Vec<(String, String)>) {
        let mut map = HashMap::new();
        let mut problems = Vec::new();
        for (list, languages) in lists {
            let action = match list {
                "opt_out" => KeywordAction::OptOut,
                "opt_in" => KeywordAction::OptIn,
                "confirm" => KeywordAction::Confirm,
                _ => KeywordAction::Help,
            };
            for (lang, words) in languages {
                for (i, word) in words.iter().enumerate() {
                    let path = format!("{list}.{lang}[{i}]");
                    let key = normalise(word);
                    if key.is_empty() {
                        problems.push((path, "is empty after normalisation".into()));
                        continue;
                    }
                    match map.insert(key, action) {
                        Some(other) if other != action => {
                            problems.push((path, format!("`{word}` is also a {other:?} keyword")))
                        }
                        _ => {}
                    }
                }
            }
        }
        (Self { map }, problems)
    }

    /// The action a whole inbound message asks for, if any.
    pub(super) fn classify(&self, text: &str) -> Option<KeywordAction> {
        // Keywords are short; a long message is never one (and is not
        // worth normalising).
        if text.len() > 64 {
            return None;
        }
        self.map.get(&normalise(text)).copied()
    }
}

// === impl Lexicon ===

impl Lexicon {
    /// A lexicon that matches nothing.
    pub(super) fn empty() -> Self {
        Self { regex: None }
    }

    /// Builds the matcher. A term matches as a whole word where it starts
    /// or ends with a letter or digit ("sale" does not match "Salesforce";
    /// "% off" matches "20% off").
    pub(super) fn compile(terms: &[String]) -> Result<Self, (usize, String)> {
        if terms.is_empty() {
            return Ok(Self::empty());
        }
        let mut alternatives = Vec::new();
        for (i, term) in terms.iter().enumerate() {
            let term = normalise_text(term);
            let (Some(first), Some(last)) = (term.chars().next(), term.chars().last()) else {
                return Err((i, "must not be empty".into()));
            };
            let pre = if first.is_alphanumeric() {
                BOUNDARY_START
            } else {
                ""
            };
            let post = if last.is_alphanumeric() {
                BOUNDARY_END
            } else {
                ""
            };
            alternatives.push(format!("{pre}{}{post}", regex::escape(&term)));
        }
        let pattern = format!("(?:{})", alternatives.join("|"));
        let regex = Regex::new(&pattern).map_err(|e| (0, e.to_string()))?;
        Ok(Self { regex: Some(regex) })
    }

    /// Whether the text contains an advertising term.
    pub(super) fn matches(&self, text: &str) -> bool {
        self.regex
            .as_ref()
            .is_some_and(|r| r.is_match(&normalise_text(text)))
    }
}

/// NFKC, lowercase and collapsed whitespace (no punctuation stripping).
fn normalise_text(text: &str) -> String {
    fold(text).split_whitespace().collect::<Vec<_>>().join(" ")
}

const BOUNDARY_START: &str = r"(?:^|[^\p{L}\p{N}])";
const BOUNDARY_END: &str = r"(?:$|[^\p{L}\p{N}])";
