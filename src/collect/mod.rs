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
//! 3. **Effects**, in one place at the end (`collect::effects`): `turn_start_tokens` write-backs, then every
//!    removal (each file goes to `trash/`, never unlinked), then the trash purge.
//!
//! Every rule returns a [`Decision`]; the pass keeps, per listed session, the decisions that made its status,
//! `is_dead`, context window and dedupe outcome ([`Pass::decisions`]), and for every file it removed the decisions
//! and the trash path ([`Pass::removed`]).
//!
//! What a pass keeps for the next (`collect::reuse`): per session file, what the per-file rules made of it (reused
//! while the file and its transcript are unchanged), and what liveness and status made of each such session (reused
//! while the `/proc` scan and the Zellij list are the same; the Codex sessions with a rollout only all together). So a pass after one
//! changed file runs the per-file rules and liveness for that file's session (and, for a Codex session, its group);
//! dedupe and cleanup, which are cheap, still run over all sessions. The other modules: `collect::codex` (discovery and
//! open files), `collect::evidence` (liveness and status), `collect::effects` (writes and removals) and
//! `collect::transcripts` (which transcript is a session's, and what the pass takes from it).

mod codex;
mod effects;
mod evidence;
mod reuse;
mod transcripts;

use std::{
    collections::{hash_map::DefaultHasher, HashMap, HashSet},
    fs,
    hash::{Hash, Hasher},
    path::{Path, PathBuf},
    sync::Arc,
    time::SystemTime,
};

use serde_json::Value;

use self::{
    codex::OpenFiles,
    effects::{Check, PendingRemoval},
    reuse::{stamp, Completed, Settlements, Traits, FACTS_REUSE},
    transcripts::{claude_config_dirs, mtime_ns, session_hint, TranscriptFacts},
};
use crate::{
    config::{Config, Paths},
    model::{self, agent, key, Decision, Removed, SessionDecisions, SessionJson},
    rules::{self, cleanup, codex::DismissedIds, liveness::Evidence},
    sources::{
        agent_procs::{self, AgentProcs},
        codex::RolloutCache,
        session_file::{self, Fresh, Parsed, RawSession, SessionFileCache, SessionFileFacts},
        zellij::ZellijCache,
    },
    transcript::{discover::CodexRolloutIndex, CacheOptions, TranscriptCache, TranscriptKind},
};

/// The result of one pass.
#[derive(Debug, Default, Clone)]
pub struct Pass {
    /// The sessions, sorted by `session_id`, deduplicated. An unchanged session is shared (the same `Arc`) with the
    /// previous pass's, so handing a pass on costs a reference count per session, not a copy.
    pub sessions: Vec<Arc<SessionJson>>,
    /// The decisions behind each session, index for index with `sessions`: its status, `is_dead` (the original's
    /// rule, then process evidence when it overrides it), context window, `turn_start_tokens`, pane and dedupe
    /// outcome, in the order they were taken. A decision the pass reused from an earlier pass (the file and its
    /// transcript unchanged) keeps that pass's `at`. Shared like the sessions.
    pub decisions: Vec<Arc<SessionDecisions>>,
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

/// What may have changed since the previous pass, as the caller knows it.
///
/// The publisher's file events name the files written; a pass told which ones re-reads and re-runs the per-file rules
/// only for those (and for new files), and skips the `stat` of every other session file and transcript. Liveness is
/// settled again only for those sessions (and for every session when the `/proc` scan or the Zellij list is new);
/// dedupe and cleanup still run over all sessions every pass. When events may have been lost (a watcher
/// error, a queue overflow, a directory watched anew) and on the timers' passes, the caller says
/// [`Changes::Unknown`]: every file is checked again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Changes {
    /// Anything may have changed: every session file and transcript is checked (`stat`).
    #[default]
    Unknown,
    /// Only these files (and the files in their directories) may have changed: any other session file or transcript
    /// the previous pass completed is reused without a `stat`, a missing transcript is not looked for again (unless
    /// a file changed in a directory other than the sessions and events dirs), and stale event logs are not looked
    /// for. The session files are still listed: a new one is read, a removed one is gone.
    Only(HashSet<PathBuf>),
}

impl Changes {
    /// Whether `path`, known to the previous pass, is unchanged for certain (not named, nor its directory's files).
    fn unchanged(&self, path: &Path, dirs: &HashSet<&Path>) -> bool {
        match self {
            Changes::Unknown => false,
            Changes::Only(paths) => {
                // A few paths (the usual burst) are compared, not hashed: a `Path`'s hash walks its components.
                let named = if paths.len() <= 8 {
                    paths.iter().any(|p| p == path)
                } else {
                    paths.contains(path)
                };
                !named && (dirs.is_empty() || path.parent().is_none_or(|d| !dirs.contains(d)))
            }
        }
    }
}

