//! Events in both shapes: the proto `amc.v1.Event` and the JSON of `/api/stream/events` (the event's serde form,
//! [`crate::event::Event`]), and the event side of the request filters.

use std::collections::HashSet;

use crate::{
    error::Error,
    event::{Event, EventKind},
    proto as pb,
};

use super::{agent_from_str, Filter};

/// Returns the proto kind of an event kind.
pub fn kind_to_proto(kind: EventKind) -> pb::EventKind {
    match kind {
        EventKind::AttentionRaised => pb::EventKind::AttentionRaised,
        EventKind::AttentionCleared => pb::EventKind::AttentionCleared,
        EventKind::TurnDone => pb::EventKind::TurnDone,
        EventKind::SessionStarted => pb::EventKind::SessionStarted,
        EventKind::SessionDead => pb::EventKind::SessionDead,
        EventKind::SessionRemoved => pb::EventKind::SessionRemoved,
        EventKind::Compacted => pb::EventKind::Compacted,
        EventKind::ContextThreshold => pb::EventKind::ContextThreshold,
    }
}

/// Returns `event` as a proto `amc.v1.Event`.
pub fn event_to_proto(event: &Event) -> pb::Event {
    pb::Event {
        id: event.id,
        kind: kind_to_proto(event.kind) as i32,
        raw_kind: event.kind.as_str().to_owned(),
        session_id: event.session_id.clone(),
        time: Some(prost_types::Timestamp {
            seconds: event.time_ms.div_euclid(1000),
            nanos: i32::try_from(event.time_ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
        }),
        revision: event.revision,
        agent: agent_from_str(&event.agent) as i32,
        project_dir: event.project_dir.clone(),
        is_dead: event.is_dead,
        attention_kind: event.attention_kind.clone().unwrap_or_default(),
        waited_ms: event.waited_ms,
        threshold_percent: event.threshold.map(u32::from).unwrap_or_default(),
        percent: event.percent.unwrap_or_default(),
        reason: event.reason.clone().unwrap_or_default(),
    }
}

/// Returns `event` as one line of JSON (its `/api/stream/events` `data:`).
pub fn event_json(event: &Event) -> Vec<u8> {
    // An event is plain data: it always serializes.
    serde_json::to_vec(event).unwrap_or_default()
}

/// Which events a watcher wants: a session filter and a set of kinds.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    sessions: Filter,
    kinds: HashSet<EventKind>,
}

impl EventFilter {
    /// Validates a `WatchEventsRequest`'s filter and kinds.
    pub fn from_proto(filter: Option<pb::SessionFilter>, kinds: &[i32]) -> Result<Self, Error> {
        let mut wanted = HashSet::new();
        for kind in kinds {
            let proto = pb::EventKind::try_from(*kind)
                .ok()
                .filter(|k| *k != pb::EventKind::Unspecified)
                .ok_or_else(|| Error::InvalidArgument(format!("unknown event kind {kind}")))?;
            wanted.extend(EventKind::ALL.into_iter().filter(|k| kind_to_proto(*k) == proto));
        }
        Ok(EventFilter {
            sessions: Filter::from_proto(filter)?,
            kinds: wanted,
        })
    }

    /// Builds a filter from the `/api/stream/events` query: comma-separated session ids, agents and kind names.
    pub fn from_query(session_ids: Option<&str>, agents: Option<&str>, kinds: Option<&str>) -> Result<Self, Error> {
        let list = |text: Option<&str>| -> Vec<String> {
            text.map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
        };
        let mut agent_numbers = Vec::new();
        for agent in list(agents) {
            match agent_from_str(&agent) {
                pb::Agent::Unspecified => return Err(Error::InvalidArgument(format!("unknown agent {agent:?}"))),
                known => agent_numbers.push(known as i32),
            }
        }
        let mut wanted = HashSet::new();
        for kind in list(kinds) {
            wanted.insert(
                EventKind::parse(&kind)
                    .ok_or_else(|| Error::InvalidArgument(format!("unknown event kind {kind:?}")))?,
            );
        }
        Ok(EventFilter {
            sessions: Filter::from_proto(Some(pb::SessionFilter {
                session_ids: list(session_ids),
                agents: agent_numbers,
                exclude_dead: false,
                hosts: Vec::new(),
            }))?,
            kinds: wanted,
        })
    }

    /// Returns whether `event` passes.
    pub fn matches(&self, event: &Event) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&event.kind))
            && self
                .sessions
                .matches_parts(&event.session_id, agent_from_str(&event.agent) as i32, event.is_dead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_maps_and_filters_apply() {
        let mut event = Event {
            id: 3,
            revision: 9,
            agent: "codex".into(),
            project_dir: "/p".into(),
            attention_kind: Some("permission".into()),
            ..Event::bare(EventKind::AttentionRaised, "a", 1_500)
        };
        for kind in EventKind::ALL {
            assert_ne!(kind_to_proto(kind), pb::EventKind::Unspecified);
        }
        let proto = event_to_proto(&event);
        assert_eq!(
            proto.time,
            Some(prost_types::Timestamp {
                seconds: 1,
                nanos: 500_000_000
            })
        );
        assert_eq!(proto.agent, pb::Agent::Codex as i32);
        assert_eq!(proto.raw_kind, "attention_raised");
        let only_turns = EventFilter::from_proto(None, &[pb::EventKind::TurnDone as i32]).expect("valid");
        assert!(!only_turns.matches(&event));
        let codex = EventFilter::from_query(None, Some("codex"), Some("attention_raised")).expect("valid");
        assert!(codex.matches(&event));
        event.agent = "claude".into();
        assert!(!codex.matches(&event));
        assert!(EventFilter::from_proto(None, &[0]).is_err());
        assert!(EventFilter::from_query(None, None, Some("nope")).is_err());
    }
}
