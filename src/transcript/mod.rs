//! Context usage from Claude Code transcripts and Codex rollouts, read incrementally from files of any size.
//!
//! [`TranscriptCache`] keeps one small cursor per transcript (device + inode, the offset after the last complete
//! line, a 64-byte fingerprint before it, and the parser state), never the file:
//! - first sight: the file is read **backwards** from its end in growing chunks until the newest usable line and the
//!   facts around it are known (plus a bounded look-back, [`EXTRA_LOOKBACK_BYTES`]);
//! - later passes: an unchanged `stat` costs no read; otherwise only the bytes appended since are read;
//! - a file that shrank, was replaced (new inode) or was rewritten in place (fingerprint mismatch) is read again
//!   from the end; a partial last line is left for the next pass; lines above 64 MiB are skipped unheld; lines that
//!   are not UTF-8 JSON are skipped.
//!
//! One place per agent format: Claude Code transcripts are read here by `claude.rs` (context usage) and
//! `claude_tail.rs` (the hook's last assistant message); Codex rollouts by `codex.rs` (context usage) and
//! [`codex_rollout`] (session meta from the head, turn events from the tail, for discovery and status).
//! [`discover`] finds the files. The README section
//! is `docs/context-usage.md`.

use std::{
    collections::{HashMap, HashSet},
    fs,
    path::{Path, PathBuf},
    time::Instant,
};

mod claude;
mod claude_tail;
mod codex;
pub mod codex_rollout;
mod cursor;
pub mod discover;
mod index;
mod read;
pub mod spend;
mod window;

pub use claude_tail::{last_assistant_message, TAIL_BYTES as CLAUDE_TAIL_BYTES};
pub use codex::DEFAULT_WINDOW_TOKENS as CODEX_DEFAULT_WINDOW;
pub use cursor::MAX_LINE_BYTES;
pub use discover::{claude_project_dir_name, claude_transcript, find_claude_transcript, CodexRolloutIndex};
pub use index::{INDEX_FILE, SAVE_INTERVAL as INDEX_SAVE_INTERVAL};
pub use window::WindowSource;
pub use window::{is_native_1m, DEFAULT_WINDOW_TOKENS as CLAUDE_DEFAULT_WINDOW, EXTENDED_WINDOW_TOKENS};

use cursor::{Position, Stamp, Tally};
use read::{run_jobs, Job};
use window::{ModelSettings, Stated};

/// How far the first (backward) read goes on past the newest usable line, when the facts that can still change the
/// answer lie further back: Claude's ">200K seen" window rule, a Codex rollout's window and model.
pub const EXTRA_LOOKBACK_BYTES: u64 = 16 * 1024 * 1024;

/// The longest unterminated last line that is counted when it already is complete JSON. A writer may end the file
/// without a final `\n` (or be between writing a line and its `\n`): such a line counts in the answer, but the
/// cursor stays before it, so it is read again as the file grows, and a half-written line (not valid JSON) is not
/// counted at all. A longer tail waits for its newline.
pub const MAX_TENTATIVE_TAIL_BYTES: u64 = 1024 * 1024;

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
    /// Tokens in context now, `None` when unknown (after a compaction, until the next usage line; for Claude a
    /// compaction's `postTokens` is used when present).
    pub current_tokens: Option<u64>,
    /// Window size in tokens.
    pub window_tokens: u64,
    /// Whether `window_tokens` was inferred rather than stated (Claude: unless `AMC_CONTEXT_WINDOW` is set or the
    /// selected model carries `[1m]`; Codex: only when the rollout states no window).
    pub window_inferred: bool,
    /// Where `window_tokens` came from.
    pub window_source: WindowSource,
    /// The model of the usage line (Codex: the newest `turn_context.model`).
    pub model: Option<String>,
    /// Input tokens as the agent reports them: Claude's uncached `input_tokens`; Codex's `input_tokens`, which
    /// include `cached_input_tokens`.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache-read input tokens (Codex: `cached_input_tokens`).
    pub cache_read_tokens: u64,
    /// Cache-creation input tokens (Codex: `cache_write_input_tokens`, 0 when absent).
    pub cache_creation_tokens: u64,
    /// Whether a compaction follows the usage line.
    pub compacted: bool,
    /// The usage line's timestamp.
    pub updated_at: Option<String>,
}

impl ContextUsage {
    /// Returns the percentage of the window in use, clamped to 0..=100 (0 when the current size is unknown).
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
            "window_source": self.window_source.as_str(),
        })
    }
}

/// The parser state of one transcript.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", content = "state", rename_all = "snake_case")]
enum State {
    Claude(claude::State),
    Codex(codex::State),
}

