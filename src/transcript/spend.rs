//! What a transcript says about spending: the cost the agent itself reports, the cumulative tokens per model (for a
//! price-table estimate) and the plan's rate limits. Kept in the transcript index with the context facts.
//!
//! - Claude Code 2.1.x writes `cost-state` lines (last wins): `{type: "cost-state", sessionId, totalCostUSD,
//!   totalAPIDuration, …, modelUsage: {<model>: {inputTokens, outputTokens, cacheReadInputTokens,
//!   cacheCreationInputTokens, webSearchRequests, costUSD, …}}}`. The pinned Claude Code's own schema requires every
//!   figure to be a finite number ≥ 0, `totalCostUSD` at most 1e9; a line outside it is skipped (Claude Code skips it
//!   too).
//! - Claude transcripts without `cost-state`: the per-request `message.usage` of the usable assistant lines, summed
//!   per model (the lines of one split message share `message.id` and are counted once). `complete` says whether every
//!   line was read (a first read from the end stops early on long files; the sum is then a lower bound).
//! - Codex: the newest `token_count`'s cumulative `total_token_usage` (in the context state) and its `rate_limits`
//!   (`primary`/`secondary`: `used_percent`, `window_minutes`, `resets_at` in Unix seconds).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::cursor::Lenient;

/// The largest cost a `cost-state` line may state (Claude Code's own bound).
pub const MAX_REPORTED_USD: f64 = 1e9;

/// Cumulative tokens of one model.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelTokens {
    /// The model id as the agent wrote it.
    pub model: String,
    /// Uncached input tokens.
    pub input: u64,
    /// Input tokens read from the prompt cache.
    pub cached_input: u64,
    /// Input tokens written to the prompt cache.
    pub cache_write: u64,
    /// Output tokens.
    pub output: u64,
}

impl ModelTokens {
    /// Returns all the tokens.
    pub fn total(&self) -> u64 {
        self.input
            .saturating_add(self.cached_input)
            .saturating_add(self.cache_write)
            .saturating_add(self.output)
    }

    pub(crate) fn add(&mut self, other: &ModelTokens) {
        self.input = self.input.saturating_add(other.input);
        self.cached_input = self.cached_input.saturating_add(other.cached_input);
        self.cache_write = self.cache_write.saturating_add(other.cache_write);
        self.output = self.output.saturating_add(other.output);
    }

    pub(crate) fn sub(&mut self, other: &ModelTokens) {
        self.input = self.input.saturating_sub(other.input);
        self.cached_input = self.cached_input.saturating_sub(other.cached_input);
        self.cache_write = self.cache_write.saturating_sub(other.cache_write);
        self.output = self.output.saturating_sub(other.output);
    }
}

/// The cost an agent reports itself (Claude's `cost-state`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportedCost {
    /// The session's total cost in US dollars.
    pub usd: f64,
    /// The cumulative tokens per model the line states.
    pub models: Vec<ModelTokens>,
}

/// One rate-limit window of the agent's plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimit {
    /// The window's name: `primary`/`secondary` (Codex), `five_hour`/`seven_day` (Claude).
    pub name: String,
    /// The window's length in minutes, when stated.
    pub window_minutes: Option<u64>,
    /// How much of the window is used, 0..=100.
    pub used_percent: f64,
    /// When the window resets (Unix seconds), when stated.
    pub resets_at: Option<i64>,
}

/// How many of the newest replies a transcript state keeps as [`Sample`]s.
pub const SAMPLES: usize = 48;

/// One assistant reply (Claude) or `token_count` (Codex): its time, the context after it and its tokens.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    /// The line's timestamp.
    pub at: Option<String>,
    /// Tokens in context after the reply.
    pub context: u64,
    /// The reply's own tokens.
    pub tokens: ModelTokens,
}

/// Appends `sample` to `samples` (oldest first), keeping the newest [`SAMPLES`].
pub(crate) fn push_sample(samples: &mut Vec<Sample>, sample: Sample) {
    samples.push(sample);
    if samples.len() > SAMPLES {
        samples.remove(0);
    }
}

