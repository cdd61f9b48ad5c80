//! librdkafka as a consumer reading by assignment (no group: broker-sim has no consumer
//! groups yet): what it reads must be exactly what the log holds, whoever wrote it, with
//! keys, values, headers and timestamps intact and per-partition order preserved.

use broker_sim::{Cluster, NewRecord};
use bytes::Bytes;
use client_tests::{
    DEADLINE, assign_from_beginning, consume, consumer_config, init_tracing, producer_config, send,
    to_record, to_sorted_records,
};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, Timestamp, TopicPartitionList};

fn stream_consumer(cluster: &Cluster) -> StreamConsumer {
    consumer_config(&cluster.bootstrap_servers())
        .create()
        .expect("consumer")
}

fn seeded(timestamp: i64, key: Option<&str>, value: &str) -> NewRecord {
    NewRecord {
        timestamp,
        key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: Vec::new(),
    }
}

#[tokio::test]
async fn assigned_consumer_reads_every_record_seeded_through_the_cluster() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("orders", 6)
        .start()
        .unwrap();
    for i in 0..30 {
        cluster
            .produce(
                "orders",
                Some(format!("key-{i}").as_bytes()),
                format!("keyed-{i}").as_bytes(),
            )
            .unwrap();
    }
    for i in 0..12 {
        cluster
            .produce("orders", None, format!("unkeyed-{i}").as_bytes())
            .unwrap();
    }
    let batch: Vec<NewRecord> = (0..8)
        .map(|i| seeded(1_700_000_000_000 + i, None, &format!("batch-{i}")))
        .collect();
    cluster.produce_records("orders", 5, &batch).unwrap();

    let consumer = stream_consumer(&cluster);
    assign_from_beginning(&consumer, "orders", 6);
    let consumed = consume(&consumer, 50, DEADLINE).await;
    assert_eq!(to_sorted_records(&consumed), cluster.records("orders"));
}

#[tokio::test]
async fn assigned_consumer_reads_every_record_an_rdkafka_producer_wrote() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("orders", 6)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    let mut sent = Vec::new();
    for i in 0..60 {
        let (key, value) = (format!("key-{i}"), format!("value-{i}"));
        let at = send(
            &producer,
            FutureRecord::to("orders").key(&key).payload(&value),
        )
        .await;
        sent.push((at, key, value));
    }

    let consumer = stream_consumer(&cluster);
    assign_from_beginning(&consumer, "orders", 6);
    let consumed = consume(&consumer, sent.len(), DEADLINE).await;
    let mut got: Vec<_> = consumed
        .iter()
        .map(|m| {
            (
                (m.partition(), m.offset()),
                String::from_utf8(m.key().unwrap().to_vec()).unwrap(),
                String::from_utf8(m.payload().unwrap().to_vec()).unwrap(),
            )
        })
        .collect();
    got.sort();
    sent.sort();
    assert_eq!(got, sent);
    assert_eq!(to_sorted_records(&consumed), cluster.records("orders"));
}

