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
    /// Too many actions in a short time for one token or one session; retry later.
    #[error("rate limited: {0}")]
    ResourceExhausted(String),
    /// The server is shutting down; reconnect later.
    #[error("server shutting down")]
    ShuttingDown,
    /// Something failed inside amc; the details are logged.
    #[error("internal error: {0}")]
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
            Error::ShuttingDown => "UNAVAILABLE",
            Error::Internal(_) => "INTERNAL",
        }
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
        tonic::Status::new(error.codes().0, error.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        self.log();
        let status = self.codes().1;
        let body = Json(serde_json::json!({ "error": self.to_string(), "code": self.code_name() }));
        (status, body).into_response()
    }
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
            (Error::ShuttingDown, tonic::Code::Unavailable, 503),
            (Error::Internal("x".into()), tonic::Code::Internal, 500),
        ];
        for (error, grpc, http) in cases {
            assert_eq!(error.codes(), (grpc, StatusCode::from_u16(http).expect("valid status")));
            assert_eq!(tonic::Status::from(error).code(), grpc);
        }
    }
}
