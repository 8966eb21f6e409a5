#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use super::*;

fn parse(v: Value) -> Result<SendRequest, ApiError> {
    SendRequest::parse(v.to_string().as_bytes(), Endpoint::Messages)
}

fn with(kind: &str, body: Value) -> Value {
    let mut v = json!({"messaging_product":"whatsapp","recipient_type":"individual",
        "to":"+49 151 12345678","type":kind});
    v[kind] = body;
    v
}

/// One valid example per message type (cloud-api.md §1.3).
pub(crate) fn examples() -> Vec<(MessageType, Value)> {
    vec![
        (
            MessageType::Text,
            with(
                "text",
                json!({"preview_url":false,"body":"Ihre Bestellung ist unterwegs."}),
            ),
        ),
        (
            MessageType::Template,
            with(
                "template",
                json!({"name":"order_update","language":{"code":"de"},
            "components":[{"type":"body","parameters":[{"type":"text","parameter_name":"first_name","text":"Max"}]},
            {"type":"button","sub_type":"quick_reply","index":"0","parameters":[{"type":"payload","payload":"TRACK"}]}]}),
            ),
        ),
        (
            MessageType::Image,
            with(
                "image",
                json!({"id":"1330000000000099","caption":"Ihr Etikett"}),
            ),
        ),
        (
            MessageType::Audio,
            with("audio", json!({"id":"1330000000000098"})),
        ),
        (
            MessageType::Video,
            with(
                "video",
                json!({"link":"https://cdn.example.com/v.mp4","caption":"Anleitung"}),
            ),
        ),
        (
            MessageType::Document,
            with(
                "document",
                json!({"link":"https://crm.example.com/i.pdf","filename":"Rechnung.pdf","caption":"Rechnung"}),
            ),
        ),
        (
            MessageType::Sticker,
            with("sticker", json!({"id":"1330000000000097"})),
        ),
        (
            MessageType::Location,
            with(
                "location",
                json!({"latitude":52.52,"longitude":13.405,"name":"Filiale","address":"Beispielweg 1"}),
            ),
        ),
        (
            MessageType::Contacts,
            with(
                "contacts",
                json!([{"name":{"formatted_name":"Hotline","first_name":"Hotline"},"phones":[{"phone":"+49 30 1234567","type":"WORK"}]}]),
            ),
        ),
        (
            MessageType::Interactive,
            with(
                "interactive",
                json!({"type":"button","body":{"text":"Termin morgen 9:00?"},"footer":{"text":"Praxis"},
            "action":{"buttons":[{"type":"reply","reply":{"id":"ok","title":"Bestätigen"}},{"type":"reply","reply":{"id":"move","title":"Verschieben"}}]}}),
            ),
        ),
        (
            MessageType::Reaction,
            with(
                "reaction",
                json!({"message_id":"wamid.HBgLMTIz","emoji":"\u{1f44d}"}),
            ),
        ),
    ]
}

#[test]
fn every_message_type_is_accepted_and_normalised() {
    for (t, body) in examples() {
        let req = parse(body).unwrap_or_else(|e| panic!("{t:?}: {e}"));
        assert_eq!(req.message_type(), Some(t));
        let wire: Value = serde_json::from_slice(&req.to_wire_bytes().unwrap()).unwrap();
        assert_eq!(wire["to"], "+4915112345678", "{t:?}");
    }
}

#[test]
fn mark_as_read_is_accepted() {
    let req = parse(
        json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.X",
        "typing_indicator":{"type":"text"}}),
    )
    .unwrap();
    assert_eq!(req.kind(), &RequestKind::MarkRead);
}

#[test]
fn unknown_type_is_rejected_not_forwarded() {
    let mut v = with("text", json!({"body":"hi"}));
    v["type"] = json!("hologram");
    v.as_object_mut().unwrap().remove("text");
    let err = parse(v).unwrap_err();
    assert_eq!(err.code, 100);
    assert_eq!(err.rule, "message.type_unsupported");
    // A type schleuse does not know, with its object: the object is an unknown field.
    let err = parse(with("hologram", json!({"x":1}))).unwrap_err();
    assert_eq!(err.code, 100);
}

#[test]
fn unknown_field_is_rejected_with_its_path() {
    let mut v = with("text", json!({"body":"hi"}));
    v["text"]["secret_field"] = json!("x");
    let err = parse(v).unwrap_err();
    assert_eq!(err.rule, "message.shape_invalid");
    assert!(
        err.details.contains("`text.secret_field`"),
        "{}",
        err.details
    );
}

