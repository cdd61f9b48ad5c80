//! The request log: the last requests the brokers answered, in a bounded ring, so a test
//! can assert what a Kafka client actually sent ("the producer retried", "the consumer
//! committed after it fetched") instead of inferring it from the cluster's state.
//!
//! The pipeline (`crate::pipeline`) records one [`RequestLogEntry`] per request it
//! decoded, when its answer is ready (or when the connection was closed or left hanging
//! in its place, `dropped`): a summary, never the payload, built from what the API's own
//! file says its request names and its answer's error codes are (`Api::names`,
//! `Api::log_answer`). The ring has its own lock, apart from the state's, held only to push
//! an entry; with the log disabled (size 0) a request costs one atomic load here.
//!
//! Sequence numbers count answers from 1 and are never reused, not even after
//! [`RequestLog::clear`], so `since` (the last seq a test saw) keeps working across
//! clears. Entries leave the ring oldest first once it is full; `dropped` counts them.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

/// How many entries the request log keeps unless told otherwise.
pub const DEFAULT_REQUEST_LOG_SIZE: usize = 10_000;

/// One request a broker answered (or dropped), as the request log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLogEntry {
    /// Position in the log, from 1, in the order answers were ready; never reused.
    pub seq: u64,
    /// When the request arrived, on the cluster clock (ms since the Unix epoch).
    pub time_ms: i64,
    /// The broker that answered.
    pub broker: i32,
    /// The connection it came on: numbered from 1 per cluster, the same for all of a
    /// connection's requests.
    pub connection: u64,
    /// The request header's client id ("" when null).
    pub client_id: String,
    /// Kafka's name of the API ("Produce", "OffsetCommit").
    pub api: String,
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
    /// Who sent it, as Kafka prints a principal ("User:ANONYMOUS").
    pub principal: String,
    /// The topics the request names with their partitions, in request order, each once
    /// (partitions empty for APIs that name whole topics).
    pub topics: Vec<RequestTopic>,
    /// The (first) group the request names.
    pub group: Option<String>,
    /// Every group the request names (DescribeGroups, OffsetFetch v8+ and batched
    /// FindCoordinator name several).
    pub groups: Vec<String>,
    /// The transactional id the request names.
    pub transactional_id: Option<String>,
    /// Kafka's names of the error codes in the answer other than NONE, each once, in
    /// answer order; empty when all went well, or when nothing was answered.
    pub errors: Vec<String>,
    /// The client got no answer because the connection was closed or left hanging
    /// instead (a fault's close_connection, no_response or apply_then_*, a failed acks=0
    /// produce). An acks=0 produce that succeeded is not dropped.
    pub dropped: bool,
    /// Real time from the decoded request to its answer being ready, in microseconds
    /// (a long poll's wait included). Informational: never assert on it.
    pub latency_us: u64,
    /// Produce: the records in the request; Fetch: the records in the answer.
    pub records: Option<u64>,
    /// Produce: the acks asked for.
    pub acks: Option<i16>,
    /// Fetch: how long the client let the broker wait for records.
    pub max_wait_ms: Option<i32>,
}

/// A topic a request names, with the partitions it names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestTopic {
    pub topic: String,
    pub partitions: Vec<i32>,
}

/// Which entries [`crate::Cluster::requests`] returns: every condition set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RequestFilter {
    /// Kafka's API name, any case ("produce", "OffsetCommit"); a name Kafka does not
    /// have matches nothing (`GET /v1/requests` refuses it).
    pub api: Option<String>,
    pub client_id: Option<String>,
    pub broker: Option<i32>,
    /// Entries that name this topic.
    pub topic: Option<String>,
    /// Entries that name this group.
    pub group: Option<String>,
    /// Entries whose answer carried this error (Kafka's name, any case;
    /// `UNKNOWN_ERROR_CODE_<n>` for a code Kafka does not define).
    pub error: Option<String>,
    /// Entries after this sequence number.
    pub since: Option<u64>,
    /// Only the last N entries that match.
    pub limit: Option<usize>,
}

