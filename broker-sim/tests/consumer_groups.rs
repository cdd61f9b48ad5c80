//! Consumer groups of the new protocol (KIP-848) over the wire: members join with
//! ConsumerGroupHeartbeat, partitions move only after their owner revokes them, sessions
//! and revocations time out on the cluster clock, static members come back, regular
//! expressions pick up new topics, the offset and group APIs see the member epochs, and
//! a classic group is upgraded online with its members (and downgraded back).

mod support;

use std::time::Duration;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::consumer_group_heartbeat_request::TopicPartitions;
use kafka_protocol::messages::{
    ConsumerGroupDescribeRequest, ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse,
    DeleteGroupsRequest, ListGroupsRequest,
};
use support::*;

const G: &str = "g";

fn cluster(partitions: i32) -> Cluster {
    Cluster::builder()
        .brokers(3)
        .manual_clock(1_000_000)
        .topic("t", partitions)
        .start()
        .unwrap()
}

fn beat(
    cluster: &Cluster,
    request: &ConsumerGroupHeartbeatRequest,
) -> ConsumerGroupHeartbeatResponse {
    Conn::to_coordinator(cluster, G).send(1, request)
}

/// The partitions of `t` an answer assigns, or `None` when it carries no assignment.
fn assigned(response: &ConsumerGroupHeartbeatResponse) -> Option<Vec<i32>> {
    response.assignment.as_ref().map(|a| {
        let mut ps: Vec<i32> = a
            .topic_partitions
            .iter()
            .flat_map(|tp| tp.partitions.iter().copied())
            .collect();
        ps.sort_unstable();
        ps
    })
}

fn owned(cluster: &Cluster, partitions: &[i32]) -> Option<Vec<TopicPartitions>> {
    Some(vec![
        TopicPartitions::default()
            .with_topic_id(topic_id(cluster, "t"))
            .with_partitions(partitions.to_vec()),
    ])
}

fn ok(response: &ConsumerGroupHeartbeatResponse) {
    assert_eq!(response.error_code, 0, "{response:?}");
}

#[test]
fn a_second_member_gets_partitions_only_after_the_first_revokes_them() {
    let cluster = cluster(4);
    let a = beat(&cluster, &consumer_join_request(G, "a", &["t"]));
    ok(&a);
    assert_eq!((a.member_epoch, assigned(&a)), (1, Some(vec![0, 1, 2, 3])));

    let b = beat(&cluster, &consumer_join_request(G, "b", &["t"]));
    ok(&b);
    // b is at the new epoch, but every partition of its target is still a's.
    assert_eq!((b.member_epoch, assigned(&b)), (2, Some(vec![])));
    let group = cluster.group(G).unwrap();
    assert_eq!(group.group_type, "consumer");
    assert_eq!(group.consumer.as_ref().unwrap().state, "Reconciling");
    let b_info = group.member("b").unwrap();
    assert_eq!(
        b_info.member_state.as_deref(),
        Some("unreleased_partitions")
    );
    assert_eq!(b_info.target_assignment[0].1.len(), 2);

    // a is told to keep half; its epoch stays until it has let the rest go.
    let a = beat(&cluster, &consumer_heartbeat_request(G, "a", 1));
    ok(&a);
    assert_eq!(a.member_epoch, 1);
    let kept = assigned(&a).unwrap();
    assert_eq!(kept.len(), 2);
    let still = beat(
        &cluster,
        &consumer_heartbeat_request(G, "a", 1)
            .with_topic_partitions(owned(&cluster, &[0, 1, 2, 3])),
    );
    assert_eq!((still.member_epoch, assigned(&still)), (1, None));
    let b = beat(&cluster, &consumer_heartbeat_request(G, "b", 2));
    assert_eq!(assigned(&b), None, "nothing released yet");

    let a = beat(
        &cluster,
        &consumer_heartbeat_request(G, "a", 1).with_topic_partitions(owned(&cluster, &kept)),
    );
    assert_eq!(a.member_epoch, 2);
    let b = beat(&cluster, &consumer_heartbeat_request(G, "b", 2));
    let given = assigned(&b).unwrap();
    let mut all: Vec<i32> = kept.iter().chain(&given).copied().collect();
    all.sort_unstable();
    assert_eq!(all, [0, 1, 2, 3]);

    let described = Conn::to_coordinator(&cluster, G).send(
        1,
        &ConsumerGroupDescribeRequest::default().with_group_ids(vec![group_id(G)]),
    );
    let g = &described.groups[0];
    assert_eq!(
        (g.group_state.as_str(), g.group_epoch, g.assignment_epoch),
        ("Stable", 2, 2)
    );
    assert_eq!(g.assignor_name.as_str(), "uniform");
    assert!(
        g.members
            .iter()
            .all(|m| m.member_epoch == 2 && m.member_type == 1)
    );
}

