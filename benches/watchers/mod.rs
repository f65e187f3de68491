//! Light watchers in a process of their own, and the server's per-stage timestamps, for P1.
//!
//! An external run measures what the server costs a real light client: the watchers run in a second process (this
//! bench program started again with `AMC_BENCH_WATCHERS_CHILD=<url> <count>`), so their runtime does not share a
//! scheduler with the writer and the report, and each decodes only `WatchStateResponse.revision` ([`RevisionOnly`]).
//! Every message is still received whole (HTTP/2 frames, tonic's length-prefixed message); prost skips the snapshot
//! field's 60 KiB in one step instead of allocating its ≈ 3 000 strings. Which revision first holds which write is
//! told by one probe stream in the bench process that decodes the previews ([`super::LightWatch`]); it is not one of
//! the measured watchers (the server serves it too: 101 streams).
//!
//! The protocol with the child, one line each: the child prints `ready` once every watcher got its first message;
//! the parent writes `stop <revision>`; each watcher stops at that revision (or 10 s later), and the child prints one
//! `w <index> <revision>:<unix ns> …` line per watcher, then `end`.

use std::{
    io::{BufRead as _, BufReader, Write as _},
    path::Path,
    process::{Child, ChildStdin, ChildStdout, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use amc::proto as pb;
use tokio::task::JoinSet;
use tonic::transport::Channel;

use super::{
    clock_ticks_per_second, connect, connect_many, get_state_len, max_seq, proc_cpu_ticks, run_writes, summary,
    LightWatch, Result, Server, WatchPlan, WatchResult, PHASE_LIMIT,
};

/// The environment variable that makes this program the watchers' process.
pub const CHILD_ENV: &str = "AMC_BENCH_WATCHERS_CHILD";

/// The part of a `WatchStateResponse` the measurement needs: which revision arrived.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RevisionOnly {
    #[prost(uint64, tag = "1")]
    pub revision: u64,
}

/// Opens a WatchState stream (full snapshots, no filter) decoded as `M`.
pub async fn open<M: prost::Message + Default + 'static>(channel: Channel) -> Result<tonic::Streaming<M>> {
    let mut grpc = tonic::client::Grpc::new(channel).max_decoding_message_size(64 << 20);
    grpc.ready().await?;
    let path = http::uri::PathAndQuery::from_static("/amc.v1.StateService/WatchState");
    let codec = tonic_prost::ProstCodec::<pb::WatchStateRequest, M>::default();
    Ok(grpc
        .server_streaming(tonic::Request::new(pb::WatchStateRequest::default()), path, codec)
        .await?
        .into_inner())
}

fn unix_ns(at: SystemTime) -> u128 {
    at.duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos()
}

// ---------------------------------------------------------------------------------------------------------------
// The child: `count` revision-only watchers
// ---------------------------------------------------------------------------------------------------------------

