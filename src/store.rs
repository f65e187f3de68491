//! The session files on disk: safe ids, per-session locks, atomic writes and the trash.
//!
//! The hook and the collector both write `sessions/<id>.json`. Every write goes through [`write_atomic`] (a temp
//! file in the same directory, then `rename`), so a reader never sees a half-written file, and every
//! read-modify-write of one session holds [`SessionLock`] so two writers never lose each other's update. Nothing is
//! unlinked: files amc removes are moved to `trash/` by [`move_to_trash`] and purged after [`TRASH_RETENTION`].

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::config::Paths;

/// How long removed files stay in `trash/` before they are deleted for good.
pub const TRASH_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The longest session id amc accepts (Claude and Codex ids are 36 characters).
pub const MAX_SESSION_ID_LEN: usize = 200;

/// Returns whether `id` can name a file inside the sessions dir without escaping it.
///
/// Rejected: empty, longer than [`MAX_SESSION_ID_LEN`], `.`/`..` or a leading dot, path separators, NUL and other
/// control characters.
pub fn is_safe_session_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_SESSION_ID_LEN
        && !id.starts_with('.')
        && !id.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// Returns `sessions/<id>.json`, or `None` when `id` is not a safe session id.
pub fn session_file(paths: &Paths, id: &str) -> Option<PathBuf> {
    is_safe_session_id(id).then(|| paths.sessions_dir().join(format!("{id}.json")))
}

/// Returns `events/<id>.jsonl`, or `None` when `id` is not a safe session id.
pub fn event_log(paths: &Paths, id: &str) -> Option<PathBuf> {
    is_safe_session_id(id).then(|| paths.events_dir().join(format!("{id}.jsonl")))
}

/// An exclusive lock on one session, held while its file is read, changed and written back.
///
/// The lock is an advisory `flock` on `locks/<id>.lock`, not on the session file itself: the session file is
/// replaced by `rename` on every write, and a lock on a replaced inode would protect nothing.
#[derive(Debug)]
pub struct SessionLock {
    _file: File,
}

impl SessionLock {
    /// Blocks until the lock of session `id` is held.
    pub fn acquire(paths: &Paths, id: &str) -> io::Result<Self> {
        if !is_safe_session_id(id) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("unsafe session id {id:?}"),
            ));
        }
        let dir = paths.locks_dir();
        fs::create_dir_all(&dir)?;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{id}.lock")))?;
        file.lock()?;
        Ok(SessionLock { _file: file })
    }
}

/// Writes `bytes` to `path` atomically: a temp file in the same directory, flushed, then renamed over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_replacing(path, bytes, true)
}

/// Writes `bytes` to `path` atomically but without waiting for the disk (no `fdatasync`): for caches, which a crash
/// may leave empty or old (a reader then ignores them) but never half-written.
pub fn write_atomic_unsynced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_replacing(path, bytes, false)
}

