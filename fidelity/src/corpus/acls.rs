//! ACLs, against a reference Kafka running an authorizer (`fidelity/kafka/start.sh
//! --authorizer`: StandardAuthorizer, `allow.everyone.if.no.acl.found=true`); skipped
//! otherwise. CreateAcls, DescribeAcls and DeleteAcls with their filters and errors, and
//! enforcement: the suite's principal is `User:ANONYMOUS`, so a DENY for it on one of the
//! scenario's own topics, groups or transactional ids shows each API's refusal.
//!
//! The reference Kafka is shared by every scenario and keeps its ACLs: each scenario
//! names only resources under its own prefix (never the CLUSTER, a wildcard or a short
//! prefix), and deletes every ACL it made in its last steps, which are sent even when an
//! earlier one differs.

use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::incremental_alter_configs_request::{
    AlterConfigsResource, AlterableConfig,
};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::{
    ApiKey, CreateAclsRequest, CreatePartitionsRequest, CreateTopicsRequest, DeleteAclsRequest,
    DeleteGroupsRequest, DeleteRecordsRequest, DeleteTopicsRequest, DescribeAclsRequest,
    DescribeConfigsRequest, DescribeGroupsRequest, DescribeProducersRequest,
    FindCoordinatorRequest, IncrementalAlterConfigsRequest, InitProducerIdRequest,
    JoinGroupRequest, MetadataRequest, OffsetDeleteRequest, OffsetFetchRequest, ResponseKind,
};

use super::groups::{commit, fetch_offsets, find};
use super::helpers::{create_topic, group, s, scenario, topic, versions};
use super::records::{batch, fetch, list_offsets, produce};
use crate::scenario::{Scenario, Step};

const ANY: i8 = 1;
// Resource types.
const TOPIC: i8 = 2;
const GROUP: i8 = 3;
const CLUSTER: i8 = 4;
const TRANSACTIONAL_ID: i8 = 5;
// Pattern types.
const MATCH: i8 = 2;
const LITERAL: i8 = 3;
const PREFIXED: i8 = 4;
// Operations.
const ALL: i8 = 2;
const READ: i8 = 3;
const WRITE: i8 = 4;
const DESCRIBE: i8 = 8;
const DESCRIBE_CONFIGS: i8 = 10;
const ALTER_CONFIGS: i8 = 11;
// Permissions.
const DENY: i8 = 2;
const ALLOW: i8 = 3;

const ANONYMOUS: &str = "User:ANONYMOUS";

fn acl(kind: i8, name: &str, pattern: i8, principal: &str, op: i8, permission: i8) -> AclCreation {
    AclCreation::default()
        .with_resource_type(kind)
        .with_resource_name(s(name))
        .with_resource_pattern_type(pattern)
        .with_principal(s(principal))
        .with_host(s("*"))
        .with_operation(op)
        .with_permission_type(permission)
}

fn create(v: i16, acls: Vec<AclCreation>) -> Step {
    Step::new(
        ApiKey::CreateAcls,
        v,
        CreateAclsRequest::default().with_creations(acls),
    )
}

/// A DENY of `op` on a literal resource for the suite's principal.
fn deny(kind: i8, name: &str, op: i8) -> Step {
    create(3, vec![acl(kind, name, LITERAL, ANONYMOUS, op, DENY)])
}

/// A filter on one resource pattern; anything else matches.
fn filter(kind: i8, name: Option<&str>, pattern: i8) -> DeleteAclsFilter {
    DeleteAclsFilter::default()
        .with_resource_type_filter(kind)
        .with_resource_name_filter(name.map(s))
        .with_pattern_type_filter(pattern)
        .with_principal_filter(None)
        .with_host_filter(None)
        .with_operation(ANY)
        .with_permission_type(ANY)
}

/// Deletes every ACL on these exact resource patterns: the scenario's clean-up, compared.
fn remove(v: i16, patterns: &[(i8, &str, i8)]) -> Step {
    let filters = patterns
        .iter()
        .map(|&(kind, name, pattern)| filter(kind, Some(name), pattern))
        .collect();
    Step::new(
        ApiKey::DeleteAcls,
        v,
        DeleteAclsRequest::default().with_filters(filters),
    )
}

