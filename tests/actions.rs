//! Acting on sessions over HTTP with the real server on 127.0.0.1:0: scoped tokens, the Host and Origin checks, the
//! audit log and the rate limit, and the `dismiss` / `restore` actions.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use amc::server::auth::Access;
use support::{eventually, spawn_server_with_access, Running, TestEnv};

const LOCAL: &str = "local-secret-0123456789abcdef";
const READER: &str = "reader-secret-0123";

fn session(id: &str, status: &str) -> String {
    format!(r#"{{"session_id":"{id}","status":"{status}","agent":"claude","project_dir":"/work/{id}"}}"#)
}

/// A server with the `local` act token and a `ci` read token (reading stays open: no AMC_TOKEN).
async fn server(env: &TestEnv, rate: Option<&str>) -> Running {
    let rate = rate.map(str::to_owned);
    let config = amc::config::Config::from_paths_and_lookup(env.paths.clone(), |key| match key {
        "AMC_TOKENS" => Some(format!("ci:read:{READER}")),
        "AMC_ACTION_RATE" => rate.clone(),
        _ => None,
    });
    let mut config = {
        let mut c = env.config();
        c.tokens = config.tokens;
        c.action_rate = config.action_rate;
        c
    };
    config.token = None;
    let mut access = Access::from_config(&config, Some(LOCAL.into()), &[]);
    // AMC_TOKENS is set here only to name a read token; reading stays open as on a default loopback server.
    access.read_open = true;
    let running = spawn_server_with_access(config, access).await;
    running
}

async fn post(url: &str, path: &str, token: Option<&str>, headers: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().post(format!("{url}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let response = request.send().await.expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

async fn audit(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new().get(format!("{url}/api/audit?limit=1000"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("GET /api/audit");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

/// Each audit line's action and outcome, oldest first.
async fn action_outcomes(url: &str) -> Vec<[String; 2]> {
    let (_, log) = audit(url, Some(LOCAL)).await;
    let field = |e: &serde_json::Value, key: &str| e[key].as_str().unwrap_or("?").to_owned();
    log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| [field(e, "action"), field(e, "outcome")])
        .collect()
}

fn listed(running: &Running, id: &str) -> bool {
    running
        .state
        .current()
        .sessions
        .iter()
        .any(|s| s.get("session_id").and_then(|v| v.as_str()) == Some(id))
}

#[tokio::test]
async fn acting_needs_an_act_token_a_local_host_and_a_local_origin_and_every_try_is_audited() {
    let env = TestEnv::new();
    env.write_session("done1.json", &session("done1", "done"));
    let running = server(&env, None).await;
    let url = running.url();

    // Reading stays open; acting does not.
    let state = reqwest::get(format!("{url}/api/state")).await.expect("GET state");
    assert_eq!(state.status().as_u16(), 200);
    let (status, body) = post(&url, "/api/sessions/done1/dismiss", None, &[]).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHENTICATED")));
    let (status, body) = post(&url, "/api/sessions/done1/dismiss", Some("wrong-secret-123"), &[]).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("UNAUTHENTICATED")));
    let (status, body) = post(&url, "/api/sessions/done1/dismiss", Some(READER), &[]).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("PERMISSION_DENIED")));
    // DNS rebinding: a page at evil.example resolving to 127.0.0.1 sends Host: evil.example.
    let (status, body) = post(
        &url,
        "/api/sessions/done1/dismiss",
        Some(LOCAL),
        &[("host", "evil.example:7400")],
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (421, Some("PERMISSION_DENIED")));
    // A cross-site post carries the foreign Origin.
    let (status, body) = post(
        &url,
        "/api/sessions/done1/dismiss",
        Some(LOCAL),
        &[("origin", "http://evil.example")],
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("PERMISSION_DENIED")));
    // A form post is not JSON.
    let response = reqwest::Client::new()
        .post(format!("{url}/api/sessions/done1/dismiss"))
        .bearer_auth(LOCAL)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b")
        .send()
        .await
        .expect("form POST");
    assert_eq!(response.status().as_u16(), 400);
    assert!(listed(&running, "done1"), "nothing refused changed anything");

    // The audit log needs act too.
    assert_eq!(audit(&url, None).await.0, 401);
    assert_eq!(audit(&url, Some(READER)).await.0, 403);
    let (status, log) = audit(&url, Some(LOCAL)).await;
    assert_eq!(status, 200);
    let entries = log["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 6, "{log}");
    assert!(entries
        .iter()
        .all(|e| e["outcome"] == "refused" && e["action"] == "dismiss"));
    assert!(entries.iter().all(|e| e["session"] == "done1"));
    assert_eq!(entries[2]["token"], "ci", "the token's name, never its secret");
    assert!(entries[0]["token"].is_null());
    assert!(
        entries[0]["client"]
            .as_str()
            .is_some_and(|c| c.starts_with("127.0.0.1:")),
        "{}",
        entries[0]
    );
    assert!(!log.to_string().contains(READER) && !log.to_string().contains(LOCAL));
    running.stop().await;
}

#[tokio::test]
async fn dismiss_trashes_a_finished_session_and_restore_brings_it_back() {
    let env = TestEnv::new();
    env.write_session("done1.json", &session("done1", "done"));
    // A live session (its pane in the fake Zellij's list) cannot be dismissed.
    env.write_session(
        "busy.json",
        r#"{"session_id":"busy","status":"active","agent":"claude","zellij_session":"z","zellij_pane":"1"}"#,
    );
    let running = server(&env, None).await;
    let url = running.url();
    let origin = [("origin", "http://localhost:7400")];

    let (status, body) = post(&url, "/api/sessions/busy/dismiss", Some(LOCAL), &origin).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("FAILED_PRECONDITION")),
        "{body}"
    );
    let (status, body) = post(&url, "/api/sessions/nobody/dismiss", Some(LOCAL), &[]).await;
    assert_eq!((status, body["code"].as_str()), (404, Some("NOT_FOUND")));
    let (status, body) = post(&url, "/api/sessions/done1/launch", Some(LOCAL), &[]).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("NOT_FOUND")),
        "unknown action"
    );

    let (status, body) = post(&url, "/api/sessions/done1/dismiss", Some(LOCAL), &origin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "dismissed");
    assert!(!env.paths.sessions_dir().join("done1.json").exists());
    let gone = eventually(Duration::from_secs(10), || async {
        (!listed(&running, "done1")).then_some(())
    })
    .await;
    assert!(gone.is_some(), "the dismissed session leaves the list");

    let (status, body) = post(&url, "/api/sessions/done1/restore", Some(LOCAL), &[]).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("restored")), "{body}");
    let back = eventually(Duration::from_secs(10), || async {
        listed(&running, "done1").then_some(())
    })
    .await;
    assert!(back.is_some(), "the restored session is listed again");
    let (status, body) = post(&url, "/api/sessions/done1/restore", Some(LOCAL), &[]).await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("already_present")));

    assert_eq!(
        action_outcomes(&url).await,
        [
            ["dismiss", "failed"],
            ["dismiss", "refused"],
            ["launch", "refused"],
            ["dismiss", "dismissed"],
            ["restore", "restored"],
            ["restore", "already_present"],
        ]
    );
    assert!(env.paths.audit_log().exists());
    running.stop().await;
}

