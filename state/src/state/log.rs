//! One partition's log: the record batches exactly as producers sent them.
//!
//! A batch is stored as the bytes that arrived, with only its base offset and partition
//! leader epoch rewritten (both outside the CRC), so Fetch hands the same bytes back and
//! never re-encodes. Offsets are assigned at append; `log_start_offset` moves forward on
//! DeleteRecords, and whole batches below it are dropped (a batch that straddles it stays,
//! as in Kafka, and consumers skip the records before their fetch offset).

use broker_sim_protocol::batch::{self, BatchView, DecodedRecord};
use bytes::{Bytes, BytesMut};

/// A batch in the log, with the header fields the broker looks up without decoding.
#[derive(Debug, Clone)]
pub struct StoredBatch {
    pub base_offset: i64,
    pub last_offset: i64,
    pub max_timestamp: i64,
    pub is_control: bool,
    /// The cluster time it was appended: followers with a replication lag copy it that
    /// much later.
    pub appended_at: i64,
    pub bytes: Bytes,
    /// When the log cleaner may drop this batch's tombstones: set, `delete.retention.ms`
    /// ahead, the first time it cleans a batch holding any (Kafka's delete horizon,
    /// KIP-534).
    pub delete_horizon: Option<i64>,
}

/// A validated batch copied out of its request, waiting for the offsets
/// [`PartitionLog::append`] gives it.
///
/// Produce makes the copy before the state lock is taken (`prepared.rs`), so the copy and
/// the fresh pages it fills (the larger part of a produced record's cost to the broker)
/// are not paid while every other request waits. The batch is copied rather than kept in
/// the request's buffer because that buffer holds the request's other batches too, for
/// other partitions and topics with their own retention: keeping one would keep them all.
#[derive(Debug)]
pub struct OwnedBatch {
    bytes: BytesMut,
    last_offset_delta: i32,
    is_control: bool,
}

impl OwnedBatch {
    pub fn copy_of(view: &BatchView<'_>) -> Self {
        OwnedBatch {
            bytes: BytesMut::from(view.as_bytes()),
            last_offset_delta: view.last_offset_delta(),
            is_control: view.is_control(),
        }
    }
}

/// When the active segment rolls (Kafka's `segment.bytes` and `segment.ms`). Segments
/// matter only to the log cleaner, which never touches the active one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentLimits {
    pub bytes: u64,
    pub ms: i64,
}

impl Default for SegmentLimits {
    fn default() -> Self {
        SegmentLimits {
            bytes: 1 << 30,
            ms: 7 * 24 * 3_600_000,
        }
    }
}

#[derive(Debug, Default)]
pub struct PartitionLog {
    batches: Vec<StoredBatch>,
    log_start_offset: i64,
    log_end_offset: i64,
    pub segment_limits: SegmentLimits,
    /// The active segment: its base offset, when its first batch was appended, its bytes.
    active_base: i64,
    active_since: i64,
    active_bytes: u64,
    /// The cleaner's checkpoint: everything below it has been compacted once.
    cleaned_to: i64,
    /// The log's segment files in durable mode (`crate::storage`): every change below is
    /// mirrored there.
    pub files: Option<crate::storage::PartitionFiles>,
}

/// What one compaction did: records and whole batches removed, and the bytes of the
/// batches it looked at, before and after.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    pub records_removed: u64,
    pub batches_removed: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// What a read returns: whole batches, in offset order.
#[derive(Debug, Default)]
pub struct LogRead {
    pub batches: Vec<Bytes>,
    pub bytes: usize,
    /// Records in those batches (their offset spans).
    pub records: u64,
    /// The base offset of the first batch returned (0 when none is).
    pub start: i64,
    /// The offset after the last batch returned (0 when none is).
    pub end: i64,
}

