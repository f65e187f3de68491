//! Whole-process latency of `amc hook`: spawn to exit, payload on stdin, into a temp data dir on the same disk as
//! the temp dir (`$TMPDIR`, else `/tmp`).
//!
//! `cargo bench --bench hook_latency` runs 500 hooks per scenario (`AMC_BENCH_RUNS` overrides) and prints p50, p90,
//! p99 and max. Run without `--bench` (as `cargo test --benches` does) it only smoke-tests 10 runs. The `/bin/true`
//! row is the floor: what spawning any process costs on this machine; the `amc --version` row adds loading the amc
//! binary (the same binary as the server), so the rows below minus it are the hook's own work.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    io::Write,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

const BIN: &str = env!("CARGO_BIN_EXE_amc");

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let runs: usize = match std::env::var("AMC_BENCH_RUNS").ok().and_then(|v| v.parse().ok()) {
        Some(runs) => runs,
        None if full => 500,
        None => 10,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let transcript = dir.path().join("transcript.jsonl");
    write_transcript(&transcript);

    let prompt = serde_json::json!({
        "session_id": "5b0c2f43-9e1d-4c7a-8a55-2f7d3c1e9b10",
        "transcript_path": transcript,
        "cwd": "/home/dev/projects/webapp",
        "permission_mode": "auto",
        "prompt_id": "0f6a3d52-1b8e-4c51-9d7e-6a2c4b8e1f03",
        "hook_event_name": "UserPromptSubmit",
        "prompt": "Add a --verbose flag to the CLI and ask me which log format to use."
    })
    .to_string();
    let stop = serde_json::json!({
        "session_id": "5b0c2f43-9e1d-4c7a-8a55-2f7d3c1e9b10",
        "transcript_path": transcript,
        "cwd": "/home/dev/projects/webapp",
        "permission_mode": "auto",
        "hook_event_name": "Stop",
        "stop_hook_active": false,
        "last_assistant_message": "I added `--verbose`.\n\nShould I also document it in the README?",
        "background_tasks": [],
        "session_crons": []
    })
    .to_string();
    // A pre-2.1.47 Stop: no last_assistant_message, so the hook reads the transcript's last 256 KB.
    let stop_tail = serde_json::json!({
        "session_id": "5b0c2f43-9e1d-4c7a-8a55-2f7d3c1e9b10",
        "transcript_path": transcript,
        "cwd": "/home/dev/projects/webapp",
        "hook_event_name": "Stop",
        "stop_hook_active": false
    })
    .to_string();

    println!(
        "amc hook latency, spawn to exit, {runs} runs each ({})",
        if full { "bench" } else { "smoke" }
    );
    println!(
        "{:<44} {:>8} {:>8} {:>8} {:>8}",
        "scenario", "p50 ms", "p90 ms", "p99 ms", "max ms"
    );
    report(
        "/bin/true (process spawn floor)",
        &measure(runs, || spawn("/bin/true", &[], &data, b"")),
    );
    report(
        "amc --version (binary load floor)",
        &measure(runs, || spawn(BIN, &["--version"], &data, b"")),
    );
    for (name, payload) in [
        ("UserPromptSubmit", prompt.as_bytes()),
        ("Stop (last_assistant_message)", stop.as_bytes()),
        ("Stop (transcript tail, 1 MB transcript)", stop_tail.as_bytes()),
    ] {
        report(name, &measure(runs, || spawn(BIN, &["hook"], &data, payload)));
    }
    let log = std::fs::read_to_string(data.join("hook.log")).unwrap_or_default();
    assert!(log.is_empty(), "the hook logged errors: {log}");
}

/// Spawns `program` with `payload` on stdin and waits for it; returns the wall time.
fn spawn(program: &str, args: &[&str], data: &Path, payload: &[u8]) -> Duration {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .env_clear()
        .env("HOME", data)
        .env("AMC_DATA_DIR", data)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(payload);
    }
    let status = child.wait().expect("wait");
    let elapsed = start.elapsed();
    assert!(status.success());
    elapsed
}

fn measure(runs: usize, mut run: impl FnMut() -> Duration) -> Vec<Duration> {
    for _ in 0..runs.min(20) {
        run();
    }
    let mut times: Vec<Duration> = (0..runs).map(|_| run()).collect();
    times.sort();
    times
}

fn report(name: &str, sorted: &[Duration]) {
    let pct = |p: f64| {
        let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted[i].as_secs_f64() * 1000.0
    };
    println!(
        "{name:<44} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
}

/// Writes a ~1 MB transcript whose last line is the assistant's question.
fn write_transcript(path: &Path) {
    let mut file = std::fs::File::create(path).expect("create transcript");
    let user = serde_json::json!({"type": "user", "isSidechain": false,
        "message": {"role": "user", "content": [{"type": "tool_result", "content": "x".repeat(2000)}]}});
    for _ in 0..500 {
        writeln!(file, "{user}").expect("write");
    }
    let assistant = serde_json::json!({"type": "assistant", "isSidechain": false,
        "message": {"id": "msg_1", "role": "assistant", "content": [{"type": "text", "text": "Done. Shall I continue?"}]}});
    writeln!(file, "{assistant}").expect("write");
}
