//! The real server on 127.0.0.1:0, called with real clients: tonic, tonic-web, reqwest (JSON and SSE), grpcurl.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use amc::proto::{self as pb, watch_state_response::Kind};
use support::{eventually, spawn_server, spawn_server_warming, SseReader, TestEnv};
use tokio_stream::StreamExt;

const SECOND: Duration = Duration::from_secs(1);

fn session(id: &str, status: &str, agent: &str) -> String {
    format!(
        r#"{{"session_id":"{id}","status":"{status}","agent":"{agent}","project_dir":"/work/{id}","custom_key":{{"x":1}}}}"#
    )
}

async fn next(stream: &mut tonic::Streaming<pb::WatchStateResponse>) -> pb::WatchStateResponse {
    tokio::time::timeout(5 * SECOND, stream.next())
        .await
        .expect("a WatchState message in time")
        .expect("stream still open")
        .expect("message, not an error")
}

fn snapshot_of(message: &pb::WatchStateResponse) -> &pb::State {
    match &message.kind {
        Some(Kind::Snapshot(state)) => state,
        other => panic!("expected a snapshot, got {other:?}"),
    }
}

#[tokio::test]
async fn get_state_and_watch_state_start_with_the_same_snapshot() {
    let env = TestEnv::new();
    env.write_session("b.json", &session("b", "active", "claude"));
    env.write_session("a.json", &session("a", "needs_attention", "codex"));
    let server = spawn_server(env.config()).await;
    let mut client = server.grpc().await;

    let state = client
        .get_state(pb::GetStateRequest::default())
        .await
        .expect("GetState")
        .into_inner()
        .state
        .expect("state");
    let ids: Vec<_> = state.sessions.iter().map(|s| s.session_id.as_str()).collect();
    assert_eq!(ids, ["a", "b"], "sorted by session_id");
    assert_eq!(state.sessions[0].status, pb::SessionStatus::NeedsAttention as i32);
    assert_eq!(state.sessions[0].agent, pb::Agent::Codex as i32);
    assert_eq!(state.sessions[0].extra_json, r#"{"custom_key":{"x":1}}"#);
    assert!(!state.instance_id.is_empty());

    let mut watch = client
        .watch_state(pb::WatchStateRequest::default())
        .await
        .expect("WatchState")
        .into_inner();
    let first = next(&mut watch).await;
    assert_eq!(snapshot_of(&first).sessions, state.sessions);
    assert_eq!(first.revision, state.revision);
    server.stop().await;
}

#[tokio::test]
async fn a_file_write_reaches_a_watcher_without_the_timers_and_bumps_the_revision_by_one() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", "claude"));
    let server = spawn_server(env.config()).await;
    let mut client = server.grpc().await;
    let mut watch = client
        .watch_state(pb::WatchStateRequest::default())
        .await
        .expect("WatchState")
        .into_inner();
    let first = next(&mut watch).await;

    env.write_session("a.json", &session("a", "done", "claude"));
    let started = std::time::Instant::now();
    let update = loop {
        let message = next(&mut watch).await;
        if matches!(message.kind, Some(Kind::Snapshot(_))) {
            break message;
        }
    };
    // The timers are set to an hour in TestEnv::config, so only a file event can explain this.
    assert!(started.elapsed() < 2 * SECOND, "update took {:?}", started.elapsed());
    assert_eq!(update.revision, first.revision + 1);
    assert_eq!(snapshot_of(&update).sessions[0].raw_status, "done");
    server.stop().await;
}

#[tokio::test]
async fn revision_does_not_move_when_nothing_changes_and_heartbeats_carry_it() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", "claude"));
    let server = spawn_server(env.config()).await;
    let mut client = server.grpc().await;
    let before = client
        .get_state(pb::GetStateRequest::default())
        .await
        .expect("GetState")
        .into_inner()
        .state
        .expect("state");
    // Rewriting identical content fires file events and passes, but must not publish.
    env.write_session("a.json", &session("a", "active", "claude"));
    let passes = server.state.passes();
    eventually(5 * SECOND, || async { (server.state.passes() > passes).then_some(()) })
        .await
        .expect("a pass ran");
    let after = client
        .get_state(pb::GetStateRequest::default())
        .await
        .expect("GetState")
        .into_inner()
        .state
        .expect("state");
    assert_eq!(before.revision, after.revision);

    let mut watch = client
        .watch_state(pb::WatchStateRequest::default())
        .await
        .expect("WatchState")
        .into_inner();
    let _snapshot = next(&mut watch).await;
    let heartbeat = next(&mut watch).await;
    assert!(
        matches!(heartbeat.kind, Some(Kind::Heartbeat(_))),
        "quiet stream sends a heartbeat: {heartbeat:?}"
    );
    assert_eq!(heartbeat.revision, before.revision);
    server.stop().await;
}