impl State {
    fn kind(&self) -> TranscriptKind {
        match self {
            State::Claude(_) => TranscriptKind::Claude,
            State::Codex(_) => TranscriptKind::Codex,
        }
    }

    /// Returns whether this state must not be continued for a session whose configuration states `stated`: its
    /// first read skipped the history look-back on a statement that no longer holds.
    fn needs_lookback(&self, stated: Stated) -> bool {
        matches!(self, State::Claude(state) if state.lookback_cut && !stated.settles())
    }

    fn spend(&self) -> spend::Spend {
        match self {
            State::Claude(state) => state.spend(),
            State::Codex(state) => state.spend(),
        }
    }

    fn context_usage(&self, stated: Stated) -> Option<ContextUsage> {
        match self {
            State::Claude(state) => state.context_usage(stated),
            State::Codex(state) => state.context_usage(),
        }
    }
}

/// What is kept per transcript between passes: a position and a parser state, a few hundred bytes.
#[derive(Debug, Clone)]
struct Cursor {
    position: Position,
    state: State,
    /// The state for the file as `position.seen` describes it: `state`, or, when the file ends in a complete JSON
    /// line without its `\n`, `state` with that line applied (see [`MAX_TENTATIVE_TAIL_BYTES`]).
    effective: State,
    /// Whether a warning about bad lines was already logged for this file.
    warned: bool,
}

/// What a session's own files say that matters for its transcript: the model it runs as Claude Code selects it
/// (the session file's `model`) and its project dir (where `.claude/settings*.json` are).
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionHint<'a> {
    /// The session file's `model` (SessionStart's, recorded verbatim by the hook).
    pub model: Option<&'a str>,
    /// The session's project dir (or cwd).
    pub project_dir: Option<&'a str>,
}

/// Where the transcript cache finds what it needs besides the transcripts.
#[derive(Debug, Clone, Default)]
pub struct CacheOptions {
    /// `AMC_CONTEXT_WINDOW`: forces every Claude window (Codex rollouts state theirs).
    pub window_override: Option<u64>,
    /// Claude's config dirs, whose `settings.json` `model` may select a `[1m]` model.
    pub claude_config_dirs: Vec<PathBuf>,
    /// `ANTHROPIC_MODEL`.
    pub anthropic_model: Option<String>,
    /// The data dir whose `cache/` holds the transcript index; `None` keeps nothing on disk.
    pub data_dir: Option<PathBuf>,
}

/// Per-transcript cursors kept between collection passes, and the on-disk index of them.
#[derive(Debug)]
pub struct TranscriptCache {
    window_override: Option<u64>,
    cursors: HashMap<PathBuf, Cursor>,
    bytes_read: u64,
    settings: ModelSettings,
    index: Option<index::Index>,
    /// Entries of the index not yet used, by path.
    seeds: HashMap<PathBuf, index::Entry>,
    /// Whether a read moved a cursor since the index was last saved.
    dirty: bool,
    last_save: Option<Instant>,
    /// How many transcripts are read at once.
    threads: usize,
    /// The transcripts asked about since the last [`TranscriptCache::forget_untouched`].
    touched: HashSet<PathBuf>,
}

impl Default for TranscriptCache {
    fn default() -> Self {
        Self::with_options(CacheOptions::default())
    }
}

impl TranscriptCache {
    /// Creates an empty cache without an index or settings; `window_override` is `AMC_CONTEXT_WINDOW`.
    pub fn new(window_override: Option<u64>) -> Self {
        Self::with_options(CacheOptions {
            window_override,
            ..CacheOptions::default()
        })
    }

    /// Creates a cache; with a data dir, the index of earlier runs is loaded (and ignored if unusable).
    pub fn with_options(options: CacheOptions) -> Self {
        let index = options.data_dir.as_deref().map(index::Index::in_data_dir);
        let seeds = index.as_ref().map(index::Index::load).unwrap_or_default();
        TranscriptCache {
            window_override: options.window_override,
            cursors: HashMap::new(),
            bytes_read: 0,
            settings: ModelSettings::new(options.claude_config_dirs, options.anthropic_model),
            index,
            seeds,
            dirty: false,
            last_save: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            touched: HashSet::new(),
        }
    }

    /// Returns the context usage of the transcript at `path`, or `None` when it has nothing usable (or does not
    /// exist yet: Claude Code 2.1.331 creates the file only at the first prompt).
    pub fn context_usage(&mut self, path: &Path, kind: TranscriptKind) -> Option<ContextUsage> {
        self.context_usage_for(path, kind, SessionHint::default())
    }

