//! CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs, AlterConfigs,
//! IncrementalAlterConfigs.

use kafka_protocol::messages::alter_configs_request::{AlterConfigsResource, AlterableConfig};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::incremental_alter_configs_request as incremental;
use kafka_protocol::messages::{
    AlterConfigsRequest, ApiKey, CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest,
    DescribeConfigsRequest, IncrementalAlterConfigsRequest,
};

use super::helpers::{create_topic, s, scenario, topic, versions};
use crate::scenario::{Scenario, Step};

fn creatable(name: &str, partitions: i32, rf: i16) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(topic(name))
        .with_num_partitions(partitions)
        .with_replication_factor(rf)
}

/// A named scenario body: the steps for a name prefix.
type Case = (&'static str, Box<dyn Fn(&str) -> Vec<Step>>);

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::CreateTopics) {
        let create = move |topics: Vec<CreatableTopic>, validate_only: bool| {
            let r = CreateTopicsRequest::default()
                .with_timeout_ms(30_000)
                .with_validate_only(validate_only)
                .with_topics(topics);
            Step::new(ApiKey::CreateTopics, v, r)
        };
        let cases: Vec<Case> = vec![
            (
                "validate-only",
                Box::new(move |p: &str| {
                    vec![create(vec![creatable(&format!("{p}t"), 3, 1)], true)]
                }),
            ),
            (
                "invalid-name",
                Box::new(move |p: &str| {
                    vec![create(
                        vec![creatable(&format!("{p}bad name"), 1, 1)],
                        false,
                    )]
                }),
            ),
            (
                "dot-name",
                Box::new(move |_: &str| vec![create(vec![creatable("..", 1, 1)], false)]),
            ),
            (
                "zero-partitions",
                Box::new(move |p: &str| {
                    vec![create(vec![creatable(&format!("{p}t"), 0, 1)], false)]
                }),
            ),
            (
                "too-many-replicas",
                Box::new(move |p: &str| {
                    vec![create(vec![creatable(&format!("{p}t"), 1, 3)], false)]
                }),
            ),
            (
                "zero-replicas",
                Box::new(move |p: &str| {
                    vec![create(vec![creatable(&format!("{p}t"), 1, 0)], false)]
                }),
            ),
            (
                "unknown-config",
                Box::new(move |p: &str| {
                    let t = creatable(&format!("{p}t"), 1, 1).with_configs(vec![
                        CreatableTopicConfig::default()
                            .with_name(s("no.such.config"))
                            .with_value(Some(s("1"))),
                    ]);
                    vec![create(vec![t], false)]
                }),
            ),
            (
                "bad-config-value",
                Box::new(move |p: &str| {
                    let t = creatable(&format!("{p}t"), 1, 1).with_configs(vec![
                        CreatableTopicConfig::default()
                            .with_name(s("retention.ms"))
                            .with_value(Some(s("soon"))),
                    ]);
                    vec![create(vec![t], false)]
                }),
            ),
            (
                "already-exists",
                Box::new(move |p: &str| {
                    let name = format!("{p}t");
                    let mut steps = create_topic(&name, 1);
                    steps.push(create(vec![creatable(&name, 1, 1)], false));
                    steps
                }),
            ),
            (
                "twice-in-one-request",
                Box::new(move |p: &str| {
                    let name = format!("{p}t");
                    vec![create(
                        vec![creatable(&name, 1, 1), creatable(&name, 2, 1)],
                        false,
                    )]
                }),
            ),
        ];
        for (what, steps) in cases {
            out.push(scenario(ApiKey::CreateTopics, v, what, |p| steps(p)));
        }
    }
    for v in versions(ApiKey::DeleteTopics) {
        out.push(scenario(ApiKey::DeleteTopics, v, "unknown-topic", |p| {
            let name = format!("{p}missing");
            let r = if v >= 6 {
                DeleteTopicsRequest::default().with_topics(vec![
                    DeleteTopicState::default().with_name(Some(topic(&name))),
                ])
            } else {
                DeleteTopicsRequest::default().with_topic_names(vec![topic(&name)])
            };
            vec![Step::new(
                ApiKey::DeleteTopics,
                v,
                r.with_timeout_ms(30_000),
            )]
        }));
        out.push(scenario(ApiKey::DeleteTopics, v, "existing-topic", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            let r = if v >= 6 {
                DeleteTopicsRequest::default().with_topics(vec![
                    DeleteTopicState::default().with_name(Some(topic(&name))),
                ])
            } else {
                DeleteTopicsRequest::default().with_topic_names(vec![topic(&name)])
            };
            steps.push(Step::new(
                ApiKey::DeleteTopics,
                v,
                r.with_timeout_ms(30_000),
            ));
            steps
        }));
        if v >= 6 {
            out.push(scenario(
                ApiKey::DeleteTopics,
                v,
                "unknown-topic-id",
                |_| {
                    let r = DeleteTopicsRequest::default().with_topics(vec![
                        DeleteTopicState::default()
                            .with_name(None)
                            .with_topic_id(uuid::Uuid::from_u128(0x77)),
                    ]);
                    vec![Step::new(
                        ApiKey::DeleteTopics,
                        v,
                        r.with_timeout_ms(30_000),
                    )]
                },
            ));
        }
    }
    for v in versions(ApiKey::CreatePartitions) {
        let grow = move |name: &str, count: i32, validate_only: bool| {
            let r = CreatePartitionsRequest::default()
                .with_timeout_ms(30_000)
                .with_validate_only(validate_only)
                .with_topics(vec![
                    CreatePartitionsTopic::default()
                        .with_name(topic(name))
                        .with_count(count)
                        .with_assignments(None),
                ]);
            Step::new(ApiKey::CreatePartitions, v, r)
        };
        out.push(scenario(ApiKey::CreatePartitions, v, "grows", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(grow(&name, 3, false));
            steps
        }));
        out.push(scenario(
            ApiKey::CreatePartitions,
            v,
            "validate-only",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 1);
                steps.push(grow(&name, 2, true));
                steps
            },
        ));
        out.push(scenario(ApiKey::CreatePartitions, v, "not-more", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 2);
            steps.push(grow(&name, 2, false));
            steps
        }));
        out.push(scenario(ApiKey::CreatePartitions, v, "fewer", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 3);
            steps.push(grow(&name, 2, false));
            steps
        }));
        out.push(scenario(
            ApiKey::CreatePartitions,
            v,
            "unknown-topic",
            |p| vec![grow(&format!("{p}missing"), 2, false)],
        ));
    }
    for v in versions(ApiKey::DescribeConfigs) {
        let describe = move |resource_type: i8, name: &str, keys: Option<Vec<&str>>| {
            let r = DescribeConfigsRequest::default().with_resources(vec![
                DescribeConfigsResource::default()
                    .with_resource_type(resource_type)
                    .with_resource_name(s(name))
                    .with_configuration_keys(keys.map(|k| k.into_iter().map(s).collect())),
            ]);
            Step::new(ApiKey::DescribeConfigs, v, r)
        };
        out.push(scenario(ApiKey::DescribeConfigs, v, "topic-keys", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(describe(
                2,
                &name,
                Some(vec!["retention.ms", "cleanup.policy", "max.message.bytes"]),
            ));
            steps
        }));
        out.push(scenario(ApiKey::DescribeConfigs, v, "unknown-topic", |p| {
            vec![describe(
                2,
                &format!("{p}missing"),
                Some(vec!["retention.ms"]),
            )]
        }));
        out.push(scenario(ApiKey::DescribeConfigs, v, "other-broker", |_| {
            vec![describe(4, "7", None)]
        }));
    }
    alter_configs(&mut out);
    incremental_alter_configs(&mut out);
    out
}

