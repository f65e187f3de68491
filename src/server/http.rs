//! The HTTP shim that keeps the original's JSON: `/api/state`, `/api/stream` (SSE), `/api/events/{id}`,
//! `/api/health`, amc's own `/api/sessions/{id}/explain`, and the JSON 404 for everything else.

use std::{convert::Infallible, sync::Arc, time::SystemTime};

use axum::{
    body::Body,
    extract::{rejection::QueryRejection, Path, Query, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use bytes::Bytes;
use tokio_util::sync::CancellationToken;

use crate::{
    bounded::Refused,
    config::{Limits, Paths},
    error::Error,
    publisher::StateHandle,
    sources::event_log::{self, PageRequest},
    store,
    wire::Snapshot,
};

/// What the HTTP handlers share.
#[derive(Debug, Clone)]
pub struct HttpState {
    /// The published state.
    pub state: StateHandle,
    /// Ends every SSE stream on shutdown.
    pub shutdown: CancellationToken,
    /// Where event logs live.
    pub paths: Arc<Paths>,
    /// Interval of `: ping` comments.
    pub ping: std::time::Duration,
    /// The limits (event pages, streams per client).
    pub limits: Arc<Limits>,
    /// The file reads requests may run at once (`limits.request_reads`): requests wait for a permit, the collector
    /// never does (it has its own thread).
    pub reads: Arc<tokio::sync::Semaphore>,
    /// Open SSE streams per client address.
    pub watches: super::watch_slots::WatchSlots,
}

/// Returns the `/api/*` router.
pub fn router(state: HttpState) -> Router {
    Router::new()
        .route("/api/state", get(api_state))
        .route("/api/stream", get(api_stream))
        .route("/api/health", get(api_health))
        .route("/api/usage", get(api_usage))
        .route("/api/events/{id}", get(api_events))
        .route("/api/sessions/{id}/explain", get(api_explain))
        .with_state(state)
}

async fn api_state(State(http): State<HttpState>) -> Response {
    let body = http.state.current().api_json(SystemTime::now());
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn api_usage(State(http): State<HttpState>) -> Json<serde_json::Value> {
    let snapshot = http.state.current();
    let usage = crate::wire::spend::usage(&snapshot.proto_sessions, SystemTime::now());
    Json(crate::wire::spend::usage_json(&usage))
}

async fn api_health(State(http): State<HttpState>) -> Json<serde_json::Value> {
    let snapshot = http.state.current();
    let running = http.state.pass_running_for();
    let overdue = running.is_some_and(|d| d > http.limits.pass_overdue);
    let status = if http.shutdown.is_cancelled() {
        "shutting_down"
    } else if overdue {
        "degraded"
    } else {
        "ok"
    };
    Json(serde_json::json!({
        "status": status,
        "version": env!("CARGO_PKG_VERSION"),
        "revision": snapshot.revision,
        "instance_id": &*snapshot.instance_id,
        "sessions": snapshot.sessions.len(),
        "warming": snapshot.warming,
        "watch_mode": if http.state.is_polling() { "polling" } else { "events" },
        "passes": http.state.passes(),
        "pass_running_ms": running.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        "unreadable_files": http.state.unreadable_files(),
    }))
}

/// `/api/events/{id}`'s query: `limit` events (default `limits.events_page`, at most `limits.events_page_max`)
/// ending before byte offset `before` (default: the end of the log).
#[derive(Debug, Default, serde::Deserialize)]
pub struct EventsQuery {
    limit: Option<usize>,
    before: Option<u64>,
}

/// One page of a session's event log, newest last: `{"session_id": id, "events": [...], "next_before": offset|null}`
/// (invalid lines skipped, as the original). The log is read backwards from `before` (default: its end), at most
/// `limit` events; `next_before` asks for the page before this one. Only a regular file inside the data dir is
/// read (a FIFO, a device or a symlink out of it is refused, 400, the reason logged).
async fn api_events(
    State(http): State<HttpState>,
    Path(id): Path<String>,
    query: Result<Query<EventsQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|rejection| Error::InvalidArgument(rejection.body_text()))?;
    let path = store::event_log(&http.paths, &id)
        .ok_or_else(|| Error::InvalidArgument(format!("unsafe session id {id:?}")))?;
    let limits = &http.limits;
    let limit = query.limit.unwrap_or(limits.events_page);
    if limit == 0 || limit > limits.events_page_max {
        return Err(Error::InvalidArgument(format!(
            "limit must be 1 to {}",
            limits.events_page_max
        )));
    }
    let request = PageRequest {
        before: query.before,
        limit,
        max_line: limits.event_line_bytes,
    };
    let permit = http
        .reads
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| Error::ShuttingDown)?;
    let root = http.paths.data_dir.clone();
    let read = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let page = event_log::read_page(&path, &root, request);
        (path, page)
    })
    .await
    .map_err(|e| Error::Internal(format!("event log read panicked: {e}")))?;
    let page = match read {
        (_, Ok(page)) => page,
        (_, Err(Refused::NotFound)) => return Err(Error::NotFound(format!("no event log for {id}"))),
        (path, Err(Refused::Io(kind))) => return Err(Error::Internal(format!("reading {}: {kind}", path.display()))),
        (path, Err(refused)) => {
            tracing::warn!(file = %path.display(), reason = %refused, "event log refused");
            return Err(Error::InvalidArgument(format!("the event log of {id} is {refused}")));
        }
    };
    if page.skipped_long > 0 {
        tracing::info!(session = %id, lines = page.skipped_long, "event log lines over limits.event_line_bytes skipped");
    }
    // The page's lines are valid JSON already: not parsed into values again, streamed out in 64 KiB chunks (each
    // line freed once copied, so the page is never held twice).
    let mut head = b"{\"session_id\":".to_vec();
    head.extend_from_slice(&serde_json::to_vec(&id).unwrap_or_default());
    head.extend_from_slice(b",\"events\":[");
    let tail = format!(
        "],\"next_before\":{}}}",
        page.next_before.map_or_else(|| "null".to_owned(), |n| n.to_string())
    );
    let mut lines = page.lines.into_iter().enumerate().peekable();
    let mut first = Some(head);
    let mut last = Some(tail.into_bytes());
    let pieces = std::iter::from_fn(move || {
        const CHUNK: usize = 64 * 1024;
        let mut chunk = first.take().unwrap_or_default();
        while chunk.len() < CHUNK {
            let Some((i, line)) = lines.next() else { break };
            if i > 0 {
                chunk.push(b',');
            }
            chunk.extend_from_slice(line.trim_ascii());
        }
        if lines.peek().is_none() {
            chunk.extend(last.take().unwrap_or_default());
        }
        (!chunk.is_empty()).then(|| Ok::<Bytes, Infallible>(Bytes::from(chunk)))
    });
    let body = Body::from_stream(futures_util::stream::iter(pieces));
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Why one session is what it is: `{"session_id", "present", "decisions": [...], "trash_path"?}` (see
/// `publisher::decision_log`); 400 for an unsafe id, 404 for one neither listed nor recently removed.
async fn api_explain(State(http): State<HttpState>, Path(id): Path<String>) -> Result<Json<serde_json::Value>, Error> {
    Ok(Json(http.state.explain(&id)?.to_json()))
}

/// `/api/stream`'s query: `deltas=1` (or `true`) asks for `event: delta` frames; `access_token` is checked by the
/// auth layer.
#[derive(Debug, Default, serde::Deserialize)]
pub struct StreamQuery {
    deltas: Option<String>,
}

/// SSE as the original: `retry: 2000`, then an `event: state` frame with `id: <revision>` per change, and a
/// `: ping` comment every 15 s. A reconnecting browser's `Last-Event-ID` equal to the current revision skips the
/// first frame (it has that state already).
///
/// With `?deltas=1`, a change that directly follows the revision the client holds goes out as an `event: delta`
/// frame ([`crate::wire::ApiDelta`], serialized once per change and shared by every client), everything else
/// (the first frame, a client that skipped revisions, a change no delta expresses) as `event: state`; a reconnect
/// whose `Last-Event-ID` is the revision before the current one gets the current one's delta.
async fn api_stream(
    State(http): State<HttpState>,
    caller: Option<axum::Extension<super::auth::Caller>>,
    headers: HeaderMap,
    query: Result<Query<StreamQuery>, QueryRejection>,
) -> Result<Response, Error> {
    let Query(query) = query.map_err(|rejection| Error::InvalidArgument(rejection.body_text()))?;
    let deltas = match query.deltas.as_deref() {
        None | Some("0" | "false") => false,
        Some("1" | "true" | "") => true,
        Some(other) => {
            return Err(Error::InvalidArgument(format!(
                "deltas must be 1, true, 0 or false, not {other:?}"
            )))
        }
    };
    let last_event_id: Option<u64> = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let client = caller.and_then(|axum::Extension(caller)| caller.remote).map(|a| a.ip());
    let slot = http.watches.take(client)?;
    let mut rx = http.state.subscribe();
    let shutdown = http.shutdown.clone();
    let ping = http.ping;
    let stream = async_stream::stream! {
        let _slot = slot;
        yield Ok::<Bytes, Infallible>(Bytes::from_static(b"retry: 2000\n\n"));
        let first = rx.borrow_and_update().clone();
        // The revision the client holds, as far as this stream knows.
        let mut held = last_event_id;
        if held != Some(first.revision) {
            if let Some(delta) = deltas.then(|| delta_for(&first, held)).flatten() {
                for piece in frame_pieces("delta", first.revision, delta) { yield Ok(piece); }
            } else {
                // A new connection's first state carries the time it is sent.
                let payload = Bytes::from(first.api_json(SystemTime::now()));
                for piece in frame_pieces("state", first.revision, payload) { yield Ok(piece); }
            }
            held = Some(first.revision);
        }
        let mut next_ping = Box::pin(tokio::time::sleep(ping));
        loop {
            tokio::select! {
                biased;
                () = shutdown.cancelled() => break,
                changed = rx.changed() => {
                    if changed.is_err() { break; }
                    let snapshot = rx.borrow_and_update().clone();
                    let (event, payload) = match deltas.then(|| delta_for(&snapshot, held)).flatten() {
                        Some(delta) => ("delta", delta),
                        None => ("state", snapshot.shared_api_json()),
                    };
                    for piece in frame_pieces(event, snapshot.revision, payload) { yield Ok(piece); }
                    held = Some(snapshot.revision);
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

/// The snapshot's shared JSON delta, when the client holds exactly the revision before it.
fn delta_for(snapshot: &Snapshot, held: Option<u64>) -> Option<Bytes> {
    let base = snapshot.revision.checked_sub(1)?;
    (held == Some(base)).then(|| snapshot.api_delta.clone()).flatten()
}

/// One SSE frame as three pieces, so that a payload shared by every client is not copied: `id:` and `event:` lines
/// and the `data: ` prefix, the payload (compact JSON: one line, so one `data:` line), and the blank line.
fn frame_pieces(event: &str, revision: u64, payload: Bytes) -> [Bytes; 3] {
    [
        Bytes::from(format!("id: {revision}\nevent: {event}\ndata: ")),
        payload,
        Bytes::from_static(b"\n\n"),
    ]
}

/// The fallback for unknown paths: a gRPC UNIMPLEMENTED for gRPC requests, else a JSON 404.
pub async fn not_found(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    let is_grpc = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"));
    if is_grpc {
        let mut response = Response::new(Body::empty());
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
        h.insert("grpc-status", HeaderValue::from_static("12"));
        h.insert("grpc-message", HeaderValue::from_static("unknown%20service"));
        return response;
    }
    let body = serde_json::json!({ "error": format!("no route for {}", crate::error::shown(uri.path())), "code": "NOT_FOUND" });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}
