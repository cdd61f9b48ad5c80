//! Consumer groups with librdkafka, over the classic group protocol as Kafka 4.1 serves it
//! (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit, OffsetFetch).
//!
//! What a service relying on a group needs from the broker, each checked through the
//! client and through the cluster's `group()` view:
//!
//! - members share the partitions, each exactly once, and read every record once;
//! - a member that crashes (no LeaveGroup) loses its partitions when its session times out,
//!   or at once when the test expires it, and the survivor resumes from the last commit;
//! - a restarted consumer resumes from the committed offsets, so an uncommitted record is
//!   delivered again (at-least-once);
//! - cooperative-sticky rebalances revoke only the partitions that change owner;
//! - static members (`group.instance.id`) restart without a rebalance and fence a
//!   duplicate;
//! - lag, auto-commit and `reset_group_offsets`.
//!
//! How: every consumer is a [`GroupMember`] (a `BaseConsumer` with a rebalance log) pumped
//! from inside a wait condition, so all members of a group progress on the test thread
//! and nothing sleeps to synchronise. Records are seeded only once a group has settled
//! where a test counts deliveries, so no rebalance can hand the same records to two
//! members. A process crash is a real one: the consumer that dies runs in a child process
//! (the `crash-consumer` binary of this package, started as a [`ChildProcess`]) and the
//! test SIGKILLs it, because dropping an rdkafka consumer always leaves the group cleanly.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

use broker_sim::{Cluster, GroupInfo, GroupState, NewRecord, OffsetReset, ResponseError};
use bytes::Bytes;
use client_tests::{
    CRASH_CONSUMER_COMMITTED, ChildProcess, DEADLINE, GroupMember, RebalanceEvent, TopicPartition,
    group_consumer_config, init_tracing, pump_all, settle_group, settled_group, wait_for,
    wait_for_ok, wait_until,
};
use rdkafka::consumer::{Consumer, RebalanceProtocol};
use rdkafka::message::OwnedMessage;
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Message, Offset};

const TOPIC: &str = "orders";

/// A 3-broker cluster with `partitions` partitions of [`TOPIC`].
fn cluster(partitions: i32) -> Cluster {
    Cluster::builder()
        .brokers(3)
        .topic(TOPIC, partitions)
        .start()
        .unwrap()
}

/// Appends `per_partition` records to every partition of [`TOPIC`]: the record at offset
/// `i` has value `p{partition}-{i}` and timestamp `1000 + i`.
fn seed(cluster: &Cluster, per_partition: i64) {
    let partitions = cluster.partitions(TOPIC).unwrap().len() as i32;
    for p in 0..partitions {
        let records: Vec<NewRecord> = (0..per_partition)
            .map(|i| NewRecord {
                timestamp: 1_000 + i,
                key: None,
                value: Some(Bytes::from(format!("p{p}-{i}"))),
                headers: Vec::new(),
            })
            .collect();
        cluster.produce_records(TOPIC, p, &records).unwrap();
    }
}

/// (partition, offset) of each message, sorted: which records were read, and how often.
fn positions(messages: &[OwnedMessage]) -> Vec<(i32, i64)> {
    let mut at: Vec<_> = messages
        .iter()
        .map(|m| (m.partition(), m.offset()))
        .collect();
    at.sort();
    at
}

/// Every (partition, offset) from `start(partition)` to `end` in partitions `0..count`.
fn span(count: i32, end: i64, start: impl Fn(i32) -> i64) -> Vec<(i32, i64)> {
    (0..count)
        .flat_map(|p| (start(p)..end).map(move |o| (p, o)))
        .collect()
}

/// [`settle_group`] on [`TOPIC`].
async fn settle(cluster: &Cluster, group: &str, members: &mut [GroupMember]) -> GroupInfo {
    settle_group(cluster, group, members, TOPIC).await
}

/// Waits until `group` exists with no members (everyone left) and returns it.
async fn wait_empty(cluster: &Cluster, group: &str) -> GroupInfo {
    wait_for(DEADLINE, &format!("group {group:?} to be empty"), || {
        cluster
            .group(group)
            .filter(|g| g.state == GroupState::Empty && g.members.is_empty())
    })
    .await
}

