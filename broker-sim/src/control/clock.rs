//! The cluster clock: `GET /v1/clock` and `POST /v1/clock/advance` with `{"ms": N}`.
//!
//! Only a manual clock can be moved; on the system clock (the binary's default) advancing
//! is refused with 409 rather than pretending, since timeouts would still follow real time.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, ApiResult, blocking, ok, parse_body};
use crate::Cluster;

pub(super) async fn now(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    ok(json!({
        "now_ms": cluster.now_ms(),
        "manual": cluster.has_manual_clock(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AdvanceBody {
    ms: u64,
}

/// Moves a manual clock forward and fires whatever came due; answers with the new time.
pub(super) async fn advance(State(cluster): State<Arc<Cluster>>, body: Bytes) -> ApiResult {
    let AdvanceBody { ms } = parse_body(
        &body,
        "clock advance body (expected {\"ms\": N} with N >= 0)",
    )?;
    if !cluster.has_manual_clock() {
        return Err(ApiError::conflict(
            "the cluster runs on the system clock, which cannot be advanced (start it with a \
             manual clock)",
        ));
    }
    blocking(&cluster, move |c| c.advance(Duration::from_millis(ms))).await?;
    ok(json!({ "now_ms": cluster.now_ms(), "manual": true }))
}
