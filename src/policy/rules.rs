//! The compiled rules and one check function per rule id.
//!
//! Each check looks at the classified send, the subject's ledger state and
//! the time, and returns a [`Verdict`]. `Policy::decide` stops at the first
//! denial; `Policy::explain` runs them all.

use std::collections::HashMap;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use super::keywords::{Keywords, Lexicon};
use super::{Denial, DenialKind};
use crate::consent::{ConsentStatus, Purpose, SubjectState};

/// Rule id: customers are never messaged in groups that expose their numbers.
pub const RULE_NO_CUSTOMER_GROUPS: &str = "groups.no_customer_groups";
/// Rule id: a template must be in the policy's registry.
pub const RULE_TEMPLATE_REGISTERED: &str = "templates.registered";
/// Rule id: free-form text with advertising terms counts as marketing.
pub const RULE_ADVERTISING: &str = "content.advertising";
/// Rule id: the profile allows marketing at all.
pub const RULE_MARKETING_ENABLED: &str = "marketing.enabled";
/// Rule id: an opt-out ends business-initiated contact.
pub const RULE_OPT_OUT: &str = "optout.respected";
/// Rule id: free-form messages need the customer's own earlier message.
pub const RULE_CUSTOMER_FIRST: &str = "window.customer_first";
/// Rule id: free-form messages only inside the customer-service window.
pub const RULE_WINDOW: &str = "window.free_form_hours";
/// Rule id: purpose-bound consent (marketing needs a confirmed opt-in).
pub const RULE_CONSENT: &str = "consent.purpose";
/// Rule id: no messages of a purpose during its quiet hours.
pub const RULE_QUIET_HOURS: &str = "quiet_hours";
/// Rule id: Meta's pair rate limit enforced locally.
pub const RULE_PAIR_RATE: &str = "rate.pair";
/// Rule id: Meta reported the number undeliverable (131026).
pub const RULE_UNDELIVERABLE: &str = "delivery.undeliverable";
/// Rule id: marketing frequency cap per person.
pub const RULE_FREQUENCY: &str = "frequency.marketing";
/// Rule id: the same content to too many people (mass messaging).
pub const RULE_MASS: &str = "mass.same_content";

/// Template category (Meta's, cloud-api.md §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    /// Promotional.
    Marketing,
    /// Follow-up on a user action or transaction.
    Utility,
    /// One-time codes.
    Authentication,
}

/// What a send is, as far as the rules care.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendClass {
    /// `None` for free-form messages.
    pub template: Option<Category>,
    /// The purpose consent is checked for.
    pub purpose: Purpose,
    /// Whether it counts as marketing (template category or lexicon).
    pub marketing: bool,
}

/// How the mass-message rule acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MassAction {
    Flag,
    Deny,
}

/// What an opt-out ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OptOutScope {
    AllContact,
    Marketing,
}

#[derive(Clone, Debug)]
pub(super) struct TemplateClass {
    pub(super) category: Category,
    pub(super) purpose: Purpose,
}

#[derive(Clone, Debug)]
pub(super) struct Window {
    pub(super) free_form: SignedDuration,
    pub(super) customer_first: bool,
}

#[derive(Clone, Copy, Debug)]
pub(super) struct QuietHours {
    pub(super) from: Time,
    pub(super) until: Time,
}

#[derive(Clone, Debug)]
pub(super) struct Frequency {
    pub(super) marketing_max: u32,
    pub(super) marketing_period: SignedDuration,
    pub(super) pair_interval: SignedDuration,
}

#[derive(Clone, Debug)]
pub(super) struct Mass {
    pub(super) max_recipients: u32,
    pub(super) period: SignedDuration,
    pub(super) action: MassAction,
}

#[derive(Clone, Debug)]
pub(super) struct GroupRules {
    pub(super) allow_group_sends: bool,
}

/// The compiled policy.
#[derive(Clone, Debug)]
pub(super) struct Rules {
    pub(super) tz: TimeZone,
    pub(super) window: Window,
    pub(super) purposes: Vec<Purpose>,
    pub(super) double_opt_in: Vec<Purpose>,
    pub(super) marketing_enabled: bool,
    pub(super) keywords: Keywords,
    pub(super) opt_out_scope: OptOutScope,
    pub(super) templates: HashMap<(String, String), TemplateClass>,
    pub(super) quiet: Vec<(Purpose, QuietHours)>,
    pub(super) frequency: Frequency,
    pub(super) mass: Mass,
    pub(super) lexicon: Lexicon,
    pub(super) groups: GroupRules,
    pub(super) pii: PiiRules,
}

