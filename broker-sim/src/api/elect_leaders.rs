//! ElectLeaders (key 43), v0–2: preferred (`election_type` 0) or unclean (1) leader
//! elections, per partition as `state/replication.rs` decides them, each partition
//! answered with its own error code and message. A null partition list means every
//! partition; its answer lists every topic, with only the partitions where a leader was
//! elected (Kafka leaves out those that needed none or could not get one). v0 has no election type (always preferred) and no
//! top-level error code.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::elect_leaders_response::{PartitionResult, ReplicaElectionResult};
use kafka_protocol::messages::{ElectLeadersRequest, ElectLeadersResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, topic_name, Access, LogDetails};

const UNCLEAN: i8 = 1;

fn serve(ctx: &Ctx<'_>, request: ElectLeadersRequest) -> ElectLeadersResponse {
    let unclean = ctx.version >= 1 && request.election_type == UNCLEAN;
    let now = ctx.shared.clock.now_ms();
    let mut state = ctx.shared.lock();
    let all = request.topic_partitions.is_none();
    let asked: Vec<(String, Vec<i32>)> = match request.topic_partitions {
        Some(topics) => topics
            .into_iter()
            .map(|t| (t.topic.to_string(), t.partitions))
            .collect(),
        None => state
            .topics()
            .map(|t| (t.name.clone(), (0..t.partition_count() as i32).collect()))
            .collect(),
    };
    let mut results = Vec::new();
    for (topic, partitions) in asked {
        let mut partition_result = Vec::new();
        for partition in partitions {
            let outcome = state.elect_leader(&topic, partition, unclean, now);
            if all && outcome.is_err() {
                continue;
            }
            let mut r = PartitionResult::default().with_partition_id(partition);
            if let Err(e) = outcome {
                r.error_code = e.code();
                r.error_message = Some(str_bytes(e.message));
            }
            partition_result.push(r);
        }
        {
            results.push(
                ReplicaElectionResult::default()
                    .with_topic(topic_name(&topic))
                    .with_partition_result(partition_result),
            );
        }
    }
    drop(state);
    // Clients waiting on the old leaders learn of the move.
    ctx.shared.wake_all();
    ElectLeadersResponse::default().with_replica_election_results(results)
}

pub(crate) struct ElectLeaders;

impl Api for ElectLeaders {
    const KEY: ApiKey = ApiKey::ElectLeaders;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = ElectLeadersRequest;
    type Response = ElectLeadersResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

    async fn handle(ctx: &Ctx<'_>, request: ElectLeadersRequest) -> Reply<ElectLeadersResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &ElectLeadersRequest) -> Names {
        Names::topics(
            request
                .topic_partitions
                .iter()
                .flatten()
                .map(|t| t.topic.to_string()),
        )
    }

    /// The code on every partition named, and at the top from v1 (v0 has no top-level
    /// code).
    fn error_response(
        request: &ElectLeadersRequest,
        version: i16,
        code: ResponseError,
    ) -> ElectLeadersResponse {
        ElectLeadersResponse::default()
            .with_error_code(if version >= 1 { code.code() } else { 0 })
            .with_replica_election_results(
                request
                    .topic_partitions
                    .iter()
                    .flatten()
                    .map(|t| {
                        ReplicaElectionResult::default()
                            .with_topic(t.topic.clone())
                            .with_partition_result(
                                t.partitions
                                    .iter()
                                    .map(|p| {
                                        PartitionResult::default()
                                            .with_partition_id(*p)
                                            .with_error_code(code.code())
                                    })
                                    .collect(),
                            )
                    })
                    .collect(),
            )
    }

    fn set_throttle(response: &mut ElectLeadersResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ElectLeadersResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for replica_election_result in &answer.replica_election_results {
            for partition_result_item in &replica_election_result.partition_result {
                log.error(partition_result_item.error_code);
            }
        }
    }
}