#[tokio::test]
async fn resume_with_current_revision_skips_the_snapshot_but_stale_or_foreign_revisions_get_one() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", "claude"));
    let server = spawn_server(env.config()).await;
    let mut client = server.grpc().await;
    let state = client
        .get_state(pb::GetStateRequest::default())
        .await
        .expect("GetState")
        .into_inner()
        .state
        .expect("state");

    let current = pb::WatchStateRequest {
        since_revision: state.revision,
        instance_id: state.instance_id.clone(),
        ..Default::default()
    };
    let mut watch = client.watch_state(current).await.expect("WatchState").into_inner();
    let first = next(&mut watch).await;
    assert!(
        matches!(first.kind, Some(Kind::Heartbeat(_))),
        "current client gets no snapshot: {first:?}"
    );
    assert_eq!(first.revision, state.revision);

    let stale = pb::WatchStateRequest {
        since_revision: state.revision - 1,
        instance_id: state.instance_id.clone(),
        ..Default::default()
    };
    let mut watch = client.watch_state(stale).await.expect("WatchState").into_inner();
    assert_eq!(snapshot_of(&next(&mut watch).await).sessions.len(), 1);

    let restarted = pb::WatchStateRequest {
        since_revision: state.revision,
        instance_id: "another-process".into(),
        ..Default::default()
    };
    let mut watch = client.watch_state(restarted).await.expect("WatchState").into_inner();
    assert_eq!(snapshot_of(&next(&mut watch).await).sessions.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn filters_apply_to_get_state_and_watch_state() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", "claude"));
    env.write_session("b.json", &session("b", "active", "codex"));
    let server = spawn_server(env.config()).await;
    let mut client = server.grpc().await;
    let codex_only = pb::SessionFilter {
        agents: vec![pb::Agent::Codex as i32],
        ..Default::default()
    };
    let state = client
        .get_state(pb::GetStateRequest {
            filter: Some(codex_only.clone()),
        })
        .await
        .expect("GetState")
        .into_inner()
        .state
        .expect("state");
    assert_eq!(
        state.sessions.iter().map(|s| s.session_id.as_str()).collect::<Vec<_>>(),
        ["b"]
    );

    let by_id = pb::SessionFilter {
        session_ids: vec!["a".into()],
        ..Default::default()
    };
    let mut watch = client
        .watch_state(pb::WatchStateRequest {
            filter: Some(by_id),
            ..Default::default()
        })
        .await
        .expect("watch")
        .into_inner();
    let first = next(&mut watch).await;
    assert_eq!(snapshot_of(&first).sessions.len(), 1);
    // A change to a session outside the filter sends no snapshot; a change inside does.
    env.write_session("b.json", &session("b", "done", "codex"));
    env.write_session("a.json", &session("a", "done", "claude"));
    let update = loop {
        let message = next(&mut watch).await;
        if let Some(Kind::Snapshot(state)) = &message.kind {
            break state.clone();
        }
    };
    assert_eq!(update.sessions.len(), 1);
    assert_eq!(update.sessions[0].raw_status, "done");

    let bad = pb::SessionFilter {
        agents: vec![42],
        ..Default::default()
    };
    let error = client
        .get_state(pb::GetStateRequest { filter: Some(bad) })
        .await
        .expect_err("unknown agent rejected");
    assert_eq!(error.code(), tonic::Code::InvalidArgument);
    server.stop().await;
}

#[tokio::test]
async fn two_hundred_watchers_all_get_the_same_revision() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", "claude"));
    let server = spawn_server(env.config()).await;
    let channel = tonic::transport::Endpoint::from_shared(server.url())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut streams = Vec::new();
    for _ in 0..200 {
        let mut client = pb::state_service_client::StateServiceClient::new(channel.clone());
        let mut stream = client
            .watch_state(pb::WatchStateRequest::default())
            .await
            .expect("watch")
            .into_inner();
        next(&mut stream).await;
        streams.push(stream);
    }
    env.write_session("a.json", &session("a", "done", "claude"));
    let expected = server.state.current().revision + 1;
    for stream in &mut streams {
        let message = loop {
            let message = next(stream).await;
            if matches!(message.kind, Some(Kind::Snapshot(_))) {
                break message;
            }
        };
        assert_eq!(message.revision, expected);
    }
    server.stop().await;
}

