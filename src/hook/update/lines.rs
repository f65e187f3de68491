//! The event-log lines a hook event appends (`events/<session_id>.jsonl`).

use serde_json::{Map, Value};

use super::{truncate_chars, MAX_PREVIEW_CHARS};
use crate::model::str_field;

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
    for key in ["prompt", "message", "error", "compact_summary"] {
        if let Some(text) = str_field(payload, key) {
            line.insert(key.into(), Value::String(truncate_chars(text, MAX_PREVIEW_CHARS)));
        }
    }

    // Serializing a map of strings cannot fail.
    serde_json::to_string(&Value::Object(line)).unwrap_or_default()
}

/// Returns the `Compaction` event-log line (without the newline): `{"event": "Compaction", "at": <the boundary's
/// time, else now>, "status", "logged_at": now, "trigger", "pre_tokens", "post_tokens"}` from the sizes
/// [`super::compaction::boundary_tokens`] found.
pub fn compaction_line(found: Map<String, Value>, new_status: &str, now: &str) -> String {
    let mut line = Map::new();
    line.insert("event".into(), "Compaction".into());
    line.insert(
        "at".into(),
        found
            .get("at")
            .cloned()
            .unwrap_or_else(|| Value::String(now.to_owned())),
    );
    line.insert("status".into(), new_status.into());
    line.insert("logged_at".into(), now.into());
    for key in ["trigger", "pre_tokens", "post_tokens"] {
        if let Some(value) = found.get(key) {
            line.insert(key.into(), value.clone());
        }
    }
    serde_json::to_string(&Value::Object(line)).unwrap_or_default()
}
