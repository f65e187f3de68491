//! Cost and rate-limit rules: what a session has cost and how much of its plan's windows it has used, from the
//! transcript's spend facts, the statusLine capture (`amc statusline`), the OTLP figures and the price table.
//!
//! Cost, first found wins:
//! 1. `cost_state`: Claude Code's newest `cost-state` line (its own figure);
//! 2. `statusline`: `cost.total_cost_usd` of the statusLine capture (Claude Code's own figure too);
//! 3. `otlp`: the newest `claude_code.cost.usage` total the OTLP receiver recorded (`otlp.cost_usd`);
//! 4. `price_table`: the cumulative tokens per model × the price table (Codex always; Claude without the above);
//!    `price_table_partial` when the transcript was not read whole (a lower bound); `unknown_model` (usd null) when a
//!    model with tokens has no row in the table: no price is ever guessed.
//!
//! Rate limits: Codex `token_count.rate_limits` (`primary`/`secondary`), Claude's statusLine `rate_limits`
//! (`five_hour`/`seven_day`). A window whose `resets_at` is in the past is marked `expired` (its percentage belongs to
//! a window that is over).

use serde_json::{json, Map, Value};

use crate::{
    config::prices::PriceTable,
    model::{agent, key, str_field, SessionJson},
    transcript::spend::{ModelTokens, RateLimit, Spend},
};

/// The computed session key of the cost object.
pub const COST: &str = "cost";
/// The computed session key of the rate-limit list.
pub const RATE_LIMITS: &str = "rate_limits";
/// The session key the statusLine capture is kept under (written by `amc statusline`).
pub const STATUSLINE: &str = "statusline";
/// The session key the OTLP receiver's figures are kept under.
pub const OTLP: &str = "otlp";

/// Returns the price-table cost of `tokens` in US dollars, or the models the table does not know.
pub fn priced(tokens: &[ModelTokens], prices: &PriceTable) -> Result<f64, Vec<String>> {
    let mut usd = 0.0;
    let mut unknown = Vec::new();
    for t in tokens.iter().filter(|t| t.total() > 0) {
        match prices.price(&t.model) {
            Some(p) => {
                usd += (t.input as f64 * p.input
                    + t.cached_input as f64 * p.cached_input
                    + t.cache_write as f64 * p.cache_write
                    + t.output as f64 * p.output)
                    / 1e6
            }
            None => unknown.push(if t.model.is_empty() {
                "(none)".to_owned()
            } else {
                t.model.clone()
            }),
        }
    }
    if unknown.is_empty() {
        Ok(usd)
    } else {
        Err(unknown)
    }
}

/// Returns a finite, non-negative number at most `max`.
fn sane(value: Option<&Value>, max: f64) -> Option<f64> {
    value
        .and_then(Value::as_f64)
        .filter(|v| v.is_finite() && (0.0..=max).contains(v))
}

fn cost(usd: Option<f64>, source: &str, updated_at: Option<&str>) -> Value {
    json!({"usd": usd.map(|u| (u * 1e6).round() / 1e6), "source": source, "updated_at": updated_at})
}

