//! SyncGroup (key 14), v0–5.
//!
//! The classic protocol's second step: the leader sends every member's assignment, the
//! others wait for it (parked like JoinGroup, see `join_group`). The broker relays the
//! assignment bytes untouched. v3+ carry `group.instance.id`; v5+ send and check the
//! protocol type and name (KIP-559).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, code, str_bytes, Access, LogDetails};
use crate::state::groups::{Pending, SyncRequest, SyncResult};

async fn serve(ctx: &Ctx<'_>, r: SyncGroupRequest) -> SyncGroupResponse {
    let request = SyncRequest {
        group_id: r.group_id.to_string(),
        generation: r.generation_id,
        member_id: r.member_id.to_string(),
        instance_id: r.group_instance_id.map(|s| s.to_string()),
        protocol_type: r.protocol_type.map(|s| s.to_string()),
        protocol_name: r.protocol_name.map(|s| s.to_string()),
        assignments: r
            .assignments
            .into_iter()
            .map(|a| (a.member_id.to_string(), a.assignment))
            .collect(),
    };
    let group_id = request.group_id.clone();
    let pending = ctx.group(&group_id, |groups, now| {
        let pending = groups.sync(request, now);
        groups.record_assignments(&group_id, now);
        Ok(pending)
    });
    let result = match pending {
        Err(e) => SyncResult::error(e.code),
        Ok(Pending::Ready(result)) => result,
        Ok(Pending::Wait(rx)) => rx
            .await
            .unwrap_or_else(|_| SyncResult::error(ResponseError::CoordinatorNotAvailable)),
    };
    response(ctx.version, result)
}

fn response(version: i16, r: SyncResult) -> SyncGroupResponse {
    let response = SyncGroupResponse::default()
        .with_error_code(code(r.error))
        .with_assignment(r.assignment);
    if version >= 5 {
        response
            .with_protocol_type(r.protocol_type.map(str_bytes))
            .with_protocol_name(r.protocol_name.map(str_bytes))
    } else {
        response
    }
}

pub(crate) struct SyncGroup;

impl Api for SyncGroup {
    const KEY: ApiKey = ApiKey::SyncGroup;
    const VERSIONS: (i16, i16) = (0, 5);
    type Request = SyncGroupRequest;
    type Response = SyncGroupResponse;
    const ACCESS: Access = Access::group(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: SyncGroupRequest) -> Reply<SyncGroupResponse> {
        Reply::Response(serve(ctx, request).await)
    }

    fn names(_: &Ctx<'_>, request: &SyncGroupRequest) -> Names {
        Names::group(&request.group_id)
    }

    fn error_response(_: &SyncGroupRequest, _: i16, code: ResponseError) -> SyncGroupResponse {
        SyncGroupResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut SyncGroupResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &SyncGroupResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
