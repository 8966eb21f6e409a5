//! Semantic checks of a parsed config, collecting every problem with its key.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawClient, RawConfig, RawServer, RawUpstream};
use super::secrets::{self, decode_key32};
use super::{
    AdminConfig, AuditConfig, ClientConfig, ClientWebhook, Config, IdentityMode, LogConfig,
    LogFormat, Secrets, ServerConfig, TlsConfig, UpstreamConfig, UpstreamKind, WebhookConfig,
};

/// Collects problems; each is one line starting with the key path.
#[derive(Default)]
struct Problems(Vec<String>);

pub(super) fn validate(
    raw: RawConfig,
    base_dir: PathBuf,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, Vec<String>> {
    let mut p = Problems::default();
    let server = server(&raw.server, &base_dir, &mut p);
    let admin = admin(&raw, &mut p);
    let upstream = upstream(&raw.upstream, &base_dir, &mut p);
    let secrets = secrets(&raw, &base_dir, env, &mut p);
    let clients = clients(&raw.clients, &base_dir, env, &mut p);
    let audit = audit(&raw, &mut p);
    let log = log(&raw, &mut p);
    let webhook = webhook(&raw, &mut p);
    match (server, admin, upstream, secrets, clients, audit, log) {
        (
            Some(server),
            Some(admin),
            Some(upstream),
            Some(secrets),
            Some(clients),
            Some(audit),
            Some(log),
        ) if p.0.is_empty() => Ok(Config {
            webhook,
            storage_dir: base_dir.join(&raw.storage.dir),
            policy_file: base_dir.join(&raw.policy.file),
            base_dir,
            server,
            admin,
            upstream,
            secrets,
            audit,
            log,
            clients,
        }),
        _ => Err(p.0),
    }
}

fn server(raw: &RawServer, base: &Path, p: &mut Problems) -> Option<ServerConfig> {
    let listen = addrs(&raw.listen, "server.listen", p);
    if raw.listen.is_empty() {
        p.push("server.listen: at least one address is required");
    }
    let max_body_bytes = p.range("server.max_body_bytes", raw.max_body_bytes, 1024, 64 << 20);
    let max_connections = p.range("server.max_connections", raw.max_connections, 1, 1_000_000);
    let tls = raw.tls.as_ref().map(|t| TlsConfig {
        cert_file: base.join(&t.cert_file),
        key_file: base.join(&t.key_file),
        client_ca_file: t.client_ca_file.as_ref().map(|f| base.join(f)),
    });
    if raw.max_concurrent_streams == 0 {
        p.push("server.max_concurrent_streams: must be at least 1");
    }
    Some(ServerConfig {
        listen,
        max_body_bytes: usize::try_from(max_body_bytes).ok()?,
        max_connections: usize::try_from(max_connections).ok()?,
        header_read_timeout: p.millis("server.header_read_timeout_ms", raw.header_read_timeout_ms),
        body_read_timeout: p.millis("server.body_read_timeout_ms", raw.body_read_timeout_ms),
        idle_timeout: p.millis("server.idle_timeout_ms", raw.idle_timeout_ms),
        tls_handshake_timeout: p.millis(
            "server.tls_handshake_timeout_ms",
            raw.tls_handshake_timeout_ms,
        ),
        max_concurrent_streams: raw.max_concurrent_streams,
        tls,
    })
}

fn admin(raw: &RawConfig, p: &mut Problems) -> Option<AdminConfig> {
    let listen: SocketAddr = match raw.admin.listen.parse() {
        Ok(a) => a,
        Err(_) => {
            p.push(format!(
                "admin.listen: `{}` is not an IP:port address",
                raw.admin.listen
            ));
            return None;
        }
    };
    if !listen.ip().is_loopback() && !raw.admin.danger_allow_non_loopback {
        p.push("admin.listen: must be a loopback address (metrics are never public); set admin.danger_allow_non_loopback = true to override");
    }
    Some(AdminConfig { listen })
}

fn upstream(raw: &RawUpstream, base: &Path, p: &mut Problems) -> Option<UpstreamConfig> {
    let kind = match raw.kind.as_str() {
        "sandbox" => UpstreamKind::Sandbox,
        "meta" => UpstreamKind::Meta,
        other => {
            p.push(format!(
                "upstream.kind: `{other}` is not one of `sandbox`, `meta`"
            ));
            return None;
        }
    };
    let base_url = raw.base_url.trim_end_matches('/').to_owned();
    if kind == UpstreamKind::Meta {
        check_base_url(&base_url, p);
    }
    let ids: BTreeSet<String> = raw.sandbox.phone_number_ids.iter().cloned().collect();
    for id in &ids {
        if !is_phone_number_id(id) {
            p.push(format!(
                "upstream.sandbox.phone_number_ids: `{id}` is not a numeric id"
            ));
        }
    }
    if kind == UpstreamKind::Sandbox && ids.is_empty() {
        p.push("upstream.sandbox.phone_number_ids: the sandbox needs at least one phone-number id");
    }
    let max_idle = p.range(
        "upstream.pool_max_idle_per_host",
        raw.pool_max_idle_per_host,
        0,
        10_000,
    );
    let max_resp = p.range(
        "upstream.max_response_bytes",
        raw.max_response_bytes,
        1024,
        64 << 20,
    );
    Some(UpstreamConfig {
        kind,
        base_url,
        extra_ca_file: raw.extra_ca_file.as_ref().map(|f| base.join(f)),
        connect_timeout: p.millis("upstream.connect_timeout_ms", raw.connect_timeout_ms),
        request_timeout: p.millis("upstream.request_timeout_ms", raw.request_timeout_ms),
        pool_max_idle_per_host: usize::try_from(max_idle).ok()?,
        pool_idle_timeout: p.millis("upstream.pool_idle_timeout_ms", raw.pool_idle_timeout_ms),
        max_response_bytes: usize::try_from(max_resp).ok()?,
        sandbox_phone_number_ids: ids,
    })
}

/// `https://host[:port]`, or plain `http://` only to a loopback address
/// (test doubles); anything else would send Meta's token in clear text.
fn check_base_url(url: &str, p: &mut Problems) {
    let Ok(uri) = url.parse::<http::Uri>() else {
        p.push(format!("upstream.base_url: `{url}` is not a URL"));
        return;
    };
    let host = uri.host().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if loopback => {}
        Some("http") => {
            p.push("upstream.base_url: plain http is only allowed to a loopback address")
        }
        _ => p.push(format!(
            "upstream.base_url: `{url}` must start with https://"
        )),
    }
    if host.is_empty() {
        p.push("upstream.base_url: has no host");
    }
    if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
        p.push("upstream.base_url: must not have a path or query (the API version comes from the request)");
    }
}

