//! The binary: `init`, and `serve` as a process whose logs hold no personal data.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use http::StatusCode;

use crate::harness::*;

const BIN: &str = env!("CARGO_BIN_EXE_schleuse");

#[test]
fn init_prints_the_number_id_and_the_token_last_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("gw");
    let out = Command::new(BIN)
        .args(["init", "--dir"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("phone_number_id: ")));
    let token = lines.last().unwrap().strip_prefix("token: ").unwrap();
    let config = std::fs::read_to_string(target.join("schleuse.toml")).unwrap();
    assert!(!config.contains(token));
    let again = Command::new(BIN)
        .args(["init", "--dir"])
        .arg(&target)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("refusing to overwrite"));
}

#[test]
fn config_with_a_typo_fails_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_data_dir(dir.path(), &Options::default());
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[server]\n", "[server]\nmax_body_byte = 5\n");
    std::fs::write(&path, text).unwrap();
    let out = Command::new(BIN)
        .args(["check-config", "--config"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("max_body_byte"));
}

#[tokio::test]
async fn serve_logs_never_contain_numbers_text_or_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_data_dir(dir.path(), &Options::default());
    let mut child = Command::new(BIN)
        .args(["serve", "--config"])
        .arg(&path)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .expect("listen line")
        .to_owned();
    let url = format!("http://{addr}/v24.0/{PHONE_NUMBER_ID}/messages");
    // The customer writes first (opens the service window).
    let now = jiff::Timestamp::now().as_second();
    let inbound = inbound_message("4915198765432", "wamid.CLITEST", "Hallo", now);
    let status = post_signed_webhook(&format!("http://{addr}/webhook"), &inbound).await;
    assert_eq!(status, StatusCode::OK);
    wait_until_processed(&dir.path().join("data/webhooks.db")).await;
    let body = text_message("+49 151 98765432", "Meine IBAN ist geheim")
        .to_string()
        .into_bytes();
    let (status, _, _) = post(&url, Some(CLIENT_TOKEN), body).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _, _) = post(&url, Some("slt_bad-token-value"), b"{}".to_vec()).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "SIGTERM shuts down cleanly");
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(logs.contains("\"status\":200"), "{logs}");
    for secret in [
        "98765432",
        "IBAN ist geheim",
        CLIENT_TOKEN,
        "bad-token-value",
        META_TOKEN,
        "wamid.",
    ] {
        assert!(!logs.contains(secret), "logs leak {secret}: {logs}");
    }
}
