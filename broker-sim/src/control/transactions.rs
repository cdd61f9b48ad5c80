//! `GET /v1/transactions`, `GET /v1/transactions/{id}`, `POST /v1/transactions/{id}/abort`
//! and `GET /v1/producers`: the transaction coordinator's view of every transactional id,
//! aborting an open transaction from a test (its producer is fenced), and what each
//! partition knows of its producers. The JSON is the serde form of
//! [`crate::TransactionInfo`] and [`crate::ProducerInfo`].

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use super::{ApiError, ApiResult, Params, ok};
use crate::Cluster;

pub(super) async fn list(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    ok(json!({ "transactions": cluster.transactions() }))
}

pub(super) async fn describe(
    State(cluster): State<Arc<Cluster>>,
    Params(id): Params<String>,
) -> ApiResult {
    let t = cluster
        .transaction(&id)
        .ok_or_else(|| ApiError::not_found(format!("unknown transactional id {id:?}")))?;
    ok(json!(t))
}

/// Aborts the open transaction; answers with the transaction as it stands afterwards.
pub(super) async fn abort(
    State(cluster): State<Arc<Cluster>>,
    Params((id, action)): Params<(String, String)>,
) -> ApiResult {
    if action != "abort" {
        return Err(ApiError::not_found(format!(
            "unknown transaction action {action:?} (expected abort)"
        )));
    }
    cluster.abort_transaction(&id)?;
    describe(State(cluster), Params(id)).await
}

/// `?topic=T`: the producers of every partition of T (of every topic when absent), by
/// topic and partition.
pub(super) async fn producers(
    State(cluster): State<Arc<Cluster>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut only = None;
    for (name, value) in &query {
        match name.as_str() {
            "topic" => only = Some(value.clone()),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {name:?} (expected topic)"
                )));
            }
        }
    }
    let topics = match only {
        Some(t) if cluster.partitions(&t).is_some() => vec![t],
        Some(t) => return Err(ApiError::not_found(format!("unknown topic {t:?}"))),
        None => cluster.topics(),
    };
    let mut partitions: Vec<Value> = Vec::new();
    for topic in topics {
        let count = cluster.partitions(&topic).map_or(0, |p| p.len() as i32);
        for p in 0..count {
            let producers = cluster.producers(&topic, p).unwrap_or_default();
            partitions.push(json!({ "topic": topic, "partition": p, "producers": producers }));
        }
    }
    ok(json!({ "partitions": partitions }))
}
