//! librdkafka as a producer: acks levels, idempotence, every compression codec, unknown
//! topics and flushing. Topic configs that refuse or restamp records are in
//! `rdkafka_topic_configs.rs`.
//!
//! Each test produces through a real `FutureProducer` and then checks the delivery reports
//! against what the cluster actually stored (`Cluster::records`), so a broker that
//! acknowledges without storing, or stores somewhere other than it reports, fails.

use broker_sim::Cluster;
use client_tests::{
    DEADLINE, assign_from_beginning, consume, consumer_config, init_tracing, key_value,
    producer_config, send, to_sorted_records, wait_until,
};
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

/// Sends `count` records `key-i` → `value-i` to `topic` without waiting between sends, then
/// waits for every delivery report. Returns each record's (partition, offset) in send order.
async fn produce_numbered(producer: &FutureProducer, topic: &str, count: usize) -> Vec<(i32, i64)> {
    let pending: Vec<_> = (0..count)
        .map(|i| {
            let (key, value) = (format!("key-{i}"), format!("value-{i}"));
            producer
                .send_result(FutureRecord::to(topic).key(&key).payload(&value))
                .map_err(|(e, _)| e)
                .expect("record enqueued")
        })
        .collect();
    let mut deliveries = Vec::with_capacity(count);
    for (i, delivery) in pending.into_iter().enumerate() {
        match delivery.await.expect("producer alive") {
            Ok(d) => deliveries.push((d.partition, d.offset)),
            Err((e, _)) => panic!("delivery of record {i} failed: {e}"),
        }
    }
    deliveries
}

/// Asserts that the log of `topic` holds exactly the records [`produce_numbered`] sent, each
/// at the partition and offset its delivery report named.
fn assert_log_holds_numbered(cluster: &Cluster, topic: &str, deliveries: &[(i32, i64)]) {
    let records = cluster.records(topic);
    assert_eq!(records.len(), deliveries.len(), "record count in the log");
    for (i, &(partition, offset)) in deliveries.iter().enumerate() {
        let stored = records
            .iter()
            .find(|r| r.partition == partition && r.offset == offset)
            .unwrap_or_else(|| {
                panic!("record {i} reported at {partition}:{offset} is not in the log")
            });
        let (key, value) = (format!("key-{i}"), format!("value-{i}"));
        assert_eq!(
            key_value(stored),
            (Some(key.as_str()), Some(value.as_str()))
        );
    }
}

async fn produce_with(settings: &[(&str, &str)]) {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("orders", 3)
        .start()
        .unwrap();
    let mut config = producer_config(&cluster.bootstrap_servers());
    for (k, v) in settings {
        config.set(*k, *v);
    }
    let producer: FutureProducer = config.create().expect("producer");
    let deliveries = produce_numbered(&producer, "orders", 50).await;
    assert_log_holds_numbered(&cluster, "orders", &deliveries);
}

#[tokio::test]
async fn default_producer_writes_land_in_the_log_where_delivery_reports_say() {
    produce_with(&[]).await;
}

#[tokio::test]
async fn acks_leader_producer_writes_land_in_the_log() {
    produce_with(&[("acks", "1")]).await;
}

#[tokio::test]
async fn acks_all_producer_writes_land_in_the_log() {
    produce_with(&[("acks", "all")]).await;
}

#[tokio::test]
async fn idempotent_producer_writes_land_in_the_log_exactly_once() {
    produce_with(&[
        ("enable.idempotence", "true"),
        ("max.in.flight.requests.per.connection", "5"),
    ])
    .await;
}

#[tokio::test]
async fn acks_zero_producer_writes_land_in_the_log_without_responses() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("fire-and-forget", 1)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("acks", "0")
        .create()
        .expect("producer");
    let count = 20;
    let deliveries = produce_numbered(&producer, "fire-and-forget", count).await;
    // With acks=0 the broker sends nothing back, so librdkafka reports success without
    // an offset: the log is the only place to check.
    assert!(deliveries.iter().all(|&(p, _)| p == 0), "{deliveries:?}");
    wait_until(DEADLINE, "acks=0 records to be stored", || {
        cluster.records("fire-and-forget").len() == count
    })
    .await;
    let stored: Vec<_> = cluster
        .records("fire-and-forget")
        .iter()
        .map(|r| (r.offset, r.value_str().map(str::to_string)))
        .collect();
    let expected: Vec<_> = (0..count)
        .map(|i| (i as i64, Some(format!("value-{i}"))))
        .collect();
    assert_eq!(stored, expected);
}