/// The committed offset of every partition of [`TOPIC`], `None` where there is none.
fn committed(cluster: &Cluster, group: &str, partitions: i32) -> Vec<Option<i64>> {
    let info = cluster.group(group).expect("group exists");
    (0..partitions).map(|p| info.offset(TOPIC, p)).collect()
}

#[tokio::test]
async fn three_consumers_split_six_partitions_two_each_and_read_every_record_once() {
    init_tracing();
    let cluster = cluster(6);
    let config = group_consumer_config(&cluster.bootstrap_servers(), "billing");
    let mut members: Vec<GroupMember> = ["c1", "c2", "c3"]
        .into_iter()
        .map(|name| GroupMember::subscribe(&config, name, &[TOPIC]))
        .collect();

    let group = settle(&cluster, "billing", &mut members).await;
    assert_eq!(group.protocol_type, "consumer");
    // librdkafka offers "range,roundrobin"; the coordinator picks the first all support.
    assert_eq!(group.protocol.as_deref(), Some("range"));
    for member in &members {
        assert_eq!(member.assignment().len(), 2, "{}", member.name());
    }
    for member in &group.members {
        assert_eq!(member.client_host, "/127.0.0.1");
        assert_eq!(member.session_timeout_ms, 10_000);
        // librdkafka sends max.poll.interval.ms (default 300 s) as the rebalance timeout.
        assert_eq!(member.rebalance_timeout_ms, 300_000);
        assert_eq!(member.group_instance_id, None);
    }
    let leader = group.leader.as_deref().expect("a leader");
    assert!(
        group.member(leader).is_some(),
        "leader {leader} is a member"
    );

    // Seeded only now: with the group settled, no rebalance can give one partition's
    // records to two members.
    for i in 0..300 {
        let (key, value) = (format!("customer-{i}"), format!("invoice-{i}"));
        cluster
            .produce(TOPIC, Some(key.as_bytes()), value.as_bytes())
            .unwrap();
    }
    wait_until(DEADLINE, "300 records consumed across the group", || {
        pump_all(&mut members);
        members.iter().map(|m| m.consumed().len()).sum::<usize>() >= 300
    })
    .await;

    let all: Vec<OwnedMessage> = members
        .iter()
        .flat_map(|m| m.consumed().iter().cloned())
        .collect();
    let expected: Vec<(i32, i64)> = cluster
        .records(TOPIC)
        .iter()
        .map(|r| (r.partition, r.offset))
        .collect();
    assert_eq!(positions(&all), expected, "every record exactly once");
    for member in &members {
        let own = member.assignment();
        for m in member.consumed() {
            let at = (m.topic().to_string(), m.partition());
            assert!(own.contains(&at), "{} read {at:?}", member.name());
        }
    }
}

// ---------------------------------------------------------------------------------------
// A member that dies without leaving.

/// The client id of the consumer process the crash tests kill.
const CHILD_NAME: &str = "doomed";
/// The child processes and commits the records below this offset in each partition; the
/// ones after it are fetched but still "in processing" when the process dies.
const CHILD_COMMITS_BELOW: i64 = 8;

/// How the coordinator learns that the child is dead.
enum Death {
    /// Its 1 s session lapses.
    SessionTimeout,
    /// Its session is 60 s, so only `Cluster::expire_member` can end it within the test.
    Expired,
}

