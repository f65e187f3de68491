//! The fleet hub at scale (a plain program printing its figures): `cargo bench --bench fleet`.
//!
//! A local Debian `nats-server -js` (on a free loopback port, store in a temp dir) and a fleet simulator in this
//! process: N hosts × M sessions put into the `amc_sessions` bucket exactly as `amc serve --nats` publishers put them
//! (key `<host>.<session_id>`, value the protobuf `Session`, a `_host.<host>` record per host refreshed every 3 s).
//! Then the real release binary as the hub (`amc serve --fleet`, a separate process on `127.0.0.1:0`):
//!
//! - **start to full state**: from spawning the hub until `/api/health` counts N × M sessions;
//! - **change → WatchState**: one session of a random host changed (one put), until a WatchState client of the hub
//!   (deltas) receives it; K changes 50 ms apart, p50/p99/max (goal p99 ≤ 100 ms);
//! - **RSS** (`VmRSS` and peak `VmHWM`) of the hub after the changes;
//! - **idle CPU** of the hub over 20 s with only the host records' heartbeats flowing.
//!
//! Environment: `AMC_BENCH_HOSTS` (100), `AMC_BENCH_SESSIONS` (200 per host), `AMC_BENCH_CHANGES` (200),
//! `AMC_BENCH_IDLE_S` (20), `AMC_BENCH_BIN` (another amc binary). Skips with a message without nats-server. Run
//! without `--bench` (as `cargo test --all-targets` does) it is a smoke run: 3 hosts × 20 sessions, 10 changes, 2 s
//! idle.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/support/nats.rs"]
mod nats;

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use amc::proto as pb;

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A realistic session of `host`.
fn session(host: usize, i: usize, status: &str) -> bytes::Bytes {
    let id = format!("{host:03}-{i:04}-5f1c2e9a-8d7b-4c3e-a1b2-c3d4e5f6a7b8");
    let s = pb::Session {
        session_id: id,
        status: pb::SessionStatus::Active as i32,
        raw_status: status.into(),
        agent: pb::Agent::Claude as i32,
        raw_agent: "claude".into(),
        project_dir: format!("/home/dev/src/project-{i}"),
        cwd: format!("/home/dev/src/project-{i}"),
        transcript_path: format!("/home/dev/.claude/projects/-home-dev-src-project-{i}/{i}.jsonl"),
        zellij_session: "work".into(),
        zellij_pane: (i % 40).to_string(),
        last_event: "PostToolUse".into(),
        last_message_preview: "Running the test suite and fixing the failures it reports".into(),
        context_usage: Some(pb::ContextUsage {
            current_tokens: Some(81_234),
            window_tokens: 200_000,
            percent: 40.6,
            model: "claude-opus-4-6".into(),
            input_tokens: 12,
            output_tokens: 480,
            cache_read_tokens: 80_000,
            cache_creation_tokens: 1_222,
            ..Default::default()
        }),
        model: "claude-opus-4-6".into(),
        permission_mode: "default".into(),
        host: format!("host{host:03}"),
        ..Default::default()
    };
    prost::Message::encode_to_vec(&s).into()
}

fn key(host: usize, i: usize) -> String {
    format!("host{host:03}.{host:03}-{i:04}-5f1c2e9a-8d7b-4c3e-a1b2-c3d4e5f6a7b8")
}

fn record(host: usize) -> bytes::Bytes {
    let r = pb::FleetHostRecord {
        name: format!("host{host:03}"),
        instance_id: format!("sim-{host}"),
        revision: 1,
        version: "sim".into(),
        heartbeat_time: Some(amc::wire::system_time(std::time::SystemTime::now())),
        sessions: 0,
    };
    prost::Message::encode_to_vec(&r).into()
}

