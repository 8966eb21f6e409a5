//! When the German street pattern need not run: a byte-level necessary
//! condition, checked at each house number instead of a pattern pass over
//! the whole text.
//!
//! Every match of the pattern is a street name followed by `\s?\d{1,4}…`,
//! and the name ends in one of two ways: with a street suffix (`…straße`,
//! `…weg`, `Str.`; the words of the `…er Straße` branch are suffixes too),
//! or with a word of letters and hyphens that follows a preposition and one
//! whitespace character (`Am Markt`). Its last character is a letter, `.`
//! or `-`, so the house number's first digit starts a run of digits.
//! [`StreetGate::name_ends`] checks these endings before every run of
//! ASCII digits, and nothing else: what it lets through, the pattern
//! decides. On the development corpus it lets 404 of the 2530 texts with
//! digits through; the pattern matches in 386.
//!
//! A name holds at most three `\s` (`an der alten Mühle`), so it starts
//! within the four runs of non-space bytes before its end
//! ([`name_window_start`]): the pattern is tried only there.
//!
//! The checks compare bytes, blind to the case of ASCII letters and of
//! `ä`, `ö`, `ü`. What they cannot see makes the answer "anywhere" without
//! looking ([`unseen`]): digits of other scripts (`\d` matches them), the
//! Unicode spaces beyond U+00A0, the case partners `K` and `ẞ` of `k` and
//! `ß`, and `ſ`, the long s that `(?i)` matches for `s`. The engine notes
//! such characters once per text ([`Rare`]).

use super::{STREET_PREPOSITIONS, STREET_SUFFIXES};
use crate::pii::text::{Facts, Rare, eight_bytes};

/// The street-name endings, as masked eight-byte words.
#[derive(Debug)]
pub(super) struct StreetGate {
    suffixes: Vec<Ending>,
    prepositions: Vec<Ending>,
}

/// Where street names can end, by [`StreetGate::name_ends`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameEnds {
    /// Anywhere: a character the byte checks cannot judge, or more ends
    /// than are kept.
    Anywhere,
    /// At the first `.1` of these byte offsets, in text order.
    At([usize; ENDS_KEPT], usize),
}

/// How many name ends [`NameEnds`] keeps (no corpus text has more than 4).
const ENDS_KEPT: usize = 8;

/// The last (up to) eight bytes of a word, placed where they end an
/// eight-byte word read from the text (see [`tail`]), and the mask that
/// compares them: case-blind for ASCII letters and for the second byte of
/// `ä`, `ö`, `ü` (whose capitals differ from them in bit `0x20` only).
/// Longer words are compared on their last eight bytes, which lets a few
/// more texts through and never fewer.
#[derive(Clone, Copy, Debug)]
struct Ending {
    mask: u64,
    value: u64,
}

// === impl StreetGate ===

impl StreetGate {
    pub(super) fn new() -> Self {
        let endings = |words: &[&str]| words.iter().map(|w| Ending::of(w.as_bytes())).collect();
        Self {
            suffixes: endings(STREET_SUFFIXES),
            prepositions: endings(STREET_PREPOSITIONS),
        }
    }

    /// Where a German street name can end in `text`: before the house
    /// numbers where one of the endings fits, or anywhere.
    pub(crate) fn name_ends(&self, text: &str, facts: &Facts<'_>) -> NameEnds {
        if unseen(&facts.rare) {
            return NameEnds::Anywhere;
        }
        let b = text.as_bytes();
        let mut ends = NameEnds::At([0; ENDS_KEPT], 0);
        for (digit, _, _) in facts.runs.iter() {
            let end = if self.name_ends_at(b, digit) {
                Some(digit)
            } else {
                space_before(b, digit).filter(|&e| self.name_ends_at(b, e))
            };
            if let Some(end) = end {
                ends.push(end);
            }
        }
        ends
    }

    /// True if a street name can end at byte `e`: a suffix ends there, or a
    /// word after a preposition does.
    fn name_ends_at(&self, b: &[u8], e: usize) -> bool {
        // Every suffix and every word ends with a letter, `.` or `-`.
        match b[..e].last() {
            Some(&c) if c.is_ascii_alphabetic() || c == b'.' || c == b'-' || !c.is_ascii() => {}
            _ => return false,
        }
        if ends_with_any(&self.suffixes, tail(b, e)) {
            return true;
        }
        let start = word_start(&b[..e]);
        start < e
            && space_before(b, start).is_some_and(|p| ends_with_any(&self.prepositions, tail(b, p)))
    }
}

// === impl NameEnds ===

