//! The Kafka APIs broker-sim serves: one file per API key, and the registry that lists them.
//!
//! Each file describes its API completely, as an [`Api`] implementation: the versions it
//! supports, its handler, what a request names (topics, partitions, groups: what fault
//! selectors match and, later, what authorization checks), and how to answer a request
//! with an error code instead of serving it (Kafka's `AbstractRequest.getErrorResponse`),
//! down to partition level where the API has partitions, and what the request log records
//! of it (`log_answer`: the answer's error codes, walked in answer order; `log_request`
//! for Produce's and Fetch's extras). Nothing outside the file knows an
//! API's request or response shape: the pipeline (`crate::pipeline`) is generic over
//! `Api`.
//!
//! The registry at the bottom of this file is the only list of APIs. It declares each
//! API's module and generates the supported-version table that ApiVersions answers from
//! ([`SUPPORTED_APIS`]), the dispatch from an API key to its description ([`visit`]), and
//! so the lists every test sweeps. Adding an API is one file and one registry line.
//!
//! Handlers are functions of (context, request) → reply: they lock the state for as long as
//! they need it and never across an await.

mod access;
mod coordination;
pub(crate) mod partitioned;

pub(crate) use access::{Access, Select, config_resource_refused, group_operations, split_groups};

use std::future::Future;

use broker_sim_protocol::versions::ApiSupport;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{ApiKey, TopicName};
use kafka_protocol::protocol::{Decodable, StrBytes};
use uuid::Uuid;

use crate::error::{CloseReason, KafkaError};
use crate::faults::rules::TopicRef;
use crate::shared::Shared;
use crate::state::{BrokerInfo, State};

/// Everything broker-sim knows about one API key.
pub(crate) trait Api: 'static {
    const KEY: ApiKey;
    /// The versions served, inclusive: Kafka 4.1's range as `kafka-protocol` encodes it.
    const VERSIONS: (i16, i16);
    /// The lowest version ApiVersions advertises, where Kafka advertises less than it serves.
    const ADVERTISED_MIN: i16 = Self::VERSIONS.0;
    type Request: Decodable + Default + Clone + Send + Sync + 'static;
    type Response: kafka_protocol::protocol::Encodable + Default + Send + 'static;
    /// What the requester must be allowed, as Kafka checks it (`KafkaApis`), when an
    /// authorizer is configured: the pipeline's authorization layer applies it.
    const ACCESS: Access;

    /// Serves the request.
    fn handle(
        ctx: &Ctx<'_>,
        request: Self::Request,
    ) -> impl Future<Output = Reply<Self::Response>> + Send;

    /// The topics, partitions and groups the request is about.
    fn names(ctx: &Ctx<'_>, request: &Self::Request) -> Names;

    /// What the request log (`crate::request_log`) says the request names: what
    /// [`Api::names`] says, unless that includes more than the request itself names (a
    /// Metadata request for every topic names none).
    fn log_names(ctx: &Ctx<'_>, request: &Self::Request) -> Names {
        Self::names(ctx, request)
    }

    /// The whole request answered with `code` (Kafka's `getErrorResponse`): at the
    /// response's top level, or on every item it names where the response has only
    /// per-item codes.
    fn error_response(request: &Self::Request, version: i16, code: ResponseError)
    -> Self::Response;

    /// Reports a throttle time (KIP-219) on an answer; versions without the field drop it
    /// when encoding.
    fn set_throttle(response: &mut Self::Response, ms: i32);

    /// What the request log (`crate::request_log`) records of an answer: every Kafka error
    /// code in it, in answer order (`LogDetails::error` skips NONE and repeats).
    fn log_answer(answer: &Self::Response, log: &mut LogDetails);

    /// What the request log records of a request beyond what [`Api::names`] gives (the
    /// record count and acks of a Produce); nothing by default. Called before the handler
    /// takes the request, so it must be cheap: counts, never copies of payloads.
    fn log_request(_request: &Self::Request, _log: &mut LogDetails) {}

    /// Refuses what `rule` selects of the request with `code`, serving the rest. APIs
    /// with partitions take the selected partitions out and put error entries back into
    /// the answer in request order; the default refuses the whole request.
    fn refuse<'a>(
        ctx: &'a Ctx<'_>,
        request: Self::Request,
        _rule: &'a dyn Select,
        code: ResponseError,
    ) -> Refusal<'a, Self> {
        Refusal::whole(Self::error_response(&request, ctx.version, code))
    }

    /// Rewrites the reply to a request that was processed for real so that what `rule`
    /// selects carries `code` (the `apply_then_error` fault). The default answers the
    /// whole request with the code.
    fn fail(
        ctx: &Ctx<'_>,
        request: &Self::Request,
        reply: Reply<Self::Response>,
        _rule: &dyn Select,
        code: ResponseError,
    ) -> Reply<Self::Response> {
        match reply {
            Reply::Response(_) => Reply::Response(Self::error_response(request, ctx.version, code)),
            other => other,
        }
    }
}

