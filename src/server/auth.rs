//! Who may do what: the `Host` check of every request ([`super::host`]), named bearer tokens with scopes (`read`,
//! `act`), the `Origin` check of mutating requests,
//! and the caller identity the action layer audits. The one token check of amc.
//!
//! Tokens come from `AMC_TOKEN` (name `default`, scope `act` unless `AMC_TOKEN_SCOPES=read`), `AMC_READ_TOKEN` (name
//! `read`, scope `read`), `AMC_TOKENS` (named, each `read` or `act`) and `<data dir>/token` (name `local`, scope
//! `act`; [`local_token`] creates it on `amc serve`'s first start when `AMC_TOKEN` is unset or read-only).
//! A token travels as `Authorization: Bearer <token>` (HTTP header or gRPC metadata) or, for browsers whose
//! `EventSource` cannot set headers, as the query parameter `access_token=<token>` (RFC 6750 §2.3).
//!
//! - Public, token or not: `GET /api/health`, `grpc.health.v1.Health`, CORS preflights, the dashboard's static files.
//! - Reading (everything else but actions): open when only the `local` token exists ([`Access::read_open`], the
//!   loopback default); with `AMC_TOKEN`, `AMC_READ_TOKEN` or `AMC_TOKENS` set it needs a token of scope `read` or
//!   `act`.
//! - Acting (`/amc.v1.ActionService/*`, `/amc.v1.StateService/Ack`, `POST /api/sessions/{id}/{action}` including
//!   `ack`) and `GET /api/audit`: a token of scope
//!   `act`, always, loopback too. Mutating requests that carry an `Origin` must carry an acceptable one (loopback or
//!   configured: no cross-site posts).
//! - Every request, public or not, must name this server in its `Host`/`:authority` ([`super::host`], 421 else: no
//!   DNS rebinding).
//!
//! Refusals: no or a wrong token → [`Error::Unauthenticated`] (HTTP 401, gRPC `UNAUTHENTICATED`); a `read` token
//! acting, a foreign `Origin` → [`Error::PermissionDenied`] (403, `PERMISSION_DENIED`); a foreign `Host` →
//! [`Error::MisdirectedHost`] (421, `PERMISSION_DENIED`). The middleware puts
//! a [`Caller`] into the request's extensions for the handlers.

use std::{net::SocketAddr, path::Path, sync::Arc};

use axum::{
    extract::{Request, State},
    http::{header, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    config::{Config, NamedToken, Scope},
    error::Error,
};

/// Who is calling: the token's name and scope (none without a token) and the peer address.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The name of the token the request carried, if it carried a known one.
    pub token: Option<String>,
    /// That token's scope.
    pub scope: Option<Scope>,
    /// The peer's address, when the transport knows it.
    pub remote: Option<SocketAddr>,
}

impl Caller {
    /// An audit line for this caller doing `action` on `session` with `args`.
    pub fn audit_entry(&self, session: &str, action: &str, args: serde_json::Value) -> super::audit::Entry {
        super::audit::Entry::new(self.token.clone(), self.remote, session, action, args)
    }
}

/// The tokens and names the server accepts; shared by the middleware and the action layer.
#[derive(Debug, Clone, Default)]
pub struct Access {
    tokens: Vec<NamedToken>,
    /// Whether reading needs no token.
    pub read_open: bool,
    /// Extra `Host` names (lowercase) requests may name (see [`super::host`]).
    hosts: Vec<String>,
    /// Extra browser origins allowed to act (besides loopback ones).
    origins: Vec<String>,
}

impl Access {
    /// Access with `tokens`; reading is open when `read_open`.
    pub fn new(tokens: Vec<NamedToken>, read_open: bool) -> Self {
        Access {
            tokens,
            read_open,
            ..Access::default()
        }
    }

    /// Adds `Host` names requests may name and browser origins mutating requests may come with.
    pub fn with_names(mut self, hosts: Vec<String>, origins: Vec<String>) -> Self {
        self.hosts = hosts.into_iter().map(|h| h.to_ascii_lowercase()).collect();
        self.origins = origins;
        self
    }

