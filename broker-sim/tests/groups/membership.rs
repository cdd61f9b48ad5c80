//! Joining and staying in a group: JoinGroup (member ids, protocol selection, session
//! bounds, group size), static membership, SyncGroup and Heartbeat.

use std::time::Duration;

use broker_sim::GroupState;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::SyncGroupRequest;

use crate::common::*;
use crate::support::*;

// JoinGroup.

#[test]
fn join_group_v4_and_later_without_member_id_is_member_id_required_then_joins_as_leader() {
    let cluster = cluster();
    for version in [4, 7, 9] {
        let group = format!("g-required-v{version}");
        let context = format!("JoinGroup v{version}");
        let mut conn = Conn::to_coordinator(&cluster, &group);
        let first = conn.send(version, &join_request(&group, "", &["range"]));
        assert_error(
            first.error_code,
            ResponseError::MemberIdRequired,
            &format!("{context} without a member id"),
        );
        let member_id = first.member_id.as_str().to_string();
        assert!(
            member_id.starts_with(&format!("{CLIENT_ID}-"))
                && member_id.len() > CLIENT_ID.len() + 1,
            "{context}: member id {member_id:?} is not the client id, '-' and a UUID"
        );

        let joined = conn.send(version, &join_request(&group, &member_id, &["range"]));
        assert_no_error(joined.error_code, &format!("{context} with the given id"));
        assert_eq!(joined.member_id.as_str(), member_id, "{context}");
        assert_eq!(joined.generation_id, 1, "{context}");
        assert_eq!(
            joined.leader.as_str(),
            member_id,
            "{context}: the first member leads"
        );
        assert_eq!(joined.protocol_name.as_deref(), Some("range"), "{context}");
        if version >= 7 {
            assert_eq!(
                joined.protocol_type.as_deref(),
                Some("consumer"),
                "{context}"
            );
        }
        assert_eq!(
            joined.members.len(),
            1,
            "{context}: the leader gets the members"
        );
        assert_eq!(joined.members[0].member_id.as_str(), member_id);
        assert_eq!(joined.members[0].metadata, subscription(&["t"]));

        let info = cluster.group(&group).expect("the group exists");
        assert_eq!(info.state, GroupState::CompletingRebalance, "{context}");
        assert_eq!(info.generation, 1);
        assert_eq!(info.leader.as_deref(), Some(member_id.as_str()));
        assert_eq!(info.protocol.as_deref(), Some("range"));
        assert_eq!(info.protocol_type, "consumer");
        assert_eq!(info.members.len(), 1);
        assert_eq!(info.members[0].member_id, member_id);
        assert_eq!(info.members[0].client_id, CLIENT_ID);
        assert_eq!(info.members[0].session_timeout_ms, SESSION_TIMEOUT_MS);
        assert_eq!(info.members[0].rebalance_timeout_ms, REBALANCE_TIMEOUT_MS);
    }
}

#[test]
fn join_group_before_v4_without_member_id_joins_at_once() {
    let cluster = cluster();
    for version in 0..=3 {
        let group = format!("g-direct-v{version}");
        let context = format!("JoinGroup v{version}");
        let response = Conn::to_coordinator(&cluster, &group)
            .send(version, &join_request(&group, "", &["range"]));
        assert_no_error(response.error_code, &context);
        let member_id = response.member_id.as_str();
        assert!(
            member_id.starts_with(&format!("{CLIENT_ID}-")),
            "{context}: member id {member_id:?}"
        );
        assert_eq!(response.generation_id, 1, "{context}");
        assert_eq!(response.leader.as_str(), member_id, "{context}");
        assert_eq!(
            response.protocol_name.as_deref(),
            Some("range"),
            "{context}"
        );
        assert_eq!(response.members.len(), 1, "{context}");
    }
}

#[test]
fn join_group_selects_the_protocol_every_member_supports() {
    let cluster = cluster();
    let members = join_all(
        &cluster,
        "g-protocols",
        &[&["range", "roundrobin"], &["roundrobin"]],
    );
    for m in &members {
        assert_eq!(
            m.generation, 2,
            "the second member's join starts generation 2"
        );
        assert_eq!(m.protocol, "roundrobin", "member {}", m.id);
    }
    assert!(members[0].is_leader(), "the first member keeps the lead");
    let info = cluster.group("g-protocols").unwrap();
    assert_eq!(info.protocol.as_deref(), Some("roundrobin"));
    assert_eq!(info.members.len(), 2);
}

