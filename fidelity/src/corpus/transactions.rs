//! Transactions: InitProducerId with transactional ids, AddPartitionsToTxn,
//! AddOffsetsToTxn, EndTxn, TxnOffsetCommit, WriteTxnMarkers, DescribeTransactions,
//! ListTransactions, DescribeProducers, and what transactions do to Produce, Fetch,
//! ListOffsets and OffsetFetch (read_committed, require_stable).
//!
//! Requests that carry the producer id and epoch take them from the same cluster's last
//! InitProducerId or EndTxn answer (`Seen`), through the `fill_*` functions.

use broker_sim_protocol::batch::{
    BatchView, Codec, NewRecord, encode_batch, encode_batch_with_producer,
    encode_transactional_batch,
};
use bytes::Bytes;
use kafka_protocol::messages::add_partitions_to_txn_request::{
    AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
};
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddPartitionsToTxnRequest, ApiKey, DeleteRecordsRequest,
    DescribeProducersRequest, DescribeTransactionsRequest, EndTxnRequest, FindCoordinatorRequest,
    InitProducerIdRequest, ListTransactionsRequest, OffsetFetchRequest, RequestKind, ResponseKind,
    TxnOffsetCommitRequest, WriteTxnMarkersRequest,
};

use super::helpers::{create_topic, group, s, scenario, topic, topic_ready, versions};
use super::records::{fetch, list_offsets, produce};
use crate::scenario::{Scenario, Seen, Step};

/// A transaction's timeout in these scenarios: longer than any scenario runs.
const TIMEOUT_MS: i32 = 300_000;

/// CONCURRENT_TRANSACTIONS: Kafka answers it while it writes markers, which broker-sim
/// does at once; a step that may meet it is repeated until the markers are written.
const CONCURRENT_TRANSACTIONS: i16 = 51;

/// The timestamp of every record here: when the corpus was built, which is also where
/// broker-sim's clock starts. Markers carry the broker's clock, and Kafka starts a new
/// log segment when a batch is more than `segment.ms` (7 days) newer than the segment's
/// first, and a fetch never reads past a segment: records stamped long ago would make
/// Kafka's fetches stop at every marker.
fn now() -> i64 {
    super::helpers::corpus_time()
}

/// Records `values` (keys k0, k1, …), stamped [`now`]: the same bytes for both clusters.
fn new_records(values: &[&str]) -> Vec<NewRecord> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| NewRecord {
            timestamp: now() + i as i64,
            key: Some(Bytes::from(format!("k{i}"))),
            value: Some(Bytes::copy_from_slice(v.as_bytes())),
            headers: Vec::new(),
        })
        .collect()
}

/// A plain batch of `values` (see [`new_records`]).
fn batch(values: &[&str]) -> Bytes {
    encode_batch(&new_records(values), Codec::None).expect("batch encodes")
}

/// The records of a scenario's own one-batch record set, and its base sequence, to encode
/// them again as a producer the cluster handed out.
fn records_of(records: &Bytes) -> (Vec<NewRecord>, i32) {
    let view = BatchView::parse(records).expect("the scenario's own batch");
    let decoded = view
        .records()
        .expect("the scenario's own records")
        .into_iter()
        .map(|r| NewRecord {
            timestamp: r.timestamp,
            key: r.key,
            value: r.value,
            headers: r.headers,
        })
        .collect();
    (decoded, view.base_sequence().max(0))
}

fn init(v: i16, id: &str) -> Step {
    let r = InitProducerIdRequest::default()
        .with_transactional_id(Some(s(id).into()))
        .with_transaction_timeout_ms(TIMEOUT_MS);
    Step::new(ApiKey::InitProducerId, v, r).until(|a| match a {
        ResponseKind::InitProducerId(i) => i.error_code != CONCURRENT_TRANSACTIONS,
        _ => true,
    })
}