fn write_replacing(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no parent"))?;
    fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    // A leading dot and a non-.json suffix keep the temp file out of every `*.json` scan.
    let tmp = dir.join(format!(".{name}.{}.{nanos}.tmp", std::process::id()));
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        if sync {
            file.sync_data()?;
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Moves `path` into `trash/` (as `<name>.<unix seconds>`), so a wrong rule never destroys data; returns where it
/// went.
///
/// A file that is already gone is not an error (`Ok(None)`).
pub fn move_to_trash(paths: &Paths, path: &Path) -> io::Result<Option<PathBuf>> {
    let trash = paths.trash_dir();
    fs::create_dir_all(&trash)?;
    // The name's own bytes (it need not be UTF-8), then the stamp.
    let name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "unnamed".into());
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let named = |suffix: String| {
        let mut n = name.clone();
        n.push(suffix);
        trash.join(n)
    };
    let mut target = named(format!(".{stamp}"));
    let mut n = 1;
    while target.exists() {
        target = named(format!(".{stamp}.{n}"));
        n += 1;
    }
    match fs::rename(path, &target) {
        Ok(()) => Ok(Some(target)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Returns when a file named by [`move_to_trash`] (`<name>.<unix seconds>` or `<name>.<unix seconds>.<n>`) was
/// moved to the trash. The stamp is the last or the second-to-last dot-separated part with at least 9 digits (the
/// collision counter `n` never gets that long).
fn trashed_at(file_name: &str) -> Option<SystemTime> {
    let mut parts = file_name.rsplit('.');
    let (last, before) = (parts.next()?, parts.next()?);
    [last, before]
        .into_iter()
        .find(|p| p.len() >= 9 && p.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|p| p.parse::<u64>().ok())
        .map(|secs| UNIX_EPOCH + Duration::from_secs(secs))
}

/// Deletes files that have been in `trash/` for longer than [`TRASH_RETENTION`] at `now`; returns how many went.
///
/// The time in the trash is counted from the stamp [`move_to_trash`] puts in the name, not from the file's mtime: the
/// rules remove old files (an event log untouched for 8 days), and those must get their 7 days too. A file without a
/// stamp counts from its mtime.
pub fn purge_trash(paths: &Paths, now: SystemTime) -> usize {
    let Ok(entries) = fs::read_dir(paths.trash_dir()) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        let since = match trashed_at(&entry.file_name().to_string_lossy()) {
            Some(at) => at,
            None => match meta.modified() {
                Ok(mtime) => mtime,
                Err(_) => continue,
            },
        };
        if meta.is_file()
            && now.duration_since(since).unwrap_or_default() > TRASH_RETENTION
            && fs::remove_file(entry.path()).is_ok()
        {
            removed += 1;
        }
    }
    removed
}

/// One file in `trash/`: its name there (the id `amc trash restore` takes), the name it had, when it was moved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrashEntry {
    /// The file's name in `trash/` (`<name>.<unix seconds>[.<n>]`).
    pub id: String,
    /// The name it had before (`<session id>.json`, `<session id>.jsonl`).
    pub name: String,
    /// When it was moved (from the stamp in its name).
    pub trashed_at: Option<SystemTime>,
    /// Its path in `trash/`.
    pub path: PathBuf,
}

impl TrashEntry {
    /// Where the file came from: a session file (`.json`) goes back to `sessions/`, an event log (`.jsonl`) to
    /// `events/`; `None` for anything else (amc never trashes other files).
    pub fn home(&self, paths: &Paths) -> Option<PathBuf> {
        let dir = if self.name.ends_with(".jsonl") {
            paths.events_dir()
        } else if self.name.ends_with(".json") {
            paths.sessions_dir()
        } else {
            return None;
        };
        let stem = self.name.rsplit_once('.').map(|(stem, _)| stem).unwrap_or_default();
        is_safe_session_id(stem).then(|| dir.join(&self.name))
    }
}

/// The name a [`move_to_trash`] name had (`abc.json.1733400000.2` → `abc.json`); `None` without a stamp.
pub fn trashed_name(trash_name: &str) -> Option<&str> {
    let (head, last) = trash_name.rsplit_once('.')?;
    let is_stamp = |p: &str| p.len() >= 9 && p.bytes().all(|b| b.is_ascii_digit());
    if is_stamp(last) {
        return Some(head);
    }
    let (name, stamp) = head.rsplit_once('.')?;
    (is_stamp(stamp) && !last.is_empty() && last.bytes().all(|b| b.is_ascii_digit())).then_some(name)
}

/// The files in `trash/`, newest first (an empty list when there is no trash). Names that are not UTF-8 or carry no
/// stamp are skipped: amc did not put them there.
pub fn trash_entries(paths: &Paths) -> io::Result<Vec<TrashEntry>> {
    let entries = match fs::read_dir(paths.trash_dir()) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut list: Vec<TrashEntry> = entries
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let id = e.file_name().into_string().ok()?;
            let name = trashed_name(&id)?.to_owned();
            Some(TrashEntry {
                trashed_at: trashed_at(&id),
                name,
                path: e.path(),
                id,
            })
        })
        .collect();
    list.sort_by(|a, b| b.trashed_at.cmp(&a.trashed_at).then_with(|| b.id.cmp(&a.id)));
    Ok(list)
}

