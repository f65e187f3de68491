//! The command line: `amc serve`, `amc snapshot`, `amc hook`, `amc hooks ...`.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::SystemTime};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::{
    collect::Collector,
    config::{self, Config, Paths},
    hook, publisher, server, shutdown, wire,
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
        /// Address to listen on. A non-loopback address needs AMC_TOKEN set.
        #[arg(long, default_value = config::DEFAULT_LISTEN, env = "AMC_LISTEN")]
        listen: SocketAddr,
        /// Extra browser origin allowed to call gRPC-Web (repeatable; loopback origins are always allowed).
        #[arg(long = "cors-origin", value_name = "ORIGIN")]
        cors_origins: Vec<String>,
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
    match cli.command {
        Command::Serve {
            listen,
            cors_origins,
            addr_file,
        } => serve(Config::from_env(), listen, cors_origins, addr_file),
        Command::Snapshot { pretty } => snapshot(&Config::from_env(), pretty),
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

fn snapshot(config: &Config, pretty: bool) -> anyhow::Result<()> {
    use std::io::Write as _;
    let pass = Collector::new(config).pass(SystemTime::now());
    let payload = wire::api_state(&pass.sessions, SystemTime::now(), None);
    let text = if pretty {
        serde_json::to_string_pretty(&payload)?
    } else {
        serde_json::to_string(&payload)?
    };
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{text}").and_then(|()| stdout.flush()) {
        // `amc snapshot | head` is fine.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing the snapshot to stdout"),
    }
}

fn serve(
    config: Config,
    listen: SocketAddr,
    cors_origins: Vec<String>,
    addr_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    if !config::is_loopback(&listen) && config.token.is_none() {
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
        tracing::info!(%addr, data_dir = %config.paths.data_dir.display(), "amc listening (gRPC, gRPC-Web, /api/state, /api/stream, dashboard); reading the first state");
        let signal_token = shutdown.clone();
        tokio::spawn(async move {
            shutdown::signal().await;
            signal_token.cancel();
        });
        let options = server::ServerOptions {
            paths: Arc::new(config.paths.clone()),
            heartbeat: config.heartbeat_interval,
            sse_ping: config.sse_ping_interval,
            grace: config.shutdown_grace,
            cors_origins,
            token: config.token.as_deref().map(Arc::from),
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
