//! The original's liveness rules: which sessions are dead (`is_dead`) and which `starting` sessions are orphans.
//!
//! Both rules take the live Zellij sessions as `Option<&HashSet<String>>`: `None` means the list could not be
//! obtained, and then nothing is declared dead or removed on Zellij's account.

use std::collections::HashSet;

use serde_json::Value;

use crate::model::{field, key, str_field, truthy, Decision, SessionJson};

/// Returns whether `zellij_session` (a session-file value) names a live Zellij session.
///
/// The original tests `zellij_session not in active_zellij_sessions` on a set of strings, so a non-string value is
/// never live.
fn is_live(zellij_session: &Value, live: &HashSet<String>) -> bool {
    zellij_session.as_str().is_some_and(|name| live.contains(name))
}

/// Returns whether `session` is an orphan `starting` session, to be removed at once.
///
/// True when its `zellij_session` is set, the live list is known and lacks it, and its status is `starting`: the
/// agent never got past start-up and its Zellij session is gone. Other statuses stay as history.
pub fn is_orphan_starting(session: &SessionJson, live: Option<&HashSet<String>>) -> bool {
    let Some(live) = live else { return false };
    let zellij_session = session.get("zellij_session");
    truthy(zellij_session)
        && zellij_session.is_some_and(|z| !is_live(z, live))
        && str_field(session, "status") == Some("starting")
}

/// Returns why `session` is dead (no longer interactable), or `None` when it is alive.
///
/// The original's `_is_session_dead`, with a reason added:
/// - `starting` is never dead;
/// - Codex is dead unless some process has its `transcript_path` open (`transcript_open`); no `transcript_path` →
///   dead. `transcript_open == None` (the open files could not be determined) → alive: unlike the original, which
///   took a failed `lsof` for "not open", an unknown fact never declares a session dead;
/// - Claude is dead with no `zellij_session`, or when the live list is known and lacks it;
/// - any other agent is alive.
pub fn dead_reason(
    session: &SessionJson,
    live: Option<&HashSet<String>>,
    transcript_open: Option<bool>,
) -> Option<String> {
    if str_field(session, "status") == Some("starting") {
        return None;
    }
    match str_field(session, "agent") {
        Some("codex") => {
            if !truthy(session.get("transcript_path")) {
                return Some("no transcript_path recorded".into());
            }
            (transcript_open == Some(false)).then(|| "no process has the rollout open".into())
        }
        Some("claude") => {
            let zellij_session = match session.get("zellij_session") {
                Some(z) if truthy(Some(z)) => z,
                _ => return Some("no zellij session recorded".into()),
            };
            let live = live?;
            if is_live(zellij_session, live) {
                return None;
            }
            Some(format!(
                "zellij session '{}' is not running",
                crate::model::string_form(zellij_session)
            ))
        }
        _ => None,
    }
}

/// The rule name of [`is_dead`]'s decisions.
pub const RULE_IS_DEAD: &str = "rules::liveness::original::is_dead";

