//! `amc statusline`: Claude Code's statusLine command. It records what the statusLine input says that the
//! transcript does not (the exact context window and percentage, the session's cost, the plan's rate limits, the
//! model id) into the session file's `statusline` object, then prints a status line: its own, or, with
//! `--then '<cmd>'`, the output of the user's previous statusLine command run on the same stdin.
//!
//! Fast and fail-open like the hook: stdin is read with a bound, the record runs on a helper thread with a
//! [`DEADLINE`], and whatever fails (bad JSON, no session file, a held lock, a failing `--then` command) still prints
//! a line and exits 0. Only sessions that already have a session file (the hook's SessionStart made it) are updated.
//!
//! Versions (formats.md §1.4): `context_window` exists from 2.0.65, `current_usage` from 2.0.70, `used_percentage`
//! from 2.1.6; before 2.1.132 `total_input_tokens` and the percentage were cumulative session totals, so for those
//! versions only `current_usage` gives the current context and `used_percentage` is not recorded.

use std::{
    io::{Read, Write},
    process::{Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, SystemTime},
};

use serde_json::{json, Map, Value};

use crate::{config::Paths, model::str_field, sources::session_file, store};

use super::{log_line, rfc3339, HookError};

/// How long the record may take before the line is printed anyway.
pub const DEADLINE: Duration = Duration::from_millis(800);

/// The session-file key of the capture.
pub const KEY: &str = "statusline";

/// The first Claude Code version whose statusLine token counts are the current context (formats.md §1.4).
const TRUSTED_SINCE: (u64, u64, u64) = (2, 1, 132);

fn version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.trim().split(['.', '-', ' ']).map(|p| p.parse::<u64>().ok());
    Some((parts.next()??, parts.next()??, parts.next()??))
}

fn num(value: Option<&Value>) -> Option<f64> {
    value.and_then(Value::as_f64).filter(|v| v.is_finite() && *v >= 0.0)
}

/// Returns an epoch-seconds `resets_at` from a number or an RFC 3339 string.
fn epoch(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::Number(n) => n.as_i64().filter(|t| *t > 0),
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| t.timestamp()),
        _ => None,
    }
}

/// Returns the capture of a statusLine `payload` at `now` (RFC 3339): `{at, version, model_id, window_tokens,
/// current_tokens, used_percent, cost_usd, rate_limits: [{name, window_minutes, used_percent, resets_at}]}`, keys
/// without a usable value left out.
pub fn capture(payload: &Map<String, Value>, now: &str) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("at".into(), now.into());
    let version_text = str_field(payload, "version").unwrap_or_default();
    if !version_text.is_empty() {
        c.insert("version".into(), version_text.into());
    }
    let trusted = version(version_text).is_some_and(|v| v >= TRUSTED_SINCE);
    if let Some(id) = payload.get("model").and_then(|m| m.get("id")).and_then(Value::as_str) {
        c.insert("model_id".into(), id.into());
    }
    if let Some(window) = payload.get("context_window").and_then(Value::as_object) {
        let size = num(window.get("context_window_size")).filter(|s| *s > 0.0);
        if let Some(size) = size {
            c.insert("window_tokens".into(), (size as u64).into());
        }
        let current = window.get("current_usage").and_then(Value::as_object).map(|u| {
            ["input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"]
                .iter()
                .filter_map(|k| num(u.get(*k)))
                .sum::<f64>() as u64
        });
        let current = current.or_else(|| {
            trusted
                .then(|| num(window.get("total_input_tokens")))
                .flatten()
                .map(|t| t as u64)
        });
        if let Some(current) = current {
            c.insert("current_tokens".into(), current.into());
        }
        if let Some(used) = trusted.then(|| num(window.get("used_percentage"))).flatten() {
            c.insert("used_percent".into(), json!(used.min(100.0)));
        }
    }
    if let Some(cost) = num(payload.get("cost").and_then(|c| c.get("total_cost_usd"))).filter(|c| *c <= 1e9) {
        c.insert("cost_usd".into(), json!(cost));
    }
    let limits: Vec<Value> = payload
        .get("rate_limits")
        .and_then(Value::as_object)
        .map(|limits| {
            limits
                .iter()
                .filter_map(|(name, window)| {
                    let used = num(window.get("used_percentage").or_else(|| window.get("used_percent")))?;
                    let minutes = match name.as_str() {
                        "five_hour" => Some(300),
                        "seven_day" | "seven_day_opus" | "seven_day_sonnet" => Some(10_080),
                        _ => None,
                    };
                    Some(json!({
                        "name": name,
                        "window_minutes": minutes,
                        "used_percent": used.min(100.0),
                        "resets_at": epoch(window.get("resets_at")),
                    }))
                })
                .collect()
        })
        .unwrap_or_default();
    if !limits.is_empty() {
        c.insert("rate_limits".into(), limits.into());
    }
    c
}