#[test]
fn join_group_without_a_protocol_in_common_is_inconsistent_group_protocol() {
    let cluster = cluster();
    let group = "g-inconsistent";
    let first = stable_member(&cluster, group);
    let mut conn = Conn::to_coordinator(&cluster, group);
    for version in [3, 9] {
        let other_protocol = join_request(group, "", &["roundrobin"]);
        let response = conn.send(version, &other_protocol);
        assert_error(
            response.error_code,
            ResponseError::InconsistentGroupProtocol,
            &format!("v{version}: only roundrobin, the group runs range"),
        );
        let other_type =
            join_request(group, "", &["range"]).with_protocol_type(str_bytes("connect"));
        let response = conn.send(version, &other_type);
        assert_error(
            response.error_code,
            ResponseError::InconsistentGroupProtocol,
            &format!("v{version}: protocol type connect, the group's is consumer"),
        );
    }
    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::Stable, "no rebalance was started");
    assert_eq!(info.generation, 1);
    assert_eq!(info.members.len(), 1);
    assert_eq!(info.members[0].member_id, first.id);

    // An empty group takes any protocol, but not none at all.
    let response = Conn::to_coordinator(&cluster, "g-no-protocols")
        .send(9, &join_request("g-no-protocols", "", &[]));
    assert_error(
        response.error_code,
        ResponseError::InconsistentGroupProtocol,
        "a join offering no protocol",
    );
}

#[test]
fn join_group_with_a_session_timeout_outside_the_configured_bounds_is_invalid_session_timeout() {
    let cluster = cluster();
    let mut conn = Conn::to_coordinator(&cluster, "g-session");
    for timeout in [5_999, 1_800_001, 0] {
        let request = join_request("g-session", "", &["range"]).with_session_timeout_ms(timeout);
        let response = conn.send(9, &request);
        assert_error(
            response.error_code,
            ResponseError::InvalidSessionTimeout,
            &format!("session timeout {timeout} ms, bounds 6000..=1800000"),
        );
    }
    assert!(
        cluster.group("g-session").is_none(),
        "a refused join creates no group"
    );
    for timeout in [6_000, 1_800_000] {
        let request = join_request("g-session", "", &["range"]).with_session_timeout_ms(timeout);
        let response = conn.send(9, &request);
        assert_error(
            response.error_code,
            ResponseError::MemberIdRequired,
            &format!("session timeout {timeout} ms is within bounds"),
        );
    }

    let cluster = builder()
        .group_min_session_timeout_ms(100)
        .group_max_session_timeout_ms(200)
        .start()
        .unwrap();
    let mut conn = Conn::to_coordinator(&cluster, "g-session");
    for (timeout, expected) in [
        (99, Some(ResponseError::InvalidSessionTimeout)),
        (100, None),
        (200, None),
        (201, Some(ResponseError::InvalidSessionTimeout)),
        (6_000, Some(ResponseError::InvalidSessionTimeout)),
    ] {
        let request = join_request("g-session", "", &["range"]).with_session_timeout_ms(timeout);
        let response = conn.send(9, &request);
        let context = format!("session timeout {timeout} ms, bounds 100..=200");
        match expected {
            Some(e) => assert_error(response.error_code, e, &context),
            None => assert_error(
                response.error_code,
                ResponseError::MemberIdRequired,
                &context,
            ),
        }
    }
}

#[test]
fn join_group_beyond_group_max_size_is_group_max_size_reached() {
    let cluster = builder().group_max_size(1).start().unwrap();
    let group = "g-max-size";
    let first = stable_member(&cluster, group);
    let mut conn = Conn::to_coordinator(&cluster, group);
    for version in [3, 9] {
        let response = conn.send(version, &join_request(group, "", &["range"]));
        assert_error(
            response.error_code,
            ResponseError::GroupMaxSizeReached,
            &format!("v{version}: a second member of a group of at most 1"),
        );
    }
    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::Stable);
    assert_eq!(info.generation, 1);
    assert_eq!(info.members.len(), 1);
    assert_eq!(info.members[0].member_id, first.id);
}

