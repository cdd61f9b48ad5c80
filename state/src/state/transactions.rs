//! The transaction coordinator: every transactional id's producer id, epoch, state and
//! partitions, and the two-phase commit that writes markers into the partitions' logs.
//!
//! A transactional id lives on the broker that leads its `__transaction_state` partition
//! (`State::coordinator_for`, the same hash as groups); its metadata is the cluster's, so
//! when that broker stops, the next one takes the transaction over exactly where it was,
//! as Kafka's coordinator does after loading the log.
//!
//! States, as Kafka 4.1's `TransactionState`: Empty → Ongoing (a partition or a group's
//! offsets added) → PrepareCommit / PrepareAbort (EndTxn, or a timeout) → CompleteCommit /
//! CompleteAbort once every partition has its marker; PrepareEpochFence while a zombie is
//! being fenced; Dead once `transactional.id.expiration.ms` has passed without use.
//! Markers are written at once to every partition that has a leader; a partition without
//! one keeps the transaction in its Prepare state (clients get CONCURRENT_TRANSACTIONS)
//! until it gets a leader again.
//!
//! Transaction versions (KIP-890), chosen per transaction by the requests the client sends,
//! as Kafka does: version 2 when the client ends it with EndTxn v5+ or adds partitions
//! through Produce v12+ / TxnOffsetCommit v5+ (the broker adds them implicitly), version 1
//! (or 0) otherwise. With version 2 every commit or abort bumps the producer's epoch (a new
//! producer id once the epoch is exhausted) and the markers carry the bumped epoch, which
//! fences any zombie of the finished transaction.
//!
//! Timeouts run on the cluster clock: an Ongoing transaction older than its
//! `transaction.timeout.ms` is fenced (epoch bumped) and aborted as soon as the clock passes
//! its deadline; Kafka looks every 10 s (`transaction.abort.timed.out.transaction.cleanup
//! .interval.ms`), broker-sim at the deadline itself, so `Cluster::advance` past it aborts
//! at once. Differences: the coordinator epoch is always 0 (there is no
//! `__transaction_state` log whose leader epoch it would be).

use std::collections::{BTreeMap, BTreeSet};

use broker_sim_protocol::batch::{self, BatchView, ControlType};
use kafka_protocol::ResponseError;
use serde::{Deserialize, Serialize};

use super::State;
use super::history::{CommitSource, HistoryEvent};
use super::log::OwnedBatch;
use crate::error::KafkaError;

/// The epoch of every coordinator (see the module doc).
pub const COORDINATOR_EPOCH: i32 = 0;

/// `RecordBatch.NO_PRODUCER_EPOCH`.
const NO_EPOCH: i16 = -1;

/// Kafka's `TransactionState`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum TxnState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
    PrepareEpochFence,
    Dead,
}

impl TxnState {
    /// The name DescribeTransactions and ListTransactions use.
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Empty => "Empty",
            TxnState::Ongoing => "Ongoing",
            TxnState::PrepareCommit => "PrepareCommit",
            TxnState::PrepareAbort => "PrepareAbort",
            TxnState::CompleteCommit => "CompleteCommit",
            TxnState::CompleteAbort => "CompleteAbort",
            TxnState::PrepareEpochFence => "PrepareEpochFence",
            TxnState::Dead => "Dead",
        }
    }

    pub const ALL: [TxnState; 8] = [
        TxnState::Empty,
        TxnState::Ongoing,
        TxnState::PrepareCommit,
        TxnState::PrepareAbort,
        TxnState::CompleteCommit,
        TxnState::CompleteAbort,
        TxnState::PrepareEpochFence,
        TxnState::Dead,
    ];

    fn is_complete_or_empty(self) -> bool {
        matches!(
            self,
            TxnState::Empty | TxnState::CompleteCommit | TxnState::CompleteAbort
        )
    }
}

/// One transactional id, as its coordinator knows it (in a snapshot as its serde form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transaction {
    pub transactional_id: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The producer id and epoch before the last bump, so a retried InitProducerId or
    /// EndTxn is recognised (-1 when none).
    pub last_producer_id: i64,
    pub last_producer_epoch: i16,
    pub timeout_ms: i32,
    pub state: TxnState,
    /// The partitions in the transaction, in (topic, partition) order; while it is
    /// PrepareCommit / PrepareAbort, those still waiting for their marker.
    pub partitions: BTreeSet<(String, i32)>,
    /// Groups whose offsets the transaction commits (AddOffsetsToTxn, TxnOffsetCommit).
    pub groups: BTreeSet<String>,
    /// When the last transaction started (its first partition was added); -1 after
    /// InitProducerId. Kept once it completes, as Kafka does.
    pub start_ms: i64,
    pub last_update_ms: i64,
    /// The transaction version the client uses (see the module doc).
    pub version: i16,
}

