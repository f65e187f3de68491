//! Claude Code transcripts (`<project>/<session>.jsonl`): the newest usable `message.usage` and the window.
//!
//! Rules (formats.md §0.1, §2.3–§2.7, §3.1–§3.2, §8.1):
//! - usable = a `type:"assistant"` line that is not `isSidechain`, not `isApiErrorMessage`, whose `message.model` is not
//!   `<synthetic>`, and whose `message.usage` is present and not all zero. No other line type is read for tokens:
//!   2.1.331's `cost-state` carries cumulative `modelUsage` totals, and `progress` lines embed subagent messages.
//! - context = `input_tokens + cache_creation_input_tokens + cache_read_input_tokens` (output excluded).
//! - a main-chain `system`/`compact_boundary` after that line marks it compacted; the context is then
//!   `compactMetadata.postTokens` when the boundary has it, else unknown. A main-chain `isCompactSummary` user line
//!   after the usage with no boundary after the usage (files without boundaries, §2.5) marks it compacted too, with
//!   the context unknown; it never overrides a boundary's `postTokens`.

use std::{borrow::Cow, sync::LazyLock};

use serde::{Deserialize, Serialize};

use super::{
    cursor::{parse_line, BackwardSink, Lenient, LineSink, Prefilter},
    index::nested,
    spend::{self, ModelTokens, RawCostState, ReportedCost, Sample, Spend, SAMPLES},
    window::{claude_window, is_native_1m, Stated, WindowSource, DEFAULT_WINDOW_TOKENS},
    ContextUsage, EXTRA_LOOKBACK_BYTES,
};

/// The fields of a transcript line amc reads, borrowed from the line where it has no escapes; everything else is
/// skipped unparsed.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawLine<'a> {
    #[serde(rename = "type", borrow)]
    kind: Lenient<Cow<'a, str>>,
    #[serde(borrow)]
    subtype: Lenient<Cow<'a, str>>,
    #[serde(rename = "isSidechain")]
    is_sidechain: Lenient<bool>,
    #[serde(rename = "isApiErrorMessage")]
    is_api_error: Lenient<bool>,
    #[serde(borrow)]
    timestamp: Lenient<Cow<'a, str>>,
    #[serde(borrow)]
    message: Lenient<RawMessage<'a>>,
    #[serde(rename = "compactMetadata")]
    compact_metadata: Lenient<RawCompactMetadata>,
    #[serde(rename = "isCompactSummary")]
    is_compact_summary: Lenient<bool>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawMessage<'a> {
    #[serde(borrow)]
    model: Lenient<Cow<'a, str>>,
    #[serde(borrow)]
    id: Lenient<Cow<'a, str>>,
    usage: Lenient<RawUsage>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawUsage {
    input_tokens: Lenient<u64>,
    cache_creation_input_tokens: Lenient<u64>,
    cache_read_input_tokens: Lenient<u64>,
    output_tokens: Lenient<u64>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawCompactMetadata {
    #[serde(rename = "postTokens")]
    post_tokens: Lenient<u64>,
}

/// One usable assistant usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Usage {
    model: Option<String>,
    input: u64,
    cache_creation: u64,
    cache_read: u64,
    output: u64,
    timestamp: Option<String>,
    /// `message.id`: the lines of one split message share it (their usage is counted once in the totals).
    #[serde(default)]
    id: Option<String>,
}

impl Usage {
    /// Returns the usage as a reply sample.
    fn sample(&self) -> Sample {
        Sample {
            at: self.timestamp.clone(),
            context: self.context(),
            tokens: self.tokens(),
        }
    }

    /// Returns the usage as per-model tokens for the cumulative totals.
    fn tokens(&self) -> ModelTokens {
        ModelTokens {
            model: self.model.clone().unwrap_or_default(),
            input: self.input,
            cached_input: self.cache_read,
            cache_write: self.cache_creation,
            output: self.output,
        }
    }

    /// Returns the context size: input-side tokens only.
    fn context(&self) -> u64 {
        self.input
            .saturating_add(self.cache_creation)
            .saturating_add(self.cache_read)
    }
}

/// What one line means for context usage.
enum Event {
    Usage(Usage),
    Boundary {
        post_tokens: Option<u64>,
    },
    /// A user line with `isCompactSummary: true`: the fallback compaction marker.
    Summary,
    /// A `cost-state` line within Claude Code's schema.
    Cost(ReportedCost),
    Other,
}

