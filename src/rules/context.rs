//! Context-usage rules: the context window a session shows, and the per-turn token baseline.

use std::path::Path;

use serde_json::Value;

use crate::model::{field, key, str_field, Decision, SessionJson};

/// The rule name of [`context_window`]'s decisions.
pub const RULE_WINDOW: &str = "rules::context::context_window";

/// The rule name of [`turn_start_tokens`]'s decisions.
pub const RULE_TURN_START: &str = "rules::context::turn_start_tokens";

/// Returns the decision that sets a session's `context_usage` to `usage` (the JSON of the transcript's usage), read
/// from `transcript`; `window_inferred` says whether the window size was inferred rather than read.
pub fn context_window(usage: &Value, window_inferred: bool, transcript: &Path, at: f64) -> Decision {
    Decision::new(field::CONTEXT_WINDOW, RULE_WINDOW, usage.clone(), at)
        .with("transcript", transcript.to_string_lossy().into_owned())
        .with(key::CONTEXT_WINDOW_INFERRED, window_inferred)
}

/// The rule name of [`statusline_window`]'s decisions.
pub const RULE_STATUSLINE: &str = "rules::context::statusline_window";

/// Returns the `context_usage` with the statusLine capture (`amc statusline`, session key `statusline`) applied, and
/// its decision; `None` when the session has no capture with a window.
///
/// The capture's window is exact and wins over every inferred or configured one (`window_source: "statusline"`).
/// Its current tokens and percentage win too when the capture is at least as new as the transcript's usage line (or
/// there is none); otherwise the transcript's newer count is kept and only the window changes. Model-agnostic
/// windows do not carry across a model switch: a capture for another model than the usage line's, older than it, is
/// not used.
pub fn statusline_window(usage: Option<&Value>, session: &SessionJson, at: f64) -> Option<(Value, Decision)> {
    let capture = session.get("statusline")?.as_object()?;
    let window = capture.get("window_tokens")?.as_u64().filter(|w| *w > 0)?;
    let captured_at = str_field(capture, "at").unwrap_or_default();
    let usage_at = usage
        .and_then(|u| u.get("updated_at"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let newer = captured_at >= usage_at;
    let base_model = |m: &str| m.split('[').next().unwrap_or_default().to_owned();
    let same_model = match (
        usage.and_then(|u| u.get("model")).and_then(Value::as_str),
        str_field(capture, "model_id"),
    ) {
        (Some(a), Some(b)) => base_model(a) == base_model(b),
        _ => true,
    };
    if !newer && !same_model {
        return None;
    }
    let mut value = usage.cloned().unwrap_or_else(|| {
        serde_json::json!({
            "current_tokens": null, "window_tokens": window, "percent": 0.0, "model": capture.get("model_id"),
            "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0, "cache_creation_tokens": 0,
            "compacted": false, "updated_at": captured_at,
        })
    });
    let usage = value.as_object_mut()?;
    usage.insert("window_tokens".into(), window.into());
    usage.insert("window_source".into(), "statusline".into());
    let current = if newer {
        if let Some(current) = capture.get("current_tokens").and_then(Value::as_u64) {
            usage.insert("current_tokens".into(), current.into());
            usage.insert("compacted".into(), false.into());
        }
        usage.get("current_tokens").and_then(Value::as_u64)
    } else {
        usage.get("current_tokens").and_then(Value::as_u64)
    };
    let percent = match capture.get("used_percent").and_then(Value::as_f64).filter(|_| newer) {
        Some(p) => p,
        None => current.map_or(0.0, |c| (c as f64 * 100.0 / window as f64).clamp(0.0, 100.0)),
    };
    usage.insert("percent".into(), serde_json::json!((percent * 10.0).round() / 10.0));
    let decision = Decision::new(field::CONTEXT_WINDOW, RULE_STATUSLINE, value.clone(), at)
        .with("statusline_at", captured_at)
        .with(key::CONTEXT_WINDOW_INFERRED, false);
    Some((value, decision))
}

/// Returns the `turn_start_tokens` to record, if any: when the last event is `UserPromptSubmit` (a turn just started),
/// the session has no `turn_start_tokens` key yet (a `null` value counts as present, as in the original's `in` test)
/// and the transcript's current context size is known. The collector records it in the session and writes it back
/// to the session file.
pub fn turn_start_tokens(session: &SessionJson, current_tokens: Option<u64>, at: f64) -> Option<Decision> {
    if str_field(session, key::LAST_EVENT) != Some("UserPromptSubmit") || session.contains_key(key::TURN_START_TOKENS) {
        return None;
    }
    let tokens = current_tokens?;
    Some(
        Decision::new(field::TURN_START_TOKENS, RULE_TURN_START, tokens, at)
            .with(key::LAST_EVENT, "UserPromptSubmit")
            .with("current_tokens", tokens),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(v: Value) -> SessionJson {
        v.as_object().cloned().unwrap_or_default()
    }

    fn tokens(session: &SessionJson, current: Option<u64>) -> Option<Value> {
        turn_start_tokens(session, current, 1.0).map(|d| d.value)
    }

    #[test]
    fn recorded_once_at_the_start_of_a_turn_with_known_tokens() {
        let prompt = s(json!({"last_event": "UserPromptSubmit"}));
        let decision = turn_start_tokens(&prompt, Some(1200), 3.0).expect("recorded");
        assert_eq!((decision.field, decision.rule), ("turn_start_tokens", RULE_TURN_START));
        assert_eq!(decision.value, json!(1200));
        assert_eq!(decision.evidence.get("last_event"), Some(&json!("UserPromptSubmit")));
        assert_eq!(decision.at, 3.0);
        assert_eq!(tokens(&prompt, None), None);
        assert_eq!(tokens(&s(json!({"last_event": "Stop"})), Some(1200)), None);
        assert_eq!(tokens(&s(json!({})), Some(1200)), None);
        let recorded = s(json!({"last_event": "UserPromptSubmit", "turn_start_tokens": 5}));
        assert_eq!(tokens(&recorded, Some(1200)), None);
        let null = s(json!({"last_event": "UserPromptSubmit", "turn_start_tokens": null}));
        assert_eq!(tokens(&null, Some(1200)), None);
    }

    #[test]
    fn the_statusline_window_wins_and_its_count_when_newer() {
        let usage = json!({"current_tokens": 150_000, "window_tokens": 200_000, "percent": 75.0,
            "model": "claude-opus-4-6", "compacted": false, "updated_at": "2026-12-05T10:00:00.000Z",
            "window_source": "default"});
        let newer = s(
            json!({"statusline": {"at": "2026-12-05T10:00:05.000000Z", "window_tokens": 1_000_000,
            "current_tokens": 160_000, "used_percent": 16.0, "model_id": "claude-opus-4-6[1m]"}}),
        );
        let (value, decision) = statusline_window(Some(&usage), &newer, 1.0).expect("applied");
        assert_eq!(value["window_tokens"], 1_000_000);
        assert_eq!(value["window_source"], "statusline");
        assert_eq!(
            (value["current_tokens"].as_u64(), value["percent"].as_f64()),
            (Some(160_000), Some(16.0))
        );
        assert_eq!(decision.rule, RULE_STATUSLINE);
        // An older capture of the same model: the window only; the percentage is recomputed from the transcript.
        let older = s(
            json!({"statusline": {"at": "2026-12-05T09:00:00Z", "window_tokens": 1_000_000,
            "current_tokens": 1, "used_percent": 0.0, "model_id": "claude-opus-4-6"}}),
        );
        let (value, _) = statusline_window(Some(&usage), &older, 1.0).expect("applied");
        assert_eq!(
            (value["current_tokens"].as_u64(), value["percent"].as_f64()),
            (Some(150_000), Some(15.0))
        );
        // An older capture of another model: not used.
        let other = s(
            json!({"statusline": {"at": "2026-12-05T09:00:00Z", "window_tokens": 1_000_000,
            "model_id": "claude-haiku-4-5"}}),
        );
        assert!(statusline_window(Some(&usage), &other, 1.0).is_none());
        // No transcript usage yet: the capture alone.
        let (value, _) = statusline_window(None, &newer, 1.0).expect("applied");
        assert_eq!(
            (value["current_tokens"].as_u64(), value["window_tokens"].as_u64()),
            (Some(160_000), Some(1_000_000))
        );
        assert!(statusline_window(Some(&usage), &s(json!({"statusline": {"window_tokens": 0}})), 1.0).is_none());
        assert!(statusline_window(Some(&usage), &s(json!({})), 1.0).is_none());
    }

    #[test]
    fn the_context_window_decision_names_its_transcript() {
        let usage = json!({"current_tokens": 5, "window_tokens": 200_000});
        let decision = context_window(&usage, true, Path::new("/p/t.jsonl"), 2.0);
        assert_eq!((decision.field, decision.rule), ("context_window", RULE_WINDOW));
        assert_eq!(decision.value, usage);
        assert_eq!(decision.evidence.get("transcript"), Some(&json!("/p/t.jsonl")));
        assert_eq!(decision.evidence.get("context_window_inferred"), Some(&json!(true)));
    }
}
