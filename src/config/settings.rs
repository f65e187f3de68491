//! The layers of configuration: command-line flags over environment variables over the config file over defaults.
//!
//! Every setting has a dotted key in the TOML file (`notify.webhook.url` is `[notify.webhook] url = "..."`) and an
//! environment variable (`AMC_WEBHOOK_URL`); some also have a flag. [`SETTINGS`] lists them all, with their defaults
//! and whether they are secret; `amc config show` prints each effective value with its origin ([`Layers::show`]),
//! secrets redacted.
//!
//! The file is `--config FILE`, else `$AMC_CONFIG`, else `$XDG_CONFIG_HOME/amc/config.toml`, else
//! `~/.config/amc/config.toml`; a missing file is no error; a file that does not parse, a key amc does not know and a
//! value of the wrong kind are (naming the key and its line, [`Layers::load`] and [`Layers::validate`]).

use std::{
    collections::BTreeMap,
    fmt::Write as _,
    path::{Path, PathBuf},
    sync::Arc,
};

/// One setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Setting {
    /// The dotted key in the config file.
    pub key: &'static str,
    /// The environment variable.
    pub env: &'static str,
    /// The default, as text ("" for none).
    pub default: &'static str,
    /// Whether the value is a secret (redacted by `amc config show`).
    pub secret: bool,
    /// What it means.
    pub help: &'static str,
}

const fn s(key: &'static str, env: &'static str, default: &'static str, help: &'static str) -> Setting {
    Setting {
        key,
        env,
        default,
        secret: false,
        help,
    }
}

const fn secret(key: &'static str, env: &'static str, help: &'static str) -> Setting {
    Setting {
        key,
        env,
        default: "",
        secret: true,
        help,
    }
}

