//! The cluster-level APIs over the wire: UpdateFeatures (a transaction.version change
//! that ApiVersions reports at once), UnregisterBroker (a stopped broker forgotten until
//! it starts again), ListConfigResources (client-metrics subscriptions, live brokers and topics) and the SCRAM
//! credential APIs (stored, described, deleted, with Kafka's refusals).

mod support;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::update_features_request::FeatureUpdateKey;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, ApiVersionsRequest, DescribeClusterRequest,
    DescribeUserScramCredentialsRequest, ListConfigResourcesRequest, UnregisterBrokerRequest,
    UpdateFeaturesRequest,
};
use support::*;

const UPGRADE: i8 = 1;
const SAFE_DOWNGRADE: i8 = 2;

/// transaction.version's finalized level and the features epoch, as ApiVersions v4 says.
fn finalized(cluster: &Cluster) -> (Option<i16>, i64) {
    let response = Conn::to_broker(cluster, 1).send(4, &ApiVersionsRequest::default());
    let level = response
        .finalized_features
        .iter()
        .find(|f| f.name.as_str() == "transaction.version")
        .map(|f| f.max_version_level);
    (level, response.finalized_features_epoch)
}

fn update_transaction_version(
    cluster: &Cluster,
    level: i16,
    kind: i8,
    validate_only: bool,
) -> (i16, Option<String>) {
    let request = UpdateFeaturesRequest::default()
        .with_timeout_ms(10_000)
        .with_validate_only(validate_only)
        .with_feature_updates(vec![
            FeatureUpdateKey::default()
                .with_feature(str_bytes("transaction.version"))
                .with_max_version_level(level)
                .with_upgrade_type(kind),
        ]);
    let response = Conn::to_broker(cluster, 1).send(2, &request);
    (
        response.error_code,
        response.error_message.map(|m| m.to_string()),
    )
}

#[test]
fn update_features_changes_the_transaction_version_that_api_versions_reports() {
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    assert_eq!(finalized(&cluster), (Some(2), 1));

    // A downgrade must say so; validate_only changes nothing.
    let (code, message) = update_transaction_version(&cluster, 1, UPGRADE, false);
    assert_eq!(code, ResponseError::InvalidUpdateVersion.code());
    assert!(message.unwrap().contains("Can't downgrade"));
    assert_eq!(
        update_transaction_version(&cluster, 1, SAFE_DOWNGRADE, true).0,
        0
    );
    assert_eq!(finalized(&cluster), (Some(2), 1));

    assert_eq!(
        update_transaction_version(&cluster, 1, SAFE_DOWNGRADE, false).0,
        0
    );
    assert_eq!(finalized(&cluster), (Some(1), 2));
    // Level 0 is finalized by not being listed.
    assert_eq!(
        update_transaction_version(&cluster, 0, SAFE_DOWNGRADE, false).0,
        0
    );
    assert_eq!(finalized(&cluster), (None, 3));
    assert_eq!(update_transaction_version(&cluster, 2, UPGRADE, false).0, 0);
    assert_eq!(finalized(&cluster), (Some(2), 4));
    // Beyond what broker-sim supports.
    let (code, message) = update_transaction_version(&cluster, 3, UPGRADE, false);
    assert_eq!(code, ResponseError::InvalidUpdateVersion.code());
    assert!(message.unwrap().contains("only supports versions 0-2"));
}

/// (broker id, fenced) of DescribeCluster v2, fenced brokers included.
fn registered(cluster: &Cluster, via: i32) -> Vec<(i32, bool)> {
    let response = Conn::to_broker(cluster, via).send(
        2,
        &DescribeClusterRequest::default().with_include_fenced_brokers(true),
    );
    response
        .brokers
        .iter()
        .map(|b| (b.broker_id.0, b.is_fenced))
        .collect()
}

fn unregister(cluster: &Cluster, id: i32) -> i16 {
    Conn::to_broker(cluster, 1)
        .send(
            0,
            &UnregisterBrokerRequest::default().with_broker_id(id.into()),
        )
        .error_code
}

