//! The checks of what consumer groups were handed and committed: rewinds no further than
//! the committed offset, every committed offset handed to the group first, commits that
//! only move forward. Fetch answers are attributed to groups as the module docs of
//! `checks` say.

use std::collections::BTreeMap;

use super::{Check, Snapshot, Violation};
use crate::{AssignedMember, CommitSource, HistoryEvent};

/// (group, topic, partition)
pub(super) type Key = (String, String, i32);

/// What happened to each (group, topic, partition), as [`timelines`] builds it.
pub(super) type Timelines<'a> = BTreeMap<Key, Vec<Step<'a>>>;

/// A fetch answer as one group's member received it.
pub(super) struct Handed {
    pub at_ms: i64,
    /// The offset the consumer asked for: what it was handed starts here.
    pub from: i64,
    /// The offset after the last batch returned.
    pub end: i64,
}

/// What happened to one (group, topic, partition), in history order.
pub(super) enum Step<'a> {
    Handed(Handed),
    Committed {
        at_ms: i64,
        offset: i64,
        source: &'a CommitSource,
    },
}

/// The history per (group, topic, partition): fetch answers attributed to the group and
/// its commits, interleaved in the order they happened.
pub(super) fn timelines(snapshot: &Snapshot) -> Timelines<'_> {
    let mut assigned: BTreeMap<&str, &[AssignedMember]> = BTreeMap::new();
    let mut out: BTreeMap<Key, Vec<Step<'_>>> = BTreeMap::new();
    for e in &snapshot.history.events {
        match e {
            HistoryEvent::Assigned { group, members, .. } => {
                assigned.insert(group, members);
            }
            HistoryEvent::Fetched {
                at_ms,
                client_id,
                topic,
                partition,
                fetch_offset,
                end_offset,
                ..
            } => {
                for (group, members) in &assigned {
                    let owns = members.iter().any(|m| {
                        m.client_id == *client_id
                            && m.partitions
                                .iter()
                                .any(|(t, p)| t == topic && p == partition)
                    });
                    if owns {
                        out.entry((group.to_string(), topic.clone(), *partition))
                            .or_default()
                            .push(Step::Handed(Handed {
                                at_ms: *at_ms,
                                from: *fetch_offset,
                                end: *end_offset,
                            }));
                    }
                }
            }
            HistoryEvent::Committed {
                at_ms,
                group,
                topic,
                partition,
                offset,
                source,
            } => {
                out.entry((group.clone(), topic.clone(), *partition))
                    .or_default()
                    .push(Step::Committed {
                        at_ms: *at_ms,
                        offset: *offset,
                        source,
                    });
            }
            HistoryEvent::TopicDeleted { topic, .. } => {
                // A topic of the same name starts a new history: the old one is judged
                // on its own, under the name "T (deleted)".
                let old: Vec<Key> = out.keys().filter(|k| k.1 == *topic).cloned().collect();
                for key in old {
                    let steps = out.remove(&key).unwrap_or_default();
                    let mut retired = (key.0, format!("{} (deleted)", key.1), key.2);
                    while out.contains_key(&retired) {
                        retired.1.push_str(" (deleted)");
                    }
                    out.insert(retired, steps);
                }
            }
            _ => {}
        }
    }
    out
}

/// No rewind below the committed offset (see the module docs of `checks`).
pub fn delivery(snapshot: &Snapshot) -> Vec<Violation> {
    let mut out = Vec::new();
    for ((group, topic, partition), steps) in timelines(snapshot) {
        let p = snapshot.partition(&topic, partition);
        let mut committed: Option<i64> = None;
        let mut high: Option<i64> = None;
        for step in steps {
            match step {
                Step::Committed { offset, .. } => {
                    committed = (offset >= 0).then_some(offset);
                }
                Step::Handed(h) => {
                    if let (Some(c), Some(top)) = (committed, high)
                        && h.from < top
                        && h.from < c
                    {
                        let again: Vec<i64> = (h.from..c.min(top)).collect();
                        out.push(
                            Violation::new(
                                Check::Delivery,
                                &topic,
                                partition,
                                format!(
                                    "the group was handed offsets from {} again, below its committed offset {c} (it had been handed up to {top}): records it had committed came again after later records of their keys",
                                    h.from
                                ),
                            )
                            .group(&group)
                            .at(h.at_ms)
                            .offsets(p, again),
                        );
                    }
                    high = Some(high.map_or(h.end, |top| top.max(h.end)));
                }
            }
        }
    }
    out
}

