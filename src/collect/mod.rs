//! One collection pass: the session files, transcripts and live processes on this machine → the sorted list of
//! sessions. `amc serve` (through the publisher) and `amc snapshot` share it, so both apply exactly the same rules.
//!
//! The pass flows one way, in the original's order (`_collect_sessions`):
//! 1. **Facts.** The one `/proc` scan ([`crate::sources::agent_procs`]); Codex discovery (`collect::codex`: the collector is
//!    Codex's hook, so it writes the session files of running Codex threads before they are read); the live Zellij
//!    sessions; every session file and event log.
//! 2. **Rules** ([`crate::rules`]), per session file: skip non-objects; remove orphan `starting` sessions; context
//!    usage; `turn_start_tokens`; transcript mtime; the original's `is_dead` decision. Then, over all sessions
//!    (`collect::evidence`): process evidence settles `is_dead` once and corrects statuses; sort by `session_id`; same-pane
//!    dedupe; cleanup.
//! 3. **Effects**, in one place at the end (`Collector::apply`): `turn_start_tokens` write-backs, then every
//!    removal (each file goes to `trash/`, never unlinked), then the trash purge.
//!
//! Every rule returns a [`Decision`]; the pass keeps, per listed session, the decisions that made its status,
//! `is_dead`, context window and dedupe outcome ([`Pass::decisions`]), and for every file it removed the decisions
//! and the trash path ([`Pass::removed`]).

mod codex;
mod evidence;

use std::{
    collections::{hash_map::DefaultHasher, HashMap, HashSet},
    fs,
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

use self::codex::OpenFiles;
use crate::{
    config::{Config, Paths},
    model::{self, agent, key, Decision, Removed, SessionDecisions, SessionJson},
    rules::{self, cleanup, codex::DismissedIds, liveness::Evidence, Removal},
    sources::{
        agent_procs,
        codex::RolloutCache,
        session_file::{self, Parsed, RawSession, SessionFileCache, SessionFileFacts},
        zellij::ZellijCache,
    },
    store,
    transcript::{
        discover::{claude_transcript, CodexRolloutIndex},
        CacheOptions, ContextUsage, SessionHint, TranscriptCache, TranscriptKind,
    },
};

/// How often the trash is purged of files older than [`store::TRASH_RETENTION`].
const TRASH_PURGE_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// The result of one pass.
#[derive(Debug, Default, Clone)]
pub struct Pass {
    /// The sessions, sorted by `session_id`, deduplicated.
    pub sessions: Vec<SessionJson>,
    /// The decisions behind each session, index for index with `sessions`: its status, `is_dead` (the original's
    /// rule, then process evidence when it overrides it), context window, `turn_start_tokens`, pane and dedupe
    /// outcome, in the order they were taken.
    pub decisions: Vec<SessionDecisions>,
    /// The files this pass moved to the trash (session files and event logs), with the decisions that removed them.
    pub removed: Vec<Removed>,
    /// Files whose changes should trigger the next pass (the transcripts of the listed sessions).
    pub watch_paths: Vec<PathBuf>,
    /// Whether the live Zellij sessions were known in this pass (when not, no session was declared dead or removed
    /// on Zellij's account).
    pub zellij_known: bool,
    /// Whether the open files of processes were known in this pass (when not, no Codex session was declared dead).
    pub processes_known: bool,
}

impl Pass {
    /// Returns the decisions behind the listed session `session_id` (the first one, if two files share the id).
    pub fn decisions_of(&self, session_id: &str) -> Option<&SessionDecisions> {
        let i = self
            .sessions
            .iter()
            .position(|s| model::str_field(s, key::SESSION_ID) == Some(session_id))?;
        self.decisions.get(i)
    }
}

/// Owns what a pass keeps between runs (transcript cursors, caches), so later passes do less work.
#[derive(Debug)]
pub struct Collector {
    config: Config,
    transcripts: TranscriptCache,
    /// The session files as last read, so a pass reads and parses only those that changed.
    session_files: SessionFileCache,
    zellij: ZellijCache,
    rollouts: RolloutCache,
    codex_index: CodexRolloutIndex,
    dismissed: DismissedIds,
    /// The Codex session ids listed by the previous pass: one of them whose file is gone was dismissed.
    codex_listed: HashSet<String>,
    /// Hashes of the unusable session files already warned about, so a bad file is logged once, not every pass.
    warned: HashMap<PathBuf, u64>,
    last_purge: Option<SystemTime>,
}

/// One session file that made it into the list, with what the later steps need.
struct Listed {
    path: PathBuf,
    /// The bytes the pass read (after its own `turn_start_tokens` write, once applied).
    bytes: Vec<u8>,
    transcript: Option<PathBuf>,
    session: SessionJson,
    /// The decisions taken so far.
    decisions: SessionDecisions,
    /// The original's `is_dead` decision, until [`evidence::settle`] settles it with the process evidence.
    original_liveness: Option<Decision>,
    /// The `turn_start_tokens` to write back to the file (an effect, applied at the end).
    turn_start_tokens: Option<u64>,
}

/// A file to remove at the end of the pass, and what must still hold when it is removed.
struct PendingRemoval {
    removal: Removal,
    /// The session id it belongs to (the session's id, or the file's stem).
    session_id: String,
    /// The decisions behind the session, up to its removal.
    decisions: SessionDecisions,
    check: Check,
    /// The id of a Codex session: removing one dismisses it, so discovery does not write it again.
    dismiss: Option<String>,
}

/// What must still hold when a file is removed.
enum Check {
    /// The file still holds these bytes (what the pass read, after its own write-back).
    Bytes(Vec<u8>),
    /// The file is still a stale `starting` session by its current mtime and status.
    StaleStarting,
    /// Nothing: an event log.
    None,
}

/// The rule name of the status a session file records (the hook's, or Codex discovery's).
fn file_status_rule(session: &SessionJson) -> &'static str {
    match model::str_field(session, key::AGENT) {
        Some(agent::CODEX) => "rules::codex::codex_session",
        _ => "hook::update::apply",
    }
}

