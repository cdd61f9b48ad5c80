//! Consumer groups: Kafka 4.1's classic group protocol, as its group coordinator runs it.
//!
//! Every group lives here, in [`Groups`], which the cluster [`State`](super::State) holds
//! behind a lock of its own (`lock`): the group handlers, the timer task and the embedding
//! API's inspection and control calls all see one consistent picture, and none of them
//! waits for the state lock unless it needs the topics. The module is split by concern:
//!
//! - this file: the data (groups, members, committed offsets), the timers (session,
//!   rebalance, pending-member and pending-sync deadlines, all in cluster-clock
//!   milliseconds) and the read-only snapshot the embedding API hands out;
//! - `membership`: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and expiry — the state
//!   machine Empty → PreparingRebalance → CompletingRebalance → Stable (and Dead);
//! - `offsets`: OffsetCommit/OffsetFetch/OffsetDelete rules and the admin reset;
//! - `expiration`: `offsets.retention.minutes`, expired offsets and empty groups removed;
//! - `lock`: the groups' own lock, its order with the state's, and what groups are told
//!   (coordinators) or given (topics) so they need not take the state lock;
//! - `index`: the groups by id and by next deadline, so the timer task finds what is due
//!   without asking every group;
//! - `consumer_protocol`: decoding the consumer protocol's subscription and assignment
//!   bytes, which the broker otherwise only relays.
//!
//! A JoinGroup or SyncGroup that must wait for other members does not block anything: the
//! coordinator stores a one-shot sender and the handler awaits the receiver after the
//! groups lock is released, exactly like Kafka's delayed join/sync operations. Nothing here
//! sleeps; `tick(now)` fires whatever deadline has passed, and `next_deadline()` tells the
//! timer task (in `server`) when to call it next.

pub mod assignors;
pub mod consumer;
pub mod consumer_protocol;
mod expiration;
mod index;
mod join;
mod leave;
mod lock;
mod membership;
mod offsets;
mod sync;

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;

pub use consumer_protocol::{decode_assignment, decode_subscription};
pub use lock::{GroupsCell, GroupsGuard, held_here};
pub use offsets::{CommitRequest, OffsetReset};

use crate::config::GroupConfig;
pub use crate::error::KafkaError;
use crate::rng::SimRng;
use crate::state::history::Recorder;

/// A decoded JoinGroup, version differences already resolved by the handler.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    pub group_id: String,
    pub member_id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    pub protocol_type: String,
    pub protocols: Vec<(String, Bytes)>,
    /// v4+: an unknown member is first given an id (MEMBER_ID_REQUIRED) and must rejoin.
    pub require_known_member_id: bool,
    /// v9+: a static leader rejoining a stable group can be told to skip assigning.
    pub skip_assignment_supported: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinedMember {
    pub member_id: String,
    pub instance_id: Option<String>,
    pub metadata: Bytes,
}

/// A JoinGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinResult {
    pub error: Option<ResponseError>,
    pub member_id: String,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub leader: String,
    /// v9+: a static leader rejoining a stable group gets the members but must not
    /// assign again.
    pub skip_assignment: bool,
    /// Filled for the leader only.
    pub members: Vec<JoinedMember>,
}

impl JoinResult {
    pub fn error(error: ResponseError, member_id: &str) -> Self {
        JoinResult {
            error: Some(error),
            member_id: member_id.to_string(),
            generation: -1,
            protocol_type: None,
            protocol_name: None,
            leader: String::new(),
            skip_assignment: false,
            members: Vec::new(),
        }
    }
}

/// A decoded SyncGroup.
#[derive(Debug, Clone)]
pub struct SyncRequest {
    pub group_id: String,
    pub generation: i32,
    pub member_id: String,
    pub instance_id: Option<String>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignments: Vec<(String, Bytes)>,
}

/// A SyncGroup answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncResult {
    pub error: Option<ResponseError>,
    pub protocol_type: Option<String>,
    pub protocol_name: Option<String>,
    pub assignment: Bytes,
}