    /// Returns the context usage of a session's transcript; `hint` is what the session's files say about its model.
    pub fn context_usage_for(&mut self, path: &Path, kind: TranscriptKind, hint: SessionHint) -> Option<ContextUsage> {
        let stated = self.stated(kind, hint);
        self.refresh_stated(vec![(path.to_path_buf(), kind, stated)]);
        self.answer(path, kind, stated)
    }

    /// Returns the context usage as of the last [`TranscriptCache::refresh`], without looking at the file.
    pub fn refreshed_usage(&mut self, path: &Path, kind: TranscriptKind, hint: SessionHint) -> Option<ContextUsage> {
        let stated = self.stated(kind, hint);
        self.answer(path, kind, stated)
    }

    /// Returns what the transcript says about spending as of the last [`TranscriptCache::refresh`] (cost, tokens per
    /// model, rate limits), without looking at the file; `None` when it was not read.
    pub fn refreshed_spend(&self, path: &Path, kind: TranscriptKind) -> Option<spend::Spend> {
        let cursor = self.cursors.get(path).filter(|c| c.state.kind() == kind)?;
        Some(cursor.effective.spend())
    }

    fn answer(&self, path: &Path, kind: TranscriptKind, stated: Stated) -> Option<ContextUsage> {
        let cursor = self.cursors.get(path).filter(|c| c.state.kind() == kind)?;
        // A cursor whose look-back was cut on a statement that no longer holds is read again by the next refresh.
        cursor.effective.context_usage(stated)
    }

    /// Brings the cursors of all these transcripts up to date, reading those that changed in parallel (up to one
    /// thread per core). [`TranscriptCache::context_usage_for`] then answers without reading.
    pub fn refresh(&mut self, transcripts: &[(PathBuf, TranscriptKind, SessionHint)]) {
        let items = transcripts
            .iter()
            .map(|(path, kind, hint)| (path.clone(), *kind, self.stated(*kind, *hint)))
            .collect();
        self.refresh_stated(items);
    }

    fn stated(&mut self, kind: TranscriptKind, hint: SessionHint) -> Stated {
        match kind {
            TranscriptKind::Claude => {
                let selected = match self.window_override {
                    Some(_) => None,
                    None => self.settings.selected(hint.model, hint.project_dir),
                };
                Stated::of(self.window_override, selected.as_deref())
            }
            TranscriptKind::Codex => Stated::Nothing,
        }
    }

    fn refresh_stated(&mut self, items: Vec<(PathBuf, TranscriptKind, Stated)>) {
        let mut jobs = Vec::new();
        for (path, kind, stated) in items {
            self.touched.insert(path.clone());
            let stamp = match fs::metadata(&path) {
                Ok(meta) if meta.is_file() => Stamp::of(&meta),
                Ok(_) => {
                    self.cursors.remove(&path);
                    tracing::debug!(file = %path.display(), "transcript path is not a file");
                    continue;
                }
                Err(error) => {
                    self.cursors.remove(&path);
                    tracing::debug!(file = %path.display(), %error, "transcript not readable");
                    continue;
                }
            };
            let usable = |c: &Cursor| c.state.kind() == kind && !c.state.needs_lookback(stated);
            if self
                .cursors
                .get(&path)
                .is_some_and(|c| usable(c) && c.position.unchanged(&stamp))
            {
                continue;
            }
            let previous = match self.cursors.remove(&path) {
                Some(cursor) => Some((cursor, false)),
                None => self.seeds.remove(&path).map(|entry| {
                    let cursor = Cursor {
                        position: entry.position,
                        effective: entry.state.clone(),
                        state: entry.state,
                        warned: false,
                    };
                    (cursor, true)
                }),
            };
            let previous = previous.filter(|(c, _)| usable(c));
            jobs.push(Job {
                path,
                kind,
                previous,
                stated,
            });
        }
        for outcome in run_jobs(jobs, self.threads) {
            self.bytes_read += outcome.bytes_read;
            crate::metrics::transcript_bytes(outcome.bytes_read);
            match outcome.result {
                Ok(cursor) => {
                    self.dirty |= outcome.moved;
                    self.cursors.insert(outcome.path, cursor);
                }
                Err(error) => {
                    tracing::debug!(file = %outcome.path.display(), %error, "cannot read transcript");
                }
            }
        }
    }

    /// Saves the index when a read moved a cursor since the last save, at once the first time and then at most
    /// every [`INDEX_SAVE_INTERVAL`]; returns whether it wrote. Without a data dir, or on a read-only disk, it does
    /// nothing (the cursors in memory are unaffected).
    pub fn save_index(&mut self) -> bool {
        let due = self.last_save.is_none_or(|t| t.elapsed() >= index::SAVE_INTERVAL);
        if !self.dirty || !due {
            return false;
        }
        let Some(index) = self.index.as_mut() else {
            return false;
        };
        let entries = self
            .cursors
            .iter()
            .map(|(path, c)| index::Entry {
                path: path.clone(),
                position: c.position.clone(),
                state: c.state.clone(),
            })
            .collect();
        self.last_save = Some(Instant::now());
        self.dirty = false;
        index.save(entries)
    }