impl PartitionLog {
    /// A log holding `batches` (in offset order, within `start..end`) as a snapshot kept
    /// them: `active_base` and `cleaned_to` as the segment and cleaner state were, the
    /// active segment counted as begun at `now`.
    pub fn restored(
        batches: Vec<StoredBatch>,
        (start, end): (i64, i64),
        active_base: i64,
        cleaned_to: i64,
        now: i64,
    ) -> Self {
        let mut log = PartitionLog {
            batches,
            log_start_offset: start,
            log_end_offset: end,
            segment_limits: SegmentLimits::default(),
            active_base: active_base.clamp(start, end),
            active_since: now,
            active_bytes: 0,
            cleaned_to: cleaned_to.clamp(0, end),
            files: None,
        };
        log.active_bytes = log.size_from(log.active_base);
        log
    }

    pub fn log_start_offset(&self) -> i64 {
        self.log_start_offset
    }

    /// The offset the next appended record gets (Kafka's log end offset).
    pub fn log_end_offset(&self) -> i64 {
        self.log_end_offset
    }

    /// Appends one already-validated batch, assigning it the next offsets. `max_timestamp`
    /// is the largest record timestamp (computed by validation rather than trusted from the
    /// header); with a `log_append_time`, the batch is stamped with it. `now` is the
    /// cluster time of the append. Returns the base offset assigned.
    pub fn append(
        &mut self,
        batch: OwnedBatch,
        leader_epoch: i32,
        max_timestamp: i64,
        log_append_time: Option<i64>,
        now: i64,
    ) -> i64 {
        let base_offset = self.log_end_offset;
        let OwnedBatch {
            bytes: mut owned,
            last_offset_delta,
            is_control,
        } = batch;
        batch::set_base_offset(&mut owned, base_offset);
        batch::set_partition_leader_epoch(&mut owned, leader_epoch);
        if let Some(timestamp) = log_append_time {
            batch::set_log_append_time(&mut owned, timestamp);
        }
        let last_offset = base_offset + i64::from(last_offset_delta);
        let len = owned.len() as u64;
        let limits = self.segment_limits;
        if self.active_bytes > 0
            && (self.active_bytes + len > limits.bytes
                || now.saturating_sub(self.active_since) >= limits.ms)
        {
            self.roll(now);
        }
        if self.active_bytes == 0 {
            self.active_base = base_offset;
            self.active_since = now;
        }
        self.active_bytes += len;
        if let Some(files) = &mut self.files {
            let written = files.append(self.active_base, (base_offset, last_offset), &owned, now);
            files.check("appending a batch", written);
        }
        self.batches.push(StoredBatch {
            base_offset,
            last_offset,
            max_timestamp,
            is_control,
            // Kept in order even if the system clock steps back, so lagged copies advance
            // monotonically.
            appended_at: self.batches.last().map_or(now, |b| b.appended_at.max(now)),
            bytes: owned.freeze(),
            delete_horizon: None,
        });
        self.log_end_offset = last_offset + 1;
        base_offset
    }

    /// The log end offset as it stood at cluster time `time`: what a follower that lags by
    /// `now - time` has copied.
    pub fn end_offset_at(&self, time: i64) -> i64 {
        let copied = self.batches.partition_point(|b| b.appended_at <= time);
        match copied {
            0 => self
                .batches
                .first()
                .map_or(self.log_end_offset, |b| b.base_offset),
            n => self.batches[n - 1].last_offset + 1,
        }
    }

    /// When the first batch at or after `offset` was appended, if there is one: the next
    /// moment a lagging follower at `offset` has something to copy.
    pub fn appended_at(&self, offset: i64) -> Option<i64> {
        self.batches
            .get(self.index_of(offset))
            .map(|b| b.appended_at)
    }

    /// Drops everything from `offset` on, as a replica does when it follows a new leader
    /// whose log ends there. `offset` is a batch boundary: replicas copy whole batches.
    pub fn truncate_to(&mut self, offset: i64) {
        if offset >= self.log_end_offset {
            return;
        }
        let keep = self.batches.partition_point(|b| b.base_offset < offset);
        self.batches.truncate(keep);
        if let Some(files) = &mut self.files {
            let written = files.truncate_to(offset);
            files.check("truncating the log", written);
        }
        self.log_end_offset = offset.max(self.log_start_offset);
        if self.active_base > self.log_end_offset {
            self.active_base = self.log_end_offset;
        }
        self.active_bytes = self.size_from(self.active_base);
        self.cleaned_to = self.cleaned_to.min(self.log_end_offset);
    }

