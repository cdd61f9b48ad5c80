//! DescribeProducers (key 61), v0.
//!
//! The active producers of each partition (`kafka-transactions.sh describe-producers`):
//! producer id and epoch, last sequence (-1 when no batch of the current epoch is
//! retained), last timestamp, the epoch of the coordinator that wrote its last marker (-1
//! before any), and the first offset of its open transaction (-1 when none). Any replica
//! answers, as in Kafka (a replica's state is the leader's here); a broker without a
//! replica of the partition is NOT_LEADER_OR_FOLLOWER, an unknown topic or partition
//! UNKNOWN_TOPIC_OR_PARTITION (with Kafka's message for an unknown topic only, as Kafka
//! does).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::describe_producers_response::{
    PartitionResponse, ProducerState, TopicResponse,
};
use kafka_protocol::messages::{DescribeProducersRequest, DescribeProducersResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::error::KafkaError;
use crate::state::State;

fn serve(ctx: &Ctx<'_>, request: DescribeProducersRequest) -> DescribeProducersResponse {
    let state = ctx.shared.read();
    let topics = request
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partition_indexes
                .iter()
                .map(|&index| match producers(&state, &t.name, index, ctx.broker_id) {
                    Ok(active) => PartitionResponse::default()
                        .with_partition_index(index)
                        .with_active_producers(active),
                    Err(e) => {
                        let mut entry = error_entry(index, e.code);
                        // Kafka explains a topic it does not know; a missing
                        // partition of a known topic gets the bare code.
                        if e.code == ResponseError::UnknownTopicOrPartition
                            && state.topic(&t.name).is_none()
                        {
                            entry.error_message =
                                Some(str_bytes(crate::error::kafka_message(e.code)));
                        }
                        entry
                    }
                })
                .collect();
            TopicResponse::default()
                .with_name(t.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    DescribeProducersResponse::default().with_topics(topics)
}

fn producers(
    state: &State,
    topic: &str,
    partition: i32,
    broker: i32,
) -> Result<Vec<ProducerState>, KafkaError> {
    let p = state
        .topic(topic)
        .and_then(|t| t.partition(partition))
        .ok_or(ResponseError::UnknownTopicOrPartition)?;
    if !p.replicas.contains(&broker) {
        return Err(ResponseError::NotLeaderOrFollower.into());
    }
    Ok(p.producers
        .iter()
        .map(|(id, entry)| {
            ProducerState::default()
                .with_producer_id(id.into())
                .with_producer_epoch(entry.epoch.into())
                .with_last_sequence(entry.last_seq().unwrap_or(-1))
                .with_last_timestamp(entry.last_timestamp)
                .with_coordinator_epoch(entry.coordinator_epoch)
                .with_current_txn_start_offset(entry.txn_first_offset.unwrap_or(-1))
        })
        .collect())
}

fn error_entry(index: i32, code: ResponseError) -> PartitionResponse {
    PartitionResponse::default()
        .with_partition_index(index)
        .with_error_code(code.code())
}

pub(crate) struct DescribeProducers;

impl Api for DescribeProducers {
    const KEY: ApiKey = ApiKey::DescribeProducers;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = DescribeProducersRequest;
    type Response = DescribeProducersResponse;
    const ACCESS: Access = Access::topic(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: DescribeProducersRequest) -> Reply<DescribeProducersResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &DescribeProducersRequest) -> Names {
        Names::partitions(
            request
                .topics
                .iter()
                .map(|t| (t.name.to_string(), t.partition_indexes.clone())),
        )
    }

    fn error_response(
        request: &DescribeProducersRequest,
        _: i16,
        code: ResponseError,
    ) -> DescribeProducersResponse {
        DescribeProducersResponse::default().with_topics(
            request
                .topics
                .iter()
                .map(|t: &TopicRequest| {
                    TopicResponse::default().with_name(t.name.clone()).with_partitions(
                        t.partition_indexes
                            .iter()
                            .map(|&i| error_entry(i, code))
                            .collect(),
                    )
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut DescribeProducersResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeProducersResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
    }

    /// The selected partitions are answered with the code (with its message, as Kafka
    /// answers a topic it may not read), the rest served.
    fn refuse<'a>(
        ctx: &'a Ctx<'_>,
        request: DescribeProducersRequest,
        rule: &'a dyn super::Select,
        code: ResponseError,
    ) -> super::Refusal<'a, Self> {
        super::partitioned::refuse::<Self, _, _>(
            ctx,
            request,
            rule,
            code,
            |r| &mut r.topics,
            |a| &mut a.topics,
            refused_entry,
        )
    }
}

/// A refused partition's answer, with the code's message.
fn refused_entry(index: i32, code: i16) -> PartitionResponse {
    let message = ResponseError::try_from_code(code).map(crate::error::kafka_message);
    PartitionResponse::default()
        .with_partition_index(index)
        .with_error_code(code)
        .with_error_message(message.map(str_bytes))
}

super::partitioned::indexed!(PartitionResponse: partition_index);
super::partitioned::topic!(TopicRequest, name, -, partition_indexes: i32);
super::partitioned::topic!(answer TopicResponse, name, -, partitions: PartitionResponse);
