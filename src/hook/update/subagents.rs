//! The `running_subagents` list of a session: SubagentStart adds one, SubagentStop and the end of a turn remove them.

use serde_json::{Map, Value};

use crate::model::{key, str_field};

/// The most sub-agents kept in `running_subagents` (the oldest are dropped first), so a run of SubagentStarts whose
/// SubagentStops never come cannot grow the file without bound.
pub const MAX_RUNNING_SUBAGENTS: usize = 64;

pub(super) fn subagent_id(payload: &Map<String, Value>) -> String {
    str_field(payload, "agent_id").unwrap_or_default().to_owned()
}

/// Takes the `running_subagents` list out of the session (empty when absent or not a list).
pub(super) fn take_subagents(session: &mut Map<String, Value>) -> Vec<Value> {
    match session.shift_remove(key::RUNNING_SUBAGENTS) {
        Some(Value::Array(list)) => list,
        _ => Vec::new(),
    }
}

/// Puts the list back; an empty list removes the key.
pub(super) fn put_subagents(session: &mut Map<String, Value>, list: Vec<Value>) {
    if !list.is_empty() {
        session.insert(key::RUNNING_SUBAGENTS.into(), Value::Array(list));
    }
}

pub(super) fn has_agent_id(entry: &Value, id: &str) -> bool {
    entry.get("agent_id").and_then(Value::as_str) == Some(id)
}

/// SubagentStart: adds `{agent_id, agent_type, since}` unless that id already runs (a duplicated event).
pub(super) fn subagent_started(session: &mut Map<String, Value>, payload: &Map<String, Value>, now: &str) {
    let id = subagent_id(payload);
    let agent_type = str_field(payload, "agent_type").unwrap_or_default();
    let mut list = take_subagents(session);
    if id.is_empty() || !list.iter().any(|a| has_agent_id(a, &id)) {
        list.push(serde_json::json!({"agent_id": id, "agent_type": agent_type, "since": now}));
        let excess = list.len().saturating_sub(MAX_RUNNING_SUBAGENTS);
        list.drain(..excess);
    }
    put_subagents(session, list);
}

/// SubagentStop: removes that id (a stop for an id that is not running, or a duplicate, changes nothing).
pub(super) fn subagent_stopped(session: &mut Map<String, Value>, payload: &Map<String, Value>) {
    let id = subagent_id(payload);
    let mut list = take_subagents(session);
    if let Some(i) = list.iter().position(|a| has_agent_id(a, &id)) {
        list.remove(i);
    }
    put_subagents(session, list);
}

/// Stop / StopFailure end the turn: a sub-agent still listed then stays only while the payload's `background_tasks`
/// names it (Claude Code 2.1.331 runs the Agent tool in the background: `{"id": <agent id>, "type": "subagent",
/// "status": "running"}`); otherwise its SubagentStop was lost, and it is dropped so the count cannot stick.
pub(super) fn end_turn_subagents(session: &mut Map<String, Value>, payload: &Map<String, Value>) {
    let running: Vec<&str> = payload
        .get("background_tasks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|task| task.get("id").and_then(Value::as_str))
        .collect();
    let mut list = take_subagents(session);
    list.retain(|a| {
        a.get("agent_id")
            .and_then(Value::as_str)
            .is_some_and(|id| running.contains(&id))
    });
    put_subagents(session, list);
}
