//! Handlers run without a socket: a `Shared` built in the test, a context per request,
//! and the futures polled by hand where the test is about when they wake.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use broker_sim_protocol::batch::{Codec, NewRecord, encode_batch};
use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    FetchRequest, FetchResponse, HeartbeatRequest, ProduceRequest, ProduceResponse,
};

use super::fetch::Fetch;
use super::heartbeat::Heartbeat;
use super::produce::Produce;
use super::{Api, Ctx, Reply, topic_name};
use crate::clock::Clock;
use crate::config::BrokerConfig;
use crate::shared::Shared;
use crate::state::{BrokerInfo, State, TopicSpec};

/// Three brokers and topic "t" with two partitions, replicated on every broker.
fn shared() -> Shared {
    let brokers = (1..=3)
        .map(|id| BrokerInfo {
            id,
            host: "127.0.0.1".into(),
            port: 9091 + id,
            rack: None,
            listener_ports: vec![9091 + id],
        })
        .collect();
    let mut state = State::new(7, brokers, BrokerConfig::default());
    let mut spec = TopicSpec::new("t", 2);
    spec.replication_factor = 3;
    state.create_topic(&spec).unwrap();
    Shared::new(state, Clock::manual(1_000), 7)
}

static NO_THROTTLE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);
static PLAINTEXT: std::sync::LazyLock<crate::sasl::Session> = std::sync::LazyLock::new(|| {
    crate::sasl::Session::new(crate::security::SecurityProtocol::Plaintext, 0, None)
});

fn ctx(shared: &Shared, broker_id: i32, version: i16) -> Ctx<'_> {
    Ctx {
        shared,
        broker_id,
        version,
        client_id: "unit-test",
        client_host: "/127.0.0.1",
        answer_lost: false,
        request_bytes: 0,
        quota_throttle: &NO_THROTTLE,
        splices: Box::leak(Box::default()),
        session: &PLAINTEXT,
        principal: crate::security::ANONYMOUS,
    }
}

fn leader(shared: &Shared, partition: i32) -> i32 {
    shared
        .read()
        .topic("t")
        .unwrap()
        .partition(partition)
        .unwrap()
        .leader
}

fn produce_request(partition: i32, value: &str) -> ProduceRequest {
    let record = NewRecord {
        timestamp: 1_000,
        key: None,
        value: Some(Bytes::copy_from_slice(value.as_bytes())),
        headers: Vec::new(),
    };
    let records = encode_batch(&[record], Codec::None).unwrap();
    ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(5_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(topic_name("t"))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(partition)
                        .with_records(Some(records)),
                ]),
        ])
}

fn fetch_request(partition: i32, max_wait_ms: i32) -> FetchRequest {
    FetchRequest::default()
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![
            FetchTopic::default()
                .with_topic(topic_name("t"))
                .with_partitions(vec![
                    FetchPartition::default()
                        .with_partition(partition)
                        .with_fetch_offset(0)
                        .with_partition_max_bytes(1 << 20),
                ]),
        ])
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn produce(shared: &Shared, partition: i32, value: &str) -> ProduceResponse {
    let ctx = ctx(shared, leader(shared, partition), 9);
    match runtime().block_on(Produce::handle(&ctx, produce_request(partition, value))) {
        Reply::Response(r) => r,
        _ => panic!("acks=-1 is answered"),
    }
}

/// Counts how often a future asked to be polled again.
#[derive(Default)]
struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_produce_then_a_fetch_through_the_handlers_return_the_record() {
    let shared = shared();
    let answer = produce(&shared, 0, "hello");
    let p = &answer.responses[0].partition_responses[0];
    assert_eq!((p.error_code, p.base_offset), (0, 0));
    let ctx = ctx(&shared, leader(&shared, 0), 12);
    let Reply::Response(fetched) = runtime().block_on(Fetch::handle(&ctx, fetch_request(0, 0)))
    else {
        panic!("fetch is answered");
    };
    let data = &fetched.responses[0].partitions[0];
    assert_eq!((data.error_code, data.high_watermark), (0, 1));
    assert!(!data.records.as_ref().unwrap().is_empty());
}