impl SyncResult {
    pub fn error(error: ResponseError) -> Self {
        SyncResult {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

/// Kafka's `offset.metadata.max.bytes` default: longer commit metadata is refused with
/// OFFSET_METADATA_TOO_LARGE.
pub const OFFSET_METADATA_MAX_BYTES: usize = 4096;

/// The classic group states, named as DescribeGroups and ListGroups report them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    /// The name Kafka puts on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

impl std::fmt::Display for GroupState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a waiting JoinGroup or SyncGroup eventually gets, or gets at once.
pub enum Pending<T> {
    Ready(T),
    Wait(oneshot::Receiver<T>),
}

/// A committed offset as the coordinator stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedOffset {
    pub offset: i64,
    pub leader_epoch: i32,
    pub metadata: Option<String>,
    pub commit_timestamp: i64,
}

/// One group member.
#[derive(Debug)]
pub struct Member {
    pub id: String,
    pub instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    /// (name, metadata) in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
    pub assignment: Bytes,
    /// Order of arrival: the first member to join leads, and a leader that leaves is
    /// replaced by the longest-standing member.
    join_seq: u64,
    heartbeat_deadline: i64,
    awaiting_join: Vec<oneshot::Sender<JoinResult>>,
    awaiting_sync: Vec<oneshot::Sender<SyncResult>>,
}

impl Member {
    /// The member's metadata for `protocol`.
    pub fn metadata(&self, protocol: &str) -> Option<&Bytes> {
        self.protocols
            .iter()
            .find(|(name, _)| name == protocol)
            .map(|(_, m)| m)
    }

    /// A sign of life: the session starts again.
    fn touch(&mut self, now: i64) {
        self.heartbeat_deadline = now + i64::from(self.session_timeout_ms);
    }

    fn is_awaiting_join(&self) -> bool {
        !self.awaiting_join.is_empty()
    }

    /// A member parked in JoinGroup or SyncGroup is alive by definition: the rebalance
    /// and pending-sync deadlines, not its session, decide its fate (Kafka's
    /// `shouldKeepAlive`).
    fn session_expired(&self, now: i64) -> bool {
        self.awaiting_join.is_empty()
            && self.awaiting_sync.is_empty()
            && now >= self.heartbeat_deadline
    }
}

/// A rebalance in progress (PreparingRebalance): when it gives up waiting for members.
#[derive(Debug, Clone, Copy)]
struct Rebalance {
    deadline: i64,
    /// The first rebalance of an empty group waits `group.initial.rebalance.delay.ms` for
    /// more members, extending while new ones keep arriving, up to the rebalance timeout:
    /// (delay, remaining).
    initial: Option<(i64, i64)>,
    new_member_added: bool,
}

/// One classic group.
#[derive(Debug)]
pub struct Group {
    pub id: String,
    pub state: GroupState,
    /// When the classic group entered `state` (Kafka's `currentStateTimestamp`): the
    /// offsets of a group left Empty expire counting from here (`expiration`).
    state_since: i64,
    pub generation: i32,
    pub protocol_type: Option<String>,
    pub protocol: Option<String>,
    pub leader: Option<String>,
    pub members: BTreeMap<String, Member>,
    /// Members told MEMBER_ID_REQUIRED, with the deadline for their second JoinGroup.
    pending_members: BTreeMap<String, i64>,
    /// group.instance.id → member id.
    static_members: BTreeMap<String, String>,
    rebalance: Option<Rebalance>,
    /// Members that have not sent SyncGroup since the last join completed, and when they
    /// are given up on.
    pending_sync: BTreeSet<String>,
    sync_deadline: Option<i64>,
    next_join_seq: u64,
    pub offsets: BTreeMap<(String, i32), CommittedOffset>,
    /// Offsets committed inside transactions not yet ended, by producer id
    /// (TxnOffsetCommit): they become `offsets` when the transaction commits.
    pub pending_txn_offsets: BTreeMap<i64, BTreeMap<(String, i32), CommittedOffset>>,
    /// Set for a consumer group of the new protocol (KIP-848, `consumer.rs`), whose
    /// members and assignment live there; the classic fields above then stay empty.
    pub consumer: Option<consumer::ConsumerGroup>,
}

impl Group {
    fn new(id: &str, now: i64) -> Self {
        Group {
            id: id.to_string(),
            state: GroupState::Empty,
            state_since: now,
            generation: 0,
            protocol_type: None,
            protocol: None,
            leader: None,
            members: BTreeMap::new(),
            pending_members: BTreeMap::new(),
            static_members: BTreeMap::new(),
            rebalance: None,
            pending_sync: BTreeSet::new(),
            sync_deadline: None,
            next_join_seq: 0,
            offsets: BTreeMap::new(),
            pending_txn_offsets: BTreeMap::new(),
            consumer: None,
        }
    }

    /// The topics any member subscribes to, read from the selected protocol's metadata
    /// (consumer protocol only).
    pub fn subscribed_topics(&self) -> BTreeSet<String> {
        if let Some(cg) = &self.consumer {
            return cg.subscribed_topic_names();
        }
        if self.protocol_type.as_deref() != Some("consumer") {
            return BTreeSet::new();
        }
        let Some(protocol) = self.protocol.as_deref() else {
            return BTreeSet::new();
        };
        self.members
            .values()
            .filter_map(|m| m.metadata(protocol))
            .flat_map(|bytes| decode_subscription(bytes).unwrap_or_default())
            .collect()
    }

    /// How long a rebalance waits for members: the longest rebalance timeout among them.
    fn max_rebalance_timeout(&self) -> i64 {
        self.members
            .values()
            .map(|m| i64::from(m.rebalance_timeout_ms))
            .max()
            .unwrap_or(0)
    }

    /// The earliest deadline this group waits for, if any.
    fn next_deadline(&self) -> Option<i64> {
        let members = self
            .members
            .values()
            .filter(|m| m.awaiting_join.is_empty() && m.awaiting_sync.is_empty())
            .map(|m| m.heartbeat_deadline);
        let rebalance = self.rebalance.map(|r| r.deadline);
        self.pending_members
            .values()
            .copied()
            .chain(members)
            .chain(rebalance)
            .chain(self.sync_deadline)
            .chain(self.consumer_next_deadline())
            .min()
    }
}

/// Every group of the cluster, by id, and what the coordinator needs besides them to run
/// under its own lock (`lock.rs`).
#[derive(Debug)]
pub struct Groups {
    groups: index::GroupMap,
    pub config: GroupConfig,
    /// Member ids: the groups' own seeded stream.
    rng: SimRng,
    history: Recorder,
    /// The broker coordinating each coordinator partition (-1: none is up), as the state
    /// last said (`set_coordinators`).
    coordinators: Vec<i32>,
}

impl Groups {
    /// Groups on their own (unit tests): member ids from seed 1, no history, and no broker
    /// coordinates anything until `set_coordinators`.
    pub fn new(config: GroupConfig) -> Self {
        Groups::for_cluster(config, 1, Recorder::new(Default::default()))
    }

    /// The cluster's groups: member ids drawn from a stream of the cluster `seed` that
    /// nothing else draws from, events recorded into `history`.
    pub fn for_cluster(config: GroupConfig, seed: u64, history: Recorder) -> Self {
        const GROUPS_STREAM: u64 = 0x6772_6f75_7073; // "groups"
        Groups {
            groups: index::GroupMap::default(),
            config,
            rng: SimRng::new(SimRng::new(seed ^ GROUPS_STREAM).next_u64()),
            history,
            coordinators: Vec::new(),
        }
    }

    /// Which broker coordinates each coordinator partition now (-1: none).
    pub fn set_coordinators(&mut self, table: Vec<i32>) {
        self.coordinators = table;
    }

    /// Takes a new coordinator table (see `set_coordinators`); every member of a group
    /// whose coordinator changed gets a fresh session ([`Groups::refresh_sessions`]).
    pub fn move_coordinators(&mut self, table: Vec<i32>, now: i64) {
        let coordinator = |table: &[i32], group: &str| {
            table
                .get(crate::state::coordinator_partition(group) as usize)
                .copied()
        };
        let moved: Vec<String> = self
            .groups
            .values()
            .filter(|g| coordinator(&self.coordinators, &g.id) != coordinator(&table, &g.id))
            .map(|g| g.id.clone())
            .collect();
        for g in moved {
            tracing::info!(group = %g, coordinator = ?coordinator(&table, &g), "group coordinator moved");
            self.refresh_sessions(&g, now);
        }
        self.coordinators = table;
    }

    /// NOT_COORDINATOR unless `broker` coordinates `group_id`: group requests must go where
    /// FindCoordinator sent the client.
    pub fn check_coordinator(&self, group_id: &str, broker: i32) -> Result<(), KafkaError> {
        let partition = crate::state::coordinator_partition(group_id) as usize;
        if self.coordinators.get(partition) == Some(&broker) {
            return Ok(());
        }
        Err(KafkaError::not_coordinator(group_id, broker))
    }

    /// Whether a JoinGroup of `group_id` is a classic member joining a consumer group that
    /// has members, whose assignment needs the topics ([`Groups::join_group`]).
    pub fn join_needs_topics(&self, group_id: &str) -> bool {
        self.get(group_id)
            .is_some_and(|g| g.consumer.as_ref().is_some_and(|cg| !cg.members.is_empty()))
    }

    /// JoinGroup (see `membership`); member ids come from the groups' seeded stream.
    /// `existing` (each topic's partition count) is read only when
    /// [`Groups::join_needs_topics`] said so.
    pub fn join_group(
        &mut self,
        request: JoinRequest,
        existing: &BTreeMap<String, i32>,
        now: i64,
    ) -> Pending<JoinResult> {
        if self.join_needs_topics(&request.group_id) {
            return Pending::Ready(self.classic_join_to_consumer_group(request, existing, now));
        }
        self.with_rng(|groups, rng| groups.join(request, now, rng))
    }

    /// Runs `f` with the groups' member-id stream beside them.
    fn with_rng<T>(&mut self, f: impl FnOnce(&mut Groups, &mut SimRng) -> T) -> T {
        let mut rng = self.rng.clone();
        let out = f(self, &mut rng);
        self.rng = rng;
        out
    }

    pub fn get(&self, id: &str) -> Option<&Group> {
        self.groups.get(id)
    }

    /// Groups in id order.
    pub fn iter(&self) -> impl Iterator<Item = &Group> {
        self.groups.values()
    }

    /// Every member of `id` gets a fresh session: what a coordinator that just loaded the
    /// group after a failover does, since it cannot know when members were last heard of.
    pub fn refresh_sessions(&mut self, id: &str, now: i64) {
        let session_ms = i64::from(self.config.consumer_session_timeout_ms);
        if let Some(g) = self.groups.get_mut(id) {
            for m in g.members.values_mut() {
                m.touch(now);
            }
            if let Some(cg) = g.consumer.as_mut() {
                cg.refresh_sessions(now + session_ms);
            }
        }
    }

    /// An Empty group holding only committed offsets, as a cluster started from a snapshot
    /// gets it (`consumer`: a KIP-848 group).
    pub fn insert_empty(
        &mut self,
        id: &str,
        protocol_type: Option<String>,
        consumer: bool,
        offsets: BTreeMap<(String, i32), CommittedOffset>,
        now: i64,
    ) {
        let mut group = Group::new(id, now);
        group.protocol_type = protocol_type;
        group.consumer = consumer.then(consumer::ConsumerGroup::default);
        group.offsets = offsets;
        self.groups.insert(id.to_string(), group);
    }

    fn get_or_create(&mut self, id: &str, now: i64) -> &mut Group {
        self.groups.get_or_insert_with(id, || Group::new(id, now))
    }

    /// Removes an Empty group and its offsets (DeleteGroups).
    pub fn delete(&mut self, id: &str) -> Result<(), KafkaError> {
        match self.groups.get(id) {
            None => Err(ResponseError::GroupIdNotFound.into()),
            Some(g) if g.state == GroupState::Dead => Err(ResponseError::GroupIdNotFound.into()),
            Some(g) if !g.is_empty() => Err(ResponseError::NonEmptyGroup.into()),
            Some(_) => {
                self.groups.remove(id);
                tracing::info!(group = %id, "deleted group");
                Ok(())
            }
        }
    }

    /// Drops every committed offset of a deleted topic, as Kafka's coordinator does.
    pub fn forget_topic(&mut self, topic: &str) {
        for group in self.groups.values_mut() {
            group.offsets.retain(|(t, _), _| t != topic);
            for pending in group.pending_txn_offsets.values_mut() {
                pending.retain(|(t, _), _| t != topic);
            }
        }
    }

    /// Fires every deadline that has passed by `now`: expired sessions and pending
    /// members, rebalances that stop waiting, members that never sent SyncGroup.
    pub fn tick(&mut self, now: i64) {
        let config = self.config;
        for id in self.groups.due(now) {
            let Some(group) = self.groups.get_mut(&id) else {
                continue;
            };
            if let Some(cg) = &group.consumer {
                for (id, why) in cg.expired(now) {
                    group.remove_consumer_member(&id, why, now, &config);
                }
            } else {
                group.fire_deadlines(now, &config);
            }
        }
    }

    /// When `tick` next has something to do.
    pub fn next_deadline(&mut self) -> Option<i64> {
        self.groups.next_deadline()
    }
}

/// Kafka's member ids: the client id (or group.instance.id) and a random UUID, drawn from
/// the cluster's seeded generator so ids repeat run to run.
fn new_member_id(prefix: &str, rng: &mut crate::rng::SimRng) -> String {
    format!("{prefix}-{}", rng.uuid())
}

#[cfg(test)]
mod tests;
