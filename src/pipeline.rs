//! The request pipeline: one function per phase, in the order requests
//! flow through them.
//!
//! receive → identify → classify → decide → redact → audit → forward → inspect
//!
//! * receive: route and body, with size and time limits (`ingress`)
//! * identify: which internal client, may it use this number (`ingress::auth`)
//! * classify: parse into a typed, normalised request (`message`)
//! * decide: policy rules; forwarding needs the returned `Permit` (`policy`)
//! * redact: find and transform personal data (`pii`, issue 4)
//! * audit: record the decision durably before anything leaves (`audit`, issue 3)
//! * forward: substitute Meta's token and send once (`egress`)
//! * inspect: pass the answer through or map upstream failures (`egress`)

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use ring::rand::{SecureRandom, SystemRandom};

use crate::egress::{Upstream, UpstreamRequest, UpstreamResponse};
use crate::error::{ApiError, ErrorSource};
use crate::ingress::{Clients, PeerInfo, SendRoute, parse_send_path};
use crate::message::SendRequest;
use crate::observability::Metrics;
use crate::policy::{Permit, Policy};

/// Everything a request needs, shared by all connections.
pub struct Gateway {
    clients: Clients,
    policy: Policy,
    upstream: Upstream,
    metrics: Arc<Metrics>,
    limits: BodyLimits,
    rng: SystemRandom,
}

/// Limits on reading a request body.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// Largest body accepted.
    pub max_bytes: usize,
    /// Time allowed to receive it.
    pub read_timeout: Duration,
}

/// What one request turned into, for the access log and metrics.
struct Outcome {
    route: &'static str,
    client: Option<String>,
    rule: &'static str,
    response: Result<UpstreamResponse, ApiError>,
}

// === impl Gateway ===

impl Gateway {
    /// Assembles the pipeline's shared state.
    pub fn new(
        clients: Clients,
        policy: Policy,
        upstream: Upstream,
        metrics: Arc<Metrics>,
        limits: BodyLimits,
    ) -> Self {
        Self {
            clients,
            policy,
            upstream,
            metrics,
            limits,
            rng: SystemRandom::new(),
        }
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// The upstream's kind (`sandbox` or `meta`).
    pub fn upstream_kind(&self) -> &'static str {
        self.upstream.kind()
    }

