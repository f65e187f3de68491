//! One collection pass: the session files, transcripts and live processes on this machine → the sorted list of
//! sessions. `amc serve` (through the publisher) and `amc snapshot` share it, so both apply exactly the same rules.
//!
//! The order is the original's (`_collect_sessions`): Codex discovery → live Zellij sessions → open files → per
//! session file (skip non-objects; remove orphan `starting` sessions; context usage; `turn_start_tokens`; transcript
//! mtime; `is_dead`) → sort by `session_id` → same-pane dedupe → cleanup. [`crate::sources`] gathers the facts,
//! [`crate::rules`] decides, and this module carries the decisions out. Every file it removes goes to `trash/`.

use std::{
    cell::OnceCell,
    collections::{hash_map::DefaultHasher, BTreeSet, HashMap, HashSet},
    fs,
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::{Map, Value};

use crate::{
    config::{Config, Paths},
    rules::{self, cleanup, codex::DismissedIds, Decision},
    sources::{
        codex::{self as codex_source, RolloutCache},
        process::{self, ProcessScan},
        session_file::{self, Parsed, RawSession, SessionFileCache},
        zellij::ZellijCache,
    },
    store,
    transcript::{
        discover::{claude_transcript, CodexRolloutIndex},
        CacheOptions, SessionHint, TranscriptCache, TranscriptKind,
    },
};

/// A session as the collector builds it: every key of its session file plus the computed keys
/// (`context_usage`, `conversation_mtime_ns`, `is_dead`, ...). This is the original's JSON shape.
pub type SessionJson = Map<String, Value>;

/// How long the batched `lsof` (used only where there is no `/proc`) may take.
const LSOF_TIMEOUT: Duration = Duration::from_secs(3);

/// Without `/proc`, rollouts modified this recently are the `lsof` candidates (the original's one-hour window).
const LSOF_RECENT_ROLLOUT_AGE: Duration = Duration::from_secs(60 * 60);

/// How often the trash is purged of files older than [`store::TRASH_RETENTION`].
const TRASH_PURGE_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// How deep below the Codex sessions root rollouts are looked for (`YYYY/MM/DD/rollout-*.jsonl`).
const CODEX_TREE_DEPTH: usize = 4;

/// The result of one pass.
#[derive(Debug, Default, Clone)]
pub struct Pass {
    /// The sessions, sorted by `session_id`, deduplicated.
    pub sessions: Vec<SessionJson>,
    /// Files whose changes should trigger the next pass (the transcripts of the listed sessions).
    pub watch_paths: Vec<PathBuf>,
    /// Whether the live Zellij sessions were known in this pass (when not, no session was declared dead or removed
    /// on Zellij's account).
    pub zellij_known: bool,
    /// Whether the open files of processes were known in this pass (when not, no Codex session was declared dead).
    pub processes_known: bool,
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
    bytes: Vec<u8>,
    transcript: Option<PathBuf>,
    session: SessionJson,
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
        let paths = self.config.paths.clone();
        let sessions_dir = paths.sessions_dir();
        if let Err(error) = fs::create_dir_all(&sessions_dir) {
            tracing::warn!(dir = %sessions_dir.display(), %error, "cannot create the sessions dir");
        }

        let (scan, open_files) = match self.scan_processes(&paths, now) {
            Some((scan, open_files)) => (Some(scan), Some(open_files)),
            None => (None, None),
        };
        let (open_rollouts, discovered) = scan
            .as_ref()
            .map(|scan| self.discover_codex(&paths, scan))
            .unwrap_or_default();
        let live = self.zellij.live_sessions(paths.zellij_bin.as_deref());
        // Process evidence: /proc and Claude Code's own sessions/<pid>.json (rules::process_liveness).
        let agents = crate::sources::agent_procs::scan(&paths.proc_root, &claude_config_dirs(&paths));
        let evidence = rules::process_liveness::Evidence {
            procs: &agents,
            zellij_live: live.as_ref(),
            now,
        };

        let mut kept = Vec::new();
        let mut warned = HashMap::new();
        let files = session_file::list_files(&sessions_dir, ".json");
        self.session_files.retain(&files.iter().cloned().collect());
        // The mtimes this pass saw, so the cleanup need not stat every file again.
        let mut mtimes = HashMap::with_capacity(files.len());
        for path in files {
            let (raw, parsed) = match self.session_files.read(&path) {
                Ok(Some(read)) => read,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "skipping unreadable session file");
                    continue;
                }
            };
            mtimes.insert(path.clone(), raw.mtime);
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
            if rules::liveness::is_orphan_starting(&session, live.as_ref())
                && rules::process_liveness::claude_verdict(&session, &evidence).liveness
                    != rules::process_liveness::Liveness::Alive
            {
                self.remove_session(
                    &paths,
                    &raw,
                    &session,
                    "orphan starting session: its zellij session is gone",
                );
                continue;
            }
            kept.push((raw, session));
        }
        self.warned = warned;
        // Every changed transcript at once, in parallel; `complete` then only looks the answers up.
        let found: Vec<_> = kept
            .iter()
            .map(|(_, session)| self.resolve_transcript(session))
            .collect();
        let transcripts: Vec<_> = kept
            .iter()
            .zip(&found)
            .filter_map(|((_, session), found)| {
                let (path, kind) = found.clone()?;
                Some((path, kind, session_hint(session)))
            })
            .collect();
        self.transcripts.refresh(&transcripts);
        let mut listed = Vec::with_capacity(kept.len());
        for ((raw, session), transcript) in kept.into_iter().zip(found) {
            listed.push(self.complete(&paths, raw, session, transcript, live.as_ref(), open_files.as_ref()));
        }

        apply_process_evidence(&mut listed, &evidence);
        listed.sort_by_cached_key(|l| rules::sort_key(&l.session));
        let losers = with_sessions(&mut listed, rules::dedupe::losers);
        for &i in &losers {
            let l = &listed[i];
            let raw = RawSession {
                path: l.path.clone(),
                bytes: l.bytes.clone(),
                mtime: None,
            };
            self.remove_session(&paths, &raw, &l.session, "another session on the same zellij pane wins");
        }
        let mut listed: Vec<Listed> = listed
            .into_iter()
            .enumerate()
            .filter(|(i, _)| losers.binary_search(i).is_err())
            .map(|(_, l)| l)
            .collect();

        with_sessions(&mut listed, |sessions| self.cleanup(&paths, sessions, &mtimes, now));

        let watch_paths: Vec<PathBuf> = listed.iter().filter_map(|l| l.transcript.clone()).collect();
        self.transcripts.forget_untouched();
        self.transcripts.save_index();
        self.rollouts.retain(&open_rollouts);
        // With the ids discovery found a file for this pass: a file deleted between discovery and the listing above
        // was still the user's dismissal (without them the next pass would recreate it).
        self.codex_listed = listed
            .iter()
            .filter(|l| rules::str_field(&l.session, "agent") == Some("codex"))
            .filter_map(|l| rules::str_field(&l.session, "session_id").map(str::to_owned))
            .chain(discovered)
            .collect();
        Pass {
            sessions: listed.into_iter().map(|l| l.session).collect(),
            watch_paths,
            zellij_known: live.is_some(),
            processes_known: scan.is_some(),
        }
    }

    /// Adds the computed keys to a session read from `raw` (whose transcript, found by [`Self::resolve_transcript`],
    /// is `transcript`), writing `turn_start_tokens` back when it is first known.
    fn complete(
        &mut self,
        paths: &Paths,
        mut raw: RawSession,
        mut session: SessionJson,
        transcript: Option<(PathBuf, TranscriptKind)>,
        live: Option<&HashSet<String>>,
        open_files: Option<&OpenFiles>,
    ) -> Listed {
        // Keys only amc computes; a file must not make them claim something this pass did not find.
        session.remove("context_window_inferred");
        session.remove("liveness_reason");

        let usage = transcript
            .as_ref()
            .and_then(|(path, kind)| self.transcripts.refreshed_usage(path, *kind, session_hint(&session)));
        if let Some(usage) = &usage {
            session.insert("context_usage".into(), usage.to_json());
            session.insert("context_window_inferred".into(), usage.window_inferred.into());
        }
        if let Some(tokens) = rules::context::turn_start_tokens(&session, usage.as_ref().and_then(|u| u.current_tokens))
        {
            session.insert("turn_start_tokens".into(), tokens.into());
            match session_file::write_turn_start_tokens(paths, &raw.path, tokens) {
                Ok(Some(bytes)) => raw.bytes = bytes,
                Ok(None) => {}
                Err(error) => {
                    tracing::warn!(file = %raw.path.display(), %error, "cannot record turn_start_tokens")
                }
            }
        }
        let transcript = transcript.map(|(path, _)| path);
        if let Some(ns) = transcript.as_deref().and_then(mtime_ns) {
            session.insert("conversation_mtime_ns".into(), ns.into());
        }
        let open = transcript_open(&session, open_files);
        let dead = rules::liveness::dead_reason(&session, live, open);
        session.insert("is_dead".into(), dead.is_some().into());
        if let Some(reason) = dead {
            session.insert("liveness_reason".into(), reason.into());
        }
        Listed {
            path: raw.path,
            bytes: raw.bytes,
            transcript,
            session,
        }
    }

    /// Returns the session's transcript and its kind: Claude: `transcript_path` when that file exists, else the
    /// `<session_id>.jsonl` under the projects roots; Codex: `transcript_path` when that file exists, else the rollout
    /// named after the session id. Other agents have none.
    fn resolve_transcript(&mut self, session: &SessionJson) -> Option<(PathBuf, TranscriptKind)> {
        let paths = &self.config.paths;
        let transcript_path = rules::str_field(session, "transcript_path")
            .filter(|p| !p.is_empty())
            .map(Path::new);
        let session_id = rules::str_field(session, "session_id").unwrap_or("");
        match rules::str_field(session, "agent") {
            Some("claude") => {
                let project_dir = rules::str_field(session, "project_dir").unwrap_or("");
                claude_transcript(transcript_path, &paths.claude_projects_dirs, session_id, project_dir)
                    .map(|p| (p, TranscriptKind::Claude))
            }
            Some("codex") => match transcript_path {
                Some(path) if path.is_file() => Some((path.to_path_buf(), TranscriptKind::Codex)),
                _ => self
                    .codex_index
                    .find(&paths.codex_sessions_dir, session_id)
                    .map(|p| (p, TranscriptKind::Codex)),
            },
            _ => None,
        }
    }

    /// Scans `/proc` for the `codex` processes (their open files are read only if a session asks, see
    /// [`OpenFiles`]); without `/proc`, asks `lsof` about the Codex rollouts that could be open.
    fn scan_processes(&self, paths: &Paths, now: SystemTime) -> Option<(ProcessScan, OpenFiles)> {
        if let Some(scan) = process::scan_codex_procs(&paths.proc_root) {
            let open_files = OpenFiles::Proc {
                root: paths.proc_root.clone(),
                files: OnceCell::new(),
            };
            return Some((scan, open_files));
        }
        let mut candidates = recent_rollouts(&paths.codex_sessions_dir, now);
        for path in session_file::list_files(&paths.sessions_dir(), ".json") {
            let Some(session) = session_file::read_object(&path) else {
                continue;
            };
            if rules::str_field(&session, "agent") == Some("codex") {
                if let Some(t) = rules::str_field(&session, "transcript_path").filter(|t| !t.is_empty()) {
                    candidates.push(PathBuf::from(t));
                }
            }
        }
        candidates.sort();
        candidates.dedup();
        let Some(mut scan) = process::scan_lsof(&candidates, LSOF_TIMEOUT) else {
            tracing::debug!(proc = %paths.proc_root.display(), "no /proc and no lsof: open files unknown");
            return None;
        };
        let open_files = OpenFiles::Known(std::mem::take(&mut scan.open_files));
        Some((scan, open_files))
    }

    /// Creates or refreshes the session files of the Codex rollouts that running `codex` processes hold open; returns
    /// those rollouts.
    /// Returns the rollouts held open and the ids whose session file exists after discovery (found or written).
    fn discover_codex(&mut self, paths: &Paths, scan: &ProcessScan) -> (HashSet<PathBuf>, Vec<String>) {
        let mut discovered = Vec::new();
        let root = &paths.codex_sessions_dir;
        let canonical_root = fs::canonicalize(root).ok();
        let under_root = |p: &Path| p.starts_with(root) || canonical_root.as_deref().is_some_and(|c| p.starts_with(c));
        let rollouts: BTreeSet<PathBuf> = scan
            .codex
            .iter()
            .flat_map(|p| p.open_jsonl.iter())
            .filter(|p| under_root(p))
            .cloned()
            .collect();
        for rollout in &rollouts {
            let Some(facts) = self.rollouts.read(rollout) else {
                continue;
            };
            let id = facts.meta.id.clone();
            if !store::is_safe_session_id(&id) {
                tracing::debug!(rollout = %rollout.display(), id, "skipping rollout with an unsafe session id");
                continue;
            }
            if self.dismissed.contains(&id) {
                continue;
            }
            let file_exists = store::session_file(paths, &id).is_some_and(|f| f.exists());
            if self.codex_listed.contains(&id) && !file_exists {
                tracing::info!(session = id, "codex session file removed: not rediscovering it");
                self.dismissed.insert(&id);
                continue;
            }
            let cwd = facts
                .meta
                .cwd
                .as_deref()
                .map(|c| fs::canonicalize(c).unwrap_or_else(|_| PathBuf::from(c)));
            let pane = rules::codex::match_pane(rollout, cwd.as_deref(), codex_source::name_time(rollout), &scan.codex);
            let mut foreign = false;
            let written = session_file::upsert_session(paths, &id, |existing| {
                if existing.is_some_and(|e| e.get("agent").is_some_and(|a| a.as_str() != Some("codex"))) {
                    foreign = true;
                    return None;
                }
                rules::codex::codex_session(existing, rollout, &facts, pane.as_ref())
            });
            match written {
                Ok(true) => {
                    tracing::debug!(session = id, rollout = %rollout.display(), "codex session file written");
                    discovered.push(id);
                }
                Ok(false) => {
                    if file_exists && !foreign {
                        discovered.push(id);
                    }
                }
                Err(error) => {
                    tracing::warn!(session = id, %error, "cannot write the codex session file")
                }
            }
        }
        (rollouts.into_iter().collect(), discovered)
    }

    /// Moves a session file to the trash if it still holds what this pass read; a Codex session removed this way is
    /// remembered as dismissed.
    fn remove_session(&mut self, paths: &Paths, raw: &RawSession, session: &SessionJson, reason: &str) {
        match session_file::trash_session_if(paths, &raw.path, |now| now.bytes == raw.bytes) {
            Ok(true) => {
                tracing::info!(file = %raw.path.display(), reason, "session file moved to trash")
            }
            Ok(false) => {
                tracing::debug!(file = %raw.path.display(), "session file changed or vanished: left alone")
            }
            Err(error) => {
                tracing::warn!(file = %raw.path.display(), %error, "cannot move the session file to trash")
            }
        }
        if rules::str_field(session, "agent") == Some("codex") {
            if let Some(id) = rules::str_field(session, "session_id") {
                self.dismissed.insert(id);
            }
        }
    }

    /// Removes orphan event logs and stale `starting` session files, and purges the trash now and then.
    ///
    /// `mtimes` are the session files' mtimes as this pass read them: a file older than the stale age by those is
    /// checked again under its lock (with its current mtime) before it is removed, and a file this pass did not read
    /// is stat'ed.
    fn cleanup(
        &mut self,
        paths: &Paths,
        sessions: &[SessionJson],
        mtimes: &HashMap<PathBuf, Option<SystemTime>>,
        now: SystemTime,
    ) {
        let events_dir = paths.events_dir();
        if let Err(error) = fs::create_dir_all(&events_dir) {
            tracing::debug!(dir = %events_dir.display(), %error, "cannot create the events dir");
        }
        let active = cleanup::active_ids(sessions);
        let logs = session_file::list_event_logs(&events_dir);
        for Decision::Remove { path, reason } in cleanup::stale_event_logs(&logs, &active, now) {
            match store::move_to_trash(paths, &path) {
                Ok(()) => {
                    tracing::info!(file = %path.display(), reason, "event log moved to trash")
                }
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "cannot move the event log to trash")
                }
            }
        }

        let facts: Vec<cleanup::SessionFileFacts> = session_file::list_files(&paths.sessions_dir(), ".json")
            .into_iter()
            .filter_map(|path| {
                let mtime = match mtimes.get(&path) {
                    Some(&mtime) => mtime,
                    None => fs::metadata(&path).and_then(|m| m.modified()).ok(),
                };
                // Only old files can be stale: read just those.
                if !cleanup::older_than(mtime, now, cleanup::STALE_STARTING_AGE) {
                    return None;
                }
                let status =
                    session_file::read_object(&path).and_then(|s| rules::str_field(&s, "status").map(str::to_owned));
                Some(cleanup::SessionFileFacts { path, mtime, status })
            })
            .collect();
        for Decision::Remove { path, reason } in cleanup::stale_starting_sessions(&facts, now) {
            let still_stale = |raw: &RawSession| {
                let status = match raw.parse() {
                    Parsed::Object(s) => rules::str_field(&s, "status").map(str::to_owned),
                    _ => None,
                };
                cleanup::is_stale_starting(
                    &cleanup::SessionFileFacts {
                        path: raw.path.clone(),
                        mtime: raw.mtime,
                        status,
                    },
                    now,
                )
            };
            match session_file::trash_session_if(paths, &path, still_stale) {
                Ok(true) => {
                    tracing::info!(file = %path.display(), reason, "session file moved to trash")
                }
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "cannot move the session file to trash")
                }
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

