//! Fault rules observed over real sockets: each action, the selectors, hit counting, and
//! every supported API and version answering an injected error, an apply-then-error and a
//! throttle in a form its decoder accepts.

mod support;

use std::time::Duration;

use broker_sim::SUPPORTED_APIS;
use broker_sim::{Cluster, Fault, FaultId};
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
use kafka_protocol::messages::fetch_request::FetchPartition;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::produce_request::PartitionProduceData;
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
    DescribeProducersRequest, DescribeTransactionsRequest, EndTxnRequest, FetchResponse,
    FindCoordinatorRequest, InitProducerIdRequest, LeaveGroupRequest, ListGroupsRequest,
    ListTransactionsRequest, MetadataRequest, OffsetDeleteRequest, OffsetForLeaderEpochRequest,
    ProduceRequest, ProduceResponse, TxnOffsetCommitRequest, WriteTxnMarkersRequest,
};
use kafka_protocol::messages::{
    AlterConfigsRequest, DescribeLogDirsRequest, DescribeTopicPartitionsRequest,
    ElectLeadersRequest, IncrementalAlterConfigsRequest, alter_configs_request,
    describe_log_dirs_request, describe_topic_partitions_request, elect_leaders_request,
    incremental_alter_configs_request,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, ListPartitionReassignmentsRequest,
    alter_partition_reassignments_request,
};
use kafka_protocol::protocol::Request;
use support::*;

/// One broker, so every partition and group lives on broker 1.
fn cluster() -> Cluster {
    Cluster::builder().brokers(1).topic("t", 2).start().unwrap()
}

/// A produce (acks=all, topic named) of one record to each of t-0 and t-1.
fn produce_to_both(acks: i16) -> ProduceRequest {
    let mut request = produce_request("t", 0, batch_of(&["zero"])).with_acks(acks);
    request.topic_data[0].partition_data.push(
        PartitionProduceData::default()
            .with_index(1)
            .with_records(Some(batch_of(&["one"]))),
    );
    request
}

/// (partition, error code) of every partition answer, in the answer's order.
fn produce_codes(response: &ProduceResponse) -> Vec<(i32, i16)> {
    response
        .responses
        .iter()
        .flat_map(|t| &t.partition_responses)
        .map(|p| (p.index, p.error_code))
        .collect()
}

fn fetch_codes(response: &FetchResponse) -> Vec<(i32, i16)> {
    response
        .responses
        .iter()
        .flat_map(|t| &t.partitions)
        .map(|p| (p.partition_index, p.error_code))
        .collect()
}

fn not_leader() -> i16 {
    ResponseError::NotLeaderOrFollower.code()
}

#[test]
fn a_partition_error_refuses_only_that_partition_and_writes_the_other() {
    let cluster = cluster();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .topic("t")
                .partition(0)
                .error(ResponseError::NotLeaderOrFollower)
                .once(),
        )
        .unwrap();
    let response = Conn::to_broker(&cluster, 1).send(9, &produce_to_both(-1));
    // Both answered, in the request's order, though partition 0 was taken out of it.
    assert_eq!(produce_codes(&response), [(0, not_leader()), (1, 0)]);
    assert_eq!(response.responses[0].partition_responses[0].base_offset, -1);
    assert!(
        cluster.partition_records("t", 0).is_empty(),
        "refused means not written"
    );
    assert_eq!(cluster.partition_records("t", 1).len(), 1);
    assert_eq!(cluster.fault_hits(id), Some(1));
    // Spent: the retry is written.
    let response = Conn::to_broker(&cluster, 1).send(9, &produce_to_both(-1));
    assert_eq!(produce_codes(&response), [(0, 0), (1, 0)]);
    assert_eq!(cluster.partition_records("t", 0).len(), 1);
    assert_eq!(cluster.fault_hits(id), Some(1));
}

#[test]
fn a_produce_by_topic_id_is_selected_by_topic_name() {
    let cluster = cluster();
    let id = topic_id(&cluster, "t");
    cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .topic("t")
                .partition(1)
                .error(ResponseError::NotEnoughReplicas),
        )
        .unwrap();
    let mut request = produce_request_by_id(id, 0, batch_of(&["zero"]));
    request.topic_data[0].partition_data.push(
        PartitionProduceData::default()
            .with_index(1)
            .with_records(Some(batch_of(&["one"]))),
    );
    let response = Conn::to_broker(&cluster, 1).send(13, &request);
    assert_eq!(response.responses.len(), 1);
    assert_eq!(response.responses[0].topic_id, id);
    assert_eq!(
        produce_codes(&response),
        [(0, 0), (1, ResponseError::NotEnoughReplicas.code())]
    );
    assert_eq!(cluster.partition_records("t", 0).len(), 1);
    assert!(cluster.partition_records("t", 1).is_empty());
}

#[test]
fn a_refused_acks_0_produce_closes_the_connection_after_writing_the_other_partition() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .partition(1)
                .error(ResponseError::NotLeaderOrFollower),
        )
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write(9, &produce_to_both(0));
    conn.assert_closed("acks=0 produce with a refused partition");
    assert_eq!(cluster.partition_records("t", 0).len(), 1);
    assert!(cluster.partition_records("t", 1).is_empty());
}

