#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, params};
use tempfile::TempDir;

use super::merkle::leaf_hash;
use super::*;
use crate::pseudonym::PseudonymKey;

const PHONE: &str = "+4915100012345";

fn settings(dir: &TempDir, every: u64, queue: usize) -> AuditSettings {
    AuditSettings {
        db_path: dir.path().join("audit.db"),
        signing_seed: [7u8; 32],
        pseudonym_key: PseudonymKey::new(&[3u8; 32]),
        origin: "schleuse.example/audit".into(),
        checkpoint_every_entries: every,
        checkpoint_every: Duration::from_secs(3600),
        queue_capacity: queue,
    }
}

fn record(s: &AuditSettings, n: usize) -> Record {
    bench::sample_record(&s.pseudonym_key, n)
}

/// A closed log of `n` entries with checkpoints every 7; returns the key and
/// the final checkpoint (what a DPO would have saved).
async fn log_with(dir: &TempDir, n: usize) -> (AuditSettings, VerifierKey, String) {
    let s = settings(dir, 7, 64);
    let log = AuditLog::open(s.clone()).unwrap();
    for i in 0..n {
        log.append(record(&s, i)).await.unwrap();
    }
    let saved = log.checkpoint().await.unwrap();
    log.shutdown().await.unwrap();
    (s, log.verifier_key().clone(), saved)
}

/// What an attacker with file access does first.
fn attacker(db: &Path) -> Connection {
    let c = Connection::open(db).unwrap();
    c.execute_batch(
        "DROP TRIGGER entries_no_update; DROP TRIGGER entries_no_delete;
         DROP TRIGGER nodes_no_update; DROP TRIGGER nodes_no_delete;
         DROP TRIGGER checkpoints_no_update; DROP TRIGGER checkpoints_no_delete;",
    )
    .unwrap();
    c
}

fn body(c: &Connection, idx: u64) -> Vec<u8> {
    c.query_row(
        "SELECT body FROM entries WHERE idx = ?1",
        [idx as i64],
        |r| r.get(0),
    )
    .unwrap()
}

