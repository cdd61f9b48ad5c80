//! Replication, as the controller and the followers would run it: follower copies, the
//! ISR, the high watermark, leader elections and brokers going down and coming back.
//!
//! Followers are not separate logs: a follower's copy is always a prefix of its leader's
//! log, so a partition keeps one log plus, per follower, how far its copy reaches
//! (`Partition::follower_ends`). Copying is instant by default; with a replication lag a
//! follower copies each batch that long after it was appended, and a paused follower
//! copies nothing. A follower that has not caught up for `replica.lag.time.max.ms` leaves
//! the ISR, and rejoins once it holds everything below the high watermark, as in Kafka.
//! The high watermark is the lowest log end offset in the ISR.
//!
//! A stopped (or isolated) broker is fenced at once, as KRaft's controller does once the
//! broker's session lapses: it leaves every ISR (unless it is the last member, which
//! KRaft keeps), and the partitions it led elect the first in-sync replica that is up, in
//! replica order, with a new leader epoch. With no such replica the partition has no
//! leader (-1) until one comes back, unless `unclean.leader.election.enable` lets the
//! first live out-of-sync replica take over. A new leader's log is the truth: the
//! partition is truncated to what it holds, so records it never copied are lost, exactly
//! the records Kafka loses (acks=1 writes on a clean election, anything on an unclean one).

use std::collections::BTreeSet;

use kafka_protocol::ResponseError;

use super::{Partition, State};
use crate::error::KafkaError;

/// How followers copy their leaders.
#[derive(Debug, Clone, Default)]
pub struct Replication {
    /// Followers copy a batch this long after its append; 0 copies at once.
    pub lag_ms: i64,
    /// Brokers whose follower copies are frozen (they still serve as leaders).
    pub paused: BTreeSet<i32>,
    /// Brokers the controller has fenced: stopped or isolated.
    pub fenced: BTreeSet<i32>,
    /// Fenced brokers whose registration an UnregisterBroker removed: not even listed as
    /// fenced, until they start again and register anew.
    pub unregistered: BTreeSet<i32>,
}

impl Replication {
    /// Whether followers can fall behind at all; when not, no timer needs to run.
    pub fn can_lag(&self) -> bool {
        self.lag_ms > 0 || !self.paused.is_empty()
    }
}

/// Brings `p`'s followers up to date as of `now`, then its ISR and high watermark.
pub(super) fn sync_followers(
    p: &mut Partition,
    topic: &str,
    r: &Replication,
    max_lag_ms: i64,
    now: i64,
) {
    if p.leader < 0 {
        return;
    }
    let end = p.log.log_end_offset();
    let as_of = now - r.lag_ms;
    let visible_then = if r.lag_ms == 0 {
        end
    } else {
        p.log.end_offset_at(as_of)
    };
    for &f in &p.replicas {
        if f == p.leader || r.fenced.contains(&f) {
            continue;
        }
        let caught_up = p.caught_up_at.entry(f).or_insert(now);
        if !r.paused.contains(&f) {
            let copied = p.follower_ends.entry(f).or_insert(0);
            *copied = (*copied).max(visible_then).min(end);
            *caught_up = (*caught_up).max(as_of);
        }
    }
    // ISR changes: a stuck follower leaves, a caught-up one comes back.
    let hw = p.high_watermark;
    let (leader, replicas) = (p.leader, p.replicas.clone());
    let mut isr: Vec<i32> = Vec::with_capacity(replicas.len());
    for f in replicas {
        let in_isr = p.isr.contains(&f);
        let keep = if f == leader {
            true
        } else if r.fenced.contains(&f) {
            false
        } else if in_isr {
            now - p.caught_up_at.get(&f).copied().unwrap_or(now) <= max_lag_ms
        } else {
            p.replica_end(f) >= hw && !r.paused.contains(&f)
        };
        if keep {
            isr.push(f);
        }
    }
    if isr != p.isr {
        tracing::info!(partition = p.index, from = ?p.isr, to = ?isr, "ISR changed");
        p.isr = isr;
    }
    p.update_high_watermark();
    finish_reassignment(p, topic, r);
}

