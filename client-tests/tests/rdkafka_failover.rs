//! librdkafka through broker failures: what a service sees when a broker crashes, is cut
//! off the network, or hands a partition's leadership to another replica.
//!
//! - an idempotent acks=all producer keeps going while the broker leading a partition is
//!   stopped: every acknowledged record is in the log once, in send order, and the new
//!   leader was in the ISR; the stopped broker rejoins the ISR when started again;
//! - `min.insync.replicas` refuses acks=all writes (NOT_ENOUGH_REPLICAS, nothing written)
//!   until enough replicas are back;
//! - a group whose coordinator's broker stops finds the new coordinator and carries on:
//!   every record consumed, offsets committed, the group Stable with both members;
//! - on a manual clock a SIGKILLed member stays in its group however long the test takes,
//!   and `Cluster::advance` expires it at once;
//! - an isolated leader's requests time out, and the producer moves to the new leader;
//! - a consumer follows a leader move without losing or repeating a record.
//!
//! Everything is observed from the real client over real sockets and checked against the
//! cluster's own view (`partitions`, `records`, `group`); nothing sleeps to synchronise.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use broker_sim::{Cluster, GroupInfo, GroupState, NewRecord, PartitionInfo};
use bytes::Bytes;
use client_tests::{
    CRASH_CONSUMER_COMMITTED, ChildProcess, DEADLINE, GroupMember, all_partitions,
    assign_from_beginning, consume, consumer_config, group_consumer_config, init_tracing,
    producer_config, settle_group, settled_group, to_sorted_records, wait_for_ok, wait_until,
};
use rdkafka::Message;
use rdkafka::client::{ClientContext, DefaultClientContext};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::statistics::Statistics;
use rdkafka::util::Timeout;

const TOPIC: &str = "orders";

/// Start of the manual clock in these tests: any fixed instant.
const T0: i64 = 1_800_000_000_000;

/// Whether every partition of `topic` has its full replica set in sync.
fn fully_in_sync(cluster: &Cluster, topic: &str) -> Result<(), String> {
    let partitions = cluster.partitions(topic).ok_or("no topic")?;
    let behind: Vec<&PartitionInfo> = partitions
        .iter()
        .filter(|p| {
            let (mut isr, mut replicas) = (p.isr.clone(), p.replicas.clone());
            isr.sort();
            replicas.sort();
            isr != replicas
        })
        .collect();
    if behind.is_empty() {
        Ok(())
    } else {
        Err(format!("partitions with a shrunk ISR: {behind:?}"))
    }
}

/// Whether a consumer error only reports that a broker cannot be reached. librdkafka hands
/// these to the application (on `poll`) whenever a connection to a stopped broker fails,
/// but they are informational: the client keeps retrying and moves to the new leader on
/// its own, so a service logs them and polls on.
fn broker_unreachable(e: &KafkaError) -> bool {
    matches!(
        e,
        KafkaError::MessageConsumption(
            RDKafkaErrorCode::BrokerTransportFailure | RDKafkaErrorCode::AllBrokersDown
        )
    )
}

/// Like `client_tests::consume`, but a consumer error that only says a broker is
/// unreachable ([`broker_unreachable`]) is counted and skipped; any other fails the test.
async fn consume_past_outages(
    consumer: &StreamConsumer,
    count: usize,
) -> (Vec<OwnedMessage>, usize) {
    let give_up = tokio::time::Instant::now() + DEADLINE;
    let mut messages = Vec::with_capacity(count);
    let mut outages = 0;
    while messages.len() < count {
        match tokio::time::timeout_at(give_up, consumer.recv()).await {
            Ok(Ok(message)) => messages.push(message.detach()),
            Ok(Err(e)) if broker_unreachable(&e) => outages += 1,
            Ok(Err(e)) => panic!("consumer error after {} messages: {e}", messages.len()),
            Err(_) => panic!(
                "timed out after {DEADLINE:?} with {} of {count} messages consumed",
                messages.len()
            ),
        }
    }
    (messages, outages)
}