impl RequestFilter {
    pub fn api(mut self, name: impl Into<String>) -> Self {
        self.api = Some(name.into());
        self
    }

    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self
    }

    pub fn broker(mut self, id: i32) -> Self {
        self.broker = Some(id);
        self
    }

    pub fn topic(mut self, name: impl Into<String>) -> Self {
        self.topic = Some(name.into());
        self
    }

    pub fn group(mut self, id: impl Into<String>) -> Self {
        self.group = Some(id.into());
        self
    }

    pub fn error(mut self, name: impl Into<String>) -> Self {
        self.error = Some(name.into());
        self
    }

    pub fn since(mut self, seq: u64) -> Self {
        self.since = Some(seq);
        self
    }

    pub fn limit(mut self, n: usize) -> Self {
        self.limit = Some(n);
        self
    }

    /// Whether `entry` meets every condition but `limit`.
    pub fn matches(&self, entry: &RequestLogEntry) -> bool {
        let same = |want: &Option<String>, have: &str| {
            want.as_deref().is_none_or(|w| w.eq_ignore_ascii_case(have))
        };
        self.since.is_none_or(|s| entry.seq > s)
            && same(&self.api, &entry.api)
            && self
                .client_id
                .as_deref()
                .is_none_or(|c| c == entry.client_id)
            && self.broker.is_none_or(|b| b == entry.broker)
            && self
                .topic
                .as_deref()
                .is_none_or(|t| entry.topics.iter().any(|n| n.topic == t))
            && self
                .group
                .as_deref()
                .is_none_or(|g| entry.groups.iter().any(|n| n == g))
            && self
                .error
                .as_deref()
                .is_none_or(|e| entry.errors.iter().any(|n| n.eq_ignore_ascii_case(e)))
    }
}

/// The log's counters, as `GET /v1/requests` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestLogStatus {
    /// How many entries the ring holds at most (0: logging is off).
    pub capacity: usize,
    /// How many it holds now.
    pub len: usize,
    /// Entries pushed out of the full ring since the cluster started.
    pub dropped: u64,
    /// The sequence number of the last entry recorded (0 before the first).
    pub last_seq: u64,
}

/// The ring and its counters.
pub(crate) struct RequestLog {
    capacity: AtomicUsize,
    ring: Mutex<Ring>,
    connections: AtomicU64,
}

#[derive(Default)]
struct Ring {
    entries: VecDeque<RequestLogEntry>,
    last_seq: u64,
    dropped: u64,
}

impl Default for RequestLog {
    fn default() -> Self {
        RequestLog {
            capacity: AtomicUsize::new(DEFAULT_REQUEST_LOG_SIZE),
            ring: Mutex::new(Ring::default()),
            connections: AtomicU64::new(0),
        }
    }
}

impl RequestLog {
    fn ring(&self) -> std::sync::MutexGuard<'_, Ring> {
        self.ring.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether requests are recorded: callers skip building entries when not.
    pub fn enabled(&self) -> bool {
        self.capacity.load(Ordering::Relaxed) > 0
    }

    /// Keeps at most `capacity` entries (0 turns logging off), dropping the oldest.
    pub fn set_capacity(&self, capacity: usize) {
        let mut ring = self.ring();
        self.capacity.store(capacity, Ordering::Relaxed);
        let excess = ring.entries.len().saturating_sub(capacity);
        ring.entries.drain(..excess);
        ring.dropped += excess as u64;
    }

