//! Client quotas over the wire, on a manual clock so every rate is exact: a produce that
//! takes its client over `producer_byte_rate` is answered with Kafka's throttle time; a
//! fetch is cut to what `consumer_byte_rate` allows in its window, and one that would
//! take the client over is answered empty with a throttle time until the window passes;
//! quotas are found at Kafka's levels (client id, default user) and removed.

mod support;

use std::time::Duration;

use broker_sim::Cluster;
use kafka_protocol::messages::alter_client_quotas_request::{EntityData, EntryData, OpData};
use kafka_protocol::messages::{AlterClientQuotasRequest, FetchResponse, ProduceResponse};
use support::*;

const T0: i64 = 1_800_000_000_000;

/// Sets (or, with `None`, removes) `key` on the entity, over the wire.
fn set_quota(cluster: &Cluster, entity: &[(&str, Option<&str>)], key: &str, value: Option<f64>) {
    let request = AlterClientQuotasRequest::default().with_entries(vec![
        EntryData::default()
            .with_entity(
                entity
                    .iter()
                    .map(|(t, n)| {
                        EntityData::default()
                            .with_entity_type(str_bytes(t))
                            .with_entity_name(n.map(str_bytes))
                    })
                    .collect(),
            )
            .with_ops(vec![
                OpData::default()
                    .with_key(str_bytes(key))
                    .with_value(value.unwrap_or(0.0))
                    .with_remove(value.is_none()),
            ]),
    ]);
    let response = Conn::to_broker(cluster, 1).send(1, &request);
    assert_eq!(response.entries[0].error_code, 0, "{response:?}");
}

/// A batch of one record of `size` bytes, stamped with the cluster's time (so
/// retention keeps it).
fn batch_of_size(size: usize) -> bytes::Bytes {
    batch_with_timestamps(&[(&"x".repeat(size), T0)])
}

/// Produces `records` on a connection of its own (a throttled one stays muted) and
/// returns the answer.
fn produce_once(cluster: &Cluster, records: bytes::Bytes) -> ProduceResponse {
    Conn::to_leader(cluster, "t", 0).send(9, &produce_request("t", 0, records))
}

fn fetch_once(cluster: &Cluster, offset: i64) -> FetchResponse {
    Conn::to_leader(cluster, "t", 0).send(12, &fetch_request("t", 0, offset))
}

fn cluster() -> Cluster {
    Cluster::builder()
        .brokers(1)
        .manual_clock(T0)
        .topic("t", 1)
        .start()
        .unwrap()
}

#[test]
fn a_produce_over_the_client_byte_rate_is_throttled_for_kafkas_time() {
    let cluster = cluster();
    set_quota(
        &cluster,
        &[("client-id", Some(CLIENT_ID))],
        "producer_byte_rate",
        Some(1000.0),
    );
    // 5,000 bytes over a ten-second window: 500 B/s, within the quota.
    let first = produce_once(&cluster, batch_of_size(4_800));
    assert_eq!(first.throttle_time_ms, 0);
    // Another 15,000 bytes in the same second: over the bound.
    let request_bytes = {
        let records = batch_of_size(15_000);
        let answer = produce_once(&cluster, records.clone());
        assert_eq!(
            answer.responses[0].partition_responses[0].error_code, 0,
            "still appended"
        );
        (answer.throttle_time_ms, records.len())
    };
    // The throttle is (rate - bound) / bound × window: the time until the rate, with
    // nothing more recorded, would be back at the bound.
    let (throttle, _) = request_bytes;
    assert!(
        (9_900..=10_300).contains(&throttle),
        "throttle {throttle} ms for about 20 KB over ten seconds (2,000 B/s) at 1,000 B/s"
    );
    // Eleven seconds later the samples have expired.
    cluster.advance(Duration::from_secs(11));
    assert_eq!(
        produce_once(&cluster, batch_of_size(100)).throttle_time_ms,
        0
    );

    // Removed, the quota no longer applies.
    set_quota(
        &cluster,
        &[("client-id", Some(CLIENT_ID))],
        "producer_byte_rate",
        None,
    );
    assert_eq!(
        produce_once(&cluster, batch_of_size(50_000)).throttle_time_ms,
        0
    );
}

#[test]
fn a_fetch_is_cut_to_the_quota_window_and_answered_empty_when_over_it() {
    let cluster = cluster();
    for _ in 0..3 {
        produce_once(&cluster, batch_of_size(400));
    }
    let one = batch_of_size(400).len();
    // The default user's quota applies to every client (all are ANONYMOUS).
    let rate = (2 * one) as f64 / 10.0;
    set_quota(
        &cluster,
        &[("user", None)],
        "consumer_byte_rate",
        Some(rate),
    );

    // At most rate × 10 s = two batches per answer, within the quota.
    let first = fetch_once(&cluster, 0);
    assert_eq!(first.throttle_time_ms, 0);
    let records = first.responses[0].partitions[0].records.clone().unwrap();
    assert_eq!(complete_batches(&records).len(), 2);

    // The third batch would take the client over: an empty answer and a throttle.
    let second = fetch_once(&cluster, 2);
    assert!(second.throttle_time_ms > 0, "{second:?}");
    assert!(
        second.responses.is_empty(),
        "a throttled fetch is answered empty"
    );

    // Once the window has passed, the batch comes.
    cluster.advance(Duration::from_secs(11));
    let third = fetch_once(&cluster, 2);
    assert_eq!(third.throttle_time_ms, 0);
    let records = third.responses[0].partitions[0].records.clone().unwrap();
    assert_eq!(complete_batches(&records).len(), 1);
}
