//! DescribeClientQuotas (key 48), v0–1: the stored client quotas whose entity matches a
//! filter — each component names an entity type and an exact name, the default, or any
//! name — with Kafka's refusals of a bad filter (INVALID_REQUEST, UNSUPPORTED_VERSION for
//! an unknown entity type). The store is `state/quotas.rs`.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_client_quotas_response::{EntityData, EntryData, ValueData};
use kafka_protocol::messages::{DescribeClientQuotasRequest, DescribeClientQuotasResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::state::quotas::QuotaMatch;

const MATCH_EXACT: i8 = 0;
const MATCH_DEFAULT: i8 = 1;
const MATCH_SPECIFIED: i8 = 2;

fn serve(ctx: &Ctx<'_>, request: DescribeClientQuotasRequest) -> DescribeClientQuotasResponse {
    let mut components = Vec::with_capacity(request.components.len());
    for c in &request.components {
        let kind = c.entity_type.to_string();
        let m = match (c.match_type, &c._match) {
            (MATCH_EXACT, Some(name)) => QuotaMatch::Exact(Some(name.to_string())),
            (MATCH_EXACT, None) => {
                return refused("Request specified MATCH_TYPE_EXACT, but set match string to null.")
            }
            (MATCH_DEFAULT, None) => QuotaMatch::Exact(None),
            (MATCH_DEFAULT, Some(_)) => {
                return refused("Request specified MATCH_TYPE_DEFAULT, but also specified a match string.")
            }
            (MATCH_SPECIFIED, None) => QuotaMatch::Specified,
            (MATCH_SPECIFIED, Some(_)) => {
                return refused("Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.")
            }
            (other, _) => return refused(&format!("Unknown match type {other}")),
        };
        components.push((kind, m));
    }
    let described = ctx.shared.quotas.lock().describe(&components, request.strict);
    match described {
        // Kafka leaves the message of a success empty rather than null.
        Ok(entries) => DescribeClientQuotasResponse::default().with_entries(Some(
                entries
                    .into_iter()
                    .map(|(entity, values)| {
                        EntryData::default()
                            .with_entity(
                                entity
                                    .into_iter()
                                    .map(|(t, n)| {
                                        EntityData::default()
                                            .with_entity_type(str_bytes(t))
                                            .with_entity_name(n.map(str_bytes))
                                    })
                                    .collect(),
                            )
                            .with_values(
                                values
                                    .into_iter()
                                    .map(|(k, v)| ValueData::default().with_key(str_bytes(k)).with_value(v))
                                    .collect(),
                            )
                    })
                    .collect(),
            )),
        Err(e) => DescribeClientQuotasResponse::default()
            .with_error_code(e.code())
            .with_error_message(Some(str_bytes(e.message)))
            .with_entries(None),
    }
}

fn refused(message: &str) -> DescribeClientQuotasResponse {
    DescribeClientQuotasResponse::default()
        .with_error_code(ResponseError::InvalidRequest.code())
        .with_error_message(Some(str_bytes(message)))
        .with_entries(None)
}

pub(crate) struct DescribeClientQuotas;

impl Api for DescribeClientQuotas {
    const KEY: ApiKey = ApiKey::DescribeClientQuotas;
    const VERSIONS: (i16, i16) = (0, 1);
    type Request = DescribeClientQuotasRequest;
    type Response = DescribeClientQuotasResponse;
    const ACCESS: Access = Access::cluster(Operation::DescribeConfigs);

    async fn handle(ctx: &Ctx<'_>, request: DescribeClientQuotasRequest) -> Reply<DescribeClientQuotasResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &DescribeClientQuotasRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &DescribeClientQuotasRequest, _: i16, code: ResponseError) -> DescribeClientQuotasResponse {
        DescribeClientQuotasResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
            .with_entries(None)
    }

    fn set_throttle(response: &mut DescribeClientQuotasResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeClientQuotasResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
