//! PII engine: finds personal data in German and English message text and
//! transforms it according to a per-label policy.
//!
//! Why it exists: customers paste IBANs, addresses and diagnoses into chats,
//! and agents paste customer records into replies. The gateway must find
//! that data in both directions at line rate and redact, mask, pseudonymise,
//! encrypt or block it before it crosses the boundary.
//!
//! Design: [`Engine::new`] compiles every regex, automaton and gazetteer
//! once; [`Engine::detect`] is pure, `Send + Sync`, and works on byte
//! offsets internally, converting to Unicode character offsets (what the
//! CLI and the evaluation speak) only for the findings it returns.
//! Structured identifiers are only reported when their check digit (or
//! parser) accepts them; context words move the confidence score.
//! [`transform()`] applies a [`Rules`] table to the findings.

use std::ops::Range;

mod checks;
pub mod cli;
mod dates;
mod gazetteer;
mod health;
mod label;
mod mentions;
mod person;
mod phone;
mod places;
mod plate;
mod rules;
mod structured;
mod text;
mod transform;

pub use label::{Label, UnknownLabel};
pub use rules::{Operator, Rules, RulesError};
pub use transform::{ActionCount, Blocked, PiiKeys, RevealError, Transformed, reveal, transform};

/// One piece of personal data found in a text.
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    /// What kind of data it is.
    pub label: Label,
    /// Start, in Unicode characters (code points).
    pub start: usize,
    /// End (exclusive), in Unicode characters.
    pub end: usize,
    /// Confidence, 0.0–1.0.
    pub score: f32,
    bytes: Range<usize>,
}

/// The detector set, built once and shared (it is `Send + Sync`).
#[derive(Debug)]
pub struct Engine {
    structured: structured::Structured,
    phones: phone::Phones,
    dates: dates::Dates,
    places: places::Places,
    plates: plate::Plates,
    person: person::Persons,
    health: health::Health,
}

