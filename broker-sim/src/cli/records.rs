//! `broker-sim records`, `tail` and `produce`: reading and writing a topic's records
//! through `GET` and `POST /v1/topics/{topic}/records`.
//!
//! Reads go one partition at a time, a page after another from each page's `next_offset`,
//! so `--key` (matched here: the API has no key filter) and `--limit` count matching
//! records, and `tail` knows exactly where to ask next. `tail` polls every 200 ms while
//! nothing is new: the API has no push, and a person watching a terminal does not notice
//! the delay.

use std::io::BufRead;
use std::time::Duration;

use serde_json::{Value, json};

use super::Connection;
use super::http::{Api, Error, segment};
use super::output::{
    Decode, bytes, cell, decoded, emit, emit_json, key_value, schema_decoded, table, time,
};
use super::topics::describe;

/// Records asked for per request.
const PAGE: usize = 500;

/// How long `tail` waits before asking again when nothing was new.
const POLL: Duration = Duration::from_millis(200);

#[derive(Debug, clap::Args)]
pub struct RecordsArgs {
    /// The topic.
    topic: String,
    /// Only this partition (default: every partition, in partition order).
    #[arg(long, short)]
    partition: Option<i32>,
    /// Only records with this key (UTF-8).
    #[arg(long, short)]
    key: Option<String>,
    /// Start at this offset in each partition read.
    #[arg(long, short, default_value_t = 0)]
    offset: i64,
    /// At most this many records in all.
    #[arg(long, short = 'n', default_value_t = 100)]
    limit: usize,
    /// How to show keys and values.
    #[arg(long, value_enum, default_value_t = Decode::Utf8)]
    decode: Decode,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct TailArgs {
    /// The topic.
    topic: String,
    /// Only this partition (default: every partition).
    #[arg(long, short)]
    partition: Option<i32>,
    /// Only records with this key (UTF-8).
    #[arg(long, short)]
    key: Option<String>,
    /// Start with the records already there, from offset 0 (default: only new ones).
    #[arg(long)]
    from_beginning: bool,
    /// Stop after this many records (default: follow until Ctrl-C).
    #[arg(long, value_name = "N")]
    max: Option<usize>,
    /// How to show keys and values.
    #[arg(long, value_enum, default_value_t = Decode::Utf8)]
    decode: Decode,
    #[command(flatten)]
    connection: Connection,
}

#[derive(Debug, clap::Args)]
pub struct ProduceArgs {
    /// The topic.
    topic: String,
    /// Values, one record each (default: one record per line of stdin).
    values: Vec<String>,
    /// The key of every record (default: none, spread over partitions round robin).
    #[arg(long, short, conflicts_with = "key_separator")]
    key: Option<String>,
    /// Write to this partition (default: by key as the Java client, else round robin).
    #[arg(long, short)]
    partition: Option<i32>,
    /// A header on every record (repeatable).
    #[arg(long = "header", short = 'H', value_name = "KEY=VALUE", value_parser = key_value)]
    headers: Vec<(String, String)>,
    /// Read stdin lines as KEY<SEP>VALUE (split at the first SEP).
    #[arg(long, value_name = "SEP", conflicts_with = "values")]
    key_separator: Option<String>,
    #[command(flatten)]
    connection: Connection,
}

/// A partition's records from `offset` on, one page: (records, next offset).
fn page(api: &Api, topic: &str, partition: i32, offset: i64) -> Result<(Vec<Value>, i64), Error> {
    let answer = api.get(
        &format!("/v1/topics/{}/records", segment(topic)),
        &[
            ("partition", partition.to_string()),
            ("offset", offset.to_string()),
            ("limit", PAGE.to_string()),
        ],
    )?;
    let next = answer["next_offset"].as_i64().unwrap_or(offset);
    let records = answer["records"].as_array().cloned().unwrap_or_default();
    Ok((records, next))
}

/// The partitions to read: `only`, checked against the topic, or all of them.
fn partitions(api: &Api, topic: &str, only: Option<i32>) -> Result<Vec<Value>, Error> {
    let all = describe(api, topic)?["partitions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    match only {
        None => Ok(all),
        Some(p) => match all.into_iter().find(|info| info["partition"] == p) {
            Some(info) => Ok(vec![info]),
            None => Err(Error::Other(format!(
                "topic {topic:?} has no partition {p}"
            ))),
        },
    }
}

fn key_matches(record: &Value, key: Option<&str>) -> bool {
    key.is_none_or(|key| {
        bytes(&record["key"], &record["key_encoding"]).as_deref() == Some(key.as_bytes())
    })
}

/// A record's row: partition, offset, time, key, value, headers.
fn row(record: &Value, decode: Decode) -> Vec<String> {
    let shown = |text: &Value, encoding: &Value| decoded(bytes(text, encoding).as_deref(), decode);
    let headers: Vec<String> = record["headers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            format!(
                "{}={}",
                cell(&h["key"]),
                shown(&h["value"], &h["value_encoding"])
            )
        })
        .collect();
    let part = |name: &str| {
        let (text, encoding) = (&record[name], &record[format!("{name}_encoding")]);
        if decode == Decode::Schema {
            schema_decoded(
                &record[format!("{name}_decoded")],
                bytes(text, encoding).as_deref(),
            )
        } else {
            shown(text, encoding)
        }
    };
    vec![
        cell(&record["partition"]),
        cell(&record["offset"]),
        time(&record["timestamp"]),
        part("key"),
        part("value"),
        headers.join(","),
    ]
}

