//! Admin APIs over the wire: CreateTopics, DeleteTopics, CreatePartitions and
//! DescribeConfigs, each error answered per topic as Kafka 4.1's controller does.

mod support;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{
    CreatePartitionsRequest, CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest,
    DescribeConfigsRequest,
};
use support::*;

fn cluster() -> Cluster {
    Cluster::builder().brokers(3).topic("t", 3).start().unwrap()
}

fn topic(name_: &str, partitions: i32, replication_factor: i16) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(name(name_))
        .with_num_partitions(partitions)
        .with_replication_factor(replication_factor)
}

fn create(cluster: &Cluster, version: i16, request: CreateTopicsRequest) -> CreateTopicsResponse {
    Conn::to_broker(cluster, 2).send(version, &request.with_timeout_ms(10_000))
}

fn create_one(cluster: &Cluster, version: i16, t: CreatableTopic) -> CreatableTopicResult {
    let response = create(
        cluster,
        version,
        CreateTopicsRequest::default().with_topics(vec![t]),
    );
    assert_eq!(response.topics.len(), 1);
    response.topics[0].clone()
}

fn exists(cluster: &Cluster, topic: &str) -> bool {
    cluster.topics().iter().any(|t| t == topic)
}

#[test]
fn create_topics_with_an_illegal_name_is_invalid_topic_exception() {
    let cluster = cluster();
    let too_long = "x".repeat(250);
    for bad in ["has space", "", ".", "..", "ümlaut", &too_long] {
        for version in [2, 7] {
            let result = create_one(&cluster, version, topic(bad, 1, 1));
            assert_error(
                result.error_code,
                ResponseError::InvalidTopicException,
                &format!("v{version} {bad:?}"),
            );
        }
    }
}

#[test]
fn create_topics_of_an_existing_topic_is_topic_already_exists() {
    let cluster = cluster();
    let result = create_one(&cluster, 7, topic("t", 5, 1));
    assert_error(result.error_code, ResponseError::TopicAlreadyExists, "t");
    assert_eq!(cluster.partitions("t").unwrap().len(), 3, "t is unchanged");
}

#[test]
fn create_topics_with_no_partitions_is_invalid_partitions() {
    let cluster = cluster();
    for partitions in [0, -2] {
        let result = create_one(&cluster, 7, topic("empty", partitions, 1));
        assert_error(
            result.error_code,
            ResponseError::InvalidPartitions,
            &format!("{partitions} partitions"),
        );
    }
    assert!(!exists(&cluster, "empty"));
}

#[test]
fn create_topics_with_more_replicas_than_brokers_is_invalid_replication_factor() {
    let cluster = cluster();
    for rf in [4, 0] {
        let result = create_one(&cluster, 7, topic("wide", 1, rf));
        assert_error(
            result.error_code,
            ResponseError::InvalidReplicationFactor,
            &format!("replication factor {rf} on 3 brokers"),
        );
    }
    assert!(!exists(&cluster, "wide"));
}

#[test]
fn create_topics_with_an_unknown_or_mistyped_config_is_invalid_config() {
    let cluster = cluster();
    for (key, value) in [("no.such.config", "1"), ("retention.ms", "soon")] {
        let t = topic("configured", 1, 1).with_configs(vec![
            CreatableTopicConfig::default()
                .with_name(str_bytes(key))
                .with_value(Some(str_bytes(value))),
        ]);
        let result = create_one(&cluster, 7, t);
        assert_error(
            result.error_code,
            ResponseError::InvalidConfig,
            &format!("{key}={value}"),
        );
    }
    assert!(!exists(&cluster, "configured"));
}

#[test]
fn create_topics_validate_only_answers_like_a_create_but_creates_nothing() {
    let cluster = cluster();
    let request = CreateTopicsRequest::default()
        .with_validate_only(true)
        .with_topics(vec![topic("planned", 4, 2)]);
    let result = create(&cluster, 7, request).topics[0].clone();
    assert_no_error(result.error_code, "validate only");
    assert_eq!(result.num_partitions, 4);
    assert_eq!(result.replication_factor, 2);
    assert!(!exists(&cluster, "planned"));

    let result = create_one(&cluster, 7, topic("planned", 4, 2));
    assert_no_error(result.error_code, "the real create");
    assert_eq!(cluster.partitions("planned").unwrap().len(), 4);
}

