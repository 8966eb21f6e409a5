//! Meta's webhook callback: `GET` answers the verification handshake,
//! `POST` verifies the signature over the raw bytes, stores the batch
//! durably, records it in the audit log, and only then answers 200.

use std::sync::mpsc::SyncSender;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;

use super::{Inbox, SignatureError, handshake_challenge, verify};
use crate::audit::{AuditLog, Direction, Kind, Record};
use crate::config::Secret;
use crate::error::ApiError;
use crate::ingress::{BodyLimits, read_json_body};
use crate::pseudonym::PseudonymKey;

/// Actor of entries about Meta's calls.
const META_ACTOR: &str = "meta:webhook";

/// The webhook callback and what it needs.
pub struct WebhookEndpoint {
    path: String,
    app_secret: Secret,
    verify_token: Secret,
    inbox: Inbox,
    audit: AuditLog,
    pseudonyms: PseudonymKey,
    limits: BodyLimits,
    processor: SyncSender<()>,
}

/// The endpoint's answer and the rule that decided it (for logs/metrics).
pub struct WebhookReply {
    /// The HTTP response.
    pub response: Response<Full<Bytes>>,
    /// Rule id, or `accepted`.
    pub rule: &'static str,
}

/// Secrets the endpoint checks against.
pub struct WebhookSecrets {
    /// Meta's app secret (signature key).
    pub app_secret: Secret,
    /// The handshake's verify token.
    pub verify_token: Secret,
}

/// Where a stored batch goes next.
pub struct WebhookSinks {
    /// The durable inbox.
    pub inbox: Inbox,
    /// The audit log.
    pub audit: AuditLog,
    /// Wakes the processor after a batch was stored.
    pub processor: SyncSender<()>,
}

// === impl WebhookEndpoint ===

impl WebhookEndpoint {
    /// Assembles the endpoint.
    pub fn new(
        path: String,
        secrets: WebhookSecrets,
        sinks: WebhookSinks,
        pseudonyms: PseudonymKey,
        limits: BodyLimits,
    ) -> Self {
        Self {
            path,
            app_secret: secrets.app_secret,
            verify_token: secrets.verify_token,
            inbox: sinks.inbox,
            audit: sinks.audit,
            pseudonyms,
            limits,
            processor: sinks.processor,
        }
    }

    /// Whether a request path is the callback.
    pub fn matches(&self, path: &str) -> bool {
        path == self.path
    }

    /// Handles one call from Meta.
    pub async fn handle(&self, req: Request<Incoming>, trace_id: &str) -> WebhookReply {
        match *req.method() {
            Method::GET => self.handshake(req.uri().query().unwrap_or("")),
            Method::POST => match self.receive(req, trace_id).await {
                Ok(()) => reply(
                    StatusCode::OK,
                    "text/plain",
                    Bytes::from_static(b"EVENT_RECEIVED"),
                    "webhook.accepted",
                ),
                Err(e) => reply(e.status, "application/json", e.to_body(trace_id), e.rule),
            },
            _ => reply(
                StatusCode::METHOD_NOT_ALLOWED,
                "text/plain",
                Bytes::new(),
                "webhook.method_not_allowed",
            ),
        }
    }

    fn handshake(&self, query: &str) -> WebhookReply {
        match handshake_challenge(query, self.verify_token.expose()) {
            Some(challenge) => reply(
                StatusCode::OK,
                "text/plain",
                Bytes::from(challenge),
                "webhook.handshake",
            ),
            None => reply(
                StatusCode::FORBIDDEN,
                "text/plain",
                Bytes::new(),
                "webhook.verify_token_mismatch",
            ),
        }
    }

    /// Verify, store durably, audit — in that order, all before the 200.
    async fn receive(&self, req: Request<Incoming>, trace_id: &str) -> Result<(), ApiError> {
        let signature = req
            .headers()
            .get("x-hub-signature-256")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_json_body(req, self.limits).await?;
        if let Err(e) = verify(
            self.app_secret.expose().as_bytes(),
            &body,
            signature.as_deref(),
        ) {
            return Err(self.reject(e, trace_id).await);
        }
        let received_at = jiff::Timestamp::now().to_string();
        self.inbox
            .store(body.clone(), received_at)
            .await
            .map_err(|e| {
                tracing::error!(trace_id, error = %e, "webhook inbox store failed");
                unavailable("webhook.store_failed")
            })?;
        let record = Record::new(Kind::WebhookReceived, META_ACTOR)
            .with_direction(Direction::Inbound)
            .with_content(&self.pseudonyms, &body)
            .with_correlation_id(trace_id);
        self.audit.append(record).await.map_err(|e| {
            tracing::error!(trace_id, error = %e, "audit append of a webhook failed");
            unavailable("audit.unavailable")
        })?;
        // A full channel means a wake-up is already pending.
        let _ = self.processor.try_send(());
        Ok(())
    }

    async fn reject(&self, error: SignatureError, trace_id: &str) -> ApiError {
        let rule = match error {
            SignatureError::Missing => "webhook.signature_missing",
            SignatureError::Malformed | SignatureError::Mismatch => "webhook.signature_invalid",
        };
        let record = Record::new(Kind::WebhookRejected, META_ACTOR)
            .with_direction(Direction::Inbound)
            .with_rule_ids([rule])
            .with_correlation_id(trace_id);
        if let Err(e) = self.audit.append(record).await {
            tracing::error!(trace_id, error = %e, "audit append of a rejected webhook failed");
        }
        ApiError::unauthenticated(rule, error.to_string())
    }
}

fn unavailable(rule: &'static str) -> ApiError {
    ApiError {
        code: 131016,
        ..ApiError::internal(
            StatusCode::SERVICE_UNAVAILABLE,
            rule,
            "the update could not be stored; Meta will retry",
        )
    }
}

fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    rule: &'static str,
) -> WebhookReply {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    WebhookReply { response, rule }
}
