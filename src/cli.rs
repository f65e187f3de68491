//! The command line: `amc serve`, `amc snapshot`, `amc hook`, `amc hooks ...`, `amc config show`.

use std::{net::SocketAddr, path::PathBuf, sync::Arc, time::SystemTime};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::{
    collect::Collector,
    config::{self, Config, Paths},
    hook, notify, publisher, server, shutdown, wire,
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
    /// The Claude Code hook: read one hook payload on stdin and record it. Always exits 0, prints nothing.
    Hook,
    /// Install, remove or inspect amc's entries in Claude Code's settings.json.
    Hooks {
        /// What to do with the hooks.
        #[command(subcommand)]
        action: HooksAction,
    },
    /// Notifications: test the configured sinks.
    Notify {
        /// What to do.
        #[command(subcommand)]
        action: NotifyAction,
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

/// `amc config` actions.
#[derive(Debug, Subcommand)]
#[deny(missing_docs)]
pub enum ConfigAction {
    /// Print every setting's effective value and where it came from (flag, env, file, default); secrets redacted.
    Show,
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
            addr_file,
        } => {
            let layers = layers(listen.map(|l| ("listen", l.to_string())).into_iter().collect())?;
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
        Command::Hook => {
            hook::run_from_stdin(&Paths::from_env());
            Ok(())
        }
        Command::Hooks { action } => {
            let paths = Paths::from_env();
            let options = |settings: Option<PathBuf>, dry_run| hook::install::HooksOptions {
                settings: settings.unwrap_or_else(|| paths.claude_config_dir.join("settings.json")),
                dry_run,
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

fn serve(config: Config, cors_origins: Vec<String>, addr_file: Option<PathBuf>) -> anyhow::Result<()> {
    let listen = config.listen;
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
        let notifier = notify::start(&config.notify, &config.paths.data_dir, &state, shutdown.clone());
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
            tokens: server::auth::Tokens::new(
                config.token.as_deref(),
                &config.token_scopes,
                config.read_token.as_deref(),
            ),
            notify: Some(notifier),
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