/// Operators for personal data in message text, per direction.
#[derive(Clone, Debug, Default)]
pub(super) struct PiiRules {
    pub(super) outbound: crate::pii::Rules,
    pub(super) inbound: crate::pii::Rules,
}

/// The outcome of one rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The rule does not apply to this send.
    Skip,
    /// Checked and passed.
    Pass,
    /// Passed, but recorded for review (for example mass messaging).
    Flag(String),
    /// Refused.
    Deny(Denial),
}

/// Everything a check sees.
pub(super) struct Ctx<'a> {
    pub(super) class: &'a SendClass,
    pub(super) state: &'a SubjectState,
    pub(super) now: Timestamp,
}

type Check = fn(&Rules, &Ctx<'_>) -> Verdict;

/// The per-subject checks in evaluation order.
pub(super) const CHECKS: [(&str, Check); 10] = [
    (RULE_MARKETING_ENABLED, marketing_enabled),
    (RULE_OPT_OUT, opt_out),
    (RULE_UNDELIVERABLE, undeliverable),
    (RULE_CUSTOMER_FIRST, customer_first),
    (RULE_WINDOW, window),
    (RULE_CONSENT, consent),
    (RULE_QUIET_HOURS, quiet_hours),
    (RULE_PAIR_RATE, pair_rate),
    (RULE_FREQUENCY, frequency),
    (RULE_MASS, mass),
];

fn deny(rule: &'static str, kind: DenialKind, reason: impl Into<String>) -> Verdict {
    Verdict::Deny(Denial {
        rule,
        kind,
        reason: reason.into(),
    })
}

fn marketing_enabled(rules: &Rules, ctx: &Ctx<'_>) -> Verdict {
    match (ctx.class.marketing, rules.marketing_enabled) {
        (false, _) => Verdict::Skip,
        (true, true) => Verdict::Pass,
        (true, false) => deny(
            RULE_MARKETING_ENABLED,
            DenialKind::Forbidden,
            "marketing messages are disabled by this policy profile",
        ),
    }
}

fn undeliverable(_: &Rules, ctx: &Ctx<'_>) -> Verdict {
    if ctx.state.undeliverable() {
        deny(
            RULE_UNDELIVERABLE,
            DenialKind::Undeliverable,
            "Meta reported this number undeliverable (131026); nothing is sent until the person writes again",
        )
    } else {
        Verdict::Pass
    }
}

fn opt_out(rules: &Rules, ctx: &Ctx<'_>) -> Verdict {
    let blocked = match rules.opt_out_scope {
        OptOutScope::AllContact => ctx.state.opt_out_in_force(),
        // Marketing opt-outs are enforced through revoked consent.
        OptOutScope::Marketing => false,
    };
    if blocked {
        deny(
            RULE_OPT_OUT,
            DenialKind::OptedOut,
            "the recipient opted out; no business-initiated contact until they write again",
        )
    } else {
        Verdict::Pass
    }
}

fn customer_first(rules: &Rules, ctx: &Ctx<'_>) -> Verdict {
    if !rules.window.customer_first {
        return Verdict::Skip;
    }
    let has_written = ctx.state.last_inbound.is_some();
    let service_consent = ctx.state.has_consent(&Purpose::service());
    match (ctx.class.template, has_written) {
        (_, true) => Verdict::Pass,
        // A template may reach someone who never wrote only with consent
        // for its purpose (checked by consent.purpose for marketing).
        (Some(Category::Marketing), false) => Verdict::Pass,
        (Some(_), false) if service_consent => Verdict::Pass,
        (Some(_), false) => deny(
            RULE_CUSTOMER_FIRST,
            DenialKind::ConsentMissing,
            "the recipient never wrote to us and gave no service consent",
        ),
        (None, false) => deny(
            RULE_CUSTOMER_FIRST,
            DenialKind::OutsideWindow,
            "free-form messages need the customer's own earlier message; send a template",
        ),
    }
}

fn window(rules: &Rules, ctx: &Ctx<'_>) -> Verdict {
    if ctx.class.template.is_some() {
        return Verdict::Skip;
    }
    let Some(last) = ctx.state.last_inbound else {
        return deny(
            RULE_WINDOW,
            DenialKind::OutsideWindow,
            "no customer-service window is open; send a template",
        );
    };
    if ctx.now.duration_since(last) < rules.window.free_form {
        Verdict::Pass
    } else {
        deny(
            RULE_WINDOW,
            DenialKind::OutsideWindow,
            format!(
                "more than {} hours since the customer's last message; send a template",
                rules.window.free_form.as_hours()
            ),
        )
    }
}

fn consent(rules: &Rules, ctx: &Ctx<'_>) -> Verdict {
    let purpose = &ctx.class.purpose;
    let needs = ctx.class.marketing || rules.double_opt_in.contains(purpose);
    if !needs {
        return Verdict::Skip;
    }
    match ctx.state.consent(purpose) {
        Some(ConsentStatus::Granted { .. }) => Verdict::Pass,
        Some(ConsentStatus::Pending { .. }) => deny(
            RULE_CONSENT,
            DenialKind::ConsentMissing,
            format!("consent for `{purpose}` is pending until confirmed over WhatsApp"),
        ),
        Some(ConsentStatus::Revoked { .. }) => deny(
            RULE_CONSENT,
            DenialKind::ConsentMissing,
            format!("consent for `{purpose}` was withdrawn"),
        ),
        None => deny(
            RULE_CONSENT,
            DenialKind::ConsentMissing,
            format!("no consent for `{purpose}`"),
        ),
    }
}

fn quiet_hours(rules: &Rules, ctx: &Ctx<'_>) -> Verdict {
    // One-time codes answer the person's own login attempt, at any hour.
    if ctx.class.template == Some(Category::Authentication) {
        return Verdict::Skip;
    }
    let Some((_, q)) = rules.quiet.iter().find(|(p, _)| *p == ctx.class.purpose) else {
        return Verdict::Skip;
    };
    let local = ctx.now.to_zoned(rules.tz.clone()).time();
    let quiet = if q.from < q.until {
        q.from <= local && local < q.until
    } else {
        local >= q.from || local < q.until
    };
    if quiet {
        deny(
            RULE_QUIET_HOURS,
            DenialKind::Forbidden,
            format!(
                "no `{}` messages between {} and {} ({})",
                ctx.class.purpose,
                q.from.strftime("%H:%M"),
                q.until.strftime("%H:%M"),
                rules.tz.iana_name().unwrap_or("configured zone")
            ),
        )
    } else {
        Verdict::Pass
    }
}

fn pair_rate(rules: &Rules, ctx: &Ctx<'_>) -> Verdict {
    let interval = rules.frequency.pair_interval;
    // A zero interval switches the rule off (a send stamped a moment
    // later by a concurrent request would otherwise count as "too soon").
    let recent = !interval.is_zero()
        && ctx
            .state
            .last_send
            .is_some_and(|at| ctx.now.duration_since(at) < interval);
    if recent {
        deny(
            RULE_PAIR_RATE,
            DenialKind::PairRateLimit,
            format!(
                "at most one message every {} s to the same person",
                interval.as_secs()
            ),
        )
    } else {
        Verdict::Pass
    }
}

fn frequency(rules: &Rules, ctx: &Ctx<'_>) -> Verdict {
    if !ctx.class.marketing {
        return Verdict::Skip;
    }
    let f = &rules.frequency;
    // The ledger counts marketing sends within the period (up to the cap).
    if ctx.state.recent_marketing_sends < f.marketing_max {
        Verdict::Pass
    } else {
        deny(
            RULE_FREQUENCY,
            DenialKind::RateLimit,
            format!(
                "at most {} marketing messages per person per {} hours",
                f.marketing_max,
                f.marketing_period.as_hours()
            ),
        )
    }
}

fn mass(rules: &Rules, ctx: &Ctx<'_>) -> Verdict {
    // In-window service replies are conversations, not mass messages.
    if ctx.class.template.is_none() && !ctx.class.marketing {
        return Verdict::Skip;
    }
    let m = &rules.mass;
    let recipients = ctx.state.same_content_recipients.saturating_add(1);
    if recipients <= m.max_recipients {
        return Verdict::Pass;
    }
    let reason = format!(
        "the same content would go to more than {} people within {} hours",
        m.max_recipients,
        m.period.as_hours(),
    );
    match m.action {
        MassAction::Flag => Verdict::Flag(reason),
        MassAction::Deny => deny(RULE_MASS, DenialKind::RateLimit, reason),
    }
}

// === impl Category ===

impl Category {
    /// Parses a category name.
    pub(super) fn parse(name: &str) -> Option<Self> {
        match name {
            "marketing" => Some(Self::Marketing),
            "utility" => Some(Self::Utility),
            "authentication" => Some(Self::Authentication),
            _ => None,
        }
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Marketing => "marketing",
            Self::Utility => "utility",
            Self::Authentication => "authentication",
        }
    }

    /// Marketing templates serve `marketing`; the others `service`.
    pub(super) fn default_purpose(self) -> Purpose {
        match self {
            Self::Marketing => Purpose::marketing(),
            Self::Utility | Self::Authentication => Purpose::service(),
        }
    }
}
