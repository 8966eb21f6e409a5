#![allow(clippy::unwrap_used)]

use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;
use crate::consent::{Change, ConsentStatus, Event, Method};
use crate::message::Endpoint;

const DEFAULT: &[u8] = include_bytes!("../../policies/default.toml");
const STRICT: &[u8] = include_bytes!("../../policies/strict.toml");
const TO: &str = "+4915112345678";

fn policy() -> Policy {
    static POLICY: std::sync::LazyLock<Policy> =
        std::sync::LazyLock::new(|| Policy::from_bytes(DEFAULT).unwrap());
    POLICY.clone()
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn text(body: &str) -> SendRequest {
    let json = serde_json::json!({
        "messaging_product": "whatsapp", "to": TO, "type": "text", "text": {"body": body}
    });
    SendRequest::parse(json.to_string().as_bytes(), Endpoint::Messages).unwrap()
}

fn template(name: &str, lang: &str) -> SendRequest {
    let json = serde_json::json!({
        "messaging_product": "whatsapp", "to": TO, "type": "template",
        "template": {"name": name, "language": {"code": lang}}
    });
    SendRequest::parse(json.to_string().as_bytes(), Endpoint::Messages).unwrap()
}

const NOW: &str = "2026-06-10T10:00:00Z";

/// Wrote 1 h ago, marketing consent confirmed long ago.
fn engaged() -> SubjectState {
    let mut s = SubjectState {
        last_inbound: Some(ts(NOW) - SignedDuration::from_hours(1)),
        ..SubjectState::default()
    };
    s.consents.insert(
        Purpose::marketing(),
        ConsentStatus::Granted {
            since: ts("2026-01-01T00:00:00Z"),
        },
    );
    s
}

fn rule_of(r: Result<Permit, Denial>) -> &'static str {
    match r {
        Ok(_) => "allow",
        Err(d) => d.rule,
    }
}

#[test]
fn shipped_policies_load() {
    for bytes in [DEFAULT, STRICT] {
        let p = Policy::from_bytes(bytes).unwrap();
        assert_eq!(p.sha256.len(), 64);
    }
}

#[test]
fn unknown_keys_are_load_errors_naming_the_key_path() {
    let text = std::str::from_utf8(DEFAULT).unwrap();
    let bad = text.replace("allow_group_sends = false", "allow_grups = false");
    let err = Policy::from_bytes(bad.as_bytes()).unwrap_err();
    assert!(
        err.contains("groups") && err.contains("allow_grups"),
        "{err}"
    );
}

#[test]
fn every_error_is_reported_with_its_path() {
    let text = std::str::from_utf8(DEFAULT).unwrap();
    let bad = text
        .replace(
            "time_zone = \"Europe/Berlin\"",
            "time_zone = \"Europe/Berlinn\"",
        )
        .replace("free_form_hours = 24", "free_form_hours = 48")
        .replace("from = \"20:00\"", "from = \"8pm\"")
        .replace("action = \"flag\"", "action = \"shout\"")
        .replace("de = \"utility\"", "de = \"utilitee\"");
    let err = Policy::from_bytes(bad.as_bytes()).unwrap_err();
    for path in [
        "time_zone:",
        "window.free_form_hours:",
        "quiet_hours.marketing.from:",
        "mass.action:",
        "templates.order_update.de:",
    ] {
        assert!(err.contains(path), "missing {path} in:\n{err}");
    }
}

#[test]
fn a_keyword_in_two_lists_is_a_load_error() {
    let text = std::str::from_utf8(DEFAULT).unwrap();
    let bad = text.replace(
        "help.en = [\"HELP\", \"INFO\"]",
        "help.en = [\"HELP\", \"stop\"]",
    );
    let err = Policy::from_bytes(bad.as_bytes()).unwrap_err();
    assert!(err.contains("keywords.help.en[1]"), "{err}");
}

#[test]
fn group_sends_are_denied_by_default() {
    let p = policy();
    let body = br#"{"messaging_product":"whatsapp","recipient_type":"group","to":"120363000000000001","type":"text","text":{"body":"hi"}}"#;
    let req = SendRequest::parse(body, Endpoint::Messages).unwrap();
    let denial = p.decide(&req, &engaged(), ts(NOW)).unwrap_err();
    assert_eq!(denial.rule, RULE_NO_CUSTOMER_GROUPS);
    assert_eq!(denial.to_api_error().status, StatusCode::FORBIDDEN);
}

