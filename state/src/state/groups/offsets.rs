//! Committed offsets: OffsetCommit, TxnOffsetCommit, OffsetFetch and OffsetDelete as Kafka
//! 4.1's coordinator applies them, and the embedding API's offset reset.
//!
//! Offsets committed in a transaction (TxnOffsetCommit) wait beside the group's offsets,
//! per producer id, until the transaction ends: a commit marker makes them the group's
//! offsets, an abort drops them. While any wait for a partition, OffsetFetch with
//! `require_stable` answers UNSTABLE_OFFSET_COMMIT for it (KIP-447), so a consumer that
//! takes the partition over does not start from an offset that may yet be rolled back.
//!
//! Offsets belong to a group. A standalone consumer (generation -1, no member id) may
//! commit to a group that has no members, creating it if need be, as Kafka lets admin
//! tools and `assign()`-style consumers do; a group member's commit must carry its
//! current generation. Commits are accepted while a rebalance is being prepared, so a
//! member can commit what it processed before giving its partitions up.

use kafka_protocol::ResponseError;

use super::{CommittedOffset, Group, GroupState, Groups, OFFSET_METADATA_MAX_BYTES};
use crate::error::KafkaError;
use crate::state::State;
use crate::state::history::CommitSource;

/// Who is committing.
#[derive(Debug, Clone)]
pub struct CommitRequest {
    pub group_id: String,
    pub generation: i32,
    pub member_id: String,
    pub instance_id: Option<String>,
    /// The OffsetCommit version: v9+ names a missing group GROUP_ID_NOT_FOUND.
    pub version: i16,
    /// TxnOffsetCommit: a commit without member information is accepted even by a group
    /// with members (as before KIP-447), and a rebalance does not stop it.
    pub transactional: bool,
}

/// Where [`State::reset_group_offsets`] moves a group's offsets, like the
/// `kafka-consumer-groups --reset-offsets --to-*` options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetReset {
    /// The log start offset.
    Earliest,
    /// The high watermark: skip everything written so far.
    Latest,
    /// The first record with a timestamp at or after this one (ms), else the high watermark.
    Timestamp(i64),
    /// This offset, clamped to the log's range.
    Offset(i64),
}

impl Group {
    /// Kafka's commit validation, in its order.
    fn validate_commit(&self, req: &CommitRequest) -> Result<(), KafkaError> {
        if let Some(cg) = &self.consumer {
            return Group::validate_consumer_offsets(
                cg,
                &req.member_id,
                req.generation,
                req.version,
                req.transactional,
            );
        }
        if self.state == GroupState::Dead {
            return Err(ResponseError::CoordinatorNotAvailable.into());
        }
        if req.generation < 0 && self.state == GroupState::Empty {
            return Ok(());
        }
        if req.generation >= 0 || !req.member_id.is_empty() || req.instance_id.is_some() {
            self.validate_member(&req.member_id, req.instance_id.as_deref())?;
            if req.generation != self.generation {
                return Err(ResponseError::IllegalGeneration.into());
            }
        } else if req.transactional {
            return Ok(());
        } else {
            return Err(ResponseError::UnknownMemberId.into());
        }
        // Only a current member is told to wait for the assignment.
        if self.state == GroupState::CompletingRebalance && !req.transactional {
            return Err(ResponseError::RebalanceInProgress.into());
        }
        Ok(())
    }
}

impl Groups {
    /// Ends a transaction's offset commits in `group`: kept on commit, dropped on abort.
    /// Returns those that took effect: (topic, partition, offset).
    pub fn complete_transaction(
        &mut self,
        group: &str,
        producer_id: i64,
        commit: bool,
    ) -> Vec<(String, i32, i64)> {
        let Some(g) = self.groups.get_mut(group) else {
            return Vec::new();
        };
        let mut applied = Vec::new();
        if let Some(pending) = g.pending_txn_offsets.remove(&producer_id)
            && commit
        {
            for ((topic, partition), committed) in pending {
                applied.push((topic.clone(), partition, committed.offset));
                g.offsets.insert((topic, partition), committed);
            }
        }
        applied
    }

