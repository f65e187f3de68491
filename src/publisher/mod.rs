//! The one task that owns the state.
//!
//! It runs collection passes (on file events, at most one per debounce interval with the first at once, on the
//! liveness timer, and on the reconcile timer), bumps the revision only when the sessions changed, and publishes an
//! `Arc<Snapshot>` on a `tokio::sync::watch` channel. `GetState`, `WatchState`, `/api/state` and `/api/stream` only
//! read that channel: a slow subscriber skips stale snapshots instead of growing a queue, and never slows the
//! collector or anyone else. It also keeps the [`decision_log`]: why each session is what it is, and why removed
//! sessions went (`ExplainSession`, `/api/sessions/{id}/explain`).

use std::{
    collections::HashSet,
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{SystemTime, UNIX_EPOCH},
};

use notify::RecursiveMode;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

pub mod decision_log;
pub mod events;
pub mod revision;
mod watches;

pub use self::events::{EventCursor, EventLog, Retention};
use self::{
    decision_log::{DecisionLog, SharedDecisionLog},
    watches::{FileWatches, SharedPending},
};
use crate::{
    collect::{Changes, Collector, Pass},
    config::{Config, Paths},
    error::Error,
    event::{self, Event},
    metrics::{self, Trigger},
    model::SessionJson,
    wire::{Explanation, Snapshot},
};

/// A cheap handle to the published state, cloned into every server handler.
#[derive(Debug, Clone)]
pub struct StateHandle {
    rx: watch::Receiver<Arc<Snapshot>>,
    polling: Arc<AtomicBool>,
    pass_count: Arc<std::sync::atomic::AtomicU64>,
    /// When the running pass started (ms since the epoch), 0 between passes.
    pass_started: Arc<std::sync::atomic::AtomicI64>,
    /// The session files the last pass skipped as unreadable (name: reason).
    unreadable: Arc<std::sync::Mutex<Vec<String>>>,
    decisions: SharedDecisionLog,
    events: Arc<EventLog>,
}