#[tokio::test]
async fn too_many_actions_get_429() {
    let env = TestEnv::new();
    let running = server(&env, Some("2")).await;
    let url = running.url();
    let mut codes = Vec::new();
    for _ in 0..3 {
        codes.push(post(&url, "/api/sessions/ghost/restore", Some(LOCAL), &[]).await.0);
    }
    assert_eq!(codes, [404, 404, 429]);
    let (status, body) = post(&url, "/api/sessions/ghost/restore", Some(LOCAL), &[]).await;
    assert_eq!((status, body["code"].as_str()), (429, Some("RESOURCE_EXHAUSTED")));
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        post(&url, "/api/sessions/ghost/restore", Some(LOCAL), &[]).await.0,
        404,
        "refilled"
    );
    running.stop().await;
}

async fn hook_register(url: &str, id: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .post(format!("{url}/api/hook/permission"))
        .bearer_auth(LOCAL)
        .json(&serde_json::json!({ "session_id": id }))
        .send()
        .await
        .expect("POST /api/hook/permission");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("JSON")
}

fn published_remote_approval(running: &Running, id: &str) -> Option<bool> {
    let state = running.state.current();
    let session = state.proto_sessions.iter().find(|s| s.session_id == id)?;
    Some(session.remote_approval)
}

#[tokio::test]
async fn remote_approval_lives_in_the_session_file_and_survives_a_server_restart() {
    let env = TestEnv::new();
    env.write_session("away.json", &session("away", "active"));
    env.write_session(
        "cx.json",
        r#"{"session_id":"cx","status":"active","agent":"codex","project_dir":"/work/cx"}"#,
    );
    let running = server(&env, None).await;
    let url = running.url();
    assert_eq!(hook_register(&url, "away").await["hold"], false, "off by default");

    let (status, body) = post_json(
        &url,
        "/api/sessions/away/remote_approval",
        serde_json::json!({"enabled": true}),
    )
    .await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("enabled")), "{body}");
    let file: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(env.paths.sessions_dir().join("away.json")).expect("session file"),
    )
    .expect("JSON");
    assert_eq!(file["remote_approval"], true, "the session file owns the switch");
    assert_eq!(file["project_dir"], "/work/away", "and keeps everything else");
    let shown = eventually(Duration::from_secs(10), || async {
        (published_remote_approval(&running, "away") == Some(true)).then_some(())
    })
    .await;
    assert!(shown.is_some(), "the published session shows remote_approval");
    let registered = hook_register(&url, "away").await;
    assert_eq!(registered["hold"], true, "{registered}");
    assert!(registered["request_id"].is_string());

    // Refusals: a Codex session (no PermissionRequest hook to hold), an unknown session, no "enabled".
    let (status, body) = post_json(
        &url,
        "/api/sessions/cx/remote_approval",
        serde_json::json!({"enabled": true}),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("FAILED_PRECONDITION")),
        "{body}"
    );
    let (status, _) = post_json(
        &url,
        "/api/sessions/ghost/remote_approval",
        serde_json::json!({"enabled": true}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post_json(&url, "/api/sessions/away/remote_approval", serde_json::json!({})).await;
    assert_eq!(status, 400);
    running.stop().await;

    // A new server process over the same data dir: still on.
    let running = server(&env, None).await;
    let url = running.url();
    assert_eq!(published_remote_approval(&running, "away"), Some(true));
    assert_eq!(
        hook_register(&url, "away").await["hold"],
        true,
        "still held after the restart"
    );
    let (status, body) = post_json(
        &url,
        "/api/sessions/away/remote_approval",
        serde_json::json!({"enabled": false}),
    )
    .await;
    assert_eq!((status, body["outcome"].as_str()), (200, Some("disabled")), "{body}");
    assert_eq!(hook_register(&url, "away").await["hold"], false);
    let file = std::fs::read_to_string(env.paths.sessions_dir().join("away.json")).expect("session file");
    assert!(!file.contains("remote_approval"), "{file}");
    assert_eq!(
        action_outcomes(&url).await,
        [
            ["remote_approval", "enabled"],
            ["remote_approval", "failed"],
            ["remote_approval", "refused"],
            ["remote_approval", "refused"],
            ["remote_approval", "disabled"],
        ]
    );
    running.stop().await;
}

async fn post_json(url: &str, path: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .post(format!("{url}{path}"))
        .bearer_auth(LOCAL)
        .json(&body)
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(serde_json::Value::Null))
}

