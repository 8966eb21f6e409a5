//! Detectors for identifiers with a fixed shape: candidates come from one
//! regex per shape, and only candidates that pass the check digit (or the
//! parser) become findings. Context words move the score. A byte pass
//! ([`shape`]) tells which patterns can match and, for those that start a
//! word, at which word starts.

use std::net::{Ipv4Addr, Ipv6Addr};

use regex::Regex;

use super::checks;
use super::text::{Facts, Words, before, compact, isolated, next_char, prev_char};
use super::{Hit, Label};
use shape::{DIGIT_FIRST, IBAN, NINE, Shape, TEN, VAT, WordStarts};

/// Compiled regexes for the structured identifiers.
#[derive(Debug)]
pub(crate) struct Structured {
    email: Regex,
    iban: Pattern,
    card: Pattern,
    tax: Pattern,
    vat: Pattern,
    rvnr: Pattern,
    kvnr: Pattern,
    doc: Pattern,
    doc_nine: Pattern,
    ipv4: Pattern,
    ipv6: Regex,
    spelled_emails: spelled::SpelledEmails,
}

/// A pattern that starts a word, in two forms: for a whole-text search,
/// and anchored (`^(?:…)`), for matching at the word starts [`Shape`]
/// lists. An anchored match reads the few bytes of the match; the search
/// read the whole text, and the text before the match a second time
/// backwards (see docs/pii.md, eleventh pass).
#[derive(Debug)]
struct Pattern {
    anywhere: Regex,
    anchored: Regex,
    /// The word starts that suit this pattern.
    kind: u8,
}

/// The matches of a [`Pattern`], left to right.
enum Spans<'r, 't, I> {
    Anywhere(regex::Matches<'r, 't>),
    At {
        anchored: &'r Regex,
        text: &'t str,
        starts: I,
        /// The end of the last match: a start before it is inside it.
        resume: usize,
    },
}

// === impl Structured ===

impl Structured {
    pub(crate) fn new() -> Result<Self, regex::Error> {
        Ok(Self {
            email: Regex::new(
                r"[\p{L}\p{N}_%+-][\p{L}\p{N}._%+-]*@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}",
            )?,
            iban: Pattern::new(r"(?i)(?-u:\b)[a-z]{2}\d{2}(?:[ -]?[a-z0-9]){11,30}", IBAN)?,
            card: Pattern::new(
                r"(?-u:\b)(?:\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}(?:[ -]\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{13,19})(?-u:\b)",
                DIGIT_FIRST,
            )?,
            tax: Pattern::new(
                r"(?-u:\b)(?:\d{11}|\d{2} \d{3} \d{3} \d{3}|\d{3} \d{3} \d{3} \d{2})(?-u:\b)",
                DIGIT_FIRST,
            )?,
            vat: Pattern::new(
                r"(?-u:\b)(?:DE|de) ?(?:\d{9}|\d{3} \d{3} \d{3})(?-u:\b)",
                VAT,
            )?,
            rvnr: Pattern::new(
                r"(?i)(?-u:\b)\d{2}[ -]?\d{6}[ -]?[a-z][ -]?\d{2}[ -]?\d(?-u:\b)",
                DIGIT_FIRST,
            )?,
            kvnr: Pattern::new(r"(?i)(?-u:\b)[a-z]\d{9}(?-u:\b)", TEN)?,
            doc: Pattern::new(
                r"(?i)(?-u:\b)[cfghjklmnprtvwxyz][0-9cfghjklmnprtvwxyz]{8}\d(?-u:\b)",
                TEN,
            )?,
            doc_nine: Pattern::new(
                r"(?i)(?-u:\b)[cfghjklmnprtvwxyz][0-9cfghjklmnprtvwxyz]{8}(?-u:\b)",
                NINE,
            )?,
            ipv4: Pattern::new(r"(?-u:\b)(?:\d{1,3}\.){3}\d{1,3}(?-u:\b)", DIGIT_FIRST)?,
            ipv6: Regex::new(r"(?i)(?:[0-9a-f]{1,4}|:)(?::[0-9a-f]{0,4}){2,7}")?,
            spelled_emails: spelled::SpelledEmails::new()?,
        })
    }

