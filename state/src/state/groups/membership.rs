//! The classic group membership protocol: JoinGroup, SyncGroup, Heartbeat, LeaveGroup and
//! member expiry, with the checks in the order Kafka 4.1's coordinator makes them, so a
//! client sees the same first error it would from Kafka.
//!
//! A rebalance runs as in Kafka: it starts (PreparingRebalance) when a member joins, leaves,
//! expires or a leader rejoins; it completes once every known member has rejoined and no
//! MEMBER_ID_REQUIRED member is outstanding, or when the longest rebalance timeout passes
//! (then the members that did not rejoin are dropped). Completion bumps the generation,
//! picks the protocol all members support with the most first-choice votes, answers every
//! parked JoinGroup (the leader's carries all members' metadata) and moves to
//! CompletingRebalance; the leader's SyncGroup then hands each member its assignment and
//! the group is Stable.
//!
//! Layout: `join`, `sync` and `leave` (heartbeat, leave, expiry) each handle their request;
//! this file has the rebalance they share: preparing it, completing the join, choosing the
//! protocol.

use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::{Group, GroupConfig, GroupState, JoinResult, Member, Rebalance, SyncResult};

impl Group {
    /// Starts a rebalance: parked SyncGroups learn it with REBALANCE_IN_PROGRESS and
    /// every member must rejoin within the longest rebalance timeout.
    pub(super) fn prepare_rebalance(&mut self, reason: &str, now: i64, config: &GroupConfig) {
        if self.state == GroupState::CompletingRebalance {
            for member in self.members.values_mut() {
                member.assignment = Bytes::new();
                // A member parked in SyncGroup was alive all along; its session restarts
                // now so that it has time to rejoin.
                if !member.awaiting_sync.is_empty() {
                    member.touch(now);
                }
                for tx in member.awaiting_sync.drain(..) {
                    let _ = tx.send(SyncResult::error(ResponseError::RebalanceInProgress));
                }
            }
        }
        self.pending_sync.clear();
        self.sync_deadline = None;
        let timeout = self.max_rebalance_timeout();
        let delay = i64::from(config.initial_rebalance_delay_ms);
        self.rebalance = Some(if self.state == GroupState::Empty && delay > 0 {
            Rebalance {
                deadline: now + delay,
                initial: Some((delay, (timeout - delay).max(0))),
                new_member_added: false,
            }
        } else {
            Rebalance {
                deadline: now + timeout,
                initial: None,
                new_member_added: false,
            }
        });
        tracing::info!(group = %self.id, generation = self.generation, reason, "preparing rebalance");
        self.state = GroupState::PreparingRebalance;
    }

    /// Completes the join phase if every member has rejoined (never during the initial
    /// delay, which always runs its course).
    pub(super) fn maybe_complete_join(&mut self, now: i64) {
        let all_joined =
            self.members.values().all(Member::is_awaiting_join) && self.pending_members.is_empty();
        if self.state == GroupState::PreparingRebalance
            && self.rebalance.is_some_and(|r| r.initial.is_none())
            && all_joined
        {
            self.complete_join(now);
        }
    }

    /// Ends the join phase: drops members that did not rejoin, starts the next generation
    /// and answers every parked JoinGroup.
    pub(super) fn complete_join(&mut self, now: i64) {
        // Dynamic members that did not rejoin are gone; static ones stay (their session
        // decides), as in Kafka, so a static consumer briefly down keeps its place.
        let stragglers: Vec<String> = self
            .members
            .values()
            .filter(|m| !m.is_awaiting_join() && m.instance_id.is_none())
            .map(|m| m.id.clone())
            .collect();
        for id in stragglers {
            tracing::info!(group = %self.id, member = %id, "member did not rejoin in time");
            self.forget_member(&id);
        }
        let joined = || self.members.values().filter(|m| m.is_awaiting_join());
        if !self.members.is_empty() && joined().next().is_none() {
            // Only absent static members remain: wait another rebalance timeout for them.
            self.rebalance = Some(Rebalance {
                deadline: now + self.max_rebalance_timeout(),
                initial: None,
                new_member_added: false,
            });
            return;
        }
        // The leader must be a member that is here to assign.
        if !self
            .leader
            .as_ref()
            .and_then(|l| self.members.get(l))
            .is_some_and(Member::is_awaiting_join)
        {
            self.leader = joined().min_by_key(|m| m.join_seq).map(|m| m.id.clone());
        }
        self.rebalance = None;
        self.generation += 1;
        if self.members.is_empty() {
            self.protocol = None;
            self.leader = None;
            self.state = GroupState::Empty;
            self.state_since = now;
            tracing::info!(group = %self.id, generation = self.generation, "group is empty");
            return;
        }
        self.protocol = self.select_protocol();
        self.state = GroupState::CompletingRebalance;
        let leader_members = self.joined_members();
        let result = JoinResult {
            error: None,
            member_id: String::new(),
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol.clone(),
            leader: self.leader.clone().unwrap_or_default(),
            skip_assignment: false,
            members: Vec::new(),
        };
        for member in self.members.values_mut() {
            let is_leader = result.leader == member.id;
            let answer = JoinResult {
                member_id: member.id.clone(),
                members: if is_leader {
                    leader_members.clone()
                } else {
                    Vec::new()
                },
                ..result.clone()
            };
            for tx in member.awaiting_join.drain(..) {
                let _ = tx.send(answer.clone());
            }
            member.touch(now);
        }
        self.pending_sync = self.members.keys().cloned().collect();
        self.sync_deadline = Some(now + self.max_rebalance_timeout());
        tracing::info!(
            group = %self.id,
            generation = self.generation,
            protocol = ?self.protocol,
            members = self.members.len(),
            "join complete"
        );
    }

    /// The protocol every member supports that most members list first among those;
    /// ties go to the one the longest-standing member prefers (Kafka leaves ties to hash
    /// order; broker-sim keeps them deterministic).
    pub(super) fn select_protocol(&self) -> Option<String> {
        let mut members: Vec<&Member> = self.members.values().collect();
        members.sort_by_key(|m| m.join_seq);
        let candidates: Vec<&str> = members
            .first()?
            .protocols
            .iter()
            .map(|(name, _)| name.as_str())
            .filter(|name| {
                members
                    .iter()
                    .all(|m| m.protocols.iter().any(|(n, _)| n == name))
            })
            .collect();
        let votes = |candidate: &str| {
            members
                .iter()
                .filter(|m| {
                    m.protocols
                        .iter()
                        .map(|(n, _)| n.as_str())
                        .find(|n| candidates.contains(n))
                        == Some(candidate)
                })
                .count()
        };
        let mut best: Option<(&str, usize)> = None;
        for &candidate in &candidates {
            let v = votes(candidate);
            if best.is_none_or(|(_, most)| v > most) {
                best = Some((candidate, v));
            }
        }
        best.map(|(name, _)| name.to_string())
    }
}
