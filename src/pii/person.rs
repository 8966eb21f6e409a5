//! PERSON: names from first- and last-name gazetteers plus the slots that
//! open a name in chat text — honorifics (`Herr`, `Frau`, `Mr`), greetings
//! (`Hallo`, `Dear`), self-introductions (`mein Name ist`, `ich bin`,
//! `my name is`), sign-offs (`Viele Grüße`, `LG`, `Cheers`) and field labels
//! (`Name:`). Titles are outside the span. Works word by word without
//! allocating: lookups lower-case into a stack buffer.

use super::gazetteer::lines;
use super::mentions::{self, Mentions, Tails};
use super::text::lower_fast;
use super::{Hit, Label};
use around::{
    affiliation_follows, ends_clause, introduces_itself, line_rest_empty, line_start,
    number_follows, punctuation_follows, runs_on_lower, without_possessive,
};
use carried::Carried;
use lists::{AMBIGUOUS, FIELD, GREETING, HONORIFIC, PAIR_SECOND, SIGN_OFF, TITLES, WEAK};
use particles::{Particle, particle};
use reader::read_word;
use table::WordTable;

/// The person-name detector.
#[derive(Debug)]
pub(crate) struct Persons {
    /// Every word any list knows (lower case), with its role bits: one
    /// lookup per word answers all gazetteer and slot questions, and
    /// whether the word can start a town or health term ([`mentions`]).
    words: WordTable,
    /// Compound tails of the health lexicon, for [`Mentions`].
    tails: Tails,
    /// What [`Mentions`] must always answer "yes" to.
    always: Mentions,
}

const FIRST: u32 = 1;
const LAST: u32 = 1 << 1;
const STOP: u32 = 1 << 2;
const AMBIG: u32 = 1 << 3;
const HONOR: u32 = 1 << 4;
const TITLE: u32 = 1 << 5;
const GREET: u32 = 1 << 6;
const SIGN: u32 = 1 << 7;
const FIELD_W: u32 = 1 << 8;
const WEAK_W: u32 = 1 << 9;
/// Second word of an introduction pair (`name ist`, `i am`, `ich heiße`).
const PAIR2: u32 = 1 << 10;
const NAME_W: u32 = 1 << 11;
/// The bits [`slot`] reads of the word before: a word with none of them
/// opens no slot, and `slot` answers it without reading the text. A bit
/// that `slot` comes to read belongs here too.
const OPENS_SLOT: u32 = SIGN | HONOR | TITLE | NAME_W | PAIR2 | GREET | FIELD_W | WEAK_W;
/// The bits of [`OPENS_SLOT`] that can open more than a weak slot.
const OPENS_STRONG_SLOT: u32 = OPENS_SLOT & !WEAK_W;
/// A name particle that is no German word (`van`, `de`; see [`particles`]).
const PARTICLE_FOREIGN: u32 = 1 << 16;
/// A name particle that is a German word too (`von`, `zu`, `da`).
const PARTICLE_GERMAN: u32 = 1 << 17;

/// What opens a name slot before a word.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    /// No trigger.
    Free,
    /// A weak trigger (`bei`, `von`, `ich bin`): needs a gazetteer name.
    Weak,
    /// Greeting, introduction or sign-off: a capitalised word or a gazetteer name.
    Strong,
    /// After an honorific: any word that is not a stop word.
    Honorific,
}

/// A word with its lookups.
#[derive(Clone, Copy, Debug)]
struct Word {
    start: usize,
    end: usize,
    capital: bool,
    first: bool,
    last: bool,
    stop: bool,
    ambiguous: bool,
    flags: u32,
}

/// A previous word: byte range and role bits.
type Prev = Option<(usize, usize, u32)>;

// === impl Persons ===

