//! librdkafka over a SASL_PLAINTEXT listener: a producer and a consumer log in with each
//! mechanism broker-sim offers (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER with an
//! unsecured token), write and read back; a wrong password is reported to the client as
//! Kafka reports it. Re-authentication (KIP-368) is covered over the wire in
//! broker-sim/tests/sasl.rs.

use std::time::Duration;

use broker_sim::{Cluster, Listener, SecurityProtocol};
use client_tests::{
    DEADLINE, ErrorLog, assign_from_beginning, consume, consumer_config, init_tracing,
    producer_config, send, wait_until,
};
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::StreamConsumer;
use rdkafka::producer::{BaseProducer, FutureProducer, FutureRecord, Producer};

const TOPIC: &str = "secured";

fn sasl_cluster() -> Cluster {
    Cluster::builder()
        .brokers(3)
        .listener(Listener::new(SecurityProtocol::SaslPlaintext))
        .sasl_user("alice", "alice-secret")
        .topic(TOPIC, 1)
        .start()
        .unwrap()
}

fn with_login(mut config: ClientConfig, mechanism: &str, password: &str) -> ClientConfig {
    config
        .set("security.protocol", "SASL_PLAINTEXT")
        .set("sasl.mechanism", mechanism);
    if mechanism == "OAUTHBEARER" {
        config
            .set("enable.sasl.oauthbearer.unsecure.jwt", "true")
            .set(
                "sasl.oauthbearer.config",
                "principal=alice lifeSeconds=3600",
            );
    } else {
        config
            .set("sasl.username", "alice")
            .set("sasl.password", password);
    }
    config
}

async fn round_trip(cluster: &Cluster, mechanism: &str) {
    let bootstrap = cluster.bootstrap_servers();
    let producer: FutureProducer =
        with_login(producer_config(&bootstrap), mechanism, "alice-secret")
            .create()
            .expect("producer");
    let value = format!("written with {mechanism}");
    let record = FutureRecord::<(), _>::to(TOPIC).payload(&value);
    let (partition, offset) = send(&producer, record).await;
    assert_eq!(partition, 0);
    let consumer: StreamConsumer =
        with_login(consumer_config(&bootstrap), mechanism, "alice-secret")
            .create()
            .expect("consumer");
    assign_from_beginning(&consumer, TOPIC, 1);
    let got = consume(&consumer, offset as usize + 1, DEADLINE).await;
    let last = got.last().expect("records");
    assert_eq!(last.payload(), Some(value.as_bytes()), "{mechanism}");
}

#[tokio::test]
async fn each_sasl_mechanism_logs_in_produces_and_consumes() {
    init_tracing();
    let cluster = sasl_cluster();
    for mechanism in ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] {
        round_trip(&cluster, mechanism).await;
    }
    assert_eq!(cluster.records(TOPIC).len(), 4);
}

#[tokio::test]
async fn a_wrong_password_is_an_authentication_error_for_the_client() {
    init_tracing();
    let cluster = sasl_cluster();
    for mechanism in ["PLAIN", "SCRAM-SHA-256"] {
        let errors = ErrorLog::default();
        let producer: BaseProducer<ErrorLog> = with_login(
            producer_config(&cluster.bootstrap_servers()),
            mechanism,
            "wrong",
        )
        .create_with_context(errors.clone())
        .expect("producer");
        // Metadata needs a connection: its authentication fails.
        let metadata = producer
            .client()
            .fetch_metadata(Some(TOPIC), Duration::from_secs(2));
        assert!(
            metadata.is_err(),
            "{mechanism}: no metadata without logging in"
        );
        wait_until(DEADLINE, "an authentication error", || {
            producer.poll(Duration::ZERO);
            errors
                .seen()
                .iter()
                .any(|e| e.contains("Authentication failed"))
        })
        .await;
        let seen = errors.seen();
        assert!(
            seen.iter().any(|e| e.contains("SASL authentication error")),
            "{mechanism}: {seen:?}"
        );
    }
}
