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

#[test]
fn common_words_that_are_names_stay_unflagged_without_a_slot() {
    assert!(found("Das ist zu klein und the bill is high.").is_empty());
    assert!(found("Will you send it? To be frank, no.").is_empty());
    assert!(found("Hallo zusammen, danke!").is_empty());
}
