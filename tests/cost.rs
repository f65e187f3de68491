//! Cost, rate limits and the statusLine capture end to end: real-shaped transcripts (the pinned Claude Code's
//! `cost-state`, a Codex 0.104 rollout with `rate_limits`), the real `amc statusline` binary with a pass-through
//! command, and the real server answering GetState, GetUsage and `GET /api/usage`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::Arc,
    time::Duration,
};

use amc::{config::prices::PriceTable, proto as pb};
use serde_json::{json, Value};
use support::{spawn_server, TestEnv};

const AMC: &str = env!("CARGO_BIN_EXE_amc");
const CLAUDE_ID: &str = "33333333-3333-4333-8333-333333333333";
const CODEX_ID: &str = "019c8f2e-0000-7000-8000-000000000104";

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/transcripts")
        .join(name)
}

/// A Claude session on the pinned 2.1.331 transcript (with its `cost-state` line) and a Codex session on a 0.104
/// rollout (with `rate_limits`).
fn sessions(env: &TestEnv) {
    let claude = env
        .home()
        .join(".claude/projects/-w")
        .join(format!("{CLAUDE_ID}.jsonl"));
    std::fs::create_dir_all(claude.parent().unwrap()).unwrap();
    std::fs::copy(fixture("claude-2.1.331.jsonl"), &claude).unwrap();
    env.write_session(
        &format!("{CLAUDE_ID}.json"),
        &json!({"session_id": CLAUDE_ID, "agent": "claude", "status": "active", "project_dir": "/w",
            "transcript_path": claude, "last_event_at": "2026-12-05T10:00:00Z"})
        .to_string(),
    );
    let codex = env.home().join("rollout.jsonl");
    std::fs::copy(fixture("codex-0.104.jsonl"), &codex).unwrap();
    env.write_session(
        &format!("{CODEX_ID}.json"),
        &json!({"session_id": CODEX_ID, "agent": "codex", "status": "done", "project_dir": "/c",
            "transcript_path": codex})
        .to_string(),
    );
}

/// A statusLine input in the pinned Claude Code's shape.
fn statusline_input() -> Value {
    json!({
        "session_id": CLAUDE_ID, "transcript_path": "/t.jsonl", "cwd": "/w",
        "model": {"id": "claude-opus-5-5", "display_name": "Opus 5.5"},
        "workspace": {"current_dir": "/w", "project_dir": "/w"},
        "version": "2.1.331",
        "cost": {"total_cost_usd": 2.5, "total_duration_ms": 1, "total_api_duration_ms": 1,
                 "total_lines_added": 0, "total_lines_removed": 0},
        "context_window": {"total_input_tokens": 300000, "total_output_tokens": 10, "context_window_size": 1000000,
            "used_percentage": 30, "remaining_percentage": 70,
            "current_usage": {"input_tokens": 1000, "output_tokens": 10, "cache_creation_input_tokens": 9000,
                "cache_read_input_tokens": 290000}},
        "rate_limits": {"five_hour": {"used_percentage": 42, "resets_at": 4_102_444_800_i64},
                        "seven_day": {"used_percentage": 12, "resets_at": 1_000_000_000}}
    })
}

fn statusline(env: &TestEnv, then: Option<&str>, input: &[u8]) -> (String, Duration) {
    let mut command = Command::new(AMC);
    command
        .env_clear()
        .env("HOME", env.home())
        .env("AMC_DATA_DIR", &env.paths.data_dir)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .arg("statusline")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    if let Some(then) = then {
        command.args(["--then", then]);
    }
    let started = std::time::Instant::now();
    let mut child = command.spawn().expect("run amc statusline");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "statusline always exits 0");
    (String::from_utf8_lossy(&output.stdout).into_owned(), started.elapsed())
}

#[test]
fn statusline_records_and_passes_its_stdin_through() {
    let env = TestEnv::new();
    sessions(&env);
    let input = statusline_input().to_string();
    // The user's previous command sees the very same stdin and its output is what is printed.
    let (out, took) = statusline(&env, Some("wc -c"), input.as_bytes());
    assert_eq!(out.trim(), input.len().to_string());
    assert!(took < Duration::from_secs(2), "statusline took {took:?}");
    let file: Value =
        serde_json::from_slice(&std::fs::read(env.paths.sessions_dir().join(format!("{CLAUDE_ID}.json"))).unwrap())
            .unwrap();
    let capture = &file["statusline"];
    assert_eq!(capture["window_tokens"], 1_000_000);
    assert_eq!(capture["current_tokens"], 300_000);
    assert_eq!(capture["cost_usd"], 2.5);
    assert_eq!(capture["rate_limits"][0]["name"], "five_hour");
    // amc's own line; a failing --then command falls back to it; bad input still prints and exits 0.
    let (own, _) = statusline(&env, None, input.as_bytes());
    assert_eq!(own.trim(), "Opus 5.5 · ctx 30% of 1000k · $2.50 · 5h 42% · 7d 12%");
    let (fallback, _) = statusline(&env, Some("exit 7"), input.as_bytes());
    assert_eq!(fallback, own);
    let (garbage, _) = statusline(&env, None, b"{not json");
    assert_eq!(garbage.trim(), "amc");
    // A session without a session file is not created.
    let stranger = json!({"session_id": "44444444-4444-4444-8444-444444444444", "version": "2.1.331"});
    statusline(&env, None, stranger.to_string().as_bytes());
    assert!(!env
        .paths
        .sessions_dir()
        .join("44444444-4444-4444-8444-444444444444.json")
        .exists());
}

