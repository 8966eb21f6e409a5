//! `schleuse.toml`: loaded once at start, validated up front.
//!
//! Loading reports *every* problem with the key path it concerns, not just
//! the first. Relative paths are resolved against the config file's folder.
//! Secrets are read here (from files or environment variables) so the rest
//! of the gateway only ever sees typed, checked values.

mod raw;
mod secrets;
mod validate;

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use secrets::{Secret, decode_key32};
pub(crate) use validate::is_phone_number_id;

use raw::RawConfig;

/// The validated configuration of one gateway instance.
#[derive(Debug)]
pub struct Config {
    /// Folder of the config file; relative paths were resolved against it.
    pub base_dir: PathBuf,
    /// Public listener settings.
    pub server: ServerConfig,
    /// Admin listener (`/metrics`, `/healthz`).
    pub admin: AdminConfig,
    /// Where messages go.
    pub upstream: UpstreamConfig,
    /// Folder holding the SQLite databases.
    pub storage_dir: PathBuf,
    /// Loaded secrets.
    pub secrets: Secrets,
    /// Path of the messaging policy file.
    pub policy_file: PathBuf,
    /// Audit log settings.
    pub audit: AuditConfig,
    /// Log output.
    pub log: LogConfig,
    /// Meta's webhook callback.
    pub webhook: WebhookConfig,
    /// Internal systems allowed to call the gateway.
    pub clients: Vec<ClientConfig>,
}

/// Public listener settings.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Addresses to listen on.
    pub listen: Vec<SocketAddr>,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Connections served at once; further ones wait in the accept queue.
    pub max_connections: usize,
    /// Time allowed to receive a request's headers.
    pub header_read_timeout: Duration,
    /// Time allowed to receive a request's body.
    pub body_read_timeout: Duration,
    /// A keep-alive connection with no traffic for this long is closed.
    pub idle_timeout: Duration,
    /// Time allowed for a TLS handshake.
    pub tls_handshake_timeout: Duration,
    /// HTTP/2 streams per connection.
    pub max_concurrent_streams: u32,
    /// TLS, when configured.
    pub tls: Option<TlsConfig>,
}

/// TLS files of the public listener.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// PEM certificate chain.
    pub cert_file: PathBuf,
    /// PEM private key.
    pub key_file: PathBuf,
    /// PEM CA bundle; when set, every client must present a certificate it signed.
    pub client_ca_file: Option<PathBuf>,
}

/// Admin listener settings.
#[derive(Debug, Clone)]
pub struct AdminConfig {
    /// Address of the admin listener (loopback unless explicitly allowed).
    pub listen: SocketAddr,
}

/// Which upstream the gateway forwards to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamKind {
    /// The built-in stand-in for Meta.
    Sandbox,
    /// A Cloud API endpoint over HTTP(S) (Meta, or a test double).
    Meta,
}

/// Upstream settings.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// Sandbox or Meta.
    pub kind: UpstreamKind,
    /// Base URL (scheme, host, optional port), without a trailing slash.
    pub base_url: String,
    /// Extra PEM CA file trusted for the upstream (tests, private CAs).
    pub extra_ca_file: Option<PathBuf>,
    /// TCP connect timeout.
    pub connect_timeout: Duration,
    /// Whole-request timeout (send, wait, read response).
    pub request_timeout: Duration,
    /// Idle pooled connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// Idle pooled connections are closed after this long.
    pub pool_idle_timeout: Duration,
    /// Largest upstream response accepted.
    pub max_response_bytes: usize,
    /// Phone-number ids the sandbox pretends to own.
    pub sandbox_phone_number_ids: BTreeSet<String>,
}

/// Loaded secrets. Debug output never shows their values.
#[derive(Debug)]
pub struct Secrets {
    /// Meta app secret (webhook signatures).
    pub meta_app_secret: Secret,
    /// Webhook verify token.
    pub meta_verify_token: Secret,
    /// Meta access token; only the gateway holds it.
    pub meta_access_token: Secret,
    /// Key of all pseudonyms (32 bytes).
    pub pseudonym_key: [u8; 32],
    /// Ed25519 seed of the audit checkpoint signer (32 bytes).
    pub audit_signing_seed: [u8; 32],
}

