//! Small allocation-free helpers over UTF-8 text and byte offsets,
//! [`Facts`], what the engine reads once per text for all detectors, and
//! [`Words`], the compiled context-word lists.

mod digits;
mod facts;
mod words;

pub(crate) use digits::{DigitRunList, digit_run};
pub(crate) use facts::{Facts, Rare};
pub(crate) use words::{WordSets, Words};

/// The number of ASCII digits in `text`, for tests that call one detector
/// (the engine takes it from [`DigitRunList::digit_count`]).
#[cfg(test)]
pub(crate) fn ascii_digits(text: &str) -> usize {
    count_marked(text.as_bytes(), |chunk| ascii_range(chunk, b'0', b'9'))
}

/// The number of characters in `text`, counted eight bytes at a time (as
/// the bytes that do not continue a character). `str::chars().count()`
/// reads short texts byte by byte.
pub(crate) fn char_count(text: &str) -> usize {
    let continuation = |chunk: u64| chunk & !(chunk << 1) & HIGH;
    text.len() - count_marked(text.as_bytes(), continuation)
}

/// How many bytes of `b` are marked by `mark`, which sets the high bit of
/// each chosen byte of an eight-byte word (and no other bit). The bytes are
/// read eight at a time, the last few padded with zero bytes, so `mark`
/// must not choose a zero byte. A byte loop here does not vectorise and
/// costs four times as much on chat-sized texts.
fn count_marked(b: &[u8], mark: impl Fn(u64) -> u64) -> usize {
    // The marks are 0 or 1 per byte once shifted down; a multiply sums them
    // into the top byte (at most 8, so nothing overflows).
    let sum = |marks: u64| ((marks >> 7).wrapping_mul(EACH) >> 56) as usize;
    let mut chunks = b.chunks_exact(8);
    let mut n = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        n += sum(mark(u64::from_le_bytes(word)));
    }
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    n + sum(mark(u64::from_le_bytes(tail)))
}

/// The high bit set in every byte of `chunk` from `D9` up: its high bit is
/// set and its low seven bits reach `59` (adding `27` carries into the high
/// bit; at most `7F + 27`, so never into the next byte).
pub(crate) fn bytes_from_d9(chunk: u64) -> u64 {
    chunk & ((chunk & !HIGH) + 0x27 * EACH) & HIGH
}

/// The high bit set in every byte of `chunk` equal to `byte`.
pub(crate) fn bytes_equal(chunk: u64, byte: u8) -> u64 {
    let zero = chunk ^ (u64::from(byte) * EACH);
    // A byte's low seven bits plus 7F carry into its high bit unless they
    // are all zero; with the byte's own high bit, that marks every non-zero byte.
    !(((zero & !HIGH) + !HIGH) | zero) & HIGH
}

/// The high bit of every byte of a word read eight bytes at a time.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// One in every byte of a word.
const EACH: u64 = 0x0101_0101_0101_0101;

/// The eight bytes at `i` as one little-endian word (the first byte is the
/// lowest), if there are eight.
pub(crate) fn eight_bytes(b: &[u8], i: usize) -> Option<u64> {
    let chunk = b.get(i..i.checked_add(8)?)?;
    Some(u64::from_le_bytes(chunk.try_into().ok()?))
}

/// The high bit set in every byte of `chunk` that lies in `lo..=hi` (ASCII
/// bounds). Byte-parallel: no byte carries into the next, since the sums
/// are taken over the low seven bits; a byte with its high bit set is never
/// in range.
fn ascii_range(chunk: u64, lo: u8, hi: u8) -> u64 {
    let low7 = chunk & !HIGH;
    let at_least_lo = low7 + u64::from(0x80 - lo) * EACH;
    let past_hi = low7 + u64::from(0x80 - hi - 1) * EACH;
    at_least_lo & !past_hi & !chunk & HIGH
}

/// The high bit set in every byte of `chunk` that is an ASCII letter
/// (folded to lower case, it lies in `a..=z`).
pub(crate) fn ascii_letters(chunk: u64) -> u64 {
    ascii_range(chunk | (0x20 * EACH), b'a', b'z')
}

/// `chunk` with every ASCII upper-case letter lower-cased, byte-parallel.
pub(crate) fn ascii_lower_word(chunk: u64) -> u64 {
    chunk | ascii_range(chunk, b'A', b'Z') >> 2
}

/// The first ASCII digit in `b` at or after byte `from`, found eight bytes
/// at a time (a byte loop costs about 0.5 ns per byte).
pub(crate) fn find_digit(b: &[u8], from: usize) -> Option<usize> {
    find_marked(b, from, |chunk| ascii_range(chunk, b'0', b'9'))
}

