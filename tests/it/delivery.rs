//! Delivery inward: pseudonymised, ASCII-escaped, re-signed with the
//! client's secret; replays delivered once; outages survived in order.

use std::time::Duration;

use http::StatusCode;
use ring::hmac;

use crate::fake_upstream::{Behaviour, FakeUpstream, Recorded};
use crate::harness::*;
use crate::webhook::{inbound_text, inbound_text_with};

const CRM_SECRET: &str = "crm-webhook-secret";

pub async fn gateway_delivering_to(crm: &FakeUpstream) -> TestGateway {
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("crm-secret");
    write_private(&secret, CRM_SECRET);
    let gw = TestGateway::spawn_with(Options {
        client_extra_toml: format!(
            "webhook_url = \"{}/hooks/whatsapp\"\nwebhook_secret = {{ file = \"{}\" }}\n",
            crm.base_url,
            secret.display()
        ),
        ..Options::default()
    })
    .await;
    std::mem::forget(dir); // the secret file must outlive the gateway's start
    gw
}

pub async fn wait_for(crm: &FakeUpstream, n: usize) -> Vec<Recorded> {
    for _ in 0..200 {
        let got = crm.requests();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    crm.requests()
}

#[tokio::test]
async fn inbound_text_is_delivered_pseudonymised_and_re_signed() {
    let crm = FakeUpstream::start(Behaviour::Fail(StatusCode::OK, "{}"), None).await;
    let gw = gateway_delivering_to(&crm).await;
    let wamid = "wamid.HBgNNDkxNTE5OTk5OTAwMRUCABIYFDNFQjBGRkZGMDAwMDAwMDAwMDAxAA==";
    let body = inbound_text(wamid);
    assert_eq!(
        post_signed_webhook(&gw.url("/webhook"), &body).await,
        StatusCode::OK
    );

    let got = wait_for(&crm, 1).await;
    assert_eq!(got.len(), 1, "delivered once");
    let delivered = &got[0];
    assert_eq!(delivered.path_and_query, "/hooks/whatsapp");
    let signature = delivered.signature.as_deref().expect("signed");
    let tag = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, CRM_SECRET.as_bytes()),
        &delivered.body,
    );
    assert_eq!(
        signature,
        format!("sha256={}", hex(tag.as_ref())),
        "our own HMAC over the exact bytes"
    );
    assert!(delivered.body.is_ascii(), "non-ASCII is \\u-escaped");
    let text = String::from_utf8_lossy(&delivered.body);
    for secret in [
        "4915199999001",
        "Paula Probe",
        "HBgNNDkxNTE5",
        "RUCABIYFDNF",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    assert!(text.contains("\\u00f6ffnet"), "{text}");
    let v: serde_json::Value = serde_json::from_slice(&delivered.body).unwrap();
    let from = v
        .pointer("/entry/0/changes/0/value/messages/0/from")
        .and_then(|f| f.as_str())
        .unwrap();
    assert!(from.starts_with("pn_"), "{from}");

    // A reply to the pseudonym goes out to the real number.
    let (status, body) = gw.send(&text_message(from, "Samstag 9-13 Uhr")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    gw.shutdown().await;
}

#[tokio::test]
async fn a_replayed_webhook_is_delivered_once() {
    let crm = FakeUpstream::start(Behaviour::Fail(StatusCode::OK, "{}"), None).await;
    let gw = gateway_delivering_to(&crm).await;
    let body = inbound_text("wamid.REPLAYED");
    for _ in 0..3 {
        assert_eq!(
            post_signed_webhook(&gw.url("/webhook"), &body).await,
            StatusCode::OK
        );
    }
    wait_for(&crm, 1).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(crm.requests().len(), 1);
    gw.shutdown().await;
}

#[tokio::test]
async fn an_internal_system_that_answers_500_for_a_while_gets_everything_in_order() {
    let crm = FakeUpstream::start(Behaviour::FailFirst(3), None).await;
    let gw = gateway_delivering_to(&crm).await;
    for n in 0..3 {
        let body = inbound_text(&format!("wamid.ORDER{n}"));
        assert_eq!(
            post_signed_webhook(&gw.url("/webhook"), &body).await,
            StatusCode::OK
        );
    }
    let got = wait_for(&crm, 6).await;
    let ok: Vec<String> = got[3..]
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap())
        .map(|v| {
            v.pointer("/entry/0/changes/0/value/messages/0/id")
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ok.len(), 3, "all three delivered after the outage");
    let first_failed = serde_json::from_slice::<serde_json::Value>(&got[0].body).unwrap();
    assert_eq!(
        first_failed
            .pointer("/entry/0/changes/0/value/messages/0/id")
            .unwrap()
            .as_str()
            .unwrap(),
        ok[0],
        "the head was retried first"
    );
    let mut sorted = ok.clone();
    sorted.dedup();
    assert_eq!(sorted.len(), 3, "each exactly once");
    gw.shutdown().await;
}

#[tokio::test]
async fn inbound_text_goes_through_the_inbound_pii_rules() {
    let crm = FakeUpstream::start(Behaviour::Fail(StatusCode::OK, "{}"), None).await;
    let gw = gateway_delivering_to(&crm).await;
    let body = inbound_text_with(
        "wamid.PIIIN",
        "Meine IBAN: DE89 3704 0044 0532 0130 00, mein Bruder ist unter +49 171 2345678 erreichbar.",
    );
    assert_eq!(
        post_signed_webhook(&gw.url("/webhook"), &body).await,
        StatusCode::OK
    );
    let got = wait_for(&crm, 1).await;
    let v: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    let text = v
        .pointer("/entry/0/changes/0/value/messages/0/text/body")
        .unwrap()
        .as_str()
        .unwrap();
    assert!(
        !text.contains("3704 0044") && text.contains("[ENC:"),
        "IBAN kept only encrypted: {text}"
    );
    assert!(
        !text.contains("2345678") && text.contains("[PHONE_NUMBER:"),
        "third-party number pseudonymised: {text}"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn the_sandbox_reports_sent_delivered_read_and_they_match_the_send_answer() {
    let crm = FakeUpstream::start(Behaviour::Fail(StatusCode::OK, "{}"), None).await;
    let gw = gateway_delivering_to(&crm).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let (status, body) = gw
        .send(&text_message("+4915112345678", "Ihr Paket kommt heute"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let wamid = body["messages"][0]["id"].as_str().unwrap().to_owned();
    let got = wait_for(&crm, 4).await;
    let statuses: Vec<(String, String)> = got
        .iter()
        .map(|r| serde_json::from_slice::<serde_json::Value>(&r.body).unwrap())
        .filter(|v| v.pointer("/entry/0/changes/0/value/statuses/0").is_some())
        .map(|v| {
            let s = v
                .pointer("/entry/0/changes/0/value/statuses/0")
                .unwrap()
                .clone();
            (
                s["status"].as_str().unwrap().to_owned(),
                s["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        ["sent", "delivered", "read"]
    );
    assert!(
        statuses.iter().all(|(_, id)| *id == wamid),
        "the status ids match the pseudonymised send answer"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn a_sandbox_number_ending_in_0000_fails_with_131026_and_further_sends_are_refused() {
    let crm = FakeUpstream::start(Behaviour::Fail(StatusCode::OK, "{}"), None).await;
    let gw = gateway_delivering_to(&crm).await;
    let now = jiff::Timestamp::now().as_second();
    gw.customer_writes_at("4915112340000", "Hallo", now - 60)
        .await;
    let (status, _) = gw
        .send(&text_message("+4915112340000", "Hallo zurück"))
        .await;
    assert_eq!(status, StatusCode::OK);
    // Inbound message, then `sent` and `failed` reach the CRM.
    let got = wait_for(&crm, 3).await;
    let failed = got
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .find(|b| b.contains("\"failed\""))
        .expect("a failed status");
    assert!(failed.contains("131026"), "{failed}");
    let (status, body) = gw.send(&text_message("+4915112340000", "Noch da?")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(assert_cloud_error(&body).0, 131026);
    gw.shutdown().await;
}