#[test]
fn stale_and_future_epochs_are_fenced_and_a_lost_answer_is_forgiven() {
    let cluster = cluster(2);
    ok(&beat(&cluster, &consumer_join_request(G, "a", &["t"])));
    let ahead = beat(&cluster, &consumer_heartbeat_request(G, "a", 5));
    assert_eq!(ahead.error_code, ResponseError::FencedMemberEpoch.code());
    let unknown = beat(&cluster, &consumer_heartbeat_request(G, "zz", 1));
    assert_eq!(unknown.error_code, ResponseError::UnknownMemberId.code());

    // b joins (epoch 2); a moves to epoch 2 but pretends it never heard, resending
    // epoch 1 with what it owns: accepted.
    ok(&beat(&cluster, &consumer_join_request(G, "b", &["t"])));
    let a = beat(&cluster, &consumer_heartbeat_request(G, "a", 1));
    let kept = assigned(&a).unwrap();
    let a = beat(
        &cluster,
        &consumer_heartbeat_request(G, "a", 1).with_topic_partitions(owned(&cluster, &kept)),
    );
    assert_eq!(a.member_epoch, 2);
    let resent = beat(
        &cluster,
        &consumer_heartbeat_request(G, "a", 1).with_topic_partitions(owned(&cluster, &kept)),
    );
    ok(&resent);
    assert_eq!(resent.member_epoch, 2);
    let older = beat(
        &cluster,
        &consumer_heartbeat_request(G, "a", 0).with_member_epoch(1),
    );
    assert_eq!(older.error_code, ResponseError::FencedMemberEpoch.code());
}

#[test]
fn sessions_and_revocations_time_out_on_the_cluster_clock() {
    let cluster = cluster(2);
    ok(&beat(&cluster, &consumer_join_request(G, "a", &["t"])));
    ok(&beat(
        &cluster,
        &consumer_join_request(G, "b", &["t"]).with_rebalance_timeout_ms(10_000),
    ));
    // a never revokes; after its rebalance timeout (30 s) it is fenced out, while b
    // keeps heartbeating.
    let _ = beat(&cluster, &consumer_heartbeat_request(G, "a", 1));
    cluster.advance(Duration::from_millis(29_000));
    ok(&beat(&cluster, &consumer_heartbeat_request(G, "b", 2)));
    assert!(cluster.group(G).unwrap().member("a").is_some());
    cluster.advance(Duration::from_millis(2_000));
    assert!(cluster.group(G).unwrap().member("a").is_none());
    let b = beat(&cluster, &consumer_heartbeat_request(G, "b", 2));
    assert_eq!((b.member_epoch, assigned(&b)), (3, Some(vec![0, 1])));

    // b stops heartbeating: gone after the 45 s session.
    cluster.advance(Duration::from_millis(44_000));
    assert!(cluster.group(G).unwrap().member("b").is_some());
    cluster.advance(Duration::from_millis(2_000));
    let group = cluster.group(G).unwrap();
    assert!(group.members.is_empty());
    assert_eq!(group.consumer.unwrap().state, "Empty");
}

