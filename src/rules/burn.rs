//! Burn rate, the compaction forecast and the context history, from the newest replies the transcript reader keeps
//! (its reply samples: time, context after the reply, the reply's tokens).
//!
//! - Burn rate: the tokens of the replies of the last [`BURN_WINDOW_MINUTES`] before `now`, per minute, and their
//!   price-table cost per hour (a sample without a model is priced as the session's current model; unset when the
//!   model has no price). Only the replies amc has read count: on first sight of a long transcript that is the tail.
//! - Forecast (marked `forecast: true`, an estimate): the context grows by about the same per turn (assistant reply)
//!   as over the recent turns since the last drop (a compaction or `/clear`); the agent compacts at its threshold:
//!   Claude Code at the window minus [`CLAUDE_RESERVE_TOKENS`] (its output reserve and auto-compact buffer), Codex at
//!   [`CODEX_COMPACT_PERCENT`] % of the window it reports. Turns left = (threshold − current) / growth per turn;
//!   minutes left = turns left × the recent minutes per turn.
//! - History: the context at each kept reply, for the dashboard's sparkline.

use chrono::DateTime;
use serde_json::{json, Value};

use crate::{
    config::prices::PriceTable,
    model::agent,
    transcript::spend::{ModelTokens, Sample},
};

use super::cost::priced;

/// The burn rate's window.
pub const BURN_WINDOW_MINUTES: f64 = 15.0;
/// What Claude Code keeps free below the window before it compacts: a 20 000-token output reserve plus its
/// 13 000-token auto-compact buffer.
pub const CLAUDE_RESERVE_TOKENS: u64 = 33_000;
/// The share of its reported window at which Codex compacts.
pub const CODEX_COMPACT_PERCENT: u64 = 90;
/// The fewest growing turns a forecast is made from.
const MIN_TURNS: usize = 3;

fn seconds(at: Option<&str>) -> Option<f64> {
    DateTime::parse_from_rfc3339(at?)
        .ok()
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
}

/// Returns the `burn_rate` object at `now` (Unix seconds), or `None` without a reply in the window.
pub fn burn_rate(samples: &[Sample], model: Option<&str>, prices: &PriceTable, now: f64) -> Option<Value> {
    let since = now - BURN_WINDOW_MINUTES * 60.0;
    let recent: Vec<ModelTokens> = samples
        .iter()
        .filter(|s| seconds(s.at.as_deref()).is_some_and(|t| t > since && t <= now + 60.0))
        .map(|s| {
            let mut tokens = s.tokens.clone();
            if tokens.model.is_empty() {
                tokens.model = model.unwrap_or_default().to_owned();
            }
            tokens
        })
        .collect();
    if recent.is_empty() {
        return None;
    }
    let total: u64 = recent.iter().map(ModelTokens::total).sum();
    let usd_per_hour = priced(&recent, prices)
        .ok()
        .map(|usd| (usd * 60.0 / BURN_WINDOW_MINUTES * 1e4).round() / 1e4);
    Some(json!({
        "tokens_per_minute": (total as f64 / BURN_WINDOW_MINUTES * 10.0).round() / 10.0,
        "usd_per_hour": usd_per_hour,
        "window_minutes": BURN_WINDOW_MINUTES as i64,
        "replies": recent.len(),
    }))
}

/// Returns the context size at which `agent_name` compacts a `window`-token context.
pub fn compact_threshold(agent_name: &str, window: u64) -> u64 {
    if agent_name == agent::CODEX {
        window * CODEX_COMPACT_PERCENT / 100
    } else if window > 2 * CLAUDE_RESERVE_TOKENS {
        window - CLAUDE_RESERVE_TOKENS
    } else {
        window * 4 / 5
    }
}

