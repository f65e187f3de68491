//! Which files processes hold open, and the `codex` processes with their panes: one scan per pass.
//!
//! On Linux this reads `/proc/<pid>/fd/*` symlinks directly (no subprocess per file, unlike the original's `lsof`
//! calls); a process that cannot be read (another user's, or one that exits mid-scan) is skipped silently. Where there
//! is no `/proc`, one batched `lsof -F pcn` call over the candidate files stands in, with a timeout; it cannot see
//! environments, so Codex sessions found that way get no pane.

use std::{
    collections::HashSet,
    ffi::OsStr,
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, SystemTime},
};

/// Clock ticks per second of `/proc/<pid>/stat` times (`USER_HZ`, 100 on every Linux architecture amc runs on).
const CLOCK_TICKS_PER_SEC: u64 = 100;

/// What one scan found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessScan {
    /// Every absolute path some process holds open (as the kernel names it: symlinks resolved).
    pub open_files: HashSet<PathBuf>,
    /// The `codex` processes.
    pub codex: Vec<CodexProcess>,
}

/// A running `codex` process (TUI, `exec`, or an `app-server` daemon).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CodexProcess {
    /// Its pid.
    pub pid: u32,
    /// Whether it is a daemon (`app-server`, `mcp-server`, `--managed-daemon`) rather than a TUI or `exec`: a daemon's
    /// environment is that of the first TUI that started it, so its pane is weak evidence.
    pub daemon: bool,
    /// Its working directory.
    pub cwd: Option<PathBuf>,
    /// `ZELLIJ_SESSION_NAME` from its environment.
    pub zellij_session: Option<String>,
    /// `ZELLIJ_PANE_ID` from its environment.
    pub zellij_pane: Option<String>,
    /// When it started (from `/proc/<pid>/stat` and the boot time), when known.
    pub start_time: Option<SystemTime>,
    /// The `*.jsonl` files it holds open.
    pub open_jsonl: Vec<PathBuf>,
}

/// Scans `proc_root` (normally `/proc`); returns `None` when it cannot be read (no procfs on this system).
///
/// This is [`scan_codex_procs`] plus [`scan_open_files`] (the costly part: one `readlink` per open fd of every
/// process); a caller that may not need the open files uses those two.
pub fn scan_proc(proc_root: &Path) -> Option<ProcessScan> {
    let mut scan = scan_codex_procs(proc_root)?;
    scan.open_files = scan_open_files(proc_root)?;
    Some(scan)
}

/// Scans `proc_root` for the `codex` processes only (with their open `*.jsonl` files); `open_files` is left empty.
/// `None` when `proc_root` cannot be read.
pub fn scan_codex_procs(proc_root: &Path) -> Option<ProcessScan> {
    let entries = fs::read_dir(proc_root).ok()?;
    let boot_time = read_boot_time(proc_root);
    let mut scan = ProcessScan::default();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let dir = entry.path();
        if is_codex(&dir) {
            let open = open_files(&dir);
            scan.codex.push(codex_process(pid, &dir, &open, boot_time));
        }
    }
    scan.codex.sort_by_key(|p| p.pid);
    Some(scan)
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

/// Returns whether the process is `codex`: by `comm`, the executable's name, or `argv[0]`'s.
fn is_codex(pid_dir: &Path) -> bool {
    let comm = fs::read_to_string(pid_dir.join("comm")).unwrap_or_default();
    if comm.trim_end() == "codex" {
        return true;
    }
    if fs::read_link(pid_dir.join("exe")).is_ok_and(|exe| exe.file_name() == Some(OsStr::new("codex"))) {
        return true;
    }
    cmdline(pid_dir)
        .first()
        .is_some_and(|arg0| Path::new(arg0).file_name() == Some(OsStr::new("codex")))
}

fn cmdline(pid_dir: &Path) -> Vec<String> {
    let raw = fs::read(pid_dir.join("cmdline")).unwrap_or_default();
    raw.split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect()
}

