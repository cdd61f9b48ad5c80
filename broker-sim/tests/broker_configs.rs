//! Dynamic broker configs over the wire: a cluster-wide default of a log config applies
//! at once to every topic that does not set its own, a broker's own value is described
//! with where it comes from, and changes Kafka cannot make at run time are refused.

mod support;

use std::time::Duration;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_configs_request::{AlterConfigsResource, AlterableConfig};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{
    AlterConfigsRequest, DescribeConfigsRequest, DescribeConfigsResponse,
};
use support::*;

const T0: i64 = 1_800_000_000_000;
const SET: i8 = 0;
const DELETE: i8 = 1;

fn cluster() -> Cluster {
    Cluster::builder()
        .brokers(1)
        .manual_clock(T0)
        .topic("plain", 1)
        .topic_with_configs("kept", 1, &[("retention.ms", "-1")])
        .start()
        .unwrap()
}

/// IncrementalAlterConfigs of broker resource `name`; its (error code, message).
fn alter(
    cluster: &Cluster,
    name: &str,
    ops: &[(&str, i8, Option<&str>)],
    validate_only: bool,
) -> (i16, Option<String>) {
    let request = incremental_alter_request(4, name, ops, validate_only);
    let response = Conn::to_broker(cluster, 1).send(1, &request);
    let r = &response.responses[0];
    (
        r.error_code,
        r.error_message.as_ref().map(|m| m.to_string()),
    )
}

fn describe(
    cluster: &Cluster,
    resource_type: i8,
    name: &str,
    keys: &[&str],
) -> DescribeConfigsResponse {
    let request = DescribeConfigsRequest::default()
        .with_include_synonyms(true)
        .with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(resource_type)
                .with_resource_name(str_bytes(name))
                .with_configuration_keys(Some(keys.iter().map(|k| str_bytes(k)).collect())),
        ]);
    Conn::to_broker(cluster, 1).send(4, &request)
}

/// (value, source) of config `key` in a one-resource answer.
fn value_of(response: &DescribeConfigsResponse, key: &str) -> (Option<String>, i8) {
    let c = response.results[0]
        .configs
        .iter()
        .find(|c| c.name.as_str() == key)
        .unwrap_or_else(|| panic!("no {key} in {response:?}"));
    (c.value.as_ref().map(|v| v.to_string()), c.config_source)
}

#[test]
fn a_cluster_default_retention_deletes_old_data_of_topics_without_their_own() {
    let cluster = cluster();
    for topic in ["plain", "kept"] {
        produce(
            &cluster,
            topic,
            0,
            batch_with_timestamps(&[("old", T0 - 3_600_000)]),
        );
        produce(&cluster, topic, 0, batch_with_timestamps(&[("new", T0)]));
    }
    assert_eq!(
        alter(
            &cluster,
            "",
            &[("log.retention.ms", SET, Some("600000"))],
            false
        ),
        (0, None)
    );
    // DYNAMIC_DEFAULT_BROKER_CONFIG (3) for the broker and for the topic that inherits it.
    let broker = describe(&cluster, 4, "", &["log.retention.ms"]);
    assert_eq!(
        value_of(&broker, "log.retention.ms"),
        (Some("600000".into()), 3)
    );
    let topic = describe(&cluster, 2, "plain", &["retention.ms"]);
    assert_eq!(value_of(&topic, "retention.ms"), (Some("600000".into()), 3));

    // The next retention check (every 5 minutes) deletes the old batch of "plain" only.
    cluster.advance(Duration::from_secs(301));
    assert_eq!(cluster.partitions("plain").unwrap()[0].log_start_offset, 1);
    assert_eq!(cluster.partitions("kept").unwrap()[0].log_start_offset, 0);

    // Removed again: the topic is back on Kafka's default.
    assert_eq!(
        alter(&cluster, "", &[("log.retention.ms", DELETE, None)], false),
        (0, None)
    );
    let topic = describe(&cluster, 2, "plain", &["retention.ms"]);
    assert_eq!(
        value_of(&topic, "retention.ms"),
        (Some("604800000".into()), 5)
    );
}

