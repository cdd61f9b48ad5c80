//! Every supported API in every supported version, over a socket.
//!
//! For each entry of `SUPPORTED_APIS` and each version in its range, a sensible request
//! goes to the broker that can answer it (partition requests to the leader) on a fresh
//! connection, and the answer must decode in that version, carry the request's correlation
//! id and report no error. A response field the broker sets but a version cannot carry
//! makes `kafka-protocol` refuse to encode it, and the broker then closes the connection:
//! this sweep is what finds such holes. Failures are collected so one run lists them all.

mod support;

use broker_sim::Cluster;
use broker_sim::SUPPORTED_APIS;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::add_partitions_to_txn_request::{
    AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::describe_producers_request::TopicRequest as DescribeProducersTopic;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, ApiKey, ApiVersionsRequest,
    CreatePartitionsRequest, CreateTopicsRequest, DeleteGroupsRequest, DeleteRecordsRequest,
    DeleteTopicsRequest, DescribeClusterRequest, DescribeConfigsRequest, DescribeGroupsRequest,
    DescribeProducersRequest, DescribeTransactionsRequest, EndTxnRequest, FindCoordinatorRequest,
    InitProducerIdRequest, JoinGroupResponse, LeaveGroupRequest, ListGroupsRequest,
    ListTransactionsRequest, OffsetDeleteRequest, OffsetForLeaderEpochRequest,
    TxnOffsetCommitRequest, WriteTxnMarkersRequest,
};
use kafka_protocol::protocol::Request;
use support::*;

type Check = Result<(), String>;

fn no_error(code: i16, what: &str) -> Check {
    if code == 0 {
        Ok(())
    } else {
        Err(format!("{what}: error code {code}"))
    }
}

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Check {
    if ok { Ok(()) } else { Err(what()) }
}

/// Sends a request and waits for its answer, reporting instead of panicking.
trait Exchange {
    fn exchange<R: Request>(self, version: i16, request: &R) -> Result<R::Response, String>;
}

impl Exchange for Conn {
    fn exchange<R: Request>(mut self, v: i16, request: &R) -> Result<R::Response, String> {
        (&mut self).exchange(v, request)
    }
}

/// The same on a connection kept for more requests (a group member's).
impl Exchange for &mut Conn {
    fn exchange<R: Request>(self, v: i16, request: &R) -> Result<R::Response, String> {
        // The broker decodes requests with kafka-protocol: a version it advertises beyond
        // what that codec covers can only end in a closed connection.
        if !(R::VERSIONS.min..=R::VERSIONS.max).contains(&v) {
            return Err(format!(
                "advertised, but kafka-protocol decodes this request only in v{}-{}",
                R::VERSIONS.min,
                R::VERSIONS.max
            ));
        }
        self.try_send(v, request)
            .map_err(|e| format!("no valid answer: {e}"))
    }
}

