//! Topics: `GET /v1/topics`, `POST /v1/topics` (create one), `GET /v1/topics/{topic}`
//! (partitions, leaders, offsets, traffic counters),
//! `GET /v1/topics/{topic}/records` (values and keys in the Confluent wire format also
//! decoded with the schema registry) and seeding through `POST` to it,
//! `GET /v1/topics/{topic}/schema-violations` (the audit against the registry), and leadership:
//! `POST /v1/topics/{topic}/partitions/{p}/leader`, `POST /v1/elect-preferred-leaders`;
//! compaction on demand: `POST /v1/topics/{topic}/compact`; `DELETE /v1/topics/{topic}`.
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

use super::{
    ApiError, ApiResult, Params, blocking, known_broker, ok, parse_body, parse_number, timed_out,
    wait_timeout,
};
use crate::NewRecord;
use crate::TopicSpec;
use crate::{Cluster, PartitionInfo, Record};

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
        // Keyed records not in the partition Java's murmur2 gives their key.
        "misplaced": cluster.misplaced_records(&topic).len(),
        "partitions": partitions,
        // The topic's own config overrides; the rest are Kafka's defaults.
        "configs": cluster.topic_configs(&topic).unwrap_or_default(),
    }))
}

/// A topic to create, as a CreateTopics entry names it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTopic {
    name: String,
    /// -1: the cluster's `num.partitions`.
    partitions: i32,
    /// Absent or -1: the cluster's `default.replication.factor`.
    replication_factor: Option<i16>,
    #[serde(default)]
    configs: std::collections::BTreeMap<String, String>,
}

/// `POST /v1/topics` `{"name": "orders", "partitions": 3, "replication_factor": 2,
/// "configs": {"cleanup.policy": "compact"}}`: creates the topic as CreateTopics does
/// (`Cluster::create_topic_with`), refused with Kafka's code (TOPIC_ALREADY_EXISTS 409,
/// INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR or INVALID_CONFIG 400); answers 201
/// with the topic as `GET /v1/topics/{topic}` shows it.
pub(super) async fn create(State(cluster): State<Arc<Cluster>>, body: Bytes) -> ApiResult {
    let topic: NewTopic = parse_body(&body, "topic")?;
    let mut spec = TopicSpec::new(&topic.name, topic.partitions);
    spec.replication_factor = topic.replication_factor.unwrap_or(-1);
    spec.configs = topic.configs;
    cluster.create_topic_with(spec)?;
    let mut created = describe(State(cluster), Params(topic.name)).await?;
    *created.status_mut() = axum::http::StatusCode::CREATED;
    Ok(created)
}

/// `POST /v1/topics/{topic}/configs` `{"configs": {"retention.ms": "60000", "x": null}}`:
/// sets each config given a value and removes the override of each given `null`, all or
/// nothing (as `Cluster::alter_topic_configs`); answers the topic.
pub(super) async fn alter_configs(
    State(cluster): State<Arc<Cluster>>,
    Params(topic): Params<String>,
    body: Bytes,
) -> ApiResult {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Change {
        configs: std::collections::BTreeMap<String, Option<String>>,
    }
    let change: Change = parse_body(&body, "config change")?;
    let changes: Vec<(&str, Option<&str>)> = change
        .configs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_deref()))
        .collect();
    cluster.alter_topic_configs(&topic, &changes)?;
    describe(State(cluster), Params(topic)).await
}

