//! Leaving a group: expired sessions, members that do not rejoin or sync in time, the
//! embedding API's `expire_member`, LeaveGroup, and what an emptied group keeps.

use broker_sim::GroupState;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::LeaveGroupRequest;
use kafka_protocol::messages::leave_group_request::MemberIdentity;

use crate::common::*;
use crate::support::*;

// Session expiry.

#[test]
fn a_member_that_stops_heartbeating_is_removed_when_its_session_expires() {
    let cluster = builder().group_min_session_timeout_ms(10).start().unwrap();
    let group = "g-expiry";
    let mut member = new_member(&cluster, group, &["range"]);
    let request = member
        .join_request()
        .with_session_timeout_ms(300)
        .with_rebalance_timeout_ms(300);
    let response = member.conn.join(9, request);
    member.joined(&response);
    let response = member.sync(&[(&member.id.clone(), assignment(&[("t", &[0])]))]);
    assert_no_error(response.error_code, "SyncGroup");
    assert_no_error(member.heartbeat(4), "a heartbeat within the session");

    // No more heartbeats.
    wait_for_state(&cluster, group, GroupState::Empty);
    let info = cluster.group(group).unwrap();
    assert!(info.members.is_empty(), "{:?}", info.members);
    assert_eq!(info.leader, None);
    assert_error(
        member.heartbeat(4),
        ResponseError::UnknownMemberId,
        "heartbeat after the session expired",
    );
}

#[test]
fn expire_member_removes_the_member_at_once() {
    let cluster = cluster();
    let group = "g-expire-member";
    let mut member = stable_member(&cluster, group);
    cluster.expire_member(group, &member.id).unwrap();
    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::Empty);
    assert!(info.members.is_empty(), "{:?}", info.members);
    assert_error(
        member.heartbeat(4),
        ResponseError::UnknownMemberId,
        "heartbeat of an expired member",
    );
    assert!(cluster.expire_member(group, &member.id).is_err());
    assert!(cluster.expire_member("g-no-such-group", "m").is_err());
}

#[test]
fn expiring_one_member_rebalances_the_rest() {
    let cluster = cluster();
    let group = "g-expire-one";
    let mut members = form_group(&cluster, group, &[&["range"], &["range"]]);
    cluster.expire_member(group, &members[1].id).unwrap();
    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::PreparingRebalance);
    assert_eq!(info.members.len(), 1);
    assert_error(
        members[0].heartbeat(4),
        ResponseError::RebalanceInProgress,
        "heartbeat of the remaining member",
    );
    let first = &mut members[0];
    let response = first.conn.join(9, first.join_request());
    first.joined(&response);
    assert_eq!(
        first.generation, 3,
        "the remaining member alone forms generation 3"
    );
    assert!(first.is_leader());
}

#[test]
fn a_member_that_does_not_rejoin_within_the_rebalance_timeout_is_removed() {
    let cluster = cluster();
    let group = "g-rebalance-timeout";
    let mut first = new_member(&cluster, group, &["range"]);
    first.rebalance_timeout_ms = 300;
    let response = first.conn.join(9, first.join_request());
    first.joined(&response);
    let response = first.sync(&[(&first.id.clone(), assignment(&[("t", &[0])]))]);
    assert_no_error(response.error_code, "SyncGroup");

    // A second member joins; the first never rejoins.
    let mut second = new_member(&cluster, group, &["range"]);
    second.rebalance_timeout_ms = 300;
    let pending = second.conn.start_join(9, second.join_request());
    let response = second.conn.finish_join(pending);
    second.joined(&response);
    assert_eq!(second.generation, 2);
    assert!(second.is_leader(), "the member that rejoined leads");
    assert_eq!(response.members.len(), 1, "{:?}", response.members);
    let info = cluster.group(group).unwrap();
    assert_eq!(info.members.len(), 1);
    assert_eq!(info.members[0].member_id, second.id);
    assert_error(
        first.heartbeat(4),
        ResponseError::UnknownMemberId,
        "heartbeat of the member that did not rejoin",
    );
}

#[test]
fn a_member_that_never_syncs_is_removed_after_the_rebalance_timeout() {
    let cluster = cluster();
    let group = "g-sync-timeout";
    let mut members = join_all_with(&cluster, group, &[&["range"], &["range"]], |m| {
        m.rebalance_timeout_ms = 300
    });
    let leader_id = members[0].id.clone();
    let response = members[0].sync(&[(&leader_id, assignment(&[("t", &[0])]))]);
    assert_no_error(response.error_code, "the leader's SyncGroup");

    // The follower never sends SyncGroup.
    wait_for_state(&cluster, group, GroupState::PreparingRebalance);
    let info = cluster.group(group).unwrap();
    assert_eq!(info.members.len(), 1);
    assert_eq!(info.members[0].member_id, leader_id);
    assert_error(
        members[0].heartbeat(4),
        ResponseError::RebalanceInProgress,
        "heartbeat of the member that synced",
    );
}

// LeaveGroup.

