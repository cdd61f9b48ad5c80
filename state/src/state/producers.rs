//! Idempotent producer state of one partition: what makes a retried batch land once.
//!
//! An idempotent (or transactional) producer stamps each batch with its producer id, its
//! epoch and the sequence number of the batch's first record; sequences count records per
//! partition and wrap from `i32::MAX` to 0. Per producer id, Kafka's partition leader keeps
//! the current epoch and the last five batches appended (first and last sequence, first
//! and last offset, timestamp) — `ProducerStateEntry` with `NUM_BATCHES_TO_RETAIN = 5` —
//! and checks every client batch against them before it is written
//! (`UnifiedLog.analyzeAndValidateProducerState`, then `ProducerAppendInfo`):
//!
//! 1. No producer id (-1): none of this applies.
//! 2. A negative base sequence with a producer id is INVALID_RECORD (`LogValidator`).
//! 3. Duplicate: same epoch as the producer's current one and exactly the (first, last)
//!    sequence range of one of the five retained batches. It is acknowledged with that
//!    batch's original offsets and not written again. A retry of an older batch is no
//!    longer recognised and falls through to the sequence check below, which refuses it.
//! 4. Epoch older than the current one: INVALID_PRODUCER_EPOCH.
//! 5. Newer epoch: its first batch must start at sequence 0, unless the producer had no
//!    epoch yet; else OUT_OF_ORDER_SEQUENCE_NUMBER.
//! 6. Same epoch: the first sequence must follow the last retained one (last + 1, or 0
//!    after `i32::MAX`); else OUT_OF_ORDER_SEQUENCE_NUMBER.
//! 7. A producer id this partition has no state for is accepted at any sequence: its
//!    state may have been removed (retention, DeleteRecords, expiry), and since KIP-360
//!    Kafka no longer answers UNKNOWN_PRODUCER_ID for that.
//!
//! Transactional batches are checked the same way, and then (Kafka's `ProducerAppendInfo`):
//!
//! 8. A producer's first transactional batch opens its transaction on this partition at
//!    the batch's base offset; while it is open, a non-transactional batch of the same
//!    producer is INVALID_TXN_STATE.
//! 9. The transaction coordinator's marker (a control batch, `append_marker`) closes it:
//!    a marker of an older epoch than the producer's is INVALID_PRODUCER_EPOCH, one of an
//!    older coordinator epoch TRANSACTION_COORDINATOR_FENCED. A marker of a newer epoch
//!    (transaction version 2 bumps the epoch at every commit or abort) becomes the
//!    producer's epoch, whose sequences start again at 0.
//!
//! The transactions kept here decide what read_committed consumers see: the last stable
//! offset (LSO) is the first offset of the oldest transaction that is still open, or whose
//! marker is not yet below the high watermark, and never past the high watermark; the
//! aborted-transaction index lists every aborted transaction's first and last (marker)
//! offset, which Fetch hands to read_committed consumers so they drop those records.
//!
//! Differences from Kafka: producer ids never expire (`producer.id.expiration.ms`), and a
//! log truncation drops the retained batches, transactions and aborted-index entries at or
//! after the truncation point instead of rebuilding the state from a snapshot. A producer left with no retained batch is
//! forgotten, and so accepted at any sequence, where Kafka would still expect the
//! sequence after its last surviving batch; a well-behaved producer's retry starts there
//! anyway.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use broker_sim_protocol::batch::BatchView;
use kafka_protocol::ResponseError;
use serde::{Deserialize, Serialize};

use crate::error::KafkaError;

/// How many of a producer's most recent batches are kept for duplicate detection (Kafka's
/// `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`, which is also why producers allow at most
/// five in-flight requests with idempotence on).
pub const BATCHES_TO_RETAIN: usize = 5;

/// The producer id of batches from producers without idempotence.
pub const NO_PRODUCER_ID: i64 = -1;

/// The producer fields of a batch header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerBatch {
    pub producer_id: i64,
    pub epoch: i16,
    pub first_seq: i32,
    pub last_seq: i32,
    pub transactional: bool,
}

