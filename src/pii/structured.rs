//! Detectors for identifiers with a fixed shape: candidates come from one
//! regex per shape, and only candidates that pass the check digit (or the
//! parser) become findings. Context words move the score.

use std::net::{Ipv4Addr, Ipv6Addr};

use regex::Regex;

use super::checks;
use super::text::{
    Words, ascii_word, before, compact, digit_run, find_digit, isolated, next_char, prev_char,
};
use super::{Hit, Label};

/// Compiled regexes for the structured identifiers.
#[derive(Debug)]
pub(crate) struct Structured {
    email: Regex,
    iban: Regex,
    card: Regex,
    tax: Regex,
    vat: Regex,
    rvnr: Regex,
    kvnr: Regex,
    doc: Regex,
    ipv4: Regex,
    ipv6: Regex,
}

// === impl Structured ===

impl Structured {
    pub(crate) fn new() -> Result<Self, regex::Error> {
        Ok(Self {
            email: Regex::new(
                r"[\p{L}\p{N}_%+-][\p{L}\p{N}._%+-]*@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)*\.\p{L}{2,}",
            )?,
            iban: Regex::new(r"(?i)(?-u:\b)[a-z]{2}\d{2}(?:[ -]?[a-z0-9]){11,30}")?,
            card: Regex::new(
                r"(?-u:\b)(?:\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}(?:[ -]\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{13,19})(?-u:\b)",
            )?,
            tax: Regex::new(
                r"(?-u:\b)(?:\d{11}|\d{2} \d{3} \d{3} \d{3}|\d{3} \d{3} \d{3} \d{2})(?-u:\b)",
            )?,
            vat: Regex::new(r"(?-u:\b)(?:DE|de) ?(?:\d{9}|\d{3} \d{3} \d{3})(?-u:\b)")?,
            rvnr: Regex::new(r"(?i)(?-u:\b)\d{2}[ -]?\d{6}[ -]?[a-z][ -]?\d{2}[ -]?\d(?-u:\b)")?,
            kvnr: Regex::new(r"(?i)(?-u:\b)[a-z]\d{9}(?-u:\b)")?,
            doc: Regex::new(r"(?i)(?-u:\b)[cfghjklmnprtvwxyz][0-9cfghjklmnprtvwxyz]{8}\d(?-u:\b)")?,
            ipv4: Regex::new(r"(?-u:\b)(?:\d{1,3}\.){3}\d{1,3}(?-u:\b)")?,
            ipv6: Regex::new(r"(?i)(?:[0-9a-f]{1,4}|:)(?::[0-9a-f]{0,4}){2,7}")?,
        })
    }

    /// Appends all structured findings in `text` to `out`; `digits` is the
    /// number of ASCII digits in `text`.
    pub(crate) fn detect(&self, text: &str, digits: usize, out: &mut Vec<Hit>) {
        if digits == 0 {
            // Every shape but an e-mail address has digits.
            if text.contains('@') {
                self.emails(text, out);
            }
            return;
        }
        // One byte pass notes what candidates can exist; a regex pass runs
        // only if its shape is possible (each gate is implied by its regex).
        let p = Shape::of(text);
        if p.at {
            self.emails(text, out);
        }
        if digits >= 9 {
            if p.iban_start {
                self.ibans(text, out);
            }
            if p.card_groups || (13..=19).any(|n| p.digit_run(n)) {
                self.cards(text, out);
            }
            if p.digit_run(11) || p.tax_groups {
                self.tax_ids(text, out);
            }
            if p.vat_start {
                self.vat_ids(text, out);
            }
            if p.rvnr_letter && (p.digit_run(8) || (p.digit_run(2) && p.digit_run(6))) {
                self.rvnrs(text, out);
            }
            if p.kvnr_word {
                self.kvnrs(text, out);
            }
        }
        if p.document_word {
            self.documents(text, out);
        }
        if p.dotted_digits >= 3 {
            self.ipv4s(text, out);
        }
        if p.hex_colons {
            self.ipv6s(text, out);
        }
    }

