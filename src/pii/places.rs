//! STREET_ADDRESS, ZIP_CODE and CITY.
//!
//! Streets: a street-type suffix (`-straße`, `-weg`, `-allee` …) or a
//! preposition form (`Am Markt`, `An der Kirche`), or an adjective before a
//! bare street word (`Breite Straße`), followed by a house number;
//! UK `14 Harrow Road`, `221B Baker Street`. Postcodes: a plausible 5-digit
//! PLZ followed by a town, or right after a street; 4-digit AT/CH codes and
//! UK postcodes only next to a known town / street; a country prefix of
//! its own (`CH-8037`) is no reference number. Towns: the word(s) after a
//! postcode, a gazetteer town right after a street (`Sandweg 55, Köln`),
//! or one after a residence phrase (`wohne in`, `Grüße aus`, `born in`).

mod gate;

use regex::Regex;

use super::gazetteer::Gazetteer;
use super::mentions::Starts;
use super::text::{DigitRunList, Facts, Words, ascii_word, before, isolated, next_char, prev_char};
use super::{Hit, Label, PiiError};
use gate::NameEnds;

/// The address detectors.
#[derive(Debug)]
pub(crate) struct Places {
    street: Regex,
    street_at: Regex,
    uk_street: Regex,
    uk_zip: Regex,
    cities: Gazetteer,
    street_gate: gate::StreetGate,
}

// === impl Places ===

impl Places {
    pub(crate) fn new() -> Result<Self, PiiError> {
        let number = r"\s?\d{1,4}(?:\s?[a-zA-Z](?-u:\b))?(?:\s?[-/]\s?\d{1,4}[a-zA-Z]?)?";
        let suffix: Vec<String> = STREET_SUFFIXES.iter().map(|s| regex::escape(s)).collect();
        let suffix = format!("(?:{})", suffix.join("|"));
        let prep = format!("(?:{})", STREET_PREPOSITIONS.join("|"));
        let adjective =
            "(?:kleine|große|grosse|alte|neue|obere|untere|hohe|lange|breite|kurze|freie)";
        // `Berliner Straße`, `Breite Straße`, `Am Markt`, `Große Bleichstraße`.
        let street = format!(
            r"(?:\p{{Lu}}\p{{Ll}}+er\s(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm)|{adjective}\s(?:straße|strasse|str\.|weg|allee|gasse)|{prep}\s\p{{L}}[\p{{L}}\-]+|(?:{adjective}\s)?\p{{L}}[\p{{L}}\-]*{suffix})(?P<num>{number})"
        );
        Ok(Self {
            street: Regex::new(&format!(r"(?i)(?-u:\b){street}"))?,
            // The same, tried at a word boundary (checked by the caller).
            street_at: Regex::new(&format!(r"^(?i){street}"))?,
            // Anchored: it runs only at the house numbers `uk_streets` picks.
            uk_street: Regex::new(&format!(
                r"^(?i)[0-9]{{1,4}}[a-z]?\s(?:\p{{L}}+\s){{1,2}}(?:{})(?-u:\b)",
                UK_STREET_SUFFIXES.join("|")
            ))?,
            uk_zip: Regex::new(r"(?-u:\b)[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}(?-u:\b)")?,
            cities: Gazetteer::from_lines(CITIES)?,
            street_gate: gate::StreetGate::new(),
        })
    }

    /// Appends street, postcode and town findings in `text` to `out`;
    /// `facts` are those of `text`, `towns` tells where a gazetteer town
    /// can start (see [`super::mentions`]): only there can a town follow a
    /// residence phrase.
    pub(crate) fn detect(&self, text: &str, facts: &Facts<'_>, towns: &Starts, out: &mut Vec<Hit>) {
        let first = out.len();
        if facts.digits > 0 {
            self.streets(text, facts, |s, e| keep_street(text, s, e, out));
            self.uk_streets(text, &facts.runs, out);
            self.zips(text, &facts.runs, first, out);
            self.towns_after_streets(text, first, out);
        }
        if towns.any() {
            self.context_cities(text, towns, out);
        }
    }

    /// A gazetteer town right after a street of `out[first..]`, after a
    /// comma or ` in ` (`Sandweg 55, Köln`, `Waldstraße 208 in Essen`);
    /// a town after a postcode is the postcode rule's.
    fn towns_after_streets(&self, text: &str, first: usize, out: &mut Vec<Hit>) {
        let mut i = first;
        while let Some(&street) = out.get(i) {
            i += 1;
            if street.label != Label::StreetAddress {
                continue;
            }
            let town = town_start_after(text, street.end)
                .and_then(|at| Some((at, self.cities.match_at(text, at)?)));
            if let Some((at, end)) = town {
                out.push(Hit::new(Label::City, at, end, 0.8));
            }
        }
    }

