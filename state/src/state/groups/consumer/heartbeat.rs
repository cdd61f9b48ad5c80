//! ConsumerGroupHeartbeat's request handling for a consumer group (see the parent
//! module for the model): Kafka's request checks, joining (and static members taking
//! over), the epoch checks, the member's own fields, and leaving.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use regex::Regex;

use super::super::assignors::{ASSIGNORS, Assignment};
use super::super::{GroupState, Groups};
use super::{ConsumerGroup, LEAVE_EPOCH, LEAVE_STATIC_EPOCH, REGEX_SIZE_LIMIT};
use crate::error::KafkaError;
use crate::rng::SimRng;
use crate::state::history::{AssignedMember, HistoryEvent};

/// A decoded ConsumerGroupHeartbeat; `None` fields did not change since the last one.
#[derive(Debug, Clone, Default)]
pub struct ConsumerHeartbeat {
    pub version: i16,
    pub group_id: String,
    pub member_id: String,
    pub member_epoch: i32,
    pub instance_id: Option<String>,
    pub rack_id: Option<String>,
    pub rebalance_timeout_ms: i32,
    pub subscribed_topic_names: Option<Vec<String>>,
    pub subscribed_topic_regex: Option<String>,
    pub server_assignor: Option<String>,
    /// By topic name (unknown topic ids dropped).
    pub owned: Option<Assignment>,
    /// Whether the request listed any owned partitions at all (known topics or not).
    pub owned_listed: bool,
    pub client_id: String,
    pub client_host: String,
}

/// A ConsumerGroupHeartbeat answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerHeartbeatAnswer {
    pub member_id: String,
    pub member_epoch: i32,
    pub heartbeat_interval_ms: i32,
    /// Sent when the member joined, sent a full request, or its assignment changed.
    pub assignment: Option<Assignment>,
}

fn invalid(message: impl Into<String>) -> KafkaError {
    KafkaError::new(ResponseError::InvalidRequest, message)
}

/// Kafka's request checks, in its order.
fn validate(req: &ConsumerHeartbeat) -> Result<(), KafkaError> {
    if (req.version >= 1 || req.member_epoch > 0) && req.member_id.is_empty() {
        return Err(invalid("MemberId can't be empty."));
    }
    if req.group_id.trim().is_empty() {
        return Err(invalid("GroupId can't be empty."));
    }
    if req
        .instance_id
        .as_deref()
        .is_some_and(|i| i.trim().is_empty())
    {
        return Err(invalid("InstanceId can't be empty."));
    }
    if req.rack_id.as_deref().is_some_and(|r| r.trim().is_empty()) {
        return Err(invalid("RackId can't be empty."));
    }
    if req.member_epoch == 0 {
        if req.rebalance_timeout_ms == -1 {
            return Err(invalid(
                "RebalanceTimeoutMs must be provided in first request.",
            ));
        }
        if req.owned.is_none() || req.owned_listed {
            return Err(invalid("TopicPartitions must be empty when (re-)joining."));
        }
        if req.subscribed_topic_names.is_none() && req.subscribed_topic_regex.is_none() {
            return Err(invalid(
                "Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.",
            ));
        }
    } else if req.member_epoch == LEAVE_STATIC_EPOCH {
        if req.instance_id.is_none() {
            return Err(invalid("InstanceId can't be null."));
        }
    } else if req.member_epoch < LEAVE_STATIC_EPOCH {
        return Err(invalid("MemberEpoch is invalid."));
    }
    if let Some(a) = &req.server_assignor
        && !ASSIGNORS.contains(&a.as_str())
    {
        return Err(KafkaError::new(
            ResponseError::UnsupportedAssignor,
            format!(
                "ServerAssignor {a} is not supported. Supported assignors: {}.",
                ASSIGNORS.join(", ")
            ),
        ));
    }
    Ok(())
}

fn compile(regex: &str) -> Result<Regex, KafkaError> {
    regex::RegexBuilder::new(&format!("^(?:{regex})$"))
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            tracing::debug!(regex, error = %e, "invalid subscription regex");
            KafkaError::new(
                ResponseError::InvalidRegularExpression,
                format!(
                    "SubscribedTopicRegex `{regex}` is not a valid regular expression: {}.",
                    re2j_description(&e.to_string())
                ),
            )
        })
}

