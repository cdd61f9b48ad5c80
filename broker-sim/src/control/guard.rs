//! Who may drive the control API. It changes the cluster (stops brokers, injects faults),
//! so a web page open in the developer's browser must not be able to: a browser sends a
//! cross-site POST without asking first only with a form-like content type, and a page
//! can point a DNS name it controls at 127.0.0.1 (DNS rebinding). Every request is
//! checked before it reaches an endpoint:
//!
//! - its `Host` must be an IP address or `localhost` (a rebinding page's requests carry
//!   its own DNS name): 403;
//! - with a token configured (`--control-token`, `BROKER_SIM_CONTROL_TOKEN`), it must
//!   carry `Authorization: Bearer <token>`: 401 — except a GET or HEAD of the web
//!   console's page and files (`/`, `/console/*`), which hold no data and must load
//!   before the page can send the token;
//! - a request that changes something (any method but GET and HEAD) with an `Origin` must
//!   come from the API's own origin: 403;
//! - a POST, PUT or PATCH must say it sends JSON: `Content-Type: application/json` or
//!   any `application/...+json`, such as the schema registry clients'
//!   `application/vnd.schemaregistry.v1+json` (a browser cannot send any of those
//!   cross-site without a preflight, which this API never grants): 415.
//!
//! Each refusal is a JSON error with the reason, and a `tracing` line.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// What the guard enforces beyond its fixed rules.
#[derive(Debug, Clone, Default)]
pub struct ControlOptions {
    /// A bearer token every request must carry.
    pub token: Option<Arc<str>>,
}

/// The host part of a `Host` or `Origin` authority (`host:port`, `[v6]:port`).
fn host_of(authority: &str) -> &str {
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn refuse(status: StatusCode, why: String) -> Response {
    tracing::warn!(%status, why, "control API request refused");
    ApiError::new(status, why).into_response()
}

/// Whether a `Content-Type` names JSON: `application/json` or `application/<anything>+json`,
/// parameters (`; charset=utf-8`) aside.
fn is_json(content_type: &str) -> bool {
    let media = content_type.split(';').next().unwrap_or_default().trim();
    let media = media.to_ascii_lowercase();
    let Some(subtype) = media.strip_prefix("application/") else {
        return false;
    };
    subtype == "json" || (subtype.ends_with("+json") && subtype.len() > "+json".len())
}

/// The checks above, then the endpoint.
pub(super) async fn guard(options: Arc<ControlOptions>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let text = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let host = text(header::HOST);
    if let Some(host) = &host {
        let name = host_of(host);
        if name != "localhost" && name.parse::<IpAddr>().is_err() {
            return refuse(
                StatusCode::FORBIDDEN,
                format!(
                    "Host {host:?} is not an address: only IP addresses and localhost reach this API"
                ),
            );
        }
    }
    let method = request.method().clone();
    let console = matches!(method, Method::GET | Method::HEAD)
        && super::console::is_console_path(request.uri().path());
    if let Some(token) = options.token.as_ref().filter(|_| !console) {
        let given = text(header::AUTHORIZATION);
        let expected = format!("Bearer {token}");
        if given.as_deref() != Some(expected.as_str()) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "this API needs `Authorization: Bearer <token>` (its --control-token)".into(),
            );
        }
    }
    if method != Method::GET && method != Method::HEAD {
        if let Some(origin) = text(header::ORIGIN) {
            let authority = origin.split_once("://").map_or("", |(_, a)| a);
            if host.as_deref() != Some(authority) {
                return refuse(
                    StatusCode::FORBIDDEN,
                    format!(
                        "{method} from origin {origin:?}: only the API's own origin may change the cluster"
                    ),
                );
            }
        }
        if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
            let json = text(header::CONTENT_TYPE).is_some_and(|t| is_json(&t));
            if !json {
                return refuse(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    format!(
                        "{method} needs `Content-Type: application/json` (or another \
                         `application/...+json`)"
                    ),
                );
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_read_without_their_port() {
        assert_eq!(host_of("127.0.0.1:9644"), "127.0.0.1");
        assert_eq!(host_of("[::1]:9644"), "::1");
        assert_eq!(host_of("localhost"), "localhost");
        assert_eq!(host_of("evil.example:80"), "evil.example");
    }

    #[test]
    fn json_and_structured_json_media_types_pass_and_forms_do_not() {
        assert!(is_json("application/json"));
        assert!(is_json("Application/JSON; charset=utf-8"));
        assert!(is_json("application/vnd.schemaregistry.v1+json"));
        assert!(is_json("application/vnd.schemaregistry+json"));
        assert!(!is_json("application/x-www-form-urlencoded"));
        assert!(!is_json("text/plain"));
        assert!(!is_json("multipart/form-data"));
        assert!(!is_json("application/+json"));
        assert!(!is_json("text/json"));
    }
}
