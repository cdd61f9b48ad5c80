//! DescribeQuorum (key 55), v0–2: the KRaft metadata quorum, as `kafka-metadata-quorum.sh
//! describe --status/--replication` shows it — the leader, its epoch, the high watermark
//! and each voter's log end offset and fetch times — from the model in
//! `state/quorum.rs` (every broker a combined broker and controller in a static quorum).
//! v2 lists each voter's controller endpoint: broker-sim has no separate controller
//! listener, so it names the broker's own address as `CONTROLLER`. As Kafka: anything
//! but partition 0 of `__cluster_metadata` is UNKNOWN_TOPIC_OR_PARTITION, per partition.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_quorum_response::{
    Listener, Node, PartitionData, ReplicaState, TopicData,
};
use kafka_protocol::messages::{DescribeQuorumRequest, DescribeQuorumResponse};
use uuid::Uuid;

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, topic_name, Access, LogDetails};
use crate::error::kafka_message;

const METADATA_TOPIC: &str = "__cluster_metadata";

fn serve(ctx: &Ctx<'_>, request: DescribeQuorumRequest) -> DescribeQuorumResponse {
    let valid = request.topics.len() == 1
        && request.topics[0].topic_name.as_str() == METADATA_TOPIC
        && request.topics[0].partitions.len() == 1
        && request.topics[0].partitions[0].partition_index == 0;
    if !valid {
        return DescribeQuorum::error_response(&request, ctx.version, ResponseError::UnknownTopicOrPartition);
    }
    let now = ctx.shared.clock.now_ms();
    let state = ctx.shared.read();
    let (leader, epoch, high_watermark, voters) = state.describe_quorum(now);
    let replica = |v: &crate::state::quorum::Voter| {
        let mut r = ReplicaState::default()
            .with_replica_id(v.id.into())
            .with_log_end_offset(v.log_end_offset);
        if ctx.version >= 1 {
            r = r
                .with_last_fetch_timestamp(v.last_fetch_timestamp)
                .with_last_caught_up_timestamp(v.last_caught_up_timestamp);
        }
        if ctx.version >= 2 {
            // A static quorum (`controller.quorum.voters`) knows no directory ids.
            r = r.with_replica_directory_id(Uuid::nil());
        }
        r
    };
    let partition = PartitionData::default()
        .with_partition_index(0)
        .with_leader_id(leader.into())
        .with_leader_epoch(epoch)
        .with_high_watermark(high_watermark)
        .with_current_voters(voters.iter().map(replica).collect())
        .with_observers(Vec::new());
    // Kafka leaves the messages of a success empty rather than null.
    let mut response = DescribeQuorumResponse::default().with_topics(vec![
            TopicData::default()
                .with_topic_name(topic_name(METADATA_TOPIC))
                .with_partitions(vec![partition]),
        ]);
    if ctx.version >= 2 {
        response.nodes = voters
            .iter()
            .filter_map(|v| state.broker(v.id))
            .map(|b| {
                Node::default().with_node_id(b.id.into()).with_listeners(vec![
                    Listener::default()
                        .with_name(str_bytes("CONTROLLER"))
                        .with_host(str_bytes(b.host.clone()))
                        .with_port(b.port as u16),
                ])
            })
            .collect();
    }
    response
}

pub(crate) struct DescribeQuorum;

impl Api for DescribeQuorum {
    const KEY: ApiKey = ApiKey::DescribeQuorum;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = DescribeQuorumRequest;
    type Response = DescribeQuorumResponse;
    const ACCESS: Access = Access::cluster(Operation::Describe);

    async fn handle(ctx: &Ctx<'_>, request: DescribeQuorumRequest) -> Reply<DescribeQuorumResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &DescribeQuorumRequest) -> Names {
        Names::default()
    }

    /// Every partition asked, with the code and Kafka's message for it
    /// (`getPartitionLevelErrorResponse`).
    fn error_response(request: &DescribeQuorumRequest, _: i16, code: ResponseError) -> DescribeQuorumResponse {
        let message = kafka_message(code);
        DescribeQuorumResponse::default().with_topics(
                request
                    .topics
                    .iter()
                    .map(|t| {
                        TopicData::default()
                            .with_topic_name(t.topic_name.clone())
                            .with_partitions(
                                t.partitions
                                    .iter()
                                    .map(|p| {
                                        PartitionData::default()
                                            .with_partition_index(p.partition_index)
                                            .with_error_code(code.code())
                                            .with_error_message(Some(str_bytes(message.clone())))
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
    }

    fn set_throttle(_: &mut DescribeQuorumResponse, _: i32) {
        // The response has no throttle field.
    }

    fn log_answer(answer: &DescribeQuorumResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for topic in &answer.topics {
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
    }
}
