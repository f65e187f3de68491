//! The one task that owns the state.
//!
//! It runs collection passes (on file events, at most one per debounce interval with the first at once, on the
//! liveness timer, and on the reconcile timer), bumps the revision only when the sessions changed, and publishes an
//! `Arc<Snapshot>` on a `tokio::sync::watch` channel. `GetState`, `WatchState`, `/api/state` and `/api/stream` only
//! read that channel: a slow subscriber skips stale snapshots instead of growing a queue, and never slows the
//! collector or anyone else.

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{SystemTime, UNIX_EPOCH},
};

use notify::{RecursiveMode, Watcher};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::{
    collect::{Collector, Pass, SessionJson},
    config::Config,
    proto as pb, wire,
};

/// One published state.
#[derive(Debug)]
pub struct Snapshot {
    /// The revision: grows by one per change. The first revision of a process is its start time in milliseconds
    /// since the epoch, so revisions also grow across restarts (and an SSE `Last-Event-ID` of a previous process
    /// never matches by accident).
    pub revision: u64,
    /// Random id of this server process.
    pub instance_id: Arc<str>,
    /// When this state was built.
    pub time: SystemTime,
    /// The sessions in the original's JSON shape.
    pub sessions: Vec<SessionJson>,
    /// The same sessions as proto messages.
    pub proto_sessions: Vec<pb::Session>,
    /// `sessions` serialized once as a compact JSON array, for `/api/state` and SSE.
    pub sessions_json: String,
    /// The whole (unfiltered) `amc.v1.State` encoded once as protobuf, shared by every GetState and WatchState
    /// response without a filter (the server only frames it; nothing is copied into a message or encoded per client).
    pub encoded_state: bytes::Bytes,
    /// The change from the previous published snapshot as an encoded `amc.v1.StateDelta`, shared by every
    /// unfiltered watcher that asked for deltas; `None` for the first snapshot, and when a delta cannot express the
    /// change exactly or would not be smaller than the state.
    pub encoded_delta: Option<bytes::Bytes>,
}

/// Returns the change from `before` to `after` (both sorted by session_id, as every snapshot is), restricted to the
/// sessions `filter` lets through; `None` when a session id appears twice in either list, so that a delta keyed by
/// session id could not say which one changed.
pub fn state_delta(before: &Snapshot, after: &Snapshot, filter: &wire::Filter) -> Option<pb::StateDelta> {
    let old: Vec<&pb::Session> = before.proto_sessions.iter().filter(|s| filter.matches(s)).collect();
    let new: Vec<&pb::Session> = after.proto_sessions.iter().filter(|s| filter.matches(s)).collect();
    let unique = |list: &[&pb::Session]| list.windows(2).all(|w| w[0].session_id < w[1].session_id);
    if !unique(&old) || !unique(&new) {
        return None;
    }
    let mut delta = pb::StateDelta {
        base_revision: before.revision,
        upserted_sessions: Vec::new(),
        removed_session_ids: Vec::new(),
        snapshot_time: Some(wire::system_time(after.time)),
    };
    let (mut i, mut j) = (0, 0);
    while i < old.len() || j < new.len() {
        match (old.get(i), new.get(j)) {
            (Some(o), Some(n)) if o.session_id == n.session_id => {
                if o != n {
                    delta.upserted_sessions.push((*n).clone());
                }
                i += 1;
                j += 1;
            }
            (Some(o), Some(n)) if o.session_id < n.session_id => {
                delta.removed_session_ids.push(o.session_id.clone());
                i += 1;
            }
            (Some(o), None) => {
                delta.removed_session_ids.push(o.session_id.clone());
                i += 1;
            }
            (_, Some(n)) => {
                delta.upserted_sessions.push((*n).clone());
                j += 1;
            }
            (None, None) => break,
        }
    }
    Some(delta)
}

