//! Topics: `GET /v1/topics`, `GET /v1/topics/{topic}` (partitions, leaders, offsets,
//! traffic counters),
//! `GET /v1/topics/{topic}/records`, and leadership:
//! `POST /v1/topics/{topic}/partitions/{p}/leader`, `POST /v1/elect-preferred-leaders`.
//!
//! Records are decoded as [`Cluster::partition_records`] gives them. Keys, values and
//! header values are bytes on the wire; JSON has no bytes, so each is sent as a string
//! with an encoding beside it — `"utf8"` when the bytes are valid UTF-8 (the common case:
//! JSON or text payloads read as they are), `"base64"` otherwise (Avro, Protobuf,
//! Confluent wire format) — and `null` with a `null` encoding for a null key or value.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiError, ApiResult, Params, blocking, known_broker, ok, parse_body, parse_number};
use crate::cluster::{Cluster, PartitionInfo, Record};

/// Records per answer when the query sets no `limit`.
const DEFAULT_LIMIT: usize = 100;

pub(super) async fn list(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    ok(json!({ "topics": cluster.topics() }))
}

pub(super) async fn describe(
    State(cluster): State<Arc<Cluster>>,
    Params(topic): Params<String>,
) -> ApiResult {
    let partitions = partitions(&cluster, &topic)?;
    let stats = cluster
        .topic_stats(&topic)
        .ok_or_else(|| ApiError::not_found(format!("unknown topic {topic:?}")))?;
    let partitions: Vec<Value> = partitions
        .iter()
        .zip(&stats.partitions)
        .map(|(p, s)| {
            let mut p = partition_json(p);
            p["stats"] = traffic_json(s.records_in, s.bytes_in, s.records_out, s.bytes_out);
            p
        })
        .collect();
    ok(json!({
        "name": topic,
        "stats": traffic_json(stats.records_in, stats.bytes_in, stats.records_out, stats.bytes_out),
        "partitions": partitions,
    }))
}

/// Traffic totals as `Cluster::topic_stats` counts them.
fn traffic_json(records_in: u64, bytes_in: u64, records_out: u64, bytes_out: u64) -> Value {
    json!({
        "records_in": records_in,
        "bytes_in": bytes_in,
        "records_out": records_out,
        "bytes_out": bytes_out,
    })
}

/// `?partition=P&offset=O&limit=N`: the records of partition P (every partition, in
/// partition order, when absent) from offset O on (default 0), at most N of them in all
/// (default 100). `next_offset` is where to continue in a one-partition read.
pub(super) async fn records(
    State(cluster): State<Arc<Cluster>>,
    Params(topic): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (mut partition, mut offset, mut limit) = (None, 0i64, DEFAULT_LIMIT);
    for (name, value) in &query {
        match name.as_str() {
            "partition" => partition = Some(parse_number::<i32>(value, "partition")?),
            "offset" => offset = parse_number(value, "offset")?,
            "limit" => limit = parse_number(value, "limit")?,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {name:?} (expected partition, offset or limit)"
                )));
            }
        }
    }
    let count = partitions(&cluster, &topic)?.len() as i32;
    let read: Vec<i32> = match partition {
        Some(p) if (0..count).contains(&p) => vec![p],
        Some(p) => return Err(unknown_partition(&topic, p)),
        None => (0..count).collect(),
    };
    let records: Vec<Record> = read
        .iter()
        .flat_map(|p| cluster.partition_records(&topic, *p))
        .filter(|r| r.offset >= offset)
        .take(limit)
        .collect();
    let mut body = json!({
        "topic": topic,
        "records": records.iter().map(record_json).collect::<Vec<_>>(),
    });
    if let Some(p) = partition {
        body["partition"] = json!(p);
        body["next_offset"] = json!(records.last().map_or(offset, |r| r.offset + 1));
    }
    ok(body)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaderBody {
    broker: i32,
}

/// `{"broker": N}`: N becomes the leader; answers with the partition afterwards.
pub(super) async fn move_leader(
    State(cluster): State<Arc<Cluster>>,
    Params((topic, partition)): Params<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let partition: i32 = parse_number(&partition, "partition")?;
    let LeaderBody { broker } = parse_body(&body, "leader body")?;
    partition_info(&cluster, &topic, partition)?;
    known_broker(&cluster, broker)?;
    let moved = topic.clone();
    blocking(&cluster, move |c| c.move_leader(&moved, partition, broker)).await??;
    ok(partition_json(&partition_info(
        &cluster, &topic, partition,
    )?))
}

pub(super) async fn elect_preferred_leaders(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    let moved = blocking(&cluster, |c| c.elect_preferred_leaders()).await?;
    let moved: Vec<Value> = moved
        .iter()
        .map(|(topic, partition)| json!({ "topic": topic, "partition": partition }))
        .collect();
    ok(json!({ "moved": moved }))
}

fn partitions(cluster: &Cluster, topic: &str) -> Result<Vec<PartitionInfo>, ApiError> {
    cluster
        .partitions(topic)
        .ok_or_else(|| ApiError::not_found(format!("unknown topic {topic:?}")))
}

fn partition_info(
    cluster: &Cluster,
    topic: &str,
    partition: i32,
) -> Result<PartitionInfo, ApiError> {
    partitions(cluster, topic)?
        .into_iter()
        .find(|p| p.partition == partition)
        .ok_or_else(|| unknown_partition(topic, partition))
}

fn unknown_partition(topic: &str, partition: i32) -> ApiError {
    ApiError::not_found(format!("topic {topic:?} has no partition {partition}"))
}

fn partition_json(p: &PartitionInfo) -> Value {
    json!({
        "partition": p.partition,
        "leader": p.leader,
        "leader_epoch": p.leader_epoch,
        "replicas": p.replicas,
        "isr": p.isr,
        "log_start_offset": p.log_start_offset,
        "high_watermark": p.high_watermark,
    })
}

fn record_json(r: &Record) -> Value {
    let (key, key_encoding) = bytes_json(r.key.as_deref());
    let (value, value_encoding) = bytes_json(r.value.as_deref());
    let headers: Vec<Value> = r
        .headers
        .iter()
        .map(|(name, v)| {
            let (value, value_encoding) = bytes_json(v.as_deref());
            json!({ "key": name, "value": value, "value_encoding": value_encoding })
        })
        .collect();
    json!({
        "partition": r.partition,
        "offset": r.offset,
        "timestamp": r.timestamp,
        "key": key,
        "key_encoding": key_encoding,
        "value": value,
        "value_encoding": value_encoding,
        "headers": headers,
    })
}

/// (text, encoding): UTF-8 as it is, anything else base64, null as null.
fn bytes_json(bytes: Option<&[u8]>) -> (Value, Value) {
    match bytes {
        None => (Value::Null, Value::Null),
        Some(b) => match std::str::from_utf8(b) {
            Ok(text) => (json!(text), json!("utf8")),
            Err(_) => (json!(BASE64.encode(b)), json!("base64")),
        },
    }
}
