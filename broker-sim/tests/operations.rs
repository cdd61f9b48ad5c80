//! The operations APIs over the wire: ElectLeaders (preferred and unclean elections that
//! really move leaders, and Kafka's per-partition refusals), DescribeLogDirs (each
//! broker's own replicas, their sizes and how far a paused follower lags) and
//! DescribeTopicPartitions (paging through topics, offline replicas).

mod support;

use std::time::Duration;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::{DescribeLogDirsRequest, ElectLeadersRequest};
use support::*;

const T0: i64 = 1_800_000_000_000;
const PREFERRED: i8 = 0;
const UNCLEAN: i8 = 1;

/// ElectLeaders v2 of `partitions` of "t", sent to a running broker: (partition, error
/// code) in answer order.
/// The replica of "t"-`partition` that follows (replication factor 2).
fn other_replica(cluster: &Cluster, partition: i32) -> i32 {
    let p = cluster.partition("t", partition).unwrap();
    *p.replicas.iter().find(|r| **r != p.leader).unwrap()
}

fn elect(cluster: &Cluster, kind: i8, partitions: &[i32]) -> Vec<(i32, i16)> {
    let request = ElectLeadersRequest::default()
        .with_election_type(kind)
        .with_timeout_ms(10_000)
        .with_topic_partitions(Some(vec![
            TopicPartitions::default()
                .with_topic(name("t"))
                .with_partitions(partitions.to_vec()),
        ]));
    let up = cluster.broker_status().into_iter().find(|b| b.up).unwrap();
    let response = Conn::to_broker(cluster, up.id).send(2, &request);
    response.replica_election_results[0]
        .partition_result
        .iter()
        .map(|p| (p.partition_id, p.error_code))
        .collect()
}

#[test]
fn a_preferred_election_moves_leadership_back_to_the_first_replica() {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("t", 2)
        .default_replication_factor(3)
        .start()
        .unwrap();
    let preferred = cluster.partition("t", 0).unwrap().replicas[0];
    let other = cluster.partition("t", 0).unwrap().replicas[1];
    cluster.move_leader("t", 0, other).unwrap();
    let not_needed = ResponseError::ElectionNotNeeded.code();
    assert_eq!(
        elect(&cluster, PREFERRED, &[0, 1]),
        [(0, 0), (1, not_needed)]
    );
    assert_eq!(cluster.partition("t", 0).unwrap().leader, preferred);

    // The preferred replica down: it cannot lead.
    cluster.move_leader("t", 0, other).unwrap();
    cluster.stop_broker(preferred).unwrap();
    let unavailable = ResponseError::PreferredLeaderNotAvailable.code();
    assert_eq!(elect(&cluster, PREFERRED, &[0]), [(0, unavailable)]);
    assert_eq!(
        elect(&cluster, PREFERRED, &[9]),
        [(9, ResponseError::UnknownTopicOrPartition.code())]
    );
}

#[test]
fn an_unclean_election_gives_a_leaderless_partition_an_out_of_sync_leader() {
    // Three brokers, two replicas: the third takes the requests when both are down.
    let cluster = Cluster::builder()
        .brokers(3)
        .manual_clock(T0)
        .replica_lag_time_max(Duration::from_secs(10))
        .topic("t", 1)
        .default_replication_factor(2)
        .start()
        .unwrap();
    produce(&cluster, "t", 0, batch_with_timestamps(&[("copied", T0)]));
    let leader = cluster.partition("t", 0).unwrap().leader;
    let follower = other_replica(&cluster, 0);
    cluster.pause_replication(follower).unwrap();
    cluster.advance(Duration::from_secs(11));
    produce(
        &cluster,
        "t",
        0,
        batch_with_timestamps(&[("never copied", T0)]),
    );
    let not_needed = ResponseError::ElectionNotNeeded.code();
    assert_eq!(
        elect(&cluster, UNCLEAN, &[0]),
        [(0, not_needed)],
        "it has a leader"
    );

    // Clean elections (the default) leave the partition leaderless when its only
    // in-sync replica stops; an unclean ElectLeaders then picks the lagging follower.
    cluster.stop_broker(leader).unwrap();
    assert_eq!(cluster.partition("t", 0).unwrap().leader, -1);
    assert_eq!(elect(&cluster, UNCLEAN, &[0]), [(0, 0)]);
    let p = cluster.partition("t", 0).unwrap();
    assert_eq!((p.leader, p.isr.clone()), (follower, vec![follower]));
    let values: Vec<_> = cluster
        .records("t")
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    assert_eq!(values, ["copied"], "what the follower never copied is lost");

    cluster.stop_broker(follower).unwrap();
    assert_eq!(
        elect(&cluster, UNCLEAN, &[0]),
        [(0, ResponseError::EligibleLeadersNotAvailable.code())],
        "no replica up"
    );
}

