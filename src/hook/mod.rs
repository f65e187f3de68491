//! `amc hook`: the Claude Code hook. It reads one hook payload (JSON) from stdin, updates
//! `sessions/<session_id>.json` and appends one line to `events/<session_id>.jsonl` in the data dir.
//!
//! The hook is fail-open: whatever goes wrong (bad JSON, an unsafe session id, a read-only or full disk, a stuck
//! stdin), it prints nothing on stdout, logs the problem to `<data dir>/hook.log`, returns within
//! [`HOOK_DEADLINE`], and the CLI exits 0, so it never fails or blocks the agent. It is synchronous: no async runtime
//! is started, because the process lives for a few milliseconds.
//!
//! What each event does to the session file is in [`update`] (pure functions); this module does the I/O: read,
//! lock, read-modify-write, append, log. `docs/hook.md` describes the whole contract.

pub mod codex_trust;
pub mod compaction;
pub mod extras;
pub mod hold;
pub mod install;
pub mod question;
pub mod statusline;
pub mod update;

use std::{
    fs::{self, OpenOptions},
    io::{self, Read, Write},
    path::Path,
    sync::mpsc,
    thread,
    time::{Duration, SystemTime},
};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value};

use crate::{
    config::Paths,
    model::str_field,
    sources::session_file::{self, Parsed},
    store,
};

use self::update::{Context, Effect};

/// The largest payload read from stdin; a bigger one is rejected (Claude Code's payloads are a few KB).
pub const MAX_PAYLOAD_BYTES: u64 = 16 * 1024 * 1024;

/// How long the hook may take in all (reading stdin, waiting for the session lock, writing) before it gives up.
///
/// Below the 5 s timeout `amc hooks install` gives Claude Code, so the hook ends on its own terms and logs why.
pub const HOOK_DEADLINE: Duration = Duration::from_secs(4);

/// `hook.log` is rotated to `hook.log.1` when it grows past this size, so the two stay under 1 MiB together.
pub const HOOK_LOG_ROTATE_BYTES: u64 = 512 * 1024;

/// The process environment the hook reads (besides the paths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HookEnv {
    /// `ZELLIJ_SESSION_NAME`, when set and non-empty.
    pub zellij_session: Option<String>,
    /// `ZELLIJ_PANE_ID`, when set and non-empty.
    pub zellij_pane: Option<String>,
    /// `AMC_SPAWN_ID` (set by amc when it spawns an agent), when set and non-empty.
    pub spawn_id: Option<String>,
    /// The agent whose hook this is (`amc hook --agent codex`; Claude Code by default).
    pub agent: update::HookAgent,
}

impl HookEnv {
    /// Reads the hook's variables from the process environment.
    pub fn from_env() -> Self {
        let var = |key: &str| std::env::var(key).ok().filter(|v| !v.is_empty());
        HookEnv {
            zellij_session: var("ZELLIJ_SESSION_NAME"),
            zellij_pane: var("ZELLIJ_PANE_ID"),
            spawn_id: var("AMC_SPAWN_ID"),
            agent: update::HookAgent::Claude,
        }
    }

    /// The same, for `agent`'s hook.
    #[must_use]
    pub fn for_agent(mut self, agent: update::HookAgent) -> Self {
        self.agent = agent;
        self
    }
}

/// Why a hook invocation recorded nothing (or not everything); written to `hook.log`.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The payload was unusable: not JSON, no session id, an unsafe session id, ...
    #[error("rejected payload: {0}")]
    Rejected(String),
    /// Reading stdin or writing the data dir failed.
    #[error("{context}: {source}")]
    Io {
        /// What the hook was doing.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
}

fn io_error(context: impl Into<String>) -> impl FnOnce(io::Error) -> HookError {
    move |source| HookError::Io {
        context: context.into(),
        source,
    }
}

