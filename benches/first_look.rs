//! First look at big histories (issue 14): `amc snapshot` and `amc serve` as whole processes on sets of sessions with
//! large Claude transcripts, cold (no transcript index) and warm (index present), next to the original collector's
//! in-process pass measured in the same run. A plain program that prints a table: `cargo bench --bench first_look`.
//!
//! Sets (`AMC_BENCH_SETS`, comma list of names; default all): `200x5` (200 sessions × 5 MB, 100 of them in
//! shared-pane pairs), `1000x0.1` (1 000 × 0.1 MB), `20x200` (20 × 200 MB). Under `cargo test` (no `--bench`) a small
//! smoke set runs instead (20 × 0.2 MB, one run each), so the test run stays short.
//!
//! Per set:
//! - **original**: `_collect_sessions` of `../shared/seed/state.py`, in-process, loaded as the differential test does
//!   (`benches/original_pass.py`): `full` (its context-usage stand-in reads every line of each transcript) and
//!   `no-transcripts` (that stand-in answers without reading: the rest of the pass, a lower bound);
//! - **snapshot cold / warm**: `amc snapshot` spawned to exit, wall time and peak RSS (`wait4` `ru_maxrss`), with
//!   `<data dir>/cache/` removed first (cold) or left from the previous run (warm);
//! - **serve cold / warm**: `amc serve` spawned until `/api/state` lists every session (the first full state), and its
//!   peak RSS (`VmHWM`) then.
//!
//! `AMC_BENCH_BIN` measures another amc binary (e.g. a build of the code before issue 14) and
//! `AMC_BENCH_SKIP_ORIGINAL=1` leaves the original's rows out.
//!
//! Transcripts use a model without native 1M and no `[1m]` setting, so a cold read must look back through the whole
//! 5 MB history for the ">200K seen" window rule: the hardest case. Session files are restored before every run
//! (the same-pane dedupe moves the losers to `trash/`, the original deletes them). Data lives in a temp dir.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// wait4 (the child's peak RSS from its rusage) and kill have no safe std equivalent.
#![allow(unsafe_code)]

