//! The status rule: Claude Code's own record of its process corrects the status the hooks left.
//!
//! `waiting`) corrects a session the hooks left `active`/`needs_attention` when a turn ended without a Stop hook (an
//! Esc interrupt, an API error: Claude fires no Stop then, formats.md §1.3).

use std::time::{Duration, UNIX_EPOCH};

use super::liveness::{last_event_time, pid_file_state, Evidence, PidFileState};
use crate::model::{epoch_seconds, field, key, status, str_field, Decision, SessionJson};

/// The rule name of [`claude_status_hint`]'s decisions.
pub const RULE: &str = "rules::status::claude_status_hint";

/// How long Claude's `idle`/`waiting` must have stood before [`claude_status_hint`] acts on it (so a Stop hook that
/// is still being written is never overtaken).
pub const STATUS_SETTLE: Duration = Duration::from_millis(500);

/// A status correction from Claude Code's own record of its process.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusHint {
    /// The status the session should have.
    pub status: &'static str,
    /// Whether `pending_questions` should be emptied (the dialog is gone).
    pub clear_questions: bool,
    /// Why, in words.
    pub reason: String,
    /// The decision: field `status`, the new status, this rule, and its evidence (the pid file and its status).
    pub decision: Decision,
}

/// Corrects a Claude session's status from its pid file's `status`, when a turn ended (or blocked) without the hook
/// that would have said so:
/// - `idle` since after the last hook event, while amc says `active` or `needs_attention` and the last event is not
///   `Stop` → `done` (Esc interrupt, an API error, a declined dialog: no Stop hook fires), questions cleared;
/// - `waiting` since after the last hook event while amc says `active` or `done` → `needs_attention` (a dialog opened
///   without a hook amc listens to, or before its Notification, which comes ~6 s later);
/// - `busy` since after the last hook event while amc says `needs_attention` for a permission or elicitation dialog
///   (`attention.kind`) → `active`: the dialog was answered and the tool runs (no hook fires at the approval; the
///   tool's PostToolUse comes only when it finishes), attention cleared.
///
/// Only a running process's file counts, and only once its status has stood for [`STATUS_SETTLE`].
pub fn claude_status_hint(session: &SessionJson, ev: &Evidence<'_>) -> Option<StatusHint> {
    if str_field(session, "agent") != Some("claude") {
        return None;
    }
    let status = str_field(session, "status")?;
    if !matches!(status, "active" | "needs_attention" | "done") {
        return None;
    }
    let last_event = str_field(session, "last_event").unwrap_or("");
    if matches!(last_event, "SessionStart" | "SessionEnd") {
        return None;
    }
    // A Stop is authoritative for the turn it ends (a prose question stays needs_attention, done stays done) unless
    // Claude then opens a dialog (`waiting`).
    let after_stop = matches!(last_event, "Stop" | "StopFailure");
    let held_dialog = crate::model::Attention::from_value(session.get(key::ATTENTION))
        .is_some_and(|a| a.kind != crate::model::AttentionKind::Question);
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
    let (new_status, clear_questions, reason) = match f.status.as_deref()? {
        "idle" if status != status::DONE && !after_stop => (
            status::DONE,
            true,
            format!("claude pid {} reports idle since {when}, after the last hook ({last_event}): the turn ended without a Stop hook", f.pid),
        ),
        "busy" if status == status::NEEDS_ATTENTION && held_dialog && !after_stop => (
            status::ACTIVE,
            true,
            format!(
                "claude pid {} reports busy since {when}, after the dialog of the last hook ({last_event}): it was answered",
                f.pid
            ),
        ),
        "waiting" if status == status::ACTIVE || status == status::DONE => (
            status::NEEDS_ATTENTION,
            false,
            format!(
                "claude pid {} reports waiting ({}) since {when}",
                f.pid,
                f.waiting_for.as_deref().unwrap_or("input")
            ),
        ),
        _ => return None,
    };
    let decision = Decision::new(field::STATUS, RULE, new_status, epoch_seconds(ev.now))
        .with("reason", reason.clone())
        .with("previous_status", status)
        .with("pid", f.pid)
        .with("pid_file", f.path.to_string_lossy().into_owned())
        .with("claude_status", f.status.clone())
        .with("claude_status_since", when)
        .with(key::LAST_EVENT, last_event)
        .with(key::LAST_EVENT_AT, epoch_seconds(last))
        .with("settle_ms", STATUS_SETTLE.as_millis() as u64);
    Some(StatusHint {
        status: new_status,
        clear_questions,
        reason,
        decision,
    })
}

