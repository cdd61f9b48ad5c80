//! Administration through librdkafka's AdminClient: CreateTopics, CreatePartitions,
//! DeleteTopics, DescribeConfigs and DeleteRecords. Metadata is in `rdkafka_metadata.rs`.
//!
//! Every admin call is checked twice: by the result the client reports and by the state
//! the cluster ends up in, so a broker that answers "ok" without acting fails.

use std::time::Duration;

use broker_sim::Cluster;
use client_tests::{
    DEADLINE, admin_config, base_consumer, consume, consumer_config, init_tracing, producer_config,
    wait_until,
};
use rdkafka::admin::{
    AdminClient, AdminOptions, ConfigResource, ConfigSource, NewPartitions, NewTopic,
    ResourceSpecifier, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};

fn admin(cluster: &Cluster) -> AdminClient<DefaultClientContext> {
    admin_config(&cluster.bootstrap_servers())
        .create()
        .expect("admin client")
}

fn options() -> AdminOptions {
    AdminOptions::new().request_timeout(Some(Duration::from_secs(10)))
}

// ---- CreateTopics / CreatePartitions / DeleteTopics --------------------------------------

#[tokio::test]
async fn create_topics_creates_partitions_replicas_and_configs() {
    init_tracing();
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    let admin = admin(&cluster);
    let topic = NewTopic::new("created", 4, TopicReplication::Fixed(2))
        .set("max.message.bytes", "5000")
        .set("retention.ms", "3600000");
    let results = admin
        .create_topics([&topic], &options())
        .await
        .expect("request");
    assert_eq!(results, vec![Ok("created".to_string())]);

    let partitions = cluster.partitions("created").expect("topic exists");
    assert_eq!(partitions.len(), 4);
    for p in &partitions {
        assert_eq!(p.replicas.len(), 2, "{p:?}");
        assert!(p.replicas.contains(&p.leader), "{p:?}");
    }
    let described = describe_topic(&admin, "created").await;
    assert_eq!(value_of(&described, "max.message.bytes"), "5000");
    assert_eq!(value_of(&described, "retention.ms"), "3600000");

    // The config is in force, not just stored: a 6,000-byte record is now too large.
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("message.max.bytes", "2000000")
        .create()
        .expect("producer");
    let value = vec![b'x'; 6_000];
    let error = producer
        .send(
            FutureRecord::<(), _>::to("created")
                .partition(0)
                .payload(&value),
            rdkafka::util::Timeout::Never,
        )
        .await
        .map_err(|(e, _)| e)
        .expect_err("over the created topic's max.message.bytes");
    assert_eq!(
        error.rdkafka_error_code(),
        Some(RDKafkaErrorCode::MessageSizeTooLarge)
    );
}

#[tokio::test]
async fn create_topics_with_a_replica_assignment_places_replicas_and_leaders_as_asked() {
    init_tracing();
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    let assignment: &[&[i32]] = &[&[2, 3], &[3, 1], &[1, 2]];
    let topic = NewTopic::new("placed", 3, TopicReplication::Variable(assignment));
    let results = admin(&cluster)
        .create_topics([&topic], &options())
        .await
        .expect("request");
    assert_eq!(results, vec![Ok("placed".to_string())]);
    let partitions = cluster.partitions("placed").expect("topic exists");
    let got: Vec<(i32, Vec<i32>)> = partitions
        .iter()
        .map(|p| (p.leader, p.replicas.clone()))
        .collect();
    // The preferred leader is the first replica listed.
    assert_eq!(got, vec![(2, vec![2, 3]), (3, vec![3, 1]), (1, vec![1, 2])]);
}

#[tokio::test]
async fn topic_deleted_and_created_again_starts_empty() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("phoenix", 1)
        .start()
        .unwrap();
    for i in 0..4 {
        cluster
            .produce("phoenix", None, format!("old-{i}").as_bytes())
            .unwrap();
    }
    let admin = admin(&cluster);
    let deleted = admin
        .delete_topics(&["phoenix"], &options())
        .await
        .expect("request");
    assert_eq!(deleted, vec![Ok("phoenix".to_string())]);
    let topic = NewTopic::new("phoenix", 2, TopicReplication::Fixed(1));
    let created = admin
        .create_topics([&topic], &options())
        .await
        .expect("request");
    assert_eq!(created, vec![Ok("phoenix".to_string())]);

    let partitions = cluster.partitions("phoenix").unwrap();
    assert_eq!(partitions.len(), 2);
    assert!(
        partitions
            .iter()
            .all(|p| p.high_watermark == 0 && p.log_start_offset == 0)
    );
    let consumer = base_consumer(&cluster);
    assert_eq!(
        consumer.fetch_watermarks("phoenix", 0, DEADLINE).unwrap(),
        (0, 0)
    );
}

