//! The decision log: why every session is what it is, and why a session went away.
//!
//! The publisher records each pass here ([`DecisionLog::record`]): per listed session, the decisions of the latest
//! pass (they replace the previous pass's); per removed session, its last decisions, ending with the removal, and
//! where its file went in the trash. A removal is one the pass made itself (a same-pane dedupe loser, an orphan
//! `starting` session, a stale file or event log: `Pass::removed`) or one it saw: a session listed by the previous
//! pass whose file is gone without a removal of amc's (the hook's SessionEnd, the user) gets a last decision
//! [`RULE_VANISHED`] with the previous pass's decisions before it, and the file's place in the trash when the hook
//! put it there.
//!
//! Removed sessions are kept for [`REMOVED_RETENTION`] (7 days, the trash's retention), at most [`REMOVED_CAP`]
//! entries: past the cap the oldest go first. They survive a restart: the log is written to
//! `<data dir>/cache/removed.jsonl` (one entry per line, replaced atomically whenever an entry comes or goes); a
//! corrupt line or file is skipped and logged, never fatal.

use std::{
    borrow::Borrow,
    collections::{HashMap, HashSet, VecDeque},
    fs,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
    time::{Duration, SystemTime},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{
    config::Paths,
    error::Error,
    model::{self, field, key, Decision, Removed, SessionDecisions, SessionJson},
    store,
    wire::{ExplainedDecision, Explanation},
};

/// The most removed sessions kept (in memory and in the file); past it the oldest entry is dropped first. An entry is
/// a few hundred bytes to a few KiB, so the log stays under a few MiB.
pub const REMOVED_CAP: usize = 1000;

/// How long a removed session is kept (the trash's retention, so its trash path still names a file).
pub const REMOVED_RETENTION: Duration = store::TRASH_RETENTION;

/// The rule name of the removal decision of a session whose file vanished between two passes.
pub const RULE_VANISHED: &str = "publisher::decision_log::vanished";

/// The removal reason of a session file the hook moved to the trash on SessionEnd.
pub const REASON_SESSION_END: &str = "file removed by the hook on SessionEnd";

/// The removal reason of any other session file that vanished between two passes.
pub const REASON_VANISHED: &str = "file removed outside amc (hook SessionEnd or the user)";

/// The largest log file read back (the cap keeps amc's own far smaller): a bigger one is not amc's, and is ignored.
const MAX_LOG_BYTES: u64 = 64 * 1024 * 1024;

/// The log file, under the data dir.
pub fn log_file(paths: &Paths) -> PathBuf {
    paths.data_dir.join("cache").join("removed.jsonl")
}

/// One removed session (one line of the log file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct RemovedEntry {
    session_id: String,
    /// The file removed.
    file: String,
    /// Where it went in the trash.
    #[serde(default)]
    trash_path: Option<String>,
    /// The decisions, ending with the removal.
    decisions: Vec<ExplainedDecision>,
    /// When it was removed, in seconds since the Unix epoch.
    at: f64,
}

impl RemovedEntry {
    fn from_removed(r: Removed) -> Self {
        RemovedEntry {
            session_id: r.session_id,
            file: r.file.to_string_lossy().into_owned(),
            trash_path: r.trash_path.map(|p| p.to_string_lossy().into_owned()),
            decisions: r.decisions.iter().map(ExplainedDecision::from).collect(),
            at: r.at,
        }
    }

    /// Whether the entry is about a session file (rather than an event log).
    fn is_session_file(&self) -> bool {
        Path::new(&self.file).extension().is_some_and(|e| e == "json")
    }
}

/// Why a file is in the trash: the session, where the file was, and the rule that moved it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrashMove {
    /// The session the file belonged to.
    pub session_id: String,
    /// Where the file was.
    pub file: PathBuf,
    /// The rule that removed it (a `rules::*` path, or [`RULE_VANISHED`] for the hook's SessionEnd or the user).
    pub rule: String,
    /// Its reason.
    pub reason: String,
}

