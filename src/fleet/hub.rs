//! A fleet hub: watches the bucket and publishes the union of every host's sessions as one state.
//!
//! The [`Table`] holds the newest value of every key (bounded by the number of keys, however many updates arrive:
//! a burst is conflated into the table and published at most once per [`MIN_PUBLISH_INTERVAL`]). Freshness is the
//! hub's own receive time (a host's clock is never compared with the hub's): a host from which nothing arrived for
//! longer than the TTL is `unreachable` and its sessions carry `host_unreachable`, kept until it returns or deletes
//! them. A watch that fails (NATS restarted, the bucket deleted) is opened again and the table reloaded from the
//! bucket; the state keeps being served meanwhile.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Duration, SystemTime},
};

use async_nats::jetstream::{self, kv};
use futures_util::{FutureExt as _, StreamExt as _};
use tokio::{sync::watch, time::Instant};
use tokio_util::sync::CancellationToken;

use super::{bucket, parse_key, Key, Throttle};
use crate::{
    config::FleetConfig,
    model::SessionJson,
    proto as pb,
    publisher::FixedPublisher,
    wire::{fleet::session_from_proto, session_to_proto, system_time},
};

/// At most one published state per this interval (a burst of updates is conflated into one).
pub const MIN_PUBLISH_INTERVAL: Duration = Duration::from_millis(20);

/// How long the first state waits for a NATS server that does not answer before publishing an empty state.
const FIRST_STATE_WAIT: Duration = Duration::from_secs(3);

/// One session as the hub holds it: as received, and in the two shapes it is served in, built once per change and
/// shared (not copied) by every published state until it changes again.
#[derive(Debug, Clone)]
struct HubSession {
    proto: pb::Session,
    /// Its JSON shape (with `host`, and `host_unreachable` while the host is).
    json: Arc<SessionJson>,
    /// The proto the state serves: `json` as proto.
    served: Arc<pb::Session>,
}

impl HubSession {
    fn new(proto: pb::Session) -> Self {
        let json = session_from_proto(&proto);
        HubSession {
            proto,
            served: Arc::new(session_to_proto(&json)),
            json: Arc::new(json),
        }
    }
}

/// One host as the hub holds it.
#[derive(Debug)]
struct HostEntry {
    sessions: BTreeMap<String, HubSession>,
    last_seen: Instant,
    last_seen_wall: SystemTime,
    record: Option<pb::FleetHostRecord>,
    /// Instance ids seen claiming this host, with when (hub time).
    instances: HashMap<String, Instant>,
    unreachable: bool,
    conflict: bool,
}

impl HostEntry {
    fn new(now: Instant, wall: SystemTime) -> Self {
        HostEntry {
            sessions: BTreeMap::new(),
            last_seen: now,
            last_seen_wall: wall,
            record: None,
            instances: HashMap::new(),
            unreachable: false,
            conflict: false,
        }
    }
}

/// An update read from the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Update {
    /// A value was put.
    Put(bytes::Bytes),
    /// The key was deleted or purged.
    Delete,
}

/// Every host's newest sessions and records.
#[derive(Debug)]
pub struct Table {
    hosts: BTreeMap<String, HostEntry>,
    ttl: Duration,
    bad_values: Throttle,
    bad_keys: Throttle,
}

impl Table {
    /// An empty table; hosts silent for longer than `ttl` are unreachable.
    pub fn new(ttl: Duration) -> Self {
        Table {
            hosts: BTreeMap::new(),
            ttl,
            bad_values: Throttle::new(Duration::from_secs(10)),
            bad_keys: Throttle::new(Duration::from_secs(10)),
        }
    }

    /// How many sessions the table holds.
    pub fn session_count(&self) -> usize {
        self.hosts.values().map(|h| h.sessions.len()).sum()
    }

