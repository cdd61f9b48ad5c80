//! The log cleaner: compaction of topics whose `cleanup.policy` includes `compact`, as
//! Kafka's `LogCleaner` does it, on the cluster clock.
//!
//! Every `log.cleaner.backoff.ms` (15 s, Kafka's default) the cleaner looks at each
//! compacted partition. What it may clean ends at the first of: the active segment (see
//! `SegmentLimits`: `segment.bytes`, `segment.ms`), the last stable offset, the high
//! watermark, and the first record younger than `min.compaction.lag.ms`. It cleans when
//! the dirty part (what the last cleaning did not reach) is at least
//! `min.cleanable.dirty.ratio` of that range, when the oldest dirty record has waited
//! `max.compaction.lag.ms`, or when tombstones' delete horizons have passed
//! (`delete.retention.ms`, KIP-534). How a partition is compacted is
//! `PartitionLog::compact`.
//!
//! Two differences from Kafka's cleaner: transaction markers are never cleaned away
//! (aborted records are), and a producer's last batch is not kept as an empty batch
//! once all its records are superseded — broker-sim's producer state lives outside the
//! log, so nothing needs it.
//!
//! A test need not wait for any of that: [`State::compact_now`] rolls each partition's
//! active segment and cleans everything the other bounds allow, at once.

use super::State;
use super::log::Compaction;
use super::topic::Topic;
use crate::error::KafkaError;

/// Kafka's `log.cleaner.backoff.ms`: how often the cleaner looks for work.
pub const LOG_CLEANER_BACKOFF_MS: i64 = 15_000;

/// Whether `t`'s cleanup policy includes compaction.
pub fn is_compacted(t: &Topic) -> bool {
    t.config("cleanup.policy")
        .is_some_and(|p| p.split(',').any(|p| p.trim() == "compact"))
}

/// The compaction configs of a topic, read once per cleaning.
struct CleanerConfig {
    min_lag_ms: i64,
    max_lag_ms: i64,
    min_dirty_ratio: f64,
    delete_retention_ms: i64,
}

impl CleanerConfig {
    fn of(t: &Topic) -> Self {
        let long = |name: &str, default: i64| {
            t.config(name)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .unwrap_or(default)
        };
        CleanerConfig {
            min_lag_ms: long("min.compaction.lag.ms", 0).max(0),
            max_lag_ms: long("max.compaction.lag.ms", i64::MAX),
            min_dirty_ratio: t
                .config("min.cleanable.dirty.ratio")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.5),
            delete_retention_ms: long("delete.retention.ms", 86_400_000).max(0),
        }
    }
}

impl State {
    /// The periodic cleaner run: compacts every partition of a compacted topic that is
    /// due. Returns whether any log changed.
    pub(super) fn run_cleaner(&mut self, now: i64) -> bool {
        let mut changed = false;
        for t in self.topics.values_mut() {
            if !is_compacted(t) {
                continue;
            }
            let config = CleanerConfig::of(t);
            for index in 0..t.partition_count() {
                let done = clean_partition(t, index, &config, now, false);
                changed |=
                    done.is_some_and(|d| d.batches_removed > 0 || d.bytes_after != d.bytes_before);
            }
        }
        changed
    }

    /// Compacts every partition of `topic` now, as far as the last stable offset, the high
    /// watermark and `min.compaction.lag.ms` allow: each partition's active segment is
    /// rolled first, so records a test has just written are cleaned too. Fails for a
    /// topic that does not exist or is not compacted (`cleanup.policy` without `compact`).
    pub fn compact_now(&mut self, topic: &str, now: i64) -> Result<Compaction, KafkaError> {
        let t = self.topics.get_mut(topic).ok_or_else(|| {
            KafkaError::new(
                kafka_protocol::ResponseError::UnknownTopicOrPartition,
                format!("The topic '{topic}' does not exist."),
            )
        })?;
        if !is_compacted(t) {
            return Err(KafkaError::new(
                kafka_protocol::ResponseError::InvalidRequest,
                format!("topic {topic} is not compacted: its cleanup.policy has no 'compact'"),
            ));
        }
        let config = CleanerConfig::of(t);
        let mut total = Compaction::default();
        for index in 0..t.partition_count() {
            if let Some(p) = t.partition_mut(index as i32) {
                p.log.roll(now);
            }
            if let Some(done) = clean_partition(t, index, &config, now, true) {
                total.records_removed += done.records_removed;
                total.batches_removed += done.batches_removed;
                total.bytes_before += done.bytes_before;
                total.bytes_after += done.bytes_after;
            }
        }
        Ok(total)
    }
}

/// Cleans partition `index` of `t` if it is due (always, when `forced`): `None` if it was
/// not cleaned.
fn clean_partition(
    t: &mut Topic,
    index: usize,
    config: &CleanerConfig,
    now: i64,
    forced: bool,
) -> Option<Compaction> {
    let name = t.name.clone();
    let p = t.partition_mut(index as i32)?;
    let log = &p.log;
    let mut end = log
        .active_segment_base()
        .min(p.last_stable_offset())
        .min(p.high_watermark());
    if config.min_lag_ms > 0 {
        end = end.min(log.first_younger_than(now.saturating_sub(config.min_lag_ms)));
    }
    let start = log.log_start_offset();
    if end <= start {
        return None;
    }
    if !forced {
        let dirty = log.size_between(log.cleaned_to(), end);
        let total = log.size_between(start, end);
        let ratio_due =
            total > 0 && dirty as f64 / total as f64 >= config.min_dirty_ratio && dirty > 0;
        let lag_due = log
            .oldest_dirty_timestamp(end)
            .is_some_and(|ts| ts <= now.saturating_sub(config.max_lag_ms));
        if !(ratio_due || lag_due || log.tombstones_expired(now)) {
            return None;
        }
    }
    let producers = &p.producers;
    let done = p
        .log
        .compact(end, now, config.delete_retention_ms, &|pid, offset| {
            producers.is_aborted(pid, offset)
        });
    if done.records_removed > 0 {
        tracing::info!(
            topic = %name,
            partition = p.index,
            removed = done.records_removed,
            bytes_before = done.bytes_before,
            bytes_after = done.bytes_after,
            "log cleaner compacted"
        );
        p.waiters.wake();
    }
    Some(done)
}
