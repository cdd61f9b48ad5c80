//! JoinGroup: a member joining, rejoining or replacing a static member, with the checks in
//! the order Kafka 4.1's coordinator makes them. See `membership` for the rebalance it
//! starts and completes.

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;

use super::{
    Group, GroupConfig, GroupState, Groups, JoinRequest, JoinResult, JoinedMember, Member, Pending,
    SyncResult, new_member_id,
};
use crate::error::KafkaError;
use crate::rng::SimRng;

impl Groups {
    /// JoinGroup.
    pub fn join(&mut self, req: JoinRequest, now: i64, rng: &mut SimRng) -> Pending<JoinResult> {
        let config = self.config;
        let fail = |e| Pending::Ready(JoinResult::error(e, &req.member_id));
        if req.group_id.is_empty() {
            return fail(ResponseError::InvalidGroupId);
        }
        if req.session_timeout_ms < config.min_session_timeout_ms
            || req.session_timeout_ms > config.max_session_timeout_ms
        {
            return fail(ResponseError::InvalidSessionTimeout);
        }
        let exists = self.groups.contains_key(&req.group_id);
        if !exists && !req.member_id.is_empty() {
            return fail(ResponseError::UnknownMemberId);
        }
        // Checked before the group is created, so a refused join leaves nothing behind.
        if req.protocol_type.is_empty() || req.protocols.is_empty() {
            return fail(ResponseError::InconsistentGroupProtocol);
        }
        let group = self.get_or_create(&req.group_id, now);
        // A consumer group of the new protocol turns classic only while it has no members;
        // broker-sim does not migrate one with members (see `consumer.rs`).
        if let Some(cg) = &group.consumer {
            if !cg.members.is_empty() {
                tracing::info!(group = %req.group_id, "classic JoinGroup refused: a consumer group with members");
                return fail(ResponseError::InconsistentGroupProtocol);
            }
            tracing::info!(group = %req.group_id, "empty consumer group converted to a classic group");
            group.consumer = None;
        }
        if group.state == GroupState::Dead {
            return fail(ResponseError::CoordinatorNotAvailable);
        }
        if !group.accepts_joining_member(&req.member_id, config.max_size) {
            return fail(ResponseError::GroupMaxSizeReached);
        }
        if !group.supports_protocols(&req.protocol_type, &req.protocols) {
            return fail(ResponseError::InconsistentGroupProtocol);
        }
        if req.member_id.is_empty() {
            group.join_unknown_member(req, now, &config, rng)
        } else {
            group.join_known_member(req, now, &config)
        }
    }
}

impl Group {
    /// Kafka's `acceptJoiningMember`: `group.max.size` counts members, and while a rebalance
    /// is under way, the members that already rejoined.
    pub(super) fn accepts_joining_member(&self, member_id: &str, max_size: i32) -> bool {
        let max = usize::try_from(max_size).unwrap_or(0);
        let known = self.members.get(member_id);
        match self.state {
            GroupState::Empty | GroupState::Dead => true,
            GroupState::PreparingRebalance => {
                if known.is_some_and(Member::is_awaiting_join) {
                    true
                } else {
                    self.members
                        .values()
                        .filter(|m| m.is_awaiting_join())
                        .count()
                        < max
                }
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                known.is_some() || self.members.len() < max
            }
        }
    }

    /// A member may join if its protocol type matches the group's and it shares at least
    /// one protocol with every current member.
    pub(super) fn supports_protocols(
        &self,
        protocol_type: &str,
        protocols: &[(String, Bytes)],
    ) -> bool {
        if protocol_type.is_empty() || protocols.is_empty() {
            return false;
        }
        if self.members.is_empty() {
            return true;
        }
        self.protocol_type.as_deref() == Some(protocol_type)
            && protocols.iter().any(|(name, _)| {
                self.members
                    .values()
                    .all(|m| m.protocols.iter().any(|(n, _)| n == name))
            })
    }

    /// Kafka's `validateMember`: a group.instance.id must map to this member id.
    pub(super) fn validate_member(
        &self,
        member_id: &str,
        instance_id: Option<&str>,
    ) -> Result<(), KafkaError> {
        match instance_id {
            Some(instance) => match self.static_members.get(instance) {
                None => Err(ResponseError::UnknownMemberId.into()),
                Some(id) if id != member_id => Err(ResponseError::FencedInstanceId.into()),
                Some(_) => Ok(()),
            },
            None if self.members.contains_key(member_id) => Ok(()),
            None => Err(ResponseError::UnknownMemberId.into()),
        }
    }

