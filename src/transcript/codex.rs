//! Codex rollouts (`rollout-<local-ts>-<uuid>.jsonl`): the newest `token_count` with usage, the window and the model.
//!
//! Rules (formats.md §0.2, §4.2–§4.8, §8.2):
//! - usage = the newest `event_msg` whose `payload.type == "token_count"` and whose `info` is not null (the first
//!   event of a session has `info: null`); context = `info.last_token_usage.total_tokens` (`input + output` when a
//!   build leaves `total_tokens` out). An event whose usage is all zero is not usable, like Claude's.
//! - an `info` without `last_token_usage` (a build that writes only the cumulative `total_token_usage`): the usage is
//!   that total minus the total of the token_count event just before it (the file's first such event: the total
//!   itself; a predecessor without a total: unknown), as ccusage recovers it. A duplicate event then gives zero and
//!   is skipped, so the event it repeats stays the answer.
//! - window = that event's `info.model_context_window`, else the newest `task_started.model_context_window`, else
//!   [`DEFAULT_WINDOW_TOKENS`] marked as inferred.
//! - model = the newest `turn_context.model`, else the usage event's `info.model` (older builds).
//! - a `compacted` record or an `event_msg` `context_compacted` after the usage marks it compacted; the context is then
//!   unknown until the next `token_count` (the compaction turn itself can report more than the window).
//! - the older "direct" format (a bare meta object as first line, bare response items, `{"record_type":"state"}`)
//!   has no envelope `type`; its lines are skipped without error. Such files carry no token counts.
//! - lines of types amc does not know (`token_usage_record`, `world_state`, 0.169's `thread_settings_applied` and
//!   `item_completed` events, ...) and unknown fields (`ordinal`, `metadata`, `last_usage_includes_reasoning`) are
//!   ignored; only `token_count` carries the usage read.

use std::{borrow::Cow, sync::LazyLock};

use serde::{Deserialize, Serialize};

use super::{
    cursor::{parse_line, BackwardSink, Lenient, LineSink, Prefilter},
    index::nested,
    spend::{self, ModelTokens, RateLimit, RawRateLimits, Sample, Spend, SAMPLES},
    window::WindowSource,
    ContextUsage, EXTRA_LOOKBACK_BYTES,
};

/// The window assumed when a rollout states none: 95 % of 272 000, what Codex reports for the gpt-5.x models
/// (formats.md §4.5).
pub const DEFAULT_WINDOW_TOKENS: u64 = 258_400;

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawLine<'a> {
    #[serde(borrow)]
    timestamp: Lenient<Cow<'a, str>>,
    #[serde(rename = "type", borrow)]
    kind: Lenient<Cow<'a, str>>,
    #[serde(borrow)]
    payload: Lenient<RawPayload<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPayload<'a> {
    #[serde(rename = "type", borrow)]
    kind: Lenient<Cow<'a, str>>,
    info: Lenient<RawInfo>,
    rate_limits: Lenient<RawRateLimits>,
    model_context_window: Lenient<u64>,
    #[serde(borrow)]
    model: Lenient<Cow<'a, str>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawInfo {
    last_token_usage: Lenient<RawTokenUsage>,
    total_token_usage: Lenient<RawTokenUsage>,
    model_context_window: Lenient<u64>,
    model: Lenient<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawTokenUsage {
    input_tokens: Lenient<u64>,
    cached_input_tokens: Lenient<u64>,
    cache_write_input_tokens: Lenient<u64>,
    output_tokens: Lenient<u64>,
    total_tokens: Lenient<u64>,
}

/// The token figures of one `TokenUsage` object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Counts {
    input: u64,
    cached: u64,
    cache_write: u64,
    output: u64,
    total: u64,
}

impl Counts {
    fn of(raw: RawTokenUsage) -> Self {
        let input = raw.input_tokens.0.unwrap_or(0);
        let output = raw.output_tokens.0.unwrap_or(0);
        Counts {
            input,
            cached: raw.cached_input_tokens.0.unwrap_or(0),
            cache_write: raw.cache_write_input_tokens.0.unwrap_or(0),
            output,
            total: raw.total_tokens.0.unwrap_or_else(|| input.saturating_add(output)),
        }
    }

    fn is_zero(&self) -> bool {
        *self == Counts::default()
    }

