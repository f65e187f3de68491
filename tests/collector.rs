//! The collector's rules end to end: `amc snapshot` on a temporary HOME with a fake `zellij` (and, for Codex, fake
//! `codex` processes), checking the sessions it prints and the files it leaves on disk and in `trash/`.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant, SystemTime},
};

use serde_json::{json, Value};

mod support;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/collector");

/// A temporary HOME with amc's data dir, Claude and Codex homes and a fake `zellij`.
struct Env {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    vars: Vec<(String, String)>,
    children: Vec<Child>,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().expect("tempdir");
        // The kernel names open files by their resolved path; keep every path resolved.
        let root = fs::canonicalize(tmp.path()).expect("canonical tempdir");
        for dir in [
            "data/sessions",
            "data/events",
            "claude/projects",
            "codex/sessions",
            "bin",
        ] {
            fs::create_dir_all(root.join(dir)).expect("mkdir");
        }
        install(&root.join("bin/zellij"), "zellij.sh");
        let s = |p: &Path| p.to_string_lossy().into_owned();
        let vars = vec![
            ("HOME".into(), s(&root)),
            ("AMC_DATA_DIR".into(), s(&root.join("data"))),
            ("AMC_ZELLIJ_BIN".into(), s(&root.join("bin/zellij"))),
            ("CODEX_HOME".into(), s(&root.join("codex"))),
            ("CLAUDE_CONFIG_DIR".into(), s(&root.join("claude"))),
            ("PATH".into(), "/usr/bin:/bin".into()),
            ("RUST_LOG".into(), "warn".into()),
        ];
        Env {
            _tmp: tmp,
            root,
            vars,
            children: Vec::new(),
        }
    }

    fn set(&mut self, key: &str, value: &str) -> &mut Env {
        self.vars.retain(|(k, _)| k != key);
        self.vars.push((key.into(), value.into()));
        self
    }

    /// Makes the fake zellij print `stdout` and exit with `code`.
    fn zellij(&mut self, stdout: &str, code: i32) -> &mut Env {
        let out = self.root.join("zellij-stdout.txt");
        fs::write(&out, stdout).expect("write zellij output");
        self.set("FAKE_ZELLIJ_STDOUT", &out.to_string_lossy())
            .set("FAKE_ZELLIJ_EXIT", &code.to_string())
    }

    fn sessions_dir(&self) -> PathBuf {
        self.root.join("data/sessions")
    }

    fn session(&self, name: &str, value: Value) -> PathBuf {
        let path = self.sessions_dir().join(format!("{name}.json"));
        fs::write(&path, serde_json::to_vec_pretty(&value).expect("json")).expect("write session");
        path
    }

    fn claude_transcript(&self, session_id: &str) -> PathBuf {
        let dir = self.root.join("claude/projects/-p");
        fs::create_dir_all(&dir).expect("project dir");
        let path = dir.join(format!("{session_id}.jsonl"));
        let text = fs::read_to_string(Path::new(FIXTURES).join("claude-transcript.jsonl")).expect("fixture");
        fs::write(&path, text.replace("SID", session_id)).expect("write transcript");
        path
    }

    fn codex_rollout(&self, session_id: &str, cwd: &Path) -> PathBuf {
        let dir = self.root.join("codex/sessions/2026/01/01");
        fs::create_dir_all(&dir).expect("rollout dir");
        let path = dir.join(format!("rollout-2026-01-01T00-00-00-{session_id}.jsonl"));
        let text = fs::read_to_string(Path::new(FIXTURES).join("codex-rollout.jsonl")).expect("fixture");
        fs::write(
            &path,
            text.replace("SID", session_id).replace("CWD", &cwd.to_string_lossy()),
        )
        .expect("write rollout");
        path
    }

    /// Starts a fake `codex` (comm `codex`) with `args`, in `cwd`, holding `hold` open, inside Zellij pane `pane`.
    fn spawn_codex(&mut self, args: &[&str], cwd: &Path, hold: Option<&Path>, pane: Option<(&str, &str)>) -> u32 {
        let bin = self.root.join("bin/codex");
        if !bin.exists() {
            install(&bin, "codex.sh");
        }
        let mut cmd = Command::new(&bin);
        cmd.args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .stdin(Stdio::piped());
        if let Some(hold) = hold {
            cmd.env("FAKE_CODEX_HOLD", hold);
        }
        if let Some((session, pane)) = pane {
            cmd.env("ZELLIJ_SESSION_NAME", session).env("ZELLIJ_PANE_ID", pane);
        }
        let child = cmd.spawn().expect("spawn fake codex");
        let pid = child.id();
        self.children.push(child);
        // Wait until it holds the file (or at least runs as `codex`).
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            let holds = |file: &Path| {
                fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                    fds.flatten()
                        .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target == file))
                })
            };
            let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            if comm.trim() == "codex" && hold.is_none_or(holds) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        pid
    }

    fn snapshot(&self) -> Vec<Value> {
        let out = self.run();
        assert!(
            out.status.success(),
            "amc snapshot failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let payload: Value = serde_json::from_slice(&out.stdout).expect("snapshot is JSON");
        assert!(payload["server_time"].is_string());
        payload["sessions"].as_array().cloned().expect("sessions array")
    }

    fn run(&self) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_amc"))
            .arg("snapshot")
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .output()
            .expect("run amc snapshot")
    }

    fn session_files(&self) -> BTreeSet<String> {
        names(&self.sessions_dir())
    }

    /// The names of the files in trash/, without the time stamp amc appends.
    fn trash(&self) -> BTreeSet<String> {
        names(&self.root.join("data/trash"))
            .into_iter()
            .map(|n| n.rsplit_once('.').map_or(n.clone(), |(base, _)| base.to_owned()))
            .collect()
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn install(target: &Path, fixture: &str) {
    support::write_executable(
        target,
        fs::read(Path::new(FIXTURES).join(fixture)).expect("read script"),
    );
}

fn names(dir: &Path) -> BTreeSet<String> {
    fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn set_age(path: &Path, age: Duration) {
    let file = fs::File::options().write(true).open(path).expect("open");
    file.set_modified(SystemTime::now() - age).expect("set mtime");
}

fn by_id<'a>(sessions: &'a [Value], id: &str) -> &'a Value {
    sessions
        .iter()
        .find(|s| s["session_id"] == id)
        .unwrap_or_else(|| panic!("session {id} not listed: {sessions:?}"))
}

