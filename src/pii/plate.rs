//! LICENSE_PLATE: German plates, `B-AB 1234`, `M XY 12E`, `HH-AB123`. The
//! district code must be in the KBA list (closed set), the letters upper
//! case, and the plate at most 8 characters without separators.

use std::collections::HashSet;

use regex::Regex;

use super::structured::context_score;
use super::{Hit, Label};

/// The licence-plate detector.
#[derive(Debug)]
pub(crate) struct Plates {
    candidate: Regex,
    districts: HashSet<&'static str>,
}

// === impl Plates ===

impl Plates {
    pub(crate) fn new() -> Result<Self, regex::Error> {
        Ok(Self {
            candidate: Regex::new(
                r"(?-u:\b)(\p{Lu}{1,3})[- ]([A-Z]{1,2})[- ]?([1-9]\d{0,3}[EH]?)(?-u:\b)",
            )?,
            districts: DISTRICTS
                .split_whitespace()
                .filter(|w| !w.starts_with('#'))
                .collect(),
        })
    }

    /// Appends plates in `text` to `out`.
    pub(crate) fn detect(&self, text: &str, out: &mut Vec<Hit>) {
        // Captures (which allocate) only for actual matches.
        for found in self.candidate.find_iter(text) {
            let Some(c) = self.candidate.captures_at(text, found.start()) else {
                continue;
            };
            let (Some(m), Some(d), Some(l), Some(n)) = (c.get(0), c.get(1), c.get(2), c.get(3))
            else {
                continue;
            };
            let len = d.as_str().chars().count() + l.len() + n.len();
            if len > 8 || !self.districts.contains(d.as_str()) {
                continue;
            }
            if text[m.end()..].starts_with(['.', ',', ':'])
                && text
                    .as_bytes()
                    .get(m.end() + 1)
                    .is_some_and(u8::is_ascii_digit)
            {
                continue;
            }
            let score = 0.7 + context_score(text, m.start(), PLATE_CONTEXT);
            out.push(Hit::new(Label::LicensePlate, m.start(), m.end(), score));
        }
    }
}

const DISTRICTS: &str = include_str!("data/plate_districts.txt");
const PLATE_CONTEXT: &[&str] = &[
    "kennzeichen",
    "auto",
    "fahrzeug",
    "wagen",
    "car",
    "plate",
    "golf",
    "kfz",
    "vehicle",
    "transporter",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let mut out = Vec::new();
        Plates::new().map(|p| p.detect(text, &mut out)).ok();
        out.iter().map(|h| &text[h.start..h.end]).collect()
    }

    #[test]
    fn german_plates_are_found() {
        assert_eq!(found("Kennzeichen B-AB 1234 bitte"), vec!["B-AB 1234"]);
        assert_eq!(found("mein Auto HH-AB123"), vec!["HH-AB123"]);
        assert_eq!(found("M XY 12E ist fertig"), vec!["M XY 12E"]);
    }

    #[test]
    fn codes_that_are_not_plates_are_ignored() {
        assert!(found("Code SKU-BLK-42 und JOB-2025-117").is_empty());
        assert!(found("Ticket XQ-AB 12").is_empty());
        assert!(found("ABCD-EF 123456").is_empty());
    }
}
