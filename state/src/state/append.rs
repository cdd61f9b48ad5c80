//! Appending a produced batch: every check Kafka makes before a batch enters a log, in
//! Kafka's order, and the rewrite it may need.
//!
//! 1. The request's shape, before anything else (Kafka checks it when the request is
//!    parsed): one magic-2 batch (INVALID_RECORD), zstd only from Produce v7
//!    (UNSUPPORTED_COMPRESSION_TYPE).
//! 2. Leadership (NOT_LEADER_OR_FOLLOWER), so a client that asked the wrong broker learns
//!    that first and retries at the leader; then, for acks=all, the ISR against the
//!    effective `min.insync.replicas` (NOT_ENOUGH_REPLICAS). As in Kafka, a
//!    `min.insync.replicas` above the replication factor counts as the replication factor.
//! 3. The batch: base offset 0 (INVALID_RECORD), size against `max.message.bytes`
//!    (MESSAGE_TOO_LARGE), CRC and framing (CORRUPT_MESSAGE), then every record walked
//!    (INVALID_RECORD if it cannot be, or if a compacted topic gets a null key) and its
//!    timestamp checked against `message.timestamp.{before,after}.max.ms`
//!    (INVALID_TIMESTAMP). Walking every record is what Kafka does too, and it is what
//!    guarantees that everything acknowledged can later be read back; the walk reads the
//!    records where they lie, so an uncompressed batch costs no copy or allocation.
//!
//! The request's shape, the batch checks and the record walk (decompression included)
//! need no state: they are made before the lock is taken (`prepared.rs`), and
//! [`State::append_prepared`] only consults their outcome, in the order above, and
//! compares the walk's summary with the topic's limits — constant work per batch.
//!
//! Topics with `message.timestamp.type=LogAppendTime` get the broker's time stamped on the
//! batch.
//!
//! A transactional batch is also checked against its transaction (KIP-890), after the
//! leadership and ISR checks and before the batch itself, as Kafka's leader does before it
//! appends: with transaction version 2 (Produce v12+) the partition is added to the
//! producer's transaction implicitly; before that, the partition must already be in it
//! (AddPartitionsToTxn), unless the producer's transaction is already open here — else
//! INVALID_TXN_STATE, so a zombie or a confused client cannot write outside a transaction.

use broker_sim_protocol::batch::{BatchView, DecompressionBudget, MAX_DECOMPRESSED_BYTES};
use kafka_protocol::ResponseError;

use super::log::{OwnedBatch, SegmentLimits};
use super::prepared::{Checked, PreparedBatch, RecordLimits, Refused};
use super::producers::{Check, ProducerBatch};
use super::replication::Replication;
use super::transactions::Caller;
use super::{Partition, State, Topic};
use crate::config::BrokerConfig;
use crate::error::KafkaError;

/// How the batch arrived.
#[derive(Debug, Clone, Copy)]
pub struct AppendOptions<'a> {
    /// The producer's acks; only -1 (all) is held to `min.insync.replicas`.
    pub acks: i16,
    /// The broker's time, for timestamp checks and LogAppendTime.
    pub now_ms: i64,
    /// Produce v7+ may carry zstd batches.
    pub allow_zstd: bool,
    /// The request's transactional id, if any.
    pub transactional_id: Option<&'a str>,
    /// The Produce version: from v12 the client uses transaction version 2, so the
    /// broker adds the partition to the transaction itself; v11 understands
    /// TRANSACTION_ABORTABLE.
    pub version: i16,
}

/// Why a batch was not appended, and what Kafka tells the producer besides the code.
#[derive(Debug, Clone)]
pub struct AppendError {
    pub error: KafkaError,
    /// The partition's log start offset when the batch reached the log and was refused
    /// there (record validation, producer state), as Kafka reports it; -1 for refusals
    /// before (leadership, size, CRC, the transaction check), as Kafka's
    /// `UNKNOWN_LOG_APPEND_INFO`.
    pub log_start_offset: i64,
    /// Whether Kafka sends the message to the client (Produce v8+): for record validation
    /// failures and a partition that is not in the transaction.
    pub send_message: bool,
    /// Produce v8+'s `record_errors`: (index in the batch, why) of each record refused.
    pub record_errors: Vec<(i32, String)>,
    /// Set for records refused for their timestamps: the bounds they broke. The list of
    /// records is as long as the batch, so it is left for
    /// [`PreparedBatch::record_errors`] to build once the state lock is released.
    pub timestamp_bounds: Option<(i64, i64)>,
}

impl From<KafkaError> for AppendError {
    fn from(error: KafkaError) -> Self {
        AppendError {
            error,
            log_start_offset: -1,
            send_message: false,
            record_errors: Vec::new(),
            timestamp_bounds: None,
        }
    }
}

