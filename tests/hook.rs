//! `amc hook` and `amc hooks install|uninstall|status`, run as the real binary with an explicit environment.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeSet,
    fs,
    io::Write,
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_amc");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/hook");
const SHARED_PAYLOADS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/fixtures/claude-hook-payloads");
const SID: &str = "5b0c2f43-9e1d-4c7a-8a55-2f7d3c1e9b10";

/// A temp HOME with a data dir inside.
struct TestEnv {
    dir: tempfile::TempDir,
}

impl TestEnv {
    fn new() -> Self {
        TestEnv {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn session_path(&self, id: &str) -> PathBuf {
        self.data().join("sessions").join(format!("{id}.json"))
    }

    fn session(&self, id: &str) -> Value {
        let bytes = fs::read(self.session_path(id)).unwrap_or_else(|e| panic!("session {id}: {e}"));
        serde_json::from_slice(&bytes).expect("session file is JSON")
    }

    fn events(&self, id: &str) -> Vec<Value> {
        let text = fs::read_to_string(self.data().join("events").join(format!("{id}.jsonl"))).unwrap_or_default();
        text.lines()
            .map(|l| serde_json::from_str(l).expect("event line is JSON"))
            .collect()
    }

    fn hook_log(&self) -> String {
        fs::read_to_string(self.data().join("hook.log")).unwrap_or_default()
    }

    /// The default hook environment: only HOME and AMC_DATA_DIR.
    fn vars(&self) -> Vec<(String, String)> {
        vec![
            ("HOME".into(), self.home().to_string_lossy().into_owned()),
            ("AMC_DATA_DIR".into(), self.data().to_string_lossy().into_owned()),
        ]
    }

    fn hook(&self, payload: &[u8]) -> Output {
        run_hook(&self.vars(), payload)
    }

    fn hook_with(&self, payload: &[u8], extra: &[(&str, &str)]) -> Output {
        let mut vars = self.vars();
        vars.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        run_hook(&vars, payload)
    }
}

fn spawn_hook(vars: &[(String, String)]) -> Child {
    spawn_amc(&["hook"], vars)
}

fn spawn_amc(args: &[&str], vars: &[(String, String)]) -> Child {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .envs(vars.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn amc hook")
}

fn finish_hook(mut child: Child, payload: &[u8]) -> Output {
    if let Some(mut stdin) = child.stdin.take() {
        // The hook may stop reading early (oversized input); a broken pipe is fine.
        let _ = stdin.write_all(payload);
    }
    let output = child.wait_with_output().expect("wait for amc hook");
    assert!(output.status.success(), "amc hook exited with {:?}", output.status);
    assert!(
        output.stdout.is_empty(),
        "amc hook printed on stdout: {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    output
}

fn run_hook(vars: &[(String, String)], payload: &[u8]) -> Output {
    finish_hook(spawn_hook(vars), payload)
}

fn fixture(name: &str) -> Vec<u8> {
    fs::read(Path::new(FIXTURES).join(name)).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixture is JSON")
}

fn amc(args: &[&str], home: &Path) -> Output {
    Command::new(BIN)
        .args(args)
        .env_clear()
        .env("HOME", home)
        .output()
        .expect("run amc")
}

// === amc hook: the event sequence of one session ===

#[test]
fn own_fixtures_drive_a_whole_session() {
    let env = TestEnv::new();
    let zellij = [
        ("ZELLIJ_SESSION_NAME", "dev"),
        ("ZELLIJ_PANE_ID", "4"),
        ("AMC_SPAWN_ID", "sp-42"),
    ];
    env.hook_with(&fixture("session_start.json"), &zellij);
    let s = env.session(SID);
    assert_eq!(s["status"], "starting");
    assert_eq!(s["agent"], "claude");
    assert_eq!(s["model"], "claude-opus-5-5");
    assert_eq!(s["project_dir"], "/home/dev/projects/webapp");
    assert_eq!(
        s["transcript_path"],
        fixture_json("session_start.json")["transcript_path"]
    );
    assert_eq!(
        (
            s["zellij_session"].as_str(),
            s["zellij_pane"].as_str(),
            s["spawn_id"].as_str()
        ),
        (Some("dev"), Some("4"), Some("sp-42"))
    );
    let started_at = s["started_at"].clone();
    assert!(chrono::DateTime::parse_from_rfc3339(started_at.as_str().expect("string")).is_ok());

    // The collector's keys: turn_start_tokens is dropped by UserPromptSubmit, anything else is kept.
    let mut with_collector = s.clone();
    with_collector["turn_start_tokens"] = json!(16203);
    with_collector["context_usage"] = json!({"current_tokens": 16203});
    fs::write(
        env.session_path(SID),
        serde_json::to_vec_pretty(&with_collector).expect("json"),
    )
    .expect("write");

    let steps: &[(&str, &str)] = &[
        ("user_prompt_submit.json", "active"),
        ("pre_tool_use_bash.json", "active"),
        ("pre_tool_use_ask_user_question.json", "needs_attention"),
        ("notification_permission_prompt.json", "needs_attention"),
        ("post_tool_use_ask_user_question.json", "active"),
        ("notification_permission_legacy.json", "needs_attention"),
        ("pre_compact.json", "needs_attention"),
        ("session_start_compact.json", "needs_attention"),
        ("subagent_stop.json", "needs_attention"),
        ("stop_question.json", "needs_attention"),
    ];
    for (name, status) in steps {
        env.hook(&fixture(name));
        let s = env.session(SID);
        assert_eq!(s["status"], *status, "after {name}");
        assert_eq!(s["last_event"], fixture_json(name)["hook_event_name"], "after {name}");
        match *name {
            "user_prompt_submit.json" => {
                assert!(s.get("turn_start_tokens").is_none());
                assert_eq!(s["permission_mode"], "auto");
            }
            "pre_tool_use_ask_user_question.json" | "notification_permission_prompt.json" => {
                assert_eq!(
                    s["pending_questions"],
                    json!([{"question": "Which log format should --verbose use?", "header": "Log format", "multiSelect": false,
                        "options": [{"label": "Plain text", "description": "One human-readable line per event"},
                                    {"label": "JSON lines", "description": "One JSON object per line, for tooling"}]}])
                )
            }
            "post_tool_use_ask_user_question.json" => assert_eq!(s["pending_questions"], json!([])),
            _ => {}
        }
    }
    let s = env.session(SID);
    assert_eq!(
        s["pending_questions"],
        json!([{"question": "The flag is off by default. Should I also document it in the README?", "header": "",
                "options": [], "multiSelect": false}])
    );
    assert!(s["last_message_preview"]
        .as_str()
        .is_some_and(|p| p.starts_with("I added `--verbose`")));
    // Set once, kept; env-derived keys survive hooks that run without the env; foreign keys survive.
    assert_eq!(s["started_at"], started_at);
    assert_eq!(s["zellij_pane"], "4");
    assert_eq!(s["spawn_id"], "sp-42");
    assert_eq!(s["context_usage"], json!({"current_tokens": 16203}));
    assert_eq!(s["model"], "claude-opus-5-5");

    // A pre-2.1.47 Stop: the question comes from the transcript's tail.
    let transcript = Path::new(FIXTURES).join("transcript_question.jsonl");
    let legacy = String::from_utf8(fixture("stop_legacy.json"))
        .expect("utf8")
        .replace("__TRANSCRIPT__", &transcript.to_string_lossy());
    env.hook(legacy.as_bytes());
    let s = env.session(SID);
    assert_eq!(s["status"], "needs_attention");
    assert_eq!(
        s["pending_questions"][0]["question"],
        "Do you want me to keep a deprecated `config` alias?"
    );
    assert_eq!(s["transcript_path"], transcript.to_string_lossy().as_ref());

    env.hook(&fixture("stop_done.json"));
    let s = env.session(SID);
    assert_eq!(
        (s["status"].as_str(), s["pending_questions"].clone()),
        (Some("done"), json!([]))
    );
    assert_eq!(s["last_message_preview"], "Done: the README now documents `--verbose`.");
    env.hook(&fixture("notification_idle_prompt.json"));
    assert_eq!(env.session(SID)["status"], "done");

    env.hook(&fixture("session_end.json"));
    assert!(
        !env.session_path(SID).exists(),
        "SessionEnd takes the session off the live list"
    );
    let trashed: Vec<_> = fs::read_dir(env.data().join("trash"))
        .expect("trash")
        .flatten()
        .collect();
    assert_eq!(trashed.len(), 1);

    let events = env.events(SID);
    assert_eq!(events.len(), 1 + steps.len() + 4);
    assert_eq!(events[0]["event"], "SessionStart");
    assert_eq!(events[0]["source"], "startup");
    assert_eq!(events.last().map(|e| e["status"].clone()), Some(json!("ended")));
    assert_eq!(
        events.last().map(|e| e["reason"].clone()),
        Some(json!("prompt_input_exit"))
    );
    assert!(events.iter().any(|e| e["tool_name"] == "AskUserQuestion"));
    assert!(events.iter().any(|e| e["notification_type"] == "permission_prompt"));
    assert!(env.hook_log().is_empty(), "no errors: {}", env.hook_log());
}

#[test]
fn every_own_fixture_alone_creates_a_session() {
    for entry in fs::read_dir(FIXTURES).expect("fixtures").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") {
            continue;
        }
        let env = TestEnv::new();
        env.hook(&fixture(&name));
        let payload = fixture_json(&name);
        if payload["hook_event_name"] == "SessionEnd" {
            assert!(!env.session_path(SID).exists(), "{name}");
            assert_eq!(env.events(SID).len(), 1, "{name}");
            continue;
        }
        let s = env.session(SID);
        assert!(
            ["starting", "active", "needs_attention", "done"].contains(&s["status"].as_str().unwrap_or("")),
            "{name}: {s}"
        );
        assert_eq!(s["session_id"], SID, "{name}");
        assert_eq!(s["transcript_path"], payload["transcript_path"], "{name}");
        assert_eq!(s["cwd"], payload["cwd"], "{name}");
        assert_eq!(env.events(SID).len(), 1, "{name}");
    }
}

// === amc hook: the real payloads in ../shared ===

#[test]
fn shared_real_payloads() {
    let dir = Path::new(SHARED_PAYLOADS);
    if !dir.is_dir() {
        eprintln!("skipping: ../shared not present ({SHARED_PAYLOADS})");
        return;
    }
    let mut files: Vec<PathBuf> = Vec::new();
    for sub in fs::read_dir(dir).expect("payload dir").flatten() {
        files.extend(
            fs::read_dir(sub.path())
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path()),
        );
    }
    files.sort();
    let env = TestEnv::new();
    let mut fed = 0;
    for file in files.iter().filter(|f| f.extension().is_some_and(|e| e == "json")) {
        let value: Value = serde_json::from_slice(&fs::read(file).expect("read")).expect("fixture JSON");
        let payloads = match value {
            Value::Array(items) => items,
            other => vec![other],
        };
        for payload in payloads {
            check_real_payload(&env, &payload, file);
            fed += 1;
        }
    }
    assert!(fed > 100, "only {fed} payloads");
}

fn check_real_payload(env: &TestEnv, payload: &Value, file: &Path) {
    let id = payload["session_id"].as_str().expect("session_id");
    let where_ = format!("{} {}", file.display(), payload["hook_event_name"]);
    let before = fs::read(env.session_path(id))
        .ok()
        .map(|b| serde_json::from_slice::<Value>(&b).expect("json"));
    let events_before = env.events(id).len();
    env.hook(payload.to_string().as_bytes());
    let Some(event) = payload["hook_event_name"].as_str() else {
        // The statusLine input is not a hook payload: rejected and logged, nothing written.
        assert_eq!(
            fs::read(env.session_path(id))
                .ok()
                .map(|b| serde_json::from_slice::<Value>(&b).expect("json")),
            before,
            "{where_}"
        );
        assert!(env.hook_log().contains("hook_event_name"), "{where_}");
        return;
    };
    let s = env.session(id);
    let old_status = before.as_ref().map(|b| b["status"].clone());
    let expected = match event {
        "SessionStart" if payload["source"] == "compact" && before.is_some() => old_status.clone().expect("status"),
        "SessionStart" => json!("starting"),
        "UserPromptSubmit" => json!("active"),
        "Stop" => json!("done"),
        // A permission prompt raises attention unless the turn is over (a late notification after Stop).
        "Notification"
            if payload["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Claude needs your permission"))
                && old_status != Some(json!("done")) =>
        {
            json!("needs_attention")
        }
        "Notification" => old_status.clone().unwrap_or(json!("done")),
        _ => old_status.clone().unwrap_or(json!("active")),
    };
    assert_eq!(s["status"], expected, "{where_}");
    assert_eq!(s["session_id"], id, "{where_}");
    assert_eq!(s["agent"], "claude", "{where_}");
    assert_eq!(s["last_event"], event, "{where_}");
    assert_eq!(s["transcript_path"], payload["transcript_path"], "{where_}");
    assert_eq!(s["cwd"], payload["cwd"], "{where_}");
    assert!(
        s["project_dir"].is_string() && s["started_at"].is_string() && s["last_event_at"].is_string(),
        "{where_}"
    );
    if event == "UserPromptSubmit" {
        assert!(s.get("turn_start_tokens").is_none());
    }
    let events = env.events(id);
    assert_eq!(events.len(), events_before + 1, "{where_}");
    let line = events.last().expect("line");
    assert_eq!(line["event"], event);
    assert_eq!(line["status"], expected);
    assert!(
        line["prompt"].as_str().is_none_or(|p| p.chars().count() <= 200),
        "{where_}"
    );
    assert!(line.get("tool_input").is_none() && line.get("tool_response").is_none());
}