#[test]
fn a_fetch_with_a_refused_partition_answers_at_once_and_serves_the_other() {
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["a"]));
    produce(&cluster, "t", 1, batch_of(&["b"]));
    cluster
        .inject(
            Fault::on(ApiKey::Fetch)
                .topic("t")
                .partition(1)
                .error(ResponseError::NotLeaderOrFollower),
        )
        .unwrap();
    // Asks for far more than there is and would long-poll for ten minutes, longer than
    // the connection's read deadline: only a fetch answered at once passes.
    let mut request = fetch_request("t", 0, 0)
        .with_max_wait_ms(600_000)
        .with_min_bytes(1 << 20);
    request.topics[0].partitions.push(
        FetchPartition::default()
            .with_partition(1)
            .with_fetch_offset(0)
            .with_partition_max_bytes(1 << 20),
    );
    let response = Conn::to_broker(&cluster, 1).send(12, &request);
    assert_eq!(fetch_codes(&response), [(0, 0), (1, not_leader())]);
    let partitions = &response.responses[0].partitions;
    assert_eq!(values(partitions[0].records.as_deref().unwrap()), ["a"]);
    assert_eq!(partitions[1].high_watermark, -1);
    assert!(
        partitions[1]
            .records
            .as_deref()
            .unwrap_or_default()
            .is_empty()
    );
}

#[test]
fn a_refused_delete_records_partition_keeps_its_records() {
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["a"]));
    produce(&cluster, "t", 1, batch_of(&["b"]));
    cluster
        .inject(
            Fault::on(ApiKey::DeleteRecords)
                .partition(0)
                .error(ResponseError::PolicyViolation),
        )
        .unwrap();
    let request = DeleteRecordsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            DeleteRecordsTopic::default()
                .with_name(name("t"))
                .with_partitions(
                    [0, 1]
                        .map(|p| {
                            DeleteRecordsPartition::default()
                                .with_partition_index(p)
                                .with_offset(-1)
                        })
                        .to_vec(),
                ),
        ]);
    let response = Conn::to_broker(&cluster, 1).send(2, &request);
    let answers: Vec<_> = response.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.error_code, p.low_watermark))
        .collect();
    assert_eq!(
        answers,
        [(0, ResponseError::PolicyViolation.code(), -1), (1, 0, 1)]
    );
    assert_eq!(cluster.partition_records("t", 0).len(), 1);
    assert!(cluster.partition_records("t", 1).is_empty());
}

#[test]
fn a_refused_offset_commit_partition_is_not_committed() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::OffsetCommit)
                .group("g")
                .partition(1)
                .error(ResponseError::RebalanceInProgress),
        )
        .unwrap();
    let request = commit_request("g", -1, "", &[("t", 0, 5), ("t", 1, 7)], None, -1);
    let response = Conn::to_broker(&cluster, 1).send(8, &request);
    let codes: Vec<_> = response.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.error_code))
        .collect();
    assert_eq!(
        codes,
        [(0, 0), (1, ResponseError::RebalanceInProgress.code())]
    );
    let group = cluster.group("g").expect("the commit created the group");
    assert_eq!(group.offset("t", 0), Some(5));
    assert_eq!(group.offset("t", 1), None);
}

#[test]
fn a_group_rule_on_a_multi_group_offset_fetch_refuses_only_that_group() {
    let cluster = cluster();
    for group in ["a", "b"] {
        let request = commit_request(group, -1, "", &[("t", 0, 3)], None, -1);
        Conn::to_broker(&cluster, 1).send(8, &request);
    }
    cluster
        .inject(
            Fault::on(ApiKey::OffsetFetch)
                .group("a")
                .error(ResponseError::CoordinatorLoadInProgress),
        )
        .unwrap();
    let request = offset_fetch_request(8, "a", Some(&[("t", &[0])]));
    let request = request.with_groups(vec![
        offset_fetch_group("a", Some(&[("t", &[0])])),
        offset_fetch_group("b", Some(&[("t", &[0])])),
    ]);
    let response = Conn::to_broker(&cluster, 1).send(8, &request);
    let groups: Vec<_> = response
        .groups
        .iter()
        .map(|g| {
            (
                g.group_id.as_str().to_string(),
                g.error_code,
                g.topics.len(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            (
                "a".into(),
                ResponseError::CoordinatorLoadInProgress.code(),
                0
            ),
            ("b".into(), 0, 1)
        ]
    );
    assert_eq!(
        response.groups[1].topics[0].partitions[0].committed_offset,
        3
    );
}

#[test]
fn a_refused_metadata_topic_is_not_auto_created_and_a_partition_rule_drops_its_leader() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::Metadata)
                .topic("refused")
                .error(ResponseError::UnknownTopicOrPartition),
        )
        .unwrap();
    cluster
        .inject(
            Fault::on(ApiKey::Metadata)
                .topic("t")
                .partition(1)
                .error(ResponseError::LeaderNotAvailable),
        )
        .unwrap();
    let request = MetadataRequest::default()
        .with_allow_auto_topic_creation(true)
        .with_topics(Some(
            ["refused", "created"]
                .map(|t| MetadataRequestTopic::default().with_name(Some(name(t))))
                .to_vec(),
        ));
    let response = Conn::to_broker(&cluster, 1).send(12, &request);
    let topics: Vec<_> = response
        .topics
        .iter()
        .map(|t| (t.name.as_ref().unwrap().as_str().to_string(), t.error_code))
        .collect();
    assert_eq!(
        topics,
        [
            (
                "refused".into(),
                ResponseError::UnknownTopicOrPartition.code()
            ),
            ("created".into(), 0)
        ]
    );
    assert!(cluster.partitions("refused").is_none(), "not auto-created");
    assert!(
        cluster.partitions("created").is_some(),
        "auto-creation is on"
    );
    assert!(!response.brokers.is_empty());

    // The second rule: t's partition 1 has no leader, partition 0 is as it is.
    let response = metadata(&mut Conn::to_broker(&cluster, 1), 12, &["t"]);
    let t = &response.topics[0];
    assert_no_error(t.error_code, "topic t");
    let partitions: Vec<_> = t
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.error_code, p.leader_id.0))
        .collect();
    assert_eq!(
        partitions,
        [(0, 0, 1), (1, ResponseError::LeaderNotAvailable.code(), -1)]
    );

    // A request for every topic is about "refused" too, once it exists.
    cluster.create_topic("refused", 1).unwrap();
    let all = Conn::to_broker(&cluster, 1).send(12, &MetadataRequest::default().with_topics(None));
    let refused = all
        .topics
        .iter()
        .find(|t| t.name.as_ref().is_some_and(|n| n.as_str() == "refused"))
        .expect("listed");
    assert_error(
        refused.error_code,
        ResponseError::UnknownTopicOrPartition,
        "refused, among all topics",
    );
    assert!(refused.partitions.is_empty());
}

