//! Checklist section 2, the consumer (`../shared/CHECKLIST.md`): a service that consumes
//! `orders.created`, stores each order ([`OrderConsumer`] into an [`OrderStore`]) and
//! commits only what it handled. Each test is one row: reading without errors, the stored
//! result, commit after success and not after failure, the dead-letter topic, and
//! idempotence. They double as the README's cookbook: the cluster seeds the records and
//! tells the test what the group committed (`Cluster::group`), and
//! `Cluster::reset_group_offsets` redelivers.

use broker_sim::{ApiKey, Cluster, Fault, NewRecord, OffsetReset, ResponseError};
use bytes::Bytes;
use client_tests::checklist::{
    ERROR_HEADER, ORDERS, ORDERS_DLQ, Order, OrderConsumer, OrderService, Processed,
};
use client_tests::*;
use rdkafka::ClientConfig;
use rdkafka::message::OwnedMessage;
use rdkafka::producer::{FutureProducer, FutureRecord};

const GROUP: &str = "order-store";

fn cluster() -> Cluster {
    init_tracing();
    Cluster::builder()
        .brokers(3)
        .topic(ORDERS, 3)
        .topic(ORDERS_DLQ, 1)
        .start()
        .expect("cluster starts")
}

fn producer(cluster: &Cluster) -> FutureProducer {
    producer_config(&cluster.bootstrap_servers())
        .set("acks", "all")
        .create()
        .expect("producer")
}

fn producer_with_idempotence(cluster: &Cluster, idempotence: bool) -> FutureProducer {
    producer_config(&cluster.bootstrap_servers())
        .set("enable.idempotence", idempotence.to_string())
        .create()
        .expect("producer")
}

/// The next produce to the orders topic is written, then answered REQUEST_TIMED_OUT: the
/// lost answer that makes a producer send the same records again.
fn lose_next_produce_answer(cluster: &Cluster) -> broker_sim::FaultId {
    cluster
        .inject(
            Fault::on(ApiKey::Produce)
                .topic(ORDERS)
                .apply_then_error(ResponseError::RequestTimedOut)
                .once(),
        )
        .unwrap()
}

fn member(cluster: &Cluster, name: &str) -> GroupMember {
    let config: ClientConfig = group_consumer_config(&cluster.bootstrap_servers(), GROUP);
    GroupMember::subscribe(&config, name, &[ORDERS])
}

/// Seeds `orders` on the topic, keyed by order id, as the producing service would.
fn seed_orders(cluster: &Cluster, orders: impl IntoIterator<Item = Order>) -> usize {
    let mut count = 0;
    for order in orders {
        let record = NewRecord {
            timestamp: order.timestamp,
            key: Some(Bytes::from(order.order_id.clone())),
            value: Some(serde_json::to_vec(&order).unwrap().into()),
            headers: Vec::new(),
        };
        cluster.produce_record(ORDERS, None, record).unwrap();
        count += 1;
    }
    count
}

/// Pumps `member` through the application until `count` records have been consumed;
/// returns what processing did, summed.
async fn run_until_consumed(
    member: &mut GroupMember,
    app: &OrderConsumer,
    count: usize,
) -> Processed {
    let mut total = Processed::default();
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while member.consumed().len() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "consumed {} of {count} records",
            member.consumed().len()
        );
        let fresh: Vec<OwnedMessage> = member
            .try_pump(std::time::Duration::from_millis(50))
            .expect("no consumer error");
        let outcome = app.process(member, &fresh).await;
        total.stored += outcome.stored;
        total.dead_lettered += outcome.dead_lettered;
        total.failed |= outcome.failed;
    }
    total
}

/// The group's committed offsets, summed over partitions (0 if nothing is committed).
fn committed_total(cluster: &Cluster) -> i64 {
    cluster
        .group(GROUP)
        .map_or(0, |g| g.offsets.iter().map(|o| o.offset).sum())
}

#[tokio::test]
async fn consumer_reads_topic_without_errors() {
    let cluster = cluster();
    let seeded = seed_orders(&cluster, (0..30).map(Order::new));
    let mut member = member(&cluster, "reader");
    // `pump` panics on any consumer error, so reaching the count is the assertion.
    wait_until(DEADLINE, "all 30 seeded records to be read", || {
        member.pump();
        member.consumed().len() >= seeded
    })
    .await;
    assert_eq!(
        to_sorted_records(member.consumed()),
        cluster.records(ORDERS)
    );
}

#[tokio::test]
async fn consumer_processing_writes_each_order_to_the_store() {
    let cluster = cluster();
    let service = OrderService::new(producer(&cluster));
    let orders: Vec<Order> = (1..=10).map(Order::new).collect();
    for order in &orders {
        service.create(order).await.unwrap();
    }
    let app = OrderConsumer::new(producer(&cluster));
    let mut member = member(&cluster, "store-writer");
    let outcome = run_until_consumed(&mut member, &app, 10).await;
    assert_eq!(outcome.stored, 10);
    let rows = app.store.rows();
    for order in orders {
        assert_eq!(
            rows.get(&order.order_id),
            Some(&order),
            "row for {}",
            order.order_id
        );
    }
}

