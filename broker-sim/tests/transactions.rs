//! Transactions over the wire, with producers and read_committed consumers written against
//! the protocol (`support::TxnProducer`, `support::read_committed`), on both transaction
//! versions: atomic commits across partitions, aborts hidden from read_committed
//! consumers, the last stable offset, offsets committed in a transaction, timeouts on the
//! manual clock, markers waiting for a leader, expiry, aborting from a test — and a
//! property test of random transactional histories with crashes, restarts, timeouts and
//! coordinator failures.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use broker_sim::{Cluster, TxnStatus};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::api_versions_response::FinalizedFeatureKey;
use kafka_protocol::messages::{ApiVersionsRequest, ApiVersionsResponse};
use proptest::prelude::*;
use support::*;

const T0: i64 = 1_700_000_000_000;

fn values(cluster: &Cluster, topic: &str, status: TxnStatus) -> Vec<String> {
    cluster
        .records(topic)
        .iter()
        .filter(|r| r.transaction == status)
        .map(|r| r.value_str().unwrap().to_string())
        .collect()
}

fn both_versions(test: impl Fn(bool)) {
    test(false);
    test(true);
}

#[test]
fn a_commit_is_atomic_across_partitions_for_read_committed_consumers() {
    both_versions(|v2| {
        let cluster = Cluster::builder().brokers(3).topic("t", 2).start().unwrap();
        let mut p = TxnProducer::init(&cluster, "tx", 60_000, v2);
        assert_eq!(p.send(&cluster, "t", 0, &["a0", "a1"]), 0);
        assert_eq!(p.send(&cluster, "t", 1, &["b0"]), 0);
        assert_eq!(read_committed(&cluster, "t", 0).0, Vec::<String>::new());
        assert_eq!(read_committed(&cluster, "t", 1).0, Vec::<String>::new());
        assert_eq!(p.end(&cluster, true), 0);
        assert_eq!(read_committed(&cluster, "t", 0).0, ["a0", "a1"]);
        assert_eq!(read_committed(&cluster, "t", 1).0, ["b0"]);
        let txn = cluster.transaction("tx").unwrap();
        assert_eq!(txn.state, "CompleteCommit");
        assert_eq!(txn.version, if v2 { 2 } else { 0 });
        if v2 {
            assert_eq!(
                p.epoch, 1,
                "transaction version 2 bumps the epoch per transaction"
            );
        }
    });
}

#[test]
fn an_abort_is_invisible_to_read_committed_and_the_next_transaction_is_not() {
    both_versions(|v2| {
        let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
        let mut p = TxnProducer::init(&cluster, "tx", 60_000, v2);
        cluster.produce("t", None, b"plain-before").unwrap();
        assert_eq!(p.send(&cluster, "t", 0, &["gone-1", "gone-2"]), 0);
        assert_eq!(p.end(&cluster, false), 0);
        cluster.produce("t", None, b"plain-after").unwrap();
        assert_eq!(p.send(&cluster, "t", 0, &["kept"]), 0);
        assert_eq!(p.end(&cluster, true), 0);
        let (seen, lso) = read_committed(&cluster, "t", 0);
        assert_eq!(seen, ["plain-before", "plain-after", "kept"]);
        assert_eq!(
            values(&cluster, "t", TxnStatus::Aborted),
            ["gone-1", "gone-2"]
        );
        // Three data batches, one plain record, two markers.
        assert_eq!(lso, 7);
        assert_eq!(cluster.last_stable_offset("t", 0), Some(7));
    });
}

#[test]
fn the_last_stable_offset_stops_at_the_oldest_open_transaction() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let mut first = TxnProducer::init(&cluster, "first", 60_000, false);
    let mut second = TxnProducer::init(&cluster, "second", 60_000, true);
    cluster.produce("t", None, b"plain").unwrap(); // offset 0
    assert_eq!(first.send(&cluster, "t", 0, &["f"]), 0); // offset 1
    assert_eq!(second.send(&cluster, "t", 0, &["s"]), 0); // offset 2
    assert_eq!(cluster.last_stable_offset("t", 0), Some(1));
    // The younger transaction ends first: the LSO still waits for the older one.
    assert_eq!(second.end(&cluster, true), 0); // marker at 3
    assert_eq!(cluster.last_stable_offset("t", 0), Some(1));
    assert_eq!(
        read_committed(&cluster, "t", 0),
        (vec!["plain".to_string()], 1)
    );
    assert_eq!(
        list_latest(&cluster, 1),
        1,
        "ListOffsets read_committed latest is the LSO"
    );
    assert_eq!(
        list_latest(&cluster, 0),
        4,
        "read_uncommitted latest is the high watermark"
    );
    assert_eq!(first.end(&cluster, false), 0); // marker at 4
    assert_eq!(cluster.last_stable_offset("t", 0), Some(5));
    assert_eq!(read_committed(&cluster, "t", 0).0, ["plain", "s"]);
}