/// What a transcript says about spending.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Spend {
    /// The agent's own cost figure (Claude `cost-state`).
    pub reported: Option<ReportedCost>,
    /// Cumulative tokens per model.
    pub tokens: Vec<ModelTokens>,
    /// Whether `tokens` covers the whole transcript (else a lower bound).
    pub tokens_complete: bool,
    /// The plan's rate limits as last reported (Codex `token_count.rate_limits`).
    pub rate_limits: Vec<RateLimit>,
    /// The timestamp of the newest line these facts come from.
    pub updated_at: Option<String>,
    /// The newest replies, oldest first (at most [`SAMPLES`]).
    pub samples: Vec<Sample>,
}

/// A `cost-state` line's fields amc reads.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RawCostState {
    #[serde(rename = "totalCostUSD")]
    total_cost_usd: Lenient<f64>,
    #[serde(rename = "modelUsage")]
    model_usage: Lenient<HashMap<String, Lenient<RawModelUsage>>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawModelUsage {
    #[serde(rename = "inputTokens")]
    input: Lenient<f64>,
    #[serde(rename = "outputTokens")]
    output: Lenient<f64>,
    #[serde(rename = "cacheReadInputTokens")]
    cache_read: Lenient<f64>,
    #[serde(rename = "cacheCreationInputTokens")]
    cache_creation: Lenient<f64>,
}

/// Returns a token figure when it is a finite, whole-ish number in range.
fn count(value: Lenient<f64>) -> Option<u64> {
    let v = value.0?;
    (v.is_finite() && (0.0..=1e15).contains(&v)).then_some(v as u64)
}

impl RawCostState {
    /// Returns the reported cost, or `None` when the line is outside the schema (a negative, absurd or missing
    /// cost, a model entry without its four token figures).
    pub(crate) fn into_cost(self) -> Option<ReportedCost> {
        let usd = self.total_cost_usd.0?;
        if !usd.is_finite() || !(0.0..=MAX_REPORTED_USD).contains(&usd) {
            return None;
        }
        let mut models = Vec::new();
        for (model, usage) in self.model_usage.0.unwrap_or_default() {
            let usage = usage.0?;
            models.push(ModelTokens {
                model,
                input: count(usage.input)?,
                cached_input: count(usage.cache_read)?,
                cache_write: count(usage.cache_creation)?,
                output: count(usage.output)?,
            });
        }
        models.sort_by(|a, b| a.model.cmp(&b.model));
        Some(ReportedCost { usd, models })
    }
}

/// Codex `rate_limits` (0.77 … 0.169).
#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct RawRateLimits {
    primary: Lenient<RawWindow>,
    secondary: Lenient<RawWindow>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawWindow {
    used_percent: Lenient<f64>,
    window_minutes: Lenient<u64>,
    resets_at: Lenient<i64>,
}

impl RawRateLimits {
    /// Returns the windows stated with a usable percentage.
    pub(crate) fn into_limits(self) -> Vec<RateLimit> {
        [("primary", self.primary), ("secondary", self.secondary)]
            .into_iter()
            .filter_map(|(name, window)| {
                let window = window.0?;
                let used = window.used_percent.0.filter(|p| p.is_finite() && *p >= 0.0)?;
                Some(RateLimit {
                    name: name.to_owned(),
                    window_minutes: window.window_minutes.0.filter(|m| *m > 0),
                    used_percent: used.min(100.0),
                    resets_at: window.resets_at.0.filter(|t| *t > 0),
                })
            })
            .collect()
    }
}

/// Adds `tokens` to the per-model list `totals`.
pub(crate) fn add_to(totals: &mut Vec<ModelTokens>, tokens: &ModelTokens) {
    match totals.iter_mut().find(|t| t.model == tokens.model) {
        Some(total) => total.add(tokens),
        None => totals.push(tokens.clone()),
    }
}