    pub(super) fn join_unknown_member(
        &mut self,
        req: JoinRequest,
        now: i64,
        config: &GroupConfig,
        rng: &mut SimRng,
    ) -> Pending<JoinResult> {
        if let Some(instance) = req.instance_id.clone() {
            let member_id = new_member_id(&instance, rng);
            return match self.static_members.get(&instance).cloned() {
                Some(old_id) => self.replace_static_member(&old_id, member_id, req, now, config),
                None => self.add_member_and_rebalance(member_id, req, now, config),
            };
        }
        let member_id = new_member_id(&req.client_id, rng);
        if req.require_known_member_id {
            // KIP-394: the member learns its id first, so a client that times out on a
            // long join cannot leave an orphan member behind.
            self.pending_members
                .insert(member_id.clone(), now + i64::from(req.session_timeout_ms));
            return Pending::Ready(JoinResult::error(
                ResponseError::MemberIdRequired,
                &member_id,
            ));
        }
        self.add_member_and_rebalance(member_id, req, now, config)
    }

    pub(super) fn join_known_member(
        &mut self,
        req: JoinRequest,
        now: i64,
        config: &GroupConfig,
    ) -> Pending<JoinResult> {
        let member_id = req.member_id.clone();
        if self.pending_members.contains_key(&member_id) {
            // Ids handed out with MEMBER_ID_REQUIRED belong to dynamic members only.
            if req.instance_id.is_some() {
                return Pending::Ready(JoinResult::error(
                    ResponseError::UnknownMemberId,
                    &member_id,
                ));
            }
            self.pending_members.remove(&member_id);
            return self.add_member_and_rebalance(member_id, req, now, config);
        }
        if let Err(e) = self.validate_member(&member_id, req.instance_id.as_deref()) {
            return Pending::Ready(JoinResult::error(e.code, &member_id));
        }
        let member = self.members.get(&member_id).expect("validated");
        let same_protocols = member.protocols == req.protocols;
        let is_leader = self.leader.as_deref() == Some(member_id.as_str());
        match self.state {
            GroupState::Empty | GroupState::Dead => Pending::Ready(JoinResult::error(
                ResponseError::UnknownMemberId,
                &member_id,
            )),
            GroupState::PreparingRebalance => {
                let rx = self.update_member(&member_id, req, now);
                self.maybe_complete_join(now);
                Pending::Wait(rx)
            }
            GroupState::CompletingRebalance if same_protocols => {
                Pending::Ready(self.current_join_result(&member_id, false))
            }
            GroupState::Stable if same_protocols && !is_leader => {
                Pending::Ready(self.current_join_result(&member_id, false))
            }
            GroupState::CompletingRebalance | GroupState::Stable => {
                let rx = self.update_member(&member_id, req, now);
                let reason = if is_leader {
                    "leader rejoined"
                } else {
                    "member's protocols changed"
                };
                self.prepare_rebalance(reason, now, config);
                self.maybe_complete_join(now);
                Pending::Wait(rx)
            }
        }
    }

    /// KIP-345: a static member restarting (same group.instance.id, no member id) takes
    /// over its old identity under a new member id; the old id is fenced. A stable group
    /// does not rebalance for it: the member gets the current generation and its old
    /// assignment back.
    pub(super) fn replace_static_member(
        &mut self,
        old_id: &str,
        new_id: String,
        req: JoinRequest,
        now: i64,
        config: &GroupConfig,
    ) -> Pending<JoinResult> {
        let Some(mut member) = self.members.remove(old_id) else {
            return self.add_member_and_rebalance(new_id, req, now, config);
        };
        for tx in member.awaiting_join.drain(..) {
            let _ = tx.send(JoinResult::error(ResponseError::FencedInstanceId, old_id));
        }
        for tx in member.awaiting_sync.drain(..) {
            let _ = tx.send(SyncResult::error(ResponseError::FencedInstanceId));
        }
        let old_leader = self.leader.clone().unwrap_or_default();
        member.id = new_id.clone();
        member.protocols = req.protocols.clone();
        member.client_id = req.client_id.clone();
        member.client_host = req.client_host.clone();
        member.session_timeout_ms = req.session_timeout_ms;
        member.rebalance_timeout_ms = req.rebalance_timeout_ms;
        member.touch(now);
        self.members.insert(new_id.clone(), member);
        if let Some(instance) = &req.instance_id {
            self.static_members.insert(instance.clone(), new_id.clone());
        }
        if self.leader.as_deref() == Some(old_id) {
            self.leader = Some(new_id.clone());
        }
        if self.pending_sync.remove(old_id) {
            self.pending_sync.insert(new_id.clone());
        }
        tracing::info!(group = %self.id, old = %old_id, new = %new_id, "static member replaced");
        match self.state {
            // New metadata alone (a Java consumer's owned partitions, say) is no reason to
            // rebalance; a different protocol choice is.
            GroupState::Stable if self.select_protocol() == self.protocol => {
                let is_leader = self.leader.as_deref() == Some(new_id.as_str());
                if is_leader && !req.skip_assignment_supported {
                    // Before v9 the leader cannot be told to skip assigning, so, like
                    // Kafka, it is not told it leads: it gets the old leader id and no
                    // members, and simply syncs to receive its assignment.
                    return Pending::Ready(JoinResult {
                        leader: old_leader,
                        members: Vec::new(),
                        ..self.current_join_result(&new_id, false)
                    });
                }
                Pending::Ready(self.current_join_result(&new_id, is_leader))
            }
            GroupState::PreparingRebalance => {
                let rx = self.update_member(&new_id, req, now);
                self.maybe_complete_join(now);
                Pending::Wait(rx)
            }
            _ => {
                let rx = self.update_member(&new_id, req, now);
                self.prepare_rebalance("static member rejoined", now, config);
                self.maybe_complete_join(now);
                Pending::Wait(rx)
            }
        }
    }

