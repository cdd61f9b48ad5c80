//! Heartbeat (key 12), v0–4.
//!
//! Keeps a member's session alive and tells it when to rejoin: REBALANCE_IN_PROGRESS
//! while the group prepares a rebalance, ILLEGAL_GENERATION for a stale generation,
//! UNKNOWN_MEMBER_ID once it has been removed, FENCED_INSTANCE_ID when another process
//! took its group.instance.id (v3+).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, code, Access, LogDetails};

fn serve(ctx: &Ctx<'_>, r: HeartbeatRequest) -> HeartbeatResponse {
    let result = ctx.group_heartbeat(&r.group_id, |groups, now| {
        groups.heartbeat(
            &r.group_id,
            r.generation_id,
            &r.member_id,
            r.group_instance_id.as_deref(),
            now,
        )
    });
    HeartbeatResponse::default().with_error_code(code(result.err()))
}

pub(crate) struct Heartbeat;

impl Api for Heartbeat {
    const KEY: ApiKey = ApiKey::Heartbeat;
    const VERSIONS: (i16, i16) = (0, 4);
    type Request = HeartbeatRequest;
    type Response = HeartbeatResponse;
    const ACCESS: Access = Access::group(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: HeartbeatRequest) -> Reply<HeartbeatResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &HeartbeatRequest) -> Names {
        Names::group(&request.group_id)
    }

    fn error_response(_: &HeartbeatRequest, _: i16, code: ResponseError) -> HeartbeatResponse {
        HeartbeatResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut HeartbeatResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &HeartbeatResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
