//! The hook's attention: what a Notification means, the short form of a tool's input, and raising or clearing the
//! session's `attention` (a held permission dialog, a question, an elicitation).

use serde_json::{Map, Value};

use super::{truncate_chars, MAX_PREVIEW_CHARS};
use crate::model::{key, str_field, Attention, AttentionKind};

/// What a Notification means, from its `notification_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationClass {
    /// The agent is blocked on the user: `permission_prompt`, `worker_permission_prompt` (a teammate's tool),
    /// `elicitation_dialog`, `elicitation_url_dialog`, `agent_needs_input`; without a type (Aug 2025 and older), a message starting "Claude needs your permission".
    Blocking(AttentionKind),
    /// An MCP elicitation was answered or dismissed (`elicitation_complete`, `elicitation_response`).
    ElicitationAnswered,
    /// Anything else: `idle_prompt` (a reminder of a finished turn, ~60 s after Stop), `auth_success`,
    /// `agent_completed`, unknown types, untyped messages that are not permission prompts.
    Informational,
}

/// Classifies a Notification payload.
pub fn classify_notification(payload: &Map<String, Value>) -> NotificationClass {
    match str_field(payload, "notification_type") {
        Some("permission_prompt" | "worker_permission_prompt") => {
            NotificationClass::Blocking(AttentionKind::Permission)
        }
        Some("elicitation_dialog" | "elicitation_url_dialog") => {
            NotificationClass::Blocking(AttentionKind::Elicitation)
        }
        Some("agent_needs_input") => NotificationClass::Blocking(AttentionKind::Question),
        Some("elicitation_complete" | "elicitation_response") => NotificationClass::ElicitationAnswered,
        Some(_) => NotificationClass::Informational,
        None if str_field(payload, "message").is_some_and(|m| m.starts_with("Claude needs your permission")) => {
            NotificationClass::Blocking(AttentionKind::Permission)
        }
        None => NotificationClass::Informational,
    }
}

/// Returns whether a Notification payload blocks the agent on the user (see [`classify_notification`]).
pub fn is_attention_notification(payload: &Map<String, Value>) -> bool {
    matches!(classify_notification(payload), NotificationClass::Blocking(_))
}

/// Returns a short form of a tool's input (at most [`MAX_PREVIEW_CHARS`] characters): its `command` (Bash, Codex's
/// shell), else `file_path`, `url`, `pattern`, `path`, `query` or `description`, else the input's compact JSON.
pub fn summarize_tool_input(input: Option<&Value>) -> Option<String> {
    let text = match input? {
        Value::Null => return None,
        Value::String(s) => s.clone(),
        Value::Object(map) => {
            let named = [
                "command",
                "cmd",
                "file_path",
                "url",
                "pattern",
                "path",
                "query",
                "description",
            ]
            .iter()
            .find_map(|key| match map.get(*key) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Array(words)) if *key == "command" && !words.is_empty() => Some(
                    words
                        .iter()
                        .map(crate::model::string_form)
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
                _ => None,
            });
            match named {
                Some(text) => text,
                None => Value::Object(map.clone()).to_string(),
            }
        }
        other => other.to_string(),
    };
    Some(truncate_chars(text.trim(), MAX_PREVIEW_CHARS))
}

/// Records `raised` as the session's attention, unless the same hold is already recorded (same kind, tool and
/// input): then its `since` is kept, so a duplicated event does not restart the clock.
pub(super) fn raise_attention(session: &mut Map<String, Value>, raised: Attention) {
    if let Some(held) = Attention::from_value(session.get(key::ATTENTION)) {
        let same = held.kind == raised.kind
            && held.tool_name == raised.tool_name
            && held.tool_input_summary == raised.tool_input_summary
            && (held.tool_use_id.is_none() || raised.tool_use_id.is_none() || held.tool_use_id == raised.tool_use_id);
        if same {
            return;
        }
    }
    session.insert(key::ATTENTION.into(), raised.to_value());
}

pub(super) fn clear_attention(session: &mut Map<String, Value>) {
    session.shift_remove(key::ATTENTION);
}

/// Returns whether a PostToolUse / PostToolUseFailure / PermissionDenied is about the tool a held permission (or
/// elicitation) waits for: the same tool name, and the same input summary or tool-use id when both are known. Another
/// tool finishing (a parallel call that needed no permission) answers nothing.
pub(super) fn answered_by_tool(session: &Map<String, Value>, payload: &Map<String, Value>) -> bool {
    let Some(held) = Attention::from_value(session.get(key::ATTENTION)) else {
        return false;
    };
    if held.kind == AttentionKind::Question {
        return false;
    }
    let tool = str_field(payload, "tool_name");
    match held.tool_name.as_deref() {
        // A hold raised by a bare notification names no tool: the next tool to finish is the one it waited for.
        None => tool.is_some(),
        Some(name) if Some(name) != tool => false,
        Some(_) => {
            if let (Some(a), Some(b)) = (held.tool_use_id.as_deref(), str_field(payload, "tool_use_id")) {
                return a == b;
            }
            match (
                &held.tool_input_summary,
                summarize_tool_input(payload.get("tool_input")),
            ) {
                (Some(a), Some(b)) => *a == b,
                _ => true,
            }
        }
    }
}