#[test]
fn a_whole_request_error_answers_a_group_api_without_processing_it() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::JoinGroup)
                .group("g")
                .error(ResponseError::CoordinatorNotAvailable),
        )
        .unwrap();
    let response = Conn::to_broker(&cluster, 1).send(5, &join_request("g", "", &["range"]));
    assert_error(
        response.error_code,
        ResponseError::CoordinatorNotAvailable,
        "JoinGroup",
    );
    assert_eq!(response.generation_id, -1);
    assert!(
        cluster.group("g").is_none_or(|g| g.members.is_empty()),
        "nobody joined"
    );
    // Another group is not selected.
    let other = Conn::to_broker(&cluster, 1).join(5, join_request("other", "", &["range"]));
    assert_no_error(other.error_code, "JoinGroup of another group");
}

#[test]
fn a_heartbeat_of_the_selected_group_gets_the_error() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::Heartbeat)
                .group("g")
                .error(ResponseError::CoordinatorNotAvailable),
        )
        .unwrap();
    let response = Conn::to_broker(&cluster, 1).send(3, &heartbeat_request("g", 1, "m"));
    assert_error(
        response.error_code,
        ResponseError::CoordinatorNotAvailable,
        "heartbeat",
    );
    let response = Conn::to_broker(&cluster, 1).send(3, &heartbeat_request("other", 1, "m"));
    assert_error(
        response.error_code,
        ResponseError::UnknownMemberId,
        "the real answer for another group",
    );
}

#[test]
fn create_topics_is_refused_whole_and_creates_nothing() {
    let cluster = cluster();
    cluster
        .inject(
            Fault::on(ApiKey::CreateTopics)
                .topic("a")
                .error(ResponseError::PolicyViolation),
        )
        .unwrap();
    let create = |names: &[&str]| {
        CreateTopicsRequest::default()
            .with_timeout_ms(10_000)
            .with_topics(
                names
                    .iter()
                    .map(|n| {
                        CreatableTopic::default()
                            .with_name(name(n))
                            .with_num_partitions(1)
                            .with_replication_factor(1)
                    })
                    .collect(),
            )
    };
    let response = Conn::to_broker(&cluster, 1).send(7, &create(&["a", "b"]));
    let results: Vec<_> = response
        .topics
        .iter()
        .map(|t| (t.name.as_str().to_string(), t.error_code))
        .collect();
    let refused = ResponseError::PolicyViolation.code();
    assert_eq!(results, [("a".into(), refused), ("b".into(), refused)]);
    assert!(cluster.partitions("a").is_none() && cluster.partitions("b").is_none());
    // A request that does not name "a" is not selected.
    let response = Conn::to_broker(&cluster, 1).send(7, &create(&["b"]));
    assert_no_error(response.topics[0].error_code, "b alone");
    assert!(cluster.partitions("b").is_some());
}

#[test]
fn apply_then_error_writes_both_partitions_and_fails_the_selected_one() {
    let cluster = cluster();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .partition(0)
                .apply_then_error(ResponseError::RequestTimedOut)
                .once(),
        )
        .unwrap();
    let response = Conn::to_broker(&cluster, 1).send(9, &produce_to_both(-1));
    assert_eq!(
        produce_codes(&response),
        [(0, ResponseError::RequestTimedOut.code()), (1, 0)]
    );
    assert_eq!(response.responses[0].partition_responses[0].base_offset, -1);
    assert_eq!(
        cluster.partition_records("t", 0).len(),
        1,
        "but it was written"
    );
    assert_eq!(cluster.partition_records("t", 1).len(), 1);
    assert_eq!(cluster.fault_hits(id), Some(1));
}

#[test]
fn close_connection_processes_nothing_and_apply_then_close_processes_first() {
    let cluster = cluster();
    let close = cluster
        .inject(Fault::on(ApiKey::Produce).close_connection().once())
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write(9, &produce_request("t", 0, batch_of(&["closed"])));
    conn.assert_closed("close_connection");
    assert!(cluster.partition_records("t", 0).is_empty());
    assert_eq!(cluster.fault_hits(close), Some(1));

    cluster
        .inject(Fault::on(ApiKey::Produce).apply_then_close().once())
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write(9, &produce_request("t", 0, batch_of(&["applied"])));
    conn.assert_closed("apply_then_close");
    assert_eq!(cluster.partition_records("t", 0).len(), 1);
}