/// Sets the producer id and epoch of any transactional request to `(id, epoch)`; a
/// produced batch is encoded again as that producer's transactional batch.
fn set_producer(r: &mut RequestKind, id: i64, epoch: i16) {
    match r {
        RequestKind::InitProducerId(i) => {
            i.producer_id = id.into();
            i.producer_epoch = epoch;
        }
        RequestKind::AddPartitionsToTxn(a) => {
            if a.transactions.is_empty() {
                a.v3_and_below_producer_id = id.into();
                a.v3_and_below_producer_epoch = epoch;
            }
            for t in &mut a.transactions {
                t.producer_id = id.into();
                t.producer_epoch = epoch;
            }
        }
        RequestKind::AddOffsetsToTxn(a) => {
            a.producer_id = id.into();
            a.producer_epoch = epoch;
        }
        RequestKind::EndTxn(e) => {
            e.producer_id = id.into();
            e.producer_epoch = epoch;
        }
        RequestKind::TxnOffsetCommit(t) => {
            t.producer_id = id.into();
            t.producer_epoch = epoch;
        }
        RequestKind::WriteTxnMarkers(w) => {
            for m in &mut w.markers {
                m.producer_id = id.into();
                m.producer_epoch = epoch;
            }
        }
        RequestKind::Produce(p) => {
            for d in p
                .topic_data
                .iter_mut()
                .flat_map(|t| t.partition_data.iter_mut())
            {
                if let Some(records) = &mut d.records {
                    *records = as_transactional(records, id, epoch);
                }
            }
        }
        _ => {}
    }
}

/// A one-batch record set encoded again as `producer`'s transactional batch, keeping its
/// records and base sequence.
fn as_transactional(records: &Bytes, id: i64, epoch: i16) -> Bytes {
    let (records, sequence) = records_of(records);
    encode_transactional_batch(&records, Codec::None, id, epoch, sequence).expect("batch encodes")
}

fn fill_producer(r: &mut RequestKind, seen: &Seen) {
    set_producer(r, seen.producer_id, seen.producer_epoch);
}

fn fill_previous_epoch(r: &mut RequestKind, seen: &Seen) {
    set_producer(r, seen.producer_id, seen.producer_epoch - 1);
}

fn fill_other_producer(r: &mut RequestKind, seen: &Seen) {
    set_producer(r, seen.producer_id + 1, seen.producer_epoch);
}

/// The ways a request can name the wrong producer: an epoch a newer instance replaced
/// (two InitProducerId, then the first one's epoch), or a producer id that is not the
/// transactional id's: (scenario name, InitProducerId calls first, how the request is
/// filled).
type Fill = fn(&mut RequestKind, &Seen);
const WRONG_PRODUCER: [(&str, usize, Fill); 2] = [
    ("stale-epoch", 2, fill_previous_epoch),
    ("other-producer-id", 1, fill_other_producer),
];

fn add_partitions(v: i16, id: &str, topics: &[(&str, &[i32])], verify_only: bool) -> Step {
    let topics: Vec<_> = topics
        .iter()
        .map(|(name, partitions)| {
            AddPartitionsToTxnTopic::default()
                .with_name(topic(name))
                .with_partitions(partitions.to_vec())
        })
        .collect();
    let mut r = AddPartitionsToTxnRequest::default();
    if v >= 4 {
        r.transactions = vec![
            AddPartitionsToTxnTransaction::default()
                .with_transactional_id(s(id).into())
                .with_verify_only(verify_only)
                .with_topics(topics),
        ];
    } else {
        r.v3_and_below_transactional_id = s(id).into();
        r.v3_and_below_topics = topics;
    }
    Step::new(ApiKey::AddPartitionsToTxn, v, r)
        .fill(fill_producer)
        .until(|a| !format!("{a:?}").contains("error_code: 51,"))
}

fn add_offsets(v: i16, id: &str, group_id: &str) -> Step {
    let r = AddOffsetsToTxnRequest::default()
        .with_transactional_id(s(id).into())
        .with_group_id(group(group_id));
    Step::new(ApiKey::AddOffsetsToTxn, v, r).fill(fill_producer)
}