#[test]
fn a_static_member_that_leaves_for_now_is_replaced_with_its_assignment() {
    let cluster = cluster(2);
    let join = |member: &str| {
        consumer_join_request(G, member, &["t"]).with_instance_id(Some(str_bytes("i1")))
    };
    let a = beat(&cluster, &join("a"));
    assert_eq!(assigned(&a), Some(vec![0, 1]));
    let taken = beat(&cluster, &join("a2"));
    assert_eq!(taken.error_code, ResponseError::UnreleasedInstanceId.code());

    let left = beat(
        &cluster,
        &consumer_heartbeat_request(G, "a", -2).with_instance_id(Some(str_bytes("i1"))),
    );
    ok(&left);
    assert_eq!(left.member_epoch, -2);
    assert_eq!(
        cluster.group(G).unwrap().member("a").unwrap().member_epoch,
        Some(-2)
    );

    let back = beat(&cluster, &join("a2"));
    ok(&back);
    assert_eq!((back.member_epoch, assigned(&back)), (1, Some(vec![0, 1])));
    let group = cluster.group(G).unwrap();
    assert_eq!(
        group.consumer.as_ref().unwrap().group_epoch,
        1,
        "no rebalance for the new process"
    );
    assert!(group.member("a").is_none());
}

#[test]
fn a_regular_expression_subscription_follows_new_topics() {
    let cluster = cluster(1);
    let join = consumer_join_request(G, "a", &[])
        .with_subscribed_topic_names(None)
        .with_subscribed_topic_regex(Some(str_bytes("orders-.*")));
    let a = beat(&cluster, &join);
    // Resolved after the joining heartbeat, as Kafka resolves it in the background.
    assert_eq!((a.member_epoch, assigned(&a)), (1, Some(vec![])));
    cluster.create_topic("orders-eu", 2).unwrap();
    let a = beat(&cluster, &consumer_heartbeat_request(G, "a", 1));
    assert_eq!(a.member_epoch, 2);
    assert_eq!(assigned(&a), Some(vec![0, 1]));
    cluster.create_topic("orders-us", 1).unwrap();
    let a = beat(&cluster, &consumer_heartbeat_request(G, "a", 2));
    assert_eq!(
        (a.member_epoch, assigned(&a).map(|p| p.len())),
        (3, Some(3))
    );
    assert_eq!(a.assignment.unwrap().topic_partitions.len(), 2);

    let bad = beat(
        &cluster,
        &consumer_join_request(G, "b", &[])
            .with_subscribed_topic_names(None)
            .with_subscribed_topic_regex(Some(str_bytes("(orders"))),
    );
    assert_eq!(
        bad.error_code,
        ResponseError::InvalidRegularExpression.code()
    );
    assert!(bad.error_message.unwrap().contains("missing closing )"));
}

#[test]
fn the_range_assignor_gives_contiguous_ranges() {
    let cluster = cluster(5);
    let join = |m: &str| {
        consumer_join_request(G, m, &["t"]).with_server_assignor(Some(str_bytes("range")))
    };
    ok(&beat(&cluster, &join("a")));
    ok(&beat(&cluster, &join("b")));
    let group = cluster.group(G).unwrap();
    assert_eq!(group.consumer.as_ref().unwrap().assignor, "range");
    assert_eq!(
        group.member("a").unwrap().target_assignment,
        [("t".to_string(), vec![0, 1, 2])]
    );
    assert_eq!(
        group.member("b").unwrap().target_assignment,
        [("t".to_string(), vec![3, 4])]
    );
    let unknown = beat(
        &cluster,
        &join("c").with_server_assignor(Some(str_bytes("sticky"))),
    );
    assert_eq!(
        unknown.error_code,
        ResponseError::UnsupportedAssignor.code()
    );
}

