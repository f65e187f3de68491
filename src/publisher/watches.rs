//! The publisher's file watching: which directories are watched (and watched again when deleted and recreated), and
//! which notify events wake the publisher. Events only trigger passes; a pass reads what it needs itself.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
};

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;

use crate::collect::Changes;

/// The files the file events named since a pass last took them, or that events may have been lost.
#[derive(Debug, Default)]
pub(super) struct Pending {
    paths: HashSet<PathBuf>,
    /// An event may have been lost (a watcher error, a queue overflow or rescan, an event without paths, a directory
    /// watched anew, too many paths): the next pass checks every file.
    unknown: bool,
}

/// More named paths than this between two passes: the next pass checks every file instead.
const MAX_PENDING: usize = 4096;

/// The pending changes, shared by the event handler and the publisher loop.
#[derive(Debug, Clone, Default)]
pub(super) struct SharedPending(Arc<Mutex<Pending>>);

impl SharedPending {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records that events may have been lost: the next pass checks every file.
    pub(super) fn mark_unknown(&self) {
        let mut pending = self.lock();
        pending.unknown = true;
        pending.paths.clear();
    }

    fn add(&self, paths: &[PathBuf]) {
        let mut pending = self.lock();
        if pending.unknown {
            return;
        }
        pending.paths.extend(paths.iter().cloned());
        if pending.paths.len() > MAX_PENDING {
            pending.unknown = true;
            pending.paths.clear();
        }
    }

    /// Takes what changed since the last call (before a pass starts reading, so an event during the pass is kept for
    /// the next one).
    pub(super) fn take(&self) -> Changes {
        let mut pending = self.lock();
        let paths = std::mem::take(&mut pending.paths);
        if std::mem::take(&mut pending.unknown) {
            Changes::Unknown
        } else {
            Changes::Only(paths)
        }
    }
}

/// The set of watched directories; directories that do not exist yet are retried on every update, and a directory
/// deleted and recreated (new inode) is watched again.
pub(super) struct FileWatches {
    watcher: Option<notify::RecommendedWatcher>,
    /// The watched directories and their inodes.
    watched: HashMap<PathBuf, u64>,
    /// The directories to watch, for the event handler (which reports when one of them is deleted or moved away).
    roots: Arc<Mutex<HashSet<PathBuf>>>,
    /// Set by the event handler when a watched directory itself was deleted or moved away.
    lost: Arc<AtomicBool>,
    tx: mpsc::Sender<()>,
    polling: Arc<AtomicBool>,
    pending: SharedPending,
}

fn inode(dir: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).ok().filter(|m| m.is_dir()).map(|m| m.ino())
}

impl FileWatches {
    pub(super) fn new(tx: mpsc::Sender<()>, polling: Arc<AtomicBool>, pending: SharedPending) -> Self {
        let mut watches = FileWatches {
            watcher: None,
            watched: HashMap::new(),
            roots: Arc::default(),
            lost: Arc::default(),
            tx,
            polling,
            pending,
        };
        watches.watcher = watches.start_watcher();
        watches
    }

    /// Starts a watcher whose events trigger passes; `None` (and polling) when the platform has none.
    fn start_watcher(&self) -> Option<notify::RecommendedWatcher> {
        let (tx, roots, lost) = (self.tx.clone(), self.roots.clone(), self.lost.clone());
        let pending = self.pending.clone();
        let handler = move |event: notify::Result<notify::Event>| {
            if on_event(event, &pending, &roots, &lost) {
                let _ = tx.try_send(());
            }
        };
        match notify::recommended_watcher(handler) {
            Ok(watcher) => Some(watcher),
            Err(error) => {
                tracing::warn!(%error, "file watching unavailable; falling back to polling on the liveness timer");
                self.polling.store(true, Ordering::Relaxed);
                None
            }
        }
    }

