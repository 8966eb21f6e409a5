use super::super::text::{DigitRunList, Rare, ascii_word};
use super::*;

/// Built once: building per case would dominate the tests' time.
static STRUCTURED: std::sync::LazyLock<Option<Structured>> =
    std::sync::LazyLock::new(|| Structured::new().ok());

/// The structured detector's hits in `text` (none if it failed to build).
fn hits(text: &str) -> Vec<Hit> {
    let mut out = Vec::new();
    if let Some(s) = STRUCTURED.as_ref() {
        s.detect(text, &Facts::of(text), &mut out);
    }
    out
}

fn found(text: &str) -> Vec<(Label, &str)> {
    hits(text)
        .iter()
        .map(|h| (h.label, &text[h.start..h.end]))
        .collect()
}

fn labels_in(text: &str) -> Vec<Label> {
    found(text).into_iter().map(|(l, _)| l).collect()
}

#[test]
fn valid_identifiers_are_found_with_their_label() {
    let cases = [
        (
            "IBAN DE89 3704 0044 0532 0130 00.",
            Label::IbanCode,
            "DE89 3704 0044 0532 0130 00",
        ),
        (
            "Karte 4111 1111 1111 1111 bitte",
            Label::CreditCard,
            "4111 1111 1111 1111",
        ),
        (
            "Steuer-ID: 86 095 742 719",
            Label::DeTaxId,
            "86 095 742 719",
        ),
        ("USt-IdNr. DE 136 695 976", Label::DeVatId, "DE 136 695 976"),
        (
            "SV-Nr.: 15 070649 C 103",
            Label::DeSocialSecurity,
            "15 070649 C 103",
        ),
        ("KV-Nr.: A123456780", Label::DeHealthInsurance, "A123456780"),
        ("Reisepass C01X00T478", Label::DePassport, "C01X00T478"),
        ("Ausweis L01X00T471", Label::DeIdCard, "L01X00T471"),
        (
            "mail an max.muster@example.org!",
            Label::EmailAddress,
            "max.muster@example.org",
        ),
        ("IP 192.0.2.44 gesperrt", Label::IpAddress, "192.0.2.44"),
        (
            "from 2001:db8::8a2e:370:7334 today",
            Label::IpAddress,
            "2001:db8::8a2e:370:7334",
        ),
    ];
    for (text, label, value) in cases {
        assert!(
            found(text).contains(&(label, value)),
            "{text}: {:?}",
            found(text)
        );
    }
}

#[test]
fn changed_check_digits_are_rejected() {
    for text in [
        "IBAN DE89 3704 0044 0532 0130 01",
        "Karte 4111 1111 1111 1112",
        "Steuer-ID: 86 095 742 718",
        "USt-IdNr. DE136695977",
        "SV-Nr.: 15 070649 C 104",
        "KV-Nr.: A123456781",
        "Reisepass C01X00T479",
    ] {
        assert!(found(text).is_empty(), "{text}: {:?}", found(text));
    }
}

#[test]
fn look_alikes_are_not_flagged() {
    for text in [
        "Bestellung 302-4829104-1192837 ist raus",
        "Sendung 00340434161094042557 unterwegs",
        "Ticket INC0012345 und #48392",
        "Preis €1,299.00 oder 49,99 €",
        "Version 4.12.0.3 installiert",
        "Gläubiger-ID DE98ZZZ09999999999",
        "Gutschein 1234 5678 9012 3456",
        "Termin um 14:30 oder 10:30:00",
    ] {
        assert!(labels_in(text).is_empty(), "{text}: {:?}", found(text));
    }
}

/// The number printed on the card has no check digit: found only after
/// a document word, labelled by its first letter.
#[test]
fn nine_character_document_numbers_need_a_document_word() {
    assert_eq!(
        found("Mein Personalausweis: L01X00T47, Reisepass C01X00T47"),
        vec![
            (Label::DeIdCard, "L01X00T47"),
            (Label::DePassport, "C01X00T47")
        ]
    );
    assert_eq!(
        found("ID card number: t22000129"),
        vec![(Label::DeIdCard, "t22000129")]
    );
    assert!(found("Gutschein L01X00T47 eingelöst").is_empty());
    assert!(found("Kundenkarte M12345678").is_empty());
    assert!(found("Das passt, Code K3J9P2M7X").is_empty());
    assert_eq!(
        found("Passnummer C01X00T47"),
        vec![(Label::DePassport, "C01X00T47")]
    );
    assert!(found("Ausweis, Bestellnummer L01X00T47").is_empty());
    // Letters alone are no number (another script's digit makes the
    // pattern search the whole text, not only words with digits).
    assert_eq!(
        found("١ Passwort XYZWVTRPN, Ausweis L01X00T47"),
        vec![(Label::DeIdCard, "L01X00T47")]
    );
}

