//! Shared helpers for the real-client integration tests in `tests/`.
//!
//! Every test starts its own [`broker_sim::Cluster`], talks to it with a real client
//! (librdkafka through `rdkafka`, or `rskafka` via [`rskafka_client`]) over real sockets,
//! and checks the result both through the client and through the cluster's inspection
//! API. One file per client and concern: `rdkafka_produce`, `rdkafka_consume`,
//! `rdkafka_offsets`, `rdkafka_topic_configs`, `rdkafka_metadata`, `rdkafka_admin`,
//! `rskafka`, `partitioner`.
//!
//! The helpers exist for two reasons:
//!
//! - **No sleeps for synchronisation.** Tests wait on a *condition* with a deadline
//!   ([`wait_until`], [`wait_for`], [`consume`]); the short sleep between two checks is
//!   only a poll interval, and a test that runs out of time fails with a message saying
//!   what it was waiting for.
//! - **Fast failure on 2 cores.** librdkafka's defaults assume a production cluster
//!   (30 s socket timeouts, 5 min message timeouts, 5 min metadata refresh). The config
//!   builders here ([`producer_config`], [`consumer_config`], [`admin_config`]) shorten
//!   them so a broken behaviour fails a test in seconds, not minutes. Tests add or
//!   override only the settings the behaviour under test is about.
//!
//! Consumers never join a group: consumer groups are not part of broker-sim yet, so
//! [`consumer_config`] sets a `group.id` (librdkafka requires one) but disables every
//! commit, and tests read by [`assign_from_beginning`].

use std::time::Duration;

use broker_sim::Record;
use bytes::Bytes;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::{Headers, OwnedMessage};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::util::Timeout;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

/// How long a test waits for something that, on a working broker, takes milliseconds.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Interval between two checks of a condition.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

/// Installs a `tracing` subscriber honouring `RUST_LOG`, once per test binary, so broker
/// logs show up in a failing test's output.
pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
}

/// Polls `condition` until it holds; panics naming `what` if `deadline` passes first.
pub async fn wait_until(deadline: Duration, what: &str, mut condition: impl FnMut() -> bool) {
    wait_for(deadline, what, || condition().then_some(())).await
}

