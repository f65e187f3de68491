//! Liveness from the agent processes themselves, next to the Zellij list: pure functions from facts
//! ([`AgentProcs`]: `/proc` and Claude Code's `sessions/<pid>.json`; the live Zellij sessions; `now`) to a
//! [`Verdict`] (alive / dead / unknown, with the reason and the process and pane that gave the evidence).
//!
//! # Evidence, strongest first
//!
//! **Claude Code** (2.1.331 keeps `<config dir>/sessions/<pid>.json` from start-up to exit, formats.md §8.1):
//! 1. A pid file names the session and its pid is gone, a zombie, or a different process (its start time differs
//!    from the file's `procStart`: the pid was reused) → **dead**, even if the Zellij session lives on (the agent
//!    was killed: a SIGKILL leaves the file behind and fires no SessionEnd).
//! 2. The original's rules: no `zellij_session` recorded → dead; the Zellij list is known and lacks it → dead.
//! 3. A pid file names the session and that process runs → **alive**.
//! 4. No pid file names it (an older Claude Code, or the file not written yet): a running `claude` whose own
//!    environment has the session's `ZELLIJ_SESSION_NAME`/`ZELLIJ_PANE_ID` → alive, unless that process's pid file
//!    names another session (the pane moved on: `/clear`, a new `claude`) → dead. No `claude` in that pane at all →
//!    dead once [`START_GRACE`] has passed since the session's last hook event (at once after a SessionEnd).
//! 5. Otherwise → unknown (the caller keeps the original's Zellij verdict).
//!
//! **Codex** (0.169.0, formats.md §8.2: by default a shared `codex app-server --managed-daemon` holds the rollout,
//! not the TUI, and keeps it open for about a minute after `/quit`; its environment is the first TUI's):
//! 1. No `transcript_path` → dead (the original's rule).
//! 2. `/proc` unreadable → unknown (the original: open files unknown → alive).
//! 3. A Codex TUI (`--no-daemon`) or `codex exec` process holds the rollout open → **alive**, in that process's pane.
//! 4. Only the daemon holds it: the rollout is matched to a running Codex TUI of the same cwd that started before
//!    the thread was created ([`assign_codex_tuis`]) → alive, in **that TUI's** pane (never the daemon's stale
//!    environment); no TUI left for it → **dead** (the user quit; the daemon merely has not closed the file yet).
//!    A thread whose `originator` says it is not a TUI (`Codex Desktop`, an IDE) keeps the daemon as evidence.
//! 5. Nobody holds it → dead (the original's rule). A non-Codex process holding it (`tail -f`) is not evidence.
//!
//! `starting` sessions are never dead on Zellij's account (the original's rule) but are dead on rule 1 (their
//! process is gone). A `starting` Codex session is not dead by Codex rules 1 and 5 either (the original exempts
//! `starting` from them), only by rule 4.
//!
//! [`claude_status_hint`] is the same evidence applied to the status: Claude Code's own `status` (`idle`, `busy`,
//! `waiting`) corrects a session the hooks left `active`/`needs_attention` when a turn ended without a Stop hook (an
//! Esc interrupt, an API error: Claude fires no Stop then, formats.md §1.3).

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use crate::model::{str_field, truthy};
use crate::{
    model::SessionJson,
    sources::agent_procs::{AgentProcs, ClaudePidFile, ProcInfo},
};

/// How long after a session's last hook event the absence of its process is not yet evidence (the process table
/// and Claude's pid file can lag the first hook by a few hundred milliseconds).
pub const START_GRACE: Duration = Duration::from_secs(10);

/// How much later than the thread's creation time a Codex TUI may have started and still be its TUI (clock
/// granularity: `/proc` start times are in 10 ms ticks, the thread id's time in ms, the two clocks the same).
pub const THREAD_START_TOLERANCE: Duration = Duration::from_secs(2);

/// How long Claude's `idle`/`waiting` must have stood before [`claude_status_hint`] acts on it (so a Stop hook that
/// is still being written is never overtaken).
pub const STATUS_SETTLE: Duration = Duration::from_millis(500);

/// What kind of agent process a [`ProcInfo`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentKind {
    /// Claude Code (the native binary, or node running its `cli.js`).
    Claude,
    /// An interactive Codex TUI (`codex`, `codex resume`, `codex --no-daemon`).
    CodexTui,
    /// `codex exec`: non-interactive, holds its own rollout.
    CodexExec,
    /// `codex app-server` (the managed daemon and its helpers): holds rollouts for the TUIs it serves.
    CodexDaemon,
    /// The npm launcher (`node …/bin/codex`): its `codex` child is the agent.
    CodexLauncher,
    /// Another `codex` subcommand (`login`, `mcp`, ...).
    CodexOther,
    /// Not an agent.
    Other,
}

/// Codex subcommands that are neither a TUI nor `exec`.
const CODEX_OTHER_SUBCOMMANDS: &[&str] = &[
    "login",
    "logout",
    "mcp",
    "mcp-server",
    "completion",
    "apply",
    "a",
    "debug",
    "sandbox",
    "cloud",
    "features",
    "help",
];

fn base_name(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Classifies a process by its `comm`, `exe` and argv.
pub fn classify(p: &ProcInfo) -> AgentKind {
    let exe = p
        .exe
        .as_deref()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let argv0 = p.cmdline.first().map(|a| base_name(a)).unwrap_or("");
    let is_codex_bin = p.comm == "codex" || exe == "codex" || argv0 == "codex";
    let is_claude_bin = p.comm == "claude" || exe == "claude" || argv0 == "claude";
    if matches!(p.comm.as_str(), "node" | "bun" | "MainThread") || matches!(argv0, "node" | "bun") {
        let script = p.cmdline.get(1).map(String::as_str).unwrap_or("");
        if script.contains("claude-code") || base_name(script) == "claude" {
            return AgentKind::Claude;
        }
        if script.contains("@openai/codex") || base_name(script) == "codex" || base_name(script) == "codex.js" {
            return AgentKind::CodexLauncher;
        }
    }
    if is_codex_bin {
        let args: Vec<&str> = p.cmdline.iter().skip(1).map(String::as_str).collect();
        if args.contains(&"app-server") {
            return AgentKind::CodexDaemon;
        }
        return match args.iter().find(|a| !a.starts_with('-')) {
            Some(&"exec") | Some(&"e") => AgentKind::CodexExec,
            Some(sub) if CODEX_OTHER_SUBCOMMANDS.contains(sub) => AgentKind::CodexOther,
            _ => AgentKind::CodexTui,
        };
    }
    if is_claude_bin {
        return AgentKind::Claude;
    }
    AgentKind::Other
}

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
}