impl Pass {
    /// Returns the decisions behind the listed session `session_id` (the first one, if two files share the id).
    pub fn decisions_of(&self, session_id: &str) -> Option<&SessionDecisions> {
        let i = self
            .sessions
            .iter()
            .position(|s| model::str_field(s, key::SESSION_ID) == Some(session_id))?;
        self.decisions.get(i).map(|d| &**d)
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
    /// What the previous pass made of each session file (before liveness), reused while the file and its transcript
    /// are unchanged: a pass re-runs the per-file rules only for the files that changed.
    completed: HashMap<PathBuf, Completed>,
    /// The number of the next [`Completed`].
    next_generation: u64,
    /// How many passes ran (the number of the current one, during a pass).
    passes: u64,
    /// A hash of the last listing of the session files (the read cache was trimmed to it).
    listing: Option<u64>,
    /// The permutation that sorted the previous pass's sessions (see `sort_by_session_id`).
    order: Vec<usize>,
    /// What liveness and status made of each completed session, reused while its evidence is unchanged.
    settlements: Settlements,
    /// The last `/proc` scan and its time: passes within [`FACTS_REUSE`] of it share it.
    agents: Option<(SystemTime, Arc<AgentProcs>)>,
}

/// One session file that made it into the list, with what the later steps need.
struct Listed {
    path: PathBuf,
    /// The bytes the pass read (after its own `turn_start_tokens` write, once applied).
    bytes: Arc<[u8]>,
    transcript: Option<PathBuf>,
    /// The session (shared with the reuse caches while unchanged: a rule that changes it copies it first).
    session: Arc<SessionJson>,
    /// The decisions taken so far (shared likewise).
    decisions: Arc<SessionDecisions>,
    /// What the steps over all sessions read of the session (read again when liveness changes it).
    traits: Arc<Traits>,
    /// The original's `is_dead` decision, until [`evidence::settle`] settles it with the process evidence.
    original_liveness: Option<Decision>,
    /// The `turn_start_tokens` to write back to the file (an effect, applied at the end).
    turn_start_tokens: Option<u64>,
    /// The completion this session is ([`Completed::generation`]), when the next pass may reuse it.
    generation: Option<u64>,
}

/// The rule name of the status a session file records (the hook's, or Codex discovery's).
fn file_status_rule(session: &SessionJson) -> &'static str {
    match model::str_field(session, key::AGENT) {
        Some(agent::CODEX) => "rules::codex::codex_session",
        _ => "hook::update::apply",
    }
}

impl Collector {
    /// The session files skipped as unreadable (too long, a symlink out of the data dir) until they change: name and
    /// reason.
    pub fn unreadable_files(&self) -> Vec<String> {
        self.session_files.refused()
    }

    /// Creates a collector for `config`.
    pub fn new(config: &Config) -> Self {
        crate::sources::set_max_output(config.limits.subprocess_output_bytes);
        Collector {
            transcripts: TranscriptCache::with_options(CacheOptions {
                window_override: config.context_window_override,
                claude_config_dirs: claude_config_dirs(&config.paths),
                anthropic_model: config.anthropic_model.clone(),
                data_dir: Some(config.paths.data_dir.clone()),
            }),
            session_files: SessionFileCache::with_limit(config.limits.session_file_bytes),
            zellij: ZellijCache::default(),
            rollouts: RolloutCache::default(),
            codex_index: CodexRolloutIndex::default(),
            dismissed: DismissedIds::default(),
            codex_listed: HashSet::new(),
            warned: HashMap::new(),
            last_purge: None,
            completed: HashMap::new(),
            next_generation: 0,
            passes: 0,
            listing: None,
            order: Vec::new(),
            settlements: Settlements::default(),
            agents: None,
            config: config.clone(),
        }
    }

    /// Records that the user dismissed session `id`, so Codex discovery does not recreate its file while its rollout
    /// stays open. (A Codex session file that disappears between two passes is recorded the same way.)
    pub fn dismiss(&mut self, id: &str) {
        self.dismissed.insert(id);
    }

    /// Runs one pass at wall-clock time `now`, checking every file ([`Changes::Unknown`]).
    pub fn pass(&mut self, now: SystemTime) -> Pass {
        self.pass_with(now, &Changes::Unknown)
    }