    /// Applies one update of `key` received at `now` (hub time); returns whether the served state changes. A key
    /// with an unsafe host or session id, and a value that is not a valid message for its key, are skipped and
    /// logged (at most one line per 10 s of each kind).
    pub fn apply(&mut self, key: &str, update: Update, now: Instant, wall: SystemTime) -> bool {
        let Some(parsed) = parse_key(key) else {
            if let Some(skipped) = self.bad_keys.allow() {
                tracing::warn!(
                    key,
                    skipped,
                    "fleet: skipping a bucket key with an unsafe host or session id"
                );
            }
            return false;
        };
        let host_name = match parsed {
            Key::Host(h) | Key::Session { host: h, .. } => h,
        };
        let ttl = self.ttl;
        let entry = self
            .hosts
            .entry(host_name.to_owned())
            .or_insert_with(|| HostEntry::new(now, wall));
        let mut changed = false;
        // Anything from a host is a sign of life.
        entry.last_seen = now;
        entry.last_seen_wall = wall;
        if entry.unreachable {
            entry.unreachable = false;
            set_unreachable(entry, false);
            changed = true;
        }
        match (parsed, update) {
            (Key::Host(_), Update::Put(value)) => match <pb::FleetHostRecord as prost::Message>::decode(value) {
                Ok(record) => {
                    if !entry.instances.contains_key(&record.instance_id) {
                        changed = true;
                    }
                    entry.instances.insert(record.instance_id.clone(), now);
                    entry.instances.retain(|_, seen| now.duration_since(*seen) <= ttl);
                    let conflict = entry.instances.len() > 1;
                    if conflict && !entry.conflict {
                        tracing::error!(host = host_name, instances = ?entry.instances.keys().collect::<Vec<_>>(),
                            "fleet: two amc processes claim the same host name");
                    }
                    changed |= conflict != entry.conflict;
                    entry.conflict = conflict;
                    entry.record = Some(record);
                }
                Err(error) => {
                    if let Some(skipped) = self.bad_values.allow() {
                        tracing::warn!(key, %error, skipped, "fleet: skipping a host record that does not decode");
                    }
                }
            },
            (Key::Host(_), Update::Delete) => entry.record = None,
            (Key::Session { host, session_id }, Update::Put(value)) => {
                match <pb::Session as prost::Message>::decode(value) {
                    Ok(mut session) if session.session_id == session_id => {
                        session.host = host.to_owned();
                        session.host_unreachable = false;
                        let same = entry.sessions.get(session_id).is_some_and(|s| s.proto == session);
                        if !same {
                            entry.sessions.insert(session_id.to_owned(), HubSession::new(session));
                            changed = true;
                        }
                    }
                    Ok(session) => {
                        if let Some(skipped) = self.bad_values.allow() {
                            tracing::warn!(key, value_session_id = %session.session_id, skipped,
                                "fleet: skipping a session whose id is not its key's");
                        }
                    }
                    Err(error) => {
                        if let Some(skipped) = self.bad_values.allow() {
                            tracing::warn!(key, %error, skipped, "fleet: skipping a value that is not an amc.v1.Session");
                        }
                    }
                }
            }
            (Key::Session { session_id, .. }, Update::Delete) => {
                changed |= entry.sessions.remove(session_id).is_some();
            }
        }
        changed
    }

    /// Marks the hosts silent for longer than the TTL unreachable (and forgets instance ids not seen within it);
    /// returns whether the served state changes.
    pub fn tick(&mut self, now: Instant) -> bool {
        let mut changed = false;
        for (name, entry) in &mut self.hosts {
            let silent = now.duration_since(entry.last_seen) > self.ttl;
            if silent && !entry.unreachable {
                tracing::warn!(host = %name, ttl = ?self.ttl, "fleet: host unreachable (nothing received within the TTL)");
                entry.unreachable = true;
                set_unreachable(entry, true);
                changed = true;
            }
            let before = entry.instances.len();
            let ttl = self.ttl;
            entry.instances.retain(|_, seen| now.duration_since(*seen) <= ttl);
            if entry.instances.len() != before {
                let conflict = entry.instances.len() > 1;
                changed |= conflict != entry.conflict;
                entry.conflict = conflict;
            }
        }
        changed
    }