fn ids(sessions: &[Value]) -> Vec<&str> {
    sessions
        .iter()
        .map(|s| s["session_id"].as_str().unwrap_or(""))
        .collect()
}

const LIVE: &str = "main [Created 1h 2m ago] (current)\nwork [Created 6s ago] \nold [Created 2days 21h 42m 21s ago] (EXITED - attach to resurrect)\n";

#[test]
fn sessions_keep_every_key_sorted_and_non_objects_are_skipped_not_deleted() {
    let mut env = Env::new();
    env.zellij(LIVE, 0);
    env.session("b", json!({"session_id": "b", "agent": "claude", "status": "active", "zellij_session": "main", "custom": {"x": [1]}}));
    env.session("a", json!({"session_id": "a", "agent": "gemini", "status": "done"}));
    env.session(
        "noid",
        json!({"agent": "claude", "status": "done", "zellij_session": "work"}),
    );
    fs::write(env.sessions_dir().join("list.json"), "[1, 2]").expect("write");
    fs::write(env.sessions_dir().join("partial.json"), "{\"session_id\": \"p\", \"sta").expect("write");
    fs::write(env.sessions_dir().join("empty.json"), "").expect("write");
    fs::create_dir(env.sessions_dir().join("dir.json")).expect("mkdir");
    fs::write(env.sessions_dir().join(".s.json.1.2.tmp"), "{}").expect("write");

    let sessions = env.snapshot();
    assert_eq!(
        ids(&sessions),
        ["", "a", "b"],
        "sorted by session_id, a missing id sorts as \"\""
    );
    let b = by_id(&sessions, "b");
    assert_eq!(b["custom"], json!({"x": [1]}), "unknown keys pass through");
    assert_eq!(b["is_dead"], false);
    assert!(b.get("liveness_reason").is_none());
    assert!(b.get("context_usage").is_none() && b.get("context_window_inferred").is_none());
    assert_eq!(by_id(&sessions, "a")["is_dead"], false, "unknown agents are alive");
    let files = env.session_files();
    for kept in [
        "list.json",
        "partial.json",
        "empty.json",
        "dir.json",
        "a.json",
        "b.json",
        "noid.json",
    ] {
        assert!(files.contains(kept), "{kept} must stay on disk: {files:?}");
    }
    assert!(env.trash().is_empty());
}

