//! Liveness: which sessions are dead (`is_dead`, with `liveness_reason`) and which `starting` sessions are orphans.
//!
//! Two sets of rules decide, and [`settle`](crate::rules::liveness::settle) sets `is_dead` once from both:
//! - [`original`](crate::rules::liveness::original): the original's rules, from the Zellij list and the open files;
//! - process evidence, from the agent processes themselves ([`AgentProcs`](crate::sources::agent_procs::AgentProcs): `/proc` and Claude Code's
//!   `sessions/<pid>.json`), which overrides the original's verdict when it says alive or dead:
//!   [`claude`](crate::rules::liveness::claude) and [`codex`](crate::rules::liveness::codex) (each file's doc lists
//!   its evidence, strongest first). [`decide_all`](crate::rules::liveness::decide_all) is the entry point.
//!
//! process is gone). A `starting` Codex session is not dead by Codex rules 1 and 5 either (the original exempts
//! `starting` from them), only by rule 4.
//!
//!
//! Every verdict carries its rule and evidence, and becomes a [`Decision`] on `is_dead`.

pub mod claude;
pub mod codex;
pub mod original;

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::{Map, Value};

use self::{
    claude::claude_verdict,
    codex::{assign_codex_tuis, codex_verdict},
};
use super::Removal;
use crate::{
    model::{agent, field, key, str_field, Decision, SessionJson},
    sources::agent_procs::{classify, AgentKind, AgentProcs, ClaudePidFile, ProcInfo},
};

/// The rule name of a verdict for a session that is neither Claude nor Codex.
const RULE_DECIDE: &str = "rules::liveness::decide";

/// The rule name of [`settle`]'s own decisions (the pane of a Codex session).
pub const RULE_SETTLE: &str = "rules::liveness::settle";

/// The rule name of [`orphan_removal`].
pub const RULE_ORPHAN: &str = "rules::liveness::orphan_removal";

/// Alive, dead, or no evidence either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    /// The agent's process runs.
    Alive,
    /// The agent is gone (or can no longer be reached).
    Dead,
    /// The facts say nothing; keep the original's verdict.
    Unknown,
}

/// The decision for one session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// Alive, dead or unknown.
    pub liveness: Liveness,
    /// Why, in words (for `liveness_reason` and the log).
    pub reason: String,
    /// The agent process the verdict rests on, when one did.
    pub pid: Option<u32>,
    /// The Zellij session of that process's own environment (for Codex, the session to show).
    pub zellij_session: Option<String>,
    /// The Zellij pane of that process's own environment (for Codex, the pane to show).
    pub zellij_pane: Option<String>,
    /// The rule that gave the verdict, as its path (set by [`decide`]).
    pub rule: &'static str,
    /// The facts the verdict rests on beyond the above: the pid file, the process's name and start time, ...
    pub evidence: Map<String, Value>,
}

impl Verdict {
    pub(crate) fn new(liveness: Liveness, reason: impl Into<String>) -> Self {
        Verdict {
            liveness,
            reason: reason.into(),
            pid: None,
            zellij_session: None,
            zellij_pane: None,
            rule: "rules::liveness::decide",
            evidence: Map::new(),
        }
    }

    /// Adds the process `p` as the evidence: its pid, its own Zellij pane, its name and start time.
    pub(crate) fn with_proc(mut self, p: &ProcInfo) -> Self {
        self.pid = Some(p.pid);
        self.zellij_session = p.zellij_session.clone();
        self.zellij_pane = p.zellij_pane.clone();
        self.evidence.insert("comm".into(), p.comm.clone().into());
        self.evidence.insert("start_ticks".into(), p.start_ticks.into());
        self
    }

    /// Adds one piece of evidence.
    pub(crate) fn with(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.evidence.insert(name.to_owned(), value.into());
        self
    }

    fn by(mut self, rule: &'static str) -> Self {
        self.rule = rule;
        self
    }

    /// Returns the verdict as an `is_dead` decision (`true`, `false`, or `null` for unknown) taken at `at`.
    pub fn decision(&self, at: f64) -> Decision {
        let value = match self.liveness {
            Liveness::Dead => Value::Bool(true),
            Liveness::Alive => Value::Bool(false),
            Liveness::Unknown => Value::Null,
        };
        let mut decision = Decision::new(field::IS_DEAD, self.rule, value, at).with("reason", self.reason.clone());
        if let Some(pid) = self.pid {
            decision = decision.with("pid", pid);
        }
        if let Some(zs) = &self.zellij_session {
            decision = decision.with("process_zellij_session", zs.clone());
        }
        if let Some(zp) = &self.zellij_pane {
            decision = decision.with("process_zellij_pane", zp.clone());
        }
        decision.evidence.extend(self.evidence.clone());
        decision
    }

