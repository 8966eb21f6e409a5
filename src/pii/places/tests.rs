use std::sync::OnceLock;

use super::super::text::Rare;
use super::*;

fn found(text: &str) -> Vec<(Label, &str)> {
    let mut out = Vec::new();
    if let Ok(p) = Places::new() {
        p.detect(text, &Facts::of(text), &Starts::ANYWHERE, &mut out);
    }
    out.iter()
        .map(|h| (h.label, &text[h.start..h.end]))
        .collect()
}

/// Asserts that `text` has no finding labelled `label`.
fn assert_none(text: &str, label: Label) {
    let f = found(text);
    assert!(!f.iter().any(|(l, _)| *l == label), "{text}: {f:?}");
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
    // A house number with a letter, and the postcode it brings in.
    let f = found("Emma Thompson, 221B Baker Street, London NW1 6XE");
    assert!(
        f.contains(&(Label::StreetAddress, "221B Baker Street")),
        "{f:?}"
    );
    assert!(f.contains(&(Label::ZipCode, "NW1 6XE")), "{f:?}");
    assert!(found("Gate 12ab Road").is_empty());
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
            r"(?i)(?-u:\b)[0-9]{1,4}[a-z]?\s(?:\p{L}+\s){1,2}(?:road|street|lane|avenue|close|drive|way|gardens|place|crescent|terrace|court|square|hill|grove|row|mews|walk)(?-u:\b)",
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
                "14 ", "12345 ", "1\u{b}", "7\u{a0}", "9\u{c}", "x1 ", "_2 ", "3", "1234 ", "5b ",
                "4B", "4ab ", "6\u{17f} ",
                "Harrow ", "Baker\u{a0}", "old ", "Ünter ", "Road", "road", "ſtreet", "Lane.",
                "Way", "wayne", "Close", "grove", "ä", "\u{660}3 ", "😀", " ", "-", "\n",
                "Walk", "wal\u{212a}", "WALK", "Rowan ", "hill", "\u{2003}", "St.", "Mews ",
            ]),
            0..16,
        )
    ) {
        let text = parts.concat();
        let mut out = Vec::new();
        if let Some(p) = places() {
            p.uk_streets(&text, &DigitRunList::of(&text), &mut out);
        }
        let got: Vec<(usize, usize)> = out.iter().map(|h| (h.start, h.end)).collect();
        proptest::prop_assert_eq!(got, uk_street_oracle(&text));
    }

    /// The same on texts shaped like a UK street: a number, one to three
    /// words, a suffix (folded, as `(?i)` reads `ſ` and the Kelvin sign).
    #[test]
    fn uk_streets_equal_an_unanchored_search_on_street_shaped_texts(
        number in proptest::sample::select(vec!["14", "7", "12345", "x9", "221B", "3a", "3ab", "2\u{212a}"]),
        space in proptest::sample::select(vec![" ", "\u{a0}", "\t", "  ", "\u{2003}", "-"]),
        words in proptest::collection::vec(
            proptest::sample::select(vec!["Harrow", "Old", "KENT", "Ünter", "x", "St."]),
            0..4,
        ),
        suffix in proptest::sample::select(vec![
            "Road", "wal\u{212a}", "ſtreet", "Lane", "WAY", "ways", "mews", "Gardens", "hill",
        ]),
        tail in proptest::sample::select(vec!["", ".", "s", "é", " 5"]),
    ) {
        let mut text = number.to_owned();
        for w in &words {
            text.push_str(space);
            text.push_str(w);
        }
        text.push_str(space);
        text.push_str(suffix);
        text.push_str(tail);
        let mut out = Vec::new();
        if let Some(p) = places() {
            p.uk_streets(&text, &DigitRunList::of(&text), &mut out);
        }
        let got: Vec<(usize, usize)> = out.iter().map(|h| (h.start, h.end)).collect();
        proptest::prop_assert_eq!(got, uk_street_oracle(&text));
    }
}

/// The street gate's answer for `text`, with the digit runs it reads.
fn street_possible(p: &Places, text: &str) -> bool {
    p.street_gate.name_ends(text, &Facts::of(text)).any()
}

/// Matches as byte ranges.
type Spans = Vec<(usize, usize)>;