#[test]
fn orphan_starting_sessions_go_to_the_trash_and_dead_sessions_say_why() {
    let mut env = Env::new();
    env.zellij(LIVE, 0);
    env.session(
        "orphan",
        json!({"session_id": "orphan", "agent": "claude", "status": "starting", "zellij_session": "gone"}),
    );
    env.session(
        "exited",
        json!({"session_id": "exited", "agent": "claude", "status": "starting", "zellij_session": "old"}),
    );
    env.session(
        "live-start",
        json!({"session_id": "live-start", "agent": "claude", "status": "starting", "zellij_session": "work"}),
    );
    env.session(
        "dead",
        json!({"session_id": "dead", "agent": "claude", "status": "done", "zellij_session": "gone"}),
    );
    env.session(
        "nopane",
        json!({"session_id": "nopane", "agent": "claude", "status": "active"}),
    );
    env.session(
        "alive",
        json!({"session_id": "alive", "agent": "claude", "status": "active", "zellij_session": "main"}),
    );

    let sessions = env.snapshot();
    assert_eq!(ids(&sessions), ["alive", "dead", "live-start", "nopane"]);
    assert_eq!(by_id(&sessions, "dead")["is_dead"], true);
    assert_eq!(
        by_id(&sessions, "dead")["liveness_reason"],
        "zellij session 'gone' is not running"
    );
    assert_eq!(by_id(&sessions, "nopane")["is_dead"], true);
    assert_eq!(
        by_id(&sessions, "nopane")["liveness_reason"],
        "no zellij session recorded"
    );
    assert_eq!(by_id(&sessions, "alive")["is_dead"], false);
    assert_eq!(by_id(&sessions, "live-start")["is_dead"], false);
    assert_eq!(
        env.trash(),
        BTreeSet::from(["orphan.json".into(), "exited.json".into()])
    );
    assert!(!env.session_files().contains("orphan.json"));
}

#[test]
fn no_zellij_sessions_at_all_is_an_empty_list_not_unknown() {
    let mut env = Env::new();
    env.zellij("", 1)
        .set("FAKE_ZELLIJ_STDERR", "No active zellij sessions found.");
    env.session(
        "orphan",
        json!({"session_id": "orphan", "agent": "claude", "status": "starting", "zellij_session": "main"}),
    );
    env.session(
        "c",
        json!({"session_id": "c", "agent": "claude", "status": "done", "zellij_session": "main"}),
    );
    let sessions = env.snapshot();
    assert_eq!(ids(&sessions), ["c"]);
    assert_eq!(sessions[0]["is_dead"], true);
    assert_eq!(env.trash(), BTreeSet::from(["orphan.json".into()]));
}