#[tokio::test]
async fn create_topics_for_an_existing_name_fails_with_topic_already_exists() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("taken", 2)
        .start()
        .unwrap();
    let topic = NewTopic::new("taken", 5, TopicReplication::Fixed(1));
    let results = admin(&cluster)
        .create_topics([&topic], &options())
        .await
        .expect("request");
    assert_eq!(
        results,
        vec![Err((
            "taken".to_string(),
            RDKafkaErrorCode::TopicAlreadyExists
        ))]
    );
    assert_eq!(
        cluster.partitions("taken").map(|p| p.len()),
        Some(2),
        "unchanged"
    );
}

#[tokio::test]
async fn create_topics_with_more_replicas_than_brokers_fails_with_invalid_replication_factor() {
    init_tracing();
    let cluster = Cluster::builder().brokers(2).start().unwrap();
    let topic = NewTopic::new("wide", 1, TopicReplication::Fixed(3));
    let results = admin(&cluster)
        .create_topics([&topic], &options())
        .await
        .expect("request");
    assert_eq!(
        results,
        vec![Err((
            "wide".to_string(),
            RDKafkaErrorCode::InvalidReplicationFactor
        ))]
    );
    assert!(cluster.topics().is_empty());
}

#[tokio::test]
async fn create_topics_with_an_unknown_config_fails_with_invalid_config() {
    init_tracing();
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    let topic = NewTopic::new("odd", 1, TopicReplication::Fixed(1)).set("no.such.config", "1");
    let results = admin(&cluster)
        .create_topics([&topic], &options())
        .await
        .expect("request");
    assert_eq!(
        results,
        vec![Err(("odd".to_string(), RDKafkaErrorCode::InvalidConfig))]
    );
    assert!(cluster.topics().is_empty());
}

#[tokio::test]
async fn create_topics_validate_only_creates_nothing() {
    init_tracing();
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    let topic = NewTopic::new("dry-run", 3, TopicReplication::Fixed(1));
    let results = admin(&cluster)
        .create_topics([&topic], &options().validate_only(true))
        .await
        .expect("request");
    assert_eq!(results, vec![Ok("dry-run".to_string())]);
    assert!(cluster.topics().is_empty(), "{:?}", cluster.topics());
}

#[tokio::test]
async fn create_partitions_grows_the_topic_and_new_partitions_take_records() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("growing", 2)
        .start()
        .unwrap();
    let admin = admin(&cluster);
    let results = admin
        .create_partitions([&NewPartitions::new("growing", 5)], &options())
        .await
        .expect("request");
    assert_eq!(results, vec![Ok("growing".to_string())]);
    let partitions = cluster.partitions("growing").unwrap();
    assert_eq!(
        partitions.iter().map(|p| p.partition).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );

    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    let delivery = producer
        .send(
            FutureRecord::<(), _>::to("growing")
                .partition(4)
                .payload("in new partition"),
            rdkafka::util::Timeout::Never,
        )
        .await
        .map_err(|(e, _)| e)
        .expect("delivered to partition 4");
    assert_eq!((delivery.partition, delivery.offset), (4, 0));
    assert_eq!(cluster.partition_records("growing", 4).len(), 1);
}

#[tokio::test]
async fn create_partitions_cannot_shrink_a_topic() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("fixed", 3)
        .start()
        .unwrap();
    let results = admin(&cluster)
        .create_partitions([&NewPartitions::new("fixed", 2)], &options())
        .await
        .expect("request");
    assert_eq!(
        results,
        vec![Err((
            "fixed".to_string(),
            RDKafkaErrorCode::InvalidPartitions
        ))]
    );
    assert_eq!(cluster.partitions("fixed").map(|p| p.len()), Some(3));
}

