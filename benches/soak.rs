//! The soak (a plain program, not a timed test): `cargo bench --bench soak`.
//!
//! The real release binary (`amc serve`, `AMC_BENCH_BIN` overrides it) runs as a separate process on `127.0.0.1:0`
//! with a temp data dir and HOME; from this process, over loopback only: 1 000 WatchState watchers asking for deltas
//! (20 streams on each of 50 connections) and 100 SSE clients of `/api/stream?deltas=1`, while 200 sessions churn at
//! 50 changes a second — rewrites (atomic, as the hook writes), renames in from another directory, deletions and
//! re-creations, and new Claude transcripts for a session (appended lines).
//!
//! Checked, and printed: every watcher's and SSE client's revisions strictly increase, every delta applies to the
//! revision the client holds (no gap: `base_revision` = its last revision), and after the churn every gRPC watcher's
//! state (snapshot + deltas applied in order) equals GetState's; the server's RSS at the end is within 10 % of the
//! RSS after warm-up; its open fds at the end are at most those after warm-up (+ 8 files a pass may have open), and
//! after the clients leave at most those before they came (+ 2): no leak. Exits 1 when a check fails.
//!
//! Environment: `AMC_SOAK_SECS` (default 600) the churn's length; warm-up is the first 10 % of it (at least 10 s).
//! Run without `--bench` (as `cargo test --all-targets` does) it is a smoke run: 4 s, 40 watchers on 4 connections,
//! 4 SSE clients, the same checks but the RSS one.

// Bench code: a failed unwrap or expect is a failed run (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

mod common;

use amc::proto::{self as pb, state_service_client::StateServiceClient, watch_state_response::Kind};
use common::{session_file, session_json};
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};

const SESSIONS: usize = 200;
const CHANGES_PER_SECOND: u64 = 50;

struct Server {
    child: Child,
    url: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(bin: &Path) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let (home, data) = (dir.path().join("home"), dir.path().join("data"));
        std::fs::create_dir_all(data.join("sessions")).expect("mkdir");
        std::fs::create_dir_all(home.join(".claude/projects")).expect("mkdir");
        for i in 0..SESSIONS {
            amc::store::write_atomic(
                &data.join("sessions").join(session_file(i)),
                session_json(i, 0).as_bytes(),
            )
            .expect("write");
        }
        let addr_file = dir.path().join("addr");
        let child = Command::new(bin)
            .args(["serve", "--listen", "127.0.0.1:0", "--addr-file"])
            .arg(&addr_file)
            .env_clear()
            .env("HOME", &home)
            .env("AMC_DATA_DIR", &data)
            .env("AMC_ZELLIJ_BIN", dir.path().join("no-zellij"))
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("server.log")).expect("log"))
            .spawn()
            .expect("start amc serve");
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            if let Ok(addr) = std::fs::read_to_string(&addr_file) {
                if !addr.is_empty() {
                    break addr;
                }
            }
            assert!(Instant::now() < deadline, "amc serve did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        Server {
            child,
            url: format!("http://{addr}"),
            dir,
        }
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS")
    }

    fn fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .expect("fd dir")
            .count()
    }

    /// Lines in the persisted event ring (`stream/events.jsonl`): the events the server keeps (up to 100 000 for
    /// 24 h), which grow with the churn.
    fn ring_events(&self) -> usize {
        std::fs::read(self.dir.path().join("data/stream/events.jsonl"))
            .map(|b| b.iter().filter(|c| **c == b'\n').count())
            .unwrap_or(0)
    }

    fn sessions_dir(&self) -> PathBuf {
        self.dir.path().join("data/sessions")
    }
}

static FIRST_ERROR: AtomicBool = AtomicBool::new(false);
static FIRST_SSE_ERROR: AtomicBool = AtomicBool::new(false);

/// What one client saw.
#[derive(Default)]
struct Seen {
    messages: AtomicU64,
    gaps: AtomicU64,
    backwards: AtomicU64,
    /// Streams that ended with an error before the stop (the first error is printed).
    errors: AtomicU64,
    last: AtomicU64,
}

