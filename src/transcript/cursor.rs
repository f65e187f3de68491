//! Reading a transcript incrementally: file identity, forward reads of the bytes appended since the last pass, the
//! first backward read from the end, and lenient line decoding.
//!
//! Nothing here knows a transcript format: the parsers in `claude.rs` and `codex.rs` receive whole lines through
//! [`LineSink`] (oldest first) and [`BackwardSink`] (newest first).

use std::{
    fmt,
    fs::{File, Metadata},
    io::{self, Read, Seek, SeekFrom},
    marker::PhantomData,
    time::SystemTime,
};

use serde::{
    de::{self, value::MapAccessDeserializer, value::SeqAccessDeserializer, IntoDeserializer},
    Deserialize, Deserializer, Serialize,
};

/// The longest line that is assembled and parsed; longer lines are skipped without being held in memory.
///
/// Lines with base64 images reach tens of MB (formats.md §6 asks for no cap under about 10 MB).
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// How many bytes just before a cursor's offset are kept to notice a file rewritten in place.
///
/// Claude Code drops the last line after a streaming error (truncating in place since 2.1.69) and then appends again,
/// so the file can be longer than the cursor's offset and still not be an append of what was read.
const FINGERPRINT_BYTES: usize = 64;

/// Read size of forward reads.
const FORWARD_CHUNK_BYTES: usize = 256 * 1024;

/// First read size of a backward read; each further read doubles, up to [`BACKWARD_MAX_CHUNK_BYTES`].
const BACKWARD_FIRST_CHUNK_BYTES: u64 = 64 * 1024;

/// Largest read size of a backward read.
const BACKWARD_MAX_CHUNK_BYTES: u64 = 4 * 1024 * 1024;

/// How many bytes at a file's start are hashed to recognise, from the index of another process, a file rewritten in
/// place (same inode, size not smaller) before its tail fingerprint is compared.
const HEAD_BYTES: u64 = 4096;

/// Identifies a file across renames: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileId {
    dev: u64,
    ino: u64,
}

impl FileId {
    /// Returns the identity of the file `meta` describes.
    #[cfg(unix)]
    pub(crate) fn of(meta: &Metadata) -> Self {
        use std::os::unix::fs::MetadataExt;
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// Returns a placeholder identity (no inode numbers here, so only size and mtime detect a replaced file).
    #[cfg(not(unix))]
    pub(crate) fn of(_meta: &Metadata) -> Self {
        FileId { dev: 0, ino: 0 }
    }
}

/// What a `stat` tells about a transcript: enough to decide whether anything needs reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stamp {
    pub(crate) id: FileId,
    pub(crate) len: u64,
    pub(crate) modified: Option<SystemTime>,
}

impl Stamp {
    /// Returns the stamp of the file `meta` describes.
    pub(crate) fn of(meta: &Metadata) -> Self {
        Stamp {
            id: FileId::of(meta),
            len: meta.len(),
            modified: meta.modified().ok(),
        }
    }
}

/// A hash of a file's first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Head {
    /// How many bytes were hashed: `min(HEAD_BYTES, offset)` when computed.
    len: u64,
    /// Their FNV-1a hash.
    hash: u64,
}

impl Head {
    /// Reads and hashes the first `min(HEAD_BYTES, offset)` bytes of `file`.
    fn read(file: &mut File, offset: u64, bytes_read: &mut u64) -> io::Result<Head> {
        let len = offset.min(HEAD_BYTES);
        let mut buf = vec![0; usize::try_from(len).map_err(|_| io::Error::other("head too large"))?];
        file.seek(SeekFrom::Start(0))?;
        let got = read_full(file, &mut buf, bytes_read)?;
        Ok(Head {
            len: got as u64,
            hash: fnv1a(&buf[..got]),
        })
    }
}