impl Snapshot {
    /// Builds the snapshot that follows `previous` (its shared delta is computed once here, not per watcher).
    fn next(previous: &Snapshot, revision: u64, sessions: Vec<SessionJson>) -> Self {
        let mut snapshot = Snapshot::new(revision, previous.instance_id.clone(), sessions);
        snapshot.encoded_delta = state_delta(previous, &snapshot, &wire::Filter::default())
            .map(|delta| prost::Message::encode_to_vec(&delta))
            .filter(|delta| delta.len() < snapshot.encoded_state.len())
            .map(bytes::Bytes::from);
        snapshot
    }

    fn new(revision: u64, instance_id: Arc<str>, sessions: Vec<SessionJson>) -> Self {
        let time = SystemTime::now();
        let state = pb::State {
            revision,
            sessions: sessions.iter().map(wire::session_to_proto).collect(),
            snapshot_time: Some(wire::system_time(time)),
            instance_id: instance_id.to_string(),
        };
        let encoded_state = prost::Message::encode_to_vec(&state).into();
        let sessions_json = serde_json::to_string(&sessions).unwrap_or_else(|_| "[]".into());
        Snapshot {
            revision,
            instance_id,
            time,
            sessions,
            proto_sessions: state.sessions,
            sessions_json,
            encoded_state,
            encoded_delta: None,
        }
    }

    /// Returns the original's `/api/state` payload: `{"sessions":[...],"server_time":"...","revision":N,"instance_id":"..."}`.
    pub fn api_json(&self, server_time: SystemTime) -> String {
        let time =
            chrono::DateTime::<chrono::Utc>::from(server_time).to_rfc3339_opts(chrono::SecondsFormat::Micros, false);
        format!(
            "{{\"sessions\":{},\"server_time\":\"{}\",\"revision\":{},\"instance_id\":\"{}\"}}",
            self.sessions_json, time, self.revision, self.instance_id
        )
    }

    /// Returns the proto state, with `filter` applied.
    pub fn to_proto(&self, filter: &wire::Filter) -> pb::State {
        pb::State {
            revision: self.revision,
            sessions: filter.apply(&self.proto_sessions),
            snapshot_time: Some(wire::system_time(self.time)),
            instance_id: self.instance_id.to_string(),
        }
    }
}

/// A cheap handle to the published state, cloned into every server handler.
#[derive(Debug, Clone)]
pub struct StateHandle {
    rx: watch::Receiver<Arc<Snapshot>>,
    polling: Arc<AtomicBool>,
    pass_count: Arc<std::sync::atomic::AtomicU64>,
}

impl StateHandle {
    /// Returns the latest snapshot.
    pub fn current(&self) -> Arc<Snapshot> {
        self.rx.borrow().clone()
    }

    /// Returns a receiver that sees every later snapshot (conflated).
    pub fn subscribe(&self) -> watch::Receiver<Arc<Snapshot>> {
        self.rx.clone()
    }

    /// Returns whether file watching failed and the publisher only polls on its timers.
    pub fn is_polling(&self) -> bool {
        self.polling.load(Ordering::Relaxed)
    }

    /// Returns how many collection passes have run.
    pub fn passes(&self) -> u64 {
        self.pass_count.load(Ordering::Relaxed)
    }

    /// Builds a handle that publishes `sessions` once and never changes (for tests and benchmarks of the server
    /// alone); the sender is returned so the caller can publish more.
    pub fn fixed(sessions: Vec<SessionJson>) -> (Self, FixedPublisher) {
        let instance: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
        let revision = start_revision();
        let (tx, rx) = watch::channel(Arc::new(Snapshot::new(revision, instance, sessions)));
        let handle = StateHandle {
            rx,
            polling: Arc::default(),
            pass_count: Arc::default(),
        };
        (handle, FixedPublisher { tx, revision })
    }
}

/// Publishes hand-made states (tests and benchmarks).
#[derive(Debug)]
pub struct FixedPublisher {
    tx: watch::Sender<Arc<Snapshot>>,
    revision: u64,
}