/// The decisions of the latest pass and the removed sessions (module doc).
#[derive(Debug)]
pub struct DecisionLog {
    /// The listed sessions of the latest pass and their decisions (shared with the pass: not copied).
    listed: HashMap<String, Arc<SessionDecisions>>,
    /// The removed sessions, oldest first.
    removed: VecDeque<RemovedEntry>,
    cap: usize,
    /// Where the removed sessions are kept (`None`: in memory only).
    file: Option<PathBuf>,
    /// Where the trash and the event logs are.
    paths: Paths,
}

impl DecisionLog {
    /// Returns an empty log kept in memory only.
    pub fn in_memory(paths: &Paths) -> Self {
        DecisionLog {
            listed: HashMap::new(),
            removed: VecDeque::new(),
            cap: REMOVED_CAP,
            file: None,
            paths: paths.clone(),
        }
    }

    /// Returns the log of the data dir: the removed sessions of `<data dir>/cache/removed.jsonl` (those younger than
    /// [`REMOVED_RETENTION`] at `now`, the newest [`REMOVED_CAP`]), kept there from now on.
    pub fn open(paths: &Paths, now: SystemTime) -> Self {
        let file = log_file(paths);
        let mut log = DecisionLog {
            file: Some(file.clone()),
            ..Self::in_memory(paths)
        };
        let too_big = fs::metadata(&file).is_ok_and(|m| m.len() > MAX_LOG_BYTES);
        if too_big {
            tracing::warn!(file = %file.display(), "the decision log is too big to be amc's; ignoring it");
            return log;
        }
        match crate::bounded::read(&file, MAX_LOG_BYTES).map_err(crate::bounded::Refused::into_io) {
            Ok((bytes, _)) => {
                let mut bad = 0usize;
                for line in bytes.split(|b| *b == b'\n').filter(|l| !l.trim_ascii().is_empty()) {
                    match serde_json::from_slice::<RemovedEntry>(line) {
                        Ok(entry) => log.removed.push_back(entry),
                        Err(_) => bad += 1,
                    }
                }
                if bad > 0 {
                    tracing::warn!(file = %file.display(), lines = bad, "skipping corrupt lines of the decision log");
                }
                log.removed.make_contiguous().sort_by(|a, b| a.at.total_cmp(&b.at));
                log.prune(now);
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                tracing::warn!(file = %file.display(), %error, "cannot read the decision log; starting empty");
            }
        }
        log
    }

    /// Sets the cap on removed sessions (tests use a small one).
    #[must_use]
    pub fn with_cap(mut self, cap: usize) -> Self {
        self.cap = cap.max(1);
        self
    }

    /// How many removed sessions are kept.
    pub fn removed_len(&self) -> usize {
        self.removed.len()
    }

    /// The rule and reason that moved each recorded file to the trash, by its path there (`amc trash list`): the
    /// removal decision of each removed session that names a trash path.
    pub fn trash_moves(&self) -> HashMap<PathBuf, TrashMove> {
        self.removed
            .iter()
            .filter_map(|entry| {
                let trash_path = PathBuf::from(entry.trash_path.as_deref()?);
                let removal = entry.decisions.iter().rev().find(|d| d.field == field::REMOVAL);
                let (rule, reason) = match removal {
                    Some(d) => (
                        d.rule.clone(),
                        d.value
                            .as_str()
                            .map(str::to_owned)
                            .unwrap_or_else(|| d.value.to_string()),
                    ),
                    None => (RULE_VANISHED.to_owned(), String::new()),
                };
                let moved = TrashMove {
                    session_id: entry.session_id.clone(),
                    file: PathBuf::from(&entry.file),
                    rule,
                    reason,
                };
                Some((trash_path, moved))
            })
            .collect()
    }