    /// Checks a commit and returns the group to store into, creating an empty group for a
    /// standalone committer. A member's commit also counts as a sign of life.
    fn group_for_commit(
        &mut self,
        req: &CommitRequest,
        now: i64,
    ) -> Result<&mut Group, KafkaError> {
        if req.group_id.is_empty() {
            return Err(ResponseError::InvalidGroupId.into());
        }
        if !self.groups.contains_key(&req.group_id) {
            if req.generation >= 0 {
                return Err(if req.version >= 9 && !req.transactional {
                    ResponseError::GroupIdNotFound.into()
                } else {
                    ResponseError::IllegalGeneration.into()
                });
            }
            return Ok(self.get_or_create(&req.group_id, now));
        }
        let group = self.groups.get_mut(&req.group_id).expect("checked");
        group.validate_commit(req)?;
        if let Some(member) = group.members.get_mut(&req.member_id) {
            member.touch(now);
        }
        Ok(group)
    }
}

/// One partition's answer to OffsetFetch: `None` when nothing is committed.
pub type FetchedOffset = (i32, Option<CommittedOffset>);

impl State {
    /// Which of `partitions` exist, in order: what a commit or an offset deletion asks of
    /// the topics, read under the state lock before the groups lock is taken.
    pub fn known_partitions<'a>(
        &self,
        partitions: impl IntoIterator<Item = (&'a str, i32)>,
    ) -> Vec<bool> {
        partitions
            .into_iter()
            .map(|(topic, partition)| self.has_partition(topic, partition))
            .collect()
    }
}

impl Groups {
    /// OffsetCommit as asked of broker `broker_id`: one result per (topic, partition), in
    /// request order. As in Kafka, unknown topics and partitions are answered
    /// UNKNOWN_TOPIC_OR_PARTITION before the group coordinator is consulted, so a commit of
    /// nothing but unknown partitions neither creates a group nor fails on its members;
    /// a group-level refusal (NOT_COORDINATOR, ILLEGAL_GENERATION, …) goes on every known
    /// partition.
    /// `known` says which of `offsets`' partitions exist.
    pub fn commit_offsets(
        &mut self,
        broker_id: i32,
        req: &CommitRequest,
        offsets: Vec<(String, i32, CommittedOffset)>,
        known: Vec<bool>,
        now: i64,
    ) -> Vec<Result<(), KafkaError>> {
        let unknown = Err(ResponseError::UnknownTopicOrPartition.into());
        if !known.contains(&true) {
            return vec![unknown; offsets.len()];
        }
        let group = self
            .check_coordinator(&req.group_id, broker_id)
            .and_then(|()| self.group_for_commit(req, now));
        let group = match group {
            Ok(group) => group,
            Err(e) => {
                return known
                    .into_iter()
                    .map(|k| if k { Err(e.clone()) } else { unknown.clone() })
                    .collect();
            }
        };
        let mut took_effect = Vec::new();
        let results = offsets
            .into_iter()
            .zip(known)
            .map(|((topic, partition, committed), known)| {
                if !known {
                    return unknown.clone();
                }
                if committed
                    .metadata
                    .as_ref()
                    .is_some_and(|m| m.encode_utf16().count() > OFFSET_METADATA_MAX_BYTES)
                {
                    return Err(ResponseError::OffsetMetadataTooLarge.into());
                }
                took_effect.push((topic.clone(), partition, committed.offset));
                group.offsets.insert((topic, partition), committed);
                Ok(())
            })
            .collect();
        let source = if req.generation >= 0 {
            CommitSource::Member {
                generation: req.generation,
                member_id: req.member_id.clone(),
            }
        } else {
            CommitSource::Standalone
        };
        self.history
            .commits(&req.group_id, took_effect, &source, now);
        results
    }

