use super::super::text::every_byte_at_every_position;
use super::*;

fn found(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let _ = Persons::new().detect(text, &mut out);
    out.iter().map(|h| &text[h.start..h.end]).collect()
}

#[test]
fn names_after_honorifics_greetings_and_introductions_are_found() {
    assert_eq!(found("Sehr geehrte Frau Dr. Keller,"), vec!["Keller"]);
    assert_eq!(found("Hallo Efe, kommst du?"), vec!["Efe"]);
    assert_eq!(found("Mein Name ist Jutta Braun."), vec!["Jutta Braun"]);
    assert_eq!(found("my name is may carter"), vec!["may carter"]);
    assert_eq!(found("Viele Grüße\nPetra vom Team"), vec!["Petra"]);
}

/// The slot before the last word of `text`, from the words before it as
/// `detect` reads them.
fn slot_before_last(text: &str) -> Slot {
    let persons = Persons::new();
    let (mut prev, mut last): ([Prev; 2], Prev) = ([None; 2], None);
    let mut pos = 0;
    while let Some((w, _)) = persons.next_word(text, pos) {
        if last.is_some() {
            prev = [last, prev[0]];
        }
        last = Some((w.start, w.end, w.flags));
        pos = w.end;
    }
    slot(text, last.map_or(0, |(start, _, _)| start), prev)
}

/// One opener per role bit that [`slot`] reads; a word with none of them
/// opens no slot (the fast path).
#[test]
fn each_kind_of_word_before_a_name_opens_its_slot() {
    for (text, want) in [
        ("Viele Grüße\nX", Slot::Strong),
        ("Herr X", Slot::Honorific),
        ("Frau Dr. med. X", Slot::Honorific),
        ("I am X", Slot::Strong),
        ("Hallo X", Slot::Strong),
        ("Kontoinhaber X", Slot::Strong),
        ("bei X", Slot::Weak),
        ("Haus X", Slot::Free),
        ("X", Slot::Free),
    ] {
        assert_eq!(slot_before_last(text), want, "{text}");
    }
}

#[test]
fn common_words_that_are_names_stay_unflagged_without_a_slot() {
    assert!(found("Das ist zu klein und the bill is high.").is_empty());
    assert!(found("Will you send it? To be frank, no.").is_empty());
    assert!(found("Hallo zusammen, danke!").is_empty());
}

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

use proptest::prelude::*;

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