impl ProducerBatch {
    pub fn of(view: &BatchView<'_>) -> Self {
        ProducerBatch {
            producer_id: view.producer_id(),
            epoch: view.producer_epoch(),
            first_seq: view.base_sequence(),
            last_seq: last_sequence(view.base_sequence(), view.last_offset_delta()),
            transactional: view.is_transactional(),
        }
    }

    /// Whether the batch comes from an idempotent or transactional producer (Kafka's
    /// `RecordBatch.hasProducerId`).
    pub fn has_producer_id(&self) -> bool {
        self.producer_id > NO_PRODUCER_ID
    }
}

/// The sequence of a batch's last record: `base + delta`, wrapping past `i32::MAX` to 0 as
/// Kafka's `DefaultRecordBatch.incrementSequence` does.
///
/// In Java's `int` arithmetic, which wraps: a corrupt batch (a negative delta) must not
/// panic here; the append's checks refuse it afterwards.
pub fn last_sequence(base: i32, delta: i32) -> i32 {
    if base > i32::MAX.wrapping_sub(delta) {
        delta
            .wrapping_sub(i32::MAX.wrapping_sub(base))
            .wrapping_sub(1)
    } else {
        base.wrapping_add(delta)
    }
}

/// Whether `next` directly follows `last`, with the wrap from `i32::MAX` to 0.
fn in_sequence(last: i32, next: i32) -> bool {
    i64::from(next) == i64::from(last) + 1 || (next == 0 && last == i32::MAX)
}

/// One retained batch of a producer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMetadata {
    pub first_seq: i32,
    pub last_seq: i32,
    pub base_offset: i64,
    pub last_offset: i64,
    /// The batch's max timestamp as appended (the broker's time on LogAppendTime topics).
    /// Kafka answers a duplicate with it as the log append time, whatever the topic's
    /// timestamp type.
    pub timestamp: i64,
}

/// What the partition knows of one producer id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerEntry {
    pub epoch: i16,
    /// Oldest first; at most [`BATCHES_TO_RETAIN`], all of `epoch`.
    batches: VecDeque<BatchMetadata>,
    /// The first offset of the producer's open transaction here, if one is open.
    pub txn_first_offset: Option<i64>,
    /// The epoch of the coordinator that wrote the producer's last marker (-1: none).
    pub coordinator_epoch: i32,
    /// The timestamp of the producer's last batch or marker.
    pub last_timestamp: i64,
}

impl ProducerEntry {
    /// The retained batches, oldest first.
    #[cfg(test)]
    pub fn batches(&self) -> impl Iterator<Item = &BatchMetadata> {
        self.batches.iter()
    }

    /// The sequence of the last record appended, if any batch is retained.
    pub fn last_seq(&self) -> Option<i32> {
        self.batches.back().map(|b| b.last_seq)
    }
}

/// The outcome of [`ProducerStates::check`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Write the batch, then [`ProducerStates::record`] it.
    Append,
    /// A retry of a batch already in the log: answer with its offsets, write nothing.
    Duplicate(BatchMetadata),
}

/// A transaction whose marker is in the log, as the partition remembers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedTxn {
    pub producer_id: i64,
    /// Its first record here.
    pub first_offset: i64,
    /// Its marker.
    pub last_offset: i64,
    pub aborted: bool,
}

/// Per producer id, its epoch and last batches on one partition; the partition's open
/// transactions and its aborted-transaction index. A snapshot holds it in its serde form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerStates {
    producers: BTreeMap<i64, ProducerEntry>,
    /// (first offset, producer id) of every open transaction, oldest first.
    open: BTreeSet<(i64, i64)>,
    /// Completed transactions whose marker may not be below the high watermark yet: they
    /// hold the LSO back until it is (Kafka's `unreplicatedTxns`).
    unreplicated: VecDeque<CompletedTxn>,
    /// Every aborted transaction still in the log, in marker order.
    aborted: Vec<CompletedTxn>,
}

