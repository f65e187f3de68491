//! What one hook event does to a session file: pure functions from (session, payload, context) to the new session
//! and the event-log line. No I/O and no clock here; `hook::mod` reads and writes.

use serde_json::{Map, Value};

use crate::model::{status, str_field};

use super::question::{detect_prose_question, extract_questions, prose_pending_question};

/// The longest `last_message_preview`, and the longest text copied into an event-log line, in characters.
pub const MAX_PREVIEW_CHARS: usize = 200;

/// Everything an event needs besides the payload and the session file.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context<'a> {
    /// The event time, RFC 3339 UTC.
    pub now: &'a str,
    /// `ZELLIJ_SESSION_NAME`, when set and non-empty.
    pub zellij_session: Option<&'a str>,
    /// `ZELLIJ_PANE_ID`, when set and non-empty.
    pub zellij_pane: Option<&'a str>,
    /// `AMC_SPAWN_ID`, when set and non-empty.
    pub spawn_id: Option<&'a str>,
    /// Stop only: the final assistant message (from the payload, else from the transcript's tail).
    pub last_assistant_message: Option<&'a str>,
}

/// What to do with the session file after [`apply`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Write the updated session back.
    Write,
    /// Write it, then move it to the trash: the session left the live list (SessionEnd).
    Trash,
    /// Leave the disk alone: SessionEnd for a session that has no file.
    Nothing,
}

/// Returns whether a Notification payload is a permission prompt (the agent is blocked on the user).
///
/// Current payloads say so in `notification_type`; Aug-2025 payloads have no type, only the message
/// "Claude needs your permission to use …". MCP elicitation dialogs also block the agent on the user.
pub fn is_attention_notification(payload: &Map<String, Value>) -> bool {
    match str_field(payload, "notification_type") {
        Some(kind) => matches!(
            kind,
            "permission_prompt" | "elicitation_dialog" | "elicitation_url_dialog"
        ),
        None => str_field(payload, "message").is_some_and(|m| m.starts_with("Claude needs your permission")),
    }
}

/// Returns whether a Stop needs the last assistant message (to look for a question) and the payload lacks it.
pub fn needs_transcript_message(event: &str, payload: &Map<String, Value>) -> bool {
    event == "Stop" && !matches!(payload.get("last_assistant_message"), Some(Value::String(_)))
}

/// Applies hook `event` with `payload` to `session` (the session file's object; empty when there was no file).
///
/// Keys the hook does not own are left as they are. Returns what to do with the file.
pub fn apply(
    session: &mut Map<String, Value>,
    existed: bool,
    event: &str,
    payload: &Map<String, Value>,
    ctx: &Context<'_>,
) -> Effect {
    if event == "SessionEnd" && !existed {
        return Effect::Nothing;
    }
    if !existed {
        // Reserve the first keys, so a new file reads id, agent, status first.
        session.insert("session_id".into(), Value::String(String::new()));
        session.insert("agent".into(), Value::String("claude".into()));
        session.insert("status".into(), Value::String(String::new()));
    }
    set_str(
        session,
        "session_id",
        str_field(payload, "session_id").unwrap_or_default(),
    );
    if !matches!(session.get("agent"), Some(Value::String(_))) {
        set_str(session, "agent", "claude");
    }
    let cwd = str_field(payload, "cwd").filter(|c| !c.is_empty());
    if let Some(cwd) = cwd {
        if !has_non_empty_str(session, "project_dir") {
            set_str(session, "project_dir", cwd);
        }
        set_str(session, "cwd", cwd);
    }
    set_if_some(
        session,
        "transcript_path",
        str_field(payload, "transcript_path").filter(|p| !p.is_empty()),
    );
    set_if_some(session, "zellij_session", ctx.zellij_session);
    set_if_some(session, "zellij_pane", ctx.zellij_pane);
    set_if_some(session, "spawn_id", ctx.spawn_id);
    if event == "SessionStart" {
        set_if_some(session, "model", str_field(payload, "model").filter(|m| !m.is_empty()));
    }
    set_if_some(
        session,
        "permission_mode",
        str_field(payload, "permission_mode").filter(|m| !m.is_empty()),
    );
    if !has_non_empty_str(session, "started_at") {
        set_str(session, "started_at", ctx.now);
    }
    set_str(session, "last_event", event);
    set_str(session, "last_event_at", ctx.now);

    let new_status = match event {
        "SessionStart" => {
            // A compaction re-fires SessionStart in the middle of a session (often mid-turn): it starts nothing.
            if existed && str_field(payload, "source") == Some("compact") && has_non_empty_str(session, "status") {
                None
            } else {
                clear_questions(session);
                Some(status::STARTING)
            }
        }
        "UserPromptSubmit" => {
            clear_questions(session);
            // A new turn: the collector records a fresh baseline only when the key is absent.
            session.shift_remove("turn_start_tokens");
            Some(status::ACTIVE)
        }
        "Stop" => Some(stop(session, ctx.last_assistant_message)),
        "PreToolUse" if is_ask_user_question(payload) => {
            let questions = extract_questions(payload.get("tool_input"));
            session.insert("pending_questions".into(), Value::Array(questions));
            Some(status::NEEDS_ATTENTION)
        }
        "PostToolUse" if is_ask_user_question(payload) => {
            clear_questions(session);
            Some(status::ACTIVE)
        }
        "Notification" if is_attention_notification(payload) => Some(status::NEEDS_ATTENTION),
        _ => None,
    };
    match new_status {
        Some(new_status) => set_str(session, "status", new_status),
        None if !has_non_empty_str(session, "status") => {
            // First sight of a session through an event that sets no status (amc installed mid-session): an idle
            // notification means the agent waits for a prompt; anything else happens during a turn.
            let guess = if event == "Notification" {
                status::DONE
            } else {
                status::ACTIVE
            };
            set_str(session, "status", guess);
        }
        None => {}
    }
    if !session.contains_key("pending_questions") {
        session.insert("pending_questions".into(), Value::Array(Vec::new()));
    }
    if event == "SessionEnd" {
        // e2e experiment: a session ended by a signal (reason "other": SIGHUP from a killed Zellij session) stays
        // listed, so liveness can show it dead; an exit the user asked for leaves the list.
        if str_field(payload, "reason") == Some("other") {
            return Effect::Write;
        }
        return Effect::Trash;
    }
    Effect::Write
}

