//! Group administration and routing: DescribeGroups, ListGroups, DeleteGroups, and
//! NOT_COORDINATOR from every broker but the group's coordinator.

use broker_sim::GroupState;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{
    DeleteGroupsRequest, DescribeGroupsRequest, LeaveGroupRequest, ListGroupsRequest,
};

use crate::common::*;
use crate::support::*;

// DescribeGroups.

#[test]
fn describe_groups_reports_a_stable_group_with_its_members() {
    let cluster = cluster();
    let group = "g-describe";
    let member = stable_member(&cluster, group);
    for version in [0, 4, 5, 6] {
        let d = describe(&cluster, version, group);
        let context = format!("DescribeGroups v{version}");
        assert_no_error(d.error_code, &context);
        assert_eq!(d.group_id.as_str(), group);
        assert_eq!(d.group_state.as_str(), "Stable", "{context}");
        assert_eq!(d.protocol_type.as_str(), "consumer", "{context}");
        assert_eq!(d.protocol_data.as_str(), "range", "{context}");
        assert_eq!(d.members.len(), 1, "{context}");
        let m = &d.members[0];
        assert_eq!(m.member_id.as_str(), member.id, "{context}");
        assert_eq!(m.group_instance_id, None, "{context}");
        assert_eq!(m.client_id.as_str(), CLIENT_ID, "{context}");
        assert_eq!(
            m.client_host.as_str(),
            "/127.0.0.1",
            "{context}: Kafka reports the client's InetAddress.toString()"
        );
        assert_eq!(m.member_metadata, subscription(&["t"]), "{context}");
        assert_eq!(m.member_assignment, member.assignment, "{context}");
        assert_eq!(m.member_assignment, assignment(&[("t", &[0, 1, 2])]));
    }
}

#[test]
fn describe_groups_reports_an_empty_group_without_members() {
    let cluster = cluster();
    commit_standalone(&cluster, "g-describe-empty", &[("t", 0, 1)]);
    let d = describe(&cluster, 5, "g-describe-empty");
    assert_no_error(d.error_code, "DescribeGroups");
    assert_eq!(d.group_state.as_str(), "Empty");
    assert_eq!(d.protocol_type.as_str(), "");
    assert_eq!(d.protocol_data.as_str(), "");
    assert!(d.members.is_empty());
}

#[test]
fn describe_groups_of_an_unknown_group_is_dead_before_v6_and_group_id_not_found_in_v6() {
    let cluster = cluster();
    for version in 0..=5 {
        let d = describe(&cluster, version, "g-no-such-group");
        assert_no_error(d.error_code, &format!("DescribeGroups v{version}"));
        assert_eq!(d.group_id.as_str(), "g-no-such-group");
        assert_eq!(d.group_state.as_str(), "Dead", "v{version}");
        assert!(d.members.is_empty());
    }
    let d = describe(&cluster, 6, "g-no-such-group");
    assert_error(
        d.error_code,
        ResponseError::GroupIdNotFound,
        "DescribeGroups v6 of a group that does not exist",
    );
}

#[test]
fn describe_groups_of_a_rebalancing_group_omits_the_protocol_and_member_metadata() {
    let cluster = cluster();
    let group = "g-describe-rebalancing";
    let member = join_alone(&cluster, group, &["range"]);
    let d = describe(&cluster, 5, group);
    assert_no_error(d.error_code, "DescribeGroups");
    assert_eq!(d.group_state.as_str(), "CompletingRebalance");
    assert_eq!(d.protocol_type.as_str(), "consumer");
    assert_eq!(
        d.protocol_data.as_str(),
        "",
        "the protocol is reported once Stable"
    );
    assert_eq!(d.members.len(), 1);
    assert_eq!(d.members[0].member_id.as_str(), member.id);
    assert!(d.members[0].member_metadata.is_empty());
    assert!(d.members[0].member_assignment.is_empty());
}

// ListGroups.

#[test]
fn list_groups_lists_the_coordinators_groups() {
    let cluster = cluster();
    let (broker, groups) = groups_on_one_coordinator(&cluster, "g-list", 2);
    let (stable, empty) = (&groups[0], &groups[1]);
    let _member = stable_member(&cluster, stable);
    commit_standalone(&cluster, empty, &[("t", 0, 1)]);

    let mut conn = Conn::to_broker(&cluster, broker);
    for version in 0..=5 {
        let listed = list_groups(&mut conn, version, ListGroupsRequest::default());
        assert_eq!(
            listed_ids(&listed),
            vec![stable.clone(), empty.clone()],
            "v{version}"
        );
        let of = |g: &str| listed.iter().find(|l| l.group_id.as_str() == g).unwrap();
        assert_eq!(of(stable).protocol_type.as_str(), "consumer", "v{version}");
        assert_eq!(of(empty).protocol_type.as_str(), "", "v{version}");
        if version >= 4 {
            assert_eq!(of(stable).group_state.as_str(), "Stable", "v{version}");
            assert_eq!(of(empty).group_state.as_str(), "Empty", "v{version}");
        }
        if version >= 5 {
            assert_eq!(of(stable).group_type.as_str(), "classic", "v{version}");
            assert_eq!(of(empty).group_type.as_str(), "classic", "v{version}");
        }
    }
}