    /// Records one pass at `now`: `decisions` index for index with `sessions` (`Pass::decisions`), and the files it
    /// removed. A session of the previous pass that is neither listed nor removed now, and whose file is gone, is
    /// recorded as vanished. Writes the log file when removed sessions came or went.
    pub fn record<S: Borrow<SessionJson>, D: Into<Arc<SessionDecisions>>>(
        &mut self,
        sessions: &[S],
        decisions: Vec<D>,
        removed: Vec<Removed>,
        now: SystemTime,
    ) {
        let mut listed = HashMap::with_capacity(sessions.len());
        for (session, decisions) in sessions.iter().zip(decisions) {
            if let Some(id) = model::str_field(session.borrow(), key::SESSION_ID) {
                // Two files with one id: the first listed explains it, as `Pass::decisions_of` does.
                listed.entry(id.to_owned()).or_insert_with(|| decisions.into());
            }
        }
        let removed_ids: HashSet<&str> = removed.iter().map(|r| r.session_id.as_str()).collect();
        let at = model::epoch_seconds(now);
        let mut vanished = Vec::new();
        for (id, last) in &self.listed {
            if listed.contains_key(id) || removed_ids.contains(id.as_str()) {
                continue;
            }
            if let Some(entry) = self.vanished(id, last, at) {
                vanished.push(entry);
            }
        }
        // Oldest first: this pass's removals in the order taken, the vanished ones by id (the order is arbitrary).
        vanished.sort_by(|a, b| a.session_id.cmp(&b.session_id));
        self.listed = listed;
        let before = self.removed.len();
        let added = removed.len() + vanished.len();
        self.removed.extend(removed.into_iter().map(RemovedEntry::from_removed));
        self.removed.extend(vanished);
        let dropped = self.prune(now);
        if added > 0 || dropped > 0 || self.removed.len() != before {
            self.save();
        }
    }

    /// Returns the entry of a session listed by the previous pass whose file is gone, or `None` while its file is
    /// still there (it may have stopped parsing: that is not a removal).
    fn vanished(&self, id: &str, last: &SessionDecisions, at: f64) -> Option<RemovedEntry> {
        let file = PathBuf::from(session_file(last)?);
        if fs::symlink_metadata(&file).is_ok() {
            return None;
        }
        // Removed by amc in the pass that listed it last (a stale `starting` file is listed by the pass that removes
        // it, as in the original): that removal is already recorded.
        let last_listed_at = decided_at(last);
        let file_text = file.to_string_lossy();
        if self
            .removed
            .iter()
            .rev()
            .any(|e| e.file == file_text && e.at >= last_listed_at)
        {
            return None;
        }
        let trash_path = file
            .file_name()
            .and_then(|name| newest_in_trash(&self.paths.trash_dir(), name));
        let last_event = store::event_log(&self.paths, id).and_then(|p| last_event(&p));
        let session_end =
            last_event.as_ref().and_then(|e| e.get("event")).and_then(Value::as_str) == Some("SessionEnd");
        let reason = if session_end {
            REASON_SESSION_END
        } else {
            REASON_VANISHED
        };
        let mut removal = Decision::new(field::REMOVAL, RULE_VANISHED, reason, at)
            .with("file", file.to_string_lossy().into_owned())
            .with(
                "trash_path",
                trash_path
                    .as_ref()
                    .map_or(Value::Null, |p| p.to_string_lossy().into_owned().into()),
            )
            .with("last_listed_at", last_listed_at);
        if let Some(event) = last_event {
            removal = removal.with("last_event", event);
        }
        let mut decisions: Vec<ExplainedDecision> = last.iter().map(ExplainedDecision::from).collect();
        decisions.push(ExplainedDecision::from(&removal));
        Some(RemovedEntry {
            session_id: id.to_owned(),
            file: file.to_string_lossy().into_owned(),
            trash_path: trash_path.map(|p| p.to_string_lossy().into_owned()),
            decisions,
            at,
        })
    }

    /// Drops removed sessions older than [`REMOVED_RETENTION`] at `now`, then the oldest past the cap; returns how
    /// many went.
    fn prune(&mut self, now: SystemTime) -> usize {
        let before = self.removed.len();
        let oldest = model::epoch_seconds(now) - REMOVED_RETENTION.as_secs_f64();
        self.removed.retain(|e| e.at >= oldest);
        while self.removed.len() > self.cap {
            self.removed.pop_front();
        }
        before - self.removed.len()
    }

