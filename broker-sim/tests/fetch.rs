//! Fetch over the wire: long polling, size limits, positions, topic ids, and the bytes
//! handed back.
//!
//! Kafka's rules pinned here: a fetch without `min_bytes` of data waits up to
//! `max_wait_ms` and is answered as soon as data arrives; the first batch is returned
//! even when it alone exceeds `partition_max_bytes` or `max_bytes` (KIP-74), after that
//! the limits hold; a position outside [log start, high watermark] is OFFSET_OUT_OF_RANGE;
//! from v13 topics are named by id (unknown → UNKNOWN_TOPIC_ID); and the batch a consumer
//! reads is the batch the producer sent, with only the base offset and the partition
//! leader epoch (both outside the CRC) filled in by the broker.

mod support;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::FetchRequest;
use kafka_protocol::messages::fetch_response::PartitionData;
use support::*;

fn cluster() -> Cluster {
    Cluster::builder().brokers(3).topic("t", 3).start().unwrap()
}

fn only_partition(response: &kafka_protocol::messages::FetchResponse) -> &PartitionData {
    assert_no_error(response.error_code, "fetch");
    assert_eq!(response.responses.len(), 1, "{response:?}");
    assert_eq!(response.responses[0].partitions.len(), 1);
    &response.responses[0].partitions[0]
}

fn records(p: &PartitionData) -> &[u8] {
    p.records.as_deref().unwrap_or_default()
}

fn fetch(cluster: &Cluster, version: i16, request: &FetchRequest) -> PartitionData {
    let response = Conn::to_leader(cluster, "t", 0).send(version, request);
    only_partition(&response).clone()
}

#[test]
fn long_poll_is_answered_when_another_connection_produces() {
    let cluster = cluster();
    let mut consumer = Conn::to_leader(&cluster, "t", 0);
    let waiting = fetch_request("t", 0, 0)
        .with_max_wait_ms(10_000)
        .with_min_bytes(1);
    let correlation_id = consumer.write(12, &waiting);
    produce(&cluster, "t", 0, batch_of(&["wake up"]));
    // Without a wake-up the broker would answer only after max_wait_ms, with no records.
    let response = consumer
        .read::<FetchRequest>(12, correlation_id)
        .expect("the parked fetch is answered");
    let p = only_partition(&response);
    assert_no_error(p.error_code, "long poll");
    assert_eq!(values(records(p)), vec!["wake up"]);
    assert_eq!(p.high_watermark, 1);
}

#[test]
fn fetch_with_zero_max_wait_at_the_log_end_answers_empty() {
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["a"]));
    let p = fetch(&cluster, 12, &fetch_request("t", 0, 1).with_min_bytes(1));
    assert_no_error(p.error_code, "fetch at the log end");
    assert!(records(&p).is_empty());
    assert_eq!(p.high_watermark, 1);
    assert_eq!(p.log_start_offset, 0);
}

#[test]
fn fetch_outside_the_log_is_offset_out_of_range() {
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["a", "b"]));
    for offset in [3, 100, -1] {
        let p = fetch(&cluster, 12, &fetch_request("t", 0, offset));
        assert_error(
            p.error_code,
            ResponseError::OffsetOutOfRange,
            &format!("fetch offset {offset} with high watermark 2"),
        );
        assert!(records(&p).is_empty());
    }
}

#[test]
fn fetch_error_reports_high_watermark_minus_one() {
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["a"]));
    let p = fetch(&cluster, 12, &fetch_request("t", 0, 5));
    assert_error(p.error_code, ResponseError::OffsetOutOfRange, "offset 5");
    assert_eq!(p.high_watermark, -1);
    assert_eq!(p.log_start_offset, -1);
}