#[test]
fn join_group_with_an_unknown_member_id_is_unknown_member_id() {
    let cluster = cluster();
    let group = "g-join-unknown-member";
    let first = stable_member(&cluster, group);
    let mut conn = Conn::to_coordinator(&cluster, group);
    let response = conn.send(9, &join_request(group, "no-such-member", &["range"]));
    assert_error(
        response.error_code,
        ResponseError::UnknownMemberId,
        "JoinGroup with a member id the group never gave",
    );
    let info = cluster.group(group).unwrap();
    assert_eq!((info.state, info.generation), (GroupState::Stable, 1));
    assert_eq!(info.members.len(), 1);
    assert_eq!(info.members[0].member_id, first.id);

    let response = Conn::to_coordinator(&cluster, "g-no-such-group").send(
        9,
        &join_request("g-no-such-group", "no-such-member", &["range"]),
    );
    assert_error(
        response.error_code,
        ResponseError::UnknownMemberId,
        "JoinGroup with a member id to a group that does not exist",
    );
    assert!(cluster.group("g-no-such-group").is_none());
}

#[test]
fn a_follower_rejoining_a_stable_group_unchanged_gets_the_current_generation() {
    let cluster = cluster();
    let group = "g-follower-rejoin";
    let mut members = form_group(&cluster, group, &[&["range"], &["range"]]);
    let follower = &mut members[1];
    assert!(!follower.is_leader());
    let response = follower.conn.send(9, &follower.join_request());
    assert_no_error(response.error_code, "the follower's rejoin");
    assert_eq!(
        response.generation_id, 2,
        "the current generation, no rebalance"
    );
    assert!(
        response.members.is_empty(),
        "a follower gets no member list"
    );
    let info = cluster.group(group).unwrap();
    assert_eq!((info.state, info.generation), (GroupState::Stable, 2));

    // The leader's rejoin, unchanged too, starts a rebalance (so it can reassign).
    let leader = &mut members[0];
    let _rejoin = leader.conn.start_join(9, leader.join_request());
    wait_for_state(&cluster, group, GroupState::PreparingRebalance);
}

// Static membership.

#[test]
fn static_member_rejoining_while_stable_gets_a_new_member_id_without_a_rebalance() {
    let cluster = cluster();
    let group = "g-static";
    let member = stable_static_member(&cluster, group, "instance-1");
    assert!(
        member.id.starts_with("instance-1-"),
        "a static member's id starts with its instance id: {:?}",
        member.id
    );
    let old_id = member.id.clone();
    let old_assignment = member.assignment.clone();

    // The same instance restarts: no member id, same group.instance.id.
    let mut restarted = new_member(&cluster, group, &["range"]);
    restarted.instance = Some("instance-1".to_string());
    let response = restarted.conn.send(9, &restarted.join_request());
    assert_no_error(response.error_code, "the static member's rejoin");
    let new_id = response.member_id.as_str();
    assert_ne!(
        new_id, old_id,
        "a rejoining static member gets a new member id"
    );
    assert!(new_id.starts_with("instance-1-"), "{new_id:?}");
    assert_eq!(response.generation_id, 1, "no new generation");
    assert_eq!(response.leader.as_str(), new_id, "it takes over the lead");
    assert!(
        response.skip_assignment,
        "v9: a static leader rejoining a Stable group skips the assignment (KIP-814)"
    );
    restarted.joined(&response);

    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::Stable, "no rebalance");
    assert_eq!(info.generation, 1);
    assert_eq!(info.members.len(), 1);
    assert_eq!(info.members[0].member_id, restarted.id);
    assert_eq!(
        info.members[0].group_instance_id.as_deref(),
        Some("instance-1")
    );

    let synced = restarted.sync(&[]);
    assert_no_error(synced.error_code, "SyncGroup with the new id");
    assert_eq!(
        synced.assignment, old_assignment,
        "the assignment carries over"
    );
    assert_no_error(restarted.heartbeat(4), "heartbeat with the new id");
}

#[test]
fn the_replaced_static_member_id_is_fenced() {
    let cluster = cluster();
    let group = "g-fenced";
    let mut old = stable_static_member(&cluster, group, "instance-1");
    let mut restarted = new_member(&cluster, group, &["range"]);
    restarted.instance = Some("instance-1".to_string());
    let response = restarted.conn.send(9, &restarted.join_request());
    restarted.joined(&response);

    for version in [3, 4] {
        assert_error(
            old.heartbeat(version),
            ResponseError::FencedInstanceId,
            &format!("v{version}: heartbeat of the replaced member id"),
        );
    }
    let response = old.sync(&[]);
    assert_error(
        response.error_code,
        ResponseError::FencedInstanceId,
        "SyncGroup of the replaced member id",
    );
}

// SyncGroup.

