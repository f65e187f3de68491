//! `amc.v1.ActionService` over real gRPC (and `POST /api/sessions/{id}/{action}`) against the real server, with a fake
//! `zellij` that records its arguments: SendText and Answer type into the session's own pane with `--pane-id`, the
//! two-step Enter, Focus on the session's own pane, refusals (control characters, 1 MB, an old or hanging Zellij, a gone pane, no question pending),
//! Decide on an unknown request, and token scopes on gRPC.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{path::PathBuf, time::Duration};

use amc::{proto as pb, server::auth::Access};
use support::{spawn_server_with_access, Running, TestEnv};
use tonic::{transport::Channel, Code};

const LOCAL: &str = "local-secret-0123456789abcdef";
const READER: &str = "reader-secret-0123";

/// A fake zellij: `list-sessions` lists `z`, `--version` prints `version`'s content, `… --help` exits with `help`'s
/// content (0: the subcommand exists), every other action appends its arguments (one per line, then `--`) to `calls`, exits with `exit`'s content and first sleeps `sleep` seconds.
struct FakeZellij {
    dir: PathBuf,
}

impl FakeZellij {
    fn install(env: &mut TestEnv) -> FakeZellij {
        let dir = env.home().join("fake-zellij");
        std::fs::create_dir_all(&dir).expect("dir");
        let bin = dir.join("zellij");
        let d = dir.display();
        support::write_executable(
            &bin,
            format!(
                "#!/bin/sh\ncase \"$1\" in\n  list-sessions) echo 'z [Created 1h ago]'; exit 0;;\n  \
                 --version) cat '{d}/version'; exit 0;;\nesac\ncase \"$*\" in\n  *--help) exit \"$(cat '{d}/help')\";;\nesac\nsleep \"$(cat '{d}/sleep')\"\n\
                 for a in \"$@\"; do printf '%s\\n' \"$a\" >> '{d}/calls'; done\necho -- >> '{d}/calls'\n\
                 exit \"$(cat '{d}/exit')\"\n"
            ),
        );
        let fake = FakeZellij { dir };
        fake.set("version", "zellij 0.45.1\n");
        fake.set("sleep", "0");
        fake.set("exit", "0");
        fake.set("help", "0");
        env.paths.zellij_bin = Some(bin);
        fake
    }

    fn set(&self, name: &str, content: &str) {
        std::fs::write(self.dir.join(name), content).expect("write fake setting");
    }

    /// Each action's arguments.
    fn calls(&self) -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(self.dir.join("calls")).unwrap_or_default();
        text.split("--\n")
            .filter(|c| !c.is_empty())
            .map(|c| c.lines().map(str::to_owned).collect())
            .collect()
    }
}

async fn start(env: &TestEnv) -> Running {
    let mut config = env.config();
    config.tokens = amc::config::parse_tokens(&format!("ci:read:{READER}"));
    let mut access = Access::from_config(&config, Some(LOCAL.into()), &[]);
    access.read_open = true;
    let running = spawn_server_with_access(config, access).await;
    running
}

fn session(id: &str, pane: &str, attention: Option<&str>) -> String {
    let mut s = serde_json::json!({"session_id": id, "status": "active", "agent": "claude", "project_dir": "/p",
        "zellij_session": "z", "zellij_pane": pane});
    if let Some(kind) = attention {
        s["status"] = "needs_attention".into();
        s["attention"] = serde_json::json!({"kind": kind, "since": "2026-12-05T18:00:00Z", "event": "PreToolUse",
            "tool_name": "AskUserQuestion"});
    }
    s.to_string()
}

async fn client(running: &Running) -> pb::action_service_client::ActionServiceClient<Channel> {
    pb::action_service_client::ActionServiceClient::connect(running.url())
        .await
        .expect("connect")
}

fn with_token<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().expect("metadata"));
    request
}

fn send_text(id: &str, text: &str) -> pb::SendTextRequest {
    pb::SendTextRequest {
        session_id: id.into(),
        text: text.into(),
    }
}