fn end(v: i16, id: &str, commit: bool) -> Step {
    let r = EndTxnRequest::default()
        .with_transactional_id(s(id).into())
        .with_committed(commit);
    Step::new(ApiKey::EndTxn, v, r)
        .fill(fill_producer)
        .until(|a| match a {
            ResponseKind::EndTxn(e) => e.error_code != CONCURRENT_TRANSACTIONS,
            _ => true,
        })
}

/// A transactional batch of `values` starting at sequence `sequence`.
fn transactional(v: i16, name: &str, values: &[&str], sequence: i32) -> Step {
    let records = new_records(values);
    let bytes =
        encode_transactional_batch(&records, Codec::None, -1, -1, sequence).expect("batch encodes");
    let mut step = produce(v, name, 0, -1, bytes);
    if let RequestKind::Produce(p) = &mut step.request {
        p.transactional_id = Some(s(format!("{name}-tx")).into());
    }
    step.fill = Some(if v >= 13 {
        |r, seen| {
            fill_producer(r, seen);
            if let RequestKind::Produce(p) = r {
                p.topic_data[0].topic_id = seen.topic_id;
            }
        }
    } else {
        fill_producer
    });
    step
}

fn txn_offset_commit(v: i16, id: &str, group_id: &str, name: &str, offset: i64) -> Step {
    let r = TxnOffsetCommitRequest::default()
        .with_transactional_id(s(id).into())
        .with_group_id(group(group_id))
        .with_generation_id(-1)
        .with_topics(vec![
            TxnOffsetCommitRequestTopic::default()
                .with_name(topic(name))
                .with_partitions(vec![
                    TxnOffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(offset)
                        .with_committed_leader_epoch(-1),
                ]),
        ]);
    Step::new(ApiKey::TxnOffsetCommit, v, r).fill(fill_producer)
}

fn offset_fetch_stable(v: i16, group_id: &str, name: &str) -> Step {
    let r = if v >= 8 {
        OffsetFetchRequest::default()
            .with_require_stable(true)
            .with_groups(vec![
                OffsetFetchRequestGroup::default()
                    .with_group_id(group(group_id))
                    .with_topics(Some(vec![
                        OffsetFetchRequestTopics::default()
                            .with_name(topic(name))
                            .with_partition_indexes(vec![0]),
                    ])),
            ])
    } else {
        OffsetFetchRequest::default()
            .with_require_stable(true)
            .with_group_id(group(group_id))
            .with_topics(Some(vec![
                OffsetFetchRequestTopic::default()
                    .with_name(topic(name))
                    .with_partition_indexes(vec![0]),
            ]))
    };
    Step::new(ApiKey::OffsetFetch, v, r)
}

/// The same, once the transaction's markers are written: Kafka writes them after it has
/// answered EndTxn, and answers UNSTABLE_OFFSET_COMMIT until then.
fn offset_fetch_settled(v: i16, group_id: &str, name: &str) -> Step {
    offset_fetch_stable(v, group_id, name).until(|a| !format!("{a:?}").contains("error_code: 88"))
}

fn read_committed(mut step: Step) -> Step {
    match &mut step.request {
        RequestKind::Fetch(f) => f.isolation_level = 1,
        RequestKind::ListOffsets(l) => l.isolation_level = 1,
        _ => {}
    }
    step
}

/// A topic `name` with one partition, the transactional id `{name}-tx` initialised and
/// the partition added to its transaction: setup.
fn open_transaction(name: &str) -> Vec<Step> {
    let id = format!("{name}-tx");
    let mut steps = create_topic(name, 1);
    steps.push(init(5, &id).setup());
    steps.push(add_partitions(3, &id, &[(name, &[0])], false).setup());
    steps
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    init_producer_id(&mut out);
    add_partitions_to_txn(&mut out);
    add_offsets_to_txn(&mut out);
    end_txn(&mut out);
    txn_offset_commit_scenarios(&mut out);
    records(&mut out);
    admin(&mut out);
    // Kafka creates `__transaction_state` and `__consumer_offsets` when a client first
    // looks for a coordinator, and answers NOT_COORDINATOR or COORDINATOR_NOT_AVAILABLE
    // until then: every scenario looks first, as clients do.
    for scenario in &mut out {
        let key = format!("{}tx", scenario.prefix);
        scenario.steps.insert(0, find_coordinator(0, &key).setup());
        scenario.steps.insert(0, find_coordinator(1, &key).setup());
    }
    out
}

