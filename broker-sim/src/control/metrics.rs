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
            let mut seen: Vec<String> = ["client_id", "client_instance_id", "name"]
                .map(String::from)
                .to_vec();
            for (k, v) in attributes {
                let key = label_name(k);
                // A label appears once: the first attribute to take a name keeps it.
                if seen.contains(&key) {
                    continue;
                }
                let _ = write!(labels, ",{key}=\"{}\"", escape(v));
                seen.push(key);
            }
            let _ = writeln!(out, "kafka_client_metric{{{labels}}} {}", sample(*value));
        }
    }
}

/// An attribute key as a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`, `__` reserved):
/// other characters become `_`, and a name that would start with a digit, be empty or
/// start with `__` gets an `attr_` prefix.
fn label_name(key: &str) -> String {
    let name: String = key
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '_' })
        .collect();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) || name.starts_with("__") {
        format!("attr_{name}")
    } else {
        name
    }
}

/// A sample value as the text format writes it (`+Inf`, `-Inf`, `NaN`).
fn sample(value: f64) -> String {
    if value.is_nan() {
        "NaN".into()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        value.to_string()
    }
}

/// Group ids may hold any character; topic names are `[a-zA-Z0-9._-]` and need no escape.
fn escape(label: &str) -> String {
    label
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_keys_become_valid_label_names() {
        assert_eq!(label_name("node.id"), "node_id");
        assert_eq!(label_name("1st"), "attr_1st");
        assert_eq!(label_name(""), "attr_");
        assert_eq!(label_name("__name__"), "attr___name__");
    }

    #[test]
    fn special_values_are_written_as_the_text_format_spells_them() {
        assert_eq!(sample(f64::INFINITY), "+Inf");
        assert_eq!(sample(f64::NEG_INFINITY), "-Inf");
        assert_eq!(sample(f64::NAN), "NaN");
        assert_eq!(sample(1.5), "1.5");
    }
}
