//! One page of an `events/<id>.jsonl` log, read backwards from a byte offset: the newest `limit` valid lines before
//! it, in file order, without ever holding more than the page (and one line of at most `max_line` bytes) in memory.
//!
//! The file is opened through [`crate::bounded`]: a regular file inside the data dir, or nothing.

use std::{os::unix::fs::FileExt as _, path::Path};

use crate::bounded::{self, Refused};

/// How much is read per `pread` going backwards.
const CHUNK: u64 = 64 * 1024;

/// A page is cut once its lines hold this many bytes (the rest comes with the next page).
pub const MAX_PAGE_BYTES: usize = 8 << 20;

/// A request reads at most this much of the file (a log of one huge line, or a sparse file of zeros, is not scanned
/// to its start in one request: the page ends early and `next_before` goes on from where it stopped).
pub const MAX_SCAN_BYTES: u64 = 32 << 20;

/// What one page needs.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    /// Lines ending at or before this byte offset (`None`: the end of the file).
    pub before: Option<u64>,
    /// At most this many events.
    pub limit: usize,
    /// Lines longer than this are skipped.
    pub max_line: usize,
}

/// One page of events.
#[derive(Debug, Default)]
pub struct Page {
    /// The lines (each one valid JSON), oldest first.
    pub lines: Vec<Vec<u8>>,
    /// The byte offset to ask with `before=` for the page before this one; `None` at the start of the file.
    pub next_before: Option<u64>,
    /// Lines skipped for their length.
    pub skipped_long: usize,
}

/// Reads the page of `path` (confined to `root`) that `request` asks for.
pub fn read_page(path: &Path, root: &Path, request: PageRequest) -> Result<Page, Refused> {
    bounded::check_confined(path, root)?;
    let (file, meta) = bounded::open_regular(path)?;
    let end = request.before.map_or(meta.len(), |b| b.min(meta.len()));
    let mut page = Page::default();
    // Newest first while scanning; reversed at the end.
    let mut found: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut bytes = 0usize;
    // The part of the current line seen so far (it continues to the right), unless it is too long already.
    let mut tail: Vec<u8> = Vec::new();
    let mut too_long = false;
    let mut pos = end;
    let full = |found: &Vec<(u64, Vec<u8>)>, bytes: usize| found.len() >= request.limit || bytes >= MAX_PAGE_BYTES;
    let max_line = request.max_line;
    let mut chunk = Vec::new();
    let floor = end.saturating_sub(MAX_SCAN_BYTES);
    'scan: loop {
        // A line begun above the budget's floor is read to its start (at most `max_line` more).
        let lower = if tail.is_empty() || too_long { floor } else { 0 };
        if pos <= lower || full(&found, bytes) {
            break;
        }
        let start = pos.saturating_sub(CHUNK).max(lower);
        chunk.resize(usize::try_from(pos - start).unwrap_or(0), 0);
        file.read_exact_at(&mut chunk, start)?;
        let mut hi = chunk.len();
        while let Some(nl) = memchr::memrchr(b'\n', &chunk[..hi]) {
            let offset = start + nl as u64 + 1;
            bytes += finish(
                offset,
                &chunk[nl + 1..hi],
                &mut tail,
                &mut too_long,
                max_line,
                &mut found,
                &mut page,
            );
            hi = nl;
            if full(&found, bytes) {
                pos = offset;
                break 'scan;
            }
        }
        if !too_long {
            if tail.len() + hi > request.max_line {
                too_long = true;
                tail.clear();
            } else {
                let mut joined = chunk[..hi].to_vec();
                joined.append(&mut tail);
                tail = joined;
            }
        }
        pos = start;
    }
    if pos == 0 && !full(&found, bytes) && (!tail.is_empty() || too_long) {
        finish(0, &[], &mut tail, &mut too_long, max_line, &mut found, &mut page);
    }
    page.next_before = (pos > 0).then_some(pos);
    page.lines = found.into_iter().rev().map(|(_, line)| line).collect();
    Ok(page)
}

/// Ends the line at `offset` (`piece` then `tail`): kept when short enough, not blank and valid JSON; returns the
/// bytes kept.
fn finish(
    offset: u64,
    piece: &[u8],
    tail: &mut Vec<u8>,
    too_long: &mut bool,
    max_line: usize,
    found: &mut Vec<(u64, Vec<u8>)>,
    page: &mut Page,
) -> usize {
    let mut kept = 0;
    if *too_long || piece.len() + tail.len() > max_line {
        page.skipped_long += 1;
    } else {
        let mut line = piece.to_vec();
        line.append(tail);
        let blank = line.iter().all(u8::is_ascii_whitespace);
        if !blank && serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok() {
            kept = line.len();
            found.push((offset, line));
        }
    }
    tail.clear();
    *too_long = false;
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str, before: Option<u64>, limit: usize) -> (Vec<String>, Option<u64>, usize) {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("e.jsonl");
        std::fs::write(&file, text).expect("write");
        let request = PageRequest {
            before,
            limit,
            max_line: 20,
        };
        let page = read_page(&file, dir.path(), request).expect("page");
        let lines = page
            .lines
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        (lines, page.next_before, page.skipped_long)
    }

    #[test]
    fn pages_go_backwards_from_the_end_and_skip_bad_lines() {
        let text = "{\"n\":1}\nnot json\n\n{\"n\":2}\n{\"n\":3}\n{\"n\":4}";
        assert_eq!(
            page(text, None, 10),
            (
                vec![
                    "{\"n\":1}".into(),
                    "{\"n\":2}".into(),
                    "{\"n\":3}".into(),
                    "{\"n\":4}".into()
                ],
                None,
                0
            )
        );
        let (lines, next, _) = page(text, None, 2);
        assert_eq!(lines, vec!["{\"n\":3}", "{\"n\":4}"]);
        let next = next.expect("more before");
        assert_eq!(&text[next as usize..next as usize + 7], "{\"n\":3}");
        let (lines, next, _) = page(text, Some(next), 2);
        assert_eq!(lines, vec!["{\"n\":1}", "{\"n\":2}"]);
        assert_eq!(next, None, "the start of the file");
        assert_eq!(page(text, Some(0), 2).0, Vec::<String>::new());
    }

    #[test]
    fn long_lines_are_skipped_across_chunks() {
        let long = format!("{{\"x\":\"{}\"}}", "y".repeat(200_000));
        let text = format!("{{\"n\":1}}\n{long}\n{{\"n\":2}}\n");
        let (lines, next, skipped) = page(&text, None, 10);
        assert_eq!(lines, vec!["{\"n\":1}", "{\"n\":2}"]);
        assert_eq!((next, skipped), (None, 1));
    }
}