    /// Appends all structured findings in `text` to `out`; `facts` are
    /// those of `text`.
    pub(crate) fn detect(&self, text: &str, facts: &Facts<'_>, out: &mut Vec<Hit>) {
        let digits = facts.digits;
        if digits == 0 {
            // Every shape but an e-mail address has digits.
            if text.contains('@') {
                self.emails(text, out);
            }
            return;
        }
        // One byte pass notes what candidates can exist; a regex runs only
        // if its shape is possible (each gate is implied by its regex), and
        // where it can start if that is known.
        let p = Shape::of(text, &facts.runs);
        if p.at {
            self.emails(text, out);
        }
        let starts = if digits >= 9 || p.document_word || p.document_nine || p.dotted_digits >= 3 {
            p.starts.usable(&facts.rare)
        } else {
            None
        };
        if digits >= 9 {
            if p.iban_start {
                self.ibans(text, starts, out);
            }
            if p.card_groups || (13..=19).any(|n| p.digit_run(n)) {
                self.cards(text, starts, out);
            }
            if p.digit_run(11) || p.tax_groups {
                self.tax_ids(text, starts, out);
            }
            if p.vat_start {
                self.vat_ids(text, starts, out);
            }
            if p.rvnr_letter && (p.digit_run(8) || (p.digit_run(2) && p.digit_run(6))) {
                self.rvnrs(text, starts, out);
            }
            if p.kvnr_word {
                self.kvnrs(text, starts, out);
            }
        }
        if p.document_word {
            self.documents(text, starts, out);
        }
        if p.document_nine {
            self.short_documents(text, starts, out);
        }
        if p.dotted_digits >= 3 {
            self.ipv4s(text, starts, out);
        }
        if p.hex_colons {
            self.ipv6s(text, out);
        }
    }

    /// Appends the spelled-out e-mail addresses in `text` (`anna(at)web.de`)
    /// to `out`: for texts where PERSON's word pass met a word that opens
    /// one (see [`spelled`]).
    pub(crate) fn spelled_emails(&self, text: &str, out: &mut Vec<Hit>) {
        self.spelled_emails.detect(text, out);
    }

    fn emails(&self, text: &str, out: &mut Vec<Hit>) {
        for m in self.email.find_iter(text) {
            out.push(Hit::new(Label::EmailAddress, m.start(), m.end(), 0.95));
        }
    }

    fn ibans(&self, text: &str, starts: Option<&WordStarts>, out: &mut Vec<Hit>) {
        for m in self.iban.spans(text, starts) {
            let Some(end) = iban_end(m.as_str()).map(|n| m.start() + n) else {
                continue;
            };
            let raw = &text[m.start()..end];
            if isolated(text, m.start(), end) && checks::iban(raw) {
                out.push(Hit::new(Label::IbanCode, m.start(), end, 1.0));
            }
        }
    }

