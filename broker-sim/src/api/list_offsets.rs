//! ListOffsets (key 2), v1–10.
//!
//! Special timestamps: -2 earliest (log start), -1 latest (high watermark), -3 the record
//! with the largest timestamp (v7+), -4 earliest local (v8+, the log start: everything is
//! local). -5 latest tiered and -6 earliest pending upload have no tiered storage to look
//! at and answer offset -1. Any other timestamp finds the first record at or after it, or
//! offset -1 when there is none. Only the partition's leader answers. A read_committed
//! request (`isolation_level` 1) sees the log only up to the last stable offset: latest is
//! the LSO, and a timestamp found at or past it is not found.

use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ListOffsetsRequest, ListOffsetsResponse};

use crate::state::acls::Operation;
use super::partitioned::{by_partition, indexed, topic};
use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::error::KafkaError;
use crate::state::Partition;

pub const LATEST: i64 = -1;
pub const EARLIEST: i64 = -2;
pub const MAX_TIMESTAMP: i64 = -3;
pub const EARLIEST_LOCAL: i64 = -4;
pub const LATEST_TIERED: i64 = -5;
pub const EARLIEST_PENDING_UPLOAD: i64 = -6;

fn serve(ctx: &Ctx<'_>, mut request: ListOffsetsRequest) -> ListOffsetsResponse {
    // A partition asked for twice is answered once, with INVALID_REQUEST, as Kafka does.
    let topics = super::merge_by(
        std::mem::take(&mut request.topics),
        |t| t.name.clone(),
        |first, later| first.partitions.extend(later.partitions),
    );
    let mut duplicated = std::collections::BTreeSet::new();
    request.topics = topics
        .into_iter()
        .map(|mut t| {
            let mut seen = std::collections::BTreeSet::new();
            for p in &t.partitions {
                if !seen.insert(p.partition_index) {
                    duplicated.insert((t.name.to_string(), p.partition_index));
                }
            }
            t.partitions = super::dedup_by(std::mem::take(&mut t.partitions), |p| p.partition_index, false);
            t
        })
        .collect();
    let state = ctx.shared.read();
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|lp| {
                    let response = ListOffsetsPartitionResponse::default()
                        .with_partition_index(lp.partition_index);
                    if duplicated.contains(&(topic.name.to_string(), lp.partition_index)) {
                        return response
                            .with_error_code(kafka_protocol::ResponseError::InvalidRequest.code())
                            .with_offset(-1)
                            .with_timestamp(-1)
                            .with_leader_epoch(-1);
                    }
                    let found = state
                        .led_partition(&topic.name, lp.partition_index, ctx.broker_id)
                        .and_then(|p| {
                            let end = if request.isolation_level == READ_COMMITTED {
                                p.last_stable_offset()
                            } else {
                                p.high_watermark()
                            };
                            lookup(&p, lp.current_leader_epoch, lp.timestamp, end)
                                .map(|r| (r, p.leader_epoch))
                        });
                    match found {
                        Ok(((offset, timestamp), epoch)) => response
                            .with_offset(offset)
                            .with_timestamp(timestamp)
                            .with_leader_epoch(if offset >= 0 && ctx.version >= 4 {
                                epoch
                            } else {
                                -1
                            }),
                        Err(e) => response.with_error_code(e.code()),
                    }
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(topic.name)
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

/// `isolation_level` of a read_committed consumer.
const READ_COMMITTED: i8 = 1;

/// (offset, timestamp) for one partition and requested timestamp; `end` is the last
/// offset the isolation level may see.
fn lookup(
    p: &Partition,
    client_epoch: i32,
    timestamp: i64,
    end: i64,
) -> Result<(i64, i64), KafkaError> {
    p.check_leader_epoch(client_epoch)?;
    const NONE: (i64, i64) = (-1, -1);
    Ok(match timestamp {
        LATEST => (end, -1),
        EARLIEST | EARLIEST_LOCAL => (p.log.log_start_offset(), -1),
        MAX_TIMESTAMP => p.log.max_timestamp_record().unwrap_or(NONE),
        LATEST_TIERED | EARLIEST_PENDING_UPLOAD => NONE,
        t => p
            .log
            .offset_for_timestamp(t)
            .filter(|(offset, _)| *offset < end)
            .unwrap_or(NONE),
    })
}

pub(crate) struct ListOffsets;

impl Api for ListOffsets {
    const KEY: ApiKey = ApiKey::ListOffsets;
    const VERSIONS: (i16, i16) = (1, 10);
    type Request = ListOffsetsRequest;
    type Response = ListOffsetsResponse;
    const ACCESS: Access = Access::topic(Operation::Describe);

    async fn handle(ctx: &Ctx<'_>, request: ListOffsetsRequest) -> Reply<ListOffsetsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &ListOffsetsRequest) -> Names {
        Names::partitions(request.topics.iter().map(|t| {
            let partitions = t.partitions.iter().map(|p| p.partition_index).collect();
            (t.name.to_string(), partitions)
        }))
    }

    fn set_throttle(response: &mut ListOffsetsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ListOffsetsResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
    }

    by_partition!(request: topics, answer: topics, entry: error_entry);
}

/// A refused partition's answer.
fn error_entry(index: i32, code: i16) -> ListOffsetsPartitionResponse {
    ListOffsetsPartitionResponse::default()
        .with_partition_index(index)
        .with_error_code(code)
}

indexed!(ListOffsetsPartition: partition_index, ListOffsetsPartitionResponse: partition_index);
topic!(ListOffsetsTopic, name, -, partitions: ListOffsetsPartition);
topic!(answer ListOffsetsTopicResponse, name, -, partitions: ListOffsetsPartitionResponse);
