//! Classic members in a consumer group: Kafka 4.1's online migration between the two
//! protocols (`group.consumer.migration.policy=bidirectional`, its default).
//!
//! - **Upgrade**: the first ConsumerGroupHeartbeat to a classic group of consumers with
//!   members turns it into a consumer group. Each classic member becomes a member at an
//!   epoch equal to the generation, with its subscription and assignment; the target is
//!   the current assignment, and the joining member's arrival starts a new epoch.
//! - **Classic members go on speaking their protocol**: JoinGroup is answered at once
//!   with the member's epoch as the generation (no leader: the coordinator assigns),
//!   SyncGroup with the member's assignment in the consumer protocol's bytes, Heartbeat
//!   with REBALANCE_IN_PROGRESS whenever the group has moved past the member's epoch (or
//!   a partition it waits for was released), which makes it rejoin. The partitions its
//!   JoinGroup subscription says it still owns (none for an eager member, which revokes
//!   everything first) are what it has not yet revoked.
//! - **Downgrade**: when the last member of the new protocol leaves (or is fenced out)
//!   and classic members remain, the group becomes a classic group again, at a
//!   generation equal to the group epoch, and rebalances so they rejoin it.

use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::super::consumer_protocol::{
    decode_assignment, decode_owned_partitions, decode_subscription, encode_assignment, version_of,
};
use super::super::{
    Group, GroupConfig, GroupState, JoinRequest, JoinResult, Member, SyncRequest, SyncResult,
};
use super::{ConsumerGroup, ConsumerMember, MemberState};
use crate::error::KafkaError;
use crate::rng::SimRng;
use crate::state::groups::assignors::{self, Assignment};

/// What a member speaking the classic protocol told the coordinator in its JoinGroup.
#[derive(Debug, Clone)]
pub struct ClassicMeta {
    pub session_timeout_ms: i32,
    /// (name, metadata) in the member's order of preference.
    pub protocols: Vec<(String, Bytes)>,
}

const CONSUMER: &str = "consumer";

fn to_assignment(list: Vec<(String, Vec<i32>)>) -> Assignment {
    list.into_iter()
        .map(|(t, ps)| (t, ps.into_iter().collect()))
        .collect()
}

impl Group {
    /// The online upgrade: this classic group, with members, becomes a consumer group.
    /// Only a group of consumers (protocol type "consumer") can be upgraded.
    pub(in crate::state::groups) fn upgrade_to_consumer(
        &mut self,
        now: i64,
    ) -> Result<(), KafkaError> {
        if self.protocol_type.as_deref() != Some(CONSUMER) {
            return Err(KafkaError::new(
                ResponseError::GroupIdNotFound,
                format!("Group {} is not a consumer group.", self.id),
            ));
        }
        let generation = self.generation;
        let mut cg = ConsumerGroup {
            epoch: generation,
            assignment_epoch: generation,
            assignor: assignors::UNIFORM.to_string(),
            ..ConsumerGroup::default()
        };
        let protocol = self.protocol.clone();
        for (id, m) in std::mem::take(&mut self.members) {
            for tx in m.awaiting_join {
                let _ = tx.send(JoinResult::error(ResponseError::RebalanceInProgress, &id));
            }
            for tx in m.awaiting_sync {
                let _ = tx.send(SyncResult::error(ResponseError::RebalanceInProgress));
            }
            let metadata = protocol
                .as_deref()
                .and_then(|p| m.protocols.iter().find(|(n, _)| n == p))
                .or(m.protocols.first())
                .map(|(_, b)| b.clone())
                .unwrap_or_default();
            let mut topics = decode_subscription(&metadata).unwrap_or_default();
            topics.sort();
            topics.dedup();
            let assigned = to_assignment(decode_assignment(&m.assignment).unwrap_or_default());
            let mut cm = ConsumerMember::new(&id, now, m.session_timeout_ms);
            cm.instance_id = m.instance_id.clone();
            cm.client_id = m.client_id;
            cm.client_host = m.client_host;
            cm.member_epoch = generation;
            cm.previous_epoch = generation;
            cm.subscribed_topic_names = topics;
            cm.rebalance_timeout_ms = m.rebalance_timeout_ms;
            cm.assigned = assigned.clone();
            cm.classic = Some(ClassicMeta {
                session_timeout_ms: m.session_timeout_ms,
                protocols: m.protocols,
            });
            if let Some(instance) = &cm.instance_id {
                cg.static_members.insert(instance.clone(), id.clone());
            }
            cg.target.insert(id.clone(), assigned);
            cg.members.insert(id, cm);
        }
        self.static_members.clear();
        self.pending_members.clear();
        self.pending_sync.clear();
        self.sync_deadline = None;
        self.rebalance = None;
        self.leader = None;
        self.protocol = None;
        self.protocol_type = None;
        self.state = GroupState::Empty;
        tracing::info!(group = %self.id, generation, members = cg.members.len(), "classic group upgraded to a consumer group");
        self.consumer = Some(cg);
        Ok(())
    }