#[tokio::test]
async fn api_state_keeps_the_original_json_and_malformed_files_do_not_hide_good_ones() {
    let env = TestEnv::new();
    env.write_session("good.json", &session("good", "active", "claude"));
    env.write_session("garbage.json", "{not json");
    env.write_session("array.json", "[1,2,3]");
    env.write_session("empty.json", "");
    env.write_session("string.json", "\"hello\"");
    env.write_session(
        "huge.json",
        &format!("{{\"session_id\":\"huge\",\"pad\":\"{}\"", "x".repeat(2 << 20)),
    );
    let server = spawn_server(env.config()).await;
    let body: serde_json::Value = reqwest::get(format!("{}/api/state", server.url()))
        .await
        .expect("GET /api/state")
        .json()
        .await
        .expect("JSON body");
    let sessions = body["sessions"].as_array().expect("sessions array");
    assert_eq!(sessions.len(), 1, "only the good session: {body}");
    assert_eq!(sessions[0]["session_id"], "good");
    assert_eq!(sessions[0]["custom_key"]["x"], 1, "unknown keys pass through");
    assert!(body["server_time"]
        .as_str()
        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok()));
    assert!(body["revision"].as_u64().is_some());

    let health: serde_json::Value = reqwest::get(format!("{}/api/health", server.url()))
        .await
        .expect("GET /api/health")
        .json()
        .await
        .expect("JSON");
    assert_eq!(health["status"], "ok");

    let missing = reqwest::get(format!("{}/no/such/path", server.url()))
        .await
        .expect("GET unknown");
    assert_eq!(missing.status(), 404);
    let error: serde_json::Value = missing.json().await.expect("JSON error body");
    assert_eq!(error["code"], "NOT_FOUND");
    server.stop().await;
}

#[tokio::test]
async fn sse_sends_retry_then_state_frames_and_honours_last_event_id() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", "claude"));
    let server = spawn_server(env.config()).await;
    let response = reqwest::get(format!("{}/api/stream", server.url()))
        .await
        .expect("GET /api/stream");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut sse = SseReader::new(response);
    assert_eq!(sse.next_frame(5 * SECOND).await.as_deref(), Some("retry: 2000"));
    let frame = sse.next_frame(5 * SECOND).await.expect("state frame");
    let lines: Vec<&str> = frame.lines().collect();
    let revision = server.state.current().revision;
    assert_eq!(lines[0], format!("id: {revision}"));
    assert_eq!(lines[1], "event: state");
    let payload: serde_json::Value =
        serde_json::from_str(lines[2].strip_prefix("data: ").expect("data line")).expect("JSON");
    assert_eq!(payload["sessions"][0]["session_id"], "a");
    // Pings while quiet (300 ms in tests).
    assert_eq!(sse.next_frame(5 * SECOND).await.as_deref(), Some(": ping"));

    // A reconnect that already has the current revision gets no duplicate frame, only pings, until a change.
    let client = reqwest::Client::new();
    let response = client
        .get(format!("{}/api/stream", server.url()))
        .header("Last-Event-ID", revision.to_string())
        .send()
        .await
        .expect("reconnect");
    let mut resumed = SseReader::new(response);
    assert_eq!(resumed.next_frame(5 * SECOND).await.as_deref(), Some("retry: 2000"));
    assert_eq!(resumed.next_frame(5 * SECOND).await.as_deref(), Some(": ping"));
    env.write_session("a.json", &session("a", "done", "claude"));
    let frame = loop {
        let frame = resumed.next_frame(5 * SECOND).await.expect("frame");
        if frame != ": ping" {
            break frame;
        }
    };
    assert!(frame.starts_with(&format!("id: {}\n", revision + 1)), "{frame}");
    server.stop().await;
}

#[tokio::test]
async fn grpc_web_unary_and_server_streaming_work_over_http1() {
    use hyper_util::{client::legacy::Client, rt::TokioExecutor};
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", "claude"));
    let server = spawn_server(env.config()).await;
    let http = Client::builder(TokioExecutor::new()).build_http();
    let service = tower::ServiceBuilder::new()
        .layer(tonic_web::GrpcWebClientLayer::new())
        .service(http);
    let mut client =
        pb::state_service_client::StateServiceClient::with_origin(service, server.url().parse().expect("uri"));

    let state = client
        .get_state(pb::GetStateRequest::default())
        .await
        .expect("gRPC-Web GetState")
        .into_inner();
    assert_eq!(state.state.expect("state").sessions[0].session_id, "a");

    let mut stream = client
        .watch_state(pb::WatchStateRequest::default())
        .await
        .expect("gRPC-Web WatchState")
        .into_inner();
    let first = tokio::time::timeout(5 * SECOND, stream.next())
        .await
        .expect("in time")
        .expect("open")
        .expect("ok");
    assert!(matches!(first.kind, Some(Kind::Snapshot(_))));
    env.write_session("a.json", &session("a", "done", "claude"));
    let update = loop {
        let message = tokio::time::timeout(5 * SECOND, stream.next())
            .await
            .expect("in time")
            .expect("open")
            .expect("ok");
        if let Some(Kind::Snapshot(state)) = message.kind {
            break state;
        }
    };
    assert_eq!(update.sessions[0].raw_status, "done");
    server.stop().await;
}