#[tokio::test]
async fn delete_topics_removes_the_topic_and_its_records() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("doomed", 3)
        .topic("kept", 1)
        .auto_create_topics(false)
        .start()
        .unwrap();
    cluster.produce("doomed", None, b"bye").unwrap();
    let admin = admin(&cluster);
    let results = admin
        .delete_topics(&["doomed"], &options())
        .await
        .expect("request");
    assert_eq!(results, vec![Ok("doomed".to_string())]);
    assert_eq!(cluster.topics(), vec!["kept".to_string()]);
    assert!(cluster.records("doomed").is_empty());

    // Metadata agrees the topic is gone.
    let consumer = base_consumer(&cluster);
    wait_until(
        DEADLINE,
        "metadata to stop listing the deleted topic",
        || {
            consumer
                .fetch_metadata(None, DEADLINE)
                .is_ok_and(|m| m.topics().iter().all(|t| t.name() != "doomed"))
        },
    )
    .await;
}

#[tokio::test]
async fn delete_topics_for_an_unknown_topic_fails_with_unknown_topic_or_partition() {
    init_tracing();
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    let results = admin(&cluster)
        .delete_topics(&["ghost"], &options())
        .await
        .expect("request");
    assert_eq!(
        results,
        vec![Err((
            "ghost".to_string(),
            RDKafkaErrorCode::UnknownTopicOrPartition
        ))]
    );
}

// ---- DescribeConfigs ---------------------------------------------------------------------

async fn describe_topic(admin: &AdminClient<DefaultClientContext>, topic: &str) -> ConfigResource {
    let mut results = admin
        .describe_configs([&ResourceSpecifier::Topic(topic)], &options())
        .await
        .expect("request");
    assert_eq!(results.len(), 1);
    results.remove(0).expect("topic described")
}

fn value_of<'a>(resource: &'a ConfigResource, name: &str) -> &'a str {
    resource
        .get(name)
        .unwrap_or_else(|| panic!("{name} not described"))
        .value
        .as_deref()
        .unwrap_or_else(|| panic!("{name} has no value"))
}

#[tokio::test]
async fn describe_configs_reports_topic_defaults_as_default_and_overrides_as_dynamic() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("plain", 1)
        .topic_with_configs("tuned", 1, &[("max.message.bytes", "10000")])
        .start()
        .unwrap();
    let admin = admin(&cluster);

    let plain = describe_topic(&admin, "plain").await;
    let entry = plain.get("max.message.bytes").expect("listed");
    assert_eq!(entry.value.as_deref(), Some("1048588"));
    assert_eq!(entry.source, ConfigSource::Default);
    assert!(entry.is_default);
    assert_eq!(value_of(&plain, "cleanup.policy"), "delete");

    let tuned = describe_topic(&admin, "tuned").await;
    let entry = tuned.get("max.message.bytes").expect("listed");
    assert_eq!(entry.value.as_deref(), Some("10000"));
    assert_eq!(entry.source, ConfigSource::DynamicTopic);
    assert!(!entry.is_default);
    // Everything not overridden still shows Kafka's default.
    assert_eq!(
        tuned.get("retention.ms").map(|e| &e.source),
        Some(&ConfigSource::Default)
    );
}

#[tokio::test]
async fn describe_configs_for_an_unknown_topic_describes_nothing() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .auto_create_topics(false)
        .start()
        .unwrap();
    let results = admin(&cluster)
        .describe_configs([&ResourceSpecifier::Topic("ghost")], &options())
        .await
        .expect("request");
    // Kafka answers UNKNOWN_TOPIC_OR_PARTITION for the resource, but rust-rdkafka 0.39
    // drops per-resource errors of DescribeConfigs (it never reads
    // rd_kafka_ConfigResource_error), so all that is observable is an empty resource.
    assert_eq!(results.len(), 1);
    match &results[0] {
        Ok(resource) => assert!(resource.entries.is_empty(), "{:?}", resource.entries),
        Err(code) => assert_eq!(*code, RDKafkaErrorCode::UnknownTopicOrPartition),
    }
    assert!(cluster.topics().is_empty());
}

#[tokio::test]
async fn describe_configs_for_a_broker_lists_its_configs() {
    init_tracing();
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    let mut results = admin(&cluster)
        .describe_configs([&ResourceSpecifier::Broker(1)], &options())
        .await
        .expect("request");
    assert_eq!(results.len(), 1);
    let broker = results.remove(0).expect("broker 1 described");
    assert!(!broker.entries.is_empty());
    assert_eq!(value_of(&broker, "message.max.bytes"), "1048588");
    assert_eq!(value_of(&broker, "auto.create.topics.enable"), "true");
}

// ---- DeleteRecords -----------------------------------------------------------------------