impl Collector {
    /// Creates a collector for `config`.
    pub fn new(config: &Config) -> Self {
        Collector {
            transcripts: TranscriptCache::with_options(CacheOptions {
                window_override: config.context_window_override,
                claude_config_dirs: claude_config_dirs(&config.paths),
                anthropic_model: config.anthropic_model.clone(),
                data_dir: Some(config.paths.data_dir.clone()),
            }),
            session_files: SessionFileCache::default(),
            zellij: ZellijCache::default(),
            rollouts: RolloutCache::default(),
            codex_index: CodexRolloutIndex::default(),
            dismissed: DismissedIds::default(),
            codex_listed: HashSet::new(),
            warned: HashMap::new(),
            last_purge: None,
            config: config.clone(),
        }
    }

    /// Records that the user dismissed session `id`, so Codex discovery does not recreate its file while its rollout
    /// stays open. (A Codex session file that disappears between two passes is recorded the same way.)
    pub fn dismiss(&mut self, id: &str) {
        self.dismissed.insert(id);
    }

    /// Runs one pass at wall-clock time `now`.
    pub fn pass(&mut self, now: SystemTime) -> Pass {
        let at = model::epoch_seconds(now);
        let paths = self.config.paths.clone();
        let sessions_dir = paths.sessions_dir();
        if let Err(error) = fs::create_dir_all(&sessions_dir) {
            tracing::warn!(dir = %sessions_dir.display(), %error, "cannot create the sessions dir");
        }

        // 1. Facts.
        let agents = agent_procs::scan(&paths.proc_root, &claude_config_dirs(&paths));
        let processes = codex::process_facts(&paths, &agents, now);
        let (open_rollouts, discovered) = match &processes {
            Some((codex, _)) => self.discover_codex(&paths, codex),
            None => Default::default(),
        };
        let open_files = processes.as_ref().map(|(_, open_files)| open_files);
        let live = self.zellij.live_sessions(paths.zellij_bin.as_deref());
        let evidence = Evidence {
            procs: &agents,
            zellij_live: live.as_ref(),
            now,
        };
        let events_dir = paths.events_dir();
        if let Err(error) = fs::create_dir_all(&events_dir) {
            tracing::debug!(dir = %events_dir.display(), %error, "cannot create the events dir");
        }
        let event_logs = session_file::list_event_logs(&events_dir);

        // 2. Rules, per session file.
        let mut kept_files = Vec::new();
        let mut removals = Vec::new();
        // The session files as read (path, mtime, the file's own status), for the cleanup.
        let mut files_read = Vec::new();
        let mut warned = HashMap::new();
        let files = session_file::list_files(&sessions_dir, ".json");
        self.session_files.retain(&files.iter().cloned().collect());
        for path in files {
            let (raw, parsed) = match self.session_files.read(&path) {
                Ok(Some(read)) => read,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "skipping unreadable session file");
                    continue;
                }
            };
            let session = match parsed {
                Parsed::Object(session) => session,
                Parsed::NotObject => {
                    self.warn_once(&mut warned, &raw, "skipping session file: not a JSON object");
                    continue;
                }
                Parsed::Invalid(error) => {
                    self.warn_once(
                        &mut warned,
                        &raw,
                        &format!("skipping session file: invalid JSON ({error})"),
                    );
                    continue;
                }
            };
            let orphan = rules::liveness::orphan_removal(
                &session,
                live.as_ref(),
                || rules::liveness::claude::claude_verdict(&session, &evidence),
                raw.path.clone(),
                at,
            );
            if let Some(removal) = orphan {
                removals.push(PendingRemoval {
                    session_id: model::sort_key(&session),
                    decisions: vec![removal.decision.clone()],
                    dismiss: codex_id(&session),
                    removal,
                    check: Check::Bytes(raw.bytes),
                });
                continue;
            }
            files_read.push(SessionFileFacts {
                path: raw.path.clone(),
                mtime: raw.mtime,
                status: model::str_field(&session, key::STATUS).map(str::to_owned),
            });
            kept_files.push((raw, session));
        }
        self.warned = warned;
        // Every changed transcript at once, in parallel; `complete` then only looks the answers up.
        let transcripts: Vec<_> = kept_files
            .iter()
            .filter_map(|(_, session)| {
                let (path, kind) = self.resolve_transcript(session)?;
                Some((path, kind, session_hint(session)))
            })
            .collect();
        self.transcripts.refresh(&transcripts);
        let mut listed = Vec::with_capacity(kept_files.len());
        for (raw, session) in kept_files {
            listed.push(self.complete(raw, session, live.as_ref(), open_files, at));
        }

        // Rules over all sessions: liveness and status, sort, dedupe, cleanup.
        evidence::settle(&mut listed, &evidence, at);
        listed.sort_by_cached_key(|l| model::sort_key(&l.session));
        let files: Vec<PathBuf> = listed.iter().map(|l| l.path.clone()).collect();
        let file_refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let outcomes = with_sessions(&mut listed, |sessions| rules::dedupe::decide(sessions, &file_refs, at));
        let mut losers = Vec::new();
        for outcome in outcomes {
            let l = &mut listed[outcome.index];
            l.decisions.push(outcome.decision);
            if let Some(removal) = outcome.removal {
                losers.push((outcome.index, removal));
            }
        }
        let mut kept = Vec::with_capacity(listed.len());
        let mut lost = Vec::new();
        let mut losers = losers.into_iter().peekable();
        for (i, l) in listed.into_iter().enumerate() {
            match losers.next_if(|(index, _)| *index == i) {
                Some((_, removal)) => lost.push((l, removal)),
                None => kept.push(l),
            }
        }
        let removed_paths: HashSet<PathBuf> = removals
            .iter()
            .map(|r| r.removal.path.clone())
            .chain(lost.iter().map(|(l, _)| l.path.clone()))
            .collect();
        let cleanup_removals = with_sessions(&mut kept, |sessions| {
            let active = cleanup::active_ids(sessions);
            let logs = cleanup::stale_event_logs(&event_logs, &active, now);
            let stale_files: Vec<SessionFileFacts> = files_read
                .into_iter()
                .filter(|f| !removed_paths.contains(&f.path))
                .collect();
            (logs, cleanup::stale_starting_sessions(&stale_files, now))
        });

        // 3. Effects.
        let removed = self.apply(&paths, &mut kept, lost, removals, cleanup_removals, now);

        let watch_paths: Vec<PathBuf> = kept.iter().filter_map(|l| l.transcript.clone()).collect();
        self.transcripts.forget_missing(&watch_paths.iter().cloned().collect());
        self.transcripts.save_index();
        self.rollouts.retain(&open_rollouts);
        // With the ids discovery found a file for this pass: a file deleted between discovery and the listing above
        // was still the user's dismissal (without them the next pass would recreate it).
        self.codex_listed = kept
            .iter()
            .filter_map(|l| codex_id(&l.session))
            .chain(discovered)
            .collect();
        let (sessions, decisions) = kept.into_iter().map(|l| (l.session, l.decisions)).unzip();
        Pass {
            sessions,
            decisions,
            removed,
            watch_paths,
            zellij_known: live.is_some(),
            processes_known: processes.is_some(),
        }
    }

    /// Adds the computed keys to a session read from `raw` (all but `is_dead`, which [`evidence::settle`] sets once),
    /// with the decisions behind them; a `turn_start_tokens` to write back is left for [`Collector::apply`].
    fn complete(
        &mut self,
        raw: RawSession,
        mut session: SessionJson,
        live: Option<&HashSet<String>>,
        open_files: Option<&OpenFiles>,
        at: f64,
    ) -> Listed {
        // Keys only amc computes; a file must not make them claim something this pass did not find.
        session.remove(key::CONTEXT_WINDOW_INFERRED);
        session.remove(key::LIVENESS_REASON);
        let field_of = |k: &str| session.get(k).cloned().unwrap_or(Value::Null);
        let mut decisions = vec![Decision::new(
            model::field::STATUS,
            file_status_rule(&session),
            field_of(key::STATUS),
            at,
        )
        .with("file", raw.path.to_string_lossy().into_owned())
        .with(key::LAST_EVENT, field_of(key::LAST_EVENT))
        .with(key::LAST_EVENT_AT, field_of(key::LAST_EVENT_AT))];

        let transcript = self.transcript_facts(&session);
        let mut current_tokens = None;
        if let Some(TranscriptFacts {
            path,
            usage: Some(usage),
        }) = &transcript
        {
            decisions.push(rules::context::context_window(
                &usage.json,
                usage.window_inferred,
                path,
                at,
            ));
            session.insert(key::CONTEXT_USAGE.into(), usage.json.clone());
            session.insert(key::CONTEXT_WINDOW_INFERRED.into(), usage.window_inferred.into());
            current_tokens = usage.current_tokens;
        }
        let mut turn_start_tokens = None;
        if let Some(decision) = rules::context::turn_start_tokens(&session, current_tokens, at) {
            session.insert(key::TURN_START_TOKENS.into(), decision.value.clone());
            turn_start_tokens = decision.value.as_u64();
            decisions.push(decision);
        }
        let transcript = transcript.map(|t| t.path);
        if let Some(ns) = transcript.as_deref().and_then(mtime_ns) {
            session.insert(key::CONVERSATION_MTIME_NS.into(), ns.into());
        }
        let open = codex::transcript_open(&session, open_files);
        let original_liveness = Some(rules::liveness::original::is_dead(&session, live, open, at));
        Listed {
            path: raw.path,
            bytes: raw.bytes,
            transcript,
            session,
            decisions,
            original_liveness,
            turn_start_tokens,
        }
    }

    /// The collector's one use of the transcript reader ([`TranscriptCache`]): the session's transcript and what the
    /// pass takes from its context usage.
    fn transcript_facts(&mut self, session: &SessionJson) -> Option<TranscriptFacts> {
        let (path, kind) = self.resolve_transcript(session)?;
        let usage = self
            .transcripts
            .refreshed_usage(&path, kind, session_hint(session))
            .map(|usage: ContextUsage| Usage {
                json: usage.to_json(),
                window_inferred: usage.window_inferred,
                current_tokens: usage.current_tokens,
            });
        Some(TranscriptFacts { path, usage })
    }

    /// Returns the session's transcript and its kind: Claude: `transcript_path` when that file exists, else the
    /// `<session_id>.jsonl` under the projects roots; Codex: `transcript_path` when that file exists, else the rollout
    /// named after the session id. Other agents have none.
    fn resolve_transcript(&mut self, session: &SessionJson) -> Option<(PathBuf, TranscriptKind)> {
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

    /// Carries out the pass's effects, in one place: the `turn_start_tokens` write-backs, then the removals (orphan
    /// `starting` sessions, dedupe losers, stale event logs, stale `starting` files), then the trash purge. Returns
    /// the files removed, with the decisions that removed them.
    fn apply(
        &mut self,
        paths: &Paths,
        kept: &mut [Listed],
        mut lost: Vec<(Listed, Removal)>,
        orphans: Vec<PendingRemoval>,
        (stale_logs, stale_starting): (Vec<Removal>, Vec<Removal>),
        now: SystemTime,
    ) -> Vec<Removed> {
        for l in kept.iter_mut().chain(lost.iter_mut().map(|(l, _)| l)) {
            write_turn_start_tokens(paths, l);
        }
        let mut pending = orphans;
        pending.extend(lost.into_iter().map(|(l, removal)| {
            let mut decisions = l.decisions;
            decisions.push(removal.decision.clone());
            PendingRemoval {
                session_id: model::sort_key(&l.session),
                decisions,
                dismiss: codex_id(&l.session),
                check: Check::Bytes(l.bytes),
                removal,
            }
        }));
        let by_stem = |removal: Removal, check: Check| PendingRemoval {
            session_id: removal
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            decisions: vec![removal.decision.clone()],
            dismiss: None,
            check,
            removal,
        };
        pending.extend(stale_logs.into_iter().map(|r| by_stem(r, Check::None)));
        pending.extend(stale_starting.into_iter().map(|r| by_stem(r, Check::StaleStarting)));
        let mut removed = Vec::new();
        for p in pending {
            if let Some(trash_path) = remove(paths, &p.removal, &p.check, now) {
                removed.push(Removed {
                    session_id: p.session_id,
                    file: p.removal.path.clone(),
                    trash_path: Some(trash_path),
                    decisions: p.decisions,
                    at: p.removal.decision.at,
                });
            }
            if let Some(id) = &p.dismiss {
                self.dismissed.insert(id);
            }
        }

        let due = self
            .last_purge
            .is_none_or(|at| now.duration_since(at).map_or(true, |d| d >= TRASH_PURGE_INTERVAL));
        if due {
            self.last_purge = Some(now);
            let purged = store::purge_trash(paths, now);
            if purged > 0 {
                tracing::info!(purged, "old files purged from the trash");
            }
        }
        removed
    }

    /// Logs an unusable session file once per content, not on every pass.
    fn warn_once(&self, warned: &mut HashMap<PathBuf, u64>, raw: &RawSession, message: &str) {
        let mut hasher = DefaultHasher::new();
        raw.bytes.hash(&mut hasher);
        let hash = hasher.finish();
        if self.warned.get(&raw.path) != Some(&hash) {
            tracing::warn!(file = %raw.path.display(), "{message}");
        }
        warned.insert(raw.path.clone(), hash);
    }
}

