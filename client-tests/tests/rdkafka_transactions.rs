//! Transactions as librdkafka runs them: a transactional producer committing and aborting,
//! read_committed and read_uncommitted consumers, consume-transform-produce with
//! `send_offsets_to_transaction`, a zombie fenced by a new instance, a transaction timed
//! out on the cluster's manual clock, and the transaction coordinator's broker stopped
//! mid-transaction. librdkafka uses transaction version 1 (AddPartitionsToTxn, EndTxn v3),
//! whatever the cluster finalizes.

use std::time::Duration;

use broker_sim::{Cluster, TxnStatus};
use client_tests::{
    DEADLINE, assign_from_beginning, consume, consumer_config, group_consumer_config, init_tracing,
    producer_config, send, wait_until,
};
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64
}

fn transactional_producer(cluster: &Cluster, id: &str, timeout_ms: u32) -> FutureProducer {
    let producer: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .set("transactional.id", id)
        .set("transaction.timeout.ms", timeout_ms.to_string())
        .create()
        .expect("transactional producer");
    producer
        .init_transactions(DEADLINE)
        .expect("init_transactions");
    producer
}

fn reader(cluster: &Cluster, isolation: &str, topic: &str, partitions: i32) -> StreamConsumer {
    let consumer: StreamConsumer = consumer_config(&cluster.bootstrap_servers())
        .set("isolation.level", isolation)
        .create()
        .expect("consumer");
    assign_from_beginning(&consumer, topic, partitions);
    consumer
}

fn values(messages: &[OwnedMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned())
        .collect()
}

async fn send_to(producer: &FutureProducer, topic: &str, partition: i32, value: &str) -> i64 {
    send(
        producer,
        FutureRecord::<(), _>::to(topic)
            .partition(partition)
            .payload(value),
    )
    .await
    .1
}

fn statuses(cluster: &Cluster, topic: &str) -> Vec<(String, TxnStatus)> {
    cluster
        .records(topic)
        .into_iter()
        .map(|r| (r.value_str().unwrap_or_default().to_string(), r.transaction))
        .collect()
}

#[tokio::test]
async fn committed_records_reach_read_committed_consumers_across_partitions() {
    init_tracing();
    let cluster = Cluster::builder().brokers(3).topic("t", 2).start().unwrap();
    let producer = transactional_producer(&cluster, "tx-commit", 60_000);
    producer.begin_transaction().unwrap();
    send_to(&producer, "t", 0, "a").await;
    send_to(&producer, "t", 1, "b").await;
    send_to(&producer, "t", 0, "c").await;
    producer.commit_transaction(DEADLINE).expect("commit");

    let consumer = reader(&cluster, "read_committed", "t", 2);
    let mut got = values(&consume(&consumer, 3, DEADLINE).await);
    got.sort();
    assert_eq!(got, ["a", "b", "c"]);
    for (value, status) in statuses(&cluster, "t") {
        assert_eq!(status, TxnStatus::Committed, "{value}");
    }
    let txn = cluster
        .transaction("tx-commit")
        .expect("coordinator knows it");
    assert_eq!(txn.state, "CompleteCommit");
    // Each partition holds its records and one commit marker, which no consumer sees.
    for p in 0..2 {
        let info = cluster.partition("t", p).unwrap();
        let data = cluster.partition_records("t", p).len() as i64;
        assert_eq!(info.high_watermark, data + 1, "partition {p}");
        assert_eq!(cluster.last_stable_offset("t", p), Some(data + 1));
    }
}

#[tokio::test]
async fn aborted_records_are_skipped_by_read_committed_but_read_uncommitted_sees_them() {
    init_tracing();
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let producer = transactional_producer(&cluster, "tx-abort", 60_000);
    producer.begin_transaction().unwrap();
    send_to(&producer, "t", 0, "rolled-back-1").await;
    send_to(&producer, "t", 0, "rolled-back-2").await;
    producer.abort_transaction(DEADLINE).expect("abort");
    producer.begin_transaction().unwrap();
    send_to(&producer, "t", 0, "kept").await;
    producer.commit_transaction(DEADLINE).expect("commit");

    // In offset order: a consumer that leaked an aborted record would read it first.
    let committed = reader(&cluster, "read_committed", "t", 1);
    assert_eq!(values(&consume(&committed, 1, DEADLINE).await), ["kept"]);
    let uncommitted = reader(&cluster, "read_uncommitted", "t", 1);
    assert_eq!(
        values(&consume(&uncommitted, 3, DEADLINE).await),
        ["rolled-back-1", "rolled-back-2", "kept"]
    );
    assert_eq!(
        statuses(&cluster, "t"),
        [
            ("rolled-back-1".to_string(), TxnStatus::Aborted),
            ("rolled-back-2".to_string(), TxnStatus::Aborted),
            ("kept".to_string(), TxnStatus::Committed),
        ]
    );
    let visible: Vec<_> = cluster
        .committed_records("t")
        .iter()
        .map(|r| r.value_str().unwrap().to_string())
        .collect();
    assert_eq!(visible, ["kept"]);
}

