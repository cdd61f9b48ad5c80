//! DeleteTopics (key 20), v1–6.
//!
//! Topics are named (v1–5 `topic_names`, v6 `topics` with a name) or, from v6, given by
//! id. An unknown name is UNKNOWN_TOPIC_OR_PARTITION, an unknown id UNKNOWN_TOPIC_ID.
//! An entry naming both or neither, or a topic given twice, is INVALID_REQUEST. Deletion
//! is immediate: the log is gone when the answer is sent. With an authorizer a topic
//! needs DELETE (on it or on the cluster), and one the requester may not DESCRIBE is
//! TOPIC_AUTHORIZATION_FAILED whether or not it exists.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{DeleteTopicsRequest, DeleteTopicsResponse};

use crate::error::kafka_message;
use crate::state::acls::{Operation, ResourceType};
use super::{Api, Ctx, Names, Reply, str_bytes, topic_name, Access, LogDetails};

fn serve(
    ctx: &Ctx<'_>,
    request: DeleteTopicsRequest,
) -> DeleteTopicsResponse {
    let mut state = ctx.shared.lock();
    let targets: Vec<(Option<String>, uuid::Uuid)> = if ctx.version >= 6 {
        request
            .topics
            .into_iter()
            .map(|t| (t.name.map(|n| n.to_string()), t.topic_id))
            .collect()
    } else {
        request
            .topic_names
            .into_iter()
            .map(|n| (Some(n.to_string()), uuid::Uuid::nil()))
            .collect()
    };
    // Kafka refuses, per entry, a v6 entry naming both or neither, and any topic named
    // twice in one request (by name or by id); the rest of the request goes ahead.
    let mut counts = std::collections::BTreeMap::new();
    for (name, id) in &targets {
        let key = match name {
            Some(n) => format!("name:{n}"),
            None => format!("id:{id}"),
        };
        *counts.entry(key).or_insert(0) += 1;
    }
    let responses = targets
        .into_iter()
        .map(|(name, id)| {
            let refusal = match (&name, id.is_nil()) {
                (Some(_), false) => Some("You may not specify both topic name and topic id."),
                (None, true) => Some("Neither topic name nor id were specified."),
                (Some(n), true) if counts[&format!("name:{n}")] > 1 => {
                    Some("Duplicate topic name.")
                }
                (None, false) if counts[&format!("id:{id}")] > 1 => Some("Duplicate topic id."),
                _ => None,
            };
            if let Some(why) = refusal {
                let mut result = DeletableTopicResult::default()
                    .with_name(name.as_deref().map(topic_name))
                    .with_topic_id(id)
                    .with_error_code(ResponseError::InvalidRequest.code());
                if ctx.version >= 5 {
                    result.error_message = Some(str_bytes(why));
                }
                return result;
            }
            let by_id = name.is_none();
            let name = name.or_else(|| state.topic_name_by_id(&id).map(str::to_string));
            // Kafka's information hiding (`ControllerApis.deleteTopics`): a topic the
            // requester may not describe is TOPIC_AUTHORIZATION_FAILED whether or not it
            // exists, and one given by id is then not named.
            if let Some(n) = &name {
                let may = |op| {
                    ctx.allowed_on_cluster(&state, Operation::Delete)
                        || ctx.allowed(&state, ResourceType::Topic, n, op)
                };
                let (describable, deletable) = (may(Operation::Describe), may(Operation::Delete));
                let exists = state.topic(n).is_some();
                if !describable || (!deletable && (by_id || exists)) {
                    let shown = (!by_id || describable).then(|| topic_name(n));
                    let code = ResponseError::TopicAuthorizationFailed;
                    return DeletableTopicResult::default()
                        .with_name(shown)
                        .with_topic_id(id)
                        .with_error_code(code.code())
                        .with_error_message((ctx.version >= 5).then(|| str_bytes(kafka_message(code))));
                }
            }
            let mut result = DeletableTopicResult::default()
                .with_name(name.as_deref().map(topic_name))
                .with_topic_id(id);
            // Kafka answers these with the codes' own descriptions.
            let error = match name {
                None => Some(ResponseError::UnknownTopicId),
                Some(name) => match state.delete_topic(&name, ctx.shared.clock.now_ms()) {
                    Ok(deleted_id) => {
                        result.topic_id = deleted_id;
                        None
                    }
                    Err(e) => Some(e.code),
                },
            };
            if let Some(code) = error {
                result.error_code = code.code();
                if ctx.version >= 5 {
                    result.error_message = Some(str_bytes(kafka_message(code)));
                }
            }
            result
        })
        .collect();
    drop(state);
    // Long-polling fetches on these partitions answer now, as Kafka's delayed fetches do.
    ctx.shared.wake_all();
    DeleteTopicsResponse::default().with_responses(responses)
}

pub(crate) struct DeleteTopics;

impl Api for DeleteTopics {
    const KEY: ApiKey = ApiKey::DeleteTopics;
    const VERSIONS: (i16, i16) = (1, 6);
    type Request = DeleteTopicsRequest;
    type Response = DeleteTopicsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: DeleteTopicsRequest) -> Reply<DeleteTopicsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(ctx: &Ctx<'_>, request: &DeleteTopicsRequest) -> Names {
        Names::topics(
            request
                .topic_names
                .iter()
                .map(|n| n.to_string())
                .chain(request.topics.iter().map(|d| {
                    let name = d.name.clone().unwrap_or_default();
                    ctx.topic_name(&name, &d.topic_id)
                })),
        )
    }

    fn error_response(request: &DeleteTopicsRequest, version: i16, code: ResponseError) -> DeleteTopicsResponse {
        DeleteTopicsResponse::default().with_responses(if version >= 6 {
            request
                .topics
                .iter()
                .map(|t| {
                    DeletableTopicResult::default()
                        .with_name(t.name.clone())
                        .with_topic_id(t.topic_id)
                        .with_error_code(code.code())
                })
                .collect()
        } else {
            request
                .topic_names
                .iter()
                .map(|name| {
                    DeletableTopicResult::default()
                        .with_name(Some(name.clone()))
                        .with_error_code(code.code())
                })
                .collect()
        })
    }

    fn set_throttle(response: &mut DeleteTopicsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DeleteTopicsResponse, log: &mut LogDetails) {
        for response in &answer.responses {
            log.error(response.error_code);
        }
    }
}
