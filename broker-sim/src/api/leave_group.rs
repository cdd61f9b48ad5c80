//! LeaveGroup (key 13), v0–5.
//!
//! v0–2 name one member and report one error; v3+ take a batch of (member id,
//! group.instance.id) with an error each, which is also how an admin removes static
//! members by instance id alone. A departure starts a rebalance for the rest.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{LeaveGroupRequest, LeaveGroupResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};

fn serve(ctx: &Ctx<'_>, r: LeaveGroupRequest) -> LeaveGroupResponse {
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
    let result = ctx.group(&r.group_id, |groups, now| {
        groups.leave(&r.group_id, &leaving, now)
    });
    let results = match result {
        Ok(results) => results,
        Err(e) => return LeaveGroupResponse::default().with_error_code(e.code()),
    };
    if ctx.version < 3 {
        let error = results.first().and_then(|r| r.clone().err());
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

pub(crate) struct LeaveGroup;

impl Api for LeaveGroup {
    const KEY: ApiKey = ApiKey::LeaveGroup;
    const VERSIONS: (i16, i16) = (0, 5);
    type Request = LeaveGroupRequest;
    type Response = LeaveGroupResponse;
    const ACCESS: Access = Access::group(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: LeaveGroupRequest) -> Reply<LeaveGroupResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &LeaveGroupRequest) -> Names {
        Names::group(&request.group_id)
    }

    fn error_response(_: &LeaveGroupRequest, _: i16, code: ResponseError) -> LeaveGroupResponse {
        LeaveGroupResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut LeaveGroupResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &LeaveGroupResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for member in &answer.members {
            log.error(member.error_code);
        }
    }
}