    /// The server's access from its config and the `local` token (`<data dir>/token`): the configured tokens
    /// ([`Config::named_tokens`]: `default`, `read`, the `AMC_TOKENS`); reading is open unless one of them is set.
    pub fn from_config(config: &Config, local: Option<String>, cors_origins: &[String]) -> Self {
        let mut tokens = config.named_tokens();
        let read_open = tokens.is_empty();
        tokens.extend(local.map(|secret| NamedToken {
            name: "local".into(),
            secret,
            scope: Scope::Act,
        }));
        Access::new(tokens, read_open).with_names(config.allowed_hosts.clone(), cors_origins.to_vec())
    }

    /// Returns the token `request` carries, if it carries a known one.
    fn identify(&self, request: &Request) -> Option<&NamedToken> {
        self.tokens.iter().find(|t| carries(request, &t.secret))
    }

    /// The extra `Host` names (`--allowed-host`), lowercase.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// Returns whether a browser `origin` may act: loopback or configured.
    pub fn origin_allowed(&self, origin: &str) -> bool {
        super::is_loopback_origin(origin) || self.origins.iter().any(|o| o == origin)
    }
}

/// What a request needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Nothing,
    Read,
    /// Scope `act`; `mutating` also checks `Origin`.
    Act {
        mutating: bool,
    },
}

/// What `method path` needs.
fn need(method: &Method, path: &str) -> Need {
    if is_public(method, path) {
        Need::Nothing
    } else if path.starts_with("/amc.v1.ActionService/")
        || path == "/amc.v1.StateService/Ack"
        || path.starts_with("/api/hook/")
        || (method == Method::POST && is_action_path(path))
    {
        Need::Act { mutating: true }
    } else if path == "/api/audit" {
        Need::Act { mutating: false }
    } else {
        Need::Read
    }
}

/// Whether `path` is `/api/sessions/{id}/{action}` (other than the read-only `explain`).
pub fn is_action_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/sessions/") else {
        return false;
    };
    let mut parts = rest.split('/');
    matches!((parts.next(), parts.next(), parts.next()), (Some(id), Some(action), None)
        if !id.is_empty() && !action.is_empty() && action != "explain")
}

/// Paths anyone may request, token or not.
fn is_public(method: &Method, path: &str) -> bool {
    method == Method::OPTIONS
        || path == "/api/health"
        || path.starts_with("/grpc.health.v1.Health/")
        || super::dashboard::is_asset(path)
}

/// Returns whether `request` carries `token`, in the `Authorization` header (scheme `Bearer`, any case: RFC 7235
/// §2.1) or the `access_token` query parameter.
fn carries(request: &Request, token: &str) -> bool {
    let from_header = request
        .headers()
        .get_all(header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(bearer)
        .any(|given| constant_time_eq(given.as_bytes(), token.as_bytes()));
    let from_query = || {
        request.uri().query().is_some_and(|query| {
            form_urlencoded::parse(query.as_bytes())
                .any(|(key, given)| key == "access_token" && constant_time_eq(given.as_bytes(), token.as_bytes()))
        })
    };
    from_header || from_query()
}

/// The credentials of an `Authorization: Bearer <token>` value, the scheme matched without regard to case.
fn bearer(value: &str) -> Option<&str> {
    let (scheme, credentials) = value.trim().split_once(char::is_whitespace)?;
    scheme.eq_ignore_ascii_case("bearer").then(|| credentials.trim())
}

/// Compares in constant time whatever the lengths: both sides are hashed (SHA-256) first and the digests compared
/// with `subtle`, so neither a mismatch's position nor the guess's length shows in the time taken.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::Digest as _;
    use subtle::ConstantTimeEq as _;
    let (da, db) = (sha2::Sha256::digest(a), sha2::Sha256::digest(b));
    bool::from(da.as_slice().ct_eq(db.as_slice()))
}

/// The entropy a non-loopback listener needs in every token: 32 bytes (256 bits).
pub const MIN_TOKEN_BITS: f64 = 256.0;

