//! History checkers: after a run (with or without a fault schedule), judge what the
//! brokers recorded — every acknowledged produce, every fetch answer, every assignment,
//! every committed offset and transaction outcome (`Cluster::history`) — against the logs
//! as they are now, and say what went wrong with the records involved.
//!
//! A [`Snapshot`] is taken once ([`Snapshot::of`]) and every check is a pure function of
//! it, so a snapshot built by hand is judged exactly as a real one (the tests break each
//! property on purpose that way). What each check demands, precisely:
//!
//! - [`lost_acks`]: every write acknowledged with acks=all is still in its partition at the
//!   offsets it was acknowledged with — the batch at its base offset carries the same CRC —
//!   unless retention or DeleteRecords removed those offsets or the topic was deleted.
//!   Kafka promises this while the ISR holds `min.insync.replicas` and elections are clean;
//!   acks=1 writes may be lost when a leader dies (as in Kafka) and are not checked.
//! - [`duplicates`]: no two batches of one idempotent producer (producer id and epoch) in
//!   a partition hold the same sequence numbers.
//! - [`log_order`]: each idempotent producer's batches lie in a partition in sequence order,
//!   so per-key order in the log follows send order. (For producers without an id the
//!   broker cannot know send order; [`sent_order`] takes it from the application.)
//! - [`delivery`]: what a group was handed of a partition goes back only as far as the
//!   group's committed offset at that moment. A fetch behind what the group was already
//!   handed is a *rewind*; a rewind to or above the committed offset re-hands records
//!   that were never committed (the redelivery at-least-once allows after a crash or
//!   rebalance). A rewind below it hands the group records of a key it already committed
//!   — after later records of that key — and is a violation. Before the first commit every
//!   rewind is allowed.
//! - [`coverage`]: every offset from where a group started reading a partition up to its
//!   final committed offset was handed to some member of the group (at least once),
//!   except ranges an explicit commit skipped (a standalone commit, an operator reset)
//!   and offsets retention removed.
//! - [`commits`]: a group member's (or a transaction's) commit never moves a partition's
//!   committed offset backwards; explicit commits (standalone, reset, deletion) may.
//! - [`exactly_once`]: for a consume-transform-produce pipeline, every input record below
//!   the group's committed offset has exactly one output visible to read_committed
//!   consumers, and no output exists for an input whose offset is not committed.
//! - [`handled`]: the application's own account of what it processed: nothing the group
//!   committed (or, without a group, nothing in the log) went unhandled; a record handled
//!   twice only where at-least-once allows it (the group was handed it twice); per key, a
//!   record handled for the first time never after a later record of that key.
//!
//! Fetch answers are attributed to a group through client ids: an answer belongs to group
//! G when G's last assignment before it gave the partition to a member with the answer's
//! client id. Give each consumer its own `client.id` when several share a partition
//! history across groups; consumers using `assign()` belong to no group. An answer a fault
//! rule dropped or replaced after processing is not in the history (the client never saw
//! it), and neither is a produce answer lost that way.

mod groups;
mod log;
mod pipeline;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::schedule::Applied;
use crate::{BatchInfo, Cluster, History, HistoryEvent, Record};

pub use groups::{commits, coverage, delivery};
pub use log::{duplicates, log_order, lost_acks, sent_order};
pub use pipeline::{Delivery, ExactlyOnce, Handled, Id, exactly_once, handled};

/// What the checks read: the history and each partition's log, taken at one moment.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub history: History,
    pub partitions: Vec<PartitionSnapshot>,
}

/// One partition's log.
#[derive(Debug, Clone, Default)]
pub struct PartitionSnapshot {
    pub topic: String,
    pub partition: i32,
    pub log_start_offset: i64,
    pub high_watermark: i64,
    pub last_stable_offset: i64,
    /// Offsets below this have been compacted (`PartitionInfo::cleaned_to`).
    pub cleaned_to: i64,
    pub batches: Vec<BatchInfo>,
    /// Its records, decoded, in offset order.
    pub records: Vec<Record>,
}

impl Snapshot {
    /// The cluster's history and every topic's logs, now.
    pub fn of(cluster: &Cluster) -> Snapshot {
        let history = cluster.history();
        let mut partitions = Vec::new();
        for topic in cluster.topics() {
            for info in cluster.partitions(&topic).unwrap_or_default() {
                partitions.push(PartitionSnapshot {
                    batches: cluster.batches(&topic, info.partition),
                    records: cluster.partition_records(&topic, info.partition),
                    topic: topic.clone(),
                    partition: info.partition,
                    log_start_offset: info.log_start_offset,
                    high_watermark: info.high_watermark,
                    last_stable_offset: info.last_stable_offset,
                    cleaned_to: info.cleaned_to,
                });
            }
        }
        Snapshot {
            history,
            partitions,
        }
    }