    /// The matches of the German street pattern in `text`, in text order,
    /// as `find_iter` gives them: where the street gate says names can
    /// end, the pattern is tried only before those ends.
    fn streets(&self, text: &str, facts: &Facts<'_>, mut found: impl FnMut(usize, usize)) {
        match self.street_gate.name_ends(text, facts) {
            NameEnds::Anywhere => {
                for m in self.street.find_iter(text) {
                    found(m.start(), m.end());
                }
            }
            NameEnds::At(ends, len) => self.streets_before(text, &ends[..len], found),
        }
    }

    /// The matches of the street pattern in `text` whose name ends at one
    /// of `ends`, in text order: what `find_iter` gives when every match
    /// ends its name there. The pattern is tried anchored at each word
    /// boundary in the window before an end, and the search resumes after
    /// a match.
    fn streets_before(&self, text: &str, ends: &[usize], mut found: impl FnMut(usize, usize)) {
        let b = text.as_bytes();
        let mut next = 0;
        for &end in ends {
            for at in gate::name_window_start(b, end).max(next)..end {
                next = at + 1;
                if !boundary_before_letter(b, at) {
                    continue;
                }
                if let Some(m) = self.street_at.find(&text[at..]) {
                    found(at, at + m.end());
                    next = at + m.end();
                    break;
                }
            }
        }
    }

    /// `14 Harrow Road`: the anchored pattern is tried only where a UK
    /// street can start, so most texts are never scanned by a regex. The
    /// result equals an unanchored left-to-right search: every match starts
    /// at one of [`uk_house_numbers`], and the search resumes after a match.
    fn uk_streets(&self, text: &str, runs: &DigitRunList<'_>, out: &mut Vec<Hit>) {
        let mut resume = 0;
        for start in uk_house_numbers(text, runs) {
            if start < resume {
                continue;
            }
            if let Some(m) = self.uk_street.find(&text[start..]) {
                let end = start + m.end();
                out.push(Hit::new(Label::StreetAddress, start, end, 0.8));
                resume = end;
            }
        }
    }

    fn zips(&self, text: &str, runs: &DigitRunList<'_>, first: usize, out: &mut Vec<Hit>) {
        for (start, end) in zip_candidates(text, runs) {
            let five = end - start == 5;
            let after_ref =
                text[..start].ends_with(['-', '#', '/', '.', ':']) && !country_prefix(text, start);
            if five && !plausible_plz(&text[start..end]) || !isolated(text, start, end) || after_ref
            {
                continue;
            }
            if text[end..].starts_with(['.', ',', '-', '/']) && next_is_digit(text, end + 1) {
                continue;
            }
            let after_street = out[first..]
                .iter()
                .any(|h| h.label == Label::StreetAddress && h.end <= start && start - h.end <= 4);
            match self.city_after(text, end, five) {
                Some((s, e, known)) if five || known => {
                    out.push(Hit::new(Label::ZipCode, start, end, 0.85));
                    out.push(Hit::new(Label::City, s, e, if known { 0.9 } else { 0.7 }));
                }
                _ if after_street && five => {
                    out.push(Hit::new(Label::ZipCode, start, end, 0.7));
                }
                _ => {}
            }
        }
        // UK postcodes count only after a street.
        if !out[first..].iter().any(|h| h.label == Label::StreetAddress) {
            return;
        }
        for m in self.uk_zip.find_iter(text) {
            let near_street = out[first..].iter().any(|h| {
                h.label == Label::StreetAddress && h.end <= m.start() && m.start() - h.end <= 40
            });
            if near_street {
                out.push(Hit::new(Label::ZipCode, m.start(), m.end(), 0.75));
            }
        }
    }

