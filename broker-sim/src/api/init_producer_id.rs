//! InitProducerId (key 22), v0–5.
//!
//! Idempotent producers (no transactional id) get a fresh producer id with epoch 0 from any
//! broker; ids are handed out in order from 0, so runs are repeatable. A transactional id
//! must not be empty (INVALID_REQUEST), needs a timeout in (0, `transaction.max.timeout.ms`]
//! (INVALID_TRANSACTION_TIMEOUT) and must be sent to its transaction coordinator
//! (NOT_COORDINATOR), checked in that order as Kafka does. The coordinator
//! (`state::transactions`) then keeps the id's producer id and bumps its epoch, fencing
//! any older instance; a transaction the old instance left open is aborted and the caller
//! told CONCURRENT_TRANSACTIONS, to retry once the abort is done.
//!
//! From v3 a producer may send the producer id and epoch it has (KIP-360). Only both or
//! neither may be set (-1), else INVALID_REQUEST, checked first as in Kafka's `KafkaApis`.
//! Without a transactional id Kafka's coordinator then ignores them and hands out a fresh
//! producer id with epoch 0, as on any first call: there is nothing to fence without a
//! transactional id. An idempotent producer that must reset its sequences (after
//! OUT_OF_ORDER_SEQUENCE_NUMBER, say) bumps its epoch itself, without asking — the Java
//! client and librdkafka both do — and starts the new epoch at sequence 0, which the
//! partition accepts (`state::producers`); only transactional producers ask the
//! coordinator for the bump. With a transactional id a stale id or epoch is
//! PRODUCER_FENCED, which versions before 4 (KIP-588) call INVALID_PRODUCER_EPOCH.
//!
//! v6 exists in Kafka's schema for KIP-939 (two-phase commit) but `kafka-protocol` 0.18
//! cannot decode it and Kafka 4.1 does not enable it, so v5 is the highest offered.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse};

use crate::state::acls::{Operation, ResourceType};
use super::{Api, Ctx, Names, Reply, Access, LogDetails};

fn serve(ctx: &Ctx<'_>, request: InitProducerIdRequest) -> InitProducerIdResponse {
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
    let Some(tid) = request.transactional_id.as_deref() else {
        let (id, epoch) = ctx.shared.lock().init_producer_id();
        return InitProducerIdResponse::default()
            .with_producer_id(id.into())
            .with_producer_epoch(epoch);
    };
    if tid.is_empty() {
        return refuse(ResponseError::InvalidRequest);
    }
    let max_timeout = ctx.shared.read().config.transactions.max_timeout_ms;
    if request.transaction_timeout_ms <= 0 || request.transaction_timeout_ms > max_timeout {
        return refuse(ResponseError::InvalidTransactionTimeout);
    }
    let expected = (producer_id != -1).then_some((producer_id, producer_epoch));
    let result = ctx.coordinated(tid, |state, now| {
        state.init_transactional_producer(tid, request.transaction_timeout_ms, expected, now)
    });
    match result {
        Ok((id, epoch)) => InitProducerIdResponse::default()
            .with_producer_id(id.into())
            .with_producer_epoch(epoch),
        Err(e) => refuse(fenced_before(ctx.version, 4, e.code)),
    }
}

/// PRODUCER_FENCED as versions before `first` know it: INVALID_PRODUCER_EPOCH (KIP-588).
pub(crate) fn fenced_before(version: i16, first: i16, code: ResponseError) -> ResponseError {
    if code == ResponseError::ProducerFenced && version < first {
        ResponseError::InvalidProducerEpoch
    } else {
        code
    }
}

/// Kafka's authorization: WRITE on the transactional id, or for an idempotent producer
/// IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679).
fn refused(ctx: &Ctx<'_>, request: &InitProducerIdRequest) -> Option<ResponseError> {
    let state = ctx.shared.read();
    match request.transactional_id.as_deref() {
        Some(id) => (!ctx.allowed(&state, ResourceType::TransactionalId, id, Operation::Write))
            .then_some(ResponseError::TransactionalIdAuthorizationFailed),
        None => (!ctx.allowed_on_cluster(&state, Operation::IdempotentWrite)
            && !ctx.allowed_on_any(&state, ResourceType::Topic, Operation::Write))
        .then_some(ResponseError::ClusterAuthorizationFailed),
    }
}

pub(crate) struct InitProducerId;

impl Api for InitProducerId {
    const KEY: ApiKey = ApiKey::InitProducerId;
    const VERSIONS: (i16, i16) = (0, 5);
    type Request = InitProducerIdRequest;
    type Response = InitProducerIdResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: InitProducerIdRequest) -> Reply<InitProducerIdResponse> {
        if let Some(code) = refused(ctx, &request) {
            return Reply::Response(Self::error_response(&request, ctx.version, code));
        }
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &InitProducerIdRequest) -> Names {
        Names::default().with_transactional_id(request.transactional_id.as_deref().map(|t| &**t))
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

    fn log_answer(answer: &InitProducerIdResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
