//! Explain (issue 15): `ExplainSession` over gRPC and gRPC-Web, `GET /api/sessions/{id}/explain`, and `amc explain`,
//! against the real server on 127.0.0.1:0 with a fake `zellij`, the real `/proc` (fake `codex` processes, Claude pid
//! files naming exited pids) and the real hook.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use amc::{
    config::{Config, Paths},
    proto as pb, rules,
};
use serde_json::{json, Value};
use support::{eventually, spawn_server, spawn_server_warming, Running};

const SECOND: Duration = Duration::from_secs(1);
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/collector");
const BIN: &str = env!("CARGO_BIN_EXE_amc");

/// A temporary HOME (resolved: the kernel names open files by their resolved path) with a data dir, Claude and Codex
/// homes, and a fake `zellij` that lists one live session, named after this process so no real pane can match it.
struct Env {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    paths: Paths,
    /// The live Zellij session.
    live: String,
    children: Vec<Child>,
}

impl Env {
    fn new() -> Env {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical tempdir");
        let live = format!("explain-{}", std::process::id());
        fs::write(root.join("zellij.txt"), format!("{live} [Created 1h ago] \n")).expect("zellij list");
        let wrapper = root.join("zellij");
        support::write_executable(
            &wrapper,
            format!(
                "#!/bin/sh\nFAKE_ZELLIJ_STDOUT={root}/zellij.txt exec sh {FIXTURES}/zellij.sh \"$@\"\n",
                root = root.display()
            ),
        );
        let r = root.clone();
        let paths = Paths::from_lookup(move |k| {
            let s = |p: PathBuf| Some(p.to_string_lossy().into_owned());
            match k {
                "HOME" => s(r.clone()),
                "AMC_DATA_DIR" => s(r.join("data")),
                "CODEX_HOME" => s(r.join("codex")),
                "CLAUDE_CONFIG_DIR" => s(r.join("claude")),
                "AMC_ZELLIJ_BIN" => s(r.join("zellij")),
                _ => None,
            }
        });
        for dir in [paths.sessions_dir(), paths.events_dir(), root.join("claude/sessions")] {
            fs::create_dir_all(dir).expect("mkdir");
        }
        Env {
            _tmp: tmp,
            root,
            paths,
            live,
            children: Vec::new(),
        }
    }

    fn config(&self) -> Config {
        let mut config = Config::for_paths(self.paths.clone());
        // Passes come from file events only (an hour's timers never fire in a test).
        config.liveness_interval = Duration::from_secs(3600);
        config.reconcile_interval = Duration::from_secs(3600);
        config
    }

    fn session(&self, id: &str, value: Value) -> PathBuf {
        let path = self.paths.sessions_dir().join(format!("{id}.json"));
        amc::store::write_atomic(&path, &serde_json::to_vec(&value).expect("json")).expect("write session");
        path
    }

    fn claude(&self, id: &str, status: &str, zellij: &str, pane: &str) -> Value {
        json!({"session_id": id, "agent": "claude", "status": status, "zellij_session": zellij,
               "zellij_pane": pane, "project_dir": "/p", "last_event": "Stop"})
    }