    /// The town right after a postcode: a gazetteer entry, or (for a German
    /// PLZ) a capitalised word that is not a stop word.
    fn city_after(
        &self,
        text: &str,
        zip_end: usize,
        allow_unknown: bool,
    ) -> Option<(usize, usize, bool)> {
        let gap = text[zip_end..].len() - text[zip_end..].trim_start_matches([' ', '\t']).len();
        let at = zip_end + gap;
        if gap == 0 || gap > 2 {
            return None;
        }
        if let Some(end) = self.cities.match_at(text, at) {
            return Some((at, end, true));
        }
        if !allow_unknown || !next_char(text, at).is_some_and(char::is_uppercase) {
            return None;
        }
        let word_len = text[at..]
            .find(|c: char| !(c.is_alphabetic() || c == '-'))
            .unwrap_or(text.len() - at);
        let word = &text[at..at + word_len];
        (word_len >= 3 && !CITY_STOP.iter().any(|s| s.eq_ignore_ascii_case(word))).then_some((
            at,
            at + word_len,
            false,
        ))
    }

    /// Gazetteer towns after a residence phrase, tried where `towns` says
    /// one can start.
    fn context_cities(&self, text: &str, towns: &Starts, out: &mut Vec<Hit>) {
        self.cities.whole_words(text, towns.list(), |s, e| {
            let ctx = before(text, s, 24);
            let strong = STRONG_CITY_CONTEXT.occur_in(ctx);
            let weak = ends_with_word(ctx, WEAK_CITY_CONTEXT);
            let ambiguous = AMBIGUOUS_CITIES
                .iter()
                .any(|a| a.eq_ignore_ascii_case(&text[s..e]));
            if strong || (weak && !ambiguous) {
                out.push(Hit::new(Label::City, s, e, if strong { 0.85 } else { 0.6 }));
            }
        });
    }
}

/// Where a town can start after a street that ends at byte `end`: after
/// a comma and up to two spaces, or after ` in `.
fn town_start_after(text: &str, end: usize) -> Option<usize> {
    let rest = text.get(end..)?;
    if let Some(after) = rest.strip_prefix(',') {
        let town = after.trim_start_matches(' ');
        return (after.len() - town.len() <= 2).then_some(text.len() - town.len());
    }
    rest.starts_with(" in ").then_some(end + 4)
}

/// Adds the street pattern's match `start..end` to `out` unless its name
/// is glued to a word before it, is an upper-case code, holds a stop word,
/// or the number is a time, price or amount.
fn keep_street(text: &str, start: usize, end: usize, out: &mut Vec<Hit>) {
    let num_start = house_number_start(&text[start..end]) + start;
    if prev_char(text, start).is_some_and(char::is_alphabetic) {
        return;
    }
    let name = &text[start..num_start];
    let glued = !name.ends_with('.')
        && name.ends_with(char::is_alphabetic)
        && !text[num_start..].starts_with(char::is_whitespace);
    let prep_glued = glued
        && PREP_START.iter().any(|p| {
            name.len() > p.len()
                && name.is_char_boundary(p.len())
                && name[..p.len()].eq_ignore_ascii_case(p)
        });
    // `beim MZ-T 8497`: an upper-case code with a hyphen is a plate
    // or product code, not a street name.
    let last = name.split_whitespace().next_back().unwrap_or("");
    let code = last.contains('-') && !last.chars().any(char::is_lowercase);
    if prep_glued || code || STREET_STOP.occur_in(name) || not_a_house_number(text, end) {
        return;
    }
    out.push(Hit::new(Label::StreetAddress, start, end, 0.85));
}

/// True if the street pattern can start at byte `at`: an ASCII word
/// boundary (`(?-u:\b)`) before a letter. An ASCII letter must follow a
/// byte that is not an ASCII word byte; a character outside ASCII (a
/// letter or not: the pattern decides) must follow an ASCII word byte.
fn boundary_before_letter(b: &[u8], at: usize) -> bool {
    let word_before = at
        .checked_sub(1)
        .and_then(|i| b.get(i))
        .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_');
    match b.get(at) {
        Some(c) if c.is_ascii_alphabetic() => !word_before,
        Some(&c) if c >= 0xC0 => word_before,
        _ => false,
    }
}

/// Where a UK street (`14 Harrow Road`) can start: a run of one to four
/// ASCII digits at an ASCII word boundary (perhaps with a letter after
/// it), followed by one or two words and a street suffix as
/// [`uk_suffix_after`] sees them.
fn uk_house_numbers<'a>(
    text: &'a str,
    runs: &'a DigitRunList<'a>,
) -> impl Iterator<Item = usize> + 'a {
    let b = text.as_bytes();
    runs.iter().filter_map(move |(start, end, boundary)| {
        (boundary && end - start <= 4 && uk_suffix_after(b, end)).then_some(start)
    })
}

