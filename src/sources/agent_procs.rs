//! The agent processes on this machine, as facts for [`crate::rules::liveness`] and Codex discovery: the one pass over
//! `/proc` of a collection pass
//! (pid → comm, exe, argv, state, start time, tty, cwd, the Zellij variables of its own environment, the `.jsonl`
//! files it holds open) and Claude Code's own records of its live processes, `<claude config dir>/sessions/<pid>.json`
//! (`{pid, sessionId, cwd, status, procStart, pidDomain, ...}`, formats.md §8.1).
//!
//! Reads only, with `std::fs` (the crate forbids `unsafe`, so no `sysconf`/`kill(0)`): whether a pid runs is whether
//! `/proc/<pid>/stat` exists and its state is not zombie/dead. Nothing is decided here beyond which processes are worth
//! reading in full (those whose name or argv mentions `claude` or `codex`, and those a Claude pid file names).
//! Every fact that could not be read is `None`, never a guess.

use std::{
    collections::BTreeMap,
    fs, io,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde_json::Value;

/// Clock ticks per second of `/proc/<pid>/stat` times. Linux exports `USER_HZ`, which is 100 on every architecture
/// amc runs on (the kernel scales to it whatever `CONFIG_HZ` is); reading `sysconf(_SC_CLK_TCK)` would need `unsafe`.
pub const USER_HZ: u64 = 100;

/// One process, as `/proc` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcInfo {
    /// The process id.
    pub pid: u32,
    /// The parent's pid (1 once the parent died).
    pub ppid: u32,
    /// The state letter of `/proc/<pid>/stat` (`R`, `S`, `D`, `T`, `Z` zombie, `X` dead, ...).
    pub state: char,
    /// Start time in clock ticks since boot (`stat` field 22): with the pid, identifies a process across pid reuse.
    /// Claude Code's pid file records the same number as `procStart`.
    pub start_ticks: u64,
    /// Start time as wall-clock time (boot time + ticks), when `/proc/stat` gave the boot time.
    pub started_at: Option<SystemTime>,
    /// The controlling terminal (`stat` field 7; 0 = none: daemons, `codex exec` under a pipe).
    pub tty_nr: u32,
    /// `/proc/<pid>/comm` (at most 15 bytes: `claude`, `codex`, `node`).
    pub comm: String,
    /// `/proc/<pid>/exe`, when readable.
    pub exe: Option<PathBuf>,
    /// argv, from `/proc/<pid>/cmdline`.
    pub cmdline: Vec<String>,
    /// `/proc/<pid>/cwd`, when readable.
    pub cwd: Option<PathBuf>,
    /// `ZELLIJ_SESSION_NAME` of the process's **own** environment (not a daemon's stale copy of someone else's).
    pub zellij_session: Option<String>,
    /// `ZELLIJ_PANE_ID` of the process's own environment.
    pub zellij_pane: Option<String>,
    /// Whether the environment could be read at all (`false`: the two above are unknown, not absent).
    pub environ_read: bool,
    /// The `.jsonl` files the process holds open (Codex rollouts; `/proc/<pid>/fd/*` link targets).
    pub open_jsonl: Vec<PathBuf>,
}

impl ProcInfo {
    /// Returns whether the process still runs: a zombie (`Z`) or dead (`X`, `x`) process has exited.
    pub fn is_running(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }

    /// The Codex rollouts among [`ProcInfo::open_jsonl`] (see [`is_rollout`]): a Codex TUI also opens other
    /// `.jsonl` files of `$CODEX_HOME` for a moment (`history.jsonl` when a prompt is submitted, `session_index.jsonl`
    /// when a thread is created), which say nothing about which thread it runs.
    pub fn open_rollouts(&self) -> impl Iterator<Item = &PathBuf> + '_ {
        self.open_jsonl.iter().filter(|f| is_rollout(f))
    }
}

/// Returns whether `path` is named as a Codex rollout is (`rollout-<local time>-<id>.jsonl`).
pub fn is_rollout(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "jsonl")
        && path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("rollout-"))
}

