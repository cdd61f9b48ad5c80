//! librdkafka over TLS: an SSL listener with the certificates the cluster generated (the
//! client trusts `Cluster::tls_ca_pem`, and checks the broker's name as librdkafka does
//! by default), SASL/SCRAM over SASL_SSL, and mutual TLS where the broker requires a
//! client certificate: one the cluster signed gets in, none is refused.

use std::time::Duration;

use broker_sim::{ClientAuth, Cluster, Listener, SecurityProtocol, TlsConfig};
use client_tests::{
    DEADLINE, ErrorLog, assign_from_beginning, consume, consumer_config, init_tracing,
    producer_config, send, wait_until,
};
use rdkafka::consumer::StreamConsumer;
use rdkafka::producer::{BaseProducer, FutureProducer, FutureRecord, Producer};
use rdkafka::{ClientConfig, Message};

const TOPIC: &str = "private";

fn trusting(mut config: ClientConfig, cluster: &Cluster, protocol: &str) -> ClientConfig {
    config
        .set("security.protocol", protocol)
        .set("ssl.ca.pem", cluster.tls_ca_pem().expect("generated CA"));
    config
}

async fn round_trip(cluster: &Cluster, configure: impl Fn(ClientConfig) -> ClientConfig) {
    let bootstrap = cluster.bootstrap_servers();
    let producer: FutureProducer = configure(producer_config(&bootstrap))
        .create()
        .expect("producer");
    let (_, offset) = send(
        &producer,
        FutureRecord::<(), _>::to(TOPIC).payload("over TLS"),
    )
    .await;
    let consumer: StreamConsumer = configure(consumer_config(&bootstrap))
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, TOPIC, 1);
    let got = consume(&consumer, offset as usize + 1, DEADLINE).await;
    assert_eq!(got.last().unwrap().payload(), Some(&b"over TLS"[..]));
}

#[tokio::test]
async fn a_client_trusting_the_generated_ca_produces_and_consumes_over_ssl() {
    init_tracing();
    let cluster = Cluster::builder()
        .listener(Listener::new(SecurityProtocol::Ssl))
        .topic(TOPIC, 1)
        .start()
        .unwrap();
    round_trip(&cluster, |c| trusting(c, &cluster, "SSL")).await;
}

#[tokio::test]
async fn scram_logs_in_over_sasl_ssl() {
    init_tracing();
    let cluster = Cluster::builder()
        .listener(Listener::new(SecurityProtocol::SaslSsl))
        .sasl_user("alice", "alice-secret")
        .topic(TOPIC, 1)
        .start()
        .unwrap();
    round_trip(&cluster, |c| {
        let mut c = trusting(c, &cluster, "SASL_SSL");
        c.set("sasl.mechanism", "SCRAM-SHA-256")
            .set("sasl.username", "alice")
            .set("sasl.password", "alice-secret");
        c
    })
    .await;
}

#[tokio::test]
async fn mutual_tls_admits_a_certificate_the_cluster_signed_and_refuses_none() {
    init_tracing();
    let cluster = Cluster::builder()
        .listener(Listener::new(SecurityProtocol::Ssl))
        .tls(TlsConfig::default().client_auth(ClientAuth::Required))
        .topic(TOPIC, 1)
        .start()
        .unwrap();
    let (certificate, key) = cluster.tls_client_certificate("orders-service").unwrap();
    round_trip(&cluster, |c| {
        let mut c = trusting(c, &cluster, "SSL");
        c.set("ssl.certificate.pem", &certificate)
            .set("ssl.key.pem", &key);
        c
    })
    .await;

    let errors = ErrorLog::default();
    let anonymous: BaseProducer<ErrorLog> = trusting(
        producer_config(&cluster.bootstrap_servers()),
        &cluster,
        "SSL",
    )
    .create_with_context(errors.clone())
    .expect("producer");
    assert!(
        anonymous
            .client()
            .fetch_metadata(Some(TOPIC), Duration::from_secs(2))
            .is_err(),
        "no certificate, no metadata"
    );
    wait_until(DEADLINE, "a transport error", || {
        anonymous.poll(Duration::ZERO);
        !errors.seen().is_empty()
    })
    .await;
}