    /// TxnOffsetCommit, once the group coordinator was found and the transaction checked:
    /// the offsets wait in the group until the transaction of `producer_id` ends. The
    /// member checks are OffsetCommit's (KIP-447: a zombie of an old generation is
    /// refused); unknown partitions are UNKNOWN_TOPIC_OR_PARTITION.
    pub fn commit_transactional_offsets(
        &mut self,
        req: &CommitRequest,
        producer_id: i64,
        offsets: Vec<(String, i32, CommittedOffset)>,
        known: Vec<bool>,
        now: i64,
    ) -> Vec<Result<(), KafkaError>> {
        let group = match self.group_for_commit(req, now) {
            Ok(group) => group,
            Err(e) => return vec![Err(e); offsets.len()],
        };
        offsets
            .into_iter()
            .zip(known)
            .map(|((topic, partition, committed), known)| {
                if !known {
                    return Err(ResponseError::UnknownTopicOrPartition.into());
                }
                if committed
                    .metadata
                    .as_ref()
                    .is_some_and(|m| m.encode_utf16().count() > OFFSET_METADATA_MAX_BYTES)
                {
                    return Err(ResponseError::OffsetMetadataTooLarge.into());
                }
                group
                    .pending_txn_offsets
                    .entry(producer_id)
                    .or_default()
                    .insert((topic, partition), committed);
                Ok(())
            })
            .collect()
    }

    /// Whether an open transaction holds offsets of `group` for the partition.
    pub fn has_pending_txn_offset(&self, group_id: &str, topic: &str, partition: i32) -> bool {
        let key = (topic.to_string(), partition);
        self.get(group_id).is_some_and(|g| {
            g.pending_txn_offsets
                .values()
                .any(|offsets| offsets.contains_key(&key))
        })
    }

    /// OffsetFetch for the given partitions, or every committed partition when `topics`
    /// is `None`. An unknown group simply has nothing committed.
    pub fn fetch_offsets(
        &self,
        group_id: &str,
        topics: Option<Vec<(String, Vec<i32>)>>,
    ) -> Result<Vec<(String, Vec<FetchedOffset>)>, KafkaError> {
        let group = self.get(group_id);
        if group.is_some_and(|g| g.state == GroupState::Dead) {
            return Err(ResponseError::CoordinatorNotAvailable.into());
        }
        let committed = |topic: &str, partition: i32| {
            group.and_then(|g| g.offsets.get(&(topic.to_string(), partition)).cloned())
        };
        Ok(match topics {
            Some(topics) => topics
                .into_iter()
                .map(|(topic, partitions)| {
                    let offsets = partitions
                        .into_iter()
                        .map(|p| (p, committed(&topic, p)))
                        .collect();
                    (topic, offsets)
                })
                .collect(),
            None => {
                let mut out: Vec<(String, Vec<FetchedOffset>)> = Vec::new();
                for ((topic, partition), offset) in group.map(|g| &g.offsets).into_iter().flatten()
                {
                    match out.last_mut() {
                        Some((t, list)) if t == topic => {
                            list.push((*partition, Some(offset.clone())))
                        }
                        _ => out.push((topic.clone(), vec![(*partition, Some(offset.clone()))])),
                    }
                }
                out
            }
        })
    }

    /// OffsetDelete: forgets committed offsets of partitions no member is subscribed to.
    pub fn delete_offsets(
        &mut self,
        group_id: &str,
        partitions: Vec<(String, i32)>,
        known: Vec<bool>,
        now: i64,
    ) -> Result<Vec<Result<(), KafkaError>>, KafkaError> {
        let group = self
            .groups
            .get_mut(group_id)
            .filter(|g| g.state != GroupState::Dead)
            .ok_or(ResponseError::GroupIdNotFound)?;
        let empty = group.is_empty();
        let consumers =
            group.consumer.is_some() || group.protocol_type.as_deref() == Some("consumer");
        if !empty && !consumers {
            return Err(ResponseError::NonEmptyGroup.into());
        }
        let subscribed = if empty {
            Default::default()
        } else {
            group.subscribed_topics()
        };
        let mut deleted = Vec::new();
        let results = partitions
            .into_iter()
            .zip(known)
            .map(|((topic, partition), known)| {
                if !known {
                    return Err(ResponseError::UnknownTopicOrPartition.into());
                }
                if subscribed.contains(&topic) {
                    return Err(ResponseError::GroupSubscribedToTopic.into());
                }
                if group.offsets.remove(&(topic.clone(), partition)).is_some() {
                    deleted.push((topic, partition, -1));
                }
                Ok(())
            })
            .collect();
        self.history
            .commits(group_id, deleted, &CommitSource::Deleted, now);
        Ok(results)
    }
}