    /// Writes the removed sessions to the log file (atomically); a failure is logged, the log stays in memory.
    fn save(&self) {
        let Some(file) = &self.file else { return };
        let mut bytes = Vec::new();
        for entry in &self.removed {
            if serde_json::to_writer(&mut bytes, entry).is_ok() {
                bytes.push(b'\n');
            }
        }
        if let Err(error) = store::write_atomic(file, &bytes) {
            tracing::warn!(file = %file.display(), %error, "cannot write the decision log");
        }
    }

    /// Explains session `id`: the latest pass's decisions when it is listed, else its last decisions when it was
    /// removed. An unsafe id is [`Error::InvalidArgument`], an id neither listed nor removed [`Error::NotFound`].
    pub fn explain(&self, id: &str) -> Result<Explanation, Error> {
        if !store::is_safe_session_id(id) {
            let shown: String = id.chars().take(64).collect();
            return Err(Error::InvalidArgument(format!(
                "unsafe session id {shown:?}{} ({} bytes)",
                if shown.len() < id.len() { "..." } else { "" },
                id.len()
            )));
        }
        if let Some(decisions) = self.listed.get(id) {
            let mut explanation = Explanation {
                session_id: id.to_owned(),
                present: true,
                decisions: decisions.iter().map(ExplainedDecision::from).collect(),
                trash_path: None,
                removed_at: None,
            };
            // Listed by the pass that removed its file (a stale `starting` file, as in the original): it leaves the
            // state at the next pass; say so now.
            let (listed_at, file) = (decided_at(decisions), session_file(decisions));
            let same_pass = self
                .removed
                .iter()
                .rev()
                .take_while(|e| e.at >= listed_at)
                .find(|e| e.session_id == id && Some(e.file.as_str()) == file);
            if let Some(entry) = same_pass {
                explanation.decisions.extend(entry.decisions.last().cloned());
                explanation.trash_path.clone_from(&entry.trash_path);
                explanation.removed_at = Some(entry.at);
            }
            return Ok(explanation);
        }
        // The newest removal of its session file; an event log's only when no session file was removed.
        let mine = || self.removed.iter().rev().filter(|e| e.session_id == id);
        let entry = mine()
            .find(|e| e.is_session_file())
            .or_else(|| mine().next())
            .ok_or_else(|| Error::NotFound(format!("session {id} is neither listed nor recently removed")))?;
        Ok(Explanation {
            session_id: id.to_owned(),
            present: false,
            decisions: entry.decisions.clone(),
            trash_path: entry.trash_path.clone(),
            removed_at: Some(entry.at),
        })
    }
}

/// The session file a listed session was read from (the evidence of its status decision).
fn session_file(decisions: &SessionDecisions) -> Option<&str> {
    decisions
        .iter()
        .find(|d| d.field == field::STATUS)
        .and_then(|d| d.evidence.get("file"))
        .and_then(Value::as_str)
}

/// When the pass that took `decisions` ran.
fn decided_at(decisions: &SessionDecisions) -> f64 {
    decisions.iter().map(|d| d.at).fold(0.0, f64::max)
}

/// The newest file the trash holds for `name` (`<name>.<unix seconds>` or `<name>.<unix seconds>.<n>`, as
/// [`store::move_to_trash`] names them).
fn newest_in_trash(trash_dir: &Path, name: &std::ffi::OsStr) -> Option<PathBuf> {
    let name = name.to_str()?;
    let prefix = format!("{name}.");
    fs::read_dir(trash_dir)
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let file_name = entry.file_name().into_string().ok()?;
            let stamp = file_name.strip_prefix(&prefix)?;
            let mut parts = stamp.split('.');
            let secs: u64 = parts.next()?.parse().ok()?;
            let n: u64 = parts.next().map_or(Some(0), |n| n.parse().ok())?;
            parts.next().is_none().then(|| ((secs, n), entry.path()))
        })
        .max_by_key(|(stamp, _)| *stamp)
        .map(|(_, path)| path)
}

