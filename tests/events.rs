//! Events end to end: the real server on 127.0.0.1:0, session files written as the hook writes them, WatchEvents over
//! gRPC and `/api/stream/events` over SSE, and resume across a restart.

// Test code: a failed unwrap or expect is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use amc::proto::{self as pb, watch_events_response::Kind};
use support::{spawn_server, SseReader, TestEnv};
use tokio_stream::StreamExt;

const SECOND: Duration = Duration::from_secs(1);

fn session(id: &str, status: &str, attention: Option<&str>) -> String {
    let attention = attention
        .map(|kind| format!(r#","attention":{{"kind":"{kind}","since":"2026-01-01T00:00:00Z","tool_name":"Bash"}}"#))
        .unwrap_or_default();
    format!(r#"{{"session_id":"{id}","status":"{status}","agent":"claude","project_dir":"/work/{id}"{attention}}}"#)
}

async fn next_event(stream: &mut tonic::Streaming<pb::WatchEventsResponse>) -> pb::Event {
    loop {
        let message = tokio::time::timeout(5 * SECOND, stream.next())
            .await
            .expect("a WatchEvents message in time")
            .expect("stream still open")
            .expect("message, not an error");
        match message.kind {
            Some(Kind::Event(event)) => return event,
            Some(Kind::Heartbeat(_)) => continue,
            None => panic!("empty message"),
        }
    }
}

fn kind(event: &pb::Event) -> pb::EventKind {
    pb::EventKind::try_from(event.kind).expect("known kind")
}

#[tokio::test]
async fn transitions_stream_as_events_and_resume_after_a_restart() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", None));
    let running = spawn_server(env.config()).await;
    let mut client = running.grpc().await;
    let mut stream = client
        .watch_events(pb::WatchEventsRequest::default())
        .await
        .expect("WatchEvents")
        .into_inner();
    // Give the stream a moment to subscribe (it starts at the newest event).
    tokio::time::sleep(Duration::from_millis(100)).await;
    env.write_session("a.json", &session("a", "needs_attention", Some("permission")));
    let raised = next_event(&mut stream).await;
    assert_eq!(kind(&raised), pb::EventKind::AttentionRaised);
    assert_eq!(raised.session_id, "a");
    assert_eq!(raised.attention_kind, "permission");
    assert_eq!(raised.project_dir, "/work/a");
    assert_eq!(raised.revision, running.state.current().revision);
    env.write_session("a.json", &session("a", "done", None));
    let cleared = next_event(&mut stream).await;
    assert_eq!(kind(&cleared), pb::EventKind::AttentionCleared);
    assert!(cleared.waited_ms.is_some());
    let done = next_event(&mut stream).await;
    assert_eq!(kind(&done), pb::EventKind::TurnDone);
    assert_eq!((raised.id + 1, raised.id + 2), (cleared.id, done.id));

    // SSE: Last-Event-ID replays what came after it.
    let http = reqwest::Client::new();
    let response = http
        .get(format!("{}/api/stream/events", running.url()))
        .header("last-event-id", raised.id.to_string())
        .send()
        .await
        .expect("GET /api/stream/events");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut sse = SseReader::new(response);
    assert_eq!(sse.next_frame(5 * SECOND).await.as_deref(), Some("retry: 2000"));
    let frame = sse.next_frame(5 * SECOND).await.expect("a frame");
    assert!(
        frame.starts_with(&format!("id: {}\nevent: attention_cleared\ndata: {{", cleared.id)),
        "{frame}"
    );
    let data: serde_json::Value =
        serde_json::from_str(frame.split("data: ").nth(1).expect("data line")).expect("JSON data");
    assert_eq!(data["kind"], "attention_cleared");
    assert_eq!(data["attention_kind"], "permission");
    assert_eq!(data["session_id"], "a");
    // A filter on kinds.
    let response = http
        .get(format!("{}/api/stream/events?since=1&kinds=turn_done", running.url()))
        .send()
        .await
        .expect("GET");
    let mut sse = SseReader::new(response);
    sse.next_frame(5 * SECOND).await;
    let frame = sse.next_frame(5 * SECOND).await.expect("a frame");
    assert!(
        frame.starts_with(&format!("id: {}\nevent: turn_done\n", done.id)),
        "{frame}"
    );
    let bad = http
        .get(format!("{}/api/stream/events?kinds=nope", running.url()))
        .send()
        .await
        .expect("GET");
    assert_eq!(bad.status(), 400);
    running.stop().await;

    // A new process on the same data dir: the ring is still there, and ids keep growing.
    let running = spawn_server(env.config()).await;
    let mut client = running.grpc().await;
    let mut stream = client
        .watch_events(pb::WatchEventsRequest {
            since_event_id: raised.id,
            ..Default::default()
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    assert_eq!(next_event(&mut stream).await.id, cleared.id);
    assert_eq!(next_event(&mut stream).await.id, done.id);
    env.write_session("a.json", &session("a", "active", None));
    env.write_session("b.json", &session("b", "needs_attention", Some("question")));
    let mut fresh = Vec::new();
    while fresh.len() < 2 {
        fresh.push(next_event(&mut stream).await);
    }
    assert!(fresh.iter().all(|e| e.id > done.id));
    assert!(fresh
        .iter()
        .any(|e| kind(e) == pb::EventKind::SessionStarted && e.session_id == "b"));
    // Filtered by session: only b's events.
    let mut only_b = client
        .watch_events(pb::WatchEventsRequest {
            since_event_id: 1,
            filter: Some(pb::SessionFilter {
                session_ids: vec!["b".into()],
                ..Default::default()
            }),
            kinds: vec![pb::EventKind::AttentionRaised as i32],
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    let event = next_event(&mut only_b).await;
    assert_eq!(
        (event.session_id.as_str(), kind(&event)),
        ("b", pb::EventKind::AttentionRaised)
    );
    assert_eq!(event.attention_kind, "question");
    let status = client
        .watch_events(pb::WatchEventsRequest {
            kinds: vec![99],
            ..Default::default()
        })
        .await
        .expect_err("an unknown kind is refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    running.stop().await;
}
