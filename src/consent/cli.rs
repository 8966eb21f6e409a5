//! `schleuse consent show|grant|revoke|import` for operators and legal.
//!
//! Phone numbers given on the command line or in an import file are
//! pseudonymised at once and never printed or stored. Changes are written
//! to the ledger with their audit entry pending (the ledger's outbox); the
//! gateway appends those audit entries (see `Ledger::unaudited`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use jiff::Timestamp;

use super::{Change, ConsentError, Event, Ledger, Method, Purpose, SubjectState};
use crate::phone::E164;
use crate::policy::Policy;
use crate::policy::cli::status_text;
use crate::pseudonym::{PseudonymKey, SubjectId};

/// `schleuse consent <command>`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum ConsentCommand {
    /// Print the subject's pseudonym, consent events and derived state.
    Show {
        /// Phone number in international form.
        phone: String,
    },
    /// Record consent entered by an operator (the operator is the actor).
    /// Purposes that need a double opt-in stay pending until confirmed.
    Grant {
        /// Phone number in international form.
        phone: String,
        /// Purpose (as named in the policy).
        #[arg(long)]
        purpose: String,
        /// What proves the consent (no phone numbers).
        #[arg(long)]
        evidence: String,
        /// Version id of the consent text the person saw.
        #[arg(long)]
        text_version: Option<String>,
    },
    /// Withdraw consent for one purpose, or (without --purpose) all of them.
    Revoke {
        /// Phone number in international form.
        phone: String,
        /// Purpose; omitted: every purpose.
        #[arg(long)]
        purpose: Option<String>,
    },
    /// Import web-form sign-ups (CSV: phone,signed_up_at,source,
    /// consent_text_version). All rows or none; each stays pending until the
    /// person confirms over WhatsApp.
    Import {
        /// CSV file.
        file: PathBuf,
        /// Purpose the sign-ups are for.
        #[arg(long, default_value = "marketing")]
        purpose: String,
    },
}

/// What the commands work with.
pub struct Context<'a> {
    /// The active policy (purposes, double opt-in).
    pub policy: &'a Policy,
    /// The ledger.
    pub ledger: &'a dyn Ledger,
    /// Pseudonym key.
    pub key: &'a PseudonymKey,
    /// Recorded as the actor, e.g. `operator:alice`.
    pub actor: String,
    /// The time recorded for operator changes.
    pub now: Timestamp,
}

/// The expected CSV header.
pub const IMPORT_HEADER: &str = "phone,signed_up_at,source,consent_text_version";