impl Transaction {
    /// Kafka's `isProducerEpochExhausted`: the epoch cannot be bumped twice more.
    fn epoch_exhausted(&self) -> bool {
        self.producer_epoch >= i16::MAX - 1
    }

    /// Whether the transaction is in the middle of ending (markers being written).
    fn preparing(&self) -> bool {
        matches!(
            self.state,
            TxnState::PrepareCommit | TxnState::PrepareAbort | TxnState::PrepareEpochFence
        )
    }
}

/// Every transactional id of the cluster.
#[derive(Debug, Default)]
pub struct Transactions {
    pub(super) txns: BTreeMap<String, Transaction>,
}

impl Transactions {
    pub fn get(&self, id: &str) -> Option<&Transaction> {
        self.txns.get(id)
    }

    /// In transactional-id order.
    pub fn iter(&self) -> impl Iterator<Item = &Transaction> {
        self.txns.values()
    }

    fn next_deadline(&self) -> Option<i64> {
        self.txns
            .values()
            .filter(|t| t.state == TxnState::Ongoing)
            .map(|t| t.start_ms.saturating_add(i64::from(t.timeout_ms) + 1))
            .min()
    }
}

fn error(code: ResponseError, message: impl Into<String>) -> KafkaError {
    KafkaError::new(code, message)
}

fn concurrent(id: &str, state: TxnState) -> KafkaError {
    error(
        ResponseError::ConcurrentTransactions,
        format!(
            "transaction {id} is {} : retry once it completes",
            state.name()
        ),
    )
}

fn fenced(id: &str, epoch: i16, current: i16) -> KafkaError {
    error(
        ResponseError::ProducerFenced,
        format!(
            "There is a newer producer with the same transactionalId {id}: epoch {epoch} is fenced by epoch {current}"
        ),
    )
}

/// Kafka's check of a transactional request's producer id and epoch, in its order.
fn check_producer(t: &Transaction, producer_id: i64, epoch: i16) -> Result<(), KafkaError> {
    if t.producer_id != producer_id {
        return Err(error(
            ResponseError::InvalidProducerIdMapping,
            format!(
                "transactional id {} has producer id {}, not {producer_id}",
                t.transactional_id, t.producer_id
            ),
        ));
    }
    if t.producer_epoch != epoch {
        return Err(fenced(&t.transactional_id, epoch, t.producer_epoch));
    }
    Ok(())
}

fn unknown_id(id: &str) -> KafkaError {
    error(
        ResponseError::InvalidProducerIdMapping,
        format!("transactional id {id} has no producer id: call InitProducerId first"),
    )
}

/// Who calls the coordinator about a transaction: the transactional id, and the producer
/// id and epoch the producer believes current.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    pub id: &'a str,
    pub producer_id: i64,
    pub epoch: i16,
}

/// How EndTxn went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ended {
    pub producer_id: i64,
    pub producer_epoch: i16,
}

impl State {
    /// A new producer id with epoch 0, for an idempotent producer (InitProducerId without
    /// a transactional id).
    pub fn init_producer_id(&mut self) -> (i64, i16) {
        let id = self.next_producer_id;
        self.next_producer_id += 1;
        (id, 0)
    }

    pub fn transactions(&self) -> &Transactions {
        &self.transactions
    }

    /// A fresh producer id, from the seeded sequence.
    fn fresh_producer_id(&mut self) -> i64 {
        let id = self.next_producer_id;
        self.next_producer_id += 1;
        id
    }