// === amc hook: bad input, broken environments ===

#[test]
fn bad_payloads_exit_zero_silently_and_write_no_session() {
    let env = TestEnv::new();
    let long_id = "x".repeat(1000);
    let cases: Vec<Vec<u8>> = vec![
        b"not json".to_vec(),
        b"".to_vec(),
        b"[1,2,3]".to_vec(),
        b"\"a string\"".to_vec(),
        br#"{"hook_event_name":"Stop"}"#.to_vec(),
        br#"{"session_id":null,"hook_event_name":"Stop"}"#.to_vec(),
        br#"{"session_id":"../x","hook_event_name":"Stop"}"#.to_vec(),
        br#"{"session_id":"..","hook_event_name":"Stop"}"#.to_vec(),
        br#"{"session_id":"a/b","hook_event_name":"Stop"}"#.to_vec(),
        br#"{"session_id":"a\u0000b","hook_event_name":"Stop"}"#.to_vec(),
        json!({"session_id": long_id, "hook_event_name": "Stop"})
            .to_string()
            .into_bytes(),
        br#"{"session_id":"ok-id"}"#.to_vec(),
        vec![0xff, 0xfe, 0x00, 0x01],
    ];
    for payload in &cases {
        let out = env.hook(payload);
        assert!(
            out.stderr.is_empty(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let sessions = fs::read_dir(env.data().join("sessions"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(sessions, 0);
    assert!(!env.data().join("x").exists() && !env.dir.path().join("x.json").exists());
    assert_eq!(env.hook_log().lines().count(), cases.len(), "{}", env.hook_log());
    assert!(env.hook_log().contains("unsafe session_id"));
}

#[test]
fn odd_ask_user_question_inputs_never_crash() {
    let env = TestEnv::new();
    let base =
        json!({"session_id": "q1", "hook_event_name": "PreToolUse", "tool_name": "AskUserQuestion", "cwd": "/p"});
    let inputs = [
        json!({"questions": null}),
        json!("{\"questions\":[{\"question\":\"From a string?\",\"options\":[{\"label\":\"Yes\"}]}]}"),
        json!("not json at all"),
        json!([1, 2]),
        json!(7),
        json!({"questions": [null, {"question": 3}, {"question": "Real?", "options": [null, "Bare", {"label": "L"}]}]}),
    ];
    for (i, input) in inputs.iter().enumerate() {
        let mut payload = base.clone();
        payload["tool_input"] = input.clone();
        env.hook(payload.to_string().as_bytes());
        let s = env.session("q1");
        assert_eq!(s["status"], "needs_attention", "case {i}");
        assert!(s["pending_questions"].is_array(), "case {i}");
        if i == 1 {
            assert_eq!(s["pending_questions"][0]["question"], "From a string?");
        }
        if i == 5 {
            assert_eq!(
                s["pending_questions"][1]["options"],
                json!([{"label": "Bare", "description": ""}, {"label": "L", "description": ""}])
            );
        }
    }
    let mut no_input = base.clone();
    no_input.as_object_mut().expect("object").remove("tool_input");
    env.hook(no_input.to_string().as_bytes());
    assert_eq!(env.session("q1")["pending_questions"], json!([]));
    assert!(env.hook_log().is_empty(), "{}", env.hook_log());
}

#[test]
fn unwritable_data_dirs_fail_open() {
    let env = TestEnv::new();
    let payload = fixture("user_prompt_submit.json");
    // Not creatable, even for root.
    let under_proc = vec![("AMC_DATA_DIR".to_string(), "/proc/amc-no-such-dir/data".to_string())];
    let out = run_hook(&under_proc, &payload);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("amc hook:"),
        "the error goes to stderr when hook.log is unwritable"
    );
    // The data dir is a regular file.
    let file = env.dir.path().join("plain-file");
    fs::write(&file, b"x").expect("write");
    let under_file = vec![(
        "AMC_DATA_DIR".to_string(),
        file.join("data").to_string_lossy().into_owned(),
    )];
    run_hook(&under_file, &payload);
    // A read-only data dir (root ignores the mode; then the hook simply succeeds).
    let ro = env.dir.path().join("ro");
    fs::create_dir_all(&ro).expect("mkdir");
    let mut perms = fs::metadata(&ro).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o555);
    fs::set_permissions(&ro, perms).expect("chmod");
    run_hook(
        &[("AMC_DATA_DIR".to_string(), ro.to_string_lossy().into_owned())],
        &payload,
    );
    // The session file cannot be replaced (a directory sits at its path): logged, exit 0.
    fs::create_dir_all(env.session_path(SID)).expect("mkdir");
    env.hook(&payload);
    assert!(
        env.hook_log().contains(&format!("sessions/{SID}.json")),
        "{}",
        env.hook_log()
    );
}

#[test]
fn unwritable_log_and_a_closed_stderr_pipe_still_exit_zero() {
    // The data dir cannot be written, so the error goes to stderr; that is a pipe nobody reads any more (EPIPE).
    // Writing it must not panic (exit 101).
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    for payload in [&b"not json"[..], &fixture("stop_done.json")] {
        let mut child = Command::new(BIN)
            .arg("hook")
            .env_clear()
            .env("AMC_DATA_DIR", "/proc/amc-no-such-dir/data")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(writer.try_clone().expect("clone"))
            .spawn()
            .expect("spawn amc hook");
        child.stdin.take().expect("stdin").write_all(payload).expect("write");
        let output = child.wait_with_output().expect("wait");
        assert_eq!(output.status.code(), Some(0));
        assert!(output.stdout.is_empty());
    }
}

#[test]
fn home_unset_uses_the_explicit_data_dir() {
    let env = TestEnv::new();
    run_hook(
        &[("AMC_DATA_DIR".into(), env.data().to_string_lossy().into_owned())],
        &fixture("session_start.json"),
    );
    assert_eq!(env.session(SID)["status"], "starting");
    let xdg = env.dir.path().join("xdg");
    run_hook(
        &[("XDG_DATA_HOME".into(), xdg.to_string_lossy().into_owned())],
        &fixture("session_start.json"),
    );
    assert!(xdg.join("amc/sessions").join(format!("{SID}.json")).is_file());
}

#[test]
fn oversized_payload_is_rejected() {
    let env = TestEnv::new();
    let mut payload = br#"{"session_id":"big","hook_event_name":"UserPromptSubmit","prompt":""#.to_vec();
    payload.extend(std::iter::repeat_n(b'a', 17 * 1024 * 1024));
    payload.extend(br#""}"#);
    env.hook(&payload);
    assert!(!env.session_path("big").exists());
    assert!(env.hook_log().contains("larger than"), "{}", env.hook_log());
}

#[test]
fn stdin_left_open_after_a_whole_payload_still_records_it_at_once() {
    // A writer that never closes stdin: the hook stops reading at the end of the JSON object, records the event and
    // exits, instead of waiting for EOF until its deadline and losing the event.
    let env = TestEnv::new();
    let mut child = spawn_hook(&env.vars());
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&fixture("user_prompt_submit.json")).expect("write");
    stdin.flush().expect("flush");
    let start = Instant::now();
    let output = child.wait_with_output().expect("wait");
    let took = start.elapsed();
    drop(stdin);
    assert!(output.status.success() && output.stdout.is_empty());
    assert!(took < Duration::from_secs(2), "took {took:?}");
    assert_eq!(env.session(SID)["status"], "active");
    assert_eq!(env.events(SID).len(), 1);
    assert!(env.hook_log().is_empty(), "{}", env.hook_log());
}

#[test]
fn stdin_left_open_mid_payload_gives_up_within_the_deadline() {
    let env = TestEnv::new();
    let mut child = spawn_hook(&env.vars());
    let mut stdin = child.stdin.take().expect("stdin");
    let payload = fixture("user_prompt_submit.json");
    stdin.write_all(&payload[..payload.len() / 2]).expect("write");
    stdin.flush().expect("flush");
    let start = Instant::now();
    let output = child.wait_with_output().expect("wait");
    let took = start.elapsed();
    drop(stdin);
    assert!(output.status.success() && output.stdout.is_empty());
    // The hook's own deadline is 4 s, below the 5 s timeout `amc hooks install` gives Claude Code.
    assert!(took < Duration::from_secs(5), "took {took:?}");
    assert!(took >= Duration::from_secs(3), "gave up too early: {took:?}");
    assert!(env.hook_log().contains("gave up"), "{}", env.hook_log());
    assert!(!env.session_path(SID).exists());
}

#[test]
fn ten_megabyte_payload_is_recorded_with_short_copies() {
    let env = TestEnv::new();
    let message = format!("{}\n\nShall I go on?", "word ".repeat(2 * 1024 * 1024));
    let payload = json!({"session_id": "big", "hook_event_name": "Stop", "cwd": "/p", "transcript_path": "/t.jsonl",
                         "last_assistant_message": message, "prompt": "p".repeat(100_000)})
    .to_string();
    assert!(payload.len() > 10 * 1024 * 1024);
    let start = Instant::now();
    env.hook(payload.as_bytes());
    assert!(start.elapsed() < Duration::from_secs(4), "took {:?}", start.elapsed());
    let s = env.session("big");
    assert_eq!(s["status"], "needs_attention");
    assert_eq!(s["pending_questions"][0]["question"], "Shall I go on?");
    assert_eq!(s["last_message_preview"].as_str().map(|p| p.chars().count()), Some(200));
    assert!(fs::metadata(env.session_path("big")).expect("meta").len() < 4096);
    let events = env.events("big");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["prompt"].as_str().map(str::len), Some(200));
    assert!(env.hook_log().is_empty(), "{}", env.hook_log());
}

#[test]
fn stop_whose_transcript_path_is_a_fifo_does_not_block() {
    // A pre-2.1.47 Stop (no last_assistant_message) makes the hook read transcript_path; opening a FIFO for reading
    // would block until a writer appears.
    let env = TestEnv::new();
    let fifo = env.dir.path().join("transcript.jsonl");
    assert!(Command::new("mkfifo").arg(&fifo).status().expect("mkfifo").success());
    let payload = json!({"session_id": "f1", "hook_event_name": "Stop", "cwd": "/p", "transcript_path": fifo});
    let start = Instant::now();
    env.hook(payload.to_string().as_bytes());
    assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
    assert_eq!(env.session("f1")["status"], "done");
    assert!(env.hook_log().is_empty(), "{}", env.hook_log());
}

#[test]
fn a_compaction_is_logged_with_its_sizes_once_its_boundary_is_written() {
    let env = TestEnv::new();
    let transcript = env.dir.path().join("t.jsonl");
    let boundary = |at: &str, pre: u64, post: u64| {
        format!(
            r#"{{"type":"system","subtype":"compact_boundary","content":"Conversation compacted","timestamp":"{at}","compactMetadata":{{"trigger":"manual","preTokens":{pre},"postTokens":{post}}}}}"#
        )
    };
    // An earlier compaction's boundary is already there.
    fs::write(&transcript, boundary("2000-01-01T00:00:00.000Z", 9, 1) + "\n").expect("transcript");
    let ev = |event: &str| {
        json!({"session_id": "pc1", "hook_event_name": event, "cwd": "/p", "transcript_path": transcript,
               "trigger": "manual", "compact_summary": "Summary."})
    };
    env.hook(ev("UserPromptSubmit").to_string().as_bytes());
    env.hook(ev("PreCompact").to_string().as_bytes());
    // Claude Code 2.1.331 fires PostCompact ~10 ms before it writes the boundary (observed by the e2e suite).
    env.hook(ev("PostCompact").to_string().as_bytes());
    let mut text = fs::read_to_string(&transcript).expect("read");
    text.push_str(&(boundary("2099-01-01T00:00:00.000Z", 33172, 2837) + "\n"));
    fs::write(&transcript, text).expect("append boundary");
    env.hook(ev("Stop").to_string().as_bytes());
    env.hook(ev("UserPromptSubmit").to_string().as_bytes());
    let lines = env.events("pc1");
    let names: Vec<&str> = lines.iter().filter_map(|l| l["event"].as_str()).collect();
    assert_eq!(
        names,
        [
            "UserPromptSubmit",
            "PreCompact",
            "PostCompact",
            "Compaction",
            "Stop",
            "UserPromptSubmit"
        ],
        "one Compaction line, before the first event after the boundary"
    );
    let c = &lines[3];
    assert_eq!(
        (
            c["at"].clone(),
            c["trigger"].clone(),
            c["pre_tokens"].clone(),
            c["post_tokens"].clone()
        ),
        (
            json!("2099-01-01T00:00:00.000Z"),
            json!("manual"),
            json!(33172),
            json!(2837)
        )
    );
    assert_eq!(lines[2]["compact_summary"], "Summary.");
    assert!(env.session("pc1").get("compacting_since").is_none());
    assert!(env.hook_log().is_empty(), "{}", env.hook_log());
}

#[test]
fn codex_hook_records_a_codex_session_without_the_daemons_pane() {
    let env = TestEnv::new();
    let mut vars = env.vars();
    // Codex's daemon runs the hooks with the first TUI's environment: not this session's pane.
    vars.push(("ZELLIJ_SESSION_NAME".into(), "first-tui".into()));
    vars.push(("ZELLIJ_PANE_ID".into(), "1".into()));
    let id = "01a24763-cda0-75a0-8e04-b2b7bdd422aa";
    // The payloads Codex 0.169.0 sent (recorded by the e2e suite; paths shortened).
    let rollout =
        "/h/.codex/sessions/2026/12/05/rollout-2026-12-05T18-07-32-01a24763-cda0-75a0-8e04-b2b7bdd422aa.jsonl";
    let events = [
        json!({"session_id": id, "transcript_path": rollout, "cwd": "/p", "hook_event_name": "SessionStart",
               "model": "gpt-5.5", "permission_mode": "default", "source": "startup"}),
        json!({"session_id": id, "turn_id": "t1", "transcript_path": rollout, "cwd": "/p",
               "hook_event_name": "PermissionRequest", "model": "gpt-5.5", "permission_mode": "default",
               "tool_name": "Bash", "tool_input": {"command": "touch /tmp/x", "description": "Touch outside"}}),
    ];
    for payload in &events {
        let child = spawn_amc(&["hook", "--agent", "codex"], &vars);
        finish_hook(child, payload.to_string().as_bytes());
    }
    let s = env.session(id);
    assert_eq!(s["agent"], "codex");
    assert_eq!(s["transcript_path"], rollout);
    assert_eq!(s["status"], "needs_attention");
    assert_eq!(s["attention"]["tool_input_summary"], "touch /tmp/x");
    assert!(
        s.get("zellij_session").is_none() && s.get("zellij_pane").is_none(),
        "{s}"
    );
    assert_eq!(env.events(id).len(), 2);
    assert!(env.hook_log().is_empty(), "{}", env.hook_log());
}

#[test]
fn codex_install_writes_hooks_json_and_says_how_to_trust_when_codex_cannot_run() {
    let env = TestEnv::new();
    let codex_home = env.dir.path().join("codex-home");
    fs::create_dir_all(&codex_home).expect("mkdir");
    let out = Command::new(BIN)
        .args([
            "hooks",
            "install",
            "--agent",
            "codex",
            "--codex-bin",
            "/nonexistent/codex",
        ])
        .env_clear()
        .env("HOME", env.home())
        .env("CODEX_HOME", &codex_home)
        .output()
        .expect("run amc");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/hooks") && stderr.contains("cannot run"), "{stderr}");
    let v: Value = serde_json::from_slice(&fs::read(codex_home.join("hooks.json")).expect("hooks.json")).expect("json");
    let events: Vec<&str> = v["hooks"]
        .as_object()
        .map(|h| h.keys().map(String::as_str).collect())
        .unwrap_or_default();
    assert_eq!(
        events,
        [
            "SessionStart",
            "UserPromptSubmit",
            "PermissionRequest",
            "PostToolUse",
            "Stop",
            "Interrupt",
            "SubagentStart",
            "SubagentStop",
            "PreCompact",
            "PostCompact",
            "SessionEnd"
        ]
    );
    let command = v["hooks"]["Interrupt"][0]["hooks"][0]["command"]
        .as_str()
        .unwrap_or_default();
    assert!(command.ends_with("/amc hook --agent codex"), "{command}");
}

// === amc hook: concurrency ===

#[test]
fn concurrent_hooks_of_one_session_lose_no_update() {
    const N: usize = 32;
    let env = TestEnv::new();
    fs::create_dir_all(env.data().join("sessions")).expect("mkdir");
    fs::write(
        env.session_path("c1"),
        br#"{"session_id":"c1","status":"active","collector_key":{"kept":true}}"#,
    )
    .expect("seed");

    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (stop, path) = (stop.clone(), env.session_path("c1"));
        std::thread::spawn(move || {
            let mut reads = 0;
            while !stop.load(Ordering::Relaxed) {
                if let Ok(bytes) = fs::read(&path) {
                    let value: Value = serde_json::from_slice(&bytes).expect("the session file is always whole JSON");
                    assert!(value.is_object());
                    reads += 1;
                }
            }
            reads
        })
    };
    let children: Vec<Child> = (0..N).map(|_| spawn_hook(&env.vars())).collect();
    let events = ["Notification", "PreCompact", "SubagentStop", "PreToolUse"];
    let payloads: Vec<Vec<u8>> = (0..N)
        .map(|i| {
            json!({"session_id": "c1", "hook_event_name": events[i % events.len()], "cwd": format!("/p/{i}"),
                   "message": format!("msg-{i}"), "tool_name": "Read", "trigger": "auto"})
            .to_string()
            .into_bytes()
        })
        .collect();
    // Every process is up and blocked on stdin; release them all at once, then wait.
    let mut children = children;
    for (child, payload) in children.iter_mut().zip(&payloads) {
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(payload).expect("write");
    }
    for child in children {
        let output = child.wait_with_output().expect("wait");
        assert!(output.status.success() && output.stdout.is_empty());
    }
    stop.store(true, Ordering::Relaxed);
    assert!(reader.join().expect("reader") > 0);

    let lines = env.events("c1");
    assert_eq!(lines.len(), N);
    let messages: BTreeSet<String> = lines
        .iter()
        .filter_map(|l| l["message"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(messages, (0..N).map(|i| format!("msg-{i}")).collect());
    let s = env.session("c1");
    // Serialized read-modify-writes: the first writer set started_at, the last one's time is last_event_at.
    assert_eq!(s["started_at"], lines[0]["at"]);
    assert_eq!(s["last_event_at"], lines[N - 1]["at"]);
    assert_eq!(s["collector_key"], json!({"kept": true}));
    assert_eq!(s["project_dir"].as_str().map(|p| p.starts_with("/p/")), Some(true));
    let ats: Vec<&str> = lines.iter().filter_map(|l| l["at"].as_str()).collect();
    let sorted = {
        let mut v = ats.clone();
        v.sort();
        v
    };
    assert_eq!(ats, sorted, "log order is write order");
    assert!(env.hook_log().is_empty(), "{}", env.hook_log());
}

// === amc hooks install / uninstall / status ===

fn hook_command() -> String {
    format!("{} hook", fs::canonicalize(BIN).expect("canonical bin").display())
}

fn unrelated_settings() -> Value {
    json!({
        "model": "opus",
        "permissions": {"allow": ["Bash(git status:*)", "Read(~/notes/**)"], "deny": ["Bash(rm -rf:*)"], "defaultMode": "acceptEdits"},
        "env": {"DISABLE_TELEMETRY": "1", "MAX_THINKING_TOKENS": "8000"},
        "hooks": {
            "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "~/.claude/hooks/guard.sh", "timeout": 30}]}],
            "Stop": [{"hooks": [{"type": "command", "command": "notify-send 'Claude finished'"}]}],
            "Notification": [{"matcher": "", "hooks": [{"type": "command", "command": "say attention"}]}]
        },
        "statusLine": {"type": "command", "command": "~/.claude/statusline.sh"},
        "includeCoAuthoredBy": false
    })
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains(".amc-backup-"))
        })
        .collect();
    found.sort();
    found
}