#[test]
fn body_of_another_type_is_rejected() {
    let mut v = with("text", json!({"body":"hi"}));
    v["image"] = json!({"id":"1"});
    assert_eq!(parse(v).unwrap_err().rule, "message.parameter_invalid");
}

#[test]
fn number_without_country_code_is_rejected() {
    let mut v = with("text", json!({"body":"hi"}));
    v["to"] = json!("0151 12345678");
    let err = parse(v).unwrap_err();
    assert_eq!(err.rule, "message.to_missing_country_code");
    assert_eq!(err.code, 131009);
    assert!(!err.details.contains("0151"));
}

#[test]
fn errors_never_echo_values() {
    let mut v = with("text", json!({"body":"hi"}));
    v["to"] = json!(4915112345678u64);
    let err = parse(v).unwrap_err();
    assert!(!err.details.contains("4915112345678"), "{}", err.details);
    let err = SendRequest::parse(br#"{"messaging_product":"whatsapp","to":"+4915112345678","type":"text","text":{"body":5}}"#, Endpoint::Messages).unwrap_err();
    assert!(!err.details.contains("4915112345678"), "{}", err.details);
    let err = SendRequest::parse(
        br#"{"messaging_product":"whatsapp","+4915112345678":1}"#,
        Endpoint::Messages,
    )
    .unwrap_err();
    assert!(!err.details.contains("4915112345678"), "{}", err.details);
}

#[test]
fn invalid_utf8_and_broken_json_are_json_errors() {
    let err = SendRequest::parse(b"{\"a\":\"\xff\"}", Endpoint::Messages).unwrap_err();
    assert_eq!(err.rule, "message.json_invalid");
    let err = SendRequest::parse(b"{\"messaging_product\":", Endpoint::Messages).unwrap_err();
    assert_eq!(err.rule, "message.json_invalid");
}

#[test]
fn field_limits_follow_meta() {
    let long = "x".repeat(4097);
    let err = parse(with("text", json!({ "body": long }))).unwrap_err();
    assert_eq!(err.rule, "message.field_too_long");
    let four = json!({"type":"button","body":{"text":"?"},"action":{"buttons":[
        {"type":"reply","reply":{"id":"1","title":"a"}},{"type":"reply","reply":{"id":"2","title":"b"}},
        {"type":"reply","reply":{"id":"3","title":"c"}},{"type":"reply","reply":{"id":"4","title":"d"}}]}});
    assert!(parse(with("interactive", four)).is_err());
}

#[test]
fn marketing_endpoint_takes_templates_only() {
    let text = with("text", json!({"body":"hi"}));
    let err =
        SendRequest::parse(text.to_string().as_bytes(), Endpoint::MarketingMessages).unwrap_err();
    assert_eq!(err.rule, "message.endpoint_templates_only");
    let (_, template) = examples().swap_remove(1);
    assert!(
        SendRequest::parse(template.to_string().as_bytes(), Endpoint::MarketingMessages).is_ok()
    );
}

#[test]
fn group_and_business_scoped_recipients_are_typed() {
    let mut v = with("text", json!({"body":"hi"}));
    v["recipient_type"] = json!("group");
    v["to"] = json!("120363000000000001");
    assert!(matches!(
        parse(v).unwrap().recipient(),
        Some(Recipient::Group(_))
    ));
    let v = json!({"messaging_product":"whatsapp","recipient":"DE.13491208655302741918","type":"text","text":{"body":"hi"}});
    assert!(matches!(
        parse(v).unwrap().recipient(),
        Some(Recipient::BusinessScopedUser(_))
    ));
}

#[test]
fn text_sites_cover_bodies_captions_parameters_and_interactive_texts() {
    let mut seen = Vec::new();
    for (_, body) in examples() {
        let mut req = parse(body).unwrap();
        req.for_each_text_mut(&mut |site, s| seen.push((site, s.clone())));
    }
    for expected in [
        "Ihre Bestellung ist unterwegs.",
        "Max",
        "Ihr Etikett",
        "Rechnung.pdf",
        "Termin morgen 9:00?",
        "Bestätigen",
        "Hotline",
        "Beispielweg 1",
    ] {
        assert!(
            seen.iter().any(|(_, s)| s == expected),
            "missing {expected}"
        );
    }
    assert!(
        !seen.iter().any(|(_, s)| s == "TRACK"),
        "payloads are not text"
    );
}
