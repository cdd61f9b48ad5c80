//! Consumer groups of the new protocol (KIP-848, `group.protocol=consumer`), as Kafka
//! 4.1's group coordinator runs them: ConsumerGroupHeartbeat's membership, epochs,
//! target assignment and reconciliation, the timers, and what ConsumerGroupDescribe,
//! ListGroups and the offset APIs read.
//!
//! A group has an epoch that grows with every change the assignment depends on: a member
//! joining or leaving, a subscription or assignor change, a subscribed topic created,
//! deleted or grown. When the group epoch passes the target assignment's epoch, the
//! server-side assignor (`assignors.rs`) computes a new target for every member. Each
//! member then reconciles towards its target, one heartbeat at a time, as Kafka's
//! `CurrentAssignmentBuilder`:
//!
//! - a member that owns partitions outside its target keeps only the rest and must
//!   revoke them first (UNREVOKED_PARTITIONS); its epoch stays until its heartbeat shows
//!   it no longer owns them;
//! - otherwise it moves to the target epoch and gets every target partition no other
//!   member still owns (the rest stay UNRELEASED until their owner revokes them).
//!
//! A member whose epoch does not match is fenced (FENCED_MEMBER_EPOCH), except one
//! resending its previous epoch with owned partitions it may still hold (a lost
//! answer). Sessions (45 s) and revocations (the member's rebalance timeout) time out
//! on the cluster clock. Static members (`group.instance.id`) that leave with epoch -2
//! keep their assignment until their session ends, for a new process to take over.
//!
//! A regular-expression subscription (v1, a full match as Java's `Matcher.matches`) is
//! resolved as Kafka resolves it, after the heartbeat that set it is answered: that
//! answer carries no partitions of it, and the next heartbeat finds a new epoch.
//!
//! A classic group of consumers is upgraded online when a member of the new protocol
//! joins it, and downgraded when the last such member leaves (`classic.rs`); an empty
//! group simply changes protocol. Not modelled: rack-aware assignment (`rack_id` is kept
//! and described only).

use std::collections::{BTreeMap, BTreeSet};

use kafka_protocol::ResponseError;
use regex::Regex;

use super::assignors::{self, ASSIGNORS, Assignment, MemberSpec};
use super::{Group, GroupConfig, GroupState, Groups};
use crate::error::KafkaError;
mod classic;
mod heartbeat;

pub use classic::ClassicMeta;
pub use heartbeat::ConsumerHeartbeat;

/// The epoch a member leaves with; -2 for a static member that will come back.
pub const LEAVE_EPOCH: i32 = -1;
pub const LEAVE_STATIC_EPOCH: i32 = -2;
/// The largest regular expression compiled (RE2-style, linear-time matching, but its
/// compiled size is bounded too).
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Where a member is in its reconciliation (Kafka's `MemberState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberState {
    Stable,
    /// Owns partitions outside its target: must revoke them before anything else.
    UnrevokedPartitions,
    /// At the target epoch, waiting for partitions other members still own.
    UnreleasedPartitions,
}

impl MemberState {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberState::Stable => "stable",
            MemberState::UnrevokedPartitions => "unrevoked_partitions",
            MemberState::UnreleasedPartitions => "unreleased_partitions",
        }
    }
}

/// One member of a consumer group.
#[derive(Debug, Clone)]
pub struct ConsumerMember {
    pub id: String,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub member_epoch: i32,
    pub previous_epoch: i32,
    pub state: MemberState,
    pub subscribed_topic_names: Vec<String>,
    pub subscribed_topic_regex: Option<String>,
    regex: Option<Regex>,
    /// Whether the expression has been resolved against the topics: as in Kafka, which
    /// resolves expressions in the background, not before the heartbeat that set it is
    /// answered.
    regex_resolved: bool,
    pub server_assignor: Option<String>,
    pub rebalance_timeout_ms: i32,
    /// What the member owns (or was told to own).
    pub assigned: Assignment,
    /// What it must give up before it moves on.
    pub revoking: Assignment,
    session_deadline: i64,
    revocation_deadline: Option<i64>,
    /// Set for a member that speaks the classic protocol (JoinGroup, SyncGroup,
    /// Heartbeat) in this group, after an online upgrade (`classic.rs`).
    pub classic: Option<ClassicMeta>,
}

impl ConsumerMember {
    fn new(id: &str, now: i64, session_timeout_ms: i32) -> Self {
        ConsumerMember {
            id: id.to_string(),
            instance_id: None,
            rack_id: None,
            client_id: String::new(),
            client_host: String::new(),
            member_epoch: 0,
            previous_epoch: 0,
            state: MemberState::Stable,
            subscribed_topic_names: Vec::new(),
            subscribed_topic_regex: None,
            regex: None,
            regex_resolved: false,
            server_assignor: None,
            rebalance_timeout_ms: -1,
            assigned: Assignment::new(),
            revoking: Assignment::new(),
            session_deadline: now + i64::from(session_timeout_ms),
            revocation_deadline: None,
            classic: None,
        }
    }

