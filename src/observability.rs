//! Observability: structured logs, Prometheus metrics, the admin listener.
//!
//! Logs are JSON lines by default and carry only ids, rule names, status
//! codes and timings — never message text, phone numbers, wamids or tokens.
//! Metrics and health live on a separate admin listener that is loopback-only
//! unless explicitly overridden (the TeleMessage breach came through an
//! exposed debug endpoint).

mod admin;
mod metrics;

pub use admin::serve_admin;
pub use metrics::Metrics;

use crate::config::{LogConfig, LogFormat};

/// Installs the global tracing subscriber (once per process; later calls
/// are ignored so tests can start several gateways).
pub fn init_tracing(cfg: &LogConfig) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&cfg.level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match cfg.format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}
