//! CPU per collection pass, in-process (a plain program, not a timed test): `cargo bench --bench collect_pass`.
//!
//! The data dir is the watch bench's (`benches/watch.rs`): `AMC_BENCH_SESSIONS` (default 200) session files like the
//! hook writes, a temp `HOME` with no transcripts and a nonexistent zellij binary. One [`Collector`] runs, as the
//! server's does, many passes in a row, keeping its caches:
//!
//! - **idle**: nothing changes between passes (the liveness and reconcile timers);
//! - **one write**: one session file is rewritten (atomically, as the hook does) before each pass (a file event).
//!
//! Printed: wall time per pass (median and p99) and process CPU per pass (`getrusage`-like utime + stime from
//! `/proc/self/stat`, averaged over the run). `AMC_BENCH_PASSES` sets the passes per run (default 300).

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant, SystemTime};

mod common;

use amc::collect::Collector;
use common::BenchDir;

fn cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let Some(close) = stat.rfind(')') else { return 0 };
    let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the `)`.
    let n = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

/// The clock ticks per second of `/proc/<pid>/stat` times (USER_HZ).
const TICKS_PER_SEC: f64 = 100.0;

fn run(label: &str, collector: &mut Collector, passes: usize, mut before: impl FnMut(usize)) {
    let mut times = Vec::with_capacity(passes);
    let (ticks0, t0) = (cpu_ticks(), Instant::now());
    let mut sessions = 0;
    for i in 0..passes {
        before(i);
        let start = Instant::now();
        let pass = collector.pass(SystemTime::now());
        times.push(start.elapsed());
        sessions = pass.sessions.len();
    }
    let elapsed = t0.elapsed();
    let cpu = (cpu_ticks() - ticks0) as f64 / TICKS_PER_SEC;
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p / 100.0).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<10} {passes} passes, {sessions} sessions: wall p50 {:.2} ms, p99 {:.2} ms; CPU {:.2} ms/pass ({:.0} % of the run)",
        ms(pct(50.0)),
        ms(pct(99.0)),
        cpu * 1e3 / passes as f64,
        cpu / elapsed.as_secs_f64() * 100.0
    );
}

fn main() {
    let count: usize = std::env::var("AMC_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let passes: usize = std::env::var("AMC_BENCH_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300)
        .max(1);
    let bench = BenchDir::new(count);
    let config = bench.config();
    let mut collector = Collector::new(&config);

    let start = Instant::now();
    let first = collector.pass(SystemTime::now());
    println!(
        "first pass: {:.2} ms, {} sessions",
        start.elapsed().as_secs_f64() * 1e3,
        first.sessions.len()
    );
    // Files changed within the last second are read again on every pass (see `SessionFileCache`); the server's
    // files are normally older than that.
    std::thread::sleep(Duration::from_millis(1100));
    run("idle", &mut collector, passes, |_| {});
    let mut seq = 0;
    run("one write", &mut collector, passes, |i| {
        seq += 1;
        bench.write(i % count.max(1), seq);
    });
}