    /// Handles one HTTP request; never fails, errors become Cloud API errors.
    pub async fn handle(&self, req: Request<Incoming>, peer: &PeerInfo) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let trace_id = self.trace_id();
        let outcome = self.run(req, peer).await;
        let response = render(&outcome.response, &trace_id);
        let status = response.status().as_u16();
        self.metrics
            .request_done(outcome.route, status, outcome.rule, started.elapsed());
        log_outcome(&outcome, status, &trace_id, started.elapsed());
        response
    }

    async fn run(&self, req: Request<Incoming>, peer: &PeerInfo) -> Outcome {
        let mut outcome = Outcome {
            route: "unmatched",
            client: None,
            rule: "none",
            response: Err(ApiError::internal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "unfinished",
            )),
        };
        outcome.response = self.phases(req, peer, &mut outcome).await;
        if let Err(e) = &outcome.response {
            outcome.rule = e.rule;
        }
        outcome
    }

    async fn phases(
        &self,
        req: Request<Incoming>,
        peer: &PeerInfo,
        out: &mut Outcome,
    ) -> Result<UpstreamResponse, ApiError> {
        let route = receive_route(&req)?;
        out.route = route.endpoint.path_segment();
        let client = self.clients.authorise(
            req.headers(),
            req.uri().query(),
            peer,
            &route.phone_number_id,
        )?;
        out.client = Some(client.name.clone());
        let body = self.receive_body(req).await?;
        let request = SendRequest::parse(&body, route.endpoint)?;
        let permit = self.policy.evaluate(&request)?;
        out.rule = "allow";
        self.forward(&route, &request, permit).await
    }

    async fn receive_body(&self, req: Request<Incoming>) -> Result<Bytes, ApiError> {
        check_content_type(req.headers())?;
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.limits.max_bytes as u64) {
            return Err(too_large(self.limits.max_bytes));
        }
        let limited = Limited::new(req.into_body(), self.limits.max_bytes);
        match tokio::time::timeout(self.limits.read_timeout, limited.collect()).await {
            Err(_) => Err(ApiError::downstream(
                StatusCode::REQUEST_TIMEOUT,
                100,
                "Request timeout",
                "ingress.body_timeout",
                "the request body did not arrive in time",
            )),
            Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                Err(too_large(self.limits.max_bytes))
            }
            Ok(Err(_)) => Err(ApiError::invalid_parameter(
                "ingress.body_unreadable",
                "the request body could not be read",
            )),
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
        }
    }

    /// Forwarding consumes the permit: no permit, no send.
    async fn forward(
        &self,
        route: &SendRoute,
        request: &SendRequest,
        _permit: Permit,
    ) -> Result<UpstreamResponse, ApiError> {
        let body = request.to_wire_bytes().map_err(|_| {
            ApiError::internal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "egress.serialise",
                "the request could not be serialised",
            )
        })?;
        let upstream_request = UpstreamRequest {
            version: route.version.clone(),
            phone_number_id: route.phone_number_id.clone(),
            endpoint: route.endpoint,
            body: Bytes::from(body),
        };
        let started = Instant::now();
        let result = self.upstream.send(upstream_request).await;
        let outcome = match &result {
            Ok(r) => {
                if r.status.is_success() {
                    "accepted"
                } else {
                    "refused"
                }
            }
            Err(e) => e.kind(),
        };
        self.metrics
            .upstream_done(self.upstream.kind(), outcome, started.elapsed());
        result.map_err(|e| e.to_api_error())
    }

    /// A random id for `fbtrace_id` and logs; names no person.
    fn trace_id(&self) -> String {
        let mut bytes = [0u8; 12];
        if self.rng.fill(&mut bytes).is_err() {
            return "A0000000000000000000000".into();
        }
        format!("A{}", crate::pseudonym::hex(&bytes))
    }
}

fn receive_route(req: &Request<Incoming>) -> Result<SendRoute, ApiError> {
    let route = parse_send_path(req.uri().path()).ok_or_else(|| {
        ApiError::downstream(
            StatusCode::NOT_FOUND,
            100,
            "Unsupported request",
            "ingress.route_unknown",
            "schleuse serves POST /{version}/{phone-number-id}/messages and /marketing_messages",
        )
    })?;
    if req.method() != Method::POST {
        return Err(ApiError::downstream(
            StatusCode::METHOD_NOT_ALLOWED,
            100,
            "Unsupported request",
            "ingress.method_not_allowed",
            "only POST is supported on this path",
        ));
    }
    Ok(route)
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

fn render(result: &Result<UpstreamResponse, ApiError>, trace_id: &str) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match result {
        Ok(r) => (r.status, r.content_type.clone(), r.body.clone()),
        Err(e) => (
            e.status,
            Some(HeaderValue::from_static("application/json")),
            e.to_body(trace_id),
        ),
    };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    if let Some(ct) = content_type {
        response.headers_mut().insert(CONTENT_TYPE, ct);
    }
    if let Ok(v) = HeaderValue::from_str(trace_id) {
        response.headers_mut().insert("x-schleuse-trace-id", v);
    }
    response
}

/// The access log: ids, rule and timing only — never content or numbers.
fn log_outcome(o: &Outcome, status: u16, trace_id: &str, elapsed: Duration) {
    let client = o.client.as_deref().unwrap_or("-");
    let ms = elapsed.as_secs_f64() * 1000.0;
    match &o.response {
        Err(e) if e.source != ErrorSource::Downstream => {
            tracing::warn!(
                trace_id,
                route = o.route,
                client,
                status,
                rule = o.rule,
                ms,
                "request failed"
            )
        }
        _ => tracing::info!(
            trace_id,
            route = o.route,
            client,
            status,
            rule = o.rule,
            ms,
            "request"
        ),
    }
}