fn find_coordinator(key_type: i8, key: &str) -> Step {
    let r = FindCoordinatorRequest::default()
        .with_key_type(key_type)
        .with_coordinator_keys(vec![s(key)]);
    Step::new(ApiKey::FindCoordinator, 4, r).until(|a| match a {
        ResponseKind::FindCoordinator(f) => f.coordinators.iter().all(|c| c.error_code == 0),
        _ => true,
    })
}

fn init_producer_id(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::InitProducerId) {
        out.push(scenario(
            ApiKey::InitProducerId,
            v,
            "transactional-epochs",
            |p| {
                let id = format!("{p}tx");
                vec![init(v, &id), init(v, &id)]
            },
        ));
        out.push(scenario(
            ApiKey::InitProducerId,
            v,
            "empty-transactional-id",
            |_| vec![init(v, "")],
        ));
        out.push(scenario(
            ApiKey::InitProducerId,
            v,
            "open-transaction-fenced",
            |p| {
                let name = format!("{p}t");
                let id = format!("{name}-tx");
                let mut steps = open_transaction(&name);
                let fence = InitProducerIdRequest::default()
                    .with_transactional_id(Some(s(&id).into()))
                    .with_transaction_timeout_ms(TIMEOUT_MS);
                steps.push(Step::new(ApiKey::InitProducerId, v, fence));
                steps.push(init(v, &id));
                steps
            },
        ));
        if v >= 3 {
            out.push(scenario(
                ApiKey::InitProducerId,
                v,
                "recover-current-epoch",
                |p| {
                    let id = format!("{p}tx");
                    vec![init(v, &id).setup(), init(v, &id).fill(fill_producer)]
                },
            ));
            out.push(scenario(
                ApiKey::InitProducerId,
                v,
                "recover-stale-epoch",
                |p| {
                    let id = format!("{p}tx");
                    vec![
                        init(v, &id).setup(),
                        init(v, &id).setup(),
                        init(v, &id).fill(fill_previous_epoch),
                    ]
                },
            ));
            out.push(scenario(
                ApiKey::InitProducerId,
                v,
                "recover-other-producer",
                |p| {
                    let id = format!("{p}tx");
                    vec![init(v, &id).setup(), init(v, &id).fill(fill_other_producer)]
                },
            ));
        }
    }
}

fn add_partitions_to_txn(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::AddPartitionsToTxn) {
        out.push(scenario(ApiKey::AddPartitionsToTxn, v, "adds", |p| {
            let name = format!("{p}t");
            let id = format!("{p}tx");
            let mut steps = create_topic(&name, 2);
            steps.push(init(5, &id).setup());
            steps.push(add_partitions(v, &id, &[(&name, &[0, 1])], false));
            steps.push(add_partitions(v, &id, &[(&name, &[1])], false));
            steps
        }));
        out.push(scenario(
            ApiKey::AddPartitionsToTxn,
            v,
            "unknown-topic",
            |p| {
                let name = format!("{p}t");
                let id = format!("{p}tx");
                let missing = format!("{p}missing");
                let mut steps = create_topic(&name, 1);
                steps.push(init(5, &id).setup());
                steps.push(add_partitions(
                    v,
                    &id,
                    &[(&name, &[0]), (&missing, &[0])],
                    false,
                ));
                steps
            },
        ));
        for (what, inits, fill) in WRONG_PRODUCER {
            out.push(scenario(ApiKey::AddPartitionsToTxn, v, what, |p| {
                let name = format!("{p}t");
                let id = format!("{p}tx");
                let mut steps = create_topic(&name, 1);
                for _ in 0..inits {
                    steps.push(init(5, &id).setup());
                }
                steps.push(add_partitions(v, &id, &[(&name, &[0])], false).fill(fill));
                steps
            }));
        }
        out.push(scenario(
            ApiKey::AddPartitionsToTxn,
            v,
            "never-initialised",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 1);
                steps.push(init(5, &format!("{p}other")).setup());
                steps.push(add_partitions(
                    v,
                    &format!("{p}tx"),
                    &[(&name, &[0])],
                    false,
                ));
                steps
            },
        ));
        if v >= 4 {
            out.push(scenario(
                ApiKey::AddPartitionsToTxn,
                v,
                "verify-only",
                |p| {
                    let name = format!("{p}t");
                    let id = format!("{p}tx");
                    let mut steps = create_topic(&name, 2);
                    steps.push(init(5, &id).setup());
                    steps.push(add_partitions(v, &id, &[(&name, &[0])], true));
                    steps.push(add_partitions(v, &id, &[(&name, &[0])], false).setup());
                    steps.push(add_partitions(v, &id, &[(&name, &[0, 1])], true));
                    steps
                },
            ));
        }
    }
}