impl ProducerStates {
    /// Checks a client's batch before it is appended, with Kafka's rules in Kafka's order
    /// (see the module doc).
    pub fn check(&self, b: &ProducerBatch) -> Result<Check, KafkaError> {
        if !b.has_producer_id() {
            return Ok(Check::Append);
        }
        if b.first_seq < 0 {
            return Err(KafkaError::new(
                ResponseError::InvalidRecord,
                format!(
                    "batch of producer {} has a negative base sequence {}",
                    b.producer_id, b.first_seq
                ),
            ));
        }
        let Some(entry) = self.producers.get(&b.producer_id) else {
            return Ok(Check::Append);
        };
        if b.epoch == entry.epoch
            && let Some(original) = entry
                .batches
                .iter()
                .find(|m| m.first_seq == b.first_seq && m.last_seq == b.last_seq)
        {
            return Ok(Check::Duplicate(*original));
        }
        if b.epoch < entry.epoch {
            // A zombie: an instance of the producer that has since been replaced (its epoch
            // bumped) is still writing.
            return Err(KafkaError::new(
                ResponseError::InvalidProducerEpoch,
                format!(
                    "producer {} wrote with epoch {}, but its current epoch here is {}",
                    b.producer_id, b.epoch, entry.epoch
                ),
            ));
        }
        if b.epoch > entry.epoch {
            // A bumped epoch resets the sequence: anything but 0 means batches of the new
            // epoch went missing before this one.
            if b.first_seq != 0 && entry.epoch != -1 {
                return Err(out_of_order(format!(
                    "producer {} starts epoch {} (was {}) at sequence {}, not 0",
                    b.producer_id, b.epoch, entry.epoch, b.first_seq
                )));
            }
            return Ok(Check::Append);
        }
        match entry.last_seq() {
            // A gap (a lost batch) or a retry too old to be recognised as a duplicate.
            Some(last) if entry.epoch != -1 && !in_sequence(last, b.first_seq) => {
                return Err(out_of_order(format!(
                    "producer {} sent sequence {} after {last} (epoch {})",
                    b.producer_id, b.first_seq, b.epoch
                )));
            }
            // No epoch yet (-1): Kafka accepts any sequence.
            _ => {}
        }
        if entry.txn_first_offset.is_some() && !b.transactional {
            return Err(KafkaError::new(
                ResponseError::InvalidTxnState,
                format!(
                    "Expected transactional write from producer {} at offset {}",
                    b.producer_id,
                    entry.txn_first_offset.unwrap_or_default()
                ),
            ));
        }
        Ok(Check::Append)
    }

    /// The epoch this partition knows for `producer_id`.
    pub fn epoch_of(&self, producer_id: i64) -> Option<i16> {
        self.producers.get(&producer_id).map(|e| e.epoch)
    }

    /// Whether `producer_id` has a transaction open here.
    pub fn in_transaction(&self, producer_id: i64) -> bool {
        self.producers
            .get(&producer_id)
            .is_some_and(|e| e.txn_first_offset.is_some())
    }

    /// Remembers a batch [`check`](Self::check) let through, once it is in the log at
    /// `base_offset..=last_offset`. A new epoch forgets the batches of the old one.
    pub fn record(
        &mut self,
        b: &ProducerBatch,
        base_offset: i64,
        last_offset: i64,
        timestamp: i64,
    ) {
        if !b.has_producer_id() {
            return;
        }
        let entry = self.entry(b.producer_id, b.epoch);
        entry.last_timestamp = timestamp;
        if b.transactional && entry.txn_first_offset.is_none() {
            entry.txn_first_offset = Some(base_offset);
            self.open.insert((base_offset, b.producer_id));
        }
        let entry = self.entry(b.producer_id, b.epoch);
        if entry.batches.len() == BATCHES_TO_RETAIN {
            entry.batches.pop_front();
        }
        entry.batches.push_back(BatchMetadata {
            first_seq: b.first_seq,
            last_seq: b.last_seq,
            base_offset,
            last_offset,
            timestamp,
        });
    }

