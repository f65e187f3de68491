//! One published state in both shapes: the proto `amc.v1.State` encoded once, the `/api/state` JSON serialized once,
//! and the delta from the previous state, shared by every client; plus the `/api/state` envelope that `amc snapshot`
//! prints too.

use std::{borrow::Cow, sync::Arc, time::SystemTime};

use serde::Serialize;
use serde_json::value::RawValue;

use super::{session_to_proto, system_time, Filter};
use crate::{model::SessionJson, proto as pb};

/// The original's `/api/state` payload around the sessions (`amc snapshot` prints it without the publication).
#[derive(Debug, Serialize)]
pub struct ApiState<'a, S: Serialize> {
    /// The sessions: a slice of sessions, or their JSON text already serialized.
    pub sessions: S,
    /// When the payload was built, RFC 3339 with microseconds (the original's `datetime.isoformat()`).
    pub server_time: String,
    /// The published revision (the server only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    /// The server process's id (the server only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<&'a str>,
    /// `true` while the server has not finished its first collection pass (the sessions are then empty, not
    /// known); the key is left out otherwise.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub warming: bool,
    /// A fleet hub's hosts with their freshness (left out on a single-host server).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<serde_json::Value>,
}

/// Returns the `/api/state` envelope of `sessions` at `server_time`; `publication` is the server's revision and
/// instance id, `None` for `amc snapshot`. The one place that builds this payload.
pub fn api_state<'a, S: Serialize>(
    sessions: S,
    server_time: SystemTime,
    publication: Option<(u64, &'a str)>,
) -> ApiState<'a, S> {
    ApiState {
        sessions,
        server_time: rfc3339(server_time),
        revision: publication.map(|(revision, _)| revision),
        instance_id: publication.map(|(_, id)| id),
        warming: false,
        hosts: Vec::new(),
    }
}

/// The length of `snapshot`'s JSON sessions when they are already serialized (else 0).
fn self_json_floor(snapshot: &Snapshot) -> usize {
    snapshot.sessions_json.get().map_or(0, |json| json.get().len())
}

/// Returns `sessions` as one compact JSON array.
fn sessions_json(sessions: &[Arc<SessionJson>]) -> Box<RawValue> {
    let sessions: Vec<&SessionJson> = sessions.iter().map(|s| &**s).collect();
    // A list of JSON maps always serializes (a `Value` cannot hold what JSON cannot write).
    serde_json::value::to_raw_value(&sessions).unwrap_or_default()
}

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
    /// The sessions in the original's JSON shape (an unchanged session is shared with the previous snapshot).
    pub sessions: Vec<Arc<SessionJson>>,
    /// The same sessions as proto messages (shared likewise).
    pub proto_sessions: Vec<Arc<pb::Session>>,
    /// `sessions` serialized once as a compact JSON array, for `/api/state` and SSE, by the first reader
    /// ([`Snapshot::sessions_json`]): a state that only reaches delta watchers is never serialized whole.
    sessions_json: std::sync::OnceLock<Box<RawValue>>,
    /// The whole (unfiltered) `amc.v1.State` encoded once as protobuf, by the first reader
    /// ([`Snapshot::encoded_state`]), and shared by every GetState and WatchState response without a filter (the
    /// server only frames it; nothing is copied into a message or encoded per client).
    encoded_state: std::sync::OnceLock<bytes::Bytes>,
    /// The change from the previous published snapshot as `/api/state` JSON ([`ApiDelta`]), serialized once and shared
    /// by every `/api/stream?deltas=1` client; `None` for the first snapshot, and when a delta cannot express the
    /// change exactly or would not be smaller than the state.
    pub api_delta: Option<bytes::Bytes>,
    /// The `/api/state` payload serialized once, by the first client that sends this state as a change (its
    /// `server_time` is then), and shared by the others.
    shared_api_json: std::sync::OnceLock<bytes::Bytes>,
    /// Whether this is the placeholder published before the first collection pass ended: no sessions, not because
    /// there are none but because none are known yet. The first full state follows as the next revision.
    pub warming: bool,
    /// The change from the previous published snapshot as an encoded `amc.v1.StateDelta`, shared by every
    /// unfiltered watcher that asked for deltas; `None` for the first snapshot, and when a delta cannot express the
    /// change exactly or would not be smaller than the state.
    pub encoded_delta: Option<bytes::Bytes>,
    /// A fleet hub's hosts (empty on a single-host server), in `encoded_state` too.
    pub hosts: Vec<pb::FleetHost>,
}

