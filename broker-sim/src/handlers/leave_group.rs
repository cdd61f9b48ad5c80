//! LeaveGroup (key 13), v0–5.
//!
//! v0–2 name one member and report one error; v3+ take a batch of (member id,
//! group.instance.id) with an error each, which is also how an admin removes static
//! members by instance id alone. A departure starts a rebalance for the rest.

use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use super::{RequestContext, str_bytes};

pub(crate) fn handle(ctx: &RequestContext<'_>, r: LeaveGroupRequest) -> LeaveGroupResponse {
    let leaving: Vec<(String, Option<String>)> = if ctx.version >= 3 {
        r.members
            .iter()
            .map(|m| {
                (
                    m.member_id.to_string(),
                    m.group_instance_id.as_ref().map(|s| s.to_string()),
                )
            })
            .collect()
    } else {
        vec![(r.member_id.to_string(), None)]
    };
    let result = ctx.check_coordinator(&r.group_id).and_then(|()| {
        let now = ctx.shared.clock.now_ms();
        ctx.shared.lock().groups.leave(&r.group_id, &leaving, now)
    });
    ctx.groups_changed();
    let results = match result {
        Ok(results) => results,
        Err(e) => return LeaveGroupResponse::default().with_error_code(e.code()),
    };
    if ctx.version < 3 {
        let error = results.first().and_then(|r| r.err());
        return LeaveGroupResponse::default().with_error_code(error.map_or(0, |e| e.code()));
    }
    let members = leaving
        .into_iter()
        .zip(results)
        .map(|((member_id, instance_id), result)| {
            MemberResponse::default()
                .with_member_id(str_bytes(member_id))
                .with_group_instance_id(instance_id.map(str_bytes))
                .with_error_code(result.err().map_or(0, |e| e.code()))
        })
        .collect();
    LeaveGroupResponse::default().with_members(members)
}