#[test]
fn folded_and_foreign_characters_in_a_document_number_are_no_document() {
    // The Kelvin sign folds to `k` and `١` is a digit to the patterns, but
    // a document number is ten ASCII characters. (Two Kelvin signs once
    // made the detector index past the end of the compacted number.)
    let text = "Ausweis L\u{212A}\u{212A}1234567, L\u{212A}١2345678 und T220001293";
    assert_eq!(found(text), vec![(Label::DeIdCard, "T220001293")]);
}

#[test]
fn texts_of_one_or_two_characters_are_scanned_safely() {
    for text in ["0", "1 2", "a1", "-5", "::", "1.2"] {
        assert!(found(text).is_empty(), "{text}");
    }
}

#[test]
fn patterns_are_tried_at_word_starts_only_where_no_match_can_begin_elsewhere() {
    let starts = |text: &str| {
        Shape::of(text, &DigitRunList::of(text))
            .starts
            .usable(&Rare::of(text))
            .is_some()
    };
    assert!(starts(
        "IBAN DE89 3704 0044 0532 0130 00, Ausweis T220001293"
    ));
    assert!(starts("Grüße, 4111 1111 1111 1111 😀"));
    // Folded characters and other scripts' digits can begin a match.
    assert!(!starts("Nr \u{212A}123456789"));
    assert!(!starts("ſt 12345678901"));
    assert!(!starts("١٢٣ 12345678901"));
    // More words with digits than the list holds.
    assert!(!starts(&"1 ".repeat(17)));
    assert!(starts(&"1 ".repeat(16)));
}

#[test]
fn identifiers_beyond_the_listed_offsets_are_still_found() {
    let far = format!("{} IBAN DE89 3704 0044 0532 0130 00", "x".repeat(70_000));
    assert_eq!(
        found(&far),
        vec![(Label::IbanCode, "DE89 3704 0044 0532 0130 00")]
    );
    let many = format!("{}IBAN DE89 3704 0044 0532 0130 00", "1 ".repeat(20));
    assert_eq!(
        found(&many),
        vec![(Label::IbanCode, "DE89 3704 0044 0532 0130 00")]
    );
}

