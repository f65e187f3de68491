//! The request layer: one `request` span per HTTP or gRPC request (method, path, session id where the path names
//! one, then status and latency), a `request finished` log line at debug level (warn for a 5xx), the request counter
//! of `/metrics`, and the gauge of open streams (SSE clients, gRPC watchers), held until the response body ends.

use std::{
    pin::Pin,
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    body::Body,
    extract::{MatchedPath, Request},
    middleware::Next,
    response::Response,
};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tracing::Instrument as _;

use crate::metrics::{self, Stream, StreamGuard};

/// The gRPC methods counted under their own route label (anything else under its matched route pattern, so that a
/// client cannot grow the label set).
const GRPC_METHODS: &[&str] = &[
    "/amc.v1.StateService/GetState",
    "/amc.v1.StateService/WatchState",
    "/amc.v1.StateService/ExplainSession",
    "/amc.v1.StateService/WatchEvents",
    "/amc.v1.StateService/Ack",
    "/amc.v1.ActionService/Decide",
    "/amc.v1.ActionService/SendText",
    "/amc.v1.ActionService/Answer",
    "/amc.v1.ActionService/Dismiss",
    "/amc.v1.ActionService/Restore",
    "/amc.v1.ActionService/SetRemoteApproval",
    "/amc.v1.ActionService/Focus",
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
];

/// The stream a path opens, if it is a long-lived one.
fn stream_kind(path: &str) -> Option<Stream> {
    match path {
        "/api/stream" => Some(Stream::Sse),
        "/api/stream/events" => Some(Stream::SseEvents),
        "/amc.v1.StateService/WatchState" => Some(Stream::GrpcWatchState),
        "/amc.v1.StateService/WatchEvents" => Some(Stream::GrpcWatchEvents),
        _ => None,
    }
}

/// The session id a path names (`/api/sessions/{id}/…`, `/api/events/{id}`), for the span.
fn session_in(path: &str) -> Option<&str> {
    let rest = path
        .strip_prefix("/api/sessions/")
        .or_else(|| path.strip_prefix("/api/events/"))?;
    rest.split('/').next().filter(|id| !id.is_empty())
}

/// The middleware (see the module docs).
pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let path = request.uri().path().to_owned();
    let route = if GRPC_METHODS.contains(&path.as_str()) {
        path.clone()
    } else {
        request
            .extensions()
            .get::<MatchedPath>()
            .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned())
    };
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %path,
        session_id = session_in(&path),
        status = tracing::field::Empty,
        latency_ms = tracing::field::Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.record("status", status);
    span.record("latency_ms", latency_ms);
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!("request failed");
        } else {
            tracing::debug!("request finished");
        }
    });
    metrics::http_request(&route, status);
    match stream_kind(&path).filter(|_| response.status().is_success()) {
        Some(kind) => {
            let guard = metrics::stream_opened(kind);
            response.map(|body| {
                Body::new(Guarded {
                    inner: body,
                    _guard: guard,
                })
            })
        }
        None => response,
    }
}

/// A response body that holds a [`StreamGuard`] until it is dropped (the client went or the stream ended).
struct Guarded {
    inner: Body,
    _guard: StreamGuard,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_and_streams_are_named_from_the_path() {
        assert_eq!(session_in("/api/sessions/abc/explain"), Some("abc"));
        assert_eq!(session_in("/api/events/xyz"), Some("xyz"));
        assert_eq!(session_in("/api/state"), None);
        assert_eq!(stream_kind("/api/stream"), Some(Stream::Sse));
        assert_eq!(stream_kind("/amc.v1.StateService/GetState"), None);
    }
}
