//! Topic configs a producer runs into: `max.message.bytes` (batches over it are refused
//! with MESSAGE_TOO_LARGE), `message.timestamp.type` (LogAppendTime restamps records),
//! `message.timestamp.after.max.ms` (records too far in the future are refused with
//! INVALID_TIMESTAMP) and `min.insync.replicas` (acks=all needs that many in-sync
//! replicas, else NOT_ENOUGH_REPLICAS); and a limit changed by the admin client's
//! `alter_configs` applying to the next send.

use broker_sim::Cluster;
use client_tests::{
    DEADLINE, assign_from_beginning, consume, consumer_config, init_tracing, producer_config,
};
use rdkafka::Timestamp;
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

/// A producer whose own `message.max.bytes` (2,000,000) is above every topic limit used
/// here, so only the broker can refuse a record for its size.
fn large_message_producer(cluster: &Cluster) -> FutureProducer {
    producer_config(&cluster.bootstrap_servers())
        .set("message.max.bytes", "2000000")
        .set("compression.type", "none")
        .create()
        .expect("producer")
}

/// Sends one record of `size` bytes, alone in its batch, and returns the delivery result.
async fn send_value_of(
    producer: &FutureProducer,
    topic: &str,
    size: usize,
) -> Result<i64, KafkaError> {
    let value = vec![b'x'; size];
    producer
        .send(
            FutureRecord::<(), _>::to(topic).payload(&value),
            rdkafka::util::Timeout::Never,
        )
        .await
        .map(|d| d.offset)
        .map_err(|(e, _)| e)
}

#[tokio::test]
async fn message_just_under_topic_max_message_bytes_is_accepted() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic_with_configs("small", 1, &[("max.message.bytes", "10000")])
        .start()
        .unwrap();
    let producer = large_message_producer(&cluster);
    // 9,900 value bytes + ~70 bytes of batch and record framing: just under 10,000.
    let offset = send_value_of(&producer, "small", 9_900)
        .await
        .expect("accepted");
    let stored = cluster.partition_records("small", 0);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].offset, offset);
    assert_eq!(stored[0].value.as_ref().map(|v| v.len()), Some(9_900));
}

#[tokio::test]
async fn message_over_topic_max_message_bytes_is_refused_with_message_size_too_large() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic_with_configs("small", 1, &[("max.message.bytes", "10000")])
        .start()
        .unwrap();
    let producer = large_message_producer(&cluster);
    let error = send_value_of(&producer, "small", 10_100)
        .await
        .expect_err("a batch over max.message.bytes must be refused");
    assert_eq!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::MessageSizeTooLarge),
        "{error}"
    );
    assert!(
        cluster.records("small").is_empty(),
        "refused record was stored"
    );
    // The refusal is per request: the partition still takes records that fit.
    send_value_of(&producer, "small", 100)
        .await
        .expect("small record accepted");
    assert_eq!(cluster.records("small").len(), 1);
}

#[tokio::test]
async fn million_byte_message_fits_the_default_max_message_bytes() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("big", 1)
        .start()
        .unwrap();
    let producer = large_message_producer(&cluster);
    send_value_of(&producer, "big", 1_000_000)
        .await
        .expect("accepted");
    let stored = cluster.partition_records("big", 0);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].value.as_deref(), Some(&vec![b'x'; 1_000_000][..]));
}

#[tokio::test]
async fn message_over_the_default_max_message_bytes_is_refused_with_message_size_too_large() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("big", 1)
        .start()
        .unwrap();
    let producer = large_message_producer(&cluster);
    // Kafka's default max.message.bytes is 1,048,588; this batch is a little over it.
    let error = send_value_of(&producer, "big", 1_048_600)
        .await
        .expect_err("a batch over the default max.message.bytes must be refused");
    assert_eq!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::MessageSizeTooLarge),
        "{error}"
    );
    assert!(cluster.records("big").is_empty());
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

#[tokio::test]
async fn log_append_time_topic_restamps_records_with_the_broker_time() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic_with_configs(
            "appended",
            1,
            &[("message.timestamp.type", "LogAppendTime")],
        )
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    let before = now_ms();
    let delivery = producer
        .send(
            FutureRecord::<(), _>::to("appended")
                .payload("v")
                .timestamp(1_000),
            Timeout::Never,
        )
        .await
        .map_err(|(e, _)| e)
        .expect("delivered");
    let after = now_ms();
    // The produce response carries the append time (log_append_time_ms).
    match delivery.timestamp {
        Timestamp::LogAppendTime(t) => assert!((before..=after).contains(&t), "{t}"),
        other => panic!("delivery report timestamp {other:?}, expected LogAppendTime"),
    }
    let stored = cluster.partition_records("appended", 0);
    assert!(
        (before..=after).contains(&stored[0].timestamp),
        "{}",
        stored[0].timestamp
    );

    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, "appended", 1);
    let consumed = consume(&consumer, 1, DEADLINE).await;
    assert_eq!(
        consumed[0].timestamp(),
        Timestamp::LogAppendTime(stored[0].timestamp)
    );
}

