//! Status webhooks from the sandbox: for each accepted send, `sent`,
//! `delivered` and `read` updates shaped like Meta's (cloud-api.md §2.7),
//! ASCII-escaped and signed with the app secret, POSTed to the gateway's
//! own webhook callback. A number ending in `0000` plays one that is not on
//! WhatsApp: `sent`, then `failed` with 131026 (message undeliverable).

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use crate::config::Secret;
use crate::webhook::{sign, to_ascii_json};

/// One accepted send to report on.
#[derive(Clone, Debug)]
pub struct StatusJob {
    /// Business number.
    pub phone_number_id: String,
    /// wamid of the accepted message.
    pub wamid: String,
    /// Recipient digits, when sent to a number.
    pub recipient_id: Option<String>,
    /// Recipient business-scoped user id, when sent to one.
    pub recipient_user_id: Option<String>,
    /// Group id, for group sends.
    pub group_id: Option<String>,
}

/// Recipients whose number ends in this get `failed` with 131026.
const UNDELIVERABLE_SUFFIX: &str = "0000";

/// Pause between two statuses of one message.
const STEP: Duration = Duration::from_millis(150);

/// POSTs statuses for every job until `shutdown` turns true.
pub async fn run_status_emitter(
    mut jobs: mpsc::Receiver<StatusJob>,
    callback: Uri,
    app_secret: Secret,
    mut shutdown: watch::Receiver<bool>,
) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    loop {
        let job = tokio::select! {
            job = jobs.recv() => match job { Some(job) => job, None => return },
            _ = shutdown.changed() => return,
        };
        for status in statuses(&job) {
            tokio::time::sleep(STEP).await;
            let Ok(body) = to_ascii_json(&batch(&job, status)) else {
                continue;
            };
            let request = Request::post(callback.clone())
                .header("content-type", "application/json")
                .header(
                    "x-hub-signature-256",
                    sign(app_secret.expose().as_bytes(), &body),
                )
                .body(Full::new(Bytes::from(body)));
            let Ok(request) = request else { continue };
            if let Err(e) = client.request(request).await {
                tracing::warn!(error = %e, "sandbox could not deliver a status webhook");
            }
        }
    }
}

/// The statuses a send goes through in the sandbox.
fn statuses(job: &StatusJob) -> &'static [&'static str] {
    let undeliverable = job
        .recipient_id
        .as_deref()
        .is_some_and(|r| job.group_id.is_none() && r.ends_with(UNDELIVERABLE_SUFFIX));
    if undeliverable {
        &["sent", "failed"]
    } else {
        &["sent", "delivered", "read"]
    }
}

fn batch(job: &StatusJob, status: &str) -> Value {
    let timestamp = jiff::Timestamp::now().as_second().to_string();
    let mut update = json!({"id": job.wamid, "status": status, "timestamp": timestamp});
    if let Some(r) = &job.recipient_id {
        update["recipient_id"] = json!(r);
    }
    if let Some(u) = &job.recipient_user_id {
        update["recipient_user_id"] = json!(u);
    }
    if let Some(g) = &job.group_id {
        update["recipient_id"] = json!(g);
        update["recipient_type"] = json!("group");
    }
    if status == "failed" {
        update["errors"] = json!([{"code": 131026, "title": "Message undeliverable",
            "message": "Message undeliverable",
            "error_data": {"details": "Sandbox: numbers ending in 0000 are not on WhatsApp."}}]);
    }
    if status == "sent" {
        update["pricing"] = json!({"billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility"});
    }
    json!({"object": "whatsapp_business_account", "entry": [{"id": "300000000000001", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "493000000000", "phone_number_id": job.phone_number_id},
        "statuses": [update]}}]}]})
}
