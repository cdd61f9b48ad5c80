//! Time- and size-based retention (`retention.ms`, `retention.bytes`): what a consumer of
//! an old offset meets once the broker has deleted it. Each produced batch stands for one
//! of Kafka's log segments, so retention deletes whole batches.

mod support;

use std::time::Duration;

use broker_sim::Cluster;
use kafka_protocol::ResponseError;
use support::*;

const T0: i64 = 1_800_000_000_000;

#[test]
fn advancing_the_manual_clock_past_retention_ms_deletes_old_batches_at_once() {
    let cluster = Cluster::builder()
        .brokers(1)
        .manual_clock(T0)
        .topic_with_configs("t", 1, &[("retention.ms", "60000")])
        .start()
        .unwrap();
    produce(
        &cluster,
        "t",
        0,
        batch_with_timestamps(&[("old", T0 - 30_000)]),
    );
    produce(&cluster, "t", 0, batch_with_timestamps(&[("new", T0)]));
    cluster.advance(Duration::from_secs(29));
    assert_eq!(cluster.partitions("t").unwrap()[0].log_start_offset, 0);

    cluster.advance(Duration::from_secs(2));
    let p = &cluster.partitions("t").unwrap()[0];
    assert_eq!((p.log_start_offset, p.high_watermark), (1, 2));
    let values: Vec<_> = cluster
        .records("t")
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    assert_eq!(values, ["new"]);
    // A consumer still positioned on the deleted record is told it is out of range.
    let response = Conn::to_leader(&cluster, "t", 0).send(12, &fetch_request("t", 0, 0));
    assert_error(
        response.responses[0].partitions[0].error_code,
        ResponseError::OffsetOutOfRange,
        "fetch below the log start",
    );
}

#[test]
fn retention_bytes_keeps_the_newest_batches_within_the_limit() {
    let cluster = Cluster::builder()
        .brokers(1)
        .manual_clock(T0)
        .start()
        .unwrap();
    let one = batch_with_timestamps(&[("x", T0)]).len();
    cluster
        .create_topic_with_configs("t", 1, &[("retention.bytes", &(2 * one).to_string())])
        .unwrap();
    for _ in 0..5 {
        produce(&cluster, "t", 0, batch_with_timestamps(&[("x", T0)]));
    }
    cluster.advance(Duration::from_millis(1));
    let p = &cluster.partitions("t").unwrap()[0];
    assert_eq!((p.log_start_offset, p.high_watermark), (3, 5));
}

#[test]
fn a_real_time_cluster_enforces_retention_at_its_check_interval() {
    let cluster = Cluster::builder()
        .brokers(1)
        .log_retention_check_interval(Duration::from_millis(20))
        .topic_with_configs("t", 1, &[("retention.ms", "1000")])
        .start()
        .unwrap();
    // A record stamped an hour ago is past retention as soon as the next check runs.
    let an_hour_ago = cluster.now_ms() - 3_600_000;
    produce(
        &cluster,
        "t",
        0,
        batch_with_timestamps(&[("stale", an_hour_ago)]),
    );
    wait_until("retention to delete the stale record", || {
        cluster.partitions("t").unwrap()[0].log_start_offset > 0
    });
    assert!(cluster.records("t").is_empty());
}