#[tokio::test]
async fn keys_values_headers_and_create_timestamps_survive_the_round_trip() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("rich", 1)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");

    let headers = OwnedHeaders::new()
        .insert(Header {
            key: "trace",
            value: Some("abc"),
        })
        .insert(Header {
            key: "dup",
            value: Some("first"),
        })
        .insert(Header {
            key: "dup",
            value: Some("second"),
        })
        .insert(Header {
            key: "null",
            value: None::<&str>,
        })
        .insert(Header {
            key: "empty",
            value: Some(""),
        })
        .insert(Header {
            key: "binary",
            value: Some(&[0u8, 255, 7][..]),
        });
    send(
        &producer,
        FutureRecord::to("rich")
            .key("k1")
            .payload("v1")
            .timestamp(1_600_000_000_123)
            .headers(headers),
    )
    .await;
    // No key, empty value, timestamp far in the past.
    send(
        &producer,
        FutureRecord::<(), _>::to("rich")
            .payload("")
            .timestamp(1_000),
    )
    .await;
    // A tombstone: key, no value.
    send(
        &producer,
        FutureRecord::<_, ()>::to("rich")
            .key("gone")
            .timestamp(1_600_000_000_999),
    )
    .await;

    let consumer = stream_consumer(&cluster);
    assign_from_beginning(&consumer, "rich", 1);
    let consumed = consume(&consumer, 3, DEADLINE).await;
    for m in &consumed {
        assert!(
            matches!(m.timestamp(), Timestamp::CreateTime(_)),
            "timestamp type of offset {}: {:?}",
            m.offset(),
            m.timestamp()
        );
    }
    let got = to_sorted_records(&consumed);
    assert_eq!(got, cluster.records("rich"));

    let b = |s: &str| Some(Bytes::copy_from_slice(s.as_bytes()));
    assert_eq!(
        (got[0].key.clone(), got[0].value.clone()),
        (b("k1"), b("v1"))
    );
    assert_eq!(got[0].timestamp, 1_600_000_000_123);
    assert_eq!(
        got[0].headers,
        vec![
            ("trace".to_string(), b("abc")),
            ("dup".to_string(), b("first")),
            ("dup".to_string(), b("second")),
            ("null".to_string(), None),
            ("empty".to_string(), b("")),
            ("binary".to_string(), Some(Bytes::from_static(&[0, 255, 7]))),
        ]
    );
    assert_eq!((got[1].key.clone(), got[1].value.clone()), (None, b("")));
    assert_eq!(got[1].timestamp, 1_000);
    assert!(got[1].headers.is_empty());
    assert_eq!(
        (got[2].key.clone(), got[2].value.clone()),
        (b("gone"), None)
    );
    assert_eq!(got[2].timestamp, 1_600_000_000_999);
}

#[tokio::test]
async fn seeded_headers_and_timestamps_reach_an_rdkafka_consumer() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("seeded", 1)
        .start()
        .unwrap();
    let record = NewRecord {
        timestamp: 1_234_567,
        key: Some(Bytes::from_static(b"k")),
        value: None,
        headers: vec![
            ("h".to_string(), Some(Bytes::from_static(b"1"))),
            ("h".to_string(), None),
        ],
    };
    cluster.produce_records("seeded", 0, &[record]).unwrap();

    let consumer = stream_consumer(&cluster);
    assign_from_beginning(&consumer, "seeded", 1);
    let consumed = consume(&consumer, 1, DEADLINE).await;
    assert_eq!(consumed[0].timestamp(), Timestamp::CreateTime(1_234_567));
    assert_eq!(to_sorted_records(&consumed), cluster.records("seeded"));
}

#[tokio::test]
async fn assigned_consumer_receives_records_produced_while_it_waits() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("live", 1)
        .start()
        .unwrap();
    cluster.produce("live", None, b"before").unwrap();
    let consumer = stream_consumer(&cluster);
    assign_from_beginning(&consumer, "live", 1);
    let first = consume(&consumer, 1, DEADLINE).await;
    assert_eq!(first[0].payload(), Some(&b"before"[..]));

    // The consumer is now parked at the end of the log in a long-polling fetch.
    for i in 0..5 {
        cluster
            .produce("live", None, format!("after-{i}").as_bytes())
            .unwrap();
    }
    let later = consume(&consumer, 5, DEADLINE).await;
    let values: Vec<_> = later
        .iter()
        .map(|m| m.payload().unwrap().to_vec())
        .collect();
    let expected: Vec<_> = (0..5).map(|i| format!("after-{i}").into_bytes()).collect();
    assert_eq!(values, expected);
    assert_eq!(
        later.iter().map(|m| m.offset()).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
}