/// Every setting amc reads, in the order `amc config show` prints them.
pub const SETTINGS: &[Setting] = &[
    s(
        "listen",
        "AMC_LISTEN",
        super::DEFAULT_LISTEN,
        "address `amc serve` listens on (flag --listen)",
    ),
    s(
        "log_format",
        "AMC_LOG_FORMAT",
        "text",
        "log format on stderr: text (colour only on a terminal, none with NO_COLOR) or json (one object per line)",
    ),
    secret(
        "token",
        "AMC_TOKEN",
        "bearer token named `default`; a token is required to listen on a non-loopback address",
    ),
    s(
        "token_scopes",
        "AMC_TOKEN_SCOPES",
        "read,act",
        "scopes of `token`: read (state, events), act (also actions, ack, the audit log)",
    ),
    secret(
        "read_token",
        "AMC_READ_TOKEN",
        "a second bearer token, named `read`, with the `read` scope only",
    ),
    secret(
        "tokens",
        "AMC_TOKENS",
        "named tokens `name:read|act:secret`, comma or space separated (or an absolute path to a file of them)",
    ),
    s(
        "allowed_hosts",
        "AMC_ALLOWED_HOSTS",
        "",
        "extra `Host` names (comma list; flag --allowed-host, repeatable) requests may name besides loopback names and \
         the bound address with its port; others get 421",
    ),
    s(
        "action_rate",
        "AMC_ACTION_RATE",
        "10",
        "actions per second allowed per token and per session",
    ),
    s(
        "approvals.hold",
        "AMC_APPROVALS_HOLD",
        "never",
        "`always`: every PermissionRequest hook waits for a remote decision; `never`: only remote-approval sessions",
    ),
    s(
        "approvals.wait_ms",
        "AMC_APPROVALS_WAIT_MS",
        "600000",
        "how long a held PermissionRequest hook waits for a decision",
    ),
    s(
        "data_dir",
        "AMC_DATA_DIR",
        "$XDG_DATA_HOME/amc or ~/.local/share/amc",
        "amc's data dir",
    ),
    s(
        "claude_config_dir",
        "CLAUDE_CONFIG_DIR",
        "~/.claude",
        "Claude Code's config dir (a comma list is accepted)",
    ),
    s(
        "codex_home",
        "CODEX_HOME",
        "~/.codex",
        "Codex's home (rollouts in sessions/)",
    ),
    s("zellij_bin", "AMC_ZELLIJ_BIN", "zellij on PATH", "the zellij binary"),
    s(
        "context_window",
        "AMC_CONTEXT_WINDOW",
        "",
        "forces every Claude context window to this many tokens",
    ),
    s(
        "anthropic_model",
        "ANTHROPIC_MODEL",
        "",
        "the model Claude Code is told to use",
    ),
    s(
        "prices",
        "AMC_PRICES",
        "",
        "a price table file (TOML, data/prices.toml's shape) whose rows replace or add to the built-in prices",
    ),
    s(
        "otlp",
        "AMC_OTLP",
        "off",
        "on: accept OpenTelemetry logs and metrics (OTLP/gRPC and OTLP/HTTP protobuf) on amc's port",
    ),
    s(
        "heartbeat_ms",
        "AMC_HEARTBEAT_MS",
        "15000",
        "WatchState/WatchEvents heartbeat after this much quiet",
    ),
    s("sse_ping_ms", "AMC_SSE_PING_MS", "15000", "SSE `: ping` interval"),
    s(
        "liveness_ms",
        "AMC_LIVENESS_MS",
        "2000",
        "liveness refresh and timer pass interval",
    ),
    s("reconcile_ms", "AMC_RECONCILE_MS", "30000", "full reconcile interval"),
    s("debounce_ms", "AMC_DEBOUNCE_MS", "20", "file-event debounce"),
    s(
        "shutdown_grace_ms",
        "AMC_SHUTDOWN_GRACE_MS",
        "3000",
        "how long shutdown waits for connections to drain",
    ),
    s(
        "limits.session_file_bytes",
        "AMC_LIMIT_SESSION_FILE_BYTES",
        "1048576",
        "a larger session file is skipped (logged, counted unreadable in /api/health) until it changes",
    ),
    s(
        "limits.events_page",
        "AMC_LIMIT_EVENTS_PAGE",
        "500",
        "GET /api/events/{id}: events per page without ?limit=",
    ),
    s(
        "limits.events_page_max",
        "AMC_LIMIT_EVENTS_PAGE_MAX",
        "5000",
        "GET /api/events/{id}: the largest ?limit= accepted",
    ),
    s(
        "limits.event_line_bytes",
        "AMC_LIMIT_EVENT_LINE_BYTES",
        "262144",
        "GET /api/events/{id}: longer lines are skipped",
    ),
    s(
        "limits.subprocess_output_bytes",
        "AMC_LIMIT_SUBPROCESS_OUTPUT_BYTES",
        "1048576",
        "zellij/lsof output past this kills the child (answer unknown)",
    ),
    s(
        "limits.connections",
        "AMC_LIMIT_CONNECTIONS",
        "4096",
        "open connections; more are closed at once (also kept under 3/4 of the fd limit)",
    ),
    s(
        "limits.header_timeout_ms",
        "AMC_LIMIT_HEADER_TIMEOUT_MS",
        "10000",
        "a connection that sends no byte this long after opening is closed",
    ),
    s(
        "limits.idle_timeout_ms",
        "AMC_LIMIT_IDLE_TIMEOUT_MS",
        "900000",
        "a connection with no byte either way this long is closed",
    ),
    s(
        "limits.header_bytes",
        "AMC_LIMIT_HEADER_BYTES",
        "65536",
        "request headers plus URI longer than this: 431",
    ),
    s(
        "limits.body_bytes",
        "AMC_LIMIT_BODY_BYTES",
        "1048576",
        "JSON request bodies longer than this: 413",
    ),
    s(
        "limits.grpc_message_bytes",
        "AMC_LIMIT_GRPC_MESSAGE_BYTES",
        "4194304",
        "largest gRPC/gRPC-Web request message decoded",
    ),
    s(
        "limits.streams_per_connection",
        "AMC_LIMIT_STREAMS_PER_CONNECTION",
        "256",
        "concurrent HTTP/2 streams per connection",
    ),
    s(
        "limits.watches_per_client",
        "AMC_LIMIT_WATCHES_PER_CLIENT",
        "2048",
        "open SSE streams + WatchState/WatchEvents calls per client address (then 429/RESOURCE_EXHAUSTED)",
    ),
    s(
        "limits.request_reads",
        "AMC_LIMIT_REQUEST_READS",
        "8",
        "file reads requests run at once (event logs); the collector has its own thread",
    ),
    s(
        "limits.pass_overdue_ms",
        "AMC_LIMIT_PASS_OVERDUE_MS",
        "30000",
        "a collection pass running longer makes /api/health say degraded",
    ),
    s(
        "dashboard_url",
        "AMC_DASHBOARD_URL",
        "http://<listen>/",
        "the dashboard's URL, linked from notifications",
    ),
    s(
        "notify.dwell_ms",
        "AMC_NOTIFY_DWELL_MS",
        "5000",
        "notify only of an attention that still holds after this long",
    ),
    s(
        "notify.cooldown_ms",
        "AMC_NOTIFY_COOLDOWN_MS",
        "60000",
        "at most one notification per session per this long",
    ),
    s(
        "notify.max_age_ms",
        "AMC_NOTIFY_MAX_AGE_MS",
        "86400000",
        "a delivery still failing after this long is dropped",
    ),
    s(
        "notify.webhook.url",
        "AMC_WEBHOOK_URL",
        "",
        "webhook sink: http(s) URL to POST events to",
    ),
    secret(
        "notify.webhook.secret",
        "AMC_WEBHOOK_SECRET",
        "webhook signing secret, `whsec_<base64>`",
    ),
    s(
        "notify.webhook.timeout_ms",
        "AMC_WEBHOOK_TIMEOUT_MS",
        "10000",
        "webhook request timeout",
    ),
    s(
        "notify.ntfy.url",
        "AMC_NTFY_URL",
        "",
        "ntfy sink: topic URL (https://ntfy.sh/<topic>)",
    ),
    secret(
        "notify.ntfy.token",
        "AMC_NTFY_TOKEN",
        "ntfy access token (sent as a bearer token)",
    ),
    s(
        "notify.ntfy.priority",
        "AMC_NTFY_PRIORITY",
        "high",
        "ntfy priority: min, low, default, high, urgent",
    ),
    s(
        "notify.desktop",
        "AMC_NOTIFY_DESKTOP",
        "auto",
        "desktop sink: auto (when notify-send/osascript exists), on, off",
    ),
    s(
        "host",
        "AMC_HOST",
        "the system host name",
        "this machine's name in a fleet, stamped on its sessions (flag --host)",
    ),
    s(
        "nats.url",
        "AMC_NATS_URL",
        "",
        "NATS server URL(s) of the fleet: publish this host's sessions there (flag --nats)",
    ),
    s(
        "nats.creds",
        "AMC_NATS_CREDS",
        "",
        "NATS credentials file (JWT and nkey seed)",
    ),
    s(
        "nats.tls_ca",
        "AMC_NATS_TLS_CA",
        "",
        "CA certificate (PEM) the NATS server's certificate must chain to; TLS is then required",
    ),
    s("nats.user", "AMC_NATS_USER", "", "NATS user (with nats.password)"),
    secret("nats.password", "AMC_NATS_PASSWORD", "NATS password"),
    secret("nats.token", "AMC_NATS_TOKEN", "NATS auth token"),
    s(
        "fleet.hub",
        "AMC_FLEET",
        "false",
        "serve the union of every host in the bucket (flag --fleet; needs nats.url)",
    ),
    s(
        "fleet.bucket",
        "AMC_FLEET_BUCKET",
        "amc_sessions",
        "the JetStream key-value bucket of the fleet",
    ),
    s(
        "fleet.ttl_ms",
        "AMC_FLEET_TTL_MS",
        "15000",
        "a host silent for longer than this is shown unreachable",
    ),
    s(
        "fleet.heartbeat_ms",
        "AMC_FLEET_HEARTBEAT_MS",
        "3000",
        "how often a publisher refreshes its host record",
    ),
];

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The built-in default.
    Default,
    /// The config file.
    File,
    /// An environment variable.
    Env,
    /// A command-line flag.
    Flag,
}