fn add_offsets_to_txn(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::AddOffsetsToTxn) {
        out.push(scenario(ApiKey::AddOffsetsToTxn, v, "adds", |p| {
            let id = format!("{p}tx");
            vec![
                init(5, &id).setup(),
                add_offsets(v, &id, &format!("{p}g")),
                add_offsets(v, &id, &format!("{p}g")),
            ]
        }));
        out.push(scenario(ApiKey::AddOffsetsToTxn, v, "stale-epoch", |p| {
            let id = format!("{p}tx");
            vec![
                init(5, &id).setup(),
                init(5, &id).setup(),
                add_offsets(v, &id, &format!("{p}g")).fill(fill_previous_epoch),
            ]
        }));
        out.push(scenario(
            ApiKey::AddOffsetsToTxn,
            v,
            "never-initialised",
            |p| {
                vec![
                    init(5, &format!("{p}other")).setup(),
                    add_offsets(v, &format!("{p}tx"), &format!("{p}g")),
                ]
            },
        ));
    }
}

fn end_txn(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::EndTxn) {
        out.push(scenario(ApiKey::EndTxn, v, "commit-then-retry", |p| {
            let name = format!("{p}t");
            let id = format!("{name}-tx");
            let mut steps = open_transaction(&name);
            steps.push(end(v, &id, true));
            // A retry of the same EndTxn: with version 2 the producer still has the
            // epoch before the bump.
            steps.push(if v >= 5 {
                end(v, &id, true).fill(fill_previous_epoch)
            } else {
                end(v, &id, true)
            });
            steps.push(if v >= 5 {
                end(v, &id, false).fill(fill_previous_epoch)
            } else {
                end(v, &id, false)
            });
            steps
        }));
        out.push(scenario(ApiKey::EndTxn, v, "abort-then-commit", |p| {
            let name = format!("{p}t");
            let id = format!("{name}-tx");
            let mut steps = open_transaction(&name);
            steps.push(end(v, &id, false));
            steps.push(end(v, &id, true));
            steps
        }));
        out.push(scenario(ApiKey::EndTxn, v, "nothing-to-end", |p| {
            let id = format!("{p}tx");
            vec![init(5, &id).setup(), end(v, &id, true), end(v, &id, false)]
        }));
        out.push(scenario(ApiKey::EndTxn, v, "stale-epoch", |p| {
            let name = format!("{p}t");
            let id = format!("{name}-tx");
            let mut steps = open_transaction(&name);
            steps.push(end(v, &id, true).fill(fill_previous_epoch));
            steps
        }));
        out.push(scenario(ApiKey::EndTxn, v, "other-producer-id", |p| {
            let name = format!("{p}t");
            let id = format!("{name}-tx");
            let mut steps = open_transaction(&name);
            steps.push(end(v, &id, true).fill(fill_other_producer));
            steps
        }));
        out.push(scenario(
            ApiKey::EndTxn,
            v,
            "empty-transactional-id",
            |_| vec![end(v, "", true)],
        ));
    }
}

