//! Operating amc: `/metrics` (guarded, cheap), JSON logs, `amc service --dry-run` and install with a stand-in
//! `systemctl`, `amc doctor` on broken setups, config-file errors naming the key and the line, `hooks status` exit
//! codes, completions, the man page, and one version everywhere. (scripts/test-ops parses `/metrics` with Python's
//! prometheus_client.)

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    os::unix::fs::PermissionsExt as _,
    path::Path,
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use amc::config::{NamedToken, Scope};
use support::TestEnv;

const AMC: &str = env!("CARGO_BIN_EXE_amc");

/// `support::amc` with Claude's and Codex's homes at their defaults under HOME (`~/.claude`, `~/.codex`), where
/// these tests put their files.
fn amc(env: &TestEnv) -> Command {
    let mut command = support::amc(env);
    command.env_remove("CLAUDE_CONFIG_DIR").env_remove("CODEX_HOME");
    command
}

fn text(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Writes an executable shell script.
fn script(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    support::write_executable(path, format!("#!/bin/sh\n{body}\n"));
}

struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `amc serve` on a free port; returns it and its address once the first state is published.
fn serve(env: &TestEnv, extra: &[&str], stderr: Stdio) -> (Served, String) {
    let addr_file = env.home().join("addr");
    let _ = std::fs::remove_file(&addr_file);
    let mut command = amc(env);
    command
        .args(extra)
        .args(["serve", "--listen", "127.0.0.1:0", "--addr-file"]);
    let child = command
        .arg(&addr_file)
        .env("AMC_LIVENESS_MS", "3600000")
        .env("AMC_RECONCILE_MS", "3600000")
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let served = Served(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(addr) = std::fs::read_to_string(&addr_file).ok().filter(|a| !a.is_empty()) {
            return (served, addr);
        }
        assert!(Instant::now() < deadline, "amc serve did not write its address");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn get(url: &str, token: Option<&str>) -> (u16, String) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut request = reqwest::Client::new().get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    })
}

