//! `sessions/*.json` and `events/*.jsonl` as found on disk, and the one codec of session files: how they are read,
//! serialized ([`session_bytes`](crate::sources::session_file::session_bytes)) and written, for the hook and the collector alike.
//!
//! Every write holds the session's [`SessionLock`](crate::store::SessionLock) (named after the file stem, as the hook names it), re-reads the
//! file under it, and goes through [`crate::store::write_atomic`]; every removal moves the file to `trash/`. A file that vanished
//! or changed since the pass read it is left alone: the next pass looks again.

use std::{
    fs, io,
    path::{Path, PathBuf},
    time::SystemTime,
};

use serde_json::Value;

use crate::{
    bounded::{self, Refused},
    config::Paths,
    model::SessionJson,
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

/// One `events/*.jsonl` file as found on disk.
#[derive(Debug, Clone)]
pub struct EventLogFacts {
    /// The file.
    pub path: PathBuf,
    /// Its file stem, the session id it belongs to.
    pub id: String,
    /// Its mtime, `None` when unreadable.
    pub mtime: Option<SystemTime>,
}

/// One `sessions/*.json` file as found on disk during cleanup.
#[derive(Debug, Clone)]
pub struct SessionFileFacts {
    /// The file.
    pub path: PathBuf,
    /// Its mtime, `None` when unreadable.
    pub mtime: Option<SystemTime>,
    /// Its `status` when the file is a JSON object with a string status.
    pub status: Option<String>,
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

/// The default bound of a session file (`limits.session_file_bytes`): the hook's files are a few KiB.
pub const DEFAULT_MAX_BYTES: u64 = 1 << 20;

/// Reads `path` (at most [`DEFAULT_MAX_BYTES`]); `Ok(None)` when it vanished since it was listed or is not a regular
/// file (a FIFO or a device is never opened blocking: see [`crate::bounded`]); a longer file is an `InvalidData`
/// error.
pub fn read_raw(path: &Path) -> io::Result<Option<RawSession>> {
    match bounded::read(path, DEFAULT_MAX_BYTES) {
        Ok((bytes, meta)) => Ok(Some(RawSession {
            path: path.to_path_buf(),
            bytes,
            mtime: meta.modified().ok(),
        })),
        Err(Refused::NotFound | Refused::NotRegular(_)) => Ok(None),
        Err(refused) => Err(refused.into_io()),
    }
}

/// What identifies one version of a file without reading it: size, mtime, ctime, inode and device. Every write
/// changes the ctime (which, unlike the mtime, cannot be set back) and an atomic replace changes the inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileVersion {
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
    ino: u64,
    dev: u64,
}

impl FileVersion {
    fn of(meta: &fs::Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileVersion {
            len: meta.len(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
            ino: meta.ino(),
            dev: meta.dev(),
        }
    }

    /// The ctime as wall-clock time (`None` before the epoch).
    fn ctime(&self) -> Option<SystemTime> {
        let secs = u64::try_from(self.ctime.0).ok()?;
        let nanos = u32::try_from(self.ctime.1).ok()?;
        SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::new(secs, nanos))
    }
}

/// A file read within this long after its last change is read again next time, whatever its [`FileVersion`]: a
/// rewrite within the file system's timestamp granularity (the kernel's coarse clock: a few ms) that keeps the size
/// and the inode (an in-place write) would otherwise go unnoticed.
const RACY_WINDOW: std::time::Duration = std::time::Duration::from_secs(1);

/// What [`SessionFileCache::read_if_changed`] found.
#[derive(Debug, Clone)]
pub enum Fresh {
    /// The same version as the previous read, which was not racy.
    Unchanged,
    /// Read now: the bytes and their parse.
    Changed(RawSession, Parsed),
}

/// The session files as last read and parsed, by path, so a pass reads and parses only the files that changed since
/// the previous one (a `stat` tells).
#[derive(Debug)]
pub struct SessionFileCache {
    entries: std::collections::HashMap<PathBuf, CachedSession>,
    /// Files refused (too long, a symlink out of the data dir), with the version refused: not read again until it
    /// changes.
    refused: std::collections::HashMap<PathBuf, (FileVersion, String)>,
    /// A longer session file is refused (`limits.session_file_bytes`).
    max_bytes: u64,
}

impl Default for SessionFileCache {
    fn default() -> Self {
        Self::with_limit(DEFAULT_MAX_BYTES)
    }
}

#[derive(Debug)]
struct CachedSession {
    version: FileVersion,
    raw: RawSession,
    parsed: Parsed,
}

impl SessionFileCache {
    /// A cache that refuses session files longer than `max_bytes`.
    pub fn with_limit(max_bytes: u64) -> Self {
        SessionFileCache {
            entries: std::collections::HashMap::new(),
            refused: std::collections::HashMap::new(),
            max_bytes,
        }
    }

    /// The files refused, by name, with the reason (for `/api/health`), sorted.
    pub fn refused(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .refused
            .iter()
            .map(|(path, (_, why))| {
                let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
                format!("{name}: {why}")
            })
            .collect();
        out.sort();
        out
    }

    /// Refuses `path` at `version` for `why` (logged once per version).
    fn refuse(&mut self, path: &Path, version: FileVersion, why: String) {
        self.entries.remove(path);
        if self.refused.get(path).is_none_or(|(v, _)| *v != version) {
            tracing::warn!(file = %path.display(), reason = %why, "skipping unreadable session file until it changes");
        }
        self.refused.insert(path.to_path_buf(), (version, why));
    }

    /// Reads and parses `path` like [`read_raw`] and [`RawSession::parse`]; the bytes and the parse of the previous
    /// read when the file is the same version and that read was not racy.
    pub fn read(&mut self, path: &Path) -> io::Result<Option<(RawSession, Parsed)>> {
        match self.read_if_changed(path)? {
            None => Ok(None),
            Some(Fresh::Changed(raw, parsed)) => Ok(Some((raw, parsed))),
            Some(Fresh::Unchanged) => Ok(self
                .entries
                .get(path)
                .map(|cached| (cached.raw.clone(), cached.parsed.clone()))),
        }
    }

    /// Like [`SessionFileCache::read`], but says [`Fresh::Unchanged`] instead of copying the previous read when the
    /// file is the same version and that read was not racy (a pass that kept what it made of the file reuses it).
    pub fn read_if_changed(&mut self, path: &Path) -> io::Result<Option<Fresh>> {
        // `lstat`: the same answer as `stat` for a plain file, and a symlink is checked before it is followed.
        let mut meta = match fs::symlink_metadata(path) {
            Ok(m) => m,
            Err(e) => {
                self.entries.remove(path);
                self.refused.remove(path);
                return if e.kind() == io::ErrorKind::NotFound {
                    Ok(None)
                } else {
                    Err(e)
                };
            }
        };
        if meta.file_type().is_symlink() {
            // The data dir: the parent of `sessions/`.
            let root = path.parent().and_then(Path::parent).unwrap_or(Path::new("/"));
            let version = FileVersion::of(&meta);
            if self.refused.get(path).is_some_and(|(v, _)| *v == version) {
                return Ok(None);
            }
            if let Err(refused) = bounded::check_confined(path, root) {
                self.refuse(path, version, refused.to_string());
                return Ok(None);
            }
            meta = match fs::metadata(path) {
                Ok(m) => m,
                Err(_) => return Ok(None),
            };
        }
        if !meta.is_file() {
            self.entries.remove(path);
            return Ok(None);
        }
        let version = FileVersion::of(&meta);
        if self.entries.get(path).is_some_and(|c| c.version == version) {
            return Ok(Some(Fresh::Unchanged));
        }
        if self.refused.get(path).is_some_and(|(v, _)| *v == version) {
            return Ok(None);
        }
        if meta.len() > self.max_bytes {
            let why = Refused::TooLarge {
                len: meta.len(),
                max: self.max_bytes,
            };
            self.refuse(path, version, why.to_string());
            return Ok(None);
        }
        self.refused.remove(path);
        let read_at = SystemTime::now();
        let bytes = match bounded::read(path, self.max_bytes) {
            Ok((bytes, _)) => bytes,
            Err(Refused::NotFound | Refused::NotRegular(_)) => {
                self.entries.remove(path);
                return Ok(None);
            }
            Err(refused @ Refused::TooLarge { .. }) => {
                self.refuse(path, version, refused.to_string());
                return Ok(None);
            }
            Err(refused) => {
                self.entries.remove(path);
                return Err(refused.into_io());
            }
        };
        let raw = RawSession {
            path: path.to_path_buf(),
            bytes,
            mtime: meta.modified().ok(),
        };
        let parsed = raw.parse();
        // The stat came before the read: a write in between is caught next time by its new version, unless it kept
        // the version (same size and inode, same timestamp tick), which only a recently changed file can do.
        let settled = version
            .ctime()
            .is_some_and(|ctime| read_at.duration_since(ctime).is_ok_and(|age| age >= RACY_WINDOW));
        if settled && bytes_len_matches(&raw, &version) {
            self.entries.insert(
                path.to_path_buf(),
                CachedSession {
                    version,
                    raw: raw.clone(),
                    parsed: parsed.clone(),
                },
            );
        } else {
            self.entries.remove(path);
        }
        Ok(Some(Fresh::Changed(raw, parsed)))
    }

    /// Forgets the files not in `keep` (those no longer listed).
    pub fn retain(&mut self, keep: &std::collections::HashSet<&Path>) {
        self.entries.retain(|path, _| keep.contains(path.as_path()));
        self.refused.retain(|path, _| keep.contains(path.as_path()));
    }
}

/// Whether the bytes read are as long as the stat said (a write between the stat and the read shows up here).
fn bytes_len_matches(raw: &RawSession, version: &FileVersion) -> bool {
    u64::try_from(raw.bytes.len()).is_ok_and(|len| len == version.len)
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

/// Serializes a session file: pretty JSON with two-space indents (the original's `json.dumps(data, indent=2)`) and a
/// final newline. The hook and the collector both write through this, so a file has the same bytes whoever wrote it
/// last.
pub fn session_bytes(session: &SessionJson) -> Vec<u8> {
    // A JSON map always serializes (a `Value` cannot hold what JSON cannot write).
    let mut bytes = serde_json::to_vec_pretty(session).unwrap_or_default();
    bytes.push(b'\n');
    bytes
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
    let bytes = session_bytes(&session);
    store::write_atomic(path, &bytes)?;
    Ok(Some(bytes))
}

/// Moves the session file at `path` to the trash if `still` holds for its current bytes (checked under the lock);
/// returns where it went, `None` when it did not move.
pub fn trash_session_if(
    paths: &Paths,
    path: &Path,
    still: impl FnOnce(&RawSession) -> bool,
) -> io::Result<Option<PathBuf>> {
    let _lock = lock_for(paths, path);
    let Some(raw) = read_raw(path)? else {
        return Ok(None);
    };
    if !still(&raw) {
        return Ok(None);
    }
    store::move_to_trash(paths, path)
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
    store::write_atomic(&path, &session_bytes(&new))?;
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
    fn the_cache_rereads_changed_and_recent_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.json");
        let mut cache = SessionFileCache::default();
        let obj = |v: &str| Parsed::Object(serde_json::from_str(v).expect("json"));
        fs::write(&path, r#"{"a":1}"#).expect("write");
        assert_eq!(cache.read(&path).expect("read").expect("file").1, obj(r#"{"a":1}"#));
        // Same size, in place, within the same second: a recent file is never trusted to its stat.
        fs::write(&path, r#"{"a":2}"#).expect("write");
        assert_eq!(cache.read(&path).expect("read").expect("file").1, obj(r#"{"a":2}"#));
        // An old file is cached; an atomic replace (new inode) or an in-place write (new ctime) is seen.
        let old = SystemTime::now() - std::time::Duration::from_secs(10);
        let entry = |cache: &mut SessionFileCache, path: &Path| {
            cache.read(path).expect("read");
            cache.entries.insert(
                path.to_path_buf(),
                CachedSession {
                    version: FileVersion::of(&fs::metadata(path).expect("meta")),
                    raw: RawSession {
                        path: path.to_path_buf(),
                        bytes: b"{}".to_vec(),
                        mtime: Some(old),
                    },
                    parsed: obj("{}"),
                },
            );
        };
        entry(&mut cache, &path);
        assert_eq!(
            cache.read(&path).expect("read").expect("file").1,
            obj("{}"),
            "served from the cache"
        );
        store::write_atomic(&path, br#"{"a":3}"#).expect("replace");
        assert_eq!(cache.read(&path).expect("read").expect("file").1, obj(r#"{"a":3}"#));
        entry(&mut cache, &path);
        std::thread::sleep(std::time::Duration::from_millis(20));
        fs::write(&path, r#"{"a":4}"#).expect("write in place");
        assert_eq!(cache.read(&path).expect("read").expect("file").1, obj(r#"{"a":4}"#));
        fs::remove_file(&path).expect("remove");
        assert!(cache.read(&path).expect("read").is_none());
        assert!(cache.entries.is_empty());
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
        assert!(
            written.ends_with(b"}\n"),
            "the one session-file format ends with a newline"
        );
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
        assert!(trash_session_if(&paths, &path, |raw| raw.bytes == b"{\"changed\":1}")
            .expect("ok")
            .is_none());
        assert!(path.exists());
        assert!(trash_session_if(&paths, &path, |raw| raw.bytes == b"{}")
            .expect("ok")
            .is_some());
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