#[test]
fn list_groups_on_another_broker_does_not_list_the_group() {
    let cluster = cluster();
    let group = "g-list-elsewhere";
    commit_standalone(&cluster, group, &[("t", 0, 1)]);
    let coordinator = coordinator(&cluster, group);
    for b in cluster.brokers() {
        let listed = list_groups(
            &mut Conn::to_broker(&cluster, b.id),
            5,
            ListGroupsRequest::default(),
        );
        let ids = listed_ids(&listed);
        if b.id == coordinator {
            assert_eq!(
                ids,
                vec![group.to_string()],
                "broker {} coordinates it",
                b.id
            );
        } else {
            assert!(
                ids.is_empty(),
                "broker {} does not coordinate {group}: {ids:?}",
                b.id
            );
        }
    }
}

#[test]
fn list_groups_v4_and_later_filter_by_state() {
    let cluster = cluster();
    let (broker, groups) = groups_on_one_coordinator(&cluster, "g-list-state", 2);
    let (stable, empty) = (&groups[0], &groups[1]);
    let _member = stable_member(&cluster, stable);
    commit_standalone(&cluster, empty, &[("t", 0, 1)]);
    let mut conn = Conn::to_broker(&cluster, broker);
    for version in [4, 5] {
        let mut filter = |states: &[&str]| {
            let request = ListGroupsRequest::default()
                .with_states_filter(states.iter().map(|s| str_bytes(s)).collect());
            listed_ids(&list_groups(&mut conn, version, request))
        };
        assert_eq!(filter(&["Stable"]), vec![stable.clone()], "v{version}");
        assert_eq!(
            filter(&["empty"]),
            vec![empty.clone()],
            "v{version}: case-insensitive"
        );
        assert_eq!(filter(&["Stable", "Empty"]).len(), 2, "v{version}");
        assert!(filter(&["PreparingRebalance"]).is_empty(), "v{version}");
    }
}

#[test]
fn list_groups_v5_filters_by_type() {
    let cluster = cluster();
    let group = "g-list-type";
    let _member = stable_member(&cluster, group);
    let mut conn = Conn::to_coordinator(&cluster, group);
    let filter = |conn: &mut Conn, types: &[&str]| {
        let request = ListGroupsRequest::default()
            .with_types_filter(types.iter().map(|s| str_bytes(s)).collect());
        listed_ids(&list_groups(conn, 5, request))
    };
    assert_eq!(filter(&mut conn, &["classic"]), vec![group.to_string()]);
    assert_eq!(
        filter(&mut conn, &["Classic"]),
        vec![group.to_string()],
        "case-insensitive"
    );
    assert!(
        filter(&mut conn, &["consumer"]).is_empty(),
        "no KIP-848 groups"
    );
    assert!(filter(&mut conn, &["share"]).is_empty());
}

// DeleteGroups.

#[test]
fn delete_groups_of_an_unknown_group_is_group_id_not_found() {
    let cluster = cluster();
    for version in 0..=2 {
        assert_error(
            delete_groups(&cluster, version, "g-no-such-group"),
            ResponseError::GroupIdNotFound,
            &format!("DeleteGroups v{version}"),
        );
    }
}

#[test]
fn delete_groups_of_a_group_with_members_is_non_empty_group() {
    let cluster = cluster();
    let group = "g-delete-busy";
    let mut member = stable_member(&cluster, group);
    assert_error(
        delete_groups(&cluster, 2, group),
        ResponseError::NonEmptyGroup,
        "DeleteGroups of a Stable group",
    );
    assert_eq!(state(&cluster, group), Some(GroupState::Stable));
    assert_no_error(member.heartbeat(4), "the member is still in");
}