/// Completes `p`'s reassignment once every added replica is in sync, as Kafka's
/// controller does: the replicas become the target, the removed ones leave the ISR and
/// stop following, and a removed leader hands over to the first in-sync target replica.
fn finish_reassignment(p: &mut Partition, topic: &str, r: &Replication) {
    let Some(re) = &p.reassignment else {
        return;
    };
    if !re.adding.iter().all(|a| p.isr.contains(a)) {
        return;
    }
    let re = p.reassignment.take().expect("checked");
    tracing::info!(topic, partition = p.index, replicas = ?re.target, "reassignment completed");
    p.replicas = re.target.clone();
    for gone in &re.removing {
        p.follower_ends.remove(gone);
        p.caught_up_at.remove(gone);
    }
    if !p.replicas.contains(&p.leader) {
        let next = p
            .replicas
            .iter()
            .copied()
            .find(|c| p.isr.contains(c) && !r.fenced.contains(c))
            .unwrap_or(-1);
        change_leader(p, topic, next);
    }
    let replicas = p.replicas.clone();
    p.isr.retain(|i| replicas.contains(i));
    p.isr.sort_by_key(|i| replicas.iter().position(|r| r == i));
    p.update_high_watermark();
}

/// When `p` next needs `sync_followers` although nothing was appended: a lagging follower
/// copies its next batch, or a stuck one is due to leave the ISR.
fn next_sync(p: &Partition, r: &Replication, max_lag_ms: i64) -> Option<i64> {
    if p.leader < 0 {
        return None;
    }
    let end = p.log.log_end_offset();
    p.replicas
        .iter()
        .filter(|&&f| f != p.leader && !r.fenced.contains(&f))
        .filter_map(|&f| {
            let copy = (!r.paused.contains(&f) && p.replica_end(f) < end)
                .then(|| p.log.appended_at(p.replica_end(f)))
                .flatten()
                .map(|t| t + r.lag_ms);
            let leave = (p.isr.contains(&f) && (r.paused.contains(&f) || r.lag_ms > max_lag_ms))
                .then(|| p.caught_up_at.get(&f).map(|t| t + max_lag_ms + 1))
                .flatten();
            copy.into_iter().chain(leave).min()
        })
        .min()
}

/// Makes `new` the leader of `p` with a new epoch, truncating the log to `new`'s copy.
fn change_leader(p: &mut Partition, topic: &str, new: i32) {
    let old = p.leader;
    if old >= 0 && new != old {
        // The old leader's copy is the whole log; it follows (or waits) from there.
        p.follower_ends.insert(old, p.log.log_end_offset());
    }
    if new >= 0 && new != old {
        let new_end = p.replica_end(new);
        if new_end < p.log.log_end_offset() {
            tracing::warn!(
                topic,
                partition = p.index,
                lost = p.log.log_end_offset() - new_end,
                "new leader's log is shorter: truncating the partition"
            );
            truncate(p, new_end);
        }
        p.follower_ends.remove(&new);
    }
    p.leader = new;
    p.leader_epoch += 1;
    note_epoch(p);
    tracing::info!(
        topic,
        partition = p.index,
        leader = new,
        epoch = p.leader_epoch,
        "leader changed"
    );
}

/// Drops the log from `offset` on, with everything derived from it.
fn truncate(p: &mut Partition, offset: i64) {
    p.log.truncate_to(offset);
    truncate_derived(p, offset);
    for end in p.follower_ends.values_mut() {
        *end = (*end).min(offset);
    }
    p.high_watermark = p.high_watermark.min(offset);
}

/// Records the partition's new leader epoch in its epoch cache.
fn note_epoch(p: &mut Partition) {
    p.epochs.assign(p.leader_epoch, p.log.log_end_offset());
}

/// Drops what the epoch cache and producer state know of offsets from `offset` on.
fn truncate_derived(p: &mut Partition, offset: i64) {
    p.epochs.truncate_from(offset);
    p.producers.truncate(offset);
}

impl State {
    pub(super) fn max_lag_ms(&self) -> i64 {
        self.config.replica_lag_time_max_ms
    }

    /// Whether `broker` is fenced (stopped or isolated).
    /// The replicas of `p` on brokers that are down: what Metadata and
    /// DescribeTopicPartitions list as offline.
    pub fn offline_replicas(&self, p: &Partition) -> Vec<i32> {
        p.replicas
            .iter()
            .copied()
            .filter(|&b| self.is_fenced(b))
            .collect()
    }

