//! The browser dashboard, embedded in the binary at compile time (no CDN, no build step at run time).

use axum::{
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

/// The embedded files: (URL path, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    ("/", "text/html; charset=utf-8", include_bytes!("../../dashboard/index.html")),
];

/// Returns the router serving the dashboard's files.
pub fn router() -> Router {
    let mut router = Router::new();
    for (path, content_type, bytes) in ASSETS {
        let (content_type, bytes): (&'static str, &'static [u8]) = (content_type, bytes);
        router = router.route(path, get(move || async move { asset(content_type, bytes) }));
    }
    router
}

fn asset(content_type: &'static str, bytes: &'static [u8]) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, content_type), (header::CACHE_CONTROL, "no-cache")],
        bytes,
    )
        .into_response()
}