/// Waits for a delivery report; `Ok((partition, offset))` or the delivery error.
async fn delivered(future: DeliveryFuture) -> Result<(i32, i64), KafkaError> {
    match future.await.expect("producer alive") {
        Ok(d) => Ok((d.partition, d.offset)),
        Err((e, _)) => Err(e),
    }
}

// ---------------------------------------------------------------------------------------
// A producer while the leader's broker crashes.

/// Records the producer sends; the broker stops after half of them have been sent.
const RECORDS: usize = 3000;
/// Distinct keys, so each partition interleaves several keys.
const KEYS: usize = 30;
/// Delivery reports awaited in a sliding window, so records keep flowing while the broker
/// stops: up to this many are unacknowledged at any time.
const WINDOW: usize = 100;

/// The number of records partition `p` holds beyond its high watermark: appended by the
/// leader, not yet copied by every in-sync follower, so their acks=all produce request is
/// still waiting for its answer.
fn unreplicated(cluster: &Cluster, p: i32) -> i64 {
    cluster.partition_records(TOPIC, p).len() as i64
        - cluster.partition(TOPIC, p).unwrap().high_watermark
}

#[tokio::test]
async fn acks_all_producer_keeps_producing_while_the_leaders_broker_is_stopped() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 3)
        .start()
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .create()
        .expect("producer");

    // Record `i` has key `key-{i % KEYS}` and value `i`: its place in the send order.
    let mut deliveries: Vec<Option<(i32, i64)>> = vec![None; RECORDS];
    let mut in_flight: VecDeque<(usize, DeliveryFuture)> = VecDeque::new();
    let mut before = Vec::new();
    let (mut stopped, mut lost) = (0, 0);
    for i in 0..RECORDS {
        if i == RECORDS / 2 {
            // Midway, the leader of partition 0 crashes with a write in flight: its
            // followers stop copying, so the next acks=all batch it appends waits for
            // them, and the broker is stopped while that request is unanswered. The new
            // leader never got the batch (Kafka truncates it away); librdkafka must send it
            // again, with the same sequence numbers, and it must land once.
            before = cluster.partitions(TOPIC).unwrap();
            stopped = before[0].leader;
            let followers: Vec<i32> = (1..=3).filter(|&b| b != stopped).collect();
            for &f in &followers {
                cluster.pause_replication(f).unwrap();
            }
            wait_until(DEADLINE, "an acks=all batch waiting on partition 0", || {
                unreplicated(&cluster, 0) > 0
            })
            .await;
            let log_end = cluster.partition_records(TOPIC, 0).len() as i64;
            cluster.stop_broker(stopped).unwrap();
            for &f in &followers {
                cluster.resume_replication(f).unwrap();
            }
            lost = log_end - cluster.partition_records(TOPIC, 0).len() as i64;
        }
        while in_flight.len() >= WINDOW {
            let (n, future) = in_flight.pop_front().unwrap();
            let at = delivered(future)
                .await
                .unwrap_or_else(|e| panic!("delivery of record {n} failed: {e}"));
            deliveries[n] = Some(at);
        }
        let (key, value) = (format!("key-{}", i % KEYS), i.to_string());
        let future = producer
            .send_result(FutureRecord::to(TOPIC).key(&key).payload(&value))
            .map_err(|(e, _)| e)
            .expect("record enqueued");
        in_flight.push_back((i, future));
    }
    for (n, future) in in_flight {
        let at = delivered(future)
            .await
            .unwrap_or_else(|e| panic!("delivery of record {n} failed: {e}"));
        deliveries[n] = Some(at);
    }
    assert!(lost > 0, "the stop cut off an unacknowledged write");
    let deliveries: Vec<(i32, i64)> = deliveries.into_iter().map(Option::unwrap).collect();

    // Leadership moved, to a replica that was in sync, with a new epoch.
    let after = cluster.partitions(TOPIC).unwrap();
    let moved: Vec<i32> = before
        .iter()
        .filter(|p| p.leader == stopped)
        .map(|p| p.partition)
        .collect();
    assert!(moved.contains(&0));
    for (was, now) in before.iter().zip(&after) {
        if was.leader == stopped {
            assert_ne!(now.leader, stopped, "{now:?}");
            assert!(was.isr.contains(&now.leader), "{was:?} -> {now:?}");
            assert!(now.leader_epoch > was.leader_epoch, "{was:?} -> {now:?}");
            assert!(!now.isr.contains(&stopped), "{now:?}");
        } else {
            assert_eq!(
                now.leader, was.leader,
                "an unaffected partition kept its leader"
            );
        }
    }
    // The new leader of partition 0 took records sent after the stop.
    let written_after_stop = deliveries[RECORDS / 2..]
        .iter()
        .filter(|&&(p, o)| p == 0 && o >= before[0].high_watermark)
        .count();
    assert!(
        written_after_stop > 0,
        "nothing reached partition 0 after the stop"
    );

    // Every acknowledged record is in the log exactly once, where its report says.
    let records = cluster.records(TOPIC);
    assert_eq!(records.len(), RECORDS, "records in the log");
    let mut sent_order: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
    let mut per_key: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for r in &records {
        let i: usize = r.value_str().unwrap().parse().unwrap();
        assert_eq!(
            deliveries[i],
            (r.partition, r.offset),
            "record {i} is not where its delivery report put it"
        );
        assert_eq!(r.key_str(), Some(format!("key-{}", i % KEYS).as_str()));
        sent_order.entry(r.partition).or_default().push(i);
        per_key
            .entry(format!("key-{}", i % KEYS))
            .or_default()
            .push(i);
    }
    // Per partition in send order (so no retry overtook an earlier batch), and per key
    // the whole sequence with no gap or repeat.
    for (p, order) in &sent_order {
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "partition {p} is out of send order"
        );
    }
    for k in 0..KEYS {
        let expected: Vec<usize> = (k..RECORDS).step_by(KEYS).collect();
        assert_eq!(per_key[&format!("key-{k}")], expected, "key-{k}");
    }

    // A consumer reads it all back from the surviving brokers.
    assert!(
        cluster
            .broker_status()
            .iter()
            .any(|b| b.id == stopped && !b.up)
    );
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, TOPIC, 3);
    let (consumed, _) = consume_past_outages(&consumer, RECORDS).await;
    assert_eq!(to_sorted_records(&consumed), records);

    // Started again, the broker catches up and is back in every ISR.
    cluster.start_broker(stopped).unwrap();
    wait_for_ok(DEADLINE, "the restarted broker to rejoin every ISR", || {
        fully_in_sync(&cluster, TOPIC)
    })
    .await;
    let rejoined = cluster.partitions(TOPIC).unwrap();
    for p in &rejoined {
        assert!(p.isr.contains(&stopped), "{p:?}");
        assert_eq!(p.high_watermark, after[p.partition as usize].high_watermark);
    }
}