    /// Closes the active segment: the next append starts a new one.
    pub fn roll(&mut self, now: i64) {
        self.active_base = self.log_end_offset;
        self.active_since = now;
        self.active_bytes = 0;
    }

    /// The base offset of the active segment, which the cleaner leaves alone.
    pub fn active_segment_base(&self) -> i64 {
        self.active_base
    }

    /// Where the last compaction ended: offsets from here on are dirty.
    pub fn cleaned_to(&self) -> i64 {
        self.cleaned_to.max(self.log_start_offset)
    }

    /// Where the cleaner's work ends: 0 for a log it never compacted.
    pub fn cleaned_through(&self) -> i64 {
        self.cleaned_to
    }

    /// The bytes of the batches holding offsets in `from..until`.
    pub fn size_between(&self, from: i64, until: i64) -> u64 {
        self.batches_from(from)
            .iter()
            .take_while(|b| b.base_offset < until)
            .map(|b| b.bytes.len() as u64)
            .sum()
    }

    fn size_from(&self, from: i64) -> u64 {
        self.size_between(from, i64::MAX)
    }

    /// The base offset of the first live batch whose newest record is younger than
    /// `min_timestamp`: what `min.compaction.lag.ms` keeps from the cleaner.
    pub fn first_younger_than(&self, min_timestamp: i64) -> i64 {
        self.batches_from(self.log_start_offset)
            .iter()
            .find(|b| b.max_timestamp > min_timestamp)
            .map_or(self.log_end_offset, |b| b.base_offset)
    }

    /// The newest record time of the first dirty batch, if any is below `until`: how long
    /// the oldest uncompacted record has waited (`max.compaction.lag.ms`).
    pub fn oldest_dirty_timestamp(&self, until: i64) -> Option<i64> {
        self.batches_from(self.cleaned_to())
            .iter()
            .take_while(|b| b.base_offset < until)
            .find(|b| !b.is_control)
            .map(|b| b.max_timestamp)
    }

    /// Whether a cleaned batch holds tombstones whose delete horizon has passed.
    pub fn tombstones_expired(&self, now: i64) -> bool {
        self.batches_from(self.log_start_offset)
            .iter()
            .take_while(|b| b.base_offset < self.cleaned_to)
            .any(|b| b.delete_horizon.is_some_and(|h| now >= h))
    }