    /// Returns the field-wise increase from `earlier` (cumulative totals) to `self`.
    fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            input: self.input.saturating_sub(earlier.input),
            cached: self.cached.saturating_sub(earlier.cached),
            cache_write: self.cache_write.saturating_sub(earlier.cache_write),
            output: self.output.saturating_sub(earlier.output),
            total: self.total.saturating_sub(earlier.total),
        }
    }
}

/// One `token_count` event with a non-null `info`, as read.
#[derive(Debug, Default)]
struct TokenCount {
    last: Option<Counts>,
    total: Option<Counts>,
    window: Option<u64>,
    model: Option<String>,
    timestamp: Option<String>,
    /// The plan's rate limits the event reports (also on events with `info: null`).
    rate_limits: Vec<RateLimit>,
}

impl TokenCount {
    /// Returns the usage this event reports, given the cumulative total of the token_count event just before it
    /// (`None` = there is none; `Some(None)` = it had no total).
    fn usage(&self, previous_total: Option<Option<&Counts>>) -> Option<Usage> {
        let counts = match (&self.last, &self.total, previous_total) {
            (Some(last), _, _) => *last,
            (None, Some(total), None) => *total,
            (None, Some(total), Some(Some(previous))) => total.since(previous),
            (None, _, _) => return None,
        };
        (!counts.is_zero()).then(|| Usage {
            counts,
            window: self.window,
            model: self.model.clone(),
            timestamp: self.timestamp.clone(),
        })
    }
}

/// One usable `token_count` event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Usage {
    counts: Counts,
    window: Option<u64>,
    model: Option<String>,
    timestamp: Option<String>,
}

impl Usage {
    /// Returns the event as a reply sample (the context is the event's total; input net of the cached part).
    fn sample(&self) -> Sample {
        let c = &self.counts;
        Sample {
            at: self.timestamp.clone(),
            context: c.total,
            tokens: ModelTokens {
                model: self.model.clone().unwrap_or_default(),
                input: c.input.saturating_sub(c.cached),
                cached_input: c.cached,
                cache_write: c.cache_write,
                output: c.output,
            },
        }
    }
}

enum Event {
    TokenCount(TokenCount),
    /// A `token_count` with `info: null` that still reports rate limits.
    RateLimits(Vec<RateLimit>, Option<String>),
    Compacted,
    TaskWindow(u64),
    Model(String),
    Other,
}

/// Every line [`classify`] can turn into something other than [`Event::Other`] contains one of these (`compacted`
/// covers both the `compacted` record and `context_compacted`); response items, reasoning and tool output are
/// skipped unparsed.
static WANTED: LazyLock<Prefilter> =
    LazyLock::new(|| Prefilter::new(&["token_count", "compacted", "task_started", "turn_context"]));

/// Returns whether `line` can be more than [`Event::Other`], on its raw bytes.
pub(crate) fn wanted(line: &[u8]) -> bool {
    WANTED.matches(line)
}

fn classify(line: &[u8]) -> Result<Event, serde_json::Error> {
    let raw: RawLine = parse_line(line)?;
    let Some(kind) = raw.kind.0 else {
        return Ok(Event::Other);
    };
    if kind.as_ref() == "compacted" {
        return Ok(Event::Compacted);
    }
    let Some(payload) = raw.payload.0 else {
        return Ok(Event::Other);
    };
    match (kind.as_ref(), payload.kind.0.as_deref()) {
        ("event_msg", Some("token_count")) => {
            let rate_limits = payload
                .rate_limits
                .0
                .map(RawRateLimits::into_limits)
                .unwrap_or_default();
            let Some(info) = payload.info.0 else {
                return Ok(if rate_limits.is_empty() {
                    Event::Other
                } else {
                    Event::RateLimits(rate_limits, raw.timestamp.0.map(Cow::into_owned))
                });
            };
            Ok(Event::TokenCount(TokenCount {
                rate_limits,
                last: info.last_token_usage.0.map(Counts::of),
                total: info.total_token_usage.0.map(Counts::of),
                window: info.model_context_window.0.filter(|&w| w > 0),
                model: info.model.0,
                timestamp: raw.timestamp.0.map(Cow::into_owned),
            }))
        }
        ("event_msg", Some("context_compacted")) => Ok(Event::Compacted),
        ("event_msg", Some("task_started")) => Ok(payload
            .model_context_window
            .0
            .filter(|&w| w > 0)
            .map_or(Event::Other, Event::TaskWindow)),
        ("turn_context", _) => Ok(payload.model.0.map_or(Event::Other, |m| Event::Model(m.into_owned()))),
        _ => Ok(Event::Other),
    }
}

