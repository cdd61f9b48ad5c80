//! `GET /metrics`: every topic's traffic counters and offsets and every group's committed
//! offsets and lag in Prometheus's text format, so the Prometheus + Grafana setup users
//! point at Kafka can scrape the binary instead. The traffic counters mirror Kafka's
//! broker-topic metrics; the offset and lag gauges carry kafka_exporter's names; the
//! metrics clients push (KIP-714) follow as `kafka_client_metric`.

use std::fmt::Write;
use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};

use crate::{Cluster, GroupInfo, GroupOffset, PartitionInfo, PartitionStats, TopicStats};

/// Prometheus's text exposition format, version 0.0.4.
const CONTENT_TYPE_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

pub(super) async fn scrape(State(cluster): State<Arc<Cluster>>) -> Response {
    // A topic deleted between listing and reading is simply left out.
    let topics: Vec<_> = cluster
        .topics()
        .iter()
        .filter_map(|t| Some((cluster.topic_stats(t)?, cluster.partitions(t)?)))
        .collect();
    let groups: Vec<_> = cluster
        .groups()
        .iter()
        .filter_map(|g| cluster.group(g))
        .collect();
    let mut text = prometheus_text(&topics, &groups);
    client_metrics_text(&mut text, &cluster.client_metrics());
    ([(CONTENT_TYPE, CONTENT_TYPE_TEXT)], text).into_response()
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
fn prometheus_text(topics: &[(TopicStats, Vec<PartitionInfo>)], groups: &[GroupInfo]) -> String {
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

/// What clients pushed (KIP-714): one gauge, `kafka_client_metric`, labelled with the
/// client, the metric's name and its attributes (dots and other characters a label name
/// cannot hold become `_`).
fn client_metrics_text(out: &mut String, clients: &[crate::ClientTelemetry]) {
    if clients.iter().all(|c| c.metrics.is_empty()) {
        return;
    }
    out.push_str(
        "# HELP kafka_client_metric The latest value of a metric a client pushed (KIP-714).\n",
    );
    out.push_str("# TYPE kafka_client_metric gauge\n");
    for c in clients {
        for ((name, attributes), value) in &c.metrics {
            let mut labels = format!(
                "client_id=\"{}\",client_instance_id=\"{}\",name=\"{}\"",
                escape(&c.client_id),
                c.client_instance_id,
                escape(name)
            );
            for (k, v) in attributes {
                let key: String = k
                    .chars()
                    .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
                    .collect();
                if ["client_id", "client_instance_id", "name"].contains(&key.as_str()) {
                    continue;
                }
                let _ = write!(labels, ",{key}=\"{}\"", escape(v));
            }
            let _ = writeln!(out, "kafka_client_metric{{{labels}}} {value}");
        }
    }
}

/// Group ids may hold any character; topic names are `[a-zA-Z0-9._-]` and need no escape.
fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