/// DescribeConfigs v4 of a topic's `keys`: what a change did.
fn describe_topic(name: &str, keys: &[&str]) -> Step {
    let r = DescribeConfigsRequest::default().with_resources(vec![
        DescribeConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(s(name))
            .with_configuration_keys(Some(keys.iter().map(|k| s(*k)).collect())),
    ]);
    Step::new(ApiKey::DescribeConfigs, 4, r)
}

const WATCHED: &[&str] = &["cleanup.policy", "max.message.bytes", "retention.ms"];

/// Whether a DescribeConfigs answer shows `key` = `value`. Kafka applies a config change
/// through its controller and answers DescribeConfigs from the broker's metadata cache a
/// moment later, so a scenario describes until the change shows.
fn shows(answer: &kafka_protocol::messages::ResponseKind, key: &str, value: &str) -> bool {
    match answer {
        kafka_protocol::messages::ResponseKind::DescribeConfigs(d) => d.results.iter().any(|r| {
            r.configs
                .iter()
                .any(|c| c.name.as_str() == key && c.value.as_deref() == Some(value))
        }),
        _ => true,
    }
}

fn retention_is_1000(a: &kafka_protocol::messages::ResponseKind) -> bool {
    shows(a, "retention.ms", "1000")
}

fn max_message_bytes_is_2000(a: &kafka_protocol::messages::ResponseKind) -> bool {
    shows(a, "max.message.bytes", "2000")
}