#[test]
fn create_topics_v5_and_later_report_the_topics_shape_and_v7_its_id() {
    let cluster = cluster();
    let t = topic("shaped", 2, 3).with_configs(vec![
        CreatableTopicConfig::default()
            .with_name(str_bytes("retention.ms"))
            .with_value(Some(str_bytes("1000"))),
    ]);
    let result = create_one(&cluster, 7, t);
    assert_no_error(result.error_code, "create");
    assert_eq!(result.num_partitions, 2);
    assert_eq!(result.replication_factor, 3);
    assert_eq!(result.topic_id, topic_id(&cluster, "shaped"));
    let retention = result
        .configs
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.name.as_str() == "retention.ms")
        .expect("retention.ms listed");
    assert_eq!(retention.value.as_ref().map(|v| v.as_str()), Some("1000"));
}

#[test]
fn create_topics_defaults_partitions_and_replication_with_minus_one() {
    let cluster = Cluster::builder()
        .brokers(3)
        .default_partitions(4)
        .default_replication_factor(2)
        .start()
        .unwrap();
    let result = create_one(&cluster, 7, topic("defaults", -1, -1));
    assert_no_error(result.error_code, "create with -1/-1");
    let partitions = cluster.partitions("defaults").unwrap();
    assert_eq!(partitions.len(), 4);
    assert!(partitions.iter().all(|p| p.replicas.len() == 2));
}

#[test]
fn create_topics_naming_a_topic_twice_is_invalid_request() {
    let cluster = cluster();
    let request = CreateTopicsRequest::default()
        .with_topics(vec![topic("twice", 1, 1), topic("twice", 2, 1)]);
    let response = create(&cluster, 7, request);
    assert!(!response.topics.is_empty());
    for result in &response.topics {
        assert_eq!(result.name.0.as_str(), "twice");
        assert_error(
            result.error_code,
            ResponseError::InvalidRequest,
            "duplicate",
        );
    }
    assert!(!exists(&cluster, "twice"));
}

#[test]
fn delete_topics_of_unknown_topics_is_unknown_topic_or_partition_and_unknown_topic_id() {
    let cluster = cluster();
    let by_name = DeleteTopicsRequest::default().with_topic_names(vec![name("no-such-topic")]);
    let response = Conn::to_broker(&cluster, 1).send(5, &by_name);
    assert_error(
        response.responses[0].error_code,
        ResponseError::UnknownTopicOrPartition,
        "v5 unknown name",
    );
    let by_id = DeleteTopicsRequest::default().with_topics(vec![
        DeleteTopicState::default().with_topic_id(uuid::Uuid::from_u128(9)),
    ]);
    let response = Conn::to_broker(&cluster, 1).send(6, &by_id);
    assert_error(
        response.responses[0].error_code,
        ResponseError::UnknownTopicId,
        "v6 unknown id",
    );
}

#[test]
fn delete_topics_v6_by_id_deletes_the_topic() {
    let cluster = cluster();
    let id = topic_id(&cluster, "t");
    let request = DeleteTopicsRequest::default()
        .with_topics(vec![DeleteTopicState::default().with_topic_id(id)]);
    let response = Conn::to_broker(&cluster, 3).send(6, &request);
    let result = &response.responses[0];
    assert_no_error(result.error_code, "delete by id");
    assert_eq!(result.name.as_ref().map(|n| n.0.as_str()), Some("t"));
    assert!(!exists(&cluster, "t"));
}

#[test]
fn create_partitions_not_above_the_current_count_is_invalid_partitions() {
    let cluster = cluster();
    for count in [3, 2] {
        let request = CreatePartitionsRequest::default().with_topics(vec![
            CreatePartitionsTopic::default()
                .with_name(name("t"))
                .with_count(count)
                .with_assignments(None),
        ]);
        let response = Conn::to_broker(&cluster, 1).send(3, &request);
        assert_error(
            response.results[0].error_code,
            ResponseError::InvalidPartitions,
            &format!("count {count} for a topic of 3"),
        );
    }
    assert_eq!(cluster.partitions("t").unwrap().len(), 3);
}

#[test]
fn create_partitions_with_fewer_live_brokers_than_replicas_is_invalid_replication_factor() {
    let cluster = cluster();
    cluster.stop_broker(3).unwrap();
    let request = CreatePartitionsRequest::default().with_topics(vec![
        CreatePartitionsTopic::default()
            .with_name(name("t"))
            .with_count(4)
            .with_assignments(None),
    ]);
    let response = Conn::to_broker(&cluster, 1).send(3, &request);
    assert_error(
        response.results[0].error_code,
        ResponseError::InvalidReplicationFactor,
        "3 replicas with 2 brokers up",
    );
    let partitions = cluster.partitions("t").unwrap();
    assert_eq!(partitions.len(), 3, "nothing was created");
    for p in partitions {
        let mut distinct = p.replicas.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), p.replicas.len(), "{p:?}");
    }
}

