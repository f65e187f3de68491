//! Notifications end to end: the real server and notifier, session files as the hook writes them, and local fakes for
//! what cannot run here (an HTTP receiver standing in for the webhook and ntfy servers, a `notify-send` script).
//! The webhook signature is checked by Python's `hmac`, an independent implementation.

// Test code: a failed unwrap or expect is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    net::SocketAddr,
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use amc::config::{Config, DesktopMode, NtfyConfig, WebhookConfig};
use axum::{body::Bytes, extract::State, http::HeaderMap, routing::post, Router};
use support::{eventually, spawn_server, TestEnv};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: String,
    /// When it arrived, in milliseconds since the epoch.
    at_ms: i64,
}

/// A local HTTP receiver: records every POST and answers with the current status.
#[derive(Clone)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    status: Arc<AtomicU16>,
    addr: SocketAddr,
}

impl Receiver {
    async fn start_on(addr: SocketAddr) -> Receiver {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind receiver");
        let receiver = Receiver {
            got: Arc::default(),
            status: Arc::new(AtomicU16::new(200)),
            addr: listener.local_addr().unwrap(),
        };
        let app = Router::new()
            .route("/{*path}", post(record))
            .with_state(receiver.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        receiver
    }

    async fn start() -> Receiver {
        Self::start_on("127.0.0.1:0".parse().unwrap()).await
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}/{path}", self.addr)
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Received> {
        eventually(limit, || async {
            let got = self.received();
            (got.len() >= count).then_some(got)
        })
        .await
        .unwrap_or_else(|| panic!("expected {count} requests, got {:?}", self.received()))
    }
}

async fn record(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> axum::http::StatusCode {
    receiver.got.lock().unwrap().push(Received {
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        at_ms: amc::publisher::now_ms(),
    });
    axum::http::StatusCode::from_u16(receiver.status.load(Ordering::SeqCst)).unwrap()
}

fn session(id: &str, status: &str) -> String {
    let attention = if status == "needs_attention" {
        r#","attention":{"kind":"permission","since":"2026-01-01T00:00:00Z","message":"Bash: rm -rf build"}"#
    } else {
        ""
    };
    format!(r#"{{"session_id":"{id}","status":"{status}","agent":"claude","project_dir":"/work/{id}"{attention}}}"#)
}

fn with_webhook(env: &TestEnv, url: String, dwell_ms: u64) -> Config {
    let mut config = env.config();
    config.notify.dwell = Duration::from_millis(dwell_ms);
    config.notify.webhook = Some(WebhookConfig {
        url,
        secret: amc::config::notify::decode_secret(SECRET).unwrap(),
        timeout: Duration::from_secs(2),
    });
    config
}

fn header<'a>(r: &'a Received, name: &str) -> &'a str {
    r.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default()
}

/// Verifies the Standard Webhooks signature with Python's hmac (the spec's algorithm, written independently).
fn python_verifies(r: &Received) -> bool {
    let script = r#"
import base64, hashlib, hmac, sys
secret, msg_id, timestamp, signature = sys.argv[1:5]
body = sys.stdin.buffer.read()
key = base64.b64decode(secret.split("_", 1)[1])
expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()).decode()
ok = any(hmac.compare_digest(s.split(",", 1)[1], expected) for s in signature.split(" ") if s.startswith("v1,"))
sys.exit(0 if ok else 1)
"#;
    use std::io::Write as _;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            script,
            SECRET,
            header(r, "webhook-id"),
            header(r, "webhook-timestamp"),
            header(r, "webhook-signature"),
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child.stdin.take().unwrap().write_all(r.body.as_bytes()).unwrap();
    child.wait().unwrap().success()
}

