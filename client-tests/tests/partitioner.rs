//! Key → partition agreement between broker-sim and librdkafka.
//!
//! librdkafka's `murmur2_random` partitioner is the Java client's default for keyed
//! records. `broker_sim::partition_for_key` (and `Cluster::produce`, which uses it) must
//! put every key where that partitioner does, or records seeded by a test and records
//! produced by an application would disagree about which partition a key lives in.

use broker_sim::Cluster;
use client_tests::{init_tracing, producer_config, send};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use rdkafka::producer::{FutureProducer, FutureRecord};

const PARTITIONS: i32 = 6;

fn murmur2_producer(cluster: &Cluster) -> FutureProducer {
    producer_config(&cluster.bootstrap_servers())
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "20")
        .create()
        .expect("producer")
}

/// 300 reproducible keys of 1 to 64 arbitrary bytes, plus a few readable ones.
fn keys() -> Vec<Vec<u8>> {
    let mut runner = TestRunner::deterministic();
    let strategy = proptest::collection::vec(proptest::num::u8::ANY, 1..64);
    let mut keys: Vec<Vec<u8>> = (0..300)
        .map(|_| strategy.new_tree(&mut runner).expect("value").current())
        .collect();
    for readable in [
        "a",
        "abc",
        "foobar",
        "user-42",
        "a-little-bit-longer-string",
    ] {
        keys.push(readable.as_bytes().to_vec());
    }
    keys
}

#[tokio::test]
async fn rdkafka_murmur2_random_places_keys_where_partition_for_key_computes() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("keyed", PARTITIONS)
        .start()
        .unwrap();
    let producer = murmur2_producer(&cluster);
    let keys = keys();
    let pending: Vec<_> = keys
        .iter()
        .map(|key| {
            producer
                .send_result(FutureRecord::to("keyed").key(key).payload(key))
                .map_err(|(e, _)| e)
                .expect("enqueued")
        })
        .collect();
    let mut mismatches = Vec::new();
    for (key, delivery) in keys.iter().zip(pending) {
        let d = delivery
            .await
            .expect("producer alive")
            .map_err(|(e, _)| e)
            .expect("delivered");
        let computed = broker_sim::partition_for_key(key, PARTITIONS);
        if d.partition != computed {
            mismatches.push((key.clone(), d.partition, computed));
        }
    }
    assert!(
        mismatches.is_empty(),
        "(key, rdkafka, broker-sim): {mismatches:?}"
    );

    // And the log agrees: every record sits in its key's partition.
    let records = cluster.records("keyed");
    assert_eq!(records.len(), keys.len());
    for r in &records {
        let key = r.key.as_deref().expect("keyed record");
        assert_eq!(
            r.partition,
            broker_sim::partition_for_key(key, PARTITIONS),
            "{key:?}"
        );
    }
    assert!(cluster.misplaced_records("keyed").is_empty());
    // Enough keys that every partition got some: the check above was not vacuous.
    for p in 0..PARTITIONS {
        assert!(
            records.iter().any(|r| r.partition == p),
            "partition {p} empty"
        );
    }
}

#[tokio::test]
async fn cluster_produce_puts_a_key_where_rdkafka_murmur2_random_does() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("keyed", PARTITIONS)
        .start()
        .unwrap();
    let producer = murmur2_producer(&cluster);
    for i in 0..40 {
        let key = format!("customer-{i}");
        let (seeded_partition, _) = cluster
            .produce("keyed", Some(key.as_bytes()), b"seeded")
            .unwrap();
        assert_eq!(
            cluster.partition_for_key("keyed", key.as_bytes()),
            Some(seeded_partition)
        );
        let (produced_partition, _) = send(
            &producer,
            FutureRecord::to("keyed").key(&key).payload("produced"),
        )
        .await;
        assert_eq!(seeded_partition, produced_partition, "key {key}");
    }
    // Each key's two records are neighbours in one partition.
    for i in 0..40 {
        let key = format!("customer-{i}");
        let with_key: Vec<_> = cluster
            .records("keyed")
            .into_iter()
            .filter(|r| r.key_str() == Some(key.as_str()))
            .collect();
        assert_eq!(with_key.len(), 2, "{key}");
        assert_eq!(with_key[0].partition, with_key[1].partition, "{key}");
    }
}

/// librdkafka's own default partitioner (`consistent_random`, CRC32) disagrees with the
/// Java client for most keys; the audit names exactly the records it put elsewhere.
#[tokio::test]
async fn misplaced_records_audit_reports_keys_placed_by_another_partitioner() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("keyed", PARTITIONS)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("partitioner", "consistent")
        .create()
        .expect("producer");
    let keys = keys();
    for key in &keys {
        send(&producer, FutureRecord::to("keyed").key(key).payload(key)).await;
    }
    let misplaced = cluster.misplaced_records("keyed");
    let expected: Vec<_> = cluster
        .records("keyed")
        .into_iter()
        .filter(|r| {
            broker_sim::partition_for_key(r.key.as_deref().unwrap(), PARTITIONS) != r.partition
        })
        .collect();
    assert!(
        !expected.is_empty(),
        "CRC32 and murmur2 agree on every key?"
    );
    assert_eq!(misplaced, expected);
    // Seeding through the cluster always lands in place.
    cluster.produce("keyed", Some(b"user-42"), b"v").unwrap();
    assert_eq!(cluster.misplaced_records("keyed").len(), expected.len());
}
