//! The cluster's history: what the brokers did that a checker needs to judge a run —
//! every produce they acknowledged, every fetch answer that carried records, every
//! assignment a group handed out, every committed offset (and reset or deletion), every
//! transaction outcome — in the order it happened, stamped with the cluster clock.
//!
//! Recording is cheap (a few fields per answer, no record bytes: a record is named by its
//! place in the log and identified by its batch's CRC) and bounded: once `limit` events
//! are kept, recording stops and the history says it is truncated, so a checker can refuse
//! to judge from a partial history rather than report false losses. The checkers
//! themselves (`broker_sim::checks`) read this together with the logs.
//!
//! The state and the group coordinator each record under their own lock, so the history
//! sits behind a third ([`Recorder`]): the last lock taken, held only to push one event,
//! which keeps one order of events across the two.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use broker_sim_protocol::batch::BatchView;
use serde::{Deserialize, Serialize};

/// One thing the brokers did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum HistoryEvent {
    /// A produce answered without error (acks 1 or all), or a record seeded through the
    /// embedding or HTTP API (recorded as acks=1). `crc` is the first stored batch's CRC:
    /// the batch at `base_offset` later carrying another CRC means the acknowledged one
    /// was lost (truncated away and the offsets reused).
    Acked {
        at_ms: i64,
        topic: String,
        partition: i32,
        base_offset: i64,
        last_offset: i64,
        acks: i16,
        /// -1 for a producer without an id (not idempotent).
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
        crc: u32,
    },
    /// A fetch answer that carried records: whole batches from `first_offset` up to (not
    /// including) `end_offset`; the consumer reads from `fetch_offset`.
    Fetched {
        at_ms: i64,
        /// The broker that answered: the leader, or a follower a consumer reads from
        /// (KIP-392).
        #[serde(default = "unknown_broker")]
        broker: i32,
        client_id: String,
        topic: String,
        partition: i32,
        fetch_offset: i64,
        first_offset: i64,
        end_offset: i64,
        read_committed: bool,
    },
    /// A group finished a rebalance: what each member was handed (consumer protocol
    /// groups; members whose assignment does not decode have none listed).
    Assigned {
        at_ms: i64,
        group: String,
        generation: i32,
        members: Vec<AssignedMember>,
    },
    /// A committed offset took effect.
    Committed {
        at_ms: i64,
        group: String,
        topic: String,
        partition: i32,
        offset: i64,
        source: CommitSource,
    },
    /// A topic was deleted, with its records and committed offsets: what was acknowledged
    /// or committed of it before is moot.
    TopicDeleted { at_ms: i64, topic: String },
    /// A transaction's outcome was decided (PrepareCommit / PrepareAbort), whether by
    /// EndTxn, a timeout, a fence or an operator.
    TxnEnded {
        at_ms: i64,
        transactional_id: String,
        /// The producer id and epoch its records were written with.
        producer_id: i64,
        producer_epoch: i16,
        committed: bool,
        partitions: Vec<(String, i32)>,
        groups: Vec<String>,
    },
}

impl HistoryEvent {
    /// The cluster time it happened.
    pub fn at_ms(&self) -> i64 {
        match self {
            HistoryEvent::Acked { at_ms, .. }
            | HistoryEvent::Fetched { at_ms, .. }
            | HistoryEvent::Assigned { at_ms, .. }
            | HistoryEvent::Committed { at_ms, .. }
            | HistoryEvent::TopicDeleted { at_ms, .. }
            | HistoryEvent::TxnEnded { at_ms, .. } => *at_ms,
        }
    }
}

/// The broker of a fetch recorded before the field existed.
fn unknown_broker() -> i32 {
    -1
}

/// A member's share of an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignedMember {
    pub member_id: String,
    /// The client id its requests carry: fetches are attributed to the group through it.
    pub client_id: String,
    pub partitions: Vec<(String, i32)>,
}

/// Where a committed offset came from: what decides whether it may move backwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommitSource {
    /// OffsetCommit by a group member (generation ≥ 0).
    Member { generation: i32, member_id: String },
    /// OffsetCommit without membership (generation -1): a consumer using `assign()` or an
    /// admin tool moving offsets — the user's explicit choice.
    Standalone,
    /// TxnOffsetCommit, applied when the transaction of `producer_id` committed.
    Transaction { producer_id: i64 },
    /// An operator reset (`reset_group_offsets`, `POST /v1/groups/{id}/reset`).
    Reset,
    /// OffsetDelete or the group's deletion: `offset` is -1, nothing is committed after.
    Deleted,
}

impl CommitSource {
    /// Whether the user chose this position explicitly, so it may move backwards or skip.
    pub fn is_explicit(&self) -> bool {
        matches!(
            self,
            CommitSource::Standalone | CommitSource::Reset | CommitSource::Deleted
        )
    }
}

/// The recorded events, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct History {
    pub events: Vec<HistoryEvent>,
    /// Recording stopped at the limit: a checker may miss what came after.
    pub truncated: bool,
    #[serde(skip)]
    limit: usize,
    /// The generation each group's last recorded assignment had.
    #[serde(skip)]
    assigned: BTreeMap<String, i32>,
}