#[test]
fn each_broker_describes_its_own_log_dir_with_replica_sizes_and_lag() {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("t", 3)
        .default_replication_factor(2)
        .start()
        .unwrap();
    let batch = batch_of(&["a", "b"]);
    let size = batch.len() as i64;
    produce(&cluster, "t", 0, batch.clone());
    let follower = other_replica(&cluster, 0);
    cluster.pause_replication(follower).unwrap();
    // acks=1: the paused follower is still in the ISR, so acks=all would wait for it.
    let response =
        Conn::to_leader(&cluster, "t", 0).send(9, &produce_request("t", 0, batch).with_acks(1));
    assert_no_error(only_partition(&response).error_code, "acks=1 produce");
    let request = DescribeLogDirsRequest::default().with_topics(Some(vec![
        DescribableLogDirTopic::default()
            .with_topic(name("t"))
            .with_partitions(vec![0, 1, 2]),
    ]));
    for broker in 1..=3 {
        let response = Conn::to_broker(&cluster, broker).send(4, &request);
        let [dir] = &response.results[..] else {
            panic!("one log dir: {response:?}");
        };
        assert_eq!(
            dir.log_dir.as_str(),
            format!("/var/lib/broker-sim/broker-{broker}")
        );
        let held: Vec<i32> = (0..3)
            .filter(|p| {
                cluster
                    .partition("t", *p)
                    .unwrap()
                    .replicas
                    .contains(&broker)
            })
            .collect();
        let listed: Vec<i32> = dir
            .topics
            .iter()
            .flat_map(|t| t.partitions.iter().map(|p| p.partition_index))
            .collect();
        assert_eq!(listed, held, "broker {broker}");
        if let Some(p0) = dir
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .find(|p| p.partition_index == 0)
        {
            let expected = if broker == follower {
                (size, 2)
            } else {
                (2 * size, 0)
            };
            assert_eq!(
                (p0.partition_size, p0.offset_lag),
                expected,
                "broker {broker}"
            );
        }
    }
}

#[test]
fn describe_topic_partitions_pages_through_topics_in_name_order() {
    use kafka_protocol::messages::DescribeTopicPartitionsRequest;
    use kafka_protocol::messages::describe_topic_partitions_request::{Cursor, TopicRequest};
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("b", 2)
        .topic("a", 3)
        .default_replication_factor(3)
        .start()
        .unwrap();
    cluster.stop_broker(2).unwrap();
    let page = |cursor: Option<(&str, i32)>| {
        let request = DescribeTopicPartitionsRequest::default()
            .with_topics(vec![
                TopicRequest::default().with_name(name("b")),
                TopicRequest::default().with_name(name("a")),
            ])
            .with_response_partition_limit(2)
            .with_cursor(cursor.map(|(t, p)| {
                Cursor::default()
                    .with_topic_name(name(t))
                    .with_partition_index(p)
            }));
        let response = Conn::to_broker(&cluster, 1).send(0, &request);
        let listed: Vec<(String, i32, Vec<i32>)> = response
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(move |p| {
                    let offline = p.offline_replicas.iter().map(|b| b.0).collect();
                    (
                        t.name.as_ref().unwrap().to_string(),
                        p.partition_index,
                        offline,
                    )
                })
            })
            .collect();
        let next = response
            .next_cursor
            .map(|c| (c.topic_name.to_string(), c.partition_index));
        (listed, next)
    };
    let a = |p| ("a".to_string(), p, vec![2]);
    let b = |p| ("b".to_string(), p, vec![2]);
    assert_eq!(page(None), (vec![a(0), a(1)], Some(("a".into(), 2))));
    assert_eq!(
        page(Some(("a", 2))),
        (vec![a(2), b(0)], Some(("b".into(), 1)))
    );
    assert_eq!(page(Some(("b", 1))), (vec![b(1)], None));
}

mod reassignments {
    use super::*;
    use kafka_protocol::messages::alter_partition_reassignments_request::{
        ReassignablePartition, ReassignableTopic,
    };
    use kafka_protocol::messages::{
        AlterPartitionReassignmentsRequest, ListPartitionReassignmentsRequest,
    };

