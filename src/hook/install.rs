//! `amc hooks install|uninstall|status`: amc's entries in Claude Code's `settings.json`, or with `--agent codex` in
//! Codex's `$CODEX_HOME/hooks.json` (the same `{"hooks": {...}}` shape; Codex then runs them only once they are
//! trusted, see [`super::codex_trust`]).
//!
//! Claude Code reads `{"hooks": {"<Event>": [{"matcher": "..", "hooks": [{"type": "command", "command": "..",
//! "timeout": <seconds>}]}]}}`. amc's entries run `<absolute path of this binary> hook`. An entry is amc's when its
//! command is `<program> hook` and the program's file name is `amc`, so a moved binary is updated in place rather than
//! installed twice. Everything else in the file is kept as it is (same JSON value, same key order); a file that is not
//! valid JSON is never overwritten.

use std::{
    fs::{self, OpenOptions},
    io::{self, Write},
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use anyhow::{bail, Context as _};
use serde_json::{json, Map, Value};

use super::update::HookAgent;

/// The Claude Code events amc hooks, with their matcher (`None`: every occurrence of the event).
///
/// PostToolUse and PostToolUseFailure have no matcher: the tool a permission dialog held finishing is what says the
/// dialog was answered (an older install's `PostToolUse [AskUserQuestion]` is replaced by `install`).
pub const HOOK_EVENTS: &[(&str, Option<&str>)] = &[
    ("SessionStart", None),
    ("UserPromptSubmit", None),
    ("PreToolUse", Some("AskUserQuestion")),
    ("PermissionRequest", None),
    ("PermissionDenied", None),
    ("PostToolUse", None),
    ("PostToolUseFailure", None),
    ("Notification", None),
    ("Stop", None),
    ("StopFailure", None),
    ("SubagentStart", None),
    ("SubagentStop", None),
    ("PreCompact", None),
    ("PostCompact", None),
    ("SessionEnd", None),
];

/// The Codex CLI events amc hooks (what Codex 0.169.0 fires that tells the session's state; not its per-request
/// PreModelRequest/PostModelRequest nor PreToolUse).
pub const CODEX_HOOK_EVENTS: &[(&str, Option<&str>)] = &[
    ("SessionStart", None),
    ("UserPromptSubmit", None),
    ("PermissionRequest", None),
    ("PostToolUse", None),
    ("Stop", None),
    ("Interrupt", None),
    ("SubagentStart", None),
    ("SubagentStop", None),
    ("PreCompact", None),
    ("PostCompact", None),
    ("SessionEnd", None),
];

/// Returns the events amc hooks for `agent`.
pub fn hook_events(agent: HookAgent) -> &'static [(&'static str, Option<&'static str>)] {
    match agent {
        HookAgent::Claude => HOOK_EVENTS,
        HookAgent::Codex => CODEX_HOOK_EVENTS,
    }
}

/// The timeout written into each hook entry, in seconds (Claude Code's unit); the hook itself gives up after
/// [`super::HOOK_DEADLINE`].
pub const HOOK_TIMEOUT_SECS: u64 = 5;

/// The timeout of the PermissionRequest entry: a held request waits up to `AMC_APPROVALS_WAIT_MS` (10 min by
/// default) for a remote decision, so Claude Code must not kill the hook before; one more minute for the rest.
pub const PERMISSION_HOOK_TIMEOUT_SECS: u64 = 660;

/// The timeout written into `event`'s entry.
pub fn timeout_secs(event: &str) -> u64 {
    if event == "PermissionRequest" {
        PERMISSION_HOOK_TIMEOUT_SECS
    } else {
        HOOK_TIMEOUT_SECS
    }
}

/// Options shared by the `amc hooks` commands.
#[derive(Debug, Clone)]
pub struct HooksOptions {
    /// The file to edit: Claude Code's `settings.json` (default `<claude config dir>/settings.json`) or Codex's
    /// `hooks.json` (default `$CODEX_HOME/hooks.json`).
    pub settings: PathBuf,
    /// Print what would change without writing.
    pub dry_run: bool,
    /// Whose hooks: Claude Code's or Codex's.
    pub agent: HookAgent,
    /// Codex only: the `codex` binary that records the hooks' trust (default: `codex` on `PATH`).
    pub codex_bin: Option<PathBuf>,
    /// Claude only: also make `amc statusline` the statusLine command (keeping the user's as `--then`).
    pub statusline: bool,
    /// Claude only: also point Claude Code's OpenTelemetry export at this OTLP endpoint.
    pub otel: Option<String>,
}

