//! The connection layer: size-prefixed frames, their limits, malformed requests and
//! pipelining.
//!
//! Kafka reads a 4-byte size, refuses sizes above `socket.request.max.bytes` (and negative
//! ones) by closing the connection before reading or allocating the body, closes on any
//! request it cannot parse, and answers the requests of one connection strictly in order,
//! however many the client sends without waiting.

mod support;

use broker_sim::Cluster;
use kafka_protocol::messages::{
    ApiVersionsRequest, ListOffsetsRequest, MetadataRequest, RequestHeader,
};
use kafka_protocol::protocol::{Encodable, Request};
use support::*;

const LIMIT: usize = 1024;

fn cluster_with_small_request_limit() -> Cluster {
    Cluster::builder()
        .brokers(1)
        .topic("t", 1)
        .auto_create_topics(false)
        .max_request_size(LIMIT)
        .start()
        .unwrap()
}

/// The broker still answers on a new connection.
fn assert_still_serving(cluster: &Cluster, after: &str) {
    let response = metadata(&mut Conn::to_broker(cluster, 1), 12, &["t"]);
    assert_no_error(
        response.topics[0].error_code,
        &format!("metadata after {after}"),
    );
}

#[test]
fn frame_size_above_max_request_size_closes_the_connection_without_waiting_for_the_body() {
    let cluster = cluster_with_small_request_limit();
    // Only the prefix is sent: a broker that waited for (or allocated) the promised body
    // would leave the read below hanging until its deadline.
    for size in [LIMIT as i32 + 1, 2000, i32::MAX] {
        let mut conn = Conn::to_broker(&cluster, 1);
        conn.write_raw(&size.to_be_bytes()).unwrap();
        conn.assert_closed(&format!("frame size {size}"));
        assert_still_serving(&cluster, &format!("frame size {size}"));
    }
}

#[test]
fn negative_frame_size_closes_the_connection() {
    let cluster = cluster_with_small_request_limit();
    for size in [-1, i32::MIN] {
        let mut conn = Conn::to_broker(&cluster, 1);
        conn.write_raw(&size.to_be_bytes()).unwrap();
        conn.assert_closed(&format!("frame size {size}"));
        assert_still_serving(&cluster, &format!("frame size {size}"));
    }
}

/// The payload of a Metadata v12 request for one topic named by `name_len` x's.
fn metadata_payload(name_len: usize) -> bytes::BytesMut {
    let name = "x".repeat(name_len);
    let mut p = encode_header(MetadataRequest::KEY, 12, 1);
    p.extend_from_slice(&encode_body(&metadata_request(&[&name]), 12));
    p
}

#[test]
fn request_of_exactly_max_request_size_is_answered_and_one_byte_more_closes_the_connection() {
    // Names below 128 bytes keep their length varint at one byte, so one more character
    // is one more byte of request.
    let at_limit = metadata_payload(120);
    let over_limit = metadata_payload(121);
    assert_eq!(over_limit.len(), at_limit.len() + 1);
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("t", 1)
        .auto_create_topics(false)
        .max_request_size(at_limit.len())
        .start()
        .unwrap();
    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write_raw(&frame(&at_limit)).unwrap();
    let answer = conn
        .read::<MetadataRequest>(12, 1)
        .expect("a request of exactly the limit is answered");
    assert_eq!(answer.topics.len(), 1);

    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write_raw(&frame(&over_limit)).unwrap();
    conn.assert_closed("a request one byte over the limit");
    assert_still_serving(&cluster, "an oversized request");
}

#[test]
fn truncated_request_header_closes_the_connection() {
    let cluster = cluster_with_small_request_limit();
    let header = encode_header(MetadataRequest::KEY, 12, 1);
    // Empty, api key only, key and version, and a client id cut short.
    for cut in [0, 2, 4, 9, header.len() - 1] {
        let mut conn = Conn::to_broker(&cluster, 1);
        conn.write_raw(&frame(&header[..cut])).unwrap();
        conn.assert_closed(&format!("header cut at {cut} bytes"));
        assert_still_serving(&cluster, "a truncated header");
    }
}

