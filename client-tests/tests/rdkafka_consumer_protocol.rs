//! librdkafka consumers on the new consumer group protocol (KIP-848,
//! `group.protocol=consumer`, GA in librdkafka 2.12): they join with
//! ConsumerGroupHeartbeat, the broker's `uniform` assignor splits the partitions, a new
//! member gets partitions only as the old owner revokes them (librdkafka's rebalance
//! callbacks are incremental), a member that leaves or is fenced out hands its
//! partitions over, and a fenced member rejoins.
//!
//! Members are pumped from wait conditions, as in `rdkafka_groups.rs`; the cluster tells
//! them to heartbeat every 200 ms (`group.consumer.heartbeat.interval.ms`) so that each
//! step of a rebalance takes a fraction of Kafka's default 5 s.

use broker_sim::{Cluster, GroupInfo};
use client_tests::{
    DEADLINE, GroupMember, RebalanceEvent, group_consumer_config, init_tracing, pump_all,
    settle_group, wait_until,
};
use rdkafka::Message;
use rdkafka::config::ClientConfig;

const TOPIC: &str = "payments";
const GROUP: &str = "ledger";

fn cluster() -> Cluster {
    Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 4)
        .group_consumer_heartbeat_interval_ms(200)
        .start()
        .unwrap()
}

/// [`group_consumer_config`] on the consumer protocol: the session timeout and heartbeat
/// interval are the broker's to set, so they are left out.
fn config(cluster: &Cluster) -> ClientConfig {
    let mut config = group_consumer_config(&cluster.bootstrap_servers(), GROUP);
    config
        .remove("session.timeout.ms")
        .remove("heartbeat.interval.ms")
        .set("group.protocol", "consumer");
    config
}

/// The group's own view: a consumer group, reconciled, every member at the target epoch.
fn assert_reconciled(group: &GroupInfo) {
    assert_eq!(group.group_type, "consumer");
    let consumer = group.consumer.as_ref().expect("a consumer group");
    assert_eq!(consumer.state, "Stable");
    assert_eq!(consumer.assignor, "uniform");
    for m in &group.members {
        assert_eq!(m.member_epoch, Some(consumer.assignment_epoch), "{m:?}");
        assert_eq!(m.target_assignment, m.assignment, "{m:?}");
    }
}

