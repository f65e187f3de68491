//! `amc top`: the sessions in the terminal, from the server's own typed stream (`WatchState` with deltas).
//!
//! - [`feed`]: the watch (deltas applied, resumed with `since_revision` after a reconnect, backoff while away);
//! - [`view`]: the dashboard's groups and each session's columns, and the `--once` table (pure);
//! - [`draw`]: the screen's lines (pure);
//! - [`tui`]: the screen (ratatui + crossterm): keys, expansion, filter, actions, the jump to a Zellij pane.

pub mod draw;
pub mod feed;
pub mod tui;
pub mod view;

use std::{io::IsTerminal as _, time::Duration, time::SystemTime};

use anyhow::Context as _;
use tonic::transport::{Channel, Endpoint};

use crate::{config::Config, proto as pb};

/// How long connecting may take before the attempt counts as failed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
/// The deadline of one unary call (GetState, ExplainSession, an action); never of the watch.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where `amc top` connects, and with which token.
#[derive(Debug, Clone)]
pub struct Target {
    /// The server's URL (`http://127.0.0.1:7400`).
    pub url: String,
    token: Option<String>,
    endpoint: Endpoint,
}

impl Target {
    /// The server at `url` (`http://host:port`, or `host:port`), with `token` sent as `Authorization: Bearer`.
    pub fn new(url: &str, token: Option<String>) -> anyhow::Result<Target> {
        let url = if url.contains("://") {
            url.to_owned()
        } else {
            format!("http://{url}")
        };
        if !url.starts_with("http://") {
            anyhow::bail!("{url}: amc top speaks plain http:// only (reach a remote server through an SSH tunnel)");
        }
        let endpoint = Endpoint::from_shared(url.clone())
            .with_context(|| format!("{url} is not a server URL"))?
            .connect_timeout(CONNECT_TIMEOUT)
            .http2_keep_alive_interval(Duration::from_secs(20))
            .keep_alive_timeout(Duration::from_secs(10));
        Ok(Target { url, token, endpoint })
    }

    /// Whether a token goes with each call.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// A new connection.
    pub async fn connect(&self) -> anyhow::Result<Channel> {
        self.endpoint
            .connect()
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to {}: {}", self.url, error_chain(&e)))
    }

    /// A channel that connects on first use and reconnects by itself (for the unary calls).
    pub fn lazy(&self) -> Channel {
        self.endpoint.connect_lazy()
    }

    /// A StateService client on a new connection.
    pub async fn state_client(&self) -> anyhow::Result<pb::state_service_client::StateServiceClient<Channel>> {
        Ok(pb::state_service_client::StateServiceClient::new(self.connect().await?))
    }

    /// `message` as a request carrying the token.
    pub fn request<T>(&self, message: T) -> anyhow::Result<tonic::Request<T>> {
        let mut request = tonic::Request::new(message);
        if let Some(token) = &self.token {
            let value = format!("Bearer {token}")
                .parse()
                .context("the token cannot be sent as a header")?;
            request.metadata_mut().insert("authorization", value);
        }
        Ok(request)
    }

    /// `message` as a unary request: the token and a deadline.
    pub fn unary<T>(&self, message: T) -> anyhow::Result<tonic::Request<T>> {
        let mut request = self.request(message)?;
        request.set_timeout(CALL_TIMEOUT);
        Ok(request)
    }
}

/// An error and its causes on one line.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The options of `amc top`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `--connect URL`; else the address the local server wrote in the data dir, else the configured listen address.
    pub connect: Option<String>,
    /// `--once`: print one table and exit.
    pub once: bool,
}

/// Where to connect and with which token: `--connect` with AMC_TOKEN; else the local server (the address it wrote
/// in the data dir, else the configured listen address) with AMC_TOKEN, else the data dir's local token.
pub fn target(config: &Config, options: &Options) -> anyhow::Result<Target> {
    if let Some(url) = &options.connect {
        return Target::new(url, config.token.clone());
    }
    let mut addr = config.paths.written_addr().unwrap_or(config.listen);
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let token = config
        .token
        .clone()
        .or_else(|| config.paths.local_token().filter(|t| t.len() >= 16));
    Target::new(&format!("http://{addr}"), token)
}

/// Runs `amc top`.
pub fn run(config: &Config, options: &Options) -> anyhow::Result<()> {
    let target = target(config, options)?;
    if options.once {
        return once(&target);
    }
    if !std::io::stdout().is_terminal() {
        anyhow::bail!("amc top needs a terminal (use `amc top --once` for a plain table)");
    }
    tui::run(target, config.paths.zellij_bin.clone())
}

/// `--once`: the latest state as one plain-text table on stdout, as wide as the terminal (unlimited into a pipe).
fn once(target: &Target) -> anyhow::Result<()> {
    use std::io::Write as _;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let state = runtime.block_on(async {
        let mut client = target.state_client().await?;
        let response = client
            .get_state(target.unary(pb::GetStateRequest { filter: None })?)
            .await
            .map_err(|status| anyhow::anyhow!("{}: {}", target.url, feed::status_text(&status)))?;
        anyhow::Ok(response.into_inner().state.unwrap_or_default())
    })?;
    let width = match std::io::stdout().is_terminal() {
        true => crossterm::terminal::size().map_or(80, |(w, _)| usize::from(w)),
        false => usize::MAX,
    };
    let held = feed::Held::from_state(state);
    let text = view::table(&held.sessions, held.revision, SystemTime::now(), width);
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing to stdout"),
    }
}