    /// Returns the index file's path, when there is one.
    pub fn index_path(&self) -> Option<&Path> {
        self.index.as_ref().map(index::Index::path)
    }

    /// Drops the cursors of transcripts not in `keep`, so memory follows the sessions still listed.
    pub fn forget_missing(&mut self, keep: &HashSet<PathBuf>) {
        let before = self.cursors.len();
        self.cursors.retain(|path, _| keep.contains(path));
        self.seeds.retain(|path, _| keep.contains(path));
        self.dirty |= self.cursors.len() != before;
    }

    /// Drops the cursors (and index entries) of transcripts not asked about since the last call: what one pass read
    /// is kept, even for a session the same pass then removed (a same-pane duplicate), so nothing it read is read
    /// again if that session comes back.
    pub fn forget_untouched(&mut self) {
        let touched = std::mem::take(&mut self.touched);
        self.forget_missing(&touched);
    }

    /// Returns how many transcripts have a cursor.
    pub fn len(&self) -> usize {
        self.cursors.len()
    }

    /// Returns whether no transcript has a cursor.
    pub fn is_empty(&self) -> bool {
        self.cursors.is_empty()
    }

    /// Returns the total number of transcript bytes read since the cache was created.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Helpers for the transcript tests: files written and grown in a temp dir.

    use std::{fs::OpenOptions, io::Write, path::PathBuf};

