//! One port for everything: gRPC (h2c), gRPC-Web (tonic-web, on the gRPC routes only), reflection v1 and v1alpha,
//! `grpc.health.v1`, the `/api/*` JSON and SSE shim, `/metrics` ([`metrics`]), and the dashboard; every route behind
//! the one access layer ([`auth::require_token`]: the `Host` check of [`host`], then the tokens), and every request
//! through [`observe`] (a log span, the request counter).
//!
//! [`run`] takes a bound listener and a shutdown token: `main` binds the configured address, tests bind
//! `127.0.0.1:0`. Nothing here reads the environment.

pub mod action_service;
pub mod actions;
pub mod approvals;
pub mod audit;
pub mod auth;
pub mod dashboard;
pub mod events;
pub mod fleet;
pub mod grpc;
pub mod host;
pub mod http;
pub mod limit;
pub mod listener;
pub mod metrics;
pub mod observe;
pub mod otlp;
pub mod pane;
pub mod watch_slots;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::http::{header::HeaderName, HeaderValue, Method};
use tokio::net::{TcpListener, TcpSocket};
use tokio_util::sync::CancellationToken;
use tonic::{codec::CompressionEncoding, service::Routes, transport::Server};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{
    config::{Limits, Paths},
    error::Error,
    notify::NotifyHandle,
    proto,
    publisher::StateHandle,
};

/// What the server needs besides the listener.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Paths (for event logs).
    pub paths: Arc<Paths>,
    /// Quiet interval before a WatchState heartbeat.
    pub heartbeat: Duration,
    /// Interval of SSE `: ping` comments.
    pub sse_ping: Duration,
    /// How long to wait for connections to drain after shutdown starts.
    pub grace: Duration,
    /// Extra browser origins allowed to call gRPC-Web (loopback origins are always allowed).
    pub cors_origins: Vec<String>,
    /// The notifier that `Ack` silences; `None` when notifications do not run.
    pub notify: Option<NotifyHandle>,
    /// The tokens, their scopes and the names mutating requests may use (see [`auth`]).
    pub access: Arc<auth::Access>,
    /// Actions per second per token and per session.
    pub action_rate: u32,
    /// Whether every PermissionRequest hook waits for a decision (else only remote-approval sessions').
    pub approvals_hold_always: bool,
    /// How long a held PermissionRequest hook waits.
    pub approval_wait: Duration,
    /// Whether the OTLP receiver runs (`AMC_OTLP=on`).
    pub otlp: bool,
    /// The fleet (`--nats`): answer action requests on this host's subject; on a hub, route actions and serve
    /// `/api/hosts`.
    pub fleet: Option<fleet::FleetLink>,
    /// Connections, headers, bodies, streams and reads (see [`listener`] and `config::Limits`).
    pub limits: Limits,
}

/// The listen backlog of [`bind`]. tokio's `TcpListener::bind` uses 128: a burst of clients connecting at once (a
/// thousand watchers reconnecting after a restart) overflowed that queue, and some got connection resets. The kernel
/// caps it at `net.core.somaxconn` (4096 by default).
pub const LISTEN_BACKLOG: u32 = 1024;