/// The change between two lists of sessions, as positions: those (in the new list) of the sessions that are new or
/// changed, the pairs (new, old) of the sessions that did not change, the ids of the sessions that left, and the
/// positions (in the old list, ascending) of the sessions that changed or left.
struct Diff<'a> {
    upserted: Vec<usize>,
    kept: Vec<(usize, usize)>,
    removed: Vec<&'a str>,
    replaced: Vec<usize>,
}

/// What changed between two snapshots, as positions: those (in the new one) of the sessions that are new or changed,
/// and those (in the old one, ascending) of the sessions that changed or left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// Positions in the new snapshot's sessions.
    pub upserted: Vec<usize>,
    /// Positions in the old snapshot's sessions.
    pub replaced: Vec<usize>,
}

/// Compares two lists of sessions given as (position, session id), each sorted by session id, with `same(i, j)`
/// telling whether the old session at `i` and the new one at `j` (same id) are equal; `None` when a session id
/// appears twice in either list (or a list is not sorted), so that a change keyed by session id could not say which
/// one changed. The one walk behind the proto and the JSON deltas.
fn diff<'a>(old: &[(usize, &'a str)], new: &[(usize, &str)], same: impl Fn(usize, usize) -> bool) -> Option<Diff<'a>> {
    let sorted = |list: &[(usize, &str)]| list.windows(2).all(|w| w[0].1 < w[1].1);
    if !sorted(old) || !sorted(new) {
        return None;
    }
    let mut diff = Diff {
        upserted: Vec::new(),
        kept: Vec::new(),
        removed: Vec::new(),
        replaced: Vec::new(),
    };
    let (mut a, mut b) = (0, 0);
    while a < old.len() || b < new.len() {
        match (old.get(a), new.get(b)) {
            (Some(&(i, old_id)), Some(&(j, new_id))) if old_id == new_id => {
                if same(i, j) {
                    diff.kept.push((j, i));
                } else {
                    diff.upserted.push(j);
                    diff.replaced.push(i);
                }
                a += 1;
                b += 1;
            }
            (Some(&(i, old_id)), Some(&(_, new_id))) if old_id < new_id => {
                diff.removed.push(old_id);
                diff.replaced.push(i);
                a += 1;
            }
            (Some(&(i, old_id)), None) => {
                diff.removed.push(old_id);
                diff.replaced.push(i);
                a += 1;
            }
            (_, Some(&(j, _))) => {
                diff.upserted.push(j);
                b += 1;
            }
            (None, None) => break,
        }
    }
    Some(diff)
}

/// The (position, session id) of the sessions of `snapshot` that `filter` lets through.
fn listed<'a>(snapshot: &'a Snapshot, filter: &Filter) -> Vec<(usize, &'a str)> {
    snapshot
        .proto_sessions
        .iter()
        .enumerate()
        .filter(|(_, s)| filter.matches(s))
        .map(|(i, s)| (i, s.session_id.as_str()))
        .collect()
}

/// Returns the change from `before` to `after` (both sorted by session_id, as every snapshot is), restricted to the
/// sessions `filter` lets through; `None` when a session id appears twice in either list, so that a delta keyed by
/// session id could not say which one changed.
pub fn state_delta(before: &Snapshot, after: &Snapshot, filter: &Filter) -> Option<pb::StateDelta> {
    let diff = diff(&listed(before, filter), &listed(after, filter), |i, j| {
        before.proto_sessions[i] == after.proto_sessions[j]
    })?;
    Some(proto_delta(before, after, &diff))
}

