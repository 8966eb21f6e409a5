#![allow(clippy::unwrap_used)]

use jiff::{SignedDuration, Timestamp};

use super::cli::{ConsentCommand, Context, run};
use super::*;
use crate::audit::Kind;
use crate::policy::{KeywordAction, Policy, content_digest};
use crate::pseudonym::PseudonymKey;

const DEFAULT: &[u8] = include_bytes!("../../policies/default.toml");
const PHONE: &str = "+4915112345678";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn key() -> PseudonymKey {
    PseudonymKey::new(&[9u8; 32])
}

fn temp_ledger() -> (tempfile::TempDir, SqliteLedger) {
    let dir = tempfile::tempdir().unwrap();
    let ledger = SqliteLedger::open(&dir.path().join("consent.db")).unwrap();
    (dir, ledger)
}

fn ev(at: &str, change: Change, purpose: Option<Purpose>, method: Method) -> Event {
    Event::new(
        key().subject(PHONE),
        ts(at),
        change,
        purpose,
        method,
        "system:gateway",
    )
}

fn query(policy: &Policy, now: Timestamp) -> StateQuery {
    policy.state_query(now, None)
}

#[test]
fn web_form_consent_stays_pending_until_confirmed_over_whatsapp() {
    let events = [ev(
        "2026-01-01T10:00:00Z",
        Change::Requested,
        Some(Purpose::marketing()),
        Method::WebForm,
    )];
    let state = SubjectState::from_events(&events);
    assert!(matches!(
        state.consent(&Purpose::marketing()),
        Some(ConsentStatus::Pending { .. })
    ));
    let mut all = events.to_vec();
    all.push(ev(
        "2026-01-02T10:00:00Z",
        Change::Confirmed,
        None,
        Method::Keyword,
    ));
    assert!(SubjectState::from_events(&all).has_consent(&Purpose::marketing()));
}

#[test]
fn an_opt_out_cancels_a_pending_opt_in_so_a_late_confirmation_does_nothing() {
    let events = [
        ev(
            "2026-01-01T10:00:00Z",
            Change::Requested,
            Some(Purpose::marketing()),
            Method::WebForm,
        ),
        ev(
            "2026-01-01T11:00:00Z",
            Change::OptedOut,
            None,
            Method::Keyword,
        ),
        ev(
            "2026-01-01T12:00:00Z",
            Change::Confirmed,
            None,
            Method::Keyword,
        ),
    ];
    let state = SubjectState::from_events(&events);
    assert!(!state.has_consent(&Purpose::marketing()));
    assert_eq!(state.opted_out_at, Some(ts("2026-01-01T11:00:00Z")));
}

#[test]
fn events_apply_in_time_order_whatever_the_insertion_order() {
    let a = ev(
        "2026-01-01T10:00:00Z",
        Change::OptedOut,
        None,
        Method::Keyword,
    );
    let b = ev(
        "2026-01-01T09:00:00Z",
        Change::Granted,
        Some(Purpose::marketing()),
        Method::Operator,
    );
    let state = SubjectState::from_events(&[a, b]);
    assert!(!state.has_consent(&Purpose::marketing()));
}

#[test]
fn ledger_round_trips_events_inbound_and_sends_in_sqlite() {
    let (_dir, ledger) = temp_ledger();
    let policy = Policy::from_bytes(DEFAULT).unwrap();
    let subject = key().subject(PHONE);
    let other = key().subject("+4915112345679");
    let e = ev(
        "2026-01-01T10:00:00Z",
        Change::Requested,
        Some(Purpose::marketing()),
        Method::WebForm,
    )
    .with_text_version("tv-3")
    .with_note("landing page");
    let id = ledger.append(&e).unwrap();
    ledger
        .append(
            &ev(
                "2026-01-01T10:05:00Z",
                Change::Confirmed,
                None,
                Method::Keyword,
            )
            .with_message("tok"),
        )
        .unwrap();
    ledger
        .record_inbound(&subject, ts("2026-01-01T10:05:00Z"), Some("tok"))
        .unwrap();
    // An older inbound never moves the window back.
    ledger
        .record_inbound(&subject, ts("2026-01-01T09:00:00Z"), None)
        .unwrap();
    let now = ts("2026-01-01T12:00:00Z");
    let digest = ContentDigest::from_hex("abc".into());
    let send = |at: &str| SendFact {
        at: ts(at),
        marketing: true,
    };
    ledger
        .record_send(&subject, send("2026-01-01T11:00:00Z"), Some(&digest))
        .unwrap();
    ledger
        .record_send(&other, send("2026-01-01T11:30:00Z"), Some(&digest))
        .unwrap();
    ledger
        .record_send(&other, send("2026-01-01T11:31:00Z"), Some(&digest))
        .unwrap();

    let q = policy.state_query(now, Some(digest));
    let state = ledger.state(&subject, &q).unwrap();
    assert_eq!(state.last_inbound, Some(ts("2026-01-01T10:05:00Z")));
    assert!(state.has_consent(&Purpose::marketing()));
    assert_eq!(
        state.last_send, None,
        "an hour ago is outside the 6 s pair window"
    );
    assert_eq!(state.recent_marketing_sends, 1);
    assert_eq!(state.same_content_recipients, 1);
    let just_after = ts("2026-01-01T11:00:03Z");
    let q = policy.state_query(just_after, None);
    let state = ledger.state(&subject, &q).unwrap();
    assert_eq!(state.last_send, Some(ts("2026-01-01T11:00:00Z")));

    let stored = ledger.events(&subject).unwrap();
    assert_eq!(stored[0].id, id);
    assert_eq!(stored[0].event, e);
    assert_eq!(ledger.unaudited(10).unwrap().len(), 2);
    ledger.mark_audited(id).unwrap();
    let left = ledger.unaudited(10).unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].event.subject, subject);
    assert_eq!(ledger.prune_sends(ts("2026-01-01T11:31:00Z")).unwrap(), 2);
}

