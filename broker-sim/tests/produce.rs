//! Produce over the wire: what is stored, and each error Kafka 4.1 answers with.
//!
//! Kafka's order of checks for a partition: the topic and partition exist
//! (UNKNOWN_TOPIC_OR_PARTITION, UNKNOWN_TOPIC_ID by id), the record set is one magic-2
//! batch (INVALID_RECORD), zstd only from v7 (UNSUPPORTED_COMPRESSION_TYPE), acks is -1, 0
//! or 1 (INVALID_REQUIRED_ACKS), this broker leads the partition (NOT_LEADER_OR_FOLLOWER,
//! with the leader from v10), and only then the batch itself: base offset 0
//! (INVALID_RECORD), its size against `max.message.bytes` (MESSAGE_TOO_LARGE) and its CRC
//! (CORRUPT_MESSAGE). With acks=0 nothing is answered, and a failure closes the connection
//! so the client notices.

mod support;

use broker_sim::Cluster;
use broker_sim_protocol::batch;
use bytes::{Bytes, BytesMut};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{MetadataRequest, ProduceRequest};
use support::*;

fn cluster() -> Cluster {
    Cluster::builder()
        .brokers(3)
        .topic("t", 3)
        .topic_with_configs("small", 1, &[("max.message.bytes", "200")])
        .start()
        .unwrap()
}

/// Produces `records` to `topic`-`partition` through `broker` in `version` and returns
/// the partition's answer.
fn produce_via(
    cluster: &Cluster,
    broker: i32,
    version: i16,
    request: &ProduceRequest,
) -> kafka_protocol::messages::ProduceResponse {
    Conn::to_broker(cluster, broker).send(version, request)
}

fn corrupted(batch: &Bytes) -> Bytes {
    let mut bytes = BytesMut::from(&batch[..]);
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff; // inside the last record's value: covered by the CRC
    bytes.freeze()
}

#[test]
fn produced_batch_is_stored_with_consecutive_offsets() {
    let cluster = cluster();
    let leader = leader(&cluster, "t", 1);
    let first = produce_via(
        &cluster,
        leader,
        12,
        &produce_request("t", 1, batch_of(&["a", "b"])),
    );
    let p = only_partition(&first);
    assert_no_error(p.error_code, "first produce");
    assert_eq!(p.base_offset, 0);
    assert_eq!(p.log_start_offset, 0);
    assert_eq!(
        p.log_append_time_ms, -1,
        "CreateTime topics report no append time"
    );
    let second = produce_via(
        &cluster,
        leader,
        3,
        &produce_request("t", 1, batch_of(&["c"])),
    );
    assert_eq!(only_partition(&second).base_offset, 2);
    let stored: Vec<(i64, String)> = cluster
        .partition_records("t", 1)
        .iter()
        .map(|r| (r.offset, r.value_str().unwrap().to_string()))
        .collect();
    assert_eq!(
        stored,
        vec![(0, "a".into()), (1, "b".into()), (2, "c".into())]
    );
}

#[test]
fn produce_v13_names_the_topic_by_id() {
    let cluster = cluster();
    let id = topic_id(&cluster, "t");
    let response = produce_via(
        &cluster,
        leader(&cluster, "t", 0),
        13,
        &produce_request_by_id(id, 0, batch_of(&["by-id"])),
    );
    assert_eq!(response.responses[0].topic_id, id);
    assert_no_error(only_partition(&response).error_code, "produce by id");
    assert_eq!(
        cluster.partition_records("t", 0)[0].value_str(),
        Some("by-id")
    );

    let unknown = produce_via(
        &cluster,
        1,
        13,
        &produce_request_by_id(uuid::Uuid::from_u128(42), 0, batch_of(&["x"])),
    );
    assert_error(
        only_partition(&unknown).error_code,
        ResponseError::UnknownTopicId,
        "produce to an unknown topic id",
    );
}

#[test]
fn batch_with_a_bad_crc_is_corrupt_message() {
    let cluster = cluster();
    let request = produce_request("t", 0, corrupted(&batch_of(&["a"])));
    let response = produce_via(&cluster, leader(&cluster, "t", 0), 12, &request);
    assert_error(
        only_partition(&response).error_code,
        ResponseError::CorruptMessage,
        "bad CRC",
    );
    assert!(cluster.records("t").is_empty());
}

