//! OffsetForLeaderEpoch over the wire: the end offset of a leader epoch.
//!
//! Consumers ask after a leader change whether the log was truncated below their position
//! (KIP-320): the answer for epoch E is the largest epoch at or below E and the offset
//! where the next epoch began, or the log end offset for the current epoch. Only the
//! leader answers; a replica checks the client's current leader epoch first.

mod support;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::OffsetForLeaderEpochRequest;
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_response::EpochEndOffset;
use support::*;

/// A consumer's request (replica id -1) for `leader_epoch` of `topic`-`partition`.
fn request(
    topic: &str,
    partition: i32,
    current_leader_epoch: i32,
    leader_epoch: i32,
) -> OffsetForLeaderEpochRequest {
    OffsetForLeaderEpochRequest::default()
        .with_replica_id((-1).into())
        .with_topics(vec![
            OffsetForLeaderTopic::default()
                .with_topic(name(topic))
                .with_partitions(vec![
                    OffsetForLeaderPartition::default()
                        .with_partition(partition)
                        .with_current_leader_epoch(current_leader_epoch)
                        .with_leader_epoch(leader_epoch),
                ]),
        ])
}

/// The only partition answer, from `broker`, in v4.
fn ask(
    cluster: &Cluster,
    broker: i32,
    topic: &str,
    partition: i32,
    current_leader_epoch: i32,
    leader_epoch: i32,
) -> EpochEndOffset {
    let r = request(topic, partition, current_leader_epoch, leader_epoch);
    let response = Conn::to_broker(cluster, broker).send(4, &r);
    assert_eq!(response.topics.len(), 1, "{response:?}");
    assert_eq!(response.topics[0].topic, name(topic));
    assert_eq!(response.topics[0].partitions.len(), 1);
    let p = response.topics[0].partitions[0].clone();
    assert_eq!(p.partition, partition);
    p
}

/// (leader epoch, end offset) from the leader, which must not refuse.
#[track_caller]
fn end_offset(cluster: &Cluster, current_leader_epoch: i32, leader_epoch: i32) -> (i32, i64) {
    let leader = leader(cluster, "t", 0);
    let p = ask(cluster, leader, "t", 0, current_leader_epoch, leader_epoch);
    assert_no_error(p.error_code, &format!("epoch {leader_epoch}"));
    (p.leader_epoch, p.end_offset)
}

fn leader_epoch(cluster: &Cluster) -> i32 {
    cluster.partitions("t").unwrap()[0].leader_epoch
}

/// Another in-sync replica of t-0 than its leader.
fn other_replica(cluster: &Cluster) -> i32 {
    let p = &cluster.partitions("t").unwrap()[0];
    *p.isr.iter().find(|&&b| b != p.leader).expect("a follower")
}

#[test]
fn current_epoch_ends_at_the_log_end_offset_in_every_version() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    produce(&cluster, "t", 0, batch_of(&["a", "b", "c"]));
    let leader = leader(&cluster, "t", 0);
    for version in 2..=4 {
        // A follower's replica id (v3+) is answered like a consumer's.
        for replica_id in [-1, other_replica(&cluster)] {
            let r = request("t", 0, 0, 0).with_replica_id(replica_id.into());
            let response = Conn::to_broker(&cluster, leader).send(version, &r);
            let p = &response.topics[0].partitions[0];
            assert_no_error(p.error_code, &format!("v{version}"));
            assert_eq!((p.leader_epoch, p.end_offset), (0, 3), "v{version}");
        }
    }
}

#[test]
fn empty_log_epoch_zero_ends_at_zero() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    assert_eq!(end_offset(&cluster, -1, 0), (0, 0));
}

#[test]
fn unknown_topic_or_partition() {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("t", 1)
        .auto_create_topics(false)
        .start()
        .unwrap();
    for (topic, partition) in [("missing", 0), ("t", 1)] {
        let p = ask(&cluster, 1, topic, partition, -1, 0);
        assert_error(
            p.error_code,
            ResponseError::UnknownTopicOrPartition,
            &format!("{topic}-{partition}"),
        );
        assert_eq!((p.leader_epoch, p.end_offset), (-1, -1));
    }
}