impl StateHandle {
    /// The session files skipped as unreadable until they change (too long, a symlink out of the data dir): each
    /// `name: reason`.
    pub fn unreadable_files(&self) -> Vec<String> {
        self.unreadable.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// How long the running collection pass has been running; `None` between passes.
    pub fn pass_running_for(&self) -> Option<std::time::Duration> {
        let started = self.pass_started.load(Ordering::Relaxed);
        (started > 0).then(|| std::time::Duration::from_millis(u64::try_from(now_ms() - started).unwrap_or(0)))
    }

    /// Returns the event ring: the events derived from consecutive published states.
    pub fn events(&self) -> &Arc<EventLog> {
        &self.events
    }

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

    /// Returns whether the first collection pass is still running (the published state is then an empty
    /// placeholder, [`Snapshot::warming`]).
    pub fn is_warming(&self) -> bool {
        self.rx.borrow().warming
    }

    /// Waits until the first full state is published (at once when it is); returns early only if the publisher
    /// stopped.
    pub async fn warmed(&self) {
        let mut rx = self.rx.clone();
        let _ = rx.wait_for(|snapshot| !snapshot.warming).await;
    }

    /// Returns how many collection passes have run.
    pub fn passes(&self) -> u64 {
        self.pass_count.load(Ordering::Relaxed)
    }

    /// Explains session `id` from the decision log: the latest pass's decisions, or a removed session's last ones.
    /// An unsafe id is [`Error::InvalidArgument`]; an id neither listed nor recently removed [`Error::NotFound`]
    /// (which says so while the first pass still runs: the removed sessions kept from before answer at once).
    pub fn explain(&self, id: &str) -> Result<Explanation, Error> {
        match self.decisions.explain(id) {
            Err(Error::NotFound(message)) if self.current().warming => Err(Error::NotFound(format!(
                "{message} (amc is warming up: the first collection pass has not finished)"
            ))),
            other => other,
        }
    }

    /// Builds a handle that publishes `sessions` once and never changes (for tests and benchmarks of the server
    /// alone); the sender is returned so the caller can publish more.
    pub fn fixed(sessions: Vec<SessionJson>) -> (Self, FixedPublisher) {
        let instance: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
        let revision = start_revision();
        let (tx, rx) = watch::channel(Arc::new(Snapshot::new(revision, instance, sessions)));
        let events = Arc::new(EventLog::in_memory(1));
        let handle = StateHandle {
            rx,
            polling: Arc::default(),
            pass_count: Arc::default(),
            pass_started: Arc::default(),
            unreadable: Arc::default(),
            decisions: SharedDecisionLog::new(DecisionLog::in_memory(&Paths::from_lookup(|_| None))),
            events: events.clone(),
        };
        (handle, FixedPublisher { tx, revision, events })
    }

    /// Builds a handle whose states come from elsewhere than a collector (a fleet hub's union of hosts): it starts
    /// with the warming placeholder, and the returned publisher publishes each state. Events are derived between
    /// consecutive states and kept in `<data dir>/stream/fleet-events.jsonl` (the collector of the same server keeps
    /// its own in `events.jsonl`).
    pub fn external(config: &Config) -> (Self, FixedPublisher) {
        let instance: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
        let revision = start_revision();
        let (tx, rx) = watch::channel(Arc::new(Snapshot::warming(revision, instance)));
        let file = config.paths.data_dir.join("stream").join("fleet-events.jsonl");
        let events = Arc::new(EventLog::open(file, Retention::default(), now_ms()));
        let handle = StateHandle {
            rx,
            polling: Arc::default(),
            pass_count: Arc::default(),
            decisions: SharedDecisionLog::new(DecisionLog::in_memory(&config.paths)),
            events: events.clone(),
            pass_started: Arc::default(),
            unreadable: Arc::default(),
        };
        (handle, FixedPublisher { tx, revision, events })
    }
}

/// Publishes hand-made states (tests and benchmarks).
#[derive(Debug)]
pub struct FixedPublisher {
    tx: watch::Sender<Arc<Snapshot>>,
    revision: u64,
    events: Arc<EventLog>,
}

impl FixedPublisher {
    /// Returns how many receivers of the channel exist (every `StateHandle` clone, every open WatchState and SSE
    /// stream): tests use it to check that streams of departed clients are gone.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Publishes `sessions` as the next revision and returns it.
    pub fn publish(&mut self, sessions: Vec<SessionJson>) -> u64 {
        self.publish_with_hosts(sessions, Vec::new())
    }

    /// Publishes `sessions` and a fleet hub's `hosts` as the next revision and returns it (the first state after
    /// the warming placeholder derives no events: it is the baseline).
    pub fn publish_with_hosts(&mut self, sessions: Vec<SessionJson>, hosts: Vec<crate::proto::FleetHost>) -> u64 {
        let protos = sessions
            .iter()
            .map(|s| Arc::new(crate::wire::session_to_proto(s)))
            .collect();
        self.publish_shared(sessions.into_iter().map(Arc::new).collect(), protos, hosts)
    }