impl AppendError {
    fn in_log(error: KafkaError, log_start_offset: i64) -> Self {
        let send_message = matches!(
            error.code,
            ResponseError::InvalidRecord | ResponseError::InvalidTimestamp
        );
        AppendError {
            error,
            log_start_offset,
            send_message,
            record_errors: Vec::new(),
            timestamp_bounds: None,
        }
    }
}

/// Where an appended batch went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub base_offset: i64,
    /// The offset of the batch's last record: acks=all waits until the high watermark
    /// passes it.
    pub last_offset: i64,
    /// Whether the ISR already has the batch (always, unless followers lag): an acks=all
    /// answer need not wait.
    pub replicated: bool,
    pub log_start_offset: i64,
    /// The broker time stamped on the batch, or -1 for CreateTime topics.
    pub log_append_time: i64,
}

impl State {
    /// Validates a produced record set and appends it to `partition` of `topic`; with a
    /// `broker`, only if that broker leads the partition. The whole check runs here, under
    /// the caller's lock: for records the embedding API seeds. Produce prepares its
    /// batches before it locks and calls [`State::append_prepared`].
    pub fn append(
        &mut self,
        topic: &str,
        partition: i32,
        broker: Option<i32>,
        records: &[u8],
        options: AppendOptions<'_>,
    ) -> Result<Appended, AppendError> {
        let mut budget = DecompressionBudget::new(MAX_DECOMPRESSED_BYTES);
        let mut prepared = PreparedBatch::prepare(records, options.allow_zstd, &mut budget);
        self.append_prepared(topic, partition, broker, &mut prepared, options)
            .map_err(|mut e| {
                if let Some((lowest, highest)) = e.timestamp_bounds {
                    e.record_errors = prepared.record_errors(lowest, highest);
                }
                e
            })
    }

    /// Appends a record set [`PreparedBatch::prepare`] checked, after the checks that need
    /// the state (see the module doc); constant work besides the append itself. A refusal
    /// for record timestamps leaves `record_errors` empty and sets `timestamp_bounds`.
    pub fn append_prepared(
        &mut self,
        topic: &str,
        partition: i32,
        broker: Option<i32>,
        prepared: &mut PreparedBatch<'_>,
        options: AppendOptions<'_>,
    ) -> Result<Appended, AppendError> {
        let checked = prepared.checked.as_mut().map_err(|e| e.clone())?;
        let t = self
            .topics
            .get_mut(topic)
            .ok_or_else(|| State::unknown_topic(topic))?;
        let limits = TopicLimits::of(t, &self.config, self.storage.is_some());
        let p = t
            .partition_mut(partition)
            .ok_or_else(|| State::unknown_topic(&format!("{topic}-{partition}")))?;
        // A seeded record (no broker) goes to whoever leads, if anyone does.
        let broker = broker.unwrap_or(p.leader);
        if check_before_batch(p, topic, broker, &limits, &checked.view, options)? {
            let producer = ProducerBatch::of(&checked.view);
            self.check_transaction(topic, partition, &producer, options)?;
        }
        let max_lag = self.max_lag_ms();
        let p = self
            .topics
            .get_mut(topic)
            .and_then(|t| t.partition_mut(partition))
            .ok_or_else(|| State::unknown_topic(&format!("{topic}-{partition}")))?;
        let replication = (&self.replication, max_lag);
        append_checked(p, topic, checked, &limits, options, replication)
    }

    /// [`State::append_prepared`] for a reader of the state (`partition_lock.rs`): the
    /// partition alone is locked, so appends to other partitions go on meanwhile. `None`
    /// when the append needs more than its partition — a transactional batch's check
    /// against its transaction (the first on this partition in the transaction) — and so
    /// the state's exclusive access: the caller calls [`State::append_prepared`] then.
    pub fn try_append_shared(
        &self,
        topic: &str,
        partition: i32,
        broker: i32,
        prepared: &mut PreparedBatch<'_>,
        options: AppendOptions<'_>,
    ) -> Option<Result<Appended, AppendError>> {
        let mut attempt = || {
            let checked = prepared.checked.as_mut().map_err(|e| e.clone())?;
            let t = self
                .topics
                .get(topic)
                .ok_or_else(|| State::unknown_topic(topic))?;
            let limits = TopicLimits::of(t, &self.config, self.storage.is_some());
            let mut p = t
                .partition(partition)
                .ok_or_else(|| State::unknown_topic(&format!("{topic}-{partition}")))?;
            if check_before_batch(&p, topic, broker, &limits, &checked.view, options)? {
                return Ok(None);
            }
            let replication = (&self.replication, self.max_lag_ms());
            append_checked(&mut p, topic, checked, &limits, options, replication).map(Some)
        };
        attempt().transpose()
    }

