//! The control API: the cluster's embedding API over HTTP/JSON, for the `broker-sim`
//! binary (and for any process that wants to drive an in-process [`Cluster`] from outside).
//!
//! A test written in Python, Node or a shell script cannot call `cluster.records("orders")`
//! or `cluster.stop_broker(2)` on a cluster that runs in another process, so the binary
//! serves the same calls as `/v1/...` endpoints. HTTP/JSON because every language and
//! `curl` speaks it with no client library, and because the JSON of a [`crate::Fault`] is
//! already the serde form of the Rust type (see [`crate::faults`]). The API has no
//! authentication unless given a token, so it listens only where the brokers do (`--host`,
//! loopback by default), and `guard` keeps web pages from driving it.
//!
//! The server is axum, on whatever runtime awaits [`serve`]; it never touches the cluster's
//! own runtime. Calls that only take the state lock for microseconds (inspection, fault
//! rules, expiring a member) run inline; the calls that change brokers, leaders or the
//! clock may wait for the cluster to finish the work (a port closed, timers fired), so they
//! run on the blocking pool and never stall the server's executor, even a current-thread
//! one.
//!
//! Every answer is JSON, except `/metrics` (Prometheus's text format) and the console's
//! page and files. Errors are `{"error": "..."}` with a message that names the
//! problem — 404 for an unknown topic, partition, broker, group, member, fault or path, 400
//! for malformed JSON or a bad parameter — and a refusal by the cluster also carries Kafka's
//! name of the code it returned (`"code": "NOT_LEADER_OR_FOLLOWER"`), with 409 unless the
//! code itself means "not found" (404) or "invalid input" (400), or is
//! UNKNOWN_SERVER_ERROR (500: a broker bug).
//!
//! One file per resource: `brokers` (the cluster, broker lifecycle), `topics` (partitions,
//! records, leadership), `faults`, `groups`, `transactions` (and producers),
//! `schedules`, `checks` (and the history), `clock`, `metrics`, `telemetry`, `users`
//! (SASL users and listeners), `acls`, `requests` (the request log: what clients sent),
//! `snapshot` (the cluster's data as a snapshot document), `registry` and
//! `registry_config` (the embedded schema registry, as Confluent's Schema Registry REST
//! API at `/schemas`, `/subjects`, `/compatibility`, `/config`, `/mode`, `/contexts`: its
//! answers and errors are Confluent's, not this API's), `console` (the web console at
//! `/`, which drives the rest from a browser).

mod acls;
mod brokers;
mod checks;
mod clock;
mod console;
mod faults;
mod groups;
mod guard;
mod metrics;
mod registry;
mod registry_config;
mod requests;
mod schedules;
mod snapshot;
mod telemetry;
mod topics;
mod transactions;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kafka_protocol::ResponseError;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::Cluster;
use crate::KafkaError;
use crate::faults::kafka_name;

pub use guard::ControlOptions;

/// Serves the control API for `cluster` on `listener` until the future is dropped (or the
/// listener fails). Each connection holds a clone of the `Arc`.
pub async fn serve(
    cluster: Arc<Cluster>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    serve_with(cluster, listener, ControlOptions::default()).await
}

/// [`serve`], with a bearer token every request must carry (`options`).
pub async fn serve_with(
    cluster: Arc<Cluster>,
    listener: tokio::net::TcpListener,
    options: ControlOptions,
) -> std::io::Result<()> {
    axum::serve(listener, router(cluster, options)).await
}

