//! Test harness: a real gateway on 127.0.0.1:0 with a temp data folder, and
//! a small HTTP client.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use http::{HeaderMap, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use schleuse::app::{RunningGateway, start};
use schleuse::config::Config;
use serde_json::Value;
use tempfile::TempDir;

pub const PHONE_NUMBER_ID: &str = "109000000000001";
pub const OTHER_PHONE_NUMBER_ID: &str = "109000000000002";
pub const CLIENT_TOKEN: &str = "slt_test-client-token";
pub const META_TOKEN: &str = "EAAG-meta-access-token-for-tests";

/// Where the gateway under test forwards.
pub enum UpstreamSetup {
    Sandbox,
    /// Base URL of a fake upstream, with an optional extra CA file.
    Http {
        base_url: String,
        ca_file: Option<PathBuf>,
        request_timeout_ms: u64,
    },
}

/// Knobs for one gateway.
pub struct Options {
    pub upstream: UpstreamSetup,
    pub extra_server_toml: String,
    pub policy: String,
    pub client_extra_toml: String,
}

/// A running gateway plus its data folder.
pub struct TestGateway {
    pub addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub config_path: PathBuf,
    dir: TempDir,
    running: Option<RunningGateway>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            upstream: UpstreamSetup::Sandbox,
            extra_server_toml: String::new(),
            policy: schleuse::init::DEFAULT_POLICY.to_string(),
            client_extra_toml: String::new(),
        }
    }
}

impl Options {
    /// Defaults, but forwarding to `base_url` over plain HTTP (5 s timeout).
    pub fn upstream_at(base_url: &str) -> Self {
        Self {
            upstream: UpstreamSetup::Http {
                base_url: base_url.to_owned(),
                ca_file: None,
                request_timeout_ms: 5000,
            },
            ..Self::default()
        }
    }
}

/// Runs `schleuse audit export ARGS… --config CONFIG` and parses its JSON lines.
pub fn audit_export(config: &Path, args: &[&str]) -> Vec<Value> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_schleuse"))
        .args(["audit", "export"])
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .expect("run schleuse audit export");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

impl TestGateway {
    pub async fn spawn() -> Self {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let config_path = write_data_dir(dir.path(), &options);
        let config = Config::load(&config_path, &|_| None).expect("test config loads");
        let running = start(&config).await.expect("gateway starts");
        Self {
            addr: running.addrs[0],
            admin_addr: running.admin_addr,
            config_path,
            dir,
            running: Some(running),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn messages_url(&self) -> String {
        self.url(&format!("/v24.0/{PHONE_NUMBER_ID}/messages"))
    }

    /// POSTs JSON with the test client's token.
    pub async fn send(&self, body: &Value) -> (StatusCode, Value) {
        let (status, _, json) = post(
            &self.messages_url(),
            Some(CLIENT_TOKEN),
            body.to_string().into_bytes(),
        )
        .await;
        (status, json)
    }

    pub async fn shutdown(self) {
        let _ = self.stop().await;
    }

    /// Stops the gateway and keeps its data folder for inspection.
    pub async fn stop(mut self) -> TempDir {
        if let Some(r) = self.running.take() {
            r.shutdown().await;
        }
        self.dir
    }

    pub async fn reload_policy(&self) -> Result<(), schleuse::app::StartError> {
        self.running
            .as_ref()
            .expect("running")
            .reload_policy()
            .await
    }

    pub fn policy_path(&self) -> PathBuf {
        self.dir.path().join("policy.toml")
    }

    /// The customer behind `wa_id` (digits) writes `text` to the business
    /// at `unix` seconds: a signed inbound webhook, then wait until the
    /// gateway has processed it (window, keywords).
    pub async fn customer_writes_at(&self, wa_id: &str, text: &str, unix: i64) {
        let wamid = format!(
            "wamid.TEST{}{}",
            wa_id,
            NEXT_WAMID.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let body = inbound_message(wa_id, &wamid, text, unix);
        let status = post_signed_webhook(&self.url("/webhook"), &body).await;
        assert_eq!(status, StatusCode::OK, "inbound webhook accepted");
        self.wait_until_processed().await;
    }

    /// The customer writes now.
    pub async fn customer_writes(&self, wa_id: &str, text: &str) {
        self.customer_writes_at(wa_id, text, jiff::Timestamp::now().as_second())
            .await;
    }

    /// Waits until every stored webhook batch was processed.
    pub async fn wait_until_processed(&self) {
        wait_until_processed(&self.dir.path().join("data/webhooks.db")).await;
    }

    pub fn audit_db(&self) -> PathBuf {
        self.dir.path().join("data/audit.db")
    }
}

/// The pseudonym key every test gateway uses (bytes 0..32; the secret file
/// holds their base64).
pub fn key_bytes() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

/// Writes secrets, policy and config for a gateway; returns the config path.
pub fn write_data_dir(dir: &Path, options: &Options) -> PathBuf {
    let secrets = dir.join("secrets");
    std::fs::create_dir_all(&secrets).expect("secrets dir");
    let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    for (name, value) in [
        ("meta-app-secret", "test-app-secret"),
        ("meta-verify-token", "test-verify-token"),
        ("meta-access-token", META_TOKEN),
        ("pseudonym.key", key),
        ("audit-signing.key", key),
    ] {
        write_private(&secrets.join(name), value);
    }
    std::fs::write(dir.join("policy.toml"), &options.policy).expect("policy");
    let upstream = match &options.upstream {
        UpstreamSetup::Sandbox => format!(
            "[upstream]\nkind = \"sandbox\"\n[upstream.sandbox]\nphone_number_ids = [\"{PHONE_NUMBER_ID}\", \"{OTHER_PHONE_NUMBER_ID}\"]\n"
        ),
        UpstreamSetup::Http {
            base_url,
            ca_file,
            request_timeout_ms,
        } => {
            let ca = ca_file
                .as_ref()
                .map(|f| format!("extra_ca_file = \"{}\"\n", f.display()))
                .unwrap_or_default();
            format!(
                "[upstream]\nkind = \"meta\"\nbase_url = \"{base_url}\"\n{ca}request_timeout_ms = {request_timeout_ms}\nconnect_timeout_ms = 1000\n"
            )
        }
    };
    let token_hash = hex(&schleuse::ingress::sha256(CLIENT_TOKEN.as_bytes()));
    let config = format!(
        r#"[server]
listen = ["127.0.0.1:0"]
{server}
[admin]
listen = "127.0.0.1:0"

{upstream}
[storage]
dir = "data"

[secrets]
meta_app_secret = {{ file = "secrets/meta-app-secret" }}
meta_verify_token = {{ file = "secrets/meta-verify-token" }}
meta_access_token = {{ file = "secrets/meta-access-token" }}
pseudonym_key = {{ file = "secrets/pseudonym.key" }}
audit_signing_key = {{ file = "secrets/audit-signing.key" }}

[policy]
file = "policy.toml"

[[clients]]
name = "test-client"
token_sha256 = "{token_hash}"
phone_number_ids = ["{PHONE_NUMBER_ID}"]
{client_extra}
"#,
        server = options.extra_server_toml,
        client_extra = options.client_extra_toml,
    );
    let path = dir.join("schleuse.toml");
    std::fs::write(&path, config).expect("config");
    path
}

pub fn write_private(path: &Path, value: &str) {
    std::fs::write(path, value).expect("write secret");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// POSTs bytes; returns status, headers and the JSON body (Null if not JSON).
pub async fn post(url: &str, token: Option<&str>, body: Vec<u8>) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::post(url).header("content-type", "application/json");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    request(req.body(Full::new(Bytes::from(body))).expect("request")).await
}

pub async fn get(url: &str) -> (StatusCode, String) {
    let req = Request::get(url)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let resp = client.request(req).await.expect("response");
    let status = resp.status();
    let body = resp.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&body).into_owned())
}

pub async fn request(req: Request<Full<Bytes>>) -> (StatusCode, HeaderMap, Value) {
    let client: Client<HttpConnector, Full<Bytes>> =
        Client::builder(TokioExecutor::new()).build_http();
    let resp = client.request(req).await.expect("response");
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, json)
}