/// Stop: `done`, or `needs_attention` with the prose question the final message ends with.
fn stop(session: &mut Map<String, Value>, message: Option<&str>) -> &'static str {
    let Some(message) = message else {
        clear_questions(session);
        return status::DONE;
    };
    set_str(
        session,
        "last_message_preview",
        &truncate_chars(message.trim(), MAX_PREVIEW_CHARS),
    );
    match detect_prose_question(message) {
        Some(question) => {
            session.insert(
                "pending_questions".into(),
                Value::Array(vec![prose_pending_question(question)]),
            );
            status::NEEDS_ATTENTION
        }
        None => {
            clear_questions(session);
            status::DONE
        }
    }
}

/// Returns the compact JSON event-log line (without the newline) for `event` resulting in `new_status`.
///
/// Beside `event`, `at` and `status` it copies a few short payload fields; free text (the prompt, a notification
/// message) is cut to [`MAX_PREVIEW_CHARS`] characters.
pub fn event_line(event: &str, payload: &Map<String, Value>, new_status: &str, now: &str) -> String {
    let mut line = Map::new();
    line.insert("event".into(), Value::String(event.to_owned()));
    line.insert("at".into(), Value::String(now.to_owned()));
    line.insert("status".into(), Value::String(new_status.to_owned()));
    for key in [
        "source",
        "reason",
        "trigger",
        "tool_name",
        "tool_use_id",
        "notification_type",
        "agent_type",
        "model",
    ] {
        if let Some(value) = str_field(payload, key).filter(|v| !v.is_empty()) {
            line.insert(key.into(), Value::String(truncate_chars(value, MAX_PREVIEW_CHARS)));
        }
    }
    for key in ["prompt", "message"] {
        if let Some(text) = str_field(payload, key) {
            line.insert(key.into(), Value::String(truncate_chars(text, MAX_PREVIEW_CHARS)));
        }
    }
    // Serializing a map of strings cannot fail.
    serde_json::to_string(&Value::Object(line)).unwrap_or_default()
}

/// Returns the first `max` characters of `text` (never splitting a character).
pub fn truncate_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].to_owned(),
        None => text.to_owned(),
    }
}

fn is_ask_user_question(payload: &Map<String, Value>) -> bool {
    str_field(payload, "tool_name") == Some("AskUserQuestion")
}

fn clear_questions(session: &mut Map<String, Value>) {
    session.insert("pending_questions".into(), Value::Array(Vec::new()));
}

fn has_non_empty_str(map: &Map<String, Value>, key: &str) -> bool {
    str_field(map, key).is_some_and(|s| !s.is_empty())
}

fn set_str(map: &mut Map<String, Value>, key: &str, value: &str) {
    match map.get_mut(key) {
        Some(Value::String(existing)) if existing == value => {}
        Some(slot) => *slot = Value::String(value.to_owned()),
        None => {
            map.insert(key.to_owned(), Value::String(value.to_owned()));
        }
    }
}

