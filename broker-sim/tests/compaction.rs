//! Log compaction (`cleanup.policy=compact`): `compact_now` keeps the latest record of each
//! key at its original offset, tombstones last until `delete.retention.ms` after their
//! first cleaning, the periodic cleaner works on rolled segments only, and a consumer
//! reading over the gaps sees every kept record.

mod support;

use std::time::Duration;

use broker_sim::{Cluster, NewRecord};
use bytes::Bytes;
use support::*;

const T0: i64 = 1_800_000_000_000;

fn keyed(key: &str, value: Option<&str>) -> NewRecord {
    NewRecord {
        timestamp: T0,
        key: Some(Bytes::copy_from_slice(key.as_bytes())),
        value: value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
        headers: Vec::new(),
    }
}

/// (offset, key, value) of every record of "t"-0.
fn log(cluster: &Cluster) -> Vec<(i64, String, Option<String>)> {
    cluster
        .partition_records("t", 0)
        .into_iter()
        .map(|r| {
            (
                r.offset,
                String::from_utf8_lossy(r.key.as_deref().unwrap_or_default()).into_owned(),
                r.value.map(|v| String::from_utf8_lossy(&v).into_owned()),
            )
        })
        .collect()
}

fn entry(offset: i64, key: &str, value: Option<&str>) -> (i64, String, Option<String>) {
    (offset, key.to_string(), value.map(str::to_string))
}

fn compacted_cluster(configs: &[(&str, &str)]) -> Cluster {
    let mut all = vec![("cleanup.policy", "compact")];
    all.extend_from_slice(configs);
    Cluster::builder()
        .brokers(1)
        .manual_clock(T0)
        .topic_with_configs("t", 1, &all)
        .start()
        .unwrap()
}

#[test]
fn compact_now_keeps_the_latest_value_of_each_key_at_its_offset() {
    let cluster = compacted_cluster(&[]);
    cluster
        .produce_records("t", 0, &[keyed("a", Some("a1")), keyed("b", Some("b1"))])
        .unwrap();
    cluster
        .produce_records("t", 0, &[keyed("a", Some("a2")), keyed("c", Some("c1"))])
        .unwrap();
    cluster
        .produce_records("t", 0, &[keyed("b", Some("b2"))])
        .unwrap();

    let done = cluster.compact_now("t").unwrap();
    // a1 and b1 are superseded: their whole batch goes.
    assert_eq!((done.records_removed, done.batches_removed), (2, 1));
    assert_eq!(
        log(&cluster),
        vec![
            entry(2, "a", Some("a2")),
            entry(3, "c", Some("c1")),
            entry(4, "b", Some("b2"))
        ]
    );
    // The first batch is gone; offsets keep their gaps, and the log end does not move.
    let p = &cluster.partitions("t").unwrap()[0];
    assert_eq!((p.log_start_offset, p.high_watermark), (0, 5));

    // A consumer fetching from 0 reads the kept records, over the gap.
    let response = Conn::to_leader(&cluster, "t", 0).send(12, &fetch_request("t", 0, 0));
    let records = response.responses[0].partitions[0].records.clone().unwrap();
    assert_eq!(values(&records), ["a2", "c1", "b2"]);

    // Compacting again finds nothing more to do.
    assert_eq!(cluster.compact_now("t").unwrap().records_removed, 0);
}

#[test]
fn tombstones_stay_until_delete_retention_ms_after_their_first_cleaning() {
    let cluster = compacted_cluster(&[("delete.retention.ms", "60000")]);
    cluster
        .produce_records("t", 0, &[keyed("a", Some("a1")), keyed("b", Some("b1"))])
        .unwrap();
    cluster
        .produce_records("t", 0, &[keyed("a", None)])
        .unwrap();

    cluster.compact_now("t").unwrap();
    assert_eq!(
        log(&cluster),
        vec![entry(1, "b", Some("b1")), entry(2, "a", None)]
    );

    cluster.advance(Duration::from_secs(59));
    cluster.compact_now("t").unwrap();
    assert_eq!(
        log(&cluster),
        vec![entry(1, "b", Some("b1")), entry(2, "a", None)]
    );

    cluster.advance(Duration::from_secs(1));
    cluster.compact_now("t").unwrap();
    assert_eq!(log(&cluster), vec![entry(1, "b", Some("b1"))]);
}

#[test]
fn the_periodic_cleaner_compacts_rolled_segments_only_and_expires_tombstones_by_itself() {
    // Segments roll after a minute; the cleaner runs every 15 s and cleans once a tenth of
    // the cleanable bytes are dirty.
    let cluster = compacted_cluster(&[
        ("segment.ms", "60000"),
        ("delete.retention.ms", "60000"),
        ("min.cleanable.dirty.ratio", "0.1"),
    ]);
    cluster
        .produce_records("t", 0, &[keyed("a", Some("a1"))])
        .unwrap();
    cluster
        .produce_records("t", 0, &[keyed("a", Some("a2"))])
        .unwrap();
    cluster.advance(Duration::from_secs(30));
    // Both records sit in the active segment: nothing is cleaned.
    assert_eq!(log(&cluster).len(), 2);

    cluster.advance(Duration::from_secs(31));
    // The next append rolls the segment; the next cleaner run cleans the rolled one.
    cluster
        .produce_records("t", 0, &[keyed("a", None)])
        .unwrap();
    assert_eq!(log(&cluster).len(), 3);
    cluster.advance(Duration::from_secs(15));
    assert_eq!(
        log(&cluster),
        vec![entry(1, "a", Some("a2")), entry(2, "a", None)]
    );

    // The tombstone's segment rolls with the next append a minute later; its first
    // cleaning sets the delete horizon, a later one removes it, all on the clock.
    cluster.advance(Duration::from_secs(61));
    cluster
        .produce_records("t", 0, &[keyed("b", Some("b1"))])
        .unwrap();
    cluster.advance(Duration::from_secs(15));
    assert_eq!(
        log(&cluster),
        vec![entry(2, "a", None), entry(3, "b", Some("b1"))]
    );
    cluster.advance(Duration::from_secs(75));
    assert_eq!(log(&cluster), vec![entry(3, "b", Some("b1"))]);
}

#[test]
fn min_compaction_lag_keeps_young_records_and_only_compacted_topics_compact() {
    let cluster = compacted_cluster(&[("min.compaction.lag.ms", "60000")]);
    cluster
        .produce_records("t", 0, &[keyed("a", Some("a1"))])
        .unwrap();
    cluster
        .produce_records("t", 0, &[keyed("a", Some("a2"))])
        .unwrap();
    cluster.compact_now("t").unwrap();
    assert_eq!(log(&cluster).len(), 2, "records younger than the lag stay");
    cluster.advance(Duration::from_secs(60));
    cluster.compact_now("t").unwrap();
    assert_eq!(log(&cluster), vec![entry(1, "a", Some("a2"))]);

    cluster.create_topic("plain", 1).unwrap();
    let refused = cluster.compact_now("plain").unwrap_err();
    assert_eq!(refused.code, broker_sim::ResponseError::InvalidRequest);
    let unknown = cluster.compact_now("missing").unwrap_err();
    assert_eq!(
        unknown.code,
        broker_sim::ResponseError::UnknownTopicOrPartition
    );
}