const COLUMNS: [&str; 6] = [
    "partition",
    "offset",
    "timestamp",
    "key",
    "value",
    "headers",
];

pub fn records(args: RecordsArgs) -> Result<(), Error> {
    let api = args.connection.api();
    let mut found = Vec::new();
    for info in partitions(&api, &args.topic, args.partition)? {
        let partition = info["partition"].as_i64().unwrap_or(0) as i32;
        let mut offset = args.offset;
        while found.len() < args.limit {
            let (records, next) = page(&api, &args.topic, partition, offset)?;
            if records.is_empty() {
                break;
            }
            found.extend(
                records
                    .into_iter()
                    .filter(|r| key_matches(r, args.key.as_deref())),
            );
            offset = next;
        }
    }
    found.truncate(args.limit);
    if args.connection.json {
        return emit_json(&json!({ "topic": args.topic, "records": found }));
    }
    let rows = found.iter().map(|r| row(r, args.decode)).collect();
    emit(&table(&COLUMNS, rows))
}

pub fn tail(args: TailArgs) -> Result<(), Error> {
    let api = args.connection.api();
    let mut next: Vec<(i32, i64)> = partitions(&api, &args.topic, args.partition)?
        .iter()
        .map(|p| {
            let start = if args.from_beginning {
                0
            } else {
                p["high_watermark"].as_i64().unwrap_or(0)
            };
            (p["partition"].as_i64().unwrap_or(0) as i32, start)
        })
        .collect();
    // On stderr, so that stdout holds only records: says where tail starts, and tells a
    // script that records produced from now on will be shown.
    eprintln!(
        "following {} ({} partition{}) from {}; Ctrl-C to stop",
        args.topic,
        next.len(),
        if next.len() == 1 { "" } else { "s" },
        if args.from_beginning {
            "the beginning"
        } else {
            "the end"
        }
    );
    let max = args.max.unwrap_or(usize::MAX);
    let mut shown = 0;
    let mut header = !args.connection.json;
    while shown < max {
        let mut any = false;
        for (partition, offset) in &mut next {
            let (records, after) = page(&api, &args.topic, *partition, *offset)?;
            any |= !records.is_empty();
            *offset = after;
            for record in records
                .iter()
                .filter(|r| key_matches(r, args.key.as_deref()))
            {
                if shown == max {
                    break;
                }
                shown += 1;
                if args.connection.json {
                    emit(&record.to_string())?;
                } else {
                    // Each record is printed as it comes, so columns are aligned by the
                    // header's widths only: a table would wait for the end.
                    if header {
                        emit(&COLUMNS.map(str::to_uppercase).join("\t"))?;
                        header = false;
                    }
                    emit(&row(record, args.decode).join("\t"))?;
                }
            }
        }
        if !any {
            std::thread::sleep(POLL);
        }
    }
    Ok(())
}

