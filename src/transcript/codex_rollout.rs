//! Codex rollouts (`$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<local time>-<id>.jsonl`): the session meta from the
//! head and the last turn event from the tail, never the whole file (rollouts reach 100+ MB). Beside `codex.rs`
//! (context usage from the same files); also reachable as `crate::sources::codex`.

use std::{
    collections::{HashMap, HashSet},
    io::{BufRead, BufReader, Read, Seek, SeekFrom},
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    time::SystemTime,
};

use std::{borrow::Cow, sync::LazyLock};

use serde::Deserialize;
use serde_json::Value;

use super::cursor::{parse_line, Lenient, Prefilter};

/// How much of the end of a rollout is read when it is first seen.
pub const TAIL_BYTES: u64 = 64 * 1024;

/// How much a rollout already seen may have grown and still be read from where the last pass stopped; beyond this
/// only its last [`TAIL_BYTES`] are read.
pub const CATCH_UP_BYTES: u64 = 8 * 1024 * 1024;

/// How much of the start of a rollout is searched for its `session_meta` (the first line normally; it carries the
/// base instructions, tens of KB).
const HEAD_BYTES: u64 = 4 * 1024 * 1024;

/// How many lines of the head are searched for `session_meta`.
const HEAD_LINES: usize = 16;

/// The event types that move a Codex session between turns.
pub const TURN_EVENTS: [&str; 3] = ["task_started", "task_complete", "turn_aborted"];

/// What a rollout's `session_meta` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutMeta {
    /// The thread id (`payload.id`, else `payload.session_id`).
    pub id: String,
    /// The working directory the session runs in.
    pub cwd: Option<String>,
    /// When the session started (UTC ISO 8601).
    pub timestamp: Option<String>,
}

/// The newest turn event (`task_started`, `task_complete`, `turn_aborted`) of a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnEvent {
    /// The `event_msg` payload type.
    pub kind: String,
    /// The line's timestamp.
    pub timestamp: Option<String>,
}

/// Reads the FIRST `session_meta` of the rollout at `path` (a fork replays its parent's meta after its own).
pub fn read_meta(path: &Path) -> Option<RolloutMeta> {
    let file = crate::bounded::open(path).ok()?;
    let mut reader = BufReader::new(file.take(HEAD_BYTES));
    let mut line = Vec::new();
    for _ in 0..HEAD_LINES {
        line.clear();
        if reader.read_until(b'\n', &mut line).ok()? == 0 {
            return None;
        }
        let Ok(Value::Object(record)) = serde_json::from_slice::<Value>(&line) else {
            continue;
        };
        let payload = match record.get("type").and_then(Value::as_str) {
            Some("session_meta") => record.get("payload").and_then(Value::as_object)?,
            // The older "direct" format: the first line is the bare meta.
            None if record.contains_key("id") => &record,
            _ => continue,
        };
        let text = |key: &str| {
            payload
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        let id = text("id").or_else(|| text("session_id"))?;
        return Some(RolloutMeta {
            id,
            cwd: text("cwd"),
            timestamp: text("timestamp"),
        });
    }
    None
}

/// Returns the newest turn event among the complete lines of `bytes`.
pub fn last_turn_event(bytes: &[u8]) -> Option<TurnEvent> {
    bytes.split(|b| *b == b'\n').rev().find_map(|line| {
        // Raw-byte filter before parsing: most lines are not turn events.
        if !TURN.matches(line) {
            return None;
        }
        let record: TurnLine = parse_line(line).ok()?;
        if record.kind.0.as_deref() != Some("event_msg") {
            return None;
        }
        let kind = record.payload.0?.kind.0?;
        TURN_EVENTS.contains(&kind.as_ref()).then(|| TurnEvent {
            kind: kind.into_owned(),
            timestamp: record.timestamp.0.map(Cow::into_owned),
        })
    })
}

/// Lines that can be turn events.
static TURN: LazyLock<Prefilter> = LazyLock::new(|| Prefilter::new(&TURN_EVENTS));

/// The fields of a rollout line a turn event needs, borrowed from the line.
#[derive(Deserialize, Default)]
#[serde(default)]
struct TurnLine<'a> {
    #[serde(rename = "type", borrow)]
    kind: Lenient<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp: Lenient<Cow<'a, str>>,
    #[serde(borrow)]
    payload: Lenient<TurnPayload<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct TurnPayload<'a> {
    #[serde(rename = "type", borrow)]
    kind: Lenient<Cow<'a, str>>,
}