    /// Returns whether the session is dead (unknown is not dead: an unknown fact never kills a session).
    pub fn is_dead(&self) -> bool {
        self.liveness == Liveness::Dead
    }
}

/// The facts one decision needs.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    /// The process scan.
    pub procs: &'a AgentProcs,
    /// The live Zellij sessions; `None` when the list could not be obtained.
    pub zellij_live: Option<&'a HashSet<String>>,
    /// The pass's wall-clock time.
    pub now: SystemTime,
}

impl Evidence<'_> {
    fn proc(&self, pid: u32) -> Option<&ProcInfo> {
        self.procs.procs.as_ref().and_then(|m| m.get(&pid))
    }

    fn running(&self) -> impl Iterator<Item = &ProcInfo> {
        self.procs
            .procs
            .iter()
            .flat_map(|m| m.values())
            .filter(|p| p.is_running())
    }
}

/// Decides every session of a pass at once (Codex TUIs are matched to rollouts across sessions): the entry point the
/// collector calls. The result is in the order of `sessions`.
pub fn decide_all<S: std::borrow::Borrow<SessionJson>>(sessions: &[S], ev: &Evidence<'_>) -> Vec<Verdict> {
    let tuis = assign_codex_tuis(sessions, ev);
    sessions.iter().map(|s| decide(s.borrow(), ev, &tuis)).collect()
}

/// Decides one session; `tuis` is [`assign_codex_tuis`] of the whole pass.
pub fn decide(session: &SessionJson, ev: &Evidence<'_>, tuis: &HashMap<String, u32>) -> Verdict {
    match str_field(session, key::AGENT) {
        Some(agent::CLAUDE) => claude_verdict(session, ev).by(claude::RULE),
        Some(agent::CODEX) => codex_verdict(session, ev, tuis).by(codex::RULE),
        _ => Verdict::new(Liveness::Unknown, "not a claude or codex session").by(RULE_DECIDE),
    }
}

/// What a Claude pid file says about its process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PidFileState {
    /// The process runs and is Claude.
    Running,
    /// The process is gone, a zombie, reused by another program, or not Claude.
    Gone,
    /// Cannot tell (`/proc` unreadable, another pid namespace).
    Unknown,
}

pub(crate) fn pid_file_state(f: &ClaudePidFile, ev: &Evidence<'_>) -> PidFileState {
    if ev.procs.procs.is_none() {
        return PidFileState::Unknown;
    }
    if let (Some(theirs), Some(ours)) = (&f.pid_namespace, &ev.procs.own_pid_namespace) {
        if theirs != ours {
            return PidFileState::Unknown;
        }
    }
    match ev.proc(f.pid) {
        Some(p)
            if p.is_running()
                && f.proc_start.is_none_or(|s| s == p.start_ticks)
                && (f.proc_start.is_some() || started_together(f.started_at_ms, p.started_at))
                && classify(p) == AgentKind::Claude =>
        {
            PidFileState::Running
        }
        _ => PidFileState::Gone,
    }
}

/// How far a pid file's `startedAt` may lie after its process's start time (`/proc/<pid>/stat` field 22 plus the
/// boot time, which is whole seconds) and still be that process's: Claude Code writes it while starting up.
pub const PID_START_TOLERANCE: Duration = Duration::from_secs(10);

/// Returns whether a pid file without `procStart` (older Claude Code) belongs to the process running under its pid:
/// its `startedAt` within [`PID_START_TOLERANCE`] after the process started (1 s before, for the boot time's
/// rounding). A reused pid started later than the file says; unknown times are not evidence against it.
pub(crate) fn started_together(file_started_ms: Option<u64>, proc_started: Option<SystemTime>) -> bool {
    let (Some(ms), Some(proc_started)) = (file_started_ms, proc_started) else {
        return true;
    };
    let file_started = UNIX_EPOCH + Duration::from_millis(ms);
    match file_started.duration_since(proc_started) {
        Ok(after) => after <= PID_START_TOLERANCE,
        Err(before) => before.duration() <= Duration::from_secs(1),
    }
}