    /// Watches the `desired` directories that exist and are not watched yet (or were recreated); returns whether a
    /// new watch was added.
    pub(super) fn update(&mut self, desired: &[(PathBuf, RecursiveMode)]) -> bool {
        if self.watcher.is_none() {
            return false;
        }
        // A watched directory that was deleted or moved away (and maybe recreated: its inode number can be reused)
        // gets a new watcher with every watch set up again. notify keys its watches by path, so the old directory's
        // late "deleted" event removed the new watch of a recreated directory with the same path, and nothing was
        // seen in it until a timer pass. A new watcher (a new inotify instance) never receives the old directory's
        // events.
        let lost = self.lost.swap(false, Ordering::Relaxed);
        if lost || self.watched.iter().any(|(dir, ino)| inode(dir) != Some(*ino)) {
            tracing::debug!("a watched directory was deleted or replaced; restarting file watching");
            self.watcher = None;
            self.watched.clear();
            self.watcher = self.start_watcher();
        }
        let Some(watcher) = self.watcher.as_mut() else {
            return false;
        };
        // Known to the handler before any watch is added: a directory deleted right after its watch was added is
        // reported too.
        *self.roots.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            desired.iter().map(|(d, _)| d.clone()).collect();
        let wanted: HashSet<&PathBuf> = desired.iter().map(|(d, _)| d).collect();
        let unwanted: Vec<PathBuf> = self.watched.keys().filter(|d| !wanted.contains(d)).cloned().collect();
        for dir in unwanted {
            let _ = watcher.unwatch(&dir);
            self.watched.remove(&dir);
        }
        let mut added = false;
        for (dir, mode) in desired {
            let Some(ino) = inode(dir) else { continue };
            if self.watched.contains_key(dir) {
                continue;
            }
            match watcher.watch(dir, *mode) {
                Ok(()) => {
                    self.watched.insert(dir.clone(), ino);
                    added = true;
                }
                Err(error) => {
                    // Typically the inotify watch limit: the timers still converge the state.
                    tracing::warn!(dir = %dir.display(), %error, "cannot watch directory; polling on the liveness timer");
                    self.polling.store(true, Ordering::Relaxed);
                }
            }
        }
        crate::metrics::set_watched_dirs(self.watched.len());
        added
    }
}

/// What the watcher's handler does with one notify event: records what changed in `pending` (or that anything may
/// have: an error, a queue overflow — inotify's `IN_Q_OVERFLOW`, which notify reports as an event without paths
/// flagged `Rescan` —, or a watched directory itself deleted, moved or recreated, which also sets `lost`); returns
/// whether a pass should run.
fn on_event(
    event: notify::Result<notify::Event>,
    pending: &SharedPending,
    roots: &Mutex<HashSet<PathBuf>>,
    lost: &AtomicBool,
) -> bool {
    // An error (e.g. a failed read of the event queue) may hide a change: it triggers a pass that checks every file.
    let Ok(event) = event else {
        pending.mark_unknown();
        return true;
    };
    use notify::event::{EventKind, ModifyKind};
    // Reads (opens, close-without-write) are ignored: the collector reads the files it watches and would otherwise
    // wake itself up in a loop. So are the temp files of atomic writes: only their final rename changes what a pass
    // sees. (An event without paths, such as a queue overflow, counts.)
    if matches!(event.kind, EventKind::Access(_))
        || (!event.paths.is_empty() && event.paths.iter().all(|p| is_temp_file(p)))
    {
        return false;
    }
    let names_root = || {
        let roots = roots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        event.paths.iter().any(|p| roots.contains(p))
    };
    if matches!(
        event.kind,
        EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
    ) && names_root()
    {
        lost.store(true, Ordering::Relaxed);
    }
    crate::metrics::file_event();
    // The next pass re-reads the files named; an event that names none (an overflow), asks for a rescan, or names a
    // watched directory itself (deleted, moved, recreated) may stand for any change.
    if event.paths.is_empty() || event.need_rescan() || names_root() {
        pending.mark_unknown();
    } else {
        pending.add(&event.paths);
    }
    true
}

