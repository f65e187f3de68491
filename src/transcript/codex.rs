//! Codex rollouts (`rollout-<local-ts>-<uuid>.jsonl`): the newest `token_count` with usage, the window and the model.
//!
//! Rules (formats.md §0.2, §4.2–§4.8, §8.2):
//! - usage = the newest `event_msg` whose `payload.type == "token_count"` and whose `info` is not null (the first
//!   event of a session has `info: null`); context = `info.last_token_usage.total_tokens`.
//! - window = that event's `info.model_context_window`, else the newest `task_started.model_context_window`, else
//!   [`DEFAULT_WINDOW_TOKENS`] marked as inferred.
//! - model = the newest `turn_context.model`, else the usage event's `info.model` (older builds).
//! - a `compacted` record or an `event_msg` `context_compacted` after the usage marks it compacted; the context is then
//!   unknown until the next `token_count` (the compaction turn itself can report more than the window).
//! - the older "direct" format (a bare meta object as first line, bare response items, `{"record_type":"state"}`)
//!   has no envelope `type`; its lines are skipped without error. Such files carry no token counts.

use serde::Deserialize;

use super::{
    cursor::{parse_line, BackwardSink, Lenient, LineSink},
    ContextUsage, EXTRA_LOOKBACK_BYTES,
};

/// The window assumed when a rollout states none: 95 % of 272 000, what Codex reports for the gpt-5.x models
/// (formats.md §4.5).
pub const DEFAULT_WINDOW_TOKENS: u64 = 258_400;

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawLine {
    timestamp: Lenient<String>,
    #[serde(rename = "type")]
    kind: Lenient<String>,
    payload: Lenient<RawPayload>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPayload {
    #[serde(rename = "type")]
    kind: Lenient<String>,
    info: Lenient<RawInfo>,
    model_context_window: Lenient<u64>,
    model: Lenient<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawInfo {
    last_token_usage: Lenient<RawTokenUsage>,
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

/// One `token_count` event with usage.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Usage {
    input: u64,
    cached: u64,
    cache_write: u64,
    output: u64,
    total: u64,
    window: Option<u64>,
    model: Option<String>,
    timestamp: Option<String>,
}

enum Event {
    Usage(Usage),
    Compacted,
    TaskWindow(u64),
    Model(String),
    Other,
}

fn classify(line: &[u8]) -> Result<Event, serde_json::Error> {
    let raw: RawLine = parse_line(line)?;
    let Some(kind) = raw.kind.0 else {
        return Ok(Event::Other);
    };
    if kind == "compacted" {
        return Ok(Event::Compacted);
    }
    let Some(payload) = raw.payload.0 else {
        return Ok(Event::Other);
    };
    match (kind.as_str(), payload.kind.0.as_deref()) {
        ("event_msg", Some("token_count")) => {
            let Some(info) = payload.info.0 else {
                return Ok(Event::Other);
            };
            let Some(last) = info.last_token_usage.0 else {
                return Ok(Event::Other);
            };
            let input = last.input_tokens.0.unwrap_or(0);
            let output = last.output_tokens.0.unwrap_or(0);
            Ok(Event::Usage(Usage {
                input,
                cached: last.cached_input_tokens.0.unwrap_or(0),
                cache_write: last.cache_write_input_tokens.0.unwrap_or(0),
                output,
                total: last.total_tokens.0.unwrap_or_else(|| input.saturating_add(output)),
                window: info.model_context_window.0.filter(|&w| w > 0),
                model: info.model.0,
                timestamp: raw.timestamp.0,
            }))
        }
        ("event_msg", Some("context_compacted")) => Ok(Event::Compacted),
        ("event_msg", Some("task_started")) => Ok(payload
            .model_context_window
            .0
            .filter(|&w| w > 0)
            .map_or(Event::Other, Event::TaskWindow)),
        ("turn_context", _) => Ok(payload.model.0.map_or(Event::Other, Event::Model)),
        _ => Ok(Event::Other),
    }
}

/// What a Codex cursor remembers between passes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct State {
    usage: Option<Usage>,
    /// A compaction follows `usage`.
    compacted: bool,
    /// The newest `task_started.model_context_window`.
    task_window: Option<u64>,
    /// The newest `turn_context.model`.
    model: Option<String>,
}

impl State {
    /// Returns the context usage this state describes, or `None` without a usable `token_count`.
    pub(crate) fn context_usage(&self) -> Option<ContextUsage> {
        let usage = self.usage.as_ref()?;
        let (window_tokens, window_inferred) = match usage.window.or(self.task_window) {
            Some(window) => (window, false),
            None => (DEFAULT_WINDOW_TOKENS, true),
        };
        Some(ContextUsage {
            current_tokens: if self.compacted { None } else { Some(usage.total) },
            window_tokens,
            window_inferred,
            model: self.model.clone().or_else(|| usage.model.clone()),
            input_tokens: usage.input,
            output_tokens: usage.output,
            cache_read_tokens: usage.cached,
            cache_creation_tokens: usage.cache_write,
            compacted: self.compacted,
            updated_at: usage.timestamp.clone(),
        })
    }
}

impl LineSink for State {
    fn line(&mut self, line: &[u8]) -> Result<(), serde_json::Error> {
        match classify(line)? {
            Event::Usage(usage) => {
                self.usage = Some(usage);
                self.compacted = false;
            }
            Event::Compacted => self.compacted = self.usage.is_some(),
            Event::TaskWindow(window) => self.task_window = Some(window),
            Event::Model(model) => self.model = Some(model),
            Event::Other => {}
        }
        Ok(())
    }
}

/// The first read of a rollout, newest line first.
///
/// Stops once the newest usage is found and its window and model are known; when the window or model is missing near
/// it, the read goes on for at most [`EXTRA_LOOKBACK_BYTES`] past the usage line.
#[derive(Debug, Default)]
pub(crate) struct Backward {
    state: State,
    /// A compaction met before any usage.
    pending_compaction: bool,
    found_at: Option<u64>,
}

impl Backward {
    /// Returns the state for forward reads from the end of the file.
    pub(crate) fn into_state(self) -> State {
        self.state
    }
}

impl BackwardSink for Backward {
    fn line(&mut self, line: &[u8], start: u64) -> Result<(), serde_json::Error> {
        let state = &mut self.state;
        match classify(line)? {
            Event::Usage(usage) => {
                if state.usage.is_none() {
                    state.usage = Some(usage);
                    state.compacted = self.pending_compaction;
                    self.found_at = Some(start);
                }
            }
            Event::Compacted => self.pending_compaction |= state.usage.is_none(),
            Event::TaskWindow(window) => {
                state.task_window.get_or_insert(window);
            }
            Event::Model(model) => {
                state.model.get_or_insert(model);
            }
            Event::Other => {}
        }
        Ok(())
    }

    fn determined(&self, pos: u64) -> bool {
        let Some(found_at) = self.found_at else {
            return false;
        };
        let state = &self.state;
        let window_known = state.usage.as_ref().is_some_and(|u| u.window.is_some()) || state.task_window.is_some();
        (window_known && state.model.is_some()) || found_at.saturating_sub(pos) >= EXTRA_LOOKBACK_BYTES
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

    #[test]
    fn window_override_does_not_apply_to_codex() {
        let u = both_ways(&fixture("codex-0.104.jsonl"), TranscriptKind::Codex, Some(1_000_000)).expect("usage");
        assert_eq!(u.window_tokens, 258_400);
    }
}
