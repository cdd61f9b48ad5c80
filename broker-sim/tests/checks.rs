//! The history checkers (`broker_sim::checks`): each property is broken on purpose and
//! the checker must say so, with the records involved; the same run without the break
//! must pass. Most breaks happen on a real cluster over the wire (a write lost to an
//! unclean election, a member committing backwards, a group rewound below its commit, a
//! commit past what was read); the ones a correct broker cannot produce (a duplicated
//! idempotent batch, a reordered log, a torn transaction, an application that mishandles
//! records) are judged from snapshots built by hand, exactly as real ones are.

mod support;

use std::time::Duration;

use broker_sim::checks::{
    self, Check, Delivery, ExactlyOnce, Handled, Id, PartitionSnapshot, Snapshot,
};
use broker_sim::{
    BatchInfo, Cluster, CommitSource, History, HistoryEvent, OffsetReset, Record, TxnStatus,
};
use bytes::Bytes;
use kafka_protocol::messages::{OffsetCommitRequest, SyncGroupRequest};
use support::*;

const T0: i64 = 1_700_000_000_000;
const GROUP: &str = "g";

fn checks_of(report: &checks::Report) -> Vec<Check> {
    report.violations.iter().map(|v| v.check).collect()
}

/// A member of GROUP holding every partition of "t", joined over the wire with the client
/// id every wire test uses (so its fetches are attributed to the group).
struct Member {
    id: String,
    generation: i32,
    coordinator: Conn,
}

fn join(cluster: &Cluster, partitions: &[i32]) -> Member {
    let mut coordinator = Conn::to_coordinator(cluster, GROUP);
    let joined = coordinator.join(9, join_request(GROUP, "", &["range"]));
    assert_no_error(joined.error_code, "join");
    let id = joined.member_id.to_string();
    let synced = coordinator.send::<SyncGroupRequest>(
        5,
        &sync_request(
            GROUP,
            joined.generation_id,
            &id,
            &[(id.as_str(), assignment(&[("t", partitions)]))],
        )
        .with_protocol_type(Some(str_bytes("consumer")))
        .with_protocol_name(Some(str_bytes("range"))),
    );
    assert_no_error(synced.error_code, "sync");
    Member {
        id,
        generation: joined.generation_id,
        coordinator,
    }
}

impl Member {
    fn commit(&mut self, partition: i32, offset: i64) {
        let response = self.coordinator.send::<OffsetCommitRequest>(
            8,
            &commit_request(
                GROUP,
                self.generation,
                &self.id,
                &[("t", partition, offset)],
                None,
                -1,
            ),
        );
        assert_no_error(response.topics[0].partitions[0].error_code, "commit");
    }
}

/// Fetches "t"-`partition` from `offset` and returns the offset after what came back.
fn fetch(cluster: &Cluster, partition: i32, offset: i64) -> i64 {
    let response =
        Conn::to_leader(cluster, "t", partition).send(12, &fetch_request("t", partition, offset));
    let data = &response.responses[0].partitions[0];
    assert_no_error(data.error_code, "fetch");
    offset + values(data.records.as_deref().unwrap_or_default()).len() as i64
}

fn cluster() -> Cluster {
    Cluster::builder()
        .brokers(3)
        .topic("t", 2)
        .default_replication_factor(3)
        .start()
        .unwrap()
}