/// The survivor joins first, the child second (3 partitions each); records are seeded,
/// the survivor commits all of its own, the child the first [`CHILD_COMMITS_BELOW`] of
/// each of its partitions. Then the child is killed and `death` removes it: the survivor
/// must take its partitions over, starting at the child's committed offsets.
async fn survivor_takes_over_from_a_crashed_member(death: Death) {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 6)
        .group_min_session_timeout_ms(500)
        .start()
        .unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let (group, child_session_ms) = match death {
        Death::SessionTimeout => ("crash-by-timeout", 1_000),
        Death::Expired => ("crash-by-expiry", 60_000),
    };
    let config = group_consumer_config(&bootstrap, group);
    let mut survivor = [GroupMember::subscribe(&config, "survivor", &[TOPIC])];
    settle(&cluster, group, &mut survivor).await;

    let mut child = ChildProcess::start(
        env!("CARGO_BIN_EXE_crash-consumer"),
        &[
            bootstrap.clone(),
            group.to_string(),
            TOPIC.to_string(),
            CHILD_NAME.to_string(),
            child_session_ms.to_string(),
            CHILD_COMMITS_BELOW.to_string(),
        ],
    );
    let before = wait_for_ok(DEADLINE, "the child to join", || {
        survivor[0].pump();
        let info = cluster.group(group).ok_or("no group")?;
        let sizes: Vec<usize> = info.members.iter().map(|m| m.partitions().len()).collect();
        let mine = info.members.iter().find(|m| m.client_id == "survivor");
        let applied = mine.is_some_and(|m| m.partitions() == survivor[0].assignment());
        if info.state == GroupState::Stable && sizes == [3, 3] && applied {
            Ok(info)
        } else {
            Err(format!("{info:?}"))
        }
    })
    .await;
    let dead = before
        .members
        .iter()
        .find(|m| m.client_id == CHILD_NAME)
        .expect("the child is a member")
        .clone();
    assert_eq!(dead.session_timeout_ms, child_session_ms);

    seed(&cluster, 20);
    let dead_partitions: BTreeSet<i32> = dead.partitions().into_iter().map(|(_, p)| p).collect();
    let target = |p: i32| {
        if dead_partitions.contains(&p) {
            CHILD_COMMITS_BELOW
        } else {
            20
        }
    };
    let mut child_done = false;
    wait_for_ok(DEADLINE, "both members to commit", || {
        let fresh = survivor[0].pump();
        survivor[0].commit_after(&fresh).expect("survivor commits");
        child_done = child_done || child.printed(CRASH_CONSUMER_COMMITTED);
        let offsets = committed(&cluster, group, 6);
        let want: Vec<_> = (0..6).map(|p| Some(target(p))).collect();
        if child_done && offsets == want {
            Ok(())
        } else {
            Err(format!("child done: {child_done}, committed {offsets:?}"))
        }
    })
    .await;

    // SIGKILL: no LeaveGroup, no final commit; the kernel closes its sockets.
    child.kill();
    if let Death::Expired = death {
        // A dead process alone changes nothing until its session ends: the coordinator
        // still counts it, so the rebalance below can only come from the expiry.
        let info = cluster.group(group).unwrap();
        assert_eq!(info.state, GroupState::Stable);
        assert_eq!(info.generation, before.generation);
        assert!(info.member(&dead.member_id).is_some());
        cluster
            .expire_member(group, &dead.member_id)
            .expect("expire the dead member");
    }

    let after = wait_for_ok(DEADLINE, "the survivor to take over and commit", || {
        let fresh = survivor[0].pump();
        survivor[0].commit_after(&fresh).expect("survivor commits");
        let info = settled_group(&cluster, group, &[&survivor[0]], TOPIC)?;
        let offsets = committed(&cluster, group, 6);
        if offsets == vec![Some(20); 6] {
            Ok(info)
        } else {
            Err(format!("committed {offsets:?}"))
        }
    })
    .await;
    assert!(after.member(&dead.member_id).is_none());
    assert!(after.generation > before.generation);
    let taken_over = survivor[0].assignment();
    for (topic, p) in dead.partitions() {
        assert!(
            taken_over.contains(&(topic, p)),
            "partition {p} not taken over"
        );
    }

    // The survivor read its own partitions from 0 and the dead member's from where its
    // commits stopped: the in-flight records again, the committed ones not.
    let read = positions(survivor[0].consumed());
    let dead_start = |p| {
        if dead_partitions.contains(&p) {
            CHILD_COMMITS_BELOW
        } else {
            0
        }
    };
    assert_eq!(read, span(6, 20, dead_start));
    // At least once, none lost: what the child committed plus what the survivor read is
    // the whole topic.
    let mut covered: BTreeSet<(i32, i64)> = read.into_iter().collect();
    covered.extend(
        dead_partitions
            .iter()
            .flat_map(|&p| (0..CHILD_COMMITS_BELOW).map(move |o| (p, o))),
    );
    assert_eq!(
        covered,
        span(6, 20, |_| 0).into_iter().collect::<BTreeSet<_>>()
    );
}

