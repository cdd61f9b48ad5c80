//! Offsets as librdkafka asks for them: watermarks (ListOffsets earliest/latest),
//! offsets-for-times (ListOffsets by timestamp) and what a consumer does with an offset
//! outside the log.

use broker_sim::{Cluster, NewRecord};
use bytes::Bytes;
use client_tests::{
    DEADLINE, base_consumer, consume, consumer_config, init_tracing, producer_config, send,
};
use rdkafka::consumer::{BaseConsumer, Consumer, StreamConsumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

#[tokio::test]
async fn watermarks_span_every_produced_record_per_partition() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("marks", 3)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    let per_partition = [7i64, 0, 12];
    for (p, &n) in per_partition.iter().enumerate() {
        for i in 0..n {
            let value = format!("{p}-{i}");
            send(
                &producer,
                FutureRecord::<(), _>::to("marks")
                    .partition(p as i32)
                    .payload(&value),
            )
            .await;
        }
    }

    let consumer = base_consumer(&cluster);
    for (p, &n) in per_partition.iter().enumerate() {
        let marks = consumer
            .fetch_watermarks("marks", p as i32, DEADLINE)
            .expect("watermarks");
        assert_eq!(marks, (0, n), "partition {p}");
        let info = &cluster.partitions("marks").unwrap()[p];
        assert_eq!(
            marks,
            (info.log_start_offset, info.high_watermark),
            "partition {p}"
        );
    }
}

/// Seeds partition 0 of `topic` with ten records stamped 1000, 2000, … 10000 (offsets 0..10),
/// written by an rdkafka producer with explicit CreateTime timestamps.
async fn seed_timestamps(cluster: &Cluster, topic: &str) {
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    for i in 0..10i64 {
        let value = format!("at-{}", (i + 1) * 1000);
        send(
            &producer,
            FutureRecord::<(), _>::to(topic)
                .partition(0)
                .payload(&value)
                .timestamp((i + 1) * 1000),
        )
        .await;
    }
}

fn offset_for_time(consumer: &BaseConsumer, topic: &str, timestamp: i64) -> Offset {
    let mut query = TopicPartitionList::new();
    query
        .add_partition_offset(topic, 0, Offset::Offset(timestamp))
        .unwrap();
    let answer = consumer
        .offsets_for_times(query, DEADLINE)
        .expect("offsets for times");
    let entry = answer
        .find_partition(topic, 0)
        .expect("partition in answer");
    assert!(entry.error().is_ok(), "{:?}", entry.error());
    entry.offset()
}

#[tokio::test]
async fn offsets_for_times_finds_the_first_record_at_or_after_the_timestamp() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("times", 1)
        .start()
        .unwrap();
    seed_timestamps(&cluster, "times").await;
    let consumer = base_consumer(&cluster);

    assert_eq!(offset_for_time(&consumer, "times", 0), Offset::Offset(0));
    assert_eq!(offset_for_time(&consumer, "times", 1000), Offset::Offset(0));
    assert_eq!(offset_for_time(&consumer, "times", 1001), Offset::Offset(1));
    assert_eq!(offset_for_time(&consumer, "times", 3000), Offset::Offset(2));
    assert_eq!(offset_for_time(&consumer, "times", 3500), Offset::Offset(3));
    assert_eq!(
        offset_for_time(&consumer, "times", 10_000),
        Offset::Offset(9)
    );
}

#[tokio::test]
async fn offsets_for_times_after_every_record_answers_end() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("times", 1)
        .start()
        .unwrap();
    seed_timestamps(&cluster, "times").await;
    let consumer = base_consumer(&cluster);
    // Kafka answers offset -1 (no such record); librdkafka shows it as Offset::End.
    assert_eq!(offset_for_time(&consumer, "times", 10_001), Offset::End);
}

#[tokio::test]
async fn offsets_for_times_looks_inside_batches_for_out_of_order_timestamps() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("jumbled", 1)
        .start()
        .unwrap();
    // One batch whose timestamps are not monotonic: Kafka returns the first offset whose
    // timestamp is >= the target, not the first offset after the batch's first timestamp.
    let stamps = [5_000i64, 1_000, 9_000, 3_000];
    let records: Vec<NewRecord> = stamps
        .iter()
        .map(|&t| NewRecord {
            timestamp: t,
            key: None,
            value: Some(Bytes::from(format!("at-{t}"))),
            headers: Vec::new(),
        })
        .collect();
    cluster.produce_records("jumbled", 0, &records).unwrap();
    let consumer = base_consumer(&cluster);
    assert_eq!(
        offset_for_time(&consumer, "jumbled", 500),
        Offset::Offset(0)
    );
    assert_eq!(
        offset_for_time(&consumer, "jumbled", 6_000),
        Offset::Offset(2)
    );
    assert_eq!(offset_for_time(&consumer, "jumbled", 9_001), Offset::End);
}

#[tokio::test]
async fn consumer_positioned_past_the_end_resets_to_earliest_under_auto_offset_reset() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("reset", 1)
        .start()
        .unwrap();
    for i in 0..3 {
        cluster
            .produce("reset", None, format!("v{i}").as_bytes())
            .unwrap();
    }
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .set("auto.offset.reset", "earliest")
        .create()
        .expect("consumer");
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("reset", 0, Offset::Offset(100))
        .unwrap();
    consumer.assign(&assignment).unwrap();
    // Fetch at 100 must answer OFFSET_OUT_OF_RANGE; the client then resets to earliest.
    let consumed = consume(&consumer, 3, DEADLINE).await;
    let offsets: Vec<i64> = consumed.iter().map(|m| m.offset()).collect();
    assert_eq!(offsets, vec![0, 1, 2]);
}
