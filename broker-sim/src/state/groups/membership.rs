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

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;

use super::{Group, GroupConfig, GroupState, Groups, Member, Pending, Rebalance, new_member_id};
use crate::rng::SimRng;

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
        let group = self.get_or_create(&req.group_id);
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

    /// SyncGroup.
    pub fn sync(&mut self, req: SyncRequest, now: i64) -> Pending<SyncResult> {
        let fail = |e| Pending::Ready(SyncResult::error(e));
        let Some(group) = self.groups.get_mut(&req.group_id) else {
            return fail(ResponseError::UnknownMemberId);
        };
        if group.state == GroupState::Dead {
            return fail(ResponseError::CoordinatorNotAvailable);
        }
        if let Err(e) = group.validate_member(&req.member_id, req.instance_id.as_deref()) {
            return fail(e);
        }
        if req.generation != group.generation {
            return fail(ResponseError::IllegalGeneration);
        }
        let type_differs = req
            .protocol_type
            .as_ref()
            .is_some_and(|t| Some(t) != group.protocol_type.as_ref());
        let name_differs = req
            .protocol_name
            .as_ref()
            .is_some_and(|n| Some(n) != group.protocol.as_ref());
        if type_differs || name_differs {
            return fail(ResponseError::InconsistentGroupProtocol);
        }
        match group.state {
            GroupState::Empty => fail(ResponseError::UnknownMemberId),
            GroupState::PreparingRebalance => fail(ResponseError::RebalanceInProgress),
            GroupState::Dead => fail(ResponseError::CoordinatorNotAvailable),
            GroupState::CompletingRebalance => {
                group.synced(&req.member_id);
                let (tx, rx) = oneshot::channel();
                let member = group.members.get_mut(&req.member_id).expect("validated");
                member.awaiting_sync.push(tx);
                if group.leader.as_deref() == Some(req.member_id.as_str()) {
                    group.complete_sync(req.assignments, now);
                }
                Pending::Wait(rx)
            }
            GroupState::Stable => {
                group.synced(&req.member_id);
                let result = group.sync_result(&req.member_id);
                let member = group.members.get_mut(&req.member_id).expect("validated");
                member.touch(now);
                Pending::Ready(result)
            }
        }
    }

    /// Heartbeat.
    pub fn heartbeat(
        &mut self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: i64,
    ) -> Result<(), ResponseError> {
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::UnknownMemberId)?;
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        group.validate_member(member_id, instance_id)?;
        if generation != group.generation {
            return Err(ResponseError::IllegalGeneration);
        }
        if group.state == GroupState::Empty {
            return Err(ResponseError::UnknownMemberId);
        }
        let member = group.members.get_mut(member_id).expect("validated");
        member.touch(now);
        match group.state {
            GroupState::PreparingRebalance => Err(ResponseError::RebalanceInProgress),
            _ => Ok(()),
        }
    }

    /// LeaveGroup: one result per (member id, group.instance.id) in request order, or a
    /// group-level error.
    pub fn leave(
        &mut self,
        group_id: &str,
        leaving: &[(String, Option<String>)],
        now: i64,
    ) -> Result<Vec<Result<(), ResponseError>>, ResponseError> {
        let Some(group) = self.groups.get_mut(group_id) else {
            return Ok(vec![Err(ResponseError::UnknownMemberId); leaving.len()]);
        };
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable);
        }
        let config = self.config;
        Ok(leaving
            .iter()
            .map(|(member_id, instance_id)| {
                group.leave_one(member_id, instance_id.as_deref(), now, &config)
            })
            .collect())
    }

    /// Removes a member at once, as if its session had just timed out: the embedding API's
    /// "this consumer crashed".
    pub fn expire_member(
        &mut self,
        group_id: &str,
        member_id: &str,
        now: i64,
    ) -> Result<(), ResponseError> {
        let config = self.config;
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::GroupIdNotFound)?;
        if group.pending_members.remove(member_id).is_some() {
            group.maybe_complete_join(now);
            return Ok(());
        }
        if !group.members.contains_key(member_id) {
            return Err(ResponseError::UnknownMemberId);
        }
        group.remove_member(member_id, "expired by the embedding API", now, &config);
        Ok(())
    }
}