/// What a Codex cursor remembers between passes (and what the index keeps per rollout).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    usage: Option<Usage>,
    /// A compaction follows `usage`.
    compacted: bool,
    /// The newest `task_started.model_context_window`.
    task_window: Option<u64>,
    /// The newest `turn_context.model`.
    model: Option<String>,
    /// The cumulative total of the newest token_count event: `None` before the first, `Some(None)` when it had none.
    #[serde(with = "nested")]
    last_total: Option<Option<Counts>>,
    /// The newest rate limits reported, and that event's timestamp.
    #[serde(default)]
    rate_limits: Option<(Vec<RateLimit>, Option<String>)>,
    /// The newest usable token_count events, oldest first.
    #[serde(default)]
    samples: Vec<Sample>,
}

impl State {
    /// Returns what the rollout says about spending: the newest cumulative total under the session's model, and the
    /// newest rate limits.
    pub(crate) fn spend(&self) -> Spend {
        let model = self
            .model
            .clone()
            .or_else(|| self.usage.as_ref().and_then(|u| u.model.clone()))
            .unwrap_or_default();
        let tokens = match &self.last_total {
            Some(Some(total)) => vec![ModelTokens {
                model,
                // Codex counts the cached input inside `input_tokens`.
                input: total.input.saturating_sub(total.cached),
                cached_input: total.cached,
                cache_write: total.cache_write,
                output: total.output,
            }],
            _ => Vec::new(),
        };
        let (rate_limits, limits_at) = self.rate_limits.clone().unwrap_or_default();
        Spend {
            reported: None,
            tokens_complete: !tokens.is_empty(),
            tokens,
            rate_limits,
            updated_at: self.usage.as_ref().and_then(|u| u.timestamp.clone()).or(limits_at),
            samples: self.samples.clone(),
        }
    }

    /// Returns the context usage this state describes, or `None` without a usable `token_count`.
    pub(crate) fn context_usage(&self) -> Option<ContextUsage> {
        let usage = self.usage.as_ref()?;
        let (window_tokens, window_source) = match usage.window.or(self.task_window) {
            Some(window) => (window, WindowSource::AgentReported),
            None => (DEFAULT_WINDOW_TOKENS, WindowSource::Default),
        };
        let counts = &usage.counts;
        Some(ContextUsage {
            current_tokens: if self.compacted { None } else { Some(counts.total) },
            window_tokens,
            window_inferred: window_source.is_inferred(),
            window_source,
            model: self.model.clone().or_else(|| usage.model.clone()),
            input_tokens: counts.input,
            output_tokens: counts.output,
            cache_read_tokens: counts.cached,
            cache_creation_tokens: counts.cache_write,
            compacted: self.compacted,
            updated_at: usage.timestamp.clone(),
        })
    }
}

impl LineSink for State {
    fn wanted(&self, line: &[u8]) -> bool {
        wanted(line)
    }

    fn line(&mut self, line: &[u8]) -> Result<(), serde_json::Error> {
        match classify(line)? {
            Event::RateLimits(limits, at) => self.rate_limits = Some((limits, at)),
            Event::TokenCount(count) => {
                if !count.rate_limits.is_empty() {
                    self.rate_limits = Some((count.rate_limits.clone(), count.timestamp.clone()));
                }
                let previous = self.last_total.as_ref().map(Option::as_ref);
                if let Some(usage) = count.usage(previous) {
                    spend::push_sample(&mut self.samples, usage.sample());
                    self.usage = Some(usage);
                    self.compacted = false;
                }
                self.last_total = Some(count.total);
            }
            Event::Compacted => self.compacted = self.usage.is_some(),
            Event::TaskWindow(window) => self.task_window = Some(window),
            Event::Model(model) => self.model = Some(model),
            Event::Other => {}
        }
        Ok(())
    }
}

/// How far past the newest usage a first read goes on for older reply samples.
const SAMPLE_LOOKBACK_BYTES: u64 = 1024 * 1024;

