//! The command line: `amc serve`, `amc snapshot`, `amc explain`, `amc hook`, `amc hooks ...`, `amc config show`,
//! `amc notify test`, `amc service ...` ([`service`]), `amc doctor` ([`doctor`]), `amc completions`, `amc man`, `amc top`, `amc trash list|restore` ([`trash`]);
//! logging is set up by [`logging`].

pub mod doctor;
pub mod logging;
pub mod serve;
pub mod service;
pub mod trash;

use std::{
    net::SocketAddr,
    path::PathBuf,
    process::ExitCode,
    time::{Duration, SystemTime},
};

mod usage;

use anyhow::Context as _;
use clap::{CommandFactory as _, Parser, Subcommand};

use crate::{
    collect::Collector,
    config::{self, Config, Paths},
    error::Error,
    hook, notify, proto as pb,
    publisher::decision_log::DecisionLog,
    server,
    wire::{self, Explanation},
};

/// amc — Agent Mission Control: what every Claude Code and Codex agent in your Zellij panes is doing.
///
/// Settings come from flags, else environment variables, else the config file (~/.config/amc/config.toml), else
/// defaults: `amc config show` prints them all. Paths: AMC_DATA_DIR (else $XDG_DATA_HOME/amc, else
/// ~/.local/share/amc), CLAUDE_CONFIG_DIR (else ~/.claude), CODEX_HOME (else ~/.codex), AMC_ZELLIJ_BIN (else zellij
/// on PATH). Logs go to stderr (--log-format text|json); set the level with RUST_LOG (e.g. RUST_LOG=debug).
/// `amc doctor` tells why sessions do not show up.
#[derive(Debug, Parser)]
#[command(name = "amc", version, about, long_about)]
#[deny(missing_docs)]
pub struct Cli {
    /// The config file (default: $AMC_CONFIG, else $XDG_CONFIG_HOME/amc/config.toml, else ~/.config/amc/config.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log format on stderr: text (coloured only on a terminal, never with NO_COLOR) or json (one object per line).
    /// Else AMC_LOG_FORMAT, else `log_format` in the config file, else text.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    pub log_format: Option<logging::LogFormat>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
#[deny(missing_docs)]
pub enum Command {
    /// Serve gRPC, gRPC-Web, reflection, health, /api/state, /api/stream (SSE), /metrics and the dashboard on one
    /// port; prints the dashboard's URL once the first state is ready.
    #[command(after_help = serve_env_help())]
    Serve {
        /// Address to listen on, e.g. 127.0.0.1:7400 or localhost:7400 (else AMC_LISTEN, else `listen` in the config
        /// file, else 127.0.0.1:7400). A non-loopback address needs a token (AMC_TOKEN).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
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
        /// Join a fleet: mirror this host's sessions into the NATS JetStream bucket at URL (else AMC_NATS_URL, else
        /// `nats.url`). See docs/fleet.md.
        #[arg(long = "nats", value_name = "URL")]
        nats: Option<String>,
        /// This machine's name in the fleet (else AMC_HOST, else `host`, else the system host name).
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
        /// Be a fleet hub: serve the union of every host in the bucket (needs --nats).
        #[arg(long)]
        fleet: bool,
        /// NATS credentials file (else AMC_NATS_CREDS, else `nats.creds`).
        #[arg(long, value_name = "FILE")]
        nats_creds: Option<PathBuf>,
        /// CA certificate the NATS server's TLS certificate must chain to (else AMC_NATS_TLS_CA, else `nats.tls_ca`).
        #[arg(long, value_name = "FILE")]
        nats_tls_ca: Option<PathBuf>,
        /// NATS user (else AMC_NATS_USER); the password comes from AMC_NATS_PASSWORD or `nats.password`, a token
        /// from AMC_NATS_TOKEN or `nats.token` (never from a flag: flags show in `ps`).
        #[arg(long, value_name = "USER")]
        nats_user: Option<String>,
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
        addr: String,
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
    /// Claude Code's statusLine command: record the statusLine input's context window, cost, rate limits and model
    /// into the session, then print a compact status line (or the output of `--then CMD` run on the same input).
    /// Always exits 0.
    Statusline {
        /// The user's own statusLine command: run with the same stdin, its output printed instead of amc's line.
        #[arg(long, value_name = "CMD")]
        then: Option<String>,
    },
    /// Cost and tokens per project and per day, and the rate-limit windows, from the running server (GET /api/usage),
    /// else from one collection pass here.
    Usage {
        /// Print the JSON of GET /api/usage instead of text.
        #[arg(long)]
        json: bool,
        /// The server to ask.
        #[arg(long, value_name = "ADDR")]
        server: Option<String>,
    },
    /// Notifications: test the configured sinks.
    Notify {
        /// What to do.
        #[command(subcommand)]
        action: NotifyAction,
    },
    /// The sessions in the terminal, live: grouped as the dashboard groups them, with keys to open, filter, jump to
    /// a session's Zellij pane and act on it.
    ///
    /// Connects to --connect, else to the address the local server wrote in the data dir, else to the configured
    /// listen address; sends AMC_TOKEN, else the local server's token file, so actions work (approve a held
    /// permission request, answer a question, dismiss). Keys: arrows or j/k move, Enter opens (questions, the
    /// whole message, the rules behind the session), / filters, g focuses the session's Zellij pane (Zellij 0.44 or
    /// newer), a approve, d deny, 1-9 answer, x dismiss, q quits.
    Top {
        /// The server's URL (http://host:port), e.g. a remote or hub server through an SSH tunnel.
        #[arg(long, value_name = "URL")]
        connect: Option<String>,
        /// Print one plain-text table of the current state and exit (for scripts).
        #[arg(long)]
        once: bool,
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
    /// Run `amc serve` at login: a systemd user unit (Linux) or a launchd agent (macOS).
    Service {
        /// What to do with the service.
        #[command(subcommand)]
        action: ServiceAction,
        /// Print the file and the commands instead of writing or running anything.
        #[arg(long, global = true)]
        dry_run: bool,
        /// The service manager (default: launchd on macOS, systemd elsewhere).
        #[arg(long, value_enum, global = true)]
        platform: Option<service::Platform>,
    },
    /// Check why sessions might not show up (hooks, server, Zellij, data dir, inotify, transcripts, clock, token);
    /// prints a fix for each problem and exits 1 when a check failed.
    Doctor {
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script: `amc completions bash > ~/.local/share/bash-completion/completions/amc`,
    /// `amc completions zsh > ~/.zfunc/_amc`, `amc completions fish > ~/.config/fish/completions/amc.fish`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (amc.1) on stdout, or write amc.1 and one page per subcommand into a directory.
    Man {
        /// Write the pages into this directory instead.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// `amc service` actions.
#[derive(Debug, Subcommand)]
#[deny(missing_docs)]
pub enum ServiceAction {
    /// Write the unit (or plist) and start the service now and at every login; idempotent (a changed file is shown
    /// as a diff and replaced).
    Install,
    /// Stop the service and remove its file.
    Uninstall,
    /// Show whether the service is installed and running; exits 1 when it is not.
    Status,
}

/// The environment variables `amc serve` reads, for `amc serve --help`.
fn serve_env_help() -> String {
    let mut out = String::from(
        "Environment (each also a key in the config file; precedence: flag > environment > file > default):\n",
    );
    for setting in config::SETTINGS {
        let default = if setting.default.is_empty() {
            String::new()
        } else {
            format!(" [default: {}]", setting.default)
        };
        out.push_str(&format!(
            "  {:<24} {}{default} (file key: {})\n",
            setting.env, setting.help, setting.key
        ));
    }
    out.push_str("  RUST_LOG                 log filter, e.g. debug or amc=debug [default: info]\n");
    out.push_str("  NO_COLOR                 no colour in text logs, even on a terminal\n");
    out
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
        /// Claude: also make `amc statusline` the statusLine command (a command already there is kept as --then).
        #[arg(long)]
        statusline: bool,
        /// Claude: also point Claude Code's OpenTelemetry export (logs and metrics, OTLP/gRPC) at amc's port
        /// (AMC_LISTEN); amc must run with AMC_OTLP=on.
        #[arg(long)]
        otel: bool,
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

/// Runs the parsed command line; `Ok` carries the exit code (commands that report problems, `amc doctor`, exit 1
/// without an error message of their own).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config_file = cli.config.clone();
    match cli.command {
        Command::Doctor { json } => {
            let layers =
                config::Layers::load(config::settings::process_env(), config_file, []).map_err(|e| e.to_string());
            let findings = doctor::run(layers);
            if json {
                let value = serde_json::json!({ "ok": doctor::passed(&findings), "checks": findings });
                print_stdout(&serde_json::to_string_pretty(&value)?)?;
            } else {
                print_stdout(doctor::text(&findings).trim_end())?;
            }
            Ok(if doctor::passed(&findings) {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "amc", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Man { out_dir } => {
            match out_dir {
                Some(dir) => {
                    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
                    clap_mangen::generate_to(Cli::command(), &dir)
                        .with_context(|| format!("writing the man pages into {}", dir.display()))?;
                }
                None => clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout())?,
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Service {
            action,
            dry_run,
            platform,
        } => {
            let inputs = service::Inputs::from_process(config_file)?;
            let plan = service::plan(platform.unwrap_or_else(service::Platform::native), &inputs);
            match action {
                ServiceAction::Install => service::install(&plan, dry_run)?,
                ServiceAction::Uninstall => service::uninstall(&plan, dry_run)?,
                ServiceAction::Status => service::status(&plan, dry_run)?,
            }
            Ok(ExitCode::SUCCESS)
        }
        command => run_command(command, config_file).map(|()| ExitCode::SUCCESS),
    }
}

fn run_command(command: Command, config_file: Option<PathBuf>) -> anyhow::Result<()> {
    let layers = |flags: Vec<(&'static str, String)>| {
        config::Layers::load(config::settings::process_env(), config_file.clone(), flags)
    };
    match command {
        Command::Serve {
            listen,
            cors_origins,
            allowed_hosts,
            addr_file,
            nats,
            host,
            fleet,
            nats_creds,
            nats_tls_ca,
            nats_user,
        } => {
            let path = |p: Option<PathBuf>| p.map(|p| p.display().to_string());
            let flags: Vec<(&'static str, String)> = [
                ("listen", listen.map(|l| l.to_string())),
                ("nats.url", nats),
                ("host", host),
                ("fleet.hub", fleet.then(|| "true".to_owned())),
                ("nats.creds", path(nats_creds)),
                ("nats.tls_ca", path(nats_tls_ca)),
                ("nats.user", nats_user),
            ]
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key, v)))
            .collect();
            let mut flags = flags;
            if !allowed_hosts.is_empty() {
                flags.push(("allowed_hosts", allowed_hosts.join(",")));
            }
            let layers = layers(flags)?;
            let config = Config::from_layers(&layers).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
            if let Some(error) = &config.prices_error {
                tracing::error!(%error, "the price table file (AMC_PRICES) is not usable; using the built-in prices");
            }
            serve::serve(config, cors_origins, addr_file)
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
            let addr = config::parse_listen(addr.trim()).map_err(|e| anyhow::anyhow!("--addr {addr:?}: {e}"))?;
            let explanation = explain(&config, &session_id, (!local).then_some(addr))?;
            let text = if json {
                serde_json::to_string_pretty(&explanation.to_json())?
            } else {
                explanation_text(&explanation)
            };
            print_stdout(&text)
        }
        Command::Top { connect, once } => {
            let layers = layers(Vec::new())?;
            let config = Config::from_layers(&layers).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
            crate::top::run(&config, &crate::top::Options { connect, once })
        }
        Command::Audit { limit, json } => {
            let lines = server::audit::read_tail(&Paths::from_env().audit_log(), limit);
            let text: Vec<String> = lines
                .iter()
                .map(|line| if json { line.to_string() } else { audit_text(line) })
                .collect();
            print_stdout(&text.join("\n"))
        }
        Command::Statusline { then } => {
            usage_statusline(then.as_deref());
            Ok(())
        }
        Command::Usage { json, server } => {
            let layers = layers(Vec::new())?;
            let config = Config::from_layers(&layers).map_err(|e| anyhow::anyhow!("configuration: {e}"))?;
            let addr = match server {
                Some(text) => text
                    .parse()
                    .with_context(|| format!("--server {text:?} is not an address"))?,
                None => config.listen,
            };
            let answer = usage::usage(&config, Some(addr))?;
            let text = if json {
                serde_json::to_string_pretty(&wire::spend::usage_json(&answer))?
            } else {
                usage::text(&answer, SystemTime::now())
            };
            print_stdout(&text)
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
        Command::Doctor { .. } | Command::Completions { .. } | Command::Man { .. } | Command::Service { .. } => {
            anyhow::bail!("handled by run")
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
                statusline: false,
                otel: None,
            };
            match action {
                HooksAction::Install {
                    settings,
                    dry_run,
                    statusline,
                    otel,
                } => {
                    let endpoint = otel.then(|| format!("http://{}", Config::from_env().listen));
                    hook::install::install(&hook::install::HooksOptions {
                        statusline,
                        otel: endpoint,
                        ..options(settings, dry_run)
                    })
                }
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
    let sessions: Vec<&crate::model::SessionJson> = pass.sessions.iter().map(|s| &**s).collect();
    let payload = wire::api_state(&sessions, SystemTime::now(), None);
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

/// `amc statusline`: fail-open, so the paths come from the environment without the config file.
fn usage_statusline(then: Option<&str>) {
    hook::statusline::run(&Paths::from_env(), then);
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

/// A StateService client of the server at `addr` and `message` as a request carrying `token`; `None` when nothing
/// answers there.
async fn connect<T>(
    addr: SocketAddr,
    token: Option<&str>,
    message: T,
) -> anyhow::Result<
    Option<(
        pb::state_service_client::StateServiceClient<tonic::transport::Channel>,
        tonic::Request<T>,
    )>,
> {
    let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))?
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(10));
    let Ok(channel) = endpoint.connect().await else {
        return Ok(None);
    };
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        let value = format!("Bearer {token}")
            .parse()
            .context("AMC_TOKEN cannot be sent as a header")?;
        request.metadata_mut().insert("authorization", value);
    }
    Ok(Some((
        pb::state_service_client::StateServiceClient::new(channel),
        request,
    )))
}

/// Asks the server at `addr`; `None` when nothing answers there.
async fn explain_remote(addr: SocketAddr, token: Option<&str>, id: &str) -> anyhow::Result<Option<Explanation>> {
    let Some((mut client, request)) = connect(
        addr,
        token,
        pb::ExplainSessionRequest {
            session_id: id.to_owned(),
        },
    )
    .await?
    else {
        return Ok(None);
    };
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
