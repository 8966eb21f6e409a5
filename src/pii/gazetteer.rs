//! Word lists read as "the longest entry at each position" ([`LongestAt`]:
//! an Aho-Corasick automaton for whole texts, a small table grouped by
//! first bytes for single offsets), and town-style lists
//! matched on whole words with ASCII case folding (plus lower-cased variants
//! of entries that start with an umlaut, which ASCII folding does not
//! cover) ([`Gazetteer`]).

use aho_corasick::{
    AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, BuildError, Input, Match, MatchKind,
    PatternID,
};

use super::text::isolated;

/// A compiled word list that answers, for a position, the longest entry
/// starting there (ASCII case folded).
#[derive(Debug)]
pub(crate) struct LongestAt {
    /// For the whole-text search ([`LongestAt::each`] without starts).
    ac: AhoCorasick,
    /// For single offsets ([`LongestAt::at`]).
    by_prefix: ByPrefix,
}

/// The entries of a [`LongestAt`], grouped by their first two bytes (ASCII
/// lower-cased), longest first, for the longest entry at one offset. It
/// is a few kilobytes, so a lookup reads cached lines; the automaton, a
/// full DFA of a megabyte or more, mostly misses the cache when asked at
/// one offset per word (see docs/pii.md, eleventh pass).
#[derive(Debug)]
struct ByPrefix {
    /// Every entry, ASCII lower-cased, back to back.
    bytes: Vec<u8>,
    /// Entries of two bytes or more, grouped by prefix; in a group, longest
    /// first, and of equal length in pattern order (the automaton's
    /// leftmost-longest choice).
    entries: Vec<Entry>,
    /// Open addressing: `slots[hash(prefix)..]` finds a group of `entries`.
    slots: Vec<Group>,
    /// Entries shorter than two bytes, longest first.
    short: Vec<Entry>,
}

/// One entry of a [`ByPrefix`]: its bytes in `bytes` and its pattern.
#[derive(Clone, Copy, Debug)]
struct Entry {
    start: u32,
    len: u32,
    pattern: PatternID,
}

/// A group of [`ByPrefix::entries`] with the same first two bytes.
#[derive(Clone, Copy, Debug)]
struct Group {
    /// The two bytes, or [`Group::EMPTY`] for a free slot.
    prefix: u32,
    from: u32,
    to: u32,
}

/// A compiled word list matched on whole words.
#[derive(Debug)]
pub(crate) struct Gazetteer {
    entries: LongestAt,
}

// === impl LongestAt ===

impl LongestAt {
    pub(crate) fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Result<Self, BuildError> {
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            // A full DFA: one table lookup per byte (the NFA default for
            // large pattern sets is several times slower on chat text).
            .kind(Some(AhoCorasickKind::DFA))
            .build(patterns)?;
        let by_prefix = ByPrefix::new(patterns);
        Ok(Self { ac, by_prefix })
    }

    /// The longest entry that starts at byte `at` (a character boundary).
    pub(crate) fn at(&self, text: &str, at: usize) -> Option<Match> {
        self.by_prefix.longest_at(text.as_bytes(), at)
    }

    /// Left to right, the longest entry at each position is offered to
    /// `keep`. If it keeps it, the next entry is looked for after it; if
    /// not, from the next position on (an entry that is not kept hides
    /// nothing behind it).
    ///
    /// `starts`, in ascending order, are the only offsets where `keep` can
    /// keep an entry; each is then tried on its own, which reads a few bytes
    /// of a large table instead of the whole text. `None` searches the
    /// whole text.
    pub(crate) fn each(
        &self,
        text: &str,
        starts: Option<&[usize]>,
        mut keep: impl FnMut(Match) -> bool,
    ) {
        let Some(starts) = starts else {
            let mut from = 0;
            while let Some(m) = self.ac.find(Input::new(text).span(from..text.len())) {
                from = if keep(m) { m.end() } else { m.start() + 1 };
            }
            return;
        };
        let mut resume = 0;
        for &at in starts {
            if at < resume {
                continue;
            }
            if let Some(m) = self.at(text, at)
                && keep(m)
            {
                resume = m.end();
            }
        }
    }
}

// === impl ByPrefix ===

impl ByPrefix {
    fn new<P: AsRef<[u8]>>(patterns: &[P]) -> Self {
        let mut bytes = Vec::new();
        let (mut entries, mut short) = (Vec::new(), Vec::new());
        for (i, p) in patterns.iter().enumerate() {
            let p = p.as_ref();
            // Every index is valid: the automaton was built from `patterns`.
            let (Ok(start), Ok(len), Ok(pattern)) = (
                u32::try_from(bytes.len()),
                u32::try_from(p.len()),
                PatternID::new(i),
            ) else {
                continue;
            };
            bytes.extend(p.iter().map(u8::to_ascii_lowercase));
            let entry = Entry {
                start,
                len,
                pattern,
            };
            if p.len() >= 2 {
                &mut entries
            } else {
                &mut short
            }
            .push(entry);
        }
        let mut table = Self {
            bytes,
            entries,
            slots: Vec::new(),
            short,
        };
        table.group();
        table
    }