impl FixedPublisher {
    /// Returns how many receivers of the channel exist (every `StateHandle` clone, every open WatchState and SSE
    /// stream): tests use it to check that streams of departed clients are gone.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Publishes `sessions` as the next revision and returns it.
    pub fn publish(&mut self, sessions: Vec<SessionJson>) -> u64 {
        self.revision += 1;
        let next = Snapshot::next(&self.tx.borrow(), self.revision, sessions);
        self.tx.send_replace(Arc::new(next));
        self.revision
    }
}

fn start_revision() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(1)
        .max(1)
}

/// Runs the first pass, then spawns the publisher task; returns the handle once a first state exists.
///
/// The task stops when `shutdown` is cancelled.
pub async fn start(config: Config, shutdown: CancellationToken) -> StateHandle {
    let instance: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
    let mut collector = Collector::new(&config);
    let (collector_back, first) = tokio::task::spawn_blocking(move || {
        let pass = collector.pass(SystemTime::now());
        (collector, pass)
    })
    .await
    .unwrap_or_else(|error| {
        tracing::error!(%error, "first collection pass panicked");
        (Collector::new(&config), Pass::default())
    });
    let revision = start_revision();
    let (tx, rx) = watch::channel(Arc::new(Snapshot::new(revision, instance, first.sessions)));
    let polling = Arc::new(AtomicBool::new(false));
    let pass_count = Arc::new(std::sync::atomic::AtomicU64::new(1));
    let handle = StateHandle {
        rx,
        polling: polling.clone(),
        pass_count: pass_count.clone(),
    };
    let publisher = Publisher {
        config,
        revision,
        tx,
        collector: Some(collector_back),
        polling,
        pass_count,
    };
    tokio::spawn(publisher.run(first.watch_paths, shutdown));
    handle
}

struct Publisher {
    config: Config,
    revision: u64,
    tx: watch::Sender<Arc<Snapshot>>,
    collector: Option<Collector>,
    polling: Arc<AtomicBool>,
    pass_count: Arc<std::sync::atomic::AtomicU64>,
}

impl Publisher {
    async fn run(mut self, first_watch: Vec<PathBuf>, shutdown: CancellationToken) {
        let (event_tx, mut event_rx) = mpsc::channel::<()>(1);
        let catch_up = event_tx.clone();
        let mut watches = FileWatches::new(event_tx, self.polling.clone());
        // The first pass ran before these watches existed: anything written in between needs a pass.
        if watches.update(&self.desired_watches(&first_watch)) {
            let _ = catch_up.try_send(());
        }
        let mut last_event_pass = tokio::time::Instant::now();
        let mut liveness = tokio::time::interval(self.config.liveness_interval);
        liveness.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        liveness.tick().await;
        let mut reconcile = tokio::time::interval(self.config.reconcile_interval);
        reconcile.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        reconcile.tick().await;
        loop {
            let from_event = tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                Some(()) = event_rx.recv() => {
                    // At most one event-driven pass per `debounce`, and the first change after a quiet period is
                    // collected at once: a burst is gathered until `debounce` after the previous event-driven pass,
                    // but a single write does not wait (the temp-file events of an atomic write are ignored, so its
                    // one relevant event is the final rename). Timer passes do not delay event-driven ones.
                    tokio::time::sleep_until(last_event_pass + self.config.debounce).await;
                    while event_rx.try_recv().is_ok() {}
                    true
                }
                _ = liveness.tick() => false,
                _ = reconcile.tick() => false,
            };
            let pass = self.run_pass().await;
            if from_event {
                last_event_pass = tokio::time::Instant::now();
            }
            let Some(pass) = pass else { continue };
            // A directory watched for the first time (created, or deleted and recreated, since the last pass) may
            // have been written between this pass's read and its watch: one more pass sees those writes.
            if watches.update(&self.desired_watches(&pass.watch_paths)) {
                let _ = catch_up.try_send(());
            }
            self.publish(pass.sessions);
        }
    }

    async fn run_pass(&mut self) -> Option<Pass> {
        let mut collector = self.collector.take().unwrap_or_else(|| Collector::new(&self.config));
        let result = tokio::task::spawn_blocking(move || {
            let pass = collector.pass(SystemTime::now());
            (collector, pass)
        })
        .await;
        self.pass_count.fetch_add(1, Ordering::Relaxed);
        match result {
            Ok((collector, pass)) => {
                self.collector = Some(collector);
                Some(pass)
            }
            Err(error) => {
                // The collector is rebuilt on the next pass; its caches are lost, nothing else.
                tracing::error!(%error, "collection pass panicked");
                None
            }
        }
    }

    fn publish(&mut self, sessions: Vec<SessionJson>) {
        // `borrow()` holds the channel's read lock; release it before sending.
        let previous = self.tx.borrow().clone();
        if previous.sessions != sessions {
            self.revision += 1;
            tracing::debug!(
                revision = self.revision,
                sessions = sessions.len(),
                "publishing new state"
            );
            self.tx
                .send_replace(Arc::new(Snapshot::next(&previous, self.revision, sessions)));
        }
    }

    /// The directories whose changes trigger a pass: the sessions and events dirs, the Codex sessions root
    /// (recursively), and the directories of the listed transcripts (directories, not files, so a transcript
    /// replaced by rename is still seen).
    fn desired_watches(&self, transcripts: &[PathBuf]) -> Vec<(PathBuf, RecursiveMode)> {
        let paths = &self.config.paths;
        let mut dirs = vec![
            (paths.sessions_dir(), RecursiveMode::NonRecursive),
            (paths.events_dir(), RecursiveMode::NonRecursive),
            (paths.codex_sessions_dir.clone(), RecursiveMode::Recursive),
        ];
        let mut seen: HashSet<PathBuf> = dirs.iter().map(|(d, _)| d.clone()).collect();
        for transcript in transcripts {
            if let Some(parent) = transcript.parent() {
                if !parent.starts_with(&paths.codex_sessions_dir) && seen.insert(parent.to_path_buf()) {
                    dirs.push((parent.to_path_buf(), RecursiveMode::NonRecursive));
                }
            }
        }
        dirs
    }
}

