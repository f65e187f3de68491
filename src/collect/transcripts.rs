//! The pass's transcripts: which file is a session's transcript (found once per pass), and what the pass takes
//! from it through the one transcript reader ([`crate::transcript::TranscriptCache`]).

use std::{
    fs,
    path::{Path, PathBuf},
    time::UNIX_EPOCH,
};

use serde_json::Value;

use super::Collector;
use crate::{
    config::Paths,
    model::{self, agent, key, SessionJson},
    transcript::{discover::claude_transcript, ContextUsage, SessionHint, TranscriptKind},
};

impl Collector {
    /// The collector's one use of the transcript reader ([`TranscriptCache`]): what the pass takes from the context
    /// usage of `path`, the session's transcript (found once per pass by [`Self::resolve_transcript`]).
    pub(super) fn transcript_facts(
        &mut self,
        session: &SessionJson,
        path: PathBuf,
        kind: TranscriptKind,
    ) -> TranscriptFacts {
        let usage = self
            .transcripts
            .refreshed_usage(&path, kind, session_hint(session))
            .map(|usage: ContextUsage| Usage {
                json: usage.to_json(),
                window_inferred: usage.window_inferred,
                current_tokens: usage.current_tokens,
            });
        let spend = self.transcripts.refreshed_spend(&path, kind);
        TranscriptFacts { path, usage, spend }
    }

    /// Returns the session's transcript and its kind: Claude: `transcript_path` when that file exists, else the
    /// `<session_id>.jsonl` under the projects roots; Codex: `transcript_path` when that file exists, else the rollout
    /// named after the session id. Other agents have none.
    pub(super) fn resolve_transcript(&mut self, session: &SessionJson) -> Option<(PathBuf, TranscriptKind)> {
        let paths = &self.config.paths;
        let transcript_path = model::str_field(session, key::TRANSCRIPT_PATH)
            .filter(|p| !p.is_empty())
            .map(Path::new);
        let session_id = model::str_field(session, key::SESSION_ID).unwrap_or("");
        match model::str_field(session, key::AGENT) {
            Some(agent::CLAUDE) => {
                let project_dir = model::str_field(session, key::PROJECT_DIR).unwrap_or("");
                claude_transcript(transcript_path, &paths.claude_projects_dirs, session_id, project_dir)
                    .map(|p| (p, TranscriptKind::Claude))
            }
            Some(agent::CODEX) => match transcript_path {
                Some(path) if path.is_file() => Some((path.to_path_buf(), TranscriptKind::Codex)),
                _ => self
                    .codex_index
                    .find(&paths.codex_sessions_dir, session_id)
                    .map(|p| (p, TranscriptKind::Codex)),
            },
            _ => None,
        }
    }
}

/// What the pass takes from a session's transcript.
pub(super) struct TranscriptFacts {
    pub(super) path: PathBuf,
    pub(super) usage: Option<Usage>,
    /// Cost, tokens per model and rate limits.
    pub(super) spend: Option<crate::transcript::spend::Spend>,
}

/// The context usage of a transcript, as the pass uses it.
pub(super) struct Usage {
    /// The `context_usage` object.
    pub(super) json: Value,
    pub(super) window_inferred: bool,
    pub(super) current_tokens: Option<u64>,
}

/// Returns the mtime of `path` in nanoseconds since the Unix epoch.
pub(super) fn mtime_ns(path: &Path) -> Option<u64> {
    let mtime = fs::metadata(path).and_then(|m| m.modified()).ok()?;
    u64::try_from(mtime.duration_since(UNIX_EPOCH).ok()?.as_nanos()).ok()
}

/// Returns what a session file says about the model its agent runs: `model` and the project dir (else `cwd`).
pub(super) fn session_hint(session: &SessionJson) -> SessionHint<'_> {
    SessionHint {
        model: model::str_field(session, "model"),
        project_dir: model::str_field(session, key::PROJECT_DIR).or_else(|| model::str_field(session, "cwd")),
    }
}

/// The Claude config dirs whose `sessions/<pid>.json` Claude Code writes (and whose `settings.json` may select the
/// model): `$CLAUDE_CONFIG_DIR` (or `~/.claude`) and the parents of the projects roots.
pub(super) fn claude_config_dirs(paths: &Paths) -> Vec<PathBuf> {
    let mut dirs = vec![paths.claude_config_dir.clone()];
    for projects in &paths.claude_projects_dirs {
        if let Some(parent) = projects.parent() {
            if !dirs.iter().any(|d| d == parent) {
                dirs.push(parent.to_path_buf());
            }
        }
    }
    dirs
}
