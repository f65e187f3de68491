//! Session JSON (the original's shape, as the collector builds it) → proto `amc.v1.Session`, the server-side
//! filters, the published [`Snapshot`] in both shapes, a session's [`Explanation`] in both shapes, events, and
//! actions ([`Action`], [`ActionResult`]) in both shapes. The only module that knows both shapes.

pub mod action;
pub mod event;
pub mod explain;
pub mod fleet;
pub mod snapshot;
pub mod spend;

pub use action::{Action, ActionResult, Decision};
pub use event::{event_json, event_to_proto, EventFilter};
pub use explain::{ExplainedDecision, Explanation};
pub use snapshot::{api_state, state_delta, ApiDelta, ApiState, Changes, Snapshot};

use std::{collections::HashSet, time::SystemTime};

use serde_json::{Map, Value};

use crate::{error::Error, model::SessionJson, proto as pb};

/// Session-file and computed keys that have a typed proto field; every other key goes to `extra_json`.
const TYPED_KEYS: &[&str] = &[
    "session_id",
    "status",
    "agent",
    "project_dir",
    "cwd",
    "transcript_path",
    "zellij_session",
    "zellij_pane",
    "last_event",
    "last_event_at",
    "started_at",
    "pending_questions",
    "last_message_preview",
    "spawn_id",
    "context_usage",
    "context_window_inferred",
    "conversation_mtime_ns",
    "turn_start_tokens",
    "is_dead",
    "liveness_reason",
    "model",
    "permission_mode",
    "attention",
    "running_subagents",
    "status_reason",
    "remote_approval",
    "cost",
    "rate_limits",
    "burn_rate",
    "compaction_forecast",
    "context_history",
    "host",
    "host_unreachable",
];

/// Returns the proto status for a session file's status string.
pub fn status_from_str(status: &str) -> pb::SessionStatus {
    match status {
        "starting" => pb::SessionStatus::Starting,
        "active" => pb::SessionStatus::Active,
        "needs_attention" => pb::SessionStatus::NeedsAttention,
        "done" => pb::SessionStatus::Done,
        _ => pb::SessionStatus::Unspecified,
    }
}

/// Returns the proto agent for a session file's agent string.
pub fn agent_from_str(agent: &str) -> pb::Agent {
    match agent {
        "claude" => pb::Agent::Claude,
        "codex" => pb::Agent::Codex,
        _ => pb::Agent::Unspecified,
    }
}