/// Binds a listener on `addr` with [`LISTEN_BACKLOG`] (and `SO_REUSEADDR`, like `TcpListener::bind`). Call it inside
/// the tokio runtime.
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Serves everything on `listener` until `shutdown` is cancelled, then drains for at most `options.grace`.
pub async fn run(
    listener: TcpListener,
    state: StateHandle,
    options: ServerOptions,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    // The process ("") serves at once; `amc.v1.StateService` reports NOT_SERVING while the first collection pass runs
    // (its state is then an empty placeholder, `"warming": true` in `/api/health`), and SERVING from the first full
    // state on: gRPC clients that care can wait for it with `Health/Watch`.
    health_reporter.set_not_serving::<grpc::StateServer>().await;
    let warm = {
        let (state, reporter, shutdown) = (state.clone(), health_reporter.clone(), shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => {}
                () = state.warmed() => reporter.set_serving::<grpc::StateServer>().await,
            }
        })
    };

    let audit = Arc::new(audit::AuditLog::new(options.paths.audit_log()));
    let mut limits = options.limits.clone();
    // A held PermissionRequest waits silently for up to `approval_wait`: the idle timeout never cuts it short.
    limits.idle_timeout = limits.idle_timeout.max(options.approval_wait + Duration::from_secs(60));
    let watches = watch_slots::WatchSlots::new(limits.watches_per_client);
    let service = grpc::StateServiceImpl::new(state.clone(), shutdown.clone(), options.heartbeat)
        .with_notify(options.notify.clone())
        .with_watch_slots(watches.clone())
        .with_audit(audit.clone());
    let state_server = grpc::StateServer::new(service)
        .max_decoding_message_size(limits.grpc_message_bytes)
        .accept_compressed(CompressionEncoding::Gzip)
        .send_compressed(CompressionEncoding::Gzip);
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()?;

    let actions = Arc::new(
        actions::Actions::new(
            options.paths.clone(),
            state.clone(),
            audit.clone(),
            options.action_rate,
            options.approvals_hold_always,
        )
        .with_approval_wait(options.approval_wait)
        .with_shutdown(shutdown.clone())
        .with_fleet(options.fleet.as_ref().and_then(|link| {
            link.hub.as_ref().map(|view| actions::FleetRouting {
                router: crate::fleet::act::Router::new(link.client.clone(), link.host.clone()),
                view: view.clone(),
                own_host: link.host.clone(),
            })
        })),
    );
    if let Some(link) = &options.fleet {
        fleet::spawn_responder(link, actions.clone(), shutdown.clone());
    }
    let action_server =
        proto::action_service_server::ActionServiceServer::new(action_service::ActionServiceImpl::new(actions.clone()))
            .max_decoding_message_size(limits.grpc_message_bytes)
            .accept_compressed(CompressionEncoding::Gzip)
            .send_compressed(CompressionEncoding::Gzip);

    let mut grpc_routes = Routes::builder();
    grpc_routes
        .add_service(state_server)
        .add_service(action_server)
        .add_service(health_service.accept_compressed(CompressionEncoding::Gzip))
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha);
    let otlp_receiver = options.otlp.then(|| otlp::Receiver::new(options.paths.clone()));
    if let Some(receiver) = &otlp_receiver {
        let (logs, metrics) = otlp::grpc_services(receiver.clone());
        grpc_routes.add_service(logs).add_service(metrics);
    }
    // gRPC-Web and CORS go on the gRPC routes only: GrpcWebLayer answers 400 to any other HTTP/1.1 request.
    let grpc = grpc_routes
        .routes()
        .into_axum_router()
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(cors(&options.cors_origins));

    let http_state = http::HttpState {
        state,
        shutdown: shutdown.clone(),
        paths: options.paths.clone(),
        ping: options.sse_ping,
        limits: Arc::new(limits.clone()),
        reads: Arc::new(tokio::sync::Semaphore::new(limits.request_reads.max(1))),
        watches,
    };
    let api = http::router(http_state.clone())
        .merge(metrics::router(http_state.clone()))
        .merge(events::router(http_state, options.notify.clone(), audit.clone()));
    let gate = auth::Gate {
        hosts: Arc::new(host::HostCheck::new(listener.local_addr()?, options.access.hosts())),
        access: options.access.clone(),
        audit,
    };
    let api = match otlp_receiver {
        Some(receiver) => api.merge(otlp::http_router(receiver)),
        None => api,
    };
    let api = match options.fleet.as_ref().and_then(|link| link.hub.clone()) {
        Some(view) => api.merge(fleet::router(view)),
        None => api,
    };
    let app = api
        .merge(actions::router(actions))
        .merge(dashboard::router())
        .merge(grpc)
        .fallback(http::not_found)
        .layer(axum::middleware::from_fn_with_state(gate, auth::require_token))
        .layer(axum::extract::DefaultBodyLimit::max(limits.body_bytes))
        .layer(axum::middleware::from_fn_with_state(limits.header_bytes, limit_headers))
        .layer(axum::middleware::from_fn(observe::observe));

    let incoming = listener::incoming(listener, &limits);
    let signal = {
        let shutdown = shutdown.clone();
        let reporter = health_reporter.clone();
        async move {
            shutdown.cancelled().await;
            // The warm-up task ends on shutdown too; waiting for it means it cannot report SERVING after this.
            let _ = warm.await;
            reporter.set_not_serving::<grpc::StateServer>().await;
            reporter
                .set_service_status("", tonic_health::ServingStatus::NotServing)
                .await;
        }
    };
    let server = Server::builder()
        .accept_http1(true)
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .max_concurrent_streams(limits.streams_per_connection)
        .http2_max_header_list_size(u32::try_from(limits.header_bytes).unwrap_or(u32::MAX))
        .add_routes(Routes::from(app))
        .serve_with_incoming_shutdown(incoming, signal);
    tokio::pin!(server);
    // tonic's drain waits for every connection to close; bound it so shutdown always finishes.
    tokio::select! {
        result = &mut server => result?,
        () = async { shutdown.cancelled().await; tokio::time::sleep(options.grace).await } => {
            tracing::warn!(grace = ?options.grace, "connections did not drain in time; exiting anyway");
        }
    }
    Ok(())
}

