//! The redact phase: every text site of an outbound send through the PII
//! engine under the policy's outbound rules. Only counts per label and
//! operator leave this module, never values.

use http::StatusCode;

use super::Gateway;
use crate::error::ApiError;
use crate::message::SendRequest;
use crate::pii::{ActionCount, Blocked, Label, Operator, Transformed, guarded, transform};
use crate::policy::Policy;

/// What the redact phase did: counts per label and operator, never values.
#[derive(Debug, Default)]
pub(super) struct Redaction {
    pub(super) actions: Vec<ActionCount>,
    pub(super) changed: bool,
}

impl Redaction {
    fn add(&mut self, actions: &[ActionCount]) {
        for a in actions {
            match self
                .actions
                .iter_mut()
                .find(|x| x.label == a.label && x.operator == a.operator)
            {
                Some(x) => x.count += a.count,
                None => self.actions.push(*a),
            }
        }
    }
}

// === impl Gateway ===

impl Gateway {
    /// redact: every text site through the PII engine under the outbound
    /// rules. Returns what was done (counts only), or the refusal when a
    /// category the policy blocks was found.
    pub(super) fn redact(
        &self,
        request: &mut SendRequest,
        policy: &Policy,
    ) -> Result<Redaction, (ApiError, Vec<ActionCount>)> {
        let mut redaction = Redaction::default();
        let mut refusal = None;
        request.for_each_text_mut(&mut |_site, text| {
            if refusal.is_some() {
                return;
            }
            match guarded(|| self.redact_text(text, policy)) {
                None => refusal = Some(Refusal::Failed),
                Some(Err(blocked)) => refusal = Some(Refusal::Blocked(blocked.label)),
                Some(Ok(None)) => {}
                Some(Ok(Some(done))) => {
                    redaction.changed |= done.text != *text;
                    *text = done.text;
                    redaction.add(&done.actions);
                }
            }
        });
        match refusal {
            None => Ok(redaction),
            Some(Refusal::Failed) => Err((
                ApiError::internal(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "pii.failed",
                    "the check for personal data failed on this message; nothing was sent",
                ),
                Vec::new(),
            )),
            Some(Refusal::Blocked(label)) => {
                let error = ApiError::forbidden(
                    "pii.blocked",
                    format!(
                        "the message contains {label} data, which the policy does not allow to be sent over WhatsApp"
                    ),
                );
                Err((
                    error,
                    vec![ActionCount {
                        label,
                        operator: Operator::Block,
                        count: 1,
                    }],
                ))
            }
        }
    }

    /// One text site under the outbound rules: `None` if it holds nothing.
    fn redact_text(&self, text: &str, policy: &Policy) -> Result<Option<Transformed>, Blocked> {
        let findings = self.pii.detect(text);
        if findings.is_empty() {
            return Ok(None);
        }
        transform(text, &findings, policy.pii_outbound(), &self.pii_keys).map(Some)
    }
}

/// Why the redact phase refuses a send.
enum Refusal {
    /// The policy blocks a category found in a text.
    Blocked(Label),
    /// The engine failed (a bug, caught by [`guarded`]).
    Failed,
}