    /// The producer's entry, created at `epoch` if new; a new epoch forgets the batches
    /// of the old one.
    fn entry(&mut self, producer_id: i64, epoch: i16) -> &mut ProducerEntry {
        let entry = self
            .producers
            .entry(producer_id)
            .or_insert_with(|| ProducerEntry {
                epoch,
                batches: VecDeque::with_capacity(BATCHES_TO_RETAIN),
                txn_first_offset: None,
                coordinator_epoch: -1,
                last_timestamp: -1,
            });
        if entry.epoch != epoch {
            entry.epoch = epoch;
            entry.batches.clear();
        }
        entry
    }

    /// Checks a transaction marker of `producer_id` before it is appended (rule 9 of the
    /// module doc).
    pub fn check_marker(
        &self,
        producer_id: i64,
        epoch: i16,
        coordinator_epoch: i32,
    ) -> Result<(), KafkaError> {
        let Some(entry) = self.producers.get(&producer_id) else {
            return Ok(());
        };
        if epoch < entry.epoch {
            return Err(KafkaError::new(
                ResponseError::InvalidProducerEpoch,
                format!(
                    "transaction marker of producer {producer_id} has epoch {epoch}, older than its current epoch {}",
                    entry.epoch
                ),
            ));
        }
        if coordinator_epoch < entry.coordinator_epoch {
            return Err(KafkaError::new(
                ResponseError::TransactionCoordinatorFenced,
                format!(
                    "transaction marker of producer {producer_id} comes from coordinator epoch {coordinator_epoch}, older than {}",
                    entry.coordinator_epoch
                ),
            ));
        }
        Ok(())
    }

    /// Records a marker [`check_marker`](Self::check_marker) let through, appended at
    /// `offset`: the producer's transaction here (if any) is complete.
    pub fn record_marker(
        &mut self,
        producer_id: i64,
        epoch: i16,
        coordinator_epoch: i32,
        offset: i64,
        aborted: bool,
        timestamp: i64,
    ) -> CompletedTxn {
        let entry = self.entry(producer_id, epoch);
        entry.coordinator_epoch = coordinator_epoch;
        entry.last_timestamp = timestamp;
        let first_offset = entry.txn_first_offset.take();
        if let Some(first) = first_offset {
            self.open.remove(&(first, producer_id));
        }
        let txn = CompletedTxn {
            producer_id,
            first_offset: first_offset.unwrap_or(offset),
            last_offset: offset,
            aborted,
        };
        self.unreplicated.push_back(txn);
        if aborted {
            self.aborted.push(txn);
        }
        txn
    }

    /// The first offset a read_committed consumer may not read yet, given the high
    /// watermark: the LSO (see the module doc).
    pub fn last_stable_offset(&self, high_watermark: i64) -> i64 {
        let open = self.open.first().map(|(first, _)| *first);
        let unreplicated = self
            .unreplicated
            .iter()
            .filter(|t| t.last_offset >= high_watermark)
            .map(|t| t.first_offset)
            .min();
        [open, unreplicated]
            .into_iter()
            .flatten()
            .fold(high_watermark, i64::min)
    }

    /// Forgets the completed transactions whose markers are below the high watermark:
    /// they no longer hold the LSO back.
    pub fn replicated_to(&mut self, high_watermark: i64) {
        while self
            .unreplicated
            .front()
            .is_some_and(|t| t.last_offset < high_watermark)
        {
            self.unreplicated.pop_front();
        }
    }

    /// The aborted transactions a read_committed fetch of `from..until` must list: those
    /// whose marker is at or after `from` and whose first record is before `until`.
    pub fn aborted_between(&self, from: i64, until: i64) -> impl Iterator<Item = &CompletedTxn> {
        let start = self.aborted.partition_point(|t| t.last_offset < from);
        self.aborted[start..]
            .iter()
            .filter(move |t| t.first_offset < until)
    }

