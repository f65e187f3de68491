//! The browser dashboard, embedded in the binary at compile time (no CDN, no build step at run time).
//!
//! Plain ES modules under `dashboard/`: `index.html` loads `app.js`, which imports `model.js` (pure functions,
//! tested by node) and `render.js` (the DOM). The page is fed by `/api/stream`; see docs/dashboard.md.

use axum::{
    http::{header, HeaderName, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

/// One embedded file: `(URL path, content type, bytes)`, the bytes read from `dashboard/<file>` at compile time.
macro_rules! asset {
    ($path:literal, $content_type:expr, $file:literal) => {
        (
            $path,
            $content_type,
            include_bytes!(concat!("../../dashboard/", $file)) as &[u8],
        )
    };
}

const HTML: &str = "text/html; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const SVG: &str = "image/svg+xml";

/// The embedded files: (URL path, content type, bytes). `/` must stay first (the tests read it as the page).
const ASSETS: &[(&str, &str, &[u8])] = &[
    asset!("/", HTML, "index.html"),
    asset!("/index.html", HTML, "index.html"),
    asset!("/app.js", JS, "app.js"),
    asset!("/model.js", JS, "model.js"),
    asset!("/render.js", JS, "render.js"),
    asset!("/style.css", CSS, "style.css"),
    asset!("/favicon.svg", SVG, "favicon.svg"),
    // The typed gRPC-Web client (clients/typescript, bundled), so a page can `import` it from amc itself.
    (
        "/amc-client.js",
        JS,
        include_bytes!("../../clients/typescript/dist/amc-client.js") as &[u8],
    ),
];

/// Only our own files may run or load, so even a rendering bug could not turn a session file's text into script.
/// (`data:` images: the select's chevron is an inline SVG in style.css.)
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Returns whether `path` is one of the dashboard's files (public even with a token: they hold no session data).
pub fn is_asset(path: &str) -> bool {
    ASSETS.iter().any(|(p, _, _)| *p == path)
}

/// Returns the router serving the dashboard's files.
pub fn router() -> Router {
    let mut router = Router::new();
    for (path, content_type, bytes) in ASSETS {
        let (content_type, bytes): (&'static str, &'static [u8]) = (content_type, bytes);
        router = router.route(path, get(move || async move { respond(content_type, bytes) }));
    }
    router
}

fn respond(content_type: &'static str, bytes: &'static [u8]) -> Response {
    // `no-cache` (revalidate each time) so a rebuilt binary's page is picked up on reload.
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
        (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        (header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    (StatusCode::OK, headers, bytes).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_references_is_served() {
        let html = std::str::from_utf8(ASSETS[0].2).expect("utf-8");
        for needed in ["/app.js", "/style.css", "/favicon.svg"] {
            assert!(html.contains(needed), "index.html references {needed}");
            assert!(ASSETS.iter().any(|(p, _, _)| *p == needed), "{needed} is embedded");
        }
        let app = std::str::from_utf8(ASSETS.iter().find(|a| a.0 == "/app.js").expect("app.js").2).expect("utf-8");
        for module in ["./model.js", "./render.js"] {
            assert!(app.contains(module), "app.js imports {module}");
            assert!(
                ASSETS.iter().any(|(p, _, _)| *p == &module[1..]),
                "{module} is embedded"
            );
        }
    }

    #[test]
    fn no_asset_writes_html_from_strings() {
        // The page builds its DOM with createElement/textContent only (a preview holding `<script>` must show as text).
        for (path, _, bytes) in ASSETS.iter().filter(|a| a.0.ends_with(".js")) {
            let text = std::str::from_utf8(bytes).expect("utf-8");
            for sink in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"] {
                assert!(!text.contains(sink), "{path} uses {sink}");
            }
        }
    }
}
