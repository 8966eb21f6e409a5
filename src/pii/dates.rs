//! DATE_OF_BIRTH: a plausible calendar date with birth context just before
//! it (`geb.`, `geboren am`, `Geburtsdatum`, `DOB`, `born`, `date of birth`).
//! Delivery and appointment dates have no such context and stay unflagged.

use regex::Regex;

use super::text::{any_ci, before};
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

    /// Appends dates of birth in `text` to `out`.
    pub(crate) fn detect(&self, text: &str, out: &mut Vec<Hit>) {
        if !text.bytes().any(|b| b.is_ascii_digit()) {
            return;
        }
        for c in self.date.captures_iter(text) {
            let Some(m) = c.get(0) else { continue };
            if !plausible(&c) {
                continue;
            }
            if any_ci(before(text, m.start(), 32), BIRTH_CONTEXT) {
                out.push(Hit::new(Label::DateOfBirth, m.start(), m.end(), 0.9));
            }
        }
    }
}

/// Day 1–31 and month 1–12 for the numeric forms.
fn plausible(c: &regex::Captures<'_>) -> bool {
    let num = |n: &str| c.name(n).and_then(|m| m.as_str().parse::<u32>().ok());
    for (d, m) in [("d1", "m1"), ("d2", "m2"), ("d3", "m3")] {
        if let (Some(day), Some(month)) = (num(d), num(m)) {
            let dm = (1..=31).contains(&day) && (1..=12).contains(&month);
            // US order (month/day) for the slash form.
            let md = d == "d3" && (1..=12).contains(&day) && (1..=31).contains(&month);
            return dm || md;
        }
    }
    true
}

const BIRTH_CONTEXT: &[&str] = &[
    "geb.", "geb ", "geb:", "geboren", "geburt", "dob", "born", "birth", "*",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        Dates::new().map(|d| d.detect(text, &mut out)).ok();
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

    #[test]
    fn ordinary_dates_are_not_birth_dates() {
        assert!(found("Lieferung am 12.03.2025").is_empty());
        assert!(found("wir feiern am 12.05. einen Geburtstag").is_empty());
        assert!(found("Geburtsdatum: 45.13.1985").is_empty());
    }
}