#[test]
fn no_response_answers_neither_the_request_nor_any_later_one_on_the_connection() {
    let cluster = cluster();
    let id = cluster
        .inject(Fault::on(ApiKey::Produce).no_response().once())
        .unwrap();
    let mut hung = Conn::to_broker(&cluster, 1);
    hung.write(9, &produce_request("t", 0, batch_of(&["unanswered"])));
    assert!(!hung.answer_pending(Duration::from_millis(200)));
    hung.write(12, &metadata_request(&["t"]));
    assert!(!hung.answer_pending(Duration::from_millis(100)));
    assert!(
        cluster.partition_records("t", 0).is_empty(),
        "not processed"
    );
    assert_eq!(cluster.fault_hits(id), Some(1));
    // Other connections are served.
    metadata(&mut Conn::to_broker(&cluster, 1), 12, &["t"]);
}

#[test]
fn apply_then_no_response_writes_but_never_answers() {
    let cluster = cluster();
    cluster
        .inject(Fault::on(ApiKey::Produce).apply_then_no_response().once())
        .unwrap();
    let mut hung = Conn::to_broker(&cluster, 1);
    hung.write(9, &produce_request("t", 0, batch_of(&["lost answer"])));
    wait_until("the unanswered produce to be written", || {
        cluster.partition_records("t", 0).len() == 1
    });
    assert!(!hung.answer_pending(Duration::from_millis(100)));
}

#[test]
fn throttle_reports_throttle_time_and_the_connection_is_served_afterwards() {
    let cluster = cluster();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .throttle(Duration::from_millis(30))
                .once(),
        )
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    let response = conn.send(9, &produce_request("t", 0, batch_of(&["a"])));
    assert_eq!(response.throttle_time_ms, 30);
    assert_no_error(only_partition(&response).error_code, "throttled produce");
    let response = conn.send(9, &produce_request("t", 0, batch_of(&["b"])));
    assert_eq!(response.throttle_time_ms, 0, "once");
    assert_eq!(cluster.fault_hits(id), Some(1));
    assert_eq!(cluster.partition_records("t", 0).len(), 2);
}

#[test]
fn latency_still_serves_and_answers_the_request() {
    let cluster = cluster();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .latency(Duration::from_millis(20))
                .times(2),
        )
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    for value in ["a", "b", "c"] {
        let response = conn.send(9, &produce_request("t", 0, batch_of(&[value])));
        assert_no_error(only_partition(&response).error_code, "delayed produce");
    }
    assert_eq!(cluster.fault_hits(id), Some(2));
    assert_eq!(cluster.partition_records("t", 0).len(), 3);
}

#[test]
fn a_rule_with_times_fires_that_often_then_stays_listed_but_inert_among_the_spent() {
    let cluster = cluster();
    let id = cluster
        .inject(
            Fault::on(ApiKey::DescribeCluster)
                .error(ResponseError::ClusterAuthorizationFailed)
                .times(2),
        )
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    let codes: Vec<i16> = (0..3)
        .map(|_| conn.send(0, &DescribeClusterRequest::default()).error_code)
        .collect();
    let refused = ResponseError::ClusterAuthorizationFailed.code();
    assert_eq!(codes, [refused, refused, 0]);
    let listed = cluster.faults();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].id, listed[0].hits, listed[0].fault.times),
        (id, 2, Some(2))
    );
    assert!(cluster.wait_for_fault(id, 2, Duration::ZERO));
}

#[test]
fn spent_rules_leave_the_active_set_and_only_the_last_thousand_stay_listed() {
    let cluster = cluster();
    let mut conn = Conn::to_broker(&cluster, 1);
    let refused = ResponseError::ClusterAuthorizationFailed.code();
    let mut ids = Vec::new();
    // Each rule is spent by the request after it; a spent rule no longer matches, so the
    // request after the last one is served.
    for _ in 0..1_200 {
        let id = cluster
            .inject(
                Fault::on(ApiKey::DescribeCluster)
                    .error(ResponseError::ClusterAuthorizationFailed)
                    .once(),
            )
            .unwrap();
        let code = conn.send(0, &DescribeClusterRequest::default()).error_code;
        assert_eq!(code, refused);
        ids.push(id);
    }
    assert_eq!(
        conn.send(0, &DescribeClusterRequest::default()).error_code,
        0
    );
    let listed = cluster.faults();
    assert_eq!(listed.len(), 1_000, "the history of spent rules is bounded");
    assert_eq!(listed[0].id, ids[200]);
    assert!(
        listed
            .iter()
            .all(|f| f.hits == 1 && f.fault.times == Some(1))
    );
    let last = *ids.last().unwrap();
    assert_eq!(cluster.fault_hits(last), Some(1));
    assert!(cluster.wait_for_fault(last, 1, Duration::ZERO));
    assert_eq!(cluster.fault(last).map(|f| f.hits), Some(1));
    assert_eq!(cluster.fault_hits(ids[0]), None, "forgotten");
    assert!(cluster.remove_fault(last));
    assert_eq!(cluster.faults().len(), 999);
}