    /// The existing topics this member subscribes to, by name or by its expression (a
    /// full match, as Java's `Matcher.matches`).
    fn topics(&self, existing: &BTreeMap<String, i32>) -> BTreeSet<String> {
        let mut out: BTreeSet<String> = self
            .subscribed_topic_names
            .iter()
            .filter(|t| existing.contains_key(*t))
            .cloned()
            .collect();
        if let Some(re) = self.regex.as_ref().filter(|_| self.regex_resolved) {
            out.extend(existing.keys().filter(|t| re.is_match(t)).cloned());
        }
        out
    }

    fn is_left_static(&self) -> bool {
        self.member_epoch == LEAVE_STATIC_EPOCH
    }
}

/// `assigned` split into what `target` keeps and what it does not (to be revoked), each
/// without empty topics.
fn split(assigned: &Assignment, target: &Assignment) -> (Assignment, Assignment) {
    let (mut kept, mut gone) = (Assignment::new(), Assignment::new());
    for (t, ps) in assigned {
        for &p in ps {
            let side = if target.get(t).is_some_and(|tp| tp.contains(&p)) {
                &mut kept
            } else {
                &mut gone
            };
            side.entry(t.clone()).or_default().insert(p);
        }
    }
    (kept, gone)
}

/// A consumer group's own state, beside its committed offsets (which `Group` keeps for
/// both protocols).
#[derive(Debug, Clone, Default)]
pub struct ConsumerGroup {
    pub epoch: i32,
    pub assignment_epoch: i32,
    pub members: BTreeMap<String, ConsumerMember>,
    /// The target assignment of each member, as of `assignment_epoch`.
    pub target: BTreeMap<String, Assignment>,
    /// The assignor that computed the target.
    pub assignor: String,
    /// group.instance.id → member id.
    static_members: BTreeMap<String, String>,
    /// The subscribed topics' partition counts the epoch was computed for.
    subscribed: BTreeMap<String, i32>,
}

