//! AddOffsetsToTxn (key 25), v0–4.
//!
//! Adds a group's offsets to a producer's transaction (Kafka adds the group's
//! `__consumer_offsets` partition), at the transaction coordinator, so that the offsets the
//! producer then commits with TxnOffsetCommit become visible only when it commits. The
//! coordinator's checks are AddPartitionsToTxn's (`state::transactions`); an empty
//! transactional id is INVALID_REQUEST; PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before
//! v2. Clients on transaction version 2 skip this call: TxnOffsetCommit v5 adds the
//! group itself.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{AddOffsetsToTxnRequest, AddOffsetsToTxnResponse};

use crate::state::acls::Operation;
use super::init_producer_id::fenced_before;
use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::state::transactions::Caller;

fn serve(ctx: &Ctx<'_>, request: AddOffsetsToTxnRequest) -> AddOffsetsToTxnResponse {
    let id = request.transactional_id.to_string();
    if id.is_empty() {
        return AddOffsetsToTxnResponse::default()
            .with_error_code(ResponseError::InvalidRequest.code());
    }
    let group = request.group_id.to_string();
    let result = ctx.coordinated(&id, |state, now| {
        let caller = Caller {
            id: &id,
            producer_id: request.producer_id.0,
            epoch: request.producer_epoch,
        };
        state.add_to_transaction(
            caller,
            &[],
            Some(&group),
            0,
            now,
        )
    });
    AddOffsetsToTxnResponse::default().with_error_code(
        result
            .err()
            .map_or(0, |e| fenced_before(ctx.version, 2, e.code).code()),
    )
}

pub(crate) struct AddOffsetsToTxn;

impl Api for AddOffsetsToTxn {
    const KEY: ApiKey = ApiKey::AddOffsetsToTxn;
    const VERSIONS: (i16, i16) = (0, 4);
    type Request = AddOffsetsToTxnRequest;
    type Response = AddOffsetsToTxnResponse;
    const ACCESS: Access = Access::transactional_id(Operation::Write).and_group(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: AddOffsetsToTxnRequest) -> Reply<AddOffsetsToTxnResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &AddOffsetsToTxnRequest) -> Names {
        Names::group(&request.group_id).with_transactional_id(Some(&request.transactional_id))
    }

    fn error_response(_: &AddOffsetsToTxnRequest, _: i16, code: ResponseError) -> AddOffsetsToTxnResponse {
        AddOffsetsToTxnResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut AddOffsetsToTxnResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &AddOffsetsToTxnResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
