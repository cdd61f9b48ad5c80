//! Fault rules observed from librdkafka: what a producer and a consumer do when the
//! broker refuses, loses an answer, answers late, throttles, or never answers.
//!
//! Each test checks the end result in the cluster's log (`Cluster::records`) or in what
//! the consumer read, so a fault that loses or duplicates records shows, and checks the
//! rule's hit counter, so a test cannot pass because its fault never fired.

use std::time::Duration;

use broker_sim::{ApiKey, Cluster, Fault, FaultId, ResponseError};
use client_tests::{
    DEADLINE, assign_from_beginning, consume, consumer_config, init_tracing, producer_config, send,
    to_sorted_records, wait_until,
};
use rdkafka::Message;
use rdkafka::consumer::StreamConsumer;
use rdkafka::producer::{FutureProducer, FutureRecord};

/// The values in `topic`'s log, partition by partition, in offset order.
fn values(cluster: &Cluster, topic: &str) -> Vec<String> {
    cluster
        .records(topic)
        .iter()
        .map(|r| r.value_str().unwrap_or_default().to_string())
        .collect()
}

/// `prefix0`, `prefix1`, … up to `count`.
fn numbered(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|i| format!("{prefix}{i}")).collect()
}

/// Sends every value (keyed "k", so all go to one partition) without waiting in between,
/// then waits for every delivery report; panics if one fails.
async fn send_all(producer: &FutureProducer, topic: &str, values: &[String]) {
    let pending: Vec<_> = values
        .iter()
        .map(|v| {
            producer
                .send_result(FutureRecord::to(topic).key("k").payload(v))
                .map_err(|(e, _)| e)
                .expect("record enqueued")
        })
        .collect();
    for (v, delivery) in values.iter().zip(pending) {
        if let Err((e, _)) = delivery.await.expect("producer alive") {
            panic!("delivery of {v} failed: {e}");
        }
    }
}

async fn wait_for_hits(cluster: &Cluster, id: FaultId, hits: u64, what: &str) {
    wait_until(DEADLINE, what, || {
        cluster.fault_hits(id).is_some_and(|h| h >= hits)
    })
    .await;
}

#[tokio::test]
async fn an_injected_not_leader_is_retried_by_the_producer_and_every_record_lands_once() {
    init_tracing();
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .topic("t")
                .error(ResponseError::NotLeaderOrFollower)
                .times(3),
        )
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("retry.backoff.ms", "10")
        .create()
        .unwrap();
    let sent = numbered("v", 10);
    send_all(&producer, "t", &sent).await;
    assert_eq!(cluster.fault_hits(id), Some(3));
    // Without idempotence a retried batch may land after a later one: compare as sets,
    // counting each record.
    let mut stored = values(&cluster, "t");
    stored.sort();
    let mut expected = sent;
    expected.sort();
    assert_eq!(stored, expected, "every record exactly once");
}

#[tokio::test]
async fn apply_then_fail_with_an_idempotent_producer_does_not_duplicate() {
    init_tracing();
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .apply_then_error(ResponseError::RequestTimedOut)
                .once(),
        )
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("enable.idempotence", "true")
        .set("retry.backoff.ms", "10")
        .create()
        .unwrap();
    // The first record alone, so the failed (but written) batch is retried on its own;
    // then more behind it, in flight together.
    send(&producer, FutureRecord::to("t").key("k").payload("v0")).await;
    let rest: Vec<String> = (1..10).map(|i| format!("v{i}")).collect();
    send_all(&producer, "t", &rest).await;
    assert_eq!(cluster.fault_hits(id), Some(1));
    assert_eq!(
        values(&cluster, "t"),
        numbered("v", 10),
        "each record once, in order"
    );
}

#[tokio::test]
async fn apply_then_fail_without_idempotence_writes_a_duplicate_as_kafka_would() {
    init_tracing();
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .apply_then_error(ResponseError::RequestTimedOut)
                .once(),
        )
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("enable.idempotence", "false")
        .set("retry.backoff.ms", "10")
        .create()
        .unwrap();
    send(&producer, FutureRecord::to("t").key("k").payload("once")).await;
    assert_eq!(cluster.fault_hits(id), Some(1));
    // Written, answered REQUEST_TIMED_OUT, retried and written again: at-least-once.
    assert_eq!(values(&cluster, "t"), ["once", "once"]);
}

#[tokio::test]
async fn a_hung_fetch_times_out_and_the_consumer_recovers_every_record() {
    init_tracing();
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let sent = numbered("r", 10);
    for v in &sent {
        cluster.produce("t", None, v.as_bytes()).unwrap();
    }
    let id = cluster
        .inject(Fault::on(ApiKey::Fetch).no_response().once())
        .unwrap();
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .set("socket.timeout.ms", "1000")
        .create()
        .unwrap();
    assign_from_beginning(&consumer, "t", 1);
    let messages = consume(&consumer, 10, Duration::from_secs(30)).await;
    assert_eq!(cluster.fault_hits(id), Some(1), "the first fetch hung");
    let read: Vec<String> = messages
        .iter()
        .map(|m| String::from_utf8(m.payload().unwrap().to_vec()).unwrap())
        .collect();
    assert_eq!(read, sent);
}

#[tokio::test]
async fn latency_and_throttling_on_produce_and_fetch_lose_no_records() {
    init_tracing();
    let cluster = Cluster::builder().brokers(1).topic("t", 3).start().unwrap();
    // Rules are tried in id order: the first three produces are late, the next three
    // throttled; the same for fetches.
    let slow_produce = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .latency(Duration::from_millis(200))
                .times(3),
        )
        .unwrap();
    let throttled_produce = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .throttle(Duration::from_millis(200))
                .times(3),
        )
        .unwrap();
    let slow_fetch = cluster
        .inject(
            Fault::on(ApiKey::Fetch)
                .latency(Duration::from_millis(200))
                .times(3),
        )
        .unwrap();
    let throttled_fetch = cluster
        .inject(
            Fault::on(ApiKey::Fetch)
                .throttle(Duration::from_millis(200))
                .times(3),
        )
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .unwrap();
    // One at a time, so each record is a produce request of its own.
    for i in 0..12 {
        let (key, value) = (format!("key-{i}"), format!("value-{i}"));
        send(&producer, FutureRecord::to("t").key(&key).payload(&value)).await;
    }
    assert_eq!(cluster.fault_hits(slow_produce), Some(3));
    assert_eq!(cluster.fault_hits(throttled_produce), Some(3));
    assert_eq!(cluster.records("t").len(), 12);

    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .unwrap();
    assign_from_beginning(&consumer, "t", 3);
    let messages = consume(&consumer, 12, DEADLINE).await;
    assert_eq!(to_sorted_records(&messages), cluster.records("t"));
    wait_for_hits(&cluster, slow_fetch, 3, "three late fetches").await;
    wait_for_hits(&cluster, throttled_fetch, 3, "three throttled fetches").await;
}