#[test]
fn broker_that_does_not_lead_answers_not_leader_or_follower() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let p = ask(&cluster, follower(&cluster, "t", 0), "t", 0, 0, 0);
    assert_error(
        p.error_code,
        ResponseError::NotLeaderOrFollower,
        "asked a follower",
    );
    assert_eq!((p.leader_epoch, p.end_offset), (-1, -1));
}

#[test]
fn broker_without_a_replica_does_not_check_the_current_epoch() {
    // Four brokers, three replicas: one broker holds no copy of t-0.
    let cluster = Cluster::builder().brokers(4).topic("t", 1).start().unwrap();
    let replicas = cluster.partitions("t").unwrap()[0].replicas.clone();
    let outsider = (1..=4).find(|b| !replicas.contains(b)).unwrap();
    let p = ask(&cluster, outsider, "t", 0, 7, 0);
    assert_error(
        p.error_code,
        ResponseError::NotLeaderOrFollower,
        "broker without a replica, current epoch from the future",
    );
}

#[test]
fn current_leader_epoch_newer_than_the_leaders_is_unknown_leader_epoch() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let leader = leader(&cluster, "t", 0);
    let p = ask(&cluster, leader, "t", 0, 1, 0);
    assert_error(
        p.error_code,
        ResponseError::UnknownLeaderEpoch,
        "epoch 1 of 0",
    );
    assert_eq!((p.leader_epoch, p.end_offset), (-1, -1));
}

#[test]
fn current_leader_epoch_older_than_the_leaders_is_fenced_even_at_a_follower() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    cluster
        .move_leader("t", 0, other_replica(&cluster))
        .unwrap();
    assert_eq!(leader_epoch(&cluster), 1);
    let p = ask(&cluster, leader(&cluster, "t", 0), "t", 0, 0, 0);
    assert_error(p.error_code, ResponseError::FencedLeaderEpoch, "leader");
    // A replica checks the epoch before leadership, as Kafka's Partition does.
    let p = ask(&cluster, follower(&cluster, "t", 0), "t", 0, 0, 0);
    assert_error(p.error_code, ResponseError::FencedLeaderEpoch, "follower");
    assert_eq!(end_offset(&cluster, 1, 1), (1, 0));
}

#[test]
fn epoch_above_every_known_one_is_undefined_without_error() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    produce(&cluster, "t", 0, batch_of(&["a"]));
    assert_eq!(end_offset(&cluster, -1, 5), (-1, -1));
    assert_eq!(end_offset(&cluster, -1, -1), (-1, -1));
}

#[test]
fn after_a_leader_change_an_old_epoch_ends_where_the_next_began() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    produce(&cluster, "t", 0, batch_of(&["a", "b"]));
    cluster
        .move_leader("t", 0, other_replica(&cluster))
        .unwrap();
    produce(&cluster, "t", 0, batch_of(&["c", "d", "e"]));
    assert_eq!(end_offset(&cluster, 1, 0), (0, 2));
    assert_eq!(end_offset(&cluster, 1, 1), (1, 5));
    // Epoch 2 saw no writes before epoch 3 took over at the same offset: asking for it
    // answers for the largest known epoch below it.
    cluster
        .move_leader("t", 0, other_replica(&cluster))
        .unwrap();
    cluster
        .move_leader("t", 0, other_replica(&cluster))
        .unwrap();
    produce(&cluster, "t", 0, batch_of(&["f"]));
    assert_eq!(leader_epoch(&cluster), 3);
    assert_eq!(end_offset(&cluster, 3, 2), (1, 5));
    assert_eq!(end_offset(&cluster, 3, 3), (3, 6));
}

#[test]
fn epoch_in_which_nothing_was_written_ends_where_it_began() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    cluster
        .move_leader("t", 0, other_replica(&cluster))
        .unwrap();
    produce(&cluster, "t", 0, batch_of(&["a"]));
    assert_eq!(end_offset(&cluster, 1, 0), (0, 0));
}
