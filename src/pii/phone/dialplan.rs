//! Dial plans from libphonenumber's metadata (as shipped in the
//! `phonenumber` crate), compiled into our own anchored regexes.
//!
//! Why: `phonenumber::parse` + `is_valid` cost several microseconds per
//! candidate (a mutex-guarded LRU of regexes keyed by multi-kilobyte
//! pattern strings, allocations on every call). This module gives the same
//! answer from the same metadata without allocating:
//! - German national forms (`0…`) against Germany's plan, compiled up front;
//! - international forms (`+CC …`, `00CC …`) against the plan of country
//!   code CC, compiled on first use of that code. It mirrors how the crate
//!   picks a region when several share a code (+44: GB, GG, IM, JE).
//!
//! Anything else (odd prefixes, a national number starting with 0 after the
//! country code, metadata of an unexpected shape) returns `None` and the
//! caller asks `phonenumber` as before. Tests check both agree.

use std::sync::OnceLock;

use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

/// Country codes are 1–3 digits.
const CODES: usize = 1000;

/// One number type: possible lengths and the national-number pattern,
/// anchored at the start (the crate's `Descriptor::is_match`).
#[derive(Debug)]
struct Kind {
    lengths: Vec<u16>,
    pattern: Regex,
}

/// One region's plan: the general descriptor, every number type, and the
/// leading digits that claim a number for this region when several regions
/// share a country code.
#[derive(Debug)]
struct Region {
    leading: Option<Regex>,
    general: Kind,
    kinds: Vec<Kind>,
}

/// The regions of one country code, in the crate's order.
#[derive(Debug)]
struct Country {
    regions: Vec<Region>,
}

/// Germany's plan plus a lazily compiled plan per country code.
#[derive(Debug)]
pub(super) struct DialPlans {
    /// `None` when the metadata does not have the shape this fast path
    /// assumes; then every number goes to `phonenumber`.
    germany: Option<Region>,
    /// Whether a country code exists, indexed by code.
    known: Vec<bool>,
    /// Compiled on first use, indexed by code (`None`: not compilable,
    /// ask `phonenumber`).
    countries: Vec<OnceLock<Option<Country>>>,
}

// === impl Kind ===

impl Kind {
    fn from(desc: &Descriptor) -> Result<Self, regex::Error> {
        Ok(Self {
            lengths: desc.possible_length().to_vec(),
            pattern: anchored(desc.national_number().as_str())?,
        })
    }

    fn is_match(&self, nsn: &str) -> bool {
        let len = u16::try_from(nsn.len()).unwrap_or(u16::MAX);
        (self.lengths.is_empty() || self.lengths.contains(&len)) && self.pattern.is_match(nsn)
    }
}

// === impl Region ===

impl Region {
    fn from(meta: &Metadata) -> Result<Self, regex::Error> {
        let d = meta.descriptors();
        // Any kind will do, so the common ones go first: a valid number
        // is usually answered by its first or second pattern.
        let kinds = [
            d.mobile(),
            d.fixed_line(),
            d.premium_rate(),
            d.toll_free(),
            d.shared_cost(),
            d.voip(),
            d.personal_number(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ];
        Ok(Self {
            leading: meta
                .leading_digits()
                .map(|l| anchored(l.as_str()))
                .transpose()?,
            general: Kind::from(d.general())?,
            kinds: kinds
                .into_iter()
                .flatten()
                .map(Kind::from)
                .collect::<Result<_, _>>()?,
        })
    }

    /// The crate's `number_type(…) != Unknown`.
    fn has_type(&self, nsn: &str) -> bool {
        self.general.is_match(nsn) && self.kinds.iter().any(|k| k.is_match(nsn))
    }
}

// === impl Country ===

impl Country {
    /// Compiles the plan for `code`; `None` if a region is unknown to the
    /// crate or a pattern does not compile (then `phonenumber` decides).
    fn compile(code: u16) -> Option<Self> {
        let ids = DATABASE.region(&code)?;
        let metas: Option<Vec<&Metadata>> = match ids.as_slice() {
            ["001"] => DATABASE
                .by_code(&code)
                .map(|m| m.into_iter().take(1).collect()),
            _ => ids.iter().map(|id| DATABASE.by_id(*id)).collect(),
        };
        let regions = metas?
            .into_iter()
            .map(Region::from)
            .collect::<Result<Vec<_>, _>>()
            .ok()?;
        (!regions.is_empty()).then_some(Self { regions })
    }