#[tokio::test]
async fn crashed_member_partitions_go_to_the_survivor_after_its_session_times_out() {
    survivor_takes_over_from_a_crashed_member(Death::SessionTimeout).await;
}

#[tokio::test]
async fn expiring_a_crashed_member_hands_its_partitions_to_the_survivor_at_once() {
    survivor_takes_over_from_a_crashed_member(Death::Expired).await;
}

// ---------------------------------------------------------------------------------------
// Committed offsets.

#[tokio::test]
async fn restarted_consumer_resumes_at_the_committed_offsets_and_gets_the_failed_record_again() {
    init_tracing();
    let cluster = cluster(3);
    seed(&cluster, 10);
    let config = group_consumer_config(&cluster.bootstrap_servers(), "invoices");

    // Processing fails at partition 1, offset 6: the consumer commits after each record it
    // processed, so that partition's commits stop in front of the failed record.
    let failed = |m: &OwnedMessage| m.partition() == 1 && m.offset() >= 6;
    let mut first = [GroupMember::subscribe(&config, "first", &[TOPIC])];
    wait_until(
        DEADLINE,
        "the first consumer to read all 30 records",
        || {
            let fresh = first[0].pump();
            let processed: Vec<OwnedMessage> = fresh.into_iter().filter(|m| !failed(m)).collect();
            first[0].commit_after(&processed).expect("commit");
            first[0].consumed().len() >= 30
        },
    )
    .await;
    assert_eq!(
        committed(&cluster, "invoices", 3),
        [Some(10), Some(6), Some(10)]
    );
    // OffsetFetch tells the client the same.
    let fetched = first[0]
        .consumer()
        .committed(DEADLINE)
        .expect("committed offsets")
        .to_topic_map();
    let expected: HashMap<TopicPartition, Offset> = [(0, 10), (1, 6), (2, 10)]
        .into_iter()
        .map(|(p, o)| ((TOPIC.to_string(), p), Offset::Offset(o)))
        .collect();
    assert_eq!(fetched, expected);

    drop(first);
    let empty = wait_empty(&cluster, "invoices").await;
    assert_eq!(
        empty.offset(TOPIC, 1),
        Some(6),
        "offsets outlive the members"
    );

    let mut second = [GroupMember::subscribe(&config, "second", &[TOPIC])];
    wait_until(DEADLINE, "the second consumer to read 4 records", || {
        second[0].pump();
        second[0].consumed().len() >= 4
    })
    .await;
    assert_eq!(
        positions(second[0].consumed()),
        [(1, 6), (1, 7), (1, 8), (1, 9)]
    );
    let redelivered = &second[0].consumed()[0];
    assert_eq!(
        redelivered.payload(),
        Some(&b"p1-6"[..]),
        "the failed record"
    );
}

// ---------------------------------------------------------------------------------------
// Cooperative rebalancing.

/// Each member's assignment and how many rebalance callbacks it had run, by name.
type Snapshot = BTreeMap<String, (Vec<TopicPartition>, usize)>;

fn snapshot(members: &[GroupMember]) -> Snapshot {
    members
        .iter()
        .map(|m| (m.name().to_string(), (m.assignment(), m.rebalances().len())))
        .collect()
}

/// After one cooperative rebalance (from `before`), checks every member that was already
/// there: nothing it kept was revoked on the way, and what it was handed is only new.
fn assert_incremental(step: &str, members: &[GroupMember], before: &Snapshot) {
    for member in members {
        let Some((held, seen)) = before.get(member.name()) else {
            continue;
        };
        let held: BTreeSet<TopicPartition> = held.iter().cloned().collect();
        let now: BTreeSet<TopicPartition> = member.assignment().into_iter().collect();
        let mut revoked = BTreeSet::new();
        let mut assigned = BTreeSet::new();
        for event in &member.rebalances()[*seen..] {
            match event {
                RebalanceEvent::Revoked(list) => revoked.extend(list.iter().cloned()),
                RebalanceEvent::Assigned(list) => assigned.extend(list.iter().cloned()),
                RebalanceEvent::Failed(e) => {
                    panic!("{step}: {} rebalance error {e}", member.name())
                }
            }
        }
        let kept: BTreeSet<_> = held.intersection(&now).cloned().collect();
        assert!(
            revoked.is_disjoint(&kept),
            "{step}: {} had kept partitions revoked: {revoked:?}, kept {kept:?}",
            member.name()
        );
        assert!(
            assigned.is_disjoint(&held),
            "{step}: {} was re-assigned partitions it held: {assigned:?}",
            member.name()
        );
    }
}