/// The first byte of `b` at or after `from` that `mark` chooses (it sets
/// the high bit of each chosen byte of a word, as for [`count_marked`]),
/// read eight bytes at a time.
pub(crate) fn find_marked(b: &[u8], from: usize, mark: impl Fn(u64) -> u64) -> Option<usize> {
    let mut i = from;
    while let Some(chunk) = eight_bytes(b, i) {
        let marked = mark(chunk);
        if marked != 0 {
            // The lowest marked byte is the first (little-endian word).
            return Some(i + marked.trailing_zeros() as usize / 8);
        }
        i += 8;
    }
    let mut tail = [0u8; 8];
    let rest = b.get(i..)?;
    tail[..rest.len()].copy_from_slice(rest);
    let marked = mark(u64::from_le_bytes(tail));
    let k = marked.trailing_zeros() as usize / 8;
    (marked != 0 && k < rest.len()).then_some(i + k)
}

/// A word byte of a `(?-u)` pattern: ASCII letter, digit or `_`.
pub(crate) fn ascii_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The character just before byte offset `i`.
pub(crate) fn prev_char(text: &str, i: usize) -> Option<char> {
    text.get(..i)?.chars().next_back()
}

/// The character at byte offset `i`.
pub(crate) fn next_char(text: &str, i: usize) -> Option<char> {
    text.get(i..)?.chars().next()
}

/// True if `[start, end)` is not glued to letters or digits on either side.
pub(crate) fn isolated(text: &str, start: usize, end: usize) -> bool {
    !prev_char(text, start).is_some_and(char::is_alphanumeric)
        && !next_char(text, end).is_some_and(char::is_alphanumeric)
}

/// Up to `n` bytes of text before `start`, cut at a character boundary.
pub(crate) fn before(text: &str, start: usize, n: usize) -> &str {
    let mut from = start.saturating_sub(n);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    text.get(from..start).unwrap_or("")
}

/// Up to `n` bytes of text after `end`, cut at a character boundary.
pub(crate) fn after(text: &str, end: usize, n: usize) -> &str {
    let mut to = end.saturating_add(n).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    text.get(end..to).unwrap_or("")
}

/// ASCII case-insensitive substring test (needles are ASCII or exact).
pub(crate) fn contains_ci(hay: &str, needle: &str) -> bool {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    n.len() <= h.len() && h.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

/// True if any needle occurs in `hay` (ASCII case-insensitive). The
/// fallback of [`Words`]; hot paths use a compiled [`Words`] list.
pub(crate) fn any_ci(hay: &str, needles: &[&str]) -> bool {
    needles.iter().any(|n| contains_ci(hay, n))
}

/// Copies the ASCII digits and letters of `raw` into `buf` (upper-cased),
/// returning the used prefix, or `None` if `buf` is too small.
pub(crate) fn compact<'a>(raw: &str, buf: &'a mut [u8]) -> Option<&'a [u8]> {
    let mut n = 0;
    for b in raw.bytes().filter(u8::is_ascii_alphanumeric) {
        *buf.get_mut(n)? = b.to_ascii_uppercase();
        n += 1;
    }
    buf.get(..n)
}

/// Lower-cases `word` into `buf` without allocating; `None` if it does not fit.
pub(crate) fn lower<'a>(word: &str, buf: &'a mut [u8; 64]) -> Option<&'a str> {
    let mut n = 0;
    for c in word.chars().flat_map(char::to_lowercase) {
        let len = c.len_utf8();
        let dst = buf.get_mut(n..n + len)?;
        c.encode_utf8(dst);
        n += len;
    }
    std::str::from_utf8(buf.get(..n)?).ok()
}

/// Like [`lower`], with a fast path for ASCII words; the lower-cased bytes
/// (word tables are keyed by bytes, so no UTF-8 check is needed).
pub(crate) fn lower_fast<'a>(word: &str, buf: &'a mut [u8; 64]) -> Option<&'a [u8]> {
    if !word.is_ascii() {
        return lower(word, buf).map(str::as_bytes);
    }
    let dst = buf.get_mut(..word.len())?;
    dst.copy_from_slice(word.as_bytes());
    dst.make_ascii_lowercase();
    Some(dst)
}

/// A small, fast hasher for the built-in word tables: one folded multiply
/// per eight bytes, and one for the rest of a word. The keys are compiled
/// in, not attacker-chosen (a lookup never adds one), so DoS-resistant
/// hashing buys nothing here.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FastHasher(u64);

/// `BuildHasher` for [`FastHasher`].
pub(crate) type FastHash = std::hash::BuildHasherDefault<FastHasher>;

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        // The tail (most words are shorter than eight bytes) in one step,
        // read without a loop: two overlapping four-byte halves, or the
        // first, middle and last byte.
        let tail = chunks.remainder();
        let n = tail.len();
        let word = match n {
            0 => return,
            1..=3 => {
                u64::from(tail[0]) | u64::from(tail[n / 2]) << 8 | u64::from(tail[n - 1]) << 16
            }
            _ => le32(&tail[..4]) | le32(&tail[n - 4..]) << 32,
        };
        self.add(word);
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
}

impl FastHasher {
    /// Mixes in one word: a folded multiply (both halves of the 128-bit
    /// product), so every input bit reaches the low bits that pick the
    /// bucket and the high bits the table tags with.
    fn add(&mut self, word: u64) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let product = u128::from(self.0 ^ word) * u128::from(K);
        self.0 = product as u64 ^ (product >> 64) as u64;
    }
}

