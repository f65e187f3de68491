//! The fleet's shapes: a `Session` received from another host (protobuf, as the fleet bucket holds it) → the session
//! JSON the rest of amc works on, so that [`super::session_to_proto`] gives the same message back; a hub's hosts
//! ([`pb::FleetHost`]) as `/api/state` JSON.

use serde_json::{json, Map, Value};

use crate::{model::SessionJson, proto as pb};

/// A proto timestamp as RFC 3339 (UTC, nanoseconds when there are any).
fn rfc3339(t: &prost_types::Timestamp) -> Value {
    let nanos = u32::try_from(t.nanos).unwrap_or(0);
    chrono::DateTime::<chrono::Utc>::from_timestamp(t.seconds, nanos).map_or(Value::Null, |d| {
        Value::String(d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
    })
}

/// Converts a `Session` received from another host into the session JSON shape: the typed fields under the keys the
/// session file and the collector use, and the keys of `extra_json` back at the top level. `session_to_proto` of the
/// result equals `session` (the round trip the hub relies on; `running_subagents` comes back as that many empty
/// entries, a timestamp as RFC 3339).
pub fn session_from_proto(session: &pb::Session) -> SessionJson {
    let mut out = Map::new();
    // Extra keys first: a typed key below wins over a stray duplicate.
    if let Ok(Value::Object(extra)) = serde_json::from_str::<Value>(&session.extra_json) {
        out.extend(extra);
    }
    let mut text = |key: &str, value: &str| {
        if !value.is_empty() {
            out.insert(key.to_owned(), Value::String(value.to_owned()));
        }
    };
    text("session_id", &session.session_id);
    text("status", &session.raw_status);
    text("agent", &session.raw_agent);
    text("project_dir", &session.project_dir);
    text("cwd", &session.cwd);
    text("transcript_path", &session.transcript_path);
    text("zellij_session", &session.zellij_session);
    text("zellij_pane", &session.zellij_pane);
    text("last_event", &session.last_event);
    text("last_message_preview", &session.last_message_preview);
    text("spawn_id", &session.spawn_id);
    text("model", &session.model);
    text("permission_mode", &session.permission_mode);
    text("liveness_reason", &session.liveness_reason);
    text("status_reason", &session.status_reason);
    text("host", &session.host);
    if let Some(t) = &session.last_event_time {
        out.insert("last_event_at".into(), rfc3339(t));
    }
    if let Some(t) = &session.start_time {
        out.insert("started_at".into(), rfc3339(t));
    }
    if !session.pending_questions.is_empty() {
        let questions: Vec<Value> = session
            .pending_questions
            .iter()
            .map(|q| {
                json!({
                    "question": q.question,
                    "header": q.header,
                    "options": q.options.iter().map(|o| json!({"label": o.label, "description": o.description}))
                        .collect::<Vec<_>>(),
                    "multiSelect": q.multi_select,
                })
            })
            .collect();
        out.insert("pending_questions".into(), Value::Array(questions));
    }
    if let Some(usage) = &session.context_usage {
        let mut u = Map::new();
        u.insert(
            "current_tokens".into(),
            usage.current_tokens.map_or(Value::Null, Value::from),
        );
        u.insert("window_tokens".into(), usage.window_tokens.into());
        u.insert("percent".into(), usage.percent.into());
        u.insert("model".into(), usage.model.clone().into());
        u.insert("input_tokens".into(), usage.input_tokens.into());
        u.insert("output_tokens".into(), usage.output_tokens.into());
        u.insert("cache_read_tokens".into(), usage.cache_read_tokens.into());
        u.insert("cache_creation_tokens".into(), usage.cache_creation_tokens.into());
        u.insert("compacted".into(), usage.compacted.into());
        if let Some(t) = &usage.update_time {
            u.insert("updated_at".into(), rfc3339(t));
        }
        if let Some(name) = window_source_name(usage.window_source) {
            u.insert("window_source".into(), name.into());
        }
        out.insert("context_usage".into(), Value::Object(u));
        if usage.window_inferred {
            out.insert("context_window_inferred".into(), true.into());
        }
    }
    if let Some(ns) = session.conversation_mtime_ns {
        out.insert("conversation_mtime_ns".into(), ns.into());
    }
    if let Some(tokens) = session.turn_start_tokens {
        out.insert("turn_start_tokens".into(), tokens.into());
    }
    out.insert("is_dead".into(), session.is_dead.into());
    if let Some(a) = &session.attention {
        let mut m = Map::new();
        m.insert("kind".into(), a.raw_kind.clone().into());
        if let Some(t) = &a.since_time {
            m.insert("since".into(), rfc3339(t));
        }
        for (key, value) in [
            ("event", &a.event),
            ("tool_name", &a.tool_name),
            ("tool_input_summary", &a.tool_input_summary),
            ("tool_use_id", &a.tool_use_id),
            ("message", &a.message),
            ("notification_type", &a.notification_type),
            ("request_id", &a.request_id),
        ] {
            if !value.is_empty() {
                m.insert(key.into(), value.clone().into());
            }
        }
        out.insert("attention".into(), Value::Object(m));
    }
    if session.running_subagents > 0 {
        let n = usize::try_from(session.running_subagents).unwrap_or(0).min(10_000);
        out.insert("running_subagents".into(), Value::Array(vec![json!({}); n]));
    }
    if session.host_unreachable {
        out.insert("host_unreachable".into(), true.into());
    }
    if session.remote_approval {
        out.insert("remote_approval".into(), true.into());
    }
    for (key, value) in super::spend::session_json_fields(session) {
        out.insert(key.into(), value);
    }
    out
}

/// The JSON name of a proto window source (`None` for unspecified).
fn window_source_name(source: i32) -> Option<&'static str> {
    use crate::transcript::WindowSource as W;
    let w = match pb::WindowSource::try_from(source).ok()? {
        pb::WindowSource::Override => W::Override,
        pb::WindowSource::ModelSetting => W::ModelSetting,
        pb::WindowSource::NativeModel => W::NativeModel,
        pb::WindowSource::ObservedOver200k => W::ObservedOver200k,
        pb::WindowSource::AgentReported => W::AgentReported,
        pb::WindowSource::Statusline => W::Statusline,
        pb::WindowSource::Default => W::Default,
        pb::WindowSource::Unspecified => return None,
    };
    Some(w.as_str())
}

