//! `broker-sim groups list | describe GROUP`: `GET /v1/groups` and `GET /v1/groups/{group}`.
//!
//! A description shows the group, its members with their assignments, and one row per
//! partition with the committed offset, the partition's end (high watermark) and the lag
//! between them, as `kafka-consumer-groups --describe` does. The group endpoint gives
//! both for committed partitions; an assigned partition without a commit yet takes its
//! end from the topic's description and shows `-` for the offset and the lag.

use std::collections::BTreeMap;

use clap::Subcommand;
use serde_json::Value;

use super::Connection;
use super::http::{Api, Error, segment};
use super::output::{cell, emit, emit_json, table};
use super::topics::describe as describe_topic;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List consumer groups with their state, members and total lag.
    List,
    /// Show a group's state, members, committed offsets and lag per partition.
    Describe {
        /// The group id.
        group: String,
    },
}

pub fn run(args: Args) -> Result<(), Error> {
    let api = args.connection.api();
    let json = args.connection.json;
    match args.action {
        Action::List => {
            let answer = api.get("/v1/groups", &[])?;
            if json {
                return emit_json(&answer);
            }
            let mut rows = Vec::new();
            for id in answer["groups"].as_array().into_iter().flatten() {
                let group = describe(&api, &cell(id))?;
                rows.push(vec![
                    cell(id),
                    cell(&group["state"]),
                    protocol(&group),
                    members(&group).len().to_string(),
                    cell(&group["total_lag"]),
                ]);
            }
            emit(&table(
                &["group", "state", "protocol", "members", "lag"],
                rows,
            ))
        }
        Action::Describe { group } => {
            let answer = describe(&api, &group)?;
            if json {
                return emit_json(&answer);
            }
            emit(&render(&api, &answer)?)
        }
    }
}

fn describe(api: &Api, group: &str) -> Result<Value, Error> {
    api.get(&format!("/v1/groups/{}", segment(group)), &[])
}

fn members(group: &Value) -> Vec<Value> {
    group["members"].as_array().cloned().unwrap_or_default()
}

/// "consumer/range", or "-" for a group without one yet.
fn protocol(group: &Value) -> String {
    match (group["protocol_type"].as_str(), group["protocol"].as_str()) {
        (Some(t), Some(p)) if !t.is_empty() && !p.is_empty() => format!("{t}/{p}"),
        (Some(t), _) if !t.is_empty() => t.to_string(),
        _ => cell(&group["type"]),
    }
}

/// The partitions of a member's assignment, `{"topic": [0, 1]}`.
fn assigned(member: &Value) -> Vec<(String, i64)> {
    member["assignment"]
        .as_object()
        .into_iter()
        .flatten()
        .flat_map(|(topic, partitions)| {
            partitions
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| p.as_i64())
                .map(|p| (topic.clone(), p))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn render(api: &Api, group: &Value) -> Result<String, Error> {
    let mut text = format!(
        "group {}: {}, protocol {}, generation {}, coordinator {}, leader {}",
        cell(&group["group_id"]),
        cell(&group["state"]),
        protocol(group),
        cell(&group["generation"]),
        cell(&group["coordinator"]),
        cell(&group["leader"]),
    );
    let members = members(group);
    // Who consumes each partition, for the offsets table.
    let mut owner: BTreeMap<(String, i64), String> = BTreeMap::new();
    let member_rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| {
            let partitions = assigned(m);
            for tp in &partitions {
                owner.insert(tp.clone(), cell(&m["client_id"]));
            }
            let assignment: Vec<String> =
                partitions.iter().map(|(t, p)| format!("{t}-{p}")).collect();
            vec![
                cell(&m["member_id"]),
                cell(&m["client_id"]),
                cell(&m["client_host"]),
                assignment.join(","),
            ]
        })
        .collect();
    if !member_rows.is_empty() {
        text.push_str("\n\n");
        text.push_str(&table(
            &["member", "client-id", "host", "assignment"],
            member_rows,
        ));
    }

    // (topic, partition) → (committed, end, lag), in topic and partition order.
    let mut offsets: BTreeMap<(String, i64), [String; 3]> = BTreeMap::new();
    for o in group["offsets"].as_array().into_iter().flatten() {
        let tp = (cell(&o["topic"]), o["partition"].as_i64().unwrap_or(-1));
        offsets.insert(
            tp,
            [
                cell(&o["offset"]),
                cell(&o["high_watermark"]),
                cell(&o["lag"]),
            ],
        );
    }
    let mut ends: BTreeMap<String, Value> = BTreeMap::new();
    for (topic, partition) in owner.keys() {
        if offsets.contains_key(&(topic.clone(), *partition)) {
            continue;
        }
        if !ends.contains_key(topic) {
            ends.insert(topic.clone(), describe_topic(api, topic)?);
        }
        let end = ends[topic]["partitions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["partition"] == *partition)
            .map_or_else(|| "-".to_string(), |p| cell(&p["high_watermark"]));
        offsets.insert(
            (topic.clone(), *partition),
            ["-".to_string(), end, "-".to_string()],
        );
    }
    let rows: Vec<Vec<String>> = offsets
        .into_iter()
        .map(|((topic, partition), [committed, end, lag])| {
            let consumer = owner
                .get(&(topic.clone(), partition))
                .cloned()
                .unwrap_or_else(|| "-".to_string());
            vec![topic, partition.to_string(), committed, end, lag, consumer]
        })
        .collect();
    text.push_str("\n\n");
    if rows.is_empty() {
        text.push_str("no committed offsets");
    } else {
        text.push_str(&table(
            &["topic", "partition", "committed", "end", "lag", "consumer"],
            rows,
        ));
        text.push_str(&format!("\ntotal lag: {}", cell(&group["total_lag"])));
    }
    Ok(text)
}