/// Four bytes as a little-endian number (`bytes` has exactly four).
fn le32(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(bytes);
    u64::from(u32::from_le_bytes(w))
}

/// `template` with each byte value put at each of its eight positions in
/// turn: `(chunk, byte, position)`, for exhaustive tests of the
/// eight-bytes-at-a-time helpers.
#[cfg(test)]
pub(crate) fn every_byte_at_every_position(
    template: [u8; 8],
) -> impl Iterator<Item = ([u8; 8], u8, usize)> {
    (0..=255u8).flat_map(move |b| {
        (0..8).map(move |at| {
            let mut chunk = template;
            chunk[at] = b;
            (chunk, b, at)
        })
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn find_digit_finds_the_first_digit(b in proptest::collection::vec(any::<u8>(), 0..40), from in 0usize..45) {
            let naive = b.iter().enumerate().skip(from).find(|(_, c)| c.is_ascii_digit()).map(|(i, _)| i);
            prop_assert_eq!(find_digit(&b, from), naive);
        }

        #[test]
        fn find_marked_finds_the_first_marked_byte(
            b in proptest::collection::vec(proptest::sample::select(vec![0u8, b'a', 0xC3, 0xC5, 0xD9, 0xF0]), 0..40),
            from in 0usize..45,
        ) {
            let naive = b.iter().enumerate().skip(from).find(|(_, c)| **c >= 0xD9 || **c == 0xC5).map(|(i, _)| i);
            let lead = |chunk| bytes_from_d9(chunk) | bytes_equal(chunk, 0xC5);
            prop_assert_eq!(find_marked(&b, from, lead), naive);
        }

        #[test]
        fn counts_by_the_word_equal_counts_by_the_byte(b in proptest::collection::vec(any::<u8>(), 0..40)) {
            let digits = count_marked(&b, |chunk| ascii_range(chunk, b'0', b'9'));
            prop_assert_eq!(digits, b.iter().filter(|c| c.is_ascii_digit()).count());
            let high = count_marked(&b, bytes_from_d9);
            prop_assert_eq!(high, b.iter().filter(|&&c| c >= 0xD9).count());
        }

        #[test]
        fn characters_are_counted_like_chars(text in "\\PC{0,40}") {
            prop_assert_eq!(char_count(&text), text.chars().count());
        }
    }

    #[test]
    fn windows_stop_at_char_boundaries() {
        let t = "äöü 123 üß";
        assert_eq!(before(t, 7, 5), "öü ");
    }

    #[test]
    fn any_ci_matches_case_insensitively_in_short_and_long_text() {
        assert!(any_ci("Ihre BESTELLung 123", &["xyz", "bestell"]));
        assert!(any_ci("Rückruf bitte", &["RÜCKRUF", "rückruf"]));
        assert!(!any_ci("order", &["orders"]));
        assert!(!any_ci("", &["a"]));
        let long = format!("{}Tracking", "x".repeat(80));
        assert!(any_ci(&long, &["tracking"]));
        assert!(!any_ci(&long, &["sendung"]));
    }

    #[test]
    fn byte_parallel_classes_match_byte_by_byte() {
        for (chunk, _, _) in every_byte_at_every_position(*b"aZ0_9Ab-") {
            let word = u64::from_le_bytes(chunk);
            for (k, &c) in chunk.iter().enumerate() {
                let high = |mask: u64| mask >> (8 * k + 7) & 1 == 1;
                assert_eq!(high(ascii_letters(word)), c.is_ascii_alphabetic(), "{c:#x}");
                let lower = ascii_lower_word(word).to_le_bytes();
                assert_eq!(lower[k], c.to_ascii_lowercase(), "{c:#x}");
                assert_eq!(high(ascii_range(word, b'0', b'9')), c.is_ascii_digit());
                assert_eq!(high(bytes_from_d9(word)), c >= 0xD9, "{c:#x}");
                for byte in [0x00, 0xC5, 0xFF, b'a'] {
                    assert_eq!(high(bytes_equal(word, byte)), c == byte, "{c:#x} {byte:#x}");
                }
            }
        }
    }

    #[test]
    fn fast_hasher_reads_every_byte_of_short_words() {
        use std::hash::BuildHasher;
        let words = [
            "a",
            "b",
            "ab",
            "ba",
            "abc",
            "bbc",
            "acc",
            "abb",
            "abcd",
            "abce",
            "xbcd",
            "abcde",
            "abcdf",
            "abzde",
            "abcdefg",
            "abcxefg",
            "abcdefgh",
            "abcdefgha",
            "abcdefghb",
        ];
        let hashes: std::collections::HashSet<u64> = words
            .iter()
            .map(|w| FastHash::default().hash_one(w.as_bytes()))
            .collect();
        assert_eq!(hashes.len(), words.len());
    }

    #[test]
    fn lower_handles_umlauts() {
        let mut buf = [0u8; 64];
        assert_eq!(lower("MÜLLER", &mut buf), Some("müller"));
    }
}
