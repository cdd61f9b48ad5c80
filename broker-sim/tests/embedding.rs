//! What a crate embedding broker-sim gets with any choice of cargo features, the
//! embedding build (`default-features = false`) included: `.ci/run` also runs this file
//! with `--no-default-features`. A part left out must refuse clearly, never fail to build
//! or misbehave: a TLS listener stops the cluster from starting and a schema is refused,
//! each naming the feature to add; a client's telemetry push is taken and counted, its
//! metrics left unread.

mod support;

use broker_sim::{Cluster, Listener, NewSchema, SecurityProtocol};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{GetTelemetrySubscriptionsRequest, PushTelemetryRequest};
use support::Conn;

#[test]
fn a_seeded_record_reads_back_through_the_embedding_api() {
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("orders", 2)
        .start()
        .expect("cluster starts");
    let (partition, offset) = cluster
        .produce("orders", Some(b"order-1"), b"placed")
        .expect("record is appended");
    let records = cluster.records("orders");
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].partition, records[0].offset),
        (partition, offset)
    );
    assert_eq!(records[0].value_str(), Some("placed"));
}

#[test]
fn an_ssl_listener_needs_the_tls_feature() {
    let started = Cluster::builder()
        .brokers(1)
        .listener(Listener::new(SecurityProtocol::Ssl))
        .start();
    if cfg!(feature = "tls") {
        let cluster = started.expect("cluster with an SSL listener starts");
        assert!(cluster.tls_ca_pem().is_some());
    } else {
        let error = started.err().expect("no cluster without the tls feature");
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("`tls` cargo feature"), "{error}");
    }
}

#[test]
fn registering_a_schema_needs_the_registry_feature() {
    let cluster = Cluster::builder()
        .brokers(1)
        .start()
        .expect("cluster starts");
    let schema = r#"{"type":"record","name":"Order","fields":[{"name":"id","type":"int"}]}"#;
    let registered = cluster
        .schema_registry()
        .register("orders-value", NewSchema::avro(schema));
    if cfg!(feature = "registry") {
        assert_eq!(registered.expect("schema is registered"), 1);
    } else {
        let error = registered.expect_err("no schema types without the registry feature");
        assert_eq!(error.error_code, 42201);
        assert!(
            error.message.contains("`registry` cargo feature"),
            "{error}"
        );
    }
}

#[test]
fn pushed_telemetry_is_decoded_with_the_telemetry_feature_and_counted_without_it() {
    let cluster = Cluster::builder()
        .brokers(1)
        .start()
        .expect("cluster starts");
    cluster
        .subscribe_client_metrics("all", &["*"], 10_000)
        .expect("subscription is added");
    let mut conn = Conn::to_broker(&cluster, 1);
    let subscription = conn.send(0, &GetTelemetrySubscriptionsRequest::default());
    assert_eq!(subscription.error_code, 0);
    // Not an OTLP message: only a broker that decodes the push can tell.
    let pushed = conn.send(
        0,
        &PushTelemetryRequest::default()
            .with_client_instance_id(subscription.client_instance_id)
            .with_subscription_id(subscription.subscription_id)
            .with_metrics(bytes::Bytes::from_static(b"\xff\xff")),
    );
    let clients = cluster.client_metrics();
    if cfg!(feature = "telemetry") {
        assert_eq!(pushed.error_code, ResponseError::InvalidRecord.code());
    } else {
        assert_eq!(pushed.error_code, 0, "taken without being read");
        assert_eq!(clients.len(), 1);
        assert_eq!(clients[0].pushes, 1);
        assert!(clients[0].metrics.is_empty());
    }
}
