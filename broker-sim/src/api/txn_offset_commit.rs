//! TxnOffsetCommit (key 28), v0–5.
//!
//! Commits a group's offsets inside a producer's transaction (consume-transform-produce):
//! they wait in the group until the transaction ends (`state::groups::offsets`). Sent to
//! the group coordinator, which checks in Kafka's order: an empty group id is
//! INVALID_GROUP_ID and a broker that does not coordinate the group NOT_COORDINATOR, for
//! every partition; unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION each;
//! then the transaction is checked with its coordinator (KIP-890) and a failure goes on
//! every partition: before v5 the group's offsets must already be in the transaction
//! (AddOffsetsToTxn) — else INVALID_TXN_STATE (v0–3) or TRANSACTION_ABORTABLE (v4) — and
//! from v5 (transaction version 2) they are added here; a fenced producer is
//! INVALID_PRODUCER_EPOCH. Last come the member checks of KIP-447 (v3+: generation,
//! member id, instance id, so a zombie of an old generation cannot commit); a request
//! without member information is accepted, as from clients before KIP-447.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{TxnOffsetCommitRequest, TxnOffsetCommitResponse};

use crate::state::acls::Operation;
use super::partitioned::{by_partition, indexed, topic};
use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::error::KafkaError;
use crate::state::State;
use crate::state::transactions::Caller;
use crate::state::groups::{CommitRequest, CommittedOffset};

fn serve(ctx: &Ctx<'_>, r: TxnOffsetCommitRequest) -> TxnOffsetCommitResponse {
    let now = ctx.shared.clock.now_ms();
    let group = r.group_id.to_string();
    let request = CommitRequest {
        group_id: group.clone(),
        generation: r.generation_id,
        member_id: r.member_id.to_string(),
        instance_id: r.group_instance_id.as_ref().map(|s| s.to_string()),
        version: ctx.version,
        transactional: true,
    };
    let offsets: Vec<(String, i32, CommittedOffset)> = r
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| {
                (
                    t.name.to_string(),
                    p.partition_index,
                    CommittedOffset {
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
                        commit_timestamp: now,
                    },
                )
            })
        })
        .collect();
    let count = offsets.len();
    let results: Vec<i16> = if group.is_empty() {
        vec![ResponseError::InvalidGroupId.code(); count]
    } else {
        let txn = (r.transactional_id.to_string(), r.producer_id.0, r.producer_epoch);
        match ctx.coordinated(&group, |state, now| {
            commit(state, ctx.version, &txn, &request, offsets, now)
        }) {
            Ok(codes) => codes,
            Err(e) => vec![e.code(); count],
        }
    };
    let mut codes = results.into_iter();
    let topics = r
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    TxnOffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(codes.next().unwrap_or_default())
                })
                .collect();
            TxnOffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    TxnOffsetCommitResponse::default().with_topics(topics)
}

/// The commit at the group coordinator, once it is found: one code per partition.
fn commit(
    state: &mut State,
    version: i16,
    (id, producer_id, epoch): &(String, i64, i16),
    request: &CommitRequest,
    offsets: Vec<(String, i32, CommittedOffset)>,
    now: i64,
) -> Result<Vec<i16>, KafkaError> {
    let known = state.known_partitions(offsets.iter().map(|(t, p, _)| (t.as_str(), *p)));
    if !known.contains(&true) {
        return Ok(vec![ResponseError::UnknownTopicOrPartition.code(); offsets.len()]);
    }
    let group = &request.group_id;
    // Once the group holds offsets of this producer's open transaction, it is in the
    // transaction (Kafka's verification guard skips the coordinator then).
    let already = state
        .groups()
        .get(group)
        .is_some_and(|g| g.pending_txn_offsets.contains_key(producer_id));
    if !already {
        let caller = Caller {
            id,
            producer_id: *producer_id,
            epoch: *epoch,
        };
        let verified = if version >= 5 {
            state.add_to_transaction(caller, &[], Some(group), 2, now)
        } else {
            state.verify_offsets_in_transaction(caller, group)
        };
        if let Err(e) = verified {
            let code = match e.code {
                ResponseError::ProducerFenced => ResponseError::InvalidProducerEpoch,
                ResponseError::TransactionAbortable if version <= 3 => {
                    ResponseError::InvalidTxnState
                }
                code => code,
            };
            return Err(KafkaError::new(code, e.message));
        }
    }
    Ok(state
        .groups()
        .commit_transactional_offsets(request, *producer_id, offsets, known, now)
        .into_iter()
        .map(|r| r.err().map_or(0, |e| e.code()))
        .collect())
}

pub(crate) struct TxnOffsetCommit;

impl Api for TxnOffsetCommit {
    const KEY: ApiKey = ApiKey::TxnOffsetCommit;
    const VERSIONS: (i16, i16) = (0, 5);
    type Request = TxnOffsetCommitRequest;
    type Response = TxnOffsetCommitResponse;
    const ACCESS: Access = Access::transactional_id(Operation::Write).and_group(Operation::Read).and_topic(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: TxnOffsetCommitRequest) -> Reply<TxnOffsetCommitResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &TxnOffsetCommitRequest) -> Names {
        let mut names = Names::partitions(request.topics.iter().map(|t| {
            let partitions = t.partitions.iter().map(|p| p.partition_index).collect();
            (t.name.to_string(), partitions)
        }));
        names.groups.push(request.group_id.to_string());
        names.with_transactional_id(Some(&request.transactional_id))
    }

    fn set_throttle(response: &mut TxnOffsetCommitResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &TxnOffsetCommitResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
    }

    by_partition!(request: topics, answer: topics, entry: error_entry);
}

/// A refused partition's answer.
fn error_entry(index: i32, code: i16) -> TxnOffsetCommitResponsePartition {
    TxnOffsetCommitResponsePartition::default()
        .with_partition_index(index)
        .with_error_code(code)
}

indexed!(
    TxnOffsetCommitRequestPartition: partition_index,
    TxnOffsetCommitResponsePartition: partition_index,
);
topic!(TxnOffsetCommitRequestTopic, name, -, partitions: TxnOffsetCommitRequestPartition);
topic!(answer TxnOffsetCommitResponseTopic, name, -, partitions: TxnOffsetCommitResponsePartition);
