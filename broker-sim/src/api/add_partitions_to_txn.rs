//! AddPartitionsToTxn (key 24), v0–5.
//!
//! Adds partitions to a producer's transaction at its transaction coordinator
//! (`state::transactions`). v0–3 are the client's form: one transaction, answered per
//! partition. Partitions of unknown topics are UNKNOWN_TOPIC_OR_PARTITION and then every
//! other partition OPERATION_NOT_ATTEMPTED, without asking the coordinator; a
//! coordinator's refusal (NOT_COORDINATOR, PRODUCER_FENCED, CONCURRENT_TRANSACTIONS, …)
//! goes on every partition. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
//!
//! v4–5 are the brokers' form (KIP-890): several transactions in one request, each
//! answered on its own, with `verify_only` asking whether partitions are already in the
//! transaction (TRANSACTION_ABORTABLE for those that are not) instead of adding them. A
//! v4+ add puts the transaction on transaction version 2. Kafka lets only brokers
//! (CLUSTER_ACTION) send v4+; broker-sim has no authorizer and serves anyone.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::add_partitions_to_txn_request::{
    AddPartitionsToTxnTopic, AddPartitionsToTxnTransaction,
};
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{AddPartitionsToTxnRequest, AddPartitionsToTxnResponse};

use crate::state::acls::{Operation, ResourceType};
use super::init_producer_id::fenced_before;
use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::error::KafkaError;
use crate::state::transactions::Caller;

fn serve(ctx: &Ctx<'_>, request: AddPartitionsToTxnRequest) -> AddPartitionsToTxnResponse {
    if ctx.version < 4 {
        let txn = AddPartitionsToTxnTransaction::default()
            .with_transactional_id(request.v3_and_below_transactional_id)
            .with_producer_id(request.v3_and_below_producer_id)
            .with_producer_epoch(request.v3_and_below_producer_epoch)
            .with_topics(request.v3_and_below_topics);
        let result = add(ctx, &txn);
        return AddPartitionsToTxnResponse::default()
            .with_results_by_topic_v3_and_below(result.topic_results);
    }
    let results = request
        .transactions
        .iter()
        .map(|txn| add(ctx, txn))
        .collect();
    AddPartitionsToTxnResponse::default().with_results_by_transaction(results)
}

/// One transaction's answer.
fn add(ctx: &Ctx<'_>, txn: &AddPartitionsToTxnTransaction) -> AddPartitionsToTxnResult {
    let id = txn.transactional_id.to_string();
    let partitions: Vec<(String, i32)> = txn
        .topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(|p| (t.name.to_string(), *p)))
        .collect();
    let codes: Vec<i16> = if id.is_empty() {
        vec![ResponseError::InvalidRequest.code(); partitions.len()]
    } else {
        let known: Vec<bool> = {
            let state = ctx.shared.read();
            partitions
                .iter()
                .map(|(t, p)| state.has_partition(t, *p))
                .collect()
        };
        if known.contains(&false) {
            known
                .iter()
                .map(|k| {
                    if *k {
                        ResponseError::OperationNotAttempted.code()
                    } else {
                        ResponseError::UnknownTopicOrPartition.code()
                    }
                })
                .collect()
        } else {
            run(ctx, &id, txn, &partitions)
        }
    };
    let mut codes = codes.into_iter();
    let topic_results = txn
        .topics
        .iter()
        .map(|t| {
            let results = t
                .partitions
                .iter()
                .map(|p| {
                    AddPartitionsToTxnPartitionResult::default()
                        .with_partition_index(*p)
                        .with_partition_error_code(codes.next().unwrap_or_default())
                })
                .collect();
            AddPartitionsToTxnTopicResult::default()
                .with_name(t.name.clone())
                .with_results_by_partition(results)
        })
        .collect();
    AddPartitionsToTxnResult::default()
        .with_transactional_id(txn.transactional_id.clone())
        .with_topic_results(topic_results)
}

/// The coordinator's answer for every partition of one transaction.
fn run(
    ctx: &Ctx<'_>,
    id: &str,
    txn: &AddPartitionsToTxnTransaction,
    partitions: &[(String, i32)],
) -> Vec<i16> {
    let caller = Caller {
        id,
        producer_id: txn.producer_id.0,
        epoch: txn.producer_epoch,
    };
    let code = |e: &KafkaError| fenced_before(ctx.version, 2, e.code).code();
    if txn.verify_only {
        let result = ctx.coordinated_read(id, |state, _| {
            Ok(partitions
                .iter()
                .map(|p| match state.verify_in_transaction(caller, p) {
                    Ok(()) => 0,
                    Err(e) => code(&e),
                })
                .collect::<Vec<i16>>())
        });
        return result.unwrap_or_else(|e| vec![code(&e); partitions.len()]);
    }
    let version = if ctx.version >= 4 { 2 } else { 0 };
    let result = ctx.coordinated(id, |state, now| {
        state.add_to_transaction(caller, partitions, None, version, now)
    });
    vec![result.as_ref().err().map_or(0, code); partitions.len()]
}

