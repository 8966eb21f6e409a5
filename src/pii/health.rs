//! HEALTH_INFO (GDPR Art. 9): a German/English lexicon of diagnoses,
//! symptoms, medications, treatments, aids and disabilities in one
//! Aho-Corasick automaton, plus patterns for pregnancy with its week or
//! month. Compound tails (`-allergie`, `-OP`) match inside longer words
//! (`Nussallergie`, `Blinddarm-OP`). A medication's dose (`Ibuprofen 600`),
//! a diabetes type, a degree of disability (`(GdB 50)`), a severity before
//! the term (`starke Kopfschmerzen`, `severe headaches`), an allergen
//! (`sesame allergy`, `Allergie gegen PPD`) and a body site
//! (`eczema on my scalp`) are part of the span; two findings joined by
//! `und`/`and` become one. A term followed by `insurance`/`Versicherung` is
//! about a product, not a person.

use aho_corasick::Match;
use regex::Regex;

use super::gazetteer::{LongestAt, lines};
use super::mentions::Starts;
use super::structured::context_score;
use super::text::Words;
use super::text::{contains_ci, next_char, prev_char};
use super::{Hit, Label, PiiError};

/// The health-data detector.
#[derive(Debug)]
pub(crate) struct Health {
    lexicon: LongestAt,
    /// Per pattern: true if it is a compound tail.
    tail: Vec<bool>,
    /// Per pattern: true if it counts only inside a compound.
    glued_only: Vec<bool>,
    pregnancy: Regex,
    dose: Regex,
}

// === impl Health ===

impl Health {
    pub(crate) fn new() -> Result<Self, PiiError> {
        let mut patterns = Vec::new();
        let mut tail = Vec::new();
        let mut glued_only = Vec::new();
        for (term, kind) in terms() {
            patterns.push(term);
            tail.push(kind != TermKind::Whole);
            glued_only.push(kind == TermKind::GluedTail);
        }
        Ok(Self {
            lexicon: LongestAt::new(&patterns)?,
            tail,
            glued_only,
            pregnancy: Regex::new(
                r"(?i)(?-u:\b)(?:(?:in der|im)\s\d{1,2}\.\s?ssw|(?:in der|in the|im|in my)\s\d{1,2}\.?\s?(?:woche|ssw|monat|week|month)\s(?:schwanger|pregnant)|\d{1,2}\.?\s(?:weeks?|months?|wochen|monate?)\s(?:schwanger|pregnant))(?-u:\b)",
            )?,
            dose: Regex::new(
                r"^\s?(?:(?:typ|type)\s?)?\d{1,4}(?:[.,]\d+)?(?:\s?(?:mg|µg|mcg|ml|ie|g)(?-u:\b))?",
            )?,
        })
    }

    /// Appends health findings in `text` to `out`; `pregnancy_word` tells
    /// whether a [`PREGNANCY_WORDS`] word occurs anywhere in `text`, and
    /// `terms` where a lexicon term can start (see [`super::mentions`]).
    pub(crate) fn detect(
        &self,
        text: &str,
        pregnancy_word: bool,
        terms: &Starts,
        out: &mut Vec<Hit>,
    ) {
        // Every pregnancy pattern ends in one of these words.
        if pregnancy_word {
            for m in self.pregnancy.find_iter(text) {
                out.push(Hit::new(Label::HealthInfo, m.start(), m.end(), 0.9));
            }
        }
        if terms.any() {
            let first = out.len();
            self.lexicon
                .each(text, terms.list(), |m| self.term(text, m, out));
            join_enumerations(text, &mut out[first..]);
        }
    }

    /// Appends the lexicon match `m` as a finding, with its dose, severity,
    /// allergen and body site, if it counts: whole terms stand alone,
    /// compound tails end a word. Returns whether it counted.
    fn term(&self, text: &str, m: Match, out: &mut Vec<Hit>) -> bool {
        let pattern = m.pattern().as_usize();
        let is_tail = self.tail.get(pattern).copied().unwrap_or(false);
        let Some(start) = word_start(text, m.start(), is_tail) else {
            return false;
        };
        let glued_only = self.glued_only.get(pattern).copied().unwrap_or(false);
        if (glued_only && start == m.start())
            || next_char(text, m.end()).is_some_and(char::is_alphanumeric)
            || about_a_product(&text[m.end()..])
        {
            return false;
        }
        let end = m.end() + self.dose.find(&text[m.end()..]).map_or(0, |d| d.end());
        let allergy = contains_ci(&text[start..end], "allerg");
        let (start, end) = extend(text, start, end, allergy);
        let score = 0.65 + context_score(text, start, &HEALTH_CONTEXT);
        out.push(Hit::new(Label::HealthInfo, start, end, score));
        true
    }
}

