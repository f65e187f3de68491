//! Live-watch figures at scale (a plain program printing a table, not a timed test): `cargo bench --bench watch`.
//!
//! Every figure is measured against the real release binary (`amc serve`, built by `cargo bench` itself as
//! `target/release/amc`; `AMC_BENCH_BIN` overrides the path) running as a separate process on `127.0.0.1:0` with a
//! temp data dir, a temp `HOME` and a nonexistent `AMC_ZELLIJ_BIN`, loaded from this process with tonic clients over
//! loopback only. Every phase is bounded in count and time.
//!
//! - **P1** write → WatchState latency: 200 sessions, 100 watchers (one connection each); ≥ 100 session-file writes
//!   (atomic temp + fsync + rename, exactly as the hook writes them, `amc::store::write_atomic`) spaced 50 ms apart;
//!   per write the arrival time at every watcher. Goal: p99 ≤ 25 ms. Measured twice with full snapshots: with the
//!   crate's client decoding every message in this process (the clients' CPU shares the two cores with the server),
//!   and with light clients in a process of their own that decode only the revision of each (fully received)
//!   message, together with the server's per-stage timestamps (see `watchers/mod.rs`).
//! - **P2** idle CPU: 200 sessions and 100 watchers, nothing written for 60 s; utime + stime from `/proc/<pid>/stat`,
//!   and the number of collection passes from `/api/health`. Goal: ≤ 1 % of one core. Also measured without watchers.
//! - **P4** GetState requests/s at 100 sessions next to `grpc.health.v1.Health/Check` on the same server with the
//!   same concurrency (8 connections × 32 in flight, 10 s each, two rounds in opposite order). Goal: ≥ 50 % of Check.
//!   Then 1 000 watchers (one connection each) and the time from a write until all 1 000 got it.
//! - **P5** peak RSS (`VmHWM`) with 500 sessions and 1 000 watchers receiving 20 changes. Goal: ≤ 64 MB.
//!
//! Environment: `AMC_BENCH_QUICK=1` scales every phase down (fewer writes, 10 s idle, 2 s throughput runs) for a quick
//! check; `AMC_BENCH_ONLY=p1,p2,p4,fanout,p5` runs a subset (`p1-full`: only P1's full-snapshot rows, in-process
//! and external watchers, with the baseline's when set); `AMC_BENCH_BIN=/path/to/amc` uses another binary;
//! `AMC_BENCH_BASELINE=/path/to/amc` also measures P1 (full snapshots) on that binary in the same run (before/after).

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant, SystemTime},
};

mod common;
mod watchers;

use common::{session_file, session_json};

use amc::proto::{self as pb, state_service_client::StateServiceClient, watch_state_response::Kind};
use tokio::task::JoinSet;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Result<T, E = BoxError> = std::result::Result<T, E>;

/// Upper bound on any single phase, whatever happens.
const PHASE_LIMIT: Duration = Duration::from_secs(180);

// ---------------------------------------------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------------------------------------------

/// `amc serve` as a child process with its own temp HOME and data dir; killed (by its pid) and reaped on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    sessions_dir: PathBuf,
    dir: tempfile::TempDir,
}

impl Server {
    fn start(bin: &Path, sessions: usize) -> Result<Server> {
        Server::start_with(bin, sessions, false)
    }

