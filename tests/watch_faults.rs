//! Faults around the live watch, against the real server on 127.0.0.1:0: watchers that never read, a thousand
//! watchers arriving and leaving at once, a burst of file events, the sessions dir deleted and recreated, a session
//! file replaced by a rename from another directory. Every wait is bounded (`support::eventually` or a timeout).

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{path::Path, sync::Arc, time::Duration};

use amc::{
    model::SessionJson,
    proto::{self as pb, state_service_client::StateServiceClient, watch_state_response::Kind},
    publisher::StateHandle,
    server,
};
use support::{eventually, spawn_server, TestEnv};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tonic::transport::{Channel, Endpoint};

const SECOND: Duration = Duration::from_secs(1);

fn session(id: &str, status: &str, seq: u64) -> String {
    format!(r#"{{"session_id":"{id}","status":"{status}","agent":"claude","project_dir":"/work/{id}","seq":{seq}}}"#)
}

/// A session as the collector would list it, with `pad` bytes of text so that snapshots are large.
fn fixed_session(id: &str, seq: u64, pad: usize) -> SessionJson {
    match serde_json::json!({"session_id": id, "status": "active", "agent": "claude", "seq": seq, "pad": "x".repeat(pad)})
    {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("a JSON object"),
    }
}

/// `count` sessions `s00`, `s01`, … of [`fixed_session`] at write `seq`.
fn fixed_sessions(count: usize, seq: u64, pad: usize) -> Vec<SessionJson> {
    (0..count)
        .map(|i| fixed_session(&format!("s{i:02}"), seq, pad))
        .collect()
}

/// The server alone over a hand-published state (no collector), on 127.0.0.1:0.
struct FixedServer {
    url: String,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl FixedServer {
    async fn start(handle: StateHandle, dir: &Path) -> Self {
        // server::bind, as `amc serve` should (tokio's TcpListener::bind has a backlog of 128, and a thousand
        // simultaneous connects then see resets).
        let listener = server::bind("127.0.0.1:0".parse().expect("address")).expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let shutdown = CancellationToken::new();
        let paths = amc::config::Paths::from_lookup(|key| match key {
            "HOME" | "AMC_DATA_DIR" => Some(dir.to_string_lossy().into_owned()),
            _ => None,
        });
        let options = server::ServerOptions {
            paths: Arc::new(paths),
            heartbeat: Duration::from_millis(300),
            sse_ping: SECOND,
            grace: 2 * SECOND,
            cors_origins: vec![],
            notify: None,
            access: Arc::new(server::auth::Access::new(vec![], true)),
            action_rate: 10,
            approvals_hold_always: false,
            approval_wait: Duration::from_secs(600),
            otlp: false,
            fleet: None,
            limits: amc::config::Limits::default(),
        };
        let task = tokio::spawn(server::run(listener, handle, options, shutdown.clone()));
        FixedServer { url, shutdown, task }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(5 * SECOND, self.task)
            .await
            .expect("server stops within 5 s")
            .expect("server task joins")
            .expect("server ends cleanly");
    }
}

async fn channel(url: &str) -> Channel {
    Endpoint::from_shared(url.to_string())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

async fn get_state(client: &mut StateServiceClient<Channel>) -> pb::State {
    let response = tokio::time::timeout(2 * SECOND, client.get_state(pb::GetStateRequest::default()))
        .await
        .expect("GetState answers within 2 s")
        .expect("GetState succeeds");
    response.into_inner().state.expect("a state")
}

/// Reads `stream` until a message with at least `revision`; returns how many messages that took.
async fn read_until(stream: &mut tonic::Streaming<pb::WatchStateResponse>, revision: u64, limit: Duration) -> usize {
    tokio::time::timeout(limit, async {
        let mut count = 0;
        loop {
            let message = stream.message().await.expect("stream healthy").expect("stream open");
            count += 1;
            if message.revision >= revision && matches!(message.kind, Some(Kind::Snapshot(_))) {
                return count;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("revision {revision} not seen within {limit:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchers_that_never_read_neither_block_the_server_nor_queue_every_change() {
    const CHANGES: u64 = 300;
    let dir = tempfile::tempdir().expect("tempdir");
    // 50 sessions of ~2 KB: a ~100 KB snapshot, so the unread streams fill their flow-control windows quickly.
    let sessions = |seq| fixed_sessions(50, seq, 2000);
    let (handle, mut publisher) = StateHandle::fixed(sessions(0));
    let server = FixedServer::start(handle.clone(), dir.path()).await;

    // 20 streams that are opened and never polled: 10 clients with a connection each, and 10 streams sharing one
    // connection (which then stalls as a whole once its flow-control window is full: that is HTTP/2, not the server).
    let shared = channel(&server.url).await;
    let mut stuck = Vec::new();
    for i in 0..20 {
        let channel = if i < 10 {
            channel(&server.url).await
        } else {
            shared.clone()
        };
        let mut client = StateServiceClient::new(channel);
        stuck.push(
            client
                .watch_state(pb::WatchStateRequest::default())
                .await
                .expect("watch")
                .into_inner(),
        );
    }
    // A normal client on its own connection.
    let mut client = StateServiceClient::new(channel(&server.url).await);
    let mut watch = client
        .watch_state(pb::WatchStateRequest::default())
        .await
        .expect("watch")
        .into_inner();
    read_until(&mut watch, handle.current().revision, 5 * SECOND).await;

    let mut latest = 0;
    for seq in 1..=CHANGES {
        latest = publisher.publish(sessions(seq));
        // Each change reaches the normal watcher (so every change was really sent out) ...
        read_until(&mut watch, latest, 5 * SECOND).await;
        // ... and GetState stays prompt.
        assert_eq!(get_state(&mut client).await.revision, latest);
    }
    assert_eq!(get_state(&mut client).await.revision, latest);

    // Nothing queues per watcher: when a stuck client finally reads, it gets what the flow-control windows held and
    // then the newest state, not one message per change.
    let stream = &mut stuck[0];
    let messages = read_until(stream, latest, 10 * SECOND).await;
    assert!(
        messages < (CHANGES / 3) as usize,
        "a stuck watcher caught up in {messages} messages for {CHANGES} changes"
    );
    drop(stuck);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_watchers_connecting_and_leaving_at_once() {
    const WATCHERS: usize = 1000;
    let dir = tempfile::tempdir().expect("tempdir");
    let sessions = |seq| fixed_sessions(10, seq, 100);
    let (handle, mut publisher) = StateHandle::fixed(sessions(0));
    let server = FixedServer::start(handle.clone(), dir.path()).await;
    let mut client = StateServiceClient::new(channel(&server.url).await);
    get_state(&mut client).await;
    let baseline = publisher.subscribers();

    // Wave 1: each watcher on its own connection, all at once; each reads its first snapshot, then waits.
    let mut set = JoinSet::new();
    for _ in 0..WATCHERS {
        let url = server.url.clone();
        set.spawn(async move {
            let mut client = StateServiceClient::new(channel(&url).await);
            let mut stream = client
                .watch_state(pb::WatchStateRequest::default())
                .await
                .expect("watch")
                .into_inner();
            let first = stream.message().await.expect("healthy").expect("open");
            assert!(matches!(first.kind, Some(Kind::Snapshot(_))));
            stream
        });
    }
    let mut streams = Vec::new();
    while let Some(joined) = tokio::time::timeout(20 * SECOND, set.join_next())
        .await
        .expect("all connect in time")
    {
        streams.push(joined.expect("watcher task"));
    }
    assert_eq!(streams.len(), WATCHERS);
    assert_eq!(publisher.subscribers(), baseline + WATCHERS);
    // A change while they are all there reaches one of them, and GetState still answers.
    let revision = publisher.publish(sessions(1));
    read_until(&mut streams[WATCHERS / 2], revision, 10 * SECOND).await;
    assert_eq!(get_state(&mut client).await.revision, revision);

    // All leave at once: every stream's task and subscription goes away.
    drop(streams);
    let gone = eventually(10 * SECOND, || async {
        (publisher.subscribers() == baseline).then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "{} subscribers left of {baseline}",
        publisher.subscribers()
    );

    // Wave 2: a thousand calls that leave before reading anything.
    let mut set = JoinSet::new();
    for _ in 0..WATCHERS {
        let url = server.url.clone();
        set.spawn(async move {
            let mut client = StateServiceClient::new(channel(&url).await);
            drop(
                client
                    .watch_state(pb::WatchStateRequest::default())
                    .await
                    .expect("watch"),
            );
        });
    }
    while let Some(joined) = tokio::time::timeout(20 * SECOND, set.join_next())
        .await
        .expect("all calls in time")
    {
        joined.expect("watcher task");
    }
    let gone = eventually(10 * SECOND, || async {
        (publisher.subscribers() == baseline).then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "{} subscribers left of {baseline}",
        publisher.subscribers()
    );

    // The server serves as before.
    let revision = publisher.publish(sessions(2));
    assert_eq!(get_state(&mut client).await.revision, revision);
    let mut watch = client
        .watch_state(pb::WatchStateRequest::default())
        .await
        .expect("watch")
        .into_inner();
    read_until(&mut watch, revision, 5 * SECOND).await;
    server.stop().await;
}

/// Writes `path` as the hook does (temp file in the same directory, then rename), without the fsync, so that ten
/// thousand writes take a fraction of a second.
fn write_renamed(path: &Path, content: &str, n: u64) {
    let name = path.file_name().expect("file name").to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()));
    std::fs::write(&tmp, content).expect("write temp file");
    std::fs::rename(&tmp, path).expect("rename over the session file");
}

fn seq_of(session: &SessionJson) -> Option<u64> {
    session.get("seq").and_then(serde_json::Value::as_u64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_ten_thousand_writes_converges_to_the_last_content_in_few_passes() {
    const FILES: u64 = 50;
    const ROUNDS: u64 = 200;
    let env = TestEnv::new();
    for i in 0..FILES {
        env.write_session(&format!("s{i:02}.json"), &session(&format!("s{i:02}"), "active", 0));
    }
    // TestEnv::config sets the timers to an hour: only file events can bring the last content.
    let server = spawn_server(env.config()).await;
    assert_eq!(server.state.current().sessions.len(), FILES as usize);
    let passes_before = server.state.passes();

    // 10 000 writes, each five inotify events (create, modify, close of the temp file, then the rename's two).
    let dir = env.paths.sessions_dir();
    tokio::task::spawn_blocking(move || {
        for round in 1..=ROUNDS {
            for i in 0..FILES {
                let status = if round == ROUNDS { "done" } else { "active" };
                let content = session(&format!("s{i:02}"), status, round);
                write_renamed(&dir.join(format!("s{i:02}.json")), &content, round * FILES + i);
            }
        }
    })
    .await
    .expect("writer");

    let converged = eventually(10 * SECOND, || async {
        let state = server.state.current();
        let last = state.sessions.len() == FILES as usize
            && state
                .sessions
                .iter()
                .all(|s| seq_of(s) == Some(ROUNDS) && s.get("status") == Some(&"done".into()));
        last.then_some(())
    })
    .await;
    assert!(converged.is_some(), "state did not converge to the last writes");
    let passes = server.state.passes() - passes_before;
    assert!(
        passes < FILES * ROUNDS / 20,
        "{passes} passes for {} writes",
        FILES * ROUNDS
    );
    // And over gRPC too.
    let state = get_state(&mut server.grpc().await).await;
    assert!(state
        .sessions
        .iter()
        .all(|s| s.raw_status == "done" && s.extra_json.contains(&format!("\"seq\":{ROUNDS}"))));
    server.stop().await;
}

fn ids(state: &amc::wire::Snapshot) -> Vec<String> {
    state
        .sessions
        .iter()
        .filter_map(|s| s.get("session_id")?.as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sessions_dir_deleted_and_recreated_is_watched_again() {
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", 0));
    // Timers at an hour (TestEnv::config): events alone must do it. That works because the publisher watches a
    // recreated directory again and then runs one more pass, which sees files written before the new watch existed.
    let server = spawn_server(env.config()).await;
    let state = &server.state;
    assert_eq!(ids(&state.current()), ["a"]);
    let dir = env.paths.sessions_dir();

    // Deleted: the session disappears (the collector recreates the empty dir).
    std::fs::remove_dir_all(&dir).expect("remove the sessions dir");
    let emptied = eventually(5 * SECOND, || async { ids(&state.current()).is_empty().then_some(()) }).await;
    assert!(
        emptied.is_some(),
        "sessions after deleting the dir: {:?}",
        ids(&state.current())
    );
    // Recreated (or already recreated by the collector) with new files: they appear.
    env.write_session("b.json", &session("b", "active", 0));
    env.write_session("c.json", &session("c", "active", 0));
    let listed = eventually(5 * SECOND, || async {
        (ids(&state.current()) == ["b", "c"]).then_some(())
    })
    .await;
    assert!(
        listed.is_some(),
        "sessions after recreating the dir: {:?}",
        ids(&state.current())
    );

    // Deleted and recreated at once, before any pass could look: the new file still appears.
    std::fs::remove_dir_all(&dir).expect("remove the sessions dir again");
    std::fs::create_dir_all(&dir).expect("recreate the sessions dir");
    env.write_session("d.json", &session("d", "active", 0));
    let listed = eventually(5 * SECOND, || async { (ids(&state.current()) == ["d"]).then_some(()) }).await;
    assert!(
        listed.is_some(),
        "sessions after a quick delete and recreate: {:?}",
        ids(&state.current())
    );

    // And the new directory is watched: a later write is seen too.
    env.write_session("d.json", &session("d", "done", 1));
    let seen = eventually(5 * SECOND, || async {
        let current = state.current();
        current
            .sessions
            .first()
            .and_then(|s| seq_of(s))
            .filter(|seq| *seq == 1)
            .map(|_| ())
    })
    .await;
    assert!(seen.is_some(), "a write into the recreated dir was not seen");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_files_renamed_in_from_and_out_to_another_dir_are_seen() {
    // Transcript parsing would call for "a transcript replaced by rename"; the same path is exercised here with the
    // session files, whose directory is the one the collector reads on every pass.
    let env = TestEnv::new();
    env.write_session("a.json", &session("a", "active", 0));
    let server = spawn_server(env.config()).await;
    let state = &server.state;
    let elsewhere = env.home().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).expect("another dir");
    let sessions = env.paths.sessions_dir();

    // Replaced by a file renamed in from another directory.
    std::fs::write(elsewhere.join("a.json"), session("a", "done", 1)).expect("write elsewhere");
    std::fs::rename(elsewhere.join("a.json"), sessions.join("a.json")).expect("rename in");
    let replaced = eventually(5 * SECOND, || async {
        state
            .current()
            .sessions
            .first()
            .and_then(|s| seq_of(s))
            .filter(|seq| *seq == 1)
            .map(|_| ())
    })
    .await;
    assert!(replaced.is_some(), "the renamed-in content was not seen");

    // A new file renamed in appears; a file renamed out disappears.
    std::fs::write(elsewhere.join("b.json"), session("b", "active", 0)).expect("write elsewhere");
    std::fs::rename(elsewhere.join("b.json"), sessions.join("b.json")).expect("rename in");
    let added = eventually(5 * SECOND, || async {
        (ids(&state.current()) == ["a", "b"]).then_some(())
    })
    .await;
    assert!(added.is_some(), "sessions: {:?}", ids(&state.current()));
    std::fs::rename(sessions.join("a.json"), elsewhere.join("a.json")).expect("rename out");
    let removed = eventually(5 * SECOND, || async { (ids(&state.current()) == ["b"]).then_some(()) }).await;
    assert!(removed.is_some(), "sessions: {:?}", ids(&state.current()));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_clients_get_the_same_state_as_plain_ones() {
    // GetState and WatchState send pre-encoded snapshots (server/grpc.rs); compression must still apply to them.
    let dir = tempfile::tempdir().expect("tempdir");
    let sessions = |seq| fixed_sessions(20, seq, 500);
    let (handle, mut publisher) = StateHandle::fixed(sessions(0));
    let server = FixedServer::start(handle, dir.path()).await;
    let channel = channel(&server.url).await;
    let mut plain = StateServiceClient::new(channel.clone());
    let mut gzip = StateServiceClient::new(channel)
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip)
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    let expected = get_state(&mut plain).await;
    assert_eq!(expected.sessions.len(), 20);
    assert_eq!(get_state(&mut gzip).await, expected);

    let mut watch = gzip
        .watch_state(pb::WatchStateRequest::default())
        .await
        .expect("watch")
        .into_inner();
    let first = watch.message().await.expect("healthy").expect("open");
    assert!(matches!(first.kind, Some(Kind::Snapshot(ref s)) if *s == expected));
    let revision = publisher.publish(sessions(1));
    read_until(&mut watch, revision, 5 * SECOND).await;
    assert_eq!(get_state(&mut gzip).await, get_state(&mut plain).await);
    server.stop().await;
}