/// The value of the sample `name` (exact series text, labels included) in an exposition.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition
        .lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn metrics_need_the_read_scope_count_streams_and_never_trigger_a_pass() {
    let env = TestEnv::new();
    env.write_session(
        "a.json",
        r#"{"session_id":"a","status":"active","agent":"claude","context_usage":{"current_tokens":50000,"window_tokens":200000,"percent":25.0}}"#,
    );
    std::fs::create_dir_all(env.paths.events_dir()).unwrap();
    std::fs::write(env.paths.events_dir().join("a.jsonl"), "{}\n{}\n{}\n").unwrap();
    std::fs::write(env.paths.data_dir.join("hook.log"), "x amc hook: rejected payload\n").unwrap();
    let access = amc::server::auth::Access::new(
        vec![NamedToken {
            name: "ci".into(),
            secret: "read-secret-1".into(),
            scope: Scope::Read,
        }],
        false,
    );
    let running = support::spawn_server_with_access(env.config(), access).await;
    let url = format!("{}/metrics", running.url());
    let client = reqwest::Client::new();
    let denied = client.get(&url).send().await.unwrap();
    assert_eq!(denied.status(), 401, "no token: refused like every read");
    let scrape = || async {
        let response = client.get(&url).bearer_auth("read-secret-1").send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/openmetrics-text"));
        response.text().await.unwrap()
    };
    let first = scrape().await;
    let sessions: Option<f64> = first
        .lines()
        .find(|l| l.starts_with("amc_sessions{status=\"active\",agent=\"claude\",host=\""))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok());
    assert_eq!(sessions, Some(1.0), "{first}");
    let ratio = sample(&first, "amc_session_context_ratio{session_id=\"a\",agent=\"claude\"}");
    let snapshot = running.state.current();
    match snapshot.proto_sessions[0].context_usage.as_ref() {
        Some(usage) => assert_eq!(ratio, Some(usage.percent / 100.0), "{first}"),
        None => assert_eq!(ratio, None, "no usage, no series: {first}"),
    }
    assert_eq!(sample(&first, "amc_hook_invocations_total"), Some(3.0), "{first}");
    assert_eq!(sample(&first, "amc_hook_failures_total"), Some(1.0), "{first}");
    assert!(first.contains("amc_passes_total{trigger=\"first\"}"), "{first}");
    assert!(first.contains("# TYPE amc_pass_duration_seconds histogram"), "{first}");

    // An open SSE stream is counted until the client goes.
    let stream = client
        .get(format!("{}/api/stream", running.url()))
        .bearer_auth("read-secret-1")
        .send()
        .await
        .unwrap();
    let open = scrape().await;
    assert!(
        sample(&open, "amc_stream_clients{kind=\"sse_state\"}").unwrap_or(0.0) >= 1.0,
        "{open}"
    );
    drop(stream);
    let closed = support::eventually(Duration::from_secs(5), || async {
        let text = scrape().await;
        (sample(&text, "amc_stream_clients{kind=\"sse_state\"}") == Some(0.0)).then_some(())
    })
    .await;
    assert!(closed.is_some(), "the SSE gauge goes back to 0");

    // So is a gRPC watcher (the token as metadata).
    let channel = tonic::transport::Endpoint::from_shared(running.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut request = tonic::Request::new(amc::proto::WatchStateRequest::default());
    request
        .metadata_mut()
        .insert("authorization", "Bearer read-secret-1".parse().unwrap());
    let mut watch = amc::proto::state_service_client::StateServiceClient::new(channel)
        .watch_state(request)
        .await
        .unwrap()
        .into_inner();
    watch.message().await.unwrap().expect("the first snapshot");
    let watching = scrape().await;
    assert_eq!(
        sample(&watching, "amc_stream_clients{kind=\"grpc_watch_state\"}"),
        Some(1.0),
        "{watching}"
    );
    drop(watch);
    let gone = support::eventually(Duration::from_secs(5), || async {
        let text = scrape().await;
        (sample(&text, "amc_stream_clients{kind=\"grpc_watch_state\"}") == Some(0.0)).then_some(())
    })
    .await;
    assert!(gone.is_some(), "the gRPC watcher gauge goes back to 0");

    // 100 scrapes a second for two seconds run no pass and stay fast. (First the passes of the start settle: the
    // catch-up pass after the first watches, the writes above.)
    let mut passes = running.state.passes();
    loop {
        tokio::time::sleep(Duration::from_millis(700)).await;
        let now = running.state.passes();
        if now == passes {
            break;
        }
        passes = now;
    }
    let before = scrape().await;
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for _ in 0..200 {
        let t = Instant::now();
        scrape().await;
        slowest = slowest.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let after = scrape().await;
    let by_trigger = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("amc_passes_total"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(
        running.state.passes(),
        passes,
        "a scrape never triggers a pass: before {:?}, after {:?}",
        by_trigger(&before),
        by_trigger(&after)
    );
    eprintln!("200 scrapes in {:?}, slowest {:?}", started.elapsed(), slowest);
    assert!(slowest < Duration::from_secs(2), "slowest scrape {slowest:?}");
    let requests = scrape().await;
    assert!(
        sample(&requests, "amc_http_requests_total{route=\"/metrics\",code=\"200\"}").unwrap_or(0.0) >= 200.0,
        "{requests}"
    );
    running.stop().await;
}

#[test]
fn json_logs_parse_line_by_line_with_request_and_pass_fields() {
    let env = TestEnv::new();
    let log = env.home().join("stderr.log");
    let file = std::fs::File::create(&log).unwrap();
    let (served, addr) = {
        // RUST_LOG=debug: the request lines are at debug level.
        let addr_file = env.home().join("addr");
        let child = amc(&env)
            .args(["serve", "--listen", "127.0.0.1:0", "--addr-file"])
            .arg(&addr_file)
            .env("AMC_LOG_FORMAT", "json")
            .env("RUST_LOG", "amc=debug")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        let served = Served(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = loop {
            if let Some(addr) = std::fs::read_to_string(&addr_file).ok().filter(|a| !a.is_empty()) {
                break addr;
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(20));
        };
        (served, addr)
    };
    env.write_session("s.json", r#"{"session_id":"s","status":"active","agent":"claude"}"#);
    let (status, _) = get(&format!("http://{addr}/api/sessions/s/explain"), None);
    assert!(status == 200 || status == 404, "{status}");
    get(&format!("http://{addr}/api/health"), None);
    std::thread::sleep(Duration::from_millis(300));
    drop(served);
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line:?}")))
        .collect();
    assert!(!text.contains('\u{1b}'), "no ANSI codes in a file");
    let request = lines
        .iter()
        .find(|l| l["message"] == "request finished" && l["span"]["path"] == "/api/sessions/s/explain")
        .unwrap_or_else(|| panic!("no request line for the explain call:\n{text}"));
    assert_eq!(request["span"]["method"], "GET");
    assert_eq!(request["span"]["session_id"], "s");
    assert!(request["span"]["status"].is_u64(), "{request}");
    assert!(request["span"]["latency_ms"].is_f64(), "{request}");
    assert!(
        lines
            .iter()
            .any(|l| l["span"]["name"] == "pass" && l["span"]["trigger"] == "first"),
        "a pass's lines carry its trigger:\n{text}"
    );
    assert!(
        lines.iter().any(|l| l["message"] == "amc is ready: open the dashboard"
            && l["dashboard"]
                .as_str()
                .is_some_and(|d| d.starts_with("http://127.0.0.1:"))),
        "{text}"
    );
}

#[test]
fn text_logs_have_no_colour_in_a_file_and_serve_prints_the_dashboard_url() {
    let env = TestEnv::new();
    let log = env.home().join("stderr.log");
    let (served, addr) = serve(
        &env,
        &["--log-format", "text"],
        Stdio::from(std::fs::File::create(&log).unwrap()),
    );
    drop(served);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(!text.contains('\u{1b}'), "{text:?}");
    let port = addr.rsplit(':').next().unwrap().trim();
    assert!(
        text.contains(&format!("open the dashboard at http://127.0.0.1:{port}/#access_token=")),
        "{text}"
    );
    // A bad format is a clear error.
    let output = amc(&env)
        .args(["config", "show"])
        .env("AMC_LOG_FORMAT", "yaml")
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(text_of(&output).contains("AMC_LOG_FORMAT"), "{}", text_of(&output));
}

fn text_of(output: &Output) -> String {
    let (out, err) = text(output);
    out + &err
}

#[test]
fn listen_accepts_localhost_and_the_version_is_one_everywhere() {
    let env = TestEnv::new();
    let addr_file = env.home().join("addr");
    let child = amc(&env)
        .args(["serve", "--listen", "localhost:0", "--addr-file"])
        .arg(&addr_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _served = Served(child);
    let deadline = Instant::now() + Duration::from_secs(20);
    let addr = loop {
        if let Some(addr) = std::fs::read_to_string(&addr_file).ok().filter(|a| !a.is_empty()) {
            break addr;
        }
        assert!(Instant::now() < deadline, "serve --listen localhost:0 did not start");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let (_, health) = get(&format!("http://{addr}/api/health"), None);
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    let version = amc(&env).arg("--version").output().unwrap();
    let cli_version = text(&version).0.trim().strip_prefix("amc ").unwrap().to_owned();
    assert_eq!(health["version"], cli_version.as_str());
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let quoted = format!("\"{cli_version}\"");
    let package: serde_json::Value = serde_json::from_str(&read("clients/typescript/package.json")).unwrap();
    assert_eq!(package["version"], cli_version.as_str(), "TypeScript client");
    // The Python package's version is dynamic: pyproject.toml reads it from amc_client/_version.py.
    assert!(
        read("clients/python/pyproject.toml").contains("version = { attr = \"amc_client._version.__version__\" }"),
        "Python client's package takes its version from _version.py"
    );
    assert!(
        read("clients/python/src/amc_client/_version.py").contains(&format!("__version__ = {quoted}")),
        "Python client's __version__"
    );
    // The licence named by every manifest is the LICENSE file's.
    assert!(read("LICENSE").starts_with("MIT License"));
    assert!(read("Cargo.toml").contains("license = \"MIT\""));
    assert_eq!(package["license"], "MIT");
    assert!(read("clients/python/pyproject.toml").contains("license = \"MIT\""));
    assert!(read("CHANGELOG.md").contains(&format!("## {cli_version}")));
}

#[test]
fn service_dry_run_prints_the_unit_or_plist_and_the_commands() {
    let env = TestEnv::new();
    let output = amc(&env)
        .args(["service", "install", "--dry-run", "--platform", "systemd"])
        .output()
        .unwrap();
    let (out, err) = text(&output);
    assert!(output.status.success(), "{err}");
    let unit = env.home().join(".config/systemd/user/amc.service");
    assert!(out.contains(&format!("would write {}", unit.display())), "{out}");
    let binary = std::fs::canonicalize(AMC).unwrap();
    assert!(
        out.contains(&format!("ExecStart={} serve\n", binary.display())),
        "{out}"
    );
    assert!(out.contains("Restart=on-failure"), "{out}");
    assert!(out.contains("systemctl --user enable --now amc.service"), "{out}");
    assert!(!unit.exists(), "a dry run writes nothing");

    let output = amc(&env)
        .args(["service", "install", "--dry-run", "--platform", "launchd"])
        .output()
        .unwrap();
    let (out, _) = text(&output);
    assert!(output.status.success());
    assert!(
        out.contains(&format!(
            "would write {}",
            env.home().join("Library/LaunchAgents/local.amc.serve.plist").display()
        )),
        "{out}"
    );
    assert!(out.contains("<key>KeepAlive</key>\n  <true/>"), "{out}");
    assert!(out.contains(&format!("<string>{}</string>", binary.display())), "{out}");
    assert!(out.contains("launchctl bootstrap gui/"), "{out}");
}

#[test]
fn service_install_is_idempotent_shows_a_diff_and_explains_a_missing_systemctl() {
    let env = TestEnv::new();
    let bin = env.home().join("bin");
    let calls = env.home().join("calls");
    script(
        &bin.join("systemctl"),
        &format!("echo \"$@\" >> {}\nexit 0", calls.display()),
    );
    let path = format!("{}:/usr/bin:/bin", bin.display());
    let install = || {
        amc(&env)
            .args(["service", "install", "--platform", "systemd"])
            .env("PATH", &path)
            .output()
            .unwrap()
    };
    let first = install();
    assert!(first.status.success(), "{}", text_of(&first));
    let unit = env.home().join(".config/systemd/user/amc.service");
    assert!(std::fs::read_to_string(&unit).unwrap().contains("Restart=on-failure"));
    let logged = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(logged, "--user daemon-reload\n--user enable --now amc.service\n");
    let again = install();
    assert!(again.status.success());
    assert!(text_of(&again).contains("is up to date"), "{}", text_of(&again));
    // An edited unit is shown as a diff and replaced, and the service restarted.
    std::fs::write(&unit, "[Service]\nExecStart=/old/amc serve\n").unwrap();
    let changed = install();
    let out = text_of(&changed);
    assert!(changed.status.success(), "{out}");
    assert!(
        out.contains("-ExecStart=/old/amc serve") && out.contains("+Restart=on-failure"),
        "{out}"
    );
    assert!(std::fs::read_to_string(&calls)
        .unwrap()
        .ends_with("--user restart amc.service\n"));
    // Status reads the unit and asks systemctl.
    let status = amc(&env)
        .args(["service", "status", "--platform", "systemd"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", text_of(&status));
    // Uninstall stops it and removes the file.
    let removed = amc(&env)
        .args(["service", "uninstall", "--platform", "systemd"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(removed.status.success(), "{}", text_of(&removed));
    assert!(!unit.exists());
    assert!(std::fs::read_to_string(&calls)
        .unwrap()
        .ends_with("--user disable --now amc.service\n"));
    let status = amc(&env)
        .args(["service", "status", "--platform", "systemd"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(!status.status.success());
    assert!(text_of(&status).contains("not installed"));

    // No systemctl at all: a clear error with the manual steps.
    let empty = env.home().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let output = amc(&env)
        .args(["service", "install", "--platform", "systemd"])
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = text(&output).1;
    assert!(
        err.contains("cannot run systemctl") && err.contains("Manual steps"),
        "{err}"
    );
    assert!(err.contains("systemctl --user enable --now amc.service"), "{err}");
}

/// A working setup for the doctor: hooks installed, a Zellij 0.44 stand-in, a transcript dir, a running server.
fn healthy(env: &TestEnv) -> (Served, Command) {
    script(&env.home().join("bin/zellij"), "echo zellij 0.44.0");
    std::fs::create_dir_all(env.home().join(".claude/projects/p")).unwrap();
    let install = amc(env).args(["hooks", "install"]).output().unwrap();
    assert!(install.status.success(), "{}", text_of(&install));
    let (served, addr) = serve(env, &[], Stdio::null());
    std::fs::write(env.paths.addr_file(), &addr).unwrap();
    let mut doctor = amc(env);
    doctor
        .args(["doctor", "--json"])
        .env("AMC_ZELLIJ_BIN", env.home().join("bin/zellij"));
    (served, doctor)
}

fn findings(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("doctor --json ({e}): {}", text_of(output)))
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {report}"))
}

#[test]
fn doctor_passes_a_healthy_setup_and_names_each_broken_part_with_a_fix() {
    let env = TestEnv::new();
    let (served, mut doctor) = healthy(&env);
    let output = doctor.output().unwrap();
    let report = findings(&output);
    assert!(output.status.success(), "{report:#}");
    assert_eq!(report["ok"], true);
    assert_eq!(check(&report, "server")["status"], "ok", "{report:#}");
    assert!(check(&report, "server")["detail"]
        .as_str()
        .unwrap()
        .contains(env!("CARGO_PKG_VERSION")));
    assert_eq!(check(&report, "zellij")["status"], "ok", "{report:#}");
    assert_eq!(check(&report, "hooks")["status"], "ok", "{report:#}");
    drop(served);

    // Now break things, one each.
    // 1. The server is gone: said so, the rest still checked.
    let output = amc(&env)
        .args(["doctor", "--json"])
        .env("AMC_ZELLIJ_BIN", env.home().join("bin/zellij"))
        .output()
        .unwrap();
    let report = findings(&output);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(check(&report, "server")["status"], "fail");
    assert!(check(&report, "server")["fix"].as_str().unwrap().contains("amc serve"));
    assert_eq!(check(&report, "zellij")["status"], "ok", "the rest is still checked");
    // 2. The hook's binary is gone; an old Zellij; a world-readable token; a data dir that is a file.
    let settings = env.home().join(".claude/settings.json");
    let moved = std::fs::read_to_string(&settings)
        .unwrap()
        .replace(&std::fs::canonicalize(AMC).unwrap().display().to_string(), "/gone/amc");
    std::fs::write(&settings, moved).unwrap();
    script(&env.home().join("bin/zellij"), "echo zellij 0.40.2");
    std::fs::write(env.paths.token_file(), "secret").unwrap();
    std::fs::set_permissions(env.paths.token_file(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let output = amc(&env)
        .args(["doctor", "--json"])
        .env("AMC_ZELLIJ_BIN", env.home().join("bin/zellij"))
        .output()
        .unwrap();
    let report = findings(&output);
    let hooks = check(&report, "hooks");
    assert_eq!(hooks["status"], "fail", "{report:#}");
    assert!(
        hooks["detail"].as_str().unwrap().contains("/gone/amc does not exist"),
        "{hooks}"
    );
    assert_eq!(hooks["fix"], "run `amc hooks install`");
    assert_eq!(check(&report, "zellij")["status"], "warn");
    assert!(check(&report, "zellij")["detail"].as_str().unwrap().contains("0.44"));
    assert_eq!(check(&report, "token")["status"], "fail");
    assert!(check(&report, "token")["fix"].as_str().unwrap().contains("chmod 600"));
    // `amc hooks status` agrees, with a non-zero exit.
    let status = amc(&env).args(["hooks", "status"]).output().unwrap();
    assert!(!status.status.success());
    assert!(text_of(&status).contains("/gone/amc"), "{}", text_of(&status));

    let blocker = env.home().join("file");
    std::fs::write(&blocker, "").unwrap();
    let output = amc(&env)
        .args(["doctor"])
        .env("AMC_DATA_DIR", blocker.join("amc"))
        .env("AMC_ZELLIJ_BIN", env.home().join("nothing"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let out = text(&output).0;
    assert!(out.contains("FAIL data dir"), "{out}");
    assert!(out.contains("FAIL zellij"), "{out}");
    assert!(out.contains("fix: "), "{out}");

    // 3. A broken config file is a finding, not a crash.
    let config = env.home().join(".config/amc/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "heartbeat_ms = \"soon\"\n").unwrap();
    let output = amc(&env).args(["doctor", "--json"]).output().unwrap();
    let report = findings(&output);
    let finding = check(&report, "config");
    assert_eq!(finding["status"], "fail");
    assert!(
        finding["detail"].as_str().unwrap().contains("heartbeat_ms"),
        "{finding}"
    );
}

#[test]
fn hooks_status_exits_zero_only_when_every_hook_is_there() {
    let env = TestEnv::new();
    let status = amc(&env).args(["hooks", "status"]).output().unwrap();
    assert!(!status.status.success(), "no settings.json: not installed");
    let install = amc(&env).args(["hooks", "install"]).output().unwrap();
    assert!(install.status.success());
    let status = amc(&env).args(["hooks", "status"]).output().unwrap();
    assert!(status.status.success(), "{}", text_of(&status));
}

#[test]
fn config_errors_name_the_key_the_source_and_the_line() {
    let env = TestEnv::new();
    let file = env.home().join("amc.toml");
    let run = |env_vars: &[(&str, &str)]| {
        let mut command = amc(&env);
        command.args(["--config"]).arg(&file).args(["snapshot"]);
        for (k, v) in env_vars {
            command.env(k, v);
        }
        command.output().unwrap()
    };
    // An unknown key, with its line.
    std::fs::write(&file, "# amc\nlisten = \"127.0.0.1:7400\"\n\n[notify]\ndwel_ms = 5\n").unwrap();
    let output = run(&[]);
    assert!(!output.status.success());
    let err = text(&output).1;
    assert!(
        err.contains(&file.display().to_string()) && err.contains("line 5") && err.contains("notify.dwel_ms"),
        "{err}"
    );
    // A value of the wrong kind, with its line.
    std::fs::write(&file, "listen = \"127.0.0.1:7400\"\nheartbeat_ms = \"fast\"\n").unwrap();
    let err = text(&run(&[])).1;
    assert!(err.contains("heartbeat_ms (AMC_HEARTBEAT_MS)"), "{err}");
    assert!(err.contains("line 2") && err.contains("\"fast\""), "{err}");
    // The environment beats the file, so a good variable hides a bad file value ...
    let output = run(&[("AMC_HEARTBEAT_MS", "100")]);
    assert!(output.status.success(), "{}", text_of(&output));
    // ... and a garbage variable is named as such.
    std::fs::write(&file, "").unwrap();
    let err = text(&run(&[("AMC_ACTION_RATE", "lots")])).1;
    assert!(
        err.contains("action_rate (AMC_ACTION_RATE) from $AMC_ACTION_RATE"),
        "{err}"
    );
    let err = text(&run(&[("AMC_LISTEN", "nowhere")])).1;
    assert!(err.contains("listen (AMC_LISTEN)"), "{err}");
    // Invalid TOML: the parser's line and column.
    std::fs::write(&file, "listen = \"127.0.0.1:7400\"\n[notify\n").unwrap();
    let err = text(&run(&[])).1;
    assert!(err.contains("line 2"), "{err}");
    // Unreadable: a directory.
    let err = text(
        &amc(&env)
            .args(["--config"])
            .arg(env.home())
            .args(["snapshot"])
            .output()
            .unwrap(),
    )
    .1;
    assert!(err.contains(&env.home().display().to_string()), "{err}");
    // Flag > env > file > default, as `config show` tells.
    std::fs::write(&file, "listen = \"127.0.0.1:1111\"\nheartbeat_ms = 7\n").unwrap();
    let output = amc(&env)
        .args(["--config"])
        .arg(&file)
        .args(["config", "show"])
        .env("AMC_LISTEN", "127.0.0.1:2222")
        .output()
        .unwrap();
    let out = text(&output).0;
    assert!(out.contains("= 127.0.0.1:2222  (env AMC_LISTEN)"), "{out}");
    assert!(out.contains("= 7  (file)"), "{out}");
    assert!(out.contains("= 15000  (default)"), "{out}");
}

#[test]
fn completions_and_the_man_page_come_from_the_command_line_definitions() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        let output = amc(&env).args(["completions", shell]).output().unwrap();
        assert!(output.status.success());
        let out = text(&output).0;
        for word in ["serve", "doctor", "service", "log-format"] {
            assert!(out.contains(word), "{shell} completion lacks {word}");
        }
    }
    let output = amc(&env).arg("man").output().unwrap();
    let page = text(&output).0;
    assert!(page.contains(".TH amc 1"), "{page}");
    assert!(page.contains("doctor"), "{page}");
    let dir = env.home().join("man");
    assert!(amc(&env)
        .args(["man", "--out-dir"])
        .arg(&dir)
        .status()
        .unwrap()
        .success());
    assert!(dir.join("amc.1").is_file() && dir.join("amc-serve.1").is_file());
    // serve --help lists the environment variables.
    let help = text(&amc(&env).args(["serve", "--help"]).output().unwrap()).0;
    for var in [
        "AMC_LISTEN",
        "AMC_DATA_DIR",
        "AMC_LOG_FORMAT",
        "AMC_TOKEN",
        "RUST_LOG",
        "NO_COLOR",
    ] {
        assert!(help.contains(var), "serve --help lacks {var}");
    }
}

#[test]
fn every_setting_is_documented_in_the_readme_with_its_variable_and_default() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    for setting in amc::config::SETTINGS {
        let row = format!("| `{}` | `{}` | ", setting.key, setting.env);
        let line = readme
            .lines()
            .find(|l| l.starts_with(&row))
            .unwrap_or_else(|| panic!("README has no row {row}"));
        let default = line[row.len()..].split(" | ").next().unwrap();
        if setting.default.is_empty() || setting.secret {
            assert!(default == "unset" || default.is_empty(), "{line}");
        } else {
            assert!(!default.is_empty(), "{line}");
        }
    }
}
