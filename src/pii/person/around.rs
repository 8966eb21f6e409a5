//! Where a word stands in its text, for PERSON: at a line's start, alone
//! on its line, or before what follows it (`Sven hier`, `Reifen
//! einlagern`, a number, an affiliation such as `vom Team`, the end of its
//! clause). Byte offsets, read without allocating.

/// True if `hier` or `here` follows byte `end` after one space and ends
/// the clause: no letter or digit follows it but after spaces an emoji or
/// punctuation (`Sven hier 👋`, `Juri here, quick question`; not `Paket
/// hier ist kaputt`).
pub(super) fn introduces_itself(text: &str, end: usize) -> bool {
    let Some(rest) = text.get(end..).and_then(|r| r.strip_prefix(' ')) else {
        return false;
    };
    let word = rest.get(..4);
    let here =
        word.is_some_and(|w| w.eq_ignore_ascii_case("hier") || w.eq_ignore_ascii_case("here"));
    here && !rest[4..]
        .trim_start_matches(' ')
        .starts_with(char::is_alphanumeric)
}

/// True if a lower-case word follows byte `end` after one space.
pub(super) fn runs_on_lower(text: &str, end: usize) -> bool {
    text.get(end..)
        .and_then(|rest| rest.strip_prefix(' '))
        .and_then(|rest| rest.chars().next())
        .is_some_and(char::is_lowercase)
}

/// True if the word at byte `s` is the first on its line (spaces and
/// tabs before it aside).
pub(super) fn line_start(text: &str, s: usize) -> bool {
    text[..s].trim_end_matches([' ', '\t']).ends_with('\n') || text[..s].trim().is_empty()
}

/// True if nothing but punctuation, symbols and spaces follows byte `end`
/// on its line.
pub(super) fn line_rest_empty(text: &str, end: usize) -> bool {
    let rest = text[end..].split('\n').next().unwrap_or("");
    !rest.chars().any(char::is_alphanumeric)
}

/// `end`, moved before a possessive `'s` (or `’s`) that ends the name
/// at `start..end` (`Richard Bianchi's order` → `Richard Bianchi`).
pub(super) fn without_possessive(text: &str, start: usize, end: usize) -> usize {
    let name = text.get(start..end).unwrap_or_default();
    ["'s", "’s", "'S", "’S"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .map_or(end, |stem| start + stem.len())
}

/// True if neither a lower-case word (after one space) nor a number
/// follows byte `end`.
pub(super) fn ends_clause(text: &str, end: usize) -> bool {
    !number_follows(text, end) && !runs_on_lower(text, end)
}

/// True if an affiliation follows byte `end` after one space (`Ronja vom
/// Team`, `Sarah from Acme`; not `Access from 85.82…`): a signature, not
/// a sentence.
pub(super) fn affiliation_follows(text: &str, end: usize) -> bool {
    let rest = text.get(end..).and_then(|r| r.strip_prefix(' '));
    let after = ["vom ", "von ", "from ", "of "]
        .iter()
        .find_map(|p| rest.and_then(|r| r.strip_prefix(p)));
    after.is_some_and(|a| a.starts_with(char::is_alphabetic))
}

/// True if a number follows byte `end`, at once or after one space.
pub(super) fn number_follows(text: &str, end: usize) -> bool {
    let rest = text.get(end..).unwrap_or_default();
    let rest = rest.strip_prefix(' ').unwrap_or(rest);
    rest.starts_with(|c: char| c.is_ascii_digit())
}

/// True if, after spaces, the text ends at byte `end` or goes on with
/// neither a letter nor a digit (`,`, `(`, a line break, an emoji).
pub(super) fn punctuation_follows(text: &str, end: usize) -> bool {
    let rest = text.get(end..).unwrap_or_default().trim_start_matches(' ');
    !rest.starts_with(char::is_alphanumeric)
}
