//! Heartbeat, LeaveGroup and member expiry: what keeps a member in the group and what
//! takes it out (a removal starts a rebalance, see `membership`).

use kafka_protocol::ResponseError;

use super::{Group, GroupConfig, GroupState, Groups, JoinResult, Rebalance, SyncResult};
use crate::error::KafkaError;

impl Groups {
    /// Heartbeat.
    pub fn heartbeat(
        &mut self,
        group_id: &str,
        generation: i32,
        member_id: &str,
        instance_id: Option<&str>,
        now: i64,
    ) -> Result<(), KafkaError> {
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::UnknownMemberId)?;
        if let Some(cg) = group.consumer.as_mut() {
            return cg.classic_heartbeat(generation, member_id, instance_id, now);
        }
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable.into());
        }
        group.validate_member(member_id, instance_id)?;
        if generation != group.generation {
            return Err(ResponseError::IllegalGeneration.into());
        }
        if group.state == GroupState::Empty {
            return Err(ResponseError::UnknownMemberId.into());
        }
        let member = group.members.get_mut(member_id).expect("validated");
        member.touch(now);
        match group.state {
            GroupState::PreparingRebalance => Err(ResponseError::RebalanceInProgress.into()),
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
    ) -> Result<Vec<Result<(), KafkaError>>, KafkaError> {
        let Some(group) = self.groups.get_mut(group_id) else {
            return Ok(vec![
                Err(ResponseError::UnknownMemberId.into());
                leaving.len()
            ]);
        };
        let config = self.config;
        if group.consumer.is_some() {
            return Ok(group.classic_leave(leaving, now, &config));
        }
        if group.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable.into());
        }
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
    ) -> Result<(), KafkaError> {
        let config = self.config;
        let group = self
            .groups
            .get_mut(group_id)
            .ok_or(ResponseError::GroupIdNotFound)?;
        if group.consumer.is_some() {
            return Groups::expire_consumer_member(group, member_id, now, &config);
        }
        if group.pending_members.remove(member_id).is_some() {
            group.maybe_complete_join(now);
            return Ok(());
        }
        if !group.members.contains_key(member_id) {
            return Err(ResponseError::UnknownMemberId.into());
        }
        group.remove_member(member_id, "expired by the embedding API", now, &config);
        Ok(())
    }
}

impl Group {
    pub(super) fn leave_one(
        &mut self,
        member_id: &str,
        instance_id: Option<&str>,
        now: i64,
        config: &GroupConfig,
    ) -> Result<(), KafkaError> {
        let member_id = match instance_id {
            Some(instance) => {
                let current = self
                    .static_members
                    .get(instance)
                    .ok_or(ResponseError::UnknownMemberId)?;
                // An admin removing a static member names only its instance id.
                if !member_id.is_empty() && current != member_id {
                    return Err(ResponseError::FencedInstanceId.into());
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
            return Err(ResponseError::UnknownMemberId.into());
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
    pub(super) fn forget_member(&mut self, member_id: &str) {
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