    fn cards(&self, text: &str, starts: Option<&WordStarts>, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 24];
        for m in self.card.spans(text, starts) {
            let Some(digits) = compact(m.as_str(), &mut buf) else {
                continue;
            };
            if glued_to_number(text, m.start(), m.end()) {
                continue;
            }
            if checks::luhn(m.as_str()) && checks::card_issuer_ok(digits) {
                let ctx = context_score(text, m.start(), &CARD_CONTEXT);
                out.push(Hit::new(Label::CreditCard, m.start(), m.end(), 0.8 + ctx));
            }
        }
    }

    fn tax_ids(&self, text: &str, starts: Option<&WordStarts>, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.tax.spans(text, starts) {
            let Some(digits) = compact(m.as_str(), &mut buf) else {
                continue;
            };
            if glued_to_number(text, m.start(), m.end()) || !checks::tax_id(digits) {
                continue;
            }
            if NEGATIVE_CONTEXT.occur_in(before(text, m.start(), 40)) {
                continue;
            }
            let ctx = context_score(text, m.start(), &TAX_CONTEXT);
            out.push(Hit::new(Label::DeTaxId, m.start(), m.end(), 0.7 + ctx));
        }
    }

    fn vat_ids(&self, text: &str, starts: Option<&WordStarts>, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.vat.spans(text, starts) {
            let Some(chars) = compact(m.as_str(), &mut buf) else {
                continue;
            };
            if isolated(text, m.start(), m.end()) && checks::vat_id(&chars[2..]) {
                out.push(Hit::new(Label::DeVatId, m.start(), m.end(), 0.95));
            }
        }
    }

    fn rvnrs(&self, text: &str, starts: Option<&WordStarts>, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.rvnr.spans(text, starts) {
            let Some(chars) = compact(m.as_str(), &mut buf) else {
                continue;
            };
            if !glued_to_number(text, m.start(), m.end()) && checks::rvnr(chars) {
                let ctx = context_score(text, m.start(), &RVNR_CONTEXT);
                out.push(Hit::new(
                    Label::DeSocialSecurity,
                    m.start(),
                    m.end(),
                    0.8 + ctx,
                ));
            }
        }
    }

    fn kvnrs(&self, text: &str, starts: Option<&WordStarts>, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.kvnr.spans(text, starts) {
            let Some(chars) = compact(m.as_str(), &mut buf) else {
                continue;
            };
            if checks::kvnr(chars) && !NEGATIVE_CONTEXT.occur_in(before(text, m.start(), 30)) {
                let ctx = context_score(text, m.start(), &KVNR_CONTEXT);
                out.push(Hit::new(
                    Label::DeHealthInsurance,
                    m.start(),
                    m.end(),
                    0.6 + ctx,
                ));
            }
        }
    }

    fn documents(&self, text: &str, starts: Option<&WordStarts>, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.doc.spans(text, starts) {
            // Ten ASCII characters: the pattern's case folding also takes
            // the Kelvin sign for `k`, and its `\d` other scripts' digits,
            // which `compact` drops; such a match is no document number.
            let Some(chars) = compact(m.as_str(), &mut buf).filter(|c| c.len() == 10) else {
                continue;
            };
            let mixed = chars.iter().any(u8::is_ascii_digit)
                && chars[1..9].iter().any(u8::is_ascii_alphabetic);
            if !checks::icao(chars) || NEGATIVE_CONTEXT.occur_in(before(text, m.start(), 30)) {
                continue;
            }
            let (label, words) = if passport_letter(chars[0]) {
                (Label::DePassport, &PASSPORT_CONTEXT)
            } else {
                (Label::DeIdCard, &ID_CONTEXT)
            };
            let ctx = context_score(text, m.start(), words);
            let base = if mixed { 0.6 } else { 0.45 };
            out.push(Hit::new(label, m.start(), m.end(), base + ctx));
        }
    }

    /// The nine characters printed on an ID card or passport, without the
    /// check digit of the machine-readable zone (`L01X00T47`): nothing to
    /// check, so only with a document word (`Ausweis`, `Reisepass`,
    /// `ID card`) within 40 bytes before. The first letter tells passport
    /// from ID card.
    fn short_documents(&self, text: &str, starts: Option<&WordStarts>, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.doc_nine.spans(text, starts) {
            let Some(chars) = compact(m.as_str(), &mut buf).filter(|c| c.len() == 9) else {
                continue;
            };
            let context = before(text, m.start(), 40);
            if !chars.iter().any(u8::is_ascii_digit)
                || !DOCUMENT_CONTEXT.occur_in(context)
                || NEGATIVE_CONTEXT.occur_in(before(text, m.start(), 30))
            {
                continue;
            }
            let label = if passport_letter(chars[0]) {
                Label::DePassport
            } else {
                Label::DeIdCard
            };
            out.push(Hit::new(label, m.start(), m.end(), 0.75));
        }
    }

    fn ipv4s(&self, text: &str, starts: Option<&WordStarts>, out: &mut Vec<Hit>) {
        for m in self.ipv4.spans(text, starts) {
            let dotted = |c: Option<char>| c == Some('.');
            if dotted(prev_char(text, m.start())) || continues_number(text, m.end()) {
                continue;
            }
            if m.as_str().parse::<Ipv4Addr>().is_err() {
                continue;
            }
            if VERSION_CONTEXT.occur_in(before(text, m.start(), 25)) {
                continue;
            }
            out.push(Hit::new(Label::IpAddress, m.start(), m.end(), 0.9));
        }
    }

    fn ipv6s(&self, text: &str, out: &mut Vec<Hit>) {
        for m in self.ipv6.find_iter(text) {
            let hexish = |c: char| c.is_ascii_hexdigit() || c == ':';
            if prev_char(text, m.start()).is_some_and(hexish) {
                continue;
            }
            let s = m.as_str();
            let trimmed = if s.ends_with(':') && !s.ends_with("::") {
                &s[..s.len() - 1]
            } else {
                s
            };
            if trimmed.bytes().filter(|&b| b == b':').count() < 2 {
                continue;
            }
            if trimmed.parse::<Ipv6Addr>().is_ok() {
                out.push(Hit::new(
                    Label::IpAddress,
                    m.start(),
                    m.start() + trimmed.len(),
                    0.9,
                ));
            }
        }
    }
}