fn describe(v: i16, kind: i8, name: Option<&str>, pattern: i8, principal: Option<&str>) -> Step {
    let r = DescribeAclsRequest::default()
        .with_resource_type_filter(kind)
        .with_resource_name_filter(name.map(s))
        .with_pattern_type_filter(pattern)
        .with_principal_filter(principal.map(s))
        .with_host_filter(None)
        .with_operation(ANY)
        .with_permission_type(ANY);
    Step::new(ApiKey::DescribeAcls, v, r)
}

fn metadata(v: i16, names: &[&str], auto_create: bool) -> Step {
    let topics = names
        .iter()
        .map(|n| MetadataRequestTopic::default().with_name(Some(topic(n))))
        .collect();
    let mut r = MetadataRequest::default()
        .with_topics(Some(topics))
        .with_allow_auto_topic_creation(auto_create);
    if (8..=10).contains(&v) {
        r.include_cluster_authorized_operations = true;
    }
    if v >= 8 {
        r.include_topic_authorized_operations = true;
    }
    Step::new(ApiKey::Metadata, v, r)
}

fn latest(key: ApiKey) -> [i16; 1] {
    [*versions(key).end()]
}

/// The ACL APIs themselves.
fn acl_apis(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::CreateAcls) {
        out.push(
            scenario(ApiKey::CreateAcls, v, "with-authorizer", |p| {
                let a = format!("{p}a");
                let g = format!("{p}g");
                vec![
                    create(
                        v,
                        vec![
                            acl(TOPIC, &a, LITERAL, "User:alice", READ, ALLOW),
                            acl(GROUP, &g, PREFIXED, "User:alice", READ, DENY),
                            // Twice: a success that adds nothing.
                            acl(TOPIC, &a, LITERAL, "User:alice", READ, ALLOW),
                            acl(CLUSTER, &a, LITERAL, "User:alice", READ, ALLOW),
                            acl(TOPIC, "", LITERAL, "User:alice", READ, ALLOW),
                        ],
                    ),
                    describe(v, TOPIC, Some(&a), LITERAL, None).until(holds::<1>),
                    remove(v, &[(TOPIC, &a, LITERAL), (GROUP, &g, PREFIXED)]),
                ]
            })
            .needs_authorizer(true),
        );
        // A filter's value where a binding needs one fails the whole request.
        for (what, kind, pattern, op, permission) in [
            ("match-pattern", TOPIC, MATCH, READ, ALLOW),
            ("any-pattern", TOPIC, ANY, READ, ALLOW),
            ("any-resource-type", ANY, LITERAL, READ, ALLOW),
            ("any-operation", TOPIC, LITERAL, ANY, ALLOW),
            ("any-permission", TOPIC, LITERAL, READ, ANY),
        ] {
            out.push(
                scenario(ApiKey::CreateAcls, v, what, |p| {
                    let (a, b) = (format!("{p}a"), format!("{p}b"));
                    vec![
                        create(
                            v,
                            vec![
                                acl(TOPIC, &b, LITERAL, "User:alice", READ, ALLOW),
                                acl(kind, &a, pattern, "User:alice", op, permission),
                            ],
                        ),
                        describe(v, TOPIC, Some(&b), LITERAL, None),
                        remove(v, &[(TOPIC, &b, LITERAL)]),
                    ]
                })
                .needs_authorizer(true),
            );
        }
        out.push(
            scenario(ApiKey::CreateAcls, v, "unknown-operation", |p| {
                let a = format!("{p}a");
                vec![
                    create(v, vec![acl(TOPIC, &a, LITERAL, "User:alice", 0, ALLOW)]),
                    remove(v, &[(TOPIC, &a, LITERAL)]),
                ]
            })
            .needs_authorizer(true),
        );
    }
    for v in versions(ApiKey::DescribeAcls) {
        out.push(
            scenario(ApiKey::DescribeAcls, v, "filters", |p| {
                let lit = format!("{p}orders");
                let longer = format!("{p}orders-eu");
                vec![
                    create(
                        3,
                        vec![
                            acl(TOPIC, &lit, LITERAL, "User:alice", READ, ALLOW),
                            acl(TOPIC, &lit, LITERAL, "User:bob", WRITE, DENY),
                            acl(TOPIC, p, PREFIXED, "User:alice", DESCRIBE, ALLOW),
                            acl(GROUP, &lit, LITERAL, "User:alice", READ, ALLOW),
                        ],
                    )
                    .setup(),
                    describe(v, TOPIC, Some(&lit), LITERAL, None).until(holds::<2>),
                    describe(v, TOPIC, Some(&longer), MATCH, None).until(holds::<1>),
                    describe(v, TOPIC, Some(&lit), MATCH, Some("User:alice")).until(holds::<2>),
                    describe(v, TOPIC, Some(p), PREFIXED, None).until(holds::<1>),
                    describe(v, ANY, Some(&lit), ANY, None).until(holds::<3>),
                    describe(v, TOPIC, Some(&lit), LITERAL, Some("User:carol")),
                    remove(
                        3,
                        &[
                            (TOPIC, &lit, LITERAL),
                            (TOPIC, p, PREFIXED),
                            (GROUP, &lit, LITERAL),
                        ],
                    ),
                ]
            })
            .needs_authorizer(true),
        );
        out.push(
            scenario(ApiKey::DescribeAcls, v, "unknown-resource-type", |p| {
                vec![describe(v, 0, Some(p), LITERAL, None)]
            })
            .needs_authorizer(true),
        );
    }
    for v in versions(ApiKey::DeleteAcls) {
        out.push(
            scenario(ApiKey::DeleteAcls, v, "filters", |p| {
                let a = format!("{p}a");
                let b = format!("{p}b");
                let by_principal =
                    filter(TOPIC, Some(&a), LITERAL).with_principal_filter(Some(s("User:alice")));
                let by_op = filter(ANY, Some(&a), ANY).with_operation(READ);
                vec![
                    create(
                        3,
                        vec![
                            acl(TOPIC, &a, LITERAL, "User:alice", READ, ALLOW),
                            acl(TOPIC, &a, LITERAL, "User:bob", READ, ALLOW),
                            acl(TOPIC, &b, LITERAL, "User:alice", WRITE, DENY),
                        ],
                    )
                    .setup(),
                    // Two filters matching one binding both report it.
                    Step::new(
                        ApiKey::DeleteAcls,
                        v,
                        DeleteAclsRequest::default().with_filters(vec![by_principal, by_op]),
                    ),
                    describe(3, TOPIC, Some(&a), LITERAL, None).until(holds::<0>),
                    remove(v, &[(TOPIC, &a, LITERAL), (TOPIC, &b, LITERAL)]),
                    // Nothing left to delete.
                    remove(v, &[(TOPIC, &b, LITERAL)]),
                ]
            })
            .needs_authorizer(true),
        );
    }
}

