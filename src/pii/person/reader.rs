//! PERSON's word reader: the next word of a text (letters, with inner
//! hyphens and apostrophes), lower-cased into a stack buffer as it is
//! read. ASCII letters are taken eight bytes at a time; umlauts and the
//! other Latin-1 letters are lower-cased from their bytes; any other
//! character is decoded.

use crate::pii::text::{HIGH, ascii_letters, eight_bytes};

/// The next word (letters, with inner hyphens and apostrophes) at or after
/// `from`: its range, whether it has an inner hyphen or apostrophe, and
/// the length of its lower-cased form, written into `buf` as the word is
/// read (more than 64 if it did not fit), or `None` if the word has letters
/// outside ASCII and Latin-1 or a `’` (the caller lower-cases those).
pub(super) fn read_word(
    text: &str,
    from: usize,
    buf: &mut [u8; 64],
) -> Option<(usize, usize, bool, Option<usize>)> {
    let start = word_start(text, from)?;
    let b = text.as_bytes();
    if let Some(short) = short_ascii_word(b, start, buf) {
        return Some((start, start + short, false, Some(short)));
    }
    let (mut end, mut joined, mut n, mut ascii) = (start, false, 0, true);
    loop {
        if let Some(run) = lower_ascii_run(b, end, buf, n) {
            (n, end) = (n + run, end + run);
            if run == 8 {
                continue;
            }
        }
        let Some(&c) = b.get(end) else {
            break;
        };
        if c.is_ascii_alphabetic() {
            if let Some(d) = buf.get_mut(n) {
                *d = c.to_ascii_lowercase();
            }
            (n, end) = (n + 1, end + 1);
            continue;
        }
        if let Some(low) = latin1_letter_lower(b, end) {
            if let Some(d) = buf.get_mut(n..n + 2) {
                d.copy_from_slice(&low);
            }
            (n, end) = (n + 2, end + 2);
            continue;
        }
        let Some((c, len)) = char_at(text, end) else {
            break;
        };
        let letter = c.is_alphabetic();
        let joiner = !letter
            && matches!(c, '-' | '\'' | '’')
            && char_at(text, end + len).is_some_and(|(n, _)| n.is_alphabetic());
        if !(letter || joiner) {
            break;
        }
        if c.is_ascii() {
            if let Some(d) = buf.get_mut(n) {
                *d = c as u8;
            }
            n += 1;
        } else {
            ascii = false;
        }
        joined |= joiner;
        end += len;
    }
    Some((start, end, joined, ascii.then_some(n)))
}

/// The common case, read from one chunk: a word of fewer than eight ASCII
/// letters at `start`, ended by an ASCII byte that cannot join it (not `-`
/// or `'`). Its length, with its lower-cased bytes written to `buf`.
fn short_ascii_word(b: &[u8], start: usize, buf: &mut [u8; 64]) -> Option<usize> {
    let run = lower_ascii_run(b, start, buf, 0)?;
    let after = *b.get(start + run)?;
    let ends_here = run < 8 && after.is_ascii() && after != b'-' && after != b'\'';
    ends_here.then_some(run)
}

/// Where the next word starts at or after `from`: the first letter.
/// Skips ASCII non-letters (spaces, digits …) eight bytes at a time.
fn word_start(text: &str, from: usize) -> Option<usize> {
    text.get(from..)?;
    let b = text.as_bytes();
    let mut i = from;
    loop {
        if let Some(chunk) = eight_bytes(b, i) {
            let skip = ((ascii_letters(chunk) | chunk) & HIGH).trailing_zeros() as usize / 8;
            i += skip;
            if skip == 8 {
                continue;
            }
        }
        let c = *b.get(i)?;
        if c.is_ascii_alphabetic() {
            return Some(i);
        }
        if c.is_ascii() {
            i += 1;
            continue;
        }
        let (c, len) = char_at(text, i)?;
        if c.is_alphabetic() {
            return Some(i);
        }
        i += len;
    }
}

/// Reads the run of ASCII letters at byte `at`, up to eight, lower-cased
/// into `buf` from index `n` (as far as it fits); returns its length, or
/// `None` if fewer than eight bytes are left (the caller reads those one
/// by one). Bytes of `buf` past the run may be overwritten.
fn lower_ascii_run(b: &[u8], at: usize, buf: &mut [u8; 64], n: usize) -> Option<usize> {
    let (run, lower) = ascii_letter_run(eight_bytes(b, at)?);
    let lower = lower.to_le_bytes();
    if let Some(d) = buf.get_mut(n..n + 8) {
        d.copy_from_slice(&lower);
    } else if let Some(d) = buf.get_mut(n..) {
        // The buffer's last few bytes (a word too long for it).
        let k = d.len().min(8);
        d[..k].copy_from_slice(&lower[..k]);
    }
    Some(run)
}

