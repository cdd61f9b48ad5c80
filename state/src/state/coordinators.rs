//! Who coordinates what: the broker behind each group or transactional id, and the
//! state's side of the group coordinator, whose groups sit behind a lock of their own
//! (`groups/lock.rs`).
//!
//! A coordinator is the leader of one of 50 internal partitions (`__consumer_offsets`,
//! `__transaction_state`); broker-sim has no internal topics, so the state works the
//! leader out from which brokers are up, and tells the groups whenever that changes, so
//! group requests can check their coordinator under the groups lock alone.

use super::{BrokerInfo, COORDINATOR_PARTITIONS, State, groups};
use crate::error::KafkaError;

impl State {
    /// Locks the group coordinator's groups: the state lock, which the caller holds, comes
    /// first (`groups/lock.rs`).
    pub fn groups(&self) -> groups::GroupsGuard<'_> {
        self.groups.lock()
    }

    /// The groups and their lock, for a caller that takes the lock without holding the
    /// state's.
    pub fn groups_cell(&self) -> groups::GroupsCell {
        self.groups.clone()
    }

    /// Tells the group coordinator which broker coordinates each coordinator partition.
    pub(super) fn sync_coordinators(&self) {
        let table = self.coordinator_table();
        self.groups().set_coordinators(table);
    }

    /// The coordinator of a group or transactional id. Kafka hashes the id (Java's
    /// `String.hashCode`) onto one of 50 partitions of `__consumer_offsets` /
    /// `__transaction_state` and picks that partition's leader; broker-sim hashes the same
    /// way and spreads those 50 virtual partitions over the brokers round robin (there is
    /// no internal topic to lead).
    pub fn coordinator_for(&self, key: &str) -> Option<&BrokerInfo> {
        self.coordinator_of_partition(coordinator_partition(key))
    }

    /// The broker leading coordinator partition `partition`, if one is up.
    fn coordinator_of_partition(&self, partition: i32) -> Option<&BrokerInfo> {
        let partition = partition as usize;
        // The internal partition's replicas sit on consecutive brokers; its leader, and so
        // the coordinator, is the first of them that is up.
        let n = self.brokers.len();
        (0..n.min(3))
            .map(|r| &self.brokers[(partition + r) % n])
            .find(|b| !self.is_fenced(b.id))
    }

    /// Whether `broker` coordinates the group or transactional id `key`.
    pub fn is_coordinator(&self, key: &str, broker: i32) -> bool {
        self.coordinator_for(key).is_some_and(|b| b.id == broker)
    }

    /// [`KafkaError::not_coordinator`] unless `broker` coordinates `key`.
    pub fn check_coordinator(&self, key: &str, broker: i32) -> Result<(), KafkaError> {
        if self.is_coordinator(key, broker) {
            return Ok(());
        }
        Err(KafkaError::not_coordinator(key, broker))
    }

    /// Tells the groups which broker now coordinates each coordinator partition (call
    /// after fencing or unfencing a broker): groups whose coordinator changed are loaded
    /// by the new one, which gives every member a fresh session, as Kafka's coordinator
    /// does when it loads a group. One acquisition of the groups lock, so a group request
    /// sees either the old table or the new one with its sessions refreshed.
    pub(super) fn coordinators_moved(&mut self, now: i64) {
        let table = self.coordinator_table();
        self.groups().move_coordinators(table, now);
    }

    /// The broker leading each coordinator partition (-1: none is up).
    fn coordinator_table(&self) -> Vec<i32> {
        (0..COORDINATOR_PARTITIONS)
            .map(|p| self.coordinator_of_partition(p).map_or(-1, |b| b.id))
            .collect()
    }
}

/// The `__consumer_offsets` / `__transaction_state` partition of a group or transactional
/// id: Java's `String.hashCode`, made non-negative with Kafka's `Utils.abs` (which maps
/// `i32::MIN` to 0), modulo 50.
pub fn coordinator_partition(key: &str) -> i32 {
    let hash = broker_sim_protocol::partitioner::java_string_hash(key);
    (if hash == i32::MIN { 0 } else { hash.abs() }) % COORDINATOR_PARTITIONS
}
