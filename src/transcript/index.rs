//! The transcript index: what the first reads learned per transcript, kept on disk so that neither a restarted
//! server nor the next `amc snapshot` reads a history again.
//!
//! One file, `<data dir>/cache/transcripts.v2.json`: a format name and version, then per transcript its path and
//! kind, the cursor position (device, inode, size and mtime seen, the offset read up to, the 64 bytes before it, a
//! hash of the first 4 KiB) and the parser state (the newest usage, the largest context seen, the model, the
//! Codex window, the compaction state, and since version 2 the spend facts: Claude's `cost-state`, the tokens per
//! model, Codex's rate limits). It is a cache, never a source of truth:
//! - written atomically (a temp file in the same directory, then `rename`; no `fdatasync`: after a crash the file may
//!   be old or empty, which only costs a re-read), so a reader sees a whole file; two
//!   writers (the server and a snapshot) each write a whole file and the last rename wins;
//! - a missing, unreadable, corrupt or foreign-format file, or one of another version, is ignored (and replaced at
//!   the next write); a read-only or full disk only means nothing is saved (one warning);
//! - an entry is used only as the starting point of a forward read, after the file's device and inode match, its
//!   size is not below the offset, its first bytes hash as recorded and the 64 bytes before the offset are
//!   unchanged; otherwise the transcript is read from its end as if the entry did not exist. A partial last line is
//!   never in an entry (the offset stops before it).
//!
//! When it is written: by [`super::TranscriptCache::save_index`], which the collector calls after each pass; it
//! writes only when a read since the last write moved a cursor, and at most every [`SAVE_INTERVAL`] (the first time
//! at once, so a server's first pass is saved as soon as it ends). `amc snapshot` runs one pass, so it saves when it
//! read anything.

use std::{
    collections::HashMap,
    fs,
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{cursor::Position, State};

/// The index file's name in `<data dir>/cache/`. The version is in the name too, so that two versions of amc sharing
/// a data dir do not overwrite each other's index.
pub const INDEX_FILE: &str = "transcripts.v2.json";

/// What the file's `format` says.
const FORMAT: &str = "amc-transcript-index";

/// Bump when the meaning of a position or a parser state changes: an index of another version is ignored.
const VERSION: u32 = 2;

/// The largest index file read; a larger one is ignored (≈ 1 KB per transcript).
const MAX_INDEX_BYTES: u64 = 64 * 1024 * 1024;

/// How often, at most, a server rewrites the index.
pub const SAVE_INTERVAL: Duration = Duration::from_secs(10);

/// Serialises an `Option<Option<T>>` so that `Some(None)` survives JSON: `None` is `null`, `Some(x)` is `[x]`.
pub(crate) mod nested {
    use super::*;

    pub(crate) fn serialize<S: Serializer, T: Serialize>(value: &Option<Option<T>>, s: S) -> Result<S::Ok, S::Error> {
        value.as_ref().map(|inner| (inner,)).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Ok(Option::<(Option<T>,)>::deserialize(d)?.map(|(inner,)| inner))
    }
}

/// One transcript's entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub(crate) path: PathBuf,
    pub(crate) position: Position,
    pub(crate) state: State,
}

#[derive(Serialize, Deserialize)]
struct File {
    format: String,
    version: u32,
    entries: Vec<Entry>,
}

/// Where the index lives and what was last saved.
#[derive(Debug)]
pub(crate) struct Index {
    path: PathBuf,
    /// Whether a write already failed (warned once).
    write_failed: bool,
}

impl Index {
    /// Returns the index of the data dir `data_dir`.
    pub(crate) fn in_data_dir(data_dir: &Path) -> Self {
        Index {
            path: data_dir.join("cache").join(INDEX_FILE),
            write_failed: false,
        }
    }

    /// Returns the index file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Loads the entries, keyed by path; a missing, unreadable, corrupt or foreign file gives none.
    pub(crate) fn load(&self) -> HashMap<PathBuf, Entry> {
        match self.try_load() {
            Ok(entries) => entries,
            Err(reason) => {
                tracing::debug!(file = %self.path.display(), reason, "transcript index not used");
                HashMap::new()
            }
        }
    }

    fn try_load(&self) -> Result<HashMap<PathBuf, Entry>, String> {
        let meta = fs::metadata(&self.path).map_err(|e| e.to_string())?;
        if !meta.is_file() || meta.len() > MAX_INDEX_BYTES {
            return Err("not a regular file of a sane size".into());
        }
        let (bytes, _) = crate::bounded::read(&self.path, MAX_INDEX_BYTES).map_err(|e| e.to_string())?;
        // The header first, so that a file of another version is recognised even if its entries do not parse.
        #[derive(Deserialize)]
        struct Header {
            format: String,
            version: u32,
        }
        let header: Header = serde_json::from_slice(&bytes).map_err(|e| format!("not an index: {e}"))?;
        if header.format != FORMAT || header.version != VERSION {
            return Err(format!("format {:?} version {}", header.format, header.version));
        }
        let file: File = serde_json::from_slice(&bytes).map_err(|e| format!("corrupt: {e}"))?;
        Ok(file.entries.into_iter().map(|e| (e.path.clone(), e)).collect())
    }