/// The lines [`classify`] can turn into something other than [`Event::Other`] all contain one of these: a usable
/// assistant line its `"usage"` key, a boundary (`compact_boundary`) and a summary (`isCompactSummary`) the
/// `ompact` they share (two passes instead of three; a line that merely mentions "compact" is parsed and found to be
/// nothing). Every other line (tool results, images, progress, bookkeeping: nearly all of a transcript's bytes) is
/// skipped without being parsed.
static WANTED: LazyLock<Prefilter> = LazyLock::new(|| Prefilter::new(&["\"usage\"", "ompact", "\"cost-state\""]));

/// Returns whether `line` can be more than [`Event::Other`], on its raw bytes.
pub(crate) fn wanted(line: &[u8]) -> bool {
    WANTED.matches(line)
}

fn classify(line: &[u8]) -> Result<Event, serde_json::Error> {
    let raw: RawLine = parse_line(line)?;
    let sidechain = raw.is_sidechain.0 == Some(true);
    match raw.kind.0.as_deref() {
        Some("assistant") => {
            if sidechain || raw.is_api_error.0 == Some(true) {
                return Ok(Event::Other);
            }
            let Some(message) = raw.message.0 else {
                return Ok(Event::Other);
            };
            let model = message.model.0.map(Cow::into_owned);
            if model.as_deref() == Some("<synthetic>") {
                return Ok(Event::Other);
            }
            let Some(usage) = message.usage.0 else {
                return Ok(Event::Other);
            };
            let usage = Usage {
                model,
                input: usage.input_tokens.0.unwrap_or(0),
                cache_creation: usage.cache_creation_input_tokens.0.unwrap_or(0),
                cache_read: usage.cache_read_input_tokens.0.unwrap_or(0),
                output: usage.output_tokens.0.unwrap_or(0),
                timestamp: raw.timestamp.0.map(Cow::into_owned),
                id: message.id.0.map(Cow::into_owned),
            };
            if usage.context() == 0 && usage.output == 0 {
                return Ok(Event::Other);
            }
            Ok(Event::Usage(usage))
        }
        Some("system") if raw.subtype.0.as_deref() == Some("compact_boundary") && !sidechain => Ok(Event::Boundary {
            post_tokens: raw.compact_metadata.0.and_then(|m| m.post_tokens.0),
        }),
        Some("user") if raw.is_compact_summary.0 == Some(true) && !sidechain => Ok(Event::Summary),
        Some("cost-state") => {
            let cost: RawCostState = parse_line(line)?;
            Ok(cost.into_cost().map_or(Event::Other, Event::Cost))
        }
        _ => Ok(Event::Other),
    }
}

/// What a Claude cursor remembers between passes (and what the index keeps per transcript).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct State {
    /// The newest usable usage.
    usage: Option<Usage>,
    /// `Some(post_tokens)` when a compact boundary follows `usage`.
    #[serde(with = "nested")]
    compaction: Option<Option<u64>>,
    /// The largest usable context seen (over the part of the file read; see [`Backward`]).
    max_context: u64,
    /// Whether `compaction` comes from a `compact_boundary` (an `isCompactSummary` line then changes nothing).
    boundary_after_usage: bool,
    /// Whether the first read stopped short of the history look-back because the session's configuration stated the
    /// window (`max_context` then covers less than usual): without that statement the file is read again.
    pub(crate) lookback_cut: bool,
    /// The newest `cost-state` within the schema.
    #[serde(default)]
    cost: Option<ReportedCost>,
    /// The usable usages summed per model (each split message once).
    #[serde(default)]
    totals: Vec<ModelTokens>,
    /// Whether `totals` covers every line of the file.
    #[serde(default)]
    totals_complete: bool,
    /// The newest usage's message id and tokens: a later line of the same message replaces them in `totals`.
    #[serde(default)]
    last_message: Option<(String, ModelTokens)>,
    /// The newest replies, oldest first.
    #[serde(default)]
    samples: Vec<Sample>,
}

impl State {
    /// Returns what the transcript says about spending.
    pub(crate) fn spend(&self) -> Spend {
        Spend {
            reported: self.cost.clone(),
            tokens: {
                let mut totals = self.totals.clone();
                totals.sort_by(|a, b| a.model.cmp(&b.model));
                totals
            },
            tokens_complete: self.totals_complete,
            rate_limits: Vec::new(),
            updated_at: self.usage.as_ref().and_then(|u| u.timestamp.clone()),
            samples: self.samples.clone(),
        }
    }

