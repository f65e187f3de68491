//! `GET /api/stream/events`: the event ring as Server-Sent Events, the HTTP twin of `WatchEvents`.
//!
//! Each event is one frame, `id: <event id>`, `event: <kind>` (`attention_raised`, …), `data: <event JSON>`; a
//! `: ping` comment goes out every ping interval. A reconnecting `EventSource` sends `Last-Event-ID` and gets every
//! kept event after it (also across a server restart: ids keep growing). Without it, `?since=<id>` replays from
//! there (`since=1`: everything kept); without either, only new events are sent. Optional filters, comma-separated:
//! `session_ids`, `agents` (`claude`, `codex`) and `kinds` (event kind names).

use std::convert::Infallible;

use axum::{
    body::Body,
    extract::{rejection::QueryRejection, Query, State},
    http::HeaderMap,
    response::Response,
    routing::get,
    Router,
};
use bytes::Bytes;

use super::http::HttpState;
use crate::{error::Error, wire};

/// `/api/stream/events`'s query (`access_token` is checked by the auth layer).
#[derive(Debug, Default, serde::Deserialize)]
pub struct EventsQuery {
    since: Option<u64>,
    session_ids: Option<String>,
    agents: Option<String>,
    kinds: Option<String>,
}

/// Returns the `/api/stream/events` router.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/api/stream/events", get(api_stream_events))
        .with_state(state)
}

/// The handler.
pub async fn api_stream_events(
    State(http): State<HttpState>,
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
    let shutdown = http.shutdown.clone();
    let ping = http.ping;
    let stream = async_stream::stream! {
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