impl State {
    /// Moves a memberless group's committed offsets for every partition of `topic`
    /// (creating the group if needed), as `kafka-consumer-groups --reset-offsets` does.
    pub fn reset_group_offsets(
        &mut self,
        group_id: &str,
        topic: &str,
        to: OffsetReset,
        now: i64,
    ) -> Result<(), KafkaError> {
        let t = self
            .topics
            .get(topic)
            .ok_or_else(|| Self::unknown_topic(topic))?;
        let targets: Vec<(i32, i64)> = t
            .partitions()
            .map(|p| {
                let (start, end) = (p.log.log_start_offset(), p.high_watermark());
                let offset = match to {
                    OffsetReset::Earliest => start,
                    OffsetReset::Latest => end,
                    OffsetReset::Timestamp(ts) => p
                        .log
                        .offset_for_timestamp(ts)
                        .map_or(end, |(offset, _)| offset.clamp(start, end)),
                    OffsetReset::Offset(o) => o.clamp(start, end),
                };
                (p.index, offset)
            })
            .collect();
        let targets = targets.into_iter().map(|(p, o)| (topic.to_string(), p, o));
        self.alter_group_offsets(group_id, targets.collect(), now)?;
        tracing::info!(group = %group_id, topic, ?to, "offsets reset");
        Ok(())
    }

    /// Sets a memberless group's committed offsets, one per (topic, partition), exactly
    /// as given (creating the group if needed), as Kafka's admin `alterConsumerGroupOffsets`
    /// does. All or nothing: an unknown partition, a negative offset or a group with
    /// members changes nothing.
    pub fn alter_group_offsets(
        &mut self,
        group_id: &str,
        offsets: Vec<(String, i32, i64)>,
        now: i64,
    ) -> Result<(), KafkaError> {
        if let Some((topic, partition, _)) = offsets
            .iter()
            .find(|(topic, partition, _)| !self.has_partition(topic, *partition))
        {
            return Err(Self::unknown_topic(&format!("{topic}-{partition}")));
        }
        if let Some((topic, partition, offset)) = offsets.iter().find(|(.., o)| *o < 0) {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("offset {offset} for {topic}-{partition} is negative"),
            ));
        }
        self.groups().alter_offsets(group_id, offsets, now)
    }
}

impl Groups {
    /// [`State::alter_group_offsets`] once its partitions and offsets are checked.
    fn alter_offsets(
        &mut self,
        group_id: &str,
        offsets: Vec<(String, i32, i64)>,
        now: i64,
    ) -> Result<(), KafkaError> {
        if group_id.is_empty() {
            return Err(KafkaError::new(
                ResponseError::InvalidGroupId,
                "the group id is empty",
            ));
        }
        let group = self.get_or_create(group_id, now);
        if !group.is_empty() || !group.members.is_empty() {
            return Err(KafkaError::new(
                ResponseError::NonEmptyGroup,
                format!(
                    "group {group_id} has members ({}): offsets can only be reset while it is empty",
                    group.state_name()
                ),
            ));
        }
        for (topic, partition, offset) in &offsets {
            group.offsets.insert(
                (topic.clone(), *partition),
                CommittedOffset {
                    offset: *offset,
                    leader_epoch: -1,
                    metadata: Some(String::new()),
                    commit_timestamp: now,
                },
            );
        }
        self.history
            .commits(group_id, offsets, &CommitSource::Reset, now);
        Ok(())
    }
}

impl Groups {
    /// DeleteGroups: deletes an empty group and records its offsets as deleted.
    pub fn delete_group(&mut self, id: &str, now: i64) -> Result<(), crate::error::KafkaError> {
        let offsets: Vec<(String, i32, i64)> = self
            .get(id)
            .map(|g| g.offsets.keys().map(|(t, p)| (t.clone(), *p, -1)).collect())
            .unwrap_or_default();
        self.delete(id)?;
        self.history
            .commits(id, offsets, &CommitSource::Deleted, now);
        Ok(())
    }
}