#[test]
fn leave_group_v0_to_v2_removes_the_member_and_empties_the_group() {
    let cluster = cluster();
    for version in 0..=2 {
        let group = format!("g-leave-v{version}");
        let mut member = stable_member(&cluster, &group);
        let request = LeaveGroupRequest::default()
            .with_group_id(group_id(&group))
            .with_member_id(str_bytes(&member.id));
        let response = member.conn.send(version, &request);
        assert_no_error(response.error_code, &format!("LeaveGroup v{version}"));
        let info = cluster.group(&group).unwrap();
        assert_eq!(info.state, GroupState::Empty, "v{version}");
        assert!(info.members.is_empty(), "v{version}");
    }
}

#[test]
fn leave_group_v0_to_v2_of_an_unknown_member_is_unknown_member_id() {
    let cluster = cluster();
    let group = "g-leave-unknown";
    let mut member = stable_member(&cluster, group);
    for (group, context) in [
        (group, "a member not in the group"),
        ("g-no-such-group", "a group that does not exist"),
    ] {
        let request = LeaveGroupRequest::default()
            .with_group_id(group_id(group))
            .with_member_id(str_bytes("no-such-member"));
        let response = Conn::to_coordinator(&cluster, group).send(1, &request);
        assert_error(response.error_code, ResponseError::UnknownMemberId, context);
    }
    assert_no_error(member.heartbeat(4), "the real member is still in");
}

#[test]
fn leave_group_v3_and_later_answers_each_member() {
    let cluster = cluster();
    let group = "g-leave-batch";
    let mut members = form_group(&cluster, group, &[&["range"], &["range"]]);
    let (first, second) = (members[0].id.clone(), members[1].id.clone());
    let request = LeaveGroupRequest::default()
        .with_group_id(group_id(group))
        .with_members(vec![
            MemberIdentity::default().with_member_id(str_bytes(&first)),
            MemberIdentity::default().with_member_id(str_bytes("no-such-member")),
        ]);
    let response = members[0].conn.send(5, &request);
    assert_no_error(response.error_code, "LeaveGroup v5, top level");
    let answers: Vec<(&str, i16)> = response
        .members
        .iter()
        .map(|m| (m.member_id.as_str(), m.error_code))
        .collect();
    assert_eq!(
        answers,
        vec![
            (first.as_str(), 0),
            ("no-such-member", ResponseError::UnknownMemberId.code())
        ]
    );
    let info = cluster.group(group).unwrap();
    assert_eq!(info.members.len(), 1, "{:?}", info.members);
    assert_eq!(info.members[0].member_id, second);
    assert_eq!(info.state, GroupState::PreparingRebalance);

    let request = LeaveGroupRequest::default()
        .with_group_id(group_id(group))
        .with_members(vec![
            MemberIdentity::default().with_member_id(str_bytes(&second)),
        ]);
    let response = members[1].conn.send(3, &request);
    assert_no_error(response.error_code, "LeaveGroup v3, top level");
    assert_eq!(response.members.len(), 1);
    assert_no_error(response.members[0].error_code, "the last member leaves");
    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::Empty, "the last member left");
    assert!(info.members.is_empty());
}

#[test]
fn leave_group_v3_and_later_removes_a_static_member_by_instance_id() {
    let cluster = cluster();
    let group = "g-leave-static";
    let mut member = stable_static_member(&cluster, group, "instance-1");
    let request = LeaveGroupRequest::default()
        .with_group_id(group_id(group))
        .with_members(vec![
            MemberIdentity::default()
                .with_member_id(str_bytes(""))
                .with_group_instance_id(Some(str_bytes("no-such-instance"))),
            MemberIdentity::default()
                .with_member_id(str_bytes(""))
                .with_group_instance_id(Some(str_bytes("instance-1"))),
        ]);
    let response = member.conn.send(4, &request);
    assert_no_error(response.error_code, "LeaveGroup v4, top level");
    let answers: Vec<(Option<&str>, i16)> = response
        .members
        .iter()
        .map(|m| (m.group_instance_id.as_deref(), m.error_code))
        .collect();
    assert_eq!(
        answers,
        vec![
            (
                Some("no-such-instance"),
                ResponseError::UnknownMemberId.code()
            ),
            (Some("instance-1"), 0),
        ]
    );
    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::Empty);
    assert!(info.members.is_empty());
}

#[test]
fn an_emptied_group_moves_to_the_next_generation_and_forgets_its_protocol() {
    let cluster = cluster();
    let group = "g-emptied";
    let mut member = stable_member(&cluster, group);
    let request = LeaveGroupRequest::default()
        .with_group_id(group_id(group))
        .with_member_id(str_bytes(&member.id));
    assert_no_error(member.conn.send(2, &request).error_code, "LeaveGroup");
    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::Empty);
    assert_eq!(
        info.generation, 2,
        "emptying the group completes a rebalance"
    );
    assert_eq!(info.protocol, None);
    assert_eq!(info.leader, None);
    let d = describe(&cluster, 5, group);
    assert_eq!(d.group_state.as_str(), "Empty");
    assert_eq!(
        d.protocol_type.as_str(),
        "consumer",
        "the protocol type stays"
    );
    assert_eq!(d.protocol_data.as_str(), "");

    let next = join_alone(&cluster, group, &["roundrobin"]);
    assert_eq!(next.generation, 3);
    assert_eq!(
        next.protocol, "roundrobin",
        "an empty group takes a new protocol"
    );
}
