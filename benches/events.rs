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

use std::{
    path::Path,
    time::{Duration, Instant, SystemTime},
};

mod common;

use common::{session_file, session_json};

use amc::{
    collect::Collector,
    config::{Config, Paths},
};

fn main() {
    let count: usize = std::env::var("AMC_BENCH_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let rounds: usize = std::env::var("AMC_BENCH_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
        .max(1);
    let dir = tempfile::tempdir().expect("tempdir");
    let home = dir.path().join("home");
    let data = dir.path().join("data");
    let sessions_dir = data.join("sessions");
    std::fs::create_dir_all(&sessions_dir).expect("sessions dir");
    std::fs::create_dir_all(&home).expect("home");
    let file = |i: usize| sessions_dir.join(session_file(i));
    for i in 0..count {
        amc::store::write_atomic(&file(i), session_json(i, 0).as_bytes()).expect("write");
    }
    let env = |key: &str| -> Option<String> {
        let s = |p: &Path| Some(p.to_string_lossy().into_owned());
        match key {
            "HOME" => s(&home),
            "AMC_DATA_DIR" => s(&data),
            "CLAUDE_CONFIG_DIR" => s(&home.join(".claude")),
            "CODEX_HOME" => s(&home.join(".codex")),
            "AMC_ZELLIJ_BIN" => s(&dir.path().join("no-zellij")),
            _ => None,
        }
    };
    let config = Config::for_paths(Paths::from_lookup(env));
    let mut collector = Collector::new(&config);
    let mut previous = collector.pass(SystemTime::now()).sessions;
    std::thread::sleep(Duration::from_millis(1100));

    let (mut passes, mut derivations) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let mut events = Vec::new();
    let mut total_events = 0;
    for round in 0..rounds {
        let n = round % count.max(1);
        amc::store::write_atomic(&file(n), session_json(n, round as u64 + 1).as_bytes()).expect("write");
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
    if ratio > 5.0 {
        std::process::exit(1);
    }
}
