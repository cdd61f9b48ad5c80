//! Client telemetry (KIP-714) from librdkafka: with a metrics subscription in place, an
//! rdkafka producer pushes its own metrics, which the cluster decodes and shows per
//! client instance.

use broker_sim::Cluster;
use client_tests::{DEADLINE, init_tracing, producer_config, wait_for_ok};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;

#[tokio::test]
async fn a_subscribed_rdkafka_producer_pushes_its_metrics() {
    init_tracing();
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    cluster
        .subscribe_client_metrics("all", &["org.apache.kafka.producer."], 500)
        .unwrap();
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("client.id", "telemetry-producer")
        .create()
        .expect("producer");
    producer
        .send(FutureRecord::<(), _>::to("t").payload("v"), Timeout::Never)
        .await
        .expect("delivered");

    let pushed: Vec<String> = wait_for_ok(DEADLINE, "the producer pushes its metrics", || {
        let pushed: Vec<String> = cluster
            .client_metrics()
            .into_iter()
            .filter(|c| c.client_id == "telemetry-producer" && c.pushes > 0)
            .flat_map(|c| c.metrics.into_keys().map(|(name, _)| name))
            .collect();
        if pushed.is_empty() {
            Err(format!("clients so far: {:?}", cluster.client_metrics()))
        } else {
            Ok(pushed)
        }
    })
    .await;
    assert!(
        pushed
            .iter()
            .all(|n| n.starts_with("org.apache.kafka.producer.")),
        "only subscribed metrics are pushed: {pushed:?}"
    );
}