pub fn produce(args: ProduceArgs) -> Result<(), Error> {
    let api = args.connection.api();
    let path = format!("/v1/topics/{}/records", segment(&args.topic));
    let record = |key: Option<&str>, value: &str| {
        let mut record = json!({ "value": value });
        if let Some(key) = key.or(args.key.as_deref()) {
            record["key"] = json!(key);
        }
        if let Some(p) = args.partition {
            record["partition"] = json!(p);
        }
        if !args.headers.is_empty() {
            let headers: Vec<Value> = args
                .headers
                .iter()
                .map(|(k, v)| json!({ "key": k, "value": v }))
                .collect();
            record["headers"] = json!(headers);
        }
        record
    };
    let mut written: Vec<Value> = Vec::new();
    let mut send = |batch: &mut Vec<Value>| -> Result<(), Error> {
        if batch.is_empty() {
            return Ok(());
        }
        let answer = api.post(&path, Some(&json!({ "records": batch })))?;
        written.extend(answer["records"].as_array().cloned().unwrap_or_default());
        batch.clear();
        Ok(())
    };
    let mut batch = Vec::new();
    if args.values.is_empty() {
        // Sent a page at a time, so a long stream (`yes | broker-sim produce t`) is written
        // as it is read.
        for (n, line) in std::io::stdin().lock().lines().enumerate() {
            let line = line.map_err(|e| Error::Other(format!("cannot read stdin: {e}")))?;
            let line = line.strip_suffix('\r').unwrap_or(&line);
            batch.push(match &args.key_separator {
                None => record(None, line),
                Some(sep) => {
                    let (key, value) = line.split_once(sep.as_str()).ok_or_else(|| {
                        Error::Other(format!(
                            "stdin line {} has no key separator {sep:?}: {line:?}",
                            n + 1
                        ))
                    })?;
                    record(Some(key), value)
                }
            });
            if batch.len() == PAGE {
                send(&mut batch)?;
            }
        }
    } else {
        batch.extend(args.values.iter().map(|v| record(None, v)));
    }
    send(&mut batch)?;
    if args.connection.json {
        return emit_json(&json!({ "topic": args.topic, "records": written }));
    }
    emit(&summary(&args.topic, &written))
}

/// "wrote 3 records to orders: partition 0 offsets 0-1, partition 2 offset 0".
fn summary(topic: &str, written: &[Value]) -> String {
    let mut ranges: std::collections::BTreeMap<i64, (i64, i64)> = Default::default();
    for w in written {
        let (p, o) = (
            w["partition"].as_i64().unwrap_or(-1),
            w["offset"].as_i64().unwrap_or(-1),
        );
        let range = ranges.entry(p).or_insert((o, o));
        range.0 = range.0.min(o);
        range.1 = range.1.max(o);
    }
    let parts: Vec<String> = ranges
        .iter()
        .map(|(p, (first, last))| match first == last {
            true => format!("partition {p} offset {first}"),
            false => format!("partition {p} offsets {first}-{last}"),
        })
        .collect();
    let noun = if written.len() == 1 {
        "record"
    } else {
        "records"
    };
    match parts.is_empty() {
        true => format!("wrote no records to {topic}"),
        false => format!(
            "wrote {} {noun} to {topic}: {}",
            written.len(),
            parts.join(", ")
        ),
    }
}