impl Verdict {
    fn new(liveness: Liveness, reason: impl Into<String>) -> Self {
        Verdict {
            liveness,
            reason: reason.into(),
            pid: None,
            zellij_session: None,
            zellij_pane: None,
        }
    }

    fn with_proc(mut self, p: &ProcInfo) -> Self {
        self.pid = Some(p.pid);
        self.zellij_session = p.zellij_session.clone();
        self.zellij_pane = p.zellij_pane.clone();
        self
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

/// Decides every session of a pass at once (Codex TUIs are matched to rollouts across sessions). The result is in
/// the order of `sessions`.
pub fn decide_all(sessions: &[SessionJson], ev: &Evidence<'_>) -> Vec<Verdict> {
    let tuis = assign_codex_tuis(sessions, ev);
    sessions.iter().map(|s| decide(s, ev, &tuis)).collect()
}

/// Decides one session; `tuis` is [`assign_codex_tuis`] of the whole pass.
pub fn decide(session: &SessionJson, ev: &Evidence<'_>, tuis: &HashMap<String, u32>) -> Verdict {
    match str_field(session, "agent") {
        Some("claude") => claude_verdict(session, ev),
        Some("codex") => codex_verdict(session, ev, tuis),
        _ => Verdict::new(Liveness::Unknown, "not a claude or codex session"),
    }
}

/// What a Claude pid file says about its process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PidFileState {
    /// The process runs and is Claude.
    Running,
    /// The process is gone, a zombie, reused by another program, or not Claude.
    Gone,
    /// Cannot tell (`/proc` unreadable, another pid namespace).
    Unknown,
}

fn pid_file_state(f: &ClaudePidFile, ev: &Evidence<'_>) -> PidFileState {
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
                && classify(p) == AgentKind::Claude =>
        {
            PidFileState::Running
        }
        _ => PidFileState::Gone,
    }
}

fn describe_gone(f: &ClaudePidFile, ev: &Evidence<'_>) -> String {
    let name = f
        .path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| format!("{}.json", f.pid));
    match ev.proc(f.pid) {
        None => format!(
            "claude pid {} has exited (its sessions/{name} was left behind: killed?)",
            f.pid
        ),
        Some(p) if !p.is_running() => format!("claude pid {} has exited (zombie)", f.pid),
        Some(p) if f.proc_start.is_some_and(|s| s != p.start_ticks) => {
            format!(
                "claude pid {} has exited (the pid now belongs to another process, {})",
                f.pid, p.comm
            )
        }
        Some(p) => format!("pid {} of sessions/{name} is not claude but {}", f.pid, p.comm),
    }
}

fn last_event_time(session: &SessionJson) -> Option<SystemTime> {
    ["last_event_at", "started_at"].iter().find_map(|k| {
        let text = str_field(session, k)?;
        let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
        let ms = u64::try_from(t.timestamp_millis()).ok()?;
        Some(UNIX_EPOCH + Duration::from_millis(ms))
    })
}

fn non_empty<'a>(session: &'a SessionJson, key: &str) -> Option<&'a str> {
    str_field(session, key).filter(|s| !s.is_empty())
}

/// The Claude rules (module doc).
pub fn claude_verdict(session: &SessionJson, ev: &Evidence<'_>) -> Verdict {
    let session_id = str_field(session, "session_id").unwrap_or_default();
    let starting = str_field(session, "status") == Some("starting");
    let files: Vec<&ClaudePidFile> = ev
        .procs
        .claude_files
        .iter()
        .flatten()
        .filter(|f| !session_id.is_empty() && f.session_id == session_id)
        .collect();
    let running = files.iter().find(|f| pid_file_state(f, ev) == PidFileState::Running);
    let gone = files.iter().find(|f| pid_file_state(f, ev) == PidFileState::Gone);

    // 1. The process Claude recorded for this session is gone.
    if let (None, Some(f)) = (running, gone) {
        return Verdict {
            pid: Some(f.pid),
            ..Verdict::new(Liveness::Dead, describe_gone(f, ev))
        };
    }
    // 2. The original's Zellij rules (starting is never dead on Zellij's account), with its truthiness: a value that
    //    is set but not a string (`7`) is recorded, and names no live session (liveness::dead_reason).
    let recorded = session.get("zellij_session").filter(|z| truthy(Some(z)));
    let zellij_session = recorded.and_then(|z| z.as_str());
    if !starting {
        let Some(z) = recorded else {
            return Verdict::new(Liveness::Dead, "no zellij session recorded");
        };
        if ev
            .zellij_live
            .is_some_and(|live| zellij_session.is_none_or(|zs| !live.contains(zs)))
        {
            return Verdict::new(
                Liveness::Dead,
                format!("zellij session '{}' is not running", crate::model::string_form(z)),
            );
        }
    }
    // 3. Claude's own record: the process runs.
    if let Some((f, p)) = running.and_then(|f| ev.proc(f.pid).map(|p| (f, p))) {
        return Verdict::new(
            Liveness::Alive,
            format!("claude pid {} runs (sessions/{}.json names this session)", f.pid, f.pid),
        )
        .with_proc(p);
    }
    // 4. The process table alone.
    let (Some(zs), Some(_)) = (zellij_session, ev.procs.procs.as_ref()) else {
        return Verdict::new(Liveness::Unknown, "no process evidence");
    };
    let pane = non_empty(session, "zellij_pane");
    let in_pane: Vec<&ProcInfo> = ev
        .running()
        .filter(|p| classify(p) == AgentKind::Claude)
        .filter(|p| p.zellij_session.as_deref() == Some(zs) && (pane.is_none() || p.zellij_pane.as_deref() == pane))
        .collect();
    let where_ = match pane {
        Some(pane) => format!("zellij pane {zs}:{pane}"),
        None => format!("zellij session {zs}"),
    };
    if let Some(p) = in_pane.first() {
        let other =
            ev.procs.claude_files.iter().flatten().find(|f| {
                f.pid == p.pid && f.session_id != session_id && pid_file_state(f, ev) == PidFileState::Running
            });
        return match other {
            // With a pane recorded, the pane's claude runs another session now; without one, a session may hold
            // several claudes, so this says nothing.
            Some(f) if pane.is_some() => Verdict::new(
                Liveness::Dead,
                format!("{where_} now runs claude session {} (pid {})", f.session_id, f.pid),
            )
            .with_proc(p),
            Some(_) => Verdict::new(
                Liveness::Unknown,
                format!("the claude processes in {where_} run other sessions"),
            ),
            None => Verdict::new(Liveness::Alive, format!("claude pid {} runs in {where_}", p.pid)).with_proc(p),
        };
    }
    if pane.is_none() {
        return Verdict::new(Liveness::Unknown, "no zellij pane recorded and no claude pid file");
    }
    // After SessionEnd the process said it is going: no grace (it is for processes that may not be visible yet).
    let ended = str_field(session, "last_event") == Some("SessionEnd");
    let recent =
        !ended && last_event_time(session).is_none_or(|t| ev.now.duration_since(t).unwrap_or_default() < START_GRACE);
    if recent {
        return Verdict::new(
            Liveness::Unknown,
            format!("no claude process in {where_} yet (just started)"),
        );
    }
    if !in_pane_env_readable(ev) {
        return Verdict::new(
            Liveness::Unknown,
            "the environments of the claude processes cannot be read",
        );
    }
    // "No claude in this pane" is evidence only when this Zellij session's processes are visible at all (a live
    // session always has at least a shell per pane); otherwise amc may not see that Zellij's processes (another PID
    // namespace, another host), and the original's Zellij rule stands.
    if !ev.running().any(|p| p.zellij_session.as_deref() == Some(zs)) {
        return Verdict::new(
            Liveness::Unknown,
            format!("no process of zellij session {zs} is visible"),
        );
    }
    Verdict::new(Liveness::Dead, format!("no claude process runs in {where_}"))
}