#[tokio::test]
async fn a_held_attention_is_posted_signed_once_and_withdrawn_and_a_quick_answer_sends_nothing() {
    let receiver = Receiver::start().await;
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active"));
    env.write_session("b.json", &session("b", "active"));
    let running = spawn_server(with_webhook(&env, receiver.url("hook"), 300)).await;

    // b is answered within the dwell: nothing is sent for it. a waits: one signed POST after the dwell.
    env.write_session("b.json", &session("b", "needs_attention"));
    env.write_session("a.json", &session("a", "needs_attention"));
    tokio::time::sleep(Duration::from_millis(50)).await;
    env.write_session("b.json", &session("b", "active"));
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    let raised = &got[0];
    assert!(python_verifies(raised), "signature {:?}", raised.headers);
    assert!(header(raised, "webhook-id").starts_with("evt_"));
    let body: serde_json::Value = serde_json::from_str(&raised.body).unwrap();
    assert_eq!(body["type"], "attention.raised");
    assert_eq!(body["data"]["session_id"], "a");
    assert_eq!(body["data"]["attention_kind"], "permission");
    assert!(body["data"]["dashboard_url"].as_str().unwrap().starts_with("http://"));
    // It left within 100 ms after the dwell (300 ms) that started when the event was published.
    let late = raised.at_ms - body["data"]["time_ms"].as_i64().unwrap() - 300;
    println!("notification {late} ms after the dwell ended");
    assert!(late < 100, "{late} ms after the dwell");
    // A tampered body fails the independent check.
    let mut tampered = raised.clone();
    tampered.body = tampered.body.replace("\"a\"", "\"x\"");
    assert!(!python_verifies(&tampered));

    // Cleared: the receiver is told (withdraw). Raised again within the cooldown: nothing more.
    env.write_session("a.json", &session("a", "active"));
    let got = receiver.wait_for(2, Duration::from_secs(5)).await;
    let cleared: serde_json::Value = serde_json::from_str(&got[1].body).unwrap();
    assert_eq!(cleared["type"], "attention.cleared");
    assert!(python_verifies(&got[1]));
    env.write_session("a.json", &session("a", "needs_attention"));
    tokio::time::sleep(Duration::from_millis(900)).await;
    let all = receiver.received();
    assert_eq!(all.len(), 2, "b never, a once per cooldown: {all:?}");
    assert!(all.iter().all(|r| !r.body.contains("\"session_id\":\"b\"")));
    running.stop().await;
}