/// FNV-1a, 64 bits: stable across builds and platforms (the index outlives the process).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &b| {
        (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Where the next forward read of one transcript starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Position {
    /// The file this position belongs to.
    pub(crate) id: FileId,
    /// The offset just past the last complete line consumed (a partial last line is left for the next pass).
    pub(crate) offset: u64,
    /// Up to [`FINGERPRINT_BYTES`] bytes ending at `offset`.
    fingerprint: Vec<u8>,
    /// The stamp seen at the last read; an identical stamp means nothing to read.
    pub(crate) seen: Stamp,
    /// A hash of the file's first bytes, checked before a position from the index is trusted.
    #[serde(default)]
    head: Option<Head>,
}

impl Position {
    /// Returns how many bytes of the file, as last seen, follow `offset`: an unterminated last line.
    pub(crate) fn unconsumed(&self) -> u64 {
        self.seen.len.saturating_sub(self.offset)
    }

    /// Returns whether the file, as `stamp` shows it now, is exactly as it was at the last read.
    pub(crate) fn unchanged(&self, stamp: &Stamp) -> bool {
        self.seen == *stamp
    }

    /// Returns whether a forward read from this position can continue the file `stamp` describes: same file, not
    /// shorter than what was consumed. (The fingerprint is checked during the read.)
    pub(crate) fn can_continue(&self, stamp: &Stamp) -> bool {
        self.id == stamp.id && stamp.len >= self.offset
    }

    /// Records the hash of the file's first bytes, unless it already covers as many as there are to hash.
    pub(crate) fn note_head(&mut self, file: &mut File, bytes_read: &mut u64) -> io::Result<()> {
        let want = self.offset.min(HEAD_BYTES);
        if self.head.is_none_or(|h| h.len < want) {
            self.head = Some(Head::read(file, self.offset, bytes_read)?);
        }
        Ok(())
    }

    /// Returns whether the file's first bytes still hash as recorded (false when nothing was recorded).
    pub(crate) fn head_matches(&self, file: &mut File, bytes_read: &mut u64) -> io::Result<bool> {
        match self.head {
            Some(head) => Ok(Head::read(file, head.len, bytes_read)? == head),
            None => Ok(false),
        }
    }
}

/// Counts of what a read met, for logging.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    /// Complete, non-blank lines handed to a sink.
    pub(crate) lines: u64,
    /// Lines that were not valid UTF-8 JSON of the expected shape.
    pub(crate) invalid: u64,
    /// Lines longer than [`MAX_LINE_BYTES`], skipped unread.
    pub(crate) oversized: u64,
    /// The first parse error met.
    pub(crate) first_error: Option<String>,
}

impl Tally {
    fn record(&mut self, result: Result<(), serde_json::Error>) {
        self.lines += 1;
        if let Err(error) = result {
            self.invalid += 1;
            if self.first_error.is_none() {
                self.first_error = Some(error.to_string());
            }
        }
    }
}

/// Receives complete lines oldest first.
pub(crate) trait LineSink {
    /// Returns whether `line` can matter at all, judged on its raw bytes before any JSON parse (a line that cannot
    /// is skipped unparsed). The default hands every line over.
    fn wanted(&self, _line: &[u8]) -> bool {
        true
    }

    /// Applies one complete line (without its `\n`); an error means the line was skipped.
    fn line(&mut self, line: &[u8]) -> Result<(), serde_json::Error>;
}

/// Receives complete lines newest first, during the first read of a transcript.
pub(crate) trait BackwardSink {
    /// As [`LineSink::wanted`].
    fn wanted(&self, _line: &[u8]) -> bool {
        true
    }

    /// Applies one complete line (without its `\n`) that starts at byte `start`; an error means it was skipped.
    fn line(&mut self, line: &[u8], start: u64) -> Result<(), serde_json::Error>;

    /// Returns whether lines before byte `pos` can no longer change the answer, so the backward read may stop.
    fn determined(&mut self, pos: u64) -> bool;

    /// Called once when the backward read ends: `at_start` is true when every line back to the file's first was
    /// handed over, false when [`BackwardSink::determined`] stopped the read earlier.
    fn finished(&mut self, _at_start: bool) {}
}