/// How a lexicon entry matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TermKind {
    /// A whole word or phrase.
    Whole,
    /// A compound tail (`-allergie`): also at the end of a longer word.
    Tail,
    /// A tail that counts only inside a compound (`~störung`).
    GluedTail,
}

/// The lexicon: each term (as written, marks stripped) and how it matches.
pub(crate) fn terms() -> impl Iterator<Item = (&'static str, TermKind)> {
    lines(include_str!("data/health.txt")).map(|l| {
        if let Some(t) = l.strip_prefix('~') {
            (t, TermKind::GluedTail)
        } else if let Some(t) = l.strip_prefix('-') {
            (t, TermKind::Tail)
        } else {
            (l, TermKind::Whole)
        }
    })
}

/// `disability insurance`, `Krankenversicherung`-like products.
fn about_a_product(rest: &str) -> bool {
    let rest = rest.trim_start_matches([' ', '-']);
    ["insurance", "versicherung"].iter().any(|w| {
        rest.get(..w.len())
            .is_some_and(|r| r.eq_ignore_ascii_case(w))
    })
}

/// Severity before, allergen and body site around, degree of disability
/// after a finding.
fn extend(text: &str, mut start: usize, mut end: usize, allergy: bool) -> (usize, usize) {
    if allergy {
        if let Some(s) = word_before(text, start).filter(|&(_, w)| !is_function_word(w)) {
            start = s.0;
        }
        end = phrase_after(text, end, &["to", "gegen", "auf"], 1).unwrap_or(end);
    }
    if let Some((s, w)) = word_before(text, start)
        && SEVERITY.iter().any(|m| m.eq_ignore_ascii_case(w))
    {
        start = s;
    }
    if let Some(e) = phrase_after(text, end, &["on", "auf", "an"], 2)
        && text[..e]
            .rsplit(' ')
            .next()
            .is_some_and(|w| BODY_SITES.iter().any(|b| b.eq_ignore_ascii_case(w)))
    {
        end = e;
    }
    let rest = &text[end..];
    if let Some(gdb) = rest
        .strip_prefix(" (")
        .filter(|r| r.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("gdb")))
        && let Some(close) = gdb.find(')').filter(|&c| c <= 8)
    {
        end += 2 + close + 1;
    }
    (start, end)
}

/// The word right before `at` (one space between) and where it starts.
fn word_before(text: &str, at: usize) -> Option<(usize, &str)> {
    let head = text[..at].strip_suffix(' ')?;
    let start = head
        .char_indices()
        .rev()
        .take_while(|&(_, c)| c.is_alphabetic() || c == '-')
        .last()
        .map(|(i, _)| i)?;
    Some((start, &head[start..]))
}

/// The end of `<preposition> [word ]word` right after `at` (`to PPD`,
/// `on my scalp`, `auf der Kopfhaut`), taking `words` words after it.
fn phrase_after(text: &str, at: usize, prepositions: &[&str], words: usize) -> Option<usize> {
    let rest = text[at..].strip_prefix(' ')?;
    let (prep, mut tail) = rest.split_once(' ')?;
    if !prepositions.iter().any(|p| p.eq_ignore_ascii_case(prep)) {
        return None;
    }
    let mut end = at + 1 + prep.len();
    for i in 0..words {
        let len = tail
            .char_indices()
            .find(|&(_, c)| !(c.is_alphanumeric() || c == '-'))
            .map_or(tail.len(), |(i, _)| i);
        if len == 0 {
            return None;
        }
        end += 1 + len;
        if i + 1 < words {
            tail = tail[len..].strip_prefix(' ')?;
        }
    }
    Some(end)
}

fn is_function_word(word: &str) -> bool {
    FUNCTION_WORDS.iter().any(|w| w.eq_ignore_ascii_case(word))
}

/// `Husten und Fieber`: two findings joined by `und`/`and` become one.
fn join_enumerations(text: &str, hits: &mut [Hit]) {
    for i in 1..hits.len() {
        let (a, b) = (hits[i - 1], hits[i]);
        let gap = text.get(a.end..b.start).unwrap_or("");
        if gap.eq_ignore_ascii_case(" und ") || gap.eq_ignore_ascii_case(" and ") {
            hits[i - 1].end = b.end;
            hits[i].start = a.start;
        }
    }
}

