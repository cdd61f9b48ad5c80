//! Durable mode (`ClusterBuilder::data_dir`) as librdkafka sees it: what an idempotent
//! acks=all producer wrote and what a group committed are there, at the same offsets,
//! after the cluster is dropped and started again on the same directory, and new writes
//! continue after them. (The broker-side details — torn tails, `kill -9`, transactions —
//! are `broker-sim/tests/durability.rs`.)

use broker_sim::Cluster;
use client_tests::{
    DEADLINE, assign_from_beginning, consume, consumer_config, group_consumer_config, init_tracing,
    producer_config, send,
};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

const TOPIC: &str = "orders";
const GROUP: &str = "order-workers";

fn idempotent_producer(cluster: &Cluster) -> FutureProducer {
    producer_config(&cluster.bootstrap_servers())
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()
        .expect("producer")
}

#[tokio::test]
async fn records_and_committed_offsets_survive_a_restart_on_the_same_data_dir() {
    init_tracing();
    let dir = tempfile::tempdir().expect("a data directory of the test's own");
    let start = || {
        Cluster::builder()
            .brokers(3)
            .topic(TOPIC, 3)
            .data_dir(dir.path())
            .start()
            .expect("cluster starts on the data directory")
    };

    let cluster = start();
    let producer = idempotent_producer(&cluster);
    let mut written = Vec::new();
    for i in 0..30 {
        let (key, value) = (format!("order-{}", i % 7), format!("placed-{i}"));
        let (partition, offset) =
            send(&producer, FutureRecord::to(TOPIC).key(&key).payload(&value)).await;
        written.push((partition, offset, key, value));
    }
    let member: BaseConsumer = group_consumer_config(&cluster.bootstrap_servers(), GROUP)
        .create()
        .expect("group consumer");
    let mut commit = TopicPartitionList::new();
    for (p, offset) in [(0, 2), (1, 1), (2, 3)] {
        commit
            .add_partition_offset(TOPIC, p, Offset::Offset(offset))
            .unwrap();
    }
    member
        .commit(&commit, CommitMode::Sync)
        .expect("offsets committed");
    drop((member, producer));
    drop(cluster);

    let cluster = start();
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, TOPIC, 3);
    let mut read: Vec<_> = consume(&consumer, written.len(), DEADLINE)
        .await
        .iter()
        .map(|m| {
            let text =
                |b: Option<&[u8]>| String::from_utf8_lossy(b.unwrap_or_default()).into_owned();
            (m.partition(), m.offset(), text(m.key()), text(m.payload()))
        })
        .collect();
    read.sort();
    written.sort();
    assert_eq!(read, written, "every acknowledged record, at its offset");

    let member: BaseConsumer = group_consumer_config(&cluster.bootstrap_servers(), GROUP)
        .create()
        .expect("group consumer");
    let mut asked = TopicPartitionList::new();
    for p in 0..3 {
        asked.add_partition(TOPIC, p);
    }
    let committed: Vec<_> = member
        .committed_offsets(asked, DEADLINE)
        .expect("committed offsets")
        .elements()
        .iter()
        .map(|e| (e.partition(), e.offset()))
        .collect();
    assert_eq!(
        committed,
        [
            (0, Offset::Offset(2)),
            (1, Offset::Offset(1)),
            (2, Offset::Offset(3))
        ]
    );

    // A new producer's record goes after what the restart kept.
    let end = written.iter().filter(|w| w.0 == 0).count() as i64;
    let (partition, offset) = send(
        &idempotent_producer(&cluster),
        FutureRecord::to(TOPIC)
            .partition(0)
            .key("k")
            .payload("after"),
    )
    .await;
    assert_eq!((partition, offset), (0, end));
}