/// Whether every running Claude process's environment could be read (otherwise "no process in this pane" is not
/// evidence: the one we could not read may be it).
fn in_pane_env_readable(ev: &Evidence<'_>) -> bool {
    ev.running()
        .filter(|p| classify(p) == AgentKind::Claude)
        .all(|p| p.environ_read)
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || (a
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("rollout-"))
            && a.file_name() == b.file_name())
}

fn holders<'a>(ev: &'a Evidence<'_>, rollout: &'a Path) -> impl Iterator<Item = &'a ProcInfo> + 'a {
    ev.running()
        .filter(move |p| p.open_jsonl.iter().any(|f| same_file(f, rollout)))
}

/// Returns the creation time of a UUIDv7 id (its first 48 bits are milliseconds since the epoch), e.g. a Codex
/// thread id `019c8a4d-8f45-7010-…`; `None` for any other id.
pub fn uuid_v7_time(id: &str) -> Option<SystemTime> {
    let hex: String = id.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32 || hex.as_bytes().get(12) != Some(&b'7') {
        return None;
    }
    let ms = u64::from_str_radix(hex.get(..12)?, 16).ok()?;
    Some(UNIX_EPOCH + Duration::from_millis(ms))
}

/// Codex sessions whose rollout only a daemon holds, matched to running Codex TUIs (session id → TUI pid).
///
/// A TUI holds no per-thread file in daemon mode, so the link is circumstantial: same cwd, and the TUI started no
/// later than the thread was created (+[`THREAD_START_TOLERANCE`]). Threads are taken oldest first, each getting the
/// earliest-started TUI not yet taken; TUIs that hold a rollout themselves (`--no-daemon`) are not candidates.
/// Threads left over are then paired with TUIs left over in the same cwd, newest with newest (`codex resume` of an
/// old thread starts a TUI long after the thread's creation). If TUIs of one cwd start in overlapping windows and one
/// of them quits, the pairing can be wrong for up to the daemon's ~60 s hold; docs/real-agents.md says more.
pub fn assign_codex_tuis(sessions: &[SessionJson], ev: &Evidence<'_>) -> HashMap<String, u32> {
    let mut assigned = HashMap::new();
    if ev.procs.procs.is_none() {
        return assigned;
    }
    let direct: HashSet<u32> = ev
        .running()
        .filter(|p| !p.open_jsonl.is_empty())
        .map(|p| p.pid)
        .collect();
    let mut free: Vec<&ProcInfo> = ev
        .running()
        .filter(|p| classify(p) == AgentKind::CodexTui && !direct.contains(&p.pid))
        .collect();
    free.sort_by_key(|p| (p.started_at, p.pid));
    struct Thread<'a> {
        id: &'a str,
        cwd: Option<&'a str>,
        created: Option<SystemTime>,
    }
    let mut threads: Vec<Thread<'_>> = sessions
        .iter()
        .filter(|s| str_field(s, "agent") == Some("codex"))
        .filter_map(|s| {
            let id = non_empty(s, "session_id")?;
            let rollout = Path::new(non_empty(s, "transcript_path")?);
            let mut hs = holders(ev, rollout).peekable();
            hs.peek()?;
            let only_daemon = hs.all(|p| classify(p) == AgentKind::CodexDaemon);
            only_daemon.then(|| Thread {
                id,
                cwd: non_empty(s, "cwd").or_else(|| non_empty(s, "project_dir")),
                created: uuid_v7_time(id),
            })
        })
        .collect();
    threads.sort_by_key(|t| (t.created, t.id));
    let same_cwd = |p: &ProcInfo, cwd: Option<&str>| match (cwd, &p.cwd) {
        (Some(c), Some(pc)) => Path::new(c) == pc.as_path(),
        _ => true,
    };
    let mut left = Vec::new();
    for t in &threads {
        let pick = free.iter().position(|p| {
            same_cwd(p, t.cwd)
                && match (p.started_at, t.created) {
                    (Some(s), Some(c)) => s <= c + THREAD_START_TOLERANCE,
                    _ => false,
                }
        });
        match pick {
            Some(i) => {
                assigned.insert(t.id.to_owned(), free.remove(i).pid);
            }
            None => left.push(t),
        }
    }
    // Left-over threads (resumed ones), newest first, with left-over TUIs, newest first.
    for t in left.iter().rev() {
        if let Some(i) = free
            .iter()
            .rposition(|p| same_cwd(p, t.cwd) && p.cwd.is_some() && t.cwd.is_some())
        {
            assigned.insert(t.id.to_owned(), free.remove(i).pid);
        }
    }
    assigned
}

