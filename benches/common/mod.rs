//! The data the benchmarks share: session files like the hook writes.

/// The file name of bench session `i`.
pub fn session_file(i: usize) -> String {
    format!("bench-{i:04}.json")
}

/// A session file like the hook writes (~600 bytes); `last_message_preview` starts with `w<seq>` so a watcher can
/// tell which write a snapshot includes.
pub fn session_json(i: usize, seq: u64) -> String {
    let agent = ["codex", "claude", "claude"][i % 3];
    let status = ["active", "done"][(seq % 2) as usize];
    let preview = format!(
        "w{seq:08} I updated the collector so that a pass only reads the session files that changed, and the tests pass."
    );
    serde_json::json!({
        "session_id": format!("bench-{i:04}-7c1e2b9a-5d2f-4e0b-9a43-{i:012}"),
        "agent": agent,
        "status": status,
        "project_dir": format!("/home/user/src/project-{i}"),
        "cwd": format!("/home/user/src/project-{i}"),
        "zellij_session": "bench",
        "zellij_pane": format!("{i}"),
        "started_at": "2026-02-12T15:04:00.000000+00:00",
        "last_event": "PostToolUse",
        "last_event_at": "2026-02-12T15:05:00.586000+00:00",
        "last_message_preview": preview,
        "model": "claude-opus-4-6",
        "permission_mode": "default",
    })
    .to_string()
}

// Not every benchmark that includes this module uses every item.
#[allow(dead_code)]
/// A temp data dir with `count` bench session files, a temp `HOME` with no transcripts and a nonexistent zellij.
pub struct BenchDir {
    /// Holds the temp dir for the benchmark's life.
    pub dir: tempfile::TempDir,
    /// `<dir>/data/sessions`.
    pub sessions_dir: std::path::PathBuf,
}

#[allow(dead_code)]
impl BenchDir {
    /// Writes `count` session files (`session_json(i, 0)`).
    pub fn new(count: usize) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let sessions_dir = dir.path().join("data/sessions");
        std::fs::create_dir_all(&sessions_dir).expect("sessions dir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        let bench = BenchDir { dir, sessions_dir };
        for i in 0..count {
            bench.write(i, 0);
        }
        bench
    }

    /// Rewrites session file `i` atomically (as the hook does) with `session_json(i, seq)`.
    pub fn write(&self, i: usize, seq: u64) {
        amc::store::write_atomic(
            &self.sessions_dir.join(session_file(i)),
            session_json(i, seq).as_bytes(),
        )
        .expect("write");
    }

    /// The collector's configuration for this dir.
    pub fn config(&self) -> amc::config::Config {
        let root = self.dir.path().to_path_buf();
        let env = move |key: &str| -> Option<String> {
            let s = |p: std::path::PathBuf| Some(p.to_string_lossy().into_owned());
            match key {
                "HOME" => s(root.join("home")),
                "AMC_DATA_DIR" => s(root.join("data")),
                "CLAUDE_CONFIG_DIR" => s(root.join("home/.claude")),
                "CODEX_HOME" => s(root.join("home/.codex")),
                "AMC_ZELLIJ_BIN" => s(root.join("no-zellij")),
                _ => None,
            }
        };
        amc::config::Config::for_paths(amc::config::Paths::from_lookup(env))
    }
}