/// A raw-byte line filter: a line can matter only when it contains one of a few fixed byte strings (a key or a
/// `type` value), found with `memchr`'s SIMD substring search before any JSON parse.
pub(crate) struct Prefilter {
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl Prefilter {
    /// Builds a filter for lines that contain any of `needles`.
    pub(crate) fn new(needles: &[&'static str]) -> Self {
        Prefilter {
            finders: needles
                .iter()
                .map(|n| memchr::memmem::Finder::new(n.as_bytes()))
                .collect(),
        }
    }

    /// Returns whether `line` contains one of the needles.
    pub(crate) fn matches(&self, line: &[u8]) -> bool {
        self.finders.iter().any(|f| f.find(line).is_some())
    }
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(u8::is_ascii_whitespace)
}

/// Keeps the last [`FINGERPRINT_BYTES`] of everything pushed.
fn push_tail(tail: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.len() >= FINGERPRINT_BYTES {
        tail.clear();
        tail.extend_from_slice(&bytes[bytes.len() - FINGERPRINT_BYTES..]);
        return;
    }
    tail.extend_from_slice(bytes);
    if tail.len() > FINGERPRINT_BYTES {
        tail.drain(..tail.len() - FINGERPRINT_BYTES);
    }
}

/// Reads into `buf` until it is full or the file ends; returns how many bytes were read.
fn read_full(file: &mut File, buf: &mut [u8], bytes_read: &mut u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    *bytes_read += filled as u64;
    Ok(filled)
}

/// Reads the complete lines appended after `from`, oldest first, into `sink`.
///
/// Returns the new position, or `None` when the bytes before `from` no longer match `from`'s fingerprint (the file
/// was rewritten: the caller starts over). A partial last line is not consumed. `stamp` is the file's stamp taken
/// from the open handle before reading.
pub(crate) fn read_forward(
    file: &mut File,
    from: &Position,
    stamp: Stamp,
    sink: &mut impl LineSink,
    tally: &mut Tally,
    bytes_read: &mut u64,
) -> io::Result<Option<Position>> {
    let fp_len = from.fingerprint.len();
    let fp_start = from.offset - fp_len as u64;
    file.seek(SeekFrom::Start(fp_start))?;
    let mut fingerprint = vec![0; fp_len];
    if read_full(file, &mut fingerprint, bytes_read)? != fp_len || fingerprint != from.fingerprint {
        return Ok(None);
    }

    let mut offset = from.offset;
    let mut chunk_start = from.offset;
    // The bytes of the line being assembled (it started in an earlier chunk).
    let mut pending: Vec<u8> = Vec::new();
    // Inside a line longer than MAX_LINE_BYTES: its bytes are dropped until its `\n`.
    let mut oversized = false;
    let mut chunk = vec![0; FORWARD_CHUNK_BYTES];
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        *bytes_read += n as u64;
        let data = &chunk[..n];
        let mut start = 0;
        while let Some(rel) = memchr::memchr(b'\n', &data[start..]) {
            let newline = start + rel;
            let segment = &data[start..newline];
            if oversized {
                oversized = false;
                tally.oversized += 1;
                // The fingerprint may only hold bytes that really precede the offset.
                fingerprint.clear();
                push_tail(&mut fingerprint, &data[start..=newline]);
            } else if pending.is_empty() {
                if sink.wanted(segment) && !is_blank(segment) {
                    tally.record(sink.line(segment));
                }
                push_tail(&mut fingerprint, &data[start..=newline]);
            } else {
                pending.extend_from_slice(segment);
                if sink.wanted(&pending) && !is_blank(&pending) {
                    tally.record(sink.line(&pending));
                }
                push_tail(&mut fingerprint, &pending);
                push_tail(&mut fingerprint, b"\n");
                // Release a huge line's buffer at once rather than holding it until the end of the read.
                pending = Vec::new();
            }
            offset = chunk_start + newline as u64 + 1;
            start = newline + 1;
        }
        let rest = &data[start..];
        if !oversized && !rest.is_empty() {
            if pending.len() + rest.len() > MAX_LINE_BYTES {
                oversized = true;
                pending = Vec::new();
            } else {
                pending.extend_from_slice(rest);
            }
        }
        chunk_start += n as u64;
    }
    Ok(Some(Position {
        id: stamp.id,
        offset,
        fingerprint,
        seen: stamp,
        head: from.head,
    }))
}

/// Reads a file's lines newest first, from its end, until `sink` says the answer is determined or the file's start
/// is reached.
///
/// Returns the position after the last complete line (a partial last line is left for the next forward read).
pub(crate) fn read_backward(
    file: &mut File,
    stamp: Stamp,
    sink: &mut impl BackwardSink,
    tally: &mut Tally,
    bytes_read: &mut u64,
) -> io::Result<Position> {
    let mut pos = stamp.len;
    let mut chunk_len = BACKWARD_FIRST_CHUNK_BYTES;
    // Position just past the file's last `\n`; `None` until it is found.
    let mut end: Option<u64> = None;
    let mut fingerprint = Vec::new();
    // The head pieces of the line being assembled, newest (rightmost) first.
    let mut pieces: Vec<Vec<u8>> = Vec::new();
    let mut pieces_len = 0usize;
    let mut oversized = false;
    let mut chunk = Vec::new();
    // The file's first bytes, once the read reaches them: the head hash then costs no second read.
    let mut head_bytes: Option<Vec<u8>> = None;

    // Hands one assembled line to the sink; returns whether the read may stop.
    let mut emit =
        |head: &[u8], pieces: &mut Vec<Vec<u8>>, pieces_len: &mut usize, oversized: &mut bool, start: u64| {
            if *oversized {
                *oversized = false;
                tally.oversized += 1;
            } else if pieces.is_empty() {
                if sink.wanted(head) && !is_blank(head) {
                    tally.record(sink.line(head, start));
                }
            } else {
                let mut line = Vec::with_capacity(head.len() + *pieces_len);
                line.extend_from_slice(head);
                for piece in pieces.iter().rev() {
                    line.extend_from_slice(piece);
                }
                if sink.wanted(&line) && !is_blank(&line) {
                    tally.record(sink.line(&line, start));
                }
            }
            pieces.clear();
            *pieces_len = 0;
            sink.determined(start)
        };

    while pos > 0 {
        let start = pos.saturating_sub(chunk_len);
        chunk_len = (chunk_len * 2).min(BACKWARD_MAX_CHUNK_BYTES);
        // Both bounds come from `u64` offsets at most BACKWARD_MAX_CHUNK_BYTES apart, so the length fits a usize.
        let len = usize::try_from(pos - start).map_err(|_| io::Error::other("chunk too large"))?;
        chunk.resize(len, 0);
        file.seek(SeekFrom::Start(start))?;
        if read_full(file, &mut chunk, bytes_read)? != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "transcript shrank while being read",
            ));
        }
        if start == 0 {
            head_bytes = Some(chunk[..chunk.len().min(HEAD_BYTES as usize)].to_vec());
        }
        let mut seg_end = chunk.len();
        while let Some(newline) = memchr::memrchr(b'\n', &chunk[..seg_end]) {
            let line_start = start + newline as u64 + 1;
            if end.is_none() {
                // The file's last newline: whatever follows it is a partial line, left for the next pass.
                end = Some(line_start);
                fingerprint.extend_from_slice(&chunk[(newline + 1).saturating_sub(FINGERPRINT_BYTES)..=newline]);
                pieces.clear();
                pieces_len = 0;
                oversized = false;
            } else if emit(
                &chunk[newline + 1..seg_end],
                &mut pieces,
                &mut pieces_len,
                &mut oversized,
                line_start,
            ) {
                sink.finished(false);
                return Ok(finish(end, fingerprint, stamp, head_bytes.as_deref()));
            }
            seg_end = newline;
        }
        // `chunk[..seg_end]` is the tail of a line that began further back.
        if end.is_some() && !oversized && seg_end > 0 {
            if pieces_len + seg_end > MAX_LINE_BYTES {
                oversized = true;
                pieces.clear();
                pieces_len = 0;
            } else {
                pieces.push(chunk[..seg_end].to_vec());
                pieces_len += seg_end;
            }
        }
        pos = start;
    }
    if end.is_some() {
        emit(&[], &mut pieces, &mut pieces_len, &mut oversized, 0);
    }
    // Every line back to the file's first was handed over.
    sink.finished(true);
    Ok(finish(end, fingerprint, stamp, head_bytes.as_deref()))
}

