//! Request handlers, one module per API key, and the dispatch from decoded request to
//! handler.
//!
//! Which keys and versions are accepted is decided before dispatch, by the table in
//! `broker_sim_protocol::versions`; the `match` here only maps each decoded request type to
//! its handler. Handlers are functions of (cluster state, request) → response: they lock
//! the state for as long as they need it and never across an await.

pub mod api_versions;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_groups;
pub mod delete_records;
pub mod delete_topics;
pub mod describe_cluster;
pub mod describe_configs;
pub mod describe_groups;
pub mod fetch;
pub mod find_coordinator;
pub mod heartbeat;
pub mod init_producer_id;
pub mod join_group;
pub mod leave_group;
pub mod list_groups;
pub mod list_offsets;
pub mod metadata;
pub mod offset_commit;
pub mod offset_delete;
pub mod offset_fetch;
pub mod offset_for_leader_epoch;
pub mod produce;
pub mod sync_group;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::{RequestKind, ResponseKind};
use kafka_protocol::protocol::StrBytes;

use crate::cluster::Shared;
use crate::state::{BrokerInfo, State};

/// Who is asking, and of which broker.
pub(crate) struct RequestContext<'a> {
    pub shared: &'a Shared,
    pub broker_id: i32,
    pub version: i16,
    /// The request header's client id ("" when null).
    pub client_id: &'a str,
    /// The peer's address as Kafka prints it ("/127.0.0.1").
    pub client_host: &'a str,
}

impl RequestContext<'_> {
    /// NOT_COORDINATOR unless this broker coordinates `group_id`: group requests must go
    /// where FindCoordinator sent the client.
    pub fn check_coordinator(&self, group_id: &str) -> Result<(), ResponseError> {
        if self.shared.lock().is_coordinator(group_id, self.broker_id) {
            Ok(())
        } else {
            Err(ResponseError::NotCoordinator)
        }
    }

    /// Wakes the group timer task: a group request may have moved a deadline.
    pub fn groups_changed(&self) {
        self.shared.groups_changed.notify_one();
    }
}

/// A response error code, 0 for none.
pub(crate) fn code(error: Option<ResponseError>) -> i16 {
    error.map_or(0, |e| e.code())
}

/// Kafka's authorized-operations bit set for a group without an authorizer: READ,
/// DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (bits 3, 6, 8, 10, 11).
pub(crate) const ALL_GROUP_OPERATIONS: i32 = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11);

/// What a handler wants done with its request.
pub(crate) enum Reply {
    Response(Box<ResponseKind>),
    /// acks=0 produce: the client expects nothing back.
    NoResponse,
    /// Kafka drops the connection (e.g. a failed acks=0 produce) and says why in the log.
    Close(String),
}

pub(crate) async fn dispatch(ctx: &RequestContext<'_>, request: RequestKind) -> Reply {
    use RequestKind as Rq;
    use ResponseKind as Rs;
    let response = match request {
        Rq::Produce(r) => return produce::handle(ctx, r).await,
        Rq::Fetch(r) => Rs::Fetch(fetch::handle(ctx, r).await),
        Rq::ListOffsets(r) => Rs::ListOffsets(list_offsets::handle(ctx, r)),
        Rq::Metadata(r) => Rs::Metadata(metadata::handle(ctx, r)),
        Rq::OffsetCommit(r) => Rs::OffsetCommit(offset_commit::handle(ctx, r)),
        Rq::OffsetFetch(r) => Rs::OffsetFetch(offset_fetch::handle(ctx, r)),
        Rq::FindCoordinator(r) => Rs::FindCoordinator(find_coordinator::handle(ctx, r)),
        Rq::JoinGroup(r) => Rs::JoinGroup(join_group::handle(ctx, r).await),
        Rq::Heartbeat(r) => Rs::Heartbeat(heartbeat::handle(ctx, r)),
        Rq::LeaveGroup(r) => Rs::LeaveGroup(leave_group::handle(ctx, r)),
        Rq::SyncGroup(r) => Rs::SyncGroup(sync_group::handle(ctx, r).await),
        Rq::DescribeGroups(r) => Rs::DescribeGroups(describe_groups::handle(ctx, r)),
        Rq::ListGroups(r) => Rs::ListGroups(list_groups::handle(ctx, r)),
        Rq::ApiVersions(r) => Rs::ApiVersions(api_versions::handle(ctx, r)),
        Rq::CreateTopics(r) => Rs::CreateTopics(create_topics::handle(ctx, r)),
        Rq::DeleteTopics(r) => Rs::DeleteTopics(delete_topics::handle(ctx, r)),
        Rq::DeleteRecords(r) => Rs::DeleteRecords(delete_records::handle(ctx, r)),
        Rq::InitProducerId(r) => Rs::InitProducerId(init_producer_id::handle(ctx, r)),
        Rq::OffsetForLeaderEpoch(r) => {
            Rs::OffsetForLeaderEpoch(offset_for_leader_epoch::handle(ctx, r))
        }
        Rq::DescribeConfigs(r) => Rs::DescribeConfigs(describe_configs::handle(ctx, r)),
        Rq::DeleteGroups(r) => Rs::DeleteGroups(delete_groups::handle(ctx, r)),
        Rq::CreatePartitions(r) => Rs::CreatePartitions(create_partitions::handle(ctx, r)),
        Rq::OffsetDelete(r) => Rs::OffsetDelete(offset_delete::handle(ctx, r)),
        Rq::DescribeCluster(r) => Rs::DescribeCluster(describe_cluster::handle(ctx, r)),
        other => {
            // The version table admitted a key that has no handler: a broker-sim bug.
            return Reply::Close(format!("no handler for {:?}", other));
        }
    };
    Reply::Response(Box::new(response))
}

/// Every cluster operation, as the authorized-operations bit set reports it when no
/// authorizer is configured: CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS,
/// IDEMPOTENT_WRITE, ALTER, DESCRIBE (bits 5 and 7–12).
pub(crate) const ALL_CLUSTER_OPERATIONS: i32 =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

/// A `StrBytes` for a response field.
pub(crate) fn str_bytes(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

/// A `TopicName` for a response field.
pub(crate) fn topic_name(s: &str) -> kafka_protocol::messages::TopicName {
    str_bytes(s).into()
}

/// The leader and leader epoch of `topic`-`partition`, which NOT_LEADER_OR_FOLLOWER answers
/// of Produce (v10+) and Fetch (v12+) carry so the client can redirect at once (KIP-951).
pub(crate) fn current_leader(
    state: &State,
    topic: Option<&str>,
    partition: i32,
) -> Option<(i32, i32)> {
    let p = state.topic(topic?)?.partition(partition)?;
    Some((p.leader, p.leader_epoch))
}

/// The brokers named as leaders in NOT_LEADER_OR_FOLLOWER answers, once each and in id
/// order, for the `node_endpoints` of Produce (v10+) and Fetch (v16+) responses (KIP-951).
pub(crate) fn leader_endpoints(state: &State, mut leaders: Vec<i32>) -> Vec<&BrokerInfo> {
    leaders.sort_unstable();
    leaders.dedup();
    leaders
        .into_iter()
        .filter_map(|id| state.broker(id))
        .collect()
}
