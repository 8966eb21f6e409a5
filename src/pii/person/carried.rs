//! A name slot that a phrase opens for a later word than the next one:
//! after a sign-off with a place (`Grüße aus Köln`) the first word of the
//! next line, after a field label that starts with `Name` (`Name wie im
//! Pass`) the first word after its colon.

use super::{NAME_W, PAIR2, Prev, SIGN, Word};

/// A strong slot that a phrase opens for a later word than the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Carried {
    /// No phrase is open.
    None,
    /// After a sign-off with a place (`Grüße aus Köln`, `greetings from
    /// bremen`): the first word after a line break or comma, within the
    /// given number of words more.
    NextLine(u8),
    /// After a field label that starts with `Name` (`Name wie im Pass`,
    /// `name as in passport`): the first word after a colon on the same
    /// line, within the given number of words more.
    AfterColon(u8),
}

// === impl Carried ===

impl Carried {
    /// How many words a carried slot waits for its line break or colon.
    const WORDS: u8 = 4;

    /// True if the slot opens for the word at byte `s`, after the words
    /// `prev`.
    pub(super) fn opens(self, text: &str, prev: [Prev; 2], s: usize) -> bool {
        match self {
            Self::None => false,
            Self::NextLine(_) => gap(text, prev, s).contains(['\n', ',']),
            Self::AfterColon(_) => gap(text, prev, s).contains(':'),
        }
    }

    /// The state after the word `w` (with the words `prev` before it),
    /// where `opened` tells whether the slot opened for `w`.
    pub(super) fn after(self, text: &str, w: Word, prev: [Prev; 2], opened: bool) -> Self {
        if w.flags & NAME_W != 0 {
            return Self::AfterColon(Self::WORDS);
        }
        if prev[0].is_some_and(|p| p.2 & SIGN != 0) {
            let word = &text[w.start..w.end];
            if word.eq_ignore_ascii_case("aus") || word.eq_ignore_ascii_case("from") {
                return Self::NextLine(Self::WORDS);
            }
        }
        match self {
            Self::None => Self::None,
            _ if opened => Self::None,
            Self::NextLine(n) if n > 0 => Self::NextLine(n - 1),
            // An introduction (`Name ist`), a line break or a comma ends
            // the label.
            Self::AfterColon(n)
                if n > 0
                    && w.flags & PAIR2 == 0
                    && !gap(text, prev, w.start).contains(['\n', ',']) =>
            {
                Self::AfterColon(n - 1)
            }
            _ => Self::None,
        }
    }
}

/// The text between the word before (`prev[0]`) and byte `s`.
fn gap(text: &str, prev: [Prev; 2], s: usize) -> &str {
    prev[0].map_or("", |p| &text[p.1..s])
}
