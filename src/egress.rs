//! Egress: forwarding an allowed request to the Cloud API (or the sandbox).
//!
//! The gateway, not the internal system, holds Meta's access token; it is
//! substituted here. Sends are never retried (a retry after an unknown
//! outcome could duplicate a message). 2xx and 4xx answers pass through
//! unchanged; a 5xx, a timeout or an unreachable upstream becomes a
//! Cloud-API-shaped 502/504 that says whether the message may have gone out.

mod http_client;

use bytes::Bytes;
use http::{HeaderValue, StatusCode};

use crate::config::{Secret, UpstreamConfig, UpstreamKind};
use crate::error::ApiError;
use crate::message::Endpoint;
use crate::sandbox::Sandbox;
pub use http_client::HttpUpstream;

/// Where allowed requests go.
#[derive(Clone, Debug)]
pub enum Upstream {
    /// The built-in Meta stand-in.
    Sandbox(Sandbox),
    /// A Cloud API endpoint over HTTP(S).
    Http(Box<HttpUpstream>),
}

/// One request to forward.
#[derive(Clone, Debug)]
pub struct UpstreamRequest {
    /// API version from the client's path (`v24.0`).
    pub version: String,
    /// Business phone-number id.
    pub phone_number_id: String,
    /// Which send endpoint.
    pub endpoint: Endpoint,
    /// The validated, transformed JSON body.
    pub body: Bytes,
}

/// The upstream's answer, passed to the client unchanged.
#[derive(Clone, Debug)]
pub struct UpstreamResponse {
    /// HTTP status.
    pub status: StatusCode,
    /// `Content-Type` header, if any.
    pub content_type: Option<HeaderValue>,
    /// Response body.
    pub body: Bytes,
}

/// Why a forward failed.
#[derive(Debug, thiserror::Error)]
pub enum EgressError {
    /// The upstream could not be reached; the message was not sent.
    #[error("upstream unreachable: {0}")]
    Unreachable(String),
    /// No answer in time; the message may or may not have been sent.
    #[error("upstream timed out")]
    Timeout,
    /// The connection failed after the request was sent; outcome unknown.
    #[error("upstream connection failed: {0}")]
    OutcomeUnknown(String),
    /// The upstream answered with a server error.
    #[error("upstream answered {status}")]
    ServerError {
        /// Upstream status.
        status: StatusCode,
        /// Meta error code from the body, if it had the Cloud API shape.
        code: Option<u32>,
    },
    /// The upstream's answer was unusable (too large, unreadable).
    #[error("upstream response unusable: {0}")]
    BadResponse(String),
    /// The upstream could not be set up (TLS files, URL).
    #[error("upstream setup failed: {0}")]
    Setup(String),
}

// === impl Upstream ===

impl Upstream {
    /// Builds the upstream named in the config.
    pub fn from_config(cfg: &UpstreamConfig, token: &Secret) -> Result<Self, EgressError> {
        match cfg.kind {
            UpstreamKind::Sandbox => Ok(Self::Sandbox(Sandbox::new(
                cfg.sandbox_phone_number_ids.iter().cloned(),
                token.clone(),
            ))),
            UpstreamKind::Meta => Ok(Self::Http(Box::new(HttpUpstream::new(cfg, token.clone())?))),
        }
    }

    /// Forwards one request; never retries.
    pub async fn send(&self, req: UpstreamRequest) -> Result<UpstreamResponse, EgressError> {
        let resp = match self {
            Self::Sandbox(s) => s.handle(&req, Some(s.token().expose())),
            Self::Http(h) => h.send(req).await?,
        };
        if resp.status.is_server_error() {
            return Err(EgressError::ServerError {
                status: resp.status,
                code: cloud_api_error_code(&resp.body),
            });
        }
        Ok(resp)
    }

    /// Short name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sandbox(_) => "sandbox",
            Self::Http(_) => "meta",
        }
    }
}

// === impl EgressError ===

/// Rule id: the upstream did not answer in time (outcome unknown).
pub const RULE_UPSTREAM_TIMEOUT: &str = "egress.upstream_timeout";
/// Rule id: the connection broke after the request was sent (outcome
/// unknown).
pub const RULE_UPSTREAM_FAILED: &str = "egress.upstream_failed";

impl EgressError {
    /// The Cloud API error the client sees.
    pub fn to_api_error(&self) -> ApiError {
        match self {
            Self::Unreachable(_) => ApiError::upstream_unreachable(
                "the upstream could not be reached; the message was not sent",
            ),
            Self::Timeout => ApiError::upstream(
                StatusCode::GATEWAY_TIMEOUT,
                131000,
                "Something went wrong",
                RULE_UPSTREAM_TIMEOUT,
                "the upstream did not answer in time; the message may have been accepted, check status webhooks before resending",
            ),
            Self::OutcomeUnknown(_) | Self::BadResponse(_) => ApiError::upstream(
                StatusCode::BAD_GATEWAY,
                131000,
                "Something went wrong",
                RULE_UPSTREAM_FAILED,
                "the upstream connection failed after the request was sent; the message may have been accepted, check status webhooks before resending",
            ),
            Self::ServerError { status, code } => ApiError::upstream(
                StatusCode::BAD_GATEWAY,
                code.unwrap_or(131000),
                "Service unavailable",
                "egress.upstream_server_error",
                format!("the upstream answered HTTP {}", status.as_u16()),
            ),
            Self::Setup(_) => ApiError::internal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "egress.setup",
                "the upstream is misconfigured",
            ),
        }
    }

    /// Metric label.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unreachable(_) => "unreachable",
            Self::Timeout => "timeout",
            Self::OutcomeUnknown(_) => "outcome_unknown",
            Self::ServerError { .. } => "server_error",
            Self::BadResponse(_) => "bad_response",
            Self::Setup(_) => "setup",
        }
    }
}

fn cloud_api_error_code(body: &[u8]) -> Option<u32> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    u32::try_from(v.pointer("/error/code")?.as_u64()?).ok()
}

// === impl Endpoint ===

impl Endpoint {
    /// The path segment after the phone-number id.
    pub fn path_segment(self) -> &'static str {
        match self {
            Self::Messages => "messages",
            Self::MarketingMessages => "marketing_messages",
        }
    }
}