#[test]
fn offsets_groups_and_the_classic_apis_see_a_consumer_group() {
    let cluster = cluster(1);
    ok(&beat(&cluster, &consumer_join_request(G, "a", &["t"])));
    let mut conn = Conn::to_coordinator(&cluster, G);
    let commit = |epoch: i32| commit_request(G, epoch, "a", &[("t", 0, 3)], None, -1);
    let committed = conn.send(9, &commit(1));
    assert_eq!(committed.topics[0].partitions[0].error_code, 0);
    let stale = conn.send(9, &commit(2));
    assert_eq!(
        stale.topics[0].partitions[0].error_code,
        ResponseError::StaleMemberEpoch.code()
    );
    let admin = conn.send(9, &commit_request(G, -1, "", &[("t", 0, 3)], None, -1));
    assert_eq!(
        admin.topics[0].partitions[0].error_code,
        ResponseError::UnknownMemberId.code()
    );
    assert_eq!(cluster.group(G).unwrap().offset("t", 0), Some(3));

    let listed = conn.send(
        5,
        &ListGroupsRequest::default().with_types_filter(vec![str_bytes("consumer")]),
    );
    let g = listed
        .groups
        .iter()
        .find(|g| g.group_id.as_str() == G)
        .unwrap();
    assert_eq!(
        (
            g.group_type.as_str(),
            g.group_state.as_str(),
            g.protocol_type.as_str()
        ),
        ("consumer", "Stable", "consumer")
    );

    let delete = || DeleteGroupsRequest::default().with_groups_names(vec![group_id(G)]);
    let busy = conn.send(2, &delete());
    assert_eq!(
        busy.results[0].error_code,
        ResponseError::NonEmptyGroup.code()
    );

    cluster.expire_member(G, "a").unwrap();
    assert!(cluster.group(G).unwrap().members.is_empty());
    // Empty: it may be deleted.
    let deleted = conn.send(2, &delete());
    assert_eq!(deleted.results[0].error_code, 0);
    assert!(cluster.group(G).is_none());
}

#[test]
fn a_classic_group_is_upgraded_with_its_members_and_downgraded_when_the_new_protocol_leaves() {
    let cluster = cluster(4);
    let mut conn = Conn::to_coordinator(&cluster, G);
    // A classic consumer joins (v9: given its id first) and assigns itself everything.
    let first = conn.send(9, &join_request(G, "", &["range"]));
    assert_eq!(first.error_code, ResponseError::MemberIdRequired.code());
    let c = first.member_id.to_string();
    let joined = conn.send(9, &join_request(G, &c, &["range"]));
    assert_eq!((joined.error_code, joined.generation_id), (0, 1));
    let all = assignment(&[("t", &[0, 1, 2, 3])]);
    let synced = conn.send(5, &sync_request(G, 1, &c, &[(&c, all)]));
    assert_eq!(synced.error_code, 0);

    // A member of the new protocol joins: the group is upgraded with the classic member
    // in it, at the classic generation, and the new member waits for partitions.
    let n = beat(&cluster, &consumer_join_request(G, "n", &["t"]));
    ok(&n);
    assert_eq!((n.member_epoch, assigned(&n)), (2, Some(vec![])));
    let group = cluster.group(G).unwrap();
    assert_eq!(group.group_type, "consumer");
    assert_eq!(group.member(&c).unwrap().member_epoch, Some(1));

    // The classic member is told to rejoin; having revoked everything (eager), it is
    // at the new epoch at once and syncs half of the partitions.
    let hb = conn.send(4, &heartbeat_request(G, 1, &c));
    assert_eq!(hb.error_code, ResponseError::RebalanceInProgress.code());
    let rejoined = conn.send(9, &join_request(G, &c, &["range"]));
    assert_eq!(rejoined.error_code, 0);
    assert_eq!(rejoined.generation_id, 2);
    assert_eq!(rejoined.leader.as_str(), "");
    assert!(rejoined.members.is_empty());
    let synced = conn.send(5, &sync_request(G, 2, &c, &[]));
    assert_eq!(synced.error_code, 0);
    let mine = decode_assignment(&synced.assignment);
    assert_eq!(mine[0].1.len(), 2);
    assert_eq!(conn.send(4, &heartbeat_request(G, 2, &c)).error_code, 0);
    let n = beat(&cluster, &consumer_heartbeat_request(G, "n", 2));
    let theirs = assigned(&n).unwrap();
    let mut both: Vec<i32> = mine[0].1.iter().chain(&theirs).copied().collect();
    both.sort_unstable();
    assert_eq!(both, [0, 1, 2, 3]);
    let described = conn.send(
        1,
        &ConsumerGroupDescribeRequest::default().with_group_ids(vec![group_id(G)]),
    );
    let types: Vec<(String, i8)> = described.groups[0]
        .members
        .iter()
        .map(|m| (m.member_id.to_string(), m.member_type))
        .collect();
    assert!(types.contains(&(c.clone(), 0)) && types.contains(&("n".to_string(), 1)));
    // The classic member commits under its generation.
    let committed = conn.send(
        8,
        &commit_request(G, 2, &c, &[("t", mine[0].1[0], 5)], None, -1),
    );
    assert_eq!(committed.topics[0].partitions[0].error_code, 0);

    // The new-protocol member leaves: back to a classic group, which rebalances.
    ok(&beat(&cluster, &consumer_heartbeat_request(G, "n", -1)));
    let group = cluster.group(G).unwrap();
    assert_eq!(group.group_type, "classic");
    assert_eq!(group.state, broker_sim::GroupState::PreparingRebalance);
    let hb = conn.send(4, &heartbeat_request(G, 2, &c));
    assert_eq!(hb.error_code, ResponseError::RebalanceInProgress.code());
    let joined = conn.send(9, &join_request(G, &c, &["range"]));
    assert_eq!((joined.error_code, joined.generation_id), (0, 3));
    assert_eq!(joined.leader.as_str(), c);
}

