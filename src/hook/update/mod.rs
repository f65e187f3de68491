//! What one hook event does to a session file: pure functions from (session, payload, context) to the new session
//! and the event-log line. No I/O and no clock here; `hook::mod` reads and writes.

use serde_json::{Map, Value};

use crate::model::{key, status, str_field, Attention, AttentionKind};

use super::question::{detect_prose_question, extract_questions, prose_pending_question};

mod attention;
mod lines;
mod subagents;

use self::{
    attention::{answered_by_tool, clear_attention, raise_attention},
    subagents::{end_turn_subagents, subagent_started, subagent_stopped},
};
pub use self::{
    attention::{classify_notification, is_attention_notification, summarize_tool_input, NotificationClass},
    lines::{compaction_line, event_line},
    subagents::MAX_RUNNING_SUBAGENTS,
};

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
    /// The agent that sent the event: [`HookAgent::Claude`] (the default) or [`HookAgent::Codex`].
    pub agent: HookAgent,
}

/// The agent whose hook runs: `amc hook` (Claude Code) or `amc hook --agent codex`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HookAgent {
    /// Claude Code.
    #[default]
    Claude,
    /// Codex CLI.
    Codex,
}

impl HookAgent {
    /// The session file's `agent` value.
    pub fn as_str(self) -> &'static str {
        match self {
            HookAgent::Claude => crate::model::agent::CLAUDE,
            HookAgent::Codex => crate::model::agent::CODEX,
        }
    }
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

/// Returns whether a Stop needs the last assistant message (to look for a question) and the payload lacks it.
pub fn needs_transcript_message(event: &str, payload: &Map<String, Value>) -> bool {
    event == "Stop" && !matches!(payload.get("last_assistant_message"), Some(Value::String(_)))
}

