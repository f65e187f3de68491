//! The fleet end to end: the Debian `nats-server -js` on a free loopback port, `amc serve --nats` publishers with
//! their own data dirs, and an `amc serve --fleet` hub, all real processes. Skipped (with a visible message) only
//! where nats-server is not installed; scripts/test installs it.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use amc::proto as pb;
use support::nats::NatsServer;

const AMC: &str = env!("CARGO_BIN_EXE_amc");
/// The hub's TTL in these tests (the default is 15 s).
const TTL_MS: u64 = 3000;

/// One `amc serve` process with its own HOME and data dir.
struct Amc {
    child: Option<Child>,
    home: PathBuf,
    args: Vec<String>,
    env: Vec<(String, String)>,
    addr: String,
}

impl Amc {
    fn start(root: &Path, name: &str, nats: &str, hub: bool) -> Amc {
        Self::start_as(root, name, nats, hub, &[])
    }

    /// Starts one with more environment (NATS credentials).
    fn start_as(root: &Path, name: &str, nats: &str, hub: bool, env: &[(&str, &str)]) -> Amc {
        let home = root.join(name);
        std::fs::create_dir_all(home.join("data/sessions")).unwrap();
        let mut args: Vec<String> = ["serve", "--listen", "127.0.0.1:0", "--nats", nats, "--host", name]
            .iter()
            .map(|s| s.to_string())
            .collect();
        if hub {
            args.push("--fleet".into());
        }
        let mut amc = Amc {
            child: None,
            home,
            args,
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            addr: String::new(),
        };
        amc.spawn();
        amc
    }

    fn data(&self) -> PathBuf {
        self.home.join("data")
    }

