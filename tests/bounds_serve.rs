//! Issue 24 against a spawned `amc serve`: 2 000 zero-byte connections under `ulimit -n 256`, weak tokens on a
//! non-loopback listener, SIGHUP. (The in-process cases are in `tests/bounds.rs`.)

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use support::TestEnv;

const AMC: &str = env!("CARGO_BIN_EXE_amc");

/// `support::amc` with Claude's and Codex's homes at their defaults under HOME (`~/.claude`, `~/.codex`), where
/// these tests put their files.
fn amc(env: &TestEnv) -> Command {
    let mut command = support::amc(env);
    command.env_remove("CLAUDE_CONFIG_DIR").env_remove("CODEX_HOME");
    command
}

#[test]
fn weak_tokens_are_refused_for_a_non_loopback_listener() {
    let env = TestEnv::new();
    for weak in ["x", " ", "password-password-password-12345"] {
        let output = amc(&env)
            .args(["serve", "--listen", "0.0.0.0:0"])
            .env("AMC_TOKEN", weak)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{weak:?} accepted");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("refusing to listen on non-loopback") && stderr.contains("openssl rand -hex 32")
                || stderr.contains("without a token"),
            "{stderr}"
        );
    }
}

/// A spawned `amc serve` (killed on drop) and its address.
struct Served {
    child: std::process::Child,
    addr: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(env: &TestEnv, shell_prefix: &str, vars: &[(&str, &str)]) -> Served {
    let addr_file = env.home().join("addr");
    // Through `sh`, so that `ulimit` can lower the limit first; `exec` keeps the pid amc's.
    let mut command = Command::new("sh");
    command
        .env_clear()
        .env("HOME", env.home())
        .env("AMC_DATA_DIR", &env.paths.data_dir)
        .env("AMC_ZELLIJ_BIN", env.home().join("no-zellij"))
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .arg("-c")
        .arg(format!(
            "{shell_prefix} exec \"$0\" serve --listen 127.0.0.1:0 --addr-file \"$1\""
        ))
        .arg(AMC)
        .arg(&addr_file);
    for (k, v) in vars {
        command.env(k, v);
    }
    let child = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let mut served = Served {
        child,
        addr: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(addr) = std::fs::read_to_string(&addr_file) {
            if !addr.is_empty() {
                served.addr = addr;
                return served;
            }
        }
        assert!(Instant::now() < deadline, "amc serve did not write its address");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// CPU seconds (user + system) the process `pid` used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11).and_then(|u| u.parse::<f64>().ok()).unwrap_or(0.0)
        + fields.get(12).and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0);
    ticks / 100.0
}

fn health(addr: &str) -> Option<String> {
    use std::io::{Read as _, Write as _};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    stream
        .write_all(format!("GET /api/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes())
        .ok()?;
    let mut out = String::new();
    stream.read_to_string(&mut out).ok()?;
    out.starts_with("HTTP/1.1 200").then_some(out)
}

/// This process's open-file limits (soft, hard).
fn own_fd_limits() -> (usize, usize) {
    let text = std::fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let line = text.lines().find(|l| l.starts_with("Max open files")).unwrap_or("");
    let mut numbers = line.split_whitespace().skip(3).map(|v| v.parse().unwrap_or(usize::MAX));
    (numbers.next().unwrap_or(1024), numbers.next().unwrap_or(1024))
}

/// How many client connections this process can hold: `wanted`, after raising the soft fd limit towards the hard
/// one with `prlimit` when needed (said visibly when fewer are possible).
fn client_connections(wanted: usize) -> usize {
    let (soft, hard) = own_fd_limits();
    if soft < wanted + 200 {
        let target = hard.min(wanted + 1000);
        let _ = Command::new("prlimit")
            .arg(format!("--pid={}", std::process::id()))
            .arg(format!("--nofile={target}:{hard}"))
            .status();
    }
    let (soft, _) = own_fd_limits();
    let possible = wanted.min(soft.saturating_sub(200));
    if possible < wanted {
        eprintln!("NOTE: only {possible} client connections (ulimit -n {soft} for the test process)");
    }
    possible
}

#[test]
fn two_thousand_zero_byte_connections_under_a_low_fd_limit() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.paths.sessions_dir()).unwrap();
    let served = serve(&env, "ulimit -n 256 &&", &[("AMC_LIMIT_HEADER_TIMEOUT_MS", "1000")]);
    let pid = served.child.id();
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let wanted = client_connections(2000);
    let mut idle = Vec::new();
    for _ in 0..wanted {
        if let Ok(stream) = std::net::TcpStream::connect(&served.addr) {
            idle.push(stream);
        }
    }
    assert!(idle.len() > wanted / 2, "only {} of {wanted} connected", idle.len());
    // The server stays reachable: zero-byte connections are closed after the header timeout, the cap closes the
    // excess at once, and the accept loop backs off at the fd limit.
    let reachable = (0..100).find_map(|_| {
        let answer = health(&served.addr);
        if answer.is_none() {
            std::thread::sleep(Duration::from_millis(100));
        }
        answer
    });
    assert!(reachable.is_some(), "health answers within 10 s");
    std::thread::sleep(Duration::from_millis(1500));
    let elapsed = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    assert!(cpu / elapsed < 0.8, "the server used {cpu:.2} CPU s in {elapsed:.2} s");
    // Every zero-byte connection was closed by the server.
    let mut closed = 0;
    for stream in &mut idle {
        use std::io::Read as _;
        stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
        let mut buf = [0u8; 1];
        if matches!(stream.read(&mut buf), Ok(0) | Err(_)) {
            closed += 1;
        }
    }
    assert!(closed >= idle.len() * 9 / 10, "{closed} of {} closed", idle.len());
    assert!(health(&served.addr).is_some(), "health after the storm");
}

#[test]
fn sighup_is_a_clean_shutdown() {
    let env = TestEnv::new();
    let mut served = serve(&env, "", &[]);
    let pid = served.child.id();
    let status = Command::new("kill").args(["-HUP", &pid.to_string()]).status().unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(5);
    let exit = loop {
        if let Some(exit) = served.child.try_wait().unwrap() {
            break exit;
        }
        assert!(Instant::now() < deadline, "still running 5 s after SIGHUP");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(exit.success(), "clean exit: {exit:?}");
}
