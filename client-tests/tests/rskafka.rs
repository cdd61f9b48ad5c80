//! rskafka, a pure-Rust client with its own protocol code: produce, fetch, offsets and
//! record deletion through a partition client, and topic administration through the
//! controller client.
//!
//! rskafka speaks older request versions than librdkafka (Produce ≤ 7, Fetch exactly v4,
//! Metadata ≤ 4, ListOffsets ≤ 3), so these tests also cover the low end of broker-sim's
//! version ranges.

use std::collections::{BTreeMap, BTreeSet};

use broker_sim::Cluster;
use client_tests::{init_tracing, rskafka_client};
use rskafka::chrono::{TimeZone, Utc};
use rskafka::client::error::{Error, ProtocolError};
use rskafka::client::partition::{Compression, OffsetAt, PartitionClient, UnknownTopicHandling};
use rskafka::record::Record;

fn record(i: i64) -> Record {
    Record {
        key: Some(format!("key-{i}").into_bytes()),
        value: Some(format!("value-{i}").into_bytes()),
        headers: BTreeMap::from([
            ("index".to_string(), i.to_string().into_bytes()),
            ("empty".to_string(), Vec::new()),
        ]),
        timestamp: Utc.timestamp_millis_opt(1_700_000_000_000 + i).unwrap(),
    }
}

async fn partition_client(cluster: &Cluster, topic: &str, partition: i32) -> PartitionClient {
    rskafka_client(&cluster.bootstrap_servers())
        .await
        .partition_client(topic, partition, UnknownTopicHandling::Retry)
        .await
        .expect("partition client")
}

/// Produces five records with `compression` to `partition`, fetches them back, and checks
/// both the fetched records and the cluster's log against what was sent.
async fn produce_and_fetch(cluster: &Cluster, partition: i32, compression: Compression) {
    let client = partition_client(cluster, "rs", partition).await;
    let sent: Vec<Record> = (0..5).map(record).collect();
    let offsets = client
        .produce(sent.clone(), compression)
        .await
        .expect("produce");
    assert_eq!(offsets, vec![0, 1, 2, 3, 4], "{compression:?}");

    let (fetched, high_watermark) = client
        .fetch_records(0, 1..1_000_000, 1_000)
        .await
        .expect("fetch");
    assert_eq!(high_watermark, 5, "{compression:?}");
    assert_eq!(
        fetched.iter().map(|r| r.offset).collect::<Vec<_>>(),
        offsets
    );
    let fetched: Vec<Record> = fetched.into_iter().map(|r| r.record).collect();
    assert_eq!(fetched, sent, "{compression:?}");

    let stored = cluster.partition_records("rs", partition);
    assert_eq!(stored.len(), sent.len());
    for (s, r) in stored.iter().zip(&sent) {
        assert_eq!(s.key.as_deref(), r.key.as_deref());
        assert_eq!(s.value.as_deref(), r.value.as_deref());
        assert_eq!(s.timestamp, r.timestamp.timestamp_millis());
        let headers: BTreeMap<String, Vec<u8>> = s
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.as_deref().unwrap_or_default().to_vec()))
            .collect();
        assert_eq!(headers, r.headers);
    }
}

#[tokio::test]
async fn rskafka_uncompressed_produce_and_fetch_round_trip() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("rs", 1)
        .start()
        .unwrap();
    produce_and_fetch(&cluster, 0, Compression::NoCompression).await;
}

#[tokio::test]
async fn rskafka_compressed_produce_and_fetch_round_trip_for_every_codec() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("rs", 4)
        .start()
        .unwrap();
    produce_and_fetch(&cluster, 0, Compression::Gzip).await;
    produce_and_fetch(&cluster, 1, Compression::Lz4).await;
    produce_and_fetch(&cluster, 2, Compression::Snappy).await;
    produce_and_fetch(&cluster, 3, Compression::Zstd).await;
}

#[tokio::test]
async fn rskafka_fetch_from_the_middle_returns_records_from_that_offset() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("rs", 1)
        .start()
        .unwrap();
    let client = partition_client(&cluster, "rs", 0).await;
    // Three batches, so the fetch starts inside the second.
    client
        .produce((0..3).map(record).collect(), Compression::NoCompression)
        .await
        .unwrap();
    client
        .produce((3..6).map(record).collect(), Compression::NoCompression)
        .await
        .unwrap();
    client
        .produce((6..9).map(record).collect(), Compression::NoCompression)
        .await
        .unwrap();
    let (fetched, high_watermark) = client.fetch_records(4, 1..1_000_000, 1_000).await.unwrap();
    assert_eq!(high_watermark, 9);
    // A broker returns whole batches; rskafka drops the records before the offset asked.
    assert_eq!(
        fetched.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![4, 5, 6, 7, 8]
    );
    assert_eq!(fetched[0].record, record(4));
}

