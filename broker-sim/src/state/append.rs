//! Appending a produced batch: every check Kafka makes before a batch enters a log, in
//! Kafka's order, and the one rewrite it may need.
//!
//! Leadership first (a client that asked the wrong broker must learn that before anything
//! else, so it retries at the leader), then `min.insync.replicas` for acks=all, then the
//! batch itself: size (MESSAGE_TOO_LARGE), CRC and framing (CORRUPT_MESSAGE), shape
//! (INVALID_RECORD: one batch, base offset 0, counts that agree, no control batch), codec
//! (UNSUPPORTED_COMPRESSION_TYPE for zstd before Produce v7) and timestamps
//! (INVALID_TIMESTAMP outside `message.timestamp.{before,after}.max.ms`). Topics with
//! `message.timestamp.type=LogAppendTime` get the batch stamped with the broker's time.

use broker_sim_protocol::batch::{self, BatchView, Codec};
use kafka_protocol::ResponseError;

use super::{Partition, State, Topic};
use crate::error::KafkaError;

/// How the batch arrived.
#[derive(Debug, Clone, Copy)]
pub struct AppendOptions {
    /// The producer's acks; only -1 (all) is held to `min.insync.replicas`.
    pub acks: i16,
    /// The broker's time, for timestamp checks and LogAppendTime.
    pub now_ms: i64,
    /// Produce v7+ may carry zstd batches.
    pub allow_zstd: bool,
}

/// Where an appended batch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub base_offset: i64,
    pub log_start_offset: i64,
    /// The broker time stamped on the batch, or -1 for CreateTime topics.
    pub log_append_time: i64,
}

impl State {
    /// Validates a produced record set and appends it to `partition` of `topic`; with a
    /// `broker`, only if that broker leads the partition.
    pub fn append(
        &mut self,
        topic: &str,
        partition: i32,
        broker: Option<i32>,
        records: &[u8],
        options: AppendOptions,
    ) -> Result<Appended, KafkaError> {
        let t = self
            .topics
            .get_mut(topic)
            .ok_or_else(|| State::unknown_topic(topic))?;
        let limits = TopicLimits::of(t);
        let p = t
            .partition_mut(partition)
            .ok_or_else(|| State::unknown_topic(&format!("{topic}-{partition}")))?;
        if let Some(broker) = broker {
            super::check_leader(p, topic, broker)?;
        }
        check_in_sync_replicas(p, &limits, options.acks)?;
        let view = validate(records, &limits, options)?;
        let log_append_time = if limits.log_append_time {
            options.now_ms
        } else {
            -1
        };
        let base_offset = p.log.append(
            &view,
            p.leader_epoch,
            limits.log_append_time.then_some(options.now_ms),
        );
        Ok(Appended {
            base_offset,
            log_start_offset: p.log.log_start_offset(),
            log_append_time,
        })
    }
}

/// The topic configs a produce is checked against, read once per append.
struct TopicLimits {
    max_message_bytes: i32,
    min_insync_replicas: usize,
    log_append_time: bool,
    after_max_ms: i64,
    before_max_ms: i64,
}

impl TopicLimits {
    fn of(t: &Topic) -> Self {
        let long = |name: &str| t.config(name).and_then(|v| v.trim().parse::<i64>().ok());
        TopicLimits {
            max_message_bytes: t.max_message_bytes(),
            min_insync_replicas: long("min.insync.replicas").unwrap_or(1).max(1) as usize,
            log_append_time: t.config("message.timestamp.type") == Some("LogAppendTime"),
            after_max_ms: long("message.timestamp.after.max.ms").unwrap_or(i64::MAX),
            before_max_ms: long("message.timestamp.before.max.ms").unwrap_or(i64::MAX),
        }
    }
}

fn check_in_sync_replicas(
    p: &Partition,
    limits: &TopicLimits,
    acks: i16,
) -> Result<(), KafkaError> {
    if acks == -1 && p.isr.len() < limits.min_insync_replicas {
        return Err(KafkaError::new(
            ResponseError::NotEnoughReplicas,
            format!(
                "The size of the current ISR {:?} is insufficient to satisfy the min.isr requirement of {}",
                p.isr, limits.min_insync_replicas
            ),
        ));
    }
    Ok(())
}

/// Kafka's checks on a produced record set (magic 2).
fn validate<'a>(
    records: &'a [u8],
    limits: &TopicLimits,
    options: AppendOptions,
) -> Result<BatchView<'a>, KafkaError> {
    let corrupt = |why: String| KafkaError::new(ResponseError::CorruptMessage, why);
    let invalid = |why: String| KafkaError::new(ResponseError::InvalidRecord, why);
    if records.is_empty() {
        return Err(invalid("Produce request carries no record batch".into()));
    }
    let view = BatchView::parse(records).map_err(|e| corrupt(e.to_string()))?;
    if view.magic() != batch::MAGIC_V2 {
        return Err(invalid(format!(
            "Unsupported record batch magic {}",
            view.magic()
        )));
    }
    if view.total_len() > limits.max_message_bytes.max(0) as usize {
        return Err(KafkaError::new(
            ResponseError::MessageTooLarge,
            format!(
                "The record batch of {} bytes is larger than max.message.bytes {}",
                view.total_len(),
                limits.max_message_bytes
            ),
        ));
    }
    view.verify_crc().map_err(|e| corrupt(e.to_string()))?;
    if view.total_len() != records.len() {
        return Err(invalid(
            "Produce requests with magic v2 must contain exactly one record batch".into(),
        ));
    }
    if view.base_offset() != 0 {
        return Err(invalid(format!(
            "The baseOffset of a produced record batch should be 0, but it is {}",
            view.base_offset()
        )));
    }
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
    let codec = view.codec().map_err(|e| corrupt(e.to_string()))?;
    if codec == Codec::Zstd && !options.allow_zstd {
        return Err(KafkaError::new(
            ResponseError::UnsupportedCompressionType,
            "Produce requests to topics with zstd batches must use version 7 or later",
        ));
    }
    if !limits.log_append_time {
        check_timestamps(&view, limits, options.now_ms)?;
    }
    Ok(view)
}

/// CreateTime bounds. The batch's max timestamp settles the "too far ahead" check; the
/// "too old" check needs every record, so records are decoded only when that bound is set.
fn check_timestamps(
    view: &BatchView<'_>,
    limits: &TopicLimits,
    now: i64,
) -> Result<(), KafkaError> {
    let invalid = |ts: i64| {
        KafkaError::new(
            ResponseError::InvalidTimestamp,
            format!(
                "Timestamp {ts} of a record is out of range: now {now}, message.timestamp.before.max.ms {}, message.timestamp.after.max.ms {}",
                limits.before_max_ms, limits.after_max_ms
            ),
        )
    };
    if view.max_timestamp().saturating_sub(now) > limits.after_max_ms {
        return Err(invalid(view.max_timestamp()));
    }
    if limits.before_max_ms != i64::MAX {
        let records = view
            .records()
            .map_err(|e| KafkaError::new(ResponseError::CorruptMessage, e.to_string()))?;
        if let Some(r) = records
            .iter()
            .find(|r| now.saturating_sub(r.timestamp) > limits.before_max_ms)
        {
            return Err(invalid(r.timestamp));
        }
    }
    Ok(())
}
