//! Codex discovery and the open files: the collector's I/O for Codex sessions.
//!
//! Codex has no hooks, so the collector writes Codex session files itself, from the running `codex` processes (the
//! one `/proc` scan, [`crate::sources::agent_procs`]) and the rollouts they hold open, before the session files are
//! read (the original's `_discover_active_codex_sessions`). Where there is no `/proc`, one `lsof` call about the
//! rollouts that could be open stands in.

use std::{
    cell::OnceCell,
    collections::{BTreeSet, HashSet},
    fs,
    path::{Path, PathBuf},
    time::{Duration, SystemTime},
};

use super::Collector;
use crate::{
    config::Paths,
    model::{self, agent, key, SessionJson},
    rules::{self, cleanup},
    sources::{
        agent_procs::{AgentProcs, ProcInfo},
        codex as codex_source, process, session_file,
    },
    store,
};

/// How long the batched `lsof` (used only where there is no `/proc`) may take.
const LSOF_TIMEOUT: Duration = Duration::from_secs(3);

/// Without `/proc`, rollouts modified this recently are the `lsof` candidates (the original's one-hour window).
const LSOF_RECENT_ROLLOUT_AGE: Duration = Duration::from_secs(60 * 60);

/// How deep below the Codex sessions root rollouts are looked for (`YYYY/MM/DD/rollout-*.jsonl`).
const CODEX_TREE_DEPTH: usize = 4;

/// The running `codex` processes and the open files, as one pass knows them; `None` when neither `/proc` nor `lsof`
/// could tell.
pub(super) fn process_facts(paths: &Paths, agents: &AgentProcs, now: SystemTime) -> Option<(Vec<ProcInfo>, OpenFiles)> {
    if agents.procs.is_some() {
        let codex = agents.codex().into_iter().cloned().collect();
        let open_files = OpenFiles::Proc {
            root: paths.proc_root.clone(),
            files: OnceCell::new(),
        };
        return Some((codex, open_files));
    }
    let mut candidates = recent_rollouts(&paths.codex_sessions_dir, now);
    for path in session_file::list_files(&paths.sessions_dir(), ".json") {
        let Some(session) = session_file::read_object(&path) else {
            continue;
        };
        if model::str_field(&session, key::AGENT) == Some(agent::CODEX) {
            if let Some(t) = model::str_field(&session, key::TRANSCRIPT_PATH).filter(|t| !t.is_empty()) {
                candidates.push(PathBuf::from(t));
            }
        }
    }
    candidates.sort();
    candidates.dedup();
    let Some(scan) = process::scan_lsof(&candidates, LSOF_TIMEOUT) else {
        tracing::debug!(proc = %paths.proc_root.display(), "no /proc and no lsof: open files unknown");
        return None;
    };
    Some((scan.codex, OpenFiles::Known(scan.open_files)))
}

impl Collector {
    /// Creates or refreshes the session files of the Codex rollouts that running `codex` processes hold open.
    /// Returns those rollouts, and the ids whose session file exists after discovery (found or written).
    pub(super) fn discover_codex(&mut self, paths: &Paths, codex: &[ProcInfo]) -> (HashSet<PathBuf>, Vec<String>) {
        let mut discovered = Vec::new();
        let root = &paths.codex_sessions_dir;
        let canonical_root = fs::canonicalize(root).ok();
        let under_root = |p: &Path| p.starts_with(root) || canonical_root.as_deref().is_some_and(|c| p.starts_with(c));
        let rollouts: BTreeSet<PathBuf> = codex
            .iter()
            .flat_map(|p| p.open_jsonl.iter())
            .filter(|p| under_root(p))
            .cloned()
            .collect();
        let processes: Vec<&ProcInfo> = codex.iter().collect();
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
            let pane = rules::codex::match_pane(rollout, cwd.as_deref(), codex_source::name_time(rollout), &processes);
            let mut foreign = false;
            let written = session_file::upsert_session(paths, &id, |existing| {
                if existing.is_some_and(|e| e.get(key::AGENT).is_some_and(|a| a.as_str() != Some(agent::CODEX))) {
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
}

/// The files processes hold open, as one pass knows them.
///
/// Reading them from `/proc` takes one `readlink` per open fd of every process on the machine, the costliest part of
/// a pass, and only a Codex session with a `transcript_path` asks (see [`transcript_open`]); so with `/proc` they are
/// read on the first question of the pass, once, and not at all when no session asks.
#[derive(Debug)]
pub(super) enum OpenFiles {
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
pub(super) fn transcript_open(session: &SessionJson, open_files: Option<&OpenFiles>) -> Option<bool> {
    if model::str_field(session, key::AGENT) != Some(agent::CODEX) {
        return None;
    }
    let open_files = open_files?;
    let Some(path) = model::str_field(session, key::TRANSCRIPT_PATH).filter(|p| !p.is_empty()) else {
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
