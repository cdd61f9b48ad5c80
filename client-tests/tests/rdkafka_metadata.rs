//! Cluster metadata through librdkafka: brokers, partition leaders/replicas/ISR, unknown
//! topics, and auto-creation honouring the request's `allow_auto_topic_creation`.
//!
//! Every answer is compared with the cluster's own view (`Cluster::brokers`,
//! `Cluster::partitions`, `Cluster::topics`).

use broker_sim::Cluster;
use client_tests::{DEADLINE, base_consumer, init_tracing, producer_config};
use rdkafka::consumer::Consumer;
use rdkafka::producer::{FutureProducer, Producer};
use rdkafka::types::RDKafkaRespErr;

#[tokio::test]
async fn metadata_lists_every_broker_with_its_id_host_and_port() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("orders", 6)
        .start()
        .unwrap();
    let metadata = base_consumer(&cluster)
        .fetch_metadata(None, DEADLINE)
        .expect("metadata");
    let mut brokers: Vec<(i32, String, i32)> = metadata
        .brokers()
        .iter()
        .map(|b| (b.id(), b.host().to_string(), b.port()))
        .collect();
    brokers.sort();
    let expected: Vec<(i32, String, i32)> = cluster
        .brokers()
        .into_iter()
        .map(|b| (b.id, b.host, b.port))
        .collect();
    assert_eq!(brokers, expected);
    assert_eq!(
        expected.iter().map(|b| b.0).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
}

#[tokio::test]
async fn metadata_partition_leaders_replicas_and_isr_match_the_cluster() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("orders", 6)
        .topic("single", 1)
        .start()
        .unwrap();
    let metadata = base_consumer(&cluster)
        .fetch_metadata(None, DEADLINE)
        .expect("metadata");
    let mut listed: Vec<&str> = metadata.topics().iter().map(|t| t.name()).collect();
    listed.sort();
    assert_eq!(listed, cluster.topics());

    for topic in metadata.topics() {
        assert_eq!(topic.error(), None, "topic {}", topic.name());
        let expected = cluster
            .partitions(topic.name())
            .expect("cluster knows topic");
        let mut got: Vec<_> = topic
            .partitions()
            .iter()
            .map(|p| {
                assert_eq!(p.error(), None, "{}/{}", topic.name(), p.id());
                (p.id(), p.leader(), p.replicas().to_vec(), p.isr().to_vec())
            })
            .collect();
        got.sort();
        let want: Vec<_> = expected
            .iter()
            .map(|p| (p.partition, p.leader, p.replicas.clone(), p.isr.clone()))
            .collect();
        assert_eq!(got, want, "topic {}", topic.name());
    }
    // Leadership is spread: a 6-partition topic on 3 brokers has more than one leader.
    let leaders: std::collections::BTreeSet<i32> = cluster
        .partitions("orders")
        .unwrap()
        .iter()
        .map(|p| p.leader)
        .collect();
    assert!(leaders.len() > 1, "{leaders:?}");
}

#[tokio::test]
async fn metadata_for_an_unknown_topic_reports_unknown_topic_or_partition() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .auto_create_topics(false)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    // A producer's metadata request allows auto-creation; the broker must refuse it here.
    let metadata = producer
        .client()
        .fetch_metadata(Some("nope"), DEADLINE)
        .expect("metadata");
    assert_eq!(metadata.topics().len(), 1);
    assert_eq!(metadata.topics()[0].name(), "nope");
    assert_eq!(
        metadata.topics()[0].error(),
        Some(RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    );
    assert!(cluster.topics().is_empty());
}

#[tokio::test]
async fn metadata_request_allowing_auto_creation_creates_the_topic() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .auto_create_topics(true)
        .default_partitions(4)
        .start()
        .unwrap();
    // librdkafka producers send allow_auto_topic_creation=true.
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .expect("producer");
    let metadata = producer
        .client()
        .fetch_metadata(Some("auto"), DEADLINE)
        .expect("metadata");
    assert_eq!(cluster.topics(), vec!["auto".to_string()]);
    assert_eq!(cluster.partitions("auto").map(|p| p.len()), Some(4));
    // Kafka answers the creating request with the topic (possibly LEADER_NOT_AVAILABLE
    // while it is being set up); a later request must see it fully.
    assert_eq!(metadata.topics()[0].name(), "auto");
    let again = producer
        .client()
        .fetch_metadata(Some("auto"), DEADLINE)
        .expect("metadata");
    assert_eq!(again.topics()[0].error(), None);
    assert_eq!(again.topics()[0].partitions().len(), 4);
}

#[tokio::test]
async fn metadata_request_disallowing_auto_creation_does_not_create_the_topic() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .auto_create_topics(true)
        .start()
        .unwrap();
    // librdkafka consumers send allow_auto_topic_creation=false by default.
    let metadata = base_consumer(&cluster)
        .fetch_metadata(Some("not-wanted"), DEADLINE)
        .expect("metadata");
    assert_eq!(
        metadata.topics()[0].error(),
        Some(RDKafkaRespErr::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    );
    assert!(cluster.topics().is_empty(), "{:?}", cluster.topics());
}