/// Every offset up to the group's final committed offset handed to the group.
pub fn coverage(snapshot: &Snapshot) -> Vec<Violation> {
    let mut out = Vec::new();
    for ((group, topic, partition), steps) in timelines(snapshot) {
        let p = snapshot.partition(&topic, partition);
        let log_start = p.map_or(0, |p| p.log_start_offset);
        let mut covered: Vec<(i64, i64)> = Vec::new();
        let mut start: Option<i64> = None;
        let mut committed: Option<(i64, i64)> = None; // (offset, at_ms), by a member or transaction
        let mut high: Option<i64> = None;
        let mut last: Option<i64> = None;
        for step in &steps {
            match step {
                Step::Handed(h) => {
                    start = Some(start.map_or(h.from, |s| s.min(h.from)));
                    covered.push((h.from, h.end));
                    high = Some(high.map_or(h.end, |top| top.max(h.end)));
                }
                Step::Committed {
                    at_ms,
                    offset,
                    source,
                } => {
                    if source.is_explicit() {
                        // The user moved the group: what lies between where it was and
                        // the new position need not be read.
                        if *offset >= 0 {
                            let from = last.or(high).unwrap_or(*offset);
                            covered.push((from, *offset));
                            start = Some(start.map_or(*offset, |s| s.min(*offset)));
                        }
                        committed = None;
                    } else {
                        committed = Some((*offset, *at_ms));
                    }
                    last = (*offset >= 0).then_some(*offset);
                }
            }
        }
        let Some((final_offset, at_ms)) = committed else {
            continue;
        };
        let Some(start) = start else {
            out.push(
                Violation::new(
                    Check::Coverage,
                    &topic,
                    partition,
                    format!(
                        "the group committed offset {final_offset} but no fetch answer of this partition was attributed to it (do its consumers fetch with the client id they joined with?)"
                    ),
                )
                .group(&group)
                .at(at_ms),
            );
            continue;
        };
        covered.sort();
        let mut gaps: Vec<(i64, i64)> = Vec::new();
        let mut at = start.max(log_start);
        for (from, end) in covered {
            if at >= final_offset {
                break;
            }
            if from > at {
                gaps.push((at, from.min(final_offset)));
            }
            at = at.max(end);
        }
        if at < final_offset {
            gaps.push((at, final_offset));
        }
        for (from, to) in gaps {
            out.push(
                Violation::new(
                    Check::Coverage,
                    &topic,
                    partition,
                    format!(
                        "offsets {from}..{to} lie below the group's committed offset {final_offset} but were never handed to any of its members"
                    ),
                )
                .group(&group)
                .at(at_ms)
                .offsets(p, (from..to).collect()),
            );
        }
    }
    out
}

/// Member and transaction commits only move forward.
pub fn commits(snapshot: &Snapshot) -> Vec<Violation> {
    let mut out = Vec::new();
    for ((group, topic, partition), steps) in timelines(snapshot) {
        let p = snapshot.partition(&topic, partition);
        let mut previous: Option<i64> = None;
        for step in steps {
            let Step::Committed {
                at_ms,
                offset,
                source,
            } = step
            else {
                continue;
            };
            if !source.is_explicit()
                && let Some(before) = previous
                && offset < before
            {
                let by = match source {
                    CommitSource::Member {
                        generation,
                        member_id,
                    } => format!("member {member_id} (generation {generation})"),
                    CommitSource::Transaction { producer_id } => {
                        format!("the transaction of producer {producer_id}")
                    }
                    _ => "an explicit commit".into(),
                };
                out.push(
                    Violation::new(
                        Check::Commits,
                        &topic,
                        partition,
                        format!("{by} moved the committed offset back from {before} to {offset}"),
                    )
                    .group(&group)
                    .at(at_ms)
                    .offsets(p, (offset..before).collect()),
                );
            }
            previous = (offset >= 0).then_some(offset);
        }
    }
    out
}
