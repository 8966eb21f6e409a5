//! The send path: auth, every message type, validation errors.

use http::StatusCode;
use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn missing_token_is_401_in_cloud_api_shape() {
    let gw = TestGateway::spawn().await;
    let (status, _, body) = post(
        &gw.messages_url(),
        None,
        text_message("+4915112345678", "hi")
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (code, details) = assert_cloud_error(&body);
    assert_eq!(code, 190);
    assert!(details.contains("ingress.auth.token_missing"));
    gw.shutdown().await;
}

#[tokio::test]
async fn wrong_token_is_401() {
    let gw = TestGateway::spawn().await;
    let (status, _, body) = post(
        &gw.messages_url(),
        Some("slt_wrong"),
        text_message("+4915112345678", "hi")
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        assert_cloud_error(&body)
            .1
            .contains("ingress.auth.token_unknown")
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn phone_number_id_not_granted_to_the_client_is_403() {
    let gw = TestGateway::spawn().await;
    let url = gw.url(&format!("/v24.0/{OTHER_PHONE_NUMBER_ID}/messages"));
    let (status, _, body) = post(
        &url,
        Some(CLIENT_TOKEN),
        text_message("+4915112345678", "hi")
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (code, details) = assert_cloud_error(&body);
    assert_eq!(code, 10);
    assert!(details.contains("ingress.auth.phone_number_not_allowed"));
    gw.shutdown().await;
}

#[tokio::test]
async fn token_in_access_token_query_is_accepted() {
    let gw = TestGateway::spawn().await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let url = format!("{}?access_token={CLIENT_TOKEN}", gw.messages_url());
    let (status, _, body) = post(
        &url,
        None,
        text_message("+4915112345678", "hi")
            .to_string()
            .into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    gw.shutdown().await;
}

#[tokio::test]
async fn every_message_type_is_accepted_through_the_sandbox() {
    // Eleven messages to one person in a row: Meta's pair limit (one per
    // 6 s, enforced locally by `rate.pair`) is lowered for this test.
    let policy = schleuse::init::DEFAULT_POLICY.replace(
        "pair_min_interval_seconds = 6",
        "pair_min_interval_seconds = 0",
    );
    let gw = TestGateway::spawn_with(Options {
        policy,
        ..Options::default()
    })
    .await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let to = "+4915112345678";
    let bodies = [
        ("text", json!({"body":"Ihre Bestellung ist unterwegs."})),
        (
            "template",
            json!({"name":"order_update","language":{"code":"de"},"components":[{"type":"body","parameters":[{"type":"text","text":"Max"}]}]}),
        ),
        (
            "image",
            json!({"id":"1330000000000099","caption":"Etikett"}),
        ),
        ("audio", json!({"id":"1330000000000098"})),
        ("video", json!({"link":"https://cdn.example.com/v.mp4"})),
        (
            "document",
            json!({"link":"https://crm.example.com/i.pdf","filename":"Rechnung.pdf"}),
        ),
        ("sticker", json!({"id":"1330000000000097"})),
        (
            "location",
            json!({"latitude":52.52,"longitude":13.405,"name":"Filiale"}),
        ),
        (
            "contacts",
            json!([{"name":{"formatted_name":"Hotline"},"phones":[{"phone":"+49 30 1234567"}]}]),
        ),
        (
            "interactive",
            json!({"type":"button","body":{"text":"Passt 9:00?"},"action":{"buttons":[{"type":"reply","reply":{"id":"ok","title":"Ja"}}]}}),
        ),
        (
            "reaction",
            json!({"message_id":"wamid.HBgLMTIz","emoji":"\u{1f44d}"}),
        ),
    ];
    for (kind, object) in bodies {
        let mut msg = json!({"messaging_product":"whatsapp","to":to,"type":kind});
        msg[kind] = object;
        let (status, body) = gw.send(&msg).await;
        assert_eq!(status, StatusCode::OK, "{kind}: {body}");
        assert!(
            body["messages"][0]["id"]
                .as_str()
                .unwrap()
                .starts_with("wamid."),
            "{kind}: {body}"
        );
    }
    let (status, body) = gw
        .send(
            &json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.HBgLMTIz"}),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    gw.shutdown().await;
}

#[tokio::test]
async fn marketing_messages_endpoint_accepts_templates() {
    let gw = TestGateway::spawn().await;
    gw.customer_writes("4915112345678", "Hallo").await;
    let url = gw.url(&format!("/v23.0/{PHONE_NUMBER_ID}/marketing_messages"));
    let msg = json!({"messaging_product":"whatsapp","to":"+4915112345678","type":"template","template":{"name":"order_update","language":{"code":"de"}}});
    let (status, _, body) = post(&url, Some(CLIENT_TOKEN), msg.to_string().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["messages"][0]["message_status"], "accepted");
    gw.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_are_400_with_clear_messages() {
    let gw = TestGateway::spawn().await;
    let cases: [(&[u8], &str); 4] = [
        (b"{not json", "message.json_invalid"),
        (b"{\"messaging_product\":\"whatsapp\",\"to\":\"\xff\"}", "message.json_invalid"),
        (br#"{"messaging_product":"whatsapp","to":"+4915112345678","type":"text","text":{"body":42}}"#, "message.shape_invalid"),
        (br#"{"messaging_product":"whatsapp","to":"+4915112345678","type":"hologram"}"#, "message.type_unsupported"),
    ];
    for (body, rule) in cases {
        let (status, _, json) = post(&gw.messages_url(), Some(CLIENT_TOKEN), body.to_vec()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{rule}");
        let (code, details) = assert_cloud_error(&json);
        assert_eq!(code, 100, "{rule}");
        assert!(details.contains(rule), "{details}");
    }
    gw.shutdown().await;
}

#[tokio::test]
async fn number_without_country_code_is_400_and_not_echoed() {
    let gw = TestGateway::spawn().await;
    let (status, body) = gw.send(&text_message("0151 2345 6789", "hi")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (code, details) = assert_cloud_error(&body);
    assert_eq!(code, 131009);
    assert!(
        details.contains("message.to_missing_country_code"),
        "{details}"
    );
    assert!(
        !body.to_string().contains("2345"),
        "the number must not be echoed"
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn group_sends_are_refused_by_the_default_policy() {
    let gw = TestGateway::spawn().await;
    let mut msg = text_message("120363000000000001", "Hallo zusammen");
    msg["recipient_type"] = json!("group");
    let (status, body) = gw.send(&msg).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        assert_cloud_error(&body)
            .1
            .contains("groups.no_customer_groups")
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn unknown_paths_and_methods_get_cloud_api_errors() {
    let gw = TestGateway::spawn().await;
    let (status, _, body) = post(
        &gw.url("/v24.0/123/media"),
        Some(CLIENT_TOKEN),
        b"{}".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_cloud_error(&body);
    let (status, _) = get(&gw.messages_url()).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    gw.shutdown().await;
}