fn secrets(
    raw: &RawConfig,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    p: &mut Problems,
) -> Option<Secrets> {
    let s = &raw.secrets;
    let mut load = |r, key: &str| p.take(secrets::load(r, key, base, env));
    let app = load(&s.meta_app_secret, "secrets.meta_app_secret");
    let verify = load(&s.meta_verify_token, "secrets.meta_verify_token");
    let access = load(&s.meta_access_token, "secrets.meta_access_token");
    let pseudo = load(&s.pseudonym_key, "secrets.pseudonym_key");
    let signing = load(&s.audit_signing_key, "secrets.audit_signing_key");
    let pseudonym_key = p.take(decode_key32(&pseudo?, "secrets.pseudonym_key"));
    let audit_signing_seed = p.take(decode_key32(&signing?, "secrets.audit_signing_key"));
    Some(Secrets {
        meta_app_secret: app?,
        meta_verify_token: verify?,
        meta_access_token: access?,
        pseudonym_key: pseudonym_key?,
        audit_signing_seed: audit_signing_seed?,
    })
}

fn clients(
    raw: &[RawClient],
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    p: &mut Problems,
) -> Option<Vec<ClientConfig>> {
    let mut names = BTreeSet::new();
    let mut hashes = BTreeSet::new();
    let mut out = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let key = format!("clients[{i}]");
        if c.name.is_empty()
            || !c
                .name
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        {
            p.push(format!("{key}.name: use letters, digits, `-`, `_` or `.`"));
        }
        if !names.insert(c.name.clone()) {
            p.push(format!(
                "{key}.name: `{}` is used by another client",
                c.name
            ));
        }
        let hash = p.take(parse_sha256(&c.token_sha256).ok_or_else(|| {
            format!("{key}.token_sha256: must be 64 hex characters (SHA-256 of the token)")
        }));
        if let Some(h) = hash
            && !hashes.insert(h)
        {
            p.push(format!(
                "{key}.token_sha256: the same token is configured twice"
            ));
        }
        if c.phone_number_ids.is_empty() {
            p.push(format!(
                "{key}.phone_number_ids: list at least one phone-number id"
            ));
        }
        for id in &c.phone_number_ids {
            if !is_phone_number_id(id) {
                p.push(format!(
                    "{key}.phone_number_ids: `{id}` is not a numeric id"
                ));
            }
        }
        let identity_mode = match c.identity_mode.as_str() {
            "pseudonym" => Some(IdentityMode::Pseudonym),
            "plain" => Some(IdentityMode::Plain),
            other => {
                p.push(format!(
                    "{key}.identity_mode: `{other}` is not one of `pseudonym`, `plain`"
                ));
                None
            }
        };
        let certs: Vec<_> = c
            .client_cert_sha256
            .iter()
            .filter_map(|h| {
                p.take(parse_sha256(h).ok_or_else(|| {
                    format!("{key}.client_cert_sha256: `{h}` is not 64 hex characters")
                }))
            })
            .collect();
        let webhook = client_webhook(c, &key, base, env, p);
        if let (Some(token_sha256), Some(identity_mode)) = (hash, identity_mode) {
            out.push(ClientConfig {
                name: c.name.clone(),
                token_sha256,
                phone_number_ids: c.phone_number_ids.iter().cloned().collect(),
                identity_mode,
                client_cert_sha256: certs,
                webhook,
            });
        }
    }
    Some(out)
}

