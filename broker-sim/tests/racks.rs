//! Racks and fetching from followers (KIP-392) over the wire: brokers report their
//! `broker.rack`, new topics spread replicas over racks, and with the rack-aware replica
//! selector a leader sends a consumer in another rack to an in-sync replica in its own,
//! which serves it up to the high watermark.

mod support;

use std::collections::BTreeSet;

use broker_sim::{Cluster, HistoryEvent};
use kafka_protocol::ResponseError;
use kafka_protocol::messages::{DescribeClusterRequest, MetadataRequest};
use support::*;

/// Six brokers, two per rack a, b, c.
fn cluster(selector: bool) -> Cluster {
    let mut builder = Cluster::builder()
        .brokers(6)
        .rack_aware_replica_selector(selector);
    for (id, rack) in [(1, "a"), (2, "b"), (3, "c"), (4, "a"), (5, "b"), (6, "c")] {
        builder = builder.broker_rack(id, rack);
    }
    builder.topic("t", 6).start().unwrap()
}

fn rack(id: i32) -> &'static str {
    ["a", "b", "c"][((id - 1) % 3) as usize]
}

#[test]
fn brokers_report_their_racks_and_replicas_span_them() {
    let cluster = cluster(false);
    let metadata = Conn::to_broker(&cluster, 1).send(12, &MetadataRequest::default());
    for b in &metadata.brokers {
        assert_eq!(b.rack.as_deref(), Some(rack(b.node_id.0)), "{b:?}");
    }
    let described = Conn::to_broker(&cluster, 1).send(1, &DescribeClusterRequest::default());
    assert!(
        described
            .brokers
            .iter()
            .all(|b| b.rack.as_deref() == Some(rack(b.broker_id.0)))
    );
    for p in cluster.partitions("t").unwrap() {
        let racks: BTreeSet<&str> = p.replicas.iter().map(|&r| rack(r)).collect();
        assert_eq!(
            racks.len(),
            3,
            "partition {} replicas {:?}",
            p.partition,
            p.replicas
        );
    }
}

#[test]
fn a_consumer_is_sent_to_a_replica_in_its_rack_which_serves_it() {
    let cluster = cluster(true);
    let records: Vec<broker_sim::NewRecord> = (0..5)
        .map(|i| broker_sim::NewRecord {
            timestamp: 1_000,
            key: None,
            value: Some(bytes::Bytes::from(format!("r{i}"))),
            headers: Vec::new(),
        })
        .collect();
    cluster.produce_records("t", 0, &records).unwrap();
    let p = cluster.partitions("t").unwrap().remove(0);
    let follower = p.replicas[1];
    let fetch = |rack_id: &str| {
        let mut r = fetch_request("t", 0, 0);
        r.rack_id = str_bytes(rack_id);
        r
    };

    // From another rack, the leader names the follower in the consumer's rack and
    // sends no records.
    let from_leader = Conn::to_broker(&cluster, p.leader).send(12, &fetch(rack(follower)));
    let data = &from_leader.responses[0].partitions[0];
    assert_eq!(data.error_code, 0);
    assert_eq!(data.preferred_read_replica.0, follower);
    assert_eq!(data.records.as_ref().map_or(0, |r| r.len()), 0);
    assert_eq!(data.high_watermark, 5);

    // The follower serves the consumer up to the high watermark.
    let from_follower = Conn::to_broker(&cluster, follower).send(12, &fetch(rack(follower)));
    let data = &from_follower.responses[0].partitions[0];
    assert_eq!(data.error_code, 0);
    assert_eq!(data.preferred_read_replica.0, -1);
    assert_eq!(values(data.records.as_ref().unwrap()).len(), 5);
    assert!(cluster.history().events.iter().any(|e| matches!(
        e,
        HistoryEvent::Fetched { broker, topic, .. } if *broker == follower && topic == "t"
    )));

    // In the leader's rack, or with no rack, the leader serves.
    let same_rack = Conn::to_broker(&cluster, p.leader).send(12, &fetch(rack(p.leader)));
    assert_eq!(
        same_rack.responses[0].partitions[0]
            .preferred_read_replica
            .0,
        -1
    );
    let no_rack = Conn::to_broker(&cluster, p.leader).send(12, &fetch(""));
    assert_eq!(
        no_rack.responses[0].partitions[0].preferred_read_replica.0,
        -1
    );

    // Before v11 a follower is not a place to fetch from.
    let old = Conn::to_broker(&cluster, follower).send(10, &fetch_request("t", 0, 0));
    assert_eq!(
        old.responses[0].partitions[0].error_code,
        ResponseError::NotLeaderOrFollower.code()
    );
}

#[test]
fn without_the_selector_the_leader_serves_every_rack() {
    let cluster = cluster(false);
    let x = broker_sim::NewRecord {
        timestamp: 1_000,
        key: None,
        value: Some(bytes::Bytes::from_static(b"x")),
        headers: Vec::new(),
    };
    cluster.produce_records("t", 0, &[x]).unwrap();
    let p = cluster.partitions("t").unwrap().remove(0);
    let mut r = fetch_request("t", 0, 0);
    r.rack_id = str_bytes(rack(p.replicas[1]));
    let answer = Conn::to_broker(&cluster, p.leader).send(12, &r);
    let data = &answer.responses[0].partitions[0];
    assert_eq!(data.preferred_read_replica.0, -1);
    assert_eq!(values(data.records.as_ref().unwrap()).len(), 1);
}