fn proc_status(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// utime + stime of `pid` in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
        + fields.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct Hub(Child);

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let scale = |name, full_value, smoke_value| env_num(name, if full { full_value } else { smoke_value });
    let hosts = scale("AMC_BENCH_HOSTS", 100, 3) as usize;
    let per_host = scale("AMC_BENCH_SESSIONS", 200, 20) as usize;
    let changes = scale("AMC_BENCH_CHANGES", 200, 10) as usize;
    let idle_s = scale("AMC_BENCH_IDLE_S", 20, 2);
    let bin = std::env::var("AMC_BENCH_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_amc").to_owned());
    let dir = tempfile::tempdir().unwrap();
    let Some(nats) = nats::NatsServer::start(dir.path()) else {
        return;
    };
    let url = nats.url();
    let client = async_nats::connect(url.as_str()).await.unwrap();
    let js = async_nats::jetstream::new(client.clone());
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "KV_amc_sessions".into(),
        subjects: vec!["$KV.amc_sessions.>".into()],
        max_messages_per_subject: 1,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        discard: async_nats::jetstream::stream::DiscardPolicy::New,
        ..Default::default()
    })
    .await
    .unwrap();
    let kv = js.get_key_value("amc_sessions").await.unwrap();

    // The simulated fleet.
    let total = hosts * per_host;
    let started = Instant::now();
    for host in 0..hosts {
        let puts = (0..per_host).map(|i| {
            let kv = kv.clone();
            async move { kv.put(key(host, i), session(host, i, "active")).await }
        });
        futures_util::future::try_join_all(puts).await.unwrap();
        kv.put(format!("_host.host{host:03}"), record(host)).await.unwrap();
    }
    println!(
        "fleet simulator: {hosts} hosts x {per_host} sessions = {total} sessions put in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let beating = {
        let kv = kv.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(3)).await;
                for host in 0..hosts {
                    let _ = kv.put(format!("_host.host{host:03}"), record(host)).await;
                }
            }
        })
    };

    // The hub.
    let home = dir.path().join("hub");
    std::fs::create_dir_all(home.join("data")).unwrap();
    let addr_file = home.join("addr");
    let spawned = Instant::now();
    let hub = Hub(Command::new(&bin)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--fleet",
            "--host",
            "hub",
            "--nats",
            &url,
            "--addr-file",
        ])
        .arg(&addr_file)
        .env_clear()
        .env("HOME", &home)
        .env("AMC_DATA_DIR", home.join("data"))
        .env("AMC_ZELLIJ_BIN", home.join("no-zellij"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the hub"));
    let pid = hub.0.id();
    let addr = loop {
        if let Ok(a) = std::fs::read_to_string(&addr_file) {
            if !a.is_empty() {
                break a;
            }
        }
        assert!(spawned.elapsed() < Duration::from_secs(120), "the hub did not start");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let http = reqwest::Client::new();
    loop {
        let health: serde_json::Value = http
            .get(format!("http://{addr}/api/health"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if health["sessions"].as_u64() == Some(total as u64) {
            break;
        }
        assert!(
            spawned.elapsed() < Duration::from_secs(300),
            "the hub never held every session: {health}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let full_state = spawned.elapsed();
    println!(
        "hub start to full state ({total} sessions): {:.2} s",
        full_state.as_secs_f64()
    );
    println!(
        "hub RSS after the full state: {:.1} MB (peak {:.1} MB)",
        proc_status(pid, "VmRSS:") as f64 / 1024.0,
        proc_status(pid, "VmHWM:") as f64 / 1024.0
    );

    // change → WatchState.
    let mut watch = nats::open_watch(&addr).await;
    let mut latencies = Vec::with_capacity(changes);
    let ticks_before = cpu_ticks(pid);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for k in 0..changes {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let host = (seed % hosts as u64) as usize;
        let i = ((seed >> 20) % per_host as u64) as usize;
        let status = format!("change-{k}");
        let t0 = Instant::now();
        kv.put(key(host, i), session(host, i, &status)).await.unwrap();
        nats::watch_until(&mut watch, Duration::from_secs(10), |s| s.raw_status == status)
            .await
            .expect("a change reached the hub's WatchState");
        let got = t0.elapsed();
        latencies.push(got);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cpu_per_change = (cpu_ticks(pid) - ticks_before) as f64 * 10.0 / changes as f64;
    latencies.sort();
    println!(
        "change -> hub WatchState ({changes} changes): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (goal p99 <= 100 ms)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().unwrap().as_secs_f64() * 1e3
    );
    println!("hub CPU per change: {cpu_per_change:.1} ms (utime + stime over the changes, 50 ms apart)");
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average during the run: {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
    println!(
        "hub RSS after the changes: {:.1} MB (peak {:.1} MB)",
        proc_status(pid, "VmRSS:") as f64 / 1024.0,
        proc_status(pid, "VmHWM:") as f64 / 1024.0
    );

    // Idle CPU: only heartbeats flowing.
    drop(watch);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ticks = cpu_ticks(pid);
    let t0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(idle_s)).await;
    let used = (cpu_ticks(pid) - ticks) as f64 / 100.0;
    println!(
        "hub idle CPU over {idle_s} s ({hosts} host records every 3 s): {:.2} % of one core",
        used / t0.elapsed().as_secs_f64() * 100.0
    );
    beating.abort();
    drop(hub);
    drop(nats);
}
