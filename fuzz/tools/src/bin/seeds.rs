//! Writes the generated seeds under `seeds/<target>/` (kept in the repository; rerun with
//! `cargo run -p broker-sim-fuzz-tools --bin seeds` in `fuzz/`): every served API at its newest version, with a body kafka-protocol
//! encoded, for `request` and (as a connection's bytes) `dispatch`; record batches of every
//! codec and kind for `batch`; a JSON body per control endpoint for `control_json`; a few
//! pseudo-random inputs for `client_ops`. The captures of real clients (`capture.sh`) complete them.

use std::path::Path;

use broker_sim::SUPPORTED_APIS;
use broker_sim_protocol::batch::{
    Codec, ControlType, NewRecord, encode_batch, encode_batch_with_producer, encode_control_batch,
    encode_transactional_batch,
};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::RequestHeader;
use kafka_protocol::messages::{ApiKey, RequestKind};
use kafka_protocol::protocol::{Encodable, StrBytes};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = root.join(target);
        std::fs::create_dir_all(&dir).expect("seed directory");
        std::fs::write(dir.join(name), bytes).expect("seed written");
    };
    for (index, api) in SUPPORTED_APIS.iter().enumerate() {
        // The newest version only: the fuzzer's version byte reaches the others, and the
        // captures bring the versions real clients send.
        for version in [api.max] {
            let Some(body) = smallest_body(api.key, version) else {
                eprintln!("no seed for {:?} v{version}", api.key);
                continue;
            };
            let name = format!("{:?}-v{version}", api.key);
            let mut input = vec![index as u8, (version - api.min) as u8, 0, 0, 0];
            input.extend_from_slice(&(body.len() as u16).to_be_bytes());
            input.extend_from_slice(&body);
            input.extend_from_slice(&body);
            write("request", &name, &input);
            if version == api.max {
                let frame = frame_with_body(api.key, version, 7, &body);
                let mut stream = vec![0];
                stream.extend_from_slice(&(frame.len() as u32).to_be_bytes());
                stream.extend_from_slice(&frame);
                write("dispatch", &name, &stream);
            }
        }
    }
    let now = broker_sim::fuzzing::START_MS;
    let records: Vec<NewRecord> = (0..3)
        .map(|i| NewRecord {
            timestamp: now + i,
            key: Some(Bytes::from(format!("key-{i}"))),
            value: Some(Bytes::from(format!("value-{i}"))),
            headers: vec![("h".into(), Some(Bytes::from_static(b"v")))],
        })
        .collect();
    let codecs = [
        Codec::None,
        Codec::Gzip,
        Codec::Snappy,
        Codec::Lz4,
        Codec::Zstd,
    ];
    for (i, codec) in codecs.into_iter().enumerate() {
        // Flags: topic 0, Produce v12 (index 3), acks=all; CRCs left as encoded.
        let batch = encode_batch(&records, codec).expect("a batch encodes");
        write(
            "batch",
            &format!("plain-{codec:?}"),
            &[&[0x0c][..], &batch].concat(),
        );
        if i == 0 {
            let idempotent = encode_batch_with_producer(&records, codec, 1000, 0, 0).unwrap();
            write("batch", "idempotent", &[&[0x0c][..], &idempotent].concat());
            let txn = encode_transactional_batch(&records, codec, 1000, 0, 0).unwrap();
            write("batch", "transactional", &[&[0x0c][..], &txn].concat());
            let marker = encode_control_batch(ControlType::Commit, 1000, 0, 0, now);
            write("batch", "control", &[&[0x0c][..], &marker].concat());
            write(
                "batch",
                "two-batches",
                &[&[0x0c][..], &batch, &batch].concat(),
            );
            write("batch", "compacted-topic", &[&[0x0d][..], &batch].concat());
            write("batch", "log-append-time", &[&[0x0e][..], &batch].concat());
        }
    }
    let json: &[(u8, &str, &str)] = &[
        (
            0,
            "fault-error",
            r#"{"match": {"api": "Produce", "topic": "t"}, "action": {"type": "error", "code": "NOT_LEADER_OR_FOLLOWER"}, "times": 2}"#,
        ),
        (
            0,
            "fault-latency",
            r#"{"match": {"broker": 1, "partition": 0}, "action": {"type": "latency", "ms": 100}, "probability": 0.5}"#,
        ),
        (
            0,
            "fault-throttle",
            r#"{"match": {"api": 1}, "action": {"type": "apply_then_error", "code": 7}}"#,
        ),
        (
            1,
            "schedule",
            r#"{"steps": [{"at": {"records": 2}, "type": "stop_broker", "broker": 2}, {"at": {"ms": 3600000}, "type": "start_broker", "broker": 2}]}"#,
        ),
        (
            2,
            "exactly-once",
            r#"{"input": "t", "output": "t", "group": "g", "input_id": "header:id"}"#,
        ),
        (
            3,
            "handled",
            r#"{"topic": "t", "records": [[0, 1], [0, 2]]}"#,
        ),
        (
            4,
            "sent-order",
            r#"{"topic": "t", "sent": [{"key": "k", "value": "second"}, {"key": "k", "value": "first"}]}"#,
        ),
        (
            5,
            "records",
            r#"{"records": [{"partition": 0, "key": "k", "value": "first", "headers": [{"key": "h", "value": "v"}]}, {"value": "JQ==", "value_encoding": "base64"}]}"#,
        ),
        (
            6,
            "configs",
            r#"{"set": {"retention.ms": "1000"}, "delete": ["cleanup.policy"]}"#,
        ),
        (7, "compact", "{}"),
        (8, "leader", r#"{"broker": 2}"#),
        (9, "elect", "{}"),
        (10, "reset-offsets", r#"{"topic": "t", "offset": 1}"#),
        (
            11,
            "telemetry",
            r#"{"name": "s", "metrics": ["org.apache.kafka."], "interval_ms": 1000}"#,
        ),
        (12, "advance", r#"{"ms": 1000}"#),
    ];
    // client_ops reads its operations with `arbitrary`: any bytes are a sequence of
    // operations, so a few fixed pseudo-random inputs start it in several directions.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..8 {
        let bytes: Vec<u8> = (0..64 << i.min(4))
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect();
        write("client_ops", &format!("random-{i}"), &bytes);
    }
    for (endpoint, name, body) in json {
        write(
            "control_json",
            name,
            &[&[*endpoint][..], body.as_bytes()].concat(),
        );
    }
}

/// The shortest body kafka-protocol decodes for `api` at `version`, re-encoded: decoded
/// from zeros (empty or null arrays and strings, zero numbers), else from ones (compact
/// lengths of zero), then encoded as a client would.
fn smallest_body(api: ApiKey, version: i16) -> Option<Vec<u8>> {
    for fill in [0u8, 1] {
        for len in 0..256 {
            let mut bytes = Bytes::from(vec![fill; len]);
            if let Ok(request) = RequestKind::decode(api, &mut bytes, version) {
                let mut out = BytesMut::new();
                if request.encode(&mut out, version).is_ok() {
                    return Some(out.to_vec());
                }
            }
        }
    }
    None
}

/// A request frame (no size prefix): the header for `api` at `version`, then `body`.
fn frame_with_body(api: ApiKey, version: i16, correlation_id: i32, body: &[u8]) -> Vec<u8> {
    let mut buf = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("seed")))
        .encode(&mut buf, api.request_header_version(version))
        .expect("a request header encodes");
    buf.extend_from_slice(body);
    buf.to_vec()
}