fn txn_offset_commit_scenarios(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::TxnOffsetCommit) {
        out.push(scenario(
            ApiKey::TxnOffsetCommit,
            v,
            "commits-with-transaction",
            |p| {
                let name = format!("{p}t");
                let id = format!("{p}tx");
                let g = format!("{p}g");
                let mut steps = create_topic(&name, 1);
                steps.push(init(5, &id).setup());
                if v < 5 {
                    steps.push(add_offsets(4, &id, &g).setup());
                }
                steps.push(txn_offset_commit(v, &id, &g, &name, 7));
                steps.push(offset_fetch_stable(9, &g, &name));
                steps.push(end(if v >= 5 { 5 } else { 4 }, &id, true).setup());
                steps.push(offset_fetch_settled(9, &g, &name));
                steps
            },
        ));
        out.push(scenario(
            ApiKey::TxnOffsetCommit,
            v,
            "aborted-offsets-vanish",
            |p| {
                let name = format!("{p}t");
                let id = format!("{p}tx");
                let g = format!("{p}g");
                let mut steps = create_topic(&name, 1);
                steps.push(init(5, &id).setup());
                steps.push(add_offsets(4, &id, &g).setup());
                steps.push(txn_offset_commit(v, &id, &g, &name, 7));
                steps.push(end(4, &id, false).setup());
                steps.push(offset_fetch_settled(9, &g, &name));
                steps
            },
        ));
        out.push(scenario(ApiKey::TxnOffsetCommit, v, "unknown-topic", |p| {
            let id = format!("{p}tx");
            let g = format!("{p}g");
            vec![
                init(5, &id).setup(),
                add_offsets(4, &id, &g).setup(),
                txn_offset_commit(v, &id, &g, &format!("{p}missing"), 7),
            ]
        }));
        if v < 5 {
            out.push(scenario(
                ApiKey::TxnOffsetCommit,
                v,
                "group-not-added",
                |p| {
                    let name = format!("{p}t");
                    let id = format!("{p}tx");
                    let mut steps = create_topic(&name, 1);
                    steps.push(init(5, &id).setup());
                    steps.push(txn_offset_commit(v, &id, &format!("{p}g"), &name, 7));
                    steps
                },
            ));
        }
    }
    for v in versions(ApiKey::OffsetFetch).filter(|v| *v >= 7) {
        out.push(scenario(ApiKey::OffsetFetch, v, "require-stable", |p| {
            let name = format!("{p}t");
            let id = format!("{p}tx");
            let g = format!("{p}g");
            let mut steps = create_topic(&name, 1);
            steps.push(init(5, &id).setup());
            steps.push(add_offsets(4, &id, &g).setup());
            steps.push(txn_offset_commit(4, &id, &g, &name, 3).setup());
            steps.push(offset_fetch_stable(v, &g, &name));
            let mut unstable_allowed = offset_fetch_stable(v, &g, &name);
            if let RequestKind::OffsetFetch(r) = &mut unstable_allowed.request {
                r.require_stable = false;
            }
            steps.push(unstable_allowed);
            steps
        }));
    }
}

