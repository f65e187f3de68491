//! Reads the configuration once into [`Paths`] and [`Config`]: command-line flags over environment variables over the
//! config file (`~/.config/amc/config.toml`, [`settings`]) over defaults. Every setting is listed in
//! [`settings::SETTINGS`] with its file key and variable; `amc config show` prints the effective values.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `AMC_DATA_DIR` | `$XDG_DATA_HOME/amc`, else `~/.local/share/amc` | session files, event logs, trash, hook log |
//! | `CLAUDE_CONFIG_DIR` | `~/.claude` | Claude Code's config dir; transcripts under `projects/` (a comma list is accepted) |
//! | `CODEX_HOME` | `~/.codex` | Codex's home; rollouts under `sessions/` |
//! | `AMC_ZELLIJ_BIN` | `zellij` on `PATH`, else `/opt/homebrew/bin`, `/usr/local/bin`, `/usr/bin` | the zellij binary |
//! | `AMC_CONTEXT_WINDOW` | unset | forces every Claude context window to this many tokens |
//! | `AMC_TOKEN` | unset | bearer token (name `default`); without it (or with a read-only one) `amc serve` creates `<data dir>/token` |
//! | `AMC_TOKEN_SCOPES` | `read,act` | the scopes of `AMC_TOKEN`: `read` makes it read-only |
//! | `AMC_READ_TOKEN` | unset | a bearer token named `read` with scope `read` |
//! | `AMC_TOKENS` | unset | several named tokens, `name:scopes:secret` separated by white space or commas (or a file of them) |
//! | `AMC_ALLOWED_HOSTS` | unset | extra `Host` names (comma list) a mutating request may name besides loopback and the bound address |
//! | `AMC_APPROVALS_HOLD` | `never` | `always`: every PermissionRequest hook waits for a remote decision |
//! | `AMC_APPROVALS_WAIT_MS` | `600000` | how long a held PermissionRequest hook waits for a decision |
//! | `AMC_ACTION_RATE` | `10` | actions per second allowed per token and per session (burst of the same size) |
//! | `AMC_LOG_FORMAT` | `text` | log format on stderr: `text` (colour only on a terminal, none with `NO_COLOR`) or `json` |
//! | `RUST_LOG` | `info` | log filter (tracing-subscriber `EnvFilter` syntax); logs go to stderr |

pub mod fleet;
pub mod limits;
pub mod notify;
pub mod prices;
pub mod settings;

pub use self::fleet::FleetConfig;
pub use self::limits::Limits;
pub use self::notify::{DesktopMode, NotifyConfig, NtfyConfig, WebhookConfig};
pub use self::settings::{Layers, Origin, Setting, SETTINGS};

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

/// The default address `amc serve` listens on.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7400";

/// Where amc reads and writes, resolved from the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// amc's data dir: `sessions/`, `events/`, `trash/`, `locks/`, `hook.log`.
    pub data_dir: PathBuf,
    /// Claude Code transcript roots, the preferred first (`$CLAUDE_CONFIG_DIR/projects` entries, then
    /// `~/.claude/projects` and `~/.config/claude/projects`).
    pub claude_projects_dirs: Vec<PathBuf>,
    /// Claude Code's config dir (holds `settings.json` and `sessions/<pid>.json`).
    pub claude_config_dir: PathBuf,
    /// Codex rollouts root (`$CODEX_HOME/sessions`).
    pub codex_sessions_dir: PathBuf,
    /// The zellij binary to run; `None` when none was found (liveness is then "unknown").
    pub zellij_bin: Option<PathBuf>,
    /// The `/proc` root (overridable only for tests).
    pub proc_root: PathBuf,
}

impl Paths {
    /// Resolves the paths from the process environment. Without `HOME` (or with an empty one) the home is the
    /// account's, from `/etc/passwd`: a hook started without `HOME` then writes where the same user's `amc serve`
    /// reads, instead of under `/`.
    ///
    /// The config file counts too (its `data_dir`, `claude_config_dir`, ...); one that does not parse is ignored here.
    pub fn from_env() -> Self {
        Self::from_layers(&Layers::from_process_lenient())
    }