#[test]
fn sync_group_delivers_the_leaders_assignment_to_every_member() {
    let cluster = cluster();
    let group = "g-sync";
    let mut members = join_all(&cluster, group, &[&["range"], &["range"]]);
    assert_eq!(
        state(&cluster, group),
        Some(GroupState::CompletingRebalance)
    );
    let (leader, follower) = members.split_at_mut(1);
    let (leader, follower) = (&mut leader[0], &mut follower[0]);
    assert!(leader.is_leader());

    let to_leader = assignment(&[("t", &[0, 1])]);
    let to_follower = assignment(&[("t", &[2])]);
    let response = leader.sync(&[
        (&leader.id.clone(), to_leader.clone()),
        (&follower.id.clone(), to_follower.clone()),
    ]);
    assert_no_error(response.error_code, "the leader's SyncGroup");
    assert_eq!(response.assignment, to_leader);
    assert_eq!(response.protocol_type.as_deref(), Some("consumer"));
    assert_eq!(response.protocol_name.as_deref(), Some("range"));

    let response = follower.sync(&[]);
    assert_no_error(response.error_code, "the follower's SyncGroup");
    assert_eq!(response.assignment, to_follower);

    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::Stable);
    let assigned = |id: &str| {
        info.members
            .iter()
            .find(|m| m.member_id == id)
            .unwrap_or_else(|| panic!("member {id}"))
            .assignment
            .clone()
    };
    assert_eq!(assigned(&leader.id), vec![("t".to_string(), vec![0, 1])]);
    assert_eq!(assigned(&follower.id), vec![("t".to_string(), vec![2])]);
}

#[test]
fn a_followers_sync_group_waits_for_the_leaders() {
    let cluster = cluster();
    let group = "g-sync-wait";
    let mut members = join_all(&cluster, group, &[&["range"], &["range"]]);
    let (leader, follower) = members.split_at_mut(1);
    let (leader, follower) = (&mut leader[0], &mut follower[0]);

    let request = sync_request(group, follower.generation, &follower.id, &[]);
    let correlation_id = follower.conn.write(5, &request);
    assert!(
        !follower.conn.answer_pending(Duration::from_millis(300)),
        "a follower's SyncGroup is answered before the leader sent the assignments"
    );
    assert_eq!(
        state(&cluster, group),
        Some(GroupState::CompletingRebalance)
    );

    let to_follower = assignment(&[("t", &[1, 2])]);
    let response = leader.sync(&[
        (&leader.id.clone(), assignment(&[("t", &[0])])),
        (&follower.id.clone(), to_follower.clone()),
    ]);
    assert_no_error(response.error_code, "the leader's SyncGroup");
    let response = follower
        .conn
        .read::<SyncGroupRequest>(5, correlation_id)
        .expect("the follower's SyncGroup is answered");
    assert_no_error(response.error_code, "the follower's SyncGroup");
    assert_eq!(response.assignment, to_follower);
    assert_eq!(state(&cluster, group), Some(GroupState::Stable));
}

#[test]
fn sync_group_with_a_stale_generation_is_illegal_generation() {
    let cluster = cluster();
    let mut member = join_alone(&cluster, "g-sync-generation", &["range"]);
    for generation in [0, 2] {
        let request = sync_request("g-sync-generation", generation, &member.id, &[]);
        let response = member.conn.send(5, &request);
        assert_error(
            response.error_code,
            ResponseError::IllegalGeneration,
            &format!("SyncGroup for generation {generation} in generation 1"),
        );
    }
    assert_no_error(member.sync(&[]).error_code, "SyncGroup for generation 1");
}

#[test]
fn sync_group_from_an_unknown_member_is_unknown_member_id() {
    let cluster = cluster();
    let mut member = join_alone(&cluster, "g-sync-unknown", &["range"]);
    let request = sync_request("g-sync-unknown", 1, "no-such-member", &[]);
    let response = member.conn.send(5, &request);
    assert_error(
        response.error_code,
        ResponseError::UnknownMemberId,
        "SyncGroup of a member not in the group",
    );

    let request = sync_request("g-no-such-group", 1, "no-such-member", &[]);
    let response = Conn::to_coordinator(&cluster, "g-no-such-group").send(5, &request);
    assert_error(
        response.error_code,
        ResponseError::UnknownMemberId,
        "SyncGroup of a group that does not exist",
    );
}