pub(crate) fn last_event_time(session: &SessionJson) -> Option<SystemTime> {
    ["last_event_at", "started_at"].iter().find_map(|k| {
        let text = str_field(session, k)?;
        let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
        let ms = u64::try_from(t.timestamp_millis()).ok()?;
        Some(UNIX_EPOCH + Duration::from_millis(ms))
    })
}

#[cfg(test)]
#[test]
fn a_pid_file_without_proc_start_is_matched_by_its_start_time() {
    let proc_started = UNIX_EPOCH + Duration::from_secs(1_000);
    assert!(started_together(Some(1_000_400), Some(proc_started)));
    assert!(
        started_together(Some(999_500), Some(proc_started)),
        "boot time rounding"
    );
    assert!(
        !started_together(Some(1_030_000), Some(proc_started)),
        "the process started 30 s before the file says: another process"
    );
    assert!(
        !started_together(Some(900_000), Some(proc_started)),
        "the pid was reused after the file's process"
    );
    assert!(started_together(None, Some(proc_started)));
    assert!(started_together(Some(1), None));
}

pub(crate) fn non_empty<'a>(session: &'a SessionJson, key: &str) -> Option<&'a str> {
    str_field(session, key).filter(|s| !s.is_empty())
}

/// What one session's liveness settles to: `is_dead` (set once, from both sets of rules), its reason, the pane of a
/// Codex session's TUI, and the decisions behind them (the last `is_dead` decision is the one that stands).
#[derive(Debug, Clone, PartialEq)]
pub struct Settled {
    /// The session's `is_dead`.
    pub is_dead: bool,
    /// Its `liveness_reason` (only when dead).
    pub reason: Option<String>,
    /// For a Codex session alive by a process: the `(zellij_session, zellij_pane)` of that process.
    pub pane: Option<(String, String)>,
    /// The decisions: the original's `is_dead`, then the process evidence's when it overrides it, then the pane.
    pub decisions: Vec<Decision>,
}

/// Settles one session's liveness: the original's decision ([`original::is_dead`]) stands unless process evidence
/// (`verdict`, from [`decide_all`]) says alive or dead; an alive Codex session moves to its TUI's pane.
pub fn settle(session: &SessionJson, original: Decision, verdict: &Verdict, at: f64) -> Settled {
    let mut settled = Settled {
        is_dead: original.value.as_bool().unwrap_or(false),
        reason: original
            .evidence
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_owned),
        pane: None,
        decisions: vec![original],
    };
    match verdict.liveness {
        Liveness::Dead => {
            settled.is_dead = true;
            settled.reason = Some(verdict.reason.clone());
        }
        Liveness::Alive => {
            settled.is_dead = false;
            settled.reason = None;
        }
        Liveness::Unknown => return settled,
    }
    settled.decisions.push(verdict.decision(at));
    if !settled.is_dead {
        settled.reason = None;
    }
    if str_field(session, key::AGENT) == Some(agent::CODEX) && verdict.liveness == Liveness::Alive {
        if let (Some(zs), Some(zp)) = (&verdict.zellij_session, &verdict.zellij_pane) {
            settled.pane = Some((zs.clone(), zp.clone()));
            let pane = Decision::new(field::PANE, RULE_SETTLE, format!("{zs}:{zp}"), at)
                .with("zellij_session", zs.clone())
                .with("zellij_pane", zp.clone())
                .with("from_rule", verdict.rule)
                .with("pid", verdict.pid);
            settled.decisions.push(pane);
        }
    }
    settled
}

/// Returns the removal of an orphan `starting` session ([`original::is_orphan_starting`]) read from `path`, unless
/// Claude's own process evidence says it is alive (`claude` is asked only for an orphan).
pub fn orphan_removal(
    session: &SessionJson,
    live: Option<&HashSet<String>>,
    claude: impl FnOnce() -> Verdict,
    path: &Path,
    at: f64,
) -> Option<Removal> {
    if !original::is_orphan_starting(session, live) {
        return None;
    }
    let verdict = claude();
    if verdict.liveness == Liveness::Alive {
        return None;
    }
    let decision = Decision::new(
        field::REMOVAL,
        RULE_ORPHAN,
        "orphan starting session: its zellij session is gone",
        at,
    )
    .with("file", path.to_string_lossy().into_owned())
    .with(key::STATUS, "starting")
    .with(
        key::ZELLIJ_SESSION,
        session.get(key::ZELLIJ_SESSION).cloned().unwrap_or(Value::Null),
    )
    .with("zellij_known", true)
    .with("zellij_live", false)
    .with("process_evidence", verdict.reason.clone());
    Some(Removal {
        path: path.to_path_buf(),
        decision,
    })
}