#[tokio::test]
async fn an_open_transaction_holds_read_committed_consumers_at_the_last_stable_offset() {
    init_tracing();
    let cluster = Cluster::builder().brokers(1).topic("t", 1).start().unwrap();
    let plain: FutureProducer = producer_config(&cluster.bootstrap_servers())
        .create()
        .unwrap();
    send_to(&plain, "t", 0, "before").await;
    let producer = transactional_producer(&cluster, "tx-open", 60_000);
    producer.begin_transaction().unwrap();
    let first = send_to(&producer, "t", 0, "in-flight").await;
    send_to(&plain, "t", 0, "after").await;

    assert_eq!(cluster.last_stable_offset("t", 0), Some(first));
    let committed = reader(&cluster, "read_committed", "t", 1);
    let (low, high) = committed
        .fetch_watermarks("t", 0, DEADLINE)
        .expect("read_committed watermarks");
    assert_eq!(
        (low, high),
        (0, first),
        "latest offset is the LSO for read_committed"
    );
    assert_eq!(values(&consume(&committed, 1, DEADLINE).await), ["before"]);
    let uncommitted = reader(&cluster, "read_uncommitted", "t", 1);
    assert_eq!(
        values(&consume(&uncommitted, 3, DEADLINE).await),
        ["before", "in-flight", "after"]
    );
    assert_eq!(cluster.committed_records("t").len(), 1);

    producer.commit_transaction(DEADLINE).expect("commit");
    // The same consumer now reads on past the old LSO.
    assert_eq!(
        values(&consume(&committed, 2, DEADLINE).await),
        ["in-flight", "after"]
    );
}

#[tokio::test]
async fn consume_transform_produce_commits_offsets_with_the_output() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("in", 1)
        .topic("out", 1)
        .start()
        .unwrap();
    for i in 0..4 {
        cluster
            .produce("in", None, format!("n{i}").as_bytes())
            .unwrap();
    }
    let consumer: StreamConsumer = group_consumer_config(&cluster.bootstrap_servers(), "ctp")
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    consumer.subscribe(&["in"]).unwrap();
    let producer = transactional_producer(&cluster, "tx-ctp", 60_000);

    // First pass: two records transformed, then the transaction aborted; offsets too.
    let batch = consume(&consumer, 2, DEADLINE).await;
    producer.begin_transaction().unwrap();
    for m in &batch {
        let value = String::from_utf8_lossy(m.payload().unwrap()).to_uppercase();
        send_to(&producer, "out", 0, &value).await;
    }
    let offsets = next_offsets(&batch);
    let metadata = consumer.group_metadata().expect("group metadata");
    producer
        .send_offsets_to_transaction(&offsets, &metadata, DEADLINE)
        .expect("send offsets");
    producer.abort_transaction(DEADLINE).expect("abort");
    assert!(
        committed_offset(&cluster, "ctp").is_none(),
        "aborted offsets stay invisible"
    );

    // Second pass: all four, committed with their offsets.
    producer.begin_transaction().unwrap();
    for i in 0..4 {
        send_to(&producer, "out", 0, &format!("N{i}")).await;
    }
    let mut offsets = TopicPartitionList::new();
    offsets
        .add_partition_offset("in", 0, Offset::Offset(4))
        .unwrap();
    producer
        .send_offsets_to_transaction(&offsets, &metadata, DEADLINE)
        .expect("send offsets");
    producer.commit_transaction(DEADLINE).expect("commit");

    assert_eq!(committed_offset(&cluster, "ctp"), Some(4));
    let out = reader(&cluster, "read_committed", "out", 1);
    assert_eq!(
        values(&consume(&out, 4, DEADLINE).await),
        ["N0", "N1", "N2", "N3"]
    );
    // The history agrees: the group was handed all four inputs, its offset arrived with
    // the committed transaction (not the aborted one), and nothing moved backwards.
    let snapshot = broker_sim::checks::Snapshot::of(&cluster);
    broker_sim::checks::all(&snapshot).assert_ok();
    let commits: Vec<_> = snapshot
        .history
        .events
        .iter()
        .filter_map(|e| match e {
            broker_sim::HistoryEvent::Committed { offset, source, .. } => {
                Some((*offset, source.clone()))
            }
            _ => None,
        })
        .collect();
    assert!(
        matches!(
            commits.as_slice(),
            [(4, broker_sim::CommitSource::Transaction { .. })]
        ),
        "{commits:?}"
    );
}

fn next_offsets(batch: &[OwnedMessage]) -> TopicPartitionList {
    let mut offsets = TopicPartitionList::new();
    for m in batch {
        offsets
            .add_partition_offset(m.topic(), m.partition(), Offset::Offset(m.offset() + 1))
            .unwrap();
    }
    offsets
}

fn committed_offset(cluster: &Cluster, group: &str) -> Option<i64> {
    cluster
        .group(group)?
        .offsets
        .iter()
        .find(|o| o.topic == "in" && o.partition == 0)
        .map(|o| o.offset)
}

fn is_fenced(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(
            RDKafkaErrorCode::ProducerFenced
                | RDKafkaErrorCode::InvalidProducerEpoch
                | RDKafkaErrorCode::Fenced
        )
    ) || e.to_string().to_lowercase().contains("fenced")
}

