//! Metadata over the wire: brokers, topics, partitions, auto-creation, topic ids, and
//! determinism.
//!
//! Kafka auto-creates a missing topic named in a Metadata request when the broker allows it
//! (`auto.create.topics.enable`) and, from v4, the request does too
//! (`allow_auto_topic_creation`); otherwise the topic is UNKNOWN_TOPIC_OR_PARTITION. An
//! illegal name is INVALID_TOPIC_EXCEPTION either way. From v12 topics may be given by id
//! (unknown → UNKNOWN_TOPIC_ID); v10 and v11 carry the id field but Kafka refuses ids there
//! with INVALID_REQUEST. A newly created topic answers LEADER_NOT_AVAILABLE in Kafka until
//! its metadata propagates; broker-sim creates instantly and may answer NONE.

mod support;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, MetadataResponse};
use support::*;

fn auto_create_request(topic: &str, allow: bool) -> MetadataRequest {
    metadata_request(&[topic]).with_allow_auto_topic_creation(allow)
}

fn by_id(id: uuid::Uuid) -> MetadataRequest {
    MetadataRequest::default().with_topics(Some(vec![
        MetadataRequestTopic::default().with_topic_id(id),
    ]))
}

/// The error codes Kafka may answer for a topic it just auto-created.
fn assert_auto_created(code: i16, context: &str) {
    assert!(
        code == 0 || code == ResponseError::LeaderNotAvailable.code(),
        "{context}: expected NONE or LEADER_NOT_AVAILABLE, got {code}"
    );
}

#[test]
fn metadata_lists_every_broker_and_a_controller_among_them() {
    let cluster = Cluster::builder().brokers(3).topic("t", 3).start().unwrap();
    for version in [0, 1, 9, 13] {
        let response = metadata(&mut Conn::to_broker(&cluster, 2), version, &["t"]);
        let mut brokers: Vec<(i32, String, i32)> = response
            .brokers
            .iter()
            .map(|b| (b.node_id.0, b.host.to_string(), b.port))
            .collect();
        brokers.sort();
        let expected: Vec<(i32, String, i32)> = cluster
            .brokers()
            .into_iter()
            .map(|b| (b.id, b.host, b.port))
            .collect();
        assert_eq!(brokers, expected, "v{version}");
        if version >= 1 {
            let controller = response.controller_id.0;
            assert!(
                (1..=3).contains(&controller),
                "v{version}: controller {controller}"
            );
        }
        if version >= 2 {
            assert_eq!(
                response.cluster_id.as_ref().map(|c| c.to_string()),
                Some(cluster.cluster_id()),
                "v{version}"
            );
        }
    }
}

#[test]
fn metadata_partitions_are_sorted_with_the_leader_among_replicas_and_isr() {
    let cluster = Cluster::builder().brokers(3).topic("t", 6).start().unwrap();
    let response = metadata(&mut Conn::to_broker(&cluster, 1), 12, &["t"]);
    let t = &response.topics[0];
    assert_no_error(t.error_code, "t");
    let indexes: Vec<i32> = t.partitions.iter().map(|p| p.partition_index).collect();
    assert_eq!(indexes, (0..6).collect::<Vec<_>>());
    for p in &t.partitions {
        assert_no_error(p.error_code, &format!("partition {}", p.partition_index));
        assert!(p.replica_nodes.contains(&p.leader_id), "{p:?}");
        assert!(p.isr_nodes.contains(&p.leader_id), "{p:?}");
        assert_eq!(p.replica_nodes.len(), 3, "{p:?}");
        assert_eq!(p.leader_id.0, leader(&cluster, "t", p.partition_index));
    }
}

#[test]
fn metadata_auto_creates_a_missing_topic_when_the_cluster_and_request_allow_it() {
    let cluster = Cluster::builder()
        .brokers(3)
        .default_partitions(2)
        .start()
        .unwrap();
    let response = Conn::to_broker(&cluster, 1).send(12, &auto_create_request("fresh", true));
    assert_auto_created(response.topics[0].error_code, "v12 allow=true");
    assert_eq!(cluster.partitions("fresh").map(|p| p.len()), Some(2));
    // Before v4 there is no flag: auto-creation is the broker's call alone.
    let response = metadata(&mut Conn::to_broker(&cluster, 1), 3, &["older"]);
    assert_auto_created(response.topics[0].error_code, "v3");
    assert!(cluster.partitions("older").is_some());
}

#[test]
fn metadata_does_not_auto_create_when_the_request_says_no() {
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    for version in [4, 12] {
        let response =
            Conn::to_broker(&cluster, 1).send(version, &auto_create_request("absent", false));
        assert_error(
            response.topics[0].error_code,
            ResponseError::UnknownTopicOrPartition,
            &format!("v{version} allow=false"),
        );
    }
    assert!(cluster.topics().is_empty());
}

#[test]
fn metadata_does_not_auto_create_when_the_cluster_says_no() {
    let cluster = Cluster::builder()
        .brokers(3)
        .auto_create_topics(false)
        .start()
        .unwrap();
    for version in [0, 3, 12] {
        let request = auto_create_request("absent", true);
        let response = Conn::to_broker(&cluster, 1).send(version, &request);
        assert_error(
            response.topics[0].error_code,
            ResponseError::UnknownTopicOrPartition,
            &format!("v{version}"),
        );
    }
    assert!(cluster.topics().is_empty());
}

