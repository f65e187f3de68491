//! Questions the agent asks the user: the structured `AskUserQuestion` tool input and the original's prose rule for a
//! reply that ends with a question.
//!
//! Both return the session file's `pending_questions` entries:
//! `{"question": .., "header": .., "options": [{"label": .., "description": ..}], "multiSelect": ..}`.

use serde_json::{json, Map, Value};

/// The longest prose question kept, in characters (the original's `MAX_QUESTION_LEN`).
pub const MAX_QUESTION_CHARS: usize = 500;

/// Returns the question a final assistant message ends with, or `None` when it does not end with one.
///
/// This is the original's `_detect_prose_question`: the message must end with `?` (trailing whitespace ignored); the
/// question is its last paragraph (split on a blank line), which must contain a `?`. A paragraph longer than
/// [`MAX_QUESTION_CHARS`] keeps only its last [`MAX_QUESTION_CHARS`] characters and then, when a `". "` follows the
/// cut (at an index > 0), starts after the first `". "`, so the question begins at a sentence boundary.
///
/// The sentence-boundary trim only applies after a cut: its job is to repair a sentence cut in half, and applying it
/// to a short paragraph would drop context ("I renamed the module. Should I update the docs too?").
pub fn detect_prose_question(message: &str) -> Option<String> {
    let message = message.trim_end();
    if message.is_empty() || !message.ends_with('?') {
        return None;
    }
    // Split the trimmed message, so a reply ending in "?\n\n" still has its question in the last paragraph (which
    // then always holds the final "?"; the original's "contains ?" check cannot fail).
    let last = message.rsplit("\n\n").next().unwrap_or(message).trim();
    let question = match last.char_indices().rev().nth(MAX_QUESTION_CHARS - 1) {
        // More than MAX_QUESTION_CHARS characters: keep the tail, then start at a sentence boundary.
        Some((cut, _)) if cut > 0 => {
            let tail = &last[cut..];
            match tail.find(". ") {
                Some(dot) if dot > 0 => &tail[dot + 2..],
                _ => tail,
            }
        }
        _ => last,
    };
    Some(question.to_owned())
}

/// Returns a prose question as a pending-question entry (no header, no options, single choice).
pub fn prose_pending_question(question: String) -> Value {
    json!({"question": question, "header": "", "options": [], "multiSelect": false})
}

/// Returns the pending-question entries of an `AskUserQuestion` `tool_input`.
///
/// Lenient like the original's `_extract_questions`: a string input is parsed as JSON; anything that is not an object,
/// a missing or `null` `questions`, and entries of the wrong type give no question rather than an error. Each entry
/// carries `question`, `header`, `options` (`[{label, description}]`) and `multiSelect`, with empty defaults.
pub fn extract_questions(tool_input: Option<&Value>) -> Vec<Value> {
    let parsed;
    let input = match tool_input {
        Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
            Ok(value) => {
                parsed = value;
                &parsed
            }
            Err(_) => return Vec::new(),
        },
        Some(value) => value,
        None => return Vec::new(),
    };
    let Some(Value::Array(questions)) = input.get("questions") else {
        return Vec::new();
    };
    questions.iter().filter_map(question_entry).collect()
}

fn question_entry(raw: &Value) -> Option<Value> {
    // A bare string is taken as the question text; any other non-object entry is skipped.
    let q = match raw {
        Value::Object(q) => q,
        Value::String(text) => return Some(prose_pending_question(text.clone())),
        _ => return None,
    };
    let options: Vec<Value> = match q.get("options") {
        Some(Value::Array(options)) => options.iter().filter_map(option_entry).collect(),
        _ => Vec::new(),
    };
    let mut entry = Map::new();
    entry.insert("question".into(), Value::String(str_of(q, "question")));
    entry.insert("header".into(), Value::String(str_of(q, "header")));
    entry.insert("options".into(), Value::Array(options));
    entry.insert(
        "multiSelect".into(),
        Value::Bool(q.get("multiSelect").and_then(Value::as_bool).unwrap_or(false)),
    );
    Some(Value::Object(entry))
}

fn option_entry(raw: &Value) -> Option<Value> {
    match raw {
        Value::Object(o) => Some(json!({"label": str_of(o, "label"), "description": str_of(o, "description")})),
        Value::String(label) => Some(json!({"label": label, "description": ""})),
        _ => None,
    }
}