    /// Whether the transactional batch at `offset` from `producer_id` was aborted.
    pub fn is_aborted(&self, producer_id: i64, offset: i64) -> bool {
        let start = self.aborted.partition_point(|t| t.last_offset < offset);
        self.aborted[start..]
            .iter()
            .any(|t| t.producer_id == producer_id && t.first_offset <= offset)
    }

    /// Whether the transactional batch at `offset` from `producer_id` belongs to a
    /// transaction still open.
    pub fn is_open(&self, producer_id: i64, offset: i64) -> bool {
        self.producers
            .get(&producer_id)
            .and_then(|e| e.txn_first_offset)
            .is_some_and(|first| first <= offset)
    }

    /// Drops aborted-index entries whose marker is below the new log start: nothing they
    /// cover can be fetched any more.
    pub fn log_start_moved(&mut self, log_start: i64) {
        let gone = self.aborted.partition_point(|t| t.last_offset < log_start);
        self.aborted.drain(..gone);
    }

    /// Forgets the batches, transactions and markers at or after `end_offset`, as the log
    /// was truncated there. Producers left with nothing are forgotten (see the module doc).
    pub fn truncate(&mut self, end_offset: i64) {
        self.producers.retain(|_, entry| {
            let had_batches = !entry.batches.is_empty();
            while entry
                .batches
                .back()
                .is_some_and(|b| b.last_offset >= end_offset)
            {
                entry.batches.pop_back();
            }
            if entry.txn_first_offset.is_some_and(|f| f >= end_offset) {
                entry.txn_first_offset = None;
            }
            !(had_batches && entry.batches.is_empty() && entry.txn_first_offset.is_none())
        });
        self.open.retain(|(first, _)| *first < end_offset);
        self.unreplicated.retain(|t| t.last_offset < end_offset);
        self.aborted.retain(|t| t.last_offset < end_offset);
    }

    /// Every producer id with state here, in id order.
    pub fn iter(&self) -> impl Iterator<Item = (i64, &ProducerEntry)> {
        self.producers.iter().map(|(id, e)| (*id, e))
    }

    #[cfg(test)]
    pub fn get(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.producers.get(&producer_id)
    }
}