/// Claude Code's record of one live process: `<claude config dir>/sessions/<pid>.json` (2.1.331; written at start-up,
/// updated on every status change, removed when the process exits normally — a SIGKILL leaves it behind).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClaudePidFile {
    /// The file.
    pub path: PathBuf,
    /// `pid`.
    pub pid: u32,
    /// `sessionId`: the session the process runs now (changes on `/clear`).
    pub session_id: String,
    /// `cwd`.
    pub cwd: Option<String>,
    /// `status`: `idle`, `busy` or `waiting` (2.1.331).
    pub status: Option<String>,
    /// `waitingFor` (`"input needed"` while a dialog is open).
    pub waiting_for: Option<String>,
    /// `statusUpdatedAt`, milliseconds since the epoch.
    pub status_updated_at_ms: Option<u64>,
    /// `updatedAt`, milliseconds since the epoch.
    pub updated_at_ms: Option<u64>,
    /// `startedAt`, milliseconds since the epoch.
    pub started_at_ms: Option<u64>,
    /// `procStart`: the process's start time in clock ticks since boot (a string in the file), as in [`ProcInfo`].
    pub proc_start: Option<u64>,
    /// The pid namespace part of `pidDomain` (`"pid:[4026531836]"`): a pid from another namespace (a container)
    /// means nothing in our `/proc`.
    pub pid_namespace: Option<String>,
    /// `kind` (`interactive`).
    pub kind: Option<String>,
    /// `version` of Claude Code.
    pub version: Option<String>,
}

/// What kind of agent process a [`ProcInfo`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentKind {
    /// Claude Code (the native binary, or node running its `cli.js`).
    Claude,
    /// An interactive Codex TUI (`codex`, `codex resume`, `codex --no-daemon`).
    CodexTui,
    /// `codex exec`: non-interactive, holds its own rollout.
    CodexExec,
    /// `codex app-server` (the managed daemon, `--managed-daemon`, and its helpers): holds rollouts for the TUIs it
    /// serves, with the environment of the first TUI that started it (formats.md §8.2).
    CodexDaemon,
    /// The npm launcher (`node …/bin/codex`): its `codex` child is the agent.
    CodexLauncher,
    /// Another `codex` subcommand (`login`, `mcp`, `mcp-server`, ...). Never evidence of a session's liveness or
    /// pane: `codex mcp-server` serves an MCP client (its environment is that client's, e.g. a Claude Code in another
    /// pane), it is not the managed daemon of formats.md §8.2.
    CodexOther,
    /// Not an agent.
    Other,
}

/// Codex subcommands that are neither a TUI nor `exec`.
const CODEX_OTHER_SUBCOMMANDS: &[&str] = &[
    "login",
    "logout",
    "mcp",
    "mcp-server",
    "completion",
    "apply",
    "a",
    "debug",
    "sandbox",
    "cloud",
    "features",
    "help",
];

fn base_name(s: &str) -> &str {
    s.rsplit('/').next().unwrap_or(s)
}

/// Classifies a process by its `comm`, `exe` and argv: the one classification of agent processes (the collector's
/// Codex discovery and the liveness rules both use it).
pub fn classify(p: &ProcInfo) -> AgentKind {
    let exe = p
        .exe
        .as_deref()
        .and_then(Path::file_name)
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let argv0 = p.cmdline.first().map(|a| base_name(a)).unwrap_or("");
    let is_codex_bin = p.comm == "codex" || exe == "codex" || argv0 == "codex";
    let is_claude_bin = p.comm == "claude" || exe == "claude" || argv0 == "claude";
    if matches!(p.comm.as_str(), "node" | "bun" | "MainThread") || matches!(argv0, "node" | "bun") {
        let script = p.cmdline.get(1).map(String::as_str).unwrap_or("");
        if script.contains("claude-code") || base_name(script) == "claude" {
            return AgentKind::Claude;
        }
        if script.contains("@openai/codex") || base_name(script) == "codex" || base_name(script) == "codex.js" {
            return AgentKind::CodexLauncher;
        }
    }
    if is_codex_bin {
        let args: Vec<&str> = p.cmdline.iter().skip(1).map(String::as_str).collect();
        // The one definition of the Codex daemon: `app-server` (what `--managed-daemon` runs).
        if args.contains(&"app-server") || args.contains(&"--managed-daemon") {
            return AgentKind::CodexDaemon;
        }
        return match args.iter().find(|a| !a.starts_with('-')) {
            Some(&"exec") | Some(&"e") => AgentKind::CodexExec,
            Some(sub) if CODEX_OTHER_SUBCOMMANDS.contains(sub) => AgentKind::CodexOther,
            _ => AgentKind::CodexTui,
        };
    }
    if is_claude_bin {
        return AgentKind::Claude;
    }
    AgentKind::Other
}