#[test]
fn an_unregistered_stopped_broker_disappears_until_it_starts_again() {
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    assert_eq!(
        unregister(&cluster, 42),
        ResponseError::BrokerIdNotRegistered.code()
    );
    // A running broker registers again at once: nothing changes.
    assert_eq!(unregister(&cluster, 2), 0);
    assert_eq!(
        registered(&cluster, 1),
        vec![(1, false), (2, false), (3, false)]
    );

    cluster.stop_broker(3).unwrap();
    assert_eq!(
        registered(&cluster, 1),
        vec![(1, false), (2, false), (3, true)]
    );
    assert_eq!(unregister(&cluster, 3), 0);
    assert_eq!(registered(&cluster, 1), vec![(1, false), (2, false)]);
    assert_eq!(
        unregister(&cluster, 3),
        ResponseError::BrokerIdNotRegistered.code()
    );

    cluster.start_broker(3).unwrap();
    assert_eq!(
        registered(&cluster, 1),
        vec![(1, false), (2, false), (3, false)]
    );
}

#[test]
fn list_config_resources_lists_subscriptions_live_brokers_and_topics() {
    let cluster = Cluster::builder()
        .brokers(2)
        .topic("a", 1)
        .topic("b", 1)
        .start()
        .unwrap();
    cluster.stop_broker(2).unwrap();
    cluster
        .subscribe_client_metrics("producers", &["org.apache.kafka.producer."], 1000)
        .unwrap();
    let response = Conn::to_broker(&cluster, 1).send(1, &ListConfigResourcesRequest::default());
    let listed: Vec<(i8, String)> = response
        .config_resources
        .iter()
        .map(|r| (r.resource_type, r.resource_name.to_string()))
        .collect();
    let expected: Vec<(i8, String)> = [(16, "producers"), (8, "1"), (4, "1"), (2, "a"), (2, "b")]
        .iter()
        .map(|(t, n)| (*t, n.to_string()))
        .collect();
    assert_eq!(listed, expected);
    // v0 (ListClientMetricsResources) lists the subscriptions only.
    let v0 = Conn::to_broker(&cluster, 1).send(0, &ListConfigResourcesRequest::default());
    let names: Vec<String> = v0
        .config_resources
        .iter()
        .map(|r| r.resource_name.to_string())
        .collect();
    assert_eq!(names, ["producers"]);

    let unsupported = Conn::to_broker(&cluster, 1).send(
        1,
        &ListConfigResourcesRequest::default().with_resource_types(vec![2, 1]),
    );
    assert_eq!(
        unsupported.error_code,
        ResponseError::UnsupportedVersion.code()
    );
    assert!(unsupported.config_resources.is_empty());
}

fn upsert(user: &str, mechanism: i8, iterations: i32) -> ScramCredentialUpsertion {
    ScramCredentialUpsertion::default()
        .with_name(str_bytes(user))
        .with_mechanism(mechanism)
        .with_iterations(iterations)
        .with_salt(bytes::Bytes::from_static(b"salt"))
        .with_salted_password(bytes::Bytes::from_static(&[9; 32]))
}

fn delete(user: &str, mechanism: i8) -> ScramCredentialDeletion {
    ScramCredentialDeletion::default()
        .with_name(str_bytes(user))
        .with_mechanism(mechanism)
}

/// (user, error code) of an AlterUserScramCredentials.
fn alter(
    cluster: &Cluster,
    deletions: Vec<ScramCredentialDeletion>,
    upsertions: Vec<ScramCredentialUpsertion>,
) -> Vec<(String, i16)> {
    let request = AlterUserScramCredentialsRequest::default()
        .with_deletions(deletions)
        .with_upsertions(upsertions);
    Conn::to_broker(cluster, 1)
        .send(0, &request)
        .results
        .iter()
        .map(|r| (r.user.to_string(), r.error_code))
        .collect()
}