#[tokio::test]
async fn record_stamped_beyond_timestamp_after_max_ms_is_refused_with_invalid_timestamp() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("future", 1)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    // Kafka 4.x defaults message.timestamp.after.max.ms to one hour.
    let two_hours_ahead = now_ms() + 2 * 3_600_000;
    let error = producer
        .send(
            FutureRecord::<(), _>::to("future")
                .payload("v")
                .timestamp(two_hours_ahead),
            Timeout::Never,
        )
        .await
        .map_err(|(e, _)| e)
        .expect_err("timestamp two hours ahead");
    assert_eq!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::InvalidTimestamp),
        "{error}"
    );
    assert!(cluster.records("future").is_empty());
}

/// Kafka caps `min.insync.replicas` at the replication factor (its "effective min ISR"),
/// so a single-replica topic with min.insync.replicas=2 still takes acks=all writes.
/// NOT_ENOUGH_REPLICAS needs an ISR that shrank below the replica set (a stopped broker).
#[tokio::test]
async fn acks_all_with_min_insync_above_the_replication_factor_is_capped_at_it() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic_with_configs("fragile", 1, &[("min.insync.replicas", "2")])
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("acks", "all")
        .set("retries", "0")
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::<(), _>::to("fragile").payload("v"),
            Timeout::Never,
        )
        .await
        .map_err(|(e, _)| e)
        .expect("the effective min ISR is the one replica there is");
    assert_eq!(cluster.records("fragile").len(), 1);
}

#[tokio::test]
async fn acks_leader_ignores_min_insync_replicas() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic_with_configs("fragile", 1, &[("min.insync.replicas", "2")])
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("acks", "1")
        .create()
        .expect("producer");
    producer
        .send(
            FutureRecord::<(), _>::to("fragile").payload("v"),
            Timeout::Never,
        )
        .await
        .map_err(|(e, _)| e)
        .expect("acks=1 only needs the leader");
    assert_eq!(cluster.records("fragile").len(), 1);
}

#[tokio::test]
async fn a_max_message_bytes_set_by_the_admin_client_applies_to_the_next_send() {
    use rdkafka::admin::{AdminClient, AdminOptions, AlterConfig, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    init_tracing();
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let producer = large_message_producer(&cluster);
    send_value_of(&producer, "t", 50_000)
        .await
        .expect("under the default");

    let admin: AdminClient<DefaultClientContext> = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("admin client");
    let change = AlterConfig::new(ResourceSpecifier::Topic("t")).set("max.message.bytes", "10000");
    let results = admin
        .alter_configs(
            &[change],
            &AdminOptions::new().request_timeout(Some(DEADLINE)),
        )
        .await
        .expect("alter_configs answered");
    assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
    assert_eq!(
        cluster
            .topic_configs("t")
            .unwrap()
            .get("max.message.bytes")
            .map(String::as_str),
        Some("10000")
    );
    match send_value_of(&producer, "t", 50_000).await {
        Err(KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge)) => {}
        other => panic!("expected MESSAGE_TOO_LARGE, got {other:?}"),
    }
}

/// A compacted topic (`cleanup.policy=compact`): an idempotent lz4 producer writes three
/// versions of each key and a tombstone; after `compact_now` a consumer from the
/// beginning reads only the latest record of each key, tombstone included, at their
/// original offsets; a record without a key is refused.
#[tokio::test]
async fn a_compacted_topic_keeps_the_latest_value_of_each_key_after_compact_now() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic_with_configs("latest", 1, &[("cleanup.policy", "compact")])
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("enable.idempotence", "true")
        .set("compression.type", "lz4")
        .set("linger.ms", "5")
        .create()
        .expect("producer");
    for version in 1..=3 {
        for key in ["a", "b", "c"] {
            let value = format!("{key}{version}");
            producer
                .send(
                    FutureRecord::to("latest")
                        .key(key)
                        .payload(&value)
                        .partition(0),
                    Timeout::Never,
                )
                .await
                .expect("delivered");
        }
    }
    producer
        .send(
            FutureRecord::<_, ()>::to("latest").key("b").partition(0),
            Timeout::Never,
        )
        .await
        .expect("tombstone delivered");
    match producer
        .send(
            FutureRecord::<(), _>::to("latest")
                .payload("no key")
                .partition(0),
            Timeout::Never,
        )
        .await
    {
        Err((KafkaError::MessageProduction(code), _)) => {
            assert_eq!(code, RDKafkaErrorCode::InvalidRecord)
        }
        other => panic!("a record without a key was not refused: {other:?}"),
    }

    let done = cluster.compact_now("latest").unwrap();
    // a1..a2, b1..b3 (the tombstone supersedes b3), c1..c2.
    assert_eq!(done.records_removed, 7, "{done:?}");

    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, "latest", 1);
    let read: Vec<(i64, String, Option<String>)> = consume(&consumer, 3, DEADLINE)
        .await
        .iter()
        .map(|m| {
            (
                m.offset(),
                String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned(),
                m.payload().map(|v| String::from_utf8_lossy(v).into_owned()),
            )
        })
        .collect();
    assert_eq!(
        read,
        vec![
            (6, "a".to_string(), Some("a3".to_string())),
            (8, "c".to_string(), Some("c3".to_string())),
            (9, "b".to_string(), None),
        ]
    );
}
