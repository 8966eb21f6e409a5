//! Mentions: where a text can hold a gazetteer town (CITY after a
//! residence phrase), and whether it can hold a health lexicon term
//! (HEALTH_INFO) at all.
//!
//! The town and health automata are the two largest tables of the engine
//! (about 1.2 and 1.7 MB), and most texts mention neither. PERSON's word
//! pass already lower-cases every word and looks it up in one table, so that
//! table also marks the first word of every town and every whole health
//! term ([`TOWN`], [`HEALTH`]), and [`Tails`] tells whether a word ends in a
//! compound tail (`Nuss|allergie`, `Blinddarm-|OP`). The engine runs the
//! health automaton only if the pass saw such a word, and tries towns only
//! at the words that can start one ([`TownStarts`]).
//!
//! This is a necessary condition, not a guess: an automaton match that the
//! detector would keep starts at a word boundary (towns, whole terms) or ends
//! at one (tails), so the letters at that boundary form a whole word of the
//! text, which equals the entry's first word (or ends with the tail's last
//! word) up to ASCII case. Words are runs of letters: PERSON's words with
//! inner hyphens and apostrophes are split into their runs for this. An
//! entry that does not start (or a tail that does not end) with a letter,
//! and a word too long for the lower-casing buffer, make the answer "yes"
//! (for towns: "anywhere").

use super::health::{self, TermKind};
use super::places::CITIES;

/// Word-table bit: the first word of a gazetteer town.
pub(crate) const TOWN: u16 = 1 << 12;
/// Word-table bit: the first word of a whole health term.
pub(crate) const HEALTH: u16 = 1 << 13;

/// Word-table bit: the word ends in a compound tail. Set for every word the
/// table knows when it is built ([`Tails::bit`]), so only unknown words (no
/// bit at all) are checked as they come.
pub(crate) const TAIL: u16 = 1 << 14;

/// Longest word (in bytes) whose lower-cased form surely fits the 64-byte
/// buffer of `text::lower_fast` (lower-casing grows a character by at most
/// half its length).
const MAX_WORD: usize = 40;

/// What a text can mention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mentions {
    /// Where a gazetteer town can start.
    pub(crate) towns: TownStarts,
    /// Some word could be part of a health lexicon term.
    pub(crate) health: bool,
}

/// The byte offsets, in text order, of the words that can start a
/// gazetteer town, or "anywhere" when there are more than fit (or the rule
/// above cannot decide). Kept on the stack: noting a word never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TownStarts {
    at: [usize; TOWN_STARTS],
    len: usize,
    anywhere: bool,
}

/// How many town starts a text keeps before it answers "anywhere" (chat
/// texts rarely have more than two words that can start a town).
const TOWN_STARTS: usize = 8;

/// The lexicon's compound tails, by their last word, with a filter on that
/// word's last two letters so most words are answered by one bit test.
#[derive(Debug)]
pub(crate) struct Tails {
    /// Last words of the tails (`allergie`, `op`), ASCII-lower-cased, each
    /// with its [`pair`] (compared first: most words that pass the filter
    /// end in a common pair such as `en`, shared by few ends).
    ends: Vec<(usize, Box<[u8]>)>,
    /// One bit per pair of ASCII-lower-cased last bytes of an end.
    pairs: Box<[u64; 1024]>,
}

/// The word-table entries for [`TOWN`] and [`HEALTH`] (lower-cased first
/// words), the tails, and what must always be answered "yes" because an
/// entry does not fit the rule.
pub(crate) fn table() -> (Vec<(String, u16)>, Tails, Mentions) {
    let mut keys = Vec::new();
    let mut always = Mentions::NONE;
    for town in super::gazetteer::lines(CITIES) {
        match first_word(town) {
            Some(w) => keys.push((w, TOWN)),
            None => always.towns = TownStarts::ANYWHERE,
        }
    }
    let mut ends = Vec::new();
    for (term, kind) in health::terms() {
        let word = match kind {
            TermKind::Whole => first_word(term).map(|w| keys.push((w, HEALTH))),
            TermKind::Tail | TermKind::GluedTail => last_word(term).map(|w| ends.push(w)),
        };
        always.health |= word.is_none();
    }
    (keys, Tails::new(ends), always)
}

/// The lower-cased leading run of letters, if `entry` starts with a letter.
fn first_word(entry: &str) -> Option<String> {
    let end = entry
        .find(|c: char| !c.is_alphabetic())
        .unwrap_or(entry.len());
    (end > 0).then(|| entry[..end].to_lowercase())
}