// ---------------------------------------------------------------------------------------
// min.insync.replicas.

#[tokio::test]
async fn min_insync_replicas_two_with_two_brokers_stopped_refuses_then_accepts_after_a_start() {
    init_tracing();
    let topic = "payments";
    let cluster = Cluster::builder()
        .brokers(3)
        .topic_with_configs(topic, 1, &[("min.insync.replicas", "2")])
        .start()
        .unwrap();
    let leader = cluster.partition(topic, 0).unwrap().leader;
    let followers: Vec<i32> = (1..=3).filter(|&b| b != leader).collect();
    for &f in &followers {
        cluster.stop_broker(f).unwrap();
    }
    let alone = cluster.partition(topic, 0).unwrap();
    assert_eq!((alone.leader, alone.isr.clone()), (leader, vec![leader]));

    // NOT_ENOUGH_REPLICAS is retriable, so librdkafka retries it; two quick retries and a
    // short message timeout let the error reach the delivery report within the test.
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("acks", "all")
        .set("message.timeout.ms", "2000")
        .set("retries", "2")
        .set("retry.backoff.ms", "100")
        .create()
        .expect("producer");
    let refused = producer
        .send(
            FutureRecord::to(topic).key("k").payload("refused"),
            Timeout::Never,
        )
        .await
        .map(|d| (d.partition, d.offset))
        .expect_err("acks=all with one in-sync replica of the two required");
    assert_eq!(
        refused.0.rdkafka_error_code(),
        Some(RDKafkaErrorCode::NotEnoughReplicas),
        "{}",
        refused.0
    );
    assert!(
        cluster.records(topic).is_empty(),
        "a refused write is not in the log"
    );

    cluster.start_broker(followers[0]).unwrap();
    assert_eq!(cluster.partition(topic, 0).unwrap().isr.len(), 2);
    let accepted = producer
        .send(
            FutureRecord::to(topic).key("k").payload("accepted"),
            Timeout::Never,
        )
        .await
        .map(|d| (d.partition, d.offset))
        .map_err(|(e, _)| e)
        .expect("acks=all with two in-sync replicas");
    assert_eq!(accepted, (0, 0));
    let values: Vec<_> = cluster
        .records(topic)
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    assert_eq!(values, ["accepted"]);
}

