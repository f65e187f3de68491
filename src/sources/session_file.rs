//! `sessions/*.json` and `events/*.jsonl` as found on disk, and the collector's few writes to them.
//!
//! Every write holds the session's [`SessionLock`] (named after the file stem, as the hook names it), re-reads the
//! file under it, and goes through [`write_atomic`]; every removal moves the file to `trash/`. A file that vanished
//! or changed since the pass read it is left alone: the next pass looks again.

use std::{
    fs, io,
    path::{Path, PathBuf},
    time::SystemTime,
};

use serde_json::Value;

use crate::{
    collect::SessionJson,
    config::Paths,
    rules::cleanup::EventLogFacts,
    store::{self, SessionLock},
};

/// Returns the files in `dir` named `*<suffix>` (hidden ones included, and names that are not UTF-8), in directory
/// order: exactly what the original's `Path.glob` (built on `scandir`) returned, so sessions with equal `session_id`s
/// keep its order.
pub fn list_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.file_name().as_encoded_bytes().ends_with(suffix.as_bytes()))
        .map(|e| e.path())
        .collect()
}

/// One session file as read.
#[derive(Debug, Clone)]
pub struct RawSession {
    /// The file.
    pub path: PathBuf,
    /// Its bytes, exactly as read (to detect a change before acting on the file).
    pub bytes: Vec<u8>,
    /// Its mtime.
    pub mtime: Option<SystemTime>,
}

/// What a session file holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Parsed {
    /// A JSON object: a session.
    Object(SessionJson),
    /// Valid JSON that is not an object.
    NotObject,
    /// Not JSON (partial, truncated, binary).
    Invalid(String),
}

impl RawSession {
    /// Parses the bytes.
    pub fn parse(&self) -> Parsed {
        match serde_json::from_slice::<Value>(&self.bytes) {
            Ok(Value::Object(map)) => Parsed::Object(map),
            Ok(_) => Parsed::NotObject,
            Err(error) => Parsed::Invalid(error.to_string()),
        }
    }
}

