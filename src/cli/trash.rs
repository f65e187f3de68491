//! `amc trash list` and `amc trash restore <id>`: what is in `<data dir>/trash/`, which rule moved each file there
//! (from the removed-sessions log, `cache/removed.jsonl`), and putting a file back where it was.

use std::{path::PathBuf, time::SystemTime};

use crate::{
    config::Paths,
    publisher::decision_log::{DecisionLog, TrashMove},
    store::{self, TrashEntry},
};

/// What `amc trash list` says of a file the removed-sessions log does not know (moved while no `amc serve` recorded
/// it: the hook's SessionEnd or an unreadable session file, or a dismiss older than the log's 7 days).
pub const UNRECORDED: &str = "not recorded in cache/removed.jsonl";

/// One listed file: the trash entry, where it goes back to, and the recorded move.
struct Listed {
    entry: TrashEntry,
    home: Option<PathBuf>,
    moved: Option<TrashMove>,
}

fn listed(paths: &Paths) -> anyhow::Result<Vec<Listed>> {
    let mut moves = DecisionLog::open(paths, SystemTime::now()).trash_moves();
    Ok(store::trash_entries(paths)?
        .into_iter()
        .map(|entry| Listed {
            home: entry.home(paths),
            moved: moves.remove(&entry.path),
            entry,
        })
        .collect())
}

/// `amc trash list`: one line (or JSON object) per file in the trash, newest first.
pub fn list(paths: &Paths, json: bool) -> anyhow::Result<String> {
    let listed = listed(paths)?;
    if json {
        let items: Vec<serde_json::Value> = listed
            .iter()
            .map(|l| {
                serde_json::json!({
                    "id": l.entry.id,
                    "name": l.entry.name,
                    "trashed_at": l.entry.trashed_at.map(super::utc_of),
                    "restores_to": l.home.as_ref().map(|p| p.display().to_string()),
                    "session_id": l.moved.as_ref().map(|m| m.session_id.clone()),
                    "rule": l.moved.as_ref().map(|m| m.rule.clone()),
                    "reason": l.moved.as_ref().map(|m| m.reason.clone()),
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&items)?);
    }
    if listed.is_empty() {
        return Ok(format!("the trash ({}) is empty", paths.trash_dir().display()));
    }
    let lines: Vec<String> = listed
        .iter()
        .map(|l| {
            let when = l.entry.trashed_at.map(super::utc_of).unwrap_or_else(|| "?".into());
            let home = l.home.as_ref().map_or_else(|| "-".into(), |p| p.display().to_string());
            let why = match &l.moved {
                Some(m) if m.reason.is_empty() => m.rule.clone(),
                Some(m) => format!("{}: {}", m.rule, m.reason),
                None => UNRECORDED.to_owned(),
            };
            format!("{}  {when}  {home}  {why}", l.entry.id)
        })
        .collect();
    Ok(lines.join("\n"))
}

/// `amc trash restore <id>`: `id` is a trash entry's name (as listed) or a session id (its newest trashed session
/// file). Refused when a live file is where it would go back to; the file then stays in the trash.
pub fn restore(paths: &Paths, id: &str) -> anyhow::Result<String> {
    let entries = store::trash_entries(paths)?;
    let entry = entries
        .iter()
        .find(|e| e.id == id)
        .or_else(|| {
            let name = format!("{id}.json");
            // Newest first: the first match is the newest.
            entries.iter().find(|e| e.name == name)
        })
        .ok_or_else(|| {
            anyhow::anyhow!("nothing in the trash is named {id:?} or is session {id:?}'s file (see `amc trash list`)")
        })?;
    let home = entry.home(paths).ok_or_else(|| {
        anyhow::anyhow!(
            "{} is not a session file or an event log amc knows where to put",
            entry.id
        )
    })?;
    match store::restore_from_trash(&entry.path, &home) {
        Ok(()) => Ok(format!("restored {} to {}", entry.id, home.display())),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => anyhow::bail!(
            "refused: {} exists (a live file with that id); {} stays in the trash",
            home.display(),
            entry.id
        ),
        Err(e) => Err(anyhow::anyhow!("restoring {} to {}: {e}", entry.id, home.display())),
    }
}
