//! `broker-sim schemas`: the embedded schema registry from a terminal —
//! `schemas list` (every subject with its latest version), `schemas show SUBJECT`
//! (a version's schema text), `schemas id ID` (a schema by its global id),
//! `schemas register SUBJECT FILE` and `schemas check TOPIC` (the records that break
//! their schemas, `GET /v1/topics/{t}/schema-violations`).
//!
//! The registry answers with Confluent's REST API (`/subjects/...`, `/schemas/ids/...`)
//! on the control port, so these are the calls any Confluent client makes. `check` exits
//! 1 when it finds a violation, for scripts and CI steps.

use std::path::PathBuf;

use clap::Subcommand;
use serde_json::{Value, json};

use super::Connection;
use super::http::{Api, Error, segment};
use super::output::{cell, emit, emit_json, table};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Option<Action>,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, Subcommand)]
enum Action {
    /// Every subject with its latest version, id and type (the default).
    List,
    /// One version of a subject (the latest by default): its id, type and schema text.
    Show {
        subject: String,
        /// A version number, or `latest`.
        #[arg(long, default_value = "latest")]
        version: String,
    },
    /// The schema with this global id.
    Id { id: i32 },
    /// Register a schema (read from FILE, or stdin for `-`) under SUBJECT; prints its id.
    Register {
        subject: String,
        file: PathBuf,
        /// AVRO, JSON or PROTOBUF.
        #[arg(long = "type", default_value = "AVRO")]
        schema_type: String,
    },
    /// The records of TOPIC whose value (or key) is not a valid message of a schema of
    /// its TopicNameStrategy subject; exits 1 if there is any.
    Check { topic: String },
}

pub fn run(args: Args) -> Result<(), Error> {
    let api = args.connection.api();
    let json = args.connection.json;
    match args.action.unwrap_or(Action::List) {
        Action::List => list(&api, json),
        Action::Show { subject, version } => {
            let path = format!(
                "/subjects/{}/versions/{}",
                segment(&subject),
                segment(&version)
            );
            show(&api.get(&path, &[])?, json)
        }
        Action::Id { id } => show(&api.get(&format!("/schemas/ids/{id}"), &[])?, json),
        Action::Register {
            subject,
            file,
            schema_type,
        } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(&file)
            }
            .map_err(|e| Error::Other(format!("cannot read {}: {e}", file.display())))?;
            let body = json!({ "schema": text, "schemaType": schema_type.to_uppercase() });
            let path = format!("/subjects/{}/versions", segment(&subject));
            let answer = api.post(&path, Some(&body))?;
            if json {
                return emit_json(&answer);
            }
            emit(&format!("{subject}: id {}", cell(&answer["id"])))
        }
        Action::Check { topic } => check(&api, &topic, json),
    }
}

fn list(api: &Api, json: bool) -> Result<(), Error> {
    let subjects = api.get("/subjects", &[])?;
    let mut latest = Vec::new();
    for subject in subjects.as_array().into_iter().flatten() {
        let name = subject.as_str().unwrap_or_default();
        let path = format!("/subjects/{}/versions/latest", segment(name));
        latest.push(api.get(&path, &[])?);
    }
    if json {
        return emit_json(&Value::Array(latest));
    }
    let rows = latest
        .iter()
        .map(|s| {
            vec![
                cell(&s["subject"]),
                cell(&s["version"]),
                cell(&s["id"]),
                schema_type(s).to_string(),
            ]
        })
        .collect();
    emit(&table(&["subject", "latest", "id", "type"], rows))
}

/// Confluent leaves `schemaType` out for AVRO.
fn schema_type(schema: &Value) -> &str {
    schema["schemaType"].as_str().unwrap_or("AVRO")
}

fn show(schema: &Value, json: bool) -> Result<(), Error> {
    if json {
        return emit_json(schema);
    }
    let mut heading = Vec::new();
    if !schema["subject"].is_null() {
        heading.push(format!(
            "{} version {}",
            cell(&schema["subject"]),
            cell(&schema["version"])
        ));
    }
    if !schema["id"].is_null() {
        heading.push(format!("id {}", cell(&schema["id"])));
    }
    heading.push(schema_type(schema).to_string());
    let text = schema["schema"].as_str().unwrap_or_default();
    // JSON schemas (Avro's, JSON Schema's) are stored on one line: indent them.
    let text = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string());
    emit(&format!("{}\n{text}", heading.join(", ")))
}

fn check(api: &Api, topic: &str, json: bool) -> Result<(), Error> {
    let path = format!("/v1/topics/{}/schema-violations", segment(topic));
    let answer = api.get(&path, &[])?;
    let violations = answer["violations"].as_array().cloned().unwrap_or_default();
    if json {
        emit_json(&answer)?;
    } else if violations.is_empty() {
        emit(&format!(
            "{topic}: {} records checked, every one valid",
            cell(&answer["checked"])
        ))?;
    } else {
        let rows = violations
            .iter()
            .map(|v| {
                [
                    "partition",
                    "offset",
                    "part",
                    "schema_id",
                    "reason",
                    "message",
                ]
                .iter()
                .map(|name| cell(&v[*name]))
                .collect()
            })
            .collect();
        emit(&table(
            &[
                "partition",
                "offset",
                "part",
                "schema id",
                "reason",
                "message",
            ],
            rows,
        ))?;
    }
    if violations.is_empty() {
        Ok(())
    } else {
        Err(Error::Other(format!(
            "{} of {} records of {topic} violate their schemas",
            violations.len(),
            cell(&answer["checked"])
        )))
    }
}
