//! `broker-sim requests [filters]` and `broker-sim requests --clear`: `GET /v1/requests`
//! and `DELETE /v1/requests`, the request log — what clients actually sent and what they
//! were answered, one row per request, oldest first.

use serde_json::Value;

use super::Connection;
use super::http::Error;
use super::output::{cell, emit, emit_json, table, time};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this API, by Kafka's name (Produce, Fetch, OffsetCommit...).
    #[arg(long)]
    api: Option<String>,
    /// Only requests with this client id.
    #[arg(long)]
    client_id: Option<String>,
    /// Only requests this broker answered.
    #[arg(long)]
    broker: Option<i32>,
    /// Only requests naming this topic.
    #[arg(long)]
    topic: Option<String>,
    /// Only requests naming this group.
    #[arg(long)]
    group: Option<String>,
    /// Only requests whose answer carried this error (e.g. NOT_LEADER_OR_FOLLOWER).
    #[arg(long)]
    error: Option<String>,
    /// Only requests after this sequence number (the first column).
    #[arg(long, value_name = "SEQ")]
    since: Option<u64>,
    /// Only the last N matching requests.
    #[arg(long, short = 'n', value_name = "N")]
    limit: Option<usize>,
    /// Empty the log instead of printing it.
    #[arg(long, conflicts_with_all = ["api", "client_id", "broker", "topic", "group", "error", "since", "limit"])]
    clear: bool,
    #[command(flatten)]
    connection: Connection,
}

pub fn run(args: Args) -> Result<(), Error> {
    let api = args.connection.api();
    if args.clear {
        let cleared = api.delete("/v1/requests")?;
        if args.connection.json {
            return emit_json(&cleared);
        }
        return emit(&format!("cleared {} requests", cell(&cleared["cleared"])));
    }
    let mut query = Vec::new();
    let texts = [
        ("api", args.api),
        ("client_id", args.client_id),
        ("topic", args.topic),
        ("group", args.group),
        ("error", args.error),
    ];
    for (name, value) in texts {
        if let Some(value) = value {
            query.push((name, value));
        }
    }
    if let Some(broker) = args.broker {
        query.push(("broker", broker.to_string()));
    }
    if let Some(since) = args.since {
        query.push(("since", since.to_string()));
    }
    if let Some(limit) = args.limit {
        query.push(("limit", limit.to_string()));
    }
    let answer = api.get("/v1/requests", &query)?;
    if args.connection.json {
        return emit_json(&answer);
    }
    let rows = answer["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(row)
        .collect();
    emit(&table(
        &[
            "seq", "time", "broker", "client", "api", "topics", "group", "errors",
        ],
        rows,
    ))
}

fn row(entry: &Value) -> Vec<String> {
    let topics: Vec<String> = entry["topics"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| {
            let partitions: Vec<String> = t["partitions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(cell)
                .collect();
            if partitions.is_empty() {
                cell(&t["topic"])
            } else {
                format!("{}-{}", cell(&t["topic"]), partitions.join(","))
            }
        })
        .collect();
    let errors: Vec<String> = entry["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(cell)
        .collect();
    let mut errors = errors.join(",");
    if entry["dropped"] == true {
        errors = if errors.is_empty() {
            "(dropped)".into()
        } else {
            format!("{errors} (dropped)")
        };
    }
    vec![
        cell(&entry["seq"]),
        time(&entry["time_ms"]),
        cell(&entry["broker"]),
        cell(&entry["client_id"]),
        format!("{} v{}", cell(&entry["api"]), cell(&entry["api_version"])),
        if topics.is_empty() {
            "-".into()
        } else {
            topics.join(" ")
        },
        if entry["group"].is_null() {
            "-".into()
        } else {
            cell(&entry["group"])
        },
        if errors.is_empty() {
            "-".into()
        } else {
            errors
        },
    ]
}