#[test]
fn free_form_window_edges() {
    let p = policy();
    let cases = [
        (None, RULE_CUSTOMER_FIRST),
        (Some(SignedDuration::from_mins(23 * 60 + 59)), "allow"),
        (Some(SignedDuration::from_secs(24 * 3600 - 1)), "allow"),
        (Some(SignedDuration::from_hours(24)), RULE_WINDOW),
        (Some(SignedDuration::from_mins(24 * 60 + 1)), RULE_WINDOW),
    ];
    for (ago, want) in cases {
        let state = SubjectState {
            last_inbound: ago.map(|d| ts(NOW) - d),
            ..SubjectState::default()
        };
        let got = rule_of(p.decide(&text("Ihre Bestellung ist da"), &state, ts(NOW)));
        assert_eq!(got, want, "last inbound {ago:?} ago");
    }
}

#[test]
fn outside_the_window_maps_to_131047_and_a_template_is_allowed() {
    let p = policy();
    let state = SubjectState {
        last_inbound: Some(ts(NOW) - SignedDuration::from_hours(25)),
        ..SubjectState::default()
    };
    let e = p.decide(&text("hallo"), &state, ts(NOW)).unwrap_err();
    let api = e.to_api_error();
    assert_eq!((api.code, api.status), (131047, StatusCode::BAD_REQUEST));
    let body: serde_json::Value = serde_json::from_slice(&api.to_body("T")).unwrap();
    let details = body["error"]["error_data"]["details"].as_str().unwrap();
    assert!(details.contains(RULE_WINDOW), "{details}");
    let permit = p
        .decide(&template("order_update", "de"), &state, ts(NOW))
        .unwrap();
    assert!(permit.rules.contains(&RULE_TEMPLATE_REGISTERED));
    assert!(!permit.class.unwrap().marketing);
}

#[test]
fn unknown_templates_are_denied() {
    let p = policy();
    for (name, lang) in [("order_update", "fr"), ("no_such_template", "de")] {
        let d = p
            .decide(&template(name, lang), &engaged(), ts(NOW))
            .unwrap_err();
        assert_eq!(d.rule, RULE_TEMPLATE_REGISTERED);
        assert_eq!(d.to_api_error().code, 132001);
    }
}

#[test]
fn opt_out_keyword_variants() {
    let p = policy();
    let cases = [
        ("STOP", Some(KeywordAction::OptOut)),
        ("stop", Some(KeywordAction::OptOut)),
        ("  Stop  ", Some(KeywordAction::OptOut)),
        ("STOP!", Some(KeywordAction::OptOut)),
        ("stop.", Some(KeywordAction::OptOut)),
        ("Stopp!!", Some(KeywordAction::OptOut)),
        ("ＳＴＯＰ", Some(KeywordAction::OptOut)),
        ("abmelden", Some(KeywordAction::OptOut)),
        ("Stop   All", Some(KeywordAction::OptOut)),
        ("\tHALT\n", Some(KeywordAction::OptOut)),
        ("Keine Werbung.", Some(KeywordAction::OptOut)),
        ("STOP it", None),
        ("please stop", None),
        ("stopped", None),
        ("", None),
        ("START", Some(KeywordAction::OptIn)),
        ("Ja!", Some(KeywordAction::Confirm)),
        ("BESTAETIGEN", None),
        ("bestätigen", Some(KeywordAction::Confirm)),
        ("Hilfe?", Some(KeywordAction::Help)),
    ];
    for (input, want) in cases {
        assert_eq!(p.classify_inbound(input), want, "input {input:?}");
    }
}

#[test]
fn advertising_terms_make_free_form_text_marketing() {
    let p = policy();
    let no_consent = SubjectState {
        last_inbound: Some(ts(NOW) - SignedDuration::from_hours(1)),
        ..SubjectState::default()
    };
    let cases = [
        ("Ihr Paket kommt morgen", "allow"),
        ("Jetzt 20% off auf alles", RULE_CONSENT),
        ("Ihr GUTSCHEIN wartet", RULE_CONSENT),
        ("Jetzt   kaufen!", RULE_CONSENT),
        ("Wir nutzen Salesforce", "allow"),
    ];
    for (body, want) in cases {
        // 13:00 local: outside quiet hours.
        let got = rule_of(p.decide(&text(body), &no_consent, ts("2026-06-10T11:00:00Z")));
        assert_eq!(got, want, "{body:?}");
    }
}