#[tokio::test]
async fn cooperative_sticky_rebalances_only_move_the_partitions_that_change_owner() {
    init_tracing();
    let cluster = cluster(6);
    let mut config = group_consumer_config(&cluster.bootstrap_servers(), "coop");
    config.set("partition.assignment.strategy", "cooperative-sticky");

    let mut members: Vec<GroupMember> = Vec::new();
    for name in ["m1", "m2", "m3"] {
        let before = snapshot(&members);
        members.push(GroupMember::subscribe(&config, name, &[TOPIC]));
        let group = settle(&cluster, "coop", &mut members).await;
        assert_eq!(group.protocol.as_deref(), Some("cooperative-sticky"));
        for member in &members {
            assert_eq!(
                member.assignment().len(),
                6 / members.len(),
                "{name} joined"
            );
        }
        assert_incremental(&format!("{name} joined"), &members, &before);
    }
    assert!(matches!(
        members[0].consumer().rebalance_protocol(),
        RebalanceProtocol::Cooperative
    ));

    let before = snapshot(&members);
    // Closing sends LeaveGroup after revoking m2's partitions.
    drop(members.remove(1));
    let group = settle(&cluster, "coop", &mut members).await;
    assert_eq!(group.protocol.as_deref(), Some("cooperative-sticky"));
    for member in &members {
        assert_eq!(member.assignment().len(), 3, "after m2 left");
    }
    assert_incremental("m2 left", &members, &before);
}

// ---------------------------------------------------------------------------------------
// Static membership (KIP-345).

/// A config for the static member `instance` of `group`, with a 30 s session: a restart
/// within it must not cost a rebalance.
fn static_config(cluster: &Cluster, group: &str, instance: &str) -> rdkafka::ClientConfig {
    let mut config = group_consumer_config(&cluster.bootstrap_servers(), group);
    config
        .set("group.instance.id", instance)
        .set("session.timeout.ms", "30000");
    config
}

#[tokio::test]
async fn static_member_restarted_within_its_session_gets_its_partitions_back_without_a_rebalance() {
    init_tracing();
    let cluster = cluster(4);
    // "a" joins first, so it is the leader: its restart is the harder case, where the
    // coordinator must also hand the leadership to the new member id.
    let mut members = vec![GroupMember::subscribe(
        &static_config(&cluster, "static", "a"),
        "a-1",
        &[TOPIC],
    )];
    settle(&cluster, "static", &mut members).await;
    members.push(GroupMember::subscribe(
        &static_config(&cluster, "static", "b"),
        "b",
        &[TOPIC],
    ));
    let before = settle(&cluster, "static", &mut members).await;
    let old = before
        .members
        .iter()
        .find(|m| m.client_id == "a-1")
        .unwrap()
        .clone();
    assert_eq!(old.group_instance_id.as_deref(), Some("a"));
    assert_eq!(
        before.leader.as_ref(),
        Some(&old.member_id),
        "the first member leads"
    );
    let a_partitions = members[0].assignment();
    let b_callbacks = members[1].rebalances().len();

    // librdkafka sends no LeaveGroup for a static member, so the coordinator keeps it.
    drop(members.remove(0));
    let info = cluster.group("static").unwrap();
    assert_eq!(info.state, GroupState::Stable);
    assert_eq!(info.generation, before.generation);
    assert!(info.member(&old.member_id).is_some());

    members.insert(
        0,
        GroupMember::subscribe(&static_config(&cluster, "static", "a"), "a-2", &[TOPIC]),
    );
    let after = settle(&cluster, "static", &mut members).await;
    assert_eq!(after.generation, before.generation, "no rebalance");
    assert_eq!(members[0].assignment(), a_partitions);
    let new = after.members.iter().find(|m| m.client_id == "a-2").unwrap();
    assert_eq!(new.group_instance_id.as_deref(), Some("a"));
    assert_ne!(new.member_id, old.member_id);
    assert_eq!(
        after.leader.as_ref(),
        Some(&new.member_id),
        "leadership follows"
    );
    assert_eq!(
        members[1].rebalances().len(),
        b_callbacks,
        "b saw no rebalance"
    );
}