    /// [`FixedPublisher::publish_with_hosts`] of sessions already in both shapes (`sessions[i]` is `protos[i]` as
    /// JSON, sorted by session id): a session shared (the same `Arc`) with the previous state is unchanged without
    /// being compared, and events are derived from the changed sessions only, so a change of one session among
    /// thousands costs about what that one costs.
    pub fn publish_shared(
        &mut self,
        sessions: Vec<Arc<SessionJson>>,
        protos: Vec<Arc<crate::proto::Session>>,
        hosts: Vec<crate::proto::FleetHost>,
    ) -> u64 {
        self.revision += 1;
        let previous = self.tx.borrow().clone();
        let (next, changes) = Snapshot::next_shared(&previous, self.revision, sessions, protos, hosts);
        let derived = match changes {
            _ if previous.warming => Vec::new(),
            // Unique ids: the merge of the whole lists pairs each session with its predecessor, and an unchanged pair
            // derives nothing, so the changed ones alone (both lists still sorted) derive the same events.
            Some(changes) => {
                let before: Vec<&SessionJson> = changes.replaced.iter().map(|&i| &*previous.sessions[i]).collect();
                let after: Vec<&SessionJson> = changes.upserted.iter().map(|&j| &*next.sessions[j]).collect();
                derive_events(&before, &after, self.revision)
            }
            None => derive_events(&previous.sessions, &next.sessions, self.revision),
        };
        self.tx.send_replace(Arc::new(next));
        self.events.append(derived, now_ms());
        self.revision
    }
}

/// Returns the current time in milliseconds since the Unix epoch (0 before it).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The events between two consecutive states, not numbered yet.
fn derive_events<B: std::borrow::Borrow<SessionJson>, A: std::borrow::Borrow<SessionJson>>(
    before: &[B],
    after: &[A],
    revision: u64,
) -> Vec<Event> {
    let mut out = Vec::new();
    event::derive(before, after, now_ms(), revision, &mut out);
    out
}

/// Where the event ring is persisted: `<data dir>/stream/events.jsonl`.
pub fn event_ring_file(config: &Config) -> PathBuf {
    config.paths.data_dir.join("stream").join("events.jsonl")
}

fn start_revision() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(1)
        .max(1)
}

/// Publishes a warming-up placeholder (an empty state, [`Snapshot::warming`]) and spawns the publisher task, which runs
/// the first pass and publishes its result as the next revision; returns at once, so the server can answer while the
/// first pass reads big histories. [`StateHandle::warmed`] waits for the first full state.
///
/// The task stops when `shutdown` is cancelled.
pub async fn start(config: Config, shutdown: CancellationToken) -> StateHandle {
    let instance: Arc<str> = Arc::from(uuid::Uuid::new_v4().to_string());
    // The removed sessions kept across restarts (a small file; read off the async threads).
    let paths = config.paths.clone();
    let log = tokio::task::spawn_blocking(move || DecisionLog::open(&paths, SystemTime::now()))
        .await
        .unwrap_or_else(|error| {
            tracing::error!(%error, "reading the decision log panicked");
            DecisionLog::in_memory(&config.paths)
        });
    let decisions = SharedDecisionLog::new(log);
    let revisions = revision::Revisions::open(
        Some(config.paths.data_dir.join("cache").join("revision")),
        u64::try_from(now_ms()).unwrap_or(0),
    );
    let (tx, rx) = watch::channel(Arc::new(Snapshot::warming(revisions.current(), instance)));
    let polling = Arc::new(AtomicBool::new(false));
    let pass_count = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let pass_started = Arc::new(std::sync::atomic::AtomicI64::new(0));
    let unreadable: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let events = Arc::new(EventLog::open(event_ring_file(&config), Retention::default(), now_ms()));
    let handle = StateHandle {
        rx,
        polling: polling.clone(),
        pass_count: pass_count.clone(),
        pass_started: pass_started.clone(),
        unreadable: unreadable.clone(),
        decisions: decisions.clone(),
        events: events.clone(),
    };
    let publisher = Publisher {
        config,
        revisions,
        tx,
        collector: None,
        polling,
        pass_count,
        pass_started,
        unreadable,
        decisions,
        events,
        stamped: Stamped::default(),
    };
    tokio::spawn(async move {
        // The first pass can take seconds on big histories; a shutdown meanwhile ends the task at once (the pass's
        // blocking thread finishes on its own and its result is dropped).
        let first = tokio::select! {
            biased;
            () = shutdown.cancelled() => return,
            pass = publisher.first_pass() => pass,
        };
        let (mut publisher, first) = first;
        publisher.publish(first.sessions);
        publisher.run(first.watch_paths, shutdown).await;
    });
    handle
}

struct Publisher {
    config: Config,
    revisions: revision::Revisions,
    tx: watch::Sender<Arc<Snapshot>>,
    collector: Option<Collector>,
    polling: Arc<AtomicBool>,
    pass_count: Arc<std::sync::atomic::AtomicU64>,
    pass_started: Arc<std::sync::atomic::AtomicI64>,
    unreadable: Arc<std::sync::Mutex<Vec<String>>>,
    events: Arc<EventLog>,
    decisions: SharedDecisionLog,
    stamped: Stamped,
}

