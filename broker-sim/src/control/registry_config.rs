//! The Confluent Schema Registry REST API's settings and checks: compatibility tests
//! (`POST /compatibility/subjects/{s}/versions[/{v}]`), the compatibility level
//! (`/config`, `/config/{s}`), the mode (`/mode`, `/mode/{s}`) and `GET /contexts` (only
//! the default context, `.`). Answers and errors as in `registry`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use super::Params;
use super::registry::{QueryParams, SrResult, new_schema, sr_ok, unprocessable};
use crate::Cluster;
use crate::registry::{Compatibility, Mode, RegistryError};

pub(super) fn routes() -> Router<Arc<Cluster>> {
    Router::new()
        .route(
            "/compatibility/subjects/{subject}/versions",
            post(compatible_with_subject),
        )
        .route(
            "/compatibility/subjects/{subject}/versions/{version}",
            post(compatible_with_version),
        )
        .route(
            "/config",
            get(global_config)
                .put(set_global_config)
                .delete(delete_global_config),
        )
        .route(
            "/config/{subject}",
            get(subject_config)
                .put(set_subject_config)
                .delete(delete_subject_config),
        )
        .route(
            "/mode",
            get(global_mode)
                .put(set_global_mode)
                .delete(delete_global_mode),
        )
        .route(
            "/mode/{subject}",
            get(subject_mode)
                .put(set_subject_mode)
                .delete(delete_subject_mode),
        )
        .route("/contexts", get(contexts))
}

type Q = Result<Query<Vec<(String, String)>>, QueryRejection>;

/// `{"is_compatible": bool}`, with `messages` (the reasons) when `verbose=true`.
fn compatibility_answer(problems: Vec<String>, query: &QueryParams) -> SrResult {
    let mut out = json!({ "is_compatible": problems.is_empty() });
    if query.flag("verbose") {
        out["messages"] = json!(problems);
    }
    sr_ok(out)
}

/// Tests a schema against what registering it would compare it with (compatible when
/// the subject has no versions).
async fn compatible_with_subject(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Q,
    body: Bytes,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let new = new_schema(&body)?;
    let problems = cluster
        .schema_registry()
        .check_compatibility(&subject, None, &new)?;
    compatibility_answer(problems, &query)
}

/// Tests a schema against one version, in the subject's level's direction ("latest" of
/// a subject without versions is compatible, as Confluent answers).
async fn compatible_with_version(
    State(cluster): State<Arc<Cluster>>,
    Params((subject, version)): Params<(String, String)>,
    query: Q,
    body: Bytes,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let new = new_schema(&body)?;
    let registry = cluster.schema_registry();
    let latest = matches!(version.as_str(), "latest" | "-1");
    if latest && registry.versions(&subject).is_err() {
        return compatibility_answer(Vec::new(), &query);
    }
    let problems = registry.check_compatibility(&subject, Some(&version), &new)?;
    compatibility_answer(problems, &query)
}

#[derive(Deserialize)]
struct ConfigBody {
    compatibility: Option<String>,
}

fn compatibility_of(body: &[u8]) -> Result<Compatibility, super::registry::SrError> {
    let body: ConfigBody = serde_json::from_slice(body)
        .map_err(|e| unprocessable(format!("the request body is not a config: {e}")))?;
    Ok(Compatibility::parse(
        body.compatibility.as_deref().unwrap_or("null"),
    )?)
}

// `/config` and `/config/{subject}` are one resource at two scopes (`None`: global), as
// are `/mode` and `/mode/{subject}`: each handler pair is a thin wrapper over one function.

async fn global_config(State(cluster): State<Arc<Cluster>>, query: Q) -> SrResult {
    get_config(&cluster, None, query)
}

async fn subject_config(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Q,
) -> SrResult {
    get_config(&cluster, Some(&subject), query)
}

/// The scope's level; a subject without one of its own answers 40408 unless
/// `defaultToGlobal=true` asks for the level that applies to it.
fn get_config(cluster: &Cluster, subject: Option<&str>, query: Q) -> SrResult {
    let query = QueryParams::from(query)?;
    let registry = cluster.schema_registry();
    let level = match (subject, registry.compatibility(subject)) {
        (_, Some(level)) => level,
        (None, None) => Compatibility::default(),
        (Some(s), None) if query.flag("defaultToGlobal") => registry.effective_compatibility(s),
        (Some(s), None) => {
            return Err(RegistryError {
                error_code: 40408,
                message: format!(
                    "Subject '{s}' does not have subject-level compatibility configured"
                ),
            }
            .into());
        }
    };
    sr_ok(json!({ "compatibilityLevel": level.name() }))
}