    /// Runs one pass at wall-clock time `now`, told what may have changed since the previous pass.
    pub fn pass_with(&mut self, now: SystemTime, changes: &Changes) -> Pass {
        // The directories holding a changed file other than a session file: a transcript there may be new.
        let own_dirs = [self.config.paths.sessions_dir(), self.config.paths.events_dir()];
        let changed_dirs: HashSet<&Path> = match changes {
            Changes::Unknown => HashSet::new(),
            Changes::Only(paths) => paths
                .iter()
                .filter_map(|p| p.parent())
                .filter(|d| !own_dirs.iter().any(|own| own == d))
                .collect(),
        };
        let at = model::epoch_seconds(now);
        let paths = self.config.paths.clone();
        let sessions_dir = paths.sessions_dir();
        if let Err(error) = fs::create_dir_all(&sessions_dir) {
            tracing::warn!(dir = %sessions_dir.display(), %error, "cannot create the sessions dir");
        }

        // 1. Facts.
        let agents = self.agent_procs(&paths, now);
        let processes = codex::process_facts(&paths, &agents, now);
        let (open_rollouts, discovered) = match &processes {
            Some((codex, _)) => self.discover_codex(&paths, codex),
            None => Default::default(),
        };
        let open_files = processes.as_ref().map(|(_, open_files)| open_files);
        let live = self.zellij.live_sessions(paths.zellij_bin.as_deref());
        self.settlements.begin(&agents, live.as_ref());
        let evidence = Evidence {
            procs: &agents,
            zellij_live: live.as_ref(),
            now,
        };
        let events_dir = paths.events_dir();
        if let Err(error) = fs::create_dir_all(&events_dir) {
            tracing::debug!(dir = %events_dir.display(), %error, "cannot create the events dir");
        }
        // Stale event logs are a matter of hours: the passes that check every file (the timers') look for them.
        let event_logs = match changes {
            Changes::Unknown => session_file::list_event_logs(&events_dir),
            Changes::Only(_) => Vec::new(),
        };
        let discovered_files: HashSet<PathBuf> = match changes {
            Changes::Unknown => HashSet::new(),
            Changes::Only(_) => discovered
                .iter()
                .filter_map(|id| crate::store::session_file(&paths, id))
                .collect(),
        };

        // 2. Rules, per session file.
        // Per file in listing order: reused from the previous pass, or to be completed after the transcripts are read.
        let mut slots = Vec::new();
        let mut removals = Vec::new();
        // The `starting` session files as read (path, mtime, the file's own status), for the cleanup (only a
        // `starting` file can be stale: `cleanup::is_stale_starting`).
        let mut files_read = Vec::new();
        let mut warned = HashMap::new();
        let files = session_file::list_files(&sessions_dir, ".json");
        // The read cache forgets the files no longer listed (when the listing changed: it holds only listed files).
        let listing = {
            let mut hasher = DefaultHasher::new();
            files.hash(&mut hasher);
            hasher.finish()
        };
        if self.listing != Some(listing) {
            self.session_files.retain(&files.iter().map(PathBuf::as_path).collect());
            self.listing = Some(listing);
        }
        // What the previous passes completed, by file (taken out for the loop, which marks each entry it reuses: the
        // others are dropped after it).
        let mut completed = std::mem::take(&mut self.completed);
        self.passes += 1;
        let this_pass = self.passes;
        for path in files {
            // A file the previous pass completed and no event named: the same bytes, without a `stat`.
            // (Codex discovery may have written this pass: its files are checked.)
            let previous = completed.get_mut(&path);
            let known =
                previous.is_some() && changes.unchanged(&path, &changed_dirs) && !discovered_files.contains(&path);
            let fresh = match if known {
                Ok(Some(Fresh::Unchanged))
            } else {
                self.session_files.read_if_changed(&path)
            } {
                Ok(Some(fresh)) => fresh,
                Ok(None) => continue,
                Err(error) => {
                    tracing::warn!(file = %path.display(), %error, "skipping unreadable session file");
                    continue;
                }
            };
            // What the previous pass made of this file, when the file still holds the same bytes.
            let previous = previous.filter(|c| match &fresh {
                Fresh::Unchanged => true,
                Fresh::Changed(raw, _) => raw.bytes[..] == c.bytes[..],
            });
            if let Some(previous) = previous {
                let orphan = rules::liveness::orphan_removal(
                    &previous.session,
                    live.as_ref(),
                    || rules::liveness::claude::claude_verdict(&previous.session, &evidence),
                    &path,
                    at,
                );
                if let Some(removal) = orphan {
                    removals.push(PendingRemoval {
                        session_id: model::sort_key(&previous.session),
                        decisions: vec![removal.decision.clone()],
                        dismiss: codex_id(&previous.session),
                        removal,
                        check: Check::Bytes(previous.bytes.clone()),
                    });
                    continue;
                }
                if self.transcript_unchanged(previous, now, changes, &changed_dirs) {
                    if previous.file_status.as_deref() == Some(model::status::STARTING) {
                        files_read.push(SessionFileFacts {
                            path: path.clone(),
                            mtime: previous.mtime,
                            status: previous.file_status.clone(),
                        });
                    }
                    // (Only a Codex session asks whether its rollout is open.)
                    let open = match (previous.traits.codex, previous.traits.rollout) {
                        (false, _) => None,
                        // No rollout recorded: not open, when the open files are known (as `transcript_open` says).
                        (true, false) => open_files.map(|_| false),
                        (true, true) => codex::transcript_open(&previous.session, open_files),
                    };
                    // Shared, not copied: an unchanged session costs a reference count.
                    let (mut session, decisions, traits, original_liveness) =
                        match previous.settled(&self.settlements, open) {
                            // Settled before on the same evidence: that result, without running liveness again.
                            Some((session, decisions, traits)) => {
                                (session.clone(), decisions.clone(), traits.clone(), None)
                            }
                            None => {
                                let original =
                                    rules::liveness::original::is_dead(&previous.session, live.as_ref(), open, at);
                                (
                                    previous.session.clone(),
                                    previous.decisions.clone(),
                                    previous.traits.clone(),
                                    Some(original),
                                )
                            }
                        };
                    if rules::burn::ages(&session, at) {
                        rules::burn::age(Arc::make_mut(&mut session), at);
                    }
                    previous.listed_in = this_pass;
                    slots.push(Slot::Reused(Listed {
                        bytes: previous.bytes.clone(),
                        transcript: previous.transcript.as_ref().map(|(t, _)| t.clone()),
                        generation: Some(previous.generation),
                        path,
                        session,
                        decisions,
                        traits,
                        original_liveness,
                        turn_start_tokens: None,
                    }));
                    continue;
                }
            }
            let (raw, parsed) = match fresh {
                Fresh::Changed(raw, parsed) => (raw, parsed),
                Fresh::Unchanged => match self.session_files.read(&path) {
                    Ok(Some(read)) => read,
                    Ok(None) => continue,
                    Err(error) => {
                        tracing::warn!(file = %path.display(), %error, "skipping unreadable session file");
                        continue;
                    }
                },
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
                &raw.path,
                at,
            );
            if let Some(removal) = orphan {
                removals.push(PendingRemoval {
                    session_id: model::sort_key(&session),
                    decisions: vec![removal.decision.clone()],
                    dismiss: codex_id(&session),
                    removal,
                    check: Check::Bytes(raw.bytes.into()),
                });
                continue;
            }
            let file_status = model::str_field(&session, key::STATUS).map(str::to_owned);
            if file_status.as_deref() == Some(model::status::STARTING) {
                files_read.push(SessionFileFacts {
                    path: raw.path.clone(),
                    mtime: raw.mtime,
                    status: file_status.clone(),
                });
            }
            slots.push(Slot::Fresh {
                raw,
                session,
                file_status,
            });
        }
        self.warned = warned;
        // Every changed transcript at once, in parallel; `complete` then only looks the answers up.
        // Each fresh file's transcript, found once (`None` for a reused slot or a session without one).
        let found: Vec<Option<(PathBuf, TranscriptKind)>> = slots
            .iter()
            .map(|slot| match slot {
                Slot::Fresh { session, .. } => self.resolve_transcript(session),
                Slot::Reused(_) => None,
            })
            .collect();
        let transcripts: Vec<_> = slots
            .iter()
            .zip(&found)
            .filter_map(|(slot, found)| {
                let (Slot::Fresh { session, .. }, Some((path, kind))) = (slot, found) else {
                    return None;
                };
                Some((path.clone(), *kind, session_hint(session)))
            })
            .collect();
        self.transcripts.refresh(&transcripts);
        let mut listed = Vec::with_capacity(slots.len());
        for (slot, transcript) in slots.into_iter().zip(found) {
            let (raw, session, file_status) = match slot {
                Slot::Reused(l) => {
                    listed.push(l);
                    continue;
                }
                Slot::Fresh {
                    raw,
                    session,
                    file_status,
                } => (raw, session, file_status),
            };
            let mtime = raw.mtime;
            let mut l = self.complete(raw, session, transcript, live.as_ref(), open_files, at);
            // Kept for the next pass, unless a write-back is due (the file then changes, or the write is retried).
            if l.turn_start_tokens.is_none() {
                let transcript = l.transcript.as_ref().and_then(|t| stamp(t).map(|st| (t.clone(), st)));
                if transcript.is_some() == l.transcript.is_some() {
                    let generation = self.next_generation;
                    self.next_generation += 1;
                    l.generation = Some(generation);
                    completed.insert(
                        l.path.clone(),
                        Completed {
                            generation,
                            bytes: l.bytes.clone(),
                            mtime,
                            file_status,
                            session: l.session.clone(),
                            decisions: l.decisions.clone(),
                            traits: l.traits.clone(),
                            settled: None,
                            listed_in: this_pass,
                            transcript,
                            looked_up: now,
                        },
                    );
                }
            }
            listed.push(l);
        }
        // The files this pass did not list, or listed changed, are forgotten.
        completed.retain(|_, c| c.listed_in == this_pass);
        self.completed = completed;

        // Rules over all sessions: liveness and status, sort, dedupe, cleanup.
        // The Codex sessions with a rollout are settled together (their TUIs are matched to rollouts across them,
        // `rules::liveness::codex::assign_codex_tuis`): all from the memos, or, when one of them changed, came or
        // went, all again.
        let in_group = |l: &Listed| l.traits.rollout;
        let group = listed.iter().filter(|l| in_group(l)).count();
        let memoized = listed
            .iter()
            .filter(|l| in_group(l))
            .all(|l| l.original_liveness.is_none());
        if !(memoized && self.settlements.codex_group() == Some(group)) {
            for l in listed
                .iter_mut()
                .filter(|l| in_group(l) && l.original_liveness.is_none())
            {
                let Some(c) = self.completed.get(&l.path) else { continue };
                l.session = c.session.clone();
                l.decisions = c.decisions.clone();
                l.traits = c.traits.clone();
                let open = codex::transcript_open(&c.session, open_files);
                l.original_liveness = Some(rules::liveness::original::is_dead(&c.session, live.as_ref(), open, at));
            }
            self.settlements.set_codex_group(group);
        }
        let unsettled: Vec<bool> = listed.iter().map(|l| l.original_liveness.is_some()).collect();
        evidence::settle(&mut listed, &evidence, at);
        // Memoized only in a burst of passes (a pass alone, such as a timer's, would pay the copies for nothing).
        let burst = self.settlements.in_burst(now);
        for (l, _) in listed.iter_mut().zip(unsettled).filter(|(_, unsettled)| *unsettled) {
            // Settling moves an alive Codex session to its TUI's pane (and changes nothing else the traits read).
            if l.traits.codex {
                let traits = Traits::of(&l.session);
                if *traits != *l.traits {
                    l.traits = traits;
                }
            }
            let Some(c) = self.completed.get_mut(&l.path).filter(|_| burst) else {
                continue;
            };
            if l.generation == Some(c.generation) {
                let open = codex::transcript_open(&l.session, open_files);
                c.keep_settled(
                    &self.settlements,
                    open,
                    l.session.clone(),
                    l.decisions.clone(),
                    l.traits.clone(),
                );
            }
        }
        sort_by_session_id(&mut listed, &mut self.order);
        // Dedupe reads the sessions only when two of them claim one pane (rarely: the loser's file goes).
        let outcomes = if shared_pane(&listed) {
            let sessions: Vec<&SessionJson> = listed.iter().map(|l| &*l.session).collect();
            let file_refs: Vec<&Path> = listed.iter().map(|l| l.path.as_path()).collect();
            rules::dedupe::decide(&sessions, &file_refs, at)
        } else {
            Vec::new()
        };
        let mut losers = Vec::new();
        for outcome in outcomes {
            let l = &mut listed[outcome.index];
            // Only the members of a shared pane get a dedupe decision: their decisions alone are copied.
            Arc::make_mut(&mut l.decisions).push(outcome.decision);
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
        let removed_paths: HashSet<&Path> = removals
            .iter()
            .map(|r| r.removal.path.as_path())
            .chain(lost.iter().map(|(l, _)| l.path.as_path()))
            .collect();
        // Only the passes that listed the event logs (the timers') need the ids of the listed sessions.
        let logs = if event_logs.is_empty() {
            Vec::new()
        } else {
            let sessions: Vec<&SessionJson> = kept.iter().map(|l| &*l.session).collect();
            cleanup::stale_event_logs(&event_logs, &cleanup::active_ids(&sessions), now)
        };
        let stale_files: Vec<SessionFileFacts> = files_read
            .into_iter()
            .filter(|f| !removed_paths.contains(f.path.as_path()))
            .collect();
        let cleanup_removals = (logs, cleanup::stale_starting_sessions(&stale_files, now));

        // 3. Effects.
        let removed = self.apply(&paths, &mut kept, lost, removals, cleanup_removals, now);

        let watch_paths: Vec<PathBuf> = kept.iter().filter_map(|l| l.transcript.clone()).collect();
        self.transcripts.forget_untouched();
        self.transcripts.save_index();
        self.rollouts.retain(&open_rollouts);
        // With the ids discovery found a file for this pass: a file deleted between discovery and the listing above
        // was still the user's dismissal (without them the next pass would recreate it).
        // (Built again only when it changed: the usual pass lists the same Codex sessions.)
        let mut codex_ids: Vec<&str> = kept
            .iter()
            .filter(|l| l.traits.codex)
            .filter_map(|l| model::str_field(&l.session, key::SESSION_ID))
            .chain(discovered.iter().map(String::as_str))
            .collect();
        codex_ids.sort_unstable();
        codex_ids.dedup();
        let same =
            codex_ids.len() == self.codex_listed.len() && codex_ids.iter().all(|id| self.codex_listed.contains(*id));
        if !same {
            self.codex_listed = kept
                .iter()
                .filter_map(|l| codex_id(&l.session))
                .chain(discovered)
                .collect();
        }
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
    /// with the decisions behind them; a `turn_start_tokens` to write back is left for the effects (`collect::effects`).
    fn complete(
        &mut self,
        raw: RawSession,
        mut session: SessionJson,
        transcript: Option<(PathBuf, TranscriptKind)>,
        live: Option<&HashSet<String>>,
        open_files: Option<&OpenFiles>,
        at: f64,
    ) -> Listed {
        // Keys only amc computes; a file must not make them claim something this pass did not find.
        session.remove(key::CONTEXT_WINDOW_INFERRED);
        session.remove(key::LIVENESS_REASON);
        for computed in [
            rules::cost::COST,
            rules::cost::RATE_LIMITS,
            BURN_RATE,
            FORECAST,
            HISTORY,
        ] {
            session.remove(computed);
        }
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

        let transcript = transcript.map(|(path, kind)| self.transcript_facts(&session, path, kind));
        let mut current_tokens = None;
        let spend = transcript.as_ref().and_then(|t| t.spend.as_ref());
        if let Some(cost) = rules::cost::session_cost(&session, spend, &self.config.prices) {
            session.insert(rules::cost::COST.into(), cost);
        }
        let limits = rules::cost::session_rate_limits(&session, spend, at);
        if !limits.is_empty() {
            session.insert(rules::cost::RATE_LIMITS.into(), limits.into());
        }
        if let Some(TranscriptFacts {
            path,
            usage: Some(usage),
            ..
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
        let usage = session.get(key::CONTEXT_USAGE).cloned();
        if let Some((usage, decision)) = rules::context::statusline_window(usage.as_ref(), &session, at) {
            session.insert(key::CONTEXT_USAGE.into(), usage);
            session.insert(key::CONTEXT_WINDOW_INFERRED.into(), false.into());
            decisions.push(decision);
        }
        if let Some(samples) = transcript
            .as_ref()
            .and_then(|t| t.spend.as_ref())
            .map(|s| &s.samples[..])
        {
            spend_trends(&mut session, samples, &self.config.prices, at);
        }
        let transcript = transcript.map(|t| t.path);
        if let Some(ns) = transcript.as_deref().and_then(mtime_ns) {
            session.insert(key::CONVERSATION_MTIME_NS.into(), ns.into());
        }
        let open = codex::transcript_open(&session, open_files);
        let original_liveness = Some(rules::liveness::original::is_dead(&session, live, open, at));
        Listed {
            path: raw.path,
            bytes: raw.bytes.into(),
            transcript,
            traits: Traits::of(&session),
            session: Arc::new(session),
            decisions: Arc::new(decisions),
            original_liveness,
            turn_start_tokens,
            generation: None,
        }
    }

    /// Returns the agent processes: the last scan when it is younger than [`FACTS_REUSE`] at `now`, else a new
    /// one.
    fn agent_procs(&mut self, paths: &Paths, now: SystemTime) -> Arc<AgentProcs> {
        if let Some((at, agents)) = &self.agents {
            if now.duration_since(*at).is_ok_and(|age| age < FACTS_REUSE) {
                return agents.clone();
            }
        }
        let agents = Arc::new(agent_procs::scan(&paths.proc_root, &claude_config_dirs(paths)));
        self.agents = Some((now, agents.clone()));
        agents
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

const BURN_RATE: &str = "burn_rate";
const FORECAST: &str = "compaction_forecast";
const HISTORY: &str = "context_history";

/// Adds the burn rate, the compaction forecast and the context history of a session's reply `samples`.
fn spend_trends(
    session: &mut SessionJson,
    samples: &[crate::transcript::spend::Sample],
    prices: &crate::config::prices::PriceTable,
    at: f64,
) {
    if samples.is_empty() {
        return;
    }
    let usage = session.get(key::CONTEXT_USAGE);
    let model = usage.and_then(|u| u.get("model")).and_then(Value::as_str);
    let current = usage.and_then(|u| u.get("current_tokens")).and_then(Value::as_u64);
    let window = usage
        .and_then(|u| u.get("window_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let agent_name = model::str_field(session, key::AGENT).unwrap_or_default();
    let burn = rules::burn::burn_rate(samples, model, prices, at);
    let forecast = rules::burn::forecast(samples, agent_name, current, window);
    if let Some(burn) = burn {
        session.insert(BURN_RATE.into(), burn);
    }
    if let Some(forecast) = forecast {
        session.insert(FORECAST.into(), forecast);
    }
    session.insert(HISTORY.into(), rules::burn::history(samples));
}

/// Returns the id of a Codex session (a string `session_id`), `None` for any other session.
fn codex_id(session: &SessionJson) -> Option<String> {
    (model::str_field(session, key::AGENT) == Some(agent::CODEX))
        .then(|| model::str_field(session, key::SESSION_ID).map(str::to_owned))
        .flatten()
}

/// One session file of a pass, in listing order.
enum Slot {
    /// Unchanged since the previous pass (file and transcript): that pass's result.
    Reused(Listed),
    /// Read now; completed once the pass's changed transcripts are read (in parallel).
    Fresh {
        raw: RawSession,
        session: SessionJson,
        file_status: Option<String>,
    },
}

/// Returns whether two of the `listed` sessions claim the same pane ([`rules::dedupe::pane_key`]), the only case in
/// which dedupe decides anything.
fn shared_pane(listed: &[Listed]) -> bool {
    let mut panes = HashSet::with_capacity(listed.len());
    listed
        .iter()
        .filter_map(|l| l.traits.pane.as_ref())
        .any(|pane| !panes.insert(pane))
}

/// Sorts `listed` by `session_id` (the original's sort key, [`model::sort_key`]), stably, without copying the ids.
/// `order` is the previous pass's permutation: the directory lists the same files in the same order pass after pass,
/// so it usually sorts this list too (taken when the result is strictly increasing, where a stable sort has no ties
/// to order); it is updated to this pass's.
fn sort_by_session_id(listed: &mut Vec<Listed>, order: &mut Vec<usize>) {
    let reuse = order.len() == listed.len()
        && order.iter().all(|&i| i < listed.len())
        && order
            .windows(2)
            .all(|w| listed[w[0]].traits.id < listed[w[1]].traits.id);
    if !reuse {
        order.clear();
        order.extend(0..listed.len());
        order.sort_by(|&a, &b| listed[a].traits.id.cmp(&listed[b].traits.id));
    }
    if order.iter().enumerate().all(|(at, &i)| at == i) {
        return;
    }
    let mut slots: Vec<Option<Listed>> = std::mem::take(listed).into_iter().map(Some).collect();
    *listed = order.iter().filter_map(|&i| slots[i].take()).collect();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store;
    use serde_json::json;
    use std::{process::Stdio, time::Duration};

    const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/collector");

    struct TestEnv {
        _tmp: tempfile::TempDir,
        root: PathBuf,
        config: Config,
    }

    /// Writes an executable script without this process holding it open for writing (tests/support has the same
    /// helper for the integration tests): another test thread's fork would hand that descriptor to its child until
    /// the child execs, and running the script would fail with `ETXTBSY`. `install(1)` writes it from its own process.
    fn write_executable(path: &Path, contents: impl AsRef<[u8]>) {
        let source = path.with_extension("source");
        fs::write(&source, contents).expect("write script source");
        let status = std::process::Command::new("install")
            .args(["-m", "755"])
            .arg(&source)
            .arg(path)
            .status()
            .expect("run install(1)");
        assert!(status.success(), "install(1) failed for {}", path.display());
        fs::remove_file(&source).expect("remove script source");
    }

    /// A temp HOME whose fake zellij prints `list` and logs each call to `zellij.log`.
    fn env(list: &str) -> TestEnv {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = fs::canonicalize(tmp.path()).expect("canonical");
        let zellij = root.join("zellij");
        write_executable(&zellij, fs::read(Path::new(FIXTURES).join("zellij.sh")).expect("read"));
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
        pass.sessions.iter().map(|s| model::sort_key(s)).collect()
    }

    /// The fake zellij reads its output file from the environment of the test process, which tests must not set;
    /// so these tests point AMC_ZELLIJ_BIN at a wrapper that sets it.
    fn wrap_zellij(env: &mut TestEnv) {
        let wrapper = env.root.join("zellij-wrapper");
        let script = format!(
            "#!/bin/sh\nFAKE_ZELLIJ_STDOUT={root}/list.txt FAKE_ZELLIJ_LOG={root}/zellij.log exec {root}/zellij \"$@\"\n",
            root = env.root.display()
        );
        write_executable(&wrapper, script);
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
        write_executable(&codex, fs::read(Path::new(FIXTURES).join("codex.sh")).expect("read"));
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

    #[test]
    fn a_pass_re_runs_the_file_rules_only_for_what_changed() {
        let env = env("");
        let session = |id: &str, status: &str| json!({"session_id": id, "agent": "claude", "status": status, "project_dir": "/p", "zellij_session": "main"});
        write_session(&env, "a", session("a", "active"));
        write_session(&env, "b", session("b", "active"));
        let mut collector = Collector::new(&env.config);
        let t0 = SystemTime::now();
        let status_at = |pass: &Pass, id: &str| {
            pass.decisions_of(id)
                .and_then(|d| d.iter().find(|d| d.field == "status"))
                .map(|d| d.at)
        };
        let first = collector.pass(t0);
        assert_eq!(status_at(&first, "a"), Some(model::epoch_seconds(t0)));

        // b changes; a does not: a's file rules are not run again (its decisions keep their time), b's are.
        write_session(&env, "b", session("b", "done"));
        let t1 = t0 + Duration::from_secs(5);
        let second = collector.pass(t1);
        assert_eq!(status_at(&second, "a"), Some(model::epoch_seconds(t0)), "a reused");
        assert_eq!(status_at(&second, "b"), Some(model::epoch_seconds(t1)), "b re-run");
        assert_eq!(second.sessions[1]["status"], json!("done"));
        assert_eq!(
            second.sessions[0], first.sessions[0],
            "a reused session is the same as a computed one"
        );

        // A transcript that appears for the unchanged a is found once the reuse window has passed.
        let dir = env.root.join("claude/projects/-p");
        fs::create_dir_all(&dir).expect("project dir");
        fs::copy(Path::new(FIXTURES).join("claude-transcript.jsonl"), dir.join("a.jsonl")).expect("copy");
        let third = collector.pass(t1 + FACTS_REUSE + Duration::from_millis(1));
        assert!(
            third.sessions[0].contains_key("context_usage"),
            "{:?}",
            third.sessions[0]
        );
        assert_eq!(third.watch_paths, vec![dir.join("a.jsonl")]);
        // And a change to that transcript is seen by the next pass.
        let before = third.sessions[0]["conversation_mtime_ns"].clone();
        let mut text = fs::read_to_string(dir.join("a.jsonl")).expect("read");
        let last_line = text.lines().last().unwrap_or_default().to_owned();
        text.push_str(&last_line);
        text.push('\n');
        std::thread::sleep(Duration::from_millis(20));
        fs::write(dir.join("a.jsonl"), text).expect("append");
        let fourth = collector.pass(t1 + FACTS_REUSE * 2);
        assert_ne!(
            fourth.sessions[0]["conversation_mtime_ns"], before,
            "the transcript's change is seen"
        );
    }

    #[test]
    fn a_pass_told_what_changed_reads_only_that_and_a_full_pass_sees_the_rest() {
        let env = env("");
        let session = |id: &str, status: &str| json!({"session_id": id, "agent": "claude", "status": status, "zellij_session": "main"});
        write_session(&env, "a", session("a", "active"));
        write_session(&env, "b", session("b", "active"));
        let file = |id: &str| env.config.paths.sessions_dir().join(format!("{id}.json"));
        let mut collector = Collector::new(&env.config);
        let status = |pass: &Pass, id: &str| {
            pass.sessions
                .iter()
                .find(|s| model::sort_key(s) == id)
                .map(|s| s["status"].clone())
        };
        let t0 = SystemTime::now();
        collector.pass(t0);

        // Both change; the events named only b: b is read again, a (not named) is reused without a stat.
        write_session(&env, "a", session("a", "done"));
        write_session(&env, "b", session("b", "done"));
        let told = Changes::Only([file("b")].into());
        let second = collector.pass_with(t0 + Duration::from_secs(1), &told);
        assert_eq!(status(&second, "b"), Some(json!("done")));
        assert_eq!(status(&second, "a"), Some(json!("active")), "not named: not checked");
        // A new file is read though no event named it, and a removed one is gone.
        write_session(&env, "c", session("c", "active"));
        fs::remove_file(file("b")).expect("remove");
        let third = collector.pass_with(t0 + Duration::from_secs(2), &Changes::Only(HashSet::new()));
        assert_eq!(ids(&third), ["a", "c"]);
        // A pass that is not told (the timers', or after lost events) checks every file.
        let fourth = collector.pass_with(t0 + Duration::from_secs(3), &Changes::Unknown);
        assert_eq!(status(&fourth, "a"), Some(json!("done")));
    }

    #[test]
    fn liveness_is_settled_again_only_for_what_changed_or_on_new_evidence() {
        let mut env = env("main [Created 1s ago] \n");
        wrap_zellij(&mut env);
        env.config.paths.proc_root = env.root.join("empty-proc");
        fs::create_dir_all(&env.config.paths.proc_root).expect("proc dir");
        // Each in its own pane (one pane holds one session: dedupe).
        let session = |id: &str, status: &str, zellij: &str| {
            json!({"session_id": id, "agent": "claude", "status": status, "zellij_session": zellij,
                   "zellij_pane": id, "last_event": "Stop"})
        };
        write_session(&env, "a", session("a", "done", "main"));
        write_session(&env, "b", session("b", "done", "main"));
        let file = |id: &str| env.config.paths.sessions_dir().join(format!("{id}.json"));
        let dead_at = |pass: &Pass, id: &str| {
            pass.decisions_of(id)
                .and_then(|d| d.iter().find(|d| d.field == "is_dead"))
                .map(|d| d.at)
        };
        let mut collector = Collector::new(&env.config);
        let t0 = SystemTime::now();
        collector.pass(t0);

        // The same scan and Zellij list, nothing changed: the settled sessions are reused (their decisions keep
        // their time), and they are what a fresh collector makes of the same files.
        let t1 = t0 + Duration::from_millis(50);
        let second = collector.pass_with(t1, &Changes::Only(HashSet::new()));
        assert_eq!(dead_at(&second, "a"), Some(model::epoch_seconds(t0)));
        assert_eq!(dead_at(&second, "b"), Some(model::epoch_seconds(t0)));
        assert_eq!(second.sessions, Collector::new(&env.config).pass(t1).sessions);

        // b changes (it moves to a Zellij session that is not running): only b is settled again, and it is dead.
        write_session(&env, "b", session("b", "done", "gone"));
        let t2 = t0 + Duration::from_millis(100);
        let third = collector.pass_with(t2, &Changes::Only([file("b")].into()));
        assert_eq!(dead_at(&third, "a"), Some(model::epoch_seconds(t0)), "a reused");
        assert!(
            Arc::ptr_eq(&third.sessions[0], &second.sessions[0])
                && Arc::ptr_eq(&third.decisions[0], &second.decisions[0]),
            "an unchanged session is handed on shared, not copied"
        );
        assert_eq!(dead_at(&third, "b"), Some(model::epoch_seconds(t2)), "b settled again");
        assert_eq!(third.sessions[1]["is_dead"], json!(true));
        assert_eq!(third.sessions[0]["is_dead"], json!(false));

        // A new scan (past the reuse window) settles every session again.
        let t3 = t0 + FACTS_REUSE + Duration::from_millis(1);
        let fourth = collector.pass_with(t3, &Changes::Only(HashSet::new()));
        assert_eq!(dead_at(&fourth, "a"), Some(model::epoch_seconds(t3)));
        assert_eq!(dead_at(&fourth, "b"), Some(model::epoch_seconds(t3)));
        assert_eq!(fourth.sessions, third.sessions);
    }
}