/// The set of watched directories; directories that do not exist yet are retried on every update, and a directory
/// deleted and recreated (new inode) is watched again.
struct FileWatches {
    watcher: Option<notify::RecommendedWatcher>,
    /// The watched directories and their inodes.
    watched: HashMap<PathBuf, u64>,
    /// The directories to watch, for the event handler (which reports when one of them is deleted or moved away).
    roots: Arc<Mutex<HashSet<PathBuf>>>,
    /// Set by the event handler when a watched directory itself was deleted or moved away.
    lost: Arc<AtomicBool>,
    tx: mpsc::Sender<()>,
    polling: Arc<AtomicBool>,
}

fn inode(dir: &Path) -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(dir).ok().filter(|m| m.is_dir()).map(|m| m.ino())
}

impl FileWatches {
    fn new(tx: mpsc::Sender<()>, polling: Arc<AtomicBool>) -> Self {
        let mut watches = FileWatches {
            watcher: None,
            watched: HashMap::new(),
            roots: Arc::default(),
            lost: Arc::default(),
            tx,
            polling,
        };
        watches.watcher = watches.start_watcher();
        watches
    }

    /// Starts a watcher whose events trigger passes; `None` (and polling) when the platform has none.
    fn start_watcher(&self) -> Option<notify::RecommendedWatcher> {
        let (tx, roots, lost) = (self.tx.clone(), self.roots.clone(), self.lost.clone());
        let handler = move |event: notify::Result<notify::Event>| {
            // An error (e.g. a failed read of the event queue) may hide a change: it triggers a pass too.
            if let Ok(event) = event {
                use notify::event::{EventKind, ModifyKind};
                // Reads (opens, close-without-write) are ignored: the collector reads the files it watches and would
                // otherwise wake itself up in a loop. So are the temp files of atomic writes: only their final
                // rename changes what a pass sees. (An event without paths, such as a queue overflow, counts.)
                if matches!(event.kind, EventKind::Access(_))
                    || (!event.paths.is_empty() && event.paths.iter().all(|p| is_temp_file(p)))
                {
                    return;
                }
                if matches!(
                    event.kind,
                    EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
                ) {
                    let roots = roots.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    if event.paths.iter().any(|p| roots.contains(p)) {
                        lost.store(true, Ordering::Relaxed);
                    }
                }
            }
            let _ = tx.try_send(());
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
    fn update(&mut self, desired: &[(PathBuf, RecursiveMode)]) -> bool {
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
        added
    }
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

    fn session(id: &str, status: &str, agent: &str) -> SessionJson {
        match serde_json::json!({"session_id": id, "status": status, "agent": agent}) {
            serde_json::Value::Object(map) => map,
            _ => unreachable!("an object"),
        }
    }

    fn snapshot(revision: u64, sessions: Vec<SessionJson>) -> Snapshot {
        Snapshot::new(revision, Arc::from("instance"), sessions)
    }

    fn ids(sessions: &[pb::Session]) -> Vec<&str> {
        sessions.iter().map(|s| s.session_id.as_str()).collect()
    }

    #[test]
    fn a_delta_lists_changed_and_new_sessions_and_the_ids_that_left() {
        let before = snapshot(
            7,
            vec![
                session("a", "active", "claude"),
                session("b", "active", "codex"),
                session("c", "done", "claude"),
            ],
        );
        let after = snapshot(
            8,
            vec![
                session("a", "active", "claude"),
                session("b", "done", "codex"),
                session("d", "starting", "claude"),
            ],
        );
        let delta = state_delta(&before, &after, &wire::Filter::default()).expect("unique ids");
        assert_eq!(delta.base_revision, 7);
        assert_eq!(ids(&delta.upserted_sessions), ["b", "d"], "a is unchanged");
        assert_eq!(delta.upserted_sessions[0].raw_status, "done");
        assert_eq!(delta.removed_session_ids, ["c"]);

        // Under a filter only what the filter lets through counts.
        let codex = wire::Filter::from_proto(Some(pb::SessionFilter {
            agents: vec![pb::Agent::Codex as i32],
            ..Default::default()
        }))
        .expect("valid filter");
        let delta = state_delta(&before, &after, &codex).expect("unique ids");
        assert_eq!(ids(&delta.upserted_sessions), ["b"]);
        assert!(delta.removed_session_ids.is_empty());

        // Nothing changed: an empty delta.
        let same = state_delta(&before, &before, &wire::Filter::default()).expect("unique ids");
        assert!(same.upserted_sessions.is_empty() && same.removed_session_ids.is_empty());
    }

    #[test]
    fn a_session_id_listed_twice_gets_no_delta() {
        let twice = snapshot(
            2,
            vec![session("a", "active", "claude"), session("a", "done", "claude")],
        );
        let once = snapshot(3, vec![session("a", "active", "claude")]);
        assert!(state_delta(&twice, &once, &wire::Filter::default()).is_none());
        assert!(state_delta(&once, &twice, &wire::Filter::default()).is_none());
    }

    #[test]
    fn each_published_snapshot_carries_the_shared_delta_from_its_predecessor() {
        let many: Vec<SessionJson> = (0..20)
            .map(|i| session(&format!("s{i:02}"), "active", "claude"))
            .collect();
        let (handle, mut publisher) = StateHandle::fixed(many.clone());
        assert!(
            handle.current().encoded_delta.is_none(),
            "the first snapshot has no predecessor"
        );
        let mut changed = many.clone();
        changed[3] = session("s03", "done", "claude");
        publisher.publish(changed);
        let current = handle.current();
        let delta = <pb::StateDelta as prost::Message>::decode(current.encoded_delta.clone().expect("a delta"))
            .expect("decodes");
        assert_eq!(delta.base_revision, current.revision - 1);
        assert_eq!(ids(&delta.upserted_sessions), ["s03"]);
        // Everything replaced: a delta would not be smaller than the state, so there is none.
        publisher.publish(vec![session("other", "active", "codex")]);
        assert!(handle.current().encoded_delta.is_none());
    }
}
