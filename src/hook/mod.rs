//! `amc hook`: the Claude Code hook (placeholder: filled in by the hook work).

pub mod install;

use crate::config::Paths;

/// Reads one hook payload from stdin and records it; never fails (fail-open).
pub fn run_from_stdin(_paths: &Paths) {}