/// Refuses a request whose headers and URI together are longer than `max` bytes: 431 (gRPC `RESOURCE_EXHAUSTED`).
async fn limit_headers(
    axum::extract::State(max): axum::extract::State<usize>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    let size = request.uri().to_string().len()
        + request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if size <= max {
        return next.run(request).await;
    }
    tracing::info!(size, max, "request headers over limits.header_bytes refused");
    let is_grpc = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"));
    let error = Error::HeadersTooLarge(size);
    if is_grpc {
        tonic::Status::from(error)
            .into_http::<axum::body::Body>()
            .into_response()
    } else {
        error.into_response()
    }
}

/// An SSE response with `body`: `text/event-stream`, not cached, not buffered by proxies.
fn sse_response(body: axum::body::Body) -> axum::response::Response {
    use axum::http::header;
    let mut response = axum::response::Response::new(body);
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

/// CORS for gRPC-Web callers: loopback origins and the configured ones, never a blanket `*`.
fn cors(extra: &[String]) -> CorsLayer {
    let extra: Vec<String> = extra.to_vec();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            let Ok(origin) = origin.to_str() else { return false };
            is_loopback_origin(origin) || extra.iter().any(|o| o == origin)
        }))
        .allow_methods([Method::POST, Method::OPTIONS])
        .allow_headers([
            HeaderName::from_static("x-grpc-web"),
            HeaderName::from_static("content-type"),
            HeaderName::from_static("x-user-agent"),
            HeaderName::from_static("grpc-timeout"),
            HeaderName::from_static("authorization"),
        ])
        .expose_headers([
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
        ])
        .max_age(Duration::from_secs(24 * 60 * 60))
}

/// Returns whether a browser origin is served from this machine (`http://localhost:*`, `http://127.0.0.1:*`,
/// `http://[::1]:*`).
fn is_loopback_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
    else {
        return false;
    };
    let host = if let Some(v6) = rest.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        rest.split(':').next().unwrap_or_default()
    };
    host == "localhost" || host == "::1" || host.parse::<std::net::Ipv4Addr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::is_loopback_origin;

    #[test]
    fn only_loopback_origins_pass() {
        for ok in [
            "http://localhost:5173",
            "http://127.0.0.1:7400",
            "http://[::1]:80",
            "https://localhost",
        ] {
            assert!(is_loopback_origin(ok), "{ok}");
        }
        for bad in [
            "http://evil.example",
            "http://localhost.evil.example",
            "null",
            "http://10.0.0.1:7400",
            "file://",
        ] {
            assert!(!is_loopback_origin(bad), "{bad}");
        }
    }
}
