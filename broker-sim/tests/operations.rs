//! The operations APIs over the wire: ElectLeaders (preferred and unclean elections that
//! really move leaders, and Kafka's per-partition refusals) and DescribeLogDirs (each
//! broker's own replicas, their sizes and how far a paused follower lags).

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
