//! EndTxn (key 26), v0–5.
//!
//! Commits or aborts a producer's transaction at its coordinator (`state::transactions`):
//! the markers are written to every partition of the transaction before the answer, and
//! the group offsets it committed become visible (or are dropped). v5 is transaction
//! version 2 (KIP-890): the epoch is bumped at every end and the answer carries the
//! producer id and epoch to use next. An empty transactional id is INVALID_REQUEST;
//! PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{EndTxnRequest, EndTxnResponse};

use crate::state::acls::Operation;
use super::init_producer_id::fenced_before;
use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::state::transactions::Caller;

fn serve(ctx: &Ctx<'_>, request: EndTxnRequest) -> EndTxnResponse {
    let id = request.transactional_id.to_string();
    if id.is_empty() {
        return refused(ResponseError::InvalidRequest);
    }
    let version = if ctx.version >= 5 { 2 } else { 0 };
    let result = ctx.coordinated(&id, |state, now| {
        let caller = Caller {
            id: &id,
            producer_id: request.producer_id.0,
            epoch: request.producer_epoch,
        };
        state.end_transaction(
            caller,
            request.committed,
            version,
            now,
        )
    });
    match result {
        Ok(ended) => EndTxnResponse::default()
            .with_producer_id(ended.producer_id.into())
            .with_producer_epoch(ended.producer_epoch),
        Err(e) => refused(fenced_before(ctx.version, 2, e.code)),
    }
}

fn refused(code: ResponseError) -> EndTxnResponse {
    EndTxnResponse::default()
        .with_error_code(code.code())
        .with_producer_id((-1).into())
        .with_producer_epoch(-1)
}

pub(crate) struct EndTxn;

impl Api for EndTxn {
    const KEY: ApiKey = ApiKey::EndTxn;
    const VERSIONS: (i16, i16) = (0, 5);
    type Request = EndTxnRequest;
    type Response = EndTxnResponse;
    const ACCESS: Access = Access::transactional_id(Operation::Write);

    async fn handle(ctx: &Ctx<'_>, request: EndTxnRequest) -> Reply<EndTxnResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &EndTxnRequest) -> Names {
        Names::default().with_transactional_id(Some(&request.transactional_id))
    }

    fn error_response(_: &EndTxnRequest, _: i16, code: ResponseError) -> EndTxnResponse {
        refused(code)
    }

    fn set_throttle(response: &mut EndTxnResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &EndTxnResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