    /// InitProducerId with a transactional id, once its coordinator was found: Kafka's
    /// `handleInitProducerId`. `expected` is the producer id and epoch a producer that
    /// recovers sends (KIP-360).
    pub fn init_transactional_producer(
        &mut self,
        id: &str,
        timeout_ms: i32,
        expected: Option<(i64, i16)>,
        now: i64,
    ) -> Result<(i64, i16), KafkaError> {
        if !self.transactions.txns.contains_key(id) {
            let producer_id = self.fresh_producer_id();
            self.transactions.txns.insert(
                id.to_string(),
                Transaction {
                    transactional_id: id.to_string(),
                    producer_id,
                    producer_epoch: NO_EPOCH,
                    last_producer_id: -1,
                    last_producer_epoch: NO_EPOCH,
                    timeout_ms,
                    state: TxnState::Empty,
                    partitions: BTreeSet::new(),
                    groups: BTreeSet::new(),
                    start_ms: -1,
                    last_update_ms: now,
                    version: 0,
                },
            );
        }
        let next_id = self.next_producer_id;
        let t = self.transactions.txns.get_mut(id).expect("inserted above");
        if let Some((pid, epoch)) = expected {
            // A recovering producer is fenced unless it is the current one, or the previous
            // one retrying after its epoch ran out and a new producer id was handed out.
            let valid = t.producer_epoch == NO_EPOCH
                || pid == t.producer_id
                || (pid == t.last_producer_id && epoch >= i16::MAX - 1);
            if !valid {
                return Err(fenced(id, epoch, t.producer_epoch));
            }
        }
        match t.state {
            TxnState::PrepareCommit | TxnState::PrepareAbort | TxnState::PrepareEpochFence => {
                Err(concurrent(id, t.state))
            }
            TxnState::Ongoing => {
                // A new instance while a transaction is open: fence the old one (bump the
                // epoch), abort its transaction, and tell the caller to retry.
                let state = t.state;
                self.fence_and_abort(id, now);
                Err(concurrent(id, state))
            }
            TxnState::Empty
            | TxnState::CompleteCommit
            | TxnState::CompleteAbort
            | TxnState::Dead => {
                t.timeout_ms = timeout_ms;
                t.last_update_ms = now;
                t.start_ms = -1;
                t.state = TxnState::Empty;
                if t.epoch_exhausted() && expected.is_none_or(|(_, e)| e == t.producer_epoch) {
                    t.last_producer_id = t.producer_id;
                    t.last_producer_epoch = if expected.is_some() {
                        t.producer_epoch
                    } else {
                        NO_EPOCH
                    };
                    t.producer_id = next_id;
                    t.producer_epoch = 0;
                    self.next_producer_id += 1;
                    return Ok((t.producer_id, t.producer_epoch));
                }
                match expected {
                    None => {
                        t.last_producer_epoch = NO_EPOCH;
                        t.producer_epoch += 1;
                    }
                    Some((_, e)) if t.producer_epoch == NO_EPOCH || e == t.producer_epoch => {
                        t.last_producer_epoch = t.producer_epoch;
                        t.producer_epoch += 1;
                    }
                    // A retry of a call that succeeded: the epoch it got stands.
                    Some((_, e)) if e == t.last_producer_epoch => {}
                    Some((_, e)) => return Err(fenced(id, e, t.producer_epoch)),
                }
                Ok((t.producer_id, t.producer_epoch))
            }
        }
    }

    /// Bumps the epoch of `id`'s open transaction and aborts it: a new instance of the
    /// producer arrived, or the transaction timed out. The old instance's next request is
    /// fenced. The abort follows the cluster's transaction version, as Kafka's internal
    /// aborts do; either way the epoch goes up by one and the markers carry it.
    fn fence_and_abort(&mut self, id: &str, now: i64) {
        let version = self.config.transactions.version;
        let Some(t) = self.transactions.txns.get_mut(id) else {
            return;
        };
        t.version = version;
        if version < 2 && t.producer_epoch < i16::MAX {
            t.producer_epoch += 1;
            t.last_producer_epoch = NO_EPOCH;
        }
        tracing::info!(transactional_id = %id, epoch = t.producer_epoch, "fencing the producer and aborting its open transaction");
        self.prepare_end(id, false, now);
    }

    /// AddPartitionsToTxn (and AddOffsetsToTxn, with `groups`) for a client: the
    /// transaction becomes Ongoing with these partitions in it. `version` is the
    /// transaction version the request implies.
    pub fn add_to_transaction(
        &mut self,
        caller: Caller<'_>,
        partitions: &[(String, i32)],
        group: Option<&str>,
        version: i16,
        now: i64,
    ) -> Result<(), KafkaError> {
        let id = caller.id;
        self.check_caller(caller)?;
        let t = self.transactions.txns.get_mut(id).expect("checked");
        let already = t.state == TxnState::Ongoing
            && partitions.iter().all(|p| t.partitions.contains(p))
            && group.is_none_or(|g| t.groups.contains(g));
        if already {
            return Ok(());
        }
        if t.state != TxnState::Ongoing {
            t.start_ms = now;
        }
        t.version = version;
        t.state = TxnState::Ongoing;
        t.last_update_ms = now;
        t.partitions.extend(partitions.iter().cloned());
        if let Some(g) = group {
            t.groups.insert(g.to_string());
        }
        Ok(())
    }