/// Returns amc's own compact status line for a statusLine `payload`: model, context, cost and the 5-hour window.
pub fn render(payload: &Map<String, Value>) -> String {
    let c = capture(payload, "");
    let model = payload
        .get("model")
        .and_then(|m| m.get("display_name").or_else(|| m.get("id")))
        .and_then(Value::as_str)
        .unwrap_or("claude");
    let mut parts = vec![model.to_owned()];
    let window = c.get("window_tokens").and_then(Value::as_u64);
    let percent = c.get("used_percent").and_then(Value::as_f64).or_else(|| {
        let current = c.get("current_tokens").and_then(Value::as_u64)?;
        window.filter(|w| *w > 0).map(|w| current as f64 * 100.0 / w as f64)
    });
    match (percent, window) {
        (Some(p), Some(w)) => parts.push(format!("ctx {p:.0}% of {}k", w / 1000)),
        (Some(p), None) => parts.push(format!("ctx {p:.0}%")),
        _ => {}
    }
    if let Some(cost) = c.get("cost_usd").and_then(Value::as_f64) {
        parts.push(format!("${cost:.2}"));
    }
    for limit in c.get("rate_limits").and_then(Value::as_array).into_iter().flatten() {
        if let (Some(name), Some(used)) = (
            limit.get("name").and_then(Value::as_str),
            limit.get("used_percent").and_then(Value::as_f64),
        ) {
            let short = match name {
                "five_hour" => "5h",
                "seven_day" => "7d",
                other => other,
            };
            parts.push(format!("{short} {used:.0}%"));
        }
    }
    parts.join(" · ")
}

/// Records the capture of `payload` into its session file; `Ok(false)` when there is no session file to update.
pub fn record(paths: &Paths, payload: &Map<String, Value>) -> Result<bool, HookError> {
    let Some(id) = str_field(payload, "session_id").filter(|id| store::is_safe_session_id(id)) else {
        return Err(HookError::Rejected("statusLine input has no safe session_id".into()));
    };
    let path = store::session_file(paths, id).ok_or_else(|| HookError::Rejected("unsafe session_id".into()))?;
    if !path.is_file() {
        return Ok(false);
    }
    let io = |context: String| move |source| HookError::Io { context, source };
    let _lock = store::SessionLock::acquire(paths, id).map_err(io(format!("locking session {id}")))?;
    let raw = match session_file::read_raw(&path).map_err(io(format!("reading {}", path.display())))? {
        Some(raw) => raw,
        None => return Ok(false),
    };
    let session_file::Parsed::Object(mut session) = raw.parse() else {
        return Ok(false);
    };
    let capture = capture(payload, &rfc3339(SystemTime::now()));
    let same = |old: &Map<String, Value>| {
        let mut a = old.clone();
        let mut b = capture.clone();
        a.remove("at");
        b.remove("at");
        a == b
    };
    if session.get(KEY).and_then(Value::as_object).is_some_and(same) {
        return Ok(true);
    }
    session.insert(KEY.into(), Value::Object(capture));
    let bytes = session_file::session_bytes(&session);
    store::write_atomic(&path, &bytes).map_err(io(format!("writing {}", path.display())))?;
    Ok(true)
}

/// Runs `then` (a shell command line) with `stdin` as its input and returns its standard output, or `None` when it
/// cannot be run or fails.
fn pass_through(then: &str, stdin: &[u8]) -> Option<Vec<u8>> {
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(then)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .ok()?;
    let mut input = child.stdin.take()?;
    let bytes = stdin.to_vec();
    // A command that does not read its stdin must not block us: write from a helper thread.
    let writer = thread::spawn(move || {
        let _ = input.write_all(&bytes);
    });
    let output = child.wait_with_output().ok()?;
    let _ = writer.join();
    output.status.success().then_some(output.stdout)
}