/// Puts a trashed file back at `to`: a hard link (which fails with `AlreadyExists` when a live file is there, so
/// nothing is overwritten), then the trash's name is removed. A failure leaves the file in the trash.
pub fn restore_from_trash(entry: &Path, to: &Path) -> io::Result<()> {
    if let Some(dir) = to.parent() {
        fs::create_dir_all(dir)?;
    }
    fs::hard_link(entry, to)?;
    fs::remove_file(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_paths() -> (tempfile::TempDir, Paths) {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let paths = Paths::from_lookup(|k| match k {
            "HOME" => Some(root.to_string_lossy().into_owned()),
            "AMC_DATA_DIR" => Some(root.join("data").to_string_lossy().into_owned()),
            _ => None,
        });
        (dir, paths)
    }

    #[test]
    fn unsafe_ids_are_rejected() {
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "a\0b",
            ".hidden",
            &"x".repeat(201),
        ] {
            assert!(!is_safe_session_id(bad), "{bad:?} should be unsafe");
        }
        for good in [
            "0c5e1a2b-1111-2222-3333-444455556666",
            "abc",
            "a.b",
            "019c8a4d-8f45-7010-8b5d-7fad920aa6f9",
        ] {
            assert!(is_safe_session_id(good), "{good:?} should be safe");
        }
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp_file() {
        let (_dir, paths) = temp_paths();
        let file = session_file(&paths, "s1").expect("safe id");
        write_atomic(&file, b"{\"a\":1}").expect("first write");
        write_atomic(&file, b"{\"a\":2}").expect("second write");
        assert_eq!(fs::read_to_string(&file).expect("read"), "{\"a\":2}");
        let names: Vec<_> = fs::read_dir(paths.sessions_dir())
            .expect("dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("s1.json")]);
    }

    #[test]
    fn trash_keeps_the_content_and_tolerates_missing_files() {
        let (_dir, paths) = temp_paths();
        let file = session_file(&paths, "s1").expect("safe id");
        write_atomic(&file, b"{}").expect("write");
        let target = move_to_trash(&paths, &file).expect("trash");
        assert!(!file.exists());
        let trashed: Vec<_> = fs::read_dir(paths.trash_dir()).expect("trash dir").flatten().collect();
        assert_eq!(trashed.len(), 1);
        assert_eq!(target, Some(trashed[0].path()), "it says where the file went");
        assert_eq!(fs::read_to_string(trashed[0].path()).expect("read"), "{}");
        assert_eq!(move_to_trash(&paths, &file).expect("missing file is fine"), None);
        assert_eq!(purge_trash(&paths, SystemTime::now()), 0);
        assert_eq!(
            purge_trash(&paths, SystemTime::now() + TRASH_RETENTION + Duration::from_secs(1)),
            1
        );
    }

    #[test]
    fn an_old_file_gets_its_full_time_in_the_trash() {
        let (_dir, paths) = temp_paths();
        let file = event_log(&paths, "s1").expect("safe id");
        write_atomic(&file, b"{}").expect("write");
        let eight_days_ago = SystemTime::now() - Duration::from_secs(8 * 24 * 60 * 60);
        File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(eight_days_ago))
            .expect("set mtime");
        move_to_trash(&paths, &file).expect("trash");
        assert_eq!(purge_trash(&paths, SystemTime::now()), 0, "just trashed: kept");
        assert_eq!(
            purge_trash(&paths, SystemTime::now() + TRASH_RETENTION + Duration::from_secs(2)),
            1
        );
        // A file without a stamp in its name counts from its mtime.
        fs::write(paths.trash_dir().join("stray"), b"x").expect("write");
        File::options()
            .write(true)
            .open(paths.trash_dir().join("stray"))
            .and_then(|f| f.set_modified(eight_days_ago))
            .expect("set mtime");
        assert_eq!(purge_trash(&paths, SystemTime::now()), 1);
    }

    #[test]
    fn trash_keeps_a_name_that_is_not_utf8() {
        use std::os::unix::ffi::OsStrExt;
        let (_dir, paths) = temp_paths();
        fs::create_dir_all(paths.sessions_dir()).expect("dir");
        let file = paths.sessions_dir().join(std::ffi::OsStr::from_bytes(b"bad-\xff.json"));
        fs::write(&file, b"{}").expect("write");
        move_to_trash(&paths, &file).expect("trash");
        let trashed: Vec<_> = fs::read_dir(paths.trash_dir())
            .expect("trash dir")
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(trashed.len(), 1);
        assert!(trashed[0].as_bytes().starts_with(b"bad-\xff.json."), "{trashed:?}");
    }

    #[test]
    fn trash_stamps_are_read_from_the_name() {
        let at = |secs| Some(UNIX_EPOCH + Duration::from_secs(secs));
        assert_eq!(trashed_at("s1.json.1790000000"), at(1_790_000_000));
        assert_eq!(trashed_at("s1.json.1790000000.2"), at(1_790_000_000));
        assert_eq!(trashed_at("019c.jsonl.1790000001"), at(1_790_000_001));
        assert_eq!(trashed_at("s1.json"), None);
        assert_eq!(trashed_at("stray"), None);
        assert_eq!(trashed_at("a.12"), None);
    }

    #[test]
    fn lock_serializes_and_rejects_unsafe_ids() {
        let (_dir, paths) = temp_paths();
        assert!(SessionLock::acquire(&paths, "../x").is_err());
        let guard = SessionLock::acquire(&paths, "s1").expect("lock");
        drop(guard);
        SessionLock::acquire(&paths, "s1").expect("relock after drop");
    }

    #[test]
    fn trashed_files_are_listed_newest_first_and_go_back_where_they_were() {
        let (_dir, paths) = temp_paths();
        assert_eq!(trash_entries(&paths).expect("no trash is no error"), vec![]);
        let session = paths.sessions_dir().join("s1.json");
        let log = paths.events_dir().join("s1.jsonl");
        for (path, text) in [(&session, "{}"), (&log, "{\"event\":\"x\"}\n")] {
            fs::create_dir_all(path.parent().expect("a dir")).expect("dir");
            fs::write(path, text).expect("write");
        }
        let trashed_session = move_to_trash(&paths, &session).expect("moved").expect("there");
        let trashed_log = move_to_trash(&paths, &log).expect("moved").expect("there");
        fs::write(paths.trash_dir().join("stray.txt"), "not amc's").expect("write");
        let list = trash_entries(&paths).expect("listed");
        assert_eq!(list.len(), 2, "{list:?}");
        let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
        assert!(names.contains(&"s1.json") && names.contains(&"s1.jsonl"), "{names:?}");
        let entry = list.iter().find(|e| e.name == "s1.json").expect("listed");
        assert_eq!(entry.path, trashed_session);
        assert_eq!(entry.home(&paths), Some(session.clone()));
        // A live file is never overwritten.
        fs::write(&session, "live").expect("write");
        let refused = restore_from_trash(&entry.path, &session).expect_err("refused");
        assert_eq!(refused.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read_to_string(&session).expect("read"), "live");
        assert!(trashed_session.exists());
        fs::remove_file(&session).expect("remove");
        restore_from_trash(&entry.path, &session).expect("restored");
        assert_eq!(fs::read_to_string(&session).expect("read"), "{}");
        assert!(!trashed_session.exists());
        assert!(trashed_log.exists());
    }

    #[test]
    fn trash_names_give_back_the_original_name() {
        assert_eq!(trashed_name("abc.json.1733400000"), Some("abc.json"));
        assert_eq!(trashed_name("abc.json.1733400000.2"), Some("abc.json"));
        assert_eq!(trashed_name("abc.jsonl.1733400000"), Some("abc.jsonl"));
        assert_eq!(trashed_name("abc.json"), None);
        assert_eq!(trashed_name("abc.json.12"), None);
        assert_eq!(trashed_name("abc.json.1733400000.x"), None);
        let entry = |name: &str| TrashEntry {
            id: format!("{name}.1733400000"),
            name: name.to_owned(),
            trashed_at: None,
            path: PathBuf::new(),
        };
        let (_dir, paths) = temp_paths();
        assert_eq!(entry("../x.json").home(&paths), None);
        assert_eq!(entry("x.txt").home(&paths), None);
        assert_eq!(entry("x.jsonl").home(&paths), Some(paths.events_dir().join("x.jsonl")));
    }
}