/// Polls `probe` until it yields a value and returns it; panics naming `what` if
/// `deadline` passes first.
pub async fn wait_for<T>(
    deadline: Duration,
    what: &str,
    mut probe: impl FnMut() -> Option<T>,
) -> T {
    let give_up = tokio::time::Instant::now() + deadline;
    loop {
        if let Some(value) = probe() {
            return value;
        }
        if tokio::time::Instant::now() >= give_up {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// Settings every librdkafka client in these tests shares: short socket and retry
/// timings, and a fast metadata refresh so topic changes are noticed quickly.
fn base_config(bootstrap: &str) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("socket.timeout.ms", "10000")
        .set("reconnect.backoff.ms", "20")
        .set("reconnect.backoff.max.ms", "200")
        .set("retry.backoff.ms", "20")
        .set("retry.backoff.max.ms", "200")
        .set("topic.metadata.refresh.interval.ms", "1000")
        .set("topic.metadata.refresh.fast.interval.ms", "50");
    config
}

/// A producer config with librdkafka's defaults except for timings: a message that is not
/// delivered within 10 s fails its delivery report instead of retrying for 5 minutes.
pub fn producer_config(bootstrap: &str) -> ClientConfig {
    let mut config = base_config(bootstrap);
    config
        .set("message.timeout.ms", "10000")
        .set("request.timeout.ms", "5000");
    config
}

/// A consumer config for reading by assignment: a `group.id` because librdkafka insists,
/// but no auto-commit and no offset store, so nothing ever talks to a group coordinator
/// about offsets. Unassigned positions start at the earliest offset, fetches return after
/// at most 100 ms so an idle consumer notices new data quickly, and every fetched batch's
/// CRC is verified, so a broker that corrupts batches on the way out fails every
/// consuming test.
pub fn consumer_config(bootstrap: &str) -> ClientConfig {
    let mut config = base_config(bootstrap);
    config
        .set("group.id", "client-tests-never-commits")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("fetch.wait.max.ms", "100")
        .set("fetch.error.backoff.ms", "20")
        .set("check.crcs", "true");
    config
}

/// A consumer with [`consumer_config`], for metadata, watermark and offset look-ups.
pub fn base_consumer(cluster: &broker_sim::Cluster) -> rdkafka::consumer::BaseConsumer {
    consumer_config(&cluster.bootstrap_servers())
        .create()
        .expect("consumer")
}

/// An admin client config.
pub fn admin_config(bootstrap: &str) -> ClientConfig {
    base_config(bootstrap)
}

/// Assigns every partition `0..partitions` of `topic` to `consumer`, starting at the
/// beginning of each log.
pub fn assign_from_beginning(consumer: &impl Consumer, topic: &str, partitions: i32) {
    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .expect("valid offset");
    }
    consumer.assign(&assignment).expect("assign partitions");
}

/// Receives exactly `count` messages from `consumer` (which must already be assigned),
/// failing the test on a consumer error or if they do not all arrive within `deadline`.
pub async fn consume(
    consumer: &StreamConsumer,
    count: usize,
    deadline: Duration,
) -> Vec<OwnedMessage> {
    let give_up = tokio::time::Instant::now() + deadline;
    let mut messages = Vec::with_capacity(count);
    while messages.len() < count {
        match tokio::time::timeout_at(give_up, consumer.recv()).await {
            Ok(Ok(message)) => messages.push(message.detach()),
            Ok(Err(e)) => panic!("consumer error after {} messages: {e}", messages.len()),
            Err(_) => panic!(
                "timed out after {deadline:?} with {} of {count} messages consumed",
                messages.len()
            ),
        }
    }
    messages
}

/// A consumed message in the cluster's [`Record`] shape, so a round trip can be checked
/// against [`broker_sim::Cluster::records`] with one `assert_eq!`.
pub fn to_record(message: &OwnedMessage) -> Record {
    let headers = message
        .headers()
        .map(|headers| {
            headers
                .iter()
                .map(|h| (h.key.to_string(), h.value.map(Bytes::copy_from_slice)))
                .collect()
        })
        .unwrap_or_default();
    Record {
        topic: message.topic().to_string(),
        partition: message.partition(),
        offset: message.offset(),
        timestamp: message
            .timestamp()
            .to_millis()
            .expect("consumed message has a timestamp"),
        key: message.key().map(Bytes::copy_from_slice),
        value: message.payload().map(Bytes::copy_from_slice),
        headers,
    }
}

/// Consumed messages as [`Record`]s ordered like `Cluster::records`: by partition, then
/// offset.
pub fn to_sorted_records(messages: &[OwnedMessage]) -> Vec<Record> {
    let mut records: Vec<Record> = messages.iter().map(to_record).collect();
    records.sort_by_key(|r| (r.partition, r.offset));
    records
}

/// Sends one record and waits for its delivery report; panics if delivery fails.
/// Returns (partition, offset).
pub async fn send<K, P>(producer: &FutureProducer, record: FutureRecord<'_, K, P>) -> (i32, i64)
where
    K: rdkafka::message::ToBytes + ?Sized,
    P: rdkafka::message::ToBytes + ?Sized,
{
    match producer.send(record, Timeout::Never).await {
        Ok(delivery) => (delivery.partition, delivery.offset),
        Err((e, message)) => panic!(
            "delivery to {}/{} failed: {e}",
            message.topic(),
            message.partition()
        ),
    }
}

/// An rskafka client for `bootstrap` (comma-separated, as `Cluster::bootstrap_servers`
/// gives it) that retries quickly and gives up after 10 s, instead of rskafka's default of
/// retrying forever with backoff growing to minutes.
pub async fn rskafka_client(bootstrap: &str) -> rskafka::client::Client {
    let backoff = rskafka::BackoffConfig {
        init_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        base: 2.0,
        deadline: Some(Duration::from_secs(10)),
    };
    rskafka::client::ClientBuilder::new(bootstrap.split(',').map(str::to_string).collect())
        .backoff_config(backoff)
        .build()
        .await
        .expect("rskafka client connects")
}

/// A record's key and value as UTF-8, for readable assertions.
pub fn key_value(record: &Record) -> (Option<&str>, Option<&str>) {
    (record.key_str(), record.value_str())
}