#[test]
fn a_clean_run_passes_every_check_and_the_history_records_what_happened() {
    let cluster = cluster();
    let (pid, epoch) = init_idempotent_producer(&cluster);
    for (seq, values) in [(0, ["a", "b"]), (2, ["c", "d"])] {
        let answer = try_produce(&cluster, "t", 0, idempotent_batch(&values, pid, epoch, seq));
        assert_no_error(answer.error_code, "produce");
    }
    produce(&cluster, "t", 1, batch_of(&["e"]));
    let mut member = join(&cluster, &[0, 1]);
    let end = fetch(&cluster, 0, 0);
    assert_eq!(end, 4);
    member.commit(0, 2);
    // After a crash the group is handed the uncommitted records again: allowed.
    assert_eq!(fetch(&cluster, 0, 2), 4);
    member.commit(0, 4);
    member.commit(1, fetch(&cluster, 1, 0));

    let snapshot = Snapshot::of(&cluster);
    checks::all(&snapshot).assert_ok();
    let kinds: Vec<&str> = snapshot
        .history
        .events
        .iter()
        .map(|e| match e {
            HistoryEvent::Acked { .. } => "acked",
            HistoryEvent::Fetched { .. } => "fetched",
            HistoryEvent::Assigned { .. } => "assigned",
            HistoryEvent::Committed { .. } => "committed",
            HistoryEvent::TxnEnded { .. } => "txn",
            HistoryEvent::TopicDeleted { .. } => "deleted",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "acked",
            "acked",
            "acked",
            "assigned",
            "fetched",
            "committed",
            "fetched",
            "committed",
            "fetched",
            "committed"
        ]
    );
    match &snapshot.history.events[0] {
        HistoryEvent::Acked {
            producer_id,
            base_sequence,
            acks,
            ..
        } => {
            assert_eq!((*producer_id, *base_sequence, *acks), (pid, 0, -1));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_acknowledged_write_lost_to_an_unclean_election_is_reported() {
    let cluster = Cluster::builder()
        .brokers(2)
        .manual_clock(T0)
        .replica_lag_time_max(Duration::from_secs(10))
        .topic_with_configs("t", 1, &[("unclean.leader.election.enable", "true")])
        .start()
        .unwrap();
    produce(&cluster, "t", 0, batch_of(&["copied"]));
    let leader = cluster.partition("t", 0).unwrap().leader;
    let follower = follower(&cluster, "t", 0);
    cluster.pause_replication(follower).unwrap();
    cluster.advance(Duration::from_secs(11));
    assert_eq!(cluster.partition("t", 0).unwrap().isr, vec![leader]);
    // acks=all with the ISR down to the leader (min.insync.replicas 1): acknowledged.
    assert_eq!(produce(&cluster, "t", 0, batch_of(&["acknowledged"])), 1);
    checks::all(&Snapshot::of(&cluster)).assert_ok();

    cluster.stop_broker(leader).unwrap();
    assert_eq!(cluster.partition("t", 0).unwrap().leader, follower);
    assert_eq!(
        produce(&cluster, "t", 0, batch_of(&["reuses the offset"])),
        1
    );
    let report = checks::all(&Snapshot::of(&cluster));
    assert_eq!(checks_of(&report), [Check::LostAcks], "{report}");
    let v = &report.violations[0];
    assert_eq!(v.offsets, [1]);
    assert!(v.message.contains("another batch"), "{v}");
    assert_eq!(v.records[0].value.as_deref(), Some("reuses the offset"));
}

#[test]
fn a_member_commit_that_moves_back_is_reported_and_an_operator_reset_is_not() {
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["a", "b", "c", "d"]));
    let mut member = join(&cluster, &[0]);
    fetch(&cluster, 0, 0);
    member.commit(0, 4);
    member.commit(0, 1);
    let report = checks::by_name(&Snapshot::of(&cluster), "commits").unwrap();
    assert_eq!(checks_of(&report), [Check::Commits], "{report}");
    assert!(
        report.violations[0].message.contains("back from 4 to 1"),
        "{report}"
    );
    assert_eq!(report.violations[0].offsets, [1, 2, 3]);

    // Once the group is empty, an operator may move it anywhere.
    let fresh = Cluster::builder().topic("t", 1).start().unwrap();
    produce(&fresh, "t", 0, batch_of(&["a", "b"]));
    fresh
        .reset_group_offsets(GROUP, "t", OffsetReset::Latest)
        .unwrap();
    fresh
        .reset_group_offsets(GROUP, "t", OffsetReset::Earliest)
        .unwrap();
    checks::all(&Snapshot::of(&fresh)).assert_ok();
}

#[test]
fn a_group_handed_records_below_its_committed_offset_again_is_reported() {
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["a", "b", "c", "d"]));
    let mut member = join(&cluster, &[0]);
    fetch(&cluster, 0, 0);
    member.commit(0, 3);
    // A redelivery from the committed offset is at-least-once; from before it is not.
    fetch(&cluster, 0, 3);
    checks::all(&Snapshot::of(&cluster)).assert_ok();
    fetch(&cluster, 0, 1);
    let report = checks::all(&Snapshot::of(&cluster));
    assert_eq!(checks_of(&report), [Check::Delivery], "{report}");
    assert_eq!(report.violations[0].offsets, [1, 2]);
    assert_eq!(report.violations[0].group.as_deref(), Some(GROUP));
}