fn set_body(c: &Connection, idx: u64, b: &[u8]) {
    c.execute(
        "UPDATE entries SET body = ?2 WHERE idx = ?1",
        params![idx as i64, b],
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appending_then_verifying_passes_with_and_without_a_saved_checkpoint() {
    let dir = TempDir::new().unwrap();
    let (s, key, saved) = log_with(&dir, 40).await;
    let report = verify(&s.db_path, &key, None).unwrap();
    assert_eq!(report.entries, 40);
    assert!(report.checkpoints >= 5);
    assert_eq!(report.latest_checkpoint_size, Some(40));
    let report = verify(&s.db_path, &key, Some(&saved)).unwrap();
    assert_eq!(report.consistent_with_saved, Some(40));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_one_byte_of_any_entry_names_that_index() {
    let dir = TempDir::new().unwrap();
    let (s, key, _) = log_with(&dir, 20).await;
    let c = attacker(&s.db_path);
    for idx in 0..20u64 {
        let original = body(&c, idx);
        for pos in [10, original.len() / 2, original.len() - 2] {
            let mut changed = original.clone();
            changed[pos] ^= 0x01;
            set_body(&c, idx, &changed);
            let err = verify(&s.db_path, &key, None).unwrap_err();
            assert_eq!(err.index, Some(idx), "byte {pos}: {err}");
        }
        set_body(&c, idx, &original);
    }
    verify(&s.db_path, &key, None).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rewriting_an_entry_and_its_leaf_hash_is_caught_by_the_stored_subtrees() {
    let dir = TempDir::new().unwrap();
    let (s, key, _) = log_with(&dir, 20).await;
    let c = attacker(&s.db_path);
    let changed = String::from_utf8(body(&c, 5))
        .unwrap()
        .replace("\"deny\"", "x")
        .replace("modify", "allow ");
    c.execute(
        "UPDATE entries SET body = ?2, leaf_hash = ?3 WHERE idx = ?1",
        params![
            5,
            changed.as_bytes(),
            leaf_hash(changed.as_bytes()).as_slice()
        ],
    )
    .unwrap();
    let err = verify(&s.db_path, &key, None).unwrap_err();
    assert_eq!(err.index, Some(4), "{err}");
    assert!(err.reason.contains("4..=5"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_an_entry_names_its_index() {
    let dir = TempDir::new().unwrap();
    let (s, key, _) = log_with(&dir, 20).await;
    attacker(&s.db_path)
        .execute("DELETE FROM entries WHERE idx = 9", [])
        .unwrap();
    let err = verify(&s.db_path, &key, None).unwrap_err();
    assert_eq!(err.index, Some(9), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordering_two_entries_names_the_first() {
    let dir = TempDir::new().unwrap();
    let (s, key, _) = log_with(&dir, 20).await;
    let c = attacker(&s.db_path);
    c.execute_batch(
        "UPDATE entries SET idx = -1 WHERE idx = 12; UPDATE entries SET idx = 12 WHERE idx = 13;
         UPDATE entries SET idx = 13 WHERE idx = -1;",
    )
    .unwrap();
    let err = verify(&s.db_path, &key, None).unwrap_err();
    assert_eq!(err.index, Some(12), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncating_below_a_saved_checkpoint_is_detected_only_with_that_checkpoint() {
    let dir = TempDir::new().unwrap();
    let (s, key, saved) = log_with(&dir, 40).await;
    let c = attacker(&s.db_path);
    let keep = 28u64; // a checkpoint size, so the stored checkpoints stay coherent
    c.execute("DELETE FROM entries WHERE idx >= ?1", [keep as i64])
        .unwrap();
    let nodes = keep - u64::from(keep.count_ones());
    c.execute("DELETE FROM nodes WHERE seq >= ?1", [nodes as i64])
        .unwrap();
    c.execute("DELETE FROM checkpoints WHERE size > ?1", [keep as i64])
        .unwrap();
    assert_eq!(verify(&s.db_path, &key, None).unwrap().entries, keep);
    let err = verify(&s.db_path, &key, Some(&saved)).unwrap_err();
    assert_eq!(err.index, Some(keep), "{err}");
    assert!(err.reason.contains("truncated"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_signature_or_key_is_detected() {
    let dir = TempDir::new().unwrap();
    let (s, key, saved) = log_with(&dir, 10).await;
    let other = note::Signer::from_seed(&s.origin, &[8u8; 32]).unwrap();
    assert!(verify(&s.db_path, &other.verifier_key(), None).is_err());
    let forged = other.sign_checkpoint(10, &[0u8; 32]);
    assert!(verify(&s.db_path, &key, Some(&forged)).is_err());
    let c = attacker(&s.db_path);
    let mut bad = saved.into_bytes();
    let n = bad.len();
    bad[n - 6] = if bad[n - 6] == b'A' { b'B' } else { b'A' };
    c.execute(
        "UPDATE checkpoints SET note = ?1 WHERE size = 10",
        [String::from_utf8(bad).unwrap()],
    )
    .unwrap();
    let err = verify(&s.db_path, &key, None).unwrap_err();
    assert!(err.reason.contains("does not verify"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triggers_block_update_and_delete_but_subject_keys_stay_mutable() {
    let dir = TempDir::new().unwrap();
    let (s, _, _) = log_with(&dir, 3).await;
    let c = Connection::open(&s.db_path).unwrap();
    for sql in [
        "UPDATE entries SET ts = 'x'",
        "DELETE FROM entries",
        "UPDATE nodes SET hash = x'00'",
        "DELETE FROM nodes",
        "UPDATE checkpoints SET note = ''",
        "DELETE FROM checkpoints",
    ] {
        let err = c.execute(sql, []).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    c.execute("DELETE FROM subject_keys", []).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_a_subject_keeps_verify_green_and_content_unreadable() {
    let dir = TempDir::new().unwrap();
    let s = settings(&dir, 5, 16);
    let log = AuditLog::open(s.clone()).unwrap();
    let subject = s.pseudonym_key.subject(PHONE);
    let sealed = log.seal(&subject, b"Kontostand 12,34 EUR").await.unwrap();
    let rec = record(&s, 1).with_sealed_content(sealed.clone());
    log.append(rec).await.unwrap();
    assert_eq!(
        log.unseal(&subject, &sealed).await.unwrap(),
        b"Kontostand 12,34 EUR"
    );
    let receipt = log.erase_subject(&subject, "operator:dpo").await.unwrap();
    assert!(matches!(
        log.unseal(&subject, &sealed).await,
        Err(AuditError::SubjectErased)
    ));
    log.shutdown().await.unwrap();

    let log = AuditLog::open(s.clone()).unwrap();
    assert!(matches!(
        log.unseal(&subject, &sealed).await,
        Err(AuditError::SubjectErased)
    ));
    log.shutdown().await.unwrap();
    verify(&s.db_path, log.verifier_key(), None).unwrap();
    let c = Connection::open(&s.db_path).unwrap();
    let erasure = String::from_utf8(body(&c, receipt.index)).unwrap();
    assert!(erasure.contains("\"kind\":\"erasure\"") && erasure.contains(subject.as_str()));
    assert!(
        String::from_utf8(body(&c, 0))
            .unwrap()
            .contains(sealed.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_appends_get_gap_free_indices_through_a_small_queue() {
    let dir = TempDir::new().unwrap();
    let s = settings(&dir, 100, 4);
    let log = AuditLog::open(s.clone()).unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..100 {
        let (log, s) = (log.clone(), s.clone());
        tasks.spawn(async move {
            let mut got = Vec::new();
            for i in 0..6 {
                got.push(log.append(record(&s, t * 10 + i)).await.unwrap().index);
            }
            got
        });
    }
    let mut all: Vec<u64> = tasks.join_all().await.into_iter().flatten().collect();
    all.sort_unstable();
    assert_eq!(all, (0..600).collect::<Vec<_>>());
    log.shutdown().await.unwrap();
    assert_eq!(
        verify(&s.db_path, log.verifier_key(), None)
            .unwrap()
            .entries,
        600
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_never_contain_the_raw_phone_number() {
    let dir = TempDir::new().unwrap();
    let s = settings(&dir, 5, 16);
    let log = AuditLog::open(s.clone()).unwrap();
    let subject = s.pseudonym_key.subject(PHONE);
    let rec = Record::message_decision(
        "client:default",
        Direction::Inbound,
        subject,
        Decision::Allow,
    )
    .with_content(&s.pseudonym_key, PHONE.as_bytes())
    .with_upstream(&s.pseudonym_key, Some(200), Some("wamid.4915100012345"));
    log.append(rec).await.unwrap();
    log.shutdown().await.unwrap();
    let c = Connection::open(&s.db_path).unwrap();
    let text = String::from_utf8(body(&c, 0)).unwrap();
    assert!(!text.contains("15100012345"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_log_extends_the_checkpoint_saved_before() {
    let dir = TempDir::new().unwrap();
    let (s, key, saved) = log_with(&dir, 13).await;
    let log = AuditLog::open(s.clone()).unwrap();
    for i in 0..9 {
        assert_eq!(
            log.append(record(&s, i)).await.unwrap().index,
            13 + i as u64
        );
    }
    log.shutdown().await.unwrap();
    assert!(matches!(
        log.append(record(&s, 0)).await,
        Err(AuditError::Closed)
    ));
    let report = verify(&s.db_path, &key, Some(&saved)).unwrap();
    assert_eq!(
        (report.entries, report.consistent_with_saved),
        (22, Some(13))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_a_burst_keeps_every_acknowledged_entry_and_verifies() {
    let dir = TempDir::new().unwrap();
    let acked = dir.path().join("acked.txt");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "audit::tests::sigkill_child_appends_until_killed",
            "--ignored",
        ])
        .env("AUDIT_SIGKILL_DIR", dir.path())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&acked).map_or(0, |t| t.lines().count()) < 300 {
        assert!(
            std::time::Instant::now() < deadline,
            "child made no progress"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let s = settings(&dir, 50, 64);
    let key = note::Signer::from_seed(&s.origin, &s.signing_seed)
        .unwrap()
        .verifier_key();
    let report = verify(&s.db_path, &key, None).unwrap();
    let text = std::fs::read_to_string(&acked).unwrap();
    let max = text
        .lines()
        .filter_map(|l| l.parse::<u64>().ok())
        .max()
        .unwrap();
    assert!(
        report.entries > max,
        "acked {max}, stored {}",
        report.entries
    );
    // The log keeps growing after a restart.
    let log = AuditLog::open(s.clone()).unwrap();
    assert_eq!(
        log.append(record(&s, 0)).await.unwrap().index,
        report.entries
    );
    log.shutdown().await.unwrap();
    verify(&s.db_path, &key, None).unwrap();
}

/// Child process of the SIGKILL test; does nothing unless started by it.
#[test]
#[ignore = "started as a child process by the SIGKILL test"]
fn sigkill_child_appends_until_killed() {
    let Some(dir) = std::env::var_os("AUDIT_SIGKILL_DIR") else {
        return;
    };
    let dir = PathBuf::from(dir);
    let s = AuditSettings {
        db_path: dir.join("audit.db"),
        ..settings(&TempDir::new().unwrap(), 50, 64)
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let out = std::fs::File::create(dir.join("acked.txt")).unwrap();
    rt.block_on(async {
        let log = AuditLog::open(s).unwrap();
        bench::run_appends(&log, u64::MAX, 32, Some(Box::new(out)))
            .await
            .unwrap();
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkpoint_is_signed_after_the_interval_even_below_the_entry_count() {
    let dir = TempDir::new().unwrap();
    let s = AuditSettings {
        checkpoint_every: Duration::from_millis(50),
        ..settings(&dir, 1000, 16)
    };
    let log = AuditLog::open(s.clone()).unwrap();
    for i in 0..3 {
        log.append(record(&s, i)).await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let report = verify(&s.db_path, log.verifier_key(), None).unwrap();
    assert_eq!(report.latest_checkpoint_size, Some(3));
    drop(log); // dropping every handle also stops the writer cleanly
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_on_the_same_file_is_refused_until_the_first_stops() {
    let dir = TempDir::new().unwrap();
    let s = settings(&dir, 10, 8);
    let first = AuditLog::open(s.clone()).unwrap();
    assert!(matches!(
        AuditLog::open(s.clone()),
        Err(AuditError::Invalid(_))
    ));
    first.shutdown().await.unwrap();
    for _ in 0..100 {
        if let Ok(second) = AuditLog::open(s.clone()) {
            second.shutdown().await.unwrap();
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("lock was not released after shutdown");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_written_behind_the_writers_back_fails_the_batch_and_stops_the_writer() {
    let dir = TempDir::new().unwrap();
    let s = settings(&dir, 10, 8);
    let log = AuditLog::open(s.clone()).unwrap();
    for i in 0..3 {
        log.append(record(&s, i)).await.unwrap();
    }
    let rogue = Connection::open(&s.db_path).unwrap();
    rogue
        .execute(
            "INSERT INTO entries VALUES (3, 'x', x'00', zeroblob(32))",
            [],
        )
        .unwrap();
    let err = log.append(record(&s, 3)).await.unwrap_err();
    assert!(matches!(err, AuditError::BatchFailed(_)), "{err}");
    // The tree can no longer be rebuilt from the stored hashes: fail closed
    // (no audit, no send) rather than extend a tree nobody can verify.
    assert!(matches!(
        log.append(record(&s, 4)).await,
        Err(AuditError::Closed)
    ));
    assert_eq!(
        verify(&s.db_path, log.verifier_key(), None)
            .unwrap_err()
            .index,
        Some(3)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_a_stored_timestamp_or_leaf_hash_names_that_index() {
    let dir = TempDir::new().unwrap();
    let (s, key, _) = log_with(&dir, 12).await;
    let c = attacker(&s.db_path);
    let ts: String = c
        .query_row("SELECT ts FROM entries WHERE idx = 7", [], |r| r.get(0))
        .unwrap();
    c.execute(
        "UPDATE entries SET ts = '2020-01-01T00:00:00.000000Z' WHERE idx = 7",
        [],
    )
    .unwrap();
    assert_eq!(verify(&s.db_path, &key, None).unwrap_err().index, Some(7));
    c.execute("UPDATE entries SET ts = ?1 WHERE idx = 7", [ts])
        .unwrap();
    verify(&s.db_path, &key, None).unwrap();
    c.execute(
        "UPDATE entries SET leaf_hash = zeroblob(32) WHERE idx = 2",
        [],
    )
    .unwrap();
    assert_eq!(verify(&s.db_path, &key, None).unwrap_err().index, Some(2));
}