/// The last line of an event log as JSON (read from its last 8 KiB).
fn last_event(path: &Path) -> Option<Value> {
    const TAIL: u64 = 8 * 1024;
    let mut file = crate::bounded::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL))).ok()?;
    let mut tail = Vec::new();
    file.take(TAIL).read_to_end(&mut tail).ok()?;
    tail.split(|b| *b == b'\n')
        .rev()
        .find(|l| !l.trim_ascii().is_empty())
        .and_then(|l| serde_json::from_slice(l).ok())
}

/// The log shared by the publisher (the one writer) and the server's explain handlers (readers).
#[derive(Debug, Clone)]
pub struct SharedDecisionLog(Arc<RwLock<DecisionLog>>);

impl SharedDecisionLog {
    /// Shares `log`.
    pub fn new(log: DecisionLog) -> Self {
        SharedDecisionLog(Arc::new(RwLock::new(log)))
    }

    /// [`DecisionLog::record`], under the write lock.
    pub fn record<S: Borrow<SessionJson>, D: Into<Arc<SessionDecisions>>>(
        &self,
        sessions: &[S],
        decisions: Vec<D>,
        removed: Vec<Removed>,
        now: SystemTime,
    ) {
        self.0
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .record(sessions, decisions, removed, now);
    }

    /// [`DecisionLog::explain`], under the read lock.
    pub fn explain(&self, id: &str) -> Result<Explanation, Error> {
        self.0.read().unwrap_or_else(PoisonError::into_inner).explain(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::test_util::object;
    use serde_json::json;
    use std::time::UNIX_EPOCH;

    const T0: u64 = 1_800_000_000;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn paths(dir: &Path) -> Paths {
        let d = dir.to_path_buf();
        Paths::from_lookup(move |k| (k == "AMC_DATA_DIR" || k == "HOME").then(|| d.to_string_lossy().into_owned()))
    }

    fn listed(id: &str, file: &Path, secs: u64) -> (SessionJson, SessionDecisions) {
        let status = Decision::new(field::STATUS, "hook::update::apply", "done", secs as f64)
            .with("file", file.to_string_lossy().into_owned());
        (object(json!({"session_id": id})), vec![status])
    }

    fn removal(id: &str, secs: u64) -> Removed {
        Removed {
            session_id: id.into(),
            file: PathBuf::from(format!("/d/sessions/{id}.json")),
            trash_path: Some(PathBuf::from(format!("/d/trash/{id}.json.{secs}"))),
            decisions: vec![Decision::new(
                field::REMOVAL,
                "rules::dedupe::losers",
                "lost",
                secs as f64,
            )],
            at: secs as f64,
        }
    }

    #[test]
    fn the_cap_drops_the_oldest_first_and_the_file_keeps_the_rest() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let paths = paths(tmp.path());
        let mut log = DecisionLog::open(&paths, at(T0)).with_cap(3);
        for i in 0..5u64 {
            log.record::<SessionJson, SessionDecisions>(
                &[],
                Vec::new(),
                vec![removal(&format!("s{i}"), T0 + i)],
                at(T0 + i),
            );
        }
        assert_eq!(log.removed_len(), 3);
        for gone in ["s0", "s1"] {
            assert!(matches!(log.explain(gone), Err(Error::NotFound(_))), "{gone} dropped");
        }
        for (i, kept) in [(2, "s2"), (3, "s3"), (4, "s4")] {
            let e = log.explain(kept).expect("kept");
            assert!(!e.present);
            let expected = format!("/d/trash/{kept}.json.{}", T0 + i);
            assert_eq!(e.trash_path.as_deref(), Some(expected.as_str()));
        }
        // A restart reads the same three back.
        let reopened = DecisionLog::open(&paths, at(T0 + 10)).with_cap(3);
        assert_eq!(reopened.removed_len(), 3);
        assert!(reopened.explain("s4").is_ok() && reopened.explain("s1").is_err());
    }

    #[test]
    fn entries_older_than_the_retention_are_dropped_and_younger_ones_kept_a_day_later() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let paths = paths(tmp.path());
        let mut log = DecisionLog::open(&paths, at(T0));
        log.record::<SessionJson, SessionDecisions>(&[], Vec::new(), vec![removal("old", T0)], at(T0));
        let day = 24 * 60 * 60;
        log.record::<SessionJson, SessionDecisions>(&[], Vec::new(), vec![removal("new", T0 + day)], at(T0 + day));
        assert!(log.explain("old").is_ok(), "kept for at least 24 h");
        let later = T0 + REMOVED_RETENTION.as_secs() + 1;
        log.record::<SessionJson, SessionDecisions>(&[], Vec::new(), Vec::new(), at(later));
        assert!(log.explain("old").is_err());
        assert!(log.explain("new").is_ok());
    }

