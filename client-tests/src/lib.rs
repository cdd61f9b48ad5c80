//! Shared helpers for the real-client integration tests in `tests/`.
//!
//! Every test starts its own [`broker_sim::Cluster`], talks to it with a real client
//! (librdkafka through `rdkafka`, or `rskafka` via [`rskafka_client`]) over real sockets,
//! and checks the result both through the client and through the cluster's inspection
//! API. One file per client and concern: `rdkafka_produce`, `rdkafka_consume`,
//! `rdkafka_offsets`, `rdkafka_topic_configs`, `rdkafka_metadata`, `rdkafka_admin`,
//! `rdkafka_groups`, `rskafka`, `partitioner`.
//!
//! The helpers exist for two reasons:
//!
//! - **No sleeps for synchronisation.** Tests wait on a *condition* with a deadline
//!   ([`wait_until`], [`wait_for`], [`wait_for_ok`], [`consume`]); the short sleep
//!   between two checks is only a poll interval, and a test that runs out of time fails
//!   with a message saying what it was waiting for.
//! - **Fast failure on 2 cores.** librdkafka's defaults assume a production cluster
//!   (30 s socket timeouts, 5 min message timeouts, 5 min metadata refresh). The config
//!   builders here ([`producer_config`], [`consumer_config`], [`group_consumer_config`],
//!   [`admin_config`]) shorten them so a broken behaviour fails a test in seconds, not
//!   minutes. Tests add or override only the settings the behaviour under test is about.
//!
//! Consumers come in two kinds. [`consumer_config`] is for reading by assignment: it sets a
//! `group.id` (librdkafka requires one) but never commits, and tests read with
//! [`assign_from_beginning`]. [`group_consumer_config`] is for consumers that really join a
//! group (`tests/rdkafka_groups.rs`): they subscribe, take part in rebalances and commit.
//! Such a consumer is driven by a [`GroupMember`], a `BaseConsumer` that a test *pumps*
//! from inside a [`wait_until`] condition, so several members of one group make progress
//! on one test thread and rebalance callbacks run at well-defined points; its
//! [`RebalanceLog`] context records every assignment and revocation for later assertions.
//! [`settled_group`] / [`settle_group`] say when a group has finished rebalancing, as both
//! the coordinator and the clients see it. A member that must die like a crashed process
//! (no LeaveGroup) runs in a [`ChildProcess`] (the `crash-consumer` binary) the test can
//! SIGKILL.

pub mod checklist;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use broker_sim::{Cluster, GroupInfo, GroupState, Record};
use bytes::Bytes;
use rdkafka::client::ClientContext;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::error::KafkaResult;
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
    wait_for_ok(deadline, what, || probe().ok_or_else(String::new)).await
}