// ---------------------------------------------------------------------------------------
// The group coordinator's broker stops.

/// The broker that coordinates `group` while every broker of an `n`-broker cluster is up.
/// Kafka's coordinator is the leader of partition `abs(hashCode(group)) % 50` of
/// `__consumer_offsets` (Java's `String.hashCode`, with `Utils.abs` mapping `i32::MIN` to
/// 0); broker-sim has no internal topic and spreads those 50 partitions over brokers
/// 1..=n round robin, so partition p is led by broker `p % n + 1`.
fn coordinator_of(group: &str, n: i32) -> i32 {
    let hash = group
        .encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)));
    let partition = if hash == i32::MIN { 0 } else { hash.abs() } % 50;
    partition % n + 1
}

/// A client context that keeps two things librdkafka reports only through its statistics
/// and its log: where its group coordinator connection points (the statistics' logical
/// broker "GroupCoordinator" takes the address of the broker FindCoordinator named, ""
/// while it knows none), and every request it gave up on (log facility REQTMOUT).
/// Clones share what they saw, so a test keeps one while the client owns another.
#[derive(Default, Clone)]
struct ClientView {
    coordinator: Arc<Mutex<Option<String>>>,
    timeouts: Arc<Mutex<Vec<String>>>,
}

impl ClientContext for ClientView {
    fn stats(&self, statistics: Statistics) {
        if let Some(b) = statistics.brokers.get("GroupCoordinator") {
            *self.coordinator.lock().unwrap() = Some(b.nodename.clone());
        }
    }

    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if fac == "REQTMOUT" {
            self.timeouts.lock().unwrap().push(message.to_string());
        }
        DefaultClientContext.log(level, fac, message);
    }
}

impl ConsumerContext for ClientView {}

/// Waits until `observer` points its coordinator connection at a broker that is `wanted`,
/// and returns that broker's id. The observer is a consumer of the group that never
/// subscribes, so it is no member, but like every consumer with a `group.id` it looks up
/// the group's coordinator.
async fn coordinator_seen_by_client(
    cluster: &Cluster,
    observer: &BaseConsumer<ClientView>,
    what: &str,
    wanted: impl Fn(i32) -> bool,
) -> i32 {
    wait_for_ok(DEADLINE, what, || {
        // Statistics are handed over by poll.
        let _ = observer.poll(Duration::ZERO);
        let address = observer.context().coordinator.lock().unwrap().clone();
        let id = cluster
            .brokers()
            .iter()
            .find(|b| Some(format!("{}:{}", b.host, b.port)) == address)
            .map(|b| b.id);
        match id {
            Some(id) if wanted(id) => Ok(id),
            _ => Err(format!("the client's coordinator is {address:?}")),
        }
    })
    .await
}

/// Pumps `member` (see `GroupMember::try_pump`) until nothing is queued, skipping the
/// consumer errors that only say a broker is unreachable; returns them.
fn pump_past_outages(member: &mut GroupMember) -> Vec<String> {
    let mut outages = Vec::new();
    loop {
        match member.try_pump(Duration::ZERO) {
            Ok(_) => return outages,
            Err(e) if broker_unreachable(&e) => outages.push(format!("{}: {e}", member.name())),
            Err(e) => panic!("consumer {}: {e}", member.name()),
        }
    }
}

