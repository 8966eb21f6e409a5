//! Phone numbers: a permissive candidate pattern for the written forms
//! people use (matched by hand, see [`candidates`]), validated against
//! libphonenumber metadata (`phonenumber` crate, default region DE). Order,
//! invoice and product context rejects numbers that are valid by shape but
//! are references.

use phonenumber::country;
use regex::Regex;

use super::structured::{NEGATIVE_CONTEXT, context_score};
use super::text::{Facts, Words, before, next_char, prev_char};
use super::{Hit, Label};

mod candidates;
mod dialplan;

/// The phone-number detector.
#[derive(Debug)]
pub(crate) struct Phones {
    candidate: Regex,
    /// Fast, allocation-free validation from the same metadata.
    plans: dialplan::DialPlans,
}

// === impl Phones ===

impl Phones {
    pub(crate) fn new() -> Result<Self, regex::Error> {
        Ok(Self {
            candidate: Regex::new(CANDIDATE)?,
            plans: dialplan::DialPlans::new()?,
        })
    }

    /// Appends the validated phone numbers in `text` to `out`; `facts` are
    /// those of `text`.
    pub(crate) fn detect(&self, text: &str, facts: &Facts<'_>, out: &mut Vec<Hit>) {
        if facts.digits < 7 {
            return;
        }
        let earlier = out.len();
        for (start, mut end) in self.candidates(text, facts) {
            if prev_char(text, start).is_some_and(|c| c.is_alphanumeric() || c == '+') {
                continue;
            }
            // Inside a longer identifier already found (an IBAN's digit
            // groups): the longer finding wins the overlap anyway, so skip
            // the costly libphonenumber parse.
            let inside = out[..earlier].iter().any(|h| {
                h.start <= start && end <= h.end && h.end - h.start > end - start && h.score >= 0.4
            });
            if inside {
                continue;
            }
            // A trailing separator group can swallow the next number; trim
            // the last group when the whole does not validate.
            let mut tries = 0;
            while tries < 3 {
                if let Some(score) = self.score(text, start, end) {
                    out.push(Hit::new(Label::PhoneNumber, start, end, score));
                    break;
                }
                match text[start..end].rfind([' ', '-', '/', '.']) {
                    Some(i) if i > 4 => end = start + i,
                    _ => break,
                }
                tries += 1;
            }
        }
    }

    /// The candidate matches: found by hand, or by the regex when the text
    /// may hold decimal digits outside ASCII (see [`candidates`]).
    fn candidates<'t>(&'t self, text: &'t str, facts: &Facts<'_>) -> Candidates<'t> {
        if facts.rare.digit {
            Candidates::Regex(self.candidate.find_iter(text))
        } else {
            Candidates::Bytes(candidates::find_iter(text))
        }
    }

    fn score(&self, text: &str, start: usize, end: usize) -> Option<f32> {
        if next_char(text, end).is_some_and(|c| c.is_alphanumeric()) {
            return None;
        }
        let raw = &text[start..end];
        let digits = raw.bytes().filter(u8::is_ascii_digit).count();
        if !(7..=15).contains(&digits) || looks_like_date(raw) {
            return None;
        }
        if NEGATIVE_CONTEXT.occur_in(before(text, start, 30)) {
            return None;
        }
        self.valid(raw)
            .then(|| 0.7 + context_score(text, start, &PHONE_CONTEXT))
    }

    /// Whether the number exists: the compiled dial plans answer the plain
    /// national and international forms, libphonenumber everything else.
    fn valid(&self, raw: &str) -> bool {
        self.plans
            .valid(raw)
            .unwrap_or_else(|| parse_and_validate(raw))
    }
}

/// The candidate pattern: the written forms people use, loosely; the dial
/// plans decide. [`candidates`] matches it by hand.
const CANDIDATE: &str = r"(?x)
    (?: (?:\+|00)\d{1,3}[\ \-/.]?(?:\(0\)[\ ]?)? (?:\(\d{1,5}\)|\d{1,5})
      | \(0\d{1,5}\) | 0\d{1,5} )
    (?:(?:\ [/\-]\ |[\ \-/.])?\d{1,8}){1,5}";

/// Candidate byte ranges from one of the two matchers.
enum Candidates<'t> {
    Regex(regex::Matches<'t, 't>),
    Bytes(candidates::Iter<'t>),
}

impl Iterator for Candidates<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        match self {
            Self::Regex(m) => m.next().map(|m| (m.start(), m.end())),
            Self::Bytes(b) => b.next(),
        }
    }
}

/// Parses with region DE and asks libphonenumber whether the number exists.
fn parse_and_validate(raw: &str) -> bool {
    // `+49 (0)30 …`: the trunk zero in parentheses is a written convention
    // the parser does not know.
    let cleaned;
    let input = if raw.contains("(0)") {
        cleaned = raw.replacen("(0)", "", 1);
        cleaned.as_str()
    } else {
        raw
    };
    phonenumber::parse(Some(country::Id::DE), input).is_ok_and(|n| phonenumber::is_valid(&n))
}

/// `12.03.2024`-like strings are dates, not numbers.
fn looks_like_date(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() == 10 && b[2] == b[5] && matches!(b[2], b'.' | b'/' | b'-')
}

static PHONE_CONTEXT: Words = Words::new(&[
    "tel",
    "telefon",
    "handy",
    "mobil",
    "nummer",
    "anruf",
    "rückruf",
    "erreichbar",
    "whatsapp",
    "phone",
    "call",
    "number",
    "reach",
    "mobile",
    "fax",
]);

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        Phones::new()
            .map(|p| p.detect(text, &Facts::of(text), &mut out))
            .ok();
        out.iter().map(|h| &text[h.start..h.end]).collect()
    }

    #[test]
    fn german_written_forms_are_found() {
        for n in [
            "+49 151 23456789",
            "0151/23456789",
            "0151-234 567 89",
            "(030) 1234567",
            "0049 30 12345678",
            "+49 (0)30 12345678",
            "+49-170-5463523",
            "0221 / 98 76 54",
            "030 - 12345678",
        ] {
            assert_eq!(found(&format!("Tel: {n}, danke")), vec![n], "{n}");
        }
    }

    #[test]
    fn order_numbers_and_dates_are_not_phone_numbers() {
        assert!(found("Bestellung 0262827679 ist unterwegs").is_empty());
        assert!(found("am 12.03.2024 geliefert").is_empty());
        assert!(found("Preis 49,99 €").is_empty());
        assert!(found("Bestellung 0262 / 827679 ist unterwegs").is_empty());
        assert!(found("Sprechzeiten 08 - 12 Uhr").is_empty());
    }
}
