//! CPU per collection pass, in-process (a plain program, not a timed test): `cargo bench --bench collect_pass`.
//!
//! The data dir is the watch bench's (`benches/watch.rs`): `AMC_BENCH_SESSIONS` (default 200) session files like the
//! hook writes, a temp `HOME` with no transcripts and a nonexistent zellij binary. One [`Collector`] runs, as the
//! server's does, many passes in a row, keeping its caches:
//!
//! - **idle**: nothing changes between passes (the liveness and reconcile timers);
//! - **one write**: one session file is rewritten (atomically, as the hook does) before each pass, and the pass is
//!   told which (`Changes::Only`, as the publisher's file events tell it);
//! - **idle, told**: nothing changes, and the pass is told so (an event-driven pass whose events named no session
//!   file: `Changes::Only` of nothing);
//! - **write, full**: as one write, but the pass is not told which file changed (`Changes::Unknown`: every file is
//!   checked, as after lost events);
//! - **published**: as one write, and then what the publisher does with the pass (records its decisions, compares
//!   the sessions with the published ones, builds the next `wire::Snapshot`: the proto state and the JSON): the
//!   rows above measure `Collector::pass` alone;
//! - **timer**: nothing changes, and the passes are 300 ms apart, as the liveness timer's are (2 s apart in the
//!   server): beyond the collector's 250 ms reuse window, so each pass scans `/proc` and looks for missing
//!   transcripts again. The two runs above go back to back, within that window.
//!
//! Printed: wall time per pass (median and p99) and process CPU per pass: the process's CPU time
//! (`CLOCK_PROCESS_CPUTIME_ID`, all threads) spent inside the pass (and, in the published row, the publisher's work
//! after it), averaged over the run. The setup before each pass (the bench's own atomic, fsynced session-file write,
//! which stands in for the hook's and is not the pass's) is not counted; for comparison with earlier figures the
//! whole loop's CPU (utime + stime from `/proc/self/stat`, those writes included) is printed too.
//! `AMC_BENCH_PASSES` sets the passes per run (default 300).

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    path::Path,
    time::{Duration, Instant, SystemTime},
};

mod common;

use common::{session_file, session_json};

use amc::{
    collect::{Changes, Collector, Pass},
    config::{Config, Paths},
    publisher::decision_log::DecisionLog,
    wire::Snapshot,
};

/// The CPU time this process has used (all threads), in nanoseconds: `clock_gettime(CLOCK_PROCESS_CPUTIME_ID)`.
fn cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    #[allow(unsafe_code)]
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return 0;
    }
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

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

fn run(label: &str, collector: &mut Collector, passes: usize, before: impl FnMut(usize) -> Changes) {
    run_then(label, collector, passes, before, |_| {});
}

/// [`run`], with `after` given each pass's result (in the timed part).
fn run_then(
    label: &str,
    collector: &mut Collector,
    passes: usize,
    mut before: impl FnMut(usize) -> Changes,
    mut after: impl FnMut(Pass),
) {
    let mut times = Vec::with_capacity(passes);
    let (ticks0, t0) = (cpu_ticks(), Instant::now());
    let mut sessions = 0;
    let mut pass_cpu = 0;
    for i in 0..passes {
        let changes = before(i);
        let (start, cpu0) = (Instant::now(), cpu_ns());
        let pass = collector.pass_with(SystemTime::now(), &changes);
        sessions = pass.sessions.len();
        after(pass);
        pass_cpu += cpu_ns().saturating_sub(cpu0);
        times.push(start.elapsed());
    }
    let elapsed = t0.elapsed();
    let cpu = (cpu_ticks() - ticks0) as f64 / TICKS_PER_SEC;
    times.sort();
    let pct = |p: f64| times[((times.len() - 1) as f64 * p / 100.0).round() as usize];
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "{label:<11} {passes} passes, {sessions} sessions: wall p50 {:.2} ms, p99 {:.2} ms; CPU {:.3} ms/pass \
         (whole loop, with the bench's own writes: {:.2} ms/pass, {:.0} % of the run)",
        ms(pct(50.0)),
        ms(pct(99.0)),
        pass_cpu as f64 / 1e6 / passes as f64,
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
    run("idle", &mut collector, passes, |_| Changes::Unknown);
    let mut seq = 0;
    run("one write", &mut collector, passes, |i| {
        seq += 1;
        let n = i % count.max(1);
        amc::store::write_atomic(&file(n), session_json(n, seq).as_bytes()).expect("write");
        Changes::Only([file(n)].into())
    });
    run("idle, told", &mut collector, passes, |_| {
        Changes::Only(Default::default())
    });
    run("write, full", &mut collector, passes, |i| {
        seq += 1;
        let n = i % count.max(1);
        amc::store::write_atomic(&file(n), session_json(n, seq).as_bytes()).expect("write");
        Changes::Unknown
    });
    // What the publisher does with a pass after one write (`publisher::record` and `Publisher::publish`): record the
    // decisions, compare the sessions with the published ones, and build the next snapshot (proto and JSON).
    let mut log = DecisionLog::in_memory(&config.paths);
    let mut published = Snapshot::new(1, "bench".into(), collector.pass(SystemTime::now()).sessions);
    run_then(
        "published",
        &mut collector,
        passes,
        |i| {
            seq += 1;
            let n = i % count.max(1);
            amc::store::write_atomic(&file(n), session_json(n, seq).as_bytes()).expect("write");
            Changes::Only([file(n)].into())
        },
        |mut pass| {
            let now = SystemTime::now();
            log.record(
                &pass.sessions,
                std::mem::take(&mut pass.decisions),
                std::mem::take(&mut pass.removed),
                now,
            );
            if !published.has_sessions(&pass.sessions) {
                published = Snapshot::next(&published, published.revision + 1, pass.sessions);
            }
        },
    );
    run("timer", &mut collector, (passes / 15).max(1), |_| {
        std::thread::sleep(Duration::from_millis(300));
        Changes::Unknown
    });
}