    /// Starts a fake `codex` with `args` holding `hold` open (its comm is `codex`); waits until it holds it.
    fn spawn_codex(&mut self, args: &[&str], cwd: &Path, hold: &Path) -> u32 {
        let bin = self.root.join("bin/codex");
        if !bin.exists() {
            fs::create_dir_all(self.root.join("bin")).expect("bin");
            support::write_executable(
                &bin,
                fs::read(Path::new(FIXTURES).join("codex.sh")).expect("read script"),
            );
        }
        let child = Command::new(&bin)
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("FAKE_CODEX_HOLD", hold)
            .env("ZELLIJ_SESSION_NAME", &self.live)
            .env("ZELLIJ_PANE_ID", "7")
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn fake codex");
        let pid = child.id();
        self.children.push(child);
        let deadline = Instant::now() + 5 * SECOND;
        let holds = || {
            fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                fds.flatten()
                    .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target == hold))
            })
        };
        while !holds() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(holds(), "the fake codex holds {}", hold.display());
        pid
    }

    fn codex_rollout(&self, id: &str, cwd: &Path) -> PathBuf {
        let dir = self.paths.codex_sessions_dir.join("2026/01/01");
        fs::create_dir_all(&dir).expect("rollout dir");
        let path = dir.join(format!("rollout-2026-01-01T00-00-00-{id}.jsonl"));
        let text = fs::read_to_string(Path::new(FIXTURES).join("codex-rollout.jsonl")).expect("fixture");
        fs::write(&path, text.replace("SID", id).replace("CWD", &cwd.to_string_lossy())).expect("write rollout");
        path
    }

    /// Runs the real `amc hook` with `payload`, as Claude Code does.
    fn hook(&self, payload: Value) {
        let mut child = Command::new(BIN)
            .arg("hook")
            .env_clear()
            .env("HOME", &self.root)
            .env("AMC_DATA_DIR", &self.paths.data_dir)
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn amc hook");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(payload.to_string().as_bytes())
            .expect("write payload");
        assert!(child.wait().expect("hook exits").success());
    }

    /// Runs `amc explain` with `args` against this HOME (and `addr`, when given, as AMC_LISTEN).
    fn amc_explain(&self, args: &[&str], addr: Option<&str>) -> std::process::Output {
        let mut all = vec!["explain"];
        all.extend_from_slice(args);
        self.amc(&all, addr)
    }

    /// Runs `amc <args>` on this env's data dir (`addr`: the server `amc explain` asks).
    fn amc(&self, args: &[&str], addr: Option<&str>) -> std::process::Output {
        let mut command = Command::new(BIN);
        command
            .args(args)
            .env_clear()
            .env("HOME", &self.root)
            .env("AMC_DATA_DIR", &self.paths.data_dir)
            .env("CODEX_HOME", self.root.join("codex"))
            .env("CLAUDE_CONFIG_DIR", self.root.join("claude"))
            .env("AMC_ZELLIJ_BIN", self.root.join("zellij"))
            .env("RUST_LOG", "warn");
        // Nothing listens on port 9 of loopback (discard): `amc explain` then runs a pass itself.
        command.env("AMC_LISTEN", addr.unwrap_or("127.0.0.1:9"));
        command.output().expect("run amc")
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

/// The pid of a process that has exited (and been reaped).
fn exited_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

async fn http_explain(server: &Running, id: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{}/api/sessions/{id}/explain", server.url()))
        .await
        .expect("GET explain");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON body"))
}

async fn grpc_explain(server: &Running, id: &str) -> Result<pb::ExplainSessionResponse, tonic::Status> {
    let mut client = server.grpc().await;
    client
        .explain_session(pb::ExplainSessionRequest { session_id: id.into() })
        .await
        .map(tonic::Response::into_inner)
}

/// The last decision on `field` (a later one overrides an earlier one).
fn last<'a>(explanation: &'a Value, field: &str) -> &'a Value {
    explanation["decisions"]
        .as_array()
        .and_then(|ds| ds.iter().rev().find(|d| d["field"] == field))
        .unwrap_or_else(|| panic!("no {field} decision in {explanation:#}"))
}

/// The decision of `rule`.
fn by_rule<'a>(explanation: &'a Value, rule: &str) -> &'a Value {
    explanation["decisions"]
        .as_array()
        .and_then(|ds| ds.iter().find(|d| d["rule"] == rule))
        .unwrap_or_else(|| panic!("no decision of {rule} in {explanation:#}"))
}

