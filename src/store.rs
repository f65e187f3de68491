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
        file.sync_data()?;
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
}
