//! Throughput of `Engine::detect` over the development corpus texts
//! (chat-sized messages). Reports bytes/s (MB/s) and messages/s.
//! Skips when `../shared/data/pii-dev.jsonl` is not present.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use schleuse::pii::Engine;

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

fn detect(c: &mut Criterion) {
    let texts = corpus();
    if texts.is_empty() {
        eprintln!("pii bench skipped: dev corpus not found");
        return;
    }
    let Ok(engine) = Engine::new() else {
        eprintln!("pii bench skipped: engine failed to build");
        return;
    };
    let bytes: usize = texts.iter().map(String::len).sum();
    let mut g = c.benchmark_group("pii_detect");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("dev_corpus_bytes", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| engine.detect(black_box(t)).len())
                .sum::<usize>()
        })
    });
    g.throughput(Throughput::Elements(texts.len() as u64));
    g.bench_function("dev_corpus_messages", |b| {
        b.iter(|| {
            texts
                .iter()
                .map(|t| engine.detect(black_box(t)).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

criterion_group!(benches, detect);
criterion_main!(benches);