    /// The hosts with their freshness at `now`, sorted by name.
    pub fn hosts(&self, now: Instant) -> Vec<pb::FleetHost> {
        self.hosts
            .iter()
            .map(|(name, e)| {
                let mut instance_ids: Vec<String> = e.instances.keys().cloned().collect();
                instance_ids.sort();
                pb::FleetHost {
                    name: name.clone(),
                    state: if e.unreachable { "unreachable" } else { "ok" }.into(),
                    last_seen_time: Some(system_time(e.last_seen_wall)),
                    age_ms: u64::try_from(now.duration_since(e.last_seen).as_millis()).unwrap_or(u64::MAX),
                    instance_id: e.record.as_ref().map(|r| r.instance_id.clone()).unwrap_or_default(),
                    revision: e.record.as_ref().map_or(0, |r| r.revision),
                    version: e.record.as_ref().map(|r| r.version.clone()).unwrap_or_default(),
                    sessions: u32::try_from(e.sessions.len()).unwrap_or(u32::MAX),
                    name_conflict: e.conflict,
                    instance_ids,
                }
            })
            .collect()
    }

    /// The served sessions (every host's, sorted by session id, then host) in the JSON shape.
    pub fn sessions(&self) -> Vec<Arc<SessionJson>> {
        self.shared().0
    }

    /// The served sessions (every host's, sorted by session id, then host) in the JSON shape and as protos, shared
    /// with the table (nothing is copied).
    fn shared(&self) -> (Vec<Arc<SessionJson>>, Vec<Arc<pb::Session>>) {
        let mut all: Vec<(&str, &str, &HubSession)> = self
            .hosts
            .iter()
            .flat_map(|(host, e)| e.sessions.iter().map(move |(id, s)| (id.as_str(), host.as_str(), s)))
            .collect();
        all.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        all.into_iter()
            .map(|(_, _, s)| (s.json.clone(), s.served.clone()))
            .unzip()
    }

    /// The hosts that hold session `id` (more than one when two hosts report the same id).
    pub fn owners(&self, id: &str) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|(_, e)| e.sessions.contains_key(id))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// Replaces the table's contents with `loaded` (a reload from the bucket), keeping the instance ids seen before
    /// (the caller republishes).
    fn replace_with(&mut self, mut loaded: Table) {
        for (name, entry) in &mut loaded.hosts {
            if let Some(old) = self.hosts.get(name) {
                for (id, seen) in &old.instances {
                    entry.instances.entry(id.clone()).or_insert(*seen);
                }
            }
        }
        self.hosts = loaded.hosts;
    }
}

/// Sets `host_unreachable` on every session of `entry` (proto and both served shapes).
fn set_unreachable(entry: &mut HostEntry, unreachable: bool) {
    for session in entry.sessions.values_mut() {
        session.proto.host_unreachable = unreachable;
        let json = Arc::make_mut(&mut session.json);
        if unreachable {
            json.insert("host_unreachable".into(), true.into());
        } else {
            json.remove("host_unreachable");
        }
        session.served = Arc::new(session_to_proto(json));
    }
}

/// The table, shared by the hub task (which writes it) and the server (which asks who owns a session).
type SharedTable = Arc<std::sync::Mutex<Table>>;

fn lock(table: &SharedTable) -> std::sync::MutexGuard<'_, Table> {
    table.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a hub shares with the server: the live host list (freshness as of the last second) and who owns a session.
#[derive(Debug, Clone)]
pub struct HubView {
    hosts: watch::Receiver<Arc<Vec<pb::FleetHost>>>,
    table: SharedTable,
}

impl HubView {
    /// The hosts, refreshed every second (their `age_ms` as of then).
    pub fn hosts(&self) -> Arc<Vec<pb::FleetHost>> {
        self.hosts.borrow().clone()
    }

    /// The hosts that hold session `id` (more than one when two hosts report the same id).
    pub fn owners(&self, id: &str) -> Vec<String> {
        lock(&self.table).owners(id)
    }
}

/// Starts the hub: watches the bucket through `client` and publishes through `publisher` until `shutdown`.
pub fn start(
    client: async_nats::Client,
    publisher: FixedPublisher,
    config: FleetConfig,
    shutdown: CancellationToken,
) -> HubView {
    let (hosts_tx, hosts) = watch::channel(Arc::new(Vec::new()));
    let table: SharedTable = Arc::new(std::sync::Mutex::new(Table::new(config.ttl)));
    let hub = Hub {
        js: jetstream::new(client),
        table: table.clone(),
        publisher,
        config,
        hosts_tx,
        published_once: false,
        started: Instant::now(),
    };
    tokio::spawn(hub.run(shutdown));
    HubView { hosts, table }
}