fn finish(end: Option<u64>, fingerprint: Vec<u8>, stamp: Stamp, head_bytes: Option<&[u8]>) -> Position {
    let offset = end.unwrap_or(0);
    let head = head_bytes.map(|bytes| {
        let bytes = &bytes[..bytes.len().min(usize::try_from(offset.min(HEAD_BYTES)).unwrap_or(0))];
        Head {
            len: bytes.len() as u64,
            hash: fnv1a(bytes),
        }
    });
    Position {
        id: stamp.id,
        offset,
        fingerprint,
        seen: stamp,
        head,
    }
}

/// Decodes one line; a line that is not valid UTF-8 is rejected even where the bad bytes sit in a value the decoder
/// would skip (serde_json does not validate skipped strings). A leading UTF-8 byte-order mark (a file saved by an
/// editor, or lines concatenated from such files) is ignored, as is a `\r` before the `\n` (JSON whitespace).
pub(crate) fn parse_line<'a, T: Deserialize<'a>>(line: &'a [u8]) -> Result<T, serde_json::Error> {
    let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
    let text = std::str::from_utf8(line).map_err(<serde_json::Error as de::Error>::custom)?;
    serde_json::from_str(text)
}

/// A field decoded only when its JSON value has the expected type; any other value (or `null`) gives `None`.
///
/// Transcripts are written by many versions of two tools. A field with a surprising type must not make the whole
/// line unreadable, and must not make the parser allocate a copy of a large value it does not need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lenient<T>(pub(crate) Option<T>);