#[test]
fn marketing_needs_confirmed_consent() {
    let p = policy();
    let at = ts("2026-06-10T11:00:00Z");
    let mut state = engaged();
    let weekly = template("weekly_offers", "de");
    assert!(p.decide(&weekly, &state, at).is_ok());
    for status in [
        ConsentStatus::Pending { since: at },
        ConsentStatus::Revoked { since: at },
    ] {
        state.consents.insert(Purpose::marketing(), status);
        let d = p.decide(&weekly, &state, at).unwrap_err();
        assert_eq!((d.rule, d.to_api_error().code), (RULE_CONSENT, 131050));
    }
    // The newsletter template is bound to its own purpose.
    let news = template("newsletter_teaser", "de");
    assert_eq!(rule_of(p.decide(&news, &engaged(), at)), RULE_CONSENT);
}

#[test]
fn quiet_hours_follow_local_time_across_the_dst_change() {
    let p = policy();
    let weekly = template("weekly_offers", "de");
    // Berlin switches to CEST on 2026-03-29 at 02:00 local (01:00 UTC).
    let cases = [
        ("2026-03-28T06:59:00Z", RULE_QUIET_HOURS), // 07:59 CET
        ("2026-03-28T07:00:00Z", "allow"),          // 08:00 CET
        ("2026-03-29T05:59:00Z", RULE_QUIET_HOURS), // 07:59 CEST
        ("2026-03-29T06:00:00Z", "allow"),          // 08:00 CEST
        ("2026-03-29T06:59:00Z", "allow"),          // 08:59 CEST
        ("2026-03-28T18:59:00Z", "allow"),          // 19:59 CET
        ("2026-03-28T19:00:00Z", RULE_QUIET_HOURS), // 20:00 CET
        ("2026-03-29T17:59:00Z", "allow"),          // 19:59 CEST
        ("2026-03-29T18:00:00Z", RULE_QUIET_HOURS), // 20:00 CEST
        // Back to CET on 2026-10-25 at 03:00 local (01:00 UTC).
        ("2026-10-25T06:59:00Z", RULE_QUIET_HOURS), // 07:59 CET
        ("2026-10-25T07:00:00Z", "allow"),          // 08:00 CET
        ("2026-10-24T05:59:00Z", RULE_QUIET_HOURS), // 07:59 CEST
        ("2026-10-24T06:00:00Z", "allow"),          // 08:00 CEST
    ];
    for (at, want) in cases {
        assert_eq!(
            rule_of(p.decide(&weekly, &engaged(), ts(at))),
            want,
            "at {at}"
        );
    }
    // Service messages have no quiet hours in the default policy.
    assert!(
        p.decide(&text("Antwort"), &engaged(), ts("2026-03-28T23:00:00Z"))
            .is_ok()
    );
}

#[test]
fn frequency_cap_allows_n_and_refuses_n_plus_one() {
    let p = policy(); // marketing_max = 2 per 168 h
    let at = ts("2026-06-10T11:00:00Z");
    let weekly = template("weekly_offers", "de");
    let sent = |n: u32| SubjectState {
        last_send: Some(at - SignedDuration::from_hours(1)),
        recent_marketing_sends: n,
        ..engaged()
    };
    assert!(p.decide(&weekly, &sent(1), at).is_ok(), "2nd message");
    let d = p.decide(&weekly, &sent(2), at).unwrap_err();
    assert_eq!((d.rule, d.to_api_error().code), (RULE_FREQUENCY, 130429));
    // The period itself is the ledger's query (see consent tests).
    let q = p.state_query(at, None);
    assert_eq!(q.marketing_since, at - SignedDuration::from_hours(168));
    assert_eq!(q.marketing_limit, 2);
}

