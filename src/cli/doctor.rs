//! `amc doctor`: why sessions might not show up. Each check says what it found and, when something is wrong, how to
//! fix it; the exit code is 0 when nothing failed (warnings allowed) and 1 otherwise; `--json` prints the same as one
//! object. Works with no server running (it says so and checks the rest).
//!
//! Checks: the config file parses and its values are valid; Claude Code's and Codex's hooks are installed and their
//! program exists; the server answers (and its version); Zellij is found and new enough for actions (0.44); the data
//! dir is writable; the inotify watch limit covers the directories amc watches; the transcript dirs are readable; the
//! clock is sane; the token file is private.

use std::{
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use serde::Serialize;

use crate::{
    config::{Config, Layers, Paths},
    hook::{install, update::HookAgent},
};

/// Zellij's first version whose actions amc uses (`zellij action` with `--pane-id`).
pub const MIN_ZELLIJ: (u32, u32) = (0, 44);

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Ok,
    /// Works, but worth a look (does not fail the doctor).
    Warn,
    /// Broken: sessions will be missing or wrong.
    Fail,
    /// Not applicable here (e.g. Codex not used).
    Skip,
}

/// One finding.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The check's name.
    pub check: &'static str,
    /// How it came out.
    pub status: Status,
    /// What was found.
    pub detail: String,
    /// How to fix it (empty when nothing is to fix).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

fn finding(check: &'static str, status: Status, detail: impl Into<String>, fix: impl Into<String>) -> Finding {
    Finding {
        check,
        status,
        detail: detail.into(),
        fix: fix.into(),
    }
}

/// Runs every check. `layers` is the loaded configuration or the error loading it.
pub fn run(layers: Result<Layers, String>) -> Vec<Finding> {
    let mut out = Vec::new();
    let (paths, config) = match &layers {
        Ok(layers) => match Config::from_layers(layers) {
            Ok(config) => {
                let file = layers
                    .file()
                    .map_or("no config file (defaults and environment)".to_owned(), |f| {
                        format!("{} is valid", f.display())
                    });
                out.push(finding("config", Status::Ok, file, ""));
                (config.paths.clone(), Some(config))
            }
            Err(error) => {
                out.push(finding(
                    "config",
                    Status::Fail,
                    error,
                    "fix the value named (see `amc config show` and the README's settings table)",
                ));
                (Paths::from_layers(layers), None)
            }
        },
        Err(error) => {
            out.push(finding(
                "config",
                Status::Fail,
                error.clone(),
                "fix the config file at the line named, or move it away",
            ));
            (Paths::from_env(), None)
        }
    };
    out.push(hooks(&paths, HookAgent::Claude));
    out.push(hooks(&paths, HookAgent::Codex));
    out.push(server(&paths, config.as_ref()));
    out.push(zellij(&paths));
    out.push(data_dir(&paths.data_dir));
    out.push(inotify(&paths));
    out.push(transcripts(&paths));
    out.push(clock(&paths));
    out.push(token_file(&paths.token_file()));
    out
}

/// Whether the findings pass (no `fail`).
pub fn passed(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.status != Status::Fail)
}

/// The findings as text, one line each and an indented fix.
pub fn text(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let mark = match f.status {
            Status::Ok => "ok  ",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        out.push_str(&format!("{mark} {:<11} {}\n", f.check, f.detail));
        if !f.fix.is_empty() {
            out.push_str(&format!("     {:<11} fix: {}\n", "", f.fix));
        }
    }
    let failed = findings.iter().filter(|f| f.status == Status::Fail).count();
    let warned = findings.iter().filter(|f| f.status == Status::Warn).count();
    out.push_str(&format!("{failed} failed, {warned} warning(s)\n"));
    out
}

fn hooks(paths: &Paths, agent: HookAgent) -> Finding {
    let (check, file, flag) = match agent {
        HookAgent::Claude => ("hooks", paths.claude_config_dir.join("settings.json"), ""),
        HookAgent::Codex => {
            let home = paths
                .codex_sessions_dir
                .parent()
                .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
            if !home.exists() {
                return finding(
                    "codex",
                    Status::Skip,
                    format!("{} does not exist (Codex not used)", home.display()),
                    "",
                );
            }
            ("codex", home.join("hooks.json"), " --agent codex")
        }
    };
    let options = install::HooksOptions {
        settings: file.clone(),
        dry_run: true,
        agent,
        codex_bin: None,
        statusline: false,
        otel: None,
    };
    match install::problems(&options) {
        Ok(problems) if problems.is_empty() => finding(
            check,
            Status::Ok,
            format!("amc's hooks are installed in {}", file.display()),
            "",
        ),
        Ok(problems) => finding(
            check,
            Status::Fail,
            problems.join("; "),
            format!("run `amc hooks install{flag}`"),
        ),
        Err(error) => finding(
            check,
            Status::Fail,
            format!("{error:#}"),
            format!("repair {} by hand, then run `amc hooks install{flag}`", file.display()),
        ),
    }
}