/// The trailing run of letters, if `entry` ends with an ASCII letter (the
/// tails are compared ASCII-case-insensitively, as the automaton does).
fn last_word(entry: &str) -> Option<Box<[u8]>> {
    if !entry.ends_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let start = entry.rfind(|c: char| !c.is_alphabetic()).map_or(0, |i| {
        i + entry[i..].chars().next().map_or(1, char::len_utf8)
    });
    let word = entry[start..].to_ascii_lowercase();
    // Shorter ends would slip past the two-byte filter in `Tails::end`.
    (word.len() >= 2).then(|| word.into_bytes().into())
}

// === impl Mentions ===

impl Mentions {
    /// Nothing is possible (yet).
    pub(crate) const NONE: Self = Self {
        towns: TownStarts::NONE,
        health: false,
    };

    /// Everything is possible.
    pub(crate) const ALL: Self = Self {
        towns: TownStarts::ANYWHERE,
        health: true,
    };

    /// True once nothing more can be learned.
    pub(crate) fn complete(&self) -> bool {
        self.towns.anywhere && self.health
    }

    /// Notes one run of letters starting at byte `at`: its word-table
    /// `flags` (0 if the table does not know it: every entry has a bit) and
    /// its text.
    pub(crate) fn note(&mut self, flags: u16, word: &str, at: usize, tails: &Tails) {
        if word.len() > MAX_WORD {
            *self = Self::ALL;
            return;
        }
        if flags & TOWN != 0 {
            self.towns.push(at);
        }
        if !self.health {
            self.health =
                flags & (HEALTH | TAIL) != 0 || (flags == 0 && tails.end(word.as_bytes()));
        }
    }
}

// === impl TownStarts ===

impl TownStarts {
    /// No town can start anywhere.
    pub(crate) const NONE: Self = Self {
        at: [0; TOWN_STARTS],
        len: 0,
        anywhere: false,
    };

    /// A town can start anywhere (the text must be searched).
    pub(crate) const ANYWHERE: Self = Self {
        anywhere: true,
        ..Self::NONE
    };

    /// Notes a start, after all noted so far; past the capacity, the
    /// answer becomes "anywhere".
    fn push(&mut self, at: usize) {
        match self.at.get_mut(self.len) {
            Some(slot) if !self.anywhere => {
                *slot = at;
                self.len += 1;
            }
            _ => self.anywhere = true,
        }
    }

    /// True if a town can start somewhere.
    pub(crate) fn any(&self) -> bool {
        self.anywhere || self.len > 0
    }

    /// The starts in text order, or `None` for "anywhere".
    pub(crate) fn list(&self) -> Option<&[usize]> {
        if self.anywhere {
            None
        } else {
            self.at.get(..self.len)
        }
    }
}

// === impl Tails ===

impl Tails {
    fn new(ends: Vec<Box<[u8]>>) -> Self {
        let mut pairs = Box::new([0u64; 1024]);
        let ends: Vec<(usize, Box<[u8]>)> = ends
            .into_iter()
            .filter_map(|e| Some((pair(&e)?, e)))
            .collect();
        for (k, _) in &ends {
            pairs[k / 64] |= 1 << (k % 64);
        }
        Self { ends, pairs }
    }

    /// [`TAIL`] if the lower-cased table word `key` ends with a tail's last
    /// word, else 0. (Checking the lower-cased form answers "yes" whenever
    /// the text's own form would.)
    pub(crate) fn bit(&self, key: &[u8]) -> u16 {
        if self.end(key) { TAIL } else { 0 }
    }

    /// True if `word` ends with a tail's last word (ASCII case folded).
    fn end(&self, word: &[u8]) -> bool {
        let Some(k) = pair(word) else {
            // Every tail's last word has at least two bytes (`last_word`).
            return false;
        };
        self.pairs[k / 64] & (1 << (k % 64)) != 0
            && self.ends.iter().any(|(p, e)| {
                *p == k
                    && word.len() >= e.len()
                    && word[word.len() - e.len()..].eq_ignore_ascii_case(e)
            })
    }
}