#[test]
fn metadata_for_an_illegal_topic_name_is_invalid_topic_exception() {
    for auto_create in [true, false] {
        let cluster = Cluster::builder()
            .brokers(1)
            .auto_create_topics(auto_create)
            .start()
            .unwrap();
        for bad in ["has space", "..", "a/b"] {
            let response = Conn::to_broker(&cluster, 1).send(12, &auto_create_request(bad, true));
            assert_error(
                response.topics[0].error_code,
                ResponseError::InvalidTopicException,
                &format!("{bad:?} with auto-create {auto_create}"),
            );
        }
        assert!(cluster.topics().is_empty());
    }
}

#[test]
fn metadata_v12_and_later_look_topics_up_by_id() {
    let cluster = Cluster::builder().brokers(3).topic("t", 2).start().unwrap();
    let id = topic_id(&cluster, "t");
    for version in [12, 13] {
        let response = Conn::to_broker(&cluster, 1).send(version, &by_id(id));
        let t = &response.topics[0];
        assert_no_error(t.error_code, &format!("v{version}"));
        assert_eq!(t.name.as_ref().map(|n| n.0.to_string()), Some("t".into()));
        assert_eq!(t.topic_id, id);
        assert_eq!(t.partitions.len(), 2);

        let unknown = uuid::Uuid::from_u128(11);
        let response = Conn::to_broker(&cluster, 1).send(version, &by_id(unknown));
        let t = &response.topics[0];
        assert_error(
            t.error_code,
            ResponseError::UnknownTopicId,
            &format!("v{version} unknown id"),
        );
        assert_eq!(t.topic_id, unknown);
    }
}

#[test]
fn metadata_topic_ids_before_v12_are_invalid_request() {
    let cluster = Cluster::builder().brokers(3).topic("t", 2).start().unwrap();
    let id = topic_id(&cluster, "t");
    for version in [10, 11] {
        let response = Conn::to_broker(&cluster, 1).send(version, &by_id(id));
        assert_error(
            response.topics[0].error_code,
            ResponseError::InvalidRequest,
            &format!("v{version}"),
        );
    }
}

#[test]
fn metadata_with_a_null_topic_list_lists_every_topic_and_an_empty_one_none() {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("a", 1)
        .topic("b", 1)
        .start()
        .unwrap();
    let names = |r: &MetadataResponse| -> Vec<String> {
        let mut n: Vec<String> = r
            .topics
            .iter()
            .map(|t| t.name.as_ref().unwrap().0.to_string())
            .collect();
        n.sort();
        n
    };
    let all = Conn::to_broker(&cluster, 1).send(12, &MetadataRequest::default().with_topics(None));
    assert_eq!(names(&all), vec!["a", "b"]);
    let none = Conn::to_broker(&cluster, 1).send(12, &metadata_request(&[]));
    assert!(none.topics.is_empty());
    // v0 has no null list: an empty one means every topic.
    let v0 = Conn::to_broker(&cluster, 1).send(0, &metadata_request(&[]));
    assert_eq!(names(&v0), vec!["a", "b"]);
}

/// A Metadata v12 answer with every broker port replaced by its broker id, so answers from
/// clusters on different ports compare equal when nothing else differs.
fn metadata_without_ports(cluster: &Cluster) -> MetadataResponse {
    let mut response =
        Conn::to_broker(cluster, 1).send(12, &MetadataRequest::default().with_topics(None));
    for b in &mut response.brokers {
        b.port = b.node_id.0;
    }
    response
}

fn seeded(seed: u64) -> Cluster {
    Cluster::builder()
        .brokers(3)
        .seed(seed)
        .topic("orders", 6)
        .topic("payments", 3)
        .start()
        .unwrap()
}

#[test]
fn same_seed_and_topics_give_identical_metadata() {
    let a = seeded(7);
    let b = seeded(7);
    let (ma, mb) = (metadata_without_ports(&a), metadata_without_ports(&b));
    assert_eq!(ma, mb);
    assert_eq!(ma.topics.len(), 2);
    assert!(ma.topics.iter().all(|t| !t.topic_id.is_nil()));
    // The comparison has teeth: another seed gives other identifiers.
    let c = seeded(8);
    assert_ne!(c.cluster_id(), a.cluster_id());
    assert_ne!(metadata_without_ports(&c), ma);
}

/// CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE, ALTER,
/// DESCRIBE: what Kafka reports for the cluster resource without an authorizer.
const ALL_CLUSTER_OPERATIONS: i32 = 8096;

#[test]
fn cluster_authorized_operations_are_reported_only_when_asked() {
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    for version in 8..=10 {
        let asked = conn.send(
            version,
            &metadata_request(&[]).with_include_cluster_authorized_operations(true),
        );
        assert_eq!(
            asked.cluster_authorized_operations, ALL_CLUSTER_OPERATIONS,
            "v{version}"
        );
        let not_asked = conn.send(version, &metadata_request(&[]));
        assert_eq!(
            not_asked.cluster_authorized_operations,
            i32::MIN,
            "v{version}"
        );
    }
    for version in 0..=2 {
        let asked = conn.send(
            version,
            &kafka_protocol::messages::DescribeClusterRequest::default()
                .with_endpoint_type(1)
                .with_include_cluster_authorized_operations(true),
        );
        assert_eq!(
            asked.cluster_authorized_operations, ALL_CLUSTER_OPERATIONS,
            "v{version}"
        );
    }
}

#[test]
fn a_topic_named_many_times_is_described_once() {
    // An amplification reproducer: a small request naming a big topic again and again.
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("big", 1000)
        .start()
        .unwrap();
    let names: Vec<&str> = std::iter::repeat_n("big", 400).collect();
    let response = Conn::to_broker(&cluster, 1).send(12, &metadata_request(&names));
    assert_eq!(response.topics.len(), 1);
    assert_eq!(response.topics[0].partitions.len(), 1000);
}