    /// Removes member `id` of this consumer group (it left, or was fenced or timed out).
    /// When only classic members would remain, the group is downgraded instead, at the
    /// epoch it had (Kafka converts rather than bumping first): they form a classic group
    /// again and rejoin it.
    pub(in crate::state::groups) fn remove_consumer_member(
        &mut self,
        id: &str,
        why: &str,
        now: i64,
        config: &GroupConfig,
    ) {
        let group_id = self.id.clone();
        let Some(cg) = self.consumer.as_mut() else {
            return;
        };
        let others: Vec<&ConsumerMember> = cg.members.values().filter(|m| m.id != id).collect();
        let downgrade = cg.members.contains_key(id)
            && !others.is_empty()
            && others.iter().all(|m| m.classic.is_some());
        if !downgrade {
            cg.remove(&group_id, id, why);
            return;
        }
        cg.forget(id);
        tracing::info!(group = %group_id, member = id, why, "consumer group member removed");
        self.downgrade(now, config);
    }

    fn downgrade(&mut self, now: i64, config: &GroupConfig) {
        let cg = self.consumer.take().expect("a consumer group");
        self.generation = cg.epoch;
        self.protocol_type = Some(CONSUMER.to_string());
        for (id, m) in cg.members {
            let classic = m.classic.expect("only classic members are left");
            let version = classic.protocols.first().map_or(0, |(_, b)| version_of(b));
            if let Some(instance) = &m.instance_id {
                self.static_members.insert(instance.clone(), id.clone());
            }
            let member = Member {
                id: id.clone(),
                instance_id: m.instance_id,
                client_id: m.client_id,
                client_host: m.client_host,
                session_timeout_ms: classic.session_timeout_ms,
                rebalance_timeout_ms: m.rebalance_timeout_ms,
                protocols: classic.protocols,
                assignment: encode_assignment(&m.assigned, version),
                join_seq: self.next_join_seq,
                heartbeat_deadline: now + i64::from(classic.session_timeout_ms),
                awaiting_join: Vec::new(),
                awaiting_sync: Vec::new(),
            };
            self.next_join_seq += 1;
            if self.leader.is_none() {
                self.leader = Some(id.clone());
            }
            self.members.insert(id, member);
        }
        self.protocol = self.select_protocol();
        self.state = GroupState::Stable;
        tracing::info!(group = %self.id, generation = self.generation, "consumer group downgraded to a classic group");
        self.prepare_rebalance("downgraded from a consumer group", now, config);
    }