/// The number of leading ASCII letters in `chunk` (see [`eight_bytes`]),
/// and `chunk` with those letters lower-cased.
fn ascii_letter_run(chunk: u64) -> (usize, u64) {
    let letters = ascii_letters(chunk);
    let run = (!letters & HIGH).trailing_zeros() as usize / 8;
    (run, chunk | letters >> 2)
}

/// The lower-cased UTF-8 of the letter at byte `i` if it is one of
/// U+00C0–U+00FF (`ä`, `Ö`, `ß` …: every character there but `×` and `÷`
/// is a letter, and `À`–`Þ` lower-case to the character 0x20 above).
fn latin1_letter_lower(b: &[u8], i: usize) -> Option<[u8; 2]> {
    match b.get(i..i + 2)? {
        &[0xC3, c] if c != 0x97 && c != 0xB7 => Some([0xC3, if c <= 0x9E { c + 0x20 } else { c }]),
        _ => None,
    }
}

/// The character at byte `i` (a char boundary) and its length, with an
/// ASCII fast path.
fn char_at(text: &str, i: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(i)?;
    if b.is_ascii() {
        return Some((char::from(b), 1));
    }
    let c = text.get(i..)?.chars().next()?;
    Some((c, c.len_utf8()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::pii::text::{every_byte_at_every_position, lower_fast};

    #[test]
    fn ascii_letter_runs_are_counted_and_lower_cased_byte_by_byte() {
        for (chunk, b, at) in every_byte_at_every_position(*b"AbCdEfGh") {
            let (run, lower) = ascii_letter_run(u64::from_le_bytes(chunk));
            let want = if b.is_ascii_alphabetic() { 8 } else { at };
            assert_eq!(run, want, "byte {b:#x} at {at}");
            let lower = lower.to_le_bytes();
            assert_eq!(&lower[..run], &chunk.to_ascii_lowercase()[..run]);
        }
    }

    #[test]
    fn latin1_letters_lower_case_like_char_to_lowercase() {
        for c in '\u{80}'..='\u{FF}' {
            let mut utf8 = [0u8; 2];
            c.encode_utf8(&mut utf8);
            let want = c.is_alphabetic().then(|| {
                let mut low = [0u8; 2];
                c.to_lowercase()
                    .next()
                    .map(|l| l.encode_utf8(&mut low).len());
                low
            });
            let want = if c < '\u{C0}' { None } else { want };
            assert_eq!(latin1_letter_lower(&utf8, 0), want, "{c}");
        }
    }

    /// The char-by-char word reader `read_word` replaced (the oracle for its
    /// property test): a word's range and whether it has an inner hyphen or
    /// apostrophe.
    fn next_word_joined(text: &str, from: usize) -> Option<(usize, usize, bool)> {
        text.get(from..)?;
        let mut i = from;
        let start = loop {
            let (c, len) = char_at(text, i)?;
            if c.is_alphabetic() {
                break i;
            }
            i += len;
        };
        let (mut end, mut joined) = (start, false);
        while let Some((c, len)) = char_at(text, end) {
            if c.is_alphabetic() {
                end += len;
            } else if matches!(c, '-' | '\'' | '’')
                && char_at(text, end + len).is_some_and(|(n, _)| n.is_alphabetic())
            {
                end += len;
                joined = true;
            } else {
                break;
            }
        }
        Some((start, end, joined))
    }

    proptest! {
        /// The fused reader finds the same words, lower-cased the same way,
        /// as finding a word and then lower-casing it.
        #[test]
        fn read_word_matches_next_word_and_lower_fast(
            text in r"[a-zA-ZäöüÄÖÜßẞàÞþ×÷ſİ\u{212a}µªṡａ0-9 \-'’.,@\[`{😀\n]{0,40}",
            long in 0..70usize,
            run in 0..70usize,
        ) {
            // Long ASCII runs reach the eight-bytes-at-a-time path.
            let ascii: String = "aBcDeFgHiZzA".chars().cycle().take(run).collect();
            let text = format!(
                "{text} {} {text}{ascii}-{ascii}, 0049 170 {text}",
                "ä".repeat(long / 2) + &"x".repeat(long % 3)
            );
            let (mut a, mut b) = (0, 0);
            let mut buf = [0u8; 64];
            loop {
                let old = next_word_joined(&text, a);
                let new = read_word(&text, b, &mut buf);
                let (Some((s, e, j)), Some((s2, e2, j2, n))) = (old, new) else {
                    prop_assert_eq!(old.is_none(), new.is_none());
                    break;
                };
                prop_assert_eq!((s, e, j), (s2, e2, j2));
                let mut want = [0u8; 64];
                let want = lower_fast(&text[s..e], &mut want).unwrap_or(b"").to_vec();
                let got = match n {
                    Some(n) => buf.get(..n).unwrap_or(b"").to_vec(),
                    None => lower_fast(&text[s..e], &mut buf).unwrap_or(b"").to_vec(),
                };
                prop_assert_eq!(got, want, "{}", &text[s..e]);
                (a, b) = (e, e2);
            }
        }
    }
}