fn list_latest(cluster: &Cluster, isolation: i8) -> i64 {
    let mut request = list_offsets_request("t", 0, -1);
    request.isolation_level = isolation;
    let response = Conn::to_leader(cluster, "t", 0).send(7, &request);
    response.topics[0].partitions[0].offset
}

#[test]
fn a_partition_outside_the_transaction_is_refused_on_version_1_and_added_on_version_2() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let p = TxnProducer::init(&cluster, "tx", 60_000, false);
    let bytes = broker_sim_protocol::batch::encode_transactional_batch(
        &[record("x", BASE_TIMESTAMP)],
        broker_sim_protocol::batch::Codec::None,
        p.producer_id,
        p.epoch,
        0,
    )
    .unwrap();
    let mut request = produce_request("t", 0, bytes);
    request.transactional_id = Some(str_bytes("tx").into());
    let code = |v| {
        Conn::to_broker(&cluster, 1).send(v, &request).responses[0].partition_responses[0]
            .error_code
    };
    assert_eq!(code(9), ResponseError::InvalidTxnState.code());
    assert_eq!(code(11), ResponseError::TransactionAbortable.code());
    assert_eq!(code(12), 0);
    let txn = cluster.transaction("tx").unwrap();
    assert_eq!((txn.state.as_str(), txn.version), ("Ongoing", 2));
    assert_eq!(txn.partitions, [("t".to_string(), 0)]);
}

#[test]
fn a_transaction_past_its_timeout_is_aborted_on_the_manual_clock_and_its_producer_fenced() {
    both_versions(|v2| {
        let cluster = Cluster::builder()
            .brokers(1)
            .topic("t", 1)
            .manual_clock(T0)
            .start()
            .unwrap();
        let mut p = TxnProducer::init(&cluster, "tx", 10_000, v2);
        assert_eq!(p.send(&cluster, "t", 0, &["late"]), 0);
        cluster.advance(Duration::from_millis(10_000));
        assert_eq!(cluster.transaction("tx").unwrap().state, "Ongoing");
        cluster.advance(Duration::from_millis(1));
        let txn = cluster.transaction("tx").unwrap();
        assert_eq!(txn.state, "CompleteAbort");
        assert_eq!(txn.producer_epoch, p.epoch + 1, "the producer is fenced");
        assert_eq!(values(&cluster, "t", TxnStatus::Aborted), ["late"]);
        assert_eq!(
            p.send(&cluster, "t", 0, &["zombie"]),
            ResponseError::InvalidProducerEpoch.code()
        );
        let commit = p.end(&cluster, true);
        if v2 {
            // Version 2 takes the old epoch for a retry of the abort, so a commit is
            // refused as the wrong ending.
            assert_eq!(commit, ResponseError::InvalidTxnState.code());
        } else {
            assert_eq!(commit, ResponseError::ProducerFenced.code());
        }
    });
}

#[test]
fn offsets_committed_in_a_transaction_appear_with_its_commit_and_vanish_with_its_abort() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    for (commit, id) in [(false, "aborting"), (true, "committing")] {
        let p = TxnProducer::init(&cluster, id, 60_000, true);
        let mut request = kafka_protocol::messages::TxnOffsetCommitRequest::default()
            .with_transactional_id(str_bytes(id).into())
            .with_group_id(group_id("g"))
            .with_producer_id(p.producer_id.into())
            .with_producer_epoch(p.epoch)
            .with_generation_id(-1);
        request.topics = vec![
            kafka_protocol::messages::txn_offset_commit_request::TxnOffsetCommitRequestTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![
                    kafka_protocol::messages::txn_offset_commit_request::TxnOffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(if commit { 42 } else { 7 }),
                ]),
        ];
        let answer = Conn::to_coordinator(&cluster, "g").send(5, &request);
        assert_no_error(answer.topics[0].partitions[0].error_code, "TxnOffsetCommit");
        let fetch = |stable| {
            let mut r = offset_fetch_request(9, "g", Some(&[("t", &[0])]));
            r.require_stable = stable;
            let a = Conn::to_coordinator(&cluster, "g").send(9, &r);
            let p = &a.groups[0].topics[0].partitions[0];
            (p.committed_offset, p.error_code)
        };
        assert_eq!(
            fetch(true),
            (-1, ResponseError::UnstableOffsetCommit.code())
        );
        let mut p = p;
        assert_eq!(p.end(&cluster, commit), 0);
        let expected = if commit { 42 } else { -1 };
        assert_eq!(fetch(true), (expected, 0));
    }
}

