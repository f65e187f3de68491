//! What `amc hooks install --statusline` and `--otel` add to Claude Code's settings.json besides the hooks: the
//! statusLine command, and the telemetry environment that points Claude Code's OpenTelemetry export at amc. Pure
//! functions over the settings value; `install.rs` reads, backs up and writes the file.

use serde_json::{json, Value};

/// One edit of the settings (shown by `amc hooks install|uninstall` as its changes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// A new key.
    Added {
        /// The key (`statusLine`, `env.NAME`).
        key: String,
        /// Its value.
        value: String,
    },
    /// A key whose value changed.
    Updated {
        /// The key.
        key: String,
        /// The value before.
        from: String,
        /// The value after.
        to: String,
    },
    /// A removed key.
    Removed {
        /// The key.
        key: String,
        /// Its value before.
        value: String,
    },
}

/// Quotes `word` for `sh` when it holds anything but safe characters.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+@%:,=".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// Returns whether a statusLine command is amc's (`… amc statusline …`).
pub fn is_amc_statusline(command: &str) -> bool {
    command
        .trim()
        .split_once(" statusline")
        .is_some_and(|(program, _)| program.trim().trim_matches('\'').rsplit('/').next() == Some("amc"))
}

/// Sets `settings.statusLine` to `{type: "command", command: "<amc> statusline"}`, keeping a user's own command as
/// `--then '<their command>'`; an amc statusLine already there is left alone.
pub fn plan_statusline(settings: &mut Value, amc: &str) -> Vec<Edit> {
    let Some(object) = settings.as_object_mut() else {
        return Vec::new();
    };
    let previous = object
        .get("statusLine")
        .and_then(|s| s.get("command"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let command = match previous.as_deref() {
        Some(existing) if is_amc_statusline(existing) => return Vec::new(),
        Some(existing) if !existing.trim().is_empty() => {
            format!("{amc} statusline --then {}", shell_quote(existing))
        }
        _ => format!("{amc} statusline"),
    };
    let mut line = object
        .get("statusLine")
        .cloned()
        .filter(Value::is_object)
        .unwrap_or(json!({}));
    if let Some(line) = line.as_object_mut() {
        line.insert("type".into(), "command".into());
        line.insert("command".into(), command.clone().into());
    }
    object.insert("statusLine".into(), line);
    vec![match previous {
        Some(from) if !from.trim().is_empty() => Edit::Updated {
            key: "statusLine".into(),
            from,
            to: command,
        },
        _ => Edit::Added {
            key: "statusLine".into(),
            value: command,
        },
    }]
}

/// Undoes [`plan_statusline`]: an amc statusLine with `--then '<cmd>'` gives the user's command back; a plain one is
/// removed; any other statusLine is left alone.
pub fn plan_statusline_uninstall(settings: &mut Value) -> Vec<Edit> {
    let Some(object) = settings.as_object_mut() else {
        return Vec::new();
    };
    let Some(command) = object
        .get("statusLine")
        .and_then(|s| s.get("command"))
        .and_then(Value::as_str)
        .filter(|c| is_amc_statusline(c))
        .map(str::to_owned)
    else {
        return Vec::new();
    };
    match command.split_once(" statusline --then ") {
        Some((_, quoted)) => {
            let quoted = quoted.trim();
            let user = match quoted.strip_prefix('\'').and_then(|q| q.strip_suffix('\'')) {
                Some(inner) => inner.replace("'\\''", "'"),
                None => quoted.to_owned(),
            };
            if let Some(line) = object.get_mut("statusLine").and_then(Value::as_object_mut) {
                line.insert("command".into(), user.clone().into());
            }
            vec![Edit::Updated {
                key: "statusLine".into(),
                from: command,
                to: user,
            }]
        }
        None => {
            object.remove("statusLine");
            vec![Edit::Removed {
                key: "statusLine".into(),
                value: command,
            }]
        }
    }
}

/// The telemetry environment `--otel` sets (Claude Code's documented OpenTelemetry variables).
pub fn otel_env(endpoint: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CLAUDE_CODE_ENABLE_TELEMETRY", "1".into()),
        ("OTEL_METRICS_EXPORTER", "otlp".into()),
        ("OTEL_LOGS_EXPORTER", "otlp".into()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
    ]
}

/// Sets the telemetry variables of [`otel_env`] in `settings.env`, leaving every other variable alone.
pub fn plan_otel(settings: &mut Value, endpoint: &str) -> Vec<Edit> {
    let Some(object) = settings.as_object_mut() else {
        return Vec::new();
    };
    let env = object.entry("env").or_insert_with(|| json!({}));
    if !env.is_object() {
        *env = json!({});
    }
    let mut changes = Vec::new();
    if let Some(env) = env.as_object_mut() {
        for (name, value) in otel_env(endpoint) {
            let before = env.get(name).and_then(Value::as_str).map(str::to_owned);
            if before.as_deref() == Some(value.as_str()) {
                continue;
            }
            env.insert(name.into(), value.clone().into());
            changes.push(match before {
                Some(from) => Edit::Updated {
                    key: format!("env.{name}"),
                    from,
                    to: value,
                },
                None => Edit::Added {
                    key: format!("env.{name}"),
                    value,
                },
            });
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statusline_keeps_the_users_command_and_is_idempotent() {
        let mut settings =
            json!({"statusLine": {"type": "command", "command": "bunx ccusage statusline", "padding": 0}});
        let changes = plan_statusline(&mut settings, "/usr/bin/amc");
        assert_eq!(changes.len(), 1);
        assert_eq!(
            settings["statusLine"],
            json!({"type": "command", "command": "/usr/bin/amc statusline --then 'bunx ccusage statusline'", "padding": 0})
        );
        assert!(plan_statusline(&mut settings, "/usr/bin/amc").is_empty());
        // Uninstalling gives the user's command back, quotes and all.
        let mut quoted = json!({"statusLine": {"type": "command", "command": "it's mine | x"}});
        plan_statusline(&mut quoted, "/usr/bin/amc");
        assert_eq!(plan_statusline_uninstall(&mut quoted).len(), 1);
        assert_eq!(quoted["statusLine"]["command"], "it's mine | x");
        assert!(plan_statusline_uninstall(&mut quoted).is_empty());
        let mut empty = json!({});
        plan_statusline(&mut empty, "/opt/x/amc");
        assert_eq!(empty["statusLine"]["command"], "/opt/x/amc statusline");
        plan_statusline_uninstall(&mut empty);
        assert_eq!(empty, json!({}));
        assert!(is_amc_statusline("'/a b/amc' statusline"));
        assert!(!is_amc_statusline("ccusage statusline"));
    }

    #[test]
    fn otel_sets_only_its_variables() {
        let mut settings = json!({"env": {"FOO": "1", "OTEL_LOGS_EXPORTER": "console"}});
        let changes = plan_otel(&mut settings, "http://127.0.0.1:4317");
        assert_eq!(changes.len(), 5);
        assert_eq!(settings["env"]["FOO"], "1");
        assert_eq!(settings["env"]["OTEL_LOGS_EXPORTER"], "otlp");
        assert_eq!(settings["env"]["OTEL_EXPORTER_OTLP_ENDPOINT"], "http://127.0.0.1:4317");
        assert!(plan_otel(&mut settings, "http://127.0.0.1:4317").is_empty());
    }
}