/// False only if no UK street suffix can follow the house number that
/// ends at byte `end` (or one ASCII letter later) the way the pattern
/// wants it: after a whitespace character, then one or two words of
/// letters, each followed by one whitespace character. A byte outside
/// ASCII on the way makes the answer "maybe": it can start a Unicode
/// letter or space, or be the Kelvin sign or long s that `(?i)` matches
/// for `k` and `s`. Where a suffix is compared, the word there is read
/// next, so such a byte inside a suffix is seen too.
fn uk_suffix_after(b: &[u8], end: usize) -> bool {
    // One letter may end the house number (`221B`).
    let mut i = end + usize::from(b.get(end).is_some_and(u8::is_ascii_alphabetic));
    for words_before in 0..=2 {
        match b.get(i) {
            Some(b' ' | b'\t'..=b'\r') => i += 1,
            Some(c) if !c.is_ascii() => return true,
            _ => return false,
        }
        let rest = b.get(i..).unwrap_or_default();
        let suffix = |s: &&str| {
            rest.get(..s.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(s.as_bytes()))
        };
        if words_before > 0 && UK_STREET_SUFFIXES.iter().any(suffix) {
            return true;
        }
        let word = i;
        while let Some(&c) = b.get(i) {
            if !c.is_ascii() {
                return true;
            }
            if !c.is_ascii_alphabetic() {
                break;
            }
            i += 1;
        }
        if i == word {
            return false;
        }
    }
    false
}

/// Byte offset of the house number in a street match: its first digit, or
/// the one space before it.
fn house_number_start(street: &str) -> usize {
    let Some(digit) = street.find(char::is_numeric) else {
        return street.len();
    };
    match street[..digit].chars().next_back() {
        Some(c) if c.is_whitespace() => digit - c.len_utf8(),
        _ => digit,
    }
}

fn ends_with_word(ctx: &str, words: &[&str]) -> bool {
    let t = ctx.trim_end();
    words.iter().any(|w| {
        t.len() >= w.len()
            && t.is_char_boundary(t.len() - w.len())
            && t[t.len() - w.len()..].eq_ignore_ascii_case(w)
            && !t[..t.len() - w.len()].ends_with(char::is_alphanumeric)
    })
}

/// House numbers are not followed by units, times or prices (`3,50`);
/// a comma before a postcode is no decimal comma (`Heinestraße 3,53158
/// Bonn`).
fn not_a_house_number(text: &str, end: usize) -> bool {
    let rest = text[end..].trim_start();
    let unit = [
        "uhr", "h ", "min", "%", "€", "eur", "kwh", "jahre", "tage", "euro", "mg", "stück", "x ",
    ];
    let postcode = text[end..].starts_with(',') && five_digits_at(text, end + 1);
    text[end..].starts_with([':', ',']) && next_is_digit(text, end + 1) && !postcode
        || text[end..].starts_with('.') && next_is_digit(text, end + 1)
        || unit.iter().any(|u| {
            rest.len() >= u.len()
                && rest.is_char_boundary(u.len())
                && rest[..u.len()].eq_ignore_ascii_case(u)
        })
}

/// True if a country prefix of a postcode ends at byte `at` (`CH-8037`,
/// `A-1010`, `D-10115`), as a word of its own.
fn country_prefix(text: &str, at: usize) -> bool {
    let head = text.as_bytes().get(..at).unwrap_or_default();
    ["ch-", "a-", "d-", "at-", "de-"].iter().any(|p| {
        head.len() >= p.len()
            && head[head.len() - p.len()..].eq_ignore_ascii_case(p.as_bytes())
            && !head[..head.len() - p.len()]
                .last()
                .is_some_and(u8::is_ascii_alphanumeric)
    })
}

/// True if exactly five ASCII digits start at byte `at` (a German
/// postcode's length).
fn five_digits_at(text: &str, at: usize) -> bool {
    let b = text.as_bytes().get(at..).unwrap_or_default();
    b.len() >= 5
        && b[..5].iter().all(u8::is_ascii_digit)
        && !b.get(5).is_some_and(u8::is_ascii_digit)
}

/// Maximal runs of 4–5 ASCII digits between non-word bytes: the
/// candidates of `\b\d{4,5}\b`, without a regex pass over the text.
fn zip_candidates<'a>(
    text: &'a str,
    runs: &'a DigitRunList<'a>,
) -> impl Iterator<Item = (usize, usize)> + 'a {
    let b = text.as_bytes();
    runs.iter().filter_map(move |(start, end, boundary)| {
        let word_after = b.get(end).is_some_and(|&c| ascii_word(c));
        ((4..=5).contains(&(end - start)) && boundary && !word_after).then_some((start, end))
    })
}