fn policy_is_delete_compact(a: &kafka_protocol::messages::ResponseKind) -> bool {
    shows(a, "cleanup.policy", "delete,compact")
}

fn policy_is_compact(a: &kafka_protocol::messages::ResponseKind) -> bool {
    shows(a, "cleanup.policy", "compact")
}

fn alter_configs(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::AlterConfigs) {
        let alter =
            move |kind: i8, name: &str, configs: &[(&str, Option<&str>)], validate_only: bool| {
                let r = AlterConfigsRequest::default()
                    .with_validate_only(validate_only)
                    .with_resources(vec![
                        AlterConfigsResource::default()
                            .with_resource_type(kind)
                            .with_resource_name(s(name))
                            .with_configs(
                                configs
                                    .iter()
                                    .map(|(k, v)| {
                                        AlterableConfig::default()
                                            .with_name(s(*k))
                                            .with_value(v.map(s))
                                    })
                                    .collect(),
                            ),
                    ]);
                Step::new(ApiKey::AlterConfigs, v, r)
            };
        out.push(scenario(ApiKey::AlterConfigs, v, "set-then-replace", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(alter(
                2,
                &name,
                &[
                    ("retention.ms", Some("1000")),
                    ("cleanup.policy", Some("compact,delete")),
                ],
                false,
            ));
            steps.push(describe_topic(&name, WATCHED).until(retention_is_1000));
            // Not incremental: what is not named goes back to its default.
            steps.push(alter(
                2,
                &name,
                &[("max.message.bytes", Some("2000"))],
                false,
            ));
            steps.push(describe_topic(&name, WATCHED).until(max_message_bytes_is_2000));
            steps
        }));
        out.push(scenario(ApiKey::AlterConfigs, v, "validate-only", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(alter(2, &name, &[("retention.ms", Some("1000"))], true));
            steps.push(describe_topic(&name, WATCHED));
            steps
        }));
        out.push(scenario(ApiKey::AlterConfigs, v, "invalid", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(alter(2, &name, &[("no.such.config", Some("1"))], false));
            steps.push(alter(2, &name, &[("retention.ms", Some("soon"))], false));
            steps.push(alter(2, &name, &[("cleanup.policy", Some("never"))], false));
            steps.push(alter(
                2,
                &name,
                &[("min.insync.replicas", Some("0"))],
                false,
            ));
            steps.push(describe_topic(&name, WATCHED));
            steps
        }));
        out.push(scenario(ApiKey::AlterConfigs, v, "unknown-topic", |p| {
            vec![alter(
                2,
                &format!("{p}missing"),
                &[("retention.ms", Some("1000"))],
                false,
            )]
        }));
        out.push(scenario(ApiKey::AlterConfigs, v, "other-resources", |_| {
            vec![
                alter(4, "7", &[("log.retention.ms", Some("1000"))], false),
                alter(3, "g", &[("retention.ms", Some("1000"))], false),
            ]
        }));
        out.push(scenario(
            ApiKey::AlterConfigs,
            v,
            "dynamic-broker-configs",
            |_| {
                vec![
                    alter(4, "1", &[("num.io.threads", Some("4"))], true),
                    alter(4, "", &[("log.retention.ms", Some("1000"))], true),
                ]
            },
        ));
    }
}

