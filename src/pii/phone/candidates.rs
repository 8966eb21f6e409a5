//! Phone candidates without a regex pass: the candidate pattern
//! ([`super::CANDIDATE`]) matched by hand, on bytes.
//!
//! Why: the regex costs 231 ns per corpus text with seven digits or more,
//! the matcher 73 (124 and 32 on texts without findings). Both jump to the
//! bytes where a match can start (`+`, `0`, `(`), but the regex then runs
//! a forward and a reverse automaton per match, with its call overhead.
//! From each start the matcher follows the pattern's own priority order
//! (greedy repetitions, alternatives tried left to right), so it returns
//! what `Regex::find_iter` returns: the leftmost match, then the leftmost
//! after its end, and so on.
//!
//! It reads only ASCII digits as `\d`. The pattern's `\d` is Unicode, so the
//! caller uses the regex when a text may hold other decimal digits
//! ([`super::super::text::Rare`]). Every other atom of the pattern
//! is ASCII, and in UTF-8 an ASCII byte is always a whole character, so
//! matching bytes matches characters. A property test compares both.

use super::super::text::digit_run;

/// The pattern's separator class `[\ \-/.]`.
fn separator(b: u8) -> bool {
    matches!(b, b' ' | b'-' | b'/' | b'.')
}

/// A slash or hyphen with a space on each side (`0221 / 98 76 54`), the
/// pattern's first choice between two groups.
fn spaced_separator(b: &[u8], at: usize) -> bool {
    matches!(b.get(at..at + 3), Some([b' ', b'/' | b'-', b' ']))
}

fn digit_at(b: &[u8], at: usize) -> bool {
    b.get(at).is_some_and(u8::is_ascii_digit)
}

/// The matches in `text`, left to right and not overlapping, as byte ranges.
pub(super) fn find_iter(text: &str) -> Iter<'_> {
    Iter {
        b: text.as_bytes(),
        at: 0,
    }
}

/// The iterator of [`find_iter`].
pub(super) struct Iter<'t> {
    b: &'t [u8],
    /// Where the search goes on.
    at: usize,
}

impl Iterator for Iter<'_> {
    type Item = (usize, usize);

    fn next(&mut self) -> Option<(usize, usize)> {
        let b = self.b;
        while let Some(skip) = memchr::memchr3(b'+', b'0', b'(', b.get(self.at..)?) {
            let start = self.at + skip;
            if let Some(end) = match_at(b, start) {
                self.at = end;
                return Some((start, end));
            }
            self.at = start + 1;
        }
        self.at = b.len();
        None
    }
}

/// The end of the match starting at `start`, trying the three opening
/// alternatives in the pattern's order: international (`+`/`00`), area
/// code in parentheses, national (`0`).
fn match_at(b: &[u8], start: usize) -> Option<usize> {
    match b[start] {
        b'+' => international(b, start + 1),
        b'0' if b.get(start + 1) == Some(&b'0') => {
            international(b, start + 2).or_else(|| national(b, start))
        }
        b'0' => national(b, start),
        b'(' => area_in_parentheses(b, start),
        _ => None,
    }
}

/// After `+` or `00`: `\d{1,3}[sep]?(?:\(0\)[\ ]?)?(?:\(\d{1,5}\)|\d{1,5})`,
/// then the groups. Each optional part is tried taken first, then left out.
fn international(b: &[u8], at: usize) -> Option<usize> {
    for code in (1..=digit_run(b, at).min(3)).rev() {
        let after_code = at + code;
        let sep = b.get(after_code).is_some_and(|&c| separator(c));
        for after_sep in [after_code + 1, after_code]
            .into_iter()
            .skip(usize::from(!sep))
        {
            for after_trunk in trunk_zero(b, after_sep).into_iter().flatten() {
                if let Some(end) = area(b, after_trunk) {
                    return Some(end);
                }
            }
        }
    }
    None
}

/// `(?:\(0\)[\ ]?)?` at `at`: the positions after it, most preferred first.
fn trunk_zero(b: &[u8], at: usize) -> [Option<usize>; 3] {
    if !b.get(at..).is_some_and(|rest| rest.starts_with(b"(0)")) {
        return [Some(at), None, None];
    }
    let space = b.get(at + 3) == Some(&b' ');
    [space.then_some(at + 4), Some(at + 3), Some(at)]
}