    /// Adds a usable usage to the totals, replacing the previous line of the same message.
    fn count(&mut self, usage: &Usage) {
        let tokens = usage.tokens();
        if let (Some((id, previous)), Some(new_id)) = (&self.last_message, &usage.id) {
            if id == new_id {
                spend::sub_from(&mut self.totals, previous);
                self.samples.pop();
            }
        }
        spend::push_sample(&mut self.samples, usage.sample());
        spend::add_to(&mut self.totals, &tokens);
        self.last_message = usage.id.clone().map(|id| (id, tokens));
    }

    /// Returns the context usage this state describes, or `None` without a usable line; `stated` is what the
    /// session's configuration says about the window.
    pub(crate) fn context_usage(&self, stated: Stated) -> Option<ContextUsage> {
        let usage = self.usage.as_ref()?;
        let current_tokens = match self.compaction {
            Some(post_tokens) => post_tokens,
            None => Some(usage.context()),
        };
        let (window_tokens, window_source) = claude_window(stated, usage.model.as_deref(), self.max_context);
        Some(ContextUsage {
            current_tokens,
            window_tokens,
            // The transcript never states the window: only AMC_CONTEXT_WINDOW and a `[1m]` choice are not a guess.
            window_inferred: !matches!(window_source, WindowSource::Override | WindowSource::ModelSetting),
            window_source,
            model: usage.model.clone(),
            input_tokens: usage.input,
            output_tokens: usage.output,
            cache_read_tokens: usage.cache_read,
            cache_creation_tokens: usage.cache_creation,
            compacted: self.compaction.is_some(),
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
            Event::Usage(usage) => {
                self.max_context = self.max_context.max(usage.context());
                self.count(&usage);
                self.usage = Some(usage);
                self.compaction = None;
                self.boundary_after_usage = false;
            }
            Event::Boundary { post_tokens } if self.usage.is_some() => {
                self.compaction = Some(post_tokens);
                self.boundary_after_usage = true;
            }
            Event::Summary if self.usage.is_some() && !self.boundary_after_usage => self.compaction = Some(None),
            Event::Cost(cost) => self.cost = Some(cost),
            Event::Boundary { .. } | Event::Summary | Event::Other => {}
        }
        Ok(())
    }
}

/// The first read of a transcript, newest line first.
///
/// The answer is determined by the newest usable line and the boundaries after it. The window's ">200K seen" rule
/// is a whole-file fact, so once the newest usable line is found the read goes on for up to
/// [`EXTRA_LOOKBACK_BYTES`] more, keeping the running maximum, unless the window is already settled (an override, a
/// native-1M model, or a context above 200K). A >200K context older than that look-back is not seen on first sight;
/// later forward reads keep the maximum up to date.
#[derive(Debug)]
pub(crate) struct Backward {
    state: State,
    /// The newest compaction met before any usable line (the newest boundary's `postTokens`, or `None` from an
    /// `isCompactSummary` line).
    pending_boundary: Option<Option<u64>>,
    /// Whether `pending_boundary` comes from a `compact_boundary` (else from an `isCompactSummary` line, which an
    /// older boundary of the same compaction replaces).
    pending_is_boundary: bool,
    /// Where the newest usable line starts.
    found_at: Option<u64>,
    /// What the session's configuration states about the window.
    stated: Stated,
    /// Whether the newest usable line's model is native 1M (decided once, not per line).
    native: bool,
    /// The message ids of the last few usages counted (a split message's lines are adjacent).
    recent_ids: Vec<String>,
}

impl Backward {
    /// Starts a backward read for a session whose configuration states `stated` about the window.
    pub(crate) fn new(stated: Stated) -> Self {
        Backward {
            state: State::default(),
            pending_boundary: None,
            pending_is_boundary: false,
            found_at: None,
            stated,
            native: false,
            recent_ids: Vec::new(),
        }
    }

    /// Returns the state for forward reads from the end of the file.
    pub(crate) fn into_state(mut self) -> State {
        self.state.samples.reverse();
        self.state
    }

    /// Returns whether the transcript itself settles the window (a native-1M usage model, a context above 200K).
    fn window_settled_by_history(&self) -> bool {
        self.native || self.state.max_context > DEFAULT_WINDOW_TOKENS
    }
}

impl BackwardSink for Backward {
    fn wanted(&self, line: &[u8]) -> bool {
        wanted(line)
    }