    /// Resolves the paths from the layers of configuration (flags, environment, file).
    pub fn from_layers(layers: &Layers) -> Self {
        Self::from_lookup(|key| {
            let value = layers.lookup(key);
            if key == "HOME" && value.as_deref().is_none_or(str::is_empty) {
                return passwd_home().map(|home| home.to_string_lossy().into_owned());
            }
            value
        })
    }

    /// Resolves the paths from `lookup` (an environment); used by tests to avoid touching the real environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |key: &str| lookup(key).filter(|v| !v.is_empty());
        let home = non_empty("HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("/"));
        let data_dir = match (non_empty("AMC_DATA_DIR"), non_empty("XDG_DATA_HOME")) {
            (Some(dir), _) => PathBuf::from(dir),
            (None, Some(xdg)) => Path::new(&xdg).join("amc"),
            (None, None) => home.join(".local/share/amc"),
        };
        let mut claude_projects_dirs = Vec::new();
        let mut claude_config_dir = home.join(".claude");
        if let Some(list) = non_empty("CLAUDE_CONFIG_DIR") {
            let dirs: Vec<PathBuf> = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(PathBuf::from)
                .collect();
            if let Some(first) = dirs.first() {
                claude_config_dir = first.clone();
            }
            claude_projects_dirs.extend(dirs.iter().map(|d| d.join("projects")));
        }
        for fallback in [home.join(".claude/projects"), home.join(".config/claude/projects")] {
            if !claude_projects_dirs.contains(&fallback) {
                claude_projects_dirs.push(fallback);
            }
        }
        let codex_home = non_empty("CODEX_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".codex"));
        let zellij_bin = match non_empty("AMC_ZELLIJ_BIN") {
            Some(bin) => Some(PathBuf::from(bin)),
            None => find_zellij(lookup("PATH").as_deref()),
        };
        Paths {
            data_dir,
            claude_projects_dirs,
            claude_config_dir,
            codex_sessions_dir: codex_home.join("sessions"),
            zellij_bin,
            proc_root: PathBuf::from("/proc"),
        }
    }

    /// `<data dir>/sessions`: one JSON file per session.
    pub fn sessions_dir(&self) -> PathBuf {
        self.data_dir.join("sessions")
    }

    /// `<data dir>/events`: one JSONL event log per session.
    pub fn events_dir(&self) -> PathBuf {
        self.data_dir.join("events")
    }

    /// `<data dir>/trash`: files amc removed, kept for 7 days.
    pub fn trash_dir(&self) -> PathBuf {
        self.data_dir.join("trash")
    }

    /// `<data dir>/token`: the `act` token `amc serve` creates (0600) when `AMC_TOKEN` is unset; the hook reads it.
    pub fn token_file(&self) -> PathBuf {
        self.data_dir.join("token")
    }

    /// `<data dir>/addr`: the address `amc serve` listens on (the hook finds the server there).
    pub fn addr_file(&self) -> PathBuf {
        self.data_dir.join("addr")
    }

    /// The address the local `amc serve` wrote in [`Paths::addr_file`], when there is one that parses.
    pub fn written_addr(&self) -> Option<std::net::SocketAddr> {
        crate::bounded::read_to_string(&self.addr_file(), 4096)
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// The `act` token the local `amc serve` created in [`Paths::token_file`], trimmed, when it can be read.
    pub fn local_token(&self) -> Option<String> {
        crate::bounded::read_to_string(&self.token_file(), 4096)
            .ok()
            .map(|t| t.trim().to_owned())
    }

    /// `<data dir>/audit.jsonl`: one JSON line per action, accepted, refused or failed (rotated to `audit.jsonl.1`).
    pub fn audit_log(&self) -> PathBuf {
        self.data_dir.join("audit.jsonl")
    }

    /// `<data dir>/locks`: per-session lock files that serialize writers of one session file.
    pub fn locks_dir(&self) -> PathBuf {
        self.data_dir.join("locks")
    }
}

/// Finds `zellij` on `PATH`, else in the usual install dirs (launchd and systemd give a minimal `PATH`).
fn find_zellij(path: Option<&str>) -> Option<PathBuf> {
    let from_path = path
        .into_iter()
        .flat_map(|p| p.split(':'))
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from);
    let fallbacks = ["/opt/homebrew/bin", "/usr/local/bin", "/usr/bin"]
        .into_iter()
        .map(PathBuf::from);
    from_path
        .chain(fallbacks)
        .map(|dir| dir.join("zellij"))
        .find(|bin| is_executable(bin))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// Everything `amc serve` and `amc snapshot` need, read once at start-up.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to read and write.
    pub paths: Paths,
    /// Forces every Claude context window to this size (`AMC_CONTEXT_WINDOW`).
    pub context_window_override: Option<u64>,
    /// The model Claude Code is told to use (`ANTHROPIC_MODEL`): a `[1m]` id there states a 1M window.
    pub anthropic_model: Option<String>,
    /// Bearer token for anything that changes state, and required for a non-loopback listener (`AMC_TOKEN`).
    pub token: Option<String>,
    /// The scopes of `token` (`AMC_TOKEN_SCOPES`, default `read,act`).
    pub token_scopes: Vec<String>,
    /// A second token with the `read` scope only (`AMC_READ_TOKEN`).
    pub read_token: Option<String>,
    /// The address `amc serve` listens on (`--listen`, `AMC_LISTEN`, `listen`).
    pub listen: SocketAddr,
    /// The notification sinks and their policy.
    pub notify: NotifyConfig,
    /// Further named tokens with their scopes (`AMC_TOKENS`); a bad entry is logged and skipped.
    pub tokens: Vec<NamedToken>,
    /// Extra `Host` names a mutating request may name (`AMC_ALLOWED_HOSTS`).
    pub allowed_hosts: Vec<String>,
    /// Actions per second per token and per session (`AMC_ACTION_RATE`, default 10).
    pub action_rate: u32,
    /// Whether every PermissionRequest hook waits for a remote decision (`AMC_APPROVALS_HOLD=always`; default
    /// `never`: only sessions with remote approval switched on).
    pub approvals_hold_always: bool,
    /// How long a held PermissionRequest hook waits (`AMC_APPROVALS_WAIT_MS`, 10 min).
    pub approval_wait: Duration,
    /// Quiet interval after which WatchState sends a heartbeat (15 s).
    pub heartbeat_interval: Duration,
    /// Interval of the SSE `: ping` comment (15 s).
    pub sse_ping_interval: Duration,
    /// How often liveness (Zellij list, process scan) is refreshed and a pass runs without a file event.
    pub liveness_interval: Duration,
    /// How often a full reconcile pass runs whatever the file events said.
    pub reconcile_interval: Duration,
    /// How long file events are gathered before a pass runs.
    pub debounce: Duration,
    /// How long shutdown waits for connections to drain before the process exits anyway.
    pub shutdown_grace: Duration,
    /// The price table: built in, with the rows of `AMC_PRICES` over it.
    pub prices: Arc<prices::PriceTable>,
    /// The error loading `AMC_PRICES` gave, if any (logged at start; the built-in table is used).
    pub prices_error: Option<String>,
    /// Whether the OTLP receiver runs on amc's port (`AMC_OTLP=on`; default off).
    pub otlp: bool,
    /// The fleet: the host name, the NATS connection, hub or not.
    pub fleet: FleetConfig,
    /// What amc reads, holds and accepts at most (`limits.*`).
    pub limits: Limits,
}

impl Config {
    /// Builds the configuration from the process environment and the config file (one that does not parse is
    /// ignored, with a warning; the notification settings fall back to none when invalid).
    pub fn from_env() -> Self {
        let layers = Layers::from_process_lenient();
        Self::from_layers(&layers).unwrap_or_else(|error| {
            tracing::warn!(%error, "ignoring the notification settings");
            Self::from_paths_and_lookup(Paths::from_layers(&layers), |key| layers.lookup(key))
        })
    }