    /// The crate's `is_valid`: with one region, its type decides; with
    /// several, the first region whose leading digits match (or, without
    /// leading digits, that has a type for the number) decides.
    fn valid(&self, nsn: &str) -> bool {
        if let [only] = self.regions.as_slice() {
            return only.has_type(nsn);
        }
        for region in &self.regions {
            match &region.leading {
                Some(leading) if leading.is_match(nsn) => return region.has_type(nsn),
                Some(_) => {}
                None if region.has_type(nsn) => return true,
                None => {}
            }
        }
        false
    }
}

// === impl DialPlans ===

impl DialPlans {
    pub(super) fn new() -> Result<Self, regex::Error> {
        let known = (0..CODES)
            .map(|c| u16::try_from(c).is_ok_and(|c| c > 0 && DATABASE.by_code(&c).is_some()))
            .collect();
        let germany = match DATABASE.by_id("DE") {
            Some(meta) if simple_german_prefix(meta) => Some(Region::from(meta)?),
            _ => None,
        };
        Ok(Self {
            germany,
            known,
            countries: (0..CODES).map(|_| OnceLock::new()).collect(),
        })
    }

    /// Whether `raw` (a candidate of digits, spaces, `-/.()` and a leading
    /// `+`) is a valid number when parsed with default region DE; `None`
    /// when the number is not in a form this module answers. A written
    /// trunk zero `(0)` is skipped.
    pub(super) fn valid(&self, raw: &str) -> Option<bool> {
        // Every answer below assumes the parser's German stripping rules.
        let germany = self.germany.as_ref()?;
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
        let digits = std::str::from_utf8(&buf[..n]).ok()?;
        if raw.starts_with('+') {
            let (code, nsn) = self.split_code(digits)?;
            let code_len = digits.len() - nsn.len();
            plain_international(raw, code_len).then(|| self.valid_in(code, nsn))?
        } else if let Some(rest) = digits.strip_prefix("00") {
            let (code, nsn) = self.split_code(rest)?;
            self.valid_in(code, nsn)
        } else {
            let nsn = digits.strip_prefix('0')?;
            Some(germany.has_type(national(nsn)?))
        }
    }

    /// The shortest known country code at the start of `digits`, and the
    /// rest (the crate's country-code extraction).
    fn split_code<'a>(&self, digits: &'a str) -> Option<(u16, &'a str)> {
        if digits.starts_with('0') {
            return None;
        }
        (1..=3).find_map(|len| {
            let code: u16 = digits.get(..len)?.parse().ok()?;
            let known = self.known.get(usize::from(code)).copied().unwrap_or(false);
            known.then(|| (code, &digits[len..]))
        })
    }

    /// Validity of `nsn` under country code `code`, compiling its plan on
    /// first use.
    fn valid_in(&self, code: u16, nsn: &str) -> Option<bool> {
        let nsn = national(nsn)?;
        let slot = self.countries.get(usize::from(code))?;
        let country = slot.get_or_init(|| Country::compile(code)).as_ref()?;
        Some(country.valid(nsn))
    }
}

/// A national significant number this module can judge: not empty and not
/// starting with 0 (a 0 would go through the parser's trunk-prefix
/// stripping and Italian leading zeros, which we do not mirror).
fn national(nsn: &str) -> Option<&str> {
    (!nsn.is_empty() && !nsn.starts_with('0')).then_some(nsn)
}

/// Germany's trunk prefix is a plain `0` with no parsing pattern or
/// transform rule: the only stripping the parser does with region DE.
fn simple_german_prefix(meta: &Metadata) -> bool {
    meta.national_prefix() == Some("0")
        && meta
            .national_prefix_for_parsing()
            .is_none_or(|p| p.as_str() == "0")
        && meta.national_prefix_transform_rule().is_none()
        && meta.country_code() == 49
}

/// `+CC …`, `+CC-…`, `+CC.…`, `+CC(…` or `+CC…` with spaces only: the forms
/// the crate's parser reads as country code plus the rest. (It rejects
/// `+49151-2345678`, `+49406.65873` and `+49/30 …`.)
fn plain_international(raw: &str, code_len: usize) -> bool {
    match raw.as_bytes().get(1 + code_len) {
        Some(b' ' | b'-' | b'.' | b'(') => true,
        Some(b) if b.is_ascii_digit() => !raw.contains(['-', '/', '.', '(']),
        _ => false,
    }
}

/// `^(?:pattern)` with the metadata's whitespace-insensitive syntax. ASCII
/// classes: the input is ASCII digits, and Unicode `\d` made every region's
/// regexes six times larger (all 215 codes: 85 MB instead of 14 MB).
fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(&format!("^(?:{pattern})"))
        .ignore_whitespace(true)
        .unicode(false)
        .build()
}

#[cfg(test)]
mod tests {
    use super::super::parse_and_validate;
    use super::*;

    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Gen(u64);

