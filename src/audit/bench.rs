//! Append throughput measurement shared by `audit bench` and `benches/audit.rs`.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::{AuditError, AuditLog, Decision, Direction, Record};
use crate::pseudonym::PseudonymKey;

/// Result of one run.
#[derive(Debug, Clone, Copy)]
pub struct BenchReport {
    /// Entries appended (acknowledged).
    pub entries: u64,
    /// Concurrent writers.
    pub writers: usize,
    /// Wall time.
    pub elapsed: Duration,
}

/// Appends `entries` typical message-decision records from `writers`
/// concurrent tasks; every acknowledged index is written to `acked` (one per
/// line, flushed) if given.
pub async fn run_appends(
    log: &AuditLog,
    entries: u64,
    writers: usize,
    acked: Option<Box<dyn Write + Send>>,
) -> Result<BenchReport, AuditError> {
    let writers = writers.max(1);
    let next = Arc::new(AtomicU64::new(0));
    let acked = Arc::new(tokio::sync::Mutex::new(acked));
    let key = PseudonymKey::new(&[0x5a; 32]);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..writers {
        let (log, next, acked, key) = (log.clone(), next.clone(), acked.clone(), key.clone());
        tasks.spawn(async move {
            while next.fetch_add(1, Ordering::Relaxed) < entries {
                let receipt = log.append(sample_record(&key, w)).await?;
                if let Some(out) = acked.lock().await.as_mut() {
                    writeln!(out, "{}", receipt.index)?;
                    out.flush()?;
                }
            }
            Ok::<(), AuditError>(())
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| AuditError::Invalid(format!("bench task failed: {e}")))??;
    }
    Ok(BenchReport {
        entries,
        writers,
        elapsed: start.elapsed(),
    })
}

/// A realistic outbound message decision (about 500 bytes canonical).
pub fn sample_record(key: &PseudonymKey, n: usize) -> Record {
    let subject = key.subject(&format!("+49151000{:05}", n % 100_000));
    Record::message_decision(
        "client:bench",
        Direction::Outbound,
        subject,
        Decision::Modify,
    )
    .with_rule_ids(["window.24h", "pii.redact"])
    .with_policy(
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "2026-01-15.1",
    )
    .with_content(
        key,
        b"Hello, your IBAN DE00 0000 0000 0000 0000 00 was redacted",
    )
    .with_pii("IBAN_CODE", "redact", 1)
    .with_upstream(
        key,
        Some(200),
        Some("wamid.HBgLNDkxNTEwMDAwMDAwFQIAERgSQUFBQUFBQUFBQUFBQUFBQUFB"),
    )
    .with_correlation_id(format!("req-{n}"))
}

// === impl BenchReport ===

impl BenchReport {
    /// Appends per second.
    pub fn per_second(&self) -> f64 {
        self.entries as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}