/// Returns the mtime of `path` in nanoseconds since the Unix epoch.
fn mtime_ns(path: &Path) -> Option<u64> {
    let mtime = fs::metadata(path).and_then(|m| m.modified()).ok()?;
    u64::try_from(mtime.duration_since(UNIX_EPOCH).ok()?.as_nanos()).ok()
}

/// The files processes hold open, as one pass knows them.
///
/// Reading them from `/proc` takes one `readlink` per open fd of every process on the machine, the costliest part of
/// a pass, and only a Codex session with a `transcript_path` asks (see [`transcript_open`]); so with `/proc` they are
/// read on the first question of the pass, once, and not at all when no session asks.
#[derive(Debug)]
enum OpenFiles {
    /// Known up front (`lsof`).
    Known(HashSet<PathBuf>),
    /// Read from `root` (normally `/proc`) on first use; `None` when it could not be read.
    Proc {
        root: PathBuf,
        files: OnceCell<Option<HashSet<PathBuf>>>,
    },
}

impl OpenFiles {
    /// The open files; `None` when unknown.
    fn get(&self) -> Option<&HashSet<PathBuf>> {
        match self {
            OpenFiles::Known(files) => Some(files),
            OpenFiles::Proc { root, files } => files.get_or_init(|| process::scan_open_files(root)).as_ref(),
        }
    }
}

