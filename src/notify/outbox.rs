//! A durable outbox: the deliveries of one sink that are not done yet, in `<data dir>/notify/<sink>.outbox.jsonl`.
//!
//! Each new delivery is appended as `{"add": {...}}` before it is attempted, each finished one (delivered, gone, too
//! old) as `{"done": "<id>"}`; opening the file replays both, so a restart or a receiver outage loses nothing and a
//! delivered message is not sent again (at least once: a crash between the send and the `done` line resends it, with
//! the same `webhook-id`). A line that does not parse is skipped and logged. When the file holds many finished
//! entries it is rewritten atomically with the pending ones only. At most [`MAX_PENDING`] deliveries are kept; beyond
//! that the oldest is dropped (logged).

use std::{
    collections::VecDeque,
    io::Write as _,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

/// The most deliveries an outbox keeps.
pub const MAX_PENDING: usize = 10_000;

/// One message to one sink.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    /// The message id (the `webhook-id`): the same for every attempt.
    pub id: String,
    /// When it was queued, in milliseconds since the epoch.
    pub created_ms: i64,
    /// The session it is about.
    pub session_id: String,
    /// The title (ntfy, desktop).
    pub title: String,
    /// The text (ntfy, desktop).
    pub text: String,
    /// The webhook body (JSON), fixed at queue time so every attempt signs the same bytes.
    pub body: String,
    /// ntfy: the tags.
    #[serde(default)]
    pub tags: String,
    /// Attempts made so far (not persisted per attempt).
    #[serde(default)]
    pub attempts: u32,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    Add(Delivery),
    Done(String),
}

/// The outbox of one sink.
#[derive(Debug)]
pub struct Outbox {
    file: PathBuf,
    pending: VecDeque<Delivery>,
    lines: usize,
    cap: usize,
}

impl Outbox {
    /// Opens (or starts) the outbox at `file`.
    pub fn open(file: PathBuf) -> Self {
        let (pending, lines) = load(&file);
        if !pending.is_empty() {
            tracing::info!(file = %file.display(), pending = pending.len(), "outbox has undelivered messages");
        }
        Outbox {
            file,
            pending,
            lines,
            cap: MAX_PENDING,
        }
    }

    /// Queues `delivery` (written before it is attempted).
    pub fn push(&mut self, delivery: Delivery) {
        if self.pending.len() >= self.cap {
            if let Some(dropped) = self.pending.pop_front() {
                tracing::warn!(id = %dropped.id, "outbox full; dropping its oldest message");
                self.append(&Line::Done(dropped.id));
            }
        }
        self.append(&Line::Add(delivery.clone()));
        self.pending.push_back(delivery);
    }

    /// Marks `id` finished (delivered, gone or expired).
    pub fn done(&mut self, id: &str) {
        let before = self.pending.len();
        self.pending.retain(|d| d.id != id);
        if self.pending.len() == before {
            return;
        }
        self.append(&Line::Done(id.to_owned()));
        if self.lines > 2 * self.pending.len() + 1_000 {
            self.rewrite();
        }
    }

    /// The pending deliveries, oldest first.
    pub fn pending(&self) -> &VecDeque<Delivery> {
        &self.pending
    }

    /// The pending delivery `id`, to count an attempt.
    pub fn get_mut(&mut self, id: &str) -> Option<&mut Delivery> {
        self.pending.iter_mut().find(|d| d.id == id)
    }

    fn append(&mut self, line: &Line) {
        let Ok(mut text) = serde_json::to_vec(line) else { return };
        text.push(b'\n');
        let written = self
            .file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::OpenOptions::new().create(true).append(true).open(&self.file))
            .and_then(|mut f| f.write_all(&text).and_then(|()| f.sync_data()));
        match written {
            Ok(()) => self.lines += 1,
            Err(error) => tracing::error!(file = %self.file.display(), %error, "could not write the outbox"),
        }
    }

    fn rewrite(&mut self) {
        let mut text = Vec::new();
        for delivery in &self.pending {
            if serde_json::to_writer(&mut text, &Line::Add(delivery.clone())).is_ok() {
                text.push(b'\n');
            }
        }
        match crate::store::write_atomic(&self.file, &text) {
            Ok(()) => self.lines = self.pending.len(),
            Err(error) => tracing::warn!(file = %self.file.display(), %error, "could not compact the outbox"),
        }
    }
}

fn load(file: &Path) -> (VecDeque<Delivery>, usize) {
    // A regular file of at most 64 MiB (amc keeps it far smaller), or nothing.
    let text = match crate::bounded::read(file, 64 << 20).map_err(crate::bounded::Refused::into_io) {
        Ok((text, _)) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (VecDeque::new(), 0),
        Err(error) => {
            tracing::error!(file = %file.display(), %error, "could not read the outbox");
            return (VecDeque::new(), 0);
        }
    };
    let mut pending: VecDeque<Delivery> = VecDeque::new();
    let (mut lines, mut skipped) = (0, 0);
    for line in text.split(|b| *b == b'\n') {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        lines += 1;
        match serde_json::from_slice::<Line>(line) {
            Ok(Line::Add(delivery)) => {
                if pending.len() >= MAX_PENDING {
                    pending.pop_front();
                }
                pending.push_back(delivery);
            }
            Ok(Line::Done(id)) => pending.retain(|d| d.id != id),
            Err(error) => {
                skipped += 1;
                tracing::warn!(file = %file.display(), line = lines, %error, "skipping a corrupt outbox line");
            }
        }
    }
    if skipped > 0 {
        tracing::warn!(file = %file.display(), skipped, pending = pending.len(), "outbox had corrupt lines");
    }
    (pending, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: &str) -> Delivery {
        Delivery {
            id: id.into(),
            created_ms: 1,
            session_id: "s".into(),
            title: "t".into(),
            text: "x".into(),
            body: "{}".into(),
            tags: String::new(),
            attempts: 0,
        }
    }

    #[test]
    fn pending_deliveries_survive_a_reopen_and_corrupt_lines_are_skipped() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("notify/webhook.outbox.jsonl");
        let mut outbox = Outbox::open(file.clone());
        outbox.push(delivery("a"));
        outbox.push(delivery("b"));
        outbox.push(delivery("c"));
        outbox.done("b");
        drop(outbox);
        let mut f = std::fs::OpenOptions::new().append(true).open(&file).expect("open");
        f.write_all(b"garbage\n{\"add\": {\"id\": \"d\"").expect("write");
        drop(f);
        let outbox = Outbox::open(file);
        let ids: Vec<&str> = outbox.pending().iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["a", "c"]);
    }

    #[test]
    fn the_file_is_compacted_and_the_outbox_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("o.jsonl");
        let mut outbox = Outbox::open(file.clone());
        for i in 0..600 {
            outbox.push(delivery(&i.to_string()));
            outbox.done(&i.to_string());
        }
        outbox.push(delivery("last"));
        let lines = std::fs::read_to_string(&file).expect("read").lines().count();
        assert!(lines < 1_100, "{lines} lines");
        assert_eq!(Outbox::open(file).pending().len(), 1);
        let mut full = Outbox::open(dir.path().join("full.jsonl"));
        full.cap = 20;
        for i in 0..25 {
            full.push(delivery(&i.to_string()));
        }
        assert_eq!(full.pending().len(), 20);
        assert_eq!(full.pending().front().map(|d| d.id.as_str()), Some("5"));
    }
}
