//! One published state in both shapes: the proto `amc.v1.State` encoded once, the `/api/state` JSON serialized once,
//! and the delta from the previous state, shared by every client; plus the `/api/state` envelope that `amc snapshot`
//! prints too.

use std::{sync::Arc, time::SystemTime};

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
        server_time: chrono::DateTime::<chrono::Utc>::from(server_time)
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, false),
        revision: publication.map(|(revision, _)| revision),
        instance_id: publication.map(|(_, id)| id),
        warming: false,
    }
}

/// Returns `sessions` as one compact JSON array.
fn sessions_json(sessions: &[SessionJson]) -> Box<RawValue> {
    // A list of JSON maps always serializes (a `Value` cannot hold what JSON cannot write).
    serde_json::value::to_raw_value(sessions).unwrap_or_default()
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
    /// The sessions in the original's JSON shape.
    pub sessions: Vec<SessionJson>,
    /// The same sessions as proto messages.
    pub proto_sessions: Vec<pb::Session>,
    /// `sessions` serialized once as a compact JSON array, for `/api/state` and SSE.
    pub sessions_json: Box<RawValue>,
    /// The whole (unfiltered) `amc.v1.State` encoded once as protobuf, shared by every GetState and WatchState
    /// response without a filter (the server only frames it; nothing is copied into a message or encoded per client).
    pub encoded_state: bytes::Bytes,
    /// Whether this is the placeholder published before the first collection pass ended: no sessions, not because
    /// there are none but because none are known yet. The first full state follows as the next revision.
    pub warming: bool,
    /// The change from the previous published snapshot as an encoded `amc.v1.StateDelta`, shared by every
    /// unfiltered watcher that asked for deltas; `None` for the first snapshot, and when a delta cannot express the
    /// change exactly or would not be smaller than the state.
    pub encoded_delta: Option<bytes::Bytes>,
}

/// Returns the change from `before` to `after` (both sorted by session_id, as every snapshot is), restricted to the
/// sessions `filter` lets through; `None` when a session id appears twice in either list, so that a delta keyed by
/// session id could not say which one changed.
pub fn state_delta(before: &Snapshot, after: &Snapshot, filter: &Filter) -> Option<pb::StateDelta> {
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
        snapshot_time: Some(system_time(after.time)),
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
    pub fn next(previous: &Snapshot, revision: u64, sessions: Vec<SessionJson>) -> Self {
        let mut snapshot = Snapshot::new(revision, previous.instance_id.clone(), sessions);
        snapshot.encoded_delta = state_delta(previous, &snapshot, &Filter::default())
            .map(|delta| prost::Message::encode_to_vec(&delta))
            .filter(|delta| delta.len() < snapshot.encoded_state.len())
            .map(bytes::Bytes::from);
        snapshot
    }

    /// Builds a snapshot: the proto state encoded once and the sessions' JSON serialized once.
    pub fn new(revision: u64, instance_id: Arc<str>, sessions: Vec<SessionJson>) -> Self {
        let time = SystemTime::now();
        let state = pb::State {
            revision,
            sessions: sessions.iter().map(session_to_proto).collect(),
            snapshot_time: Some(system_time(time)),
            instance_id: instance_id.to_string(),
        };
        let encoded_state = prost::Message::encode_to_vec(&state).into();
        let sessions_json = sessions_json(&sessions);
        Snapshot {
            revision,
            instance_id,
            time,
            sessions,
            proto_sessions: state.sessions,
            sessions_json,
            encoded_state,
            warming: false,
            encoded_delta: None,
        }
    }

    /// Returns the placeholder a server publishes before its first collection pass ends: a valid, empty state that
    /// says it is warming up.
    pub fn warming(revision: u64, instance_id: Arc<str>) -> Self {
        Snapshot {
            warming: true,
            ..Snapshot::new(revision, instance_id, Vec::new())
        }
    }

    /// Returns the original's `/api/state` payload: `{"sessions":[...],"server_time":"...","revision":N,"instance_id":"..."}`.
    pub fn api_json(&self, server_time: SystemTime) -> String {
        let mut envelope = api_state(
            &*self.sessions_json,
            server_time,
            Some((self.revision, &self.instance_id)),
        );
        envelope.warming = self.warming;
        // Strings, a number and JSON that is already text: serializing cannot fail.
        serde_json::to_string(&envelope).unwrap_or_default()
    }

    /// Returns the proto state, with `filter` applied.
    pub fn to_proto(&self, filter: &Filter) -> pb::State {
        pb::State {
            revision: self.revision,
            sessions: filter.apply(&self.proto_sessions),
            snapshot_time: Some(system_time(self.time)),
            instance_id: self.instance_id.to_string(),
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
