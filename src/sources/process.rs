//! Which files processes hold open: read from `/proc` on demand, or asked of `lsof` where there is no `/proc`.
//!
//! On Linux this reads `/proc/<pid>/fd/*` symlinks directly (no subprocess per file, unlike the original's `lsof`
//! calls); a process that cannot be read (another user's, or one that exits mid-scan) is skipped silently. Where there
//! is no `/proc`, one batched `lsof -F pcn` call over the candidate files stands in, with a timeout; it cannot see
//! environments, so Codex sessions found that way get no pane. The agent processes themselves (which `codex` and
//! `claude` run, with their panes) are [`crate::sources::agent_procs`]'s one scan.

use std::{
    collections::HashSet,
    ffi::OsStr,
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::Duration,
};

use super::agent_procs::ProcInfo;

/// What one `lsof` call found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LsofScan {
    /// Every absolute path some process holds open, among the candidates asked about.
    pub open_files: HashSet<PathBuf>,
    /// The `codex` processes among the holders (pid, `comm` and the `*.jsonl` files they hold; nothing else is known).
    pub codex: Vec<ProcInfo>,
}

/// Returns every absolute path some process under `proc_root` holds open; `None` when `proc_root` cannot be read.
pub fn scan_open_files(proc_root: &Path) -> Option<HashSet<PathBuf>> {
    let entries = fs::read_dir(proc_root).ok()?;
    let mut open = HashSet::new();
    for entry in entries.flatten() {
        if entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()).is_none() {
            continue;
        }
        open.extend(open_files(&entry.path()));
    }
    Some(open)
}

/// Returns the absolute paths behind `<pid dir>/fd/*` (sockets, pipes, anonymous inodes and deleted files left out).
fn open_files(pid_dir: &Path) -> Vec<PathBuf> {
    let Ok(fds) = fs::read_dir(pid_dir.join("fd")) else {
        return Vec::new();
    };
    fds.flatten()
        .filter_map(|fd| fs::read_link(fd.path()).ok())
        .filter(|target| target.is_absolute() && !target.to_string_lossy().ends_with(" (deleted)"))
        .collect()
}

/// Asks `lsof` which of `candidates` are open, in one call that waits at most `timeout`; `None` when `lsof` is
/// missing, hangs or fails.
pub fn scan_lsof(candidates: &[PathBuf], timeout: Duration) -> Option<LsofScan> {
    if candidates.is_empty() {
        return Some(LsofScan::default());
    }
    let mut cmd = Command::new("lsof");
    cmd.args(["-w", "-F", "pcn", "--"]).args(candidates);
    match super::run_with_timeout(&mut cmd, timeout) {
        // lsof exits 1 when some of the files are not open; the output is still right.
        Ok(out) if out.status.code().is_some_and(|c| c <= 1) => Some(parse_lsof(&out.stdout)),
        Ok(out) => {
            tracing::debug!(status = %out.status, stderr = %out.stderr.trim(), "lsof failed");
            None
        }
        Err(error) => {
            tracing::debug!(%error, "lsof could not run");
            None
        }
    }
}

