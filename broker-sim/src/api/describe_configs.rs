//! DescribeConfigs (key 32), v1–4.
//!
//! Topic resources list every Kafka topic config: overrides as DYNAMIC_TOPIC_CONFIG, the
//! rest with Kafka's defaults as DEFAULT_CONFIG. A broker resource named by this broker's
//! id lists the broker configs broker-sim models, with their dynamic values and
//! synonyms (`state/broker_configs.rs`); "" lists the dynamic cluster-wide defaults;
//! another broker's id is INVALID_REQUEST, as Kafka answers. Broker loggers have nothing
//! to list. A topic config's synonyms hold just the entry itself; documentation is not
//! provided.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult, DescribeConfigsSynonym,
};
use kafka_protocol::messages::{DescribeConfigsRequest, DescribeConfigsResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::config::{ConfigEntry, ConfigSource, topic_entries};
use crate::state::broker_configs::Synonym;
use crate::error::KafkaError;
use crate::state::topic::validate_topic_name;

const TOPIC: i8 = 2;
const BROKER: i8 = 4;
const BROKER_LOGGER: i8 = 8;
const CLIENT_METRICS: i8 = 16;

fn serve(
    ctx: &Ctx<'_>,
    request: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let v = ctx.version;
    let state = ctx.shared.read();
    let results = request
        .resources
        .into_iter()
        .map(|r| {
            let name = r.resource_name.to_string();
            let self_only = |entries: Vec<ConfigEntry>| -> Vec<(ConfigEntry, Vec<Synonym>)> {
                entries
                    .into_iter()
                    .map(|e| {
                        let own = (e.name.clone(), e.value.clone(), e.source);
                        (e, vec![own])
                    })
                    .collect()
            };
            let refused =
                super::config_resource_refused(ctx, &state, r.resource_type, &name, Operation::DescribeConfigs);
            let entries: Result<Vec<(ConfigEntry, Vec<Synonym>)>, KafkaError> = match refused {
                // A refused resource is not looked at (Kafka answers it apart).
                Some(code) => Err(KafkaError::new(code, crate::error::kafka_message(code))),
                None => match r.resource_type {
                TOPIC => validate_topic_name(&name).and_then(|()| {
                    state.topic(&name).map(|t| self_only(topic_entries(&t.configs, &t.inherited, &state.config))).ok_or_else(|| {
                        KafkaError::new(ResponseError::UnknownTopicOrPartition, format!("Topic {name} does not exist"))
                    })
                }),
                BROKER | BROKER_LOGGER if !(name.is_empty() || name == ctx.broker_id.to_string()) => {
                    Err(KafkaError::new(
                        ResponseError::InvalidRequest,
                        format!("Unexpected broker id, expected {} or empty string, but received {name}", ctx.broker_id),
                    ))
                }
                // "" asks for the dynamic cluster-wide defaults.
                BROKER => Ok(state.broker_config_entries(&name, ctx.broker_id)),
                BROKER_LOGGER if name.is_empty() => Err(KafkaError::new(
                    ResponseError::InvalidRequest,
                    "Broker logger configs need a broker id",
                )),
                BROKER_LOGGER => Ok(Vec::new()),
                // A default has no synonyms here, as Kafka answers.
                CLIENT_METRICS => Ok(state
                    .client_metrics_entries(&name)
                    .into_iter()
                    .map(|e| {
                        let own = (e.source != ConfigSource::Default)
                            .then(|| (e.name.clone(), e.value.clone(), e.source));
                        (e, own.into_iter().collect())
                    })
                    .collect()),
                other => Err(KafkaError::new(
                    ResponseError::InvalidRequest,
                    format!("Unsupported resource type {other}"),
                )),
            },
            };
            let result = DescribeConfigsResult::default()
                .with_resource_type(r.resource_type)
                .with_resource_name(r.resource_name.clone());
            match entries {
                Ok(entries) => result.with_configs(
                    entries
                        .into_iter()
                        .filter(|(e, _)| {
                            // Kafka treats an empty key list like a null one: every config.
                            r.configuration_keys.as_ref().is_none_or(|keys| {
                                keys.is_empty() || keys.iter().any(|k| k.as_str() == e.name)
                            })
                        })
                        .map(|(e, synonyms)| to_wire(e, synonyms, v, request.include_synonyms))
                        .collect(),
                ),
                // Kafka reports an unknown topic with an empty message.
                Err(e) if e.code == ResponseError::UnknownTopicOrPartition => result
                    .with_error_code(e.code())
                    .with_error_message(Some(str_bytes(""))),
                Err(e) => result
                    .with_error_code(e.code())
                    .with_error_message(Some(str_bytes(e.message))),
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

fn to_wire(
    e: ConfigEntry,
    synonyms: Vec<Synonym>,
    version: i16,
    with_synonyms: bool,
) -> DescribeConfigsResourceResult {
    let mut out = DescribeConfigsResourceResult::default()
        .with_name(str_bytes(e.name.clone()))
        .with_value(e.value.clone().map(str_bytes))
        .with_read_only(e.read_only)
        .with_config_source(e.source as i8)
        // Only asked-for documentation is sent, and broker-sim has none to send.
        .with_documentation(None);
    if with_synonyms {
        out.synonyms = synonyms
            .into_iter()
            .map(|(name, value, source)| {
                DescribeConfigsSynonym::default()
                    .with_name(str_bytes(name))
                    .with_value(value.map(str_bytes))
                    .with_source(source as i8)
            })
            .collect();
    }
    if version >= 3 {
        out.config_type = e.kind as i8;
    }
    out
}

pub(crate) struct DescribeConfigs;

impl Api for DescribeConfigs {
    const KEY: ApiKey = ApiKey::DescribeConfigs;
    const VERSIONS: (i16, i16) = (1, 4);
    type Request = DescribeConfigsRequest;
    type Response = DescribeConfigsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: DescribeConfigsRequest) -> Reply<DescribeConfigsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &DescribeConfigsRequest) -> Names {
        Names::topics(
            request
                .resources
                .iter()
                .filter(|res| res.resource_type == TOPIC)
                .map(|res| res.resource_name.to_string()),
        )
    }

    fn error_response(request: &DescribeConfigsRequest, _: i16, code: ResponseError) -> DescribeConfigsResponse {
        DescribeConfigsResponse::default().with_results(
            request
                .resources
                .iter()
                .map(|res| {
                    DescribeConfigsResult::default()
                        .with_error_code(code.code())
                        .with_error_message(None)
                        .with_resource_type(res.resource_type)
                        .with_resource_name(res.resource_name.clone())
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut DescribeConfigsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeConfigsResponse, log: &mut LogDetails) {
        for result in &answer.results {
            log.error(result.error_code);
        }
    }
}
