//! `amc serve`: binds, starts the publisher, the notifier and the server, and prints the dashboard's URL once the
//! first state is ready.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use super::logging;
use crate::{
    config::{self, Config},
    fleet, notify, publisher, server, shutdown,
};

/// The dashboard's URL for a server bound to `addr`: loopback for an unspecified address, and with the `local` token
/// in the fragment (the browser keeps it; it is never sent in a request line) when there is one.
fn dashboard_url(addr: SocketAddr, local_token: Option<&str>) -> String {
    let host = match addr.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    match local_token {
        Some(token) => format!("http://{host}:{}/#access_token={token}", addr.port()),
        None => format!("http://{host}:{}/", addr.port()),
    }
}

pub fn serve(config: Config, cors_origins: Vec<String>, addr_file: Option<PathBuf>) -> anyhow::Result<()> {
    let listen = config.listen;
    if !config::is_loopback(&listen) {
        if config.named_tokens().is_empty() {
            anyhow::bail!(
                "refusing to listen on non-loopback address {listen} without a token: set AMC_TOKEN to a secret, \
                 or listen on 127.0.0.1"
            );
        }
        server::auth::check_token_strength(&config.named_tokens())
            .map_err(|problem| anyhow::anyhow!("refusing to listen on non-loopback address {listen}: {problem}"))?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    runtime.block_on(async move {
        let listener = server::bind(listen).with_context(|| format!("binding {listen}"))?;
        let addr = listener.local_addr()?;
        let shutdown = CancellationToken::new();
        let local_state = publisher::start(config.clone(), shutdown.clone()).await;
        // The fleet: this host's sessions mirrored into the bucket; a hub serves the union of every host instead of
        // its own state (its own host is in the bucket too).
        let mut fleet_link = None;
        let state = match &config.fleet.nats_url {
            None => local_state,
            Some(url) => {
                let client = fleet::connect(&config.fleet).await.context("connecting to NATS")?;
                tracing::info!(nats = %url, host = %config.fleet.host, hub = config.fleet.hub, "fleet: joining");
                tokio::spawn(fleet::publish::run(client.clone(), local_state.clone(), config.fleet.clone(), shutdown.clone()));
                let (state, hub) = if config.fleet.hub {
                    let (state, publisher) = publisher::StateHandle::external(&config);
                    let view = fleet::hub::start(client.clone(), publisher, config.fleet.clone(), shutdown.clone());
                    (state, Some(view))
                } else {
                    (local_state, None)
                };
                fleet_link = Some(server::fleet::FleetLink { client, host: config.fleet.host.clone(), hub });
                state
            }
        };
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
        let dashboard = dashboard_url(addr, local.as_deref());
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
            otlp: config.otlp,
            fleet: fleet_link,
            limits: config.limits.clone(),
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
        if !state.is_warming() {
            let sessions = state.current().sessions.len();
            tracing::info!(sessions, "first state published");
            if logging::is_json() {
                tracing::info!(%dashboard, sessions, "amc is ready: open the dashboard");
            } else {
                eprintln!("amc is ready ({sessions} session(s)): open the dashboard at {dashboard}");
            }
        }
        if let Some(file) = addr_file.as_ref().filter(|_| !state.is_warming()) {
            crate::store::write_atomic(file, addr.to_string().as_bytes())
                .with_context(|| format!("writing the address to {}", file.display()))?;
        }
        server.await?;
        tracing::info!("amc stopped");
        Ok(())
    })
}
