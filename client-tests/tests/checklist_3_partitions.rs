//! Checklist section 3, partitions and order (`../shared/CHECKLIST.md`): equal keys in one
//! partition, order kept within a partition, unkeyed records spread. The cluster answers
//! each check directly: every stored record carries its partition, `partition_for_key`
//! is the Java partitioner, and `topic_stats` counts records per partition. Part of the
//! README's cookbook.

use std::collections::BTreeSet;

use broker_sim::Cluster;
use client_tests::checklist::{delivered, queue};
use client_tests::*;
use rdkafka::producer::{FutureProducer, FutureRecord};

const TOPIC: &str = "user-events";
const PARTITIONS: i32 = 6;

fn cluster() -> Cluster {
    init_tracing();
    Cluster::builder()
        .brokers(3)
        .topic(TOPIC, PARTITIONS)
        .start()
        .expect("cluster starts")
}

#[tokio::test]
async fn partition_same_key_lands_in_one_partition() {
    let cluster = cluster();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("partitioner", "murmur2_random")
        .create()
        .unwrap();
    for i in 0..10 {
        let value = format!("event-{i}");
        send(
            &producer,
            FutureRecord::to(TOPIC).key("user_123").payload(&value),
        )
        .await;
    }
    let partitions: BTreeSet<i32> = cluster.records(TOPIC).iter().map(|r| r.partition).collect();
    let expected = cluster.partition_for_key(TOPIC, b"user_123").unwrap();
    assert_eq!(
        partitions,
        BTreeSet::from([expected]),
        "all ten in murmur2(\"user_123\")'s partition"
    );
    assert_eq!(cluster.partition_records(TOPIC, expected).len(), 10);
}

#[tokio::test]
async fn partition_order_is_kept_for_one_key() {
    let cluster = cluster();
    // Up to five requests in flight and retries: only idempotence keeps them in order if a
    // request fails (librdkafka's default since 2.0 is acks=all without idempotence).
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("enable.idempotence", "true")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "0")
        .create()
        .unwrap();
    let sent: Vec<String> = (1..=200).map(|i| format!("msg{i}")).collect();
    let deliveries: Vec<_> = sent
        .iter()
        .map(|v| queue(&producer, FutureRecord::to(TOPIC).key("order-1").payload(v)))
        .collect();
    for d in deliveries {
        delivered(d).await;
    }
    let partition = cluster.partition_for_key(TOPIC, b"order-1").unwrap();
    let logged: Vec<String> = cluster
        .partition_records(TOPIC, partition)
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    assert_eq!(logged, sent, "the log holds them in send order");

    let consumer: rdkafka::consumer::StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .unwrap();
    assign_from_beginning(&consumer, TOPIC, PARTITIONS);
    let consumed: Vec<String> = consume(&consumer, sent.len(), DEADLINE)
        .await
        .iter()
        .map(|m| String::from_utf8(rdkafka::Message::payload(m).unwrap().to_vec()).unwrap())
        .collect();
    assert_eq!(consumed, sent, "and a consumer reads them in that order");
}

#[tokio::test]
async fn partition_unkeyed_records_spread_evenly() {
    let cluster = cluster();
    // librdkafka's sticky partitioner keeps unkeyed records on one partition for
    // `sticky.partitioning.linger.ms` (10 ms) before it picks another; 0 picks anew for
    // every record, which is what "spread evenly" is about record by record.
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("sticky.partitioning.linger.ms", "0")
        .create()
        .unwrap();
    // librdkafka's random partitioner draws only among partitions whose leader it is
    // connected to, so the first records of a cold producer pile onto whichever broker
    // answered first. One record to each partition first opens every leader connection;
    // what is measured is the spread after that, as in a running service.
    for p in 0..PARTITIONS {
        send(
            &producer,
            FutureRecord::<(), _>::to(TOPIC)
                .partition(p)
                .payload("warm-up"),
        )
        .await;
    }
    let warm = cluster.topic_stats(TOPIC).unwrap();
    let total = 1200u64;
    let values: Vec<String> = (0..total).map(|i| format!("r{i}")).collect();
    let deliveries: Vec<_> = values
        .iter()
        .map(|v| queue(&producer, FutureRecord::<(), _>::to(TOPIC).payload(v)))
        .collect();
    for d in deliveries {
        delivered(d).await;
    }
    let stats = cluster.topic_stats(TOPIC).unwrap();
    assert_eq!(stats.records_in - warm.records_in, total);
    let fair = total / PARTITIONS as u64;
    let spread: Vec<(i32, u64)> = stats
        .partitions
        .iter()
        .zip(&warm.partitions)
        .map(|(p, w)| (p.partition, p.records_in - w.records_in))
        .collect();
    for &(partition, got) in &spread {
        // 200 expected per partition; a uniform random choice stays within ±50% with
        // overwhelming probability (the standard deviation is about 13).
        assert!(
            (fair / 2..=fair * 3 / 2).contains(&got),
            "partition {partition} got {got} of {total}: {spread:?}"
        );
    }
}