async fn set_global_config(State(cluster): State<Arc<Cluster>>, body: Bytes) -> SrResult {
    put_config(&cluster, None, &body)
}

async fn set_subject_config(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    body: Bytes,
) -> SrResult {
    put_config(&cluster, Some(&subject), &body)
}

fn put_config(cluster: &Cluster, subject: Option<&str>, body: &[u8]) -> SrResult {
    let level = compatibility_of(body)?;
    cluster.schema_registry().set_compatibility(subject, level);
    sr_ok(json!({ "compatibility": level.name() }))
}

async fn delete_global_config(State(cluster): State<Arc<Cluster>>) -> SrResult {
    delete_config(&cluster, None)
}

async fn delete_subject_config(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
) -> SrResult {
    delete_config(&cluster, Some(&subject))
}

fn delete_config(cluster: &Cluster, subject: Option<&str>) -> SrResult {
    let previous = cluster.schema_registry().delete_compatibility(subject)?;
    sr_ok(json!({ "compatibilityLevel": previous.name() }))
}

#[derive(Deserialize)]
struct ModeBody {
    mode: Option<String>,
}

fn mode_of(body: &[u8]) -> Result<Mode, super::registry::SrError> {
    let body: ModeBody = serde_json::from_slice(body)
        .map_err(|e| unprocessable(format!("the request body is not a mode: {e}")))?;
    Ok(Mode::parse(body.mode.as_deref().unwrap_or("null"))?)
}

async fn global_mode(State(cluster): State<Arc<Cluster>>, query: Q) -> SrResult {
    get_mode(&cluster, None, query)
}

async fn subject_mode(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Q,
) -> SrResult {
    get_mode(&cluster, Some(&subject), query)
}

/// The scope's mode; a subject without one of its own answers 40409 unless
/// `defaultToGlobal=true` asks for the global one.
fn get_mode(cluster: &Cluster, subject: Option<&str>, query: Q) -> SrResult {
    let query = QueryParams::from(query)?;
    let registry = cluster.schema_registry();
    let mode = match (subject, registry.mode(subject)) {
        (_, Some(mode)) => mode,
        (None, None) => Mode::default(),
        (Some(_), None) if query.flag("defaultToGlobal") => registry.mode(None).unwrap_or_default(),
        (Some(s), None) => {
            return Err(RegistryError {
                error_code: 40409,
                message: format!("Subject '{s}' does not have subject-level mode configured"),
            }
            .into());
        }
    };
    sr_ok(json!({ "mode": mode.name() }))
}

/// `PUT /mode` (`?force=true` sets IMPORT even with subjects registered).
async fn set_global_mode(State(cluster): State<Arc<Cluster>>, query: Q, body: Bytes) -> SrResult {
    put_mode(&cluster, None, query, &body)
}

async fn set_subject_mode(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Q,
    body: Bytes,
) -> SrResult {
    put_mode(&cluster, Some(&subject), query, &body)
}

fn put_mode(cluster: &Cluster, subject: Option<&str>, query: Q, body: &[u8]) -> SrResult {
    let query = QueryParams::from(query)?;
    let mode = mode_of(body)?;
    cluster
        .schema_registry()
        .set_mode(subject, mode, query.flag("force"))?;
    sr_ok(json!({ "mode": mode.name() }))
}

async fn delete_global_mode(State(cluster): State<Arc<Cluster>>) -> SrResult {
    delete_mode(&cluster, None)
}

async fn delete_subject_mode(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
) -> SrResult {
    delete_mode(&cluster, Some(&subject))
}

fn delete_mode(cluster: &Cluster, subject: Option<&str>) -> SrResult {
    let previous = cluster.schema_registry().delete_mode(subject)?;
    sr_ok(json!({ "mode": previous.name() }))
}

/// Only the default context: this registry has no others.
async fn contexts() -> SrResult {
    sr_ok(json!(["."]))
}