/// The description RE2J (Kafka's regular expressions) gives a syntax error, from the
/// `regex` crate's message for the same error.
fn re2j_description(error: &str) -> &'static str {
    const KNOWN: [(&str, &str); 9] = [
        ("unclosed group", "missing closing )"),
        ("unopened group", "unexpected )"),
        ("unclosed character class", "missing closing ]"),
        (
            "repetition operator missing expression",
            "missing argument to repetition operator",
        ),
        (
            "invalid character class range",
            "invalid character class range",
        ),
        (
            "incomplete escape",
            "trailing backslash at end of expression",
        ),
        ("unrecognized escape", "invalid escape sequence"),
        ("repetition quantifier", "invalid repeat count"),
        ("exceeds size limit", "expression too large"),
    ];
    KNOWN
        .iter()
        .find(|(ours, _)| error.contains(ours))
        .map_or("invalid or unsupported Perl syntax", |(_, theirs)| theirs)
}

fn fenced(received: i32, known: i32) -> KafkaError {
    let (which, cmp) = if received > known {
        ("greater", received)
    } else {
        ("smaller", received)
    };
    KafkaError::new(
        ResponseError::FencedMemberEpoch,
        format!(
            "The consumer group member has a {which} member epoch ({cmp}) than the one known by the group coordinator ({known}). The member must abandon all its partitions and rejoin."
        ),
    )
}

fn is_subset(a: &Assignment, b: &Assignment) -> bool {
    a.iter()
        .all(|(t, ps)| ps.is_empty() || b.get(t).is_some_and(|bp| ps.is_subset(bp)))
}

