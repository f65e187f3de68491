//! `amc.v1.ActionService` end to end through tonic against the real server on 127.0.0.1:0: Decide allow and deny
//! reaching the waiting hook's request, two clients deciding at once (exactly one wins, the other gets
//! `already_answered`), SendText refusals (control characters, 1 MB), unknown sessions (NOT_FOUND) and token scopes
//! (UNAUTHENTICATED, PERMISSION_DENIED) on every RPC, each try in the audit log.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use amc::{proto as pb, server::auth::Access};
use pb::action_service_client::ActionServiceClient;
use support::{spawn_server_with_access, Running, TestEnv};
use tonic::{transport::Channel, Code};

const LOCAL: &str = "local-secret-0123456789abcdef";
const READER: &str = "reader-secret-0123";

async fn start(env: &TestEnv) -> Running {
    let mut config = env.config();
    config.tokens = amc::config::parse_tokens(&format!("ci:read:{READER}"));
    config.approvals_hold_always = true;
    config.approval_wait = Duration::from_secs(20);
    config.action_rate = 1000;
    let mut access = Access::from_config(&config, Some(LOCAL.into()), &[]);
    access.read_open = true;
    spawn_server_with_access(config, access).await
}

/// A client on a connection of its own.
async fn client(running: &Running) -> ActionServiceClient<Channel> {
    let channel = Channel::from_shared(running.url())
        .expect("url")
        .connect()
        .await
        .expect("connect");
    ActionServiceClient::new(channel)
}

fn with_token<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().expect("metadata"));
    }
    request
}

fn decide(session: &str, id: &str, behavior: pb::Behavior, message: Option<&str>) -> tonic::Request<pb::DecideRequest> {
    with_token(
        pb::DecideRequest {
            session_id: session.into(),
            request_id: id.into(),
            behavior: behavior.into(),
            message: message.map(str::to_owned),
        },
        Some(LOCAL),
    )
}

/// Registers a permission request of `session` as `amc hook` does and starts waiting on it; returns its id and the
/// decision the wait gets (`{"behavior", "message"}`, or null for none).
async fn held_request(running: &Running, session: &str) -> (String, tokio::task::JoinHandle<serde_json::Value>) {
    let http = reqwest::Client::new();
    let registered: serde_json::Value = http
        .post(format!("{}/api/hook/permission", running.url()))
        .bearer_auth(LOCAL)
        .json(&serde_json::json!({ "session_id": session }))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("JSON");
    let id = registered["request_id"].as_str().expect("held: an id").to_owned();
    let url = format!("{}/api/hook/permission/{id}/wait", running.url());
    let wait = tokio::spawn(async move {
        let response = http.post(url).bearer_auth(LOCAL).send().await.expect("wait");
        if response.status().as_u16() == 204 {
            serde_json::Value::Null
        } else {
            response.json().await.expect("JSON")
        }
    });
    (id, wait)
}

fn outcome<T>(
    response: Result<tonic::Response<T>, tonic::Status>,
    result: impl Fn(T) -> Option<pb::ActionResult>,
) -> String {
    result(response.expect("the call succeeds").into_inner())
        .expect("a result")
        .outcome
}

