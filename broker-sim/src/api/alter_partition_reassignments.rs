//! AlterPartitionReassignments (key 45), v0–1: move partitions' replicas to target lists,
//! or cancel a move in progress (null replicas), per partition as `state/reassignment.rs`
//! checks and runs them. The added replicas copy the log and the move completes once they
//! are in sync (at once unless replication lags). v1's `allow_replication_factor_change`
//! false refuses a target of another size (INVALID_REPLICATION_FACTOR).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::alter_partition_reassignments_response::{
    ReassignablePartitionResponse, ReassignableTopicResponse,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse,
};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::error::KafkaError;

fn serve(
    ctx: &Ctx<'_>,
    request: AlterPartitionReassignmentsRequest,
) -> AlterPartitionReassignmentsResponse {
    let now = ctx.shared.clock.now_ms();
    let keep_size = ctx.version >= 1 && !request.allow_replication_factor_change;
    let mut state = ctx.shared.lock();
    let responses = request
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .into_iter()
                .map(|p| {
                    let target: Option<Vec<i32>> =
                        p.replicas.map(|r| r.into_iter().map(|b| b.0).collect());
                    let current = state
                        .topic(&t.name)
                        .and_then(|topic| topic.partition(p.partition_index))
                        .map(|part| {
                            part.reassignment
                                .as_ref()
                                .map_or(part.replicas.len(), |re| re.original.len())
                        });
                    let outcome = match (&target, current) {
                        (Some(target), Some(current)) if keep_size && target.len() != current => {
                            Err(KafkaError::new(
                                ResponseError::InvalidReplicationFactor,
                                format!(
                                    "The replication factor is changed from {current} to {} but allowReplicationFactorChange is false",
                                    target.len()
                                ),
                            ))
                        }
                        _ => state.reassign_partition(&t.name, p.partition_index, target, now),
                    };
                    let mut r = ReassignablePartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_error_message(None);
                    if let Err(e) = outcome {
                        r.error_code = e.code();
                        r.error_message = (!e.message.is_empty()).then(|| str_bytes(e.message));
                    }
                    r
                })
                .collect();
            ReassignableTopicResponse::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    drop(state);
    // Leaders may have moved; the timer task learns of copies still to make.
    ctx.shared.wake_all();
    ctx.shared.wake_timers();
    AlterPartitionReassignmentsResponse::default()
        .with_error_message(None)
        .with_responses(responses)
}

pub(crate) struct AlterPartitionReassignments;

impl Api for AlterPartitionReassignments {
    const KEY: ApiKey = ApiKey::AlterPartitionReassignments;
    const VERSIONS: (i16, i16) = (0, 1);
    type Request = AlterPartitionReassignmentsRequest;
    type Response = AlterPartitionReassignmentsResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

    async fn handle(
        ctx: &Ctx<'_>,
        request: AlterPartitionReassignmentsRequest,
    ) -> Reply<AlterPartitionReassignmentsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &AlterPartitionReassignmentsRequest) -> Names {
        Names::topics(request.topics.iter().map(|t| t.name.to_string()))
    }

    fn error_response(
        _: &AlterPartitionReassignmentsRequest,
        _: i16,
        code: ResponseError,
    ) -> AlterPartitionReassignmentsResponse {
        AlterPartitionReassignmentsResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
    }

    fn set_throttle(response: &mut AlterPartitionReassignmentsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &AlterPartitionReassignmentsResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for response in &answer.responses {
            for partition in &response.partitions {
                log.error(partition.error_code);
            }
        }
    }
}
