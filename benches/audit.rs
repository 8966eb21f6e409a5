//! Audit log throughput: durable appends/s (synchronous=FULL) at 1, 16 and
//! 256 concurrent writers, and full-verify entries/s on a 1,000,000-entry log.
//!
//! A plain `main` (harness = false) rather than criterion sampling: each
//! figure is one long run over a real file on disk, which is what the targets
//! (≥ 50,000 appends/s at 256 writers, ≥ 500,000 verified entries/s) are about.
//! Sizes can be lowered with `AUDIT_BENCH_SCALE` (e.g. 0.1) for a quick run.

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use schleuse::audit::{AuditLog, AuditSettings, bench, verify};
use schleuse::pseudonym::PseudonymKey;

fn settings(db_path: PathBuf) -> AuditSettings {
    AuditSettings {
        db_path,
        signing_seed: [1u8; 32],
        pseudonym_key: PseudonymKey::new(&[2u8; 32]),
        origin: "bench.example/audit".into(),
        checkpoint_every_entries: 1000,
        checkpoint_every: Duration::from_secs(60),
        queue_capacity: 4096,
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        println!("audit: bench");
        return;
    }
    let scale: f64 = std::env::var("AUDIT_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let n = |base: f64| ((base * scale) as u64).max(100);
    std::fs::create_dir_all("target").unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let appends = std::env::var_os("AUDIT_BENCH_SKIP_APPEND").is_none();
    let runs = [(1, n(3_000.0)), (16, n(30_000.0)), (256, n(300_000.0))];
    for (writers, entries) in runs.into_iter().filter(|_| appends) {
        let dir = tempfile::tempdir_in("target").unwrap();
        let log = AuditLog::open(settings(dir.path().join("audit.db"))).unwrap();
        let r = rt
            .block_on(bench::run_appends(&log, entries, writers, None))
            .unwrap();
        rt.block_on(log.shutdown()).unwrap();
        println!(
            "append  writers={writers:<4} entries={entries:<8} {:>9.0} appends/s (synchronous=FULL)",
            r.per_second()
        );
    }
    // The verify log is kept in target/bench-audit-verify and reused when it
    // already has the right size (delete the directory to rebuild it).
    let size = n(1_000_000.0);
    let dir = PathBuf::from(format!("target/bench-audit-verify-{size}"));
    std::fs::create_dir_all(&dir).unwrap();
    let s = settings(dir.join("audit.db"));
    let log = AuditLog::open(s.clone()).unwrap();
    let have = verify(&s.db_path, log.verifier_key(), None)
        .map(|r| r.entries)
        .unwrap_or(0);
    if have < size {
        let fill = rt
            .block_on(bench::run_appends(&log, size - have, 256, None))
            .unwrap();
        println!(
            "fill    writers=256  entries={:<8} {:>9.0} appends/s",
            size - have,
            fill.per_second()
        );
    }
    let saved = rt.block_on(log.checkpoint()).unwrap();
    rt.block_on(log.shutdown()).unwrap();
    let bytes = std::fs::metadata(&s.db_path).map(|m| m.len()).unwrap_or(0);
    for run in 1..=2 {
        let start = Instant::now();
        let report = verify(&s.db_path, log.verifier_key(), Some(&saved)).unwrap();
        let secs = start.elapsed().as_secs_f64();
        assert!(report.entries >= size);
        println!(
            "verify  run={run} entries={size:<8} {:>9.0} entries/s ({secs:.2} s, db {} MB, {} checkpoints)",
            report.entries as f64 / secs,
            bytes / 1_000_000,
            report.checkpoints
        );
    }
}
