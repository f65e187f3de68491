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
    fn the_context_window_decision_names_its_transcript() {
        let usage = json!({"current_tokens": 5, "window_tokens": 200_000});
        let decision = context_window(&usage, true, Path::new("/p/t.jsonl"), 2.0);
        assert_eq!((decision.field, decision.rule), ("context_window", RULE_WINDOW));
        assert_eq!(decision.value, usage);
        assert_eq!(decision.evidence.get("transcript"), Some(&json!("/p/t.jsonl")));
        assert_eq!(decision.evidence.get("context_window_inferred"), Some(&json!(true)));
    }
}