/// The sessions of the last publication with the machine's name added, by the collector's session they came from:
/// an unchanged session (the same `Arc` from the collector) gets the same stamped copy, so it stays shared and is
/// neither copied nor compared again.
/// (Keyed by the address of the collector's session, which the `Arc` kept beside it holds: no other session can
/// have it meanwhile.)
#[derive(Debug, Default)]
struct Stamped(std::collections::HashMap<usize, (Arc<SessionJson>, Arc<SessionJson>)>);

impl Stamped {
    /// Returns `sessions` with `host` set on each, reusing the copies of the previous call for the same sessions.
    fn stamp(&mut self, sessions: Vec<Arc<SessionJson>>, host: &str) -> Vec<Arc<SessionJson>> {
        let mut previous = std::mem::take(&mut self.0);
        sessions
            .into_iter()
            .map(|session| {
                let key = Arc::as_ptr(&session) as usize;
                let stamped = match previous.remove(&key) {
                    Some((_, stamped)) => stamped,
                    None => {
                        let mut copy = (*session).clone();
                        copy.insert("host".into(), serde_json::Value::String(host.to_owned()));
                        Arc::new(copy)
                    }
                };
                self.0.insert(key, (session, stamped.clone()));
                stamped
            })
            .collect()
    }
}

/// Records `pass`'s decisions and removals in the decision log (moved out of the pass); returns the rest of the pass.
fn record(log: &SharedDecisionLog, mut pass: Pass, now: SystemTime) -> Pass {
    let decisions = std::mem::take(&mut pass.decisions);
    let removed = std::mem::take(&mut pass.removed);
    log.record(&pass.sessions, decisions, removed, now);
    pass
}

impl Publisher {
    /// Runs the first pass (a panic in it yields an empty list, as any failed pass would leave the state).
    async fn first_pass(mut self) -> (Self, Pass) {
        let pass = self
            .run_pass(Changes::Unknown, Trigger::First)
            .await
            .unwrap_or_default();
        (self, pass)
    }

    async fn run(mut self, first_watch: Vec<PathBuf>, shutdown: CancellationToken) {
        let (event_tx, mut event_rx) = mpsc::channel::<()>(1);
        let catch_up = event_tx.clone();
        // What the events named since the last pass: an event-driven pass re-reads only those files.
        let pending = SharedPending::default();
        let mut watches = FileWatches::new(event_tx, self.polling.clone(), pending.clone());
        // The first pass ran before these watches existed: anything written in between needs a pass (of every file).
        if watches.update(&self.desired_watches(&first_watch)) {
            pending.mark_unknown();
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
            let trigger = tokio::select! {
                biased;
                () = shutdown.cancelled() => return,
                Some(()) = event_rx.recv() => {
                    // At most one event-driven pass per `debounce`, and the first change after a quiet period is
                    // collected at once: a burst is gathered until `debounce` after the previous event-driven pass,
                    // but a single write does not wait (the temp-file events of an atomic write are ignored, so its
                    // one relevant event is the final rename). Timer passes do not delay event-driven ones.
                    tokio::time::sleep_until(last_event_pass + self.config.debounce).await;
                    while event_rx.try_recv().is_ok() {}
                    Trigger::Event
                }
                _ = liveness.tick() => Trigger::Liveness,
                _ = reconcile.tick() => Trigger::Reconcile,
            };
            let from_event = trigger == Trigger::Event;
            // Taken before the pass reads anything: an event during the pass stays for the next one. The timers'
            // passes check every file (what an event-driven pass skipped is re-checked within one liveness interval).
            let changes = pending.take();
            let changes = if from_event { changes } else { Changes::Unknown };
            let pass = self.run_pass(changes, trigger).await;
            if from_event {
                last_event_pass = tokio::time::Instant::now();
            }
            let Some(pass) = pass else { continue };
            // A directory watched for the first time (created, or deleted and recreated, since the last pass) may
            // have been written between this pass's read and its watch: one more pass sees those writes.
            if watches.update(&self.desired_watches(&pass.watch_paths)) {
                pending.mark_unknown();
                let _ = catch_up.try_send(());
            }
            self.publish(pass.sessions);
        }
    }

