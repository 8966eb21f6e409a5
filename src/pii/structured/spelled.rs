//! EMAIL_ADDRESS spelled out against address harvesters:
//! `anna.schmidt(at)web.de`, `max [at] firma [dot] de`,
//! `info at firma dot de`.
//!
//! The `@` is an `at` or `ät` in brackets (`(at)`, `[at]`, `{at}`,
//! `<at>`, with a space inside or around at most), or a plain ` at ` when
//! the dots of the domain are spelled too (`dot` or `punkt`, bracketed or
//! between spaces) and the domain ends in a common top-level domain. A
//! plain ` at ` before an ordinary domain is English (`bought it at
//! amazon.de`), not an address.
//!
//! The pattern runs only on texts where PERSON's word pass met a word that
//! every match holds ([`opens`]): an `at` or `ät` right after a bracket
//! (and at most one space), or a `dot` or `punkt`. So most texts never meet the
//! pattern, and the gate costs one bit in the word table (see
//! [`crate::pii::mentions`]).

use regex::Regex;

use crate::pii::text::next_char;
use crate::pii::{Hit, Label};

/// The words of a spelled-out address, lower case: every match of the
/// pattern holds one of them as a whole word (a run of letters).
pub(crate) const WORDS: [&str; 4] = ["at", "ät", "dot", "punkt"];

/// Top-level domains a plain ` at ` address may end in.
const PLAIN_TLDS: &[&str] = &[
    "de", "com", "net", "org", "eu", "at", "ch", "info", "io", "biz", "uk", "nl", "fr", "it", "es",
    "pl", "be", "dk", "se", "lu", "li",
];

/// Words that open a noun phrase: after a plain ` at ` they make English
/// or German prose (`look at this dot com bubble`), not a host name.
const PROSE_WORDS: &[&str] = &[
    "a", "an", "the", "this", "that", "these", "those", "my", "your", "his", "her", "its", "our",
    "their", "der", "die", "das", "dem", "den", "ein", "eine", "einem", "einer", "mein", "meine",
    "dein", "deine", "unser", "unsere", "ihr", "ihre", "sein", "seine",
];

/// The spelled-out address pattern.
#[derive(Debug)]
pub(crate) struct SpelledEmails {
    pattern: Regex,
}

// === impl SpelledEmails ===

impl SpelledEmails {
    pub(crate) fn new() -> Result<Self, regex::Error> {
        let bracketed = |words: &str| format!(r" ?[(\[{{<] ?(?:{words}) ?[)\]}}>] ?");
        let (at, dot) = (bracketed("at|ät"), bracketed("dot|punkt"));
        let spelled_dot = format!("(?:{dot}| (?:dot|punkt) )");
        let any_dot = format!(r"(?:\.|{spelled_dot})");
        let part = r"[\p{L}\p{N}_%+-][\p{L}\p{N}._%+-]*";
        let label = r"[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?";
        let tlds = PLAIN_TLDS.join("|");
        // Bracketed `at`: any dots. Plain ` at `: spelled dots only, in the
        // local part too (`sarah dot jones at gmail dot com`).
        let bracketed_at = format!(
            r"{part}(?:{dot}{part})*{at}{label}(?:{any_dot}{label})*{any_dot}\p{{L}}{{2,}}"
        );
        let plain_at = format!(
            r"{part}(?:{spelled_dot}{part})* at (?P<host>{label})(?:{spelled_dot}{label})*{spelled_dot}(?:{tlds})"
        );
        Ok(Self {
            pattern: Regex::new(&format!("(?i){bracketed_at}|{plain_at}"))?,
        })
    }

    /// Appends the spelled-out addresses in `text` to `out`. A match glued
    /// to a following letter or digit (`web.dex`) is none, and so is a
    /// plain ` at ` before a word of [`PROSE_WORDS`].
    pub(crate) fn detect(&self, text: &str, out: &mut Vec<Hit>) {
        for m in self.pattern.captures_iter(text) {
            let Some(whole) = m.get(0) else {
                continue;
            };
            let prose = m.name("host").is_some_and(|host| {
                PROSE_WORDS
                    .iter()
                    .any(|w| w.eq_ignore_ascii_case(host.as_str()))
            });
            if prose || next_char(text, whole.end()).is_some_and(char::is_alphanumeric) {
                continue;
            }
            out.push(Hit::new(
                Label::EmailAddress,
                whole.start(),
                whole.end(),
                0.85,
            ));
        }
    }
}