    /// Sorts the entries into groups and fills the slots.
    fn group(&mut self) {
        let bytes = &self.bytes;
        let prefix = |e: &Entry| {
            let at = e.start as usize;
            bytes.get(at..at + 2).map_or(0, |b| prefix_of(b[0], b[1]))
        };
        let order = |e: &Entry| (std::cmp::Reverse(e.len), e.pattern);
        self.entries.sort_by_key(|e| (prefix(e), order(e)));
        self.short.sort_by_key(order);
        let mut groups: Vec<Group> = Vec::new();
        for (i, e) in (0u32..).zip(&self.entries) {
            match groups.last_mut() {
                Some(g) if g.prefix == prefix(e) => g.to = i + 1,
                _ => groups.push(Group {
                    prefix: prefix(e),
                    from: i,
                    to: i + 1,
                }),
            }
        }
        let size = (groups.len() * 2).next_power_of_two().max(2);
        self.slots = vec![Group::EMPTY; size];
        for g in groups {
            let mut i = self.slot_of(g.prefix);
            while self.slots[i].prefix != Group::EMPTY.prefix {
                i = (i + 1) & (size - 1);
            }
            self.slots[i] = g;
        }
    }

    /// The first slot to look at for `prefix`.
    fn slot_of(&self, prefix: u32) -> usize {
        let hash = prefix.wrapping_mul(0x9E37_79B1) as usize;
        (hash >> 8) & (self.slots.len() - 1)
    }

    /// The group of entries that start with `prefix` (empty if none).
    fn group_of(&self, prefix: u32) -> &[Entry] {
        let mut i = self.slot_of(prefix);
        loop {
            let Some(&g) = self.slots.get(i) else {
                return &[];
            };
            if g.prefix == prefix {
                return self
                    .entries
                    .get(g.from as usize..g.to as usize)
                    .unwrap_or(&[]);
            }
            if g.prefix == Group::EMPTY.prefix {
                return &[];
            }
            i = (i + 1) & (self.slots.len() - 1);
        }
    }

    /// The longest entry that starts at byte `at` of `hay`.
    fn longest_at(&self, hay: &[u8], at: usize) -> Option<Match> {
        let rest = hay.get(at..)?;
        let group = match rest {
            [a, b, ..] => self.group_of(prefix_of(*a, *b)),
            _ => &[],
        };
        let e = group
            .iter()
            .chain(&self.short)
            .find(|e| self.entry_starts(e, rest))?;
        Some(Match::new(e.pattern, at..at + e.len as usize))
    }

    /// True if `rest` starts with entry `e` (ASCII case folded).
    fn entry_starts(&self, e: &Entry, rest: &[u8]) -> bool {
        let (start, len) = (e.start as usize, e.len as usize);
        match (self.bytes.get(start..start + len), rest.get(..len)) {
            (Some(entry), Some(text)) => entry.eq_ignore_ascii_case(text),
            _ => false,
        }
    }
}

impl Group {
    /// A free slot: no two bytes give this prefix.
    const EMPTY: Self = Self {
        prefix: u32::MAX,
        from: 0,
        to: 0,
    };
}

/// The group key of an entry or text starting with bytes `a`, `b`.
fn prefix_of(a: u8, b: u8) -> u32 {
    u32::from(a.to_ascii_lowercase()) << 8 | u32::from(b.to_ascii_lowercase())
}

// === impl Gazetteer ===

impl Gazetteer {
    /// Builds from a data file: one entry per line, `#` starts a comment.
    pub(crate) fn from_lines(data: &str) -> Result<Self, BuildError> {
        let entries: Vec<&str> = lines(data).collect();
        let mut patterns = Vec::with_capacity(entries.len() * 2);
        for e in &entries {
            patterns.push((*e).to_owned());
            let lower = e.to_lowercase();
            if !lower.eq_ignore_ascii_case(e) {
                patterns.push(lower);
            }
        }
        Ok(Self {
            entries: LongestAt::new(&patterns)?,
        })
    }

    /// Whole-word matches, left to right, each reported as `found(start,
    /// end)`: at each position, the longest entry that starts there, kept
    /// if it stands as whole words (see [`LongestAt::each`]: a match glued
    /// to other letters hides nothing, so in `Frankfurt am Mainz` the entry
    /// `Frankfurt am Main` is not kept and `Mainz` still is). `starts` as
    /// for [`LongestAt::each`].
    pub(crate) fn whole_words(
        &self,
        text: &str,
        starts: Option<&[usize]>,
        mut found: impl FnMut(usize, usize),
    ) {
        self.entries.each(text, starts, |m| {
            let whole = isolated(text, m.start(), m.end());
            if whole {
                found(m.start(), m.end());
            }
            whole
        });
    }

    /// The longest entry that matches exactly at byte `at`, if it stands
    /// as whole words: its end.
    pub(crate) fn match_at(&self, text: &str, at: usize) -> Option<usize> {
        let m = self.entries.at(text, at)?;
        isolated(text, at, m.end()).then_some(m.end())
    }
}