fn records(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::Produce) {
        out.push(scenario(
            ApiKey::Produce,
            v,
            "transactional-not-added",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 1);
                steps.push(init(5, &format!("{name}-tx")).setup());
                if v >= 13 {
                    steps.push(topic_ready(&name).setup());
                }
                steps.push(transactional(v, &name, &["a"], 0));
                steps
            },
        ));
        out.push(scenario(ApiKey::Produce, v, "transactional-added", |p| {
            let name = format!("{p}t");
            let mut steps = open_transaction(&name);
            if v >= 13 {
                steps.push(topic_ready(&name).setup());
            }
            steps.push(transactional(v, &name, &["a", "b"], 0));
            steps.push(transactional(v, &name, &["c"], 2));
            steps
        }));
        out.push(scenario(
            ApiKey::Produce,
            v,
            "plain-batch-in-transaction",
            |p| {
                let name = format!("{p}t");
                let mut steps = open_transaction(&name);
                if v >= 13 {
                    steps.push(topic_ready(&name).setup());
                }
                steps.push(transactional(v, &name, &["a"], 0));
                let mut plain = produce(v, &name, 0, -1, batch(&["b"]));
                plain.fill = Some(if v >= 13 {
                    |r, seen| {
                        if let RequestKind::Produce(p) = r {
                            p.topic_data[0].topic_id = seen.topic_id;
                            for d in &mut p.topic_data[0].partition_data {
                                let records = d.records.take().unwrap_or_default();
                                d.records = Some(idempotent(&records, seen));
                            }
                        }
                    }
                } else {
                    |r, seen| {
                        if let RequestKind::Produce(p) = r {
                            for d in &mut p.topic_data[0].partition_data {
                                let records = d.records.take().unwrap_or_default();
                                d.records = Some(idempotent(&records, seen));
                            }
                        }
                    }
                });
                steps.push(plain);
                steps
            },
        ));
    }
    for v in versions(ApiKey::Fetch) {
        out.push(scenario(ApiKey::Fetch, v, "read-committed", |p| {
            let name = format!("{p}t");
            let id = format!("{name}-tx");
            let mut steps = open_transaction(&name);
            steps.push(transactional(9, &name, &["aborted-1", "aborted-2"], 0).setup());
            steps.push(end(4, &id, false).setup());
            steps.push(add_partitions(3, &id, &[(&name, &[0])], false).setup());
            steps.push(transactional(9, &name, &["kept"], 2).setup());
            steps.push(end(4, &id, true).setup());
            steps.push(add_partitions(3, &id, &[(&name, &[0])], false).setup());
            steps.push(transactional(9, &name, &["open"], 3).setup());
            if v >= 13 {
                steps.push(topic_ready(&name).setup());
            }
            steps.push(read_committed(fetch(v, &name, 0, 0)));
            steps.push(read_committed(fetch(v, &name, 0, 3)));
            steps.push(read_committed(fetch(v, &name, 0, 5)));
            steps.push(fetch(v, &name, 0, 0));
            steps
        }));
    }
    for v in versions(ApiKey::ListOffsets).filter(|v| *v >= 2) {
        out.push(scenario(ApiKey::ListOffsets, v, "read-committed", |p| {
            let name = format!("{p}t");
            let mut steps = open_transaction(&name);
            steps.push(produce(9, &name, 0, -1, batch(&["before"])).setup());
            steps.push(transactional(9, &name, &["open"], 0).setup());
            steps.push(produce(9, &name, 0, -1, batch(&["after"])).setup());
            steps.push(read_committed(list_offsets(v, &name, 0, -1)));
            steps.push(list_offsets(v, &name, 0, -1));
            steps.push(read_committed(list_offsets(v, &name, 0, now())));
            if v >= 7 {
                steps.push(read_committed(list_offsets(v, &name, 0, -3)));
            }
            steps
        }));
        out.push(scenario(
            ApiKey::ListOffsets,
            v,
            "read-committed-after-delete-records",
            |p| {
                // DeleteRecords past the first record of an open transaction: Kafka's last
                // stable offset stays at the transaction's first offset, below the log start.
                let name = format!("{p}t");
                let mut steps = open_transaction(&name);
                steps.push(transactional(9, &name, &["open-1", "open-2"], 0).setup());
                steps.push(produce(9, &name, 0, -1, batch(&["after"])).setup());
                let delete = DeleteRecordsRequest::default()
                    .with_timeout_ms(30_000)
                    .with_topics(vec![
                        DeleteRecordsTopic::default()
                            .with_name(topic(&name))
                            .with_partitions(vec![
                                DeleteRecordsPartition::default()
                                    .with_partition_index(0)
                                    .with_offset(1),
                            ]),
                    ]);
                steps.push(Step::new(ApiKey::DeleteRecords, 2, delete).setup());
                steps.push(read_committed(list_offsets(v, &name, 0, -1)));
                steps.push(read_committed(list_offsets(v, &name, 0, -2)));
                steps
            },
        ));
    }
}

/// A record set encoded again as an idempotent (not transactional) batch of the producer
/// the cluster handed out.
fn idempotent(records: &Bytes, seen: &Seen) -> Bytes {
    let (records, _) = records_of(records);
    encode_batch_with_producer(
        &records,
        Codec::None,
        seen.producer_id,
        seen.producer_epoch,
        1,
    )
    .expect("batch encodes")
}