/// One change `install` or `uninstall` makes to the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new amc entry.
    Added {
        /// The event.
        event: String,
        /// The group's matcher.
        matcher: Option<String>,
        /// The entry's command.
        command: String,
    },
    /// An amc entry whose command or timeout was brought up to date.
    Updated {
        /// The event.
        event: String,
        /// The group's matcher.
        matcher: Option<String>,
        /// The command before.
        from: String,
        /// The command after.
        to: String,
    },
    /// An amc entry that was removed.
    Removed {
        /// The event.
        event: String,
        /// The group's matcher.
        matcher: Option<String>,
        /// The entry's command.
        command: String,
    },
}

impl From<super::extras::Edit> for Change {
    fn from(edit: super::extras::Edit) -> Self {
        use super::extras::Edit;
        match edit {
            Edit::Added { key, value } => Change::Added {
                event: key,
                matcher: None,
                command: value,
            },
            Edit::Updated { key, from, to } => Change::Updated {
                event: key,
                matcher: None,
                from,
                to,
            },
            Edit::Removed { key, value } => Change::Removed {
                event: key,
                matcher: None,
                command: value,
            },
        }
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Change::Added {
                event,
                matcher,
                command,
            } => write!(f, "+ {}: {command}", label(event, matcher.as_deref())),
            Change::Updated {
                event,
                matcher,
                from,
                to,
            } if from == to => {
                write!(
                    f,
                    "~ {}: {to} (timeout {} s)",
                    label(event, matcher.as_deref()),
                    timeout_secs(event)
                )
            }
            Change::Updated {
                event,
                matcher,
                from,
                to,
            } => {
                write!(f, "~ {}: {from} -> {to}", label(event, matcher.as_deref()))
            }
            Change::Removed {
                event,
                matcher,
                command,
            } => write!(f, "- {}: {command}", label(event, matcher.as_deref())),
        }
    }
}

fn label(event: &str, matcher: Option<&str>) -> String {
    match matcher {
        Some(m) if !m.is_empty() => format!("{event} [{m}]"),
        _ => event.to_owned(),
    }
}

/// Merges amc's hook entries into the settings file.
///
/// Idempotent: when everything is already in place it says so and writes nothing. Otherwise it copies the file to
/// `<settings>.amc-backup-<unix seconds>` first. A missing file is created.
pub fn install(opts: &HooksOptions) -> anyhow::Result<()> {
    let command = hook_command(opts.agent)?;
    let mut settings = Settings::load(&opts.settings)?;
    let mut changes = plan_install_events(&mut settings.value, &command, hook_events(opts.agent))?;
    if opts.agent == HookAgent::Claude {
        if opts.statusline {
            let amc = command.strip_suffix(" hook").unwrap_or(&command);
            changes.extend(
                super::extras::plan_statusline(&mut settings.value, amc)
                    .into_iter()
                    .map(Change::from),
            );
        }
        if let Some(endpoint) = &opts.otel {
            changes.extend(
                super::extras::plan_otel(&mut settings.value, endpoint)
                    .into_iter()
                    .map(Change::from),
            );
        }
    }
    settings.finish(
        opts,
        &changes,
        "installed amc hooks in",
        "amc hooks already installed in",
    )?;
    if opts.agent == HookAgent::Codex && !opts.dry_run {
        super::codex_trust::trust_amc_hooks(&opts.settings, opts.codex_bin.as_deref(), is_amc_command);
    }
    Ok(())
}

/// Removes exactly amc's hook entries from the settings file (and the groups and events that only held them).
pub fn uninstall(opts: &HooksOptions) -> anyhow::Result<()> {
    let mut settings = Settings::load(&opts.settings)?;
    if !settings.existed {
        println!("{} does not exist: no amc hooks to remove", opts.settings.display());
        return Ok(());
    }
    let mut changes = plan_uninstall(&mut settings.value)?;
    if opts.agent == HookAgent::Claude {
        changes.extend(
            super::extras::plan_statusline_uninstall(&mut settings.value)
                .into_iter()
                .map(Change::from),
        );
    }
    settings.finish(opts, &changes, "removed amc hooks from", "no amc hooks in")
}

