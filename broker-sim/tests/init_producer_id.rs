//! InitProducerId and FindCoordinator over the wire.
//!
//! Kafka's transaction coordinator: a null transactional id gets a fresh producer id with
//! epoch 0 from any broker; an empty one is INVALID_REQUEST; a timeout above
//! `transaction.max.timeout.ms` (15 minutes) is INVALID_TRANSACTION_TIMEOUT; a named one
//! keeps its producer id and has its epoch bumped on every call, and must be sent to the
//! coordinator FindCoordinator names (NOT_COORDINATOR elsewhere).

mod support;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{
    FindCoordinatorRequest, InitProducerIdRequest, InitProducerIdResponse,
};
use support::*;

const TRANSACTION: i8 = 1;

fn init(
    cluster: &Cluster,
    broker: i32,
    transactional_id: Option<&str>,
    timeout_ms: i32,
) -> InitProducerIdResponse {
    let request = InitProducerIdRequest::default()
        .with_transactional_id(transactional_id.map(str_bytes).map(Into::into))
        .with_transaction_timeout_ms(timeout_ms);
    Conn::to_broker(cluster, broker).send(5, &request)
}

fn transaction_coordinator(cluster: &Cluster, transactional_id: &str) -> i32 {
    let request = FindCoordinatorRequest::default()
        .with_key_type(TRANSACTION)
        .with_coordinator_keys(vec![str_bytes(transactional_id)]);
    let response = Conn::to_broker(cluster, 1).send(6, &request);
    let c = &response.coordinators[0];
    assert_no_error(c.error_code, "find coordinator");
    assert_eq!(c.key.as_str(), transactional_id);
    c.node_id.0
}

#[test]
fn idempotent_producers_get_distinct_ids_with_epoch_zero_from_any_broker() {
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    let ids: Vec<i64> = (1..=3)
        .map(|broker| {
            let r = init(&cluster, broker, None, 60_000);
            assert_no_error(r.error_code, &format!("broker {broker}"));
            assert_eq!(r.producer_epoch, 0);
            r.producer_id.0
        })
        .collect();
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "{ids:?}");
}

#[test]
fn transactional_id_keeps_its_producer_id_and_bumps_the_epoch() {
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    let coordinator = transaction_coordinator(&cluster, "txn-a");
    assert_eq!(
        coordinator,
        transaction_coordinator(&cluster, "txn-a"),
        "the coordinator is stable"
    );
    let first = init(&cluster, coordinator, Some("txn-a"), 60_000);
    let second = init(&cluster, coordinator, Some("txn-a"), 60_000);
    assert_no_error(first.error_code, "first");
    assert_no_error(second.error_code, "second");
    assert_eq!(second.producer_id, first.producer_id);
    assert_eq!(second.producer_epoch, first.producer_epoch + 1);
}

#[test]
fn empty_transactional_id_is_invalid_request() {
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    let r = init(&cluster, 1, Some(""), 60_000);
    assert_error(
        r.error_code,
        ResponseError::InvalidRequest,
        "empty transactional id",
    );
}

#[test]
fn transaction_timeout_above_the_maximum_is_invalid_transaction_timeout() {
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    let r = init(&cluster, 1, Some("txn-slow"), 900_001);
    assert_error(
        r.error_code,
        ResponseError::InvalidTransactionTimeout,
        "timeout 900001 ms",
    );
}

#[test]
fn transactional_init_at_another_broker_is_not_coordinator() {
    let cluster = Cluster::builder().brokers(3).start().unwrap();
    let coordinator = transaction_coordinator(&cluster, "txn-b");
    let other = (1..=3).find(|&b| b != coordinator).unwrap();
    let r = init(&cluster, other, Some("txn-b"), 60_000);
    assert_error(
        r.error_code,
        ResponseError::NotCoordinator,
        "not the coordinator",
    );
}