    /// AddPartitionsToTxn v4+ `verify_only`: whether the partition is in the producer's
    /// open transaction (TRANSACTION_ABORTABLE when not), without adding anything.
    pub fn verify_in_transaction(
        &self,
        caller: Caller<'_>,
        partition: &(String, i32),
    ) -> Result<(), KafkaError> {
        self.verify(caller, |t| t.partitions.contains(partition))
            .map_err(|e| e.with_context(&format!("{}-{}", partition.0, partition.1)))
    }

    /// The same check for a group's offsets (TxnOffsetCommit before v5).
    pub fn verify_offsets_in_transaction(
        &self,
        caller: Caller<'_>,
        group: &str,
    ) -> Result<(), KafkaError> {
        self.verify(caller, |t| t.groups.contains(group))
            .map_err(|e| e.with_context(&format!("the offsets of group {group}")))
    }

    /// The transaction `caller` may add to: its id known, its producer id and epoch
    /// current, not in the middle of ending (Kafka's order of checks).
    fn check_caller(&self, caller: Caller<'_>) -> Result<&Transaction, KafkaError> {
        let id = caller.id;
        let t = self
            .transactions
            .txns
            .get(id)
            .ok_or_else(|| unknown_id(id))?;
        check_producer(t, caller.producer_id, caller.epoch)?;
        if t.preparing() {
            return Err(concurrent(id, t.state));
        }
        Ok(t)
    }

    fn verify(
        &self,
        caller: Caller<'_>,
        contains: impl Fn(&Transaction) -> bool,
    ) -> Result<(), KafkaError> {
        let t = self.check_caller(caller)?;
        if contains(t) {
            Ok(())
        } else {
            Err(error(
                ResponseError::TransactionAbortable,
                format!("not added to transaction {}", caller.id),
            ))
        }
    }

    /// EndTxn: commits or aborts the open transaction of `id` (Kafka's `endTransaction`).
    /// `version` is the transaction version of the request (2 from EndTxn v5), which
    /// decides the rules: with version 2 the epoch is bumped at every end, a retry is
    /// recognised by the epoch before the bump, and an abort needs no open transaction.
    pub fn end_transaction(
        &mut self,
        caller: Caller<'_>,
        commit: bool,
        version: i16,
        now: i64,
    ) -> Result<Ended, KafkaError> {
        let Caller {
            id,
            producer_id,
            epoch,
        } = caller;
        use TxnState::*;
        let t = self
            .transactions
            .txns
            .get(id)
            .ok_or_else(|| unknown_id(id))?;
        let current = Ended {
            producer_id: t.producer_id,
            producer_epoch: t.producer_epoch,
        };
        let invalid = || {
            error(
                ResponseError::InvalidTxnState,
                format!(
                    "transaction {id} is {}: it cannot be {}",
                    t.state.name(),
                    if commit { "committed" } else { "aborted" }
                ),
            )
        };
        let (s, e) = (t.producer_epoch, epoch);
        if version < 2 {
            check_producer(t, producer_id, epoch)?;
            match (t.state, commit) {
                (Ongoing, _) => {}
                (CompleteCommit, true) | (CompleteAbort, false) => return Ok(current),
                (PrepareCommit, true) | (PrepareAbort, false) => {
                    return Err(concurrent(id, t.state));
                }
                _ => return Err(invalid()),
            }
        } else {
            let retry_on_bump = i32::from(s) == i32::from(e) + 1;
            let retry_on_overflow = producer_id == t.last_producer_id
                && producer_id != t.producer_id
                && e == i16::MAX - 1
                && s == 0;
            let retry = retry_on_bump || retry_on_overflow;
            if producer_id != t.producer_id && !retry_on_overflow {
                return Err(check_producer(t, producer_id, epoch).unwrap_err());
            }
            let valid = match t.state {
                Ongoing | Empty => e == s,
                PrepareCommit | PrepareAbort => retry_on_bump,
                CompleteCommit | CompleteAbort => retry || e == s,
                PrepareEpochFence | Dead => false,
            };
            if !valid {
                return Err(fenced(id, e, s));
            }
            match (t.state, commit) {
                (Ongoing, _) => {}
                (PrepareCommit, true) | (PrepareAbort, false) => {
                    return Err(concurrent(id, t.state));
                }
                (CompleteCommit, true) | (CompleteAbort, false) if retry => return Ok(current),
                (Empty | CompleteCommit | CompleteAbort, false) if !retry => {}
                _ => return Err(invalid()),
            }
        }
        let t = self.transactions.txns.get_mut(id).expect("checked");
        t.version = version;
        if t.state != Ongoing {
            // Version 2 aborting with nothing open: a transaction with no partitions.
            t.start_ms = now;
        }
        Ok(self.prepare_end(id, commit, now))
    }

