//! Every webhook payload shape of cloud-api.md §2 through the real gateway
//! to a client in pseudonym mode: no identifier from the §2.10 inventory
//! reaches the internal system (searched in the exact delivered bytes).

use http::StatusCode;
use serde_json::{Value, json};

use crate::delivery::{gateway_delivering_to, wait_for};
use crate::fake_upstream::{Behaviour, FakeUpstream};
use crate::harness::*;

const SENDER: &str = "4915199999001";
const BSUID: &str = "DE.13491208655302741918";

fn change(field: &str, value: Value) -> Value {
    json!({"field": field, "value": value})
}

fn messages_value(messages: Value) -> Value {
    json!({"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"493012345670","phone_number_id":PHONE_NUMBER_ID},
        "contacts":[{"profile":{"name":"Paula Probe","username":"paula.probe"},"wa_id":SENDER,
                     "user_id":BSUID,"parent_user_id":"DE.99991208655302741918","identity_key_hash":"ikh-7f3c"}],
        "messages": messages})
}

fn all_shapes(now: i64) -> Vec<u8> {
    let t = now.to_string();
    let msg = |id: &str, kind: &str, body: Value| {
        let mut m = json!({"from":SENDER,"from_user_id":BSUID,"id":id,"timestamp":t,"type":kind});
        m[kind] = body;
        m
    };
    let mut text = msg(
        "wamid.TXTAAAHBgNNDkxNTE5",
        "text",
        json!({"body":"Meine Nummer ist 0171 2345678"}),
    );
    text["context"] = json!({"from":"493012345670","id":"wamid.CTXBUSINESS1","forwarded":true});
    text["referral"] = json!({"source_url":"https://fb.example/ad","source_id":"AD-SOURCE-991","ctwa_clid":"CLID-SECRET-42","headline":"Angebot"});
    let mut reply = msg(
        "wamid.BTNAAAHBgNNDkxNTE5",
        "interactive",
        json!({"type":"button_reply","button_reply":{"id":"appt-confirm","title":"Bestätigen"}}),
    );
    reply["context"] = json!({"from":"493012345670","id":"wamid.CTXBUSINESS2"});
    let mut group = msg(
        "wamid.GRPAAAHBgNNDkxNTE5",
        "text",
        json!({"body":"Hallo Gruppe"}),
    );
    group["group_id"] = json!("GROUP-ID-5551");
    let messages = json!([
        text,
        msg(
            "wamid.IMGAAAHBgNNDkxNTE5",
            "image",
            json!({"caption":"Kassenbon","mime_type":"image/jpeg",
            "sha256":"SHA-OF-FILE-77","id":"1330000000000123","url":"https://lookaside.fbsbx.com/x?mid=1330000000000123"})
        ),
        msg(
            "wamid.DOCAAAHBgNNDkxNTE5",
            "document",
            json!({"filename":"Befund_Paula.pdf","id":"1330000000000124","mime_type":"application/pdf"})
        ),
        reply,
        msg(
            "wamid.TPLAAAHBgNNDkxNTE5",
            "button",
            json!({"payload":"Unsubscribe","text":"Abmelden"})
        ),
        msg(
            "wamid.REAAAAHBgNNDkxNTE5",
            "reaction",
            json!({"message_id":"wamid.CTXBUSINESS3","emoji":"👍"})
        ),
        msg(
            "wamid.CONAAAHBgNNDkxNTE5",
            "contacts",
            json!([{
            "name":{"formatted_name":"Tom Dritter","first_name":"Tom","last_name":"Dritter"},
            "phones":[{"phone":"+49 171 0000001","wa_id":"491710000001","type":"CELL"}],
            "emails":[{"email":"tom@example.org"}],
            "addresses":[{"street":"Hauptstr. 1","city":"Hamburg","zip":"20095"}],
            "org":{"company":"Beispiel GmbH"},"birthday":"1985-02-03"}])
        ),
        msg(
            "wamid.LOCAAAHBgNNDkxNTE5",
            "location",
            json!({"latitude":52.520008,"longitude":13.404954,
            "name":"Zuhause","address":"Gartenweg 7","url":"https://maps.example/home"})
        ),
        msg(
            "wamid.SYSAAAHBgNNDkxNTE5",
            "system",
            json!({"body":"User changed from 4915199999001 to 4915199999002",
            "wa_id":"4915199999002","user_id":"DE.55551208655302741918","type":"user_changed_number"})
        ),
        group,
    ]);
    let statuses = json!({"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"493012345670","phone_number_id":PHONE_NUMBER_ID},
        "statuses":[
            {"id":"wamid.OUTAAAHBgNNDkxNTE5","status":"sent","timestamp":t,"recipient_id":SENDER,
             "recipient_user_id":BSUID,"parent_recipient_user_id":"DE.99991208655302741918",
             "recipient_identity_key_hash":"ikh-7f3c","biz_opaque_callback_data":"audit-7f3c",
             "contacts":[{"profile":{"name":"Paula Probe"},"wa_id":SENDER,"user_id":BSUID}],
             "conversation":{"id":"CONV-ID-3c9f","origin":{"type":"utility"}},
             "pricing":{"billable":true,"pricing_model":"PMP","category":"utility"}},
            {"id":"wamid.OUTBBBHBgNNDkxNTE5","status":"failed","timestamp":t,"recipient_id":SENDER,
             "errors":[{"code":131049,"title":"t","message":"t","error_data":{"details":"d"}}]},
            {"id":"wamid.OUTCCCHBgNNDkxNTE5","status":"read","timestamp":t,"recipient_id":"GROUP-ID-5551",
             "recipient_type":"group","recipient_participant_id":"4915199999003"}]});
    let preferences = json!({"messaging_product":"whatsapp",
        "metadata":{"display_phone_number":"493012345670","phone_number_id":PHONE_NUMBER_ID},
        "contacts":[{"profile":{"name":"Paula Probe"},"wa_id":SENDER}],
        "user_preferences":[{"wa_id":SENDER,"detail":"User requested to stop marketing messages",
            "category":"marketing_messages","value":"stop","timestamp":now}]});
    json!({"object":"whatsapp_business_account","entry":[{"id":"300000000000001","changes":[
        change("messages", messages_value(messages)),
        change("messages", statuses),
        change("user_preferences", preferences),
    ]}]})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn no_identifier_of_any_payload_shape_reaches_a_pseudonym_client() {
    let crm = FakeUpstream::start(Behaviour::Fail(StatusCode::OK, "{}"), None).await;
    let gw = gateway_delivering_to(&crm).await;
    let body = all_shapes(jiff::Timestamp::now().as_second());
    let status = post_signed_webhook(&gw.url("/webhook"), &body).await;
    assert_eq!(status, StatusCode::OK);

    let got = wait_for(&crm, 1).await;
    assert!(!got.is_empty(), "delivered");
    let delivered: String = got
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect();
    let leaked = [
        SENDER,
        "4915199999002",
        "4915199999003",
        "491710000001",
        "0171 2345678",
        "DE.1349120865",
        "DE.9999120865",
        "DE.5555120865",
        "Paula Probe",
        "paula.probe",
        "ikh-7f3c",
        "HBgNNDkxNTE5",
        "CTXBUSINESS",
        "1330000000000123",
        "1330000000000124",
        "lookaside",
        "SHA-OF-FILE-77",
        "Befund_Paula",
        "Tom Dritter",
        "tom@example.org",
        "Hauptstr",
        "1985-02-03",
        "Beispiel GmbH",
        "52.520008",
        "13.404954",
        "Gartenweg",
        "maps.example",
        "CLID-SECRET-42",
        "AD-SOURCE-991",
        "GROUP-ID-5551",
        "CONV-ID-3c9f",
    ]
    .into_iter()
    .filter(|s| delivered.contains(s))
    .collect::<Vec<_>>();
    assert!(leaked.is_empty(), "leaked {leaked:?}: {delivered}");
    // What an internal system needs stays: the kinds of events and their
    // non-identifying content.
    for kept in [
        "button_reply",
        "appt-confirm",
        "user_changed_number",
        "131049",
        "\"stop\"",
    ] {
        assert!(delivered.contains(kept), "{kept} missing: {delivered}");
    }
    gw.shutdown().await;
}