struct Hub {
    js: jetstream::Context,
    table: SharedTable,
    publisher: FixedPublisher,
    config: FleetConfig,
    hosts_tx: watch::Sender<Arc<Vec<pb::FleetHost>>>,
    published_once: bool,
    started: Instant,
}

impl Hub {
    async fn run(mut self, shutdown: CancellationToken) {
        let mut backoff = Duration::from_millis(200);
        let mut failures = Throttle::new(Duration::from_secs(30));
        loop {
            let result = tokio::select! {
                () = shutdown.cancelled() => return,
                result = self.watch_once(&shutdown) => result,
            };
            if shutdown.is_cancelled() {
                return;
            }
            match result {
                Ok(()) => backoff = Duration::from_millis(200),
                Err(error) => {
                    if let Some(skipped) = failures.allow() {
                        tracing::warn!(%error, skipped, "fleet: watching the bucket failed; watching again");
                    }
                }
            }
            // NATS unreachable at start: serve an empty state (the hosts appear when NATS answers).
            if !self.published_once && self.started.elapsed() >= FIRST_STATE_WAIT {
                self.publish();
            }
            self.tick();
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }

    /// Publishes the table as the next state, and the owners of each session.
    fn publish(&mut self) {
        let now = Instant::now();
        let ((sessions, protos), hosts) = {
            let table = lock(&self.table);
            (table.shared(), table.hosts(now))
        };
        self.hosts_tx.send_replace(Arc::new(hosts.clone()));
        self.publisher.publish_shared(sessions, protos, hosts);
        self.published_once = true;
    }

    /// Checks the TTLs; republishes when a host became unreachable.
    fn tick(&mut self) {
        let now = Instant::now();
        let changed = lock(&self.table).tick(now);
        if changed && self.published_once {
            self.publish();
        } else {
            let hosts = lock(&self.table).hosts(now);
            self.hosts_tx.send_replace(Arc::new(hosts));
        }
    }

    /// Opens a watch of the whole bucket, reloads the table from it, then applies live updates until the watch
    /// fails.
    async fn watch_once(&mut self, shutdown: &CancellationToken) -> anyhow::Result<()> {
        let first_wait = FIRST_STATE_WAIT.saturating_sub(self.started.elapsed());
        let kv = tokio::time::timeout(
            first_wait.max(Duration::from_secs(5)),
            bucket(&self.js, &self.config.bucket),
        )
        .await
        .map_err(|_| anyhow::anyhow!("NATS does not answer"))??;
        let mut watch = kv.watch_with_history(">").await?;
        // The initial load: every key's newest value, into a fresh table (served only once complete).
        let mut loaded = Table::new(self.config.ttl);
        let pending = kv.status().await.map(|s| s.values()).unwrap_or(0);
        let mut count = 0u64;
        // An empty bucket sends nothing: nothing to wait for.
        while count < pending {
            let next = tokio::time::timeout(Duration::from_secs(2), watch.next()).await;
            let Ok(Some(entry)) = next else {
                break;
            };
            let entry = entry?;
            count += 1;
            let delta = entry.delta;
            let (key, update) = update_of(entry);
            loaded.apply(&key, update, Instant::now(), SystemTime::now());
            if delta == 0 {
                break;
            }
        }
        {
            let mut table = lock(&self.table);
            table.replace_with(loaded);
            tracing::info!(
                keys = count,
                sessions = table.session_count(),
                hosts = table.hosts.len(),
                "fleet: bucket loaded"
            );
        }
        self.publish();
        let mut last_publish = Instant::now();
        let mut dirty = false;
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let deadline = last_publish + MIN_PUBLISH_INTERVAL;
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                entry = watch.next() => {
                    let Some(entry) = entry else { anyhow::bail!("the watch ended") };
                    let now = Instant::now();
                    let wall = SystemTime::now();
                    let entry = entry?;
                    let (key, update) = update_of(entry);
                    let mut table = lock(&self.table);
                    dirty |= table.apply(&key, update, now, wall);
                    // Everything already received joins this batch (bounded, so a flood still lets the rest run).
                    for _ in 0..10_000 {
                        match watch.next().now_or_never() {
                            Some(Some(Ok(entry))) => {
                                let (key, update) = update_of(entry);
                                dirty |= table.apply(&key, update, now, wall);
                            }
                            Some(Some(Err(error))) => return Err(error.into()),
                            Some(None) => anyhow::bail!("the watch ended"),
                            None => break,
                        }
                    }
                }
                () = tokio::time::sleep_until(deadline), if dirty => {}
                _ = ticker.tick() => self.tick(),
            }
            if dirty && Instant::now() >= last_publish + MIN_PUBLISH_INTERVAL {
                self.publish();
                last_publish = Instant::now();
                dirty = false;
            }
        }
    }
}