/// Converts one session (session-file keys plus computed keys) to its proto form. Never fails: a key of the wrong
/// type is left at its default and kept verbatim in `extra_json`.
pub fn session_to_proto(session: &SessionJson) -> pb::Session {
    let mut extra = Map::new();
    for (key, value) in session {
        if !TYPED_KEYS.contains(&key.as_str()) {
            extra.insert(key.clone(), value.clone());
        }
    }
    let raw_status = text(session, "status");
    let raw_agent = text(session, "agent");
    pb::Session {
        session_id: text(session, "session_id"),
        status: status_from_str(&raw_status) as i32,
        raw_status,
        agent: agent_from_str(&raw_agent) as i32,
        raw_agent,
        project_dir: text(session, "project_dir"),
        cwd: text(session, "cwd"),
        transcript_path: text(session, "transcript_path"),
        zellij_session: text(session, "zellij_session"),
        zellij_pane: text(session, "zellij_pane"),
        last_event: text(session, "last_event"),
        last_event_time: session.get("last_event_at").and_then(timestamp),
        start_time: session.get("started_at").and_then(timestamp),
        pending_questions: session.get("pending_questions").map(questions).unwrap_or_default(),
        last_message_preview: text(session, "last_message_preview"),
        spawn_id: text(session, "spawn_id"),
        context_usage: session.get("context_usage").and_then(|v| context_usage(v, session)),
        conversation_mtime_ns: session.get("conversation_mtime_ns").and_then(integer),
        turn_start_tokens: session.get("turn_start_tokens").and_then(integer),
        is_dead: session.get("is_dead").and_then(Value::as_bool).unwrap_or(false),
        model: text(session, "model"),
        permission_mode: text(session, "permission_mode"),
        extra_json: if extra.is_empty() {
            String::new()
        } else {
            Value::Object(extra).to_string()
        },
        liveness_reason: text(session, "liveness_reason"),
        attention: session.get("attention").and_then(attention),
        running_subagents: session
            .get("running_subagents")
            .and_then(Value::as_array)
            .map_or(0, |list| i32::try_from(list.len()).unwrap_or(i32::MAX)),
        status_reason: text(session, "status_reason"),
        remote_approval: session.get("remote_approval").and_then(Value::as_bool).unwrap_or(false),
        cost: session.get("cost").and_then(spend::cost),
        rate_limits: session.get("rate_limits").map(spend::rate_limits).unwrap_or_default(),
        burn_rate: session.get("burn_rate").and_then(spend::burn_rate),
        compaction_forecast: session.get("compaction_forecast").and_then(spend::forecast),
        context_history: session.get("context_history").map(spend::history).unwrap_or_default(),
        host: text(session, "host"),
        host_unreachable: session
            .get("host_unreachable")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

/// The session file's `attention` object as proto; `None` when it is not an object (nothing held).
fn attention(value: &Value) -> Option<pb::Attention> {
    let a = value.as_object()?;
    let field = |k: &str| a.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let raw_kind = field("kind");
    let kind = match raw_kind.as_str() {
        "permission" => pb::AttentionKind::Permission,
        "question" => pb::AttentionKind::Question,
        "elicitation" => pb::AttentionKind::Elicitation,
        _ => pb::AttentionKind::Unspecified,
    };
    Some(pb::Attention {
        kind: kind as i32,
        raw_kind,
        since_time: a.get("since").and_then(timestamp),
        event: field("event"),
        tool_name: field("tool_name"),
        tool_input_summary: field("tool_input_summary"),
        tool_use_id: field("tool_use_id"),
        message: field("message"),
        notification_type: field("notification_type"),
        request_id: field("request_id"),
    })
}

/// Returns the string form of `key`: strings as they are, numbers and booleans printed, anything else empty.
fn text(session: &SessionJson, key: &str) -> String {
    match session.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

pub(crate) fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.is_finite()).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Parses an RFC 3339 string, or a number of seconds (or milliseconds, when too large for seconds) since the epoch.
pub(crate) fn timestamp(value: &Value) -> Option<prost_types::Timestamp> {
    match value {
        Value::String(s) => {
            let t = chrono::DateTime::parse_from_rfc3339(s.trim()).ok()?;
            Some(prost_types::Timestamp {
                seconds: t.timestamp(),
                nanos: t.timestamp_subsec_nanos() as i32,
            })
        }
        Value::Number(n) => {
            let f = n.as_f64().filter(|f| f.is_finite() && *f >= 0.0)?;
            let secs = if f > 1e11 { f / 1000.0 } else { f };
            Some(prost_types::Timestamp {
                seconds: secs.trunc() as i64,
                nanos: (secs.fract() * 1e9) as i32,
            })
        }
        _ => None,
    }
}

/// Returns `time` as a proto timestamp.
pub fn system_time(time: SystemTime) -> prost_types::Timestamp {
    prost_types::Timestamp::from(time)
}

fn questions(value: &Value) -> Vec<pb::PendingQuestion> {
    let Some(items) = value.as_array() else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(Value::as_object)
        .map(|q| {
            let field = |k: &str| q.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            let options = q
                .get("options")
                .and_then(Value::as_array)
                .map(|opts| {
                    opts.iter()
                        .map(|o| match o {
                            Value::String(label) => pb::QuestionOption {
                                label: label.clone(),
                                description: String::new(),
                            },
                            other => pb::QuestionOption {
                                label: other
                                    .get("label")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                                description: other
                                    .get("description")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default()
                                    .to_owned(),
                            },
                        })
                        .collect()
                })
                .unwrap_or_default();
            pb::PendingQuestion {
                question: field("question"),
                header: field("header"),
                options,
                multi_select: q
                    .get("multiSelect")
                    .or_else(|| q.get("multi_select"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            }
        })
        .collect()
}

fn context_usage(value: &Value, session: &SessionJson) -> Option<pb::ContextUsage> {
    let usage = value.as_object()?;
    let int = |k: &str| usage.get(k).and_then(integer).unwrap_or(0);
    Some(pb::ContextUsage {
        current_tokens: usage.get("current_tokens").and_then(integer),
        window_tokens: int("window_tokens"),
        percent: usage.get("percent").and_then(Value::as_f64).unwrap_or(0.0),
        model: usage
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        input_tokens: int("input_tokens"),
        output_tokens: int("output_tokens"),
        cache_read_tokens: int("cache_read_tokens"),
        cache_creation_tokens: int("cache_creation_tokens"),
        compacted: usage.get("compacted").and_then(Value::as_bool).unwrap_or(false),
        update_time: usage.get("updated_at").and_then(timestamp),
        window_inferred: session
            .get("context_window_inferred")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        window_source: usage
            .get("window_source")
            .and_then(Value::as_str)
            .map_or(pb::WindowSource::Unspecified, window_source) as i32,
    })
}

/// Returns the proto window source for the JSON's `window_source` string.
fn window_source(name: &str) -> pb::WindowSource {
    use crate::transcript::WindowSource as W;
    match W::from_name(name) {
        Some(W::Override) => pb::WindowSource::Override,
        Some(W::ModelSetting) => pb::WindowSource::ModelSetting,
        Some(W::NativeModel) => pb::WindowSource::NativeModel,
        Some(W::ObservedOver200k) => pb::WindowSource::ObservedOver200k,
        Some(W::AgentReported) => pb::WindowSource::AgentReported,
        Some(W::Default) => pb::WindowSource::Default,
        Some(W::Statusline) => pb::WindowSource::Statusline,
        None => pb::WindowSource::Unspecified,
    }
}

/// A validated server-side filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    session_ids: HashSet<String>,
    agents: HashSet<i32>,
    exclude_dead: bool,
    hosts: HashSet<String>,
}

impl Filter {
    /// Validates a request's filter (unknown agent numbers are rejected).
    pub fn from_proto(filter: Option<pb::SessionFilter>) -> Result<Self, Error> {
        let Some(filter) = filter else {
            return Ok(Filter::default());
        };
        for agent in &filter.agents {
            if pb::Agent::try_from(*agent).is_err() {
                return Err(Error::InvalidArgument(format!("unknown agent {agent} in filter")));
            }
        }
        Ok(Filter {
            session_ids: filter.session_ids.into_iter().collect(),
            agents: filter.agents.into_iter().collect(),
            exclude_dead: filter.exclude_dead,
            hosts: filter.hosts.into_iter().collect(),
        })
    }

    /// Returns whether the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self.session_ids.is_empty() && self.agents.is_empty() && !self.exclude_dead && self.hosts.is_empty()
    }

    /// Returns a filter of the sessions of `hosts` (empty: all), for `?host=` on the HTTP routes.
    #[must_use]
    pub fn with_hosts(mut self, hosts: impl IntoIterator<Item = String>) -> Self {
        self.hosts.extend(hosts);
        self
    }

    /// Returns whether `session` passes the filter.
    pub fn matches(&self, session: &pb::Session) -> bool {
        self.matches_parts(&session.session_id, session.agent, session.is_dead)
            && (self.hosts.is_empty() || self.hosts.contains(&session.host))
    }

    /// Returns whether a session with this id, proto agent number and deadness passes the filter.
    pub fn matches_parts(&self, session_id: &str, agent: i32, is_dead: bool) -> bool {
        (self.session_ids.is_empty() || self.session_ids.contains(session_id))
            && (self.agents.is_empty() || self.agents.contains(&agent))
            && !(self.exclude_dead && is_dead)
    }

    /// Returns the sessions that pass the filter.
    pub fn apply<S: std::borrow::Borrow<pb::Session>>(&self, sessions: &[S]) -> Vec<pb::Session> {
        sessions
            .iter()
            .map(S::borrow)
            .filter(|s| self.is_empty() || self.matches(s))
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::object as session;
    use serde_json::json;

    #[test]
    fn window_source_maps_every_name() {
        for (name, want) in [
            ("override", pb::WindowSource::Override),
            ("model_setting", pb::WindowSource::ModelSetting),
            ("native_model", pb::WindowSource::NativeModel),
            ("observed_over_200k", pb::WindowSource::ObservedOver200k),
            ("agent_reported", pb::WindowSource::AgentReported),
            ("default", pb::WindowSource::Default),
            ("something newer", pb::WindowSource::Unspecified),
        ] {
            let s = session(json!({"context_usage": {"window_tokens": 1, "window_source": name}}));
            let usage = session_to_proto(&s).context_usage.expect("usage");
            assert_eq!(usage.window_source, want as i32, "{name}");
        }
    }

    #[test]
    fn typed_keys_are_typed_and_unknown_keys_go_to_extra_json() {
        let s = session(json!({
            "session_id": "s1", "status": "needs_attention", "agent": "claude", "zellij_pane": 3,
            "last_event_at": "2026-01-02T03:04:05.5Z", "turn_start_tokens": 1200, "is_dead": true,
            "pending_questions": [{"question": "Which?", "header": "Pick", "options": [{"label": "A", "description": "first"}], "multiSelect": true}],
            "context_usage": {"current_tokens": null, "window_tokens": 200000, "percent": 0.0, "compacted": true},
            "custom_key": {"nested": [1, 2]}, "another": "x"
        }));
        let p = session_to_proto(&s);
        assert_eq!(p.session_id, "s1");
        assert_eq!(p.status, pb::SessionStatus::NeedsAttention as i32);
        assert_eq!(p.raw_status, "needs_attention");
        assert_eq!(p.agent, pb::Agent::Claude as i32);
        assert_eq!(p.zellij_pane, "3");
        assert_eq!(
            p.last_event_time,
            Some(prost_types::Timestamp {
                seconds: 1_767_323_045,
                nanos: 500_000_000
            })
        );
        assert_eq!(p.turn_start_tokens, Some(1200));
        assert!(p.is_dead);
        assert_eq!(p.pending_questions[0].options[0].description, "first");
        assert!(p.pending_questions[0].multi_select);
        let usage = p.context_usage.expect("context usage");
        assert_eq!(usage.current_tokens, None);
        assert!(usage.compacted);
        let extra: Value = serde_json::from_str(&p.extra_json).expect("extra_json is JSON");
        assert_eq!(extra, json!({"custom_key": {"nested": [1, 2]}, "another": "x"}));
    }

    #[test]
    fn attention_sub_agents_and_status_reason_are_typed() {
        let s = session(json!({
            "session_id": "s1", "status": "needs_attention",
            "attention": {"kind": "permission", "since": "2026-01-02T03:04:05Z", "event": "PermissionRequest",
                          "tool_name": "Bash", "tool_input_summary": "touch /tmp/x"},
            "running_subagents": [{"agent_id": "a1"}, {"agent_id": "a2"}],
            "status_reason": "the turn ended on an API error (unknown)",
            "remote_approval": true
        }));
        let p = session_to_proto(&s);
        assert!(p.remote_approval);
        let a = p.attention.expect("attention");
        assert_eq!(a.kind, pb::AttentionKind::Permission as i32);
        assert_eq!(
            (a.raw_kind.as_str(), a.event.as_str()),
            ("permission", "PermissionRequest")
        );
        assert_eq!(
            (a.tool_name.as_str(), a.tool_input_summary.as_str()),
            ("Bash", "touch /tmp/x")
        );
        assert_eq!(a.since_time.map(|t| t.seconds), Some(1_767_323_045));
        assert_eq!(p.running_subagents, 2);
        assert_eq!(p.status_reason, "the turn ended on an API error (unknown)");
        assert_eq!(p.extra_json, "");
        // Nothing held, or junk: no attention; a future kind keeps its name.
        for junk in [json!(null), json!("x"), json!([1])] {
            let p = session_to_proto(&session(json!({"attention": junk, "running_subagents": 3})));
            assert!(p.attention.is_none());
            assert_eq!(p.running_subagents, 0);
        }
        let p = session_to_proto(&session(json!({"attention": {"kind": "sandbox"}})));
        let a = p.attention.expect("attention");
        assert_eq!(
            (a.kind, a.raw_kind.as_str()),
            (pb::AttentionKind::Unspecified as i32, "sandbox")
        );
    }

    #[test]
    fn wrong_types_do_not_panic_and_unknown_status_is_unspecified() {
        let p = session_to_proto(&session(
            json!({"status": "paused", "agent": 7, "pending_questions": "nope", "context_usage": 5}),
        ));
        assert_eq!(p.status, pb::SessionStatus::Unspecified as i32);
        assert_eq!(p.raw_status, "paused");
        assert_eq!(p.agent, pb::Agent::Unspecified as i32);
        assert!(p.pending_questions.is_empty());
        assert!(p.context_usage.is_none());
        assert!(p.extra_json.is_empty());
    }

    #[test]
    fn filter_selects_by_id_agent_and_liveness() {
        let a = session_to_proto(&session(json!({"session_id": "a", "agent": "claude"})));
        let b = session_to_proto(&session(json!({"session_id": "b", "agent": "codex", "is_dead": true})));
        let all = [a, b];
        let by_agent = Filter::from_proto(Some(pb::SessionFilter {
            agents: vec![pb::Agent::Codex as i32],
            ..Default::default()
        }))
        .expect("valid");
        assert_eq!(by_agent.apply(&all).len(), 1);
        let alive = Filter::from_proto(Some(pb::SessionFilter {
            exclude_dead: true,
            ..Default::default()
        }))
        .expect("valid");
        assert_eq!(alive.apply(&all)[0].session_id, "a");
        let ids = Filter::from_proto(Some(pb::SessionFilter {
            session_ids: vec!["b".into()],
            ..Default::default()
        }))
        .expect("valid");
        assert_eq!(ids.apply(&all)[0].session_id, "b");
        assert!(Filter::from_proto(Some(pb::SessionFilter {
            agents: vec![99],
            ..Default::default()
        }))
        .is_err());
    }
}