/// Parses `lsof -F pcn` output (`p<pid>`, `c<command>`, `f<fd>`, `n<name>` lines).
pub fn parse_lsof(out: &str) -> LsofScan {
    let mut scan = LsofScan::default();
    let mut current: Option<ProcInfo> = None;
    let mut is_codex = false;
    let flush = |current: &mut Option<ProcInfo>, is_codex: bool, scan: &mut LsofScan| {
        if let Some(p) = current.take() {
            if is_codex {
                scan.codex.push(p);
            }
        }
    };
    for line in out.lines() {
        let (tag, value) = line.split_at(line.chars().next().map_or(0, char::len_utf8));
        match tag {
            "p" => {
                flush(&mut current, is_codex, &mut scan);
                is_codex = false;
                current = value.parse().ok().map(|pid| ProcInfo {
                    pid,
                    // Running: lsof lists only live processes.
                    state: 'S',
                    environ_read: false,
                    ..ProcInfo::default()
                });
            }
            "c" => {
                is_codex = value == "codex";
                if let Some(p) = current.as_mut() {
                    p.comm = value.to_owned();
                }
            }
            "n" if value.starts_with('/') => {
                let path = PathBuf::from(value);
                if let Some(p) = current.as_mut() {
                    if path.extension() == Some(OsStr::new("jsonl")) {
                        p.open_jsonl.push(path.clone());
                    }
                }
                scan.open_files.insert(path);
            }
            _ => {}
        }
    }
    flush(&mut current, is_codex, &mut scan);
    scan
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Builds a fake procfs with one process.
    fn fake_pid(root: &Path, pid: u32, comm: &str, args: &[&str], env: &[&str], fds: &[&Path], cwd: &Path) {
        let dir = root.join(pid.to_string());
        fs::create_dir_all(dir.join("fd")).expect("fd dir");
        fs::write(dir.join("comm"), format!("{comm}\n")).expect("comm");
        fs::write(
            dir.join("cmdline"),
            args.iter().map(|a| format!("{a}\0")).collect::<String>(),
        )
        .expect("cmdline");
        fs::write(
            dir.join("environ"),
            env.iter().map(|a| format!("{a}\0")).collect::<String>(),
        )
        .expect("environ");
        fs::write(
            dir.join("stat"),
            format!("{pid} (co dex) S 1 {}\n", ["0"; 17].join(" ") + " 500"),
        )
        .expect("stat");
        symlink(cwd, dir.join("cwd")).expect("cwd link");
        for (i, fd) in fds.iter().enumerate() {
            symlink(fd, dir.join("fd").join(i.to_string())).expect("fd link");
        }
    }

    #[test]
    fn scans_the_open_files_of_every_process() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("proc");
        fs::create_dir_all(&root).expect("root");
        fs::write(root.join("stat"), "cpu 1 2 3\nbtime 1000\n").expect("stat");
        fs::create_dir_all(root.join("self")).expect("non-numeric dirs are ignored");
        let rollout = Path::new("/c/sessions/rollout-x.jsonl");
        fake_pid(
            &root,
            10,
            "codex",
            &["/usr/bin/codex", "app-server", "--managed-daemon"],
            &["ZELLIJ_SESSION_NAME=main", "ZELLIJ_PANE_ID=3", "PATH=/bin"],
            &[rollout, Path::new("/dev/null"), Path::new("socket:[123]")],
            Path::new("/work"),
        );
        fake_pid(&root, 11, "codex", &["codex"], &[], &[], Path::new("/proj"));
        fake_pid(
            &root,
            12,
            "bash",
            &["bash"],
            &["ZELLIJ_PANE_ID=9"],
            &[Path::new("/tmp/a.txt")],
            Path::new("/"),
        );
        let open = scan_open_files(&root).expect("readable");
        assert!(open.contains(rollout));
        assert!(open.contains(Path::new("/tmp/a.txt")));
        assert!(!open.iter().any(|p| p.to_string_lossy().starts_with("socket")));
    }

    #[test]
    fn a_missing_proc_root_is_unknown() {
        assert_eq!(scan_open_files(Path::new("/nonexistent/proc")), None);
    }

    #[test]
    fn real_proc_sees_a_file_this_process_holds() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("held.jsonl");
        let _held = fs::File::create(&path).expect("create");
        let Some(open) = scan_open_files(Path::new("/proc")) else {
            return;
        };
        let canonical = fs::canonicalize(&path).expect("canonical");
        assert!(open.contains(&canonical));
    }

    #[test]
    fn parses_lsof_field_output() {
        let out = "p100\ncnode\nf20\nn/x/a.jsonl\np200\nccodex\nf3\nn/x/b.jsonl\nf4\nn/x/c.txt\n";
        let scan = parse_lsof(out);
        assert_eq!(scan.open_files.len(), 3);
        assert_eq!(scan.codex.len(), 1);
        assert_eq!(scan.codex[0].pid, 200);
        assert_eq!(scan.codex[0].open_jsonl, vec![PathBuf::from("/x/b.jsonl")]);
        assert_eq!(parse_lsof(""), LsofScan::default());
        assert_eq!(scan.codex[0].comm, "codex");
    }

    #[test]
    fn lsof_finds_a_held_file_when_installed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = fs::canonicalize(tmp.path()).expect("canonical").join("held.jsonl");
        let _held = fs::File::create(&path).expect("create");
        let other = path.with_file_name("free.jsonl");
        fs::write(&other, "").expect("write");
        let Some(scan) = scan_lsof(&[path.clone(), other.clone()], Duration::from_secs(10)) else {
            return;
        };
        assert!(scan.open_files.contains(&path));
        assert!(!scan.open_files.contains(&other));
    }
}
