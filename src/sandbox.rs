//! The sandbox: a built-in stand-in for Meta's Cloud API.
//!
//! `schleuse serve` uses it when no Meta credentials are configured, so a
//! newcomer (and the test suite) gets a full round trip without an account.
//! It checks what Meta checks before accepting a send (known phone-number
//! id, access token, body shape, recipient) and answers with Meta's success
//! and error shapes and realistic `wamid.` ids. It can also run as its own
//! HTTP server (`schleuse sandbox`) to stand in for graph.facebook.com in
//! benchmarks. When the gateway runs on the sandbox, each accepted send is
//! followed by signed `sent`, `delivered` and `read` status webhooks to the
//! gateway's own callback, so a demo shows the full round trip. It does not
//! simulate Meta's rate limits or failures.

mod server;
mod simulate;
mod statuses;

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderValue, StatusCode};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::config::Secret;
use crate::egress::{UpstreamRequest, UpstreamResponse};
use crate::message::Endpoint;
pub use server::serve;
pub use simulate::{SimulateError, customer_writes};
pub use statuses::{StatusJob, run_status_emitter};

/// The sandbox upstream; cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    inner: Arc<Inner>,
}

struct Inner {
    phone_number_ids: BTreeSet<String>,
    token: Secret,
    rng: SystemRandom,
    statuses: OnceLock<mpsc::Sender<StatusJob>>,
}

// === impl Sandbox ===

impl Sandbox {
    /// A sandbox owning these phone-number ids and expecting this token.
    pub fn new(phone_number_ids: impl IntoIterator<Item = String>, token: Secret) -> Self {
        Self {
            inner: Arc::new(Inner {
                phone_number_ids: phone_number_ids.into_iter().collect(),
                token,
                rng: SystemRandom::new(),
                statuses: OnceLock::new(),
            }),
        }
    }

    /// From now on every accepted send is followed by `sent`, `delivered`
    /// and `read` status webhooks, handed to `emitter` (see [`run_status_emitter`]).
    pub fn emit_statuses(&self, emitter: mpsc::Sender<StatusJob>) {
        let _ = self.inner.statuses.set(emitter);
    }

    /// The access token the sandbox expects.
    pub fn token(&self) -> &Secret {
        &self.inner.token
    }

    /// Answers one send as Meta would. `bearer` is the presented token.
    pub fn handle(&self, req: &UpstreamRequest, bearer: Option<&str>) -> UpstreamResponse {
        match self.answer(req, bearer) {
            Ok(body) => respond(StatusCode::OK, &body),
            Err((status, body)) => respond(status, &body),
        }
    }

    fn answer(
        &self,
        req: &UpstreamRequest,
        bearer: Option<&str>,
    ) -> Result<Value, (StatusCode, Value)> {
        // Comparing digests keeps the comparison independent of where the
        // presented token first differs.
        let expected = crate::ingress::sha256(self.inner.token.expose().as_bytes());
        let token_ok = bearer.is_some_and(|b| crate::ingress::sha256(b.as_bytes()) == expected);
        if !token_ok {
            return Err(meta_error(
                StatusCode::UNAUTHORIZED,
                190,
                "Invalid OAuth access token - Cannot parse access token",
            ));
        }
        if !self.inner.phone_number_ids.contains(&req.phone_number_id) {
            return Err(meta_error(
                StatusCode::BAD_REQUEST,
                100,
                "Unsupported post request. Object with this ID does not exist, cannot be loaded due to missing permissions, or does not support this operation",
            ));
        }
        let body: Value = serde_json::from_slice(&req.body)
            .map_err(|_| meta_error(StatusCode::BAD_REQUEST, 100, "Invalid parameter"))?;
        if body["messaging_product"] != "whatsapp" {
            return Err(meta_error(
                StatusCode::BAD_REQUEST,
                100,
                "Invalid parameter",
            ));
        }
        if body.get("status").is_some() {
            return self.mark_read(&body);
        }
        let answer = self.accept_send(req.endpoint, &body)?;
        self.queue_statuses(&req.phone_number_id, &body, &answer);
        Ok(answer)
    }