fn server(paths: &Paths, config: Option<&Config>) -> Finding {
    let addr = paths
        .written_addr()
        .map(|a| a.to_string())
        .or_else(|| config.map(|c| c.listen.to_string()))
        .unwrap_or_else(|| crate::config::DEFAULT_LISTEN.to_owned());
    let url = format!("http://{addr}/api/health");
    let answer = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())
        .and_then(|runtime| {
            runtime.block_on(async {
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_secs(2))
                    .build()
                    .map_err(|e| e.to_string())?;
                let response = client.get(&url).send().await.map_err(|e| e.to_string())?;
                response.json::<serde_json::Value>().await.map_err(|e| e.to_string())
            })
        });
    match answer {
        Ok(health) => {
            let version = health["version"].as_str().unwrap_or("unknown (older than 0.1)");
            let ours = env!("CARGO_PKG_VERSION");
            let detail = format!(
                "amc {version} answers at {addr} ({} session(s){})",
                health["sessions"],
                if health["warming"] == true { ", warming up" } else { "" }
            );
            if version == ours {
                finding("server", Status::Ok, detail, "")
            } else {
                finding(
                    "server",
                    Status::Warn,
                    format!("{detail}; this binary is {ours}"),
                    "restart the server (`amc service install` or restart `amc serve`)",
                )
            }
        }
        Err(error) => finding(
            "server",
            Status::Fail,
            format!("no amc server answers at {addr}: {error}"),
            "start it: `amc serve`, or at login: `amc service install`",
        ),
    }
}

/// Parses `zellij 0.44.1` into (0, 44).
pub fn zellij_version(text: &str) -> Option<(u32, u32)> {
    let version = text
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))?;
    let mut parts = version.split('.');
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

fn zellij(paths: &Paths) -> Finding {
    let Some(bin) = &paths.zellij_bin else {
        return finding(
            "zellij",
            Status::Fail,
            "zellij not found on PATH nor in /opt/homebrew/bin, /usr/local/bin, /usr/bin",
            "install Zellij (https://zellij.dev) or set AMC_ZELLIJ_BIN to its path",
        );
    };
    let output = match std::process::Command::new(bin).arg("--version").output() {
        Ok(output) => output,
        Err(error) => {
            return finding(
                "zellij",
                Status::Fail,
                format!("cannot run {}: {error}", bin.display()),
                "install Zellij or set AMC_ZELLIJ_BIN (zellij_bin) to a working binary",
            )
        }
    };
    let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match zellij_version(&text) {
        Some(version) if version >= MIN_ZELLIJ => {
            finding("zellij", Status::Ok, format!("{text} ({})", bin.display()), "")
        }
        Some(_) => finding(
            "zellij",
            Status::Warn,
            format!(
                "{text}: sessions show, but actions need Zellij {}.{} or newer",
                MIN_ZELLIJ.0, MIN_ZELLIJ.1
            ),
            "upgrade Zellij",
        ),
        None => finding(
            "zellij",
            Status::Warn,
            format!("{} --version printed {text:?}", bin.display()),
            "check that AMC_ZELLIJ_BIN names Zellij",
        ),
    }
}

fn data_dir(dir: &Path) -> Finding {
    // The nearest existing ancestor: amc creates the rest.
    let existing = dir.ancestors().find(|d| d.exists()).unwrap_or(Path::new("/"));
    let probe = existing.join(format!(".amc-doctor-{}", std::process::id()));
    match std::fs::write(&probe, b"") {
        Ok(()) => {
            let _ = std::fs::remove_file(&probe);
            let detail = if existing == dir {
                format!("{} is writable", dir.display())
            } else {
                format!(
                    "{} does not exist yet; {} is writable",
                    dir.display(),
                    existing.display()
                )
            };
            finding("data dir", Status::Ok, detail, "")
        }
        Err(error) => finding(
            "data dir",
            Status::Fail,
            format!("cannot write in {}: {error}", existing.display()),
            format!(
                "make it yours (`chown -R $USER {}`) or set AMC_DATA_DIR (data_dir) to a writable dir",
                existing.display()
            ),
        ),
    }
}

/// Counts directories under `root` (itself included), at most `cap`.
fn count_dirs(root: &Path, cap: usize) -> usize {
    let mut stack = vec![root.to_path_buf()];
    let mut n = 0;
    while let Some(dir) = stack.pop() {
        n += 1;
        if n >= cap {
            break;
        }
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(entry.path());
            }
        }
    }
    n
}

