//! SyncGroup: the leader hands out assignments and the group becomes Stable; the other
//! members wait for theirs.

use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::oneshot;

use super::consumer_protocol::decode_assignment;
use super::{Group, GroupState, Groups, Pending, SyncRequest, SyncResult};
use crate::state::history::{AssignedMember, HistoryEvent};

impl Groups {
    /// SyncGroup.
    pub fn sync(&mut self, req: SyncRequest, now: i64) -> Pending<SyncResult> {
        let fail = |e| Pending::Ready(SyncResult::error(e));
        let Some(group) = self.groups.get_mut(&req.group_id) else {
            return fail(ResponseError::UnknownMemberId);
        };
        if let Some(cg) = group.consumer.as_mut() {
            return Pending::Ready(cg.classic_sync(&req, now));
        }
        if group.state == GroupState::Dead {
            return fail(ResponseError::CoordinatorNotAvailable);
        }
        if let Err(e) = group.validate_member(&req.member_id, req.instance_id.as_deref()) {
            return fail(e.code);
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
}

impl Group {
    /// The leader's SyncGroup: every member gets its assignment (none if the leader left
    /// it out) and the group is Stable.
    pub(super) fn complete_sync(&mut self, assignments: Vec<(String, Bytes)>, now: i64) {
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

    pub(super) fn sync_result(&self, member_id: &str) -> SyncResult {
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

    pub(super) fn synced(&mut self, member_id: &str) {
        self.pending_sync.remove(member_id);
        if self.pending_sync.is_empty() {
            self.sync_deadline = None;
        }
    }
}

impl Groups {
    /// Records a group's assignment once per generation, when it is Stable (called after
    /// every SyncGroup; only the one that completed the rebalance records).
    pub fn record_assignments(&mut self, group_id: &str, now: i64) {
        if !self.history.is_on() {
            return;
        }
        let Some(group) = self.get(group_id) else {
            return;
        };
        if group.state != GroupState::Stable || group.protocol_type.as_deref() != Some("consumer") {
            return;
        }
        let generation = group.generation;
        let members = group
            .members
            .values()
            .map(|m| AssignedMember {
                member_id: m.id.clone(),
                client_id: m.client_id.clone(),
                partitions: decode_assignment(&m.assignment)
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|(t, ps)| ps.into_iter().map(move |p| (t.clone(), p)))
                    .collect(),
            })
            .collect();
        if !self.history.first_assignment_of(group_id, generation) {
            return;
        }
        self.history.record(HistoryEvent::Assigned {
            at_ms: now,
            group: group_id.to_string(),
            generation,
            members,
        });
    }
}