    fn queue_statuses(&self, phone_number_id: &str, body: &Value, answer: &Value) {
        let Some(emitter) = self.inner.statuses.get() else {
            return;
        };
        let Some(wamid) = answer.pointer("/messages/0/id").and_then(Value::as_str) else {
            return;
        };
        let job = StatusJob {
            phone_number_id: phone_number_id.to_owned(),
            wamid: wamid.to_owned(),
            recipient_id: answer
                .pointer("/contacts/0/wa_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            recipient_user_id: answer
                .pointer("/contacts/0/user_id")
                .and_then(Value::as_str)
                .map(str::to_owned),
            group_id: (body["recipient_type"] == "group")
                .then(|| body["to"].as_str().unwrap_or("").to_owned()),
        };
        // A full queue drops statuses, never the send: they are a demo aid.
        let _ = emitter.try_send(job);
    }

    fn mark_read(&self, body: &Value) -> Result<Value, (StatusCode, Value)> {
        match (body["status"].as_str(), body["message_id"].as_str()) {
            (Some("read"), Some(id)) if !id.is_empty() => Ok(json!({"success": true})),
            _ => Err(meta_error(
                StatusCode::BAD_REQUEST,
                131008,
                "Required parameter is missing",
            )),
        }
    }

    fn accept_send(&self, endpoint: Endpoint, body: &Value) -> Result<Value, (StatusCode, Value)> {
        let kind = body["type"].as_str().unwrap_or("text");
        if body.get(kind).is_none() {
            return Err(meta_error(
                StatusCode::BAD_REQUEST,
                131008,
                "Required parameter is missing",
            ));
        }
        if endpoint == Endpoint::MarketingMessages && kind != "template" {
            return Err(meta_error(
                StatusCode::BAD_REQUEST,
                131009,
                "Parameter value is not valid",
            ));
        }
        let group = body["recipient_type"] == "group";
        let (contact, wamid_seed) = match (body["to"].as_str(), body["recipient"].as_str()) {
            (Some(to), _) if group => (None, to.to_owned()),
            (Some(to), _) => {
                let digits: String = to.chars().filter(char::is_ascii_digit).collect();
                (Some(json!({"input": to, "wa_id": digits})), digits)
            }
            (None, Some(user)) => (
                Some(json!({"input": user, "user_id": user})),
                user.to_owned(),
            ),
            (None, None) => {
                return Err(meta_error(
                    StatusCode::BAD_REQUEST,
                    131008,
                    "Required parameter is missing",
                ));
            }
        };
        let mut message = json!({"id": self.wamid(&wamid_seed)});
        if group {
            message["group_id"] = json!(wamid_seed);
        }
        if kind == "template" {
            message["message_status"] = json!("accepted");
        }
        let mut out = json!({"messaging_product": "whatsapp", "messages": [message]});
        if let Some(c) = contact {
            out["contacts"] = json!([c]);
        }
        Ok(out)
    }

    /// A wamid shaped like Meta's: base64 of a small record holding the chat
    /// counterpart's number and a random message id (cloud-api.md §1.4).
    fn wamid(&self, counterpart: &str) -> String {
        let mut random = [0u8; 9];
        // A failing system RNG leaves zeros; ids then repeat but stay valid.
        let _ = self.inner.rng.fill(&mut random);
        let mut record = vec![0x15, 0x02, 0x00, 0x11, 0x18, 0x12];
        record.extend(crate::pseudonym::hex(&random).to_uppercase().bytes());
        record.push(0x00);
        let tail: Vec<u8> = counterpart.bytes().take(32).collect();
        let mut bytes = vec![0x1c, 0x18, u8::try_from(tail.len()).unwrap_or(0)];
        bytes.extend(tail);
        bytes.extend(record);
        format!(
            "wamid.{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("phone_number_ids", &self.inner.phone_number_ids)
            .finish_non_exhaustive()
    }
}

fn meta_error(status: StatusCode, code: u32, title: &str) -> (StatusCode, Value) {
    let body = json!({"error": {
        "message": format!("({code}) {title}"),
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": title},
        "fbtrace_id": "sandbox",
    }});
    (status, body)
}

fn respond(status: StatusCode, body: &Value) -> UpstreamResponse {
    UpstreamResponse {
        status,
        content_type: Some(HeaderValue::from_static("application/json")),
        body: Bytes::from(body.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn sandbox() -> Sandbox {
        Sandbox::new(["100".to_string()], Secret::new("tok".into()))
    }

    fn req(body: Value) -> UpstreamRequest {
        UpstreamRequest {
            version: "v24.0".into(),
            phone_number_id: "100".into(),
            endpoint: Endpoint::Messages,
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn accepted_send_gets_a_wamid_and_contact() {
        let r = sandbox().handle(&req(json!({"messaging_product":"whatsapp","to":"+4915112345678","type":"text","text":{"body":"x"}})), Some("tok"));
        assert_eq!(r.status, StatusCode::OK);
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        assert!(
            v["messages"][0]["id"]
                .as_str()
                .unwrap()
                .starts_with("wamid.HBg")
        );
        assert_eq!(v["contacts"][0]["wa_id"], "4915112345678");
    }

    #[test]
    fn wrong_token_and_unknown_number_id_are_refused_like_meta() {
        let body = json!({"messaging_product":"whatsapp","to":"+4915112345678","type":"text","text":{"body":"x"}});
        assert_eq!(
            sandbox().handle(&req(body.clone()), Some("nope")).status,
            StatusCode::UNAUTHORIZED
        );
        let mut r = req(body);
        r.phone_number_id = "999".into();
        assert_eq!(
            sandbox().handle(&r, Some("tok")).status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn mark_read_answers_success() {
        let r = sandbox().handle(
            &req(json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"})),
            Some("tok"),
        );
        assert_eq!(&r.body[..], br#"{"success":true}"#);
    }
}