#[test]
fn install_uninstall_round_trip_keeps_everything_else() {
    let env = TestEnv::new();
    let settings = env.dir.path().join("settings.json");
    let original = serde_json::to_string_pretty(&unrelated_settings()).expect("json") + "\n";
    fs::write(&settings, &original).expect("write");
    let arg = settings.to_string_lossy().into_owned();

    let out = amc(&["hooks", "install", "--settings", &arg], &env.home());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let installed: Value = serde_json::from_slice(&fs::read(&settings).expect("read")).expect("json");
    let cmd = hook_command();
    for (event, matcher) in [
        ("SessionStart", None),
        ("UserPromptSubmit", None),
        ("Stop", None),
        ("SessionEnd", None),
        ("Notification", None),
        ("PreCompact", None),
        ("SubagentStop", None),
        ("PreToolUse", Some("AskUserQuestion")),
        ("PostToolUse", None),
        ("PostToolUseFailure", None),
        ("PermissionRequest", None),
        ("PermissionDenied", None),
        ("StopFailure", None),
        ("SubagentStart", None),
        ("PostCompact", None),
    ] {
        let groups = installed["hooks"][event]
            .as_array()
            .unwrap_or_else(|| panic!("{event} missing"));
        let ours: Vec<&Value> = groups
            .iter()
            .filter(|g| {
                g["hooks"]
                    .as_array()
                    .is_some_and(|h| h.iter().any(|e| e["command"] == cmd.as_str()))
            })
            .collect();
        assert_eq!(ours.len(), 1, "{event}");
        assert_eq!(ours[0]["matcher"].as_str(), matcher, "{event}");
        assert_eq!(
            ours[0]["hooks"],
            json!([{"type": "command", "command": cmd, "timeout": if event == "PermissionRequest" { 660 } else { 5 }}]),
            "{event}"
        );
    }
    // Unrelated content untouched, key order kept.
    for key in ["model", "permissions", "env", "statusLine", "includeCoAuthoredBy"] {
        assert_eq!(installed[key], unrelated_settings()[key]);
    }
    let keys: Vec<&String> = installed.as_object().expect("object").keys().collect();
    assert_eq!(
        keys,
        unrelated_settings()
            .as_object()
            .expect("object")
            .keys()
            .collect::<Vec<_>>()
    );
    assert_eq!(installed["hooks"]["PreToolUse"][0]["matcher"], "Bash");
    assert_eq!(backups(env.dir.path()).len(), 1);
    assert_eq!(
        fs::read_to_string(&backups(env.dir.path())[0]).expect("backup"),
        original
    );

    // Idempotent: nothing changes, no new backup.
    let bytes = fs::read(&settings).expect("read");
    let out = amc(&["hooks", "install", "--settings", &arg], &env.home());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing to change"));
    assert_eq!(fs::read(&settings).expect("read"), bytes);
    assert_eq!(backups(env.dir.path()).len(), 1);

    let out = amc(&["hooks", "status", "--settings", &arg], &env.home());
    assert!(out.status.success());
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(report.matches("installed      ").count(), 15, "{report}");
    assert!(!report.contains("not installed") && report.contains("(ok)"), "{report}");

    // Dry run writes nothing.
    let out = amc(&["hooks", "uninstall", "--settings", &arg, "--dry-run"], &env.home());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("dry run"));
    assert_eq!(fs::read(&settings).expect("read"), bytes);

    let out = amc(&["hooks", "uninstall", "--settings", &arg], &env.home());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let after: Value = serde_json::from_slice(&fs::read(&settings).expect("read")).expect("json");
    assert_eq!(after, unrelated_settings());
    assert_eq!(
        fs::read_to_string(&settings).expect("read"),
        original,
        "even the text is the same"
    );
    let out = amc(&["hooks", "status", "--settings", &arg], &env.home());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).matches("not installed").count(),
        15
    );
}

