//! Mutated requests never take the broker down.
//!
//! Valid requests of several APIs and versions (including Produce with real batches in
//! every codec, and the group coordinator's JoinGroup, SyncGroup, OffsetCommit,
//! OffsetFetch and LeaveGroup, and OffsetForLeaderEpoch) are encoded with kafka-protocol, then bytes are flipped, cut, inserted or
//! overwritten with hostile lengths, and sent to a live cluster. Whatever the broker makes
//! of each one (an answer with an error code, or a closed connection), it must stay up:
//! after every case no broker thread has panicked, a fresh connection still gets an
//! ApiVersions answer, and data acknowledged before the storm is still readable. Case count: `PROPTEST_CASES` (default 64); seed: `MUTATED_REQUESTS_SEED` (default fixed, `random` for a fresh one, printed).

mod support;

use std::io::Read;
use std::time::Duration;

use broker_sim::Cluster;
use broker_sim_protocol::batch::{Codec, NewRecord, encode_batch};
use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestGroup;
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiVersionsRequest, CreateTopicsRequest, FetchRequest, FindCoordinatorRequest, GroupId,
    JoinGroupRequest, LeaveGroupRequest, OffsetCommitRequest, OffsetFetchRequest,
    OffsetForLeaderEpochRequest, SyncGroupRequest,
};
use kafka_protocol::protocol::Request;
use proptest::prelude::*;
use support::*;

/// A request template: its frame for a version, built from kafka-protocol types. Group
/// requests name `group`, which the target broker coordinates, so mutations reach the
/// coordinator's logic rather than stopping at NOT_COORDINATOR.
fn template(kind: u8, version_pick: u8, codec_pick: u8, group: &str) -> Vec<u8> {
    fn frame_of<R: Request>(request: &R, pick: u8) -> Vec<u8> {
        let (min, max) = (R::VERSIONS.min.max(0), R::VERSIONS.max);
        let version = min + (pick as i16 % (max - min + 1));
        encode_frame(version, 7, request).to_vec()
    }
    let group_id = || GroupId(str_bytes(group));
    match kind % 12 {
        0 => frame_of(&metadata_request(&["t"]), version_pick),
        1 => {
            let codec = [
                Codec::None,
                Codec::Gzip,
                Codec::Snappy,
                Codec::Lz4,
                Codec::Zstd,
            ][codec_pick as usize % 5];
            let records = encode_batch(
                &[NewRecord {
                    timestamp: BASE_TIMESTAMP,
                    key: Some(Bytes::from_static(b"key")),
                    value: Some(Bytes::from_static(b"value value value")),
                    headers: vec![("h".into(), Some(Bytes::from_static(b"v")))],
                }],
                codec,
            )
            .expect("batch encodes");
            // Produce v7+ only, so every codec is allowed before mutation.
            encode_frame(
                7 + (version_pick as i16 % 6),
                7,
                &produce_request("t", 0, records),
            )
            .to_vec()
        }
        2 => frame_of::<FetchRequest>(&fetch_request("t", 0, 0), version_pick.min(8)),
        3 => frame_of(&list_offsets_request("t", 0, -1), version_pick),
        4 => frame_of(
            &CreateTopicsRequest::default().with_topics(vec![
                CreatableTopic::default()
                    .with_name(name("fuzzed"))
                    .with_num_partitions(2)
                    .with_replication_factor(1),
            ]),
            version_pick,
        ),
        5 => frame_of(
            &JoinGroupRequest::default()
                .with_group_id(group_id())
                .with_session_timeout_ms(10_000)
                .with_rebalance_timeout_ms(10_000)
                .with_protocol_type(str_bytes("consumer"))
                .with_protocols(vec![
                    JoinGroupRequestProtocol::default()
                        .with_name(str_bytes("range"))
                        .with_metadata(Bytes::from_static(&[0, 1, 0, 0, 0, 1, 0, 1, b't'])),
                ]),
            version_pick,
        ),
        6 => frame_of(
            &SyncGroupRequest::default()
                .with_group_id(group_id())
                .with_generation_id(1)
                .with_member_id(str_bytes("m"))
                .with_assignments(vec![
                    SyncGroupRequestAssignment::default()
                        .with_member_id(str_bytes("m"))
                        .with_assignment(Bytes::from_static(&[0, 0, 0, 0, 0, 0])),
                ]),
            version_pick,
        ),
        7 => frame_of(
            &OffsetCommitRequest::default()
                .with_group_id(group_id())
                .with_generation_id_or_member_epoch(-1)
                .with_topics(vec![
                    OffsetCommitRequestTopic::default()
                        .with_name(name("t"))
                        .with_partitions(vec![
                            OffsetCommitRequestPartition::default()
                                .with_committed_offset(1)
                                .with_committed_metadata(Some(str_bytes("meta"))),
                        ]),
                ]),
            version_pick,
        ),
        // Fields that exist only in some versions are set only there.
        8 => {
            let version = 1 + version_pick as i16 % 9;
            let request = if version >= 8 {
                OffsetFetchRequest::default().with_groups(vec![
                    OffsetFetchRequestGroup::default().with_group_id(group_id()),
                ])
            } else {
                OffsetFetchRequest::default()
                    .with_group_id(group_id())
                    .with_topics((version >= 2).then(Vec::new))
            };
            encode_frame(version, 7, &request).to_vec()
        }
        9 => {
            let version = version_pick as i16 % 6;
            let request = if version >= 3 {
                LeaveGroupRequest::default()
                    .with_group_id(group_id())
                    .with_members(vec![
                        MemberIdentity::default().with_member_id(str_bytes("m")),
                    ])
            } else {
                LeaveGroupRequest::default()
                    .with_group_id(group_id())
                    .with_member_id(str_bytes("m"))
            };
            encode_frame(version, 7, &request).to_vec()
        }
        10 => frame_of(
            &OffsetForLeaderEpochRequest::default()
                .with_replica_id((-1).into())
                .with_topics(vec![
                    OffsetForLeaderTopic::default()
                        .with_topic(name("t"))
                        .with_partitions(vec![
                            OffsetForLeaderPartition::default()
                                .with_current_leader_epoch(0)
                                .with_leader_epoch(0),
                        ]),
                ]),
            version_pick,
        ),
        _ => frame_of(&ApiVersionsRequest::default(), version_pick),
    }
}