fn codex_process(pid: u32, pid_dir: &Path, open: &[PathBuf], boot_time: Option<SystemTime>) -> CodexProcess {
    let args = cmdline(pid_dir);
    let daemon = args
        .iter()
        .any(|a| a == "app-server" || a == "mcp-server" || a == "--managed-daemon");
    let env = fs::read(pid_dir.join("environ")).unwrap_or_default();
    let var = |name: &str| {
        env.split(|b| *b == 0)
            .filter_map(|kv| std::str::from_utf8(kv).ok())
            .find_map(|kv| kv.strip_prefix(name).and_then(|rest| rest.strip_prefix('=')))
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    CodexProcess {
        pid,
        daemon,
        cwd: fs::read_link(pid_dir.join("cwd")).ok(),
        zellij_session: var("ZELLIJ_SESSION_NAME"),
        zellij_pane: var("ZELLIJ_PANE_ID"),
        start_time: boot_time.and_then(|boot| start_time(pid_dir, boot)),
        open_jsonl: open
            .iter()
            .filter(|p| p.extension() == Some(OsStr::new("jsonl")))
            .cloned()
            .collect(),
    }
}

/// Reads `btime` from `<proc_root>/stat`.
fn read_boot_time(proc_root: &Path) -> Option<SystemTime> {
    let stat = fs::read_to_string(proc_root.join("stat")).ok()?;
    let secs = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse::<u64>()
        .ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// Parses field 22 (`starttime`, in clock ticks after boot) of `<pid dir>/stat`.
fn start_time(pid_dir: &Path, boot: SystemTime) -> Option<SystemTime> {
    let stat = fs::read_to_string(pid_dir.join("stat")).ok()?;
    // The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let ticks = after_comm.split_whitespace().nth(19)?.parse::<u64>().ok()?;
    Some(boot + Duration::from_millis(ticks * 1000 / CLOCK_TICKS_PER_SEC))
}

/// Asks `lsof` which of `candidates` are open, in one call that waits at most `timeout`; `None` when `lsof` is
/// missing, hangs or fails.
pub fn scan_lsof(candidates: &[PathBuf], timeout: Duration) -> Option<ProcessScan> {
    if candidates.is_empty() {
        return Some(ProcessScan::default());
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
pub fn parse_lsof(out: &str) -> ProcessScan {
    let mut scan = ProcessScan::default();
    let mut current: Option<CodexProcess> = None;
    let mut is_codex = false;
    let flush = |current: &mut Option<CodexProcess>, is_codex: bool, scan: &mut ProcessScan| {
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
                current = value.parse().ok().map(|pid| CodexProcess {
                    pid,
                    ..CodexProcess::default()
                });
            }
            "c" => is_codex = value == "codex",
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
    fn scans_open_files_and_codex_processes() {
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
        let scan = scan_proc(&root).expect("readable");
        assert!(scan.open_files.contains(rollout));
        assert!(scan.open_files.contains(Path::new("/tmp/a.txt")));
        assert!(!scan
            .open_files
            .iter()
            .any(|p| p.to_string_lossy().starts_with("socket")));
        assert_eq!(scan.codex.len(), 2);
        let daemon = &scan.codex[0];
        assert_eq!((daemon.pid, daemon.daemon), (10, true));
        assert_eq!(daemon.zellij_session.as_deref(), Some("main"));
        assert_eq!(daemon.zellij_pane.as_deref(), Some("3"));
        assert_eq!(daemon.open_jsonl, vec![rollout.to_path_buf()]);
        assert_eq!(
            daemon.start_time,
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1005))
        );
        let tui = &scan.codex[1];
        assert_eq!(
            (tui.pid, tui.daemon, tui.cwd.as_deref()),
            (11, false, Some(Path::new("/proj")))
        );
        assert_eq!(tui.zellij_session, None);
    }

    #[test]
    fn a_missing_proc_root_is_unknown() {
        assert_eq!(scan_proc(Path::new("/nonexistent/proc")), None);
    }

    #[test]
    fn real_proc_sees_a_file_this_process_holds() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("held.jsonl");
        let _held = fs::File::create(&path).expect("create");
        let Some(scan) = scan_proc(Path::new("/proc")) else {
            return;
        };
        let canonical = fs::canonicalize(&path).expect("canonical");
        assert!(scan.open_files.contains(&canonical));
    }

    #[test]
    fn parses_lsof_field_output() {
        let out = "p100\ncnode\nf20\nn/x/a.jsonl\np200\nccodex\nf3\nn/x/b.jsonl\nf4\nn/x/c.txt\n";
        let scan = parse_lsof(out);
        assert_eq!(scan.open_files.len(), 3);
        assert_eq!(scan.codex.len(), 1);
        assert_eq!(scan.codex[0].pid, 200);
        assert_eq!(scan.codex[0].open_jsonl, vec![PathBuf::from("/x/b.jsonl")]);
        assert_eq!(parse_lsof(""), ProcessScan::default());
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