    /// LeaveGroup from classic members: one result per (member id, instance id).
    pub(in crate::state::groups) fn classic_leave(
        &mut self,
        leaving: &[(String, Option<String>)],
        now: i64,
        config: &GroupConfig,
    ) -> Vec<Result<(), KafkaError>> {
        leaving
            .iter()
            .map(|(member_id, instance_id)| {
                let Some(cg) = self.consumer.as_ref() else {
                    return Err(ResponseError::UnknownMemberId.into());
                };
                let id = match instance_id {
                    Some(i) => match cg.static_members.get(i) {
                        None => return Err(ResponseError::UnknownMemberId.into()),
                        Some(id) if !member_id.is_empty() && id != member_id => {
                            return Err(ResponseError::FencedInstanceId.into());
                        }
                        Some(id) => id.clone(),
                    },
                    None => member_id.clone(),
                };
                if !cg.members.contains_key(&id) {
                    return Err(ResponseError::UnknownMemberId.into());
                }
                self.remove_consumer_member(&id, "left the group (LeaveGroup)", now, config);
                Ok(())
            })
            .collect()
    }

    /// JoinGroup from a classic member of this consumer group (`existing`: every topic and
    /// its partition count).
    pub(in crate::state::groups) fn classic_join_to_consumer(
        &mut self,
        req: JoinRequest,
        existing: &std::collections::BTreeMap<String, i32>,
        now: i64,
        rng: &mut SimRng,
    ) -> JoinResult {
        let cg = self.consumer.as_mut().expect("a consumer group");
        if req.protocol_type != CONSUMER {
            return JoinResult::error(ResponseError::InconsistentGroupProtocol, &req.member_id);
        }
        let unknown = req.member_id.is_empty();
        let member_id = if unknown {
            rng.uuid_base64()
        } else {
            req.member_id.clone()
        };
        if unknown && req.require_known_member_id {
            return JoinResult::error(ResponseError::MemberIdRequired, &member_id);
        }
        let mut bump = false;
        match req
            .instance_id
            .as_ref()
            .and_then(|i| cg.static_members.get(i))
            .filter(|old| cg.members.contains_key(*old))
            .cloned()
        {
            Some(old) if old != member_id => {
                if !unknown {
                    return JoinResult::error(ResponseError::FencedInstanceId, &member_id);
                }
                cg.take_over(&old, &member_id);
            }
            _ => bump = cg.join_member(&member_id, now, req.session_timeout_ms),
        }
        if let Some(i) = &req.instance_id {
            cg.static_members.insert(i.clone(), member_id.clone());
        }
        let metadata = req
            .protocols
            .first()
            .map(|(_, b)| b.clone())
            .unwrap_or_default();
        let mut topics = decode_subscription(&metadata).unwrap_or_default();
        topics.sort();
        topics.dedup();
        let owned = decode_owned_partitions(&metadata);
        let member = cg.members.get_mut(&member_id).expect("present");
        member.instance_id = req.instance_id.clone().or(member.instance_id.take());
        member.client_id = req.client_id.clone();
        member.client_host = req.client_host.clone();
        member.rebalance_timeout_ms = req.rebalance_timeout_ms;
        member.session_deadline = now + i64::from(req.session_timeout_ms);
        if member.is_left_static() {
            member.member_epoch = member.previous_epoch.max(0);
        }
        if topics != member.subscribed_topic_names {
            member.subscribed_topic_names = topics;
            bump = true;
        }
        let protocol_name = req.protocols.first().map(|(n, _)| n.clone());
        member.classic = Some(ClassicMeta {
            session_timeout_ms: req.session_timeout_ms,
            protocols: req.protocols,
        });
        let topics_changed = cg.refresh_metadata(existing);
        if bump || (topics_changed && cg.epoch == cg.assignment_epoch) {
            cg.epoch += 1;
        }
        if cg.epoch > cg.assignment_epoch {
            cg.compute_target(existing);
        }
        cg.reconcile(&member_id, Some(&owned), now);
        let member = &cg.members[&member_id];
        tracing::debug!(group = %self.id, member = %member_id, epoch = member.member_epoch, "classic member joined a consumer group");
        JoinResult {
            error: None,
            member_id,
            generation: member.member_epoch,
            protocol_type: Some(CONSUMER.to_string()),
            protocol_name,
            leader: String::new(),
            skip_assignment: false,
            members: Vec::new(),
        }
    }
}

