//! Issue 24, against the real server: every read, connection and token has a limit. FIFOs, `/dev/zero` symlinks,
//! sparse 2 GB files (`truncate`), a flooding fake Zellij, oversized headers and bodies, zero-byte connections under a
//! lowered `ulimit -n` (in `tests/bounds_serve.rs`), weak tokens, SIGHUP. RSS and latency are asserted loosely here
//! and measured in `benches/bounds.rs`.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use support::{eventually, spawn_server, spawn_server_warming, spawn_server_with_access, TestEnv};

/// The resident set size of this process, in MiB.
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

fn mkfifo(path: &Path) -> bool {
    Command::new("mkfifo").arg(path).status().is_ok_and(|s| s.success())
}

fn truncate(path: &Path, size: &str) -> bool {
    Command::new("truncate")
        .args(["-s", size])
        .arg(path)
        .status()
        .is_ok_and(|s| s.success())
}

async fn get(url: &str) -> (u16, String, Duration) {
    let started = Instant::now();
    let response = reqwest::get(url).await.expect("request");
    let status = response.status().as_u16();
    let body = response.text().await.expect("body");
    (status, body, started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_event_logs_are_refused_at_once_and_never_starve_the_collector() {
    let env = TestEnv::new();
    let events = env.paths.events_dir();
    std::fs::create_dir_all(&events).unwrap();
    if !mkfifo(&events.join("fifo.jsonl")) {
        eprintln!("SKIP: no mkfifo");
        return;
    }
    std::os::unix::fs::symlink("/dev/zero", events.join("zero.jsonl")).unwrap();
    std::fs::write(env.home().join("secret.txt"), "{\"secret\":1}\n").unwrap();
    std::os::unix::fs::symlink(env.home().join("secret.txt"), events.join("outside.jsonl")).unwrap();
    std::fs::create_dir_all(events.join("dir.jsonl")).unwrap();
    let running = spawn_server(env.config()).await;
    let before = rss_mib();
    let home = env.home().to_string_lossy().into_owned();
    for (id, reason) in [
        ("fifo", "a FIFO"),
        ("zero", "a symlink out of the data dir"),
        ("outside", "a symlink out of the data dir"),
        ("dir", "a directory"),
    ] {
        let (status, body, took) = get(&format!("{}/api/events/{id}", running.url())).await;
        assert_eq!(status, 400, "{id}: {body}");
        assert!(body.contains(reason), "{id}: {body}");
        assert!(!body.contains(&home), "no path in {body}");
        assert!(took < Duration::from_secs(2), "{id} took {took:?}");
    }
    // 300 at once: none hangs, and a session written meanwhile is published promptly.
    let url = running.url();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..300 {
        let url = format!("{url}/api/events/{}", if i % 2 == 0 { "fifo" } else { "zero" });
        set.spawn(async move { reqwest::get(url).await.map(|r| r.status().as_u16()) });
    }
    env.write_session(
        "live.json",
        r#"{"session_id":"live","status":"active","agent":"claude"}"#,
    );
    let published = eventually(Duration::from_secs(5), || async {
        running
            .state
            .current()
            .sessions
            .iter()
            .any(|s| s.get("session_id").and_then(|v| v.as_str()) == Some("live"))
            .then_some(())
    })
    .await;
    assert!(
        published.is_some(),
        "the collector published the new session while requests ran"
    );
    while let Some(joined) = tokio::time::timeout(Duration::from_secs(10), set.join_next())
        .await
        .expect("every request ends")
    {
        assert_eq!(joined.unwrap().unwrap(), 400);
    }
    let grown = rss_mib().saturating_sub(before);
    assert!(grown < 100, "RSS grew {grown} MiB");
    let (status, body, _) = get(&format!("{}/api/health", running.url())).await;
    assert_eq!(status, 200);
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_60_mb_event_log_is_paged_from_the_end_and_a_sparse_2_gb_one_costs_nothing() {
    use std::io::Write as _;
    let env = TestEnv::new();
    let events = env.paths.events_dir();
    std::fs::create_dir_all(&events).unwrap();
    let big = events.join("big.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
    let pad = "p".repeat(160);
    let mut n = 0u64;
    let mut written = 0usize;
    while written < 60 << 20 {
        let line = format!("{{\"event\":\"PreToolUse\",\"n\":{n},\"pad\":\"{pad}\"}}\n");
        written += line.len();
        file.write_all(line.as_bytes()).unwrap();
        n += 1;
    }
    file.flush().unwrap();
    drop(file);
    let sparse = events.join("sparse.jsonl");
    let have_truncate = truncate(&sparse, "2G");
    let running = spawn_server(env.config()).await;
    let before = rss_mib();
    let (status, body, took) = get(&format!("{}/api/events/big", running.url())).await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(2), "a page of a 60 MB log took {took:?}");
    let page: serde_json::Value = serde_json::from_str(&body).unwrap();
    let events_of = |page: &serde_json::Value| -> Vec<u64> {
        page["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["n"].as_u64().unwrap())
            .collect()
    };
    let first = events_of(&page);
    assert_eq!(first.len(), 500, "the default page");
    assert_eq!(*first.last().unwrap(), n - 1, "ends with the newest event");
    assert!(first.windows(2).all(|w| w[1] == w[0] + 1), "in file order");
    let before_offset = page["next_before"].as_u64().expect("an older page");
    let (_, body, _) = get(&format!(
        "{}/api/events/big?limit=1000&before={before_offset}",
        running.url()
    ))
    .await;
    let older = events_of(&serde_json::from_str(&body).unwrap());
    assert_eq!(older.len(), 1000);
    assert_eq!(*older.last().unwrap() + 1, first[0], "pages join without a gap");
    for bad in ["limit=0", "limit=999999", "before=x"] {
        let (status, _, _) = get(&format!("{}/api/events/big?{bad}", running.url())).await;
        assert_eq!(status, 400, "{bad}");
    }
    // Ten at once stay bounded.
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let url = format!("{}/api/events/big?limit=5000", running.url());
        set.spawn(async move { reqwest::get(url).await.unwrap().bytes().await.unwrap().len() });
    }
    while let Some(len) = set.join_next().await {
        assert!(len.unwrap() > 5000 * 150);
    }
    let grown = rss_mib().saturating_sub(before);
    assert!(grown < 150, "RSS grew {grown} MiB for pages of a 60 MB log");
    if have_truncate {
        let (status, body, took) = get(&format!("{}/api/events/sparse", running.url())).await;
        assert_eq!(status, 200, "{body}");
        assert!(took < Duration::from_secs(3), "a sparse 2 GB log took {took:?}");
        let page: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["events"].as_array().unwrap().len(), 0);
        assert!(page["next_before"].as_u64().is_some(), "the scan stopped early: {body}");
    } else {
        eprintln!("SKIP sparse: no truncate");
    }
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_session_files_are_skipped_shown_and_read_again_once_changed() {
    let env = TestEnv::new();
    env.write_session("ok.json", r#"{"session_id":"ok","status":"active","agent":"claude"}"#);
    let sparse = env.paths.sessions_dir().join("sparse.json");
    if !truncate(&sparse, "2G") {
        eprintln!("SKIP: no truncate");
        return;
    }
    let big = env.paths.sessions_dir().join("big.json");
    let mut text = String::from("{\"session_id\":\"big\",\"status\":\"active\",\"agent\":\"claude\",\"x\":\"");
    text.push_str(&"y".repeat(2 << 20));
    text.push_str("\"}");
    std::fs::write(&big, &text).unwrap();
    if mkfifo(&env.paths.sessions_dir().join("fifo.json")) {
        // Never opened blocking: the pass goes on.
    }
    let started = Instant::now();
    let running = spawn_server(env.config()).await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "start-up took {:?}",
        started.elapsed()
    );
    let ids: Vec<String> = running
        .state
        .current()
        .sessions
        .iter()
        .filter_map(|s| s.get("session_id").and_then(|v| v.as_str()).map(str::to_owned))
        .collect();
    assert_eq!(ids, vec!["ok".to_string()]);
    let (_, body, _) = get(&format!("{}/api/health", running.url())).await;
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    let unreadable = health["unreadable_files"].to_string();
    assert!(
        unreadable.contains("sparse.json: 2147483648 bytes, over the limit of 1048576"),
        "{unreadable}"
    );
    assert!(unreadable.contains("big.json"), "{unreadable}");
    // Smaller now: read again.
    env.write_session("big.json", r#"{"session_id":"big","status":"active","agent":"claude"}"#);
    let seen = eventually(Duration::from_secs(5), || async {
        (running.state.current().sessions.len() == 2).then_some(())
    })
    .await;
    assert!(seen.is_some(), "the changed file is read");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_zellij_costs_its_bound_only() {
    let env = TestEnv::new();
    let fake = env.home().join("zellij-flood");
    support::write_executable(&fake, "#!/bin/sh\nexec yes 'not zellij output, a flood of it'\n");
    env.write_session(
        "z.json",
        r#"{"session_id":"z","status":"active","agent":"claude","zellij_session":"s","zellij_pane":"1"}"#,
    );
    // The flood itself: cut at the output bound and killed, the answer unknown, well within the 2 s timeout.
    let started = Instant::now();
    assert!(amc::sources::zellij::list_sessions(Some(&fake), Duration::from_secs(2)).is_none());
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "took {:?}",
        started.elapsed()
    );
    let mut config = env.config();
    config.paths.zellij_bin = Some(fake);
    let before = rss_mib();
    let started = Instant::now();
    let running = spawn_server(config).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "the first pass took {took:?}");
    let grown = rss_mib().saturating_sub(before);
    assert!(grown < 100, "RSS grew {grown} MiB");
    assert_eq!(
        running.state.current().sessions.len(),
        1,
        "liveness unknown: nothing removed"
    );
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_degraded_while_a_pass_is_overdue() {
    let env = TestEnv::new();
    let slow = env.home().join("zellij-slow");
    support::write_executable(&slow, "#!/bin/sh\nsleep 1.8\n");
    env.write_session(
        "z.json",
        r#"{"session_id":"z","status":"active","agent":"claude","zellij_session":"s","zellij_pane":"1"}"#,
    );
    let mut config = env.config();
    config.paths.zellij_bin = Some(slow);
    config.limits.pass_overdue = Duration::from_millis(300);
    let running = spawn_server_warming(config).await;
    let url = format!("{}/api/health", running.url());
    let degraded = eventually(Duration::from_secs(3), || async {
        let (_, body, _) = get(&url).await;
        body.contains("\"status\":\"degraded\"").then_some(body)
    })
    .await;
    assert!(degraded.is_some(), "degraded while the pass runs");
    let ok = eventually(Duration::from_secs(10), || async {
        let (_, body, _) = get(&url).await;
        body.contains("\"status\":\"ok\"").then_some(())
    })
    .await;
    assert!(ok.is_some(), "ok once the pass ended");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_bodies_streams_and_error_messages_are_bounded() {
    let env = TestEnv::new();
    let mut config = env.config();
    config.limits.watches_per_client = 2;
    config.limits.header_bytes = 16 * 1024;
    config.limits.body_bytes = 64 * 1024;
    config.limits.grpc_message_bytes = 4 * 1024;
    let token = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let access = amc::server::auth::Access::new(
        vec![amc::config::NamedToken {
            name: "me".into(),
            secret: token.into(),
            scope: amc::config::Scope::Act,
        }],
        true,
    );
    let running = spawn_server_with_access(config, access).await;
    let client = reqwest::Client::new();
    // 431 for headers over the limit, JSON.
    let response = client
        .get(format!("{}/api/state", running.url()))
        .header("x-big", "h".repeat(20 * 1024))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 431);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("REQUEST_HEADER_FIELDS_TOO_LARGE"));
    // 413 for a body over the limit.
    let response = client
        .post(format!("{}/api/sessions/x/dismiss", running.url()))
        .header("authorization", format!("bEaReR {token}"))
        .body(vec![b' '; 128 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    // `Bearer` in any case reaches the handler (404: no such session, not 401).
    let response = client
        .post(format!("{}/api/sessions/x/dismiss", running.url()))
        .header("authorization", format!("BEARER {token}"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_ne!(response.status().as_u16(), 401);
    // Two SSE streams per client, the third refused.
    let mut open = Vec::new();
    for _ in 0..2 {
        let response = client
            .get(format!("{}/api/stream", running.url()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        open.push(response);
    }
    let third = client
        .get(format!("{}/api/stream", running.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status().as_u16(), 429);
    drop(open);
    let freed = eventually(Duration::from_secs(3), || async {
        let r = client.get(format!("{}/api/stream", running.url())).send().await.ok()?;
        (r.status().as_u16() == 200).then_some(())
    })
    .await;
    assert!(freed.is_some(), "slots are freed when streams end");
    // The same cap for WatchState calls (one HTTP/2 connection, three streams).
    let mut grpc = running.grpc().await;
    let mut watching = Vec::new();
    for _ in 0..2 {
        watching.push(
            grpc.watch_state(amc::proto::WatchStateRequest::default())
                .await
                .expect("within the cap"),
        );
    }
    let refused = grpc
        .watch_state(amc::proto::WatchStateRequest::default())
        .await
        .expect_err("over the cap");
    assert_eq!(refused.code(), tonic::Code::ResourceExhausted, "{refused:?}");
    drop(watching);
    // A gRPC request message over limits.grpc_message_bytes is refused; a small one passes.
    let big = amc::proto::GetStateRequest {
        filter: Some(amc::proto::SessionFilter {
            session_ids: vec!["x".repeat(100); 100],
            ..Default::default()
        }),
    };
    let refused = grpc.get_state(big).await.expect_err("over the decode limit");
    assert!(refused.code() == tonic::Code::OutOfRange, "{refused:?}");
    assert!(grpc.get_state(amc::proto::GetStateRequest::default()).await.is_ok());
    // A 10 KB id is not echoed back.
    let id = "a".repeat(10_000);
    for path in [
        format!("/api/events/{id}"),
        format!("/api/sessions/{id}/explain"),
        format!("/nope/{id}"),
    ] {
        let (status, body, _) = get(&format!("{}{path}", running.url())).await;
        assert!(status >= 400, "{path}");
        assert!(body.len() < 1024, "{} bytes echoed for {}", body.len(), &path[..20]);
    }
    running.stop().await;
}
