//! IncrementalAlterConfigs (key 44), v0–1: config changes as operations — SET a value,
//! DELETE an override (back to the default), APPEND to or SUBTRACT from a list-type
//! config. A topic resource's operations apply to its current overrides and the result is
//! validated as CreateTopics validates configs; `validate_only` checks without changing.
//! A change takes effect with the next request or retention check that reads the config.
//!
//! Client-metrics resources (type 16) are telemetry subscriptions
//! (`state/client_metrics.rs`). Broker resources (this broker's id, or "" for the
//! cluster-wide default) change the
//! dynamic broker configs (`state/broker_configs.rs`); another broker's id is refused as
//! Kafka refuses it.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::incremental_alter_configs_response::AlterConfigsResourceResponse;
use kafka_protocol::messages::{IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::config::{ConfigType, topic_config_def};
use crate::error::KafkaError;
use crate::state::State;

pub(super) const TOPIC: i8 = 2;
pub(super) const BROKER: i8 = 4;
/// A client-metrics subscription (KIP-714), `state/client_metrics.rs`.
pub(super) const CLIENT_METRICS: i8 = 16;

const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

fn serve(ctx: &Ctx<'_>, request: IncrementalAlterConfigsRequest) -> IncrementalAlterConfigsResponse {
    let mut state = ctx.shared.lock();
    let responses = request
        .resources
        .into_iter()
        .map(|r| {
            let name = r.resource_name.to_string();
            let ops: Vec<(String, i8, Option<String>)> = r
                .configs
                .iter()
                .map(|c| {
                    (
                        c.name.to_string(),
                        c.config_operation,
                        c.value.as_ref().map(|v| v.to_string()),
                    )
                })
                .collect();
            let refused = super::config_resource_refused(ctx, &state, r.resource_type, &name, Operation::AlterConfigs);
            let outcome: Result<(), KafkaError> = match refused {
                // A refused resource is not looked at (Kafka answers it apart).
                Some(code) => Err(KafkaError::new(code, crate::error::kafka_message(code))),
                None => match r.resource_type {
                TOPIC => alter_topic(&mut state, &name, &ops, request.validate_only),
                BROKER => broker_resource(ctx.broker_id, &name).and_then(|()| {
                    state.alter_broker_configs(&name, &ops, false, request.validate_only)
                }),
                CLIENT_METRICS => {
                    state.alter_client_metrics(&name, &ops, request.validate_only)
                }
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
    IncrementalAlterConfigsResponse::default().with_responses(responses)
}

/// Applies `ops` to the topic's overrides and sets the result.
fn alter_topic(
    state: &mut State,
    name: &str,
    ops: &[(String, i8, Option<String>)],
    validate_only: bool,
) -> Result<(), KafkaError> {
    let mut overrides = state.topic_overrides(name)?.clone();
    let mut seen = std::collections::BTreeSet::new();
    for (key, _, _) in ops {
        if !seen.insert(key) {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                "Error due to duplicate config keys",
            ));
        }
    }
    for (key, op, value) in ops {
        apply(&mut overrides, key, *op, value.as_deref())?;
    }
    state.set_topic_configs(name, overrides, validate_only)
}

/// One operation on a topic's overrides.
fn apply(
    overrides: &mut BTreeMap<String, String>,
    key: &str,
    op: i8,
    value: Option<&str>,
) -> Result<(), KafkaError> {
    let def = topic_config_def(key);
    match op {
        SET => {
            overrides.insert(key.to_string(), value.unwrap_or_default().to_string());
        }
        DELETE => {
            overrides.remove(key);
        }
        APPEND | SUBTRACT => {
            let Some(def) = def.filter(|d| d.kind == ConfigType::List) else {
                let what = if op == APPEND { "APPEND" } else { "SUBTRACT" };
                return Err(KafkaError::new(
                    ResponseError::InvalidConfig,
                    format!("Can't {what} to key {key} because its type is not LIST."),
                ));
            };
            let current = overrides
                .get(key)
                .map_or(def.default.to_string(), Clone::clone);
            let joined = crate::config::list_op(&current, value.unwrap_or_default(), op == APPEND);
            overrides.insert(key.to_string(), joined);
        }
        other => {
            // Kafka fails to read the operation and answers UNKNOWN_SERVER_ERROR.
            return Err(KafkaError::new(
                ResponseError::UnknownServerError,
                format!("Unknown config operation {other}"),
            ));
        }
    }
    Ok(())
}

/// A broker resource must be this broker (a broker changes its own configs) or "",
/// the cluster-wide default.
pub(super) fn broker_resource(broker_id: i32, name: &str) -> Result<(), KafkaError> {
    if !(name.is_empty() || name == broker_id.to_string()) {
        return Err(KafkaError::new(
            ResponseError::InvalidRequest,
            format!("Unexpected broker id, expected {broker_id}, but received {name}"),
        ));
    }
    Ok(())
}

/// A resource's outcome as (error code, message). Kafka sends no message with
/// UNKNOWN_SERVER_ERROR.
pub(super) fn result_message(outcome: Result<(), KafkaError>) -> (i16, Option<StrBytes>) {
    match outcome {
        Ok(()) => (0, None),
        Err(e) if e.code == ResponseError::UnknownServerError => {
            tracing::info!(error = %e, "config change refused");
            (e.code(), None)
        }
        Err(e) => (e.code(), Some(str_bytes(e.message))),
    }
}

/// Kafka's words for a resource type it does not configure.
pub(super) fn unknown_resource(kind: i8) -> KafkaError {
    KafkaError::new(
        ResponseError::InvalidRequest,
        format!("Unknown resource type {kind}"),
    )
}

pub(crate) struct IncrementalAlterConfigs;

impl Api for IncrementalAlterConfigs {
    const KEY: ApiKey = ApiKey::IncrementalAlterConfigs;
    const VERSIONS: (i16, i16) = (0, 1);
    type Request = IncrementalAlterConfigsRequest;
    type Response = IncrementalAlterConfigsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(
        ctx: &Ctx<'_>,
        request: IncrementalAlterConfigsRequest,
    ) -> Reply<IncrementalAlterConfigsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &IncrementalAlterConfigsRequest) -> Names {
        Names::topics(
            request
                .resources
                .iter()
                .filter(|r| r.resource_type == TOPIC)
                .map(|r| r.resource_name.to_string()),
        )
    }

    fn error_response(
        request: &IncrementalAlterConfigsRequest,
        _: i16,
        code: ResponseError,
    ) -> IncrementalAlterConfigsResponse {
        IncrementalAlterConfigsResponse::default().with_responses(
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

    fn set_throttle(response: &mut IncrementalAlterConfigsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &IncrementalAlterConfigsResponse, log: &mut LogDetails) {
        for response in &answer.responses {
            log.error(response.error_code);
        }
    }
}
