//! `schleuse policy check|explain`. `main.rs` loads the config and calls
//! these; they only read and print.

use std::io::Write;
use std::path::PathBuf;

use jiff::Timestamp;

use super::{Explanation, Policy, Verdict, content_digest};
use crate::consent::{ConsentError, ConsentStatus, Ledger, SubjectState};
use crate::message::{Endpoint, Recipient, SendRequest};
use crate::pseudonym::{PseudonymKey, SubjectId};

/// `schleuse policy <command>`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PolicyCommand {
    /// Check policy files; prints every problem with its key path and exits
    /// non-zero if any file is invalid.
    Check {
        /// Policy files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Dry run: which rules fire for this send request against the current
    /// consent ledger, and why. Nothing is sent or recorded.
    Explain {
        /// A Cloud API send request body (JSON).
        #[arg(long, value_name = "FILE")]
        request: PathBuf,
        /// Decision time (RFC 3339; default: now).
        #[arg(long, value_name = "TIME")]
        at: Option<Timestamp>,
        /// Config file (default: ./schleuse-data/schleuse.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Checks every file; returns whether all were valid.
pub fn check(files: &[PathBuf], out: &mut dyn Write) -> std::io::Result<bool> {
    let mut all_ok = true;
    for file in files {
        match Policy::load(file) {
            Ok(p) => writeln!(
                out,
                "{}: ok (version {}, sha256 {})",
                file.display(),
                p.version,
                p.sha256
            )?,
            Err(e) => {
                all_ok = false;
                writeln!(out, "{}: INVALID", file.display())?;
                for line in e.to_string().lines() {
                    writeln!(out, "  {line}")?;
                }
            }
        }
    }
    Ok(all_ok)
}

/// Runs a dry-run decision and prints each rule's verdict. Returns whether
/// the request would be allowed.
pub fn explain(
    policy: &Policy,
    ledger: &dyn Ledger,
    key: &PseudonymKey,
    body: &[u8],
    at: Timestamp,
    out: &mut dyn Write,
) -> Result<bool, ConsentError> {
    let request = SendRequest::parse(body, Endpoint::Messages)
        .map_err(|e| ConsentError::Invalid(format!("request refused before policy: {e}")))?;
    let state = match subject_of(key, &request) {
        Some(subject) => {
            let query = policy.state_query(at, Some(content_digest(key, &request)));
            writeln!(out, "subject: {subject}")?;
            ledger.state(&subject, &query)?
        }
        None => SubjectState::default(),
    };
    writeln!(
        out,
        "policy: version {} sha256 {}",
        policy.version, policy.sha256
    )?;
    writeln!(out, "at: {at}")?;
    print_state(&state, out)?;
    let explanations = policy.explain(&request, &state, at);
    for e in &explanations {
        writeln!(out, "{}", line(e))?;
    }
    let decision = policy.decide(&request, &state, at);
    match &decision {
        Ok(p) if p.flags.is_empty() => writeln!(out, "decision: ALLOW")?,
        Ok(p) => writeln!(out, "decision: ALLOW (flagged: {})", p.flags.join(", "))?,
        Err(d) => {
            let e = d.to_api_error();
            writeln!(
                out,
                "decision: DENY {} (code {}, HTTP {})",
                d.rule,
                e.code,
                e.status.as_u16()
            )?;
        }
    }
    Ok(decision.is_ok())
}

fn subject_of(key: &PseudonymKey, request: &SendRequest) -> Option<SubjectId> {
    match request.recipient()? {
        Recipient::Phone(n) => Some(key.subject(n.as_str())),
        Recipient::BusinessScopedUser(u) => Some(key.subject(u)),
        Recipient::Group(_) => None,
    }
}

fn print_state(state: &SubjectState, out: &mut dyn Write) -> std::io::Result<()> {
    let show = |t: Option<Timestamp>| t.map_or("never".to_owned(), |t| t.to_string());
    writeln!(out, "last inbound: {}", show(state.last_inbound))?;
    writeln!(out, "opted out: {}", show(state.opted_out_at))?;
    for (purpose, status) in &state.consents {
        writeln!(out, "consent {purpose}: {}", status_text(status))?;
    }
    writeln!(
        out,
        "last send: {}; marketing sends in the frequency period: {}; same content to {} other people (counted up to the policy's caps)",
        show(state.last_send),
        state.recent_marketing_sends,
        state.same_content_recipients
    )
}

/// `granted since …`, `pending since …`, `revoked since …`.
pub fn status_text(status: &ConsentStatus) -> String {
    match status {
        ConsentStatus::Pending { since } => format!("pending since {since}"),
        ConsentStatus::Granted { since } => format!("granted since {since}"),
        ConsentStatus::Revoked { since } => format!("revoked since {since}"),
    }
}

fn line(e: &Explanation) -> String {
    match &e.verdict {
        Verdict::Skip => format!("  skip  {}", e.rule),
        Verdict::Pass => format!("  pass  {}", e.rule),
        Verdict::Flag(reason) => format!("  FLAG  {}: {reason}", e.rule),
        Verdict::Deny(d) => format!("  DENY  {}: {}", e.rule, d.reason),
    }
}