/// Pumps `members` (past broker outages), then commits, per partition a member owns, the
/// position after everything it has consumed there, where that is past `committed` (what
/// the group has acknowledged). A commit that fails (the coordinator going away
/// mid-request) is retried by the next call, as a service would; the errors (and outages)
/// are returned for the report.
fn pump_and_commit(members: &mut [GroupMember], committed: &BTreeMap<i32, i64>) -> Vec<String> {
    let mut errors: Vec<String> = members.iter_mut().flat_map(pump_past_outages).collect();
    for member in members.iter() {
        let mut next: BTreeMap<i32, i64> = BTreeMap::new();
        for m in member.consumed() {
            let at = next.entry(m.partition()).or_default();
            *at = (*at).max(m.offset() + 1);
        }
        let owned: BTreeSet<i32> = member.assignment().into_iter().map(|(_, p)| p).collect();
        let due: Vec<(&str, i32, i64)> = next
            .into_iter()
            .filter(|(p, o)| owned.contains(p) && committed.get(p).is_none_or(|c| c < o))
            .map(|(p, o)| (TOPIC, p, o))
            .collect();
        if !due.is_empty()
            && let Err(e) = member.commit(&due)
        {
            errors.push(format!("{}: {e}", member.name()));
        }
    }
    errors
}

/// The group's committed offset per partition.
fn committed_offsets(info: &GroupInfo) -> BTreeMap<i32, i64> {
    info.offsets
        .iter()
        .filter(|o| o.topic == TOPIC)
        .map(|o| (o.partition, o.offset))
        .collect()
}

/// Produces `count` keyed records `{tag}-{i}` and waits for all delivery reports.
async fn produce_batch<C: ClientContext + 'static>(
    producer: &FutureProducer<C>,
    tag: &str,
    count: usize,
) {
    let pending: Vec<DeliveryFuture> = (0..count)
        .map(|i| {
            let (key, value) = (format!("{tag}-key-{i}"), format!("{tag}-{i}"));
            producer
                .send_result(FutureRecord::to(TOPIC).key(&key).payload(&value))
                .map_err(|(e, _)| e)
                .expect("record enqueued")
        })
        .collect();
    for (i, future) in pending.into_iter().enumerate() {
        if let Err(e) = delivered(future).await {
            panic!("delivery of {tag}-{i} failed: {e}");
        }
    }
}

/// Pumps and commits until every record of [`TOPIC`] is consumed and committed and the
/// group has settled with `members`; returns the group and the commit errors seen.
async fn consume_and_commit_everything(
    cluster: &Cluster,
    group: &str,
    members: &mut [GroupMember],
) -> (GroupInfo, Vec<String>) {
    let mut errors = Vec::new();
    let info = wait_for_ok(DEADLINE, "every record consumed and committed", || {
        let info = cluster.group(group).ok_or("no group")?;
        errors.extend(pump_and_commit(members, &committed_offsets(&info)));
        let refs: Vec<&GroupMember> = members.iter().collect();
        let info = settled_group(cluster, group, &refs, TOPIC)?;
        let ends: BTreeMap<i32, i64> = cluster
            .partitions(TOPIC)
            .unwrap()
            .iter()
            .map(|p| (p.partition, p.high_watermark))
            .collect();
        if committed_offsets(&info) == ends {
            Ok(info)
        } else {
            Err(format!("committed {:?}, log ends {ends:?}", info.offsets))
        }
    })
    .await;
    (info, errors)
}