    fn line(&mut self, line: &[u8], start: u64) -> Result<(), serde_json::Error> {
        match classify(line)? {
            Event::Usage(usage) => {
                self.state.max_context = self.state.max_context.max(usage.context());
                // Newest line first: the first line of a message met is its last, with the final counts.
                let seen = usage.id.as_ref().is_some_and(|id| self.recent_ids.contains(id));
                if !seen {
                    spend::add_to(&mut self.state.totals, &usage.tokens());
                    if self.state.samples.len() < SAMPLES {
                        // Newest first here; turned round in `into_state`.
                        self.state.samples.push(usage.sample());
                    }
                    if let Some(id) = &usage.id {
                        if self.recent_ids.len() >= RECENT_IDS {
                            self.recent_ids.remove(0);
                        }
                        self.recent_ids.push(id.clone());
                    }
                }
                if self.state.usage.is_none() {
                    self.state.last_message = usage.id.clone().map(|id| (id, usage.tokens()));
                    self.native = usage.model.as_deref().is_some_and(is_native_1m);
                    self.state.usage = Some(usage);
                    self.state.compaction = self.pending_boundary.take();
                    self.state.boundary_after_usage = self.pending_is_boundary;
                    self.found_at = Some(start);
                }
            }
            Event::Boundary { post_tokens } => {
                if self.state.usage.is_none() && !self.pending_is_boundary {
                    self.pending_boundary = Some(post_tokens);
                    self.pending_is_boundary = true;
                }
            }
            Event::Summary => {
                if self.state.usage.is_none() && self.pending_boundary.is_none() {
                    self.pending_boundary = Some(None);
                }
            }
            Event::Cost(cost) => {
                self.state.cost.get_or_insert(cost);
            }
            Event::Other => {}
        }
        Ok(())
    }

    fn determined(&mut self, pos: u64) -> bool {
        let Some(found_at) = self.found_at else {
            return false;
        };
        // The rest of a small file (what the first chunk read from the end holds, about) is read anyway, so that
        // its token totals are whole.
        if pos <= WHOLE_READ_BYTES {
            return false;
        }
        if self.window_settled_by_history() || found_at.saturating_sub(pos) >= EXTRA_LOOKBACK_BYTES {
            return true;
        }
        // Stopped early on the configuration's word only: remembered, so that without it the file is read again.
        self.state.lookback_cut = self.stated.settles();
        self.state.lookback_cut
    }

    fn finished(&mut self, at_start: bool) {
        self.state.totals_complete = at_start;
    }
}

/// A first read goes on to the start of the file when no more than this is left (the token totals are then whole).
const WHOLE_READ_BYTES: u64 = 64 * 1024;

/// How many message ids a backward read remembers to count a split message once.
const RECENT_IDS: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::window::{model_version, EXTENDED_WINDOW_TOKENS};

    #[test]
    fn native_1m_table() {
        for model in [
            "claude-opus-4-7",
            "claude-opus-4-8",
            "claude-opus-5-5",
            "claude-opus-5",
            "claude-sonnet-5",
            "claude-sonnet-5-1-20270101",
            "claude-fable-5",
            "claude-opus-4-10",
            "claude-opus-4-6[1m]",
            "claude-opus-4-7[1m]",
            "claude-opus-4-7-20260416",
            "anthropic/claude-opus-4.7",
            "us.anthropic.claude-sonnet-5-v1:0",
            "CLAUDE-OPUS-4-8",
        ] {
            assert!(is_native_1m(model), "{model}");
        }
        for model in [
            "claude-opus-4-6",
            "claude-sonnet-4-5-20250929",
            "claude-sonnet-4-20250514",
            "claude-haiku-4-5-20251001",
            "claude-3-7-sonnet-20250219",
            "claude-opus-4-1-20250805",
            "<synthetic>",
            "",
            "gpt-5.3-codex",
            "claude-sonnet-4-6",
            "claude-haiku-5",
            "anthropic/claude-sonnet-4.5",
            "claude-opus-4.6",
            "claude-opus-4-6-20260205",
        ] {
            assert!(!is_native_1m(model), "{model}");
        }
    }

    #[test]
    fn model_versions() {
        assert_eq!(model_version("claude-opus-4-7"), Some(("opus", 4, 7)));
        assert_eq!(model_version("claude-3-5-sonnet-20240620"), Some(("sonnet", 3, 5)));
        assert_eq!(model_version("us.anthropic.claude-opus-4-7-v1:0"), Some(("opus", 4, 7)));
        assert_eq!(model_version("claude-opus-4-7@20260101"), Some(("opus", 4, 7)));
        assert_eq!(model_version("claude-sonnet-4-20250514"), Some(("sonnet", 4, 0)));
        assert_eq!(model_version("anthropic/claude-opus-4.7"), Some(("opus", 4, 7)));
        assert_eq!(model_version("claude-3.5-sonnet"), Some(("sonnet", 3, 5)));
        assert_eq!(model_version("opus"), None);
    }