#[cfg(test)]
pub(crate) mod test_util {
    //! Builders of sessions and evidence for the liveness and status tests.
    use super::*;
    pub use crate::sources::agent_procs::test_util::*;
    use serde_json::json;

    pub fn s(v: Value) -> SessionJson {
        v.as_object().cloned().unwrap_or_default()
    }

    pub fn evid<'a>(procs: &'a AgentProcs, zellij_live: Option<&'a HashSet<String>>, now: SystemTime) -> Evidence<'a> {
        Evidence {
            procs,
            zellij_live,
            now,
        }
    }

    pub fn live(names: &[&str]) -> HashSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    pub fn claude_session(status: &str, last_event: &str) -> SessionJson {
        s(
            json!({"session_id": "s1", "agent": "claude", "status": status, "zellij_session": "main", "zellij_pane": "3",
                 "last_event": last_event, "last_event_at": "2026-11-25T05:20:00.000000Z"}),
        )
    }

    pub fn now() -> SystemTime {
        // 2026-11-25T05:20:00Z = 1795584000; a minute later.
        at(T0 + 60)
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::*;
    use super::*;
    use serde_json::json;

    #[test]
    fn other_agents_are_unknown() {
        let ap = scan(vec![], vec![]);
        let v = decide_all(&[s(json!({"agent": "gemini"})), s(json!({}))], &evid(&ap, None, now()));
        assert!(v.iter().all(|v| v.liveness == Liveness::Unknown));
    }

    #[test]
    fn process_evidence_overrides_the_original_and_is_dead_is_set_once() {
        let session = s(json!({"session_id": "s1", "agent": "codex", "status": "done", "transcript_path": "/r.jsonl"}));
        let original = original::is_dead(&session, None, Some(false), 5.0);
        assert_eq!(original.value, json!(true));
        let mut alive = Verdict::new(Liveness::Alive, "codex pid 7 holds the rollout").by(codex::RULE);
        alive.pid = Some(7);
        alive.zellij_session = Some("main".into());
        alive.zellij_pane = Some("4".into());
        let settled = settle(&session, original.clone(), &alive, 5.0);
        assert!(!settled.is_dead);
        assert_eq!(settled.reason, None);
        assert_eq!(settled.pane, Some(("main".into(), "4".into())));
        let rules: Vec<(&str, &str)> = settled.decisions.iter().map(|d| (d.field, d.rule)).collect();
        assert_eq!(
            rules,
            [
                ("is_dead", original::RULE_IS_DEAD),
                ("is_dead", codex::RULE),
                ("pane", RULE_SETTLE)
            ]
        );
        assert_eq!(settled.decisions[1].evidence.get("pid"), Some(&json!(7)));
        // Unknown evidence keeps the original's verdict and adds nothing.
        let unknown = Verdict::new(Liveness::Unknown, "no process evidence");
        let kept = settle(&session, original, &unknown, 5.0);
        assert!(kept.is_dead);
        assert_eq!(kept.reason.as_deref(), Some("no process has the rollout open"));
        assert_eq!(kept.decisions.len(), 1);
    }

    #[test]
    fn an_orphan_is_removed_unless_its_claude_runs() {
        let session = s(json!({"session_id": "o", "agent": "claude", "status": "starting", "zellij_session": "gone"}));
        let l = live(&["main"]);
        let dead = || Verdict::new(Liveness::Unknown, "no process evidence");
        let removal = orphan_removal(&session, Some(&l), dead, Path::new("/s/o.json"), 9.0).expect("removed");
        assert_eq!(removal.path, std::path::PathBuf::from("/s/o.json"));
        assert_eq!(removal.decision.rule, RULE_ORPHAN);
        assert_eq!(removal.decision.field, "removal");
        assert_eq!(removal.reason(), "orphan starting session: its zellij session is gone");
        assert_eq!(removal.decision.evidence.get("zellij_session"), Some(&json!("gone")));
        assert_eq!(
            removal.decision.evidence.get("process_evidence"),
            Some(&json!("no process evidence"))
        );
        let alive = || Verdict::new(Liveness::Alive, "claude pid 5 runs");
        assert!(orphan_removal(&session, Some(&l), alive, Path::new("/s/o.json"), 9.0).is_none());
        assert!(
            orphan_removal(&session, None, dead, Path::new("/s/o.json"), 9.0).is_none(),
            "zellij unknown"
        );
    }
}
