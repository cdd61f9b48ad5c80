//! DescribeTransactions (key 65), v0.
//!
//! What the transaction coordinator knows of each transactional id
//! (`kafka-transactions.sh describe`): state, timeout, start time, producer id and epoch,
//! and the partitions in the transaction (a group's offsets show as its
//! `__consumer_offsets` partition, as in Kafka). Per id, in Kafka's order: an empty id is
//! INVALID_REQUEST, an id this broker does not coordinate NOT_COORDINATOR, an unknown one
//! TRANSACTIONAL_ID_NOT_FOUND.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_transactions_response::{TopicData, TransactionState};
use kafka_protocol::messages::{DescribeTransactionsRequest, DescribeTransactionsResponse};

use crate::state::acls::{Operation, ResourceType};
use super::{Api, Ctx, Names, Reply, str_bytes, topic_name, Access, LogDetails};
use crate::error::KafkaError;
use crate::state::transactions::Transaction;
use crate::state::coordinator_partition;

/// Kafka's internal topic for committed offsets, where a transaction's group offsets go.
pub(crate) const CONSUMER_OFFSETS: &str = "__consumer_offsets";

/// The transaction's topics the requester may describe (Kafka drops the others).
fn describable(ctx: &Ctx<'_>, topics: Vec<TopicData>) -> Vec<TopicData> {
    let state = ctx.shared.read();
    topics
        .into_iter()
        .filter(|t| ctx.allowed(&state, ResourceType::Topic, &t.topic, Operation::Describe))
        .collect()
}

fn serve(ctx: &Ctx<'_>, request: DescribeTransactionsRequest) -> DescribeTransactionsResponse {
    let states = request
        .transactional_ids
        .into_iter()
        .map(|id| {
            // An id that cannot be described has every other field at its default (0, ""),
            // as in Kafka.
            let answer = TransactionState::default().with_transactional_id(id.clone());
            let allowed = {
                let state = ctx.shared.read();
                ctx.allowed(&state, ResourceType::TransactionalId, &id, Operation::Describe)
            };
            if !allowed {
                return answer
                    .with_error_code(ResponseError::TransactionalIdAuthorizationFailed.code());
            }
            if id.is_empty() {
                return answer.with_error_code(ResponseError::InvalidRequest.code());
            }
            let found = ctx.coordinated_read(&id, |state, _| {
                state.transactions().get(&id).cloned().ok_or_else(|| {
                    KafkaError::from(ResponseError::TransactionalIdNotFound)
                })
            });
            match found {
                Err(e) => answer.with_error_code(e.code()),
                Ok(t) => answer
                    .with_transaction_state(str_bytes(t.state.name()))
                    .with_transaction_timeout_ms(t.timeout_ms)
                    .with_transaction_start_time_ms(t.start_ms)
                    .with_producer_id(t.producer_id.into())
                    .with_producer_epoch(t.producer_epoch)
                    .with_topics(describable(ctx, topics(&t))),
            }
        })
        .collect();
    DescribeTransactionsResponse::default().with_transaction_states(states)
}

/// The transaction's partitions by topic, in name order, its groups' offsets as
/// `__consumer_offsets` partitions.
fn topics(t: &Transaction) -> Vec<TopicData> {
    let mut by_topic: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for (topic, partition) in &t.partitions {
        by_topic.entry(topic).or_default().push(*partition);
    }
    for group in &t.groups {
        by_topic
            .entry(CONSUMER_OFFSETS)
            .or_default()
            .push(coordinator_partition(group));
    }
    by_topic
        .into_iter()
        .map(|(topic, mut partitions)| {
            partitions.sort_unstable();
            partitions.dedup();
            TopicData::default()
                .with_topic(topic_name(topic))
                .with_partitions(partitions)
        })
        .collect()
}

pub(crate) struct DescribeTransactions;

impl Api for DescribeTransactions {
    const KEY: ApiKey = ApiKey::DescribeTransactions;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = DescribeTransactionsRequest;
    type Response = DescribeTransactionsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(
        ctx: &Ctx<'_>,
        request: DescribeTransactionsRequest,
    ) -> Reply<DescribeTransactionsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &DescribeTransactionsRequest) -> Names {
        Names {
            transactional_ids: request
                .transactional_ids
                .iter()
                .map(|t| t.to_string())
                .collect(),
            ..Names::default()
        }
    }

    fn error_response(
        request: &DescribeTransactionsRequest,
        _: i16,
        code: ResponseError,
    ) -> DescribeTransactionsResponse {
        let states = request
            .transactional_ids
            .iter()
            .map(|id| {
                TransactionState::default()
                    .with_transactional_id(id.clone())
                    .with_error_code(code.code())
            })
            .collect();
        DescribeTransactionsResponse::default().with_transaction_states(states)
    }

    fn set_throttle(response: &mut DescribeTransactionsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeTransactionsResponse, log: &mut LogDetails) {
        for transaction_state in &answer.transaction_states {
            log.error(transaction_state.error_code);
        }
    }
}