#[tokio::test]
async fn decide_allow_and_deny_reach_the_held_request_and_of_two_at_once_exactly_one_wins() {
    let env = TestEnv::new();
    let running = start(&env).await;
    let mut grpc = client(&running).await;

    let (id, wait) = held_request(&running, "s1").await;
    let done = grpc.decide(decide("s1", &id, pb::Behavior::Allow, None)).await;
    assert_eq!(outcome(done, |r| r.result), "delivered");
    assert_eq!(wait.await.expect("join")["behavior"], "allow");

    let (id, wait) = held_request(&running, "s1").await;
    let done = grpc
        .decide(decide("s1", &id, pb::Behavior::Deny, Some("not on a Friday")))
        .await;
    assert_eq!(outcome(done, |r| r.result), "delivered");
    let got = wait.await.expect("join");
    assert_eq!(
        (got["behavior"].as_str(), got["message"].as_str()),
        (Some("deny"), Some("not on a Friday"))
    );

    // Two clients on two connections decide the same request at once, round after round: exactly one wins.
    let (mut a, mut b) = (client(&running).await, client(&running).await);
    for round in 0..10 {
        let (id, wait) = held_request(&running, "s1").await;
        let (first, second) = tokio::join!(
            a.decide(decide("s1", &id, pb::Behavior::Allow, None)),
            b.decide(decide("s1", &id, pb::Behavior::Deny, Some("b says no"))),
        );
        let outcomes = [outcome(first, |r| r.result), outcome(second, |r| r.result)];
        let winner = match outcomes.each_ref().map(String::as_str) {
            ["delivered", "already_answered"] => "allow",
            ["already_answered", "delivered"] => "deny",
            other => panic!("round {round}: {other:?}"),
        };
        assert_eq!(
            wait.await.expect("join")["behavior"],
            winner,
            "round {round}: the hook got the winner's"
        );
        let late = grpc.decide(decide("s1", &id, pb::Behavior::Allow, None)).await;
        assert_eq!(outcome(late, |r| r.result), "already_answered");
    }

    // Another session's request, an unknown one, no behavior.
    let (id, wait) = held_request(&running, "s1").await;
    let status = grpc
        .decide(decide("s2", &id, pb::Behavior::Allow, None))
        .await
        .expect_err("not s2's");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let status = grpc
        .decide(decide("s1", "no-such-request", pb::Behavior::Allow, None))
        .await
        .expect_err("unknown");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    let status = grpc
        .decide(decide("s1", &id, pb::Behavior::Unspecified, None))
        .await
        .expect_err("no behavior");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let done = grpc.decide(decide("s1", &id, pb::Behavior::Allow, None)).await;
    assert_eq!(
        outcome(done, |r| r.result),
        "delivered",
        "the refusals left the request pending"
    );
    assert_eq!(wait.await.expect("join")["behavior"], "allow");

    let audit = amc::server::audit::read_tail(&env.paths.audit_log(), 1000);
    let decides: Vec<&str> = audit
        .iter()
        .filter(|l| l["action"] == "decide")
        .filter_map(|l| l["outcome"].as_str())
        .collect();
    assert_eq!(decides.len(), 2 + 10 * 3 + 4);
    assert_eq!(decides.iter().filter(|o| **o == "delivered").count(), 2 + 10 + 1);
    assert_eq!(decides.iter().filter(|o| **o == "already_answered").count(), 10 * 2);
    assert_eq!(decides.iter().filter(|o| **o == "refused").count(), 3);
    running.stop().await;
}

