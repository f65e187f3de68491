//! Reading transcripts: one [`TranscriptCache::refresh`](super::TranscriptCache::refresh)'s jobs, run on up to
//! a few threads, each continuing its cursor when the file is an append of what it read, else reading the file
//! from its end (with the look-back the window rule needs).

use std::{
    fs::File,
    io::{self, Read, Seek},
    path::{Path, PathBuf},
};

use super::{claude, codex, cursor, Cursor, Stamp, State, Stated, Tally, TranscriptKind, MAX_TENTATIVE_TAIL_BYTES};

/// A transcript to bring up to date in one [`TranscriptCache::refresh`].
pub(super) struct Job {
    pub(super) path: PathBuf,
    pub(super) kind: TranscriptKind,
    /// The cursor to continue, and whether it comes from the index (then checked against the file first).
    pub(super) previous: Option<(Cursor, bool)>,
    pub(super) stated: Stated,
}

/// What reading one transcript gave.
pub(super) struct Outcome {
    pub(super) path: PathBuf,
    pub(super) result: io::Result<Cursor>,
    pub(super) bytes_read: u64,
    /// Whether the position differs from the one continued (the index has something new to save).
    pub(super) moved: bool,
}

/// Runs `jobs` on up to `threads` threads (inline when there is one job or one thread).
pub(super) fn run_jobs(jobs: Vec<Job>, threads: usize) -> Vec<Outcome> {
    let threads = threads.min(jobs.len());
    if threads <= 1 {
        return jobs.into_iter().map(read_job).collect();
    }
    let mut shares: Vec<Vec<Job>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, job) in jobs.into_iter().enumerate() {
        shares[i % threads].push(job);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| scope.spawn(move || share.into_iter().map(read_job).collect::<Vec<_>>()))
            .collect();
        // A panicking reader loses only its share: those transcripts are read again next pass.
        handles.into_iter().filter_map(|h| h.join().ok()).flatten().collect()
    })
}

pub(super) fn read_job(job: Job) -> Outcome {
    let mut bytes_read = 0;
    let before = job.previous.as_ref().map(|(c, _)| c.position.clone());
    let result = read(&job.path, job.kind, job.previous, job.stated, &mut bytes_read);
    let moved = match (&result, before) {
        (Ok(cursor), Some(before)) => cursor.position != before,
        _ => true,
    };
    Outcome {
        path: job.path,
        result,
        bytes_read,
        moved,
    }
}

/// Continues `previous` when the file is an append of what it read, else reads the file from its end. A cursor
/// from the index is continued only after the file's first bytes hash as recorded.
fn read(
    path: &Path,
    kind: TranscriptKind,
    previous: Option<(Cursor, bool)>,
    stated: Stated,
    bytes_read: &mut u64,
) -> io::Result<Cursor> {
    let mut file = crate::bounded::open(path)?;
    // Stamp from the open handle: the path may have been replaced since the `stat`.
    let stamp = Stamp::of(&file.metadata()?);
    let mut tally = Tally::default();
    let mut warned = false;
    let mut cursor = None;
    if let Some((mut prev, from_index)) = previous.filter(|(c, _)| c.position.can_continue(&stamp)) {
        warned = prev.warned;
        // From the index: the same size with another mtime is a rewrite, never an append.
        let rewritten =
            from_index && stamp.len == prev.position.seen.len && stamp.modified != prev.position.seen.modified;
        if rewritten || (from_index && !prev.position.head_matches(&mut file, bytes_read)?) {
            tracing::debug!(file = %path.display(), "transcript index entry does not match the file; reading it again");
        } else {
            let moved = match &mut prev.state {
                State::Claude(state) => {
                    cursor::read_forward(&mut file, &prev.position, stamp.clone(), state, &mut tally, bytes_read)?
                }
                State::Codex(state) => {
                    cursor::read_forward(&mut file, &prev.position, stamp.clone(), state, &mut tally, bytes_read)?
                }
            };
            match moved {
                Some(position) => {
                    cursor = Some(Cursor {
                        position,
                        effective: prev.state.clone(),
                        state: prev.state,
                        warned,
                    })
                }
                None => {
                    tracing::debug!(file = %path.display(), "transcript rewritten in place; reading it again")
                }
            }
        }
    }
    let mut cursor = match cursor {
        Some(cursor) => cursor,
        None => {
            let (position, state) = match kind {
                TranscriptKind::Claude => {
                    let mut back = claude::Backward::new(stated);
                    let position = cursor::read_backward(&mut file, stamp, &mut back, &mut tally, bytes_read)?;
                    (position, State::Claude(back.into_state()))
                }
                TranscriptKind::Codex => {
                    let mut back = codex::Backward::default();
                    let position = cursor::read_backward(&mut file, stamp, &mut back, &mut tally, bytes_read)?;
                    (position, State::Codex(back.into_state()))
                }
            };
            Cursor {
                position,
                effective: state.clone(),
                state,
                warned,
            }
        }
    };
    cursor.position.note_head(&mut file, bytes_read)?;
    log_tally(path, &tally, &mut cursor.warned);
    if let Some(state) = tentative_tail(&mut file, &cursor, bytes_read) {
        cursor.effective = state;
    }
    Ok(cursor)
}

/// Returns the parser state with the file's unterminated last line applied, when there is one of at most
/// [`MAX_TENTATIVE_TAIL_BYTES`] that is complete JSON; the cursor itself is left before that line.
fn tentative_tail(file: &mut File, cursor: &Cursor, bytes_read: &mut u64) -> Option<State> {
    let tail_len = cursor.position.unconsumed();
    if tail_len == 0 || tail_len > MAX_TENTATIVE_TAIL_BYTES {
        return None;
    }
    let mut tail = vec![0; usize::try_from(tail_len).ok()?];
    file.seek(io::SeekFrom::Start(cursor.position.offset)).ok()?;
    file.read_exact(&mut tail).ok()?;
    *bytes_read += tail_len;
    // Only a line that is already whole: a half-written one fails here and waits for the rest.
    cursor::parse_line::<serde::de::IgnoredAny>(&tail).ok()?;
    let mut state = cursor.state.clone();
    let applied = match &mut state {
        State::Claude(state) => cursor::LineSink::line(state, &tail),
        State::Codex(state) => cursor::LineSink::line(state, &tail),
    };
    applied.ok().map(|()| state)
}

/// Logs skipped lines: every pass at debug level, the first time per file at warn level.
fn log_tally(path: &Path, tally: &Tally, warned: &mut bool) {
    if tally.invalid == 0 && tally.oversized == 0 {
        return;
    }
    let error = tally.first_error.as_deref().unwrap_or("");
    tracing::debug!(
        file = %path.display(), invalid = tally.invalid, oversized = tally.oversized, lines = tally.lines, error,
        "skipped transcript lines"
    );
    if !*warned {
        *warned = true;
        tracing::warn!(
            file = %path.display(), invalid = tally.invalid, oversized = tally.oversized, error,
            "skipped transcript lines that are not valid JSON or are too long (further reports at debug level)"
        );
    }
}