impl ConsumerGroup {
    /// The group's state as ConsumerGroupDescribe and ListGroups name it.
    pub fn state_name(&self) -> &'static str {
        if self.members.is_empty() {
            "Empty"
        } else if self.epoch != self.assignment_epoch {
            "Assigning"
        } else if self
            .members
            .values()
            .any(|m| m.member_epoch != self.assignment_epoch || m.state != MemberState::Stable)
        {
            "Reconciling"
        } else {
            "Stable"
        }
    }

    /// The subscribed topics that existed at the last heartbeat.
    pub fn subscribed_topic_names(&self) -> BTreeSet<String> {
        self.subscribed.keys().cloned().collect()
    }

    /// Every existing topic some member subscribes to.
    pub fn subscribed_topics(&self, existing: &BTreeMap<String, i32>) -> BTreeSet<String> {
        self.members
            .values()
            .flat_map(|m| m.topics(existing))
            .collect()
    }

    /// The assignor ConsumerGroupDescribe names: the one of the target assignment, or
    /// before there is one, the one the next would use.
    pub fn assignor_name(&self) -> String {
        if self.assignor.is_empty() {
            self.preferred_assignor().to_string()
        } else {
            self.assignor.clone()
        }
    }

    /// The assignor to use: the one most members asked for, else the default.
    fn preferred_assignor(&self) -> &'static str {
        let votes = |a: &str| {
            self.members
                .values()
                .filter(|m| m.server_assignor.as_deref() == Some(a))
                .count()
        };
        ASSIGNORS
            .iter()
            .copied()
            .max_by_key(|a| {
                (
                    votes(a),
                    std::cmp::Reverse(ASSIGNORS.iter().position(|x| x == a)),
                )
            })
            .unwrap_or(assignors::UNIFORM)
    }

    /// Whether the subscribed topics' partitions changed since the epoch was computed
    /// (remembering the new ones).
    fn refresh_metadata(&mut self, existing: &BTreeMap<String, i32>) -> bool {
        let subscribed: BTreeMap<String, i32> = self
            .subscribed_topics(existing)
            .into_iter()
            .map(|t| {
                let n = existing[&t];
                (t, n)
            })
            .collect();
        let changed = subscribed != self.subscribed;
        self.subscribed = subscribed;
        changed
    }

    fn compute_target(&mut self, existing: &BTreeMap<String, i32>) {
        let assignor = self.preferred_assignor();
        let topics: Vec<(String, BTreeSet<String>)> = self
            .members
            .values()
            .map(|m| (m.id.clone(), m.topics(existing)))
            .collect();
        let specs: Vec<MemberSpec<'_>> = topics
            .iter()
            .map(|(id, topics)| MemberSpec {
                id,
                topics,
                previous: self.target.get(id),
            })
            .collect();
        let target = assignors::assign(assignor, &specs, &self.subscribed);
        self.target = target;
        self.assignor = assignor.to_string();
        self.assignment_epoch = self.epoch;
    }

    /// Whether a member other than `member` owns or is still revoking `topic`-`p`.
    fn held_by_other(&self, member: &str, topic: &str, p: i32) -> bool {
        self.members.values().any(|m| {
            m.id != member
                && [&m.assigned, &m.revoking]
                    .iter()
                    .any(|a| a.get(topic).is_some_and(|ps| ps.contains(&p)))
        })
    }

    /// One reconciliation step of `id` (Kafka's `CurrentAssignmentBuilder`), given the
    /// partitions its heartbeat says it owns.
    fn reconcile(&mut self, id: &str, owned: Option<&Assignment>, now: i64) {
        let Some(member) = self.members.get(id) else {
            return;
        };
        if member.state == MemberState::UnrevokedPartitions {
            let revoked = owned.is_some_and(|owned| {
                !member
                    .revoking
                    .iter()
                    .any(|(t, ps)| owned.get(t).is_some_and(|o| !o.is_disjoint(ps)))
            });
            if !revoked {
                return;
            }
        } else if member.member_epoch == self.assignment_epoch
            && member.state == MemberState::Stable
        {
            return;
        }
        let target = self.target.get(id).cloned().unwrap_or_default();
        let assigned = &member.assigned;
        let (kept, to_revoke) = split(assigned, &target);
        let rebalance_timeout = i64::from(member.rebalance_timeout_ms.max(0));
        // Revocation is asked for only while the member may still own what goes: a
        // request that lists what it owns (a classic member's JoinGroup after an eager
        // revocation, say) without those partitions has already let them go.
        let still_owned = owned.is_none_or(|owned| {
            to_revoke
                .iter()
                .any(|(t, ps)| owned.get(t).is_some_and(|o| !o.is_disjoint(ps)))
        });
        if !to_revoke.is_empty() && still_owned {
            let m = self.members.get_mut(id).expect("checked");
            m.assigned = kept;
            m.revoking = to_revoke;
            m.state = MemberState::UnrevokedPartitions;
            m.revocation_deadline = Some(now + rebalance_timeout);
            return;
        }
        let mut next = Assignment::new();
        let mut unreleased = false;
        for (t, ps) in &target {
            for &p in ps {
                let mine = assigned.get(t).is_some_and(|a| a.contains(&p));
                if mine || !self.held_by_other(id, t, p) {
                    next.entry(t.clone()).or_default().insert(p);
                } else {
                    unreleased = true;
                }
            }
        }
        let epoch = self.assignment_epoch;
        let m = self.members.get_mut(id).expect("checked");
        if m.member_epoch != epoch {
            m.previous_epoch = m.member_epoch;
            m.member_epoch = epoch;
        }
        m.assigned = next;
        m.revoking.clear();
        m.revocation_deadline = None;
        m.state = if unreleased {
            MemberState::UnreleasedPartitions
        } else {
            MemberState::Stable
        };
    }

    /// Removes a member (left, fenced or timed out); the assignment follows at the next
    /// heartbeat.
    fn remove(&mut self, group: &str, id: &str, why: &str) {
        if self.forget(id) {
            self.epoch += 1;
            tracing::info!(
                group,
                member = id,
                why,
                epoch = self.epoch,
                "consumer group member removed"
            );
        }
    }

    /// Every member's session starts again (a coordinator that just loaded the group),
    /// to end at `deadline`.
    pub(super) fn refresh_sessions(&mut self, deadline: i64) {
        for m in self.members.values_mut() {
            m.session_deadline = deadline;
        }
    }

    /// A new process takes static member `old`'s place under `new`: its epoch (the one
    /// before it left), assignment, target and instance ids.
    fn take_over(&mut self, old: &str, new: &str) {
        let Some(mut m) = self.members.remove(old) else {
            return;
        };
        for mapped in self.static_members.values_mut() {
            if mapped == old {
                *mapped = new.to_string();
            }
        }
        m.id = new.to_string();
        if m.is_left_static() {
            m.member_epoch = m.previous_epoch.max(0);
        }
        if let Some(t) = self.target.remove(old) {
            self.target.insert(new.to_string(), t);
        }
        self.members.insert(new.to_string(), m);
    }

    /// Member `id`, made (with a session of `session_timeout_ms`) if it is new; whether
    /// it was.
    fn join_member(&mut self, id: &str, now: i64, session_timeout_ms: i32) -> bool {
        if self.members.contains_key(id) {
            return false;
        }
        self.members.insert(
            id.to_string(),
            ConsumerMember::new(id, now, session_timeout_ms),
        );
        true
    }

    /// Drops member `id` and every instance id mapped to it; whether it was a member.
    fn forget(&mut self, id: &str) -> bool {
        self.static_members.retain(|_, member| member != id);
        self.target.remove(id);
        self.members.remove(id).is_some()
    }

    fn next_deadline(&self) -> Option<i64> {
        self.members
            .values()
            .flat_map(|m| std::iter::once(m.session_deadline).chain(m.revocation_deadline))
            .min()
    }

    /// The members whose session or revocation ran out by `now`, and which.
    pub(super) fn expired(&self, now: i64) -> Vec<(String, &'static str)> {
        self.members
            .values()
            .filter_map(|m| {
                if m.session_deadline <= now {
                    Some((m.id.clone(), "session timed out"))
                } else if m.revocation_deadline.is_some_and(|d| d <= now) {
                    Some((m.id.clone(), "did not revoke within its rebalance timeout"))
                } else {
                    None
                }
            })
            .collect()
    }
}

