//! Checklist section 4, fault tolerance (`../shared/CHECKLIST.md`): a consumer dies and
//! its partitions move to the others; a broker dies and a replica takes over with nothing
//! lost; and an audit that every acknowledged record survives a run of failures in order,
//! once. The failures are the cluster's own calls (`stop_broker`, `start_broker`,
//! `restart_broker`, `move_leader`, `expire_member`, fault rules), so each happens exactly
//! when the test says. Part of the README's cookbook; `rdkafka_failover.rs` and
//! `rdkafka_groups.rs` go deeper into each failure.

use std::collections::BTreeMap;

use broker_sim::{ApiKey, Cluster, Fault, ResponseError};
use client_tests::checklist::{delivered, queue};
use client_tests::*;
use rdkafka::Message;
use rdkafka::consumer::StreamConsumer;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};

const TOPIC: &str = "payments";

/// Three brokers, three partitions, each on all three.
fn replicated_cluster() -> Cluster {
    init_tracing();
    Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 3)
        .default_replication_factor(3)
        .start()
        .expect("cluster starts")
}

/// An acks=all idempotent producer: what "no loss, no duplicate" needs from the client.
fn safe_producer(cluster: &Cluster) -> FutureProducer {
    producer_config(&cluster.bootstrap_servers())
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "2")
        .create()
        .expect("producer")
}

/// Sends `values` (keyed `key-{i % 10}`) and waits for every acknowledgement.
async fn send_all(producer: &FutureProducer, values: &[String]) {
    let keys: Vec<String> = (0..values.len())
        .map(|i| format!("key-{}", i % 10))
        .collect();
    let deliveries: Vec<_> = values
        .iter()
        .zip(&keys)
        .map(|(v, k)| queue(producer, FutureRecord::to(TOPIC).key(k).payload(v)))
        .collect();
    for d in deliveries {
        delivered(d).await;
    }
}

/// The audit: every acknowledged value is in the log exactly once, and each key's values
/// are in the order they were sent.
fn audit(cluster: &Cluster, acknowledged: &[String]) {
    let stored = cluster.records(TOPIC);
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &stored {
        *seen.entry(r.value_str().unwrap()).or_default() += 1;
    }
    for v in acknowledged {
        assert_eq!(
            seen.get(v.as_str()),
            Some(&1),
            "{v} must be stored exactly once"
        );
    }
    assert_eq!(
        stored.len(),
        acknowledged.len(),
        "nothing but the acknowledged records"
    );
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for r in &stored {
        let n: usize = r.value_str().unwrap()[1..].parse().unwrap();
        by_key.entry(r.key_str().unwrap()).or_default().push(n);
    }
    for (key, order) in by_key {
        assert!(order.is_sorted(), "{key} out of order: {order:?}");
    }
}

fn numbered(from: usize, to: usize) -> Vec<String> {
    (from..to).map(|i| format!("v{i}")).collect()
}

/// Reads `count` records, skipping the "broker unreachable" notices librdkafka hands the
/// application while a broker is down (it retries on its own; a service logs and goes on).
async fn consume_through_outage(consumer: &StreamConsumer, count: usize) -> Vec<OwnedMessage> {
    let give_up = tokio::time::Instant::now() + DEADLINE;
    let mut messages = Vec::new();
    while messages.len() < count {
        match tokio::time::timeout_at(give_up, consumer.recv()).await {
            Ok(Ok(m)) => messages.push(m.detach()),
            Ok(Err(KafkaError::MessageConsumption(
                RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::AllBrokersDown,
            ))) => {}
            Ok(Err(e)) => panic!("consumer error: {e}"),
            Err(_) => panic!("read {} of {count} records", messages.len()),
        }
    }
    messages
}