fn next_is_digit(text: &str, i: usize) -> bool {
    text.as_bytes().get(i).is_some_and(u8::is_ascii_digit)
}

/// German PLZ: 01001–99998 without the unused leading pairs.
fn plausible_plz(s: &str) -> bool {
    let lead = &s[..2];
    !matches!(lead, "00" | "05" | "43" | "62")
}

/// The town gazetteer: one town per line, as written.
pub(crate) const CITIES: &str = include_str!("data/cities.txt");

/// Street-type endings (`Hauptstraße`, `Lindenweg`, `Karl-Marx-Str.`).
const STREET_SUFFIXES: &[&str] = &[
    "straße",
    "strasse",
    "str.",
    "str",
    "weg",
    "allee",
    "platz",
    "gasse",
    "ring",
    "damm",
    "ufer",
    "chaussee",
    "steig",
    "pfad",
    "markt",
    "berg",
    "hof",
    "park",
    "promenade",
    "wall",
    "graben",
    "feld",
    "garten",
    "gärten",
    "kamp",
    "brücke",
    "tor",
    "stieg",
    "zeile",
    "winkel",
    "kai",
    "grund",
    "höhe",
    "anger",
    "twiete",
    "bogen",
    "terrasse",
    "wiese",
    "hang",
    "siedlung",
];
/// The last word of a UK street name (`Harrow Road`), lower case.
const UK_STREET_SUFFIXES: &[&str] = &[
    "road", "street", "lane", "avenue", "close", "drive", "way", "gardens", "place", "crescent",
    "terrace", "court", "square", "hill", "grove", "row", "mews", "walk",
];

/// Prepositions that open a street name (`Am Markt`, `An der Kirche`).
const STREET_PREPOSITIONS: &[&str] = &[
    "am",
    "an der",
    "an den",
    "an dem",
    "auf dem",
    "auf der",
    "auf den",
    "im",
    "zum",
    "zur",
    "unter den",
    "hinter der",
    "hinter dem",
    "vor dem",
    "bei der",
    "beim",
    "alte",
    "alter",
    "neue",
    "neuer",
    "am alten",
    "an der alten",
];
const PREP_START: &[&str] = &[
    "am ", "an ", "auf ", "im ", "zum ", "zur ", "unter ", "hinter ", "vor ", "bei ", "beim ",
];
static STREET_STOP: Words = Words::new(&[
    "rechnung",
    "bestellung",
    "auftrag",
    "vertrag",
    "nummer",
    "ticket",
    "kunden",
    "gutschein",
    "code",
    "version",
    "jahr",
    "monat",
    "woche",
    "tag ",
    "mai",
    "juni",
    "juli",
    "montag",
    "dienstag",
    "mittwoch",
    "donnerstag",
    "freitag",
    "samstag",
    "sonntag",
    "januar",
    "februar",
    "märz",
    "april",
    "august",
    "september",
    "oktober",
    "november",
    "dezember",
    "ende",
    "anfang",
    "zimmer",
    "raum",
    "seite",
    "kapitel",
    "termin",
    "platz ",
]);
const CITY_STOP: &[&str] = &[
    "kwh", "Stück", "Euro", "EUR", "Uhr", "Punkte", "Meter", "Liter",
];
static STRONG_CITY_CONTEXT: Words = Words::new(&[
    "wohne in",
    "wohnen in",
    "wohnhaft in",
    "grüße aus",
    "gruesse aus",
    "grüsse aus",
    "geboren in",
    "born in",
    "live in",
    "living in",
    "moved to",
    "umzug nach",
    "ziehe nach",
    "gezogen nach",
    "umgezogen nach",
    "wohnort",
    "ort:",
    "city:",
    "town:",
    "greetings from",
    "regards from",
    "komme aus",
    "come from",
    "i'm from",
    "bin aus",
    "von ",
]);
/// Prepositions before a town name.
const WEAK_CITY_CONTEXT: &[&str] = &["in", "nach", "aus", "from", "to", "bei", "near"];
const AMBIGUOUS_CITIES: &[&str] = &[
    "Essen", "Halle", "Hof", "Singen", "Zug", "Leer", "Marl", "Bern", "Biel", "Goch", "Weiden",
    "Hamm", "Bingen", "Peine", "Soest", "Verden", "Wesel", "Celle", "Homburg", "Minden",
];

#[cfg(test)]
mod tests;
