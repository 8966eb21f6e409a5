//! Outbound pseudonyms: an internal system runs a conversation with
//! `pn_…` and `wamid.ps_…` only; the gateway resolves them.

use http::StatusCode;
use schleuse::pseudonym::{IdKind, Mapping, PseudonymKey, Vault};
use serde_json::{Value, json};

use crate::fake_upstream::{Behaviour, FakeUpstream};
use crate::harness::*;

#[tokio::test]
async fn pseudonyms_in_to_and_context_are_resolved_before_forwarding() {
    let fake = FakeUpstream::start(Behaviour::Accept, None).await;
    let gw = TestGateway::spawn_with(Options::upstream_at(&fake.base_url)).await;
    gw.customer_writes("4915199999001", "Hallo").await;
    let key = PseudonymKey::new(&key_bytes());
    let pn = key.identity(IdKind::Phone, "4915199999001");
    let wamid = key.identity(IdKind::Wamid, "wamid.HBgNREALINBOUND");
    let vault = Vault::open(&gw.audit_db().with_file_name("identities.db"), &key_bytes()).unwrap();
    vault
        .remember_async(&[
            Mapping {
                kind: IdKind::Phone,
                pseudonym: pn.clone(),
                value: "4915199999001".into(),
            },
            Mapping {
                kind: IdKind::Wamid,
                pseudonym: wamid.clone(),
                value: "wamid.HBgNREALINBOUND".into(),
            },
        ])
        .await
        .unwrap();

    let mut msg = text_message(&pn, "Gern, bis morgen!");
    msg["context"] = json!({ "message_id": wamid });
    let (status, body) = gw.send(&msg).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let forwarded: Value = serde_json::from_slice(&fake.requests()[0].body).unwrap();
    assert_eq!(forwarded["to"], "+4915199999001");
    assert_eq!(forwarded["context"]["message_id"], "wamid.HBgNREALINBOUND");

    let (status, body) = gw
        .send(&text_message("pn_0123456789abcdef0123456789abcdef", "x"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        assert_cloud_error(&body)
            .1
            .contains("message.pseudonym_unknown")
    );
    let (status, body) = gw.send(&text_message(&wamid, "x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        assert_cloud_error(&body)
            .1
            .contains("message.pseudonym_wrong_kind")
    );
    assert_eq!(fake.requests().len(), 1);
    gw.shutdown().await;
}
