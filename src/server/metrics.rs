//! `GET /metrics`: the process's counters ([`crate::metrics`]) and gauges read from the published state at scrape
//! time, in the OpenMetrics text format Prometheus scrapes. Reading needs the `read` scope like every other read
//! ([`super::auth`]). A scrape never runs a pass: it reads the current snapshot, and the hook counters from the data
//! dir at most once a second (only the bytes appended since the last look).
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `amc_sessions` | gauge | `status`, `agent`, `host` |
//! | `amc_session_context_ratio` | gauge | `session_id`, `agent` (the 100 fullest sessions) |
//! | `amc_hook_invocations_total` | counter | — (lines of the event logs) |
//! | `amc_hook_failures_total` | counter | — (lines of `hook.log`) |
//! | `amc_build_info` | gauge | `version` |
//! | `amc_warming` | gauge | — (1 while the first pass runs) |
//! | and every counter of [`crate::metrics`] | | |

use std::{
    collections::{BTreeMap, HashMap},
    io::{Read as _, Seek as _},
    path::{Path, PathBuf},
    sync::{Arc, LazyLock, Mutex},
    time::{Duration, Instant},
};

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use prometheus_client::registry::Registry;

use super::http::HttpState;
use crate::{
    metrics::{self, CounterFamily, GaugeFamily, Labels, RatioFamily},
    proto as pb,
};

/// At most this many sessions get an `amc_session_context_ratio` series (the fullest first).
pub const MAX_RATIO_SERIES: usize = 100;

/// How often the hook counters are re-read from the data dir.
const HOOK_REFRESH: Duration = Duration::from_secs(1);

/// The OpenMetrics content type.
const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Returns the `/metrics` router.
pub fn router(state: HttpState) -> Router {
    Router::new().route("/metrics", get(scrape)).with_state(state)
}

async fn scrape(State(http): State<HttpState>) -> Response {
    let hooks = hook_totals(&http.paths.data_dir).await;
    let snapshot = http.state.current();
    let mut registry = Registry::with_prefix("amc");
    let sessions = GaugeFamily::default();
    let ratios = RatioFamily::default();
    let host = hostname();
    let mut fullest: Vec<(f64, &pb::Session)> = Vec::new();
    for session in &snapshot.proto_sessions {
        let labels: Labels = vec![
            ("status", status_name(session.status)),
            ("agent", agent_name(session.agent)),
            ("host", host.clone()),
        ];
        sessions.get_or_create(&labels).inc();
        if let Some(usage) = &session.context_usage {
            fullest.push((usage.percent / 100.0, session));
        }
    }
    fullest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ratio, session) in fullest.into_iter().take(MAX_RATIO_SERIES) {
        let labels: Labels = vec![
            ("session_id", session.session_id.clone()),
            ("agent", agent_name(session.agent)),
        ];
        ratios.get_or_create(&labels).set(ratio);
    }
    registry.register("sessions", "Sessions listed now, by status, agent and host", sessions);
    registry.register(
        "session_context_ratio",
        "Context window used, 0 to 1, per session (the 100 fullest)",
        ratios,
    );
    let invocations = CounterFamily::default();
    metrics::set_counter(&invocations.get_or_create(&Vec::new()), hooks.invocations);
    registry.register(
        "hook_invocations",
        "Hook events recorded (lines of the event logs in the data dir)",
        invocations,
    );
    let failures = CounterFamily::default();
    metrics::set_counter(&failures.get_or_create(&Vec::new()), hooks.failures);
    registry.register(
        "hook_failures",
        "Hook problems logged (lines of hook.log in the data dir)",
        failures,
    );
    let build = GaugeFamily::default();
    build
        .get_or_create(&vec![("version", env!("CARGO_PKG_VERSION").to_owned())])
        .set(1);
    registry.register("build_info", "The running amc's version (always 1)", build);
    let warming = GaugeFamily::default();
    warming.get_or_create(&Vec::new()).set(i64::from(snapshot.warming));
    registry.register("warming", "1 while the first collection pass runs", warming);
    match metrics::encode(&registry) {
        Ok(text) => ([(header::CONTENT_TYPE, CONTENT_TYPE)], text).into_response(),
        Err(_) => (StatusCode::INTERNAL_SERVER_ERROR, "encoding the metrics failed").into_response(),
    }
}

/// `SESSION_STATUS_WORKING` → `working`.
fn status_name(status: i32) -> String {
    pb::SessionStatus::try_from(status)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("SESSION_STATUS_")
                .to_ascii_lowercase()
        })
        .unwrap_or_else(|_| "unspecified".into())
}

/// `AGENT_CLAUDE` → `claude`.
fn agent_name(agent: i32) -> String {
    pb::Agent::try_from(agent)
        .map(|a| a.as_str_name().trim_start_matches("AGENT_").to_ascii_lowercase())
        .unwrap_or_else(|_| "unspecified".into())
}

