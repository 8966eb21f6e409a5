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
    /// Start and end of each kept run (32 bits keep the list small).
    runs: [(u32, u32); RUNS_KEPT],
    /// Bit `i`: run `i` is at a word boundary.
    boundaries: u32,
    len: usize,
    complete: bool,
}

/// How many digit runs [`DigitRunList`] keeps (no text of the development
/// corpus has more than 19; half have three or fewer).
const RUNS_KEPT: usize = 24;
const _: () = assert!(RUNS_KEPT <= 32, "one boundary bit per kept run");

impl<'t> DigitRunList<'t> {
    pub(crate) fn of(text: &'t str) -> Self {
        let mut list = Self {
            text,
            runs: [(0, 0); RUNS_KEPT],
            boundaries: 0,
            len: 0,
            complete: u32::try_from(text.len()).is_ok(),
        };
        if !list.complete {
            return list;
        }
        for (start, end, boundary) in digit_runs(text) {
            let Some(slot) = list.runs.get_mut(list.len) else {
                list.complete = false;
                break;
            };
            // Both fit: the text's length does.
            *slot = (start as u32, end as u32);
            list.boundaries |= u32::from(boundary) << list.len;
            list.len += 1;
        }
        list
    }

    /// How many ASCII digits `text` has.
    pub(crate) fn digit_count(&self) -> usize {
        if self.complete {
            let run = |&(start, end): &(u32, u32)| (end - start) as usize;
            self.runs[..self.len].iter().map(run).sum()
        } else {
            self.iter().map(|(start, end, _)| end - start).sum()
        }
    }

    /// The runs, in text order.
    pub(crate) fn iter(&self) -> RunIter<'_> {
        if self.complete {
            RunIter::Kept(self.runs[..self.len].iter(), self.boundaries)
        } else {
            RunIter::Again(digit_runs(self.text))
        }
    }
}

/// The iterator of [`DigitRunList::iter`].
pub(crate) enum RunIter<'a> {
    /// The kept runs, and the boundary bits of those not yet read.
    Kept(std::slice::Iter<'a, (u32, u32)>, u32),
    Again(DigitRuns<'a>),
}

impl Iterator for RunIter<'_> {
    type Item = (usize, usize, bool);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Self::Kept(runs, boundaries) => {
                let &(start, end) = runs.next()?;
                let boundary = *boundaries & 1 != 0;
                *boundaries >>= 1;
                Some((start as usize, end as usize, boundary))
            }
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
            let list = DigitRunList::of(&text);
            prop_assert_eq!(&list.iter().collect::<Vec<_>>(), &expected);
            let digits = text.bytes().filter(u8::is_ascii_digit).count();
            prop_assert_eq!(list.digit_count(), digits);
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