/// Reads one hook payload from stdin and records it; never fails (fail-open).
///
/// Errors go to `<data dir>/hook.log`. The work runs on a helper thread so that a payload cut off on a stdin that is
/// never closed, or a session lock that is never released, cannot hold the agent past [`HOOK_DEADLINE`]: when the deadline passes this
/// returns anyway, and the process exit ends the helper (an interrupted write leaves at worst a hidden temp file,
/// never a half-written session file).
pub fn run_from_stdin(paths: &Paths, agent: update::HookAgent) {
    let env = HookEnv::from_env().for_agent(agent);
    let (tx, rx) = mpsc::channel();
    let worker_paths = paths.clone();
    let agent_is_claude = env.agent == update::HookAgent::Claude;
    let spawned = thread::Builder::new().name("amc-hook".into()).spawn(move || {
        let result = read_stdin().and_then(|payload| {
            handle_payload(&worker_paths, &payload, &env)?;
            Ok(permission_request_session(&payload).filter(|_| agent_is_claude))
        });
        // The receiver is gone only when the deadline passed; the error was logged then.
        let _ = tx.send(result);
    });
    let result = match spawned {
        Ok(_) => match rx.recv_timeout(HOOK_DEADLINE) {
            Ok(result) => result,
            Err(mpsc::RecvTimeoutError::Timeout) => Err(HookError::Io {
                context: format!(
                    "gave up after {} s (stdin not closed, or the session lock held)",
                    HOOK_DEADLINE.as_secs()
                ),
                source: io::ErrorKind::TimedOut.into(),
            }),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(HookError::Io {
                context: "the hook thread panicked".into(),
                source: io::ErrorKind::Other.into(),
            }),
        },
        Err(e) => Err(HookError::Io {
            context: "cannot start the hook thread".into(),
            source: e,
        }),
    };
    match result {
        Ok(Some(session_id)) => hold_permission(paths, &session_id),
        Ok(None) => {}
        Err(error) => log_error(paths, &error),
    }
}

/// The session id of a Claude Code PermissionRequest payload.
fn permission_request_session(payload: &[u8]) -> Option<String> {
    let payload: Value = serde_json::from_slice(payload).ok()?;
    (payload.get("hook_event_name")?.as_str()? == "PermissionRequest")
        .then(|| payload.get("session_id")?.as_str().map(str::to_owned))
        .flatten()
}

/// Registers the recorded PermissionRequest with the running server and, when it says to hold, waits for a decision
/// and prints it (see [`hold`]); fail-open: anything amiss prints nothing.
fn hold_permission(paths: &Paths, session_id: &str) {
    let Some(server) = hold::Server::find(paths) else {
        return;
    };
    let Some(registered) = hold::register(&server, session_id) else {
        log_line(
            paths,
            &format!("PermissionRequest of {session_id}: no amc server answered; not held"),
        );
        return;
    };
    let Some(request_id) = registered.request_id.as_deref() else {
        return;
    };
    if let Err(e) = hold::record_request_id(paths, session_id, request_id) {
        log_line(paths, &format!("recording request {request_id} of {session_id}: {e}"));
    }
    match hold::wait(&server, &registered) {
        Some(decision) => {
            let mut stdout = io::stdout().lock();
            let _ = writeln!(stdout, "{decision}").and_then(|()| stdout.flush());
        }
        None => log_line(
            paths,
            &format!("request {request_id} of {session_id}: no decision; Claude Code asks"),
        ),
    }
}

/// Reads one payload from stdin: up to the end of its JSON object, or to EOF, refusing more than
/// [`MAX_PAYLOAD_BYTES`].
///
/// Reading stops as soon as the top-level object is closed, without waiting for EOF, so a writer that keeps stdin
/// open after a complete payload does not make the hook wait out [`HOOK_DEADLINE`] and lose the event. Input that
/// does not start with `{` (after whitespace) cannot be a payload and is rejected at once.
fn read_stdin() -> Result<Vec<u8>, HookError> {
    read_payload(&mut io::stdin().lock())
}

fn read_payload(input: &mut impl Read) -> Result<Vec<u8>, HookError> {
    let mut payload = Vec::with_capacity(8 * 1024);
    let mut chunk = vec![0; 64 * 1024];
    let mut scanner = ObjectScanner::default();
    loop {
        let n = match input.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(io_error("reading stdin")(e)),
        };
        let start = payload.len();
        payload.extend_from_slice(&chunk[..n]);
        match scanner.feed(&payload[start..]) {
            Scan::More => {}
            Scan::Complete(end) => {
                payload.truncate(start + end);
                break;
            }
            Scan::NotAnObject => return Err(HookError::Rejected("payload is not a JSON object".into())),
        }
        if payload.len() as u64 > MAX_PAYLOAD_BYTES {
            break;
        }
    }
    if payload.len() as u64 > MAX_PAYLOAD_BYTES {
        return Err(HookError::Rejected(format!(
            "payload larger than {MAX_PAYLOAD_BYTES} bytes"
        )));
    }
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Err(HookError::Rejected("empty payload".into()));
    }
    Ok(payload)
}

