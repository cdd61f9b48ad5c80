//! Starting and stopping a cluster, from whatever kind of test the user writes.
//!
//! `start()` returns with every listener bound, so a client may connect at once; after
//! `shutdown()` or a drop, open connections are closed (even one parked in a long-poll
//! fetch) and the ports refuse connections. The cluster runs on its own thread and runtime,
//! so it behaves the same from a plain `#[test]`, a current-thread `#[tokio::test]` and a
//! multi-thread one, and dropping it inside an async test does not deadlock.

mod support;

use std::net::{SocketAddr, TcpStream};

use broker_sim::Cluster;
use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};
use support::*;

fn addrs(cluster: &Cluster) -> Vec<SocketAddr> {
    cluster
        .brokers()
        .iter()
        .map(|b| broker_addr(cluster, b.id))
        .collect()
}

fn assert_refused(addrs: &[SocketAddr], after: &str) {
    for addr in addrs {
        match TcpStream::connect(addr) {
            Err(e) => assert_eq!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused,
                "{addr} after {after}: {e}"
            ),
            Ok(_) => panic!("{addr} still accepts connections after {after}"),
        }
    }
}

#[test]
fn start_returns_with_every_broker_accepting_connections() {
    let cluster = Cluster::builder().brokers(3).topic("t", 3).start().unwrap();
    for addr in addrs(&cluster) {
        let response = Conn::connect(addr).send(3, &ApiVersionsRequest::default());
        assert_no_error(response.error_code, &format!("ApiVersions from {addr}"));
    }
}

#[test]
fn shutdown_closes_connections_and_frees_the_ports() {
    let cluster = Cluster::builder().brokers(3).topic("t", 3).start().unwrap();
    let addrs = addrs(&cluster);
    let mut idle = Conn::connect(addrs[0]);
    idle.send(3, &ApiVersionsRequest::default());
    let mut parked = Conn::to_leader(&cluster, "t", 0);
    // A fetch that would wait ten minutes for data: shutdown must not wait for it.
    parked.write(
        12,
        &fetch_request("t", 0, 0)
            .with_max_wait_ms(600_000)
            .with_min_bytes(1),
    );
    cluster.shutdown();
    idle.assert_closed("idle connection after shutdown");
    parked.assert_closed("long-polling connection after shutdown");
    assert_refused(&addrs, "shutdown");
}

#[test]
fn dropping_the_cluster_frees_the_ports() {
    let cluster = Cluster::builder().brokers(2).start().unwrap();
    let addrs = addrs(&cluster);
    let mut conn = Conn::connect(addrs[1]);
    conn.send(3, &ApiVersionsRequest::default());
    drop(cluster);
    conn.assert_closed("connection after drop");
    assert_refused(&addrs, "drop");
}

/// A metadata round trip over tokio sockets, then a drop inside the runtime.
async fn round_trip_inside_a_runtime() {
    let cluster = Cluster::builder().brokers(3).topic("t", 3).start().unwrap();
    let addr = broker_addr(&cluster, 1);
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let versions = send_async(&mut stream, 3, 1, &ApiVersionsRequest::default())
        .await
        .unwrap();
    assert_no_error(versions.error_code, "ApiVersions");
    let metadata = send_async::<MetadataRequest>(&mut stream, 12, 2, &metadata_request(&["t"]))
        .await
        .unwrap();
    assert_no_error(metadata.topics[0].error_code, "metadata");
    assert_eq!(metadata.topics[0].partitions.len(), 3);
    drop(cluster);
    assert_refused(&[addr], "drop inside a runtime");
}

#[test]
fn cluster_works_from_a_plain_test() {
    let cluster = Cluster::builder().brokers(3).topic("t", 3).start().unwrap();
    let response = metadata(&mut Conn::to_broker(&cluster, 1), 12, &["t"]);
    assert_eq!(response.topics[0].partitions.len(), 3);
}

#[tokio::test]
async fn cluster_works_from_a_current_thread_tokio_test() {
    round_trip_inside_a_runtime().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_works_from_a_multi_thread_tokio_test() {
    round_trip_inside_a_runtime().await;
}

#[test]
fn a_broker_at_max_connections_accepts_the_next_one_only_when_one_closes() {
    let cluster = Cluster::builder()
        .brokers(1)
        .max_connections(1)
        .start()
        .unwrap();
    let mut first = Conn::to_broker(&cluster, 1);
    first.send(3, &ApiVersionsRequest::default());
    // The second connection waits in the listen backlog, as with Kafka's acceptor at
    // `max.connections`: its request is read only once a slot frees.
    let mut second = Conn::to_broker(&cluster, 1);
    let correlation_id = second.write(3, &ApiVersionsRequest::default());
    assert!(
        !second.answer_pending(std::time::Duration::from_millis(300)),
        "answered past the connection limit"
    );
    drop(first);
    let answer = second
        .read::<ApiVersionsRequest>(3, correlation_id)
        .unwrap();
    assert_eq!(answer.error_code, 0);
}
