//! `amc.v1.StateService`: GetState and WatchState, both reading the publisher's watch channel.
//!
//! The service semantics (resume, filters, deltas, heartbeats) are here; `codec` writes the messages (sharing the
//! snapshot's encoding) and `routes` dispatches the two methods in place of the generated server.

mod codec;
mod routes;

pub use self::codec::{Outgoing, OutgoingEncoder};
pub use self::routes::StateServer;

use std::{pin::Pin, sync::Arc, time::Duration};

use futures_util::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};

use super::{audit::AuditLog, auth::Caller};
use crate::{
    error::Error,
    notify::NotifyHandle,
    proto as pb,
    publisher::StateHandle,
    wire::{self, Filter, Snapshot},
};

/// The StateService implementation.
#[derive(Debug, Clone)]
pub struct StateServiceImpl {
    state: StateHandle,
    shutdown: CancellationToken,
    heartbeat: Duration,
    notify: Option<NotifyHandle>,
    audit: Option<Arc<AuditLog>>,
    watches: Option<super::watch_slots::WatchSlots>,
}

impl StateServiceImpl {
    /// Creates the service over `state`; WatchState streams end when `shutdown` fires.
    pub fn new(state: StateHandle, shutdown: CancellationToken, heartbeat: Duration) -> Self {
        StateServiceImpl {
            state,
            shutdown,
            heartbeat,
            notify: None,
            audit: None,
            watches: None,
        }
    }

    /// Caps the WatchState/WatchEvents calls per client address with `watches` (shared with SSE).
    #[must_use]
    pub fn with_watch_slots(mut self, watches: super::watch_slots::WatchSlots) -> Self {
        self.watches = Some(watches);
        self
    }

    /// A stream slot for the caller of `request` (none when no cap is set).
    fn watch_slot<T>(&self, request: &Request<T>) -> Result<Option<super::watch_slots::WatchSlot>, Status> {
        match &self.watches {
            None => Ok(None),
            Some(slots) => Ok(Some(slots.take(request.remote_addr().map(|a| a.ip()))?)),
        }
    }

    /// Writes every `Ack` to `audit`.
    #[must_use]
    pub fn with_audit(mut self, audit: Arc<AuditLog>) -> Self {
        self.audit = Some(audit);
        self
    }

    /// Lets `Ack` reach `notify`.
    #[must_use]
    pub fn with_notify(mut self, notify: Option<NotifyHandle>) -> Self {
        self.notify = notify;
        self
    }

    /// Ack: silences the session's notifications until its next attention.
    pub fn ack(&self, request: Request<pb::AckRequest>) -> Result<Response<pb::AckResponse>, Status> {
        let caller = request.extensions().get::<Caller>().cloned().unwrap_or_default();
        let session_id = request.into_inner().session_id;
        let acknowledged = acknowledge(
            &self.state,
            self.notify.as_ref(),
            self.audit.as_deref(),
            &caller,
            &session_id,
        )?;
        Ok(Response::new(pb::AckResponse {
            session_id,
            acknowledged,
        }))
    }

    /// GetUsage: cost and tokens per project and per day, and the rate limits per agent account.
    pub fn get_usage(&self, _request: Request<pb::GetUsageRequest>) -> Result<Response<pb::GetUsageResponse>, Status> {
        let snapshot = self.state.current();
        Ok(Response::new(wire::spend::usage(
            &snapshot.proto_sessions,
            std::time::SystemTime::now(),
        )))
    }

    /// GetState: the latest published state, filtered.
    pub fn get_state(&self, request: Request<pb::GetStateRequest>) -> Result<Response<Outgoing>, Status> {
        if self.shutdown.is_cancelled() {
            return Err(Error::ShuttingDown.into());
        }
        let filter = Filter::from_proto(request.into_inner().filter)?;
        let snapshot = self.state.current();
        Ok(Response::new(if filter.is_empty() {
            Outgoing::State(snapshot)
        } else {
            Outgoing::Get(pb::GetStateResponse {
                state: Some(snapshot.to_proto(&filter)),
            })
        }))
    }

    /// ExplainSession: the decisions behind one session, listed or removed (see `publisher::decision_log`).
    pub fn explain_session(
        &self,
        request: Request<pb::ExplainSessionRequest>,
    ) -> Result<Response<pb::ExplainSessionResponse>, Status> {
        let explanation = self.state.explain(&request.into_inner().session_id)?;
        Ok(Response::new(explanation.to_proto()))
    }