#[tokio::test]
async fn health_check_serves_then_shutdown_ends_open_streams_with_unavailable() {
    use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
    let env = TestEnv::new();
    let server = spawn_server(env.config()).await;
    let channel = tonic::transport::Endpoint::from_shared(server.url())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let health = HealthClient::new(channel.clone());
    // SERVING follows the first full state (which `spawn_server` waited for) through a task: at most a moment later.
    let serving = tonic_health::pb::health_check_response::ServingStatus::Serving as i32;
    let status = eventually(5 * SECOND, || {
        let mut health = health.clone();
        async move {
            let reply = health
                .check(HealthCheckRequest {
                    service: "amc.v1.StateService".into(),
                })
                .await
                .expect("health check")
                .into_inner();
            (reply.status == serving).then_some(reply.status)
        }
    })
    .await;
    assert_eq!(status, Some(serving), "the StateService reports SERVING once warm");

    let mut client = pb::state_service_client::StateServiceClient::new(channel);
    let mut watch = client
        .watch_state(pb::WatchStateRequest::default())
        .await
        .expect("watch")
        .into_inner();
    next(&mut watch).await;
    let sse = reqwest::get(format!("{}/api/stream", server.url())).await.expect("SSE");
    let mut sse = SseReader::new(sse);
    sse.next_frame(5 * SECOND).await;

    let started = std::time::Instant::now();
    server.shutdown.cancel();
    let end = loop {
        match tokio::time::timeout(5 * SECOND, watch.next())
            .await
            .expect("stream ends in time")
        {
            Some(Ok(_)) => continue,
            Some(Err(status)) => break Some(status),
            None => break None,
        }
    };
    assert_eq!(end.expect("an error status").code(), tonic::Code::Unavailable);
    while sse.next_frame(5 * SECOND).await.is_some() {}
    tokio::time::timeout(5 * SECOND, server.task)
        .await
        .expect("server exits")
        .expect("join")
        .expect("clean exit");
    assert!(started.elapsed() < 5 * SECOND);
}

#[tokio::test]
async fn with_a_token_every_data_request_needs_it_but_health_and_the_page_do_not() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", "claude"));
    let mut config = env.config();
    config.token = Some("s3cret-token".into());
    let server = spawn_server(config).await;
    let http = reqwest::Client::new();
    let url = server.url();

    let refused = http
        .get(format!("{url}/api/state"))
        .send()
        .await
        .expect("GET /api/state");
    assert_eq!(refused.status(), 401);
    let error: serde_json::Value = refused.json().await.expect("JSON error body");
    assert_eq!(error["code"], "UNAUTHENTICATED");
    let wrong = http
        .get(format!("{url}/api/state"))
        .bearer_auth("s3cret-tokeN")
        .send()
        .await
        .expect("GET with a wrong token");
    assert_eq!(wrong.status(), 401);
    for path in ["/api/stream", "/api/events/a"] {
        let response = http.get(format!("{url}{path}")).send().await.expect("GET");
        assert_eq!(response.status(), 401, "{path}");
    }

    let body: serde_json::Value = http
        .get(format!("{url}/api/state"))
        .bearer_auth("s3cret-token")
        .send()
        .await
        .expect("GET with the token")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["sessions"][0]["session_id"], "a");
    // EventSource cannot set headers: the query parameter works for the stream.
    let stream = http
        .get(format!("{url}/api/stream?access_token=s3cret-token"))
        .send()
        .await
        .expect("GET /api/stream");
    assert_eq!(stream.status(), 200);
    let mut sse = SseReader::new(stream);
    assert!(
        sse.next_frame(5 * SECOND).await.is_some(),
        "the stream sends with the token"
    );

    for open in ["/api/health", "/", "/app.js"] {
        let response = http.get(format!("{url}{open}")).send().await.expect("GET");
        assert_eq!(response.status(), 200, "{open} is public");
    }

    let mut client = server.grpc().await;
    let status = client
        .get_state(pb::GetStateRequest::default())
        .await
        .expect_err("GetState without the token is refused");
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
    let mut request = tonic::Request::new(pb::GetStateRequest::default());
    request
        .metadata_mut()
        .insert("authorization", "Bearer s3cret-token".parse().expect("metadata value"));
    let state = client
        .get_state(request)
        .await
        .expect("GetState with the token")
        .into_inner();
    assert_eq!(state.state.expect("state").sessions.len(), 1);
    let channel = tonic::transport::Endpoint::from_shared(url.clone())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    health
        .check(tonic_health::pb::HealthCheckRequest::default())
        .await
        .expect("health is open without the token");
    drop(sse);
    server.stop().await;
}