#[tokio::test]
async fn the_outbox_survives_a_restart_with_the_receiver_down_then_delivers_exactly_the_missing_ones() {
    // A port with nothing listening (yet).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active"));
    env.write_session("c.json", &session("c", "active"));
    let config = with_webhook(&env, format!("http://{port}/hook"), 50);
    let running = spawn_server(config.clone()).await;
    env.write_session("a.json", &session("a", "needs_attention"));
    env.write_session("c.json", &session("c", "needs_attention"));
    let outbox = env.paths.data_dir.join("notify/webhook.outbox.jsonl");
    eventually(Duration::from_secs(5), || async {
        let text = std::fs::read_to_string(&outbox).unwrap_or_default();
        (text.matches("\"add\"").count() >= 2).then_some(())
    })
    .await
    .expect("both notifications queued in the outbox");
    running.stop().await;
    // A torn line from a crash: skipped, the rest delivered.
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .append(true)
        .open(&outbox)
        .unwrap()
        .write_all(b"{\"add\": {\"id\": \"torn")
        .unwrap();

    let receiver = Receiver::start_on(port).await;
    let running = spawn_server(config).await;
    let got = receiver.wait_for(2, Duration::from_secs(5)).await;
    let mut sessions: Vec<String> = got
        .iter()
        .map(|r| {
            serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["data"]["session_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    sessions.sort();
    assert_eq!(sessions, ["a", "c"]);
    assert!(got.iter().all(python_verifies));
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(receiver.received().len(), 2, "delivered exactly once each");
    running.stop().await;
}

#[tokio::test]
async fn a_500_is_retried_a_410_is_dropped() {
    let receiver = Receiver::start().await;
    receiver.status.store(500, Ordering::SeqCst);
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active"));
    let running = spawn_server(with_webhook(&env, receiver.url("hook"), 0)).await;
    env.write_session("a.json", &session("a", "needs_attention"));
    receiver.wait_for(1, Duration::from_secs(5)).await;
    receiver.status.store(200, Ordering::SeqCst);
    // The retry (after 0.5 s) succeeds with the same id.
    let got = receiver.wait_for(2, Duration::from_secs(5)).await;
    assert_eq!(header(&got[0], "webhook-id"), header(&got[1], "webhook-id"));
    // 410: dropped after one attempt.
    receiver.status.store(410, Ordering::SeqCst);
    env.write_session("a.json", &session("a", "active"));
    receiver.wait_for(3, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    assert_eq!(receiver.received().len(), 3, "a 410 is not retried");
    running.stop().await;
}

#[tokio::test]
async fn ntfy_and_desktop_sinks_get_the_notification() {
    let receiver = Receiver::start().await;
    let env = TestEnv::new();
    // A fake notify-send that records its arguments.
    let bin = env.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let record = env.home().join("notify-send.args");
    let script = format!("#!/bin/sh\nprintf '%s\\n' \"$@\" >> '{}'\n", record.display());
    support::write_executable(&bin.join("notify-send"), script);

    env.write_session("a.json", &session("a", "active"));
    let mut config = env.config();
    config.notify.dwell = Duration::from_millis(100);
    config.notify.ntfy = Some(NtfyConfig {
        url: receiver.url("amc-topic"),
        token: Some("tk".into()),
        priority: "high".into(),
    });
    config.notify.desktop = DesktopMode::On;
    config.notify.path = Some(bin.to_string_lossy().into_owned());
    config.notify.dashboard_url = "http://127.0.0.1:7400/".into();
    let running = spawn_server(config).await;
    env.write_session("a.json", &session("a", "needs_attention"));
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(header(&got[0], "title"), "amc: a needs you");
    assert_eq!(header(&got[0], "priority"), "high");
    assert_eq!(header(&got[0], "click"), "http://127.0.0.1:7400/");
    assert_eq!(header(&got[0], "authorization"), "Bearer tk");
    assert!(
        got[0].body.contains("claude waits for permission: Bash: rm -rf build"),
        "{}",
        got[0].body
    );
    let args = eventually(Duration::from_secs(5), || async {
        std::fs::read_to_string(&record).ok()
    })
    .await
    .expect("notify-send ran");
    assert!(
        args.contains("amc: a needs you") && args.contains("--app-name=amc"),
        "{args}"
    );
    running.stop().await;
}

#[tokio::test]
async fn ack_silences_a_session_until_its_next_attention_and_needs_the_act_scope() {
    let receiver = Receiver::start().await;
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active"));
    let mut config = with_webhook(&env, receiver.url("hook"), 400);
    config.notify.cooldown = Duration::ZERO;
    config.token = Some("all-scopes".into());
    config.read_token = Some("read-only".into());
    let running = spawn_server(config).await;
    let http = reqwest::Client::new();
    let ack_url = |id: &str| format!("{}/api/sessions/{id}/ack", running.url());

    // Acknowledged within the dwell: nothing is sent.
    env.write_session("a.json", &session("a", "needs_attention"));
    eventually(Duration::from_secs(5), || async {
        let state = running.state.current();
        state
            .sessions
            .iter()
            .any(|s| s["status"] == "needs_attention")
            .then_some(())
    })
    .await
    .expect("a waits");
    let refused = http.post(ack_url("a")).bearer_auth("read-only").send().await.unwrap();
    assert_eq!(refused.status(), 403, "the read token lacks the act scope");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["code"], "PERMISSION_DENIED");
    assert_eq!(http.post(ack_url("a")).send().await.unwrap().status(), 401);
    assert_eq!(
        http.post(ack_url("nope"))
            .bearer_auth("all-scopes")
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let acked = http.post(ack_url("a")).bearer_auth("all-scopes").send().await.unwrap();
    assert_eq!(acked.status(), 200);
    assert_eq!(acked.json::<serde_json::Value>().await.unwrap()["acknowledged"], true);
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        receiver.received().is_empty(),
        "acknowledged: {:?}",
        receiver.received()
    );

    // The next attention is notified again; an Ack over gRPC then withdraws it at the webhook.
    env.write_session("a.json", &session("a", "active"));
    tokio::time::sleep(Duration::from_millis(100)).await;
    env.write_session("a.json", &session("a", "needs_attention"));
    let got = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert!(got[0].body.contains("\"attention.raised\""));
    let channel = tonic::transport::Channel::from_shared(running.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let token =
        |t: &str| -> tonic::metadata::MetadataValue<tonic::metadata::Ascii> { format!("Bearer {t}").parse().unwrap() };
    let mut client = amc::proto::state_service_client::StateServiceClient::new(channel);
    let mut request = tonic::Request::new(amc::proto::AckRequest { session_id: "a".into() });
    request.metadata_mut().insert("authorization", token("read-only"));
    assert_eq!(
        client.ack(request).await.unwrap_err().code(),
        tonic::Code::PermissionDenied
    );
    let mut request = tonic::Request::new(amc::proto::AckRequest { session_id: "a".into() });
    request.metadata_mut().insert("authorization", token("all-scopes"));
    assert!(client.ack(request).await.unwrap().into_inner().acknowledged);
    let got = receiver.wait_for(2, Duration::from_secs(5)).await;
    assert!(got[1].body.contains("\"attention.acked\""), "{}", got[1].body);
    assert!(python_verifies(&got[1]));
    running.stop().await;
}
