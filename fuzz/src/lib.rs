//! What the fuzz targets share: the in-process cluster (`broker_sim::fuzzing::Harness`),
//! request frames built with kafka-protocol, answers decoded with it, and the bound on how
//! long one request may hold the cluster's state lock.

use std::cell::RefCell;
use std::time::Duration;

use broker_sim::fuzzing::{Answer, Harness};
use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader, ResponseKind};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

thread_local! {
    /// One harness per fuzzing thread, reset for every input: building the runtime once
    /// saves most of the per-input cost, the fresh cluster keeps inputs independent.
    static HARNESS: RefCell<Harness> = RefCell::new(Harness::new());
}

/// Runs `f` on a fresh cluster, lets every request finish or be dropped, then fails the
/// input if a request held the state lock longer than [`lock_bound`].
pub fn with_fresh_cluster<T>(f: impl FnOnce(&mut Harness) -> T) -> T {
    HARNESS.with(|h| {
        let mut h = h.borrow_mut();
        h.reset();
        let out = f(&mut h);
        h.finish();
        check_lock_hold();
        out
    })
}

/// The longest a request may hold the state lock: `BROKER_SIM_FUZZ_LOCK_MS`, 500 ms by
/// default. Generous, as the fuzzer shares the machine; a request that does heavy work under the
/// lock (the zstd bomb of issue 18 held it for 18 s) passes it by far.
pub fn lock_bound() -> Duration {
    static BOUND: std::sync::OnceLock<Duration> = std::sync::OnceLock::new();
    *BOUND.get_or_init(|| {
        let ms = std::env::var("BROKER_SIM_FUZZ_LOCK_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(500);
        Duration::from_millis(ms)
    })
}

fn check_lock_hold() {
    let held = Harness::longest_lock_hold();
    assert!(
        held <= lock_bound(),
        "a request held the state lock for {held:?}, over the bound of {:?}",
        lock_bound()
    );
}

/// A request frame (header and body, no size prefix) with `body` as given.
pub fn frame_with_body(api: ApiKey, version: i16, correlation_id: i32, body: &[u8]) -> Vec<u8> {
    let mut buf = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("fuzz")))
        .encode(&mut buf, api.request_header_version(version))
        .expect("a request header encodes");
    buf.extend_from_slice(body);
    buf.to_vec()
}

/// A request frame for `request`, or `None` when the request has a field the version cannot
/// carry.
pub fn frame<R: Encodable>(api: ApiKey, version: i16, request: &R) -> Option<Vec<u8>> {
    let mut body = BytesMut::new();
    request.encode(&mut body, version).ok()?;
    Some(frame_with_body(api, version, 1, &body))
}

/// The body of a response frame (with its size prefix), decoded; panics if the broker's own
/// answer does not decode, which would make every client fail on it.
pub fn decode_answer(api: ApiKey, version: i16, answer: &Answer) -> Option<ResponseKind> {
    let Answer::Response(frame) = answer else {
        return None;
    };
    let mut bytes: Bytes = frame.clone();
    let size = bytes.get_i32();
    assert_eq!(
        size as usize,
        bytes.len(),
        "the size prefix counts the frame"
    );
    ResponseHeader::decode(&mut bytes, api.response_header_version(version))
        .expect("the response header decodes");
    let body = ResponseKind::decode(api, &mut bytes, version)
        .unwrap_or_else(|e| panic!("the broker's {api:?} v{version} answer does not decode: {e}"));
    Some(body)
}