/// Whether a DescribeAcls answer lists `N` ACL bindings, counted over its resources: a
/// compared DescribeAcls repeats until it does, since Kafka's broker applies CreateAcls and
/// DeleteAcls from the metadata log a moment after they are answered (a describe sent at
/// once can miss them; seen in CI). `N` is what the scenario leaves in place; broker-sim
/// applies at once, so a wrong `N` costs only the settling deadline on Kafka, not a
/// false pass.
fn holds<const N: usize>(answer: &ResponseKind) -> bool {
    match answer {
        ResponseKind::DescribeAcls(d) => {
            d.resources.iter().map(|r| r.acls.len()).sum::<usize>() == N
        }
        _ => true,
    }
}

/// Repeats DescribeAcls on the literal resource until the broker's authorizer holds an
/// ACL for it: Kafka's broker learns of a new ACL from the metadata log, a moment after
/// CreateAcls answers. Setup.
fn applied(kind: i8, name: &str) -> Step {
    describe(3, kind, Some(name), LITERAL, None)
        .until(|answer| match answer {
            ResponseKind::DescribeAcls(d) => !d.resources.is_empty(),
            _ => true,
        })
        .setup()
}

/// `steps` between a DENY of `op` on the literal `kind` resource `name` and its removal.
fn denied(kind: i8, name: &str, op: i8, steps: Vec<Step>) -> Vec<Step> {
    let mut out = vec![deny(kind, name, op), applied(kind, name)];
    out.extend(steps);
    out.push(remove(3, &[(kind, name, LITERAL)]));
    out
}