fn out_of_order(message: String) -> KafkaError {
    KafkaError::new(ResponseError::OutOfOrderSequenceNumber, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(producer_id: i64, epoch: i16, first_seq: i32, records: i32) -> ProducerBatch {
        ProducerBatch {
            producer_id,
            epoch,
            first_seq,
            last_seq: last_sequence(first_seq, records - 1),
            transactional: false,
        }
    }

    /// Checks and, if it passes, records `b` at the next offsets after `*end`.
    fn append(
        s: &mut ProducerStates,
        end: &mut i64,
        b: ProducerBatch,
    ) -> Result<Check, KafkaError> {
        let check = s.check(&b)?;
        if check == Check::Append {
            let count = i64::from(b.last_seq.wrapping_sub(b.first_seq)) + 1;
            s.record(&b, *end, *end + count - 1, 100);
            *end += count;
        }
        Ok(check)
    }

    fn code(r: Result<Check, KafkaError>) -> ResponseError {
        r.expect_err("refused").code
    }

    #[test]
    fn last_sequence_wraps_past_i32_max_to_zero() {
        assert_eq!(last_sequence(5, 2), 7);
        assert_eq!(last_sequence(i32::MAX, 0), i32::MAX);
        assert_eq!(last_sequence(i32::MAX - 1, 3), 1);
        assert_eq!(last_sequence(i32::MAX, 1), 0);
        // A corrupt negative delta wraps as Java's int arithmetic does, without a panic.
        assert_eq!(last_sequence(5, -10), 2_147_483_643);
        assert_eq!(last_sequence(0, i32::MIN), 0);
        assert!(in_sequence(i32::MAX, 0));
        assert!(!in_sequence(i32::MAX, 1));
    }

    #[test]
    fn no_producer_id_is_never_checked_or_recorded() {
        let (mut s, mut end) = (ProducerStates::default(), 0);
        for _ in 0..3 {
            assert_eq!(
                append(&mut s, &mut end, batch(-1, -1, -1, 1)),
                Ok(Check::Append)
            );
        }
        assert_eq!(s.iter().count(), 0);
    }

    #[test]
    fn duplicate_of_one_of_the_last_five_batches_gets_its_original_offsets() {
        let (mut s, mut end) = (ProducerStates::default(), 0);
        for seq in (0..10).step_by(2) {
            append(&mut s, &mut end, batch(7, 0, seq, 2)).unwrap();
        }
        let Ok(Check::Duplicate(original)) = s.check(&batch(7, 0, 2, 2)) else {
            panic!("not a duplicate");
        };
        assert_eq!((original.base_offset, original.last_offset), (2, 3));
        // Same first sequence, different length: not the same batch, and out of order.
        assert_eq!(
            code(s.check(&batch(7, 0, 2, 3))),
            ResponseError::OutOfOrderSequenceNumber
        );
    }

    #[test]
    fn a_retry_older_than_the_last_five_batches_is_out_of_order() {
        let (mut s, mut end) = (ProducerStates::default(), 0);
        for seq in 0..6 {
            append(&mut s, &mut end, batch(7, 0, seq, 1)).unwrap();
        }
        assert_eq!(
            code(s.check(&batch(7, 0, 0, 1))),
            ResponseError::OutOfOrderSequenceNumber
        );
        assert!(matches!(
            s.check(&batch(7, 0, 1, 1)),
            Ok(Check::Duplicate(_))
        ));
    }

    #[test]
    fn epochs_fence_and_reset_sequences() {
        let (mut s, mut end) = (ProducerStates::default(), 0);
        append(&mut s, &mut end, batch(7, 1, 0, 3)).unwrap();
        assert_eq!(
            code(s.check(&batch(7, 0, 3, 1))),
            ResponseError::InvalidProducerEpoch
        );
        assert_eq!(
            code(s.check(&batch(7, 2, 3, 1))),
            ResponseError::OutOfOrderSequenceNumber
        );
        assert_eq!(
            append(&mut s, &mut end, batch(7, 2, 0, 1)),
            Ok(Check::Append)
        );
        // The new epoch forgot the old epoch's batches: their retry is a stale epoch.
        assert_eq!(
            code(s.check(&batch(7, 1, 0, 3))),
            ResponseError::InvalidProducerEpoch
        );
        assert_eq!(s.get(7).unwrap().batches().count(), 1);
    }

    #[test]
    fn unknown_producer_is_accepted_at_any_sequence_then_held_to_order() {
        let (mut s, mut end) = (ProducerStates::default(), 0);
        assert_eq!(
            append(&mut s, &mut end, batch(9, 4, 1_000, 2)),
            Ok(Check::Append)
        );
        assert_eq!(
            code(s.check(&batch(9, 4, 1_003, 1))),
            ResponseError::OutOfOrderSequenceNumber
        );
        assert_eq!(
            append(&mut s, &mut end, batch(9, 4, 1_002, 1)),
            Ok(Check::Append)
        );
    }

    #[test]
    fn negative_base_sequence_with_a_producer_id_is_invalid_record() {
        let s = ProducerStates::default();
        assert_eq!(
            code(s.check(&batch(3, 0, -1, 1))),
            ResponseError::InvalidRecord
        );
    }

    #[test]
    fn truncation_forgets_batches_from_the_end_offset_on() {
        let (mut s, mut end) = (ProducerStates::default(), 0);
        append(&mut s, &mut end, batch(1, 0, 0, 2)).unwrap(); // offsets 0-1
        append(&mut s, &mut end, batch(2, 0, 0, 1)).unwrap(); // offset 2
        append(&mut s, &mut end, batch(1, 0, 2, 1)).unwrap(); // offset 3
        s.truncate(2);
        assert_eq!(s.get(1).unwrap().last_seq(), Some(1));
        assert!(s.get(2).is_none());
        // Producer 1's truncated batch is no longer a duplicate: its retry is appended.
        assert_eq!(s.check(&batch(1, 0, 2, 1)), Ok(Check::Append));
    }
}