#[test]
fn a_group_request_to_a_broker_that_does_not_coordinate_it_is_not_coordinator() {
    let shared = shared();
    let coordinator = shared.lock().coordinator_for("g").unwrap().id;
    let other = (1..=3).find(|b| *b != coordinator).unwrap();
    let request = HeartbeatRequest::default()
        .with_group_id(super::str_bytes("g").into())
        .with_member_id(super::str_bytes("m"));
    let Reply::Response(answer) =
        runtime().block_on(Heartbeat::handle(&ctx(&shared, other, 4), request))
    else {
        panic!("heartbeat is answered");
    };
    assert_eq!(answer.error_code, ResponseError::NotCoordinator.code());
}

#[test]
fn a_long_poll_is_woken_by_its_own_partition_and_not_by_another() {
    let shared = shared();
    let rt = runtime();
    let _guard = rt.enter();
    let fetch_ctx = ctx(&shared, leader(&shared, 0), 12);
    let mut fetch = pin!(Fetch::handle(&fetch_ctx, fetch_request(0, 60_000)));
    let wakes = Arc::new(CountingWaker::default());
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(
        fetch.as_mut().poll(&mut cx).is_pending(),
        "nothing to read yet"
    );

    produce(&shared, 1, "elsewhere");
    assert_eq!(
        wakes.0.load(Ordering::SeqCst),
        0,
        "an append to partition 1 woke it"
    );
    assert!(fetch.as_mut().poll(&mut cx).is_pending());

    produce(&shared, 0, "here");
    assert!(
        wakes.0.load(Ordering::SeqCst) > 0,
        "an append to partition 0 did not wake it"
    );
    let Poll::Ready(Reply::Response(FetchResponse { responses, .. })) =
        fetch.as_mut().poll(&mut cx)
    else {
        panic!("the woken fetch answers with the new record");
    };
    assert_eq!(responses[0].partitions[0].high_watermark, 1);
}

#[test]
fn a_produced_batch_is_decompressed_walked_and_copied_while_the_state_lock_is_free() {
    let shared = Arc::new(shared());
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let probe = {
        let (shared, seen) = (shared.clone(), seen.clone());
        move |copied| seen.lock().unwrap().push((shared.is_locked(), copied))
    };
    crate::state::prepared::PREPARED_PROBE.with(|p| *p.borrow_mut() = Some(Box::new(probe)));
    let records: Vec<NewRecord> = (0..1_000)
        .map(|i| NewRecord {
            timestamp: 1_000,
            key: None,
            value: Some(Bytes::from(format!("value {i}"))),
            headers: Vec::new(),
        })
        .collect();
    let mut request = produce_request(0, "unused");
    request.topic_data[0].partition_data[0].records =
        Some(encode_batch(&records, Codec::Zstd).unwrap());
    let ctx = ctx(&shared, leader(&shared, 0), 9);
    let Reply::Response(answer) = runtime().block_on(Produce::handle(&ctx, request)) else {
        panic!("acks=-1 is answered");
    };
    assert_eq!(answer.responses[0].partition_responses[0].error_code, 0);
    assert_eq!(
        *seen.lock().unwrap(),
        [(false, true)],
        "walked and copied once, unlocked"
    );
    // The probe does see the lock: records seeded through `State::append` are walked
    // under the caller's lock.
    let options = crate::state::AppendOptions {
        acks: 1,
        now_ms: 1_000,
        allow_zstd: true,
        transactional_id: None,
        version: 9,
    };
    let batch = encode_batch(&records, Codec::Zstd).unwrap();
    let seeded = shared.lock().append("t", 1, None, &batch, options);
    assert!(seeded.is_ok());
    assert_eq!(*seen.lock().unwrap(), [(false, true), (true, true)]);
    crate::state::prepared::PREPARED_PROBE.with(|p| *p.borrow_mut() = None);
}