fn client_webhook(
    c: &RawClient,
    key: &str,
    base: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    p: &mut Problems,
) -> Option<ClientWebhook> {
    match (&c.webhook_url, &c.webhook_secret) {
        (None, None) => None,
        (Some(url), Some(secret)) => {
            let uri = url
                .parse::<http::Uri>()
                .ok()
                .filter(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some());
            if uri.is_none() {
                p.push(format!("{key}.webhook_url: `{url}` is not an http(s) URL"));
            }
            let secret = p.take(secrets::load(
                secret,
                &format!("{key}.webhook_secret"),
                base,
                env,
            ));
            Some(ClientWebhook {
                url: uri?,
                secret: secret?,
            })
        }
        _ => {
            p.push(format!(
                "{key}: set both `webhook_url` and `webhook_secret`, or neither"
            ));
            None
        }
    }
}

fn audit(raw: &RawConfig, p: &mut Problems) -> Option<AuditConfig> {
    let a = &raw.audit;
    if a.origin.is_empty() || a.origin.contains(char::is_whitespace) {
        p.push("audit.origin: must be non-empty without spaces (e.g. `example.com/schleuse`)");
    }
    let every = p.range(
        "audit.checkpoint_every_entries",
        a.checkpoint_every_entries,
        1,
        u64::MAX,
    );
    let secs = p.range(
        "audit.checkpoint_every_secs",
        a.checkpoint_every_secs,
        1,
        86_400,
    );
    let queue = p.range("audit.queue_capacity", a.queue_capacity, 1, 1_000_000);
    Some(AuditConfig {
        origin: a.origin.clone(),
        checkpoint_every_entries: every,
        checkpoint_every: Duration::from_secs(secs),
        queue_capacity: usize::try_from(queue).ok()?,
    })
}

fn webhook(raw: &RawConfig, p: &mut Problems) -> WebhookConfig {
    let w = &raw.webhook;
    let path_ok = w.path.starts_with('/')
        && w.path.len() <= 128
        && w.path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/-_.".contains(&b))
        && crate::ingress::parse_send_path(&w.path).is_none();
    if !path_ok {
        p.push("webhook.path: must start with `/`, use letters, digits, `/-_.`, and not look like a send path");
    }
    let max = p.range("webhook.max_body_bytes", w.max_body_bytes, 1024, 64 << 20);
    WebhookConfig {
        path: w.path.clone(),
        max_body_bytes: usize::try_from(max).unwrap_or(usize::MAX),
    }
}

fn log(raw: &RawConfig, p: &mut Problems) -> Option<LogConfig> {
    let format = match raw.log.format.as_str() {
        "json" => LogFormat::Json,
        "pretty" => LogFormat::Pretty,
        other => {
            p.push(format!(
                "log.format: `{other}` is not one of `json`, `pretty`"
            ));
            return None;
        }
    };
    if tracing_subscriber::EnvFilter::try_new(&raw.log.level).is_err() {
        p.push(format!(
            "log.level: `{}` is not a valid filter",
            raw.log.level
        ));
    }
    Some(LogConfig {
        format,
        level: raw.log.level.clone(),
    })
}

fn addrs(list: &[String], key: &str, p: &mut Problems) -> Vec<SocketAddr> {
    list.iter()
        .filter_map(|a| match a.parse() {
            Ok(addr) => Some(addr),
            Err(_) => {
                p.push(format!("{key}: `{a}` is not an IP:port address"));
                None
            }
        })
        .collect()
}

/// Phone-number ids are Meta object ids: decimal digits.
pub(crate) fn is_phone_number_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit())
}

fn parse_sha256(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    if text.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in text.as_bytes().chunks(2).enumerate() {
        let pair = std::str::from_utf8(chunk).ok()?;
        out[i] = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

// === impl Problems ===

impl Problems {
    fn push(&mut self, problem: impl Into<String>) {
        self.0.push(problem.into());
    }

    fn take<T>(&mut self, result: Result<T, String>) -> Option<T> {
        result.map_err(|e| self.push(e)).ok()
    }

    fn range(&mut self, key: &str, value: u64, min: u64, max: u64) -> u64 {
        if !(min..=max).contains(&value) {
            self.push(format!("{key}: {value} is outside {min}..={max}"));
        }
        value.clamp(min, max)
    }

    fn millis(&mut self, key: &str, value: u64) -> Duration {
        Duration::from_millis(self.range(key, value, 1, 3_600_000))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_parses_and_rejects_bad_input() {
        assert!(parse_sha256(&"ab".repeat(32)).is_some());
        assert!(parse_sha256("abc").is_none());
        assert!(parse_sha256(&"zz".repeat(32)).is_none());
    }

    #[test]
    fn plain_http_upstream_is_only_allowed_to_loopback() {
        let mut p = Problems::default();
        check_base_url("http://127.0.0.1:9000", &mut p);
        check_base_url("https://graph.facebook.com", &mut p);
        assert!(p.0.is_empty(), "{:?}", p.0);
        check_base_url("http://graph.facebook.com", &mut p);
        check_base_url("https://graph.facebook.com/v20.0", &mut p);
        assert_eq!(p.0.len(), 2, "{:?}", p.0);
    }
}