fn sweep() {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("t", 3)
        .topic("dr", 1)
        .start()
        .unwrap();
    cluster.produce("t", None, b"seed").unwrap();
    let mut failures = Vec::new();
    let mut checked = 0;
    for api in SUPPORTED_APIS {
        for version in api.min..=api.max {
            checked += 1;
            if let Err(why) = check(&cluster, api.key, version) {
                failures.push(format!("{:?} v{version}: {why}", api.key));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} API versions failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_supported_api_version_answers_without_error() {
    sweep();
}

fn check(cluster: &Cluster, key: ApiKey, v: i16) -> Check {
    match key {
        ApiKey::Produce => produce(cluster, v),
        ApiKey::Fetch => fetch(cluster, v),
        ApiKey::ListOffsets => list_offsets(cluster, v),
        ApiKey::Metadata => metadata(cluster, v),
        ApiKey::FindCoordinator => find_coordinator(cluster, v),
        ApiKey::ApiVersions => api_versions(cluster, v),
        ApiKey::CreateTopics => create_topics(cluster, v),
        ApiKey::DeleteTopics => delete_topics(cluster, v),
        ApiKey::DeleteRecords => delete_records(cluster, v),
        ApiKey::InitProducerId => init_producer_id(cluster, v),
        ApiKey::OffsetForLeaderEpoch => offset_for_leader_epoch(cluster, v),
        ApiKey::DescribeConfigs => describe_configs(cluster, v),
        ApiKey::AlterConfigs => alter_configs(cluster, v),
        ApiKey::ElectLeaders => elect_leaders(cluster, v),
        ApiKey::AlterPartitionReassignments => alter_partition_reassignments(cluster, v),
        ApiKey::ListPartitionReassignments => list_partition_reassignments(cluster, v),
        ApiKey::DescribeTopicPartitions => describe_topic_partitions(cluster, v),
        ApiKey::DescribeLogDirs => describe_log_dirs(cluster, v),
        ApiKey::IncrementalAlterConfigs => incremental_alter_configs(cluster, v),
        ApiKey::CreatePartitions => create_partitions(cluster, v),
        ApiKey::DescribeCluster => describe_cluster(cluster, v),
        ApiKey::OffsetCommit => offset_commit(cluster, v),
        ApiKey::OffsetFetch => offset_fetch(cluster, v),
        ApiKey::JoinGroup => join_group(cluster, v),
        ApiKey::Heartbeat => heartbeat(cluster, v),
        ApiKey::LeaveGroup => leave_group(cluster, v),
        ApiKey::SyncGroup => sync_group(cluster, v),
        ApiKey::DescribeGroups => describe_groups(cluster, v),
        ApiKey::ListGroups => list_groups(cluster, v),
        ApiKey::DeleteGroups => delete_groups(cluster, v),
        ApiKey::OffsetDelete => offset_delete(cluster, v),
        ApiKey::AddPartitionsToTxn => add_partitions_to_txn(cluster, v),
        ApiKey::AddOffsetsToTxn => add_offsets_to_txn(cluster, v),
        ApiKey::EndTxn => end_txn(cluster, v),
        ApiKey::WriteTxnMarkers => write_txn_markers(cluster, v),
        ApiKey::TxnOffsetCommit => txn_offset_commit(cluster, v),
        ApiKey::DescribeProducers => describe_producers(cluster, v),
        ApiKey::DescribeTransactions => describe_transactions(cluster, v),
        ApiKey::ListTransactions => list_transactions(cluster, v),
        ApiKey::SaslHandshake
        | ApiKey::SaslAuthenticate
        | ApiKey::DescribeAcls
        | ApiKey::CreateAcls
        | ApiKey::DeleteAcls
        | ApiKey::CreateDelegationToken
        | ApiKey::RenewDelegationToken
        | ApiKey::ExpireDelegationToken
        | ApiKey::DescribeDelegationToken => no_security(cluster, key, v),
        ApiKey::AlterReplicaLogDirs => alter_replica_log_dirs(cluster, v),
        ApiKey::UpdateFeatures => update_features(cluster, v),
        ApiKey::UnregisterBroker => unregister_broker(cluster, v),
        ApiKey::ListConfigResources => list_config_resources(cluster, v),
        ApiKey::DescribeClientQuotas | ApiKey::AlterClientQuotas => client_quotas(cluster, v),
        ApiKey::GetTelemetrySubscriptions | ApiKey::PushTelemetry => telemetry(cluster, v),
        ApiKey::DescribeQuorum => describe_quorum(cluster, v),
        ApiKey::ConsumerGroupHeartbeat | ApiKey::ConsumerGroupDescribe => {
            consumer_group(cluster, key, v)
        }
        ApiKey::AddRaftVoter | ApiKey::RemoveRaftVoter => raft_voters(cluster, v),
        ApiKey::DescribeUserScramCredentials | ApiKey::AlterUserScramCredentials => {
            scram_credentials(cluster, v)
        }
        other => Err(format!(
            "the sweep has no request for {other:?}: add one to version_sweep.rs"
        )),
    }
}

fn produce(cluster: &Cluster, v: i16) -> Check {
    let records = batch_of(&[&format!("sweep-v{v}")]);
    let request = if v >= 13 {
        produce_request_by_id(topic_id(cluster, "t"), 0, records)
    } else {
        produce_request("t", 0, records)
    };
    let response = Conn::to_leader(cluster, "t", 0).exchange(v, &request)?;
    no_error(only_partition(&response).error_code, "partition")
}

fn fetch(cluster: &Cluster, v: i16) -> Check {
    let request = if v >= 13 {
        fetch_request_by_id(topic_id(cluster, "t"), 0, 0)
    } else {
        fetch_request("t", 0, 0)
    };
    let response = Conn::to_leader(cluster, "t", 0).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    let p = &response.responses[0].partitions[0];
    no_error(p.error_code, "partition")?;
    ensure(
        !values(p.records.as_deref().unwrap_or_default()).is_empty(),
        || "no records at offset 0".into(),
    )
}

fn list_offsets(cluster: &Cluster, v: i16) -> Check {
    let request = list_offsets_request("t", 0, -1);
    let response = Conn::to_leader(cluster, "t", 0).exchange(v, &request)?;
    let p = &response.topics[0].partitions[0];
    no_error(p.error_code, "partition")?;
    ensure(p.offset >= 1, || format!("latest offset {}", p.offset))
}

fn metadata(cluster: &Cluster, v: i16) -> Check {
    let response = Conn::to_broker(cluster, 1).exchange(v, &metadata_request(&["t"]))?;
    ensure(response.brokers.len() == 3, || {
        format!("{} brokers", response.brokers.len())
    })?;
    let t = &response.topics[0];
    no_error(t.error_code, "topic")?;
    ensure(t.partitions.len() == 3, || {
        format!("{} partitions", t.partitions.len())
    })
}

fn find_coordinator(cluster: &Cluster, v: i16) -> Check {
    let mut request = FindCoordinatorRequest::default();
    if v >= 4 {
        request.coordinator_keys = vec![str_bytes("sweep-group")];
    } else {
        request.key = str_bytes("sweep-group");
    }
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    let (code, node) = if v >= 4 {
        let c = response
            .coordinators
            .first()
            .ok_or("no coordinator listed")?;
        (c.error_code, c.node_id.0)
    } else {
        (response.error_code, response.node_id.0)
    };
    no_error(code, "coordinator")?;
    ensure((1..=3).contains(&node), || format!("coordinator {node}"))
}

fn api_versions(cluster: &Cluster, v: i16) -> Check {
    let mut request = ApiVersionsRequest::default();
    if v >= 3 {
        request.client_software_name = str_bytes("broker-sim-tests");
        request.client_software_version = str_bytes("1.0");
    }
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    ensure(response.api_keys.len() == SUPPORTED_APIS.len(), || {
        format!("{} API keys listed", response.api_keys.len())
    })
}

fn create_topics(cluster: &Cluster, v: i16) -> Check {
    let topic = format!("created-v{v}");
    let request = CreateTopicsRequest::default().with_topics(vec![
        CreatableTopic::default()
            .with_name(name(&topic))
            .with_num_partitions(2)
            .with_replication_factor(3),
    ]);
    let response = Conn::to_broker(cluster, 2).exchange(v, &request)?;
    no_error(response.topics[0].error_code, "topic")?;
    ensure(
        cluster.partitions(&topic).map(|p| p.len()) == Some(2),
        || format!("{topic} not created with 2 partitions"),
    )
}

fn delete_topics(cluster: &Cluster, v: i16) -> Check {
    let topic = format!("deleted-v{v}");
    cluster.create_topic(&topic, 1).unwrap();
    let mut request = DeleteTopicsRequest::default().with_timeout_ms(10_000);
    if v >= 6 {
        request.topics = vec![DeleteTopicState::default().with_name(Some(name(&topic)))];
    } else {
        request.topic_names = vec![name(&topic)];
    }
    let response = Conn::to_broker(cluster, 3).exchange(v, &request)?;
    no_error(response.responses[0].error_code, "topic")?;
    ensure(cluster.partitions(&topic).is_none(), || {
        format!("{topic} still exists")
    })
}

fn delete_records(cluster: &Cluster, v: i16) -> Check {
    cluster.produce("dr", None, b"doomed").unwrap();
    let request = DeleteRecordsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            DeleteRecordsTopic::default()
                .with_name(name("dr"))
                .with_partitions(vec![
                    DeleteRecordsPartition::default()
                        .with_partition_index(0)
                        .with_offset(-1),
                ]),
        ]);
    let response = Conn::to_leader(cluster, "dr", 0).exchange(v, &request)?;
    let p = &response.topics[0].partitions[0];
    no_error(p.error_code, "partition")?;
    let hw = cluster.partitions("dr").unwrap()[0].high_watermark;
    ensure(p.low_watermark == hw, || {
        format!("low watermark {} (high watermark {hw})", p.low_watermark)
    })
}

fn init_producer_id(cluster: &Cluster, v: i16) -> Check {
    let request = InitProducerIdRequest::default()
        .with_transactional_id(None)
        .with_transaction_timeout_ms(60_000);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    ensure(response.producer_id.0 >= 0, || {
        format!("producer id {}", response.producer_id.0)
    })
}

fn offset_for_leader_epoch(cluster: &Cluster, v: i16) -> Check {
    let request = OffsetForLeaderEpochRequest::default()
        .with_replica_id((-1).into())
        .with_topics(vec![
            OffsetForLeaderTopic::default()
                .with_topic(name("t"))
                .with_partitions(vec![
                    OffsetForLeaderPartition::default()
                        .with_partition(0)
                        .with_current_leader_epoch(0)
                        .with_leader_epoch(0),
                ]),
        ]);
    let response = Conn::to_leader(cluster, "t", 0).exchange(v, &request)?;
    let p = &response.topics[0].partitions[0];
    no_error(p.error_code, "partition")?;
    ensure(p.leader_epoch == 0 && p.end_offset >= 1, || {
        format!("epoch {} ends at {}", p.leader_epoch, p.end_offset)
    })
}

fn describe_configs(cluster: &Cluster, v: i16) -> Check {
    let request = DescribeConfigsRequest::default()
        .with_include_synonyms(true)
        .with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(str_bytes("t"))
                .with_configuration_keys(None),
            DescribeConfigsResource::default()
                .with_resource_type(4)
                .with_resource_name(str_bytes("2"))
                .with_configuration_keys(None),
        ]);
    let response = Conn::to_broker(cluster, 2).exchange(v, &request)?;
    ensure(response.results.len() == 2, || {
        format!("{} results", response.results.len())
    })?;
    for r in &response.results {
        let what = format!("resource type {}", r.resource_type);
        no_error(r.error_code, &what)?;
        ensure(!r.configs.is_empty(), || format!("{what}: no configs"))?;
    }
    Ok(())
}

