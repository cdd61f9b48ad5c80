//! Readiness and quiescence waits: block until a group settles, a group catches up, or a
//! topic holds enough records — the conditions tests otherwise poll or sleep for.
//!
//! The commonest flaky Kafka test produces before its consumer was assigned, or asserts
//! before the consumer committed. These waits answer "is it ready yet?" from the broker's
//! own state, the moment it is true: each looks again after every answered request and
//! timer pass (`Shared::note_change`), so a wait ends within one request of its condition
//! holding, and never later than its timeout (real time, so a manual clock cannot stall a
//! test). On timeout the error says what was awaited and what the state was then.

use std::time::Duration;

use super::inspect::group_info;
use super::{Cluster, GroupInfo, Record};
use crate::state::State;
use crate::state::groups::GroupState;

/// A wait that ended before its condition held.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("timed out after {timeout:?} waiting for {awaited}; {seen}")]
pub struct WaitTimeout {
    pub timeout: Duration,
    /// What the wait waited for ("group \"billing\" Stable with 2 members").
    pub awaited: String,
    /// The state when it gave up ("it is PreparingRebalance with 1 member, generation 3").
    pub seen: String,
}

/// What [`Cluster::wait_for_group`] waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupWait {
    /// The state to reach. `Stable` also requires every member of a new-protocol group to
    /// have reconciled its assignment, so no rebalance is pending anywhere.
    pub state: GroupState,
    /// How many members the group must have then (any number when `None`).
    pub members: Option<usize>,
}

impl GroupWait {
    /// Stable, with exactly `members` members, all assigned.
    pub fn stable(members: usize) -> Self {
        GroupWait {
            state: GroupState::Stable,
            members: Some(members),
        }
    }

    /// In `state`, with any number of members (`Empty` after every consumer left).
    pub fn state(state: GroupState) -> Self {
        GroupWait {
            state,
            members: None,
        }
    }

    fn holds(&self, group: &GroupInfo) -> bool {
        group.state == self.state
            && self.members.is_none_or(|n| group.members.len() == n)
            && (self.state != GroupState::Stable
                || group
                    .members
                    .iter()
                    .all(|m| m.member_state.as_deref().is_none_or(|s| s == "stable")))
    }

    fn describe(&self, group: &str) -> String {
        match self.members {
            Some(n) => format!("group {group:?} {} with {n} members", self.state.as_str()),
            None => format!("group {group:?} {}", self.state.as_str()),
        }
    }
}

/// One partition's committed offset and how far it is behind the partition's end
/// ([`Cluster::group_lag`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PartitionLag {
    pub topic: String,
    pub partition: i32,
    /// `None` while the group has committed nothing here.
    pub committed: Option<i64>,
    /// The high watermark: where the next record will go.
    pub end_offset: i64,
    /// `end_offset` − committed (or − the log start offset when nothing is committed);
    /// never negative.
    pub lag: i64,
}

impl Cluster {
    /// Blocks until `group` is as `wait` says (see [`GroupWait::stable`]) and returns it,
    /// or fails after `timeout` with the group's state then.
    pub fn wait_for_group(
        &self,
        group: &str,
        wait: GroupWait,
        timeout: Duration,
    ) -> Result<GroupInfo, WaitTimeout> {
        self.shared().wait_until(
            timeout,
            |state| group_info(state, group).filter(|g| wait.holds(g)),
            |state| WaitTimeout {
                timeout,
                awaited: wait.describe(group),
                seen: match group_info(state, group) {
                    None => "the group does not exist".to_string(),
                    Some(g) => format!(
                        "it is {} with {} members, generation {}",
                        g.state.as_str(),
                        g.members.len(),
                        g.generation
                    ),
                },
            },
        )
    }

    /// The group's lag on every partition it has committed to or its members own — with
    /// `topic`, on every partition of that topic instead; by topic then partition. `None`
    /// if there is no such group.
    pub fn group_lag(&self, group: &str, topic: Option<&str>) -> Option<Vec<PartitionLag>> {
        lag(&self.shared().read(), group, topic)
    }

