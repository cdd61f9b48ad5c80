//! The leader-epoch cache of one partition: at which offset each leader epoch began.
//!
//! Kafka's `LeaderEpochFileCache`. Every time a partition gets a new leader epoch, the
//! epoch is recorded with the log end offset of that moment, so the log reads as a
//! sequence of (epoch, start offset) ranges. OffsetForLeaderEpoch answers from it, and
//! clients use that answer after a leader change to learn whether the log they read was
//! truncated below their position (KIP-320): the end offset of epoch E is where the next
//! known epoch began, or the log end offset for the latest epoch.
//!
//! Entries stay monotonic in both epoch and start offset: assigning an entry removes every
//! later one whose epoch or start offset is not below the new one's, as Kafka does (an
//! epoch in which nothing was written is thereby replaced by the next one at the same
//! offset).
//!
//! Difference from Kafka: a Kafka follower's cache only holds epochs of batches it copied,
//! while broker-sim keeps one cache per partition (the leader's), so every replica answers
//! as the leader would. Only the leader answers OffsetForLeaderEpoch anyway.

/// Kafka's "no epoch" answer.
pub const UNDEFINED_EPOCH: i32 = -1;
/// Kafka's "no offset" answer that goes with it.
pub const UNDEFINED_EPOCH_OFFSET: i64 = -1;

/// One leader epoch and the first offset written in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochEntry {
    pub epoch: i32,
    pub start_offset: i64,
}

/// (epoch, start offset) entries, ascending in both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeaderEpochCache {
    pub(super) entries: Vec<EpochEntry>,
}

impl LeaderEpochCache {
    /// A cache whose first epoch `epoch` starts at `start_offset`; a new partition starts
    /// with (0, 0).
    pub fn new(epoch: i32, start_offset: i64) -> Self {
        let mut cache = LeaderEpochCache::default();
        cache.assign(epoch, start_offset);
        cache
    }

    /// Records that `epoch` starts at `start_offset` (the log end offset when the leader
    /// took over). Re-assigning the latest epoch at the same or a later offset changes
    /// nothing; negative values are ignored (Kafka refuses them as a bug).
    pub fn assign(&mut self, epoch: i32, start_offset: i64) {
        if epoch < 0 || start_offset < 0 {
            tracing::warn!(
                epoch,
                start_offset,
                "ignoring an invalid leader epoch entry"
            );
            return;
        }
        if let Some(latest) = self.entries.last()
            && latest.epoch == epoch
            && start_offset >= latest.start_offset
        {
            return;
        }
        while self
            .entries
            .last()
            .is_some_and(|e| e.epoch >= epoch || e.start_offset >= start_offset)
        {
            self.entries.pop();
        }
        self.entries.push(EpochEntry {
            epoch,
            start_offset,
        });
    }

    /// Kafka's `endOffsetFor`: for `requested`, the largest known epoch at or below it and
    /// that epoch's end offset (the start of the next known epoch, or `log_end_offset` for
    /// the latest). An epoch below every known one answers (requested, start of the first
    /// known epoch), since the log before it is gone; -1, an epoch above every known one and
    /// an empty cache answer ([`UNDEFINED_EPOCH`], [`UNDEFINED_EPOCH_OFFSET`]).
    pub fn end_offset_for(&self, requested: i32, log_end_offset: i64) -> (i32, i64) {
        const UNDEFINED: (i32, i64) = (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET);
        if requested == UNDEFINED_EPOCH {
            return UNDEFINED;
        }
        if self.latest().is_some_and(|e| e.epoch == requested) {
            return (requested, log_end_offset);
        }
        let higher = self.entries.partition_point(|e| e.epoch <= requested);
        let Some(next) = self.entries.get(higher) else {
            return UNDEFINED;
        };
        match higher.checked_sub(1).map(|i| self.entries[i]) {
            Some(floor) => (floor.epoch, next.start_offset),
            None => (requested, next.start_offset),
        }
    }