/// A SyncGroup assignment's (topic, partitions).
fn decode_assignment(bytes: &bytes::Bytes) -> Vec<(String, Vec<i32>)> {
    use bytes::Buf;
    use kafka_protocol::protocol::Decodable;
    let mut buf = bytes.clone();
    let version = buf.get_i16();
    let a =
        kafka_protocol::messages::ConsumerProtocolAssignment::decode(&mut buf, version).unwrap();
    a.assigned_partitions
        .into_iter()
        .map(|tp| (tp.topic.to_string(), tp.partitions))
        .collect()
}

#[test]
fn instance_ids_are_released_with_their_member_and_a_replaced_process_is_fenced() {
    let cluster = cluster(1);
    let join = |member: &str, instance: &str| {
        consumer_join_request(G, member, &["t"]).with_instance_id(Some(str_bytes(instance)))
    };
    ok(&beat(&cluster, &join("m", "a")));
    // The same member comes back under another instance id, then leaves: both ids free.
    ok(&beat(&cluster, &join("m", "b")));
    ok(&beat(&cluster, &consumer_heartbeat_request(G, "m", -1)));
    ok(&beat(&cluster, &join("n", "a")));
    ok(&beat(&cluster, &join("o", "b")));

    // n leaves for now (-2) and a new process takes "a" over: the old process, still
    // heartbeating or leaving under its id, is fenced.
    let left = beat(
        &cluster,
        &consumer_heartbeat_request(G, "n", -2).with_instance_id(Some(str_bytes("a"))),
    );
    ok(&left);
    ok(&beat(&cluster, &join("n2", "a")));
    let zombie = beat(
        &cluster,
        &consumer_heartbeat_request(G, "n", 1).with_instance_id(Some(str_bytes("a"))),
    );
    assert_eq!(zombie.error_code, ResponseError::FencedInstanceId.code());
    let zombie_leave = beat(
        &cluster,
        &consumer_heartbeat_request(G, "n", -2).with_instance_id(Some(str_bytes("a"))),
    );
    assert_eq!(
        zombie_leave.error_code,
        ResponseError::FencedInstanceId.code()
    );
    assert!(cluster.group(G).unwrap().member("n2").is_some());
}