#[tokio::test]
async fn refusals_unknown_sessions_and_scopes_on_every_rpc() {
    let env = TestEnv::new();
    env.write_session(
        "s1.json",
        r#"{"session_id":"s1","status":"active","agent":"claude","project_dir":"/p","zellij_session":"z","zellij_pane":"1"}"#,
    );
    let running = start(&env).await;
    let mut grpc = client(&running).await;
    let send = |id: &str, text: &str, token| {
        with_token(
            pb::SendTextRequest {
                session_id: id.into(),
                text: text.into(),
            },
            token,
        )
    };

    for bad in ["\u{1b}[2J", "a\rb", "tab\tbed", "nul\0", "c1\u{9b}x", "   "] {
        let status = grpc.send_text(send("s1", bad, Some(LOCAL))).await.expect_err("refused");
        assert_eq!(status.code(), Code::InvalidArgument, "{bad:?}: {status:?}");
    }
    let megabyte = "x".repeat(1 << 20);
    let status = grpc
        .send_text(send("s1", &megabyte, Some(LOCAL)))
        .await
        .expect_err("1 MB");
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(status.message().contains("1048576 bytes"), "{status:?}");

    // An unknown session, for every action that needs one listed.
    let ghost = "ghost";
    let codes = [
        grpc.send_text(send(ghost, "hi", Some(LOCAL))).await.map(|_| ()),
        grpc.answer(with_token(
            pb::AnswerRequest {
                session_id: ghost.into(),
                options: vec![1],
                text: String::new(),
            },
            Some(LOCAL),
        ))
        .await
        .map(|_| ()),
        grpc.dismiss(with_token(
            pb::DismissRequest {
                session_id: ghost.into(),
            },
            Some(LOCAL),
        ))
        .await
        .map(|_| ()),
        grpc.restore(with_token(
            pb::RestoreRequest {
                session_id: ghost.into(),
            },
            Some(LOCAL),
        ))
        .await
        .map(|_| ()),
        grpc.set_remote_approval(with_token(
            pb::SetRemoteApprovalRequest {
                session_id: ghost.into(),
                enabled: true,
            },
            Some(LOCAL),
        ))
        .await
        .map(|_| ()),
        grpc.focus(with_token(
            pb::FocusRequest {
                session_id: ghost.into(),
            },
            Some(LOCAL),
        ))
        .await
        .map(|_| ()),
    ];
    for (i, result) in codes.into_iter().enumerate() {
        assert_eq!(result.expect_err("unknown session").code(), Code::NotFound, "rpc {i}");
    }
    let status = grpc
        .dismiss(with_token(
            pb::DismissRequest {
                session_id: "../etc".into(),
            },
            Some(LOCAL),
        ))
        .await
        .expect_err("unsafe id");
    assert_eq!(status.code(), Code::InvalidArgument);

    // Scopes: no token, a wrong one, a read token; on every RPC.
    for (token, code) in [
        (None, Code::Unauthenticated),
        (Some("wrong-secret-0123"), Code::Unauthenticated),
        (Some(READER), Code::PermissionDenied),
    ] {
        let results = [
            grpc.decide(with_token(
                pb::DecideRequest {
                    session_id: "s1".into(),
                    request_id: "r".into(),
                    behavior: pb::Behavior::Allow.into(),
                    message: None,
                },
                token,
            ))
            .await
            .map(|_| ()),
            grpc.send_text(send("s1", "hi", token)).await.map(|_| ()),
            grpc.answer(with_token(
                pb::AnswerRequest {
                    session_id: "s1".into(),
                    options: vec![1],
                    text: String::new(),
                },
                token,
            ))
            .await
            .map(|_| ()),
            grpc.dismiss(with_token(
                pb::DismissRequest {
                    session_id: "s1".into(),
                },
                token,
            ))
            .await
            .map(|_| ()),
            grpc.restore(with_token(
                pb::RestoreRequest {
                    session_id: "s1".into(),
                },
                token,
            ))
            .await
            .map(|_| ()),
            grpc.set_remote_approval(with_token(
                pb::SetRemoteApprovalRequest {
                    session_id: "s1".into(),
                    enabled: true,
                },
                token,
            ))
            .await
            .map(|_| ()),
            grpc.focus(with_token(
                pb::FocusRequest {
                    session_id: "s1".into(),
                },
                token,
            ))
            .await
            .map(|_| ()),
        ];
        for (i, result) in results.into_iter().enumerate() {
            assert_eq!(result.expect_err("refused").code(), code, "{token:?}, rpc {i}");
        }
    }
    let file = std::fs::read_to_string(env.paths.sessions_dir().join("s1.json")).expect("session file");
    assert!(!file.contains("remote_approval"), "no refused call changed anything");

    let audit = amc::server::audit::read_tail(&env.paths.audit_log(), 1000);
    assert_eq!(audit.len(), 7 + 7 + 3 * 7, "every try is audited");
    let scoped: Vec<(&str, &str)> = audit[14..]
        .iter()
        .map(|l| (l["action"].as_str().unwrap_or("?"), l["token"].as_str().unwrap_or("-")))
        .collect();
    assert_eq!(
        scoped[..7].iter().map(|(a, _)| *a).collect::<Vec<_>>(),
        [
            "decide",
            "send_text",
            "answer",
            "dismiss",
            "restore",
            "remote_approval",
            "focus"
        ]
    );
    assert!(scoped[14..].iter().all(|(_, t)| *t == "ci"), "{scoped:?}");
    assert!(audit
        .iter()
        .all(|l| l["outcome"] == "refused" || l["outcome"] == "failed"));
    running.stop().await;
}