fn describe_topic_partitions(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::describe_topic_partitions_request::TopicRequest;
    let request = kafka_protocol::messages::DescribeTopicPartitionsRequest::default()
        .with_response_partition_limit(100)
        .with_topics(vec![TopicRequest::default().with_name(name("t"))]);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    let [t] = &response.topics[..] else {
        return Err(format!("{} topics", response.topics.len()));
    };
    no_error(t.error_code, "topic")?;
    ensure(
        !t.partitions.is_empty() && response.next_cursor.is_none(),
        || {
            format!(
                "{} partitions, cursor {:?}",
                t.partitions.len(),
                response.next_cursor
            )
        },
    )
}

fn alter_partition_reassignments(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::alter_partition_reassignments_request::{
        ReassignablePartition, ReassignableTopic,
    };
    let replicas = cluster.partition("t", 0).unwrap().replicas;
    // The same replicas in the same order: a reassignment with nothing to move.
    let request = kafka_protocol::messages::AlterPartitionReassignmentsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            ReassignableTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![
                    ReassignablePartition::default()
                        .with_partition_index(0)
                        .with_replicas(Some(replicas.iter().map(|&b| b.into()).collect())),
                ]),
        ]);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    no_error(response.responses[0].partitions[0].error_code, "partition")
}

fn list_partition_reassignments(cluster: &Cluster, v: i16) -> Check {
    let request = kafka_protocol::messages::ListPartitionReassignmentsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(None);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    ensure(response.topics.is_empty(), || {
        format!("ongoing: {:?}", response.topics)
    })
}

fn elect_leaders(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
    let request = kafka_protocol::messages::ElectLeadersRequest::default()
        .with_timeout_ms(10_000)
        .with_topic_partitions(Some(vec![
            TopicPartitions::default()
                .with_topic(name("t"))
                .with_partitions(vec![0]),
        ]));
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    let p = &response.replica_election_results[0].partition_result[0];
    // Every leader is already the preferred one.
    ensure(
        p.error_code == ResponseError::ElectionNotNeeded.code(),
        || format!("error {}", p.error_code),
    )
}

fn describe_log_dirs(cluster: &Cluster, v: i16) -> Check {
    let request = kafka_protocol::messages::DescribeLogDirsRequest::default().with_topics(None);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    ensure(response.results.len() == 1, || {
        format!("{} log dirs", response.results.len())
    })?;
    ensure(!response.results[0].topics.is_empty(), || {
        "no replicas".to_string()
    })
}