#[tokio::test]
async fn watch_state_with_gzip_and_without_gives_the_same_messages() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", "claude"));
    env.write_session("b.json", &session("b", "done", "codex"));
    let server = spawn_server(env.config()).await;
    let plain = server.grpc().await;
    let gzip = server
        .grpc()
        .await
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let mut streams = Vec::new();
    for mut client in [plain, gzip] {
        streams.push(
            client
                .watch_state(pb::WatchStateRequest::default())
                .await
                .expect("WatchState")
                .into_inner(),
        );
    }
    let mut firsts = Vec::new();
    for stream in &mut streams {
        firsts.push(next(stream).await);
    }
    assert_eq!(firsts[0], firsts[1], "the first snapshot is the same either way");
    assert_eq!(snapshot_of(&firsts[0]).sessions.len(), 2);
    env.write_session("c.json", &session("c", "active", "claude"));
    let mut seconds = Vec::new();
    for stream in &mut streams {
        seconds.push(next(stream).await);
    }
    assert_eq!(seconds[0], seconds[1]);
    assert_eq!(seconds[0].revision, firsts[0].revision + 1);
    assert_eq!(snapshot_of(&seconds[0]).sessions.len(), 3);
    // Then both get the same heartbeat (the test config's interval is 300 ms).
    for stream in &mut streams {
        let beat = next(stream).await;
        assert!(matches!(beat.kind, Some(Kind::Heartbeat(_))), "{beat:?}");
        assert_eq!(beat.revision, seconds[0].revision);
    }
    drop(streams);
    server.stop().await;
}

/// Applies one WatchState message to a client's copy of the sessions, as a client that asked for deltas does.
fn apply((sessions, revision): &mut (Vec<pb::Session>, u64), message: &pb::WatchStateResponse) {
    match &message.kind {
        Some(Kind::Snapshot(state)) => *sessions = state.sessions.clone(),
        Some(Kind::Delta(delta)) => {
            assert_eq!(
                delta.base_revision, *revision,
                "a delta applies to the state the client holds"
            );
            sessions.retain(|s| {
                !delta.removed_session_ids.contains(&s.session_id)
                    && !delta.upserted_sessions.iter().any(|u| u.session_id == s.session_id)
            });
            sessions.extend(delta.upserted_sessions.iter().cloned());
            sessions.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        }
        Some(Kind::Heartbeat(_)) => {}
        None => panic!("a message without a kind"),
    }
    *revision = message.revision;
}

#[tokio::test]
async fn with_deltas_each_change_is_a_small_delta_that_rebuilds_the_same_state() {
    let env = TestEnv::new();
    for id in ["a", "b", "c"] {
        env.write_session(&format!("{id}.json"), &session(id, "active", "claude"));
    }
    env.write_session("x.json", &session("x", "active", "codex"));
    let server = spawn_server(env.config()).await;
    let mut client = server.grpc().await;
    let codex_only = pb::SessionFilter {
        agents: vec![pb::Agent::Codex as i32],
        ..Default::default()
    };
    let mut streams = Vec::new();
    for filter in [None, Some(codex_only.clone())] {
        let request = pb::WatchStateRequest {
            deltas: true,
            filter,
            ..Default::default()
        };
        streams.push(client.watch_state(request).await.expect("WatchState").into_inner());
    }
    let mut copies = Vec::new();
    for stream in &mut streams {
        let first = next(stream).await;
        assert!(matches!(first.kind, Some(Kind::Snapshot(_))), "a snapshot comes first");
        let mut copy = (Vec::new(), 0);
        apply(&mut copy, &first);
        copies.push(copy);
    }

    // One change, then one removal, then a change the filtered watcher does not see, then one it does.
    env.write_session("b.json", &session("b", "done", "claude"));
    let message = next(&mut streams[0]).await;
    match &message.kind {
        Some(Kind::Delta(delta)) => {
            assert_eq!(delta.upserted_sessions.len(), 1);
            assert_eq!(delta.upserted_sessions[0].session_id, "b");
            assert!(delta.removed_session_ids.is_empty());
        }
        other => panic!("expected a delta, got {other:?}"),
    }
    apply(&mut copies[0], &message);
    std::fs::remove_file(env.paths.sessions_dir().join("a.json")).expect("remove a");
    let message = next(&mut streams[0]).await;
    assert!(
        matches!(&message.kind, Some(Kind::Delta(d)) if d.removed_session_ids == ["a"] && d.upserted_sessions.is_empty()),
        "{message:?}"
    );
    apply(&mut copies[0], &message);
    env.write_session("x.json", &session("x", "needs_attention", "codex"));
    let message = next(&mut streams[0]).await;
    apply(&mut copies[0], &message);
    let filtered = loop {
        let message = next(&mut streams[1]).await;
        if !matches!(message.kind, Some(Kind::Heartbeat(_))) {
            break message;
        }
    };
    assert!(
        matches!(&filtered.kind, Some(Kind::Delta(d)) if d.upserted_sessions.len() == 1 && d.upserted_sessions[0].session_id == "x"),
        "the filtered watcher saw only its own change: {filtered:?}"
    );
    apply(&mut copies[1], &filtered);

    // Both copies are exactly what GetState says now.
    for (i, filter) in [None, Some(codex_only)].into_iter().enumerate() {
        let state = client
            .get_state(pb::GetStateRequest { filter })
            .await
            .expect("GetState")
            .into_inner()
            .state
            .expect("state");
        assert_eq!(copies[i].0, state.sessions, "watcher {i} rebuilt the state");
        assert_eq!(copies[i].1, state.revision);
    }
    drop(streams);
    server.stop().await;
}