    #[test]
    fn window_rules() {
        let window = |model, max| claude_window(Stated::Nothing, Some(model), max).0;
        assert_eq!(window("claude-opus-4-6", 150_000), DEFAULT_WINDOW_TOKENS);
        assert_eq!(window("claude-opus-4-6", 200_000), DEFAULT_WINDOW_TOKENS);
        assert_eq!(window("claude-opus-4-6", 200_001), EXTENDED_WINDOW_TOKENS);
        assert_eq!(window("claude-opus-4-7", 10), EXTENDED_WINDOW_TOKENS);
        assert_eq!(
            claude_window(Stated::Override(500_000), Some("claude-opus-4-7"), 10).0,
            500_000
        );
        assert_eq!(claude_window(Stated::Nothing, None, 10).0, DEFAULT_WINDOW_TOKENS);
    }
}

#[cfg(test)]
mod transcript_tests {
    use super::super::{test_util::*, ContextUsage, TranscriptCache, TranscriptKind};

    fn claude(name: &str) -> Option<ContextUsage> {
        both_ways(&fixture(name), TranscriptKind::Claude, None)
    }

    #[test]
    fn inline_sidechains_are_skipped() {
        // 1.0.108: the newest four lines are a Task sub-agent inline (isSidechain:true, up to 35 398 tokens).
        let u = claude("claude-1.0-inline-sidechain.jsonl").expect("usage");
        assert_eq!(u.current_tokens, Some(6 + 1200 + 13000));
        assert_eq!(
            (u.input_tokens, u.cache_creation_tokens, u.cache_read_tokens),
            (6, 1200, 13000)
        );
        // Split message: the newest of the two lines sharing msg_01MainAAAA has the grown output count.
        assert_eq!(u.output_tokens, 95);
        assert_eq!(u.updated_at.as_deref(), Some("2025-09-07T09:52:11.000Z"));
        assert_eq!(u.model.as_deref(), Some("claude-sonnet-4-20250514"));
        assert_eq!(
            (u.window_tokens, u.window_inferred, u.compacted),
            (200_000, true, false)
        );
        assert_eq!(u.to_json()["percent"], 7.1);
    }

    #[test]
    fn compaction_without_a_later_assistant_line() {
        let u = claude("claude-2.1-compaction.jsonl").expect("usage");
        assert!(u.compacted);
        assert_eq!(u.current_tokens, None);
        assert_eq!(u.percent(), 0.0);
        // The other fields still describe the last usage before the boundary.
        assert_eq!(
            (
                u.input_tokens,
                u.cache_creation_tokens,
                u.cache_read_tokens,
                u.output_tokens
            ),
            (1, 304, 141482, 230)
        );
        assert_eq!(u.updated_at.as_deref(), Some("2026-02-12T14:48:01.000Z"));
        // The agent_progress line embeds a 240 009-token subagent usage: not main-chain, so the window stays 200K.
        assert_eq!(u.window_tokens, 200_000);
    }

    #[test]
    fn compaction_with_post_tokens() {
        let u = claude("claude-2.1-compaction-post-tokens.jsonl").expect("usage");
        assert!(u.compacted);
        assert_eq!(u.current_tokens, Some(31_250));
        assert_eq!(u.to_json()["percent"], 15.6);
    }