#[test]
fn wait_for_fault_returns_once_a_request_on_another_thread_fired_the_rule() {
    let cluster = cluster();
    let id = cluster
        .inject(
            Fault::on(ApiKey::ApiVersions)
                .latency(Duration::ZERO)
                .times(3),
        )
        .unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut conn = Conn::to_broker(&cluster, 1);
            for _ in 0..3 {
                conn.send(3, &api_versions_request());
            }
        });
        assert!(cluster.wait_for_fault(id, 3, Duration::from_secs(30)));
    });
    assert!(
        !cluster.wait_for_fault(id, 4, Duration::from_millis(10)),
        "spent"
    );
    assert!(
        !cluster.wait_for_fault(FaultId(99), 1, Duration::ZERO),
        "no such rule"
    );
}

#[test]
fn selectors_by_broker_and_client_id() {
    let cluster = Cluster::builder().brokers(2).topic("t", 1).start().unwrap();
    let elsewhere = cluster
        .inject(Fault::any().client_id("another-app").close_connection())
        .unwrap();
    metadata(&mut Conn::to_broker(&cluster, 2), 12, &["t"]);
    assert_eq!(cluster.fault_hits(elsewhere), Some(0));
    let here = cluster
        .inject(
            Fault::any()
                .broker(2)
                .client_id(CLIENT_ID)
                .close_connection(),
        )
        .unwrap();
    // Broker 1 is not selected.
    metadata(&mut Conn::to_broker(&cluster, 1), 12, &["t"]);
    let mut conn = Conn::to_broker(&cluster, 2);
    conn.write(12, &metadata_request(&["t"]));
    conn.assert_closed("broker and client id selected");
    assert_eq!(cluster.fault_hits(here), Some(1));
    assert!(cluster.remove_fault(here));
    assert!(!cluster.remove_fault(here));
    metadata(&mut Conn::to_broker(&cluster, 2), 12, &["t"]);
    cluster.clear_faults();
    assert!(cluster.faults().is_empty());
}

#[test]
fn probabilistic_rules_hit_the_same_requests_for_the_same_seed() {
    let run = |seed: u64| {
        let cluster = Cluster::builder()
            .brokers(1)
            .seed(seed)
            .topic("t", 1)
            .start()
            .unwrap();
        cluster
            .inject(
                Fault::on(ApiKey::Produce)
                    .error(ResponseError::NotEnoughReplicas)
                    .probability(0.5),
            )
            .unwrap();
        let mut conn = Conn::to_broker(&cluster, 1);
        (0..32)
            .map(|i| {
                let request = produce_request("t", 0, batch_of(&[&i.to_string()]));
                only_partition(&conn.send(9, &request)).error_code != 0
            })
            .collect::<Vec<_>>()
    };
    let first = run(3);
    assert_eq!(first, run(3));
    assert!(first.contains(&true) && first.contains(&false), "{first:?}");
}

#[test]
fn bad_rules_are_refused() {
    let cluster = cluster();
    let err = cluster
        .inject(Fault::any().no_response().probability(2.0))
        .unwrap_err();
    assert_eq!(err.code, ResponseError::InvalidRequest);
    assert!(cluster.faults().is_empty());
    assert!(!cluster.remove_fault(FaultId(99)));
    assert_eq!(cluster.fault_hits(FaultId(99)), None);
}

// Every API and version: an injected answer must be one the client can decode.

fn api_versions_request() -> ApiVersionsRequest {
    ApiVersionsRequest::default()
        .with_client_software_name(str_bytes("broker-sim-tests"))
        .with_client_software_version(str_bytes("1.0"))
}

/// Sends `request` on a fresh connection to broker 1; the answer's debug text.
fn exchange<R: Request>(cluster: &Cluster, v: i16, request: &R) -> Result<String, String>
where
    R::Response: std::fmt::Debug,
{
    Conn::to_broker(cluster, 1)
        .try_send(v, request)
        .map(|answer| format!("{answer:?}"))
        .map_err(|e| format!("no valid answer: {e}"))
}

