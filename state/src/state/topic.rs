//! Topics and partitions: names, ids, replica placement, leaders and configs.
//!
//! Placement is a pure function of the topic name and the broker list, so the same
//! cluster gives every partition the same leader on every run, whatever order topics were
//! created in. Replicas of one partition sit on consecutive brokers starting from the
//! leader, which spreads leaders (and their load) evenly across brokers.

use std::collections::BTreeMap;

use broker_sim_protocol::partitioner::murmur2;
use kafka_protocol::ResponseError;

use super::counters::Counters;
use super::epochs::LeaderEpochCache;
use super::log::PartitionLog;
use super::partition_lock::PartitionCell;

/// A partition, locked (`partition_lock.rs`).
pub type PartitionGuard<'a> = super::partition_lock::PartitionGuard<'a, Partition>;
use super::producers::ProducerStates;
use super::waiters::Waiters;
use crate::config::{self, MAX_MESSAGE_BYTES};
use crate::error::KafkaError;

/// Kafka's longest legal topic name.
pub const MAX_TOPIC_NAME_LEN: usize = 249;

/// Kafka's topic-name rule (`Topic.validate`): 1–249 of `[a-zA-Z0-9._-]`, and not `.` or
/// `..`, checked in Kafka's order with Kafka 4.1's messages.
pub fn validate_topic_name(name: &str) -> Result<(), KafkaError> {
    let invalid = |why: String| {
        Err(KafkaError::new(
            ResponseError::InvalidTopicException,
            format!("Topic name is invalid: {why}"),
        ))
    };
    if name.is_empty() {
        return invalid("the empty string is not allowed".into());
    }
    if name == "." || name == ".." {
        return invalid(format!("'{name}' is not allowed"));
    }
    if name.len() > MAX_TOPIC_NAME_LEN {
        return invalid(format!(
            "the length of '{name}' is longer than the max allowed length {MAX_TOPIC_NAME_LEN}"
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    {
        return invalid(format!(
            "'{name}' contains one or more characters other than ASCII alphanumerics, '.', '_' and '-'"
        ));
    }
    Ok(())
}

#[derive(Debug)]
pub struct Partition {
    pub index: i32,
    pub replicas: Vec<i32>,
    /// In-sync replicas, in replica-list order; the leader is always one of them.
    pub isr: Vec<i32>,
    /// -1 while no replica can lead (every in-sync replica is down).
    pub leader: i32,
    pub leader_epoch: i32,
    /// The leader's log. A follower's copy is a prefix of it: followers only ever copy
    /// the leader, and a leader change truncates the log to what the new leader holds.
    pub log: PartitionLog,
    /// How far each follower's copy reaches (its log end offset).
    pub follower_ends: BTreeMap<i32, i64>,
    /// The cluster time up to which each follower has copied everything: a follower
    /// whose copy is older than `replica.lag.time.max.ms` leaves the ISR.
    pub caught_up_at: BTreeMap<i32, i64>,
    pub high_watermark: i64,
    /// Idempotent producers' epochs and last batches, checked on every append; open
    /// transactions and aborted ones.
    pub producers: ProducerStates,
    /// Where each leader epoch began in the log (OffsetForLeaderEpoch).
    pub epochs: LeaderEpochCache,
    /// Records and bytes in and out, for `Cluster::topic_stats` and `/metrics`.
    pub counters: Counters,
    /// Requests waiting for this partition's log or high watermark to move.
    pub waiters: Waiters,
    /// A replica reassignment in progress (AlterPartitionReassignments).
    pub reassignment: Option<Reassignment>,
}

/// A reassignment in progress: while the added replicas catch up, the replica list is the
/// target followed by the replicas being removed, as in Kafka.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reassignment {
    pub target: Vec<i32>,
    /// The replicas before it began, for a cancellation.
    pub original: Vec<i32>,
    pub adding: Vec<i32>,
    pub removing: Vec<i32>,
}

impl Partition {
    pub fn new(index: i32, replicas: Vec<i32>) -> Self {
        Partition {
            index,
            leader: replicas[0],
            isr: replicas.clone(),
            follower_ends: replicas[1..].iter().map(|&r| (r, 0)).collect(),
            caught_up_at: BTreeMap::new(),
            replicas,
            leader_epoch: 0,
            log: PartitionLog::default(),
            high_watermark: 0,
            producers: ProducerStates::default(),
            epochs: LeaderEpochCache::new(0, 0),
            counters: Counters::default(),
            waiters: Waiters::default(),
            reassignment: None,
        }
    }

    /// Kafka's check of the leader epoch a client believes current (KIP-320): older is
    /// FENCED_LEADER_EPOCH, newer UNKNOWN_LEADER_EPOCH, -1 means the client does not know.
    pub fn check_leader_epoch(&self, client_epoch: i32) -> Result<(), KafkaError> {
        if client_epoch >= 0 && client_epoch < self.leader_epoch {
            return Err(KafkaError::new(
                ResponseError::FencedLeaderEpoch,
                format!(
                    "leader epoch {client_epoch} is older than {}",
                    self.leader_epoch
                ),
            ));
        }
        if client_epoch > self.leader_epoch {
            return Err(KafkaError::new(
                ResponseError::UnknownLeaderEpoch,
                format!(
                    "leader epoch {client_epoch} is newer than {}",
                    self.leader_epoch
                ),
            ));
        }
        Ok(())
    }

    /// Records below this offset are visible to consumers: every in-sync replica has them.
    pub fn high_watermark(&self) -> i64 {
        self.high_watermark
    }

    /// The log end offset of `replica`'s copy.
    pub fn replica_end(&self, replica: i32) -> i64 {
        if replica == self.leader {
            self.log.log_end_offset()
        } else {
            let end = self.follower_ends.get(&replica).copied().unwrap_or(0);
            end.min(self.log.log_end_offset())
        }
    }

    /// Deletes the records below `offset` (DeleteRecords, retention) and wakes the
    /// partition's long polls: Kafka's delayed fetches answer when the log start moves.
    pub fn delete_before(&mut self, offset: i64) {
        self.log.delete_before(offset);
        self.producers.log_start_moved(self.log.log_start_offset());
        self.epochs.truncate_to_start(offset);
        self.waiters.wake();
    }

    /// Moves the high watermark up to the lowest log end offset in the ISR. It never moves
    /// back, except when a truncation takes records away (see `truncate_to`).
    pub fn update_high_watermark(&mut self) {
        if self.leader < 0 {
            return;
        }
        let lowest = self
            .isr
            .iter()
            .map(|&r| self.replica_end(r))
            .min()
            .unwrap_or(self.high_watermark);
        if lowest > self.high_watermark {
            self.high_watermark = lowest;
            self.producers.replicated_to(lowest);
            self.waiters.wake();
        }
    }

    /// Records below this offset are visible to read_committed consumers: no transaction
    /// at or before it is open (see `state::producers`). It may be below the log start:
    /// when DeleteRecords removes the start of an open transaction, Kafka 4.1 still
    /// answers the transaction's first offset (the differential suite shows it).
    pub fn last_stable_offset(&self) -> i64 {
        self.producers.last_stable_offset(self.high_watermark)
    }
}

#[derive(Debug)]
pub struct Topic {
    pub name: String,
    pub id: uuid::Uuid,
    /// Each behind its own lock (`partition_lock.rs`).
    partitions: Vec<PartitionCell<Partition>>,
    /// Only the configs set on this topic; defaults come from [`config::TOPIC_CONFIGS`].
    pub configs: BTreeMap<String, String>,
    /// The topic configs the cluster-wide dynamic broker configs set (`log.retention.ms`
    /// as `retention.ms`…), shared by every topic: what applies where the topic sets
    /// nothing (`broker_configs.rs`).
    pub inherited: std::sync::Arc<BTreeMap<String, String>>,
}

impl Topic {
    pub fn new(
        name: String,
        id: uuid::Uuid,
        partitions: Vec<Partition>,
        configs: BTreeMap<String, String>,
        inherited: std::sync::Arc<BTreeMap<String, String>>,
    ) -> Self {
        Topic {
            name,
            id,
            partitions: partitions.into_iter().map(PartitionCell::new).collect(),
            configs,
            inherited,
        }
    }

    pub fn partition_count(&self) -> usize {
        self.partitions.len()
    }

    /// Partition `index`, locked: hold it no longer than needed, and no other partition
    /// meanwhile (`partition_lock.rs`).
    pub fn partition(&self, index: i32) -> Option<PartitionGuard<'_>> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get(i))
            .map(PartitionCell::lock)
    }

    /// Partition `index`, to a holder of the state's write lock.
    pub fn partition_mut(&mut self, index: i32) -> Option<&mut Partition> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.partitions.get_mut(i))
            .map(PartitionCell::get_mut)
    }

    /// Every partition in index order, each locked while the caller looks at it: the
    /// guard must go before the next one is taken.
    pub fn partitions(&self) -> impl Iterator<Item = PartitionGuard<'_>> {
        self.partitions.iter().map(PartitionCell::lock)
    }

    /// Every partition in index order, to a holder of the state's write lock.
    pub fn partitions_mut(&mut self) -> impl Iterator<Item = &mut Partition> {
        self.partitions.iter_mut().map(PartitionCell::get_mut)
    }

    /// Adds partitions after the last (CreatePartitions).
    pub fn extend_partitions(&mut self, added: impl IntoIterator<Item = Partition>) {
        self.partitions
            .extend(added.into_iter().map(PartitionCell::new));
    }

    /// The effective `max.message.bytes`: the topic's own, else the broker's
    /// `message.max.bytes`, as in Kafka.
    pub fn max_message_bytes(&self, broker_default: i32) -> i32 {
        self.configs
            .get(MAX_MESSAGE_BYTES)
            .or_else(|| self.inherited.get(MAX_MESSAGE_BYTES))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(broker_default)
    }

    /// A config's effective value.
    pub fn config(&self, name: &str) -> Option<&str> {
        self.configs
            .get(name)
            .or_else(|| self.inherited.get(name))
            .map(String::as_str)
            .or_else(|| config::topic_config_def(name).map(|d| d.default))
    }
}

