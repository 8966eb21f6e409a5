//! Mentions: where a text can hold a gazetteer town (CITY after a
//! residence phrase) or a health lexicon term (HEALTH_INFO), and whether it
//! can hold a spelled-out e-mail address (`anna(at)web.de`).
//!
//! The town and health automata are the two largest tables of the engine
//! (about 1.2 and 1.7 MB), and most texts mention neither. PERSON's word
//! pass already lower-cases every word and looks it up in one table, so that
//! table also marks the first word of every town and every whole health
//! term ([`TOWN`], [`HEALTH`]), and [`Tails`] tells whether a word ends in a
//! compound tail (`Nuss|allergie`, `Blinddarm-|OP`). The engine tries the
//! two automata only where such a word says an entry can start ([`Starts`]):
//! at the word, or where a tail that the word ends with begins.
//!
//! This is a necessary condition, not a guess: an automaton match that the
//! detector would keep starts at a word boundary (towns, whole terms) or ends
//! at one (tails), so the letters at that boundary form a whole word of the
//! text, which equals the entry's first word (or ends with the tail's last
//! word) up to ASCII case. Words are runs of letters: PERSON's words with
//! inner hyphens and apostrophes are split into their runs for this. An
//! entry that does not start (or a tail that does not end) with a letter,
//! and a word too long for the lower-casing buffer, make the answer
//! "anywhere".
//!
//! Spelled-out addresses work the same way: every one holds a word of
//! [`spelled::WORDS`] ([`SPELLED`]) at which [`spelled::opens`] says yes,
//! so the pattern runs only on texts where the word pass met one.

use super::health::{self, TermKind};
use super::places::CITIES;
use super::structured::spelled;
use super::text::ascii_lower_word;

/// Word-table bit: the first word of a gazetteer town.
pub(crate) const TOWN: u32 = 1 << 12;
/// Word-table bit: the first word of a whole health term.
pub(crate) const HEALTH: u32 = 1 << 13;

/// Word-table bit: the word ends in a compound tail. Set for every word the
/// table knows when it is built ([`Tails::bit`]), so only unknown words (no
/// bit at all) are checked as they come.
pub(crate) const TAIL: u32 = 1 << 14;

/// Word-table bit: a word of a spelled-out e-mail address (`at`, `dot`,
/// `punkt`, see [`spelled`]).
pub(crate) const SPELLED: u32 = 1 << 15;

/// Longest word (in bytes) whose lower-cased form surely fits the 64-byte
/// buffer of `text::lower_fast` (lower-casing grows a character by at most
/// half its length).
const MAX_WORD: usize = 40;

/// What a text can mention.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mentions {
    /// Where a gazetteer town can start.
    pub(crate) towns: Starts,
    /// Where a health lexicon term can start.
    pub(crate) terms: Starts,
    /// Whether a spelled-out e-mail address can occur.
    pub(crate) spelled_email: bool,
}

/// Byte offsets where an entry of one list can start, ascending and
/// without repeats, or "anywhere" when there are more than fit (or the rule
/// above cannot decide). Kept on the stack: noting a word never allocates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Starts {
    at: [usize; STARTS],
    len: usize,
    anywhere: bool,
}

/// How many starts a list keeps before it answers "anywhere" (chat texts
/// rarely have more than two words that can start a town or a term).
const STARTS: usize = 8;

/// The lexicon's compound tails, by their last word. Most words are
/// answered from their last four bytes alone: one bit test for the ends of
/// four bytes or more (a filter on the last two let every German word
/// ending in `-en` or `-ng` through to the list), one comparison per
/// shorter end (`op`).
#[derive(Debug)]
pub(crate) struct Tails {
    /// One bit per hashed [`last_bytes`] of a long end.
    filter: [u64; FILTER_WORDS],
    /// Tails whose last word has four bytes or more.
    long: Vec<Tail>,
    /// Tails with a shorter last word: its length, its [`last_bytes`].
    short: Vec<(usize, u64, Tail)>,
}

/// Size of the [`Tails`] filter, in 64-bit words (4096 bits: about 30
/// ends set under 1 % of them).
const FILTER_WORDS: usize = 64;

/// One compound tail: its last word (`allergie`, `op`) ASCII-lower-cased,
/// and the whole tail as the automaton has it.
#[derive(Debug)]
struct Tail {
    last_word: Box<[u8]>,
    whole: Box<[u8]>,
}

