//! Outbound sends are transformed according to `policies/default.toml`,
//! end to end: what reaches Meta, what the client hears, what is audited.

use std::process::Command;

use http::StatusCode;
use serde_json::{Value, json};

use crate::fake_upstream::{Behaviour, FakeUpstream};
use crate::harness::*;

async fn gateway_to(fake: &FakeUpstream) -> TestGateway {
    TestGateway::spawn_with(Options::upstream_at(&fake.base_url)).await
}

fn decisions(config: &std::path::Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_schleuse"))
        .args(["audit", "export", "--kind", "message_decision", "--config"])
        .arg(config)
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn iban_is_masked_names_kept_and_the_audit_counts_what_was_done() {
    let fake = FakeUpstream::start(Behaviour::Accept, None).await;
    let gw = gateway_to(&fake).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let text = "Bitte überweisen Sie auf DE89 3704 0044 0532 0130 00, danke Frau Müller.";
    let (status, body) = gw.send(&text_message("+4915112345678", text)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let forwarded: Value = serde_json::from_slice(&fake.requests()[0].body).unwrap();
    let sent = forwarded["text"]["body"].as_str().unwrap();
    assert!(!sent.contains("3704 0044 0532"), "{sent}");
    assert!(
        sent.contains("30 00") || sent.ends_with("Müller."),
        "{sent}"
    );
    assert!(
        sent.contains("Frau Müller"),
        "names are kept by the default policy: {sent}"
    );

    let config = gw.config_path.clone();
    let dir = gw.stop().await;
    let d = decisions(&config);
    assert_eq!(d[0]["decision"], "modify");
    let pii = d[0]["pii"].as_array().unwrap();
    assert!(
        pii.contains(&json!({"label":"IBAN_CODE","action":"mask:4","count":1})),
        "{pii:?}"
    );
    assert!(
        pii.contains(&json!({"label":"PERSON","action":"keep","count":1})),
        "{pii:?}"
    );
    drop(dir);
}

#[tokio::test]
async fn health_data_is_refused_naming_the_category_never_the_value() {
    let fake = FakeUpstream::start(Behaviour::Accept, None).await;
    let gw = gateway_to(&fake).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let msg = text_message(
        "+4915112345678",
        "Ihr Befund: Diabetes mellitus Typ 2, bitte Metformin weiter einnehmen.",
    );
    let (status, body) = gw.send(&msg).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (code, details) = assert_cloud_error(&body);
    assert_eq!(code, 10);
    assert!(
        details.contains("pii.blocked") && details.contains("HEALTH_INFO"),
        "{details}"
    );
    assert!(!body.to_string().contains("Diabetes"));
    assert!(fake.requests().is_empty(), "nothing reaches Meta");

    let config = gw.config_path.clone();
    let dir = gw.stop().await;
    let d = decisions(&config);
    assert_eq!(d[0]["decision"], "deny");
    assert_eq!(d[0]["rule_ids"], json!(["pii.blocked"]));
    assert_eq!(
        d[0]["pii"],
        json!([{"label":"HEALTH_INFO","action":"block","count":1}])
    );
    drop(dir);
}