#[test]
fn markers_wait_for_a_partition_without_leader_and_the_transaction_completes_when_it_returns() {
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    cluster
        .create_topic_with(broker_sim::TopicSpec {
            assignments: Some(vec![vec![3]]),
            partitions: -1,
            ..broker_sim::TopicSpec::new("solo", -1)
        })
        .unwrap();
    // A transactional id whose coordinator is not broker 3.
    let id = (0..)
        .map(|i| format!("tx-{i}"))
        .find(|id| cluster.coordinator(id) != Some(3))
        .unwrap();
    let mut p = TxnProducer::init(&cluster, &id, 60_000, false);
    assert_eq!(p.send(&cluster, "solo", 0, &["v"]), 0);
    cluster.stop_broker(3).unwrap();
    assert_eq!(
        p.end(&cluster, true),
        0,
        "EndTxn is answered once the commit is decided"
    );
    assert_eq!(cluster.transaction(&id).unwrap().state, "PrepareCommit");
    let again = kafka_protocol::messages::InitProducerIdRequest::default()
        .with_transactional_id(Some(str_bytes(&id).into()))
        .with_transaction_timeout_ms(60_000);
    let coordinator = cluster.coordinator(&id).unwrap();
    let answer = Conn::to_broker(&cluster, coordinator).send(5, &again);
    assert_eq!(
        answer.error_code,
        ResponseError::ConcurrentTransactions.code()
    );
    cluster.start_broker(3).unwrap();
    assert_eq!(cluster.transaction(&id).unwrap().state, "CompleteCommit");
    assert_eq!(read_committed(&cluster, "solo", 0).0, ["v"]);
}

#[test]
fn unused_transactional_ids_expire_and_a_test_can_abort_an_open_transaction() {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("t", 1)
        .manual_clock(T0)
        .transactional_id_expiration(Duration::from_secs(3_600))
        .start()
        .unwrap();
    let mut open = TxnProducer::init(&cluster, "open", 900_000, false);
    TxnProducer::init(&cluster, "idle", 60_000, false);
    assert_eq!(open.send(&cluster, "t", 0, &["v"]), 0);
    let e = cluster.abort_transaction("idle").unwrap_err();
    assert_eq!(e.code, ResponseError::InvalidTxnState);
    cluster.abort_transaction("open").unwrap();
    assert_eq!(values(&cluster, "t", TxnStatus::Aborted), ["v"]);
    assert_eq!(
        open.send(&cluster, "t", 0, &["after"]),
        ResponseError::InvalidProducerEpoch.code()
    );
    cluster.advance(Duration::from_secs(3_600));
    let ids: Vec<String> = cluster
        .transactions()
        .into_iter()
        .map(|t| t.transactional_id)
        .collect();
    assert!(ids.is_empty(), "{ids:?}");
    assert_eq!(
        cluster.abort_transaction("open").unwrap_err().code,
        ResponseError::TransactionalIdNotFound
    );
}

#[test]
fn api_versions_finalizes_the_configured_transaction_version() {
    for (level, listed) in [(2, true), (1, true), (0, false)] {
        let cluster = Cluster::builder()
            .brokers(1)
            .transaction_version(level)
            .start()
            .unwrap();
        let request = ApiVersionsRequest::default()
            .with_client_software_name(str_bytes("t"))
            .with_client_software_version(str_bytes("1"));
        let answer: ApiVersionsResponse = Conn::to_broker(&cluster, 1).send(4, &request);
        let expected: Vec<FinalizedFeatureKey> = if listed {
            vec![
                FinalizedFeatureKey::default()
                    .with_name(str_bytes("transaction.version"))
                    .with_min_version_level(level)
                    .with_max_version_level(level),
            ]
        } else {
            Vec::new()
        };
        assert_eq!(answer.finalized_features, expected, "level {level}");
        assert_eq!(answer.supported_features.len(), 1);
    }
}

// The property test: random histories of transactional producers.

