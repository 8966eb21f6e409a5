//! Cost of the decide phase: one policy decision including the warm SQLite
//! consent-ledger lookup (events, last inbound, recent sends, same-content
//! count) for one of 10,000 subjects; a utility template that already went
//! to 200 other people. Target: p50 ≤ 20 µs.
#![allow(missing_docs, clippy::unwrap_used)]

use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::{SignedDuration, Timestamp};
use schleuse::consent::{Change, Event, Ledger, Method, Purpose, SendFact, SqliteLedger};
use schleuse::message::{Endpoint, SendRequest};
use schleuse::policy::{Policy, content_digest};
use schleuse::pseudonym::PseudonymKey;

const SUBJECTS: u64 = 10_000;

fn setup(dir: &std::path::Path, key: &PseudonymKey, now: Timestamp) -> SqliteLedger {
    let ledger = SqliteLedger::open(&dir.join("consent.db")).unwrap();
    let mut events = Vec::new();
    for i in 0..SUBJECTS {
        let subject = key.subject(&format!("+49151{:08}", i));
        let at = now - SignedDuration::from_hours(48);
        for change in [Change::Requested, Change::Confirmed] {
            events.push(Event::new(
                subject.clone(),
                at,
                change,
                Some(Purpose::marketing()),
                Method::Keyword,
                "bench",
            ));
        }
        ledger
            .record_inbound(&subject, now - SignedDuration::from_hours(2), None)
            .unwrap();
        let send = SendFact {
            at: now - SignedDuration::from_hours(1),
            marketing: false,
        };
        ledger.record_send(&subject, send, None).unwrap();
    }
    ledger.append_all(&events).unwrap();
    ledger
}

fn decide(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let key = PseudonymKey::new(&[5u8; 32]);
    let now: Timestamp = "2026-06-10T10:00:00Z".parse().unwrap();
    let ledger = setup(dir.path(), &key, now);
    let policy = Policy::from_bytes(include_bytes!("../policies/default.toml")).unwrap();
    let body = br#"{"messaging_product":"whatsapp","to":"+4915100004711","type":"template","template":{"name":"order_update","language":{"code":"de"}}}"#;
    let request = SendRequest::parse(body, Endpoint::Messages).unwrap();
    // The same template already went to 200 other people today.
    let digest = content_digest(&key, &request);
    for i in 0..200 {
        let other = key.subject(&format!("+49151{:08}", 5_000 + i));
        let send = SendFact {
            at: now - SignedDuration::from_mins(30),
            marketing: false,
        };
        ledger.record_send(&other, send, Some(&digest)).unwrap();
    }
    let subject = key.subject("+4915100004711");
    let one = || {
        let digest = content_digest(&key, &request);
        let query = policy.state_query(now, Some(digest));
        let state = ledger.state(&subject, &query).unwrap();
        policy.decide(&request, &state, now).unwrap()
    };
    print_percentiles(&one);
    c.bench_function("policy_decide_with_sqlite_ledger", |b| b.iter(one));
}

/// Criterion reports means; the target is a median, so measure it directly.
fn print_percentiles(one: &dyn Fn() -> schleuse::policy::Permit) {
    for _ in 0..1_000 {
        one();
    }
    let mut samples: Vec<u128> = (0..20_000)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(one());
            t.elapsed().as_nanos()
        })
        .collect();
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64) * q) as usize] as f64 / 1000.0;
    println!(
        "policy decide + ledger lookup: p50 {:.1} µs, p90 {:.1} µs, p99 {:.1} µs",
        at(0.5),
        at(0.9),
        at(0.99)
    );
}

criterion_group!(benches, decide);
criterion_main!(benches);