/// The directories amc watches: its sessions and events dirs, the Codex sessions tree, and (at most) every Claude
/// project dir.
fn watched_dirs(paths: &Paths) -> usize {
    let mut n = 2;
    if paths.codex_sessions_dir.is_dir() {
        n += count_dirs(&paths.codex_sessions_dir, 1_000_000);
    }
    for projects in &paths.claude_projects_dirs {
        n += std::fs::read_dir(projects)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .count();
    }
    n
}

fn inotify(paths: &Paths) -> Finding {
    let Ok(limit) = std::fs::read_to_string("/proc/sys/fs/inotify/max_user_watches") else {
        return finding("inotify", Status::Skip, "no inotify here (not Linux)", "");
    };
    let Ok(limit) = limit.trim().parse::<usize>() else {
        return finding("inotify", Status::Skip, "max_user_watches unreadable", "");
    };
    let need = watched_dirs(paths);
    let detail = format!("amc watches up to {need} directories; the limit is {limit} (shared by every program)");
    let fix = format!(
        "raise it: `echo fs.inotify.max_user_watches={} | sudo tee /etc/sysctl.d/60-amc.conf && sudo sysctl --system`",
        (need * 4).max(524_288)
    );
    if need > limit {
        finding("inotify", Status::Fail, detail, fix)
    } else if need * 2 > limit {
        finding("inotify", Status::Warn, detail, fix)
    } else {
        finding("inotify", Status::Ok, detail, "")
    }
}

fn transcripts(paths: &Paths) -> Finding {
    let mut dirs: Vec<&Path> = paths.claude_projects_dirs.iter().map(PathBuf::as_path).collect();
    dirs.push(&paths.codex_sessions_dir);
    let existing: Vec<&Path> = dirs.iter().copied().filter(|d| d.exists()).collect();
    let unreadable: Vec<String> = existing
        .iter()
        .filter(|d| std::fs::read_dir(d).is_err())
        .map(|d| d.display().to_string())
        .collect();
    if !unreadable.is_empty() {
        return finding(
            "transcripts",
            Status::Fail,
            format!("cannot read {}", unreadable.join(", ")),
            "give your user read access (`chmod u+rx <dir>`) or point CLAUDE_CONFIG_DIR/CODEX_HOME elsewhere",
        );
    }
    if existing.is_empty() {
        return finding(
            "transcripts",
            Status::Warn,
            format!(
                "none of {} exists yet (no agent has run, or they keep transcripts elsewhere)",
                dirs.iter()
                    .map(|d| d.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "set CLAUDE_CONFIG_DIR / CODEX_HOME when your agents use other dirs",
        );
    }
    finding(
        "transcripts",
        Status::Ok,
        format!(
            "readable: {}",
            existing
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        "",
    )
}

fn clock(paths: &Paths) -> Finding {
    let now = SystemTime::now();
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // 2024-01-01 .. 2100-01-01.
    if !(1_704_067_200..4_102_444_800).contains(&secs) {
        return finding(
            "clock",
            Status::Fail,
            format!("the system clock says {secs} s since 1970, which is not plausible"),
            "set the clock (`timedatectl set-ntp true`)",
        );
    }
    // A session file written "in the future" means the clock jumped back.
    let newest = std::fs::read_dir(paths.sessions_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok()?.modified().ok())
        .max();
    match newest.and_then(|t| t.duration_since(now).ok()) {
        Some(ahead) if ahead > Duration::from_secs(300) => finding(
            "clock",
            Status::Warn,
            format!(
                "a session file is {} s in the future: the clock went back",
                ahead.as_secs()
            ),
            "check NTP (`timedatectl`); ages and dwell times are off until the files are rewritten",
        ),
        _ => finding("clock", Status::Ok, "plausible", ""),
    }
}

fn token_file(path: &Path) -> Finding {
    use std::os::unix::fs::PermissionsExt as _;
    match std::fs::metadata(path) {
        Err(_) => finding(
            "token",
            Status::Ok,
            format!("{} not created yet (`amc serve` creates it, mode 600)", path.display()),
            "",
        ),
        Ok(meta) if meta.permissions().mode() & 0o077 != 0 => finding(
            "token",
            Status::Fail,
            format!(
                "{} is readable by others (mode {:o})",
                path.display(),
                meta.permissions().mode() & 0o777
            ),
            format!("`chmod 600 {}`", path.display()),
        ),
        Ok(_) => finding("token", Status::Ok, format!("{} is private (600)", path.display()), ""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zellij_versions_parse() {
        assert_eq!(zellij_version("zellij 0.44.1"), Some((0, 44)));
        assert_eq!(zellij_version("zellij 0.43.0\n"), Some((0, 43)));
        assert_eq!(zellij_version("garbage"), None);
        assert!((0, 43) < MIN_ZELLIJ && (1, 0) > MIN_ZELLIJ);
    }
}
