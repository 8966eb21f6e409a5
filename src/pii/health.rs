//! HEALTH_INFO (GDPR Art. 9): a German/English lexicon of diagnoses,
//! symptoms, medications, treatments, aids and disabilities in one
//! Aho-Corasick automaton, plus patterns for pregnancy with its week or
//! month. Compound tails (`-allergie`, `-OP`) match inside longer words
//! (`Nussallergie`, `Blinddarm-OP`). A medication's dose (`Ibuprofen 600`)
//! and a diabetes type are part of the span.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::Regex;

use super::gazetteer::lines;
use super::structured::context_score;
use super::text::{next_char, prev_char};
use super::{Hit, Label, PiiError};

/// The health-data detector.
#[derive(Debug)]
pub(crate) struct Health {
    ac: AhoCorasick,
    /// Per pattern: true if it is a compound tail.
    tail: Vec<bool>,
    pregnancy: Regex,
    dose: Regex,
}

// === impl Health ===

impl Health {
    pub(crate) fn new() -> Result<Self, PiiError> {
        let mut patterns = Vec::new();
        let mut tail = Vec::new();
        for l in lines(include_str!("data/health.txt")) {
            let (is_tail, term) = match l.strip_prefix('-') {
                Some(t) => (true, t),
                None => (false, l),
            };
            patterns.push(term.to_owned());
            tail.push(is_tail);
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            // A full DFA: one table lookup per byte (the NFA default for
            // large pattern sets is several times slower on chat text).
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)?;
        Ok(Self {
            ac,
            tail,
            pregnancy: Regex::new(
                r"(?i)(?-u:\b)(?:(?:in der|im)\s\d{1,2}\.\s?ssw|(?:in der|in the|im|in my)\s\d{1,2}\.?\s?(?:woche|ssw|monat|week|month)\s(?:schwanger|pregnant)|\d{1,2}\.?\s(?:weeks?|months?|wochen|monate?)\s(?:schwanger|pregnant))(?-u:\b)",
            )?,
            dose: Regex::new(
                r"^\s?(?:(?:typ|type)\s?)?\d{1,4}(?:[.,]\d+)?(?:\s?(?:mg|µg|mcg|ml|ie|g)(?-u:\b))?",
            )?,
        })
    }

    /// Appends health findings in `text` to `out`.
    pub(crate) fn detect(&self, text: &str, out: &mut Vec<Hit>) {
        for m in self.pregnancy.find_iter(text) {
            out.push(Hit::new(Label::HealthInfo, m.start(), m.end(), 0.9));
        }
        for m in self.ac.find_iter(text) {
            let is_tail = self
                .tail
                .get(m.pattern().as_usize())
                .copied()
                .unwrap_or(false);
            let Some(start) = word_start(text, m.start(), is_tail) else {
                continue;
            };
            if next_char(text, m.end()).is_some_and(char::is_alphanumeric) {
                continue;
            }
            let end = m.end() + self.dose.find(&text[m.end()..]).map_or(0, |d| d.end());
            let score = 0.65 + context_score(text, start, HEALTH_CONTEXT);
            out.push(Hit::new(Label::HealthInfo, start, end, score));
        }
    }
}

/// Where the word containing a match starts: at the match itself for whole
/// terms, or further left for compound tails.
fn word_start(text: &str, at: usize, is_tail: bool) -> Option<usize> {
    let glued = prev_char(text, at).is_some_and(|c| c.is_alphanumeric() || c == '-');
    if !glued {
        return Some(at);
    }
    if !is_tail {
        return None;
    }
    let head = &text[..at];
    let start = head
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphanumeric() || c == '-')
        .last()
        .map_or(at, |(i, _)| i);
    Some(start)
}

const HEALTH_CONTEXT: &[&str] = &[
    "habe",
    "hab ",
    "leide",
    "nehme",
    "diagnose",
    "arzt",
    "ärzt",
    "allergisch",
    "wegen",
    "nach meiner",
    "i have",
    "suffer",
    "take ",
    "taking",
    "diagnosed",
    "doctor",
    "prescription",
    "rezept",
    "krank",
    "medikament",
    "brauche",
    "therapie",
    "behandlung",
    "treatment",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        Health::new().map(|h| h.detect(text, &mut out)).ok();
        out.iter().map(|h| &text[h.start..h.end]).collect()
    }

    #[test]
    fn compound_tails_cover_the_whole_word() {
        assert_eq!(found("ich habe eine Nussallergie."), vec!["Nussallergie"]);
        assert_eq!(found("nach meiner Blinddarm-OP"), vec!["Blinddarm-OP"]);
    }

    #[test]
    fn pregnancy_with_week_and_medication_with_dose_are_found() {
        // The bare "schwanger" inside is also a hit; the engine keeps the longest.
        assert_eq!(
            found("bin in der 12. Woche schwanger")[0],
            "in der 12. Woche schwanger"
        );
        assert_eq!(found("I'm 6 months pregnant")[0], "6 months pregnant");
        assert_eq!(found("nehme Ibuprofen 600 täglich"), vec!["Ibuprofen 600"]);
        assert_eq!(found("ich habe Diabetes Typ 2"), vec!["Diabetes Typ 2"]);
    }

    #[test]
    fn ordinary_words_are_not_health_data() {
        assert!(found("Die Lieferung kommt morgen, Bestellung 4711").is_empty());
        assert!(found("Passwort vergessen").is_empty());
    }
}