    pub fn is_fenced(&self, broker: i32) -> bool {
        self.replication.fenced.contains(&broker)
    }

    /// Brokers that are up, in id order.
    pub fn live_brokers(&self) -> impl Iterator<Item = &super::BrokerInfo> {
        self.brokers.iter().filter(|b| !self.is_fenced(b.id))
    }

    fn first_live_broker(&self) -> i32 {
        self.live_brokers().next().map_or(-1, |b| b.id)
    }

    fn unclean_allowed(&self, topic: &str) -> bool {
        let value = self
            .topics
            .get(topic)
            .and_then(|t| {
                t.configs
                    .get("unclean.leader.election.enable")
                    .or_else(|| t.inherited.get("unclean.leader.election.enable"))
            })
            .map(|v| v.trim().eq_ignore_ascii_case("true"));
        value.unwrap_or(self.config.unclean_leader_election)
    }

    /// After an append to `topic`-`partition`: followers copy it (at once without lag).
    /// Returns the partition's high watermark afterwards.
    pub(super) fn replicate(&mut self, topic: &str, partition: i32, now: i64) -> i64 {
        let max_lag = self.max_lag_ms();
        match self
            .topics
            .get_mut(topic)
            .and_then(|t| t.partition_mut(partition))
        {
            Some(p) => {
                sync_followers(p, topic, &self.replication, max_lag, now);
                p.high_watermark()
            }
            None => -1,
        }
    }

    /// Fires due replication work on every partition. Returns whether anything may have
    /// changed (so waiting fetches and produces should look again).
    pub(super) fn tick_replication(&mut self, now: i64) -> bool {
        if !self.replication.can_lag() {
            return false;
        }
        self.sync_all(now);
        true
    }

    pub(super) fn next_replication_deadline(&self) -> Option<i64> {
        if !self.replication.can_lag() {
            return None;
        }
        let max_lag = self.max_lag_ms();
        self.topics
            .values()
            .flat_map(super::Topic::partitions)
            .filter_map(|p| next_sync(&p, &self.replication, max_lag))
            .min()
    }

    /// Sets the replication lag of every follower.
    pub fn set_replication_lag(&mut self, lag_ms: i64, now: i64) {
        self.replication.lag_ms = lag_ms.max(0);
        self.sync_all(now);
    }

    /// Freezes (or thaws) the follower copies on `broker`.
    pub fn pause_replication(
        &mut self,
        broker: i32,
        paused: bool,
        now: i64,
    ) -> Result<(), KafkaError> {
        self.known_broker(broker)?;
        if paused {
            self.replication.paused.insert(broker);
        } else {
            self.replication.paused.remove(&broker);
        }
        self.sync_all(now);
        Ok(())
    }

    fn sync_all(&mut self, now: i64) {
        let max_lag = self.max_lag_ms();
        for (name, t) in &mut self.topics {
            for p in t.partitions_mut() {
                sync_followers(p, name, &self.replication, max_lag, now);
            }
        }
    }

    fn known_broker(&self, id: i32) -> Result<(), KafkaError> {
        match self.broker(id) {
            Some(_) => Ok(()),
            None => Err(KafkaError::new(
                ResponseError::BrokerNotAvailable,
                format!("there is no broker {id}"),
            )),
        }
    }

    /// Whether `broker` is registered with the controller: every broker is, except a
    /// stopped one an UnregisterBroker removed.
    pub fn is_registered(&self, broker: i32) -> bool {
        self.broker(broker).is_some() && !self.replication.unregistered.contains(&broker)
    }

    /// UnregisterBroker: the controller forgets `broker`'s registration. A stopped broker
    /// then disappears from DescribeCluster until it starts and registers again; a running
    /// one registers again at once (its next heartbeat), so nothing changes for it.
    pub fn unregister_broker(&mut self, broker: i32) -> Result<(), KafkaError> {
        if !self.is_registered(broker) {
            return Err(KafkaError::new(
                ResponseError::BrokerIdNotRegistered,
                format!("Broker ID {broker} is not currently registered"),
            ));
        }
        if self.is_fenced(broker) {
            self.replication.unregistered.insert(broker);
        }
        tracing::info!(broker, "broker unregistered");
        Ok(())
    }

