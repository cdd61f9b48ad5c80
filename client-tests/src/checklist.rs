//! The small application the checklist tests (`tests/checklist_*.rs`) play: an order
//! service that publishes `orders.created` events, and a consumer that stores orders in a
//! database. The checklist's rows are mostly about a user's own code ("the order is stored",
//! "the poison record goes to the dead-letter topic", "a duplicate creates no second row"),
//! so the tests need some code of that shape to test; this is it, written the way a user
//! would write it with rdkafka, with an in-memory map standing in for the database.

use std::collections::BTreeMap;
use std::sync::Mutex;

use rdkafka::Message;
use rdkafka::message::ToBytes;
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use serde::{Deserialize, Serialize};

use crate::GroupMember;

/// The topic orders are published on, as in the checklist's example scenario.
pub const ORDERS: &str = "orders.created";
/// Where the consumer sends records it cannot process.
pub const ORDERS_DLQ: &str = "orders.created.dlq";
/// The header a dead-lettered record carries: why it was rejected.
pub const ERROR_HEADER: &str = "error";

/// The event: `{orderId, userId, amount, timestamp}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Order {
    pub order_id: String,
    pub user_id: String,
    pub amount: f64,
    pub timestamp: i64,
}

impl Order {
    pub fn new(n: u32) -> Order {
        Order {
            order_id: format!("order-{n}"),
            user_id: format!("user-{}", n % 7),
            amount: f64::from(n) * 10.0 + 0.5,
            timestamp: 1_767_225_600_000 + i64::from(n),
        }
    }
}

/// The producing side: "create an order through the app's API" publishes it, keyed by
/// order id so every event of one order lands in one partition, in order.
pub struct OrderService {
    producer: FutureProducer,
}

impl OrderService {
    pub fn new(producer: FutureProducer) -> OrderService {
        OrderService { producer }
    }

    /// Publishes `order` and waits for the broker's acknowledgement: (partition, offset).
    pub async fn create(&self, order: &Order) -> Result<(i32, i64), String> {
        let value = serde_json::to_vec(order).map_err(|e| e.to_string())?;
        let record = FutureRecord::to(ORDERS)
            .key(order.order_id.as_str())
            .payload(&value);
        match self.producer.send(record, Timeout::Never).await {
            Ok(delivery) => Ok((delivery.partition, delivery.offset)),
            Err((e, _)) => Err(e.to_string()),
        }
    }
}

/// Hands `record` to librdkafka's queue now and returns the future of its delivery report.
/// Unlike `FutureProducer::send`, whose future does nothing until awaited, this lets a test
/// queue many records and await them afterwards, so they travel in batches and several
/// requests are in flight, as in a real service.
pub fn queue<K, P>(producer: &FutureProducer, record: FutureRecord<'_, K, P>) -> DeliveryFuture
where
    K: ToBytes + ?Sized,
    P: ToBytes + ?Sized,
{
    producer
        .send_result(record)
        .unwrap_or_else(|(e, _)| panic!("librdkafka refused to queue a record: {e}"))
}

/// Awaits a delivery report from [`queue`]; panics unless the broker acknowledged it.
pub async fn delivered(delivery: DeliveryFuture) -> (i32, i64) {
    match delivery.await.expect("producer alive") {
        Ok(d) => (d.partition, d.offset),
        Err((e, m)) => panic!(
            "record at {}/{} not acknowledged: {e}",
            m.topic(),
            m.partition()
        ),
    }
}

/// The database: orders by id. An insert of an id already there changes nothing, which is
/// what makes processing a redelivered record harmless (the idempotent consumer).
#[derive(Default)]
pub struct OrderStore {
    rows: Mutex<BTreeMap<String, Order>>,
    /// While set, every write fails, as a database that is down.
    down: Mutex<bool>,
}

impl OrderStore {
    /// Stores `order` unless a row with its id exists; Err while the store is down.
    pub fn insert(&self, order: Order) -> Result<(), String> {
        if *self.down.lock().unwrap() {
            return Err("database unavailable".into());
        }
        self.rows
            .lock()
            .unwrap()
            .entry(order.order_id.clone())
            .or_insert(order);
        Ok(())
    }

    pub fn set_down(&self, down: bool) {
        *self.down.lock().unwrap() = down;
    }

    pub fn rows(&self) -> BTreeMap<String, Order> {
        self.rows.lock().unwrap().clone()
    }
}

/// What the consumer did with one poll's records.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Processed {
    pub stored: usize,
    pub dead_lettered: usize,
    /// Set when processing stopped at a record that failed for a reason worth retrying
    /// (the store was down): nothing from that record on was committed.
    pub failed: bool,
}