#[test]
fn unknown_liveness_removes_nothing_and_kills_nothing() {
    let cases: [fn(&mut Env); 4] = [
        |e| {
            e.zellij("", 1)
                .set("FAKE_ZELLIJ_STDERR", "Error occurred: Permission denied");
        },
        |e| {
            e.zellij("garbage output\n\u{1}\u{2}\n", 0);
        },
        |e| {
            e.zellij(LIVE, 2);
        },
        |e| {
            e.set("AMC_ZELLIJ_BIN", "/nonexistent/zellij");
        },
    ];
    for (i, setup) in cases.iter().enumerate() {
        let mut env = Env::new();
        setup(&mut env);
        env.session(
            "orphan",
            json!({"session_id": "orphan", "agent": "claude", "status": "starting", "zellij_session": "gone"}),
        );
        env.session(
            "c",
            json!({"session_id": "c", "agent": "claude", "status": "done", "zellij_session": "gone"}),
        );
        let sessions = env.snapshot();
        assert_eq!(ids(&sessions), ["c", "orphan"], "case {i}");
        assert_eq!(by_id(&sessions, "c")["is_dead"], false, "case {i}");
        assert!(env.trash().is_empty(), "case {i}");
    }
}

#[test]
fn a_hanging_zellij_costs_at_most_its_timeout() {
    let mut env = Env::new();
    env.zellij(LIVE, 0).set("FAKE_ZELLIJ_SLEEP", "10");
    env.session(
        "orphan",
        json!({"session_id": "orphan", "agent": "claude", "status": "starting", "zellij_session": "gone"}),
    );
    let start = Instant::now();
    let sessions = env.snapshot();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "snapshot took {took:?}");
    assert_eq!(ids(&sessions), ["orphan"], "a timeout is unknown: nothing removed");
}

#[test]
fn context_usage_turn_start_tokens_and_mtime_come_from_the_transcript() {
    let mut env = Env::new();
    env.zellij(LIVE, 0);
    let transcript = env.claude_transcript("t1");
    env.session(
        "t1",
        json!({"session_id": "t1", "agent": "claude", "status": "active", "zellij_session": "main", "zellij_pane": "1",
               "project_dir": "/p", "last_event": "UserPromptSubmit"}),
    );
    // Found through transcript_path rather than the project dir.
    let elsewhere = env.root.join("elsewhere.jsonl");
    fs::copy(&transcript, &elsewhere).expect("copy");
    env.session(
        "t2",
        json!({"session_id": "t2", "agent": "claude", "status": "active", "zellij_session": "main",
               "transcript_path": elsewhere, "last_event": "UserPromptSubmit", "turn_start_tokens": 7}),
    );
    // transcript_path is a directory, and no transcript under the projects dir.
    env.session(
        "t3",
        json!({"session_id": "t3", "agent": "claude", "status": "active", "zellij_session": "main",
               "transcript_path": env.root.join("claude"), "last_event": "UserPromptSubmit"}),
    );

    let sessions = env.snapshot();
    let t1 = by_id(&sessions, "t1");
    assert_eq!(t1["context_usage"]["current_tokens"], 600);
    assert_eq!(t1["context_window_inferred"], true);
    assert_eq!(t1["turn_start_tokens"], 600);
    let mtime = fs::metadata(&transcript).and_then(|m| m.modified()).expect("mtime");
    let ns = mtime
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after epoch")
        .as_nanos() as u64;
    assert_eq!(t1["conversation_mtime_ns"], ns);
    let on_disk: Value =
        serde_json::from_slice(&fs::read(env.sessions_dir().join("t1.json")).expect("read")).expect("json");
    assert_eq!(on_disk["turn_start_tokens"], 600, "written so it survives a restart");
    for computed in [
        "context_usage",
        "context_window_inferred",
        "conversation_mtime_ns",
        "is_dead",
        "liveness_reason",
    ] {
        assert!(
            on_disk.get(computed).is_none(),
            "{computed} must not be written into the file"
        );
    }
    let t2 = by_id(&sessions, "t2");
    assert_eq!(t2["context_usage"]["current_tokens"], 600);
    assert_eq!(t2["turn_start_tokens"], 7, "an existing baseline is kept");
    let t3 = by_id(&sessions, "t3");
    assert!(t3.get("context_usage").is_none() && t3.get("conversation_mtime_ns").is_none());
    assert!(t3.get("turn_start_tokens").is_none());
}

