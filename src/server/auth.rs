//! The bearer token (`AMC_TOKEN`), checked on every request that reads session data.
//!
//! Without a token (the default, loopback only) nothing is checked. With one, every request must carry it, as
//! `Authorization: Bearer <token>` (HTTP header or gRPC metadata, they are the same header) or, for browsers whose
//! `EventSource` cannot set headers, as the query parameter `access_token=<token>` (RFC 6750 §2.3). Open without it:
//! `GET /api/health` and `grpc.health.v1.Health` (for load balancers and probes), CORS preflights, and the dashboard's
//! static files (they hold no data; the page passes the token on to `/api/stream`).
//!
//! A request without the right token gets [`Error::Unauthenticated`]: HTTP 401 with the JSON error body, or gRPC
//! `UNAUTHENTICATED` (also for gRPC-Web).

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::error::Error;

/// Paths anyone may request, token or not.
fn is_public(method: &Method, path: &str) -> bool {
    method == Method::OPTIONS
        || path == "/api/health"
        || path.starts_with("/grpc.health.v1.Health/")
        || super::dashboard::is_asset(path)
}

/// Returns whether `request` carries `token`, in the `Authorization` header or the `access_token` query parameter.
fn carries(request: &Request, token: &str) -> bool {
    let from_header = request
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .any(|given| constant_time_eq(given.trim().as_bytes(), token.as_bytes()));
    let from_query = || {
        request.uri().query().is_some_and(|query| {
            form_urlencoded::parse(query.as_bytes())
                .any(|(key, given)| key == "access_token" && constant_time_eq(given.as_bytes(), token.as_bytes()))
        })
    };
    from_header || from_query()
}

/// Compares without an early exit, so the time taken does not tell how much of a guess was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The middleware: lets the request through when no token is configured, when the path is public, or when the
/// request carries the token.
pub async fn require_token(State(token): State<Option<Arc<str>>>, request: Request, next: Next) -> Response {
    let Some(token) = token else {
        return next.run(request).await;
    };
    if is_public(request.method(), request.uri().path()) || carries(&request, &token) {
        return next.run(request).await;
    }
    tracing::debug!(path = %request.uri().path(), "request without the bearer token refused");
    let is_grpc = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"));
    if is_grpc {
        let status: tonic::Status = Error::Unauthenticated.into();
        status.into_http::<axum::body::Body>().into_response()
    } else {
        Error::Unauthenticated.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, authorization: Option<&str>) -> Request {
        let mut builder = axum::http::Request::builder().uri(uri);
        if let Some(value) = authorization {
            builder = builder.header(header::AUTHORIZATION, value);
        }
        builder.body(axum::body::Body::empty()).expect("a valid request")
    }

    #[test]
    fn the_token_is_taken_from_the_header_or_the_query() {
        assert!(carries(&request("/api/state", Some("Bearer s3cret")), "s3cret"));
        assert!(carries(&request("/api/stream?access_token=s3cret", None), "s3cret"));
        assert!(carries(&request("/api/stream?x=1&access_token=a%2Bb", None), "a+b"));
        assert!(!carries(&request("/api/state", Some("Bearer s3cre")), "s3cret"));
        assert!(!carries(&request("/api/state", Some("Basic s3cret")), "s3cret"));
        assert!(!carries(&request("/api/state?token=s3cret", None), "s3cret"));
        assert!(!carries(&request("/api/state", None), "s3cret"));
    }

    #[test]
    fn only_health_preflights_and_static_files_are_public() {
        assert!(is_public(&Method::GET, "/api/health"));
        assert!(is_public(&Method::POST, "/grpc.health.v1.Health/Check"));
        assert!(is_public(&Method::OPTIONS, "/amc.v1.StateService/GetState"));
        assert!(is_public(&Method::GET, "/"));
        assert!(is_public(&Method::GET, "/app.js"));
        for private in [
            "/api/state",
            "/api/stream",
            "/api/events/x",
            "/amc.v1.StateService/GetState",
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "/nope",
        ] {
            assert!(!is_public(&Method::GET, private), "{private}");
        }
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