/// Checks that the gRPC answer says what the JSON says.
fn assert_same(grpc: &pb::ExplainSessionResponse, http: &Value) {
    assert_eq!(grpc.session_id, http["session_id"].as_str().unwrap_or_default());
    assert_eq!(grpc.present, http["present"].as_bool().unwrap_or_default());
    assert_eq!(grpc.trash_path, http["trash_path"].as_str().unwrap_or_default());
    let decisions = http["decisions"].as_array().expect("decisions");
    assert_eq!(grpc.decisions.len(), decisions.len());
    for (g, h) in grpc.decisions.iter().zip(decisions) {
        assert_eq!(g.field, h["field"].as_str().unwrap_or_default());
        assert_eq!(g.rule, h["rule"].as_str().unwrap_or_default());
        assert_eq!(
            serde_json::from_str::<Value>(&g.value_json).ok().as_ref(),
            Some(&h["value"])
        );
        assert_eq!(
            serde_json::from_str::<Value>(&g.evidence_json).ok().as_ref(),
            Some(&h["evidence"])
        );
        // The time of the pass (a later pass between the two calls may have decided the same again).
        let at = g.at.expect("a time");
        let seconds = at.seconds as f64 + f64::from(at.nanos) / 1e9;
        let http_at = h["at"].as_f64().unwrap_or_default();
        assert!(seconds > 1e9 && (http.get("removed_at").is_none() || (seconds - http_at).abs() < 1e-3));
    }
}

