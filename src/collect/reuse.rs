//! What a pass keeps for the next one, so a pass re-does only what a change can affect:
//! - per session file, what the per-file rules made of it ([`Completed`]), reused while the file and its transcript
//!   are unchanged;
//! - per completed session, what liveness and status made of it ([`Settled`], kept in its [`Completed`]), reused
//!   while the evidence is the same `/proc` scan and Zellij list ([`Settlements`]).
//!
//! Both are shared (`Arc`), not copied, into the pass: an unchanged session costs a reference count.

use std::{
    collections::HashSet,
    fs,
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use super::{Changes, Collector};
use crate::{
    model::{self, agent, key, SessionDecisions, SessionJson},
    rules,
    sources::agent_procs::AgentProcs,
};

/// How long a fact that costs a scan serves the passes that follow it: the `/proc` scan, and the lookup that found
/// no transcript for an unchanged session file. A burst of file events shares them; the liveness timer's passes, 2 s
/// apart, always gather them again. Like the Zellij list's 5 s cache, a bounded staleness, here far below the
/// liveness interval. The liveness and status decisions of an unchanged session rest on that scan and are reused
/// with it ([`Settlements`]), so their time thresholds (a start-up grace, a status settling time) are seen up to this
/// much late too.
pub(super) const FACTS_REUSE: Duration = Duration::from_millis(250);

/// What a pass made of one session file, for the next pass.
#[derive(Debug)]
pub(super) struct Completed {
    /// Which completion this is: a new number each time the per-file rules run for a file.
    pub(super) generation: u64,
    /// The file's bytes (shared with the pass's `Listed`, not copied).
    pub(super) bytes: Arc<[u8]>,
    pub(super) mtime: Option<SystemTime>,
    /// The file's own `status`.
    pub(super) file_status: Option<String>,
    /// The session with its computed keys, before liveness.
    pub(super) session: Arc<SessionJson>,
    /// The decisions behind it (status, context window).
    pub(super) decisions: Arc<SessionDecisions>,
    /// What the steps over all sessions read of it.
    pub(super) traits: Arc<Traits>,
    /// What liveness and status made of it, on the evidence of one [`Settlements`] epoch.
    pub(super) settled: Option<Settled>,
    /// The number of the last pass that listed it unchanged or completed it: one the current pass did not is dropped.
    pub(super) listed_in: u64,
    /// The transcript found and its stamp when read.
    pub(super) transcript: Option<(PathBuf, Stamp)>,
    /// When the transcript was last looked for (a missing one is looked for again after [`FACTS_REUSE`]).
    pub(super) looked_up: SystemTime,
}

/// What identifies one version of a transcript: size, mtime, ctime and inode (an append changes the size and the
/// ctime; a replace, the inode).
pub(super) type Stamp = (u64, i64, i64, i64, i64, u64);

/// Returns the stamp of the file at `path`; `None` when it cannot be read.
pub(super) fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path).ok()?;
    Some((m.len(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec(), m.ino()))
}

/// The evidence liveness and status (`collect::evidence::settle`) rest on, which says which memos ([`Settled`]: the
/// session with `is_dead`, `liveness_reason`, pane and status corrections, and the decisions behind them, before
/// dedupe) still hold.
///
/// A memo serves the next pass while the session is the same completion (it lives in its [`Completed`], which a
/// change of the file or transcript replaces) and the evidence is the same: the same `/proc` scan (the same `Arc`,
/// shared for [`FACTS_REUSE`]) and the same live Zellij sessions. A new scan or list starts a new epoch, and every
/// memo of an earlier one is void. A Codex session's memo also needs the same answer to whether a process holds
/// its rollout open (read anew each pass); and since the Codex TUIs are matched to rollouts across the Codex sessions
/// with a rollout (`transcript_path`), the pass uses their memos only all together, for the same group of sessions
/// ([`Self::codex_group`]).
#[derive(Debug, Default)]
pub(super) struct Settlements {
    /// The evidence the memos of the current epoch rest on.
    evidence: Option<(Arc<AgentProcs>, Option<HashSet<String>>)>,
    /// The number of the evidence: a new one for each new scan or Zellij list.
    epoch: u64,
    /// How many Codex sessions with a rollout were settled together on this evidence.
    codex_group: Option<usize>,
    /// When the previous pass ran.
    last_pass: Option<SystemTime>,
}

/// What settling made of one completion, on the evidence of one epoch.
#[derive(Debug)]
pub(super) struct Settled {
    epoch: u64,
    /// Whether a process held the session's rollout open (Codex; `None` for other agents or when unknown).
    open: Option<bool>,
    session: Arc<SessionJson>,
    decisions: Arc<SessionDecisions>,
    traits: Arc<Traits>,
}

