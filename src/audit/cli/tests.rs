#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use tempfile::TempDir;

use super::*;
use crate::audit::{Decision, Direction, Record};
use crate::pseudonym::PseudonymKey;

const PHONE: &str = "+4915100054321";

fn settings(dir: &TempDir) -> AuditSettings {
    AuditSettings {
        db_path: dir.path().join("audit.db"),
        signing_seed: [5u8; 32],
        pseudonym_key: PseudonymKey::new(&[6u8; 32]),
        origin: "schleuse.example/audit".into(),
        checkpoint_every_entries: 4,
        checkpoint_every: Duration::from_secs(3600),
        queue_capacity: 32,
    }
}

async fn filled(dir: &TempDir) -> AuditSettings {
    let s = settings(dir);
    let log = AuditLog::open(s.clone()).unwrap();
    for i in 0..11 {
        log.append(bench::sample_record(&s.pseudonym_key, i))
            .await
            .unwrap();
    }
    let subject = s.pseudonym_key.subject(PHONE);
    let rec = Record::message_decision("client:crm", Direction::Inbound, subject, Decision::Deny);
    log.append(rec).await.unwrap();
    log.shutdown().await.unwrap();
    s
}

fn resolve(s: &AuditSettings) -> impl Fn(&str) -> Result<SubjectId, String> + '_ {
    |phone| Ok(s.pseudonym_key.subject(phone))
}

fn call(s: &AuditSettings, cmd: AuditCommand) -> (ExitCode, String) {
    let mut out = Vec::new();
    let code = run(cmd, s.clone(), &mut out, &resolve(s)).unwrap();
    (code, String::from_utf8(out).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_exits_zero_then_names_the_first_bad_entry_after_tampering() {
    let dir = TempDir::new().unwrap();
    let s = filled(&dir).await;
    let (code, text) = call(
        &s,
        AuditCommand::Verify {
            checkpoint: None,
            key: None,
        },
    );
    assert_eq!(code, ExitCode::SUCCESS, "{text}");
    let c = rusqlite::Connection::open(&s.db_path).unwrap();
    c.execute_batch(
        "DROP TRIGGER entries_no_update; UPDATE entries SET body = body || ' ' WHERE idx = 3",
    )
    .unwrap();
    let (code, text) = call(
        &s,
        AuditCommand::Verify {
            checkpoint: None,
            key: None,
        },
    );
    assert_eq!(code, ExitCode::FAILURE);
    assert!(text.contains("first bad entry 3"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_proof_verifies_against_the_printed_checkpoint_and_a_changed_one_does_not() {
    let dir = TempDir::new().unwrap();
    let s = filled(&dir).await;
    let (_, checkpoint) = call(&s, AuditCommand::Checkpoint);
    let (_, proof) = call(&s, AuditCommand::Proof { index: 5 });
    let (cp_file, proof_file) = (dir.path().join("cp.txt"), dir.path().join("proof.txt"));
    fs::write(&cp_file, &checkpoint).unwrap();
    fs::write(&proof_file, &proof).unwrap();
    let cmd = AuditCommand::VerifyProof {
        checkpoint: cp_file.clone(),
        proof: proof_file.clone(),
        key: None,
    };
    let (code, text) = call(&s, cmd.clone());
    assert_eq!(code, ExitCode::SUCCESS, "{text}");
    python_script_agrees(&dir, &cp_file, &proof_file, true);

    let other = proof.replacen("leaf_index=5", "leaf_index=6", 1);
    fs::write(&proof_file, other).unwrap();
    assert_eq!(call(&s, cmd).0, ExitCode::FAILURE);
    python_script_agrees(&dir, &cp_file, &proof_file, false);
}

/// Runs the script from `docs/audit-log.md` if python3 is installed.
fn python_script_agrees(dir: &TempDir, cp: &Path, proof: &Path, expect_ok: bool) {
    let doc =
        fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/audit-log.md")).unwrap();
    let start = doc.find("```python\n").unwrap() + "```python\n".len();
    let script = &doc[start..start + doc[start..].find("```").unwrap()];
    assert!(
        script.lines().count() <= 20,
        "the documented script must stay short"
    );
    let path = dir.path().join("check_proof.py");
    fs::write(&path, script).unwrap();
    let Ok(out) = std::process::Command::new("python3")
        .arg(&path)
        .arg(proof)
        .arg(cp)
        .output()
    else {
        return; // no python3 here
    };
    assert_eq!(
        out.status.success(),
        expect_ok,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_finds_one_persons_entries_by_phone_number() {
    let dir = TempDir::new().unwrap();
    let s = filled(&dir).await;
    let export = |format, kind| AuditCommand::Export {
        from: None,
        to: None,
        kind,
        subject: Some(PHONE.into()),
        format,
    };
    let (_, jsonl) = call(&s, export(ExportFormat::Jsonl, None));
    assert_eq!(jsonl.lines().count(), 1, "{jsonl}");
    assert!(jsonl.contains("\"index\":11") && !jsonl.contains("54321"));
    let (_, csv) = call(&s, export(ExportFormat::Csv, Some(Kind::MessageDecision)));
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().starts_with("11,"));
    let (_, none) = call(&s, export(ExportFormat::Jsonl, Some(Kind::Erasure)));
    assert!(none.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_key_matches_the_log_and_parses() {
    let dir = TempDir::new().unwrap();
    let s = settings(&dir);
    let log = AuditLog::open(s.clone()).unwrap();
    let (_, text) = call(&s, AuditCommand::PublicKey);
    assert_eq!(text.trim(), log.public_key_note());
    assert!(text.starts_with("schleuse.example/audit+"));
    VerifierKey::parse(&text).unwrap();
    log.shutdown().await.unwrap();
}

#[test]
fn bench_appends_and_records_every_acknowledged_index() {
    let dir = TempDir::new().unwrap();
    let s = settings(&dir);
    let acked = dir.path().join("acked.txt");
    let cmd = AuditCommand::Bench {
        entries: 300,
        writers: 16,
        acked: Some(acked.clone()),
    };
    let (code, text) = call(&s, cmd);
    assert_eq!(code, ExitCode::SUCCESS);
    assert!(text.contains("appends/s"), "{text}");
    let mut idx: Vec<u64> = fs::read_to_string(acked)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    idx.sort_unstable();
    assert_eq!(idx, (0..300).collect::<Vec<_>>());
}