#[test]
fn batch_over_the_topics_max_message_bytes_is_message_too_large() {
    let cluster = cluster();
    let big = "x".repeat(300);
    let request = produce_request("small", 0, batch_of(&[&big]));
    let response = produce_via(&cluster, leader(&cluster, "small", 0), 12, &request);
    assert_error(
        only_partition(&response).error_code,
        ResponseError::MessageTooLarge,
        "batch over max.message.bytes=200",
    );
    // A batch under the limit is accepted.
    let request = produce_request("small", 0, batch_of(&["fits"]));
    let response = produce_via(&cluster, leader(&cluster, "small", 0), 12, &request);
    assert_no_error(
        only_partition(&response).error_code,
        "batch under the limit",
    );
}

#[test]
fn two_batches_for_one_partition_are_invalid_record() {
    let cluster = cluster();
    let mut two = BytesMut::from(&batch_of(&["a"])[..]);
    two.extend_from_slice(&batch_of(&["b"]));
    let request = produce_request("t", 0, two.freeze());
    let response = produce_via(&cluster, leader(&cluster, "t", 0), 12, &request);
    assert_error(
        only_partition(&response).error_code,
        ResponseError::InvalidRecord,
        "two batches",
    );
    assert!(cluster.records("t").is_empty());
}

#[test]
fn produce_to_a_follower_is_not_leader_or_follower_with_the_current_leader() {
    let cluster = cluster();
    let leader_id = leader(&cluster, "t", 2);
    let follower = follower(&cluster, "t", 2);
    let epoch = cluster.partitions("t").unwrap()[2].leader_epoch;
    for version in [9, 10, 12] {
        let response = produce_via(
            &cluster,
            follower,
            version,
            &produce_request("t", 2, batch_of(&["a"])),
        );
        let p = only_partition(&response);
        assert_error(
            p.error_code,
            ResponseError::NotLeaderOrFollower,
            &format!("v{version}"),
        );
        if version >= 10 {
            // KIP-951: the new leader, and how to reach it, without a metadata round trip.
            assert_eq!(p.current_leader.leader_id.0, leader_id, "v{version}");
            assert_eq!(p.current_leader.leader_epoch, epoch, "v{version}");
            let endpoint = response
                .node_endpoints
                .iter()
                .find(|e| e.node_id.0 == leader_id)
                .unwrap_or_else(|| panic!("v{version}: no endpoint for leader {leader_id}"));
            assert_eq!(
                endpoint.port,
                broker_addr(&cluster, leader_id).port() as i32
            );
        }
    }
    assert!(cluster.records("t").is_empty());
}

#[test]
fn leadership_is_checked_before_the_batch_size_and_crc() {
    let cluster = cluster();
    let follower = follower(&cluster, "small", 0);
    let big = "x".repeat(300);
    let too_large = produce_via(
        &cluster,
        follower,
        12,
        &produce_request("small", 0, batch_of(&[&big])),
    );
    assert_error(
        only_partition(&too_large).error_code,
        ResponseError::NotLeaderOrFollower,
        "oversized batch sent to a follower",
    );
    let corrupt = produce_via(
        &cluster,
        follower,
        12,
        &produce_request("small", 0, corrupted(&batch_of(&["a"]))),
    );
    assert_error(
        only_partition(&corrupt).error_code,
        ResponseError::NotLeaderOrFollower,
        "corrupt batch sent to a follower",
    );
}

#[test]
fn produce_to_an_unknown_topic_or_partition_is_unknown_topic_or_partition() {
    let cluster = cluster();
    for (topic, partition) in [("no-such-topic", 0), ("t", 3), ("t", -1)] {
        let response = produce_via(
            &cluster,
            1,
            12,
            &produce_request(topic, partition, batch_of(&["a"])),
        );
        assert_error(
            only_partition(&response).error_code,
            ResponseError::UnknownTopicOrPartition,
            &format!("{topic}-{partition}"),
        );
    }
    assert!(
        !cluster.topics().contains(&"no-such-topic".to_string()),
        "produce does not auto-create topics"
    );
}

