//! DATE_OF_BIRTH: a plausible calendar date with birth context just before
//! it (`geb.`, `geboren am`, `Geburtsdatum`, `DOB`, `born`, `date of birth`),
//! or with `geboren` closing its clause (`Ich bin am 3.4.1980 geboren`, the
//! German verb at the end). Delivery and appointment dates have no such
//! context and stay unflagged.

use regex::Regex;

use super::text::{Words, after, before, contains_ci};
use super::{Hit, Label};

/// The date-of-birth detector.
#[derive(Debug)]
pub(crate) struct Dates {
    date: Regex,
}

// === impl Dates ===

impl Dates {
    pub(crate) fn new() -> Result<Self, regex::Error> {
        let month = r"(?:januar|jänner|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember|january|february|march|may|june|july|october|december|jan|feb|mär|mar|apr|jun|jul|aug|sept|sep|okt|oct|nov|dez|dec)\.?";
        let pattern = format!(
            r"(?i)(?-u:\b)(?:(?P<d1>\d{{1,2}})\.\s?(?P<m1>\d{{1,2}})\.\s?(?P<y1>\d{{4}}|\d{{2}})|(?P<y2>\d{{4}})-(?P<m2>\d{{2}})-(?P<d2>\d{{2}})|(?P<d3>\d{{1,2}})/(?P<m3>\d{{1,2}})/(?P<y3>\d{{4}}|\d{{2}})|\d{{1,2}}(?:st|nd|rd|th)?\.?\s{month}\s\d{{4}}|{month}\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}})(?-u:\b)"
        );
        Ok(Self {
            date: Regex::new(&pattern)?,
        })
    }

    /// Appends dates of birth in `text` to `out`; `digits` is the number of
    /// ASCII digits in `text`, `birth_word` tells
    /// whether a [`BIRTH_CONTEXT`] word occurs anywhere in `text`.
    pub(crate) fn detect(&self, text: &str, digits: usize, birth_word: bool, out: &mut Vec<Hit>) {
        // A date of birth needs a birth word before it; without one anywhere
        // in the text the date pattern need not run.
        if !birth_word || digits == 0 {
            return;
        }
        for m in self.date.find_iter(text) {
            if !plausible(m.as_str()) {
                continue;
            }
            if BIRTH_CONTEXT.occur_in(before(text, m.start(), 32)) {
                out.push(Hit::new(Label::DateOfBirth, m.start(), m.end(), 0.9));
            } else if born_after(text, m.end()) {
                out.push(Hit::new(Label::DateOfBirth, m.start(), m.end(), 0.85));
            }
        }
    }
}

/// Day 1–31 and month 1–12 for the numeric forms (read from the match
/// itself, so no captures are allocated).
fn plausible(date: &str) -> bool {
    let num = |s: &str| {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    let dm = |day: u32, month: u32| (1..=31).contains(&day) && (1..=12).contains(&month);
    let b = date.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        // 1985-03-12
        return match (num(&date[8..]), num(&date[5..7])) {
            (Some(d), Some(m)) => dm(d, m),
            _ => true,
        };
    }
    let mut parts = date.split('/');
    if let (Some(d), Some(m), Some(_)) = (parts.next(), parts.next(), parts.next()) {
        // 12/03/1985, or US order 03/12/1985
        if let (Some(d), Some(m)) = (num(d), num(m)) {
            return dm(d, m) || dm(m, d);
        }
    }
    let mut parts = date.split('.');
    if let (Some(d), Some(m), Some(_)) = (parts.next(), parts.next(), parts.next()) {
        // 12.03.1985, 12. 3. 85
        if let (Some(d), Some(m)) = (num(d), num(m)) {
            return dm(d, m);
        }
    }
    true
}

/// True if `geboren` follows byte `end` in the same clause, within
/// [`AFTER`] bytes (`am 12. März 1975 in Dresden geboren`). Every text
/// with it passes the engine's birth-word gate (it is a [`BIRTH_CONTEXT`]
/// word).
fn born_after(text: &str, end: usize) -> bool {
    let near = after(text, end, AFTER);
    let clause = near.split(['.', '!', '?', '\n', ';', ',']).next();
    contains_ci(clause.unwrap_or_default(), "geboren")
}

/// How far after a date [`born_after`] looks, in bytes.
const AFTER: usize = 40;

pub(crate) static BIRTH_CONTEXT: Words = Words::new(&[
    "geb.", "geb ", "geb:", "geboren", "geburt", "dob", "born", "birth", "*",
]);

#[cfg(test)]
mod tests {
    use super::super::text::ascii_digits;
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        Dates::new()
            .map(|d| {
                d.detect(
                    text,
                    ascii_digits(text),
                    BIRTH_CONTEXT.occur_in(text),
                    &mut out,
                )
            })
            .ok();
        out.iter().map(|h| &text[h.start..h.end]).collect()
    }

    #[test]
    fn dates_with_birth_context_are_found() {
        assert_eq!(found("Geburtsdatum: 12.03.1985"), vec!["12.03.1985"]);
        assert_eq!(found("geb. 29. Mai 1980"), vec!["29. Mai 1980"]);
        assert_eq!(found("DOB 04/04/1957"), vec!["04/04/1957"]);
        assert_eq!(found("born on March 12, 1985"), vec!["March 12, 1985"]);
        assert_eq!(found("geboren am 1953-12-01 in Celle"), vec!["1953-12-01"]);
    }

    /// German puts the verb last: `geboren` after the date, in its clause.
    #[test]
    fn a_date_that_geboren_closes_is_a_birth_date() {
        assert_eq!(found("Ich bin am 3.4.1980 geboren."), vec!["3.4.1980"]);
        assert_eq!(
            found("Er wurde am 12. März 1975 in Dresden GEBOREN"),
            vec!["12. März 1975"]
        );
        // Another clause, or too far away.
        assert!(found("Termin am 12.05.2025. Geboren bin ich in Kiel").is_empty());
        assert!(found("Termin am 12.05.2025, das Kind ist geboren").is_empty());
        let far = format!("Am 12.05.2025 {} geboren", "x".repeat(AFTER));
        assert!(found(&far).is_empty());
    }

    #[test]
    fn ordinary_dates_are_not_birth_dates() {
        assert!(found("Lieferung am 12.03.2025").is_empty());
        assert!(found("wir feiern am 12.05. einen Geburtstag").is_empty());
        assert!(found("Geburtsdatum: 45.13.1985").is_empty());
    }
}