    #[test]
    fn compaction_then_a_new_assistant_line() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        std::fs::copy(fixture("claude-2.1-compaction.jsonl"), &path).expect("copy");
        let mut cache = TranscriptCache::new(None);
        assert!(
            cache
                .context_usage(&path, TranscriptKind::Claude)
                .expect("usage")
                .compacted
        );
        let line = claude_assistant(
            "msg_01After",
            "claude-opus-4-6",
            [3, 45000, 260, 18],
            "2026-02-12T14:50:00.000Z",
            "",
        );
        append(&path, line.as_bytes());
        let u = cache.context_usage(&path, TranscriptKind::Claude).expect("usage");
        assert_eq!((u.compacted, u.current_tokens), (false, Some(45_263)));
        // A fresh backward read agrees.
        assert_eq!(both_ways(&path, TranscriptKind::Claude, None), Some(u));
    }

    #[test]
    fn claude_2_1_331_lines_and_native_1m_model() {
        // cost-state's modelUsage (cumulative 3.19M input-side tokens) must not be read.
        let u = claude("claude-2.1.331.jsonl").expect("usage");
        assert_eq!(u.current_tokens, Some(21_002));
        assert_eq!(u.output_tokens, 48);
        assert_eq!(u.model.as_deref(), Some("claude-opus-5-5"));
        assert_eq!(u.window_tokens, 1_000_000);
        assert_eq!(u.updated_at.as_deref(), Some("2026-08-20T10:00:04.000Z"));
    }

    #[test]
    fn synthetic_and_api_error_lines_are_skipped() {
        let u = claude("claude-synthetic-api-error.jsonl").expect("usage");
        assert_eq!(u.current_tokens, Some(18_118));
        assert_eq!(u.model.as_deref(), Some("claude-haiku-4-5-20251001"));
        assert_eq!(u.updated_at.as_deref(), Some("2026-02-02T04:10:38.784Z"));
    }

    #[test]
    fn model_switch_uses_the_newest_line_and_the_largest_context_seen() {
        let u = claude("claude-model-switch.jsonl").expect("usage");
        assert_eq!(u.model.as_deref(), Some("claude-opus-4-6"));
        assert_eq!(u.current_tokens, Some(53_002));
        // sonnet-4-6 reached 250 005 earlier in the file: the session runs with a 1M window.
        assert_eq!(u.window_tokens, 1_000_000);
        assert_eq!(u.to_json()["percent"], 5.3);
        // AMC_CONTEXT_WINDOW wins and is not an inference.
        let u = both_ways(
            &fixture("claude-model-switch.jsonl"),
            TranscriptKind::Claude,
            Some(200_000),
        )
        .expect("usage");
        assert_eq!((u.window_tokens, u.window_inferred), (200_000, false));
        assert_eq!(u.to_json()["percent"], 26.5);
    }

    #[test]
    fn subagent_files_are_not_the_session() {
        let main = fixture("claude-2.1-subagent/66666666-6666-4666-8666-666666666666.jsonl");
        let u = both_ways(&main, TranscriptKind::Claude, None).expect("usage");
        assert_eq!(u.current_tokens, Some(42_003));
        let sub = fixture("claude-2.1-subagent/66666666-6666-4666-8666-666666666666/subagents/agent-a1b2c3d.jsonl");
        assert_eq!(both_ways(&sub, TranscriptKind::Claude, None), None);
        let root = fixture("").parent().expect("parent").to_path_buf();
        let found = super::super::find_claude_transcript(
            &[root.join("transcripts")],
            "66666666-6666-4666-8666-666666666666",
            "/nowhere",
        );
        assert_eq!(found, Some(main));
    }

    /// Writes `lines` to a fresh transcript and returns its usage, read both ways.
    fn usage_of(lines: &[String]) -> Option<ContextUsage> {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        append(&path, lines.concat().as_bytes());
        both_ways(&path, TranscriptKind::Claude, None)
    }

    fn boundary(post_tokens: Option<u64>, ts: &str) -> String {
        let post = post_tokens.map_or(String::new(), |p| format!(r#","postTokens":{p}"#));
        format!(
            r#"{{"parentUuid":null,"logicalParentUuid":"x","isSidechain":false,"userType":"external","cwd":"/w","sessionId":"s","version":"2.1.39","type":"system","subtype":"compact_boundary","content":"Conversation compacted","isMeta":false,"timestamp":"{ts}","uuid":"b","level":"info","compactMetadata":{{"trigger":"auto","preTokens":167000{post}}}}}"#
        ) + "\n"
    }

    fn compact_summary(ts: &str) -> String {
        format!(
            r#"{{"parentUuid":"b","isSidechain":false,"userType":"external","cwd":"/w","sessionId":"s","version":"2.1.29","type":"user","message":{{"role":"user","content":"This session is being continued from a previous conversation that ran out of context."}},"isVisibleInTranscriptOnly":true,"isCompactSummary":true,"uuid":"c","timestamp":"{ts}"}}"#
        ) + "\n"
    }

    #[test]
    fn usage_with_nested_objects_and_newer_keys() {
        // A 2.1.331 assistant line: usage with cache_creation{…}, server_tool_use{…}, output_tokens_details,
        // iterations[], speed, inference_geo; the envelope with apiBlockIndex, requestRef, requestedModel, effort.
        let line = r#"{"parentUuid":"p","isSidechain":false,"userType":"external","entrypoint":"cli","cwd":"/w","sessionId":"s","version":"2.1.331","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_1","type":"message","role":"assistant","content":[{"type":"server_tool_use","id":"srvtoolu_1","name":"web_search","input":{"query":"x"}},{"type":"text","text":"ok"}],"stop_reason":"end_turn","stop_sequence":null,"usage":{"input_tokens":12,"cache_creation_input_tokens":3400,"cache_read_input_tokens":56000,"cache_creation":{"ephemeral_5m_input_tokens":400,"ephemeral_1h_input_tokens":3000},"output_tokens":789,"output_tokens_details":{"thinking_tokens":100},"server_tool_use":{"web_search_requests":2,"web_fetch_requests":0},"service_tier":"standard","inference_geo":"us","iterations":[{"input_tokens":12}],"speed":"standard"}},"requestId":"req_1","apiBlockIndex":1,"requestRef":"r","requestedModel":"claude-sonnet-4-5","effort":"high","type":"assistant","uuid":"u","timestamp":"2026-08-20T10:00:00.000Z"}"#;
        let u = usage_of(&[line.to_string() + "\n"]).expect("usage");
        assert_eq!(u.current_tokens, Some(12 + 3400 + 56_000));
        assert_eq!(
            (
                u.input_tokens,
                u.cache_creation_tokens,
                u.cache_read_tokens,
                u.output_tokens
            ),
            (12, 3400, 56_000, 789)
        );
        // Sonnet 4.5 (dated id) is not native 1M.
        assert_eq!(
            (u.model.as_deref(), u.window_tokens),
            (Some("claude-sonnet-4-5-20250929"), 200_000)
        );
    }

    #[test]
    fn model_ids_set_the_window() {
        for (model, window) in [
            ("claude-opus-4-7[1m]", 1_000_000),
            ("claude-opus-4-7", 1_000_000),
            ("claude-sonnet-4-5-20250929", 200_000),
            ("claude-opus-4-6", 200_000),
            ("claude-sonnet-4-20250514[1m]", 1_000_000),
        ] {
            let u = usage_of(&[claude_assistant("m", model, [1, 2, 3, 4], "t", "")]).expect("usage");
            assert_eq!((u.window_tokens, u.model.as_deref()), (window, Some(model)), "{model}");
        }
    }

    #[test]
    fn boundaries_before_and_after_the_usage() {
        let old = claude_assistant("m0", "claude-opus-4-6", [1, 1000, 160_000, 9], "t0", "");
        let new = claude_assistant("m1", "claude-opus-4-6", [2, 30_000, 0, 9], "t2", "");
        // A boundary before the usage changes nothing.
        let u = usage_of(&[old.clone(), boundary(Some(30_000), "t1"), new.clone()]).expect("usage");
        assert_eq!((u.compacted, u.current_tokens), (false, Some(30_002)));
        // Before and after: the one after counts (no postTokens: unknown).
        let u = usage_of(&[
            old.clone(),
            boundary(Some(30_000), "t1"),
            new.clone(),
            boundary(None, "t3"),
        ])
        .expect("usage");
        assert_eq!(
            (u.compacted, u.current_tokens, u.updated_at.as_deref()),
            (true, None, Some("t2"))
        );
        // Two after: the newest decides.
        let u = usage_of(&[
            new.clone(),
            boundary(None, "t3"),
            compact_summary("t3"),
            boundary(Some(12_345), "t4"),
            compact_summary("t4"),
        ])
        .expect("usage");
        assert_eq!((u.compacted, u.current_tokens), (true, Some(12_345)));
        // A boundary with no usage before it at all: nothing usable.
        assert_eq!(usage_of(&[boundary(Some(1), "t"), compact_summary("t")]), None);
    }

    #[test]
    fn compact_summary_without_a_boundary_marks_compaction() {
        let a = claude_assistant("m0", "claude-opus-4-6", [1, 1000, 150_000, 9], "t0", "");
        let u = usage_of(&[a.clone(), compact_summary("t1")]).expect("usage");
        assert_eq!((u.compacted, u.current_tokens), (true, None));
        // The summary after a boundary does not hide the boundary's postTokens.
        let u = usage_of(&[a.clone(), boundary(Some(40_000), "t1"), compact_summary("t1")]).expect("usage");
        assert_eq!((u.compacted, u.current_tokens), (true, Some(40_000)));
        // A new assistant line clears it.
        let b = claude_assistant("m1", "claude-opus-4-6", [3, 40_000, 0, 9], "t2", "");
        let u = usage_of(&[a, compact_summary("t1"), b]).expect("usage");
        assert_eq!((u.compacted, u.current_tokens), (false, Some(40_003)));
    }

    #[test]
    fn only_non_assistant_lines_is_none() {
        // Lines of every kind that carries no usable usage: a 1.0.x summary title, 2.1.x bookkeeping, a progress line
        // embedding a subagent's usage, 2.1.331's cost-state with cumulative totals, and user prompts.
        let lines = [
            r#"{"type":"summary","summary":"Fix the build","leafUuid":"l"}"#,
            r#"{"type":"file-history-snapshot","messageId":"m","snapshot":{"messageId":"m","trackedFileBackups":{},"timestamp":"t"},"isSnapshotUpdate":false}"#,
            r#"{"type":"queue-operation","operation":"enqueue","timestamp":"t","sessionId":"s","content":"next"}"#,
            r#"{"parentUuid":"p","isSidechain":false,"type":"progress","data":{"type":"agent_progress","agentId":"a1","message":{"type":"assistant","message":{"model":"claude-opus-4-6","usage":{"input_tokens":5,"cache_creation_input_tokens":5,"cache_read_input_tokens":90000,"output_tokens":5}}}},"toolUseID":"t","timestamp":"t"}"#,
            r#"{"type":"cost-state","modelUsage":{"claude-opus-5-5":{"inputTokens":900000,"outputTokens":1000,"cacheReadInputTokens":2000000,"cacheCreationInputTokens":100000}},"timestamp":"t"}"#,
            r#"{"type":"last-prompt","lastPrompt":"hi","leafUuid":"l","sessionId":"s"}"#,
            r#"{"type":"attachment","attachment":{"type":"model","model":"claude-opus-5-5"},"timestamp":"t"}"#,
        ];
        let mut all: Vec<String> = lines.iter().map(|l| l.to_string() + "\n").collect();
        all.push(claude_user("hello", "t"));
        all.push(claude_user("again", "t"));
        assert_eq!(usage_of(&all), None);
    }

    #[test]
    fn no_usable_line_is_none() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        append(&path, claude_user("hi", "t").as_bytes());
        append(
            &path,
            claude_assistant("z", "claude-opus-4-6", [0, 0, 0, 0], "t", "").as_bytes(),
        );
        append(
            &path,
            br#"{"type":"assistant","message":{"model":"claude-opus-4-6","id":"x","content":"no usage"}}"#,
        );
        append(&path, b"\n");
        assert_eq!(both_ways(&path, TranscriptKind::Claude, None), None);
    }

    #[test]
    fn split_message_lines_report_the_newest() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        for (out, ts) in [(1, "t1"), (1, "t2"), (1, "t3"), (412, "t4")] {
            append(
                &path,
                claude_assistant("msg_same", "claude-opus-4-6", [3, 13835, 11515, out], ts, "").as_bytes(),
            );
        }
        let u = both_ways(&path, TranscriptKind::Claude, None).expect("usage");
        assert_eq!(
            (u.current_tokens, u.output_tokens, u.updated_at.as_deref()),
            (Some(25_353), 412, Some("t4"))
        );
    }

    #[test]
    fn first_read_looks_back_a_bounded_distance_for_the_window() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        // A 250K context early on, then ~25 MB of smaller contexts on a model without native 1M.
        append(
            &path,
            claude_assistant("early", "claude-opus-4-6", [1, 50_000, 200_000, 5], "t0", "").as_bytes(),
        );
        let filler = claude_user(&"f".repeat(4000), "t");
        let mut block = String::new();
        for _ in 0..256 {
            block += &filler;
        }
        for _ in 0..24 {
            append(&path, block.as_bytes());
        }
        append(
            &path,
            claude_assistant("late", "claude-opus-4-6", [1, 1000, 50_000, 5], "t1", "").as_bytes(),
        );

        // First sight: the newest usage plus 16 MiB of look-back; the 250K line is further back.
        let mut cache = TranscriptCache::new(None);
        let u = cache.context_usage(&path, TranscriptKind::Claude).expect("usage");
        assert_eq!((u.current_tokens, u.window_tokens), (Some(51_001), 200_000));
        let read = cache.bytes_read();
        assert!(read > 16 * 1024 * 1024 && read < 21 * 1024 * 1024, "read {read}");

        // Read forwards from the start (the file grown as it was written), the 250K line is seen: 1M.
        let grown = tmp.path().join("grown.jsonl");
        let text = std::fs::read(&path).expect("read");
        let mut forward = TranscriptCache::new(None);
        for piece in text.split_inclusive(|&b| b == b'\n').collect::<Vec<_>>().chunks(64) {
            append(&grown, &piece.concat());
            forward.context_usage(&grown, TranscriptKind::Claude);
        }
        let u = forward.context_usage(&grown, TranscriptKind::Claude).expect("usage");
        assert_eq!((u.current_tokens, u.window_tokens), (Some(51_001), 1_000_000));
    }
}
