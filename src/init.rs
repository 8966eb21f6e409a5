//! `schleuse init`: a ready-to-run data folder with generated secrets.
//!
//! Layout of DIR: `schleuse.toml`, `policy.toml` (the shipped default),
//! `secrets/` (mode 0700; each secret a 0600 file), `data/` (SQLite files).
//! The internal client's token is returned once and only its SHA-256 is
//! written. Existing secrets are never overwritten.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};

use crate::ingress::sha256;
use crate::pseudonym::hex;

/// The phone-number id the sandbox owns in a fresh data folder.
pub const SANDBOX_PHONE_NUMBER_ID: &str = "109000000000001";

/// The shipped default policy, copied into new data folders.
pub const DEFAULT_POLICY: &str = include_str!("../policies/default.toml");

/// What `init` created.
#[derive(Debug)]
pub struct Initialised {
    /// Path of the new config file.
    pub config_path: PathBuf,
    /// The sandbox business number's id.
    pub phone_number_id: String,
    /// The `default` client's bearer token (shown once, stored only hashed).
    pub token: String,
}

/// Why `init` failed.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The folder already holds a config or secrets.
    #[error("{0} already holds a schleuse config or secrets; refusing to overwrite them")]
    AlreadyInitialised(PathBuf),
    /// A file could not be written.
    #[error("cannot write {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// Creates a data folder in `dir` with sandbox upstream and one client.
pub fn init(dir: &Path) -> Result<Initialised, InitError> {
    let secrets = dir.join("secrets");
    let config_path = dir.join("schleuse.toml");
    if secrets.exists() || config_path.exists() {
        return Err(InitError::AlreadyInitialised(dir.to_owned()));
    }
    create_dir(dir, 0o755)?;
    create_dir(&secrets, 0o700)?;
    create_dir(&dir.join("data"), 0o700)?;
    let rng = SystemRandom::new();
    write_new(
        &secrets.join("meta-app-secret"),
        &hex(&random::<16>(&rng)?),
        0o600,
    )?;
    write_new(
        &secrets.join("meta-verify-token"),
        &b64url(&random::<24>(&rng)?),
        0o600,
    )?;
    let placeholder = format!("SANDBOX-{}", b64url(&random::<24>(&rng)?));
    write_new(&secrets.join("meta-access-token"), &placeholder, 0o600)?;
    write_new(
        &secrets.join("pseudonym.key"),
        &b64(&random::<32>(&rng)?),
        0o600,
    )?;
    write_new(
        &secrets.join("audit-signing.key"),
        &b64(&random::<32>(&rng)?),
        0o600,
    )?;
    write_new(&dir.join("policy.toml"), DEFAULT_POLICY, 0o644)?;
    let token = format!("slt_{}", b64url(&random::<32>(&rng)?));
    let config = starter_config(&hex(&sha256(token.as_bytes())));
    write_new(&config_path, &config, 0o600)?;
    Ok(Initialised {
        config_path,
        phone_number_id: SANDBOX_PHONE_NUMBER_ID.to_owned(),
        token,
    })
}

fn starter_config(token_sha256: &str) -> String {
    format!(
        r#"# schleuse gateway configuration. Every key is documented in docs/operations.md.
# Relative paths are relative to this file's folder.

[server]
listen = ["127.0.0.1:8080"]
max_body_bytes = 1048576

[admin]
# /metrics and /healthz; loopback only.
listen = "127.0.0.1:9464"

[upstream]
# "sandbox" is the built-in stand-in for Meta. For production set kind = "meta"
# and put the real access token into secrets/meta-access-token.
kind = "sandbox"
base_url = "https://graph.facebook.com"

[upstream.sandbox]
phone_number_ids = ["{SANDBOX_PHONE_NUMBER_ID}"]

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

[log]
format = "json"
level = "info"

[[clients]]
name = "default"
token_sha256 = "{token_sha256}"
phone_number_ids = ["{SANDBOX_PHONE_NUMBER_ID}"]
identity_mode = "pseudonym"
"#
    )
}

fn random<const N: usize>(rng: &SystemRandom) -> Result<[u8; N], InitError> {
    let mut out = [0u8; N];
    rng.fill(&mut out).map_err(|_| InitError::Random)?;
    Ok(out)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn create_dir(path: &Path, mode: u32) -> Result<(), InitError> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
    #[cfg(not(unix))]
    let _ = mode;
    builder.create(path).map_err(|source| InitError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write_new(path: &Path, content: &str, mode: u32) -> Result<(), InitError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    #[cfg(not(unix))]
    let _ = mode;
    let io = |source| InitError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = options.open(path).map_err(io)?;
    file.write_all(content.as_bytes()).map_err(io)?;
    file.write_all(b"\n").map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::Config;

    #[test]
    fn init_writes_a_config_that_loads_and_refuses_to_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("gw");
        let out = init(&target).unwrap();
        assert!(out.token.starts_with("slt_"));
        let cfg = Config::load(&out.config_path, &|_| None).unwrap();
        assert_eq!(cfg.clients[0].token_sha256, sha256(out.token.as_bytes()));
        assert!(matches!(
            init(&target),
            Err(InitError::AlreadyInitialised(_))
        ));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&target.join("secrets")), 0o700);
            assert_eq!(mode(&target.join("secrets/pseudonym.key")), 0o600);
        }
        let text = fs::read_to_string(&out.config_path).unwrap();
        assert!(!text.contains(&out.token), "only the hash is stored");
    }
}