    /// The controller fences `broker`: it leaves every ISR it is not the last member of,
    /// and every partition it led elects a new leader. Returns an error for an unknown or
    /// already fenced broker.
    pub fn fence_broker(&mut self, broker: i32, now: i64) -> Result<(), KafkaError> {
        self.known_broker(broker)?;
        if !self.replication.fenced.insert(broker) {
            return Err(KafkaError::new(
                ResponseError::BrokerNotAvailable,
                format!("broker {broker} is already down"),
            ));
        }
        let max_lag = self.max_lag_ms();
        let names: Vec<String> = self.topics.keys().cloned().collect();
        for name in names {
            let unclean = self.unclean_allowed(&name);
            let Some(t) = self.topics.get_mut(&name) else {
                continue;
            };
            for p in t.partitions_mut() {
                if !p.replicas.contains(&broker) {
                    continue;
                }
                if p.isr.len() > 1 {
                    p.isr.retain(|&r| r != broker);
                }
                if p.leader == broker {
                    let fenced = &self.replication.fenced;
                    let clean = p
                        .replicas
                        .iter()
                        .copied()
                        .find(|r| p.isr.contains(r) && !fenced.contains(r));
                    let unclean_pick = || {
                        p.replicas
                            .iter()
                            .copied()
                            .find(|r| !fenced.contains(r))
                            .filter(|_| unclean)
                    };
                    match clean.or_else(unclean_pick) {
                        Some(new) => {
                            if !p.isr.contains(&new) {
                                tracing::warn!(topic = %name, partition = p.index, leader = new, "unclean leader election");
                                p.isr = vec![new];
                            }
                            change_leader(p, &name, new);
                        }
                        // KRaft keeps the last in-sync replica in the ISR so it can lead
                        // again when it returns, and leaves the partition leaderless.
                        None => change_leader(p, &name, -1),
                    }
                }
                sync_followers(p, &name, &self.replication, max_lag, now);
            }
        }
        let old_controller = self.controller_id;
        self.controller_id = self.first_live_broker();
        self.quorum_member_changed(broker, true, old_controller, now);
        self.coordinators_moved(now);
        self.retry_markers(now);
        tracing::info!(broker, "broker fenced");
        Ok(())
    }