    /// The transaction check of a producer's first transactional batch on a partition
    /// (see the module doc).
    fn check_transaction(
        &mut self,
        topic: &str,
        partition: i32,
        producer: &ProducerBatch,
        options: AppendOptions<'_>,
    ) -> Result<(), AppendError> {
        let Some(id) = options.transactional_id else {
            return Err(KafkaError::new(
                ResponseError::InvalidTxnState,
                format!(
                    "producer {} sent a transactional batch without a transactional id",
                    producer.producer_id
                ),
            )
            .into());
        };
        let key = (topic.to_string(), partition);
        let caller = Caller {
            id,
            producer_id: producer.producer_id,
            epoch: producer.epoch,
        };
        let implicit = options.version >= 12;
        let checked = if implicit {
            self.add_to_transaction(caller, std::slice::from_ref(&key), None, 2, options.now_ms)
        } else {
            self.verify_in_transaction(caller, &key)
        };
        // The coordinator's answer as the partition leader passes it on (Kafka's
        // AddPartitionsToTxnManager and ReplicaManager): errors the producer retries
        // become NOT_ENOUGH_REPLICAS, which every client version retries.
        checked.map_err(|e| {
            let not_added = matches!(e.code, ResponseError::TransactionAbortable);
            let code = match e.code {
                ResponseError::ProducerFenced => ResponseError::InvalidProducerEpoch,
                ResponseError::TransactionAbortable if options.version <= 10 => {
                    ResponseError::InvalidTxnState
                }
                ResponseError::ConcurrentTransactions if !implicit => {
                    ResponseError::NotEnoughReplicas
                }
                ResponseError::CoordinatorNotAvailable | ResponseError::NotCoordinator => {
                    ResponseError::NotEnoughReplicas
                }
                code => code,
            };
            if not_added {
                // Kafka's words, sent to clients that read messages.
                AppendError {
                    error: KafkaError::new(code, "Partition was not added to the transaction"),
                    log_start_offset: -1,
                    send_message: code == ResponseError::InvalidTxnState,
                    record_errors: Vec::new(),
                    timestamp_bounds: None,
                }
            } else {
                KafkaError::new(code, e.message).into()
            }
        })
    }

    /// The `min.insync.replicas` an acks=all write to `topic` needs, capped at the
    /// replication factor (the partition's replica count) as Kafka 3.7+ does.
    pub fn min_insync_replicas(&self, topic: &str, replication_factor: usize) -> usize {
        self.topics.get(topic).map_or(1, |t| {
            let limits = TopicLimits::of(t, &self.config, self.storage.is_some());
            limits.min_insync_replicas.min(replication_factor)
        })
    }
}

/// The checks Kafka makes before the batch's own (leadership, the ISR, a transactional
/// producer's epoch). Returns whether the batch opens the producer's transaction on this
/// partition, which the transaction coordinator must then allow (`check_transaction`).
fn check_before_batch(
    p: &Partition,
    topic: &str,
    broker: i32,
    limits: &TopicLimits,
    view: &BatchView<'_>,
    options: AppendOptions<'_>,
) -> Result<bool, AppendError> {
    super::check_leader(p, topic, broker)?;
    check_in_sync_replicas(p, limits, options.acks)?;
    let producer = ProducerBatch::of(view);
    if !view.is_transactional() || p.producers.in_transaction(producer.producer_id) {
        return Ok(false);
    }
    if let Some(current) = p.producers.epoch_of(producer.producer_id)
        && current > producer.epoch
    {
        return Err(KafkaError::new(
            ResponseError::InvalidProducerEpoch,
            format!(
                "producer {} wrote with epoch {}, but its current epoch here is {current}",
                producer.producer_id, producer.epoch
            ),
        )
        .into());
    }
    Ok(true)
}