/// A group id that `broker` coordinates, found with FindCoordinator as a client would.
fn group_coordinated_by(cluster: &Cluster, broker: i32) -> String {
    (0..100)
        .map(|i| format!("fuzz-group-{i}"))
        .find(|g| {
            let answer = Conn::to_broker(cluster, broker)
                .send(3, &FindCoordinatorRequest::default().with_key(str_bytes(g)));
            answer.node_id.0 == broker
        })
        .expect("some group id hashes to every broker")
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Insert(usize, Vec<u8>),
    /// A 4-byte length or count overwritten with an extreme value.
    Length(usize, i32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(at, x)| Mutation::Flip(at, x)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, bytes)| Mutation::Insert(at, bytes)),
        (
            any::<usize>(),
            prop_oneof![
                Just(-2),
                Just(-1),
                Just(0x7fff_ffff),
                Just(0x4000_0000),
                any::<i32>()
            ]
        )
            .prop_map(|(at, v)| Mutation::Length(at, v)),
    ]
}

/// Applies the mutations to the payload (after the size prefix) and re-frames it, so the
/// broker reads exactly one request and has to make sense of its contents.
fn mutate(frame: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut payload = frame[4..].to_vec();
    for m in mutations {
        let len = payload.len().max(1);
        match m {
            Mutation::Flip(at, x) => {
                if let Some(b) = payload.get_mut(at % len) {
                    *b ^= x;
                }
            }
            Mutation::Truncate(at) => payload.truncate(at % len),
            Mutation::Insert(at, bytes) => {
                let at = at % len;
                payload.splice(at.min(payload.len())..at.min(payload.len()), bytes.clone());
            }
            Mutation::Length(at, v) => {
                let at = at % len;
                if at + 4 <= payload.len() {
                    payload[at..at + 4].copy_from_slice(&v.to_be_bytes());
                }
            }
        }
    }
    frame_bytes(&payload)
}

fn frame_bytes(payload: &[u8]) -> Vec<u8> {
    support::frame(payload).to_vec()
}

/// Sends one mutated request and reads whatever comes back until the broker answers or
/// closes. A request that parks (a fetch told to wait long) is simply abandoned.
fn throw(cluster: &Cluster, bytes: &[u8]) {
    let mut stream = std::net::TcpStream::connect(broker_addr(cluster, leader(cluster, "t", 0)))
        .expect("broker accepts connections");
    stream
        .set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    use std::io::Write;
    if stream.write_all(bytes).is_err() {
        return;
    }
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
}

/// Set by a panic on any thread: a broker task that panics is caught by tokio and would go
/// unnoticed by the connection-level checks.
static PANICKED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn watch_for_panics() {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICKED.store(true, std::sync::atomic::Ordering::SeqCst);
            default(info);
        }));
    });
}

fn still_serving(cluster: &Cluster) {
    assert!(
        !PANICKED.load(std::sync::atomic::Ordering::SeqCst),
        "a broker thread panicked (see the output above)"
    );
    for broker in cluster.brokers() {
        let versions = Conn::to_broker(cluster, broker.id).send(3, &ApiVersionsRequest::default());
        assert_eq!(
            versions.error_code, 0,
            "broker {} after a mutated request",
            broker.id
        );
    }
    let records = cluster.partition_records("t", 0);
    assert_eq!(
        records.first().and_then(|r| r.value_str()),
        Some("acknowledged")
    );
}

/// The cases drawn: `PROPTEST_CASES` (default 64) from `MUTATED_REQUESTS_SEED` (default
/// fixed, so every run throws the same requests; `random` draws one and prints it).
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64);
    let seed = match std::env::var("MUTATED_REQUESTS_SEED").as_deref() {
        Ok("random") => {
            let seed = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            eprintln!("MUTATED_REQUESTS_SEED={seed}");
            seed
        }
        Ok(s) => s
            .parse()
            .expect("MUTATED_REQUESTS_SEED is a number or `random`"),
        Err(_) => 0x6d75_7461_7465,
    };
    ProptestConfig {
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..ProptestConfig::with_cases(cases)
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn mutated_requests_never_take_the_broker_down(
        kind in any::<u8>(),
        version_pick in any::<u8>(),
        codec_pick in any::<u8>(),
        mutations in proptest::collection::vec(mutation(), 1..4),
    ) {
        watch_for_panics();
        let cluster = Cluster::builder().brokers(2).topic("t", 1).start().unwrap();
        produce(&cluster, "t", 0, batch_of(&["acknowledged"]));
        let group = group_coordinated_by(&cluster, leader(&cluster, "t", 0));
        let frame = template(kind, version_pick, codec_pick, &group);
        throw(&cluster, &mutate(&frame, &mutations));
        still_serving(&cluster);
    }
}