    /// Blocks until the group's total lag ([`Cluster::group_lag`], with `topic` if given)
    /// is at most `max_lag` — `0`: it has committed everything there is — and returns the
    /// lag per partition; fails after `timeout`, also while the group does not exist.
    pub fn wait_for_lag(
        &self,
        group: &str,
        topic: Option<&str>,
        max_lag: i64,
        timeout: Duration,
    ) -> Result<Vec<PartitionLag>, WaitTimeout> {
        let total = |lags: &[PartitionLag]| lags.iter().map(|l| l.lag).sum::<i64>();
        let on = topic.map(|t| format!(" on {t:?}")).unwrap_or_default();
        self.shared().wait_until(
            timeout,
            |state| lag(state, group, topic).filter(|l| total(l) <= max_lag),
            |state| WaitTimeout {
                timeout,
                awaited: format!("group {group:?} to lag at most {max_lag}{on}"),
                seen: match lag(state, group, topic) {
                    None => "the group does not exist".to_string(),
                    Some(l) => format!("its lag is {}", total(&l)),
                },
            },
        )
    }

    /// Blocks until `topic` holds at least `n` records (transaction markers are not
    /// records) and returns them all, as [`Cluster::records`] does; fails after
    /// `timeout`, also while the topic does not exist.
    pub fn wait_for_records(
        &self,
        topic: &str,
        n: usize,
        timeout: Duration,
    ) -> Result<Vec<Record>, WaitTimeout> {
        self.wait_for_partition_records(topic, None, n, timeout)?;
        Ok(self.records(topic))
    }

    /// [`Cluster::wait_for_records`] counting one partition, or all with `None`; returns
    /// the count seen.
    pub fn wait_for_partition_records(
        &self,
        topic: &str,
        partition: Option<i32>,
        n: usize,
        timeout: Duration,
    ) -> Result<usize, WaitTimeout> {
        let at = partition
            .map(|p| format!(" partition {p}"))
            .unwrap_or_default();
        self.shared().wait_until(
            timeout,
            |state| record_count(state, topic, partition).filter(|&c| c >= n),
            |state| WaitTimeout {
                timeout,
                awaited: format!("{n} records in {topic:?}{at}"),
                seen: match record_count(state, topic, partition) {
                    None => "the topic or partition does not exist".to_string(),
                    Some(c) => format!("it holds {c}"),
                },
            },
        )
    }
}

/// Records stored in the topic (or one partition), counted from batch headers without
/// decoding them.
fn record_count(state: &State, topic: &str, partition: Option<i32>) -> Option<usize> {
    let t = state.topic(topic)?;
    let count = |p: &crate::state::topic::Partition| -> usize {
        p.log
            .batches_from(p.log.log_start_offset())
            .iter()
            .filter(|b| !b.is_control)
            .filter_map(|b| broker_sim_protocol::batch::BatchView::parse(&b.bytes).ok())
            .map(|v| v.records_count().max(0) as usize)
            .sum()
    };
    match partition {
        Some(p) => t.partition(p).map(|p| count(&p)),
        None => Some(t.partitions().map(|p| count(&p)).sum()),
    }
}

fn lag(state: &State, group: &str, topic: Option<&str>) -> Option<Vec<PartitionLag>> {
    let info = group_info(state, group)?;
    // With a topic: that topic's partitions, committed to or not; without: what the group
    // committed to or owns.
    let partitions: std::collections::BTreeSet<(String, i32)> = match topic {
        Some(name) => {
            let count = state.topic(name).map_or(0, |t| t.partition_count() as i32);
            (0..count).map(|p| (name.to_string(), p)).collect()
        }
        None => info
            .offsets
            .iter()
            .map(|o| (o.topic.clone(), o.partition))
            .chain(info.members.iter().flat_map(|m| m.partitions()))
            .collect(),
    };
    Some(
        partitions
            .into_iter()
            .filter_map(|(topic, partition)| {
                let p = state.topic(&topic)?.partition(partition)?;
                let end_offset = p.high_watermark();
                let committed = info.offset(&topic, partition);
                let from = committed.unwrap_or_else(|| p.log.log_start_offset());
                Some(PartitionLag {
                    topic,
                    partition,
                    committed,
                    end_offset,
                    lag: (end_offset - from).max(0),
                })
            })
            .collect(),
    )
}