    /// The controller unfences `broker`: it catches up as a follower and rejoins the ISR;
    /// partitions left leaderless with it as their last in-sync replica get it as leader.
    pub fn unfence_broker(&mut self, broker: i32, now: i64) -> Result<(), KafkaError> {
        self.known_broker(broker)?;
        if !self.replication.fenced.remove(&broker) {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("broker {broker} is already up"),
            ));
        }
        self.replication.unregistered.remove(&broker);
        let max_lag = self.max_lag_ms();
        for (name, t) in &mut self.topics {
            for p in t.partitions_mut() {
                if !p.replicas.contains(&broker) {
                    continue;
                }
                if p.leader < 0 && p.isr.contains(&broker) {
                    change_leader(p, name, broker);
                }
                sync_followers(p, name, &self.replication, max_lag, now);
            }
        }
        let old_controller = self.controller_id;
        self.controller_id = self.first_live_broker();
        self.quorum_member_changed(broker, false, old_controller, now);
        self.coordinators_moved(now);
        // Transactions waiting for a leader to take their markers may finish now.
        self.retry_markers(now);
        tracing::info!(broker, "broker unfenced");
        Ok(())
    }

    /// Makes `broker` the leader of `topic`-`partition`; it must be an in-sync replica
    /// that is up (Kafka's ElectLeaders refuses anything else).
    pub fn move_leader(
        &mut self,
        topic: &str,
        partition: i32,
        broker: i32,
        now: i64,
    ) -> Result<(), KafkaError> {
        let max_lag = self.max_lag_ms();
        let fenced = self.is_fenced(broker);
        let p = self
            .topics
            .get_mut(topic)
            .and_then(|t| t.partition_mut(partition))
            .ok_or_else(|| State::unknown_topic(&format!("{topic}-{partition}")))?;
        if !p.isr.contains(&broker) || fenced {
            return Err(KafkaError::new(
                ResponseError::EligibleLeadersNotAvailable,
                format!(
                    "broker {broker} cannot lead {topic}-{partition}: it is not an in-sync replica that is up (ISR {:?})",
                    p.isr
                ),
            ));
        }
        if p.leader != broker {
            change_leader(p, topic, broker);
            sync_followers(p, topic, &self.replication, max_lag, now);
        }
        Ok(())
    }

    /// ElectLeaders for one partition, as Kafka's controller decides it. PREFERRED
    /// (`unclean` false): the first replica leads again if it is up and in sync
    /// (ELECTION_NOT_NEEDED if it already leads, PREFERRED_LEADER_NOT_AVAILABLE if it
    /// cannot). UNCLEAN: only a leaderless partition gets a leader — an in-sync replica
    /// that is up if there is one, else any replica that is up, losing what it never
    /// copied, whatever `unclean.leader.election.enable` says (ELECTION_NOT_NEEDED while
    /// it has a leader, ELIGIBLE_LEADERS_NOT_AVAILABLE with no replica up).
    pub fn elect_leader(
        &mut self,
        topic: &str,
        partition: i32,
        unclean: bool,
        now: i64,
    ) -> Result<(), KafkaError> {
        let max_lag = self.max_lag_ms();
        let known_topic = self.topics.contains_key(topic);
        let fenced = &self.replication.fenced;
        let p = self
            .topics
            .get_mut(topic)
            .and_then(|t| t.partition_mut(partition))
            .ok_or_else(|| {
                KafkaError::new(
                    ResponseError::UnknownTopicOrPartition,
                    if known_topic {
                        format!("No such partition as {topic}-{partition}")
                    } else {
                        format!("No such topic as {topic}")
                    },
                )
            })?;
        let not_needed = || {
            KafkaError::new(
                ResponseError::ElectionNotNeeded,
                "Leader election not needed for topic partition.",
            )
        };
        let new = if unclean {
            if p.leader >= 0 {
                return Err(not_needed());
            }
            let up = |r: &i32| !fenced.contains(r);
            let clean = p
                .replicas
                .iter()
                .copied()
                .find(|r| p.isr.contains(r) && up(r));
            let any = p.replicas.iter().copied().find(up);
            let Some(new) = clean.or(any) else {
                return Err(KafkaError::new(
                    ResponseError::EligibleLeadersNotAvailable,
                    format!("Unable to find any eligible leader for {topic}-{partition}"),
                ));
            };
            if !p.isr.contains(&new) {
                tracing::warn!(
                    topic,
                    partition,
                    leader = new,
                    "unclean leader election (ElectLeaders)"
                );
                p.isr = vec![new];
            }
            new
        } else {
            let preferred = p.replicas[0];
            if p.leader == preferred {
                return Err(not_needed());
            }
            if !p.isr.contains(&preferred) || fenced.contains(&preferred) {
                return Err(KafkaError::new(
                    ResponseError::PreferredLeaderNotAvailable,
                    format!(
                        "Failed to elect leader for partition {topic}-{partition} under strategy PREFERRED"
                    ),
                ));
            }
            preferred
        };
        change_leader(p, topic, new);
        sync_followers(p, topic, &self.replication, max_lag, now);
        Ok(())
    }

    /// Preferred leader election over every partition (Kafka's ElectLeaders with type
    /// PREFERRED, and what `auto.leader.rebalance.enable` eventually does): the first
    /// replica leads again wherever it is up and in sync. Returns the partitions moved.
    pub fn elect_preferred_leaders(&mut self, now: i64) -> Vec<(String, i32)> {
        let max_lag = self.max_lag_ms();
        let mut moved = Vec::new();
        for (name, t) in &mut self.topics {
            for p in t.partitions_mut() {
                let preferred = p.replicas[0];
                if p.leader != preferred
                    && p.isr.contains(&preferred)
                    && !self.replication.fenced.contains(&preferred)
                {
                    change_leader(p, name, preferred);
                    sync_followers(p, name, &self.replication, max_lag, now);
                    moved.push((name.clone(), p.index));
                }
            }
        }
        moved
    }
}
