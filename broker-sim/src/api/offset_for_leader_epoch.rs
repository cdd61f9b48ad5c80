//! OffsetForLeaderEpoch (key 23), v2–4.
//!
//! For each partition, the end offset of a leader epoch: where the next epoch began, or
//! the log end offset for the current one, with the largest epoch at or below the one
//! asked for (see `state::epochs` for the cache and its edge cases). Consumers send it
//! after a leader change to learn whether the log was truncated below their position
//! (KIP-320); followers used it for the same purpose before KIP-595.
//!
//! Per partition, in Kafka's order (`ReplicaManager.lastOffsetForLeaderEpoch`,
//! `Partition.lastOffsetForLeaderEpoch`): an unknown topic or partition is
//! UNKNOWN_TOPIC_OR_PARTITION; a broker that holds no replica of it answers
//! NOT_LEADER_OR_FOLLOWER at once; a replica first checks `current_leader_epoch` (older
//! than its leader epoch: FENCED_LEADER_EPOCH, newer: UNKNOWN_LEADER_EPOCH, -1: not
//! checked), then answers NOT_LEADER_OR_FOLLOWER unless it leads. An epoch the cache has
//! no answer for (-1, above every known epoch) is no error: leader epoch and end offset
//! are both -1.
//!
//! `replica_id` (v3+, -1 from consumers, a broker id from followers) changes nothing:
//! Kafka answers consumers and followers alike, and only from the leader. Versions 0–1
//! were removed in Kafka 4.0; v4 is the first flexible one.

use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::{OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse};

use crate::state::acls::Operation;
use super::partitioned::{by_partition, indexed, topic};
use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::error::KafkaError;
use crate::state::State;

fn serve(
    ctx: &Ctx<'_>,
    request: OffsetForLeaderEpochRequest,
) -> OffsetForLeaderEpochResponse {
    let state = ctx.shared.read();
    let topics = request
        .topics
        .into_iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|rq| {
                    let response = EpochEndOffset::default().with_partition(rq.partition);
                    match end_offset(&state, ctx.broker_id, &topic.topic, rq) {
                        Ok((epoch, offset)) => {
                            response.with_leader_epoch(epoch).with_end_offset(offset)
                        }
                        Err(e) => response.with_error_code(e.code()),
                    }
                })
                .collect();
            OffsetForLeaderTopicResult::default()
                .with_topic(topic.topic)
                .with_partitions(partitions)
        })
        .collect();
    OffsetForLeaderEpochResponse::default().with_topics(topics)
}

/// (leader epoch, end offset) of one partition, as `broker` answers it.
fn end_offset(
    state: &State,
    broker: i32,
    topic: &str,
    rq: &OffsetForLeaderPartition,
) -> Result<(i32, i64), KafkaError> {
    let p = state
        .topic(topic)
        .and_then(|t| t.partition(rq.partition))
        .ok_or_else(|| State::unknown_topic(&format!("{topic}-{}", rq.partition)))?;
    // A replica knows the partition's leader epoch and checks the client's against it
    // before it looks at leadership; a broker without a replica knows neither.
    if p.replicas.contains(&broker) {
        p.check_leader_epoch(rq.current_leader_epoch)?;
    }
    // On the same guard: a reassignment finished by a produce in between could otherwise
    // pass the epoch check under one leader and the leadership check under another.
    crate::state::check_leader(&p, topic, broker)?;
    Ok(p.epochs
        .end_offset_for(rq.leader_epoch, p.log.log_end_offset()))
}

pub(crate) struct OffsetForLeaderEpoch;

impl Api for OffsetForLeaderEpoch {
    const KEY: ApiKey = ApiKey::OffsetForLeaderEpoch;
    const VERSIONS: (i16, i16) = (2, 4);
    type Request = OffsetForLeaderEpochRequest;
    type Response = OffsetForLeaderEpochResponse;
    const ACCESS: Access = Access::topic(Operation::Describe);

    async fn handle(ctx: &Ctx<'_>, request: OffsetForLeaderEpochRequest) -> Reply<OffsetForLeaderEpochResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &OffsetForLeaderEpochRequest) -> Names {
        Names::partitions(request.topics.iter().map(|t| {
            let partitions = t.partitions.iter().map(|p| p.partition).collect();
            (t.topic.to_string(), partitions)
        }))
    }

    fn set_throttle(response: &mut OffsetForLeaderEpochResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &OffsetForLeaderEpochResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
    }

    by_partition!(request: topics, answer: topics, entry: error_entry);
}

/// A refused partition's answer.
fn error_entry(index: i32, code: i16) -> EpochEndOffset {
    EpochEndOffset::default()
        .with_partition(index)
        .with_error_code(code)
}

indexed!(OffsetForLeaderPartition: partition, EpochEndOffset: partition);
topic!(OffsetForLeaderTopic, topic, -, partitions: OffsetForLeaderPartition);
topic!(answer OffsetForLeaderTopicResult, topic, -, partitions: EpochEndOffset);