    impl Gen {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.below(from.len())]
        }

        fn digits(&mut self, s: &mut String, n: usize) {
            for _ in 0..n {
                s.push(char::from(b'0' + self.below(10) as u8));
            }
        }

        /// `digits` split once by a random separator.
        fn written(&mut self, digits: &str) -> String {
            let split = (1 + self.below(4)).min(digits.len());
            let sep = self.pick(&[" ", "/", "-", "", ".", " / "]);
            format!("{}{sep}{}", &digits[..split], &digits[split..])
        }
    }

    /// Checks every generated number the plans answer against the crate;
    /// returns (answered, valid).
    fn agree(plans: &DialPlans, raws: impl Iterator<Item = String>) -> (usize, usize) {
        let (mut answered, mut valid) = (0, 0);
        for raw in raws {
            if let Some(fast) = plans.valid(&raw) {
                answered += 1;
                valid += usize::from(fast);
                assert_eq!(fast, parse_and_validate(&raw), "{raw}");
            }
        }
        (answered, valid)
    }

    fn plans() -> DialPlans {
        match DialPlans::new() {
            Ok(p) if p.germany.is_some() => p,
            other => panic!("dial plans must build from the shipped metadata: {other:?}"),
        }
    }

    /// German numbers in all written forms.
    #[test]
    fn german_plan_agrees_with_libphonenumber() {
        let plans = plans();
        let mut g = Gen(0x9e37_79b9_7f4a_7c13);
        let prefixes = [
            "0", "+49 ", "+49", "0049 ", "+49 (0)", "(0", "0049", "+49-", "+43 ", "00 49 ", "+49/",
            "+49.", "+49 (0) ", "0049-", "+4 9",
        ];
        let leads = [
            "15", "16", "17", "30", "40", "89", "221", "69", "2", "3", "7", "9", "0", "1", "5",
            "800", "900", "18",
        ];
        let raws = (0..6000).map(|_| {
            let mut digits = String::from(g.pick(&leads));
            let n = 4 + g.below(8);
            g.digits(&mut digits, n);
            let prefix = g.pick(&prefixes);
            if prefix.starts_with('(') {
                let split = 2 + g.below(3);
                format!("{prefix}{}) {}", &digits[..split], &digits[split..])
            } else {
                format!("{prefix}{}", g.written(&digits))
            }
        });
        let (answered, valid) = agree(&plans, raws);
        assert!(
            answered > 3000 && valid > 500,
            "{answered} answered, {valid} valid"
        );
    }

    /// Numbers of other countries, built from the metadata's example
    /// numbers with some digits changed, in every international form.
    #[test]
    fn international_plans_agree_with_libphonenumber() {
        let plans = plans();
        let mut g = Gen(0x2545_f491_4f6c_dd1d);
        let codes: [u16; 24] = [
            1, 7, 20, 31, 33, 34, 36, 39, 41, 43, 44, 45, 48, 49, 52, 55, 61, 90, 212, 351, 380,
            420, 800, 971,
        ];
        let examples: Vec<(u16, String)> = codes
            .iter()
            .flat_map(|&c| {
                DATABASE
                    .by_code(&c)
                    .unwrap_or_default()
                    .into_iter()
                    .map(move |m| (c, m))
            })
            .flat_map(|(c, m)| {
                let d = m.descriptors();
                [d.fixed_line(), d.mobile(), d.toll_free(), d.voip()]
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d.example())
                    .map(move |e| (c, e.to_owned()))
            })
            .collect();
        let forms = [
            "+{} ", "+{}", "00{} ", "00{}", "+{}-", "+{}/", "+{}.", "+{} (0)", "00 {} ", "+{}(",
        ];
        let raws = (0..1500).map(|_| {
            let (code, example) = &examples[g.below(examples.len())];
            let keep = example.len().saturating_sub(g.below(5));
            let mut digits = example[..keep].to_owned();
            let n = example.len() - keep + g.below(3);
            g.digits(&mut digits, n.saturating_sub(1));
            let prefix = g.pick(&forms).replace("{}", &code.to_string());
            format!("{prefix}{}", g.written(&digits))
        });
        let (answered, valid) = agree(&plans, raws);
        assert!(
            answered > 1000 && valid > 400,
            "{answered} answered, {valid} valid"
        );
    }

    /// Too few digits for the country code: answered without the crate.
    #[test]
    fn short_numbers_after_a_country_code_are_invalid() {
        let plans = plans();
        for raw in ["0011-7399", "0077-3883", "+447700900933", "+1 17399"] {
            assert_eq!(plans.valid(raw), Some(false), "{raw}");
            assert!(!parse_and_validate(raw), "{raw}");
        }
    }
}