#[derive(Debug, Clone)]
enum Op {
    /// Producer `p` sends a record to `partition` (beginning a transaction if none is open).
    Send {
        p: usize,
        partition: i32,
    },
    Commit(usize),
    Abort(usize),
    /// Producer `p` crashes and a new instance with its transactional id starts.
    Restart(usize),
    /// The manual clock moves by this many milliseconds (timeouts are 5 s).
    Advance(u64),
    /// The broker coordinating producer `p`'s transactional id stops, then starts again
    /// after the next operation.
    Bounce(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..3usize, 0..3i32).prop_map(|(p, partition)| Op::Send { p, partition }),
        3 => (0..3usize).prop_map(Op::Commit),
        2 => (0..3usize).prop_map(Op::Abort),
        1 => (0..3usize).prop_map(Op::Restart),
        1 => prop_oneof![Just(1_000u64), Just(6_000u64)].prop_map(Op::Advance),
        1 => (0..3usize).prop_map(Op::Bounce),
    ]
}

/// What the test knows of one producer's current transaction.
#[derive(Default)]
struct Open {
    /// The (offset, value) of the records sent in it, by partition.
    values: BTreeMap<i32, Vec<(i64, String)>>,
}

fn cases() -> u32 {
    std::env::var("TXN_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(24)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Whatever happens — crashes, restarts, timeouts, a coordinator stopping — a
    /// read_committed consumer reads exactly the records of committed transactions, each
    /// transaction whole on every partition, in the order written; and no partition's last
    /// stable offset ever moves back or passes an open transaction's first record.
    #[test]
    fn read_committed_sees_exactly_the_committed_transactions(
        v2 in any::<bool>(),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        let cluster = Cluster::builder()
            .brokers(3)
            .topic("t", 3)
            .manual_clock(T0)
            .start()
            .unwrap();
        let ids = ["p0", "p1", "p2"];
        let mut producers: Vec<TxnProducer> =
            ids.iter().map(|id| TxnProducer::init(&cluster, id, 5_000, v2)).collect();
        let mut open: Vec<Open> = (0..3).map(|_| Open::default()).collect();
        let mut committed: BTreeMap<i32, Vec<(i64, String)>> = BTreeMap::new();
        let mut lso = [0i64; 3];
        let mut stopped: Option<i32> = None;
        let mut counter = 0;
        for op in ops {
            let restart_after = stopped.take();
            match op {
                Op::Send { p, partition } => {
                    counter += 1;
                    let value = format!("{}-{counter}", ids[p]);
                    if producers[p].send(&cluster, "t", partition, &[&value]) == 0 {
                        let offset = producers[p].last_offset;
                        open[p].values.entry(partition).or_default().push((offset, value));
                    } else {
                        // Fenced (timed out) or the coordinator is down: a real client
                        // aborts; whatever it sent is rolled back.
                        producers[p].end(&cluster, false);
                        open[p] = Open::default();
                    }
                }
                Op::Commit(p) => {
                    if producers[p].end(&cluster, true) == 0 {
                        let txn = std::mem::take(&mut open[p]);
                        let state = cluster.transaction(ids[p]).unwrap().state;
                        // Committed, or decided but waiting for a leader: both end committed.
                        prop_assert!(state == "CompleteCommit" || state == "PrepareCommit" || txn.values.is_empty(), "{state}");
                        for (partition, values) in txn.values {
                            committed.entry(partition).or_default().extend(values);
                        }
                    } else {
                        open[p] = Open::default();
                    }
                }
                Op::Abort(p) => {
                    producers[p].end(&cluster, false);
                    open[p] = Open::default();
                }
                Op::Restart(p) => {
                    if cluster.coordinator(ids[p]).is_some() {
                        producers[p] = TxnProducer::init(&cluster, ids[p], 5_000, v2);
                        open[p] = Open::default();
                    }
                }
                Op::Advance(ms) => {
                    cluster.advance(Duration::from_millis(ms));
                    for (p, id) in ids.iter().enumerate() {
                        let state = cluster.transaction(id).unwrap().state;
                        if state != "Ongoing" {
                            open[p] = Open::default();
                        }
                    }
                }
                Op::Bounce(p) => {
                    if restart_after.is_none()
                        && let Some(b) = cluster.coordinator(ids[p])
                    {
                        cluster.stop_broker(b).unwrap();
                        stopped = Some(b);
                    }
                }
            }
            if let Some(b) = restart_after {
                cluster.start_broker(b).unwrap();
            }
            check(&cluster, &committed, &mut lso, stopped)?;
        }
        if let Some(b) = stopped {
            cluster.start_broker(b).unwrap();
        }
        check(&cluster, &committed, &mut lso, None)?;
    }
}

/// The invariants, on every partition that has a leader.
fn check(
    cluster: &Cluster,
    committed: &BTreeMap<i32, Vec<(i64, String)>>,
    lso: &mut [i64; 3],
    stopped: Option<i32>,
) -> Result<(), TestCaseError> {
    for partition in 0..3 {
        let info = cluster.partition("t", partition).unwrap();
        if info.leader < 0 || Some(info.leader) == stopped {
            continue;
        }
        let (seen, stable) = read_committed(cluster, "t", partition);
        // Every committed record below the LSO, in offset order: exactly what the
        // consumer must read.
        let mut expected: Vec<(i64, String)> = committed
            .get(&partition)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|(offset, _)| *offset < stable)
            .collect();
        expected.sort();
        let expected: Vec<String> = expected.into_iter().map(|(_, v)| v).collect();
        let open_firsts: BTreeSet<i64> = cluster
            .producers("t", partition)
            .unwrap()
            .into_iter()
            .filter_map(|p| p.current_txn_start_offset)
            .collect();
        if let Some(first) = open_firsts.first() {
            prop_assert!(
                stable <= *first,
                "LSO {stable} past an open transaction at {first}"
            );
        }
        prop_assert!(
            stable >= lso[partition as usize],
            "LSO moved back on {partition}: {} -> {stable}",
            lso[partition as usize]
        );
        lso[partition as usize] = stable;
        prop_assert_eq!(&seen, &expected, "partition {} read_committed", partition);
        if open_firsts.is_empty() {
            let all = committed.get(&partition).map_or(0, Vec::len);
            prop_assert_eq!(seen.len(), all, "partition {} with nothing open", partition);
        }
    }
    Ok(())
}