#[tokio::test]
async fn consumer_assigned_at_an_offset_starts_there() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("mid", 1)
        .start()
        .unwrap();
    let records: Vec<NewRecord> = (0..10)
        .map(|i| seeded(1_000 + i, None, &format!("v{i}")))
        .collect();
    cluster.produce_records("mid", 0, &records).unwrap();

    let consumer = stream_consumer(&cluster);
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("mid", 0, Offset::Offset(7))
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let consumed = consume(&consumer, 3, DEADLINE).await;
    let got: Vec<_> = consumed.iter().map(to_record).collect();
    assert_eq!(got, cluster.partition_records("mid", 0)[7..].to_vec());
}

#[tokio::test]
async fn consumer_assigned_at_the_end_sees_only_later_records() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("tail", 1)
        .start()
        .unwrap();
    for i in 0..5 {
        cluster
            .produce("tail", None, format!("old-{i}").as_bytes())
            .unwrap();
    }
    let consumer = stream_consumer(&cluster);
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("tail", 0, Offset::End)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    // Offset::End is resolved by a ListOffsets(latest) request at some point after
    // `assign`, and nothing observable says when. So keep appending one new record per
    // round until the consumer delivers one: whatever it delivers first must be new.
    let give_up = tokio::time::Instant::now() + DEADLINE;
    let first = loop {
        assert!(
            tokio::time::Instant::now() < give_up,
            "no new record consumed"
        );
        cluster.produce("tail", None, b"new").unwrap();
        let wait = tokio::time::Duration::from_millis(200);
        if let Ok(message) = tokio::time::timeout(wait, consumer.recv()).await {
            break message.expect("consumer error").detach();
        }
    };
    assert!(first.offset() >= 5, "read old offset {}", first.offset());
    assert_eq!(first.payload(), Some(&b"new"[..]));
}

#[tokio::test]
async fn ten_thousand_records_with_one_key_come_back_in_send_order() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("ordered", 6)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("linger.ms", "20")
        .set("batch.num.messages", "1000")
        .set("partitioner", "murmur2_random")
        .create()
        .expect("producer");
    let count = 10_000;
    let pending: Vec<_> = (0..count)
        .map(|i| {
            let value = format!("{i:05}");
            producer
                .send_result(FutureRecord::to("ordered").key("same-key").payload(&value))
                .map_err(|(e, _)| e)
                .expect("enqueued")
        })
        .collect();
    let mut offsets = Vec::with_capacity(count);
    for delivery in pending {
        let d = delivery
            .await
            .expect("producer alive")
            .map_err(|(e, _)| e)
            .expect("delivered");
        offsets.push((d.partition, d.offset));
    }
    let partition = cluster.partition_for_key("ordered", b"same-key").unwrap();
    let expected_offsets: Vec<_> = (0..count as i64).map(|o| (partition, o)).collect();
    assert_eq!(offsets, expected_offsets, "delivery reports in send order");

    let expected: Vec<String> = (0..count).map(|i| format!("{i:05}")).collect();
    let stored: Vec<String> = cluster
        .partition_records("ordered", partition)
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    assert_eq!(stored, expected, "log order");
    assert_eq!(
        cluster.records("ordered").len(),
        count,
        "nothing in other partitions"
    );

    let consumer = stream_consumer(&cluster);
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("ordered", partition, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let consumed = consume(&consumer, count, DEADLINE).await;
    let read: Vec<String> = consumed
        .iter()
        .map(|m| String::from_utf8(m.payload().unwrap().to_vec()).unwrap())
        .collect();
    assert_eq!(read, expected, "consumption order");
}

#[tokio::test]
async fn consumer_reads_each_partition_of_a_multi_partition_topic_in_offset_order() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("spread", 6)
        .start()
        .unwrap();
    for p in 0..6 {
        let records: Vec<NewRecord> = (0..20)
            .map(|i| seeded(5_000 + i, Some(&format!("p{p}")), &format!("p{p}-{i}")))
            .collect();
        // Two batches per partition, so order must hold across batch boundaries too.
        cluster
            .produce_records("spread", p, &records[..10])
            .unwrap();
        cluster
            .produce_records("spread", p, &records[10..])
            .unwrap();
    }
    let consumer = stream_consumer(&cluster);
    assign_from_beginning(&consumer, "spread", 6);
    let consumed = consume(&consumer, 120, DEADLINE).await;
    for p in 0..6 {
        let offsets: Vec<i64> = consumed
            .iter()
            .filter(|m| m.partition() == p)
            .map(|m| m.offset())
            .collect();
        assert_eq!(offsets, (0..20).collect::<Vec<i64>>(), "partition {p}");
    }
    assert_eq!(to_sorted_records(&consumed), cluster.records("spread"));
}

