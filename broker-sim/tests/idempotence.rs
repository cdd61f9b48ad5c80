//! Idempotent producers over the wire: sequence numbers and epochs on Produce.
//!
//! Kafka's partition leader keeps, per producer id, the epoch and the last five batches
//! appended. A retry of one of those batches is acknowledged with its original offsets and
//! not written again; a gap in the sequence is OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch
//! INVALID_PRODUCER_EPOCH, and a new epoch must start at sequence 0. Refused batches write
//! nothing. The batches here are built with the producer fields set, as an idempotent
//! client sends them.

mod support;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::InitProducerIdRequest;
use support::*;

fn cluster() -> Cluster {
    Cluster::builder().brokers(3).topic("t", 1).start().unwrap()
}

/// Produces an idempotent batch of `values` to t-0 and returns the partition's answer.
fn send(
    cluster: &Cluster,
    values: &[&str],
    producer: (i64, i16),
    seq: i32,
) -> kafka_protocol::messages::produce_response::PartitionProduceResponse {
    try_produce(
        cluster,
        "t",
        0,
        idempotent_batch(values, producer.0, producer.1, seq),
    )
}

/// Produces and expects success; returns the base offset.
#[track_caller]
fn accepted(cluster: &Cluster, values: &[&str], producer: (i64, i16), seq: i32) -> i64 {
    let p = send(cluster, values, producer, seq);
    assert_no_error(p.error_code, &format!("{values:?} at sequence {seq}"));
    p.base_offset
}

/// The values stored in t-0, in offset order.
fn stored(cluster: &Cluster) -> Vec<String> {
    cluster
        .partition_records("t", 0)
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect()
}

#[test]
fn retried_batch_gets_its_original_offset_and_is_stored_once() {
    let cluster = cluster();
    let producer = init_idempotent_producer(&cluster);
    assert_eq!(accepted(&cluster, &["a1", "a2"], producer, 0), 0);
    assert_eq!(accepted(&cluster, &["b"], producer, 2), 2);
    // The answers to both were "lost": the producer sends them again.
    let retry = send(&cluster, &["a1", "a2"], producer, 0);
    assert_no_error(retry.error_code, "retry of the first batch");
    assert_eq!(retry.base_offset, 0);
    // Kafka answers a duplicate with the original batch's max timestamp as its log append
    // time, even on a CreateTime topic (a first append answers -1 there).
    assert_eq!(retry.log_append_time_ms, BASE_TIMESTAMP + 1);
    assert_eq!(accepted(&cluster, &["b"], producer, 2), 2);
    assert_eq!(stored(&cluster), ["a1", "a2", "b"]);
    // The producer carries on after the last batch.
    assert_eq!(accepted(&cluster, &["c"], producer, 3), 3);
}

#[test]
fn retry_on_a_log_append_time_topic_gets_the_original_append_time() {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic_with_configs("t", 1, &[("message.timestamp.type", "LogAppendTime")])
        .start()
        .unwrap();
    let producer = init_idempotent_producer(&cluster);
    let first = send(&cluster, &["a"], producer, 0);
    assert_no_error(first.error_code, "first");
    assert!(first.log_append_time_ms > 0, "{first:?}");
    let retry = send(&cluster, &["a"], producer, 0);
    assert_no_error(retry.error_code, "retry");
    assert_eq!(
        (retry.base_offset, retry.log_append_time_ms),
        (0, first.log_append_time_ms)
    );
    assert_eq!(stored(&cluster), ["a"]);
}

#[test]
fn sequence_gap_is_out_of_order_and_writes_nothing() {
    let cluster = cluster();
    let producer = init_idempotent_producer(&cluster);
    accepted(&cluster, &["a"], producer, 0);
    let gap = send(&cluster, &["c"], producer, 2);
    assert_error(
        gap.error_code,
        ResponseError::OutOfOrderSequenceNumber,
        "sequence 2 after 0",
    );
    assert_eq!(gap.base_offset, -1);
    assert_eq!(stored(&cluster), ["a"]);
    // The missing batch fills the gap, and then the refused one fits.
    assert_eq!(accepted(&cluster, &["b"], producer, 1), 1);
    assert_eq!(accepted(&cluster, &["c"], producer, 2), 2);
}

