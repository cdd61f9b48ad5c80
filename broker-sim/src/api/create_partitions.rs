//! CreatePartitions (key 37), v0–3.
//!
//! Grows a topic to `count` partitions; a count not above the current one is
//! INVALID_PARTITIONS, an unknown topic UNKNOWN_TOPIC_OR_PARTITION. New partitions are placed
//! like the first ones unless assignments are given (with the topic's replication factor,
//! else INVALID_REPLICA_ASSIGNMENT). A topic named twice is INVALID_REQUEST.
//! `validate_only` checks without growing.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{CreatePartitionsRequest, CreatePartitionsResponse};

use crate::state::acls::{Operation, ResourceType};
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};

fn serve(
    ctx: &Ctx<'_>,
    request: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let mut state = ctx.shared.lock();
    let mut seen = std::collections::BTreeMap::new();
    for t in &request.topics {
        *seen.entry(t.name.to_string()).or_insert(0) += 1;
    }
    let results = request
        .topics
        .into_iter()
        .map(|t| {
            if seen[t.name.as_str()] > 1 {
                return CreatePartitionsTopicResult::default()
                    .with_name(t.name)
                    .with_error_code(ResponseError::InvalidRequest.code())
                    .with_error_message(Some(str_bytes("Duplicate topic name.")));
            }
            if !ctx.allowed(&state, ResourceType::Topic, &t.name, Operation::Alter) {
                return CreatePartitionsTopicResult::default()
                    .with_name(t.name)
                    .with_error_code(ResponseError::TopicAuthorizationFailed.code())
                    .with_error_message(None);
            }
            let assignments: Option<Vec<Vec<i32>>> = t.assignments.map(|a| {
                a.into_iter()
                    .map(|a| a.broker_ids.into_iter().map(|b| b.0).collect())
                    .collect()
            });
            let outcome = state.create_partitions(
                &t.name,
                t.count,
                assignments.as_deref(),
                request.validate_only,
            );
            let mut result = CreatePartitionsTopicResult::default().with_name(t.name);
            if let Err(e) = outcome {
                result.error_code = e.code();
                // Kafka's controller gives an unknown topic no message.
                result.error_message = (e.code != ResponseError::UnknownTopicOrPartition)
                    .then(|| str_bytes(e.message));
            }
            result
        })
        .collect();
    drop(state);
    // Long-polling fetches on these partitions answer now, as Kafka's delayed fetches do.
    ctx.shared.wake_all();
    CreatePartitionsResponse::default().with_results(results)
}

pub(crate) struct CreatePartitions;

impl Api for CreatePartitions {
    const KEY: ApiKey = ApiKey::CreatePartitions;
    const VERSIONS: (i16, i16) = (0, 3);
    type Request = CreatePartitionsRequest;
    type Response = CreatePartitionsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: CreatePartitionsRequest) -> Reply<CreatePartitionsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &CreatePartitionsRequest) -> Names {
        Names::topics(request.topics.iter().map(|t| t.name.to_string()))
    }

    fn error_response(request: &CreatePartitionsRequest, _: i16, code: ResponseError) -> CreatePartitionsResponse {
        CreatePartitionsResponse::default().with_results(
            request
                .topics
                .iter()
                .map(|t| {
                    CreatePartitionsTopicResult::default()
                        .with_name(t.name.clone())
                        .with_error_code(code.code())
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut CreatePartitionsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &CreatePartitionsResponse, log: &mut LogDetails) {
        for result in &answer.results {
            log.error(result.error_code);
        }
    }
}