// === impl Pattern ===

impl Pattern {
    fn new(pattern: &str, kind: u8) -> Result<Self, regex::Error> {
        Ok(Self {
            anywhere: Regex::new(pattern)?,
            anchored: Regex::new(&format!("^(?:{pattern})"))?,
            kind,
        })
    }

    /// The matches a whole-text search finds, left to right. With `starts`
    /// (no match can begin elsewhere), the anchored form is tried at each
    /// start that suits the pattern and is not inside the last match: the
    /// leftmost match at or after a point begins at the first start after
    /// it where the pattern matches, and is the match found there.
    fn spans<'r, 't, 's>(
        &'r self,
        text: &'t str,
        starts: Option<&'s WordStarts>,
    ) -> Spans<'r, 't, impl Iterator<Item = usize> + 's> {
        match starts {
            Some(starts) => Spans::At {
                anchored: &self.anchored,
                text,
                starts: starts.of_kind(self.kind),
                resume: 0,
            },
            None => Spans::Anywhere(self.anywhere.find_iter(text)),
        }
    }
}

impl<'t, I: Iterator<Item = usize>> Iterator for Spans<'_, 't, I> {
    type Item = Found<'t>;

    fn next(&mut self) -> Option<Found<'t>> {
        let (anchored, text, starts, resume) = match self {
            Spans::Anywhere(matches) => {
                return matches.next().map(|m| Found {
                    text: m.as_str(),
                    start: m.start(),
                });
            }
            Spans::At {
                anchored,
                text,
                starts,
                resume,
            } => (anchored, *text, starts, resume),
        };
        // Each start begins a word (the byte before it is no word byte), so
        // the pattern's leading `\b` holds at the start of the slice exactly
        // where it holds in the text, and the slice runs to the text's end.
        for start in starts.by_ref() {
            if start < *resume {
                continue;
            }
            if let Some(m) = text.get(start..).and_then(|rest| anchored.find(rest)) {
                *resume = start + m.end();
                return Some(Found {
                    text: m.as_str(),
                    start,
                });
            }
        }
        None
    }
}

/// A match of a [`Pattern`]: its text and where it starts.
#[derive(Clone, Copy, Debug)]
struct Found<'t> {
    text: &'t str,
    start: usize,
}

impl<'t> Found<'t> {
    fn start(&self) -> usize {
        self.start
    }

    fn end(&self) -> usize {
        self.start + self.text.len()
    }

    fn as_str(&self) -> &'t str {
        self.text
    }
}

