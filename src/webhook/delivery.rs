//! Delivery inward: one task per internal client takes its outbox rows in
//! order and POSTs them, signed with `X-Hub-Signature-256` under the
//! client's own secret over the exact bytes sent. Failures are retried with
//! exponential back-off (an internal system down for hours loses nothing);
//! a message the client keeps refusing as malformed (4xx), or that is older
//! than Meta's own retry horizon, is parked — kept and counted, not retried
//! forever, and it no longer holds back the messages behind it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rusqlite::Connection;
use tokio::sync::{Notify, watch};

use super::outbox::{self, OUTBOX_PURPOSE, OutboxRow};
use super::processor::now_ms;
use super::sign;
use crate::config::{ClientConfig, ClientWebhook};
use crate::store::{Sealer, open_durable};

/// Longest wait between two attempts.
const MAX_BACKOFF_MS: i64 = 5 * 60 * 1000;
/// First retry delay.
const FIRST_BACKOFF_MS: i64 = 500;
/// 4xx answers (other than 408/429) before a message is parked.
const MAX_REFUSALS: u32 = 3;
/// Messages older than this are parked (Meta itself retries for 7 days).
const MAX_AGE_MS: i64 = 7 * 24 * 3600 * 1000;
/// Time allowed for one delivery.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Delivers one client's outbox.
pub struct Deliverer {
    db_path: PathBuf,
    key_bytes: [u8; 32],
    client: Arc<ClientConfig>,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    wake: Arc<Notify>,
}

enum Attempt {
    Delivered,
    Retry(String),
    Refused(String),
}

// === impl Deliverer ===

impl Deliverer {
    /// A deliverer for `client` (which must have a webhook target).
    pub fn new(
        db_path: PathBuf,
        key_bytes: [u8; 32],
        client: Arc<ClientConfig>,
        wake: Arc<Notify>,
    ) -> Result<Self, rustls::Error> {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            db_path,
            key_bytes,
            client,
            http: Client::builder(TokioExecutor::new()).build(connector),
            wake,
        })
    }

    /// Delivers until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let Some(target) = self.client.webhook.clone() else {
            return;
        };
        let sealer = Arc::new(Sealer::derive(&self.key_bytes, OUTBOX_PURPOSE));
        let mut conn = match open_durable(&self.db_path) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::error!(client = %self.client.name, error = %e, "cannot open the outbox");
                return;
            }
        };
        loop {
            let name = self.client.name.clone();
            let s = Arc::clone(&sealer);
            let (c, due) =
                with_db(&mut conn, move |c| outbox::next_due(c, &s, &name, now_ms())).await;
            conn = c;
            match due {
                Some(Ok(Some(row))) => {
                    let attempt = self.attempt(&target, &row).await;
                    let (c, _) = with_db(&mut conn, move |c| record(c, &row, attempt)).await;
                    conn = c;
                    continue;
                }
                Some(Err(e)) => {
                    tracing::error!(client = %self.client.name, error = %e, "outbox read failed")
                }
                _ => {}
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    async fn attempt(&self, target: &ClientWebhook, row: &OutboxRow) -> Attempt {
        let request = Request::post(target.url.clone())
            .header("content-type", "application/json")
            .header(
                "x-hub-signature-256",
                sign(target.secret.expose().as_bytes(), &row.body),
            )
            .header("user-agent", "schleuse-webhook")
            .body(Full::new(Bytes::from(row.body.clone())));
        let Ok(request) = request else {
            return Attempt::Refused("request could not be built".into());
        };
        match tokio::time::timeout(ATTEMPT_TIMEOUT, self.http.request(request)).await {
            Err(_) => Attempt::Retry("timeout".into()),
            Ok(Err(e)) => Attempt::Retry(format!("connection: {e}")),
            Ok(Ok(resp)) if resp.status().is_success() => Attempt::Delivered,
            Ok(Ok(resp)) if is_refusal(resp.status()) => {
                Attempt::Refused(format!("HTTP {}", resp.status().as_u16()))
            }
            Ok(Ok(resp)) => Attempt::Retry(format!("HTTP {}", resp.status().as_u16())),
        }
    }
}

/// 4xx other than 408 (timeout) and 429 (rate limit) means "this message
/// will never be accepted".
fn is_refusal(status: StatusCode) -> bool {
    status.is_client_error()
        && status != StatusCode::REQUEST_TIMEOUT
        && status != StatusCode::TOO_MANY_REQUESTS
}

fn record(conn: &Connection, row: &OutboxRow, attempt: Attempt) -> rusqlite::Result<()> {
    let attempts = row.attempts + 1;
    let too_old = now_ms() - row.created_ms > MAX_AGE_MS;
    match attempt {
        Attempt::Delivered => outbox::delivered(conn, row.id),
        Attempt::Refused(e) if attempts >= MAX_REFUSALS => outbox::park(conn, row.id, attempts, &e),
        Attempt::Retry(e) | Attempt::Refused(e) if too_old => {
            outbox::park(conn, row.id, attempts, &e)
        }
        Attempt::Retry(e) | Attempt::Refused(e) => {
            let shift = attempts.min(20);
            let delay = (FIRST_BACKOFF_MS << shift).min(MAX_BACKOFF_MS);
            outbox::retry_later(conn, row.id, attempts, now_ms() + delay, &e)
        }
    }
}

/// Runs a database operation off the async threads.
async fn with_db<T: Send + 'static>(
    conn: &mut Option<Connection>,
    f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
) -> (Option<Connection>, Option<rusqlite::Result<T>>) {
    let Some(c) = conn.take() else {
        return (None, None);
    };
    match tokio::task::spawn_blocking(move || {
        let result = f(&c);
        (c, result)
    })
    .await
    {
        Ok((c, result)) => (Some(c), Some(result)),
        Err(_) => (None, None),
    }
}