/// Returns the original's `is_dead` decision ([`dead_reason`]) with its evidence: the session's status, agent and
/// `zellij_session`, whether the Zellij list was known and names it, the `transcript_path` and whether it is open.
pub fn is_dead(
    session: &SessionJson,
    live: Option<&HashSet<String>>,
    transcript_open: Option<bool>,
    at: f64,
) -> Decision {
    let reason = dead_reason(session, live, transcript_open);
    let get = |k: &str| session.get(k).cloned().unwrap_or(Value::Null);
    let mut decision = Decision::new(field::IS_DEAD, RULE_IS_DEAD, reason.is_some(), at)
        .with(key::STATUS, get(key::STATUS))
        .with(key::AGENT, get(key::AGENT));
    match str_field(session, key::AGENT) {
        Some("codex") => {
            decision = decision
                .with(key::TRANSCRIPT_PATH, get(key::TRANSCRIPT_PATH))
                .with("transcript_open", transcript_open);
        }
        Some("claude") => {
            decision = decision
                .with(key::ZELLIJ_SESSION, get(key::ZELLIJ_SESSION))
                .with("zellij_known", live.is_some())
                .with(
                    "zellij_live",
                    live.zip(session.get(key::ZELLIJ_SESSION)).map(|(l, z)| is_live(z, l)),
                );
        }
        _ => {}
    }
    if let Some(reason) = reason {
        decision = decision.with("reason", reason);
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(v: Value) -> SessionJson {
        v.as_object().cloned().unwrap_or_default()
    }

    fn live(names: &[&str]) -> HashSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn orphan_starting_needs_known_liveness_a_missing_session_and_starting() {
        let l = live(&["main"]);
        let orphan = s(json!({"status": "starting", "zellij_session": "gone"}));
        assert!(is_orphan_starting(&orphan, Some(&l)));
        assert!(!is_orphan_starting(&orphan, None), "unknown liveness never removes");
        assert!(!is_orphan_starting(
            &s(json!({"status": "starting", "zellij_session": "main"})),
            Some(&l)
        ));
        assert!(!is_orphan_starting(
            &s(json!({"status": "active", "zellij_session": "gone"})),
            Some(&l)
        ));
        assert!(!is_orphan_starting(
            &s(json!({"status": "starting", "zellij_session": ""})),
            Some(&l)
        ));
        assert!(!is_orphan_starting(&s(json!({"status": "starting"})), Some(&l)));
        assert!(is_orphan_starting(
            &s(json!({"status": "starting", "zellij_session": 7})),
            Some(&l)
        ));
        assert!(is_orphan_starting(
            &s(json!({"status": "starting", "zellij_session": "x"})),
            Some(&live(&[]))
        ));
    }

    #[test]
    fn starting_is_never_dead() {
        let l = live(&[]);
        for agent in ["claude", "codex", "other"] {
            let session = s(json!({"agent": agent, "status": "starting"}));
            assert_eq!(dead_reason(&session, Some(&l), Some(false)), None);
        }
    }

    #[test]
    fn codex_is_dead_unless_its_rollout_is_open() {
        let with_path = s(json!({"agent": "codex", "status": "active", "transcript_path": "/r.jsonl"}));
        assert_eq!(dead_reason(&with_path, None, Some(true)), None);
        assert_eq!(
            dead_reason(&with_path, None, Some(false)).as_deref(),
            Some("no process has the rollout open")
        );
        assert_eq!(
            dead_reason(&with_path, None, None),
            None,
            "unknown open files never kill"
        );
        let no_path = s(json!({"agent": "codex", "status": "done", "transcript_path": ""}));
        assert_eq!(
            dead_reason(&no_path, None, Some(true)).as_deref(),
            Some("no transcript_path recorded")
        );
        let missing = s(json!({"agent": "codex"}));
        assert!(dead_reason(&missing, None, None).is_some());
    }

    #[test]
    fn claude_is_dead_without_a_live_zellij_session() {
        let l = live(&["main"]);
        let alive = s(json!({"agent": "claude", "status": "active", "zellij_session": "main"}));
        assert_eq!(dead_reason(&alive, Some(&l), None), None);
        let gone = s(json!({"agent": "claude", "status": "done", "zellij_session": "old"}));
        assert_eq!(
            dead_reason(&gone, Some(&l), None).as_deref(),
            Some("zellij session 'old' is not running")
        );
        assert_eq!(dead_reason(&gone, None, None), None, "unknown liveness: alive");
        let none = s(json!({"agent": "claude", "status": "active"}));
        assert_eq!(
            dead_reason(&none, None, None).as_deref(),
            Some("no zellij session recorded")
        );
        let empty = s(json!({"agent": "claude", "status": "active", "zellij_session": ""}));
        assert_eq!(
            dead_reason(&empty, Some(&l), None).as_deref(),
            Some("no zellij session recorded")
        );
        let numeric = s(json!({"agent": "claude", "status": "active", "zellij_session": 5}));
        assert!(
            dead_reason(&numeric, Some(&live(&["5"])), None).is_some(),
            "a number never equals a name"
        );
    }

    #[test]
    fn unknown_agents_are_alive() {
        for session in [
            json!({"agent": "gemini"}),
            json!({}),
            json!({"agent": 1, "zellij_session": ""}),
        ] {
            assert_eq!(dead_reason(&s(session), Some(&live(&[])), Some(false)), None);
        }
    }

    #[test]
    fn the_is_dead_decision_carries_its_zellij_evidence() {
        let l = live(&["main"]);
        let gone = s(json!({"agent": "claude", "status": "done", "zellij_session": "old"}));
        let decision = is_dead(&gone, Some(&l), None, 4.0);
        assert_eq!((decision.field, decision.rule), ("is_dead", RULE_IS_DEAD));
        assert_eq!(decision.value, json!(true));
        assert_eq!(
            decision.evidence.get("reason"),
            Some(&json!("zellij session 'old' is not running"))
        );
        assert_eq!(decision.evidence.get("zellij_session"), Some(&json!("old")));
        assert_eq!(decision.evidence.get("zellij_known"), Some(&json!(true)));
        assert_eq!(decision.evidence.get("zellij_live"), Some(&json!(false)));
        let codex = s(json!({"agent": "codex", "status": "done", "transcript_path": "/r.jsonl"}));
        let decision = is_dead(&codex, None, Some(true), 4.0);
        assert_eq!(decision.value, json!(false));
        assert_eq!(decision.evidence.get("transcript_open"), Some(&json!(true)));
        assert_eq!(decision.evidence.get("reason"), None);
    }
}