/// What a request names, for fault selectors, authorization and the request log.
#[derive(Debug, Default)]
pub(crate) struct Names {
    pub topics: Vec<TopicRef>,
    pub groups: Vec<String>,
    pub transactional_ids: Vec<String>,
}

impl Names {
    /// The same, also naming a transactional id.
    pub fn with_transactional_id(mut self, id: Option<&str>) -> Self {
        self.transactional_ids.extend(id.map(str::to_string));
        self
    }

    pub fn group(group: &str) -> Self {
        Names {
            topics: Vec::new(),
            groups: vec![group.to_string()],
            transactional_ids: Vec::new(),
        }
    }

    /// Topics named with their partitions.
    pub fn partitions(topics: impl IntoIterator<Item = (String, Vec<i32>)>) -> Self {
        Names {
            topics: topics
                .into_iter()
                .map(|(name, partitions)| TopicRef {
                    group: None,
                    name,
                    partitions: Some(partitions),
                })
                .collect(),
            groups: Vec::new(),
            transactional_ids: Vec::new(),
        }
    }

    /// Topics named as wholes (admin APIs).
    pub fn topics(names: impl IntoIterator<Item = String>) -> Self {
        Names {
            topics: names
                .into_iter()
                .map(|name| TopicRef {
                    group: None,
                    name,
                    partitions: None,
                })
                .collect(),
            groups: Vec::new(),
            transactional_ids: Vec::new(),
        }
    }
}

/// What the request log records of one request and its answer besides its names: filled
/// by [`Api::log_request`] and [`Api::log_answer`].
#[derive(Debug, Default)]
pub(crate) struct LogDetails {
    /// Non-zero error codes, each once, in answer order.
    pub errors: Vec<i16>,
    /// Produce: records in the request; Fetch: records in the answer.
    pub records: Option<u64>,
    /// Produce's acks.
    pub acks: Option<i16>,
    /// Fetch's max_wait_ms.
    pub max_wait_ms: Option<i32>,
    /// The answer's splices while it is logged, to count the records behind placeholders.
    pub splices: broker_sim_protocol::splice::Splices,
}

impl LogDetails {
    /// Notes an error code of the answer; NONE and codes already noted are skipped. A
    /// linear search: answers carry few distinct errors.
    pub fn error(&mut self, code: i16) {
        if code != 0 && !self.errors.contains(&code) {
            self.errors.push(code);
        }
    }