/// Byte length of the IBAN at the start of `s` (its country's length in
/// alphanumerics), if `s` holds that many.
fn iban_end(s: &str) -> Option<usize> {
    let cc = s.get(..2)?.as_bytes();
    let want = checks::iban_length(&[cc[0].to_ascii_uppercase(), cc[1].to_ascii_uppercase()])?;
    let mut seen = 0;
    for (i, b) in s.bytes().enumerate() {
        if b.is_ascii_alphanumeric() {
            seen += 1;
            if seen == want {
                return Some(i + 1);
            }
        }
    }
    None
}

/// True if the match continues a longer number (`1234 5678` glued on by a
/// separator and more digits), which makes it part of something else.
fn glued_to_number(text: &str, start: usize, end: usize) -> bool {
    if !isolated(text, start, end) {
        return true;
    }
    let sep_digit_before = {
        let b = before(text, start, 2).as_bytes();
        b.len() == 2 && b[1] == b'-' && b[0].is_ascii_digit()
    };
    sep_digit_before || continues_number(text, end)
}

fn continues_number(text: &str, end: usize) -> bool {
    let rest = text.as_bytes().get(end..).unwrap_or(&[]);
    matches!(rest, [b'.' | b'-' | b'/' | b',', d, ..] if d.is_ascii_digit())
        || next_char(text, end).is_some_and(|c| c.is_ascii_digit())
}

/// 0.0–0.3 extra score if a context word is within 40 bytes before `start`.
pub(crate) fn context_score(text: &str, start: usize, words: &Words) -> f32 {
    if words.occur_in(before(text, start, 40)) {
        0.3
    } else {
        0.0
    }
}

static CARD_CONTEXT: Words = Words::new(&["karte", "card", "visa", "mastercard", "amex", "kredit"]);
static TAX_CONTEXT: Words = Words::new(&["steuer", "tax", "idnr", "identifikationsnummer", "tin"]);
static RVNR_CONTEXT: Words = Words::new(&[
    "sozialvers",
    "sv-n",
    "rentenvers",
    "social security",
    "pension",
    "versicherungsnummer",
    "rvnr",
]);
static KVNR_CONTEXT: Words = Words::new(&[
    "kv-n",
    "kk-n",
    "versicherten",
    "vers.-nr",
    "krankenk",
    "health insurance",
    "insurance",
    "egk",
    "gesundheitskarte",
    "kasse",
]);
static PASSPORT_CONTEXT: Words = Words::new(&["pass", "reisepass"]);
static ID_CONTEXT: Words = Words::new(&[
    "ausweis", "id card", "id-card", "identity", "perso", "karte",
]);
/// True if a document number starting with `first` (upper case) is a
/// passport's; the other letters of the alphabet start ID card numbers.
fn passport_letter(first: u8) -> bool {
    matches!(first, b'C' | b'F' | b'G' | b'H' | b'J' | b'K')
}

/// Words that name an identity document, for a number without a check
/// digit. Not a bare `pass`, which `passt` and `Passwort` hold.
static DOCUMENT_CONTEXT: Words = Words::new(&[
    "ausweis",
    "perso",
    "id card",
    "id-card",
    "identity card",
    "reisepass",
    "passnummer",
    "pass-nr",
    "pass nr",
    "passport",
]);
static VERSION_CONTEXT: Words =
    Words::new(&["version", "firmware", "update", " v.", "build", "release"]);
/// Words that make a number an order, invoice, ticket or tracking reference.
pub(crate) static NEGATIVE_CONTEXT: Words = Words::new(&[
    "bestell",
    "order",
    "auftrag",
    "rechnung",
    "invoice",
    "ticket",
    "sendung",
    "tracking",
    "kundennummer",
    "kunden-nr",
    "customer",
    "vertrag",
    "contract",
    "zähler",
    "meter",
    "artikel",
    "art.-nr",
    "product",
    "ean",
    "gutschein",
    "voucher",
    "referenz",
    "reference",
    "mandat",
]);

mod shape;
pub(crate) mod spelled;
#[cfg(test)]
mod tests;