/// Everything one scan found.
#[derive(Debug, Clone, Default)]
pub struct AgentProcs {
    /// Agent processes (and every pid a Claude pid file names), by pid. `None` when `/proc` could not be listed:
    /// then nothing may be concluded from a process being absent.
    pub procs: Option<BTreeMap<u32, ProcInfo>>,
    /// Claude Code's pid files. `None` when none of the sessions dirs could be read (a dir that does not exist is
    /// read as empty: Claude Code creates it on first start).
    pub claude_files: Option<Vec<ClaudePidFile>>,
    /// Our own pid namespace (`readlink /proc/self/ns/pid`, `"pid:[4026531836]"`).
    pub own_pid_namespace: Option<String>,
    /// When the scan ran.
    pub scanned_at: Option<SystemTime>,
}

impl AgentProcs {
    /// Returns the running `codex` processes (TUIs, `exec`, daemons and other subcommands; not the npm launcher,
    /// whose child is the agent), by pid.
    pub fn codex(&self) -> Vec<&ProcInfo> {
        self.procs
            .iter()
            .flat_map(|m| m.values())
            .filter(|p| {
                p.is_running()
                    && matches!(
                        classify(p),
                        AgentKind::CodexTui | AgentKind::CodexExec | AgentKind::CodexDaemon | AgentKind::CodexOther
                    )
            })
            .collect()
    }
}

/// Scans `proc_root` (`/proc`) and the `sessions/` dirs of `claude_config_dirs` once.
pub fn scan(proc_root: &Path, claude_config_dirs: &[PathBuf]) -> AgentProcs {
    let claude_files = read_claude_pid_files(claude_config_dirs);
    let own_pid_namespace = fs::read_link(proc_root.join("self/ns/pid"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned());
    let boot = boot_time(proc_root);
    let named: Vec<u32> = claude_files.iter().flatten().map(|f| f.pid).collect();
    let procs = match fs::read_dir(proc_root) {
        Ok(entries) => {
            let mut procs = BTreeMap::new();
            for entry in entries.flatten() {
                let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                    continue;
                };
                let dir = entry.path();
                let Ok(comm) = fs::read_to_string(dir.join("comm")) else {
                    continue;
                };
                let comm = comm.trim_end_matches('\n').to_owned();
                let cmdline = read_cmdline(&dir);
                if !is_agent_like(&comm, &cmdline) && !named.contains(&pid) {
                    continue;
                }
                if let Some(info) = read_proc(&dir, pid, comm, cmdline, boot) {
                    procs.insert(pid, info);
                }
            }
            Some(procs)
        }
        Err(error) => {
            tracing::debug!(root = %proc_root.display(), %error, "cannot list processes");
            None
        }
    };
    AgentProcs {
        procs,
        claude_files,
        own_pid_namespace,
        scanned_at: Some(SystemTime::now()),
    }
}

/// Returns whether a process's name or argv mentions an agent: `claude`/`codex` binaries, and the `node`/`bun`
/// launchers of their npm packages (`node …/bin/codex`, `node …/claude-code/cli.js`).
pub fn is_agent_like(comm: &str, cmdline: &[String]) -> bool {
    let mentions = |s: &str| {
        let s = s.to_ascii_lowercase();
        s.contains("claude") || s.contains("codex")
    };
    mentions(comm) || cmdline.iter().take(2).any(|a| mentions(a))
}

/// Reads the pid files of every `<dir>/sessions/`; `None` only when no dir could be read.
pub fn read_claude_pid_files(claude_config_dirs: &[PathBuf]) -> Option<Vec<ClaudePidFile>> {
    let mut files = Vec::new();
    let mut any_ok = claude_config_dirs.is_empty();
    for dir in claude_config_dirs {
        let sessions = dir.join("sessions");
        let entries = match fs::read_dir(&sessions) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                any_ok = true;
                continue;
            }
            Err(error) => {
                tracing::debug!(dir = %sessions.display(), %error, "cannot read Claude's sessions dir");
                continue;
            }
        };
        any_ok = true;
        for entry in entries.flatten() {
            let path = entry.path();
            let is_pid_json = path.extension().is_some_and(|e| e == "json")
                && path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| s.parse::<u32>().is_ok());
            if !is_pid_json {
                continue;
            }
            // Claude Code's own small record: a regular file of at most 1 MiB, or skipped.
            let Ok((bytes, _)) = crate::bounded::read(&path, 1 << 20) else {
                continue;
            };
            if let Some(file) = parse_claude_pid_file(&path, &bytes) {
                files.push(file);
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    any_ok.then_some(files)
}