#[test]
fn same_pane_dedupe_moves_the_loser_to_the_trash() {
    let mut env = Env::new();
    env.zellij(LIVE, 0);
    env.claude_transcript("real");
    let pane = |id: &str, pane: Value| {
        json!({"session_id": id, "agent": "claude", "status": "active", "zellij_session": "main", "zellij_pane": pane,
               "project_dir": "/p"})
    };
    env.session("orphan", pane("orphan", json!("3")));
    env.session("real", pane("real", json!(3)));
    env.session("other-pane", pane("other-pane", json!("4")));
    env.session("no-pane", pane("no-pane", json!("")));
    env.session("no-pane-2", pane("no-pane-2", json!(null)));
    let sessions = env.snapshot();
    assert_eq!(ids(&sessions), ["no-pane", "no-pane-2", "other-pane", "real"]);
    assert_eq!(env.trash(), BTreeSet::from(["orphan.json".into()]));
    assert!(!env.session_files().contains("orphan.json"));
    // The next pass finds nothing more to do.
    assert_eq!(ids(&env.snapshot()), ["no-pane", "no-pane-2", "other-pane", "real"]);
}

#[test]
fn dedupe_removes_the_file_the_loser_was_read_from_even_with_a_hostile_id() {
    let mut env = Env::new();
    env.zellij(LIVE, 0);
    let victim = env.root.join("victim.json");
    fs::write(&victim, "{}").expect("write");
    let pane = json!({"agent": "claude", "status": "active", "zellij_session": "main", "zellij_pane": "3"});
    let mut a = pane.clone();
    a["session_id"] = json!("../../victim");
    a["conversation_mtime_ns"] = json!("not a number");
    let mut b = pane.clone();
    b["session_id"] = json!("zz");
    b["conversation_mtime_ns"] = json!(5);
    env.session("evil", a);
    env.session("zz", b);
    // conversation_mtime_ns from a file stays when no transcript is found: 5 beats "not a number" (counted as 0).
    let sessions = env.snapshot();
    assert_eq!(ids(&sessions), ["zz"]);
    assert!(victim.exists(), "nothing outside the sessions dir is touched");
    assert_eq!(env.trash(), BTreeSet::from(["evil.json".into()]));
}

#[test]
fn cleanup_trashes_orphan_event_logs_and_stale_starting_sessions() {
    let mut env = Env::new();
    env.zellij(LIVE, 0);
    let day = Duration::from_secs(24 * 60 * 60);
    let events = env.root.join("data/events");
    for name in ["listed", "orphan-old", "orphan-young"] {
        fs::write(events.join(format!("{name}.jsonl")), "{}\n").expect("write event log");
    }
    set_age(&events.join("listed.jsonl"), day * 3);
    set_age(&events.join("orphan-old.jsonl"), day + Duration::from_secs(60));
    set_age(&events.join("orphan-young.jsonl"), day - Duration::from_secs(60));
    env.session(
        "listed",
        json!({"session_id": "listed", "agent": "claude", "status": "done", "zellij_session": "main"}),
    );
    let stale = env.session(
        "stale",
        json!({"session_id": "stale", "agent": "claude", "status": "starting", "zellij_session": "main"}),
    );
    set_age(&stale, Duration::from_secs(3601));
    let young = env.session(
        "young",
        json!({"session_id": "young", "agent": "claude", "status": "starting", "zellij_session": "main"}),
    );
    set_age(&young, Duration::from_secs(3500));
    let old_done = env.session(
        "old-done",
        json!({"session_id": "old-done", "agent": "claude", "status": "done", "zellij_session": "main"}),
    );
    set_age(&old_done, day * 30);

    let sessions = env.snapshot();
    assert_eq!(
        ids(&sessions),
        ["listed", "old-done", "stale", "young"],
        "as in the original, listed by the pass that removes it"
    );
    assert_eq!(
        names(&events),
        BTreeSet::from(["listed.jsonl".into(), "orphan-young.jsonl".into()])
    );
    assert_eq!(
        env.trash(),
        BTreeSet::from(["orphan-old.jsonl".into(), "stale.json".into()])
    );
    assert_eq!(ids(&env.snapshot()), ["listed", "old-done", "young"]);
}

