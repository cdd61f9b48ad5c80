//! A produced record set, checked before the state lock is taken.
//!
//! Everything Kafka checks of a batch that does not depend on the cluster's state — the
//! request's shape, the base offset, the CRC, the record count, the control bit, and the
//! walk of every record, decompressing it if need be — is done here, by
//! [`PreparedBatch::prepare`], which has no access to the state. What remains for
//! `State::append` under the lock is constant work per batch: the size against the
//! topic's `max.message.bytes`, a null key on a compacted topic, and the record
//! timestamps against the topic's bounds, which the walk summarised as their minimum and
//! maximum. One request with many decompression bombs therefore never stalls other
//! clients, the control API or the timers, all of which need that lock. The copy of the
//! batch the log keeps is made here too, for the same reason: filling fresh pages is most
//! of what a produced record costs the broker.
//!
//! The outcomes are kept, not acted on, so the answer is the one Kafka gives, in Kafka's
//! order: a batch whose records cannot be decoded is still answered NOT_LEADER_OR_FOLLOWER
//! first if the broker does not lead the partition. The batches of one request
//! decompress within one [`DecompressionBudget`] (256 MiB together, as one batch could
//! before), so a request of a hundred bombs costs one bomb's work; past it the batches
//! are refused as a bomb is, INVALID_RECORD.
//!
//! Produce v8+ lists each record whose timestamp is out of range; that list is as long as
//! the batch, so it is built after the lock is released ([`PreparedBatch::record_errors`]),
//! from the records section decompressed here and kept until the answer is written.

use broker_sim_protocol::batch::{
    self, BatchError, BatchView, Codec, DecompressionBudget, RecordsSection,
};
use kafka_protocol::ResponseError;

use super::log::OwnedBatch;
use crate::error::KafkaError;

/// Kafka's "no timestamp": exempt from the timestamp bounds.
pub(super) const NO_TIMESTAMP: i64 = -1;

/// What [`PREPARED_PROBE`] calls: whether the batch was copied.
#[cfg(feature = "probes")]
pub type Probe = Box<dyn Fn(bool)>;

#[cfg(feature = "probes")]
thread_local! {
    /// Unit tests' probe, called once a batch is checked, walked and, if it passed, copied
    /// (the argument): it lets a test look at the state lock at that moment (broker-sim's
    /// `api::handler_tests`, whose dev-dependency turns the `probes` feature on).
    pub static PREPARED_PROBE: std::cell::RefCell<Option<Probe>> =
        const { std::cell::RefCell::new(None) };
}

/// One partition's record set of a Produce, checked as far as it can be without the state.
pub struct PreparedBatch<'a> {
    /// The request-shape checks' outcome (Kafka makes them when it parses the request),
    /// and the rest when they passed.
    pub(super) checked: Result<Checked<'a>, KafkaError>,
}

pub(super) struct Checked<'a> {
    pub view: BatchView<'a>,
    /// The base offset check, which Kafka makes before the size.
    pub base_offset: Result<(), KafkaError>,
    /// CRC (CORRUPT_MESSAGE), record count and control bit, which Kafka checks after the
    /// size.
    pub after_size: Result<(), KafkaError>,
    /// What the walk of every record found; only walked when the checks before passed.
    pub records: Result<Walked, KafkaError>,
    section: Option<RecordsSection<'a>>,
    /// The batch copied out of the request, made here, without the lock, when every
    /// check so far passed: the append takes it (see [`OwnedBatch`]).
    pub owned: Option<OwnedBatch>,
}

/// What the record walk found, summarised so the checks under the lock take constant
/// time.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Walked {
    pub max_timestamp: Option<i64>,
    pub null_key: bool,
    /// The lowest and highest record timestamps other than [`NO_TIMESTAMP`].
    pub timestamp_range: Option<(i64, i64)>,
}

