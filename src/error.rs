//! The one place where failures become Cloud API error responses.
//!
//! Every error a client sees has Meta's shape (`error.message`, `type`,
//! `code`, `error_data.details`, `fbtrace_id`) so existing Cloud API clients
//! react to it as they would to Meta. Codes reuse Meta's where the meaning
//! matches; `error_data.details` names the schleuse rule that decided, and
//! never echoes request content (it may hold personal data).

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::Full;
use serde_json::json;

/// Who caused a failure: picks the HTTP status family and the log level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorSource {
    /// The calling internal system (4xx).
    Downstream,
    /// Meta or the configured upstream (502/504).
    Upstream,
    /// schleuse itself (500/503).
    Internal,
}

/// A refusal or failure, ready to be rendered in the Cloud API error shape.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status of the response.
    pub status: StatusCode,
    /// Meta-compatible error code (`error.code`).
    pub code: u32,
    /// Short title, rendered as `(#code) title` in `error.message`.
    pub title: &'static str,
    /// The schleuse rule id that produced this error (for example
    /// `ingress.auth.token_unknown`).
    pub rule: &'static str,
    /// Human-readable cause; must never contain request content.
    pub details: String,
    /// Who caused it.
    pub source: ErrorSource,
}

// === impl ApiError ===

impl ApiError {
    /// A client-caused error (4xx).
    pub fn downstream(
        status: StatusCode,
        code: u32,
        title: &'static str,
        rule: &'static str,
        details: impl Into<String>,
    ) -> Self {
        Self::with_source(
            ErrorSource::Downstream,
            status,
            code,
            title,
            rule,
            details.into(),
        )
    }

    /// Missing, unknown or conflicting credentials (401, code 190).
    pub fn unauthenticated(rule: &'static str, details: impl Into<String>) -> Self {
        Self::downstream(
            StatusCode::UNAUTHORIZED,
            190,
            "Invalid OAuth access token",
            rule,
            details,
        )
    }

    /// Authenticated but not permitted (403, code 10).
    pub fn forbidden(rule: &'static str, details: impl Into<String>) -> Self {
        Self::downstream(
            StatusCode::FORBIDDEN,
            10,
            "Permission denied",
            rule,
            details,
        )
    }

    /// Invalid or unsupported parameter (400, code 100).
    pub fn invalid_parameter(rule: &'static str, details: impl Into<String>) -> Self {
        Self::downstream(
            StatusCode::BAD_REQUEST,
            100,
            "Invalid parameter",
            rule,
            details,
        )
    }

    /// A parameter value that is not valid (400, code 131009).
    pub fn invalid_value(rule: &'static str, details: impl Into<String>) -> Self {
        Self::downstream(
            StatusCode::BAD_REQUEST,
            131009,
            "Parameter value is not valid",
            rule,
            details,
        )
    }

    /// The upstream could not be reached: the message was certainly not sent
    /// (502, code 131016 so clients retry with back-off).
    pub fn upstream_unreachable(details: impl Into<String>) -> Self {
        Self::upstream(
            StatusCode::BAD_GATEWAY,
            131016,
            "Service unavailable",
            "egress.upstream_unreachable",
            details,
        )
    }

    /// A failure that came from the upstream side.
    pub fn upstream(
        status: StatusCode,
        code: u32,
        title: &'static str,
        rule: &'static str,
        details: impl Into<String>,
    ) -> Self {
        Self::with_source(
            ErrorSource::Upstream,
            status,
            code,
            title,
            rule,
            details.into(),
        )
    }

    /// A failure inside schleuse (fail closed: nothing was forwarded).
    pub fn internal(status: StatusCode, rule: &'static str, details: impl Into<String>) -> Self {
        let title = "Something went wrong";
        Self::with_source(
            ErrorSource::Internal,
            status,
            131000,
            title,
            rule,
            details.into(),
        )
    }

    fn with_source(
        source: ErrorSource,
        status: StatusCode,
        code: u32,
        title: &'static str,
        rule: &'static str,
        details: String,
    ) -> Self {
        Self {
            status,
            code,
            title,
            rule,
            details,
            source,
        }
    }

    /// Renders the Cloud API error body; `trace_id` becomes `fbtrace_id`.
    pub fn to_body(&self, trace_id: &str) -> Bytes {
        let body = json!({
            "error": {
                "message": format!("(#{}) {}", self.code, self.title),
                "type": "OAuthException",
                "code": self.code,
                "error_data": {
                    "messaging_product": "whatsapp",
                    "details": format!("schleuse rule {}: {}", self.rule, self.details),
                },
                "fbtrace_id": trace_id,
            }
        });
        Bytes::from(body.to_string())
    }

    /// The whole HTTP response: status, JSON content type, body.
    pub fn to_response(&self, trace_id: &str) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.to_body(trace_id)));
        *response.status_mut() = self.status;
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.rule, self.code, self.details)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_cloud_api_shape_and_names_the_rule() {
        let err = ApiError::unauthenticated("ingress.auth.token_unknown", "token not recognised");
        let body: serde_json::Value = serde_json::from_slice(&err.to_body("T1")).unwrap();
        assert_eq!(body["error"]["code"], 190);
        assert_eq!(body["error"]["type"], "OAuthException");
        assert_eq!(body["error"]["fbtrace_id"], "T1");
        assert_eq!(
            body["error"]["message"],
            "(#190) Invalid OAuth access token"
        );
        let details = body["error"]["error_data"]["details"].as_str().unwrap();
        assert!(details.starts_with("schleuse rule ingress.auth.token_unknown:"));
    }
}