async fn state_of(running: &support::Running) -> pb::State {
    let response = running
        .grpc()
        .await
        .get_state(pb::GetStateRequest::default())
        .await
        .unwrap();
    response.into_inner().state.unwrap()
}

#[tokio::test]
async fn cost_rate_limits_and_usage_over_grpc_and_http() {
    let env = TestEnv::new();
    sessions(&env);
    let mut config = env.config();
    // gpt-5.3-codex is not in the built-in table: first "unknown_model", then priced by a user row.
    let running = spawn_server(config.clone()).await;
    let state = state_of(&running).await;
    let by_id = |id: &str| state.sessions.iter().find(|s| s.session_id == id).cloned().unwrap();
    let claude = by_id(CLAUDE_ID);
    let cost = claude.cost.expect("claude cost");
    assert_eq!((cost.usd, cost.source.as_str()), (Some(1.93), "cost_state"));
    let codex = by_id(CODEX_ID);
    let cost = codex.cost.expect("codex cost");
    assert_eq!((cost.usd, cost.source.as_str()), (None, "unknown_model"));
    assert_eq!(cost.unknown_models, vec!["gpt-5.3-codex".to_owned()]);
    assert_eq!(cost.tokens, 135_959 + 545);
    let limits: Vec<_> = codex
        .rate_limits
        .iter()
        .map(|l| (l.name.as_str(), l.used_percent))
        .collect();
    assert_eq!(limits, vec![("primary", 7.0), ("secondary", 11.0)]);
    // The resets of this 2026-02 rollout are long past.
    assert!(codex.rate_limits.iter().all(|l| l.expired));
    assert_eq!(state.rate_limits.len(), 2);
    running.stop().await;

    let prices = env.home().join("prices.toml");
    std::fs::write(
        &prices,
        "[[model]]\nid = \"gpt-5.3-codex\"\ninput = 2.0\ncached_input = 0.2\noutput = 10.0\nsource = \"test\"\ndate = \"2026-12-05\"\n",
    )
    .unwrap();
    config.prices = Arc::new(PriceTable::with_file(&prices).unwrap());
    // The statusLine capture: exact window, and the Claude rate limits.
    statusline(&env, None, statusline_input().to_string().as_bytes());
    let running = spawn_server(config).await;
    let state = state_of(&running).await;
    let by_id = |id: &str| state.sessions.iter().find(|s| s.session_id == id).cloned().unwrap();
    let codex_usd = (135_959.0 - 90_624.0) * 2.0 / 1e6 + 90_624.0 * 0.2 / 1e6 + 545.0 * 10.0 / 1e6;
    let cost = by_id(CODEX_ID).cost.unwrap();
    assert_eq!(cost.source, "price_table");
    assert!((cost.usd.unwrap() - codex_usd).abs() < 1e-6, "{cost:?}");
    let claude = by_id(CLAUDE_ID);
    // One reply (a message split over two lines): one sample, its context 2 + 21 000.
    let history: Vec<_> = claude.context_history.iter().map(|s| s.tokens).collect();
    assert_eq!(history, vec![21_002]);
    let usage = claude.context_usage.unwrap();
    assert_eq!(usage.window_source, pb::WindowSource::Statusline as i32);
    assert_eq!((usage.window_tokens, usage.current_tokens), (1_000_000, Some(300_000)));
    let limits: Vec<_> = claude
        .rate_limits
        .iter()
        .map(|l| (l.agent.as_str(), l.name.as_str(), l.expired))
        .collect();
    assert_eq!(
        limits,
        vec![("claude", "five_hour", false), ("claude", "seven_day", true)]
    );

    let usage = running
        .grpc()
        .await
        .get_usage(pb::GetUsageRequest {})
        .await
        .unwrap()
        .into_inner();
    let total = usage.total.unwrap();
    assert_eq!(total.sessions, 2);
    assert!((total.usd - (1.93 + codex_usd)).abs() < 1e-6, "{total:?}");
    assert_eq!(usage.by_project.len(), 2);
    assert_eq!(usage.by_project[0].project_dir, "/w");
    assert_eq!(usage.rate_limits.len(), 4);

    let json: Value = reqwest::get(format!("{}/api/usage", running.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["total"]["sessions"], 2);
    assert_eq!(json["by_project"][0]["project_dir"], "/w");
    let api: Value = reqwest::get(format!("{}/api/state", running.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claude_json = api["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["session_id"] == CLAUDE_ID)
        .unwrap();
    assert_eq!(claude_json["cost"]["source"], "cost_state");
    assert_eq!(claude_json["context_usage"]["window_source"], "statusline");

    // `amc usage` asks the server.
    let addr = running.addr.to_string();
    let home = env.home().to_path_buf();
    let data = env.paths.data_dir.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(AMC)
            .env_clear()
            .env("HOME", home)
            .env("AMC_DATA_DIR", data)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["usage", "--server", &addr])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("2 session(s)"), "{text}");
    assert!(text.contains("claude five_hour (300 min): 42% used"), "{text}");
    running.stop().await;
}
