//! Codex discovery rules: which pane a discovered rollout belongs to, what its session file says, and which ids the
//! user dismissed.
//!
//! Codex has no hooks, so amc writes Codex session files itself from the running `codex` processes and their
//! rollouts (the original's `_discover_active_codex_sessions`).

use std::{
    collections::{HashSet, VecDeque},
    path::Path,
    time::{Duration, SystemTime},
};

use serde_json::Value;

use crate::model::{str_field, truthy};
use crate::{
    model::SessionJson,
    sources::{
        agent_procs::{classify, AgentKind, ProcInfo},
        codex::{RolloutFacts, TurnEvent},
    },
};

/// How many dismissed Codex ids are remembered; the oldest is forgotten first.
pub const DISMISSED_CAPACITY: usize = 1000;

/// Returns the session status a turn event leaves: `task_started` → `active`, `task_complete`/`turn_aborted` →
/// `done`.
pub fn status_after(event: &TurnEvent) -> Option<&'static str> {
    match event.kind.as_str() {
        "task_started" => Some("active"),
        "task_complete" | "turn_aborted" => Some("done"),
        _ => None,
    }
}

/// How much a pane match can be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// From the process that runs the session: a TUI or `exec` holding the rollout, or the TUI in the rollout's cwd.
    Strong,
    /// From an `app-server` daemon holding the rollout: its environment is the first TUI's that started it.
    Weak,
}

/// The Zellij pane a rollout was matched to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaneMatch {
    /// `ZELLIJ_SESSION_NAME` of the process.
    pub zellij_session: String,
    /// `ZELLIJ_PANE_ID` of the process.
    pub zellij_pane: String,
    /// How much to trust it.
    pub evidence: Evidence,
}

fn pane_of(p: &ProcInfo, evidence: Evidence) -> Option<PaneMatch> {
    Some(PaneMatch {
        zellij_session: p.zellij_session.clone()?,
        zellij_pane: p.zellij_pane.clone()?,
        evidence,
    })
}

fn distance(a: Option<SystemTime>, b: Option<SystemTime>) -> Option<Duration> {
    let (a, b) = (a?, b?);
    Some(a.duration_since(b).unwrap_or_else(|e| e.duration()))
}

/// Returns the pane of the rollout at `rollout` (as the kernel names it), or `None` when no process gives one.
///
/// In order of preference:
/// 1. a Codex TUI (`--no-daemon`) or `codex exec` holding the rollout open: its own environment;
/// 2. a Codex TUI whose cwd is the rollout's `cwd` and that holds no other rollout: the TUI a daemon works
///    for. Among several, the one whose start time is nearest the time in the rollout's file name (when the TUI
///    started), else the lowest pid. If that TUI is outside Zellij, there is no pane;
/// 3. a daemon (`app-server`) holding the rollout: its environment, as [`Evidence::Weak`].
///
/// Which process is a TUI, `exec` or the daemon is [`classify`]'s one definition; other `codex` subcommands
/// (`mcp-server`, `login`) are no evidence.
pub fn match_pane(
    rollout: &Path,
    rollout_cwd: Option<&Path>,
    rollout_time: Option<SystemTime>,
    processes: &[&ProcInfo],
) -> Option<PaneMatch> {
    let holds = |p: &ProcInfo| p.open_jsonl.iter().any(|f| f == rollout);
    let kind = |p: &ProcInfo| classify(p);
    let agent = |p: &ProcInfo| matches!(kind(p), AgentKind::CodexTui | AgentKind::CodexExec);
    if let Some(p) = processes.iter().filter(|p| agent(p) && holds(p)).min_by_key(|p| p.pid) {
        return pane_of(p, Evidence::Strong);
    }
    if let Some(cwd) = rollout_cwd {
        let tuis = processes
            .iter()
            .filter(|p| agent(p) && p.cwd.as_deref() == Some(cwd) && p.open_rollouts().all(|f| f == rollout));
        let best = tuis.min_by_key(|p| (distance(p.started_at, rollout_time).unwrap_or(Duration::MAX), p.pid));
        if let Some(p) = best {
            return pane_of(p, Evidence::Strong);
        }
    }
    processes
        .iter()
        .filter(|p| kind(p) == AgentKind::CodexDaemon && holds(p))
        .min_by_key(|p| p.pid)
        .and_then(|p| pane_of(p, Evidence::Weak))
}