/// The proto delta of `diff` (from `before` to `after`).
fn proto_delta(before: &Snapshot, after: &Snapshot, diff: &Diff<'_>) -> pb::StateDelta {
    pb::StateDelta {
        base_revision: before.revision,
        upserted_sessions: diff
            .upserted
            .iter()
            .map(|&j| (*after.proto_sessions[j]).clone())
            .collect(),
        removed_session_ids: diff.removed.iter().map(|id| id.to_string()).collect(),
        snapshot_time: Some(system_time(after.time)),
    }
}

/// One change of the `/api/state` JSON, as `/api/stream?deltas=1` sends it (`event: delta`): replace or add every
/// session of `upserted` (matched by `session_id`), drop every session whose id is in `removed`, keep the list sorted
/// by `session_id`; the result is the `sessions` of `/api/state` at `revision`. Applies only to the state at
/// `base_revision` of the same `instance_id`.
#[derive(Debug, Serialize)]
pub struct ApiDelta<'a> {
    /// The revision of the state this delta applies to.
    pub base_revision: u64,
    /// The revision it brings the client to.
    pub revision: u64,
    /// The server process's id.
    pub instance_id: &'a str,
    /// When the new state was published, RFC 3339 with microseconds.
    pub server_time: String,
    /// The sessions that are new or changed, whole, in the `/api/state` shape, sorted by `session_id`.
    pub upserted: Vec<&'a SessionJson>,
    /// The `session_id` of every session that left.
    pub removed: Vec<&'a str>,
}

/// Returns the `/api/state` JSON delta of `diff` (from `before` to `after`), compact JSON on one line.
fn api_delta_json(before: &Snapshot, after: &Snapshot, diff: &Diff<'_>) -> String {
    let delta = ApiDelta {
        base_revision: before.revision,
        revision: after.revision,
        instance_id: &after.instance_id,
        server_time: rfc3339(after.time),
        upserted: diff.upserted.iter().map(|&j| &*after.sessions[j]).collect(),
        removed: diff.removed.clone(),
    };
    // Maps of JSON values, strings and numbers: serializing cannot fail.
    serde_json::to_string(&delta).unwrap_or_default()
}

/// `time` as the original's `server_time`: RFC 3339 with microseconds (`datetime.isoformat()`).
fn rfc3339(time: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time).to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
}

impl Snapshot {
    /// Builds the snapshot that follows `previous`, with the shared deltas from it, computed once here (not per
    /// watcher) from one comparison of the sessions: a session whose JSON did not change keeps its proto form (shared,
    /// not converted again), and the changed ones make both the proto and the JSON delta. A session that is the very
    /// one of `previous` (the same `Arc`, as a collector hands on an unchanged session) is unchanged without comparing
    /// it; the snapshot keeps the `Arc`s it is given, so the next one can tell the same way.
    pub fn next<S: Into<Arc<SessionJson>>>(previous: &Snapshot, revision: u64, sessions: Vec<S>) -> Self {
        let sessions: Vec<Arc<SessionJson>> = sessions.into_iter().map(Into::into).collect();
        let diff = {
            let ids: Vec<Cow<'_, str>> = sessions
                .iter()
                .map(|s| match s.get("session_id") {
                    Some(serde_json::Value::String(id)) => Cow::Borrowed(id.as_str()),
                    _ => Cow::Owned(super::text(s, "session_id")),
                })
                .collect();
            let new: Vec<(usize, &str)> = ids.iter().map(|id| &**id).enumerate().collect();
            diff(&listed(previous, &Filter::default()), &new, |i, j| {
                Arc::ptr_eq(&previous.sessions[i], &sessions[j]) || previous.sessions[i] == sessions[j]
            })
        };
        let mut reused: Vec<Option<usize>> = vec![None; sessions.len()];
        for &(j, i) in diff.iter().flat_map(|d| &d.kept) {
            reused[j] = Some(i);
        }
        let proto_sessions = sessions
            .iter()
            .zip(&reused)
            .map(|(session, reused)| match reused {
                Some(i) => previous.proto_sessions[*i].clone(),
                None => Arc::new(session_to_proto(session)),
            })
            .collect();
        let snapshot = Snapshot::build(
            revision,
            previous.instance_id.clone(),
            sessions,
            proto_sessions,
            Vec::new(),
        );
        snapshot.with_deltas(previous, diff.as_ref())
    }

