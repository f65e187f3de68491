//! Event derivation against the collection pass it follows (issue 18's goal: derivation adds at most 5 % to a pass):
//! `cargo bench --bench events`.
//!
//! The data dir is the other benches' (`AMC_BENCH_SESSIONS` session files, default 500, like the hook writes). Each
//! round rewrites one session file (its status flips between active and done, so every round has a `turn_done` or
//! nothing), runs one pass, then derives the events between the previous pass's sessions and this one's exactly as
//! the publisher does ([`amc::event::derive`]). Printed: the median pass and derivation times, their ratio, and
//! whether the goal is met (the process exits 1 when it is not).

// Test code: a failed unwrap or expect is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant, SystemTime};

mod common;

use amc::collect::Collector;
use common::BenchDir;

fn main() {
    // `cargo test --all-targets` runs this program too, without `--bench`: then a short smoke run (a debug build's
    // timings say nothing about the goal).
    let full = std::env::args().any(|a| a == "--bench");
    let count: usize = std::env::var("AMC_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 500 } else { 50 });
    let rounds: usize = std::env::var("AMC_BENCH_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 200 } else { 10 })
        .max(1);
    let bench = BenchDir::new(count);
    let config = bench.config();
    let mut collector = Collector::new(&config);
    let mut previous = collector.pass(SystemTime::now()).sessions;
    if full {
        std::thread::sleep(Duration::from_millis(1100));
    }

    let (mut passes, mut derivations) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let mut events = Vec::new();
    let mut total_events = 0;
    for round in 0..rounds {
        bench.write(round % count.max(1), round as u64 + 1);
        let start = Instant::now();
        let sessions = collector.pass(SystemTime::now()).sessions;
        passes.push(start.elapsed());
        let start = Instant::now();
        events.clear();
        amc::event::derive(&previous, &sessions, 0, round as u64, &mut events);
        derivations.push(start.elapsed());
        total_events += events.len();
        previous = sessions;
    }
    passes.sort();
    derivations.sort();
    let median = |v: &[Duration]| v[v.len() / 2].as_secs_f64() * 1e3;
    let (pass, derive) = (median(&passes), median(&derivations));
    let ratio = derive / pass * 100.0;
    println!(
        "{count} sessions, {rounds} rounds ({total_events} events): pass p50 {pass:.3} ms, derivation p50 {derive:.3} ms = {ratio:.2} % of a pass (goal <= 5 %): {}",
        if ratio <= 5.0 { "met" } else { "NOT met" }
    );
    if full && ratio > 5.0 {
        std::process::exit(1);
    }
}