/// Returns the local start time in a rollout's file name (`rollout-2026-02-23T12-41-04-<id>.jsonl`): when the TUI
/// started.
pub fn name_time(path: &Path) -> Option<SystemTime> {
    use chrono::TimeZone;
    let name = path.file_name()?.to_str()?.strip_prefix("rollout-")?;
    let stamp = name.get(..19)?;
    let naive = chrono::NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H-%M-%S").ok()?;
    let local = chrono::Local.from_local_datetime(&naive).earliest()?;
    Some(SystemTime::from(local))
}

/// What the collector needs from one rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolloutFacts {
    /// Its `session_meta`.
    pub meta: RolloutMeta,
    /// Its newest turn event, if any was seen.
    pub last_turn: Option<TurnEvent>,
}

#[derive(Debug)]
struct Entry {
    inode: u64,
    meta: RolloutMeta,
    /// Offset just past the last complete line scanned.
    scanned_to: u64,
    last_turn: Option<TurnEvent>,
}

/// Per-rollout state kept between passes: the meta is read once; the tail is read from where the last pass stopped
/// (the last [`TAIL_BYTES`] on first sight).
#[derive(Debug, Default)]
pub struct RolloutCache {
    entries: HashMap<PathBuf, Entry>,
}

impl RolloutCache {
    /// Returns the facts of the rollout at `path`, or `None` when it is unreadable or has no `session_meta`.
    pub fn read(&mut self, path: &Path) -> Option<RolloutFacts> {
        let file_meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
        let (inode, len) = (file_meta.ino(), file_meta.len());
        let fresh = match self.entries.get(path) {
            Some(e) => e.inode != inode || len < e.scanned_to,
            None => true,
        };
        if fresh {
            let meta = read_meta(path)?;
            self.entries.insert(
                path.to_path_buf(),
                Entry {
                    inode,
                    meta,
                    scanned_to: 0,
                    last_turn: None,
                },
            );
        }
        let entry = self.entries.get_mut(path)?;
        if len > entry.scanned_to {
            let window = if entry.scanned_to == 0 {
                TAIL_BYTES
            } else {
                CATCH_UP_BYTES
            };
            let start = entry.scanned_to.max(len.saturating_sub(window));
            if let Some((consumed, event)) = read_tail(path, start, len, start > entry.scanned_to) {
                entry.scanned_to = consumed;
                if event.is_some() {
                    entry.last_turn = event;
                }
            }
        }
        Some(RolloutFacts {
            meta: entry.meta.clone(),
            last_turn: entry.last_turn.clone(),
        })
    }

    /// Forgets every rollout not in `keep`.
    pub fn retain(&mut self, keep: &HashSet<PathBuf>) {
        self.entries.retain(|path, _| keep.contains(path));
    }
}