#[test]
fn ledger_survives_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consent.db");
    let e = ev(
        "2026-01-01T10:00:00Z",
        Change::OptedOut,
        None,
        Method::Keyword,
    );
    SqliteLedger::open(&path).unwrap().append(&e).unwrap();
    let ledger = SqliteLedger::open(&path).unwrap();
    let policy = Policy::from_bytes(DEFAULT).unwrap();
    let state = ledger
        .state(
            &key().subject(PHONE),
            &query(&policy, ts("2026-01-02T00:00:00Z")),
        )
        .unwrap();
    assert!(state.opt_out_in_force());
}

#[test]
fn consent_events_become_consent_change_audit_records() {
    let e = ev(
        "2026-01-01T10:00:00Z",
        Change::OptedOut,
        None,
        Method::Keyword,
    )
    .with_message("tok1");
    let r = e.audit_record(Some(7));
    assert_eq!(r.kind(), Kind::ConsentChange);
    assert_eq!(r.subject(), Some(&key().subject(PHONE)));
    let json = serde_json::to_string(&r).unwrap();
    for part in [
        "consent.opted_out",
        "method:keyword",
        "message:tok1",
        "consent:7",
    ] {
        assert!(json.contains(part), "{json}");
    }
    assert!(!json.contains("4915112345678"));
}

/// The gateway flow end to end against the ledger: the customer writes,
/// a reply is allowed; 25 h later free-form is refused with 131047 and a
/// template is allowed; after STOP everything is refused.
#[test]
fn customer_writes_then_window_closes_then_stop_refuses_everything() {
    let (_dir, ledger) = temp_ledger();
    let policy = Policy::from_bytes(DEFAULT).unwrap();
    let k = key();
    let subject = k.subject(PHONE);
    let t0 = ts("2026-06-10T08:00:00Z");
    ledger.record_inbound(&subject, t0, Some("m1")).unwrap();
    let reply = text_req("Gern, wir helfen!");
    let decide = |req: &crate::message::SendRequest, now: Timestamp| {
        let q = policy.state_query(now, Some(content_digest(&k, req)));
        policy.decide(req, &ledger.state(&subject, &q).unwrap(), now)
    };
    let permit = decide(&reply, t0 + SignedDuration::from_mins(1)).unwrap();
    let class = permit.class.unwrap();
    ledger
        .record_send(
            &subject,
            SendFact {
                at: t0 + SignedDuration::from_mins(1),
                marketing: class.marketing,
            },
            Some(&content_digest(&k, &reply)),
        )
        .unwrap();
    let later = t0 + SignedDuration::from_hours(25);
    let d = decide(&reply, later).unwrap_err();
    assert_eq!(d.to_api_error().code, 131047);
    let tpl = template_req("order_update", "de");
    assert!(decide(&tpl, later).is_ok());

    let stop_at = later + SignedDuration::from_mins(1);
    assert_eq!(
        policy.classify_inbound("Stop!"),
        Some(KeywordAction::OptOut)
    );
    ledger
        .record_inbound(&subject, stop_at, Some("m2"))
        .unwrap();
    ledger
        .append(&Event::new(
            subject.clone(),
            stop_at,
            Change::OptedOut,
            None,
            Method::Keyword,
            "system:gateway",
        ))
        .unwrap();
    let after = stop_at + SignedDuration::from_mins(1);
    for req in [&reply, &tpl, &template_req("weekly_offers", "de")] {
        let d = decide(req, after).unwrap_err();
        assert_eq!(d.to_api_error().code, crate::policy::CODE_OPTED_OUT);
    }
}

