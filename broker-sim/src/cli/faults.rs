//! `broker-sim faults list | add | remove ID | clear`: `GET`, `POST` and `DELETE`
//! `/v1/faults`.
//!
//! `add` sends a rule in the API's JSON (`--json-rule`, or piped on stdin), or builds the
//! common one from flags: a selector (`--api Produce --topic orders`), one action
//! (`--error NOT_LEADER_OR_FOLLOWER`, `--latency 500`...) and `--times`. Names of APIs and
//! error codes are checked by the cluster, whose 400 names what is wrong.

use std::io::{IsTerminal, Read};

use clap::Subcommand;
use serde_json::{Map, Value, json};

use super::Connection;
use super::http::Error;
use super::output::{cell, emit, emit_json, table};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// List fault rules with their hits (recently spent ones included).
    List,
    /// Add a fault rule; prints its id.
    Add(Box<AddArgs>),
    /// Remove a fault rule.
    Remove {
        /// The rule's id, as `add` printed it.
        id: u64,
    },
    /// Remove every fault rule.
    Clear,
}

#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("action").multiple(false))]
struct AddArgs {
    /// The rule as the API's JSON, e.g. '{"match": {"api": "Produce"}, "action": {"type":
    /// "error", "code": "NOT_LEADER_OR_FOLLOWER"}, "times": 3}'; `-` reads it from stdin.
    #[arg(long, value_name = "JSON", conflicts_with_all = [
        "api", "broker", "topic", "partition", "group", "client_id", "action", "times",
        "probability",
    ])]
    json_rule: Option<String>,
    /// Only requests of this API, by Kafka's name (Produce, Fetch, JoinGroup) or key.
    #[arg(long)]
    api: Option<String>,
    /// Only requests sent to this broker.
    #[arg(long)]
    broker: Option<i32>,
    /// Only requests that name this topic.
    #[arg(long)]
    topic: Option<String>,
    /// Only requests that name this partition.
    #[arg(long)]
    partition: Option<i32>,
    /// Only requests about this consumer group.
    #[arg(long)]
    group: Option<String>,
    /// Only requests with this client id.
    #[arg(long)]
    client_id: Option<String>,
    /// Answer with this Kafka error code instead of processing, e.g. NOT_LEADER_OR_FOLLOWER.
    #[arg(long, value_name = "CODE", group = "action")]
    error: Option<String>,
    /// Process, then answer with this error code (clients retry: duplicates).
    #[arg(long, value_name = "CODE", group = "action")]
    apply_then_error: Option<String>,
    /// Answer this many milliseconds late.
    #[arg(long, value_name = "MS", group = "action")]
    latency: Option<u64>,
    /// Process, and ask the client to back off this many milliseconds.
    #[arg(long, value_name = "MS", group = "action")]
    throttle: Option<i32>,
    /// Close the connection instead of answering.
    #[arg(long, group = "action")]
    close_connection: bool,
    /// Never answer: the client's request times out.
    #[arg(long, group = "action")]
    no_response: bool,
    /// Fire at most this many times (default: until removed).
    #[arg(long)]
    times: Option<u64>,
    /// Fire on a matching request with this probability (0-1).
    #[arg(long)]
    probability: Option<f64>,
}

pub fn run(args: Args) -> Result<(), Error> {
    let api = args.connection.api();
    let json = args.connection.json;
    match args.action {
        Action::List => {
            let answer = api.get("/v1/faults", &[])?;
            if json {
                return emit_json(&answer);
            }
            let rows = answer["faults"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|f| {
                    vec![
                        cell(&f["id"]),
                        fields(&f["match"]).unwrap_or_else(|| "any request".to_string()),
                        action(&f["action"]),
                        cell(&f["times"]),
                        cell(&f["probability"]),
                        cell(&f["hits"]),
                    ]
                })
                .collect();
            emit(&table(
                &["id", "match", "action", "times", "probability", "hits"],
                rows,
            ))
        }
        Action::Add(add) => {
            let rule = rule(*add)?;
            let answer = api.post("/v1/faults", Some(&rule))?;
            if json {
                return emit_json(&answer);
            }
            emit(&format!("added fault {}", cell(&answer["id"])))
        }
        Action::Remove { id } => {
            api.delete(&format!("/v1/faults/{id}"))?;
            if json {
                return emit_json(&json!({ "removed": id }));
            }
            emit(&format!("removed fault {id}"))
        }
        Action::Clear => {
            api.delete("/v1/faults")?;
            if json {
                return emit_json(&json!({ "cleared": true }));
            }
            emit("removed every fault")
        }
    }
}