/// Parses one `sessions/<pid>.json`; `None` when it is not JSON or lacks `pid`/`sessionId`.
pub fn parse_claude_pid_file(path: &Path, bytes: &[u8]) -> Option<ClaudePidFile> {
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(bytes) else {
        return None;
    };
    let s = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
    let n = |k: &str| {
        map.get(k)
            .and_then(|v| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())))
    };
    let pid = u32::try_from(n("pid")?).ok()?;
    let session_id = s("sessionId").filter(|id| !id.is_empty())?;
    let pid_namespace = s("pidDomain").and_then(|d| {
        d.rsplit_once(':').map(|(head, tail)| {
            // "linux:<machine>:pid:[4026531836]" → "pid:[4026531836]"
            let kind = head.rsplit(':').next().unwrap_or("pid");
            format!("{kind}:{tail}")
        })
    });
    Some(ClaudePidFile {
        path: path.to_path_buf(),
        pid,
        session_id,
        cwd: s("cwd"),
        status: s("status"),
        waiting_for: s("waitingFor"),
        status_updated_at_ms: n("statusUpdatedAt"),
        updated_at_ms: n("updatedAt"),
        started_at_ms: n("startedAt"),
        proc_start: n("procStart"),
        pid_namespace,
        kind: s("kind"),
        version: s("version"),
    })
}

/// Parses the part of `/proc/<pid>/stat` after the `)` that ends `comm` (a comm can hold spaces and parentheses):
/// returns `(state, ppid, tty_nr, start_ticks)`.
pub fn parse_stat(stat: &str) -> Option<(char, u32, u32, u64)> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let state = fields.first()?.chars().next()?;
    let ppid = fields.get(1)?.parse().ok()?;
    let tty_nr = fields.get(4)?.parse::<i64>().ok().map(|t| t as u32)?;
    let start_ticks = fields.get(19)?.parse().ok()?;
    Some((state, ppid, tty_nr, start_ticks))
}

