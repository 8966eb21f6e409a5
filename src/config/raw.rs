//! The TOML shape of `schleuse.toml`, exactly as written by operators.
//!
//! Every table denies unknown fields, so a typo is a load error that names
//! the key, never a silently ignored setting. Defaults live here; semantic
//! checks live in `config::validate`.

use std::path::PathBuf;

use serde::Deserialize;

/// Top level of `schleuse.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub(crate) server: RawServer,
    #[serde(default)]
    pub(crate) admin: RawAdmin,
    pub(crate) upstream: RawUpstream,
    pub(crate) storage: RawStorage,
    pub(crate) secrets: RawSecrets,
    pub(crate) policy: RawPolicyRef,
    #[serde(default)]
    pub(crate) audit: RawAudit,
    #[serde(default)]
    pub(crate) log: RawLog,
    #[serde(default)]
    pub(crate) webhook: RawWebhook,
    #[serde(default)]
    pub(crate) clients: Vec<RawClient>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    #[serde(default = "default_listen")]
    pub(crate) listen: Vec<String>,
    #[serde(default = "default_max_body_bytes")]
    pub(crate) max_body_bytes: u64,
    #[serde(default = "default_max_connections")]
    pub(crate) max_connections: u64,
    #[serde(default = "default_header_read_timeout_ms")]
    pub(crate) header_read_timeout_ms: u64,
    #[serde(default = "default_body_read_timeout_ms")]
    pub(crate) body_read_timeout_ms: u64,
    #[serde(default = "default_idle_timeout_ms")]
    pub(crate) idle_timeout_ms: u64,
    #[serde(default = "default_tls_handshake_timeout_ms")]
    pub(crate) tls_handshake_timeout_ms: u64,
    #[serde(default = "default_max_h2_streams")]
    pub(crate) max_concurrent_streams: u32,
    pub(crate) tls: Option<RawTls>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTls {
    pub(crate) cert_file: PathBuf,
    pub(crate) key_file: PathBuf,
    pub(crate) client_ca_file: Option<PathBuf>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    #[serde(default = "default_admin_listen")]
    pub(crate) listen: String,
    #[serde(default)]
    pub(crate) danger_allow_non_loopback: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawUpstream {
    pub(crate) kind: String,
    #[serde(default = "default_base_url")]
    pub(crate) base_url: String,
    pub(crate) extra_ca_file: Option<PathBuf>,
    #[serde(default = "default_connect_timeout_ms")]
    pub(crate) connect_timeout_ms: u64,
    #[serde(default = "default_request_timeout_ms")]
    pub(crate) request_timeout_ms: u64,
    #[serde(default = "default_pool_max_idle_per_host")]
    pub(crate) pool_max_idle_per_host: u64,
    #[serde(default = "default_pool_idle_timeout_ms")]
    pub(crate) pool_idle_timeout_ms: u64,
    #[serde(default = "default_max_response_bytes")]
    pub(crate) max_response_bytes: u64,
    #[serde(default)]
    pub(crate) sandbox: RawSandbox,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSandbox {
    #[serde(default)]
    pub(crate) phone_number_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStorage {
    pub(crate) dir: PathBuf,
}

/// A secret is read from a file or an environment variable, never inline.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecret {
    pub(crate) file: Option<PathBuf>,
    pub(crate) env: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSecrets {
    pub(crate) meta_app_secret: RawSecret,
    pub(crate) meta_verify_token: RawSecret,
    pub(crate) meta_access_token: RawSecret,
    pub(crate) pseudonym_key: RawSecret,
    pub(crate) audit_signing_key: RawSecret,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPolicyRef {
    pub(crate) file: PathBuf,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAudit {
    #[serde(default = "default_audit_origin")]
    pub(crate) origin: String,
    #[serde(default = "default_checkpoint_every_entries")]
    pub(crate) checkpoint_every_entries: u64,
    #[serde(default = "default_checkpoint_every_secs")]
    pub(crate) checkpoint_every_secs: u64,
    #[serde(default = "default_audit_queue")]
    pub(crate) queue_capacity: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLog {
    #[serde(default = "default_log_format")]
    pub(crate) format: String,
    #[serde(default = "default_log_level")]
    pub(crate) level: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhook {
    #[serde(default = "default_webhook_path")]
    pub(crate) path: String,
    #[serde(default = "default_webhook_max_body_bytes")]
    pub(crate) max_body_bytes: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawClient {
    pub(crate) name: String,
    pub(crate) token_sha256: String,
    pub(crate) phone_number_ids: Vec<String>,
    #[serde(default = "default_identity_mode")]
    pub(crate) identity_mode: String,
    #[serde(default)]
    pub(crate) client_cert_sha256: Vec<String>,
    pub(crate) webhook_url: Option<String>,
    pub(crate) webhook_secret: Option<RawSecret>,
}

// === defaults ===

impl Default for RawServer {
    fn default() -> Self {
        Self {
            listen: default_listen(),
            max_body_bytes: default_max_body_bytes(),
            max_connections: default_max_connections(),
            header_read_timeout_ms: default_header_read_timeout_ms(),
            body_read_timeout_ms: default_body_read_timeout_ms(),
            idle_timeout_ms: default_idle_timeout_ms(),
            tls_handshake_timeout_ms: default_tls_handshake_timeout_ms(),
            max_concurrent_streams: default_max_h2_streams(),
            tls: None,
        }
    }
}

impl Default for RawAdmin {
    fn default() -> Self {
        Self {
            listen: default_admin_listen(),
            danger_allow_non_loopback: false,
        }
    }
}

impl Default for RawAudit {
    fn default() -> Self {
        Self {
            origin: default_audit_origin(),
            checkpoint_every_entries: default_checkpoint_every_entries(),
            checkpoint_every_secs: default_checkpoint_every_secs(),
            queue_capacity: default_audit_queue(),
        }
    }
}

impl Default for RawWebhook {
    fn default() -> Self {
        Self {
            path: default_webhook_path(),
            max_body_bytes: default_webhook_max_body_bytes(),
        }
    }
}

impl Default for RawLog {
    fn default() -> Self {
        Self {
            format: default_log_format(),
            level: default_log_level(),
        }
    }
}

fn default_listen() -> Vec<String> {
    vec!["127.0.0.1:8080".into()]
}
fn default_max_body_bytes() -> u64 {
    1024 * 1024
}
fn default_max_connections() -> u64 {
    1024
}
fn default_header_read_timeout_ms() -> u64 {
    10_000
}
fn default_body_read_timeout_ms() -> u64 {
    15_000
}
fn default_idle_timeout_ms() -> u64 {
    60_000
}
fn default_tls_handshake_timeout_ms() -> u64 {
    10_000
}
fn default_max_h2_streams() -> u32 {
    100
}
fn default_admin_listen() -> String {
    "127.0.0.1:9464".into()
}
fn default_base_url() -> String {
    "https://graph.facebook.com".into()
}
fn default_connect_timeout_ms() -> u64 {
    5_000
}
fn default_request_timeout_ms() -> u64 {
    20_000
}
fn default_pool_max_idle_per_host() -> u64 {
    64
}
fn default_pool_idle_timeout_ms() -> u64 {
    90_000
}
fn default_max_response_bytes() -> u64 {
    4 * 1024 * 1024
}
fn default_audit_origin() -> String {
    "schleuse/audit".into()
}
fn default_checkpoint_every_entries() -> u64 {
    1000
}
fn default_checkpoint_every_secs() -> u64 {
    60
}
fn default_audit_queue() -> u64 {
    8192
}
fn default_log_format() -> String {
    "json".into()
}
fn default_log_level() -> String {
    "info".into()
}
fn default_webhook_path() -> String {
    "/webhook".into()
}
fn default_webhook_max_body_bytes() -> u64 {
    8 * 1024 * 1024
}
fn default_identity_mode() -> String {
    "pseudonym".into()
}
