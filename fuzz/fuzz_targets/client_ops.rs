//! Requests built from fuzz-chosen field values, as clients would send them: a sequence of
//! operations (produce, idempotent and transactional; fetch; list offsets; delete records;
//! the classic group protocol; offset commits; transactions; topic creation and deletion;
//! the clock moving) over small pools of names, so that operations meet each other's state.
//! Member ids, generations and producer ids the broker hands out are remembered and reused,
//! which random bytes would never guess.
//!
//! Why not kafka-protocol structs derived with `arbitrary`: kafka-protocol 0.18 has no
//! `arbitrary` feature, and a struct of random fields names topics, groups and producers
//! that do not exist, so almost every request would stop at the first lookup. The `request`
//! target covers every API's decoder with raw bodies; this one goes deep into the stateful
//! ones.
//!
//! Oracles: every answer decodes, and no well-formed request closes the connection (but an
//! acks=0 Produce that fails, as in Kafka).
#![no_main]

use arbitrary::Arbitrary;
use broker_sim::fuzzing::{Answer, BROKERS, Harness};
use broker_sim_fuzz::{decode_answer, frame, with_fresh_cluster};
use broker_sim_protocol::batch::{
    Codec, NewRecord, encode_batch, encode_batch_with_producer, encode_transactional_batch,
};
use bytes::Bytes;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, StrBytes};
use libfuzzer_sys::fuzz_target;

const TOPICS: [&str; 5] = ["t", "compacted", "appendtime", "new-a", "new-b"];
const GROUPS: [&str; 2] = ["g0", "g1"];
const TXNS: [&str; 2] = ["x0", "x1"];

#[derive(Debug, Arbitrary)]
struct Rec {
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    timestamp_delta: i32,
}

#[derive(Debug, Arbitrary)]
enum Op {
    Produce {
        topic: u8,
        partition: i8,
        acks: u8,
        codec: u8,
        producer: u8,
        sequence: i32,
        records: Vec<Rec>,
    },
    Fetch {
        topic: u8,
        partition: i8,
        offset: i64,
        max_wait_ms: u16,
        min_bytes: u16,
        read_committed: bool,
    },
    ListOffsets {
        topic: u8,
        partition: i8,
        timestamp: i64,
        read_committed: bool,
    },
    DeleteRecords {
        topic: u8,
        partition: i8,
        offset: i64,
    },
    JoinGroup {
        group: u8,
        member: u8,
        session_timeout_ms: u16,
        rebalance_timeout_ms: u16,
    },
    SyncGroup {
        group: u8,
        member: u8,
        generation_skew: i8,
        assign: bool,
    },
    Heartbeat {
        group: u8,
        member: u8,
        generation_skew: i8,
    },
    LeaveGroup {
        group: u8,
        member: u8,
    },
    OffsetCommit {
        group: u8,
        member: u8,
        generation_skew: i8,
        topic: u8,
        partition: i8,
        offset: i64,
    },
    OffsetFetch {
        group: u8,
        require_stable: bool,
    },
    InitProducerId {
        txn: Option<u8>,
        timeout_ms: u16,
    },
    AddPartitionsToTxn {
        txn: u8,
        topic: u8,
        partition: i8,
    },
    EndTxn {
        txn: u8,
        commit: bool,
    },
    CreateTopic {
        topic: u8,
        partitions: i8,
        replication_factor: i8,
    },
    DeleteTopic {
        topic: u8,
    },
    CreatePartitions {
        topic: u8,
        count: i8,
    },
    Advance {
        ms: u16,
    },
}

/// What the broker handed out, to reuse in later requests.
#[derive(Default)]
struct Known {
    /// (group, member id, generation) of every member that joined.
    members: Vec<(usize, StrBytes, i32)>,
    /// (transactional id index or none, producer id, epoch).
    producers: Vec<(Option<usize>, i64, i16)>,
}

fuzz_target!(|ops: Vec<Op>| {
    with_fresh_cluster(|h| {
        let mut known = Known::default();
        for op in ops.into_iter().take(64) {
            run(h, &mut known, op);
        }
    });
});

fn name(s: &'static str) -> StrBytes {
    StrBytes::from_static_str(s)
}

fn topic(i: u8) -> &'static str {
    TOPICS[usize::from(i) % TOPICS.len()]
}