#[test]
fn delete_groups_removes_an_empty_group_and_its_offsets() {
    let cluster = cluster();
    let group = "g-delete";
    commit_standalone(&cluster, group, &[("t", 0, 5), ("u", 0, 6)]);
    assert_no_error(delete_groups(&cluster, 2, group), "DeleteGroups");
    assert!(cluster.group(group).is_none(), "the group is gone");
    assert_eq!(fetch_one(&cluster, group, "t", 0), no_offset());
    assert_eq!(fetch_one(&cluster, group, "u", 0), no_offset());
    assert_eq!(describe(&cluster, 5, group).group_state.as_str(), "Dead");
    assert_error(
        delete_groups(&cluster, 2, group),
        ResponseError::GroupIdNotFound,
        "deleting it again",
    );

    // A group whose last member left is Empty and can be deleted too.
    let group = "g-delete-left";
    let mut member = stable_member(&cluster, group);
    let request = LeaveGroupRequest::default()
        .with_group_id(group_id(group))
        .with_member_id(str_bytes(&member.id));
    assert_no_error(member.conn.send(2, &request).error_code, "LeaveGroup");
    assert_no_error(
        delete_groups(&cluster, 0, group),
        "DeleteGroups after the last member left",
    );
    assert!(cluster.group(group).is_none());
}

// NOT_COORDINATOR.

#[test]
fn join_group_sent_to_another_broker_is_not_coordinator() {
    let cluster = cluster();
    let group = "g-elsewhere";
    let mut conn = Conn::to_broker(&cluster, not_coordinator(&cluster, group));
    for version in [0, 3, 4, 9] {
        let response = conn.send(version, &join_request(group, "", &["range"]));
        assert_error(
            response.error_code,
            ResponseError::NotCoordinator,
            &format!("JoinGroup v{version}"),
        );
    }
    assert!(cluster.group(group).is_none());
}

#[test]
fn offset_commit_sent_to_another_broker_is_not_coordinator() {
    let cluster = cluster();
    let group = "g-elsewhere";
    let mut conn = Conn::to_broker(&cluster, not_coordinator(&cluster, group));
    for version in [2, 9] {
        let request = commit_request(group, -1, "", &[("t", 0, 1), ("t", 1, 1)], None, -1);
        let response = conn.send(version, &request);
        let code = ResponseError::NotCoordinator.code();
        assert_eq!(
            commit_errors(&response),
            vec![("t".to_string(), 0, code), ("t".to_string(), 1, code)],
            "OffsetCommit v{version}"
        );
    }
    assert!(cluster.group(group).is_none());
}

#[test]
fn offset_fetch_sent_to_another_broker_is_not_coordinator() {
    let cluster = cluster();
    let group = "g-elsewhere";
    commit_standalone(&cluster, group, &[("t", 0, 1)]);
    let mut conn = Conn::to_broker(&cluster, not_coordinator(&cluster, group));
    for version in [2, 7] {
        let request = offset_fetch_request(version, group, Some(&[("t", &[0])]));
        let response = conn.send(version, &request);
        assert_error(
            response.error_code,
            ResponseError::NotCoordinator,
            &format!("OffsetFetch v{version}"),
        );
    }
    for version in [8, 9] {
        let request = offset_fetch_request(version, group, Some(&[("t", &[0])]));
        let response = conn.send(version, &request);
        assert_eq!(response.groups.len(), 1);
        assert_error(
            response.groups[0].error_code,
            ResponseError::NotCoordinator,
            &format!("OffsetFetch v{version}"),
        );
    }
}

#[test]
fn other_group_requests_sent_to_another_broker_are_not_coordinator() {
    let cluster = cluster();
    let group = "g-elsewhere";
    let member = stable_member(&cluster, group);
    let mut conn = Conn::to_broker(&cluster, not_coordinator(&cluster, group));
    let not_coordinator = ResponseError::NotCoordinator;

    let response = conn.send(5, &sync_request(group, 1, &member.id, &[]));
    assert_error(response.error_code, not_coordinator, "SyncGroup");
    let response = conn.send(4, &heartbeat_request(group, 1, &member.id));
    assert_error(response.error_code, not_coordinator, "Heartbeat");
    let request = LeaveGroupRequest::default()
        .with_group_id(group_id(group))
        .with_member_id(str_bytes(&member.id));
    assert_error(
        conn.send(2, &request).error_code,
        not_coordinator,
        "LeaveGroup",
    );
    let request = DescribeGroupsRequest::default().with_groups(vec![group_id(group)]);
    let response = conn.send(5, &request);
    assert_error(
        response.groups[0].error_code,
        not_coordinator,
        "DescribeGroups",
    );
    let request = DeleteGroupsRequest::default().with_groups_names(vec![group_id(group)]);
    let response = conn.send(2, &request);
    assert_error(
        response.results[0].error_code,
        not_coordinator,
        "DeleteGroups",
    );
    let response = conn.send(0, &offset_delete_request(group, "t", &[0]));
    assert_error(response.error_code, not_coordinator, "OffsetDelete");

    assert_eq!(
        state(&cluster, group),
        Some(GroupState::Stable),
        "nothing changed"
    );
}