    /// [`Snapshot::next`] for a fleet hub: its sessions already in both shapes (`sessions[i]` is `protos[i]` as
    /// JSON), with its `hosts`. A session that is the very one of `previous` (the same `Arc`) is unchanged without
    /// comparing it, so a change costs what changed, not the whole state. Also returns what changed (`None` when a
    /// session id appears twice in either state: no change keyed by id can say which).
    pub fn next_shared(
        previous: &Snapshot,
        revision: u64,
        sessions: Vec<Arc<SessionJson>>,
        protos: Vec<Arc<pb::Session>>,
        hosts: Vec<pb::FleetHost>,
    ) -> (Self, Option<Changes>) {
        let snapshot = Snapshot::build(revision, previous.instance_id.clone(), sessions, protos, hosts);
        let diff = {
            let new = listed(&snapshot, &Filter::default());
            diff(&listed(previous, &Filter::default()), &new, |i, j| {
                Arc::ptr_eq(&previous.sessions[i], &snapshot.sessions[j])
                    || previous.sessions[i] == snapshot.sessions[j]
            })
        };
        let changes = diff.as_ref().map(|d| Changes {
            upserted: d.upserted.clone(),
            replaced: d.replaced.clone(),
        });
        (snapshot.with_deltas(previous, diff.as_ref()), changes)
    }

    /// Sets the shared deltas from `previous` (none without a `diff`).
    fn with_deltas(mut self, previous: &Snapshot, diff: Option<&Diff<'_>>) -> Self {
        if let Some(diff) = diff {
            // Measured against the state's size without building it (and only as far as needed: a small delta is
            // below the first few sessions): most states only ever reach delta watchers.
            let delta = prost::Message::encode_to_vec(&proto_delta(previous, &self, diff));
            self.encoded_delta = self.state_longer_than(delta.len()).then(|| delta.into());
            // The JSON state is larger than the protobuf one: a JSON delta below the latter is below the former.
            let delta = api_delta_json(previous, &self, diff);
            let smaller = delta.len() < self_json_floor(&self) || self.state_longer_than(delta.len());
            self.api_delta = smaller.then(|| delta.into());
        }
        self
    }

    /// Builds a snapshot: the proto state encoded once and the sessions' JSON serialized once.
    pub fn new<S: Into<Arc<SessionJson>>>(revision: u64, instance_id: Arc<str>, sessions: Vec<S>) -> Self {
        let sessions: Vec<Arc<SessionJson>> = sessions.into_iter().map(Into::into).collect();
        let proto_sessions = sessions.iter().map(|s| Arc::new(session_to_proto(s))).collect();
        Snapshot::build(revision, instance_id, sessions, proto_sessions, Vec::new())
    }

    /// Builds a snapshot of `sessions`, whose proto forms are `proto_sessions`.
    fn build(
        revision: u64,
        instance_id: Arc<str>,
        sessions: Vec<Arc<SessionJson>>,
        proto_sessions: Vec<Arc<pb::Session>>,
        hosts: Vec<pb::FleetHost>,
    ) -> Self {
        Snapshot {
            revision,
            instance_id,
            time: SystemTime::now(),
            sessions,
            proto_sessions,
            hosts,
            sessions_json: std::sync::OnceLock::new(),
            encoded_state: std::sync::OnceLock::new(),
            warming: false,
            encoded_delta: None,
            api_delta: None,
            shared_api_json: std::sync::OnceLock::new(),
        }
    }