/// Every endpoint, in one table.
pub(crate) fn router(cluster: Arc<Cluster>, options: ControlOptions) -> Router {
    let options = Arc::new(options);
    Router::new()
        .route("/v1/cluster", get(brokers::cluster))
        .route("/v1/brokers/{id}/{action}", post(brokers::act))
        .route("/v1/topics", get(topics::list).post(topics::create))
        .route(
            "/v1/topics/{topic}",
            get(topics::describe).delete(topics::delete),
        )
        .route("/v1/topics/{topic}/configs", post(topics::alter_configs))
        .route("/v1/topics/{topic}/compact", post(topics::compact))
        .route(
            "/v1/topics/{topic}/records",
            get(topics::records).post(topics::produce),
        )
        .route(
            "/v1/topics/{topic}/partitions/{partition}/leader",
            post(topics::move_leader),
        )
        .route(
            "/v1/elect-preferred-leaders",
            post(topics::elect_preferred_leaders),
        )
        .route(
            "/v1/faults",
            get(faults::list).post(faults::inject).delete(faults::clear),
        )
        .route("/v1/faults/{id}", get(faults::get).delete(faults::remove))
        .route(
            "/v1/acls",
            get(acls::list).post(acls::add).delete(acls::remove),
        )
        .route("/v1/groups", get(groups::list))
        .route("/v1/groups/{group}", get(groups::describe))
        .route("/v1/groups/{group}/lag", get(groups::lag))
        .route(
            "/v1/groups/{group}/members/{member}/expire",
            post(groups::expire_member),
        )
        .route(
            "/v1/groups/{group}/reset-offsets",
            post(groups::reset_offsets),
        )
        .route("/v1/transactions", get(transactions::list))
        .route("/v1/transactions/{id}", get(transactions::describe))
        .route("/v1/transactions/{id}/{action}", post(transactions::abort))
        .route("/v1/producers", get(transactions::producers))
        .route("/v1/schedules", post(schedules::start))
        .route(
            "/v1/schedules/{id}",
            get(schedules::status).delete(schedules::stop),
        )
        .route("/v1/requests", get(requests::list).delete(requests::clear))
        .route("/v1/history", get(checks::history))
        .route("/v1/checks", get(checks::all))
        .route(
            "/v1/checks/{name}",
            get(checks::one).post(checks::with_input),
        )
        .route("/v1/telemetry", get(telemetry::describe))
        .route("/v1/telemetry/subscriptions", post(telemetry::subscribe))
        .route(
            "/v1/telemetry/subscriptions/{name}",
            axum::routing::delete(telemetry::unsubscribe),
        )
        .route("/v1/users", get(users::list).post(users::add))
        .route("/v1/users/{name}", axum::routing::delete(users::remove))
        .route("/v1/listeners", get(users::listeners))
        .route("/v1/tls/ca.pem", get(users::ca_pem))
        .route(
            "/v1/tls/client-certificates",
            post(users::client_certificate),
        )
        .route("/v1/snapshot", post(snapshot::take))
        .route("/v1/clock", get(clock::now))
        .route("/v1/clock/advance", post(clock::advance))
        .route("/metrics", get(metrics::scrape))
        .route(
            "/v1/topics/{topic}/schema-violations",
            get(topics::schema_violations),
        )
        .merge(registry::routes())
        .merge(registry_config::routes())
        .route("/", get(console::index))
        .route("/console/{file}", get(console::asset))
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::Extension(Arc::new(schedules::Schedules::default())))
        .layer(axum::middleware::from_fn(move |request, next| {
            guard::guard(Arc::clone(&options), request, next)
        }))
        .with_state(cluster)
}

async fn unknown_path(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("no endpoint {}", uri.path()))
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("{} does not accept {method}", uri.path()),
    )
}

/// What a handler answers: a JSON body (200, or another status) or an [`ApiError`].
type ApiResult = Result<Response, ApiError>;

fn ok(body: Value) -> ApiResult {
    Ok(axum::Json(body).into_response())
}

/// An error answer: `{"error": message}`, plus `"code"` when the cluster refused with a
/// Kafka error code.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
    code: Option<String>,
    /// What a timed-out wait saw last (`"state"` in the answer).
    state: Option<Value>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            code: None,
            state: None,
        }
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }
}