#[test]
fn acks_other_than_minus_one_zero_or_one_is_invalid_required_acks() {
    let cluster = cluster();
    for acks in [5, 2, -2] {
        let request = produce_request("t", 0, batch_of(&["a"])).with_acks(acks);
        let response = produce_via(&cluster, leader(&cluster, "t", 0), 12, &request);
        assert_error(
            only_partition(&response).error_code,
            ResponseError::InvalidRequiredAcks,
            &format!("acks={acks}"),
        );
    }
    assert!(cluster.records("t").is_empty());
}

#[test]
fn failed_produce_reports_base_offset_minus_one() {
    let cluster = cluster();
    let request = produce_request("t", 0, corrupted(&batch_of(&["a"])));
    let response = produce_via(&cluster, leader(&cluster, "t", 0), 12, &request);
    let p = only_partition(&response);
    assert_error(p.error_code, ResponseError::CorruptMessage, "bad CRC");
    assert_eq!(p.base_offset, -1);
    assert_eq!(p.log_start_offset, -1);
}

#[test]
fn acks_zero_success_is_not_answered() {
    let cluster = cluster();
    let mut conn = Conn::to_leader(&cluster, "t", 0);
    conn.write(
        12,
        &produce_request("t", 0, batch_of(&["quiet"])).with_acks(0),
    );
    // The next frame on the connection answers the next request, not the produce.
    let correlation_id = conn.write(12, &metadata_request(&["t"]));
    let metadata = conn
        .read::<MetadataRequest>(12, correlation_id)
        .expect("the metadata answer comes first");
    assert_no_error(metadata.topics[0].error_code, "metadata after acks=0");
    assert_eq!(
        cluster.partition_records("t", 0)[0].value_str(),
        Some("quiet")
    );
}

#[test]
fn acks_zero_failure_closes_the_connection() {
    let cluster = cluster();
    let mut conn = Conn::to_broker(&cluster, follower(&cluster, "t", 0));
    conn.write(
        12,
        &produce_request("t", 0, batch_of(&["lost"])).with_acks(0),
    );
    conn.assert_closed("acks=0 produce to a follower");

    let mut conn = Conn::to_leader(&cluster, "t", 0);
    conn.write(
        12,
        &produce_request("t", 0, corrupted(&batch_of(&["bad"]))).with_acks(0),
    );
    conn.assert_closed("acks=0 produce of a corrupt batch");
    assert!(cluster.records("t").is_empty());
}

#[test]
fn batch_with_a_nonzero_base_offset_is_invalid_record() {
    let cluster = cluster();
    let mut bytes = BytesMut::from(&batch_of(&["a"])[..]);
    batch::set_base_offset(&mut bytes, 5); // outside the CRC: the batch stays intact
    let request = produce_request("t", 0, bytes.freeze());
    let response = produce_via(&cluster, leader(&cluster, "t", 0), 12, &request);
    assert_error(
        only_partition(&response).error_code,
        ResponseError::InvalidRecord,
        "base offset 5",
    );
}

#[test]
fn zstd_batch_before_produce_v7_is_unsupported_compression_type() {
    let cluster = cluster();
    let zstd = batch::encode_batch(&[record("z", BASE_TIMESTAMP)], batch::Codec::Zstd).unwrap();
    let leader_id = leader(&cluster, "t", 0);
    let old = produce_via(
        &cluster,
        leader_id,
        6,
        &produce_request("t", 0, zstd.clone()),
    );
    assert_error(
        only_partition(&old).error_code,
        ResponseError::UnsupportedCompressionType,
        "zstd in v6",
    );
    let new = produce_via(&cluster, leader_id, 7, &produce_request("t", 0, zstd));
    assert_no_error(only_partition(&new).error_code, "zstd in v7");
}

/// Rewrites a batch's CRC after the test has tampered with the bytes it covers, so the
/// broker gets past the CRC check to the record-level checks behind it.
fn with_fresh_crc(mut bytes: BytesMut) -> Bytes {
    let crc = crc32c::crc32c(&bytes[21..]);
    bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    bytes.freeze()
}

#[test]
fn batch_whose_records_cannot_be_decoded_is_invalid_record() {
    let cluster = cluster();
    let mut bytes = BytesMut::from(&batch_of(&["a"])[..]);
    bytes[61] = 0x7f; // the first record's length varint now overruns the batch
    let request = produce_request("t", 0, with_fresh_crc(bytes));
    let response = produce_via(&cluster, leader(&cluster, "t", 0), 12, &request);
    assert_error(
        only_partition(&response).error_code,
        ResponseError::InvalidRecord,
        "undecodable record",
    );
    assert!(cluster.records("t").is_empty());
}