fn text_req(body: &str) -> crate::message::SendRequest {
    let json = serde_json::json!({
        "messaging_product": "whatsapp", "to": PHONE, "type": "text", "text": {"body": body}
    });
    crate::message::SendRequest::parse(
        json.to_string().as_bytes(),
        crate::message::Endpoint::Messages,
    )
    .unwrap()
}

fn template_req(name: &str, lang: &str) -> crate::message::SendRequest {
    let json = serde_json::json!({
        "messaging_product": "whatsapp", "to": PHONE, "type": "template",
        "template": {"name": name, "language": {"code": lang}}
    });
    crate::message::SendRequest::parse(
        json.to_string().as_bytes(),
        crate::message::Endpoint::Messages,
    )
    .unwrap()
}

fn cli_run(ledger: &SqliteLedger, cmd: ConsentCommand) -> Result<String, ConsentError> {
    let policy = Policy::from_bytes(DEFAULT).unwrap();
    let k = key();
    let ctx = Context {
        policy: &policy,
        ledger,
        key: &k,
        actor: "operator:test".into(),
        now: ts("2026-06-10T10:00:00Z"),
    };
    let mut out = Vec::new();
    run(cmd, &ctx, &mut out)?;
    Ok(String::from_utf8(out).unwrap())
}

#[test]
fn import_with_a_bad_row_imports_nothing_and_names_the_line_without_the_number() {
    let (dir, ledger) = temp_ledger();
    let file = dir.path().join("signups.csv");
    std::fs::write(
        &file,
        "phone,signed_up_at,source,consent_text_version\n\
         +4915112345678,2026-05-01T10:00:00Z,newsletter-form,tv-1\n\
         0151 7654321,2026-05-01T10:00:00Z,newsletter-form,tv-1\n\
         +4915112345679,yesterday,newsletter-form,tv-1\n",
    )
    .unwrap();
    let cmd = ConsentCommand::Import {
        file: file.clone(),
        purpose: "marketing".into(),
    };
    let err = cli_run(&ledger, cmd).unwrap_err().to_string();
    assert!(
        err.contains("line 3: phone number has no country code"),
        "{err}"
    );
    assert!(err.contains("line 4: signed_up_at"), "{err}");
    assert!(
        !err.contains("7654321") && !err.contains("4915112345678"),
        "{err}"
    );
    assert!(ledger.unaudited(10).unwrap().is_empty(), "nothing imported");

    std::fs::write(
        &file,
        "phone,signed_up_at,source,consent_text_version\n\
         +4915112345678,2026-05-01T10:00:00Z,newsletter-form,tv-1\n",
    )
    .unwrap();
    let out = cli_run(
        &ledger,
        ConsentCommand::Import {
            file,
            purpose: "marketing".into(),
        },
    )
    .unwrap();
    assert!(out.contains("imported 1"), "{out}");
    let events = ledger.events(&key().subject(PHONE)).unwrap();
    assert_eq!(events[0].event.change, Change::Requested);
    assert_eq!(events[0].event.evidence.method, Method::WebForm);
}

#[test]
fn operator_grant_of_marketing_is_pending_and_revoke_without_purpose_revokes_all() {
    let (_dir, ledger) = temp_ledger();
    let grant = ConsentCommand::Grant {
        phone: PHONE.into(),
        purpose: "marketing".into(),
        evidence: "signed paper form #12".into(),
        text_version: Some("tv-2".into()),
    };
    cli_run(&ledger, grant).unwrap();
    let service = ConsentCommand::Grant {
        phone: PHONE.into(),
        purpose: "service".into(),
        evidence: "contract".into(),
        text_version: None,
    };
    cli_run(&ledger, service).unwrap();
    let show = cli_run(
        &ledger,
        ConsentCommand::Show {
            phone: PHONE.into(),
        },
    )
    .unwrap();
    assert!(show.contains("consent marketing: pending"), "{show}");
    assert!(show.contains("consent service: granted"), "{show}");
    assert!(!show.contains("4915112345678"), "{show}");
    cli_run(
        &ledger,
        ConsentCommand::Revoke {
            phone: PHONE.into(),
            purpose: None,
        },
    )
    .unwrap();
    let show = cli_run(
        &ledger,
        ConsentCommand::Show {
            phone: PHONE.into(),
        },
    )
    .unwrap();
    assert!(show.contains("consent service: revoked"), "{show}");
    let unknown = ConsentCommand::Revoke {
        phone: PHONE.into(),
        purpose: Some("lottery".into()),
    };
    assert!(cli_run(&ledger, unknown).is_err());
}