    async fn run_pass(&mut self, changes: Changes, trigger: Trigger) -> Option<Pass> {
        let mut collector = self.collector.take().unwrap_or_else(|| Collector::new(&self.config));
        let decisions = self.decisions.clone();
        // The pass runs on a thread of its own, not in tokio's blocking pool: requests that fill that pool (slow
        // reads) can never hold the collector up. Its logs carry its trigger (a span field in `--log-format json`).
        let span = tracing::info_span!("pass", trigger = trigger.as_str());
        let started = std::time::Instant::now();
        let (done, result) = tokio::sync::oneshot::channel();
        self.pass_started.store(now_ms().max(1), Ordering::Relaxed);
        let spawned = std::thread::Builder::new().name("amc-collect".into()).spawn(move || {
            span.in_scope(|| {
                let now = SystemTime::now();
                let pass = record(&decisions, collector.pass_with(now, &changes), now);
                let _ = done.send((collector, pass));
            })
        });
        let result = match spawned {
            Ok(_) => result.await.ok(),
            Err(error) => {
                tracing::error!(%error, "cannot start the collection thread");
                None
            }
        };
        self.pass_started.store(0, Ordering::Relaxed);
        metrics::pass_done(trigger, started.elapsed());
        self.pass_count.fetch_add(1, Ordering::Relaxed);
        match result {
            Some((collector, pass)) => {
                if let Ok(mut unreadable) = self.unreadable.lock() {
                    *unreadable = collector.unreadable_files();
                }
                self.collector = Some(collector);
                Some(pass)
            }
            None => {
                // The collector is rebuilt on the next pass; its caches are lost, nothing else.
                tracing::error!("collection pass panicked");
                None
            }
        }
    }

