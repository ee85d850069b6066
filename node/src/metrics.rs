//! Prometheus text metrics: entries, tree size, batch sizes, ingest latency,
//! rejections by code.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the latency histogram buckets.
const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];
/// Upper bounds of the batch size histogram buckets.
const BATCH_BUCKETS: [f64; 8] = [1.0, 4.0, 16.0, 64.0, 128.0, 256.0, 512.0, 1024.0];

struct Histogram {
    bounds: &'static [f64],
    counts: Vec<AtomicU64>,
    sum_micros: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Self {
        Histogram {
            bounds,
            counts: bounds.iter().map(|_| AtomicU64::new(0)).collect(),
            sum_micros: AtomicU64::new(0),
            count: AtomicU64::new(0),
        }
    }

    fn observe(&self, value: f64) {
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            if value <= *b {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.sum_micros
            .fetch_add((value * 1e6) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        for (b, c) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(
                out,
                "{name}_bucket{{le=\"{b}\"}} {}",
                c.load(Ordering::Relaxed)
            );
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The node's counters.
pub struct Metrics {
    accepted: AtomicU64,
    duplicates: AtomicU64,
    rejected: Mutex<BTreeMap<&'static str, u64>>,
    ingest_latency: Histogram,
    batch_size: Histogram,
    commit_latency: Histogram,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            accepted: AtomicU64::new(0),
            duplicates: AtomicU64::new(0),
            rejected: Mutex::new(BTreeMap::new()),
            ingest_latency: Histogram::new(&LATENCY_BUCKETS),
            batch_size: Histogram::new(&BATCH_BUCKETS),
            commit_latency: Histogram::new(&LATENCY_BUCKETS),
        }
    }
}

impl Metrics {
    /// An accepted submission and its latency from request to receipt.
    pub fn accepted(&self, duplicate: bool, latency: Duration) {
        if duplicate {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
        } else {
            self.accepted.fetch_add(1, Ordering::Relaxed);
        }
        self.ingest_latency.observe(latency.as_secs_f64());
    }

    /// A rejected submission, by error code.
    pub fn rejected(&self, code: &'static str) {
        if let Ok(mut m) = self.rejected.lock() {
            *m.entry(code).or_insert(0) += 1;
        }
    }

    /// A committed batch.
    pub fn batch(&self, size: usize, took: Duration) {
        self.batch_size.observe(size as f64);
        self.commit_latency.observe(took.as_secs_f64());
    }

    /// The Prometheus text exposition.
    pub fn render(&self, tree_size: u64) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP cupass_tree_size Entries in the log.\n# TYPE cupass_tree_size gauge\ncupass_tree_size {tree_size}"
        );
        let _ = writeln!(
            out,
            "# HELP cupass_entries_accepted_total New entries appended.\n# TYPE cupass_entries_accepted_total counter\ncupass_entries_accepted_total {}",
            self.accepted.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP cupass_entries_duplicate_total Identical resubmissions answered with the original index.\n# TYPE cupass_entries_duplicate_total counter\ncupass_entries_duplicate_total {}",
            self.duplicates.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP cupass_entries_rejected_total Rejected submissions by error code.\n# TYPE cupass_entries_rejected_total counter"
        );
        if let Ok(m) = self.rejected.lock() {
            for (code, n) in m.iter() {
                let _ = writeln!(out, "cupass_entries_rejected_total{{code=\"{code}\"}} {n}");
            }
        }
        if let Ok(fds) = std::fs::read_dir("/proc/self/fd") {
            let _ = writeln!(
                out,
                "# HELP process_open_fds Open file descriptors.\n# TYPE process_open_fds gauge\nprocess_open_fds {}",
                fds.count()
            );
        }
        if let Some(rss) = resident_memory_bytes() {
            let _ = writeln!(
                out,
                "# HELP process_resident_memory_bytes Resident set size.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}"
            );
        }
        self.ingest_latency.render(
            &mut out,
            "cupass_ingest_latency_seconds",
            "Time from submission to durable, checkpointed receipt.",
        );
        self.batch_size.render(
            &mut out,
            "cupass_batch_size",
            "Entries per committed batch.",
        );
        self.commit_latency.render(
            &mut out,
            "cupass_batch_commit_seconds",
            "Time to re-check, append, flush and sign one batch.",
        );
        out
    }
}

/// The process's resident set size, from `/proc/self/status` (Linux only).
pub fn resident_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