    pub(super) fn add_member_and_rebalance(
        &mut self,
        member_id: String,
        req: JoinRequest,
        now: i64,
        config: &GroupConfig,
    ) -> Pending<JoinResult> {
        if self.members.is_empty() {
            self.protocol_type = Some(req.protocol_type.clone());
        }
        let (tx, rx) = oneshot::channel();
        let member = Member {
            id: member_id.clone(),
            instance_id: req.instance_id.clone(),
            client_id: req.client_id,
            client_host: req.client_host,
            session_timeout_ms: req.session_timeout_ms,
            rebalance_timeout_ms: req.rebalance_timeout_ms,
            protocols: req.protocols,
            assignment: Bytes::new(),
            join_seq: self.next_join_seq,
            heartbeat_deadline: now + i64::from(req.session_timeout_ms),
            awaiting_join: vec![tx],
            awaiting_sync: Vec::new(),
        };
        self.next_join_seq += 1;
        if let Some(instance) = &member.instance_id {
            self.static_members
                .insert(instance.clone(), member_id.clone());
        }
        self.members.insert(member_id.clone(), member);
        if self.leader.is_none() {
            self.leader = Some(member_id.clone());
        }
        tracing::info!(group = %self.id, member = %member_id, "member joined");
        match self.state {
            GroupState::PreparingRebalance => {
                if let Some(r) = &mut self.rebalance {
                    r.new_member_added = true;
                }
            }
            _ => self.prepare_rebalance("member joined", now, config),
        }
        self.maybe_complete_join(now);
        Pending::Wait(rx)
    }

    /// Takes a known member's new JoinGroup parameters and parks its request.
    pub(super) fn update_member(
        &mut self,
        member_id: &str,
        req: JoinRequest,
        now: i64,
    ) -> oneshot::Receiver<JoinResult> {
        let member = self.members.get_mut(member_id).expect("known member");
        member.protocols = req.protocols;
        member.session_timeout_ms = req.session_timeout_ms;
        member.rebalance_timeout_ms = req.rebalance_timeout_ms;
        member.client_id = req.client_id;
        member.client_host = req.client_host;
        member.touch(now);
        let (tx, rx) = oneshot::channel();
        member.awaiting_join.push(tx);
        rx
    }

    /// The current generation as a JoinGroup answer, without a rebalance.
    pub(super) fn current_join_result(&self, member_id: &str, skip_assignment: bool) -> JoinResult {
        let is_leader = self.leader.as_deref() == Some(member_id);
        JoinResult {
            error: None,
            member_id: member_id.to_string(),
            generation: self.generation,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol.clone(),
            leader: self.leader.clone().unwrap_or_default(),
            skip_assignment: skip_assignment && is_leader,
            members: if is_leader {
                self.joined_members()
            } else {
                Vec::new()
            },
        }
    }

    /// Every member with its metadata for the selected protocol, in join order (the
    /// leader's view).
    pub(super) fn joined_members(&self) -> Vec<JoinedMember> {
        let protocol = self.protocol.as_deref().unwrap_or_default();
        let mut members: Vec<&Member> = self.members.values().collect();
        members.sort_by_key(|m| m.join_seq);
        members
            .into_iter()
            .map(|m| JoinedMember {
                member_id: m.id.clone(),
                instance_id: m.instance_id.clone(),
                metadata: m.metadata(protocol).cloned().unwrap_or_default(),
            })
            .collect()
    }
}
