use std::sync::OnceLock;

use super::*;

fn found(text: &str) -> Vec<(Label, &str)> {
    let mut out = Vec::new();
    if let Ok(p) = Places::new() {
        p.detect(text, super::super::text::ascii_digits(text), true, &mut out);
    }
    out.iter()
        .map(|h| (h.label, &text[h.start..h.end]))
        .collect()
}

#[test]
fn german_address_lines_split_into_street_zip_and_city() {
    let f = found("Anschrift: Karl-Marx-Str. 101, 10115 Berlin");
    assert!(
        f.contains(&(Label::StreetAddress, "Karl-Marx-Str. 101")),
        "{f:?}"
    );
    assert!(f.contains(&(Label::ZipCode, "10115")), "{f:?}");
    assert!(f.contains(&(Label::City, "Berlin")), "{f:?}");
    let f = found("wohne jetzt Am Markt 12a");
    assert!(f.contains(&(Label::StreetAddress, "Am Markt 12a")), "{f:?}");
}

#[test]
fn uk_streets_and_residence_phrases_are_found() {
    assert!(
        found("I live at 14 Harrow Road now").contains(&(Label::StreetAddress, "14 Harrow Road"))
    );
    assert!(found("Viele Grüße aus Pforzheim").contains(&(Label::City, "Pforzheim")));
}

#[test]
fn numbers_and_common_words_are_not_addresses() {
    for text in [
        "Zählerstand 45823 kWh",
        "das Essen war gut",
        "im Jahr 2020",
        "Rechnung 2024/12345",
        "Ticket 2024-70663 Viele Grüße",
    ] {
        assert!(found(text).is_empty(), "{text}: {:?}", found(text));
    }
}

#[test]
fn a_plate_after_a_preposition_is_not_a_street() {
    assert!(
        found("beim MZ-T 8497 sind die Reifen fertig")
            .iter()
            .all(|(l, _)| *l != Label::StreetAddress)
    );
}

/// The unanchored pattern `uk_streets` must agree with.
fn uk_street_oracle(text: &str) -> Vec<(usize, usize)> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    let re = RE.get_or_init(|| {
        Regex::new(
            r"(?i)(?-u:\b)[0-9]{1,4}\s(?:\p{L}+\s){1,2}(?:road|street|lane|avenue|close|drive|way|gardens|place|crescent|terrace|court|square|hill|grove|row|mews|walk)(?-u:\b)",
        )
        .ok()
    });
    re.as_ref()
        .map(|re| re.find_iter(text).map(|m| (m.start(), m.end())).collect())
        .unwrap_or_default()
}

fn places() -> Option<&'static Places> {
    static PLACES: OnceLock<Option<Places>> = OnceLock::new();
    PLACES.get_or_init(|| Places::new().ok()).as_ref()
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1024))]

    #[test]
    fn uk_streets_found_at_house_numbers_equal_an_unanchored_search(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "14 ", "12345 ", "1\u{b}", "7\u{a0}", "9\u{c}", "x1 ", "_2 ", "3", "1234 ",
                "Harrow ", "Baker\u{a0}", "old ", "Ünter ", "Road", "road", "ſtreet", "Lane.",
                "Way", "wayne", "Close", "grove", "ä", "\u{660}3 ", "😀", " ", "-", "\n",
            ]),
            0..16,
        )
    ) {
        let text = parts.concat();
        let mut out = Vec::new();
        if let Some(p) = places() {
            p.uk_streets(&text, &mut out);
        }
        let got: Vec<(usize, usize)> = out.iter().map(|h| (h.start, h.end)).collect();
        proptest::prop_assert_eq!(got, uk_street_oracle(&text));
    }

    /// The street gate is sound: wherever the street pattern matches, it
    /// is open.
    #[test]
    fn the_street_gate_is_open_wherever_the_pattern_matches(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "Hauptstraße", "Am Markt", "str.", "weg", "An der ", "Ring", "x", "-", ".",
                " ", "\u{a0}", "\u{3000}", "1", "12", "4a", "/", "ä", "\n",
            ]),
            0..12,
        )
    ) {
        let text = parts.concat();
        if let Some(p) = places() {
            let matched = p.street.is_match(&text);
            proptest::prop_assert!(!matched || number_after_word(&text), "{}", text);
        }
    }
}

#[test]
fn the_street_gate_stays_shut_without_a_number_after_a_word() {
    for text in ["", "7", "Bestellung: 4711", "Preis (12)", "3 + 4", "Raum 1"] {
        assert_eq!(number_after_word(text), text == "Raum 1", "{text}");
    }
}
