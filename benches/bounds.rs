//! Issue 24's figures: what a big event log, a big session file and a flooding Zellij cost the real server.
//! `cargo bench --bench bounds` (sizes: `AMC_BENCH_LOG_MB`, default 60; `AMC_BENCH_SESSION_MB`, default 100).
//!
//! 1. **60 MB event log**: `GET /api/events/{id}` (the default page, 500 events, and `limit=5000`), the median and
//!    slowest of 20 requests each, then 10 at once; the RSS before, the peak during (sampled every 2 ms) and after.
//! 2. **100 MB session file**: the first collection pass (start-up until the first full state) and then the CPU the
//!    idle server spends with a 200 ms liveness interval (the file is skipped, not re-read each pass), with RSS.
//! 3. **Zellij flood**: a fake `zellij` that prints forever (`yes`): the first pass and the RSS peak.
//!
//! Run without `--bench` (as `cargo test --all-targets` does) it is a short smoke run with small files.

// Test code: a failed unwrap or expect is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/mod.rs"]
mod support;

use std::{
    io::Write as _,
    sync::{
        atomic::{AtomicBool, AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use support::{spawn_server, TestEnv};

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn rss_mib() -> f64 {
    status_kib("VmRSS:") as f64 / 1024.0
}

/// CPU seconds (user + system) of this process.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
    // After the state letter (not a number): utime and stime are fields 14 and 15 of the whole line.
    (f.get(10).copied().unwrap_or(0.0) + f.get(11).copied().unwrap_or(0.0)) / 100.0
}

/// Samples the RSS every 2 ms until dropped; returns the peak.
struct PeakSampler {
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeakSampler {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let peak = Arc::new(AtomicU64::new(0));
        let (s, p) = (stop.clone(), peak.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(status_kib("VmRSS:"), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        PeakSampler {
            stop,
            peak,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> f64 {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        self.peak.load(Ordering::Relaxed) as f64 / 1024.0
    }
}

fn median(mut v: Vec<Duration>) -> (Duration, Duration) {
    v.sort();
    (v[v.len() / 2], *v.last().unwrap())
}

async fn event_log(mb: usize) {
    let env = TestEnv::new();
    let events = env.paths.events_dir();
    std::fs::create_dir_all(&events).unwrap();
    let mut file = std::io::BufWriter::new(std::fs::File::create(events.join("big.jsonl")).unwrap());
    let pad = "p".repeat(160);
    let (mut n, mut written) = (0u64, 0usize);
    while written < mb << 20 {
        let line = format!("{{\"event\":\"PreToolUse\",\"n\":{n},\"pad\":\"{pad}\"}}\n");
        written += line.len();
        file.write_all(line.as_bytes()).unwrap();
        n += 1;
    }
    file.flush().unwrap();
    drop(file);
    let running = spawn_server(env.config()).await;
    let client = reqwest::Client::new();
    let before = rss_mib();
    let sampler = PeakSampler::start();
    for (label, query) in [("default page (500)", ""), ("limit=5000", "?limit=5000")] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..20 {
            let started = Instant::now();
            let body = client
                .get(format!("{}/api/events/big{query}", running.url()))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            times.push(started.elapsed());
            bytes = body.len();
        }
        let (med, max) = median(times);
        println!("{mb} MB event log, {label}: median {med:.2?}, slowest {max:.2?}, {bytes} bytes per response");
    }
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (client, url) = (client.clone(), format!("{}/api/events/big?limit=5000", running.url()));
        set.spawn(async move { client.get(url).send().await.unwrap().bytes().await.unwrap().len() });
    }
    while set.join_next().await.is_some() {}
    let ten = started.elapsed();
    let peak = sampler.finish();
    println!(
        "{mb} MB event log, 10 at once (limit=5000): {ten:.2?} for all; RSS {before:.0} MiB before, peak {peak:.0} MiB, {:.0} MiB after",
        rss_mib()
    );
    running.stop().await;
}

async fn session_file(mb: usize) {
    let env = TestEnv::new();
    env.write_session("ok.json", r#"{"session_id":"ok","status":"active","agent":"claude"}"#);
    let mut text = String::from("{\"session_id\":\"big\",\"status\":\"active\",\"x\":\"");
    text.push_str(&"y".repeat(mb << 20));
    text.push_str("\"}");
    std::fs::write(env.paths.sessions_dir().join("big.json"), text).unwrap();
    let mut config = env.config();
    config.liveness_interval = Duration::from_millis(200);
    let before = rss_mib();
    let sampler = PeakSampler::start();
    let started = Instant::now();
    let running = spawn_server(config).await;
    let first = started.elapsed();
    // The sampler stops first: its own polling would count as the server's idle CPU.
    let peak = sampler.finish();
    let cpu0 = cpu_seconds();
    let passes0 = running.state.passes();
    let idle = Duration::from_secs(5);
    tokio::time::sleep(idle).await;
    let cpu = (cpu_seconds() - cpu0) / idle.as_secs_f64() * 100.0;
    let passes = running.state.passes() - passes0;
    println!(
        "{mb} MB session file: first pass {first:.2?}; idle {cpu:.1} % CPU over {passes} passes (200 ms liveness); RSS {before:.0} MiB before, peak {peak:.0} MiB, {:.0} MiB after",
        rss_mib()
    );
    running.stop().await;
}

async fn zellij_flood() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = TestEnv::new();
    let fake = env.home().join("zellij-flood");
    std::fs::write(&fake, "#!/bin/sh\nexec yes 'not zellij output, a flood of it'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    env.write_session(
        "z.json",
        r#"{"session_id":"z","status":"active","agent":"claude","zellij_session":"s","zellij_pane":"1"}"#,
    );
    let mut config = env.config();
    config.paths.zellij_bin = Some(fake);
    let before = rss_mib();
    let sampler = PeakSampler::start();
    let started = Instant::now();
    let running = spawn_server(config).await;
    let first = started.elapsed();
    let peak = sampler.finish();
    println!(
        "zellij flood: first pass {first:.2?}; RSS {before:.0} MiB before, peak {peak:.0} MiB, {:.0} MiB after",
        rss_mib()
    );
    running.stop().await;
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let size = |key: &str, default: usize| {
        std::env::var(key)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(if full { default } else { 2 })
    };
    zellij_flood().await;
    event_log(size("AMC_BENCH_LOG_MB", 60)).await;
    session_file(size("AMC_BENCH_SESSION_MB", 100)).await;
}