#[tokio::test]
async fn rskafka_fetch_past_the_high_watermark_fails_with_offset_out_of_range() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("rs", 1)
        .start()
        .unwrap();
    let client = partition_client(&cluster, "rs", 0).await;
    client
        .produce(vec![record(0)], Compression::NoCompression)
        .await
        .unwrap();
    let error = client
        .fetch_records(10, 1..1_000_000, 100)
        .await
        .expect_err("offset 10 is past the end of a 1-record log");
    assert!(
        matches!(
            error,
            Error::ServerError {
                protocol_error: ProtocolError::OffsetOutOfRange,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn rskafka_earliest_and_latest_offsets_follow_produce_and_delete_records() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("rs", 1)
        .start()
        .unwrap();
    let client = partition_client(&cluster, "rs", 0).await;
    assert_eq!(client.get_offset(OffsetAt::Earliest).await.unwrap(), 0);
    assert_eq!(client.get_offset(OffsetAt::Latest).await.unwrap(), 0);

    client
        .produce((0..8).map(record).collect(), Compression::NoCompression)
        .await
        .unwrap();
    assert_eq!(client.get_offset(OffsetAt::Latest).await.unwrap(), 8);

    client
        .delete_records(5, 5_000)
        .await
        .expect("delete records");
    assert_eq!(client.get_offset(OffsetAt::Earliest).await.unwrap(), 5);
    assert_eq!(client.get_offset(OffsetAt::Latest).await.unwrap(), 8);
    assert_eq!(cluster.partitions("rs").unwrap()[0].log_start_offset, 5);
    let (fetched, _) = client.fetch_records(5, 1..1_000_000, 1_000).await.unwrap();
    assert_eq!(
        fetched.iter().map(|r| r.offset).collect::<Vec<_>>(),
        vec![5, 6, 7]
    );
}

#[tokio::test]
async fn rskafka_timestamp_offset_lookup_finds_the_first_record_at_or_after_it() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("rs", 1)
        .start()
        .unwrap();
    let client = partition_client(&cluster, "rs", 0).await;
    // record(i) is stamped 1_700_000_000_000 + i.
    client
        .produce((0..5).map(record).collect(), Compression::NoCompression)
        .await
        .unwrap();
    let at = |ms| OffsetAt::Timestamp(Utc.timestamp_millis_opt(ms).unwrap());
    assert_eq!(client.get_offset(at(1_700_000_000_003)).await.unwrap(), 3);
    assert_eq!(client.get_offset(at(0)).await.unwrap(), 0);
}

#[tokio::test]
async fn rskafka_partition_client_for_an_unknown_topic_fails_with_unknown_topic_or_partition() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .auto_create_topics(false)
        .start()
        .unwrap();
    let error = rskafka_client(&cluster.bootstrap_servers())
        .await
        .partition_client("nope", 0, UnknownTopicHandling::Error)
        .await
        .map(|_| ())
        .expect_err("no such topic");
    assert!(
        matches!(
            error,
            Error::ServerError {
                protocol_error: ProtocolError::UnknownTopicOrPartition,
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn rskafka_controller_creates_topics_that_list_topics_then_shows() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("existing", 2)
        .start()
        .unwrap();
    let client = rskafka_client(&cluster.bootstrap_servers()).await;
    let controller = client.controller_client().expect("controller client");
    controller
        .create_topic("made-by-rskafka", 5, 3, 5_000)
        .await
        .expect("create topic");

    let partitions = cluster.partitions("made-by-rskafka").expect("topic exists");
    assert_eq!(partitions.len(), 5);
    assert!(
        partitions.iter().all(|p| p.replicas.len() == 3),
        "{partitions:?}"
    );

    let mut listed: Vec<(String, BTreeSet<i32>)> = client
        .list_topics()
        .await
        .expect("list topics")
        .into_iter()
        .map(|t| (t.name, t.partitions))
        .collect();
    listed.sort();
    assert_eq!(
        listed,
        vec![
            ("existing".to_string(), BTreeSet::from([0, 1])),
            (
                "made-by-rskafka".to_string(),
                BTreeSet::from([0, 1, 2, 3, 4])
            ),
        ]
    );

    // The new topic is usable at once.
    let partition = client
        .partition_client("made-by-rskafka", 4, UnknownTopicHandling::Retry)
        .await
        .unwrap();
    assert_eq!(
        partition
            .produce(vec![record(0)], Compression::NoCompression)
            .await
            .unwrap(),
        vec![0]
    );
    assert_eq!(cluster.partition_records("made-by-rskafka", 4).len(), 1);
}

#[tokio::test]
async fn rskafka_controller_create_topic_for_an_existing_name_fails_with_topic_already_exists() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("taken", 1)
        .start()
        .unwrap();
    let client = rskafka_client(&cluster.bootstrap_servers()).await;
    let error = client
        .controller_client()
        .unwrap()
        .create_topic("taken", 3, 1, 5_000)
        .await
        .expect_err("name is taken");
    assert!(
        matches!(
            error,
            Error::ServerError {
                protocol_error: ProtocolError::TopicAlreadyExists,
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(cluster.partitions("taken").map(|p| p.len()), Some(1));
}

#[tokio::test]
async fn rskafka_controller_deletes_topics() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("doomed", 3)
        .start()
        .unwrap();
    let client = rskafka_client(&cluster.bootstrap_servers()).await;
    client
        .controller_client()
        .unwrap()
        .delete_topic("doomed", 5_000)
        .await
        .expect("delete topic");
    assert!(cluster.topics().is_empty(), "{:?}", cluster.topics());
    assert!(client.list_topics().await.unwrap().is_empty());
}