/// Applies hook `event` with `payload` to `session` (the session file's object; empty when there was no file).
///
/// Keys the hook does not own are left as they are. Returns what to do with the file. The status each event sets,
/// the `attention` it raises or clears and the ordering rules are in `docs/hook.md` ("What each event does").
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
        session.insert("agent".into(), Value::String(ctx.agent.as_str().into()));
        session.insert("status".into(), Value::String(String::new()));
    }
    set_str(
        session,
        "session_id",
        str_field(payload, "session_id").unwrap_or_default(),
    );
    if !matches!(session.get("agent"), Some(Value::String(_))) {
        set_str(session, "agent", ctx.agent.as_str());
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
    if ctx.agent == HookAgent::Claude {
        // Codex runs hooks from its app-server daemon, whose environment is the first TUI's: its pane would be
        // wrong for every other TUI. Codex discovery finds the pane from the processes instead.
        set_if_some(session, "zellij_session", ctx.zellij_session);
        set_if_some(session, "zellij_pane", ctx.zellij_pane);
        set_if_some(session, "spawn_id", ctx.spawn_id);
    }
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
    set_str(session, key::HOOK_EVENT_AT, ctx.now);

    let current = str_field(session, "status").unwrap_or_default().to_owned();
    let new_status = match event {
        "SessionStart" => {
            // A compaction re-fires SessionStart in the middle of a session (often mid-turn): it starts nothing.
            if existed && str_field(payload, "source") == Some("compact") && !current.is_empty() {
                None
            } else {
                clear_questions(session);
                clear_attention(session);
                session.shift_remove(key::RUNNING_SUBAGENTS);
                session.shift_remove(key::COMPACTING_SINCE);
                Some(status::STARTING)
            }
        }
        "UserPromptSubmit" => {
            clear_questions(session);
            clear_attention(session);
            // A new turn: the collector records a fresh baseline only when the key is absent.
            session.shift_remove("turn_start_tokens");
            Some(status::ACTIVE)
        }
        "Stop" => {
            end_turn_subagents(session, payload);
            Some(stop(session, ctx.last_assistant_message, ctx.now))
        }
        "StopFailure" => {
            end_turn_subagents(session, payload);
            stop_failure(session, payload, ctx.last_assistant_message)
        }
        // Codex: Esc ends the turn without a Stop.
        "Interrupt" => {
            clear_questions(session);
            clear_attention(session);
            Some(status::DONE)
        }
        "PreToolUse" if is_ask_user_question(payload) => {
            let questions = extract_questions(payload.get("tool_input"));
            let first = questions
                .first()
                .and_then(|q| q.get("question"))
                .and_then(Value::as_str)
                .map(|q| truncate_chars(q, MAX_PREVIEW_CHARS));
            session.insert("pending_questions".into(), Value::Array(questions));
            let raised = Attention {
                kind: AttentionKind::Question,
                since: ctx.now.to_owned(),
                event: event.to_owned(),
                tool_name: str_field(payload, "tool_name").map(str::to_owned),
                tool_input_summary: None,
                tool_use_id: str_field(payload, "tool_use_id").map(str::to_owned),
                request_id: None,
                message: first,
                notification_type: None,
            };
            raise_attention(session, raised);
            Some(status::NEEDS_ATTENTION)
        }
        "PermissionRequest" => {
            let raised = Attention {
                kind: AttentionKind::Permission,
                since: ctx.now.to_owned(),
                event: event.to_owned(),
                tool_name: str_field(payload, "tool_name")
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
                tool_input_summary: summarize_tool_input(payload.get("tool_input")),
                tool_use_id: str_field(payload, "tool_use_id").map(str::to_owned),
                request_id: None,
                message: None,
                notification_type: None,
            };
            raise_attention(session, raised);
            Some(status::NEEDS_ATTENTION)
        }
        "PostToolUse" | "PostToolUseFailure" => {
            if is_ask_user_question(payload) {
                // The dialog was answered (even a PostToolUse without its PreToolUse means no question is open).
                clear_questions(session);
                let held = Attention::from_value(session.get(key::ATTENTION));
                if held.is_some_and(|a| a.kind == AttentionKind::Question) {
                    clear_attention(session);
                }
                (current == status::NEEDS_ATTENTION || current.is_empty()).then_some(status::ACTIVE)
            } else if answered_by_tool(session, payload) {
                clear_attention(session);
                Some(status::ACTIVE)
            } else {
                None
            }
        }
        "PermissionDenied" => {
            // The auto-mode classifier denied a tool; the turn goes on. A dialog held for that tool is over.
            if answered_by_tool(session, payload) {
                clear_attention(session);
                Some(status::ACTIVE)
            } else {
                None
            }
        }
        "Notification" => match classify_notification(payload) {
            // A blocking notification while the turn is over is a late reminder (agent_needs_input ~60 s after
            // Stop), or one that lost the race with Stop: it raises nothing.
            NotificationClass::Blocking(_) if current == status::DONE => None,
            NotificationClass::Blocking(kind) => {
                let raised = Attention {
                    kind,
                    since: ctx.now.to_owned(),
                    event: event.to_owned(),
                    tool_name: None,
                    tool_input_summary: None,
                    tool_use_id: None,
                    request_id: None,
                    message: str_field(payload, "message").map(|m| truncate_chars(m, MAX_PREVIEW_CHARS)),
                    notification_type: str_field(payload, "notification_type").map(str::to_owned),
                };
                // A hold already raised (a PermissionRequest, an AskUserQuestion) is the same hold: kept as it is.
                if Attention::from_value(session.get(key::ATTENTION)).is_none() {
                    raise_attention(session, raised);
                }
                Some(status::NEEDS_ATTENTION)
            }
            NotificationClass::ElicitationAnswered => {
                let held = Attention::from_value(session.get(key::ATTENTION));
                if held.is_some_and(|a| a.kind == AttentionKind::Elicitation) {
                    clear_attention(session);
                    Some(status::ACTIVE)
                } else {
                    None
                }
            }
            NotificationClass::Informational => None,
        },
        "PreCompact" => {
            // The sizes come with the transcript's boundary line, after PostCompact (see `hook::compaction`).
            set_str(session, key::COMPACTING_SINCE, ctx.now);
            None
        }
        "SubagentStart" => {
            subagent_started(session, payload, ctx.now);
            None
        }
        "SubagentStop" => {
            subagent_stopped(session, payload);
            None
        }
        _ => None,
    };
    match new_status {
        Some(new_status) => {
            if new_status != status::DONE || event != "StopFailure" {
                session.shift_remove(key::STATUS_REASON);
            }
            set_str(session, "status", new_status);
        }
        None if current.is_empty() => {
            // First sight of a session through an event that sets no status (amc installed mid-session): a
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
        // A session ended by a signal (reason "other": SIGHUP from a killed Zellij session) stays listed, so
        // liveness can show it dead; an exit the user asked for leaves the list. Codex says "other" for /quit as
        // well: its file stays, and liveness shows it dead once its process is gone.
        if str_field(payload, "reason") == Some("other") || ctx.agent == HookAgent::Codex {
            return Effect::Write;
        }
        return Effect::Trash;
    }
    Effect::Write
}

/// StopFailure (the turn ended on an API error): `done`, with `status_reason` naming the error.
fn stop_failure(
    session: &mut Map<String, Value>,
    payload: &Map<String, Value>,
    message: Option<&str>,
) -> Option<&'static str> {
    clear_questions(session);
    clear_attention(session);
    let error = str_field(payload, "error")
        .filter(|e| !e.is_empty())
        .unwrap_or("unknown");
    let message = str_field(payload, "last_assistant_message").or(message);
    if let Some(message) = message {
        set_str(
            session,
            "last_message_preview",
            &truncate_chars(message.trim(), MAX_PREVIEW_CHARS),
        );
    }
    let reason = match message {
        Some(m) => format!(
            "the turn ended on an API error ({error}): {}",
            truncate_chars(m.trim(), 160)
        ),
        None => format!("the turn ended on an API error ({error})"),
    };
    set_str(session, key::STATUS_REASON, &reason);
    Some(status::DONE)
}