fn admin(out: &mut Vec<Scenario>) {
    for v in versions(ApiKey::DescribeTransactions) {
        out.push(scenario(ApiKey::DescribeTransactions, v, "states", |p| {
            let name = format!("{p}t");
            let id = format!("{name}-tx");
            let describe = || {
                Step::new(
                    ApiKey::DescribeTransactions,
                    v,
                    DescribeTransactionsRequest::default().with_transactional_ids(vec![
                        s(&id).into(),
                        s(format!("{p}unknown")).into(),
                        s("").into(),
                    ]),
                )
            };
            let mut steps = create_topic(&name, 1);
            steps.push(init(5, &id).setup());
            steps.push(describe());
            steps.push(add_partitions(3, &id, &[(&name, &[0])], false).setup());
            steps.push(add_offsets(4, &id, &format!("{p}g")).setup());
            steps.push(describe());
            steps.push(end(4, &id, true).setup());
            // Kafka writes the markers after answering EndTxn.
            steps.push(describe().until(|a| !format!("{a:?}").contains("\"Prepare")));
            steps
        }));
    }
    for v in versions(ApiKey::ListTransactions) {
        out.push(scenario(ApiKey::ListTransactions, v, "filters", |p| {
            let name = format!("{p}t");
            let list = |states: &[&str], pattern: Option<&str>| {
                let mut r = ListTransactionsRequest::default()
                    .with_state_filters(states.iter().map(|x| s(*x)).collect());
                if v >= 1 {
                    r.duration_filter = -1;
                }
                if v >= 2 {
                    r.transactional_id_pattern = pattern.map(s);
                }
                Step::new(ApiKey::ListTransactions, v, r)
            };
            let mut steps = open_transaction(&name);
            steps.push(init(5, &format!("{p}idle")).setup());
            steps.push(list(&[], None));
            steps.push(list(&["Ongoing", "Bogus"], None));
            steps.push(list(&["Empty"], None));
            if v >= 2 {
                steps.push(list(&[], Some(&format!("{p}i.*"))));
                steps.push(list(&[], Some("[")));
            }
            steps
        }));
    }
    for v in versions(ApiKey::DescribeProducers) {
        out.push(scenario(
            ApiKey::DescribeProducers,
            v,
            "transactional-producer",
            |p| {
                let name = format!("{p}t");
                let describe = Step::new(
                    ApiKey::DescribeProducers,
                    v,
                    DescribeProducersRequest::default().with_topics(vec![
                        TopicRequest::default()
                            .with_name(topic(&name))
                            .with_partition_indexes(vec![0, 3]),
                        TopicRequest::default()
                            .with_name(topic(&format!("{p}missing")))
                            .with_partition_indexes(vec![0]),
                    ]),
                );
                let mut steps = open_transaction(&name);
                steps.push(transactional(9, &name, &["a", "b"], 0).setup());
                steps.push(describe);
                steps
            },
        ));
    }
    for v in versions(ApiKey::WriteTxnMarkers) {
        out.push(scenario(
            ApiKey::WriteTxnMarkers,
            v,
            "closes-a-transaction",
            |p| {
                let name = format!("{p}t");
                let markers = |commit: bool, partitions: Vec<i32>| {
                    Step::new(
                        ApiKey::WriteTxnMarkers,
                        v,
                        WriteTxnMarkersRequest::default().with_markers(vec![
                            WritableTxnMarker::default()
                                .with_transaction_result(commit)
                                .with_coordinator_epoch(0)
                                .with_topics(vec![
                                    WritableTxnMarkerTopic::default()
                                        .with_name(topic(&name))
                                        .with_partition_indexes(partitions),
                                ]),
                        ]),
                    )
                    .fill(fill_producer)
                };
                let mut steps = open_transaction(&name);
                steps.push(transactional(9, &name, &["a"], 0).setup());
                steps.push(markers(false, vec![0, 9]));
                steps.push(markers(false, vec![0]).fill(fill_previous_epoch));
                steps.push(read_committed(fetch(12, &name, 0, 0)));
                steps
            },
        ));
    }
}