#[tokio::test]
async fn record_larger_than_max_partition_fetch_bytes_is_still_delivered() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("bulky", 1)
        .start()
        .unwrap();
    let big = vec![b'b'; 200_000];
    cluster.produce("bulky", None, &big).unwrap();
    cluster.produce("bulky", None, b"small").unwrap();
    // Since KIP-74 a broker returns the first batch even if it exceeds the fetch limits,
    // so a consumer can always make progress.
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .set("max.partition.fetch.bytes", "1024")
        .set("fetch.max.bytes", "1024")
        .set("message.max.bytes", "1000")
        .set("receive.message.max.bytes", "1000000")
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, "bulky", 1);
    let consumed = consume(&consumer, 2, DEADLINE).await;
    assert_eq!(consumed[0].payload().map(<[u8]>::len), Some(big.len()));
    assert_eq!(consumed[1].payload(), Some(&b"small"[..]));
}

#[tokio::test]
async fn consumer_starting_inside_a_compressed_batch_skips_the_records_before_its_offset() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("packed", 1)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("compression.type", "lz4")
        .set("linger.ms", "100")
        .create()
        .expect("producer");
    let pending: Vec<_> = (0..10)
        .map(|i| {
            let value = format!("v{i}");
            producer
                .send_result(FutureRecord::<(), _>::to("packed").payload(&value))
                .map_err(|(e, _)| e)
                .expect("enqueued")
        })
        .collect();
    for delivery in pending {
        delivery
            .await
            .expect("producer alive")
            .map_err(|(e, _)| e)
            .expect("delivered");
    }

    let consumer = stream_consumer(&cluster);
    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("packed", 0, Offset::Offset(6))
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let consumed = consume(&consumer, 4, DEADLINE).await;
    let got: Vec<_> = consumed
        .iter()
        .map(|m| (m.offset(), m.payload().map(<[u8]>::to_vec)))
        .collect();
    let want: Vec<_> = (6..10)
        .map(|i| (i, Some(format!("v{i}").into_bytes())))
        .collect();
    assert_eq!(got, want);
}

#[tokio::test]
async fn consumer_reaching_the_high_watermark_reports_partition_eof_there() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("finite", 2)
        .start()
        .unwrap();
    for i in 0..3 {
        cluster
            .produce_records("finite", 0, &[seeded(1_000 + i, None, &format!("v{i}"))])
            .unwrap();
    }
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .set("enable.partition.eof", "true")
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, "finite", 2);
    let mut offsets = Vec::new();
    let mut eof_at = std::collections::BTreeMap::new();
    let give_up = tokio::time::Instant::now() + DEADLINE;
    while eof_at.len() < 2 {
        match tokio::time::timeout_at(give_up, consumer.recv()).await {
            Ok(Ok(m)) => offsets.push((m.partition(), m.offset())),
            Ok(Err(rdkafka::error::KafkaError::PartitionEOF(p))) => {
                let position = consumer.position().unwrap();
                let at = position.find_partition("finite", p).map(|e| e.offset());
                eof_at.insert(p, at);
            }
            Ok(Err(e)) => panic!("consumer error: {e}"),
            Err(_) => panic!("timed out; EOF so far: {eof_at:?}, read {offsets:?}"),
        }
    }
    assert_eq!(offsets, vec![(0, 0), (0, 1), (0, 2)]);
    // An empty partition is at EOF at once; the other after its last record.
    assert_eq!(eof_at.get(&0), Some(&Some(Offset::Offset(3))));
    assert!(eof_at.contains_key(&1), "{eof_at:?}");
}