/// What the pass takes from a session's transcript.
struct TranscriptFacts {
    path: PathBuf,
    usage: Option<Usage>,
}

/// The context usage of a transcript, as the pass uses it.
struct Usage {
    /// The `context_usage` object.
    json: Value,
    window_inferred: bool,
    current_tokens: Option<u64>,
}

/// Writes a listed session's `turn_start_tokens` back to its file; the session then holds the bytes written, so a
/// later removal of the file checks against them.
fn write_turn_start_tokens(paths: &Paths, l: &mut Listed) {
    let Some(tokens) = l.turn_start_tokens.take() else {
        return;
    };
    match session_file::write_turn_start_tokens(paths, &l.path, tokens) {
        Ok(Some(bytes)) => l.bytes = bytes,
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(file = %l.path.display(), %error, "cannot record turn_start_tokens")
        }
    }
}

/// Moves one file to the trash if its check still holds; returns where it went. The log line is the removal's
/// reason.
fn remove(paths: &Paths, removal: &Removal, check: &Check, now: SystemTime) -> Option<PathBuf> {
    let (path, reason) = (&removal.path, removal.reason());
    let result = match check {
        Check::Bytes(bytes) => session_file::trash_session_if(paths, path, |current| &current.bytes == bytes),
        Check::StaleStarting => session_file::trash_session_if(paths, path, |current| {
            let status = match current.parse() {
                Parsed::Object(s) => model::str_field(&s, key::STATUS).map(str::to_owned),
                _ => None,
            };
            let facts = SessionFileFacts {
                path: current.path.clone(),
                mtime: current.mtime,
                status,
            };
            cleanup::is_stale_starting(&facts, now)
        }),
        Check::None => store::move_to_trash(paths, path),
    };
    let what = if matches!(check, Check::None) {
        "event log"
    } else {
        "session file"
    };
    match result {
        Ok(Some(trash_path)) => {
            tracing::info!(file = %path.display(), reason, "{what} moved to trash");
            Some(trash_path)
        }
        Ok(None) => {
            tracing::debug!(file = %path.display(), "{what} changed or vanished: left alone");
            None
        }
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "cannot move the {what} to trash");
            None
        }
    }
}