/// Prints, per event, whether amc's hook is installed and whether its command path still exists.
pub fn status(opts: &HooksOptions) -> anyhow::Result<()> {
    let settings = Settings::load(&opts.settings)?;
    let current = hook_command(opts.agent).ok();
    print!(
        "{}",
        status_report_events(
            &opts.settings,
            settings.existed,
            &settings.value,
            current.as_deref(),
            hook_events(opts.agent)
        )?
    );
    let problems = problems(opts)?;
    if !problems.is_empty() {
        bail!(
            "{} problem(s): {}; run `amc hooks install{}`",
            problems.len(),
            problems.join("; "),
            if opts.agent == HookAgent::Codex {
                " --agent codex"
            } else {
                ""
            }
        );
    }
    Ok(())
}

/// What is wrong with the installed hooks: the file missing, an event without amc's hook, a hook whose program does
/// not exist (`amc hooks status` exits 1 on any; `amc doctor` reports them). An unreadable file is an error.
pub fn problems(opts: &HooksOptions) -> anyhow::Result<Vec<String>> {
    let settings = Settings::load(&opts.settings)?;
    if !settings.existed {
        return Ok(vec![format!("{} does not exist", opts.settings.display())]);
    }
    let found = amc_entries(&settings.value)?;
    let mut out = Vec::new();
    for (event, matcher) in hook_events(opts.agent) {
        if !found
            .iter()
            .any(|f| f.event == *event && matcher_matches(*matcher, f.matcher.as_deref()))
        {
            out.push(format!("{} has no amc hook", label(event, *matcher)));
        }
    }
    let mut missing: Vec<String> = found
        .iter()
        .filter_map(|f| amc_program(&f.command))
        .filter(|program| Path::new(program).is_absolute() && !Path::new(program).is_file())
        .collect();
    missing.dedup();
    out.extend(
        missing
            .into_iter()
            .map(|p| format!("the hook's program {p} does not exist")),
    );
    Ok(out)
}

/// Returns the `amc hooks status` text for Claude Code's `value` read from `path`.
pub fn status_report(path: &Path, existed: bool, value: &Value, current: Option<&str>) -> anyhow::Result<String> {
    status_report_events(path, existed, value, current, HOOK_EVENTS)
}

/// Returns the `amc hooks status` text for `value` read from `path`, against the wanted `events`.
pub fn status_report_events(
    path: &Path,
    existed: bool,
    value: &Value,
    current: Option<&str>,
    events: &[(&str, Option<&str>)],
) -> anyhow::Result<String> {
    use std::fmt::Write as _;
    let mut out = String::new();
    if !existed {
        let _ = writeln!(out, "{}: does not exist (amc hooks not installed)", path.display());
    } else {
        let _ = writeln!(out, "{}:", path.display());
    }
    let found = amc_entries(value)?;
    for (event, matcher) in events {
        let name = label(event, *matcher);
        let here: Vec<&Found> = found
            .iter()
            .filter(|f| f.event == *event && matcher_matches(*matcher, f.matcher.as_deref()))
            .collect();
        if here.is_empty() {
            let _ = writeln!(out, "  {name:<30} not installed");
        }
        for f in here {
            let _ = writeln!(
                out,
                "  {name:<30} installed      {}{}",
                f.command,
                command_note(&f.command, current)
            );
        }
    }
    for f in found
        .iter()
        .filter(|f| !is_desired(events, &f.event, f.matcher.as_deref()))
    {
        let name = label(&f.event, f.matcher.as_deref());
        let _ = writeln!(
            out,
            "  {name:<30} extra amc entry {} (`amc hooks install` removes it)",
            f.command
        );
    }
    Ok(out)
}

/// Says whether an installed command's program still exists and whether it is this binary.
fn command_note(command: &str, current: Option<&str>) -> String {
    let Some(program) = amc_program(command) else {
        return String::new();
    };
    let path = Path::new(&program);
    if !path.is_absolute() {
        return " (relative: found through PATH)".into();
    }
    if !path.is_file() {
        return " (MISSING: the program does not exist; run `amc hooks install` again)".into();
    }
    match current {
        Some(current) if current != command => {
            format!(" (ok; this binary would install `{current}`)")
        }
        _ => " (ok)".into(),
    }
}

/// Returns the command amc's entries run: this binary's canonical absolute path (shell-quoted when needed) + ` hook`
/// (+ ` --agent codex` for Codex).
pub fn hook_command(agent: HookAgent) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find the path of the amc binary")?;
    let exe = fs::canonicalize(&exe).with_context(|| format!("cannot resolve {}", exe.display()))?;
    let exe = exe
        .to_str()
        .with_context(|| format!("the amc binary's path is not UTF-8: {}", exe.display()))?;
    Ok(match agent {
        HookAgent::Claude => format!("{} hook", shell_quote(exe)),
        HookAgent::Codex => format!("{} hook --agent codex", shell_quote(exe)),
    })
}