use std::{
    fs::{self, File},
    io::{BufWriter, Read, Write},
    net::TcpStream,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const MB: f64 = 1_000_000.0;

/// One set of sessions.
struct Set {
    name: &'static str,
    sessions: usize,
    transcript_bytes: u64,
    runs: usize,
}

fn assistant(i: usize, read: u64, out: u64) -> String {
    format!(
        r#"{{"parentUuid":"p-{i}","isSidechain":false,"userType":"external","cwd":"/bench","sessionId":"s","version":"2.1.39","gitBranch":"main","message":{{"model":"claude-opus-4-6","id":"msg_{i:024}","type":"message","role":"assistant","content":[{{"type":"text","text":"Looking at the module now."}}],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":1,"cache_creation_input_tokens":304,"cache_read_input_tokens":{read},"output_tokens":{out},"service_tier":"standard"}}}},"requestId":"req_{i}","type":"assistant","uuid":"a-{i}","timestamp":"2026-02-12T15:05:00.586Z"}}"#
    ) + "\n"
}

/// One block of a 2.1.x session: a prompt, a split response, hook progress, a 7–70 KB tool result.
fn block(i: usize) -> String {
    let mut s = format!(
        r#"{{"parentUuid":"a-{i}","isSidechain":false,"type":"user","message":{{"role":"user","content":"please look at module {i} and fix the failing test"}},"uuid":"u-{i}","timestamp":"2026-02-12T15:04:00.000Z"}}"#
    ) + "\n";
    for _ in 0..3 {
        s += &assistant(i, 90_000 + (i as u64 % 10_000), 120);
    }
    for _ in 0..4 {
        s += &format!(
            r#"{{"parentUuid":"a-{i}","isSidechain":false,"type":"progress","data":{{"type":"hook_progress","hookEvent":"PostToolUse","hookName":"PostToolUse:Bash","command":"~/.claude/hooks/log.sh"}},"toolUseID":"toolu_{i}","timestamp":"2026-02-12T15:04:01.000Z","uuid":"pr-{i}"}}"#
        );
        s.push('\n');
    }
    let output = "test result: ok. 1 passed; 0 failed\\n".repeat(if i.is_multiple_of(16) { 2_000 } else { 200 });
    s += &format!(
        r#"{{"parentUuid":"a-{i}","isSidechain":false,"type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_{i}","type":"tool_result","content":"{output}","is_error":false}}]}},"uuid":"tr-{i}","timestamp":"2026-02-12T15:04:02.000Z"}}"#
    );
    s.push('\n');
    s
}

/// Writes a transcript of about `bytes` bytes (from `body`, a prefix repeated) ending with a usable line distinct per
/// session.
fn write_transcript(path: &Path, body: &[u8], bytes: u64, i: usize) {
    let mut out = BufWriter::with_capacity(4 << 20, File::create(path).expect("create transcript"));
    let mut written = 0u64;
    while written < bytes {
        let n = (bytes - written).min(body.len() as u64) as usize;
        // Whole lines only: cut at the last newline within n.
        let cut = body[..n].iter().rposition(|&b| b == b'\n').map_or(n, |p| p + 1);
        out.write_all(&body[..cut]).expect("write");
        written += cut as u64;
        if cut == 0 {
            break;
        }
    }
    out.write_all(assistant(1_000_000 + i, 100_000 + i as u64, 7).as_bytes())
        .expect("write");
    out.flush().expect("flush");
}

/// The bench's HOME: transcripts, session files and their pristine copy.
struct World {
    _tmp: tempfile::TempDir,
    home: PathBuf,
    data: PathBuf,
    pristine: PathBuf,
    zellij: PathBuf,
}

impl World {
    fn create(set: &Set) -> World {
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("home");
        let data = home.join(".local/share/amc");
        let pristine = tmp.path().join("pristine");
        fs::create_dir_all(&pristine).expect("mkdir");
        let mut body = String::new();
        let mut i = 0;
        while (body.len() as u64) < set.transcript_bytes.min(8 << 20) {
            body += &block(i);
            i += 1;
        }
        for i in 0..set.sessions {
            let id = format!("bench-{i:04}-7c1e2b9a-5d2f-4e0b-9a43-{i:012}");
            let project = format!("/bench/project-{i}");
            let dir = home.join(".claude/projects").join(project.replace('/', "-"));
            fs::create_dir_all(&dir).expect("mkdir");
            let transcript = dir.join(format!("{id}.jsonl"));
            write_transcript(&transcript, body.as_bytes(), set.transcript_bytes, i);
            // The first 100 sessions share a pane in pairs, the rest have their own.
            let pane = if i < 100 { i / 2 } else { i };
            let session = serde_json::json!({
                "session_id": id,
                "agent": "claude",
                "status": "done",
                "project_dir": project,
                "cwd": project,
                "transcript_path": transcript,
                "zellij_session": "bench",
                "zellij_pane": pane.to_string(),
                "started_at": "2026-02-12T15:04:00.000000+00:00",
                "last_event": "Stop",
                "last_event_at": "2026-02-12T15:05:00.586000+00:00",
                "last_message_preview": "I updated the collector and the tests pass.",
                "model": "claude-opus-4-6",
                "permission_mode": "default",
            });
            fs::write(pristine.join(format!("{id}.json")), session.to_string()).expect("write session");
        }
        let zellij = tmp.path().join("no-zellij");
        let world = World {
            home,
            data,
            pristine,
            zellij,
            _tmp: tmp,
        };
        world.restore();
        world
    }

    /// The shell command that puts the session files back as generated.
    fn restore_command(&self) -> String {
        format!(
            "rm -rf '{d}/sessions' '{d}/trash' && mkdir -p '{d}' && cp -r '{p}' '{d}/sessions'",
            d = self.data.display(),
            p = self.pristine.display()
        )
    }

    fn restore(&self) {
        let status = Command::new("sh")
            .arg("-c")
            .arg(self.restore_command())
            .status()
            .expect("sh");
        assert!(status.success(), "restore failed");
    }

    fn drop_index(&self) {
        let _ = fs::remove_dir_all(self.data.join("cache"));
    }

    fn command(&self, bin: &Path) -> Command {
        let mut cmd = Command::new(bin);
        cmd.env_clear()
            .env("HOME", &self.home)
            .env("PATH", "/usr/bin:/bin")
            .env("AMC_ZELLIJ_BIN", &self.zellij)
            .env("RUST_LOG", "warn");
        cmd
    }
}

/// Runs `cmd` to exit; returns wall time, peak RSS in KiB, and stdout.
#[allow(clippy::zombie_processes, reason = "reaped by wait4, which also gives its rusage")]
fn run_to_exit(mut cmd: Command) -> (Duration, u64, Vec<u8>) {
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("spawn");
    let mut out = Vec::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_end(&mut out).expect("read stdout");
    }
    let (status, rss) = wait_rusage(child.id());
    let wall = started.elapsed();
    assert!(status == 0, "process failed: {status}");
    (wall, rss, out)
}

