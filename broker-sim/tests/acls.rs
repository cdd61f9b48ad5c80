//! ACLs over the wire: the ACL APIs with and without an authorizer, and enforcement as
//! Kafka's `StandardAuthorizer` judges the PLAINTEXT principal `User:ANONYMOUS`.

mod support;

use broker_sim::{
    AclBinding, AclFilter, AclOperation, Cluster, PatternType, Permission, ResourceType,
};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::{
    CreateAclsRequest, DeleteAclsRequest, DeleteTopicsRequest, DescribeAclsRequest,
    JoinGroupRequest, ListGroupsRequest, MetadataRequest,
};
use support::*;

const ANONYMOUS: &str = "User:ANONYMOUS";

fn binding(kind: ResourceType, name: &str, op: AclOperation, permission: Permission) -> AclBinding {
    AclBinding {
        resource_type: kind,
        resource_name: name.into(),
        pattern_type: PatternType::Literal,
        principal: ANONYMOUS.into(),
        host: "*".into(),
        operation: op,
        permission,
    }
}

fn open_cluster() -> Cluster {
    Cluster::builder()
        .authorizer(true)
        .allow_everyone_if_no_acl_found(true)
        .start()
        .unwrap()
}

fn creation(kind: i8, name: &str, pattern: i8, op: i8, permission: i8) -> AclCreation {
    AclCreation::default()
        .with_resource_type(kind)
        .with_resource_name(str_bytes(name))
        .with_resource_pattern_type(pattern)
        .with_principal(str_bytes(ANONYMOUS))
        .with_host(str_bytes("*"))
        .with_operation(op)
        .with_permission_type(permission)
}

#[test]
fn without_an_authorizer_the_acl_apis_answer_security_disabled() {
    let cluster = Cluster::builder().start().unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    let described = conn.send(
        3,
        &DescribeAclsRequest::default().with_resource_type_filter(1),
    );
    assert_eq!(described.error_code, ResponseError::SecurityDisabled.code());
    let created = conn.send(
        3,
        &CreateAclsRequest::default().with_creations(vec![creation(2, "t", 3, 3, 3)]),
    );
    assert_eq!(
        created.results[0].error_code,
        ResponseError::SecurityDisabled.code()
    );
}

#[test]
fn created_acls_are_described_and_deleted_and_invalid_ones_refused_with_kafkas_message() {
    let cluster = open_cluster();
    let mut conn = Conn::to_broker(&cluster, 1);
    let created = conn.send(
        3,
        &CreateAclsRequest::default().with_creations(vec![
            creation(2, "orders", 3, 3, 3),
            creation(4, "not-the-cluster", 3, 7, 3),
            creation(2, "", 3, 3, 3),
        ]),
    );
    let codes: Vec<i16> = created.results.iter().map(|r| r.error_code).collect();
    let invalid = ResponseError::InvalidRequest.code();
    assert_eq!(codes, vec![0, invalid, invalid]);
    let messages: Vec<String> = created.results[1..]
        .iter()
        .map(|r| r.error_message.as_deref().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        messages,
        vec![
            "The only valid name for the CLUSTER resource is kafka-cluster",
            "Invalid empty resource name",
        ]
    );
    // A filter's value (pattern MATCH) where a binding needs one: Kafka's broker cannot
    // build the bindings, and the whole request fails.
    let failed = conn.send(
        3,
        &CreateAclsRequest::default().with_creations(vec![
            creation(2, "other", 3, 3, 3),
            creation(2, "orders", 2, 3, 3),
        ]),
    );
    let codes: Vec<i16> = failed.results.iter().map(|r| r.error_code).collect();
    let unknown = ResponseError::UnknownServerError.code();
    assert_eq!(codes, vec![unknown, unknown]);
    assert_eq!(cluster.acls().len(), 1, "nothing more created");
    let described = conn.send(
        3,
        &DescribeAclsRequest::default()
            .with_resource_type_filter(2)
            .with_resource_name_filter(Some(str_bytes("orders")))
            .with_pattern_type_filter(2)
            .with_principal_filter(None)
            .with_host_filter(None)
            .with_operation(1)
            .with_permission_type(1),
    );
    assert_eq!(described.error_code, 0);
    assert_eq!(described.resources.len(), 1);
    assert_eq!(described.resources[0].acls.len(), 1);
    let deleted = conn.send(
        3,
        &DeleteAclsRequest::default().with_filters(vec![
            DeleteAclsFilter::default()
                .with_resource_type_filter(1)
                .with_resource_name_filter(None)
                .with_pattern_type_filter(1)
                .with_principal_filter(None)
                .with_host_filter(None)
                .with_operation(1)
                .with_permission_type(1),
        ]),
    );
    assert_eq!(deleted.filter_results[0].matching_acls.len(), 1);
    assert!(cluster.acls().is_empty());
}

#[test]
fn a_filter_with_an_unknown_field_closes_the_connection_as_kafka_cannot_parse_it() {
    let cluster = open_cluster();
    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write(
        3,
        &DescribeAclsRequest::default().with_resource_type_filter(0),
    );
    conn.assert_closed("DescribeAcls with an UNKNOWN resource type");
}