fn describe_topic_configs(cluster: &Cluster, keys: Option<Vec<&str>>) -> Vec<String> {
    let request = DescribeConfigsRequest::default().with_resources(vec![
        DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(str_bytes("t"))
            .with_configuration_keys(keys.map(|k| k.into_iter().map(str_bytes).collect())),
    ]);
    let response = Conn::to_broker(cluster, 1).send(4, &request);
    let result = &response.results[0];
    assert_no_error(result.error_code, "describe configs of t");
    result.configs.iter().map(|c| c.name.to_string()).collect()
}

#[test]
fn describe_configs_with_named_keys_lists_only_those() {
    let cluster = cluster();
    let all = describe_topic_configs(&cluster, None);
    assert!(all.len() > 10, "{all:?}");
    let two = describe_topic_configs(&cluster, Some(vec!["retention.ms", "cleanup.policy"]));
    let mut two_sorted = two.clone();
    two_sorted.sort();
    assert_eq!(two_sorted, vec!["cleanup.policy", "retention.ms"]);
}

#[test]
fn describe_configs_with_an_empty_key_list_lists_every_config() {
    let cluster = cluster();
    let all = describe_topic_configs(&cluster, None);
    let empty = describe_topic_configs(&cluster, Some(Vec::new()));
    assert_eq!(empty, all);
}

#[test]
fn create_topics_of_more_than_ten_thousand_partitions_is_policy_violation() {
    let cluster = cluster();
    let result = create_one(&cluster, 7, topic("huge", 10_001, 1));
    assert_error(
        result.error_code,
        ResponseError::PolicyViolation,
        "10001 partitions",
    );
    assert!(!exists(&cluster, "huge"));
    let result = create_one(&cluster, 7, topic("big", 10_000, 1));
    assert_no_error(result.error_code, "10000 partitions");
}

#[test]
fn create_topics_with_assignment_indices_that_skip_or_repeat_is_invalid_replica_assignment() {
    use kafka_protocol::messages::create_topics_request::CreatableReplicaAssignment;
    let cluster = cluster();
    for indices in [[0, 0], [0, 2]] {
        let assignments = indices
            .iter()
            .map(|&p| {
                CreatableReplicaAssignment::default()
                    .with_partition_index(p)
                    .with_broker_ids(vec![1.into()])
            })
            .collect();
        let t = topic("manual", -1, -1).with_assignments(assignments);
        let result = create_one(&cluster, 7, t);
        assert_error(
            result.error_code,
            ResponseError::InvalidReplicaAssignment,
            &format!("{indices:?}"),
        );
    }
    assert!(!exists(&cluster, "manual"));
}

#[test]
fn delete_topics_v6_entries_naming_both_neither_or_twice_are_invalid_request() {
    let cluster = cluster();
    let id = topic_id(&cluster, "t");
    let entries = vec![
        DeleteTopicState::default()
            .with_name(Some(name("t")))
            .with_topic_id(id),
        DeleteTopicState::default(),
    ];
    let response =
        Conn::to_broker(&cluster, 1).send(6, &DeleteTopicsRequest::default().with_topics(entries));
    for r in &response.responses {
        assert_error(
            r.error_code,
            ResponseError::InvalidRequest,
            "both or neither",
        );
    }
    let twice = vec![DeleteTopicState::default().with_topic_id(id); 2];
    let response =
        Conn::to_broker(&cluster, 1).send(6, &DeleteTopicsRequest::default().with_topics(twice));
    for r in &response.responses {
        assert_error(r.error_code, ResponseError::InvalidRequest, "same id twice");
    }
    assert!(exists(&cluster, "t"));
}

#[test]
fn create_partitions_naming_a_topic_twice_is_invalid_request() {
    let cluster = cluster();
    let grow = CreatePartitionsTopic::default()
        .with_name(name("t"))
        .with_count(5);
    let request = CreatePartitionsRequest::default()
        .with_topics(vec![grow.clone(), grow])
        .with_timeout_ms(10_000);
    let response = Conn::to_broker(&cluster, 1).send(3, &request);
    for r in &response.results {
        assert_error(r.error_code, ResponseError::InvalidRequest, "duplicate");
    }
    assert_eq!(cluster.partitions("t").unwrap().len(), 3);
}