/// Quotes `word` for `sh` when it holds anything but safe characters.
fn shell_quote(word: &str) -> String {
    super::extras::shell_quote(word)
}

/// Returns the program of an amc hook command (`<program> hook`, or `<program> hook --agent codex|claude`, program
/// named `amc`), unquoted; `None` otherwise.
fn amc_program(command: &str) -> Option<String> {
    let command = command.trim();
    let command = command
        .strip_suffix(" --agent codex")
        .or_else(|| command.strip_suffix(" --agent claude"))
        .unwrap_or(command);
    let program = command.strip_suffix(" hook")?.trim_end();
    let program = if program.len() >= 2 && program.starts_with('\'') && program.ends_with('\'') {
        program[1..program.len() - 1].replace(r"'\''", "'")
    } else if program.len() >= 2 && program.starts_with('"') && program.ends_with('"') {
        program[1..program.len() - 1].to_owned()
    } else {
        program.to_owned()
    };
    (Path::new(&program).file_name()? == "amc").then_some(program)
}

/// Returns whether `command` is one of amc's hook commands.
pub fn is_amc_command(command: &str) -> bool {
    amc_program(command).is_some()
}

fn is_amc_entry(entry: &Value) -> bool {
    let type_ok = matches!(entry.get("type").and_then(Value::as_str), None | Some("command"));
    type_ok && entry.get("command").and_then(Value::as_str).is_some_and(is_amc_command)
}

/// Whether a group's matcher selects what amc wants: no matcher means every occurrence, like `""` and `"*"`.
fn matcher_matches(wanted: Option<&str>, group: Option<&str>) -> bool {
    match (wanted, group) {
        (None, None | Some("") | Some("*")) => true,
        (Some(w), Some(g)) => w == g,
        _ => false,
    }
}

fn is_desired(events: &[(&str, Option<&str>)], event: &str, matcher: Option<&str>) -> bool {
    events.iter().any(|(e, m)| *e == event && matcher_matches(*m, matcher))
}

#[cfg(test)]
fn desired_entry(command: &str) -> Value {
    desired_entry_for("", command)
}

fn desired_entry_for(event: &str, command: &str) -> Value {
    json!({"type": "command", "command": command, "timeout": timeout_secs(event)})
}

fn group_matcher(group: &Value) -> Option<String> {
    group.get("matcher").and_then(Value::as_str).map(str::to_owned)
}

/// Returns the `hooks` object of the settings, `None` when absent; an error when the file's shape is not Claude's.
fn hooks_of(settings: &mut Value) -> anyhow::Result<Option<&mut Map<String, Value>>> {
    let Value::Object(root) = settings else {
        bail!("the settings file is not a JSON object")
    };
    match root.get_mut("hooks") {
        None => Ok(None),
        Some(Value::Object(hooks)) => {
            if let Some((event, _)) = hooks.iter().find(|(_, groups)| !groups.is_array()) {
                bail!("\"hooks\".{event:?} is not an array; fix the settings file first");
            }
            Ok(Some(hooks))
        }
        Some(_) => bail!("\"hooks\" is not a JSON object; fix the settings file first"),
    }
}

/// Brings amc's entries in Claude Code's `settings` to exactly [`HOOK_EVENTS`] running `command`; returns what
/// changed.
pub fn plan_install(settings: &mut Value, command: &str) -> anyhow::Result<Vec<Change>> {
    plan_install_events(settings, command, HOOK_EVENTS)
}