    /// Writes `entries` atomically; a failure is logged (a warning the first time) and otherwise ignored.
    pub(crate) fn save(&mut self, entries: Vec<Entry>) -> bool {
        match self.try_save(entries) {
            Ok(()) => true,
            Err(error) => {
                if !self.write_failed {
                    tracing::warn!(file = %self.path.display(), %error, "cannot save the transcript index; transcripts will be read again after a restart");
                } else {
                    tracing::debug!(file = %self.path.display(), %error, "cannot save the transcript index");
                }
                self.write_failed = true;
                false
            }
        }
    }

    fn try_save(&self, entries: Vec<Entry>) -> std::io::Result<()> {
        let file = File {
            format: FORMAT.into(),
            version: VERSION,
            entries,
        };
        let bytes = serde_json::to_vec(&file).map_err(std::io::Error::other)?;
        crate::store::write_atomic_unsynced(&self.path, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use std::fs::{self, OpenOptions};

    use super::super::{
        test_util::{append, claude_assistant, claude_user, codex_token_count},
        CacheOptions, ContextUsage, SessionHint, TranscriptCache, TranscriptKind, WindowSource,
    };
    use super::*;

    fn cache(data_dir: &Path) -> TranscriptCache {
        TranscriptCache::with_options(CacheOptions {
            data_dir: Some(data_dir.to_path_buf()),
            ..CacheOptions::default()
        })
    }

    fn fresh(path: &Path) -> Option<ContextUsage> {
        TranscriptCache::new(None).context_usage(path, TranscriptKind::Claude)
    }

    /// A transcript of ~1 MB on a model without native 1M: a 250K context early, then smaller ones.
    fn history(path: &Path) {
        let mut body = claude_assistant("early", "claude-opus-4-6", [1, 50_000, 200_000, 5], "t0", "");
        let filler = claude_user(&"f".repeat(4000), "t");
        for i in 0..250 {
            body += &filler;
            if i % 50 == 0 {
                body += &claude_assistant(&format!("m{i}"), "claude-opus-4-6", [1, 1000, 40_000 + i, 5], "t1", "");
            }
        }
        body += &claude_assistant("late", "claude-opus-4-6", [1, 1000, 50_000, 5], "t2", "");
        append(path, body.as_bytes());
    }

    /// Reads `path` with a cache on `data`, saves the index, and returns the usage.
    fn first_run(data: &Path, path: &Path) -> Option<ContextUsage> {
        let mut first = cache(data);
        let usage = first.context_usage(path, TranscriptKind::Claude);
        assert!(first.save_index(), "the index is written after the first read");
        usage
    }

    #[test]
    fn a_second_process_reads_only_what_grew() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (data, path) = (tmp.path().join("data"), tmp.path().join("s.jsonl"));
        history(&path);
        let want = first_run(&data, &path).expect("usage");
        assert_eq!(
            (want.window_tokens, want.window_source),
            (1_000_000, WindowSource::ObservedOver200k)
        );
        let len = fs::metadata(&path).expect("stat").len();

        let mut warm = cache(&data);
        assert_eq!(warm.context_usage(&path, TranscriptKind::Claude), Some(want.clone()));
        // The head hash (4 KiB) and the 64-byte fingerprint; no history.
        assert!(warm.bytes_read() <= 4096 + 64, "read {} of {len}", warm.bytes_read());
        assert!(!warm.save_index(), "nothing new: the index is not rewritten");

        // An append: only the new line is read, and the answer is a fresh read's.
        let line = claude_assistant("next", "claude-opus-4-6", [2, 2000, 60_000, 7], "t3", "");
        append(&path, line.as_bytes());
        let mut warm = cache(&data);
        let got = warm.context_usage(&path, TranscriptKind::Claude);
        assert_eq!(got, fresh(&path));
        assert_eq!(got.and_then(|u| u.current_tokens), Some(62_002));
        assert!(warm.bytes_read() <= 4096 + 64 + line.len() as u64);
    }

    #[test]
    fn changed_files_are_read_again_never_trusted() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let path = tmp.path().join("s.jsonl");
        let a = claude_assistant("a", "claude-opus-4-6", [1, 2, 3, 4], "t1", "");
        let b = claude_assistant("b", "claude-opus-4-6", [10, 20, 30, 40], "t2", "");
        let c = claude_assistant("c", "claude-opus-4-6", [100, 200, 300, 400], "t3", "");

        // Truncated.
        append(&path, (a.clone() + &b).as_bytes());
        first_run(&data, &path);
        OpenOptions::new()
            .write(true)
            .open(&path)
            .expect("open")
            .set_len(a.len() as u64)
            .expect("truncate");
        let got = cache(&data).context_usage(&path, TranscriptKind::Claude);
        assert_eq!(got.as_ref().and_then(|u| u.current_tokens), Some(6));

        // Truncated and grown past the old offset again (Claude Code drops a failed line, then appends).
        fs::write(&path, (a.clone() + &b).as_bytes()).expect("write");
        first_run(&data, &path);
        fs::write(&path, (a.clone() + &c + &a).as_bytes()).expect("write");
        let got = cache(&data).context_usage(&path, TranscriptKind::Claude);
        assert_eq!(got, fresh(&path));
        assert_eq!(got.and_then(|u| u.updated_at), Some("t1".into()));

        // Replaced by rename.
        fs::write(&path, (a.clone() + &b).as_bytes()).expect("write");
        first_run(&data, &path);
        let other = tmp.path().join("other.jsonl");
        append(&other, (b.clone() + &c).as_bytes());
        fs::rename(&other, &path).expect("rename");
        let got = cache(&data).context_usage(&path, TranscriptKind::Claude);
        assert_eq!(got.and_then(|u| u.current_tokens), Some(600));

        // Rewritten in place with the same size: another mtime, or even the same mtime with other first bytes.
        fs::write(&path, (a.clone() + &b).as_bytes()).expect("write");
        first_run(&data, &path);
        let modified = fs::metadata(&path).expect("stat").modified().expect("mtime");
        let rewritten = a.replace("\"t1\"", "\"t8\"") + &b.replace("\"input_tokens\":10,", "\"input_tokens\":19,");
        assert_eq!(rewritten.len(), (a.clone() + &b).len());
        fs::write(&path, rewritten.as_bytes()).expect("write");
        let got = cache(&data).context_usage(&path, TranscriptKind::Claude);
        assert_eq!(got.and_then(|u| u.current_tokens), Some(69));
        fs::write(&path, (a.clone() + &b).as_bytes()).expect("write");
        first_run(&data, &path);
        fs::write(&path, rewritten.as_bytes()).expect("write");
        let file = OpenOptions::new().write(true).open(&path).expect("open");
        file.set_modified(modified).expect("set mtime");
        drop(file);
        let got = cache(&data).context_usage(&path, TranscriptKind::Claude);
        assert_eq!(
            got.and_then(|u| u.current_tokens),
            Some(69),
            "same size, same mtime, other head"
        );

        // Appended with half a line: the complete lines count, the half line waits.
        fs::write(&path, a.as_bytes()).expect("write");
        first_run(&data, &path);
        append(&path, &b.as_bytes()[..b.len() / 2]);
        let mut warm = cache(&data);
        assert_eq!(
            warm.context_usage(&path, TranscriptKind::Claude)
                .and_then(|u| u.current_tokens),
            Some(6)
        );
        append(&path, &b.as_bytes()[b.len() / 2..]);
        assert_eq!(
            warm.context_usage(&path, TranscriptKind::Claude)
                .and_then(|u| u.current_tokens),
            Some(60)
        );
    }

