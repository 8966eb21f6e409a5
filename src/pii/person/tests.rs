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

/// A sign-off or greeting after another (`danke LG`, `Hallo Bin …`) is
/// no name itself; the name after it is.
#[test]
fn words_that_open_a_slot_are_no_names_themselves() {
    assert_eq!(found("Danke! LG Petra"), vec!["Petra"]);
    assert_eq!(
        found("Vielen Dank. VG Thomas Müller"),
        vec!["Thomas Müller"]
    );
    assert_eq!(found("passt, danke!\nLG"), Vec::<&str>::new());
    assert_eq!(found("October 28 works, thanks!\nBest"), Vec::<&str>::new());
    // `son` is a weak opener and also in the last-name list.
    assert_eq!(found("Hallo, my son Lukas is ill"), vec!["Lukas"]);
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
        ("Hallo! X", Slot::Weak),
        ("Hallo? X", Slot::Weak),
        ("Herr 2 X", Slot::Free),
        ("Herr\nX", Slot::Free),
        ("Familie X", Slot::Weak),
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
fn salutations_opening_hours_and_questions_are_not_names() {
    assert_no_names(&[
        "Sehr geehrte Damen und Herren, vielen Dank.",
        // `Fr` before a number is Friday, not Frau.
        "Wir haben Mo–Do 8–17 Uhr, Fr 8–13 Uhr geöffnet.",
        "Hallo? Ist da jemand?",
        "Hallo! Störung seit heute morgen.",
        "Ich muss meiner Familie Bescheid geben.",
    ]);
}

#[test]
fn known_names_follow_a_closed_greeting_and_a_family() {
    assert_eq!(found("Moin! Klaus ist heute nicht da."), vec!["Klaus"]);
    assert_eq!(found("Liebe Grüße, Familie Hoffmann"), vec!["Hoffmann"]);
}

#[test]
fn contractions_and_titles_are_not_names() {
    assert_eq!(
        found("Hi, I'm Liam Brown and I applied for the job."),
        vec!["Liam Brown"]
    );
    assert!(found("Good morning, I'd like to verify my passport.").is_empty());
    assert_eq!(
        found("Kontakt: Herr Prof. Dr. med. Jutta Braun"),
        vec!["Jutta Braun"]
    );
}

#[test]
fn hyphenated_names_are_known_when_every_part_is() {
    let persons = Persons::new();
    assert_eq!(persons.hyphenated_name_bits("Anna-Lena"), FIRST);
    assert_eq!(persons.hyphenated_name_bits("schneider-weber"), LAST);
    assert_eq!(persons.hyphenated_name_bits("Anna-Haus"), 0);
    assert_eq!(persons.hyphenated_name_bits("Anna-"), 0);
    // A weak slot (`ich bin`) needs a known name.
    assert_eq!(found("Ich bin Anna-Lena, danke"), vec!["Anna-Lena"]);
}

// Name particles (see `particles`).

#[test]
fn foreign_particles_join_a_capitalised_name() {
    assert_eq!(
        found("mein Name ist Anna van der Berg."),
        ["Anna van der Berg"]
    );
    assert_eq!(
        found("Hi, I'm Maria de la Cruz, booking"),
        ["Maria de la Cruz"]
    );
    assert_eq!(found("Viele Grüße, Jan de Vries"), ["Jan de Vries"]);
    assert_eq!(
        found("Grüße, Ludwig van Beethoven"),
        ["Ludwig van Beethoven"]
    );
}

#[test]
fn a_name_can_start_with_a_particle_after_an_honorific() {
    assert_eq!(
        found("Sehr geehrter Herr von Weizsäcker,"),
        ["von Weizsäcker"]
    );
    assert_eq!(found("Dear Mr van der Meer,"), ["van der Meer"]);
    // Only over single spaces, and never to a stop word.
    assert_eq!(found("Herrn Jan de\nVries"), ["Jan"]);
    assert_eq!(found("Frau van, Meer"), Vec::<&str>::new());
    assert_eq!(found("Dear Mr van The"), Vec::<&str>::new());
    // Capitalised, a particle word is a name like any other.
    assert_eq!(found("Hallo Van, wie geht's?"), ["Van"]);
    assert_eq!(found("Viele Grüße\nde Vries"), ["de Vries"]);
}

#[test]
fn german_particles_after_a_first_name_need_a_known_last_name() {
    assert_eq!(found("Hallo, hier ist Tim von Telekom"), ["Tim"]);
    assert_eq!(found("Grüße an Anna von der Arbeit"), ["Anna"]);
    // Nor does a German particle open a name after a greeting.
    assert!(found("Viele Grüße von der Post").is_empty());
    assert!(found("Hallo da Draußen!").is_empty());
}

fn assert_no_names(texts: &[&str]) {
    for text in texts {
        assert_eq!(found(text), Vec::<&str>::new(), "{text}");
    }
}

/// After a greeting, an unknown capitalised word that runs on into a
/// lower-case word starts a sentence; a name stands alone or is known.
#[test]
fn a_greeting_before_a_sentence_opens_no_unknown_name() {
    assert_no_names(&[
        "Moin Reifen einlagern, geht das?",
        "Hello KüchenKram team, quick question",
        "Hallo, Alles klar, bis morgen",
        "Good morning, Need to cancel my order",
    ]);
    assert_eq!(found("Hallo Efe, kommst du?"), ["Efe"]);
    assert_eq!(found("Hallo Anna wie geht's"), ["Anna"]);
    // Only a lower-case word runs on: `Ich` starts the next sentence.
    assert_eq!(found("Hallo Xaverius Ich komme morgen"), ["Xaverius"]);
}

/// `<name> hier` / `<name> here` at a line's start introduces its writer,
/// known name or not; `hier` inside a sentence does not.
#[test]
fn a_line_that_opens_with_name_hier_introduces_its_writer() {
    assert_eq!(found("Faris hier 👋 hab eine Frage"), ["Faris"]);
    assert_eq!(
        found("Hallo zusammen,\nJuri here, quick question"),
        ["Juri"]
    );
    assert_eq!(found("Hallo, Faris hier. Geht das?"), ["Faris"]);
    assert_no_names(&[
        "Paket hier ist kaputt",
        "Die Rechnung ist hier 👍",
        "Der Zettel hier 👍",
        "Faris hierher",
    ]);
}

/// A sign-off after a name and a possessive `'s` stay outside the span.
#[test]
fn sign_offs_and_possessives_are_no_part_of_a_name() {
    assert_eq!(found("Frau Jule Hahn VG Jule"), ["Jule Hahn", "Jule"]);
    assert_eq!(
        found("This is about Herr Richard Bianchi's car"),
        ["Richard Bianchi"]
    );
    assert_eq!(found("Frau Anna’s Termin"), ["Anna"]);
    // The greeting rule reads the word as written, `'s` and all.
    assert_no_names(&["Hallo, Gibt's ne Störung?"]);
}

/// A known first name opens a sentence as often as any other place
/// (`Hannah ist am 14.2. im Urlaub`); first names that are also common
/// words there (`Jan 5`, `Kai 3`, `Mercedes`, `Will you`) are ambiguous.
#[test]
fn a_first_name_at_the_start_of_a_sentence_is_found() {
    assert_eq!(
        found("Hannah ist am 14.2. leider im Urlaub"),
        vec!["Hannah"]
    );
    assert_eq!(
        found("Danke für alles. Werner kommt morgen"),
        vec!["Werner"]
    );
    assert_no_names(&[
        "Jan 5 passt mir gut",
        "Kai 3 ist gesperrt.",
        "Mercedes steht vor der Tür",
        "Will you send it?",
    ]);
}

/// `Mit freundlichen Grüßen` signs off like `Viele Grüße`; a department
/// that signs for a company is no name.
#[test]
fn the_formal_sign_off_opens_a_name_and_a_department_is_none() {
    assert_eq!(
        found("Mit freundlichen Grüßen\nFriederike Kramer\nNetzStrom"),
        vec!["Friederike Kramer"]
    );
    assert_eq!(
        found("Hochachtungsvoll\nXaver Obermaier"),
        vec!["Xaver Obermaier"]
    );
    assert_no_names(&[
        "Mit freundlichen Grüßen\nKundenservice Nordbank",
        "Mit freundlichen Grüßen\nKundendienst Stadtwerke",
    ]);
}

/// Names are known in the spelling without umlauts too (`Björn` is
/// often typed `Bjoern`); a weak slot (`bei`) takes only known names.
#[test]
fn names_are_known_without_umlauts() {
    assert_eq!(without_umlauts("jürgen").as_deref(), Some("juergen"));
    assert_eq!(without_umlauts("strauß").as_deref(), Some("strauss"));
    assert_eq!(without_umlauts("anna"), None);
    assert_eq!(found("Termin bei Bjoern morgen?"), vec!["Bjoern"]);
    assert_eq!(found("Termin bei Björn morgen?"), vec!["Björn"]);
    assert_no_names(&["Termin bei Balduin morgen?"]);
}

/// A sign-off with a place opens a slot after the place (`Grüße aus Köln`
/// then a line break or comma); a field label that starts with `Name`
/// opens one after its colon.
#[test]
fn a_sign_off_with_a_place_and_a_name_label_carry_a_slot() {
    assert_eq!(found("Grüße aus Würzburg\nBalduin"), vec!["Balduin"]);
    assert_eq!(found("greetings from bad tölz, Balduin"), vec!["Balduin"]);
    assert_eq!(
        found("Name wie im Pass: Balduin Obermaier"),
        vec!["Balduin Obermaier"]
    );
    assert_eq!(found("name as in passport: Balduin"), vec!["Balduin"]);
    // The label ends at a line break, a comma or an introduction; the
    // slot waits four words at most.
    assert_eq!(
        found("Mein Name ist Anna, Adresse: Hauptweg 5"),
        vec!["Anna"]
    );
    assert_eq!(found("name ist anna und adresse: Hauptweg 5"), vec!["anna"]);
    assert_no_names(&[
        "Name bitte\nAdresse: Hauptweg 5",
        "Name steht im Pass, Stadt: Ulm",
        "Grüße aus dem schönen kleinen Ort am See\nBalduin",
        "Name wie immer auf dem Schild im Hof: Balduin",
        "Ich komme aus Köln\nBalduin",
    ]);
}

/// A name that is a stop word too (`Will`, `April`, `Sonntag`) counts
/// after an honorific, or after a greeting or sign-off when the clause
/// ends there.
#[test]
fn a_name_that_is_a_stop_word_counts_where_the_slot_is_clear() {
    assert_eq!(found("Sehr geehrte Frau Will, die Karte"), vec!["Will"]);
    assert_eq!(found("Hallo April, Reifen einlagern"), vec!["April"]);
    assert_eq!(found("Danke!\nGruß Sonntag"), vec!["Sonntag"]);
    assert_no_names(&[
        "Danke. Will nur kurz fragen",
        "Hello April 23 at 15:00 works",
        "Hallo Du, wie geht's?",
        "hallo will, bis morgen",
    ]);
}

/// The name on a doorbell (`Klingel Arslan`), a known first name that
/// introduces its writer in lower case (`johanna hier 👋`), and a known
/// name after a family word (`meine oma anna`).
#[test]
fn doorbells_lower_case_introductions_and_relatives_open_slots() {
    assert_eq!(
        found("Handy 0176 2053, Klingel Woźniak 😕"),
        vec!["Woźniak"]
    );
    assert_eq!(found("johanna hier 👋 hab ne Frage"), vec!["johanna"]);
    assert_eq!(found("schmitz here, quick question"), vec!["schmitz"]);
    assert_eq!(found("ich schreibe für meine oma anna"), vec!["anna"]);
    assert_no_names(&["zettel hier 👋", "Klingel defekt, bitte klopfen"]);
}

/// After a greeting or sign-off, an unknown word before a colon or a
/// number is a label, and one that runs on into a lower-case word starts
/// a sentence, unless an affiliation follows (`Ronja vom Praxisteam`).
#[test]
fn labels_and_sentences_after_greetings_and_sign_offs_are_no_names() {
    assert_no_names(&[
        "Hi Festnetz: 06131 760920",
        "Hallo Sendungsnummer 1Z935AA42866646754 steht",
        "Moin Gutschein FRUEHLING25 noch gültig?",
        "ok thanks\nMany thanks",
        "Hi, Access from 85.82.60.151 has been blocked",
    ]);
    assert_eq!(found("Viele Grüße\nRonja vom Praxisteam"), vec!["Ronja"]);
}

/// An ambiguous first name alone counts after a greeting or sign-off only
/// where its clause ends or an affiliation follows, and in a weak slot
/// only capitalised and before no number.
#[test]
fn ambiguous_first_names_need_a_clear_slot() {
    assert_no_names(&[
        "Hi, do you have any appointments?",
        "Hi Do you speak English?",
        "how much is balayage for long hair?",
        "please forward my paper to May 7",
    ]);
    assert_eq!(found("Viele Grüße\nFaith vom Team"), vec!["Faith"]);
    assert_eq!(found("Kann mein Mann Frank meinen Termin"), vec!["Frank"]);
}

/// In a slot, a lower-case first name takes an unknown lower-case
/// surname that ends its clause.
#[test]
fn a_lower_case_name_takes_a_surname_that_ends_its_clause() {
    assert_eq!(
        found("zum 60. meiner mutter claire szymańska, geht das?"),
        vec!["claire szymańska"]
    );
    assert_eq!(
        found("mein vater davide heller (geb. 1977)"),
        vec!["davide heller"]
    );
    assert_eq!(found("mein mann carl meinen Termin"), vec!["carl"]);
    assert_eq!(found("hallo anna kannst du"), vec!["anna"]);
    assert_eq!(found("Danke, anna kowalczyk!"), vec!["anna kowalczyk"]);
    assert_eq!(found("Anna szymańska, bitte"), vec!["Anna"]);
    // Only after a first name, written in lower case, as the name's
    // second word, and only a lower-case word.
    assert_eq!(found("vg meier sowieso!"), vec!["meier"]);
    assert_eq!(found("Danke, Anna sowieso!"), vec!["Anna"]);
    assert_eq!(found("hallo anna maria sowieso!"), vec!["anna maria"]);
    assert_eq!(found("danke, anna Sowieso!"), vec!["anna"]);
}