    /// AlterPartitionReassignments v0 of "t"-0 to `target` (None: cancel): the partition's
    /// error code and message.
    fn reassign(cluster: &Cluster, target: Option<&[i32]>) -> (i16, Option<String>) {
        let request = AlterPartitionReassignmentsRequest::default()
            .with_timeout_ms(10_000)
            .with_topics(vec![
                ReassignableTopic::default()
                    .with_name(name("t"))
                    .with_partitions(vec![
                        ReassignablePartition::default()
                            .with_partition_index(0)
                            .with_replicas(target.map(|t| t.iter().map(|&b| b.into()).collect())),
                    ]),
            ]);
        let response = Conn::to_broker(cluster, 1).send(0, &request);
        let p = &response.responses[0].partitions[0];
        (
            p.error_code,
            p.error_message.as_ref().map(|m| m.to_string()),
        )
    }

    /// ListPartitionReassignments: (replicas, adding, removing) of "t"-0, if moving.
    fn ongoing(cluster: &Cluster) -> Option<(Vec<i32>, Vec<i32>, Vec<i32>)> {
        let response = Conn::to_broker(cluster, 1).send(
            0,
            &ListPartitionReassignmentsRequest::default()
                .with_timeout_ms(10_000)
                .with_topics(None),
        );
        let ids =
            |v: &[kafka_protocol::messages::BrokerId]| v.iter().map(|b| b.0).collect::<Vec<_>>();
        response.topics.first().map(|t| {
            let p = &t.partitions[0];
            (
                ids(&p.replicas),
                ids(&p.adding_replicas),
                ids(&p.removing_replicas),
            )
        })
    }

    fn cluster() -> Cluster {
        let cluster = Cluster::builder().brokers(3).start().unwrap();
        cluster
            .create_topic_with(broker_sim::TopicSpec {
                assignments: Some(vec![vec![1]]),
                ..broker_sim::TopicSpec::new("t", -1)
            })
            .unwrap();
        produce(&cluster, "t", 0, batch_of(&["a", "b"]));
        cluster
    }

    #[test]
    fn a_partition_moves_to_its_target_replicas_and_keeps_its_records() {
        let cluster = cluster();
        assert_eq!(reassign(&cluster, Some(&[2, 3])), (0, None));
        let p = cluster.partition("t", 0).unwrap();
        assert_eq!(
            (p.replicas.clone(), p.isr.clone(), p.leader),
            (vec![2, 3], vec![2, 3], 2)
        );
        assert_eq!(ongoing(&cluster), None, "copied at once, so already done");
        let values: Vec<_> = cluster
            .records("t")
            .iter()
            .map(|r| r.value_str().unwrap().to_string())
            .collect();
        assert_eq!(values, ["a", "b"]);
        assert_no_error(
            try_produce(&cluster, "t", 0, batch_of(&["c"])).error_code,
            "the new leader",
        );
    }

    #[test]
    fn a_move_waits_for_a_paused_replica_and_can_be_cancelled() {
        let cluster = cluster();
        cluster.pause_replication(2).unwrap();
        assert_eq!(reassign(&cluster, Some(&[2])), (0, None));
        assert_eq!(ongoing(&cluster), Some((vec![2, 1], vec![2], vec![1])));
        assert_eq!(
            cluster.partition("t", 0).unwrap().leader,
            1,
            "the old leader until it completes"
        );
        assert_eq!(reassign(&cluster, None), (0, None));
        assert_eq!(ongoing(&cluster), None);
        assert_eq!(cluster.partition("t", 0).unwrap().replicas, vec![1]);

        assert_eq!(reassign(&cluster, Some(&[2])), (0, None));
        cluster.resume_replication(2).unwrap();
        assert_eq!(
            ongoing(&cluster),
            None,
            "done once the new replica caught up"
        );
        let p = cluster.partition("t", 0).unwrap();
        assert_eq!((p.replicas.clone(), p.leader), (vec![2], 2));
    }

    #[test]
    fn bad_targets_and_cancelling_nothing_are_refused_as_kafka_refuses_them() {
        let cluster = cluster();
        let invalid = ResponseError::InvalidReplicaAssignment.code();
        assert_eq!(reassign(&cluster, Some(&[])).0, invalid);
        assert_eq!(reassign(&cluster, Some(&[2, 2])).0, invalid);
        let (code, message) = reassign(&cluster, Some(&[7]));
        assert_eq!(code, invalid);
        assert!(message.unwrap().contains("broker 7"));
        assert_eq!(
            reassign(&cluster, None).0,
            ResponseError::NoReassignmentInProgress.code()
        );
        assert_eq!(
            cluster.partition("t", 0).unwrap().replicas,
            vec![1],
            "nothing moved"
        );
    }
}