/// Replica lists for partitions `first..first+count` of topic `name`.
pub fn place_replicas(
    name: &str,
    brokers: &[i32],
    first: i32,
    count: i32,
    replication_factor: usize,
) -> Vec<Vec<i32>> {
    let n = brokers.len();
    if n == 0 {
        return Vec::new();
    }
    let start = (murmur2(name.as_bytes()) & 0x7fff_ffff) as usize % n.max(1);
    (first..first + count)
        .map(|p| {
            (0..replication_factor)
                .map(|r| brokers[(start + p as usize + r) % n])
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kafka_topic_name_rules() {
        for ok in ["orders", "a.b_c-D9", &"x".repeat(249)] {
            assert!(validate_topic_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "..", "has space", "ümlaut", &"x".repeat(250)] {
            assert_eq!(
                validate_topic_name(bad).unwrap_err().code,
                ResponseError::InvalidTopicException,
                "{bad}"
            );
        }
    }

    #[test]
    fn placement_is_deterministic_and_spreads_leaders() {
        let brokers = [1, 2, 3];
        let a = place_replicas("orders", &brokers, 0, 6, 3);
        assert_eq!(a, place_replicas("orders", &brokers, 0, 6, 3));
        for b in brokers {
            assert_eq!(a.iter().filter(|r| r[0] == b).count(), 2);
        }
        for replicas in &a {
            let mut sorted = replicas.clone();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 3);
        }
    }
}