impl Groups {
    /// ConsumerGroupHeartbeat, once the coordinator is found. `existing` is every topic
    /// and its partition count; `rng` gives v0 members their ids.
    pub fn consumer_heartbeat(
        &mut self,
        req: ConsumerHeartbeat,
        existing: &BTreeMap<String, i32>,
        now: i64,
        rng: &mut SimRng,
    ) -> Result<ConsumerHeartbeatAnswer, KafkaError> {
        validate(&req)?;
        let group_id = req.group_id.clone();
        let session_timeout_ms = self.config.consumer_session_timeout_ms;
        let heartbeat_interval_ms = self.config.consumer_heartbeat_interval_ms;
        if req.member_epoch == LEAVE_EPOCH || req.member_epoch == LEAVE_STATIC_EPOCH {
            return self.consumer_leave(&req, now);
        }
        let regex = match req.subscribed_topic_regex.as_deref() {
            Some(r) if !r.is_empty() => Some(compile(r)?),
            _ => None,
        };
        // The group: made by a first heartbeat; an empty classic group becomes a
        // consumer group; one with members keeps its protocol.
        match self.groups.get_mut(&group_id) {
            None if req.member_epoch == 0 => {
                let g = self.get_or_create(&group_id, now);
                g.consumer = Some(ConsumerGroup::default());
            }
            None => {
                return Err(KafkaError::new(
                    ResponseError::GroupIdNotFound,
                    format!("Consumer group {group_id} not found."),
                ));
            }
            Some(g) if g.consumer.is_none() => {
                if g.state == GroupState::Empty && req.member_epoch == 0 {
                    tracing::info!(group = %group_id, "empty classic group converted to a consumer group");
                    g.consumer = Some(ConsumerGroup::default());
                    g.protocol_type = None;
                    g.protocol = None;
                } else if g.state != GroupState::Dead && req.member_epoch == 0 {
                    g.upgrade_to_consumer(now)?;
                } else {
                    return Err(KafkaError::new(
                        ResponseError::GroupIdNotFound,
                        format!("Group {group_id} is not a consumer group."),
                    ));
                }
            }
            Some(_) => {}
        }
        let group = self.groups.get_mut(&group_id).expect("made above");
        let cg = group.consumer.as_mut().expect("a consumer group");
        // Expressions set by earlier heartbeats are resolved by now.
        for m in cg.members.values_mut() {
            m.regex_resolved = true;
        }
        // The member.
        let mut bump = false;
        let member_id = if req.member_epoch == 0 {
            let member_id = if req.member_id.is_empty() {
                rng.uuid_base64()
            } else {
                req.member_id.clone()
            };
            match req
                .instance_id
                .as_ref()
                .and_then(|i| cg.static_members.get(i))
                .filter(|old| cg.members.contains_key(*old))
                .cloned()
            {
                Some(old) if old != member_id => {
                    let previous = cg.members.get(&old).expect("static members are members");
                    if !previous.is_left_static() {
                        return Err(KafkaError::new(
                            ResponseError::UnreleasedInstanceId,
                            format!(
                                "Static member {member_id} with instance id {} cannot join the group because the instance id is owned by {old} member.",
                                req.instance_id.as_deref().unwrap_or_default()
                            ),
                        ));
                    }
                    // A new process takes the static member's place, epoch and assignment.
                    cg.take_over(&old, &member_id);
                }
                _ => bump = cg.join_member(&member_id, now, session_timeout_ms),
            }
            if let Some(i) = &req.instance_id {
                cg.static_members.insert(i.clone(), member_id.clone());
            }
            member_id
        } else {
            // A static member is found by its instance id first: a process that was
            // replaced is fenced, not unknown.
            if let Some(i) = &req.instance_id
                && let Some(owner) = cg.static_members.get(i)
                && owner != &req.member_id
            {
                return Err(KafkaError::new(
                    ResponseError::FencedInstanceId,
                    format!(
                        "Static member {} with instance id {i} was fenced by another member.",
                        req.member_id
                    ),
                ));
            }
            let Some(member) = cg.members.get(&req.member_id) else {
                return Err(KafkaError::new(
                    ResponseError::UnknownMemberId,
                    format!(
                        "Member {} is not a member of group {group_id}.",
                        req.member_id
                    ),
                ));
            };
            if let Some(i) = &req.instance_id
                && cg.static_members.get(i) != Some(&req.member_id)
            {
                return Err(KafkaError::new(
                    ResponseError::FencedInstanceId,
                    format!(
                        "Static member {} with instance id {i} was fenced by another member.",
                        req.member_id
                    ),
                ));
            }
            let known = member.member_epoch;
            if req.member_epoch != known {
                let lost_answer = req.member_epoch == member.previous_epoch
                    && req.member_epoch < known
                    && req
                        .owned
                        .as_ref()
                        .is_some_and(|o| is_subset(o, &member.assigned));
                if !lost_answer {
                    return Err(fenced(req.member_epoch, known));
                }
            }
            req.member_id.clone()
        };
        // What the member says of itself.
        let member = cg.members.get_mut(&member_id).expect("present");
        member.session_deadline = now + i64::from(session_timeout_ms);
        if member.is_left_static() {
            member.member_epoch = member.previous_epoch.max(0);
        }
        member.client_id = req.client_id.clone();
        member.client_host = req.client_host.clone();
        if let Some(i) = &req.instance_id {
            member.instance_id = Some(i.clone());
        }
        if let Some(r) = &req.rack_id {
            member.rack_id = Some(r.clone());
        }
        if req.rebalance_timeout_ms != -1 {
            member.rebalance_timeout_ms = req.rebalance_timeout_ms;
        }
        if let Some(names) = &req.subscribed_topic_names {
            let mut names = names.clone();
            names.sort();
            names.dedup();
            if names != member.subscribed_topic_names {
                member.subscribed_topic_names = names;
                bump = true;
            }
        }
        if let Some(r) = &req.subscribed_topic_regex {
            let r = (!r.is_empty()).then(|| r.clone());
            if r != member.subscribed_topic_regex {
                member.subscribed_topic_regex = r;
                member.regex = regex;
                member.regex_resolved = false;
                bump = true;
            }
        }
        // The assignor a member asks for counts from the next epoch (no bump of its own,
        // as in Kafka).
        if req.server_assignor.is_some() {
            member.server_assignor = req.server_assignor.clone();
        }
        let before = member.assigned.clone();
        // One bump for whatever changed: the member, or the subscribed topics — unless
        // the topics changed because of a change already counted (a member that left
        // and took its subscription with it).
        let topics_changed = cg.refresh_metadata(existing);
        if bump || (topics_changed && cg.epoch == cg.assignment_epoch) {
            cg.epoch += 1;
        }
        if cg.epoch > cg.assignment_epoch {
            cg.compute_target(existing);
        }
        cg.reconcile(&member_id, req.owned.as_ref(), now);
        let member = &cg.members[&member_id];
        let full = req.rebalance_timeout_ms != -1
            && (req.subscribed_topic_names.is_some() || req.subscribed_topic_regex.is_some())
            && req.owned.is_some();
        let assignment = (req.member_epoch == 0 || full || member.assigned != before)
            .then(|| member.assigned.clone());
        if member.member_epoch != req.member_epoch {
            tracing::debug!(group = %group_id, member = %member_id, epoch = member.member_epoch, state = member.state.as_str(), "consumer group member reconciled");
        }
        Ok(ConsumerHeartbeatAnswer {
            member_id,
            member_epoch: member.member_epoch,
            heartbeat_interval_ms,
            assignment,
        })
    }

