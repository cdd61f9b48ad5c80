//! Consumer groups: `GET /v1/groups`, `GET /v1/groups/{group}` (state, members with their
//! decoded assignments — for a group of the new protocol also the group and member
//! epochs and each member's target assignment — committed offsets with lag) and
//! `POST /v1/groups/{group}/members/{member}/expire` (a consumer "crash" now),
//! `POST /v1/groups/{group}/reset-offsets` (redelivery from a chosen point).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{ApiError, ApiResult, Params, ok, parse_body};
use crate::OffsetReset;
use crate::{Cluster, GroupInfo};

pub(super) async fn list(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    ok(json!({ "groups": cluster.groups() }))
}

pub(super) async fn describe(
    State(cluster): State<Arc<Cluster>>,
    Params(group): Params<String>,
) -> ApiResult {
    ok(group_json(&find(&cluster, &group)?))
}

/// Removes the member as if its session timed out; answers with the group afterwards
/// (typically rebalancing).
pub(super) async fn expire_member(
    State(cluster): State<Arc<Cluster>>,
    Params((group, member)): Params<(String, String)>,
) -> ApiResult {
    if find(&cluster, &group)?.member(&member).is_none() {
        return Err(ApiError::not_found(format!(
            "group {group:?} has no member {member:?}"
        )));
    }
    cluster.expire_member(&group, &member)?;
    ok(group_json(&find(&cluster, &group)?))
}

/// Where `reset-offsets` moves a group: exactly one of the fields.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResetBody {
    topic: String,
    /// "earliest" or "latest".
    to: Option<String>,
    offset: Option<i64>,
    timestamp: Option<i64>,
}

/// `{"topic": T, "to": "earliest" | "latest"}`, `{"topic": T, "offset": N}` or
/// `{"topic": T, "timestamp": MS}`: sets the committed offset of every partition of T, as
/// `Cluster::reset_group_offsets` (and `kafka-consumer-groups --reset-offsets`) do; 409
/// NON_EMPTY_GROUP while the group has members. Answers the group afterwards.
pub(super) async fn reset_offsets(
    State(cluster): State<Arc<Cluster>>,
    Params(group): Params<String>,
    body: Bytes,
) -> ApiResult {
    let ResetBody {
        topic,
        to,
        offset,
        timestamp,
    } = parse_body(&body, "reset body")?;
    let to = match (to.as_deref(), offset, timestamp) {
        (Some("earliest"), None, None) => OffsetReset::Earliest,
        (Some("latest"), None, None) => OffsetReset::Latest,
        (None, Some(n), None) => OffsetReset::Offset(n),
        (None, None, Some(ms)) => OffsetReset::Timestamp(ms),
        (Some(other), None, None) => {
            return Err(ApiError::bad_request(format!(
                "unknown reset {other:?} (expected \"earliest\" or \"latest\")"
            )));
        }
        _ => {
            return Err(ApiError::bad_request(
                "give exactly one of \"to\", \"offset\" or \"timestamp\"",
            ));
        }
    };
    cluster.reset_group_offsets(&group, &topic, to)?;
    ok(group_json(&find(&cluster, &group)?))
}

fn find(cluster: &Cluster, group: &str) -> Result<GroupInfo, ApiError> {
    cluster
        .group(group)
        .ok_or_else(|| ApiError::not_found(format!("unknown group {group:?}")))
}

fn group_json(g: &GroupInfo) -> Value {
    let members: Vec<Value> = g
        .members
        .iter()
        .map(|m| {
            let by_topic = |a: &[(String, Vec<i32>)]| -> Map<String, Value> {
                a.iter()
                    .map(|(topic, partitions)| (topic.clone(), json!(partitions)))
                    .collect()
            };
            let assignment = by_topic(&m.assignment);
            let mut member = json!({
                "member_id": m.member_id,
                "group_instance_id": m.group_instance_id,
                "client_id": m.client_id,
                "client_host": m.client_host,
                "session_timeout_ms": m.session_timeout_ms,
                "rebalance_timeout_ms": m.rebalance_timeout_ms,
                "assignment": assignment,
            });
            if let Some(epoch) = m.member_epoch {
                member["member_epoch"] = json!(epoch);
                member["member_state"] = json!(m.member_state);
                member["target_assignment"] = Value::Object(by_topic(&m.target_assignment));
            }
            member
        })
        .collect();
    let offsets: Vec<Value> = g
        .offsets
        .iter()
        .map(|o| {
            json!({
                "topic": o.topic,
                "partition": o.partition,
                "offset": o.offset,
                "metadata": o.metadata,
                "leader_epoch": o.leader_epoch,
                "high_watermark": o.high_watermark,
                "lag": o.lag,
            })
        })
        .collect();
    let state = match &g.consumer {
        Some(c) => c.state.as_str(),
        None => g.state.as_str(),
    };
    let mut out = json!({
        "group_id": g.group_id,
        "type": g.group_type,
        "state": state,
        "protocol_type": g.protocol_type,
        "protocol": g.protocol,
        "generation": g.generation,
        "leader": g.leader,
        "coordinator": g.coordinator,
        "members": members,
        "offsets": offsets,
        "total_lag": g.total_lag(),
    });
    if let Some(c) = &g.consumer {
        out["group_epoch"] = json!(c.group_epoch);
        out["assignment_epoch"] = json!(c.assignment_epoch);
        out["assignor"] = json!(c.assignor);
    }
    out
}
