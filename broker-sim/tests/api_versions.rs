//! Version negotiation: what ApiVersions advertises, and what happens to requests in
//! versions the broker does not speak.
//!
//! Kafka answers an ApiVersions request of a version it does not know in v0, with
//! UNSUPPORTED_VERSION and its supported list, so the client can retry with a version both
//! sides know; the connection stays open. Any other API in an unsupported version, and any
//! API key it does not implement, closes the connection: the broker cannot know the
//! request's layout, so it cannot answer. Other connections are unaffected.

mod support;

use broker_sim::Cluster;
use broker_sim::SUPPORTED_APIS;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, FetchRequest, MetadataRequest, ProduceRequest,
};
use kafka_protocol::protocol::Request;
use support::*;

/// The supported table as ApiVersions advertises it: Produce from v0, as Kafka 4.1 does
/// (it refuses v0–2 all the same: `unsupported_version_of_another_api_closes_the_connection…`;
/// see `api/produce.rs`).
fn supported_list() -> Vec<(i16, i16, i16)> {
    SUPPORTED_APIS
        .iter()
        .map(|a| {
            let min = if a.key == ApiKey::Produce { 0 } else { a.min };
            (a.key as i16, min, a.max)
        })
        .collect()
}

fn listed(keys: &[ApiVersion]) -> Vec<(i16, i16, i16)> {
    keys.iter()
        .map(|k| (k.api_key, k.min_version, k.max_version))
        .collect()
}

fn api_versions_request(version: i16) -> ApiVersionsRequest {
    let request = ApiVersionsRequest::default();
    if version < 3 {
        return request;
    }
    request
        .with_client_software_name(str_bytes("broker-sim-wire-tests"))
        .with_client_software_version(str_bytes("1.0"))
}

/// Sends ApiVersions announcing `version` (beyond what kafka-protocol can encode, so the
/// body is the v4 one) and reads the v0 answer Kafka gives to unknown versions.
fn api_versions_in_unknown_version(conn: &mut Conn, version: i16) -> ApiVersionsResponse {
    let correlation_id = 1000 + i32::from(version);
    let mut payload = encode_header(ApiVersionsRequest::KEY, version, correlation_id);
    payload.extend_from_slice(&encode_body(&api_versions_request(4), 4));
    conn.write_raw(&frame(&payload)).unwrap();
    conn.read::<ApiVersionsRequest>(0, correlation_id)
        .unwrap_or_else(|e| panic!("ApiVersions v{version}: no v0 answer: {e}"))
}

#[test]
fn api_versions_lists_exactly_the_supported_table_in_every_version() {
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    for version in 0..=4 {
        let response = Conn::to_broker(&cluster, 1).send(version, &api_versions_request(version));
        assert_no_error(response.error_code, &format!("ApiVersions v{version}"));
        assert_eq!(
            listed(&response.api_keys),
            supported_list(),
            "ApiVersions v{version}"
        );
    }
}

#[test]
fn api_versions_in_an_unknown_version_is_answered_in_v0_with_unsupported_version() {
    let cluster = Cluster::builder().brokers(1).start().unwrap();
    for version in [5, 127] {
        let mut conn = Conn::to_broker(&cluster, 1);
        let response = api_versions_in_unknown_version(&mut conn, version);
        assert_error(
            response.error_code,
            ResponseError::UnsupportedVersion,
            &format!("ApiVersions v{version}"),
        );
        // Kafka lists at least ApiVersions itself (KIP-511), which is what the client needs
        // to pick a version for its retry.
        let own = (ApiVersionsRequest::KEY, 0, 4);
        assert!(
            listed(&response.api_keys).contains(&own),
            "ApiVersions v{version}: {:?} does not list {own:?}",
            response.api_keys
        );
        // The client retries with a version from the list, on the same connection.
        let retry = conn.send(3, &api_versions_request(3));
        assert_no_error(retry.error_code, "ApiVersions v3 after negotiating down");
    }
}

/// Writes a request whose header announces `key` v`version` with `body` after it, and
/// checks the broker closes the connection and then serves a new one.
fn assert_refused(cluster: &Cluster, key: i16, version: i16, body: &[u8], what: &str) {
    let mut conn = Conn::to_broker(cluster, 1);
    let mut payload = encode_header(key, version, 7);
    payload.extend_from_slice(body);
    conn.write_raw(&frame(&payload)).unwrap();
    conn.assert_closed(what);
    let metadata = metadata(&mut Conn::to_broker(cluster, 1), 12, &["t"]);
    assert_no_error(
        metadata.topics[0].error_code,
        &format!("metadata after {what}"),
    );
}

#[test]
fn unsupported_version_of_another_api_closes_the_connection_and_the_broker_keeps_serving() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let metadata_v13 = encode_body(&metadata_request(&["t"]), 13);
    assert_refused(
        &cluster,
        MetadataRequest::KEY,
        14,
        &metadata_v13,
        "Metadata v14",
    );
    let produce_v3 = encode_body(&produce_request("t", 0, batch_of(&["x"])), 3);
    assert_refused(&cluster, ProduceRequest::KEY, 2, &produce_v3, "Produce v2");
    let fetch_v4 = encode_body(&fetch_request("t", 0, 0), 4);
    assert_refused(&cluster, FetchRequest::KEY, 3, &fetch_v4, "Fetch v3");
    assert_refused(
        &cluster,
        MetadataRequest::KEY,
        -1,
        &metadata_v13,
        "Metadata v-1",
    );
    assert!(
        cluster.records("t").is_empty(),
        "a refused produce wrote nothing"
    );
}

#[test]
fn unknown_api_key_closes_the_connection_and_the_broker_keeps_serving() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    assert_refused(&cluster, 9999, 0, &[], "API key 9999");
    assert_refused(&cluster, -1, 0, &[], "API key -1");
}

#[test]
fn api_key_kafka_knows_but_the_broker_does_not_implement_closes_the_connection() {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let unimplemented = ApiKey::iter()
        .find(|k| SUPPORTED_APIS.iter().all(|a| a.key != *k))
        .expect("some Kafka API is not implemented");
    let version = unimplemented.valid_versions().min;
    assert_refused(
        &cluster,
        unimplemented as i16,
        version,
        &[],
        &format!("{unimplemented:?} v{version}"),
    );
}