/// Produces 200 records with `codec` and linger so they travel in a few compressed batches,
/// then checks the cluster decoded them and an rdkafka consumer reads them back unchanged.
async fn codec_round_trip(codec: &str) {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("codec", 2)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("compression.type", codec)
        .set("linger.ms", "50")
        .create()
        .expect("producer");
    let count = 200;
    let deliveries = produce_numbered(&producer, "codec", count).await;
    assert_log_holds_numbered(&cluster, "codec", &deliveries);

    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, "codec", 2);
    let consumed = consume(&consumer, count, DEADLINE).await;
    assert_eq!(to_sorted_records(&consumed), cluster.records("codec"));
}

#[tokio::test]
async fn uncompressed_batches_round_trip_through_log_and_consumer() {
    codec_round_trip("none").await;
}

#[tokio::test]
async fn gzip_batches_round_trip_through_log_and_consumer() {
    codec_round_trip("gzip").await;
}

#[tokio::test]
async fn snappy_batches_round_trip_through_log_and_consumer() {
    codec_round_trip("snappy").await;
}

#[tokio::test]
async fn lz4_batches_round_trip_through_log_and_consumer() {
    codec_round_trip("lz4").await;
}

#[tokio::test]
async fn zstd_batches_round_trip_through_log_and_consumer() {
    codec_round_trip("zstd").await;
}

#[tokio::test]
async fn producing_to_an_unknown_topic_without_auto_create_fails_with_unknown_topic() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .auto_create_topics(false)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("topic.metadata.propagation.max.ms", "100")
        .set("message.timeout.ms", "5000")
        .create()
        .expect("producer");
    let error = producer
        .send(
            FutureRecord::to("nope").key("k").payload("v"),
            rdkafka::util::Timeout::Never,
        )
        .await
        .map_err(|(e, _)| e)
        .expect_err("no topic, no delivery");
    // librdkafka reports a topic the cluster says does not exist as the local
    // `UnknownTopic`; a timeout here would mean the broker never said so.
    assert!(
        matches!(
            error.rdkafka_error_code(),
            Some(RDKafkaErrorCode::UnknownTopic | RDKafkaErrorCode::UnknownTopicOrPartition)
        ),
        "{error}"
    );
    assert!(cluster.topics().is_empty(), "{:?}", cluster.topics());
}

#[tokio::test]
async fn producing_to_an_unknown_topic_with_auto_create_creates_it_and_delivers() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .auto_create_topics(true)
        .default_partitions(3)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    let (partition, offset) =
        send(&producer, FutureRecord::to("fresh").key("k").payload("v")).await;
    assert_eq!(cluster.topics(), vec!["fresh".to_string()]);
    assert_eq!(cluster.partitions("fresh").map(|p| p.len()), Some(3));
    let stored = cluster.partition_records("fresh", partition);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].offset, offset);
    assert_eq!(key_value(&stored[0]), (Some("k"), Some("v")));
}

#[tokio::test]
async fn flush_returns_once_every_queued_record_is_acknowledged() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("flushed", 1)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("linger.ms", "100")
        .create()
        .expect("producer");
    let pending: Vec<_> = (0..100)
        .map(|i| {
            let value = format!("value-{i}");
            producer
                .send_result(FutureRecord::<(), _>::to("flushed").payload(&value))
                .map_err(|(e, _)| e)
                .expect("enqueued")
        })
        .collect();
    producer.flush(DEADLINE).expect("flush");
    assert_eq!(producer.in_flight_count(), 0);
    assert_eq!(cluster.records("flushed").len(), 100);
    for delivery in pending {
        delivery
            .await
            .expect("producer alive")
            .map_err(|(e, _)| e)
            .expect("delivered");
    }
}
