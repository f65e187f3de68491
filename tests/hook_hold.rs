//! The held PermissionRequest with the real `amc hook` binary and the real server on 127.0.0.1:0: the hook registers
//! the request, the session shows `attention.request_id`, a gRPC `Decide` reaches the waiting hook, which prints
//! Claude Code's decision JSON; every failure prints nothing (fail-open).

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    io::Write as _,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use amc::{proto as pb, server::auth::Access};
use support::{eventually, spawn_server_with_access, Running, TestEnv};

const BIN: &str = env!("CARGO_BIN_EXE_amc");
const LOCAL: &str = "local-secret-0123456789abcdef";

/// A test env whose fake zellij lists the session `z` the hooks run in, so their sessions stay live.
fn live_env() -> TestEnv {
    let mut env = TestEnv::new();
    let zellij = env.home().join("zellij");
    support::write_executable(&zellij, "#!/bin/sh\necho 'z [Created 1h ago]'\n");
    env.paths.zellij_bin = Some(zellij);
    env
}

async fn start(env: &TestEnv, hold_always: bool, wait: Duration) -> Running {
    let mut config = env.config();
    config.approvals_hold_always = hold_always;
    config.approval_wait = wait;
    let access = Access::from_config(&config, Some(LOCAL.into()), &[]);
    let running = spawn_server_with_access(config, access).await;
    // What `amc serve` writes for the hook.
    std::fs::write(env.paths.addr_file(), running.addr.to_string()).expect("addr");
    std::fs::write(env.paths.token_file(), LOCAL).expect("token");
    running
}

/// Runs `amc hook` with a PermissionRequest of session `sid` in the background; returns its stdout and how long it
/// took.
fn hook(env: &TestEnv, sid: &str) -> std::thread::JoinHandle<(String, Duration, bool)> {
    let payload = serde_json::json!({"session_id": sid, "hook_event_name": "PermissionRequest", "cwd": "/p",
        "permission_mode": "default", "tool_name": "Bash", "tool_input": {"command": "touch /tmp/x"},
        "transcript_path": "/nonexistent.jsonl"})
    .to_string();
    let (home, data) = (env.home().to_path_buf(), env.paths.data_dir.clone());
    // One pane per session: two sessions in one pane would be deduplicated by the collector.
    static PANE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let pane = PANE.fetch_add(1, std::sync::atomic::Ordering::Relaxed).to_string();
    std::thread::spawn(move || {
        let started = Instant::now();
        let mut child = Command::new(BIN)
            .arg("hook")
            .env_clear()
            .env("HOME", &home)
            .env("AMC_DATA_DIR", &data)
            .env("ZELLIJ_SESSION_NAME", "z")
            .env("ZELLIJ_PANE_ID", &pane)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn amc hook");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(payload.as_bytes())
            .expect("payload");
        let output = child.wait_with_output().expect("amc hook ends");
        (
            String::from_utf8_lossy(&output.stdout).into_owned(),
            started.elapsed(),
            output.status.success(),
        )
    })
}

fn request_id(env: &TestEnv, sid: &str) -> Option<String> {
    let text = std::fs::read_to_string(env.paths.sessions_dir().join(format!("{sid}.json"))).ok()?;
    let session: serde_json::Value = serde_json::from_str(&text).ok()?;
    session["attention"]["request_id"].as_str().map(str::to_owned)
}

