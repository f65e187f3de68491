//! The event ring: the events the publisher derived, numbered, kept in memory and in `<data dir>/stream/events.jsonl`
//! so `WatchEvents` and `/api/stream/events` can resume after a restart.
//!
//! Retention: at least the last [`Retention::min_events`] events, and beyond that every event younger than
//! [`Retention::min_age`], but never more than [`Retention::max_events`] (bounded memory). The file is appended one
//! line per event and rewritten atomically (only the retained events) when it holds twice as many lines as are
//! retained; a line that does not parse (a torn write, a corrupt file) is skipped and logged.
//!
//! Ids grow by one per event and across restarts: the first id of a process follows the last one in the file, and is
//! at least the current time in milliseconds (so ids still grow if the file is lost).

use std::{
    collections::VecDeque,
    io::Write as _,
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use tokio::sync::watch;

use crate::event::Event;

/// How many events the ring keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Always keep at least this many (10 000).
    pub min_events: usize,
    /// Keep events younger than this even beyond `min_events` (24 h).
    pub min_age: Duration,
    /// Never keep more than this many (100 000).
    pub max_events: usize,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            min_events: 10_000,
            min_age: Duration::from_secs(24 * 60 * 60),
            max_events: 100_000,
        }
    }
}

/// The ring, shared by the publisher (which appends) and every event stream (which reads).
#[derive(Debug)]
pub struct EventLog {
    ring: Mutex<Ring>,
    /// The id of the newest event (0: none yet).
    newest: watch::Sender<u64>,
}

#[derive(Debug)]
struct Ring {
    events: VecDeque<Arc<Event>>,
    next_id: u64,
    file: Option<PathBuf>,
    lines_in_file: usize,
    retention: Retention,
}

impl EventLog {
    /// Returns an in-memory ring (nothing persisted) whose first id is `first_id`.
    pub fn in_memory(first_id: u64) -> Self {
        Self::from_ring(Ring {
            events: VecDeque::new(),
            next_id: first_id.max(1),
            file: None,
            lines_in_file: 0,
            retention: Retention::default(),
        })
    }

    /// Opens the ring persisted at `file` (created on the first event), keeping what `retention` allows; `now_ms` is
    /// the current time, the lowest first id.
    pub fn open(file: PathBuf, retention: Retention, now_ms: i64) -> Self {
        let (mut events, lines_in_file) = load(&file);
        let last = events.back().map_or(0, |e| e.id);
        let mut ring = Ring {
            events: VecDeque::new(),
            next_id: (last + 1).max(u64::try_from(now_ms).unwrap_or(1)).max(1),
            file: Some(file),
            lines_in_file,
            retention,
        };
        ring.events = std::mem::take(&mut events);
        ring.trim(now_ms);
        Self::from_ring(ring)
    }

    fn from_ring(ring: Ring) -> Self {
        let newest = ring.events.back().map_or(0, |e| e.id);
        EventLog {
            ring: Mutex::new(ring),
            newest: watch::channel(newest).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A panic while holding the lock leaves a consistent ring (every mutation is one push or pop).
        self.ring.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Numbers `events`, keeps them, appends them to the file, and wakes every stream. Returns the numbered events.
    pub fn append(&self, events: Vec<Event>, now_ms: i64) -> Vec<Arc<Event>> {
        if events.is_empty() {
            return Vec::new();
        }
        let mut ring = self.lock();
        let mut numbered = Vec::with_capacity(events.len());
        for mut event in events {
            event.id = ring.next_id;
            ring.next_id += 1;
            numbered.push(Arc::new(event));
        }
        ring.persist(&numbered);
        ring.events.extend(numbered.iter().cloned());
        ring.trim(now_ms);
        let newest = ring.events.back().map_or(0, |e| e.id);
        drop(ring);
        self.newest.send_replace(newest);
        numbered
    }

    /// Returns up to `limit` events with an id above `after`, oldest first.
    pub fn after(&self, after: u64, limit: usize) -> Vec<Arc<Event>> {
        let ring = self.lock();
        let start = ring.events.partition_point(|e| e.id <= after);
        ring.events.range(start..).take(limit).cloned().collect()
    }

    /// Returns the id of the newest event (0: none).
    pub fn newest_id(&self) -> u64 {
        *self.newest.borrow()
    }

    /// Returns the id of the oldest event kept (0: none).
    pub fn oldest_id(&self) -> u64 {
        self.lock().events.front().map_or(0, |e| e.id)
    }

    /// Returns how many events are kept.
    pub fn len(&self) -> usize {
        self.lock().events.len()
    }

    /// Returns whether no event is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Returns a receiver of the newest event id: it changes after every [`EventLog::append`].
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.newest.subscribe()
    }

    /// Returns a cursor that reads every event with an id above `after`, then each new one.
    pub fn cursor(self: &Arc<Self>, after: u64) -> EventCursor {
        EventCursor {
            log: self.clone(),
            rx: self.subscribe(),
            after,
        }
    }
}

/// Reads a ring in order, waiting for new events; a slow reader never makes the ring keep more (it skips what was
/// trimmed).
#[derive(Debug)]
pub struct EventCursor {
    log: Arc<EventLog>,
    rx: watch::Receiver<u64>,
    after: u64,
}

impl EventCursor {
    /// The most events one call of [`EventCursor::next_batch`] returns.
    pub const BATCH: usize = 256;

    /// Returns the next events (at most [`EventCursor::BATCH`]), waiting until there are some; `None` when the ring's
    /// publisher is gone. Cancel-safe.
    pub async fn next_batch(&mut self) -> Option<Vec<Arc<Event>>> {
        loop {
            // Mark the current id seen before reading, so an append in between wakes the next wait.
            self.rx.borrow_and_update();
            let batch = self.log.after(self.after, Self::BATCH);
            if let Some(last) = batch.last() {
                self.after = last.id;
                return Some(batch);
            }
            if self.rx.changed().await.is_err() {
                return None;
            }
        }
    }