/// What [`ObjectScanner::feed`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scan {
    /// The object is not closed yet.
    More,
    /// The object ends right before this index of the bytes just fed.
    Complete(usize),
    /// The first non-whitespace byte is not `{`.
    NotAnObject,
}

/// Finds where a top-level JSON object ends, fed in pieces: tracks brace/bracket depth outside strings. It does not
/// validate; the parser does that on the bytes up to the end it finds.
#[derive(Debug, Default)]
struct ObjectScanner {
    started: bool,
    depth: usize,
    in_string: bool,
    escaped: bool,
}

impl ObjectScanner {
    fn feed(&mut self, bytes: &[u8]) -> Scan {
        for (i, &b) in bytes.iter().enumerate() {
            if !self.started {
                match b {
                    b'{' => {
                        self.started = true;
                        self.depth = 1;
                    }
                    b if b.is_ascii_whitespace() => {}
                    _ => return Scan::NotAnObject,
                }
                continue;
            }
            if self.in_string {
                match b {
                    _ if self.escaped => self.escaped = false,
                    b'\\' => self.escaped = true,
                    b'"' => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == 0 {
                        return Scan::Complete(i + 1);
                    }
                }
                _ => {}
            }
        }
        Scan::More
    }
}

/// Records one hook payload: updates `sessions/<session_id>.json` and appends to `events/<session_id>.jsonl`.
///
/// This is the whole hook minus stdin and the deadline. The session file's read-modify-write and the event-log append
/// happen under the session's [`store::SessionLock`], so concurrent hooks of one session (and the collector) never
/// lose each other's updates and the log's order is the order of the writes.
pub fn handle_payload(paths: &Paths, payload: &[u8], env: &HookEnv) -> Result<(), HookError> {
    let payload = match serde_json::from_slice::<Value>(payload) {
        Ok(Value::Object(map)) => map,
        Ok(_) => return Err(HookError::Rejected("payload is not a JSON object".into())),
        Err(e) => return Err(HookError::Rejected(format!("payload is not JSON: {e}"))),
    };
    let session_id = match payload.get("session_id") {
        Some(Value::String(id)) => id.as_str(),
        _ => return Err(HookError::Rejected("payload has no session_id string".into())),
    };
    if !store::is_safe_session_id(session_id) {
        let shown = update::truncate_chars(session_id, 80);
        return Err(HookError::Rejected(format!("unsafe session_id {shown:?}")));
    }
    let event = match str_field(&payload, "hook_event_name") {
        Some(event) if !event.is_empty() => event,
        _ => {
            return Err(HookError::Rejected(format!(
                "payload for session {session_id} has no hook_event_name"
            )))
        }
    };
    // The transcript is read before taking the lock, to keep the lock short.
    let transcript_message = if update::needs_transcript_message(event, &payload) {
        str_field(&payload, "transcript_path")
            .filter(|p| !p.is_empty())
            .and_then(|p| crate::transcript::last_assistant_message(Path::new(p)).ok().flatten())
    } else {
        None
    };
    let last_assistant_message = match payload.get("last_assistant_message") {
        Some(Value::String(message)) if event == "Stop" || event == "StopFailure" => Some(message.as_str()),
        _ => transcript_message.as_deref(),
    };

    let session_path =
        store::session_file(paths, session_id).ok_or_else(|| HookError::Rejected("unsafe session_id".into()))?;
    let log_path =
        store::event_log(paths, session_id).ok_or_else(|| HookError::Rejected("unsafe session_id".into()))?;
    let _lock =
        store::SessionLock::acquire(paths, session_id).map_err(io_error(format!("locking session {session_id}")))?;
    // Taken under the lock, so `last_event_at` and the log's `at` follow the order of the writes.
    let now = rfc3339(SystemTime::now());

    let (mut session, existed) = read_session(paths, &session_path)?;
    let ctx = Context {
        now: &now,
        zellij_session: env.zellij_session.as_deref(),
        zellij_pane: env.zellij_pane.as_deref(),
        spawn_id: env.spawn_id.as_deref(),
        last_assistant_message,
        agent: env.agent,
    };
    let compaction = pending_compaction(&session, event);
    let effect = update::apply(&mut session, existed, event, &payload, &ctx);
    if compaction.is_some() {
        session.shift_remove(crate::model::key::COMPACTING_SINCE);
    }
    if effect != Effect::Nothing {
        let bytes = session_file::session_bytes(&session);
        store::write_atomic(&session_path, &bytes).map_err(io_error(format!("writing {}", session_path.display())))?;
    }
    if effect == Effect::Trash {
        store::move_to_trash(paths, &session_path).map_err(io_error(format!("trashing {}", session_path.display())))?;
    }
    let new_status = match effect {
        Effect::Write => str_field(&session, "status").unwrap_or_default(),
        Effect::Trash | Effect::Nothing => crate::model::status::ENDED,
    };
    let mut line = update::event_line(event, &payload, new_status, &now);
    line.push('\n');
    if let Some(found) = compaction {
        let mut compaction_line = update::compaction_line(found, new_status, &now);
        compaction_line.push('\n');
        line.insert_str(0, &compaction_line);
    }
    append(&log_path, line.as_bytes()).map_err(io_error(format!("appending to {}", log_path.display())))
}

