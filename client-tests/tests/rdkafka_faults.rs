//! Fault rules observed from librdkafka: what a producer and a consumer do when the
//! broker refuses, loses an answer, or never answers.

use std::time::Duration;

use broker_sim::{ApiKey, Cluster, Fault, ResponseError};
use client_tests::{assign_from_beginning, consume, consumer_config, producer_config, send};
use rdkafka::consumer::StreamConsumer;
use rdkafka::producer::{FutureProducer, FutureRecord};

fn values(cluster: &Cluster, topic: &str) -> Vec<String> {
    cluster
        .records(topic)
        .iter()
        .map(|r| r.value_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test]
async fn an_injected_not_leader_is_retried_by_the_producer_and_lands_once() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .topic("t")
                .error(ResponseError::NotLeaderOrFollower)
                .times(3),
        )
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("retry.backoff.ms", "10")
        .create()
        .unwrap();
    send(&producer, FutureRecord::to("t").key("k").payload("v")).await;
    assert_eq!(cluster.fault_hits(id), Some(3));
    assert_eq!(values(&cluster, "t"), ["v"]);
}

#[tokio::test]
async fn apply_then_fail_with_an_idempotent_producer_does_not_duplicate() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let id = cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .apply_then_error(ResponseError::RequestTimedOut)
                .once(),
        )
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("enable.idempotence", "true")
        .set("retry.backoff.ms", "10")
        .create()
        .unwrap();
    for i in 0..5 {
        send(
            &producer,
            FutureRecord::to("t").key("k").payload(&format!("v{i}")),
        )
        .await;
    }
    assert_eq!(cluster.fault_hits(id), Some(1));
    assert_eq!(values(&cluster, "t"), ["v0", "v1", "v2", "v3", "v4"]);
}

#[tokio::test]
async fn apply_then_fail_without_idempotence_writes_a_duplicate_as_kafka_would() {
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .apply_then_error(ResponseError::RequestTimedOut)
                .once(),
        )
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("enable.idempotence", "false")
        .set("retry.backoff.ms", "10")
        .create()
        .unwrap();
    send(&producer, FutureRecord::to("t").key("k").payload("once")).await;
    assert_eq!(
        values(&cluster, "t"),
        ["once", "once"],
        "at-least-once delivery"
    );
}

#[tokio::test]
async fn a_hung_fetch_times_out_and_the_consumer_recovers() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    for i in 0..10 {
        cluster
            .produce("t", None, format!("r{i}").as_bytes())
            .unwrap();
    }
    let id = cluster
        .inject(Fault::on(ApiKey::Fetch).no_response().once())
        .unwrap();
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .set("socket.timeout.ms", "1000")
        .create()
        .unwrap();
    assign_from_beginning(&consumer, "t", 1);
    let messages = consume(&consumer, 10, Duration::from_secs(30)).await;
    assert_eq!(messages.len(), 10);
    assert_eq!(cluster.fault_hits(id), Some(1));
}