    /// A new connection's number.
    pub fn next_connection(&self) -> u64 {
        self.connections.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Appends `entry`, giving it the next sequence number.
    pub fn record(&self, mut entry: RequestLogEntry) {
        let mut ring = self.ring();
        let capacity = self.capacity.load(Ordering::Relaxed);
        if capacity == 0 {
            return;
        }
        ring.last_seq += 1;
        entry.seq = ring.last_seq;
        if ring.entries.len() >= capacity {
            ring.entries.pop_front();
            ring.dropped += 1;
        }
        ring.entries.push_back(entry);
    }

    /// The entries `filter` selects, oldest first.
    pub fn select(&self, filter: &RequestFilter) -> Vec<RequestLogEntry> {
        self.select_with_status(filter).0
    }

    /// The entries `filter` selects and the counters, read together: `last_seq` is the
    /// last entry there was to select.
    pub fn select_with_status(
        &self,
        filter: &RequestFilter,
    ) -> (Vec<RequestLogEntry>, RequestLogStatus) {
        let ring = self.ring();
        let status = self.status_of(&ring);
        // Entries are in seq order: skip those at or before `since` by binary search.
        let start = filter
            .since
            .map_or(0, |s| ring.entries.partition_point(|e| e.seq <= s));
        let matching = ring.entries.range(start..).filter(|e| filter.matches(e));
        let selected = match filter.limit {
            Some(n) => {
                let mut last: Vec<RequestLogEntry> = matching.rev().take(n).cloned().collect();
                last.reverse();
                last
            }
            None => matching.cloned().collect(),
        };
        (selected, status)
    }

    /// Empties the ring; returns how many entries it held. Sequence numbers go on.
    pub fn clear(&self) -> usize {
        let mut ring = self.ring();
        let n = ring.entries.len();
        ring.entries.clear();
        n
    }

    pub fn status(&self) -> RequestLogStatus {
        self.status_of(&self.ring())
    }

    fn status_of(&self, ring: &Ring) -> RequestLogStatus {
        RequestLogStatus {
            capacity: self.capacity.load(Ordering::Relaxed),
            len: ring.entries.len(),
            dropped: ring.dropped,
            last_seq: ring.last_seq,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(api: &str) -> RequestLogEntry {
        RequestLogEntry {
            seq: 0,
            time_ms: 0,
            broker: 1,
            connection: 1,
            client_id: "c".into(),
            api: api.into(),
            api_key: 0,
            api_version: 0,
            correlation_id: 0,
            principal: "User:ANONYMOUS".into(),
            topics: Vec::new(),
            group: None,
            groups: Vec::new(),
            transactional_id: None,
            errors: Vec::new(),
            dropped: false,
            latency_us: 0,
            records: None,
            acks: None,
            max_wait_ms: None,
        }
    }

    #[test]
    fn a_full_ring_drops_the_oldest_and_counts_them() {
        let log = RequestLog::default();
        log.set_capacity(2);
        for api in ["Produce", "Fetch", "Metadata"] {
            log.record(entry(api));
        }
        let seqs: Vec<u64> = log
            .select(&RequestFilter::default())
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(seqs, [2, 3]);
        assert_eq!(log.status().dropped, 1);
    }

    #[test]
    fn since_and_limit_select_the_last_matching_after_a_seq() {
        let log = RequestLog::default();
        for api in ["Produce", "Fetch", "Produce", "Produce", "Fetch"] {
            log.record(entry(api));
        }
        let filter = RequestFilter::default().api("PRODUCE").since(1).limit(1);
        let seqs: Vec<u64> = log.select(&filter).iter().map(|e| e.seq).collect();
        assert_eq!(seqs, [4]);
    }

    #[test]
    fn clearing_keeps_the_sequence_going() {
        let log = RequestLog::default();
        log.record(entry("Produce"));
        assert_eq!(log.clear(), 1);
        log.record(entry("Produce"));
        assert_eq!(log.select(&RequestFilter::default())[0].seq, 2);
    }

    #[test]
    fn size_zero_records_nothing() {
        let log = RequestLog::default();
        log.set_capacity(0);
        assert!(!log.enabled());
        log.record(entry("Produce"));
        assert_eq!(log.status().last_seq, 0);
    }
}
