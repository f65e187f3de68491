//! Codex liveness from process evidence.
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

use std::{
    collections::{HashMap, HashSet},
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use super::{non_empty, Evidence, Liveness, Verdict};
use crate::{
    model::{str_field, SessionJson},
    sources::agent_procs::{classify, AgentKind, ProcInfo},
};

/// The rule name of [`codex_verdict`]'s decisions.
pub const RULE: &str = "rules::liveness::codex::codex_verdict";

/// How much later than the thread's creation time a Codex TUI may have started and still be its TUI (clock
/// granularity: `/proc` start times are in 10 ms ticks, the thread id's time in ms, the two clocks the same).
pub const THREAD_START_TOLERANCE: Duration = Duration::from_secs(2);

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
pub fn assign_codex_tuis<S: std::borrow::Borrow<SessionJson>>(
    sessions: &[S],
    ev: &Evidence<'_>,
) -> HashMap<String, u32> {
    let mut assigned = HashMap::new();
    if ev.procs.procs.is_none() {
        return assigned;
    }
    let direct: HashSet<u32> = ev
        .running()
        .filter(|p| p.open_rollouts().next().is_some())
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
        .map(std::borrow::Borrow::borrow)
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

#[cfg(test)]
mod tests {
    use super::super::{decide_all, test_util::*};
    use super::*;
    use crate::sources::agent_procs::AgentProcs;
    use serde_json::json;
    use std::path::PathBuf;

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
    fn a_tui_writing_its_history_is_still_the_daemon_threads_tui() {
        // On a prompt the TUI opens `$CODEX_HOME/history.jsonl` (and `session_index.jsonl`) for a moment, just when
        // its thread's rollout appears: that is no rollout of its own (`--no-daemon`), so it stays a candidate.
        let mut b = tui(202, "2", created(ID_B) - Duration::from_secs(3));
        b.open_jsonl = vec![
            PathBuf::from("/h/.codex/history.jsonl"),
            PathBuf::from("/h/.codex/session_index.jsonl"),
        ];
        let ap = scan(
            vec![
                tui(201, "1", created(ID_A) - Duration::from_secs(4)),
                b,
                daemon(250, &[ROLL_A, ROLL_B], "1"),
            ],
            vec![],
        );
        let sessions = vec![codex_session(ID_A, ROLL_A), codex_session(ID_B, ROLL_B)];
        let v = decide_all(&sessions, &evid(&ap, None, now()));
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
    fn a_rollout_path_through_a_symlinked_dir_still_matches() {
        let mut p = proc_(200, "codex", &["/x/codex", "--no-daemon"], Some(("main", "4")));
        p.open_jsonl = vec![PathBuf::from("/private/h/.codex/sessions/2026/11/25/rollout-2026-11-25T05-25-24-01a2112a-7437-7f70-aa77-3487a780c4d3.jsonl")];
        let ap = scan(vec![p], vec![]);
        let v = decide_all(&[codex_session(ID_A, ROLL_A)], &evid(&ap, None, now()));
        assert_eq!(v[0].liveness, Liveness::Alive);
    }

    #[test]
    fn a_codex_verdict_is_an_is_dead_decision_naming_the_process() {
        let mut p = proc_(200, "codex", &["/x/codex", "exec", "hi"], Some(("main", "4")));
        p.open_jsonl = vec![PathBuf::from(ROLL_A)];
        let ap = scan(vec![p], vec![]);
        let v = decide_all(&[codex_session(ID_A, ROLL_A)], &evid(&ap, None, now()));
        let d = v[0].decision(3.0);
        assert_eq!((d.field, d.rule, &d.value), ("is_dead", RULE, &json!(false)));
        assert_eq!(d.evidence.get("pid"), Some(&json!(200)));
        assert_eq!(
            d.evidence.get("reason"),
            Some(&json!("codex exec pid 200 holds the rollout"))
        );
        assert_eq!(d.evidence.get("process_zellij_pane"), Some(&json!("4")));
        let nobody = scan(vec![], vec![]);
        let v = decide_all(&[codex_session(ID_A, ROLL_A)], &evid(&nobody, None, now()));
        let d = v[0].decision(3.0);
        assert_eq!(d.value, json!(true));
        assert_eq!(
            d.evidence.get("reason"),
            Some(&json!("no codex process has the rollout open"))
        );
    }
}