/// Subtracts `tokens` from the per-model list `totals`.
pub(crate) fn sub_from(totals: &mut [ModelTokens], tokens: &ModelTokens) {
    if let Some(total) = totals.iter_mut().find(|t| t.model == tokens.model) {
        total.sub(tokens);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(line: &str) -> Option<ReportedCost> {
        serde_json::from_str::<RawCostState>(line).ok()?.into_cost()
    }

    #[test]
    fn cost_state_in_the_pinned_shape() {
        // The fields and bounds of Claude Code 2.1.331's own `cost-state` schema.
        let line = r#"{"type":"cost-state","sessionId":"s1","totalCostUSD":0.4213,"totalAPIDuration":5123,"totalAPIDurationWithoutRetries":5000,"totalToolDuration":120,"totalLinesAdded":3,"totalLinesRemoved":1,"totalDuration":60000,"startTime":1780000000000,"modelUsage":{"claude-opus-5-5":{"inputTokens":1200,"outputTokens":800,"thinkingTokens":0,"cacheReadInputTokens":50000,"cacheCreationInputTokens":9000,"webSearchRequests":0,"costUSD":0.4013},"claude-haiku-4-5-20251001":{"inputTokens":10,"outputTokens":20,"cacheReadInputTokens":0,"cacheCreationInputTokens":0,"webSearchRequests":0,"costUSD":0.02}}}"#;
        let c = cost(line).expect("cost");
        assert_eq!(c.usd, 0.4213);
        assert_eq!(c.models.len(), 2);
        assert_eq!(c.models[1].model, "claude-opus-5-5");
        assert_eq!(
            (
                c.models[1].input,
                c.models[1].cached_input,
                c.models[1].cache_write,
                c.models[1].output
            ),
            (1200, 50000, 9000, 800)
        );
    }

    #[test]
    fn cost_state_out_of_schema_is_refused() {
        assert!(cost(r#"{"type":"cost-state","totalCostUSD":-1}"#).is_none());
        assert!(cost(r#"{"type":"cost-state","totalCostUSD":2e9}"#).is_none());
        assert!(cost(r#"{"type":"cost-state","totalCostUSD":"3"}"#).is_none());
        assert!(cost(r#"{"type":"cost-state"}"#).is_none());
        assert!(cost(r#"{"type":"cost-state","totalCostUSD":1,"modelUsage":{"m":{"inputTokens":-5,"outputTokens":1,"cacheReadInputTokens":0,"cacheCreationInputTokens":0}}}"#).is_none());
        assert!(cost(r#"{"type":"cost-state","totalCostUSD":1,"modelUsage":{"m":{"outputTokens":1}}}"#).is_none());
        // Partial but within the schema: no model usage yet.
        assert_eq!(
            cost(r#"{"type":"cost-state","totalCostUSD":0}"#).map(|c| c.usd),
            Some(0.0)
        );
    }

    #[test]
    fn codex_rate_limits() {
        let raw: RawRateLimits = serde_json::from_str(r#"{"limit_id":"codex","limit_name":null,"primary":{"used_percent":5.0,"window_minutes":300,"resets_at":1771864834},"secondary":{"used_percent":250.0,"window_minutes":10080,"resets_at":1772355702},"credits":{"has_credits":false,"unlimited":false,"balance":null}}"#).expect("parse");
        let limits = raw.into_limits();
        assert_eq!(limits.len(), 2);
        assert_eq!(limits[0].name, "primary");
        assert_eq!(
            (limits[0].window_minutes, limits[0].used_percent, limits[0].resets_at),
            (Some(300), 5.0, Some(1771864834))
        );
        assert_eq!(limits[1].used_percent, 100.0);
        let raw: RawRateLimits =
            serde_json::from_str(r#"{"primary":{"used_percent":null},"secondary":null}"#).expect("parse");
        assert!(raw.into_limits().is_empty());
    }
}

#[cfg(test)]
mod transcript_tests {
    use super::super::{test_util::*, TranscriptCache, TranscriptKind};
    use super::*;

    /// Returns the spend of `path` read backwards on first sight, after checking a forward read line by line agrees
    /// on everything but `tokens_complete` (a forward read from the first byte always covers the whole file).
    fn both_ways(path: &std::path::Path, kind: TranscriptKind) -> Spend {
        let mut cache = TranscriptCache::new(None);
        cache.context_usage(path, kind);
        let backward = cache.refreshed_spend(path, kind).expect("read");
        let tmp = tempfile::tempdir().expect("tempdir");
        let grown = tmp.path().join("grown.jsonl");
        append(&grown, b"");
        let mut cache = TranscriptCache::new(None);
        cache.context_usage(&grown, kind);
        for line in std::fs::read(path).expect("read").split_inclusive(|&b| b == b'\n') {
            append(&grown, line);
            cache.context_usage(&grown, kind);
        }
        let forward = cache.refreshed_spend(&grown, kind).expect("read");
        assert_eq!(forward.reported, backward.reported);
        assert_eq!(forward.tokens, backward.tokens);
        assert_eq!(forward.rate_limits, backward.rate_limits);
        backward
    }

    #[test]
    fn claude_2_1_331_cost_state_and_a_split_message_counted_once() {
        let spend = both_ways(&fixture("claude-2.1.331.jsonl"), TranscriptKind::Claude);
        let reported = spend.reported.expect("cost-state");
        assert_eq!(reported.usd, 1.93);
        assert_eq!(reported.models[0].model, "claude-opus-5-5");
        assert_eq!(reported.models[0].cached_input, 2_400_000);
        // Two lines of msg_01Five0001 (output 5, then 48): counted once, with the final output.
        assert_eq!(
            spend.tokens,
            vec![ModelTokens {
                model: "claude-opus-5-5".into(),
                input: 2,
                cached_input: 0,
                cache_write: 21_000,
                output: 48,
            }]
        );
        assert!(spend.tokens_complete);
    }

    #[test]
    fn claude_without_cost_state_sums_every_message() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("t.jsonl");
        let mut text = String::new();
        text += &claude_user("hi", "2026-12-05T10:00:00Z");
        text += &claude_assistant("m1", "claude-sonnet-4-5", [10, 100, 0, 5], "2026-12-05T10:00:01Z", "");
        text += &claude_assistant("m1", "claude-sonnet-4-5", [10, 100, 0, 50], "2026-12-05T10:00:02Z", "");
        text += &claude_assistant("m2", "claude-haiku-4-5", [1, 0, 100, 7], "2026-12-05T10:01:00Z", "");
        text += r#"{"type":"cost-state","totalCostUSD":-4,"modelUsage":{}}"#;
        text += "\n";
        append(&path, text.as_bytes());
        let spend = both_ways(&path, TranscriptKind::Claude);
        assert_eq!(spend.reported, None, "a negative cost-state is refused");
        let mut tokens = spend.tokens.clone();
        tokens.sort_by(|a, b| a.model.cmp(&b.model));
        assert_eq!(
            tokens.iter().map(|t| (t.model.as_str(), t.total())).collect::<Vec<_>>(),
            vec![("claude-haiku-4-5", 108), ("claude-sonnet-4-5", 160)]
        );
        assert_eq!(spend.updated_at.as_deref(), Some("2026-12-05T10:01:00Z"));
    }

    #[test]
    fn codex_rate_limits_and_cumulative_tokens() {
        let spend = both_ways(&fixture("codex-0.104.jsonl"), TranscriptKind::Codex);
        assert_eq!(
            spend.tokens,
            vec![ModelTokens {
                model: "gpt-5.3-codex".into(),
                input: 135_959 - 90_624,
                cached_input: 90_624,
                cache_write: 0,
                output: 545,
            }]
        );
        let limits: Vec<_> = spend
            .rate_limits
            .iter()
            .map(|l| (l.name.as_str(), l.window_minutes, l.used_percent, l.resets_at))
            .collect();
        assert_eq!(
            limits,
            vec![
                ("primary", Some(300), 7.0, Some(1_771_890_497)),
                ("secondary", Some(10080), 11.0, Some(1_772_355_703))
            ]
        );
    }
}
