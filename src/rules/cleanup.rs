//! Cleanup: orphan event logs and stale `starting` session files.
//!
//! The ages are wall-clock ages of file mtimes at the pass's `now`; an mtime in the future is never stale.

use std::{
    collections::HashSet,
    time::{Duration, SystemTime},
};

use serde_json::Value;

use super::Removal;
use crate::{
    model::{epoch_seconds, field, Decision, SessionJson},
    sources::session_file::{EventLogFacts, SessionFileFacts},
};

/// An event log with no listed session is removed once it is older than this (the original's 24 h).
pub const STALE_EVENT_AGE: Duration = Duration::from_secs(24 * 60 * 60);

/// A session file still `starting` after this long never became active and is removed (the original's 1 h).
pub const STALE_STARTING_AGE: Duration = Duration::from_secs(60 * 60);

/// Returns whether `mtime` is strictly older than `age` at `now` (the original's `now - mtime > AGE`).
pub fn older_than(mtime: Option<SystemTime>, now: SystemTime, age: Duration) -> bool {
    mtime
        .and_then(|m| now.duration_since(m).ok())
        .is_some_and(|elapsed| elapsed > age)
}

/// Returns the ids of the listed sessions, the ones whose event logs stay (string ids only: a file stem is a string).
pub fn active_ids<S: std::borrow::Borrow<SessionJson>>(sessions: &[S]) -> HashSet<String> {
    sessions
        .iter()
        .filter_map(|s| s.borrow().get("session_id").and_then(Value::as_str))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Returns the event logs to remove: no listed session has their id and they are older than [`STALE_EVENT_AGE`].
pub fn stale_event_logs(logs: &[EventLogFacts], active: &HashSet<String>, now: SystemTime) -> Vec<Removal> {
    logs.iter()
        .filter(|log| !active.contains(&log.id) && older_than(log.mtime, now, STALE_EVENT_AGE))
        .map(|log| {
            let reason = format!(
                "event log of no listed session, untouched for over {} h",
                STALE_EVENT_AGE.as_secs() / 3600
            );
            let mut removal = aged_removal(RULE_EVENT_LOGS, reason, &log.path, log.mtime, now, STALE_EVENT_AGE);
            removal.decision = removal
                .decision
                .with("session_id", log.id.clone())
                .with("listed", false);
            removal
        })
        .collect()
}

/// The rule name of [`stale_event_logs`]'s removals.
pub const RULE_EVENT_LOGS: &str = "rules::cleanup::stale_event_logs";

/// The rule name of [`stale_starting_sessions`]'s removals.
pub const RULE_STARTING: &str = "rules::cleanup::stale_starting_sessions";

/// Returns the removal of the file at `path` by `rule`, for `reason`, with its age evidence: the file, its mtime, its
/// age and the threshold, in seconds.
fn aged_removal(
    rule: &'static str,
    reason: String,
    path: &std::path::Path,
    mtime: Option<SystemTime>,
    now: SystemTime,
    threshold: Duration,
) -> Removal {
    let age = mtime.and_then(|m| now.duration_since(m).ok());
    let decision = Decision::new(field::REMOVAL, rule, reason, epoch_seconds(now))
        .with("file", path.to_string_lossy().into_owned())
        .with("mtime", mtime.map(epoch_seconds))
        .with("age_secs", age.map(|a| a.as_secs()))
        .with("threshold_secs", threshold.as_secs());
    Removal {
        path: path.to_path_buf(),
        decision,
    }
}

/// Returns whether a session file is a stale `starting` session: status `starting` and older than
/// [`STALE_STARTING_AGE`].
pub fn is_stale_starting(file: &SessionFileFacts, now: SystemTime) -> bool {
    file.status.as_deref() == Some("starting") && older_than(file.mtime, now, STALE_STARTING_AGE)
}

/// Returns the session files to remove: `starting` for longer than [`STALE_STARTING_AGE`].
///
/// As in the original, this runs after the list is built, so such a session is still listed by the pass that
/// removes its file, and gone from the next.
pub fn stale_starting_sessions(files: &[SessionFileFacts], now: SystemTime) -> Vec<Removal> {
    files
        .iter()
        .filter(|f| is_stale_starting(f, now))
        .map(|f| {
            let reason = format!("still starting after {} min", STALE_STARTING_AGE.as_secs() / 60);
            let mut removal = aged_removal(RULE_STARTING, reason, &f.path, f.mtime, now, STALE_STARTING_AGE);
            removal.decision = removal.decision.with("status", "starting");
            removal
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::PathBuf;

    const NOW_SECS: u64 = 1_800_000_000;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW_SECS)
    }

    fn ago(secs: u64) -> Option<SystemTime> {
        Some(now() - Duration::from_secs(secs))
    }

    fn log(id: &str, mtime: Option<SystemTime>) -> EventLogFacts {
        EventLogFacts {
            path: PathBuf::from(format!("/e/{id}.jsonl")),
            id: id.into(),
            mtime,
        }
    }

    fn removed(removals: &[Removal]) -> Vec<String> {
        removals.iter().map(|r| r.path.display().to_string()).collect()
    }

    #[test]
    fn orphan_event_logs_older_than_a_day_go() {
        let active: HashSet<String> = ["live".to_string()].into();
        let logs = [
            log("live", ago(10 * 86_400)),
            log("old", ago(86_401)),
            log("young", ago(86_399)),
            log("exact", ago(86_400)),
            log("future", Some(now() + Duration::from_secs(10))),
            log("unknown", None),
        ];
        let removals = stale_event_logs(&logs, &active, now());
        assert_eq!(removed(&removals), ["/e/old.jsonl"]);
        let decision = &removals[0].decision;
        assert_eq!((decision.field, decision.rule), ("removal", RULE_EVENT_LOGS));
        assert_eq!(
            removals[0].reason(),
            "event log of no listed session, untouched for over 24 h"
        );
        assert_eq!(decision.evidence.get("age_secs"), Some(&json!(86_401)));
        assert_eq!(decision.evidence.get("threshold_secs"), Some(&json!(86_400)));
        assert_eq!(decision.evidence.get("session_id"), Some(&json!("old")));
        assert_eq!(decision.at, NOW_SECS as f64);
    }

    #[test]
    fn stale_starting_sessions_older_than_an_hour_go() {
        let file = |name: &str, mtime, status: Option<&str>| SessionFileFacts {
            path: PathBuf::from(format!("/s/{name}.json")),
            mtime,
            status: status.map(str::to_owned),
        };
        let files = [
            file("old", ago(3_601), Some("starting")),
            file("young", ago(3_599), Some("starting")),
            file("done", ago(99_999), Some("done")),
            file("nostatus", ago(99_999), None),
            file("nomtime", None, Some("starting")),
        ];
        let removals = stale_starting_sessions(&files, now());
        assert_eq!(removed(&removals), ["/s/old.json"]);
        let decision = &removals[0].decision;
        assert_eq!((decision.field, decision.rule), ("removal", RULE_STARTING));
        assert_eq!(removals[0].reason(), "still starting after 60 min");
        assert_eq!(decision.evidence.get("file"), Some(&json!("/s/old.json")));
        assert_eq!(decision.evidence.get("age_secs"), Some(&json!(3_601)));
        assert_eq!(decision.evidence.get("threshold_secs"), Some(&json!(3_600)));
    }

    #[test]
    fn active_ids_are_the_non_empty_string_ids() {
        let sessions: Vec<SessionJson> = [
            json!({"session_id": "a"}),
            json!({"session_id": ""}),
            json!({"session_id": 5}),
            json!({}),
        ]
        .into_iter()
        .filter_map(|v| v.as_object().cloned())
        .collect();
        assert_eq!(active_ids(&sessions), HashSet::from(["a".to_string()]));
    }
}