    /// Moves `id` to PrepareCommit / PrepareAbort (bumping the epoch for version 2) and
    /// writes what markers it can.
    fn prepare_end(&mut self, id: &str, commit: bool, now: i64) -> Ended {
        let next_id = self.next_producer_id;
        let t = self.transactions.txns.get_mut(id).expect("caller checked");
        if t.version >= 2 {
            t.last_producer_id = t.producer_id;
            t.last_producer_epoch = t.producer_epoch;
            if t.epoch_exhausted() {
                t.producer_id = next_id;
                t.producer_epoch = 0;
                self.next_producer_id += 1;
            } else {
                t.producer_epoch += 1;
            }
        }
        t.state = if commit {
            TxnState::PrepareCommit
        } else {
            TxnState::PrepareAbort
        };
        t.last_update_ms = now;
        let ended = Ended {
            producer_id: t.producer_id,
            producer_epoch: t.producer_epoch,
        };
        tracing::info!(transactional_id = %id, commit, partitions = t.partitions.len(), "ending transaction");
        let (written_pid, written_epoch) = if t.version >= 2 {
            (t.last_producer_id, t.last_producer_epoch)
        } else {
            (t.producer_id, t.producer_epoch)
        };
        let outcome = HistoryEvent::TxnEnded {
            at_ms: now,
            transactional_id: id.to_string(),
            producer_id: written_pid,
            producer_epoch: written_epoch,
            committed: commit,
            partitions: t.partitions.iter().cloned().collect(),
            groups: t.groups.iter().cloned().collect(),
        };
        self.record_txn_end(outcome);
        self.write_markers(id, now);
        ended
    }

    /// Writes the markers of a Prepare* transaction to every pending partition that has a
    /// leader, applies its offsets to its groups, and completes it once nothing is pending.
    fn write_markers(&mut self, id: &str, now: i64) {
        let Some(t) = self.transactions.txns.get(id) else {
            return;
        };
        let commit = match t.state {
            TxnState::PrepareCommit => true,
            TxnState::PrepareAbort => false,
            _ => return,
        };
        // The markers carry the producer id and epoch the data was written with; with
        // version 2 that is the id and epoch before the bump, marked with the bumped epoch
        // so that the old epoch is fenced on every partition.
        let marker_pid = if t.version >= 2 && t.last_producer_id != t.producer_id {
            t.last_producer_id
        } else {
            t.producer_id
        };
        let marker_epoch = if marker_pid == t.producer_id {
            t.producer_epoch
        } else {
            i16::MAX
        };
        let pending: Vec<(String, i32)> = t.partitions.iter().cloned().collect();
        let groups: Vec<String> = t.groups.iter().cloned().collect();
        let control = if commit {
            ControlType::Commit
        } else {
            ControlType::Abort
        };
        let mut written = Vec::new();
        for (topic, partition) in pending {
            let marker = self.append_marker(
                &topic,
                partition,
                None,
                marker_pid,
                marker_epoch,
                COORDINATOR_EPOCH,
                control,
                now,
            );
            match marker {
                Ok(()) => written.push((topic, partition)),
                Err(e) if e.code == ResponseError::UnknownTopicOrPartition => {
                    // The topic was deleted: nothing left to mark.
                    written.push((topic, partition));
                }
                Err(e) => {
                    tracing::info!(transactional_id = %id, %topic, partition, error = %e, "transaction marker waits for the partition");
                }
            }
        }
        for group in groups {
            let applied = self
                .groups()
                .complete_transaction(&group, marker_pid, commit);
            let source = CommitSource::Transaction {
                producer_id: marker_pid,
            };
            self.history.commits(&group, applied, &source, now);
        }
        let t = self.transactions.txns.get_mut(id).expect("present above");
        for p in written {
            t.partitions.remove(&p);
        }
        t.groups.clear();
        if t.partitions.is_empty() {
            t.state = if commit {
                TxnState::CompleteCommit
            } else {
                TxnState::CompleteAbort
            };
            t.last_update_ms = now;
        }
    }