/// Returns whether `amc hook --agent codex` recorded an event (`hook_event_at`) no older than the rollout's newest
/// turn event: then the hook's status (`needs_attention` on an approval, `done` on Interrupt) stands, and the rollout
/// is the fallback only when it says something newer (hooks not installed or not trusted, a lost hook).
pub fn hooks_are_newer(existing: Option<&SessionJson>, facts: &RolloutFacts) -> bool {
    let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
    let Some(hook_at) = existing
        .and_then(|e| str_field(e, crate::model::key::HOOK_EVENT_AT))
        .and_then(parse)
    else {
        return false;
    };
    match facts.last_turn.as_ref().and_then(|t| t.timestamp.as_deref()) {
        Some(turn_at) => parse(turn_at).is_none_or(|turn_at| hook_at >= turn_at),
        None => true,
    }
}

/// Returns the content of the Codex session file for a discovered rollout, or `None` when `existing` already says
/// all of it (so an unchanged file is never rewritten and file watchers are not woken in a loop).
///
/// Refreshed every pass: `session_id`, `agent`, `transcript_path`, `status` (from the last turn event; with none seen,
/// the existing status, else `active`), `last_event`/`last_event_at` (the turn event's type and timestamp). Set when
/// missing: `cwd`, `project_dir` (the `session_meta` cwd), `started_at`. The pane: from [`Evidence::Strong`] always,
/// from [`Evidence::Weak`] only when the file names none. Every other key of `existing` is kept.
pub fn codex_session(
    existing: Option<&SessionJson>,
    rollout: &Path,
    facts: &RolloutFacts,
    pane: Option<&PaneMatch>,
) -> Option<SessionJson> {
    let mut session = existing.cloned().unwrap_or_default();
    let mut set = |key: &str, value: Value| {
        session.insert(key.to_owned(), value);
    };
    set("session_id", facts.meta.id.clone().into());
    set("agent", "codex".into());
    set("transcript_path", rollout.to_string_lossy().into_owned().into());
    if !hooks_are_newer(existing, facts) {
        let status = match facts.last_turn.as_ref().and_then(status_after) {
            Some(status) => status.to_owned(),
            None => existing
                .and_then(|e| str_field(e, "status"))
                .filter(|s| !s.is_empty())
                .unwrap_or("active")
                .to_owned(),
        };
        set("status", status.into());
        if let Some(event) = &facts.last_turn {
            set("last_event", event.kind.clone().into());
            if let Some(at) = &event.timestamp {
                set("last_event_at", at.clone().into());
            }
        }
    }
    if let Some(pane) = pane {
        let has_pane = existing.is_some_and(|e| truthy(e.get("zellij_session")));
        if pane.evidence == Evidence::Strong || !has_pane {
            set("zellij_session", pane.zellij_session.clone().into());
            set("zellij_pane", pane.zellij_pane.clone().into());
        }
    }
    let mut set_missing = |key: &str, value: Option<&String>| {
        if let Some(value) = value {
            if !truthy(session.get(key)) {
                session.insert(key.to_owned(), value.clone().into());
            }
        }
    };
    set_missing("cwd", facts.meta.cwd.as_ref());
    set_missing("project_dir", facts.meta.cwd.as_ref());
    set_missing("started_at", facts.meta.timestamp.as_ref());
    set_missing("last_event_at", facts.meta.timestamp.as_ref());
    (existing != Some(&session)).then_some(session)
}

/// The Codex ids the user dismissed (or amc removed), so discovery does not bring them back: bounded, the oldest
/// forgotten first (the original's insertion-ordered dict, after its `set.pop()` evicted at random).
#[derive(Debug, Clone)]
pub struct DismissedIds {
    order: VecDeque<String>,
    ids: HashSet<String>,
    capacity: usize,
}