/// `(?:\(\d{1,5}\)|\d{1,5})` at `at`, then the groups.
fn area(b: &[u8], at: usize) -> Option<usize> {
    if b.get(at) == Some(&b'(') {
        let n = digit_run(b, at + 1);
        if (1..=5).contains(&n)
            && b.get(at + 1 + n) == Some(&b')')
            && let Some(end) = groups(b, at + 2 + n)
        {
            return Some(end);
        }
    }
    (1..=digit_run(b, at).min(5))
        .rev()
        .find_map(|n| groups(b, at + n))
}

/// `\(0\d{1,5}\)` at `start`, then the groups.
fn area_in_parentheses(b: &[u8], start: usize) -> Option<usize> {
    if b.get(start + 1) != Some(&b'0') {
        return None;
    }
    let n = digit_run(b, start + 2);
    let closed = (1..=5).contains(&n) && b.get(start + 2 + n) == Some(&b')');
    closed.then(|| groups(b, start + 3 + n)).flatten()
}

/// `0\d{1,5}` at `start` (a `0`), then the groups.
fn national(b: &[u8], start: usize) -> Option<usize> {
    (1..=digit_run(b, start + 1).min(5))
        .rev()
        .find_map(|n| groups(b, start + 1 + n))
}

/// `(?:(?:\ [/\-]\ |[sep])?\d{1,8}){1,5}` at `at`, greedy: `None` unless
/// one group fits. Nothing follows the groups in the pattern, so the first
/// (greedy) way through them is the match.
fn groups(b: &[u8], mut at: usize) -> Option<usize> {
    let mut end = None;
    for _ in 0..5 {
        let first_digit = if spaced_separator(b, at) && digit_at(b, at + 3) {
            at + 3
        } else if digit_at(b, at) {
            at
        } else if b.get(at).is_some_and(|&c| separator(c)) && digit_at(b, at + 1) {
            at + 1
        } else {
            break;
        };
        at = first_digit + digit_run(b, first_digit).min(8);
        end = Some(at);
    }
    end
}

#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use proptest::prelude::*;

    use super::*;

    static PATTERN: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(super::super::CANDIDATE).unwrap());

    fn by_regex(text: &str) -> Vec<(usize, usize)> {
        PATTERN
            .find_iter(text)
            .map(|m| (m.start(), m.end()))
            .collect()
    }

    fn by_hand(text: &str) -> Vec<(usize, usize)> {
        find_iter(text).collect()
    }

    #[test]
    fn written_forms_match_as_the_regex_does() {
        for text in [
            "+49 151 23456789",
            "0049 (0)30 12345678",
            "+49 (0) 30/1234-567",
            "+49(0)30 1 2 3 4 5 6",
            "+49 (0) 1 2 3 4 5 6 7",
            "+1 (555) 123 4567",
            "(030) 1234567",
            "(0301234) 5",
            "0151/23456789 0170.1234567",
            "0221 / 98 76 54 - 0 und 030 -/ 1",
            "0221 /987 0221/ 987 0221  / 98",
            "00 1",
            "000000000000000000000000",
            "+++((0))00-(0)",
            "0 1 2 3 4 5 6 7 8 9",
            "Preis 0,99 € (0)12 und +4930-",
            "1234567890123456789012345678901234567890",
        ] {
            assert_eq!(by_hand(text), by_regex(text), "{text}");
        }
    }

    /// Pieces that steer the pattern (the opening forms among them), and
    /// some that do not.
    fn phoneish() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            6 => proptest::char::range('0', '9').prop_map(String::from),
            3 => Just("0".to_owned()),
            2 => prop::sample::select(vec![" ", "-", "/", ".", " / ", " - "]).prop_map(str::to_owned),
            2 => prop::sample::select(vec!["+49", "00", "(0)", "(0) ", "(030)"])
                .prop_map(str::to_owned),
            1 => prop::sample::select(vec!["+", "(", ")", "a", "ü", "€"]).prop_map(str::to_owned),
        ];
        proptest::collection::vec(piece, 0..30).prop_map(|p| p.concat())
    }

    proptest! {
        #[test]
        fn matches_equal_the_regex(text in phoneish()) {
            prop_assert_eq!(by_hand(&text), by_regex(&text));
        }
    }
}
