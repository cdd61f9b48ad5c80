//! Checklist section 5, performance (`../shared/CHECKLIST.md`): throughput and resource
//! counters, message size limits, consumer lag. Speed itself is measured by the benchmark
//! (`cargo run --release -p client-tests --bin bench`), never asserted in a test; what a
//! test asserts is that the figures a user reads are there and exact: per-topic record and
//! byte counters (`Cluster::topic_stats`), Kafka's MESSAGE_TOO_LARGE at the limit, and the
//! lag of a group per partition (`Cluster::group`). Part of the README's cookbook.

use std::time::Instant;

use broker_sim::Cluster;
use client_tests::checklist::{delivered, queue};
use client_tests::*;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::util::Timeout;
use rdkafka::{Offset, TopicPartitionList};

const TOPIC: &str = "metrics";

#[tokio::test]
async fn throughput_is_counted_per_topic_and_partition() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 3)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("linger.ms", "5")
        .create()
        .unwrap();
    let total = 5_000usize;
    let started = Instant::now();
    let value = vec![b'v'; 100];
    let keys: Vec<String> = (0..total).map(|i| format!("k{}", i % 100)).collect();
    let deliveries: Vec<_> = keys
        .iter()
        .map(|key| queue(&producer, FutureRecord::to(TOPIC).key(key).payload(&value)))
        .collect();
    for d in deliveries {
        delivered(d).await;
    }
    let produce_time = started.elapsed();
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .unwrap();
    assign_from_beginning(&consumer, TOPIC, 3);
    consume(&consumer, total, DEADLINE).await;

    let stats = cluster.topic_stats(TOPIC).unwrap();
    assert_eq!(stats.records_in, total as u64);
    assert!(
        stats.bytes_in > (total * value.len()) as u64,
        "batches carry the values and more"
    );
    assert_eq!(
        stats.bytes_in,
        stats.partitions.iter().map(|p| p.bytes_in).sum::<u64>()
    );
    assert!(
        stats.records_out >= total as u64,
        "everything was fetched at least once"
    );
    for (stats, info) in stats
        .partitions
        .iter()
        .zip(cluster.partitions(TOPIC).unwrap())
    {
        assert_eq!(
            stats.records_in as i64, info.high_watermark,
            "partition {}",
            info.partition
        );
    }
    // Reported, not asserted: a shared CI machine's speed is no test result.
    println!(
        "{total} records produced in {produce_time:?} ({:.0} records/s), {} bytes in, {} bytes out",
        total as f64 / produce_time.as_secs_f64(),
        stats.bytes_in,
        stats.bytes_out
    );
}

#[tokio::test]
async fn message_over_limit_is_rejected() {
    init_tracing();
    // Kafka's default limit is 1 MB (message.max.bytes 1048588); a topic can lower or
    // raise it with max.message.bytes.
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 1)
        .topic_with_configs("big", 1, &[("max.message.bytes", "3000000")])
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("message.max.bytes", "5000000")
        .set("compression.type", "none")
        .create()
        .unwrap();
    let under = vec![b'a'; 900_000];
    send(
        &producer,
        FutureRecord::to(TOPIC).key("under").payload(&under),
    )
    .await;
    let over = vec![b'b'; 1_200_000];
    let refused = producer
        .send(
            FutureRecord::to(TOPIC).key("over").payload(&over),
            Timeout::Never,
        )
        .await
        .map_err(|(e, _)| e.rdkafka_error_code())
        .expect_err("1.2 MB is past the default 1 MB limit");
    assert_eq!(refused, Some(RDKafkaErrorCode::MessageSizeTooLarge));
    // The same record fits a topic whose limit was raised: large messages are handled.
    send(
        &producer,
        FutureRecord::to("big").key("over").payload(&over),
    )
    .await;

    let stored = cluster.records(TOPIC);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].value.as_deref().map(<[u8]>::len), Some(900_000));
    assert_eq!(
        cluster.records("big")[0].value.as_deref().map(<[u8]>::len),
        Some(1_200_000)
    );
    producer.flush(Timeout::Never).unwrap();
}

#[tokio::test]
async fn consumer_lag_is_reported() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 2)
        .start()
        .unwrap();
    for i in 0..10 {
        cluster
            .produce_records(TOPIC, i % 2, &[record_of(i)])
            .unwrap();
    }
    let group = "lagging";
    let mut member = GroupMember::subscribe(
        &group_consumer_config(&cluster.bootstrap_servers(), group),
        "slow-service",
        &[TOPIC],
    );
    settle_group(&cluster, group, std::slice::from_mut(&mut member), TOPIC).await;
    // The service has processed two records of partition 0 and one of partition 1.
    member.commit(&[(TOPIC, 0, 2), (TOPIC, 1, 1)]).unwrap();

    let info = cluster.group(group).unwrap();
    let lag: Vec<(i32, i64, i64, i64)> = info
        .offsets
        .iter()
        .map(|o| (o.partition, o.offset, o.high_watermark, o.lag))
        .collect();
    assert_eq!(lag, [(0, 2, 5, 3), (1, 1, 5, 4)]);
    assert_eq!(info.total_lag(), 7);
    // The client's own view agrees: committed offsets against the high watermarks.
    let mut list = TopicPartitionList::new();
    list.add_partition(TOPIC, 0);
    list.add_partition(TOPIC, 1);
    let committed = member.consumer().committed_offsets(list, DEADLINE).unwrap();
    for element in committed.elements() {
        let (_, high) = member
            .consumer()
            .fetch_watermarks(TOPIC, element.partition(), DEADLINE)
            .unwrap();
        let Offset::Offset(at) = element.offset() else {
            panic!("{element:?} has no commit")
        };
        assert_eq!(
            high - at,
            info.offset(TOPIC, element.partition())
                .map(|o| 5 - o)
                .unwrap()
        );
    }

    // Once the service catches up and commits, the lag is gone.
    wait_until(DEADLINE, "the member to read all 10 records", || {
        member.pump();
        member.consumed().len() >= 10
    })
    .await;
    member.commit_after(member.consumed()).unwrap();
    assert_eq!(cluster.group(group).unwrap().total_lag(), 0);
}

fn record_of(i: i32) -> broker_sim::NewRecord {
    broker_sim::NewRecord {
        timestamp: 1_767_225_600_000 + i64::from(i),
        key: None,
        value: Some(format!("r{i}").into_bytes().into()),
        headers: Vec::new(),
    }
}
