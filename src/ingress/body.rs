//! receive: reading a JSON request body within size and time limits.

use std::time::Duration;

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::error::ApiError;

/// Limits on reading a request body.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// Largest body accepted.
    pub max_bytes: usize,
    /// Time allowed to receive it.
    pub read_timeout: Duration,
}

/// Reads a JSON body: 415 for another content type, 413 over the limit
/// (checked on `Content-Length` before reading and while reading chunked
/// bodies), 408 when it does not arrive in time.
pub async fn read_json_body(req: Request<Incoming>, limits: BodyLimits) -> Result<Bytes, ApiError> {
    check_content_type(req.headers())?;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_bytes as u64) {
        return Err(too_large(limits.max_bytes));
    }
    let limited = Limited::new(req.into_body(), limits.max_bytes);
    match tokio::time::timeout(limits.read_timeout, limited.collect()).await {
        Err(_) => Err(ApiError::downstream(
            StatusCode::REQUEST_TIMEOUT,
            100,
            "Request timeout",
            "ingress.body_timeout",
            "the request body did not arrive in time",
        )),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            Err(too_large(limits.max_bytes))
        }
        Ok(Err(_)) => Err(ApiError::invalid_parameter(
            "ingress.body_unreadable",
            "the request body could not be read",
        )),
        Ok(Ok(collected)) => Ok(collected.to_bytes()),
    }
}

fn check_content_type(headers: &http::HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(CONTENT_TYPE) else {
        return Ok(());
    };
    let json = value
        .to_str()
        .ok()
        .and_then(|v| v.split(';').next())
        .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
    if json {
        Ok(())
    } else {
        Err(ApiError::downstream(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            100,
            "Invalid parameter",
            "ingress.content_type",
            "the body must be application/json",
        ))
    }
}

fn too_large(max: usize) -> ApiError {
    ApiError::downstream(
        StatusCode::PAYLOAD_TOO_LARGE,
        100,
        "Invalid parameter",
        "ingress.body_too_large",
        format!("the request body exceeds {max} bytes"),
    )
}
