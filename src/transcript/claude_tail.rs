//! The last assistant message of a Claude Code transcript, read from its tail: the hook's fast reader, beside the
//! collector's (`claude.rs`), with the same line decoding ([`parse_line`]: BOM, strict UTF-8) and a raw-byte filter
//! ([`Prefilter`]) before any parse.
//!
//! Stop payloads before Claude Code 2.1.47 carry no `last_assistant_message`, so the hook reads the end of the
//! transcript instead. Only the last [`TAIL_BYTES`] are read, whatever the transcript's size.

use std::{
    io::{self, Read, Seek, SeekFrom},
    path::Path,
};

use std::sync::LazyLock;

use serde_json::Value;

use super::cursor::{parse_line, Prefilter};

/// Lines that can be an assistant or a user line (the only ones read); everything else is skipped unparsed.
static ASSISTANT: LazyLock<Prefilter> = LazyLock::new(|| Prefilter::new(&["\"assistant\""]));
static USER: LazyLock<Prefilter> = LazyLock::new(|| Prefilter::new(&["\"user\""]));

/// How much of the transcript's end is read, in bytes.
pub const TAIL_BYTES: u64 = 256 * 1024;

/// Returns the text of the newest main-chain assistant message in the transcript at `path`.
///
/// One API response is written as several `type: "assistant"` lines that share `message.id` (one per content block
/// in recent versions), so the text blocks of every line of the newest message are joined, oldest first, with a
/// blank line. Sidechain (sub-agent) lines are skipped. Returns `Ok(None)` when the tail holds no assistant message
/// or that message has no text (it ended with a tool call), and when `path` is not a regular file: opening a FIFO
/// would block until some writer appears, and a device has no transcript to read.
pub fn last_assistant_message(path: &Path) -> io::Result<Option<String>> {
    if !std::fs::metadata(path)?.is_file() {
        return Ok(None);
    }
    let mut file = crate::bounded::open(path)?;
    let len = file.metadata()?.len();
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::with_capacity(usize::try_from(len - start).unwrap_or(0));
    file.take(TAIL_BYTES).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.lines();
    if start > 0 {
        // The first line of a tail that starts mid-file is most likely cut.
        lines.next();
    }
    Ok(newest_message_text(lines))
}

/// Returns the newest main-chain assistant message's text from transcript `lines` (oldest first).
fn newest_message_text<'a>(lines: impl DoubleEndedIterator<Item = &'a str>) -> Option<String> {
    let mut message_id: Option<String> = None;
    let mut parts: Vec<String> = Vec::new();
    for line in lines.rev() {
        // Cheap filter before parsing: most lines of a long transcript are tool results and user lines.
        if !ASSISTANT.matches(line.as_bytes()) {
            if message_id.is_some() && is_user_line(line) {
                break;
            }
            continue;
        }
        let Ok(entry) = parse_line::<Value>(line.as_bytes()) else {
            continue;
        };
        if entry.get("type").and_then(Value::as_str) != Some("assistant") {
            if message_id.is_some() && entry.get("type").and_then(Value::as_str) == Some("user") {
                break;
            }
            continue;
        }
        if entry.get("isSidechain").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let Some(message) = entry.get("message") else {
            continue;
        };
        let id = message.get("id").and_then(Value::as_str).unwrap_or_default();
        match &message_id {
            None => message_id = Some(id.to_owned()),
            // An older response: the newest message is complete.
            Some(newest) if newest != id || id.is_empty() => break,
            Some(_) => {}
        }
        if let Some(text) = message_text(message) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        return None;
    }
    parts.reverse();
    Some(parts.join("\n\n"))
}

/// Returns whether a transcript line is a (main-chain) `type: "user"` line, without parsing lines that cannot be.
fn is_user_line(line: &str) -> bool {
    USER.matches(line.as_bytes())
        && parse_line::<Value>(line.as_bytes()).ok().is_some_and(|e| {
            e.get("type").and_then(Value::as_str) == Some("user") && e.get("isSidechain") != Some(&Value::Bool(true))
        })
}

/// Returns the text blocks of an assistant `message`, joined; `None` when it has none.
fn message_text(message: &Value) -> Option<String> {
    match message.get("content")? {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Array(blocks) => {
            let texts: Vec<&str> = blocks
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .filter(|t| !t.trim().is_empty())
                .collect();
            (!texts.is_empty()).then(|| texts.join("\n\n"))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn assistant(id: &str, content: Value, sidechain: bool) -> String {
        serde_json::json!({"type": "assistant", "isSidechain": sidechain, "message": {"id": id, "role": "assistant", "content": content}})
            .to_string()
    }

    fn user(text: &str) -> String {
        serde_json::json!({"type": "user", "isSidechain": false, "message": {"role": "user", "content": text}})
            .to_string()
    }

    #[test]
    fn newest_message_blocks_are_joined_and_sidechains_skipped() {
        let lines = [
            user("hi"),
            assistant("m1", serde_json::json!([{"type": "text", "text": "old answer"}]), false),
            user("more"),
            assistant(
                "m2",
                serde_json::json!([{"type": "thinking", "thinking": "hmm"}]),
                false,
            ),
            assistant("m2", serde_json::json!([{"type": "text", "text": "Part one."}]), false),
            assistant(
                "m2",
                serde_json::json!([{"type": "text", "text": "Shall I go on?"}]),
                false,
            ),
            assistant("s1", serde_json::json!([{"type": "text", "text": "sidechain"}]), true),
            r#"{"type":"system","subtype":"turn_duration"}"#.to_owned(),
        ];
        let text = newest_message_text(lines.iter().map(String::as_str));
        assert_eq!(text.as_deref(), Some("Part one.\n\nShall I go on?"));
    }

    #[test]
    fn message_ending_in_a_tool_call_has_no_text() {
        let lines = [
            assistant("m1", serde_json::json!([{"type": "text", "text": "older"}]), false),
            user("tool result"),
            assistant(
                "m2",
                serde_json::json!([{"type": "tool_use", "name": "Bash", "input": {}}]),
                false,
            ),
        ];
        assert_eq!(newest_message_text(lines.iter().map(String::as_str)), None);
    }

    #[test]
    fn string_content_and_garbage_lines() {
        let lines = [
            "{not json".to_owned(),
            assistant("m1", Value::String("Plain text?".into()), false),
            "".to_owned(),
        ];
        assert_eq!(
            newest_message_text(lines.iter().map(String::as_str)).as_deref(),
            Some("Plain text?")
        );
    }

    #[test]
    fn only_the_tail_of_a_big_transcript_is_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.jsonl");
        let mut file = std::fs::File::create(&path).expect("create");
        let filler = user(&"x".repeat(1000));
        for _ in 0..400 {
            writeln!(file, "{filler}").expect("write");
        }
        writeln!(
            file,
            "{}",
            assistant("m9", serde_json::json!([{"type": "text", "text": "Last?"}]), false)
        )
        .expect("write");
        drop(file);
        assert!(std::fs::metadata(&path).expect("meta").len() > TAIL_BYTES);
        assert_eq!(last_assistant_message(&path).expect("read").as_deref(), Some("Last?"));
        assert!(last_assistant_message(&dir.path().join("missing.jsonl")).is_err());
    }

    #[test]
    fn a_fifo_or_a_directory_is_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("t.jsonl");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo");
        assert!(status.success());
        // Opening the FIFO for reading would block until a writer appears.
        assert_eq!(last_assistant_message(&fifo).expect("fifo"), None);
        assert_eq!(last_assistant_message(dir.path()).expect("dir"), None);
    }
}
