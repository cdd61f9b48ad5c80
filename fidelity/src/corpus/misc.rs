//! ApiVersions, Metadata, DescribeCluster and InitProducerId.

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, DescribeClusterRequest, InitProducerIdRequest, MetadataRequest,
};

use super::helpers::{create_topic, s, scenario, topic, topic_ready, versions};

/// An empty request of `key`, for the versions a broker refuses before reading it.
fn default_request(key: ApiKey) -> kafka_protocol::messages::RequestKind {
    use kafka_protocol::messages::RequestKind as R;
    match key {
        ApiKey::Produce => R::Produce(Default::default()),
        ApiKey::Fetch => R::Fetch(Default::default()),
        ApiKey::ListOffsets => R::ListOffsets(Default::default()),
        ApiKey::OffsetCommit => R::OffsetCommit(Default::default()),
        ApiKey::OffsetFetch => R::OffsetFetch(Default::default()),
        ApiKey::CreateTopics => R::CreateTopics(Default::default()),
        ApiKey::DeleteTopics => R::DeleteTopics(Default::default()),
        ApiKey::OffsetForLeaderEpoch => R::OffsetForLeaderEpoch(Default::default()),
        ApiKey::DescribeConfigs => R::DescribeConfigs(Default::default()),
        other => panic!("no empty request for {other:?}"),
    }
}
use crate::scenario::{Scenario, Step};

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::ApiVersions) {
        out.push(scenario(ApiKey::ApiVersions, v, "lists-apis", |_| {
            let mut r = ApiVersionsRequest::default();
            if v >= 3 {
                r = r
                    .with_client_software_name(s("broker-sim-fidelity"))
                    .with_client_software_version(s("1.0"));
            }
            vec![Step::new(ApiKey::ApiVersions, v, r)]
        }));
    }
    for v in versions(ApiKey::Metadata) {
        let named = |name: &str| {
            let mut r = MetadataRequest::default().with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(topic(name))),
            ]));
            if v >= 4 {
                r.allow_auto_topic_creation = false;
            }
            r
        };
        out.push(scenario(ApiKey::Metadata, v, "existing-topic", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 3);
            steps.push(Step::new(ApiKey::Metadata, v, named(&name)));
            steps
        }));
        out.push(scenario(ApiKey::Metadata, v, "duplicate-topic", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 2);
            let mut r = named(&name);
            if let Some(topics) = &mut r.topics {
                let again = topics[0].clone();
                topics.push(again);
            }
            steps.push(Step::new(ApiKey::Metadata, v, r));
            steps
        }));
        out.push(scenario(ApiKey::Metadata, v, "all-topics", |p| {
            let mut steps = create_topic(&format!("{p}a"), 1);
            steps.extend(create_topic(&format!("{p}b"), 2));
            let r = if v == 0 {
                MetadataRequest::default().with_topics(Some(vec![]))
            } else {
                MetadataRequest::default().with_topics(None)
            };
            steps.push(Step::new(ApiKey::Metadata, v, r));
            steps
        }));
        out.push(scenario(ApiKey::Metadata, v, "no-topics", |_| {
            let r = if v == 0 {
                // v0 cannot ask for no topics: an empty list is every topic.
                return vec![];
            } else {
                MetadataRequest::default().with_topics(Some(vec![]))
            };
            vec![Step::new(ApiKey::Metadata, v, r)]
        }));
        if v >= 4 {
            out.push(scenario(ApiKey::Metadata, v, "unknown-topic", |p| {
                vec![Step::new(
                    ApiKey::Metadata,
                    v,
                    named(&format!("{p}missing")),
                )]
            }));
        }
        out.push(scenario(ApiKey::Metadata, v, "auto-creates", |p| {
            let name = format!("{p}auto");
            let mut r = named(&name);
            if v >= 4 {
                r.allow_auto_topic_creation = true;
            }
            // Kafka answers LEADER_NOT_AVAILABLE until the new topic has a leader;
            // broker-sim creates it at once. Compared once both have it.
            let mut step = Step::new(ApiKey::Metadata, v, r);
            step.until = topic_ready(&name).until;
            vec![step]
        }));
        if v >= 8 {
            out.push(scenario(
                ApiKey::Metadata,
                v,
                "authorized-operations",
                |p| {
                    let name = format!("{p}t");
                    let mut steps = create_topic(&name, 1);
                    let mut r = named(&name).with_include_topic_authorized_operations(true);
                    if v <= 10 {
                        r.include_cluster_authorized_operations = true;
                    }
                    steps.push(Step::new(ApiKey::Metadata, v, r));
                    steps
                },
            ));
        }
        if v >= 12 {
            out.push(scenario(ApiKey::Metadata, v, "unknown-topic-id", |_| {
                let r = MetadataRequest::default().with_topics(Some(vec![
                    MetadataRequestTopic::default()
                        .with_name(None)
                        .with_topic_id(uuid::Uuid::from_u128(0x1234)),
                ]));
                vec![Step::new(
                    ApiKey::Metadata,
                    v,
                    r.with_allow_auto_topic_creation(false),
                )]
            }));
        }
    }
    out.retain(|s| !s.steps.is_empty());
    // Versions Kafka 4.1 removed (KIP-896) but kafka-protocol still encodes: what a client
    // that sends one sees.
    for (key, version) in [
        (ApiKey::Produce, 2),
        (ApiKey::Fetch, 3),
        (ApiKey::ListOffsets, 0),
        (ApiKey::OffsetCommit, 1),
        (ApiKey::OffsetFetch, 0),
        (ApiKey::CreateTopics, 1),
        (ApiKey::DeleteTopics, 0),
        (ApiKey::OffsetForLeaderEpoch, 1),
        (ApiKey::DescribeConfigs, 0),
    ] {
        out.push(scenario(key, version, "removed-version", |_| {
            let lowest = *versions(key).start();
            vec![Step::new(key, lowest, default_request(key)).announcing(version)]
        }));
    }
    for v in versions(ApiKey::DescribeCluster) {
        out.push(scenario(ApiKey::DescribeCluster, v, "brokers", |_| {
            let mut r = DescribeClusterRequest::default();
            if v >= 1 {
                r.endpoint_type = 1;
            }
            vec![Step::new(ApiKey::DescribeCluster, v, r)]
        }));
        out.push(scenario(
            ApiKey::DescribeCluster,
            v,
            "authorized-operations",
            |_| {
                let mut r = DescribeClusterRequest::default()
                    .with_include_cluster_authorized_operations(true);
                if v >= 1 {
                    r.endpoint_type = 1;
                }
                if v >= 2 {
                    r.include_fenced_brokers = true;
                }
                vec![Step::new(ApiKey::DescribeCluster, v, r)]
            },
        ));
        if v >= 1 {
            out.push(scenario(
                ApiKey::DescribeCluster,
                v,
                "controller-endpoints",
                |_| {
                    let r = DescribeClusterRequest::default().with_endpoint_type(2);
                    vec![Step::new(ApiKey::DescribeCluster, v, r)]
                },
            ));
        }
    }
    for v in versions(ApiKey::InitProducerId) {
        out.push(scenario(ApiKey::InitProducerId, v, "idempotent", |_| {
            let r = InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(2_147_483_647);
            // Until its controller hands out the first block of ids, Kafka answers
            // COORDINATOR_LOAD_IN_PROGRESS; clients retry.
            vec![
                Step::new(ApiKey::InitProducerId, v, r).until(|answer| match answer {
                    kafka_protocol::messages::ResponseKind::InitProducerId(a) => a.error_code != 14,
                    _ => true,
                }),
            ]
        }));
        out.push(scenario(
            ApiKey::InitProducerId,
            v,
            "bad-transaction-timeout",
            |p| {
                let r = InitProducerIdRequest::default()
                    .with_transactional_id(Some(s(format!("{p}tx")).into()))
                    .with_transaction_timeout_ms(0);
                vec![Step::new(ApiKey::InitProducerId, v, r)]
            },
        ));
        if v >= 3 {
            out.push(scenario(
                ApiKey::InitProducerId,
                v,
                "id-without-epoch",
                |_| {
                    let r = InitProducerIdRequest::default()
                        .with_transactional_id(None)
                        .with_transaction_timeout_ms(60_000)
                        .with_producer_id(5.into())
                        .with_producer_epoch(-1);
                    vec![Step::new(ApiKey::InitProducerId, v, r)]
                },
            ));
        }
    }
    out
}
