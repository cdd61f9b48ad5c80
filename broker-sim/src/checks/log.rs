//! The checks of what the logs hold: acknowledged writes kept, idempotent producers'
//! batches once each and in sequence order, and the application's send order per key.

use std::collections::BTreeMap;

use bytes::Bytes;

use super::{Check, Snapshot, Violation};
use crate::HistoryEvent;

/// Every acks=all write still in the log at its acknowledged offsets (see the module docs).
pub fn lost_acks(snapshot: &Snapshot) -> Vec<Violation> {
    let mut out = Vec::new();
    // Where each topic was last deleted: acks before it are moot (a topic of the same
    // name may exist again, with other records at those offsets).
    let deleted: BTreeMap<&str, usize> = snapshot
        .history
        .events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| match e {
            HistoryEvent::TopicDeleted { topic, .. } => Some((topic.as_str(), i)),
            _ => None,
        })
        .collect();
    for (i, e) in snapshot.history.events.iter().enumerate() {
        let HistoryEvent::Acked {
            at_ms,
            topic,
            partition,
            base_offset,
            last_offset,
            acks,
            crc,
            ..
        } = e
        else {
            continue;
        };
        if *acks != -1 || deleted.get(topic.as_str()).is_some_and(|d| *d > i) {
            continue;
        }
        // A deleted topic took its records with it.
        let Some(p) = snapshot.partition(topic, *partition) else {
            continue;
        };
        // Below the log start the records were deleted; below the cleaner's checkpoint
        // of a compacted topic, superseded ones were removed and batches rewritten.
        if *last_offset < p.log_start_offset || *base_offset < p.cleaned_to {
            continue;
        }
        let stored = p.batches.iter().find(|b| b.base_offset == *base_offset);
        let problem = match stored {
            Some(b) if b.crc == *crc && b.last_offset == *last_offset => continue,
            Some(_) => {
                "the offsets now hold another batch (the acknowledged one was truncated away and the offsets reused)"
            }
            None if *base_offset >= p.high_watermark => {
                "the log now ends before them (the acknowledged batch was truncated away)"
            }
            None => "no batch starts at the acknowledged base offset any more",
        };
        let offsets: Vec<i64> = (*base_offset..=*last_offset).collect();
        out.push(
            Violation::new(
                Check::LostAcks,
                topic,
                *partition,
                format!("acks=all write of offsets {base_offset}..={last_offset} lost: {problem}"),
            )
            .at(*at_ms)
            .offsets(Some(p), offsets),
        );
    }
    out
}

/// A batch of an idempotent producer: (base offset, last offset, base sequence).
type Sequenced = (i64, i64, i32);

/// The batches of idempotent producers, by (producer id, epoch), in offset order.
fn idempotent_batches(batches: &[crate::BatchInfo]) -> BTreeMap<(i64, i16), Vec<Sequenced>> {
    let mut by_producer: BTreeMap<(i64, i16), Vec<Sequenced>> = BTreeMap::new();
    for b in batches {
        if b.control || b.producer_id < 0 || b.base_sequence < 0 {
            continue;
        }
        by_producer
            .entry((b.producer_id, b.producer_epoch))
            .or_default()
            .push((b.base_offset, b.last_offset, b.base_sequence));
    }
    by_producer
}

/// No sequence number of an idempotent producer written twice in a partition.
pub fn duplicates(snapshot: &Snapshot) -> Vec<Violation> {
    let mut out = Vec::new();
    for p in &snapshot.partitions {
        for ((pid, epoch), batches) in idempotent_batches(&p.batches) {
            // (first sequence, last sequence, base offset), by sequence.
            let mut spans: Vec<(i64, i64, i64, i64)> = batches
                .iter()
                .map(|(base, last, seq)| {
                    let first = i64::from(*seq);
                    (first, first + (last - base), *base, *last)
                })
                .collect();
            spans.sort();
            for pair in spans.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                if b.0 <= a.1 {
                    let offsets: Vec<i64> = (a.2..=a.3).chain(b.2..=b.3).collect();
                    out.push(
                        Violation::new(
                            Check::Duplicates,
                            &p.topic,
                            p.partition,
                            format!(
                                "producer {pid} epoch {epoch} wrote sequences {}..={} at offset {} and {}..={} again at offset {}",
                                a.0, a.1, a.2, b.0, b.1, b.2
                            ),
                        )
                        .offsets(Some(p), offsets),
                    );
                }
            }
        }
    }
    out
}

/// Each idempotent producer's batches in sequence order within a partition.
pub fn log_order(snapshot: &Snapshot) -> Vec<Violation> {
    let mut out = Vec::new();
    for p in &snapshot.partitions {
        for ((pid, epoch), batches) in idempotent_batches(&p.batches) {
            for pair in batches.windows(2) {
                let ((a_base, _, a_seq), (b_base, b_last, b_seq)) = (pair[0], pair[1]);
                if b_seq < a_seq {
                    out.push(
                        Violation::new(
                            Check::LogOrder,
                            &p.topic,
                            p.partition,
                            format!(
                                "producer {pid} epoch {epoch}: sequence {b_seq} at offset {b_base} lies after sequence {a_seq} at offset {a_base}"
                            ),
                        )
                        .offsets(Some(p), std::iter::once(a_base).chain(b_base..=b_last).collect()),
                    );
                }
            }
        }
    }
    out
}

/// Per key, the log holds the application's records of `topic` in the order it sent them:
/// `sent` is (key, value) in send order; each value's first occurrence in the log must
/// come after the first occurrences of the values sent before it with the same key.
/// Values sent but absent from the log are not judged here (see [`lost_acks`]).
pub fn sent_order(
    snapshot: &Snapshot,
    topic: &str,
    sent: &[(Option<Bytes>, Bytes)],
) -> Vec<Violation> {
    // (key, value) → its index in send order (the first send, if sent twice).
    let mut order: BTreeMap<(Option<&[u8]>, &[u8]), usize> = BTreeMap::new();
    for (i, (key, value)) in sent.iter().enumerate() {
        order.entry((key.as_deref(), &value[..])).or_insert(i);
    }
    let mut out = Vec::new();
    for p in snapshot.topic(topic) {
        // Per key: the latest send index seen so far and where it was.
        let mut latest: BTreeMap<Option<&[u8]>, (usize, i64)> = BTreeMap::new();
        let mut seen: std::collections::BTreeSet<(Option<&[u8]>, &[u8])> = Default::default();
        for r in &p.records {
            let (Some(value), key) = (r.value.as_deref(), r.key.as_deref()) else {
                continue;
            };
            let Some(&index) = order.get(&(key, value)) else {
                continue;
            };
            if !seen.insert((key, value)) {
                continue;
            }
            match latest.get(&key) {
                Some(&(before, at)) if before > index => {
                    out.push(
                        Violation::new(
                            Check::SentOrder,
                            topic,
                            p.partition,
                            format!(
                                "the record sent {}th for its key lies at offset {}, after the one sent {}th at offset {at}",
                                index + 1,
                                r.offset,
                                before + 1
                            ),
                        )
                        .offsets(Some(p), vec![at, r.offset]),
                    );
                }
                _ => {
                    latest.insert(key, (index, r.offset));
                }
            }
        }
    }
    out
}