/// Why the checks under the lock refused a prepared batch.
pub(super) enum Refused {
    /// Before the records were looked at (size, CRC): no log start offset in the answer.
    Batch(KafkaError),
    /// By the log's validation: the answer carries the log start offset.
    Records(KafkaError),
    /// Record timestamps outside [lowest, highest]: INVALID_TIMESTAMP, each record listed
    /// later ([`PreparedBatch::record_errors`]).
    Timestamps { lowest: i64, highest: i64 },
}

impl<'a> PreparedBatch<'a> {
    /// Checks `records`, decompressing within `budget`. `allow_zstd`: Produce v7+.
    pub fn prepare(records: &'a [u8], allow_zstd: bool, budget: &mut DecompressionBudget) -> Self {
        let checked = check_request_shape(records, allow_zstd).map(|view| {
            let base_offset = check_base_offset(&view);
            let after_size = check_after_size(&view);
            let mut section = None;
            let records = if base_offset.is_ok() && after_size.is_ok() {
                walk(&view, budget, &mut section)
            } else {
                Ok(Walked::default())
            };
            let owned = (base_offset.is_ok() && after_size.is_ok() && records.is_ok())
                .then(|| OwnedBatch::copy_of(&view));
            #[cfg(feature = "probes")]
            PREPARED_PROBE.with(|probe| {
                if let Some(probe) = &*probe.borrow() {
                    probe(owned.is_some());
                }
            });
            Checked {
                view,
                base_offset,
                after_size,
                records,
                section,
                owned,
            }
        });
        PreparedBatch { checked }
    }

    /// Whether preparing `records` may take long: it is compressed, or large.
    pub fn is_heavy(records: &[u8]) -> bool {
        records.len() > 1 << 20
            || BatchView::parse(records).is_ok_and(|v| v.codec().is_ok_and(|c| c != Codec::None))
    }

    /// Produce v8+'s `record_errors` for a batch refused as
    /// [`Refused::Timestamps`]: (index in the batch, why) of every record out of range.
    /// Walks the batch again, so call it without the lock.
    pub fn record_errors(&self, lowest: i64, highest: i64) -> Vec<(i32, String)> {
        let Ok(c) = &self.checked else {
            return Vec::new();
        };
        let Some(section) = &c.section else {
            return Vec::new();
        };
        let mut errors = Vec::new();
        let mut index = 0i32;
        // The walk succeeded once already: it cannot fail now.
        let _ = c.view.check_section(section, |r| {
            if r.timestamp != NO_TIMESTAMP && (r.timestamp < lowest || r.timestamp > highest) {
                errors.push((
                    index,
                    format!(
                        "Timestamp {} of message with offset {} is out of range. The timestamp should be within [{lowest}, {highest}]",
                        r.timestamp,
                        c.view.base_offset().wrapping_add(i64::from(index))
                    ),
                ));
            }
            index = index.saturating_add(1);
        });
        errors
    }
}

/// The topic configs the checks under the lock need.
pub(super) struct RecordLimits {
    pub max_message_bytes: i32,
    pub log_append_time: bool,
    pub compacted: bool,
    pub after_max_ms: i64,
    pub before_max_ms: i64,
}

impl Checked<'_> {
    /// Kafka's log validation of the batch, in Kafka's order, from what `prepare` found:
    /// constant work. Returns the largest record timestamp.
    pub fn validate(&self, limits: &RecordLimits, now: i64) -> Result<i64, Refused> {
        self.base_offset.clone().map_err(Refused::Records)?;
        if self.view.total_len() > limits.max_message_bytes.max(0) as usize {
            return Err(Refused::Batch(KafkaError::new(
                ResponseError::MessageTooLarge,
                format!(
                    "The record batch of {} bytes is larger than max.message.bytes {}",
                    self.view.total_len(),
                    limits.max_message_bytes
                ),
            )));
        }
        self.after_size.clone().map_err(|e| {
            if e.code == ResponseError::CorruptMessage {
                Refused::Batch(e)
            } else {
                Refused::Records(e)
            }
        })?;
        let walked = self.records.clone().map_err(Refused::Records)?;
        if limits.compacted && walked.null_key {
            return Err(Refused::Records(invalid(
                "Compacted topic cannot accept message without key".into(),
            )));
        }
        // Kafka's bounds, in Java's wrapping arithmetic.
        let (lowest, highest) = (
            now.wrapping_sub(limits.before_max_ms),
            now.wrapping_add(limits.after_max_ms),
        );
        if !limits.log_append_time
            && walked
                .timestamp_range
                .is_some_and(|(min, max)| min < lowest || max > highest)
        {
            return Err(Refused::Timestamps { lowest, highest });
        }
        Ok(walked.max_timestamp.unwrap_or(NO_TIMESTAMP))
    }
}