/// An environment lookup (the process environment, or a map in tests).
pub type Lookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The layers, read once.
#[derive(Clone)]
pub struct Layers {
    file: Option<PathBuf>,
    file_values: BTreeMap<String, String>,
    /// The line of each key in the file (1-based).
    file_lines: BTreeMap<String, usize>,
    unknown_keys: Vec<String>,
    env: Lookup,
    flags: BTreeMap<&'static str, String>,
}

impl std::fmt::Debug for Layers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Layers")
            .field("file", &self.file)
            .field("keys", &self.file_values.keys().collect::<Vec<_>>())
            .field("flags", &self.flags.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// A config file that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
#[error("config file {path}: {message}")]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong.
    pub message: String,
}

impl Layers {
    /// Reads the layers: `env` for the environment, `config_file` from `--config` (else `$AMC_CONFIG`, else the
    /// default places), `flags` as (setting key, value) pairs of flags given.
    pub fn load(
        env: Lookup,
        config_file: Option<PathBuf>,
        flags: impl IntoIterator<Item = (&'static str, String)>,
    ) -> Result<Self, ConfigError> {
        Self::load_with(env, config_file, flags, true)
    }

    /// [`Layers::load`]; `strict: false` keeps a file with unknown keys (its known keys count).
    fn load_with(
        env: Lookup,
        config_file: Option<PathBuf>,
        flags: impl IntoIterator<Item = (&'static str, String)>,
        strict: bool,
    ) -> Result<Self, ConfigError> {
        let explicit = config_file.or_else(|| env("AMC_CONFIG").filter(|v| !v.is_empty()).map(PathBuf::from));
        let path = explicit.clone().or_else(|| default_file(&*env));
        let (file, file_values, file_lines) = match path {
            None => (None, BTreeMap::new(), BTreeMap::new()),
            // A regular file of at most 1 MiB (a FIFO or a device is an error, never a blocked read).
            Some(path) => match crate::bounded::read_to_string(&path, 1 << 20) {
                Ok(text) => {
                    let values = parse(&text).map_err(|message| ConfigError {
                        path: path.clone(),
                        message,
                    })?;
                    (Some(path), values, key_lines(&text))
                }
                // The default file may be absent; a file named explicitly must exist.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
                    (None, BTreeMap::new(), BTreeMap::new())
                }
                Err(e) => {
                    return Err(ConfigError {
                        path,
                        message: e.to_string(),
                    })
                }
            },
        };
        let unknown_keys: Vec<String> = file_values
            .keys()
            .filter(|k| !SETTINGS.iter().any(|s| s.key == k.as_str()))
            .cloned()
            .collect();
        // A key amc does not know is a typo or a setting of another version: an error, never ignored.
        if let (Some(path), Some(key), true) = (&file, unknown_keys.first(), strict) {
            let line = file_lines.get(key).map_or(String::new(), |l| format!("line {l}: "));
            return Err(ConfigError {
                path: path.clone(),
                message: format!(
                    "{line}unknown key {key:?} (the keys are listed by `amc config show` and in the README)"
                ),
            });
        }
        Ok(Layers {
            file,
            file_values,
            file_lines,
            unknown_keys,
            env,
            flags: flags.into_iter().collect(),
        })
    }

    /// The layers of the process: its environment, the config file, no flags. A config file that does not parse
    /// is ignored here (with a warning), and unknown keys in one that does are skipped: this is for commands that
    /// must not fail on it (`amc hook`, whose data dir must stay the server's).
    pub fn from_process_lenient() -> Self {
        let env = process_env();
        Self::load_with(env.clone(), None, [], false).unwrap_or_else(|error| {
            tracing::warn!(%error, "ignoring the config file");
            Layers {
                file: None,
                file_values: BTreeMap::new(),
                file_lines: BTreeMap::new(),
                unknown_keys: Vec::new(),
                env,
                flags: BTreeMap::new(),
            }
        })
    }

    /// Returns the value for the environment variable `name`: its setting's flag, else the variable, else its key
    /// in the file. Names that are no setting (`HOME`, `PATH`) come from the environment only.
    pub fn lookup(&self, name: &str) -> Option<String> {
        match SETTINGS.iter().find(|s| s.env == name) {
            Some(setting) => self.resolve(setting).0,
            None => (self.env)(name),
        }
    }

    /// Returns the value of the setting with file key `key` (not its default), or `None`.
    pub fn get(&self, key: &str) -> Option<String> {
        SETTINGS
            .iter()
            .find(|s| s.key == key)
            .and_then(|setting| self.resolve(setting).0)
    }

    /// Returns a setting's value (not its default) and where it came from (`Default` when unset everywhere).
    pub fn resolve(&self, setting: &Setting) -> (Option<String>, Origin) {
        if let Some(value) = self.flags.get(setting.key) {
            return (Some(value.clone()), Origin::Flag);
        }
        if let Some(value) = (self.env)(setting.env).filter(|v| !v.is_empty()) {
            return (Some(value), Origin::Env);
        }
        if let Some(value) = self.file_values.get(setting.key) {
            return (Some(value.clone()), Origin::File);
        }
        (None, Origin::Default)
    }

    /// Where a setting's value came from, for an error message: `--flag`, `$VAR`, or `<file> line N`.
    pub fn source(&self, setting: &Setting) -> String {
        match self.resolve(setting).1 {
            Origin::Flag => format!("--{}", setting.key.replace(['_', '.'], "-")),
            Origin::Env => format!("${}", setting.env),
            Origin::File => {
                let file = self.file.as_ref().map_or(String::new(), |p| p.display().to_string());
                match self.file_lines.get(setting.key) {
                    Some(line) => format!("{file} line {line}"),
                    None => file,
                }
            }
            Origin::Default => "the default".to_owned(),
        }
    }

    /// Checks every value set (flag, environment, file) against its setting's kind: a number, an address, one of
    /// a few words. The error names the key, the variable and where the value came from (the file and its line).
    pub fn validate(&self) -> Result<(), String> {
        for setting in SETTINGS {
            let (Some(value), _) = self.resolve(setting) else {
                continue;
            };
            if let Err(want) = check(setting.key, value.trim()) {
                let shown = if setting.secret {
                    "<redacted>".to_owned()
                } else {
                    format!("{value:?}")
                };
                return Err(format!(
                    "{} ({}) from {}: {want}, not {shown}",
                    setting.key,
                    setting.env,
                    self.source(setting)
                ));
            }
        }
        Ok(())
    }

    /// Returns the config file read, if any.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Returns the file's keys that are no setting.
    pub fn unknown_keys(&self) -> &[String] {
        &self.unknown_keys
    }

    /// Returns the effective configuration as text: one line per setting, `key = value  (origin)`, secrets
    /// redacted; `amc config show` prints it.
    pub fn show(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# config file: {}",
            self.file
                .as_ref()
                .map_or("(none)".to_owned(), |p| p.display().to_string())
        );
        let width = SETTINGS.iter().map(|s| s.key.len()).max().unwrap_or(0);
        for setting in SETTINGS {
            let (value, origin) = self.resolve(setting);
            let shown = match (&value, setting.secret) {
                (Some(_), true) => "<redacted>".to_owned(),
                (Some(v), false) => v.clone(),
                (None, _) if setting.default.is_empty() => "(unset)".to_owned(),
                (None, _) => setting.default.to_owned(),
            };
            let origin = match origin {
                Origin::Default => "default".to_owned(),
                Origin::File => "file".to_owned(),
                Origin::Env => format!("env {}", setting.env),
                Origin::Flag => "flag".to_owned(),
            };
            let _ = writeln!(out, "{:width$} = {shown}  ({origin})", setting.key);
        }
        for key in &self.unknown_keys {
            let _ = writeln!(out, "# unknown key in the config file, ignored: {key}");
        }
        out
    }
}