#[test]
fn a_topic_that_may_not_be_described_is_refused_whether_or_not_it_exists() {
    let cluster = open_cluster();
    cluster.create_topic("secret", 1).unwrap();
    for name in ["secret", "no-such-topic"] {
        cluster
            .add_acl(binding(
                ResourceType::Topic,
                name,
                AclOperation::Describe,
                Permission::Deny,
            ))
            .unwrap();
    }
    // DELETE on the cluster would allow deleting any topic, as in Kafka.
    cluster
        .add_acl(binding(
            ResourceType::Cluster,
            "kafka-cluster",
            AclOperation::Delete,
            Permission::Deny,
        ))
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    let response = metadata(&mut conn, 12, &["secret", "no-such-topic"]);
    for t in &response.topics {
        assert_eq!(
            t.error_code,
            ResponseError::TopicAuthorizationFailed.code(),
            "{t:?}"
        );
    }
    assert!(
        !cluster.topics().iter().any(|t| t == "no-such-topic"),
        "not auto-created"
    );
    // Asked for every topic, the hidden one is left out.
    let all = conn.send(12, &MetadataRequest::default().with_topics(None));
    assert!(
        all.topics
            .iter()
            .all(|t| t.name.as_deref().map(|n| n.as_str()) != Some("secret"))
    );
    let deleted = conn.send(
        6,
        &DeleteTopicsRequest::default().with_topics(vec![
            DeleteTopicState::default().with_name(Some(name("secret"))),
            DeleteTopicState::default().with_name(Some(name("no-such-topic"))),
        ]),
    );
    for t in &deleted.responses {
        assert_eq!(
            t.error_code,
            ResponseError::TopicAuthorizationFailed.code(),
            "{t:?}"
        );
    }
    assert!(cluster.topics().iter().any(|t| t == "secret"));
}

#[test]
fn produce_and_fetch_refuse_only_the_partitions_of_denied_topics() {
    let cluster = open_cluster();
    cluster.create_topic("open", 1).unwrap();
    cluster.create_topic("closed", 1).unwrap();
    cluster
        .add_acl(binding(
            ResourceType::Topic,
            "closed",
            AclOperation::All,
            Permission::Deny,
        ))
        .unwrap();
    let mut conn = Conn::to_leader(&cluster, "open", 0);
    let mut request = produce_request("open", 0, batch_of(&["a"]));
    request
        .topic_data
        .extend(produce_request("closed", 0, batch_of(&["b"])).topic_data);
    if leader(&cluster, "open", 0) == leader(&cluster, "closed", 0) {
        let answer = conn.send(9, &request);
        let codes: Vec<(String, i16)> = answer
            .responses
            .iter()
            .map(|t| (t.name.to_string(), t.partition_responses[0].error_code))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("open".into(), 0),
                (
                    "closed".into(),
                    ResponseError::TopicAuthorizationFailed.code()
                )
            ]
        );
    }
    let mut fetch_conn = Conn::to_leader(&cluster, "closed", 0);
    let fetched = fetch_conn.send(12, &fetch_request("closed", 0, 0));
    assert_eq!(
        fetched.responses[0].partitions[0].error_code,
        ResponseError::TopicAuthorizationFailed.code()
    );
    assert!(cluster.records("closed").is_empty());
}

#[test]
fn a_denied_group_is_refused_and_hidden_from_list_groups() {
    let cluster = open_cluster();
    cluster
        .add_acl(binding(
            ResourceType::Group,
            "g",
            AclOperation::Read,
            Permission::Deny,
        ))
        .unwrap();
    // Once a resource has an ACL, what no ALLOW grants is denied: FindCoordinator needs
    // DESCRIBE.
    cluster
        .add_acl(binding(
            ResourceType::Group,
            "g",
            AclOperation::Describe,
            Permission::Allow,
        ))
        .unwrap();
    let mut conn = Conn::to_coordinator(&cluster, "g");
    let joined = conn.send(
        9,
        &JoinGroupRequest::default()
            .with_group_id(str_bytes("g").into())
            .with_session_timeout_ms(10_000)
            .with_rebalance_timeout_ms(10_000)
            .with_protocol_type(str_bytes("consumer")),
    );
    assert_eq!(
        joined.error_code,
        ResponseError::GroupAuthorizationFailed.code()
    );
    let listed = conn.send(5, &ListGroupsRequest::default());
    assert!(listed.groups.is_empty());
}

#[test]
fn super_users_and_closed_clusters() {
    // Without allow-everyone, a resource no ACL names is closed to all but super users.
    let closed = Cluster::builder().authorizer(true).start().unwrap();
    let mut conn = Conn::to_broker(&closed, 1);
    let created = conn.send(
        3,
        &CreateAclsRequest::default().with_creations(vec![creation(2, "t", 3, 3, 3)]),
    );
    assert_eq!(
        created.results[0].error_code,
        ResponseError::ClusterAuthorizationFailed.code()
    );
    let open = Cluster::builder()
        .authorizer(true)
        .super_user(ANONYMOUS)
        .start()
        .unwrap();
    open.add_acl(binding(
        ResourceType::Cluster,
        "kafka-cluster",
        AclOperation::All,
        Permission::Deny,
    ))
    .unwrap();
    let mut conn = Conn::to_broker(&open, 1);
    let created = conn.send(
        3,
        &CreateAclsRequest::default().with_creations(vec![creation(2, "t", 3, 3, 3)]),
    );
    assert_eq!(created.results[0].error_code, 0);
    assert_eq!(open.remove_acls(&AclFilter::any()).len(), 2);
}

#[test]
fn a_topic_given_by_id_is_judged_by_its_name() {
    let cluster = open_cluster();
    cluster.create_topic("closed", 1).unwrap();
    let id = topic_id(&cluster, "closed");
    cluster
        .add_acl(binding(
            ResourceType::Topic,
            "closed",
            AclOperation::Write,
            Permission::Deny,
        ))
        .unwrap();
    let mut conn = Conn::to_leader(&cluster, "closed", 0);
    let answer = conn.send(13, &produce_request_by_id(id, 0, batch_of(&["a"])));
    assert_eq!(
        only_partition(&answer).error_code,
        ResponseError::TopicAuthorizationFailed.code()
    );
}