async fn decide(running: &Running, sid: &str, id: &str, behavior: pb::Behavior, message: Option<&str>) -> String {
    let mut client = pb::action_service_client::ActionServiceClient::connect(running.url())
        .await
        .expect("connect");
    let mut request = tonic::Request::new(pb::DecideRequest {
        session_id: sid.into(),
        request_id: id.into(),
        behavior: behavior.into(),
        message: message.map(str::to_owned),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {LOCAL}").parse().expect("metadata"));
    client
        .decide(request)
        .await
        .expect("Decide")
        .into_inner()
        .result
        .expect("a result")
        .outcome
}

#[tokio::test]
async fn a_held_request_gets_the_remote_decision_and_exactly_one_decision_wins() {
    let env = live_env();
    let running = start(&env, true, Duration::from_secs(20)).await;

    let waiting = hook(&env, "s1");
    let id = eventually(Duration::from_secs(20), || async { request_id(&env, "s1") })
        .await
        .expect("the session shows the request id");
    let listed = eventually(Duration::from_secs(10), || async {
        let state = running.state.current();
        let s = state.sessions.iter().find(|s| s["session_id"] == "s1")?;
        (s["attention"]["request_id"] == id.as_str()).then(|| s["attention"]["kind"].clone())
    })
    .await;
    assert_eq!(
        listed,
        Some(serde_json::json!("permission")),
        "the published state shows it"
    );
    assert_eq!(
        decide(&running, "s1", &id, pb::Behavior::Allow, None).await,
        "delivered"
    );
    assert_eq!(
        decide(&running, "s1", &id, pb::Behavior::Deny, None).await,
        "already_answered",
        "the second decision loses"
    );
    let (stdout, _, ok) = waiting.join().expect("hook thread");
    assert!(ok);
    assert_eq!(
        stdout.trim(),
        r#"{"hookSpecificOutput":{"hookEventName":"PermissionRequest","decision":{"behavior":"allow"}}}"#
    );

    let waiting = hook(&env, "s2");
    let id = eventually(Duration::from_secs(20), || async { request_id(&env, "s2") })
        .await
        .expect("id");
    assert_eq!(
        decide(&running, "s2", &id, pb::Behavior::Deny, Some("not on a Friday")).await,
        "delivered"
    );
    let (stdout, _, _) = waiting.join().expect("hook thread");
    let out: serde_json::Value = serde_json::from_str(stdout.trim()).expect("JSON");
    assert_eq!(
        out["hookSpecificOutput"]["decision"],
        serde_json::json!({"behavior": "deny", "message": "not on a Friday"})
    );
    running.stop().await;
}

#[tokio::test]
async fn no_decision_in_time_no_hold_or_no_server_prints_nothing() {
    let env = live_env();
    let running = start(&env, true, Duration::from_millis(500)).await;
    let waiting = hook(&env, "late");
    let id = eventually(Duration::from_secs(10), || async { request_id(&env, "late") })
        .await
        .expect("id");
    let (stdout, took, ok) = waiting.join().expect("hook");
    assert!(ok && stdout.is_empty(), "{stdout}");
    assert!(
        took >= Duration::from_millis(450) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(
        decide(&running, "late", &id, pb::Behavior::Allow, None).await,
        "withdrawn"
    );
    running.stop().await;

    // Holding off (the default): registered, no id, back at once.
    let env = live_env();
    let running = start(&env, false, Duration::from_secs(20)).await;
    let (stdout, took, ok) = hook(&env, "free").join().expect("hook");
    assert!(ok && stdout.is_empty());
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert_eq!(request_id(&env, "free"), None);
    let listed = eventually(Duration::from_secs(10), || async {
        running
            .state
            .current()
            .sessions
            .iter()
            .any(|s| s["session_id"] == "free")
            .then_some(())
    })
    .await;
    assert!(listed.is_some());
    // ... unless remote approval is switched on for the session.
    let response = reqwest::Client::new()
        .post(format!("{}/api/sessions/free/remote_approval", running.url()))
        .bearer_auth(LOCAL)
        .json(&serde_json::json!({"enabled": true}))
        .send()
        .await
        .expect("POST");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["outcome"], "enabled", "{body}");
    let waiting = hook(&env, "free");
    let id = eventually(Duration::from_secs(10), || async { request_id(&env, "free") })
        .await
        .expect("held now");
    assert_eq!(
        decide(&running, "free", &id, pb::Behavior::Allow, None).await,
        "delivered"
    );
    assert!(waiting.join().expect("hook").0.contains("allow"));

    // The server goes away while a hook waits: the hook falls back to Claude's dialog.
    let waiting = hook(&env, "free");
    eventually(Duration::from_secs(10), || async {
        request_id(&env, "free").filter(|new| *new != id)
    })
    .await
    .expect("a new request");
    running.stop().await;
    let (stdout, took, ok) = waiting.join().expect("hook");
    assert!(ok && stdout.is_empty(), "{stdout}");
    assert!(took < Duration::from_secs(10));

    // No server at all.
    let (stdout, took, ok) = hook(&env, "alone").join().expect("hook");
    assert!(ok && stdout.is_empty());
    assert!(took < Duration::from_secs(3), "{took:?}");
}
