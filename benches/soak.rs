//! The soak (a plain program, not a timed test): `cargo bench --bench soak`.
//!
//! The real release binary (`amc serve`, `AMC_BENCH_BIN` overrides it) runs as a separate process on `127.0.0.1:0`
//! with a temp data dir and HOME; from this process, over loopback only: 1 000 WatchState watchers asking for deltas
//! (20 streams on each of 50 connections) and 100 SSE clients of `/api/stream?deltas=1`, while 200 sessions churn at
//! 50 changes a second — rewrites (atomic, as the hook writes), renames in from another directory, deletions (each
//! session deleted and renamed back in a second later, once every 40 s), and new Claude transcripts for a session
//! (appended lines).
//!
//! The server starts in the steady state of a long-running one: its event ring file holds 100 000 recent events (the
//! ring's cap; at this churn's ~30 events/s an empty ring would take about an hour to fill) and a first server on the
//! same data dir has seen 1 000 sessions vanish (the decision log's cap, ~200 s of this churn). Without that the RSS
//! check would measure those two stores filling up, not a leak.
//!
//! Checked, and printed: every watcher's and SSE client's revisions strictly increase, every delta applies to the
//! revision the client holds (no gap: `base_revision` = its last revision), and after the churn every client reaches
//! GetState's revision (it is waited for, at most 60 s: a client starved of CPU can be far behind) and every gRPC
//! watcher's state (snapshot + deltas applied in order) equals GetState's; the server's RSS then is within 10 % of the
//! RSS after warm-up; its open fds at the end are at most those after warm-up (+ 8 files a pass may have open), and
//! after the clients leave at most those before they came (+ 2): no leak. Exits 1 when a check fails.
//!
//! Environment: `AMC_SOAK_SECS` (default 600) the churn's length; warm-up is the first 10 % of it (at least 10 s).
//! Run without `--bench` (as `cargo test --all-targets` does) it is a smoke run: 4 s, 40 watchers on 4 connections,
//! 4 SSE clients, an empty ring and decision log, the same checks but the RSS one.

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

/// Starts `amc serve` on `dir` (its `home` and `data`); returns the process and its URL.
fn spawn(bin: &Path, dir: &Path, log: &str) -> (Child, String) {
    let addr_file = dir.join("addr");
    let _ = std::fs::remove_file(&addr_file);
    let child = Command::new(bin)
        .args(["serve", "--listen", "127.0.0.1:0", "--addr-file"])
        .arg(&addr_file)
        .env_clear()
        .env("HOME", dir.join("home"))
        .env("AMC_DATA_DIR", dir.join("data"))
        .env("AMC_ZELLIJ_BIN", dir.join("no-zellij"))
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join(log)).expect("log"))
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
    (child, format!("http://{addr}"))
}

/// The sessions `/api/state` lists.
async fn listed(url: &str) -> usize {
    let state: serde_json::Value = reqwest::get(format!("{url}/api/state"))
        .await
        .expect("/api/state")
        .json()
        .await
        .expect("state JSON");
    state["sessions"].as_array().map_or(0, Vec::len)
}

/// Lines in a file (0 if absent).
fn lines(file: &Path) -> usize {
    std::fs::read(file)
        .map(|b| b.iter().filter(|c| **c == b'\n').count())
        .unwrap_or(0)
}

