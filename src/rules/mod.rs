//! The collector's rules as pure functions: session facts + liveness facts + `now` → decisions.
//!
//! Nothing here touches the disk, runs a process or reads the clock; [`crate::sources`] gathers the facts and
//! [`crate::collect`] carries the decisions out. Each rule is the original's (`amc_server/mixins/state.py`) unless its
//! doc comment says otherwise; unit tests sit beside every rule.
//!
//! Every rule that sets a status, `is_dead`, the context window or a dedupe outcome, or removes a file, returns a
//! [`Decision`] naming itself (`rule`), the value it sets and its evidence; a removal's value is its reason, the
//! words of the log line.
//!
//! The original reads session files as Python dicts, so several rules depend on Python's truthiness and equality;
//! [`crate::model::truthy`] and friends reproduce them on `serde_json::Value`.

/// Burn rate, compaction forecast, context history.
pub mod burn;
/// Cleanup: stale event logs and stale `starting` session files.
pub mod cleanup;
/// Codex discovery: the pane of a rollout, the Codex session file, the dismissed ids.
pub mod codex;
/// The context window and the per-turn token baseline.
pub mod context;
/// Cost and rate limits.
pub mod cost;
/// Same-pane dedupe: which session keeps a pane.
pub mod dedupe;
/// `is_dead`: the original's rules and the process evidence, settled once; orphan `starting` sessions.
pub mod liveness;
/// The status Claude Code's own process record corrects.
pub mod status;

use std::path::PathBuf;

use crate::model::Decision;

/// A file a rule removes (the collector moves it to `trash/`, it never unlinks), with the decision that says why.
#[derive(Debug, Clone, PartialEq)]
pub struct Removal {
    /// The file to remove.
    pub path: PathBuf,
    /// The decision: field `removal`, the reason as its value, the rule and its evidence.
    pub decision: Decision,
}

impl Removal {
    /// Returns why, in words: the log line.
    pub fn reason(&self) -> &str {
        self.decision.value.as_str().unwrap_or_default()
    }
}