/// What `other` answers when run on another thread while this one holds `lock`'s guard;
/// `None` if it waited for it (a generous deadline: only a lock shared between the two
/// makes it wait).
fn answered_while<G, T: Send>(lock: G, other: impl FnOnce() -> T + Send) -> Option<T> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|s| {
        s.spawn(move || tx.send(other()).unwrap());
        let answer = rx.recv_timeout(std::time::Duration::from_secs(60)).ok();
        drop(lock);
        answer
    })
}

#[test]
fn group_requests_are_answered_while_the_state_lock_is_held_and_produces_while_the_groups_lock_is()
{
    use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
    use kafka_protocol::messages::leave_group_request::MemberIdentity;
    use kafka_protocol::messages::{
        DeleteGroupsRequest, DescribeGroupsRequest, GroupId, JoinGroupRequest, LeaveGroupRequest,
    };

    use super::delete_groups::DeleteGroups;
    use super::describe_groups::DescribeGroups;
    use super::join_group::JoinGroup;
    use super::leave_group::LeaveGroup;

    let shared = shared();
    let coordinator = shared.lock().coordinator_for("g").unwrap().id;
    let group = || GroupId(topic_name("g").0);
    let answers = answered_while(shared.lock(), || {
        let rt = runtime();
        let run = |version| ctx(&shared, coordinator, version);
        let join = JoinGroupRequest::default()
            .with_group_id(group())
            .with_session_timeout_ms(10_000)
            .with_rebalance_timeout_ms(10_000)
            .with_protocol_type(topic_name("consumer").0)
            .with_protocols(vec![
                JoinGroupRequestProtocol::default().with_name(topic_name("range").0),
            ]);
        let Reply::Response(joined) = rt.block_on(JoinGroup::handle(&run(9), join)) else {
            panic!("answered");
        };
        let member = joined.member_id.clone();
        let heartbeat = HeartbeatRequest::default()
            .with_group_id(group())
            .with_member_id(member.clone());
        let Reply::Response(beat) = rt.block_on(Heartbeat::handle(&run(4), heartbeat)) else {
            panic!("answered");
        };
        let describe = DescribeGroupsRequest::default().with_groups(vec![group()]);
        let Reply::Response(described) = rt.block_on(DescribeGroups::handle(&run(5), describe))
        else {
            panic!("answered");
        };
        let leave = LeaveGroupRequest::default()
            .with_group_id(group())
            .with_members(vec![MemberIdentity::default().with_member_id(member)]);
        let Reply::Response(left) = rt.block_on(LeaveGroup::handle(&run(5), leave)) else {
            panic!("answered");
        };
        let delete = DeleteGroupsRequest::default().with_groups_names(vec![group()]);
        let Reply::Response(deleted) = rt.block_on(DeleteGroups::handle(&run(2), delete)) else {
            panic!("answered");
        };
        (
            joined.error_code,
            beat.error_code,
            described.groups[0].group_state.to_string(),
            left.members[0].error_code,
            deleted.results[0].error_code,
        )
    });
    assert_eq!(
        answers,
        Some((
            ResponseError::MemberIdRequired.code(),
            ResponseError::UnknownMemberId.code(),
            "Empty".to_string(),
            0,
            0,
        )),
        "join (first step), heartbeat, describe, leave and delete answered under the groups lock alone"
    );
    let produced = answered_while(shared.groups(), || produce(&shared, 0, "v"));
    let produced = produced.expect("a produce does not wait for the groups lock");
    assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);
}

fn difference(after: (usize, usize), before: (usize, usize)) -> (usize, usize) {
    (after.0 - before.0, after.1 - before.1)
}

