//! PostCompact: the compaction's size before and after, for the event log.
//!
//! Claude Code's PostCompact payload carries only `trigger` and `compact_summary`; the sizes are in the transcript's
//! newest `compact_boundary` line (`compactMetadata.preTokens`, and `postTokens` in newer builds), written before the
//! hook runs. The hook reads the transcript's tail for it.

use std::{
    fs::File,
    io::{self, Read, Seek, SeekFrom},
    path::Path,
};

use serde_json::{Map, Value};

/// How much of the transcript's end is read for the boundary line.
pub const TAIL_BYTES: u64 = 128 * 1024;

/// Returns `{"pre_tokens", "post_tokens"}` (those present) of the newest `compact_boundary` line in `text` (a
/// transcript's tail, oldest line first); `None` when there is none or it has neither number.
pub fn boundary_tokens(text: &str) -> Option<Map<String, Value>> {
    let line = text.lines().rev().find(|l| l.contains("\"compact_boundary\""))?;
    let value: Value = serde_json::from_str(line).ok()?;
    let meta = value.get("compactMetadata")?;
    let mut out = Map::new();
    for (from, to) in [("preTokens", "pre_tokens"), ("postTokens", "post_tokens")] {
        if let Some(n) = meta.get(from).and_then(Value::as_u64) {
            out.insert(to.into(), n.into());
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Reads the tail of the transcript at `path` and returns [`boundary_tokens`] of it; `Ok(None)` for anything that is
/// not a regular file (a FIFO would block the open).
pub fn read_boundary_tokens(path: &Path) -> io::Result<Option<Map<String, Value>>> {
    if !std::fs::metadata(path)?.is_file() {
        return Ok(None);
    }
    let mut file = File::open(path)?;
    let start = file.metadata()?.len().saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    file.take(TAIL_BYTES).read_to_end(&mut bytes)?;
    Ok(boundary_tokens(&String::from_utf8_lossy(&bytes)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_newest_boundary_gives_the_sizes() {
        let old =
            r#"{"type":"system","subtype":"compact_boundary","compactMetadata":{"trigger":"auto","preTokens":167000}}"#;
        let new = r#"{"type":"system","subtype":"compact_boundary","compactMetadata":{"trigger":"manual","preTokens":18069,"postTokens":2100}}"#;
        let text = format!("{old}\n{{\"type\":\"user\"}}\n{new}\n{{\"type\":\"assistant\"}}\n");
        assert_eq!(
            boundary_tokens(&text).map(Value::Object),
            Some(json!({"pre_tokens": 18069, "post_tokens": 2100}))
        );
        assert_eq!(
            boundary_tokens(old).map(Value::Object),
            Some(json!({"pre_tokens": 167000}))
        );
    }

    #[test]
    fn no_boundary_or_a_broken_one_gives_nothing() {
        assert_eq!(boundary_tokens(""), None);
        assert_eq!(boundary_tokens("{\"type\":\"user\"}\n"), None);
        assert_eq!(
            boundary_tokens("{\"subtype\":\"compact_boundary\",\"compactMetadata\":"),
            None
        );
        assert_eq!(
            boundary_tokens(r#"{"subtype":"compact_boundary","compactMetadata":{"trigger":"auto"}}"#),
            None
        );
    }
}
