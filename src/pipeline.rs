//! The request pipeline: one function per phase, in the order requests
//! flow through them.
//!
//! receive → identify → classify → decide → redact → audit → forward → inspect
//!
//! * receive: route and body, with size and time limits (`ingress`)
//! * identify: which internal client, may it use this number (`ingress::auth`)
//! * classify: parse into a typed, normalised request (`message`)
//! * decide: policy rules; forwarding needs the returned `Permit` (`policy`)
//! * redact: find and transform personal data (`pii`; here in `redact`)
//! * audit: record the decision durably before anything leaves (`audit`;
//!   here in `audit`); refusals are recorded too, and the upstream's answer
//!   after the send
//! * forward: substitute Meta's token and send once (`egress`)
//! * inspect: pass the answer through or map upstream failures (`egress`)

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use ring::rand::{SecureRandom, SystemRandom};

use crate::audit::AuditLog;
use crate::config::{ClientConfig, IdentityMode};
use crate::consent::{
    ContentDigest, InFlight, Ledger, Reservation, SendFact, SendRecorder, SharedLedger, StateQuery,
    SubjectState,
};
use crate::egress::{
    RULE_UPSTREAM_FAILED, RULE_UPSTREAM_TIMEOUT, Upstream, UpstreamRequest, UpstreamResponse,
};
use crate::error::{ApiError, ErrorSource};
use crate::ingress::{BodyLimits, Clients, PeerInfo, SendRoute, parse_send_path, read_json_body};
use crate::message::{Recipient, SendRequest};
use crate::observability::Metrics;
use crate::pii::{Engine, PiiKeys};
use crate::policy::{Clock, Permit, Policy, PolicyCell, content_digest};
use crate::pseudonym::{PseudonymKey, SubjectId, Vault};
use crate::webhook::{Pseudonymiser, WebhookEndpoint};

mod audit;
mod redact;

/// Everything a request needs, shared by all connections.
pub struct Gateway {
    clients: Clients,
    policy: Arc<PolicyCell>,
    upstream: Upstream,
    metrics: Arc<Metrics>,
    limits: BodyLimits,
    audit: AuditLog,
    pseudonyms: PseudonymKey,
    vault: Arc<Vault>,
    webhook: WebhookEndpoint,
    pii: Arc<Engine>,
    pii_keys: PiiKeys,
    ledger: SharedLedger,
    sends: SendRecorder,
    inflight: Arc<InFlight>,
    clock: Arc<dyn Clock>,
    rng: SystemRandom,
}

/// A send that passed classify and decide.
type Decided = (SendRequest, Permit, ContentDigest, Option<Reservation>);

/// The parts a [`Gateway`] is assembled from (see `app::start`).
pub struct GatewayParts {
    /// Internal clients.
    pub clients: Clients,
    /// The messaging policy in force.
    pub policy: Arc<PolicyCell>,
    /// Where allowed sends go.
    pub upstream: Upstream,
    /// Metrics registry.
    pub metrics: Arc<Metrics>,
    /// Body limits of the send endpoints.
    pub limits: BodyLimits,
    /// The audit log.
    pub audit: AuditLog,
    /// Key of all pseudonyms.
    pub pseudonyms: PseudonymKey,
    /// Resolves pseudonyms in outbound requests.
    pub vault: Arc<Vault>,
    /// Meta's webhook callback.
    pub webhook: WebhookEndpoint,
    /// The PII engine.
    pub pii: Arc<Engine>,
    /// Keys of the `pseudonymise` and `encrypt` operators.
    pub pii_keys: PiiKeys,
    /// The consent ledger.
    pub ledger: SharedLedger,
    /// Records forwarded sends in the ledger (group commit).
    pub sends: SendRecorder,
    /// The time source of decisions.
    pub clock: Arc<dyn Clock>,
}

