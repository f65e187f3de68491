//! `GET /api/stream/events`: the event ring as Server-Sent Events, the HTTP twin of `WatchEvents`; and
//! `POST /api/sessions/{id}/ack`, the twin of `Ack`.
//!
//! Each event is one frame, `id: <event id>`, `event: <kind>` (`attention_raised`, …), `data: <event JSON>`; a
//! `: ping` comment goes out every ping interval. A reconnecting `EventSource` sends `Last-Event-ID` and gets every
//! kept event after it (also across a server restart: ids keep growing). Without it, `?since=<id>` replays from
//! there (`since=1`: everything kept); without either, only new events are sent. Optional filters, comma-separated:
//! `session_ids`, `agents` (`claude`, `codex`) and `kinds` (event kind names).

use std::convert::Infallible;

use axum::{
    body::Body,
    extract::{rejection::QueryRejection, Path, Query, State},
    http::HeaderMap,
    response::Response,
    routing::{get, post},
    Router,
};
use bytes::Bytes;

use std::sync::Arc;

use axum::Extension;

use super::{audit::AuditLog, auth::Caller, http::HttpState};
use crate::{error::Error, notify::NotifyHandle, wire};

/// What `POST /api/sessions/{id}/ack` and `GET /api/notify` need.
type NotifyState = (HttpState, Option<NotifyHandle>, Arc<AuditLog>);

/// `/api/stream/events`'s query (`access_token` is checked by the auth layer).
#[derive(Debug, Default, serde::Deserialize)]
pub struct EventsQuery {
    since: Option<u64>,
    session_ids: Option<String>,
    agents: Option<String>,
    kinds: Option<String>,
}

/// Returns the router of `/api/stream/events` and `POST /api/sessions/{id}/ack` (audited in `audit`).
pub fn router(state: HttpState, notify: Option<NotifyHandle>, audit: Arc<AuditLog>) -> Router {
    Router::new()
        .route("/api/stream/events", get(api_stream_events))
        .with_state(state.clone())
        .merge(
            Router::new()
                .route("/api/sessions/{id}/ack", post(api_ack))
                .route("/api/notify", get(api_notify))
                .with_state((state, notify, audit)),
        )
}

/// `GET /api/notify`: the notification policy, `{"enabled", "dwell_ms", "cooldown_ms"}` (the dashboard's browser
/// notifications follow it).
async fn api_notify(State((_, notify, _)): State<NotifyState>) -> axum::Json<serde_json::Value> {
    let (dwell, cooldown) = notify.as_ref().map_or((5_000, 60_000), |n| {
        let (d, c) = n.policy();
        (d.as_millis(), c.as_millis())
    });
    axum::Json(serde_json::json!({ "enabled": notify.is_some(), "dwell_ms": dwell, "cooldown_ms": cooldown }))
}

/// `POST /api/sessions/{id}/ack`: the HTTP twin of the `Ack` RPC (scope `act`); answers
/// `{"session_id", "acknowledged"}`, 404 for an unknown session.
async fn api_ack(
    State((http, notify, audit)): State<NotifyState>,
    caller: Option<Extension<Caller>>,
    Path(id): Path<String>,
) -> Result<axum::Json<serde_json::Value>, Error> {
    let caller = caller.map(|Extension(c)| c).unwrap_or_default();
    let acknowledged = super::grpc::acknowledge(&http.state, notify.as_ref(), Some(&audit), &caller, &id)?;
    Ok(axum::Json(
        serde_json::json!({ "session_id": id, "acknowledged": acknowledged }),
    ))
}

/// The handler.
pub async fn api_stream_events(
    State(http): State<HttpState>,
    caller: Option<axum::Extension<super::auth::Caller>>,
    headers: HeaderMap,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|rejection| Error::InvalidArgument(rejection.body_text()))?;
    let filter = wire::EventFilter::from_query(
        query.session_ids.as_deref(),
        query.agents.as_deref(),
        query.kinds.as_deref(),
    )?;
    let last_event_id: Option<u64> = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let log = http.state.events().clone();
    let start = last_event_id
        .or(query.since.map(|s| s.saturating_sub(1)))
        .unwrap_or_else(|| log.newest_id());
    let mut cursor = log.cursor(start);
    let client = caller.and_then(|axum::Extension(caller)| caller.remote).map(|a| a.ip());
    let slot = http.watches.take(client)?;
    let shutdown = http.shutdown.clone();
    let ping = http.ping;
    let stream = async_stream::stream! {
        let _slot = slot;
        yield Ok::<Bytes, Infallible>(Bytes::from_static(b"retry: 2000\n\n"));
        let mut next_ping = Box::pin(tokio::time::sleep(ping));
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                batch = cursor.next_batch() => {
                    let Some(batch) = batch else { break };
                    let mut frames = Vec::new();
                    for event in batch.iter().filter(|e| filter.matches(e)) {
                        frames.extend_from_slice(format!("id: {}\nevent: {}\ndata: ", event.id, event.kind.as_str()).as_bytes());
                        frames.extend_from_slice(&wire::event_json(event));
                        frames.extend_from_slice(b"\n\n");
                    }
                    if !frames.is_empty() {
                        yield Ok(Bytes::from(frames));
                    }
                }
                () = &mut next_ping => {
                    next_ping.as_mut().reset(tokio::time::Instant::now() + ping);
                    yield Ok(Bytes::from_static(b": ping\n\n"));
                }
            }
        }
    };
    Ok(super::sse_response(Body::from_stream(stream)))
}