    /// WatchState: a first snapshot (or a heartbeat when the client is current), then one snapshot per change that
    /// its filter lets through, and a heartbeat after each quiet interval.
    pub fn watch_state(&self, request: Request<pb::WatchStateRequest>) -> Result<Response<WatchStream>, Status> {
        if self.shutdown.is_cancelled() {
            return Err(Error::ShuttingDown.into());
        }
        let slot = self.watch_slot(&request)?;
        let request = request.into_inner();
        let filter = Filter::from_proto(request.filter)?;
        let mut rx = self.state.subscribe();
        let shutdown = self.shutdown.clone();
        let heartbeat = self.heartbeat;
        let deltas = request.deltas;
        let stream = async_stream::stream! {
            let _slot = slot;
            let first: Arc<Snapshot> = rx.borrow_and_update().clone();
            let resumed = request.since_revision != 0
                && request.since_revision == first.revision
                && request.instance_id == *first.instance_id;
            // What the client has seen (or an equal view of it), so a change outside its filter sends nothing. The
            // snapshot is shared, not copied: a copy of the sessions per watcher cost ~0.8 MB each at 500 sessions.
            let mut last_sent: Arc<Snapshot> = first.clone();
            // The revision the client's state is as of: that of the stream's last message (or the one it resumed at).
            let mut state_revision = first.revision;
            if resumed {
                yield Ok(heartbeat_message(&first));
            } else {
                yield Ok(snapshot_message(first, &filter));
            }
            let mut quiet = Box::pin(tokio::time::sleep(heartbeat));
            loop {
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => {
                        yield Err(Status::unavailable("server shutting down; reconnect with since_revision"));
                        break;
                    }
                    changed = rx.changed() => {
                        if changed.is_err() {
                            yield Err(Status::unavailable("state publisher stopped"));
                            break;
                        }
                        let snapshot = rx.borrow_and_update().clone();
                        let message = if !filtered_changed(&filter, &last_sent, &snapshot) {
                            None
                        } else if deltas {
                            Some(delta_message(&last_sent, state_revision, snapshot.clone(), &filter))
                        } else {
                            Some(snapshot_message(snapshot.clone(), &filter))
                        };
                        // Equal views are interchangeable: keep the newest, so no old snapshot stays alive.
                        last_sent = snapshot;
                        if let Some(message) = message {
                            state_revision = last_sent.revision;
                            quiet.as_mut().reset(tokio::time::Instant::now() + heartbeat);
                            yield Ok(message);
                        }
                    }
                    () = &mut quiet => {
                        // The newest state this watcher has compared (a newer one, if any, is handled next): nothing
                        // the client asked for changed up to its revision, so the client's state is as of it.
                        state_revision = last_sent.revision;
                        quiet.as_mut().reset(tokio::time::Instant::now() + heartbeat);
                        yield Ok(heartbeat_message(&last_sent));
                    }
                }
            }
        };
        Ok(Response::new(Box::pin(stream)))
    }
}

impl StateServiceImpl {
    /// WatchEvents: the kept events after `since_event_id` (none when it is 0), then each new event, and a heartbeat
    /// after each quiet interval.
    pub fn watch_events(&self, request: Request<pb::WatchEventsRequest>) -> Result<Response<EventStream>, Status> {
        if self.shutdown.is_cancelled() {
            return Err(Error::ShuttingDown.into());
        }
        let slot = self.watch_slot(&request)?;
        let request = request.into_inner();
        let filter = wire::EventFilter::from_proto(request.filter, &request.kinds)?;
        let log = self.state.events().clone();
        let start = match request.since_event_id {
            0 => log.newest_id(),
            since => since,
        };
        let mut cursor = log.cursor(start);
        let shutdown = self.shutdown.clone();
        let heartbeat = self.heartbeat;
        let stream = async_stream::stream! {
            let _slot = slot;
            let mut quiet = Box::pin(tokio::time::sleep(heartbeat));
            loop {
                tokio::select! {
                    biased;
                    () = shutdown.cancelled() => {
                        yield Err(Status::unavailable("server shutting down; reconnect with since_event_id"));
                        break;
                    }
                    batch = cursor.next_batch() => {
                        let Some(batch) = batch else {
                            yield Err(Status::unavailable("state publisher stopped"));
                            break;
                        };
                        for event in batch.iter().filter(|e| filter.matches(e)) {
                            quiet.as_mut().reset(tokio::time::Instant::now() + heartbeat);
                            yield Ok(pb::WatchEventsResponse {
                                newest_event_id: event.id,
                                kind: Some(pb::watch_events_response::Kind::Event(wire::event_to_proto(event))),
                            });
                        }
                    }
                    () = &mut quiet => {
                        quiet.as_mut().reset(tokio::time::Instant::now() + heartbeat);
                        yield Ok(pb::WatchEventsResponse {
                            newest_event_id: log.newest_id(),
                            kind: Some(pb::watch_events_response::Kind::Heartbeat(pb::Heartbeat {
                                server_time: Some(wire::system_time(std::time::SystemTime::now())),
                            })),
                        });
                    }
                }
            }
        };
        Ok(Response::new(Box::pin(stream)))
    }
}

/// Acknowledges `session_id` (a session of the current state) with the notifier; the one implementation behind the
/// gRPC `Ack` and `POST /api/sessions/{id}/ack`. Returns whether the notifier took it (false: notifications off).
/// Like every action, each try goes to the audit log: `acknowledged`, `not_acknowledged` (notifications off), or the
/// refusal.
pub fn acknowledge(
    state: &StateHandle,
    notify: Option<&NotifyHandle>,
    audit: Option<&AuditLog>,
    caller: &Caller,
    session_id: &str,
) -> Result<bool, Error> {
    let result = acknowledge_unaudited(state, notify, session_id);
    if let Some(audit) = audit {
        let entry = caller.audit_entry(session_id, "ack", serde_json::json!({}));
        audit.append(&match &result {
            Ok(true) => entry.done("acknowledged"),
            Ok(false) => entry.done("not_acknowledged"),
            Err(error) => entry.refused(error),
        });
    }
    result
}

