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
