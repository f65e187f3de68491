//! A compaction's size before and after, for the event log.
//!
//! Claude Code's PostCompact payload carries only `trigger` and `compact_summary`; the sizes are in the transcript's
//! `compact_boundary` line (`compactMetadata.preTokens`, `postTokens`). Claude Code 2.1.331 writes that line ~10 ms
//! *after* the PostCompact hook ran, so PreCompact records `compacting_since` in the session file, and every later
//! event looks in the transcript's tail for a boundary written since then: once found, the hook appends a
//! `Compaction` line (the boundary's time, `trigger`, `pre_tokens`, `post_tokens`) to the event log and drops the mark.

use std::{
    io::{self, Read, Seek, SeekFrom},
    path::Path,
};

use serde_json::{Map, Value};

/// How much of the transcript's end is read for the boundary line.
pub const TAIL_BYTES: u64 = 128 * 1024;

/// Returns `{"at", "trigger", "pre_tokens", "post_tokens"}` (those present) of the newest `compact_boundary` line in
/// `text` (a transcript's tail, oldest line first) whose `timestamp` is not before `since` (RFC 3339; `None`: any);
/// `None` when there is none or it has no size.
pub fn boundary_tokens(text: &str, since: Option<&str>) -> Option<Map<String, Value>> {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let since = since.and_then(parse);
    let line = text.lines().rev().find(|l| l.contains("\"compact_boundary\""))?;
    let value: Value = serde_json::from_str(line).ok()?;
    let at = value.get("timestamp").and_then(Value::as_str);
    if let Some(since) = since {
        // A boundary from an earlier compaction (or one without a time) is not this compaction's.
        if at.and_then(parse).is_none_or(|at| at < since) {
            return None;
        }
    }
    let meta = value.get("compactMetadata")?;
    let mut out = Map::new();
    for (from, to) in [("preTokens", "pre_tokens"), ("postTokens", "post_tokens")] {
        if let Some(n) = meta.get(from).and_then(Value::as_u64) {
            out.insert(to.into(), n.into());
        }
    }
    if out.is_empty() {
        return None;
    }
    if let Some(trigger) = meta.get("trigger").and_then(Value::as_str) {
        out.insert("trigger".into(), trigger.into());
    }
    if let Some(at) = at {
        out.insert("at".into(), at.into());
    }
    Some(out)
}

/// Reads the tail of the transcript at `path` and returns [`boundary_tokens`] of it; `Ok(None)` for anything that is
/// not a regular file (a FIFO would block the open).
pub fn read_boundary_tokens(path: &Path, since: Option<&str>) -> io::Result<Option<Map<String, Value>>> {
    if !std::fs::metadata(path)?.is_file() {
        return Ok(None);
    }
    let mut file = crate::bounded::open(path)?;
    let start = file.metadata()?.len().saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(TAIL_BYTES).read_to_end(&mut bytes)?;
    Ok(boundary_tokens(&String::from_utf8_lossy(&bytes), since))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OLD: &str = r#"{"type":"system","subtype":"compact_boundary","timestamp":"2026-12-05T18:00:00.000Z","compactMetadata":{"trigger":"auto","preTokens":167000}}"#;
    /// The shape Claude Code 2.1.331 wrote after /compact (recorded by the e2e suite, other keys left out).
    const NEW: &str = r#"{"type":"system","subtype":"compact_boundary","content":"Conversation compacted","timestamp":"2026-12-05T18:39:17.279Z","compactMetadata":{"trigger":"manual","preTokens":33172,"postTokens":2837,"cumulativeDroppedTokens":30335,"durationMs":564}}"#;

    #[test]
    fn the_newest_boundary_since_the_mark_gives_the_sizes() {
        let text = format!("{OLD}\n{{\"type\":\"user\"}}\n{NEW}\n{{\"type\":\"assistant\"}}\n");
        assert_eq!(
            boundary_tokens(&text, Some("2026-12-05T18:39:17.100000Z")).map(Value::Object),
            Some(
                json!({"pre_tokens": 33172, "post_tokens": 2837, "trigger": "manual", "at": "2026-12-05T18:39:17.279Z"})
            )
        );
        assert_eq!(
            boundary_tokens(OLD, None).map(Value::Object),
            Some(json!({"pre_tokens": 167000, "trigger": "auto", "at": "2026-12-05T18:00:00.000Z"}))
        );
        // The compaction under way has not written its boundary yet: the older one is not taken for it.
        assert_eq!(boundary_tokens(OLD, Some("2026-12-05T18:39:17.100000Z")), None);
    }

    #[test]
    fn no_boundary_or_a_broken_one_gives_nothing() {
        assert_eq!(boundary_tokens("", None), None);
        assert_eq!(boundary_tokens("{\"type\":\"user\"}\n", None), None);
        assert_eq!(
            boundary_tokens("{\"subtype\":\"compact_boundary\",\"compactMetadata\":", None),
            None
        );
        assert_eq!(
            boundary_tokens(
                r#"{"subtype":"compact_boundary","compactMetadata":{"trigger":"auto"}}"#,
                None
            ),
            None
        );
        assert_eq!(
            boundary_tokens(
                r#"{"subtype":"compact_boundary","compactMetadata":{"preTokens":5}}"#,
                Some("2026-01-01T00:00:00Z")
            ),
            None,
            "no time: not known to be this compaction's"
        );
    }
}