#[test]
fn a_commit_past_what_the_group_was_handed_is_reported() {
    let cluster = Cluster::builder().topic("t", 1).start().unwrap();
    produce(&cluster, "t", 0, batch_of(&["a", "b"]));
    produce(&cluster, "t", 0, batch_of(&["c", "d"]));
    let mut member = join(&cluster, &[0]);
    // Only the first batch is read (the fetch's byte limit), then everything committed.
    let mut conn = Conn::to_leader(&cluster, "t", 0);
    let mut request = fetch_request("t", 0, 0);
    request.topics[0].partitions[0].partition_max_bytes = 1;
    conn.send(12, &request);
    member.commit(0, 4);
    let report = checks::all(&Snapshot::of(&cluster));
    assert_eq!(checks_of(&report), [Check::Coverage], "{report}");
    assert_eq!(report.violations[0].offsets, [2, 3]);
    assert_eq!(report.violations[0].records[0].value.as_deref(), Some("c"));
}

#[test]
fn a_truncated_history_is_never_reported_as_clean() {
    let cluster = Cluster::builder()
        .topic("t", 1)
        .history_limit(2)
        .start()
        .unwrap();
    for v in ["a", "b", "c"] {
        produce(&cluster, "t", 0, batch_of(&[v]));
    }
    let report = checks::all(&Snapshot::of(&cluster));
    assert!(report.truncated && !report.is_ok(), "{report}");
    let off = Cluster::builder()
        .topic("t", 1)
        .history_limit(0)
        .start()
        .unwrap();
    produce(&off, "t", 0, batch_of(&["a"]));
    assert!(off.history().events.is_empty());
}

// Snapshots built by hand: breaks a correct broker cannot make.

fn rec(topic: &str, partition: i32, offset: i64, key: &str, value: &str) -> Record {
    Record {
        topic: topic.into(),
        partition,
        offset,
        timestamp: T0,
        key: Some(Bytes::copy_from_slice(key.as_bytes())),
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: Vec::new(),
        transaction: TxnStatus::None,
    }
}

fn part(
    topic: &str,
    partition: i32,
    records: Vec<Record>,
    batches: Vec<BatchInfo>,
) -> PartitionSnapshot {
    let end = records.last().map_or(0, |r| r.offset + 1);
    PartitionSnapshot {
        topic: topic.into(),
        partition,
        log_start_offset: 0,
        high_watermark: end,
        last_stable_offset: end,
        cleaned_to: 0,
        batches,
        records,
    }
}

fn idempotent(base: i64, last: i64, seq: i32) -> BatchInfo {
    BatchInfo {
        base_offset: base,
        last_offset: last,
        producer_id: 7,
        producer_epoch: 0,
        base_sequence: seq,
        crc: 0,
        control: false,
        transactional: false,
    }
}

fn keyed(topic: &str, keys: &[&str]) -> Vec<Record> {
    keys.iter()
        .enumerate()
        .map(|(i, k)| rec(topic, 0, i as i64, k, &format!("{k}{i}")))
        .collect()
}

#[test]
fn a_duplicated_idempotent_batch_is_reported() {
    let records = keyed("t", &["k", "k", "k", "k"]);
    let good = part(
        "t",
        0,
        records.clone(),
        vec![idempotent(0, 1, 0), idempotent(2, 3, 2)],
    );
    let snapshot = Snapshot {
        partitions: vec![good],
        ..Snapshot::default()
    };
    assert!(checks::duplicates(&snapshot).is_empty());
    let bad = part(
        "t",
        0,
        records,
        vec![idempotent(0, 1, 0), idempotent(2, 3, 1)],
    );
    let snapshot = Snapshot {
        partitions: vec![bad],
        ..Snapshot::default()
    };
    let found = checks::duplicates(&snapshot);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].message.contains("again at offset 2"),
        "{}",
        found[0]
    );
}