#[tokio::test]
async fn two_members_split_the_partitions_read_every_record_once_and_one_takes_over() {
    init_tracing();
    let cluster = cluster();
    let config = config(&cluster);
    let mut members = vec![GroupMember::subscribe(&config, "first", &[TOPIC])];
    let group = settle_group(&cluster, GROUP, &mut members, TOPIC).await;
    assert_reconciled(&group);
    assert_eq!(members[0].assignment().len(), 4);

    members.push(GroupMember::subscribe(&config, "second", &[TOPIC]));
    let group = settle_group(&cluster, GROUP, &mut members, TOPIC).await;
    assert_reconciled(&group);
    for m in &members {
        assert_eq!(m.assignment().len(), 2, "{}", m.name());
    }
    // The first member gave up two partitions and kept two: incremental callbacks, no
    // partition revoked that it kept.
    let first = members[0].rebalances();
    let revoked: Vec<_> = first
        .iter()
        .filter_map(|e| match e {
            RebalanceEvent::Revoked(ps) => Some(ps.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(revoked.len(), 1, "{first:?}");
    assert_eq!(revoked[0].len(), 2, "{first:?}");
    for kept in members[0].assignment() {
        assert!(!revoked[0].contains(&kept), "{first:?}");
    }

    for i in 0..200 {
        cluster
            .produce(TOPIC, Some(format!("k{i}").as_bytes()), b"payment")
            .unwrap();
    }
    wait_until(DEADLINE, "200 records consumed across the group", || {
        pump_all(&mut members);
        members.iter().map(|m| m.consumed().len()).sum::<usize>() >= 200
    })
    .await;
    let mut read: Vec<(i32, i64)> = members
        .iter()
        .flat_map(|m| m.consumed().iter().map(|r| (r.partition(), r.offset())))
        .collect();
    read.sort_unstable();
    let written: Vec<(i32, i64)> = cluster
        .records(TOPIC)
        .iter()
        .map(|r| (r.partition, r.offset))
        .collect();
    assert_eq!(read, written, "every record exactly once");
    for m in &members {
        m.commit_after(m.consumed())
            .expect("commit with the member epoch");
    }
    let committed = cluster.group(GROUP).unwrap();
    assert_eq!(committed.total_lag(), 0);
    // The history checks see the group's fetches through the epochs' assignments: every
    // committed record was handed to a member, in order, nothing lost.
    broker_sim::checks::all(&broker_sim::checks::Snapshot::of(&cluster)).assert_ok();

    // The second member closes (a heartbeat with epoch -1): the first takes all four.
    drop(members.pop());
    let group = settle_group(&cluster, GROUP, &mut members, TOPIC).await;
    assert_reconciled(&group);
    assert_eq!(members[0].assignment().len(), 4);
}

#[tokio::test]
async fn a_member_fenced_out_by_the_coordinator_rejoins() {
    init_tracing();
    let cluster = cluster();
    let config = config(&cluster);
    let mut members = vec![
        GroupMember::subscribe(&config, "steady", &[TOPIC]),
        GroupMember::subscribe(&config, "fenced", &[TOPIC]),
    ];
    let before = settle_group(&cluster, GROUP, &mut members, TOPIC).await;
    let fenced = before
        .members
        .iter()
        .find(|m| m.client_id == "fenced")
        .expect("member")
        .clone();

    cluster.expire_member(GROUP, &fenced.member_id).unwrap();
    let after = settle_group(&cluster, GROUP, &mut members, TOPIC).await;
    assert_reconciled(&after);
    // librdkafka keeps its member id (KIP-1082) and comes back at a later epoch.
    let back = after
        .members
        .iter()
        .find(|m| m.client_id == "fenced")
        .expect("rejoined");
    assert_eq!(back.member_id, fenced.member_id);
    assert!(
        back.member_epoch > fenced.member_epoch,
        "{back:?} {fenced:?}"
    );
    let events = members[1].rebalances();
    assert!(
        events
            .iter()
            .filter(|e| matches!(e, RebalanceEvent::Assigned(_)))
            .count()
            >= 2,
        "{events:?}"
    );
}

/// Every record of [`TOPIC`], 20 per partition, as (partition, offset).
fn seed_20(cluster: &Cluster) {
    for p in 0..4 {
        let records: Vec<broker_sim::NewRecord> = (0..20)
            .map(|i| broker_sim::NewRecord {
                timestamp: 1_000 + i,
                key: None,
                value: Some(bytes::Bytes::from(format!("p{p}-{i}"))),
                headers: Vec::new(),
            })
            .collect();
        cluster.produce_records(TOPIC, p, &records).unwrap();
    }
}

/// The child commits the records below this offset of each partition, then dies.
const CHILD_COMMITS_BELOW: i64 = 8;

#[tokio::test]
async fn a_killed_member_is_timed_out_and_the_survivor_resumes_from_its_commits() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 4)
        .group_consumer_heartbeat_interval_ms(200)
        .group_consumer_session_timeout_ms(1_000)
        .start()
        .unwrap();
    let config = config(&cluster);
    let mut survivor = [GroupMember::subscribe(&config, "survivor", &[TOPIC])];
    settle_group(&cluster, GROUP, &mut survivor, TOPIC).await;
    let mut child = client_tests::ChildProcess::start(
        env!("CARGO_BIN_EXE_crash-consumer"),
        &[
            cluster.bootstrap_servers(),
            GROUP.to_string(),
            TOPIC.to_string(),
            "doomed".to_string(),
            "consumer".to_string(),
            CHILD_COMMITS_BELOW.to_string(),
        ],
    );
    let before = client_tests::wait_for_ok(DEADLINE, "the child to join and settle", || {
        survivor[0].pump();
        let info = cluster.group(GROUP).ok_or("no group")?;
        let mine = info.members.iter().find(|m| m.client_id == "survivor");
        let settled = info.state == broker_sim::GroupState::Stable
            && info.members.len() == 2
            && mine.is_some_and(|m| m.partitions() == survivor[0].assignment())
            && info.members.iter().all(|m| m.partitions().len() == 2);
        if settled {
            Ok(info)
        } else {
            Err(format!("{info:?}"))
        }
    })
    .await;
    let dead: Vec<i32> = before
        .members
        .iter()
        .find(|m| m.client_id == "doomed")
        .expect("the child is a member")
        .partitions()
        .into_iter()
        .map(|(_, p)| p)
        .collect();

    seed_20(&cluster);
    let mut child_done = false;
    wait_until(DEADLINE, "both members to commit what they process", || {
        let fresh = survivor[0].pump();
        survivor[0].commit_after(&fresh).expect("survivor commits");
        child_done = child_done || child.printed(client_tests::CRASH_CONSUMER_COMMITTED);
        let group = cluster.group(GROUP).unwrap();
        child_done
            && (0..4).all(|p| {
                let want = if dead.contains(&p) {
                    CHILD_COMMITS_BELOW
                } else {
                    20
                };
                group.offset(TOPIC, p) == Some(want)
            })
    })
    .await;

    // SIGKILL: no leaving heartbeat; the 1 s session runs out on the coordinator.
    child.kill();
    wait_until(
        DEADLINE,
        "the survivor to own and commit every partition",
        || {
            let fresh = survivor[0].pump();
            survivor[0].commit_after(&fresh).expect("survivor commits");
            let group = cluster.group(GROUP).unwrap();
            survivor[0].assignment().len() == 4
                && (0..4).all(|p| group.offset(TOPIC, p) == Some(20))
        },
    )
    .await;
    let mut read: Vec<(i32, i64)> = survivor[0]
        .consumed()
        .iter()
        .map(|m| (m.partition(), m.offset()))
        .collect();
    read.sort_unstable();
    let expected: Vec<(i32, i64)> = (0..4)
        .flat_map(|p| {
            let from = if dead.contains(&p) {
                CHILD_COMMITS_BELOW
            } else {
                0
            };
            (from..20).map(move |o| (p, o))
        })
        .collect();
    assert_eq!(
        read, expected,
        "the dead member's partitions resume at its commits"
    );
}

#[tokio::test]
async fn members_follow_their_coordinator_when_its_broker_stops() {
    init_tracing();
    let cluster = cluster();
    let config = config(&cluster);
    let mut members = vec![
        GroupMember::subscribe(&config, "m1", &[TOPIC]),
        GroupMember::subscribe(&config, "m2", &[TOPIC]),
    ];
    let before = settle_group(&cluster, GROUP, &mut members, TOPIC).await;
    let coordinator = before.coordinator.expect("a coordinator");
    seed_20(&cluster);
    wait_until(DEADLINE, "80 records read and committed", || {
        for m in &mut members {
            let fresh = m.pump();
            m.commit_after(&fresh).expect("commit");
        }
        cluster.group(GROUP).unwrap().total_lag() == 0
            && members.iter().map(|m| m.consumed().len()).sum::<usize>() == 80
    })
    .await;

    cluster.stop_broker(coordinator).unwrap();
    let moved = cluster.group(GROUP).unwrap();
    assert_ne!(moved.coordinator, Some(coordinator));
    for p in 0..4 {
        cluster
            .produce(TOPIC, None, format!("after-{p}").as_bytes())
            .unwrap();
    }
    // Polls report the stopped broker's closed connections as errors (taking the
    // records fetched before them); everything consumed so far is committed each time.
    wait_until(
        DEADLINE,
        "the records written after the move read and committed",
        || {
            for m in &mut members {
                let _ = m.try_pump(std::time::Duration::ZERO);
                let _ = m.commit_after(m.consumed());
            }
            let group = cluster.group(GROUP).unwrap();
            group.total_lag() == 0 && group.members.len() == 2
        },
    )
    .await;
    let group = cluster.group(GROUP).unwrap();
    assert_reconciled(&group);
    let read: usize = members.iter().map(|m| m.consumed().len()).sum();
    assert_eq!(read, 84, "each record once across the move");
}

#[tokio::test]
async fn a_classic_group_is_upgraded_online_and_downgraded_when_the_new_protocol_leaves() {
    init_tracing();
    let cluster = cluster();
    let classic = group_consumer_config(&cluster.bootstrap_servers(), GROUP);
    let mut members = vec![GroupMember::subscribe(&classic, "classic", &[TOPIC])];
    let group = settle_group(&cluster, GROUP, &mut members, TOPIC).await;
    assert_eq!(group.group_type, "classic");

    // A member of the new protocol joins the live classic group: it is upgraded, the
    // classic member rejoins as told and gives half of its partitions over.
    members.push(GroupMember::subscribe(
        &config(&cluster),
        "modern",
        &[TOPIC],
    ));
    let group = settle_group(&cluster, GROUP, &mut members, TOPIC).await;
    assert_reconciled(&group);
    for m in &members {
        assert_eq!(m.assignment().len(), 2, "{}", m.name());
    }
    seed_20(&cluster);
    wait_until(DEADLINE, "80 records read and committed", || {
        for m in &mut members {
            let fresh = m.pump();
            m.commit_after(&fresh).expect("commit");
        }
        let group = cluster.group(GROUP).unwrap();
        members.iter().map(|m| m.consumed().len()).sum::<usize>() >= 80
            && group.offsets.len() == 4
            && group.total_lag() == 0
    })
    .await;
    let read: usize = members.iter().map(|m| m.consumed().len()).sum();
    assert_eq!(read, 80, "each record once");

    // The new-protocol member leaves: the group is classic again and rebalances.
    drop(members.pop());
    let group = settle_group(&cluster, GROUP, &mut members, TOPIC).await;
    assert_eq!(group.group_type, "classic");
    assert_eq!(members[0].assignment().len(), 4);
}