#[tokio::test]
async fn accepted_acks_are_audited_like_every_other_action() {
    let env = TestEnv::new();
    env.write_session("w1.json", &session("w1", "needs_attention"));
    let running = server(&env, None).await;
    let url = running.url();

    let (status, body) = post(&url, "/api/sessions/w1/ack", Some(LOCAL), &[]).await;
    assert_eq!((status, body["acknowledged"].as_bool()), (200, Some(true)), "{body}");
    let mut grpc = running.grpc().await;
    let mut request = tonic::Request::new(amc::proto::AckRequest {
        session_id: "w1".into(),
    });
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {LOCAL}").parse().expect("metadata"));
    assert!(grpc.ack(request).await.expect("Ack").into_inner().acknowledged);
    let (status, _) = post(&url, "/api/sessions/ghost/ack", Some(LOCAL), &[]).await;
    assert_eq!(status, 404);
    let (status, _) = post(&url, "/api/sessions/w1/ack", Some(READER), &[]).await;
    assert_eq!(status, 403);

    let (_, log) = audit(&url, Some(LOCAL)).await;
    let entries = log["entries"].as_array().expect("entries");
    let lines: Vec<(&str, &str, &str, &str)> = entries
        .iter()
        .map(|e| {
            (
                e["session"].as_str().unwrap_or("?"),
                e["action"].as_str().unwrap_or("?"),
                e["outcome"].as_str().unwrap_or("?"),
                e["token"].as_str().unwrap_or("-"),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("w1", "ack", "acknowledged", "local"),
            ("w1", "ack", "acknowledged", "local"),
            ("ghost", "ack", "refused", "local"),
            ("w1", "ack", "refused", "ci"),
        ]
    );
    assert!(entries[1]["client"]
        .as_str()
        .is_some_and(|c| c.starts_with("127.0.0.1:")));
    running.stop().await;
}