#[test]
fn a_reordered_log_is_reported_by_sequence_and_by_send_order() {
    let records = keyed("t", &["k", "k"]);
    let reordered = part(
        "t",
        0,
        records.clone(),
        vec![idempotent(0, 0, 1), idempotent(1, 1, 0)],
    );
    let snapshot = Snapshot {
        partitions: vec![reordered],
        ..Snapshot::default()
    };
    let found = checks::log_order(&snapshot);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].offsets, [0, 1]);

    // Without producer ids, the application says what it sent: k1 before k0.
    let snapshot = Snapshot {
        partitions: vec![part("t", 0, records, Vec::new())],
        ..Snapshot::default()
    };
    let b = |s: &str| Bytes::copy_from_slice(s.as_bytes());
    let in_order = [(Some(b("k")), b("k0")), (Some(b("k")), b("k1"))];
    assert!(checks::sent_order(&snapshot, "t", &in_order).is_empty());
    let reversed = [(Some(b("k")), b("k1")), (Some(b("k")), b("k0"))];
    let found = checks::sent_order(&snapshot, "t", &reversed);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].check, Check::SentOrder);
}

fn committed(group: &str, topic: &str, offset: i64, at_ms: i64) -> HistoryEvent {
    HistoryEvent::Committed {
        at_ms,
        group: group.into(),
        topic: topic.into(),
        partition: 0,
        offset,
        source: CommitSource::Transaction { producer_id: 1 },
    }
}

/// An input topic "in" of three records and the outputs a pipeline wrote to "out".
fn pipeline(outputs: Vec<Record>, committed_up_to: i64) -> Snapshot {
    let inputs = vec![
        rec("in", 0, 0, "a", "1"),
        rec("in", 0, 1, "b", "2"),
        rec("in", 0, 2, "c", "3"),
    ];
    Snapshot {
        history: History::from_events(vec![committed("p", "in", committed_up_to, T0)]),
        partitions: vec![
            part("in", 0, inputs, Vec::new()),
            part("out", 0, outputs, Vec::new()),
        ],
    }
}

#[test]
fn a_torn_or_repeated_transaction_breaks_exactly_once() {
    let spec = ExactlyOnce::new("in", "out", "p").by(Id::Key);
    let out = |offset: i64, key: &str, status: TxnStatus| Record {
        transaction: status,
        ..rec("out", 0, offset, key, "x")
    };
    let good = pipeline(
        vec![
            out(0, "a", TxnStatus::Committed),
            out(1, "b", TxnStatus::Committed),
            out(2, "b", TxnStatus::Aborted),
        ],
        2,
    );
    assert_eq!(checks::exactly_once(&good, &spec), []);

    // The output of "b" committed twice (a retried transaction that was not fenced).
    let twice = pipeline(
        vec![
            out(0, "a", TxnStatus::Committed),
            out(1, "b", TxnStatus::Committed),
            out(2, "b", TxnStatus::Committed),
        ],
        2,
    );
    let found = checks::exactly_once(&twice, &spec);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.contains("more than once"), "{}", found[0]);

    // The output of "c" is visible but its input offset was never committed: torn.
    let torn = pipeline(
        vec![
            out(0, "a", TxnStatus::Committed),
            out(1, "b", TxnStatus::Committed),
            out(2, "c", TxnStatus::None),
        ],
        2,
    );
    let found = checks::exactly_once(&torn, &spec);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].message.contains("not atomic"), "{}", found[0]);

    // "b" committed, its output aborted: lost.
    let lost = pipeline(
        vec![
            out(0, "a", TxnStatus::Committed),
            out(1, "b", TxnStatus::Aborted),
        ],
        2,
    );
    let found = checks::exactly_once(&lost, &spec);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].topic, "in");
    assert_eq!(found[0].offsets, [1]);
}

