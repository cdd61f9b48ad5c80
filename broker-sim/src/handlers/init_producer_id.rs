//! InitProducerId (key 22), v0–5.
//!
//! Idempotent producers (no transactional id) get a fresh producer id with epoch 0 from any
//! broker; ids are handed out in order from 0, so runs are repeatable. A transactional id
//! must not be empty (INVALID_REQUEST), needs a timeout in (0, `transaction.max.timeout.ms`
//! = 15 min] (INVALID_TRANSACTION_TIMEOUT) and must be sent to its transaction coordinator
//! (NOT_COORDINATOR), checked in that order as Kafka does; it keeps its producer id and gets its epoch bumped on each
//! call. Transactions themselves (AddPartitionsToTxn, EndTxn…) are not supported yet.
//!
//! v6 exists in Kafka's schema for KIP-939 (two-phase commit) but `kafka-protocol` 0.18
//! cannot decode it and Kafka 4.1 does not enable it, so v5 is the highest offered.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse};

use super::RequestContext;

/// Kafka's default `transaction.max.timeout.ms`.
const TRANSACTION_MAX_TIMEOUT_MS: i32 = 900_000;

pub(crate) fn handle(
    ctx: &RequestContext<'_>,
    request: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let mut state = ctx.shared.lock();
    let refuse = |code: ResponseError| {
        InitProducerIdResponse::default()
            .with_error_code(code.code())
            .with_producer_id((-1).into())
            .with_producer_epoch(-1)
    };
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