    fn emails(&self, text: &str, out: &mut Vec<Hit>) {
        for m in self.email.find_iter(text) {
            out.push(Hit::new(Label::EmailAddress, m.start(), m.end(), 0.95));
        }
    }

    fn ibans(&self, text: &str, out: &mut Vec<Hit>) {
        for m in self.iban.find_iter(text) {
            let Some(end) = iban_end(m.as_str()).map(|n| m.start() + n) else {
                continue;
            };
            let raw = &text[m.start()..end];
            if isolated(text, m.start(), end) && checks::iban(raw) {
                out.push(Hit::new(Label::IbanCode, m.start(), end, 1.0));
            }
        }
    }

    fn cards(&self, text: &str, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 24];
        for m in self.card.find_iter(text) {
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

    fn tax_ids(&self, text: &str, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.tax.find_iter(text) {
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

    fn vat_ids(&self, text: &str, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.vat.find_iter(text) {
            let Some(chars) = compact(m.as_str(), &mut buf) else {
                continue;
            };
            if isolated(text, m.start(), m.end()) && checks::vat_id(&chars[2..]) {
                out.push(Hit::new(Label::DeVatId, m.start(), m.end(), 0.95));
            }
        }
    }

    fn rvnrs(&self, text: &str, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.rvnr.find_iter(text) {
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

    fn kvnrs(&self, text: &str, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.kvnr.find_iter(text) {
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

    fn documents(&self, text: &str, out: &mut Vec<Hit>) {
        let mut buf = [0u8; 16];
        for m in self.doc.find_iter(text) {
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
            let passport = matches!(chars[0], b'C' | b'F' | b'G' | b'H' | b'J' | b'K');
            let (label, words) = if passport {
                (Label::DePassport, &PASSPORT_CONTEXT)
            } else {
                (Label::DeIdCard, &ID_CONTEXT)
            };
            let ctx = context_score(text, m.start(), words);
            let base = if mixed { 0.6 } else { 0.45 };
            out.push(Hit::new(label, m.start(), m.end(), base + ctx));
        }
    }

    fn ipv4s(&self, text: &str, out: &mut Vec<Hit>) {
        for m in self.ipv4.find_iter(text) {
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

/// What one pass over the bytes says about possible candidates. Every
/// flag is implied by the regex it gates, so a false flag skips a regex
/// pass without changing what is found.
#[derive(Clone, Copy, Debug, Default)]
struct Shape {
    at: bool,
    /// Two colons with at most four ASCII hex digits between them (`::`,
    /// `:db8:`): the IPv6 pattern needs a pair.
    hex_colons: bool,
    /// Occurrences of digit `.` digit (IPv4 needs three).
    dotted_digits: u8,
    /// A word starting with two letters and two digits (`DE89…`).
    iban_start: bool,
    /// A word starting with `DE`/`de` and a digit, or `DE`/`de`, a space
    /// and a digit.
    vat_start: bool,
    /// A run of 4 digits, `-` or space, then a run of 4 or 6 (card groups).
    card_groups: bool,
    /// A run of 3 digits, a space, a run of 3 (Steuer-ID groups).
    tax_groups: bool,
    /// A run of six or eight digits followed by an ASCII letter, directly
    /// or after a space or hyphen (`12 345678 A…`, `12345678A…`). The
    /// RVNR pattern's letter may also match `K` (Kelvin) or `ſ`, but the
    /// check digit reads ASCII letters only, so such a match is never kept.
    rvnr_letter: bool,
    /// A ten-character word: a letter and nine digits (KVNR).
    kvnr_word: bool,
    /// A ten-character word: a letter first and a digit last (ID card,
    /// passport).
    document_word: bool,
    /// Bit n: a maximal run of n ASCII digits (n ≤ 63).
    digit_runs: u64,
}

impl Shape {
    /// Visits only the words that hold a digit (every flag but `at` and
    /// `hex_colons` needs one), found by a search for the next digit eight
    /// bytes at a time; `@` and `:` are looked for with `memchr`.
    fn of(text: &str) -> Self {
        let b = text.as_bytes();
        let mut p = Self {
            at: memchr::memchr(b'@', b).is_some(),
            hex_colons: hex_colon_pair(b),
            ..Self::default()
        };
        // End and length of the previous digit run.
        let mut prev = (0, 0);
        let mut i = 0;
        while let Some(digit) = find_digit(b, i) {
            let mut word = digit;
            while word > i && ascii_word(b[word - 1]) {
                word -= 1;
            }
            p.vat_start |= spaced_vat_prefix(b, word);
            i = p.word(b, word, &mut prev);
            let dotted = b[i - 1].is_ascii_digit()
                && b.get(i) == Some(&b'.')
                && b.get(i + 1).is_some_and(u8::is_ascii_digit);
            p.dotted_digits = p.dotted_digits.saturating_add(u8::from(dotted));
        }
        p
    }

    /// Notes the word starting at byte `word` and its digit runs; `prev` is
    /// the end and length of the digit run before. Returns the word's end.
    fn word(&mut self, b: &[u8], word: usize, prev: &mut (usize, usize)) -> usize {
        self.word_start(&b[word..]);
        let (mut i, mut word_digits) = (word, 0);
        while i < b.len() && ascii_word(b[i]) {
            if !b[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let run = i;
            let len = digit_run(b, run);
            i += len;
            word_digits += len;
            self.digit_runs |= 1 << len.min(63);
            let (prev_end, prev_len) = *prev;
            let sep = if prev_end + 1 == run { b[prev_end] } else { 0 };
            self.card_groups |= prev_len == 4 && matches!(sep, b' ' | b'-') && matches!(len, 4 | 6);
            self.rvnr_letter |= matches!(len, 6 | 8) && letter_after(b, i);
            self.tax_groups |= prev_len == 3 && sep == b' ' && len == 3;
            *prev = (i, len);
        }
        if i - word == 10 && b[word].is_ascii_alphabetic() {
            self.kvnr_word |= word_digits == 9;
            self.document_word |= b[i - 1].is_ascii_digit();
        }
        i
    }

    fn word_start(&mut self, w: &[u8]) {
        let at = |k: usize| w.get(k).copied().unwrap_or(0);
        self.iban_start |= at(0).is_ascii_alphabetic()
            && at(1).is_ascii_alphabetic()
            && at(2).is_ascii_digit()
            && at(3).is_ascii_digit();
        self.vat_start |=
            matches!((at(0), at(1)), (b'D', b'E') | (b'd', b'e')) && at(2).is_ascii_digit();
    }

    fn digit_run(&self, n: usize) -> bool {
        self.digit_runs & (1 << n) != 0
    }
}

/// True if two colons in `b` have at most four ASCII hex digits between
/// them.
fn hex_colon_pair(b: &[u8]) -> bool {
    let mut prev = None;
    memchr::memchr_iter(b':', b).any(|at| {
        let pair = prev
            .is_some_and(|p: usize| at - p <= 5 && b[p + 1..at].iter().all(u8::is_ascii_hexdigit));
        prev = Some(at);
        pair
    })
}

/// True if an ASCII letter is at byte `i` of `b`, or at `i + 1` after a
/// space or hyphen.
fn letter_after(b: &[u8], i: usize) -> bool {
    match b.get(i) {
        Some(c) if c.is_ascii_alphabetic() => true,
        Some(b' ' | b'-') => b.get(i + 1).is_some_and(u8::is_ascii_alphabetic),
        _ => false,
    }
}

/// `DE ` or `de ` as a word of its own right before byte `word`: the
/// spaced VAT form (`DE 123456789`). Only a digit word can follow it in a
/// VAT id, so the digit search finds every such prefix.
fn spaced_vat_prefix(b: &[u8], word: usize) -> bool {
    word >= 3
        && b[word - 1] == b' '
        && matches!(&b[word - 3..word - 1], b"DE" | b"de")
        && (word == 3 || !ascii_word(b[word - 4]))
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

#[cfg(test)]
mod tests;