#[tokio::test]
async fn the_coordinators_broker_stops_mid_group_and_the_group_settles_on_the_new_coordinator() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 4)
        .start()
        .unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let group = "shipping";
    let coordinator = coordinator_of(group, 3);

    // The client agrees on the coordinator: a non-member consumer of the group (so the
    // group's own members stay plain `GroupMember`s) reports where it connected.
    let observer: BaseConsumer<ClientView> = group_consumer_config(&bootstrap, group)
        .set("statistics.interval.ms", "100")
        .create_with_context(ClientView::default())
        .expect("observer");
    let seen =
        coordinator_seen_by_client(&cluster, &observer, "the client's coordinator", |_| true).await;
    assert_eq!(seen, coordinator, "librdkafka's coordinator of {group:?}");

    let config = group_consumer_config(&bootstrap, group);
    let mut members: Vec<GroupMember> = ["c1", "c2"]
        .into_iter()
        .map(|name| GroupMember::subscribe(&config, name, &[TOPIC]))
        .collect();
    let before = settle_group(&cluster, group, &mut members, TOPIC).await;
    for member in &members {
        assert_eq!(member.assignment().len(), 2, "{}", member.name());
    }
    let producer: FutureProducer = producer_config(&bootstrap)
        .set("acks", "all")
        .create()
        .expect("producer");
    produce_batch(&producer, "before", 200).await;
    let (first, mut errors) = consume_and_commit_everything(&cluster, group, &mut members).await;
    let committed_before = committed_offsets(&first);

    cluster.stop_broker(coordinator).unwrap();
    // Kafka moves `__consumer_offsets` leadership off the dead broker; librdkafka's
    // FindCoordinator finds the new one.
    let moved_to = coordinator_seen_by_client(
        &cluster,
        &observer,
        "the client to follow the coordinator",
        |id| id != coordinator,
    )
    .await;
    produce_batch(&producer, "after", 200).await;
    let (after, more_errors) = consume_and_commit_everything(&cluster, group, &mut members).await;
    errors.extend(more_errors);

    // Both members are still there, and the group is Stable on the new coordinator.
    assert_eq!(after.state, GroupState::Stable);
    assert_eq!(after.members.len(), 2);
    assert!(after.generation >= before.generation);
    assert!(
        cluster
            .broker_status()
            .iter()
            .any(|b| b.id == moved_to && b.up)
    );
    // Committed offsets advanced past the records produced after the stop.
    for (p, offset) in committed_offsets(&after) {
        assert!(offset > committed_before[&p], "partition {p}: {offset}");
    }
    // Every record was consumed; exactly once if no rebalance moved a partition, at least
    // once otherwise (what Kafka promises to a group that commits after processing).
    let consumed: Vec<(i32, i64)> = members
        .iter()
        .flat_map(|m| m.consumed().iter().map(|m| (m.partition(), m.offset())))
        .collect();
    let distinct: BTreeSet<(i32, i64)> = consumed.iter().copied().collect();
    let logged: BTreeSet<(i32, i64)> = cluster
        .records(TOPIC)
        .iter()
        .map(|r| (r.partition, r.offset))
        .collect();
    assert_eq!(logged.len(), 400);
    assert_eq!(distinct, logged, "every record consumed");
    if after.generation == before.generation {
        // Kafka's new coordinator loads the group as it was: same members, same ids.
        let ids = |g: &GroupInfo| {
            g.members
                .iter()
                .map(|m| m.member_id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&after), ids(&before));
        assert_eq!(
            consumed.len(),
            distinct.len(),
            "no rebalance, no redelivery"
        );
    }
    eprintln!(
        "coordinator {coordinator} -> {moved_to}; generation {} -> {}; {} deliveries of {} \
         records; consumer and commit errors: {errors:?}",
        before.generation,
        after.generation,
        consumed.len(),
        distinct.len()
    );
}

// ---------------------------------------------------------------------------------------
// Session expiry on a manual clock.