#[test]
fn a_fault_selects_requests_by_transactional_id() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let mut a = TxnProducer::init(&cluster, "a", 60_000, false);
    let mut b = TxnProducer::init(&cluster, "b", 60_000, false);
    assert_eq!(a.send(&cluster, "t", 0, &["a"]), 0);
    assert_eq!(b.send(&cluster, "t", 0, &["b"]), 0);
    cluster
        .inject(
            broker_sim::Fault::on(broker_sim::ApiKey::EndTxn)
                .transactional_id("a")
                .error(ResponseError::CoordinatorNotAvailable)
                .times(1),
        )
        .unwrap();
    assert_eq!(
        b.end(&cluster, true),
        0,
        "another transactional id is not selected"
    );
    assert_eq!(
        a.end(&cluster, true),
        ResponseError::CoordinatorNotAvailable.code()
    );
    assert_eq!(
        cluster.transaction("a").unwrap().state,
        "Ongoing",
        "refused, not processed"
    );
    assert_eq!(a.end(&cluster, true), 0, "the retry goes through");
    assert_eq!(read_committed(&cluster, "t", 0).0, ["a", "b"]);
}

#[test]
fn deleting_the_start_of_an_open_transaction_leaves_the_last_stable_offset_there() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let mut p = TxnProducer::init(&cluster, "tx", 60_000, false);
    assert_eq!(p.send(&cluster, "t", 0, &["open-1", "open-2"]), 0); // offsets 0-1
    cluster.produce("t", None, b"plain").unwrap(); // offset 2
    assert_eq!(cluster.last_stable_offset("t", 0), Some(0));
    let request = kafka_protocol::messages::DeleteRecordsRequest::default()
        .with_timeout_ms(10_000)
        .with_topics(vec![
            kafka_protocol::messages::delete_records_request::DeleteRecordsTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![
                    kafka_protocol::messages::delete_records_request::DeleteRecordsPartition::default()
                        .with_partition_index(0)
                        .with_offset(1),
                ]),
        ]);
    let answer = Conn::to_leader(&cluster, "t", 0).send(2, &request);
    assert_no_error(answer.topics[0].partitions[0].error_code, "DeleteRecords");
    // As Kafka 4.1 answers it (the differential suite's
    // list_offsets/*/read-committed-after-delete-records): below the new log start.
    assert_eq!(cluster.last_stable_offset("t", 0), Some(0));
    assert_eq!(read_committed(&cluster, "t", 0).0, Vec::<String>::new());
    assert_eq!(p.end(&cluster, true), 0);
    assert_eq!(read_committed(&cluster, "t", 0).0, ["open-2", "plain"]);
}