/// GETs `path` from the server and parses the JSON body.
async fn get_json(server: &support::Running, path: &str) -> serde_json::Value {
    reqwest::get(format!("{}{path}", server.url()))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"))
        .json()
        .await
        .unwrap_or_else(|e| panic!("JSON from {path}: {e}"))
}

/// Returns the next WatchState message that is not a heartbeat.
async fn next_change(stream: &mut tonic::Streaming<pb::WatchStateResponse>) -> pb::WatchStateResponse {
    loop {
        let message = next(stream).await;
        if !matches!(message.kind, Some(Kind::Heartbeat(_))) {
            return message;
        }
    }
}

/// Splits an SSE frame into its `id`, `event` and the JSON of its `data` line.
fn sse_event(frame: &str) -> (u64, String, serde_json::Value) {
    let field = |name: &str| {
        frame
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .unwrap_or_else(|| panic!("no {name} in {frame:?}"))
    };
    let id = field("id: ").parse().expect("numeric id");
    let data = serde_json::from_str(field("data: ")).expect("JSON data");
    (id, field("event: ").to_string(), data)
}

/// Returns the next SSE frame that is not a `: ping`.
async fn next_event(sse: &mut SseReader) -> (u64, String, serde_json::Value) {
    loop {
        let frame = sse.next_frame(10 * SECOND).await.expect("SSE frame");
        if frame != ": ping" && !frame.starts_with("retry:") {
            return sse_event(&frame);
        }
    }
}