/// Runs the watchers' process (`spec` is `<url> <count>`); see the module's protocol.
pub async fn child(spec: &str) -> Result<()> {
    let (url, count) = spec.split_once(' ').ok_or("expected `<url> <count>`")?;
    let count: usize = count.trim().parse()?;
    let channels = connect_many(url, count).await?;
    let (target_tx, target) = tokio::sync::watch::channel(None::<u64>);
    let ready = Arc::new(AtomicUsize::new(0));
    let mut set = JoinSet::new();
    for (i, channel) in channels.into_iter().enumerate() {
        set.spawn(child_watcher(i, channel, ready.clone(), target.clone()));
    }
    let started = std::time::Instant::now();
    while ready.load(Ordering::SeqCst) < count {
        if started.elapsed() > Duration::from_secs(60) {
            return Err(format!(
                "only {} of {count} watchers got a first message",
                ready.load(Ordering::SeqCst)
            )
            .into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!("ready");
    std::io::stdout().flush()?;
    // `stop <revision>` (or the parent gone: stop now).
    let line = tokio::task::spawn_blocking(|| {
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
        line
    })
    .await?;
    let stop_at = line
        .trim()
        .strip_prefix("stop ")
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let _ = target_tx.send(Some(stop_at));
    let mut out = String::new();
    let mut results = Vec::new();
    while let Some(joined) = set.join_next().await {
        results.push(joined??);
    }
    results.sort_by_key(|(i, _)| *i);
    // The process's CPU (every watcher's receiving and decoding) up to now, for the parent's per-write figure.
    out.push_str(&format!("cpu {}\n", proc_cpu_ticks("/proc/self/stat")?));
    for (i, arrivals) in results {
        out.push_str(&format!("w {i}"));
        for (revision, at) in arrivals {
            out.push_str(&format!(" {revision}:{}", unix_ns(at)));
        }
        out.push('\n');
    }
    out.push_str("end\n");
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// One revision-only watcher: (revision, arrival) of every message after the first that brought a newer revision.
async fn child_watcher(
    index: usize,
    channel: Channel,
    ready: Arc<AtomicUsize>,
    mut target: tokio::sync::watch::Receiver<Option<u64>>,
) -> Result<(usize, Vec<(u64, SystemTime)>)> {
    let mut stream = open::<RevisionOnly>(channel).await?;
    let mut last = stream.message().await?.ok_or("stream ended")?.revision;
    ready.fetch_add(1, Ordering::SeqCst);
    let mut arrivals = Vec::new();
    // Far in the future until the parent names the last revision; then at most 10 s more.
    let mut give_up = Box::pin(tokio::time::sleep(Duration::from_secs(3600)));
    loop {
        if target.borrow().is_some_and(|t| last >= t) {
            break;
        }
        tokio::select! {
            biased;
            message = stream.message() => {
                let Some(message) = message? else { break };
                let at = SystemTime::now();
                if message.revision > last {
                    last = message.revision;
                    arrivals.push((last, at));
                }
            }
            changed = target.changed() => {
                if changed.is_err() {
                    break;
                }
                give_up.as_mut().reset(tokio::time::Instant::now() + Duration::from_secs(10));
            }
            () = &mut give_up => break,
        }
    }
    Ok((index, arrivals))
}

// ---------------------------------------------------------------------------------------------------------------
// The parent's side
// ---------------------------------------------------------------------------------------------------------------

/// The watchers' process, started by the bench.
pub struct External {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Option<BufReader<ChildStdout>>,
}

impl External {
    /// Starts this program again as `count` watchers of `url`.
    pub fn spawn(url: &str, count: usize) -> Result<External> {
        let exe = std::env::current_exe()?;
        let mut child = Command::new(exe)
            .env(CHILD_ENV, format!("{url} {count}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdin = child.stdin.take();
        let stdout = Some(BufReader::new(child.stdout.take().ok_or("no stdout")?));
        Ok(External { child, stdin, stdout })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the `ready` line (every watcher got its first message).
    pub async fn ready(&mut self) -> Result<()> {
        let line = self.read_line().await?;
        if line.trim() != "ready" {
            return Err(format!("the watchers' process said {line:?}, not ready").into());
        }
        Ok(())
    }

    async fn read_line(&mut self) -> Result<String> {
        // A blocking read of a pipe, on the blocking pool (the reader is moved there and back).
        let mut reader = self.stdout.take().ok_or("the watchers' output is gone")?;
        let (reader, line) = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let read = reader.read_line(&mut line);
            (reader, read.map(|_| line))
        })
        .await?;
        self.stdout = Some(reader);
        let line = line?;
        if line.is_empty() {
            return Err("the watchers' process ended early".into());
        }
        Ok(line)
    }

    /// Tells the watchers to stop at `revision`; returns the process's CPU ticks and each watcher's arrivals
    /// (revision, time).
    pub async fn finish(mut self, revision: u64) -> Result<(u64, Vec<Vec<(u64, SystemTime)>>)> {
        let mut stdin = self.stdin.take().ok_or("stdin gone")?;
        writeln!(stdin, "stop {revision}")?;
        stdin.flush()?;
        let mut watchers = Vec::new();
        let mut cpu = 0;
        loop {
            let line = self.read_line().await?;
            let line = line.trim();
            if line == "end" {
                break;
            }
            if let Some(ticks) = line.strip_prefix("cpu ") {
                cpu = ticks.parse()?;
                continue;
            }
            let mut fields = line.split(' ').skip(2);
            let mut arrivals = Vec::new();
            for field in fields.by_ref() {
                let (revision, ns) = field.split_once(':').ok_or("malformed arrival")?;
                let ns: u64 = ns.parse()?;
                arrivals.push((revision.parse()?, UNIX_EPOCH + Duration::from_nanos(ns)));
            }
            watchers.push(arrivals);
        }
        let _ = self.child.wait();
        Ok((cpu, watchers))
    }
}

impl Drop for External {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Per-stage timestamps from the server
// ---------------------------------------------------------------------------------------------------------------

/// The time each revision was published, from the server's `publishing new state` debug log lines (JSON format,
/// `RUST_LOG=warn,amc::publisher=debug`): the pass has ended, the state is about to be converted, encoded and sent.
pub fn published_at(log: &Path) -> Vec<(u64, SystemTime)> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let json: serde_json::Value = serde_json::from_str(line).ok()?;
            if json["message"] != "publishing new state" {
                return None;
            }
            Some((json["revision"].as_u64()?, rfc3339(json["timestamp"].as_str()?)?))
        })
        .collect()
}

/// `YYYY-MM-DDTHH:MM:SS.ffffffZ` (tracing-subscriber's timestamps) as a time.
pub fn rfc3339(text: &str) -> Option<SystemTime> {
    let text = text.strip_suffix('Z')?;
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|p| p.parse::<u64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    let nanos: u64 = format!("{frac:0<9}").get(..9)?.parse().ok()?;
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = u64::try_from(era * 146_097 + doe - 719_468).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + hh * 3600 + mm * 60 + ss) + Duration::from_nanos(nanos))
}

/// `amc_pass_duration_seconds` (sum, count) of event-driven passes, from `/metrics`.
pub async fn event_pass_seconds(url: &str) -> Result<(f64, u64)> {
    let text = reqwest::get(format!("{url}/metrics")).await?.text().await?;
    let value = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(name) && l.contains("trigger=\"event\""))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    Ok((
        value("amc_pass_duration_seconds_sum"),
        value("amc_pass_duration_seconds_count") as u64,
    ))
}

