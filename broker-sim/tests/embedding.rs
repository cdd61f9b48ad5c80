//! What a crate embedding broker-sim gets with any choice of cargo features, the
//! embedding build (`default-features = false`) included: `.ci/run` also runs this file
//! with `--no-default-features`. A part left out must refuse clearly, never fail to build
//! or misbehave: a TLS listener stops the cluster from starting and a schema is refused,
//! each naming the feature to add.

use broker_sim::{Cluster, Listener, NewSchema, SecurityProtocol};

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