/// A gRPC watcher: applies snapshots and deltas, checks revisions and bases; returns its final state when stopped.
async fn watcher(channel: Channel, seen: Arc<Seen>, stop: CancellationToken) -> BTreeMap<String, pb::Session> {
    let mut client = StateServiceClient::new(channel).max_decoding_message_size(64 << 20);
    let request = pb::WatchStateRequest {
        deltas: true,
        ..Default::default()
    };
    let mut stream = client.watch_state(request).await.expect("watch").into_inner();
    let mut state: BTreeMap<String, pb::Session> = BTreeMap::new();
    let mut last = 0u64;
    loop {
        let message = tokio::select! {
            () = stop.cancelled() => break,
            m = stream.message() => m,
        };
        let m = match message {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(status) => {
                seen.errors.fetch_add(1, Ordering::Relaxed);
                if !FIRST_ERROR.swap(true, Ordering::Relaxed) {
                    eprintln!("soak: a watcher's stream ended (first of its kind printed): {status:?}");
                }
                break;
            }
        };
        seen.messages.fetch_add(1, Ordering::Relaxed);
        match m.kind {
            Some(Kind::Snapshot(s)) => {
                if m.revision <= last && last != 0 {
                    seen.backwards.fetch_add(1, Ordering::Relaxed);
                }
                state = s.sessions.into_iter().map(|s| (s.session_id.clone(), s)).collect();
            }
            Some(Kind::Delta(d)) => {
                if d.base_revision != last {
                    seen.gaps.fetch_add(1, Ordering::Relaxed);
                }
                if m.revision <= last {
                    seen.backwards.fetch_add(1, Ordering::Relaxed);
                }
                for id in d.removed_session_ids {
                    state.remove(&id);
                }
                for s in d.upserted_sessions {
                    state.insert(s.session_id.clone(), s);
                }
            }
            Some(Kind::Heartbeat(_)) | None => {
                if m.revision < last {
                    seen.backwards.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        last = m.revision;
        seen.last.store(last, Ordering::Relaxed);
    }
    state
}

/// An SSE client of `/api/stream?deltas=1`: checks `id:` revisions and delta bases.
async fn sse(url: String, seen: Arc<Seen>, stop: CancellationToken) {
    let mut response = reqwest::get(format!("{url}/api/stream?deltas=1")).await.expect("sse");
    let mut buffer = String::new();
    let mut last = 0u64;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let frame: String = buffer.drain(..end + 2).collect();
            let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let event = frame.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("state");
            let json: serde_json::Value = serde_json::from_str(data).expect("SSE JSON");
            let revision = json["revision"].as_u64().unwrap_or(0);
            seen.messages.fetch_add(1, Ordering::Relaxed);
            if event == "delta" && json["base_revision"].as_u64() != Some(last) {
                seen.gaps.fetch_add(1, Ordering::Relaxed);
            }
            if revision <= last {
                seen.backwards.fetch_add(1, Ordering::Relaxed);
            }
            last = revision;
            seen.last.store(last, Ordering::Relaxed);
        }
        let chunk = tokio::select! {
            () = stop.cancelled() => return,
            c = response.chunk() => c,
        };
        match chunk {
            Ok(Some(bytes)) => buffer.push_str(&String::from_utf8_lossy(&bytes)),
            Ok(None) => return,
            Err(error) => {
                seen.errors.fetch_add(1, Ordering::Relaxed);
                if !FIRST_SSE_ERROR.swap(true, Ordering::Relaxed) {
                    eprintln!("soak: an SSE stream ended (first of its kind printed): {error:?}");
                }
                return;
            }
        }
    }
}

/// One change of the churn, chosen by `n`.
fn churn(server: &Server, home: &Path, outside: &Path, n: u64) {
    let i = (n.wrapping_mul(2_654_435_761) % SESSIONS as u64) as usize;
    let path = server.sessions_dir().join(session_file(i));
    match n % 10 {
        // Deleted, then back two changes later (below).
        0 => {
            let _ = std::fs::remove_file(&path);
        }
        // Renamed in from another directory.
        1 | 2 => {
            let tmp = outside.join(session_file(i));
            std::fs::write(&tmp, session_json(i, n)).expect("write");
            std::fs::rename(&tmp, &path).expect("rename in");
        }
        // A new transcript for the session, then lines appended to it.
        3 => {
            let dir = home.join(format!(".claude/projects/-home-user-src-project-{i}"));
            std::fs::create_dir_all(&dir).expect("mkdir");
            let sid = format!("bench-{i:04}-7c1e2b9a-5d2f-4e0b-9a43-{i:012}");
            let line = format!(
                "{{\"type\":\"assistant\",\"sessionId\":\"{sid}\",\"message\":{{\"model\":\"claude-opus-4-6\",\"usage\":{{\"input_tokens\":{},\"cache_read_input_tokens\":0,\"cache_creation_input_tokens\":0,\"output_tokens\":5}},\"content\":[{{\"type\":\"text\",\"text\":\"hi\"}}]}}}}\n",
                1000 + n
            );
            use std::io::Write as _;
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(dir.join(format!("{sid}.jsonl")))
                .expect("transcript");
            file.write_all(line.as_bytes()).expect("append");
        }
        // Rewritten as the hook writes (also brings back a deleted one).
        _ => amc::store::write_atomic(&path, session_json(i, n).as_bytes()).expect("write"),
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (secs, warmup, watchers_n, connections, sse_n) = if full {
        let secs: u64 = std::env::var("AMC_SOAK_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(600);
        (secs, Duration::from_secs((secs / 10).max(10)), 1000, 50, 100)
    } else {
        (4, Duration::from_secs(1), 40, 4, 4)
    };
    let bin = std::env::var_os("AMC_BENCH_BIN").map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_amc")), PathBuf::from);
    let server = Server::start(&bin);
    let home = server.dir.path().join("home");
    let outside = server.dir.path().join("outside");
    std::fs::create_dir_all(&outside).expect("mkdir");
    let settle = Duration::from_secs(if full { 3 } else { 1 });
    tokio::time::sleep(settle).await;
    let fds_before = server.fds();
    println!("soak: {secs} s of churn at {CHANGES_PER_SECOND}/s over {SESSIONS} sessions; {watchers_n} WatchState watchers (deltas) on {connections} connections, {sse_n} SSE clients (deltas); server pid {}", server.child.id());

    let stop = CancellationToken::new();
    let mut channels = Vec::new();
    for _ in 0..connections {
        let channel = Endpoint::from_shared(server.url.clone())
            .expect("url")
            .connect()
            .await
            .expect("connect");
        channels.push(channel);
    }
    let watcher_seen: Vec<Arc<Seen>> = (0..watchers_n).map(|_| Arc::default()).collect();
    let watchers: Vec<_> = (0..watchers_n)
        .map(|w| {
            tokio::spawn(watcher(
                channels[w % connections].clone(),
                watcher_seen[w].clone(),
                stop.clone(),
            ))
        })
        .collect();
    let sse_seen: Vec<Arc<Seen>> = (0..sse_n).map(|_| Arc::default()).collect();
    let sse_clients: Vec<_> = (0..sse_n)
        .map(|c| tokio::spawn(sse(server.url.clone(), sse_seen[c].clone(), stop.clone())))
        .collect();

    let changes = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let (mut rss_warm, mut fds_warm, mut rss_peak) = (0u64, 0usize, 0u64);
    let mut tick = tokio::time::interval(Duration::from_millis(1000 / CHANGES_PER_SECOND));
    let mut n = 0u64;
    let mut next_report = Duration::from_secs(60);
    while start.elapsed() < Duration::from_secs(secs) {
        tick.tick().await;
        churn(&server, &home, &outside, n);
        n += 1;
        changes.fetch_add(1, Ordering::Relaxed);
        if rss_warm == 0 && start.elapsed() >= warmup {
            (rss_warm, fds_warm) = (server.rss_kib(), server.fds());
            println!(
                "soak: after warm-up ({} s): RSS {} KiB, {} fds, {} events in the ring",
                warmup.as_secs(),
                rss_warm,
                fds_warm,
                server.ring_events()
            );
        }
        if n.is_multiple_of(50) {
            rss_peak = rss_peak.max(server.rss_kib());
        }
        if start.elapsed() >= next_report {
            println!(
                "soak: {} s, {} changes, RSS {} KiB, {} fds, {} events in the ring",
                start.elapsed().as_secs(),
                n,
                server.rss_kib(),
                server.fds(),
                server.ring_events()
            );
            next_report += Duration::from_secs(60);
        }
    }
    let churned = start.elapsed();
    // Let the last changes reach everyone, then compare with GetState.
    tokio::time::sleep(settle).await;
    let mut client = StateServiceClient::new(channels[0].clone()).max_decoding_message_size(64 << 20);
    let state = client
        .get_state(pb::GetStateRequest::default())
        .await
        .expect("GetState")
        .into_inner()
        .state
        .expect("state");
    let final_revision = state.revision;
    let (rss_end, fds_end) = (server.rss_kib(), server.fds());
    stop.cancel();
    let mut mismatched = 0usize;
    let expected: BTreeMap<String, pb::Session> =
        state.sessions.into_iter().map(|s| (s.session_id.clone(), s)).collect();
    for w in watchers {
        let got = w.await.expect("watcher");
        if got != expected {
            mismatched += 1;
        }
    }
    for c in sse_clients {
        let _ = c.await;
    }
    drop(channels);
    drop(client);
    tokio::time::sleep(settle).await;
    let fds_after = server.fds();

    let sum =
        |seen: &[Arc<Seen>], f: fn(&Seen) -> &AtomicU64| seen.iter().map(|s| f(s).load(Ordering::Relaxed)).sum::<u64>();
    let behind = |seen: &[Arc<Seen>]| {
        seen.iter()
            .filter(|s| s.last.load(Ordering::Relaxed) != final_revision)
            .count()
    };
    let (w_msgs, w_gaps, w_back) = (
        sum(&watcher_seen, |s| &s.messages),
        sum(&watcher_seen, |s| &s.gaps),
        sum(&watcher_seen, |s| &s.backwards),
    );
    let (s_msgs, s_gaps, s_back) = (
        sum(&sse_seen, |s| &s.messages),
        sum(&sse_seen, |s| &s.gaps),
        sum(&sse_seen, |s| &s.backwards),
    );
    let rss_change = (rss_end as f64 - rss_warm as f64) / rss_warm.max(1) as f64 * 100.0;
    println!(
        "soak: {} changes in {:.0} s ({:.1}/s); final revision {final_revision}",
        n,
        churned.as_secs_f64(),
        n as f64 / churned.as_secs_f64()
    );
    println!("soak: WatchState: {w_msgs} messages, {w_gaps} gaps, {w_back} revisions not increasing, {} streams ended by an error, {} not at the final revision, {mismatched} states differing from GetState", sum(&watcher_seen, |s| &s.errors), behind(&watcher_seen));
    println!(
        "soak: SSE: {s_msgs} frames, {s_gaps} gaps, {s_back} revisions not increasing, {} streams ended by an error, {} not at the final revision",
        sum(&sse_seen, |s| &s.errors),
        behind(&sse_seen)
    );
    println!("soak: RSS after warm-up {rss_warm} KiB, peak {rss_peak} KiB, end {rss_end} KiB ({rss_change:+.1} %)");
    println!("soak: fds before clients {fds_before}, after warm-up {fds_warm}, end {fds_end}, after clients left {fds_after}");
    let ok = w_gaps == 0
        && w_back == 0
        && s_gaps == 0
        && s_back == 0
        && mismatched == 0
        && behind(&watcher_seen) == 0
        && behind(&sse_seen) == 0
        && (!full || rss_change.abs() <= 10.0)
        && fds_end <= fds_warm + 8
        && fds_after <= fds_before + 2;
    println!("soak: {}", if ok { "all checks passed" } else { "FAILED" });
    if !ok {
        std::process::exit(1);
    }
}
