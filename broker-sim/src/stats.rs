//! Traffic counters per partition, what the inspection API and `/metrics` show of them,
//! and the Prometheus text the control API serves.
//!
//! Users check throughput and consumer lag against a real cluster through Kafka's broker
//! metrics (`MessagesInPerSec`, `BytesInPerSec`, `BytesOutPerSec` per topic) and an
//! exporter's lag gauges; a test against broker-sim reads the same totals from
//! [`crate::Cluster::topic_stats`], and a Prometheus scraping the binary gets them as
//! counters. Rates are left to the reader: the counters only ever grow, as Kafka's do, and
//! a rate is the difference of two readings.

use std::fmt::Write;

use crate::cluster::{GroupInfo, GroupOffset, PartitionInfo};

/// One partition's running totals. Appends count what entered the log (a retried
/// idempotent batch the log already holds counts once); fetches count whole batches handed
/// to consumers, as they go on the wire, including records before the fetch offset that
/// share a batch with it.
#[derive(Debug, Default)]
pub struct Counters {
    records_in: u64,
    bytes_in: u64,
    records_out: u64,
    bytes_out: u64,
}

impl Counters {
    pub fn appended(&mut self, records: u64, bytes: u64) {
        self.records_in += records;
        self.bytes_in += bytes;
    }

    pub fn fetched(&mut self, records: u64, bytes: u64) {
        self.records_out += records;
        self.bytes_out += bytes;
    }

    pub fn snapshot(&self, partition: i32) -> PartitionStats {
        PartitionStats {
            partition,
            records_in: self.records_in,
            bytes_in: self.bytes_in,
            records_out: self.records_out,
            bytes_out: self.bytes_out,
        }
    }
}

/// A topic's traffic since it was created, as [`crate::Cluster::topic_stats`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicStats {
    pub topic: String,
    /// Records appended (produced or seeded), summed over partitions.
    pub records_in: u64,
    /// Bytes of the record batches appended.
    pub bytes_in: u64,
    /// Records in the batches Fetch returned.
    pub records_out: u64,
    /// Bytes of the record batches Fetch returned.
    pub bytes_out: u64,
    /// The same per partition, in partition order.
    pub partitions: Vec<PartitionStats>,
}

impl TopicStats {
    pub fn new(topic: &str, partitions: Vec<PartitionStats>) -> Self {
        let sum = |f: fn(&PartitionStats) -> u64| partitions.iter().map(f).sum();
        TopicStats {
            topic: topic.to_string(),
            records_in: sum(|p| p.records_in),
            bytes_in: sum(|p| p.bytes_in),
            records_out: sum(|p| p.records_out),
            bytes_out: sum(|p| p.bytes_out),
            partitions,
        }
    }
}

/// One partition's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartitionStats {
    pub partition: i32,
    pub records_in: u64,
    pub bytes_in: u64,
    pub records_out: u64,
    pub bytes_out: u64,
}

/// One metric family: its name, help text, type and how to read a value off a row.
struct Family<T> {
    name: &'static str,
    help: &'static str,
    kind: &'static str,
    value: fn(&T) -> i64,
}

impl<T> Family<T> {
    const fn counter(name: &'static str, help: &'static str, value: fn(&T) -> i64) -> Self {
        Family {
            name,
            help,
            kind: "counter",
            value,
        }
    }

    const fn gauge(name: &'static str, help: &'static str, value: fn(&T) -> i64) -> Self {
        Family {
            name,
            help,
            kind: "gauge",
            value,
        }
    }

    /// The family's header and one sample per (labels, row).
    fn write<'a>(&self, out: &mut String, rows: impl Iterator<Item = (String, &'a T)>)
    where
        T: 'a,
    {
        let Family {
            name, help, kind, ..
        } = self;
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        for (labels, row) in rows {
            let _ = writeln!(out, "{name}{{{labels}}} {}", (self.value)(row));
        }
    }
}

const TRAFFIC: [Family<PartitionStats>; 4] = [
    Family::counter(
        "broker_sim_topic_partition_records_in_total",
        "Records appended to the partition.",
        |p| p.records_in as i64,
    ),
    Family::counter(
        "broker_sim_topic_partition_bytes_in_total",
        "Bytes of record batches appended to the partition.",
        |p| p.bytes_in as i64,
    ),
    Family::counter(
        "broker_sim_topic_partition_records_out_total",
        "Records in the batches Fetch returned from the partition.",
        |p| p.records_out as i64,
    ),
    Family::counter(
        "broker_sim_topic_partition_bytes_out_total",
        "Bytes of record batches Fetch returned from the partition.",
        |p| p.bytes_out as i64,
    ),
];

const OFFSETS: [Family<PartitionInfo>; 2] = [
    Family::gauge(
        "kafka_topic_partition_current_offset",
        "High watermark of the partition.",
        |p| p.high_watermark,
    ),
    Family::gauge(
        "kafka_topic_partition_oldest_offset",
        "Log start offset of the partition.",
        |p| p.log_start_offset,
    ),
];

const GROUP_OFFSETS: [Family<GroupOffset>; 2] = [
    Family::gauge(
        "kafka_consumergroup_current_offset",
        "Committed offset of the group on the partition.",
        |o| o.offset,
    ),
    Family::gauge(
        "kafka_consumergroup_lag",
        "High watermark minus the group's committed offset.",
        |o| o.lag,
    ),
];

/// The Prometheus text exposition of every topic's counters and offsets and every group's
/// committed offsets and lag. Names follow what users already chart: the traffic counters
/// mirror Kafka's broker-topic metrics, the offset and lag gauges are kafka_exporter's, so
/// an existing Grafana board reads them unchanged.
pub fn prometheus_text(
    topics: &[(TopicStats, Vec<PartitionInfo>)],
    groups: &[GroupInfo],
) -> String {
    let mut out = String::new();
    let partition_labels =
        |topic: &str, partition: i32| format!("topic=\"{topic}\",partition=\"{partition}\"");
    for family in &TRAFFIC {
        let rows = topics.iter().flat_map(|(stats, _)| {
            let topic = &stats.topic;
            stats
                .partitions
                .iter()
                .map(move |p| (partition_labels(topic, p.partition), p))
        });
        family.write(&mut out, rows);
    }
    for family in &OFFSETS {
        let rows = topics.iter().flat_map(|(stats, partitions)| {
            let topic = &stats.topic;
            partitions
                .iter()
                .map(move |p| (partition_labels(topic, p.partition), p))
        });
        family.write(&mut out, rows);
    }
    for family in &GROUP_OFFSETS {
        let rows = groups.iter().flat_map(|g| {
            let group = escape(&g.group_id);
            g.offsets.iter().map(move |o| {
                let labels = format!(
                    "consumergroup=\"{group}\",{}",
                    partition_labels(&o.topic, o.partition)
                );
                (labels, o)
            })
        });
        family.write(&mut out, rows);
    }
    out
}

/// Group ids may hold any character; topic names are `[a-zA-Z0-9._-]` and need no escape.
fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