impl Group {
    /// Kafka's `acceptJoiningMember`: `group.max.size` counts members, and while a rebalance
    /// is under way, the members that already rejoined.
    fn accepts_joining_member(&self, member_id: &str, max_size: i32) -> bool {
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
    fn supports_protocols(&self, protocol_type: &str, protocols: &[(String, Bytes)]) -> bool {
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
    ) -> Result<(), ResponseError> {
        match instance_id {
            Some(instance) => match self.static_members.get(instance) {
                None => Err(ResponseError::UnknownMemberId),
                Some(id) if id != member_id => Err(ResponseError::FencedInstanceId),
                Some(_) => Ok(()),
            },
            None if self.members.contains_key(member_id) => Ok(()),
            None => Err(ResponseError::UnknownMemberId),
        }
    }

    fn join_unknown_member(
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

    fn join_known_member(
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
            return Pending::Ready(JoinResult::error(e, &member_id));
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
    fn replace_static_member(
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

    fn add_member_and_rebalance(
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
    fn update_member(
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
    fn current_join_result(&self, member_id: &str, skip_assignment: bool) -> JoinResult {
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
    fn joined_members(&self) -> Vec<JoinedMember> {
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

    /// Starts a rebalance: parked SyncGroups learn it with REBALANCE_IN_PROGRESS and
    /// every member must rejoin within the longest rebalance timeout.
    fn prepare_rebalance(&mut self, reason: &str, now: i64, config: &GroupConfig) {
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
    fn maybe_complete_join(&mut self, now: i64) {
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
    fn complete_join(&mut self, now: i64) {
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
    fn select_protocol(&self) -> Option<String> {
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

    /// The leader's SyncGroup: every member gets its assignment (none if the leader left
    /// it out) and the group is Stable.
    fn complete_sync(&mut self, assignments: Vec<(String, Bytes)>, now: i64) {
        for member in self.members.values_mut() {
            member.assignment = Bytes::new();
        }
        for (member_id, assignment) in assignments {
            if let Some(member) = self.members.get_mut(&member_id) {
                member.assignment = assignment;
            }
        }
        self.state = GroupState::Stable;
        let (protocol_type, protocol_name) = (self.protocol_type.clone(), self.protocol.clone());
        for member in self.members.values_mut() {
            for tx in member.awaiting_sync.drain(..) {
                let _ = tx.send(SyncResult {
                    error: None,
                    protocol_type: protocol_type.clone(),
                    protocol_name: protocol_name.clone(),
                    assignment: member.assignment.clone(),
                });
            }
            member.touch(now);
        }
        tracing::info!(group = %self.id, generation = self.generation, "group is stable");
    }

    fn sync_result(&self, member_id: &str) -> SyncResult {
        SyncResult {
            error: None,
            protocol_type: self.protocol_type.clone(),
            protocol_name: self.protocol.clone(),
            assignment: self
                .members
                .get(member_id)
                .map(|m| m.assignment.clone())
                .unwrap_or_default(),
        }
    }

    fn synced(&mut self, member_id: &str) {
        self.pending_sync.remove(member_id);
        if self.pending_sync.is_empty() {
            self.sync_deadline = None;
        }
    }

    fn leave_one(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        now: i64,
        config: &GroupConfig,
    ) -> Result<(), ResponseError> {
        let member_id = match instance_id {
            Some(instance) => {
                let current = self
                    .static_members
                    .get(instance)
                    .ok_or(ResponseError::UnknownMemberId)?;
                // An admin removing a static member names only its instance id.
                if !member_id.is_empty() && current != member_id {
                    return Err(ResponseError::FencedInstanceId);
                }
                current.clone()
            }
            None => member_id.to_string(),
        };
        if self.pending_members.remove(&member_id).is_some() {
            self.maybe_complete_join(now);
            return Ok(());
        }
        if !self.members.contains_key(&member_id) {
            return Err(ResponseError::UnknownMemberId);
        }
        self.remove_member(&member_id, "member left the group", now, config);
        Ok(())
    }

    /// Removes a member (left, expired, fenced out) and moves the group on: a stable or
    /// completing group rebalances, a rebalancing one may now be complete.
    pub(super) fn remove_member(
        &mut self,
        member_id: &str,
        reason: &str,
        now: i64,
        config: &GroupConfig,
    ) {
        tracing::info!(group = %self.id, member = %member_id, reason, "member removed");
        self.forget_member(member_id);
        match self.state {
            GroupState::Stable | GroupState::CompletingRebalance => {
                self.prepare_rebalance(reason, now, config);
                self.maybe_complete_join(now);
            }
            GroupState::PreparingRebalance => self.maybe_complete_join(now),
            GroupState::Empty | GroupState::Dead => {}
        }
    }

    /// Drops a member's record; anything it has parked learns UNKNOWN_MEMBER_ID.
    fn forget_member(&mut self, member_id: &str) {
        let Some(mut member) = self.members.remove(member_id) else {
            return;
        };
        for tx in member.awaiting_join.drain(..) {
            let _ = tx.send(JoinResult::error(ResponseError::UnknownMemberId, member_id));
        }
        for tx in member.awaiting_sync.drain(..) {
            let _ = tx.send(SyncResult::error(ResponseError::UnknownMemberId));
        }
        if let Some(instance) = &member.instance_id
            && self.static_members.get(instance).map(String::as_str) == Some(member_id)
        {
            self.static_members.remove(instance);
        }
        self.pending_sync.remove(member_id);
        if self.leader.as_deref() == Some(member_id) {
            self.leader = self
                .members
                .values()
                .min_by_key(|m| m.join_seq)
                .map(|m| m.id.clone());
        }
    }

    /// Fires the deadlines that have passed (see `Groups::tick`).
    pub(super) fn fire_deadlines(&mut self, now: i64, config: &GroupConfig) {
        let expired_pending: Vec<String> = self
            .pending_members
            .iter()
            .filter(|(_, deadline)| **deadline <= now)
            .map(|(id, _)| id.clone())
            .collect();
        for id in expired_pending {
            tracing::info!(group = %self.id, member = %id, "pending member expired");
            self.pending_members.remove(&id);
            self.maybe_complete_join(now);
        }
        let expired: Vec<String> = self
            .members
            .values()
            .filter(|m| m.session_expired(now))
            .map(|m| m.id.clone())
            .collect();
        for id in expired {
            self.remove_member(&id, "session timed out", now, config);
        }
        if let Some(r) = self.rebalance
            && r.deadline <= now
            && self.state == GroupState::PreparingRebalance
        {
            match r.initial {
                Some((delay, remaining)) if r.new_member_added && remaining > 0 => {
                    let next = delay.min(remaining);
                    self.rebalance = Some(Rebalance {
                        deadline: now + next,
                        initial: Some((delay, remaining - next)),
                        new_member_added: false,
                    });
                }
                _ => self.complete_join(now),
            }
        }
        if self.sync_deadline.is_some_and(|d| d <= now) {
            self.sync_deadline = None;
            let stragglers: Vec<String> =
                std::mem::take(&mut self.pending_sync).into_iter().collect();
            for id in stragglers {
                self.remove_member(&id, "did not sync in time", now, config);
            }
        }
    }
}
