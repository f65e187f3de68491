//! Revisions that strictly increase and never repeat, across restarts and a clock that jumps back.
//!
//! A process's first revision is the wall clock in milliseconds, but never at or below the *lease* the previous
//! process left in `<data dir>/cache/revision`: the highest revision a process may reach before it writes a new lease
//! ([`LEASE`] above its current one). So a restart with the clock set back (or after more than 1 000 changes a second)
//! still starts above every revision published before. When the lease cannot be written (a read-only or full data
//! dir) that is logged and the clock alone decides, as before.

use std::path::PathBuf;

/// How far past the current revision a lease reaches (a write per this many revisions).
pub const LEASE: u64 = 1 << 20;

/// The revision counter of one process.
#[derive(Debug)]
pub struct Revisions {
    current: u64,
    leased_to: u64,
    lease: u64,
    file: Option<PathBuf>,
}

impl Revisions {
    /// The counter of a process starting at `now_ms`, with its lease in `file` (`None`: in memory only).
    pub fn open(file: Option<PathBuf>, now_ms: u64) -> Self {
        Self::with_lease(file, now_ms, LEASE)
    }

    /// [`Self::open`] with a lease of `lease` revisions (tests use small ones).
    pub fn with_lease(file: Option<PathBuf>, now_ms: u64, lease: u64) -> Self {
        let stored = file
            .as_deref()
            .and_then(|f| match crate::bounded::read_to_string(f, 4096) {
                Ok(text) => match text.trim().parse::<u64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        tracing::warn!(file = %f.display(), "the revision lease is not a number; the clock decides");
                        None
                    }
                },
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
                Err(error) => {
                    tracing::warn!(file = %f.display(), %error, "cannot read the revision lease; the clock decides");
                    None
                }
            });
        let current = now_ms.max(stored.map_or(0, |s| s.saturating_add(1))).max(1);
        let mut revisions = Revisions {
            current,
            leased_to: current,
            lease: lease.max(1),
            file,
        };
        revisions.extend_lease();
        revisions
    }

    /// The current (last published) revision.
    pub fn current(&self) -> u64 {
        self.current
    }

    /// Moves to the next revision and returns it.
    pub fn bump(&mut self) -> u64 {
        self.current = self.current.saturating_add(1);
        if self.current >= self.leased_to {
            self.extend_lease();
        }
        self.current
    }

    /// Writes a lease [`LEASE`] above the current revision.
    fn extend_lease(&mut self) {
        self.leased_to = self.current.saturating_add(self.lease);
        let Some(file) = &self.file else { return };
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| crate::store::write_atomic(file, self.leased_to.to_string().as_bytes()));
        if let Err(error) = written {
            tracing::warn!(file = %file.display(), %error, "cannot write the revision lease; after a restart with the clock set back revisions could repeat");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_with_the_clock_set_back_starts_above_the_lease() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("cache/revision");
        let mut first = Revisions::with_lease(Some(file.clone()), 1_000_000, 10);
        assert_eq!(first.current(), 1_000_000);
        let last = (0..25).map(|_| first.bump()).last().expect("bumped");
        let second = Revisions::with_lease(Some(file.clone()), 5, 10);
        assert!(second.current() > last, "{} > {last}", second.current());
        std::fs::write(&file, "garbage").expect("write");
        assert_eq!(Revisions::with_lease(Some(file), 7, 10).current(), 7);
        assert_eq!(Revisions::open(None, 0).current(), 1);
    }
}
