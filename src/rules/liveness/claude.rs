//! Claude liveness from process evidence.
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

use super::{last_event_time, non_empty, pid_file_state, Evidence, Liveness, PidFileState, Verdict};
use crate::{
    model::{str_field, truthy, SessionJson},
    sources::agent_procs::{classify, AgentKind, ClaudePidFile, ProcInfo},
};
use std::time::Duration;

/// The rule name of [`claude_verdict`]'s decisions.
pub const RULE: &str = "rules::liveness::claude::claude_verdict";

/// How long after a session's last hook event the absence of its process is not yet evidence (the process table
/// and Claude's pid file can lag the first hook by a few hundred milliseconds).
pub const START_GRACE: Duration = Duration::from_secs(10);

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
        }
        .with("pid_file", f.path.to_string_lossy().into_owned())
        .with("proc_start", f.proc_start);
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
        .with_proc(p)
        .with("pid_file", f.path.to_string_lossy().into_owned());
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

#[cfg(test)]
mod tests {
    use super::super::test_util::*;
    use super::*;
    use crate::sources::agent_procs::AgentProcs;
    use serde_json::json;

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
    fn a_claude_verdict_is_an_is_dead_decision_with_its_process_evidence() {
        let p = proc_(100, "claude", &["/x/claude"], Some(("main", "3")));
        let ap = scan(vec![p], vec![pid_file(100, "s1", Some(1000), "idle", 0)]);
        let l = live(&["main"]);
        let no_tuis = std::collections::HashMap::new();
        let v = super::super::decide(&claude_session("done", "Stop"), &evid(&ap, Some(&l), now()), &no_tuis);
        let d = v.decision(7.0);
        assert_eq!((d.field, d.rule, &d.value, d.at), ("is_dead", RULE, &json!(false), 7.0));
        assert_eq!(d.evidence.get("pid"), Some(&json!(100)));
        assert_eq!(d.evidence.get("pid_file"), Some(&json!("/c/sessions/100.json")));
        assert_eq!(d.evidence.get("comm"), Some(&json!("claude")));
        assert_eq!(d.evidence.get("process_zellij_pane"), Some(&json!("3")));
        // Killed: the pid file stayed behind, the process is gone.
        let killed = scan(vec![], vec![pid_file(100, "s1", Some(1000), "idle", 0)]);
        let v = super::super::decide(
            &claude_session("done", "Stop"),
            &evid(&killed, Some(&l), now()),
            &no_tuis,
        );
        let d = v.decision(7.0);
        assert_eq!(d.value, json!(true));
        assert_eq!(d.evidence.get("pid_file"), Some(&json!("/c/sessions/100.json")));
        assert_eq!(d.evidence.get("proc_start"), Some(&json!(1000)));
        assert!(d
            .evidence
            .get("reason")
            .and_then(|r| r.as_str())
            .is_some_and(|r| r.contains("has exited")));
    }
}
