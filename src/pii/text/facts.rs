//! What the engine learns about a text once, before the detectors run
//! ([`Facts`]): its runs of ASCII digits, and the rare characters outside
//! ASCII that Unicode patterns read like ASCII digits, letters or spaces
//! ([`Rare`]). Several detectors gate on both; reading them once saves a
//! pass per detector.

use super::{DigitRunList, bytes_equal, bytes_from_d9, find_marked};

/// The per-text facts the detectors share.
pub(crate) struct Facts<'t> {
    /// The runs of ASCII digits.
    pub(crate) runs: DigitRunList<'t>,
    /// How many ASCII digits the text has.
    pub(crate) digits: usize,
    /// Which rare characters it has.
    pub(crate) rare: Rare,
}

/// Which characters outside ASCII, that a pattern may read like ASCII, a
/// text holds. Each flag is "false only if there is none".
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Rare {
    /// A decimal digit of another script (what `\d` matches beyond
    /// `0-9`); decoded characters are judged by [`char::is_numeric`], a
    /// superset.
    pub(crate) digit: bool,
    /// A whitespace character other than ASCII, U+0085 and U+00A0.
    pub(crate) space: bool,
    /// The Kelvin sign or the long s, which `(?i)` matches for `k`, `s`.
    pub(crate) folds: bool,
    /// `ẞ`, which `(?i)` matches for `ß`.
    pub(crate) capital_sharp_s: bool,
}

// === impl Facts ===

impl<'t> Facts<'t> {
    pub(crate) fn of(text: &'t str) -> Self {
        let runs = DigitRunList::of(text);
        Self {
            digits: runs.digit_count(),
            runs,
            rare: Rare::of(text),
        }
    }

    /// False only if no Unicode `\d` can match in the text.
    pub(crate) fn any_digit(&self) -> bool {
        self.digits > 0 || self.rare.digit
    }
}

// === impl Rare ===

impl Rare {
    /// Reads `text` eight bytes at a time for the bytes that can start such
    /// a character: `C5` (the long s is `C5 BF`) and those from `D9` up
    /// (the first decimal digit outside ASCII is U+0660, `D9 A0`; the
    /// spaces, the Kelvin sign and `ẞ` come later). Umlauts and the
    /// Latin-1 signs are passed over. The blocks chat text uses most are
    /// answered from their bytes: general punctuation, currency and
    /// letter-like symbols (`E2`, which holds no decimal digit), and the
    /// emoji (`F0 9F` up to U+1FBEF, none of them a digit or a space).
    /// Other characters are decoded.
    pub(crate) fn of(text: &str) -> Self {
        let mut rare = Self::default();
        if text.is_ascii() {
            return rare;
        }
        let lead = |chunk| bytes_from_d9(chunk) | bytes_equal(chunk, 0xC5);
        let b = text.as_bytes();
        let mut from = 0;
        while let Some(at) = find_marked(b, from, lead) {
            match b[at..] {
                [0xC5, next, ..] => rare.folds |= next == 0xBF,
                [0xE2, 0x80, c, ..] => rare.space |= c <= 0x8A || matches!(c, 0xA8 | 0xA9 | 0xAF),
                [0xE2, 0x81, 0x9F, ..] => rare.space = true,
                [0xE2, 0x84, 0xAA, ..] => rare.folds = true,
                [0xE2, ..] => {}
                [0xF0, 0x9F, third, ..] if third < 0xAF => {}
                _ => rare.note(text.get(at..).and_then(|t| t.chars().next())),
            }
            from = at + 1;
        }
        rare
    }

    fn note(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.digit |= c.is_numeric();
            self.space |= c.is_whitespace();
            self.capital_sharp_s |= c == 'ẞ';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-character text `c`.
    fn rare(c: char) -> Rare {
        Rare::of(c.encode_utf8(&mut [0u8; 4]))
    }

    /// Every character outside ASCII that `\d`, `\s` or an ASCII letter
    /// under `(?i)` matches sets its flag (U+0085 and U+00A0 aside).
    #[test]
    fn every_character_a_pattern_reads_like_ascii_is_seen() {
        let (Ok(digit), Ok(space), Ok(letter)) = (
            regex::Regex::new(r"^\d$"),
            regex::Regex::new(r"^\s$"),
            regex::Regex::new(r"(?i)^[a-z]$"),
        ) else {
            panic!("the test patterns compile");
        };
        let mut buf = [0u8; 4];
        for c in '\u{80}'..=char::MAX {
            let s = c.encode_utf8(&mut buf);
            let r = Rare::of(s);
            assert!(!digit.is_match(s) || r.digit, "{c:?}");
            let wide = !matches!(c, '\u{85}' | '\u{a0}');
            assert!(!space.is_match(s) || !wide || r.space, "{c:?}");
            assert!(!letter.is_match(s) || r.folds, "{c:?}");
        }
        assert!(rare('ẞ').capital_sharp_s);
    }

    #[test]
    fn common_chat_characters_are_not_rare() {
        for text in ["Grüße, „Preis“ – 5 € 😀 ½ ² ß Łódź", "plain ascii 123", ""]
        {
            assert_eq!(Rare::of(text), Rare::default(), "{text}");
        }
        let mixed = Rare::of("x ١٢ \u{2003} ſ y");
        assert!(mixed.digit && mixed.space && mixed.folds && !mixed.capital_sharp_s);
    }

    #[test]
    fn facts_count_digits_and_see_other_scripts_digits() {
        let f = Facts::of("Tel 030 1234, im ١٢.");
        assert_eq!((f.digits, f.runs.iter().count()), (7, 2));
        assert!(f.any_digit());
        assert!(Facts::of("im ١٢.").any_digit());
        assert!(!Facts::of("Keine Ziffer, nur Wörter, Grüße ½ ²").any_digit());
    }
}
