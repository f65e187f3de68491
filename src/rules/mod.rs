//! The collector's rules as pure functions: session facts + liveness facts + `now` → decisions.
//!
//! Nothing here touches the disk, runs a process or reads the clock; [`crate::sources`] gathers the facts and
//! [`crate::collect`] carries the decisions out. Each rule is the original's (`amc_server/mixins/state.py`) unless its
//! doc comment says otherwise; unit tests sit beside every rule.
//!
//! The original reads session files as Python dicts, so several rules depend on Python's truthiness and equality;
//! [`truthy`] and friends reproduce them on `serde_json::Value`.

pub mod cleanup;
pub mod codex;
pub mod context;
pub mod dedupe;
pub mod liveness;
pub mod process_liveness;

use std::path::PathBuf;

use serde_json::Value;

use crate::collect::SessionJson;

/// What a rule asks the collector to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Removes `path` (the collector moves it to `trash/`, it never unlinks), for `reason`.
    Remove {
        /// The file to remove.
        path: PathBuf,
        /// Why, in words, for the log.
        reason: String,
    },
}

/// Returns Python's truthiness of `value` (`None`/missing, `null`, `false`, `0`, `""`, `[]` and `{}` are false).
pub fn truthy(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
    }
}

/// Returns `session[key]` when it is a string (possibly empty), like `data.get(key) == "..."` comparisons need.
pub fn str_field<'a>(session: &'a SessionJson, key: &str) -> Option<&'a str> {
    session.get(key).and_then(Value::as_str)
}

/// Returns the string form of a JSON scalar: a string as itself, anything else as its JSON text (`3` → `"3"`).
pub fn string_form(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Returns the original's sort key, `session.get("session_id", "")`, as a string (a non-string id sorts by its JSON
/// text; the original would have raised on mixed types).
pub fn sort_key(session: &SessionJson) -> String {
    session.get("session_id").map(string_form).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn truthiness_follows_python() {
        for falsy in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert!(!truthy(Some(&falsy)), "{falsy} should be falsy");
        }
        for t in [
            json!(true),
            json!(1),
            json!(-2.5),
            json!("x"),
            json!([0]),
            json!({"a": 0}),
        ] {
            assert!(truthy(Some(&t)), "{t} should be truthy");
        }
        assert!(!truthy(None));
    }

    #[test]
    fn string_form_and_sort_key() {
        assert_eq!(string_form(&json!("3")), "3");
        assert_eq!(string_form(&json!(3)), "3");
        let s = json!({"session_id": "b"}).as_object().cloned().unwrap_or_default();
        assert_eq!(sort_key(&s), "b");
        assert_eq!(sort_key(&SessionJson::new()), "");
    }
}
