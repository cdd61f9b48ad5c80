//! librdkafka's follower fetching (KIP-392): a consumer with `client.rack` in a cluster
//! whose brokers have racks and whose leaders use the rack-aware replica selector reads
//! a partition from the in-sync replica in its own rack, not from the leader.

use broker_sim::{Cluster, HistoryEvent, NewRecord};
use bytes::Bytes;
use client_tests::{DEADLINE, assign_from_beginning, consume, consumer_config, init_tracing};
use rdkafka::Message;
use rdkafka::consumer::StreamConsumer;

const TOPIC: &str = "telemetry";

#[tokio::test]
async fn a_consumer_with_a_client_rack_reads_from_the_replica_in_its_rack() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .broker_rack(1, "az-1")
        .broker_rack(2, "az-2")
        .broker_rack(3, "az-3")
        .rack_aware_replica_selector(true)
        .topic(TOPIC, 1)
        .start()
        .unwrap();
    let records: Vec<NewRecord> = (0..20)
        .map(|i| NewRecord {
            timestamp: 1_000 + i,
            key: None,
            value: Some(Bytes::from(format!("reading-{i}"))),
            headers: Vec::new(),
        })
        .collect();
    cluster.produce_records(TOPIC, 0, &records).unwrap();
    let partition = cluster.partitions(TOPIC).unwrap().remove(0);
    let follower = partition.replicas[1];
    let rack = format!("az-{follower}");

    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .set("client.rack", &rack)
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, TOPIC, 1);
    let got = consume(&consumer, 20, DEADLINE).await;
    let values: Vec<String> = got
        .iter()
        .map(|m| String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned())
        .collect();
    assert_eq!(
        values,
        (0..20).map(|i| format!("reading-{i}")).collect::<Vec<_>>()
    );

    // The records came from the follower in the consumer's rack.
    let served_by: Vec<i32> = cluster
        .history()
        .events
        .iter()
        .filter_map(|e| match e {
            HistoryEvent::Fetched { broker, topic, .. } if topic == TOPIC => Some(*broker),
            _ => None,
        })
        .collect();
    assert!(!served_by.is_empty());
    assert!(
        served_by.iter().all(|&b| b == follower),
        "fetched from {served_by:?}, the follower in {rack} is {follower} (leader {})",
        partition.leader
    );
}
