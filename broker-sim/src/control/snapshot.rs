//! Snapshots: `POST /v1/snapshot` answers with the cluster's snapshot document (the JSON
//! of [`crate::Snapshot`]); `POST /v1/snapshot?path=/abs/file.json` writes it to that file
//! on the server's side instead and answers `{"path", "bytes", "topics", "records"}`.
//!
//! POST, not GET: a snapshot is an action with a cost (the whole log serialized), and a
//! file write. Taking it and encoding it run on the blocking pool, since a large log takes
//! a while to encode and must not stall the server's executor. The path must be absolute,
//! so that it never depends on the directory the binary was started in.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use serde_json::json;

use super::{ApiError, ApiResult, blocking, ok};
use crate::Cluster;

pub(super) async fn take(
    State(cluster): State<Arc<Cluster>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let mut path = None;
    for (name, value) in query {
        match name.as_str() {
            "path" => path = Some(PathBuf::from(value)),
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {other:?} (expected path)"
                )));
            }
        }
    }
    let Some(path) = path else {
        let body = blocking(&cluster, |c| c.snapshot().to_json()).await?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
    };
    if !path.is_absolute() {
        return Err(ApiError::bad_request(format!(
            "path {} is not absolute",
            path.display()
        )));
    }
    let written = blocking(&cluster, move |c| {
        let snapshot = c.snapshot();
        match snapshot.save(&path) {
            Ok(()) => {
                let bytes = std::fs::metadata(&path).map_or(0, |m| m.len());
                Ok((path, bytes, snapshot.topics.len(), snapshot.record_count()))
            }
            Err(e) => Err(format!(
                "cannot write the snapshot to {}: {e}",
                path.display()
            )),
        }
    })
    .await?;
    match written {
        Ok((path, bytes, topics, records)) => ok(json!({
            "path": path.display().to_string(),
            "bytes": bytes,
            "topics": topics,
            "records": records,
        })),
        Err(message) => Err(ApiError::bad_request(message)),
    }
}
