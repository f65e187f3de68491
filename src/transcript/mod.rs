//! Context usage from Claude Code transcripts and Codex rollouts (placeholder: filled in by the transcript work).

use std::path::Path;

/// Which agent wrote a transcript.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TranscriptKind {
    /// A Claude Code `<session>.jsonl`.
    Claude,
    /// A Codex `rollout-*.jsonl`.
    Codex,
}

/// How full a context window is.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextUsage {
    /// Tokens in context now, `None` when unknown (after a compaction).
    pub current_tokens: Option<u64>,
    /// Window size in tokens.
    pub window_tokens: u64,
    /// Whether `window_tokens` was inferred rather than read from the transcript.
    pub window_inferred: bool,
    /// The model of the usage line.
    pub model: Option<String>,
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache-read input tokens.
    pub cache_read_tokens: u64,
    /// Cache-creation input tokens.
    pub cache_creation_tokens: u64,
    /// Whether a compaction follows the usage line.
    pub compacted: bool,
    /// The usage line's timestamp.
    pub updated_at: Option<String>,
}

impl ContextUsage {
    /// Returns the percentage of the window in use, clamped to 0..=100.
    pub fn percent(&self) -> f64 {
        match self.current_tokens {
            Some(t) if self.window_tokens > 0 => ((t as f64) * 100.0 / self.window_tokens as f64).clamp(0.0, 100.0),
            _ => 0.0,
        }
    }

    /// Returns the `/api/state` JSON object (exactly the documented keys).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "current_tokens": self.current_tokens,
            "window_tokens": self.window_tokens,
            "percent": (self.percent() * 10.0).round() / 10.0,
            "model": self.model,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cache_read_tokens": self.cache_read_tokens,
            "cache_creation_tokens": self.cache_creation_tokens,
            "compacted": self.compacted,
            "updated_at": self.updated_at,
        })
    }
}

/// Per-transcript cursors kept between collection passes.
#[derive(Debug, Default)]
pub struct TranscriptCache {
    window_override: Option<u64>,
}

impl TranscriptCache {
    /// Creates an empty cache; `window_override` is `AMC_CONTEXT_WINDOW`.
    pub fn new(window_override: Option<u64>) -> Self {
        TranscriptCache { window_override }
    }

    /// Returns the context usage of the transcript at `path`, or `None` when it has nothing usable.
    pub fn context_usage(&mut self, _path: &Path, _kind: TranscriptKind) -> Option<ContextUsage> {
        let _ = self.window_override;
        None
    }
}