/// Reads `[start, len)`; returns the offset past the last complete line and the newest turn event in it.
/// `skip_partial`: `start` may be mid-line, so the first (partial) line is dropped.
fn read_tail(path: &Path, start: u64, len: u64, skip_partial: bool) -> Option<(u64, Option<TurnEvent>)> {
    let mut file = crate::bounded::open(path).ok()?;
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut buf = Vec::new();
    file.take(len - start).read_to_end(&mut buf).ok()?;
    let mut from = 0;
    if skip_partial && start > 0 {
        from = memchr::memchr(b'\n', &buf).map_or(buf.len(), |i| i + 1);
    }
    let Some(last_newline) = memchr::memrchr(b'\n', &buf).filter(|i| *i + 1 > from) else {
        // No complete line yet: resume from the same place next time (or from a newer tail).
        return Some((start.min(len), None));
    };
    let event = last_turn_event(&buf[from..last_newline]);
    Some((start + last_newline as u64 + 1, event))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    const META: &str = r#"{"timestamp":"2026-02-23T11:41:32.239Z","type":"session_meta","payload":{"id":"019c8a4d-8f45-7010-8b5d-7fad920aa6f9","timestamp":"2026-02-23T11:41:04.709Z","cwd":"/home/u/proj","originator":"codex-tui"}}"#;

    fn event(kind: &str, ts: &str) -> String {
        format!(r#"{{"timestamp":"{ts}","type":"event_msg","payload":{{"type":"{kind}","turn_id":"t"}}}}"#)
    }

    #[test]
    fn reads_the_first_session_meta() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("r.jsonl");
        let forked = META.replace("019c8a4d-8f45-7010-8b5d-7fad920aa6f9", "parent");
        std::fs::write(&path, format!("{META}\n{forked}\n")).expect("write");
        let meta = read_meta(&path).expect("meta");
        assert_eq!(meta.id, "019c8a4d-8f45-7010-8b5d-7fad920aa6f9");
        assert_eq!(meta.cwd.as_deref(), Some("/home/u/proj"));
        assert_eq!(meta.timestamp.as_deref(), Some("2026-02-23T11:41:04.709Z"));
    }

    #[test]
    fn falls_back_to_session_id_and_the_direct_format() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("r.jsonl");
        std::fs::write(
            &path,
            r#"{"type":"session_meta","payload":{"session_id":"s1","cwd":"/p"}}"#,
        )
        .expect("write");
        assert_eq!(read_meta(&path).expect("meta").id, "s1");
        std::fs::write(
            &path,
            "{\"id\":\"d1\",\"cwd\":\"/q\",\"cli_version\":\"0.34.0\"}\n{\"record_type\":\"state\"}\n",
        )
        .expect("write");
        assert_eq!(read_meta(&path).expect("meta").id, "d1");
        std::fs::write(&path, "not json\n{\"type\":\"response_item\",\"payload\":{}}\n").expect("write");
        assert_eq!(read_meta(&path), None);
        assert_eq!(read_meta(tmp.path()), None, "a directory is not a rollout");
    }

    #[test]
    fn the_newest_turn_event_wins_and_others_are_skipped() {
        let text = format!(
            "{}\n{}\n{}\n{}\n",
            event("task_started", "t1"),
            event("task_complete", "t2"),
            event("token_count", "t3"),
            r#"{"type":"response_item","payload":{"type":"message","content":"task_started"}}"#
        );
        let e = last_turn_event(text.as_bytes()).expect("event");
        assert_eq!((e.kind.as_str(), e.timestamp.as_deref()), ("task_complete", Some("t2")));
        assert_eq!(last_turn_event(b"{}\n"), None);
    }

    #[test]
    fn the_cache_reads_incrementally_and_keeps_the_last_event_beyond_the_tail() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("rollout-2026-02-23T12-41-04-x.jsonl");
        let mut f = std::fs::File::create(&path).expect("create");
        writeln!(f, "{META}").expect("write");
        let mut cache = RolloutCache::default();
        assert_eq!(cache.read(&path).expect("facts").last_turn, None);
        writeln!(f, "{}", event("task_started", "t1")).expect("write");
        write!(f, "{}", &event("task_complete", "t2")[..20]).expect("partial line");
        let facts = cache.read(&path).expect("facts");
        assert_eq!(
            facts.last_turn.map(|e| e.kind),
            Some("task_started".into()),
            "a partial line is not read"
        );
        // A long turn: more than TAIL_BYTES of other lines after the event.
        writeln!(f, "{}", &event("task_complete", "t2")[20..]).expect("finish line");
        let filler = format!(
            "{{\"type\":\"response_item\",\"payload\":{{\"text\":\"{}\"}}}}\n",
            "x".repeat(1000)
        );
        for _ in 0..100 {
            f.write_all(filler.as_bytes()).expect("filler");
        }
        let facts = cache.read(&path).expect("facts");
        assert_eq!(facts.last_turn.map(|e| e.kind), Some("task_complete".into()));
        for _ in 0..100 {
            f.write_all(filler.as_bytes()).expect("filler");
        }
        assert_eq!(
            cache.read(&path).expect("facts").last_turn.map(|e| e.kind),
            Some("task_complete".into())
        );
        // A fresh cache only sees the tail, where there is no turn event.
        assert_eq!(RolloutCache::default().read(&path).expect("facts").last_turn, None);
    }

    #[test]
    fn name_time_is_the_local_time_in_the_file_name() {
        let t = name_time(Path::new("/x/rollout-2026-02-23T12-41-04-019c8a4d.jsonl")).expect("time");
        let local = chrono::DateTime::<chrono::Local>::from(t);
        assert_eq!(local.format("%Y-%m-%d %H:%M:%S").to_string(), "2026-02-23 12:41:04");
        assert_eq!(name_time(Path::new("/x/other.jsonl")), None);
    }
}
