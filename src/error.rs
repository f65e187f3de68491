//! The one error type of amc's request paths, and the one place that maps it to gRPC and HTTP codes.

use axum::{
    http::StatusCode,
    response::{IntoResponse, Response},
    Json,
};

/// An error a request can end with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is malformed (bad id, bad filter).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The thing asked for does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// The request needs the bearer token and did not carry the right one.
    #[error("missing or wrong bearer token")]
    Unauthenticated,
    /// The caller is known but may not do this (a token without the scope, a foreign `Host` or `Origin`).
    #[error("permission denied: {0}")]
    PermissionDenied(String),
    /// The request's `Host` (or `:authority`) does not name this server (DNS rebinding); HTTP 421.
    #[error("misdirected request: {0}")]
    MisdirectedHost(String),
    /// The action cannot run in the current state (an old Zellij, a session without a pane).
    #[error("failed precondition: {0}")]
    FailedPrecondition(String),
    /// Too many actions in a short time for one token or one session, or too many open streams for one client;
    /// retry later.
    #[error("resource exhausted: {0}")]
    ResourceExhausted(String),
    /// The request's headers (with its URI) are longer than `limits.header_bytes`.
    #[error("request headers of {0} bytes are over the limit (limits.header_bytes)")]
    HeadersTooLarge(usize),
    /// The server is shutting down; reconnect later.
    #[error("server shutting down")]
    ShuttingDown,
    /// Something failed inside amc; the details (which may name paths) are logged, never sent to the client.
    #[error("internal error (the details are in amc's log)")]
    Internal(String),
}

impl Error {
    /// Returns the gRPC code and the HTTP status for this error; the only mapping in amc.
    pub fn codes(&self) -> (tonic::Code, StatusCode) {
        match self {
            Error::InvalidArgument(_) => (tonic::Code::InvalidArgument, StatusCode::BAD_REQUEST),
            Error::NotFound(_) => (tonic::Code::NotFound, StatusCode::NOT_FOUND),
            Error::Unauthenticated => (tonic::Code::Unauthenticated, StatusCode::UNAUTHORIZED),
            Error::PermissionDenied(_) => (tonic::Code::PermissionDenied, StatusCode::FORBIDDEN),
            Error::MisdirectedHost(_) => (tonic::Code::PermissionDenied, StatusCode::MISDIRECTED_REQUEST),
            Error::FailedPrecondition(_) => (tonic::Code::FailedPrecondition, StatusCode::CONFLICT),
            Error::ResourceExhausted(_) => (tonic::Code::ResourceExhausted, StatusCode::TOO_MANY_REQUESTS),
            Error::HeadersTooLarge(_) => (
                tonic::Code::ResourceExhausted,
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ),
            Error::ShuttingDown => (tonic::Code::Unavailable, StatusCode::SERVICE_UNAVAILABLE),
            Error::Internal(_) => (tonic::Code::Internal, StatusCode::INTERNAL_SERVER_ERROR),
        }
    }

    /// Returns a short machine-readable code for JSON error bodies.
    pub fn code_name(&self) -> &'static str {
        match self {
            Error::InvalidArgument(_) => "INVALID_ARGUMENT",
            Error::NotFound(_) => "NOT_FOUND",
            Error::Unauthenticated => "UNAUTHENTICATED",
            Error::PermissionDenied(_) | Error::MisdirectedHost(_) => "PERMISSION_DENIED",
            Error::FailedPrecondition(_) => "FAILED_PRECONDITION",
            Error::ResourceExhausted(_) => "RESOURCE_EXHAUSTED",
            Error::HeadersTooLarge(_) => "REQUEST_HEADER_FIELDS_TOO_LARGE",
            Error::ShuttingDown => "UNAVAILABLE",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// The error named by a [`Error::code_name`] (an answer from another amc), with `message`.
    pub fn from_code_name(code: &str, message: String) -> Error {
        match code {
            "INVALID_ARGUMENT" => Error::InvalidArgument(message),
            "NOT_FOUND" => Error::NotFound(message),
            "UNAUTHENTICATED" => Error::Unauthenticated,
            "PERMISSION_DENIED" => Error::PermissionDenied(message),
            "FAILED_PRECONDITION" => Error::FailedPrecondition(message),
            "RESOURCE_EXHAUSTED" => Error::ResourceExhausted(message),
            "UNAVAILABLE" => Error::FailedPrecondition(message),
            _ => Error::Internal(message),
        }
    }

    /// The message a client sees: [`redact`]ed (no absolute paths, no huge ids); what was withheld is logged.
    pub fn public_message(&self) -> String {
        let full = self.to_string();
        let public = redact(&full);
        if public != full {
            tracing::info!(error = %full, "error details withheld from the client");
        }
        public
    }

    fn log(&self) {
        if let Error::Internal(detail) = self {
            tracing::error!(%detail, "internal error");
        }
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        error.log();
        tonic::Status::new(error.codes().0, error.public_message())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let status = self.codes().1;
        let body = Json(serde_json::json!({ "error": self.public_message(), "code": self.code_name() }));
        (status, body).into_response()
    }
}

/// The longest word (an id, a name) an error message shows in full.
const MAX_WORD: usize = 64;
/// The longest error message a client gets.
const MAX_MESSAGE: usize = 512;

/// Shortens `text` for a message shown to a client: at most 64 characters, then an ellipsis and the full length.
pub fn shown(text: &str) -> String {
    match text.char_indices().nth(MAX_WORD) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}… ({} bytes)", &text[..cut], text.len()),
    }
}

