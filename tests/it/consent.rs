//! The messaging policy through the real gateway, learning from real
//! signed webhooks: customer first, the 24-hour window, opt-out keywords,
//! double opt-in, and Meta's own marketing stop signals.

use http::StatusCode;
use serde_json::{Value, json};

use crate::harness::*;

const A: &str = "4915100000001";
const B: &str = "4915100000002";
const C: &str = "4915100000003";
const D: &str = "4915100000004";
const E: &str = "4915100000005";

fn template(to: &str, name: &str) -> Value {
    json!({"messaging_product":"whatsapp","to":format!("+{to}"),"type":"template",
           "template":{"name":name,"language":{"code":"de"}}})
}

fn rule_of(body: &Value) -> String {
    assert_cloud_error(body).1
}

async fn gateway() -> TestGateway {
    // Several messages to one person within seconds: the local pair limit
    // (rate.pair, 6 s) is lowered so each case tests one rule.
    let policy = schleuse::init::DEFAULT_POLICY.replace(
        "pair_min_interval_seconds = 6",
        "pair_min_interval_seconds = 0",
    );
    TestGateway::spawn_with(Options {
        policy,
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn customer_first_window_and_opt_out_are_enforced_from_webhooks() {
    let gw = gateway().await;
    let now = jiff::Timestamp::now().as_second();

    // A writes: a free-form reply is allowed.
    gw.customer_writes(A, "Wann öffnet die Filiale?").await;
    assert_eq!(
        gw.send(&text_message(&format!("+{A}"), "Ab 9 Uhr."))
            .await
            .0,
        StatusCode::OK
    );

    // B last wrote 25 hours ago: free-form is refused with 131047, a template is allowed.
    gw.customer_writes_at(B, "Hallo", now - 25 * 3600).await;
    let (status, body) = gw
        .send(&text_message(&format!("+{B}"), "Noch Fragen?"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(assert_cloud_error(&body).0, 131047);
    assert!(rule_of(&body).contains("window.free_form_hours"));
    assert_eq!(
        gw.send(&template(B, "order_update")).await.0,
        StatusCode::OK
    );

    // D never wrote: free-form is refused (customer first), so is marketing without consent.
    let (status, body) = gw.send(&text_message(&format!("+{D}"), "Hallo!")).await;
    assert_eq!(
        (status, assert_cloud_error(&body).0),
        (StatusCode::BAD_REQUEST, 131047)
    );
    let (status, body) = gw.send(&template(D, "weekly_offers")).await;
    assert_eq!(
        (status, assert_cloud_error(&body).0),
        (StatusCode::BAD_REQUEST, 131050)
    );

    // C writes, then STOP: every business-initiated message is refused.
    gw.customer_writes(C, "Hallo").await;
    gw.customer_writes(C, "  stop! ").await;
    let (status, body) = gw.send(&text_message(&format!("+{C}"), "Schade!")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(assert_cloud_error(&body).0, 139001);
    assert!(rule_of(&body).contains("optout.respected"));
    assert_eq!(
        gw.send(&template(C, "order_update")).await.0,
        StatusCode::CONFLICT
    );
    gw.shutdown().await;
}

#[tokio::test]
async fn double_opt_in_and_metas_131050_failure_are_consent_changes_in_the_audit_log() {
    let gw = gateway().await;
    gw.customer_writes(E, "START").await;
    gw.customer_writes(E, "JA").await;
    // Meta later reports that E stopped marketing messages.
    let failed = json!({"object":"whatsapp_business_account","entry":[{"id":"300000000000001","changes":[{"field":"messages","value":{
        "messaging_product":"whatsapp","metadata":{"display_phone_number":"493012345670","phone_number_id":PHONE_NUMBER_ID},
        "statuses":[{"id":"wamid.OUTBOUND1","status":"failed","timestamp":jiff::Timestamp::now().as_second().to_string(),
                     "recipient_id":E,"errors":[{"code":131050,"title":"User has stopped marketing"}]}]}}]}]});
    let body = schleuse::webhook::to_ascii_json(&failed).unwrap();
    let status = post_signed_webhook(&gw.url("/webhook"), &body).await;
    assert_eq!(status, StatusCode::OK);
    gw.wait_until_processed().await;
    let (status, body) = gw.send(&template(E, "weekly_offers")).await;
    assert_eq!(
        (status, assert_cloud_error(&body).0),
        (StatusCode::BAD_REQUEST, 131050),
        "{body}"
    );

    let config = gw.config_path.clone();
    let dir = gw.stop().await;
    let exported = audit_export(
        &config,
        &["--kind", "consent_change", "--subject", &format!("+{E}")],
    );
    let changes: Vec<String> = exported
        .iter()
        .map(|e| {
            e["rule_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(changes.len(), 3, "{changes:?}");
    assert!(
        changes[0].contains("consent.requested") && changes[0].contains("method:keyword"),
        "{changes:?}"
    );
    assert!(changes[1].contains("consent.confirmed"), "{changes:?}");
    assert!(
        changes[2].contains("consent.revoked") && changes[2].contains("method:meta_131050"),
        "{changes:?}"
    );
    assert!(
        !serde_json::to_string(&exported).unwrap().contains(E),
        "no phone number in the audit log"
    );
    drop(dir);
}

/// Concurrent sends must not pass a cap together that each alone respects:
/// 20 people who wrote first get the same template at once under a mass
/// limit of 5 — exactly 5 reach Meta; 20 concurrent replies to one person
/// under a 60 s pair interval — exactly one does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caps_hold_under_concurrent_sends() {
    let policy = schleuse::init::DEFAULT_POLICY
        .replace("max_recipients = 250", "max_recipients = 5")
        .replace("action = \"flag\"", "action = \"deny\"")
        .replace(
            "pair_min_interval_seconds = 6",
            "pair_min_interval_seconds = 60",
        );
    let gw = std::sync::Arc::new(
        TestGateway::spawn_with(Options {
            policy,
            ..Options::default()
        })
        .await,
    );
    let people: Vec<String> = (0..21).map(|i| format!("49151000100{i:02}")).collect();
    for p in &people {
        gw.customer_writes(p, "Hallo").await;
    }

    let mut blast = tokio::task::JoinSet::new();
    for p in &people[..20] {
        let (gw, p) = (gw.clone(), p.clone());
        blast.spawn(async move { (p.clone(), gw.send(&template(&p, "order_update")).await) });
    }
    let (mut reached, mut mass) = (Vec::new(), 0);
    for (person, (status, body)) in blast.join_all().await {
        if status == StatusCode::OK {
            reached.push(person);
        } else if rule_of(&body).contains("mass.same_content") {
            mass += 1;
        }
    }
    assert_eq!((reached.len(), mass), (5, 15));

    // 20 replies at once to someone who just got the template: all refused;
    // to someone who did not: exactly one passes.
    for (person, want_ok) in [(reached[0].clone(), 0), (people[20].clone(), 1)] {
        let mut replies = tokio::task::JoinSet::new();
        for i in 0..20 {
            let body = text_message(&format!("+{person}"), &format!("Antwort {i}"));
            let gw = gw.clone();
            replies.spawn(async move { gw.send(&body).await });
        }
        let results = replies.join_all().await;
        let ok = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
        assert_eq!(ok, want_ok, "{person}");
        assert!(
            results
                .iter()
                .filter(|(s, _)| *s != StatusCode::OK)
                .all(|(_, b)| rule_of(b).contains("rate.pair"))
        );
    }
}

fn failed_status(to: &str, wamid: &str, code: u32, unix: i64) -> Vec<u8> {
    let failed = json!({"object":"whatsapp_business_account","entry":[{"id":"300000000000001","changes":[{"field":"messages","value":{
        "messaging_product":"whatsapp","metadata":{"display_phone_number":"493012345670","phone_number_id":PHONE_NUMBER_ID},
        "statuses":[{"id":wamid,"status":"failed","timestamp":unix.to_string(),
                     "recipient_id":to,"errors":[{"code":code,"title":"Message undeliverable"}]}]}}]}]});
    schleuse::webhook::to_ascii_json(&failed).unwrap()
}

/// Meta's 131026 marks a number undeliverable: schleuse refuses further
/// sends (they would fail and still cost) until the person writes again.
/// Inbound messages and statuses are audit entries; a status carries the
/// same wamid token as the send's `upstream_result`.
#[tokio::test]
async fn undeliverable_numbers_wait_until_the_person_writes_and_every_event_is_audited() {
    let gw = gateway().await;
    let now = jiff::Timestamp::now().as_second();
    gw.customer_writes_at(A, "Hallo", now - 60).await;
    let body = failed_status(A, "wamid.OUTBOUND2", 131026, now - 30);
    assert_eq!(
        post_signed_webhook(&gw.url("/webhook"), &body).await,
        StatusCode::OK
    );
    gw.wait_until_processed().await;

    let (status, body) = gw.send(&text_message(&format!("+{A}"), "Hallo?")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(assert_cloud_error(&body).0, 131026);
    assert!(rule_of(&body).contains("delivery.undeliverable"));

    gw.customer_writes(A, "Jetzt geht es wieder").await;
    let (status, body) = gw
        .send(&text_message(&format!("+{A}"), "Willkommen zurück"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");

    let config = gw.config_path.clone();
    let dir = gw.stop().await;
    let entries = audit_export(&config, &["--subject", &format!("+{A}")]);
    let kinds: Vec<&str> = entries.iter().filter_map(|e| e["kind"].as_str()).collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "message_received").count(),
        2,
        "{kinds:?}"
    );
    let failed = entries
        .iter()
        .find(|e| {
            e["kind"] == "delivery_status" && e["rule_ids"].to_string().contains("status.failed")
        })
        .expect("the failed status is an audit entry");
    let rules = failed["rule_ids"].to_string();
    assert!(rules.contains("meta.error.131026") && rules.contains("delivery.undeliverable"));
    let token =
        schleuse::pseudonym::PseudonymKey::new(&key_bytes()).token("wamid", "wamid.OUTBOUND2");
    assert_eq!(failed["upstream"]["wamid"], token.as_str());
    let exported = serde_json::to_string(&entries).unwrap();
    assert!(!exported.contains(A) && !exported.contains("OUTBOUND2"));
    drop(dir);
}
