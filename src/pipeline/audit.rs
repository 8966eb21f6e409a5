//! The audit phase: every decision (allow, modify, deny) and every
//! upstream answer becomes an audit record; an allowed send is recorded
//! durably before anything leaves (no audit record, no send).

use bytes::Bytes;
use http::StatusCode;

use super::redact::Redaction;
use super::{DecisionContext, Gateway};
use crate::audit::{Decision, Direction, Kind, Record};
use crate::config::ClientConfig;
use crate::egress::UpstreamResponse;
use crate::error::ApiError;
use crate::message::SendRequest;
use crate::pii::ActionCount;
use crate::policy::Permit;
use crate::pseudonym::SubjectId;

// === impl Gateway ===

impl Gateway {
    /// audit: the allow decision is durably recorded before anything leaves;
    /// returns the exact bytes that were recorded and will be forwarded.
    pub(super) async fn record_permit(
        &self,
        ctx: &DecisionContext<'_>,
        subject: Option<SubjectId>,
        request: &SendRequest,
        permit: &Permit,
        redaction: &Redaction,
    ) -> Result<Bytes, ApiError> {
        let trace_id = ctx.trace_id;
        let wire = request.to_wire_bytes().map_err(|_| {
            ApiError::internal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "egress.serialise",
                "the request could not be serialised",
            )
        })?;
        let decision = if redaction.changed {
            Decision::Modify
        } else {
            Decision::Allow
        };
        let record = with_pii(self.decision_record(ctx, subject), &redaction.actions)
            .with_decision(decision)
            .with_rule_ids(permit.audit_rule_ids())
            .with_content(&self.pseudonyms, &wire);
        self.audit.append(record).await.map_err(|e| {
            tracing::error!(trace_id, error = %e, "audit append failed; request not forwarded");
            audit_unavailable()
        })?;
        Ok(Bytes::from(wire))
    }

    /// A refusal is recorded too; if that fails the refusal still stands.
    pub(super) async fn record_denial(
        &self,
        ctx: &DecisionContext<'_>,
        subject: Option<SubjectId>,
        error: &ApiError,
        pii: &[ActionCount],
    ) {
        let trace_id = ctx.trace_id;
        let record = with_pii(self.decision_record(ctx, subject), pii)
            .with_decision(Decision::Deny)
            .with_rule_ids([error.rule]);
        if let Err(e) = self.audit.append(record).await {
            tracing::error!(trace_id, error = %e, "audit append of a denial failed");
        }
    }

    /// inspect: what the upstream answered, with the wamid pseudonymised.
    pub(super) async fn record_upstream_result(
        &self,
        client: &ClientConfig,
        subject: Option<SubjectId>,
        result: &Result<UpstreamResponse, ApiError>,
        trace_id: &str,
    ) {
        let (status, wamid, rule) = match result {
            Ok(r) => (r.status.as_u16(), first_wamid(&r.body), None),
            Err(e) => (e.status.as_u16(), None, Some(e.rule)),
        };
        let mut record = Record::new(Kind::UpstreamResult, actor(client))
            .with_direction(Direction::Outbound)
            .with_correlation_id(trace_id)
            .with_rule_ids(rule)
            .with_upstream(&self.pseudonyms, Some(status), wamid.as_deref());
        if let Some(s) = subject {
            record = record.with_subject(s);
        }
        if let Err(e) = self.audit.append(record).await {
            tracing::error!(trace_id, error = %e, "audit append of an upstream result failed");
        }
    }

    fn decision_record(&self, ctx: &DecisionContext<'_>, subject: Option<SubjectId>) -> Record {
        let record = Record::new(Kind::MessageDecision, actor(ctx.client))
            .with_direction(Direction::Outbound)
            .with_policy(&ctx.policy.sha256, &ctx.policy.version)
            .with_correlation_id(ctx.trace_id);
        match subject {
            Some(s) => record.with_subject(s),
            None => record,
        }
    }
}

fn with_pii(record: Record, actions: &[ActionCount]) -> Record {
    actions.iter().fold(record, |r, a| {
        r.with_pii(
            a.label.as_str(),
            a.operator.to_string(),
            u32::try_from(a.count).unwrap_or(u32::MAX),
        )
    })
}

fn actor(client: &ClientConfig) -> String {
    format!("client:{}", client.name)
}

/// The first `messages[].id` of a Cloud API success answer.
fn first_wamid(body: &[u8]) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    v.pointer("/messages/0/id")?.as_str().map(str::to_owned)
}

fn audit_unavailable() -> ApiError {
    ApiError {
        code: 131016,
        ..ApiError::internal(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit.unavailable",
            "the audit log could not record this decision, so nothing was sent; retry later",
        )
    }
}