    /// One partition's log, if the topic and partition exist.
    pub fn partition(&self, topic: &str, partition: i32) -> Option<&PartitionSnapshot> {
        self.partitions
            .iter()
            .find(|p| p.topic == topic && p.partition == partition)
    }

    /// The partitions of `topic`, in order.
    pub fn topic(&self, topic: &str) -> impl Iterator<Item = &PartitionSnapshot> {
        self.partitions.iter().filter(move |p| p.topic == topic)
    }

    /// The groups that committed or were assigned anything, sorted.
    pub fn groups(&self) -> Vec<String> {
        let mut groups: Vec<String> =
            self.history
                .events
                .iter()
                .filter_map(|e| match e {
                    HistoryEvent::Committed { group, .. }
                    | HistoryEvent::Assigned { group, .. } => Some(group.clone()),
                    _ => None,
                })
                .collect();
        groups.sort();
        groups.dedup();
        groups
    }

    /// `group`'s committed offset per (topic, partition) at the end of the history
    /// (deleted offsets are absent).
    pub fn committed(&self, group: &str) -> BTreeMap<(String, i32), i64> {
        let mut committed = BTreeMap::new();
        for e in &self.history.events {
            if let HistoryEvent::Committed {
                group: g,
                topic,
                partition,
                offset,
                ..
            } = e
                && g == group
            {
                if *offset < 0 {
                    committed.remove(&(topic.clone(), *partition));
                } else {
                    committed.insert((topic.clone(), *partition), *offset);
                }
            }
        }
        committed
    }
}

impl PartitionSnapshot {
    /// The record at `offset`, if the log holds it.
    pub fn record(&self, offset: i64) -> Option<&Record> {
        let i = self
            .records
            .binary_search_by_key(&offset, |r| r.offset)
            .ok()?;
        self.records.get(i)
    }

    /// The records in `from..to`.
    pub fn records_in(&self, from: i64, to: i64) -> &[Record] {
        let start = self.records.partition_point(|r| r.offset < from);
        let end = self.records.partition_point(|r| r.offset < to);
        &self.records[start..end.max(start)]
    }
}

/// Which property a violation breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    LostAcks,
    Duplicates,
    LogOrder,
    SentOrder,
    Delivery,
    Coverage,
    Commits,
    ExactlyOnce,
    Handled,
}

impl Check {
    /// The name the control API uses (`/v1/checks/{name}`).
    pub fn name(self) -> &'static str {
        match self {
            Check::LostAcks => "lost_acks",
            Check::Duplicates => "duplicates",
            Check::LogOrder => "log_order",
            Check::SentOrder => "sent_order",
            Check::Delivery => "delivery",
            Check::Coverage => "coverage",
            Check::Commits => "commits",
            Check::ExactlyOnce => "exactly_once",
            Check::Handled => "handled",
        }
    }
}

/// A record a violation involves, shown as a person reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Involved {
    pub partition: i32,
    pub offset: i64,
    /// Key and value as UTF-8 (lossy), if present.
    pub key: Option<String>,
    pub value: Option<String>,
}

impl Involved {
    pub fn of(record: &Record) -> Involved {
        let text = |b: &Option<bytes::Bytes>| {
            b.as_deref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
        };
        Involved {
            partition: record.partition,
            offset: record.offset,
            key: text(&record.key),
            value: text(&record.value),
        }
    }
}

/// Most records a violation lists.
const MAX_INVOLVED: usize = 10;

/// One broken property, with what it involves.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Violation {
    pub check: Check,
    pub message: String,
    pub topic: String,
    pub partition: i32,
    /// The group it concerns, for group checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The offsets at fault, ascending (at most a few shown in `records`).
    pub offsets: Vec<i64>,
    /// The cluster time of the recorded event at fault, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<i64>,
    pub records: Vec<Involved>,
    /// The schedule steps applied around `at_ms` ([`Report::with_schedule`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<String>,
}

impl Violation {
    fn new(check: Check, topic: &str, partition: i32, message: String) -> Violation {
        Violation {
            check,
            message,
            topic: topic.to_string(),
            partition,
            group: None,
            offsets: Vec::new(),
            at_ms: None,
            records: Vec::new(),
            schedule: Vec::new(),
        }
    }

    fn group(mut self, group: &str) -> Violation {
        self.group = Some(group.to_string());
        self
    }

    fn at(mut self, at_ms: i64) -> Violation {
        self.at_ms = Some(at_ms);
        self
    }

