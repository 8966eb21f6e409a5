//! Word lists compiled into one Aho-Corasick automaton each, matched on
//! whole words with ASCII case folding (plus lower-cased variants of entries
//! that start with an umlaut, which ASCII folding does not cover).

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};

use super::text::isolated;

/// A compiled word list.
#[derive(Debug)]
pub(crate) struct Gazetteer {
    ac: AhoCorasick,
    /// The longest pattern, in bytes.
    max_len: usize,
}

// === impl Gazetteer ===

impl Gazetteer {
    /// Builds from a data file: one entry per line, `#` starts a comment.
    pub(crate) fn from_lines(data: &str) -> Result<Self, aho_corasick::BuildError> {
        let entries: Vec<&str> = lines(data).collect();
        let mut patterns = Vec::with_capacity(entries.len() * 2);
        for e in &entries {
            patterns.push((*e).to_owned());
            let lower = e.to_lowercase();
            if !lower.eq_ignore_ascii_case(e) {
                patterns.push(lower);
            }
        }
        let ac = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::LeftmostLongest)
            // A full DFA: one table lookup per byte (the NFA default for
            // large pattern sets is several times slower on chat text).
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)?;
        let max_len = patterns.iter().map(String::len).max().unwrap_or(0);
        Ok(Self { ac, max_len })
    }

    /// Whole-word matches as byte ranges.
    pub(crate) fn find_iter<'a>(
        &'a self,
        text: &'a str,
    ) -> impl Iterator<Item = (usize, usize)> + 'a {
        self.ac
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .filter(move |&(s, e)| isolated(text, s, e))
    }

    /// The longest entry that matches exactly at byte `at` as whole words.
    ///
    /// Leftmost-longest: if any entry starts at `at`, the leftmost match in
    /// a window of the longest entry's length starts there and is the
    /// longest one. (An unanchored search only: an automaton that also
    /// supports anchored searches is twice the size.)
    pub(crate) fn match_at(&self, text: &str, at: usize) -> Option<usize> {
        let window = text
            .as_bytes()
            .get(at..(at + self.max_len).min(text.len()))?;
        let m = self.ac.find(window).filter(|m| m.start() == 0)?;
        isolated(text, at, at + m.end()).then_some(at + m.end())
    }
}

/// Non-empty, non-comment lines of a data file, trimmed.
pub(crate) fn lines(data: &str) -> impl Iterator<Item = &str> {
    data.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}