#[test]
fn pair_rate_limit_is_six_seconds() {
    let p = policy();
    for (ago_ms, want) in [(5_999, RULE_PAIR_RATE), (6_000, "allow")] {
        let mut s = engaged();
        s.last_send = Some(ts(NOW) - SignedDuration::from_millis(ago_ms));
        let got = p.decide(&text("noch eine Frage?"), &s, ts(NOW));
        if want != "allow" {
            assert_eq!(got.as_ref().unwrap_err().to_api_error().code, 131056);
        }
        assert_eq!(rule_of(got), want, "{ago_ms} ms");
    }
}

#[test]
fn mass_message_threshold_flags_by_default_and_denies_in_strict() {
    let default = policy();
    let strict = Policy::from_bytes(STRICT).unwrap();
    let req = template("order_update", "de");
    let with = |others: u32| SubjectState {
        same_content_recipients: others,
        ..engaged()
    };
    let at = ts(NOW);
    assert!(
        default
            .decide(&req, &with(249), at)
            .unwrap()
            .flags
            .is_empty()
    );
    assert_eq!(
        default.decide(&req, &with(250), at).unwrap().flags,
        vec![RULE_MASS]
    );
    assert!(strict.decide(&req, &with(29), at).is_ok());
    let d = strict.decide(&req, &with(30), at).unwrap_err();
    assert_eq!(d.rule, RULE_MASS);
}

#[test]
fn opt_out_ends_contact_until_the_person_writes_again() {
    let p = policy();
    let mut s = engaged();
    s.opted_out_at = s.last_inbound;
    let d = p.decide(&text("Schade!"), &s, ts(NOW)).unwrap_err();
    let api = d.to_api_error();
    assert_eq!(
        (d.rule, api.code, api.status),
        (RULE_OPT_OUT, CODE_OPTED_OUT, StatusCode::CONFLICT)
    );
    assert_eq!(
        rule_of(p.decide(&template("order_update", "de"), &s, ts(NOW))),
        RULE_OPT_OUT
    );
    s.last_inbound = Some(ts(NOW) - SignedDuration::from_mins(5));
    assert!(
        p.decide(&text("Wie können wir helfen?"), &s, ts(NOW))
            .is_ok()
    );
}

#[test]
fn strict_quiet_hours_hold_service_messages_but_never_login_codes() {
    let strict = Policy::from_bytes(STRICT).unwrap();
    let night = ts("2026-06-10T21:30:00Z"); // 23:30 CEST
    let update = strict.decide(&template("order_update", "de"), &engaged(), night);
    assert_eq!(rule_of(update), RULE_QUIET_HOURS);
    assert!(
        strict
            .decide(&template("login_code", "de"), &engaged(), night)
            .is_ok()
    );
}

#[test]
fn strict_profile_disables_marketing() {
    let strict = Policy::from_bytes(STRICT).unwrap();
    let d = strict
        .decide(
            &template("weekly_offers", "de"),
            &engaged(),
            ts("2026-06-10T11:00:00Z"),
        )
        .unwrap_err();
    assert_eq!(d.rule, RULE_MARKETING_ENABLED);
}

#[test]
fn explain_reports_every_rule() {
    let p = policy();
    let out = p.explain(&text("hallo"), &SubjectState::default(), ts(NOW));
    let rules: Vec<_> = out.iter().map(|e| e.rule).collect();
    assert!(rules.contains(&RULE_WINDOW) && rules.contains(&RULE_PAIR_RATE));
    assert!(out.iter().any(|e| matches!(e.verdict, Verdict::Deny(_))));
}

#[test]
fn content_digest_ignores_the_recipient() {
    let key = PseudonymKey::new(&[3u8; 32]);
    let a = content_digest(&key, &text("Hallo"));
    let other = serde_json::json!({
        "messaging_product": "whatsapp", "to": "+4915112345679", "type": "text", "text": {"body": "Hallo"}
    });
    let b = content_digest(
        &key,
        &SendRequest::parse(other.to_string().as_bytes(), Endpoint::Messages).unwrap(),
    );
    assert_eq!(a, b);
    assert_ne!(a, content_digest(&key, &text("Hallo!")));
}

fn event_strategy() -> impl Strategy<Value = (i64, u8, bool)> {
    (0i64..1_000, 0u8..6, any::<bool>())
}

