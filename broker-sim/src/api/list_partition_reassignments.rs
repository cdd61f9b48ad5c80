//! ListPartitionReassignments (key 46), v0: the reassignments in progress — of the
//! partitions asked for, or of every partition when the topic list is null — each with
//! its current replicas and the replicas being added and removed. Partitions that are not
//! moving, and unknown ones, are left out, as Kafka leaves them out.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::list_partition_reassignments_response::{
    OngoingPartitionReassignment, OngoingTopicReassignment,
};
use kafka_protocol::messages::{ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, topic_name, Access, LogDetails};

fn serve(ctx: &Ctx<'_>, request: ListPartitionReassignmentsRequest) -> ListPartitionReassignmentsResponse {
    let state = ctx.shared.read();
    let asked = |topic: &str, partition: i32| match &request.topics {
        None => true,
        Some(topics) => topics
            .iter()
            .any(|t| t.name.as_str() == topic && t.partition_indexes.contains(&partition)),
    };
    let brokers = |ids: &[i32]| ids.iter().map(|&b| b.into()).collect();
    let mut topics: Vec<OngoingTopicReassignment> = Vec::new();
    for (topic, partition, re) in state.reassignments() {
        if !asked(&topic, partition) {
            continue;
        }
        let current: Vec<i32> = re.target.iter().chain(&re.removing).copied().collect();
        let ongoing = OngoingPartitionReassignment::default()
            .with_partition_index(partition)
            .with_replicas(brokers(&current))
            .with_adding_replicas(brokers(&re.adding))
            .with_removing_replicas(brokers(&re.removing));
        match topics.last_mut() {
            Some(t) if t.name.as_str() == topic => t.partitions.push(ongoing),
            _ => topics.push(
                OngoingTopicReassignment::default()
                    .with_name(topic_name(&topic))
                    .with_partitions(vec![ongoing]),
            ),
        }
    }
    ListPartitionReassignmentsResponse::default()
        .with_error_message(None)
        .with_topics(topics)
}

pub(crate) struct ListPartitionReassignments;

impl Api for ListPartitionReassignments {
    const KEY: ApiKey = ApiKey::ListPartitionReassignments;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = ListPartitionReassignmentsRequest;
    type Response = ListPartitionReassignmentsResponse;
    const ACCESS: Access = Access::cluster(Operation::Describe);

    async fn handle(
        ctx: &Ctx<'_>,
        request: ListPartitionReassignmentsRequest,
    ) -> Reply<ListPartitionReassignmentsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &ListPartitionReassignmentsRequest) -> Names {
        Names::topics(request.topics.iter().flatten().map(|t| t.name.to_string()))
    }

    fn error_response(
        _: &ListPartitionReassignmentsRequest,
        _: i16,
        code: ResponseError,
    ) -> ListPartitionReassignmentsResponse {
        ListPartitionReassignmentsResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
    }

    fn set_throttle(response: &mut ListPartitionReassignmentsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ListPartitionReassignmentsResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