fn alter_configs(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::alter_configs_request::{AlterConfigsResource, AlterableConfig};
    let value = format!("{}", 86_400_000 + i64::from(v));
    let request = kafka_protocol::messages::AlterConfigsRequest::default().with_resources(vec![
        AlterConfigsResource::default()
            .with_resource_type(2)
            .with_resource_name(str_bytes("t"))
            .with_configs(vec![
                AlterableConfig::default()
                    .with_name(str_bytes("retention.ms"))
                    .with_value(Some(str_bytes(&value))),
            ]),
    ]);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.responses[0].error_code, "resource")?;
    let now = cluster.topic_configs("t").unwrap_or_default();
    ensure(now.get("retention.ms") == Some(&value), || {
        format!("configs now {now:?}")
    })
}

fn incremental_alter_configs(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::incremental_alter_configs_request::{
        AlterConfigsResource, AlterableConfig,
    };
    let value = format!("{}", 3_600_000 + i64::from(v));
    let request = kafka_protocol::messages::IncrementalAlterConfigsRequest::default()
        .with_resources(vec![
            AlterConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(str_bytes("t"))
                .with_configs(vec![
                    AlterableConfig::default()
                        .with_name(str_bytes("segment.ms"))
                        .with_config_operation(0)
                        .with_value(Some(str_bytes(&value))),
                ]),
        ]);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.responses[0].error_code, "resource")?;
    let now = cluster.topic_configs("t").unwrap_or_default();
    ensure(now.get("segment.ms") == Some(&value), || {
        format!("configs now {now:?}")
    })
}

fn create_partitions(cluster: &Cluster, v: i16) -> Check {
    let topic = format!("grown-v{v}");
    cluster.create_topic(&topic, 1).unwrap();
    let request = CreatePartitionsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            CreatePartitionsTopic::default()
                .with_name(name(&topic))
                .with_count(2)
                .with_assignments(None),
        ]);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.results[0].error_code, "topic")?;
    ensure(
        cluster.partitions(&topic).map(|p| p.len()) == Some(2),
        || format!("{topic} did not grow to 2 partitions"),
    )
}

fn describe_cluster(cluster: &Cluster, v: i16) -> Check {
    let response = Conn::to_broker(cluster, 3).exchange(v, &DescribeClusterRequest::default())?;
    no_error(response.error_code, "top level")?;
    ensure(response.brokers.len() == 3, || {
        format!("{} brokers", response.brokers.len())
    })?;
    ensure(response.cluster_id.as_str() == cluster.cluster_id(), || {
        format!("cluster id {}", response.cluster_id.as_str())
    })
}

// Consumer groups: every request goes to the group's coordinator, and each version gets a
// group of its own.

/// Joins `group` as its first member in `v`: v4+ is first told MEMBER_ID_REQUIRED and joins
/// with the id it was given. The first member's join completes at once.
fn join_first(conn: &mut Conn, group: &str, v: i16) -> Result<JoinGroupResponse, String> {
    let mut request = join_request(group, "", &["range"]);
    if v >= 4 {
        let first = conn.exchange(v, &request)?;
        ensure(
            first.error_code == ResponseError::MemberIdRequired.code(),
            || {
                format!(
                    "join without a member id: error code {} instead of MEMBER_ID_REQUIRED",
                    first.error_code
                )
            },
        )?;
        request.member_id = first.member_id;
    }
    let joined = conn.exchange(v, &request)?;
    no_error(joined.error_code, "join")?;
    ensure(
        joined.generation_id == 1 && joined.leader == joined.member_id,
        || {
            format!(
                "generation {}, leader {:?}",
                joined.generation_id, joined.leader
            )
        },
    )?;
    Ok(joined)
}

/// A Stable group whose only member joined (v9) and synced (v5): its connection and id.
fn stable_group(cluster: &Cluster, group: &str) -> Result<(Conn, String), String> {
    let mut conn = Conn::to_coordinator(cluster, group);
    let joined = join_first(&mut conn, group, 9)?;
    let id = joined.member_id.as_str().to_string();
    let request = sync_request(group, 1, &id, &[(&id, assignment(&[("t", &[0])]))]);
    let synced = (&mut conn).exchange(5, &request)?;
    no_error(synced.error_code, "SyncGroup before the request under test")?;
    Ok((conn, id))
}

/// A standalone commit (v9) of `offset` for t-0, creating an Empty group.
fn commit_t0(cluster: &Cluster, group: &str, offset: i64) -> Check {
    let request = commit_request(group, -1, "", &[("t", 0, offset)], Some("sweep"), 0);
    let response = Conn::to_coordinator(cluster, group).exchange(9, &request)?;
    no_error(
        response.topics[0].partitions[0].error_code,
        "commit before the request under test",
    )
}

fn join_group(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-join-v{v}");
    let joined = join_first(&mut Conn::to_coordinator(cluster, &group), &group, v)?;
    ensure(joined.protocol_name.as_deref() == Some("range"), || {
        format!("protocol {:?}", joined.protocol_name)
    })
}

fn sync_group(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-sync-v{v}");
    let mut conn = Conn::to_coordinator(cluster, &group);
    let id = join_first(&mut conn, &group, 9)?.member_id;
    let given = assignment(&[("t", &[0, 1, 2])]);
    // Protocol type and name are on the wire from v5 only.
    let request = sync_request(&group, 1, &id, &[(&id, given.clone())])
        .with_protocol_type(Some(str_bytes("consumer")))
        .with_protocol_name(Some(str_bytes("range")));
    let response = conn.exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    ensure(response.assignment == given, || {
        format!("assignment {:?}", response.assignment)
    })
}

fn heartbeat(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-heartbeat-v{v}");
    let (conn, id) = stable_group(cluster, &group)?;
    let response = conn.exchange(v, &heartbeat_request(&group, 1, &id))?;
    no_error(response.error_code, "top level")
}