/// A request of `key` in `v` that names topic "t" partition 0 or a group of its own
/// (`tag` keeps names apart between runs), sent to broker 1.
fn sweep_request(
    cluster: &Cluster,
    topic_id: uuid::Uuid,
    key: ApiKey,
    v: i16,
    tag: &str,
) -> Result<String, String> {
    let group = format!("g-{tag}-v{v}");
    let topic = format!("{tag}-{key:?}-v{v}");
    match key {
        ApiKey::Produce => {
            let records = batch_of(&["x"]);
            let request = if v >= 13 {
                produce_request_by_id(topic_id, 0, records)
            } else {
                produce_request("t", 0, records)
            };
            exchange(cluster, v, &request)
        }
        ApiKey::Fetch => {
            let request = if v >= 13 {
                fetch_request_by_id(topic_id, 0, 0)
            } else {
                fetch_request("t", 0, 0)
            };
            exchange(cluster, v, &request)
        }
        ApiKey::ListOffsets => exchange(cluster, v, &list_offsets_request("t", 0, -1)),
        ApiKey::Metadata => exchange(cluster, v, &metadata_request(&["t"])),
        ApiKey::OffsetCommit => exchange(
            cluster,
            v,
            &commit_request(&group, -1, "", &[("t", 0, 1)], None, -1),
        ),
        ApiKey::OffsetFetch => exchange(
            cluster,
            v,
            &offset_fetch_request(v, &group, Some(&[("t", &[0])])),
        ),
        ApiKey::FindCoordinator => {
            let mut request = FindCoordinatorRequest::default();
            if v >= 4 {
                request.coordinator_keys = vec![str_bytes(&group)];
            } else {
                request.key = str_bytes(&group);
            }
            exchange(cluster, v, &request)
        }
        ApiKey::JoinGroup => exchange(cluster, v, &join_request(&group, "", &["range"])),
        ApiKey::Heartbeat => exchange(cluster, v, &heartbeat_request(&group, 1, "m")),
        ApiKey::ConsumerGroupHeartbeat => exchange(
            cluster,
            v,
            &consumer_join_request(&group, "m-sweep-member-0000000001", &["t"]),
        ),
        ApiKey::ConsumerGroupDescribe => exchange(
            cluster,
            v,
            &kafka_protocol::messages::ConsumerGroupDescribeRequest::default()
                .with_group_ids(vec![group_id(&group)]),
        ),
        ApiKey::LeaveGroup => {
            let mut request = LeaveGroupRequest::default().with_group_id(group_id(&group));
            if v >= 3 {
                request.members = vec![MemberIdentity::default().with_member_id(str_bytes("m"))];
            } else {
                request.member_id = str_bytes("m");
            }
            exchange(cluster, v, &request)
        }
        ApiKey::SyncGroup => exchange(cluster, v, &sync_request(&group, 1, "m", &[])),
        ApiKey::DescribeGroups => exchange(
            cluster,
            v,
            &DescribeGroupsRequest::default().with_groups(vec![group_id(&group)]),
        ),
        ApiKey::ListGroups => exchange(cluster, v, &ListGroupsRequest::default()),
        ApiKey::ApiVersions => exchange(cluster, v, &api_versions_request()),
        ApiKey::CreateTopics => exchange(
            cluster,
            v,
            &CreateTopicsRequest::default().with_topics(vec![
                CreatableTopic::default()
                    .with_name(name(&topic))
                    .with_num_partitions(1)
                    .with_replication_factor(1),
            ]),
        ),
        ApiKey::DeleteTopics => {
            cluster.create_topic(&topic, 1).unwrap();
            let mut request = DeleteTopicsRequest::default().with_timeout_ms(10_000);
            if v >= 6 {
                request.topics = vec![DeleteTopicState::default().with_name(Some(name(&topic)))];
            } else {
                request.topic_names = vec![name(&topic)];
            }
            exchange(cluster, v, &request)
        }
        ApiKey::DeleteRecords => exchange(
            cluster,
            v,
            &DeleteRecordsRequest::default()
                .with_timeout_ms(10_000)
                .with_topics(vec![
                    DeleteRecordsTopic::default()
                        .with_name(name("t"))
                        .with_partitions(vec![
                            DeleteRecordsPartition::default()
                                .with_partition_index(0)
                                .with_offset(-1),
                        ]),
                ]),
        ),
        ApiKey::InitProducerId => exchange(
            cluster,
            v,
            &InitProducerIdRequest::default()
                .with_transactional_id(None)
                .with_transaction_timeout_ms(60_000),
        ),
        ApiKey::OffsetForLeaderEpoch => exchange(
            cluster,
            v,
            &OffsetForLeaderEpochRequest::default()
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
                ]),
        ),
        ApiKey::DescribeConfigs => exchange(
            cluster,
            v,
            &DescribeConfigsRequest::default().with_resources(vec![
                DescribeConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(str_bytes("t"))
                    .with_configuration_keys(None),
            ]),
        ),
        ApiKey::AlterPartitionReassignments => exchange(
            cluster,
            v,
            &AlterPartitionReassignmentsRequest::default()
                .with_timeout_ms(10_000)
                .with_topics(vec![
                    alter_partition_reassignments_request::ReassignableTopic::default()
                        .with_name(name("t"))
                        .with_partitions(vec![
                            alter_partition_reassignments_request::ReassignablePartition::default()
                                .with_partition_index(0)
                                .with_replicas(None),
                        ]),
                ]),
        ),
        ApiKey::ListPartitionReassignments => exchange(
            cluster,
            v,
            &ListPartitionReassignmentsRequest::default()
                .with_timeout_ms(10_000)
                .with_topics(None),
        ),
        ApiKey::DescribeTopicPartitions => exchange(
            cluster,
            v,
            &DescribeTopicPartitionsRequest::default()
                .with_response_partition_limit(100)
                .with_topics(vec![
                    describe_topic_partitions_request::TopicRequest::default().with_name(name("t")),
                ]),
        ),
        ApiKey::ElectLeaders => exchange(
            cluster,
            v,
            &ElectLeadersRequest::default()
                .with_timeout_ms(10_000)
                .with_topic_partitions(Some(vec![
                    elect_leaders_request::TopicPartitions::default()
                        .with_topic(name("t"))
                        .with_partitions(vec![0]),
                ])),
        ),
        ApiKey::DescribeLogDirs => exchange(
            cluster,
            v,
            &DescribeLogDirsRequest::default().with_topics(Some(vec![
                describe_log_dirs_request::DescribableLogDirTopic::default()
                    .with_topic(name("t"))
                    .with_partitions(vec![0]),
            ])),
        ),
        ApiKey::AlterConfigs => exchange(
            cluster,
            v,
            &AlterConfigsRequest::default().with_resources(vec![
                alter_configs_request::AlterConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(str_bytes("t"))
                    .with_configs(vec![
                        alter_configs_request::AlterableConfig::default()
                            .with_name(str_bytes("retention.ms"))
                            .with_value(Some(str_bytes("86400000"))),
                    ]),
            ]),
        ),
        ApiKey::IncrementalAlterConfigs => exchange(
            cluster,
            v,
            &IncrementalAlterConfigsRequest::default().with_resources(vec![
                incremental_alter_configs_request::AlterConfigsResource::default()
                    .with_resource_type(2)
                    .with_resource_name(str_bytes("t"))
                    .with_configs(vec![
                        incremental_alter_configs_request::AlterableConfig::default()
                            .with_name(str_bytes("retention.ms"))
                            .with_value(Some(str_bytes("86400000"))),
                    ]),
            ]),
        ),
        ApiKey::CreatePartitions => {
            cluster.create_topic(&topic, 1).unwrap();
            exchange(
                cluster,
                v,
                &CreatePartitionsRequest::default()
                    .with_timeout_ms(10_000)
                    .with_topics(vec![
                        CreatePartitionsTopic::default()
                            .with_name(name(&topic))
                            .with_count(2)
                            .with_assignments(None),
                    ]),
            )
        }
        ApiKey::DeleteGroups => exchange(
            cluster,
            v,
            &DeleteGroupsRequest::default().with_groups_names(vec![group_id(&group)]),
        ),
        ApiKey::OffsetDelete => exchange(
            cluster,
            v,
            &OffsetDeleteRequest::default()
                .with_group_id(group_id(&group))
                .with_topics(vec![
                    OffsetDeleteRequestTopic::default()
                        .with_name(name("t"))
                        .with_partitions(vec![
                            OffsetDeleteRequestPartition::default().with_partition_index(0),
                        ]),
                ]),
        ),
        ApiKey::DescribeCluster => exchange(cluster, v, &DescribeClusterRequest::default()),
        ApiKey::AddPartitionsToTxn => {
            let topics = vec![
                AddPartitionsToTxnTopic::default()
                    .with_name(name("t"))
                    .with_partitions(vec![0]),
            ];
            let mut request = AddPartitionsToTxnRequest::default();
            if v >= 4 {
                request.transactions = vec![
                    AddPartitionsToTxnTransaction::default()
                        .with_transactional_id(str_bytes(&group).into())
                        .with_topics(topics),
                ];
            } else {
                request.v3_and_below_transactional_id = str_bytes(&group).into();
                request.v3_and_below_topics = topics;
            }
            exchange(cluster, v, &request)
        }
        ApiKey::AddOffsetsToTxn => exchange(
            cluster,
            v,
            &AddOffsetsToTxnRequest::default()
                .with_transactional_id(str_bytes(&group).into())
                .with_group_id(group_id(&group)),
        ),
        ApiKey::EndTxn => exchange(
            cluster,
            v,
            &EndTxnRequest::default().with_transactional_id(str_bytes(&group).into()),
        ),
        ApiKey::WriteTxnMarkers => exchange(
            cluster,
            v,
            &WriteTxnMarkersRequest::default().with_markers(vec![
                WritableTxnMarker::default()
                    .with_producer_id(999.into())
                    .with_topics(vec![
                        WritableTxnMarkerTopic::default()
                            .with_name(name("t"))
                            .with_partition_indexes(vec![0]),
                    ]),
            ]),
        ),
        ApiKey::TxnOffsetCommit => exchange(
            cluster,
            v,
            &TxnOffsetCommitRequest::default()
                .with_transactional_id(str_bytes(&group).into())
                .with_group_id(group_id(&group))
                .with_topics(vec![
                    TxnOffsetCommitRequestTopic::default()
                        .with_name(name("t"))
                        .with_partitions(vec![
                            TxnOffsetCommitRequestPartition::default().with_partition_index(0),
                        ]),
                ]),
        ),
        ApiKey::DescribeProducers => exchange(
            cluster,
            v,
            &DescribeProducersRequest::default().with_topics(vec![
                DescribeProducersTopic::default()
                    .with_name(name("t"))
                    .with_partition_indexes(vec![0]),
            ]),
        ),
        ApiKey::DescribeTransactions => exchange(
            cluster,
            v,
            &DescribeTransactionsRequest::default()
                .with_transactional_ids(vec![str_bytes(&group).into()]),
        ),
        ApiKey::ListTransactions => exchange(cluster, v, &ListTransactionsRequest::default()),
        other => sweep_request_more(cluster, other, v),
    }
}