/// Returns the `compaction_forecast` object, or `None` when there are too few growing turns since the last drop.
pub fn forecast(samples: &[Sample], agent_name: &str, current: Option<u64>, window: u64) -> Option<Value> {
    if window == 0 {
        return None;
    }
    // The run of turns since the last drop of the context (a compaction, a /clear).
    let start = samples
        .windows(2)
        .rposition(|w| w[1].context < w[0].context)
        .map_or(0, |i| i + 1);
    let run = &samples[start..];
    if run.len() < MIN_TURNS {
        return None;
    }
    let (first, last) = (run.first()?, run.last()?);
    let turns = (run.len() - 1) as f64;
    let per_turn = (last.context - first.context) as f64 / turns;
    let threshold = compact_threshold(agent_name, window);
    let current = current.unwrap_or(last.context);
    let turns_left = (per_turn > 0.0).then(|| (threshold.saturating_sub(current) as f64 / per_turn).floor());
    let minutes_per_turn = match (seconds(first.at.as_deref()), seconds(last.at.as_deref())) {
        (Some(a), Some(b)) if b > a => Some((b - a) / 60.0 / turns),
        _ => None,
    };
    let minutes_left = turns_left
        .zip(minutes_per_turn)
        .map(|(t, m)| (t * m * 10.0).round() / 10.0);
    Some(json!({
        "forecast": true,
        "threshold_tokens": threshold,
        "tokens_per_turn": per_turn.round(),
        "turns_left": turns_left,
        "minutes_left": minutes_left,
    }))
}

/// Returns the `context_history` list: `[{at, tokens}]`, oldest first.
pub fn history(samples: &[Sample]) -> Value {
    samples
        .iter()
        .map(|s| json!({"at": s.at, "tokens": s.context}))
        .collect()
}

/// Brings the time-dependent keys of a session reused without a new read up to `now`: a `burn_rate` whose newest
/// reply (the last `context_history` entry) is older than the window is dropped, and each rate limit's `expired` is
/// set from its `resets_at`.
pub fn age(session: &mut crate::model::SessionJson, now: f64) {
    if burn_rate_stale(session, now) {
        session.remove("burn_rate");
    }
    if let Some(limits) = session.get_mut("rate_limits").and_then(Value::as_array_mut) {
        for limit in limits.iter_mut().filter_map(Value::as_object_mut) {
            let expired = limit_expired(limit, now);
            limit.insert("expired".into(), expired.into());
        }
    }
}

/// Returns whether [`age`] would change `session` at `now` (so a shared session is copied only when it must be).
pub fn ages(session: &crate::model::SessionJson, now: f64) -> bool {
    burn_rate_stale(session, now)
        || session
            .get("rate_limits")
            .and_then(Value::as_array)
            .is_some_and(|limits| {
                limits
                    .iter()
                    .filter_map(Value::as_object)
                    .any(|limit| limit.get("expired") != Some(&Value::Bool(limit_expired(limit, now))))
            })
}

/// Whether the session has a `burn_rate` whose newest reply is older than the window at `now`.
fn burn_rate_stale(session: &crate::model::SessionJson, now: f64) -> bool {
    if !session.contains_key("burn_rate") {
        return false;
    }
    let newest = session
        .get("context_history")
        .and_then(Value::as_array)
        .and_then(|h| h.last())
        .and_then(|s| s.get("at"))
        .and_then(Value::as_str)
        .and_then(|at| seconds(Some(at)));
    newest.is_none_or(|t| t <= now - BURN_WINDOW_MINUTES * 60.0)
}

