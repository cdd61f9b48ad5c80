//! AlterClientQuotas (key 49), v0–1: set and remove client quotas (`producer_byte_rate`,
//! `consumer_byte_rate`, `request_percentage`, `controller_mutation_rate`, and
//! `connection_creation_rate` for IPs), validated per entity as Kafka's controller does,
//! with `validate_only`. One result per entity. The store, and how produce and fetch are
//! throttled by it, are `state/quotas.rs`.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::alter_client_quotas_response::{EntityData, EntryData};
use kafka_protocol::messages::{AlterClientQuotasRequest, AlterClientQuotasResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::state::quotas::{QuotaAlteration, QuotaEntity};

/// An entity as the request gives it (a type named twice: the last name, as Kafka's map).
fn entity(e: &kafka_protocol::messages::alter_client_quotas_request::EntryData) -> QuotaEntity {
    e.entity
        .iter()
        .map(|d| (d.entity_type.to_string(), d.entity_name.as_ref().map(|n| n.to_string())))
        .collect()
}

fn entry(entity: QuotaEntity, code: i16, message: Option<String>) -> EntryData {
    EntryData::default()
        .with_error_code(code)
        .with_error_message(message.map(str_bytes))
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
}

fn serve(ctx: &Ctx<'_>, request: AlterClientQuotasRequest) -> AlterClientQuotasResponse {
    let alterations: Vec<QuotaAlteration> = request
        .entries
        .iter()
        .map(|e| QuotaAlteration {
            entity: entity(e),
            ops: e
                .ops
                .iter()
                .map(|op| (op.key.to_string(), (!op.remove).then_some(op.value)))
                .collect(),
        })
        .collect();
    let results = ctx
        .shared
        .quotas
        .alter(&alterations, request.validate_only);
    AlterClientQuotasResponse::default().with_entries(
        results
            .into_iter()
            .map(|(entity, result)| match result {
                Ok(()) => entry(entity, 0, None),
                Err(e) => entry(entity, e.code(), Some(e.message)),
            })
            .collect(),
    )
}

pub(crate) struct AlterClientQuotas;

impl Api for AlterClientQuotas {
    const KEY: ApiKey = ApiKey::AlterClientQuotas;
    const VERSIONS: (i16, i16) = (0, 1);
    type Request = AlterClientQuotasRequest;
    type Response = AlterClientQuotasResponse;
    const ACCESS: Access = Access::cluster(Operation::AlterConfigs);

    async fn handle(ctx: &Ctx<'_>, request: AlterClientQuotasRequest) -> Reply<AlterClientQuotasResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &AlterClientQuotasRequest) -> Names {
        Names::default()
    }

    /// Every entity named, with the code (Kafka's `getErrorResponse`).
    fn error_response(request: &AlterClientQuotasRequest, _: i16, code: ResponseError) -> AlterClientQuotasResponse {
        AlterClientQuotasResponse::default().with_entries(
            request
                .entries
                .iter()
                .map(|e| entry(entity(e), code.code(), None))
                .collect(),
        )
    }

    fn set_throttle(response: &mut AlterClientQuotasResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &AlterClientQuotasResponse, log: &mut LogDetails) {
        for entry in &answer.entries {
            log.error(entry.error_code);
        }
    }
}
