//! One pass over the bytes of a text with digits: which structured
//! patterns can match at all ([`Shape`]'s flags), and the word starts where
//! the patterns that begin a word can match ([`WordStarts`]), so each is tried
//! there, anchored, instead of over the whole text.

use crate::pii::text::{DigitRunList, Rare, ascii_word, digit_run};

/// What one pass over the bytes says about possible candidates. Every
/// flag is implied by the regex it gates, so a false flag skips a regex
/// pass without changing what is found.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Shape {
    pub(super) at: bool,
    /// Two colons with at most four ASCII hex digits between them (`::`,
    /// `:db8:`): the IPv6 pattern needs a pair.
    pub(super) hex_colons: bool,
    /// Occurrences of digit `.` digit (IPv4 needs three).
    pub(super) dotted_digits: u8,
    /// A word starting with two letters and two digits (`DE89…`).
    pub(super) iban_start: bool,
    /// A word starting with `DE`/`de` and a digit, or `DE`/`de`, a space
    /// and a digit.
    pub(super) vat_start: bool,
    /// A run of 4 digits, `-` or space, then a run of 4 or 6 (card groups).
    pub(super) card_groups: bool,
    /// A run of 3 digits, a space, a run of 3 (Steuer-ID groups).
    pub(super) tax_groups: bool,
    /// A run of six or eight digits followed by an ASCII letter, directly
    /// or after a space or hyphen (`12 345678 A…`, `12345678A…`). The
    /// RVNR pattern's letter may also match `K` (Kelvin) or `ſ`, but the
    /// check digit reads ASCII letters only, so such a match is never kept.
    pub(super) rvnr_letter: bool,
    /// A ten-character word: a letter and nine digits (KVNR).
    pub(super) kvnr_word: bool,
    /// A ten-character word: a letter first and a digit last (ID card,
    /// passport).
    pub(super) document_word: bool,
    /// A nine-character word with a digit, a letter first (the number
    /// printed on an ID card or passport, without its check digit).
    pub(super) document_nine: bool,
    /// Bit n: a maximal run of n ASCII digits (n ≤ 63).
    pub(super) digit_runs: u64,
    /// Where the anchored patterns can match.
    pub(super) starts: WordStarts,
}

impl Shape {
    /// Visits only the words that hold a digit (every flag but `at` and
    /// `hex_colons` needs one), found from the digit `runs` of `text` (a
    /// word's first digit starts a run); `@` and `:` are looked for with
    /// `memchr`.
    pub(super) fn of(text: &str, runs: &DigitRunList<'_>) -> Self {
        let b = text.as_bytes();
        let mut p = Self {
            at: memchr::memchr(b'@', b).is_some(),
            hex_colons: hex_colon_pair(b),
            ..Self::default()
        };
        // End and length of the previous digit run.
        let mut prev = (0, 0);
        let mut i = 0;
        for (digit, _, _) in runs.iter() {
            if digit < i {
                // Inside the word just visited.
                continue;
            }
            let mut word = digit;
            while word > i && ascii_word(b[word - 1]) {
                word -= 1;
            }
            if spaced_vat_prefix(b, word) {
                p.vat_start = true;
                p.starts.push(word - 3, VAT);
            }
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
    pub(super) fn word(&mut self, b: &[u8], word: usize, prev: &mut (usize, usize)) -> usize {
        let mut kinds = kinds(&b[word..]);
        self.iban_start |= kinds & IBAN != 0;
        self.vat_start |= kinds & VAT != 0;
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
            kinds |= TEN;
        }
        if i - word == 9 && b[word].is_ascii_alphabetic() && word_digits > 0 {
            self.document_nine = true;
            kinds |= NINE;
        }
        self.starts.push(word, kinds);
        i
    }

    pub(super) fn digit_run(&self, n: usize) -> bool {
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

/// Up to [`WordStarts::CAPACITY`] word starts where a structured pattern can
/// match, in ascending order, each with the patterns it suits (a bit set
/// of [`DIGIT_FIRST`], [`IBAN`], [`VAT`], [`TEN`], [`NINE`]). Unlike
/// [`crate::pii::mentions::Starts`], which serves one list, each start here
/// carries the patterns it suits, and words arrive in text order.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct WordStarts {
    at: [(u16, u8); Self::CAPACITY],
    len: u8,
    /// More starts than fit (or one beyond `u16`): search everywhere.
    overflow: bool,
}

/// A word that starts with an ASCII digit (cards, tax ids, RVNR, IPv4).
pub(super) const DIGIT_FIRST: u8 = 1;
/// A word that starts with two ASCII letters and two digits (IBAN).
pub(super) const IBAN: u8 = 1 << 1;
/// `DE`/`de` and a digit, or `DE `/`de ` before a digit word (VAT id).
pub(super) const VAT: u8 = 1 << 2;
/// A ten-byte word starting with an ASCII letter (KVNR, ID card, passport).
pub(super) const TEN: u8 = 1 << 3;
/// A nine-byte word starting with an ASCII letter (a document number
/// without its check digit).
pub(super) const NINE: u8 = 1 << 4;

impl WordStarts {
    const CAPACITY: usize = 16;

    fn push(&mut self, at: usize, kinds: u8) {
        if kinds == 0 {
            return;
        }
        let slot = self.at.get_mut(usize::from(self.len));
        match (slot, u16::try_from(at)) {
            (Some(slot), Ok(at)) => {
                *slot = (at, kinds);
                self.len += 1;
            }
            _ => self.overflow = true,
        }
    }

    /// These starts, or `None` if a pattern must be searched for in the
    /// whole text they were taken from, whose rare characters are `rare`:
    /// there were more starts than fit, or the text holds a character that
    /// the patterns' Unicode case folding or `\d` takes for an ASCII letter
    /// or digit (the Kelvin sign for `k`, the long s for `s`, another
    /// script's decimal digit), so a match may begin where no ASCII word
    /// does.
    pub(super) fn usable(&self, rare: &Rare) -> Option<&Self> {
        (!self.overflow && !rare.folds && !rare.digit).then_some(self)
    }

    /// The starts that suit a pattern of `kind`.
    pub(super) fn of_kind(&self, kind: u8) -> impl Iterator<Item = usize> + '_ {
        let listed = self.at.get(..usize::from(self.len)).unwrap_or_default();
        let suits = move |&(at, kinds): &(u16, u8)| (kinds & kind != 0).then_some(usize::from(at));
        listed.iter().filter_map(suits)
    }
}

/// The patterns a word at the start of `w` suits, by its first bytes
/// ([`TEN`] and [`NINE`] are for the caller, which knows the word's length).
fn kinds(w: &[u8]) -> u8 {
    let at = |k: usize| w.get(k).copied().unwrap_or(0);
    let mut kinds = 0;
    if at(0).is_ascii_digit() {
        kinds |= DIGIT_FIRST;
    }
    if at(0).is_ascii_alphabetic()
        && at(1).is_ascii_alphabetic()
        && at(2).is_ascii_digit()
        && at(3).is_ascii_digit()
    {
        kinds |= IBAN;
    }
    if matches!((at(0), at(1)), (b'D', b'E') | (b'd', b'e')) && at(2).is_ascii_digit() {
        kinds |= VAT;
    }
    kinds
}