#[tokio::test]
async fn second_live_consumer_with_the_same_group_instance_id_fences_the_first() {
    init_tracing();
    let cluster = cluster(4);
    let config = static_config(&cluster, "fenced", "worker");
    let mut first = [GroupMember::subscribe(&config, "first", &[TOPIC])];
    settle(&cluster, "fenced", &mut first).await;

    // The newcomer takes over the instance id; the first's next heartbeat, still with its
    // old member id, is answered FENCED_INSTANCE_ID, which librdkafka treats as fatal.
    let mut second = [GroupMember::subscribe(&config, "second", &[TOPIC])];
    let (code, reason) = wait_for(DEADLINE, "the first consumer to be fenced", || {
        // The fatal error also surfaces from poll: expected here, so not a failure.
        let _ = first[0].try_pump(Duration::ZERO);
        second[0].pump();
        first[0].consumer().client().fatal_error()
    })
    .await;
    assert_eq!(code, RDKafkaErrorCode::FencedInstanceId, "{reason}");

    let group = settle(&cluster, "fenced", &mut second).await;
    assert_eq!(
        group.members[0].group_instance_id.as_deref(),
        Some("worker")
    );
}

// ---------------------------------------------------------------------------------------
// Lag, auto-commit, offset resets.

#[tokio::test]
async fn lag_is_the_high_watermark_minus_the_committed_offset() {
    init_tracing();
    let cluster = cluster(4);
    seed(&cluster, 10); // N = 40
    let config = group_consumer_config(&cluster.bootstrap_servers(), "lagging");
    let mut member = [GroupMember::subscribe(&config, "slow", &[TOPIC])];
    wait_until(DEADLINE, "all 40 records consumed", || {
        member[0].pump();
        member[0].consumed().len() >= 40
    })
    .await;
    // Processed (and committed) only M = 10 + 7 + 2 + 0 = 19 of them.
    member[0]
        .commit(&[(TOPIC, 0, 10), (TOPIC, 1, 7), (TOPIC, 2, 2), (TOPIC, 3, 0)])
        .expect("commit");

    let info = cluster.group("lagging").unwrap();
    let lags: Vec<(i32, i64, i64, i64)> = info
        .offsets
        .iter()
        .map(|o| (o.partition, o.offset, o.high_watermark, o.lag))
        .collect();
    assert_eq!(
        lags,
        [(0, 10, 10, 0), (1, 7, 10, 3), (2, 2, 10, 8), (3, 0, 10, 10)]
    );
    assert_eq!(info.total_lag(), 40 - 19);

    // Lag follows the log, not the last commit.
    let more: Vec<NewRecord> = (0..5)
        .map(|i| NewRecord {
            timestamp: 2_000 + i,
            key: None,
            value: Some(Bytes::from_static(b"late")),
            headers: Vec::new(),
        })
        .collect();
    cluster.produce_records(TOPIC, 3, &more).unwrap();
    let info = cluster.group("lagging").unwrap();
    assert_eq!(info.offsets[3].lag, 15);
    assert_eq!(info.total_lag(), 21 + 5);
}