impl Persons {
    pub(crate) fn new() -> Self {
        let mut words = WordTable::default();
        let file = |data: &'static str| lines(data).flat_map(str::split_whitespace);
        let names = |data: &'static str| {
            file(data).flat_map(|name| [Some(name.to_owned()), without_umlauts(name)])
        };
        for (data, bit) in [
            (include_str!("data/first_names.txt"), FIRST),
            (include_str!("data/last_names.txt"), LAST),
        ] {
            for name in names(data).flatten() {
                words.add(name.as_bytes(), bit);
            }
        }
        let mut add = |list: &mut dyn Iterator<Item = &str>, bit: u32| {
            for w in list {
                words.add(w.as_bytes(), bit);
            }
        };
        add(&mut file(include_str!("data/name_stopwords.txt")), STOP);
        for (list, bit) in [
            (AMBIGUOUS, AMBIG),
            (HONORIFIC, HONOR),
            (TITLES, TITLE),
            (GREETING, GREET),
            (SIGN_OFF, SIGN),
            (FIELD, FIELD_W),
            (WEAK, WEAK_W),
            (PAIR_SECOND, PAIR2),
            (&["name"], NAME_W),
            (particles::FOREIGN, PARTICLE_FOREIGN),
            (particles::GERMAN, PARTICLE_GERMAN),
        ] {
            add(&mut list.iter().copied(), bit);
        }
        let (keys, tails, always) = mentions::table();
        for (key, bit) in &keys {
            add(&mut std::iter::once(key.as_str()), *bit);
        }
        words.add_to_each(|key| tails.bit(key));
        Self {
            words,
            tails,
            always,
        }
    }

    /// Appends person names in `text` to `out`, and tells what else the
    /// words of `text` can be part of (see [`mentions`]).
    pub(crate) fn detect(&self, text: &str, out: &mut Vec<Hit>) -> Mentions {
        let mut seen = self.always;
        let mut prev: [Prev; 2] = [None; 2];
        let (mut pos, mut skip_until) = (0, 0);
        let mut carried = Carried::None;
        while let Some((w, joined)) = self.next_word(text, pos) {
            let (s, e) = (w.start, w.end);
            pos = e;
            if !seen.complete() {
                self.note_mentions(text, (s, e), joined, w.flags, &mut seen);
            }
            let opened = carried.opens(text, prev, s);
            if s >= skip_until
                && let Some((end, score)) = self.name_at(text, w, prev, opened)
            {
                out.push(Hit::new(Label::Person, s, end, score));
                skip_until = end;
            }
            carried = carried.after(text, w, prev, opened);
            prev = [Some((s, e, w.flags)), prev[0]];
        }
        seen
    }

    /// Notes the word at `span` for [`Mentions`]: as a whole if it is one
    /// run of letters (its `flags` are already looked up), else run by run
    /// (`Blinddarm-OP`, `Groß-Berlin`).
    fn note_mentions(
        &self,
        text: &str,
        (start, end): (usize, usize),
        joined: bool,
        flags: u32,
        seen: &mut Mentions,
    ) {
        let word = &text[start..end];
        if !joined {
            seen.note(flags, text, (start, end), &self.tails);
            return;
        }
        let mut run_start = start;
        for (i, c) in word.char_indices().filter(|(_, c)| !c.is_alphabetic()) {
            self.note_run(text, run_start, start + i, seen);
            run_start = start + i + c.len_utf8();
        }
        self.note_run(text, run_start, end, seen);
    }

    /// Notes one run of letters of a joined word for [`Mentions`].
    fn note_run(&self, text: &str, start: usize, end: usize, seen: &mut Mentions) {
        let flags = self.lookup(&text[start..end]);
        seen.note(flags, text, (start, end), &self.tails);
    }

    /// The role bits of `word`, lower-cased for the lookup (0 if unknown).
    fn lookup(&self, word: &str) -> u32 {
        let mut buf = [0u8; 64];
        lower_fast(word, &mut buf)
            .map(<[u8]>::len)
            .map_or(0, |len| self.words.get(&buf, len))
    }

    /// The name that starts with `w`, if any: its end and score. `carried`
    /// is true if a phrase before opened a strong slot for `w` ([`Carried`]).
    fn name_at(&self, text: &str, w: Word, prev: [Prev; 2], carried: bool) -> Option<(usize, f32)> {
        let s = w.start;
        // A particle (`von`, `van`) starts a name only in an honorific or
        // strong slot, so only after such an opener.
        let after_opener = prev[0].is_some_and(|p| p.2 & OPENS_STRONG_SLOT != 0);
        let particle = if after_opener { particle(&w) } else { None };
        if particle.is_none() && !may_start_name(w, prev) {
            return None;
        }
        let slot = match slot(text, s, prev) {
            Slot::Free | Slot::Weak if carried => Slot::Strong,
            slot => slot,
        };
        if let Some(kind) = particle {
            return self.particle_start(text, w, kind, slot);
        }
        // A name that is a stop word too (`Will`, `April`, `Sonntag`) only
        // after an honorific, or after a greeting or sign-off when neither
        // a lower-case word nor a number follows (`Hallo April,`, `LG
        // Will`; not `Danke. Will nur fragen`, `Hello April 23`).
        if w.stop && !(slot == Slot::Honorific || slot == Slot::Strong && ends_clause(text, w.end))
        {
            return None;
        }
        let gaz = w.first || w.last;
        // A line that opens with `<name> hier` / `<name> here` introduces
        // its writer (`Sven hier 👋`, `johanna hier`); a lower-case word
        // outside the gazetteers got no further than `may_start_name`.
        let intro = introduces_itself(text, w.end) && line_start(text, s);
        // Every branch below needs one of these; skip the extension otherwise.
        let possible = slot == Slot::Honorific
            || w.first
            || intro
            || (slot == Slot::Strong && (w.capital || w.last))
            || (slot == Slot::Weak && w.last);
        if !possible {
            return None;
        }
        let (end, n) = self.extend(text, w, slot);
        if slot == Slot::Strong && !gaz && sentence_or_label(text, prev, end) {
            return None;
        }
        if w.ambiguous && n == 1 && unclear_slot(text, w, slot, end) {
            return None;
        }
        let end = without_possessive(text, s, end);
        let line_alone = line_start(text, s) && line_rest_empty(text, end);
        let score = match slot {
            Slot::Honorific => 0.9,
            Slot::Strong if gaz || w.capital => {
                if gaz {
                    0.9
                } else {
                    0.75
                }
            }
            Slot::Weak if gaz && (w.capital || n > 1 || w.first) => 0.7,
            _ if line_alone && w.first && (w.capital || n > 1) => 0.75,
            _ if w.first && n > 1 && (w.capital || self.all_gazetteer(text, s, end)) => 0.75,
            _ if w.first && w.capital && !w.ambiguous => 0.55,
            _ if intro && end == w.end => 0.75,
            _ => return None,
        };
        Some((end, score))
    }

    /// A name that starts with the particle `w` of kind `kind` (`Frau von
    /// Arnim`, `Dear Mr van der Meer`) in `slot`: after an honorific, or a
    /// particle that is no German word after a greeting or sign-off.
    #[inline(never)]
    fn particle_start(
        &self,
        text: &str,
        w: Word,
        kind: Particle,
        slot: Slot,
    ) -> Option<(usize, f32)> {
        let score = match (slot, kind) {
            (Slot::Honorific, _) => 0.9,
            (Slot::Strong, Particle::Foreign) => 0.75,
            _ => return None,
        };
        let name = self.particle_name(text, &w, true)?;
        Some((name.end, score))
    }

    /// Extends a name over following words on the same line (last names,
    /// capitalised words, particles), up to three words.
    fn extend(&self, text: &str, w: Word, slot: Slot) -> (usize, usize) {
        let (mut end, mut n) = (w.end, 1);
        let mut pos = w.end;
        while n < 3 {
            let Some((next, _)) = self.next_word(text, pos) else {
                break;
            };
            let (s, e) = (next.start, next.end);
            if !matches!(&text[pos..s], " ") {
                break;
            }
            if let Some(kind) = particle(&next) {
                let Some(name) = self.particle_name(text, &next, kind == Particle::Foreign) else {
                    break;
                };
                (end, n, pos) = (name.end, n + 1, name.end);
                continue;
            }
            if n >= 2 && next.first && !next.last {
                break;
            }
            let lower_ok = (slot != Slot::Free || !w.capital) && next.last;
            let known = next.last || next.first;
            let capital_ok = next.capital && w.capital;
            // In a slot, a lower-case first name takes an unknown lower-case
            // surname that ends its clause (`meiner mutter claire
            // szymańska, geht …`; not `hallo anna kannst du`).
            let lower_surname = slot != Slot::Free
                && w.first
                && !w.capital
                && !w.ambiguous
                && n == 1
                && !next.capital
                && punctuation_follows(text, e);
            // A word that opens a slot (`Jule Hahn VG`) is no part of a name.
            let ok = !next.stop
                && next.flags & OPENS_SLOT == 0
                && (known || capital_ok || lower_ok || lower_surname);
            if !ok || (slot == Slot::Free && !next.last && !next.capital) {
                break;
            }
            end = e;
            n += 1;
            pos = e;
        }
        (end, n)
    }

    fn all_gazetteer(&self, text: &str, s: usize, end: usize) -> bool {
        let mut pos = s;
        while let Some((w, _)) = self.next_word(text, pos) {
            if w.start >= end {
                break;
            }
            if !(w.first || w.last) {
                return false;
            }
            pos = w.end;
        }
        true
    }

    /// The next word (letters, with inner hyphens and apostrophes) at or
    /// after `from`, with its lookups, and whether it has an inner hyphen or
    /// apostrophe.
    fn next_word(&self, text: &str, from: usize) -> Option<(Word, bool)> {
        let mut buf = [0u8; 64];
        let (start, end, joined, ascii_len) = read_word(text, from, &mut buf)?;
        let len = match ascii_len {
            Some(n) => n,
            None => lower_fast(&text[start..end], &mut buf).map_or(usize::MAX, <[u8]>::len),
        };
        let mut word = self.word(text, start, end, &buf, len);
        if joined && word.flags == 0 {
            let bits = self.hyphenated_name_bits(&text[start..end]);
            (word.first, word.last, word.flags) = (bits & FIRST != 0, bits & LAST != 0, bits);
        }
        Some((word, joined))
    }

    /// [`FIRST`] if every hyphenated part of `word` is a first name
    /// (`Anna-Lena`), [`LAST`] if every part is a last name
    /// (`Schneider-Weber`), for a joined word the table does not know.
    fn hyphenated_name_bits(&self, word: &str) -> u32 {
        // An empty part has no name bits, nor has any one-letter word.
        word.split('-')
            .fold(FIRST | LAST, |all, part| all & self.lookup(part))
    }

    /// The word at `start..end`, lower-cased into the first `len` bytes of
    /// `buf`, with its lookups.
    fn word(&self, text: &str, start: usize, end: usize, buf: &[u8; 64], len: usize) -> Word {
        let raw = &text[start..end];
        let capital = match raw.as_bytes().first() {
            Some(b) if b.is_ascii() => b.is_ascii_uppercase(),
            _ => raw.starts_with(char::is_uppercase),
        };
        let flags = self.words.get(buf, len);
        Word {
            start,
            end,
            capital,
            first: flags & FIRST != 0,
            last: flags & LAST != 0,
            stop: flags & STOP != 0,
            ambiguous: flags & AMBIG != 0,
            flags,
        }
    }
}