impl Default for DismissedIds {
    fn default() -> Self {
        Self::with_capacity(DISMISSED_CAPACITY)
    }
}

impl DismissedIds {
    /// Creates an empty set that remembers at most `capacity` ids.
    pub fn with_capacity(capacity: usize) -> Self {
        DismissedIds {
            order: VecDeque::new(),
            ids: HashSet::new(),
            capacity: capacity.max(1),
        }
    }

    /// Remembers `id` (a no-op when already remembered), forgetting the oldest id when full.
    pub fn insert(&mut self, id: &str) {
        if self.ids.contains(id) {
            return;
        }
        if self.order.len() >= self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.ids.remove(&oldest);
            }
        }
        self.order.push_back(id.to_owned());
        self.ids.insert(id.to_owned());
    }

    /// Returns whether `id` is remembered.
    pub fn contains(&self, id: &str) -> bool {
        self.ids.contains(id)
    }

    /// Returns how many ids are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Returns whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::codex::RolloutMeta;
    use serde_json::json;
    use std::path::PathBuf;

    const ROLLOUT: &str = "/c/sessions/2026/01/01/rollout-2026-01-01T10-00-00-r1.jsonl";

    fn proc(pid: u32, daemon: bool, cwd: &str, pane: Option<&str>, open: &[&str]) -> ProcInfo {
        let argv: &[&str] = if daemon {
            &["/x/codex", "app-server", "--managed-daemon"]
        } else {
            &["/x/codex"]
        };
        let mut p = crate::sources::agent_procs::test_util::proc_(pid, "codex", argv, pane.map(|p| ("main", p)));
        p.cwd = Some(PathBuf::from(cwd));
        p.started_at = None;
        p.open_jsonl = open.iter().map(PathBuf::from).collect();
        p
    }

    fn refs(procs: &[ProcInfo]) -> Vec<&ProcInfo> {
        procs.iter().collect()
    }

    fn at(secs: u64) -> Option<SystemTime> {
        Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
    }

    fn pane(p: &PaneMatch) -> (&str, Evidence) {
        (p.zellij_pane.as_str(), p.evidence)
    }

    #[test]
    fn a_tui_holding_the_rollout_is_strong_evidence() {
        let procs = [
            proc(5, true, "/p", Some("1"), &[ROLLOUT]),
            proc(9, false, "/q", Some("7"), &[ROLLOUT]),
        ];
        let m = match_pane(Path::new(ROLLOUT), Some(Path::new("/p")), None, &refs(&procs)).expect("match");
        assert_eq!(pane(&m), ("7", Evidence::Strong));
    }

    #[test]
    fn a_daemon_held_rollout_goes_to_the_tui_in_its_cwd() {
        let procs = [
            proc(5, true, "/", Some("1"), &[ROLLOUT]),
            proc(6, false, "/other", Some("2"), &[]),
            proc(7, false, "/p", Some("3"), &[]),
            proc(8, false, "/p", Some("4"), &["/c/sessions/other.jsonl"]),
        ];
        let m = match_pane(Path::new(ROLLOUT), Some(Path::new("/p")), None, &refs(&procs)).expect("match");
        assert_eq!(pane(&m), ("3", Evidence::Strong));
    }

    #[test]
    fn a_tui_writing_its_history_still_owns_the_daemon_held_rollout() {
        // The rollout appears when the prompt is submitted, the moment the TUI has `$CODEX_HOME/history.jsonl` (and
        // `session_index.jsonl`) open: those are not rollouts, so the TUI is still the match, not the daemon (whose
        // environment is the first TUI's pane, where same-pane dedupe would remove this session for good).
        let procs = [
            proc(5, true, "/", Some("1"), &[ROLLOUT]),
            proc(
                7,
                false,
                "/p",
                Some("3"),
                &["/c/history.jsonl", "/c/session_index.jsonl"],
            ),
        ];
        let m = match_pane(Path::new(ROLLOUT), Some(Path::new("/p")), None, &refs(&procs)).expect("match");
        assert_eq!(pane(&m), ("3", Evidence::Strong));
    }

    #[test]
    fn several_tuis_in_one_cwd_are_told_apart_by_start_time() {
        let mut a = proc(7, false, "/p", Some("3"), &[]);
        let mut b = proc(8, false, "/p", Some("4"), &[]);
        a.started_at = at(1_000);
        b.started_at = at(2_000);
        let procs = [a, b, proc(5, true, "/", Some("1"), &[ROLLOUT])];
        let m = match_pane(Path::new(ROLLOUT), Some(Path::new("/p")), at(1_990), &refs(&procs)).expect("match");
        assert_eq!(pane(&m), ("4", Evidence::Strong));
        let m = match_pane(Path::new(ROLLOUT), Some(Path::new("/p")), None, &refs(&procs)).expect("match");
        assert_eq!(pane(&m), ("3", Evidence::Strong), "no times: the lowest pid");
    }

    #[test]
    fn a_daemon_alone_is_weak_evidence_and_a_tui_outside_zellij_gives_no_pane() {
        let daemon = proc(5, true, "/", Some("1"), &[ROLLOUT]);
        let m = match_pane(Path::new(ROLLOUT), Some(Path::new("/p")), None, &[&daemon]).expect("match");
        assert_eq!(pane(&m), ("1", Evidence::Weak));
        let procs = [daemon, proc(7, false, "/p", None, &[])];
        assert_eq!(
            match_pane(Path::new(ROLLOUT), Some(Path::new("/p")), None, &refs(&procs)),
            None
        );
        assert_eq!(match_pane(Path::new(ROLLOUT), None, None, &[]), None);
    }

    fn facts(last: Option<(&str, &str)>) -> RolloutFacts {
        RolloutFacts {
            meta: RolloutMeta {
                id: "r1".into(),
                cwd: Some("/p".into()),
                timestamp: Some("2026-01-01T09:00:00Z".into()),
            },
            last_turn: last.map(|(k, t)| TurnEvent {
                kind: k.into(),
                timestamp: Some(t.into()),
            }),
        }
    }

    fn strong(p: &str) -> PaneMatch {
        PaneMatch {
            zellij_session: "main".into(),
            zellij_pane: p.into(),
            evidence: Evidence::Strong,
        }
    }

    #[test]
    fn a_new_session_file_from_a_rollout() {
        let s = codex_session(
            None,
            Path::new(ROLLOUT),
            &facts(Some(("task_started", "T1"))),
            Some(&strong("3")),
        )
        .expect("new");
        assert_eq!(
            Value::Object(s),
            json!({
                "session_id": "r1", "agent": "codex", "transcript_path": ROLLOUT, "status": "active",
                "last_event": "task_started", "last_event_at": "T1", "zellij_session": "main", "zellij_pane": "3",
                "cwd": "/p", "project_dir": "/p", "started_at": "2026-01-01T09:00:00Z"
            })
        );
        let s = codex_session(None, Path::new(ROLLOUT), &facts(None), None).expect("new");
        assert_eq!(s.get("status"), Some(&json!("active")), "no turn event: active");
        assert_eq!(s.get("last_event_at"), Some(&json!("2026-01-01T09:00:00Z")));
    }

    #[test]
    fn statuses_follow_the_last_turn_event() {
        for (kind, status) in [
            ("task_started", "active"),
            ("task_complete", "done"),
            ("turn_aborted", "done"),
        ] {
            let s = codex_session(None, Path::new(ROLLOUT), &facts(Some((kind, "T"))), None).expect("new");
            assert_eq!(s.get("status"), Some(&json!(status)), "{kind}");
        }
    }

    #[test]
    fn a_newer_codex_hook_outranks_the_rollout_and_an_older_one_does_not() {
        let hooked = |status: &str, at: &str| {
            crate::model::test_util::object(json!({"session_id": "r1", "agent": "codex", "status": status,
                "last_event": "PermissionRequest", "last_event_at": at, "hook_event_at": at}))
        };
        // The approval dialog opened after the turn started: the hook's needs_attention stands.
        let existing = hooked("needs_attention", "2026-01-01T09:00:05.000000Z");
        let s = codex_session(
            Some(&existing),
            Path::new(ROLLOUT),
            &facts(Some(("task_started", "2026-01-01T09:00:04.900Z"))),
            None,
        )
        .unwrap_or(existing.clone());
        assert_eq!(s.get("status"), Some(&json!("needs_attention")));
        assert_eq!(s.get("last_event"), Some(&json!("PermissionRequest")));
        // The turn completed after the last hook (a lost Stop, hooks untrusted since): the rollout wins.
        let s = codex_session(
            Some(&existing),
            Path::new(ROLLOUT),
            &facts(Some(("task_complete", "2026-01-01T09:00:09Z"))),
            None,
        )
        .expect("changed");
        assert_eq!(s.get("status"), Some(&json!("done")));
        assert_eq!(s.get("last_event"), Some(&json!("task_complete")));
        // No hook ever ran: the rollout decides, as before.
        assert!(!hooks_are_newer(
            None,
            &facts(Some(("task_started", "2026-01-01T09:00:04Z")))
        ));
    }

    #[test]
    fn an_unchanged_file_is_not_rewritten_and_other_keys_stay() {
        let first = codex_session(
            None,
            Path::new(ROLLOUT),
            &facts(Some(("task_complete", "T2"))),
            Some(&strong("3")),
        )
        .expect("new");
        assert_eq!(
            codex_session(
                Some(&first),
                Path::new(ROLLOUT),
                &facts(Some(("task_complete", "T2"))),
                Some(&strong("3"))
            ),
            None
        );
        let mut edited = first.clone();
        edited.insert("turn_start_tokens".into(), json!(5));
        edited.insert("custom".into(), json!(true));
        let next = codex_session(
            Some(&edited),
            Path::new(ROLLOUT),
            &facts(Some(("task_started", "T3"))),
            None,
        )
        .expect("changed");
        assert_eq!(next.get("status"), Some(&json!("active")));
        assert_eq!(next.get("turn_start_tokens"), Some(&json!(5)));
        assert_eq!(next.get("custom"), Some(&json!(true)));
        assert_eq!(
            next.get("zellij_pane"),
            Some(&json!("3")),
            "no evidence: the pane stays"
        );
        // A fresh collector that sees no turn event keeps the file's status.
        assert_eq!(
            codex_session(Some(&first), Path::new(ROLLOUT), &facts(None), Some(&strong("3"))),
            None
        );
    }

    #[test]
    fn weak_evidence_never_overrides_a_known_pane() {
        let weak = PaneMatch {
            evidence: Evidence::Weak,
            ..strong("9")
        };
        let first = codex_session(None, Path::new(ROLLOUT), &facts(None), Some(&strong("3"))).expect("new");
        assert_eq!(
            codex_session(Some(&first), Path::new(ROLLOUT), &facts(None), Some(&weak)),
            None
        );
        let moved = codex_session(Some(&first), Path::new(ROLLOUT), &facts(None), Some(&strong("4"))).expect("moved");
        assert_eq!(moved.get("zellij_pane"), Some(&json!("4")));
        let bare = codex_session(None, Path::new(ROLLOUT), &facts(None), Some(&weak)).expect("new");
        assert_eq!(
            bare.get("zellij_pane"),
            Some(&json!("9")),
            "weak evidence fills an empty pane"
        );
    }

    #[test]
    fn dismissed_ids_forget_the_oldest_first() {
        let mut d = DismissedIds::with_capacity(3);
        for id in ["a", "b", "c", "a"] {
            d.insert(id);
        }
        assert_eq!(d.len(), 3);
        d.insert("d");
        assert!(!d.contains("a") && d.contains("b") && d.contains("c") && d.contains("d"));
        d.insert("e");
        assert!(!d.contains("b"));
        assert!(DismissedIds::default().is_empty());
    }
}