/// The machine's name (`/proc/sys/kernel/hostname`, else `$HOSTNAME`, else `localhost`).
fn hostname() -> String {
    static NAME: LazyLock<String> = LazyLock::new(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "localhost".into())
    });
    NAME.clone()
}

/// The hook counters.
#[derive(Debug, Clone, Copy, Default)]
struct HookTotals {
    invocations: u64,
    failures: u64,
}

/// Lines counted per file: the length seen and the lines in it; lines of files that went (removed, rotated) are kept
/// in `retired` so that the totals never go down.
#[derive(Debug, Default)]
struct LineTally {
    files: HashMap<PathBuf, (u64, u64)>,
    retired: u64,
}

impl LineTally {
    /// Counts the lines of `files` (only the bytes appended since the last look); returns the total.
    fn update(&mut self, files: &[PathBuf]) -> u64 {
        let mut seen = BTreeMap::new();
        for path in files {
            let Ok(len) = std::fs::metadata(path).map(|m| m.len()) else {
                continue;
            };
            let (old_len, old_lines) = self.files.get(path).copied().unwrap_or((0, 0));
            let (from, base) = if len < old_len {
                // Rotated or rewritten: what it had counted is kept, the file is counted again.
                self.retired += old_lines;
                (0, 0)
            } else {
                (old_len, old_lines)
            };
            let lines = base + count_lines(path, from).unwrap_or(0);
            seen.insert(path.clone(), (len, lines));
        }
        for (path, (_, lines)) in &self.files {
            if !seen.contains_key(path) {
                self.retired += lines;
            }
        }
        self.files = seen.into_iter().collect();
        self.retired + self.files.values().map(|(_, lines)| lines).sum::<u64>()
    }
}

/// Counts the newlines of `path` from byte `from`.
fn count_lines(path: &Path, from: u64) -> std::io::Result<u64> {
    let mut file = std::fs::File::open(path)?;
    file.seek(std::io::SeekFrom::Start(from))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut lines = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(lines);
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
}

struct HookTally {
    events: LineTally,
    log: LineTally,
    totals: HookTotals,
    at: Option<Instant>,
}

/// The hook counters of `data_dir`, re-read at most once per [`HOOK_REFRESH`].
async fn hook_totals(data_dir: &Path) -> HookTotals {
    static TALLIES: LazyLock<Mutex<HashMap<PathBuf, Arc<Mutex<HookTally>>>>> = LazyLock::new(Mutex::default);
    let tally = {
        let mut all = TALLIES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.entry(data_dir.to_path_buf())
            .or_insert_with(|| {
                Arc::new(Mutex::new(HookTally {
                    events: LineTally::default(),
                    log: LineTally::default(),
                    totals: HookTotals::default(),
                    at: None,
                }))
            })
            .clone()
    };
    {
        let current = tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.at.is_some_and(|at| at.elapsed() < HOOK_REFRESH) {
            return current.totals;
        }
    }
    let data_dir = data_dir.to_path_buf();
    let refreshed = tokio::task::spawn_blocking(move || {
        let mut t = tally.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if t.at.is_some_and(|at| at.elapsed() < HOOK_REFRESH) {
            return t.totals;
        }
        let event_logs: Vec<PathBuf> = std::fs::read_dir(data_dir.join("events"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
            .collect();
        let invocations = t.events.update(&event_logs);
        let failures = t.log.update(&[data_dir.join("hook.log")]);
        t.totals = HookTotals { invocations, failures };
        t.at = Some(Instant::now());
        t.totals
    })
    .await;
    refreshed.unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_totals_never_go_down_when_files_rotate_or_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = dir.path().join("a.jsonl");
        let b = dir.path().join("b.jsonl");
        std::fs::write(&a, "1\n2\n").expect("write");
        std::fs::write(&b, "1\n").expect("write");
        let mut tally = LineTally::default();
        assert_eq!(tally.update(&[a.clone(), b.clone()]), 3);
        std::fs::write(&a, "1\n2\n3\n").expect("append");
        assert_eq!(tally.update(&[a.clone(), b.clone()]), 4);
        std::fs::remove_file(&b).expect("rm");
        assert_eq!(
            tally.update(&[a.clone(), b.clone()]),
            4,
            "a removed file's lines stay counted"
        );
        std::fs::write(&a, "x\n").expect("rotate");
        assert_eq!(tally.update(&[a]), 5, "a rotated file counts again from its start");
    }

    #[test]
    fn enum_names_are_short() {
        assert_eq!(status_name(pb::SessionStatus::Active as i32), "active");
        assert_eq!(agent_name(pb::Agent::Claude as i32), "claude");
        assert_eq!(status_name(9999), "unspecified");
    }
}