#[test]
fn codex_sessions_are_discovered_from_the_process_holding_the_rollout() {
    let mut env = Env::new();
    env.zellij(LIVE, 0);
    let project = env.root.join("project");
    fs::create_dir_all(&project).expect("project");
    let rollout = env.codex_rollout("019c0000-0000-7000-8000-000000000001", &project);
    env.spawn_codex(&["--no-daemon"], &project, Some(&rollout), Some(("main", "5")));
    // A Codex session whose rollout nobody holds is dead; one without transcript_path too.
    let closed = env.codex_rollout("019c0000-0000-7000-8000-000000000002", &project);
    env.session("019c0000-0000-7000-8000-000000000002", json!({"session_id": "019c0000-0000-7000-8000-000000000002", "agent": "codex", "status": "done", "transcript_path": closed}));
    env.session(
        "nopath",
        json!({"session_id": "nopath", "agent": "codex", "status": "done"}),
    );

    let sessions = env.snapshot();
    let s = by_id(&sessions, "019c0000-0000-7000-8000-000000000001");
    assert_eq!(s["agent"], "codex");
    assert_eq!(s["status"], "done", "task_complete was the last turn event");
    assert_eq!(s["last_event"], "task_complete");
    assert_eq!(s["last_event_at"], "2026-01-01T00:00:03.000Z");
    assert_eq!(s["cwd"], project.to_string_lossy().as_ref());
    assert_eq!(s["project_dir"], project.to_string_lossy().as_ref());
    assert_eq!(s["transcript_path"], rollout.to_string_lossy().as_ref());
    assert_eq!(
        (s["zellij_session"].as_str(), s["zellij_pane"].as_str()),
        (Some("main"), Some("5"))
    );
    assert_eq!(s["is_dead"], false);
    assert_eq!(s["context_usage"]["current_tokens"], 22549);
    assert!(s["conversation_mtime_ns"].is_u64());
    let closed = by_id(&sessions, "019c0000-0000-7000-8000-000000000002");
    assert_eq!(closed["is_dead"], true);
    assert_eq!(closed["liveness_reason"], "no codex process has the rollout open");
    assert_eq!(
        by_id(&sessions, "nopath")["liveness_reason"],
        "no transcript_path recorded"
    );

    // A second pass with nothing new leaves the file untouched (no write, no watcher wake-up).
    let file = env.sessions_dir().join("019c0000-0000-7000-8000-000000000001.json");
    let before = fs::metadata(&file).and_then(|m| m.modified()).expect("mtime");
    std::thread::sleep(Duration::from_millis(20));
    env.snapshot();
    assert_eq!(fs::metadata(&file).and_then(|m| m.modified()).expect("mtime"), before);
}

#[test]
fn a_daemon_held_rollout_is_matched_to_the_tui_in_its_cwd() {
    let mut env = Env::new();
    env.zellij(LIVE, 0);
    let project = env.root.join("project");
    let elsewhere = env.root.join("elsewhere");
    fs::create_dir_all(&project).expect("project");
    fs::create_dir_all(&elsewhere).expect("elsewhere");
    let rollout = env.codex_rollout("019c0000-0000-7000-8000-00000000000d", &project);
    // The daemon holds the rollout but carries the environment of the first TUI (pane 1, another project).
    env.spawn_codex(
        &["app-server", "--managed-daemon"],
        &elsewhere,
        Some(&rollout),
        Some(("main", "1")),
    );
    env.spawn_codex(&[], &elsewhere, None, Some(("main", "1")));
    env.spawn_codex(&[], &project, None, Some(("work", "2")));
    let sessions = env.snapshot();
    let s = by_id(&sessions, "019c0000-0000-7000-8000-00000000000d");
    assert_eq!(
        (s["zellij_session"].as_str(), s["zellij_pane"].as_str()),
        (Some("work"), Some("2"))
    );
    assert_eq!(s["is_dead"], false);
}