/// The byte-by-byte outer walk `Shape::of` replaced: every byte visited,
/// every word noted (with the looser spaced-VAT rule: `DE` and a space,
/// whatever follows).
fn shape_byte_by_byte(text: &str) -> Shape {
    let b = text.as_bytes();
    let mut p = Shape::default();
    let mut prev = (0, 0);
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if ascii_word(c) {
            p.vat_start |= matches!(b.get(i..i + 3), Some(b"DE " | b"de "));
            i = p.word(b, i, &mut prev);
            continue;
        }
        match c {
            b'@' => p.at = true,
            b':' => {
                let back = b[..i].iter().rev().take(5);
                let between = back.take_while(|c| c.is_ascii_hexdigit()).count();
                p.hex_colons |= i > between && between < 5 && b[i - between - 1] == b':';
            }
            b'.' if i > 0
                && b[i - 1].is_ascii_digit()
                && b.get(i + 1).is_some_and(u8::is_ascii_digit) =>
            {
                p.dotted_digits = p.dotted_digits.saturating_add(1);
            }
            _ => {}
        }
        i += 1;
    }
    p
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Visiting only the words with digits notes what visiting every byte
    /// notes; the spaced-VAT flag is stricter (it also wants the digit the
    /// VAT pattern needs after `DE `), never looser.
    #[test]
    fn shape_from_digit_words_matches_the_byte_walk(
        text in r"([0-9]{1,12}|[a-zA-Z_]{1,4}|DE|de|[ .:@\-/,]|ä|😀){0,60}"
    ) {
        let fast = Shape::of(&text, &DigitRunList::of(&text));
        let slow = shape_byte_by_byte(&text);
        prop_assert!(!fast.vat_start || slow.vat_start, "{}", text);
        let fields = |p: Shape| (
            p.at, p.hex_colons, p.dotted_digits, p.iban_start, p.card_groups,
            p.tax_groups, p.kvnr_word, p.document_word, p.digit_runs, p.rvnr_letter,
            p.document_nine,
        );
        prop_assert_eq!(fields(fast), fields(slow), "{}", text);
    }

    /// Wherever the IPv6 and RVNR patterns match (in ASCII text, where
    /// their check can pass), the flags that gate them are set.
    #[test]
    fn ipv6_and_rvnr_matches_set_their_flags(
        text in r"([0-9]{1,8}|[0-9a-fA-F]{1,4}|:|::|[ \-.]|[a-zA-Z]){0,16}",
    ) {
        let Some(s) = STRUCTURED.as_ref() else {
            return Err(TestCaseError::fail("patterns failed to build"));
        };
        let p = Shape::of(&text, &DigitRunList::of(&text));
        prop_assert!(!s.ipv6.is_match(&text) || p.hex_colons, "{}", text);
        prop_assert!(!s.rvnr.anywhere.is_match(&text) || p.rvnr_letter, "{}", text);
        let nine_with_digit = s.doc_nine.anywhere.find_iter(&text)
            .any(|m| m.as_str().bytes().any(|b| b.is_ascii_digit()));
        prop_assert!(!nine_with_digit || p.document_nine, "{}", text);
    }

    /// Every RVNR shape, with any separators, sets the RVNR flag.
    #[test]
    fn every_rvnr_shape_sets_its_flag(
        before in r"[a-z ,.]{0,4}",
        parts in r"[0-9]{2}[ \-]?[0-9]{6}[ \-]?[a-zA-Z][ \-]?[0-9]{2}[ \-]?[0-9]",
        after in r"[a-z ,.]{0,4}",
    ) {
        let text = format!("{before} {parts} {after}");
        let Some(s) = STRUCTURED.as_ref() else {
            return Err(TestCaseError::fail("patterns failed to build"));
        };
        prop_assert!(s.rvnr.anywhere.is_match(&text), "{}", text);
        prop_assert!(Shape::of(&text, &DigitRunList::of(&text)).rvnr_letter, "{}", text);
    }

    /// Identifier shapes mixed with characters the patterns fold or count
    /// as digits (Kelvin sign, long s, sharp s, Arabic-Indic digits) never
    /// make a detector panic, and spans stay on character boundaries.
    #[test]
    fn identifier_shapes_with_folded_characters_never_panic(
        pieces in proptest::collection::vec(
            prop_oneof![
                "[0-9]{1,10}",
                "[A-Za-z]{1,3}",
                proptest::sample::select(vec![
                    "\u{212A}", "\u{17F}", "ß", "١", "٣", "DE", " ", "-", "@", ":", ".",
                    "T220001293", "DE89 3704 0044 0532 0130 00", "65 170839 J 003",
                    "L\u{212A}\u{212A}", "1234567", "\u{212A}١",
                ])
                .prop_map(str::to_owned),
            ],
            0..16,
        ),
    ) {
        let text = pieces.concat();
        prop_assert!(STRUCTURED.is_some(), "patterns failed to build");
        for h in hits(&text) {
            prop_assert!(text.get(h.start..h.end).is_some_and(|span| !span.is_empty()));
        }
    }

    /// Each word-start pattern, tried anchored at the starts `Shape` lists,
    /// finds what a whole-text search finds: the same matches, in order.
    /// Texts with a folded character or too many words take the search.
    #[test]
    fn matches_at_word_starts_equal_a_whole_text_search(
        pieces in proptest::collection::vec(
            prop_oneof![
                4 => proptest::sample::select(vec![
                    "DE89 3704 0044 0532 0130 00", "DE89370400440532013000", "4111 1111 1111 1111",
                    "4111111111111111", "3782 822463 10005", "12 345 678 901", "12345678901",
                    "123 456 789 01", "DE123456789", "de 123 456 789", "DE 123456789",
                    "65 170839 J 003", "65170839J003", "A123456789", "T220001293", "L01X00T47",
                    "192.168.0.1", "1.2.3.4.5", "DE", "de", " ", " ", "-", ".", "_", ":", "ä",
                    "Ä", "x", "\n", "😀",
                ])
                .prop_map(str::to_owned),
                2 => "[0-9]{1,12}",
                2 => "[A-Za-z]{1,3}",
                1 => proptest::sample::select(vec!["\u{212A}", "\u{17F}", "١", "ß"])
                    .prop_map(str::to_owned),
            ],
            0..20,
        ),
    ) {
        let text = pieces.concat();
        let Some(s) = STRUCTURED.as_ref() else {
            return Err(TestCaseError::fail("patterns failed to build"));
        };
        let shape = Shape::of(&text, &DigitRunList::of(&text));
        let starts = shape.starts.usable(&Rare::of(&text));
        let patterns = [&s.iban, &s.card, &s.tax, &s.vat, &s.rvnr, &s.kvnr, &s.doc, &s.ipv4];
        for pattern in patterns {
            let search: Vec<(usize, usize)> =
                pattern.anywhere.find_iter(&text).map(|m| (m.start(), m.end())).collect();
            let at_starts: Vec<(usize, usize)> =
                pattern.spans(&text, starts).map(|m| (m.start(), m.end())).collect();
            prop_assert_eq!(at_starts, search, "{:?} in {:?}", pattern.anywhere, text);
        }
    }

    /// The stricter spaced-VAT flag still lets every VAT id through.
    #[test]
    fn every_vat_id_shape_sets_the_vat_flag(
        before in r"[a-z ,.]{0,6}",
        digits in r"[1-9][0-9]{8}",
        spaced: bool,
        upper: bool,
    ) {
        let prefix = if upper { "DE" } else { "de" };
        let gap = if spaced { " " } else { "" };
        let text = format!("{before} {prefix}{gap}{digits}");
        prop_assert!(Shape::of(&text, &DigitRunList::of(&text)).vat_start, "{}", text);
    }
}