/// What the text between a word and the next holds, read in one pass.
#[derive(Clone, Copy, Debug, Default)]
struct Gap {
    /// A line break or an ASCII digit.
    line_or_digit: bool,
    /// A colon (`Name: …`).
    colon: bool,
    /// `?`, `!` or `.`.
    sentence_end: bool,
}

impl Gap {
    fn of(sep: &str) -> Self {
        let mut gap = Self::default();
        for b in sep.bytes() {
            gap.line_or_digit |= b == b'\n' || b.is_ascii_digit();
            gap.colon |= b == b':';
            gap.sentence_end |= matches!(b, b'?' | b'!' | b'.');
        }
        gap
    }
}

/// `name` as it is written without umlauts and `ß` (`jürgen` →
/// `juergen`, `strauß` → `strauss`), if it has any.
fn without_umlauts(name: &str) -> Option<String> {
    let spelled = name
        .replace('ä', "ae")
        .replace('ö', "oe")
        .replace('ü', "ue")
        .replace('ß', "ss");
    (spelled != name).then_some(spelled)
}

/// The cheap checks of [`Persons::name_at`] for a word that is no
/// particle: false if `w` cannot start a name in any slot.
fn may_start_name(w: Word, prev: [Prev; 2]) -> bool {
    if (w.stop && !stop_name(w)) || w.end - w.start < 2 {
        return false;
    }
    // A word that opens a slot (`LG`, `Dear`, `Name`, `son`) is no name
    // itself.
    if w.flags & OPENS_SLOT != 0 {
        return false;
    }
    // A lower-case word outside the gazetteers can only follow an
    // honorific or title (see `possible` in `name_at`); most words end
    // here.
    let after_honorific = prev[0].is_some_and(|p| p.2 & (HONOR | TITLE) != 0);
    w.first || w.last || w.capital || after_honorific
}