#[test]
fn sync_group_v5_with_another_protocol_type_or_name_is_inconsistent_group_protocol() {
    let cluster = cluster();
    let group = "g-sync-protocol";
    let mut member = join_alone(&cluster, group, &["range"]);
    let base = sync_request(group, 1, &member.id, &[(&member.id, assignment(&[]))]);
    for (protocol_type, protocol_name) in [("connect", "range"), ("consumer", "roundrobin")] {
        let request = base
            .clone()
            .with_protocol_type(Some(str_bytes(protocol_type)))
            .with_protocol_name(Some(str_bytes(protocol_name)));
        let response = member.conn.send(5, &request);
        assert_error(
            response.error_code,
            ResponseError::InconsistentGroupProtocol,
            &format!("SyncGroup v5 as {protocol_type}/{protocol_name}, group is consumer/range"),
        );
    }
    assert_eq!(
        state(&cluster, group),
        Some(GroupState::CompletingRebalance)
    );
    let request = base
        .with_protocol_type(Some(str_bytes("consumer")))
        .with_protocol_name(Some(str_bytes("range")));
    let response = member.conn.send(5, &request);
    assert_no_error(response.error_code, "SyncGroup v5 as consumer/range");
    assert_eq!(state(&cluster, group), Some(GroupState::Stable));
}

#[test]
fn sync_group_during_a_rebalance_is_rebalance_in_progress() {
    let cluster = cluster();
    let group = "g-sync-rebalance";
    let mut first = stable_member(&cluster, group);
    let mut second = new_member(&cluster, group, &["range"]);
    let _second_join = second.conn.start_join(9, second.join_request());
    wait_for_state(&cluster, group, GroupState::PreparingRebalance);
    let response = first.sync(&[]);
    assert_error(
        response.error_code,
        ResponseError::RebalanceInProgress,
        "SyncGroup of generation 1 once a second member joined",
    );
}

// Heartbeat.

#[test]
fn heartbeat_of_a_stable_member_is_none() {
    let cluster = cluster();
    let mut member = stable_member(&cluster, "g-heartbeat");
    for version in 0..=4 {
        assert_no_error(member.heartbeat(version), &format!("Heartbeat v{version}"));
    }
}

#[test]
fn heartbeat_during_a_rebalance_is_rebalance_in_progress() {
    let cluster = cluster();
    let group = "g-heartbeat-rebalance";
    let mut first = stable_member(&cluster, group);
    let mut second = new_member(&cluster, group, &["range"]);
    let second_join = second.conn.start_join(9, second.join_request());
    wait_for_state(&cluster, group, GroupState::PreparingRebalance);

    for version in [0, 4] {
        assert_error(
            first.heartbeat(version),
            ResponseError::RebalanceInProgress,
            &format!("v{version}: heartbeat of the first member once a second one joins"),
        );
    }

    // The first member rejoins, as a consumer does on REBALANCE_IN_PROGRESS.
    let first_join = first.conn.start_join(9, first.join_request());
    let response = first.conn.finish_join(first_join);
    first.joined(&response);
    let response = second.conn.finish_join(second_join);
    second.joined(&response);
    assert_eq!((first.generation, second.generation), (2, 2));
}

#[test]
fn heartbeat_with_a_stale_generation_is_illegal_generation() {
    let cluster = cluster();
    let group = "g-heartbeat-generation";
    let mut member = stable_member(&cluster, group);
    for generation in [0, 2] {
        let request = heartbeat_request(group, generation, &member.id);
        assert_error(
            member.conn.send(4, &request).error_code,
            ResponseError::IllegalGeneration,
            &format!("heartbeat for generation {generation} in generation 1"),
        );
    }
}

#[test]
fn heartbeat_of_an_unknown_member_is_unknown_member_id() {
    let cluster = cluster();
    let group = "g-heartbeat-unknown";
    let mut member = stable_member(&cluster, group);
    let request = heartbeat_request(group, 1, "no-such-member");
    assert_error(
        member.conn.send(4, &request).error_code,
        ResponseError::UnknownMemberId,
        "heartbeat of a member not in the group",
    );
    let request = heartbeat_request("g-no-such-group", 1, "no-such-member");
    let response = Conn::to_coordinator(&cluster, "g-no-such-group").send(4, &request);
    assert_error(
        response.error_code,
        ResponseError::UnknownMemberId,
        "heartbeat to a group that does not exist",
    );
}

#[test]
fn heartbeat_while_awaiting_sync_is_none() {
    let cluster = cluster();
    let group = "g-heartbeat-awaiting-sync";
    let mut member = join_alone(&cluster, group, &["range"]);
    assert_eq!(
        state(&cluster, group),
        Some(GroupState::CompletingRebalance)
    );
    assert_no_error(
        member.heartbeat(4),
        "heartbeat between JoinGroup and SyncGroup",
    );
}