#[test]
fn the_applications_account_is_checked_for_losses_duplicates_and_per_key_order() {
    // Keys a, b, a, b at offsets 0..4; the group committed 4 and was handed 0..4 once.
    let records = keyed("t", &["a", "b", "a", "b"]);
    let history = History::from_events(vec![
        HistoryEvent::Assigned {
            at_ms: T0,
            group: GROUP.into(),
            generation: 1,
            members: vec![broker_sim::AssignedMember {
                member_id: "m".into(),
                client_id: "app".into(),
                partitions: vec![("t".into(), 0)],
            }],
        },
        HistoryEvent::Fetched {
            at_ms: T0,
            broker: 1,
            client_id: "app".into(),
            topic: "t".into(),
            partition: 0,
            fetch_offset: 0,
            first_offset: 0,
            end_offset: 4,
            read_committed: false,
        },
        HistoryEvent::Committed {
            at_ms: T0,
            group: GROUP.into(),
            topic: "t".into(),
            partition: 0,
            offset: 4,
            source: CommitSource::Member {
                generation: 1,
                member_id: "m".into(),
            },
        },
    ]);
    let snapshot = Snapshot {
        history,
        partitions: vec![part("t", 0, records, Vec::new())],
    };
    checks::all(&snapshot).assert_ok();
    let judge = |handled: &[i64], delivery: Delivery| {
        let spec = Handled::new("t")
            .group(GROUP)
            .delivery(delivery)
            .records(handled.iter().map(|o| (0, *o)));
        checks::handled(&snapshot, &spec)
    };
    assert_eq!(judge(&[0, 1, 2, 3], Delivery::ExactlyOnce), []);
    // Across keys any order is fine.
    assert_eq!(judge(&[1, 0, 3, 2], Delivery::AtLeastOnce), []);

    let lost = judge(&[0, 1, 3], Delivery::AtLeastOnce);
    assert_eq!(lost.len(), 1, "{lost:?}");
    assert_eq!(lost[0].offsets, [2]);

    // Handed once, handled twice: not even at-least-once allows it.
    let twice = judge(&[0, 1, 1, 2, 3], Delivery::AtLeastOnce);
    assert_eq!(twice.len(), 1, "{twice:?}");
    assert_eq!(twice[0].offsets, [1]);

    // Key a's offset 2 handled before its offset 0.
    let reordered = judge(&[2, 0, 1, 3], Delivery::AtLeastOnce);
    assert_eq!(reordered.len(), 1, "{reordered:?}");
    assert_eq!(reordered[0].offsets, [0, 2]);
    assert!(reordered[0].message.contains("per-key order"));
}

#[test]
fn violations_name_the_schedule_steps_around_them() {
    use broker_sim::schedule::{Applied, At, Event, Step};
    let cluster = cluster();
    produce(&cluster, "t", 0, batch_of(&["a", "b"]));
    let mut member = join(&cluster, &[0]);
    fetch(&cluster, 0, 0);
    member.commit(0, 2);
    member.commit(0, 0);
    let now = cluster.now_ms();
    let applied = vec![Applied {
        step: Step {
            at: At::Ms(0),
            event: Event::RestartBroker { broker: 2 },
        },
        at_ms: now,
        outcome: Ok(()),
    }];
    let report = checks::all(&Snapshot::of(&cluster)).with_schedule(&applied, 60_000);
    assert_eq!(report.violations.len(), 1, "{report}");
    assert_eq!(report.violations[0].schedule.len(), 1, "{report}");
    assert!(
        report.to_string().contains("schedule: ")
            && report.to_string().contains("restart broker 2"),
        "{report}"
    );
}

#[test]
fn a_deleted_and_recreated_topic_starts_a_new_history() {
    let cluster = Cluster::builder().topic("t", 1).start().unwrap();
    produce(&cluster, "t", 0, batch_of(&["a", "b", "c"]));
    let mut member = join(&cluster, &[0]);
    fetch(&cluster, 0, 0);
    member.commit(0, 3);
    drop(member);
    cluster
        .expire_member(GROUP, &cluster.group(GROUP).unwrap().members[0].member_id)
        .unwrap();
    cluster.delete_topic("t").unwrap();
    cluster.create_topic("t", 1).unwrap();
    // Other records at the acknowledged offsets, and a commit below the old one: both
    // belong to the new topic.
    produce(&cluster, "t", 0, batch_of(&["x"]));
    let mut member = join(&cluster, &[0]);
    fetch(&cluster, 0, 0);
    member.commit(0, 1);
    let snapshot = Snapshot::of(&cluster);
    checks::all(&snapshot).assert_ok();
    assert!(
        snapshot
            .history
            .events
            .iter()
            .any(|e| matches!(e, HistoryEvent::TopicDeleted { .. }))
    );
}