#[tokio::test]
async fn the_manual_clock_expires_a_crashed_members_session_without_waiting() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .manual_clock(T0)
        .topic(TOPIC, 3)
        .start()
        .unwrap();
    let bootstrap = cluster.bootstrap_servers();
    let group = "clocked";
    for p in 0..3 {
        let records: Vec<NewRecord> = (0..20)
            .map(|i| NewRecord {
                timestamp: T0,
                key: None,
                value: Some(Bytes::from(format!("p{p}-{i}"))),
                headers: Vec::new(),
            })
            .collect();
        cluster.produce_records(TOPIC, p, &records).unwrap();
    }

    // The child commits the first 8 records of each partition, then keeps polling.
    let commit_below = 8;
    let mut child = ChildProcess::start(
        env!("CARGO_BIN_EXE_crash-consumer"),
        &[
            bootstrap.clone(),
            group.to_string(),
            TOPIC.to_string(),
            "doomed".to_string(),
            // librdkafka's default session.timeout.ms.
            "45000".to_string(),
            commit_below.to_string(),
        ],
    );
    let mut child_done = false;
    let joined = wait_for_ok(DEADLINE, "the child to join and commit", || {
        child_done = child_done || child.printed(CRASH_CONSUMER_COMMITTED);
        let info = cluster.group(group).ok_or("no group")?;
        let done = child_done
            && info.state == GroupState::Stable
            && info.members.len() == 1
            && committed_offsets(&info) == BTreeMap::from([(0, 8), (1, 8), (2, 8)]);
        if done {
            Ok(info)
        } else {
            Err(format!("child done: {child_done}, {info:?}"))
        }
    })
    .await;
    let dead = joined.members[0].clone();
    assert_eq!(dead.session_timeout_ms, 45_000);

    child.kill();
    // However long the test has run, the cluster's clock has not moved, so the session
    // cannot have lapsed: the dead process is still the group's member.
    assert_eq!(cluster.now_ms(), T0);
    let info = cluster.group(group).unwrap();
    assert_eq!(info.state, GroupState::Stable);
    assert!(info.member(&dead.member_id).is_some(), "{info:?}");

    cluster.advance(Duration::from_secs(46));
    let expired = cluster.group(group).unwrap();
    assert!(expired.members.is_empty(), "{expired:?}");
    assert_eq!(expired.state, GroupState::Empty);
    assert_eq!(
        committed_offsets(&expired),
        BTreeMap::from([(0, 8), (1, 8), (2, 8)])
    );
    // Time alone does not push caught-up followers out of the ISR.
    fully_in_sync(&cluster, TOPIC).unwrap();

    let mut successor = [GroupMember::subscribe(
        &group_consumer_config(&bootstrap, group),
        "successor",
        &[TOPIC],
    )];
    let settled = settle_group(&cluster, group, &mut successor, TOPIC).await;
    assert_eq!(successor[0].assignment(), all_partitions(&cluster, TOPIC));
    assert!(settled.generation > joined.generation);
    wait_until(
        DEADLINE,
        "the successor to read the 36 uncommitted records",
        || {
            successor[0].pump();
            successor[0].consumed().len() >= 36
        },
    )
    .await;
    let mut read: Vec<(i32, i64)> = successor[0]
        .consumed()
        .iter()
        .map(|m| (m.partition(), m.offset()))
        .collect();
    read.sort();
    let expected: Vec<(i32, i64)> = (0..3)
        .flat_map(|p| (commit_below..20).map(move |o| (p, o)))
        .collect();
    assert_eq!(read, expected, "from the committed offsets on");
}

// ---------------------------------------------------------------------------------------
// A leader cut off the network.