/// Requests for the APIs of issue 17's later steps, each naming at least one item so an
/// error lands somewhere in the answer.
fn sweep_request_more(cluster: &Cluster, key: ApiKey, v: i16) -> Result<String, String> {
    use kafka_protocol::messages::*;
    match key {
        ApiKey::SaslHandshake => exchange(
            cluster,
            v,
            &SaslHandshakeRequest::default().with_mechanism(str_bytes("PLAIN")),
        ),
        ApiKey::SaslAuthenticate => exchange(cluster, v, &SaslAuthenticateRequest::default()),
        ApiKey::DescribeAcls => exchange(cluster, v, &DescribeAclsRequest::default()),
        ApiKey::CreateAcls => exchange(
            cluster,
            v,
            &CreateAclsRequest::default()
                .with_creations(vec![create_acls_request::AclCreation::default()]),
        ),
        ApiKey::DeleteAcls => exchange(
            cluster,
            v,
            &DeleteAclsRequest::default()
                .with_filters(vec![delete_acls_request::DeleteAclsFilter::default()]),
        ),
        ApiKey::CreateDelegationToken => {
            exchange(cluster, v, &CreateDelegationTokenRequest::default())
        }
        ApiKey::RenewDelegationToken => {
            exchange(cluster, v, &RenewDelegationTokenRequest::default())
        }
        ApiKey::ExpireDelegationToken => {
            exchange(cluster, v, &ExpireDelegationTokenRequest::default())
        }
        ApiKey::DescribeDelegationToken => {
            exchange(cluster, v, &DescribeDelegationTokenRequest::default())
        }
        ApiKey::AlterReplicaLogDirs => exchange(
            cluster,
            v,
            &AlterReplicaLogDirsRequest::default().with_dirs(vec![
                alter_replica_log_dirs_request::AlterReplicaLogDir::default()
                    .with_path(str_bytes("/var/lib/broker-sim/broker-1"))
                    .with_topics(vec![
                        alter_replica_log_dirs_request::AlterReplicaLogDirTopic::default()
                            .with_name(name("t"))
                            .with_partitions(vec![0]),
                    ]),
            ]),
        ),
        ApiKey::UpdateFeatures => exchange(
            cluster,
            v,
            &UpdateFeaturesRequest::default().with_feature_updates(vec![
                update_features_request::FeatureUpdateKey::default()
                    .with_feature(str_bytes("transaction.version"))
                    .with_max_version_level(2)
                    .with_upgrade_type(1),
            ]),
        ),
        ApiKey::UnregisterBroker => exchange(
            cluster,
            v,
            &UnregisterBrokerRequest::default().with_broker_id(1.into()),
        ),
        ApiKey::ListConfigResources => exchange(cluster, v, &ListConfigResourcesRequest::default()),
        ApiKey::DescribeUserScramCredentials => {
            exchange(cluster, v, &DescribeUserScramCredentialsRequest::default())
        }
        ApiKey::GetTelemetrySubscriptions => {
            exchange(cluster, v, &GetTelemetrySubscriptionsRequest::default())
        }
        ApiKey::PushTelemetry => exchange(cluster, v, &PushTelemetryRequest::default()),
        ApiKey::DescribeQuorum => exchange(
            cluster,
            v,
            &DescribeQuorumRequest::default().with_topics(vec![
                describe_quorum_request::TopicData::default()
                    .with_topic_name(name("__cluster_metadata"))
                    .with_partitions(vec![
                        describe_quorum_request::PartitionData::default().with_partition_index(0),
                    ]),
            ]),
        ),
        ApiKey::AddRaftVoter => exchange(cluster, v, &AddRaftVoterRequest::default()),
        ApiKey::RemoveRaftVoter => exchange(cluster, v, &RemoveRaftVoterRequest::default()),
        ApiKey::DescribeClientQuotas => {
            exchange(cluster, v, &DescribeClientQuotasRequest::default())
        }
        ApiKey::AlterClientQuotas => exchange(
            cluster,
            v,
            &AlterClientQuotasRequest::default().with_entries(vec![
                alter_client_quotas_request::EntryData::default().with_entity(vec![
                    alter_client_quotas_request::EntityData::default()
                        .with_entity_type(str_bytes("client-id"))
                        .with_entity_name(Some(str_bytes("c"))),
                ]),
            ]),
        ),
        ApiKey::AlterUserScramCredentials => exchange(
            cluster,
            v,
            &AlterUserScramCredentialsRequest::default().with_deletions(vec![
                alter_user_scram_credentials_request::ScramCredentialDeletion::default()
                    .with_name(str_bytes("u"))
                    .with_mechanism(1),
            ]),
        ),
        other => Err(format!("no request for {other:?}: add one to faults.rs")),
    }
}