/// A described user: (name, error code, [(mechanism, iterations)]).
type Described = (String, i16, Vec<(i8, i32)>);

/// The users a DescribeUserScramCredentials describes.
fn describe(cluster: &Cluster, users: Option<&[&str]>) -> Vec<Described> {
    let request = DescribeUserScramCredentialsRequest::default().with_users(users.map(|us| {
        us.iter()
            .map(|u| UserName::default().with_name(str_bytes(u)))
            .collect()
    }));
    Conn::to_broker(cluster, 1)
        .send(0, &request)
        .results
        .iter()
        .map(|r| {
            (
                r.user.to_string(),
                r.error_code,
                r.credential_infos
                    .iter()
                    .map(|c| (c.mechanism, c.iterations))
                    .collect(),
            )
        })
        .collect()
}

#[test]
fn scram_credentials_are_stored_described_and_deleted_as_kafka_does() {
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    let ok = |u: &str| (u.to_string(), 0);
    assert_eq!(
        alter(
            &cluster,
            vec![],
            vec![upsert("alice", 1, 4096), upsert("bob", 2, 8192)]
        ),
        vec![ok("alice"), ok("bob")]
    );
    assert_eq!(
        alter(&cluster, vec![], vec![upsert("alice", 2, 10_000)]),
        vec![ok("alice")]
    );
    assert_eq!(
        describe(&cluster, None),
        vec![
            ("alice".to_string(), 0, vec![(1, 4096), (2, 10_000)]),
            ("bob".to_string(), 0, vec![(2, 8192)]),
        ]
    );

    // Refusals: the user altered twice fails as a whole, the others are applied.
    let not_found = ResponseError::ResourceNotFound.code();
    let twice = ResponseError::DuplicateResource.code();
    let unacceptable = ResponseError::UnacceptableCredential.code();
    assert_eq!(
        alter(
            &cluster,
            vec![delete("alice", 1), delete("carol", 1)],
            vec![
                upsert("alice", 1, 4096),
                upsert("dave", 1, 100),
                upsert("bob", 1, 4096)
            ],
        ),
        vec![
            ok("bob"),
            ("carol".to_string(), not_found),
            ("alice".to_string(), twice),
            ("dave".to_string(), unacceptable),
        ]
    );
    assert_eq!(
        describe(&cluster, Some(&["alice", "bob", "carol", "bob"])),
        vec![
            ("alice".to_string(), 0, vec![(1, 4096), (2, 10_000)]),
            ("bob".to_string(), twice, vec![]),
            ("carol".to_string(), not_found, vec![]),
        ]
    );
    assert_eq!(
        alter(&cluster, vec![delete("alice", 1),], vec![]),
        vec![ok("alice")]
    );
    assert_eq!(
        describe(&cluster, Some(&["alice"])),
        vec![("alice".to_string(), 0, vec![(2, 10_000)])]
    );
}

/// GetTelemetrySubscriptions then PushTelemetry of `payload`, as one client.
mod telemetry {
    use super::*;
    use kafka_protocol::messages::{GetTelemetrySubscriptionsRequest, PushTelemetryRequest};

    fn subscriptions(conn: &mut Conn) -> (uuid::Uuid, i32, Vec<String>, i32) {
        let got = conn.send(0, &GetTelemetrySubscriptionsRequest::default());
        assert_eq!(got.error_code, 0);
        (
            got.client_instance_id,
            got.subscription_id,
            got.requested_metrics
                .iter()
                .map(|m| m.to_string())
                .collect(),
            got.push_interval_ms,
        )
    }

    fn push(conn: &mut Conn, id: uuid::Uuid, subscription: i32, payload: &'static [u8]) -> i16 {
        conn.send(
            0,
            &PushTelemetryRequest::default()
                .with_client_instance_id(id)
                .with_subscription_id(subscription)
                .with_metrics(bytes::Bytes::from_static(payload)),
        )
        .error_code
    }