/// Polls `probe` until it returns `Ok` and returns the value; if `deadline` passes first,
/// panics naming `what` and quoting the last `Err`, which says why the condition did not
/// hold yet (say, the group's state and each member's assignment). For conditions whose
/// failure is hard to diagnose from the condition's name alone.
pub async fn wait_for_ok<T>(
    deadline: Duration,
    what: &str,
    mut probe: impl FnMut() -> Result<T, String>,
) -> T {
    let give_up = tokio::time::Instant::now() + deadline;
    loop {
        let why_not = match probe() {
            Ok(value) => return value,
            Err(why_not) => why_not,
        };
        if tokio::time::Instant::now() >= give_up {
            panic!("timed out after {deadline:?} waiting for {what}; last seen: {why_not}");
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

/// A consumer config for a real group member of `group`: it subscribes, rebalances and
/// commits only when the test says so (`enable.auto.commit=false`; the offset store stays
/// on so `commit_consumer_state` commits what was consumed).
///
/// Heartbeats every 100 ms, so a rebalance the coordinator starts is noticed within a
/// heartbeat rather than librdkafka's default 3 s. The session timeout is 10 s, inside the
/// broker's default bounds (6 s to 30 min); a test about session expiry lowers both it
/// and the cluster's `group_min_session_timeout_ms`. Partition EOF events are off, and a
/// partition without a committed offset starts at the beginning of its log.
pub fn group_consumer_config(bootstrap: &str, group: &str) -> ClientConfig {
    let mut config = base_config(bootstrap);
    config
        .set("group.id", group)
        .set("heartbeat.interval.ms", "100")
        .set("session.timeout.ms", "10000")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
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
        // A consumer cannot tell; records written outside transactions compare equal.
        transaction: broker_sim::TxnStatus::None,
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

/// One (topic, partition).
pub type TopicPartition = (String, i32);

/// The (topic, partition) pairs of a librdkafka partition list, sorted.
pub fn topic_partitions(list: &TopicPartitionList) -> Vec<TopicPartition> {
    let mut pairs: Vec<TopicPartition> = list
        .elements()
        .iter()
        .map(|e| (e.topic().to_string(), e.partition()))
        .collect();
    pairs.sort();
    pairs
}

/// Every partition of `topic` as the cluster has it, in order.
pub fn all_partitions(cluster: &Cluster, topic: &str) -> Vec<TopicPartition> {
    let count = cluster.partitions(topic).map_or(0, |p| p.len() as i32);
    (0..count).map(|p| (topic.to_string(), p)).collect()
}

/// One rebalance callback as a consumer saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebalanceEvent {
    /// Partitions handed to the consumer (all of them under the eager protocol, only the
    /// new ones under the cooperative one).
    Assigned(Vec<TopicPartition>),
    /// Partitions taken away.
    Revoked(Vec<TopicPartition>),
    /// librdkafka reported a rebalance error.
    Failed(String),
}

/// A consumer context that records every rebalance callback, after librdkafka's default
/// handling (assign / incremental assign) has run.
#[derive(Debug, Default)]
pub struct RebalanceLog {
    events: Mutex<Vec<RebalanceEvent>>,
}

impl RebalanceLog {
    /// Every callback so far, oldest first.
    pub fn events(&self) -> Vec<RebalanceEvent> {
        self.events.lock().unwrap().clone()
    }
}

impl ClientContext for RebalanceLog {}

impl ConsumerContext for RebalanceLog {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let event = match rebalance {
            Rebalance::Assign(list) => RebalanceEvent::Assigned(topic_partitions(list)),
            Rebalance::Revoke(list) => RebalanceEvent::Revoked(topic_partitions(list)),
            Rebalance::Error(e) => RebalanceEvent::Failed(e.to_string()),
        };
        self.events.lock().unwrap().push(event);
    }
}

/// A subscribed group consumer that a test drives by calling [`GroupMember::pump`].
///
/// librdkafka joins, heartbeats and fetches on its own threads, but rebalance callbacks
/// and messages are handed over only when the application polls. Pumping every member of
/// a group from one `wait_until` condition keeps them all responsive, without a thread per
/// consumer, and makes each callback run at a point the test controls. Its `client.id` is
/// its name, which is how a test finds it among a `GroupInfo`'s members.
pub struct GroupMember {
    name: String,
    consumer: BaseConsumer<RebalanceLog>,
    consumed: Vec<OwnedMessage>,
}

impl GroupMember {
    /// Creates a consumer from `config` named `name` and subscribes it to `topics`; it
    /// joins the group as it is pumped.
    pub fn subscribe(config: &ClientConfig, name: &str, topics: &[&str]) -> GroupMember {
        let consumer: BaseConsumer<RebalanceLog> = config
            .clone()
            .set("client.id", name)
            .create_with_context(RebalanceLog::default())
            .expect("group consumer");
        consumer.subscribe(topics).expect("subscribe");
        GroupMember {
            name: name.to_string(),
            consumer,
            consumed: Vec::new(),
        }
    }

    /// Its name, which is also its `client.id`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The underlying consumer, for calls the wrapper does not cover.
    pub fn consumer(&self) -> &BaseConsumer<RebalanceLog> {
        &self.consumer
    }

    /// Serves pending rebalance callbacks and takes every message already fetched, without
    /// blocking. Returns the new messages (also kept in [`GroupMember::consumed`]); panics
    /// on a consumer error.
    pub fn pump(&mut self) -> Vec<OwnedMessage> {
        self.try_pump(Duration::ZERO)
            .unwrap_or_else(|e| panic!("consumer {}: {e}", self.name))
    }

    /// Like [`GroupMember::pump`], but the first poll may block for up to `wait`, and a
    /// consumer error is returned (messages taken before it are kept in `consumed`).
    pub fn try_pump(&mut self, wait: Duration) -> KafkaResult<Vec<OwnedMessage>> {
        let mut fresh = Vec::new();
        let mut timeout = wait;
        // Bounded so a flood of messages cannot keep one pump call from returning.
        for _ in 0..10_000 {
            match self.consumer.poll(timeout) {
                Some(Ok(message)) => fresh.push(message.detach()),
                Some(Err(e)) => {
                    self.consumed.extend(fresh);
                    return Err(e);
                }
                // Nothing more queued, or a rebalance or commit event was served.
                None => break,
            }
            timeout = Duration::ZERO;
        }
        self.consumed.extend(fresh.iter().cloned());
        Ok(fresh)
    }

    /// Every message this member has taken so far, in the order received.
    pub fn consumed(&self) -> &[OwnedMessage] {
        &self.consumed
    }

    /// Its current assignment as librdkafka has applied it, sorted.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        topic_partitions(&self.consumer.assignment().expect("assignment"))
    }

    /// Every rebalance callback it has run, oldest first.
    pub fn rebalances(&self) -> Vec<RebalanceEvent> {
        self.consumer.context().events()
    }

    /// Commits synchronously: for each `(topic, partition, offset)`, `offset` becomes the
    /// next record the group reads there.
    pub fn commit(&self, offsets: &[(&str, i32, i64)]) -> KafkaResult<()> {
        let mut list = TopicPartitionList::new();
        for &(topic, partition, offset) in offsets {
            list.add_partition_offset(topic, partition, Offset::Offset(offset))?;
        }
        self.consumer.commit(&list, CommitMode::Sync)
    }

    /// Commits synchronously the position after `messages`: per partition, one past the
    /// highest offset among them. Nothing is sent if `messages` is empty.
    pub fn commit_after(&self, messages: &[OwnedMessage]) -> KafkaResult<()> {
        let mut next: BTreeMap<(&str, i32), i64> = BTreeMap::new();
        for m in messages {
            let at = next.entry((m.topic(), m.partition())).or_default();
            *at = (*at).max(m.offset() + 1);
        }
        if next.is_empty() {
            return Ok(());
        }
        let offsets: Vec<_> = next.iter().map(|(&(t, p), &o)| (t, p, o)).collect();
        self.commit(&offsets)
    }
}

/// `Ok(group)` once `group_id` has settled with exactly `members` on `topic`: the group is
/// Stable, has one member per [`GroupMember`] (matched by `client.id`), the coordinator's
/// record of each member's assignment is what that client has applied, and together they
/// cover every partition of `topic` exactly once. Otherwise `Err` describes what is
/// missing, for [`wait_for_ok`].
///
/// All four are needed: a cooperative rebalance passes through a Stable generation with
/// partitions still unassigned, and a client applies its assignment some time after the
/// coordinator hands it out.
pub fn settled_group(
    cluster: &Cluster,
    group_id: &str,
    members: &[&GroupMember],
    topic: &str,
) -> Result<GroupInfo, String> {
    let info = cluster
        .group(group_id)
        .ok_or_else(|| format!("no group {group_id:?}"))?;
    let clients: Vec<(&str, Vec<TopicPartition>)> =
        members.iter().map(|m| (m.name(), m.assignment())).collect();
    let why_not = |reason: &str| format!("{reason}; group {info:?}; clients {clients:?}");
    if info.state != GroupState::Stable {
        return Err(why_not("not Stable"));
    }
    if info.members.len() != members.len() {
        return Err(why_not("wrong member count"));
    }
    let mut covered = Vec::new();
    for (name, applied) in &clients {
        let Some(member) = info.members.iter().find(|m| m.client_id == *name) else {
            return Err(why_not(&format!("{name} is not a member")));
        };
        let mut assigned = member.partitions();
        assigned.sort();
        if &assigned != applied {
            return Err(why_not(&format!("{name} has not applied its assignment")));
        }
        covered.extend(assigned);
    }
    covered.sort();
    if covered != all_partitions(cluster, topic) {
        return Err(why_not("partitions not covered exactly once"));
    }
    Ok(info)
}

/// Pumps every member once (see [`GroupMember::pump`]).
pub fn pump_all(members: &mut [GroupMember]) {
    for member in members {
        member.pump();
    }
}

/// Pumps `members` until [`settled_group`] holds for them on `topic`, and returns the group.
pub async fn settle_group(
    cluster: &Cluster,
    group_id: &str,
    members: &mut [GroupMember],
    topic: &str,
) -> GroupInfo {
    wait_for_ok(DEADLINE, &format!("group {group_id:?} to settle"), || {
        pump_all(members);
        let refs: Vec<&GroupMember> = members.iter().collect();
        settled_group(cluster, group_id, &refs, topic)
    })
    .await
}

/// What the `crash-consumer` binary prints once it has committed all it ever will.
pub const CRASH_CONSUMER_COMMITTED: &str = "CRASH-CONSUMER-COMMITTED";

/// A client in another process (a binary of this package, e.g. `crash-consumer`), so a
/// test can kill it the way a real process dies (SIGKILL: nothing is said to the broker,
/// the kernel just closes the sockets). Dropping an rdkafka client cannot model that,
/// since it always says goodbye.
///
/// The child reports through lines on stdout. Its stdin is a pipe held by the parent, so
/// a child that calls [`exit_when_parent_dies`] cannot outlive a parent that failed before
/// killing it. Killed on drop.
pub struct ChildProcess {
    process: Child,
    lines: mpsc::Receiver<String>,
}

impl ChildProcess {
    /// Starts `program` with `args`.
    pub fn start(program: &str, args: &[String]) -> ChildProcess {
        let mut process = Command::new(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"));
        let stdout = process.stdout.take().expect("child stdout");
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        ChildProcess { process, lines }
    }

    /// Whether the child has printed a line containing `marker` since the last call;
    /// panics if the child has exited.
    pub fn printed(&mut self, marker: &str) -> bool {
        if let Some(status) = self.process.try_wait().expect("child status") {
            panic!("the child process exited on its own: {status}");
        }
        self.lines.try_iter().any(|line| line.contains(marker))
    }

    /// Kills the child with SIGKILL and reaps it.
    pub fn kill(&mut self) {
        self.process.kill().expect("kill the child process");
        self.process.wait().expect("reap the child process");
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// For the child side of a [`ChildProcess`]: exits the process as soon as the parent is gone
/// (its end of our stdin closes), since nobody would kill us then.
pub fn exit_when_parent_dies() {
    std::thread::spawn(|| {
        let _ = std::io::stdin().read_to_end(&mut Vec::new());
        std::process::exit(0);
    });
}

/// A librdkafka client context that collects what the client reports through its error
/// callback ("error: reason"), for tests that expect an error the client only logs (a
/// failed login, a refused TLS handshake).
#[derive(Clone, Default)]
pub struct ErrorLog(pub std::sync::Arc<std::sync::Mutex<Vec<String>>>);

impl ErrorLog {
    pub fn seen(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl rdkafka::ClientContext for ErrorLog {
    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.0.lock().unwrap().push(format!("{error}: {reason}"));
    }
}

impl rdkafka::producer::ProducerContext for ErrorLog {
    type DeliveryOpaque = ();

    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: ()) {}
}