fn incremental_alter_configs(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::IncrementalAlterConfigs) {
        let alter =
            move |kind: i8, name: &str, ops: &[(&str, i8, Option<&str>)], validate_only: bool| {
                let r = IncrementalAlterConfigsRequest::default()
                    .with_validate_only(validate_only)
                    .with_resources(vec![
                        incremental::AlterConfigsResource::default()
                            .with_resource_type(kind)
                            .with_resource_name(s(name))
                            .with_configs(
                                ops.iter()
                                    .map(|(k, op, v)| {
                                        incremental::AlterableConfig::default()
                                            .with_name(s(*k))
                                            .with_config_operation(*op)
                                            .with_value(v.map(s))
                                    })
                                    .collect(),
                            ),
                    ]);
                Step::new(ApiKey::IncrementalAlterConfigs, v, r)
            };
        out.push(scenario(
            ApiKey::IncrementalAlterConfigs,
            v,
            "set-append-subtract-delete",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 1);
                steps.push(alter(
                    2,
                    &name,
                    &[
                        ("retention.ms", 0, Some("1000")),
                        ("max.message.bytes", 0, Some("2000")),
                    ],
                    false,
                ));
                steps.push(describe_topic(&name, WATCHED).until(retention_is_1000));
                steps.push(alter(
                    2,
                    &name,
                    &[("cleanup.policy", 2, Some("compact"))],
                    false,
                ));
                steps.push(describe_topic(&name, WATCHED).until(policy_is_delete_compact));
                steps.push(alter(
                    2,
                    &name,
                    &[
                        ("cleanup.policy", 3, Some("delete")),
                        ("retention.ms", 1, None),
                    ],
                    false,
                ));
                steps.push(describe_topic(&name, WATCHED).until(policy_is_compact));
                steps
            },
        ));
        out.push(scenario(
            ApiKey::IncrementalAlterConfigs,
            v,
            "validate-only",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 1);
                steps.push(alter(2, &name, &[("retention.ms", 0, Some("1000"))], true));
                steps.push(describe_topic(&name, WATCHED));
                steps
            },
        ));
        out.push(scenario(
            ApiKey::IncrementalAlterConfigs,
            v,
            "invalid",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 1);
                steps.push(alter(2, &name, &[("retention.ms", 2, Some("1000"))], false));
                steps.push(alter(2, &name, &[("retention.ms", 3, Some("1000"))], false));
                steps.push(alter(
                    2,
                    &name,
                    &[
                        ("retention.ms", 0, Some("1")),
                        ("retention.ms", 0, Some("2")),
                    ],
                    false,
                ));
                steps.push(alter(2, &name, &[("no.such.config", 0, Some("1"))], false));
                steps.push(alter(2, &name, &[("retention.ms", 0, Some("soon"))], false));
                steps.push(alter(2, &name, &[("retention.ms", 7, Some("1"))], false));
                steps.push(alter(2, &name, &[("no.such.config", 1, None)], false));
                steps.push(describe_topic(&name, WATCHED));
                steps
            },
        ));
        out.push(scenario(
            ApiKey::IncrementalAlterConfigs,
            v,
            "unknown-topic",
            |p| {
                vec![alter(
                    2,
                    &format!("{p}missing"),
                    &[("retention.ms", 0, Some("1000"))],
                    false,
                )]
            },
        ));
        out.push(scenario(
            ApiKey::IncrementalAlterConfigs,
            v,
            "other-resources",
            |_| {
                vec![
                    alter(4, "7", &[("log.retention.ms", 0, Some("1000"))], false),
                    alter(3, "g", &[("retention.ms", 0, Some("1000"))], false),
                ]
            },
        ));
        out.push(scenario(
            ApiKey::IncrementalAlterConfigs,
            v,
            "dynamic-broker-config-refusals",
            |_| {
                vec![
                    alter(4, "1", &[("broker.id", 0, Some("5"))], true),
                    alter(4, "1", &[("num.io.threads", 0, Some("abc"))], true),
                    alter(4, "1", &[("num.io.threads", 0, Some("100"))], true),
                    alter(4, "", &[("num.io.threads", 0, Some("4"))], true),
                    alter(4, "", &[("log.cleanup.policy", 2, Some("compact"))], true),
                    alter(4, "", &[("log.retention.ms", 2, Some("5"))], true),
                    alter(4, "", &[("min.insync.replicas", 1, None)], true),
                    alter(4, "", &[("no.such.config", 0, Some("x"))], true),
                    alter(4, "2", &[("num.io.threads", 0, Some("4"))], true),
                ]
            },
        ));
        if v == 1 {
            // Client-metrics subscriptions (KIP-714) as config resources, set, described
            // and removed.
            out.push(scenario(
                ApiKey::IncrementalAlterConfigs,
                v,
                "client-metrics-subscription",
                |p| {
                    let d = |name: &str| {
                        let r = DescribeConfigsRequest::default()
                            .with_include_synonyms(true)
                            .with_resources(vec![
                                DescribeConfigsResource::default()
                                    .with_resource_type(16)
                                    .with_resource_name(s(name))
                                    .with_configuration_keys(None),
                            ]);
                        Step::new(ApiKey::DescribeConfigs, 4, r)
                    };
                    let n = format!("{p}sub");
                    vec![
                        alter(
                            16,
                            &n,
                            &[("metrics", 0, Some("org.apache.kafka.producer."))],
                            true,
                        ),
                        alter(16, &n, &[("interval.ms", 0, Some("50"))], true),
                        alter(16, &n, &[("interval.ms", 0, Some("abc"))], true),
                        alter(16, &n, &[("match", 0, Some("client_id=app.*"))], true),
                        alter(16, &n, &[("match", 0, Some("nope=app"))], true),
                        alter(16, &n, &[("match", 0, Some("client_id"))], true),
                        alter(16, &n, &[("no.such", 0, Some("x"))], true),
                        alter(16, "", &[("metrics", 0, Some("x"))], true),
                        alter(
                            16,
                            &n,
                            &[
                                ("metrics", 0, Some("org.apache.kafka.producer.")),
                                ("interval.ms", 0, Some("1000")),
                            ],
                            false,
                        ),
                        d(&n).until(|a| shows(a, "interval.ms", "1000")),
                        d(&format!("{p}none")),
                        alter(
                            16,
                            &n,
                            &[("metrics", 1, None), ("interval.ms", 1, None)],
                            false,
                        ),
                        d(&n).until(|a| shows(a, "interval.ms", "300000")),
                    ]
                },
            ));
            // A cluster-wide default set, described, inherited by a topic, and removed
            // (the reference Kafka is shared: the scenario leaves it as it was).
            out.push(scenario(
                ApiKey::IncrementalAlterConfigs,
                v,
                "cluster-default-applies-to-topics",
                |p| {
                    let describe_broker = |name: &str, keys: &[&str]| {
                        let r = DescribeConfigsRequest::default()
                            .with_include_synonyms(true)
                            .with_resources(vec![
                                DescribeConfigsResource::default()
                                    .with_resource_type(4)
                                    .with_resource_name(s(name))
                                    .with_configuration_keys(Some(
                                        keys.iter().map(|k| s(*k)).collect(),
                                    )),
                            ]);
                        Step::new(ApiKey::DescribeConfigs, 4, r)
                    };
                    let name = format!("{p}t");
                    let mut steps = create_topic(&name, 1);
                    steps.push(alter(
                        4,
                        "",
                        &[("log.retention.ms", 0, Some("604800001"))],
                        false,
                    ));
                    steps.push(
                        describe_broker("", &["log.retention.ms"])
                            .until(|a| shows(a, "log.retention.ms", "604800001")),
                    );
                    steps.push(describe_broker(
                        "1",
                        &["log.retention.ms", "num.io.threads", "log.cleanup.policy"],
                    ));
                    steps.push(
                        describe_topic(&name, &["retention.ms"])
                            .until(|a| shows(a, "retention.ms", "604800001")),
                    );
                    steps.push(alter(4, "", &[("log.retention.ms", 1, None)], false));
                    steps.push(
                        describe_topic(&name, &["retention.ms"])
                            .until(|a| shows(a, "retention.ms", "604800000")),
                    );
                    steps
                },
            ));
        }
        out.push(scenario(
            ApiKey::IncrementalAlterConfigs,
            v,
            "dynamic-broker-configs",
            |_| {
                vec![
                    alter(4, "1", &[("num.io.threads", 0, Some("4"))], true),
                    alter(4, "", &[("log.retention.ms", 0, Some("1000"))], true),
                ]
            },
        ));
    }
}