/// True if the unknown capitalised word that ends at byte `end`, after a
/// greeting or sign-off (`prev`), starts a sentence (it runs on into a
/// lower-case word: `Moin Reifen einlagern`, `Hello KüchenKram team`,
/// `thanks\nMany thanks`) or is a label (a colon or a number follows: `Hi
/// Festnetz: 0613…`, `Hallo Sendungsnummer 1Z…`). `Faris hier` introduces
/// a name, and `Ronja vom Team` signs one.
fn sentence_or_label(text: &str, prev: [Prev; 2], end: usize) -> bool {
    let after_greeting = prev[0].is_some_and(|p| p.2 & (GREET | SIGN) != 0);
    let runs_on = runs_on_lower(text, end)
        && !introduces_itself(text, end)
        && !affiliation_follows(text, end);
    let label = text[end..].starts_with(':') || number_follows(text, end);
    after_greeting && (runs_on || label)
}

/// True if the ambiguous first name `w`, alone up to byte `end`, is in
/// too unclear a `slot` to be a name: after a greeting or sign-off unless
/// its clause ends or an affiliation follows (not `Hi, do you`; `Viele
/// Grüße\nFaith vom Team`), in a weak slot unless it is capitalised and
/// before no number (not `for long hair`, `to May 7`; `mein Mann Frank
/// meinte`).
fn unclear_slot(text: &str, w: Word, slot: Slot, end: usize) -> bool {
    match slot {
        Slot::Strong => !ends_clause(text, end) && !affiliation_follows(text, end),
        Slot::Weak => !w.capital || number_follows(text, end),
        _ => false,
    }
}