    /// Names `offsets` and lists the first records among them the snapshot holds.
    fn offsets(mut self, p: Option<&PartitionSnapshot>, offsets: Vec<i64>) -> Violation {
        if let Some(p) = p {
            self.records = offsets
                .iter()
                .filter_map(|o| p.record(*o))
                .take(MAX_INVOLVED)
                .map(Involved::of)
                .collect();
        }
        self.offsets = offsets;
        self
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}-{}",
            self.check.name(),
            self.topic,
            self.partition
        )?;
        if let Some(group) = &self.group {
            write!(f, " group {group}")?;
        }
        if let Some(at) = self.at_ms {
            write!(f, " at {at} ms")?;
        }
        write!(f, ": {}", self.message)?;
        for r in &self.records {
            write!(
                f,
                "\n    offset {}: key={} value={}",
                r.offset,
                r.key.as_deref().unwrap_or("null"),
                r.value.as_deref().unwrap_or("null")
            )?;
        }
        for step in &self.schedule {
            write!(f, "\n    schedule: {step}")?;
        }
        Ok(())
    }
}

/// What a set of checks found.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    /// The checks run, in order.
    pub checks: Vec<Check>,
    pub violations: Vec<Violation>,
    /// The history was truncated at its limit: later events are missing, so losses and
    /// gaps may be false. Raise `ClusterBuilder::history_limit`.
    pub truncated: bool,
}

impl Report {
    /// Nothing was violated and the history was complete.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty() && !self.truncated
    }

    /// Panics with every violation unless the report is ok.
    #[track_caller]
    pub fn assert_ok(&self) {
        assert!(self.is_ok(), "{self}");
    }

    /// Adds to each violation the schedule steps applied within `window_ms` before its
    /// moment (and the next one after), so a reader sees what the cluster went through.
    pub fn with_schedule(mut self, applied: &[Applied], window_ms: i64) -> Report {
        for v in &mut self.violations {
            let Some(at) = v.at_ms else {
                continue;
            };
            let before = applied
                .iter()
                .filter(|a| a.at_ms <= at && a.at_ms >= at - window_ms);
            let after = applied.iter().find(|a| a.at_ms > at);
            v.schedule = before
                .chain(after)
                .map(|a| format!("{} ms: {}{}", a.at_ms, a.step.event, outcome(a)))
                .collect();
        }
        self
    }

    fn run(&mut self, check: Check, violations: Vec<Violation>) {
        self.checks.push(check);
        self.violations.extend(violations);
    }
}

fn outcome(applied: &Applied) -> String {
    match &applied.outcome {
        Ok(()) => String::new(),
        Err(e) => format!(" (refused: {e})"),
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.checks.iter().map(|c| c.name()).collect();
        write!(
            f,
            "{} violation(s) in checks {}",
            self.violations.len(),
            names.join(", ")
        )?;
        if self.truncated {
            write!(
                f,
                "\nthe history is truncated at its limit: raise ClusterBuilder::history_limit"
            )?;
        }
        for v in &self.violations {
            write!(f, "\n  {v}")?;
        }
        Ok(())
    }
}

/// Runs every check that needs nothing from the application: lost acks, duplicates, log
/// order, and delivery, coverage and commits for every group.
pub fn all(snapshot: &Snapshot) -> Report {
    let mut report = Report {
        truncated: snapshot.history.truncated,
        ..Report::default()
    };
    report.run(Check::LostAcks, lost_acks(snapshot));
    report.run(Check::Duplicates, duplicates(snapshot));
    report.run(Check::LogOrder, log_order(snapshot));
    report.run(Check::Delivery, delivery(snapshot));
    report.run(Check::Coverage, coverage(snapshot));
    report.run(Check::Commits, commits(snapshot));
    report
}

/// Runs one check by the control API's name; `None` for an unknown name or one that
/// needs the application's input (`sent_order`, `exactly_once`, `handled`).
pub fn by_name(snapshot: &Snapshot, name: &str) -> Option<Report> {
    let (check, violations) = match name {
        "lost_acks" => (Check::LostAcks, lost_acks(snapshot)),
        "duplicates" => (Check::Duplicates, duplicates(snapshot)),
        "log_order" => (Check::LogOrder, log_order(snapshot)),
        "delivery" => (Check::Delivery, delivery(snapshot)),
        "coverage" => (Check::Coverage, coverage(snapshot)),
        "commits" => (Check::Commits, commits(snapshot)),
        _ => return None,
    };
    Some(Report::single(snapshot, check, violations))
}

impl Report {
    /// The report of one check.
    pub fn single(snapshot: &Snapshot, check: Check, violations: Vec<Violation>) -> Report {
        Report {
            checks: vec![check],
            violations,
            truncated: snapshot.history.truncated,
        }
    }
}
