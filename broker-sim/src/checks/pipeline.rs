//! The checks that need the application's word: exactly-once for a consume-transform-
//! produce pipeline (which output belongs to which input), and what the application says
//! it handled.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::groups::{Step, Timelines, timelines};
use super::{Check, Involved, PartitionSnapshot, Snapshot, Violation};
use crate::Record;

/// What names a record across a pipeline: its key, its value, or one header's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Id {
    Key,
    Value,
    Header(String),
}

impl Id {
    fn of(&self, r: &Record) -> Option<Bytes> {
        match self {
            Id::Key => r.key.clone(),
            Id::Value => r.value.clone(),
            Id::Header(name) => r
                .headers
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, v)| v.clone()),
        }
    }
}

impl TryFrom<String> for Id {
    type Error = String;

    /// `key`, `value` or `header:NAME`.
    fn try_from(s: String) -> Result<Id, String> {
        match s.as_str() {
            "key" => Ok(Id::Key),
            "value" => Ok(Id::Value),
            _ => match s.strip_prefix("header:") {
                Some(name) if !name.is_empty() => Ok(Id::Header(name.to_string())),
                _ => Err(format!(
                    "unknown record id {s:?}: use key, value or header:NAME"
                )),
            },
        }
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        match id {
            Id::Key => "key".into(),
            Id::Value => "value".into(),
            Id::Header(name) => format!("header:{name}"),
        }
    }
}

/// A consume-transform-produce pipeline: `group` reads `input` and writes `output`; an
/// output belongs to the input whose `input_id` equals its `output_id` (by default both
/// are the value: the pipeline carries each input's value, or the test makes it so).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExactlyOnce {
    pub input: String,
    pub output: String,
    pub group: String,
    #[serde(default = "value_id")]
    pub input_id: Id,
    #[serde(default = "value_id")]
    pub output_id: Id,
}

fn value_id() -> Id {
    Id::Value
}

impl ExactlyOnce {
    pub fn new(
        input: impl Into<String>,
        output: impl Into<String>,
        group: impl Into<String>,
    ) -> ExactlyOnce {
        ExactlyOnce {
            input: input.into(),
            output: output.into(),
            group: group.into(),
            input_id: Id::Value,
            output_id: Id::Value,
        }
    }

    /// Matches inputs and outputs by `id` on both sides.
    pub fn by(mut self, id: Id) -> ExactlyOnce {
        self.input_id = id.clone();
        self.output_id = id;
        self
    }

    /// Matches by `input_id` on inputs and `output_id` on outputs.
    pub fn ids(mut self, input_id: Id, output_id: Id) -> ExactlyOnce {
        self.input_id = input_id;
        self.output_id = output_id;
        self
    }
}

/// Where `group` started reading each partition of `topic` (its first fetch offset or
/// explicit position), if it did.
fn starts(timelines: &Timelines<'_>, group: &str, topic: &str) -> BTreeMap<i32, i64> {
    let mut starts = BTreeMap::new();
    for ((g, t, partition), steps) in timelines {
        if g != group || t != topic {
            continue;
        }
        let first = steps.iter().find_map(|s| match s {
            Step::Handed(h) => Some(h.from),
            Step::Committed { offset, source, .. } if source.is_explicit() && *offset >= 0 => {
                Some(*offset)
            }
            Step::Committed { .. } => None,
        });
        if let Some(first) = first {
            starts.insert(*partition, first);
        }
    }
    starts
}

/// What a read_committed consumer gets of a partition.
fn visible(p: &PartitionSnapshot) -> impl Iterator<Item = &Record> {
    p.records.iter().filter(|r| {
        r.offset >= p.log_start_offset
            && r.offset < p.last_stable_offset
            && r.transaction.is_visible_to_read_committed()
    })
}

