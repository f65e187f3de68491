//! `amc service install|uninstall|status [--dry-run]`: `amc serve` as a per-user service that starts at login.
//!
//! - systemd (Linux): `~/.config/systemd/user/amc.service` (`$XDG_CONFIG_HOME` honoured), `Restart=on-failure`, the
//!   binary's absolute path, then `systemctl --user daemon-reload` and `systemctl --user enable --now amc.service`
//!   (`restart` when the unit changed). Logs go to the journal: `journalctl --user -u amc`.
//! - launchd (macOS): `~/Library/LaunchAgents/local.amc.serve.plist` with `RunAtLoad` and `KeepAlive`, then
//!   `launchctl bootstrap gui/<uid> <plist>`. Logs go to `~/Library/Logs/amc.log`.
//!
//! Install is idempotent: an existing file with the same content is left alone, a different one is shown as a diff
//! and replaced. `--dry-run` prints the file (or the diff) and the commands instead of running them. A missing
//! `systemctl`/`launchctl` is an error that says what to run by hand.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{bail, Context as _};

/// The service managers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// A systemd user unit (Linux).
    Systemd,
    /// A launchd agent (macOS).
    Launchd,
}

impl Platform {
    /// This machine's.
    pub fn native() -> Self {
        if cfg!(target_os = "macos") {
            Platform::Launchd
        } else {
            Platform::Systemd
        }
    }
}

/// The launchd label.
pub const LAUNCHD_LABEL: &str = "local.amc.serve";

/// What the service runs and where its file goes.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The service manager.
    pub platform: Platform,
    /// The unit or plist file.
    pub file: PathBuf,
    /// Its content.
    pub content: String,
    /// The user id (launchd's `gui/<uid>` domain).
    pub uid: u32,
}

