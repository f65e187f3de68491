//! All disk and process I/O of the collector. Each source returns plain facts and decides nothing; the decisions
//! are in [`crate::rules`].

/// The one `/proc` scan of a pass: the agent processes (classified once: Claude, Codex TUI, `exec`, daemon), their
/// panes and open rollouts, and Claude Code's `sessions/<pid>.json`.
pub mod agent_procs;
/// The head (`session_meta`) and tail (last turn events) of Codex rollouts, read incrementally; it lives with the
/// other rollout reader in `transcript/` (one place per agent format) and is re-exported here.
pub use crate::transcript::codex_rollout as codex;
/// One page of an `events/<id>.jsonl` log, read backwards, bounded.
pub mod event_log;
/// Which files processes hold open: every process's `/proc/<pid>/fd`, read only when a Codex session asks, or one
/// batched `lsof` where there is no `/proc`.
pub mod process;
/// `sessions/*.json` and `events/*.jsonl` as found on disk, and the one session-file codec (read, serialize, upsert,
/// trash-if, `turn_start_tokens` write-back) the hook and the collector share.
pub mod session_file;
/// `zellij list-sessions`, run with a timeout, parsed and cached.
pub mod zellij;

use std::{
    io::{self, Read},
    process::{Command, ExitStatus, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        mpsc, Arc,
    },
    thread,
    time::{Duration, Instant},
};

/// How much a subprocess (`zellij`, `lsof`) may print on each of stdout and stderr (`limits.subprocess_output_bytes`,
/// 1 MiB by default); set once by the collector from its config.
static MAX_OUTPUT: AtomicUsize = AtomicUsize::new(1 << 20);

/// Sets the output bound of [`run_with_timeout`].
pub fn set_max_output(bytes: usize) {
    MAX_OUTPUT.store(bytes.max(1), Ordering::Relaxed);
}

/// What a finished subprocess printed.
#[derive(Debug, Clone)]
pub struct Output {
    /// How it exited.
    pub status: ExitStatus,
    /// Its stdout, lossily decoded.
    pub stdout: String,
    /// Its stderr, lossily decoded.
    pub stderr: String,
}

/// Runs `cmd` (stdin closed, stdout and stderr captured) and waits at most `timeout` for it to exit and close its
/// output.
///
/// On timeout the child is killed and reaped and `ErrorKind::TimedOut` is returned; the pass never waits longer. Output
/// past the bound ([`set_max_output`]) on either pipe kills the child too, and is `ErrorKind::InvalidData`: a flooding
/// `zellij` costs at most the bound, not its flood. The reader threads are detached, not joined: a grandchild that inherited the pipes (a shell's `sleep`) may hold them
/// open after the child dies, and those threads end when it does.
pub fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> io::Result<Output> {
    run_bounded(cmd, timeout, MAX_OUTPUT.load(Ordering::Relaxed))
}

/// [`run_with_timeout`] with an explicit output bound.
pub fn run_bounded(cmd: &mut Command, timeout: Duration, max_output: usize) -> io::Result<Output> {
    let deadline = Instant::now() + timeout;
    let overflow = Arc::new(AtomicBool::new(false));
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (tx, rx) = mpsc::channel::<(bool, Vec<u8>)>();
    for (is_stdout, pipe) in [
        (true, child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
        (false, child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>)),
    ] {
        let Some(mut pipe) = pipe else { continue };
        let tx = tx.clone();
        let overflow = overflow.clone();
        thread::spawn(move || {
            let mut buf = Vec::new();
            let limit = u64::try_from(max_output).unwrap_or(u64::MAX).saturating_add(1);
            let _ = (&mut pipe).take(limit).read_to_end(&mut buf);
            if buf.len() > max_output {
                overflow.store(true, Ordering::Relaxed);
                buf.truncate(max_output);
            }
            // Dropping the pipe here: a child still writing gets EPIPE/SIGPIPE.
            drop(pipe);
            let _ = tx.send((is_stdout, buf));
        });
    }
    drop(tx);
    let mut pause = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if overflow.load(Ordering::Relaxed) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("output over {max_output} bytes"),
            ));
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("no exit within {timeout:?}"),
            ));
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    for _ in 0..2 {
        let remaining = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(remaining) {
            Ok((true, buf)) => stdout = buf,
            Ok((false, buf)) => stderr = buf,
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "output still open after exit"));
            }
        }
    }
    if overflow.load(Ordering::Relaxed) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("output over {max_output} bytes"),
        ));
    }
    Ok(Output {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_output_and_status() {
        let out = run_with_timeout(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            Duration::from_secs(5),
        )
        .expect("sh runs");
        assert_eq!(out.stdout, "out\n");
        assert_eq!(out.stderr, "err\n");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn a_hanging_child_is_killed_at_the_deadline() {
        let start = Instant::now();
        let err = run_with_timeout(Command::new("sh").args(["-c", "sleep 10"]), Duration::from_millis(200))
            .expect_err("times out");
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(start.elapsed() < Duration::from_secs(2), "took {:?}", start.elapsed());
    }

    #[test]
    fn a_flood_is_cut_at_the_bound_and_killed() {
        let start = Instant::now();
        let err = run_bounded(
            Command::new("sh").args(["-c", "yes flood-flood-flood"]),
            Duration::from_secs(10),
            64 * 1024,
        )
        .expect_err("too much output");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(start.elapsed() < Duration::from_secs(5), "took {:?}", start.elapsed());
    }

    #[test]
    fn a_missing_binary_is_an_error() {
        assert!(run_with_timeout(&mut Command::new("/nonexistent/zellij"), Duration::from_secs(1)).is_err());
    }
}
