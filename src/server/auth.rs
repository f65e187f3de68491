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
//!
//! **Scopes.** Each token has scopes ([`Scope`]): `read` (everything that reads: state, events, streams) and `act`
//! (what changes something: `Ack`, `POST /api/sessions/{id}/ack`). `AMC_TOKEN` has `AMC_TOKEN_SCOPES` (default
//! `read,act`: the one token may do everything); `AMC_READ_TOKEN`, if set, is a second token with `read` only. A valid
//! token without the scope a request needs gets [`Error::PermissionDenied`] (HTTP 403, gRPC `PERMISSION_DENIED`).
//! [`required_scope`] is the one table of which request needs which scope.

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

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read state and events.
    Read,
    /// Change something (acknowledge a session).
    Act,
}

impl Scope {
    /// The scope's name in configuration (`read`, `act`).
    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Act => "act",
        }
    }

    /// Returns the scope named `name`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim() {
            "read" => Some(Scope::Read),
            "act" => Some(Scope::Act),
            _ => None,
        }
    }
}

/// The configured tokens and their scopes; empty: nothing is checked.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    entries: Vec<(Arc<str>, Vec<Scope>)>,
}

impl Tokens {
    /// The tokens of the configuration: `token` with `scopes` (names; unknown ones ignored), and `read_token` with
    /// `read` only.
    pub fn new(token: Option<&str>, scopes: &[String], read_token: Option<&str>) -> Self {
        let mut entries = Vec::new();
        if let Some(token) = token.filter(|t| !t.is_empty()) {
            entries.push((
                Arc::from(token),
                scopes.iter().filter_map(|s| Scope::parse(s)).collect(),
            ));
        }
        if let Some(token) = read_token.filter(|t| !t.is_empty()) {
            entries.push((Arc::from(token), vec![Scope::Read]));
        }
        Tokens { entries }
    }

    /// One token with every scope (what `AMC_TOKEN` alone means).
    pub fn single(token: Option<Arc<str>>) -> Self {
        Tokens {
            entries: token.into_iter().map(|t| (t, vec![Scope::Read, Scope::Act])).collect(),
        }
    }

    /// Returns whether no token is configured (nothing is checked).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Checks `request` for `scope`: `Ok` when it carries a token with it, else the error to answer with.
    pub fn check(&self, request: &Request, scope: Scope) -> Result<(), Error> {
        if self.is_empty() {
            return Ok(());
        }
        let mut known = false;
        for (token, scopes) in &self.entries {
            if carries(request, token) {
                if scopes.contains(&scope) {
                    return Ok(());
                }
                known = true;
            }
        }
        Err(if known {
            Error::PermissionDenied(scope.name())
        } else {
            Error::Unauthenticated
        })
    }
}

/// The scope a request needs: `act` for the acknowledgement routes, `read` for everything else.
pub fn required_scope(path: &str) -> Scope {
    let is_http_ack = path
        .strip_prefix("/api/sessions/")
        .is_some_and(|rest| rest.ends_with("/ack"));
    if path == "/amc.v1.StateService/Ack" || is_http_ack {
        Scope::Act
    } else {
        Scope::Read
    }
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
/// request carries a token with the scope the path needs ([`required_scope`]).
pub async fn require_token(State(tokens): State<Arc<Tokens>>, request: Request, next: Next) -> Response {
    if tokens.is_empty() || is_public(request.method(), request.uri().path()) {
        return next.run(request).await;
    }
    let error = match tokens.check(&request, required_scope(request.uri().path())) {
        Ok(()) => return next.run(request).await,
        Err(error) => error,
    };
    tracing::debug!(path = %request.uri().path(), %error, "request refused");
    let is_grpc = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"));
    if is_grpc {
        let status: tonic::Status = error.into();
        status.into_http::<axum::body::Body>().into_response()
    } else {
        error.into_response()
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
    fn scopes_decide_what_a_token_may_do() {
        let tokens = Tokens::new(Some("all"), &["read".into(), "act".into()], Some("ro"));
        let ack = "/amc.v1.StateService/Ack";
        assert_eq!(required_scope(ack), Scope::Act);
        assert_eq!(required_scope("/api/sessions/a/ack"), Scope::Act);
        assert_eq!(required_scope("/api/state"), Scope::Read);
        assert_eq!(required_scope("/amc.v1.StateService/WatchEvents"), Scope::Read);
        assert!(tokens.check(&request(ack, Some("Bearer all")), Scope::Act).is_ok());
        assert!(tokens
            .check(&request("/api/state", Some("Bearer ro")), Scope::Read)
            .is_ok());
        assert!(matches!(
            tokens.check(&request(ack, Some("Bearer ro")), Scope::Act),
            Err(Error::PermissionDenied("act"))
        ));
        assert!(matches!(
            tokens.check(&request(ack, Some("Bearer nope")), Scope::Act),
            Err(Error::Unauthenticated)
        ));
        let read_only = Tokens::new(Some("t"), &["read".into()], None);
        assert!(read_only.check(&request(ack, Some("Bearer t")), Scope::Act).is_err());
        assert!(Tokens::new(None, &[], None)
            .check(&request(ack, None), Scope::Act)
            .is_ok());
        assert!(Tokens::single(Some(Arc::from("x")))
            .check(&request(ack, Some("Bearer x")), Scope::Act)
            .is_ok());
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
