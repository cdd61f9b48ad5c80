//! ListOffsets and DeleteRecords over the wire.
//!
//! Kafka's lookups: -2 earliest (the log start offset), -1 latest (the high watermark),
//! -3 the record with the largest timestamp (v7+), and any other timestamp the first record,
//! in offset order of the first batch whose max timestamp reaches it, with a timestamp at
//! or after it (offset -1 when there is none). DeleteRecords moves the log start offset,
//! so "earliest" and timestamp lookups move with it. Only the leader answers.

mod support;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::DeleteRecordsRequest;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::list_offsets_response::ListOffsetsPartitionResponse;
use support::*;

const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

fn list_offsets_via(
    conn: &mut Conn,
    version: i16,
    topic: &str,
    timestamp: i64,
) -> ListOffsetsPartitionResponse {
    let response = conn.send(version, &list_offsets_request(topic, 0, timestamp));
    assert_eq!(response.topics.len(), 1);
    assert_eq!(response.topics[0].partitions.len(), 1);
    response.topics[0].partitions[0].clone()
}

/// (offset, timestamp) for `timestamp` in partition 0 of "t", asked of its leader.
fn lookup(cluster: &Cluster, version: i16, timestamp: i64) -> (i64, i64) {
    let mut conn = Conn::to_leader(cluster, "t", 0);
    let p = list_offsets_via(&mut conn, version, "t", timestamp);
    assert_no_error(p.error_code, &format!("v{version} timestamp {timestamp}"));
    (p.offset, p.timestamp)
}

/// "t"-0 holds a (1000) b (1001) | c (3000) | d (2000): three batches, offsets 0–3.
fn cluster_with_timestamps() -> Cluster {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    produce(
        &cluster,
        "t",
        0,
        batch_with_timestamps(&[("a", 1000), ("b", 1001)]),
    );
    produce(&cluster, "t", 0, batch_with_timestamps(&[("c", 3000)]));
    produce(&cluster, "t", 0, batch_with_timestamps(&[("d", 2000)]));
    cluster
}

fn delete_records_request(topic: &str, offset: i64) -> DeleteRecordsRequest {
    DeleteRecordsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            DeleteRecordsTopic::default()
                .with_name(name(topic))
                .with_partitions(vec![
                    DeleteRecordsPartition::default()
                        .with_partition_index(0)
                        .with_offset(offset),
                ]),
        ])
}

#[test]
fn earliest_and_latest_are_the_log_start_and_the_high_watermark() {
    let cluster = cluster_with_timestamps();
    for version in 1..=10 {
        assert_eq!(lookup(&cluster, version, EARLIEST), (0, -1), "v{version}");
        assert_eq!(lookup(&cluster, version, LATEST), (4, -1), "v{version}");
    }
}

#[test]
fn max_timestamp_finds_the_record_with_the_largest_timestamp() {
    let cluster = cluster_with_timestamps();
    for version in 7..=10 {
        assert_eq!(
            lookup(&cluster, version, MAX_TIMESTAMP),
            (2, 3000),
            "v{version}"
        );
    }
}

#[test]
fn timestamp_lookup_finds_the_first_record_at_or_after_it() {
    let cluster = cluster_with_timestamps();
    for version in [1, 4, 10] {
        assert_eq!(lookup(&cluster, version, 0), (0, 1000), "v{version}");
        assert_eq!(lookup(&cluster, version, 1001), (1, 1001), "v{version}");
        // d (2000) sits after c (3000): the first batch reaching 1500 is c's.
        assert_eq!(lookup(&cluster, version, 1500), (2, 3000), "v{version}");
        assert_eq!(lookup(&cluster, version, 3001), (-1, -1), "v{version}");
    }
}

#[test]
fn delete_records_moves_the_earliest_offset() {
    let cluster = cluster_with_timestamps();
    let response = Conn::to_leader(&cluster, "t", 0).send(2, &delete_records_request("t", 3));
    let p = &response.topics[0].partitions[0];
    assert_no_error(p.error_code, "delete records before 3");
    assert_eq!(p.low_watermark, 3);
    assert_eq!(lookup(&cluster, 10, EARLIEST), (3, -1));
    assert_eq!(lookup(&cluster, 10, LATEST), (4, -1));
    assert_eq!(
        lookup(&cluster, 10, 0),
        (3, 2000),
        "lookups start at the log start"
    );
    let left: Vec<i64> = cluster.records("t").iter().map(|r| r.offset).collect();
    assert_eq!(left, vec![3]);
}

#[test]
fn delete_records_beyond_the_high_watermark_is_offset_out_of_range() {
    let cluster = cluster_with_timestamps();
    let response = Conn::to_leader(&cluster, "t", 0).send(2, &delete_records_request("t", 5));
    assert_error(
        response.topics[0].partitions[0].error_code,
        ResponseError::OffsetOutOfRange,
        "delete records before 5 with high watermark 4",
    );
    assert_eq!(lookup(&cluster, 10, EARLIEST), (0, -1));
}

#[test]
fn list_offsets_from_a_follower_is_not_leader_or_follower() {
    let cluster = cluster_with_timestamps();
    let mut conn = Conn::to_broker(&cluster, follower(&cluster, "t", 0));
    let p = list_offsets_via(&mut conn, 10, "t", LATEST);
    assert_error(p.error_code, ResponseError::NotLeaderOrFollower, "follower");
}

#[test]
fn list_offsets_of_an_unknown_topic_is_unknown_topic_or_partition() {
    let cluster = cluster_with_timestamps();
    let mut conn = Conn::to_broker(&cluster, 1);
    let p = list_offsets_via(&mut conn, 10, "no-such-topic", LATEST);
    assert_error(
        p.error_code,
        ResponseError::UnknownTopicOrPartition,
        "unknown",
    );
}
