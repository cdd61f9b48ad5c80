//! Consumer groups: `GET /v1/groups`, `GET /v1/groups/{group}` (state, members with their
//! decoded assignments — for a group of the new protocol also the group and member
//! epochs and each member's target assignment — committed offsets with lag; with
//! `?wait=STATE` a long-poll, see [`describe`]), `GET /v1/groups/{group}/lag` and
//! `POST /v1/groups/{group}/members/{member}/expire` (a consumer "crash" now),
//! `POST /v1/groups/{group}/reset-offsets` (redelivery from a chosen point).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{
    ApiError, ApiResult, Params, blocking, ok, parse_body, parse_number, timed_out, wait_timeout,
};
use crate::{Cluster, GroupInfo, GroupState, GroupWait, OffsetReset, PartitionLag};

pub(super) async fn list(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    ok(json!({ "groups": cluster.groups() }))
}

/// `?wait=STATE&members=N&timeout_ms=T` turns it into a long-poll: answered as soon as the
/// group is in STATE (`Stable` also means every member reconciled) with N members (any
/// number without `members`), or 408 with the wait's message and the group (or null)
/// after T ms (default 30 s) — `Cluster::wait_for_group`. A group that does not exist yet
/// is waited for.
pub(super) async fn describe(
    State(cluster): State<Arc<Cluster>>,
    Params(group): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (mut state, mut members, mut timeout) = (None, None, None);
    for (name, value) in &query {
        match name.as_str() {
            "wait" => state = Some(parse_state(value)?),
            "members" => members = Some(parse_number::<usize>(value, "members")?),
            "timeout_ms" => timeout = Some(value.as_str()),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {name:?} (expected wait, members or timeout_ms)"
                )));
            }
        }
    }
    let Some(state) = state else {
        if members.is_some() || timeout.is_some() {
            return Err(ApiError::bad_request("members and timeout_ms go with wait"));
        }
        return ok(group_json(&find(&cluster, &group)?));
    };
    let timeout = wait_timeout(timeout)?;
    let wait = GroupWait { state, members };
    let (g, waited) = (group.clone(), cluster.clone());
    match blocking(&cluster, move |c| c.wait_for_group(&g, wait, timeout)).await? {
        Ok(info) => ok(group_json(&info)),
        Err(e) => Err(timed_out(e, waited.group(&group).map(|g| group_json(&g)))),
    }
}

/// `GET /v1/groups/{group}/lag[?topic=T][&wait=N&timeout_ms=T]`: the group's lag per
/// partition (`Cluster::group_lag`: what it committed to or owns, or every partition of
/// `topic`) and in total; with `wait`, a long-poll answered once the total is at most N
/// (`Cluster::wait_for_lag`; `wait=0`: the group has committed everything), 408 otherwise.
pub(super) async fn lag(
    State(cluster): State<Arc<Cluster>>,
    Params(group): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (mut topic, mut max_lag, mut timeout) = (None, None, None);
    for (name, value) in &query {
        match name.as_str() {
            "topic" => topic = Some(value.clone()),
            "wait" => max_lag = Some(parse_number::<i64>(value, "wait")?),
            "timeout_ms" => timeout = Some(value.as_str()),
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {name:?} (expected topic, wait or timeout_ms)"
                )));
            }
        }
    }
    let Some(max_lag) = max_lag else {
        if timeout.is_some() {
            return Err(ApiError::bad_request("timeout_ms goes with wait"));
        }
        let lags = cluster
            .group_lag(&group, topic.as_deref())
            .ok_or_else(|| ApiError::not_found(format!("unknown group {group:?}")))?;
        return ok(lag_json(&group, &lags));
    };
    let timeout = wait_timeout(timeout)?;
    let (g, t) = (group.clone(), topic.clone());
    let waited = cluster.clone();
    match blocking(&cluster, move |c| {
        c.wait_for_lag(&g, t.as_deref(), max_lag, timeout)
    })
    .await?
    {
        Ok(lags) => ok(lag_json(&group, &lags)),
        Err(e) => {
            let now = waited.group_lag(&group, topic.as_deref());
            Err(timed_out(e, now.map(|l| lag_json(&group, &l))))
        }
    }
}

fn lag_json(group: &str, lags: &[PartitionLag]) -> Value {
    json!({
        "group_id": group,
        "total_lag": lags.iter().map(|l| l.lag).sum::<i64>(),
        "partitions": lags,
    })
}

/// A group state as Kafka names it (any case).
fn parse_state(name: &str) -> Result<GroupState, ApiError> {
    [
        GroupState::Empty,
        GroupState::PreparingRebalance,
        GroupState::CompletingRebalance,
        GroupState::Stable,
        GroupState::Dead,
    ]
    .into_iter()
    .find(|s| s.as_str().eq_ignore_ascii_case(name))
    .ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown group state {name:?} (expected Empty, PreparingRebalance, \
             CompletingRebalance, Stable or Dead)"
        ))
    })
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