/// Non-empty, non-comment lines of a data file, trimmed.
pub(crate) fn lines(data: &str) -> impl Iterator<Item = &str> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use super::*;

    fn towns() -> Gazetteer {
        let data = "Frankfurt am Main\nFrankfurt\nMainz\nBad Homburg\nHomburg";
        Gazetteer::from_lines(data).unwrap_or_else(|e| panic!("{e}"))
    }

    fn found(g: &Gazetteer, text: &str, starts: Option<&[usize]>) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        g.whole_words(text, starts, |s, e| out.push((s, e)));
        out
    }

    /// Every offset where a word of letters starts.
    fn word_starts(text: &str) -> Vec<usize> {
        text.char_indices()
            .filter(|&(i, c)| {
                c.is_alphabetic()
                    && !super::super::text::prev_char(text, i).is_some_and(char::is_alphabetic)
            })
            .map(|(i, _)| i)
            .collect()
    }

    #[test]
    fn a_glued_match_hides_nothing_behind_it() {
        let g = towns();
        for (text, want) in [
            // The longest entry at 0 is glued to `z`; `Mainz` still counts.
            ("Frankfurt am Mainz", vec![(13, 18)]),
            ("xBad Homburg", vec![(5, 12)]),
            ("Bad Homburg und Frankfurt", vec![(0, 11), (16, 25)]),
            ("Frankfurter Würstchen", vec![]),
        ] {
            assert_eq!(found(&g, text, None), want, "{text}");
            assert_eq!(found(&g, text, Some(&word_starts(text))), want, "{text}");
        }
    }

    /// The longest entry at `at` as the automaton finds it: the leftmost-
    /// longest match in a window of the longest entry's length, if it
    /// starts at `at`.
    fn automaton_at(l: &LongestAt, max_len: usize, text: &str, at: usize) -> Option<Match> {
        let window = at..at.saturating_add(max_len).min(text.len());
        let m = l.ac.find(Input::new(text).span(window))?;
        (m.start() == at).then_some(m)
    }

    /// A list, its table and its longest entry's length.
    type Built = (Vec<String>, LongestAt, usize);

    /// Shipped lists (towns with their lower-cased umlaut variants, health
    /// terms) and one with one-byte entries and look-alike duplicates,
    /// built once.
    static LISTS: LazyLock<Vec<Built>> = LazyLock::new(|| {
        let towns = lines(crate::pii::places::CITIES)
            .flat_map(|t| [t.to_owned(), t.to_lowercase()])
            .collect();
        let terms = crate::pii::health::terms()
            .map(|(t, _)| t.to_owned())
            .collect();
        let small = ["a", "ab", "AB", "abc", "b", "Äb", "äb", "x y"];
        [towns, terms, small.map(str::to_owned).to_vec()]
            .into_iter()
            .map(|list| {
                let l = LongestAt::new(&list).unwrap_or_else(|e| panic!("{e}"));
                let max_len = list.iter().map(String::len).max().unwrap_or(0);
                (list, l, max_len)
            })
            .collect()
    });

    #[test]
    fn grouping_by_prefix_finds_what_the_automaton_finds() {
        for (list, l, max_len) in LISTS.iter() {
            for entry in list {
                for text in [entry.clone(), entry.to_uppercase(), format!(" {entry}x")] {
                    for (at, _) in text.char_indices() {
                        let want = automaton_at(l, *max_len, &text, at);
                        assert_eq!(l.at(&text, at), want, "{text:?} at {at}");
                    }
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn grouping_by_prefix_equals_the_automaton_on_pieces(
            list in 0..3usize,
            picks in proptest::collection::vec((0..500usize, 0..4usize, 0..12usize), 0..10),
        ) {
            let (words, l, max_len) = &LISTS[list];
            let mut text = String::new();
            for (i, how, cut) in picks {
                let w = &words[i % words.len()];
                let w = w.get(..cut.min(w.len())).filter(|_| how == 3).unwrap_or(w);
                text += &match how {
                    0 => w.to_uppercase(),
                    1 => w.to_lowercase(),
                    _ => w.to_owned(),
                };
                text += ["", " ", "-", "ſ", "\u{212a}", "ä"][i % 6];
            }
            for at in (0..text.len()).filter(|&i| text.is_char_boundary(i)) {
                let want = automaton_at(l, *max_len, &text, at);
                proptest::prop_assert_eq!(l.at(&text, at), want, "{:?} at {}", text, at);
            }
        }
    }

    #[test]
    fn starts_inside_a_kept_match_are_skipped() {
        let g = towns();
        assert_eq!(found(&g, "Bad Homburg", Some(&[0, 4])), vec![(0, 11)]);
        assert_eq!(found(&g, "Bad Homburg", Some(&[4])), vec![(4, 11)]);
        assert_eq!(found(&g, "Bad Homburg", Some(&[])), vec![]);
    }
}