/// `amc statusline [--then CMD]`: reads the statusLine input from stdin, records it, prints a line. Never fails.
pub fn run(paths: &Paths, then: Option<&str>) {
    let mut stdin = Vec::new();
    let _ = std::io::stdin()
        .lock()
        .take(super::MAX_PAYLOAD_BYTES)
        .read_to_end(&mut stdin);
    let payload = match serde_json::from_slice::<Value>(&stdin) {
        Ok(Value::Object(map)) => Some(map),
        _ => {
            log_line(paths, "statusline: the input is not a JSON object");
            None
        }
    };
    if let Some(payload) = payload.clone() {
        let (tx, rx) = mpsc::channel();
        let worker_paths = paths.clone();
        let spawned = thread::Builder::new().name("amc-statusline".into()).spawn(move || {
            let _ = tx.send(record(&worker_paths, &payload));
        });
        let result = match spawned {
            Ok(_) => rx.recv_timeout(DEADLINE).ok(),
            Err(_) => None,
        };
        match result {
            Some(Ok(_)) => {}
            Some(Err(error)) => log_line(paths, &format!("statusline: {error}")),
            None => log_line(paths, "statusline: gave up recording (the session lock is held)"),
        }
    }
    let mut out = std::io::stdout().lock();
    if let Some(output) = then.and_then(|cmd| pass_through(cmd, &stdin)) {
        let _ = out.write_all(&output);
        return;
    }
    let line = payload.as_ref().map_or_else(|| "amc".to_owned(), render);
    let _ = writeln!(out, "{line}");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    /// A 2.1.331-shaped statusLine input (the fields of the pinned Claude Code's statusLine builder).
    fn new_input() -> Map<String, Value> {
        payload(json!({
            "session_id": "s1", "transcript_path": "/t.jsonl", "cwd": "/w",
            "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"},
            "workspace": {"current_dir": "/w", "project_dir": "/w"},
            "version": "2.1.331",
            "cost": {"total_cost_usd": 1.25, "total_duration_ms": 1000, "total_api_duration_ms": 900,
                     "total_lines_added": 1, "total_lines_removed": 0},
            "context_window": {"total_input_tokens": 250000, "total_output_tokens": 900,
                "context_window_size": 1000000, "used_percentage": 25, "remaining_percentage": 75,
                "current_usage": {"input_tokens": 5000, "output_tokens": 900,
                    "cache_creation_input_tokens": 20000, "cache_read_input_tokens": 225000}},
            "exceeds_200k_tokens": true,
            "rate_limits": {"five_hour": {"used_percentage": 42.5, "resets_at": 1780638395},
                            "seven_day": {"used_percentage": 12, "resets_at": 1781146208}}
        }))
    }

    #[test]
    fn a_new_version_is_captured_whole() {
        let c = capture(&new_input(), "2026-12-05T10:00:00Z");
        assert_eq!(c["window_tokens"], 1_000_000);
        assert_eq!(c["current_tokens"], 250_000);
        assert_eq!(c["used_percent"], 25.0);
        assert_eq!(c["cost_usd"], 1.25);
        assert_eq!(c["model_id"], "claude-opus-5-5");
        assert_eq!(
            c["rate_limits"][0],
            json!({"name": "five_hour", "window_minutes": 300, "used_percent": 42.5, "resets_at": 1780638395})
        );
        assert_eq!(
            render(&new_input()),
            "Opus 5.5 · ctx 25% of 1000k · $1.25 · 5h 42% · 7d 12%"
        );
    }

    #[test]
    fn old_versions_cumulative_totals_are_not_the_context() {
        // Before 2.1.132 the totals were cumulative: no current_usage → no current context, no percentage.
        let mut old = new_input();
        old.insert("version".into(), "2.1.100".into());
        old["context_window"]
            .as_object_mut()
            .expect("object")
            .insert("current_usage".into(), Value::Null);
        let c = capture(&old, "t");
        assert_eq!(c["window_tokens"], 1_000_000);
        assert!(!c.contains_key("current_tokens"));
        assert!(!c.contains_key("used_percent"));
        // The real 1.0.88 input: no context_window at all, a cost.
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/fixtures/claude-hook-payloads/ryoppippi-ccusage/statusline-test.json");
        match std::fs::read(&fixture) {
            Ok(bytes) => {
                let real: Map<String, Value> = serde_json::from_slice(&bytes).expect("fixture");
                let c = capture(&real, "t");
                assert_eq!(c["cost_usd"], 0.056266149999999994);
                assert!(!c.contains_key("window_tokens"));
                assert_eq!(render(&real), "Sonnet 4 · $0.06");
            }
            Err(_) => eprintln!("skipped: ../shared fixtures not present ({})", fixture.display()),
        }
        let garbage = payload(
            json!({"context_window": {"context_window_size": -5, "used_percentage": "x"},
            "cost": {"total_cost_usd": -1}, "rate_limits": {"five_hour": {"used_percentage": null}}}),
        );
        let c = capture(&garbage, "t");
        assert_eq!(c.keys().collect::<Vec<_>>(), vec!["at"]);
    }

    #[test]
    fn a_pass_through_command_sees_the_same_stdin() {
        let out = pass_through("wc -c; cat >/dev/null", b"12345").expect("ran");
        assert_eq!(String::from_utf8_lossy(&out).trim(), "5");
        assert!(pass_through("exit 3", b"x").is_none());
        assert_eq!(pass_through("echo hi", b"ignored").as_deref(), Some(&b"hi\n"[..]));
    }
}