fn at_lookback(found_at: u64, pos: u64) -> bool {
    found_at.saturating_sub(pos) >= SAMPLE_LOOKBACK_BYTES
}

/// The first read of a rollout, newest line first.
///
/// Stops once the newest usage is found and its window and model are known; when the window or model is missing near
/// it, the read goes on for at most [`EXTRA_LOOKBACK_BYTES`] past the usage line. An event that needs its
/// predecessor's total waits for the next older token_count event (within the same bound).
#[derive(Debug, Default)]
pub(crate) struct Backward {
    state: State,
    /// A compaction met before any usage.
    pending_compaction: bool,
    /// The newest event not yet settled because its usage needs the total of the event before it: the event, where it
    /// starts, and whether a compaction follows it.
    waiting: Option<(TokenCount, u64, bool)>,
    /// Where the newest usable event (or the one `waiting`) starts.
    found_at: Option<u64>,
}

impl Backward {
    /// Returns the state for forward reads from the end of the file.
    pub(crate) fn into_state(mut self) -> State {
        self.state.samples.reverse();
        self.state
    }

    fn settle(&mut self, usage: Usage, start: u64, compacted: bool) {
        self.state.samples.push(usage.sample());
        self.state.usage = Some(usage);
        self.state.compacted = compacted;
        self.found_at = Some(start);
        self.waiting = None;
    }
}

impl BackwardSink for Backward {
    fn wanted(&self, line: &[u8]) -> bool {
        wanted(line)
    }

    fn line(&mut self, line: &[u8], start: u64) -> Result<(), serde_json::Error> {
        match classify(line)? {
            Event::RateLimits(limits, at) => {
                self.state.rate_limits.get_or_insert((limits, at));
            }
            Event::TokenCount(count) => {
                if self.state.last_total.is_none() {
                    self.state.last_total = Some(count.total);
                }
                if !count.rate_limits.is_empty() && self.state.rate_limits.is_none() {
                    self.state.rate_limits = Some((count.rate_limits.clone(), count.timestamp.clone()));
                }
                if self.state.usage.is_some() {
                    // Older events: reply samples only (newest first here; turned round in `into_state`).
                    if self.state.samples.len() < SAMPLES {
                        if let Some(usage) = count.last.is_some().then(|| count.usage(None)).flatten() {
                            self.state.samples.push(usage.sample());
                        }
                    }
                    return Ok(());
                }
                // This event is the predecessor of the one waiting: settle that one first.
                if let Some((held, held_start, compacted)) = self.waiting.take() {
                    if let Some(usage) = held.usage(Some(count.total.as_ref())) {
                        self.settle(usage, held_start, compacted);
                        return Ok(());
                    }
                    // Zero (a duplicate) or unknown: this older event is the next candidate.
                    self.found_at = None;
                }
                if count.last.is_some() {
                    if let Some(usage) = count.usage(None) {
                        self.settle(usage, start, self.pending_compaction);
                    }
                } else if count.total.is_some() {
                    self.waiting = Some((count, start, self.pending_compaction));
                    self.found_at = Some(start);
                }
            }
            Event::Compacted => self.pending_compaction |= self.state.usage.is_none(),
            Event::TaskWindow(window) => {
                self.state.task_window.get_or_insert(window);
            }
            Event::Model(model) => {
                self.state.model.get_or_insert(model);
            }
            Event::Other => {}
        }
        Ok(())
    }

    fn determined(&mut self, pos: u64) -> bool {
        let Some(found_at) = self.found_at else {
            return false;
        };
        if found_at.saturating_sub(pos) >= EXTRA_LOOKBACK_BYTES {
            return true;
        }
        let state = &self.state;
        if state.samples.len() < SAMPLES && !at_lookback(found_at, pos) {
            return false;
        }
        let window_known = state.usage.as_ref().is_some_and(|u| u.window.is_some()) || state.task_window.is_some();
        self.waiting.is_none() && state.usage.is_some() && window_known && state.model.is_some()
    }

    fn finished(&mut self, at_start: bool) {
        // The file's first token_count event: its cumulative total is its own usage.
        if let Some((held, held_start, compacted)) = self.waiting.take() {
            if let Some(usage) = at_start.then(|| held.usage(None)).flatten() {
                self.settle(usage, held_start, compacted);
            }
        }
    }
}