#[tokio::test]
async fn delete_records_moves_the_log_start_offset_and_consumers_start_there() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("trimmed", 2)
        .start()
        .unwrap();
    for i in 0..10 {
        let record = broker_sim::NewRecord {
            timestamp: 1_000 * (i + 1),
            key: None,
            value: Some(format!("v{i}").into()),
            headers: Vec::new(),
        };
        cluster.produce_records("trimmed", 0, &[record]).unwrap();
    }
    let mut before = TopicPartitionList::new();
    before
        .add_partition_offset("trimmed", 0, Offset::Offset(6))
        .unwrap();
    let result = admin(&cluster)
        .delete_records(&before, &options())
        .await
        .expect("delete records");
    let entry = result
        .find_partition("trimmed", 0)
        .expect("partition in result");
    assert!(entry.error().is_ok(), "{:?}", entry.error());
    assert_eq!(entry.offset(), Offset::Offset(6), "new low watermark");

    let info = &cluster.partitions("trimmed").unwrap()[0];
    assert_eq!((info.log_start_offset, info.high_watermark), (6, 10));
    assert_eq!(
        cluster
            .partition_records("trimmed", 0)
            .iter()
            .map(|r| r.offset)
            .collect::<Vec<_>>(),
        vec![6, 7, 8, 9]
    );

    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .expect("consumer");
    assert_eq!(
        consumer
            .fetch_watermarks("trimmed", 0, DEADLINE)
            .expect("watermarks"),
        (6, 10)
    );
    // The first record at or after t=0 is now the first one still in the log.
    let mut query = TopicPartitionList::new();
    query
        .add_partition_offset("trimmed", 0, Offset::Offset(0))
        .unwrap();
    let found = consumer
        .offsets_for_times(query, DEADLINE)
        .expect("offsets for times");
    assert_eq!(
        found.find_partition("trimmed", 0).unwrap().offset(),
        Offset::Offset(6)
    );

    let mut assignment = TopicPartitionList::new();
    assignment
        .add_partition_offset("trimmed", 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&assignment).unwrap();
    let consumed = consume(&consumer, 4, DEADLINE).await;
    assert_eq!(
        consumed.iter().map(|m| m.offset()).collect::<Vec<_>>(),
        vec![6, 7, 8, 9]
    );
}

#[tokio::test]
async fn delete_records_beyond_the_high_watermark_fails_with_offset_out_of_range() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("short", 1)
        .start()
        .unwrap();
    cluster.produce("short", None, b"only").unwrap();
    let mut before = TopicPartitionList::new();
    before
        .add_partition_offset("short", 0, Offset::Offset(5))
        .unwrap();
    let outcome = admin(&cluster).delete_records(&before, &options()).await;
    let code = match outcome {
        Ok(result) => match result
            .find_partition("short", 0)
            .expect("partition")
            .error()
        {
            Err(KafkaError::OffsetFetch(code)) | Err(KafkaError::AdminOp(code)) => Some(code),
            Err(other) => other.rdkafka_error_code(),
            Ok(()) => None,
        },
        Err(e) => e.rdkafka_error_code(),
    };
    assert_eq!(code, Some(RDKafkaErrorCode::OffsetOutOfRange));
    assert_eq!(cluster.partitions("short").unwrap()[0].log_start_offset, 0);
}

/// DeleteRecords with Offset::End (-1) means "up to the high watermark".
#[tokio::test]
async fn delete_records_to_the_end_empties_the_partition() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("emptied", 1)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    for i in 0..3 {
        let value = format!("v{i}");
        producer
            .send(
                FutureRecord::<(), _>::to("emptied").payload(&value),
                rdkafka::util::Timeout::Never,
            )
            .await
            .map_err(|(e, _)| e)
            .expect("delivered");
    }
    let mut before = TopicPartitionList::new();
    before
        .add_partition_offset("emptied", 0, Offset::End)
        .unwrap();
    let result = admin(&cluster)
        .delete_records(&before, &options())
        .await
        .expect("delete records");
    assert_eq!(
        result.find_partition("emptied", 0).unwrap().offset(),
        Offset::Offset(3)
    );
    let info = &cluster.partitions("emptied").unwrap()[0];
    assert_eq!((info.log_start_offset, info.high_watermark), (3, 3));
    assert!(cluster.records("emptied").is_empty());
    let consumer = base_consumer(&cluster);
    assert_eq!(
        consumer.fetch_watermarks("emptied", 0, DEADLINE).unwrap(),
        (3, 3)
    );
}
