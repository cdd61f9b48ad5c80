//! Client telemetry (KIP-714): `GET /v1/telemetry` (the subscriptions and every client
//! instance with the latest value of each metric it pushed), `POST
//! /v1/telemetry/subscriptions` `{"name", "metrics": [prefixes], "interval_ms"}` and
//! `DELETE /v1/telemetry/subscriptions/{name}`, as `Cluster::subscribe_client_metrics`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiResult, Params, ok, parse_body};
use crate::Cluster;

pub(super) async fn describe(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    let subscriptions: serde_json::Map<String, Value> = cluster
        .client_metrics_subscriptions()
        .into_iter()
        .map(|(name, s)| {
            (
                name,
                json!({"metrics": s.metrics, "interval_ms": s.interval_ms}),
            )
        })
        .collect();
    let clients: Vec<Value> = cluster
        .client_metrics()
        .into_iter()
        .map(|c| {
            let metrics: Vec<Value> = c
                .metrics
                .iter()
                .map(|((name, attributes), value)| {
                    let attributes: serde_json::Map<String, Value> = attributes
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::from(v.clone())))
                        .collect();
                    json!({"name": name, "attributes": attributes, "value": value})
                })
                .collect();
            json!({
                "client_instance_id": c.client_instance_id.to_string(),
                "client_id": c.client_id,
                "pushes": c.pushes,
                "terminated": c.terminated,
                "metrics": metrics,
            })
        })
        .collect();
    ok(json!({"subscriptions": subscriptions, "clients": clients}))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SubscribeBody {
    name: String,
    metrics: Vec<String>,
    interval_ms: i32,
}

pub(super) async fn subscribe(State(cluster): State<Arc<Cluster>>, body: Bytes) -> ApiResult {
    let s: SubscribeBody = parse_body(
        &body,
        "subscription (expected {\"name\": N, \"metrics\": [prefixes], \"interval_ms\": MS})",
    )?;
    let prefixes: Vec<&str> = s.metrics.iter().map(String::as_str).collect();
    cluster.subscribe_client_metrics(&s.name, &prefixes, s.interval_ms)?;
    describe(State(cluster)).await
}

pub(super) async fn unsubscribe(
    State(cluster): State<Arc<Cluster>>,
    Params(name): Params<String>,
) -> ApiResult {
    cluster.unsubscribe_client_metrics(&name)?;
    describe(State(cluster)).await
}