/// Who asked, under which policy snapshot, with which trace id.
struct DecisionContext<'a> {
    client: &'a ClientConfig,
    policy: &'a Policy,
    trace_id: &'a str,
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
    pub fn new(parts: GatewayParts) -> Self {
        Self {
            clients: parts.clients,
            policy: parts.policy,
            upstream: parts.upstream,
            metrics: parts.metrics,
            limits: parts.limits,
            audit: parts.audit,
            pseudonyms: parts.pseudonyms,
            vault: parts.vault,
            webhook: parts.webhook,
            pii: parts.pii,
            pii_keys: parts.pii_keys,
            ledger: parts.ledger,
            sends: parts.sends,
            inflight: Arc::new(InFlight::default()),
            clock: parts.clock,
            rng: SystemRandom::new(),
        }
    }

    /// The policy in force; each request takes one snapshot, so a reload
    /// never splits a decision across two policies.
    pub fn policy(&self) -> Arc<Policy> {
        self.policy.current()
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
        if self.webhook.matches(req.uri().path()) {
            let reply = self.webhook.handle(req, &trace_id).await;
            let status = reply.response.status().as_u16();
            let elapsed = started.elapsed();
            self.metrics
                .request_done("webhook", status, reply.rule, elapsed);
            let ms = elapsed.as_secs_f64() * 1000.0;
            tracing::info!(
                trace_id,
                route = "webhook",
                status,
                rule = reply.rule,
                ms,
                "request"
            );
            return reply.response;
        }
        let mut outcome = Outcome {
            route: "unmatched",
            client: None,
            rule: "allow",
            response: Err(ApiError::internal(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "unfinished",
            )),
        };
        outcome.response = self.phases(req, peer, &trace_id, &mut outcome).await;
        if let Err(e) = &outcome.response {
            outcome.rule = e.rule;
        }
        let response = render(&outcome.response, &trace_id);
        let status = response.status().as_u16();
        self.metrics
            .request_done(outcome.route, status, outcome.rule, started.elapsed());
        log_outcome(&outcome, status, &trace_id, started.elapsed());
        response
    }

    async fn phases(
        &self,
        req: Request<Incoming>,
        peer: &PeerInfo,
        trace_id: &str,
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
        let body = read_json_body(req, self.limits).await?;
        let policy = self.policy();
        let ctx = DecisionContext {
            client: &client,
            policy: &policy,
            trace_id,
        };
        let now = self.clock.now();
        let (mut request, permit, digest, reservation) =
            match self.classify_and_decide(&body, &route, &policy, now).await {
                Ok(decided) => decided,
                Err((subject, error)) => {
                    self.record_denial(&ctx, subject, &error, &[]).await;
                    return Err(error);
                }
            };
        let subject = self.subject_of(&request);
        let marketing = permit.is_marketing();
        let redaction = match self.redact(&mut request, &policy) {
            Ok(redaction) => redaction,
            Err((error, blocked)) => {
                self.record_denial(&ctx, subject, &error, &blocked).await;
                return Err(error);
            }
        };
        let wire = self
            .record_permit(&ctx, subject.clone(), &request, &permit, &redaction)
            .await?;
        let result = self.forward(&route, wire, permit).await;
        // The three durable writes after forwarding are independent; each
        // group-commits with other requests', so they run side by side.
        let record = async {
            if counts_as_sent(&result) {
                self.record_send(subject.clone(), now, marketing, digest)
                    .await;
            }
            drop(reservation);
        };
        let audit = self.record_upstream_result(&client, subject.clone(), &result, trace_id);
        let present = async {
            match &result {
                Ok(response) => Ok(self.present(&client, response.clone()).await),
                Err(e) => Err(e.clone()),
            }
        };
        let ((), (), answer) = tokio::join!(record, audit, present);
        answer
    }

    /// classify and decide: the typed request, the policy's permit, the
    /// content digest (for the mass-message rule) and the reservation that
    /// makes this send count for concurrent decisions until it is in the
    /// ledger; or the refusal with the subject it concerned (when known).
    /// The decision reads what the consent ledger knows about the recipient;
    /// if the ledger cannot be read, the send is refused (fail closed).
    async fn classify_and_decide(
        &self,
        body: &[u8],
        route: &SendRoute,
        policy: &Policy,
        now: jiff::Timestamp,
    ) -> Result<Decided, (Option<SubjectId>, ApiError)> {
        let request = SendRequest::parse_resolving(body, route.endpoint, self.vault.as_ref())
            .map_err(|e| (None, e))?;
        let subject = self.subject_of(&request);
        let digest = content_digest(&self.pseudonyms, &request);
        let person = match (&subject, request.recipient()) {
            (Some(s), Some(Recipient::Phone(_) | Recipient::BusinessScopedUser(_))) => Some(s),
            _ => None,
        };
        let Some(person) = person else {
            let permit = policy
                .decide(&request, &SubjectState::default(), now)
                .map_err(|denial| (subject.clone(), ApiError::from(denial)))?;
            return Ok((request, permit, digest, None));
        };
        let turn = self.inflight.turn(person, &digest).await;
        let query = policy.state_query(now, Some(digest.clone()));
        // In-flight sends first, then the ledger (see `consent::InFlight`).
        let pending = self.inflight.pending(person, &query);
        let mut state = self
            .ledger_state(person.clone(), query)
            .await
            .map_err(|e| (subject.clone(), e))?;
        pending.add_to(&mut state);
        let permit = policy
            .decide(&request, &state, now)
            .map_err(|denial| (subject.clone(), ApiError::from(denial)))?;
        let reservation =
            self.inflight
                .reserve(person.clone(), digest.clone(), now, permit.is_marketing());
        drop(turn);
        Ok((request, permit, digest, Some(reservation)))
    }

    async fn ledger_state(
        &self,
        subject: SubjectId,
        query: StateQuery,
    ) -> Result<SubjectState, ApiError> {
        let ledger = self.ledger.clone();
        let read =
            tokio::task::spawn_blocking(move || ledger.read(|l| l.state(&subject, &query))).await;
        match read {
            Ok(Ok(state)) => Ok(state),
            Ok(Err(e)) => {
                tracing::error!(error = %e, "consent ledger read failed; send refused");
                Err(ledger_unavailable())
            }
            Err(_) => Err(ledger_unavailable()),
        }
    }

    /// After a send Meta accepted: it counts for the pair, frequency and
    /// mass rules.
    async fn record_send(
        &self,
        subject: Option<SubjectId>,
        at: jiff::Timestamp,
        marketing: bool,
        digest: ContentDigest,
    ) {
        let Some(subject) = subject else { return };
        let fact = SendFact { at, marketing };
        if let Err(e) = self.sends.record(subject, fact, Some(digest)).await {
            tracing::error!(error = %e, "consent ledger could not record a forwarded send; caps may undercount it");
        }
    }

    /// What a client in pseudonym mode sees of Meta's answer: the same
    /// pseudonyms its webhooks carry (`wamid.ps_…`, `pn_…`), so it can
    /// correlate statuses without ever holding a number or a real wamid.
    async fn present(&self, client: &ClientConfig, response: UpstreamResponse) -> UpstreamResponse {
        if client.identity_mode != IdentityMode::Pseudonym || !response.status.is_success() {
            return response;
        }
        let Ok(mut body) = serde_json::from_slice::<serde_json::Value>(&response.body) else {
            return response;
        };
        let mut pseudonymiser = Pseudonymiser::new(&self.pseudonyms);
        pseudonymiser.send_response(&mut body);
        if let Err(e) = self.vault.remember_async(&pseudonymiser.mappings).await {
            tracing::error!(error = %e, "identity vault write failed; the pseudonyms in this answer may not resolve later");
        }
        match serde_json::to_vec(&body) {
            Ok(bytes) => UpstreamResponse {
                body: Bytes::from(bytes),
                ..response
            },
            Err(_) => response,
        }
    }

    /// The data subject a request is about, as a keyed pseudonym.
    fn subject_of(&self, request: &SendRequest) -> Option<SubjectId> {
        match request.recipient()? {
            Recipient::Phone(number) => Some(self.pseudonyms.subject(number.as_str())),
            Recipient::BusinessScopedUser(user) => Some(self.pseudonyms.subject(user)),
            Recipient::Group(group) => Some(self.pseudonyms.subject(&format!("group:{group}"))),
        }
    }

    /// forward: consumes the permit (no permit, no send) and sends once.
    async fn forward(
        &self,
        route: &SendRoute,
        body: Bytes,
        _permit: Permit,
    ) -> Result<UpstreamResponse, ApiError> {
        let upstream_request = UpstreamRequest {
            version: route.version.clone(),
            phone_number_id: route.phone_number_id.clone(),
            endpoint: route.endpoint,
            body,
        };
        let started = Instant::now();
        let result = self.upstream.send(upstream_request).await;
        let outcome = match &result {
            Ok(r) if r.status.is_success() => "accepted",
            Ok(_) => "refused",
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

/// Whether a forward's outcome counts for the pair, frequency and mass
/// rules: accepted by Meta, or unknown (a timeout may still have been
/// delivered — counting it errs toward refusing the next one).
fn counts_as_sent(result: &Result<UpstreamResponse, ApiError>) -> bool {
    match result {
        Ok(response) => response.status.is_success(),
        Err(e) => [RULE_UPSTREAM_TIMEOUT, RULE_UPSTREAM_FAILED].contains(&e.rule),
    }
}

fn ledger_unavailable() -> ApiError {
    ApiError {
        code: 131016,
        ..ApiError::internal(
            StatusCode::SERVICE_UNAVAILABLE,
            "consent.ledger_unavailable",
            "the consent ledger could not be read, so nothing was sent; retry later",
        )
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

fn render(result: &Result<UpstreamResponse, ApiError>, trace_id: &str) -> Response<Full<Bytes>> {
    let mut response = match result {
        Ok(r) => {
            let mut response = Response::new(Full::new(r.body.clone()));
            *response.status_mut() = r.status;
            if let Some(ct) = &r.content_type {
                response.headers_mut().insert(CONTENT_TYPE, ct.clone());
            }
            response
        }
        Err(e) => e.to_response(trace_id),
    };
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