    /// Builds the configuration from the layers (flags, environment, file), validating every setting that has to
    /// be right (the listen address, the notification sinks).
    pub fn from_layers(layers: &Layers) -> Result<Self, String> {
        layers.validate()?;
        let mut config = Self::from_paths_and_lookup(Paths::from_layers(layers), |key| layers.lookup(key));
        config.notify = NotifyConfig::from_layers(layers, format!("http://{}/", config.listen))?;
        config.fleet = FleetConfig::from_lookup(|key| layers.lookup(key))?;
        Ok(config)
    }

    /// Builds the configuration from explicit paths and an environment lookup.
    pub fn from_paths_and_lookup(paths: Paths, lookup: impl Fn(&str) -> Option<String>) -> Self {
        let context_window_override = lookup("AMC_CONTEXT_WINDOW")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|v| *v > 0);
        let token = lookup("AMC_TOKEN").filter(|t| !t.is_empty());
        let token_scopes = lookup("AMC_TOKEN_SCOPES")
            .unwrap_or_else(|| "read,act".into())
            .split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect();
        let listen: SocketAddr = lookup("AMC_LISTEN")
            .and_then(|l| parse_listen(l.trim()).ok())
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 7400)));
        let millis = |key: &str, default: u64| {
            Duration::from_millis(lookup(key).and_then(|v| v.trim().parse().ok()).unwrap_or(default))
        };
        let tokens = lookup("AMC_TOKENS")
            .map(|value| {
                let path = Path::new(value.trim());
                match path
                    .is_absolute()
                    .then(|| crate::bounded::read_to_string(path, 1 << 20))
                {
                    Some(Ok(text)) => text,
                    Some(Err(e)) => {
                        tracing::warn!(path = %path.display(), error = %e, "AMC_TOKENS names a file amc cannot read");
                        String::new()
                    }
                    None => value,
                }
            })
            .map(|text| parse_tokens(&text))
            .unwrap_or_default();
        let allowed_hosts = lookup("AMC_ALLOWED_HOSTS")
            .map(|v| {
                v.split(',')
                    .map(|h| h.trim().to_ascii_lowercase())
                    .filter(|h| !h.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let action_rate = lookup("AMC_ACTION_RATE")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .filter(|v| *v > 0)
            .unwrap_or(10);
        let approvals_hold_always = match lookup("AMC_APPROVALS_HOLD").as_deref().map(str::trim) {
            None | Some("" | "never") => false,
            Some("always") => true,
            Some(other) => {
                tracing::warn!(value = other, "AMC_APPROVALS_HOLD is never or always; using never");
                false
            }
        };
        let (prices, prices_error) = match lookup("AMC_PRICES").filter(|p| !p.trim().is_empty()) {
            None => (prices::PriceTable::builtin(), None),
            Some(path) => match prices::PriceTable::with_file(Path::new(path.trim())) {
                Ok(table) => (table, None),
                Err(error) => (prices::PriceTable::builtin(), Some(error)),
            },
        };
        let otlp = matches!(lookup("AMC_OTLP").as_deref().map(str::trim), Some("on" | "1" | "true"));
        Config {
            prices: Arc::new(prices),
            prices_error,
            otlp,
            approvals_hold_always,
            approval_wait: millis("AMC_APPROVALS_WAIT_MS", 600_000),
            paths,
            tokens,
            allowed_hosts,
            action_rate,
            context_window_override,
            anthropic_model: lookup("ANTHROPIC_MODEL").filter(|m| !m.trim().is_empty()),
            token,
            token_scopes,
            read_token: lookup("AMC_READ_TOKEN").filter(|t| !t.is_empty()),
            listen,
            notify: NotifyConfig::quiet(format!("http://{listen}/")),
            heartbeat_interval: millis("AMC_HEARTBEAT_MS", 15_000),
            sse_ping_interval: millis("AMC_SSE_PING_MS", 15_000),
            liveness_interval: millis("AMC_LIVENESS_MS", 2_000),
            reconcile_interval: millis("AMC_RECONCILE_MS", 30_000),
            debounce: millis("AMC_DEBOUNCE_MS", 20),
            shutdown_grace: millis("AMC_SHUTDOWN_GRACE_MS", 3_000),
            // Lenient here (tests, benches, `amc hook`): an invalid fleet setting is no fleet; `from_layers` refuses it.
            fleet: FleetConfig::from_lookup(&lookup).unwrap_or_default(),
            limits: Limits::from_lookup(&lookup),
        }
    }

    /// Builds a configuration for `paths` with the default intervals (used by tests and benches).
    pub fn for_paths(paths: Paths) -> Self {
        Self::from_paths_and_lookup(paths, |_| None)
    }

    /// The scope of `AMC_TOKEN`: the strongest of `AMC_TOKEN_SCOPES` (default `read,act`, i.e. `act`).
    pub fn token_scope(&self) -> Scope {
        let act = self.token_scopes.iter().any(|s| s == "act");
        if act || self.token_scopes.is_empty() {
            Scope::Act
        } else {
            Scope::Read
        }
    }

    /// Whether `AMC_TOKEN` is set with scope `act` (then `amc serve` needs no `<data dir>/token`).
    pub fn has_act_token(&self) -> bool {
        self.token.is_some() && self.token_scope() == Scope::Act
    }

    /// The configured tokens: `AMC_TOKEN` named `default` (scope from `AMC_TOKEN_SCOPES`), `AMC_READ_TOKEN` named
    /// `read` (scope `read`), then the `AMC_TOKENS`.
    pub fn named_tokens(&self) -> Vec<NamedToken> {
        let default = self.token.iter().map(|secret| NamedToken {
            name: "default".into(),
            secret: secret.clone(),
            scope: self.token_scope(),
        });
        let read = self.read_token.iter().map(|secret| NamedToken {
            name: "read".into(),
            secret: secret.clone(),
            scope: Scope::Read,
        });
        default.chain(read).chain(self.tokens.iter().cloned()).collect()
    }
}

/// What a token lets its bearer do. `act` includes `read`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read sessions, state, streams, explanations.
    Read,
    /// Everything `read` does, and act on sessions (decide, answer, type, dismiss, restore) and read the audit log.
    Act,
}