#[test]
fn older_epoch_is_invalid_producer_epoch() {
    let cluster = cluster();
    let (id, _) = init_idempotent_producer(&cluster);
    accepted(&cluster, &["new"], (id, 1), 0);
    let zombie = send(&cluster, &["zombie"], (id, 0), 1);
    assert_error(
        zombie.error_code,
        ResponseError::InvalidProducerEpoch,
        "epoch 0 after epoch 1",
    );
    assert_eq!(stored(&cluster), ["new"]);
}

#[test]
fn bumped_epoch_must_restart_at_sequence_zero() {
    let cluster = cluster();
    let (id, epoch) = init_idempotent_producer(&cluster);
    accepted(&cluster, &["a", "b"], (id, epoch), 0);
    // A producer bumps its own epoch to reset its sequences (KIP-360).
    let bumped = (id, epoch + 1);
    let continued = send(&cluster, &["c"], bumped, 2);
    assert_error(
        continued.error_code,
        ResponseError::OutOfOrderSequenceNumber,
        "new epoch continuing at sequence 2",
    );
    assert_eq!(accepted(&cluster, &["c"], bumped, 0), 2);
    assert_eq!(accepted(&cluster, &["d"], bumped, 1), 3);
    // The old epoch's batches are no longer duplicates: their retry is fenced.
    let old_retry = send(&cluster, &["a", "b"], (id, epoch), 0);
    assert_error(
        old_retry.error_code,
        ResponseError::InvalidProducerEpoch,
        "retry from the old epoch",
    );
    assert_eq!(stored(&cluster), ["a", "b", "c", "d"]);
}

#[test]
fn retry_older_than_the_last_five_batches_is_out_of_order() {
    let cluster = cluster();
    let producer = init_idempotent_producer(&cluster);
    for seq in 0..6 {
        assert_eq!(
            accepted(&cluster, &[&format!("v{seq}")], producer, seq),
            seq as i64
        );
    }
    let too_old = send(&cluster, &["v0"], producer, 0);
    assert_error(
        too_old.error_code,
        ResponseError::OutOfOrderSequenceNumber,
        "retry of the sixth-last batch",
    );
    // The fifth-last is still known.
    assert_eq!(accepted(&cluster, &["v1"], producer, 1), 1);
    assert_eq!(stored(&cluster).len(), 6);
}

#[test]
fn interleaved_producers_keep_independent_sequences() {
    let cluster = cluster();
    let a = init_idempotent_producer(&cluster);
    let b = init_idempotent_producer(&cluster);
    assert_ne!(a.0, b.0);
    assert_eq!(accepted(&cluster, &["a0"], a, 0), 0);
    assert_eq!(accepted(&cluster, &["b0"], b, 0), 1);
    assert_eq!(accepted(&cluster, &["a1"], a, 1), 2);
    assert_eq!(accepted(&cluster, &["b1", "b2"], b, 1), 3);
    // Each retry resolves against its own producer's batches.
    assert_eq!(accepted(&cluster, &["a1"], a, 1), 2);
    assert_eq!(accepted(&cluster, &["b1", "b2"], b, 1), 3);
    let gap = send(&cluster, &["a3"], a, 3);
    assert_error(
        gap.error_code,
        ResponseError::OutOfOrderSequenceNumber,
        "producer a skips a sequence producer b used",
    );
    assert_eq!(accepted(&cluster, &["a2"], a, 2), 5);
    assert_eq!(stored(&cluster), ["a0", "b0", "a1", "b1", "b2", "a2"]);
}

#[test]
fn sequence_wraps_from_i32_max_to_zero() {
    let cluster = cluster();
    let producer = init_idempotent_producer(&cluster);
    // A producer this partition has no state for is accepted at any sequence, as Kafka
    // does (its state may have been removed). This batch holds i32::MAX - 1, i32::MAX, 0.
    assert_eq!(
        accepted(&cluster, &["x", "y", "z"], producer, i32::MAX - 1),
        0
    );
    assert_eq!(accepted(&cluster, &["next"], producer, 1), 3);
    assert_eq!(
        accepted(&cluster, &["x", "y", "z"], producer, i32::MAX - 1),
        0,
        "retry of the batch that wrapped"
    );
    assert_eq!(stored(&cluster), ["x", "y", "z", "next"]);
}