fn str_of(map: &Map<String, Value>, key: &str) -> String {
    map.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_question_needs_a_final_question_mark() {
        assert_eq!(detect_prose_question(""), None);
        assert_eq!(detect_prose_question("   \n"), None);
        assert_eq!(detect_prose_question("Done. All tests pass."), None);
        assert_eq!(detect_prose_question("Is this ok? I went ahead anyway."), None);
        assert_eq!(
            detect_prose_question("Shall I continue?"),
            Some("Shall I continue?".into())
        );
        assert_eq!(
            detect_prose_question("Shall I continue?  \n\n"),
            Some("Shall I continue?".into())
        );
    }

    #[test]
    fn prose_question_is_the_last_paragraph() {
        let msg = "I changed three files.\n\nThe tests pass.\n\nShould I also update the README?";
        assert_eq!(
            detect_prose_question(msg),
            Some("Should I also update the README?".into())
        );
        // A short last paragraph keeps its leading sentence: no cut happened.
        let msg = "Summary.\n\nI renamed the module. Should I update the docs too?";
        assert_eq!(
            detect_prose_question(msg),
            Some("I renamed the module. Should I update the docs too?".into())
        );
    }

    #[test]
    fn long_prose_question_keeps_the_tail_from_a_sentence_boundary() {
        let filler = "word ".repeat(150); // 750 characters
        let msg = format!("{filler}end of the filler. What should I do next?");
        let q = detect_prose_question(&msg).expect("question");
        assert_eq!(q, "What should I do next?");
        // Without a ". " after the cut, the last 500 characters are kept as they are.
        let msg = format!("{filler}what should I do next?");
        let q = detect_prose_question(&msg).expect("question");
        assert_eq!(q.chars().count(), MAX_QUESTION_CHARS);
        assert!(q.ends_with("what should I do next?"));
    }

    #[test]
    fn long_prose_question_cut_is_char_boundary_safe() {
        let msg = format!("{}é. Ça va?", "é".repeat(600));
        let q = detect_prose_question(&msg).expect("question");
        assert_eq!(q, "Ça va?");
        let msg = format!("{}?", "日本".repeat(400));
        let q = detect_prose_question(&msg).expect("question");
        assert_eq!(q.chars().count(), MAX_QUESTION_CHARS);
    }

    #[test]
    fn sentence_boundary_at_index_zero_is_kept() {
        // Exactly the last 500 characters start with ". ": index 0 is not a boundary to cut at.
        let tail = format!(". {}?", "x".repeat(497));
        assert_eq!(tail.chars().count(), MAX_QUESTION_CHARS);
        let msg = format!("{}{tail}", "y".repeat(10));
        assert_eq!(detect_prose_question(&msg), Some(tail));
    }

    #[test]
    fn ask_user_question_input_is_extracted() {
        let input = json!({"questions": [{
            "question": "Which database?",
            "header": "DB",
            "options": [{"label": "Postgres", "description": "relational"}, {"label": "Redis"}],
            "multiSelect": true
        }]});
        let qs = extract_questions(Some(&input));
        assert_eq!(
            qs,
            vec![json!({
                "question": "Which database?",
                "header": "DB",
                "options": [{"label": "Postgres", "description": "relational"}, {"label": "Redis", "description": ""}],
                "multiSelect": true
            })]
        );
    }

    #[test]
    fn odd_tool_inputs_give_no_questions_and_never_panic() {
        for input in [
            json!(null),
            json!({"questions": null}),
            json!({"questions": "nope"}),
            json!({}),
            json!([1, 2]),
            json!(42),
            json!("not json"),
            json!("[1]"),
        ] {
            assert!(extract_questions(Some(&input)).is_empty(), "{input}");
        }
        assert!(extract_questions(None).is_empty());
        let mixed = json!({"questions": [null, 3, {"question": 5, "options": "x"}, "Plain?"]});
        let qs = extract_questions(Some(&mixed));
        assert_eq!(qs.len(), 2);
        assert_eq!(
            qs[0],
            json!({"question": "", "header": "", "options": [], "multiSelect": false})
        );
        assert_eq!(qs[1]["question"], "Plain?");
    }

    #[test]
    fn string_tool_input_is_parsed_as_json() {
        let input = Value::String(r#"{"questions":[{"question":"Go?","options":[{"label":"Yes"}]}]}"#.into());
        let qs = extract_questions(Some(&input));
        assert_eq!(qs.len(), 1);
        assert_eq!(qs[0]["question"], "Go?");
        assert_eq!(qs[0]["options"][0]["label"], "Yes");
        assert_eq!(qs[0]["multiSelect"], false);
    }
}