/// Waits up to 60 s for `done`.
async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done().await {
        assert!(Instant::now() < deadline, "soak: timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The events a day-old server keeps: the ring full (`RING_CAP` events younger than 24 h), shaped like the churn's.
const RING_CAP: usize = 100_000;

/// The removed sessions the decision log keeps at most (`publisher::decision_log::REMOVED_CAP`).
const REMOVED_CAP: usize = amc::publisher::decision_log::REMOVED_CAP;

impl Server {
    /// Starts the server on a data dir in the steady state of a long-running one, so the RSS after warm-up is not
    /// raised by the two stores that fill up to their caps (at this churn's rate the event ring would need ~1 h, the
    /// decision log ~200 s): the event ring file holds `RING_CAP` recent events like the churn's, and a first server
    /// has listed `REMOVED_CAP` extra sessions and seen them vanish, so the decision log is full.
    /// Without `steady` (the smoke run) neither is prepared.
    async fn start(bin: &Path, steady: bool) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        let (home, data) = (dir.path().join("home"), dir.path().join("data"));
        std::fs::create_dir_all(data.join("sessions")).expect("mkdir");
        std::fs::create_dir_all(data.join("stream")).expect("mkdir");
        std::fs::create_dir_all(home.join(".claude/projects")).expect("mkdir");
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64;
        let ring_cap = if steady { RING_CAP } else { 0 };
        let mut ring = Vec::with_capacity(ring_cap * 200);
        for k in 0..ring_cap {
            let i = k % SESSIONS;
            let session: serde_json::Value = serde_json::from_str(&session_json(i, 0)).expect("session JSON");
            let mut event = amc::event::Event::bare(
                amc::event::EventKind::TurnDone,
                session["session_id"].as_str().expect("id"),
                now_ms - 3_600_000 + k as i64,
            );
            (event.id, event.revision) = (k as u64 + 1, k as u64 + 1);
            event.agent = session["agent"].as_str().expect("agent").to_owned();
            event.project_dir = session["project_dir"].as_str().expect("project_dir").to_owned();
            serde_json::to_writer(&mut ring, &event).expect("event JSON");
            ring.push(b'\n');
        }
        std::fs::write(data.join("stream/events.jsonl"), ring).expect("write the ring");
        let gone = |k: usize| data.join("sessions").join(session_file(10_000 + k));
        for i in 0..SESSIONS {
            amc::store::write_atomic(
                &data.join("sessions").join(session_file(i)),
                session_json(i, 0).as_bytes(),
            )
            .expect("write");
        }
        if steady {
            for k in 0..REMOVED_CAP {
                amc::store::write_atomic(&gone(k), session_json(10_000 + k, 0).as_bytes()).expect("write");
            }
            let (mut first, url) = spawn(bin, dir.path(), "first-server.log");
            wait_for("the first server to list every session", async || {
                listed(&url).await == SESSIONS + REMOVED_CAP
            })
            .await;
            for k in 0..REMOVED_CAP {
                std::fs::remove_file(gone(k)).expect("remove");
            }
            let removed = data.join("cache/removed.jsonl");
            wait_for("the decision log to fill", async || lines(&removed) >= REMOVED_CAP).await;
            let _ = first.kill();
            let _ = first.wait();
        }
        let (child, url) = spawn(bin, dir.path(), "server.log");
        Server { child, url, dir }
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

    /// Lines in the persisted event ring (`stream/events.jsonl`): the events kept (up to 100 000 for 24 h) and those
    /// appended since the file's last rewrite.
    fn ring_events(&self) -> usize {
        lines(&self.dir.path().join("data/stream/events.jsonl"))
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

/// What an SSE client reads of a frame's JSON.
#[derive(serde::Deserialize)]
struct FrameHead {
    #[serde(default)]
    revision: u64,
    base_revision: Option<u64>,
}

/// An SSE client of `/api/stream?deltas=1`: checks `id:` revisions and delta bases.
async fn sse(url: String, seen: Arc<Seen>, stop: CancellationToken) {
    let mut response = reqwest::get(format!("{url}/api/stream?deltas=1")).await.expect("sse");
    let mut buffer = String::new();
    // How far `buffer` is known to hold no frame end: a 200 KB state frame arrives in many chunks, and searching
    // it from the start after each one cost the client more CPU than parsing it.
    let mut scanned = 0usize;
    let mut last = 0u64;
    loop {
        while let Some(end) = buffer.as_bytes()[scanned..]
            .windows(2)
            .position(|w| w == b"\n\n")
            .map(|at| scanned + at)
        {
            let frame: String = buffer.drain(..end + 2).collect();
            scanned = 0;
            let Some(data) = frame.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            let event = frame.lines().find_map(|l| l.strip_prefix("event: ")).unwrap_or("state");
            // Only the two numbers checked (parsing the whole state into a `Value` cost the client CPU it lacked).
            let head: FrameHead = serde_json::from_str(data).expect("SSE JSON");
            let revision = head.revision;
            seen.messages.fetch_add(1, Ordering::Relaxed);
            if event == "delta" && head.base_revision != Some(last) {
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
            Ok(Some(bytes)) => {
                // A frame end may straddle the chunks: look again from the last byte already searched.
                scanned = buffer.len().saturating_sub(1);
                buffer.push_str(&String::from_utf8_lossy(&bytes));
            }
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

/// The session changes of round `round` touch (ten changes a round): round `r` deletes `base(r)` and renames
/// `base(r - 5)` back in (a second later), and rewrites sessions far from both. 161 is prime to 200, so the bases run
/// through every session, each deleted and re-created once every 200 rounds (40 s).
fn base(round: u64) -> usize {
    (round.wrapping_mul(161) % SESSIONS as u64) as usize
}

/// One change of the churn, chosen by `n`.
fn churn(server: &Server, home: &Path, outside: &Path, n: u64) {
    let (round, step) = (n / 10, n % 10);
    let i = match step {
        0 => base(round),
        2 => base(round.saturating_sub(5)),
        // 20·step away from this round's base: never a session deleted in the last five rounds (161·j + 20·step ≢ 0
        // mod 200 for j < 5).
        s => (base(round) + 20 * s as usize) % SESSIONS,
    };
    let path = server.sessions_dir().join(session_file(i));
    match step {
        // Deleted; renamed back in five rounds later (below).
        0 => {
            let _ = std::fs::remove_file(&path);
        }
        // Renamed in from another directory (step 2: the session deleted five rounds ago comes back).
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
        // Rewritten as the hook writes.
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
    let server = Server::start(&bin, full).await;
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
    let stopped = Instant::now();
    let rss_churn_end = server.rss_kib();
    // Let the last changes reach everyone: wait (up to 60 s) until every client holds GetState's revision (a client
    // starved of CPU by other work on the machine can be far behind when the churn stops), then compare with it. The
    // end RSS is taken then, when the server holds nothing more to send.
    tokio::time::sleep(settle).await;
    let mut client = StateServiceClient::new(channels[0].clone()).max_decoding_message_size(64 << 20);
    let state = loop {
        let state = client
            .get_state(pb::GetStateRequest::default())
            .await
            .expect("GetState")
            .into_inner()
            .state
            .expect("state");
        let current = |s: &Arc<Seen>| s.last.load(Ordering::Relaxed) == state.revision;
        if watcher_seen.iter().chain(&sse_seen).all(current) || stopped.elapsed() >= Duration::from_secs(60) {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let caught_up = stopped.elapsed();
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
    println!(
        "soak: clients checked {:.1} s after the churn stopped (at most 60 s: the first moment every client held the final revision)",
        caught_up.as_secs_f64()
    );
    println!("soak: RSS after warm-up {rss_warm} KiB, peak {rss_peak} KiB, when the churn stopped {rss_churn_end} KiB, end {rss_end} KiB ({rss_change:+.1} %)");
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
        // `exit` runs no destructors: stop the server (and remove its temp dir) first.
        drop(server);
        std::process::exit(1);
    }
}