/// The rule to post: the JSON given, or the one the flags describe.
fn rule(add: AddArgs) -> Result<Value, Error> {
    let text = match add.json_rule.as_deref() {
        Some("-") => Some(stdin()?),
        Some(text) => Some(text.to_string()),
        // A rule piped in without the flag; an empty stdin (`< /dev/null`) is no rule.
        None if !has_action(&add) && !std::io::stdin().is_terminal() => {
            Some(stdin()?).filter(|text| !text.trim().is_empty())
        }
        None => None,
    };
    if let Some(text) = text {
        return serde_json::from_str(&text)
            .map_err(|e| Error::Other(format!("the fault rule is not JSON: {e}")));
    }
    let action = if let Some(code) = add.error {
        json!({ "type": "error", "code": code })
    } else if let Some(code) = add.apply_then_error {
        json!({ "type": "apply_then_error", "code": code })
    } else if let Some(ms) = add.latency {
        json!({ "type": "latency", "ms": ms })
    } else if let Some(ms) = add.throttle {
        json!({ "type": "throttle", "ms": ms })
    } else if add.close_connection {
        json!({ "type": "close_connection" })
    } else if add.no_response {
        json!({ "type": "no_response" })
    } else {
        return Err(Error::Other(
            "say what the fault does (--error CODE, --latency MS, --throttle MS, \
             --close-connection, --no-response, --apply-then-error CODE), or give the rule \
             as --json-rule JSON or on stdin"
                .to_string(),
        ));
    };
    let mut selector = Map::new();
    let mut select = |name: &str, value: Value| {
        if !value.is_null() {
            selector.insert(name.to_string(), value);
        }
    };
    select("api", json!(add.api));
    select("broker", json!(add.broker));
    select("topic", json!(add.topic));
    select("partition", json!(add.partition));
    select("group", json!(add.group));
    select("client_id", json!(add.client_id));
    let mut rule = json!({ "match": selector, "action": action });
    if let Some(n) = add.times {
        rule["times"] = json!(n);
    }
    if let Some(p) = add.probability {
        rule["probability"] = json!(p);
    }
    Ok(rule)
}

fn has_action(add: &AddArgs) -> bool {
    add.error.is_some()
        || add.apply_then_error.is_some()
        || add.latency.is_some()
        || add.throttle.is_some()
        || add.close_connection
        || add.no_response
}

fn stdin() -> Result<String, Error> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| Error::Other(format!("cannot read the fault rule from stdin: {e}")))?;
    Ok(text)
}

/// An object's fields as `k=v k=v`, keys in order; `None` when it has none.
fn fields(value: &Value) -> Option<String> {
    let object = value.as_object().filter(|o| !o.is_empty())?;
    let fields: Vec<String> = object
        .iter()
        .map(|(k, v)| format!("{k}={}", cell(v)))
        .collect();
    Some(fields.join(" "))
}

/// "error NOT_LEADER_OR_FOLLOWER", "latency ms=500", "close_connection".
fn action(action: &Value) -> String {
    let kind = cell(&action["type"]);
    let mut rest = action.as_object().cloned().unwrap_or_default();
    rest.remove("type");
    match rest.remove("code") {
        Some(code) => format!("{kind} {}", cell(&code)),
        None => match fields(&Value::Object(rest)) {
            Some(fields) => format!("{kind} {fields}"),
            None => kind,
        },
    }
}