proptest! {
    /// Whatever consent events happen in whatever order, a marketing send
    /// is refused unless a confirmation or grant came after the last
    /// opt-out or withdrawal.
    #[test]
    fn no_event_order_allows_an_opted_out_marketing_send(
        raw in proptest::collection::vec(event_strategy(), 1..12),
        inbound_at in proptest::option::of(0i64..1_000),
    ) {
        let p = policy();
        let subject = PseudonymKey::new(&[1u8; 32]).subject(TO);
        let base = ts("2026-06-01T00:00:00Z"); // now = 18:40 Berlin
        let at = |m: i64| base + SignedDuration::from_mins(m);
        let events: Vec<Event> = raw.iter().map(|&(m, kind, all)| {
            let (change, method) = match kind {
                0 => (Change::Requested, Method::Keyword),
                1 => (Change::Confirmed, Method::Keyword),
                2 => (Change::Granted, Method::Operator),
                3 => (Change::Revoked, Method::Operator),
                _ => (Change::OptedOut, Method::Keyword),
            };
            let purpose = if all && change != Change::Granted { None } else { Some(Purpose::marketing()) };
            Event::new(subject.clone(), at(m), change, purpose, method, "test")
        }).collect();
        let mut state = SubjectState::from_events(&events);
        state.last_inbound = inbound_at.map(at);
        let now = at(1_000);
        let mut sorted = events;
        sorted.sort_by_key(|e| e.at);
        let last_stop = sorted.iter().rposition(|e| {
            e.change == Change::OptedOut || e.change == Change::Revoked
        });
        let Some(stop) = last_stop else { return Ok(()) };
        let regained = sorted[stop + 1..].iter().any(|e| {
            matches!(e.change, Change::Confirmed | Change::Granted)
        });
        let decision = p.decide(&template("weekly_offers", "de"), &state, now);
        if !regained {
            prop_assert!(decision.is_err(), "allowed after opt-out: {sorted:?}");
        }
    }
}

#[test]
fn policy_check_reports_each_file_and_fails_on_a_typo() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    let text = std::str::from_utf8(DEFAULT).unwrap();
    std::fs::write(&bad, text.replace("[mass]", "[mas]")).unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(&good, DEFAULT).unwrap();
    let mut out = Vec::new();
    assert!(!cli::check(&[good.clone(), bad], &mut out).unwrap());
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("good.toml: ok"), "{out}");
    assert!(
        out.contains("mas: unknown key") && out.contains("mass: missing"),
        "{out}"
    );
    assert!(cli::check(&[good], &mut Vec::new()).unwrap());
}

#[test]
fn policy_explain_reads_the_ledger_and_prints_each_rule() {
    use crate::consent::{Ledger, SqliteLedger};
    let ledger = SqliteLedger::open_in_memory().unwrap();
    let key = PseudonymKey::new(&[4u8; 32]);
    let subject = key.subject(TO);
    ledger
        .record_inbound(&subject, ts(NOW) - SignedDuration::from_hours(25), None)
        .unwrap();
    let body = serde_json::json!({
        "messaging_product": "whatsapp", "to": TO, "type": "text", "text": {"body": "hallo"}
    })
    .to_string();
    let mut out = Vec::new();
    let allowed =
        cli::explain(&policy(), &ledger, &key, body.as_bytes(), ts(NOW), &mut out).unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(!allowed);
    assert!(out.contains("DENY  window.free_form_hours"), "{out}");
    assert!(
        out.contains("decision: DENY window.free_form_hours (code 131047, HTTP 400)"),
        "{out}"
    );
    assert!(!out.contains("4915112345678"), "{out}");
}

#[test]
fn undeliverable_numbers_are_refused_until_the_person_writes_again() {
    let p = policy();
    let inbound = ts(NOW) - SignedDuration::from_hours(1);
    for (failed_mins_after_inbound, want) in [
        (-1, "allow"), // the person wrote after the failure
        (0, RULE_UNDELIVERABLE),
        (1, RULE_UNDELIVERABLE),
    ] {
        let s = SubjectState {
            undeliverable_since: Some(
                inbound + SignedDuration::from_mins(failed_mins_after_inbound),
            ),
            ..engaged()
        };
        let got = p.decide(&text("Hallo"), &s, ts(NOW));
        if want != "allow" {
            assert_eq!(got.as_ref().unwrap_err().to_api_error().code, 131026);
        }
        assert_eq!(rule_of(got), want, "{failed_mins_after_inbound}");
    }
}