    /// Removes the entries starting at or after `offset`, as the log was truncated there.
    pub fn truncate_from(&mut self, offset: i64) {
        if offset < 0 {
            return;
        }
        while self
            .entries
            .last()
            .is_some_and(|e| e.start_offset >= offset)
        {
            self.entries.pop();
        }
    }

    /// Kafka's `truncateFromStart`, for a log start offset moved to `offset`
    /// (DeleteRecords): entries starting at or before it collapse into one, the latest of
    /// them, now starting at `offset`.
    pub fn truncate_to_start(&mut self, offset: i64) {
        let gone = self.entries.partition_point(|e| e.start_offset <= offset);
        if gone == 0 {
            return;
        }
        let epoch = self.entries[gone - 1].epoch;
        self.entries.drain(..gone);
        self.entries.insert(
            0,
            EpochEntry {
                epoch,
                start_offset: offset,
            },
        );
    }

    pub fn latest(&self) -> Option<EpochEntry> {
        self.entries.last().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cache(entries: &[(i32, i64)]) -> LeaderEpochCache {
        let mut c = LeaderEpochCache::default();
        for &(epoch, start) in entries {
            c.assign(epoch, start);
        }
        c
    }

    fn pairs(c: &LeaderEpochCache) -> Vec<(i32, i64)> {
        c.entries
            .iter()
            .map(|e| (e.epoch, e.start_offset))
            .collect()
    }

    #[test]
    fn latest_epoch_ends_at_the_log_end_and_older_ones_where_the_next_began() {
        let c = cache(&[(0, 0), (1, 5), (3, 10)]);
        assert_eq!(c.end_offset_for(3, 12), (3, 12));
        assert_eq!(c.end_offset_for(0, 12), (0, 5));
        assert_eq!(c.end_offset_for(1, 12), (1, 10));
        // An epoch nobody led in answers for the largest epoch below it.
        assert_eq!(c.end_offset_for(2, 12), (1, 10));
    }

    #[test]
    fn undefined_answers() {
        let c = cache(&[(2, 5), (3, 10)]);
        assert_eq!(c.end_offset_for(-1, 12), (-1, -1));
        assert_eq!(c.end_offset_for(4, 12), (-1, -1));
        assert_eq!(LeaderEpochCache::default().end_offset_for(0, 12), (-1, -1));
        // Below the earliest known epoch: the requested epoch, ending where the first began.
        assert_eq!(c.end_offset_for(1, 12), (1, 5));
    }

    #[test]
    fn assign_keeps_entries_monotonic() {
        // Re-assigning the latest epoch later is a no-op; earlier moves it back.
        let mut c = cache(&[(0, 0), (1, 5)]);
        c.assign(1, 7);
        assert_eq!(pairs(&c), [(0, 0), (1, 5)]);
        // An epoch in which nothing was written is replaced by the next at that offset.
        c.assign(2, 5);
        assert_eq!(pairs(&c), [(0, 0), (2, 5)]);
        // A lower epoch removes every entry at or above it.
        c.assign(1, 8);
        assert_eq!(pairs(&c), [(0, 0), (1, 8)]);
        c.assign(-1, 3);
        assert_eq!(pairs(&c), [(0, 0), (1, 8)]);
        assert_eq!(pairs(&LeaderEpochCache::new(0, 0)), [(0, 0)]);
    }

    #[test]
    fn truncation_from_the_end_and_from_the_start() {
        let mut c = cache(&[(0, 0), (1, 5), (2, 10)]);
        c.truncate_from(10);
        assert_eq!(pairs(&c), [(0, 0), (1, 5)]);
        c.truncate_from(6);
        assert_eq!(pairs(&c), [(0, 0), (1, 5)]);
        c.assign(3, 6);
        c.truncate_to_start(5);
        assert_eq!(pairs(&c), [(1, 5), (3, 6)]);
        c.truncate_to_start(7);
        assert_eq!(pairs(&c), [(3, 7)]);
        assert_eq!(c.end_offset_for(1, 9), (1, 7));
    }
}