pub(super) fn invalid(why: String) -> KafkaError {
    KafkaError::new(ResponseError::InvalidRecord, why)
}

fn corrupt(e: BatchError) -> KafkaError {
    KafkaError::new(ResponseError::CorruptMessage, e.to_string())
}

/// What Kafka checks when it parses a Produce request, before it looks at the partition.
fn check_request_shape(records: &[u8], allow_zstd: bool) -> Result<BatchView<'_>, KafkaError> {
    if records.is_empty() {
        return Err(invalid("Produce request carries no record batch".into()));
    }
    let view = BatchView::parse(records).map_err(|e| match e {
        BatchError::BadMagic(magic) => invalid(format!(
            "Produce requests must use record batch magic {}, not {magic}",
            batch::MAGIC_V2
        )),
        other => corrupt(other),
    })?;
    if view.total_len() != records.len() {
        return Err(invalid(
            "Produce requests with magic v2 must contain exactly one record batch".into(),
        ));
    }
    if view.codec().is_ok_and(|c| c == Codec::Zstd) && !allow_zstd {
        return Err(KafkaError::new(
            ResponseError::UnsupportedCompressionType,
            "Produce requests with zstd batches must use version 7 or later",
        ));
    }
    Ok(view)
}

fn check_base_offset(view: &BatchView<'_>) -> Result<(), KafkaError> {
    if view.base_offset() != 0 {
        return Err(invalid(format!(
            "The baseOffset of a produced record batch should be 0, but it is {}",
            view.base_offset()
        )));
    }
    Ok(())
}

/// The checks of the batch as a whole that come after its size.
fn check_after_size(view: &BatchView<'_>) -> Result<(), KafkaError> {
    view.verify_crc().map_err(corrupt)?;
    if view.records_count() <= 0 || view.last_offset_delta() != view.records_count() - 1 {
        return Err(invalid(format!(
            "Record batch has {} records but last offset delta {}",
            view.records_count(),
            view.last_offset_delta()
        )));
    }
    if view.is_control() {
        return Err(invalid("Clients may not produce control batches".into()));
    }
    Ok(())
}

/// Walks every record in place (nothing is copied or allocated for an uncompressed
/// batch), keeping the decompressed section in `section` for `record_errors`.
fn walk<'a>(
    view: &BatchView<'a>,
    budget: &mut DecompressionBudget,
    section: &mut Option<RecordsSection<'a>>,
) -> Result<Walked, KafkaError> {
    let undecodable = |e: BatchError| invalid(format!("Record batch cannot be decoded: {e}"));
    let records = view.records_section(budget).map_err(undecodable)?;
    let mut walked = Walked::default();
    view.check_section(&records, |r| {
        walked.null_key |= r.key_is_null;
        walked.max_timestamp = walked.max_timestamp.max(Some(r.timestamp));
        if r.timestamp != NO_TIMESTAMP {
            walked.timestamp_range = Some(match walked.timestamp_range {
                None => (r.timestamp, r.timestamp),
                Some((min, max)) => (min.min(r.timestamp), max.max(r.timestamp)),
            });
        }
    })
    .map_err(undecodable)?;
    *section = Some(records);
    Ok(walked)
}
