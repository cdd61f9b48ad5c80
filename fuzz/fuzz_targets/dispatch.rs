//! Bytes as a client sends them on one connection: frames (size prefix), request headers,
//! bodies, through the broker's whole pipeline on a fresh in-process cluster. The first
//! byte picks the broker (1–3). Seeds: captured client connections (`seeds/dispatch`).
//! Fails on a panic, an answer that does not decode, or the state lock held too long.
#![no_main]

use broker_sim::fuzzing::{BROKERS, Harness};
use broker_sim_fuzz::with_fresh_cluster;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&broker, stream)) = data.split_first() else {
        return;
    };
    let broker = i32::from(broker) % BROKERS + 1;
    with_fresh_cluster(|h: &mut Harness| {
        h.connection(stream, broker);
    });
});