    /// Adds the records in `batches` (record batches back to back, as Produce requests and
    /// Fetch answers carry them) to `records`, from the batch headers alone; control
    /// batches (transaction markers) are not records.
    pub fn count_records(&mut self, batches: Option<&[u8]>) {
        let mut n = 0u64;
        // A Fetch answer's records are placeholders for stored batches until it is sent.
        for section in self.splices.resolve(batches.unwrap_or_default()) {
            for batch in broker_sim_protocol::batch::batches(section) {
                match batch {
                    Ok(b) if !b.is_control() => n += b.records_count().max(0) as u64,
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        }
        *self.records.get_or_insert(0) += n;
    }
}

/// What a handler wants done with its request.
pub(crate) enum Reply<R> {
    Response(R),
    /// acks=0 produce: the client expects nothing back.
    NoResponse,
    /// Kafka drops the connection (e.g. a failed acks=0 produce) and says why in the log.
    Close(CloseReason),
}

/// A refusal planned by [`Api::refuse`]: what is left to serve, and how to turn the
/// handler's reply to it into the answer.
pub(crate) struct Refusal<'a, A: Api + ?Sized> {
    /// What is still to be processed; `None` when everything was refused, in which case
    /// `finish` is given an empty default answer.
    pub rest: Option<A::Request>,
    pub finish: Finish<'a, A::Response>,
}

/// Turns the handler's reply to what was left of a request into the answer.
pub(crate) type Finish<'a, R> = Box<dyn FnOnce(Reply<R>) -> Reply<R> + Send + 'a>;

impl<'a, A: Api + ?Sized> Refusal<'a, A> {
    /// Nothing is served; the answer is `answer`.
    pub fn whole(answer: A::Response) -> Self {
        Refusal {
            rest: None,
            finish: Box::new(move |_| Reply::Response(answer)),
        }
    }
}

/// Every topic operation, as the authorized-operations bit set reports it with no ACLs:
/// READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS
/// (Metadata and DescribeTopicPartitions).
pub(crate) const ALL_TOPIC_OPERATIONS: i32 =
    (1 << 3) | (1 << 4) | (1 << 5) | (1 << 6) | (1 << 7) | (1 << 8) | (1 << 10) | (1 << 11);

/// Who is asking, and of which broker.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub shared: &'a Shared,
    pub broker_id: i32,
    pub version: i16,
    /// The request header's client id ("" when null).
    pub client_id: &'a str,
    /// The peer's address as Kafka prints it ("/127.0.0.1").
    pub client_host: &'a str,
    /// A fault rule will replace or drop the answer after processing: the client never
    /// learns what was done, so the history does not count it as acknowledged or handed.
    pub answer_lost: bool,
    /// The request's size in bytes (header and body), what a produce quota counts.
    pub request_bytes: usize,
    /// The throttle time a client quota asks for this request (`Ctx::quota`); the
    /// pipeline reports it on the answer and mutes the connection for as long.
    pub quota_throttle: &'a std::sync::atomic::AtomicI32,
    /// The connection's security session: its listener and SASL state (`crate::sasl`).
    pub session: &'a crate::sasl::Session,
    /// Who sent the request, as Kafka prints a principal ("User:alice").
    pub principal: &'a str,
    /// The stored batches behind the answer's placeholders (`broker_sim_protocol::splice`):
    /// a Fetch answer names its batches here and the pipeline writes them from where they
    /// are stored.
    pub splices: &'a std::sync::Mutex<broker_sim_protocol::splice::Splices>,
}

impl Ctx<'_> {
    /// Counts `value` against this client's quota of `kind` (`state/quotas.rs`) and asks
    /// for the throttle time it earns; returns it (0 within the quota).
    /// A fetch answer that takes the client over its quota is taken back (the fetch is
    /// answered empty, as Kafka's is), in the same hold of the quotas' lock.
    pub fn quota(&self, kind: crate::state::quotas::QuotaKind, value: usize) -> i32 {
        let now = self.shared.clock.now_ms();
        let take_back = kind == crate::state::quotas::QuotaKind::Fetch;
        let ms = self.shared.quotas.record(
            self.broker_id,
            kind,
            self.client_id,
            value as f64,
            now,
            take_back,
        );
        if ms > 0 {
            tracing::debug!(
                client_id = self.client_id,
                ?kind,
                ms,
                "client quota exceeded: throttled"
            );
            self.quota_throttle
                .fetch_max(ms, std::sync::atomic::Ordering::Relaxed);
        }
        ms
    }

    /// The name of a topic a request gives by `name` or, when the name is empty, by `id`;
    /// "" for an unknown id.
    pub fn topic_name(&self, name: &TopicName, id: &Uuid) -> String {
        if name.is_empty() && !id.is_nil() {
            self.shared
                .lock()
                .topic_name_by_id(id)
                .map(str::to_string)
                .unwrap_or_default()
        } else {
            name.to_string()
        }
    }
}

