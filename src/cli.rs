//! The command line: `amc serve`, `amc snapshot`, `amc explain`, `amc hook`, `amc hooks ...`, `amc config show`,
//! `amc notify test`, `amc trash list|restore` ([`trash`]).

pub mod trash;

use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::Arc,
    time::{Duration, SystemTime},
};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::{
    collect::Collector,
    config::{self, Config, Paths},
    error::Error,
    hook, notify, proto as pb,
    publisher::{self, decision_log::DecisionLog},
    server, shutdown,
    wire::{self, Explanation},
};

/// amc — Agent Mission Control: what every Claude Code and Codex agent in your Zellij panes is doing.
///
/// Paths come from the environment: AMC_DATA_DIR (else $XDG_DATA_HOME/amc, else ~/.local/share/amc),
/// CLAUDE_CONFIG_DIR (else ~/.claude), CODEX_HOME (else ~/.codex), AMC_ZELLIJ_BIN (else zellij on PATH).
/// Logs go to stderr; set the level with RUST_LOG (e.g. RUST_LOG=debug).
#[derive(Debug, Parser)]
#[command(name = "amc", version, about, long_about)]
#[deny(missing_docs)]
pub struct Cli {
    /// The config file (default: $AMC_CONFIG, else $XDG_CONFIG_HOME/amc/config.toml, else ~/.config/amc/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[deny(missing_docs)]
pub enum Command {
    /// Serve gRPC, gRPC-Web, reflection, health, /api/state, /api/stream (SSE) and the dashboard on one port.
    Serve {
        /// Address to listen on (else AMC_LISTEN, else `listen` in the config file, else 127.0.0.1:7400). A
        /// non-loopback address needs a token (AMC_TOKEN).
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Extra browser origin allowed to call gRPC-Web (repeatable; loopback origins are always allowed).
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
        /// Extra name requests may give as `Host` (repeatable; e.g. the name of a reverse proxy). Without it only
        /// loopback names and the bound address with the bound port are answered (others get 421: no DNS
        /// rebinding). Overrides `allowed_hosts` / AMC_ALLOWED_HOSTS.
        #[arg(long = "allowed-host", value_name = "NAME")]
        allowed_hosts: Vec<String>,
        /// Write the bound address (e.g. 127.0.0.1:40123) to this file once the first full state is published (the
        /// port answers before that, with an empty state and "warming": true in /api/health). Useful with port 0.
        #[arg(long, value_name = "FILE")]
        addr_file: Option<PathBuf>,
    },
    /// Run one collection pass with exactly the server's rules and print the /api/state JSON on stdout.
    Snapshot {
        /// Pretty-print the JSON.
        #[arg(long)]
        pretty: bool,
    },
    /// Explain why a session is what it is, or why it went: every rule's decision, value and evidence.
    ///
    /// Asks the running server at ADDR (with AMC_TOKEN when set). When nothing listens there, runs one collection
    /// pass here instead (exactly `amc snapshot`'s, with its removals) and adds the removed sessions the server kept
    /// in cache/removed.jsonl of the data dir. Exits 1 for an unknown or unsafe id.
    Explain {
        /// The session id.
        session_id: String,
        /// Print the JSON of GET /api/sessions/{id}/explain instead of text.
        #[arg(long)]
        json: bool,
        /// The server to ask.
        #[arg(long, value_name = "ADDR", default_value = config::DEFAULT_LISTEN, env = "AMC_LISTEN")]
        addr: SocketAddr,
        /// Do not ask a server: run one pass here.
        #[arg(long)]
        local: bool,
    },
    /// Print the audit log of actions (accepted, refused, failed), oldest first, from the data dir's audit.jsonl.
    Audit {
        /// How many of the newest lines.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Print the JSON lines as they are.
        #[arg(long)]
        json: bool,
    },
    /// The Claude Code (or Codex) hook: read one hook payload on stdin and record it. Always exits 0, prints nothing.
    Hook {
        /// The agent that runs the hook.
        #[arg(long, value_enum, default_value_t = AgentArg::Claude)]
        agent: AgentArg,
    },
    /// Install, remove or inspect amc's entries in Claude Code's settings.json (or Codex's hooks.json).
    Hooks {
        /// What to do with the hooks.
        #[command(subcommand)]
        action: HooksAction,
        /// Whose hooks: Claude Code's settings.json, or Codex's $CODEX_HOME/hooks.json.
        #[arg(long, value_enum, default_value_t = AgentArg::Claude, global = true)]
        agent: AgentArg,
        /// Codex only: the `codex` binary that records the hooks' trust (default: `codex` on PATH).
        #[arg(long, value_name = "PATH", global = true)]
        codex_bin: Option<PathBuf>,
    },
    /// Notifications: test the configured sinks.
    Notify {
        /// What to do.
        #[command(subcommand)]
        action: NotifyAction,
    },
    /// List the files amc moved to the trash (with the rule that moved each), or put one back where it was.
    Trash {
        /// What to do.
        #[command(subcommand)]
        action: TrashAction,
    },
    /// Inspect the configuration (flags over environment over config file over defaults).
    Config {
        /// What to do with the configuration.
        #[command(subcommand)]
        action: ConfigAction,
    },
}

/// `amc notify` actions.
#[derive(Debug, Subcommand)]
#[deny(missing_docs)]
pub enum NotifyAction {
    /// Send one test notification to every configured sink (webhook, ntfy, desktop) now and print each outcome;
    /// exits non-zero when a sink failed or none is configured.
    Test,
}

/// `amc trash` actions.
#[derive(Debug, Subcommand)]
#[deny(missing_docs)]
pub enum TrashAction {
    /// Every file in the data dir's trash/, newest first: its id, when it was moved, where it goes back to, and the
    /// rule (and reason) that moved it, from cache/removed.jsonl.
    List {
        /// Print a JSON array instead of lines.
        #[arg(long)]
        json: bool,
    },
    /// Put a trashed file back where it was (a session file into sessions/, an event log into events/). ID is a
    /// trash id from `amc trash list` or a session id (its newest trashed session file). Refused (exit 1) when a
    /// live file with that id exists; the file then stays in the trash.
    Restore {
        /// The trash id or session id.
        id: String,
    },
}

/// `amc config` actions.
#[derive(Debug, Subcommand)]
#[deny(missing_docs)]
pub enum ConfigAction {
    /// Print every setting's effective value and where it came from (flag, env, file, default); secrets redacted.
    Show,
}

/// The agents `amc hook` and `amc hooks` serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AgentArg {
    /// Claude Code.
    Claude,
    /// Codex CLI.
    Codex,
}