/// The street matches the detector reads, and those of a whole-text search.
fn streets_and_oracle(p: &Places, text: &str) -> (Spans, Spans) {
    let mut got = Vec::new();
    p.streets(text, &Facts::of(text), |s, e| got.push((s, e)));
    let oracle = p
        .street
        .find_iter(text)
        .map(|m| (m.start(), m.end()))
        .collect();
    (got, oracle)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4096))]

    /// The street gate is sound: wherever the street pattern matches, it
    /// is open. The parts fold (`STRASSE`, `GÄRTEN`, `ſ`, the Kelvin sign,
    /// `ẞ`), space (`U+00A0`, `U+0085`, `\v`, `U+2003`) and count (an
    /// Arabic-Indic three) the way the pattern does.
    #[test]
    fn the_street_gate_is_open_wherever_the_pattern_matches(
        parts in proptest::collection::vec(
            proptest::sample::select(vec![
                "Haupt", "Linden", "Karl-Marx-", "Bahnhof", "Jahr", "Bestellung", "Ölberg",
                "straße", "STRASSE", "Str.", "str", "Weg", "ALLEE", "gärten", "GÄRTEN", "Höhe",
                "hof", "Markt", "Am", "an der", "AN DEN", "im", "Zum", "beim", "Alte",
                "Breite", "FREIE", "ſtraße", "Par\u{212a}", "STRAẞE", "ł", "é", "§", "°", "×", "€", "„",
                "5", "12a", "2024", "7-9", "\u{663}", " ", "  ", "\u{a0}", "\u{85}", "\u{2003}",
                "\t", "\n", "\u{b}", "-", ".", ",", "😀",
            ]),
            0..10,
        )
    ) {
        let text = parts.concat();
        if let Some(p) = places() {
            let matched = p.street.is_match(&text);
            proptest::prop_assert!(!matched || street_possible(p, &text), "{:?}", text);
            let (got, oracle) = streets_and_oracle(p, &text);
            proptest::prop_assert_eq!(got, oracle, "{:?}", text);
        }
    }

    /// The same on texts shaped like the pattern's branches: an optional
    /// preposition, a word, an optional suffix, a house number.
    #[test]
    fn the_street_gate_is_open_on_street_shaped_texts(
        lead in proptest::sample::select(vec!["", "x ", "wohne ", "1", "Ä", "ł"]),
        prep in proptest::sample::select(vec![
            "", "Am", "an der", "AN DEN", "auf dem", "im", "Zum", "zur", "beim", "Alte",
            "hinter der", "am alten", "Bei der", "ſum", "bei", "an der alten", "AN DER ALTEN",
        ]),
        space in proptest::sample::select(vec![
            "", " ", "\u{a0}", "\u{85}", "\u{b}", "\t", "\n", "  ", "\u{2003}", "-",
        ]),
        word in proptest::sample::select(vec![
            "Jahr", "Linden", "Ölberg", "É", "ł", "Karl-Marx-", "x", "Mühlen", "Juni", "Ä-",
            "Ost-West", "Sankt-", "a-b",
        ]),
        suffix in proptest::sample::select(vec![
            "", "straße", "STRASSE", "Str.", "str", "weg", "Gärten", "GÄRTEN", "höhe", "HÖHE",
            "ſtraße", "par\u{212a}", "STRAẞE", "er Straße", "markt", "PROMENADE",
        ]),
        gap in proptest::sample::select(vec!["", " ", "\u{a0}", "\u{85}", "\u{b}", "  ", "\u{2003}"]),
        number in proptest::sample::select(vec!["5", "12a", "2024", "7-9", "\u{663}", "x"]),
    ) {
        let text = format!("{lead}{prep}{space}{word}{suffix}{gap}{number}");
        if let Some(p) = places() {
            let matched = p.street.is_match(&text);
            proptest::prop_assert!(!matched || street_possible(p, &text), "{:?}", text);
            let (got, oracle) = streets_and_oracle(p, &text);
            proptest::prop_assert_eq!(got, oracle, "{:?}", text);
        }
    }
}

#[test]
fn the_street_gate_stays_shut_where_no_street_can_end() {
    let Some(p) = places() else {
        panic!("the place patterns compile");
    };
    for text in [
        "",
        "Bestellung 4711",
        "Lieferung2020 kam",
        "Preis: 49,99 €",
        "Ticket #88231 „dringend“ 😀",
        "Termin: 12.03.2025, 14:30",
    ] {
        assert!(!street_possible(p, text), "{text}");
    }
    for text in [
        "Hauptstraße 5",
        "Am Markt\u{a0}12a",
        "KARL-MARX-STR.101",
        "an der Alten Mühle 3",
        "Schlossgärten 4",
        "Im Jahr 2020",
        // Characters the byte checks leave to the pattern.
        "Bestellung \u{663}",
        "Bestellung\u{2003}4711",
        "ſ 1",
    ] {
        assert!(street_possible(p, text), "{text}");
    }
}