/// Waits for `pid`; returns its exit status and `ru_maxrss` (KiB).
fn wait_rusage(pid: u32) -> (i32, u64) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; `pid` is our child, not yet reaped.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: plain syscall with valid pointers.
    let r = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    assert!(r == pid as i32, "wait4 failed");
    (libc::WEXITSTATUS(status), usage.ru_maxrss as u64)
}

fn http_get(addr: &str, path: &str) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    Some(text)
}

/// Starts `amc serve`; returns the time until `/api/state` lists `expected` sessions, and the server's peak RSS then.
#[allow(clippy::zombie_processes, reason = "reaped by wait4 after SIGTERM")]
fn serve_first_state(world: &World, bin: &Path, expected: usize) -> (Duration, u64) {
    let addr_file = world.home.join("addr");
    let _ = fs::remove_file(&addr_file);
    let started = Instant::now();
    let mut cmd = world.command(bin);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--addr-file"])
        .arg(&addr_file)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let child = cmd.spawn().expect("spawn serve");
    let deadline = started + Duration::from_secs(300);
    let mut result = None;
    while Instant::now() < deadline {
        if let Ok(addr) = fs::read_to_string(&addr_file) {
            let addr = addr.trim();
            if !addr.is_empty() {
                if let Some(body) = http_get(addr, "/api/state") {
                    if let Some(json) = body.split("\r\n\r\n").nth(1) {
                        let n = serde_json::from_str::<serde_json::Value>(json.trim())
                            .ok()
                            .and_then(|v| v["sessions"].as_array().map(Vec::len));
                        if n == Some(expected) {
                            result = Some(started.elapsed());
                            break;
                        }
                    }
                }
            }
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let rss = fs::read_to_string(format!("/proc/{}/status", child.id()))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0);
    // SAFETY: signalling our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    wait_rusage(child.id());
    (result.expect("serve never listed every session"), rss)
}

fn original(world: &World, runs: usize, mode: &str) -> Option<Vec<f64>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/original_pass.py");
    let state_py = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/seed/state.py");
    if !state_py.is_file() {
        return None;
    }
    let out = Command::new("python3")
        .arg(&script)
        .arg(&world.home)
        .arg(&world.zellij)
        .arg(runs.to_string())
        .arg(mode)
        .env("AMC_BENCH_RESTORE", world.restore_command())
        .env("AMC_STATE_PY", &state_py)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let runs = v["runs_ms"].as_array()?.iter().filter_map(|x| x.as_f64()).collect();
    Some(runs)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let smoke = !std::env::args().any(|a| a == "--bench");
    let bin = std::env::var_os("AMC_BENCH_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_amc")));
    let all = [
        Set {
            name: "200x5",
            sessions: 200,
            transcript_bytes: 5_000_000,
            runs: 5,
        },
        Set {
            name: "1000x0.1",
            sessions: 1000,
            transcript_bytes: 100_000,
            runs: 5,
        },
        Set {
            name: "20x200",
            sessions: 20,
            transcript_bytes: 200_000_000,
            runs: 3,
        },
    ];
    let chosen = std::env::var("AMC_BENCH_SETS").ok();
    let sets: Vec<Set> = if smoke {
        vec![Set {
            name: "smoke 20x0.2",
            sessions: 20,
            transcript_bytes: 200_000,
            runs: 1,
        }]
    } else {
        all.into_iter()
            .filter(|s| chosen.as_deref().is_none_or(|c| c.split(',').any(|n| n == s.name)))
            .collect()
    };
    println!("amc binary: {}", bin.display());
    if let Ok(load) = fs::read_to_string("/proc/loadavg") {
        println!("load average at start: {}", load.trim());
    }
    for set in &sets {
        let started = Instant::now();
        let world = World::create(set);
        println!(
            "\n== {} sessions × {:.1} MB transcripts ({}; generated in {:.1?}) ==",
            set.sessions,
            set.transcript_bytes as f64 / MB,
            set.name,
            started.elapsed()
        );
        // Warm the page cache and learn how many sessions survive the dedupe.
        world.drop_index();
        let (_, _, out) = run_to_exit({
            let mut c = world.command(&bin);
            c.arg("snapshot");
            c
        });
        let state: serde_json::Value = serde_json::from_slice(&out).expect("snapshot JSON");
        let listed = state["sessions"].as_array().map_or(0, Vec::len);
        let with_usage = state["sessions"]
            .as_array()
            .map_or(0, |s| s.iter().filter(|s| s.get("context_usage").is_some()).count());
        assert_eq!(with_usage, listed, "every listed session has its context usage");

        let mut rows: Vec<(String, f64, Option<u64>)> = Vec::new();
        // AMC_BENCH_SKIP_ORIGINAL=1 (e.g. when measuring another amc binary with AMC_BENCH_BIN) leaves the original out.
        let modes: &[&str] = if std::env::var_os("AMC_BENCH_SKIP_ORIGINAL").is_some() {
            &[]
        } else {
            &["full", "no-transcripts"]
        };
        for mode in modes {
            let runs = if *mode == "full" && set.transcript_bytes > 50_000_000 {
                1
            } else {
                set.runs
            };
            if let Some(times) = original(&world, runs, mode) {
                rows.push((
                    format!("original _collect_sessions, in-process ({mode})"),
                    median(times),
                    None,
                ));
            }
        }
        for warm in [false, true] {
            let (mut times, mut rss) = (Vec::new(), 0);
            for _ in 0..set.runs {
                world.restore();
                if !warm {
                    world.drop_index();
                }
                let mut cmd = world.command(&bin);
                cmd.arg("snapshot");
                let (t, r, _) = run_to_exit(cmd);
                times.push(ms(t));
                rss = rss.max(r);
            }
            let label = if warm {
                "warm (index present)"
            } else {
                "cold (no index)"
            };
            rows.push((
                format!("amc snapshot, whole process, {label}"),
                median(times),
                Some(rss),
            ));
        }
        for warm in [false, true] {
            let (mut times, mut rss) = (Vec::new(), 0);
            for _ in 0..set.runs.min(3) {
                world.restore();
                if !warm {
                    world.drop_index();
                }
                let (t, r) = serve_first_state(&world, &bin, listed);
                times.push(ms(t));
                rss = rss.max(r);
            }
            let label = if warm { "warm" } else { "cold" };
            rows.push((
                format!("amc serve, start to first full state, {label}"),
                median(times),
                Some(rss),
            ));
        }
        println!(
            "{listed} sessions listed; median of {} runs (original full: 1 run above 50 MB)",
            set.runs
        );
        for (label, t, rss) in &rows {
            let rss = rss.map_or(String::new(), |kib| {
                format!("  peak RSS {:.1} MiB", kib as f64 / 1024.0)
            });
            println!("{label:<62} {t:>9.1} ms{rss}");
        }
    }
}