    /// Kafka's log cleaner over the batches wholly below `end`: of each key, only the
    /// record at its latest offset stays; a tombstone (null value) stays until the delete
    /// horizon its batch got when first cleaned (`now + delete_retention_ms`) has passed;
    /// records of aborted transactions (`aborted(producer id, offset)`) and records
    /// without a key go. Kept records keep their offsets, so the log has gaps, and a batch
    /// left empty is dropped. Control batches (transaction markers) are kept.
    pub fn compact(
        &mut self,
        end: i64,
        now: i64,
        delete_retention_ms: i64,
        aborted: &dyn Fn(i64, i64) -> bool,
    ) -> Compaction {
        let start = self.log_start_offset;
        let first = self.index_of(start);
        let limit = self.batches.partition_point(|b| b.last_offset < end);
        let mut done = Compaction::default();
        if limit <= first {
            return done;
        }
        // Two passes, one batch decoded at a time, so a large log never sits decoded in
        // memory at once. First: the latest offset of every key in the cleanable range
        // (keys copied out of their batches, so no payload stays alive).
        // A batch whose records do not decode is kept whole, and counts for nothing.
        let decoded_batch = |b: &StoredBatch| -> Option<(Vec<DecodedRecord>, bool)> {
            let view = BatchView::parse(&b.bytes).ok()?;
            let records = view.records().ok()?;
            // Every record of a transactional batch belongs to one transaction.
            let aborted_batch =
                view.is_transactional() && aborted(view.producer_id(), b.base_offset);
            Some((records, aborted_batch))
        };
        let mut latest: std::collections::HashMap<Bytes, i64> = std::collections::HashMap::new();
        for b in self.batches[first..limit].iter().filter(|b| !b.is_control) {
            let Some((records, aborted_batch)) = decoded_batch(b) else {
                continue;
            };
            if aborted_batch {
                continue;
            }
            for r in records.iter().filter(|r| r.offset >= start) {
                if let Some(key) = &r.key {
                    latest.insert(Bytes::copy_from_slice(key), r.offset);
                }
            }
        }
        let horizon = now.saturating_add(delete_retention_ms);
        let mut kept_batches = Vec::with_capacity(self.batches.len());
        let old = std::mem::take(&mut self.batches);
        for (i, mut b) in old.into_iter().enumerate() {
            if i < first || i >= limit || b.is_control {
                kept_batches.push(b);
                continue;
            }
            let Some((records, aborted_batch)) = decoded_batch(&b) else {
                tracing::warn!(
                    base_offset = b.base_offset,
                    "cannot decode a stored batch; the cleaner keeps it whole"
                );
                kept_batches.push(b);
                continue;
            };
            let expired = b.delete_horizon.is_some_and(|h| now >= h);
            let keep = |r: &DecodedRecord| {
                r.offset >= start
                    && !aborted_batch
                    && r.key
                        .as_ref()
                        .is_some_and(|k| latest.get(k) == Some(&r.offset))
                    && !(r.value.is_none() && expired)
            };
            let kept = records.iter().filter(|r| keep(r)).count();
            done.bytes_before += b.bytes.len() as u64;
            done.records_removed += (records.len() - kept) as u64;
            let tombstones = records.iter().any(|r| keep(r) && r.value.is_none());
            let total = records.len();
            drop(records);
            if kept == 0 {
                done.batches_removed += 1;
                continue;
            }
            if kept < total {
                let rewritten =
                    BatchView::parse(&b.bytes).and_then(|v| batch::retain_records(&v, |r| keep(r)));
                match rewritten {
                    Ok(Some(bytes)) => {
                        b.max_timestamp =
                            BatchView::parse(&bytes).map_or(b.max_timestamp, |v| v.max_timestamp());
                        b.bytes = bytes;
                    }
                    Ok(None) => {
                        done.batches_removed += 1;
                        continue;
                    }
                    Err(e) => {
                        tracing::warn!(base_offset = b.base_offset, error = %e, "cannot compact a stored batch; kept whole");
                    }
                }
            }
            // A batch keeps a delete horizon only while it holds tombstones (KIP-534).
            b.delete_horizon = tombstones.then(|| b.delete_horizon.unwrap_or(horizon));
            done.bytes_after += b.bytes.len() as u64;
            kept_batches.push(b);
        }
        self.batches = kept_batches;
        let changed = done.records_removed > 0 || done.batches_removed > 0;
        if let Some(files) = self.files.as_mut().filter(|_| changed) {
            let batches = self
                .batches
                .iter()
                .map(|b| (b.base_offset, b.last_offset, &b.bytes));
            let written = files.rewrite(batches, self.active_base);
            files.check("rewriting a compacted log", written);
        }
        self.cleaned_to = self.cleaned_to.max(end.min(self.log_end_offset));
        self.active_bytes = self.size_from(self.active_base);
        done
    }

    /// Index of the first batch holding offsets at or after `offset`.
    fn index_of(&self, offset: i64) -> usize {
        self.batches.partition_point(|b| b.last_offset < offset)
    }

