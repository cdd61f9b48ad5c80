//! DescribeTopicPartitions (key 75), v0 (KIP-966): what the Java AdminClient 3.8+ uses to
//! describe topics. The topics asked for (every topic when the list is empty) in name
//! order, each with its partitions as Metadata reports them, plus the eligible leader
//! replicas of KIP-966 — none here, as broker-sim keeps no ELR — and paged: at most
//! `response_partition_limit` partitions (capped at Kafka's default
//! `max.request.partition.size.limit`, 2000) per answer, with `next_cursor` naming where
//! the next page starts, and a request's `cursor` where this one does. An unknown topic is
//! UNKNOWN_TOPIC_OR_PARTITION with no partitions.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_topic_partitions_response::{
    Cursor, DescribeTopicPartitionsResponsePartition, DescribeTopicPartitionsResponseTopic,
};
use kafka_protocol::messages::{DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse};

use crate::state::acls::{Operation, ResourceType};
use super::{ALL_TOPIC_OPERATIONS, Api, Ctx, Names, Reply, topic_name, Access, LogDetails};
use crate::state::{State, Topic};

/// Kafka's `max.request.partition.size.limit` default: the most partitions one answer
/// holds.
const MAX_PARTITIONS: i32 = 2000;

fn serve(ctx: &Ctx<'_>, request: DescribeTopicPartitionsRequest) -> DescribeTopicPartitionsResponse {
    let state = ctx.shared.read();
    let mut names: Vec<String> = if request.topics.is_empty() {
        state.topics().map(|t| t.name.clone()).collect()
    } else {
        request.topics.iter().map(|t| t.name.to_string()).collect()
    };
    names.sort();
    names.dedup();
    let (first_topic, first_partition) = match &request.cursor {
        Some(c) => (c.topic_name.to_string(), c.partition_index.max(0)),
        None => (String::new(), 0),
    };
    let mut budget = request.response_partition_limit.clamp(1, MAX_PARTITIONS);
    let mut topics = Vec::new();
    // Topics the requester may not describe: left out of a request for all, else
    // TOPIC_AUTHORIZATION_FAILED at the end, whether or not they exist (as Kafka).
    let mut refused = Vec::new();
    let ops = |name: &str| {
        ctx.authorized_operations(&state, ResourceType::Topic, name, ALL_TOPIC_OPERATIONS)
    };
    let mut next_cursor = None;
    for name in names.into_iter().filter(|n| *n >= first_topic) {
        if !ctx.allowed(&state, ResourceType::Topic, &name, Operation::Describe) {
            if !request.topics.is_empty() {
                refused.push(
                    DescribeTopicPartitionsResponseTopic::default()
                        .with_name(Some(topic_name(&name)))
                        .with_error_code(ResponseError::TopicAuthorizationFailed.code()),
                );
            }
            continue;
        }
        let Some(topic) = state.topic(&name) else {
            topics.push(
                DescribeTopicPartitionsResponseTopic::default()
                    .with_name(Some(topic_name(&name)))
                    .with_error_code(ResponseError::UnknownTopicOrPartition.code())
                    .with_topic_authorized_operations(ops(&name)),
            );
            continue;
        };
        if budget == 0 {
            next_cursor = Some(Cursor::default().with_topic_name(topic_name(&name)).with_partition_index(0));
            break;
        }
        let from = if name == first_topic { first_partition } else { 0 };
        let (described, rest) = partitions(&state, topic, from, &mut budget);
        topics.push(
            DescribeTopicPartitionsResponseTopic::default()
                .with_name(Some(topic_name(&name)))
                .with_topic_id(topic.id)
                .with_is_internal(false)
                .with_partitions(described)
                .with_topic_authorized_operations(ops(&name)),
        );
        if let Some(next) = rest {
            next_cursor = Some(Cursor::default().with_topic_name(topic_name(&name)).with_partition_index(next));
            break;
        }
    }
    topics.extend(refused);
    DescribeTopicPartitionsResponse::default()
        .with_topics(topics)
        .with_next_cursor(next_cursor)
}

/// `topic`'s partitions from `from`, at most `budget` of them (which it spends), and the
/// first one left out if any.
fn partitions(
    state: &State,
    topic: &Topic,
    from: i32,
    budget: &mut i32,
) -> (Vec<DescribeTopicPartitionsResponsePartition>, Option<i32>) {
    let mut out = Vec::new();
    // By index: skipping guards would lock every partition skipped.
    let from = from.max(0) as usize;
    for p in (from..topic.partition_count()).filter_map(|i| topic.partition(i as i32)) {
        if *budget == 0 {
            return (out, Some(p.index));
        }
        *budget -= 1;
        let offline = state
            .offline_replicas(&p)
            .into_iter()
            .map(Into::into)
            .collect();
        out.push(
            DescribeTopicPartitionsResponsePartition::default()
                .with_error_code(if p.leader < 0 {
                    ResponseError::LeaderNotAvailable.code()
                } else {
                    0
                })
                .with_partition_index(p.index)
                .with_leader_id(p.leader.into())
                .with_leader_epoch(p.leader_epoch)
                .with_replica_nodes(p.replicas.iter().map(|&b| b.into()).collect())
                .with_isr_nodes(p.isr.iter().map(|&b| b.into()).collect())
                .with_eligible_leader_replicas(Some(Vec::new()))
                .with_last_known_elr(Some(Vec::new()))
                .with_offline_replicas(offline),
        );
    }
    (out, None)
}

pub(crate) struct DescribeTopicPartitions;

impl Api for DescribeTopicPartitions {
    const KEY: ApiKey = ApiKey::DescribeTopicPartitions;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = DescribeTopicPartitionsRequest;
    type Response = DescribeTopicPartitionsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(
        ctx: &Ctx<'_>,
        request: DescribeTopicPartitionsRequest,
    ) -> Reply<DescribeTopicPartitionsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &DescribeTopicPartitionsRequest) -> Names {
        Names::topics(request.topics.iter().map(|t| t.name.to_string()))
    }

    fn error_response(
        request: &DescribeTopicPartitionsRequest,
        _: i16,
        code: ResponseError,
    ) -> DescribeTopicPartitionsResponse {
        DescribeTopicPartitionsResponse::default().with_topics(
            request
                .topics
                .iter()
                .map(|t| {
                    DescribeTopicPartitionsResponseTopic::default()
                        .with_name(Some(t.name.clone()))
                        .with_error_code(code.code())
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut DescribeTopicPartitionsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeTopicPartitionsResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            log.error(topic.error_code);
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
    }
}