/// Sends a request to every broker in turn until one answers with something other than
/// NOT_LEADER_OR_FOLLOWER / NOT_COORDINATOR (the client's retry at the right broker, made
/// simple); returns the decoded answer, if it came without waiting.
fn ask<R: Encodable>(
    h: &mut Harness,
    api: ApiKey,
    version: i16,
    request: &R,
) -> Option<ResponseKind> {
    ask_or_close(h, api, version, request, false)
}

/// [`ask`], for a request the broker may answer by closing the connection: an acks=0
/// Produce that fails, which Kafka answers so (the client has no other way to learn it).
fn ask_or_close<R: Encodable>(
    h: &mut Harness,
    api: ApiKey,
    version: i16,
    request: &R,
    may_close: bool,
) -> Option<ResponseKind> {
    let frame = frame(api, version, request)?;
    let mut last = None;
    for broker in 1..=BROKERS {
        let answer = h.call(&frame, broker)?;
        if let Answer::Closed(why) = &answer {
            if may_close {
                return None;
            }
            panic!("a well-formed {api:?} v{version} closed the connection: {why}");
        }
        let decoded = decode_answer(api, version, &answer);
        let wrong_broker = format!("{decoded:?}");
        // 6 NOT_LEADER_OR_FOLLOWER, 16 NOT_COORDINATOR, as they appear in the Debug form.
        if wrong_broker.contains("error_code: 6,") || wrong_broker.contains("error_code: 16,") {
            last = decoded;
            continue;
        }
        return decoded;
    }
    last
}