/// The Codex rules (module doc).
///
/// A `starting` session is never dead by the original's own Codex rules (no `transcript_path`, nobody holds the
/// rollout): the original exempts `starting` from them, so those verdicts are unknown and its answer stands. Only the
/// new evidence (the daemon alone holds the rollout, no TUI is left) still declares it dead.
pub fn codex_verdict(session: &SessionJson, ev: &Evidence<'_>, tuis: &HashMap<String, u32>) -> Verdict {
    let verdict = codex_process_verdict(session, ev, tuis);
    // The verdicts of the original's rules rest on no process.
    let by_original_rule = verdict.pid.is_none();
    if verdict.liveness == Liveness::Dead && by_original_rule && str_field(session, "status") == Some("starting") {
        return Verdict::new(
            Liveness::Unknown,
            format!("starting: not dead by the original's rule ({})", verdict.reason),
        );
    }
    verdict
}

fn codex_process_verdict(session: &SessionJson, ev: &Evidence<'_>, tuis: &HashMap<String, u32>) -> Verdict {
    let Some(rollout) = non_empty(session, "transcript_path").map(Path::new) else {
        return Verdict::new(Liveness::Dead, "no transcript_path recorded");
    };
    if ev.procs.procs.is_none() {
        return Verdict::new(Liveness::Unknown, "the process table cannot be read");
    }
    let hs: Vec<&ProcInfo> = holders(ev, rollout).collect();
    if let Some(p) = hs
        .iter()
        .find(|p| matches!(classify(p), AgentKind::CodexTui | AgentKind::CodexExec))
    {
        let what = if classify(p) == AgentKind::CodexExec {
            "codex exec"
        } else {
            "codex"
        };
        return Verdict::new(Liveness::Alive, format!("{what} pid {} holds the rollout", p.pid)).with_proc(p);
    }
    let session_id = str_field(session, "session_id").unwrap_or_default();
    if let Some(p) = tuis.get(session_id).and_then(|pid| ev.proc(*pid)) {
        return Verdict::new(
            Liveness::Alive,
            format!(
                "codex TUI pid {} (same cwd, started before the thread) is served by the app-server daemon",
                p.pid
            ),
        )
        .with_proc(p);
    }
    if let Some(d) = hs.iter().find(|p| classify(p) == AgentKind::CodexDaemon) {
        let originator = str_field(session, "originator").unwrap_or("");
        let tui_made = originator.is_empty() || originator.contains("tui") || originator.contains("cli");
        if !tui_made {
            return Verdict {
                pid: Some(d.pid),
                ..Verdict::new(
                    Liveness::Alive,
                    format!(
                        "the app-server daemon (pid {}) holds the rollout of this {originator} thread",
                        d.pid
                    ),
                )
            };
        }
        return Verdict {
            pid: Some(d.pid),
            ..Verdict::new(
                Liveness::Dead,
                format!("no codex TUI is left for this thread (only the app-server daemon, pid {}, still holds the rollout)", d.pid),
            )
        };
    }
    Verdict::new(Liveness::Dead, "no codex process has the rollout open")
}

/// A status correction from Claude Code's own record of its process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusHint {
    /// The status the session should have.
    pub status: &'static str,
    /// Whether `pending_questions` should be emptied (the dialog is gone).
    pub clear_questions: bool,
    /// Why, in words.
    pub reason: String,
}

