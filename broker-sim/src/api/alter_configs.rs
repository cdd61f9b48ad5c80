//! AlterConfigs (key 33), v0–2: the legacy, non-incremental config change. A topic
//! resource's configs become exactly the ones given (those not named go back to their
//! defaults), validated as CreateTopics validates them; `validate_only` checks without
//! changing. A broker resource's dynamic configs become exactly the ones given (see
//! `state/broker_configs.rs`). Each resource gets its own error code and message.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{AlterConfigsRequest, AlterConfigsResponse};

use crate::state::acls::Operation;
use super::incremental_alter_configs::{
    BROKER, TOPIC, broker_resource, result_message, unknown_resource,
};
use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::error::KafkaError;

fn serve(ctx: &Ctx<'_>, request: AlterConfigsRequest) -> AlterConfigsResponse {
    let mut state = ctx.shared.lock();
    let responses = request
        .resources
        .into_iter()
        .map(|r| {
            let name = r.resource_name.to_string();
            let configs: Vec<(String, Option<String>)> = r
                .configs
                .iter()
                .map(|c| (c.name.to_string(), c.value.as_ref().map(|v| v.to_string())))
                .collect();
            let refused = super::config_resource_refused(ctx, &state, r.resource_type, &name, Operation::AlterConfigs);
            let outcome: Result<(), KafkaError> = match refused {
                // A refused resource is not looked at (Kafka answers it apart).
                Some(code) => Err(KafkaError::new(code, crate::error::kafka_message(code))),
                None => match r.resource_type {
                TOPIC => {
                    let overrides: BTreeMap<String, String> = configs
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v?)))
                        .collect();
                    state.set_topic_configs(&name, overrides, request.validate_only)
                }
                // The legacy API replaces the resource's whole set.
                BROKER => broker_resource(ctx.broker_id, &name).and_then(|()| {
                    let ops: Vec<(String, i8, Option<String>)> =
                        configs.into_iter().map(|(k, v)| (k, 0, v)).collect();
                    state.alter_broker_configs(&name, &ops, true, request.validate_only)
                }),
                other => Err(unknown_resource(other)),
            },
            };
            let (code, message) = result_message(outcome);
            AlterConfigsResourceResponse::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name)
                .with_error_code(code)
                .with_error_message(message)
        })
        .collect();
    drop(state);
    // A retention change may have something to delete at the next check.
    ctx.shared.wake_timers();
    AlterConfigsResponse::default().with_responses(responses)
}

pub(crate) struct AlterConfigs;

impl Api for AlterConfigs {
    const KEY: ApiKey = ApiKey::AlterConfigs;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = AlterConfigsRequest;
    type Response = AlterConfigsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: AlterConfigsRequest) -> Reply<AlterConfigsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &AlterConfigsRequest) -> Names {
        Names::topics(
            request
                .resources
                .iter()
                .filter(|r| r.resource_type == TOPIC)
                .map(|r| r.resource_name.to_string()),
        )
    }

    fn error_response(
        request: &AlterConfigsRequest,
        _: i16,
        code: ResponseError,
    ) -> AlterConfigsResponse {
        AlterConfigsResponse::default().with_responses(
            request
                .resources
                .iter()
                .map(|r| {
                    AlterConfigsResourceResponse::default()
                        .with_resource_type(r.resource_type)
                        .with_resource_name(r.resource_name.clone())
                        .with_error_code(code.code())
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut AlterConfigsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &AlterConfigsResponse, log: &mut LogDetails) {
        for response in &answer.responses {
            log.error(response.error_code);
        }
    }
}