#[test]
fn batch_with_an_old_magic_is_invalid_record() {
    let cluster = cluster();
    let mut bytes = BytesMut::from(&batch_of(&["a"])[..]);
    bytes[16] = 1;
    let request = produce_request("t", 0, bytes.freeze());
    let response = produce_via(&cluster, leader(&cluster, "t", 0), 12, &request);
    assert_error(
        only_partition(&response).error_code,
        ResponseError::InvalidRecord,
        "magic 1",
    );
}

#[test]
fn keyless_record_on_a_compacted_topic_is_invalid_record() {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic_with_configs("compacted", 1, &[("cleanup.policy", "compact")])
        .start()
        .unwrap();
    let request = produce_request("compacted", 0, batch_of(&["no key"]));
    let response = produce_via(&cluster, 1, 12, &request);
    assert_error(
        only_partition(&response).error_code,
        ResponseError::InvalidRecord,
        "null key on a compacted topic",
    );
    assert!(cluster.records("compacted").is_empty());
}

#[test]
fn broker_message_max_bytes_is_the_default_topic_limit() {
    let cluster = Cluster::builder()
        .brokers(1)
        .message_max_bytes(300)
        .topic("t", 1)
        .topic_with_configs("roomy", 1, &[("max.message.bytes", "5000")])
        .start()
        .unwrap();
    let big = "x".repeat(400);
    let response = produce_via(&cluster, 1, 12, &produce_request("t", 0, batch_of(&[&big])));
    assert_error(
        only_partition(&response).error_code,
        ResponseError::MessageTooLarge,
        "over the broker's message.max.bytes",
    );
    let response = produce_via(
        &cluster,
        1,
        12,
        &produce_request("roomy", 0, batch_of(&[&big])),
    );
    assert_no_error(
        only_partition(&response).error_code,
        "the topic's own limit wins",
    );
}

#[test]
fn timestamps_outside_kafkas_bounds_are_refused_record_by_record() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    // -1 is "no timestamp" and passes; i64::MIN is below now − before.max.ms (which
    // wraps as Java's longs do) and i64::MAX above now + after.max.ms.
    let records = batch_with_timestamps(&[("none", -1), ("min", i64::MIN), ("max", i64::MAX)]);
    let response = Conn::to_broker(&cluster, 1).send(9, &produce_request("t", 0, records));
    let p = &response.responses[0].partition_responses[0];
    assert_eq!(p.error_code, ResponseError::InvalidTimestamp.code());
    assert_eq!(
        p.error_message.as_deref(),
        Some("One or more records have been rejected due to invalid timestamp")
    );
    let refused: Vec<i32> = p.record_errors.iter().map(|e| e.batch_index).collect();
    assert_eq!(refused, [1, 2]);
    assert!(
        p.record_errors[0]
            .batch_index_error_message
            .as_deref()
            .unwrap()
            .starts_with(
                "Timestamp -9223372036854775808 of message with offset 1 is out of range."
            )
    );
    let fine = batch_with_timestamps(&[("none", -1), ("early", -5)]);
    let response = Conn::to_broker(&cluster, 1).send(9, &produce_request("t", 0, fine));
    assert_eq!(response.responses[0].partition_responses[0].error_code, 0);
}

#[test]
fn transactional_records_without_a_transactional_id_are_refused_whole() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let records = batch::encode_transactional_batch(
        &[broker_sim::NewRecord {
            timestamp: 1_000,
            key: None,
            value: Some(Bytes::from_static(b"x")),
            headers: Vec::new(),
        }],
        batch::Codec::None,
        4242,
        0,
        0,
    )
    .unwrap();
    let request = produce_request("t", 0, records).with_transactional_id(None);
    let response = Conn::to_broker(&cluster, 1).send(9, &request);
    assert_eq!(
        response.responses[0].partition_responses[0].error_code,
        ResponseError::TransactionalIdAuthorizationFailed.code()
    );
    assert_eq!(cluster.partitions("t").unwrap()[0].high_watermark, 0);
}
