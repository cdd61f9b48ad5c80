//! CreateTopics (key 19), v2–7.
//!
//! Kafka's checks, in Kafka's order: a name given twice in one request (INVALID_REQUEST,
//! neither created), a legal name (INVALID_TOPIC_EXCEPTION), not existing
//! (TOPIC_ALREADY_EXISTS), known configs of the right type (INVALID_CONFIG), a partition
//! count and replication factor (-1 for the broker default) that make sense for this
//! cluster (INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR), or explicit assignments. With
//! `validate_only` nothing is created but the answer is the same. From v5 the answer lists
//! the partition count, replication factor and full config of the topic; from v7 its id.
//! With an authorizer, a topic needs CREATE on the cluster or on itself
//! (TOPIC_AUTHORIZATION_FAILED, "Authorization failed."), and its configs in the answer
//! DESCRIBE_CONFIGS on it (else `topic_config_error_code` TOPIC_AUTHORIZATION_FAILED).
//! Any broker accepts the request (Kafka forwards to the controller; here state is shared).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::{CreateTopicsRequest, CreateTopicsResponse};

use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::config::topic_entries;
use crate::state::TopicSpec;
use crate::state::acls::{Operation, ResourceType};

fn serve(
    ctx: &Ctx<'_>,
    request: CreateTopicsRequest,
) -> CreateTopicsResponse {
    let v = ctx.version;
    let mut state = ctx.shared.lock();
    let mut seen = std::collections::BTreeMap::new();
    for t in &request.topics {
        *seen.entry(t.name.to_string()).or_insert(0) += 1;
    }
    let mut reported_duplicates = std::collections::BTreeSet::new();
    let topics = request
        .topics
        .into_iter()
        .filter(|t| seen[t.name.as_str()] == 1 || reported_duplicates.insert(t.name.to_string()))
        .map(|t| {
            if seen[t.name.as_str()] > 1 {
                // Kafka refuses a name given twice, once, and creates neither.
                return CreatableTopicResult::default()
                    .with_name(t.name)
                    .with_error_code(ResponseError::InvalidRequest.code())
                    .with_error_message(Some(str_bytes("Duplicate topic name.")));
            }
            // CREATE on the cluster, or on the topic (Kafka's `ControllerApis.createTopics`).
            if !ctx.allowed_on_cluster(&state, Operation::Create)
                && !ctx.allowed(&state, ResourceType::Topic, &t.name, Operation::Create)
            {
                return CreatableTopicResult::default()
                    .with_name(t.name)
                    .with_error_code(ResponseError::TopicAuthorizationFailed.code())
                    .with_error_message(Some(str_bytes("Authorization failed.")));
            }
            // The configs of a topic the requester may not describe are not told.
            let configs_hidden =
                !ctx.allowed(&state, ResourceType::Topic, &t.name, Operation::DescribeConfigs);
            let mut indices: Vec<i32> = t.assignments.iter().map(|a| a.partition_index).collect();
            indices.sort_unstable();
            if indices.iter().enumerate().any(|(i, &p)| p != i as i32) {
                return CreatableTopicResult::default()
                    .with_name(t.name)
                    .with_error_code(ResponseError::InvalidReplicaAssignment.code())
                    .with_error_message(Some(str_bytes(format!(
                        "Partitions in a replica assignment must be 0..n without gaps or repeats, got {indices:?}"
                    ))));
            }
            let spec = TopicSpec {
                name: t.name.to_string(),
                partitions: t.num_partitions,
                replication_factor: t.replication_factor,
                assignments: (!t.assignments.is_empty()).then(|| {
                    let mut a = t.assignments.clone();
                    a.sort_by_key(|a| a.partition_index);
                    a.into_iter()
                        .map(|a| a.broker_ids.into_iter().map(|b| b.0).collect())
                        .collect()
                }),
                configs: t
                    .configs
                    .iter()
                    .filter_map(|c| {
                        c.value
                            .as_ref()
                            .map(|v| (c.name.to_string(), v.to_string()))
                    })
                    .collect(),
            };
            let mut result = CreatableTopicResult::default()
                .with_name(t.name)
                .with_error_message(None);
            let outcome = if request.validate_only {
                state.plan_topic(&spec).map(|replicas| (replicas, None))
            } else {
                state.create_topic(&spec).map(|topic| {
                    (
                        topic
                            .partitions()
                            .map(|p| p.replicas.clone())
                            .collect(),
                        Some(topic.id),
                    )
                })
            };
            match outcome {
                Ok((replicas, id)) => {
                    if v >= 5 && configs_hidden {
                        result.num_partitions = -1;
                        result.replication_factor = -1;
                        result.topic_config_error_code =
                            ResponseError::TopicAuthorizationFailed.code();
                    } else if v >= 5 {
                        result.num_partitions = replicas.len() as i32;
                        result.replication_factor =
                            replicas.first().map_or(0, |r: &Vec<i32>| r.len() as i16);
                        result.configs = Some(
                            topic_entries(
                                &spec.configs,
                                &state.broker_configs.topic_defaults(),
                                &state.config,
                            )
                                .into_iter()
                                .map(|e| {
                                    CreatableTopicConfigs::default()
                                        .with_name(str_bytes(e.name))
                                        .with_value(e.value.map(str_bytes))
                                        .with_config_source(e.source as i8)
                                })
                                .collect(),
                        );
                    }
                    if let Some(id) = id {
                        result.topic_id = id;
                    }
                }
                Err(e) => {
                    result.error_code = e.code();
                    result.error_message = Some(str_bytes(e.message));
                }
            }
            result
        })
        .collect();
    CreateTopicsResponse::default().with_topics(topics)
}

pub(crate) struct CreateTopics;

impl Api for CreateTopics {
    const KEY: ApiKey = ApiKey::CreateTopics;
    const VERSIONS: (i16, i16) = (2, 7);
    type Request = CreateTopicsRequest;
    type Response = CreateTopicsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: CreateTopicsRequest) -> Reply<CreateTopicsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &CreateTopicsRequest) -> Names {
        Names::topics(request.topics.iter().map(|t| t.name.to_string()))
    }

    fn error_response(request: &CreateTopicsRequest, _: i16, code: ResponseError) -> CreateTopicsResponse {
        CreateTopicsResponse::default().with_topics(
            request
                .topics
                .iter()
                .map(|t| {
                    CreatableTopicResult::default()
                        .with_name(t.name.clone())
                        .with_error_code(code.code())
                        .with_error_message(None)
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut CreateTopicsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &CreateTopicsResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            log.error(topic.error_code);
            log.error(topic.topic_config_error_code);
        }
    }
}