/// True if the run of letters that starts at byte `start` of `b` and is one
/// of [`WORDS`] (in any case) can be part of a match: `dot` and `punkt`
/// always, `at` and `ät` only right after an opening bracket and at most
/// one ASCII space.
pub(crate) fn opens(b: &[u8], start: usize) -> bool {
    if matches!(b.get(start), Some(b'd' | b'D' | b'p' | b'P')) {
        return true;
    }
    let head = b.get(..start).unwrap_or_default();
    let head = head.strip_suffix(b" ").unwrap_or(head);
    matches!(head.last(), Some(b'(' | b'[' | b'{' | b'<'))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        SpelledEmails::new().unwrap().detect(text, &mut out);
        out.iter().map(|h| &text[h.start..h.end]).collect()
    }

    #[test]
    fn bracketed_at_with_plain_or_spelled_dots_is_an_address() {
        for (text, address) in [
            (
                "Mail: anna.schmidt(at)web.de bitte",
                "anna.schmidt(at)web.de",
            ),
            (
                "schreib an max [at] firma [dot] de!",
                "max [at] firma [dot] de",
            ),
            ("J.Meier{AT}gmx(punkt)net.", "J.Meier{AT}gmx(punkt)net"),
            (
                "kontakt: jörg <at> müller-bau.de",
                "jörg <at> müller-bau.de",
            ),
            (
                "anna(dot)lena(at)t-online.de",
                "anna(dot)lena(at)t-online.de",
            ),
            ("an j.meier(ÄT)firma.de", "j.meier(ÄT)firma.de"),
        ] {
            assert_eq!(found(text), [address], "{text}");
        }
    }

    #[test]
    fn plain_at_needs_spelled_dots_and_a_common_top_level_domain() {
        assert_eq!(
            found("erreichbar unter info at firma dot de oder telefonisch"),
            ["info at firma dot de"]
        );
        assert_eq!(
            found("max at mail punkt example punkt com"),
            ["max at mail punkt example punkt com"]
        );
        assert_eq!(
            found("my email is sarah dot jones at gmail dot com"),
            ["sarah dot jones at gmail dot com"]
        );
        for text in [
            "I bought it at amazon.de last week",
            "see you at home dot",
            "we met at the dot party",
            "look at this dot xyzzy",
            "Look at this dot com bubble",
            "we are at the dot com party",
        ] {
            assert!(found(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn an_address_glued_to_more_letters_is_none() {
        assert!(found("anna(at)web.dex1").is_empty());
        assert!(found("anna(at)web.de1").is_empty());
    }

    #[test]
    fn the_gate_takes_dot_punkt_and_bracketed_at_only() {
        let yes = [
            ("x (at)", 3),
            ("x ( at)", 4),
            ("[at]", 1),
            ("{at", 1),
            ("<at", 1),
            ("dot", 0),
            ("Punkt", 0),
        ];
        for (text, start) in yes {
            assert!(opens(text.as_bytes(), start), "{text}");
        }
        for (text, start) in [("look at", 5), ("(  at", 3), ("x-at", 2), ("at", 0)] {
            assert!(!opens(text.as_bytes(), start), "{text}");
        }
    }

    proptest! {
        /// Every match holds one of [`WORDS`] as a whole run of letters at
        /// which the gate opens: the gate never hides an address.
        #[test]
        fn every_match_holds_a_word_the_gate_opens_at(
            parts in proptest::collection::vec(
                proptest::sample::select(vec![
                    "anna", "x", "1", ".", "-", " ", "(", ")", "[", "]", "<", ">", "{", "}",
                    "at", "AT", "ät", "dot", "Punkt", "de", "com", "ä", "_",
                ]),
                0..24,
            )
        ) {
            let text = parts.concat();
            let spelled = SpelledEmails::new().unwrap();
            for m in spelled.pattern.find_iter(&text) {
                let b = text.as_bytes();
                let gated = (m.start()..m.end()).any(|i| {
                    // Bytes outside ASCII count as letters, as PERSON's reader
                    // reads `ä`.
                    let letter = |c: &u8| c.is_ascii_alphabetic() || !c.is_ascii();
                    let at_run_start = i == 0 || !letter(&b[i - 1]);
                    WORDS.iter().any(|w| {
                        let end = i + w.len();
                        at_run_start
                            && b.get(i..end).is_some_and(|s| s.eq_ignore_ascii_case(w.as_bytes()))
                            && !b.get(end).is_some_and(letter)
                            && opens(b, i)
                    })
                });
                prop_assert!(gated, "{:?} in {:?}", m.as_str(), text);
            }
        }
    }
}