#[test]
fn first_batch_is_returned_even_when_larger_than_the_limits() {
    let cluster = cluster();
    let big = "x".repeat(500);
    produce(&cluster, "t", 0, batch_of(&[&big]));
    let mut request = fetch_request("t", 0, 0);
    request.topics[0].partitions[0].partition_max_bytes = 10;
    let p = fetch(&cluster, 12, &request);
    assert_eq!(
        values(records(&p)),
        vec![big.clone()],
        "partition_max_bytes 10"
    );

    let request = fetch_request("t", 0, 0).with_max_bytes(10);
    let p = fetch(&cluster, 12, &request);
    assert_eq!(values(records(&p)), vec![big], "max_bytes 10");
}

#[test]
fn limits_hold_after_the_first_batch() {
    let cluster = cluster();
    let first = batch_of(&["first"]);
    let second = batch_of(&["second"]);
    produce(&cluster, "t", 0, first.clone());
    produce(&cluster, "t", 0, second.clone());
    let room_for_one = (first.len() + second.len() - 1) as i32;

    let mut request = fetch_request("t", 0, 0);
    request.topics[0].partitions[0].partition_max_bytes = room_for_one;
    let p = fetch(&cluster, 12, &request);
    assert_eq!(
        complete_batches(records(&p)).len(),
        1,
        "partition_max_bytes"
    );
    assert_eq!(values(records(&p)), vec!["first"]);

    let p = fetch(
        &cluster,
        12,
        &fetch_request("t", 0, 0).with_max_bytes(room_for_one),
    );
    assert_eq!(complete_batches(records(&p)).len(), 1, "max_bytes");

    let p = fetch(&cluster, 12, &fetch_request("t", 0, 0));
    assert_eq!(values(records(&p)), vec!["first", "second"], "no limit");
}

#[test]
fn fetch_v13_and_later_name_the_topic_by_id() {
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["by id"]));
    let id = topic_id(&cluster, "t");
    for version in [13, 16, 18] {
        let response =
            Conn::to_leader(&cluster, "t", 0).send(version, &fetch_request_by_id(id, 0, 0));
        assert_eq!(response.responses[0].topic_id, id, "v{version}");
        let p = only_partition(&response);
        assert_no_error(p.error_code, &format!("v{version}"));
        assert_eq!(values(records(p)), vec!["by id"], "v{version}");

        let unknown = uuid::Uuid::from_u128(7);
        let response =
            Conn::to_leader(&cluster, "t", 0).send(version, &fetch_request_by_id(unknown, 0, 0));
        assert_error(
            only_partition(&response).error_code,
            ResponseError::UnknownTopicId,
            &format!("v{version} unknown topic id"),
        );
    }
}

#[test]
fn fetched_batch_is_the_produced_batch_with_offset_and_leader_epoch_filled_in() {
    let cluster = cluster();
    let first = batch_of(&["one", "two"]);
    let second = batch_of(&["three"]);
    produce(&cluster, "t", 0, first.clone());
    produce(&cluster, "t", 0, second.clone());
    let epoch = cluster.partitions("t").unwrap()[0].leader_epoch;
    let p = fetch(&cluster, 12, &fetch_request("t", 0, 0));
    let fetched = complete_batches(records(&p));
    assert_eq!(fetched.len(), 2);
    for ((sent, got), base_offset) in [&first, &second].into_iter().zip(&fetched).zip([0i64, 2]) {
        assert_eq!(got.len(), sent.len());
        assert_eq!(got[0..8], base_offset.to_be_bytes(), "base offset");
        assert_eq!(got[8..12], sent[8..12], "batch length");
        assert_eq!(got[12..16], epoch.to_be_bytes(), "partition leader epoch");
        assert_eq!(got[16..], sent[16..], "magic, CRC and everything it covers");
    }
}

/// Four brokers, three replicas of t-0: one broker has no copy of it.
fn cluster_with_a_bystander() -> (Cluster, i32) {
    let cluster = Cluster::builder().brokers(4).topic("t", 1).start().unwrap();
    let replicas = cluster.partitions("t").unwrap()[0].replicas.clone();
    let bystander = (1..=4)
        .find(|b| !replicas.contains(b))
        .expect("a broker without t-0");
    (cluster, bystander)
}

