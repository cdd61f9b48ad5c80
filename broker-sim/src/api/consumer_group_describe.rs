//! ConsumerGroupDescribe (key 69), v0–1 (KIP-848): a consumer group of the new protocol
//! as its coordinator sees it — state (Empty, Assigning, Reconciling, Stable), group and
//! assignment epochs, the assignor, and each member's epoch, subscription, current and
//! target assignment. A group that does not exist, or is a classic group, is
//! GROUP_ID_NOT_FOUND. v1 adds each member's type (1: a member of the new protocol).

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::consumer_group_describe_response::{
    Assignment, DescribedGroup, Member, TopicPartitions,
};
use kafka_protocol::messages::{
    ApiKey, ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, TopicName,
};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::state::State;
use crate::state::groups::assignors;

/// ConsumerGroupDescribe v1's `MemberType`: a member that speaks the new protocol, or
/// the classic one (in a group upgraded online).
const CONSUMER_MEMBER: i8 = 1;
const CLASSIC_MEMBER: i8 = 0;

fn assignment(a: &assignors::Assignment, ids: &BTreeMap<&str, uuid::Uuid>) -> Assignment {
    Assignment::default().with_topic_partitions(
        a.iter()
            .filter_map(|(topic, ps)| {
                ids.get(topic.as_str()).map(|id| {
                    TopicPartitions::default()
                        .with_topic_id(*id)
                        .with_topic_name(TopicName(str_bytes(topic)))
                        .with_partitions(ps.iter().copied().collect())
                })
            })
            .collect(),
    )
}

fn describe(state: &State, version: i16, described: DescribedGroup) -> DescribedGroup {
    let id = described.group_id.to_string();
    let groups = state.groups();
    let group = groups.get(&id);
    let Some(cg) = group.and_then(|g| g.consumer.as_ref()) else {
        let message = if group.is_some() {
            format!("Group {id} is not a consumer group.")
        } else {
            format!("Group {id} not found.")
        };
        return described
            .with_error_code(ResponseError::GroupIdNotFound.code())
            .with_error_message(Some(str_bytes(message)));
    };
    let ids: BTreeMap<&str, uuid::Uuid> = state.topics().map(|t| (t.name.as_str(), t.id)).collect();
    let members = cg
        .members
        .values()
        .map(|m| {
            let member = Member::default()
                .with_member_id(str_bytes(&m.id))
                .with_instance_id(m.instance_id.clone().map(str_bytes))
                .with_rack_id(m.rack_id.clone().map(str_bytes))
                .with_member_epoch(m.member_epoch)
                .with_client_id(str_bytes(&m.client_id))
                .with_client_host(str_bytes(&m.client_host))
                .with_subscribed_topic_names(
                    m.subscribed_topic_names
                        .iter()
                        .map(|t| TopicName(str_bytes(t)))
                        .collect(),
                )
                .with_subscribed_topic_regex(Some(str_bytes(
                    m.subscribed_topic_regex.clone().unwrap_or_default(),
                )))
                .with_assignment(assignment(&m.assigned, &ids))
                .with_target_assignment(assignment(
                    cg.target.get(&m.id).unwrap_or(&assignors::Assignment::new()),
                    &ids,
                ));
            if version >= 1 {
                member.with_member_type(if m.classic.is_some() {
                    CLASSIC_MEMBER
                } else {
                    CONSUMER_MEMBER
                })
            } else {
                member
            }
        })
        .collect();
    described
        .with_error_message(None)
        .with_group_state(str_bytes(cg.state_name()))
        .with_group_epoch(cg.epoch)
        .with_assignment_epoch(cg.assignment_epoch)
        .with_assignor_name(str_bytes(cg.assignor_name()))
        .with_members(members)
}

fn serve(ctx: &Ctx<'_>, r: ConsumerGroupDescribeRequest) -> ConsumerGroupDescribeResponse {
    // Groups the requester may not describe come first, as Kafka answers them.
    let (allowed, refused) = super::split_groups(ctx, r.group_ids, Operation::Describe);
    let refused = refused.into_iter().map(|id| {
        DescribedGroup::default()
            .with_group_id(id)
            .with_error_code(ResponseError::GroupAuthorizationFailed.code())
            .with_error_message(None)
    });
    let asked = r.include_authorized_operations;
    let groups = refused
        .chain(allowed.into_iter().map(|id| {
            let described = DescribedGroup::default()
                .with_group_id(id.clone())
                .with_authorized_operations(super::group_operations(ctx, &id, asked));
            let version = ctx.version;
            let mut answer = ctx
                .coordinated_read(&id, |state, _| Ok(describe(state, version, described.clone())))
                .unwrap_or_else(|e| {
                    described
                        .with_error_code(e.code())
                        .with_error_message(None)
                });
            // Kafka reports the operations of a group it described without error only.
            if answer.error_code != 0 {
                answer.authorized_operations = i32::MIN;
            }
            answer
        }))
        .collect();
    ConsumerGroupDescribeResponse::default().with_groups(groups)
}

pub(crate) struct ConsumerGroupDescribe;

impl Api for ConsumerGroupDescribe {
    const KEY: ApiKey = ApiKey::ConsumerGroupDescribe;
    const VERSIONS: (i16, i16) = (0, 1);
    type Request = ConsumerGroupDescribeRequest;
    type Response = ConsumerGroupDescribeResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(
        ctx: &Ctx<'_>,
        request: ConsumerGroupDescribeRequest,
    ) -> Reply<ConsumerGroupDescribeResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &ConsumerGroupDescribeRequest) -> Names {
        Names {
            groups: request.group_ids.iter().map(|g| g.to_string()).collect(),
            ..Names::default()
        }
    }

    fn error_response(
        request: &ConsumerGroupDescribeRequest,
        _: i16,
        code: ResponseError,
    ) -> ConsumerGroupDescribeResponse {
        ConsumerGroupDescribeResponse::default().with_groups(
            request
                .group_ids
                .iter()
                .map(|g| {
                    DescribedGroup::default()
                        .with_group_id(g.clone())
                        .with_error_code(code.code())
                        .with_error_message(None)
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut ConsumerGroupDescribeResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ConsumerGroupDescribeResponse, log: &mut LogDetails) {
        for group in &answer.groups {
            log.error(group.error_code);
        }
    }
}