/// Reads `path`; `Ok(None)` when it vanished since it was listed or is not a regular file.
pub fn read_raw(path: &Path) -> io::Result<Option<RawSession>> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if !meta.is_file() {
        return Ok(None);
    }
    match fs::read(path) {
        Ok(bytes) => Ok(Some(RawSession {
            path: path.to_path_buf(),
            bytes,
            mtime: meta.modified().ok(),
        })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Reads `path` as a session object; `None` when missing, unreadable or not an object.
pub fn read_object(path: &Path) -> Option<SessionJson> {
    match read_raw(path).ok()??.parse() {
        Parsed::Object(map) => Some(map),
        _ => None,
    }
}

/// Lists `events/*.jsonl` with their stems and mtimes.
pub fn list_event_logs(events_dir: &Path) -> Vec<EventLogFacts> {
    list_files(events_dir, ".jsonl")
        .into_iter()
        .filter_map(|path| {
            let id = path.file_stem()?.to_string_lossy().into_owned();
            let mtime = fs::metadata(&path).and_then(|m| m.modified()).ok();
            Some(EventLogFacts { path, id, mtime })
        })
        .collect()
}

/// Takes the lock of the session stored at `path` (named after its stem); `None` when the stem is not a safe id or
/// the lock cannot be taken (the caller then goes on unlocked: its write is still atomic).
fn lock_for(paths: &Paths, path: &Path) -> Option<SessionLock> {
    let stem = path.file_stem()?.to_str()?;
    match SessionLock::acquire(paths, stem) {
        Ok(lock) => Some(lock),
        Err(error) => {
            tracing::debug!(file = %path.display(), %error, "going on without the session lock");
            None
        }
    }
}

/// Serializes a session the way the original wrote it (`json.dumps(data, indent=2)`).
pub fn to_pretty(session: &SessionJson) -> Vec<u8> {
    serde_json::to_vec_pretty(session).unwrap_or_default()
}

/// Records `turn_start_tokens` in the session file at `path`: under the lock, re-reads it and, if it still has no
/// `turn_start_tokens` and its `last_event` is still `UserPromptSubmit`, inserts that one key and writes it back.
/// Returns the bytes written, `None` when it did not write. No computed key (`context_usage`, `is_dead`, ...) is
/// written.
pub fn write_turn_start_tokens(paths: &Paths, path: &Path, tokens: u64) -> io::Result<Option<Vec<u8>>> {
    let _lock = lock_for(paths, path);
    let Some(mut session) = read_object(path) else {
        return Ok(None);
    };
    if session.contains_key("turn_start_tokens")
        || session.get("last_event").and_then(Value::as_str) != Some("UserPromptSubmit")
    {
        return Ok(None);
    }
    session.insert("turn_start_tokens".into(), Value::from(tokens));
    let bytes = to_pretty(&session);
    store::write_atomic(path, &bytes)?;
    Ok(Some(bytes))
}

/// Moves the session file at `path` to the trash if `still` holds for its current bytes (checked under the lock);
/// returns whether it moved.
pub fn trash_session_if(paths: &Paths, path: &Path, still: impl FnOnce(&RawSession) -> bool) -> io::Result<bool> {
    let _lock = lock_for(paths, path);
    let Some(raw) = read_raw(path)? else {
        return Ok(false);
    };
    if !still(&raw) {
        return Ok(false);
    }
    store::move_to_trash(paths, path)?;
    Ok(true)
}

/// Creates or refreshes `sessions/<id>.json` under its lock: `update` gets the current object (`None` when there is
/// none) and returns the new content, or `None` to leave the file as it is. Returns whether it wrote.
pub fn upsert_session(
    paths: &Paths,
    id: &str,
    update: impl FnOnce(Option<&SessionJson>) -> Option<SessionJson>,
) -> io::Result<bool> {
    let Some(path) = store::session_file(paths, id) else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("unsafe session id {id:?}"),
        ));
    };
    let _lock = SessionLock::acquire(paths, id)?;
    let existing = match read_raw(&path)? {
        None => None,
        Some(raw) => match raw.parse() {
            Parsed::Object(map) => Some(map),
            // Never overwrite a file we cannot read as a session.
            _ => return Ok(false),
        },
    };
    let Some(new) = update(existing.as_ref()) else {
        return Ok(false);
    };
    store::write_atomic(&path, &to_pretty(&new))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn temp_paths() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let paths = Paths::from_lookup(|k| match k {
            "HOME" => Some(root.to_string_lossy().into_owned()),
            "AMC_DATA_DIR" => Some(root.join("data").to_string_lossy().into_owned()),
            _ => None,
        });
        fs::create_dir_all(paths.sessions_dir()).expect("sessions dir");
        (dir, paths)
    }

    #[test]
    fn lists_hidden_files_too_and_skips_other_suffixes() {
        let (_dir, paths) = temp_paths();
        let dir = paths.sessions_dir();
        for name in ["b.json", ".a.json", "c.json.tmp", "x.txt"] {
            fs::write(dir.join(name), "{}").expect("write");
        }
        let names: std::collections::BTreeSet<_> = list_files(&dir, ".json")
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .collect();
        assert_eq!(names, [".a.json".to_string(), "b.json".to_string()].into());
        assert!(list_files(Path::new("/nonexistent"), ".json").is_empty());
    }

    #[test]
    fn lists_names_that_are_not_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let (_dir, paths) = temp_paths();
        let dir = paths.sessions_dir();
        let name = std::ffi::OsStr::from_bytes(b"bad-\xff.json");
        fs::write(dir.join(name), "{}").expect("write");
        fs::write(dir.join(std::ffi::OsStr::from_bytes(b"\xff.txt")), "{}").expect("write");
        assert_eq!(list_files(&dir, ".json"), vec![dir.join(name)]);
    }

    #[test]
    fn parses_objects_and_reports_the_rest() {
        let raw = |b: &str| RawSession {
            path: PathBuf::new(),
            bytes: b.as_bytes().to_vec(),
            mtime: None,
        };
        assert!(matches!(raw("{\"a\":1}").parse(), Parsed::Object(_)));
        assert_eq!(raw("[1]").parse(), Parsed::NotObject);
        assert!(matches!(raw("{\"a\":").parse(), Parsed::Invalid(_)));
        assert!(matches!(raw("").parse(), Parsed::Invalid(_)));
    }

    #[test]
    fn vanished_files_and_directories_read_as_none() {
        let (_dir, paths) = temp_paths();
        assert!(read_raw(&paths.sessions_dir().join("gone.json")).expect("ok").is_none());
        fs::create_dir_all(paths.sessions_dir().join("d.json")).expect("dir");
        assert!(read_raw(&paths.sessions_dir().join("d.json")).expect("ok").is_none());
    }

    #[test]
    fn turn_start_tokens_is_inserted_once_and_alone() {
        let (_dir, paths) = temp_paths();
        let path = paths.sessions_dir().join("s1.json");
        fs::write(
            &path,
            r#"{"session_id":"s1","last_event":"UserPromptSubmit","custom":[1]}"#,
        )
        .expect("write");
        let written = write_turn_start_tokens(&paths, &path, 1200)
            .expect("write")
            .expect("wrote");
        assert_eq!(written, fs::read(&path).expect("read"));
        let v: Value = serde_json::from_slice(&fs::read(&path).expect("read")).expect("json");
        assert_eq!(
            v,
            json!({"session_id":"s1","last_event":"UserPromptSubmit","custom":[1],"turn_start_tokens":1200})
        );
        assert_eq!(
            write_turn_start_tokens(&paths, &path, 5).expect("no second write"),
            None
        );
        fs::write(&path, r#"{"last_event":"Stop"}"#).expect("write");
        assert_eq!(
            write_turn_start_tokens(&paths, &path, 5).expect("turn ended meanwhile"),
            None
        );
        assert_eq!(
            write_turn_start_tokens(&paths, &paths.sessions_dir().join("none.json"), 5).expect("vanished"),
            None
        );
    }

    #[test]
    fn trash_checks_the_file_under_the_lock() {
        let (_dir, paths) = temp_paths();
        let path = paths.sessions_dir().join("s1.json");
        fs::write(&path, "{}").expect("write");
        assert!(!trash_session_if(&paths, &path, |raw| raw.bytes == b"{\"changed\":1}").expect("ok"));
        assert!(path.exists());
        assert!(trash_session_if(&paths, &path, |raw| raw.bytes == b"{}").expect("ok"));
        assert!(!path.exists());
        assert_eq!(fs::read_dir(paths.trash_dir()).expect("trash").count(), 1);
    }

    #[test]
    fn upsert_writes_only_changes_and_refuses_unsafe_ids() {
        let (_dir, paths) = temp_paths();
        let new = json!({"session_id": "c1"}).as_object().cloned().unwrap_or_default();
        assert!(upsert_session(&paths, "c1", |old| {
            assert!(old.is_none());
            Some(new.clone())
        })
        .expect("create"));
        assert!(!upsert_session(&paths, "c1", |old| {
            assert_eq!(old, Some(&new));
            None
        })
        .expect("no change"));
        assert!(upsert_session(&paths, "../x", |_| Some(SessionJson::new())).is_err());
        fs::write(paths.sessions_dir().join("bad.json"), "[").expect("write");
        assert!(!upsert_session(&paths, "bad", |_| Some(SessionJson::new())).expect("left alone"));
    }
}