fn run(h: &mut Harness, known: &mut Known, op: Op) {
    match op {
        Op::Produce {
            topic: t,
            partition,
            acks,
            codec,
            producer,
            sequence,
            records,
        } => {
            let records: Vec<NewRecord> = records
                .into_iter()
                .take(32)
                .map(|r| NewRecord {
                    timestamp: h.now_ms() + i64::from(r.timestamp_delta),
                    key: r.key.map(Bytes::from),
                    value: r.value.map(Bytes::from),
                    headers: Vec::new(),
                })
                .collect();
            let codec = [
                Codec::None,
                Codec::Gzip,
                Codec::Snappy,
                Codec::Lz4,
                Codec::Zstd,
            ][usize::from(codec) % 5];
            let chosen = known.producers.get(usize::from(producer)).copied();
            let batch = match chosen {
                None => encode_batch(&records, codec),
                Some((None, id, epoch)) => {
                    encode_batch_with_producer(&records, codec, id, epoch, sequence)
                }
                Some((Some(_), id, epoch)) => {
                    encode_transactional_batch(&records, codec, id, epoch, sequence)
                }
            };
            let Ok(batch) = batch else { return };
            let txn = chosen.and_then(|(t, ..)| t).map(|t| name(TXNS[t]));
            let acks = [-1, 1, 0][usize::from(acks) % 3];
            let request = ProduceRequest::default()
                .with_transactional_id(txn.map(TransactionalId))
                .with_acks(acks)
                .with_timeout_ms(5_000)
                .with_topic_data(vec![
                    TopicProduceData::default()
                        .with_name(TopicName(name(topic(t))))
                        .with_partition_data(vec![
                            PartitionProduceData::default()
                                .with_index(i32::from(partition))
                                .with_records(Some(batch)),
                        ]),
                ]);
            ask_or_close(h, ApiKey::Produce, 9, &request, acks == 0);
        }
        Op::Fetch {
            topic: t,
            partition,
            offset,
            max_wait_ms,
            min_bytes,
            read_committed,
        } => {
            let request = FetchRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_max_wait_ms(i32::from(max_wait_ms))
                .with_min_bytes(i32::from(min_bytes))
                .with_max_bytes(1 << 20)
                .with_isolation_level(i8::from(read_committed))
                .with_topics(vec![
                    FetchTopic::default()
                        .with_topic(TopicName(name(topic(t))))
                        .with_partitions(vec![
                            FetchPartition::default()
                                .with_partition(i32::from(partition))
                                .with_fetch_offset(offset)
                                .with_partition_max_bytes(1 << 20),
                        ]),
                ]);
            ask(h, ApiKey::Fetch, 12, &request);
        }
        Op::ListOffsets {
            topic: t,
            partition,
            timestamp,
            read_committed,
        } => {
            let request = ListOffsetsRequest::default()
                .with_replica_id(BrokerId(-1))
                .with_isolation_level(i8::from(read_committed))
                .with_topics(vec![
                    ListOffsetsTopic::default()
                        .with_name(TopicName(name(topic(t))))
                        .with_partitions(vec![
                            ListOffsetsPartition::default()
                                .with_partition_index(i32::from(partition))
                                .with_timestamp(timestamp),
                        ]),
                ]);
            ask(h, ApiKey::ListOffsets, 7, &request);
        }
        Op::DeleteRecords {
            topic: t,
            partition,
            offset,
        } => {
            let request = DeleteRecordsRequest::default()
                .with_timeout_ms(5_000)
                .with_topics(vec![
                    DeleteRecordsTopic::default()
                        .with_name(TopicName(name(topic(t))))
                        .with_partitions(vec![
                            DeleteRecordsPartition::default()
                                .with_partition_index(i32::from(partition))
                                .with_offset(offset),
                        ]),
                ]);
            ask(h, ApiKey::DeleteRecords, 2, &request);
        }
        Op::JoinGroup {
            group,
            member,
            session_timeout_ms,
            rebalance_timeout_ms,
        } => {
            let g = usize::from(group) % GROUPS.len();
            let member_id = member_of(known, g, member)
                .map(|(m, _)| m)
                .unwrap_or_default();
            let request = JoinGroupRequest::default()
                .with_group_id(GroupId(name(GROUPS[g])))
                .with_session_timeout_ms(i32::from(session_timeout_ms))
                .with_rebalance_timeout_ms(i32::from(rebalance_timeout_ms))
                .with_member_id(member_id)
                .with_protocol_type(name("consumer"))
                .with_protocols(vec![
                    JoinGroupRequestProtocol::default()
                        .with_name(name("range"))
                        .with_metadata(Bytes::from_static(b"\x00\x01")),
                ]);
            if let Some(ResponseKind::JoinGroup(r)) = ask(h, ApiKey::JoinGroup, 7, &request) {
                // MEMBER_ID_REQUIRED (79) hands out the id to join with; success, a generation.
                if (r.error_code == 0 || r.error_code == 79) && !r.member_id.is_empty() {
                    known.members.push((g, r.member_id, r.generation_id));
                }
            }
        }
        Op::SyncGroup {
            group,
            member,
            generation_skew,
            assign,
        } => {
            let g = usize::from(group) % GROUPS.len();
            let Some((member_id, generation)) = member_of(known, g, member) else {
                return;
            };
            let assignments = if assign {
                vec![
                    SyncGroupRequestAssignment::default()
                        .with_member_id(member_id.clone())
                        .with_assignment(Bytes::from_static(b"\x00\x01\x00\x00\x00\x00")),
                ]
            } else {
                Vec::new()
            };
            let request = SyncGroupRequest::default()
                .with_group_id(GroupId(name(GROUPS[g])))
                .with_generation_id(generation + i32::from(generation_skew))
                .with_member_id(member_id)
                .with_protocol_type(Some(name("consumer")))
                .with_protocol_name(Some(name("range")))
                .with_assignments(assignments);
            ask(h, ApiKey::SyncGroup, 5, &request);
        }
        Op::Heartbeat {
            group,
            member,
            generation_skew,
        } => {
            let g = usize::from(group) % GROUPS.len();
            let Some((member_id, generation)) = member_of(known, g, member) else {
                return;
            };
            let request = HeartbeatRequest::default()
                .with_group_id(GroupId(name(GROUPS[g])))
                .with_generation_id(generation + i32::from(generation_skew))
                .with_member_id(member_id);
            ask(h, ApiKey::Heartbeat, 4, &request);
        }
        Op::LeaveGroup { group, member } => {
            let g = usize::from(group) % GROUPS.len();
            let Some((member_id, _)) = member_of(known, g, member) else {
                return;
            };
            let request = LeaveGroupRequest::default()
                .with_group_id(GroupId(name(GROUPS[g])))
                .with_members(vec![
                    leave_group_request::MemberIdentity::default().with_member_id(member_id),
                ]);
            ask(h, ApiKey::LeaveGroup, 4, &request);
        }
        Op::OffsetCommit {
            group,
            member,
            generation_skew,
            topic: t,
            partition,
            offset,
        } => {
            let g = usize::from(group) % GROUPS.len();
            let (member_id, generation) = member_of(known, g, member).unwrap_or((name(""), -1));
            let request = OffsetCommitRequest::default()
                .with_group_id(GroupId(name(GROUPS[g])))
                .with_generation_id_or_member_epoch(generation + i32::from(generation_skew))
                .with_member_id(member_id)
                .with_topics(vec![
                    OffsetCommitRequestTopic::default()
                        .with_name(TopicName(name(topic(t))))
                        .with_partitions(vec![
                            OffsetCommitRequestPartition::default()
                                .with_partition_index(i32::from(partition))
                                .with_committed_offset(offset),
                        ]),
                ]);
            ask(h, ApiKey::OffsetCommit, 8, &request);
        }
        Op::OffsetFetch {
            group,
            require_stable,
        } => {
            let g = usize::from(group) % GROUPS.len();
            let request = OffsetFetchRequest::default()
                .with_group_id(GroupId(name(GROUPS[g])))
                .with_topics(None)
                .with_require_stable(require_stable);
            ask(h, ApiKey::OffsetFetch, 7, &request);
        }
        Op::InitProducerId { txn, timeout_ms } => {
            let t = txn.map(|t| usize::from(t) % TXNS.len());
            let request = InitProducerIdRequest::default()
                .with_transactional_id(t.map(|t| TransactionalId(name(TXNS[t]))))
                .with_transaction_timeout_ms(i32::from(timeout_ms))
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1);
            if let Some(ResponseKind::InitProducerId(r)) =
                ask(h, ApiKey::InitProducerId, 4, &request)
                && r.error_code == 0
            {
                known.producers.push((t, r.producer_id.0, r.producer_epoch));
            }
        }
        Op::AddPartitionsToTxn {
            txn,
            topic: t,
            partition,
        } => {
            let Some((tx, id, epoch)) = txn_producer(known, txn) else {
                return;
            };
            let request = AddPartitionsToTxnRequest::default()
                .with_v3_and_below_transactional_id(TransactionalId(name(TXNS[tx])))
                .with_v3_and_below_producer_id(ProducerId(id))
                .with_v3_and_below_producer_epoch(epoch)
                .with_v3_and_below_topics(vec![
                    AddPartitionsToTxnTopic::default()
                        .with_name(TopicName(name(topic(t))))
                        .with_partitions(vec![i32::from(partition)]),
                ]);
            ask(h, ApiKey::AddPartitionsToTxn, 3, &request);
        }
        Op::EndTxn { txn, commit } => {
            let Some((tx, id, epoch)) = txn_producer(known, txn) else {
                return;
            };
            let request = EndTxnRequest::default()
                .with_transactional_id(TransactionalId(name(TXNS[tx])))
                .with_producer_id(ProducerId(id))
                .with_producer_epoch(epoch)
                .with_committed(commit);
            ask(h, ApiKey::EndTxn, 3, &request);
        }
        Op::CreateTopic {
            topic: t,
            partitions,
            replication_factor,
        } => {
            let request = CreateTopicsRequest::default()
                .with_timeout_ms(5_000)
                .with_topics(vec![
                    CreatableTopic::default()
                        .with_name(TopicName(name(topic(t))))
                        .with_num_partitions(i32::from(partitions))
                        .with_replication_factor(i16::from(replication_factor)),
                ]);
            ask(h, ApiKey::CreateTopics, 7, &request);
        }
        Op::DeleteTopic { topic: t } => {
            let request = DeleteTopicsRequest::default()
                .with_timeout_ms(5_000)
                .with_topic_names(vec![TopicName(name(topic(t)))]);
            ask(h, ApiKey::DeleteTopics, 5, &request);
        }
        Op::CreatePartitions { topic: t, count } => {
            let request = CreatePartitionsRequest::default()
                .with_timeout_ms(5_000)
                .with_topics(vec![
                    create_partitions_request::CreatePartitionsTopic::default()
                        .with_name(TopicName(name(topic(t))))
                        .with_count(i32::from(count)),
                ]);
            ask(h, ApiKey::CreatePartitions, 3, &request);
        }
        Op::Advance { ms } => h.advance(u32::from(ms) * 10),
    }
}

/// The `pick`th member that joined group `g`: its id and generation.
fn member_of(known: &Known, g: usize, pick: u8) -> Option<(StrBytes, i32)> {
    let in_group: Vec<_> = known
        .members
        .iter()
        .filter(|(group, ..)| *group == g)
        .collect();
    let (_, id, generation) = in_group.get(usize::from(pick) % in_group.len().max(1))?;
    Some((id.clone(), *generation))
}

/// The latest producer initialised for transactional id `txn`.
fn txn_producer(known: &Known, txn: u8) -> Option<(usize, i64, i16)> {
    let t = usize::from(txn) % TXNS.len();
    known
        .producers
        .iter()
        .rev()
        .find(|(tx, ..)| *tx == Some(t))
        .map(|&(_, id, epoch)| (t, id, epoch))
}