/// Estimates the entropy of `secret` in bits: its length times the bits per character of the smallest alphabet
/// holding it (digits 3.3, hex 4, base64/alphanumeric ~6, printable ASCII 6.6), and nothing for a secret of fewer
/// than 8 distinct characters (`aaaa…`, `abababab…`). Random tokens from `openssl rand -hex 32` (64 characters) or
/// `openssl rand -base64 32` (44) reach 256 bits.
pub fn token_bits(secret: &str) -> f64 {
    let distinct: std::collections::HashSet<char> = secret.chars().collect();
    if distinct.len() < 8 || secret.trim() != secret {
        return 0.0;
    }
    let per_char: f64 = if secret.bytes().all(|b| b.is_ascii_digit()) {
        10f64.log2()
    } else if secret.bytes().all(|b| b.is_ascii_hexdigit()) {
        4.0
    } else if secret
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'='))
    {
        6.0
    } else {
        95f64.log2()
    };
    let significant = secret.trim_end_matches('=').chars().count();
    significant as f64 * per_char
}

/// Refuses tokens too weak for a listener other people can reach: the first one under [`MIN_TOKEN_BITS`], named.
pub fn check_token_strength(tokens: &[NamedToken]) -> Result<(), String> {
    match tokens.iter().find(|t| token_bits(&t.secret) < MIN_TOKEN_BITS) {
        None => Ok(()),
        Some(weak) => Err(format!(
            "token {:?} has about {:.0} bits of entropy; a non-loopback listener needs at least {} (32 random \
             bytes): generate one with `openssl rand -hex 32`",
            weak.name,
            token_bits(&weak.secret),
            MIN_TOKEN_BITS
        )),
    }
}

/// Decides whether `request` may go on; the reason when not.
fn check(access: &Access, request: &Request, caller: &Caller) -> Result<(), Error> {
    match need(request.method(), request.uri().path()) {
        Need::Nothing => Ok(()),
        Need::Read if access.read_open || caller.scope.is_some() => Ok(()),
        Need::Read => Err(Error::Unauthenticated),
        Need::Act { mutating } => {
            if mutating {
                if let Some(origin) = request.headers().get(header::ORIGIN) {
                    let origin = origin.to_str().unwrap_or("?");
                    if !access.origin_allowed(origin) {
                        return Err(Error::PermissionDenied(format!("Origin {origin:?} may not act")));
                    }
                }
            }
            match caller.scope {
                None => Err(Error::Unauthenticated),
                Some(Scope::Read) => Err(Error::PermissionDenied(format!(
                    "token {:?} has scope read; acting needs act",
                    caller.token.as_deref().unwrap_or_default()
                ))),
                Some(Scope::Act) => Ok(()),
            }
        }
    }
}

/// The middleware's state: the names the server answers to, the access rules and where refusals of actions are
/// written down.
#[derive(Debug, Clone)]
pub struct Gate {
    /// The `Host` check of every request.
    pub hosts: Arc<super::host::HostCheck>,
    /// Tokens and names.
    pub access: Arc<Access>,
    /// The audit log, for refused actions.
    pub audit: Arc<super::audit::AuditLog>,
}

/// The middleware, the one access layer of every route: checks that the request names this server ([`super::host`]),
/// identifies the caller, lets the request through when it may, refuses it (and audits a refused action) when not.
pub async fn require_token(State(gate): State<Gate>, mut request: Request, next: Next) -> Response {
    let known = gate.access.identify(&request);
    let caller = Caller {
        token: known.map(|t| t.name.clone()),
        scope: known.map(|t| t.scope),
        remote: request
            .extensions()
            .get::<tonic::transport::server::TcpConnectInfo>()
            .and_then(|info| info.remote_addr()),
    };
    let is_grpc = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/grpc"));
    let verdict = gate
        .hosts
        .check(&request)
        .and_then(|()| check(&gate.access, &request, &caller));
    match verdict {
        Ok(()) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => {
            let path = request.uri().path().to_owned();
            tracing::debug!(%path, %error, "request refused");
            if matches!(need(request.method(), &path), Need::Act { mutating: true }) {
                let (session, action) = action_of_path(&path);
                gate.audit.append(
                    &caller
                        .audit_entry(session, action, serde_json::Value::Null)
                        .refused(&error),
                );
            }
            if let Error::MisdirectedHost(_) = error {
                // 421 with the JSON error; a gRPC client reads PERMISSION_DENIED from the trailers-only headers.
                let grpc = tonic::Status::permission_denied(error.to_string()).into_http::<axum::body::Body>();
                let mut response = error.into_response();
                if is_grpc {
                    for name in ["grpc-status", "grpc-message"] {
                        if let Some(value) = grpc.headers().get(name) {
                            response.headers_mut().insert(name, value.clone());
                        }
                    }
                }
                response
            } else if is_grpc {
                let status: tonic::Status = error.into();
                status.into_http::<axum::body::Body>().into_response()
            } else {
                error.into_response()
            }
        }
    }
}