impl Scope {
    /// The scope's name, as in `AMC_TOKENS` and the docs.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Act => "act",
        }
    }
}

/// A bearer token with a name (for the audit log) and the strongest scope it grants.
#[derive(Clone, PartialEq, Eq)]
pub struct NamedToken {
    /// Who holds it (`default` for `AMC_TOKEN`, `local` for `<data dir>/token`).
    pub name: String,
    /// The secret the bearer sends.
    pub secret: String,
    /// What it allows.
    pub scope: Scope,
}

impl std::fmt::Debug for NamedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret: configs get logged.
        f.debug_struct("NamedToken")
            .field("name", &self.name)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// Parses `AMC_TOKENS`: entries `name:scope:secret` (scope `read`, `act` or `read+act`) separated by white space or
/// commas; `#` starts a comment to the end of the line. A malformed entry is logged and skipped.
pub fn parse_tokens(text: &str) -> Vec<NamedToken> {
    text.lines()
        .map(|line| line.split('#').next().unwrap_or_default())
        .flat_map(|line| line.split(|c: char| c == ',' || c.is_whitespace()))
        .filter(|entry| !entry.is_empty())
        .filter_map(|entry| {
            let mut parts = entry.splitn(3, ':');
            let (name, scopes, secret) = (parts.next()?, parts.next()?, parts.next()?);
            let scope = scopes
                .split('+')
                .map(|s| match s {
                    "read" => Some(Scope::Read),
                    "act" => Some(Scope::Act),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .and_then(|all| all.into_iter().max());
            match scope {
                Some(scope) if !name.is_empty() && secret.len() >= 8 => Some(NamedToken {
                    name: name.to_owned(),
                    secret: secret.to_owned(),
                    scope,
                }),
                _ => {
                    tracing::warn!(
                        name,
                        "AMC_TOKENS entry skipped: want name:read|act|read+act:secret (8+ chars)"
                    );
                    None
                }
            }
        })
        .collect()
}

/// Parses a listen address: `127.0.0.1:7400`, `[::1]:7400`, `localhost:7400` (the IPv4 loopback), or a host name
/// that resolves (its first address).
pub fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    let want = || "expected an address like 127.0.0.1:7400 or localhost:7400".to_owned();
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    let (host, port) = text.rsplit_once(':').ok_or_else(want)?;
    let port: u16 = port.parse().map_err(|_| want())?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if host.is_empty() {
        return Err(want());
    }
    use std::net::ToSocketAddrs as _;
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| format!("{} (cannot resolve {host:?})", want()))
}

