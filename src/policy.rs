//! The messaging policy: the rules a send must pass, loaded from `policies/`.
//!
//! The policy file is parsed with unknown keys denied (a typo is a load
//! error, never a silently ignored rule) and compiled into a [`Policy`];
//! loading reports every problem with its key path. Decisions are pure:
//! [`Policy::decide`] takes a validated request, what the consent ledger
//! knows about the recipient ([`SubjectState`]) and the time, and returns a
//! [`Permit`] (which forwarding requires) or a [`Denial`] naming the rule.
//! No IO, no clock reads: the caller passes `now` (see [`Clock`]).
//!
//! Rules, in evaluation order: groups, template registry, advertising
//! lexicon (classification), marketing enabled, opt-out, customer first,
//! 24-hour window, purpose-bound consent, quiet hours, pair rate, marketing
//! frequency, mass messages. `docs/policies.md` explains each for legal.

use std::path::Path;
use std::sync::{Arc, Mutex, RwLock};

use http::StatusCode;
use jiff::Timestamp;

use crate::consent::{ContentDigest, Purpose, StateQuery, SubjectState};
use crate::error::ApiError;
use crate::message::{MessageType, Recipient, SendRequest, TextSite};
use crate::pseudonym::{PseudonymKey, hex};

pub mod cli;
mod keywords;
mod raw;
mod rules;

pub use keywords::{KeywordAction, normalise};
use rules::{CHECKS, Ctx, Rules};
pub use rules::{
    Category, RULE_ADVERTISING, RULE_CONSENT, RULE_CUSTOMER_FIRST, RULE_FREQUENCY,
    RULE_MARKETING_ENABLED, RULE_MASS, RULE_NO_CUSTOMER_GROUPS, RULE_OPT_OUT, RULE_PAIR_RATE,
    RULE_QUIET_HOURS, RULE_TEMPLATE_REGISTERED, RULE_UNDELIVERABLE, RULE_WINDOW, SendClass,
    Verdict,
};

/// A loaded, validated policy. Cheap to clone (the rules are shared), so a
/// reload can swap it atomically.
#[derive(Clone, Debug)]
pub struct Policy {
    /// The `version` string the file declares.
    pub version: String,
    /// SHA-256 of the exact file bytes (hex); recorded with every decision.
    pub sha256: String,
    rules: Arc<Rules>,
}

/// The policy in force, shared by the send path and the webhook processor;
/// replaced whole on reload.
#[derive(Debug)]
pub struct PolicyCell(RwLock<Arc<Policy>>);

/// Proof that a request passed the policy; forwarding requires one.
#[derive(Debug)]
pub struct Permit {
    /// Rule ids that were evaluated and passed (or flagged).
    pub rules: Vec<&'static str>,
    /// Rule ids that passed but flagged the send for review (for example
    /// `mass.same_content` with `mass.action = "flag"`); record them.
    pub flags: Vec<&'static str>,
    /// How the send was classified (`None` for mark-as-read and group
    /// sends); record `class.marketing` with the send in the ledger.
    pub class: Option<SendClass>,
}

/// A refusal: the rule that decided and why (never request content).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Denial {
    /// The rule id.
    pub rule: &'static str,
    /// Which Cloud API error it maps to.
    pub kind: DenialKind,
    /// Human-readable reason.
    pub reason: String,
}

/// Denial families; each maps to one Cloud API error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenialKind {
    /// Refused by policy (403, code 10).
    Forbidden,
    /// Outside the customer-service window (400, code 131047).
    OutsideWindow,
    /// The recipient opted out (409, schleuse code 139001; never reaches Meta).
    OptedOut,
    /// Marketing or purpose consent missing or withdrawn (400, code 131050).
    ConsentMissing,
    /// Template not in the registry (404, code 132001).
    UnknownTemplate,
    /// Pair rate limit (400, code 131056).
    PairRateLimit,
    /// Frequency cap or mass-message limit (400, code 130429).
    RateLimit,
    /// Meta reported the number undeliverable (400, code 131026).
    Undeliverable,
}

