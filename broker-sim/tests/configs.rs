//! Configs that take effect: IncrementalAlterConfigs and AlterConfigs over the wire (and
//! `Cluster::alter_topic_configs`) change a topic's configs, and the next request or
//! retention check reads the new value — retention deletes, size limits refuse,
//! LogAppendTime stamps, `min.insync.replicas` holds acks=all writes back. A change is
//! all or nothing per resource; `validate_only` changes nothing.

mod support;

use std::time::Duration;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::AlterConfigsRequest;
use kafka_protocol::messages::alter_configs_request::{AlterConfigsResource, AlterableConfig};
use support::*;

const T0: i64 = 1_800_000_000_000;
const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;

/// IncrementalAlterConfigs v1 of topic `topic` (to a running broker): (key, operation,
/// value); the resource's (error code, message).
fn alter(
    cluster: &Cluster,
    topic: &str,
    ops: &[(&str, i8, Option<&str>)],
    validate_only: bool,
) -> (i16, Option<String>) {
    let request = incremental_alter_request(2, topic, ops, validate_only);
    let up = cluster
        .broker_status()
        .into_iter()
        .find(|b| b.up)
        .expect("a broker is up");
    let response = Conn::to_broker(cluster, up.id).send(1, &request);
    let r = &response.responses[0];
    (
        r.error_code,
        r.error_message.as_ref().map(|m| m.to_string()),
    )
}

fn configs(cluster: &Cluster, topic: &str) -> Vec<(String, String)> {
    cluster.topic_configs(topic).unwrap().into_iter().collect()
}

#[test]
fn a_lower_retention_ms_deletes_old_data_at_the_next_retention_check() {
    let cluster = Cluster::builder()
        .brokers(1)
        .manual_clock(T0)
        .log_retention_check_interval(Duration::from_secs(300))
        .topic("t", 1)
        .start()
        .unwrap();
    produce(
        &cluster,
        "t",
        0,
        batch_with_timestamps(&[("an hour old", T0 - 3_600_000)]),
    );
    produce(&cluster, "t", 0, batch_with_timestamps(&[("fresh", T0)]));
    cluster.advance(Duration::from_secs(301));
    assert_eq!(
        cluster.partition("t", 0).unwrap().log_start_offset,
        0,
        "7 days by default"
    );

    assert_eq!(
        alter(
            &cluster,
            "t",
            &[("retention.ms", SET, Some("1800000"))],
            false
        ),
        (0, None)
    );
    assert_eq!(
        cluster.partition("t", 0).unwrap().log_start_offset,
        0,
        "not before the check"
    );
    cluster.advance(Duration::from_secs(300));
    assert_eq!(cluster.partition("t", 0).unwrap().log_start_offset, 1);
    let values: Vec<_> = cluster
        .records("t")
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    assert_eq!(values, ["fresh"]);
}

#[test]
fn max_message_bytes_refuses_larger_batches_at_once_and_deleting_it_restores_the_default() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let big = batch_of(&[&"x".repeat(2_000)]);
    assert_no_error(
        try_produce(&cluster, "t", 0, big.clone()).error_code,
        "under the default",
    );
    assert_eq!(
        alter(
            &cluster,
            "t",
            &[("max.message.bytes", SET, Some("1000"))],
            false
        ),
        (0, None)
    );
    assert_error(
        try_produce(&cluster, "t", 0, big.clone()).error_code,
        ResponseError::MessageTooLarge,
        "over the new limit",
    );
    assert_eq!(
        alter(&cluster, "t", &[("max.message.bytes", DELETE, None)], false),
        (0, None)
    );
    assert!(configs(&cluster, "t").is_empty());
    assert_no_error(
        try_produce(&cluster, "t", 0, big).error_code,
        "back to the default",
    );
}

#[test]
fn log_append_time_and_min_insync_replicas_apply_to_the_next_write() {
    let cluster = Cluster::builder()
        .brokers(3)
        .manual_clock(T0)
        .topic("t", 1)
        .default_replication_factor(3)
        .start()
        .unwrap();
    cluster
        .alter_topic_configs("t", &[("message.timestamp.type", Some("LogAppendTime"))])
        .unwrap();
    produce(
        &cluster,
        "t",
        0,
        batch_with_timestamps(&[("stamped", T0 - 5_000)]),
    );
    assert_eq!(cluster.records("t")[0].timestamp, T0, "the broker's time");

    let follower = follower(&cluster, "t", 0);
    cluster.stop_broker(follower).unwrap();
    assert_no_error(
        try_produce(&cluster, "t", 0, batch_of(&["two in sync"])).error_code,
        "min.insync.replicas 1",
    );
    assert_eq!(
        alter(
            &cluster,
            "t",
            &[("min.insync.replicas", SET, Some("3"))],
            false
        ),
        (0, None)
    );
    assert_error(
        try_produce(&cluster, "t", 0, batch_of(&["needs three"])).error_code,
        ResponseError::NotEnoughReplicas,
        "min.insync.replicas 3 with two in sync",
    );
}

#[test]
fn a_change_is_all_or_nothing_and_validate_only_changes_nothing() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let (code, message) = alter(
        &cluster,
        "t",
        &[
            ("retention.ms", SET, Some("1000")),
            ("segment.ms", SET, Some("soon")),
        ],
        false,
    );
    assert_error(code, ResponseError::InvalidConfig, "a bad value");
    assert_eq!(
        message.as_deref(),
        Some("Invalid value soon for configuration segment.ms: Not a number of type LONG")
    );
    assert!(
        configs(&cluster, "t").is_empty(),
        "the good one was not applied either"
    );
    assert_eq!(
        alter(&cluster, "t", &[("retention.ms", SET, Some("1000"))], true),
        (0, None)
    );
    assert!(configs(&cluster, "t").is_empty(), "validate_only");

    // APPEND adds to a list config's current value (its default when not set).
    assert_eq!(
        alter(
            &cluster,
            "t",
            &[("cleanup.policy", APPEND, Some("compact"))],
            false
        ),
        (0, None)
    );
    assert_eq!(
        configs(&cluster, "t"),
        [("cleanup.policy".to_string(), "delete,compact".to_string())]
    );
    let (code, _) = alter(&cluster, "t", &[("retention.ms", APPEND, Some("1"))], false);
    assert_error(code, ResponseError::InvalidConfig, "APPEND to a LONG");
    let (code, _) = alter(
        &cluster,
        "missing",
        &[("retention.ms", SET, Some("1"))],
        false,
    );
    assert_error(
        code,
        ResponseError::UnknownTopicOrPartition,
        "unknown topic",
    );
}

#[test]
fn legacy_alter_configs_replaces_every_override() {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic_with_configs("t", 1, &[("retention.ms", "1000")])
        .start()
        .unwrap();
    let request = AlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(str_bytes("t"))
            .with_configs(vec![
                AlterableConfig::default()
                    .with_name(str_bytes("cleanup.policy"))
                    .with_value(Some(str_bytes("compact"))),
            ]),
    ]);
    let response = Conn::to_broker(&cluster, 1).send(2, &request);
    assert_no_error(response.responses[0].error_code, "AlterConfigs");
    assert_eq!(
        configs(&cluster, "t"),
        [("cleanup.policy".to_string(), "compact".to_string())]
    );
}