#[test]
fn malformed_request_body_closes_the_connection() {
    let cluster = cluster_with_small_request_limit();
    let bodies: [(&str, i16, &[u8]); 3] = [
        ("one topic promised, none present", 12, &[0x02]),
        (
            "varint that never ends",
            12,
            &[0x80, 0x80, 0x80, 0x80, 0x80, 0x80],
        ),
        (
            "topic name length beyond the frame",
            4,
            &[0, 0, 0, 1, 0x7f, 0xff, b'a'],
        ),
    ];
    for (what, version, body) in bodies {
        let mut conn = Conn::to_broker(&cluster, 1);
        let mut payload = encode_header(MetadataRequest::KEY, version, 1);
        payload.extend_from_slice(body);
        conn.write_raw(&frame(&payload)).unwrap();
        conn.assert_closed(what);
        assert_still_serving(&cluster, what);
    }
}

#[test]
fn header_with_a_malformed_client_id_closes_the_connection() {
    let cluster = cluster_with_small_request_limit();
    let mut header = bytes::BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(MetadataRequest::KEY)
        .with_request_api_version(4)
        .with_correlation_id(1)
        .with_client_id(None)
        .encode(&mut header, 1)
        .unwrap();
    // A client id of length 300 in a frame that ends after the length.
    let len = header.len();
    header[len - 2..].copy_from_slice(&300i16.to_be_bytes());
    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write_raw(&frame(&header)).unwrap();
    conn.assert_closed("client id longer than the frame");
    assert_still_serving(&cluster, "a malformed client id");
}

#[test]
fn client_disconnecting_mid_frame_does_not_disturb_the_broker() {
    let cluster = cluster_with_small_request_limit();
    let request = frame(&encode_header(MetadataRequest::KEY, 12, 1));
    for cut in [1, 3, 6] {
        let mut conn = Conn::to_broker(&cluster, 1);
        conn.write_raw(&request[..cut]).unwrap();
        drop(conn);
        assert_still_serving(&cluster, &format!("a client left after {cut} bytes"));
    }
}

enum Pipelined {
    Metadata,
    ApiVersions,
    ListOffsets,
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let cluster = Cluster::builder().brokers(3).topic("t", 3).start().unwrap();
    cluster
        .produce_records("t", 0, &[record("a", BASE_TIMESTAMP)])
        .unwrap();
    let mut conn = Conn::to_leader(&cluster, "t", 0);
    let list_offsets = list_offsets_request("t", 0, -1);
    let mut sent = Vec::new();
    for i in 0..50 {
        let (kind, correlation_id) = match i % 3 {
            0 => (
                Pipelined::Metadata,
                conn.write(12, &metadata_request(&["t"])),
            ),
            1 => (
                Pipelined::ApiVersions,
                conn.write(2, &ApiVersionsRequest::default()),
            ),
            _ => (Pipelined::ListOffsets, conn.write(7, &list_offsets)),
        };
        sent.push((kind, correlation_id));
    }
    let mut seen = Vec::new();
    for (kind, correlation_id) in &sent {
        let correlation_id = *correlation_id;
        // `read` fails unless the next answer carries exactly this correlation id.
        match kind {
            Pipelined::Metadata => {
                let r = conn.read::<MetadataRequest>(12, correlation_id).unwrap();
                assert_no_error(r.topics[0].error_code, "pipelined metadata");
            }
            Pipelined::ApiVersions => {
                let r = conn.read::<ApiVersionsRequest>(2, correlation_id).unwrap();
                assert_no_error(r.error_code, "pipelined api versions");
            }
            Pipelined::ListOffsets => {
                let r = conn.read::<ListOffsetsRequest>(7, correlation_id).unwrap();
                let p = &r.topics[0].partitions[0];
                assert_no_error(p.error_code, "pipelined list offsets");
                assert_eq!(p.offset, 1);
            }
        }
        seen.push(correlation_id);
    }
    assert_eq!(seen, (1..=50).collect::<Vec<_>>());
}