/// Checks one value of setting `key`; the error says what is wanted.
fn check(key: &str, value: &str) -> Result<(), String> {
    let one_of = |words: &[&str]| {
        if words.contains(&value) {
            Ok(())
        } else {
            Err(format!("expected one of {}", words.join(", ")))
        }
    };
    match key {
        "listen" => super::parse_listen(value).map(|_| ()),
        "log_format" => one_of(&["text", "json"]),
        "approvals.hold" => one_of(&["never", "always"]),
        "notify.desktop" => one_of(&["auto", "on", "off"]),
        "notify.ntfy.priority" => one_of(&["min", "low", "default", "high", "urgent"]),
        "token_scopes" => value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .try_for_each(|scope| match scope {
                "read" | "act" => Ok(()),
                other => Err(format!(
                    "expected scopes read, act (comma separated); {other:?} is none"
                )),
            }),
        "action_rate" | "context_window" => match value.parse::<u64>() {
            Ok(n) if n > 0 => Ok(()),
            _ => Err("expected a whole number above 0".to_owned()),
        },
        key if key.ends_with("_ms") => value
            .parse::<u64>()
            .map(|_| ())
            .map_err(|_| "expected milliseconds (a whole number)".to_owned()),
        _ => Ok(()),
    }
}

/// The line (1-based) of every dotted key in a TOML document; a document that does not parse has none.
fn key_lines(text: &str) -> BTreeMap<String, usize> {
    fn walk(prefix: &str, table: &toml::de::DeTable<'_>, text: &str, out: &mut BTreeMap<String, usize>) {
        for (key, value) in table {
            let full = if prefix.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{prefix}.{}", key.get_ref())
            };
            let start = key.span().start.min(text.len());
            let line = text.get(..start).map_or(0, |head| head.matches('\n').count()) + 1;
            out.entry(full.clone()).or_insert(line);
            if let toml::de::DeValue::Table(inner) = value.get_ref() {
                walk(&full, inner, text, out);
            }
        }
    }
    let mut out = BTreeMap::new();
    if let Ok(table) = toml::de::DeTable::parse(text) {
        walk("", table.get_ref(), text, &mut out);
    }
    out
}