#[tokio::test]
async fn send_text_types_into_the_sessions_own_pane_then_enter() {
    let mut env = TestEnv::new();
    let fake = FakeZellij::install(&mut env);
    env.write_session("s1.json", &session("s1", "3", None));
    let running = start(&env).await;
    let mut grpc = client(&running).await;

    let result = grpc
        .send_text(with_token(send_text("s1", "run the tests — ✓"), LOCAL))
        .await
        .expect("SendText")
        .into_inner()
        .result
        .expect("a result");
    assert_eq!(
        (result.outcome.as_str(), result.action.as_str()),
        ("delivered", "send_text")
    );
    let calls = fake.calls();
    assert_eq!(
        calls,
        [
            [
                "--session",
                "z",
                "action",
                "write-chars",
                "--pane-id",
                "3",
                "run the tests — ✓"
            ],
            ["--session", "z", "action", "send-keys", "--pane-id", "3", "Enter"],
        ]
    );

    // Refusals, none of which types anything.
    let refused = |text: &str| with_token(send_text("s1", text), LOCAL);
    for bad in ["\u{1b}[2J", "line\nbreak", ""] {
        let status = grpc.send_text(refused(bad)).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{bad:?}: {status:?}");
    }
    let status = grpc.send_text(refused(&"x".repeat(1 << 20))).await.expect_err("1 MB");
    assert_eq!(status.code(), Code::InvalidArgument);
    let status = grpc
        .send_text(with_token(send_text("ghost", "hi"), LOCAL))
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound);
    let status = grpc.send_text(send_text("s1", "hi")).await.expect_err("no token");
    assert_eq!(status.code(), Code::Unauthenticated);
    let status = grpc
        .send_text(with_token(send_text("s1", "hi"), READER))
        .await
        .expect_err("read token");
    assert_eq!(status.code(), Code::PermissionDenied);
    assert_eq!(fake.calls().len(), 2, "nothing more was typed");

    // The same over HTTP.
    let response = reqwest::Client::new()
        .post(format!("{}/api/sessions/s1/send_text", running.url()))
        .bearer_auth(LOCAL)
        .json(&serde_json::json!({"text": "go on"}))
        .send()
        .await
        .expect("POST");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["outcome"], "delivered", "{body}");
    assert_eq!(fake.calls()[2].last().map(String::as_str), Some("go on"));

    // A pane Zellij no longer has.
    fake.set("exit", "1");
    let result = grpc
        .send_text(refused("hello"))
        .await
        .expect("SendText")
        .into_inner()
        .result
        .expect("a result");
    assert_eq!(result.outcome, "pane_gone");

    // An old Zellij cannot aim at a pane: refused, nothing typed.
    fake.set("exit", "0");
    fake.set("version", "zellij 0.43.1\n");
    let typed = fake.calls().len();
    let status = grpc.send_text(refused("hello")).await.expect_err("old zellij");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(status.message().contains("0.44"));
    assert_eq!(fake.calls().len(), typed);

    // A hanging Zellij costs at most its timeout.
    fake.set("version", "zellij 0.45.1\n");
    fake.set("sleep", "30");
    let started = std::time::Instant::now();
    let status = grpc.send_text(refused("hello")).await.expect_err("hung zellij");
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());

    // Every try is in the audit log with what was asked (text cut short), never the token.
    let audit = amc::server::audit::read_tail(&env.paths.audit_log(), 100);
    let outcomes: Vec<&str> = audit.iter().filter_map(|l| l["outcome"].as_str()).collect();
    assert_eq!(
        outcomes,
        [
            "delivered",
            "refused",
            "refused",
            "refused",
            "refused",
            "refused",
            "refused",
            "refused",
            "delivered",
            "pane_gone",
            "failed",
            "failed"
        ]
    );
    assert_eq!(audit[0]["args"]["text"], "run the tests — ✓");
    assert_eq!(audit[4]["args"]["bytes"], 1 << 20);
    running.stop().await;
}