fn set_if_some(map: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value {
        set_str(map, key, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: &str = "2026-03-01T10:00:00.000Z";

    fn obj(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            _ => panic!("not an object"),
        }
    }

    fn run(session: &mut Map<String, Value>, payload: Value, ctx: &Context<'_>) -> Effect {
        let existed = !session.is_empty();
        let payload = obj(payload);
        let event = str_field(&payload, "hook_event_name").unwrap_or_default().to_owned();
        apply(session, existed, &event, &payload, ctx)
    }

    fn ctx() -> Context<'static> {
        Context {
            now: NOW,
            ..Context::default()
        }
    }

    #[test]
    fn session_start_creates_the_file_with_every_owned_key() {
        let mut s = Map::new();
        let ctx = Context {
            zellij_session: Some("work"),
            zellij_pane: Some("3"),
            spawn_id: Some("sp-1"),
            ..ctx()
        };
        let effect = run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "SessionStart", "cwd": "/p", "transcript_path": "/t/s1.jsonl",
                   "source": "startup", "model": "claude-opus-5-5"}),
            &ctx,
        );
        assert_eq!(effect, Effect::Write);
        assert_eq!(
            Value::Object(s),
            json!({"session_id": "s1", "agent": "claude", "project_dir": "/p", "cwd": "/p",
                   "transcript_path": "/t/s1.jsonl", "zellij_session": "work", "zellij_pane": "3", "spawn_id": "sp-1",
                   "model": "claude-opus-5-5", "started_at": NOW, "last_event": "SessionStart", "last_event_at": NOW,
                   "pending_questions": [], "status": "starting"})
        );
    }

    #[test]
    fn later_events_keep_first_cwd_started_at_foreign_keys_and_unset_env() {
        let mut s = obj(
            json!({"session_id": "s1", "agent": "claude", "project_dir": "/p", "cwd": "/p",
            "zellij_session": "work", "zellij_pane": "3", "started_at": "2026-01-01T00:00:00Z", "status": "starting",
            "context_usage": {"current_tokens": 5}, "custom": 1, "model": "m"}),
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "PreCompact", "cwd": "/p/sub", "trigger": "auto",
                           "custom_instructions": null, "model": ""}),
            &ctx(),
        );
        assert_eq!(s["project_dir"], "/p");
        assert_eq!(s["cwd"], "/p/sub");
        assert_eq!(s["started_at"], "2026-01-01T00:00:00Z");
        assert_eq!(s["zellij_session"], "work");
        assert_eq!(s["status"], "starting", "PreCompact changes no status");
        assert_eq!(s["last_event"], "PreCompact");
        assert_eq!(s["custom"], 1);
        assert_eq!(s["context_usage"], json!({"current_tokens": 5}));
        assert_eq!(s["model"], "m");
    }

    #[test]
    fn user_prompt_submit_starts_a_turn() {
        let mut s = obj(
            json!({"session_id": "s1", "status": "needs_attention", "turn_start_tokens": 1200,
                               "pending_questions": [{"question": "x"}], "last_message_preview": "prev"}),
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "UserPromptSubmit", "prompt": "go",
                           "permission_mode": "auto"}),
            &ctx(),
        );
        assert_eq!(s["status"], "active");
        assert!(!s.contains_key("turn_start_tokens"));
        assert_eq!(s["pending_questions"], json!([]));
        assert_eq!(s["permission_mode"], "auto");
        assert_eq!(s["last_message_preview"], "prev");
    }

    #[test]
    fn stop_is_done_or_needs_attention_with_the_prose_question() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        let c = Context {
            last_assistant_message: Some("All done. Tests pass."),
            ..ctx()
        };
        run(&mut s, json!({"session_id": "s1", "hook_event_name": "Stop"}), &c);
        assert_eq!(s["status"], "done");
        assert_eq!(s["last_message_preview"], "All done. Tests pass.");
        let c = Context {
            last_assistant_message: Some("I fixed it.\n\nShould I also push?"),
            ..ctx()
        };
        run(&mut s, json!({"session_id": "s1", "hook_event_name": "Stop"}), &c);
        assert_eq!(s["status"], "needs_attention");
        assert_eq!(
            s["pending_questions"],
            json!([{"question": "Should I also push?", "header": "", "options": [], "multiSelect": false}])
        );
        let long = "é".repeat(300);
        let c = Context {
            last_assistant_message: Some(&long),
            ..ctx()
        };
        run(&mut s, json!({"session_id": "s1", "hook_event_name": "Stop"}), &c);
        assert_eq!(s["status"], "done");
        assert_eq!(s["pending_questions"], json!([]));
        assert_eq!(s["last_message_preview"].as_str().map(|p| p.chars().count()), Some(200));
    }

    #[test]
    fn ask_user_question_round_trip() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "PreToolUse", "tool_name": "AskUserQuestion",
            "tool_input": {"questions": [{"question": "Which?", "header": "Pick", "multiSelect": false,
            "options": [{"label": "A", "description": "first"}]}]}}),
            &ctx(),
        );
        assert_eq!(s["status"], "needs_attention");
        assert_eq!(
            s["pending_questions"][0]["options"][0],
            json!({"label": "A", "description": "first"})
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "Notification",
            "notification_type": "permission_prompt", "message": "Claude needs your input"}),
            &ctx(),
        );
        assert_eq!(s["status"], "needs_attention");
        assert_eq!(
            s["pending_questions"].as_array().map(Vec::len),
            Some(1),
            "the notification keeps the questions"
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "PostToolUse", "tool_name": "AskUserQuestion",
            "tool_input": {"questions": null}}),
            &ctx(),
        );
        assert_eq!(s["status"], "active");
        assert_eq!(s["pending_questions"], json!([]));
    }

    #[test]
    fn other_tools_and_idle_notifications_change_no_status() {
        let mut s = obj(json!({"session_id": "s1", "status": "done"}));
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": "x"}),
            &ctx(),
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "Notification", "notification_type": "idle_prompt",
                           "message": "Claude is waiting for your input"}),
            &ctx(),
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "SubagentStop", "last_assistant_message": "Why?"}),
            &ctx(),
        );
        assert_eq!(s["status"], "done");
        assert_eq!(s["last_event"], "SubagentStop");
    }

    #[test]
    fn permission_notifications_old_and_new() {
        let attention = |p: Value| is_attention_notification(&obj(p));
        assert!(attention(
            json!({"notification_type": "permission_prompt", "message": "x"})
        ));
        assert!(attention(
            json!({"message": "Claude needs your permission to use Bash"})
        ));
        assert!(attention(json!({"message": "Claude needs your permission to use "})));
        assert!(!attention(json!({"message": "Claude is waiting for your input"})));
        assert!(!attention(
            json!({"notification_type": "idle_prompt", "message": "Claude needs your permission"})
        ));
        assert!(!attention(json!({})));
    }

    #[test]
    fn first_event_mid_session_creates_a_plausible_status() {
        let mut s = Map::new();
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "UserPromptSubmit", "cwd": "/p"}),
            &ctx(),
        );
        assert_eq!(s["status"], "active");
        let mut s = Map::new();
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "Notification", "message": "Claude is waiting"}),
            &ctx(),
        );
        assert_eq!(s["status"], "done");
        let mut s = Map::new();
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "PreCompact"}),
            &ctx(),
        );
        assert_eq!(s["status"], "active");
    }

    #[test]
    fn compaction_session_start_keeps_the_status() {
        let mut s = obj(json!({"session_id": "s1", "status": "active", "pending_questions": []}));
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "SessionStart", "source": "compact"}),
            &ctx(),
        );
        assert_eq!(s["status"], "active");
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "SessionStart", "source": "resume"}),
            &ctx(),
        );
        assert_eq!(s["status"], "starting");
    }

    #[test]
    fn session_end_trashes_existing_files_only() {
        let mut s = Map::new();
        assert_eq!(
            run(
                &mut s,
                json!({"session_id": "s1", "hook_event_name": "SessionEnd"}),
                &ctx()
            ),
            Effect::Nothing
        );
        assert!(s.is_empty());
        let mut s = obj(json!({"session_id": "s1", "status": "done"}));
        assert_eq!(
            run(
                &mut s,
                json!({"session_id": "s1", "hook_event_name": "SessionEnd", "reason": "prompt_input_exit"}),
                &ctx()
            ),
            Effect::Trash
        );
        assert_eq!(s["last_event"], "SessionEnd");
    }

    #[test]
    fn event_line_is_compact_and_short() {
        let payload = obj(
            json!({"session_id": "s1", "hook_event_name": "UserPromptSubmit", "prompt": "p".repeat(5000),
                                 "tool_input": {"big": "x"}}),
        );
        let line = event_line("UserPromptSubmit", &payload, "active", NOW);
        assert!(!line.contains('\n'));
        let v: Value = serde_json::from_str(&line).expect("json");
        assert_eq!(v["event"], "UserPromptSubmit");
        assert_eq!(v["at"], NOW);
        assert_eq!(v["status"], "active");
        assert_eq!(v["prompt"].as_str().map(str::len), Some(200));
        assert!(v.get("tool_input").is_none());
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("héllo", 2), "hé");
        assert_eq!(truncate_chars("hi", 200), "hi");
        assert_eq!(truncate_chars("", 3), "");
    }
}
