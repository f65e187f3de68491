//! Transcript reading figures (a plain program, not a timed test): `cargo bench --bench transcript`.
//!
//! - first read of a large synthetic Claude transcript (size from `AMC_BENCH_TRANSCRIPT_MB`, default 1024; 64 when
//!   `cargo test` runs it without `--bench`): time and bytes read, for a model without native 1M (reads the 16 MiB
//!   window look-back), with `AMC_CONTEXT_WINDOW` set (stops at the newest usable line), and the worst case of a file
//!   with nothing usable (read whole);
//! - bytes read per update when about 1 KB is appended to a 500 MB transcript (half the size above).
//!
//! The file is generated in a temp dir and is in the page cache when read (dropping caches needs root and affects
//! the whole machine), so the times are CPU-bound figures.

// Test code: a failed unwrap or expect is a failed test (clippy.toml allows them only inside cfg(test) code).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    fs::{self, File, OpenOptions},
    io::{BufWriter, Read, Seek, SeekFrom, Write},
    path::Path,
    time::{Duration, Instant},
};

use amc::transcript::{TranscriptCache, TranscriptKind};

const MIB: u64 = 1024 * 1024;

fn assistant(id: usize, model: &str, read: u64, out: u64, text: &str) -> String {
    format!(
        r#"{{"parentUuid":"p-{id}","isSidechain":false,"userType":"external","cwd":"/home/u/proj","sessionId":"b7d1c1d2-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","slug":"lexical-painting-whisper","message":{{"model":"{model}","id":"msg_{id:024}","type":"message","role":"assistant","content":[{{"type":"text","text":"{text}"}}],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":1,"cache_creation_input_tokens":304,"cache_read_input_tokens":{read},"cache_creation":{{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":304}},"output_tokens":{out},"service_tier":"standard","inference_geo":"not_available"}}}},"requestId":"req_{id:024}","type":"assistant","uuid":"a-{id}","timestamp":"2026-02-12T15:05:00.586Z"}}"#
    ) + "\n"
}

/// One block of a realistic 2.1.x session: a prompt, a split assistant response, hook progress, a tool result, a
/// file-history snapshot; every 16th block carries a 1 MB base64 image.
fn block(i: usize) -> String {
    let mut s = String::new();
    s += &format!(
        r#"{{"parentUuid":"a-{i}","isSidechain":false,"userType":"external","cwd":"/home/u/proj","sessionId":"b7d1c1d2-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","type":"user","message":{{"role":"user","content":"please look at module {i} and fix the failing test"}},"uuid":"u-{i}","timestamp":"2026-02-12T15:04:00.000Z"}}"#
    );
    s.push('\n');
    for _ in 0..3 {
        s += &assistant(
            i,
            "claude-opus-4-6",
            90_000 + (i as u64 % 10_000),
            120,
            "Looking at the module now.",
        );
    }
    for _ in 0..4 {
        s += &format!(
            r#"{{"parentUuid":"a-{i}","isSidechain":false,"userType":"external","cwd":"/home/u/proj","sessionId":"b7d1c1d2-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","type":"progress","data":{{"type":"hook_progress","hookEvent":"PostToolUse","hookName":"PostToolUse:Bash","command":"~/.claude/hooks/log.sh"}},"parentToolUseID":"toolu_{i}","toolUseID":"toolu_{i}","timestamp":"2026-02-12T15:04:01.000Z","uuid":"pr-{i}"}}"#
        );
        s.push('\n');
    }
    let output = "test result: ok. 1 passed; 0 failed\\n".repeat(if i.is_multiple_of(16) { 2_000 } else { 200 });
    s += &format!(
        r#"{{"parentUuid":"a-{i}","isSidechain":false,"userType":"external","cwd":"/home/u/proj","sessionId":"b7d1c1d2-0000-4000-8000-000000000001","version":"2.1.39","gitBranch":"main","type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_{i}","type":"tool_result","content":"{output}","is_error":false}}]}},"uuid":"tr-{i}","timestamp":"2026-02-12T15:04:02.000Z","toolUseResult":{{"stdout":"ok","stderr":"","interrupted":false,"isImage":false}}}}"#
    );
    s.push('\n');
    if i % 16 == 1 {
        s += &format!(
            r#"{{"parentUuid":"a-{i}","isSidechain":false,"type":"user","message":{{"role":"user","content":[{{"type":"image","source":{{"type":"base64","media_type":"image/png","data":"{}"}}}}]}},"uuid":"img-{i}","timestamp":"2026-02-12T15:04:03.000Z"}}"#,
            "iVBORw0KGgo".repeat(100_000)
        );
        s.push('\n');
    }
    s += &format!(
        r#"{{"type":"file-history-snapshot","messageId":"u-{i}","snapshot":{{"messageId":"u-{i}","trackedFileBackups":{{}},"timestamp":"2026-02-12T15:04:04.000Z"}},"isSnapshotUpdate":false}}"#
    );
    s.push('\n');
    s
}

