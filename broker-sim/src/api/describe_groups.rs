//! DescribeGroups (key 15), v0–6.
//!
//! A group's state, protocol type and (when Stable) selected protocol, and its members
//! with client id and host; member metadata and assignments are included only while the
//! group is Stable, as Kafka does. An unknown group is reported as "Dead" with no error
//! before v6 and as GROUP_ID_NOT_FOUND from v6 (KIP-1043). v3+ may ask for authorized
//! operations (from the ACLs; all of them without an authorizer); v4+ show
//! group.instance.id. A group the requester may not DESCRIBE is GROUP_AUTHORIZATION_FAILED.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::{DescribeGroupsRequest, DescribeGroupsResponse, GroupId};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::state::groups::{GroupState, Groups};

fn serve(ctx: &Ctx<'_>, r: DescribeGroupsRequest) -> DescribeGroupsResponse {
    // Groups the requester may not describe come first, as Kafka answers them.
    let (allowed, refused) = super::split_groups(ctx, r.groups, Operation::Describe);
    let refused = refused.into_iter().map(|id| {
        DescribedGroup::default()
            .with_group_id(id)
            .with_error_code(ResponseError::GroupAuthorizationFailed.code())
            .with_authorized_operations(i32::MIN)
    });
    let asked = r.include_authorized_operations;
    let groups = refused
        .chain(allowed.into_iter().map(|id| {
            let described = DescribedGroup::default()
                .with_group_id(id.clone())
                .with_authorized_operations(super::group_operations(ctx, &id, asked));
            let version = ctx.version;
            let answer = ctx.group(&id, |groups, _| {
                Ok(describe(groups, version, id.clone(), described.clone()))
            });
            let mut answer = answer.unwrap_or_else(|e| described.with_error_code(e.code()));
            // Kafka reports the operations of a group it described without error only.
            if answer.error_code != 0 {
                answer.authorized_operations = i32::MIN;
            }
            answer
        }))
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}

fn describe(groups: &Groups, version: i16, id: GroupId, described: DescribedGroup) -> DescribedGroup {
    // A consumer group (KIP-848) is described by ConsumerGroupDescribe; here it is
    // reported as a group that is not there.
    let group = groups.get(&id);
    let Some(group) = group.filter(|g| g.consumer.is_none()) else {
        if version >= 6 {
            let message = if group.is_some() {
                format!("Group {} is not a classic group.", &*id)
            } else {
                format!("Group {} not found.", &*id)
            };
            return described
                .with_error_code(ResponseError::GroupIdNotFound.code())
                .with_error_message(Some(str_bytes(message)))
                .with_group_state(str_bytes(GroupState::Dead.as_str()));
        }
        return described.with_group_state(str_bytes(GroupState::Dead.as_str()));
    };
    let stable = group.state == GroupState::Stable;
    let protocol = group.protocol.as_deref().filter(|_| stable);
    let members = group
        .members
        .values()
        .map(|m| {
            let member = DescribedGroupMember::default()
                .with_member_id(str_bytes(&m.id))
                .with_client_id(str_bytes(&m.client_id))
                .with_client_host(str_bytes(&m.client_host))
                .with_group_instance_id(if version >= 4 {
                    m.instance_id.as_deref().map(str_bytes)
                } else {
                    None
                });
            match protocol {
                Some(protocol) => member
                    .with_member_metadata(m.metadata(protocol).cloned().unwrap_or_default())
                    .with_member_assignment(m.assignment.clone()),
                None => member,
            }
        })
        .collect();
    described
        .with_group_state(str_bytes(group.state.as_str()))
        .with_protocol_type(str_bytes(group.protocol_type.clone().unwrap_or_default()))
        .with_protocol_data(str_bytes(protocol.unwrap_or_default()))
        .with_members(members)
}

pub(crate) struct DescribeGroups;

impl Api for DescribeGroups {
    const KEY: ApiKey = ApiKey::DescribeGroups;
    const VERSIONS: (i16, i16) = (0, 6);
    type Request = DescribeGroupsRequest;
    type Response = DescribeGroupsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: DescribeGroupsRequest) -> Reply<DescribeGroupsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &DescribeGroupsRequest) -> Names {
        Names {
            topics: Vec::new(),
            groups: request.groups.iter().map(|g| g.to_string()).collect(),
            transactional_ids: Vec::new(),
        }
    }

    fn error_response(request: &DescribeGroupsRequest, _: i16, code: ResponseError) -> DescribeGroupsResponse {
        DescribeGroupsResponse::default().with_groups(
            request
                .groups
                .iter()
                .map(|g| {
                    DescribedGroup::default()
                        .with_group_id(g.clone())
                        .with_error_code(code.code())
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut DescribeGroupsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeGroupsResponse, log: &mut LogDetails) {
        for group in &answer.groups {
            log.error(group.error_code);
        }
    }
}