    /// Whole batches from the one holding `offset`, up to `max_bytes` and below `until`
    /// (the high watermark, or the last stable offset for read_committed). With `min_one`, the first batch is returned even if it alone is
    /// larger than `max_bytes`, so a consumer can always make progress (KIP-74).
    pub fn read(&self, offset: i64, until: i64, max_bytes: usize, min_one: bool) -> LogRead {
        let mut read = LogRead::default();
        for b in &self.batches[self.index_of(offset)..] {
            if b.base_offset >= until {
                break;
            }
            let fits = read.bytes + b.bytes.len() <= max_bytes;
            let first_of_min_one = min_one && read.batches.is_empty();
            if !fits && !first_of_min_one {
                break;
            }
            if read.batches.is_empty() {
                read.start = b.base_offset;
            }
            read.bytes += b.bytes.len();
            read.records += (b.last_offset - b.base_offset + 1) as u64;
            read.end = b.last_offset + 1;
            read.batches.push(b.bytes.clone());
        }
        read
    }

    /// The bytes of the batches below `end`: what a replica that copied up to `end` holds
    /// (DescribeLogDirs' partition size).
    pub fn size_below(&self, end: i64) -> u64 {
        self.batches
            .iter()
            .take_while(|b| b.base_offset < end)
            .map(|b| b.bytes.len() as u64)
            .sum()
    }

    /// The batches that hold records at or after `from`, for inspection.
    pub fn batches_from(&self, from: i64) -> &[StoredBatch] {
        &self.batches[self.index_of(from)..]
    }

    /// The earliest record whose timestamp is at least `timestamp`: (offset, timestamp).
    pub fn offset_for_timestamp(&self, timestamp: i64) -> Option<(i64, i64)> {
        self.batches_from(self.log_start_offset)
            .iter()
            .filter(|b| !b.is_control && b.max_timestamp >= timestamp)
            .find_map(|b| {
                decode(b)
                    .into_iter()
                    .find(|r| r.offset >= self.log_start_offset && r.timestamp >= timestamp)
                    .map(|r| (r.offset, r.timestamp))
            })
    }

    /// The record with the largest timestamp (the first such, on ties): (offset, timestamp).
    pub fn max_timestamp_record(&self) -> Option<(i64, i64)> {
        let batch = self
            .batches_from(self.log_start_offset)
            .iter()
            .filter(|b| !b.is_control)
            .reduce(|best, b| {
                if b.max_timestamp > best.max_timestamp {
                    b
                } else {
                    best
                }
            })?;
        decode(batch)
            .into_iter()
            .filter(|r| r.offset >= self.log_start_offset)
            .reduce(|best, r| {
                if r.timestamp > best.timestamp {
                    r
                } else {
                    best
                }
            })
            .map(|r| (r.offset, r.timestamp))
    }

    /// Where retention would move the log start: past the oldest batches whose newest
    /// record is older than `min_timestamp`, or whose deletion still leaves at least
    /// `max_bytes` (Kafka's `retention.ms` and `retention.bytes`, with one batch standing
    /// for one segment), but never past `limit`, the high watermark.
    pub fn retention_point(
        &self,
        min_timestamp: Option<i64>,
        max_bytes: Option<u64>,
        limit: i64,
    ) -> i64 {
        let live = self.batches_from(self.log_start_offset);
        let mut size: u64 = live.iter().map(|b| b.bytes.len() as u64).sum();
        let mut start = self.log_start_offset;
        for b in live {
            let len = b.bytes.len() as u64;
            let too_old =
                min_timestamp.is_some_and(|t| b.max_timestamp >= 0 && b.max_timestamp < t);
            let too_big = max_bytes.is_some_and(|m| size - len >= m);
            if b.last_offset >= limit || !(too_old || too_big) {
                break;
            }
            size -= len;
            start = b.last_offset + 1;
        }
        start
    }

    /// Moves the log start forward to `offset` (DeleteRecords) and drops whole batches below it.
    pub fn delete_before(&mut self, offset: i64) {
        if offset <= self.log_start_offset {
            return;
        }
        self.log_start_offset = offset;
        let keep_from = self.index_of(offset);
        self.batches.drain(..keep_from);
        if let Some(files) = &mut self.files {
            let written = files.delete_before(offset);
            files.check("deleting old segments", written);
        }
    }

    /// Every data record from the log start on, decoded.
    #[cfg(test)]
    pub fn records(&self) -> Vec<DecodedRecord> {
        self.records_with_producers()
            .into_iter()
            .map(|(r, _)| r)
            .collect()
    }

