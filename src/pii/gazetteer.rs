//! Word lists compiled into one Aho-Corasick automaton each, read as "the
//! longest entry at each position" ([`LongestAt`]), and town-style lists
//! matched on whole words with ASCII case folding (plus lower-cased variants
//! of entries that start with an umlaut, which ASCII folding does not
//! cover) ([`Gazetteer`]).

use aho_corasick::{
    AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, BuildError, Input, Match, MatchKind,
};

use super::text::isolated;

/// A compiled word list that answers, for a position, the longest entry
/// starting there (ASCII case folded).
#[derive(Debug)]
pub(crate) struct LongestAt {
    ac: AhoCorasick,
    /// The longest pattern, in bytes.
    max_len: usize,
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
        let max_len = patterns.iter().map(|p| p.as_ref().len()).max().unwrap_or(0);
        Ok(Self { ac, max_len })
    }

    /// The longest entry that starts at byte `at`.
    ///
    /// Leftmost-longest: if any entry starts at `at`, the leftmost match in
    /// a window of the longest entry's length starts there and is the
    /// longest one. (An unanchored automaton: the whole-text search in
    /// [`LongestAt::each`] needs one, and one that also supports anchored
    /// searches is twice the size; see docs/pii.md, tenth pass.)
    pub(crate) fn at(&self, text: &str, at: usize) -> Option<Match> {
        let window = at..at.saturating_add(self.max_len).min(text.len());
        if window.is_empty() {
            return None;
        }
        let m = self.ac.find(Input::new(text).span(window))?;
        (m.start() == at).then_some(m)
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

    #[test]
    fn starts_inside_a_kept_match_are_skipped() {
        let g = towns();
        assert_eq!(found(&g, "Bad Homburg", Some(&[0, 4])), vec![(0, 11)]);
        assert_eq!(found(&g, "Bad Homburg", Some(&[4])), vec![(4, 11)]);
        assert_eq!(found(&g, "Bad Homburg", Some(&[])), vec![]);
    }
}