/// Audit log settings.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    /// Origin line of signed checkpoints.
    pub origin: String,
    /// A checkpoint is signed after this many entries…
    pub checkpoint_every_entries: u64,
    /// …or after this much time, whichever comes first.
    pub checkpoint_every: Duration,
    /// Entries waiting for the writer before callers are held back.
    pub queue_capacity: usize,
}

/// Meta's webhook callback on the public listener.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Path of the callback URL (`/webhook`).
    pub path: String,
    /// Largest webhook body (Meta batches up to 1,000 updates).
    pub max_body_bytes: usize,
}

/// Log output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object per line.
    Json,
    /// Human-readable lines.
    Pretty,
}

/// Log settings.
#[derive(Debug, Clone)]
pub struct LogConfig {
    /// Output format.
    pub format: LogFormat,
    /// `tracing` filter directive (for example `info`).
    pub level: String,
}

/// How identities are presented to an internal system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityMode {
    /// Keyed pseudonyms instead of phone numbers and user ids.
    Pseudonym,
    /// Phone numbers as Meta sends them.
    Plain,
}

/// One internal system allowed to call the gateway.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Name used in logs and audit entries (`client:NAME`).
    pub name: String,
    /// SHA-256 of the client's bearer token.
    pub token_sha256: [u8; 32],
    /// Phone-number ids this client may send from.
    pub phone_number_ids: BTreeSet<String>,
    /// Identity presentation.
    pub identity_mode: IdentityMode,
    /// When non-empty, the client's TLS certificate must have one of these SHA-256 fingerprints.
    pub client_cert_sha256: Vec<[u8; 32]>,
    /// Where this client receives webhooks, with the secret schleuse signs them with.
    pub webhook: Option<ClientWebhook>,
}

/// An internal system's webhook target.
#[derive(Debug, Clone)]
pub struct ClientWebhook {
    /// `http(s)://…` URL.
    pub url: http::Uri,
    /// Key of the `X-Hub-Signature-256` HMAC on deliveries.
    pub secret: Secret,
}

/// A config that could not be loaded; lists every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("config file {path}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// The parser's message (names the key and line).
        message: String,
    },
    /// One or more keys hold invalid values.
    #[error("config file {path} has {} problem(s):\n{}", problems.len(), problems.join("\n"))]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// One line per problem, each starting with the key path.
        problems: Vec<String>,
    },
}

// === impl Config ===

impl Config {
    /// Loads and validates a config file. `env` looks up environment
    /// variables (pass `|k| std::env::var(k).ok()` in the binary, a map in tests).
    pub fn load(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Self::from_toml(&text, path, env)
    }

    /// Parses and validates config text; `path` locates relative paths.
    pub fn from_toml(
        text: &str,
        path: &Path,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let base_dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        validate::validate(raw, base_dir, env).map_err(|problems| ConfigError::Invalid {
            path: path.to_owned(),
            problems,
        })
    }

    /// Path of the consent ledger.
    pub fn consent_db_path(&self) -> PathBuf {
        self.storage_dir.join("consent.db")
    }

    /// Path of the identity vault (pseudonym → sealed identifier).
    pub fn vault_db_path(&self) -> PathBuf {
        self.storage_dir.join("identities.db")
    }

    /// Path of the webhook inbox database.
    pub fn webhook_db_path(&self) -> PathBuf {
        self.storage_dir.join("webhooks.db")
    }

    /// Path of the audit database.
    pub fn audit_db_path(&self) -> PathBuf {
        self.storage_dir.join("audit.db")
    }
}

// === impl IdentityMode ===

impl IdentityMode {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pseudonym => "pseudonym",
            Self::Plain => "plain",
        }
    }
}