// ---------------------------------------------------------------------------------------------------------------
// The external run
// ---------------------------------------------------------------------------------------------------------------

/// Where each write's time went, on the server's clock (per write, in write order).
pub struct Stages {
    /// Write (rename returned) → `publishing new state`: inotify, the debounce, the pass.
    pub to_publish: Vec<Duration>,
    /// `publishing new state` → the probe (one light stream in the bench process) has the whole message.
    pub publish_to_probe: Vec<Duration>,
    /// `publishing new state` → the slowest of the external watchers has the whole message: conversion and encoding
    /// (once), the fan-out to every stream, HTTP/2 and the kernel, the watchers' receiving.
    pub publish_to_slowest: Vec<Duration>,
    /// The mean duration of the event-driven passes over the writes (`amc_pass_duration_seconds`).
    pub pass_mean: Duration,
}

impl Stages {
    pub fn figures(&self) -> String {
        format!(
            "pass mean {}; write → published: {}; published → probe: {}; published → slowest watcher: {}",
            super::ms(self.pass_mean),
            summary(&self.to_publish),
            summary(&self.publish_to_probe),
            summary(&self.publish_to_slowest)
        )
    }
}

/// The probe: decodes the previews and the revision of every message (the first excluded) until it has seen
/// `last_seq`; returns (revision, newest write, arrival).
async fn probe(
    channel: Channel,
    ready: tokio::sync::oneshot::Sender<()>,
    last_seq: u64,
    deadline: tokio::time::Instant,
) -> Result<Vec<(u64, u64, SystemTime)>> {
    let mut stream = open::<LightWatch>(channel).await?;
    stream.message().await?.ok_or("stream ended")?;
    let _ = ready.send(());
    let mut seen = 0;
    let mut arrivals = Vec::new();
    while seen < last_seq {
        let message = match tokio::time::timeout_at(deadline, stream.message()).await {
            Ok(message) => message?.ok_or("stream ended")?,
            Err(_) => break,
        };
        let at = SystemTime::now();
        let Some(state) = message.snapshot else { continue };
        let seq = max_seq(state.sessions.iter().map(|s| s.last_message_preview.as_str()));
        if seq > seen {
            seen = seq;
            arrivals.push((message.revision, seq, at));
        }
    }
    Ok(arrivals)
}