/// The key and the update an entry carries.
fn update_of(entry: kv::Entry) -> (String, Update) {
    let update = match entry.operation {
        kv::Operation::Put => Update::Put(entry.value),
        kv::Operation::Delete | kv::Operation::Purge => Update::Delete,
    };
    (entry.key, update)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, status: &str) -> bytes::Bytes {
        prost::Message::encode_to_vec(&pb::Session {
            session_id: id.into(),
            raw_status: status.into(),
            ..Default::default()
        })
        .into()
    }

    fn record(instance: &str) -> bytes::Bytes {
        prost::Message::encode_to_vec(&pb::FleetHostRecord {
            name: "h".into(),
            instance_id: instance.into(),
            ..Default::default()
        })
        .into()
    }

    #[test]
    fn the_table_serves_every_host_and_flags_silent_ones() {
        let ttl = Duration::from_secs(15);
        let mut table = Table::new(ttl);
        let t0 = Instant::now();
        let wall = SystemTime::now();
        assert!(table.apply("a.s1", Update::Put(session("s1", "active")), t0, wall));
        assert!(table.apply("b.s1", Update::Put(session("s1", "done")), t0, wall));
        assert!(table.apply("b.s2", Update::Put(session("s2", "done")), t0, wall));
        assert!(
            !table.apply("b.s2", Update::Put(session("s2", "done")), t0, wall),
            "same value: no change"
        );
        let sessions = table.sessions();
        let hosts: Vec<_> = sessions
            .iter()
            .map(|s| (s["session_id"].clone(), s["host"].clone()))
            .collect();
        assert_eq!(
            hosts,
            [
                ("s1".into(), "a".into()),
                ("s1".into(), "b".into()),
                ("s2".into(), "b".into())
            ]
        );
        assert_eq!(table.owners("s2"), ["b"]);
        assert_eq!(table.owners("s1"), ["a", "b"]);
        assert!(table.owners("nope").is_empty());
        // b goes silent, a keeps talking: b is unreachable, its sessions kept and flagged.
        let later = t0 + ttl + Duration::from_secs(1);
        table.apply("_host.a", Update::Put(record("ia")), later, wall);
        assert!(table.tick(later));
        let hosts = table.hosts(later);
        assert_eq!(
            (hosts[0].state.as_str(), hosts[1].state.as_str()),
            ("ok", "unreachable")
        );
        let flagged: Vec<bool> = table
            .sessions()
            .iter()
            .map(|s| s.get("host_unreachable").is_some())
            .collect();
        assert_eq!(flagged, [false, true, true]);
        // b is back: no flag.
        assert!(table.apply("_host.b", Update::Put(record("ib")), later, wall));
        assert!(table.sessions().iter().all(|s| s.get("host_unreachable").is_none()));
        // A delete removes the session.
        assert!(table.apply("b.s2", Update::Delete, later, wall));
        assert_eq!(table.session_count(), 2);
    }

    #[test]
    fn a_change_replaces_only_its_session_and_the_others_are_shared_not_copied() {
        let ttl = Duration::from_secs(15);
        let mut table = Table::new(ttl);
        let (t, wall) = (Instant::now(), SystemTime::now());
        for i in 0..5 {
            table.apply(
                &format!("a.s{i}"),
                Update::Put(session(&format!("s{i}"), "active")),
                t,
                wall,
            );
        }
        let (json, protos) = table.shared();
        assert!(table.apply("a.s2", Update::Put(session("s2", "done")), t, wall));
        let (json2, protos2) = table.shared();
        let shared: Vec<bool> = json.iter().zip(&json2).map(|(a, b)| Arc::ptr_eq(a, b)).collect();
        assert_eq!(shared, [true, true, false, true, true]);
        let shared: Vec<bool> = protos.iter().zip(&protos2).map(|(a, b)| Arc::ptr_eq(a, b)).collect();
        assert_eq!(shared, [true, true, false, true, true]);
        assert_eq!(
            (json2[2]["status"].as_str(), protos2[2].raw_status.as_str()),
            (Some("done"), "done")
        );
        assert_eq!(json[2]["status"], "active", "the previous state keeps its value");
        // The host goes silent: both served shapes say so, and the previous state's do not.
        assert!(table.tick(t + ttl + Duration::from_secs(1)));
        let (json3, protos3) = table.shared();
        assert!(json3.iter().all(|s| s["host_unreachable"] == true));
        assert!(protos3.iter().all(|s| s.host_unreachable));
        assert!(json2.iter().all(|s| s.get("host_unreachable").is_none()));
        assert!(protos2.iter().all(|s| !s.host_unreachable));
    }

    #[test]
    fn freshness_is_the_hubs_receive_time_whatever_the_hosts_clock_says() {
        let ttl = Duration::from_secs(15);
        let mut table = Table::new(ttl);
        let (t, wall) = (Instant::now(), SystemTime::now());
        // A host whose clock is a day behind, one a day ahead: both fresh when their records arrive.
        for (host, skew) in [("behind", -86_400), ("ahead", 86_400)] {
            let record = pb::FleetHostRecord {
                name: host.into(),
                instance_id: host.into(),
                heartbeat_time: Some(prost_types::Timestamp {
                    seconds: 1_800_000_000 + skew,
                    nanos: 0,
                }),
                ..Default::default()
            };
            table.apply(
                &format!("_host.{host}"),
                Update::Put(prost::Message::encode_to_vec(&record).into()),
                t,
                wall,
            );
        }
        assert!(!table.tick(t + ttl));
        assert!(table.hosts(t + ttl).iter().all(|h| h.state == "ok"));
        // And both unreachable once the hub heard nothing for longer than the TTL.
        assert!(table.tick(t + ttl + Duration::from_millis(1)));
        assert!(table
            .hosts(t + ttl + Duration::from_millis(1))
            .iter()
            .all(|h| h.state == "unreachable"));
    }

    #[test]
    fn bad_keys_and_values_are_skipped_and_name_clashes_flagged() {
        let mut table = Table::new(Duration::from_secs(15));
        let (t, wall) = (Instant::now(), SystemTime::now());
        assert!(!table.apply("bad host.s1", Update::Put(session("s1", "x")), t, wall));
        assert!(!table.apply(
            "h.s1",
            Update::Put(bytes::Bytes::from_static(b"\xff\xff not proto")),
            t,
            wall
        ));
        assert!(
            !table.apply("h.s1", Update::Put(session("other", "x")), t, wall),
            "id differs from the key"
        );
        assert_eq!(table.session_count(), 0);
        table.apply("_host.h", Update::Put(record("one")), t, wall);
        table.apply("_host.h", Update::Put(record("two")), t, wall);
        let hosts = table.hosts(t);
        assert!(hosts[0].name_conflict);
        assert_eq!(hosts[0].instance_ids, ["one", "two"]);
    }

    #[test]
    fn a_burst_of_updates_is_held_as_the_newest_value_per_key() {
        let mut table = Table::new(Duration::from_secs(15));
        let (t, wall) = (Instant::now(), SystemTime::now());
        for i in 0..20_000 {
            let id = format!("s{}", i % 200);
            table.apply(&format!("h.{id}"), Update::Put(session(&id, &format!("v{i}"))), t, wall);
        }
        assert_eq!(table.session_count(), 200);
        let last = table
            .sessions()
            .into_iter()
            .find(|s| s["session_id"] == "s199")
            .expect("s199");
        assert_eq!(last["status"], "v19999");
    }
}
