//! Egress: token substitution, TLS to the upstream, upstream failures.

use std::time::Duration;

use http::StatusCode;
use schleuse::config::TlsConfig;
use serde_json::Value;
use tokio_rustls::TlsAcceptor;

use crate::fake_upstream::{Behaviour, FakeUpstream};
use crate::harness::*;
use crate::pki::TestPki;

async fn gateway_to(
    base_url: &str,
    ca_file: Option<std::path::PathBuf>,
    request_timeout_ms: u64,
) -> TestGateway {
    TestGateway::spawn_with(Options {
        upstream: UpstreamSetup::Http {
            base_url: base_url.to_owned(),
            ca_file,
            request_timeout_ms,
        },
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn gateway_substitutes_metas_token_and_forwards_the_normalised_body() {
    let fake = FakeUpstream::start(Behaviour::Accept, None).await;
    let gw = gateway_to(&fake.base_url, None, 5000).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let url = format!(
        "{}?access_token={CLIENT_TOKEN}",
        gw.url(&format!("/v21.0/{PHONE_NUMBER_ID}/messages"))
    );
    let (status, _, body) = post(
        &url,
        None,
        text_message("0049 151 1234 5678", "Hallo")
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let wamid = body["messages"][0]["id"].as_str().unwrap();
    assert!(
        wamid.starts_with("wamid.ps_"),
        "pseudonym-mode clients get the pseudonymised wamid: {body}"
    );
    assert!(
        body["contacts"][0]["wa_id"]
            .as_str()
            .unwrap()
            .starts_with("pn_"),
        "{body}"
    );
    assert!(!body.to_string().contains("4915112345678"), "{body}");
    let seen = fake.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some(format!("Bearer {META_TOKEN}").as_str())
    );
    assert_eq!(
        seen[0].path_and_query,
        format!("/v21.0/{PHONE_NUMBER_ID}/messages"),
        "no client token in the query"
    );
    let forwarded: Value = serde_json::from_slice(&seen[0].body).unwrap();
    assert_eq!(forwarded["to"], "+4915112345678");
    assert!(!String::from_utf8_lossy(&seen[0].body).contains(CLIENT_TOKEN));
    gw.shutdown().await;
}

#[tokio::test]
async fn upstream_over_tls_with_an_extra_ca_works() {
    let pki = TestPki::generate();
    let dir = tempfile::tempdir().unwrap();
    let files = pki.write(dir.path());
    let tls = schleuse::ingress::server_config(&TlsConfig {
        cert_file: files.server_cert.clone(),
        key_file: files.server_key.clone(),
        client_ca_file: None,
    })
    .unwrap();
    let fake = FakeUpstream::start(Behaviour::Accept, Some(TlsAcceptor::from(tls))).await;
    let base = fake.base_url.replace("127.0.0.1", "localhost");
    let gw = gateway_to(&base, Some(files.ca.clone()), 5000).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let (status, body) = gw.send(&text_message("+4915112345678", "tls")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        fake.requests()[0].authorization.as_deref(),
        Some(format!("Bearer {META_TOKEN}").as_str())
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn upstream_timeout_is_504_and_says_the_outcome_is_unknown() {
    let fake = FakeUpstream::start(Behaviour::Delay(Duration::from_secs(5)), None).await;
    let gw = gateway_to(&fake.base_url, None, 300).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let (status, body) = gw.send(&text_message("+4915112345678", "slow")).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    let (code, details) = assert_cloud_error(&body);
    assert_eq!(code, 131000);
    assert!(details.contains("egress.upstream_timeout"), "{details}");
    assert_eq!(fake.requests().len(), 1, "a send is never retried");
    gw.shutdown().await;
}

#[tokio::test]
async fn upstream_5xx_is_502_in_cloud_api_shape() {
    let fake = FakeUpstream::start(
        Behaviour::Fail(StatusCode::SERVICE_UNAVAILABLE, "<html>busy</html>"),
        None,
    )
    .await;
    let gw = gateway_to(&fake.base_url, None, 5000).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let (status, body) = gw.send(&text_message("+4915112345678", "x")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let (code, details) = assert_cloud_error(&body);
    assert_eq!(code, 131000);
    assert!(details.contains("egress.upstream_server_error"));
    assert_eq!(fake.requests().len(), 1, "a send is never retried");
    gw.shutdown().await;
}

#[tokio::test]
async fn upstream_5xx_keeps_metas_error_code() {
    let meta = r#"{"error":{"message":"(#131016) Service unavailable","type":"OAuthException","code":131016,"fbtrace_id":"X"}}"#;
    let fake =
        FakeUpstream::start(Behaviour::Fail(StatusCode::SERVICE_UNAVAILABLE, meta), None).await;
    let gw = gateway_to(&fake.base_url, None, 5000).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let (status, body) = gw.send(&text_message("+4915112345678", "x")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    assert_eq!(assert_cloud_error(&body).0, 131016);
    gw.shutdown().await;
}

#[tokio::test]
async fn upstream_4xx_passes_through_unchanged() {
    let meta = r#"{"error":{"message":"(#131026) Message undeliverable","type":"OAuthException","code":131026,"fbtrace_id":"Meta1"}}"#;
    let fake = FakeUpstream::start(Behaviour::Fail(StatusCode::BAD_REQUEST, meta), None).await;
    let gw = gateway_to(&fake.base_url, None, 5000).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let (status, body) = gw.send(&text_message("+4915112345678", "x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body, serde_json::from_str::<Value>(meta).unwrap());
    gw.shutdown().await;
}

#[tokio::test]
async fn unreachable_upstream_is_502_and_not_sent() {
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let gw = gateway_to(&url, None, 5000).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let (status, body) = gw.send(&text_message("+4915112345678", "x")).await;
    assert_eq!(status, StatusCode::BAD_GATEWAY);
    let (code, details) = assert_cloud_error(&body);
    assert_eq!(code, 131016);
    assert!(details.contains("egress.upstream_unreachable"));
    gw.shutdown().await;
}

#[tokio::test]
async fn plain_mode_clients_get_metas_answer_unchanged() {
    let fake = FakeUpstream::start(Behaviour::Accept, None).await;
    let gw = TestGateway::spawn_with(Options {
        client_extra_toml: "identity_mode = \"plain\"\n".into(),
        ..Options::upstream_at(&fake.base_url)
    })
    .await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let (status, body) = gw.send(&text_message("+4915112345678", "x")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["messages"][0]["id"], "wamid.FAKE");
    assert_eq!(body["contacts"][0]["wa_id"], "4915112345678");
    gw.shutdown().await;
}

/// A client that hangs up while Meta is still answering does not cancel the
/// request half-way: the send is still recorded (the next one within the
/// pair interval is refused) and its `upstream_result` is in the audit log.
#[tokio::test]
async fn a_client_hanging_up_mid_send_leaves_the_records_complete() {
    let fake = FakeUpstream::start(Behaviour::Delay(Duration::from_millis(800)), None).await;
    let gw = gateway_to(&fake.base_url, None, 5000).await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        gw.send(&text_message("+4915112345678", "first")),
    )
    .await;
    assert!(gave_up.is_err(), "the client hung up before the answer");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(fake.requests().len(), 1);

    let (status, body) = gw.send(&text_message("+4915112345678", "second")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(assert_cloud_error(&body).1.contains("rate.pair"), "{body}");

    let config = gw.config_path.clone();
    let dir = gw.stop().await;
    let results = audit_export(&config, &["--kind", "upstream_result"]);
    assert_eq!(results.len(), 1, "{results:?}");
    assert_eq!(results[0]["upstream"]["status"], 200);
    drop(dir);
}
