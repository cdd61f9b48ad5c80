//! `broker-sim topics list | describe NAME | create NAME --partitions N`: `GET /v1/topics`,
//! `GET /v1/topics/{topic}` and `POST /v1/topics`.
//!
//! The list endpoint names the topics only; the table adds each one's partitions,
//! replication factor and record count from its description (one request per topic, fine
//! at a terminal; `--json` prints the list's own answer).

use clap::Subcommand;
use serde_json::{Map, Value, json};

use super::Connection;
use super::http::{Api, Error, segment};
use super::output::{cell, emit, emit_json, key_value, list, table};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List topics with their partition count, replication factor and records.
    List,
    /// Show a topic's partitions (leader, replicas, ISR, offsets) and configs.
    Describe {
        /// The topic.
        name: String,
    },
    /// Create a topic (as CreateTopics does: Kafka's checks and error names).
    Create {
        /// The topic.
        name: String,
        /// Number of partitions.
        #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
        partitions: i32,
        /// Replicas of each partition (default: the cluster's default.replication.factor).
        #[arg(long, value_parser = clap::value_parser!(i16).range(1..))]
        replication_factor: Option<i16>,
        /// A topic config, e.g. cleanup.policy=compact (repeatable).
        #[arg(long = "config", value_name = "KEY=VALUE", value_parser = key_value)]
        configs: Vec<(String, String)>,
    },
}

pub fn run(args: Args) -> Result<(), Error> {
    let api = args.connection.api();
    let json = args.connection.json;
    match args.action {
        Action::List => {
            let answer = api.get("/v1/topics", &[])?;
            if json {
                return emit_json(&answer);
            }
            let mut rows = Vec::new();
            for name in answer["topics"].as_array().into_iter().flatten() {
                let name = cell(name);
                let topic = describe(&api, &name)?;
                let partitions = topic["partitions"].as_array().cloned().unwrap_or_default();
                let replicas = partitions
                    .first()
                    .and_then(|p| p["replicas"].as_array())
                    .map_or(0, Vec::len);
                rows.push(vec![
                    name,
                    partitions.len().to_string(),
                    replicas.to_string(),
                    records(&partitions).to_string(),
                ]);
            }
            emit(&table(
                &["topic", "partitions", "replication", "records"],
                rows,
            ))
        }
        Action::Describe { name } => {
            let topic = describe(&api, &name)?;
            if json {
                return emit_json(&topic);
            }
            emit(&render(&topic))
        }
        Action::Create {
            name,
            partitions,
            replication_factor,
            configs,
        } => {
            let mut body = json!({ "name": name, "partitions": partitions });
            if let Some(n) = replication_factor {
                body["replication_factor"] = json!(n);
            }
            if !configs.is_empty() {
                let configs: Map<String, Value> =
                    configs.into_iter().map(|(k, v)| (k, json!(v))).collect();
                body["configs"] = Value::Object(configs);
            }
            let topic = api.post("/v1/topics", Some(&body))?;
            if json {
                return emit_json(&topic);
            }
            emit(&format!("created topic {name}\n{}", render(&topic)))
        }
    }
}

/// `GET /v1/topics/{topic}`.
pub fn describe(api: &Api, topic: &str) -> Result<Value, Error> {
    api.get(&format!("/v1/topics/{}", segment(topic)), &[])
}

/// Records between each partition's log start and high watermark.
fn records(partitions: &[Value]) -> i64 {
    partitions
        .iter()
        .map(|p| {
            p["high_watermark"].as_i64().unwrap_or(0) - p["log_start_offset"].as_i64().unwrap_or(0)
        })
        .sum()
}

/// A topic's description: a summary line, its configs, a table of partitions.
fn render(topic: &Value) -> String {
    let partitions = topic["partitions"].as_array().cloned().unwrap_or_default();
    let mut text = format!(
        "topic {}: {} partitions, {} records",
        cell(&topic["name"]),
        partitions.len(),
        records(&partitions)
    );
    if let Some(configs) = topic["configs"].as_object().filter(|c| !c.is_empty()) {
        let configs: Vec<String> = configs
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect();
        text.push_str(&format!("\nconfigs: {}", configs.join(" ")));
    }
    let rows = partitions
        .iter()
        .map(|p| {
            vec![
                cell(&p["partition"]),
                cell(&p["leader"]),
                cell(&p["leader_epoch"]),
                list(&p["replicas"]),
                list(&p["isr"]),
                cell(&p["log_start_offset"]),
                cell(&p["high_watermark"]),
                cell(&p["last_stable_offset"]),
            ]
        })
        .collect();
    text.push('\n');
    text.push_str(&table(
        &[
            "partition",
            "leader",
            "epoch",
            "replicas",
            "isr",
            "start",
            "end",
            "stable",
        ],
        rows,
    ));
    text
}