    /// With `stages`, the server logs in JSON with `amc::publisher` at debug level, so that the time of each
    /// `publishing new state` (the pass's end) can be read back ([`watchers::published_at`]).
    fn start_with(bin: &Path, sessions: usize, stages: bool) -> Result<Server> {
        let dir = tempfile::tempdir()?;
        let home = dir.path().join("home");
        let data = dir.path().join("data");
        let sessions_dir = data.join("sessions");
        std::fs::create_dir_all(&sessions_dir)?;
        std::fs::create_dir_all(&home)?;
        for i in 0..sessions {
            amc::store::write_atomic(&sessions_dir.join(session_file(i)), session_json(i, 0).as_bytes())?;
        }
        let addr_file = dir.path().join("addr");
        let log = std::fs::File::create(dir.path().join("server.log"))?;
        let mut command = Command::new(bin);
        command
            .args(["serve", "--listen", "127.0.0.1:0", "--addr-file"])
            .arg(&addr_file)
            .env("HOME", &home)
            .env("AMC_DATA_DIR", &data)
            .env("CLAUDE_CONFIG_DIR", home.join(".claude"))
            .env("CODEX_HOME", home.join(".codex"))
            .env("AMC_ZELLIJ_BIN", dir.path().join("no-zellij"))
            .env("RUST_LOG", if stages { "warn,amc::publisher=debug" } else { "warn" })
            .env("AMC_LOG_FORMAT", if stages { "json" } else { "text" })
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        // The server's own defaults (2 s liveness, 30 s reconcile, 20 ms debounce, 15 s heartbeat), whatever the
        // caller's environment says.
        for key in [
            "AMC_TOKEN",
            "AMC_LISTEN",
            "XDG_DATA_HOME",
            "AMC_CONTEXT_WINDOW",
            "AMC_HEARTBEAT_MS",
            "AMC_SSE_PING_MS",
            "AMC_LIVENESS_MS",
            "AMC_RECONCILE_MS",
            "AMC_DEBOUNCE_MS",
            "AMC_SHUTDOWN_GRACE_MS",
        ] {
            command.env_remove(key);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("starting {}: {e}", bin.display()))?;
        println!("  (server pid {}, {sessions} sessions)", child.id());
        let mut server = Server {
            child,
            addr: "127.0.0.1:0".parse()?,
            sessions_dir,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(text) = std::fs::read_to_string(&addr_file) {
                if let Ok(addr) = text.trim().parse() {
                    server.addr = addr;
                    return Ok(server);
                }
            }
            if let Some(status) = server.child.try_wait()? {
                return Err(format!("amc serve exited with {status}: {}", server.log()).into());
            }
            if Instant::now() > deadline {
                return Err(format!("amc serve did not write its address in 20 s: {}", server.log()).into());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    /// utime + stime of the server in clock ticks.
    fn cpu_ticks(&self) -> Result<u64> {
        proc_cpu_ticks(&format!("/proc/{}/stat", self.pid()))
    }

    /// A `Vm*` line of `/proc/<pid>/status`, in KiB.
    fn vm_kib(&self, key: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))?;
        status
            .lines()
            .find_map(|line| {
                line.strip_prefix(key)?
                    .strip_prefix(':')?
                    .trim()
                    .strip_suffix("kB")?
                    .trim()
                    .parse()
                    .ok()
            })
            .ok_or_else(|| format!("no {key} in /proc/{}/status", self.pid()).into())
    }

    /// `/api/health`'s `passes`: how many collection passes the server ran.
    async fn passes(&self) -> Result<u64> {
        let health: serde_json::Value = reqwest::get(format!("{}/api/health", self.url())).await?.json().await?;
        health["passes"]
            .as_u64()
            .ok_or_else(|| "no passes in /api/health".into())
    }

    /// Waits until GetState lists `sessions` sessions.
    async fn ready(&self, sessions: usize) -> Result<()> {
        let mut client = StateServiceClient::new(connect(&self.url()).await?);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let state = client
                .get_state(pb::GetStateRequest::default())
                .await?
                .into_inner()
                .state
                .unwrap_or_default();
            if state.sessions.len() == sessions {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("server lists {} sessions, not {sessions}", state.sessions.len()).into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn proc_cpu_ticks(stat_path: &str) -> Result<u64> {
    let stat = std::fs::read_to_string(stat_path)?;
    // Fields after the `(comm)`: state is field 3, utime 14, stime 15 (man 5 proc).
    let rest = stat.rsplit_once(')').ok_or("malformed stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11).ok_or("no utime")?.parse()?;
    let stime: u64 = fields.get(12).ok_or("no stime")?.parse()?;
    Ok(utime + stime)
}

fn clock_ticks_per_second() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100)
}

/// The newest write a state includes: the largest `w<seq>` of its previews.
fn max_seq<'a>(previews: impl Iterator<Item = &'a str>) -> u64 {
    previews
        .filter_map(|p| p.get(1..9).and_then(|digits| digits.parse::<u64>().ok()))
        .max()
        .unwrap_or(0)
}

async fn connect(url: &str) -> Result<Channel> {
    Ok(Endpoint::from_shared(url.to_string())?
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await?)
}

/// Opens `n` connections, at most 64 handshakes at a time (the listen backlog is finite).
async fn connect_many(url: &str, n: usize) -> Result<Vec<Channel>> {
    let permits = Arc::new(tokio::sync::Semaphore::new(64));
    let mut set = JoinSet::new();
    for i in 0..n {
        let url = url.to_string();
        let permits = permits.clone();
        set.spawn(async move {
            let _permit = permits.acquire_owned().await?;
            connect(&url).await.map(|c| (i, c))
        });
    }
    let mut channels: Vec<Option<Channel>> = vec![None; n];
    while let Some(joined) = set.join_next().await {
        let (i, channel) = joined??;
        channels[i] = Some(channel);
    }
    Ok(channels.into_iter().flatten().collect())
}

// ---------------------------------------------------------------------------------------------------------------
// Statistics and the report
// ---------------------------------------------------------------------------------------------------------------

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn summary(samples: &[Duration]) -> String {
    let mut sorted = samples.to_vec();
    sorted.sort();
    format!(
        "p50 {} · p99 {} · max {} (n={})",
        ms(percentile(&sorted, 50.0)),
        ms(percentile(&sorted, 99.0)),
        ms(sorted.last().copied().unwrap_or_default()),
        sorted.len()
    )
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

struct Row {
    id: &'static str,
    what: String,
    figure: String,
    goal: &'static str,
    met: Option<bool>,
}

#[derive(Default)]
struct Report {
    rows: Vec<Row>,
}

impl Report {
    fn add(
        &mut self,
        id: &'static str,
        what: impl Into<String>,
        figure: impl Into<String>,
        goal: &'static str,
        met: Option<bool>,
    ) {
        let row = Row {
            id,
            what: what.into(),
            figure: figure.into(),
            goal,
            met,
        };
        let verdict = match row.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        };
        println!(
            "  {} | {} | {} | {} | {}",
            row.id, row.what, row.figure, row.goal, verdict
        );
        self.rows.push(row);
    }

    fn print(&self) {
        println!();
        println!("| | measurement | figure | goal | |");
        println!("|---|---|---|---|---|");
        for row in &self.rows {
            let verdict = match row.met {
                Some(true) => "met",
                Some(false) => "**missed**",
                None => "",
            };
            println!(
                "| {} | {} | {} | {} | {} |",
                row.id, row.what, row.figure, row.goal, verdict
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Watch runs (P1, the 1 000-watcher fan-out, P5)
// ---------------------------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
struct WatchPlan {
    sessions: usize,
    watchers: usize,
    writes: u64,
    spacing: Duration,
    /// Watchers decode only the previews ([`LightWatch`]) instead of whole `WatchStateResponse`s: separates the
    /// server's fan-out from the clients' decoding, which shares the same cores.
    light: bool,
    /// Watchers ask for deltas (`WatchStateRequest.deltas`, or `/api/stream?deltas=1`): after the first snapshot,
    /// each change is a delta with the changed session only.
    deltas: bool,
    /// Watchers are SSE clients (`/api/stream` over HTTP/1.1, every frame's JSON parsed whole, as a browser's
    /// `JSON.parse` does) instead of gRPC ones.
    sse: bool,
    /// Watchers run in a process of their own and decode only the revision ([`watchers`]); the run also takes the
    /// server's per-stage timestamps.
    external: bool,
}

/// The part of a `WatchStateResponse` a light client decodes: `snapshot.sessions[].last_message_preview` (and the
/// revision, which the probe of an external run needs).
#[derive(Clone, PartialEq, prost::Message)]
struct LightWatch {
    #[prost(uint64, tag = "1")]
    revision: u64,
    #[prost(message, optional, tag = "3")]
    snapshot: Option<LightState>,
    #[prost(message, optional, tag = "5")]
    delta: Option<LightDelta>,
}

/// The part of a `StateDelta` a light client decodes: `upserted_sessions[].last_message_preview`.
#[derive(Clone, PartialEq, prost::Message)]
struct LightDelta {
    #[prost(message, repeated, tag = "2")]
    upserted_sessions: Vec<LightSession>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LightState {
    #[prost(message, repeated, tag = "2")]
    sessions: Vec<LightSession>,
}

#[derive(Clone, PartialEq, prost::Message)]
struct LightSession {
    #[prost(string, tag = "15")]
    last_message_preview: String,
}

/// A WatchState stream decoded fully (the crate's client) or lightly, or an `/api/stream` SSE stream.
enum WatchStream {
    Full(tonic::Streaming<pb::WatchStateResponse>),
    Light(tonic::Streaming<LightWatch>),
    Sse {
        response: reqwest::Response,
        buffer: String,
    },
}

/// Where a watcher connects: a gRPC connection of its own, or the server's URL for SSE.
enum Source {
    Grpc(Channel),
    Sse(String),
}

impl WatchStream {
    async fn open(source: Source, light: bool, deltas: bool) -> Result<WatchStream> {
        let channel = match source {
            Source::Grpc(channel) => channel,
            Source::Sse(url) => {
                let query = if deltas { "?deltas=1" } else { "" };
                let response = reqwest::get(format!("{url}/api/stream{query}"))
                    .await?
                    .error_for_status()?;
                return Ok(WatchStream::Sse {
                    response,
                    buffer: String::new(),
                });
            }
        };
        let request = pb::WatchStateRequest {
            deltas,
            ..Default::default()
        };
        if !light {
            let mut client = StateServiceClient::new(channel).max_decoding_message_size(64 << 20);
            return Ok(WatchStream::Full(client.watch_state(request).await?.into_inner()));
        }
        let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20);
        grpc.ready().await?;
        let path = http::uri::PathAndQuery::from_static("/amc.v1.StateService/WatchState");
        let codec = tonic_prost::ProstCodec::<pb::WatchStateRequest, LightWatch>::default();
        Ok(WatchStream::Light(
            grpc.server_streaming(tonic::Request::new(request), path, codec)
                .await?
                .into_inner(),
        ))
    }

    /// The next message: `Some(Some(seq))` for a snapshot (the newest write it includes), `Some(None)` for a
    /// heartbeat, `None` at the end of the stream.
    async fn next(&mut self) -> Result<Option<Option<u64>>> {
        Ok(match self {
            WatchStream::Full(stream) => stream.message().await?.map(|m| match &m.kind {
                Some(Kind::Snapshot(state)) => {
                    Some(max_seq(state.sessions.iter().map(|s| s.last_message_preview.as_str())))
                }
                Some(Kind::Delta(delta)) => Some(max_seq(
                    delta.upserted_sessions.iter().map(|s| s.last_message_preview.as_str()),
                )),
                _ => None,
            }),
            WatchStream::Light(stream) => stream.message().await?.map(|m| {
                let previews =
                    |sessions: &[LightSession]| max_seq(sessions.iter().map(|s| s.last_message_preview.as_str()));
                match (m.snapshot, m.delta) {
                    (Some(state), _) => Some(previews(&state.sessions)),
                    (None, Some(delta)) => Some(previews(&delta.upserted_sessions)),
                    (None, None) => None,
                }
            }),
            WatchStream::Sse { response, buffer } => loop {
                if let Some(end) = buffer.find("\n\n") {
                    let frame: String = buffer.drain(..end + 2).collect();
                    let data = frame.lines().find_map(|l| l.strip_prefix("data: "));
                    let event = frame.lines().find_map(|l| l.strip_prefix("event: "));
                    let (Some(data), Some(event)) = (data, event) else {
                        break Some(None); // `retry:`, `: ping`
                    };
                    let json: serde_json::Value = serde_json::from_str(data)?;
                    let key = if event == "delta" { "upserted" } else { "sessions" };
                    let sessions = json[key].as_array().ok_or("an SSE frame without sessions")?;
                    break Some(Some(max_seq(
                        sessions.iter().filter_map(|s| s["last_message_preview"].as_str()),
                    )));
                }
                match response.chunk().await? {
                    Some(bytes) => buffer.push_str(std::str::from_utf8(&bytes)?),
                    None => break None,
                }
            },
        })
    }
}

struct WatchResult {
    /// Write (rename returned) → arrival, for every watcher and every write.
    deliveries: Vec<Duration>,
    /// Write (rename returned) → arrival at the slowest watcher, per write.
    slowest: Vec<Duration>,
    /// How long `write_atomic` itself took (temp file, fsync, rename), per write.
    write_times: Vec<Duration>,
    /// (watcher, write) pairs that never arrived.
    missing: usize,
    /// VmHWM / VmRSS of the server before the watchers connected, and after the run.
    hwm_idle_kib: u64,
    /// The size of the encoded state (a GetState response).
    state_bytes: usize,
    hwm_kib: u64,
    rss_kib: u64,
    /// Collection passes during the writes.
    passes: u64,
    /// CPU (user + system) per write of the server, and of this process (the watchers' decoding, their transport),
    /// over the writes.
    server_cpu: Duration,
    client_cpu: Duration,
    /// The server's stages per write (external runs only).
    stages: Option<watchers::Stages>,
}

impl WatchResult {
    /// The slowest watcher's latencies, missed deliveries, and the CPU per write on both sides.
    fn figures(&self) -> String {
        format!(
            "{}; {} missed; CPU per write {} server / {} watchers",
            summary(&self.slowest),
            self.missing,
            ms(self.server_cpu),
            ms(self.client_cpu)
        )
    }
}

/// One watcher: returns (newest write included, arrival time) for every snapshot that brought a newer write.
async fn watcher(
    source: Source,
    light: bool,
    deltas: bool,
    ready: Arc<AtomicUsize>,
    last_seq: u64,
    deadline: tokio::time::Instant,
) -> Result<Vec<(u64, Instant)>> {
    let mut stream = WatchStream::open(source, light, deltas).await?;
    let mut seen = 0;
    let mut arrivals = Vec::new();
    let mut counted = false;
    while seen < last_seq {
        let message = match tokio::time::timeout_at(deadline, stream.next()).await {
            Ok(message) => message?.ok_or("stream ended")?,
            Err(_) => break,
        };
        let now = Instant::now();
        if let Some(seq) = message {
            if !counted {
                counted = true;
                seen = seq;
                ready.fetch_add(1, Ordering::SeqCst);
            } else if seq > seen {
                seen = seq;
                arrivals.push((seq, now));
            }
        }
    }
    Ok(arrivals)
}

/// One session-file write: when it started and when the rename returned (also as a wall-clock time, which the
/// watchers' process can compare with).
struct Write {
    before: Instant,
    after: Instant,
    after_wall: SystemTime,
}

/// Writes `plan.writes` session files (write `seq` puts `w<seq>` into a preview), on their own thread and on a fixed
/// schedule, so that a slow watcher cannot delay them.
async fn run_writes(server: &Server, plan: &WatchPlan) -> Result<Vec<Write>> {
    let writer = {
        let sessions_dir = server.sessions_dir.clone();
        let (sessions, writes, spacing) = (plan.sessions, plan.writes, plan.spacing);
        std::thread::spawn(move || -> Result<Vec<Write>> {
            let start = Instant::now();
            let mut times = Vec::new();
            for seq in 1..=writes {
                let at = start + spacing * seq as u32;
                if let Some(wait) = at.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let i = (seq as usize * 7) % sessions;
                let before = Instant::now();
                amc::store::write_atomic(&sessions_dir.join(session_file(i)), session_json(i, seq).as_bytes())?;
                times.push(Write {
                    before,
                    after: Instant::now(),
                    after_wall: SystemTime::now(),
                });
            }
            Ok(times)
        })
    };
    Ok(
        tokio::task::spawn_blocking(move || writer.join().map_err(|_| "writer panicked"))
            .await?
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?,
    )
}

async fn watch_run(bin: &Path, plan: &WatchPlan) -> Result<WatchResult> {
    if plan.external {
        return watchers::watch_run_external(bin, plan).await;
    }
    let server = Server::start(bin, plan.sessions)?;
    server.ready(plan.sessions).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hwm_idle_kib = server.vm_kib("VmHWM")?;
    let state_bytes = get_state_len(connect(&server.url()).await?).await?;

    let sources: Vec<Source> = if plan.sse {
        (0..plan.watchers).map(|_| Source::Sse(server.url())).collect()
    } else {
        connect_many(&server.url(), plan.watchers)
            .await?
            .into_iter()
            .map(Source::Grpc)
            .collect()
    };
    let ready = Arc::new(AtomicUsize::new(0));
    let run_limit = plan.spacing * (plan.writes as u32 + 10) + Duration::from_secs(30);
    let deadline = tokio::time::Instant::now() + run_limit.min(PHASE_LIMIT);
    let mut set = JoinSet::new();
    for source in sources {
        set.spawn(watcher(
            source,
            plan.light,
            plan.deltas,
            ready.clone(),
            plan.writes,
            deadline,
        ));
    }
    let wait_until = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::SeqCst) < plan.watchers {
        if Instant::now() > wait_until {
            return Err(format!(
                "only {} of {} watchers got a first snapshot",
                ready.load(Ordering::SeqCst),
                plan.watchers
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Let the connection burst settle (first snapshots encoded and sent) before timing anything.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let passes_before = server.passes().await?;
    let cpu_before = (server.cpu_ticks()?, proc_cpu_ticks("/proc/self/stat")?);

    let write_times: Vec<(Instant, Instant)> = run_writes(&server, plan)
        .await?
        .iter()
        .map(|w| (w.before, w.after))
        .collect();

    let mut per_watcher = Vec::new();
    while let Some(joined) = set.join_next().await {
        per_watcher.push(joined??);
    }
    let cpu_after = (server.cpu_ticks()?, proc_cpu_ticks("/proc/self/stat")?);
    let per_write = |before: u64, after: u64| {
        Duration::from_secs_f64(
            after.saturating_sub(before) as f64 / clock_ticks_per_second() as f64 / plan.writes as f64,
        )
    };
    let server_cpu = per_write(cpu_before.0, cpu_after.0);
    let client_cpu = per_write(cpu_before.1, cpu_after.1);
    let passes = server.passes().await?.saturating_sub(passes_before);
    let hwm_kib = server.vm_kib("VmHWM")?;
    let rss_kib = server.vm_kib("VmRSS")?;

    let mut deliveries = Vec::new();
    let mut slowest = vec![Duration::ZERO; write_times.len()];
    let mut missing = 0;
    for arrivals in &per_watcher {
        let mut next = 0;
        for (k, (_, written)) in write_times.iter().enumerate() {
            let seq = k as u64 + 1;
            while next < arrivals.len() && arrivals[next].0 < seq {
                next += 1;
            }
            match arrivals.get(next) {
                Some((_, at)) => {
                    let latency = at.saturating_duration_since(*written);
                    deliveries.push(latency);
                    slowest[k] = slowest[k].max(latency);
                }
                None => missing += 1,
            }
        }
    }
    Ok(WatchResult {
        deliveries,
        slowest,
        write_times: write_times
            .iter()
            .map(|(b, a)| a.saturating_duration_since(*b))
            .collect(),
        missing,
        hwm_idle_kib,
        state_bytes,
        server_cpu,
        client_cpu,
        hwm_kib,
        rss_kib,
        passes,
        stages: None,
    })
}

// ---------------------------------------------------------------------------------------------------------------
// The phases
// ---------------------------------------------------------------------------------------------------------------

struct Options {
    quick: bool,
    only: Option<Vec<String>>,
    bin: PathBuf,
    /// Another binary (`AMC_BENCH_BASELINE`, e.g. a build of main) whose P1 with full snapshots is measured in the
    /// same run, right after this one's, for a before/after on the same machine and load.
    baseline: Option<PathBuf>,
}

impl Options {
    fn runs(&self, phase: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.iter().any(|p| p == phase))
    }
}

/// Whether every write reached every watcher and the slowest arrival's p99 is at most `goal`.
fn p99_within(result: &WatchResult, goal: Duration) -> bool {
    let mut slowest = result.slowest.clone();
    slowest.sort();
    result.missing == 0 && percentile(&slowest, 99.0) <= goal
}

/// P1. With `everything` false (`AMC_BENCH_ONLY=p1-full`) only the full-snapshot rows: the 100 in-process watchers
/// decoding every message, and the 100 revision-only watchers in a process of their own, on this build (and on the
/// baseline's when `AMC_BENCH_BASELINE` is set).
async fn p1(options: &Options, report: &mut Report, everything: bool) -> Result<()> {
    let plan = WatchPlan {
        sessions: 200,
        watchers: 100,
        writes: if options.quick { 40 } else { 200 },
        spacing: Duration::from_millis(50),
        light: false,
        deltas: false,
        sse: false,
        external: false,
    };
    println!(
        "P1: {} sessions, {} watchers, {} writes every {:?} (load {})",
        plan.sessions,
        plan.watchers,
        plan.writes,
        plan.spacing,
        load()
    );
    let result = watch_run(&options.bin, &plan).await?;
    report.add(
        "P1",
        "write → slowest of 100 watchers (200 sessions)",
        format!("{}; {} missed", summary(&result.slowest), result.missing),
        "p99 ≤ 25 ms",
        Some(p99_within(&result, Duration::from_millis(25))),
    );
    if let Some(baseline) = &options.baseline {
        println!(
            "P1: the same with the baseline {} (load {})",
            baseline.display(),
            load()
        );
        let before = watch_run(baseline, &plan).await?;
        report.add(
            "P1",
            "baseline (AMC_BENCH_BASELINE): write → slowest of 100 watchers (200 sessions)",
            format!("{}; {} missed", summary(&before.slowest), before.missing),
            "p99 ≤ 25 ms",
            Some(p99_within(&before, Duration::from_millis(25))),
        );
        report.add(
            "P1",
            "baseline: CPU per write, server / the 100 watchers",
            format!("{} / {}", ms(before.server_cpu), ms(before.client_cpu)),
            "",
            None,
        );
    }
    // Where the time goes: CPU per change of the server (pass, publish, fan-out) and of the watchers (transport and
    // decoding), which share the same two cores.
    report.add(
        "P1",
        "CPU per write, server / the 100 watchers",
        format!("{} / {}", ms(result.server_cpu), ms(result.client_cpu)),
        "",
        None,
    );
    // What the server costs a light client: the 100 watchers in a process of their own, decoding only the revision
    // (each message still received whole), with the server's per-stage timestamps.
    let external = WatchPlan { external: true, ..plan };
    let mut bins = vec![(&options.bin, "this build")];
    if let Some(baseline) = &options.baseline {
        bins.push((baseline, "baseline"));
    }
    for (bin, which) in bins {
        println!(
            "P1: {which}, revision-only watchers in a process of their own (load {})",
            load()
        );
        let result = watch_run(bin, &external).await?;
        report.add(
            "P1",
            format!("{which}: write → slowest of 100 revision-only watchers in their own process"),
            result.figures(),
            "p99 ≤ 25 ms",
            Some(p99_within(&result, Duration::from_millis(25))),
        );
        if let Some(stages) = &result.stages {
            report.add(
                "P1",
                format!("{which}: where the time goes (server clock)"),
                stages.figures(),
                "",
                None,
            );
        }
    }
    if !everything {
        println!("  (load after P1: {})", load());
        return Ok(());
    }
    report.add(
        "P1",
        "write → each watcher (all deliveries)",
        summary(&result.deliveries),
        "",
        None,
    );
    report.add(
        "P1",
        "the write itself (temp, fsync, rename)",
        summary(&result.write_times),
        "",
        None,
    );
    report.add(
        "P1",
        "passes / writes; missed deliveries",
        format!("{} / {}; {} missed", result.passes, plan.writes, result.missing),
        "",
        None,
    );
    // What the 100 watchers' own decoding costs: the same with light clients (they decode only the previews).
    let light = WatchPlan { light: true, ..plan };
    println!("P1: the same with light clients (load {})", load());
    let result = watch_run(&options.bin, &light).await?;
    report.add(
        "P1",
        "write → slowest of 100 light watchers (decode previews only)",
        format!(
            "{}; CPU per write {} server / {} watchers",
            summary(&result.slowest),
            ms(result.server_cpu),
            ms(result.client_cpu)
        ),
        "",
        None,
    );
    // The same watchers (whole messages decoded) asking for deltas: each change is the changed session only.
    let deltas = WatchPlan { deltas: true, ..plan };
    println!("P1: the same with deltas (load {})", load());
    let result = watch_run(&options.bin, &deltas).await?;
    report.add(
        "P1",
        "write → slowest of 100 watchers asking for deltas (StateServiceClient)",
        result.figures(),
        "p99 ≤ 25 ms",
        Some(p99_within(&result, Duration::from_millis(25))),
    );
    // The same through SSE (`/api/stream`, each frame's JSON parsed whole): full state frames, then deltas.
    for (deltas, what) in [(false, "full state frames"), (true, "`?deltas=1`")] {
        let sse = WatchPlan {
            sse: true,
            deltas,
            ..plan
        };
        println!("P1: SSE watchers, {what} (load {})", load());
        let result = watch_run(&options.bin, &sse).await?;
        report.add(
            "P1",
            format!("write → slowest of 100 SSE watchers, {what}"),
            result.figures(),
            if deltas { "p99 ≤ 25 ms" } else { "" },
            deltas.then(|| p99_within(&result, Duration::from_millis(25))),
        );
    }
    // The floor: one watcher (a pass and one delivery, no fan-out).
    let single = WatchPlan { watchers: 1, ..plan };
    println!("P1: the same with 1 watcher (load {})", load());
    let result = watch_run(&options.bin, &single).await?;
    report.add(
        "P1",
        "write → the only watcher (1 watcher)",
        summary(&result.slowest),
        "",
        None,
    );
    println!("  (load after P1: {})", load());
    Ok(())
}

async fn idle_cpu(bin: &Path, sessions: usize, watchers: usize, window: Duration) -> Result<(f64, u64, u64)> {
    let server = Server::start(bin, sessions)?;
    server.ready(sessions).await?;
    let channels = connect_many(&server.url(), watchers).await?;
    let ready = Arc::new(AtomicUsize::new(0));
    let deadline = tokio::time::Instant::now() + window + Duration::from_secs(30);
    let mut set = JoinSet::new();
    for channel in channels {
        // u64::MAX: keep reading (heartbeats) until the deadline or until the set is dropped.
        set.spawn(watcher(
            Source::Grpc(channel),
            false,
            false,
            ready.clone(),
            u64::MAX,
            deadline,
        ));
    }
    let wait_until = Instant::now() + Duration::from_secs(60);
    while ready.load(Ordering::SeqCst) < watchers {
        if Instant::now() > wait_until {
            return Err(format!(
                "only {} of {watchers} watchers got a first snapshot",
                ready.load(Ordering::SeqCst)
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // Past the start-up work (first passes, first snapshots to every watcher).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (ticks0, passes0, t0) = (server.cpu_ticks()?, server.passes().await?, Instant::now());
    tokio::time::sleep(window).await;
    let (ticks1, passes1, elapsed) = (server.cpu_ticks()?, server.passes().await?, t0.elapsed());
    set.abort_all();
    let ticks = ticks1 - ticks0;
    let percent = ticks as f64 / clock_ticks_per_second() as f64 / elapsed.as_secs_f64() * 100.0;
    Ok((percent, ticks, passes1 - passes0))
}

async fn p2(options: &Options, report: &mut Report) -> Result<()> {
    let window = if options.quick {
        Duration::from_secs(10)
    } else {
        Duration::from_secs(60)
    };
    let hz = clock_ticks_per_second();
    for (watchers, goal) in [(100, true), (0, false)] {
        println!(
            "P2: idle, 200 sessions, {watchers} watchers, {window:?} (load {}, CLK_TCK {hz})",
            load()
        );
        let (percent, ticks, passes) = idle_cpu(&options.bin, 200, watchers, window).await?;
        let per_pass = if passes > 0 {
            ticks as f64 / hz as f64 * 1000.0 / passes as f64
        } else {
            0.0
        };
        report.add(
            "P2",
            format!("idle CPU, 200 sessions, {watchers} watchers, {} s", window.as_secs()),
            format!("{percent:.2} % of one core ({ticks} ticks, {passes} passes, ≈ {per_pass:.1} ms CPU per pass)"),
            if goal { "≤ 1 %" } else { "" },
            goal.then_some(percent <= 1.0),
        );
    }
    println!("  (load after P2: {})", load());
    Ok(())
}

#[derive(Default, Clone, Copy)]
struct Counts {
    ok: u64,
    failed: u64,
}

/// Runs `call` from `per_connection` tasks on each channel until `duration` is over; returns the counts.
async fn hammer<F, Fut>(channels: &[Channel], per_connection: usize, duration: Duration, call: F) -> Counts
where
    F: Fn(Channel) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), tonic::Status>> + Send,
{
    let deadline = Instant::now() + duration;
    let mut set = JoinSet::new();
    for channel in channels {
        for _ in 0..per_connection {
            let (channel, call) = (channel.clone(), call.clone());
            set.spawn(async move {
                let mut counts = Counts::default();
                while Instant::now() < deadline {
                    match call(channel.clone()).await {
                        Ok(()) => counts.ok += 1,
                        Err(_) => counts.failed += 1,
                    }
                }
                counts
            });
        }
    }
    let mut total = Counts::default();
    while let Some(Ok(counts)) = set.join_next().await {
        total.ok += counts.ok;
        total.failed += counts.failed;
    }
    total
}

async fn get_state(channel: Channel) -> Result<(), tonic::Status> {
    let response = StateServiceClient::new(channel)
        .get_state(pb::GetStateRequest::default())
        .await?;
    match response.into_inner().state {
        Some(state) if state.sessions.len() == 100 => Ok(()),
        _ => Err(tonic::Status::internal("GetState did not list 100 sessions")),
    }
}

/// Decodes nothing: returns the message length (GetState as a client that skips decoding would see it).
#[derive(Default)]
struct RawCodec;

struct LenDecoder;

impl tonic::codec::Decoder for LenDecoder {
    type Item = usize;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut tonic::codec::DecodeBuf<'_>) -> Result<Option<usize>, tonic::Status> {
        use bytes::Buf as _;
        let len = src.remaining();
        src.advance(len);
        Ok(Some(len))
    }
}

impl tonic::codec::Codec for RawCodec {
    type Encode = pb::GetStateRequest;
    type Decode = usize;
    type Encoder = tonic_prost::ProstEncoder<pb::GetStateRequest>;
    type Decoder = LenDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        tonic_prost::ProstEncoder::default()
    }

    fn decoder(&mut self) -> LenDecoder {
        LenDecoder
    }
}

/// GetState through the same channel, without decoding the response: isolates the server's cost.
async fn get_state_raw(channel: Channel) -> Result<(), tonic::Status> {
    if get_state_len(channel).await? < 1000 {
        return Err(tonic::Status::internal("GetState response too small"));
    }
    Ok(())
}

/// The size of an encoded GetState response.
async fn get_state_len(channel: Channel) -> Result<usize, tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20);
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let path = http::uri::PathAndQuery::from_static("/amc.v1.StateService/GetState");
    let response = grpc
        .unary(tonic::Request::new(pb::GetStateRequest::default()), path, RawCodec)
        .await?;
    Ok(response.into_inner())
}

async fn health_check(channel: Channel) -> Result<(), tonic::Status> {
    HealthClient::new(channel)
        .check(HealthCheckRequest { service: String::new() })
        .await
        .map(|_| ())
}

async fn p4(options: &Options, report: &mut Report) -> Result<()> {
    const CONNECTIONS: usize = 8;
    const IN_FLIGHT: usize = 32;
    let duration = if options.quick {
        Duration::from_secs(2)
    } else {
        Duration::from_secs(10)
    };
    let server = Server::start(&options.bin, 100)?;
    server.ready(100).await?;
    let channels = connect_many(&server.url(), CONNECTIONS).await?;
    let hz = clock_ticks_per_second() as f64;
    let size = get_state_len(channels[0].clone()).await?;
    println!("P4: a GetState response with 100 sessions is {size} bytes");
    // Warm-up: connections, allocator, first encodes.
    hammer(&channels, IN_FLIGHT, Duration::from_millis(500), health_check).await;
    hammer(&channels, IN_FLIGHT, Duration::from_millis(500), get_state).await;
    let rounds: &[&[&str]] = if options.quick {
        &[&["health", "get", "raw"]]
    } else {
        &[&["health", "get", "raw"], &["raw", "get", "health"]]
    };
    for (round, order) in rounds.iter().enumerate() {
        let mut rates = HashMap::new();
        for name in order.iter() {
            println!(
                "P4: {name}, {CONNECTIONS} connections × {IN_FLIGHT} in flight, {duration:?} (load {})",
                load()
            );
            let (ticks0, self0, t0) = (server.cpu_ticks()?, proc_cpu_ticks("/proc/self/stat")?, Instant::now());
            let counts = match *name {
                "health" => hammer(&channels, IN_FLIGHT, duration, health_check).await,
                "raw" => hammer(&channels, IN_FLIGHT, duration, get_state_raw).await,
                _ => hammer(&channels, IN_FLIGHT, duration, get_state).await,
            };
            let elapsed = t0.elapsed().as_secs_f64();
            let server_cpu = (server.cpu_ticks()? - ticks0) as f64 / hz;
            let client_cpu = (proc_cpu_ticks("/proc/self/stat")? - self0) as f64 / hz;
            let rate = counts.ok as f64 / elapsed;
            rates.insert(*name, rate);
            let label = match *name {
                "health" => "grpc.health.v1.Health/Check",
                "raw" => "GetState, response not decoded by the client",
                _ => "GetState (100 sessions), StateServiceClient",
            };
            report.add(
                "P4",
                format!("{label}, round {}", round + 1),
                format!(
                    "{rate:.0} req/s ({} failed); server {:.0} µs CPU/req, {:.2} cores; client {:.2} cores",
                    counts.failed,
                    server_cpu / counts.ok.max(1) as f64 * 1e6,
                    server_cpu / elapsed,
                    client_cpu / elapsed
                ),
                "",
                None,
            );
        }
        let ratio = rates["get"] / rates["health"] * 100.0;
        report.add(
            "P4",
            format!("GetState / Health Check, round {}", round + 1),
            format!("{ratio:.0} %"),
            "≥ 50 %",
            Some(ratio >= 50.0),
        );
        let raw = rates["raw"] / rates["health"] * 100.0;
        report.add(
            "P4",
            format!("GetState not decoded / Health Check, round {}", round + 1),
            format!("{raw:.0} %"),
            "",
            None,
        );
    }
    Ok(())
}

async fn fanout(options: &Options, report: &mut Report) -> Result<()> {
    let plan = WatchPlan {
        sessions: 100,
        watchers: 1000,
        writes: if options.quick { 5 } else { 20 },
        spacing: Duration::from_millis(500),
        light: false,
        deltas: false,
        sse: false,
        external: false,
    };
    println!(
        "P4: {} watchers, {} sessions, {} writes every {:?} (load {})",
        plan.watchers,
        plan.sessions,
        plan.writes,
        plan.spacing,
        load()
    );
    let result = watch_run(&options.bin, &plan).await?;
    report.add(
        "P4",
        "write → all 1 000 watchers got it (100 sessions)",
        format!("{}; {} missed", summary(&result.slowest), result.missing),
        "",
        None,
    );
    report.add(
        "P4",
        "write → each of the 1 000 watchers",
        summary(&result.deliveries),
        "",
        None,
    );
    let deltas = WatchPlan { deltas: true, ..plan };
    println!("P4: the same with deltas (load {})", load());
    let result = watch_run(&options.bin, &deltas).await?;
    report.add(
        "P4",
        "write → all 1 000 watchers asking for deltas got it (100 sessions)",
        format!("{}; {} missed", summary(&result.slowest), result.missing),
        "",
        None,
    );
    Ok(())
}

async fn p5(options: &Options, report: &mut Report) -> Result<()> {
    let mib = |kib: u64| kib as f64 / 1024.0;
    // Clients that decode whole states (the crate's client) fall behind 1 000 × 500 sessions on 2 shared cores, and
    // the server then also holds what they have not read yet; light clients keep up.
    for light in [false, true] {
        let plan = WatchPlan {
            sessions: 500,
            watchers: 1000,
            writes: if options.quick { 5 } else { 20 },
            spacing: Duration::from_millis(500),
            light,
            deltas: false,
            sse: false,
            external: false,
        };
        let clients = if light { "light clients" } else { "StateServiceClient" };
        println!(
            "P5: {} watchers ({clients}), {} sessions, {} writes every {:?} (load {})",
            plan.watchers,
            plan.sessions,
            plan.writes,
            plan.spacing,
            load()
        );
        let result = watch_run(&options.bin, &plan).await?;
        report.add(
            "P5",
            format!("peak RSS (VmHWM), 500 sessions, 1 000 watchers ({clients})"),
            format!(
                "{:.1} MiB (VmRSS at the end {:.1} MiB; before the watchers {:.1} MiB)",
                mib(result.hwm_kib),
                mib(result.rss_kib),
                mib(result.hwm_idle_kib)
            ),
            "≤ 64 MB",
            Some(result.hwm_kib * 1024 <= 64_000_000),
        );
        report.add(
            "P5",
            "memory per watcher; size of the encoded state",
            format!(
                "{:.0} KiB; {:.0} KiB",
                (result.hwm_kib - result.hwm_idle_kib) as f64 / plan.watchers as f64,
                result.state_bytes as f64 / 1024.0
            ),
            "",
            None,
        );
        report.add(
            "P5",
            format!("write → all 1 000 watchers got it ({clients})"),
            format!("{}; {} missed", summary(&result.slowest), result.missing),
            "",
            None,
        );
    }
    Ok(())
}

fn binary() -> PathBuf {
    if let Some(bin) = std::env::var_os("AMC_BENCH_BIN") {
        return PathBuf::from(bin);
    }
    // Cargo builds the binary for benches (bench profile = release) and says where.
    if let Some(bin) = option_env!("CARGO_BIN_EXE_amc") {
        return PathBuf::from(bin);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/amc")
}

/// Warns when a source file is newer than the binary (the figures would be for old code).
fn warn_if_stale(bin: &Path) {
    fn newest(dir: &Path) -> Option<SystemTime> {
        let mut best = None;
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            let time = if path.is_dir() {
                newest(&path)
            } else {
                entry.metadata().ok()?.modified().ok()
            };
            best = best.max(time);
        }
        best
    }
    let built = std::fs::metadata(bin).and_then(|m| m.modified()).ok();
    let source = newest(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    if let (Some(built), Some(source)) = (built, source) {
        if source > built {
            println!(
                "WARNING: a file in src/ is newer than {}; run `cargo build --release` first",
                bin.display()
            );
        }
    }
}

fn main() -> Result<()> {
    // Started again by an external P1 run as its watchers' process.
    if let Ok(spec) = std::env::var(watchers::CHILD_ENV) {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
        return runtime.block_on(watchers::child(&spec));
    }
    let options = Options {
        quick: std::env::var("AMC_BENCH_QUICK").is_ok_and(|v| !v.is_empty() && v != "0"),
        only: std::env::var("AMC_BENCH_ONLY")
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| v.split(',').map(|p| p.trim().to_lowercase()).collect()),
        bin: binary(),
        baseline: std::env::var_os("AMC_BENCH_BASELINE")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from),
    };
    if !options.bin.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release` (or set AMC_BENCH_BIN)",
            options.bin.display()
        )
        .into());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // `cargo test --all-targets` runs this program too, without `--bench`: then only a few-second smoke test.
    if !std::env::args().any(|a| a == "--bench") {
        return runtime.block_on(smoke(&options.bin));
    }
    warn_if_stale(&options.bin);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!(
        "amc watch benchmarks: {} · {cores} cores · load {} · {}",
        options.bin.display(),
        load(),
        if options.quick {
            "QUICK (AMC_BENCH_QUICK)"
        } else {
            "full"
        }
    );
    let mut report = Report::default();
    let mut failed = false;
    runtime.block_on(async {
        let phases: [(&str, bool); 6] = [
            ("p1", options.runs("p1")),
            // Only the full-snapshot rows of P1; only when asked for by name.
            (
                "p1-full",
                options.only.as_ref().is_some_and(|o| o.iter().any(|p| p == "p1-full")) && !options.runs("p1"),
            ),
            ("p2", options.runs("p2")),
            ("p4", options.runs("p4")),
            ("fanout", options.runs("fanout")),
            ("p5", options.runs("p5")),
        ];
        for (phase, run) in phases {
            if !run {
                continue;
            }
            let result = tokio::time::timeout(PHASE_LIMIT + Duration::from_secs(60), async {
                match phase {
                    "p1" => p1(&options, &mut report, true).await,
                    "p1-full" => p1(&options, &mut report, false).await,
                    "p2" => p2(&options, &mut report).await,
                    "p4" => p4(&options, &mut report).await,
                    "fanout" => fanout(&options, &mut report).await,
                    _ => p5(&options, &mut report).await,
                }
            })
            .await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    println!("{phase} failed: {error}");
                    failed = true;
                }
                Err(_) => {
                    println!("{phase} timed out");
                    failed = true;
                }
            }
        }
    });
    report.print();
    println!("\nload at the end: {}", load());
    if failed {
        return Err("a phase failed".into());
    }
    Ok(())
}

/// A few seconds: the binary serves, a write reaches every watcher, GetState and Health answer.
async fn smoke(bin: &Path) -> Result<()> {
    let plan = WatchPlan {
        sessions: 20,
        watchers: 5,
        writes: 5,
        spacing: Duration::from_millis(50),
        light: false,
        deltas: false,
        sse: false,
        external: false,
    };
    let result = watch_run(bin, &plan).await?;
    if result.missing > 0 {
        return Err(format!("{} deliveries missing", result.missing).into());
    }
    // The same with the watchers in a process of their own, and the server's stages read back.
    let external = watch_run(bin, &WatchPlan { external: true, ..plan }).await?;
    let stages = external.stages.as_ref().ok_or("no stages")?;
    if external.missing > 0 || external.slowest.len() != 5 || stages.to_publish.len() != 5 {
        return Err(format!(
            "external watchers: {} deliveries missing, {} of 5 writes timed, {} of 5 publications found in the log",
            external.missing,
            external.slowest.len(),
            stages.to_publish.len()
        )
        .into());
    }
    if watchers::rfc3339("1970-01-02T00:00:01.5Z") != Some(std::time::UNIX_EPOCH + Duration::from_millis(86_401_500))
        || watchers::rfc3339("2026-12-06T00:00:00.000001Z")
            != Some(std::time::UNIX_EPOCH + Duration::from_secs(1_796_515_200) + Duration::from_micros(1))
    {
        return Err("rfc3339 parses wrongly".into());
    }
    let server = Server::start(bin, 100)?;
    server.ready(100).await?;
    let channels = connect_many(&server.url(), 2).await?;
    let get = hammer(&channels, 4, Duration::from_millis(300), get_state).await;
    let health = hammer(&channels, 4, Duration::from_millis(300), health_check).await;
    if get.ok == 0 || get.failed > 0 || health.ok == 0 || health.failed > 0 {
        return Err("GetState or Health Check failed".into());
    }
    println!(
        "watch bench smoke test ok (run `cargo bench --bench watch` for the figures): write → 5 watchers {}",
        summary(&result.deliveries)
    );
    Ok(())
}