/// The inputs of a plan: the binary, the user's home, `$XDG_CONFIG_HOME`, `$PATH`, and the `--config` file.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// The absolute path of the amc binary.
    pub binary: PathBuf,
    /// The home directory.
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME`, when set.
    pub xdg_config_home: Option<PathBuf>,
    /// `$PATH`, passed on (systemd and launchd start services with a minimal one; zellij and the agents are found
    /// through it).
    pub path: Option<String>,
    /// `--config FILE`, passed on to `amc serve`.
    pub config: Option<PathBuf>,
    /// The user id.
    pub uid: u32,
}

impl Inputs {
    /// From this process: its executable, `HOME`, `XDG_CONFIG_HOME`, `PATH`.
    pub fn from_process(config: Option<PathBuf>) -> anyhow::Result<Self> {
        use std::os::unix::fs::MetadataExt as _;
        let binary = std::env::current_exe().context("finding the amc binary")?;
        let binary = binary.canonicalize().unwrap_or(binary);
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .context("HOME is not set")?;
        let uid = std::fs::metadata(&home).map(|m| m.uid()).unwrap_or(0);
        Ok(Inputs {
            binary,
            home,
            xdg_config_home: std::env::var_os("XDG_CONFIG_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            path: std::env::var("PATH").ok().filter(|p| !p.is_empty()),
            config: config.map(|c| std::path::absolute(&c).unwrap_or(c)),
            uid,
        })
    }
}

/// Builds the plan for `platform`.
pub fn plan(platform: Platform, inputs: &Inputs) -> Plan {
    let mut args = vec![inputs.binary.display().to_string()];
    if let Some(config) = &inputs.config {
        args.push("--config".into());
        args.push(config.display().to_string());
    }
    args.push("serve".into());
    match platform {
        Platform::Systemd => {
            let dir = inputs
                .xdg_config_home
                .clone()
                .unwrap_or_else(|| inputs.home.join(".config"))
                .join("systemd/user");
            let exec: Vec<String> = args.iter().map(|a| systemd_quote(a)).collect();
            let mut unit = String::new();
            let _ = writeln!(
                unit,
                "# Written by `amc service install`; `amc service uninstall` removes it."
            );
            let _ = writeln!(unit, "[Unit]");
            let _ = writeln!(unit, "Description=amc: what your AI coding agents are doing");
            let _ = writeln!(unit, "Documentation=man:amc(1)");
            let _ = writeln!(unit);
            let _ = writeln!(unit, "[Service]");
            let _ = writeln!(unit, "ExecStart={}", exec.join(" "));
            let _ = writeln!(unit, "Restart=on-failure");
            let _ = writeln!(unit, "RestartSec=2");
            if let Some(path) = &inputs.path {
                let _ = writeln!(unit, "Environment={}", systemd_quote(&format!("PATH={path}")));
            }
            let _ = writeln!(unit);
            let _ = writeln!(unit, "[Install]");
            let _ = writeln!(unit, "WantedBy=default.target");
            Plan {
                platform,
                file: dir.join("amc.service"),
                content: unit,
                uid: inputs.uid,
            }
        }
        Platform::Launchd => {
            let file = inputs
                .home
                .join("Library/LaunchAgents")
                .join(format!("{LAUNCHD_LABEL}.plist"));
            let log = inputs.home.join("Library/Logs/amc.log");
            let mut plist = String::new();
            let _ = writeln!(plist, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
            let _ = writeln!(
                plist,
                r#"<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">"#
            );
            let _ = writeln!(plist, r#"<plist version="1.0">"#);
            let _ = writeln!(plist, "<dict>");
            let _ = writeln!(plist, "  <key>Label</key>\n  <string>{LAUNCHD_LABEL}</string>");
            let _ = writeln!(plist, "  <key>ProgramArguments</key>\n  <array>");
            for arg in &args {
                let _ = writeln!(plist, "    <string>{}</string>", xml_escape(arg));
            }
            let _ = writeln!(plist, "  </array>");
            let _ = writeln!(plist, "  <key>RunAtLoad</key>\n  <true/>");
            let _ = writeln!(plist, "  <key>KeepAlive</key>\n  <true/>");
            if let Some(path) = &inputs.path {
                let _ = writeln!(
                    plist,
                    "  <key>EnvironmentVariables</key>\n  <dict>\n    <key>PATH</key>\n    <string>{}</string>\n  </dict>",
                    xml_escape(path)
                );
            }
            let log = xml_escape(&log.display().to_string());
            let _ = writeln!(plist, "  <key>StandardErrorPath</key>\n  <string>{log}</string>");
            let _ = writeln!(plist, "  <key>StandardOutPath</key>\n  <string>{log}</string>");
            let _ = writeln!(plist, "</dict>\n</plist>");
            Plan {
                platform,
                file,
                content: plist,
                uid: inputs.uid,
            }
        }
    }
}

/// The commands that start the service once its file is in place (`changed`: the file replaced an older one).
pub fn start_commands(plan: &Plan, changed: bool) -> Vec<Vec<String>> {
    let words = |w: &[&str]| w.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    match plan.platform {
        Platform::Systemd => {
            let mut out = vec![
                words(&["systemctl", "--user", "daemon-reload"]),
                words(&["systemctl", "--user", "enable", "--now", "amc.service"]),
            ];
            if changed {
                out.push(words(&["systemctl", "--user", "restart", "amc.service"]));
            }
            out
        }
        Platform::Launchd => {
            let domain = format!("gui/{}", plan.uid);
            let mut out = Vec::new();
            if changed {
                out.push(vec![
                    "launchctl".into(),
                    "bootout".into(),
                    format!("{domain}/{LAUNCHD_LABEL}"),
                ]);
            }
            out.push(vec![
                "launchctl".into(),
                "bootstrap".into(),
                domain,
                plan.file.display().to_string(),
            ]);
            out
        }
    }
}

/// The commands that stop the service before its file is removed.
pub fn stop_commands(plan: &Plan) -> Vec<Vec<String>> {
    match plan.platform {
        Platform::Systemd => vec![vec![
            "systemctl".into(),
            "--user".into(),
            "disable".into(),
            "--now".into(),
            "amc.service".into(),
        ]],
        Platform::Launchd => vec![vec![
            "launchctl".into(),
            "bootout".into(),
            format!("gui/{}/{LAUNCHD_LABEL}", plan.uid),
        ]],
    }
}

fn manager(platform: Platform) -> &'static str {
    match platform {
        Platform::Systemd => "systemctl",
        Platform::Launchd => "launchctl",
    }
}

/// `amc service install`.
pub fn install(plan: &Plan, dry_run: bool) -> anyhow::Result<()> {
    let old = std::fs::read_to_string(&plan.file).ok();
    let changed = old.as_deref().is_some_and(|old| old != plan.content);
    match old.as_deref() {
        None => println!(
            "{} {}:\n{}",
            would(dry_run, "write", "writing"),
            plan.file.display(),
            plan.content
        ),
        Some(old) if old == plan.content => println!("{} is up to date", plan.file.display()),
        Some(old) => println!(
            "{} {} (it differs):\n{}",
            would(dry_run, "replace", "replacing"),
            plan.file.display(),
            similar::TextDiff::from_lines(old, plan.content.as_str())
                .unified_diff()
                .header("installed", "new")
        ),
    }
    let commands = start_commands(plan, changed);
    if dry_run {
        println!("dry run: would then run:");
        for command in &commands {
            println!("  {}", command.join(" "));
        }
        return Ok(());
    }
    if old.as_deref() != Some(plan.content.as_str()) {
        if let Some(dir) = plan.file.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        std::fs::write(&plan.file, &plan.content).with_context(|| format!("writing {}", plan.file.display()))?;
    }
    run_all(plan.platform, &commands, &plan.file)?;
    println!("amc runs as a service now; `amc service status` shows it");
    Ok(())
}

/// `amc service uninstall`.
pub fn uninstall(plan: &Plan, dry_run: bool) -> anyhow::Result<()> {
    if !plan.file.exists() {
        println!("{} does not exist: nothing to uninstall", plan.file.display());
        return Ok(());
    }
    let commands = stop_commands(plan);
    if dry_run {
        println!("would run:");
        for command in &commands {
            println!("  {}", command.join(" "));
        }
        println!("would remove {}", plan.file.display());
        return Ok(());
    }
    // Stopping a service that does not run fails; removing the file is what matters.
    if let Err(error) = run_all(plan.platform, &commands, &plan.file) {
        eprintln!("amc: {error:#}");
    }
    std::fs::remove_file(&plan.file).with_context(|| format!("removing {}", plan.file.display()))?;
    println!("removed {}", plan.file.display());
    Ok(())
}

/// `amc service status`: the file (present, current or not) and what the service manager says; an error when not
/// installed or not running.
pub fn status(plan: &Plan, dry_run: bool) -> anyhow::Result<()> {
    let query: Vec<String> = match plan.platform {
        Platform::Systemd => ["systemctl", "--user", "status", "--no-pager", "amc.service"]
            .map(str::to_owned)
            .to_vec(),
        Platform::Launchd => vec![
            "launchctl".into(),
            "print".into(),
            format!("gui/{}/{LAUNCHD_LABEL}", plan.uid),
        ],
    };
    if dry_run {
        println!("would read {} and run:\n  {}", plan.file.display(), query.join(" "));
        return Ok(());
    }
    match std::fs::read_to_string(&plan.file) {
        Err(_) => bail!(
            "{} does not exist: the service is not installed (`amc service install`)",
            plan.file.display()
        ),
        Ok(text) if text != plan.content => println!(
            "{}: installed, but not for this binary or these settings (`amc service install` updates it)",
            plan.file.display()
        ),
        Ok(_) => println!("{}: installed", plan.file.display()),
    }
    let output = Command::new(&query[0])
        .args(&query[1..])
        .output()
        .map_err(|e| missing_manager(plan.platform, e, &plan.file))?;
    print!("{}", String::from_utf8_lossy(&output.stdout));
    if !output.status.success() {
        bail!(
            "the service is not running ({} exited with {})",
            query.join(" "),
            output.status
        );
    }
    Ok(())
}

fn would(dry_run: bool, verb: &str, doing: &str) -> String {
    if dry_run {
        format!("dry run: would {verb}")
    } else {
        doing.to_owned()
    }
}

fn run_all(platform: Platform, commands: &[Vec<String>], file: &Path) -> anyhow::Result<()> {
    for command in commands {
        let status = Command::new(&command[0])
            .args(&command[1..])
            .status()
            .map_err(|e| missing_manager(platform, e, file))?;
        if !status.success() {
            bail!("`{}` failed ({status})", command.join(" "));
        }
    }
    Ok(())
}

/// The error for a service manager that cannot be run, with the steps to do by hand.
fn missing_manager(platform: Platform, error: std::io::Error, file: &Path) -> anyhow::Error {
    let steps = match platform {
        Platform::Systemd => format!(
            "the unit file is {}; with systemd, run `systemctl --user daemon-reload && systemctl --user enable --now \
             amc.service`; without systemd, start `amc serve` from your login script (e.g. ~/.profile: \
             `nohup amc serve >>~/.local/state/amc.log 2>&1 &`)",
            file.display()
        ),
        Platform::Launchd => format!(
            "the plist is {}; run `launchctl bootstrap gui/$(id -u) {}`",
            file.display(),
            file.display()
        ),
    };
    anyhow::anyhow!("cannot run {}: {error}. Manual steps: {steps}", manager(platform))
}

/// Quotes a word for a systemd `ExecStart=`/`Environment=` line (double quotes when needed; `%` doubled).
fn systemd_quote(word: &str) -> String {
    let escaped = word.replace('%', "%%");
    if escaped
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-=:,+@".contains(c))
    {
        return escaped;
    }
    format!("\"{}\"", escaped.replace('\\', "\\\\").replace('"', "\\\""))
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs {
            binary: PathBuf::from("/opt/my tools/amc"),
            home: PathBuf::from("/home/u"),
            xdg_config_home: None,
            path: Some("/usr/bin:/bin".into()),
            config: None,
            uid: 1000,
        }
    }

    #[test]
    fn the_systemd_unit_runs_the_absolute_binary_and_restarts_on_failure() {
        let plan = plan(Platform::Systemd, &inputs());
        assert_eq!(plan.file, PathBuf::from("/home/u/.config/systemd/user/amc.service"));
        assert!(
            plan.content.contains("ExecStart=\"/opt/my tools/amc\" serve\n"),
            "{}",
            plan.content
        );
        assert!(plan.content.contains("Restart=on-failure\n"));
        assert!(plan.content.contains("WantedBy=default.target\n"));
        assert!(
            plan.content.contains("Environment=PATH=/usr/bin:/bin\n"),
            "{}",
            plan.content
        );
        assert_eq!(
            start_commands(&plan, false).last().map(|c| c.join(" ")),
            Some("systemctl --user enable --now amc.service".into())
        );
    }

    #[test]
    fn the_launchd_agent_keeps_alive_and_escapes() {
        let mut inputs = inputs();
        inputs.config = Some(PathBuf::from("/home/u/a&b.toml"));
        let plan = plan(Platform::Launchd, &inputs);
        assert_eq!(
            plan.file,
            PathBuf::from("/home/u/Library/LaunchAgents/local.amc.serve.plist")
        );
        assert!(plan.content.contains("<key>KeepAlive</key>\n  <true/>"));
        assert!(plan.content.contains("<string>/home/u/a&amp;b.toml</string>"));
        assert_eq!(
            start_commands(&plan, false)[0].join(" "),
            "launchctl bootstrap gui/1000 /home/u/Library/LaunchAgents/local.amc.serve.plist"
        );
    }
}
