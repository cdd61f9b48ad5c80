//! The web console: `GET /` (the page) and `GET /console/{file}` (its scripts, style and
//! icon), a single-page app that drives the rest of the control API from a browser.
//!
//! The files are hand-written HTML, CSS and JavaScript modules in `console/`, compiled into
//! the binary, so the console works offline and with no build step: what the repository
//! holds is what the browser runs. They are served with `Cache-Control: no-cache` (a
//! rebuilt binary is seen at once) and a Content-Security-Policy that allows only the
//! page's own origin — no inline script, no third-party request, no framing — which also
//! keeps the page's fetches same-origin, the kind `guard` lets through. The page and its
//! files need no token (the page cannot know it yet); the `/v1` data they fetch does, and
//! the page sends it as `Authorization: Bearer` once given `?token=` in its URL.

use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS,
};
use axum::response::{IntoResponse, Response};

use super::{ApiError, ApiResult, Params};

/// Every console file: (name under `/console/`, content type, text).
const FILES: &[(&str, &str, &str)] = &[
    ("app.js", JS, include_str!("console/app.js")),
    ("api.js", JS, include_str!("console/api.js")),
    ("ui.js", JS, include_str!("console/ui.js")),
    ("overview.js", JS, include_str!("console/overview.js")),
    ("topics.js", JS, include_str!("console/topics.js")),
    ("messages.js", JS, include_str!("console/messages.js")),
    ("groups.js", JS, include_str!("console/groups.js")),
    ("failures.js", JS, include_str!("console/failures.js")),
    ("requests.js", JS, include_str!("console/requests.js")),
    ("schemas.js", JS, include_str!("console/schemas.js")),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_str!("console/style.css"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("console/icon.svg"),
    ),
];

const JS: &str = "text/javascript; charset=utf-8";

/// Only the page's own origin, for everything; `frame-ancestors` so another site cannot
/// frame the console and trick a click on "stop broker".
const POLICY: &str = "default-src 'self'; object-src 'none'; base-uri 'none'; \
                      form-action 'self'; frame-ancestors 'none'";

fn serve(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type),
            (CACHE_CONTROL, "no-cache"),
            (CONTENT_SECURITY_POLICY, POLICY),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// `GET /`: the page.
pub(super) async fn index() -> Response {
    serve(
        "text/html; charset=utf-8",
        include_str!("console/index.html"),
    )
}

/// `GET /console/{file}`: one of [`FILES`], or a 404 naming it.
pub(super) async fn asset(Params(file): Params<String>) -> ApiResult {
    FILES
        .iter()
        .find(|(name, _, _)| *name == file)
        .map(|(_, content_type, body)| serve(content_type, body))
        .ok_or_else(|| ApiError::not_found(format!("no console file {file:?}")))
}

/// Whether `path` is the page or one of its files, which `guard` serves without a token
/// on GET and HEAD.
pub(super) fn is_console_path(path: &str) -> bool {
    path == "/" || path.starts_with("/console/")
}