#[tokio::test]
async fn an_isolated_leader_times_out_clients_until_it_is_healed() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 1)
        .start()
        .unwrap();
    // Requests to the isolated broker are never answered: librdkafka gives up on them
    // after request.timeout.ms (produce) / socket.timeout.ms (everything else), drops the
    // connection and asks a reachable broker for metadata, which names the new leader.
    // Periodic metadata refreshes are pushed out of the test's way, so that timeout is the
    // only way the producer can learn of the new leader.
    let view = ClientView::default();
    let producer: FutureProducer<ClientView> = producer_config(&cluster.bootstrap_servers())
        .set("acks", "all")
        .set("request.timeout.ms", "1000")
        .set("socket.timeout.ms", "1000")
        .set("message.timeout.ms", "15000")
        .set("topic.metadata.refresh.interval.ms", "600000")
        // librdkafka logs each timed-out request at Info; rdkafka's default log level
        // follows the `log` crate's, which may be lower.
        .set_log_level(RDKafkaLogLevel::Info)
        .create_with_context(view.clone())
        .expect("producer");
    produce_batch(&producer, "before", 20).await;
    let before = cluster.partition(TOPIC, 0).unwrap();
    let isolated = before.leader;

    cluster.isolate_broker(isolated).unwrap();
    let during = cluster.partition(TOPIC, 0).unwrap();
    assert_ne!(during.leader, isolated);
    assert!(before.isr.contains(&during.leader));
    produce_batch(&producer, "during", 50).await;

    // The isolated broker applied nothing: the log holds each record once, in order.
    let values: Vec<String> = cluster
        .records(TOPIC)
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (0..20)
        .map(|i| format!("before-{i}"))
        .chain((0..50).map(|i| format!("during-{i}")))
        .collect();
    assert_eq!(values, expected);
    assert!(!cluster.partition(TOPIC, 0).unwrap().isr.contains(&isolated));
    // The client got there by giving up on the isolated broker: its produce request to it
    // timed out (nothing refused it).
    let address = cluster
        .brokers()
        .into_iter()
        .find(|b| b.id == isolated)
        .map(|b| format!("{}:{}/{isolated}", b.host, b.port))
        .unwrap();
    let timeouts = view.timeouts.lock().unwrap().clone();
    assert!(
        timeouts
            .iter()
            .any(|t| t.contains(&address) && t.contains("ProduceRequest")),
        "no produce request to {address} timed out: {timeouts:?}"
    );
    assert!(
        timeouts.iter().all(|t| t.contains(&address)),
        "only the isolated broker timed out: {timeouts:?}"
    );

    cluster.heal_broker(isolated).unwrap();
    wait_for_ok(DEADLINE, "the healed broker to rejoin the ISR", || {
        fully_in_sync(&cluster, TOPIC)
    })
    .await;
    // The healed broker is a follower now, and the producer still works.
    assert_eq!(cluster.partition(TOPIC, 0).unwrap().leader, during.leader);
    produce_batch(&producer, "healed", 10).await;
    assert_eq!(cluster.records(TOPIC).len(), 80);
}

// ---------------------------------------------------------------------------------------
// A consumer and a leader move.

#[tokio::test]
async fn a_consumer_detects_a_leader_change_and_keeps_reading() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic(TOPIC, 1)
        .start()
        .unwrap();
    let seed = |from: i64, to: i64| {
        let records: Vec<NewRecord> = (from..to)
            .map(|i| NewRecord {
                timestamp: 1_000 + i,
                key: None,
                value: Some(Bytes::from(format!("r{i}"))),
                headers: Vec::new(),
            })
            .collect();
        cluster.produce_records(TOPIC, 0, &records).unwrap();
    };
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, TOPIC, 1);

    seed(0, 50);
    let mut consumed: Vec<OwnedMessage> = consume(&consumer, 50, DEADLINE).await;
    // The consumer is long-polling the old leader when leadership moves.
    let before = cluster.partition(TOPIC, 0).unwrap();
    let target = before.replicas[1];
    assert_ne!(target, before.leader);
    cluster.move_leader(TOPIC, 0, target).unwrap();
    let after = cluster.partition(TOPIC, 0).unwrap();
    assert_eq!(after.leader, target);
    assert_eq!(after.leader_epoch, before.leader_epoch + 1);

    // Only the new leader serves these.
    seed(50, 100);
    consumed.extend(consume(&consumer, 50, DEADLINE).await);
    // Exactly the 100 records, each once and in order: a repeat would have displaced
    // one of them from the 100 received.
    assert_eq!(to_sorted_records(&consumed), cluster.records(TOPIC));
    let offsets: Vec<i64> = consumed.iter().map(|m| m.offset()).collect();
    assert_eq!(offsets, (0..100).collect::<Vec<_>>());

    // Moved back by preferred election, the consumer follows again.
    assert_eq!(
        cluster.elect_preferred_leaders(),
        vec![(TOPIC.to_string(), 0)]
    );
    seed(100, 120);
    let last = consume(&consumer, 20, DEADLINE).await;
    let offsets: Vec<i64> = last.iter().map(|m| m.offset()).collect();
    assert_eq!(offsets, (100..120).collect::<Vec<_>>());
}