    #[test]
    fn a_corrupt_log_file_is_skipped_line_by_line() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let paths = paths(tmp.path());
        let good = serde_json::to_string(&RemovedEntry::from_removed(removal("good", T0))).expect("json");
        let file = log_file(&paths);
        fs::create_dir_all(file.parent().expect("dir")).expect("mkdir");
        fs::write(&file, format!("{{not json\n\u{0}\u{1}\n{good}\n[1,2]\n")).expect("write");
        let log = DecisionLog::open(&paths, at(T0 + 1));
        assert_eq!(log.removed_len(), 1);
        assert!(log.explain("good").is_ok());
        // A file too big to be amc's (sparse: no disk used): ignored, then replaced by the next removal.
        fs::File::create(&file)
            .and_then(|f| f.set_len(MAX_LOG_BYTES + 1))
            .expect("a big file");
        let mut log = DecisionLog::open(&paths, at(T0 + 1));
        assert_eq!(log.removed_len(), 0);
        log.record::<SessionJson, SessionDecisions>(&[], Vec::new(), vec![removal("next", T0 + 1)], at(T0 + 1));
        assert!(fs::metadata(&file).is_ok_and(|m| m.len() < 10_000));
        // A directory where the file should be: empty, and recording does not fail.
        let other = tempfile::tempdir().expect("tempdir");
        let paths = paths_with_dir_as_log(other.path());
        let mut log = DecisionLog::open(&paths, at(T0));
        log.record::<SessionJson, SessionDecisions>(&[], Vec::new(), vec![removal("x", T0)], at(T0));
        assert!(log.explain("x").is_ok(), "kept in memory");
    }

    fn paths_with_dir_as_log(dir: &Path) -> Paths {
        let paths = paths(dir);
        fs::create_dir_all(log_file(&paths)).expect("a directory in the way");
        paths
    }

    #[test]
    fn a_file_that_vanishes_between_passes_is_recorded_with_its_last_decisions() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let paths = paths(tmp.path());
        fs::create_dir_all(paths.sessions_dir()).expect("sessions");
        let gone = paths.sessions_dir().join("gone.json");
        let broken = paths.sessions_dir().join("broken.json");
        fs::write(&gone, "{}").expect("write");
        fs::write(&broken, "{}").expect("write");
        let mut log = DecisionLog::in_memory(&paths);
        let (a, da) = listed("gone", &gone, T0);
        let (b, db) = listed("broken", &broken, T0);
        log.record(&[a, b], vec![da, db], Vec::new(), at(T0));
        assert!(log.explain("gone").expect("listed").present);

        // The hook's SessionEnd: the file goes to the trash and the event log says so.
        let trashed = store::move_to_trash(&paths, &gone).expect("trash").expect("moved");
        fs::create_dir_all(paths.events_dir()).expect("events");
        fs::write(
            paths.events_dir().join("gone.jsonl"),
            "{\"event\":\"Stop\"}\n{\"event\":\"SessionEnd\",\"reason\":\"exit\"}\n",
        )
        .expect("events");
        // `broken` is still on disk (it stopped parsing): not a removal.
        log.record::<SessionJson, SessionDecisions>(&[], Vec::new(), Vec::new(), at(T0 + 2));
        let e = log.explain("gone").expect("remembered");
        assert!(!e.present);
        assert_eq!(e.trash_path.as_deref(), Some(trashed.to_string_lossy().as_ref()));
        assert_eq!(e.removed_at, Some((T0 + 2) as f64));
        let fields: Vec<&str> = e.decisions.iter().map(|d| d.field.as_str()).collect();
        assert_eq!(fields, ["status", "removal"], "the last decisions, then the removal");
        let last = e.decisions.last().expect("removal");
        assert_eq!(last.rule, RULE_VANISHED);
        assert_eq!(last.value, json!(REASON_SESSION_END));
        assert_eq!(last.evidence["last_event"]["reason"], json!("exit"));
        assert_eq!(last.evidence["last_listed_at"], json!(T0 as f64));
        assert!(matches!(log.explain("broken"), Err(Error::NotFound(_))));
    }

    #[test]
    fn a_session_listed_by_the_pass_that_removes_it_is_not_called_vanished_later() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let paths = paths(tmp.path());
        fs::create_dir_all(paths.sessions_dir()).expect("sessions");
        let file = paths.sessions_dir().join("stale.json");
        fs::write(&file, "{}").expect("write");
        let mut log = DecisionLog::in_memory(&paths);
        let (session, decisions) = listed("stale", &file, T0);
        let trash = store::move_to_trash(&paths, &file).expect("trash").expect("moved");
        let removal = Removed {
            session_id: "stale".into(),
            file: file.clone(),
            trash_path: Some(trash.clone()),
            decisions: vec![Decision::new(
                field::REMOVAL,
                "rules::cleanup::stale_starting_sessions",
                "old",
                T0 as f64,
            )],
            at: T0 as f64,
        };
        log.record(&[session], vec![decisions], vec![removal], at(T0));
        let now = log.explain("stale").expect("listed");
        assert!(now.present, "still in this pass's state");
        assert_eq!(now.trash_path.as_deref(), Some(trash.to_string_lossy().as_ref()));
        assert_eq!(
            now.decisions.last().map(|d| d.rule.as_str()),
            Some("rules::cleanup::stale_starting_sessions")
        );

        log.record::<SessionJson, SessionDecisions>(&[], Vec::new(), Vec::new(), at(T0 + 2));
        let later = log.explain("stale").expect("removed");
        assert!(!later.present);
        assert_eq!(
            later.decisions.last().map(|d| d.rule.as_str()),
            Some("rules::cleanup::stale_starting_sessions")
        );
        assert_eq!(log.removed_len(), 1, "no second entry calling it vanished");
    }

    #[test]
    fn unsafe_ids_are_invalid_and_unknown_ids_not_found() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let log = DecisionLog::in_memory(&paths(tmp.path()));
        let long = "a".repeat(10 * 1024);
        for bad in [
            "",
            "../etc/passwd",
            "a/b",
            "..",
            ".hidden",
            "a\\b",
            "nul\0",
            long.as_str(),
        ] {
            match log.explain(bad) {
                Err(Error::InvalidArgument(message)) => assert!(message.len() < 200, "{message}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        assert!(matches!(log.explain("never-seen"), Err(Error::NotFound(_))));
    }

    #[test]
    fn a_session_file_removal_explains_an_id_before_its_event_logs() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut log = DecisionLog::in_memory(&paths(tmp.path()));
        let mut events = removal("s", T0 + 5);
        events.file = PathBuf::from("/d/events/s.jsonl");
        events.trash_path = Some(PathBuf::from("/d/trash/s.jsonl.1"));
        log.record::<SessionJson, SessionDecisions>(&[], Vec::new(), vec![removal("s", T0), events], at(T0 + 5));
        let e = log.explain("s").expect("removed");
        assert_eq!(e.trash_path.as_deref(), Some(format!("/d/trash/s.json.{T0}").as_str()));
    }
}