#[cfg(test)]
mod transcript_tests {
    use super::super::{test_util::*, ContextUsage, TranscriptCache, TranscriptKind};

    fn codex(name: &str) -> Option<ContextUsage> {
        both_ways(&fixture(name), TranscriptKind::Codex, None)
    }

    #[test]
    fn newest_token_count_with_info() {
        // info:null first; the last two token_count events are identical duplicates.
        let u = codex("codex-0.104.jsonl").expect("usage");
        assert_eq!(u.current_tokens, Some(48_969 + 245));
        assert_eq!(
            (
                u.input_tokens,
                u.cache_read_tokens,
                u.output_tokens,
                u.cache_creation_tokens
            ),
            (48_969, 44_288, 245, 0)
        );
        assert_eq!((u.window_tokens, u.window_inferred), (258_400, false));
        assert_eq!(u.model.as_deref(), Some("gpt-5.3-codex"));
        // The newest of the duplicates.
        assert_eq!(u.updated_at.as_deref(), Some("2026-02-23T19:34:52.589Z"));
        assert!(!u.compacted);
        assert_eq!(u.to_json()["percent"], 19.0);
    }

    #[test]
    fn info_null_alone_is_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("rollout.jsonl");
        let text = std::fs::read_to_string(fixture("codex-0.104.jsonl")).expect("read");
        let head: String = text.split_inclusive('\n').take(7).collect();
        assert!(head.contains(r#""info":null"#));
        append(&path, head.as_bytes());
        assert_eq!(both_ways(&path, TranscriptKind::Codex, None), None);
    }

    #[test]
    fn compaction_marks_the_usage_and_a_new_count_clears_it() {
        let u = codex("codex-compaction.jsonl").expect("usage");
        assert!(u.compacted);
        assert_eq!(u.current_tokens, None);
        assert_eq!(u.input_tokens, 940_000);

        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("rollout.jsonl");
        let text = std::fs::read_to_string(fixture("codex-compaction.jsonl")).expect("read");
        // Without the compaction records, the compaction turn's count is above the window: clamped to 100 %.
        let before: String = text.split_inclusive('\n').take(5).collect();
        append(&path, before.as_bytes());
        let mut cache = TranscriptCache::new(None);
        let u = cache.context_usage(&path, TranscriptKind::Codex).expect("usage");
        assert_eq!((u.current_tokens, u.percent()), (Some(940_499), 100.0));
        let rest: String = text.split_inclusive('\n').skip(5).collect();
        append(&path, rest.as_bytes());
        assert!(
            cache
                .context_usage(&path, TranscriptKind::Codex)
                .expect("usage")
                .compacted
        );
        append(
            &path,
            codex_token_count(48_000, 20_000, 687, Some(258_400), "2026-02-23T20:07:00.000Z").as_bytes(),
        );
        let u = cache.context_usage(&path, TranscriptKind::Codex).expect("usage");
        assert_eq!((u.compacted, u.current_tokens), (false, Some(48_687)));
        assert_eq!(both_ways(&path, TranscriptKind::Codex, None), Some(u));
    }

    #[test]
    fn window_from_task_started() {
        let u = codex("codex-0.169-task-started-window.jsonl").expect("usage");
        assert_eq!((u.window_tokens, u.window_inferred), (475_000, false));
        assert_eq!(u.current_tokens, Some(30_112));
        assert_eq!(u.cache_creation_tokens, 29_000);
        assert_eq!(u.model.as_deref(), Some("gpt-6.1-terra"));
    }

    #[test]
    fn no_window_anywhere_is_inferred() {
        let u = codex("codex-no-window.jsonl").expect("usage");
        assert_eq!(
            (u.window_tokens, u.window_inferred),
            (super::DEFAULT_WINDOW_TOKENS, true)
        );
        assert_eq!(u.model.as_deref(), Some("gpt-5-codex"));
    }

    #[test]
    fn direct_format_reads_without_failing() {
        assert_eq!(codex("codex-direct.jsonl"), None);
        // Resumed by a newer Codex: envelope lines appended after the direct ones are read.
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("rollout.jsonl");
        std::fs::copy(fixture("codex-direct.jsonl"), &path).expect("copy");
        let mut cache = TranscriptCache::new(None);
        assert_eq!(cache.context_usage(&path, TranscriptKind::Codex), None);
        append(
            &path,
            codex_token_count(9_000, 0, 100, Some(258_400), "2025-09-06T10:00:00.000Z").as_bytes(),
        );
        assert_eq!(
            cache
                .context_usage(&path, TranscriptKind::Codex)
                .and_then(|u| u.current_tokens),
            Some(9_100)
        );
    }

    /// Writes `lines` to a fresh rollout and returns its usage, read both ways.
    fn usage_of(lines: &[String]) -> Option<ContextUsage> {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("rollout.jsonl");
        append(&path, lines.concat().as_bytes());
        both_ways(&path, TranscriptKind::Codex, None)
    }

    /// A token_count whose `info` has only the cumulative `total_token_usage` (no `last_token_usage`).
    fn totals_only(input: u64, cached: u64, output: u64, ts: &str) -> String {
        format!(
            r#"{{"timestamp":"{ts}","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{{"input_tokens":{input},"cached_input_tokens":{cached},"output_tokens":{output},"reasoning_output_tokens":0,"total_tokens":{}}},"model_context_window":258400}},"rate_limits":null}}}}"#,
            input + output
        ) + "\n"
    }

    #[test]
    fn info_without_last_token_usage_uses_the_increase_of_the_totals() {
        // The first such event: its total is its own usage.
        let u = usage_of(&[totals_only(10_000, 0, 100, "t1")]).expect("usage");
        assert_eq!(
            (u.current_tokens, u.input_tokens, u.output_tokens),
            (Some(10_100), 10_000, 100)
        );
        // Later ones: the increase over the event before. 35 000 − 10 000 input, 300 − 100 output.
        let u = usage_of(&[totals_only(10_000, 0, 100, "t1"), totals_only(35_000, 9_000, 300, "t2")]).expect("usage");
        assert_eq!(
            (
                u.current_tokens,
                u.input_tokens,
                u.cache_read_tokens,
                u.output_tokens,
                u.updated_at.as_deref()
            ),
            (Some(25_200), 25_000, 9_000, 200, Some("t2"))
        );
        // A duplicate adds nothing: the event it repeats stays the answer, with its own timestamp.
        let u = usage_of(&[
            totals_only(10_000, 0, 100, "t1"),
            totals_only(35_000, 9_000, 300, "t2"),
            totals_only(35_000, 9_000, 300, "t3"),
        ])
        .expect("usage");
        assert_eq!((u.current_tokens, u.updated_at.as_deref()), (Some(25_200), Some("t2")));
        // Mixed with a complete event before it: the difference of the totals.
        let u = usage_of(&[
            codex_token_count(10_000, 0, 100, Some(258_400), "t1"),
            totals_only(30_000, 0, 200, "t2"),
        ])
        .expect("usage");
        assert_eq!(u.current_tokens, Some(20_100));
        // After an event without totals the increase is unknown: that event stays the answer.
        let last_only =
            codex_token_count(5_000, 0, 10, Some(258_400), "t2").replace(r#""total_token_usage""#, r#""x""#);
        let u = usage_of(&[
            codex_token_count(1_000, 0, 10, Some(258_400), "t1"),
            last_only,
            totals_only(30_000, 0, 200, "t3"),
        ])
        .expect("usage");
        assert_eq!((u.current_tokens, u.updated_at.as_deref()), (Some(5_010), Some("t2")));
        // Compaction after it marks it compacted.
        let u = usage_of(&[
            totals_only(10_000, 0, 100, "t1"),
            totals_only(35_000, 9_000, 300, "t2"),
            r#"{"timestamp":"t3","type":"event_msg","payload":{"type":"context_compacted"}}"#.to_string() + "\n",
        ])
        .expect("usage");
        assert_eq!((u.compacted, u.current_tokens), (true, None));
        // Incrementally, a totals-only event is measured against the one read in an earlier pass.
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("rollout.jsonl");
        append(&path, totals_only(10_000, 0, 100, "t1").as_bytes());
        let mut cache = TranscriptCache::new(None);
        assert_eq!(
            cache
                .context_usage(&path, TranscriptKind::Codex)
                .and_then(|u| u.current_tokens),
            Some(10_100)
        );
        append(&path, totals_only(12_000, 0, 150, "t2").as_bytes());
        assert_eq!(
            cache
                .context_usage(&path, TranscriptKind::Codex)
                .and_then(|u| u.current_tokens),
            Some(2_050)
        );
    }

    #[test]
    fn info_with_neither_usage_or_all_zero_usage_is_skipped() {
        let good = codex_token_count(20_000, 1_000, 50, Some(258_400), "t1");
        let zero = codex_token_count(0, 0, 0, Some(258_400), "t2");
        let bare = r#"{"timestamp":"t3","type":"event_msg","payload":{"type":"token_count","info":{"model_context_window":258400},"rate_limits":null}}"#.to_string() + "\n";
        let odd = r#"{"timestamp":"t4","type":"event_msg","payload":{"type":"token_count","info":{"last_token_usage":"n/a","total_token_usage":null}}}"#.to_string() + "\n";
        let u = usage_of(&[good.clone(), zero.clone(), bare.clone(), odd.clone()]).expect("usage");
        assert_eq!((u.current_tokens, u.updated_at.as_deref()), (Some(20_050), Some("t1")));
        assert_eq!(usage_of(&[zero, bare, odd]), None);
    }

    #[test]
    fn newer_cli_lines_and_fields_are_ignored() {
        // 0.169-style lines: ordinal on every line, token_usage_record, thread_settings_applied, item_completed,
        // world_state, turn_aborted with root_turn_id, metadata on response items, info fields amc does not read.
        let lines = [
            r#"{"timestamp":"t0","type":"session_meta","payload":{"id":"019d","session_id":"019d","cwd":"/p","originator":"codex_exec","cli_version":"0.169.0","history_mode":"full","runtime_workspace_roots":["/p"]},"ordinal":0}"#,
            r#"{"timestamp":"t1","type":"turn_context","payload":{"turn_id":"a","cwd":"/p","model":"gpt-5.5","effort":"high","summary":"auto","permission_profile":{"name":"x"}},"ordinal":1}"#,
            r#"{"timestamp":"t2","type":"world_state","payload":{"anything":[1,2,3]},"ordinal":2}"#,
            r#"{"timestamp":"t3","type":"response_item","payload":{"type":"message","role":"assistant","content":[{"type":"output_text","text":"hi"}]},"metadata":{"turn_id":"a"},"ordinal":3}"#,
            r#"{"timestamp":"t4","type":"token_usage_record","payload":{"input_tokens":999999,"output_tokens":999999,"total_tokens":1999998},"ordinal":4}"#,
            r#"{"timestamp":"t5","type":"event_msg","payload":{"type":"token_count","info":{"total_token_usage":{"input_tokens":41000,"cached_input_tokens":40000,"output_tokens":500,"reasoning_output_tokens":200,"total_tokens":41500,"cache_write_input_tokens":0},"last_token_usage":{"input_tokens":41000,"cached_input_tokens":40000,"output_tokens":500,"reasoning_output_tokens":200,"total_tokens":41500,"cache_write_input_tokens":0},"model_context_window":258400,"last_usage_includes_reasoning":true},"rate_limits":{"limit_id":"codex","primary":null}},"ordinal":5}"#,
            r#"{"timestamp":"t6","type":"event_msg","payload":{"type":"item_completed","item":{"type":"agent_message","text":"done"}},"ordinal":6}"#,
            r#"{"timestamp":"t7","type":"event_msg","payload":{"type":"thread_settings_applied","model":"gpt-5.5"},"ordinal":7}"#,
            r#"{"timestamp":"t8","type":"event_msg","payload":{"type":"turn_aborted","reason":"interrupted","turn_id":"a","root_turn_id":"a","started_at":1},"ordinal":8}"#,
        ];
        let all: Vec<String> = lines.iter().map(|l| l.to_string() + "\n").collect();
        let u = usage_of(&all).expect("usage");
        assert_eq!(
            (
                u.current_tokens,
                u.window_tokens,
                u.model.as_deref(),
                u.updated_at.as_deref()
            ),
            (Some(41_500), 258_400, Some("gpt-5.5"), Some("t5"))
        );
        assert_eq!(u.to_json()["percent"], 16.1);
    }

    #[test]
    fn window_override_does_not_apply_to_codex() {
        let u = both_ways(&fixture("codex-0.104.jsonl"), TranscriptKind::Codex, Some(1_000_000)).expect("usage");
        assert_eq!(u.window_tokens, 258_400);
    }
}
