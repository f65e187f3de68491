//! The audit log: one JSON line per action, accepted, refused or failed, in `<data dir>/audit.jsonl`.
//!
//! A line: `{"time", "token", "client", "session", "action", "args", "outcome", "error"?}`; `token` is the token's
//! name (never its secret), `args` a summary (long text cut to 200 characters). The file rotates to `audit.jsonl.1`
//! when it passes [`ROTATE_BYTES`]. Writing never fails an action: an error is logged.

use std::{
    io::Write as _,
    path::{Path, PathBuf},
    sync::Mutex,
};

use crate::error::Error;

/// The size at which `audit.jsonl` moves to `audit.jsonl.1` (the older `.1` is dropped).
pub const ROTATE_BYTES: u64 = 8 * 1024 * 1024;

/// One audit line.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Entry {
    /// RFC 3339 UTC with milliseconds.
    pub time: String,
    /// The token's name; null without one.
    pub token: Option<String>,
    /// The peer address.
    pub client: Option<String>,
    /// The session acted on.
    pub session: String,
    /// The action (`decide`, `send_text`, …).
    pub action: String,
    /// What was asked, summarized.
    pub args: serde_json::Value,
    /// What happened: an action's outcome (`delivered`, `already_answered`, …) or `refused` / `failed`.
    pub outcome: String,
    /// The refusal or failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Entry {
    /// A line for the bearer of the token named `token` at `client` doing `action` on `session` with `args`; the
    /// outcome is filled in later (`auth::Caller::audit_entry` fills the first two).
    pub fn new(
        token: Option<String>,
        client: Option<std::net::SocketAddr>,
        session: &str,
        action: &str,
        args: serde_json::Value,
    ) -> Self {
        Entry {
            time: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            token,
            client: client.map(|a| a.to_string()),
            session: session.to_owned(),
            action: action.to_owned(),
            args,
            outcome: String::new(),
            error: None,
        }
    }

    /// The line for an accepted action with `outcome`.
    pub fn done(mut self, outcome: &str) -> Self {
        outcome.clone_into(&mut self.outcome);
        self
    }

    /// The line for a refused (bad request, no right) or failed (internal, Zellij) action.
    pub fn refused(mut self, error: &Error) -> Self {
        self.outcome = match error {
            Error::Internal(_) | Error::FailedPrecondition(_) | Error::ShuttingDown => "failed",
            _ => "refused",
        }
        .to_owned();
        self.error = Some(error.to_string());
        self
    }
}

/// Cuts `text` to at most 200 characters for an audit line.
pub fn summarize(text: &str) -> String {
    const MAX: usize = 200;
    match text.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The audit file; appends are serialized.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    rotate_bytes: u64,
    lock: Mutex<()>,
}

impl AuditLog {
    /// The log at `path` (created on the first append).
    pub fn new(path: PathBuf) -> Self {
        Self::with_rotation(path, ROTATE_BYTES)
    }

    /// The log at `path`, rotating past `rotate_bytes` (small in tests).
    pub fn with_rotation(path: PathBuf, rotate_bytes: u64) -> Self {
        AuditLog {
            path,
            rotate_bytes,
            lock: Mutex::new(()),
        }
    }

    /// Appends `entry`; an I/O error is logged, never returned.
    pub fn append(&self, entry: &Entry) {
        crate::metrics::action(&entry.action, &entry.outcome);
        let Ok(mut line) = serde_json::to_vec(entry) else {
            return;
        };
        line.push(b'\n');
        let _guard = self.lock.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Err(e) = self.append_line(&line) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot write the audit log");
        }
    }

    fn append_line(&self, line: &[u8]) -> std::io::Result<()> {
        use std::os::unix::fs::OpenOptionsExt as _;
        if std::fs::metadata(&self.path).is_ok_and(|m| m.len() + line.len() as u64 > self.rotate_bytes) {
            std::fs::rename(&self.path, rotated(&self.path))?;
        }
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(&self.path)?;
        file.write_all(line)
    }

    /// The newest `limit` lines, oldest first (the rotated file's too when needed).
    pub fn tail(&self, limit: usize) -> Vec<serde_json::Value> {
        read_tail(&self.path, limit)
    }
}

fn rotated(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".1");
    PathBuf::from(name)
}

/// The newest `limit` audit lines of the log at `path` and its rotated file, oldest first; unreadable lines skipped.
pub fn read_tail(path: &Path, limit: usize) -> Vec<serde_json::Value> {
    let parse = |p: &Path| -> Vec<serde_json::Value> {
        // A file grows to ROTATE_BYTES and one line past it; anything far larger is not amc's log.
        crate::bounded::read_to_string(p, 2 * ROTATE_BYTES)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    };
    let mut lines = parse(path);
    if lines.len() < limit {
        let mut older = parse(&rotated(path));
        older.append(&mut lines);
        lines = older;
    }
    let skip = lines.len().saturating_sub(limit);
    lines.split_off(skip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_append_rotate_and_read_back_newest_last() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.jsonl");
        let log = AuditLog::with_rotation(path.clone(), 600);
        let client = Some("127.0.0.1:5000".parse().expect("addr"));
        for i in 0..10 {
            let entry = Entry::new(
                Some("me".into()),
                client,
                &format!("s{i}"),
                "dismiss",
                serde_json::json!({}),
            );
            log.append(&entry.done("dismissed"));
        }
        assert!(rotated(&path).exists(), "the log rotated");
        assert!(std::fs::metadata(&path).expect("log").len() <= 600);
        let tail = log.tail(3);
        let sessions: Vec<&str> = tail.iter().filter_map(|l| l["session"].as_str()).collect();
        assert_eq!(sessions, ["s7", "s8", "s9"]);
        assert_eq!(tail[0]["token"], "me");
        assert_eq!(tail[0]["client"], "127.0.0.1:5000");
        assert_eq!(tail[0]["outcome"], "dismissed");
        let refused = Entry::new(None, None, "s", "decide", serde_json::Value::Null).refused(&Error::Unauthenticated);
        assert_eq!(refused.outcome, "refused");
        assert!(refused.token.is_none());
        assert_eq!(summarize(&"é".repeat(300)).chars().count(), 201);
    }
}
