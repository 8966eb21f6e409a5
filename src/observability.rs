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

/// Replaces the default panic hook, which prints the panic's message: a
/// message may quote the text being processed (a string slicing panic
/// quotes up to 256 bytes of it), and logs never hold message text. The
/// hook reports where the panic happened and withholds what it said; as a
/// log event once tracing is set up, else as one line on stderr.
///
/// For the binary only: a test process needs its assertion messages.
pub fn withhold_panic_messages() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        if tracing::dispatcher::has_been_set() {
            tracing::error!(%location, "panic (message withheld: it may quote message text)");
        } else {
            eprintln!(
                "schleuse: panic at {location} (message withheld: it may quote message text)"
            );
        }
    }));
}

#[cfg(test)]
mod tests {
    /// Set in the child process that
    /// `panic_messages_are_withheld_but_their_place_is_told` starts.
    const CHILD: &str = "SCHLEUSE_PANIC_HOOK_CHILD";

    #[test]
    fn panic_messages_are_withheld_but_their_place_is_told() {
        if std::env::var_os(CHILD).is_some() {
            super::withhold_panic_messages();
            let text = String::from("Müller, DE89370400440532013000");
            // A slicing panic whose default message quotes the text.
            let cut = std::hint::black_box(2);
            let _ = std::hint::black_box(&text[..cut]);
            unreachable!("the slice above splits `ü` and panics");
        }
        let Ok(exe) = std::env::current_exe() else {
            panic!("no path to the test binary");
        };
        let out = std::process::Command::new(exe)
            .args([
                "--exact",
                "observability::tests::panic_messages_are_withheld_but_their_place_is_told",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .output();
        let Ok(out) = out else {
            panic!("could not run the child test");
        };
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "the child must panic");
        assert!(stderr.contains("message withheld"), "{stderr}");
        assert!(stderr.contains("observability.rs:"), "{stderr}");
        assert!(
            !stderr.contains("Müller") && !stderr.contains("DE89"),
            "{stderr}"
        );
    }
}