/// The consuming side: decode each record, store it, and commit only what was handled. A
/// record that can never be processed (not an order) goes to the dead-letter topic with
/// the reason in a header and counts as handled; a failure that may pass (the database is
/// down) stops processing without committing, so the record is read again (at least once).
pub struct OrderConsumer {
    pub store: OrderStore,
    dlq: FutureProducer,
    /// (partition, offset) of every record handled, in order.
    handled: Mutex<Vec<(i32, i64)>>,
}

/// When the consumer commits a batch relative to processing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitOrder {
    /// Store, then commit: at least once.
    AfterProcessing,
    /// Commit, then store: a crash in between loses the batch.
    BeforeProcessing,
}

impl OrderConsumer {
    /// A consumer with an empty store, dead-lettering through `dlq`.
    pub fn new(dlq: FutureProducer) -> OrderConsumer {
        OrderConsumer {
            store: OrderStore::default(),
            dlq,
            handled: Mutex::new(Vec::new()),
        }
    }

    pub async fn process(&self, member: &GroupMember, messages: &[OwnedMessage]) -> Processed {
        let (outcome, handled) = self.handle(messages).await;
        // Offsets are per partition: this commits, in each partition, the position after
        // its last handled record. Records from the failed one on are not handled, so they
        // come again after a restart.
        member.commit_after(&handled).expect("commit");
        outcome
    }

    /// One poll's records as the service in production runs them: in the commit order
    /// given, and, with `crash`, dying between the two steps (the process killed
    /// mid-batch: the second step never happens). `Err` when the instance is gone — it
    /// crashed, or its commit failed and it exits to be restarted — and a new instance
    /// must take over.
    ///
    /// [`CommitOrder::AfterProcessing`] is the correct order: a crash leaves the batch
    /// uncommitted, so it comes again and the store's idempotent insert absorbs the
    /// repeat. [`CommitOrder::BeforeProcessing`] is the classic bug the property test in
    /// `tests/checklist_6_properties.rs` exists to catch: a crash after the commit loses
    /// the batch.
    pub async fn process_in_order(
        &self,
        member: &GroupMember,
        messages: &[OwnedMessage],
        order: CommitOrder,
        crash: bool,
    ) -> Result<Processed, String> {
        match order {
            CommitOrder::AfterProcessing => {
                let (outcome, handled) = self.handle(messages).await;
                if crash {
                    return Err("crashed after processing, before committing".into());
                }
                member.commit_after(&handled).map_err(|e| e.to_string())?;
                Ok(outcome)
            }
            CommitOrder::BeforeProcessing => {
                member.commit_after(messages).map_err(|e| e.to_string())?;
                if crash {
                    return Err("crashed after committing, before processing".into());
                }
                Ok(self.handle(messages).await.0)
            }
        }
    }

    /// Every (partition, offset) this consumer handled, in order: what the application
    /// reports to `broker_sim::checks::handled`.
    pub fn handled(&self) -> Vec<(i32, i64)> {
        self.handled.lock().unwrap().clone()
    }

    /// Stores or dead-letters each record until one fails; returns the outcome and the
    /// records handled.
    async fn handle(&self, messages: &[OwnedMessage]) -> (Processed, Vec<OwnedMessage>) {
        let mut outcome = Processed::default();
        let mut handled = Vec::new();
        for message in messages {
            match serde_json::from_slice::<Order>(message.payload().unwrap_or_default()) {
                Ok(order) => {
                    if self.store.insert(order).is_err() {
                        outcome.failed = true;
                        break;
                    }
                    outcome.stored += 1;
                }
                Err(e) => {
                    self.dead_letter(message, &e.to_string()).await;
                    outcome.dead_lettered += 1;
                }
            }
            self.handled
                .lock()
                .unwrap()
                .push((message.partition(), message.offset()));
            handled.push(message.clone());
        }
        (outcome, handled)
    }

    async fn dead_letter(&self, message: &OwnedMessage, reason: &str) {
        let headers = OwnedHeaders::new().insert(Header {
            key: ERROR_HEADER,
            value: Some(reason),
        });
        let mut record = FutureRecord::to(ORDERS_DLQ)
            .payload(message.payload().unwrap_or_default())
            .headers(headers);
        if let Some(key) = message.key() {
            record = record.key(key);
        }
        self.dlq
            .send(record, Timeout::Never)
            .await
            .expect("dead-letter topic accepts the record");
    }
}
