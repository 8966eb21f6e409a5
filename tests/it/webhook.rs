//! Meta's webhook callback: handshake, signature over raw bytes, durable
//! storage before the 200, and rejected calls changing nothing.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use http::StatusCode;
use schleuse::webhook::{read_batches, sign};

use crate::fake_upstream::{Behaviour, FakeUpstream};
use crate::harness::*;

const PSEUDONYM_KEY: [u8; 32] = {
    let mut k = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        k[i] = i as u8;
        i += 1;
    }
    k
};

/// An inbound text as Meta sends it: ASCII-escaped JSON.
pub fn inbound_text(wamid: &str) -> Vec<u8> {
    inbound_text_with(wamid, "Wann \\u00f6ffnet die Filiale?")
}

/// An inbound text with the given (already JSON-escaped) body.
pub fn inbound_text_with(wamid: &str, body: &str) -> Vec<u8> {
    let now = jiff::Timestamp::now().as_second();
    format!(
        r#"{{"object":"whatsapp_business_account","entry":[{{"id":"300000000000001","changes":[{{"field":"messages","value":{{"messaging_product":"whatsapp","metadata":{{"display_phone_number":"493012345670","phone_number_id":"{PHONE_NUMBER_ID}"}},"contacts":[{{"profile":{{"name":"Paula Probe"}},"wa_id":"4915199999001"}}],"messages":[{{"from":"4915199999001","id":"{wamid}","timestamp":"{now}","type":"text","text":{{"body":"{body}"}}}}]}}}}]}}]}}"#
    )
    .into_bytes()
}

#[tokio::test]
async fn handshake_echoes_the_challenge_and_refuses_a_wrong_token() {
    let gw = TestGateway::spawn().await;
    let (status, body) = get(&gw.url(
        "/webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=test-verify-token",
    ))
    .await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "1158201444"));
    let (status, _) =
        get(&gw.url("/webhook?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guess"))
            .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    gw.shutdown().await;
}

#[tokio::test]
async fn signed_batch_is_stored_exactly_before_the_200() {
    let gw = TestGateway::spawn().await;
    let body = inbound_text("wamid.HBgNNDkxNTE5OTk5OTAwMRUCABIYFDNFQjBGRkZGMDAwMDAwMDAwMDAxAA==");
    let status = post_signed_webhook(&gw.url("/webhook"), &body).await;
    assert_eq!(status, StatusCode::OK);
    let db = gw.audit_db().with_file_name("webhooks.db");
    let stored = read_batches(&db, &PSEUDONYM_KEY, 0).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].body, body, "the exact signed bytes are kept");
    let raw = std::fs::read(&db).unwrap_or_default();
    let wal = std::fs::read(format!("{}-wal", db.display())).unwrap_or_default();
    for bytes in [raw, wal] {
        assert!(
            !String::from_utf8_lossy(&bytes).contains("4915199999001"),
            "stored encrypted"
        );
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn forged_missing_and_stale_signatures_are_401_and_store_nothing() {
    let gw = TestGateway::spawn().await;
    let body = inbound_text("wamid.FORGED");
    let url = gw.url("/webhook");
    assert_eq!(
        post_webhook(&url, body.clone(), None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_webhook(&url, body.clone(), Some(sign(b"old-app-secret", &body))).await,
        StatusCode::UNAUTHORIZED
    );
    let mut tampered = body.clone();
    tampered.extend(b" ");
    assert_eq!(
        post_webhook(&url, tampered, Some(sign(APP_SECRET, &body))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post_webhook(&url, body, Some("sha256=nothex".into())).await,
        StatusCode::UNAUTHORIZED
    );
    let db = gw.audit_db().with_file_name("webhooks.db");
    assert!(read_batches(&db, &PSEUDONYM_KEY, 0).unwrap().is_empty());
    let config = gw.config_path.clone();
    let dir = gw.stop().await;
    let out = Command::new(env!("CARGO_BIN_EXE_schleuse"))
        .args(["audit", "export", "--kind", "webhook_rejected", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).lines().count(),
        4,
        "each rejection is an audit entry"
    );
    drop(dir);
}

#[tokio::test]
async fn a_batch_acknowledged_just_before_sigkill_is_delivered_after_restart() {
    // The internal system is unreachable until after the crash, so only the
    // restarted gateway can deliver the batch.
    let crm_addr = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        probe.local_addr().unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    write_private(&dir.path().join("crm-secret"), "crm-secret");
    let config = write_data_dir(
        dir.path(),
        &Options {
            client_extra_toml: format!(
                "webhook_url = \"http://{crm_addr}/hooks\"\nwebhook_secret = {{ file = \"crm-secret\" }}\n"
            ),
            ..Options::default()
        },
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_schleuse"))
        .args(["serve", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap()
        .to_owned();
    let body = inbound_text("wamid.KILLTEST");
    let status = post_signed_webhook(&format!("http://{addr}/webhook"), &body).await;
    assert_eq!(status, StatusCode::OK);
    child.kill().unwrap();
    child.wait().unwrap();
    let stored = read_batches(&dir.path().join("data/webhooks.db"), &PSEUDONYM_KEY, 0).unwrap();
    assert_eq!(stored.len(), 1, "acknowledged means stored");
    assert_eq!(stored[0].body, body);

    let crm = FakeUpstream::start_on(
        &crm_addr.to_string(),
        Behaviour::Fail(StatusCode::OK, "{}"),
        None,
    )
    .await;
    let restarted =
        schleuse::app::start(&schleuse::config::Config::load(&config, &|_| None).unwrap())
            .await
            .unwrap();
    let mut delivered = Vec::new();
    for _ in 0..200 {
        delivered = crm.requests();
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    restarted.shutdown().await;
    assert_eq!(delivered.len(), 1, "delivered inward after the restart");
    assert!(String::from_utf8_lossy(&delivered[0].body).contains("wamid.ps_"));
}