impl From<AgentArg> for hook::update::HookAgent {
    fn from(agent: AgentArg) -> Self {
        match agent {
            AgentArg::Claude => hook::update::HookAgent::Claude,
            AgentArg::Codex => hook::update::HookAgent::Codex,
        }
    }
}

/// `amc hooks` actions.
#[derive(Debug, Subcommand)]
#[deny(missing_docs)]
pub enum HooksAction {
    /// Merge amc's hook entries into settings.json (idempotent; writes a backup first).
    Install {
        /// Settings file to edit (default: $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Print the result without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove exactly amc's hook entries from settings.json.
    Uninstall {
        /// Settings file to edit (default: $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json).
        #[arg(long)]
        settings: Option<PathBuf>,
        /// Print the result without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Show which events have amc's hook and whether its command still exists.
    Status {
        /// Settings file to read (default: $CLAUDE_CONFIG_DIR/settings.json, else ~/.claude/settings.json).
        #[arg(long)]
        settings: Option<PathBuf>,
    },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let config_file = cli.config;
    let layers = |flags: Vec<(&'static str, String)>| {
        config::Layers::load(config::settings::process_env(), config_file.clone(), flags)
    };
    match cli.command {
        Command::Serve {
            listen,
            cors_origins,
            allowed_hosts,
            addr_file,
        } => {
            let mut flags: Vec<(&'static str, String)> =
                listen.map(|l| ("listen", l.to_string())).into_iter().collect();
            if !allowed_hosts.is_empty() {
                flags.push(("allowed_hosts", allowed_hosts.join(",")));
            }
            let layers = layers(flags)?;
            for key in layers.unknown_keys() {
                tracing::warn!(%key, "unknown key in the config file, ignored");
            }
            let config = Config::from_layers(&layers).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
            serve(config, cors_origins, addr_file)
        }
        Command::Snapshot { pretty } => {
            let layers = layers(Vec::new())?;
            let config = Config::from_layers(&layers).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
            snapshot(&config, pretty)
        }
        Command::Notify {
            action: NotifyAction::Test,
        } => {
            let layers = layers(Vec::new())?;
            let config = Config::from_layers(&layers).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
            notify_test(&config)
        }
        Command::Config {
            action: ConfigAction::Show,
        } => {
            use std::io::Write as _;
            let layers = layers(Vec::new())?;
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(layers.show().as_bytes())?;
            if let Err(error) = Config::from_layers(&layers) {
                writeln!(stdout, "# invalid: {error}")?;
            }
            Ok(())
        }
        Command::Explain {
            session_id,
            json,
            addr,
            local,
        } => {
            let layers = layers(Vec::new())?;
            let config = Config::from_layers(&layers).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
            let explanation = explain(&config, &session_id, (!local).then_some(addr))?;
            let text = if json {
                serde_json::to_string_pretty(&explanation.to_json())?
            } else {
                explanation_text(&explanation)
            };
            print_stdout(&text)
        }
        Command::Audit { limit, json } => {
            let lines = server::audit::read_tail(&Paths::from_env().audit_log(), limit);
            let text: Vec<String> = lines
                .iter()
                .map(|line| if json { line.to_string() } else { audit_text(line) })
                .collect();
            print_stdout(&text.join("\n"))
        }
        Command::Trash { action } => {
            let paths = Paths::from_layers(&layers(Vec::new())?);
            let text = match action {
                TrashAction::List { json } => trash::list(&paths, json)?,
                TrashAction::Restore { id } => trash::restore(&paths, &id)?,
            };
            print_stdout(&text)
        }
        Command::Hook { agent } => {
            hook::run_from_stdin(&Paths::from_env(), agent.into());
            Ok(())
        }
        Command::Hooks {
            action,
            agent,
            codex_bin,
        } => {
            let paths = Paths::from_env();
            let default_file = match agent {
                AgentArg::Claude => paths.claude_config_dir.join("settings.json"),
                // `$CODEX_HOME/hooks.json` (the rollouts root is `$CODEX_HOME/sessions`).
                AgentArg::Codex => paths
                    .codex_sessions_dir
                    .parent()
                    .map_or_else(|| PathBuf::from("hooks.json"), |home| home.join("hooks.json")),
            };
            let options = |settings: Option<PathBuf>, dry_run| hook::install::HooksOptions {
                settings: settings.unwrap_or_else(|| default_file.clone()),
                dry_run,
                agent: agent.into(),
                codex_bin: codex_bin.clone(),
            };
            match action {
                HooksAction::Install { settings, dry_run } => hook::install::install(&options(settings, dry_run)),
                HooksAction::Uninstall { settings, dry_run } => hook::install::uninstall(&options(settings, dry_run)),
                HooksAction::Status { settings } => hook::install::status(&options(settings, false)),
            }
        }
    }
}

fn notify_test(config: &Config) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let results = runtime.block_on(notify::send_test(&config.notify));
    if results.is_empty() {
        anyhow::bail!("no notification sink is configured (notify.webhook.url, notify.ntfy.url, notify.desktop)");
    }
    let mut failed = 0;
    for (sink, outcome) in results {
        match outcome {
            notify::sinks::Outcome::Delivered => println!("{sink}: delivered"),
            notify::sinks::Outcome::Gone => {
                failed += 1;
                println!("{sink}: the receiver answered 410 Gone");
            }
            notify::sinks::Outcome::Retry(reason) => {
                failed += 1;
                println!("{sink}: failed: {reason}");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} sink(s) failed");
    }
    Ok(())
}

fn snapshot(config: &Config, pretty: bool) -> anyhow::Result<()> {
    let pass = Collector::new(config).pass(SystemTime::now());
    let payload = wire::api_state(&pass.sessions, SystemTime::now(), None);
    let text = if pretty {
        serde_json::to_string_pretty(&payload)?
    } else {
        serde_json::to_string(&payload)?
    };
    print_stdout(&text)
}

/// Prints `text` and a newline on stdout; a closed pipe (`amc ... | head`) is fine.
fn print_stdout(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        // `amc snapshot | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}

/// Explains `id`: from the server at `addr` when one answers there, else from one pass here.
fn explain(config: &Config, id: &str, addr: Option<SocketAddr>) -> anyhow::Result<Explanation> {
    if let Some(addr) = addr {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the tokio runtime")?;
        if let Some(answer) = runtime.block_on(explain_remote(addr, config.token.as_deref(), id))? {
            return Ok(answer);
        }
        tracing::info!(%addr, "no amc server answers there: running one collection pass here");
    }
    // An unsafe id needs no pass to be refused.
    if let Err(error @ Error::InvalidArgument(_)) = DecisionLog::in_memory(&config.paths).explain(id) {
        anyhow::bail!(error);
    }
    let now = SystemTime::now();
    let mut log = DecisionLog::open(&config.paths, now);
    let pass = Collector::new(config).pass(now);
    log.record(&pass.sessions, pass.decisions, pass.removed, now);
    Ok(log.explain(id)?)
}

/// Asks the server at `addr`; `None` when nothing answers there.
async fn explain_remote(addr: SocketAddr, token: Option<&str>, id: &str) -> anyhow::Result<Option<Explanation>> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10));
    let Ok(channel) = endpoint.connect().await else {
        return Ok(None);
    };
    let mut request = tonic::Request::new(pb::ExplainSessionRequest {
        session_id: id.to_owned(),
    });
    if let Some(token) = token {
        let value = format!("Bearer {token}")
            .parse()
            .context("AMC_TOKEN cannot be sent as a header")?;
        request.metadata_mut().insert("authorization", value);
    }
    let mut client = pb::state_service_client::StateServiceClient::new(channel);
    match client.explain_session(request).await {
        Ok(response) => Ok(Some(Explanation::from_proto(response.into_inner()))),
        Err(status) => anyhow::bail!(
            "the server at {addr} answered {:?}: {}",
            status.code(),
            status.message()
        ),
    }
}

/// One audit line as text: time, token, client, action, session, outcome, and the error when there is one.
fn audit_text(line: &serde_json::Value) -> String {
    let field = |key: &str| line[key].as_str().filter(|s| !s.is_empty()).unwrap_or("-").to_owned();
    let mut text = format!(
        "{} {} {} {} {} {}",
        field("time"),
        field("token"),
        field("client"),
        field("action"),
        field("session"),
        field("outcome")
    );
    if let Some(error) = line["error"].as_str() {
        text.push_str(": ");
        text.push_str(error);
    }
    text
}

/// The human-readable form of an explanation.
fn explanation_text(e: &Explanation) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(out, "session {}", e.session_id);
    // Each field's outcome, when it is a scalar: its last decision that says something (`null` is "no evidence").
    let mut outcome: Vec<(&str, &serde_json::Value)> = Vec::new();
    for d in e
        .decisions
        .iter()
        .filter(|d| !d.value.is_null() && !d.value.is_object() && !d.value.is_array())
    {
        match outcome.iter_mut().find(|(field, _)| *field == d.field) {
            Some(slot) => slot.1 = &d.value,
            None => outcome.push((&d.field, &d.value)),
        }
    }
    let outcome: Vec<String> = outcome
        .iter()
        .map(|(field, value)| format!("{field} {}", crate::model::string_form(value)))
        .collect();
    if !outcome.is_empty() {
        let _ = writeln!(out, "  {}", outcome.join(", "));
    }
    if e.present {
        let _ = writeln!(out, "  listed in the current state; the latest pass decided:");
    } else {
        let when = e.removed_at.map(utc).unwrap_or_else(|| "?".into());
        let _ = writeln!(out, "  removed at {when}");
        match &e.trash_path {
            Some(path) => {
                let _ = writeln!(out, "  its file is in the trash: {path}");
            }
            None => {
                let _ = writeln!(out, "  its file is not in the trash");
            }
        }
        let _ = writeln!(out, "  its last decisions:");
    }
    for d in &e.decisions {
        let _ = writeln!(
            out,
            "  - {} = {}   ({}, {})",
            d.field,
            crate::model::string_form(&d.value),
            d.rule,
            utc(d.at)
        );
        for (name, value) in &d.evidence {
            let _ = writeln!(out, "      {name}: {}", crate::model::string_form(value));
        }
    }
    out.trim_end().to_owned()
}

