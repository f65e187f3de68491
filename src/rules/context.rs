//! Context-usage rules: the per-turn token baseline.

use crate::model::str_field;
use crate::model::SessionJson;

/// Returns the `turn_start_tokens` to record, if any: when the last event is `UserPromptSubmit` (a turn just started),
/// the session has no `turn_start_tokens` key yet (a `null` value counts as present, as in the original's `in` test)
/// and the transcript's current context size is known.
pub fn turn_start_tokens(session: &SessionJson, current_tokens: Option<u64>) -> Option<u64> {
    if str_field(session, "last_event") != Some("UserPromptSubmit") || session.contains_key("turn_start_tokens") {
        return None;
    }
    current_tokens
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn s(v: Value) -> SessionJson {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn recorded_once_at_the_start_of_a_turn_with_known_tokens() {
        assert_eq!(
            turn_start_tokens(&s(json!({"last_event": "UserPromptSubmit"})), Some(1200)),
            Some(1200)
        );
        assert_eq!(
            turn_start_tokens(&s(json!({"last_event": "UserPromptSubmit"})), None),
            None
        );
        assert_eq!(turn_start_tokens(&s(json!({"last_event": "Stop"})), Some(1200)), None);
        assert_eq!(turn_start_tokens(&s(json!({})), Some(1200)), None);
        let recorded = s(json!({"last_event": "UserPromptSubmit", "turn_start_tokens": 5}));
        assert_eq!(turn_start_tokens(&recorded, Some(1200)), None);
        let null = s(json!({"last_event": "UserPromptSubmit", "turn_start_tokens": null}));
        assert_eq!(turn_start_tokens(&null, Some(1200)), None);
    }
}
