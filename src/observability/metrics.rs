//! A small Prometheus registry: labelled counters, gauges and histograms
//! rendered in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

/// Histogram bucket bounds in seconds.
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// All metrics of one gateway.
#[derive(Debug, Default)]
pub struct Metrics {
    counters: Mutex<BTreeMap<String, u64>>,
    open_connections: AtomicI64,
    request_seconds: Histogram,
    upstream_seconds: Histogram,
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

// === impl Metrics ===

impl Metrics {
    /// Counts one finished request.
    pub fn request_done(&self, route: &str, status: u16, rule: &str, elapsed: Duration) {
        self.inc(format!(
            "schleuse_requests_total{{route=\"{route}\",status=\"{status}\",rule=\"{rule}\"}}"
        ));
        self.request_seconds.observe(elapsed);
    }

    /// Counts one upstream exchange by outcome.
    pub fn upstream_done(&self, upstream: &str, outcome: &str, elapsed: Duration) {
        self.inc(format!(
            "schleuse_upstream_requests_total{{upstream=\"{upstream}\",outcome=\"{outcome}\"}}"
        ));
        self.upstream_seconds.observe(elapsed);
    }

    /// Counts a connection-level event (`accepted`, `tls_failed`, …).
    pub fn connection_event(&self, event: &str) {
        self.inc(format!("schleuse_connections_total{{event=\"{event}\"}}"));
    }

    /// Tracks open connections.
    pub fn connection_opened(&self) {
        self.open_connections.fetch_add(1, Ordering::Relaxed);
    }

    /// Tracks open connections.
    pub fn connection_closed(&self) {
        self.open_connections.fetch_sub(1, Ordering::Relaxed);
    }

    /// Renders the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# TYPE schleuse_requests_total counter\n");
        out.push_str("# TYPE schleuse_upstream_requests_total counter\n");
        out.push_str("# TYPE schleuse_connections_total counter\n");
        if let Ok(counters) = self.counters.lock() {
            for (series, value) in counters.iter() {
                let _ = writeln!(out, "{series} {value}");
            }
        }
        out.push_str("# TYPE schleuse_open_connections gauge\n");
        let _ = writeln!(
            out,
            "schleuse_open_connections {}",
            self.open_connections.load(Ordering::Relaxed)
        );
        self.request_seconds
            .render("schleuse_request_duration_seconds", &mut out);
        self.upstream_seconds
            .render("schleuse_upstream_duration_seconds", &mut out);
        out
    }

    fn inc(&self, series: String) {
        if let Ok(mut counters) = self.counters.lock() {
            *counters.entry(series).or_insert(0) += 1;
        }
    }
}

// === impl Histogram ===

impl Histogram {
    fn observe(&self, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.sum_micros.fetch_add(micros, Ordering::Relaxed);
    }

    fn render(&self, name: &str, out: &mut String) {
        let _ = writeln!(out, "# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}");
        let _ = writeln!(out, "{name}_count {count}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.request_done("messages", 200, "allow", Duration::from_millis(2));
        m.request_done("messages", 200, "allow", Duration::from_millis(200));
        let text = m.render();
        assert!(text.contains(
            "schleuse_requests_total{route=\"messages\",status=\"200\",rule=\"allow\"} 2"
        ));
        assert!(text.contains("schleuse_request_duration_seconds_bucket{le=\"0.0025\"} 1"));
        assert!(text.contains("schleuse_request_duration_seconds_count 2"));
    }
}