#[tokio::test]
async fn the_server_answers_while_the_first_pass_runs_then_publishes_the_whole_state_as_one_revision() {
    use tonic_health::pb::{health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest};
    const SESSIONS: usize = 40;
    let env = TestEnv::new();
    for i in 0..SESSIONS {
        env.write_session(
            &format!("s{i:02}.json"),
            &session(&format!("s{i:02}"), "active", "claude"),
        );
    }
    // What makes this first pass slow is a real one: a `zellij list-sessions` that takes 1.5 s to answer (as on a busy
    // machine; amc waits up to 2 s for it) the first time it is asked. Every pass asks Zellij before it reads a
    // session file, so the first pass cannot end sooner.
    let zellij = env.home().join("slow-zellij");
    support::write_executable(
        &zellij,
        "#!/bin/sh\nif [ ! -e \"$0.asked\" ]; then : > \"$0.asked\"; sleep 1.5; fi\nexit 0\n",
    );
    let mut config = env.config();
    config.paths.zellij_bin = Some(zellij);
    let started = std::time::Instant::now();
    let server = spawn_server_warming(config).await;

    // At once: health (warming), an empty but valid state, gRPC health NOT_SERVING for the StateService.
    let health: serde_json::Value = get_json(&server, "/api/health").await;
    assert_eq!(health["warming"], true, "{health}");
    assert_eq!(health["status"], "ok");
    let state: serde_json::Value = get_json(&server, "/api/state").await;
    assert_eq!(state["sessions"], serde_json::json!([]));
    assert_eq!(state["warming"], true);
    let warming_revision = state["revision"].as_u64().expect("revision");
    let channel = tonic::transport::Endpoint::from_shared(server.url())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let check = |mut health: HealthClient<tonic::transport::Channel>| async move {
        health
            .check(HealthCheckRequest {
                service: "amc.v1.StateService".into(),
            })
            .await
            .expect("health check")
            .into_inner()
            .status
    };
    let health = HealthClient::new(channel.clone());
    assert_eq!(check(health.clone()).await, ServingStatus::NotServing as i32);
    let overall = health
        .clone()
        .check(HealthCheckRequest::default())
        .await
        .expect("overall health")
        .into_inner();
    assert_eq!(
        overall.status,
        ServingStatus::Serving as i32,
        "the process itself serves"
    );

    // Watchers that connect now: the empty placeholder first, then the whole state as the very next revision.
    let mut client = pb::state_service_client::StateServiceClient::new(channel);
    let mut full = client
        .watch_state(pb::WatchStateRequest::default())
        .await
        .expect("WatchState")
        .into_inner();
    let mut deltas = client
        .watch_state(pb::WatchStateRequest {
            deltas: true,
            ..Default::default()
        })
        .await
        .expect("WatchState deltas")
        .into_inner();
    let mut sse = SseReader::new(
        reqwest::get(format!("{}/api/stream", server.url()))
            .await
            .expect("GET /api/stream"),
    );
    let first = next(&mut full).await;
    assert_eq!(first.revision, warming_revision);
    assert!(snapshot_of(&first).sessions.is_empty());
    assert_eq!(next(&mut deltas).await.revision, warming_revision);
    let (id, event, data) = next_event(&mut sse).await;
    assert_eq!(
        (id, event.as_str(), data["warming"].clone()),
        (warming_revision, "state", true.into())
    );
    assert!(
        server.state.is_warming(),
        "all of the above happened during the first pass"
    );

    // (Heartbeats carry the placeholder's revision while the pass runs: 300 ms apart in tests.)
    let update = next_change(&mut full).await;
    let warm_after = started.elapsed();
    assert_eq!(update.revision, warming_revision + 1, "one revision, no partial states");
    assert_eq!(snapshot_of(&update).sessions.len(), SESSIONS);
    assert!(
        warm_after >= Duration::from_millis(1400),
        "the first pass waited for the slow zellij ({warm_after:?})"
    );
    let update = next_change(&mut deltas).await;
    assert_eq!(update.revision, warming_revision + 1);
    let received = match update.kind {
        Some(Kind::Delta(delta)) => {
            assert_eq!(delta.base_revision, warming_revision);
            assert!(delta.removed_session_ids.is_empty());
            delta.upserted_sessions
        }
        Some(Kind::Snapshot(state)) => state.sessions,
        other => panic!("expected the first state, got {other:?}"),
    };
    assert_eq!(received.len(), SESSIONS);
    let (id, event, data) = next_event(&mut sse).await;
    assert_eq!((id, event.as_str()), (warming_revision + 1, "state"));
    assert_eq!(data["sessions"].as_array().map(Vec::len), Some(SESSIONS));
    assert!(data.get("warming").is_none(), "the key is left out once warm: {data}");

    let health_json: serde_json::Value = get_json(&server, "/api/health").await;
    assert_eq!(health_json["warming"], false);
    assert_eq!(health_json["sessions"], SESSIONS);
    let serving = eventually(5 * SECOND, || {
        let health = health.clone();
        async move { (check(health).await == ServingStatus::Serving as i32).then_some(()) }
    })
    .await;
    assert!(
        serving.is_some(),
        "the StateService reports SERVING once the first state is published"
    );
    server.stop().await;
}

/// An `/api/stream` client that keeps the sessions it was sent, applying `event: delta` frames to them.
struct SseState {
    sse: SseReader,
    revision: u64,
    sessions: Vec<serde_json::Value>,
    deltas_applied: usize,
}

impl SseState {
    async fn open(url: String, last_event_id: Option<u64>) -> Self {
        let mut request = reqwest::Client::new().get(url);
        if let Some(id) = last_event_id {
            request = request.header("Last-Event-ID", id.to_string());
        }
        let response = request.send().await.expect("GET /api/stream");
        assert_eq!(response.status(), 200);
        SseState {
            sse: SseReader::new(response),
            revision: last_event_id.unwrap_or(0),
            sessions: Vec::new(),
            deltas_applied: 0,
        }
    }