#[test]
fn produces_and_fetches_of_one_partition_are_answered_while_another_partition_is_locked() {
    let shared = shared();
    assert_eq!(
        produce(&shared, 1, "before").responses[0].partition_responses[0].error_code,
        0
    );
    // What another client's append to partition 0 holds: the state for reading, and the
    // partition's own lock.
    let state = shared.read();
    let held = state.topic("t").unwrap().partition(0).unwrap();
    let answers = answered_while(held, || {
        let produced = produce(&shared, 1, "beside");
        let ctx = ctx(&shared, leader(&shared, 1), 12);
        let Reply::Response(fetched) = runtime().block_on(Fetch::handle(&ctx, fetch_request(1, 0)))
        else {
            panic!("fetch is answered");
        };
        let produced = &produced.responses[0].partition_responses[0];
        let fetched = &fetched.responses[0].partitions[0];
        (
            produced.error_code,
            produced.base_offset,
            fetched.error_code,
            fetched.high_watermark,
        )
    });
    drop(state);
    assert_eq!(
        answers,
        Some((0, 1, 0, 2)),
        "partition 1's produce and fetch do not wait for partition 0's lock"
    );
    let produced = produce(&shared, 0, "after");
    assert_eq!(produced.responses[0].partition_responses[0].base_offset, 0);
}

#[test]
fn a_produce_and_a_fetch_take_the_state_lock_once_each_and_count_quotas_beside_it() {
    use crate::state::quotas::{QuotaAlteration, QuotaKind};
    let shared = shared();
    // Quotas for this client, so its usage is counted (under the quotas' own lock).
    let quotas = QuotaAlteration {
        entity: [("client-id".to_string(), Some("unit-test".to_string()))].into(),
        ops: ["producer_byte_rate", "consumer_byte_rate"]
            .map(|key| (key.to_string(), Some(1e9)))
            .into(),
    };
    let set = shared.quotas.alter(&[quotas], false);
    assert!(set.iter().all(|(_, r)| r.is_ok()), "{set:?}");
    let leader = leader(&shared, 0);
    let before = shared.acquisitions();
    let request = produce_request(0, "v");
    let Reply::Response(produced) =
        runtime().block_on(Produce::handle(&ctx(&shared, leader, 9), request))
    else {
        panic!("acks=-1 is answered");
    };
    assert_eq!(produced.responses[0].partition_responses[0].error_code, 0);
    let by_produce = difference(shared.acquisitions(), before);
    let ctx = ctx(&shared, leader, 12);
    let before = shared.acquisitions();
    let Reply::Response(fetched) = runtime().block_on(Fetch::handle(&ctx, fetch_request(0, 0)))
    else {
        panic!("fetch is answered");
    };
    assert_eq!(fetched.responses[0].partitions[0].high_watermark, 1);
    let by_fetch = difference(shared.acquisitions(), before);
    assert_eq!(
        (by_produce, by_fetch),
        ((1, 0), (1, 0)),
        "an in-sync acks=all produce and a fetch with data each take the state lock once, for reading"
    );
    let counted = shared
        .quotas
        .lock()
        .max_in_window(QuotaKind::Fetch, "unit-test");
    assert!(counted.is_some(), "the fetch quota applies to this client");
}

#[test]
fn an_offset_commit_reads_the_topics_under_the_state_read_lock_beside_a_reader() {
    use kafka_protocol::messages::offset_commit_request::{
        OffsetCommitRequestPartition, OffsetCommitRequestTopic,
    };
    use kafka_protocol::messages::{GroupId, OffsetCommitRequest};

    use super::offset_commit::OffsetCommit;

    let shared = shared();
    let coordinator = shared.read().coordinator_for("g").unwrap().id;
    let commit = OffsetCommitRequest::default()
        .with_group_id(GroupId(topic_name("g").0))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(topic_name("t"))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(1)
                        .with_committed_offset(5),
                ]),
        ]);
    let before = shared.acquisitions();
    // Another request reading the state (a fetch, a Metadata) holds it for reading.
    let answer = answered_while(shared.read(), || {
        let Reply::Response(committed) =
            runtime().block_on(OffsetCommit::handle(&ctx(&shared, coordinator, 8), commit))
        else {
            panic!("a commit is answered");
        };
        committed.topics[0].partitions[0].error_code
    });
    assert_eq!(answer, Some(0), "the commit is answered beside a reader");
    assert_eq!(
        difference(shared.acquisitions(), before),
        (2, 0),
        "the holder's read and the commit's: neither exclusive"
    );
}