impl From<KafkaError> for ApiError {
    fn from(e: KafkaError) -> Self {
        use ResponseError::*;
        let status = match e.code {
            UnknownTopicOrPartition
            | UnknownTopicId
            | GroupIdNotFound
            | UnknownMemberId
            | TransactionalIdNotFound => StatusCode::NOT_FOUND,
            InvalidRequest
            | InvalidTopicException
            | InvalidPartitions
            | InvalidReplicationFactor
            | InvalidReplicaAssignment
            | InvalidConfig
            | PolicyViolation
            | InvalidRecord
            | InvalidTimestamp
            | InvalidGroupId
            | MessageTooLarge => StatusCode::BAD_REQUEST,
            // A broker bug, or a call the cluster does not implement yet.
            UnknownServerError => StatusCode::INTERNAL_SERVER_ERROR,
            // The cluster's current state refuses it: a stopped broker, a non-empty group,
            // a replica out of sync...
            _ => StatusCode::CONFLICT,
        };
        ApiError {
            status,
            message: e.message,
            code: Some(kafka_name(e.code)),
            state: None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({ "error": self.message });
        if let Some(code) = self.code {
            body["code"] = Value::String(code);
        }
        if let Some(state) = self.state {
            body["state"] = state;
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// Path parameters, refused as a JSON 400 rather than axum's plain-text rejection.
struct Params<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Params<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(t)) => Ok(Params(t)),
            Err(e) => Err(ApiError::bad_request(e.body_text())),
        }
    }
}

/// A number from the path or the query, or a 400 naming what it should have been.
fn parse_number<N: std::str::FromStr>(text: &str, what: &str) -> Result<N, ApiError> {
    text.parse()
        .map_err(|_| ApiError::bad_request(format!("{what} {text:?} is not a valid number")))
}

/// A JSON request body, or a 400 saying whether it is not JSON at all or not the expected
/// shape (serde names the field or the type).
fn parse_body<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let problem = match e.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                "malformed JSON"
            }
            _ => "invalid",
        };
        ApiError::bad_request(format!("{problem} {what}: {e}"))
    })
}

/// The longest a long-poll (`?wait=…`) may ask for, and what it gets without
/// `timeout_ms`.
const MAX_WAIT_MS: u64 = 600_000;
const DEFAULT_WAIT_MS: u64 = 30_000;

/// `timeout_ms` of a long-poll, or a 400.
fn wait_timeout(value: Option<&str>) -> Result<std::time::Duration, ApiError> {
    let ms = match value {
        None => DEFAULT_WAIT_MS,
        Some(v) => parse_number::<u64>(v, "timeout_ms")?,
    };
    if ms > MAX_WAIT_MS {
        return Err(ApiError::bad_request(format!(
            "timeout_ms {ms} is over the limit of {MAX_WAIT_MS}"
        )));
    }
    Ok(std::time::Duration::from_millis(ms))
}

/// A long-poll that ended before its condition held: 408, the wait's message and the
/// state then (`state`: what the same endpoint without `wait` answers, or null).
fn timed_out(e: crate::WaitTimeout, state: Option<Value>) -> ApiError {
    ApiError {
        state: Some(state.unwrap_or(Value::Null)),
        ..ApiError::new(StatusCode::REQUEST_TIMEOUT, e.to_string())
    }
}

/// Runs a cluster call that may wait for the cluster's runtime on the blocking pool.
async fn blocking<T: Send + 'static>(
    cluster: &Arc<Cluster>,
    call: impl FnOnce(&Cluster) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let cluster = cluster.clone();
    tokio::task::spawn_blocking(move || call(&cluster))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("cluster call failed: {e}"),
            )
        })
}

/// 404 unless `id` is one of the cluster's brokers.
fn known_broker(cluster: &Cluster, id: i32) -> Result<(), ApiError> {
    if cluster.brokers().iter().any(|b| b.id == id) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("unknown broker {id}")))
    }
}