/// The word-table entries for [`TOWN`] and [`HEALTH`] (lower-cased first
/// words) and [`SPELLED`], the tails, and what must always be answered
/// "yes" because an entry does not fit the rule.
pub(crate) fn table() -> (Vec<(String, u32)>, Tails, Mentions) {
    let mut keys: Vec<(String, u32)> = (spelled::WORDS.iter())
        .map(|w| ((*w).to_owned(), SPELLED))
        .collect();
    let mut always = Mentions::NONE;
    for town in super::gazetteer::lines(CITIES) {
        match first_word(town) {
            Some(w) => keys.push((w, TOWN)),
            None => always.towns = Starts::ANYWHERE,
        }
    }
    let mut ends = Vec::new();
    for (term, kind) in health::terms() {
        let word = match kind {
            TermKind::Whole => first_word(term).map(|w| keys.push((w, HEALTH))),
            TermKind::Tail | TermKind::GluedTail => last_word(term).map(|last_word| {
                ends.push(Tail {
                    last_word,
                    whole: term.as_bytes().into(),
                });
            }),
        };
        if word.is_none() {
            always.terms = Starts::ANYWHERE;
        }
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
    // A one-letter end would let a fifth of all words through its filter.
    (word.len() >= 2).then(|| word.into_bytes().into())
}

// === impl Mentions ===

impl Mentions {
    /// Nothing is possible (yet).
    pub(crate) const NONE: Self = Self {
        towns: Starts::NONE,
        terms: Starts::NONE,
        spelled_email: false,
    };

    /// Everything is possible.
    pub(crate) const ALL: Self = Self {
        towns: Starts::ANYWHERE,
        terms: Starts::ANYWHERE,
        spelled_email: true,
    };

    /// True once nothing more can be learned.
    pub(crate) fn complete(&self) -> bool {
        self.towns.anywhere && self.terms.anywhere && self.spelled_email
    }

    /// Notes the run of letters at the byte range `span` of `text`, with
    /// its word-table `flags` (0 if the table does not know it: every entry
    /// has a bit).
    pub(crate) fn note(&mut self, flags: u32, text: &str, span: (usize, usize), tails: &Tails) {
        let run = text.as_bytes().get(span.0..span.1).unwrap_or_default();
        let long = run.len() > MAX_WORD;
        let tail = flags & TAIL != 0 || (flags == 0 && tails.end(run));
        // Most words start nothing: decided above without a call.
        if long {
            *self = Self::ALL;
        } else if tail || flags & (TOWN | HEALTH | SPELLED) != 0 {
            self.note_starts(flags, text, span, tail, tails);
        }
    }

    /// The rare half of [`Mentions::note`]: the run can start a town or a
    /// term, it ends with a tail's last word (`tail`), or it is a word of
    /// a spelled-out address.
    #[inline(never)]
    fn note_starts(
        &mut self,
        flags: u32,
        text: &str,
        (start, end): (usize, usize),
        tail: bool,
        tails: &Tails,
    ) {
        if flags & TOWN != 0 {
            self.towns.push(start);
        }
        if flags & HEALTH != 0 {
            self.terms.push(start);
        }
        if flags & SPELLED != 0 && spelled::opens(text.as_bytes(), start) {
            self.spelled_email = true;
        }
        if tail {
            tails.starts(text, end, |at| self.terms.push(at));
        }
    }
}

// === impl Starts ===

impl Starts {
    /// No entry can start anywhere.
    pub(crate) const NONE: Self = Self {
        at: [0; STARTS],
        len: 0,
        anywhere: false,
    };

    /// An entry can start anywhere (the text must be searched).
    pub(crate) const ANYWHERE: Self = Self {
        anywhere: true,
        ..Self::NONE
    };

    /// Notes a start, in order; past the capacity, the answer becomes
    /// "anywhere".
    fn push(&mut self, at: usize) {
        if self.anywhere {
            return;
        }
        let kept = self.at.get(..self.len).unwrap_or_default();
        let i = kept.partition_point(|&k| k < at);
        if kept.get(i) == Some(&at) {
            return;
        }
        if self.len == STARTS {
            self.anywhere = true;
            return;
        }
        self.at.copy_within(i..self.len, i + 1);
        self.at[i] = at;
        self.len += 1;
    }

    /// True if an entry can start somewhere.
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
    /// From the tails (each last word has at least two bytes).
    fn new(tails: Vec<Tail>) -> Self {
        let mut filter = [0; FILTER_WORDS];
        let (mut long, mut short) = (Vec::new(), Vec::new());
        for tail in tails {
            let (key, n) = last_bytes(&tail.last_word);
            if n == 4 {
                let bit = filter_bit(key);
                filter[bit / 64] |= 1 << (bit % 64);
                long.push(tail);
            } else {
                short.push((n, key, tail));
            }
        }
        Self {
            filter,
            long,
            short,
        }
    }

    /// [`TAIL`] if the lower-cased table word `key` ends with a tail's last
    /// word, else 0. (Checking the lower-cased form answers "yes" whenever
    /// the text's own form would.)
    pub(crate) fn bit(&self, key: &[u8]) -> u32 {
        if self.end(key) { TAIL } else { 0 }
    }

    /// True if `word` ends with a tail's last word (ASCII case folded).
    fn end(&self, word: &[u8]) -> bool {
        let mut any = false;
        self.each_ending(word, |_| any = true);
        any
    }

    /// Calls `found` with the start of every tail that ends at byte `end`
    /// of `text` (ASCII case folded, as the automaton matches).
    fn starts(&self, text: &str, end: usize, mut found: impl FnMut(usize)) {
        let head = text.as_bytes().get(..end).unwrap_or_default();
        self.each_ending(head, |t| {
            if let Some(start) = end.checked_sub(t.whole.len())
                && head[start..].eq_ignore_ascii_case(&t.whole)
            {
                found(start);
            }
        });
    }

    /// Calls `f` with every tail whose last word `word` ends with.
    fn each_ending(&self, word: &[u8], mut f: impl FnMut(&Tail)) {
        let (key, n) = last_bytes(word);
        for (len, end, tail) in &self.short {
            if *len <= n && key >> (8 * (n - len)) == *end {
                f(tail);
            }
        }
        let bit = filter_bit(key);
        if n == 4 && self.filter[bit / 64] & (1 << (bit % 64)) != 0 {
            self.long.iter().filter(|t| t.ends(word)).for_each(f);
        }
    }
}

// === impl Tail ===

impl Tail {
    /// True if `word` ends with this tail's last word.
    fn ends(&self, word: &[u8]) -> bool {
        word.len() >= self.last_word.len()
            && word[word.len() - self.last_word.len()..].eq_ignore_ascii_case(&self.last_word)
    }
}

/// The last four bytes of `word` (all of them if it is shorter),
/// ASCII-lower-cased, as one little-endian number, and how many they are.
/// Read as one word, not byte by byte: this runs for most words of a text.
fn last_bytes(word: &[u8]) -> (u64, usize) {
    let last = word.len().checked_sub(4).and_then(|at| word.get(at..));
    let raw = match last.and_then(|last| <[u8; 4]>::try_from(last).ok()) {
        Some(last) => u64::from(u32::from_le_bytes(last)),
        None => word.iter().rev().fold(0, |x, &b| x << 8 | u64::from(b)),
    };
    (ascii_lower_word(raw), word.len().min(4))
}

/// The filter bit of [`last_bytes`]: the top twelve bits of a
/// multiplicative hash.
fn filter_bit(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 52) as usize
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
        assert!(tails.long.len() > 20);
        assert_eq!(tails.short.len(), 1, "op");
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

    proptest::proptest! {
        /// The filters never hide a tail: the answer equals a plain
        /// comparison with every last word.
        #[test]
        fn tail_filters_answer_like_a_plain_comparison(
            head in "[a-zA-Zäöü]{0,6}",
            end in proptest::sample::select(vec!["allergie", "ALLERGIEN", "Op", "störung", "STöRUNG", "p", "ung", "en", "eit", ""]),
        ) {
            let (_, tails, _) = table();
            let word = format!("{head}{end}");
            let plain = tails
                .long
                .iter()
                .chain(tails.short.iter().map(|(_, _, t)| t))
                .any(|t| word.as_bytes().to_ascii_lowercase().ends_with(&t.last_word));
            proptest::prop_assert_eq!(tails.end(word.as_bytes()), plain, "{}", word);
        }
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
            let run = |towns: &Starts, terms: &Starts| {
                let mut out = Vec::new();
                places.detect(&text, &super::super::text::Facts::of(&text), towns, &mut out);
                health.detect(&text, false, terms, &mut out);
                out
            };
            prop_assert_eq!(
                run(&seen.towns, &seen.terms),
                run(&Starts::ANYWHERE, &Starts::ANYWHERE),
                "{}",
                text
            );
        }
    }

    /// Asserts that PERSON's pass over `text` notes a start (of a town if
    /// `towns`, else of a term) at each of `expected`.
    fn assert_starts(text: &str, towns: bool, expected: &[&str]) {
        let Some(persons) = DETECTORS.0.as_ref() else {
            panic!("detectors failed to build");
        };
        let seen = persons.detect(text, &mut Vec::new());
        let starts = if towns { seen.towns } else { seen.terms };
        let starts = starts.list().unwrap_or_default();
        for entry in expected {
            let at = text.find(entry).unwrap_or_default();
            assert!(starts.contains(&at), "{entry} at {at}: {starts:?}");
        }
    }

    #[test]
    fn town_starts_are_the_offsets_of_runs_inside_joined_words() {
        let text = "Grüße aus Groß-Berlin-Mitte, Nord’Essen’Süd und Halle";
        assert_starts(text, true, &["Berlin", "Essen", "Halle"]);
    }

    #[test]
    fn term_starts_are_where_terms_and_tails_begin() {
        let text = "Ich habe Migräne, eine NUSSALLERGIE und eine Blinddarm-OP.";
        assert_starts(text, false, &["Migräne", "ALLERGIE", "-OP"]);
    }

    #[test]
    fn starts_are_kept_in_order_until_the_capacity() {
        let mut starts = Starts::NONE;
        assert!(!starts.any());
        for at in (0..STARTS).rev() {
            starts.push(at * 10);
            starts.push(at * 10);
        }
        let kept: Vec<usize> = (0..STARTS).map(|at| at * 10).collect();
        assert_eq!(starts.list(), Some(&kept[..]));
        starts.push(1000);
        assert_eq!(starts.list(), None);
        assert!(starts.any());
    }

    #[test]
    fn long_words_answer_yes() {
        let (_, tails, _) = table();
        let mut m = Mentions::NONE;
        let long = "x".repeat(MAX_WORD + 1);
        m.note(0, &long, (0, long.len()), &tails);
        assert_eq!(m, Mentions::ALL);
    }
}
