//! The policy file as written (serde, unknown keys denied) and its
//! compilation into [`Rules`], collecting every error with its key path.

use std::collections::{BTreeMap, HashMap};

use jiff::SignedDuration;
use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::keywords::{Keywords, Lexicon};
use super::rules::{
    Category, Frequency, GroupRules, Mass, MassAction, OptOutScope, PiiRules, QuietHours, Rules,
    TemplateClass, Window,
};
use crate::consent::Purpose;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    free_form_hours: u32,
    customer_first: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConsent {
    purposes: Vec<String>,
    double_opt_in: Vec<String>,
    marketing_enabled: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKeywords {
    opt_out_scope: String,
    opt_out: BTreeMap<String, Vec<String>>,
    opt_in: BTreeMap<String, Vec<String>>,
    confirm: BTreeMap<String, Vec<String>>,
    help: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawTemplate {
    Category(String),
    Full(RawTemplateFull),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplateFull {
    category: String,
    purpose: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuiet {
    from: String,
    until: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFrequency {
    marketing_max: u32,
    marketing_period_hours: u32,
    pair_min_interval_seconds: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMass {
    max_recipients: u32,
    period_hours: u32,
    action: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAdvertising {
    lexicon: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroups {
    allow_group_sends: bool,
}

/// Error collector: every message starts with its key path.
#[derive(Default)]
struct Errors(Vec<String>);

const SECTIONS: [&str; 12] = [
    "version",
    "time_zone",
    "window",
    "consent",
    "keywords",
    "templates",
    "quiet_hours",
    "frequency",
    "mass",
    "advertising",
    "groups",
    "pii",
];

/// Parses and compiles policy text into its version and rules, or every
/// problem found (one per line, each with its key path).
pub(super) fn compile(text: &str) -> Result<(String, Rules), Vec<String>> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| vec![e.to_string()])?;
    let mut errs = Errors::default();
    for key in table.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            errs.push(key, "unknown key");
        }
    }
    let version: Option<String> = section(&mut table, "version", &mut errs);
    if version.as_ref().is_some_and(|v| v.trim().is_empty()) {
        errs.push("version", "must not be empty");
    }
    let tz: Option<String> = section(&mut table, "time_zone", &mut errs);
    let tz = tz.and_then(|name| {
        TimeZone::get(&name)
            .map_err(|_| errs.push("time_zone", "unknown IANA time zone"))
            .ok()
    });
    let consent = section(&mut table, "consent", &mut errs).map(|c| compile_consent(c, &mut errs));
    let purposes = consent.as_ref().map(|c| c.0.clone()).unwrap_or_default();
    let rules = PartialRules {
        tz,
        window: section(&mut table, "window", &mut errs).map(|w| compile_window(w, &mut errs)),
        keywords: section(&mut table, "keywords", &mut errs)
            .map(|k| compile_keywords(k, &mut errs)),
        templates: section(&mut table, "templates", &mut errs)
            .map(|t| compile_templates(t, &purposes, &mut errs)),
        quiet: section(&mut table, "quiet_hours", &mut errs)
            .map(|q| compile_quiet(q, &purposes, &mut errs)),
        frequency: section(&mut table, "frequency", &mut errs)
            .map(|f| compile_frequency(f, &mut errs)),
        mass: section(&mut table, "mass", &mut errs).map(|m| compile_mass(m, &mut errs)),
        lexicon: section(&mut table, "advertising", &mut errs)
            .map(|a| compile_lexicon(a, &mut errs)),
        groups: section::<RawGroups>(&mut table, "groups", &mut errs),
        pii: compile_pii(table.remove("pii"), &mut errs),
        consent,
    };
    match (errs.0.is_empty(), version, rules.finish()) {
        (true, Some(v), Some(r)) => Ok((v, r)),
        _ => Err(errs.0),
    }
}

/// `[pii.outbound]` and `[pii.inbound]`: operator per label. Absent
/// tables replace everything found (fail closed).
fn compile_pii(value: Option<toml::Value>, errs: &mut Errors) -> Option<PiiRules> {
    let Some(value) = value else {
        return Some(PiiRules::default());
    };
    let Some(table) = value.as_table() else {
        errs.push(
            "pii",
            "must be a table with `outbound` and `inbound` tables",
        );
        return None;
    };
    for key in table
        .keys()
        .filter(|k| !matches!(k.as_str(), "outbound" | "inbound"))
    {
        errs.push(&format!("pii.{key}"), "unknown key");
    }
    let mut direction = |name: &str| {
        let empty = toml::Table::new();
        let Some(t) = table
            .get(name)
            .map(|v| v.as_table())
            .unwrap_or(Some(&empty))
        else {
            errs.push(&format!("pii.{name}"), "must be a table");
            return None;
        };
        crate::pii::Rules::from_table(t)
            .map_err(|e| {
                e.problems
                    .iter()
                    .for_each(|p| errs.push(&format!("pii.{name}.{p}"), "invalid"))
            })
            .ok()
    };
    Some(PiiRules {
        outbound: direction("outbound")?,
        inbound: direction("inbound")?,
    })
}

/// Deserialises one top-level key; a missing key or a bad value is an error
/// naming the full key path.
fn section<T: DeserializeOwned>(
    table: &mut toml::Table,
    key: &str,
    errs: &mut Errors,
) -> Option<T> {
    let Some(value) = table.remove(key) else {
        errs.push(key, "missing");
        return None;
    };
    serde_path_to_error::deserialize(value)
        .map_err(|e| {
            let path = e.path().to_string();
            let full = if path == "." {
                key.to_owned()
            } else {
                format!("{key}.{path}")
            };
            errs.push(&full, &e.into_inner().to_string());
        })
        .ok()
}

struct PartialRules {
    tz: Option<TimeZone>,
    window: Option<Window>,
    consent: Option<(Vec<Purpose>, Vec<Purpose>, bool)>,
    keywords: Option<(Keywords, OptOutScope)>,
    templates: Option<HashMap<(String, String), TemplateClass>>,
    quiet: Option<Vec<(Purpose, QuietHours)>>,
    frequency: Option<Frequency>,
    mass: Option<Mass>,
    lexicon: Option<Lexicon>,
    groups: Option<RawGroups>,
    pii: Option<PiiRules>,
}

impl PartialRules {
    fn finish(self) -> Option<Rules> {
        let (purposes, double_opt_in, marketing_enabled) = self.consent?;
        let (keywords, opt_out_scope) = self.keywords?;
        Some(Rules {
            tz: self.tz?,
            window: self.window?,
            purposes,
            double_opt_in,
            marketing_enabled,
            keywords,
            opt_out_scope,
            templates: self.templates?,
            quiet: self.quiet?,
            frequency: self.frequency?,
            mass: self.mass?,
            lexicon: self.lexicon?,
            groups: GroupRules {
                allow_group_sends: self.groups?.allow_group_sends,
            },
            pii: self.pii?,
        })
    }
}

fn compile_window(raw: RawWindow, errs: &mut Errors) -> Window {
    if raw.free_form_hours == 0 || raw.free_form_hours > 24 {
        errs.push(
            "window.free_form_hours",
            "must be 1..=24 (Meta's customer-service window is 24 hours)",
        );
    }
    Window {
        free_form: SignedDuration::from_hours(i64::from(raw.free_form_hours)),
        customer_first: raw.customer_first,
    }
}

fn compile_consent(raw: RawConsent, errs: &mut Errors) -> (Vec<Purpose>, Vec<Purpose>, bool) {
    let purposes = purposes_at("consent.purposes", &raw.purposes, errs);
    for required in [Purpose::service(), Purpose::marketing()] {
        if !purposes.contains(&required) {
            errs.push("consent.purposes", &format!("must include `{required}`"));
        }
    }
    let doi = purposes_at("consent.double_opt_in", &raw.double_opt_in, errs);
    for p in &doi {
        if !purposes.contains(p) {
            errs.push(
                "consent.double_opt_in",
                &format!("`{p}` is not in consent.purposes"),
            );
        }
    }
    if !doi.contains(&Purpose::marketing()) {
        errs.push(
            "consent.double_opt_in",
            "must include `marketing` (UWG §7: advertising needs a confirmed opt-in)",
        );
    }
    (purposes, doi, raw.marketing_enabled)
}

fn purposes_at(path: &str, names: &[String], errs: &mut Errors) -> Vec<Purpose> {
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match Purpose::new(name) {
            Ok(p) => out.push(p),
            Err(e) => errs.push(&format!("{path}[{i}]"), &e.to_string()),
        }
    }
    out
}

fn compile_keywords(raw: RawKeywords, errs: &mut Errors) -> (Keywords, OptOutScope) {
    let scope = match raw.opt_out_scope.as_str() {
        "all_contact" => OptOutScope::AllContact,
        "marketing" => OptOutScope::Marketing,
        _ => {
            errs.push(
                "keywords.opt_out_scope",
                "must be `all_contact` or `marketing`",
            );
            OptOutScope::AllContact
        }
    };
    let lists = [
        ("opt_out", raw.opt_out),
        ("opt_in", raw.opt_in),
        ("confirm", raw.confirm),
        ("help", raw.help),
    ];
    let (keywords, problems) = Keywords::compile(lists);
    for (path, message) in problems {
        errs.push(&format!("keywords.{path}"), &message);
    }
    (keywords, scope)
}

fn compile_templates(
    raw: BTreeMap<String, BTreeMap<String, RawTemplate>>,
    purposes: &[Purpose],
    errs: &mut Errors,
) -> HashMap<(String, String), TemplateClass> {
    let mut out = HashMap::new();
    for (name, languages) in raw {
        for (lang, template) in languages {
            let path = format!("templates.{name}.{lang}");
            let (category, purpose) = match template {
                RawTemplate::Category(c) => (c, None),
                RawTemplate::Full(f) => (f.category, Some(f.purpose)),
            };
            let Some(category) = Category::parse(&category) else {
                errs.push(
                    &path,
                    "category must be marketing, utility or authentication",
                );
                continue;
            };
            let purpose = match purpose {
                None => category.default_purpose(),
                Some(p) => match Purpose::new(&p) {
                    Ok(p) if purposes.contains(&p) => p,
                    _ => {
                        errs.push(&format!("{path}.purpose"), "not in consent.purposes");
                        continue;
                    }
                },
            };
            out.insert((name.clone(), lang), TemplateClass { category, purpose });
        }
    }
    out
}

fn compile_quiet(
    raw: BTreeMap<String, RawQuiet>,
    purposes: &[Purpose],
    errs: &mut Errors,
) -> Vec<(Purpose, QuietHours)> {
    let mut out = Vec::new();
    for (name, q) in raw {
        let path = format!("quiet_hours.{name}");
        let purpose = Purpose::new(&name).ok().filter(|p| purposes.contains(p));
        let Some(purpose) = purpose else {
            errs.push(&path, "not in consent.purposes");
            continue;
        };
        let from = parse_time(&q.from, &format!("{path}.from"), errs);
        let until = parse_time(&q.until, &format!("{path}.until"), errs);
        if let (Some(from), Some(until)) = (from, until) {
            if from == until {
                errs.push(&path, "from and until must differ");
            }
            out.push((purpose, QuietHours { from, until }));
        }
    }
    out
}

fn parse_time(text: &str, path: &str, errs: &mut Errors) -> Option<Time> {
    let parsed = Time::strptime("%H:%M", text);
    parsed
        .map_err(|_| errs.push(path, "must be a time of day as HH:MM"))
        .ok()
}

fn compile_frequency(raw: RawFrequency, errs: &mut Errors) -> Frequency {
    if raw.marketing_period_hours == 0 {
        errs.push("frequency.marketing_period_hours", "must be at least 1");
    }
    Frequency {
        marketing_max: raw.marketing_max,
        marketing_period: SignedDuration::from_hours(i64::from(raw.marketing_period_hours)),
        pair_interval: SignedDuration::from_secs(i64::from(raw.pair_min_interval_seconds)),
    }
}

fn compile_mass(raw: RawMass, errs: &mut Errors) -> Mass {
    let action = match raw.action.as_str() {
        "flag" => MassAction::Flag,
        "deny" => MassAction::Deny,
        _ => {
            errs.push("mass.action", "must be `flag` or `deny`");
            MassAction::Deny
        }
    };
    if raw.period_hours == 0 {
        errs.push("mass.period_hours", "must be at least 1");
    }
    Mass {
        max_recipients: raw.max_recipients,
        period: SignedDuration::from_hours(i64::from(raw.period_hours)),
        action,
    }
}

fn compile_lexicon(raw: RawAdvertising, errs: &mut Errors) -> Lexicon {
    match Lexicon::compile(&raw.lexicon) {
        Ok(lexicon) => lexicon,
        Err((i, message)) => {
            errs.push(&format!("advertising.lexicon[{i}]"), &message);
            Lexicon::empty()
        }
    }
}

// === impl Errors ===

impl Errors {
    fn push(&mut self, path: &str, message: &str) {
        self.0.push(format!("{path}: {message}"));
    }
}