/// Brings amc's entries in `settings` to exactly `events` running `command`; returns what changed.
///
/// An existing amc entry for a wanted (event, matcher) is updated in place (its other keys are kept); amc entries
/// for anything else, and duplicates, are removed; missing ones are appended as new groups.
pub fn plan_install_events(
    settings: &mut Value,
    command: &str,
    events: &[(&str, Option<&str>)],
) -> anyhow::Result<Vec<Change>> {
    hooks_of(settings)?;
    let mut changes = Vec::new();
    let Value::Object(root) = settings else {
        bail!("the settings file is not a JSON object")
    };
    let hooks = root.entry("hooks").or_insert_with(|| Value::Object(Map::new()));
    let Value::Object(hooks) = hooks else {
        bail!("\"hooks\" is not a JSON object")
    };
    let mut satisfied = vec![false; events.len()];
    let mut emptied_events = Vec::new();
    for (event, groups) in hooks.iter_mut() {
        let Value::Array(groups) = groups else {
            continue;
        };
        let had_groups = !groups.is_empty();
        let mut g = 0;
        while g < groups.len() {
            let matcher = group_matcher(&groups[g]);
            let Some(Value::Array(entries)) = groups[g].get_mut("hooks") else {
                g += 1;
                continue;
            };
            let had_entries = !entries.is_empty();
            let mut i = 0;
            while i < entries.len() {
                if !is_amc_entry(&entries[i]) {
                    i += 1;
                    continue;
                }
                let old = entries[i]
                    .get("command")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let slot = events
                    .iter()
                    .position(|(e, m)| e == event && matcher_matches(*m, matcher.as_deref()))
                    .filter(|&k| !satisfied[k]);
                match slot {
                    Some(k) => {
                        satisfied[k] = true;
                        if update_entry(&mut entries[i], event, command) {
                            changes.push(Change::Updated {
                                event: event.clone(),
                                matcher: matcher.clone(),
                                from: old,
                                to: command.to_owned(),
                            });
                        }
                        i += 1;
                    }
                    None => {
                        entries.remove(i);
                        changes.push(Change::Removed {
                            event: event.clone(),
                            matcher: matcher.clone(),
                            command: old,
                        });
                    }
                }
            }
            if had_entries && entries.is_empty() {
                groups.remove(g);
            } else {
                g += 1;
            }
        }
        if had_groups && groups.is_empty() {
            emptied_events.push(event.clone());
        }
    }
    for event in emptied_events {
        hooks.shift_remove(&event);
    }
    for (k, (event, matcher)) in events.iter().enumerate() {
        if satisfied[k] {
            continue;
        }
        let mut group = Map::new();
        if let Some(m) = matcher {
            group.insert("matcher".into(), Value::String((*m).to_owned()));
        }
        group.insert("hooks".into(), Value::Array(vec![desired_entry_for(event, command)]));
        let groups = hooks.entry(*event).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(groups) = groups {
            groups.push(Value::Object(group));
        }
        changes.push(Change::Added {
            event: (*event).to_owned(),
            matcher: matcher.map(str::to_owned),
            command: command.to_owned(),
        });
    }
    Ok(changes)
}

/// Sets an amc entry's type, command and timeout; returns whether anything changed.
fn update_entry(entry: &mut Value, event: &str, command: &str) -> bool {
    let Value::Object(entry) = entry else {
        return false;
    };
    let mut changed = false;
    for (key, value) in [
        ("type", Value::String("command".into())),
        ("command", Value::String(command.to_owned())),
        ("timeout", Value::from(timeout_secs(event))),
    ] {
        if entry.get(key) != Some(&value) {
            entry.insert(key.into(), value);
            changed = true;
        }
    }
    changed
}

/// Removes every amc entry from `settings`, then the groups, events and `hooks` object that only held amc's entries.
pub fn plan_uninstall(settings: &mut Value) -> anyhow::Result<Vec<Change>> {
    let mut changes = Vec::new();
    let Some(hooks) = hooks_of(settings)? else {
        return Ok(changes);
    };
    let had_events = !hooks.is_empty();
    let mut emptied_events = Vec::new();
    for (event, groups) in hooks.iter_mut() {
        let Value::Array(groups) = groups else {
            continue;
        };
        let before = groups.len();
        groups.retain_mut(|group| {
            let matcher = group_matcher(group);
            let Some(Value::Array(entries)) = group.get_mut("hooks") else {
                return true;
            };
            let had_entries = !entries.is_empty();
            entries.retain(|entry| {
                if !is_amc_entry(entry) {
                    return true;
                }
                let command = entry
                    .get("command")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                changes.push(Change::Removed {
                    event: event.clone(),
                    matcher: matcher.clone(),
                    command,
                });
                false
            });
            !(had_entries && entries.is_empty())
        });
        if before > 0 && groups.is_empty() {
            emptied_events.push(event.clone());
        }
    }
    for event in &emptied_events {
        hooks.shift_remove(event);
    }
    if had_events && hooks.is_empty() && !emptied_events.is_empty() {
        if let Value::Object(root) = settings {
            root.shift_remove("hooks");
        }
    }
    Ok(changes)
}