/// True if the stop word `w` can still be a name: a capitalised gazetteer
/// name of four letters or more (`Will`, `April`, `Sonntag`; not `Du`,
/// `Das`, `Nur`).
fn stop_name(w: Word) -> bool {
    w.capital && (w.first || w.last) && w.end - w.start >= 4
}

/// The slot opened by the one or two words before `s`.
fn slot(text: &str, s: usize, prev: [Prev; 2]) -> Slot {
    let Some((p0s, p0e, f0)) = prev[0] else {
        return Slot::Free;
    };
    // Most words open no slot: decided without reading the text between.
    if f0 & OPENS_SLOT == 0 {
        return Slot::Free;
    }
    let f1 = prev[1].map_or(0, |p| p.2);
    let sep = &text[p0e..s];
    if f0 & SIGN != 0
        && sep
            .trim_matches([' ', ',', '!', '.', '\n', '\r', '-'])
            .is_empty()
    {
        return Slot::Strong;
    }
    let gap = Gap::of(sep);
    // A slot opens across spaces and punctuation, not across a line break
    // or a number (`Fr 8–13 Uhr`: `Fr` there is Friday, not Frau).
    if gap.line_or_digit {
        return Slot::Free;
    }
    if f0 & HONOR != 0 || (f0 & TITLE != 0 && f1 & HONOR != 0) {
        return Slot::Honorific;
    }
    if f0 & NAME_W != 0 && gap.colon {
        return Slot::Strong;
    }
    let pair_intro = f0 & PAIR2 != 0 && {
        let mut b0 = [0u8; 64];
        let mut b1 = [0u8; 64];
        let w0 = lower_fast(&text[p0s..p0e], &mut b0).unwrap_or(b"");
        let w1 = prev[1]
            .and_then(|(a, b, _)| lower_fast(&text[a..b], &mut b1))
            .unwrap_or(b"");
        matches!(
            (w1, w0),
            (b"name", b"ist")
                | (b"name", b"is")
                | (b"hier", b"ist")
                | (b"this", b"is")
                | (b"i", b"am")
                | (b"ich", b"hei\xc3\x9fe") // heiße
                | (b"ich", b"heisse")
        )
    };
    // After a greeting that ends its sentence (`Hallo? Ist da jemand`,
    // `Moin! Klaus ist …`) a new sentence starts: only a known name.
    let greeting = f0 & GREET != 0;
    let closed = greeting && gap.sentence_end;
    if pair_intro || (greeting && !closed) || f0 & FIELD_W != 0 {
        return Slot::Strong;
    }
    if closed {
        return Slot::Weak;
    }
    if f0 & WEAK_W != 0 {
        return Slot::Weak;
    }
    Slot::Free
}

mod around;
mod carried;
mod lists;
mod particles;
mod reader;
mod table;
#[cfg(test)]
mod tests;