/// The process environment as a [`Lookup`].
pub fn process_env() -> Lookup {
    Arc::new(|key: &str| std::env::var_os(key).map(|v| v.to_string_lossy().into_owned()))
}

/// `$XDG_CONFIG_HOME/amc/config.toml`, else `~/.config/amc/config.toml`.
fn default_file(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    if let Some(xdg) = env("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
        return Some(Path::new(&xdg).join("amc/config.toml"));
    }
    let home = env("HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(super::passwd_home)?;
    Some(home.join(".config/amc/config.toml"))
}

/// Flattens a TOML document into dotted keys; scalars become their text, arrays of scalars a comma list.
fn parse(text: &str) -> Result<BTreeMap<String, String>, String> {
    let table: toml::Table = toml::from_str(text).map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    flatten("", &table, &mut out)?;
    Ok(out)
}

fn flatten(prefix: &str, table: &toml::Table, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    for (key, value) in table {
        let full = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::Table(inner) => flatten(&full, inner, out)?,
            toml::Value::Array(items) => {
                let parts: Result<Vec<String>, String> = items.iter().map(|v| scalar(&full, v)).collect();
                out.insert(full, parts?.join(","));
            }
            other => {
                let text = scalar(&full, other)?;
                out.insert(full, text);
            }
        }
    }
    Ok(())
}