fn leave_group(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-leave-v{v}");
    let (conn, id) = stable_group(cluster, &group)?;
    let mut request = LeaveGroupRequest::default().with_group_id(group_id(&group));
    if v >= 3 {
        request.members = vec![MemberIdentity::default().with_member_id(str_bytes(&id))];
    } else {
        request.member_id = str_bytes(&id);
    }
    let response = conn.exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    if v >= 3 {
        let m = response.members.first().ok_or("no member answer")?;
        no_error(m.error_code, "member")?;
    }
    Ok(())
}

fn offset_commit(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-commit-v{v}");
    let request = commit_request(&group, -1, "", &[("t", 0, 100 + i64::from(v))], None, 0);
    let response = Conn::to_coordinator(cluster, &group).exchange(v, &request)?;
    let p = response
        .topics
        .first()
        .and_then(|t| t.partitions.first())
        .ok_or("no partition answer")?;
    no_error(p.error_code, "partition")?;
    let fetch = offset_fetch_request(9, &group, Some(&[("t", &[0])]));
    let fetched = Conn::to_coordinator(cluster, &group).exchange(9, &fetch)?;
    let offset = fetched.groups[0].topics[0].partitions[0].committed_offset;
    ensure(offset == 100 + i64::from(v), || {
        format!("fetched offset {offset} after the commit")
    })
}

fn offset_fetch(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-fetch-v{v}");
    commit_t0(cluster, &group, 200 + i64::from(v))?;
    let request = offset_fetch_request(v, &group, Some(&[("t", &[0])]));
    let response = Conn::to_coordinator(cluster, &group).exchange(v, &request)?;
    let (offset, code) = if v >= 8 {
        let g = response.groups.first().ok_or("no group answer")?;
        no_error(g.error_code, "group")?;
        let p = &g.topics.first().ok_or("no topic answer")?.partitions[0];
        (p.committed_offset, p.error_code)
    } else {
        no_error(response.error_code, "top level")?;
        let p = &response.topics.first().ok_or("no topic answer")?.partitions[0];
        (p.committed_offset, p.error_code)
    };
    no_error(code, "partition")?;
    ensure(offset == 200 + i64::from(v), || format!("offset {offset}"))
}

fn describe_groups(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-describe-v{v}");
    let (conn, id) = stable_group(cluster, &group)?;
    let request = DescribeGroupsRequest::default().with_groups(vec![group_id(&group)]);
    let response = conn.exchange(v, &request)?;
    let g = response.groups.first().ok_or("no group described")?;
    no_error(g.error_code, "group")?;
    ensure(g.group_state.as_str() == "Stable", || {
        format!("state {:?}", g.group_state)
    })?;
    ensure(
        g.members.len() == 1 && g.members[0].member_id.as_str() == id,
        || format!("members {:?}", g.members),
    )
}

fn list_groups(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-list-v{v}");
    let (conn, _) = stable_group(cluster, &group)?;
    let response = conn.exchange(v, &ListGroupsRequest::default())?;
    no_error(response.error_code, "top level")?;
    ensure(
        response.groups.iter().any(|g| g.group_id.as_str() == group),
        || format!("{group} not listed by its coordinator"),
    )
}

fn delete_groups(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-delete-v{v}");
    commit_t0(cluster, &group, 1)?;
    let request = DeleteGroupsRequest::default().with_groups_names(vec![group_id(&group)]);
    let response = Conn::to_coordinator(cluster, &group).exchange(v, &request)?;
    let r = response.results.first().ok_or("no group answer")?;
    no_error(r.error_code, "group")
}

fn offset_delete(cluster: &Cluster, v: i16) -> Check {
    let group = format!("sweep-offset-delete-v{v}");
    commit_t0(cluster, &group, 1)?;
    let request = OffsetDeleteRequest::default()
        .with_group_id(group_id(&group))
        .with_topics(vec![
            OffsetDeleteRequestTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![
                    OffsetDeleteRequestPartition::default().with_partition_index(0),
                ]),
        ]);
    let response = Conn::to_coordinator(cluster, &group).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    let p = response
        .topics
        .first()
        .and_then(|t| t.partitions.first())
        .ok_or("no partition answer")?;
    no_error(p.error_code, "partition")
}

/// InitProducerId for a transactional id at its coordinator: (producer id, epoch).
fn init_transactional(cluster: &Cluster, id: &str) -> Result<(i64, i16), String> {
    let request = InitProducerIdRequest::default()
        .with_transactional_id(Some(str_bytes(id).into()))
        .with_transaction_timeout_ms(60_000);
    let response = Conn::to_coordinator(cluster, id).exchange(5, &request)?;
    no_error(response.error_code, "InitProducerId")?;
    Ok((response.producer_id.0, response.producer_epoch))
}

/// AddPartitionsToTxn of `t`-0 in `v` (the v3 shape below v4): the partition's code.
fn add_t0(cluster: &Cluster, id: &str, (pid, epoch): (i64, i16), v: i16) -> Result<i16, String> {
    let topics = vec![
        AddPartitionsToTxnTopic::default()
            .with_name(name("t"))
            .with_partitions(vec![0]),
    ];
    let mut request = AddPartitionsToTxnRequest::default();
    if v >= 4 {
        request.transactions = vec![
            AddPartitionsToTxnTransaction::default()
                .with_transactional_id(str_bytes(id).into())
                .with_producer_id(pid.into())
                .with_producer_epoch(epoch)
                .with_topics(topics),
        ];
    } else {
        request.v3_and_below_transactional_id = str_bytes(id).into();
        request.v3_and_below_producer_id = pid.into();
        request.v3_and_below_producer_epoch = epoch;
        request.v3_and_below_topics = topics;
    }
    let response = Conn::to_coordinator(cluster, id).exchange(v, &request)?;
    let topics = if v >= 4 {
        no_error(response.error_code, "top level")?;
        &response
            .results_by_transaction
            .first()
            .ok_or("no transaction answer")?
            .topic_results
    } else {
        &response.results_by_topic_v3_and_below
    };
    let p = topics
        .first()
        .and_then(|t| t.results_by_partition.first())
        .ok_or("no partition answer")?;
    Ok(p.partition_error_code)
}