impl Groups {
    /// OffsetFetch v9's member check, for a consumer group only.
    pub fn validate_consumer_fetch(
        &self,
        group_id: &str,
        member_id: &str,
        epoch: i32,
    ) -> Result<(), KafkaError> {
        match self.groups.get(group_id).and_then(|g| g.consumer.as_ref()) {
            Some(cg) => Group::validate_consumer_offsets(cg, member_id, epoch, 9, false),
            None => Ok(()),
        }
    }

    /// Removes a consumer group member at once (`Cluster::expire_member`).
    pub(super) fn expire_consumer_member(
        group: &mut Group,
        member_id: &str,
        now: i64,
        config: &GroupConfig,
    ) -> Result<(), KafkaError> {
        let cg = group.consumer.as_ref().expect("a consumer group");
        if !cg.members.contains_key(member_id) {
            return Err(ResponseError::UnknownMemberId.into());
        }
        group.remove_consumer_member(member_id, "expired by the embedding API", now, config);
        Ok(())
    }
}

impl Group {
    /// "consumer" for a KIP-848 group, "classic" otherwise.
    pub fn group_type(&self) -> &'static str {
        if self.consumer.is_some() {
            "consumer"
        } else {
            "classic"
        }
    }

    /// The state ListGroups and DescribeGroups show.
    pub fn state_name(&self) -> &'static str {
        match &self.consumer {
            Some(cg) => cg.state_name(),
            None => self.state.as_str(),
        }
    }

    /// Whether the group has no members (of either protocol).
    pub fn is_empty(&self) -> bool {
        match &self.consumer {
            Some(cg) => cg.members.is_empty(),
            None => self.state == GroupState::Empty,
        }
    }

    pub(super) fn consumer_next_deadline(&self) -> Option<i64> {
        self.consumer
            .as_ref()
            .and_then(ConsumerGroup::next_deadline)
    }

    /// Offset commits and fetches by a consumer group member (OffsetCommit v9+ and
    /// OffsetFetch v9+ carry the member epoch): the member must be known and its epoch
    /// current (STALE_MEMBER_EPOCH; ILLEGAL_GENERATION for TxnOffsetCommit, which the
    /// Java producer treats as an abortable commit failure); a commit with a negative
    /// epoch to an empty group is an admin commit, and one with no member id either is
    /// refused while the group has members (a transactional one is accepted).
    pub(super) fn validate_consumer_offsets(
        cg: &ConsumerGroup,
        member_id: &str,
        epoch: i32,
        version: i16,
        transactional: bool,
    ) -> Result<(), KafkaError> {
        if epoch < 0 && cg.members.is_empty() {
            return Ok(());
        }
        if epoch < 0 && member_id.is_empty() {
            return if transactional {
                Ok(())
            } else {
                Err(ResponseError::UnknownMemberId.into())
            };
        }
        let Some(m) = cg.members.get(member_id) else {
            return Err(KafkaError::new(
                ResponseError::UnknownMemberId,
                format!("Member {member_id} is not a member of the group."),
            ));
        };
        if m.classic.is_some() {
            // A classic member commits under its generation, which is its epoch.
            return if epoch == m.member_epoch {
                Ok(())
            } else {
                Err(ResponseError::IllegalGeneration.into())
            };
        }
        if !transactional && version < 9 {
            return Err(KafkaError::new(
                ResponseError::UnsupportedVersion,
                format!("OffsetCommit version {version} is not supported by consumer groups."),
            ));
        }
        if epoch != m.member_epoch {
            let code = if transactional {
                ResponseError::IllegalGeneration
            } else {
                ResponseError::StaleMemberEpoch
            };
            return Err(KafkaError::new(
                code,
                format!(
                    "The received member epoch {epoch} does not match the current member epoch {}.",
                    m.member_epoch
                ),
            ));
        }
        Ok(())
    }
}
