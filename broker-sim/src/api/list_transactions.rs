//! ListTransactions (key 66), v0–2.
//!
//! The transactional ids this broker coordinates (`kafka-transactions.sh list`), with
//! their producer id and state, in id order. Filters, all of which must match: states
//! by name (unknown names are echoed in `unknown_state_filters` and match nothing),
//! producer ids, (v1+) a duration — only transactions running longer than it — and (v2+,
//! KIP-1152) a regular expression the whole id must match, INVALID_REGULAR_EXPRESSION
//! when it does not compile. Dead ids are never listed. Kafka's patterns are RE2/J; the
//! `regex` crate has the same syntax for what either accepts.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::list_transactions_response::TransactionState;
use kafka_protocol::messages::{ListTransactionsRequest, ListTransactionsResponse};

use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::state::transactions::TxnState;

fn serve(ctx: &Ctx<'_>, request: ListTransactionsRequest) -> ListTransactionsResponse {
    let pattern = match request.transactional_id_pattern.as_deref() {
        None | Some("") => None,
        Some(p) => match regex::Regex::new(&format!("^(?:{p})$")) {
            Ok(re) => Some(re),
            Err(e) => {
                tracing::debug!(pattern = %p, error = %e, "ListTransactions pattern refused");
                return ListTransactionsResponse::default()
                    .with_error_code(ResponseError::InvalidRegularExpression.code());
            }
        },
    };
    let mut states = Vec::new();
    let mut unknown = Vec::new();
    for name in &request.state_filters {
        match TxnState::ALL.iter().find(|s| s.name() == &**name) {
            Some(s) => states.push(*s),
            None => unknown.push(name.clone()),
        }
    }
    let now = ctx.shared.clock.now_ms();
    let state = ctx.shared.read();
    let listed = state
        .transactions()
        .iter()
        // Only the ids the requester may describe, as Kafka lists them.
        .filter(|t| {
            ctx.allowed(
                &state,
                crate::state::acls::ResourceType::TransactionalId,
                &t.transactional_id,
                crate::state::acls::Operation::Describe,
            )
        })
        .filter(|t| {
            t.state != TxnState::Dead
                && state.is_coordinator(&t.transactional_id, ctx.broker_id)
                && (request.state_filters.is_empty() || states.contains(&t.state))
                && (request.producer_id_filters.is_empty()
                    || request.producer_id_filters.iter().any(|p| p.0 == t.producer_id))
                && (request.duration_filter < 0
                    || now.saturating_sub(t.start_ms) > request.duration_filter)
                && pattern.as_ref().is_none_or(|re| re.is_match(&t.transactional_id))
        })
        .map(|t| {
            TransactionState::default()
                .with_transactional_id(str_bytes(t.transactional_id.clone()).into())
                .with_producer_id(t.producer_id.into())
                .with_transaction_state(str_bytes(t.state.name()))
        })
        .collect();
    ListTransactionsResponse::default()
        .with_unknown_state_filters(unknown)
        .with_transaction_states(listed)
}

pub(crate) struct ListTransactions;

impl Api for ListTransactions {
    const KEY: ApiKey = ApiKey::ListTransactions;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = ListTransactionsRequest;
    type Response = ListTransactionsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: ListTransactionsRequest) -> Reply<ListTransactionsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &ListTransactionsRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &ListTransactionsRequest, _: i16, code: ResponseError) -> ListTransactionsResponse {
        ListTransactionsResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut ListTransactionsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ListTransactionsResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
