//! Throughput of `Engine::detect` over the development corpus texts
//! (chat-sized messages). Reports bytes/s (MB/s) and messages/s for the
//! whole corpus (dense with personal data: most texts hold one or more
//! findings), and bytes/s for the corpus texts without any finding.
//! Skips when `../shared/data/pii-dev.jsonl` is not present.
//!
//! Also counts heap allocations per `detect` call with a counting global
//! allocator (`stats_alloc`, so no `unsafe` here) and fails if a text
//! without findings allocates; it prints the counts before benchmarking.

use std::alloc::System;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use schleuse::pii::Engine;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

fn corpus() -> Vec<String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/pii-dev.jsonl");
    let Ok(data) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    data.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .collect()
}

/// Texts without personal data that still contain look-alikes (prices,
/// dates, order numbers, product codes, versions).
const CLEAN: &[&str] = &[
    "Hallo, wann kommt meine Lieferung? Danke!",
    "Die Bestellung 4711-2023 wurde am 12.03.2025 verschickt, Preis 49,99 €.",
    "Ticket #88231: Router startet nach Update auf Version 2.4.1 neu.",
    "Can you resend the invoice for order 100234? Thanks a lot.",
    "Öffnungszeiten: Montag bis Freitag 9–18 Uhr 😀",
    "Artikel SKU-BLK-42 ist wieder verfügbar, 3 Stück auf Lager.",
];

/// Allocations made by one `detect` call (after warm-up).
fn allocations(engine: &Engine, text: &str) -> (usize, usize) {
    let region = Region::new(GLOBAL);
    let n = black_box(engine.detect(black_box(text))).len();
    let stats = region.change();
    (n, stats.allocations + stats.reallocations)
}

fn allocation_check(engine: &Engine, texts: &[String]) {
    for t in texts
        .iter()
        .map(String::as_str)
        .chain(CLEAN.iter().copied())
    {
        engine.detect(t); // warm the regex caches of this thread
    }
    for t in CLEAN {
        let (n, allocs) = allocations(engine, t);
        assert_eq!(n, 0, "clean text has a finding: {t}");
        assert_eq!(allocs, 0, "detect allocated on a clean text: {t}");
    }
    let (mut none, mut none_alloc, mut some, mut some_allocs) = (0, 0, 0, 0);
    for t in texts {
        let (n, allocs) = allocations(engine, t);
        if n == 0 {
            none += 1;
            none_alloc += usize::from(allocs > 0);
        } else {
            some += 1;
            some_allocs += allocs;
        }
    }
    eprintln!(
        "allocations: {} clean look-alike texts: 0; corpus texts without findings: \
         {none_alloc} of {none} allocated; with findings: {:.1} per text ({some} texts)",
        CLEAN.len(),
        some_allocs as f64 / some.max(1) as f64
    );
    assert_eq!(
        none_alloc, 0,
        "detect allocated on corpus texts without findings"
    );
}

/// Runs the detectors over every text; the finding count keeps the work
/// from being optimised away.
fn findings_in<'a>(engine: &Engine, texts: impl Iterator<Item = &'a str>) -> usize {
    texts.map(|t| engine.detect(black_box(t)).len()).sum()
}

fn detect(c: &mut Criterion) {
    let texts = corpus();
    let Ok(engine) = Engine::new() else {
        eprintln!("pii bench skipped: engine failed to build");
        return;
    };
    allocation_check(&engine, &texts);
    if texts.is_empty() {
        eprintln!("pii bench skipped: dev corpus not found");
        return;
    }
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("pii_detect");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("dev_corpus_bytes", |b| {
        b.iter(|| findings_in(&engine, texts.iter().map(String::as_str)))
    });
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("dev_corpus_messages", |b| {
        b.iter(|| findings_in(&engine, texts.iter().map(String::as_str)))
    });
    // Most chat messages carry no personal data: the same detectors over
    // the corpus texts in which nothing is found.
    let quiet: Vec<&String> = texts
        .iter()
        .filter(|t| engine.detect(t).is_empty())
        .collect();
    let quiet_bytes: usize = quiet.iter().map(|t| t.len()).sum();
    g.throughput(Throughput::Bytes(quiet_bytes as u64));
    g.bench_function("texts_without_findings_bytes", |b| {
        b.iter(|| findings_in(&engine, quiet.iter().map(|t| t.as_str())))
    });
    g.finish();
}

criterion_group!(benches, detect);
criterion_main!(benches);