/// Makes `message` fit to show a client: an absolute file path becomes `<path>` (URL paths of amc's own routes,
/// `/api/…`, `/amc.v1…`, `/grpc.…`, stay), a word over 64 characters is [`shown`] shortened, the whole at most 512
/// characters.
pub fn redact(message: &str) -> String {
    let mut out = String::with_capacity(message.len().min(MAX_MESSAGE));
    for (i, word) in message.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let core = word.trim_start_matches(['"', '\'', '(', '`', '[']);
        let lead = &word[..word.len() - core.len()];
        let is_route = ["/api/", "/amc.", "/grpc."].iter().any(|p| core.starts_with(p));
        if core.starts_with('/') && core.len() > 1 && !is_route {
            let path = core.trim_end_matches([':', ',', '"', ')', '\'', '`', ']', '.', ';']);
            out.push_str(lead);
            out.push_str("<path>");
            out.push_str(&core[path.len()..]);
        } else {
            out.push_str(&shown(word));
        }
    }
    if let Some((cut, _)) = out.char_indices().nth(MAX_MESSAGE) {
        out.truncate(cut);
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_maps_to_matching_grpc_and_http_codes() {
        let cases = [
            (Error::InvalidArgument("x".into()), tonic::Code::InvalidArgument, 400),
            (Error::NotFound("x".into()), tonic::Code::NotFound, 404),
            (Error::Unauthenticated, tonic::Code::Unauthenticated, 401),
            (Error::PermissionDenied("x".into()), tonic::Code::PermissionDenied, 403),
            (Error::MisdirectedHost("x".into()), tonic::Code::PermissionDenied, 421),
            (
                Error::FailedPrecondition("x".into()),
                tonic::Code::FailedPrecondition,
                409,
            ),
            (
                Error::ResourceExhausted("x".into()),
                tonic::Code::ResourceExhausted,
                429,
            ),
            (Error::HeadersTooLarge(1), tonic::Code::ResourceExhausted, 431),
            (Error::ShuttingDown, tonic::Code::Unavailable, 503),
            (Error::Internal("x".into()), tonic::Code::Internal, 500),
        ];
        for (error, grpc, http) in cases {
            assert_eq!(error.codes(), (grpc, StatusCode::from_u16(http).expect("valid status")));
            assert_eq!(tonic::Status::from(error).code(), grpc);
        }
    }

    #[test]
    fn clients_see_no_paths_and_no_huge_ids() {
        let internal = Error::Internal("reading /home/me/.local/share/amc/events/x.jsonl: denied".into());
        assert!(
            !internal.public_message().contains("/home"),
            "{}",
            internal.public_message()
        );
        let pane = Error::FailedPrecondition("cannot run /usr/bin/zellij: gone".into());
        assert_eq!(pane.public_message(), "failed precondition: cannot run <path>: gone");
        let id = "x".repeat(10_000);
        let huge = Error::NotFound(format!("no session {id:?}"));
        let shown = huge.public_message();
        assert!(shown.len() < 200, "{shown}");
        assert!(shown.contains("10002 bytes"), "{shown}");
        assert_eq!(
            Error::NotFound("no route for /api/nope".into()).public_message(),
            "not found: no route for /api/nope"
        );
        let status = tonic::Status::from(Error::InvalidArgument(format!("bad {id}")));
        assert!(status.message().len() < 200);
    }
}