/// The last two bytes, ASCII-lower-cased, as one 16-bit index.
fn pair(word: &[u8]) -> Option<usize> {
    let [.., a, b] = word else {
        return None;
    };
    Some(usize::from(a.to_ascii_lowercase()) << 8 | usize::from(b.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_fits_the_rule() {
        let (keys, tails, always) = table();
        assert_eq!(always, Mentions::NONE, "an entry forces the scan");
        assert!(keys.iter().any(|(k, b)| k == "frankfurt" && *b == TOWN));
        assert!(keys.iter().any(|(k, b)| k == "peanut" && *b == HEALTH));
        assert!(tails.ends.len() > 20);
    }

    #[test]
    fn tails_are_found_at_word_ends_in_any_ascii_case() {
        let (_, tails, _) = table();
        assert!(tails.end(b"Nussallergie"));
        assert!(tails.end(b"OP"));
        assert!(tails.end(b"ANGSTST\xc3\xb6RUNG"));
        assert!(!tails.end(b"Allergiepass"));
        assert!(!tails.end(b"Lieferung"));
        assert!(!tails.end(b"p"));
    }

    #[test]
    fn first_and_last_words_are_runs_of_letters() {
        assert_eq!(first_word("Frankfurt (Oder)").as_deref(), Some("frankfurt"));
        assert_eq!(first_word("Überlingen").as_deref(), Some("überlingen"));
        assert_eq!(first_word("1. Hilfe"), None);
        assert_eq!(last_word("-op").as_deref(), Some(&b"op"[..]));
        assert_eq!(
            last_word("störung").as_deref(),
            Some(&b"st\xc3\xb6rung"[..])
        );
        assert_eq!(last_word("typ 2"), None);
        assert_eq!(last_word("-x"), None);
    }

    use proptest::prelude::*;

    use super::super::{health::Health, person::Persons, places::Places};

    /// Pieces that make towns and health terms appear in every shape the
    /// automata accept (any ASCII case, glued to compounds, after joiners).
    fn piece() -> impl Strategy<Value = String> {
        let towns: Vec<&str> = super::super::gazetteer::lines(CITIES).collect();
        let terms: Vec<&str> = health::terms().map(|(t, _)| t).collect();
        prop_oneof![
            proptest::sample::select(towns).prop_map(str::to_owned),
            proptest::sample::select(terms).prop_map(str::to_owned),
            Just("wohne in".to_owned()),
            Just("ich habe".to_owned()),
            "[a-zA-ZäöüÄÖÜß]{1,8}",
            r"[ \-'’.,()0-9😀\n]{1,3}",
        ]
        .prop_flat_map(|p| {
            (Just(p), 0..3u8).prop_map(|(p, case)| match case {
                0 => p.to_ascii_uppercase(),
                1 => p.to_ascii_lowercase(),
                _ => p,
            })
        })
    }

    /// Built once: building per case would dominate the test's time.
    static DETECTORS: std::sync::LazyLock<(Option<Persons>, Option<Places>, Option<Health>)> =
        std::sync::LazyLock::new(|| (Some(Persons::new()), Places::new().ok(), Health::new().ok()));

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// The gates are necessary conditions: skipping a scan they rule
        /// out, or trying towns only at the noted starts, never changes
        /// what the detectors find.
        #[test]
        fn gated_scans_find_what_ungated_scans_find(
            pieces in proptest::collection::vec(piece(), 1..8),
            spaced: bool,
        ) {
            let text = pieces.join(if spaced { " " } else { "" });
            let (Some(persons), Some(places), Some(health)) =
                (DETECTORS.0.as_ref(), DETECTORS.1.as_ref(), DETECTORS.2.as_ref())
            else {
                return Err(TestCaseError::fail("detectors failed to build"));
            };
            let seen = persons.detect(&text, &mut Vec::new());
            let run = |towns: &TownStarts, term: bool| {
                let mut out = Vec::new();
                places.detect(&text, super::super::text::ascii_digits(&text), towns, &mut out);
                health.detect(&text, false, term, &mut out);
                out
            };
            prop_assert_eq!(
                run(&seen.towns, seen.health),
                run(&TownStarts::ANYWHERE, true),
                "{}",
                text
            );
        }
    }

    #[test]
    fn town_starts_are_the_offsets_of_runs_inside_joined_words() {
        let Some(persons) = DETECTORS.0.as_ref() else {
            panic!("detectors failed to build");
        };
        let text = "Grüße aus Groß-Berlin-Mitte, Nord’Essen’Süd und Halle";
        let seen = persons.detect(text, &mut Vec::new());
        let starts = seen.towns.list().unwrap_or_default();
        for town in ["Berlin", "Essen", "Halle"] {
            let at = text.find(town).unwrap_or_default();
            assert!(starts.contains(&at), "{town} at {at}: {starts:?}");
        }
    }

    #[test]
    fn town_starts_past_the_capacity_answer_anywhere() {
        let mut towns = TownStarts::NONE;
        assert!(!towns.any());
        for at in 0..TOWN_STARTS {
            towns.push(at * 10);
        }
        let kept: Vec<usize> = (0..TOWN_STARTS).map(|at| at * 10).collect();
        assert_eq!(towns.list(), Some(&kept[..]));
        towns.push(1000);
        assert_eq!(towns.list(), None);
        assert!(towns.any());
    }

    #[test]
    fn long_words_answer_yes() {
        let (_, tails, _) = table();
        let mut m = Mentions::NONE;
        m.note(0, &"x".repeat(MAX_WORD + 1), 0, &tails);
        assert_eq!(m, Mentions::ALL);
    }
}