#[tokio::test]
async fn a_zombie_with_the_same_transactional_id_is_fenced_and_its_transaction_aborted() {
    init_tracing();
    let cluster = Cluster::builder().brokers(3).topic("t", 1).start().unwrap();
    let zombie = transactional_producer(&cluster, "tx-zombie", 60_000);
    zombie.begin_transaction().unwrap();
    send_to(&zombie, "t", 0, "from-the-zombie").await;
    let epoch_before = cluster.transaction("tx-zombie").unwrap().producer_epoch;

    // The new instance's InitProducerId bumps the epoch and aborts the zombie's transaction.
    let successor = transactional_producer(&cluster, "tx-zombie", 60_000);
    let txn = cluster.transaction("tx-zombie").unwrap();
    assert!(txn.producer_epoch > epoch_before, "{txn:?}");
    successor.begin_transaction().unwrap();
    send_to(&successor, "t", 0, "from-the-successor").await;
    successor
        .commit_transaction(DEADLINE)
        .expect("successor commits");

    let err = zombie
        .commit_transaction(DEADLINE)
        .expect_err("the zombie cannot commit");
    assert!(is_fenced(&err), "fenced, not {err}");
    assert_eq!(
        statuses(&cluster, "t"),
        [
            ("from-the-zombie".to_string(), TxnStatus::Aborted),
            ("from-the-successor".to_string(), TxnStatus::Committed),
        ]
    );
    let consumer = reader(&cluster, "read_committed", "t", 1);
    assert_eq!(
        values(&consume(&consumer, 1, DEADLINE).await),
        ["from-the-successor"]
    );
}

#[tokio::test]
async fn a_transaction_left_open_past_its_timeout_is_aborted_when_the_clock_passes_it() {
    init_tracing();
    let cluster = Cluster::builder()
        .brokers(1)
        .topic("t", 1)
        // Now, so that the records' CreateTime passes the broker's timestamp checks.
        .manual_clock(now_ms())
        .start()
        .unwrap();
    let producer = transactional_producer(&cluster, "tx-timeout", 60_000);
    producer.begin_transaction().unwrap();
    send_to(&producer, "t", 0, "abandoned").await;
    assert_eq!(cluster.transaction("tx-timeout").unwrap().state, "Ongoing");

    cluster.advance(Duration::from_millis(60_000));
    assert_eq!(
        cluster.transaction("tx-timeout").unwrap().state,
        "Ongoing",
        "not before the timeout has passed"
    );
    cluster.advance(Duration::from_millis(1));
    let txn = cluster.transaction("tx-timeout").unwrap();
    assert_eq!(txn.state, "CompleteAbort", "{txn:?}");
    assert_eq!(
        statuses(&cluster, "t"),
        [("abandoned".to_string(), TxnStatus::Aborted)]
    );
    assert_eq!(cluster.last_stable_offset("t", 0), Some(2));

    let err = producer
        .commit_transaction(DEADLINE)
        .expect_err("the timed-out transaction cannot commit");
    assert!(
        is_fenced(&err) || err.to_string().contains("abort"),
        "{err}"
    );
}

#[tokio::test]
async fn the_coordinators_broker_stopping_mid_transaction_moves_it_to_the_next_broker() {
    init_tracing();
    let cluster = Cluster::builder().brokers(3).topic("t", 3).start().unwrap();
    let producer = transactional_producer(&cluster, "tx-failover", 60_000);
    producer.begin_transaction().unwrap();
    for p in 0..3 {
        send_to(&producer, "t", p, &format!("v{p}")).await;
    }
    let coordinator = cluster.coordinator("tx-failover").unwrap();
    cluster.stop_broker(coordinator).unwrap();
    let next = cluster.coordinator("tx-failover").unwrap();
    assert_ne!(next, coordinator);
    // The producer finds the new coordinator (NOT_COORDINATOR, FindCoordinator) and the
    // commit completes there, markers reaching every partition's (possibly new) leader.
    producer
        .commit_transaction(DEADLINE)
        .expect("commit after failover");
    assert_eq!(
        cluster.transaction("tx-failover").unwrap().state,
        "CompleteCommit"
    );
    // A consumer bootstrapped from the brokers still up (librdkafka reports every failed
    // connection to a stopped one as a consumer error).
    let live: Vec<String> = cluster
        .brokers()
        .iter()
        .filter(|b| b.id != coordinator)
        .map(|b| format!("{}:{}", b.host, b.port))
        .collect();
    let consumer: StreamConsumer = consumer_config(&live.join(","))
        .set("isolation.level", "read_committed")
        .create()
        .unwrap();
    assign_from_beginning(&consumer, "t", 3);
    let mut got = values(&consume(&consumer, 3, DEADLINE).await);
    got.sort();
    assert_eq!(got, ["v0", "v1", "v2"]);
    wait_until(DEADLINE, "every record committed", || {
        statuses(&cluster, "t")
            .iter()
            .all(|(_, s)| *s == TxnStatus::Committed)
    })
    .await;
}