    /// Reads and applies the next frame; returns its event name.
    async fn apply_next(&mut self) -> String {
        let (id, event, data) = next_event(&mut self.sse).await;
        match event.as_str() {
            "state" => self.sessions = data["sessions"].as_array().expect("sessions").clone(),
            "delta" => {
                assert_eq!(
                    data["base_revision"], self.revision,
                    "a delta applies to the state held: {data}"
                );
                assert_eq!(data["revision"], id);
                let removed = data["removed"].as_array().expect("removed");
                self.sessions.retain(|s| !removed.contains(&s["session_id"]));
                for session in data["upserted"].as_array().expect("upserted") {
                    self.sessions.retain(|s| s["session_id"] != session["session_id"]);
                    self.sessions.push(session.clone());
                }
                self.sessions
                    .sort_by(|a, b| a["session_id"].as_str().cmp(&b["session_id"].as_str()));
                self.deltas_applied += 1;
            }
            other => panic!("unexpected event {other}"),
        }
        self.revision = id;
        event
    }

    /// Applies frames until the state is at `revision`.
    async fn reach(&mut self, revision: u64) {
        while self.revision < revision {
            self.apply_next().await;
        }
        assert_eq!(self.revision, revision, "no frame skips past the revision waited for");
    }
}

#[tokio::test]
async fn the_delta_sse_stream_applies_to_the_same_state_as_the_full_stream_and_api_state() {
    let env = TestEnv::new();
    for id in ["a", "b", "c", "e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8"] {
        env.write_session(&format!("{id}.json"), &session(id, "active", "claude"));
    }
    let server = spawn_server(env.config()).await;
    let url = format!("{}/api/stream", server.url());
    let mut full = SseState::open(url.clone(), None).await;
    let mut deltas = SseState::open(format!("{url}?deltas=1"), None).await;
    let start = server.state.current().revision;
    assert_eq!(full.apply_next().await, "state");
    assert_eq!(deltas.apply_next().await, "state", "the first frame is the whole state");

    type Change<'a> = (&'static str, Box<dyn Fn() + 'a>);
    let changes: [Change; 4] = [
        (
            "a session changes",
            Box::new(|| {
                env.write_session("a.json", &session("a", "done", "claude"));
            }),
        ),
        (
            "a session arrives",
            Box::new(|| {
                env.write_session("d.json", &session("d", "starting", "codex"));
            }),
        ),
        (
            "a session leaves",
            Box::new(|| {
                std::fs::remove_file(env.paths.sessions_dir().join("b.json")).expect("remove b");
            }),
        ),
        (
            "two change at once",
            Box::new(|| {
                env.write_session("c.json", &session("c", "needs_attention", "claude"));
                env.write_session("a.json", &session("a", "active", "claude"));
            }),
        ),
    ];
    let mut revision = start;
    for (what, change) in &changes {
        change();
        let next = eventually(5 * SECOND, || async {
            let now = server.state.current().revision;
            (now > revision).then_some(now)
        })
        .await
        .unwrap_or_else(|| panic!("{what}: no new revision"));
        // A burst may still be collecting: settle on the revision both streams reach.
        tokio::time::sleep(Duration::from_millis(100)).await;
        revision = server.state.current().revision.max(next);
        full.reach(revision).await;
        deltas.reach(revision).await;
        let api: serde_json::Value = get_json(&server, "/api/state").await;
        assert_eq!(api["revision"], revision, "{what}");
        assert_eq!(
            deltas.sessions, full.sessions,
            "{what}: deltas applied = the full stream"
        );
        assert_eq!(
            serde_json::Value::Array(deltas.sessions.clone()),
            api["sessions"],
            "{what}: deltas applied = /api/state"
        );
    }
    assert!(
        deltas.deltas_applied >= changes.len(),
        "every change came as a delta ({} of {})",
        deltas.deltas_applied,
        changes.len()
    );
    assert_eq!(full.deltas_applied, 0, "a client that did not ask gets no delta");

    // A reconnect holding the revision before the current one gets the current one's delta; one holding an older
    // revision gets the whole state.
    let held = (full.revision, full.sessions.clone());
    env.write_session("e1.json", &session("e1", "done", "claude"));
    revision = eventually(5 * SECOND, || async {
        let now = server.state.current().revision;
        (now > revision).then_some(now)
    })
    .await
    .expect("one more revision");
    full.reach(revision).await;
    let mut resumed = SseState::open(format!("{url}?deltas=1"), Some(held.0)).await;
    resumed.sessions = held.1;
    assert_eq!(resumed.apply_next().await, "delta");
    assert_eq!((resumed.revision, &resumed.sessions), (revision, &full.sessions));
    let mut old = SseState::open(format!("{url}?deltas=true"), Some(start)).await;
    assert_eq!(old.apply_next().await, "state");
    assert_eq!(old.sessions, full.sessions);

    let bad = reqwest::get(format!("{url}?deltas=maybe")).await.expect("GET");
    assert_eq!(bad.status(), 400);
    let error: serde_json::Value = bad.json().await.expect("JSON error");
    assert_eq!(error["code"], "INVALID_ARGUMENT");
    server.stop().await;
}