    /// Returns the id of the last event returned (or the starting point).
    pub fn position(&self) -> u64 {
        self.after
    }
}

impl Ring {
    fn trim(&mut self, now_ms: i64) {
        let keep_after = now_ms.saturating_sub(i64::try_from(self.retention.min_age.as_millis()).unwrap_or(i64::MAX));
        while self.events.len() > self.retention.min_events {
            let oldest_is_old = self.events.front().is_some_and(|e| e.time_ms < keep_after);
            if oldest_is_old || self.events.len() > self.retention.max_events {
                self.events.pop_front();
            } else {
                break;
            }
        }
    }

    fn persist(&mut self, events: &[Arc<Event>]) {
        let Some(file) = self.file.clone() else { return };
        if self.lines_in_file + events.len() > 2 * self.retention.min_events.max(self.events.len()) + 1_000 {
            // Rewrite with what is kept, plus the new events.
            let mut text = Vec::new();
            for event in self.events.iter().chain(events) {
                push_line(&mut text, event);
            }
            match crate::store::write_atomic(&file, &text) {
                Ok(()) => self.lines_in_file = self.events.len() + events.len(),
                Err(error) => tracing::warn!(file = %file.display(), %error, "could not rewrite the event ring"),
            }
            return;
        }
        let mut text = Vec::new();
        for event in events {
            push_line(&mut text, event);
        }
        let appended = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::OpenOptions::new().create(true).append(true).open(&file))
            .and_then(|mut f| f.write_all(&text));
        match appended {
            Ok(()) => self.lines_in_file += events.len(),
            Err(error) => tracing::warn!(file = %file.display(), %error, "could not append to the event ring"),
        }
    }
}

fn push_line(text: &mut Vec<u8>, event: &Event) {
    // An event is plain data: it always serializes.
    if serde_json::to_writer(&mut *text, event).is_ok() {
        text.push(b'\n');
    }
}

/// Reads the ring file: the events in id order (lines out of order or unparsable are skipped and logged), and how
/// many lines the file has.
fn load(file: &Path) -> (VecDeque<Arc<Event>>, usize) {
    // A regular file of at most 64 MiB (amc keeps it far smaller), or nothing.
    let text = match crate::bounded::read(file, 64 << 20).map_err(crate::bounded::Refused::into_io) {
        Ok((text, _)) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (VecDeque::new(), 0),
        Err(error) => {
            tracing::warn!(file = %file.display(), %error, "could not read the event ring; starting empty");
            return (VecDeque::new(), 0);
        }
    };
    let mut events: VecDeque<Arc<Event>> = VecDeque::new();
    let (mut lines, mut skipped) = (0usize, 0usize);
    for line in text.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        lines += 1;
        match serde_json::from_slice::<Event>(line) {
            Ok(event) if events.back().is_none_or(|last| last.id < event.id) => events.push_back(Arc::new(event)),
            _ => skipped += 1,
        }
    }
    if skipped > 0 {
        tracing::warn!(file = %file.display(), skipped, kept = events.len(), "skipped corrupt lines of the event ring");
    }
    (events, lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventKind;

    fn event(session: &str, time_ms: i64) -> Event {
        Event::bare(EventKind::TurnDone, session, time_ms)
    }

    #[test]
    fn ids_grow_across_reopen_and_corrupt_lines_are_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("stream/events.jsonl");
        let log = EventLog::open(file.clone(), Retention::default(), 5);
        let first = log.append(vec![event("a", 5), event("b", 5)], 5);
        assert_eq!(first.iter().map(|e| e.id).collect::<Vec<_>>(), [5, 6]);
        drop(log);
        // A torn last line and some garbage.
        let mut f = std::fs::OpenOptions::new().append(true).open(&file).expect("open");
        f.write_all(b"not json\n{\"id\": 7, \"kind\": \"turn_d").expect("write");
        drop(f);
        let log = EventLog::open(file.clone(), Retention::default(), 1);
        assert_eq!(log.len(), 2);
        assert_eq!(log.newest_id(), 6);
        let next = log.append(vec![event("c", 6)], 6);
        assert_eq!(next[0].id, 7);
        assert_eq!(log.after(5, 10).iter().map(|e| e.id).collect::<Vec<_>>(), [6, 7]);
        assert_eq!(log.after(0, 1).len(), 1);
    }

    #[test]
    fn retention_keeps_the_minimum_and_the_young_and_bounds_the_rest() {
        let retention = Retention {
            min_events: 3,
            min_age: Duration::from_millis(100),
            max_events: 5,
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let log = EventLog::open(dir.path().join("e.jsonl"), retention, 1);
        // Old events beyond the minimum go.
        log.append((0..6).map(|_| event("a", 0)).collect(), 1_000);
        assert_eq!(log.len(), 3);
        // Young ones stay beyond the minimum, up to the maximum.
        log.append((0..6).map(|_| event("a", 1_000)).collect(), 1_000);
        assert_eq!(log.len(), 5);
        // The file is rewritten when it grows too long, and reopening gives the same ring.
        for _ in 0..400 {
            log.append(vec![event("a", 1_000)], 1_000);
        }
        let newest = log.newest_id();
        drop(log);
        let text = std::fs::read_to_string(dir.path().join("e.jsonl")).expect("read");
        assert!(text.lines().count() < 1_100, "{} lines", text.lines().count());
        let log = EventLog::open(dir.path().join("e.jsonl"), retention, 1_000);
        assert_eq!(log.newest_id(), newest);
        assert_eq!(log.len(), 5);
    }
}