/// The session and action a mutating path names, as far as the path tells (gRPC carries the session in the body).
fn action_of_path(path: &str) -> (&str, &str) {
    if let Some(method) = path
        .strip_prefix("/amc.v1.ActionService/")
        .or_else(|| path.strip_prefix("/amc.v1.StateService/"))
    {
        // The names the accepted actions are audited under.
        let action = match method {
            "Decide" => "decide",
            "SendText" => "send_text",
            "Answer" => "answer",
            "Dismiss" => "dismiss",
            "Restore" => "restore",
            "SetRemoteApproval" => "remote_approval",
            "Focus" => "focus",
            "Ack" => "ack",
            other => other,
        };
        return ("", action);
    }
    if path.starts_with("/api/hook/") {
        return ("", "hold");
    }
    let mut parts = path.trim_start_matches("/api/sessions/").split('/');
    (parts.next().unwrap_or_default(), parts.next().unwrap_or_default())
}

/// Reads `<data dir>/token`, creating it (0600, 256 random bits as hex) when missing; the `local` token.
pub fn local_token(path: &Path) -> std::io::Result<String> {
    use std::{io::Write as _, os::unix::fs::OpenOptionsExt as _};
    if let Some(text) = crate::bounded::read_text(path, 4096) {
        let token = text.trim();
        if token.len() >= 16 {
            return Ok(token.to_owned());
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(token.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, uri: &str, headers: &[(&str, &str)]) -> Request {
        let mut builder = axum::http::Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        builder.body(axum::body::Body::empty()).expect("a valid request")
    }

    fn get(uri: &str, authorization: Option<&str>) -> Request {
        let headers: Vec<(&str, &str)> = authorization.map(|a| ("authorization", a)).into_iter().collect();
        request(Method::GET, uri, &headers)
    }

    #[test]
    fn the_token_is_taken_from_the_header_or_the_query() {
        assert!(carries(&get("/api/state", Some("Bearer s3cret")), "s3cret"));
        assert!(carries(&get("/api/stream?access_token=s3cret", None), "s3cret"));
        assert!(carries(&get("/api/stream?x=1&access_token=a%2Bb", None), "a+b"));
        assert!(!carries(&get("/api/state", Some("Bearer s3cre")), "s3cret"));
        assert!(!carries(&get("/api/state", Some("Basic s3cret")), "s3cret"));
        assert!(!carries(&get("/api/state?token=s3cret", None), "s3cret"));
        assert!(!carries(&get("/api/state", None), "s3cret"));
        // The scheme in any case (RFC 7235), extra white space tolerated.
        assert!(carries(&get("/api/state", Some("BEARER s3cret")), "s3cret"));
        assert!(carries(&get("/api/state", Some("bEaReR   s3cret ")), "s3cret"));
        assert!(!carries(&get("/api/state", Some("Bearers3cret")), "s3cret"));
    }

    #[test]
    fn weak_tokens_are_refused_for_open_listeners() {
        let named = |secret: &str| NamedToken {
            name: "default".into(),
            secret: secret.into(),
            scope: Scope::Act,
        };
        for weak in [
            "x",
            " ",
            "        ",
            "password123",
            &"a".repeat(100),
            &"ab".repeat(64),
            &"0123456789abcdef".repeat(3),
        ] {
            assert!(check_token_strength(&[named(weak)]).is_err(), "{weak:?}");
        }
        let hex = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
        let b64 = "q8Jz0m3YkF5vT1xW9bR2nE7sH4uL6pA0cD8gI2jK5oM=";
        for strong in [hex, b64] {
            assert!(check_token_strength(&[named(strong)]).is_ok(), "{strong}");
        }
        let err = check_token_strength(&[named(hex), named("short")]).expect_err("one weak");
        assert!(err.contains("openssl rand -hex 32"), "{err}");
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
    fn actions_and_the_audit_need_act_everything_else_read() {
        assert_eq!(
            need(&Method::POST, "/api/sessions/abc/decide"),
            Need::Act { mutating: true }
        );
        assert_eq!(
            need(&Method::POST, "/amc.v1.ActionService/Decide"),
            Need::Act { mutating: true }
        );
        assert_eq!(need(&Method::GET, "/api/audit"), Need::Act { mutating: false });
        assert_eq!(
            need(&Method::POST, "/amc.v1.StateService/Ack"),
            Need::Act { mutating: true }
        );
        assert_eq!(
            need(&Method::POST, "/api/sessions/abc/ack"),
            Need::Act { mutating: true }
        );
        assert_eq!(action_of_path("/amc.v1.StateService/Ack"), ("", "ack"));
        assert_eq!(
            action_of_path("/amc.v1.ActionService/SetRemoteApproval"),
            ("", "remote_approval")
        );
        assert_eq!(action_of_path("/api/sessions/abc/ack"), ("abc", "ack"));
        assert_eq!(need(&Method::POST, "/amc.v1.StateService/WatchEvents"), Need::Read);
        assert_eq!(
            need(&Method::POST, "/api/hook/permission"),
            Need::Act { mutating: true }
        );
        assert_eq!(need(&Method::GET, "/api/sessions/abc/explain"), Need::Read);
        assert_eq!(need(&Method::POST, "/api/sessions/abc/explain"), Need::Read);
        assert_eq!(need(&Method::POST, "/api/sessions/abc/x/y"), Need::Read);
        assert_eq!(need(&Method::POST, "/amc.v1.StateService/GetState"), Need::Read);
        assert_eq!(need(&Method::GET, "/api/health"), Need::Nothing);
    }

    fn access() -> Access {
        let token = |name: &str, secret: &str, scope| NamedToken {
            name: name.into(),
            secret: secret.into(),
            scope,
        };
        Access::new(
            vec![
                token("ci", "read-secret", Scope::Read),
                token("me", "act-secret", Scope::Act),
            ],
            false,
        )
        .with_names(vec!["AMC.example".into()], vec!["https://dash.example".into()])
    }

    fn verdict(request: Request) -> Result<(), Error> {
        let access = access();
        let known = access.identify(&request);
        let caller = Caller {
            token: known.map(|t| t.name.clone()),
            scope: known.map(|t| t.scope),
            remote: None,
        };
        check(&access, &request, &caller)
    }

    #[test]
    fn scopes_hosts_and_origins_decide() {
        let act = |headers: &[(&str, &str)]| verdict(request(Method::POST, "/api/sessions/s/dismiss", headers));
        let host = ("host", "127.0.0.1:7400");
        assert!(act(&[host, ("authorization", "Bearer act-secret")]).is_ok());
        assert!(matches!(act(&[host]), Err(Error::Unauthenticated)));
        assert!(matches!(
            act(&[host, ("authorization", "Bearer nope")]),
            Err(Error::Unauthenticated)
        ));
        assert!(matches!(
            act(&[host, ("authorization", "Bearer read-secret")]),
            Err(Error::PermissionDenied(_))
        ));
        for (origin, ok) in [
            ("http://127.0.0.1:7400", true),
            ("https://dash.example", true),
            ("http://evil.example", false),
            ("null", false),
        ] {
            let result = act(&[host, ("origin", origin), ("authorization", "Bearer act-secret")]);
            assert_eq!(result.is_ok(), ok, "{origin}: {result:?}");
        }
        // Reading: any known token, none when reading is closed.
        assert!(verdict(get("/api/state", Some("Bearer read-secret"))).is_ok());
        assert!(matches!(verdict(get("/api/state", None)), Err(Error::Unauthenticated)));
        assert!(matches!(
            verdict(get("/api/audit", Some("Bearer read-secret"))),
            Err(Error::PermissionDenied(_))
        ));
        assert!(verdict(get("/api/audit", Some("Bearer act-secret"))).is_ok());
    }

    #[test]
    fn the_local_token_is_created_once_private_and_random() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("data/token");
        let first = local_token(&path).expect("created");
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        let mode = std::fs::metadata(&path).expect("exists").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(local_token(&path).expect("read again"), first);
        let other = local_token(&dir.path().join("other/token")).expect("created");
        assert_ne!(other, first);
    }

    #[test]
    fn comparison_needs_every_byte() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(!constant_time_eq(&[b'a'; 10_000], b"a"));
    }
}