const SEVERITY: &[&str] = &[
    "severe",
    "high",
    "chronic",
    "acute",
    "mild",
    "bad",
    "heftige",
    "heftigen",
    "starke",
    "starken",
    "starker",
    "schwere",
    "schweren",
    "schwerer",
    "leichte",
    "leichten",
    "akute",
    "akuten",
    "chronische",
    "chronischen",
    "kreisrunden",
    "kreisrunder",
    "hohes",
    "hohem",
];

const BODY_SITES: &[&str] = &[
    "scalp", "kopfhaut", "skin", "haut", "back", "rücken", "knee", "knie", "hands", "händen",
    "hand", "arm", "arms", "armen", "leg", "legs", "bein", "beinen", "face", "gesicht", "chest",
    "brust", "foot", "feet", "fuß", "füßen", "neck", "nacken", "shoulder", "schulter",
];

const FUNCTION_WORDS: &[&str] = &[
    "a", "an", "the", "my", "no", "any", "eine", "einer", "meine", "meiner", "keine", "die", "der",
    "ihre", "seine", "his", "her", "their", "your", "our", "unsere", "with", "mit", "have", "has",
    "habe", "hat", "ist", "is", "bei", "von", "of", "für", "for",
];

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

pub(crate) static PREGNANCY_WORDS: Words = Words::new(&["ssw", "schwanger", "pregnant"]);
static HEALTH_CONTEXT: Words = Words::new(&[
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
]);

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        Health::new()
            .map(|h| {
                let pregnancy = PREGNANCY_WORDS.occur_in(text);
                h.detect(text, pregnancy, &Starts::ANYWHERE, &mut out);
            })
            .ok();
        out.iter().map(|h| &text[h.start..h.end]).collect()
    }

    #[test]
    fn compound_tails_cover_the_whole_word() {
        assert_eq!(found("ich habe eine Nussallergie."), vec!["Nussallergie"]);
        assert_eq!(found("nach meiner Blinddarm-OP"), vec!["Blinddarm-OP"]);
        // `beinbruch` is a whole term, glued here, so it does not count and
        // hides nothing: the tail `-bruch` still ends the word.
        assert_eq!(found("diagnose: schienbeinbruch."), vec!["schienbeinbruch"]);
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
    fn severity_allergen_body_site_and_degree_belong_to_the_span() {
        assert_eq!(found("I have severe headaches"), vec!["severe headaches"]);
        assert_eq!(
            found("habe starke Kopfschmerzen"),
            vec!["starke Kopfschmerzen"]
        );
        assert_eq!(
            found("my son has a severe sesame allergy"),
            vec!["severe sesame allergy"]
        );
        assert_eq!(
            found("Allergie gegen PPD, bitte"),
            vec!["Allergie gegen PPD"]
        );
        assert_eq!(found("eczema on my scalp"), vec!["eczema on my scalp"]);
        assert_eq!(
            found("Schwerbehinderung (GdB 50)"),
            vec!["Schwerbehinderung (GdB 50)"]
        );
        let joined = found("seit gestern Husten und Fieber");
        assert!(
            joined.iter().all(|h| *h == "Husten und Fieber"),
            "{joined:?}"
        );
    }

    #[test]
    fn products_and_outages_are_not_health_data() {
        assert!(found("For the disability insurance: see attached").is_empty());
        assert!(found("Gibt's ne Störung? Seit 18:30 kein Internet").is_empty());
        assert_eq!(found("wegen meiner Angststörung"), vec!["Angststörung"]);
    }

    #[test]
    fn multi_byte_text_around_findings_never_panics() {
        for text in [
            "allergy 😡",
            "Allergie gegen 🥜",
            "eczema on my 🧠",
            "disability 🚑 insurance",
            "Fieber (GdB 5ä)",
            "Schmerzen ü",
            "é allergy",
            "Husten und ",
            "Rücken Schmerzen auf der Häut",
        ] {
            let _ = found(text);
        }
    }

    #[test]
    fn ordinary_words_are_not_health_data() {
        assert!(found("Die Lieferung kommt morgen, Bestellung 4711").is_empty());
        assert!(found("Passwort vergessen").is_empty());
    }
}
