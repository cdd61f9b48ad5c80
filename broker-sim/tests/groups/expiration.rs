//! Offset expiration and the removal of empty groups (`offsets.retention.minutes`,
//! `offsets.retention.check.interval.ms`), on a manual clock: Kafka's
//! `cleanupGroupMetadata` rules as seen over the wire.

use std::time::Duration;

use broker_sim::{Cluster, GroupState, OffsetReset};
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::{LeaveGroupRequest, ListGroupsRequest};

use super::common::*;
use crate::support::*;

const RETENTION: Duration = Duration::from_secs(60);
const CHECK_EVERY: Duration = Duration::from_secs(1);

fn expiring_cluster() -> Cluster {
    builder()
        .manual_clock(1_000_000)
        .offsets_retention(RETENTION)
        .offsets_retention_check_interval(CHECK_EVERY)
        .start()
        .unwrap()
}

fn listed(cluster: &Cluster, group: &str) -> bool {
    let mut conn = Conn::to_coordinator(cluster, group);
    let groups = list_groups(&mut conn, 4, ListGroupsRequest::default());
    listed_ids(&groups).iter().any(|g| g == group)
}

/// Moves the clock `by`, in steps well within the member's session, heartbeating after
/// each so it stays in its group.
fn advance_alive(cluster: &Cluster, member: &mut Member, by: Duration) {
    let step = Duration::from_millis(u64::try_from(SESSION_TIMEOUT_MS / 3).unwrap());
    let mut waited = Duration::ZERO;
    while waited < by {
        let next = step.min(by - waited);
        cluster.advance(next);
        waited += next;
        assert_no_error(member.heartbeat(4), "heartbeat");
    }
}

fn leave(member: &mut Member) {
    let request = LeaveGroupRequest::default()
        .with_group_id(group_id(&member.group))
        .with_members(vec![
            MemberIdentity::default().with_member_id(str_bytes(&member.id)),
        ]);
    let response = member.conn.send(3, &request);
    assert_no_error(response.error_code, "LeaveGroup");
}

#[test]
fn offsets_of_a_group_left_empty_expire_a_retention_after_it_emptied_then_the_group_goes() {
    let cluster = expiring_cluster();
    let group = "g-expire";
    let mut member = stable_member(&cluster, group);
    let offsets = [("t", 0, 5), ("t", 1, 7)];
    let request = commit_request(group, member.generation, &member.id, &offsets, None, -1);
    for (_, _, code) in commit_errors(&commit(&cluster, 9, &request)) {
        assert_no_error(code, "member commit");
    }
    // The offsets are older than the retention by the time the group empties: what
    // counts is how long the group has been empty.
    advance_alive(&cluster, &mut member, RETENTION * 2);
    assert_eq!(fetch_one(&cluster, group, "t", 0).0, 5);
    leave(&mut member);
    assert_eq!(state(&cluster, group), Some(GroupState::Empty));

    cluster.advance(RETENTION - Duration::from_millis(1));
    assert_eq!(fetch_one(&cluster, group, "t", 1).0, 7, "not yet");
    assert!(listed(&cluster, group));

    cluster.advance(CHECK_EVERY + Duration::from_millis(1));
    assert_eq!(fetch_one(&cluster, group, "t", 0), no_offset());
    assert_eq!(fetch_one(&cluster, group, "t", 1), no_offset());
    assert!(
        !listed(&cluster, group),
        "an empty group without offsets is deleted"
    );
    assert!(cluster.group(group).is_none());
}

#[test]
fn an_empty_group_that_never_committed_goes_at_the_next_check() {
    let cluster = expiring_cluster();
    let group = "g-nothing-committed";
    let mut member = stable_member(&cluster, group);
    leave(&mut member);
    assert!(listed(&cluster, group));
    cluster.advance(CHECK_EVERY);
    assert!(!listed(&cluster, group));
}

#[test]
fn standalone_commits_expire_a_retention_after_each_commit() {
    let cluster = expiring_cluster();
    let group = "g-standalone";
    commit_standalone(&cluster, group, &[("t", 0, 1)]);
    cluster.advance(RETENTION / 2);
    commit_standalone(&cluster, group, &[("u", 0, 2)]);
    cluster.advance(RETENTION / 2);
    assert_eq!(fetch_one(&cluster, group, "t", 0), no_offset());
    assert_eq!(fetch_one(&cluster, group, "u", 0).0, 2);
    assert!(listed(&cluster, group), "it still has an offset");
    cluster.advance(RETENTION / 2);
    assert_eq!(fetch_one(&cluster, group, "u", 0), no_offset());
    assert!(!listed(&cluster, group));
}

#[test]
fn a_stable_group_keeps_the_offsets_of_topics_it_subscribes_to() {
    let cluster = expiring_cluster();
    let group = "g-stable";
    // Subscribed to "t" (`join_request`); it also committed "u", which no member reads.
    let mut member = stable_member(&cluster, group);
    let offsets = [("t", 0, 3), ("u", 0, 4)];
    let request = commit_request(group, member.generation, &member.id, &offsets, None, -1);
    for (_, _, code) in commit_errors(&commit(&cluster, 9, &request)) {
        assert_no_error(code, "member commit");
    }
    advance_alive(&cluster, &mut member, RETENTION + CHECK_EVERY);
    assert_eq!(state(&cluster, group), Some(GroupState::Stable));
    assert_eq!(fetch_one(&cluster, group, "t", 0).0, 3);
    assert_eq!(fetch_one(&cluster, group, "u", 0), no_offset());
    assert!(listed(&cluster, group));
}

#[test]
fn a_consumer_group_of_the_new_protocol_left_empty_expires_too() {
    let cluster = expiring_cluster();
    let group = "g-kip848";
    let mut conn = Conn::to_coordinator(&cluster, group);
    let joined = conn.send(1, &consumer_join_request(group, "m", &["t"]));
    assert_no_error(joined.error_code, "ConsumerGroupHeartbeat");
    let request = commit_request(group, joined.member_epoch, "m", &[("t", 0, 9)], None, -1);
    for (_, _, code) in commit_errors(&conn.send(9, &request)) {
        assert_no_error(code, "member commit");
    }
    let left = conn.send(1, &consumer_heartbeat_request(group, "m", -1));
    assert_no_error(left.error_code, "leaving heartbeat");
    assert!(cluster.group(group).unwrap().members.is_empty());
    cluster.advance(RETENTION + CHECK_EVERY);
    assert_eq!(fetch_one(&cluster, group, "t", 0), no_offset());
    assert!(!listed(&cluster, group));
}

#[test]
fn twenty_thousand_empty_groups_expire_and_are_forgotten() {
    let cluster = expiring_cluster();
    for i in 0..20_000 {
        cluster
            .reset_group_offsets(&format!("g-many-{i}"), "u", OffsetReset::Earliest)
            .unwrap();
    }
    let keeper = "g-many-keeper";
    let mut member = stable_member(&cluster, keeper);
    assert_eq!(cluster.groups().len(), 20_001);
    advance_alive(&cluster, &mut member, RETENTION + CHECK_EVERY);
    assert_eq!(
        cluster.groups(),
        [keeper],
        "only the group with a member is left"
    );
}