/// Returns whether `addr` only accepts connections from this machine.
pub fn is_loopback(addr: &SocketAddr) -> bool {
    addr.ip().is_loopback()
}

/// The home directory of the process's (effective) user, from `/etc/passwd`; `None` when unknown or `/`.
pub(crate) fn passwd_home() -> Option<PathBuf> {
    use std::os::unix::fs::MetadataExt as _;
    // /proc/self belongs to the process's effective uid (std offers no geteuid without `unsafe`).
    let uid = std::fs::metadata("/proc/self").ok()?.uid();
    home_in_passwd(&std::fs::read_to_string("/etc/passwd").ok()?, uid)
}

/// Returns the home field of `uid`'s line in a passwd file (`name:pw:uid:gid:gecos:home:shell`); `None` for `/`.
fn home_in_passwd(passwd: &str, uid: u32) -> Option<PathBuf> {
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        let home = *fields.get(5)?;
        (fields.get(2)?.parse::<u32>().ok()? == uid && home.starts_with('/') && home != "/")
            .then(|| PathBuf::from(home))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_home_comes_from_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\n# comment\nbroken\ndev:x:1000:1000:Dev,,,:/home/dev:/bin/sh\n\
                      svc:x:998:998::/:/usr/sbin/nologin\n";
        assert_eq!(home_in_passwd(passwd, 0), Some(PathBuf::from("/root")));
        assert_eq!(home_in_passwd(passwd, 1000), Some(PathBuf::from("/home/dev")));
        assert_eq!(home_in_passwd(passwd, 998), None, "a home of / is no home");
        assert_eq!(home_in_passwd(passwd, 4242), None);
    }
    use std::collections::HashMap;

    fn paths(vars: &[(&str, &str)]) -> Paths {
        let map: HashMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Paths::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn data_dir_prefers_amc_then_xdg_then_home() {
        assert_eq!(paths(&[("HOME", "/h")]).data_dir, PathBuf::from("/h/.local/share/amc"));
        assert_eq!(
            paths(&[("HOME", "/h"), ("XDG_DATA_HOME", "/x")]).data_dir,
            PathBuf::from("/x/amc")
        );
        assert_eq!(
            paths(&[("HOME", "/h"), ("XDG_DATA_HOME", "/x"), ("AMC_DATA_DIR", "/d")]).data_dir,
            PathBuf::from("/d")
        );
    }

    #[test]
    fn claude_and_codex_roots_follow_their_env_vars() {
        let p = paths(&[("HOME", "/h")]);
        assert_eq!(p.claude_projects_dirs[0], PathBuf::from("/h/.claude/projects"));
        assert_eq!(p.claude_projects_dirs[1], PathBuf::from("/h/.config/claude/projects"));
        assert_eq!(p.codex_sessions_dir, PathBuf::from("/h/.codex/sessions"));
        let p = paths(&[("HOME", "/h"), ("CLAUDE_CONFIG_DIR", "/c1,/c2"), ("CODEX_HOME", "/cx")]);
        assert_eq!(
            &p.claude_projects_dirs[..2],
            &[PathBuf::from("/c1/projects"), PathBuf::from("/c2/projects")]
        );
        assert_eq!(p.claude_config_dir, PathBuf::from("/c1"));
        assert_eq!(p.codex_sessions_dir, PathBuf::from("/cx/sessions"));
    }

    #[test]
    fn tokens_have_names_and_scopes_and_bad_entries_are_skipped() {
        let tokens = parse_tokens(
            "ci:read:readonly-secret, phone:read+act:abc:def:ghi # comment\n# all comment\n\
                                   bad:write:whatever-secret short:act:1234 noscope",
        );
        let got: Vec<(&str, &str, Scope)> = tokens
            .iter()
            .map(|t| (t.name.as_str(), t.secret.as_str(), t.scope))
            .collect();
        assert_eq!(
            got,
            [
                ("ci", "readonly-secret", Scope::Read),
                ("phone", "abc:def:ghi", Scope::Act)
            ]
        );
        assert!(
            !format!("{:?}", tokens[0]).contains("readonly-secret"),
            "Debug hides the secret"
        );
        let config = Config::from_paths_and_lookup(paths(&[("HOME", "/h")]), |key| match key {
            "AMC_TOKENS" => Some("a:act:0123456789".into()),
            "AMC_ALLOWED_HOSTS" => Some("amc.example, Box.lan".into()),
            "AMC_ACTION_RATE" => Some("3".into()),
            "AMC_APPROVALS_HOLD" => Some("always".into()),
            _ => None,
        });
        assert!(config.approvals_hold_always);
        let names = |config: &Config| -> Vec<(String, Scope)> {
            config.named_tokens().into_iter().map(|t| (t.name, t.scope)).collect()
        };
        assert_eq!(names(&config), [("a".to_owned(), Scope::Act)]);
        let other = Config::from_paths_and_lookup(paths(&[]), |key| match key {
            "AMC_TOKEN" => Some("t0123456789".into()),
            "AMC_TOKEN_SCOPES" => Some("read".into()),
            "AMC_READ_TOKEN" => Some("r0123456789".into()),
            _ => None,
        });
        assert_eq!(
            names(&other),
            [("default".to_owned(), Scope::Read), ("read".to_owned(), Scope::Read)]
        );
        assert!(!other.has_act_token());
        let other = Config::from_paths_and_lookup(paths(&[]), |key| (key == "AMC_TOKEN").then(|| "t".into()));
        assert_eq!(names(&other), [("default".to_owned(), Scope::Act)]);
        assert!(other.has_act_token());
        assert!(!Config::for_paths(paths(&[])).approvals_hold_always);
        assert_eq!(Config::for_paths(paths(&[])).approval_wait, Duration::from_secs(600));
        assert_eq!(config.tokens.len(), 1);
        assert_eq!(config.allowed_hosts, ["amc.example", "box.lan"]);
        assert_eq!(config.action_rate, 3);
        assert_eq!(Config::for_paths(paths(&[])).action_rate, 10);
    }

    #[test]
    fn zellij_bin_override_wins() {
        assert_eq!(
            paths(&[("AMC_ZELLIJ_BIN", "/opt/z")]).zellij_bin,
            Some(PathBuf::from("/opt/z"))
        );
    }
}