    #[test]
    fn pushes_follow_the_subscription_and_its_interval_on_the_cluster_clock() {
        let cluster = Cluster::builder()
            .brokers(1)
            .manual_clock(1_800_000_000_000)
            .start()
            .unwrap();
        let mut conn = Conn::to_broker(&cluster, 1);
        // No subscription: nothing to push, ask again in five minutes.
        let (_, _, metrics, interval) = subscriptions(&mut conn);
        assert_eq!((metrics.len(), interval), (0, 300_000));

        cluster
            .subscribe_client_metrics("all", &["*"], 10_000)
            .unwrap();
        let (id, subscription, metrics, interval) = subscriptions(&mut conn);
        assert_eq!((metrics, interval), (vec![String::new()], 10_000));
        assert_eq!(push(&mut conn, id, subscription, b""), 0);
        // Too soon: before half the interval.
        assert_eq!(
            push(&mut conn, id, subscription, b""),
            ResponseError::ThrottlingQuotaExceeded.code()
        );
        cluster.advance(std::time::Duration::from_secs(5));
        assert_eq!(push(&mut conn, id, subscription, b""), 0);
        // Not an OTLP message.
        cluster.advance(std::time::Duration::from_secs(10));
        assert_eq!(
            push(&mut conn, id, subscription, b"\xff\xff"),
            ResponseError::InvalidRecord.code()
        );

        // A changed subscription makes the old id unknown.
        cluster
            .subscribe_client_metrics("producers", &["org.apache.kafka.producer."], 5_000)
            .unwrap();
        cluster.advance(std::time::Duration::from_secs(10));
        assert_eq!(
            push(&mut conn, id, subscription, b""),
            ResponseError::UnknownSubscriptionId.code()
        );
        assert_eq!(
            push(&mut conn, uuid::Uuid::nil(), subscription, b""),
            ResponseError::InvalidRequest.code()
        );
        let clients = cluster.client_metrics();
        assert_eq!(clients.len(), 1);
        assert_eq!((clients[0].client_instance_id, clients[0].pushes), (id, 2));
    }
}

/// DescribeQuorum: (leader, epoch, high watermark, [(voter, log end offset)]).
fn quorum(cluster: &Cluster, via: i32) -> (i32, i32, i64, Vec<(i32, i64)>) {
    use kafka_protocol::messages::DescribeQuorumRequest;
    use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
    let request = DescribeQuorumRequest::default().with_topics(vec![
        TopicData::default()
            .with_topic_name(name("__cluster_metadata"))
            .with_partitions(vec![PartitionData::default().with_partition_index(0)]),
    ]);
    let response = Conn::to_broker(cluster, via).send(2, &request);
    let p = &response.topics[0].partitions[0];
    assert_eq!(p.error_code, 0);
    (
        p.leader_id.0,
        p.leader_epoch,
        p.high_watermark,
        p.current_voters
            .iter()
            .map(|r| (r.replica_id.0, r.log_end_offset))
            .collect(),
    )
}

#[test]
fn the_metadata_quorum_follows_the_controller_and_stopped_voters_lag() {
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    let (leader, epoch, hw, voters) = quorum(&cluster, 2);
    assert_eq!((leader, epoch), (1, 1));
    assert_eq!(voters, vec![(1, hw), (2, hw), (3, hw)]);

    cluster.create_topic("t", 1).unwrap();
    cluster.stop_broker(1).unwrap();
    let (leader, epoch, after, voters) = quorum(&cluster, 2);
    assert_eq!((leader, epoch), (2, 2), "the next broker leads the quorum");
    assert!(
        after > hw,
        "creating a topic and fencing a broker are metadata changes"
    );
    assert_eq!(voters, vec![(1, after), (2, after), (3, after)]);

    cluster.delete_topic("t").unwrap();
    let (_, _, later, voters) = quorum(&cluster, 2);
    assert_eq!(
        voters,
        vec![(1, after), (2, later), (3, later)],
        "the stopped voter lags"
    );
}

