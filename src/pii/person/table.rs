//! PERSON's word table: every word any list knows (lower case) with its
//! role bits. Words of up to 16 bytes (nearly all) are kept inline, their
//! bytes zero-padded: up to eight bytes as one 64-bit key, up to 16 as
//! two. A lookup compares numbers in the table's own memory instead of
//! following a pointer to the key and comparing bytes, and the small
//! entries (16 and 24 bytes) keep the tables few cache lines wide. Longer
//! words have a table of their own. A word never holds a zero byte (it is
//! letters, hyphens and apostrophes), so the padding cannot make two words
//! equal.

use std::collections::HashMap;

use crate::pii::text::FastHash;

/// The longest word kept inline.
const INLINE: usize = 16;

/// Lower-cased words and their role bits.
#[derive(Debug, Default)]
pub(super) struct WordTable {
    up_to_8: HashMap<u64, u32, FastHash>,
    up_to_16: HashMap<(u64, u64), u32, FastHash>,
    long: HashMap<Box<[u8]>, u32, FastHash>,
}

impl WordTable {
    /// Adds `bit` to the bits of `word`.
    pub(super) fn add(&mut self, word: &[u8], bit: u32) {
        let mut head = [0u8; INLINE];
        let n = word.len().min(INLINE);
        head[..n].copy_from_slice(&word[..n]);
        let bits = match key(head, word.len()) {
            Key::UpTo8(key) => self.up_to_8.entry(key).or_insert(0),
            Key::UpTo16(key) => self.up_to_16.entry(key).or_insert(0),
            Key::Long => self.long.entry(word.into()).or_insert(0),
        };
        *bits |= bit;
    }

    /// Adds to every word's bits what `bits_of` gives for it.
    pub(super) fn add_to_each(&mut self, mut bits_of: impl FnMut(&[u8]) -> u32) {
        let short = (self.up_to_8.iter_mut()).map(|(&key, bits)| (u128::from(key), bits));
        let longer = (self.up_to_16.iter_mut())
            .map(|(&(low, high), bits)| (u128::from(low) | u128::from(high) << 64, bits));
        for (key, bits) in short.chain(longer) {
            let bytes = key.to_le_bytes();
            let len = INLINE - (key.leading_zeros() / 8) as usize;
            *bits |= bits_of(&bytes[..len]);
        }
        for (word, bits) in &mut self.long {
            *bits |= bits_of(word);
        }
    }

    /// The bits of the word held in the first `len` bytes of `buf` (0 if
    /// the table does not know it, or `len` is beyond the buffer). The
    /// bytes after `len` may hold anything.
    #[inline]
    pub(super) fn get(&self, buf: &[u8; 64], len: usize) -> u32 {
        if len <= 8 {
            // Most words: the first table, keyed without the 16-byte form.
            let mut low = [0u8; 8];
            low.copy_from_slice(&buf[..8]);
            return self.up_to_8.get(&short_key(low, len)).copied().unwrap_or(0);
        }
        let mut head = [0u8; INLINE];
        head.copy_from_slice(&buf[..INLINE]);
        let found = match key(head, len) {
            Key::UpTo8(key) => self.up_to_8.get(&key),
            Key::UpTo16(key) => self.up_to_16.get(&key),
            Key::Long => buf.get(..len).and_then(|word| self.long.get(word)),
        };
        found.copied().unwrap_or(0)
    }
}

/// Which table holds a word, and its key there.
enum Key {
    UpTo8(u64),
    UpTo16((u64, u64)),
    Long,
}

/// The key of the word of `len` bytes whose first bytes (up to 16) are
/// `head`; what follows the word in `head` is ignored.
fn key(head: [u8; INLINE], len: usize) -> Key {
    if len > INLINE {
        return Key::Long;
    }
    if len <= 8 {
        let mut low = [0u8; 8];
        low.copy_from_slice(&head[..8]);
        return Key::UpTo8(short_key(low, len));
    }
    let key = padded(u128::from_le_bytes(head), len);
    Key::UpTo16((key as u64, (key >> 64) as u64))
}

/// The key of a word of `len` bytes (at most 8) whose first bytes are
/// `low`: those bytes, little-endian, with the rest zeroed.
fn short_key(low: [u8; 8], len: usize) -> u64 {
    let mask = u64::MAX.checked_shr(64 - 8 * len as u32).unwrap_or(0);
    u64::from_le_bytes(low) & mask
}

/// `bytes` (little-endian) with all but the first `len` bytes zeroed
/// (`len` at most 16).
fn padded(bytes: u128, len: usize) -> u128 {
    match len {
        INLINE => bytes,
        _ => bytes & ((1u128 << (8 * len)) - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn buffer(word: &[u8], garbage: u8) -> [u8; 64] {
        let mut buf = [garbage; 64];
        buf[..word.len()].copy_from_slice(word);
        buf
    }

    #[test]
    fn words_of_every_length_are_found_whatever_follows_them() {
        let words: Vec<Vec<u8>> = (1..=40).map(|n| vec![b'a' + (n % 26) as u8; n]).collect();
        let mut table = WordTable::default();
        for (i, w) in words.iter().enumerate() {
            table.add(w, 1 << (i % 16));
        }
        for (i, w) in words.iter().enumerate() {
            for garbage in [0, b'a', 0xFF] {
                assert_eq!(table.get(&buffer(w, garbage), w.len()), 1 << (i % 16));
            }
            // A prefix or extension of a known word is another word.
            assert_eq!(table.get(&buffer(w, b'z'), w.len() + 1), 0);
            assert_eq!(table.get(&buffer(w, b'z'), w.len() - 1), 0);
        }
        assert_eq!(table.get(&[b'a'; 64], 65), 0);
    }

    #[test]
    fn bits_accumulate_and_each_word_is_visited_whole() {
        let mut table = WordTable::default();
        let (short, long) = ("müller", "donaudampfschifffahrt");
        table.add(short.as_bytes(), 1);
        table.add(short.as_bytes(), 2);
        table.add(long.as_bytes(), 4);
        let mut seen = Vec::new();
        table.add_to_each(|w| {
            seen.push(String::from_utf8_lossy(w).into_owned());
            8
        });
        seen.sort();
        assert_eq!(seen, [long, short]);
        assert_eq!(
            table.get(&buffer(short.as_bytes(), 7), short.len()),
            1 | 2 | 8
        );
        assert_eq!(table.get(&buffer(long.as_bytes(), 7), long.len()), 4 | 8);
    }
}