/// Corrects a Claude session's status from its pid file's `status`, when a turn ended (or blocked) without the hook
/// that would have said so:
/// - `idle` since after the last hook event, while amc says `active` or `needs_attention` and the last event is not
///   `Stop` → `done` (Esc interrupt, an API error, a declined dialog: no Stop hook fires), questions cleared;
/// - `waiting` since after the last hook event while amc says `active` → `needs_attention` (a dialog opened before
///   its Notification, which comes ~6 s later).
///
/// Only a running process's file counts, and only once its status has stood for [`STATUS_SETTLE`].
pub fn claude_status_hint(session: &SessionJson, ev: &Evidence<'_>) -> Option<StatusHint> {
    if str_field(session, "agent") != Some("claude") {
        return None;
    }
    let status = str_field(session, "status")?;
    if !matches!(status, "active" | "needs_attention") {
        return None;
    }
    let last_event = str_field(session, "last_event").unwrap_or("");
    if matches!(last_event, "Stop" | "SessionStart" | "SessionEnd") {
        return None;
    }
    let last = last_event_time(session)?;
    let session_id = str_field(session, "session_id")?;
    let f = ev
        .procs
        .claude_files
        .iter()
        .flatten()
        .filter(|f| f.session_id == session_id && pid_file_state(f, ev) == PidFileState::Running)
        .max_by_key(|f| f.status_updated_at_ms)?;
    let changed = UNIX_EPOCH + Duration::from_millis(f.status_updated_at_ms?);
    if changed <= last || ev.now < changed + STATUS_SETTLE {
        return None;
    }
    let when = chrono::DateTime::<chrono::Utc>::from(changed).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    match f.status.as_deref()? {
        "idle" => Some(StatusHint {
            status: "done",
            clear_questions: true,
            reason: format!("claude pid {} reports idle since {when}, after the last hook ({last_event}): the turn ended without a Stop hook", f.pid),
        }),
        "waiting" if status == "active" => Some(StatusHint {
            status: "needs_attention",
            clear_questions: false,
            reason: format!(
                "claude pid {} reports waiting ({}) since {when}",
                f.pid,
                f.waiting_for.as_deref().unwrap_or("input")
            ),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use std::{collections::BTreeMap, path::PathBuf};

    const NS: &str = "pid:[4026531836]";
    const T0: u64 = 1_795_584_000; // seconds

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn s(v: Value) -> SessionJson {
        v.as_object().cloned().unwrap_or_default()
    }

    fn proc_(pid: u32, comm: &str, argv: &[&str], pane: Option<(&str, &str)>) -> ProcInfo {
        ProcInfo {
            pid,
            ppid: 1,
            state: 'S',
            start_ticks: u64::from(pid) * 10,
            started_at: Some(at(T0)),
            tty_nr: 34816,
            comm: comm.into(),
            exe: Some(PathBuf::from(format!("/bin/{comm}"))),
            cmdline: argv.iter().map(|a| a.to_string()).collect(),
            cwd: Some(PathBuf::from("/work/p")),
            zellij_session: pane.map(|p| p.0.to_owned()),
            zellij_pane: pane.map(|p| p.1.to_owned()),
            environ_read: true,
            open_jsonl: Vec::new(),
        }
    }

    fn pid_file(pid: u32, session: &str, proc_start: Option<u64>, status: &str, status_ms: u64) -> ClaudePidFile {
        ClaudePidFile {
            path: PathBuf::from(format!("/c/sessions/{pid}.json")),
            pid,
            session_id: session.into(),
            status: Some(status.into()),
            status_updated_at_ms: Some(status_ms),
            proc_start,
            pid_namespace: Some(NS.into()),
            ..ClaudePidFile::default()
        }
    }

    fn scan(procs: Vec<ProcInfo>, files: Vec<ClaudePidFile>) -> AgentProcs {
        AgentProcs {
            procs: Some(procs.into_iter().map(|p| (p.pid, p)).collect::<BTreeMap<_, _>>()),
            claude_files: Some(files),
            own_pid_namespace: Some(NS.into()),
            scanned_at: None,
        }
    }

    fn evid<'a>(procs: &'a AgentProcs, zellij_live: Option<&'a HashSet<String>>, now: SystemTime) -> Evidence<'a> {
        Evidence {
            procs,
            zellij_live,
            now,
        }
    }

    fn live(names: &[&str]) -> HashSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn claude_session(status: &str, last_event: &str) -> SessionJson {
        s(
            json!({"session_id": "s1", "agent": "claude", "status": status, "zellij_session": "main", "zellij_pane": "3",
                 "last_event": last_event, "last_event_at": "2026-11-25T05:20:00.000000Z"}),
        )
    }

    fn now() -> SystemTime {
        // 2026-11-25T05:20:00Z = 1795584000; a minute later.
        at(T0 + 60)
    }

    #[test]
    fn classifies_agent_processes() {
        assert_eq!(classify(&proc_(1, "claude", &["/x/claude"], None)), AgentKind::Claude);
        assert_eq!(
            classify(&proc_(
                1,
                "node",
                &["node", "/x/@anthropic-ai/claude-code/cli.js"],
                None
            )),
            AgentKind::Claude
        );
        assert_eq!(classify(&proc_(1, "codex", &["/x/codex"], None)), AgentKind::CodexTui);
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "--no-daemon"], None)),
            AgentKind::CodexTui
        );
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "resume", "019c"], None)),
            AgentKind::CodexTui
        );
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "exec", "hi"], None)),
            AgentKind::CodexExec
        );
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "-m", "exec"], None)),
            AgentKind::CodexExec,
            "first positional"
        );
        assert_eq!(
            classify(&proc_(
                1,
                "codex",
                &[
                    "/h/.codex/packages/app-server-daemon/releases/0.169.0/bin/codex",
                    "app-server",
                    "--listen",
                    "unix://",
                    "--managed-daemon"
                ],
                None
            )),
            AgentKind::CodexDaemon
        );
        assert_eq!(
            classify(&proc_(
                1,
                "codex",
                &["/x/codex", "app-server", "daemon", "pid-update-loop"],
                None
            )),
            AgentKind::CodexDaemon
        );
        assert_eq!(
            classify(&proc_(
                1,
                "node",
                &["node", "/x/node_modules/.bin/codex", "--no-daemon"],
                None
            )),
            AgentKind::CodexLauncher
        );
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "login", "--with-api-key"], None)),
            AgentKind::CodexOther
        );
        assert_eq!(classify(&proc_(1, "bash", &["bash"], None)), AgentKind::Other);
        assert_eq!(
            classify(&proc_(1, "node", &["node", "server.js"], None)),
            AgentKind::Other
        );
    }

    #[test]
    fn uuid_v7_times() {
        // 0x01a2112a7437 ms = 2026-11-25T05:25:24.663Z, the thread of a real 0.169.0 rollout named T05-25-24.
        let t = uuid_v7_time("01a2112a-7437-7f70-aa77-3487a780c4d3").expect("v7");
        assert_eq!(
            t.duration_since(UNIX_EPOCH).expect("after epoch").as_millis(),
            0x01a2_112a_7437
        );
        assert_eq!(uuid_v7_time("9fd6d571-f4e3-409f-9182-72de8495d0e5"), None, "v4");
        assert_eq!(uuid_v7_time("nope"), None);
    }

    // ---- Claude --------------------------------------------------------------------------------------------------

    #[test]
    fn claude_alive_by_its_pid_file_and_process() {
        let p = proc_(100, "claude", &["/x/claude"], Some(("main", "3")));
        let ap = scan(vec![p], vec![pid_file(100, "s1", Some(1000), "idle", 0)]);
        let l = live(&["main"]);
        let v = claude_verdict(&claude_session("done", "Stop"), &evid(&ap, Some(&l), now()));
        assert_eq!(v.liveness, Liveness::Alive, "{v:?}");
        assert_eq!(v.pid, Some(100));
        assert_eq!(v.zellij_pane.as_deref(), Some("3"));
    }

    #[test]
    fn claude_killed_is_dead_while_its_zellij_session_lives() {
        // SIGKILL: no SessionEnd, the pid file stays, the pid is gone.
        let ap = scan(vec![], vec![pid_file(100, "s1", Some(1000), "busy", 0)]);
        let l = live(&["main"]);
        let v = claude_verdict(
            &claude_session("active", "UserPromptSubmit"),
            &evid(&ap, Some(&l), now()),
        );
        assert_eq!(v.liveness, Liveness::Dead, "{v:?}");
        assert!(v.reason.contains("has exited"), "{}", v.reason);
        // Also when it was still `starting`.
        let v = claude_verdict(&claude_session("starting", "SessionStart"), &evid(&ap, Some(&l), now()));
        assert!(v.is_dead());
    }

    #[test]
    fn claude_zombie_or_reused_pid_is_dead() {
        let mut z = proc_(100, "claude", &["/x/claude"], Some(("main", "3")));
        z.state = 'Z';
        let ap = scan(vec![z], vec![pid_file(100, "s1", Some(1000), "idle", 0)]);
        let ev = evid(&ap, None, now());
        assert!(claude_verdict(&claude_session("done", "Stop"), &ev)
            .reason
            .contains("zombie"));
        // Same pid, another start time: reused (even by another claude).
        let ap = scan(
            vec![proc_(100, "claude", &["/x/claude"], Some(("main", "3")))],
            vec![pid_file(100, "s1", Some(7), "idle", 0)],
        );
        let v = claude_verdict(&claude_session("done", "Stop"), &evid(&ap, None, now()));
        assert!(v.is_dead() && v.reason.contains("another process"), "{v:?}");
        let ap = scan(
            vec![proc_(100, "vim", &["vim"], None)],
            vec![pid_file(100, "s1", None, "idle", 0)],
        );
        let v = claude_verdict(&claude_session("done", "Stop"), &evid(&ap, None, now()));
        assert!(v.is_dead() && v.reason.contains("not claude"), "{v:?}");
    }

    #[test]
    fn claude_original_zellij_rules_still_apply() {
        let p = proc_(100, "claude", &["/x/claude"], Some(("main", "3")));
        let ap = scan(vec![p], vec![pid_file(100, "s1", Some(1000), "idle", 0)]);
        let l = live(&["other"]);
        let v = claude_verdict(&claude_session("done", "Stop"), &evid(&ap, Some(&l), now()));
        assert_eq!(v.reason, "zellij session 'main' is not running");
        let mut no_zellij = claude_session("done", "Stop");
        no_zellij.remove("zellij_session");
        let v = claude_verdict(&no_zellij, &evid(&ap, Some(&l), now()));
        assert_eq!(v.reason, "no zellij session recorded");
        // starting: never dead on Zellij's account.
        let v = claude_verdict(&claude_session("starting", "SessionStart"), &evid(&ap, Some(&l), now()));
        assert!(!v.is_dead(), "{v:?}");
    }

    #[test]
    fn claude_other_namespace_or_unreadable_proc_is_unknown() {
        let mut f = pid_file(100, "s1", Some(1000), "idle", 0);
        f.pid_namespace = Some("pid:[1]".into());
        let ap = scan(vec![], vec![f]);
        let l = live(&["main"]);
        let v = claude_verdict(&claude_session("done", "Stop"), &evid(&ap, Some(&l), now()));
        // No verdict from the foreign pid; the process table has no claude in pane 3 → dead by absence.
        assert!(!v.reason.contains("has exited"), "{v:?}");
        let unreadable = AgentProcs {
            procs: None,
            claude_files: None,
            own_pid_namespace: None,
            scanned_at: None,
        };
        let v = claude_verdict(&claude_session("done", "Stop"), &evid(&unreadable, Some(&l), now()));
        assert_eq!(v.liveness, Liveness::Unknown);
        let v = claude_verdict(&claude_session("done", "Stop"), &evid(&unreadable, None, now()));
        assert_eq!(v.liveness, Liveness::Unknown);
    }

    #[test]
    fn claude_without_pid_file_uses_the_pane_environment() {
        let l = live(&["main"]);
        let s1 = claude_session("done", "Stop");
        // A claude in pane 3, no pid file (older Claude Code): alive.
        let ap = scan(vec![proc_(100, "claude", &["/x/claude"], Some(("main", "3")))], vec![]);
        let v = claude_verdict(&s1, &evid(&ap, Some(&l), now()));
        assert_eq!((v.liveness, v.pid), (Liveness::Alive, Some(100)), "{v:?}");
        // Its pid file says it runs another session now: this one is over.
        let ap = scan(
            vec![proc_(100, "claude", &["/x/claude"], Some(("main", "3")))],
            vec![pid_file(100, "s2", Some(1000), "idle", 0)],
        );
        let v = claude_verdict(&s1, &evid(&ap, Some(&l), now()));
        assert!(v.is_dead() && v.reason.contains("now runs claude session s2"), "{v:?}");
        // No claude in that pane (one in pane 4): dead, once the start grace has passed.
        let ap = scan(vec![proc_(100, "claude", &["/x/claude"], Some(("main", "4")))], vec![]);
        let v = claude_verdict(&s1, &evid(&ap, Some(&l), now()));
        assert_eq!(v.reason, "no claude process runs in zellij pane main:3");
        let v = claude_verdict(&s1, &evid(&ap, Some(&l), at(T0 + 2)));
        assert_eq!(v.liveness, Liveness::Unknown, "within the grace: {v:?}");
        // A session that ended (SessionEnd kept its file, e.g. reason "other" after SIGHUP) needs no grace.
        let ended = claude_session("done", "SessionEnd");
        let v = claude_verdict(&ended, &evid(&ap, Some(&l), at(T0 + 1)));
        assert!(v.is_dead(), "{v:?}");
        // An unreadable environment makes absence no evidence.
        let mut hidden = proc_(100, "claude", &["/x/claude"], None);
        hidden.environ_read = false;
        let ap = scan(vec![hidden], vec![]);
        assert_eq!(
            claude_verdict(&s1, &evid(&ap, Some(&l), now())).liveness,
            Liveness::Unknown
        );
        // No pane recorded: nothing to look for.
        let mut no_pane = s1.clone();
        no_pane.remove("zellij_pane");
        let ap = scan(vec![], vec![]);
        assert_eq!(
            claude_verdict(&no_pane, &evid(&ap, Some(&l), now())).liveness,
            Liveness::Unknown
        );
    }

    // ---- Claude status hint --------------------------------------------------------------------------------------

    #[test]
    fn idle_after_the_last_hook_means_done() {
        let ms = (T0 + 3) * 1000; // 3 s after last_event_at
        let ap = scan(
            vec![proc_(100, "claude", &["/x/claude"], Some(("main", "3")))],
            vec![pid_file(100, "s1", Some(1000), "idle", ms)],
        );
        let ev = evid(&ap, None, now());
        // API error after UserPromptSubmit: no Stop.
        let hint = claude_status_hint(&claude_session("active", "UserPromptSubmit"), &ev).expect("hint");
        assert_eq!((hint.status, hint.clear_questions), ("done", true));
        // Esc on an AskUserQuestion dialog: no PostToolUse, no Stop.
        assert_eq!(
            claude_status_hint(&claude_session("needs_attention", "PreToolUse"), &ev).map(|h| h.status),
            Some("done")
        );
        // A Stop hook is authoritative (a prose question stays needs_attention); done and starting are left alone.
        assert_eq!(
            claude_status_hint(&claude_session("needs_attention", "Stop"), &ev),
            None
        );
        assert_eq!(claude_status_hint(&claude_session("done", "Notification"), &ev), None);
        assert_eq!(
            claude_status_hint(&claude_session("starting", "SessionStart"), &ev),
            None
        );
        // Not settled yet.
        let ev = evid(&ap, None, at(T0 + 3));
        assert_eq!(
            claude_status_hint(&claude_session("active", "UserPromptSubmit"), &ev),
            None
        );
    }

    #[test]
    fn idle_from_before_the_last_hook_is_not_evidence() {
        let ms = T0 * 1000 - 5_000;
        let ap = scan(
            vec![proc_(100, "claude", &["/x/claude"], Some(("main", "3")))],
            vec![pid_file(100, "s1", Some(1000), "idle", ms)],
        );
        let ev = evid(&ap, None, now());
        assert_eq!(
            claude_status_hint(&claude_session("active", "UserPromptSubmit"), &ev),
            None
        );
        // And a dead process's file never counts.
        let ap = scan(vec![], vec![pid_file(100, "s1", Some(1000), "idle", (T0 + 3) * 1000)]);
        let ev = evid(&ap, None, now());
        assert_eq!(
            claude_status_hint(&claude_session("active", "UserPromptSubmit"), &ev),
            None
        );
    }

    #[test]
    fn waiting_while_active_means_needs_attention() {
        let ap = scan(
            vec![proc_(100, "claude", &["/x/claude"], Some(("main", "3")))],
            vec![{
                let mut f = pid_file(100, "s1", Some(1000), "waiting", (T0 + 1) * 1000);
                f.waiting_for = Some("input needed".into());
                f
            }],
        );
        let ev = evid(&ap, None, now());
        let hint = claude_status_hint(&claude_session("active", "UserPromptSubmit"), &ev).expect("hint");
        assert_eq!((hint.status, hint.clear_questions), ("needs_attention", false));
        assert!(hint.reason.contains("input needed"));
        assert_eq!(
            claude_status_hint(&claude_session("needs_attention", "PreToolUse"), &ev),
            None
        );
    }

    // ---- Codex ---------------------------------------------------------------------------------------------------

    const ROLL_A: &str =
        "/h/.codex/sessions/2026/11/25/rollout-2026-11-25T05-25-24-01a2112a-7437-7f70-aa77-3487a780c4d3.jsonl";
    const ROLL_B: &str =
        "/h/.codex/sessions/2026/11/25/rollout-2026-11-25T05-26-00-01a2112b-0000-7000-8000-000000000000.jsonl";
    const ID_A: &str = "01a2112a-7437-7f70-aa77-3487a780c4d3"; // created T_A
    const ID_B: &str = "01a2112b-0000-7000-8000-000000000000"; // created a little later

    fn created(id: &str) -> SystemTime {
        uuid_v7_time(id).expect("v7")
    }

    fn codex_session(id: &str, rollout: &str) -> SessionJson {
        s(json!({"session_id": id, "agent": "codex", "status": "done", "transcript_path": rollout, "cwd": "/work/p"}))
    }

    fn tui(pid: u32, pane: &str, started: SystemTime) -> ProcInfo {
        let mut p = proc_(pid, "codex", &["/x/codex"], Some(("main", pane)));
        p.started_at = Some(started);
        p
    }

    fn daemon(pid: u32, holds: &[&str], env_pane: &str) -> ProcInfo {
        let mut p = proc_(
            pid,
            "codex",
            &[
                "/h/.codex/packages/app-server-daemon/releases/0.169.0/bin/codex",
                "app-server",
                "--managed-daemon",
            ],
            Some(("main", env_pane)),
        );
        p.tty_nr = 0;
        p.open_jsonl = holds.iter().map(PathBuf::from).collect();
        p
    }

    #[test]
    fn codex_no_daemon_tui_holding_its_rollout_is_alive_in_its_pane() {
        let mut p = proc_(200, "codex", &["/x/codex", "--no-daemon"], Some(("main", "4")));
        p.open_jsonl = vec![PathBuf::from(ROLL_A)];
        let launcher = proc_(
            199,
            "node",
            &["node", "/x/.bin/codex", "--no-daemon"],
            Some(("main", "4")),
        );
        let ap = scan(vec![launcher, p], vec![]);
        let sessions = vec![codex_session(ID_A, ROLL_A)];
        let v = decide_all(&sessions, &evid(&ap, None, now()));
        assert_eq!(
            (v[0].liveness, v[0].pid, v[0].zellij_pane.as_deref()),
            (Liveness::Alive, Some(200), Some("4")),
            "{v:?}"
        );
    }

    #[test]
    fn codex_exec_is_alive_while_it_runs() {
        let mut p = proc_(300, "codex", &["/x/codex", "exec", "do it"], None);
        p.tty_nr = 0;
        p.open_jsonl = vec![PathBuf::from(ROLL_A)];
        let ap = scan(vec![p], vec![]);
        let v = decide_all(&[codex_session(ID_A, ROLL_A)], &evid(&ap, None, now()));
        assert!(v[0].reason.starts_with("codex exec pid 300"), "{v:?}");
    }

    #[test]
    fn two_tuis_sharing_one_daemon_get_their_own_panes() {
        // The daemon's environment is the first TUI's (pane 1): never use it.
        let ap = scan(
            vec![
                tui(201, "1", created(ID_A) - Duration::from_secs(4)),
                tui(202, "2", created(ID_B) - Duration::from_secs(3)),
                daemon(250, &[ROLL_A, ROLL_B], "1"),
            ],
            vec![],
        );
        let sessions = vec![codex_session(ID_A, ROLL_A), codex_session(ID_B, ROLL_B)];
        let v = decide_all(&sessions, &evid(&ap, None, now()));
        assert_eq!(
            (v[0].liveness, v[0].pid, v[0].zellij_pane.as_deref()),
            (Liveness::Alive, Some(201), Some("1")),
            "{v:?}"
        );
        assert_eq!(
            (v[1].liveness, v[1].pid, v[1].zellij_pane.as_deref()),
            (Liveness::Alive, Some(202), Some("2")),
            "{v:?}"
        );
    }

    #[test]
    fn overlapping_starts_still_pair_in_order() {
        // Both TUIs started before either thread was created.
        let t = created(ID_A) - Duration::from_secs(10);
        let ap = scan(
            vec![
                tui(202, "2", t + Duration::from_secs(1)),
                tui(201, "1", t),
                daemon(250, &[ROLL_A, ROLL_B], "1"),
            ],
            vec![],
        );
        let sessions = vec![codex_session(ID_B, ROLL_B), codex_session(ID_A, ROLL_A)];
        let tuis = assign_codex_tuis(&sessions, &evid(&ap, None, now()));
        assert_eq!(tuis.get(ID_A), Some(&201));
        assert_eq!(tuis.get(ID_B), Some(&202));
    }

    #[test]
    fn quit_tui_is_dead_although_the_daemon_holds_its_rollout() {
        // TUI of thread A quit; B's TUI started after A's thread: A has no TUI left.
        let ap = scan(
            vec![
                tui(202, "2", created(ID_B) - Duration::from_secs(3)),
                daemon(250, &[ROLL_A, ROLL_B], "1"),
            ],
            vec![],
        );
        let sessions = vec![codex_session(ID_A, ROLL_A), codex_session(ID_B, ROLL_B)];
        let v = decide_all(&sessions, &evid(&ap, None, now()));
        assert!(
            v[0].is_dead() && v[0].reason.contains("only the app-server daemon"),
            "{v:?}"
        );
        assert_eq!(
            (v[1].liveness, v[1].zellij_pane.as_deref()),
            (Liveness::Alive, Some("2"))
        );
        // A desktop/IDE thread has no TUI by nature: the daemon is its evidence.
        let mut desktop = codex_session(ID_A, ROLL_A);
        desktop.insert("originator".into(), json!("Codex Desktop"));
        let v = decide_all(&[desktop], &evid(&ap, None, now()));
        assert_eq!(v[0].liveness, Liveness::Alive);
    }

    #[test]
    fn resumed_thread_pairs_with_the_left_over_tui() {
        // `codex resume` of an old thread: the TUI started long after the thread's creation.
        let ap = scan(
            vec![
                tui(203, "5", created(ID_A) + Duration::from_secs(3600)),
                daemon(250, &[ROLL_A], "1"),
            ],
            vec![],
        );
        let v = decide_all(&[codex_session(ID_A, ROLL_A)], &evid(&ap, None, now()));
        assert_eq!((v[0].liveness, v[0].pid), (Liveness::Alive, Some(203)), "{v:?}");
        // ... but not with a TUI in another directory.
        let mut elsewhere = tui(203, "5", created(ID_A) + Duration::from_secs(3600));
        elsewhere.cwd = Some(PathBuf::from("/elsewhere"));
        let ap = scan(vec![elsewhere, daemon(250, &[ROLL_A], "1")], vec![]);
        let v = decide_all(&[codex_session(ID_A, ROLL_A)], &evid(&ap, None, now()));
        assert!(v[0].is_dead(), "{v:?}");
    }

    #[test]
    fn codex_original_rules() {
        let ap = scan(vec![], vec![]);
        let ev = evid(&ap, None, now());
        let v = decide_all(&[codex_session(ID_A, ROLL_A)], &ev);
        assert_eq!(v[0].reason, "no codex process has the rollout open");
        let mut no_path = codex_session(ID_A, "");
        no_path.remove("transcript_path");
        assert_eq!(decide_all(&[no_path], &ev)[0].reason, "no transcript_path recorded");
        // `tail -f` on the rollout is not an agent.
        let mut tail = proc_(400, "tail", &["tail", "-f", ROLL_A], None);
        tail.open_jsonl = vec![PathBuf::from(ROLL_A)];
        let ap = scan(vec![tail], vec![]);
        assert!(decide_all(&[codex_session(ID_A, ROLL_A)], &evid(&ap, None, now()))[0].is_dead());
        // Unreadable /proc: unknown (never dead on a missing fact).
        let unreadable = AgentProcs::default();
        let v = decide_all(&[codex_session(ID_A, ROLL_A)], &evid(&unreadable, None, now()));
        assert_eq!(v[0].liveness, Liveness::Unknown);
    }

    #[test]
    fn codex_starting_is_not_dead_by_the_original_rules_but_is_by_process_evidence() {
        let ap = scan(vec![], vec![]);
        let ev = evid(&ap, None, now());
        let mut starting = codex_session(ID_A, ROLL_A);
        starting.insert("status".into(), json!("starting"));
        assert_eq!(decide_all(&[starting.clone()], &ev)[0].liveness, Liveness::Unknown);
        let mut no_path = starting.clone();
        no_path.remove("transcript_path");
        assert_eq!(decide_all(&[no_path], &ev)[0].liveness, Liveness::Unknown);
        // Only the daemon holds it and no TUI is left: dead, starting or not.
        let ap = scan(vec![daemon(250, &[ROLL_A], "1")], vec![]);
        let v = decide_all(&[starting], &evid(&ap, None, now()));
        assert!(
            v[0].is_dead() && v[0].reason.contains("only the app-server daemon"),
            "{v:?}"
        );
    }

    #[test]
    fn claude_non_string_zellij_session_follows_the_original() {
        let ap = scan(vec![], vec![]);
        let mut numeric = claude_session("done", "Stop");
        numeric.insert("zellij_session".into(), json!(7));
        // Unknown Zellij list: the original keeps it alive (a set value, not "no zellij session").
        let v = claude_verdict(&numeric, &evid(&ap, None, now()));
        assert_eq!(v.liveness, Liveness::Unknown, "{v:?}");
        // Known list: a number names no live session, even "7".
        let l = live(&["7"]);
        let v = claude_verdict(&numeric, &evid(&ap, Some(&l), now()));
        assert_eq!(
            (v.liveness, v.reason.as_str()),
            (Liveness::Dead, "zellij session '7' is not running")
        );
        // Falsy values are not recorded.
        for falsy in [json!(0), json!(""), json!(null), json!(false)] {
            numeric.insert("zellij_session".into(), falsy);
            let v = claude_verdict(&numeric, &evid(&ap, None, now()));
            assert_eq!(v.reason, "no zellij session recorded");
        }
    }

    #[test]
    fn a_rollout_path_through_a_symlinked_dir_still_matches() {
        let mut p = proc_(200, "codex", &["/x/codex", "--no-daemon"], Some(("main", "4")));
        p.open_jsonl = vec![PathBuf::from("/private/h/.codex/sessions/2026/11/25/rollout-2026-11-25T05-25-24-01a2112a-7437-7f70-aa77-3487a780c4d3.jsonl")];
        let ap = scan(vec![p], vec![]);
        let v = decide_all(&[codex_session(ID_A, ROLL_A)], &evid(&ap, None, now()));
        assert_eq!(v[0].liveness, Liveness::Alive);
    }

    #[test]
    fn other_agents_are_unknown() {
        let ap = scan(vec![], vec![]);
        let v = decide_all(&[s(json!({"agent": "gemini"})), s(json!({}))], &evid(&ap, None, now()));
        assert!(v.iter().all(|v| v.liveness == Liveness::Unknown));
    }
}