/// A compaction PreCompact marked (`compacting_since`) whose `compact_boundary` line is now in the transcript: its
/// sizes for a `Compaction` event-log line. Not looked for on PreCompact itself (a new compaction starts).
fn pending_compaction(session: &Map<String, Value>, event: &str) -> Option<Map<String, Value>> {
    if event == "PreCompact" {
        return None;
    }
    let since = str_field(session, crate::model::key::COMPACTING_SINCE)?;
    let transcript = str_field(session, "transcript_path").filter(|p| !p.is_empty())?;
    compaction::read_boundary_tokens(Path::new(transcript), Some(since))
        .ok()
        .flatten()
}

/// Reads the session file; `(empty, false)` when there is none.
///
/// A file that is not a JSON object is moved to the trash (and logged) and the session starts afresh: the collector
/// cannot show it anyway, and the hook must not get stuck on it.
fn read_session(paths: &Paths, path: &Path) -> Result<(Map<String, Value>, bool), HookError> {
    let raw = match session_file::read_raw(path) {
        Ok(Some(raw)) => raw,
        Ok(None) => return Ok((Map::new(), false)),
        Err(e) => return Err(io_error(format!("reading {}", path.display()))(e)),
    };
    match raw.parse() {
        Parsed::Object(map) => Ok((map, true)),
        Parsed::NotObject | Parsed::Invalid(_) => {
            let trashed = store::move_to_trash(paths, path);
            let note = match trashed {
                Ok(_) => "moved to the trash",
                Err(_) => "could not be moved to the trash; overwriting it",
            };
            log_line(paths, &format!("{} is not a JSON object: {note}", path.display()));
            Ok((Map::new(), false))
        }
    }
}

/// Appends `bytes` to `path` with one `write` (O_APPEND), creating the file and its directory.
fn append(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let open = || OpenOptions::new().create(true).append(true).open(path);
    let mut file = match open() {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            open()?
        }
        Err(e) => return Err(e),
    };
    file.write_all(bytes)
}