#[test]
fn a_cluster_default_max_message_size_refuses_larger_batches() {
    let cluster = cluster();
    assert_eq!(
        alter(
            &cluster,
            "",
            &[("message.max.bytes", SET, Some("100"))],
            false
        ),
        (0, None)
    );
    let big = batch_of(&[&"x".repeat(200)]);
    let response = Conn::to_leader(&cluster, "plain", 0).send(9, &produce_request("plain", 0, big));
    assert_eq!(
        response.responses[0].partition_responses[0].error_code,
        ResponseError::MessageTooLarge.code()
    );
}

#[test]
fn a_brokers_own_value_is_described_with_its_synonyms_and_validate_only_changes_nothing() {
    let cluster = cluster();
    assert_eq!(
        alter(&cluster, "1", &[("num.io.threads", SET, Some("4"))], true),
        (0, None)
    );
    assert_eq!(
        value_of(
            &describe(&cluster, 4, "1", &["num.io.threads"]),
            "num.io.threads"
        )
        .0,
        Some("8".into())
    );
    assert_eq!(
        alter(&cluster, "1", &[("num.io.threads", SET, Some("4"))], false),
        (0, None)
    );
    let described = describe(&cluster, 4, "1", &["num.io.threads"]);
    let c = &described.results[0].configs[0];
    assert_eq!(
        (c.value.as_deref(), c.config_source, c.read_only),
        (Some("4"), 2, false)
    );
    let synonyms: Vec<(String, i8)> = c
        .synonyms
        .iter()
        .map(|s| (s.value.as_deref().unwrap_or_default().to_string(), s.source))
        .collect();
    assert_eq!(synonyms, [("4".to_string(), 2), ("8".to_string(), 5)]);
}

#[test]
fn changes_kafka_cannot_make_at_run_time_are_refused() {
    let cluster = cluster();
    let refused = |ops: &[(&str, i8, Option<&str>)], name: &str| alter(&cluster, name, ops, true);
    let (code, message) = refused(&[("broker.id", SET, Some("5"))], "1");
    assert_eq!(code, ResponseError::InvalidRequest.code());
    assert_eq!(
        message.as_deref(),
        Some("Cannot update these configs dynamically: Set(broker.id)")
    );
    let (code, message) = refused(&[("num.io.threads", SET, Some("abc"))], "1");
    assert_eq!(code, ResponseError::InvalidRequest.code());
    assert!(message.unwrap().contains("Not a number of type INT"));
    let (code, _) = refused(&[("num.io.threads", SET, Some("100"))], "1");
    assert_eq!(code, ResponseError::InvalidRequest.code());
    let (code, _) = refused(&[("min.insync.replicas", DELETE, None)], "");
    assert_eq!(code, ResponseError::InvalidConfig.code());
    let (code, _) = refused(&[("num.io.threads", SET, Some("4"))], "2");
    assert_eq!(code, ResponseError::InvalidRequest.code());

    // The legacy AlterConfigs replaces the whole set: dropping min.insync.replicas from
    // the cluster default is refused, keeping it is not.
    let legacy = |configs: &[(&str, &str)]| {
        let request = AlterConfigsRequest::default().with_resources(vec![
            AlterConfigsResource::default()
                .with_resource_type(4)
                .with_resource_name(str_bytes(""))
                .with_configs(
                    configs
                        .iter()
                        .map(|(k, v)| {
                            AlterableConfig::default()
                                .with_name(str_bytes(k))
                                .with_value(Some(str_bytes(v)))
                        })
                        .collect(),
                ),
        ]);
        Conn::to_broker(&cluster, 1).send(2, &request).responses[0].error_code
    };
    assert_eq!(
        legacy(&[("log.retention.ms", "1000")]),
        ResponseError::InvalidConfig.code()
    );
    assert_eq!(
        legacy(&[("log.retention.ms", "1000"), ("min.insync.replicas", "1")]),
        0
    );
}