// `amc explain` blocks this thread while the server answers it on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_says_why_each_session_is_alive_dead_or_removed() {
    let mut env = Env::new();
    let live = env.live.clone();
    env.session("alive", env.claude("alive", "active", &live, "1"));
    env.session("dead-zellij", env.claude("dead-zellij", "done", "gone-zellij", "1"));
    env.session("dead-process", env.claude("dead-process", "done", &live, "3"));
    let pid = exited_pid();
    let pid_file = env.root.join(format!("claude/sessions/{pid}.json"));
    fs::write(
        &pid_file,
        json!({"pid": pid, "sessionId": "dead-process", "procStart": "1"}).to_string(),
    )
    .expect("pid file");
    let mut dup_a = env.claude("dup-a", "done", &live, "2");
    dup_a["conversation_mtime_ns"] = json!(5);
    let mut dup_b = env.claude("dup-b", "done", &live, "2");
    dup_b["conversation_mtime_ns"] = json!(9);
    let dup_a_file = env.session("dup-a", dup_a);
    env.session("dup-b", dup_b);
    let orphan_file = env.session("orphan", env.claude("orphan", "starting", "gone-zellij", "4"));
    // A `starting` file older than an hour: listed by the pass that moves it to the trash (as in the original).
    let stale_file = env.session("stale", env.claude("stale", "starting", &live, "5"));
    fs::File::options()
        .write(true)
        .open(&stale_file)
        .and_then(|f| f.set_modified(std::time::SystemTime::now() - Duration::from_secs(7200)))
        .expect("age the stale file");
    // Codex after `/quit`: the app-server daemon still holds the rollout, no TUI is left.
    let codex_id = "019c0000-0000-7000-8000-0000000000e1";
    let project = env.root.join("project");
    fs::create_dir_all(&project).expect("project");
    let rollout = env.codex_rollout(codex_id, &project);
    let daemon = env.spawn_codex(&["app-server", "--managed-daemon"], &project, &rollout);

    let server = spawn_server(env.config()).await;
    let state: Value = reqwest::get(format!("{}/api/state", server.url()))
        .await
        .expect("GET /api/state")
        .json()
        .await
        .expect("JSON");
    let listed = |id: &str| -> Value {
        state["sessions"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["session_id"] == id).cloned())
            .unwrap_or(Value::Null)
    };

    // Alive: the hook's status, the original's liveness rule (the Zellij session runs).
    let (code, alive) = http_explain(&server, "alive").await;
    assert_eq!(code, 200, "{alive}");
    assert_eq!(alive["present"], true);
    assert!(alive.get("trash_path").is_none());
    let status = last(&alive, "status");
    assert_eq!(
        (status["value"].clone(), status["rule"].clone()),
        (json!("active"), json!("hook::update::apply"))
    );
    let file = env.paths.sessions_dir().join("alive.json");
    assert_eq!(status["evidence"]["file"], json!(file.to_string_lossy()));
    assert_eq!(last(&alive, "is_dead")["value"], false, "{alive:#}");
    assert_eq!(
        listed("alive")["is_dead"],
        false,
        "the explanation agrees with the state"
    );

    // Dead by Zellij.
    let (_, dead) = http_explain(&server, "dead-zellij").await;
    let is_dead = last(&dead, "is_dead");
    assert_eq!(is_dead["value"], true);
    assert_eq!(
        is_dead["evidence"]["reason"],
        "zellij session 'gone-zellij' is not running"
    );
    let zellij = by_rule(&dead, rules::liveness::original::RULE_IS_DEAD);
    assert_eq!(
        (
            zellij["evidence"]["zellij_known"].clone(),
            zellij["evidence"]["zellij_live"].clone()
        ),
        (json!(true), json!(false))
    );
    assert_eq!(listed("dead-zellij")["liveness_reason"], is_dead["evidence"]["reason"]);

    // Dead by process: Claude's pid file names an exited pid, although the Zellij session runs.
    let (_, dead) = http_explain(&server, "dead-process").await;
    let is_dead = last(&dead, "is_dead");
    assert_eq!(is_dead["value"], true, "{dead:#}");
    assert_eq!(is_dead["rule"], rules::liveness::claude::RULE);
    assert_eq!(is_dead["evidence"]["pid"], pid);
    assert_eq!(is_dead["evidence"]["pid_file"], json!(pid_file.to_string_lossy()));
    assert!(
        is_dead["evidence"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains(&format!("claude pid {pid} has exited"))),
        "{is_dead}"
    );
    assert_eq!(listed("dead-process")["is_dead"], true);

    // The same-pane dedupe loser: removed, with its trash path and the winner in the evidence.
    let (_, loser) = http_explain(&server, "dup-a").await;
    assert_eq!(loser["present"], false);
    let trash = PathBuf::from(loser["trash_path"].as_str().expect("a trash path"));
    assert!(trash.starts_with(env.paths.trash_dir()) && trash.is_file() && !dup_a_file.exists());
    assert_eq!(
        fs::read(&trash)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
            .map(|v| v["session_id"].clone()),
        Some(json!("dup-a"))
    );
    assert_eq!(last(&loser, "dedupe")["value"], "lost");
    assert_eq!(last(&loser, "dedupe")["evidence"]["winner"], "dup-b");
    let removal = last(&loser, "removal");
    assert_eq!(removal["rule"], rules::dedupe::RULE);
    assert_eq!(removal["value"], rules::dedupe::LOSER_REASON);
    assert_eq!(
        loser["decisions"].as_array().and_then(|d| d.last()),
        Some(removal),
        "the removal comes last"
    );
    assert!(loser["removed_at"].as_f64().is_some());
    // The winner: the pass that deduped says "kept"; the next pass (the catch-up pass after the watches are set, or
    // the loser's removal event), with no other session left on the pane, takes no dedupe decision, and the log
    // keeps each session's latest pass. So "kept" is asserted only while it is the latest (this raced before the
    // incremental liveness too; `collect`'s unit tests assert "kept" on the deduping pass itself).
    let (_, winner) = http_explain(&server, "dup-b").await;
    assert_eq!(winner["present"], true);
    if let Some(dedupe) = winner["decisions"]
        .as_array()
        .and_then(|ds| ds.iter().rev().find(|d| d["field"] == "dedupe"))
    {
        assert_eq!(dedupe["value"], "kept");
    }

    // The orphan `starting` session: removed at once, its Zellij session gone.
    let (_, orphan) = http_explain(&server, "orphan").await;
    assert_eq!(orphan["present"], false);
    assert_eq!(last(&orphan, "removal")["rule"], rules::liveness::RULE_ORPHAN);
    let trash = PathBuf::from(orphan["trash_path"].as_str().expect("a trash path"));
    assert!(trash.is_file() && !orphan_file.exists());
    assert_eq!(listed("orphan"), Value::Null);

    // The stale `starting` file: still in this state, already in the trash, and the explanation says so.
    let (_, stale) = http_explain(&server, "stale").await;
    assert_eq!(stale["present"], true);
    assert_eq!(listed("stale")["status"], "starting");
    assert_eq!(last(&stale, "removal")["rule"], rules::cleanup::RULE_STARTING);
    let stale_trash = PathBuf::from(stale["trash_path"].as_str().expect("a trash path"));
    assert!(stale_trash.is_file() && !stale_file.exists());

    // Codex after /quit: dead, on the daemon's evidence.
    let (code, codex) = http_explain(&server, codex_id).await;
    assert_eq!(code, 200, "{codex}");
    let is_dead = last(&codex, "is_dead");
    assert_eq!(is_dead["value"], true, "{codex:#}");
    assert_eq!(is_dead["evidence"]["pid"], daemon);
    assert!(
        is_dead["evidence"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("only the app-server daemon")),
        "{is_dead}"
    );
    assert_eq!(listed(codex_id)["is_dead"], true);

    // gRPC and gRPC-Web say the same.
    use hyper_util::{client::legacy::Client, rt::TokioExecutor};
    let web = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebClientLayer::new())
        .service(Client::builder(TokioExecutor::new()).build_http());
    let mut web = pb::state_service_client::StateServiceClient::with_origin(web, server.url().parse().expect("uri"));
    for id in ["alive", "dead-process", "dup-a", "orphan", codex_id] {
        let (_, http) = http_explain(&server, id).await;
        assert_same(&grpc_explain(&server, id).await.expect("ExplainSession"), &http);
        let over_web = web
            .explain_session(pb::ExplainSessionRequest { session_id: id.into() })
            .await
            .expect("gRPC-Web ExplainSession")
            .into_inner();
        assert_same(&over_web, &http);
    }

    // `amc explain` asks the running server.
    let addr = server.addr.to_string();
    let out = env.amc_explain(&["dup-a"], Some(&addr));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let (_, http) = http_explain(&server, "dup-a").await;
    for needle in [
        "session dup-a",
        "removed at",
        http["trash_path"].as_str().unwrap_or("?"),
        rules::dedupe::LOSER_REASON,
        rules::dedupe::RULE,
        "winner: dup-b",
    ] {
        assert!(text.contains(needle), "{needle:?} in:\n{text}");
    }
    let out = env.amc_explain(&["--json", "dead-process"], Some(&addr));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    assert_eq!(
        printed["decisions"].as_array().map(Vec::len),
        http_explain(&server, "dead-process").await.1["decisions"]
            .as_array()
            .map(Vec::len)
    );
    assert_eq!(last(&printed, "is_dead")["evidence"]["pid"], pid);
    let out = env.amc_explain(&["never-seen"], Some(&addr));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("NotFound"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop().await;

    // The removed sessions survive a restart (cache/removed.jsonl); without a server `amc explain` reads them too.
    let restarted = spawn_server(env.config()).await;
    let (code, again) = http_explain(&restarted, "dup-a").await;
    assert_eq!(code, 200);
    assert_eq!(again["trash_path"], loser["trash_path"]);
    assert_eq!(again["decisions"], loser["decisions"]);
    let (_, stale_again) = http_explain(&restarted, "stale").await;
    assert_eq!(stale_again["present"], false);
    assert_eq!(stale_again["trash_path"], stale["trash_path"]);
    assert_eq!(last(&stale_again, "removal")["rule"], rules::cleanup::RULE_STARTING);
    restarted.stop().await;
    let out = env.amc_explain(&["--json", "orphan"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(printed["trash_path"], orphan["trash_path"]);
    let out = env.amc_explain(&["alive"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("listed in the current state"), "{text}");

    // `amc trash list` shows each trashed file with the rule that moved it; `amc trash restore` puts one back.
    let out = env.amc(&["trash", "list"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let trash_text = String::from_utf8_lossy(&out.stdout);
    let dup_trash = PathBuf::from(loser["trash_path"].as_str().expect("a trash path"));
    let dup_id = dup_trash.file_name().and_then(|n| n.to_str()).expect("a name");
    let line_of = |id: &str| trash_text.lines().find(|l| l.starts_with(id)).map(str::to_owned);
    let dup_line = line_of(dup_id).unwrap_or_else(|| panic!("{dup_id} in:\n{trash_text}"));
    assert!(
        dup_line.contains(rules::dedupe::RULE) && dup_line.contains(rules::dedupe::LOSER_REASON),
        "{dup_line}"
    );
    assert!(
        dup_line.contains(&env.paths.sessions_dir().join("dup-a.json").display().to_string()),
        "{dup_line}"
    );
    let orphan_id = trash.file_name().and_then(|n| n.to_str()).expect("a name");
    let orphan_line = line_of(orphan_id).unwrap_or_else(|| panic!("{orphan_id} in:\n{trash_text}"));
    assert!(orphan_line.contains(rules::liveness::RULE_ORPHAN), "{orphan_line}");
    let out = env.amc(&["trash", "list", "--json"], None);
    let listed_json: Value = serde_json::from_slice(&out.stdout).expect("--json prints JSON");
    let dup_json = listed_json
        .as_array()
        .and_then(|a| a.iter().find(|e| e["id"] == dup_id))
        .expect("dup-a's file listed");
    assert_eq!(dup_json["rule"], rules::dedupe::RULE);
    assert_eq!(dup_json["session_id"], "dup-a");
    // Refused while a live file with that id exists; the trashed file stays.
    std::fs::write(&orphan_file, "{\"live\":true}").expect("a live file");
    let out = env.amc(&["trash", "restore", orphan_id], None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("refused"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(trash.is_file());
    assert_eq!(std::fs::read_to_string(&orphan_file).expect("read"), "{\"live\":true}");
    // By session id: its newest trashed session file goes back, byte for byte.
    let trashed_bytes = std::fs::read(&dup_trash).expect("read the trash");
    let out = env.amc(&["trash", "restore", "dup-a"], None);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dup_file = env.paths.sessions_dir().join("dup-a.json");
    assert_eq!(std::fs::read(&dup_file).expect("restored"), trashed_bytes);
    assert!(!dup_trash.exists());
    let out = env.amc(&["trash", "restore", "dup-a"], None);
    assert!(!out.status.success(), "nothing left to restore");
    assert!(
        text.contains("status active, is_dead false"),
        "the outcome comes first:\n{text}"
    );
}

// `amc explain` blocks this thread while the server answers it on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_ids_are_refused_and_unknown_ids_are_not_found() {
    let env = Env::new();
    env.session("a", env.claude("a", "active", &env.live, "1"));
    let server = spawn_server(env.config()).await;
    let long = "x".repeat(10 * 1024);
    for id in [
        "..%2F..%2Fetc%2Fpasswd",
        "a%2Fb",
        "a%5Cb",
        "%2Ehidden",
        "a%00b",
        long.as_str(),
    ] {
        let (code, body) = http_explain(&server, id).await;
        assert_eq!(
            (code, body["code"].as_str()),
            (400, Some("INVALID_ARGUMENT")),
            "{id}: {body}"
        );
    }
    for id in ["../../etc/passwd", "..", "a/b", ".hidden", "a\0b", "", long.as_str()] {
        let status = grpc_explain(&server, id).await.expect_err("refused");
        assert_eq!(status.code(), tonic::Code::InvalidArgument, "{id:?}");
        assert!(status.message().len() < 300, "the error does not echo a 10 KB id");
    }
    let (code, body) = http_explain(&server, "never-seen").await;
    assert_eq!((code, body["code"].as_str()), (404, Some("NOT_FOUND")));
    assert_eq!(
        grpc_explain(&server, "never-seen").await.expect_err("unknown").code(),
        tonic::Code::NotFound
    );
    let out = env.amc_explain(&["../etc/passwd"], Some(&server.addr.to_string()));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("InvalidArgument"));
    let out = env.amc_explain(&["../etc/passwd"], None);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid argument"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.stop().await;
}

#[tokio::test]
async fn explain_needs_the_token_like_every_data_route() {
    let env = Env::new();
    env.session("a", env.claude("a", "active", &env.live, "1"));
    let mut config = env.config();
    config.token = Some("t0ken".into());
    let server = spawn_server(config).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/sessions/a/explain", server.url());
    assert_eq!(http.get(&url).send().await.expect("GET").status(), 401);
    let ok = http.get(&url).bearer_auth("t0ken").send().await.expect("GET");
    assert_eq!(ok.status(), 200);
    let status = grpc_explain(&server, "a").await.expect_err("no token");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    server.stop().await;
}

#[tokio::test]
async fn a_session_file_that_vanishes_between_passes_keeps_its_last_decisions() {
    let env = Env::new();
    let live = env.live.clone();
    env.session("ending", env.claude("ending", "done", &live, "1"));
    let deleted = env.session("deleted", env.claude("deleted", "done", &live, "2"));
    let server = spawn_server(env.config()).await;
    assert_eq!(http_explain(&server, "ending").await.1["present"], true);

    // The real hook on SessionEnd moves the file to the trash; the user deletes the other one.
    env.hook(
        json!({"session_id": "ending", "hook_event_name": "SessionEnd", "reason": "prompt_input_exit",
                    "cwd": "/p", "transcript_path": "/nonexistent.jsonl"}),
    );
    fs::remove_file(&deleted).expect("delete");
    let gone = |id: &'static str| {
        let server = &server;
        async move {
            let (_, e) = http_explain(server, id).await;
            (e["present"] == false).then_some(e)
        }
    };
    let ending = eventually(5 * SECOND, || gone("ending"))
        .await
        .expect("the SessionEnd is seen");
    let removal = last(&ending, "removal");
    assert_eq!(removal["rule"], "publisher::decision_log::vanished");
    assert_eq!(removal["value"], "file removed by the hook on SessionEnd");
    assert_eq!(removal["evidence"]["last_event"]["event"], "SessionEnd");
    let trash = PathBuf::from(ending["trash_path"].as_str().expect("the hook's trash file"));
    assert!(trash.starts_with(env.paths.trash_dir()) && trash.is_file(), "{trash:?}");
    assert_eq!(
        last(&ending, "status")["rule"],
        "hook::update::apply",
        "the last pass's decisions come first"
    );

    let deleted = eventually(5 * SECOND, || gone("deleted"))
        .await
        .expect("the deletion is seen");
    let removal = last(&deleted, "removal");
    assert_eq!(
        removal["value"],
        "file removed outside amc (hook SessionEnd or the user)"
    );
    assert_eq!(removal["evidence"]["trash_path"], Value::Null);
    assert!(deleted.get("trash_path").is_none());
    server.stop().await;
}

#[tokio::test]
async fn while_warming_up_unknown_ids_say_so_and_removed_sessions_answer_at_once() {
    let env = Env::new();
    let live = env.live.clone();
    let mut a = env.claude("dup-a", "done", &live, "2");
    a["conversation_mtime_ns"] = json!(5);
    env.session("dup-a", a);
    let mut b = env.claude("dup-b", "done", &live, "2");
    b["conversation_mtime_ns"] = json!(9);
    env.session("dup-b", b);
    let server = spawn_server(env.config()).await;
    let (_, loser) = http_explain(&server, "dup-a").await;
    assert_eq!(loser["present"], false, "{loser}");
    server.stop().await;

    // A first pass held up by a Zellij that answers after 1.5 s (once).
    let slow = env.root.join("slow-zellij");
    support::write_executable(
        &slow,
        format!(
            "#!/bin/sh\nif [ ! -e \"$0.asked\" ]; then : > \"$0.asked\"; sleep 1.5; fi\n\
             FAKE_ZELLIJ_STDOUT={root}/zellij.txt exec sh {FIXTURES}/zellij.sh \"$@\"\n",
            root = env.root.display()
        ),
    );
    let mut config = env.config();
    config.paths.zellij_bin = Some(slow);
    let server = spawn_server_warming(config).await;
    let (code, body) = http_explain(&server, "dup-b").await;
    assert_eq!((code, body["code"].as_str()), (404, Some("NOT_FOUND")), "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("warming up")),
        "{body}"
    );
    let (code, removed) = http_explain(&server, "dup-a").await;
    assert_eq!(
        code, 200,
        "the removed sessions kept in cache/removed.jsonl answer at once"
    );
    assert_eq!(removed["trash_path"], loser["trash_path"]);
    tokio::time::timeout(10 * SECOND, server.state.warmed())
        .await
        .expect("warmed");
    let (code, listed) = http_explain(&server, "dup-b").await;
    assert_eq!((code, listed["present"].as_bool()), (200, Some(true)));
    server.stop().await;
}