fn add_partitions_to_txn(cluster: &Cluster, v: i16) -> Check {
    let id = format!("sweep-apt-v{v}");
    let producer = init_transactional(cluster, &id)?;
    no_error(add_t0(cluster, &id, producer, v)?, "partition")?;
    let state = cluster.transaction(&id).ok_or("no transaction")?;
    ensure(
        state.state == "Ongoing" && state.partitions == vec![("t".to_string(), 0)],
        || format!("{state:?}"),
    )
}

fn add_offsets_to_txn(cluster: &Cluster, v: i16) -> Check {
    let id = format!("sweep-aot-v{v}");
    let (pid, epoch) = init_transactional(cluster, &id)?;
    let request = AddOffsetsToTxnRequest::default()
        .with_transactional_id(str_bytes(&id).into())
        .with_producer_id(pid.into())
        .with_producer_epoch(epoch)
        .with_group_id(group_id("sweep-aot"));
    let response = Conn::to_coordinator(cluster, &id).exchange(v, &request)?;
    no_error(response.error_code, "top level")
}

fn end_txn(cluster: &Cluster, v: i16) -> Check {
    let id = format!("sweep-end-v{v}");
    let producer = init_transactional(cluster, &id)?;
    no_error(add_t0(cluster, &id, producer, 3)?, "AddPartitionsToTxn")?;
    let request = EndTxnRequest::default()
        .with_transactional_id(str_bytes(&id).into())
        .with_producer_id(producer.0.into())
        .with_producer_epoch(producer.1)
        .with_committed(true);
    let response = Conn::to_coordinator(cluster, &id).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    // v5 is transaction version 2: the epoch is bumped and handed back.
    if v >= 5 {
        ensure(response.producer_epoch == producer.1 + 1, || {
            format!(
                "epoch {} after ending epoch {}",
                response.producer_epoch, producer.1
            )
        })?;
    }
    let state = cluster.transaction(&id).ok_or("no transaction")?;
    ensure(state.state == "CompleteCommit", || format!("{state:?}"))
}

fn write_txn_markers(cluster: &Cluster, v: i16) -> Check {
    let request = WriteTxnMarkersRequest::default().with_markers(vec![
        WritableTxnMarker::default()
            .with_producer_id((1_000 + i64::from(v)).into())
            .with_producer_epoch(0)
            .with_transaction_result(false)
            .with_topics(vec![
                WritableTxnMarkerTopic::default()
                    .with_name(name("t"))
                    .with_partition_indexes(vec![0]),
            ]),
    ]);
    let response = Conn::to_leader(cluster, "t", 0).exchange(v, &request)?;
    let p = response
        .markers
        .first()
        .and_then(|m| m.topics.first())
        .and_then(|t| t.partitions.first())
        .ok_or("no partition answer")?;
    no_error(p.error_code, "partition")
}

fn txn_offset_commit(cluster: &Cluster, v: i16) -> Check {
    let id = format!("sweep-toc-v{v}");
    let group = format!("sweep-toc-v{v}");
    let (pid, epoch) = init_transactional(cluster, &id)?;
    if v < 5 {
        let add = AddOffsetsToTxnRequest::default()
            .with_transactional_id(str_bytes(&id).into())
            .with_producer_id(pid.into())
            .with_producer_epoch(epoch)
            .with_group_id(group_id(&group));
        let added = Conn::to_coordinator(cluster, &id).exchange(4, &add)?;
        no_error(added.error_code, "AddOffsetsToTxn")?;
    }
    let request = TxnOffsetCommitRequest::default()
        .with_transactional_id(str_bytes(&id).into())
        .with_group_id(group_id(&group))
        .with_producer_id(pid.into())
        .with_producer_epoch(epoch)
        .with_generation_id(-1)
        .with_topics(vec![
            TxnOffsetCommitRequestTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![
                    TxnOffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(1),
                ]),
        ]);
    let response = Conn::to_coordinator(cluster, &group).exchange(v, &request)?;
    let p = response
        .topics
        .first()
        .and_then(|t| t.partitions.first())
        .ok_or("no partition answer")?;
    no_error(p.error_code, "partition")
}

fn describe_producers(cluster: &Cluster, v: i16) -> Check {
    let request = DescribeProducersRequest::default().with_topics(vec![
        DescribeProducersTopic::default()
            .with_name(name("t"))
            .with_partition_indexes(vec![0]),
    ]);
    let response = Conn::to_leader(cluster, "t", 0).exchange(v, &request)?;
    let p = response
        .topics
        .first()
        .and_then(|t| t.partitions.first())
        .ok_or("no partition answer")?;
    no_error(p.error_code, "partition")
}

fn describe_transactions(cluster: &Cluster, v: i16) -> Check {
    let id = format!("sweep-dt-v{v}");
    let (pid, _) = init_transactional(cluster, &id)?;
    let request =
        DescribeTransactionsRequest::default().with_transactional_ids(vec![str_bytes(&id).into()]);
    let response = Conn::to_coordinator(cluster, &id).exchange(v, &request)?;
    let t = response.transaction_states.first().ok_or("no answer")?;
    no_error(t.error_code, "transaction")?;
    ensure(
        &*t.transaction_state == "Empty" && t.producer_id.0 == pid,
        || format!("{t:?}"),
    )
}