/// One rule's outcome in a dry run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explanation {
    /// The rule id.
    pub rule: &'static str,
    /// What it decided.
    pub verdict: Verdict,
}

/// A policy file that could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("cannot read policy file {path}")]
    Read {
        /// The file.
        path: String,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid or has unknown keys.
    #[error("policy file {path}: {message}")]
    Invalid {
        /// The file.
        path: String,
        /// Every problem, one per line, each with its key path.
        message: String,
    },
}

/// The time source of decisions; tests use [`FixedClock`].
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

/// A settable clock for tests and dry runs.
#[derive(Debug)]
pub struct FixedClock(Mutex<Timestamp>);

/// The Cloud API code schleuse uses for "recipient opted out" (no Meta code
/// has this meaning; 131050 is Meta's marketing-only stop).
pub const CODE_OPTED_OUT: u32 = 139001;

// === impl PolicyCell ===

impl PolicyCell {
    /// A cell holding `policy`.
    pub fn new(policy: Policy) -> Self {
        Self(RwLock::new(Arc::new(policy)))
    }

    /// The policy in force now (a snapshot: later reloads do not change it).
    pub fn current(&self) -> Arc<Policy> {
        match self.0.read() {
            Ok(p) => Arc::clone(&p),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    /// Puts `policy` in force.
    pub fn replace(&self, policy: Policy) {
        let new = Arc::new(policy);
        match self.0.write() {
            Ok(mut p) => *p = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
    }
}

// === impl Policy ===

impl Policy {
    /// Loads and compiles a policy file.
    pub fn load(path: &Path) -> Result<Self, PolicyError> {
        let bytes = std::fs::read(path).map_err(|source| PolicyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_bytes(&bytes).map_err(|message| PolicyError::Invalid {
            path: path.display().to_string(),
            message,
        })
    }

    /// Compiles policy text; the error lists every problem, one per line.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "not valid UTF-8".to_string())?;
        let (version, rules) = raw::compile(text).map_err(|errs| errs.join("\n"))?;
        Ok(Self {
            version,
            sha256: hex(&crate::ingress::sha256(bytes)),
            rules: Arc::new(rules),
        })
    }

    /// What happens to personal data found in outbound messages.
    pub fn pii_outbound(&self) -> &crate::pii::Rules {
        &self.rules.pii.outbound
    }

    /// What happens to personal data in inbound messages delivered to
    /// clients in pseudonym mode.
    pub fn pii_inbound(&self) -> &crate::pii::Rules {
        &self.rules.pii.inbound
    }

    /// Decides whether a validated request may be forwarded to a recipient
    /// whose ledger state is `state`, at `now`.
    pub fn decide(
        &self,
        request: &SendRequest,
        state: &SubjectState,
        now: Timestamp,
    ) -> Result<Permit, Denial> {
        let mut permit = Permit {
            rules: Vec::new(),
            flags: Vec::new(),
            class: None,
        };
        match request.recipient() {
            None => return Ok(permit),
            Some(Recipient::Group(_)) => {
                self.check_group()?;
                permit.rules.push(RULE_NO_CUSTOMER_GROUPS);
                return Ok(permit);
            }
            Some(_) => {}
        }
        let class = self.classify(request, &mut permit.rules)?;
        let ctx = Ctx {
            class: &class,
            state,
            now,
        };
        for (rule, check) in CHECKS {
            match check(&self.rules, &ctx) {
                Verdict::Skip => {}
                Verdict::Pass => permit.rules.push(rule),
                Verdict::Flag(_) => {
                    permit.rules.push(rule);
                    permit.flags.push(rule);
                }
                Verdict::Deny(denial) => return Err(denial),
            }
        }
        permit.class = Some(class);
        Ok(permit)
    }

    /// Dry run: every rule's verdict for this request (no short-circuit).
    pub fn explain(
        &self,
        request: &SendRequest,
        state: &SubjectState,
        now: Timestamp,
    ) -> Vec<Explanation> {
        let mut out = Vec::new();
        let verdict = |r: Result<(), Denial>| r.map_or_else(Verdict::Deny, |()| Verdict::Pass);
        if matches!(request.recipient(), Some(Recipient::Group(_))) {
            out.push(Explanation {
                rule: RULE_NO_CUSTOMER_GROUPS,
                verdict: verdict(self.check_group()),
            });
            return out;
        }
        let mut fired = Vec::new();
        let class = match self.classify(request, &mut fired) {
            Ok(class) => class,
            Err(denial) => {
                out.push(Explanation {
                    rule: denial.rule,
                    verdict: Verdict::Deny(denial),
                });
                return out;
            }
        };
        out.extend(fired.into_iter().map(|rule| Explanation {
            rule,
            verdict: Verdict::Pass,
        }));
        let ctx = Ctx {
            class: &class,
            state,
            now,
        };
        out.extend(CHECKS.iter().map(|(rule, check)| Explanation {
            rule,
            verdict: check(&self.rules, &ctx),
        }));
        out
    }

    /// What an inbound message's text asks for: opt-out, opt-in, confirm or
    /// help, matched against the whole normalised message.
    pub fn classify_inbound(&self, text: &str) -> Option<KeywordAction> {
        self.rules.keywords.classify(text)
    }

    /// The bounds of the ledger lookup a decision at `now` needs.
    pub fn state_query(&self, now: Timestamp, content: Option<ContentDigest>) -> StateQuery {
        let f = &self.rules.frequency;
        StateQuery {
            sends_since: now
                .saturating_sub(f.pair_interval)
                .unwrap_or(Timestamp::MIN),
            marketing_since: now
                .saturating_sub(f.marketing_period)
                .unwrap_or(Timestamp::MIN),
            marketing_limit: f.marketing_max,
            content: content.map(|d| {
                let since = now.saturating_sub(self.rules.mass.period);
                (d, since.unwrap_or(Timestamp::MIN))
            }),
            // `max_recipients` others already means this send exceeds it.
            content_limit: self.rules.mass.max_recipients,
        }
    }

    /// Whether consent for `purpose` needs confirmation over WhatsApp
    /// (double opt-in) before it counts; operator grants and imports for
    /// such purposes are recorded as pending.
    pub fn requires_double_opt_in(&self, purpose: &Purpose) -> bool {
        self.rules.double_opt_in.contains(purpose)
    }

    /// Whether the policy names this purpose.
    pub fn knows_purpose(&self, purpose: &Purpose) -> bool {
        self.rules.purposes.contains(purpose)
    }

    /// The policy's time zone (quiet hours).
    pub fn time_zone(&self) -> &jiff::tz::TimeZone {
        &self.rules.tz
    }

    fn check_group(&self) -> Result<(), Denial> {
        if self.rules.groups.allow_group_sends {
            return Ok(());
        }
        Err(Denial {
            rule: RULE_NO_CUSTOMER_GROUPS,
            kind: DenialKind::Forbidden,
            reason: "group sends are disabled by policy: group members see each other's phone \
                     numbers"
                .into(),
        })
    }

    /// Template registry lookup or advertising lexicon.
    fn classify(
        &self,
        request: &SendRequest,
        fired: &mut Vec<&'static str>,
    ) -> Result<SendClass, Denial> {
        if request.message_type() == Some(MessageType::Template) {
            let (name, lang) = request.template().unwrap_or_default();
            let key = (name.to_owned(), lang.to_owned());
            let Some(t) = self.rules.templates.get(&key) else {
                return Err(Denial {
                    rule: RULE_TEMPLATE_REGISTERED,
                    kind: DenialKind::UnknownTemplate,
                    reason: "the template (name and language) is not in the policy's registry"
                        .into(),
                });
            };
            fired.push(RULE_TEMPLATE_REGISTERED);
            return Ok(SendClass {
                template: Some(t.category),
                purpose: t.purpose.clone(),
                marketing: t.category == Category::Marketing,
            });
        }
        let advertising = free_text(request)
            .iter()
            .any(|t| self.rules.lexicon.matches(t));
        if advertising {
            fired.push(RULE_ADVERTISING);
        }
        Ok(SendClass {
            template: None,
            purpose: if advertising {
                Purpose::marketing()
            } else {
                Purpose::service()
            },
            marketing: advertising,
        })
    }
}

/// Keyed digest of what a request says (type, template, every text field;
/// not the recipient), for the mass-message rule and the ledger.
pub fn content_digest(key: &PseudonymKey, request: &SendRequest) -> ContentDigest {
    let mut buf = Vec::new();
    buf.extend_from_slice(
        request
            .message_type()
            .map_or("", MessageType::as_str)
            .as_bytes(),
    );
    if let Some((name, lang)) = request.template() {
        for part in [name, lang] {
            buf.extend_from_slice(&(part.len() as u64).to_be_bytes());
            buf.extend_from_slice(part.as_bytes());
        }
    }
    let mut copy = request.clone();
    copy.for_each_text_mut(&mut |_, text| {
        buf.extend_from_slice(&(text.len() as u64).to_be_bytes());
        buf.extend_from_slice(text.as_bytes());
    });
    ContentDigest::from_hex(hex(&key.digest("policy-content", &buf)[..16]))
}

/// Free text of a request that the advertising lexicon looks at.
fn free_text(request: &SendRequest) -> Vec<String> {
    let mut texts = Vec::new();
    let mut copy = request.clone();
    copy.for_each_text_mut(&mut |site, text| {
        if matches!(
            site,
            TextSite::Body | TextSite::Caption | TextSite::Interactive
        ) {
            texts.push(text.clone());
        }
    });
    texts
}

// === impl Permit ===

impl Permit {
    /// Rule ids for the decision's audit record: every evaluated rule, then
    /// `flag:<id>` for each rule that flagged the send for review.
    pub fn audit_rule_ids(&self) -> Vec<String> {
        let rules = self.rules.iter().map(|r| (*r).to_owned());
        let flags = self.flags.iter().map(|f| format!("flag:{f}"));
        rules.chain(flags).collect()
    }

    /// Whether the send counts as marketing (record it with the send).
    pub fn is_marketing(&self) -> bool {
        self.class.as_ref().is_some_and(|c| c.marketing)
    }
}

// === impl Denial ===

impl Denial {
    /// The Cloud-API-shaped error for this refusal (rule id in
    /// `error_data.details`).
    pub fn to_api_error(&self) -> ApiError {
        let (status, code, title) = match self.kind {
            DenialKind::Forbidden => (StatusCode::FORBIDDEN, 10, "Permission denied"),
            DenialKind::OutsideWindow => (StatusCode::BAD_REQUEST, 131047, "Re-engagement message"),
            DenialKind::OptedOut => (
                StatusCode::CONFLICT,
                CODE_OPTED_OUT,
                "Recipient has opted out",
            ),
            DenialKind::ConsentMissing => (
                StatusCode::BAD_REQUEST,
                131050,
                "Recipient has not consented to this purpose",
            ),
            DenialKind::UnknownTemplate => (
                StatusCode::NOT_FOUND,
                132001,
                "Template name does not exist in the translation",
            ),
            DenialKind::PairRateLimit => (StatusCode::BAD_REQUEST, 131056, "Pair rate limit hit"),
            DenialKind::RateLimit => (StatusCode::BAD_REQUEST, 130429, "Rate limit hit"),
            DenialKind::Undeliverable => (StatusCode::BAD_REQUEST, 131026, "Message undeliverable"),
        };
        ApiError::downstream(status, code, title, self.rule, self.reason.clone())
    }
}

impl From<Denial> for ApiError {
    fn from(denial: Denial) -> Self {
        denial.to_api_error()
    }
}

// === impl Clock ===

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

impl FixedClock {
    /// A clock standing at `now`.
    pub fn new(now: Timestamp) -> Self {
        Self(Mutex::new(now))
    }

    /// Moves the clock to `now`.
    pub fn set(&self, now: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = now;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests;
