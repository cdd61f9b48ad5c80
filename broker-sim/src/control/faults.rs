//! Fault rules: `POST /v1/faults` (the body is a [`Fault`] in its serde form, answered
//! 201 with `{"id": N}`), `GET /v1/faults` (every rule with its hit count, the last 1,000
//! spent ones included: a spent rule's `hits` equal its `times`),
//! `GET /v1/faults/{id}`, `DELETE /v1/faults/{id}` and `DELETE /v1/faults` (all).
//!
//! The JSON is the serde form of [`Fault`] and [`crate::FaultStatus`] themselves, so the
//! API and the Rust builder cannot drift apart, and serde's message for a bad rule (an
//! unknown API name, error code, action type or field) is the 400's message.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use super::{ApiError, ApiResult, Params, ok, parse_body, parse_number};
use crate::Cluster;
use crate::{Fault, FaultId};

pub(super) async fn inject(State(cluster): State<Arc<Cluster>>, body: Bytes) -> ApiResult {
    let fault: Fault = parse_body(&body, "fault")?;
    let id = cluster.inject(fault)?;
    Ok((StatusCode::CREATED, axum::Json(json!({ "id": id }))).into_response())
}

pub(super) async fn list(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    ok(json!({ "faults": cluster.faults() }))
}

pub(super) async fn get(
    State(cluster): State<Arc<Cluster>>,
    Params(id): Params<String>,
) -> ApiResult {
    let id = fault_id(&id)?;
    let status = cluster.fault(id).ok_or_else(|| unknown_fault(id))?;
    ok(json!(status))
}

pub(super) async fn remove(
    State(cluster): State<Arc<Cluster>>,
    Params(id): Params<String>,
) -> ApiResult {
    let id = fault_id(&id)?;
    if !cluster.remove_fault(id) {
        return Err(unknown_fault(id));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn clear(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    cluster.clear_faults();
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn fault_id(text: &str) -> Result<FaultId, ApiError> {
    parse_number(text, "fault id").map(FaultId)
}

fn unknown_fault(id: FaultId) -> ApiError {
    ApiError::not_found(format!("unknown fault {}", id.0))
}