#[cfg(test)]
mod tests {
    use super::super::liveness::test_util::*;
    use super::*;

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
        let d = &hint.decision;
        assert_eq!(
            (d.field, d.rule, &d.value),
            ("status", RULE, &serde_json::json!("done"))
        );
        assert_eq!(d.evidence.get("pid"), Some(&serde_json::json!(100)));
        assert_eq!(
            d.evidence.get("pid_file"),
            Some(&serde_json::json!("/c/sessions/100.json"))
        );
        assert_eq!(d.evidence.get("claude_status"), Some(&serde_json::json!("idle")));
        assert_eq!(d.evidence.get("previous_status"), Some(&serde_json::json!("active")));
        assert_eq!(d.evidence.get("settle_ms"), Some(&serde_json::json!(500)));
        assert_eq!(d.at, (T0 + 60) as f64);
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

    #[test]
    fn busy_after_a_held_permission_dialog_means_it_was_answered() {
        let ap = scan(
            vec![proc_(100, "claude", &["/x/claude"], Some(("main", "3")))],
            vec![pid_file(100, "s1", Some(1000), "busy", (T0 + 2) * 1000)],
        );
        let ev = evid(&ap, None, now());
        let mut held = claude_session("needs_attention", "PermissionRequest");
        held.insert(
            "attention".into(),
            serde_json::json!({"kind": "permission", "since": "2026-11-25T05:20:00Z", "event": "PermissionRequest",
                               "tool_name": "Bash"}),
        );
        let hint = claude_status_hint(&held, &ev).expect("hint");
        assert_eq!((hint.status, hint.clear_questions), ("active", true));
        assert!(hint.reason.contains("busy"), "{}", hint.reason);
        // A question (AskUserQuestion) is answered by its PostToolUse, not by busy; a plain active stays.
        let mut question = held.clone();
        question.insert(
            "attention".into(),
            serde_json::json!({"kind": "question", "since": "x", "event": "PreToolUse"}),
        );
        assert_eq!(claude_status_hint(&question, &ev), None);
        assert_eq!(
            claude_status_hint(&claude_session("active", "UserPromptSubmit"), &ev),
            None
        );
    }

    #[test]
    fn waiting_after_a_stop_means_a_dialog_opened() {
        let ap = scan(
            vec![proc_(100, "claude", &["/x/claude"], Some(("main", "3")))],
            vec![pid_file(100, "s1", Some(1000), "waiting", (T0 + 2) * 1000)],
        );
        let ev = evid(&ap, None, now());
        let hint = claude_status_hint(&claude_session("done", "Stop"), &ev).expect("hint");
        assert_eq!(hint.status, "needs_attention");
        // idle after a Stop is what the Stop said already.
        let ap = scan(
            vec![proc_(100, "claude", &["/x/claude"], Some(("main", "3")))],
            vec![pid_file(100, "s1", Some(1000), "idle", (T0 + 2) * 1000)],
        );
        let ev = evid(&ap, None, now());
        assert_eq!(claude_status_hint(&claude_session("done", "Stop"), &ev), None);
        assert_eq!(claude_status_hint(&claude_session("done", "Notification"), &ev), None);
    }

    // ---- Codex ---------------------------------------------------------------------------------------------------
}
