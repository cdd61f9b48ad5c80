//! One request of a served API, at a served version, with a fuzzed body: the frame and the
//! header are always right, so every input reaches the API's decoder and, when the body
//! decodes, its handler — where raw bytes mostly die in framing. A second request of the
//! same shape follows on the same cluster, so handlers also see state the first one left.
//! Every answer must decode with kafka-protocol as a client would decode it.
#![no_main]

use broker_sim::SUPPORTED_APIS;
use broker_sim::fuzzing::BROKERS;
use broker_sim_fuzz::{decode_answer, frame_with_body, with_fresh_cluster};
use libfuzzer_sys::fuzz_target;

/// The input's layout, read by hand so that seeds are easy to write (`src/bin/seeds.rs`):
/// api, version, broker (a byte each), the milliseconds to move the clock between the two
/// requests and the first body's length (big-endian u16 each), the first body, the second.
struct Input<'a> {
    api: u8,
    version: u8,
    broker: u8,
    advance: u16,
    first: &'a [u8],
    second: &'a [u8],
}

impl<'a> Input<'a> {
    fn parse(data: &'a [u8]) -> Option<Input<'a>> {
        let (head, rest) = data.split_at_checked(7)?;
        let first_len = usize::from(u16::from_be_bytes([head[5], head[6]])).min(rest.len());
        let (first, second) = rest.split_at(first_len);
        Some(Input {
            api: head[0],
            version: head[1],
            broker: head[2],
            advance: u16::from_be_bytes([head[3], head[4]]),
            first,
            second,
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(input) = Input::parse(data) else {
        return;
    };
    let api = &SUPPORTED_APIS[usize::from(input.api) % SUPPORTED_APIS.len()];
    let span = (api.max - api.min + 1) as u16;
    let version = api.min + (u16::from(input.version) % span) as i16;
    let broker = i32::from(input.broker) % BROKERS + 1;
    with_fresh_cluster(|h| {
        for (i, body) in [input.first, input.second].into_iter().enumerate() {
            if i == 1 {
                h.advance(u32::from(input.advance));
            }
            let ticket = h.send(&frame_with_body(api.key, version, 1, body), broker);
            h.advance(0);
            if let Some(answer) = h.take_answer(ticket) {
                decode_answer(api.key, version, &answer);
            }
        }
    });
});