#[tokio::test]
async fn consumer_crash_partitions_reassigned() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 4)
        .group_min_session_timeout_ms(500)
        .start()
        .unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let group = "payment-processor";
    let mut survivor = [GroupMember::subscribe(
        &group_consumer_config(&bootstrap, group),
        "survivor",
        &[TOPIC],
    )];
    settle_group(&cluster, group, &mut survivor, TOPIC).await;

    // The other instance is a separate process, so it can die like one (SIGKILL: no
    // LeaveGroup). Its 60 s session would keep its partitions stuck for a minute.
    let mut crashing = ChildProcess::start(
        env!("CARGO_BIN_EXE_crash-consumer"),
        &[
            bootstrap.clone(),
            group.to_string(),
            TOPIC.to_string(),
            "crashing".to_string(),
            "60000".to_string(),
            "2".to_string(),
        ],
    );
    let split = wait_for_ok(DEADLINE, "the second instance to take half", || {
        survivor[0].pump();
        let info = cluster.group(group).ok_or("no group")?;
        let sizes: Vec<usize> = info.members.iter().map(|m| m.partitions().len()).collect();
        let mine = info.members.iter().find(|m| m.client_id == "survivor");
        match mine {
            Some(m) if sizes == [2, 2] && m.partitions() == survivor[0].assignment() => Ok(info),
            _ => Err(format!("{info:?}")),
        }
    })
    .await;
    let dead = split
        .members
        .iter()
        .find(|m| m.client_id == "crashing")
        .unwrap()
        .clone();

    // Five records per partition. The crashing instance processes and commits the first
    // two of each of its partitions, the survivor all of its own.
    for p in 0..4 {
        for i in 0..5 {
            cluster
                .produce_records(TOPIC, p, &[record(&format!("p{p}-{i}"))])
                .unwrap();
        }
    }
    let mut child_done = false;
    wait_until(DEADLINE, "both instances to commit", || {
        let fresh = survivor[0].pump();
        survivor[0].commit_after(&fresh).unwrap();
        child_done = child_done || crashing.printed(CRASH_CONSUMER_COMMITTED);
        let info = cluster.group(group).unwrap();
        child_done && (0..4).all(|p| info.offset(TOPIC, p).is_some())
    })
    .await;

    crashing.kill();
    // Rather than wait out its session, the test says "it is gone now".
    cluster.expire_member(group, &dead.member_id).unwrap();
    let after = settle_group(&cluster, group, &mut survivor, TOPIC).await;
    assert_eq!(after.members.len(), 1);
    assert_eq!(
        after.members[0].partitions().len(),
        4,
        "the survivor owns every partition"
    );

    // It picks up the dead instance's partitions where their commits left them.
    let wanted = dead.partitions().len() * 3;
    let taken_over = |m: &OwnedMessage| {
        dead.partitions()
            .contains(&(TOPIC.to_string(), m.partition()))
    };
    wait_until(
        DEADLINE,
        "the survivor to read the dead instance's rest",
        || {
            survivor[0].pump();
            survivor[0]
                .consumed()
                .iter()
                .filter(|m| taken_over(m))
                .count()
                >= wanted
        },
    )
    .await;
    for m in survivor[0].consumed().iter().filter(|m| taken_over(m)) {
        assert!(
            m.offset() >= 2,
            "partition {} re-read committed offset {}",
            m.partition(),
            m.offset()
        );
    }
}

#[tokio::test]
async fn broker_crash_replica_becomes_leader_no_loss() {
    let cluster = replicated_cluster();
    let producer = safe_producer(&cluster);
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .unwrap();
    assign_from_beginning(&consumer, TOPIC, 3);

    send_all(&producer, &numbered(0, 300)).await;
    let before = cluster.partition(TOPIC, 0).unwrap();
    cluster.stop_broker(before.leader).unwrap();
    let after = cluster.partition(TOPIC, 0).unwrap();
    assert_ne!(after.leader, before.leader);
    assert!(
        before.isr.contains(&after.leader),
        "the new leader was in sync"
    );
    assert!(after.leader_epoch > before.leader_epoch);

    // Processing goes on with the broker down: more records, every one read.
    send_all(&producer, &numbered(300, 600)).await;
    let consumed = consume_through_outage(&consumer, 600).await;
    assert_eq!(consumed.len(), 600);
    audit(&cluster, &numbered(0, 600));

    cluster.start_broker(before.leader).unwrap();
    wait_until(DEADLINE, "the restarted broker to rejoin the ISR", || {
        cluster.partition(TOPIC, 0).unwrap().isr.len() == 3
    })
    .await;
}

#[tokio::test]
async fn no_message_lost_across_failures() {
    let cluster = replicated_cluster();
    let producer = safe_producer(&cluster);
    let in_sync = || {
        cluster
            .partitions(TOPIC)
            .unwrap()
            .iter()
            .all(|p| p.isr.len() == 3)
    };

    send_all(&producer, &numbered(0, 100)).await;
    cluster.stop_broker(2).unwrap();
    send_all(&producer, &numbered(100, 200)).await;
    // Refusals the client retries, and a write whose answer is lost (the retry must not
    // write it twice).
    cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .error(ResponseError::NotLeaderOrFollower)
                .times(3),
        )
        .unwrap();
    cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .apply_then_error(ResponseError::RequestTimedOut)
                .once(),
        )
        .unwrap();
    send_all(&producer, &numbered(200, 300)).await;
    cluster.start_broker(2).unwrap();
    wait_until(DEADLINE, "every replica back in sync", in_sync).await;
    cluster.move_leader(TOPIC, 1, 2).unwrap();
    send_all(&producer, &numbered(300, 400)).await;
    cluster.restart_broker(3).unwrap();
    send_all(&producer, &numbered(400, 500)).await;
    wait_until(DEADLINE, "every replica back in sync", in_sync).await;

    audit(&cluster, &numbered(0, 500));
}

fn record(value: &str) -> broker_sim::NewRecord {
    broker_sim::NewRecord {
        timestamp: 1_767_225_600_000,
        key: None,
        value: Some(value.as_bytes().to_vec().into()),
        headers: Vec::new(),
    }
}