    /// Every data record from the log start on, decoded, with the producer id of its batch
    /// when the batch is transactional.
    pub fn records_with_producers(&self) -> Vec<(DecodedRecord, Option<i64>)> {
        self.batches_from(self.log_start_offset)
            .iter()
            .filter(|b| !b.is_control)
            .flat_map(|b| {
                let producer = BatchView::parse(&b.bytes)
                    .ok()
                    .filter(|v| v.is_transactional())
                    .map(|v| v.producer_id());
                decode(b).into_iter().map(move |r| (r, producer))
            })
            .filter(|(r, _)| r.offset >= self.log_start_offset)
            .collect()
    }
}

/// Decodes a stored batch. Every record was decoded once already when the batch was
/// appended, so a failure here is a broker bug; it is logged rather than hidden.
fn decode(b: &StoredBatch) -> Vec<DecodedRecord> {
    match BatchView::parse(&b.bytes).and_then(|v| v.records()) {
        Ok(records) => records,
        Err(e) => {
            tracing::warn!(base_offset = b.base_offset, error = %e, "cannot decode stored batch");
            Vec::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_sim_protocol::batch::{Codec, NewRecord, encode_batch};

    fn batch_of(values: &[&str], ts: i64) -> Bytes {
        let records: Vec<NewRecord> = values
            .iter()
            .enumerate()
            .map(|(i, v)| NewRecord {
                timestamp: ts + i as i64,
                key: None,
                value: Some(Bytes::copy_from_slice(v.as_bytes())),
                headers: vec![],
            })
            .collect();
        encode_batch(&records, Codec::None).unwrap()
    }

    fn append(log: &mut PartitionLog, values: &[&str], ts: i64) -> i64 {
        let bytes = batch_of(values, ts);
        let view = BatchView::parse(&bytes).unwrap();
        log.append(
            OwnedBatch::copy_of(&view),
            0,
            view.max_timestamp(),
            None,
            ts,
        )
    }

    #[test]
    fn append_assigns_consecutive_offsets_and_keeps_the_crc_valid() {
        let mut log = PartitionLog::default();
        assert_eq!(append(&mut log, &["a", "b"], 100), 0);
        assert_eq!(append(&mut log, &["c"], 200), 2);
        assert_eq!(log.log_end_offset(), 3);
        let read = log.read(1, 3, 1 << 20, true);
        assert_eq!(read.batches.len(), 2);
        for b in &read.batches {
            BatchView::parse(b).unwrap().verify_crc().unwrap();
        }
        let offsets: Vec<i64> = log.records().iter().map(|r| r.offset).collect();
        assert_eq!(offsets, vec![0, 1, 2]);
    }

    #[test]
    fn read_respects_max_bytes_but_returns_one_oversized_batch() {
        let mut log = PartitionLog::default();
        append(&mut log, &["a"], 1);
        append(&mut log, &["b"], 2);
        assert_eq!(log.read(0, 2, 1, true).batches.len(), 1);
        assert!(log.read(0, 2, 1, false).batches.is_empty());
        assert_eq!(log.read(0, 1, 1 << 20, true).batches.len(), 1);
    }

    #[test]
    fn timestamps_and_delete_records() {
        let mut log = PartitionLog::default();
        append(&mut log, &["a", "b"], 100); // ts 100, 101
        append(&mut log, &["c"], 50); // ts 50
        assert_eq!(log.offset_for_timestamp(101), Some((1, 101)));
        assert_eq!(log.offset_for_timestamp(102), None);
        assert_eq!(log.max_timestamp_record(), Some((1, 101)));
        log.delete_before(2);
        assert_eq!(log.log_start_offset(), 2);
        assert_eq!(log.offset_for_timestamp(0), Some((2, 50)));
        assert_eq!(log.records().len(), 1);
    }

    #[test]
    fn lagged_copies_and_truncation_follow_batch_boundaries() {
        let mut log = PartitionLog::default();
        append(&mut log, &["a", "b"], 100); // offsets 0-1 at t=100
        append(&mut log, &["c"], 200); // offset 2 at t=200
        assert_eq!(log.end_offset_at(99), 0);
        assert_eq!(log.end_offset_at(150), 2);
        assert_eq!(log.end_offset_at(200), 3);
        assert_eq!(log.appended_at(2), Some(200));
        assert_eq!(log.appended_at(3), None);
        log.truncate_to(2);
        assert_eq!(log.log_end_offset(), 2);
        assert_eq!(append(&mut log, &["d"], 300), 2);
        assert_eq!(log.records()[2].value.as_deref(), Some(&b"d"[..]));
    }

    #[test]
    fn retention_drops_old_or_excess_batches_below_the_high_watermark() {
        let mut log = PartitionLog::default();
        append(&mut log, &["a"], 100); // offset 0
        append(&mut log, &["b"], 200); // offset 1
        append(&mut log, &["c"], 300); // offset 2
        assert_eq!(log.retention_point(Some(250), None, 3), 2);
        assert_eq!(
            log.retention_point(Some(250), None, 1),
            1,
            "stops at the limit"
        );
        assert_eq!(log.retention_point(None, None, 3), 0);
        let one = log.batches_from(0)[0].bytes.len() as u64;
        assert_eq!(log.retention_point(None, Some(one), 3), 2);
        assert_eq!(log.retention_point(None, Some(2 * one), 3), 1);
    }

    fn keyed(key: &str, value: Option<&str>) -> NewRecord {
        NewRecord {
            timestamp: 100,
            key: Some(Bytes::copy_from_slice(key.as_bytes())),
            value: value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
            headers: vec![],
        }
    }

    fn append_bytes(log: &mut PartitionLog, bytes: &Bytes) -> i64 {
        let view = BatchView::parse(bytes).unwrap();
        log.append(
            OwnedBatch::copy_of(&view),
            0,
            view.max_timestamp(),
            None,
            100,
        )
    }

    #[test]
    fn compaction_drops_aborted_records_and_keeps_markers() {
        use broker_sim_protocol::batch::{
            ControlType, encode_control_batch, encode_transactional_batch,
        };
        let mut log = PartitionLog::default();
        append_bytes(
            &mut log,
            &encode_batch(&[keyed("a", Some("a1"))], Codec::None).unwrap(),
        ); // 0
        let txn = encode_transactional_batch(&[keyed("a", Some("aborted"))], Codec::None, 5, 0, 0)
            .unwrap();
        append_bytes(&mut log, &txn); // 1
        append_bytes(
            &mut log,
            &encode_control_batch(ControlType::Abort, 5, 0, 0, 100),
        ); // 2
        let done = log.compact(3, 100, 1000, &|pid, offset| pid == 5 && offset == 1);
        assert_eq!((done.records_removed, done.batches_removed), (1, 1));
        let offsets: Vec<(i64, bool)> = log
            .batches_from(0)
            .iter()
            .map(|b| (b.base_offset, b.is_control))
            .collect();
        // a1 is still the latest committed value of "a"; the marker stays.
        assert_eq!(offsets, vec![(0, false), (2, true)]);
        assert_eq!(log.cleaned_to(), 3);
        assert_eq!(log.log_end_offset(), 3);
    }

    #[test]
    fn segments_roll_on_size_and_age() {
        let mut log = PartitionLog {
            segment_limits: SegmentLimits {
                bytes: 200,
                ms: 1000,
            },
            ..PartitionLog::default()
        };
        let one = batch_of(&["x"], 0).len() as u64;
        assert!(one * 2 <= 200 && one * 3 > 200, "batch of {one} bytes");
        append(&mut log, &["x"], 0);
        append(&mut log, &["x"], 10);
        assert_eq!(log.active_segment_base(), 0);
        append(&mut log, &["x"], 20); // would pass 200 bytes: a new segment
        assert_eq!(log.active_segment_base(), 2);
        append(&mut log, &["x"], 1020); // a second after the segment began
        assert_eq!(log.active_segment_base(), 3);
    }
}