fn scalar(key: &str, value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        toml::Value::Float(f) => Ok(f.to_string()),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Datetime(d) => Ok(d.to_string()),
        _ => Err(format!("{key}: a nested array or table is not a value amc understands")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> Lookup {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Arc::new(move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn flags_beat_env_beat_file_beat_defaults() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("config.toml");
        std::fs::write(
            &file,
            "listen = \"127.0.0.1:1\"\nheartbeat_ms = 7\n[notify]\ndwell_ms = 100\ncooldown_ms = 200\n\
             [notify.webhook]\nurl = \"http://file\"\nsecret = \"whsec_c2VjcmV0\"\n",
        )
        .expect("write");
        let layers = Layers::load(
            env(&[
                ("AMC_NOTIFY_DWELL_MS", "300"),
                ("AMC_LISTEN", "127.0.0.1:2"),
                ("HOME", "/h"),
            ]),
            Some(file.clone()),
            [("listen", "127.0.0.1:3".to_owned())],
        )
        .expect("loads");
        assert_eq!(layers.get("listen").as_deref(), Some("127.0.0.1:3"));
        assert_eq!(layers.lookup("AMC_NOTIFY_DWELL_MS").as_deref(), Some("300"));
        assert_eq!(layers.lookup("AMC_NOTIFY_COOLDOWN_MS").as_deref(), Some("200"));
        assert_eq!(layers.lookup("AMC_HEARTBEAT_MS").as_deref(), Some("7"));
        assert_eq!(layers.lookup("AMC_SSE_PING_MS"), None);
        assert_eq!(layers.lookup("HOME").as_deref(), Some("/h"));
        let shown = layers.show();
        assert!(shown.contains("listen "), "{shown}");
        assert!(shown.contains("= 127.0.0.1:3  (flag)"), "{shown}");
        assert!(shown.contains("= 300  (env AMC_NOTIFY_DWELL_MS)"), "{shown}");
        assert!(shown.contains("= 200  (file)"), "{shown}");
        assert!(shown.contains("= 15000  (default)"), "{shown}");
        assert!(shown.contains("notify.webhook.secret"), "{shown}");
        assert!(!shown.contains("c2VjcmV0"), "a secret is redacted: {shown}");
        assert!(shown.contains("<redacted>  (file)"), "{shown}");
    }

    #[test]
    fn the_file_is_found_and_errors_are_clear() {
        let dir = tempfile::tempdir().expect("tempdir");
        let home = dir.path().to_string_lossy().into_owned();
        // No file in the default place: no error.
        let layers = Layers::load(env(&[("HOME", &home)]), None, []).expect("no file is fine");
        assert_eq!(layers.file(), None);
        std::fs::create_dir_all(dir.path().join(".config/amc")).expect("mkdir");
        std::fs::write(dir.path().join(".config/amc/config.toml"), "token = \"t\"\n").expect("write");
        let layers = Layers::load(env(&[("HOME", &home)]), None, []).expect("loads");
        assert_eq!(layers.lookup("AMC_TOKEN").as_deref(), Some("t"));
        // $AMC_CONFIG names a file that must exist and parse.
        let missing = Layers::load(env(&[("AMC_CONFIG", "/nonexistent/amc.toml")]), None, []);
        assert!(missing.is_err());
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "listen = [").expect("write");
        let error = Layers::load(env(&[]), Some(bad), []).expect_err("does not parse");
        assert!(error.to_string().contains("bad.toml"), "{error}");
    }

    #[test]
    fn keys_have_lines_and_values_their_kinds() {
        let lines = key_lines("# c\nlisten = \"x\"\n\n[notify]\ndwell_ms = 1\n[notify.webhook]\nurl = \"u\"\n");
        assert_eq!(lines.get("listen"), Some(&2));
        assert_eq!(lines.get("notify.dwell_ms"), Some(&5));
        assert_eq!(lines.get("notify.webhook.url"), Some(&7));
        assert!(check("heartbeat_ms", "15000").is_ok());
        assert!(check("heartbeat_ms", "fast").is_err());
        assert!(check("action_rate", "0").is_err());
        assert!(check("listen", "localhost:7400").is_ok());
        assert!(check("listen", "7400").is_err());
        assert!(check("log_format", "json").is_ok());
        assert!(check("log_format", "yaml").is_err());
        assert!(check("token_scopes", "read, act").is_ok());
        assert!(check("token_scopes", "read,write").is_err());
        assert!(
            check("notify.webhook.url", "anything").is_ok(),
            "checked by the notify config"
        );
    }

    #[test]
    fn every_setting_has_a_distinct_key_and_variable() {
        for (i, a) in SETTINGS.iter().enumerate() {
            for b in &SETTINGS[i + 1..] {
                assert_ne!(a.key, b.key);
                assert_ne!(a.env, b.env);
            }
        }
    }
}
