//! The audit log in the send path: every decision recorded before
//! forwarding, no plaintext numbers, and no audit → no send.

use std::path::Path;
use std::process::Command;

use http::StatusCode;
use serde_json::{Value, json};

use crate::fake_upstream::{Behaviour, FakeUpstream};
use crate::harness::*;

const BIN: &str = env!("CARGO_BIN_EXE_schleuse");

fn audit_cli(config: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .arg("audit")
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn entries(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test]
async fn every_decision_is_recorded_without_plaintext_and_the_log_verifies() {
    let gw = TestGateway::spawn().await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let config = gw.config_path.clone();
    let (status, _) = gw
        .send(&text_message("+49 151 12345678", "Hallo Paula, Ihr Termin"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let mut group = text_message("120363000000000001", "Hallo zusammen");
    group["recipient_type"] = json!("group");
    assert_eq!(gw.send(&group).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        gw.send(&text_message("0151 12345678", "x")).await.0,
        StatusCode::BAD_REQUEST
    );
    let db = gw.audit_db();
    let dir = gw.stop().await;

    let (ok, text) = audit_cli(&config, &["verify"]);
    assert!(ok, "{text}");

    let (ok, text) = audit_cli(&config, &["export"]);
    assert!(ok, "{text}");
    let all = entries(&text);
    let kinds: Vec<&str> = all.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.first(), Some(&"gateway_started"));
    assert!(kinds.contains(&"policy_loaded"));
    assert_eq!(kinds.last(), Some(&"gateway_stopped"));
    let decisions: Vec<(&str, Vec<&str>)> = all
        .iter()
        .filter(|e| e["kind"] == "message_decision")
        .map(|e| {
            (
                e["decision"].as_str().unwrap(),
                e["rule_ids"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(decisions.len(), 3, "{decisions:?}");
    assert_eq!(decisions[0].0, "allow");
    assert_eq!(decisions[1], ("deny", vec!["groups.no_customer_groups"]));
    assert_eq!(
        decisions[2],
        ("deny", vec!["message.to_missing_country_code"])
    );
    let allow = all.iter().find(|e| e["decision"] == "allow").unwrap();
    assert!(
        allow["content_digest"]
            .as_str()
            .is_some_and(|d| d.len() == 64)
    );
    assert!(
        allow["policy"]["sha256"]
            .as_str()
            .is_some_and(|d| d.len() == 64)
    );

    let (ok, text) = audit_cli(&config, &["export", "--subject", "+4915112345678"]);
    assert!(ok, "{text}");
    let mine: Vec<String> = entries(&text)
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        mine,
        ["message_received", "message_decision", "upstream_result"],
        "found by pseudonymising the number: the customer's message, the reply"
    );

    for suffix in ["", "-wal"] {
        let path = format!("{}{suffix}", db.display());
        if let Ok(bytes) = std::fs::read(&path) {
            let haystack = String::from_utf8_lossy(&bytes);
            for secret in [
                "4915112345678",
                "Hallo Paula",
                "wamid.",
                "120363000000000001",
            ] {
                assert!(
                    !haystack.contains(secret),
                    "{path} holds {secret} in plaintext"
                );
            }
        }
    }
    drop(dir);
}

#[tokio::test]
async fn without_an_audit_record_nothing_is_sent() {
    let fake = FakeUpstream::start(Behaviour::Accept, None).await;
    let gw = TestGateway::spawn_with(Options::upstream_at(&fake.base_url)).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    // Someone with file access makes every append fail.
    let conn = rusqlite::Connection::open(gw.audit_db()).unwrap();
    conn.execute_batch("CREATE TRIGGER block_appends BEFORE INSERT ON entries BEGIN SELECT RAISE(ABORT, 'blocked'); END;").unwrap();
    let (status, body) = gw
        .send(&text_message("+4915112345678", "must not leave"))
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (code, details) = assert_cloud_error(&body);
    assert_eq!(code, 131016);
    assert!(details.contains("audit.unavailable"), "{details}");
    assert!(fake.requests().is_empty(), "nothing may reach the upstream");

    // Once appends work again, sending resumes and the log still verifies.
    conn.execute_batch("DROP TRIGGER block_appends;").unwrap();
    let (status, body) = gw.send(&text_message("+4915112345678", "now it may")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(fake.requests().len(), 1);
    let config = gw.config_path.clone();
    let dir = gw.stop().await;
    let (ok, text) = audit_cli(&config, &["verify"]);
    assert!(ok, "{text}");
    drop(dir);
}

#[test]
fn sigkill_during_a_burst_keeps_every_acknowledged_entry_and_a_valid_log() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_data_dir(dir.path(), &Options::default());
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let acked = dir.path().join("acked.txt");
    let mut child = Command::new(BIN)
        .args([
            "audit",
            "bench",
            "--entries",
            "2000000",
            "--writers",
            "64",
            "--acked",
        ])
        .arg(&acked)
        .arg("--config")
        .arg(&config)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until a good number of appends were acknowledged, then kill -9.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let n = std::fs::read_to_string(&acked)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if n >= 5000 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();

    let acknowledged: Vec<u64> = std::fs::read_to_string(&acked)
        .unwrap()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert!(acknowledged.len() >= 5000, "the burst did not get going");
    let (ok, text) = audit_cli(&config, &["verify"]);
    assert!(ok, "{text}");
    let (ok, text) = audit_cli(&config, &["export"]);
    assert!(ok);
    let stored: std::collections::HashSet<u64> = entries(&text)
        .iter()
        .filter_map(|e| e["index"].as_u64())
        .collect();
    let missing: Vec<&u64> = acknowledged
        .iter()
        .filter(|i| !stored.contains(i))
        .collect();
    assert!(
        missing.is_empty(),
        "acknowledged but lost: {:?}",
        &missing[..missing.len().min(10)]
    );
}