/// Returns whether some process holds the session's `transcript_path` open (`None`: open files unknown). Only Codex
/// sessions need it. The kernel names open files by their resolved path, so the path is canonicalized first.
fn transcript_open(session: &SessionJson, open_files: Option<&OpenFiles>) -> Option<bool> {
    if rules::str_field(session, "agent") != Some("codex") {
        return None;
    }
    let open_files = open_files?;
    let Some(path) = rules::str_field(session, "transcript_path").filter(|p| !p.is_empty()) else {
        // A non-string transcript_path names no file (the original's lsof call failed on it: "not open").
        return Some(false);
    };
    let open_files = open_files.get()?;
    let path = Path::new(path);
    Some(open_files.contains(path) || fs::canonicalize(path).is_ok_and(|c| open_files.contains(&c)))
}

/// Returns the `*.jsonl` files under the Codex sessions root modified within [`LSOF_RECENT_ROLLOUT_AGE`] of `now`.
fn recent_rollouts(root: &Path, now: SystemTime) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if file_type.is_dir() && depth < CODEX_TREE_DEPTH {
                stack.push((path, depth + 1));
            } else if file_type.is_file() && path.extension().is_some_and(|e| e == "jsonl") {
                let mtime = entry.metadata().and_then(|m| m.modified()).ok();
                if !cleanup::older_than(mtime, now, LSOF_RECENT_ROLLOUT_AGE) {
                    out.push(path);
                }
            }
        }
    }
    out
}