/// One amc entry found in the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Found {
    event: String,
    matcher: Option<String>,
    command: String,
}

fn amc_entries(settings: &Value) -> anyhow::Result<Vec<Found>> {
    let mut copy = settings.clone();
    let Some(hooks) = hooks_of(&mut copy)? else {
        return Ok(Vec::new());
    };
    let mut found = Vec::new();
    for (event, groups) in hooks.iter() {
        for group in groups.as_array().into_iter().flatten() {
            let entries = group.get("hooks").and_then(Value::as_array).into_iter().flatten();
            for entry in entries.filter(|e| is_amc_entry(e)) {
                let command = entry
                    .get("command")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                found.push(Found {
                    event: event.clone(),
                    matcher: group_matcher(group),
                    command,
                });
            }
        }
    }
    Ok(found)
}

/// A settings file as read: its JSON value and what is needed to write it back faithfully.
struct Settings {
    path: PathBuf,
    value: Value,
    existed: bool,
    trailing_newline: bool,
}

impl Settings {
    /// Reads and parses the settings file; a missing (or blank) file is `{}`; invalid JSON is an error.
    fn load(path: &Path) -> anyhow::Result<Self> {
        let text = match fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Ok(Settings {
                    path: path.to_owned(),
                    value: json!({}),
                    existed: false,
                    trailing_newline: true,
                })
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
        };
        let value = if text.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&text).with_context(|| {
                format!(
                    "cannot parse {} as JSON; amc will not overwrite it: fix it (or move it away) first",
                    path.display()
                )
            })?
        };
        if !value.is_object() {
            bail!("{} is not a JSON object; amc will not overwrite it", path.display());
        }
        Ok(Settings {
            path: path.to_owned(),
            value,
            existed: true,
            trailing_newline: text.ends_with('\n') || text.trim().is_empty(),
        })
    }

    /// Reports `changes` and, unless nothing changed or this is a dry run, backs the file up and writes it.
    fn finish(self, opts: &HooksOptions, changes: &[Change], done: &str, nothing: &str) -> anyhow::Result<()> {
        let path = self.path.display();
        if changes.is_empty() {
            println!("{nothing} {path}: nothing to change");
            return Ok(());
        }
        let mut text = serde_json::to_string_pretty(&self.value).context("cannot serialize the settings")?;
        if self.trailing_newline {
            text.push('\n');
        }
        if opts.dry_run {
            println!("dry run: would change {path}:");
            for change in changes {
                println!("  {change}");
            }
            println!("resulting settings:\n{}", text.trim_end());
            return Ok(());
        }
        let backup = if self.existed { Some(backup(&self.path)?) } else { None };
        write_preserving(&self.path, text.as_bytes())?;
        println!("{done} {path}:");
        for change in changes {
            println!("  {change}");
        }
        if let Some(backup) = backup {
            println!("backup: {}", backup.display());
        }
        Ok(())
    }
}

/// Copies `path` to `<path>.amc-backup-<unix seconds>` (a free name) and returns the copy's path.
fn backup(path: &Path) -> anyhow::Result<PathBuf> {
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let base = format!("{}.amc-backup-{stamp}", path.display());
    let mut target = PathBuf::from(&base);
    let mut n = 1;
    while target.exists() {
        target = PathBuf::from(format!("{base}.{n}"));
        n += 1;
    }
    fs::copy(path, &target).with_context(|| format!("cannot back up {} to {}", path.display(), target.display()))?;
    Ok(target)
}