/// `POST /v1/topics/{topic}/compact`: runs the log cleaner over the topic now
/// (`Cluster::compact_now`); answers what it removed.
pub(super) async fn compact(
    State(cluster): State<Arc<Cluster>>,
    Params(topic): Params<String>,
) -> ApiResult {
    let done = cluster.compact_now(&topic)?;
    ok(json!({
        "records_removed": done.records_removed,
        "batches_removed": done.batches_removed,
        "bytes_before": done.bytes_before,
        "bytes_after": done.bytes_after,
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

/// `?partition=P&offset=O&limit=N&isolation=I`: the records of partition P (every
/// partition, in partition order, when absent) from offset O on (default 0), at most N of
/// them in all (default 100). `next_offset` is where to continue in a one-partition read.
/// Each record says its `transaction` status (`none`, `committed`, `aborted`, `open`);
/// `isolation=read_committed` lists only what a read_committed consumer reads (no
/// aborted record, nothing at or past the last stable offset), `read_uncommitted` (the
/// default) everything. Control batches (transaction markers) are never listed.
/// `wait=N&timeout_ms=T` first waits until the partition (or the topic, which may not exist
/// yet) holds at least N records (`Cluster::wait_for_records`), or answers 408 with the
/// wait's message and the count then after T ms (default 30 s).
pub(super) async fn records(
    State(cluster): State<Arc<Cluster>>,
    Params(topic): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> ApiResult {
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let (mut partition, mut offset, mut limit) = (None, 0i64, DEFAULT_LIMIT);
    let mut committed_only = false;
    let (mut wait, mut timeout) = (None, None);
    let mut from_timestamp = i64::MIN;
    for (name, value) in &query {
        match name.as_str() {
            "wait" => wait = Some(parse_number::<usize>(value, "wait")?),
            "timeout_ms" => timeout = Some(value.as_str()),
            "partition" => partition = Some(parse_number::<i32>(value, "partition")?),
            "offset" => offset = parse_number(value, "offset")?,
            "limit" => limit = parse_number(value, "limit")?,
            "timestamp" => from_timestamp = parse_number(value, "timestamp")?,
            "isolation" => {
                committed_only = match value.as_str() {
                    "read_committed" => true,
                    "read_uncommitted" => false,
                    other => {
                        return Err(ApiError::bad_request(format!(
                            "isolation {other:?} is neither read_committed nor read_uncommitted"
                        )));
                    }
                }
            }
            _ => {
                return Err(ApiError::bad_request(format!(
                    "unknown parameter {name:?} (expected partition, offset, timestamp, limit, \
                     isolation, wait or timeout_ms)"
                )));
            }
        }
    }
    if let Some(n) = wait {
        let timeout = wait_timeout(timeout)?;
        let t = topic.clone();
        if let Err(e) = blocking(&cluster, move |c| {
            c.wait_for_partition_records(&t, partition, n, timeout)
        })
        .await?
        {
            let seen = e.seen.clone();
            return Err(timed_out(e, Some(json!({ "topic": topic, "seen": seen }))));
        }
    } else if timeout.is_some() {
        return Err(ApiError::bad_request("timeout_ms goes with wait"));
    }
    let infos = partitions(&cluster, &topic)?;
    let count = infos.len() as i32;
    let read: Vec<i32> = match partition {
        Some(p) if (0..count).contains(&p) => vec![p],
        Some(p) => return Err(unknown_partition(&topic, p)),
        None => (0..count).collect(),
    };
    let records: Vec<Record> = read
        .iter()
        .flat_map(|p| cluster.partition_records(&topic, *p))
        .filter(|r| r.offset >= offset && r.timestamp >= from_timestamp)
        .filter(|r| {
            !committed_only
                || (r.transaction.is_visible_to_read_committed()
                    && r.offset < infos[r.partition as usize].last_stable_offset)
        })
        .take(limit)
        .collect();
    let mut body = json!({
        "topic": topic,
        "records": records
            .iter()
            .map(|r| with_decoded(record_json(r), r, &cluster))
            .collect::<Vec<_>>(),
    });
    if let Some(p) = partition {
        body["partition"] = json!(p);
        body["next_offset"] = json!(records.last().map_or(offset, |r| r.offset + 1));
    }
    ok(body)
}

/// A record to seed, in the form `GET .../records` answers with (encodings default to
/// UTF-8; a missing or null value is a tombstone).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRecordJson {
    partition: Option<i32>,
    timestamp: Option<i64>,
    key: Option<String>,
    key_encoding: Option<String>,
    value: Option<String>,
    value_encoding: Option<String>,
    #[serde(default)]
    headers: Vec<HeaderJson>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HeaderJson {
    key: String,
    value: Option<String>,
    value_encoding: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsBody {
    records: Vec<NewRecordJson>,
}

/// `{"records": [...]}`: seeds each record as `Cluster::produce_record` does, in order (to
/// its `partition`, else by key as the Java partitioner, else round robin); answers where
/// each went. Every record is decoded before any is written, so a bad one writes nothing.
pub(super) async fn produce(
    State(cluster): State<Arc<Cluster>>,
    Params(topic): Params<String>,
    body: Bytes,
) -> ApiResult {
    let RecordsBody { records } = parse_body(&body, "records body")?;
    partitions(&cluster, &topic)?;
    let now = cluster.now_ms();
    let decoded = records
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let at = |field: &str| format!("records[{i}].{field}");
            let headers = r
                .headers
                .into_iter()
                .enumerate()
                .map(|(h, header)| {
                    let what = at(&format!("headers[{h}].value"));
                    let value = decode_bytes(header.value, header.value_encoding, &what)?;
                    Ok((header.key, value))
                })
                .collect::<Result<_, ApiError>>()?;
            let record = NewRecord {
                timestamp: r.timestamp.unwrap_or(now),
                key: decode_bytes(r.key, r.key_encoding, &at("key"))?,
                value: decode_bytes(r.value, r.value_encoding, &at("value"))?,
                headers,
            };
            Ok((r.partition, record))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let mut written = Vec::with_capacity(decoded.len());
    for (partition, record) in decoded {
        let (partition, offset) = cluster.produce_record(&topic, partition, record)?;
        written.push(json!({ "partition": partition, "offset": offset }));
    }
    ok(json!({ "topic": topic, "records": written }))
}

/// The bytes of a key, value or header value sent as text with its encoding.
fn decode_bytes(
    text: Option<String>,
    encoding: Option<String>,
    what: &str,
) -> Result<Option<axum::body::Bytes>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    match encoding.as_deref().unwrap_or("utf8") {
        "utf8" => Ok(Some(text.into())),
        "base64" => BASE64
            .decode(text.as_bytes())
            .map(|b| Some(b.into()))
            .map_err(|e| ApiError::bad_request(format!("{what} is not valid base64: {e}"))),
        other => Err(ApiError::bad_request(format!(
            "{what}: unknown encoding {other:?} (expected \"utf8\" or \"base64\")"
        ))),
    }
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
        "last_stable_offset": p.last_stable_offset,
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
        "transaction": r.transaction,
    })
}

/// Adds `value_decoded` (`key_decoded`) to a record whose value (key) is in the Confluent
/// wire format: `{"schema_id", "subject", "schema_type", "value"}` decoded with the schema
/// its id names (the subject: `<topic>-value` if it has that id, else any subject having
/// it, else null), or `{"schema_id", "error"}`.
fn with_decoded(mut json: Value, r: &Record, cluster: &Cluster) -> Value {
    let registry = cluster.schema_registry();
    let parts = [
        ("value_decoded", r.value.as_deref(), "value"),
        ("key_decoded", r.key.as_deref(), "key"),
    ];
    for (field, bytes, part) in parts {
        let subject = format!("{}-{part}", r.topic);
        let Some(d) = bytes.and_then(|b| registry.decode(b, Some(&subject))) else {
            continue;
        };
        json[field] = match (d.value, d.error) {
            (Some(value), _) => json!({
                "schema_id": d.schema_id,
                "subject": d.subject,
                "schema_type": d.schema_type,
                "value": value,
            }),
            (None, error) => json!({ "schema_id": d.schema_id, "error": error }),
        };
    }
    json
}

/// `GET /v1/topics/{topic}/schema-violations`: the records whose value (or key, when
/// `<topic>-key` has versions) breaks the topic's schemas ([`Cluster::schema_violations`]),
/// with how many values and keys were checked.
pub(super) async fn schema_violations(
    State(cluster): State<Arc<Cluster>>,
    Params(topic): Params<String>,
) -> ApiResult {
    partitions(&cluster, &topic)?;
    let (checked, violations) = blocking(&cluster, {
        let topic = topic.clone();
        move |c| c.audit(&topic)
    })
    .await?;
    let violations: Vec<Value> = violations
        .iter()
        .map(|v| {
            json!({
                "partition": v.partition,
                "offset": v.offset,
                "part": v.part,
                "schema_id": v.schema_id,
                "reason": v.reason,
                "message": v.message,
            })
        })
        .collect();
    ok(json!({ "topic": topic, "checked": checked, "violations": violations }))
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

/// `DELETE /v1/topics/{topic}`: deletes the topic as DeleteTopics does
/// (`Cluster::delete_topic`): its records, offsets and id are gone, and a later topic of
/// the same name is a new one. 204, or 404 for an unknown topic.
pub(super) async fn delete(
    State(cluster): State<Arc<Cluster>>,
    Params(topic): Params<String>,
) -> ApiResult {
    use axum::response::IntoResponse;
    partitions(&cluster, &topic)?;
    cluster.delete_topic(&topic)?;
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