/// The batch's own checks and the append, once leadership, the ISR and the transaction
/// allow it: all of it the partition's alone, so a reader of the state may do it under the
/// partition's lock. `replication` is the cluster's followers and `replica.lag.time.max.ms`.
fn append_checked(
    p: &mut Partition,
    topic: &str,
    checked: &mut Checked<'_>,
    limits: &TopicLimits,
    options: AppendOptions<'_>,
    replication: (&Replication, i64),
) -> Result<Appended, AppendError> {
    let view = &checked.view;
    let records_len = view.total_len();
    let producer = ProducerBatch::of(view);
    let log_start = p.log.log_start_offset();
    // Kafka reports the log start offset with refusals from the log itself, except
    // the ones it raises before validating records (size, CRC).
    let max_timestamp = checked
        .validate(&limits.records, options.now_ms)
        .map_err(|refused| match refused {
            Refused::Batch(e) => AppendError::from(e),
            Refused::Records(e) => AppendError::in_log(e, log_start),
            Refused::Timestamps { lowest, highest } => AppendError {
                timestamp_bounds: Some((lowest, highest)),
                ..AppendError::in_log(
                    KafkaError::new(
                        ResponseError::InvalidTimestamp,
                        "One or more records have been rejected due to invalid timestamp",
                    ),
                    log_start,
                )
            },
        })?;
    let stamp = limits.log_append_time.then_some(options.now_ms);
    // -- Idempotent producers (state/producers.rs): Kafka checks sequences and epochs
    // last, once the batch itself is valid. A retried batch is acknowledged with its
    // original offsets (and, as Kafka does, its timestamp as log append time) and is
    // not written again.
    let check = p
        .producers
        .check(&producer)
        .map_err(|e| AppendError::in_log(e, log_start))?;
    if let Check::Duplicate(original) = check {
        return Ok(Appended {
            base_offset: original.base_offset,
            last_offset: original.last_offset,
            replicated: p.high_watermark() > original.last_offset,
            log_start_offset: p.log.log_start_offset(),
            log_append_time: original.timestamp,
        });
    }
    // -- end idempotent producers
    p.log.segment_limits = limits.segments;
    if let (Some(files), Some(flush)) = (&mut p.log.files, limits.flush) {
        files.set_policy(flush);
    }
    // Every check passed, so `prepare` made the copy (copying here instead would only
    // cost the time under the lock, never the answer).
    let owned = checked
        .owned
        .take()
        .unwrap_or_else(|| OwnedBatch::copy_of(view));
    let base_offset = p.log.append(
        owned,
        p.leader_epoch,
        stamp.unwrap_or(max_timestamp),
        stamp,
        options.now_ms,
    );
    let last_offset = p.log.log_end_offset() - 1;
    p.counters
        .appended((last_offset - base_offset + 1) as u64, records_len as u64);
    // -- Idempotent producers: remember the batch for duplicate and sequence checks.
    let timestamp = stamp.unwrap_or(max_timestamp);
    p.producers
        .record(&producer, base_offset, last_offset, timestamp);
    // -- end idempotent producers
    let mut appended = Appended {
        base_offset,
        last_offset: p.log.log_end_offset() - 1,
        replicated: false,
        log_start_offset: p.log.log_start_offset(),
        log_append_time: stamp.unwrap_or(-1),
    };
    let (r, max_lag) = replication;
    super::replication::sync_followers(p, topic, r, max_lag, options.now_ms);
    appended.replicated = p.high_watermark() > appended.last_offset;
    Ok(appended)
}

/// The topic configs a produce is checked against, read once per append.
struct TopicLimits {
    min_insync_replicas: usize,
    log_append_time: bool,
    records: RecordLimits,
    segments: SegmentLimits,
    /// `flush.messages` and `flush.ms`, read only in durable mode.
    flush: Option<crate::storage::FlushPolicy>,
}

impl TopicLimits {
    fn of(t: &Topic, broker: &BrokerConfig, durable: bool) -> Self {
        let long = |name: &str| t.config(name).and_then(|v| v.trim().parse::<i64>().ok());
        let min_isr = t
            .configs
            .get("min.insync.replicas")
            .or_else(|| t.inherited.get("min.insync.replicas"))
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or(broker.min_insync_replicas.into());
        let log_append_time = t.config("message.timestamp.type") == Some("LogAppendTime");
        TopicLimits {
            min_insync_replicas: min_isr.max(1) as usize,
            log_append_time,
            records: RecordLimits {
                max_message_bytes: t.max_message_bytes(broker.message_max_bytes),
                log_append_time,
                compacted: t
                    .config("cleanup.policy")
                    .is_some_and(|p| p.split(',').any(|p| p.trim() == "compact")),
                after_max_ms: long("message.timestamp.after.max.ms").unwrap_or(i64::MAX),
                before_max_ms: long("message.timestamp.before.max.ms").unwrap_or(i64::MAX),
            },
            segments: SegmentLimits {
                bytes: long("segment.bytes")
                    .map_or(SegmentLimits::default().bytes, |b| b.max(1) as u64),
                ms: long("segment.ms").unwrap_or(SegmentLimits::default().ms),
            },
            flush: durable
                .then(|| crate::storage::FlushPolicy::of(long("flush.messages"), long("flush.ms"))),
        }
    }
}

fn check_in_sync_replicas(
    p: &Partition,
    limits: &TopicLimits,
    acks: i16,
) -> Result<(), KafkaError> {
    let effective = limits.min_insync_replicas.min(p.replicas.len());
    if acks == -1 && p.isr.len() < effective {
        return Err(KafkaError::new(
            ResponseError::NotEnoughReplicas,
            format!(
                "The size of the current ISR {:?} is insufficient to satisfy the min.isr requirement of {effective}",
                p.isr
            ),
        ));
    }
    Ok(())
}
