//! Length fields inside a request body that promise far more than the frame holds.
//!
//! Kafka reads a request body from a frame it has already bounded, and an array or string
//! length larger than the bytes left is a parse error that closes the connection. The
//! broker must fail the same way, without reserving memory for the promised elements: a
//! 20-byte request must not be able to take the whole process down. These tests live in
//! their own binary because a broker that does allocate aborts the process, which would
//! take every other test in the binary with it.

mod support;

use broker_sim::Cluster;
use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};
use kafka_protocol::protocol::Request;
use support::*;

/// Sends a Metadata request in `version` whose body is `body`, and checks that the broker
/// drops that connection and still answers a new one.
fn malformed_metadata_body_closes_only_its_connection(version: i16, body: &[u8]) {
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    let mut payload = encode_header(MetadataRequest::KEY, version, 1);
    payload.extend_from_slice(body);
    conn.write_raw(&frame(&payload)).unwrap();
    conn.assert_closed("metadata request with an impossible array length");
    let answer = Conn::to_broker(&cluster, 1).send(3, &ApiVersionsRequest::default());
    assert_no_error(answer.error_code, "ApiVersions on a fresh connection");
}

#[test]
fn compact_array_length_beyond_the_frame_closes_the_connection() {
    // Metadata v12 topics: COMPACT_ARRAY whose varint length says 4 294 967 294 entries.
    malformed_metadata_body_closes_only_its_connection(12, &[0xff, 0xff, 0xff, 0xff, 0x0f]);
}

#[test]
fn array_length_beyond_the_frame_closes_the_connection() {
    // Metadata v4 topics: ARRAY whose INT32 length says 2 147 483 647 entries.
    malformed_metadata_body_closes_only_its_connection(4, &[0x7f, 0xff, 0xff, 0xff]);
}

#[test]
fn array_length_slightly_beyond_the_frame_closes_the_connection() {
    // Two topics promised, none present.
    malformed_metadata_body_closes_only_its_connection(4, &[0, 0, 0, 2]);
}
