//! The liveness and status step of a pass: the process evidence (Claude Code's own status record, the agent
//! processes) applied to the completed sessions, and `is_dead` set once per session from the original's decision
//! and the process verdict ([`rules::liveness::settle`]).

use std::sync::Arc;

use serde_json::Value;

use super::Listed;
use crate::{
    model::{key, SessionJson},
    rules::{self, liveness::Evidence},
};

/// Settles the `is_dead` and `liveness_reason` (once) of every listed session not yet settled (those with an
/// original liveness decision; the others were settled by an earlier pass on the same evidence, `collect::reuse`),
/// moves an alive Codex session to its TUI's pane, and applies Claude's status corrections; each session keeps the
/// decisions behind them. (Codex sessions are never settled in advance, so the Codex TUIs are matched to rollouts
/// across all of them.)
pub(super) fn settle(listed: &mut [Listed], evidence: &Evidence<'_>, at: f64) {
    let unsettled: Vec<&mut Listed> = listed.iter_mut().filter(|l| l.original_liveness.is_some()).collect();
    if unsettled.is_empty() {
        return;
    }
    let verdicts = {
        let all: Vec<&SessionJson> = unsettled.iter().map(|l| &*l.session).collect();
        rules::liveness::decide_all(&all, evidence)
    };
    for (l, verdict) in unsettled.into_iter().zip(&verdicts) {
        let Some(original) = l.original_liveness.take() else {
            continue;
        };
        // Settled again: the session and its decisions change (copied first when shared with a reuse cache).
        let settled = rules::liveness::settle(&l.session, original, verdict, at);
        let session = Arc::make_mut(&mut l.session);
        let decisions = Arc::make_mut(&mut l.decisions);
        session.insert(key::IS_DEAD.into(), settled.is_dead.into());
        if let Some(reason) = &settled.reason {
            session.insert(key::LIVENESS_REASON.into(), reason.clone().into());
        }
        if let Some((zellij_session, zellij_pane)) = &settled.pane {
            session.insert(key::ZELLIJ_SESSION.into(), zellij_session.clone().into());
            session.insert(key::ZELLIJ_PANE.into(), zellij_pane.clone().into());
        }
        decisions.extend(settled.decisions);
        // The status correction reads the status the hooks left, not `is_dead`: it may come after it.
        if let Some(hint) = rules::status::claude_status_hint(session, evidence) {
            session.insert(key::STATUS.into(), hint.status.into());
            if hint.clear_questions {
                session.insert(key::PENDING_QUESTIONS.into(), Value::Array(Vec::new()));
                session.remove(key::ATTENTION);
            }
            session.insert(key::STATUS_REASON.into(), hint.reason.into());
            decisions.push(hint.decision);
        }
    }
}
