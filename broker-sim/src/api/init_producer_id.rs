//! InitProducerId (key 22), v0–5.
//!
//! Idempotent producers (no transactional id) get a fresh producer id with epoch 0 from any
//! broker; ids are handed out in order from 0, so runs are repeatable. A transactional id
//! must not be empty (INVALID_REQUEST), needs a timeout in (0, `transaction.max.timeout.ms`
//! = 15 min] (INVALID_TRANSACTION_TIMEOUT) and must be sent to its transaction coordinator
//! (NOT_COORDINATOR), checked in that order as Kafka does; it keeps its producer id and gets its epoch bumped on each
//! call. Transactions themselves (AddPartitionsToTxn, EndTxn…) are not supported yet.
//!
//! From v3 a producer may send the producer id and epoch it has (KIP-360). Only both or
//! neither may be set (-1), else INVALID_REQUEST, checked first as in Kafka's `KafkaApis`.
//! Without a transactional id Kafka's coordinator then ignores them and hands out a fresh
//! producer id with epoch 0, as on any first call: there is nothing to fence without a
//! transactional id. An idempotent producer that must reset its sequences (after
//! OUT_OF_ORDER_SEQUENCE_NUMBER, say) bumps its epoch itself, without asking — the Java
//! client and librdkafka both do — and starts the new epoch at sequence 0, which the
//! partition accepts (`state::producers`); only transactional producers ask the
//! coordinator for the bump. With a transactional id Kafka fences a caller whose id or
//! epoch is stale (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH before v4); broker-sim does
//! not check that yet.
//!
//! v6 exists in Kafka's schema for KIP-939 (two-phase commit) but `kafka-protocol` 0.18
//! cannot decode it and Kafka 4.1 does not enable it, so v5 is the highest offered.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse};

use super::{Api, Ctx, Names, Reply};

/// Kafka's default `transaction.max.timeout.ms`.
const TRANSACTION_MAX_TIMEOUT_MS: i32 = 900_000;

fn serve(
    ctx: &Ctx<'_>,
    request: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let mut state = ctx.shared.lock();
    let refuse = |code: ResponseError| {
        InitProducerIdResponse::default()
            .with_error_code(code.code())
            .with_producer_id((-1).into())
            .with_producer_epoch(-1)
    };
    let (producer_id, producer_epoch) = (request.producer_id.0, request.producer_epoch);
    if (producer_id == -1) != (producer_epoch == -1) {
        return refuse(ResponseError::InvalidRequest);
    }
    let transactional_id = request.transactional_id.as_deref().map(|t| t.to_string());
    if let Some(tid) = &transactional_id {
        if tid.is_empty() {
            return refuse(ResponseError::InvalidRequest);
        }
        if request.transaction_timeout_ms <= 0
            || request.transaction_timeout_ms > TRANSACTION_MAX_TIMEOUT_MS
        {
            return refuse(ResponseError::InvalidTransactionTimeout);
        }
        if !state.is_coordinator(tid, ctx.broker_id) {
            return refuse(ResponseError::NotCoordinator);
        }
    }
    let (id, epoch) = state.init_producer_id(transactional_id.as_deref());
    InitProducerIdResponse::default()
        .with_producer_id(id.into())
        .with_producer_epoch(epoch)
}

pub(crate) struct InitProducerId;

impl Api for InitProducerId {
    const KEY: ApiKey = ApiKey::InitProducerId;
    const VERSIONS: (i16, i16) = (0, 5);
    type Request = InitProducerIdRequest;
    type Response = InitProducerIdResponse;

    async fn handle(ctx: &Ctx<'_>, request: InitProducerIdRequest) -> Reply<InitProducerIdResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &InitProducerIdRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &InitProducerIdRequest, _: i16, code: ResponseError) -> InitProducerIdResponse {
        InitProducerIdResponse::default()
            .with_error_code(code.code())
            .with_producer_id((-1).into())
            .with_producer_epoch(-1)
    }

    fn set_throttle(response: &mut InitProducerIdResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }
}
