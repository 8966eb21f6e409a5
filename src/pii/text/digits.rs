//! Runs of ASCII digits: measured at a byte ([`digit_run`]), listed in a
//! text ([`digit_runs`]), and found once per text for every detector that
//! reads them ([`DigitRunList`]).

use super::{ascii_word, find_digit};

/// The length of the run of ASCII digits at byte `at` (0 past the end).
pub(crate) fn digit_run(b: &[u8], at: usize) -> usize {
    b.get(at..).map_or(0, |rest| {
        rest.iter().take_while(|c| c.is_ascii_digit()).count()
    })
}

/// The maximal runs of ASCII digits in `text`, as byte ranges, each with
/// whether it sits at an ASCII word boundary on the left (`\b` of a
/// `(?-u)` pattern before its first digit).
fn digit_runs(text: &str) -> DigitRuns<'_> {
    DigitRuns {
        b: text.as_bytes(),
        at: 0,
    }
}

/// The digit runs of one text (see [`digit_runs`]), found once and read by
/// each detector that needs them. The first [`RUNS_KEPT`] are kept on the
/// stack; a text with more is read again by [`digit_runs`] on each
/// [`DigitRunList::iter`], so nothing is allocated.
pub(crate) struct DigitRunList<'t> {
    text: &'t str,
    runs: [(usize, usize, bool); RUNS_KEPT],
    len: usize,
    complete: bool,
}

/// How many digit runs [`DigitRunList`] keeps (no text of the development
/// corpus has more than 19; half have three or fewer).
const RUNS_KEPT: usize = 24;

impl<'t> DigitRunList<'t> {
    pub(crate) fn of(text: &'t str) -> Self {
        let mut list = Self {
            text,
            runs: [(0, 0, false); RUNS_KEPT],
            len: 0,
            complete: true,
        };
        for run in digit_runs(text) {
            let Some(slot) = list.runs.get_mut(list.len) else {
                list.complete = false;
                break;
            };
            *slot = run;
            list.len += 1;
        }
        list
    }

    /// The runs, in text order.
    pub(crate) fn iter(&self) -> RunIter<'_> {
        if self.complete {
            RunIter::Kept(self.runs[..self.len].iter())
        } else {
            RunIter::Again(digit_runs(self.text))
        }
    }
}

/// The iterator of [`DigitRunList::iter`].
pub(crate) enum RunIter<'a> {
    Kept(std::slice::Iter<'a, (usize, usize, bool)>),
    Again(DigitRuns<'a>),
}

impl Iterator for RunIter<'_> {
    type Item = (usize, usize, bool);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Kept(runs) => runs.next().copied(),
            Self::Again(runs) => runs.next(),
        }
    }
}

/// The iterator of [`digit_runs`]: each run's first digit is found eight
/// bytes at a time by [`find_digit`].
pub(crate) struct DigitRuns<'t> {
    b: &'t [u8],
    /// Where the search for the next run starts.
    at: usize,
}

impl Iterator for DigitRuns<'_> {
    type Item = (usize, usize, bool);

    fn next(&mut self) -> Option<Self::Item> {
        let Some(start) = find_digit(self.b, self.at) else {
            self.at = self.b.len();
            return None;
        };
        self.at = start + digit_run(self.b, start);
        let boundary = start == 0 || !ascii_word(self.b[start - 1]);
        Some((start, self.at, boundary))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// The runs as a byte loop finds them.
    fn runs_by_the_byte(b: &[u8]) -> Vec<(usize, usize, bool)> {
        let mut runs = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let start = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                runs.push((start, i, start == 0 || !ascii_word(b[start - 1])));
            } else {
                i += 1;
            }
        }
        runs
    }

    proptest! {
        /// Up to three times as many runs as the list keeps, so both of
        /// its ways of reading are taken.
        #[test]
        fn the_list_reads_the_runs_a_byte_loop_finds(
            parts in proptest::collection::vec(
                proptest::sample::select(vec!["1", "22", "333", "a", "_", " ", "-", "ä", "😀"]),
                0..(6 * RUNS_KEPT),
            )
        ) {
            let text = parts.concat();
            let expected = runs_by_the_byte(text.as_bytes());
            prop_assert_eq!(&digit_runs(&text).collect::<Vec<_>>(), &expected);
            prop_assert_eq!(&DigitRunList::of(&text).iter().collect::<Vec<_>>(), &expected);
        }
    }

    #[test]
    fn a_text_with_more_runs_than_kept_is_read_whole() {
        let text = "1 ".repeat(RUNS_KEPT + 3);
        let list = DigitRunList::of(&text);
        assert_eq!(list.iter().count(), RUNS_KEPT + 3);
        assert_eq!(
            list.iter().last(),
            Some((2 * RUNS_KEPT + 4, 2 * RUNS_KEPT + 5, true))
        );
    }
}