/// Runs one command.
pub fn run(
    cmd: ConsentCommand,
    ctx: &Context<'_>,
    out: &mut dyn Write,
) -> Result<ExitCode, ConsentError> {
    match cmd {
        ConsentCommand::Show { phone } => show(ctx, &subject(ctx.key, &phone)?, out)?,
        ConsentCommand::Grant {
            phone,
            purpose,
            evidence,
            text_version,
        } => {
            let purpose = policy_purpose(ctx.policy, &purpose)?;
            let change = if ctx.policy.requires_double_opt_in(&purpose) {
                Change::Requested
            } else {
                Change::Granted
            };
            let mut event = operator_event(ctx, &phone, change, Some(purpose))?.with_note(evidence);
            if let Some(v) = text_version {
                event = event.with_text_version(v);
            }
            record(ctx, &event, out)?;
        }
        ConsentCommand::Revoke { phone, purpose } => {
            let purpose = purpose
                .map(|p| policy_purpose(ctx.policy, &p))
                .transpose()?;
            let event = operator_event(ctx, &phone, Change::Revoked, purpose)?;
            record(ctx, &event, out)?;
        }
        ConsentCommand::Import { file, purpose } => {
            let purpose = policy_purpose(ctx.policy, &purpose)?;
            let text = std::fs::read_to_string(&file)?;
            let events = parse_import(&text, &purpose, ctx)?;
            let ids = ctx.ledger.append_all(&events)?;
            writeln!(
                out,
                "{}: imported {} sign-ups for `{purpose}` (pending until confirmed over WhatsApp)",
                display(&file),
                ids.len()
            )?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Parses an import file; every bad row is reported by line number, and
/// any error refuses the whole file. Never echoes phone numbers.
pub fn parse_import(
    text: &str,
    purpose: &Purpose,
    ctx: &Context<'_>,
) -> Result<Vec<Event>, ConsentError> {
    let mut lines = text.lines().enumerate();
    let header = lines
        .next()
        .map(|(_, l)| l.trim().trim_start_matches('\u{feff}'));
    if header != Some(IMPORT_HEADER) {
        return Err(ConsentError::Import(vec![format!(
            "line 1: header must be `{IMPORT_HEADER}`"
        )]));
    }
    let mut events = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        match parse_row(line, purpose, ctx) {
            Ok(event) => events.push(event),
            Err(reason) => errors.push(format!("line {}: {reason}", i + 1)),
        }
    }
    if events.is_empty() && errors.is_empty() {
        errors.push("the file has no rows".into());
    }
    if errors.is_empty() {
        Ok(events)
    } else {
        Err(ConsentError::Import(errors))
    }
}

fn parse_row(line: &str, purpose: &Purpose, ctx: &Context<'_>) -> Result<Event, String> {
    if line.contains('"') {
        return Err("quoted fields are not supported".into());
    }
    let fields: Vec<&str> = line.split(',').map(str::trim).collect();
    let [phone, at, source, version] = fields.as_slice() else {
        return Err(format!("expected 4 fields, found {}", fields.len()));
    };
    let number = E164::parse(phone).map_err(|e| format!("phone number {e}"))?;
    let at: Timestamp = at
        .parse()
        .map_err(|_| "signed_up_at must be an RFC 3339 time such as 2026-11-01T09:30:00Z")?;
    if at > ctx.now {
        return Err("signed_up_at lies in the future".into());
    }
    if source.is_empty() || version.is_empty() {
        return Err("source and consent_text_version must not be empty".into());
    }
    let event = Event::new(
        ctx.key.subject(number.as_str()),
        at,
        Change::Requested,
        Some(purpose.clone()),
        Method::WebForm,
        ctx.actor.clone(),
    );
    Ok(event.with_note(*source).with_text_version(*version))
}

fn show(ctx: &Context<'_>, subject: &SubjectId, out: &mut dyn Write) -> Result<(), ConsentError> {
    writeln!(out, "subject: {subject}")?;
    let events = ctx.ledger.events(subject)?;
    for s in &events {
        let e = &s.event;
        writeln!(
            out,
            "#{} {} {} purpose={} method={} actor={} text_version={} message={} audited={}{}",
            s.id,
            e.at,
            e.change.as_str(),
            e.purpose.as_ref().map_or("all", Purpose::as_str),
            e.evidence.method.as_str(),
            e.evidence.actor,
            e.evidence.text_version.as_deref().unwrap_or("-"),
            e.evidence.message.as_deref().unwrap_or("-"),
            s.audited,
            e.evidence
                .note
                .as_ref()
                .map_or(String::new(), |n| format!(" note={n:?}")),
        )?;
    }
    let list: Vec<Event> = events.into_iter().map(|s| s.event).collect();
    let state = SubjectState::from_events(&list);
    if let Some(at) = state.opted_out_at {
        writeln!(out, "opted out at {at}")?;
    }
    for (purpose, status) in &state.consents {
        writeln!(out, "consent {purpose}: {}", status_text(status))?;
    }
    Ok(())
}

fn record(ctx: &Context<'_>, event: &Event, out: &mut dyn Write) -> Result<(), ConsentError> {
    let id = ctx.ledger.append(event)?;
    writeln!(
        out,
        "recorded #{id}: {} {} for {} (audit entry pending in the outbox)",
        event.change.as_str(),
        event.purpose.as_ref().map_or("all", Purpose::as_str),
        event.subject
    )?;
    Ok(())
}

fn operator_event(
    ctx: &Context<'_>,
    phone: &str,
    change: Change,
    purpose: Option<Purpose>,
) -> Result<Event, ConsentError> {
    let subject = subject(ctx.key, phone)?;
    Ok(Event::new(
        subject,
        ctx.now,
        change,
        purpose,
        Method::Operator,
        ctx.actor.clone(),
    ))
}

fn subject(key: &PseudonymKey, phone: &str) -> Result<SubjectId, ConsentError> {
    let number = E164::parse(phone).map_err(|e| ConsentError::Invalid(format!("PHONE {e}")))?;
    Ok(key.subject(number.as_str()))
}

fn policy_purpose(policy: &Policy, name: &str) -> Result<Purpose, ConsentError> {
    let purpose = Purpose::new(name)?;
    if policy.knows_purpose(&purpose) {
        Ok(purpose)
    } else {
        Err(ConsentError::Invalid(format!(
            "purpose `{purpose}` is not named in the policy"
        )))
    }
}

fn display(path: &Path) -> String {
    path.display().to_string()
}