/// [`super::watch_run`] with the watchers in a process of their own (see the module's documentation).
pub async fn watch_run_external(bin: &Path, plan: &WatchPlan) -> Result<WatchResult> {
    let server = Server::start_with(bin, plan.sessions, true)?;
    server.ready(plan.sessions).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let hwm_idle_kib = server.vm_kib("VmHWM")?;
    let state_bytes = get_state_len(connect(&server.url()).await?).await?;

    let mut external = External::spawn(&server.url(), plan.watchers)?;
    let run_limit = plan.spacing * (plan.writes as u32 + 10) + Duration::from_secs(30);
    let deadline = tokio::time::Instant::now() + run_limit.min(PHASE_LIMIT);
    let (probe_ready, probe_is_ready) = tokio::sync::oneshot::channel();
    let probe = tokio::spawn(probe(connect(&server.url()).await?, probe_ready, plan.writes, deadline));
    tokio::time::timeout(Duration::from_secs(60), external.ready())
        .await
        .map_err(|_| "the watchers' process was not ready in 60 s")??;
    tokio::time::timeout(Duration::from_secs(60), probe_is_ready)
        .await
        .map_err(|_| "the probe got no first message in 60 s")??;
    // Let the connection burst settle (first snapshots encoded and sent) before timing anything.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let passes_before = server.passes().await?;
    let pass_before = event_pass_seconds(&server.url()).await?;
    let cpu_before = (
        server.cpu_ticks()?,
        proc_cpu_ticks(&format!("/proc/{}/stat", external.pid()))?,
    );

    let writes = run_writes(&server, plan).await?;
    let probed = probe.await??;
    let cpu_server = server.cpu_ticks()?;
    let last_revision = probed.last().map_or(0, |(revision, _, _)| *revision);
    let (cpu_watchers, per_watcher) = external.finish(last_revision).await?;
    let passes = server.passes().await?.saturating_sub(passes_before);
    let pass_after = event_pass_seconds(&server.url()).await?;
    let published: std::collections::HashMap<u64, SystemTime> = published_at(&server.log_path()).into_iter().collect();

    let per_write = |before: u64, after: u64| {
        Duration::from_secs_f64(
            after.saturating_sub(before) as f64 / clock_ticks_per_second() as f64 / plan.writes as f64,
        )
    };
    let since = |later: SystemTime, earlier: SystemTime| later.duration_since(earlier).unwrap_or_default();
    let mut deliveries = Vec::new();
    let mut slowest = Vec::new();
    let mut missing = 0;
    let mut stages = Stages {
        to_publish: Vec::new(),
        publish_to_probe: Vec::new(),
        publish_to_slowest: Vec::new(),
        pass_mean: Duration::from_secs_f64(
            (pass_after.0 - pass_before.0).max(0.0) / (pass_after.1.saturating_sub(pass_before.1)).max(1) as f64,
        ),
    };
    for (k, write) in writes.iter().enumerate() {
        let seq = k as u64 + 1;
        // The first revision that holds the write, as the probe saw it.
        let Some(&(revision, _, probe_at)) = probed.iter().find(|(_, s, _)| *s >= seq) else {
            missing += per_watcher.len();
            continue;
        };
        let mut last_arrival = None::<SystemTime>;
        for arrivals in &per_watcher {
            match arrivals.iter().find(|(r, _)| *r >= revision) {
                Some(&(_, at)) => {
                    deliveries.push(since(at, write.after_wall));
                    last_arrival = Some(last_arrival.map_or(at, |l| l.max(at)));
                }
                None => missing += 1,
            }
        }
        let last_arrival = last_arrival.unwrap_or(probe_at);
        slowest.push(since(last_arrival, write.after_wall));
        if let Some(&at) = published.get(&revision) {
            stages.to_publish.push(since(at, write.after_wall));
            stages.publish_to_probe.push(since(probe_at, at));
            stages.publish_to_slowest.push(since(last_arrival, at));
        }
    }
    let hwm_kib = server.vm_kib("VmHWM")?;
    let rss_kib = server.vm_kib("VmRSS")?;
    Ok(WatchResult {
        deliveries,
        slowest,
        write_times: writes
            .iter()
            .map(|w| w.after.saturating_duration_since(w.before))
            .collect(),
        missing,
        hwm_idle_kib,
        state_bytes,
        hwm_kib,
        rss_kib,
        passes,
        server_cpu: per_write(cpu_before.0, cpu_server),
        client_cpu: per_write(cpu_before.1, cpu_watchers),
        stages: Some(stages),
    })
}