    /// The whole (unfiltered) `amc.v1.State` as protobuf, encoded at the first call and shared afterwards.
    ///
    /// The bytes prost writes for the whole message, written in field order without copying the sessions into a
    /// `pb::State` first: `revision` (1), each shared session (2), then the other fields (3, 4, 60, 80).
    pub fn encoded_state(&self) -> &bytes::Bytes {
        self.encoded_state.get_or_init(|| {
            use prost::Message as _;
            let head = pb::State {
                revision: self.revision,
                ..Default::default()
            };
            let tail = pb::State {
                rate_limits: super::spend::account_rate_limits(&self.proto_sessions),
                snapshot_time: Some(system_time(self.time)),
                instance_id: self.instance_id.to_string(),
                hosts: self.hosts.clone(),
                ..Default::default()
            };
            let sessions: usize = self
                .proto_sessions
                .iter()
                .map(|s| prost::encoding::message::encoded_len(2, &**s))
                .sum();
            let mut buf = Vec::with_capacity(head.encoded_len() + sessions + tail.encoded_len());
            head.encode_raw(&mut buf);
            for session in &self.proto_sessions {
                prost::encoding::message::encode(2, &**session, &mut buf);
            }
            tail.encode_raw(&mut buf);
            buf.into()
        })
    }

    /// The sessions as one compact JSON array, serialized at the first call and shared afterwards.
    pub fn sessions_json(&self) -> &RawValue {
        self.sessions_json.get_or_init(|| sessions_json(&self.sessions))
    }

    /// Whether this snapshot's sessions are `sessions` (equal, in the same order; the same `Arc` is equal without
    /// being compared).
    pub fn has_sessions(&self, sessions: &[Arc<SessionJson>]) -> bool {
        self.sessions.len() == sessions.len()
            && self
                .sessions
                .iter()
                .zip(sessions)
                .all(|(a, b)| Arc::ptr_eq(a, b) || a == b)
    }

    /// Whether the size of [`Snapshot::encoded_state`] (the sessions' encoded sizes, summed, when it is not encoded
    /// yet) exceeds `len`; summed only until it does.
    fn state_longer_than(&self, len: usize) -> bool {
        if let Some(encoded) = self.encoded_state.get() {
            return encoded.len() > len;
        }
        let mut sum = 0;
        for s in &self.proto_sessions {
            let one = prost::Message::encoded_len(&**s);
            sum += one + prost::encoding::encoded_len_varint(one as u64) + 1;
            if sum > len {
                return true;
            }
        }
        false
    }

    /// Returns the placeholder a server publishes before its first collection pass ends: a valid, empty state that
    /// says it is warming up.
    pub fn warming(revision: u64, instance_id: Arc<str>) -> Self {
        Snapshot {
            warming: true,
            ..Snapshot::new(revision, instance_id, Vec::<SessionJson>::new())
        }
    }

    /// Returns the original's `/api/state` payload: `{"sessions":[...],"server_time":"...","revision":N,"instance_id":"..."}`.
    pub fn api_json(&self, server_time: SystemTime) -> String {
        let mut envelope = api_state(
            self.sessions_json(),
            server_time,
            Some((self.revision, &self.instance_id)),
        );
        envelope.warming = self.warming;
        envelope.hosts = self.hosts.iter().map(super::fleet::fleet_host_json).collect();
        // Strings, a number and JSON that is already text: serializing cannot fail.
        serde_json::to_string(&envelope).unwrap_or_default()
    }

    /// Returns [`Self::api_json`] built once, at the first call, and shared by every later caller (the SSE frames
    /// that announce this state as a change all go out at about that time).
    pub fn shared_api_json(&self) -> bytes::Bytes {
        self.shared_api_json
            .get_or_init(|| self.api_json(SystemTime::now()).into())
            .clone()
    }

