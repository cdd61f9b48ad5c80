//! Heartbeat (key 12), v0–4.
//!
//! Keeps a member's session alive and tells it when to rejoin: REBALANCE_IN_PROGRESS
//! while the group prepares a rebalance, ILLEGAL_GENERATION for a stale generation,
//! UNKNOWN_MEMBER_ID once it has been removed, FENCED_INSTANCE_ID when another process
//! took its group.instance.id (v3+).

use kafka_protocol::messages::{HeartbeatRequest, HeartbeatResponse};

use super::RequestContext;

pub(crate) fn handle(ctx: &RequestContext<'_>, r: HeartbeatRequest) -> HeartbeatResponse {
    let result = ctx.check_coordinator(&r.group_id).and_then(|()| {
        let now = ctx.shared.clock.now_ms();
        ctx.shared.lock().groups.heartbeat(
            &r.group_id,
            r.generation_id,
            &r.member_id,
            r.group_instance_id.as_deref(),
            now,
        )
    });
    ctx.groups_changed();
    HeartbeatResponse::default().with_error_code(result.err().map_or(0, |e| e.code()))
}
