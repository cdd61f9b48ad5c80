//! `GET /v1/cluster` and `POST /v1/brokers/{id}/{action}`: `stop`, `start`, `restart`,
//! `isolate`, `heal`, `pause-replication`, `resume-replication`.
//!
//! A lifecycle call answers with the broker as it stands afterwards, so a script sees
//! `"up": false` without a second request.

use std::sync::Arc;

use axum::extract::State;
use serde_json::{Value, json};

use super::{ApiError, ApiResult, Params, blocking, known_broker, ok, parse_number};
use crate::KafkaError;
use crate::{BrokerStatus, Cluster};

pub(super) async fn cluster(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    let brokers: Vec<Value> = cluster.broker_status().iter().map(broker_json).collect();
    ok(json!({
        "cluster_id": cluster.cluster_id(),
        "controller": cluster.controller_id(),
        "bootstrap_servers": cluster.bootstrap_servers(),
        "brokers": brokers,
    }))
}

pub(super) async fn act(
    State(cluster): State<Arc<Cluster>>,
    Params((id, action)): Params<(String, String)>,
) -> ApiResult {
    let id: i32 = parse_number(&id, "broker id")?;
    let call: fn(&Cluster, i32) -> Result<(), KafkaError> = match action.as_str() {
        "stop" => Cluster::stop_broker,
        "start" => Cluster::start_broker,
        "restart" => Cluster::restart_broker,
        "isolate" => Cluster::isolate_broker,
        "heal" => Cluster::heal_broker,
        "pause-replication" => Cluster::pause_replication,
        "resume-replication" => Cluster::resume_replication,
        _ => {
            return Err(ApiError::not_found(format!(
                "unknown broker action {action:?} (expected stop, start, restart, isolate, \
                 heal, pause-replication or resume-replication)"
            )));
        }
    };
    known_broker(&cluster, id)?;
    blocking(&cluster, move |c| call(c, id)).await??;
    let status = cluster
        .broker_status()
        .into_iter()
        .find(|b| b.id == id)
        .ok_or_else(|| ApiError::not_found(format!("unknown broker {id}")))?;
    ok(broker_json(&status))
}

fn broker_json(b: &BrokerStatus) -> Value {
    json!({
        "id": b.id,
        "host": b.host,
        "port": b.port,
        "rack": b.rack,
        "up": b.up,
        "isolated": b.isolated,
    })
}