/// Errors of the PII engine and its CLI.
#[derive(Debug, thiserror::Error)]
pub enum PiiError {
    /// A built-in pattern failed to compile (a bug, caught by tests).
    #[error("built-in PII pattern failed to compile: {0}")]
    PatternInvalid(#[from] regex::Error),
    /// A built-in gazetteer automaton failed to build.
    #[error("built-in PII gazetteer failed to build: {0}")]
    GazetteerInvalid(#[from] aho_corasick::BuildError),
    /// An input line of `pii scan` is not `{"text": "..."}`.
    #[error("input line {line}: expected a JSON object {{\"text\": \"...\"}}")]
    InputLineInvalid {
        /// 1-based line number.
        line: usize,
    },
    /// The policy file could not be read or parsed.
    #[error("policy {path}: {reason}")]
    PolicyInvalid {
        /// The file.
        path: String,
        /// What is wrong (never message content).
        reason: String,
    },
    /// A message was refused by a `block` rule.
    #[error(transparent)]
    Blocked(#[from] Blocked),
    /// An `[ENC:…]` token could not be revealed.
    #[error(transparent)]
    Reveal(#[from] RevealError),
    /// Reading input or writing output failed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}

/// A candidate finding in byte offsets (internal).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Hit {
    pub(crate) label: Label,
    pub(crate) start: usize,
    pub(crate) end: usize,
    pub(crate) score: f32,
}

// === impl Finding ===

impl Finding {
    /// Builds a finding from a byte range of `text`; `None` if the range is
    /// out of bounds or not on character boundaries.
    pub fn from_bytes(text: &str, bytes: Range<usize>, label: Label, score: f32) -> Option<Self> {
        text.get(bytes.clone())?;
        let start = text[..bytes.start].chars().count();
        let end = start + text[bytes.clone()].chars().count();
        Some(Self {
            label,
            start,
            end,
            score,
            bytes,
        })
    }

    /// The byte range in the scanned text.
    pub fn bytes(&self) -> Range<usize> {
        self.bytes.clone()
    }
}

// === impl Hit ===

impl Hit {
    pub(crate) fn new(label: Label, start: usize, end: usize, score: f32) -> Self {
        Self {
            label,
            start,
            end,
            score: score.min(1.0),
        }
    }
}

// === impl Engine ===

impl Engine {
    /// Compiles all detectors.
    pub fn new() -> Result<Self, PiiError> {
        Ok(Self {
            structured: structured::Structured::new()?,
            phones: phone::Phones::new()?,
            dates: dates::Dates::new()?,
            places: places::Places::new()?,
            plates: plate::Plates::new()?,
            person: person::Persons::new(),
            health: health::Health::new()?,
        })
    }

    /// Finds personal data in `text`. Findings are sorted by position and
    /// never overlap. Does not allocate when nothing is found.
    pub fn detect(&self, text: &str) -> Vec<Finding> {
        // The hits vector of this thread's last call, emptied: its capacity
        // is kept, so most calls that find something allocate only the
        // result. (While the thread's locals are torn down, a fresh one.)
        let mut hits = HITS.try_with(std::cell::Cell::take).unwrap_or_default();
        hits.clear();
        let findings = self.detect_into(text, &mut hits);
        if hits.capacity() <= HITS_KEPT {
            // Dropped instead if the thread's locals are gone.
            let _ = HITS.try_with(|kept| kept.set(hits));
        }
        findings
    }

    /// [`Engine::detect`] with `hits` (empty) as the detectors' scratch.
    fn detect_into(&self, text: &str, hits: &mut Vec<Hit>) -> Vec<Finding> {
        let facts = text::Facts::of(text);
        // Every gated pattern needs a digit: skip the word-list pass without one.
        let [birth_word, pregnancy_word, vehicle_word] = if facts.any_digit() {
            GATES.occur_in(text)
        } else {
            [false; 3]
        };
        // First: its word pass also tells whether towns or health terms can occur.
        let mentions = self.person.detect(text, hits);
        self.structured.detect(text, &facts, hits);
        if mentions.spelled_email {
            self.structured.spelled_emails(text, hits);
        }
        self.phones.detect(text, &facts, hits);
        self.dates.detect(text, facts.digits, birth_word, hits);
        self.places.detect(text, &facts, &mentions.towns, hits);
        self.plates.detect(text, &facts, vehicle_word, hits);
        self.health
            .detect(text, pregnancy_word, &mentions.terms, hits);
        hits.retain(|h| h.score >= MIN_SCORE && h.start < h.end);
        resolve(hits);
        to_findings(text, hits)
    }
}

/// Runs the work on one text (detection, transformation) so that a panic
/// in it, which would be a bug, comes back as `None` instead of unwinding
/// through a connection or the inbound worker: callers then refuse the
/// text (fail closed). The binary's panic hook logs where it happened and
/// withholds the message, which could quote the text.
pub fn guarded<T>(work: impl FnOnce() -> T) -> Option<T> {
    // The engine holds no state a half-finished search could leave
    // inconsistent: each search takes its caches afresh.
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).ok()
}

/// Word lists that gate whole detectors (no birth word, no date-of-birth
/// scan …), read in one pass per text.
static GATES: text::WordSets<3> = text::WordSets::new([
    &dates::BIRTH_CONTEXT,
    &health::PREGNANCY_WORDS,
    &plate::PLATE_CONTEXT,
]);

/// Keeps a non-overlapping subset, taking hits in [`priority`] order. Works
/// in place: the kept hits move to the front of `hits` (no second vector).
fn resolve(hits: &mut Vec<Hit>) {
    hits.sort_by(priority);
    let mut kept = 0;
    for i in 0..hits.len() {
        let h = hits[i];
        if hits[..kept]
            .iter()
            .all(|k| h.end <= k.start || k.end <= h.start)
        {
            hits[kept] = h;
            kept += 1;
        }
    }
    hits.truncate(kept);
    hits.sort_by_key(|h| h.start);
}

/// The order in which [`resolve`] considers hits: longest first, then
/// highest score, then most specific label, then earliest.
fn priority(a: &Hit, b: &Hit) -> std::cmp::Ordering {
    (b.end - b.start)
        .cmp(&(a.end - a.start))
        .then(b.score.total_cmp(&a.score))
        .then(a.label.rank().cmp(&b.label.rank()))
        .then(a.start.cmp(&b.start))
}

/// Converts sorted byte-offset hits to findings with character offsets in
/// one pass over the text.
fn to_findings(text: &str, hits: &[Hit]) -> Vec<Finding> {
    let mut out = Vec::with_capacity(hits.len());
    let (mut byte, mut chars) = (0, 0);
    for &h in hits {
        chars += text::char_count(&text[byte..h.start]);
        let start = chars;
        chars += text::char_count(&text[h.start..h.end]);
        byte = h.end;
        out.push(Finding {
            label: h.label,
            start,
            end: chars,
            score: h.score,
            bytes: h.start..h.end,
        });
    }
    out
}

const MIN_SCORE: f32 = 0.4;

/// The largest scratch vector (in hits) a thread keeps between calls; a
/// text with more findings than this gives its larger vector back.
const HITS_KEPT: usize = 64;

thread_local! {
    /// [`Engine::detect`]'s scratch vector, kept between calls on a thread.
    static HITS: std::cell::Cell<Vec<Hit>> = const { std::cell::Cell::new(Vec::new()) };
}

#[cfg(test)]
mod tests;