/// Enforcement on the topic APIs: a topic the suite's principal may not use.
fn topics(out: &mut Vec<Scenario>) {
    for v in latest(ApiKey::Produce).into_iter().chain([3]) {
        out.push(
            scenario(ApiKey::Produce, v, "denied-topic", |p| {
                let t = format!("{p}t");
                let mut steps = create_topic(&t, 1);
                steps.extend(denied(
                    TOPIC,
                    &t,
                    WRITE,
                    vec![produce(v, &t, 0, -1, batch(&["a"]))],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::Fetch).into_iter().chain([4]) {
        out.push(
            scenario(ApiKey::Fetch, v, "denied-topic", |p| {
                let t = format!("{p}t");
                let mut steps = create_topic(&t, 1);
                steps.extend(denied(TOPIC, &t, READ, vec![fetch(v, &t, 0, 0)]));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::ListOffsets).into_iter().chain([1]) {
        out.push(
            scenario(ApiKey::ListOffsets, v, "denied-topic", |p| {
                let t = format!("{p}t");
                let mut steps = create_topic(&t, 1);
                steps.extend(denied(
                    TOPIC,
                    &t,
                    DESCRIBE,
                    vec![list_offsets(v, &t, 0, -1)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in [1, 4, 9, 10, 12] {
        // An existing topic and a missing one the principal may not describe answer
        // alike; a missing one it may describe is auto-created (CREATE on the cluster).
        out.push(
            scenario(ApiKey::Metadata, v, "denied-topics", |p| {
                let t = format!("{p}t");
                let missing = format!("{p}missing");
                let mut steps = create_topic(&t, 1);
                steps.push(deny(TOPIC, &missing, DESCRIBE));
                steps.push(applied(TOPIC, &missing));
                steps.extend(denied(
                    TOPIC,
                    &t,
                    DESCRIBE,
                    vec![metadata(v, &[&t, &missing], true)],
                ));
                steps.push(remove(3, &[(TOPIC, &missing, LITERAL)]));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in [8, 12] {
        out.push(
            scenario(ApiKey::Metadata, v, "acl-authorized-operations", |p| {
                let t = format!("{p}t");
                let mut steps = create_topic(&t, 1);
                steps.push(create(
                    3,
                    vec![
                        acl(TOPIC, &t, LITERAL, ANONYMOUS, READ, ALLOW),
                        acl(TOPIC, &t, LITERAL, ANONYMOUS, ALTER_CONFIGS, ALLOW),
                    ],
                ));
                steps.push(applied(TOPIC, &t));
                steps.push(metadata(v, &[&t], false));
                steps.push(remove(3, &[(TOPIC, &t, LITERAL)]));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::CreateTopics) {
        out.push(
            scenario(ApiKey::CreateTopics, v, "denied-topic", |p| {
                let t = format!("{p}t");
                // CREATE on the cluster still allows it; the configs stay hidden.
                let r = CreateTopicsRequest::default()
                    .with_timeout_ms(30_000)
                    .with_topics(vec![
                        CreatableTopic::default()
                            .with_name(topic(&t))
                            .with_num_partitions(1)
                            .with_replication_factor(1),
                    ]);
                denied(TOPIC, &t, ALL, vec![Step::new(ApiKey::CreateTopics, v, r)])
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::DeleteTopics) {
        out.push(
            scenario(ApiKey::DeleteTopics, v, "denied-topic", |p| {
                let missing = format!("{p}missing");
                let r = DeleteTopicsRequest::default()
                    .with_timeout_ms(30_000)
                    .with_topics(vec![
                        DeleteTopicState::default().with_name(Some(topic(&missing))),
                    ]);
                denied(
                    TOPIC,
                    &missing,
                    ALL,
                    vec![Step::new(ApiKey::DeleteTopics, v, r)],
                )
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::CreatePartitions) {
        out.push(
            scenario(ApiKey::CreatePartitions, v, "denied-topic", |p| {
                let t = format!("{p}t");
                let r = CreatePartitionsRequest::default()
                    .with_timeout_ms(30_000)
                    .with_topics(vec![
                        CreatePartitionsTopic::default()
                            .with_name(topic(&t))
                            .with_count(2)
                            .with_assignments(None),
                    ]);
                let mut steps = create_topic(&t, 1);
                steps.extend(denied(
                    TOPIC,
                    &t,
                    ALL,
                    vec![Step::new(ApiKey::CreatePartitions, v, r)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::DeleteRecords) {
        out.push(
            scenario(ApiKey::DeleteRecords, v, "denied-topic", |p| {
                let t = format!("{p}t");
                let r = DeleteRecordsRequest::default()
                    .with_timeout_ms(30_000)
                    .with_topics(vec![
                        DeleteRecordsTopic::default()
                            .with_name(topic(&t))
                            .with_partitions(vec![
                                DeleteRecordsPartition::default()
                                    .with_partition_index(0)
                                    .with_offset(0),
                            ]),
                    ]);
                let mut steps = create_topic(&t, 1);
                steps.extend(denied(
                    TOPIC,
                    &t,
                    ALL,
                    vec![Step::new(ApiKey::DeleteRecords, v, r)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::DescribeProducers) {
        out.push(
            scenario(ApiKey::DescribeProducers, v, "denied-topic", |p| {
                let (t, ok) = (format!("{p}t"), format!("{p}ok"));
                let request = |name: &str| {
                    TopicRequest::default()
                        .with_name(topic(name))
                        .with_partition_indexes(vec![0])
                };
                let r = DescribeProducersRequest::default()
                    .with_topics(vec![request(&t), request(&ok)]);
                let mut steps = create_topic(&t, 1);
                steps.extend(create_topic(&ok, 1));
                steps.extend(denied(
                    TOPIC,
                    &t,
                    READ,
                    vec![Step::new(ApiKey::DescribeProducers, v, r)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::DescribeConfigs) {
        out.push(
            scenario(ApiKey::DescribeConfigs, v, "denied-topic", |p| {
                let t = format!("{p}t");
                let r = DescribeConfigsRequest::default().with_resources(vec![
                    DescribeConfigsResource::default()
                        .with_resource_type(TOPIC)
                        .with_resource_name(s(&t))
                        .with_configuration_keys(Some(vec![s("retention.ms")])),
                ]);
                let mut steps = create_topic(&t, 1);
                steps.extend(denied(
                    TOPIC,
                    &t,
                    DESCRIBE_CONFIGS,
                    vec![Step::new(ApiKey::DescribeConfigs, v, r)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::IncrementalAlterConfigs) {
        out.push(
            scenario(ApiKey::IncrementalAlterConfigs, v, "denied-topic", |p| {
                let t = format!("{p}t");
                let r = IncrementalAlterConfigsRequest::default().with_resources(vec![
                    AlterConfigsResource::default()
                        .with_resource_type(TOPIC)
                        .with_resource_name(s(&t))
                        .with_configs(vec![
                            AlterableConfig::default()
                                .with_name(s("retention.ms"))
                                .with_config_operation(0)
                                .with_value(Some(s("1000"))),
                        ]),
                ]);
                let mut steps = create_topic(&t, 1);
                steps.extend(denied(
                    TOPIC,
                    &t,
                    ALTER_CONFIGS,
                    vec![Step::new(ApiKey::IncrementalAlterConfigs, v, r)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
}

/// Enforcement on the group and transaction APIs.
fn groups(out: &mut Vec<Scenario>) {
    for v in latest(ApiKey::FindCoordinator).into_iter().chain([2]) {
        out.push(
            scenario(ApiKey::FindCoordinator, v, "denied-group", |p| {
                let g = format!("{p}g");
                let mut r = FindCoordinatorRequest::default();
                if v >= 4 {
                    r.coordinator_keys = vec![s(&g)];
                } else {
                    r.key = s(&g);
                }
                denied(
                    GROUP,
                    &g,
                    DESCRIBE,
                    vec![Step::new(ApiKey::FindCoordinator, v, r)],
                )
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::JoinGroup) {
        out.push(
            scenario(ApiKey::JoinGroup, v, "denied-group", |p| {
                let g = format!("{p}g");
                let r = JoinGroupRequest::default()
                    .with_group_id(group(&g))
                    .with_session_timeout_ms(10_000)
                    .with_rebalance_timeout_ms(10_000)
                    .with_member_id(s(""))
                    .with_protocol_type(s("consumer"));
                denied(GROUP, &g, READ, vec![Step::new(ApiKey::JoinGroup, v, r)])
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::OffsetCommit) {
        out.push(
            scenario(ApiKey::OffsetCommit, v, "denied-group", |p| {
                let (g, t) = (format!("{p}g"), format!("{p}t"));
                let mut steps = create_topic(&t, 2);
                steps.extend(denied(GROUP, &g, READ, vec![commit(v, &g, &t)]));
                steps
            })
            .needs_authorizer(true),
        );
        out.push(
            scenario(ApiKey::OffsetCommit, v, "denied-topic", |p| {
                let (g, t) = (format!("{p}g"), format!("{p}t"));
                let mut steps = create_topic(&t, 2);
                steps.extend(denied(TOPIC, &t, READ, vec![commit(v, &g, &t)]));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::OffsetFetch).into_iter().chain([7]) {
        // Every topic of the group: those it may not describe are left out.
        out.push(
            scenario(ApiKey::OffsetFetch, v, "all-topics-one-denied", |p| {
                let (g, t, ok) = (format!("{p}g"), format!("{p}t"), format!("{p}ok"));
                let mut steps = create_topic(&t, 2);
                steps.extend(create_topic(&ok, 2));
                steps.push(find(4, &g, 0).setup());
                steps.push(commit(9, &g, &t).setup());
                steps.push(commit(9, &g, &ok).setup());
                let r = if v >= 8 {
                    OffsetFetchRequest::default().with_groups(vec![
                        OffsetFetchRequestGroup::default()
                            .with_group_id(group(&g))
                            .with_topics(None),
                    ])
                } else {
                    OffsetFetchRequest::default()
                        .with_group_id(group(&g))
                        .with_topics(None)
                };
                steps.extend(denied(
                    TOPIC,
                    &t,
                    DESCRIBE,
                    vec![Step::new(ApiKey::OffsetFetch, v, r)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::OffsetDelete) {
        out.push(
            scenario(ApiKey::OffsetDelete, v, "denied-topic", |p| {
                let (g, t, ok) = (format!("{p}g"), format!("{p}t"), format!("{p}ok"));
                let mut steps = create_topic(&t, 2);
                steps.extend(create_topic(&ok, 2));
                steps.push(find(4, &g, 0).setup());
                steps.push(commit(9, &g, &t).setup());
                steps.push(commit(9, &g, &ok).setup());
                let topic_entry = |name: &str| {
                    OffsetDeleteRequestTopic::default()
                        .with_name(topic(name))
                        .with_partitions(vec![
                            OffsetDeleteRequestPartition::default().with_partition_index(0),
                        ])
                };
                let r = OffsetDeleteRequest::default()
                    .with_group_id(group(&g))
                    .with_topics(vec![topic_entry(&t), topic_entry(&ok)]);
                steps.extend(denied(
                    TOPIC,
                    &t,
                    READ,
                    vec![Step::new(ApiKey::OffsetDelete, v, r)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::OffsetFetch).into_iter().chain([7]) {
        out.push(
            scenario(ApiKey::OffsetFetch, v, "denied-group", |p| {
                let (g, t) = (format!("{p}g"), format!("{p}t"));
                let mut steps = create_topic(&t, 2);
                steps.extend(denied(GROUP, &g, DESCRIBE, vec![fetch_offsets(v, &g, &t)]));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::DescribeGroups) {
        out.push(
            scenario(ApiKey::DescribeGroups, v, "denied-group", |p| {
                let (g, other) = (format!("{p}g"), format!("{p}other"));
                let r = DescribeGroupsRequest::default()
                    .with_groups(vec![group(&other), group(&g)])
                    .with_include_authorized_operations(true);
                // The coordinator is ready for the group that may be described.
                let mut steps = vec![find(4, &other, 0).setup()];
                steps.extend(denied(
                    GROUP,
                    &g,
                    DESCRIBE,
                    vec![Step::new(ApiKey::DescribeGroups, v, r)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::DeleteGroups) {
        out.push(
            scenario(ApiKey::DeleteGroups, v, "denied-group", |p| {
                let (g, other) = (format!("{p}g"), format!("{p}other"));
                let r = DeleteGroupsRequest::default()
                    .with_groups_names(vec![group(&g), group(&other)]);
                let mut steps = vec![find(4, &other, 0).setup()];
                steps.extend(denied(
                    GROUP,
                    &g,
                    ALL,
                    vec![Step::new(ApiKey::DeleteGroups, v, r)],
                ));
                steps
            })
            .needs_authorizer(true),
        );
    }
    for v in latest(ApiKey::InitProducerId) {
        out.push(
            scenario(ApiKey::InitProducerId, v, "denied-transactional-id", |p| {
                let id = format!("{p}txn");
                let r = InitProducerIdRequest::default()
                    .with_transactional_id(Some(s(&id).into()))
                    .with_transaction_timeout_ms(60_000);
                denied(
                    TRANSACTIONAL_ID,
                    &id,
                    WRITE,
                    vec![Step::new(ApiKey::InitProducerId, v, r)],
                )
            })
            .needs_authorizer(true),
        );
    }
}

/// ACLs judge the principal a SASL login gives: a DENY for `User:alice` refuses alice on
/// the SASL_PLAINTEXT listener, where she logs in with PLAIN (fidelity/kafka/start.sh).
fn sasl_principal(out: &mut Vec<Scenario>) {
    let login = || {
        vec![
            Step::new(
                ApiKey::SaslHandshake,
                1,
                kafka_protocol::messages::SaslHandshakeRequest::default()
                    .with_mechanism(s("PLAIN")),
            )
            .setup(),
            Step::new(
                ApiKey::SaslAuthenticate,
                2,
                kafka_protocol::messages::SaslAuthenticateRequest::default()
                    .with_auth_bytes(bytes::Bytes::from_static(b"\0alice\0alice-secret")),
            )
            .setup(),
        ]
    };
    let alice = |kind: i8, name: &str, op: i8| {
        create(3, vec![acl(kind, name, LITERAL, "User:alice", op, DENY)])
    };
    out.push(
        scenario(ApiKey::Metadata, 12, "denied-to-sasl-user", |p| {
            let t = format!("{p}t");
            let mut steps = login();
            steps.extend(create_topic(&t, 1));
            steps.push(alice(TOPIC, &t, DESCRIBE));
            steps.push(applied(TOPIC, &t));
            steps.push(metadata(12, &[&t], false));
            steps.push(remove(3, &[(TOPIC, &t, LITERAL)]));
            steps
        })
        .over_sasl()
        .needs_authorizer(true),
    );
    let v = *versions(ApiKey::Produce).end();
    out.push(
        scenario(ApiKey::Produce, v, "denied-to-sasl-user", |p| {
            let t = format!("{p}t");
            let mut steps = login();
            steps.extend(create_topic(&t, 1));
            steps.push(alice(TOPIC, &t, WRITE));
            steps.push(applied(TOPIC, &t));
            steps.push(produce(v, &t, 0, -1, batch(&["a"])));
            steps.push(remove(3, &[(TOPIC, &t, LITERAL)]));
            steps
        })
        .over_sasl()
        .needs_authorizer(true),
    );
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    acl_apis(&mut out);
    topics(&mut out);
    groups(&mut out);
    sasl_principal(&mut out);
    out
}
