//! A Claude Code transcript (any bytes, so any line) read forward for the context usage, and backward in chunks for
//! the last assistant message (the hook's tail reader).
#![no_main]

use std::{io::Write as _, sync::OnceLock};

use amc::transcript::{last_assistant_message, TranscriptCache, TranscriptKind};
use libfuzzer_sys::fuzz_target;

fn dir() -> &'static tempfile::TempDir {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("tempdir"))
}

fuzz_target!(|data: &[u8]| {
    let path = dir().path().join("t.jsonl");
    let mut file = std::fs::File::create(&path).expect("create");
    file.write_all(data).expect("write");
    drop(file);
    let mut cache = TranscriptCache::new(None);
    let _ = cache.context_usage(&path, TranscriptKind::Claude);
    let _ = last_assistant_message(&path);
    // An append after the first read: the incremental path.
    let mut file = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
    file.write_all(&data[..data.len() / 2]).expect("append");
    drop(file);
    let _ = cache.context_usage(&path, TranscriptKind::Claude);
});