    /// Returns the path of a fixture under `tests/fixtures/transcripts/`.
    pub(crate) fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/transcripts")
            .join(name)
    }

    /// Appends `bytes` to `path`, creating it.
    pub(crate) fn append(path: &std::path::Path, bytes: &[u8]) {
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open for append");
        file.write_all(bytes).expect("append");
    }

    /// Returns the usage of `path` read on first sight (backwards), after checking that reading the same file
    /// forwards, one line per pass as it was written, gives the same answer.
    pub(crate) fn both_ways(
        path: &std::path::Path,
        kind: super::TranscriptKind,
        window_override: Option<u64>,
    ) -> Option<super::ContextUsage> {
        let text = std::fs::read(path).expect("read fixture");
        let backward = super::TranscriptCache::new(window_override).context_usage(path, kind);
        let tmp = tempfile::tempdir().expect("tempdir");
        let grown = tmp.path().join("grown.jsonl");
        append(&grown, b"");
        let mut cache = super::TranscriptCache::new(window_override);
        let mut forward = cache.context_usage(&grown, kind);
        for line in text.split_inclusive(|&b| b == b'\n') {
            append(&grown, line);
            forward = cache.context_usage(&grown, kind);
        }
        assert_eq!(
            forward,
            backward,
            "forward and backward reads of {} differ",
            path.display()
        );
        backward
    }

    /// Builds a Claude assistant line (2.1.x envelope) with the given usage.
    pub(crate) fn claude_assistant(id: &str, model: &str, usage: [u64; 4], ts: &str, extra: &str) -> String {
        let [input, creation, read, output] = usage;
        format!(
            r#"{{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/w","sessionId":"s","version":"2.1.39","gitBranch":"main","message":{{"model":"{model}","id":"{id}","type":"message","role":"assistant","content":[{{"type":"text","text":"ok"}}],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":{input},"cache_creation_input_tokens":{creation},"cache_read_input_tokens":{read},"output_tokens":{output},"service_tier":"standard"}}}},"requestId":"req_1","type":"assistant","uuid":"u-{id}","timestamp":"{ts}"{extra}}}"#
        ) + "\n"
    }

    /// Builds a Claude user line whose text is `text` (already JSON-safe).
    pub(crate) fn claude_user(text: &str, ts: &str) -> String {
        format!(
            r#"{{"parentUuid":"p","isSidechain":false,"userType":"external","cwd":"/w","sessionId":"s","version":"2.1.39","gitBranch":"main","type":"user","message":{{"role":"user","content":"{text}"}},"uuid":"u","timestamp":"{ts}"}}"#
        ) + "\n"
    }

    /// Builds a Codex `token_count` line.
    pub(crate) fn codex_token_count(input: u64, cached: u64, output: u64, window: Option<u64>, ts: &str) -> String {
        let window = window.map_or(String::new(), |w| format!(r#","model_context_window":{w}"#));
        let total = input + output;
        format!(
            r#"{{"timestamp":"{ts}","type":"event_msg","payload":{{"type":"token_count","info":{{"total_token_usage":{{"input_tokens":{input},"cached_input_tokens":{cached},"output_tokens":{output},"reasoning_output_tokens":0,"total_tokens":{total}}},"last_token_usage":{{"input_tokens":{input},"cached_input_tokens":{cached},"output_tokens":{output},"reasoning_output_tokens":0,"total_tokens":{total}}}{window}}},"rate_limits":null}}}}"#
        ) + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::{test_util::*, *};

    fn usage(cache: &mut TranscriptCache, path: &Path) -> Option<ContextUsage> {
        cache.context_usage(path, TranscriptKind::Claude)
    }

    #[test]
    fn json_has_exactly_the_documented_keys() {
        let u = ContextUsage {
            current_tokens: None,
            window_tokens: 200_000,
            window_inferred: true,
            window_source: WindowSource::Default,
            model: None,
            input_tokens: 0,
            output_tokens: 0,
            cache_read_tokens: 0,
            cache_creation_tokens: 0,
            compacted: true,
            updated_at: None,
        };
        let json = u.to_json();
        let keys: Vec<&str> = json.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "current_tokens",
                "window_tokens",
                "percent",
                "model",
                "input_tokens",
                "output_tokens",
                "cache_read_tokens",
                "cache_creation_tokens",
                "compacted",
                "updated_at",
                "window_source"
            ]
        );
        assert_eq!(json["current_tokens"], serde_json::Value::Null);
        assert_eq!(json["percent"], 0.0);
        let over = ContextUsage {
            current_tokens: Some(940_499),
            window_tokens: 258_400,
            ..u
        };
        assert_eq!(over.percent(), 100.0);
    }

    #[test]
    fn missing_file_is_none_and_leaves_no_cursor() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut cache = TranscriptCache::new(None);
        assert_eq!(usage(&mut cache, &tmp.path().join("nope.jsonl")), None);
        assert_eq!(usage(&mut cache, tmp.path()), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn unchanged_file_reads_nothing_and_appends_read_only_the_new_bytes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        let mut body = String::new();
        for i in 0..2000 {
            body += &claude_user(&"x".repeat(200), "2026-01-01T00:00:00Z");
            // A native-1M model: nothing older can change the window, so the first read stops at once.
            body += &claude_assistant(
                &format!("m{i}"),
                "claude-opus-4-7",
                [1, 10, 1000 + i, 5],
                "2026-01-01T00:00:01Z",
                "",
            );
        }
        append(&path, body.as_bytes());
        let mut cache = TranscriptCache::new(None);
        let first = usage(&mut cache, &path).expect("usage");
        assert_eq!(first.current_tokens, Some(1 + 10 + 2999));
        let after_first = cache.bytes_read();
        assert!(
            after_first < 200_000,
            "first read took {after_first} of {} bytes",
            body.len()
        );

        assert_eq!(usage(&mut cache, &path), Some(first));
        assert_eq!(cache.bytes_read(), after_first, "an unchanged file is not read");

        let line = claude_assistant("new", "claude-opus-4-7", [2, 20, 5000, 7], "2026-01-01T00:00:02Z", "");
        append(&path, line.as_bytes());
        let next = usage(&mut cache, &path).expect("usage");
        assert_eq!(next.current_tokens, Some(5022));
        assert_eq!(next.updated_at.as_deref(), Some("2026-01-01T00:00:02Z"));
        // The new line plus the 64-byte fingerprint.
        assert_eq!(cache.bytes_read() - after_first, line.len() as u64 + 64);
    }

    #[test]
    fn partial_last_line_waits_for_its_newline() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        let a = claude_assistant("a", "claude-opus-4-6", [1, 2, 3, 4], "t1", "");
        let b = claude_assistant("b", "claude-opus-4-6", [10, 20, 30, 40], "t2", "");
        append(&path, a.as_bytes());
        append(&path, &b.as_bytes()[..b.len() / 2]);
        let mut cache = TranscriptCache::new(None);
        // Half a line is not counted.
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(6));
        // The whole line without its newline is complete JSON: counted, but the cursor stays before it.
        append(&path, &b.as_bytes()[b.len() / 2..b.len() - 1]);
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(60));
        append(&path, b"\n");
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(60));
        let c = claude_assistant("c", "claude-opus-4-6", [100, 200, 300, 400], "t3", "");
        append(&path, c.as_bytes());
        assert_eq!(
            usage(&mut cache, &path).and_then(|u| u.current_tokens),
            Some(600),
            "the line counted tentatively was not consumed twice or skipped"
        );

        // A file that is one unterminated line: counted once it is whole, and the same when its newline comes.
        let lone = tmp.path().join("lone.jsonl");
        append(&lone, &a.as_bytes()[..a.len() - 5]);
        assert_eq!(usage(&mut cache, &lone), None);
        append(&lone, &a.as_bytes()[a.len() - 5..a.len() - 1]);
        assert_eq!(usage(&mut cache, &lone).and_then(|u| u.current_tokens), Some(6));
        append(&lone, b"\n");
        assert_eq!(usage(&mut cache, &lone).and_then(|u| u.current_tokens), Some(6));
        assert_eq!(
            both_ways(&lone, TranscriptKind::Claude, None).and_then(|u| u.current_tokens),
            Some(6)
        );
    }

    #[test]
    fn shrunk_replaced_and_rewritten_files_are_read_again() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        let a = claude_assistant("a", "claude-opus-4-6", [1, 2, 3, 4], "t1", "");
        let b = claude_assistant("b", "claude-opus-4-6", [10, 20, 30, 40], "t2", "");
        let c = claude_assistant("c", "claude-opus-4-6", [100, 200, 300, 400], "t3", "");
        append(&path, (a.clone() + &b).as_bytes());
        let mut cache = TranscriptCache::new(None);
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(60));

        // Claude Code drops the last line after a streaming error (truncate in place).
        let file = fs::OpenOptions::new().write(true).open(&path).expect("open");
        file.set_len(a.len() as u64).expect("truncate");
        drop(file);
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(6));

        // Dropped and re-grown past the old offset between two passes: the fingerprint notices.
        append(&path, b.as_bytes());
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(60));
        let file = fs::OpenOptions::new().write(true).open(&path).expect("open");
        file.set_len(a.len() as u64).expect("truncate");
        drop(file);
        append(&path, (c.clone() + &a).as_bytes());
        let u = usage(&mut cache, &path).expect("usage");
        assert_eq!((u.current_tokens, u.updated_at.as_deref()), (Some(6), Some("t1")));

        // Replaced by another file (new inode) via rename.
        let other = tmp.path().join("other.jsonl");
        append(&other, c.as_bytes());
        fs::rename(&other, &path).expect("rename");
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(600));
    }

    #[test]
    fn invalid_utf8_and_invalid_json_lines_are_skipped() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        let good = claude_assistant("a", "claude-opus-4-6", [1, 2, 3, 4], "t1", "");
        let mut bad_utf8 = claude_assistant("b", "claude-opus-4-6", [10, 20, 30, 40], "t2", "").into_bytes();
        // Put an invalid byte inside the text content.
        let at = bad_utf8.windows(4).position(|w| w == b"\"ok\"").expect("text") + 1;
        bad_utf8[at] = 0xff;
        append(&path, good.as_bytes());
        append(&path, &bad_utf8);
        append(
            &path,
            b"{\"type\":\"assistant\",\n\n   \nnot json at all\n[1,2]\n\"str\"\n",
        );
        let mut cache = TranscriptCache::new(None);
        let u = usage(&mut cache, &path).expect("usage");
        assert_eq!((u.current_tokens, u.updated_at.as_deref()), (Some(6), Some("t1")));
        // The same bytes read forwards give the same answer.
        let mut cache = TranscriptCache::new(None);
        let grown = tmp.path().join("grown.jsonl");
        append(&grown, good.as_bytes());
        assert!(usage(&mut cache, &grown).is_some());
        append(&grown, &bad_utf8);
        append(&grown, b"not json\n");
        assert_eq!(usage(&mut cache, &grown).and_then(|u| u.current_tokens), Some(6));
    }

    fn image_line(bytes: usize) -> String {
        // A user line carrying a base64 image, as Claude Code writes pasted screenshots.
        format!(
            r#"{{"parentUuid":"p","isSidechain":false,"type":"user","message":{{"role":"user","content":[{{"type":"image","source":{{"type":"base64","media_type":"image/png","data":"{}"}}}}]}},"uuid":"u","timestamp":"t"}}"#,
            "A".repeat(bytes)
        ) + "\n"
    }

    #[test]
    fn huge_lines_are_read_both_ways() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        let a = claude_assistant("a", "claude-opus-4-6", [1, 2, 3, 4], "t1", "");
        let image = image_line(12 * 1024 * 1024);
        // A 12 MB assistant line (a huge Write tool input) is the answer itself.
        let big_text = "B".repeat(12 * 1024 * 1024);
        let big = claude_assistant("b", "claude-opus-4-6", [5, 6, 7, 8], "t2", "")
            .replace("\"ok\"", &format!("\"{big_text}\""));
        append(&path, (a.clone() + &big + &image).as_bytes());
        let mut cache = TranscriptCache::new(None);
        let u = usage(&mut cache, &path).expect("usage");
        assert_eq!((u.current_tokens, u.updated_at.as_deref()), (Some(18), Some("t2")));

        // Forwards: a huge line written in pieces, then completed.
        append(&path, &image.as_bytes()[..5 * 1024 * 1024]);
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(18));
        append(&path, &image.as_bytes()[5 * 1024 * 1024..]);
        append(&path, big.replace("\"t2\"", "\"t3\"").as_bytes());
        let u = usage(&mut cache, &path).expect("usage");
        assert_eq!(u.updated_at.as_deref(), Some("t3"));
    }

    #[test]
    fn lines_over_the_cap_are_skipped() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        let a = claude_assistant("a", "claude-opus-4-6", [1, 2, 3, 4], "t1", "");
        let b = claude_assistant("b", "claude-opus-4-6", [10, 20, 30, 40], "t2", "");
        append(&path, (a.clone() + &image_line(MAX_LINE_BYTES + 10) + &a).as_bytes());
        let mut cache = TranscriptCache::new(None);
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(6));
        // Backwards through an oversized line to the answer before it.
        let back = tmp.path().join("back.jsonl");
        append(&back, (b.clone() + &image_line(MAX_LINE_BYTES + 10)).as_bytes());
        assert_eq!(usage(&mut cache, &back).and_then(|u| u.current_tokens), Some(60));
        // Forwards through an oversized line to the answer after it.
        append(&back, (image_line(MAX_LINE_BYTES + 10) + &a).as_bytes());
        assert_eq!(usage(&mut cache, &back).and_then(|u| u.current_tokens), Some(6));
    }

    #[test]
    fn byte_order_mark_and_crlf_line_endings_are_read() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        // An editor-saved file: a UTF-8 BOM before the first line, CRLF line endings, a blank CRLF line.
        let a = claude_assistant("a", "claude-opus-4-6", [1, 2, 3, 4], "t1", "");
        append(&path, b"\xEF\xBB\xBF");
        append(&path, a.replace('\n', "\r\n").as_bytes());
        append(&path, b"\r\n");
        let u = test_util::both_ways(&path, TranscriptKind::Claude, None).expect("usage");
        assert_eq!((u.current_tokens, u.updated_at.as_deref()), (Some(6), Some("t1")));

        let mut cache = TranscriptCache::new(None);
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(6));
        let b = claude_assistant("b", "claude-opus-4-6", [10, 20, 30, 40], "t2", "");
        append(&path, b.replace('\n', "\r\n").as_bytes());
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(60));

        let rollout = tmp.path().join("rollout.jsonl");
        append(&rollout, b"\xEF\xBB\xBF");
        append(
            &rollout,
            codex_token_count(100, 50, 10, Some(258_400), "t")
                .replace('\n', "\r\n")
                .as_bytes(),
        );
        let u = test_util::both_ways(&rollout, TranscriptKind::Codex, None).expect("usage");
        assert_eq!(u.current_tokens, Some(110));
    }

    /// Returns a Claude user line of exactly `len` bytes (newline included).
    fn user_line_of(len: usize) -> String {
        let overhead = claude_user("", "t").len();
        claude_user(&"x".repeat(len - overhead), "t")
    }

    #[test]
    fn backward_chunk_edges_on_line_edges() {
        // The first backward read takes the last 64 KiB, the second the 128 KiB before it. Put a line edge on, just
        // before and just after each of those chunk edges: the answer (line A, after the first edge) and the >200K
        // context that sets the window (line B, before the second edge) must both be read whole.
        const FIRST: usize = 64 * 1024;
        const SECOND: usize = FIRST + 128 * 1024;
        let tmp = tempfile::tempdir().expect("tempdir");
        let b = claude_assistant("b", "claude-opus-4-6", [1, 50_000, 160_000, 5], "tb", "");
        let a = claude_assistant("a", "claude-opus-4-6", [7, 700, 7000, 70], "ta", "");
        for d1 in [-2i64, -1, 0, 1, 2] {
            for d2 in [-2i64, -1, 0, 1, 2] {
                // File = B + F2 + A + F1. A ends `FIRST + d1` bytes before the end; B ends `SECOND - d2` before it.
                let f1 = user_line_of((FIRST as i64 + d1) as usize);
                let f2 = user_line_of((SECOND as i64 - d2) as usize - a.len() - f1.len());
                let path = tmp.path().join(format!("edge{d1}{d2}.jsonl"));
                append(&path, [b.as_str(), &f2, &a, &f1].concat().as_bytes());
                let u = test_util::both_ways(&path, TranscriptKind::Claude, None).expect("usage");
                assert_eq!(
                    (u.current_tokens, u.updated_at.as_deref(), u.window_tokens),
                    (Some(7707), Some("ta"), 1_000_000),
                    "d1 {d1}, d2 {d2}"
                );
            }
        }
        // The newest line itself exactly fills the first chunk, with and without a partial line after it.
        let path = tmp.path().join("exact.jsonl");
        let big_a = a.replace("\"ok\"", &format!("\"{}\"", "o".repeat(FIRST - a.len() + 2)));
        assert_eq!(big_a.len(), FIRST);
        append(&path, [b.as_str(), &big_a].concat().as_bytes());
        let u = test_util::both_ways(&path, TranscriptKind::Claude, None).expect("usage");
        assert_eq!((u.current_tokens, u.window_tokens), (Some(7707), 1_000_000));
        append(&path, b"{\"type\":\"assistant\"");
        let mut cache = TranscriptCache::new(None);
        assert_eq!(usage(&mut cache, &path).and_then(|u| u.current_tokens), Some(7707));
    }

    #[test]
    fn forget_missing_drops_cursors() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (p1, p2) = (tmp.path().join("1.jsonl"), tmp.path().join("2.jsonl"));
        append(&p1, claude_assistant("a", "m", [1, 1, 1, 1], "t", "").as_bytes());
        append(&p2, claude_assistant("a", "m", [1, 1, 1, 1], "t", "").as_bytes());
        let mut cache = TranscriptCache::new(None);
        usage(&mut cache, &p1);
        usage(&mut cache, &p2);
        assert_eq!(cache.len(), 2);
        cache.forget_missing(&HashSet::from([p2.clone()]));
        assert_eq!(cache.len(), 1);
        assert!(usage(&mut cache, &p2).is_some());
    }

    #[test]
    fn kind_change_starts_over() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("s.jsonl");
        append(&path, codex_token_count(100, 50, 10, Some(258_400), "t").as_bytes());
        let mut cache = TranscriptCache::new(None);
        assert_eq!(usage(&mut cache, &path), None);
        let u = cache.context_usage(&path, TranscriptKind::Codex).expect("usage");
        assert_eq!(u.current_tokens, Some(110));
    }
}