/// What the steps over all sessions (liveness grouping, sort, dedupe, Codex bookkeeping) read of one session, read
/// once per version of the session and kept with it in the reuse caches, not looked up again every pass.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Traits {
    /// Its sort key ([`model::sort_key`]).
    pub(super) id: String,
    /// The pane it claims ([`rules::dedupe::pane_key`]).
    pub(super) pane: Option<(String, String)>,
    /// Whether it is a Codex session.
    pub(super) codex: bool,
    /// Whether it is a Codex session with a rollout (a non-empty `transcript_path`): those are settled together.
    pub(super) rollout: bool,
}

impl Traits {
    /// Reads the traits of `session`.
    pub(super) fn of(session: &SessionJson) -> Arc<Traits> {
        let codex = model::str_field(session, key::AGENT) == Some(agent::CODEX);
        Arc::new(Traits {
            id: model::sort_key(session),
            pane: rules::dedupe::pane_key(session),
            codex,
            rollout: codex && model::str_field(session, key::TRANSCRIPT_PATH).is_some_and(|t| !t.is_empty()),
        })
    }
}

impl Completed {
    /// Returns what settling made of this completion whose rollout is `open` (see [`Settled::open`]), when memoized
    /// on the evidence `settlements` now holds.
    pub(super) fn settled(
        &self,
        settlements: &Settlements,
        open: Option<bool>,
    ) -> Option<(&Arc<SessionJson>, &Arc<SessionDecisions>, &Arc<Traits>)> {
        self.settled
            .as_ref()
            .filter(|s| s.epoch == settlements.epoch && s.open == open)
            .map(|s| (&s.session, &s.decisions, &s.traits))
    }

    /// Memoizes what settling made of this completion on the evidence `settlements` now holds.
    pub(super) fn keep_settled(
        &mut self,
        settlements: &Settlements,
        open: Option<bool>,
        session: Arc<SessionJson>,
        decisions: Arc<SessionDecisions>,
        traits: Arc<Traits>,
    ) {
        self.settled = Some(Settled {
            epoch: settlements.epoch,
            open,
            session,
            decisions,
            traits,
        });
    }
}

impl Settlements {
    /// Starts a pass on the scan `agents` and the live Zellij sessions `live`: memos of other evidence are void.
    pub(super) fn begin(&mut self, agents: &Arc<AgentProcs>, live: Option<&HashSet<String>>) {
        let same = self
            .evidence
            .as_ref()
            .is_some_and(|(a, l)| Arc::ptr_eq(a, agents) && l.as_ref() == live);
        if !same {
            self.epoch += 1;
            self.codex_group = None;
            self.evidence = Some((agents.clone(), live.cloned()));
        }
    }

    /// Returns whether the pass at `now` is the first or comes within [`FACTS_REUSE`] of the previous one: a burst of
    /// passes (file events), whose next pass is likely to use the memos. A pass alone (a timer's, 2 s after the last)
    /// keeps none: its memos would rest on a scan the next pass does not share.
    pub(super) fn in_burst(&mut self, now: SystemTime) -> bool {
        let burst = self
            .last_pass
            .is_none_or(|last| now.duration_since(last).is_ok_and(|gap| gap < FACTS_REUSE));
        self.last_pass = Some(now);
        burst
    }

    /// Returns how many Codex sessions were last settled together on this evidence (their memos serve only that
    /// same group, all of them unchanged).
    pub(super) fn codex_group(&self) -> Option<usize> {
        self.codex_group
    }

    /// Records that `count` Codex sessions were settled together.
    pub(super) fn set_codex_group(&mut self, count: usize) {
        self.codex_group = Some(count);
    }
}

impl Collector {
    /// Returns whether the session's transcript is still the one the previous pass read, unchanged (or still none;
    /// a missing transcript looked for less than [`FACTS_REUSE`] before `now` is not looked for again).
    ///
    /// Told [`Changes::Only`], a transcript no event named (nor a file of its directory) is unchanged without a
    /// `stat`, and a missing one is not looked for: the next pass told [`Changes::Unknown`] (the timers') does.
    pub(super) fn transcript_unchanged(
        &mut self,
        previous: &mut Completed,
        now: SystemTime,
        changes: &Changes,
        changed_dirs: &HashSet<&Path>,
    ) -> bool {
        match (&previous.transcript, changes) {
            (Some((path, _)), Changes::Only(_)) if changes.unchanged(path, changed_dirs) => return true,
            (None, Changes::Only(_)) if changed_dirs.is_empty() => return true,
            (None, _)
                if now
                    .duration_since(previous.looked_up)
                    .is_ok_and(|age| age < FACTS_REUSE) =>
            {
                return true
            }
            _ => {}
        }
        let found = self.resolve_transcript(&previous.session).map(|(path, _)| path);
        let unchanged = match (&previous.transcript, found) {
            (None, None) => true,
            (Some((path, then)), Some(found)) => *path == found && stamp(path).as_ref() == Some(then),
            _ => false,
        };
        if unchanged && previous.transcript.is_none() {
            previous.looked_up = now;
        }
        unchanged
    }
}