#[tokio::test]
async fn consumer_offset_committed_after_processing() {
    let cluster = cluster();
    let seeded = seed_orders(&cluster, (0..12).map(Order::new)) as i64;
    let app = OrderConsumer::new(producer(&cluster));
    let mut member = member(&cluster, "committer");
    run_until_consumed(&mut member, &app, seeded as usize).await;
    let group = cluster.group(GROUP).expect("the group exists");
    assert_eq!(
        group.offsets.len(),
        3,
        "every partition committed: {group:?}"
    );
    for o in &group.offsets {
        assert_eq!(o.offset, o.high_watermark, "{o:?}");
        assert_eq!(o.lag, 0);
    }
    assert_eq!(committed_total(&cluster), seeded);
}

#[tokio::test]
async fn consumer_offset_not_committed_on_processing_error() {
    let cluster = cluster();
    let seeded = seed_orders(&cluster, (0..9).map(Order::new));
    let app = OrderConsumer::new(producer(&cluster));

    app.store.set_down(true);
    let mut first = member(&cluster, "first-try");
    let outcome = run_until_consumed(&mut first, &app, seeded).await;
    assert!(outcome.failed && outcome.stored == 0, "{outcome:?}");
    assert_eq!(
        committed_total(&cluster),
        0,
        "nothing handled, nothing committed"
    );
    drop(first);

    // The database is back and the service restarts: at-least-once means every record
    // comes again, from the last commit.
    app.store.set_down(false);
    let mut second = member(&cluster, "second-try");
    let outcome = run_until_consumed(&mut second, &app, seeded).await;
    assert_eq!(outcome.stored, seeded);
    assert_eq!(app.store.rows().len(), seeded);
    assert_eq!(committed_total(&cluster), seeded as i64);
}

#[tokio::test]
async fn dead_letter_topic_receives_poison_record() {
    let cluster = cluster();
    seed_orders(&cluster, (0..3).map(Order::new));
    let (poison_partition, _) = cluster
        .produce(ORDERS, Some(b"order-poison"), b"{not json")
        .unwrap();
    seed_orders(&cluster, (3..6).map(Order::new));

    let app = OrderConsumer::new(producer(&cluster));
    let mut member = member(&cluster, "poison-eater");
    let outcome = run_until_consumed(&mut member, &app, 7).await;
    assert_eq!(
        (outcome.stored, outcome.dead_lettered),
        (6, 1),
        "{outcome:?}"
    );

    let parked = cluster.records(ORDERS_DLQ);
    assert_eq!(parked.len(), 1);
    assert_eq!(parked[0].key_str(), Some("order-poison"));
    assert_eq!(parked[0].value_str(), Some("{not json"));
    assert_eq!(parked[0].headers[0].0, ERROR_HEADER);
    // The poison record counts as handled: the group moved past it and does not get stuck.
    let group = cluster.group(GROUP).unwrap();
    let poisoned = group.offset(ORDERS, poison_partition).unwrap();
    assert_eq!(
        poisoned,
        cluster
            .partition(ORDERS, poison_partition)
            .unwrap()
            .high_watermark
    );
    assert_eq!(group.total_lag(), 0);
}

#[tokio::test]
async fn duplicate_delivery_is_idempotent() {
    let cluster = cluster();
    // The same message twice: a plain (non-idempotent) producer whose first answer was
    // lost retries it, and Kafka then holds it twice (at-least-once delivery).
    let lost_answer = lose_next_produce_answer(&cluster);
    let service = OrderService::new(producer_with_idempotence(&cluster, false));
    let order = Order::new(5);
    service.create(&order).await.unwrap();
    assert_eq!(cluster.fault_hits(lost_answer), Some(1));
    assert_eq!(
        cluster.records(ORDERS).len(),
        2,
        "written, answer lost, written again"
    );

    let app = OrderConsumer::new(producer(&cluster));
    let mut first = member(&cluster, "dedup");
    run_until_consumed(&mut first, &app, 2).await;
    assert_eq!(app.store.rows().len(), 1, "two deliveries, one row");
    drop(first);

    // Redelivery on purpose: move the group back and process everything again.
    cluster
        .reset_group_offsets(GROUP, ORDERS, OffsetReset::Earliest)
        .unwrap();
    assert_eq!(committed_total(&cluster), 0);
    let mut again = member(&cluster, "dedup-again");
    run_until_consumed(&mut again, &app, 2).await;
    assert_eq!(
        app.store.rows().len(),
        1,
        "reprocessing creates no second row"
    );
    assert_eq!(app.store.rows().get("order-5"), Some(&order));
}

#[tokio::test]
async fn idempotent_producer_writes_a_retried_send_once() {
    let cluster = cluster();
    let lost_answer = lose_next_produce_answer(&cluster);
    send(
        &producer_with_idempotence(&cluster, true),
        FutureRecord::to(ORDERS).key("order-1").payload("created"),
    )
    .await;
    assert_eq!(cluster.fault_hits(lost_answer), Some(1));
    // The retry carried the same producer id and sequence; the broker recognised it.
    let records = cluster.records(ORDERS);
    assert_eq!(records.len(), 1, "{records:?}");
}