#[cfg(test)]
mod bad_input_tests {
    use super::{test_util::*, *};

    #[test]
    fn files_of_nuls_a_50_mb_line_and_invalid_utf8_are_skipped() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let a = claude_assistant("a", "claude-opus-4-6", [1, 2, 3, 4], "t1", "");

        // Only NULs, no newline at all: nothing usable, and no error.
        let nuls = tmp.path().join("nuls.jsonl");
        append(&nuls, &vec![0u8; 8 << 20]);
        let mut cache = TranscriptCache::new(None);
        assert_eq!(cache.context_usage(&nuls, TranscriptKind::Claude), None);
        assert_eq!(cache.context_usage(&nuls, TranscriptKind::Codex), None);

        // A usable line, then NUL-filled lines and a NUL tail (a preallocated file): the line is the answer.
        let padded = tmp.path().join("padded.jsonl");
        append(&padded, a.as_bytes());
        append(
            &padded,
            &[vec![0u8; 1 << 20], b"\n".to_vec(), vec![0u8; 3 << 20]].concat(),
        );
        assert_eq!(
            TranscriptCache::new(None)
                .context_usage(&padded, TranscriptKind::Claude)
                .and_then(|u| u.current_tokens),
            Some(6)
        );

        // A 50 MB line between two usable ones, read backwards and forwards; and a line of invalid UTF-8.
        let big = tmp.path().join("big.jsonl");
        append(&big, a.as_bytes());
        let b = claude_assistant("b", "claude-opus-4-6", [10, 20, 30, 40], "t2", "");
        let mut cache = TranscriptCache::new(None);
        assert_eq!(
            cache
                .context_usage(&big, TranscriptKind::Claude)
                .and_then(|u| u.current_tokens),
            Some(6)
        );
        let line = [
            b"{\"type\":\"user\",\"x\":\"".to_vec(),
            vec![b'z'; 50_000_000],
            b"\"}\n".to_vec(),
        ]
        .concat();
        append(&big, &line);
        append(&big, b"\xff\xfe{\"type\":\"assistant\",\"usage\":\xff}\n");
        append(&big, b.as_bytes());
        assert_eq!(
            cache
                .context_usage(&big, TranscriptKind::Claude)
                .and_then(|u| u.current_tokens),
            Some(60)
        );
        let mut fresh = TranscriptCache::new(None);
        assert_eq!(
            fresh
                .context_usage(&big, TranscriptKind::Claude)
                .and_then(|u| u.current_tokens),
            Some(60)
        );
    }
}
