//! The German dial plan from libphonenumber's metadata (as shipped in the
//! `phonenumber` crate), compiled once into our own anchored regexes.
//!
//! Why: `phonenumber::parse` + `is_valid` cost several microseconds per
//! candidate (a mutex-guarded LRU of regexes keyed by multi-kilobyte
//! pattern strings, allocations on every call). Nearly all numbers in
//! German chats are `0…`, `+49…` or `0049…`; for those this module gives
//! the same answer from the same metadata in well under a microsecond.
//! Anything else (other country codes, odd prefixes) returns `None` and the
//! caller asks `phonenumber` as before. A test checks both agree.

use phonenumber::metadata::{DATABASE, Descriptor};
use regex::{Regex, RegexBuilder};

/// One number type of the plan: possible lengths and the national-number
/// pattern, anchored at the start (libphonenumber's `Descriptor::is_match`).
#[derive(Debug)]
struct Kind {
    lengths: Vec<u16>,
    pattern: Regex,
}

/// Germany's plan: the general descriptor and every number type.
#[derive(Debug)]
pub(super) struct DialPlan {
    general: Kind,
    kinds: Vec<Kind>,
}

// === impl Kind ===

impl Kind {
    fn from(desc: &Descriptor) -> Result<Self, regex::Error> {
        let source = desc.national_number().as_str();
        let pattern = RegexBuilder::new(&format!("^(?:{source})"))
            .ignore_whitespace(true)
            .build()?;
        Ok(Self {
            lengths: desc.possible_length().to_vec(),
            pattern,
        })
    }

    fn is_match(&self, nsn: &str) -> bool {
        let len = u16::try_from(nsn.len()).unwrap_or(u16::MAX);
        (self.lengths.is_empty() || self.lengths.contains(&len)) && self.pattern.is_match(nsn)
    }
}

// === impl DialPlan ===

impl DialPlan {
    /// Germany's plan, or `None` if the metadata does not have the shape
    /// this fast path assumes (then every number goes to `phonenumber`).
    pub(super) fn germany() -> Result<Option<Self>, regex::Error> {
        let Some(meta) = DATABASE.by_id("DE") else {
            return Ok(None);
        };
        let simple_prefix = meta.national_prefix() == Some("0")
            && meta
                .national_prefix_for_parsing()
                .is_none_or(|p| p.as_str() == "0")
            && meta.national_prefix_transform_rule().is_none()
            && meta.country_code() == 49;
        if !simple_prefix {
            return Ok(None);
        }
        let d = meta.descriptors();
        let kinds = [
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
            d.fixed_line(),
            d.mobile(),
        ];
        Ok(Some(Self {
            general: Kind::from(d.general())?,
            kinds: kinds
                .into_iter()
                .flatten()
                .map(Kind::from)
                .collect::<Result<_, _>>()?,
        }))
    }

    /// Whether `raw` (a candidate of digits, spaces, `-/.()` and a leading
    /// `+`) is a valid German number; `None` when the number is not in one
    /// of the plain German forms. A written trunk zero `(0)` is skipped.
    pub(super) fn valid(&self, raw: &str) -> Option<bool> {
        let (head, tail) = match raw.find("(0)") {
            Some(i) => (&raw[..i], &raw[i + 3..]),
            None => (raw, ""),
        };
        let mut buf = [0u8; 20];
        let mut n = 0;
        for b in head.bytes().chain(tail.bytes()).filter(u8::is_ascii_digit) {
            *buf.get_mut(n)? = b;
            n += 1;
        }
        let digits = &buf[..n];
        let international = raw.starts_with('+');
        if international && !plain_international(raw) {
            return None;
        }
        let nsn = match digits {
            [b'4', b'9', rest @ ..] if international => rest,
            [b'0', b'0', b'4', b'9', rest @ ..] if !international => rest,
            [b'0', rest @ ..] if !international && !rest.starts_with(b"0") => rest,
            _ => return None,
        };
        if nsn.first().is_none_or(|&d| d == b'0') {
            return None;
        }
        let nsn = std::str::from_utf8(nsn).ok()?;
        Some(self.general.is_match(nsn) && self.kinds.iter().any(|k| k.is_match(nsn)))
    }
}

/// `+49 …`, `+49-…`, `+49.…`, `+49(…` or `+49…` with spaces only: the
/// forms libphonenumber's parser reads as country code 49 plus the rest.
/// (It rejects `+49151-2345678`, `+49406.65873` and `+49/30 …`.)
fn plain_international(raw: &str) -> bool {
    match raw.as_bytes().get(3) {
        Some(b' ' | b'-' | b'.' | b'(') => true,
        Some(b) if b.is_ascii_digit() => !raw.contains(['-', '/', '.', '(']),
        _ => false,
    }
}
