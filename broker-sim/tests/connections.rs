//! What a broker allows a connection, over real sockets: `connections.max.idle.ms` closes a
//! silent connection, a request frame that stalls after its first byte is cut off,
//! `max.connections.per.ip` refuses the next connection from an address until one
//! closes, and a client that closes its socket while a long-poll is parked frees the
//! connection at once instead of leaving it in CLOSE-WAIT until the poll ends.

mod support;

use std::time::{Duration, Instant};

use broker_sim::Cluster;
use kafka_protocol::messages::ApiVersionsRequest;
use support::*;

/// Bound on waiting for the broker to free a connection; far above what it takes.
const DEADLINE: Duration = Duration::from_secs(20);

fn cluster_with(
    configure: impl FnOnce(broker_sim::ClusterBuilder) -> broker_sim::ClusterBuilder,
) -> Cluster {
    configure(Cluster::builder().brokers(1).topic("t", 1))
        .start()
        .unwrap()
}

/// Connects until a connection is served (ApiVersions answered), or panics at the deadline.
fn served_connection(cluster: &Cluster, what: &str) -> Conn {
    let give_up = Instant::now() + DEADLINE;
    loop {
        let mut conn = Conn::to_broker(cluster, 1);
        if conn.try_send(3, &ApiVersionsRequest::default()).is_ok() {
            return conn;
        }
        assert!(
            Instant::now() < give_up,
            "{what}: no connection served within {DEADLINE:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_connection_without_requests_is_closed_after_connections_max_idle() {
    let cluster = cluster_with(|b| b.connections_max_idle(Duration::from_millis(200)));
    let mut conn = Conn::to_broker(&cluster, 1);
    // Served while it is busy...
    conn.send(3, &ApiVersionsRequest::default());
    // ...closed once it goes quiet.
    conn.assert_closed("an idle connection");
}

#[test]
fn a_request_that_stops_arriving_after_its_first_bytes_is_cut_off() {
    let cluster = cluster_with(|b| b.request_read_deadline(Duration::from_millis(200)));
    let mut conn = Conn::to_broker(&cluster, 1);
    // Announces a 100 MiB request, sends three bytes of it, and stops.
    conn.write_raw(&[0x06, 0x40, 0x00, 0x00, 0, 18, 0]).unwrap();
    conn.assert_closed("a stalled request");
}

#[test]
fn max_connections_per_ip_closes_the_next_connection_until_one_closes() {
    let cluster = cluster_with(|b| b.max_connections_per_ip(2));
    let first = served_connection(&cluster, "first");
    let _second = served_connection(&cluster, "second");
    let mut third = Conn::to_broker(&cluster, 1);
    third.write(3, &ApiVersionsRequest::default());
    third.assert_closed("a third connection from the same address");
    drop(first);
    served_connection(&cluster, "a connection after one closed");
}

#[test]
fn a_client_closing_during_a_parked_long_poll_frees_its_connection() {
    // One connection per address: the next can be served only once the first is gone.
    let cluster = cluster_with(|b| b.max_connections_per_ip(1));
    let mut polling = served_connection(&cluster, "the polling client");
    let parked = fetch_request("t", 0, 0)
        .with_max_wait_ms(600_000)
        .with_min_bytes(1);
    polling.write(12, &parked);
    drop(polling);
    // Without noticing the close, the broker would hold it for ten minutes.
    served_connection(&cluster, "a connection after the poller left");
}

#[test]
fn a_request_whose_decoding_would_exceed_the_memory_budget_is_refused() {
    let cluster = cluster_with(|b| b.request_memory_budget(8 << 20));
    // 1 MiB of Metadata topics may take 40 MiB decoded: more than the whole budget.
    let names: Vec<String> = (0..40_000).map(|i| format!("topic-{i:019}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut conn = Conn::to_broker(&cluster, 1);
    conn.write(12, &metadata_request(&names));
    conn.assert_closed("a request beyond the memory budget");
    // A request under the budgeted size is served as usual.
    let mut small = Conn::to_broker(&cluster, 1);
    assert_eq!(metadata(&mut small, 12, &["t"]).topics.len(), 1);
}