/// Formats `time` as RFC 3339 UTC with microseconds (`2026-03-01T10:00:00.123456Z`).
fn rfc3339(time: SystemTime) -> String {
    DateTime::<Utc>::from(time).to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn log_error(paths: &Paths, error: &HookError) {
    log_line(paths, &error.to_string());
}

/// Appends one line to `<data dir>/hook.log`, rotating it to `hook.log.1` past [`HOOK_LOG_ROTATE_BYTES`].
///
/// When even that fails (the data dir is unwritable), the line goes to stderr (Claude Code shows a hook's stderr only
/// in its verbose mode, and stdout stays clean); a stderr that cannot be written either is ignored.
fn log_line(paths: &Paths, message: &str) {
    let path = paths.data_dir.join("hook.log");
    let line = format!(
        "{} amc hook: {}\n",
        rfc3339(SystemTime::now()),
        message.replace('\n', " ")
    );
    let result = (|| {
        if fs::metadata(&path).is_ok_and(|m| m.len() > HOOK_LOG_ROTATE_BYTES) {
            fs::rename(&path, paths.data_dir.join("hook.log.1"))?;
        }
        append(&path, line.as_bytes())
    })();
    if result.is_err() {
        // Not `eprint!`: it panics when stderr is a closed pipe, and a panic here would exit 101.
        let _ = io::stderr().write_all(line.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn temp_paths() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let paths = Paths::from_lookup(|k| match k {
            "HOME" => Some(root.to_string_lossy().into_owned()),
            "AMC_DATA_DIR" => Some(root.join("data").to_string_lossy().into_owned()),
            _ => None,
        });
        (dir, paths)
    }

    fn read_json(path: &Path) -> Value {
        serde_json::from_slice(&fs::read(path).expect("read")).expect("json")
    }

    #[test]
    fn payload_updates_the_session_and_the_log() {
        let (_dir, paths) = temp_paths();
        let env = HookEnv {
            zellij_session: Some("z".into()),
            zellij_pane: Some("7".into()),
            spawn_id: None,
            agent: update::HookAgent::Claude,
        };
        let payload = json!({"session_id": "s1", "hook_event_name": "UserPromptSubmit", "cwd": "/p", "prompt": "hi"});
        handle_payload(&paths, payload.to_string().as_bytes(), &env).expect("handled");
        let session = read_json(&paths.sessions_dir().join("s1.json"));
        assert_eq!(session["status"], "active");
        assert_eq!(session["zellij_pane"], "7");
        let log = fs::read_to_string(paths.events_dir().join("s1.jsonl")).expect("log");
        assert_eq!(log.lines().count(), 1);
        assert_eq!(
            serde_json::from_str::<Value>(log.trim()).expect("line")["event"],
            "UserPromptSubmit"
        );
    }

    #[test]
    fn bad_payloads_are_rejected_without_writing() {
        let (_dir, paths) = temp_paths();
        for bad in [
            "not json".to_owned(),
            "[1,2]".to_owned(),
            json!({"hook_event_name": "Stop"}).to_string(),
            json!({"session_id": 5, "hook_event_name": "Stop"}).to_string(),
            json!({"session_id": "../x", "hook_event_name": "Stop"}).to_string(),
            json!({"session_id": "a\u{0}b", "hook_event_name": "Stop"}).to_string(),
            json!({"session_id": "s1"}).to_string(),
        ] {
            let result = handle_payload(&paths, bad.as_bytes(), &HookEnv::default());
            assert!(matches!(result, Err(HookError::Rejected(_))), "{bad}: {result:?}");
        }
        assert!(!paths.sessions_dir().exists());
    }

    #[test]
    fn corrupt_session_file_is_trashed_and_replaced() {
        let (_dir, paths) = temp_paths();
        let file = paths.sessions_dir().join("s1.json");
        store::write_atomic(&file, b"{broken").expect("write");
        let payload = json!({"session_id": "s1", "hook_event_name": "Stop", "last_assistant_message": "ok"});
        handle_payload(&paths, payload.to_string().as_bytes(), &HookEnv::default()).expect("handled");
        assert_eq!(read_json(&file)["status"], "done");
        assert_eq!(fs::read_dir(paths.trash_dir()).expect("trash").count(), 1);
        assert!(fs::read_to_string(paths.data_dir.join("hook.log"))
            .expect("log")
            .contains("not a JSON object"));
    }

    #[test]
    fn session_end_moves_the_file_to_the_trash() {
        let (_dir, paths) = temp_paths();
        let start = json!({"session_id": "s1", "hook_event_name": "SessionStart", "source": "startup"});
        handle_payload(&paths, start.to_string().as_bytes(), &HookEnv::default()).expect("start");
        let end = json!({"session_id": "s1", "hook_event_name": "SessionEnd", "reason": "prompt_input_exit"});
        handle_payload(&paths, end.to_string().as_bytes(), &HookEnv::default()).expect("end");
        assert!(!paths.sessions_dir().join("s1.json").exists());
        let trashed: Vec<_> = fs::read_dir(paths.trash_dir()).expect("trash").flatten().collect();
        assert_eq!(trashed.len(), 1);
        assert_eq!(read_json(&trashed[0].path())["last_event"], "SessionEnd");
        let log = fs::read_to_string(paths.events_dir().join("s1.jsonl")).expect("log");
        let last: Value = serde_json::from_str(log.lines().last().expect("line")).expect("json");
        assert_eq!(last["status"], "ended");
        assert_eq!(last["reason"], "prompt_input_exit");
    }

    #[test]
    fn session_end_by_a_signal_keeps_the_file_so_the_session_shows_dead() {
        // Killing the Zellij session sends SIGHUP; Claude Code then fires SessionEnd with reason "other". The user did
        // not ask to leave, so the session stays listed and the collector's liveness rules mark it dead.
        let (_dir, paths) = temp_paths();
        let start = json!({"session_id": "s1", "hook_event_name": "SessionStart", "source": "startup"});
        handle_payload(&paths, start.to_string().as_bytes(), &HookEnv::default()).expect("start");
        let end = json!({"session_id": "s1", "hook_event_name": "SessionEnd", "reason": "other"});
        handle_payload(&paths, end.to_string().as_bytes(), &HookEnv::default()).expect("end");
        assert_eq!(
            read_json(&paths.sessions_dir().join("s1.json"))["last_event"],
            "SessionEnd"
        );
        assert!(!paths.trash_dir().exists() || fs::read_dir(paths.trash_dir()).expect("trash").count() == 0);
    }

    /// Yields its chunks one `read` at a time, then panics: reading past the payload would block on a real stdin.
    struct Chunks(Vec<Vec<u8>>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            assert!(!self.0.is_empty(), "read past the end of the payload");
            let chunk = self.0.remove(0);
            buf[..chunk.len()].copy_from_slice(&chunk);
            Ok(chunk.len())
        }
    }

    #[test]
    fn payload_read_stops_at_the_end_of_the_object() {
        let text = r#" {"a": "}{\"]", "b": [1, {"c": "\\"}], "d": "é"}"#;
        // One chunk holding the object and more: the rest is not read and not kept.
        let mut whole = Chunks(vec![format!("{text}\n{{\"x\":1}}").into_bytes()]);
        assert_eq!(read_payload(&mut whole).expect("read"), text.as_bytes());
        // One byte per read (every split point: inside strings, escapes, UTF-8): stops right at the closing brace.
        let mut bytes = Chunks(text.bytes().map(|b| vec![b]).collect());
        let payload = read_payload(&mut bytes).expect("read");
        assert_eq!(payload, text.as_bytes());
        let value: Value = serde_json::from_slice(&payload).expect("json");
        assert_eq!(value["a"], "}{\"]");
    }

    #[test]
    fn payload_that_is_not_an_object_is_refused_at_once() {
        for bad in [&b"[1]"[..], b"  \"s\"", b"not json", b"\xff\xfe"] {
            let mut input = Chunks(vec![bad.to_vec()]);
            assert!(
                matches!(read_payload(&mut input), Err(HookError::Rejected(_))),
                "{bad:?}"
            );
        }
        for empty in [&b""[..], b" \n"] {
            let mut input = io::Cursor::new(empty.to_vec());
            let result = read_payload(&mut input);
            assert!(
                matches!(&result, Err(HookError::Rejected(m)) if m == "empty payload"),
                "{result:?}"
            );
        }
        // Unclosed: read to EOF, then the parser says why.
        let mut input = io::Cursor::new(br#"{"session_id": "s1""#.to_vec());
        assert_eq!(read_payload(&mut input).expect("read"), br#"{"session_id": "s1""#);
    }

    #[test]
    fn hook_log_rotates() {
        let (_dir, paths) = temp_paths();
        fs::create_dir_all(&paths.data_dir).expect("dir");
        fs::write(
            paths.data_dir.join("hook.log"),
            vec![b'x'; HOOK_LOG_ROTATE_BYTES as usize + 1],
        )
        .expect("fill");
        log_line(&paths, "after rotation");
        assert_eq!(
            fs::metadata(paths.data_dir.join("hook.log.1")).expect("rotated").len(),
            HOOK_LOG_ROTATE_BYTES + 1
        );
        assert!(fs::read_to_string(paths.data_dir.join("hook.log"))
            .expect("log")
            .ends_with("after rotation\n"));
    }
}