pub(crate) struct AddPartitionsToTxn;

impl Api for AddPartitionsToTxn {
    const KEY: ApiKey = ApiKey::AddPartitionsToTxn;
    const VERSIONS: (i16, i16) = (0, 5);
    type Request = AddPartitionsToTxnRequest;
    type Response = AddPartitionsToTxnResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(
        ctx: &Ctx<'_>,
        request: AddPartitionsToTxnRequest,
    ) -> Reply<AddPartitionsToTxnResponse> {
        if let Some(answer) = refused(ctx, &request) {
            return Reply::Response(answer);
        }
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &AddPartitionsToTxnRequest) -> Names {
        let topics = request
            .v3_and_below_topics
            .iter()
            .chain(request.transactions.iter().flat_map(|t| t.topics.iter()));
        let mut names =
            Names::partitions(topics.map(|t| (t.name.to_string(), t.partitions.clone())));
        if request.transactions.is_empty() {
            names.transactional_ids = vec![request.v3_and_below_transactional_id.to_string()];
        } else {
            names.transactional_ids = request
                .transactions
                .iter()
                .map(|t| t.transactional_id.to_string())
                .collect();
        }
        names
    }

    /// Every partition answered with `code` (v0–3); from v4 the top-level error code.
    fn error_response(
        request: &AddPartitionsToTxnRequest,
        version: i16,
        code: ResponseError,
    ) -> AddPartitionsToTxnResponse {
        if version >= 4 {
            return AddPartitionsToTxnResponse::default().with_error_code(code.code());
        }
        AddPartitionsToTxnResponse::default()
            .with_results_by_topic_v3_and_below(every_partition(&request.v3_and_below_topics, code))
    }

    fn set_throttle(response: &mut AddPartitionsToTxnResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &AddPartitionsToTxnResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for results_by_transaction_item in &answer.results_by_transaction {
            for topic_result in &results_by_transaction_item.topic_results {
                for results_by_partition_item in &topic_result.results_by_partition {
                    log.error(results_by_partition_item.partition_error_code);
                }
            }
        }
        for results_by_topic_v3_and_below_item in &answer.results_by_topic_v3_and_below {
            for results_by_partition_item in &results_by_topic_v3_and_below_item.results_by_partition {
                log.error(results_by_partition_item.partition_error_code);
            }
        }
    }
}

/// Kafka's authorization: from v4 (brokers' batched verification) CLUSTER_ACTION on the
/// cluster; before, WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED
/// on every partition) and on every topic: the unauthorized partitions answer
/// TOPIC_AUTHORIZATION_FAILED, the others OPERATION_NOT_ATTEMPTED, and nothing is added.
fn refused(ctx: &Ctx<'_>, request: &AddPartitionsToTxnRequest) -> Option<AddPartitionsToTxnResponse> {
    let v = ctx.version;
    let state = ctx.shared.read();
    if v >= 4 {
        return (!ctx.allowed_on_cluster(&state, Operation::ClusterAction)).then(|| {
            AddPartitionsToTxn::error_response(request, v, ResponseError::ClusterAuthorizationFailed)
        });
    }
    let id = &request.v3_and_below_transactional_id;
    if !ctx.allowed(&state, ResourceType::TransactionalId, id, Operation::Write) {
        return Some(AddPartitionsToTxn::error_response(
            request,
            v,
            ResponseError::TransactionalIdAuthorizationFailed,
        ));
    }
    let denied = |t: &AddPartitionsToTxnTopic| {
        !ctx.allowed(&state, ResourceType::Topic, &t.name, Operation::Write)
    };
    if !request.v3_and_below_topics.iter().any(denied) {
        return None;
    }
    let results = request
        .v3_and_below_topics
        .iter()
        .map(|t| {
            let code = if denied(t) {
                ResponseError::TopicAuthorizationFailed
            } else {
                ResponseError::OperationNotAttempted
            };
            every_partition(std::slice::from_ref(t), code)
                .into_iter()
                .next()
                .unwrap_or_default()
        })
        .collect();
    Some(AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(results))
}

fn every_partition(
    topics: &[AddPartitionsToTxnTopic],
    code: ResponseError,
) -> Vec<AddPartitionsToTxnTopicResult> {
    topics
        .iter()
        .map(|t| {
            AddPartitionsToTxnTopicResult::default()
                .with_name(t.name.clone())
                .with_results_by_partition(
                    t.partitions
                        .iter()
                        .map(|p| {
                            AddPartitionsToTxnPartitionResult::default()
                                .with_partition_index(*p)
                                .with_partition_error_code(code.code())
                        })
                        .collect(),
                )
        })
        .collect()
}