/// Writes a transcript of about `bytes` bytes ending with one distinct usable line; returns the exact size.
fn generate(path: &Path, bytes: u64) -> u64 {
    let mut out = BufWriter::with_capacity(8 * MIB as usize, File::create(path).expect("create transcript"));
    // 64 distinct blocks, repeated: the parser sees realistic lines without the generator dominating the run.
    let blocks: Vec<String> = (0..64).map(block).collect();
    let mut written = 0u64;
    let mut i = 0;
    while written < bytes {
        let b = &blocks[i % blocks.len()];
        out.write_all(b.as_bytes()).expect("write");
        written += b.len() as u64;
        i += 1;
    }
    let last = assistant(999_999, "claude-opus-4-6", 123_456, 77, "Done.");
    out.write_all(last.as_bytes()).expect("write");
    out.flush().expect("flush");
    written + last.len() as u64
}

/// Truncates `path` to the end of the last complete line at or before `bytes`; returns the new size.
fn truncate_at_line(path: &Path, bytes: u64) -> u64 {
    let mut file = OpenOptions::new().read(true).write(true).open(path).expect("open");
    let window = 16 * MIB;
    let start = bytes.saturating_sub(window);
    file.seek(SeekFrom::Start(start)).expect("seek");
    let mut buf = vec![0; (bytes - start) as usize];
    file.read_exact(&mut buf).expect("read");
    let newline = buf
        .iter()
        .rposition(|&b| b == b'\n')
        .expect("a newline in the last 16 MiB");
    let len = start + newline as u64 + 1;
    file.set_len(len).expect("truncate");
    len
}

fn first_read(path: &Path, kind: TranscriptKind, window_override: Option<u64>) -> (Duration, u64, bool) {
    let mut cache = TranscriptCache::new(window_override);
    let started = Instant::now();
    let usage = cache.context_usage(path, kind);
    (started.elapsed(), cache.bytes_read(), usage.is_some())
}

fn peak_rss_kib() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / MIB as f64
}

fn main() {
    // `cargo test --all-targets` runs this without `--bench`: a 64 MiB smoke run checks it works without writing and
    // reading a whole GiB in a debug build.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let size_mb: u64 = std::env::var("AMC_BENCH_TRANSCRIPT_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if smoke { 64 } else { 1024 });
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("b7d1c1d2-0000-4000-8000-000000000001.jsonl");

    let started = Instant::now();
    let size = generate(&path, size_mb * MIB);
    println!(
        "generated {:.0} MiB synthetic Claude transcript in {:.1?}",
        mib(size),
        started.elapsed()
    );

    println!(
        "\n== first read of a {:.0} MiB transcript (page cache warm) ==",
        mib(size)
    );
    let (t, bytes, found) = first_read(&path, TranscriptKind::Claude, None);
    println!(
        "model without native 1M (16 MiB look-back):   {:>10.2?}  read {:>8.2} MiB  usage found: {found}",
        t,
        mib(bytes)
    );
    let (t, bytes, found) = first_read(&path, TranscriptKind::Claude, Some(200_000));
    println!(
        "window settled (AMC_CONTEXT_WINDOW set):       {:>10.2?}  read {:>8.2} MiB  usage found: {found}",
        t,
        mib(bytes)
    );
    // Read as a Codex rollout it has no token_count at all: the worst case, the whole file scanned backwards.
    let (t, bytes, found) = first_read(&path, TranscriptKind::Codex, None);
    println!(
        "nothing usable (whole file, backwards):        {:>10.2?}  read {:>8.2} MiB  usage found: {found}  ({:.0} MiB/s)",
        t,
        mib(bytes),
        mib(bytes) / t.as_secs_f64()
    );

    let half = truncate_at_line(&path, size / 2);
    println!("\n== appends to a {:.0} MiB transcript ==", mib(half));
    let mut cache = TranscriptCache::new(None);
    let started = Instant::now();
    let usage = cache.context_usage(&path, TranscriptKind::Claude);
    println!(
        "first read: {:.2?}, {:.2} MiB read, usage found: {}",
        started.elapsed(),
        mib(cache.bytes_read()),
        usage.is_some()
    );
    let unchanged_before = cache.bytes_read();
    cache.context_usage(&path, TranscriptKind::Claude);
    println!("unchanged file: {} bytes read", cache.bytes_read() - unchanged_before);

    let updates = 100u64;
    let (mut appended, mut read, mut spent) = (0u64, 0u64, Duration::ZERO);
    let mut file = OpenOptions::new().append(true).open(&path).expect("open for append");
    for i in 0..updates {
        // About 1 KB: an assistant line with some text.
        let line = assistant(
            2_000_000 + i as usize,
            "claude-opus-4-6",
            130_000 + i,
            40,
            &"x".repeat(150),
        );
        file.write_all(line.as_bytes()).expect("append");
        appended += line.len() as u64;
        let before = cache.bytes_read();
        let started = Instant::now();
        let usage = cache.context_usage(&path, TranscriptKind::Claude).expect("usage");
        spent += started.elapsed();
        read += cache.bytes_read() - before;
        assert_eq!(usage.cache_read_tokens, 130_000 + i);
    }
    println!(
        "{updates} updates: appended {:.0} B/update, read {:.0} B/update (line + 64 B fingerprint), {:.1?}/update",
        appended as f64 / updates as f64,
        read as f64 / updates as f64,
        spent / updates as u32
    );
    if let Some(kib) = peak_rss_kib() {
        println!(
            "\npeak RSS of the whole run (includes the generator's blocks): {:.1} MiB",
            kib as f64 / 1024.0
        );
    }
}
