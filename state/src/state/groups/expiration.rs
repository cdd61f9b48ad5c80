//! Offset expiration and group cleanup: Kafka 4.1's periodic `cleanupGroupMetadata`,
//! run every `offsets.retention.check.interval.ms` of the cluster clock (`State::tick`).
//!
//! Without it every group a client ever named would stay forever, offsets and all. The
//! rules are Kafka's (`OffsetMetadataManager.cleanupExpiredOffsets`, the groups'
//! `offsetExpirationCondition`), with `offsets.retention.minutes` as the retention:
//!
//! - a classic group without members (Empty) that had a protocol type: every offset
//!   expires once the retention has passed since the group became Empty;
//! - a group that never had members (offsets committed standalone, or by an admin
//!   reset): each offset expires once the retention has passed since its commit;
//! - a classic consumer-protocol group that is Stable, and a consumer group of the new
//!   protocol (KIP-848) whatever its state: offsets of topics no member subscribes to
//!   expire the retention after their commit, the others stay;
//! - a classic group rebalancing, or with a non-consumer protocol and members: nothing
//!   expires.
//!
//! An offset with a transactional commit pending for its partition stays until the
//! transaction ends. Once all of a group's offsets are gone (or it never had any), a group
//! without members and without an open transaction is deleted, as Kafka writes its
//! tombstone: it leaves ListGroups, and its memory is returned.

use std::collections::BTreeSet;

use super::{Group, GroupState, Groups};
use crate::state::history::CommitSource;

/// What a check removed from one group.
pub(super) struct Expired {
    group: String,
    pub offsets: Vec<(String, i32)>,
    pub deleted: bool,
}

/// What an offset's age counts from.
enum Base {
    /// Its commit.
    Commit,
    /// The moment the group became Empty.
    Empty(i64),
}

impl Group {
    /// What offsets' ages count from under Kafka's expiration condition for this group;
    /// `None` when no offset of the group may expire now.
    fn expiration_base(&self) -> Option<Base> {
        match (&self.consumer, self.protocol_type.as_deref()) {
            (Some(_), _) | (None, None) => Some(Base::Commit),
            (None, Some(_)) if self.state == GroupState::Empty => {
                Some(Base::Empty(self.state_since))
            }
            (None, Some("consumer")) if self.state == GroupState::Stable => Some(Base::Commit),
            (None, Some(_)) => None,
        }
    }

    /// Removes this group's expired offsets; returns them, and whether every offset is
    /// gone and no transaction holds any (the group may then be deleted if it is empty).
    fn expire_offsets(&mut self, now: i64, retention_ms: i64) -> (Vec<(String, i32)>, bool) {
        let Some(base) = self.expiration_base() else {
            return (Vec::new(), self.offsets.is_empty());
        };
        let subscribed: BTreeSet<String> = if self.is_empty() {
            BTreeSet::new()
        } else {
            self.subscribed_topics()
        };
        let pending: BTreeSet<&(String, i32)> = self
            .pending_txn_offsets
            .values()
            .flat_map(|offsets| offsets.keys())
            .collect();
        let expired: Vec<(String, i32)> = self
            .offsets
            .iter()
            .filter(|((topic, _), committed)| {
                let since = match base {
                    Base::Commit => committed.commit_timestamp,
                    Base::Empty(at) => at,
                };
                !subscribed.contains(topic) && now.saturating_sub(since) >= retention_ms
            })
            .map(|(key, _)| key)
            .filter(|key| !pending.contains(key))
            .cloned()
            .collect();
        for key in &expired {
            self.offsets.remove(key);
        }
        let all_gone = self.offsets.is_empty() && self.pending_txn_offsets.is_empty();
        (expired, all_gone)
    }
}

impl Groups {
    /// One run of Kafka's group cleanup at `now` (see the module doc).
    pub(super) fn expire(&mut self, now: i64) -> Vec<Expired> {
        let retention_ms = self.config.offsets_retention_ms;
        let mut removed = Vec::new();
        for group in self.groups.values_mut() {
            let (offsets, all_gone) = group.expire_offsets(now, retention_ms);
            let deleted = all_gone && group.is_empty();
            if deleted || !offsets.is_empty() {
                removed.push(Expired {
                    group: group.id.clone(),
                    offsets,
                    deleted,
                });
            }
        }
        for e in removed.iter().filter(|e| e.deleted) {
            self.groups.remove(&e.group);
        }
        removed
    }
}

impl Groups {
    /// Removes expired offsets and the empty groups left without any (see the module
    /// doc); the offsets are recorded as deleted in the cluster's history.
    pub fn expire_group_offsets(&mut self, now: i64) {
        let removed = self.expire(now);
        let (mut offsets, mut groups) = (0, 0);
        for e in removed {
            offsets += e.offsets.len();
            groups += usize::from(e.deleted);
            let gone = e.offsets.into_iter().map(|(t, p)| (t, p, -1));
            self.history
                .commits(&e.group, gone, &CommitSource::Deleted, now);
        }
        if offsets > 0 || groups > 0 {
            tracing::info!(offsets, groups, "expired offsets and removed empty groups");
        }
    }
}
