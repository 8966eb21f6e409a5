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
