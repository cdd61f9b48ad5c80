//! A model-based property test of the whole cluster: proptest draws sequences of what
//! clients and operators do — produce (three producers, two idempotent; codecs, sizes,
//! acks, an injected refusal, a write whose answer is lost, latency), resend, fetch from
//! anywhere in or outside the log, consumer-group joins, leaves, crashes and commits, and
//! things happening to the cluster — applies them over the wire to a 3-broker cluster,
//! keeps a small reference model of what was acknowledged, and after every step checks
//! what Kafka promises:
//!
//! - every acks=all record is in the log at the offset it was acknowledged with, once for
//!   an idempotent producer, at least once for a plain one; an idempotent producer's
//!   records are never duplicated, whatever its acks;
//! - each producer's records are in send order within a partition;
//! - offsets run contiguously from the log start; the high watermark never moves back;
//! - a fetch in range returns exactly the stored records from its offset up to the high
//!   watermark, and one out of range gets OFFSET_OUT_OF_RANGE;
//! - committed offsets never pass the high watermark;
//! - once a group has rebalanced, every partition has exactly one owner, and the
//!   coordinator's view agrees with what the members were handed.
//!
//! What happens to the cluster (`Op::Cluster`) comes from the crate's fault schedules,
//! not from this test: an [`Event`] drawn by `broker_sim::schedule::strategy::events`
//! (what `schedules` draws from) for this cluster's [`Shape`], kept to at most two
//! brokers down at once by the `DownBrokers` bound schedules use (so one broker always
//! answers), and applied with `schedule::apply_event`. That is broker stops, starts,
//! restarts, isolation and healing, paused replication, leader moves and elections, the
//! expiry of every group member, and fault rules (refusals, lost answers, latency, closed
//! connections, a few times each; rules on heartbeats and metadata, which these clients
//! do not send, never fire) that stay in force across operations until spent or cleared.
//!
//! The clients cope with those rules as Kafka's do: a failed produce is not acknowledged
//! (an idempotent producer resends it before anything new), a fetch or commit is retried,
//! and a rebalance cut short starts over, every member rejoining with the id it has. A
//! failure is excused only if a fault rule fired during the request. Rules that lose a
//! JoinGroup's answer are left out: a new member that never learns its id keeps the
//! group waiting for its session to time out (30 s, in Kafka as here). The refusal, lost
//! answer and latency of a `Produce` are injected on that one request, so that they hit
//! the write the model tracks.
//!
//! Elections are clean (the default), so acks=1 records may be lost when a leader goes
//! down before its followers copy them, as in Kafka; the model demands presence only for
//! acks=all. A paused follower leaves the ISR after `replica.lag.time.max.ms`, shortened
//! here so acks=all writes wait for it briefly rather than for Kafka's 30 s.
//!
//! Cases: `BROKER_SIM_MODEL_CASES` (default 200, about 7 s in a debug build). Seed:
//! `BROKER_SIM_MODEL_SEED` (default fixed, so `cargo test` runs the same cases every time;
//! `random` draws one and prints it). A failure prints the seed, the replay command and
//! proptest's shrunk sequence of operations; the same seed replays the same cases.
//! `BROKER_SIM_MODEL_TRACE=1` prints every operation as it is applied.
//! `BROKER_SIM_MODEL_DURABLE=1` runs every case in durable mode (`ClusterBuilder::data_dir`,
//! a directory per case) and, after its last operation, restarts the cluster on that
//! directory and checks it once more.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use broker_sim::schedule::strategy::{DownBrokers, Shape, events};
use broker_sim::schedule::{Event, apply_event};
use broker_sim::{ApiKey, Cluster, Fault, FaultAction, FaultId, ResponseError};
use broker_sim_protocol::batch::{self, BatchView, Codec, NewRecord};
use bytes::Bytes;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, FindCoordinatorRequest, JoinGroupResponse, LeaveGroupRequest,
};
use kafka_protocol::protocol::Decodable;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestError, TestRunner};
use support::*;

const BROKERS: i32 = 3;
const TOPIC: &str = "t";
const PARTITIONS: i32 = 3;
const GROUP: &str = "model-group";
/// Producers 0 and 1 are idempotent, 2 is plain.
const PRODUCERS: usize = 3;
const MEMBERS: usize = 3;
const DEFAULT_CASES: u32 = 200;
const DEFAULT_SEED: u64 = 0x6b61_666b_6121;
/// How often a client tries a request again after an injected failure. Every generated
/// rule fires at most three times, so only a broker that keeps failing on its own gets
/// near this.
const RETRIES: usize = 100;
/// `replica.lag.time.max.ms`: how long an acks=all write waits for a paused follower
/// before the follower leaves the ISR.
const REPLICA_LAG_MS: u64 = 50;