#[test]
fn inbound_keywords_become_consent_events_with_the_message_as_evidence() {
    let policy = Policy::from_bytes(DEFAULT).unwrap();
    let subject = key().subject(PHONE);
    let at = ts("2026-06-10T10:00:00Z");
    let cases = [
        ("Stop!", Some(KeywordAction::OptOut), Some(Change::OptedOut)),
        (
            "anmelden",
            Some(KeywordAction::OptIn),
            Some(Change::Requested),
        ),
        ("JA", Some(KeywordAction::Confirm), Some(Change::Confirmed)),
        ("hilfe", Some(KeywordAction::Help), None),
        ("Wann kommt mein Paket?", None, None),
    ];
    for (text, action, change) in cases {
        let (got, events) =
            inbound_events(&policy, &subject, at, text, Method::Keyword, Some("tok"));
        assert_eq!(got, action, "{text}");
        assert_eq!(events.first().map(|e| e.change), change, "{text}");
        if let Some(e) = events.first() {
            assert_eq!(e.evidence.message.as_deref(), Some("tok"));
        }
    }
}

#[test]
fn opt_in_keyword_then_confirmation_grants_marketing_and_meta_stop_revokes_it() {
    let policy = Policy::from_bytes(DEFAULT).unwrap();
    let subject = key().subject(PHONE);
    let mut events = Vec::new();
    for (at, text) in [
        ("2026-06-10T10:00:00Z", "START"),
        ("2026-06-10T10:01:00Z", "ja"),
    ] {
        events.extend(inbound_events(&policy, &subject, ts(at), text, Method::Keyword, None).1);
    }
    assert!(SubjectState::from_events(&events).has_consent(&Purpose::marketing()));
    events.push(marketing_stop(
        &subject,
        ts("2026-06-11T10:00:00Z"),
        Method::MetaUserPreferences,
    ));
    assert!(!SubjectState::from_events(&events).has_consent(&Purpose::marketing()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_recorder_commits_concurrent_sends_and_readers_see_them() {
    let dir = tempfile::tempdir().unwrap();
    let shared = SharedLedger::open(&dir.path().join("consent.db")).unwrap();
    let recorder = SendRecorder::start(shared.clone(), 64).unwrap();
    let subject = key().subject(PHONE);
    let digest = ContentDigest::from_hex("abc".into());
    let mut tasks = Vec::new();
    for i in 0..200i64 {
        let (recorder, subject, digest) = (recorder.clone(), subject.clone(), digest.clone());
        tasks.push(tokio::spawn(async move {
            let fact = SendFact {
                at: ts("2026-01-01T11:00:00Z") + SignedDuration::from_secs(i),
                marketing: false,
            };
            recorder.record(subject, fact, Some(digest)).await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let policy = Policy::from_bytes(DEFAULT).unwrap();
    let q = policy.state_query(ts("2026-01-01T11:03:20Z"), Some(digest));
    let state = shared.read(|l| l.state(&subject, &q)).unwrap();
    assert!(state.last_send.is_some(), "a send within the pair window");
    let stored = shared.with(|l| l.prune_sends(ts("2027-01-01T00:00:00Z")));
    assert_eq!(stored.unwrap(), 200, "every send committed");
}

#[test]
fn ledger_counts_marketing_within_the_period_and_stops_at_the_caps() {
    let (_dir, ledger) = temp_ledger();
    let policy = Policy::from_bytes(DEFAULT).unwrap(); // 2 per 168 h; mass 250
    let subject = key().subject(PHONE);
    let now = ts("2026-06-10T12:00:00Z");
    let digest = ContentDigest::from_hex("d1".into());
    let at = |h: i64| now - SignedDuration::from_hours(h);
    let marketing = |at| SendFact {
        at,
        marketing: true,
    };
    // Exactly one period ago no longer counts; inside it does.
    ledger
        .record_send(&subject, marketing(at(168)), None)
        .unwrap();
    ledger
        .record_send(&subject, marketing(at(167)), None)
        .unwrap();
    let service = SendFact {
        at: at(1),
        marketing: false,
    };
    ledger.record_send(&subject, service, None).unwrap();
    let q = policy.state_query(now, Some(digest.clone()));
    let state = ledger.state(&subject, &q).unwrap();
    assert_eq!(state.recent_marketing_sends, 1);
    assert_eq!(state.last_send, None, "only the pair window is loaded");
    for _ in 0..5 {
        ledger
            .record_send(&subject, marketing(at(2)), None)
            .unwrap();
    }
    let state = ledger.state(&subject, &q).unwrap();
    assert_eq!(state.recent_marketing_sends, 2, "counted up to the cap");

    let sends: Vec<_> = (0..300)
        .map(|i| {
            let s = key().subject(&format!("+49151000{i:05}"));
            (s, marketing(at(1)), Some(digest.clone()))
        })
        .collect();
    ledger.record_sends(&sends).unwrap();
    let state = ledger.state(&subject, &q).unwrap();
    assert_eq!(state.same_content_recipients, 250, "counted up to the cap");
    let first = &sends[0].0;
    assert_eq!(
        ledger.state(first, &q).unwrap().same_content_recipients,
        250
    );
}