    #[test]
    fn unusable_index_files_are_ignored_and_replaced() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let path = tmp.path().join("s.jsonl");
        history(&path);
        let want = fresh(&path);
        let index = data.join("cache").join(INDEX_FILE);
        fs::create_dir_all(index.parent().expect("parent")).expect("mkdir");
        let len = fs::metadata(&path).expect("stat").len();
        for bad in [
            b"{\"format\":\"amc-transcript-index\",\"version\":1,\"entries\":[{\"path\":".to_vec(),
            b"\x00\x00\x00\x00".to_vec(),
            br#"{"format":"amc-transcript-index","version":99,"entries":[{"what":"a newer layout"}]}"#.to_vec(),
            br#"{"format":"something-else","version":1,"entries":[]}"#.to_vec(),
            serde_json::json!({"format": FORMAT, "version": VERSION, "entries": [{"path": path, "position": 5, "state": {}}]})
                .to_string()
                .into_bytes(),
        ] {
            fs::write(&index, &bad).expect("write index");
            let mut c = cache(&data);
            assert_eq!(c.context_usage(&path, TranscriptKind::Claude), want);
            assert_eq!(c.bytes_read(), len, "the whole history is read again");
            assert!(c.save_index());
            // The replacement is a valid index that the next run uses.
            let mut next = cache(&data);
            assert_eq!(next.context_usage(&path, TranscriptKind::Claude), want);
            assert!(next.bytes_read() <= 4096 + 64);
        }
    }

    #[test]
    fn an_index_for_another_file_with_the_same_identity_is_not_trusted() {
        // An entry whose state does not belong to the file (a stale copy from elsewhere) but whose device, inode and
        // size match: the head hash and the fingerprint reject it.
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let path = tmp.path().join("s.jsonl");
        let a = claude_assistant("a", "claude-opus-4-6", [1, 2, 3, 4], "t1", "");
        append(&path, a.as_bytes());
        first_run(&data, &path);
        let index = data.join("cache").join(INDEX_FILE);
        let text = fs::read_to_string(&index).expect("read index");
        let mut file: serde_json::Value = serde_json::from_str(&text).expect("json");
        let entry = &mut file["entries"][0];
        entry["position"]["head"]["hash"] = serde_json::json!(12345);
        entry["state"]["state"]["usage"]["input"] = serde_json::json!(1_000_000);
        fs::write(&index, file.to_string()).expect("write");
        let got = cache(&data).context_usage(&path, TranscriptKind::Claude);
        assert_eq!(got.and_then(|u| u.current_tokens), Some(6));
    }

    #[test]
    fn a_read_only_data_dir_only_means_nothing_is_saved() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        // `cache` is a file, so the index's directory cannot be created (works as root too, unlike chmod).
        fs::create_dir_all(&data).expect("mkdir");
        fs::write(data.join("cache"), b"not a dir").expect("write");
        let path = tmp.path().join("s.jsonl");
        history(&path);
        let mut c = cache(&data);
        assert_eq!(c.context_usage(&path, TranscriptKind::Claude), fresh(&path));
        assert!(!c.save_index());
        assert_eq!(c.context_usage(&path, TranscriptKind::Claude), fresh(&path));
    }

    #[test]
    fn concurrent_writers_leave_a_whole_index() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let paths: Vec<PathBuf> = (0..8).map(|i| tmp.path().join(format!("{i}.jsonl"))).collect();
        for (i, p) in paths.iter().enumerate() {
            let tokens = 1000 * (i as u64 + 1);
            append(
                p,
                claude_assistant("a", "claude-opus-4-6", [1, 0, tokens, 1], "t", "").as_bytes(),
            );
        }
        std::thread::scope(|scope| {
            for t in 0..4 {
                let (data, paths) = (&data, &paths);
                scope.spawn(move || {
                    for round in 0..20 {
                        let mut c = cache(data);
                        for p in paths.iter().skip((t + round) % 3) {
                            c.context_usage(p, TranscriptKind::Claude);
                        }
                        c.save_index();
                    }
                });
            }
        });
        let mut c = cache(&data);
        for (i, p) in paths.iter().enumerate() {
            let got = c
                .context_usage(p, TranscriptKind::Claude)
                .and_then(|u| u.current_tokens);
            assert_eq!(got, Some(1 + 1000 * (i as u64 + 1)));
        }
        assert!(!Index::in_data_dir(&data).load().is_empty());
    }

    #[test]
    fn a_look_back_skipped_on_a_setting_is_done_when_the_setting_goes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let path = tmp.path().join("s.jsonl");
        history(&path);
        let hint = SessionHint {
            model: Some("claude-opus-4-6[1m]"),
            project_dir: None,
        };
        let mut first = cache(&data);
        let got = first
            .context_usage_for(&path, TranscriptKind::Claude, hint)
            .expect("usage");
        assert_eq!(
            (got.window_tokens, got.window_source),
            (1_000_000, WindowSource::ModelSetting)
        );
        assert!(!got.window_inferred);
        // The first 64 KiB chunk from the end and the 4 KiB head, of a ~1 MB file.
        assert!(first.bytes_read() <= 68 * 1024, "the window was stated: no look-back");
        first.save_index();
        // Without the setting, in the same process and in the next one, the history decides, as a fresh read does.
        let plain = first.context_usage(&path, TranscriptKind::Claude);
        assert_eq!(plain, fresh(&path));
        let mut next = cache(&data);
        assert_eq!(next.context_usage(&path, TranscriptKind::Claude), fresh(&path));
    }

    #[test]
    fn codex_rollouts_round_trip() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let data = tmp.path().join("data");
        let path = tmp.path().join("rollout.jsonl");
        append(&path, codex_token_count(100, 50, 10, Some(258_400), "t").as_bytes());
        let mut first = cache(&data);
        let want = first.context_usage(&path, TranscriptKind::Codex).expect("usage");
        assert_eq!(want.window_source, WindowSource::AgentReported);
        first.save_index();
        let mut next = cache(&data);
        assert_eq!(next.context_usage(&path, TranscriptKind::Codex), Some(want));
        // The same path asked as the other kind starts over.
        assert_eq!(next.context_usage(&path, TranscriptKind::Claude), None);
    }
}