impl<T> Default for Lenient<T> {
    fn default() -> Self {
        Lenient(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientVisitor(PhantomData))
    }
}

struct LenientVisitor<T>(PhantomData<T>);

impl<T> LenientVisitor<T> {
    /// Decodes a scalar, turning a type mismatch into `None`.
    fn scalar<'de, E: de::Error, D: Deserializer<'de, Error = de::value::Error>>(value: D) -> Result<Lenient<T>, E>
    where
        T: Deserialize<'de>,
    {
        Ok(Lenient(T::deserialize(value).ok()))
    }
}

impl<'de, T: Deserialize<'de>> de::Visitor<'de> for LenientVisitor<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Self::scalar(v.into_deserializer())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Self::scalar(v.into_deserializer())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Self::scalar(v.into_deserializer())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Self::scalar(v.into_deserializer())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Self::scalar(de::value::StrDeserializer::new(v))
    }

    // A string without escapes, borrowed from the line: a `Cow<str>` field takes it without a copy.
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Self::scalar(de::value::BorrowedStrDeserializer::new(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Lenient(None))
    }

    // Maps and sequences are decoded in place; their nested fields are lenient too, so an error here is structural
    // (bad JSON) and must fail the line.
    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(|value| Lenient(Some(value)))
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        T::deserialize(SeqAccessDeserializer::new(seq)).map(|value| Lenient(Some(value)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Probe {
        n: Lenient<u64>,
        s: Lenient<String>,
        b: Lenient<bool>,
        inner: Lenient<Inner>,
    }

    #[derive(Deserialize, Default)]
    #[serde(default)]
    struct Inner {
        n: Lenient<u64>,
    }

    #[test]
    fn lenient_fields_ignore_wrong_types() {
        let p: Probe =
            serde_json::from_str(r#"{"n":"12","s":5,"b":null,"inner":"x","other":[1,{"a":2}]}"#).expect("valid JSON");
        assert_eq!((p.n.0, p.s.0, p.b.0), (None, None, None));
        assert!(p.inner.0.is_none());
        let p: Probe = serde_json::from_str(r#"{"n":12,"s":"x","b":true,"inner":{"n":-3}}"#).expect("valid JSON");
        assert_eq!((p.n.0, p.s.0.as_deref(), p.b.0), (Some(12), Some("x"), Some(true)));
        assert_eq!(p.inner.0.map(|i| i.n.0), Some(None));
    }

    #[test]
    fn lenient_fields_still_reject_bad_json() {
        assert!(serde_json::from_str::<Probe>(r#"{"inner":{"n":1,}}"#).is_err());
    }

    #[test]
    fn tail_keeps_the_last_bytes() {
        let mut tail = Vec::new();
        push_tail(&mut tail, b"abc");
        push_tail(&mut tail, &[b'x'; 70]);
        assert_eq!(tail.len(), FINGERPRINT_BYTES);
        push_tail(&mut tail, b"\n");
        assert_eq!(tail.last(), Some(&b'\n'));
        assert_eq!(tail.len(), FINGERPRINT_BYTES);
    }
}