#[test]
fn the_static_quorum_refuses_voter_changes_as_kafka_does() {
    use kafka_protocol::messages::add_raft_voter_request::Listener;
    use kafka_protocol::messages::{AddRaftVoterRequest, RemoveRaftVoterRequest};
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    let dir = uuid::Uuid::from_u128(1);
    let add = |cluster_id: Option<&str>| {
        let request = AddRaftVoterRequest::default()
            .with_cluster_id(cluster_id.map(str_bytes))
            .with_voter_id(4)
            .with_voter_directory_id(dir)
            .with_listeners(vec![
                Listener::default()
                    .with_name(str_bytes("CONTROLLER"))
                    .with_host(str_bytes("127.0.0.1"))
                    .with_port(1),
            ]);
        let r = Conn::to_broker(&cluster, 1).send(0, &request);
        (
            r.error_code,
            r.error_message.map(|m| m.to_string()).unwrap_or_default(),
        )
    };
    let (code, message) = add(Some(cluster.cluster_id().as_str()));
    assert_eq!(code, ResponseError::UnsupportedVersion.code());
    assert!(message.contains("kraft.version feature is 0"), "{message}");
    let (code, message) = add(Some("elsewhere"));
    assert_eq!(code, ResponseError::InconsistentClusterId.code());
    assert!(message.contains("elsewhere"), "{message}");
    let removed = Conn::to_broker(&cluster, 1).send(
        0,
        &RemoveRaftVoterRequest::default()
            .with_cluster_id(None)
            .with_voter_id(1)
            .with_voter_directory_id(dir),
    );
    assert_eq!(removed.error_code, ResponseError::UnsupportedVersion.code());
}

#[test]
fn a_client_metrics_resource_subscribes_the_clients_it_matches() {
    use kafka_protocol::messages::GetTelemetrySubscriptionsRequest;
    use kafka_protocol::messages::incremental_alter_configs_request as incremental;
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    let set = |ops: &[(&str, &str)]| {
        let request = kafka_protocol::messages::IncrementalAlterConfigsRequest::default()
            .with_resources(vec![
                incremental::AlterConfigsResource::default()
                    .with_resource_type(16)
                    .with_resource_name(str_bytes("producers"))
                    .with_configs(
                        ops.iter()
                            .map(|(k, v)| {
                                incremental::AlterableConfig::default()
                                    .with_name(str_bytes(k))
                                    .with_config_operation(0)
                                    .with_value(Some(str_bytes(v)))
                            })
                            .collect(),
                    ),
            ]);
        let response = Conn::to_broker(&cluster, 1).send(1, &request);
        (
            response.responses[0].error_code,
            response.responses[0].error_message.clone(),
        )
    };
    assert_eq!(
        set(&[
            ("metrics", "org.apache.kafka.producer."),
            ("interval.ms", "1000"),
            ("match", &format!("client_id={CLIENT_ID}")),
        ]),
        (0, None)
    );
    let (code, message) = set(&[("match", "nope=x")]);
    assert_eq!(code, ResponseError::InvalidConfig.code());
    assert_eq!(
        message.as_deref(),
        Some("Illegal client matching pattern: nope=x")
    );

    let ask = || Conn::to_broker(&cluster, 1).send(0, &GetTelemetrySubscriptionsRequest::default());
    let matched = ask();
    let names: Vec<String> = matched
        .requested_metrics
        .iter()
        .map(|m| m.to_string())
        .collect();
    assert_eq!(names, ["org.apache.kafka.producer."]);
    assert_eq!(matched.push_interval_ms, 1000);
    // Another client's subscription asks this one for nothing.
    assert_eq!(set(&[("match", "client_id=someone-else")]), (0, None));
    assert!(ask().requested_metrics.is_empty());
    let listed = Conn::to_broker(&cluster, 1).send(1, &ListConfigResourcesRequest::default());
    assert!(
        listed
            .config_resources
            .iter()
            .any(|r| r.resource_type == 16 && r.resource_name.as_str() == "producers")
    );
}