fn list_transactions(cluster: &Cluster, v: i16) -> Check {
    let id = format!("sweep-lt-v{v}");
    init_transactional(cluster, &id)?;
    let response =
        Conn::to_coordinator(cluster, &id).exchange(v, &ListTransactionsRequest::default())?;
    no_error(response.error_code, "top level")?;
    ensure(
        response
            .transaction_states
            .iter()
            .any(|t| *t.transactional_id == *id),
        || format!("{id} not listed in {:?}", response.transaction_states),
    )
}

// A PLAINTEXT listener without an authorizer: the security APIs answer the codes Kafka
// gives there.

fn no_security(cluster: &Cluster, key: ApiKey, v: i16) -> Check {
    use kafka_protocol::messages::*;
    let mut conn = Conn::to_broker(cluster, 1);
    let (code, wanted) = match key {
        ApiKey::SaslHandshake => (
            (&mut conn)
                .exchange(
                    v,
                    &SaslHandshakeRequest::default().with_mechanism(str_bytes("PLAIN")),
                )?
                .error_code,
            ResponseError::IllegalSaslState,
        ),
        ApiKey::SaslAuthenticate => (
            (&mut conn)
                .exchange(v, &SaslAuthenticateRequest::default())?
                .error_code,
            ResponseError::IllegalSaslState,
        ),
        ApiKey::DescribeAcls => (
            (&mut conn)
                .exchange(v, &DescribeAclsRequest::default())?
                .error_code,
            ResponseError::SecurityDisabled,
        ),
        ApiKey::CreateAcls => (
            (&mut conn)
                .exchange(
                    v,
                    &CreateAclsRequest::default()
                        .with_creations(vec![create_acls_request::AclCreation::default()]),
                )?
                .results[0]
                .error_code,
            ResponseError::SecurityDisabled,
        ),
        ApiKey::DeleteAcls => (
            (&mut conn)
                .exchange(
                    v,
                    &DeleteAclsRequest::default()
                        .with_filters(vec![delete_acls_request::DeleteAclsFilter::default()]),
                )?
                .filter_results[0]
                .error_code,
            ResponseError::SecurityDisabled,
        ),
        ApiKey::CreateDelegationToken => (
            (&mut conn)
                .exchange(v, &CreateDelegationTokenRequest::default())?
                .error_code,
            ResponseError::DelegationTokenRequestNotAllowed,
        ),
        ApiKey::RenewDelegationToken => (
            (&mut conn)
                .exchange(v, &RenewDelegationTokenRequest::default())?
                .error_code,
            ResponseError::DelegationTokenRequestNotAllowed,
        ),
        ApiKey::ExpireDelegationToken => (
            (&mut conn)
                .exchange(v, &ExpireDelegationTokenRequest::default())?
                .error_code,
            ResponseError::DelegationTokenRequestNotAllowed,
        ),
        ApiKey::DescribeDelegationToken => (
            (&mut conn)
                .exchange(v, &DescribeDelegationTokenRequest::default())?
                .error_code,
            ResponseError::DelegationTokenRequestNotAllowed,
        ),
        other => return Err(format!("{other:?} is not a security API")),
    };
    ensure(code == wanted.code(), || {
        format!("error code {code} instead of {wanted:?}")
    })
}

fn alter_replica_log_dirs(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::alter_replica_log_dirs_request::{
        AlterReplicaLogDir, AlterReplicaLogDirTopic,
    };
    let request = kafka_protocol::messages::AlterReplicaLogDirsRequest::default().with_dirs(vec![
        AlterReplicaLogDir::default()
            .with_path(str_bytes("/var/lib/broker-sim/broker-1"))
            .with_topics(vec![
                AlterReplicaLogDirTopic::default()
                    .with_name(name("t"))
                    .with_partitions(vec![0]),
            ]),
    ]);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.results[0].partitions[0].error_code, "partition")
}

fn update_features(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::update_features_request::FeatureUpdateKey;
    // Finalize transaction.version at the level it has: accepted, nothing changes.
    let request = kafka_protocol::messages::UpdateFeaturesRequest::default()
        .with_timeout_ms(10_000)
        .with_feature_updates(vec![
            FeatureUpdateKey::default()
                .with_feature(str_bytes("transaction.version"))
                .with_max_version_level(2)
                .with_upgrade_type(1),
        ]);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    ensure(v >= 2 || response.results.len() == 1, || {
        format!("{} feature results", response.results.len())
    })
}

fn unregister_broker(cluster: &Cluster, v: i16) -> Check {
    let request =
        kafka_protocol::messages::UnregisterBrokerRequest::default().with_broker_id(42.into());
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    ensure(
        response.error_code == ResponseError::BrokerIdNotRegistered.code(),
        || format!("error code {} for an unknown broker", response.error_code),
    )
}

fn list_config_resources(cluster: &Cluster, v: i16) -> Check {
    let request = kafka_protocol::messages::ListConfigResourcesRequest::default();
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    no_error(response.error_code, "top level")?;
    // v0 lists client-metrics subscriptions (none); v1 with no types lists everything.
    let topics = response
        .config_resources
        .iter()
        .filter(|r| r.resource_type == 2 && r.resource_name.as_str() == "t")
        .count();
    ensure(topics == usize::from(v >= 1), || {
        format!("{:?}", response.config_resources)
    })
}

fn scram_credentials(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::alter_user_scram_credentials_request::ScramCredentialUpsertion;
    use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
    let user = format!("sweep-{v}");
    let mut conn = Conn::to_broker(cluster, 1);
    let alter = kafka_protocol::messages::AlterUserScramCredentialsRequest::default()
        .with_upsertions(vec![
            ScramCredentialUpsertion::default()
                .with_name(str_bytes(&user))
                .with_mechanism(1)
                .with_iterations(4096)
                .with_salt(bytes::Bytes::from_static(b"salt"))
                .with_salted_password(bytes::Bytes::from_static(&[1; 32])),
        ]);
    let altered = (&mut conn).exchange(v, &alter)?;
    no_error(altered.results[0].error_code, "upsertion")?;
    let describe = kafka_protocol::messages::DescribeUserScramCredentialsRequest::default()
        .with_users(Some(vec![UserName::default().with_name(str_bytes(&user))]));
    let described = (&mut conn).exchange(v, &describe)?;
    no_error(described.results[0].error_code, "user")?;
    ensure(described.results[0].credential_infos.len() == 1, || {
        format!("{:?}", described.results[0])
    })
}