/// Returns the boot time from `<proc_root>/stat` (`btime`).
fn boot_time(proc_root: &Path) -> Option<SystemTime> {
    let stat = fs::read_to_string(proc_root.join("stat")).ok()?;
    let secs: u64 = stat
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // A `btime` past what a `SystemTime` holds is not a boot time (found by the `proc_parse` fuzz target).
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

fn read_cmdline(dir: &Path) -> Vec<String> {
    fs::read(dir.join("cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn read_proc(dir: &Path, pid: u32, comm: String, cmdline: Vec<String>, boot: Option<SystemTime>) -> Option<ProcInfo> {
    let stat = fs::read_to_string(dir.join("stat")).ok()?;
    let (state, ppid, tty_nr, start_ticks) = parse_stat(&stat)?;
    // Checked: `start_ticks` and `btime` are whatever the file says; out of range means unknown, not a panic.
    let started_at = boot.and_then(|b| b.checked_add(Duration::from_millis(start_ticks.checked_mul(1000)? / USER_HZ)));
    let mut info = ProcInfo {
        pid,
        ppid,
        state,
        start_ticks,
        started_at,
        tty_nr,
        comm,
        exe: fs::read_link(dir.join("exe")).ok(),
        cmdline,
        cwd: fs::read_link(dir.join("cwd")).ok(),
        ..ProcInfo::default()
    };
    if let Ok(environ) = fs::read(dir.join("environ")) {
        info.environ_read = true;
        for var in environ.split(|c| *c == 0) {
            let var = String::from_utf8_lossy(var);
            if let Some(v) = var.strip_prefix("ZELLIJ_SESSION_NAME=") {
                info.zellij_session = Some(v.to_owned()).filter(|v| !v.is_empty());
            } else if let Some(v) = var.strip_prefix("ZELLIJ_PANE_ID=") {
                info.zellij_pane = Some(v.to_owned()).filter(|v| !v.is_empty());
            }
        }
    }
    if let Ok(fds) = fs::read_dir(dir.join("fd")) {
        for fd in fds.flatten() {
            if let Ok(target) = fs::read_link(fd.path()) {
                if target.extension().is_some_and(|e| e == "jsonl") && !info.open_jsonl.contains(&target) {
                    info.open_jsonl.push(target);
                }
            }
        }
        info.open_jsonl.sort();
    }
    Some(info)
}

/// Builders of processes and scans for tests (here and in the rules).
#[cfg(test)]
pub(crate) mod test_util {
    use super::*;
    use std::collections::BTreeMap;

    /// The pid namespace of the test scans.
    pub const NS: &str = "pid:[4026531836]";
    /// The tests' reference time, in seconds since the epoch.
    pub const T0: u64 = 1_795_584_000;

    /// Returns `secs` after the epoch.
    pub fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    /// Returns a running process started at [`T0`] in `/work/p`, with an optional `(zellij session, pane)`.
    pub fn proc_(pid: u32, comm: &str, argv: &[&str], pane: Option<(&str, &str)>) -> ProcInfo {
        ProcInfo {
            pid,
            ppid: 1,
            state: 'S',
            start_ticks: u64::from(pid) * 10,
            started_at: Some(at(T0)),
            tty_nr: 34816,
            comm: comm.into(),
            exe: Some(PathBuf::from(format!("/bin/{comm}"))),
            cmdline: argv.iter().map(|a| a.to_string()).collect(),
            cwd: Some(PathBuf::from("/work/p")),
            zellij_session: pane.map(|p| p.0.to_owned()),
            zellij_pane: pane.map(|p| p.1.to_owned()),
            environ_read: true,
            open_jsonl: Vec::new(),
        }
    }

    /// Returns a Claude pid file of `pid` naming `session`.
    pub fn pid_file(pid: u32, session: &str, proc_start: Option<u64>, status: &str, status_ms: u64) -> ClaudePidFile {
        ClaudePidFile {
            path: PathBuf::from(format!("/c/sessions/{pid}.json")),
            pid,
            session_id: session.into(),
            status: Some(status.into()),
            status_updated_at_ms: Some(status_ms),
            proc_start,
            pid_namespace: Some(NS.into()),
            ..ClaudePidFile::default()
        }
    }

    /// Returns a scan that found `procs` and `files`.
    pub fn scan(procs: Vec<ProcInfo>, files: Vec<ClaudePidFile>) -> AgentProcs {
        AgentProcs {
            procs: Some(procs.into_iter().map(|p| (p.pid, p)).collect::<BTreeMap<_, _>>()),
            claude_files: Some(files),
            own_pid_namespace: Some(NS.into()),
            scanned_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// Builds a fake `/proc` entry.
    fn fake_proc(root: &Path, pid: u32, comm: &str, argv: &[&str], stat_rest: &str, env: &[&str], fds: &[&str]) {
        let dir = root.join(pid.to_string());
        fs::create_dir_all(dir.join("fd")).expect("mkdir");
        fs::write(dir.join("comm"), format!("{comm}\n")).expect("comm");
        fs::write(
            dir.join("cmdline"),
            argv.iter().map(|a| format!("{a}\0")).collect::<String>(),
        )
        .expect("cmdline");
        fs::write(dir.join("stat"), format!("{pid} ({comm}) {stat_rest}")).expect("stat");
        fs::write(
            dir.join("environ"),
            env.iter().map(|a| format!("{a}\0")).collect::<String>(),
        )
        .expect("environ");
        symlink("/work/p", dir.join("cwd")).expect("cwd");
        for (i, target) in fds.iter().enumerate() {
            symlink(target, dir.join("fd").join(i.to_string())).expect("fd");
        }
    }

    // state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime prio nice
    // threads itreal starttime ...
    fn stat(state: char, ppid: u32, tty: u32, start: u64) -> String {
        format!("{state} {ppid} 1 1 {tty} 1 0 0 0 0 0 0 0 0 0 20 0 1 0 {start} 0 0")
    }

    #[test]
    fn parses_stat_even_with_odd_comm() {
        assert_eq!(
            parse_stat("42 (a) b (c)) S 7 1 1 34816 1 0 0 0 0 0 0 0 0 0 20 0 1 0 216529 0"),
            Some(('S', 7, 34816, 216529))
        );
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) S 0"), None);
    }

    #[test]
    fn parses_claude_pid_file_of_2_1_331() {
        let text = br#"{"pid":12455,"sessionId":"a2e718d6-2208-47ad-9a5a-3f193afd1bf6","cwd":"/tmp/p","startedAt":1795584480407,"procStart":"232449","version":"2.1.331","kind":"interactive","entrypoint":"cli","pidDomain":"linux:3d1219c7c4c5404aaa1f6d2a48adfda4:pid:[4026531836]","status":"waiting","updatedAt":1795584500884,"statusUpdatedAt":1795584500884,"waitingFor":"input needed"}"#;
        let f = parse_claude_pid_file(Path::new("/c/sessions/12455.json"), text).expect("parses");
        assert_eq!(f.pid, 12455);
        assert_eq!(f.session_id, "a2e718d6-2208-47ad-9a5a-3f193afd1bf6");
        assert_eq!(f.proc_start, Some(232449));
        assert_eq!(f.status.as_deref(), Some("waiting"));
        assert_eq!(f.waiting_for.as_deref(), Some("input needed"));
        assert_eq!(f.status_updated_at_ms, Some(1795584500884));
        assert_eq!(f.pid_namespace.as_deref(), Some("pid:[4026531836]"));
        assert!(
            parse_claude_pid_file(Path::new("x"), b"{\"pid\":1}").is_none(),
            "no sessionId"
        );
        assert!(parse_claude_pid_file(Path::new("x"), b"not json").is_none());
        assert!(parse_claude_pid_file(Path::new("x"), b"{\"pid\":-1,\"sessionId\":\"s\"}").is_none());
    }

    #[test]
    fn agent_like_filter() {
        let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(is_agent_like("claude", &[]));
        assert!(is_agent_like("codex", &v(&["/x/codex", "--no-daemon"])));
        assert!(is_agent_like("node", &v(&["node", "/home/u/.npm/bin/codex"])));
        assert!(is_agent_like(
            "node",
            &v(&["node", "/x/@anthropic-ai/claude-code/cli.js"])
        ));
        assert!(
            !is_agent_like("bash", &v(&["bash", "-c", "echo codex"])),
            "only argv[0..2] count"
        );
        assert!(!is_agent_like("zellij", &v(&["zellij", "--session", "s"])));
    }

    #[test]
    fn scans_a_fake_proc_and_claude_sessions() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let proc_root = tmp.path().join("proc");
        fs::create_dir_all(proc_root.join("self/ns")).expect("self");
        symlink("pid:[4026531836]", proc_root.join("self/ns/pid")).expect("ns");
        fs::write(proc_root.join("stat"), "cpu 1 2 3\nbtime 1795580000\n").expect("stat");
        fake_proc(
            &proc_root,
            100,
            "claude",
            &["/x/claude"],
            &stat('S', 1, 34816, 5000),
            &["ZELLIJ_SESSION_NAME=main", "ZELLIJ_PANE_ID=3", "HOME=/h"],
            &[],
        );
        fake_proc(
            &proc_root,
            200,
            "codex",
            &["/x/codex", "--no-daemon"],
            &stat('S', 1, 34817, 6000),
            &["ZELLIJ_SESSION_NAME=main", "ZELLIJ_PANE_ID=4"],
            &[
                "/h/.codex/sessions/2026/11/25/rollout-x.jsonl",
                "/h/.codex/state_5.sqlite",
            ],
        );
        fake_proc(&proc_root, 300, "bash", &["bash"], &stat('S', 1, 34818, 7000), &[], &[]);
        fake_proc(
            &proc_root,
            400,
            "sleep",
            &["sleep", "9"],
            &stat('S', 1, 0, 8000),
            &[],
            &[],
        );
        fake_proc(
            &proc_root,
            500,
            "codex",
            &["/x/codex"],
            &stat('Z', 1, 0, 9000),
            &[],
            &[],
        );
        let claude_dir = tmp.path().join("claude");
        fs::create_dir_all(claude_dir.join("sessions")).expect("sessions");
        fs::write(
            claude_dir.join("sessions/400.json"),
            r#"{"pid":400,"sessionId":"s-stale","procStart":"1234"}"#,
        )
        .expect("pid file");
        fs::write(claude_dir.join("sessions/400.abc.key"), "x").expect("key file");
        fs::write(claude_dir.join("sessions/broken.json"), "{").expect("broken");

        let scan = scan(&proc_root, &[claude_dir, tmp.path().join("missing")]);
        assert_eq!(scan.own_pid_namespace.as_deref(), Some("pid:[4026531836]"));
        let procs = scan.procs.expect("proc listed");
        assert_eq!(
            procs.keys().copied().collect::<Vec<_>>(),
            vec![100, 200, 400, 500],
            "agents and pid-file pids only"
        );
        let claude = &procs[&100];
        assert_eq!(claude.zellij_session.as_deref(), Some("main"));
        assert_eq!(claude.zellij_pane.as_deref(), Some("3"));
        assert_eq!(claude.tty_nr, 34816);
        assert_eq!(claude.start_ticks, 5000);
        assert_eq!(
            claude.started_at,
            Some(UNIX_EPOCH + Duration::from_secs(1795580000 + 50))
        );
        assert_eq!(claude.cwd.as_deref(), Some(Path::new("/work/p")));
        assert!(claude.is_running());
        assert_eq!(
            procs[&200].open_jsonl,
            vec![PathBuf::from("/h/.codex/sessions/2026/11/25/rollout-x.jsonl")]
        );
        assert!(!procs[&500].is_running(), "a zombie has exited");
        let files = scan.claude_files.expect("dir read");
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].session_id, "s-stale");
    }

    #[test]
    fn unreadable_proc_is_unknown_not_empty() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let scan = scan(&tmp.path().join("no-proc"), &[]);
        assert!(scan.procs.is_none());
        assert_eq!(scan.claude_files, Some(Vec::new()));
    }

    #[test]
    fn scans_the_real_proc_and_finds_nothing_wrong() {
        // This test process is not an agent; the scan must still list /proc and not fail.
        let scan = scan(Path::new("/proc"), &[]);
        if Path::new("/proc/self/stat").exists() {
            assert!(scan.procs.is_some());
            assert!(scan.own_pid_namespace.is_some());
        }
    }

    #[test]
    fn classifies_agent_processes() {
        use super::test_util::proc_;
        assert_eq!(classify(&proc_(1, "claude", &["/x/claude"], None)), AgentKind::Claude);
        assert_eq!(
            classify(&proc_(
                1,
                "node",
                &["node", "/x/@anthropic-ai/claude-code/cli.js"],
                None
            )),
            AgentKind::Claude
        );
        assert_eq!(classify(&proc_(1, "codex", &["/x/codex"], None)), AgentKind::CodexTui);
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "--no-daemon"], None)),
            AgentKind::CodexTui
        );
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "resume", "019c"], None)),
            AgentKind::CodexTui
        );
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "exec", "hi"], None)),
            AgentKind::CodexExec
        );
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "-m", "exec"], None)),
            AgentKind::CodexExec,
            "first positional"
        );
        assert_eq!(
            classify(&proc_(
                1,
                "codex",
                &[
                    "/h/.codex/packages/app-server-daemon/releases/0.169.0/bin/codex",
                    "app-server",
                    "--listen",
                    "unix://",
                    "--managed-daemon"
                ],
                None
            )),
            AgentKind::CodexDaemon
        );
        assert_eq!(
            classify(&proc_(
                1,
                "codex",
                &["/x/codex", "app-server", "daemon", "pid-update-loop"],
                None
            )),
            AgentKind::CodexDaemon
        );
        assert_eq!(
            classify(&proc_(
                1,
                "node",
                &["node", "/x/node_modules/.bin/codex", "--no-daemon"],
                None
            )),
            AgentKind::CodexLauncher
        );
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "login", "--with-api-key"], None)),
            AgentKind::CodexOther
        );
        assert_eq!(classify(&proc_(1, "bash", &["bash"], None)), AgentKind::Other);
        assert_eq!(
            classify(&proc_(1, "node", &["node", "server.js"], None)),
            AgentKind::Other
        );
    }

    #[test]
    fn mcp_server_is_not_the_daemon_and_managed_daemon_is() {
        use super::test_util::proc_;
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "mcp-server"], None)),
            AgentKind::CodexOther
        );
        assert_eq!(
            classify(&proc_(1, "codex", &["/x/codex", "--managed-daemon"], None)),
            AgentKind::CodexDaemon
        );
    }
}
