//! InitProducerId (key 22), v0–6.
//!
//! Idempotent producers get a fresh producer id with epoch 0; producer ids are handed out
//! in order from 0, so runs are repeatable. A transactional id keeps its producer id and
//! gets its epoch bumped on each call (fencing older instances once transactions exist).
//! Transactions themselves (AddPartitionsToTxn, EndTxn…) are not supported yet.

use kafka_protocol::messages::{InitProducerIdRequest, InitProducerIdResponse};

use super::RequestContext;

pub(crate) fn handle(
    ctx: &RequestContext<'_>,
    request: InitProducerIdRequest,
) -> InitProducerIdResponse {
    let (id, epoch) = ctx
        .shared
        .lock()
        .init_producer_id(request.transactional_id.as_deref().map(|t| t.as_str()));
    InitProducerIdResponse::default()
        .with_producer_id(id.into())
        .with_producer_epoch(epoch)
}