fn client_quotas(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
    use kafka_protocol::messages::describe_client_quotas_request::ComponentData;
    let client = format!("sweep-quota-{v}");
    let mut conn = Conn::to_broker(cluster, 1);
    let alter = kafka_protocol::messages::AlterClientQuotasRequest::default().with_entries(vec![
        EntryData::default()
            .with_entity(vec![
                EntityData::default()
                    .with_entity_type(str_bytes("client-id"))
                    .with_entity_name(Some(str_bytes(&client))),
            ])
            .with_ops(vec![
                OpData::default()
                    .with_key(str_bytes("consumer_byte_rate"))
                    .with_value(1_048_576.0),
            ]),
    ]);
    let altered = (&mut conn).exchange(v, &alter)?;
    no_error(altered.entries[0].error_code, "entity")?;
    let describe = kafka_protocol::messages::DescribeClientQuotasRequest::default()
        .with_components(vec![
            ComponentData::default()
                .with_entity_type(str_bytes("client-id"))
                .with_match_type(0)
                .with_match(Some(str_bytes(&client))),
        ]);
    let described = (&mut conn).exchange(v, &describe)?;
    no_error(described.error_code, "top level")?;
    let entries = described.entries.unwrap_or_default();
    ensure(entries.len() == 1 && entries[0].values.len() == 1, || {
        format!("{entries:?}")
    })
}

/// Subscribed, a client gets an instance id and pushes an (empty) metrics payload.
fn telemetry(cluster: &Cluster, v: i16) -> Check {
    cluster
        .subscribe_client_metrics("sweep", &["*"], 60_000)
        .map_err(|e| e.to_string())?;
    let mut conn = Conn::to_broker(cluster, 1);
    let got = (&mut conn).exchange(
        v,
        &kafka_protocol::messages::GetTelemetrySubscriptionsRequest::default(),
    )?;
    no_error(got.error_code, "subscriptions")?;
    ensure(
        !got.client_instance_id.is_nil() && got.requested_metrics.len() == 1,
        || format!("{got:?}"),
    )?;
    let pushed = (&mut conn).exchange(
        v,
        &kafka_protocol::messages::PushTelemetryRequest::default()
            .with_client_instance_id(got.client_instance_id)
            .with_subscription_id(got.subscription_id)
            .with_terminating(true),
    )?;
    no_error(pushed.error_code, "push")
}

/// A KIP-848 member joins (v1 picks its own id, v0 is given one), is assigned all of t,
/// and ConsumerGroupDescribe shows it.
fn consumer_group(cluster: &Cluster, key: ApiKey, v: i16) -> Check {
    let group = format!("sweep-{key:?}-v{v}");
    let mut conn = Conn::to_coordinator(cluster, &group);
    let member = if v >= 1 { "sweep-member-id" } else { "" };
    let joined = (&mut conn).exchange(v, &consumer_join_request(&group, member, &["t"]))?;
    no_error(joined.error_code, "join")?;
    let id = joined.member_id.clone().unwrap_or_default().to_string();
    ensure(
        joined.member_epoch == 1 && !id.is_empty() && (v == 0 || id == member),
        || format!("{joined:?}"),
    )?;
    let assigned: Vec<i32> = joined
        .assignment
        .iter()
        .flat_map(|a| &a.topic_partitions)
        .flat_map(|tp| tp.partitions.iter().copied())
        .collect();
    ensure(assigned == [0, 1, 2], || format!("{joined:?}"))?;
    let described = (&mut conn).exchange(
        v,
        &kafka_protocol::messages::ConsumerGroupDescribeRequest::default()
            .with_group_ids(vec![group_id(&group)]),
    )?;
    let g = described.groups.first().ok_or("no group described")?;
    no_error(g.error_code, "describe")?;
    ensure(
        g.group_state.as_str() == "Stable"
            && g.members.len() == 1
            && g.members[0].member_id.as_str() == id,
        || format!("{g:?}"),
    )
}

fn describe_quorum(cluster: &Cluster, v: i16) -> Check {
    use kafka_protocol::messages::describe_quorum_request::{PartitionData, TopicData};
    let request = kafka_protocol::messages::DescribeQuorumRequest::default().with_topics(vec![
        TopicData::default()
            .with_topic_name(name("__cluster_metadata"))
            .with_partitions(vec![PartitionData::default().with_partition_index(0)]),
    ]);
    let response = Conn::to_broker(cluster, 1).exchange(v, &request)?;
    let p = &response.topics[0].partitions[0];
    no_error(p.error_code, "partition")?;
    ensure(p.current_voters.len() == 3 && p.leader_id.0 == 1, || {
        format!("{p:?}")
    })?;
    ensure(v < 2 || response.nodes.len() == 3, || {
        format!("{:?}", response.nodes)
    })
}

/// A static quorum refuses voter changes with UNSUPPORTED_VERSION, as Kafka's does.
fn raft_voters(cluster: &Cluster, v: i16) -> Check {
    let dir = uuid::Uuid::from_u128(1);
    let removed = Conn::to_broker(cluster, 1).exchange(
        v,
        &kafka_protocol::messages::RemoveRaftVoterRequest::default()
            .with_cluster_id(None)
            .with_voter_id(2)
            .with_voter_directory_id(dir),
    )?;
    ensure(
        removed.error_code == ResponseError::UnsupportedVersion.code(),
        || format!("{removed:?}"),
    )
}