impl ConsumerGroup {
    /// The classic member `member_id` (checked against `instance_id` when given).
    fn classic_member(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> Result<&ConsumerMember, ResponseError> {
        let member = match instance_id {
            Some(i) => {
                let id = self
                    .static_members
                    .get(i)
                    .ok_or(ResponseError::UnknownMemberId)?;
                if id != member_id {
                    return Err(ResponseError::FencedInstanceId);
                }
                self.members.get(id)
            }
            None => self.members.get(member_id),
        };
        member
            .filter(|m| m.classic.is_some())
            .ok_or(ResponseError::UnknownMemberId)
    }

    /// Whether a classic member must rejoin: the group moved past its epoch (unless it is
    /// still revoking, which its next join reports), or a partition it waits for is free.
    fn must_rejoin(&self, m: &ConsumerMember) -> bool {
        if m.state == MemberState::UnrevokedPartitions {
            return false;
        }
        if self.epoch > m.member_epoch {
            return true;
        }
        m.state == MemberState::UnreleasedPartitions
            && self.target.get(&m.id).is_some_and(|target| {
                target.iter().any(|(t, ps)| {
                    ps.iter().any(|&p| {
                        !m.assigned.get(t).is_some_and(|a| a.contains(&p))
                            && !self.held_by_other(&m.id, t, p)
                    })
                })
            })
    }

    /// SyncGroup from a classic member: its assignment, as the consumer protocol's bytes.
    pub(in crate::state::groups) fn classic_sync(
        &mut self,
        req: &SyncRequest,
        now: i64,
    ) -> SyncResult {
        let member = match self.classic_member(&req.member_id, req.instance_id.as_deref()) {
            Ok(m) => m,
            Err(e) => return SyncResult::error(e),
        };
        if req.generation != member.member_epoch {
            return SyncResult::error(ResponseError::IllegalGeneration);
        }
        let classic = member.classic.as_ref().expect("a classic member");
        let type_differs = req.protocol_type.as_deref().is_some_and(|t| t != CONSUMER);
        let name_differs = req
            .protocol_name
            .as_deref()
            .is_some_and(|n| !classic.protocols.iter().any(|(p, _)| p == n));
        if type_differs || name_differs {
            return SyncResult::error(ResponseError::InconsistentGroupProtocol);
        }
        if self.must_rejoin(member) {
            return SyncResult::error(ResponseError::RebalanceInProgress);
        }
        let version = classic.protocols.first().map_or(0, |(_, b)| version_of(b));
        let assignment = encode_assignment(&member.assigned, version);
        let session = i64::from(classic.session_timeout_ms);
        let id = member.id.clone();
        if let Some(m) = self.members.get_mut(&id) {
            m.session_deadline = now + session;
        }
        SyncResult {
            error: None,
            protocol_type: req.protocol_type.clone(),
            protocol_name: req.protocol_name.clone(),
            assignment,
        }
    }

    /// Heartbeat from a classic member.
    pub(in crate::state::groups) fn classic_heartbeat(
        &mut self,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: i64,
    ) -> Result<(), KafkaError> {
        let member = self.classic_member(member_id, instance_id)?;
        if generation != member.member_epoch {
            return Err(ResponseError::IllegalGeneration.into());
        }
        let rejoin = self.must_rejoin(member);
        let session = member
            .classic
            .as_ref()
            .map_or(0, |c| i64::from(c.session_timeout_ms));
        let id = member.id.clone();
        if let Some(m) = self.members.get_mut(&id) {
            m.session_deadline = now + session;
        }
        if rejoin {
            Err(ResponseError::RebalanceInProgress.into())
        } else {
            Ok(())
        }
    }
}
