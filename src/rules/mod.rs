//! The collector's rules as pure functions: session facts + liveness facts + `now` → decisions.
//!
//! Nothing here touches the disk, runs a process or reads the clock; [`crate::sources`] gathers the facts and
//! [`crate::collect`] carries the decisions out. Each rule is the original's (`amc_server/mixins/state.py`) unless its
//! doc comment says otherwise; unit tests sit beside every rule.
//!
//! The original reads session files as Python dicts, so several rules depend on Python's truthiness and equality;
//! [`crate::model::truthy`] and friends reproduce them on `serde_json::Value`.

pub mod cleanup;
pub mod codex;
pub mod context;
pub mod dedupe;
pub mod liveness;
pub mod process_liveness;

use std::path::PathBuf;

/// What a rule asks the collector to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Removes `path` (the collector moves it to `trash/`, it never unlinks), for `reason`.
    Remove {
        /// The file to remove.
        path: PathBuf,
        /// Why, in words, for the log.
        reason: String,
    },
}
