//! Bounded reads: every file amc reads on behalf of a request or a pass is opened through here.
//!
//! - **Type-checked.** A file is opened with `O_NONBLOCK` and checked with `fstat` on the open handle: only regular
//!   files are read. A FIFO or a device (`/dev/zero`) is never read and never blocks the opener (a FIFO without a
//!   writer opens at once under `O_NONBLOCK`, and is then refused).
//! - **Confined.** Given a root (the data dir), a path that is, or goes through, a symlink resolving outside that
//!   root is refused.
//! - **Size-bounded.** A file longer than the caller's limit is refused with its size (it is never read into
//!   memory); a file that grows while being read is cut at the limit and refused too.
//!
//! Refusals ([`Refused`]) name no path: callers log the path and show users a short reason.

use std::{
    fs::{File, Metadata, OpenOptions},
    io::{self, Read},
    os::unix::fs::{FileTypeExt as _, OpenOptionsExt as _},
    path::Path,
};

/// Why a file was not read. Its `Display` never names the path.
#[derive(Debug, thiserror::Error)]
pub enum Refused {
    /// Nothing there (or it vanished).
    #[error("no such file")]
    NotFound,
    /// A FIFO, a device, a socket or a directory.
    #[error("not a regular file ({0})")]
    NotRegular(&'static str),
    /// A symlink that leads out of the data dir.
    #[error("a symlink out of the data dir")]
    OutsideRoot,
    /// Longer than the limit.
    #[error("{len} bytes, over the limit of {max}")]
    TooLarge {
        /// The file's size.
        len: u64,
        /// The limit.
        max: u64,
    },
    /// Any other I/O error (permissions, ...).
    #[error("{0}")]
    Io(io::ErrorKind),
}

impl From<io::Error> for Refused {
    fn from(error: io::Error) -> Self {
        match error.kind() {
            io::ErrorKind::NotFound => Refused::NotFound,
            kind => Refused::Io(kind),
        }
    }
}

impl Refused {
    /// As an `io::Error` (for callers that speak `io::Result`): not found stays `NotFound`.
    pub fn into_io(self) -> io::Error {
        match self {
            Refused::NotFound => io::ErrorKind::NotFound.into(),
            Refused::Io(kind) => kind.into(),
            other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
        }
    }
}

/// The kind of a non-regular file, for messages.
fn kind_name(meta: &Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a file"
    }
}

/// Refuses `path` (a file listed in, or named under, `root`) when it is a symlink resolving outside `root`. The
/// directories of `root` themselves are the user's configuration and trusted as they are.
pub fn check_confined(path: &Path, root: &Path) -> Result<(), Refused> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.file_type().is_symlink() && path.starts_with(root) {
        return Ok(());
    }
    let real = std::fs::canonicalize(path)?;
    let real_root = std::fs::canonicalize(root)?;
    if real.starts_with(&real_root) {
        Ok(())
    } else {
        Err(Refused::OutsideRoot)
    }
}

/// Opens `path` for reading without blocking and returns it with its `fstat`, when it is a regular file.
pub fn open_regular(path: &Path) -> Result<(File, Metadata), Refused> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(Refused::NotRegular(kind_name(&meta)));
    }
    Ok((file, meta))
}

/// Opens `path` for reading when it is a regular file, as an `io::Result` (a FIFO or a device is `InvalidData`, never
/// a blocked open).
pub fn open(path: &Path) -> io::Result<File> {
    open_regular(path).map(|(file, _)| file).map_err(Refused::into_io)
}

/// Reads all of the regular file `path` when it holds at most `max` bytes; returns the bytes and the `fstat` taken
/// before reading.
pub fn read(path: &Path, max: u64) -> Result<(Vec<u8>, Metadata), Refused> {
    let (file, meta) = open_regular(path)?;
    if meta.len() > max {
        return Err(Refused::TooLarge { len: meta.len(), max });
    }
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    let len = bytes.len() as u64;
    if len > max {
        return Err(Refused::TooLarge { len, max });
    }
    Ok((bytes, meta))
}

/// [`read`], confined to `root` ([`check_confined`]).
pub fn read_in(path: &Path, root: &Path, max: u64) -> Result<(Vec<u8>, Metadata), Refused> {
    check_confined(path, root)?;
    read(path, max)
}

/// [`read`] as UTF-8 text, as an `io::Result` (a refusal is an error; invalid UTF-8 is `InvalidData`).
pub fn read_to_string(path: &Path, max: u64) -> io::Result<String> {
    let (bytes, _) = read(path, max).map_err(Refused::into_io)?;
    String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// [`read`] as UTF-8 text (lossily decoded), `None` on any refusal.
pub fn read_text(path: &Path, max: u64) -> Option<String> {
    read(path, max)
        .ok()
        .map(|(bytes, _)| String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("a");
        std::fs::write(&file, b"hello").expect("write");
        assert_eq!(read(&file, 5).expect("read").0, b"hello");
        assert!(matches!(read(&file, 4), Err(Refused::TooLarge { len: 5, max: 4 })));
        assert!(matches!(read(&dir.path().join("none"), 4), Err(Refused::NotFound)));
        assert!(matches!(read(dir.path(), 4), Err(Refused::NotRegular("a directory"))));
        assert!(matches!(
            read(Path::new("/dev/zero"), 4),
            Err(Refused::NotRegular("a character device"))
        ));
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fifo = dir.path().join("f");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("SKIP: no mkfifo");
            return;
        }
        assert!(matches!(read(&fifo, 4), Err(Refused::NotRegular("a FIFO"))));
    }

    #[test]
    fn symlinks_out_of_the_root_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("data");
        std::fs::create_dir_all(root.join("events")).expect("dir");
        std::fs::write(dir.path().join("outside"), b"x").expect("write");
        std::fs::write(root.join("inside"), b"y").expect("write");
        let out = root.join("events/out.jsonl");
        let inside = root.join("events/in.jsonl");
        std::os::unix::fs::symlink(dir.path().join("outside"), &out).expect("symlink");
        std::os::unix::fs::symlink(root.join("inside"), &inside).expect("symlink");
        assert!(matches!(read_in(&out, &root, 10), Err(Refused::OutsideRoot)));
        assert_eq!(read_in(&inside, &root, 10).expect("inside").0, b"y");
        let zero = root.join("events/zero.jsonl");
        std::os::unix::fs::symlink("/dev/zero", &zero).expect("symlink");
        assert!(matches!(read_in(&zero, &root, 10), Err(Refused::OutsideRoot)));
    }
}