    fn spawn(&mut self) {
        let addr_file = self.home.join("addr");
        let _ = std::fs::remove_file(&addr_file);
        let log = std::fs::File::create(self.home.join("log")).unwrap();
        let child = Command::new(AMC)
            .args(&self.args)
            .arg("--addr-file")
            .arg(&addr_file)
            .env_clear()
            .env("HOME", &self.home)
            .env("AMC_DATA_DIR", self.data())
            .env("AMC_ZELLIJ_BIN", self.home.join("no-zellij"))
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("AMC_FLEET_TTL_MS", TTL_MS.to_string())
            .env("AMC_FLEET_HEARTBEAT_MS", "500")
            .env("AMC_HEARTBEAT_MS", "300")
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn amc serve");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(addr) = std::fs::read_to_string(&addr_file) {
                if !addr.is_empty() {
                    self.addr = addr;
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "amc serve did not write its address: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("log")).unwrap_or_default()
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn write_session(&self, id: &str, status: &str) {
        let json = format!(r#"{{"session_id":"{id}","status":"{status}","agent":"claude","project_dir":"/w/{id}"}}"#);
        amc::store::write_atomic(&self.data().join(format!("sessions/{id}.json")), json.as_bytes()).unwrap();
    }

    async fn state(&self) -> serde_json::Value {
        reqwest::get(format!("http://{}/api/state", self.addr))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn grpc(&self) -> pb::state_service_client::StateServiceClient<tonic::transport::Channel> {
        pb::state_service_client::StateServiceClient::connect(format!("http://{}", self.addr))
            .await
            .unwrap()
    }
}

impl Drop for Amc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// (session_id, host, host_unreachable) of every session in an `/api/state` payload.
fn sessions(state: &serde_json::Value) -> Vec<(String, String, bool)> {
    state["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["session_id"].as_str().unwrap_or_default().to_owned(),
                s["host"].as_str().unwrap_or_default().to_owned(),
                s["host_unreachable"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

fn host_state(state: &serde_json::Value, host: &str) -> Option<String> {
    state["hosts"]
        .as_array()?
        .iter()
        .find(|h| h["name"] == host)
        .and_then(|h| h["state"].as_str().map(str::to_owned))
}

/// Waits up to `limit` for the hub's state to satisfy `check`; fails with the last state.
async fn until(hub: &Amc, limit: Duration, what: &str, check: impl Fn(&serde_json::Value) -> bool) -> Duration {
    let start = Instant::now();
    let mut last = serde_json::Value::Null;
    while start.elapsed() < limit {
        last = hub.state().await;
        if check(&last) {
            return start.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{what}: not within {limit:?}; hub state: {last}\nhub log:\n{}",
        hub.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_serves_every_host_follows_changes_acts_remotely_and_survives_faults() {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut nats) = NatsServer::start(dir.path()) else {
        return;
    };
    let url = nats.url();
    // NATS is down when the publishers start: they serve their own state at once all the same.
    nats.kill();
    let mut a = Amc::start(dir.path(), "alpha", &url, false);
    a.write_session("a1", "done");
    a.write_session("a2", "active");
    let b = Amc::start(dir.path(), "bravo", &url, false);
    b.write_session("b1", "active");
    until(&b, Duration::from_secs(10), "bravo's own state without NATS", |s| {
        sessions(s) == [("b1".into(), "bravo".into(), false)]
    })
    .await;
    nats.restart();
    let hub = Amc::start(dir.path(), "hub", &url, true);

    // Every host's sessions, each with its host; the publishers' own state carries their host too.
    until(&hub, Duration::from_secs(15), "all sessions on the hub", |s| {
        sessions(s)
            == [
                ("a1".into(), "alpha".into(), false),
                ("a2".into(), "alpha".into(), false),
                ("b1".into(), "bravo".into(), false),
            ]
            && host_state(s, "hub").is_some()
    })
    .await;
    let own = a.state().await;
    assert_eq!(own["sessions"][0]["host"], "alpha", "{own}");
    let state = hub.state().await;
    for host in ["alpha", "bravo", "hub"] {
        assert_eq!(host_state(&state, host).as_deref(), Some("ok"), "{state}");
    }

    // gRPC: the host filter, and a change on a publisher reaching a WatchState client of the hub.
    let mut grpc = hub.grpc().await;
    let only_bravo = grpc
        .get_state(pb::GetStateRequest {
            filter: Some(pb::SessionFilter {
                hosts: vec!["bravo".into()],
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner()
        .state
        .unwrap();
    assert_eq!(only_bravo.sessions.len(), 1);
    assert_eq!(only_bravo.sessions[0].host, "bravo");
    assert!(
        only_bravo.hosts.iter().any(|h| h.name == "alpha"),
        "the hosts list is whole"
    );
    let mut watch = support::nats::open_watch(&hub.addr).await;
    let changed_at = Instant::now();
    b.write_session("b1", "needs_attention");
    support::nats::watch_until(&mut watch, Duration::from_secs(10), |s| {
        s.session_id == "b1" && s.raw_status == "needs_attention" && s.host == "bravo"
    })
    .await
    .expect("the change reaches the hub's WatchState");
    eprintln!("change on a publisher → hub WatchState: {:?}", changed_at.elapsed());

    // An action on the hub reaches the owning host: a1 (done) is dismissed there, audited on both sides.
    let token = std::fs::read_to_string(hub.data().join("token")).unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/api/sessions/a1/dismiss", hub.addr))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["outcome"], "dismissed", "{answer}");
    assert!(
        !a.data().join("sessions/a1.json").exists(),
        "the file left alpha's sessions"
    );
    let hub_audit = std::fs::read_to_string(hub.data().join("audit.jsonl")).unwrap();
    assert!(
        hub_audit.contains(r#""host":"alpha""#) && hub_audit.contains(r#""outcome":"dismissed""#),
        "{hub_audit}"
    );
    let a_audit = std::fs::read_to_string(a.data().join("audit.jsonl")).unwrap();
    assert!(a_audit.contains(r#""token":"fleet:hub/local""#), "{a_audit}");
    until(&hub, Duration::from_secs(10), "a1 leaves the hub", |s| {
        !sessions(s).iter().any(|(id, _, _)| id == "a1")
    })
    .await;
    // Without the act scope the hub refuses before anything travels.
    let refused = reqwest::Client::new()
        .post(format!("http://{}/api/sessions/a2/dismiss", hub.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);

    // A publisher killed: unreachable within TTL + 5 s, its sessions kept and flagged; back after a restart.
    a.kill();
    let took = until(&hub, Duration::from_millis(TTL_MS + 5000), "alpha unreachable", |s| {
        host_state(s, "alpha").as_deref() == Some("unreachable")
            && sessions(s).contains(&("a2".into(), "alpha".into(), true))
    })
    .await;
    eprintln!("killed publisher shown unreachable after {took:?}");
    a.spawn();
    until(&hub, Duration::from_secs(15), "alpha back", |s| {
        host_state(s, "alpha").as_deref() == Some("ok") && sessions(s).contains(&("a2".into(), "alpha".into(), false))
    })
    .await;

    // nats-server restarted (same store): everything converges, including changes made while it was down.
    nats.kill();
    b.write_session("b2", "active");
    a.write_session("a2", "done");
    tokio::time::sleep(Duration::from_millis(500)).await;
    // The local service is unaffected meanwhile.
    assert!(sessions(&b.state().await).iter().any(|(id, _, _)| id == "b2"));
    nats.restart();
    until(&hub, Duration::from_secs(30), "converged after the NATS restart", |s| {
        let all = sessions(s);
        all.contains(&("b2".into(), "bravo".into(), false))
            && all.contains(&("a2".into(), "alpha".into(), false))
            && s["sessions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["session_id"] == "a2" && x["status"] == "done")
            && host_state(s, "alpha").as_deref() == Some("ok")
            && host_state(s, "bravo").as_deref() == Some("ok")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_skips_bad_keys_and_values_flags_shared_names_conflates_bursts_and_survives_a_deleted_bucket() {
    let dir = tempfile::tempdir().unwrap();
    let Some(nats) = NatsServer::start(dir.path()) else {
        return;
    };
    let url = nats.url();
    let a = Amc::start(dir.path(), "alpha", &url, false);
    a.write_session("a1", "active");
    let hub = Amc::start(dir.path(), "hub", &url, true);
    until(&hub, Duration::from_secs(15), "alpha's session", |s| {
        sessions(s) == [("a1".into(), "alpha".into(), false)]
    })
    .await;

    let client = async_nats::connect(url.as_str()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let kv = js.get_key_value("amc_sessions").await.unwrap();

    // A change costs one put of that session: alpha's other session is not written again.
    a.write_session("a2", "active");
    until(&hub, Duration::from_secs(10), "a2 on the hub", |s| {
        sessions(s).iter().any(|(id, _, _)| id == "a2")
    })
    .await;
    let mut puts = kv.watch("alpha.>").await.unwrap();
    a.write_session("a1", "done");
    let mut written = Vec::new();
    while let Ok(Some(entry)) =
        tokio::time::timeout(Duration::from_secs(2), futures_util::StreamExt::next(&mut puts)).await
    {
        written.push(entry.unwrap().key);
    }
    assert_eq!(written, ["alpha.a1"], "one put for one change");
    drop(puts);
    a.write_session("a2", "gone-soon");
    std::fs::remove_file(a.data().join("sessions/a2.json")).unwrap();
    until(&hub, Duration::from_secs(10), "a2 deleted from the hub", |s| {
        !sessions(s).iter().any(|(id, _, _)| id == "a2")
    })
    .await;
    assert!(kv.get("alpha.a2").await.unwrap().is_none(), "the key is deleted");

    let session = |id: &str, status: &str| -> bytes::Bytes {
        prost::Message::encode_to_vec(&pb::Session {
            session_id: id.into(),
            raw_status: status.into(),
            ..Default::default()
        })
        .into()
    };
    // Not a Session; an unsafe session id; a value naming another id; a host name that is no subject token.
    kv.put("ghost.g1", bytes::Bytes::from_static(b"\xff\xff\xff not a protobuf"))
        .await
        .unwrap();
    kv.put("ghost.x/y", session("x/y", "active")).await.unwrap();
    kv.put("ghost.g2", session("not-g2", "active")).await.unwrap();
    kv.put("_x.g3", session("g3", "active")).await.unwrap();
    // A valid one after them: it shows, the others do not, and the hub keeps serving.
    kv.put("ghost.g4", session("g4", "active")).await.unwrap();
    until(&hub, Duration::from_secs(10), "only the valid ghost session", |s| {
        let listed: Vec<(String, String)> = sessions(s).into_iter().map(|(id, host, _)| (id, host)).collect();
        listed == [("a1".into(), "alpha".into()), ("g4".into(), "ghost".into())]
    })
    .await;
    let log = hub.log();
    assert!(log.contains("not an amc.v1.Session"), "{log}");
    assert!(log.contains("unsafe host or session id"), "{log}");

    // Two processes claiming one host name: both instance ids shown, the host flagged.
    for instance in ["one", "two"] {
        let record = pb::FleetHostRecord {
            name: "ghost".into(),
            instance_id: instance.into(),
            ..Default::default()
        };
        kv.put("_host.ghost", prost::Message::encode_to_vec(&record).into())
            .await
            .unwrap();
    }
    until(&hub, Duration::from_secs(10), "ghost flagged", |s| {
        s["hosts"].as_array().unwrap().iter().any(|h| {
            h["name"] == "ghost" && h["name_conflict"] == true && h["instance_ids"] == serde_json::json!(["one", "two"])
        })
    })
    .await;

    // 20 000 updates in a burst over 200 keys: the hub ends with the newest value of each, its memory bounded.
    let rss_before = rss_kib(&hub);
    for chunk in 0..20 {
        let puts = (0..1000).map(|j| {
            let i = chunk * 1000 + j;
            let id = format!("burst{}", i % 200);
            let value = session(&id, &format!("v{i}"));
            let kv = kv.clone();
            async move { kv.put(format!("ghost.{id}"), value).await }
        });
        futures_util::future::try_join_all(puts).await.unwrap();
    }
    until(&hub, Duration::from_secs(30), "the burst's newest values", |s| {
        let list = s["sessions"].as_array().unwrap();
        list.iter().filter(|x| x["host"] == "ghost").count() == 201
            && list
                .iter()
                .any(|x| x["session_id"] == "burst199" && x["status"] == "v19999")
    })
    .await;
    let rss_after = rss_kib(&hub);
    eprintln!("hub RSS before/after the burst: {rss_before} / {rss_after} KiB");
    assert!(
        rss_after < rss_before + 200 * 1024,
        "hub RSS grew from {rss_before} to {rss_after} KiB"
    );

    // The bucket deleted: the hub and the publisher create it again and alpha's session comes back.
    js.delete_key_value("amc_sessions").await.unwrap();
    until(
        &hub,
        Duration::from_secs(30),
        "alpha back after the bucket was deleted",
        |s| sessions(s) == [("a1".into(), "alpha".into(), false)],
    )
    .await;

    // A session key removed behind the publisher's back (a purge, a lost write): its next heartbeat notices and puts
    // everything again.
    let kv = js.get_key_value("amc_sessions").await.unwrap();
    kv.delete("alpha.a1").await.unwrap();
    until(&hub, Duration::from_secs(10), "a1 gone from the hub", |s| {
        sessions(s).is_empty()
    })
    .await;
    until(&hub, Duration::from_secs(20), "a1 put again by alpha", |s| {
        sessions(s) == [("a1".into(), "alpha".into(), false)]
    })
    .await;
    drop(nats);
}

/// The resident set of `amc`'s process in KiB.
fn rss_kib(amc: &Amc) -> u64 {
    let pid = amc.child.as_ref().unwrap().id();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_permissions_of_the_sample_config_keep_each_host_to_its_own_keys() {
    let dir = tempfile::tempdir().unwrap();
    // docs/fleet.md's sample, without TLS.
    let users = r#"
authorization {
  users = [
    { user: alpha, password: "pw-alpha",
      permissions: { publish: ["$JS.API.>", "$KV.amc_sessions.alpha.>", "$KV.amc_sessions._host.alpha", "_INBOX.>"],
                     subscribe: ["_INBOX.>", "amc.fleet.act.alpha"] } }
    { user: hub, password: "pw-hub",
      permissions: { publish: ["$JS.API.>", "$KV.amc_sessions.hub.>", "$KV.amc_sessions._host.hub", "_INBOX.>",
                               "amc.fleet.act.>"],
                     subscribe: ["_INBOX.>", "amc.fleet.act.hub"] } }
  ]
}
"#;
    let Some(nats) = NatsServer::start_with(dir.path(), users) else {
        return;
    };
    let url = nats.url();
    let alpha = Amc::start_as(
        dir.path(),
        "alpha",
        &url,
        false,
        &[("AMC_NATS_USER", "alpha"), ("AMC_NATS_PASSWORD", "pw-alpha")],
    );
    alpha.write_session("a1", "done");
    // alpha's credentials under another host name: NATS refuses its keys; its own service still works.
    let mallory = Amc::start_as(
        dir.path(),
        "mallory",
        &url,
        false,
        &[("AMC_NATS_USER", "alpha"), ("AMC_NATS_PASSWORD", "pw-alpha")],
    );
    mallory.write_session("m1", "active");
    // A wrong password: never connects, serves its own state.
    let wrong = Amc::start_as(
        dir.path(),
        "wrong",
        &url,
        false,
        &[("AMC_NATS_USER", "alpha"), ("AMC_NATS_PASSWORD", "nope")],
    );
    wrong.write_session("w1", "active");
    let hub = Amc::start_as(
        dir.path(),
        "hub",
        &url,
        true,
        &[("AMC_NATS_USER", "hub"), ("AMC_NATS_PASSWORD", "pw-hub")],
    );
    until(&hub, Duration::from_secs(15), "alpha's session on the hub", |s| {
        sessions(s) == [("a1".into(), "alpha".into(), false)] && host_state(s, "hub").is_some()
    })
    .await;
    until(
        &wrong,
        Duration::from_secs(5),
        "the unauthenticated host's own state",
        |s| sessions(s) == [("w1".into(), "wrong".into(), false)],
    )
    .await;
    until(&mallory, Duration::from_secs(5), "mallory's own state", |s| {
        sessions(s) == [("m1".into(), "mallory".into(), false)]
    })
    .await;
    // A second look after more heartbeats: still only alpha (and the hub's empty host).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let state = hub.state().await;
    assert_eq!(sessions(&state), [("a1".into(), "alpha".into(), false)], "{state}");
    assert!(
        host_state(&state, "mallory").is_none() && host_state(&state, "wrong").is_none(),
        "{state}"
    );
    // The hub may act on alpha's session.
    let token = std::fs::read_to_string(hub.data().join("token")).unwrap();
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("http://{}/api/sessions/a1/dismiss", hub.addr))
        .bearer_auth(token.trim())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(answer["outcome"], "dismissed", "{answer}");
    drop(nats);
}

/// A CA and a server certificate for 127.0.0.1 made with the `openssl` command; `None` (with a message) without it.
fn make_certs(dir: &Path) -> Option<()> {
    let run = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    };
    std::fs::write(dir.join("san.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    let ok = run(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca-key.pem",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=amc test CA",
    ]) && run(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server-key.pem",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    ]) && run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca-key.pem",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
    ]);
    if !ok {
        eprintln!("SKIPPED: the openssl command could not make test certificates");
    }
    ok.then_some(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_with_the_configured_ca_and_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    if make_certs(&certs).is_none() {
        return;
    }
    let tls = format!(
        "tls {{ cert_file: {:?}, key_file: {:?} }}\nauthorization {{ token: \"s3cret-token\" }}\n",
        certs.join("server.pem").display().to_string(),
        certs.join("server-key.pem").display().to_string()
    );
    let Some(nats) = NatsServer::start_with(dir.path(), &tls) else {
        return;
    };
    let url = format!("tls://127.0.0.1:{}", nats.port);
    let ca = certs.join("ca.pem").display().to_string();
    let good = [("AMC_NATS_TLS_CA", ca.as_str()), ("AMC_NATS_TOKEN", "s3cret-token")];
    let alpha = Amc::start_as(dir.path(), "alpha", &url, false, &good);
    alpha.write_session("a1", "active");
    // Without the CA the server's certificate is not trusted: that host never joins.
    let untrusting = Amc::start_as(
        dir.path(),
        "untrusting",
        &url,
        false,
        &[("AMC_NATS_TOKEN", "s3cret-token")],
    );
    untrusting.write_session("u1", "active");
    let hub = Amc::start_as(dir.path(), "hub", &url, true, &good);
    until(&hub, Duration::from_secs(15), "alpha's session over TLS", |s| {
        sessions(s) == [("a1".into(), "alpha".into(), false)] && host_state(s, "hub").is_some()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(host_state(&hub.state().await, "untrusting").is_none());
    drop(nats);
}
