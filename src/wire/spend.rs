//! Cost, rate limits, burn rate, the compaction forecast and the usage totals in both shapes: the session JSON's
//! `cost`, `rate_limits`, `burn_rate`, `compaction_forecast`, `context_history` → proto, and `GetUsage` /
//! `GET /api/usage` from the published sessions.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{integer, system_time, timestamp};
use crate::proto as pb;

fn seconds(value: &Value) -> Option<prost_types::Timestamp> {
    value
        .as_i64()
        .map(|seconds| prost_types::Timestamp { seconds, nanos: 0 })
}

fn string(value: &Value, key: &str) -> String {
    value.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The session's `cost` object as proto.
pub fn cost(value: &Value) -> Option<pb::SessionCost> {
    value.as_object()?;
    Some(pb::SessionCost {
        usd: value.get("usd").and_then(Value::as_f64),
        source: string(value, "source"),
        update_time: value.get("updated_at").and_then(timestamp),
        unknown_models: value
            .get("unknown_models")
            .and_then(Value::as_array)
            .map(|m| m.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default(),
        tokens: value.get("tokens").and_then(integer).unwrap_or(0),
    })
}

fn rate_limit(value: &Value) -> Option<pb::RateLimit> {
    value.as_object()?;
    Some(pb::RateLimit {
        agent: string(value, "agent"),
        name: string(value, "name"),
        window_minutes: value.get("window_minutes").and_then(integer),
        used_percent: value.get("used_percent").and_then(Value::as_f64).unwrap_or(0.0),
        reset_time: value.get("resets_at").and_then(seconds),
        source: string(value, "source"),
        observed_time: value.get("observed_at").and_then(timestamp),
        expired: value.get("expired").and_then(Value::as_bool).unwrap_or(false),
    })
}

/// The session's `rate_limits` list as proto.
pub fn rate_limits(value: &Value) -> Vec<pb::RateLimit> {
    value
        .as_array()
        .map(|l| l.iter().filter_map(rate_limit).collect())
        .unwrap_or_default()
}

/// The session's `burn_rate` object as proto.
pub fn burn_rate(value: &Value) -> Option<pb::BurnRate> {
    value.as_object()?;
    Some(pb::BurnRate {
        tokens_per_minute: value.get("tokens_per_minute").and_then(Value::as_f64).unwrap_or(0.0),
        usd_per_hour: value.get("usd_per_hour").and_then(Value::as_f64),
        window_minutes: value
            .get("window_minutes")
            .and_then(integer)
            .and_then(|m| i32::try_from(m).ok())
            .unwrap_or(0),
    })
}

/// The session's `compaction_forecast` object as proto.
pub fn forecast(value: &Value) -> Option<pb::CompactionForecast> {
    value.as_object()?;
    Some(pb::CompactionForecast {
        forecast: true,
        threshold_tokens: value.get("threshold_tokens").and_then(integer).unwrap_or(0),
        tokens_per_turn: value.get("tokens_per_turn").and_then(Value::as_f64).unwrap_or(0.0),
        turns_left: value.get("turns_left").and_then(Value::as_f64),
        minutes_left: value.get("minutes_left").and_then(Value::as_f64),
    })
}

/// The session's `context_history` list as proto.
pub fn history(value: &Value) -> Vec<pb::ContextSample> {
    value
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|s| {
                    Some(pb::ContextSample {
                        time: s.get("at").and_then(timestamp),
                        tokens: s.get("tokens").and_then(integer)?,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Returns the newest report of every (agent, window name) over `sessions`' `rate_limits` (one account per agent on
/// this machine), sorted by agent and name.
pub fn account_rate_limits<S: std::borrow::Borrow<pb::Session>>(sessions: &[S]) -> Vec<pb::RateLimit> {
    let mut newest: BTreeMap<(String, String), pb::RateLimit> = BTreeMap::new();
    for limit in sessions.iter().flat_map(|s| &s.borrow().rate_limits) {
        let key = (limit.agent.clone(), limit.name.clone());
        let time = |l: &pb::RateLimit| l.observed_time.map(|t| (t.seconds, t.nanos));
        match newest.get(&key) {
            Some(kept) if time(kept) >= time(limit) => {}
            _ => {
                newest.insert(key, limit.clone());
            }
        }
    }
    newest.into_values().collect()
}

#[derive(Default)]
struct Total {
    usd: f64,
    tokens: i64,
    sessions: i32,
    unpriced: i32,
}

impl Total {
    fn add(&mut self, session: &pb::Session, tokens: i64) {
        self.sessions += 1;
        self.tokens = self.tokens.saturating_add(tokens);
        match session.cost.as_ref().and_then(|c| c.usd) {
            Some(usd) => self.usd += usd,
            None => self.unpriced += 1,
        }
    }

    fn proto(&self, project_dir: &str, day: &str) -> pb::UsageTotal {
        pb::UsageTotal {
            project_dir: project_dir.to_owned(),
            day: day.to_owned(),
            usd: (self.usd * 1e6).round() / 1e6,
            tokens: self.tokens,
            sessions: self.sessions,
            unpriced_sessions: self.unpriced,
        }
    }
}

/// Returns the usage totals of the published sessions: per project and per day (UTC day of the session's last
/// activity: its cost's update time, else its last event).
pub fn usage<S: std::borrow::Borrow<pb::Session>>(protos: &[S], now: std::time::SystemTime) -> pb::GetUsageResponse {
    let mut by_project: BTreeMap<String, Total> = BTreeMap::new();
    let mut by_day: BTreeMap<String, Total> = BTreeMap::new();
    let mut total = Total::default();
    for session in protos.iter().map(S::borrow) {
        let tokens = session.cost.as_ref().map_or(0, |c| c.tokens);
        let day = session
            .cost
            .as_ref()
            .and_then(|c| c.update_time)
            .or(session.last_event_time)
            .or(session.start_time)
            .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
            .map(|t| t.format("%Y-%m-%d").to_string())
            .unwrap_or_default();
        by_project
            .entry(session.project_dir.clone())
            .or_default()
            .add(session, tokens);
        by_day.entry(day).or_default().add(session, tokens);
        total.add(session, tokens);
    }
    let mut projects: Vec<pb::UsageTotal> = by_project.iter().map(|(p, t)| t.proto(p, "")).collect();
    projects.sort_by(|a, b| b.usd.total_cmp(&a.usd).then_with(|| a.project_dir.cmp(&b.project_dir)));
    let days = by_day.iter().rev().map(|(d, t)| t.proto("", d)).collect();
    pb::GetUsageResponse {
        by_project: projects,
        by_day: days,
        total: Some(total.proto("", "")),
        rate_limits: account_rate_limits(protos),
        snapshot_time: Some(system_time(now)),
    }
}

fn total_json(t: &pb::UsageTotal) -> Value {
    json!({
        "project_dir": t.project_dir,
        "day": t.day,
        "usd": t.usd,
        "tokens": t.tokens,
        "sessions": t.sessions,
        "unpriced_sessions": t.unpriced_sessions,
    })
}

fn rfc3339(t: Option<prost_types::Timestamp>) -> Value {
    t.and_then(|t| chrono::DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .map_or(Value::Null, |t| {
            Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        })
}

/// Returns `GET /api/usage`'s JSON for a [`usage`] answer.
pub fn usage_json(usage: &pb::GetUsageResponse) -> Value {
    json!({
        "by_project": usage.by_project.iter().map(total_json).collect::<Vec<_>>(),
        "by_day": usage.by_day.iter().map(total_json).collect::<Vec<_>>(),
        "total": usage.total.as_ref().map(total_json),
        "rate_limits": usage.rate_limits.iter().map(|l| json!({
            "agent": l.agent,
            "name": l.name,
            "window_minutes": l.window_minutes,
            "used_percent": l.used_percent,
            "resets_at": rfc3339(l.reset_time),
            "source": l.source,
            "observed_at": rfc3339(l.observed_time),
            "expired": l.expired,
        })).collect::<Vec<_>>(),
        "server_time": rfc3339(usage.snapshot_time),
    })
}

/// The proto forms back as the session JSON's keys (a fleet hub's sessions from other hosts): `cost`, `rate_limits`,
/// `burn_rate`, `compaction_forecast`, `context_history`, each present only when the proto has it. The functions
/// above read the result back to the same proto.
pub fn session_json_fields(session: &pb::Session) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(c) = &session.cost {
        out.push((
            "cost",
            json!({
                "usd": c.usd,
                "source": c.source,
                "updated_at": rfc3339(c.update_time),
                "unknown_models": c.unknown_models,
                "tokens": c.tokens,
            }),
        ));
    }
    if !session.rate_limits.is_empty() {
        let limits = session
            .rate_limits
            .iter()
            .map(|l| {
                json!({
                    "agent": l.agent,
                    "name": l.name,
                    "window_minutes": l.window_minutes,
                    "used_percent": l.used_percent,
                    "resets_at": l.reset_time.map(|t| t.seconds),
                    "source": l.source,
                    "observed_at": rfc3339(l.observed_time),
                    "expired": l.expired,
                })
            })
            .collect();
        out.push(("rate_limits", Value::Array(limits)));
    }
    if let Some(b) = &session.burn_rate {
        out.push((
            "burn_rate",
            json!({
                "tokens_per_minute": b.tokens_per_minute,
                "usd_per_hour": b.usd_per_hour,
                "window_minutes": b.window_minutes,
            }),
        ));
    }
    if let Some(f) = &session.compaction_forecast {
        out.push((
            "compaction_forecast",
            json!({
                "forecast": true,
                "threshold_tokens": f.threshold_tokens,
                "tokens_per_turn": f.tokens_per_turn,
                "turns_left": f.turns_left,
                "minutes_left": f.minutes_left,
            }),
        ));
    }
    if !session.context_history.is_empty() {
        let samples = session
            .context_history
            .iter()
            .map(|s| json!({"at": rfc3339(s.time), "tokens": s.tokens}))
            .collect();
        out.push(("context_history", Value::Array(samples)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{model::SessionJson, wire::session_to_proto};

    fn s(v: Value) -> SessionJson {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn cost_and_limits_to_proto() {
        let session = s(json!({"session_id": "a", "agent": "codex",
            "cost": {"usd": 0.85, "source": "price_table", "updated_at": "2026-12-05T10:00:00Z"},
            "rate_limits": [{"agent": "codex", "name": "primary", "window_minutes": 300, "used_percent": 15.0,
                "resets_at": 1780638395, "source": "codex_token_count", "observed_at": "2026-12-05T10:00:00Z",
                "expired": false}],
            "burn_rate": {"tokens_per_minute": 1200.5, "usd_per_hour": 3.2, "window_minutes": 15},
            "compaction_forecast": {"forecast": true, "threshold_tokens": 167000, "tokens_per_turn": 2000.0,
                "turns_left": 10.0, "minutes_left": null},
            "context_history": [{"at": "2026-12-05T10:00:00Z", "tokens": 5}, {"tokens": "x"}]}));
        let p = session_to_proto(&session);
        assert!(p.extra_json.is_empty(), "{}", p.extra_json);
        let cost = p.cost.expect("cost");
        assert_eq!((cost.usd, cost.source.as_str()), (Some(0.85), "price_table"));
        assert_eq!(p.rate_limits[0].reset_time.map(|t| t.seconds), Some(1780638395));
        assert_eq!(p.rate_limits[0].window_minutes, Some(300));
        assert_eq!(p.burn_rate.expect("burn").usd_per_hour, Some(3.2));
        let f = p.compaction_forecast.expect("forecast");
        assert!(f.forecast);
        assert_eq!((f.turns_left, f.minutes_left), (Some(10.0), None));
        assert_eq!(p.context_history.len(), 1);
        let unknown = session_to_proto(&s(
            json!({"cost": {"usd": null, "source": "unknown_model", "unknown_models": ["m"]}}),
        ));
        assert_eq!(unknown.cost.expect("cost").usd, None);
    }

    #[test]
    fn usage_totals_per_project_and_day_and_newest_limits() {
        let sessions = [
            s(
                json!({"session_id": "a", "project_dir": "/p1", "cost": {"usd": 1.0, "source": "cost_state", "updated_at": "2026-12-04T10:00:00Z", "tokens": 100},
                "rate_limits": [{"agent": "codex", "name": "primary", "used_percent": 10.0, "observed_at": "2026-12-04T10:00:00Z"}]}),
            ),
            s(
                json!({"session_id": "b", "project_dir": "/p1", "cost": {"usd": 2.5, "source": "price_table", "updated_at": "2026-12-05T10:00:00Z", "tokens": 50},
                "rate_limits": [{"agent": "codex", "name": "primary", "used_percent": 30.0, "observed_at": "2026-12-05T10:00:00Z"}]}),
            ),
            s(
                json!({"session_id": "c", "project_dir": "/p2", "cost": {"usd": null, "source": "unknown_model", "updated_at": "2026-12-05T11:00:00Z"}}),
            ),
        ];
        let protos: Vec<_> = sessions.iter().map(session_to_proto).collect();
        let u = usage(&protos, std::time::SystemTime::UNIX_EPOCH);
        assert_eq!(u.by_project[0].project_dir, "/p1");
        assert_eq!(
            (u.by_project[0].usd, u.by_project[0].tokens, u.by_project[0].sessions),
            (3.5, 150, 2)
        );
        assert_eq!((u.by_project[1].unpriced_sessions, u.by_project[1].usd), (1, 0.0));
        assert_eq!(
            u.by_day.iter().map(|d| (d.day.as_str(), d.usd)).collect::<Vec<_>>(),
            vec![("2026-12-05", 2.5), ("2026-12-04", 1.0)]
        );
        assert_eq!(u.total.as_ref().map(|t| t.usd), Some(3.5));
        assert_eq!(u.rate_limits.len(), 1);
        assert_eq!(u.rate_limits[0].used_percent, 30.0);
        let j = usage_json(&u);
        assert_eq!(j["by_day"][0]["day"], "2026-12-05");
        assert_eq!(j["rate_limits"][0]["used_percent"], 30.0);
    }
}
