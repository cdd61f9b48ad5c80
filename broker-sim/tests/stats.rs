//! Per-topic traffic counters (`Cluster::topic_stats`): what a test reads for "how much
//! went through" instead of Kafka's broker-topic metrics. Counts must be exact, so a test
//! can assert them: a retried idempotent batch the log already holds is not counted again,
//! and a long-polling fetch that reads, finds too little and reads again counts only what
//! it finally answers.

mod support;

use broker_sim::{Cluster, PartitionStats};
use support::*;

fn cluster() -> Cluster {
    Cluster::builder()
        .brokers(3)
        .topic("t", 2)
        .start()
        .expect("cluster starts")
}

#[test]
fn appends_count_records_and_batch_bytes_once_even_when_an_idempotent_batch_is_retried() {
    let cluster = cluster();
    let (producer_id, epoch) = init_idempotent_producer(&cluster);
    let first = idempotent_batch(&["a", "b", "c"], producer_id, epoch, 0);
    let second = idempotent_batch(&["d", "e"], producer_id, epoch, 3);
    produce(&cluster, "t", 0, first.clone());
    produce(&cluster, "t", 0, second.clone());
    // The same batch again, as a producer retrying a lost answer sends it: acknowledged
    // with its first offsets, not written, not counted.
    assert_eq!(produce(&cluster, "t", 0, second.clone()), 3);
    cluster.produce("t", None, b"seeded").expect("seeded");

    let stats = cluster.topic_stats("t").expect("topic exists");
    assert_eq!(stats.records_in, 6, "five produced and one seeded");
    let p0 = stats.partitions[0];
    assert_eq!(p0.partition, 0);
    // The seeded record went to either partition.
    assert!(p0.records_in >= 5);
    assert!(p0.bytes_in >= (first.len() + second.len()) as u64);
    assert_eq!(
        stats.bytes_in,
        stats.partitions.iter().map(|p| p.bytes_in).sum::<u64>()
    );
    assert_eq!((stats.records_out, stats.bytes_out), (0, 0));
    assert!(cluster.topic_stats("missing").is_none());
}

#[test]
fn fetches_count_the_batches_they_answer_with_and_a_long_poll_counts_once() {
    let cluster = cluster();
    let batch = batch_of(&["a", "b", "c"]);
    let size = batch.len() as u64;
    produce(&cluster, "t", 1, batch);

    let mut conn = Conn::to_leader(&cluster, "t", 1);
    let answered = conn.send(11, &fetch_request("t", 1, 0));
    assert_eq!(values(answered_records(&answered)), ["a", "b", "c"]);
    // A batch is handed out whole, so a fetch from inside it counts all of it.
    conn.send(11, &fetch_request("t", 1, 2));
    // Asking for more bytes than there are makes the broker read, wait out max_wait and
    // read again; only the answer it finally sends is counted.
    let long_poll = fetch_request("t", 1, 0)
        .with_min_bytes(1 << 20)
        .with_max_wait_ms(50);
    conn.send(11, &long_poll);
    // Nothing at the high watermark: nothing counted.
    conn.send(11, &fetch_request("t", 1, 3));

    let p1 = cluster.topic_stats("t").unwrap().partitions[1];
    assert_eq!(
        p1,
        PartitionStats {
            partition: 1,
            records_in: 3,
            bytes_in: size,
            records_out: 9,
            bytes_out: 3 * size,
        }
    );
}

fn answered_records(response: &kafka_protocol::messages::FetchResponse) -> &[u8] {
    response.responses[0].partitions[0]
        .records
        .as_deref()
        .unwrap_or_default()
}