/// Whether a rate limit's `resets_at` is past at `now`.
fn limit_expired(limit: &serde_json::Map<String, Value>, now: f64) -> bool {
    limit
        .get("resets_at")
        .and_then(Value::as_i64)
        .is_some_and(|t| (t as f64) <= now)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Synthetic growth: a reply every `minutes`, the context growing by `growth` from `start`.
    fn growth(n: usize, start: u64, growth: u64, minutes: i64) -> Vec<Sample> {
        (0..n)
            .map(|i| Sample {
                at: Some(
                    DateTime::from_timestamp(1_780_000_000 + i as i64 * minutes * 60, 0)
                        .expect("time")
                        .to_rfc3339(),
                ),
                context: start + growth * i as u64,
                tokens: ModelTokens {
                    model: String::new(),
                    input: 1_000,
                    cached_input: 9_000,
                    cache_write: 0,
                    output: 500,
                },
            })
            .collect()
    }

    #[test]
    fn forecast_on_steady_growth() {
        // 10 turns, 2 minutes apart, +5 000 per turn from 50 000; Claude at 200K compacts at 167 000.
        let samples = growth(10, 50_000, 5_000, 2);
        let f = forecast(&samples, "claude", None, 200_000).expect("forecast");
        assert_eq!(f["forecast"], true);
        assert_eq!(f["threshold_tokens"], 167_000);
        assert_eq!(f["tokens_per_turn"], 5_000.0);
        // Current 95 000: (167 000 - 95 000) / 5 000 = 14.4 → 14 turns, 28 minutes.
        assert_eq!(
            (f["turns_left"].as_f64(), f["minutes_left"].as_f64()),
            (Some(14.0), Some(28.0))
        );
        // Codex compacts at 90 % of its reported window.
        let f = forecast(&samples, "codex", Some(100_000), 258_400).expect("forecast");
        assert_eq!(f["threshold_tokens"], 232_560);
        assert_eq!(f["turns_left"], 26.0);
        // Past the threshold: nothing left.
        let f = forecast(&samples, "claude", Some(190_000), 200_000).expect("forecast");
        assert_eq!(f["turns_left"], 0.0);
    }

    #[test]
    fn forecast_restarts_after_a_compaction_and_needs_growth() {
        let mut samples = growth(6, 100_000, 10_000, 1);
        samples.extend(growth(2, 20_000, 1_000, 1));
        assert!(
            forecast(&samples, "claude", None, 200_000).is_none(),
            "two turns since the drop"
        );
        samples.extend(growth(2, 22_000, 1_000, 1));
        let f = forecast(&samples, "claude", None, 200_000).expect("forecast");
        // The run since the drop: 20 000, 21 000, 22 000, 23 000 (times restart but the growth is what counts).
        assert_eq!(f["tokens_per_turn"], 1_000.0);
        let flat = growth(5, 50_000, 0, 1);
        let f = forecast(&flat, "claude", None, 200_000).expect("forecast");
        assert_eq!(f["turns_left"], Value::Null);
        assert!(forecast(&flat, "claude", None, 0).is_none());
    }

    #[test]
    fn a_reused_session_ages() {
        let mut session = json!({"burn_rate": {"tokens_per_minute": 5.0},
            "context_history": [{"at": "2026-12-05T10:00:00Z", "tokens": 5}],
            "rate_limits": [{"name": "primary", "resets_at": 1_780_000_000_i64, "expired": false}]})
        .as_object()
        .cloned()
        .expect("object");
        let ten = seconds(Some("2026-12-05T10:10:00Z")).expect("time");
        assert!(ages(&session, ten), "the limit has reset: it changes");
        age(&mut session, ten);
        assert!(session.contains_key("burn_rate"), "10 minutes: still in the window");
        assert!(!ages(&session, ten), "aged: nothing more to change");
        assert!(ages(&session, ten + 600.0), "the burn rate goes stale");
        age(&mut session, ten + 600.0);
        assert!(!session.contains_key("burn_rate"), "20 minutes: idle");
        assert_eq!(session["rate_limits"][0]["expired"], true);
        assert!(!ages(&session, ten + 600.0));
    }

    #[test]
    fn burn_rate_over_the_last_quarter_hour() {
        let samples = growth(10, 50_000, 5_000, 2);
        let last = seconds(samples[9].at.as_deref()).expect("time");
        let prices = PriceTable::builtin();
        // At the last reply: the replies of the last 15 minutes are the 8 at -14..0 min.
        let b = burn_rate(&samples, Some("claude-sonnet-4-5"), &prices, last).expect("burn");
        assert_eq!(b["replies"], 8);
        assert_eq!(b["tokens_per_minute"], 8.0 * 10_500.0 / 15.0);
        // Sonnet 4.5: 1 000 × $3 + 9 000 × $0.30 + 500 × $15 per MTok = $0.0132 per reply; ×8 ×4 per hour.
        assert_eq!(b["usd_per_hour"], 0.4224);
        let unknown = burn_rate(&samples, Some("mystery-1"), &prices, last).expect("burn");
        assert_eq!(unknown["usd_per_hour"], Value::Null);
        assert!(
            burn_rate(&samples, None, &prices, last + 3600.0).is_none(),
            "idle for an hour"
        );
        assert_eq!(history(&samples[..2])[1]["tokens"], 55_000);
    }
}