/// Returns the id of a Codex session (a string `session_id`), `None` for any other session.
fn codex_id(session: &SessionJson) -> Option<String> {
    (model::str_field(session, key::AGENT) == Some(agent::CODEX))
        .then(|| model::str_field(session, key::SESSION_ID).map(str::to_owned))
        .flatten()
}

/// Returns the mtime of `path` in nanoseconds since the Unix epoch.
fn mtime_ns(path: &Path) -> Option<u64> {
    let mtime = fs::metadata(path).and_then(|m| m.modified()).ok()?;
    u64::try_from(mtime.duration_since(UNIX_EPOCH).ok()?.as_nanos()).ok()
}

/// Returns what a session file says about the model its agent runs: `model` and the project dir (else `cwd`).
fn session_hint(session: &SessionJson) -> SessionHint<'_> {
    SessionHint {
        model: model::str_field(session, "model"),
        project_dir: model::str_field(session, key::PROJECT_DIR).or_else(|| model::str_field(session, "cwd")),
    }
}

/// The Claude config dirs whose `sessions/<pid>.json` Claude Code writes: `$CLAUDE_CONFIG_DIR` (or `~/.claude`) and
/// the parents of the projects roots.
fn claude_config_dirs(paths: &Paths) -> Vec<PathBuf> {
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

/// Calls `f` with the sessions of `listed` (moved out for the call and back after it, rather than cloned).
fn with_sessions<R>(listed: &mut [Listed], f: impl FnOnce(&[SessionJson]) -> R) -> R {
    let sessions: Vec<SessionJson> = listed.iter_mut().map(|l| std::mem::take(&mut l.session)).collect();
    let result = f(&sessions);
    for (l, session) in listed.iter_mut().zip(sessions) {
        l.session = session;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::{os::unix::fs::PermissionsExt, process::Stdio};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/collector");

    struct TestEnv {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        config: Config,
    }

    /// A temp HOME whose fake zellij prints `list` and logs each call to `zellij.log`.
    fn env(list: &str) -> TestEnv {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical");
        let zellij = root.join("zellij");
        fs::copy(Path::new(FIXTURES).join("zellij.sh"), &zellij).expect("copy");
        fs::set_permissions(&zellij, fs::Permissions::from_mode(0o755)).expect("chmod");
        fs::write(root.join("list.txt"), list).expect("write");
        let r = root.clone();
        let paths = Paths::from_lookup(move |k| {
            let s = |p: PathBuf| Some(p.to_string_lossy().into_owned());
            match k {
                "HOME" => s(r.clone()),
                "AMC_DATA_DIR" => s(r.join("data")),
                "CODEX_HOME" => s(r.join("codex")),
                "CLAUDE_CONFIG_DIR" => s(r.join("claude")),
                "AMC_ZELLIJ_BIN" => s(r.join("zellij")),
                _ => None,
            }
        });
        fs::create_dir_all(paths.sessions_dir()).expect("sessions dir");
        TestEnv {
            _tmp: tmp,
            root,
            config: Config::for_paths(paths),
        }
    }

    fn write_session(env: &TestEnv, id: &str, value: Value) {
        let path = env.config.paths.sessions_dir().join(format!("{id}.json"));
        fs::write(path, serde_json::to_vec(&value).expect("json")).expect("write");
    }

    fn ids(pass: &Pass) -> Vec<String> {
        pass.sessions.iter().map(model::sort_key).collect()
    }

    /// The fake zellij reads its output file from the environment of the test process, which tests must not set;
    /// so these tests point AMC_ZELLIJ_BIN at a wrapper that sets it.
    fn wrap_zellij(env: &mut TestEnv) {
        let wrapper = env.root.join("zellij-wrapper");
        let script = format!(
            "#!/bin/sh\nFAKE_ZELLIJ_STDOUT={root}/list.txt FAKE_ZELLIJ_LOG={root}/zellij.log exec {root}/zellij \"$@\"\n",
            root = env.root.display()
        );
        fs::write(&wrapper, script).expect("write wrapper");
        fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).expect("chmod");
        env.config.paths.zellij_bin = Some(wrapper);
    }

    #[test]
    fn the_zellij_list_is_cached_across_passes() {
        let mut env = env("main [Created 1s ago] \n");
        wrap_zellij(&mut env);
        write_session(
            &env,
            "c",
            json!({"session_id": "c", "agent": "claude", "status": "active", "zellij_session": "main"}),
        );
        let mut collector = Collector::new(&env.config);
        let first = collector.pass(SystemTime::now());
        let second = collector.pass(SystemTime::now());
        assert!(first.zellij_known && second.zellij_known);
        assert_eq!(first.sessions, second.sessions);
        assert_eq!(first.sessions[0]["is_dead"], json!(false));
        let calls = fs::read_to_string(env.root.join("zellij.log")).expect("log");
        assert_eq!(
            calls.lines().count(),
            1,
            "one zellij call for two passes within {CACHE:?}",
            CACHE = crate::sources::zellij::CACHE_TTL
        );
    }

    #[test]
    fn without_proc_nothing_panics_and_nothing_is_removed() {
        let mut env = env("");
        env.config.paths.proc_root = env.root.join("no-proc");
        env.config.paths.zellij_bin = None;
        write_session(
            &env,
            "s",
            json!({"session_id": "s", "agent": "claude", "status": "starting", "zellij_session": "x"}),
        );
        write_session(
            &env,
            "k",
            json!({"session_id": "k", "agent": "codex", "status": "done", "transcript_path": "/nonexistent/r.jsonl"}),
        );
        let pass = Collector::new(&env.config).pass(SystemTime::now());
        assert!(!pass.zellij_known);
        assert_eq!(ids(&pass), ["k", "s"]);
        assert_eq!(pass.sessions[1]["is_dead"], json!(false));
        // lsof, when installed, answers for the candidates; when not, the Codex session is not declared dead.
        let expected_dead = pass.processes_known;
        assert_eq!(pass.sessions[0]["is_dead"], json!(expected_dead));
    }

    #[test]
    fn a_removed_codex_session_is_not_rediscovered() {
        let env = env("");
        let project = env.root.join("project");
        let dir = env.config.paths.codex_sessions_dir.join("2026/01/01");
        fs::create_dir_all(&project).expect("project");
        fs::create_dir_all(&dir).expect("rollout dir");
        let id = "019c0000-0000-7000-8000-0000000000aa";
        let rollout = dir.join(format!("rollout-2026-01-01T00-00-00-{id}.jsonl"));
        let text = fs::read_to_string(Path::new(FIXTURES).join("codex-rollout.jsonl")).expect("fixture");
        fs::write(
            &rollout,
            text.replace("SID", id).replace("CWD", &project.to_string_lossy()),
        )
        .expect("write");
        let codex = env.root.join("codex-bin");
        fs::create_dir_all(&codex).expect("bin dir");
        let codex = codex.join("codex");
        fs::copy(Path::new(FIXTURES).join("codex.sh"), &codex).expect("copy");
        fs::set_permissions(&codex, fs::Permissions::from_mode(0o755)).expect("chmod");
        let mut child = std::process::Command::new(&codex)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .env("FAKE_CODEX_HOLD", &rollout)
            .current_dir(&project)
            .stdin(Stdio::piped())
            .spawn()
            .expect("spawn");
        let pid = child.id();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        // Until the stand-in holds the rollout (counting its fds raced with the shell's own script fd under load).
        let holds = || {
            fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
                fds.flatten()
                    .any(|fd| fs::read_link(fd.path()).is_ok_and(|target| target == rollout))
            })
        };
        while !holds() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }

        let mut collector = Collector::new(&env.config);
        let first = collector.pass(SystemTime::now());
        let file = env.config.paths.sessions_dir().join(format!("{id}.json"));
        assert_eq!(ids(&first), [id]);
        assert!(first.processes_known);
        // The user dismisses it (the file goes); the rollout stays open.
        store::move_to_trash(&env.config.paths, &file).expect("dismiss");
        assert!(collector.pass(SystemTime::now()).sessions.is_empty());
        assert!(!file.exists(), "not recreated");
        assert!(collector.pass(SystemTime::now()).sessions.is_empty());
        // A fresh collector (a restart) rediscovers it, as the original did; an explicit dismiss prevents that.
        let mut fresh = Collector::new(&env.config);
        fresh.dismiss(id);
        assert!(fresh.pass(SystemTime::now()).sessions.is_empty());
        assert_eq!(ids(&Collector::new(&env.config).pass(SystemTime::now())), [id]);
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn watch_paths_are_the_listed_transcripts() {
        let env = env("");
        let dir = env.root.join("claude/projects/-p");
        fs::create_dir_all(&dir).expect("project dir");
        let transcript = dir.join("t.jsonl");
        fs::copy(Path::new(FIXTURES).join("claude-transcript.jsonl"), &transcript).expect("copy");
        write_session(
            &env,
            "t",
            json!({"session_id": "t", "agent": "claude", "status": "done", "project_dir": "/p"}),
        );
        write_session(
            &env,
            "u",
            json!({"session_id": "u", "agent": "claude", "status": "done", "project_dir": "/p"}),
        );
        let pass = Collector::new(&env.config).pass(SystemTime::now());
        assert_eq!(pass.watch_paths, vec![transcript]);
    }

    #[test]
    fn the_pass_keeps_each_sessions_decisions_and_what_it_removed() {
        let mut env = env("main [Created 1s ago] \n");
        wrap_zellij(&mut env);
        // An empty process table: no process evidence either way.
        env.config.paths.proc_root = env.root.join("empty-proc");
        fs::create_dir_all(&env.config.paths.proc_root).expect("proc dir");
        let claude = |id: &str, status: &str, zellij: &str, pane: &str, mtime: u64| {
            json!({"session_id": id, "agent": "claude", "status": status, "zellij_session": zellij,
                   "zellij_pane": pane, "conversation_mtime_ns": mtime, "last_event": "Stop"})
        };
        write_session(&env, "alive", claude("alive", "active", "main", "1", 0));
        write_session(&env, "gone", claude("gone", "done", "old", "1", 0));
        write_session(&env, "orphan", claude("orphan", "starting", "old", "2", 0));
        write_session(&env, "dup-a", claude("dup-a", "done", "main", "2", 5));
        write_session(&env, "dup-b", claude("dup-b", "done", "main", "2", 9));
        let pass = Collector::new(&env.config).pass(SystemTime::now());
        assert_eq!(ids(&pass), ["alive", "dup-b", "gone"]);
        assert_eq!(pass.decisions.len(), pass.sessions.len());

        let fields = |id: &str| -> Vec<(&str, &str, Value)> {
            pass.decisions_of(id)
                .expect("listed")
                .iter()
                .map(|d| (d.field, d.rule, d.value.clone()))
                .collect()
        };
        assert_eq!(
            fields("alive"),
            [
                ("status", "hook::update::apply", json!("active")),
                ("is_dead", rules::liveness::original::RULE_IS_DEAD, json!(false)),
            ]
        );
        let gone = pass.decisions_of("gone").expect("listed");
        let dead = gone.iter().find(|d| d.field == "is_dead").expect("is_dead decided");
        assert_eq!(dead.value, json!(true));
        assert_eq!(dead.evidence.get("zellij_live"), Some(&json!(false)));
        assert_eq!(
            dead.evidence.get("reason"),
            Some(&json!("zellij session 'old' is not running"))
        );
        let kept = fields("dup-b");
        assert_eq!(kept.last(), Some(&("dedupe", rules::dedupe::RULE, json!("kept"))));

        let removed: Vec<(&str, &str)> = pass
            .removed
            .iter()
            .map(|r| (r.session_id.as_str(), r.decisions.last().map_or("", |d| d.rule)))
            .collect();
        assert_eq!(
            removed,
            [("orphan", rules::liveness::RULE_ORPHAN), ("dup-a", rules::dedupe::RULE)]
        );
        for r in &pass.removed {
            let trash = r.trash_path.as_deref().expect("moved to the trash");
            assert!(trash.starts_with(env.config.paths.trash_dir()), "{trash:?}");
            assert!(trash.is_file() && !r.file.exists());
            let last = r.decisions.last().expect("a removal");
            assert_eq!(last.field, "removal");
        }
        let loser = &pass.removed[1];
        assert_eq!(
            loser.decisions.last().map(|d| d.value.clone()),
            Some(json!(rules::dedupe::LOSER_REASON))
        );
        assert!(
            loser
                .decisions
                .iter()
                .any(|d| d.field == "dedupe" && d.value == json!("lost")),
            "the loser keeps its dedupe decision"
        );
    }
}
