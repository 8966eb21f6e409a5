//! [`Words`] and [`WordSets`]: fixed lists of context words (`bestell`,
//! `telefon`, `geboren am` …) and whether they occur in a text, ASCII case
//! folded.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

use super::any_ci;

/// A fixed list of context words (`bestell`, `telefon`, `geboren am` …),
/// compiled on first use into one small ASCII-case-insensitive automaton:
/// a context window is read once, not once per word.
#[derive(Debug)]
pub(crate) struct Words {
    list: &'static [&'static str],
    automaton: OnceLock<Option<AhoCorasick>>,
}

impl Words {
    pub(crate) const fn new(list: &'static [&'static str]) -> Self {
        Self {
            list,
            automaton: OnceLock::new(),
        }
    }

    /// True if any of the words occurs in `hay` (ASCII case-insensitive).
    pub(crate) fn occur_in(&self, hay: &str) -> bool {
        let automaton = self.automaton.get_or_init(|| {
            AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .kind(Some(AhoCorasickKind::DFA))
                .build(self.list)
                .ok()
        });
        match automaton {
            Some(ac) => ac.is_match(hay),
            // Unreachable for the built-in lists; stay correct regardless.
            None => any_ci(hay, self.list),
        }
    }
}

/// Several [`Words`] lists read in one pass: which of them occur in a text.
/// For lists that gate a whole detector, so a text is scanned once for all
/// of them instead of once per list.
///
/// The text is ASCII-lower-cased into a stack buffer, a window at a time,
/// and searched with a SIMD multi-substring searcher (Teddy) where the CPU
/// has one: about twice as fast as the case-folding automaton, which reads
/// a table per byte.
#[derive(Debug)]
pub(crate) struct WordSets<const N: usize> {
    sets: [&'static Words; N],
    searcher: OnceLock<Option<SetSearcher>>,
}

/// The compiled form of a [`WordSets`].
#[derive(Debug)]
struct SetSearcher {
    /// Every word of two bytes or more, lower-cased; pattern `i` is `words[i]`.
    packed: aho_corasick::packed::Searcher,
    /// Every word (lower-cased) with its list.
    words: Vec<(Box<[u8]>, usize)>,
    /// One-byte words (`*`), looked for with `memchr`, with their lists.
    bytes: Vec<(u8, usize)>,
    /// The longest word, in bytes.
    max_len: usize,
}

/// Bytes of text lower-cased and searched at a time by [`WordSets`];
/// consecutive windows overlap by a word's length, so no word is cut.
const WINDOW: usize = 256;

impl<const N: usize> WordSets<N> {
    pub(crate) const fn new(sets: [&'static Words; N]) -> Self {
        Self {
            sets,
            searcher: OnceLock::new(),
        }
    }

    /// For each list, whether any of its words occurs in `hay` (the same
    /// answer as each list's [`Words::occur_in`]).
    pub(crate) fn occur_in(&self, hay: &str) -> [bool; N] {
        let Some(s) = self.searcher.get_or_init(|| self.build()) else {
            // No SIMD searcher on this CPU (or words too long for a window).
            return self.sets.map(|s| s.occur_in(hay));
        };
        let mut found = [false; N];
        let mut buf = [0u8; WINDOW];
        let step = WINDOW - (s.max_len - 1);
        let mut from = 0;
        while from < hay.len() {
            let window = hay.as_bytes().get(from..(from + WINDOW).min(hay.len()));
            let window = window.unwrap_or_default();
            let lowered = buf.get_mut(..window.len()).unwrap_or_default();
            lowered.copy_from_slice(window);
            lowered.make_ascii_lowercase();
            s.mark(lowered, &mut found);
            if found.iter().all(|&f| f) || from + WINDOW >= hay.len() {
                break;
            }
            from += step;
        }
        found
    }

    fn build(&self) -> Option<SetSearcher> {
        let mut words = Vec::new();
        let mut bytes = Vec::new();
        for (i, set) in self.sets.iter().enumerate() {
            for w in set.list {
                match w.as_bytes().to_ascii_lowercase()[..] {
                    [b] => bytes.push((b, i)),
                    ref word => words.push((word.into(), i)),
                }
            }
        }
        let max_len = words
            .iter()
            .map(|(w, _): &(Box<[u8]>, usize)| w.len())
            .max()?;
        if max_len > WINDOW / 2 {
            return None;
        }
        let packed = aho_corasick::packed::Config::new()
            .builder()
            .extend(words.iter().map(|(w, _)| w))
            .build()?;
        Some(SetSearcher {
            packed,
            words,
            bytes,
            max_len,
        })
    }
}

impl SetSearcher {
    /// Marks in `found` the lists with a word in the lower-cased `hay`.
    fn mark<const N: usize>(&self, hay: &[u8], found: &mut [bool; N]) {
        for &(b, set) in &self.bytes {
            if memchr::memchr(b, hay).is_some()
                && let Some(f) = found.get_mut(set)
            {
                *f = true;
            }
        }
        let mut from = 0;
        while let Some(m) = self
            .packed
            .find_in(hay, aho_corasick::Span::from(from..hay.len()))
        {
            // The searcher reports one word per position; another list's
            // word may start there too, so every word is compared.
            let rest = hay.get(m.start()..).unwrap_or_default();
            for (word, set) in &self.words {
                if rest.starts_with(word)
                    && let Some(f) = found.get_mut(*set)
                {
                    *f = true;
                }
            }
            from = m.start() + 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    static A: Words = Words::new(&["geboren", "geb.", "*"]);
    static B: Words = Words::new(&["ssw", "schwanger"]);
    static C: Words = Words::new(&["auto", "kfz", "schw"]);
    static ALL: WordSets<3> = WordSets::new([&A, &B, &C]);

    proptest! {
        /// Word sets answer like each list on its own, in any ASCII case,
        /// in texts longer than a window, and where words of two lists
        /// start at one position (`schwanger` and `schw`).
        #[test]
        fn word_sets_answer_like_each_list_anywhere(
            pieces in proptest::collection::vec(
                prop_oneof![
                    proptest::sample::select(vec!["Geboren", "GEB.", "*", "SSW", "schwanger", "AUTO", "kfz", "ü"])
                        .prop_map(str::to_owned),
                    "[a-z .]{1,40}",
                ],
                0..30,
            ),
        ) {
            let hay: String = pieces.concat();
            prop_assert_eq!(ALL.occur_in(&hay), [&A, &B, &C].map(|w| w.occur_in(&hay)), "{}", hay);
        }
    }

    #[test]
    fn words_across_a_window_border_are_found() {
        for at in WINDOW - 12..WINDOW + 4 {
            for word in ["SCHWANGER", "kfz", "geb."] {
                let hay = format!("{}{word} ", "x".repeat(at));
                let each = [&A, &B, &C].map(|w| w.occur_in(&hay));
                assert_eq!(ALL.occur_in(&hay), each, "{word} at {at}");
            }
        }
    }

    #[test]
    fn word_sets_answer_like_each_list() {
        for hay in [
            "",
            "Geb. am 3.4.",
            "in der 12. SSW, Auto",
            "kfz",
            "nichts hier",
            "Schwangerschaft",
        ] {
            assert_eq!(
                ALL.occur_in(hay),
                [&A, &B, &C].map(|w| w.occur_in(hay)),
                "{hay}"
            );
        }
    }
}