/// Seconds since the Unix epoch as an RFC 3339 UTC time with milliseconds.
/// `at` as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
fn utc_of(at: SystemTime) -> String {
    utc(at
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default())
}

fn utc(seconds: f64) -> String {
    let whole = seconds.floor();
    let nanos = ((seconds - whole) * 1e9) as u32;
    chrono::DateTime::from_timestamp(whole as i64, nanos)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_else(|| seconds.to_string())
}

fn serve(config: Config, cors_origins: Vec<String>, addr_file: Option<PathBuf>) -> anyhow::Result<()> {
    let listen = config.listen;
    if !config::is_loopback(&listen) && config.named_tokens().is_empty() {
        anyhow::bail!(
            "refusing to listen on non-loopback address {listen} without a token: set AMC_TOKEN to a secret, \
             or listen on 127.0.0.1"
        );
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let listener = server::bind(listen).with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let state = publisher::start(config.clone(), shutdown.clone()).await;
        let notifier = notify::start(&config.notify, &config.paths.data_dir, &state, shutdown.clone());
        tracing::info!(%addr, data_dir = %config.paths.data_dir.display(), "amc listening (gRPC, gRPC-Web, /api/state, /api/stream, dashboard); reading the first state");
        let signal_token = shutdown.clone();
        tokio::spawn(async move {
            shutdown::signal().await;
            signal_token.cancel();
        });
        // Without an AMC_TOKEN that may act, the `local` act token in the data dir (created on the first start).
        let local = match config.has_act_token() {
            true => None,
            false => Some(
                server::auth::local_token(&config.paths.token_file())
                    .with_context(|| format!("creating {}", config.paths.token_file().display()))?,
            ),
        };
        let access = server::auth::Access::from_config(&config, local.clone(), &cors_origins);
        // Where `amc hook` finds this server (to register held PermissionRequests).
        if let Err(e) = crate::store::write_atomic(&config.paths.addr_file(), addr.to_string().as_bytes()) {
            tracing::warn!(error = %e, "cannot write the address to the data dir; held approvals are off");
        }
        if let Some(token) = &local {
            let host = if addr.ip().is_unspecified() { "127.0.0.1".to_owned() } else { addr.ip().to_string() };
            let host = if addr.is_ipv6() && !addr.ip().is_unspecified() { format!("[{host}]") } else { host };
            eprintln!("amc dashboard: http://{host}:{}/#access_token={token}", addr.port());
        }
        let options = server::ServerOptions {
            paths: Arc::new(config.paths.clone()),
            heartbeat: config.heartbeat_interval,
            sse_ping: config.sse_ping_interval,
            grace: config.shutdown_grace,
            cors_origins,
            notify: Some(notifier),
            access: Arc::new(access),
            action_rate: config.action_rate,
            approvals_hold_always: config.approvals_hold_always,
            approval_wait: config.approval_wait,
        };
        let server = server::run(listener, state.clone(), options, shutdown);
        tokio::pin!(server);
        // The port answers at once (an empty state with `"warming": true`); the address file, which scripts read to
        // start querying, is written once the first full state is published.
        tokio::select! {
            result = &mut server => return result.map(|()| tracing::info!("amc stopped")),
            () = state.warmed() => {}
        }
        // (Still warming here only when the publisher stopped: the server is shutting down.)
        if let Some(file) = addr_file.as_ref().filter(|_| !state.is_warming()) {
            tracing::info!(sessions = state.current().sessions.len(), "first state published");
            crate::store::write_atomic(file, addr.to_string().as_bytes())
                .with_context(|| format!("writing the address to {}", file.display()))?;
        }
        server.await?;
        tracing::info!("amc stopped");
        Ok(())
    })
}