#[tokio::test]
async fn answer_types_the_options_only_while_a_question_waits_and_decide_needs_a_known_request() {
    let mut env = TestEnv::new();
    let fake = FakeZellij::install(&mut env);
    env.write_session("q.json", &session("q", "5", Some("question")));
    env.write_session("idle.json", &session("idle", "6", None));
    let running = start(&env).await;
    let mut grpc = client(&running).await;
    let answer = |id: &str, options: Vec<u32>, text: &str| {
        with_token(
            pb::AnswerRequest {
                session_id: id.into(),
                options,
                text: text.into(),
            },
            LOCAL,
        )
    };

    let result = grpc
        .answer(answer("q", vec![2], ""))
        .await
        .expect("Answer")
        .into_inner()
        .result
        .expect("a result");
    assert_eq!(result.outcome, "delivered");
    let result = grpc
        .answer(answer("q", vec![1, 3], ""))
        .await
        .expect("Answer")
        .into_inner()
        .result
        .expect("a result");
    assert_eq!(result.outcome, "delivered");
    let result = grpc
        .answer(answer("q", vec![], "blue, please"))
        .await
        .expect("Answer")
        .into_inner()
        .result
        .expect("a result");
    assert_eq!(result.outcome, "delivered");
    let keys: Vec<(String, String)> = fake.calls().iter().map(|c| (c[3].clone(), c[6].clone())).collect();
    let pairs: Vec<(&str, &str)> = keys.iter().map(|(a, k)| (a.as_str(), k.as_str())).collect();
    assert_eq!(
        pairs,
        [
            ("send-keys", "2"),
            ("send-keys", "1"),
            ("send-keys", "3"),
            ("send-keys", "Enter"),
            ("write-chars", "blue, please"),
            ("send-keys", "Enter"),
        ]
    );
    assert!(fake.calls().iter().all(|c| c[5] == "5"), "only the question's pane");

    let result = grpc
        .answer(answer("idle", vec![1], ""))
        .await
        .expect("Answer")
        .into_inner()
        .result
        .expect("a result");
    assert_eq!(result.outcome, "already_answered", "no question pending: nothing typed");
    for bad in [
        answer("q", vec![], ""),
        answer("q", vec![0], ""),
        answer("q", vec![1], "and text"),
    ] {
        assert_eq!(
            grpc.answer(bad).await.expect_err("refused").code(),
            Code::InvalidArgument
        );
    }
    assert_eq!(fake.calls().len(), 6);

    let decide = |request_id: &str, behavior: pb::Behavior| {
        with_token(
            pb::DecideRequest {
                session_id: "q".into(),
                request_id: request_id.into(),
                behavior: behavior.into(),
                message: None,
            },
            LOCAL,
        )
    };
    let status = grpc
        .decide(decide("nope", pb::Behavior::Allow))
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound);
    let status = grpc
        .decide(decide("r", pb::Behavior::Unspecified))
        .await
        .expect_err("no behavior");
    assert_eq!(status.code(), Code::InvalidArgument);
    running.stop().await;
}

#[tokio::test]
async fn focus_aims_at_the_sessions_own_pane_and_an_old_zellij_is_refused() {
    let mut env = TestEnv::new();
    let fake = FakeZellij::install(&mut env);
    env.write_session("s1.json", &session("s1", "7", None));
    let running = start(&env).await;
    let mut grpc = client(&running).await;
    let focus = |id: &str| with_token(pb::FocusRequest { session_id: id.into() }, LOCAL);

    let result = grpc
        .focus(focus("s1"))
        .await
        .expect("Focus")
        .into_inner()
        .result
        .expect("a result");
    assert_eq!((result.action.as_str(), result.outcome.as_str()), ("focus", "focused"));
    assert_eq!(result.detail, "zellij session z pane 7");
    assert_eq!(fake.calls(), [["--session", "z", "action", "focus-pane-id", "7"]]);

    // Over HTTP too; a pane Zellij no longer has.
    fake.set("exit", "2");
    let response = reqwest::Client::new()
        .post(format!("{}/api/sessions/s1/focus", running.url()))
        .bearer_auth(LOCAL)
        .send()
        .await
        .expect("POST");
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["outcome"], "pane_gone", "{body}");
    assert_eq!(fake.calls().len(), 2);

    // A Zellij without `action focus-pane-id` (before 0.44.1): refused, nothing run.
    fake.set("exit", "0");
    fake.set("help", "2");
    fake.set("version", "zellij 0.43.1\n");
    let status = grpc.focus(focus("s1")).await.expect_err("old zellij");
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("focus-pane-id") && status.message().contains("0.43.1"),
        "{status:?}"
    );
    assert_eq!(fake.calls().len(), 2);

    let status = grpc.focus(focus("ghost")).await.expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound);
    let status = grpc
        .focus(with_token(
            pb::FocusRequest {
                session_id: "s1".into(),
            },
            READER,
        ))
        .await
        .expect_err("read token");
    assert_eq!(status.code(), Code::PermissionDenied);

    let audit = amc::server::audit::read_tail(&env.paths.audit_log(), 100);
    let lines: Vec<(&str, &str)> = audit
        .iter()
        .map(|l| {
            (
                l["action"].as_str().unwrap_or("?"),
                l["outcome"].as_str().unwrap_or("?"),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("focus", "focused"),
            ("focus", "pane_gone"),
            ("focus", "failed"),
            ("focus", "refused"),
            ("focus", "refused"),
        ]
    );
    running.stop().await;
}