/// Anything that carries a Kafka error code.
pub(crate) trait ErrorCode {
    fn error_code(&self) -> i16;
}

impl ErrorCode for ResponseError {
    fn error_code(&self) -> i16 {
        self.code()
    }
}

impl ErrorCode for KafkaError {
    fn error_code(&self) -> i16 {
        self.code()
    }
}

/// A response error code, 0 for none.
pub(crate) fn code(error: Option<impl ErrorCode>) -> i16 {
    error.map_or(0, |e| e.error_code())
}

/// Kafka's authorized-operations bit set for a group without an authorizer: READ,
/// DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (bits 3, 6, 8, 10, 11).
pub(crate) const ALL_GROUP_OPERATIONS: i32 = (1 << 3) | (1 << 6) | (1 << 8) | (1 << 10) | (1 << 11);

/// Every cluster operation, as the authorized-operations bit set reports it when no
/// authorizer is configured: CREATE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS,
/// IDEMPOTENT_WRITE, ALTER, DESCRIBE (bits 5 and 7–12).
pub(crate) const ALL_CLUSTER_OPERATIONS: i32 =
    (1 << 5) | (1 << 7) | (1 << 8) | (1 << 9) | (1 << 10) | (1 << 11) | (1 << 12);

/// A `StrBytes` for a response field.
/// `items` with each key once, at its first place: a later item with the same key
/// replaces the earlier one if `last_wins`, else is dropped. Kafka keys several requests
/// by topic or partition, so a name given twice is served once; one pass with an ordered
/// index, so a request naming one partition many times costs no more than its size.
pub(crate) fn dedup_by<T, K: Ord>(items: Vec<T>, key: impl Fn(&T) -> K, last_wins: bool) -> Vec<T> {
    merge_by(items, key, |first, later| {
        if last_wins {
            *first = later;
        }
    })
}

/// `items` with those of the same key merged into the first (`merge(first, later)`).
pub(crate) fn merge_by<T, K: Ord>(
    items: Vec<T>,
    key: impl Fn(&T) -> K,
    merge: impl Fn(&mut T, T),
) -> Vec<T> {
    // The common case on the produce and fetch paths: one topic, or one partition.
    if items.len() < 2 {
        return items;
    }
    let mut at: std::collections::BTreeMap<K, usize> = std::collections::BTreeMap::new();
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        match at.entry(key(&item)) {
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(out.len());
                out.push(item);
            }
            std::collections::btree_map::Entry::Occupied(e) => merge(&mut out[*e.get()], item),
        }
    }
    out
}