#[test]
fn sequence_zero_follows_i32_max() {
    let cluster = cluster();
    let producer = init_idempotent_producer(&cluster);
    accepted(&cluster, &["last"], producer, i32::MAX);
    let past = send(&cluster, &["one"], producer, 1);
    assert_error(
        past.error_code,
        ResponseError::OutOfOrderSequenceNumber,
        "sequence 1 after i32::MAX",
    );
    assert_eq!(accepted(&cluster, &["zero"], producer, 0), 1);
}

#[test]
fn negative_sequence_from_an_idempotent_producer_is_invalid_record() {
    let cluster = cluster();
    let producer = init_idempotent_producer(&cluster);
    let p = send(&cluster, &["a"], producer, -1);
    assert_error(p.error_code, ResponseError::InvalidRecord, "sequence -1");
    assert!(stored(&cluster).is_empty());
}

#[test]
fn batches_without_a_producer_id_are_never_deduplicated() {
    let cluster = cluster();
    let batch = batch_of(&["same"]);
    assert_eq!(produce(&cluster, "t", 0, batch.clone()), 0);
    assert_eq!(produce(&cluster, "t", 0, batch), 1);
    assert_eq!(stored(&cluster), ["same", "same"]);
}

#[test]
fn init_producer_id_with_id_and_epoch_but_no_transactional_id_gets_a_fresh_id() {
    let cluster = cluster();
    let (id, epoch) = init_idempotent_producer(&cluster);
    accepted(&cluster, &["a"], (id, epoch), 0);
    for version in 3..=5 {
        let request = InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(-1)
            .with_producer_id(id.into())
            .with_producer_epoch(epoch);
        let r = Conn::to_broker(&cluster, 2).send(version, &request);
        assert_no_error(r.error_code, &format!("v{version}"));
        assert_ne!(r.producer_id.0, id, "v{version}: a new producer id");
        assert_eq!(r.producer_epoch, 0, "v{version}");
    }
}

#[test]
fn init_producer_id_with_only_one_of_id_and_epoch_is_invalid_request() {
    let cluster = cluster();
    for (id, epoch) in [(5, -1), (-1, 0)] {
        let request = InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(60_000)
            .with_producer_id(id.into())
            .with_producer_epoch(epoch);
        let r = Conn::to_broker(&cluster, 1).send(4, &request);
        assert_error(
            r.error_code,
            ResponseError::InvalidRequest,
            &format!("producer id {id}, epoch {epoch}"),
        );
        assert_eq!((r.producer_id.0, r.producer_epoch), (-1, -1));
    }
}

#[test]
fn batch_lost_to_a_leader_change_is_appended_again_when_retried() {
    // A frozen clock keeps the paused follower in the ISR, so it can be elected.
    let cluster = Cluster::builder()
        .brokers(2)
        .topic("t", 1)
        .manual_clock(BASE_TIMESTAMP)
        .start()
        .unwrap();
    let producer = init_idempotent_producer(&cluster);
    accepted(&cluster, &["a"], producer, 0);
    let follower = follower(&cluster, "t", 0);
    cluster.pause_replication(follower).unwrap();
    // acks=1: only the leader holds "b" when leadership moves.
    let request =
        produce_request("t", 0, idempotent_batch(&["b"], producer.0, producer.1, 1)).with_acks(1);
    let response = Conn::to_leader(&cluster, "t", 0).send(12, &request);
    assert_no_error(only_partition(&response).error_code, "acks=1 write of b");
    cluster.move_leader("t", 0, follower).unwrap();
    assert_eq!(stored(&cluster), ["a"], "the new leader never copied b");
    // The producer's retry of "b" is not taken for a duplicate of the lost batch.
    assert_eq!(accepted(&cluster, &["b"], producer, 1), 1);
    assert_eq!(stored(&cluster), ["a", "b"]);
}
