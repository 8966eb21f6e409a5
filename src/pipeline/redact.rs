//! The redact phase: every text site of an outbound send through the PII
//! engine under the policy's outbound rules. Only counts per label and
//! operator leave this module, never values.

use super::Gateway;
use crate::error::ApiError;
use crate::message::SendRequest;
use crate::pii::{ActionCount, Operator, transform};
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
        let mut blocked = None;
        request.for_each_text_mut(&mut |_site, text| {
            if blocked.is_some() {
                return;
            }
            let findings = self.pii.detect(text);
            if findings.is_empty() {
                return;
            }
            match transform(text, &findings, policy.pii_outbound(), &self.pii_keys) {
                Ok(done) => {
                    redaction.changed |= done.text != *text;
                    *text = done.text;
                    redaction.add(&done.actions);
                }
                Err(b) => blocked = Some(b.label),
            }
        });
        match blocked {
            None => Ok(redaction),
            Some(label) => {
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
}