pub(crate) fn str_bytes(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

/// A `TopicName` for a response field.
pub(crate) fn topic_name(s: &str) -> TopicName {
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

/// Generic code to run for one API, chosen at run time by key: see [`visit`].
pub(crate) trait Visitor {
    type Output;
    fn visit<A: Api>(self) -> Self::Output;
}

/// The registry: `module::Type` of every API, in API-key order. Declares the modules and
/// generates [`SUPPORTED_APIS`] and [`visit`].
macro_rules! registry {
    ($($module:ident :: $api:ident),* $(,)?) => {
        $(pub(crate) mod $module;)*

        /// Every API served and its versions, in API-key order: what ApiVersions
        /// answers, what the version gate admits, what the README's table shows.
        pub const SUPPORTED_APIS: &[ApiSupport] = &[$(ApiSupport {
            key: <$module::$api as Api>::KEY,
            min: <$module::$api as Api>::VERSIONS.0,
            max: <$module::$api as Api>::VERSIONS.1,
        }),*];

        /// Kafka's name of an API broker-sim serves ("OffsetCommit"): each API's type is
        /// named as Kafka names the API (a test checks).
        pub(crate) fn name(key: ApiKey) -> &'static str {
            $(if key == <$module::$api as Api>::KEY {
                return stringify!($api);
            })*
            "Unknown"
        }

        /// Runs `visitor` with the description of `key`; `None` for an API broker-sim does
        /// not serve.
        pub(crate) fn visit<V: Visitor>(key: ApiKey, visitor: V) -> Option<V::Output> {
            $(if key == <$module::$api as Api>::KEY {
                return Some(visitor.visit::<$module::$api>());
            })*
            None
        }
    };
}

registry! {
    produce::Produce,
    fetch::Fetch,
    list_offsets::ListOffsets,
    metadata::Metadata,
    offset_commit::OffsetCommit,
    offset_fetch::OffsetFetch,
    find_coordinator::FindCoordinator,
    join_group::JoinGroup,
    heartbeat::Heartbeat,
    leave_group::LeaveGroup,
    sync_group::SyncGroup,
    describe_groups::DescribeGroups,
    list_groups::ListGroups,
    sasl_handshake::SaslHandshake,
    api_versions::ApiVersions,
    create_topics::CreateTopics,
    delete_topics::DeleteTopics,
    delete_records::DeleteRecords,
    init_producer_id::InitProducerId,
    offset_for_leader_epoch::OffsetForLeaderEpoch,
    add_partitions_to_txn::AddPartitionsToTxn,
    add_offsets_to_txn::AddOffsetsToTxn,
    end_txn::EndTxn,
    write_txn_markers::WriteTxnMarkers,
    txn_offset_commit::TxnOffsetCommit,
    describe_acls::DescribeAcls,
    create_acls::CreateAcls,
    delete_acls::DeleteAcls,
    describe_configs::DescribeConfigs,
    alter_configs::AlterConfigs,
    alter_replica_log_dirs::AlterReplicaLogDirs,
    describe_log_dirs::DescribeLogDirs,
    sasl_authenticate::SaslAuthenticate,
    create_partitions::CreatePartitions,
    create_delegation_token::CreateDelegationToken,
    renew_delegation_token::RenewDelegationToken,
    expire_delegation_token::ExpireDelegationToken,
    describe_delegation_token::DescribeDelegationToken,
    delete_groups::DeleteGroups,
    elect_leaders::ElectLeaders,
    incremental_alter_configs::IncrementalAlterConfigs,
    alter_partition_reassignments::AlterPartitionReassignments,
    list_partition_reassignments::ListPartitionReassignments,
    offset_delete::OffsetDelete,
    describe_client_quotas::DescribeClientQuotas,
    alter_client_quotas::AlterClientQuotas,
    describe_user_scram_credentials::DescribeUserScramCredentials,
    alter_user_scram_credentials::AlterUserScramCredentials,
    describe_quorum::DescribeQuorum,
    update_features::UpdateFeatures,
    describe_cluster::DescribeCluster,
    describe_producers::DescribeProducers,
    unregister_broker::UnregisterBroker,
    describe_transactions::DescribeTransactions,
    list_transactions::ListTransactions,
    consumer_group_heartbeat::ConsumerGroupHeartbeat,
    consumer_group_describe::ConsumerGroupDescribe,
    get_telemetry_subscriptions::GetTelemetrySubscriptions,
    push_telemetry::PushTelemetry,
    list_config_resources::ListConfigResources,
    describe_topic_partitions::DescribeTopicPartitions,
    add_raft_voter::AddRaftVoter,
    remove_raft_voter::RemoveRaftVoter,
}

/// The APIs a Kafka 4.1 broker advertises that broker-sim does not serve, each with the
/// reason. The README lists them (a test keeps it in step), and the differential suite
/// checks that these and [`SUPPORTED_APIS`] are exactly what the reference Kafka
/// advertises.
pub const NOT_SERVED: &[(ApiKey, &str)] = &[
    (ApiKey::ShareGroupHeartbeat, SHARE_GROUPS),
    (ApiKey::ShareGroupDescribe, SHARE_GROUPS),
    (ApiKey::ShareFetch, SHARE_GROUPS),
    (ApiKey::ShareAcknowledge, SHARE_GROUPS),
    (ApiKey::InitializeShareGroupState, SHARE_STATE),
    (ApiKey::ReadShareGroupState, SHARE_STATE),
    (ApiKey::WriteShareGroupState, SHARE_STATE),
    (ApiKey::DeleteShareGroupState, SHARE_STATE),
    (ApiKey::ReadShareGroupStateSummary, SHARE_STATE),
    (ApiKey::DescribeShareGroupOffsets, SHARE_GROUPS),
    (ApiKey::AlterShareGroupOffsets, SHARE_GROUPS),
    (ApiKey::DeleteShareGroupOffsets, SHARE_GROUPS),
];

const SHARE_GROUPS: &str = "share groups (KIP-932) are a preview in Kafka 4.1, which answers them only once `share.version` is enabled; broker-sim does not simulate them";
const SHARE_STATE: &str =
    "share-group state kept between brokers (KIP-932): sent by brokers, never by clients";

/// The APIs broker-sim serves that a Kafka 4.1 broker with its default settings does not
/// advertise, each with the reason; the differential suite leaves them out of the
/// ApiVersions comparison, and the README lists them.
pub const BEYOND_DEFAULT_KAFKA: &[(ApiKey, &str)] = &[
    (ApiKey::GetTelemetrySubscriptions, TELEMETRY),
    (ApiKey::PushTelemetry, TELEMETRY),
];

const TELEMETRY: &str = "Kafka advertises the client-telemetry APIs (KIP-714) only when a metrics reporter that receives client telemetry is configured, and none is by default; broker-sim always serves them, so a test can subscribe clients and read the metrics they push";

/// The README section listing [`NOT_SERVED`].
pub fn not_served_markdown() -> String {
    let mut out = String::from("| API | key | why not |\n|---|---|---|\n");
    for (key, why) in NOT_SERVED {
        out.push_str(&format!("| {key:?} | {} | {why} |\n", *key as i16));
    }
    out
}

/// The README section listing [`BEYOND_DEFAULT_KAFKA`].
pub fn beyond_default_kafka_markdown() -> String {
    let mut out = String::from("| API | key | why |\n|---|---|---|\n");
    for (key, why) in BEYOND_DEFAULT_KAFKA {
        out.push_str(&format!("| {key:?} | {} | {why} |\n", *key as i16));
    }
    out
}

/// The supported range for `key`, if broker-sim serves it at all.
pub fn supported(key: ApiKey) -> Option<ApiSupport> {
    SUPPORTED_APIS.iter().copied().find(|a| a.key == key)
}

#[cfg(test)]
mod handler_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_within_what_kafka_protocol_can_encode() {
        for pair in SUPPORTED_APIS.windows(2) {
            assert!((pair[0].key as i16) < (pair[1].key as i16), "{pair:?}");
        }
        for a in SUPPORTED_APIS {
            let codec = a.key.valid_versions();
            assert!(a.min <= a.max, "{a:?}");
            assert!(
                codec.min <= a.min && a.max <= codec.max,
                "{a:?} outside kafka-protocol's {codec:?}"
            );
        }
    }

    #[test]
    fn readme_compatibility_table_matches_the_registry() {
        let table = broker_sim_protocol::versions::markdown_table(SUPPORTED_APIS);
        let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
            .expect("README.md at the workspace root");
        assert!(
            readme.contains(&table),
            "README's supported-API table is stale; replace it with:\n{table}"
        );
        let not_served = not_served_markdown();
        assert!(
            readme.contains(&not_served),
            "README's table of APIs not served is stale; replace it with:\n{not_served}"
        );
        for (key, _) in NOT_SERVED {
            assert!(
                supported(*key).is_none(),
                "{key:?} is served and listed as not served"
            );
        }
        let beyond = beyond_default_kafka_markdown();
        assert!(
            readme.contains(&beyond),
            "README's table of APIs served beyond a default Kafka is stale; replace it with:\n{beyond}"
        );
        for (key, _) in BEYOND_DEFAULT_KAFKA {
            assert!(
                supported(*key).is_some(),
                "{key:?} is listed as served but is not"
            );
        }
    }

    #[test]
    fn every_api_is_named_as_kafka_names_it() {
        for a in SUPPORTED_APIS {
            assert_eq!(name(a.key), format!("{:?}", a.key));
        }
    }

    #[test]
    fn api_versions_v0_is_supported_so_clients_can_negotiate_down() {
        assert!(supported(ApiKey::ApiVersions).unwrap().contains(0));
    }

    /// Every API's error answer to an empty request encodes in every supported version.
    struct ErrorAnswerEncodes;

    impl Visitor for ErrorAnswerEncodes {
        type Output = Result<(), String>;
        fn visit<A: Api>(self) -> Result<(), String> {
            for v in A::VERSIONS.0..=A::VERSIONS.1 {
                let mut answer =
                    A::error_response(&A::Request::default(), v, ResponseError::NotCoordinator);
                A::set_throttle(&mut answer, 5);
                broker_sim_protocol::header::encode_response(A::KEY, v, 1, &answer)
                    .map_err(|e| format!("{:?} v{v}: {e}", A::KEY))?;
            }
            Ok(())
        }
    }

    #[test]
    fn every_api_has_an_error_answer_that_encodes_in_every_version() {
        for a in SUPPORTED_APIS {
            visit(a.key, ErrorAnswerEncodes)
                .expect("every listed API is visitable")
                .unwrap();
        }
    }

    /// The request log's errors of every API's error answer to an empty request, in
    /// every version: the error or, where the answer has only per-item codes, nothing.
    struct LoggedErrors;

    impl Visitor for LoggedErrors {
        type Output = Vec<i16>;
        fn visit<A: Api>(self) -> Vec<i16> {
            let mut all = Vec::new();
            for v in A::VERSIONS.0..=A::VERSIONS.1 {
                let answer =
                    A::error_response(&A::Request::default(), v, ResponseError::NotCoordinator);
                let mut log = LogDetails::default();
                A::log_answer(&answer, &mut log);
                all.extend(log.errors);
            }
            all.dedup();
            all
        }
    }

    #[test]
    fn the_request_log_finds_the_error_of_every_error_answer() {
        let not_coordinator = ResponseError::NotCoordinator.code();
        for a in SUPPORTED_APIS {
            let logged = visit(a.key, LoggedErrors).unwrap();
            assert!(
                logged.is_empty() || logged == [not_coordinator],
                "{:?}: {logged:?}",
                a.key
            );
        }
        // APIs whose answers have a top-level code report it even for an empty request.
        for key in [
            ApiKey::Heartbeat,
            ApiKey::JoinGroup,
            ApiKey::SyncGroup,
            ApiKey::LeaveGroup,
            ApiKey::ListGroups,
            ApiKey::InitProducerId,
            ApiKey::AddOffsetsToTxn,
            ApiKey::EndTxn,
            ApiKey::ConsumerGroupHeartbeat,
            ApiKey::OffsetDelete,
            ApiKey::FindCoordinator,
        ] {
            assert_eq!(
                visit(key, LoggedErrors).unwrap(),
                [not_coordinator],
                "{key:?}"
            );
        }
    }

    #[test]
    fn visiting_an_api_broker_sim_does_not_serve_finds_nothing() {
        struct Key;
        impl Visitor for Key {
            type Output = ApiKey;
            fn visit<A: Api>(self) -> ApiKey {
                A::KEY
            }
        }
        assert_eq!(visit(ApiKey::Fetch, Key), Some(ApiKey::Fetch));
        // A controller's API, which brokers never serve.
        assert_eq!(visit(ApiKey::BrokerRegistration, Key), None);
    }
}