/// Returns what a session file says about the model its agent runs: `model` and the project dir (else `cwd`).
fn session_hint(session: &SessionJson) -> SessionHint<'_> {
    SessionHint {
        model: rules::str_field(session, "model"),
        project_dir: rules::str_field(session, "project_dir").or_else(|| rules::str_field(session, "cwd")),
    }
}

/// The Claude config dirs whose `sessions/<pid>.json` Claude Code writes (and whose `settings.json` may select the
/// model): `$CLAUDE_CONFIG_DIR` (or `~/.claude`) and the parents of the projects roots.
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

/// Applies the process evidence after `complete` (which applied the original's rules): Claude's own status record,
/// then the liveness verdict (unknown keeps the original's), and for Codex the pane of the TUI the verdict rests on.
fn apply_process_evidence(listed: &mut [Listed], evidence: &rules::process_liveness::Evidence<'_>) {
    use rules::process_liveness::{self as pl, Liveness};
    let tuis = with_sessions(listed, |all| pl::assign_codex_tuis(all, evidence));
    for l in listed.iter_mut() {
        if let Some(hint) = pl::claude_status_hint(&l.session, evidence) {
            l.session.insert("status".into(), hint.status.into());
            if hint.clear_questions {
                l.session.insert("pending_questions".into(), Value::Array(Vec::new()));
            }
            l.session.insert("status_reason".into(), hint.reason.into());
        }
        let verdict = pl::decide(&l.session, evidence, &tuis);
        match verdict.liveness {
            Liveness::Dead => {
                l.session.insert("is_dead".into(), true.into());
                l.session
                    .insert("liveness_reason".into(), verdict.reason.clone().into());
            }
            Liveness::Alive => {
                l.session.insert("is_dead".into(), false.into());
                l.session.remove("liveness_reason");
            }
            Liveness::Unknown => {}
        }
        if rules::str_field(&l.session, "agent") == Some("codex") && verdict.liveness == Liveness::Alive {
            if let (Some(zs), Some(zp)) = (verdict.zellij_session, verdict.zellij_pane) {
                l.session.insert("zellij_session".into(), zs.into());
                l.session.insert("zellij_pane".into(), zp.into());
            }
        }
    }
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
        pass.sessions.iter().map(rules::sort_key).collect()
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
}