#[test]
fn every_supported_api_version_answers_injected_errors_and_throttles() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    cluster.produce("t", None, b"seed").unwrap();
    let topic_id = topic_id(&cluster, "t");
    let code = ResponseError::PolicyViolation.code();
    let actions = [
        ("error", Fault::any().error(ResponseError::PolicyViolation)),
        (
            "apply",
            Fault::any().apply_then_error(ResponseError::PolicyViolation),
        ),
        ("throttle", Fault::any().throttle(Duration::from_millis(7))),
    ];
    let mut failures = Vec::new();
    for (tag, fault) in actions {
        cluster.clear_faults();
        cluster.inject(fault).unwrap();
        for api in SUPPORTED_APIS {
            for v in api.min..=api.max {
                let expected = match tag {
                    // WriteTxnMarkers (broker to broker), the SASL exchange and
                    // DescribeQuorum (answered by the controller) have no throttle time
                    // to report.
                    "throttle"
                        if v == api.max
                            && ![
                                ApiKey::WriteTxnMarkers,
                                ApiKey::SaslHandshake,
                                ApiKey::SaslAuthenticate,
                                ApiKey::DescribeQuorum,
                            ]
                            .contains(&api.key) =>
                    {
                        Some("throttle_time_ms: 7".to_string())
                    }
                    "throttle" => None,
                    _ => Some(format!("error_code: {code}")),
                };
                let outcome =
                    sweep_request(&cluster, topic_id, api.key, v, tag).and_then(|answer| {
                        match expected {
                            Some(wanted) if !answer.contains(&wanted) => {
                                Err(format!("no {wanted} in {answer}"))
                            }
                            _ => Ok(()),
                        }
                    });
                if let Err(why) = outcome {
                    failures.push(format!("{tag}: {:?} v{v}: {why}", api.key));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