#[tokio::test]
async fn auto_commit_commits_the_position_after_every_consumed_record() {
    init_tracing();
    let cluster = cluster(3);
    seed(&cluster, 10);
    let mut config = group_consumer_config(&cluster.bootstrap_servers(), "auto");
    config
        .set("enable.auto.commit", "true")
        .set("auto.commit.interval.ms", "200");
    let mut member = [GroupMember::subscribe(&config, "auto", &[TOPIC])];
    wait_until(DEADLINE, "all 30 records consumed", || {
        member[0].pump();
        member[0].consumed().len() >= 30
    })
    .await;

    // The test never commits: whatever appears was committed by librdkafka's timer.
    let info = wait_for_ok(DEADLINE, "auto-commit to reach the high watermarks", || {
        member[0].pump();
        let info = cluster.group("auto").ok_or("no group")?;
        let caught_up =
            info.offsets.len() == 3 && info.offsets.iter().all(|o| o.offset == o.high_watermark);
        if caught_up {
            Ok(info)
        } else {
            Err(format!("{:?}", info.offsets))
        }
    })
    .await;
    assert_eq!(committed(&cluster, "auto", 3), [Some(10); 3]);
    assert_eq!(info.total_lag(), 0);
}

#[tokio::test]
async fn offsets_reset_on_an_empty_group_are_where_the_next_consumer_starts() {
    init_tracing();
    let cluster = cluster(2);
    seed(&cluster, 10);
    let config = group_consumer_config(&cluster.bootstrap_servers(), "replay");

    let mut first = [GroupMember::subscribe(&config, "first", &[TOPIC])];
    wait_until(
        DEADLINE,
        "the first consumer to read and commit all",
        || {
            let fresh = first[0].pump();
            first[0].commit_after(&fresh).expect("commit");
            first[0].consumed().len() >= 20
        },
    )
    .await;
    drop(first);
    wait_empty(&cluster, "replay").await;
    assert_eq!(committed(&cluster, "replay", 2), [Some(10); 2]);

    cluster
        .reset_group_offsets("replay", TOPIC, OffsetReset::Earliest)
        .expect("reset to earliest");
    assert_eq!(committed(&cluster, "replay", 2), [Some(0); 2]);
    let mut second = [GroupMember::subscribe(&config, "second", &[TOPIC])];
    wait_until(DEADLINE, "the second consumer to re-read all 20", || {
        second[0].pump();
        second[0].consumed().len() >= 20
    })
    .await;
    assert_eq!(positions(second[0].consumed()), span(2, 10, |_| 0));
    drop(second); // without committing
    wait_empty(&cluster, "replay").await;

    cluster
        .reset_group_offsets("replay", TOPIC, OffsetReset::Latest)
        .expect("reset to latest");
    assert_eq!(committed(&cluster, "replay", 2), [Some(10); 2]);
    // The first record stamped at or after 1004 is at offset 4 in each partition.
    cluster
        .reset_group_offsets("replay", TOPIC, OffsetReset::Timestamp(1_004))
        .expect("reset to a timestamp");
    assert_eq!(committed(&cluster, "replay", 2), [Some(4); 2]);

    cluster
        .reset_group_offsets("replay", TOPIC, OffsetReset::Offset(7))
        .expect("reset to offset 7");
    assert_eq!(committed(&cluster, "replay", 2), [Some(7); 2]);
    let mut third = [GroupMember::subscribe(&config, "third", &[TOPIC])];
    wait_until(DEADLINE, "the third consumer to read 6 records", || {
        third[0].pump();
        third[0].consumed().len() >= 6
    })
    .await;
    assert_eq!(positions(third[0].consumed()), span(2, 10, |_| 7));
}

#[tokio::test]
async fn resetting_offsets_of_a_group_with_live_members_fails_with_non_empty_group() {
    init_tracing();
    let cluster = cluster(2);
    seed(&cluster, 10);
    let config = group_consumer_config(&cluster.bootstrap_servers(), "busy");
    let mut member = [GroupMember::subscribe(&config, "live", &[TOPIC])];
    wait_until(DEADLINE, "the consumer to read and commit all", || {
        let fresh = member[0].pump();
        member[0].commit_after(&fresh).expect("commit");
        member[0].consumed().len() >= 20
    })
    .await;
    settle(&cluster, "busy", &mut member).await;

    let refused = cluster
        .reset_group_offsets("busy", TOPIC, OffsetReset::Earliest)
        .expect_err("a group with members cannot be reset");
    assert_eq!(refused.code, ResponseError::NonEmptyGroup, "{refused}");
    assert_eq!(committed(&cluster, "busy", 2), [Some(10); 2], "unchanged");
}