#[test]
fn install_creates_a_missing_file_and_dry_run_writes_nothing() {
    let env = TestEnv::new();
    let settings = env.dir.path().join("claude/settings.json");
    let arg = settings.to_string_lossy().into_owned();
    let out = amc(&["hooks", "install", "--settings", &arg, "--dry-run"], &env.home());
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(&hook_command()));
    assert!(!settings.exists());
    let out = amc(&["hooks", "install", "--settings", &arg], &env.home());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&fs::read(&settings).expect("read")).expect("json");
    assert_eq!(v["hooks"].as_object().map(|h| h.len()), Some(15));
    assert!(backups(&env.dir.path().join("claude")).is_empty(), "nothing to back up");
    amc(&["hooks", "uninstall", "--settings", &arg], &env.home());
    assert_eq!(
        serde_json::from_slice::<Value>(&fs::read(&settings).expect("read")).expect("json"),
        json!({})
    );
}

#[test]
fn install_refuses_an_unparsable_file() {
    let env = TestEnv::new();
    let settings = env.dir.path().join("settings.json");
    let broken = "{\n  \"model\": \"opus\",\n  // a comment\n}\n";
    fs::write(&settings, broken).expect("write");
    let arg = settings.to_string_lossy().into_owned();
    for action in ["install", "uninstall", "status"] {
        let out = amc(&["hooks", action, "--settings", &arg], &env.home());
        assert!(!out.status.success(), "{action}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("cannot parse"),
            "{action}"
        );
    }
    assert_eq!(fs::read_to_string(&settings).expect("read"), broken);
    assert!(backups(env.dir.path()).is_empty());
    fs::write(&settings, r#"{"hooks": ["not", "an", "object"]}"#).expect("write");
    assert!(!amc(&["hooks", "install", "--settings", &arg], &env.home())
        .status
        .success());
}

#[test]
fn install_updates_a_moved_binary_in_place() {
    let env = TestEnv::new();
    let settings = env.dir.path().join("settings.json");
    let old = json!({"hooks": {
        "Stop": [{"hooks": [{"type": "command", "command": "echo first"}, {"type": "command", "command": "/gone/bin/amc hook", "timeout": 5}]}],
        "PreToolUse": [{"matcher": "AskUserQuestion", "hooks": [{"type": "command", "command": "/gone/bin/amc hook"}]}]
    }});
    fs::write(&settings, serde_json::to_string_pretty(&old).expect("json")).expect("write");
    let arg = settings.to_string_lossy().into_owned();
    let out = amc(&["hooks", "status", "--settings", &arg], &env.home());
    assert!(String::from_utf8_lossy(&out.stdout).contains("MISSING"));
    let out = amc(&["hooks", "install", "--settings", &arg], &env.home());
    assert!(out.status.success());
    let v: Value = serde_json::from_slice(&fs::read(&settings).expect("read")).expect("json");
    let cmd = hook_command();
    assert_eq!(
        v["hooks"]["Stop"],
        json!([{"hooks": [{"type": "command", "command": "echo first"}, {"type": "command", "command": cmd, "timeout": 5}]}])
    );
    assert_eq!(
        v["hooks"]["PreToolUse"],
        json!([{"matcher": "AskUserQuestion", "hooks": [{"type": "command", "command": cmd, "timeout": 5}]}])
    );
}

#[test]
fn install_writes_through_a_symlink_and_keeps_the_mode() {
    use std::os::unix::fs::PermissionsExt;
    let env = TestEnv::new();
    let real = env.dir.path().join("dotfiles/claude-settings.json");
    fs::create_dir_all(real.parent().expect("parent")).expect("mkdir");
    fs::write(&real, "{\"model\": \"opus\"}\n").expect("write");
    fs::set_permissions(&real, fs::Permissions::from_mode(0o600)).expect("chmod");
    let link = env.dir.path().join("settings.json");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    let arg = link.to_string_lossy().into_owned();
    let out = amc(&["hooks", "install", "--settings", &arg], &env.home());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        fs::symlink_metadata(&link).expect("meta").file_type().is_symlink(),
        "the link stays a link"
    );
    let v: Value = serde_json::from_slice(&fs::read(&real).expect("read")).expect("json");
    assert_eq!(v["model"], "opus");
    assert!(v["hooks"]["Stop"].is_array());
    assert_eq!(fs::metadata(&real).expect("meta").permissions().mode() & 0o777, 0o600);
}
