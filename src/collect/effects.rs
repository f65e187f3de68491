//! The effects of a pass, carried out in one place at its end: the `turn_start_tokens` write-backs, then every
//! removal (each file moved to `trash/` only if what the rule saw still holds), then the trash purge.

use std::{
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime},
};

use super::{codex_id, Collector, Listed};
use crate::{
    config::Paths,
    model::{self, key, Removed, SessionDecisions},
    rules::{cleanup, Removal},
    sources::session_file::{self, Parsed, SessionFileFacts},
    store,
};

/// How often the trash is purged of files older than [`store::TRASH_RETENTION`].
const TRASH_PURGE_INTERVAL: Duration = Duration::from_secs(10 * 60);

/// A file to remove at the end of the pass, and what must still hold when it is removed.
pub(super) struct PendingRemoval {
    pub(super) removal: Removal,
    /// The session id it belongs to (the session's id, or the file's stem).
    pub(super) session_id: String,
    /// The decisions behind the session, up to its removal.
    pub(super) decisions: SessionDecisions,
    pub(super) check: Check,
    /// The id of a Codex session: removing one dismisses it, so discovery does not write it again.
    pub(super) dismiss: Option<String>,
}

/// What must still hold when a file is removed.
pub(super) enum Check {
    /// The file still holds these bytes (what the pass read, after its own write-back).
    Bytes(std::sync::Arc<[u8]>),
    /// The file is still a stale `starting` session by its current mtime and status.
    StaleStarting,
    /// Nothing: an event log.
    None,
}

impl Collector {
    /// Carries out the pass's effects, in one place: the `turn_start_tokens` write-backs, then the removals (orphan
    /// `starting` sessions, dedupe losers, stale event logs, stale `starting` files), then the trash purge. Returns
    /// the files removed, with the decisions that removed them.
    pub(super) fn apply(
        &mut self,
        paths: &Paths,
        kept: &mut [Listed],
        mut lost: Vec<(Listed, Removal)>,
        orphans: Vec<PendingRemoval>,
        (stale_logs, stale_starting): (Vec<Removal>, Vec<Removal>),
        now: SystemTime,
    ) -> Vec<Removed> {
        for l in kept.iter_mut().chain(lost.iter_mut().map(|(l, _)| l)) {
            write_turn_start_tokens(paths, l);
        }
        let mut pending = orphans;
        pending.extend(lost.into_iter().map(|(l, removal)| {
            let mut decisions = Arc::unwrap_or_clone(l.decisions);
            decisions.push(removal.decision.clone());
            PendingRemoval {
                session_id: model::sort_key(&l.session),
                decisions,
                dismiss: codex_id(&l.session),
                check: Check::Bytes(l.bytes),
                removal,
            }
        }));
        let by_stem = |removal: Removal, check: Check| PendingRemoval {
            session_id: removal
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            decisions: vec![removal.decision.clone()],
            dismiss: None,
            check,
            removal,
        };
        pending.extend(stale_logs.into_iter().map(|r| by_stem(r, Check::None)));
        pending.extend(stale_starting.into_iter().map(|r| by_stem(r, Check::StaleStarting)));
        let mut removed = Vec::new();
        for p in pending {
            if let Some(trash_path) = remove(paths, &p.removal, &p.check, now) {
                removed.push(Removed {
                    session_id: p.session_id,
                    file: p.removal.path.clone(),
                    trash_path: Some(trash_path),
                    decisions: p.decisions,
                    at: p.removal.decision.at,
                });
            }
            if let Some(id) = &p.dismiss {
                self.dismissed.insert(id);
            }
        }

        let due = self
            .last_purge
            .is_none_or(|at| now.duration_since(at).map_or(true, |d| d >= TRASH_PURGE_INTERVAL));
        if due {
            self.last_purge = Some(now);
            let purged = store::purge_trash(paths, now);
            if purged > 0 {
                tracing::info!(purged, "old files purged from the trash");
            }
        }
        removed
    }
}

/// Writes a listed session's `turn_start_tokens` back to its file; the session then holds the bytes written, so a
/// later removal of the file checks against them.
fn write_turn_start_tokens(paths: &Paths, l: &mut Listed) {
    let Some(tokens) = l.turn_start_tokens.take() else {
        return;
    };
    match session_file::write_turn_start_tokens(paths, &l.path, tokens) {
        Ok(Some(bytes)) => l.bytes = bytes.into(),
        Ok(None) => {}
        Err(error) => {
            tracing::warn!(file = %l.path.display(), %error, "cannot record turn_start_tokens")
        }
    }
}

/// Moves one file to the trash if its check still holds; returns where it went. The log line is the removal's
/// reason.
fn remove(paths: &Paths, removal: &Removal, check: &Check, now: SystemTime) -> Option<PathBuf> {
    let (path, reason) = (&removal.path, removal.reason());
    let result = match check {
        Check::Bytes(bytes) => session_file::trash_session_if(paths, path, |current| current.bytes[..] == bytes[..]),
        Check::StaleStarting => session_file::trash_session_if(paths, path, |current| {
            let status = match current.parse() {
                Parsed::Object(s) => model::str_field(&s, key::STATUS).map(str::to_owned),
                _ => None,
            };
            let facts = SessionFileFacts {
                path: current.path.clone(),
                mtime: current.mtime,
                status,
            };
            cleanup::is_stale_starting(&facts, now)
        }),
        Check::None => store::move_to_trash(paths, path),
    };
    let what = if matches!(check, Check::None) {
        "event log"
    } else {
        "session file"
    };
    match result {
        Ok(Some(trash_path)) => {
            tracing::info!(file = %path.display(), reason, "{what} moved to trash");
            Some(trash_path)
        }
        Ok(None) => {
            tracing::debug!(file = %path.display(), "{what} changed or vanished: left alone");
            None
        }
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "cannot move the {what} to trash");
            None
        }
    }
}
