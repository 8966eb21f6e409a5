//! Name particles: `van der Meer`, `de la Cruz`, `von Arnim`, `zu
//! Guttenberg`. A particle is written in lower case and leads, over at
//! most two more particles and single spaces, to the name word it belongs
//! to. The Dutch and Romance particles (`van`, `de`, `dos` …) are no
//! German words, so a capitalised word after them is a name; the German
//! ones (`von`, `zu`, and `da`) are also prepositions or adverbs (`Tim von
//! Telekom`, `Anna von der Arbeit`, `Hallo da Draußen`), so after a first
//! name they lead only to a gazetteer last name, and to any capitalised
//! word only right after an honorific (`Frau von Arnim`).

use super::{PARTICLE_FOREIGN, PARTICLE_GERMAN, Persons, Word};

/// Particles that are no German words: a capitalised word after them is a
/// name.
pub(super) const FOREIGN: &[&str] = &[
    "van", "de", "del", "della", "di", "dos", "la", "le", "ter", "ten",
];

/// Particles that are German words too (`da` as in `da drüben`).
pub(super) const GERMAN: &[&str] = &["von", "vom", "zu", "zum", "zur", "da"];

/// Words that continue a particle (`van der`, `von den`, `de la`).
const JOINING: &[&str] = &["der", "den", "dem", "de", "la", "le", "van"];

/// What kind of particle a word is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Particle {
    /// `van`, `de`, `dos` …
    Foreign,
    /// `von`, `zu`, `da` …
    German,
}

/// The kind of particle `w` is, if it is one in lower case (the word
/// table marks the lists).
pub(super) fn particle(w: &Word) -> Option<Particle> {
    if w.capital {
        None
    } else if w.flags & PARTICLE_FOREIGN != 0 {
        Some(Particle::Foreign)
    } else if w.flags & PARTICLE_GERMAN != 0 {
        Some(Particle::German)
    } else {
        None
    }
}

// === impl Persons ===

impl Persons {
    /// The name word that the particle `w` leads to: the first word after
    /// it and at most two joining particles, each after a single space, if
    /// it is no stop word and a gazetteer last name, or capitalised where
    /// `capital_ok`.
    pub(super) fn particle_name(&self, text: &str, w: &Word, capital_ok: bool) -> Option<Word> {
        let mut pos = w.end;
        for _ in 0..3 {
            let (next, _) = self.next_word(text, pos)?;
            if text.get(pos..next.start) != Some(" ") {
                return None;
            }
            let word = text.get(next.start..next.end)?;
            if JOINING.contains(&word) {
                pos = next.end;
                continue;
            }
            let name = !next.stop && (next.last || (capital_ok && next.capital));
            return name.then_some(next);
        }
        None
    }
}