impl NameEnds {
    /// False only if no street name can end in the text.
    #[cfg(test)]
    pub(crate) fn any(&self) -> bool {
        !matches!(self, Self::At(_, 0))
    }

    fn push(&mut self, end: usize) {
        if let Self::At(ends, len) = self {
            match ends.get_mut(*len) {
                Some(slot) => {
                    *slot = end;
                    *len += 1;
                }
                None => *self = Self::Anywhere,
            }
        }
    }
}

// === impl Ending ===

impl Ending {
    fn of(word: &[u8]) -> Self {
        let last = &word[word.len().saturating_sub(8)..];
        let (mut mask, mut value) = ([0u8; 8], [0u8; 8]);
        let from = 8 - last.len();
        for (k, &c) in last.iter().enumerate() {
            let umlaut = k > 0 && last[k - 1] == 0xC3 && matches!(c, 0xA4 | 0xB6 | 0xBC);
            let blind = c.is_ascii_lowercase() || umlaut;
            mask[from + k] = if blind { !0x20 } else { 0xFF };
            value[from + k] = if blind { c & !0x20 } else { c };
        }
        Self {
            mask: u64::from_le_bytes(mask),
            value: u64::from_le_bytes(value),
        }
    }
}

/// True if the bytes in `tail` end with one of `endings`. Every ending is
/// compared (no early exit), so the loop runs without branches.
fn ends_with_any(endings: &[Ending], tail: u64) -> bool {
    endings
        .iter()
        .fold(false, |hit, e| hit | (tail & e.mask == e.value))
}

/// The eight bytes of `b` that end at byte `e` as one little-endian word
/// (the byte before `e` is the highest), zero-filled below the text's start.
fn tail(b: &[u8], e: usize) -> u64 {
    if let Some(word) = e.checked_sub(8).and_then(|from| eight_bytes(b, from)) {
        return word;
    }
    // Fewer than eight bytes before `e`: shift them in one by one.
    b[..e]
        .iter()
        .fold(0, |word, &c| (word >> 8) | (u64::from(c) << 56))
}

/// True if a text with the rare characters `rare` has one the byte checks
/// cannot judge: a digit other than ASCII, a space other than ASCII,
/// U+0085 and U+00A0, or a case partner of a suffix or preposition letter
/// that is not a Latin-1 capital (`ſ`, the Kelvin sign `K`, `ẞ`).
pub(super) fn unseen(rare: &Rare) -> bool {
    rare.digit || rare.space || rare.folds || rare.capital_sharp_s
}

/// Where the one `\s` character that ends right before byte `at` starts:
/// ASCII whitespace (with `\v`), U+0085 or U+00A0 (the others start with a
/// byte from `D9` up, which [`unseen`] answers before).
fn space_before(b: &[u8], at: usize) -> Option<usize> {
    match &b[..at] {
        [.., 0xC2, 0x85 | 0xA0] => Some(at - 2),
        [.., c] if c.is_ascii_whitespace() || *c == 0x0B => Some(at - 1),
        _ => None,
    }
}

/// Where the run of letters and hyphens that ends `head` starts. Every
/// byte outside ASCII counts as a letter but the two of U+0085 and
/// U+00A0, so the run covers at least the pattern's `\p{L}[\p{L}\-]*`, and
/// exactly that when a whitespace character precedes the pattern's word.
fn word_start(head: &[u8]) -> usize {
    let mut i = head.len();
    while i > 0 {
        let c = head[i - 1];
        let wide_space = i >= 2 && head[i - 2] == 0xC2 && matches!(c, 0x85 | 0xA0);
        if wide_space || !(c.is_ascii_alphabetic() || c == b'-' || !c.is_ascii()) {
            break;
        }
        i -= 1;
    }
    i
}

/// How far before the name end `e` a street name can start: at the start
/// of the fourth run of non-space bytes that ends at or before `e`. The
/// pattern's names hold at most three single `\s` (`an der alten Mühle`),
/// each between two words. Spaces outside ASCII, U+0085 and U+00A0 are
/// read as run bytes, which only widens the window (and [`unseen`]
/// sends texts with them to the whole-text search anyway).
pub(crate) fn name_window_start(b: &[u8], e: usize) -> usize {
    let mut i = e;
    for run in 1..=NAME_RUNS {
        while i > 0 && space_before(b, i).is_none() {
            i -= 1;
        }
        match space_before(b, i) {
            Some(space) if run < NAME_RUNS => i = space,
            _ => break,
        }
    }
    i
}

/// The most runs of non-space bytes a street name spans.
const NAME_RUNS: usize = 4;