/// Each committed input has exactly one read_committed output; no output of an input
/// whose offset is not committed (see the module docs of `checks`).
pub fn exactly_once(snapshot: &Snapshot, spec: &ExactlyOnce) -> Vec<Violation> {
    let committed = snapshot.committed(&spec.group);
    let starts = starts(&timelines(snapshot), &spec.group, &spec.input);
    // id → the committed inputs that carry it, and the uncommitted ones.
    let mut expected: BTreeMap<Bytes, Vec<&Record>> = BTreeMap::new();
    let mut uncommitted: BTreeMap<Bytes, &Record> = BTreeMap::new();
    for p in snapshot.topic(&spec.input) {
        let upto = committed
            .get(&(spec.input.clone(), p.partition))
            .copied()
            .unwrap_or(0);
        let from = starts
            .get(&p.partition)
            .copied()
            .unwrap_or(p.log_start_offset);
        for r in visible(p).filter(|r| r.offset >= from) {
            let Some(id) = spec.input_id.of(r) else {
                continue;
            };
            if r.offset < upto {
                expected.entry(id).or_default().push(r);
            } else {
                uncommitted.entry(id).or_insert(r);
            }
        }
    }
    let mut produced: BTreeMap<Bytes, Vec<&Record>> = BTreeMap::new();
    let mut out = Vec::new();
    for p in snapshot.topic(&spec.output) {
        for r in visible(p) {
            let Some(id) = spec.output_id.of(r) else {
                continue;
            };
            produced.entry(id).or_default().push(r);
        }
    }
    let violation = |r: &Record, message: String, records: Vec<&Record>| {
        let mut v =
            Violation::new(Check::ExactlyOnce, &r.topic, r.partition, message).group(&spec.group);
        v.offsets = vec![r.offset];
        v.records = records.into_iter().map(Involved::of).collect();
        v
    };
    for (id, inputs) in &expected {
        let outputs = produced.get(id).map_or(&[][..], Vec::as_slice);
        if outputs.len() < inputs.len() {
            let first = inputs[outputs.len()];
            out.push(violation(
                first,
                format!(
                    "input offset {} is committed but has {} read_committed output(s) for {} input(s) with its id",
                    first.offset,
                    outputs.len(),
                    inputs.len()
                ),
                inputs.clone(),
            ));
        } else if outputs.len() > inputs.len() {
            let extra = outputs[inputs.len()];
            out.push(violation(
                extra,
                format!(
                    "{} read_committed outputs for {} committed input(s) with this id: the effect appears more than once",
                    outputs.len(),
                    inputs.len()
                ),
                inputs.iter().chain(outputs).copied().collect(),
            ));
        }
    }
    for (id, outputs) in &produced {
        if expected.contains_key(id) {
            continue;
        }
        let first = outputs[0];
        match uncommitted.get(id) {
            Some(input) => out.push(violation(
                first,
                format!(
                    "output of input {}-{} offset {}, which the group has not committed: the output and the offset commit were not atomic",
                    input.topic, input.partition, input.offset
                ),
                vec![*input, first],
            )),
            None => out.push(violation(
                first,
                "read_committed output with no input record carrying its id".into(),
                vec![first],
            )),
        }
    }
    out.sort_by(|a, b| {
        (&a.topic, a.partition, &a.offsets).cmp(&(&b.topic, b.partition, &b.offsets))
    });
    out
}

/// How often the application may handle a record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Again only when the group was handed it again (after a crash or rebalance).
    #[default]
    AtLeastOnce,
    /// Never twice.
    ExactlyOnce,
}

/// What the application says it handled of `topic`: (partition, offset) in the order it
/// handled them, as a consumer group `group` (or, without one, reading the whole log).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handled {
    pub topic: String,
    #[serde(default)]
    pub group: Option<String>,
    pub records: Vec<(i32, i64)>,
    #[serde(default)]
    pub delivery: Delivery,
    /// The application reads with read_committed: aborted records must not be handled.
    #[serde(default)]
    pub read_committed: bool,
}

impl Handled {
    pub fn new(topic: impl Into<String>) -> Handled {
        Handled {
            topic: topic.into(),
            ..Handled::default()
        }
    }

    pub fn group(mut self, group: impl Into<String>) -> Handled {
        self.group = Some(group.into());
        self
    }

    pub fn records(mut self, records: impl IntoIterator<Item = (i32, i64)>) -> Handled {
        self.records.extend(records);
        self
    }

    pub fn delivery(mut self, delivery: Delivery) -> Handled {
        self.delivery = delivery;
        self
    }

    pub fn read_committed(mut self) -> Handled {
        self.read_committed = true;
        self
    }
}

