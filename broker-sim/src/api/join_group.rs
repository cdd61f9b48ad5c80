//! JoinGroup (key 11), v0–9.
//!
//! The classic protocol's first step: the coordinator collects members until everyone
//! known has (re)joined, then answers them all at once (see `state::groups::membership`).
//! A join that has to wait parks on a one-shot channel and this handler awaits it with
//! the state unlocked, so the connection stays busy exactly as a Kafka connection with a
//! pending JoinGroup does. v4+ make an unknown member fetch its id first
//! (MEMBER_ID_REQUIRED); v5+ carry `group.instance.id` (static membership); v7+ echo
//! the protocol type; v9+ add `skip_assignment`.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::{JoinGroupRequest, JoinGroupResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, code, str_bytes, Access, LogDetails};
use crate::state::groups::{JoinRequest, JoinResult, Pending};

async fn serve(ctx: &Ctx<'_>, r: JoinGroupRequest) -> JoinGroupResponse {
    let member_id = r.member_id.to_string();
    let request = JoinRequest {
        group_id: r.group_id.to_string(),
        member_id: member_id.clone(),
        instance_id: r.group_instance_id.map(|s| s.to_string()),
        client_id: ctx.client_id.to_string(),
        client_host: ctx.client_host.to_string(),
        session_timeout_ms: r.session_timeout_ms,
        // v0 has no rebalance timeout: Kafka uses the session timeout.
        rebalance_timeout_ms: if ctx.version >= 1 && r.rebalance_timeout_ms > 0 {
            r.rebalance_timeout_ms
        } else {
            r.session_timeout_ms
        },
        protocol_type: r.protocol_type.to_string(),
        protocols: r
            .protocols
            .into_iter()
            .map(|p| (p.name.to_string(), p.metadata))
            .collect(),
        require_known_member_id: ctx.version >= 4,
        skip_assignment_supported: ctx.version >= 9,
    };
    let group_id = request.group_id.clone();
    // A join runs under the groups lock alone, unless it is a classic member's join of a
    // consumer group, whose assignment needs the topics: those are read under the state
    // lock first (and `join_group` asks again whether it needs them).
    let alone = ctx.group(&group_id, |groups, now| {
        Ok(if groups.join_needs_topics(&group_id) {
            Err(request)
        } else {
            Ok(groups.join_group(request, &Default::default(), now))
        })
    });
    let pending = match alone {
        Err(e) => Err(e),
        Ok(Ok(pending)) => Ok(pending),
        Ok(Err(request)) => {
            let read = |state: &crate::state::State| state.partition_counts();
            ctx.groups_after(read, |groups, existing, now| {
                groups.check_coordinator(&group_id, ctx.broker_id)?;
                Ok(groups.join_group(request, &existing, now))
            })
        }
    };
    let result = match pending {
        Err(e) => JoinResult::error(e.code, &member_id),
        Ok(Pending::Ready(result)) => result,
        // The coordinator always answers a parked join; a dropped sender means the group
        // went away underneath it.
        Ok(Pending::Wait(rx)) => rx.await.unwrap_or_else(|_| {
            JoinResult::error(ResponseError::CoordinatorNotAvailable, &member_id)
        }),
    };
    response(ctx.version, result)
}

fn response(version: i16, r: JoinResult) -> JoinGroupResponse {
    let members = r
        .members
        .into_iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(str_bytes(m.member_id))
                .with_group_instance_id(if version >= 5 {
                    m.instance_id.map(str_bytes)
                } else {
                    None
                })
                .with_metadata(m.metadata)
        })
        .collect();
    // Before v7 the protocol name is a non-nullable string and there is no type.
    let (protocol_type, protocol_name) = if version >= 7 {
        (
            r.protocol_type.map(str_bytes),
            r.protocol_name.map(str_bytes),
        )
    } else {
        (None, Some(str_bytes(r.protocol_name.unwrap_or_default())))
    };
    JoinGroupResponse::default()
        .with_error_code(code(r.error))
        .with_generation_id(r.generation)
        .with_protocol_type(protocol_type)
        .with_protocol_name(protocol_name)
        .with_leader(str_bytes(r.leader))
        .with_skip_assignment(version >= 9 && r.skip_assignment)
        .with_member_id(str_bytes(r.member_id))
        .with_members(members)
}

pub(crate) struct JoinGroup;

impl Api for JoinGroup {
    const KEY: ApiKey = ApiKey::JoinGroup;
    const VERSIONS: (i16, i16) = (0, 9);
    type Request = JoinGroupRequest;
    type Response = JoinGroupResponse;
    const ACCESS: Access = Access::group(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: JoinGroupRequest) -> Reply<JoinGroupResponse> {
        Reply::Response(serve(ctx, request).await)
    }

    fn names(_: &Ctx<'_>, request: &JoinGroupRequest) -> Names {
        Names::group(&request.group_id)
    }

    fn error_response(request: &JoinGroupRequest, version: i16, code: ResponseError) -> JoinGroupResponse {
        JoinGroupResponse::default()
            .with_error_code(code.code())
            .with_generation_id(-1)
            .with_member_id(request.member_id.clone())
            // A nullable string from v7; before, an empty one.
            .with_protocol_name((version < 7).then(Default::default))
    }

    fn set_throttle(response: &mut JoinGroupResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &JoinGroupResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