/// Writes `bytes` to `path` atomically (temp file + rename), keeping the file's permissions, and through a symlink
/// (dotfile managers often link `settings.json`) rather than replacing it.
fn write_preserving(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let target = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            fs::canonicalize(path).with_context(|| format!("cannot resolve the symlink {}", path.display()))?
        }
        _ => path.to_owned(),
    };
    let dir = match target.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_owned(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let permissions = fs::metadata(&target).ok().map(|m| m.permissions());
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.amc-{}.tmp", std::process::id()));
    let result = (|| -> io::Result<()> {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        if let Some(permissions) = permissions {
            file.set_permissions(permissions)?;
        }
        file.sync_all()?;
        fs::rename(&tmp, &target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", target.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CMD: &str = "/opt/amc/bin/amc hook";

    fn unrelated() -> Value {
        json!({
            "permissions": {"allow": ["Bash(ls:*)"], "deny": []},
            "env": {"FOO": "1"},
            "hooks": {
                "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "/usr/bin/guard.sh"}]}],
                "Stop": [{"hooks": [{"type": "command", "command": "notify-send done", "timeout": 10}]}]
            },
            "model": "opus"
        })
    }

    #[test]
    fn amc_commands_are_recognised_by_program_name() {
        assert!(is_amc_command("/usr/local/bin/amc hook"));
        assert!(is_amc_command("amc hook"));
        assert!(is_amc_command("'/path with space/amc' hook"));
        assert!(is_amc_command("\"/p q/amc\" hook"));
        assert!(!is_amc_command("/usr/local/bin/amc-hook"));
        assert!(!is_amc_command("/usr/local/bin/amc hooks"));
        assert!(!is_amc_command("/usr/bin/notamc hook"));
        assert!(!is_amc_command("/x/amc serve"));
        assert_eq!(shell_quote("/a b/it's/amc"), r"'/a b/it'\''s/amc'");
        assert_eq!(
            amc_program(&format!("{} hook", shell_quote("/a b/it's/amc"))).as_deref(),
            Some("/a b/it's/amc")
        );
    }

    #[test]
    fn install_then_uninstall_restores_the_value() {
        let original = unrelated();
        let mut v = original.clone();
        let changes = plan_install(&mut v, CMD).expect("install");
        assert_eq!(changes.len(), HOOK_EVENTS.len());
        assert!(changes.iter().all(|c| matches!(c, Change::Added { .. })));
        assert_eq!(
            v["hooks"]["PreToolUse"][0]["matcher"], "Bash",
            "foreign groups stay first"
        );
        assert_eq!(
            v["hooks"]["PreToolUse"][1],
            json!({"matcher": "AskUserQuestion", "hooks": [desired_entry(CMD)]})
        );
        let again = v.clone();
        assert!(plan_install(&mut v, CMD).expect("again").is_empty());
        assert_eq!(v, again);
        let removed = plan_uninstall(&mut v).expect("uninstall");
        assert_eq!(removed.len(), HOOK_EVENTS.len());
        assert_eq!(v, original);
    }

    #[test]
    fn the_permission_request_entry_outlasts_a_held_decision() {
        let mut v = json!({"hooks": {"PermissionRequest": [{"hooks": [desired_entry(CMD)]}]}});
        let changes = plan_install(&mut v, CMD).expect("install");
        assert!(
            changes.iter().any(|c| c.to_string().contains("PermissionRequest")),
            "the old 5 s entry is updated"
        );
        assert_eq!(
            v["hooks"]["PermissionRequest"][0]["hooks"][0]["timeout"],
            PERMISSION_HOOK_TIMEOUT_SECS
        );
        assert_eq!(v["hooks"]["Stop"][0]["hooks"][0]["timeout"], HOOK_TIMEOUT_SECS);
        let default_wait = crate::config::Config::for_paths(crate::config::Paths::from_lookup(|_| None)).approval_wait;
        assert!(
            std::time::Duration::from_secs(PERMISSION_HOOK_TIMEOUT_SECS) > default_wait,
            "longer than the default wait"
        );
    }

    #[test]
    fn install_into_empty_settings_and_back_removes_the_hooks_key() {
        let mut v = json!({});
        plan_install(&mut v, CMD).expect("install");
        assert_eq!(v["hooks"].as_object().map(Map::len), Some(HOOK_EVENTS.len()));
        plan_uninstall(&mut v).expect("uninstall");
        assert_eq!(v, json!({}));
    }

    #[test]
    fn moved_binary_is_updated_in_place_and_duplicates_and_strays_removed() {
        let mut v = json!({"hooks": {
            "Stop": [{"hooks": [{"type": "command", "command": "echo hi"}, {"type": "command", "command": "/old/amc hook", "timeout": 5}]},
                     {"hooks": [{"type": "command", "command": "/older/amc hook"}]}],
            "PreToolUse": [{"matcher": "*", "hooks": [{"type": "command", "command": "/old/amc hook"}]}]
        }});
        let changes = plan_install(&mut v, CMD).expect("install");
        assert!(changes.contains(&Change::Updated {
            event: "Stop".into(),
            matcher: None,
            from: "/old/amc hook".into(),
            to: CMD.into()
        }));
        assert!(changes.contains(&Change::Removed {
            event: "Stop".into(),
            matcher: None,
            command: "/older/amc hook".into()
        }));
        assert!(changes.contains(&Change::Removed {
            event: "PreToolUse".into(),
            matcher: Some("*".into()),
            command: "/old/amc hook".into()
        }));
        assert_eq!(
            v["hooks"]["Stop"],
            json!([{"hooks": [{"type": "command", "command": "echo hi"}, desired_entry(CMD)]}])
        );
        assert_eq!(
            v["hooks"]["PreToolUse"],
            json!([{"matcher": "AskUserQuestion", "hooks": [desired_entry(CMD)]}])
        );
    }

    #[test]
    fn an_install_of_the_2025_event_set_is_upgraded() {
        // What `amc hooks install` wrote before the 2026 events: PostToolUse only for AskUserQuestion.
        let old = |matcher: Option<&str>| match matcher {
            Some(m) => json!([{"matcher": m, "hooks": [desired_entry(CMD)]}]),
            None => json!([{"hooks": [desired_entry(CMD)]}]),
        };
        let mut v = json!({"hooks": {
            "SessionStart": old(None), "UserPromptSubmit": old(None), "PreToolUse": old(Some("AskUserQuestion")),
            "PostToolUse": old(Some("AskUserQuestion")), "Notification": old(None), "Stop": old(None),
            "SubagentStop": old(None), "PreCompact": old(None), "SessionEnd": old(None)
        }});
        let changes = plan_install(&mut v, CMD).expect("install");
        assert!(changes.contains(&Change::Removed {
            event: "PostToolUse".into(),
            matcher: Some("AskUserQuestion".into()),
            command: CMD.into()
        }));
        for event in [
            "PermissionRequest",
            "PermissionDenied",
            "PostToolUse",
            "PostToolUseFailure",
            "StopFailure",
            "SubagentStart",
            "PostCompact",
        ] {
            assert!(
                changes.contains(&Change::Added {
                    event: event.into(),
                    matcher: None,
                    command: CMD.into()
                }),
                "{event} added: {changes:?}"
            );
        }
        assert_eq!(v["hooks"]["PostToolUse"], old(None));
        assert_eq!(changes.len(), 8, "{changes:?}");
        assert!(plan_install(&mut v, CMD).expect("again").is_empty());
    }

    #[test]
    fn codex_hooks_use_their_own_events_and_command() {
        let cmd = "/opt/amc/bin/amc hook --agent codex";
        assert!(is_amc_command(cmd));
        assert_eq!(amc_program(cmd).as_deref(), Some("/opt/amc/bin/amc"));
        let mut v = json!({});
        let changes = plan_install_events(&mut v, cmd, CODEX_HOOK_EVENTS).expect("install");
        assert_eq!(changes.len(), CODEX_HOOK_EVENTS.len());
        assert_eq!(v["hooks"]["Interrupt"], json!([{"hooks": [desired_entry(cmd)]}]));
        assert!(v["hooks"].get("Notification").is_none());
        assert!(plan_install_events(&mut v, cmd, CODEX_HOOK_EVENTS)
            .expect("again")
            .is_empty());
        assert_eq!(
            plan_uninstall(&mut v).expect("uninstall").len(),
            CODEX_HOOK_EVENTS.len()
        );
        assert_eq!(v, json!({}));
    }

    #[test]
    fn foreign_shapes_are_refused_or_left_alone() {
        assert!(plan_install(&mut json!({"hooks": []}), CMD).is_err());
        assert!(plan_install(&mut json!({"hooks": {"Stop": {}}}), CMD).is_err());
        assert!(plan_uninstall(&mut json!({"hooks": "x"})).is_err());
        let mut v = json!({"hooks": {"Stop": ["weird", {"matcher": "x"}]}});
        plan_install(&mut v, CMD).expect("install");
        plan_uninstall(&mut v).expect("uninstall");
        assert_eq!(v, json!({"hooks": {"Stop": ["weird", {"matcher": "x"}]}}));
    }

    #[test]
    fn status_lists_every_event() {
        let mut v = unrelated();
        plan_install(&mut v, CMD).expect("install");
        let report = status_report(Path::new("/s.json"), true, &v, Some(CMD)).expect("report");
        for (event, _) in HOOK_EVENTS {
            assert!(report.contains(event), "{report}");
        }
        assert!(report.contains("MISSING"), "{report}");
        let report = status_report(Path::new("/s.json"), false, &json!({}), None).expect("report");
        assert!(report.contains("not installed"));
    }
}