    /// Appends a transaction marker to a partition, at its leader (at `broker`, if given:
    /// WriteTxnMarkers must reach the leader).
    #[allow(
        clippy::too_many_arguments,
        reason = "a marker's fields, as WriteTxnMarkers has them"
    )]
    pub fn append_marker(
        &mut self,
        topic: &str,
        partition: i32,
        broker: Option<i32>,
        producer_id: i64,
        epoch: i16,
        coordinator_epoch: i32,
        control: ControlType,
        now: i64,
    ) -> Result<(), KafkaError> {
        let p = self
            .partition_mut(topic, partition)
            .ok_or_else(|| State::unknown_topic(&format!("{topic}-{partition}")))?;
        if p.leader < 0 || broker.is_some_and(|b| b != p.leader) {
            return Err(error(
                ResponseError::NotLeaderOrFollower,
                format!("{topic}-{partition} is led by {}", p.leader),
            ));
        }
        p.producers
            .check_marker(producer_id, epoch, coordinator_epoch)?;
        let bytes =
            batch::encode_control_batch(control, producer_id, epoch, coordinator_epoch, now);
        let view = BatchView::parse(&bytes).expect("a marker we just encoded parses");
        let offset = p
            .log
            .append(OwnedBatch::copy_of(&view), p.leader_epoch, now, None, now);
        p.producers.record_marker(
            producer_id,
            epoch,
            coordinator_epoch,
            offset,
            control == ControlType::Abort,
            now,
        );
        self.replicate(topic, partition, now);
        Ok(())
    }

    /// Aborts transactions past their timeout, retries markers that were waiting for a
    /// leader, and forgets transactional ids unused for `transactional.id.expiration.ms`.
    pub(super) fn tick_transactions(&mut self, now: i64) -> bool {
        let expired: Vec<String> = self
            .transactions
            .txns
            .values()
            .filter(|t| {
                t.state == TxnState::Ongoing
                    && now > t.start_ms.saturating_add(i64::from(t.timeout_ms))
            })
            .map(|t| t.transactional_id.clone())
            .collect();
        let preparing: Vec<String> = self
            .transactions
            .txns
            .values()
            .filter(|t| t.preparing())
            .map(|t| t.transactional_id.clone())
            .collect();
        let changed = !expired.is_empty() || !preparing.is_empty();
        for id in expired {
            tracing::info!(transactional_id = %id, "transaction timed out");
            self.fence_and_abort(&id, now);
        }
        for id in preparing {
            self.write_markers(&id, now);
        }
        let expiration = self.config.transactions.id_expiration_ms;
        self.transactions.txns.retain(|id, t| {
            let keep = !t.state.is_complete_or_empty()
                || now.saturating_sub(t.last_update_ms) < expiration;
            if !keep {
                tracing::info!(transactional_id = %id, "transactional id expired");
            }
            keep
        });
        changed
    }

    /// When the transaction coordinator next has something to do on its own.
    pub(super) fn next_transaction_deadline(&self) -> Option<i64> {
        let expiration = self.config.transactions.id_expiration_ms;
        let idle = self
            .transactions
            .txns
            .values()
            .filter(|t| t.state.is_complete_or_empty())
            .map(|t| t.last_update_ms.saturating_add(expiration))
            .min();
        [self.transactions.next_deadline(), idle]
            .into_iter()
            .flatten()
            .min()
    }

    /// Partitions whose leader came back may take the markers they were waiting for.
    pub(super) fn retry_markers(&mut self, now: i64) {
        let preparing: Vec<String> = self
            .transactions
            .txns
            .values()
            .filter(|t| t.preparing())
            .map(|t| t.transactional_id.clone())
            .collect();
        for id in preparing {
            self.write_markers(&id, now);
        }
    }

    /// Aborts the open transaction of `id` from outside, as `kafka-transactions.sh abort`
    /// or an operator would: the producer is fenced.
    pub fn abort_transaction(&mut self, id: &str, now: i64) -> Result<(), KafkaError> {
        let t = self.transactions.txns.get(id).ok_or_else(|| {
            error(
                ResponseError::TransactionalIdNotFound,
                format!("no transactional id {id}"),
            )
        })?;
        if t.state != TxnState::Ongoing {
            return Err(error(
                ResponseError::InvalidTxnState,
                format!("transaction {id} is {}, not Ongoing", t.state.name()),
            ));
        }
        self.fence_and_abort(id, now);
        Ok(())
    }
}