#[derive(Debug, Clone, Copy)]
enum Injected {
    /// The produce is refused, nothing written; the client must resend.
    NotLeader,
    /// Written, then answered REQUEST_TIMED_OUT: the resend is a duplicate.
    TimedOutAfterWrite,
    /// Served late.
    Latency(u64),
}

#[derive(Debug, Clone)]
enum Op {
    Produce {
        producer: usize,
        partition: i32,
        count: usize,
        size: usize,
        codec: Codec,
        acks: i16,
        fault: Option<Injected>,
    },
    /// The producer sends its last batch to `partition` again, as after a lost answer.
    Resend {
        producer: usize,
        partition: i32,
    },
    /// From the log start plus `at` of the way to the high watermark (0.0..=1.0), or
    /// `past` beyond it, or one before the log start.
    Fetch {
        partition: i32,
        at: f64,
        past: i64,
    },
    /// Something happens to the cluster (see the module docs).
    Cluster(Event),
    Join(usize),
    Leave(usize),
    Crash(usize),
    Commit(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let codec = prop_oneof![
        Just(Codec::None),
        Just(Codec::Gzip),
        Just(Codec::Snappy),
        Just(Codec::Lz4),
        Just(Codec::Zstd)
    ];
    let fault = prop_oneof![
        6 => Just(None),
        1 => Just(Some(Injected::NotLeader)),
        1 => Just(Some(Injected::TimedOutAfterWrite)),
        1 => (1u64..20).prop_map(|ms| Some(Injected::Latency(ms))),
    ];
    let produce = (
        0..PRODUCERS,
        0..PARTITIONS,
        1usize..6,
        0usize..300,
        codec,
        prop_oneof![Just(-1i16), Just(1i16)],
        fault,
    )
        .prop_map(
            |(producer, partition, count, size, codec, acks, fault)| Op::Produce {
                producer,
                partition,
                count,
                size,
                codec,
                acks,
                fault,
            },
        );
    prop_oneof![
        8 => produce,
        2 => (0..PRODUCERS, 0..PARTITIONS).prop_map(|(producer, partition)| Op::Resend { producer, partition }),
        3 => (0..PARTITIONS, 0.0..=1.0f64, prop_oneof![3 => Just(0i64), 1 => 1i64..5, 1 => Just(-1i64)])
            .prop_map(|(partition, at, past)| Op::Fetch { partition, at, past }),
        5 => events(&shape())
            .prop_filter("a lost JoinGroup answer stalls the group for a session timeout", |e| {
                !loses_a_join_answer(e)
            })
            .prop_map(Op::Cluster),
        2 => (0..MEMBERS).prop_map(Op::Join),
        1 => (0..MEMBERS).prop_map(Op::Leave),
        1 => (0..MEMBERS).prop_map(Op::Crash),
        2 => (0..MEMBERS).prop_map(Op::Commit),
    ]
}

/// Sequences of operations, their cluster events kept to the shape's down-broker bound.
fn ops() -> impl Strategy<Value = Vec<Op>> {
    proptest::collection::vec(op(), 1..40).prop_map(|ops| {
        let mut down = DownBrokers::new(shape().max_down);
        ops.into_iter()
            .map(|op| match op {
                Op::Cluster(event) => Op::Cluster(down.admit(event)),
                op => op,
            })
            .collect()
    })
}

/// The cluster as the schedule strategies see it. Every broker but one may be down at
/// once: with `min.insync.replicas` 1, acks=all writes still succeed, and there is always
/// a broker to ask for the group's coordinator.
fn shape() -> Shape {
    Shape::new(BROKERS)
        .topic(TOPIC, PARTITIONS)
        .group(GROUP)
        .max_down(BROKERS - 1)
}

/// A JoinGroup rule that processes the request and loses the answer. On a new member's
/// first join (KIP-394's MEMBER_ID_REQUIRED round trip) it leaves a pending member the
/// client never learns about, and the group waits for it until its session times out.
fn loses_a_join_answer(event: &Event) -> bool {
    let Event::InjectFault { fault } = event else {
        return false;
    };
    fault.selector.api == Some(ApiKey::JoinGroup)
        && matches!(
            fault.action,
            FaultAction::ApplyThenError { .. }
                | FaultAction::ApplyThenNoResponse
                | FaultAction::ApplyThenClose
        )
}

/// A batch a producer sent: its records' values, how it was sent, and where the broker
/// said it went (None until acknowledged).
#[derive(Debug, Clone)]
struct Sent {
    values: Vec<String>,
    bytes: Bytes,
    acks: i16,
    base_offset: Option<i64>,
}

#[derive(Default)]
struct ProducerState {
    /// Producer id and epoch, for the idempotent ones.
    id: Option<(i64, i16)>,
    next_sequence: BTreeMap<i32, i32>,
    /// The last batch sent to each partition.
    last: BTreeMap<i32, Sent>,
}

struct Member {
    id: String,
    generation: i32,
    assigned: Vec<i32>,
}

/// What the test believes: the acknowledged batches, the high watermarks seen, the group.
struct Model {
    producers: Vec<ProducerState>,
    /// Every acknowledged batch per partition.
    acked: BTreeMap<i32, Vec<Sent>>,
    high_watermarks: BTreeMap<i32, i64>,
    members: Vec<Option<Member>>,
}

fn cluster(seed: u64, data_dir: Option<&DataDir>) -> Cluster {
    let builder = Cluster::builder()
        .brokers(BROKERS as usize)
        .topic(TOPIC, PARTITIONS)
        .default_replication_factor(BROKERS as i16)
        .replica_lag_time_max(Duration::from_millis(REPLICA_LAG_MS))
        .seed(seed);
    match data_dir {
        Some(dir) => builder.data_dir(&dir.0),
        None => builder,
    }
    .start()
    .expect("cluster starts")
}

/// With `BROKER_SIM_MODEL_DURABLE=1`, each case's cluster keeps its data in a directory
/// of its own (durable mode), deleted when the case ends.
struct DataDir(std::path::PathBuf);

impl DataDir {
    fn for_case() -> Option<DataDir> {
        static CASE: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        if std::env::var("BROKER_SIM_MODEL_DURABLE").is_ok_and(|v| v == "1") {
            let case = CASE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let dir = std::env::temp_dir()
                .join(format!("broker-sim-model-{}-{case}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            Some(DataDir(dir))
        } else {
            None
        }
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The brokers a client can talk to: up and not cut off.
fn reachable(cluster: &Cluster) -> Vec<i32> {
    cluster
        .broker_status()
        .iter()
        .filter(|b| b.up && !b.isolated)
        .map(|b| b.id)
        .collect()
}

/// Each fault rule's hits at one moment. Taken before a request, it tells afterwards
/// whether a failure was injected (a rule fired meanwhile), which a client retries, or
/// the broker's own, which fails the test.
struct Hits(BTreeMap<FaultId, u64>);

impl Hits {
    fn now(cluster: &Cluster) -> Hits {
        Hits(
            cluster
                .faults()
                .into_iter()
                .map(|f| (f.id, f.hits))
                .collect(),
        )
    }

    /// What the rules that fired since did.
    fn fired_since(&self, cluster: &Cluster) -> Vec<FaultAction> {
        cluster
            .faults()
            .into_iter()
            .filter(|f| f.hits > self.0.get(&f.id).copied().unwrap_or(0))
            .map(|f| f.fault.action)
            .collect()
    }

    fn any_fired_since(&self, cluster: &Cluster) -> bool {
        !self.fired_since(cluster).is_empty()
    }

    /// Whether a rule that answers nothing (closing the connection, or never answering)
    /// fired since: a request may be waiting on a connection that will not answer.
    fn silenced_since(&self, cluster: &Cluster) -> bool {
        self.fired_since(cluster).iter().any(|a| {
            matches!(
                a,
                FaultAction::CloseConnection
                    | FaultAction::NoResponse
                    | FaultAction::ApplyThenNoResponse
                    | FaultAction::ApplyThenClose
            )
        })
    }
}

fn apply(cluster: &Cluster, model: &mut Model, op: &Op) -> Result<(), TestCaseError> {
    match *op {
        Op::Produce {
            producer,
            partition,
            count,
            size,
            codec,
            acks,
            fault,
        } => {
            let state = &mut model.producers[producer];
            // An idempotent producer whose last batch was not acknowledged resends it
            // before anything new, or its sequence numbers would leave a gap.
            let pending = state.id.is_some()
                && state
                    .last
                    .get(&partition)
                    .is_some_and(|s| s.base_offset.is_none());
            let sent = if pending {
                state.last[&partition].clone()
            } else {
                let sequence = *state.next_sequence.get(&partition).unwrap_or(&0);
                let values: Vec<String> = (0..count)
                    .map(|i| format!("p{producer}-s{}-{}", sequence + i as i32, "x".repeat(size)))
                    .collect();
                let records: Vec<NewRecord> =
                    values.iter().map(|v| record(v, BASE_TIMESTAMP)).collect();
                let (id, epoch) = state.id.unwrap_or((-1, -1));
                let seq = if state.id.is_some() { sequence } else { -1 };
                let bytes =
                    batch::encode_batch_with_producer(&records, codec, id, epoch, seq).unwrap();
                state
                    .next_sequence
                    .insert(partition, sequence + count as i32);
                Sent {
                    values,
                    bytes,
                    acks,
                    base_offset: None,
                }
            };
            send(cluster, model, producer, partition, sent, fault)
        }
        Op::Resend {
            producer,
            partition,
        } => {
            let Some(sent) = model.producers[producer].last.get(&partition).cloned() else {
                return Ok(());
            };
            send(cluster, model, producer, partition, sent, None)
        }
        Op::Fetch {
            partition,
            at,
            past,
        } => fetch(cluster, partition, at, past),
        Op::Cluster(ref event) => {
            // A refusal (stopping a stopped broker, moving a leader to a replica out of
            // the ISR) changes nothing, on the cluster or in the model.
            let outcome = apply_event(cluster, event);
            if std::env::var_os("BROKER_SIM_MODEL_TRACE").is_some() {
                eprintln!("  {event}: {outcome:?}");
            }
            if matches!(event, Event::ExpireMembers { group } if group == GROUP) {
                model.members.iter_mut().for_each(|m| *m = None);
            }
            Ok(())
        }
        Op::Join(slot) => {
            if model.members[slot].is_none() {
                model.members[slot] = Some(Member {
                    id: String::new(),
                    generation: -1,
                    assigned: Vec::new(),
                });
                rebalance(cluster, model)?;
            }
            Ok(())
        }
        Op::Leave(slot) => {
            if let Some(member) = model.members[slot].take() {
                let leave = LeaveGroupRequest::default()
                    .with_group_id(group_id(GROUP))
                    .with_members(vec![
                        MemberIdentity::default().with_member_id(str_bytes(&member.id)),
                    ]);
                let answer = to_coordinator(cluster).send(3, &leave);
                prop_assert_eq!(answer.error_code, 0, "LeaveGroup");
                rebalance(cluster, model)?;
            }
            Ok(())
        }
        Op::Crash(slot) => {
            if let Some(member) = model.members[slot].take() {
                cluster.expire_member(GROUP, &member.id).unwrap();
                rebalance(cluster, model)?;
            }
            Ok(())
        }
        Op::Commit(slot) => {
            let Some(member) = &model.members[slot] else {
                return Ok(());
            };
            // What a consumer commits: the position after what it read, at most the
            // high watermark.
            let offsets: Vec<(&str, i32, i64)> = member
                .assigned
                .iter()
                .map(|&p| {
                    (
                        TOPIC,
                        p,
                        cluster.partition(TOPIC, p).unwrap().high_watermark,
                    )
                })
                .collect();
            let request = commit_request(GROUP, member.generation, &member.id, &offsets, None, -1);
            // A consumer retries a commit that failed (the same offsets: committing them
            // twice is harmless).
            for _ in 0..RETRIES {
                let before = Hits::now(cluster);
                let answer = to_coordinator(cluster).try_send(8, &request);
                let errors: Vec<(i32, i16)> = match &answer {
                    Ok(answer) => answer
                        .topics
                        .iter()
                        .flat_map(|t| &t.partitions)
                        .filter(|p| p.error_code != 0)
                        .map(|p| (p.partition_index, p.error_code))
                        .collect(),
                    Err(_) => vec![(-1, -1)],
                };
                if errors.is_empty() {
                    return Ok(());
                }
                prop_assert!(
                    before.any_fired_since(cluster),
                    "OffsetCommit failed (partition, error): {:?} {:?}",
                    errors,
                    answer.err()
                );
            }
            Err(TestCaseError::fail("OffsetCommit kept failing"))
        }
    }
}

/// Sends `sent` for `producer` to the partition's leader, with `fault` on that one
/// request, and records the outcome.
fn send(
    cluster: &Cluster,
    model: &mut Model,
    producer: usize,
    partition: i32,
    mut sent: Sent,
    fault: Option<Injected>,
) -> Result<(), TestCaseError> {
    let leader = cluster.partition(TOPIC, partition).unwrap().leader;
    let outcome = if leader < 0 {
        None
    } else {
        let rule = fault.map(|f| {
            let on = Fault::on(ApiKey::Produce).topic(TOPIC).partition(partition);
            let rule = match f {
                Injected::NotLeader => on.error(ResponseError::NotLeaderOrFollower),
                Injected::TimedOutAfterWrite => on.apply_then_error(ResponseError::RequestTimedOut),
                Injected::Latency(ms) => on.latency(Duration::from_millis(ms)),
            };
            cluster.inject(rule.once()).unwrap()
        });
        let mut request = produce_request(TOPIC, partition, sent.bytes.clone());
        request.acks = sent.acks;
        let before = Hits::now(cluster);
        let answer = Conn::to_broker(cluster, leader).try_send(9, &request);
        // A connection closed instead of an answer is a write not acknowledged, but only
        // a fault rule may close it.
        prop_assert!(
            answer.is_ok() || before.any_fired_since(cluster),
            "Produce: {:?}",
            answer.as_ref().err()
        );
        if let Some(rule) = rule {
            cluster.remove_fault(rule);
        }
        answer.ok().and_then(|answer| {
            let p = only_partition(&answer);
            (p.error_code == 0).then_some(p.base_offset)
        })
    };
    if let Some(base) = outcome {
        if let Some(first) = sent.base_offset {
            // A resend the broker recognised is acknowledged where it first went.
            if model.producers[producer].id.is_some() {
                prop_assert_eq!(base, first, "an idempotent resend must keep its offsets");
            }
        }
        let recognised = sent.base_offset == Some(base);
        sent.base_offset = Some(base);
        if !recognised {
            model.acked.entry(partition).or_default().push(sent.clone());
        }
    }
    model.producers[producer].last.insert(partition, sent);
    Ok(())
}

/// Fetches from the partition's leader, as a consumer does (retrying a fetch that a fault
/// rule failed), and checks the answer against the stored log.
fn fetch(cluster: &Cluster, partition: i32, at: f64, past: i64) -> Result<(), TestCaseError> {
    let info = cluster.partition(TOPIC, partition).unwrap();
    if info.leader < 0 {
        return Ok(());
    }
    let (start, hw) = (info.log_start_offset, info.high_watermark);
    let offset = match past {
        0 => start + ((hw - start) as f64 * at) as i64,
        -1 => start - 1,
        n => hw + n,
    };
    let expected = if offset < start || offset > hw {
        ResponseError::OffsetOutOfRange.code()
    } else {
        0
    };
    let request = fetch_request(TOPIC, partition, offset);
    let mut retries = 0;
    let answer = loop {
        let before = Hits::now(cluster);
        let answer = Conn::to_broker(cluster, info.leader).try_send(11, &request);
        let as_expected = answer.as_ref().is_ok_and(|a| {
            a.error_code == 0 && a.responses[0].partitions[0].error_code == expected
        });
        if as_expected || retries == RETRIES || !before.any_fired_since(cluster) {
            break answer;
        }
        retries += 1;
    };
    let answer = answer.map_err(|e| TestCaseError::fail(format!("fetch at {offset}: {e}")))?;
    prop_assert_eq!(answer.error_code, 0, "fetch at {}", offset);
    let p = &answer.responses[0].partitions[0];
    if expected != 0 {
        prop_assert_eq!(
            p.error_code,
            ResponseError::OffsetOutOfRange.code(),
            "fetch at {} of [{}, {}]",
            offset,
            start,
            hw
        );
        return Ok(());
    }
    prop_assert_eq!(p.error_code, 0, "fetch at {}", offset);
    let fetched: Vec<(i64, Option<Bytes>)> =
        complete_batches(p.records.as_deref().unwrap_or_default())
            .iter()
            .flat_map(|b| BatchView::parse(b).and_then(|v| v.records()).unwrap())
            .filter(|r| r.offset >= offset)
            .map(|r| (r.offset, r.value))
            .collect();
    let stored: Vec<(i64, Option<Bytes>)> = cluster
        .partition_records(TOPIC, partition)
        .into_iter()
        .filter(|r| r.offset >= offset && r.offset < p.high_watermark)
        .map(|r| (r.offset, r.value))
        .collect();
    prop_assert!(
        fetched.iter().all(|(o, _)| *o < p.high_watermark),
        "fetched past the high watermark"
    );
    prop_assert_eq!(
        fetched,
        stored,
        "fetch at {} returns the stored records",
        offset
    );
    Ok(())
}

fn to_coordinator(cluster: &Cluster) -> Conn {
    let broker = reachable(cluster)[0];
    let find = FindCoordinatorRequest::default()
        .with_key_type(0)
        .with_key(str_bytes(GROUP));
    let found = Conn::to_broker(cluster, broker).send(3, &find);
    assert_no_error(found.error_code, "FindCoordinator");
    Conn::to_broker(cluster, found.node_id.0)
}

/// Every current member (re)joins; the leader assigns partitions by range; everyone syncs.
/// A round that an injected fault cuts short starts over, as consumers do: every member
/// rejoins, on a new connection, with the id it has. Then the owners are checked against
/// the members' answers and the coordinator's view.
fn rebalance(cluster: &Cluster, model: &mut Model) -> Result<(), TestCaseError> {
    // New members first: their joins put the group into a rebalance that then waits for
    // the existing members, whose joins complete it. The other way round, an existing
    // member's join could complete a rebalance on its own before the newcomer arrives.
    let mut slots: Vec<usize> = (0..MEMBERS)
        .filter(|&s| model.members[s].is_some())
        .collect();
    slots.sort_by_key(|&s| !model.members[s].as_ref().unwrap().id.is_empty());
    if slots.is_empty() {
        return Ok(());
    }
    for _ in 0..RETRIES {
        if rebalance_round(cluster, model, &slots)? {
            return check_owners(cluster, model, &slots);
        }
    }
    Err(TestCaseError::fail(format!(
        "the group never finished a rebalance: {:?}",
        cluster.group(GROUP)
    )))
}

/// One round of joins and syncs; false if an injected fault cut it short.
fn rebalance_round(
    cluster: &Cluster,
    model: &mut Model,
    slots: &[usize],
) -> Result<bool, TestCaseError> {
    let before = Hits::now(cluster);
    let mut conns: Vec<Conn> = slots.iter().map(|_| to_coordinator(cluster)).collect();
    let Some(joined) = join_all(cluster, model, slots, &mut conns, &before)? else {
        return Ok(false);
    };
    let mut ids: Vec<String> = joined.iter().map(|j| j.member_id.to_string()).collect();
    for (&s, id) in slots.iter().zip(&ids) {
        let member = model.members[s].as_mut().unwrap();
        member.id = id.clone();
        member.generation = joined[0].generation_id;
    }
    ids.sort();
    // Range assignment over the sorted member ids.
    let share = |i: usize| -> Vec<i32> {
        let n = ids.len() as i32;
        let (base, extra) = (PARTITIONS / n, PARTITIONS % n);
        let first = i as i32 * base + (i as i32).min(extra);
        let len = base + i32::from((i as i32) < extra);
        (first..first + len).collect()
    };
    let leader = slots
        .iter()
        .position(|&s| model.members[s].as_ref().unwrap().id == joined[0].leader.to_string())
        .expect("the leader is a member");
    let order: Vec<usize> = std::iter::once(leader)
        .chain((0..slots.len()).filter(|&i| i != leader))
        .collect();
    for i in order {
        let member = model.members[slots[i]].as_ref().unwrap();
        let assignments: Vec<(String, Bytes)> = if i == leader {
            ids.iter()
                .enumerate()
                .map(|(k, id)| (id.clone(), assignment(&[(TOPIC, &share(k))])))
                .collect()
        } else {
            Vec::new()
        };
        let refs: Vec<(&str, Bytes)> = assignments
            .iter()
            .map(|(id, a)| (id.as_str(), a.clone()))
            .collect();
        let synced = conns[i].try_send(
            5,
            &sync_request(GROUP, member.generation, &member.id, &refs),
        );
        let synced = match synced {
            Ok(synced) if synced.error_code == 0 => synced,
            _ if before.any_fired_since(cluster) => return Ok(false),
            Ok(synced) => {
                return Err(TestCaseError::fail(format!(
                    "SyncGroup: error {}",
                    synced.error_code
                )));
            }
            Err(e) => return Err(TestCaseError::fail(format!("SyncGroup: {e}"))),
        };
        let mut bytes = synced.assignment.clone();
        let _version = bytes::Buf::get_i16(&mut bytes);
        let decoded = ConsumerProtocolAssignment::decode(&mut bytes, 3).unwrap();
        let mine: Vec<i32> = decoded
            .assigned_partitions
            .iter()
            .flat_map(|t| t.partitions.clone())
            .collect();
        model.members[slots[i]].as_mut().unwrap().assigned = mine;
    }
    Ok(true)
}

/// Exactly one owner per partition, as the members and as the coordinator see it.
fn check_owners(cluster: &Cluster, model: &Model, slots: &[usize]) -> Result<(), TestCaseError> {
    let mut owned: Vec<i32> = slots
        .iter()
        .flat_map(|&s| model.members[s].as_ref().unwrap().assigned.clone())
        .collect();
    owned.sort();
    prop_assert_eq!(
        owned,
        (0..PARTITIONS).collect::<Vec<_>>(),
        "each partition owned once"
    );
    let group = cluster.group(GROUP).unwrap();
    prop_assert_eq!(group.state, broker_sim::GroupState::Stable);
    for &s in slots {
        let member = model.members[s].as_ref().unwrap();
        let seen = group.member(&member.id).map(|m| m.partitions());
        let want: Vec<(String, i32)> = member
            .assigned
            .iter()
            .map(|&p| (TOPIC.to_string(), p))
            .collect();
        prop_assert_eq!(seen, Some(want), "the coordinator's view of {}", member.id);
    }
    Ok(())
}

/// Every member in `slots` joins, as clients do: each sends JoinGroup; a member whose join
/// was answered while the group is rebalancing again (someone joined after it) rejoins,
/// as its next heartbeat would tell it to; until every member holds an answer of the
/// same generation. The answers, in `slots` order; None if a fault rule fired since
/// `before` and failed a join or closed a connection a join was waiting on.
fn join_all(
    cluster: &Cluster,
    model: &mut Model,
    slots: &[usize],
    conns: &mut [Conn],
    before: &Hits,
) -> Result<Option<Vec<JoinGroupResponse>>, TestCaseError> {
    let mut pending: Vec<Option<PendingJoin>> = Vec::new();
    let mut answers: Vec<Option<JoinGroupResponse>> = Vec::new();
    for (&s, conn) in slots.iter().zip(conns.iter_mut()) {
        let Some(join) = start_join(cluster, model, s, conn, before)? else {
            return Ok(None);
        };
        pending.push(Some(join));
        answers.push(None);
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        // A join on a connection a rule closed is never answered.
        if before.silenced_since(cluster) {
            return Ok(None);
        }
        for i in 0..slots.len() {
            if pending[i].is_some() && conns[i].answer_pending(Duration::from_millis(1)) {
                let answer = conns[i].finish_join(pending[i].take().unwrap());
                if answer.error_code != 0 && before.any_fired_since(cluster) {
                    return Ok(None);
                }
                prop_assert_eq!(answer.error_code, 0, "JoinGroup");
                model.members[slots[i]].as_mut().unwrap().id = answer.member_id.to_string();
                answers[i] = Some(answer);
            }
        }
        let generations: Vec<i32> = answers.iter().flatten().map(|a| a.generation_id).collect();
        let rebalancing = cluster
            .group(GROUP)
            .is_some_and(|g| g.state == broker_sim::GroupState::PreparingRebalance);
        if generations.len() == slots.len()
            && generations.iter().all(|&g| g == generations[0])
            && !rebalancing
        {
            return Ok(Some(answers.into_iter().flatten().collect()));
        }
        if rebalancing {
            for i in 0..slots.len() {
                if pending[i].is_none() {
                    let Some(join) = start_join(cluster, model, slots[i], &mut conns[i], before)?
                    else {
                        return Ok(None);
                    };
                    pending[i] = Some(join);
                    answers[i] = None;
                }
            }
        }
        prop_assert!(
            std::time::Instant::now() < deadline,
            "the group never finished joining: {:?}",
            cluster.group(GROUP)
        );
    }
}

/// Sends the JoinGroup of the member in `slot` without reading the answer, which may wait
/// for other members. A new member first asks for its id (the MEMBER_ID_REQUIRED round
/// trip of v4+) and keeps it at once, so it rejoins with that id whatever happens next.
/// None if a fault rule fired since `before` and answered instead.
fn start_join(
    cluster: &Cluster,
    model: &mut Model,
    slot: usize,
    conn: &mut Conn,
    before: &Hits,
) -> Result<Option<PendingJoin>, TestCaseError> {
    let member = model.members[slot].as_mut().unwrap();
    if member.id.is_empty() {
        match conn.try_send(7, &join_request(GROUP, "", &["range"])) {
            Ok(answer) if answer.error_code == ResponseError::MemberIdRequired.code() => {
                member.id = answer.member_id.to_string();
            }
            _ if before.any_fired_since(cluster) => return Ok(None),
            answer => {
                return Err(TestCaseError::fail(format!(
                    "JoinGroup without a member id: {answer:?}"
                )));
            }
        }
    }
    Ok(Some(conn.start_join(
        7,
        join_request(GROUP, &member.id, &["range"]),
    )))
}

/// The invariants, checked after every operation.
fn check(cluster: &Cluster, model: &mut Model) -> Result<(), TestCaseError> {
    for p in 0..PARTITIONS {
        let info = cluster.partition(TOPIC, p).unwrap();
        let stored = cluster.partition_records(TOPIC, p);
        for (i, r) in stored.iter().enumerate() {
            prop_assert_eq!(
                r.offset,
                info.log_start_offset + i as i64,
                "offsets contiguous in partition {}",
                p
            );
        }
        let last = model.high_watermarks.entry(p).or_insert(0);
        prop_assert!(
            info.high_watermark >= *last,
            "high watermark of {} went from {} to {}",
            p,
            last,
            info.high_watermark
        );
        *last = info.high_watermark;

        let value_at: BTreeMap<i64, &str> = stored
            .iter()
            .map(|r| (r.offset, r.value_str().unwrap()))
            .collect();
        let mut copies: BTreeMap<&str, usize> = BTreeMap::new();
        for v in value_at.values() {
            *copies.entry(v).or_default() += 1;
        }
        for sent in model.acked.get(&p).into_iter().flatten() {
            let idempotent = !sent.values[0].starts_with("p2-");
            for (i, v) in sent.values.iter().enumerate() {
                let n = copies.get(v.as_str()).copied().unwrap_or(0);
                if sent.acks == -1 {
                    let at = sent.base_offset.unwrap() + i as i64;
                    prop_assert_eq!(
                        value_at.get(&at).copied(),
                        Some(v.as_str()),
                        "acks=all record {} at offset {} of {}",
                        short(v),
                        at,
                        p
                    );
                    prop_assert!(n >= 1);
                }
                if idempotent {
                    prop_assert!(
                        n <= 1,
                        "{} copies of idempotent record {} in {}",
                        n,
                        short(v),
                        p
                    );
                }
            }
        }
        // Each producer's records in send order (first copies; a plain producer's resend
        // may add a later duplicate).
        let mut last_sequence: BTreeMap<&str, i64> = BTreeMap::new();
        let mut first_seen = std::collections::BTreeSet::new();
        for v in value_at.values() {
            if !first_seen.insert(*v) {
                continue;
            }
            let mut parts = v.splitn(3, '-');
            let producer = parts.next().unwrap();
            let sequence: i64 = parts.next().unwrap()[1..].parse().unwrap();
            let previous = last_sequence.insert(producer, sequence).unwrap_or(-1);
            prop_assert!(
                sequence > previous,
                "{} out of order in {}: {} after {}",
                producer,
                p,
                sequence,
                previous
            );
        }
    }
    if let Some(group) = cluster.group(GROUP) {
        for o in &group.offsets {
            prop_assert!(
                o.offset <= o.high_watermark,
                "committed {} past the high watermark {}",
                o.offset,
                o.high_watermark
            );
        }
    }
    Ok(())
}

/// A record's value without its padding: "p0-s12".
fn short(value: &str) -> &str {
    value.rsplit_once('-').map_or(value, |(head, _)| head)
}

fn run_case(seed: u64, ops: &[Op]) -> Result<(), TestCaseError> {
    let data_dir = DataDir::for_case();
    let cluster = cluster(seed, data_dir.as_ref());
    let mut model = Model {
        producers: (0..PRODUCERS).map(|_| ProducerState::default()).collect(),
        acked: BTreeMap::new(),
        high_watermarks: BTreeMap::new(),
        members: (0..MEMBERS).map(|_| None).collect(),
    };
    for producer in 0..2 {
        model.producers[producer].id = Some(init_idempotent_producer(&cluster));
    }
    let trace = std::env::var_os("BROKER_SIM_MODEL_TRACE").is_some();
    for op in ops {
        if trace {
            eprintln!("{op:?}");
        }
        apply(&cluster, &mut model, op)?;
        check(&cluster, &mut model)?;
    }
    if data_dir.is_some() {
        // Durable mode: a restart on the same directory keeps everything checked.
        drop(cluster);
        let restarted = crate::cluster(seed, data_dir.as_ref());
        check(&restarted, &mut model)?;
    }
    Ok(())
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn the_cluster_keeps_order_and_every_acknowledged_record_under_any_sequence_of_operations() {
    let cases = env_or("BROKER_SIM_MODEL_CASES", DEFAULT_CASES);
    let seed = match std::env::var("BROKER_SIM_MODEL_SEED").as_deref() {
        Ok("random") => {
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            println!("BROKER_SIM_MODEL_SEED={seed}");
            seed
        }
        Ok(text) => text
            .parse()
            .expect("BROKER_SIM_MODEL_SEED is a number or `random`"),
        Err(_) => DEFAULT_SEED,
    };
    let config = Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = (any::<u64>(), ops());
    match runner.run(&strategy, |(cluster_seed, ops)| {
        run_case(cluster_seed, &ops)
    }) {
        Ok(()) => {}
        Err(TestError::Fail(reason, (cluster_seed, ops))) => panic!(
            "{reason}\nreplay: BROKER_SIM_MODEL_SEED={seed} BROKER_SIM_MODEL_CASES={cases} \
             cargo test -p broker-sim --test model\ncluster seed {cluster_seed}, minimal \
             sequence ({} operations):\n{ops:#?}",
            ops.len()
        ),
        Err(e) => panic!("{e}\nreplay: BROKER_SIM_MODEL_SEED={seed}"),
    }
}