/// A hub's host as `/api/state` JSON (the `hosts` list).
pub fn fleet_host_json(host: &pb::FleetHost) -> Value {
    json!({
        "name": host.name,
        "state": host.state,
        "last_seen": host.last_seen_time.as_ref().map_or(Value::Null, rfc3339),
        "age_ms": host.age_ms,
        "instance_id": host.instance_id,
        "revision": host.revision,
        "version": host.version,
        "sessions": host.sessions,
        "name_conflict": host.name_conflict,
        "instance_ids": host.instance_ids,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::test_util::object as session, wire::session_to_proto};

    #[test]
    fn a_session_from_another_host_round_trips_through_the_json_shape() {
        let s = session(json!({
            "session_id": "s1", "status": "needs_attention", "agent": "claude", "zellij_pane": "3",
            "zellij_session": "z", "cwd": "/w", "project_dir": "/w", "transcript_path": "/t.jsonl",
            "last_event": "Stop", "last_event_at": "2026-01-02T03:04:05.5Z", "started_at": "2026-01-02T03:00:00Z",
            "turn_start_tokens": 1200, "is_dead": true, "liveness_reason": "gone", "model": "m",
            "pending_questions": [{"question": "Which?", "header": "Pick", "options": [{"label": "A", "description": "first"}], "multiSelect": true}],
            "context_usage": {"current_tokens": 5000, "window_tokens": 200000, "percent": 2.5, "compacted": false,
                              "model": "m", "input_tokens": 1, "output_tokens": 2, "cache_read_tokens": 3,
                              "cache_creation_tokens": 4, "updated_at": "2026-01-02T03:04:00Z", "window_source": "default"},
            "context_window_inferred": true, "conversation_mtime_ns": 17,
            "attention": {"kind": "permission", "since": "2026-01-02T03:04:05Z", "event": "PermissionRequest",
                          "tool_name": "Bash", "request_id": "r1"},
            "running_subagents": [{"agent_id": "a1"}, {"agent_id": "a2"}],
            "status_reason": "why", "host": "laptop", "custom_key": {"nested": [1, 2]},
            "remote_approval": true,
            "cost": {"usd": 1.25, "source": "cost_state", "updated_at": "2026-01-02T03:04:00Z",
                     "unknown_models": ["x-1"], "tokens": 900},
            "rate_limits": [{"agent": "codex", "name": "primary", "window_minutes": 300, "used_percent": 42.5,
                             "resets_at": 1780638395, "source": "rollout", "observed_at": "2026-01-02T03:04:00Z",
                             "expired": false}],
            "burn_rate": {"tokens_per_minute": 1500.0, "usd_per_hour": 2.5, "window_minutes": 15},
            "compaction_forecast": {"forecast": true, "threshold_tokens": 167000, "tokens_per_turn": 5000.0,
                                    "turns_left": 12.0, "minutes_left": null},
            "context_history": [{"at": "2026-01-02T03:00:00Z", "tokens": 10}, {"at": "2026-01-02T03:01:00Z", "tokens": 30}]
        }));
        let proto = session_to_proto(&s);
        assert_eq!(proto.host, "laptop");
        assert!(proto.remote_approval);
        assert_eq!(proto.cost.as_ref().and_then(|c| c.usd), Some(1.25));
        assert_eq!(proto.rate_limits.len(), 1);
        assert_eq!(proto.context_history.len(), 2);
        assert!(proto.burn_rate.is_some() && proto.compaction_forecast.is_some());
        let back = session_from_proto(&proto);
        assert_eq!(session_to_proto(&back), proto, "{back:?}");
        assert_eq!(back.get("custom_key"), s.get("custom_key"));
        // A bare session (only an id) stays bare, and unreachable is carried.
        let bare = pb::Session {
            session_id: "x".into(),
            host_unreachable: true,
            ..Default::default()
        };
        assert_eq!(session_to_proto(&session_from_proto(&bare)), bare);
    }
}