fn acknowledge_unaudited(state: &StateHandle, notify: Option<&NotifyHandle>, session_id: &str) -> Result<bool, Error> {
    if session_id.is_empty() {
        return Err(Error::InvalidArgument("session_id is empty".into()));
    }
    let known = state
        .current()
        .proto_sessions
        .iter()
        .any(|s| s.session_id == session_id);
    if !known {
        return Err(Error::NotFound(format!("no session {session_id:?}")));
    }
    Ok(notify.is_some_and(|n| n.ack(session_id)))
}

/// The message stream of one WatchEvents call.
pub type EventStream = Pin<Box<dyn Stream<Item = Result<pb::WatchEventsResponse, Status>> + Send>>;

/// The message stream of one WatchState call.
pub type WatchStream = Pin<Box<dyn Stream<Item = Result<Outgoing, Status>> + Send>>;

fn snapshot_message(snapshot: Arc<Snapshot>, filter: &Filter) -> Outgoing {
    if filter.is_empty() {
        return Outgoing::WatchSnapshot(snapshot);
    }
    Outgoing::Watch(pb::WatchStateResponse {
        revision: snapshot.revision,
        instance_id: snapshot.instance_id.to_string(),
        kind: Some(pb::watch_state_response::Kind::Snapshot(snapshot.to_proto(filter))),
    })
}

/// The change from `before` (a snapshot whose filtered view the client holds, as of `state_revision`) to `after` as
/// a delta. Unfiltered and directly following the client's state: the publisher's shared delta, or the snapshot when
/// the publisher found no delta worth sending (decided once per change, not again by every watcher). Otherwise (a
/// filter, or a watcher that skipped revisions) a delta computed for this watcher, or a snapshot when none fits.
fn delta_message(before: &Snapshot, state_revision: u64, after: Arc<Snapshot>, filter: &Filter) -> Outgoing {
    let follows = state_revision == before.revision && before.revision + 1 == after.revision;
    if filter.is_empty() && follows {
        return if after.encoded_delta.is_some() {
            Outgoing::WatchDelta(after)
        } else {
            snapshot_message(after, filter)
        };
    }
    match wire::state_delta(before, &after, filter) {
        Some(mut delta) => {
            delta.base_revision = state_revision;
            Outgoing::Watch(pb::WatchStateResponse {
                revision: after.revision,
                instance_id: after.instance_id.to_string(),
                kind: Some(pb::watch_state_response::Kind::Delta(delta)),
            })
        }
        None => snapshot_message(after, filter),
    }
}

/// Returns whether `filter`'s view of the sessions differs between two snapshots. Without a filter every published
/// snapshot is a change (the publisher only publishes changes), so nothing is compared.
fn filtered_changed(filter: &Filter, before: &Snapshot, after: &Snapshot) -> bool {
    if filter.is_empty() {
        return before.revision != after.revision;
    }
    let before = before.proto_sessions.iter().filter(|s| filter.matches(s));
    before.ne(after.proto_sessions.iter().filter(|s| filter.matches(s)))
}

fn heartbeat_message(snapshot: &Snapshot) -> Outgoing {
    Outgoing::Watch(pb::WatchStateResponse {
        revision: snapshot.revision,
        instance_id: snapshot.instance_id.to_string(),
        kind: Some(pb::watch_state_response::Kind::Heartbeat(pb::Heartbeat {
            server_time: Some(wire::system_time(std::time::SystemTime::now())),
        })),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::object;

    fn session(id: &str, agent: &str) -> crate::model::SessionJson {
        object(serde_json::json!({"session_id": id, "agent": agent, "status": "active", "custom": {"x": 1}}))
    }

    #[test]
    fn a_filtered_view_changes_only_when_its_sessions_do() {
        let (handle, mut publisher) = StateHandle::fixed(vec![session("a", "claude"), session("b", "codex")]);
        let before = handle.current();
        let mut changed_b = session("b", "codex");
        changed_b.insert("status".into(), "done".into());
        publisher.publish(vec![session("a", "claude"), changed_b]);
        let after = handle.current();
        let only_a = Filter::from_proto(Some(pb::SessionFilter {
            session_ids: vec!["a".into()],
            ..Default::default()
        }))
        .expect("valid filter");
        let only_b = Filter::from_proto(Some(pb::SessionFilter {
            session_ids: vec!["b".into()],
            ..Default::default()
        }))
        .expect("valid filter");
        assert!(!filtered_changed(&only_a, &before, &after));
        assert!(filtered_changed(&only_b, &before, &after));
        assert!(filtered_changed(&Filter::default(), &before, &after));
    }
}
