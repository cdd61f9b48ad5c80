//! `broker-sim brokers [list]` and `broker-sim brokers stop|start|restart|isolate|heal ID`:
//! `GET /v1/cluster` and `POST /v1/brokers/{id}/{action}`.
//!
//! The list adds how many partitions each broker leads, counted from the topics'
//! descriptions (the cluster endpoint does not say), so a stopped broker's leadership can
//! be seen moving.

use std::collections::BTreeMap;

use clap::Subcommand;
use serde_json::Value;

use super::Connection;
use super::http::{Api, Error};
use super::output::{cell, emit, emit_json, table};
use super::topics::describe;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List brokers: address, rack, status (up, down, isolated), partitions led (the default).
    List,
    /// Stop a broker: its port closes and its partitions elect other leaders.
    Stop { id: i32 },
    /// Start a stopped broker again.
    Start { id: i32 },
    /// Stop a broker and start it again.
    Restart { id: i32 },
    /// Cut a broker off the network: requests to it go unanswered, the cluster fences it.
    Isolate { id: i32 },
    /// Reconnect an isolated broker; held requests are answered.
    Heal { id: i32 },
    /// Freeze the follower copies on a broker: it falls behind and leaves the ISRs.
    PauseReplication { id: i32 },
    /// Let a broker's followers copy from their leaders again.
    ResumeReplication { id: i32 },
}

pub fn run(args: Args) -> Result<(), Error> {
    let api = args.connection.api();
    let json = args.connection.json;
    let (id, action) = match args.action.unwrap_or(Action::List) {
        Action::List => return list(&api, json),
        Action::Stop { id } => (id, "stop"),
        Action::Start { id } => (id, "start"),
        Action::Restart { id } => (id, "restart"),
        Action::Isolate { id } => (id, "isolate"),
        Action::Heal { id } => (id, "heal"),
        Action::PauseReplication { id } => (id, "pause-replication"),
        Action::ResumeReplication { id } => (id, "resume-replication"),
    };
    let broker = api.post(&format!("/v1/brokers/{id}/{action}"), None)?;
    if json {
        return emit_json(&broker);
    }
    emit(&format!("broker {id}: {}", status(&broker)))
}

fn status(broker: &Value) -> &'static str {
    if broker["up"] == false {
        "down"
    } else if broker["isolated"] == true {
        "isolated"
    } else {
        "up"
    }
}

fn list(api: &Api, json: bool) -> Result<(), Error> {
    let cluster = api.get("/v1/cluster", &[])?;
    if json {
        return emit_json(&cluster);
    }
    let mut leads: BTreeMap<i64, usize> = BTreeMap::new();
    let topics = api.get("/v1/topics", &[])?;
    for topic in topics["topics"].as_array().into_iter().flatten() {
        let topic = describe(api, &cell(topic))?;
        for p in topic["partitions"].as_array().into_iter().flatten() {
            if let Some(leader) = p["leader"].as_i64() {
                *leads.entry(leader).or_default() += 1;
            }
        }
    }
    let controller = cluster["controller"].as_i64();
    let rows = cluster["brokers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let id = b["id"].as_i64().unwrap_or(-1);
            vec![
                format!(
                    "{id}{}",
                    if Some(id) == controller {
                        " (controller)"
                    } else {
                        ""
                    }
                ),
                format!("{}:{}", cell(&b["host"]), cell(&b["port"])),
                cell(&b["rack"]),
                status(b).to_string(),
                leads.get(&id).copied().unwrap_or(0).to_string(),
            ]
        })
        .collect();
    emit(&format!(
        "cluster {}, bootstrap {}\n{}",
        cell(&cluster["cluster_id"]),
        cell(&cluster["bootstrap_servers"]),
        table(&["id", "address", "rack", "status", "leader-of"], rows)
    ))
}