/// Stop: `done`, or `needs_attention` with the prose question the final message ends with.
fn stop(session: &mut Map<String, Value>, message: Option<&str>, now: &str) -> &'static str {
    clear_attention(session);
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
            let raised = Attention {
                kind: AttentionKind::Question,
                since: now.to_owned(),
                event: "Stop".to_owned(),
                tool_name: None,
                tool_input_summary: None,
                tool_use_id: None,
                request_id: None,
                message: Some(truncate_chars(&question, MAX_PREVIEW_CHARS)),
                notification_type: None,
            };
            session.insert(
                "pending_questions".into(),
                Value::Array(vec![prose_pending_question(question)]),
            );
            raise_attention(session, raised);
            status::NEEDS_ATTENTION
        }
        None => {
            clear_questions(session);
            status::DONE
        }
    }
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
                   "hook_event_at": NOW, "pending_questions": [], "status": "starting"})
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

    fn at(now: &'static str) -> Context<'static> {
        Context {
            now,
            ..Context::default()
        }
    }

    fn attention(s: &Map<String, Value>) -> Option<Attention> {
        Attention::from_value(s.get("attention"))
    }

    const T1: &str = "2026-03-01T10:00:01.000000Z";
    const T2: &str = "2026-03-01T10:00:02.000000Z";
    const T3: &str = "2026-03-01T10:00:03.000000Z";

    /// The PermissionRequest Claude Code 2.1.331 sent for a Bash call (recorded by the e2e suite).
    fn permission_request() -> Value {
        json!({"session_id": "s1", "hook_event_name": "PermissionRequest", "permission_mode": "default",
               "effort": {"level": "medium"}, "tool_name": "Bash",
               "tool_input": {"command": "touch /tmp/x", "description": "Touch a file"},
               "permission_suggestions": [{"type": "setMode", "mode": "acceptEdits", "destination": "session"}]})
    }

    fn post_tool_use(tool: &str, command: &str, id: &str) -> Value {
        json!({"session_id": "s1", "hook_event_name": "PostToolUse", "tool_name": tool,
               "tool_input": {"command": command, "description": "d"}, "tool_response": {"stdout": ""},
               "tool_use_id": id})
    }

    #[test]
    fn permission_request_raises_a_permission_attention_with_the_tool() {
        let mut s = obj(json!({"session_id": "s1", "status": "active", "pending_questions": []}));
        run(&mut s, permission_request(), &at(T1));
        assert_eq!(s["status"], "needs_attention");
        assert_eq!(
            s["attention"],
            json!({"kind": "permission", "since": T1, "event": "PermissionRequest", "tool_name": "Bash",
                   "tool_input_summary": "touch /tmp/x"})
        );
        let long = json!({"session_id": "s1", "hook_event_name": "PermissionRequest", "tool_name": "Write",
                          "tool_input": {"file_path": "é".repeat(300), "content": "x"}});
        run(&mut s, long, &at(T2));
        let held = attention(&s).expect("attention");
        assert_eq!(held.tool_name.as_deref(), Some("Write"));
        assert_eq!(held.tool_input_summary.map(|t| t.chars().count()), Some(200));
        assert_eq!(held.since, T2, "another tool's request is a new hold");
    }

    #[test]
    fn the_asked_tool_finishing_clears_the_permission_and_another_tool_does_not() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        run(&mut s, permission_request(), &at(T1));
        // A parallel call that needed no permission finishes while the dialog is open.
        run(&mut s, post_tool_use("Read", "", "toolu_other"), &at(T2));
        assert_eq!(s["status"], "needs_attention");
        run(&mut s, post_tool_use("Bash", "ls", "toolu_ls"), &at(T2));
        assert_eq!(
            s["status"], "needs_attention",
            "the same tool with another input is another call"
        );
        run(&mut s, post_tool_use("Bash", "touch /tmp/x", "toolu_1"), &at(T3));
        assert_eq!(s["status"], "active");
        assert!(!s.contains_key("attention"));
        // A failed run of the approved tool answers it too.
        run(&mut s, permission_request(), &at(T1));
        let mut failed = post_tool_use("Bash", "touch /tmp/x", "toolu_2");
        failed["hook_event_name"] = json!("PostToolUseFailure");
        run(&mut s, failed, &at(T2));
        assert_eq!(s["status"], "active");
        assert!(attention(&s).is_none());
    }

    #[test]
    fn permission_denied_clears_its_hold_and_otherwise_changes_nothing() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        let denied = json!({"session_id": "s1", "hook_event_name": "PermissionDenied", "tool_name": "Bash",
                            "tool_input": {"command": "rm -rf /"}, "reason": "auto mode classifier"});
        run(&mut s, denied.clone(), &at(T1));
        assert_eq!(s["status"], "active");
        run(&mut s, permission_request(), &at(T1));
        let mut same = denied;
        same["tool_input"] = json!({"command": "touch /tmp/x"});
        run(&mut s, same, &at(T2));
        assert_eq!(s["status"], "active");
        assert!(attention(&s).is_none());
    }

    #[test]
    fn the_permission_prompt_notification_keeps_the_hold_raised_by_permission_request() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        run(&mut s, permission_request(), &at(T1));
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "Notification", "message": "Claude needs your permission",
                   "notification_type": "permission_prompt"}),
            &at(T2),
        );
        let held = attention(&s).expect("attention");
        assert_eq!((held.since.as_str(), held.event.as_str()), (T1, "PermissionRequest"));
        assert_eq!(held.tool_name.as_deref(), Some("Bash"));
    }

    #[test]
    fn notifications_are_classified_by_type() {
        let note = |t: Option<&str>, m: &str| {
            let mut p = json!({"session_id": "s1", "hook_event_name": "Notification", "message": m});
            if let Some(t) = t {
                p["notification_type"] = json!(t);
            }
            p
        };
        for (t, kind) in [
            ("permission_prompt", "permission"),
            ("worker_permission_prompt", "permission"),
            ("elicitation_dialog", "elicitation"),
            ("elicitation_url_dialog", "elicitation"),
            ("agent_needs_input", "question"),
        ] {
            let mut s = obj(json!({"session_id": "s1", "status": "active"}));
            run(&mut s, note(Some(t), "m"), &at(T1));
            assert_eq!(s["status"], "needs_attention", "{t}");
            assert_eq!(s["attention"]["kind"], kind, "{t}");
            assert_eq!(s["attention"]["notification_type"], t);
        }
        for t in [
            "idle_prompt",
            "auth_success",
            "agent_completed",
            "push_notification",
            "something_new",
        ] {
            let mut s = obj(json!({"session_id": "s1", "status": "active"}));
            run(
                &mut s,
                note(Some(t), "Claude needs your permission to use Bash"),
                &at(T1),
            );
            assert_eq!(s["status"], "active", "{t}");
            assert!(!s.contains_key("attention"), "{t}");
        }
        // Aug-2025 payloads have no type: the message decides.
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        run(&mut s, note(None, "Claude is waiting for your input"), &at(T1));
        assert_eq!(s["status"], "active");
        run(&mut s, note(None, "Claude needs your permission to use "), &at(T1));
        assert_eq!(s["status"], "needs_attention");
        assert_eq!(s["attention"]["kind"], "permission");
        assert!(s["attention"].get("notification_type").is_none());
    }

    #[test]
    fn idle_prompt_and_late_blocking_notifications_after_stop_raise_nothing() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        run(&mut s, json!({"session_id": "s1", "hook_event_name": "Stop"}), &at(T1));
        assert_eq!(s["status"], "done");
        for t in ["idle_prompt", "agent_needs_input", "permission_prompt"] {
            run(
                &mut s,
                json!({"session_id": "s1", "hook_event_name": "Notification", "notification_type": t,
                       "message": "Claude is waiting for your input"}),
                &at(T2),
            );
            assert_eq!(s["status"], "done", "{t} after Stop");
            assert!(!s.contains_key("attention"), "{t} after Stop");
        }
    }

    #[test]
    fn elicitation_answered_clears_only_an_elicitation() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        let n = |t: &str| json!({"session_id": "s1", "hook_event_name": "Notification", "notification_type": t});
        run(&mut s, n("elicitation_dialog"), &at(T1));
        run(&mut s, n("elicitation_response"), &at(T2));
        assert_eq!(s["status"], "active");
        assert!(attention(&s).is_none());
        run(&mut s, permission_request(), &at(T1));
        run(&mut s, n("elicitation_complete"), &at(T2));
        assert_eq!(s["status"], "needs_attention");
    }

    #[test]
    fn ask_user_question_is_a_question_attention_cleared_by_its_answer() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        let pre = json!({"session_id": "s1", "hook_event_name": "PreToolUse", "tool_name": "AskUserQuestion",
                         "tool_use_id": "toolu_q", "tool_input": {"questions": [{"question": "Which?", "options": []}]}});
        run(&mut s, pre.clone(), &at(T1));
        assert_eq!(
            s["attention"],
            json!({"kind": "question", "since": T1, "event": "PreToolUse", "tool_name": "AskUserQuestion",
                   "tool_use_id": "toolu_q", "message": "Which?"})
        );
        run(&mut s, pre, &at(T2));
        assert_eq!(
            s["attention"]["since"], T1,
            "a duplicated PreToolUse keeps the hold's start"
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "PostToolUse", "tool_name": "AskUserQuestion",
                   "tool_use_id": "toolu_q"}),
            &at(T3),
        );
        assert_eq!(s["status"], "active");
        assert!(attention(&s).is_none());
    }

    #[test]
    fn prompt_stop_and_stop_failure_clear_the_attention() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        run(&mut s, permission_request(), &at(T1));
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "UserPromptSubmit", "prompt": "go"}),
            &at(T2),
        );
        assert!(attention(&s).is_none());
        run(&mut s, permission_request(), &at(T1));
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "Stop", "last_assistant_message": "ok"}),
            &Context {
                last_assistant_message: Some("ok"),
                ..at(T2)
            },
        );
        assert_eq!(s["status"], "done");
        assert!(attention(&s).is_none());
        // A final message ending in a question is a question attention.
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "Stop"}),
            &Context {
                last_assistant_message: Some("Done.\n\nPush too?"),
                ..at(T3)
            },
        );
        assert_eq!(s["attention"]["kind"], "question");
        assert_eq!(s["attention"]["event"], "Stop");
        assert_eq!(s["attention"]["message"], "Push too?");
    }

    #[test]
    fn stop_failure_is_done_with_the_error_as_status_reason() {
        let mut s = obj(json!({"session_id": "s1", "status": "active", "pending_questions": [{"question": "x"}]}));
        // The StopFailure Claude Code 2.1.331 sent after an HTTP 400 (recorded by the e2e suite).
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "StopFailure", "effort": {"level": "medium"},
                   "error": "unknown", "last_assistant_message": "API Error: 400 mock: refused"}),
            &at(T1),
        );
        assert_eq!(s["status"], "done");
        assert_eq!(s["pending_questions"], json!([]));
        assert_eq!(s["last_message_preview"], "API Error: 400 mock: refused");
        assert_eq!(
            s["status_reason"],
            "the turn ended on an API error (unknown): API Error: 400 mock: refused"
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "UserPromptSubmit"}),
            &at(T2),
        );
        assert!(!s.contains_key("status_reason"), "the next status drops the reason");
    }

    #[test]
    fn subagents_are_counted_by_id_duplicates_and_strays_ignored() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        let ev = |e: &str, id: &str| json!({"session_id": "s1", "hook_event_name": e, "agent_id": id, "agent_type": "general-purpose"});
        run(&mut s, ev("SubagentStart", "a1"), &at(T1));
        run(&mut s, ev("SubagentStart", "a1"), &at(T2));
        run(&mut s, ev("SubagentStart", "a2"), &at(T2));
        assert_eq!(s["running_subagents"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            s["running_subagents"][0],
            json!({"agent_id": "a1", "agent_type": "general-purpose", "since": T1})
        );
        run(&mut s, ev("SubagentStop", "zz"), &at(T3));
        run(&mut s, ev("SubagentStop", "a1"), &at(T3));
        run(&mut s, ev("SubagentStop", "a1"), &at(T3));
        assert_eq!(s["running_subagents"].as_array().map(Vec::len), Some(1));
        assert_eq!(s["status"], "active", "sub-agents change no status");
        run(&mut s, ev("SubagentStop", "a2"), &at(T3));
        assert!(!s.contains_key("running_subagents"));
        for i in 0..(MAX_RUNNING_SUBAGENTS + 5) {
            run(&mut s, ev("SubagentStart", &format!("b{i}")), &at(T1));
        }
        assert_eq!(
            s["running_subagents"].as_array().map(Vec::len),
            Some(MAX_RUNNING_SUBAGENTS)
        );
        assert_eq!(s["running_subagents"][0]["agent_id"], "b5", "the oldest are dropped");
    }

    #[test]
    fn stop_clears_lost_subagents_unless_background_tasks_run() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "SubagentStart", "agent_id": "a1"}),
            &at(T1),
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "SubagentStart", "agent_id": "lost"}),
            &at(T1),
        );
        // The Stop Claude Code 2.1.331 sent while a background sub-agent ran (recorded by the e2e suite).
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "Stop", "session_crons": [],
                   "background_tasks": [{"id": "a1", "type": "subagent", "status": "running",
                                         "description": "Look around", "agent_type": "general-purpose"}]}),
            &at(T2),
        );
        assert_eq!(s["running_subagents"].as_array().map(Vec::len), Some(1));
        assert_eq!(s["running_subagents"][0]["agent_id"], "a1");
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "Stop", "background_tasks": [], "session_crons": []}),
            &at(T3),
        );
        assert!(!s.contains_key("running_subagents"));
    }

    #[test]
    fn out_of_order_tool_events_change_nothing() {
        for status in ["done", "active", "starting"] {
            let mut s = obj(json!({"session_id": "s1", "status": status}));
            run(&mut s, post_tool_use("Bash", "ls", "toolu_x"), &at(T1));
            assert_eq!(s["status"], status, "PostToolUse without PreToolUse while {status}");
        }
        let mut s = obj(json!({"session_id": "s1", "status": "done"}));
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "PostToolUse", "tool_name": "AskUserQuestion"}),
            &at(T1),
        );
        assert_eq!(
            s["status"], "done",
            "a stray AskUserQuestion answer does not reopen a finished turn"
        );
    }

    #[test]
    fn post_compact_and_unknown_events_keep_the_status_and_log_the_compaction() {
        let mut s = obj(json!({"session_id": "s1", "status": "active"}));
        let payload = json!({"session_id": "s1", "hook_event_name": "PostCompact", "trigger": "manual",
                             "compact_summary": "sum"});
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "PreCompact", "trigger": "manual"}),
            &at(T1),
        );
        assert_eq!(
            s["compacting_since"], T1,
            "PreCompact marks the compaction whose boundary is still to come"
        );
        run(&mut s, payload.clone(), &at(T2));
        assert_eq!(s["status"], "active");
        assert_eq!(s["compacting_since"], T1);
        let line: Value = serde_json::from_str(&event_line("PostCompact", &obj(payload), "active", T2)).expect("json");
        assert_eq!(
            (line["trigger"].clone(), line["compact_summary"].clone()),
            (json!("manual"), json!("sum"))
        );
        run(
            &mut s,
            json!({"session_id": "s1", "hook_event_name": "SessionStart", "source": "startup"}),
            &at(T3),
        );
        assert!(!s.contains_key("compacting_since"), "a new session forgets it");
        let found = obj(
            json!({"at": "2026-03-01T10:00:02.500Z", "trigger": "manual", "pre_tokens": 33172, "post_tokens": 2837}),
        );
        let line: Value = serde_json::from_str(&compaction_line(found, "done", T3)).expect("json");
        assert_eq!(
            line,
            json!({"event": "Compaction", "at": "2026-03-01T10:00:02.500Z", "status": "done", "logged_at": T3,
                   "trigger": "manual", "pre_tokens": 33172, "post_tokens": 2837})
        );
    }

    #[test]
    fn codex_hooks_keep_out_of_the_pane_and_interrupt_ends_the_turn() {
        let mut s = Map::new();
        let codex = Context {
            agent: HookAgent::Codex,
            zellij_session: Some("daemon-env"),
            zellij_pane: Some("1"),
            ..at(T1)
        };
        // The SessionStart Codex 0.169.0 sent (recorded by the e2e suite).
        run(
            &mut s,
            json!({"session_id": "019a", "transcript_path": "/h/.codex/sessions/r.jsonl", "cwd": "/p",
                   "hook_event_name": "SessionStart", "model": "gpt-5.5", "permission_mode": "default",
                   "source": "startup"}),
            &codex,
        );
        assert_eq!(s["agent"], "codex");
        assert_eq!(s["status"], "starting");
        assert!(!s.contains_key("zellij_session") && !s.contains_key("zellij_pane"));
        run(
            &mut s,
            json!({"session_id": "019a", "hook_event_name": "PermissionRequest", "tool_name": "Bash",
                   "tool_input": {"command": "touch /tmp/x", "description": "why"}}),
            &codex,
        );
        assert_eq!(s["attention"]["tool_input_summary"], "touch /tmp/x");
        run(
            &mut s,
            json!({"session_id": "019a", "hook_event_name": "PostToolUse", "tool_name": "Bash",
                   "tool_input": {"command": "touch /tmp/x"}, "tool_response": "", "tool_use_id": "call_1"}),
            &codex,
        );
        assert_eq!(s["status"], "active");
        run(
            &mut s,
            json!({"session_id": "019a", "hook_event_name": "Interrupt"}),
            &codex,
        );
        assert_eq!(s["status"], "done");
        let end = run(
            &mut s,
            json!({"session_id": "019a", "hook_event_name": "SessionEnd", "reason": "other"}),
            &codex,
        );
        assert_eq!(
            end,
            Effect::Write,
            "a Codex session stays listed after SessionEnd; liveness shows it dead"
        );
    }

    #[test]
    fn tool_inputs_are_summarized() {
        let sum = |v: Value| summarize_tool_input(Some(&v));
        assert_eq!(
            sum(json!({"command": "ls -la", "description": "d"})).as_deref(),
            Some("ls -la")
        );
        assert_eq!(sum(json!({"command": ["touch", "x"]})).as_deref(), Some("touch x"));
        assert_eq!(
            sum(json!({"file_path": "/a/b", "content": "c"})).as_deref(),
            Some("/a/b")
        );
        assert_eq!(sum(json!({"a": 1})).as_deref(), Some(r#"{"a":1}"#));
        assert_eq!(sum(json!("raw")).as_deref(), Some("raw"));
        assert_eq!(sum(json!(null)), None);
        assert_eq!(summarize_tool_input(None), None);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        assert_eq!(truncate_chars("héllo", 2), "hé");
        assert_eq!(truncate_chars("hi", 200), "hi");
        assert_eq!(truncate_chars("", 3), "");
    }
}