impl Default for History {
    fn default() -> Self {
        History::with_limit(crate::config::DEFAULT_HISTORY_LIMIT)
    }
}

impl History {
    /// An empty history keeping at most `limit` events (0: record nothing).
    pub fn with_limit(limit: usize) -> History {
        History {
            events: Vec::new(),
            truncated: false,
            limit,
            assigned: BTreeMap::new(),
        }
    }

    /// A history made of `events` (for checkers run on a history built by hand).
    pub fn from_events(events: Vec<HistoryEvent>) -> History {
        History {
            limit: events.len(),
            events,
            truncated: false,
            assigned: BTreeMap::new(),
        }
    }

    pub fn record(&mut self, event: HistoryEvent) {
        if self.events.len() >= self.limit {
            if self.limit > 0 && !self.truncated {
                tracing::warn!(
                    limit = self.limit,
                    "history limit reached: later events are not recorded (checks will say so)"
                );
            }
            self.truncated = self.limit > 0;
            return;
        }
        self.events.push(event);
    }

    /// Marks `group`'s assignment of `generation` as recorded; false if it already was.
    pub fn first_assignment_of(&mut self, group: &str, generation: i32) -> bool {
        if self.assigned.get(group) == Some(&generation) {
            return false;
        }
        self.assigned.insert(group.to_string(), generation);
        true
    }

    /// Whether anything is recorded at all (a limit of 0 turns recording off).
    pub fn is_on(&self) -> bool {
        self.limit > 0 && !self.truncated
    }
}

/// The history as the cluster records it: shared by the state and the group coordinator
/// (`groups`), which record under their own locks. Its lock is always the last one taken
/// and is held only to look at or push one event, so it never waits for anything else.
#[derive(Debug, Clone)]
pub struct Recorder(Arc<Mutex<History>>);

impl Recorder {
    pub fn new(history: History) -> Self {
        Recorder(Arc::new(Mutex::new(history)))
    }

    fn lock(&self) -> MutexGuard<'_, History> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn record(&self, event: HistoryEvent) {
        self.lock().record(event);
    }

    /// See [`History::first_assignment_of`].
    pub fn first_assignment_of(&self, group: &str, generation: i32) -> bool {
        self.lock().first_assignment_of(group, generation)
    }

    /// See [`History::is_on`].
    pub fn is_on(&self) -> bool {
        self.lock().is_on()
    }

    /// A copy of what is recorded so far.
    pub fn get(&self) -> History {
        self.lock().clone()
    }

    /// Records committed offsets that took effect (-1: deleted).
    pub fn commits(
        &self,
        group: &str,
        offsets: impl IntoIterator<Item = (String, i32, i64)>,
        source: &CommitSource,
        now: i64,
    ) {
        let mut history = self.lock();
        if !history.is_on() {
            return;
        }
        for (topic, partition, offset) in offsets {
            history.record(HistoryEvent::Committed {
                at_ms: now,
                group: group.to_string(),
                topic,
                partition,
                offset,
                source: source.clone(),
            });
        }
    }
}

impl super::State {
    /// The recorded history so far.
    pub fn history(&self) -> History {
        self.history.get()
    }

    /// Records an acknowledged write of `base_offset..=last_offset`, identified by the
    /// batch stored at `base_offset` now.
    pub fn record_ack(&self, topic: &str, partition: i32, range: (i64, i64), acks: i16, now: i64) {
        if !self.history.is_on() {
            return;
        }
        let (base_offset, last_offset) = range;
        let Some(p) = self.topic(topic).and_then(|t| t.partition(partition)) else {
            return;
        };
        let Some(stored) = p
            .log
            .batches_from(base_offset)
            .first()
            .filter(|b| b.base_offset == base_offset)
        else {
            return;
        };
        let Ok(view) = BatchView::parse(&stored.bytes) else {
            return;
        };
        let event = HistoryEvent::Acked {
            at_ms: now,
            topic: topic.to_string(),
            partition,
            base_offset,
            last_offset,
            acks,
            producer_id: view.producer_id(),
            producer_epoch: view.producer_epoch(),
            base_sequence: view.base_sequence(),
            crc: view.crc(),
        };
        self.history.record(event);
    }

    /// Records what a fetch answer handed out: `(fetch_offset, first_offset, end_offset)`.
    #[allow(clippy::too_many_arguments)]
    pub fn record_fetch(
        &self,
        broker: i32,
        client_id: &str,
        topic: &str,
        partition: i32,
        range: (i64, i64, i64),
        read_committed: bool,
        now: i64,
    ) {
        if !self.history.is_on() {
            return;
        }
        let (fetch_offset, first_offset, end_offset) = range;
        self.history.record(HistoryEvent::Fetched {
            at_ms: now,
            broker,
            client_id: client_id.to_string(),
            topic: topic.to_string(),
            partition,
            fetch_offset,
            first_offset,
            end_offset,
            read_committed,
        });
    }

    /// Records a transaction's decided outcome.
    pub fn record_txn_end(&self, event: HistoryEvent) {
        if self.history.is_on() {
            self.history.record(event);
        }
    }
}
