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

async fn global_config(State(cluster): State<Arc<Cluster>>) -> SrResult {
    let level = cluster
        .schema_registry()
        .compatibility(None)
        .unwrap_or_default();
    sr_ok(json!({ "compatibilityLevel": level.name() }))
}

async fn set_global_config(State(cluster): State<Arc<Cluster>>, body: Bytes) -> SrResult {
    let level = compatibility_of(&body)?;
    cluster.schema_registry().set_compatibility(None, level);
    sr_ok(json!({ "compatibility": level.name() }))
}

async fn delete_global_config(State(cluster): State<Arc<Cluster>>) -> SrResult {
    let previous = cluster.schema_registry().delete_compatibility(None)?;
    sr_ok(json!({ "compatibilityLevel": previous.name() }))
}

/// A subject's own level, or (with `defaultToGlobal=true`) the global one; 40408
/// otherwise.
async fn subject_config(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Q,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let registry = cluster.schema_registry();
    let level = match registry.compatibility(Some(&subject)) {
        Some(level) => level,
        None if query.flag("defaultToGlobal") => registry.effective_compatibility(&subject),
        None => {
            return Err(RegistryError {
                error_code: 40408,
                message: format!(
                    "Subject '{subject}' does not have subject-level compatibility configured"
                ),
            }
            .into());
        }
    };
    sr_ok(json!({ "compatibilityLevel": level.name() }))
}

async fn set_subject_config(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    body: Bytes,
) -> SrResult {
    let level = compatibility_of(&body)?;
    cluster
        .schema_registry()
        .set_compatibility(Some(&subject), level);
    sr_ok(json!({ "compatibility": level.name() }))
}

async fn delete_subject_config(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
) -> SrResult {
    let previous = cluster
        .schema_registry()
        .delete_compatibility(Some(&subject))?;
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

async fn global_mode(State(cluster): State<Arc<Cluster>>) -> SrResult {
    let mode = cluster.schema_registry().mode(None).unwrap_or_default();
    sr_ok(json!({ "mode": mode.name() }))
}

/// `PUT /mode` (`?force=true` sets IMPORT even with subjects registered).
async fn set_global_mode(State(cluster): State<Arc<Cluster>>, query: Q, body: Bytes) -> SrResult {
    let query = QueryParams::from(query)?;
    let mode = mode_of(&body)?;
    cluster
        .schema_registry()
        .set_mode(None, mode, query.flag("force"))?;
    sr_ok(json!({ "mode": mode.name() }))
}

async fn delete_global_mode(State(cluster): State<Arc<Cluster>>) -> SrResult {
    let previous = cluster.schema_registry().delete_mode(None)?;
    sr_ok(json!({ "mode": previous.name() }))
}

/// A subject's own mode, or (with `defaultToGlobal=true`) the global one; 40409
/// otherwise.
async fn subject_mode(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Q,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let registry = cluster.schema_registry();
    let mode = match registry.mode(Some(&subject)) {
        Some(mode) => mode,
        None if query.flag("defaultToGlobal") => registry.mode(None).unwrap_or_default(),
        None => {
            return Err(RegistryError {
                error_code: 40409,
                message: format!("Subject '{subject}' does not have subject-level mode configured"),
            }
            .into());
        }
    };
    sr_ok(json!({ "mode": mode.name() }))
}

async fn set_subject_mode(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Q,
    body: Bytes,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let mode = mode_of(&body)?;
    cluster
        .schema_registry()
        .set_mode(Some(&subject), mode, query.flag("force"))?;
    sr_ok(json!({ "mode": mode.name() }))
}

async fn delete_subject_mode(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
) -> SrResult {
    let previous = cluster.schema_registry().delete_mode(Some(&subject))?;
    sr_ok(json!({ "mode": previous.name() }))
}

/// Only the default context: this registry has no others.
async fn contexts() -> SrResult {
    sr_ok(json!(["."]))
}
