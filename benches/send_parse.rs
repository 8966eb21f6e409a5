//! Cost of the classify phase: parsing, validating and normalising one send
//! body, and serialising it for forwarding.
#![allow(missing_docs, clippy::unwrap_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use schleuse::message::{Endpoint, SendRequest};
use schleuse::phone::E164;

fn parse(c: &mut Criterion) {
    let body = br#"{"messaging_product":"whatsapp","recipient_type":"individual","to":"+49 151 12345678","type":"text","text":{"body":"Ihre Bestellung 4711 ist unterwegs und kommt morgen."}}"#;
    c.bench_function("send_request_parse_and_serialise", |b| {
        b.iter(|| {
            let req = SendRequest::parse(std::hint::black_box(body), Endpoint::Messages).unwrap();
            req.to_wire_bytes().unwrap()
        })
    });
    c.bench_function("e164_parse", |b| {
        b.iter(|| E164::parse(std::hint::black_box("+49 151 12345678")).unwrap())
    });
}

criterion_group!(benches, parse);
criterion_main!(benches);
