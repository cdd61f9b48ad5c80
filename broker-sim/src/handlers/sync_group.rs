//! SyncGroup (key 14), v0–5.
//!
//! The classic protocol's second step: the leader sends every member's assignment, the
//! others wait for it (parked like JoinGroup, see `join_group`). The broker relays the
//! assignment bytes untouched. v3+ carry `group.instance.id`; v5+ send and check the
//! protocol type and name (KIP-559).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{SyncGroupRequest, SyncGroupResponse};

use super::{RequestContext, code, str_bytes};
use crate::state::groups::{Pending, SyncRequest, SyncResult};

pub(crate) async fn handle(ctx: &RequestContext<'_>, r: SyncGroupRequest) -> SyncGroupResponse {
    if let Err(e) = ctx.check_coordinator(&r.group_id) {
        return response(ctx.version, SyncResult::error(e));
    }
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
    let now = ctx.shared.clock.now_ms();
    let pending = ctx.shared.lock().groups.sync(request, now);
    ctx.groups_changed();
    let result = match pending {
        Pending::Ready(result) => result,
        Pending::Wait(rx) => rx
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