    fn publish(&mut self, mut sessions: Vec<Arc<SessionJson>>) {
        // The machine's name on every session, when a fleet or a host name is configured.
        if let Some(host) = self.config.fleet.stamped_host() {
            sessions = self.stamped.stamp(sessions, host);
        }
        // `borrow()` holds the channel's read lock; release it before sending.
        let previous = self.tx.borrow().clone();
        // The first full state always follows the warming placeholder, even when it has no sessions either.
        if previous.warming || !previous.has_sessions(&sessions) {
            let revision = self.revisions.bump();
            tracing::debug!(revision, sessions = sessions.len(), "publishing new state");
            // The first full state is the baseline: events are edges between two states this process saw.
            let derived = if previous.warming {
                Vec::new()
            } else {
                derive_events(&previous.sessions, &sessions, revision)
            };
            self.tx
                .send_replace(Arc::new(Snapshot::next(&previous, revision, sessions)));
            metrics::revision_published();
            self.events.append(derived, now_ms());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::test_util::session, proto as pb};

    fn ids(sessions: &[pb::Session]) -> Vec<&str> {
        sessions.iter().map(|s| s.session_id.as_str()).collect()
    }

    /// (kind, session id, revision) of each event.
    fn kinds(events: &[Event]) -> Vec<(event::EventKind, String, u64)> {
        events
            .iter()
            .map(|e| (e.kind, e.session_id.clone(), e.revision))
            .collect()
    }

    #[test]
    fn shared_sessions_stay_shared_and_the_changed_ones_alone_derive_the_events_of_the_whole_state() {
        let mut state: Vec<SessionJson> = (0..50)
            .map(|i| session(&format!("s{i:02}"), "active", "claude"))
            .collect();
        let (handle, mut publisher) = StateHandle::fixed(Vec::new());
        publisher.publish(state.clone());
        // Each step: the next state, then what the whole-state derivation (the reference) says of it.
        type Step = Box<dyn Fn(&mut Vec<SessionJson>)>;
        let steps: Vec<Step> = vec![
            Box::new(|s| s[3] = session("s03", "needs_attention", "claude")),
            Box::new(|s| {
                s[3] = session("s03", "done", "claude");
                s[10] = session("s10", "done", "codex");
            }),
            Box::new(|s| {
                s.remove(20);
                s.push(session("t00", "needs_attention", "codex"));
            }),
            Box::new(|s| s.retain(|x| x["session_id"] != "s00" && x["session_id"] != "t00")),
            Box::new(|_| {}),
        ];
        for step in steps {
            let before = handle.current();
            let mut next = state.clone();
            step(&mut next);
            // The hub's way: the unchanged sessions are the previous state's very values.
            let shared: Vec<Arc<SessionJson>> = next
                .iter()
                .map(|s| {
                    let old = before.sessions.iter().find(|o| o["session_id"] == s["session_id"]);
                    old.filter(|o| ***o == *s)
                        .cloned()
                        .unwrap_or_else(|| Arc::new(s.clone()))
                })
                .collect();
            let protos = next
                .iter()
                .map(|s| Arc::new(crate::wire::session_to_proto(s)))
                .collect();
            let newest = handle.events().newest_id();
            let revision = publisher.publish_shared(shared.clone(), protos, Vec::new());
            let mut reference = Vec::new();
            event::derive(&state, &next, 0, revision, &mut reference);
            let got: Vec<Event> = handle
                .events()
                .after(newest, 1000)
                .iter()
                .map(|e| (**e).clone())
                .collect();
            assert_eq!(kinds(&got), kinds(&reference), "{revision}");
            let after = handle.current();
            for (i, s) in after.sessions.iter().enumerate() {
                assert!(Arc::ptr_eq(s, &shared[i]), "published as given, not copied");
            }
            let delta = <pb::StateDelta as prost::Message>::decode(after.encoded_delta.clone().expect("a delta"))
                .expect("decodes");
            let changed: Vec<&str> = next
                .iter()
                .filter(|s| !state.contains(s))
                .map(|s| s["session_id"].as_str().expect("id"))
                .collect();
            assert_eq!(ids(&delta.upserted_sessions), changed);
            state = next;
        }
    }

    #[test]
    fn stamped_sessions_carry_the_host_and_stay_shared_while_unchanged() {
        let mut stamped = Stamped::default();
        let a = Arc::new(session("a", "active", "claude"));
        let b = Arc::new(session("b", "done", "codex"));
        let first = stamped.stamp(vec![a.clone(), b.clone()], "box");
        assert!(first.iter().all(|s| s["host"] == "box"));
        assert!(a.get("host").is_none(), "the collector's session is left as it is");
        // b changes (a new session from the collector); a is the same `Arc`: its stamped copy is reused.
        let second = stamped.stamp(vec![a.clone(), Arc::new(session("b", "active", "codex"))], "box");
        assert!(Arc::ptr_eq(&first[0], &second[0]), "unchanged: the same copy");
        assert!(!Arc::ptr_eq(&first[1], &second[1]));
        assert_eq!(
            (second[1]["status"].clone(), second[1]["host"].clone()),
            ("active".into(), "box".into())
        );
        assert_eq!(stamped.0.len(), 2, "only the last publication's sessions are kept");
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
        publisher.publish(changed.clone());
        let current = handle.current();
        let delta = <pb::StateDelta as prost::Message>::decode(current.encoded_delta.clone().expect("a delta"))
            .expect("decodes");
        assert_eq!(delta.base_revision, current.revision - 1);
        assert_eq!(ids(&delta.upserted_sessions), ["s03"]);
        // The same change in the /api/state shape, for `/api/stream?deltas=1`.
        let json: serde_json::Value =
            serde_json::from_slice(&current.api_delta.clone().expect("a JSON delta")).expect("JSON");
        assert_eq!(json["base_revision"], current.revision - 1);
        assert_eq!(json["revision"], current.revision);
        assert_eq!(json["upserted"], serde_json::json!([changed[3]]));
        assert_eq!(json["removed"], serde_json::json!([]));
        // Everything replaced: a delta would not be smaller than the state, so there is none.
        publisher.publish(vec![session("other", "active", "codex")]);
        assert!(handle.current().encoded_delta.is_none());
        assert!(handle.current().api_delta.is_none());
    }
}