/// Returns the session's `cost` object `{usd, source, updated_at}` (plus `unknown_models` for `unknown_model`), or
/// `None` when nothing is known about its spending.
pub fn session_cost(session: &SessionJson, spend: Option<&Spend>, prices: &PriceTable) -> Option<Value> {
    let claude = str_field(session, key::AGENT) == Some(agent::CLAUDE);
    let updated = spend.and_then(|s| s.updated_at.as_deref());
    if claude {
        if let Some(reported) = spend.and_then(|s| s.reported.as_ref()) {
            let mut value = cost(Some(reported.usd), "cost_state", updated);
            let tokens: u64 = reported.models.iter().map(ModelTokens::total).sum();
            if let Some(map) = value.as_object_mut() {
                map.insert("tokens".into(), tokens.into());
            }
            return Some(value);
        }
        let capture = session.get(STATUSLINE).and_then(Value::as_object);
        if let Some(usd) = capture.and_then(|c| sane(c.get("cost_usd"), 1e9)) {
            let at = capture.and_then(|c| str_field(c, "at"));
            return Some(cost(Some(usd), "statusline", at));
        }
    }
    let otlp = session.get(OTLP).and_then(Value::as_object);
    if let Some(usd) = otlp.and_then(|o| sane(o.get("cost_usd"), 1e9)) {
        return Some(cost(Some(usd), "otlp", otlp.and_then(|o| str_field(o, "updated_at"))));
    }
    let spend = spend.filter(|s| s.tokens.iter().any(|t| t.total() > 0))?;
    let tokens: u64 = spend.tokens.iter().map(ModelTokens::total).sum();
    let mut value = match priced(&spend.tokens, prices) {
        Ok(usd) => cost(
            Some(usd),
            if spend.tokens_complete {
                "price_table"
            } else {
                "price_table_partial"
            },
            updated,
        ),
        Err(unknown) => {
            let mut value = cost(None, "unknown_model", updated);
            if let Some(map) = value.as_object_mut() {
                map.insert("unknown_models".into(), json!(unknown));
            }
            value
        }
    };
    if let Some(map) = value.as_object_mut() {
        map.insert("tokens".into(), tokens.into());
    }
    Some(value)
}

fn limit_json(agent: &str, limit: &RateLimit, source: &str, observed_at: Option<&str>, now: f64) -> Value {
    let expired = limit.resets_at.is_some_and(|t| (t as f64) <= now);
    json!({
        "agent": agent,
        "name": limit.name,
        "window_minutes": limit.window_minutes,
        "used_percent": limit.used_percent,
        "resets_at": limit.resets_at,
        "source": source,
        "observed_at": observed_at,
        "expired": expired,
    })
}