/// The application's account judged (see the module docs of `checks`).
pub fn handled(snapshot: &Snapshot, spec: &Handled) -> Vec<Violation> {
    let topic = spec.topic.as_str();
    let committed = spec.group.as_ref().map(|g| snapshot.committed(g));
    let timelines = if spec.group.is_some() {
        timelines(snapshot)
    } else {
        Timelines::new()
    };
    let starts = spec
        .group
        .as_ref()
        .map(|g| starts(&timelines, g, topic))
        .unwrap_or_default();
    // How often the group was handed each offset, per partition.
    let mut handed: BTreeMap<i32, Vec<(i64, i64)>> = BTreeMap::new();
    if let Some(group) = &spec.group {
        for ((g, t, partition), steps) in &timelines {
            if g == group && t == topic {
                handed.insert(
                    *partition,
                    steps
                        .iter()
                        .filter_map(|s| match s {
                            Step::Handed(h) => Some((h.from, h.end)),
                            Step::Committed { .. } => None,
                        })
                        .collect(),
                );
            }
        }
    }
    let mut counts: BTreeMap<(i32, i64), usize> = BTreeMap::new();
    for &(partition, offset) in &spec.records {
        *counts.entry((partition, offset)).or_default() += 1;
    }
    let mut out = Vec::new();
    let tag = |v: Violation| match &spec.group {
        Some(g) => v.group(g),
        None => v,
    };
    for p in snapshot.topic(topic) {
        let wanted = |r: &&Record| {
            !spec.read_committed
                || (r.offset < p.last_stable_offset && r.transaction.is_visible_to_read_committed())
        };
        // Nothing required unhandled.
        let from = starts
            .get(&p.partition)
            .copied()
            .unwrap_or(0)
            .max(p.log_start_offset);
        let upto = match &committed {
            Some(c) => c
                .get(&(topic.to_string(), p.partition))
                .copied()
                .unwrap_or(from),
            None => p.high_watermark,
        };
        let missing: Vec<i64> = p
            .records_in(from, upto)
            .iter()
            .filter(wanted)
            .filter(|r| !counts.contains_key(&(p.partition, r.offset)))
            .map(|r| r.offset)
            .collect();
        if !missing.is_empty() {
            let what = if committed.is_some() {
                format!("below the group's committed offset {upto}")
            } else {
                "in the log".to_string()
            };
            out.push(tag(Violation::new(
                Check::Handled,
                topic,
                p.partition,
                format!("{} record(s) {what} were never handled", missing.len()),
            )
            .offsets(Some(p), missing)));
        }
        // Only records a consumer could get.
        let unknown: Vec<i64> = counts
            .keys()
            .filter(|(partition, _)| *partition == p.partition)
            .map(|(_, offset)| *offset)
            .filter(|o| p.record(*o).is_none_or(|r| !wanted(&r)))
            .filter(|o| *o >= p.log_start_offset)
            .collect();
        if !unknown.is_empty() {
            out.push(tag(Violation::new(
                Check::Handled,
                topic,
                p.partition,
                "handled records the consumer cannot have read (not in the log, or aborted for a read_committed consumer)".into(),
            )
            .offsets(Some(p), unknown)));
        }
        // Duplicates only where allowed.
        let spans = handed.get(&p.partition);
        let over: Vec<i64> = counts
            .iter()
            .filter(|((partition, _), n)| *partition == p.partition && **n > 1)
            .filter(|((_, offset), n)| match (spec.delivery, spans) {
                (Delivery::ExactlyOnce, _) => true,
                (Delivery::AtLeastOnce, None) => false,
                (Delivery::AtLeastOnce, Some(spans)) => {
                    let times = spans
                        .iter()
                        .filter(|(from, end)| from <= offset && offset < end)
                        .count();
                    **n > times
                }
            })
            .map(|((_, offset), _)| *offset)
            .collect();
        if !over.is_empty() {
            let why = match spec.delivery {
                Delivery::ExactlyOnce => "handled more than once (exactly-once)",
                Delivery::AtLeastOnce => {
                    "handled more often than the group was handed them (at-least-once allows a repeat only after a redelivery)"
                }
            };
            out.push(tag(Violation::new(
                Check::Handled,
                topic,
                p.partition,
                why.into(),
            )
            .offsets(Some(p), over)));
        }
        // Per key, first handlings in log order.
        let mut first_seen: BTreeSet<i64> = BTreeSet::new();
        let mut latest: BTreeMap<Option<Bytes>, i64> = BTreeMap::new();
        for &(partition, offset) in &spec.records {
            if partition != p.partition || !first_seen.insert(offset) {
                continue;
            }
            let Some(r) = p.record(offset) else {
                continue;
            };
            match latest.get(&r.key) {
                Some(&later) if later > offset => {
                    out.push(tag(Violation::new(
                        Check::Handled,
                        topic,
                        p.partition,
                        format!(
                            "offset {offset} was handled for the first time after offset {later} of the same key: per-key order broken"
                        ),
                    )
                    .offsets(Some(p), vec![offset, later])));
                }
                _ => {
                    latest.insert(r.key.clone(), offset);
                }
            }
        }
    }
    out
}