#[test]
fn fetch_from_a_broker_without_a_copy_is_not_leader_or_follower_with_the_current_leader() {
    let (cluster, bystander) = cluster_with_a_bystander();
    let leader_id = leader(&cluster, "t", 0);
    let epoch = cluster.partitions("t").unwrap()[0].leader_epoch;
    let id = topic_id(&cluster, "t");
    for version in [11, 12, 15] {
        let request = if version >= 13 {
            fetch_request_by_id(id, 0, 0)
        } else {
            fetch_request("t", 0, 0)
        };
        let response = Conn::to_broker(&cluster, bystander).send(version, &request);
        let p = only_partition(&response);
        assert_error(
            p.error_code,
            ResponseError::NotLeaderOrFollower,
            &format!("v{version}"),
        );
        if version >= 12 {
            assert_eq!(p.current_leader.leader_id.0, leader_id, "v{version}");
            assert_eq!(p.current_leader.leader_epoch, epoch, "v{version}");
        }
    }
}

#[test]
fn a_follower_serves_consumers_from_v11_only() {
    let cluster = cluster();
    let follower = cluster.partitions("t").unwrap()[0].replicas[1];
    let old = Conn::to_broker(&cluster, follower).send(10, &fetch_request("t", 0, 0));
    assert_error(
        only_partition(&old).error_code,
        ResponseError::NotLeaderOrFollower,
        "v10",
    );
    // KIP-392: a consumer fetch v11+ carries client metadata, and any replica answers it.
    let new = Conn::to_broker(&cluster, follower).send(11, &fetch_request("t", 0, 0));
    assert_no_error(only_partition(&new).error_code, "v11");
}

#[test]
fn fetch_v16_from_a_broker_without_a_copy_lists_the_leaders_endpoint() {
    let (cluster, bystander) = cluster_with_a_bystander();
    let leader_id = leader(&cluster, "t", 0);
    let request = fetch_request_by_id(topic_id(&cluster, "t"), 0, 0);
    let response = Conn::to_broker(&cluster, bystander).send(16, &request);
    assert_error(
        only_partition(&response).error_code,
        ResponseError::NotLeaderOrFollower,
        "v16",
    );
    let endpoint = response
        .node_endpoints
        .iter()
        .find(|e| e.node_id.0 == leader_id)
        .unwrap_or_else(|| panic!("no endpoint for leader {leader_id}: {response:?}"));
    assert_eq!(
        endpoint.port,
        broker_addr(&cluster, leader_id).port() as i32
    );
}

#[test]
fn long_poll_is_answered_when_its_topic_is_deleted() {
    let cluster = cluster();
    let mut consumer = Conn::to_leader(&cluster, "t", 0);
    let waiting = fetch_request("t", 0, 0)
        .with_max_wait_ms(60_000)
        .with_min_bytes(1);
    let correlation_id = consumer.write(12, &waiting);
    cluster.delete_topic("t").unwrap();
    // Without a wake-up the answer would come only after a minute.
    let response = consumer
        .read::<FetchRequest>(12, correlation_id)
        .expect("the parked fetch is answered");
    assert_error(
        only_partition(&response).error_code,
        ResponseError::UnknownTopicOrPartition,
        "deleted topic",
    );
}

#[test]
fn a_partition_named_many_times_is_read_and_answered_once() {
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["only"]));
    let mut request = fetch_request("t", 0, 0);
    let one = request.topics[0].partitions[0].clone();
    request.topics[0].partitions = std::iter::repeat_n(one, 10_000).collect();
    let again = request.topics[0].clone();
    request.topics.push(again);
    let response = Conn::to_leader(&cluster, "t", 0).send(12, &request);
    assert_eq!(response.responses.len(), 1);
    assert_eq!(response.responses[0].partitions.len(), 1);
    let records = response.responses[0].partitions[0]
        .records
        .as_ref()
        .unwrap();
    assert_eq!(values(records), ["only"]);
}