/// Returns whether `path` is the temp file of an atomic write ([`crate::store::write_atomic`] writes
/// `.<name>.<pid>.<nanos>.tmp` and renames it over `<name>`).
fn is_temp_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n.ends_with(".tmp"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_changes_name_the_files_until_events_may_have_been_lost() {
        let pending = SharedPending::default();
        assert_eq!(pending.take(), Changes::Only(HashSet::new()));
        pending.add(&[PathBuf::from("/d/a.json"), PathBuf::from("/d/b.json")]);
        pending.add(&[PathBuf::from("/d/a.json")]);
        let both: HashSet<PathBuf> = ["/d/a.json", "/d/b.json"].into_iter().map(PathBuf::from).collect();
        assert_eq!(pending.take(), Changes::Only(both));
        assert_eq!(pending.take(), Changes::Only(HashSet::new()), "taken once");
        // Lost events: everything is checked, whatever is named after.
        pending.mark_unknown();
        pending.add(&[PathBuf::from("/d/a.json")]);
        assert_eq!(pending.take(), Changes::Unknown);
        assert_eq!(pending.take(), Changes::Only(HashSet::new()));
        // Too many names: everything is checked.
        let many: Vec<PathBuf> = (0..=MAX_PENDING)
            .map(|i| PathBuf::from(format!("/d/{i}.json")))
            .collect();
        pending.add(&many);
        assert_eq!(pending.take(), Changes::Unknown);
    }

    #[test]
    fn a_queue_overflow_or_a_watcher_error_asks_for_a_full_rescan() {
        use notify::event::{CreateKind, EventKind, Flag, RemoveKind};
        let (pending, roots, lost) = (
            SharedPending::default(),
            Mutex::new(HashSet::new()),
            AtomicBool::new(false),
        );
        roots.lock().expect("lock").insert(PathBuf::from("/d"));
        let event = |kind, paths: &[&str]| notify::Event {
            kind,
            paths: paths.iter().map(PathBuf::from).collect(),
            attrs: notify::event::EventAttributes::new(),
        };
        // A named file: only that file.
        assert!(on_event(
            Ok(event(EventKind::Create(CreateKind::File), &["/d/a.json"])),
            &pending,
            &roots,
            &lost
        ));
        assert_eq!(
            pending.take(),
            Changes::Only([PathBuf::from("/d/a.json")].into_iter().collect())
        );
        // IN_Q_OVERFLOW as notify's inotify backend reports it: no paths, flagged Rescan.
        let overflow = event(EventKind::Other, &[]).set_flag(Flag::Rescan);
        assert!(overflow.need_rescan());
        assert!(on_event(Ok(overflow), &pending, &roots, &lost));
        pending.add(&[PathBuf::from("/d/b.json")]);
        assert_eq!(pending.take(), Changes::Unknown, "the next pass checks every file");
        // A rescan flag on an event that names a file still means "anything".
        let flagged = event(EventKind::Create(CreateKind::File), &["/d/c.json"]).set_flag(Flag::Rescan);
        assert!(on_event(Ok(flagged), &pending, &roots, &lost));
        assert_eq!(pending.take(), Changes::Unknown);
        // An error reading the queue.
        assert!(on_event(
            Err(notify::Error::generic("read failed")),
            &pending,
            &roots,
            &lost
        ));
        assert_eq!(pending.take(), Changes::Unknown);
        // The watched directory itself removed: a rescan, and the watch is set up again.
        assert!(on_event(
            Ok(event(EventKind::Remove(RemoveKind::Folder), &["/d"])),
            &pending,
            &roots,
            &lost
        ));
        assert_eq!(pending.take(), Changes::Unknown);
        assert!(lost.load(Ordering::Relaxed));
        // Reads and temp files wake nothing.
        assert!(!on_event(
            Ok(event(EventKind::Access(notify::event::AccessKind::Any), &["/d/a.json"])),
            &pending,
            &roots,
            &lost
        ));
        assert!(!on_event(
            Ok(event(EventKind::Create(CreateKind::File), &["/d/.a.json.1.2.tmp"])),
            &pending,
            &roots,
            &lost
        ));
        assert_eq!(pending.take(), Changes::Only(HashSet::new()));
    }
}