/// What `gate::unseen` must catch: every character outside ASCII that
/// the street pattern's `\s`, `\d` or `(?i)` letters match, unless the
/// byte checks judge it (U+0085, U+00A0, the letters of the words
/// themselves and the Latin-1 capitals they fold).
#[test]
fn the_street_gate_sees_or_defers_every_character_the_pattern_folds() {
    let letters: std::collections::BTreeSet<char> = STREET_SUFFIXES
        .iter()
        .chain(STREET_PREPOSITIONS)
        .flat_map(|w| w.chars())
        .filter(|c| c.is_alphabetic())
        .collect();
    let class: String = letters.iter().collect();
    let (Ok(folds), Ok(space_or_digit)) = (
        Regex::new(&format!(r"(?i)^[{class}]$")),
        Regex::new(r"^[\s\d]$"),
    ) else {
        panic!("the test patterns compile");
    };
    let mut buf = [0u8; 4];
    for c in '\u{80}'..=char::MAX {
        let s = c.encode_utf8(&mut buf);
        let judged = letters.contains(&c) || matches!(c, '\u{85}' | '\u{a0}' | 'Ä' | 'Ö' | 'Ü');
        if (folds.is_match(s) || space_or_digit.is_match(s)) && !judged {
            assert!(gate::unseen(&Rare::of(s)), "{c:?} U+{:04X}", u32::from(c));
        }
    }
}

/// A gazetteer town right after a street, after a comma or ` in `, is a
/// town without a postcode; an unknown word there is not, nor is a town
/// after a town.
#[test]
fn a_known_town_after_a_street_is_a_city() {
    let f = found("10115 Berlin, Köln");
    assert!(!f.contains(&(Label::City, "Köln")), "{f:?}");
    for (text, town) in [
        ("Adresse: Sandweg 55, Köln", "Köln"),
        ("bergweg 45,pforzheim mit freundlichen grüßen", "pforzheim"),
        ("Hochgasse 196 b, Frankfurt am Main", "Frankfurt am Main"),
        // `Essen` is also a word: only after a street, not after any `in`.
        ("Lieferung an Waldstraße 208 in Essen", "Essen"),
    ] {
        assert!(
            found(text).contains(&(Label::City, town)),
            "{text}: {:?}",
            found(text)
        );
    }
    for text in [
        "Adresse: Sandweg 55, Hinterhaus",
        "Adresse: Sandweg 55,   Köln",
        "Adresse: Sandweg 55 Köln",
        "Termin in Essen",
    ] {
        assert_none(text, Label::City);
    }
}

/// A comma before a postcode is no decimal comma: the street stays a
/// street (`Heinestraße 3,53158 Bonn`); before a price it is one.
#[test]
fn a_street_glued_to_its_postcode_is_a_street() {
    let f = found("Neue Adresse: Heinestraße 3,53158 Bonn");
    assert!(
        f.contains(&(Label::StreetAddress, "Heinestraße 3")),
        "{f:?}"
    );
    for text in ["Parkstraße 3,50 Euro", "Parkstraße 3,531581 Stück"] {
        assert_none(text, Label::StreetAddress);
    }
}

/// An adjective before a bare street word names a street (`Breite Straße
/// 27`, `Freie Strasse 88`).
#[test]
fn an_adjective_and_a_street_word_are_a_street() {
    for (text, street) in [
        (
            "Bin umgezogen: Breite Straße 27, 50752 Köln",
            "Breite Straße 27",
        ),
        ("an Freie Strasse 88, CH-8035 Zürich", "Freie Strasse 88"),
        ("neue Adresse: Lange Gasse 4", "Lange Gasse 4"),
    ] {
        let f = found(text);
        assert!(f.contains(&(Label::StreetAddress, street)), "{text}: {f:?}");
    }
}

/// A country prefix before a postcode (`CH-8037`) keeps it a postcode; a
/// reference number with a dash (`Ticket-8037`, `BCH-8037`) does not.
#[test]
fn postcodes_with_a_country_prefix_are_found() {
    let f = found("Spitalgasse 48, CH-8037 Zürich");
    assert!(f.contains(&(Label::ZipCode, "8037")), "{f:?}");
    assert!(f.contains(&(Label::City, "Zürich")), "{f:?}");
    let f = found("Lieferung nach d-10115 Berlin");
    assert!(f.contains(&(Label::ZipCode, "10115")), "{f:?}");
    for text in ["Ticket-8037 Zürich", "BCH-8037 Zürich", "Nr-10115 Berlin"] {
        assert_none(text, Label::ZipCode);
    }
}