    /// Returns the proto state, with `filter` applied.
    pub fn to_proto(&self, filter: &Filter) -> pb::State {
        let sessions = filter.apply(&self.proto_sessions);
        pb::State {
            revision: self.revision,
            rate_limits: super::spend::account_rate_limits(&sessions),
            sessions,
            snapshot_time: Some(system_time(self.time)),
            instance_id: self.instance_id.to_string(),
            hosts: self.hosts.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::session;

    fn snapshot(revision: u64, sessions: Vec<SessionJson>) -> Snapshot {
        Snapshot::new(revision, Arc::from("instance"), sessions)
    }

    fn ids(sessions: &[pb::Session]) -> Vec<&str> {
        sessions.iter().map(|s| s.session_id.as_str()).collect()
    }

    #[test]
    fn the_shared_state_encoding_is_the_bytes_prost_writes_for_the_whole_state() {
        use prost::Message as _;
        let mut snap = snapshot(
            9,
            vec![
                session("a", "active", "claude"),
                session("b", "waiting", "codex"),
                session("c", "done", "claude"),
            ],
        );
        snap.hosts = vec![pb::FleetHost {
            name: "h1".into(),
            state: "ok".into(),
            ..Default::default()
        }];
        let whole = snap.to_proto(&Filter::default());
        assert_eq!(whole.sessions.len(), 3);
        assert_eq!(snap.encoded_state().as_ref(), whole.encode_to_vec().as_slice());
        // Also with nothing but defaults around the sessions (revision 0, no hosts) and with no sessions at all.
        let empty = snapshot(0, Vec::new());
        assert_eq!(
            empty.encoded_state().as_ref(),
            empty.to_proto(&Filter::default()).encode_to_vec().as_slice()
        );
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
        let delta = state_delta(&before, &after, &Filter::default()).expect("unique ids");
        assert_eq!(delta.base_revision, 7);
        assert_eq!(ids(&delta.upserted_sessions), ["b", "d"], "a is unchanged");
        assert_eq!(delta.upserted_sessions[0].raw_status, "done");
        assert_eq!(delta.removed_session_ids, ["c"]);

        // Under a filter only what the filter lets through counts.
        let codex = Filter::from_proto(Some(pb::SessionFilter {
            agents: vec![pb::Agent::Codex as i32],
            ..Default::default()
        }))
        .expect("valid filter");
        let delta = state_delta(&before, &after, &codex).expect("unique ids");
        assert_eq!(ids(&delta.upserted_sessions), ["b"]);
        assert!(delta.removed_session_ids.is_empty());

        // Nothing changed: an empty delta.
        let same = state_delta(&before, &before, &Filter::default()).expect("unique ids");
        assert!(same.upserted_sessions.is_empty() && same.removed_session_ids.is_empty());
    }

    #[test]
    fn the_warming_placeholder_is_an_empty_valid_state_that_says_so() {
        let warming = Snapshot::warming(5, Arc::from("instance"));
        let json: serde_json::Value = serde_json::from_str(&warming.api_json(SystemTime::now())).expect("JSON");
        assert_eq!(json["sessions"], serde_json::json!([]));
        assert_eq!(
            (json["revision"].clone(), json["warming"].clone()),
            (5.into(), true.into())
        );
        let state = <pb::State as prost::Message>::decode(warming.encoded_state().clone()).expect("decodes");
        assert_eq!((state.revision, state.sessions.len()), (5, 0));
        // The first full state follows it; its JSON has no `warming` key, and its delta adds every session.
        let full = Snapshot::next(&warming, 6, vec![session("a", "active", "claude")]);
        let json: serde_json::Value = serde_json::from_str(&full.api_json(SystemTime::now())).expect("JSON");
        assert!(json.get("warming").is_none(), "{json}");
        let delta = state_delta(&warming, &full, &Filter::default()).expect("unique ids");
        assert_eq!((delta.base_revision, ids(&delta.upserted_sessions)), (5, vec!["a"]));
    }

    #[test]
    fn a_session_id_listed_twice_gets_no_delta() {
        let twice = snapshot(
            2,
            vec![session("a", "active", "claude"), session("a", "done", "claude")],
        );
        let once = snapshot(3, vec![session("a", "active", "claude")]);
        assert!(state_delta(&twice, &once, &Filter::default()).is_none());
        assert!(state_delta(&once, &twice, &Filter::default()).is_none());
    }
}