    /// A heartbeat with epoch -1 (leave) or -2 (a static member that will be back).
    fn consumer_leave(
        &mut self,
        req: &ConsumerHeartbeat,
        now: i64,
    ) -> Result<ConsumerHeartbeatAnswer, KafkaError> {
        let group_id = &req.group_id;
        let config = self.config;
        let group = match self.groups.get_mut(group_id) {
            Some(g) if g.consumer.is_some() => g,
            Some(_) => {
                return Err(KafkaError::new(
                    ResponseError::GroupIdNotFound,
                    format!("Group {group_id} is not a consumer group."),
                ));
            }
            None => {
                return Err(KafkaError::new(
                    ResponseError::GroupIdNotFound,
                    format!("Group {group_id} not found."),
                ));
            }
        };
        let cg = group.consumer.as_mut().expect("checked");
        // A static member is found by its instance id, and must be the one leaving.
        let member_id = match &req.instance_id {
            Some(i) => match cg.static_members.get(i) {
                Some(owner) if owner != &req.member_id => {
                    return Err(KafkaError::new(
                        ResponseError::FencedInstanceId,
                        format!(
                            "Static member {} with instance id {i} was fenced by another member.",
                            req.member_id
                        ),
                    ));
                }
                _ => req.member_id.clone(),
            },
            None => req.member_id.clone(),
        };
        let Some(member) = cg.members.get_mut(&member_id) else {
            return Err(KafkaError::new(
                ResponseError::UnknownMemberId,
                format!(
                    "Member {} is not a member of group {group_id}.",
                    req.member_id
                ),
            ));
        };
        if req.member_epoch == LEAVE_STATIC_EPOCH && member.instance_id.is_some() {
            // It gave up what it was revoking: nothing waits for it now.
            member.previous_epoch = member.member_epoch;
            member.member_epoch = LEAVE_STATIC_EPOCH;
            member.revoking.clear();
            member.revocation_deadline = None;
            member.state = super::MemberState::Stable;
            tracing::info!(group = %group_id, member = %member_id, "static consumer group member left for now");
        } else {
            group.remove_consumer_member(&member_id, "left the group", now, &config);
        }
        Ok(ConsumerHeartbeatAnswer {
            member_id: req.member_id.clone(),
            member_epoch: req.member_epoch,
            heartbeat_interval_ms: 0,
            assignment: None,
        })
    }
}

impl crate::state::State {
    /// Every topic and its partition count: what a consumer group's assignment is computed
    /// from, read under the state lock before the groups lock is taken.
    pub fn partition_counts(&self) -> BTreeMap<String, i32> {
        self.topics()
            .map(|t| (t.name.clone(), t.partition_count() as i32))
            .collect()
    }
}

impl super::super::Groups {
    /// ConsumerGroupHeartbeat against the cluster's topics (`existing`: each topic's
    /// partition count).
    pub fn consumer_group_heartbeat(
        &mut self,
        req: ConsumerHeartbeat,
        existing: &BTreeMap<String, i32>,
        now: i64,
    ) -> Result<ConsumerHeartbeatAnswer, KafkaError> {
        let group_id = req.group_id.clone();
        let before = self.owners(&group_id);
        let answer =
            self.with_rng(|groups, rng| groups.consumer_heartbeat(req, existing, now, rng))?;
        self.record_owners(&group_id, before, now);
        Ok(answer)
    }

    /// JoinGroup from a classic member of a consumer group (after an online upgrade).
    pub fn classic_join_to_consumer_group(
        &mut self,
        req: super::super::JoinRequest,
        existing: &BTreeMap<String, i32>,
        now: i64,
    ) -> super::super::JoinResult {
        let group_id = req.group_id.clone();
        let before = self.owners(&group_id);
        let mut rng = self.rng.clone();
        let Some(group) = self.groups.get_mut(&group_id) else {
            return super::super::JoinResult::error(ResponseError::UnknownMemberId, &req.member_id);
        };
        let result = group.classic_join_to_consumer(req, existing, now, &mut rng);
        self.rng = rng;
        self.record_owners(&group_id, before, now);
        result
    }

    /// Records the group's assignment in the history when it changed from `before`.
    fn record_owners(&mut self, group_id: &str, before: Vec<AssignedMember>, now: i64) {
        let after = self.owners(group_id);
        if after != before && self.history.is_on() {
            // What the checks attribute fetches by: each member's partitions, those
            // still being revoked included (the member owns them until it says not).
            let epoch = self
                .get(group_id)
                .and_then(|g| g.consumer.as_ref())
                .map_or(0, |cg| cg.epoch);
            self.history.record(HistoryEvent::Assigned {
                at_ms: now,
                group: group_id.to_string(),
                generation: epoch,
                members: after,
            });
        }
    }

    /// The partitions each member of consumer group `group_id` owns or is revoking (none
    /// while the history is off: nothing would record them).
    fn owners(&self, group_id: &str) -> Vec<AssignedMember> {
        if !self.history.is_on() {
            return Vec::new();
        }
        let Some(cg) = self.get(group_id).and_then(|g| g.consumer.as_ref()) else {
            return Vec::new();
        };
        cg.members
            .values()
            .map(|m| AssignedMember {
                member_id: m.id.clone(),
                client_id: m.client_id.clone(),
                partitions: [&m.assigned, &m.revoking]
                    .into_iter()
                    .flat_map(|a| a.iter())
                    .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
                    .collect(),
            })
            .collect()
    }
}