/// Returns the session's `rate_limits` list at `now` (Unix seconds): Codex from its rollout, Claude from the
/// statusLine capture.
pub fn session_rate_limits(session: &SessionJson, spend: Option<&Spend>, now: f64) -> Vec<Value> {
    match str_field(session, key::AGENT) {
        Some(agent::CODEX) => spend
            .map(|s| {
                s.rate_limits
                    .iter()
                    .map(|l| limit_json(agent::CODEX, l, "codex_token_count", s.updated_at.as_deref(), now))
                    .collect()
            })
            .unwrap_or_default(),
        Some(agent::CLAUDE) => {
            let Some(capture) = session.get(STATUSLINE).and_then(Value::as_object) else {
                return Vec::new();
            };
            let at = str_field(capture, "at");
            claude_limits(capture)
                .iter()
                .map(|l| limit_json(agent::CLAUDE, l, "statusline", at, now))
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Reads the capture's `rate_limits` (`[{name, window_minutes, used_percent, resets_at}]`, as `amc statusline`
/// records them).
fn claude_limits(capture: &Map<String, Value>) -> Vec<RateLimit> {
    capture
        .get("rate_limits")
        .and_then(Value::as_array)
        .map(|limits| {
            limits
                .iter()
                .filter_map(|l| {
                    Some(RateLimit {
                        name: l.get("name")?.as_str()?.to_owned(),
                        window_minutes: l.get("window_minutes").and_then(Value::as_u64),
                        used_percent: sane(l.get("used_percent"), f64::MAX)?.min(100.0),
                        resets_at: l.get("resets_at").and_then(Value::as_i64),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::spend::ReportedCost;

    fn s(v: Value) -> SessionJson {
        v.as_object().cloned().unwrap_or_default()
    }

    fn tokens(model: &str, input: u64, cached: u64, write: u64, output: u64) -> ModelTokens {
        ModelTokens {
            model: model.into(),
            input,
            cached_input: cached,
            cache_write: write,
            output,
        }
    }

    #[test]
    fn claude_prefers_its_own_figures() {
        let prices = PriceTable::builtin();
        let spend = Spend {
            reported: Some(ReportedCost {
                usd: 1.5,
                models: vec![],
            }),
            tokens: vec![tokens("claude-opus-4-6", 1_000_000, 0, 0, 0)],
            tokens_complete: true,
            updated_at: Some("2026-12-05T10:00:00Z".into()),
            ..Spend::default()
        };
        let claude = s(json!({"agent": "claude", "statusline": {"cost_usd": 9.0, "at": "x"}}));
        let c = session_cost(&claude, Some(&spend), &prices).expect("cost");
        assert_eq!(
            c,
            json!({"usd": 1.5, "source": "cost_state", "updated_at": "2026-12-05T10:00:00Z", "tokens": 0})
        );
        let no_state = Spend {
            reported: None,
            ..spend.clone()
        };
        let c = session_cost(&claude, Some(&no_state), &prices).expect("cost");
        assert_eq!(
            (c["usd"].as_f64(), c["source"].as_str()),
            (Some(9.0), Some("statusline"))
        );
        // An absurd statusLine figure is not used; the price table is: 1M input tokens of Opus 4.6 at $5/MTok.
        let absurd = s(json!({"agent": "claude", "statusline": {"cost_usd": -3.0}}));
        let c = session_cost(&absurd, Some(&no_state), &prices).expect("cost");
        assert_eq!(
            (c["usd"].as_f64(), c["source"].as_str()),
            (Some(5.0), Some("price_table"))
        );
    }

    #[test]
    fn price_table_arithmetic_partial_and_unknown_models() {
        let prices = PriceTable::builtin();
        // gpt-5-codex: 1.25 in, 0.125 cached, 10 out per MTok.
        let spend = Spend {
            tokens: vec![tokens("gpt-5-codex", 200_000, 800_000, 0, 50_000)],
            tokens_complete: true,
            ..Spend::default()
        };
        let codex = s(json!({"agent": "codex"}));
        let c = session_cost(&codex, Some(&spend), &prices).expect("cost");
        assert_eq!(c["usd"].as_f64(), Some(0.25 + 0.1 + 0.5));
        let partial = Spend {
            tokens_complete: false,
            ..spend.clone()
        };
        assert_eq!(
            session_cost(&codex, Some(&partial), &prices).expect("cost")["source"],
            "price_table_partial"
        );
        let unknown = Spend {
            tokens: vec![tokens("gpt-9-ultra", 1, 0, 0, 1), tokens("gpt-5", 1, 0, 0, 0)],
            tokens_complete: true,
            ..Spend::default()
        };
        let c = session_cost(&codex, Some(&unknown), &prices).expect("cost");
        assert_eq!(c["usd"], Value::Null);
        assert_eq!(c["source"], "unknown_model");
        assert_eq!(c["unknown_models"], json!(["gpt-9-ultra"]));
        assert!(session_cost(&codex, Some(&Spend::default()), &prices).is_none());
        assert!(session_cost(&codex, None, &prices).is_none());
        let otlp = s(json!({"agent": "codex", "otlp": {"cost_usd": 0.7, "updated_at": "t"}}));
        assert_eq!(session_cost(&otlp, None, &prices).expect("cost")["source"], "otlp");
    }

    #[test]
    fn rate_limits_from_both_agents_and_expired_windows() {
        let spend = Spend {
            rate_limits: vec![RateLimit {
                name: "primary".into(),
                window_minutes: Some(300),
                used_percent: 15.0,
                resets_at: Some(1_000),
            }],
            updated_at: Some("t".into()),
            ..Spend::default()
        };
        let codex = s(json!({"agent": "codex"}));
        let limits = session_rate_limits(&codex, Some(&spend), 500.0);
        assert_eq!(limits.len(), 1);
        assert_eq!(limits[0]["source"], "codex_token_count");
        assert_eq!(limits[0]["expired"], false);
        assert_eq!(session_rate_limits(&codex, Some(&spend), 1_000.0)[0]["expired"], true);
        let claude = s(json!({"agent": "claude", "statusline": {"at": "t2", "rate_limits": [
            {"name": "five_hour", "window_minutes": 300, "used_percent": 42.0, "resets_at": 2_000},
            {"name": "bad", "used_percent": "x"}]}}));
        let limits = session_rate_limits(&claude, None, 500.0);
        assert_eq!(limits.len(), 1);
        assert_eq!(
            (
                limits[0]["name"].as_str(),
                limits[0]["used_percent"].as_f64(),
                limits[0]["source"].as_str()
            ),
            (Some("five_hour"), Some(42.0), Some("statusline"))
        );
    }
}