/// Asserts the Cloud API error shape and returns (code, details).
pub fn assert_cloud_error(body: &Value) -> (u64, String) {
    let e = &body["error"];
    assert!(
        e["message"].as_str().is_some_and(|m| m.starts_with("(#")),
        "message: {body}"
    );
    assert_eq!(e["type"], "OAuthException", "{body}");
    assert!(
        e["fbtrace_id"].as_str().is_some_and(|t| !t.is_empty()),
        "{body}"
    );
    let details = e["error_data"]["details"]
        .as_str()
        .expect("details")
        .to_owned();
    assert!(details.starts_with("schleuse rule "), "{details}");
    (e["code"].as_u64().expect("code"), details)
}

/// Waits until every batch stored in `db` (a `webhooks.db`) was processed.
pub async fn wait_until_processed(db: &Path) {
    for _ in 0..400 {
        let done = rusqlite::Connection::open(db).ok().and_then(|c| {
            c.query_row(
                "SELECT (SELECT coalesce(max(id), 0) FROM inbox) <= (SELECT coalesce(max(last_id), 0) FROM progress)",
                [],
                |r| r.get::<_, bool>(0),
            )
            .ok()
        });
        if done == Some(true) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("webhook batches were not processed in time");
}

/// The app secret the test gateways verify Meta's signatures with.
pub const APP_SECRET: &[u8] = b"test-app-secret";

static NEXT_WAMID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// An inbound text as Meta sends it; `text` is JSON-escaped here.
pub fn inbound_message(wa_id: &str, wamid: &str, text: &str, unix: i64) -> Vec<u8> {
    let body = serde_json::json!({"object":"whatsapp_business_account","entry":[{"id":"300000000000001","changes":[{"field":"messages","value":{
        "messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"493012345670","phone_number_id":PHONE_NUMBER_ID},
        "contacts":[{"profile":{"name":"Test Kunde"},"wa_id":wa_id}],
        "messages":[{"from":wa_id,"id":wamid,"timestamp":unix.to_string(),"type":"text","text":{"body":text}}]}}]}]});
    schleuse::webhook::to_ascii_json(&body).expect("json")
}

/// POSTs a webhook with an optional signature header; returns the status.
pub async fn post_webhook(url: &str, body: Vec<u8>, signature: Option<String>) -> StatusCode {
    let mut req = Request::post(url).header("content-type", "application/json");
    if let Some(sig) = signature {
        req = req.header("x-hub-signature-256", sig);
    }
    request(req.body(Full::new(Bytes::from(body))).expect("request"))
        .await
        .0
}

/// POSTs `body` to the webhook endpoint `url`, signed with [`APP_SECRET`]
/// as Meta would sign it.
pub async fn post_signed_webhook(url: &str, body: &[u8]) -> StatusCode {
    let signature = schleuse::webhook::sign(APP_SECRET, body);
    post_webhook(url, body.to_vec(), Some(signature)).await
}

pub fn text_message(to: &str, body: &str) -> Value {
    serde_json::json!({"messaging_product":"whatsapp","recipient_type":"individual","to":to,"type":"text","text":{"body":body}})
}
