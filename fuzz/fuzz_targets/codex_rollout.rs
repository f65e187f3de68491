//! A Codex rollout (any bytes): its meta, its last turn event, and its context usage.
#![no_main]

use std::sync::OnceLock;

use amc::transcript::{codex_rollout, TranscriptCache, TranscriptKind};
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"))
}

fuzz_target!(|data: &[u8]| {
    let _ = codex_rollout::last_turn_event(data);
    let path = dir()
        .path()
        .join("rollout-2026-01-01T00-00-00-0197a4f2-0000-7000-8000-000000000000.jsonl");
    std::fs::write(&path, data).expect("write");
    let _ = codex_rollout::read_meta(&path);
    let _ = codex_rollout::RolloutCache::default().read(&path);
    let _ = TranscriptCache::new(None).context_usage(&path, TranscriptKind::Codex);
});
