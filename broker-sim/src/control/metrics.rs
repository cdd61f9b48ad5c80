//! `GET /metrics`: every topic's traffic counters and offsets and every group's committed
//! offsets and lag in Prometheus's text format, so the Prometheus + Grafana setup users
//! point at Kafka can scrape the binary instead (see [`crate::stats`] for the names).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::cluster::Cluster;
use crate::stats::prometheus_text;

/// Prometheus's text exposition format, version 0.0.4.
const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) async fn scrape(State(cluster): State<Arc<Cluster>>) -> Response {
    // A topic deleted between listing and reading is simply left out.
    let topics: Vec<_> = cluster
        .topics()
        .iter()
        .filter_map(|t| Some((cluster.topic_stats(t)?, cluster.partitions(t)?)))
        .collect();
    let groups: Vec<_> = cluster
        .groups()
        .iter()
        .filter_map(|g| cluster.group(g))
        .collect();
    (
        [(CONTENT_TYPE, CONTENT_TYPE_TEXT)],
        prometheus_text(&topics, &groups),
    )
        .into_response()
}
