//! The embedding API: build, start, inspect and stop a cluster from a test.
//!
//! A [`Cluster`] owns a dedicated thread running its own tokio runtime, so it works the same
//! from a plain `#[test]`, a current-thread `#[tokio::test]` or a multi-thread runtime, and
//! dropping it never blocks an async executor on its own tasks. Listeners are bound on the
//! caller's thread before `start()` returns, so `bootstrap_servers()` is usable at once.
//! Every inspection and control call locks the same [`State`] the brokers serve from.

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use broker_sim_protocol::batch::{self, Codec, NewRecord};
use broker_sim_protocol::partitioner;
use bytes::Bytes;
use kafka_protocol::ResponseError;
use tokio::sync::{Notify, watch};

use crate::clock::Clock;
use crate::config::BrokerConfig;
use crate::error::KafkaError;
use crate::faults::rules::FaultRules;
use crate::server::{self, BrokerNet, NetMode};
use crate::state::groups::{GroupState, OffsetReset, decode_assignment};
use crate::state::{AppendOptions, BrokerInfo, State, TopicSpec};
use crate::stats::TopicStats;

/// What every broker task shares: the state, the clock, a signal that wakes long-polling
/// fetches whenever a log changes (an append, a deletion), and one that wakes the group
/// timer task whenever a group's deadlines may have moved.
pub(crate) struct Shared {
    state: Mutex<State>,
    pub clock: Clock,
    pub logs_changed: Notify,
    pub groups_changed: Notify,
    /// Each broker's network switch (up, stopped, isolated), in broker-id order.
    pub net: Vec<BrokerNet>,
    /// The fault rules every request is matched against.
    pub faults: FaultRules,
}

impl Shared {
    /// Locks the cluster state. A panic while holding the lock would be a broker bug; the
    /// state is still the best information there is, so the poison is ignored.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Configures and starts a [`Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    brokers: usize,
    host: String,
    port: u16,
    topics: Vec<TopicSpec>,
    seed: u64,
    config: BrokerConfig,
    replication_factor: Option<i16>,
    worker_threads: usize,
    manual_clock: Option<i64>,
    replication_lag_ms: i64,
}

impl Default for ClusterBuilder {
    fn default() -> Self {
        ClusterBuilder {
            brokers: 3,
            host: "127.0.0.1".into(),
            port: 0,
            topics: Vec::new(),
            seed: 0,
            config: BrokerConfig::default(),
            replication_factor: None,
            worker_threads: 2,
            manual_clock: None,
            replication_lag_ms: 0,
        }
    }
}

impl ClusterBuilder {
    /// Number of brokers (ids 1..=n). Default 3.
    pub fn brokers(mut self, n: usize) -> Self {
        self.brokers = n.max(1);
        self
    }

    /// Address to listen on. Default 127.0.0.1.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Port of the first broker; the others take the following ports. Default 0: every
    /// broker gets an ephemeral port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// A topic to create at start, with default replication.
    pub fn topic(mut self, name: impl Into<String>, partitions: i32) -> Self {
        self.topics.push(TopicSpec::new(name, partitions));
        self
    }

    /// A topic to create at start with configs, e.g. `max.message.bytes`.
    pub fn topic_with_configs(
        mut self,
        name: impl Into<String>,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Self {
        let mut spec = TopicSpec::new(name, partitions);
        spec.configs = to_config_map(configs);
        self.topics.push(spec);
        self
    }

    /// Kafka's `auto.create.topics.enable`. Default true, as in Kafka.
    pub fn auto_create_topics(mut self, enabled: bool) -> Self {
        self.config.auto_create_topics = enabled;
        self
    }

    /// Kafka's `num.partitions` for auto-created topics. Default 1.
    pub fn default_partitions(mut self, n: i32) -> Self {
        self.config.num_partitions = n.max(1);
        self
    }

    /// Kafka's `default.replication.factor`. Default min(3, brokers).
    pub fn default_replication_factor(mut self, n: i16) -> Self {
        self.replication_factor = Some(n.max(1));
        self
    }

    /// Kafka's `message.max.bytes`: the `max.message.bytes` of topics that do not set their
    /// own. Default 1048588.
    pub fn message_max_bytes(mut self, n: i32) -> Self {
        self.config.message_max_bytes = n;
        self
    }

    /// Kafka's `socket.request.max.bytes`: larger frames close the connection. Default 100 MiB.
    pub fn max_request_size(mut self, bytes: usize) -> Self {
        self.config.max_request_size = bytes;
        self
    }

    /// Seed for every identifier the cluster makes up (cluster id, topic ids).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Kafka's `group.initial.rebalance.delay.ms`: how long an empty group's first
    /// rebalance waits for more members. Default 0 (Kafka's is 3000), so a test's first
    /// consumer is assigned at once.
    pub fn group_initial_rebalance_delay_ms(mut self, ms: i32) -> Self {
        self.config.group.initial_rebalance_delay_ms = ms.max(0);
        self
    }

    /// Kafka's `group.min.session.timeout.ms`: shorter consumer sessions are refused with
    /// INVALID_SESSION_TIMEOUT. Default 6000; lower it to test session expiry quickly.
    pub fn group_min_session_timeout_ms(mut self, ms: i32) -> Self {
        self.config.group.min_session_timeout_ms = ms.max(0);
        self
    }

    /// Kafka's `group.max.session.timeout.ms`. Default 1800000.
    pub fn group_max_session_timeout_ms(mut self, ms: i32) -> Self {
        self.config.group.max_session_timeout_ms = ms.max(0);
        self
    }

    /// Kafka's `group.max.size`: joins beyond it get GROUP_MAX_SIZE_REACHED. Default
    /// unbounded.
    pub fn group_max_size(mut self, n: i32) -> Self {
        self.config.group.max_size = n.max(1);
        self
    }

    /// Kafka's `min.insync.replicas` for topics that do not set their own: acks=all
    /// writes fail with NOT_ENOUGH_REPLICAS when fewer replicas are in sync. Default 1.
    pub fn min_insync_replicas(mut self, n: i32) -> Self {
        self.config.min_insync_replicas = n.max(1);
        self
    }

    /// Kafka's `unclean.leader.election.enable` for topics that do not set their own:
    /// whether an out-of-sync replica may take over (losing records) when no in-sync one
    /// is up. Default false.
    pub fn unclean_leader_election(mut self, enabled: bool) -> Self {
        self.config.unclean_leader_election = enabled;
        self
    }

    /// Kafka's `replica.lag.time.max.ms`: how long a follower may go without catching up
    /// before it leaves the ISR. Default 30 s.
    pub fn replica_lag_time_max(mut self, max: Duration) -> Self {
        self.config.replica_lag_time_max_ms = max.as_millis() as i64;
        self
    }

    /// How long after an append followers copy it. Default zero: followers copy at once,
    /// so acks=all answers immediately and the high watermark is the log end. With a lag,
    /// acks=all waits for it and consumers see records that much later.
    pub fn replication_lag(mut self, lag: Duration) -> Self {
        self.replication_lag_ms = lag.as_millis() as i64;
        self
    }

    /// A manual clock starting at `start_ms` (milliseconds since the Unix epoch): the
    /// cluster's time then moves only with [`Cluster::advance`], which fires session and
    /// rebalance timeouts, replication lag and long-poll waits at once. Record timestamps
    /// the broker assigns (LogAppendTime) come from it too.
    pub fn manual_clock(mut self, start_ms: i64) -> Self {
        self.manual_clock = Some(start_ms);
        self
    }

    /// Kafka's `log.retention.check.interval.ms`: how often `retention.ms` and
    /// `retention.bytes` are enforced. Default 5 minutes, as in Kafka; lower it to see
    /// retention act in a real-time test ([`Cluster::advance`] always enforces it).
    pub fn log_retention_check_interval(mut self, every: Duration) -> Self {
        self.config.log_retention_check_interval_ms = (every.as_millis() as i64).max(1);
        self
    }

    /// Worker threads of the cluster's runtime. Default 2.
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }

    /// Binds every broker's listener and starts serving.
    pub fn start(self) -> std::io::Result<Cluster> {
        let mut listeners = Vec::with_capacity(self.brokers);
        let mut brokers = Vec::with_capacity(self.brokers);
        for i in 0..self.brokers {
            let port = match self.port {
                0 => 0,
                first => u16::try_from(i)
                    .ok()
                    .and_then(|i| first.checked_add(i))
                    .ok_or_else(|| {
                        std::io::Error::new(
                            std::io::ErrorKind::InvalidInput,
                            format!(
                                "{} brokers from port {first} run past port 65535",
                                self.brokers
                            ),
                        )
                    })?,
            };
            let listener = TcpListener::bind((self.host.as_str(), port)).map_err(|e| {
                std::io::Error::new(
                    e.kind(),
                    format!(
                        "broker {} cannot listen on {}:{port}: {e}",
                        i + 1,
                        self.host
                    ),
                )
            })?;
            listener.set_nonblocking(true)?;
            let addr: SocketAddr = listener.local_addr()?;
            brokers.push(BrokerInfo {
                id: i as i32 + 1,
                host: self.host.clone(),
                port: addr.port() as i32,
            });
            listeners.push(listener);
        }
        let mut config = self.config;
        config.default_replication_factor = self
            .replication_factor
            .unwrap_or(self.brokers.min(3) as i16);
        let clock = match self.manual_clock {
            Some(start) => Clock::manual(start),
            None => Clock::System,
        };
        let mut state = State::new(self.seed, brokers.clone(), config);
        state.set_replication_lag(self.replication_lag_ms, clock.now_ms());
        state.start_retention(clock.now_ms());
        for spec in &self.topics {
            state
                .create_topic(spec)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        }
        let net = brokers
            .iter()
            .zip(listeners)
            .map(|(b, l)| BrokerNet::new(b.id, l))
            .collect();
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            clock,
            logs_changed: Notify::new(),
            groups_changed: Notify::new(),
            net,
            faults: FaultRules::new(self.seed),
        });
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.worker_threads)
            .thread_name("broker-sim")
            .enable_all()
            .build()?;
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("broker-sim-cluster".into())
            .spawn(move || {
                runtime.block_on(server::run_cluster(thread_shared, shutdown_rx));
                runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            })?;
        tracing::info!(bootstrap = %bootstrap(&brokers), "cluster started");
        Ok(Cluster {
            shared,
            brokers,
            shutdown: shutdown_tx,
            thread: Some(thread),
        })
    }
}

fn to_config_map(configs: &[(&str, &str)]) -> BTreeMap<String, String> {
    configs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn bootstrap(brokers: &[BrokerInfo]) -> String {
    brokers
        .iter()
        .map(|b| format!("{}:{}", b.host, b.port))
        .collect::<Vec<_>>()
        .join(",")
}

/// A running cluster. Dropping it stops every broker and frees its ports.
pub struct Cluster {
    pub(crate) shared: Arc<Shared>,
    brokers: Vec<BrokerInfo>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

/// A broker as [`Cluster::broker_status`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerStatus {
    pub id: i32,
    pub host: String,
    pub port: i32,
    /// Running (not stopped). An isolated broker is up but unreachable.
    pub up: bool,
    pub isolated: bool,
}

/// A partition as the inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    pub partition: i32,
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub log_start_offset: i64,
    pub high_watermark: i64,
}

/// A stored record, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
}

impl Record {
    /// The value as UTF-8, if it is.
    pub fn value_str(&self) -> Option<&str> {
        self.value
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The key as UTF-8, if it is.
    pub fn key_str(&self) -> Option<&str> {
        self.key
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The schema id of a value in Confluent's wire format (magic byte 0, then a big-endian
    /// 4-byte schema id, then the Avro/Protobuf/JSON payload), if it is in that format.
    pub fn value_schema_id(&self) -> Option<i32> {
        confluent_schema_id(self.value.as_deref()?)
    }

    /// The schema id of a key in Confluent's wire format, if it is in that format.
    pub fn key_schema_id(&self) -> Option<i32> {
        confluent_schema_id(self.key.as_deref()?)
    }
}

fn confluent_schema_id(bytes: &[u8]) -> Option<i32> {
    match bytes {
        [0, a, b, c, d, ..] => Some(i32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// A consumer group as the inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub group_id: String,
    pub state: GroupState,
    /// "consumer" for Kafka consumers; "" before anyone joined.
    pub protocol_type: String,
    /// The selected protocol (for consumers, the assignor: "range", "cooperative-sticky").
    pub protocol: Option<String>,
    pub generation: i32,
    pub leader: Option<String>,
    /// In member-id order.
    pub members: Vec<MemberInfo>,
    /// Committed offsets, by topic then partition.
    pub offsets: Vec<GroupOffset>,
    /// The broker coordinating the group now (what FindCoordinator answers); `None` while
    /// every broker that could is down.
    pub coordinator: Option<i32>,
}

impl GroupInfo {
    pub fn member(&self, member_id: &str) -> Option<&MemberInfo> {
        self.members.iter().find(|m| m.member_id == member_id)
    }

    /// The committed offset of one partition.
    pub fn offset(&self, topic: &str, partition: i32) -> Option<i64> {
        self.offsets
            .iter()
            .find(|o| o.topic == topic && o.partition == partition)
            .map(|o| o.offset)
    }

    /// The sum of every committed partition's lag.
    pub fn total_lag(&self) -> i64 {
        self.offsets.iter().map(|o| o.lag).sum()
    }
}

/// A group member as the inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    /// As Kafka prints it: "/127.0.0.1".
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    /// The member's assignment decoded as the consumer protocol: (topic, sorted
    /// partitions), topics sorted. Empty before the leader assigned, or for a group that
    /// does not use the consumer protocol.
    pub assignment: Vec<(String, Vec<i32>)>,
}

impl MemberInfo {
    /// The assigned (topic, partition) pairs.
    pub fn partitions(&self) -> Vec<(String, i32)> {
        self.assignment
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
            .collect()
    }
}

/// A committed offset and the lag behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub metadata: Option<String>,
    pub leader_epoch: i32,
    pub high_watermark: i64,
    /// High watermark − committed offset (0 if the commit is ahead, -1 if the partition
    /// no longer exists).
    pub lag: i64,
}

impl Cluster {
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder::default()
    }

    /// `host:port` of every broker, comma-separated, for a client's `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> String {
        bootstrap(&self.brokers)
    }

    pub fn brokers(&self) -> Vec<BrokerInfo> {
        self.brokers.clone()
    }

    pub fn cluster_id(&self) -> String {
        self.shared.lock().cluster_id.clone()
    }

    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), KafkaError> {
        self.create_topic_with(TopicSpec::new(name, partitions))
    }

    pub fn create_topic_with_configs(
        &self,
        name: &str,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Result<(), KafkaError> {
        let mut spec = TopicSpec::new(name, partitions);
        spec.configs = to_config_map(configs);
        self.create_topic_with(spec)
    }

    pub fn create_topic_with(&self, spec: TopicSpec) -> Result<(), KafkaError> {
        self.shared.lock().create_topic(&spec).map(|_| ())
    }

    pub fn delete_topic(&self, name: &str) -> Result<(), KafkaError> {
        self.shared.lock().delete_topic(name)?;
        // Long-polling fetches on the topic answer now, as Kafka's delayed fetches do.
        self.shared.logs_changed.notify_waiters();
        Ok(())
    }

    /// Topic names, sorted.
    pub fn topics(&self) -> Vec<String> {
        self.shared
            .lock()
            .topics()
            .map(|t| t.name.clone())
            .collect()
    }

    /// The partitions of `topic` with leaders and offsets; `None` if it does not exist.
    pub fn partitions(&self, topic: &str) -> Option<Vec<PartitionInfo>> {
        let state = self.shared.lock();
        let t = state.topic(topic)?;
        Some(
            t.partitions
                .iter()
                .map(|p| PartitionInfo {
                    partition: p.index,
                    leader: p.leader,
                    leader_epoch: p.leader_epoch,
                    replicas: p.replicas.clone(),
                    isr: p.isr.clone(),
                    log_start_offset: p.log.log_start_offset(),
                    high_watermark: p.high_watermark(),
                })
                .collect(),
        )
    }

    /// One partition of `topic` with its leader and offsets; `None` if it does not exist.
    pub fn partition(&self, topic: &str, partition: i32) -> Option<PartitionInfo> {
        self.partitions(topic)?
            .into_iter()
            .find(|p| p.partition == partition)
    }

    /// How many records and bytes `topic` has taken in and handed out, per partition and
    /// in all, since it was created: Kafka's per-topic broker metrics as totals. `None` if
    /// the topic does not exist.
    pub fn topic_stats(&self, topic: &str) -> Option<TopicStats> {
        let state = self.shared.lock();
        let t = state.topic(topic)?;
        let partitions = t
            .partitions
            .iter()
            .map(|p| p.counters.snapshot(p.index))
            .collect();
        Some(TopicStats::new(topic, partitions))
    }

    /// Every record of `topic`, by partition then offset. Empty if the topic does not exist.
    pub fn records(&self, topic: &str) -> Vec<Record> {
        let count = self.partitions(topic).map_or(0, |p| p.len() as i32);
        (0..count)
            .flat_map(|p| self.partition_records(topic, p))
            .collect()
    }

    /// The records of one partition, in offset order.
    pub fn partition_records(&self, topic: &str, partition: i32) -> Vec<Record> {
        let decoded = {
            let state = self.shared.lock();
            match state.topic(topic).and_then(|t| t.partition(partition)) {
                Some(p) => p.log.records(),
                None => return Vec::new(),
            }
        };
        decoded
            .into_iter()
            .map(|r| Record {
                topic: topic.to_string(),
                partition,
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
                headers: r.headers,
            })
            .collect()
    }

    /// The partition the Java client's default partitioner picks for `key` in `topic`.
    pub fn partition_for_key(&self, topic: &str, key: &[u8]) -> Option<i32> {
        let count = self.shared.lock().topic(topic)?.partitions.len() as i32;
        Some(partitioner::partition_for_key(key, count))
    }

    /// The keyed records of `topic` that are not in the partition the Java client's default
    /// partitioner (murmur2) gives their key: an audit for "equal keys land together, where
    /// any Java, Python or Go client would put them". Empty when every keyed record is in
    /// place; unkeyed records are never reported.
    pub fn misplaced_records(&self, topic: &str) -> Vec<Record> {
        let Some(count) = self.partitions(topic).map(|p| p.len() as i32) else {
            return Vec::new();
        };
        self.records(topic)
            .into_iter()
            .filter(|r| {
                r.key
                    .as_deref()
                    .is_some_and(|k| partitioner::partition_for_key(k, count) != r.partition)
            })
            .collect()
    }

    /// Seeds one record as a producer would: keyed records go where the Java partitioner
    /// puts them, unkeyed ones round robin. Returns (partition, offset).
    pub fn produce(
        &self,
        topic: &str,
        key: Option<&[u8]>,
        value: &[u8],
    ) -> Result<(i32, i64), KafkaError> {
        let record = NewRecord {
            timestamp: self.shared.clock.now_ms(),
            key: key.map(Bytes::copy_from_slice),
            value: Some(Bytes::copy_from_slice(value)),
            headers: Vec::new(),
        };
        self.produce_record(topic, None, record)
    }

    /// Seeds one record with headers, timestamp or a null value to `partition`, or, without
    /// one, where a producer would put it (as [`Cluster::produce`]). Returns (partition,
    /// offset).
    pub fn produce_record(
        &self,
        topic: &str,
        partition: Option<i32>,
        record: NewRecord,
    ) -> Result<(i32, i64), KafkaError> {
        let partition = match (partition, &record.key) {
            (Some(p), _) => p,
            (None, Some(k)) => self
                .partition_for_key(topic, k)
                .ok_or_else(|| KafkaError::new(ResponseError::UnknownTopicOrPartition, topic))?,
            (None, None) => self.shared.lock().next_unkeyed_partition(topic)?,
        };
        let offset = self.produce_records(topic, partition, &[record])?;
        Ok((partition, offset))
    }

    /// Appends `records` to one partition as a single batch; returns the first offset.
    pub fn produce_records(
        &self,
        topic: &str,
        partition: i32,
        records: &[NewRecord],
    ) -> Result<i64, KafkaError> {
        let bytes = batch::encode_batch(records, Codec::None)
            .map_err(|e| KafkaError::new(ResponseError::InvalidRecord, e.to_string()))?;
        // Seeding stands for a producer with acks=1: it is not held to min.insync.replicas.
        let options = AppendOptions {
            acks: 1,
            now_ms: self.shared.clock.now_ms(),
            allow_zstd: true,
        };
        let appended = self
            .shared
            .lock()
            .append(topic, partition, None, &bytes, options)?;
        self.shared.logs_changed.notify_waiters();
        Ok(appended.base_offset)
    }

    /// Group ids, sorted.
    pub fn groups(&self) -> Vec<String> {
        self.shared
            .lock()
            .groups
            .iter()
            .map(|g| g.id.clone())
            .collect()
    }

    /// A group's state, members with their assignments, committed offsets and lag.
    pub fn group(&self, group_id: &str) -> Option<GroupInfo> {
        let state = self.shared.lock();
        let g = state.groups.get(group_id)?;
        let members = g
            .members
            .values()
            .map(|m| MemberInfo {
                member_id: m.id.clone(),
                group_instance_id: m.instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                session_timeout_ms: m.session_timeout_ms,
                rebalance_timeout_ms: m.rebalance_timeout_ms,
                assignment: if g.protocol_type.as_deref() == Some("consumer") {
                    decode_assignment(&m.assignment).unwrap_or_default()
                } else {
                    Vec::new()
                },
            })
            .collect();
        let offsets = g
            .offsets
            .iter()
            .map(|((topic, partition), c)| {
                let high_watermark = state
                    .topic(topic)
                    .and_then(|t| t.partition(*partition))
                    .map_or(-1, |p| p.high_watermark());
                GroupOffset {
                    topic: topic.clone(),
                    partition: *partition,
                    offset: c.offset,
                    metadata: c.metadata.clone(),
                    leader_epoch: c.leader_epoch,
                    high_watermark,
                    lag: if high_watermark < 0 {
                        -1
                    } else {
                        (high_watermark - c.offset).max(0)
                    },
                }
            })
            .collect();
        Some(GroupInfo {
            group_id: g.id.clone(),
            state: g.state,
            protocol_type: g.protocol_type.clone().unwrap_or_default(),
            protocol: g.protocol.clone(),
            generation: g.generation,
            leader: g.leader.clone(),
            members,
            offsets,
            coordinator: state.coordinator_for(group_id).map(|b| b.id),
        })
    }

    /// Removes a member now, as if its session had timed out — a consumer "crash" without
    /// waiting out `session.timeout.ms`. The rest of the group rebalances.
    pub fn expire_member(&self, group_id: &str, member_id: &str) -> Result<(), KafkaError> {
        let now = self.shared.clock.now_ms();
        let result = self
            .shared
            .lock()
            .groups
            .expire_member(group_id, member_id, now);
        self.shared.groups_changed.notify_one();
        result.map_err(|code| {
            KafkaError::new(
                code,
                format!("cannot expire member {member_id} of group {group_id}"),
            )
        })
    }

    /// Sets the committed offset of every partition of `topic` for `group_id` (creating
    /// the group if needed), as `kafka-consumer-groups --reset-offsets` does. Only while
    /// the group has no members: NON_EMPTY_GROUP otherwise.
    pub fn reset_group_offsets(
        &self,
        group_id: &str,
        topic: &str,
        to: OffsetReset,
    ) -> Result<(), KafkaError> {
        let now = self.shared.clock.now_ms();
        self.shared
            .lock()
            .reset_group_offsets(group_id, topic, to, now)
    }

    /// Every broker with its address and whether clients can reach it now.
    pub fn broker_status(&self) -> Vec<BrokerStatus> {
        self.brokers
            .iter()
            .zip(&self.shared.net)
            .map(|(b, net)| BrokerStatus {
                id: b.id,
                host: b.host.clone(),
                port: b.port,
                up: net.mode() != NetMode::Down,
                isolated: net.mode() == NetMode::Isolated,
            })
            .collect()
    }

    /// The broker Metadata names as controller: the lowest-numbered broker that is up.
    pub fn controller_id(&self) -> i32 {
        self.shared.lock().controller_id
    }

    fn net(&self, id: i32) -> Result<&BrokerNet, KafkaError> {
        self.shared.net.iter().find(|n| n.id == id).ok_or_else(|| {
            KafkaError::new(
                ResponseError::BrokerNotAvailable,
                format!("there is no broker {id}"),
            )
        })
    }

    /// Wakes everything that waits on cluster state after a lifecycle change: long polls
    /// and acks=all produces look again, group timers recompute.
    fn changed(&self) {
        self.shared.logs_changed.notify_waiters();
        self.shared.groups_changed.notify_one();
    }

    /// Crashes broker `id`: its connections are reset and its port refuses new ones. Its
    /// log is kept. Partitions it led elect a new leader from the ISR (or, with
    /// `unclean.leader.election.enable`, any live replica); groups it coordinated move.
    pub fn stop_broker(&self, id: i32) -> Result<(), KafkaError> {
        let net = self.net(id)?;
        match net.mode() {
            NetMode::Down => {
                return Err(KafkaError::new(
                    ResponseError::BrokerNotAvailable,
                    format!("broker {id} is already stopped"),
                ));
            }
            // Isolated brokers are fenced already.
            NetMode::Isolated => {}
            NetMode::Up => self.shared.lock().fence_broker(id, self.now_ms())?,
        }
        net.mode.send_replace(NetMode::Down);
        net.wait_until_closed();
        self.changed();
        tracing::info!(broker = id, "broker stopped");
        Ok(())
    }

    /// Starts a stopped broker on its old port (or heals an isolated one): it catches up
    /// and rejoins the ISR of its partitions.
    pub fn start_broker(&self, id: i32) -> Result<(), KafkaError> {
        let net = self.net(id)?;
        match net.mode() {
            NetMode::Up => {
                return Err(KafkaError::new(
                    ResponseError::InvalidRequest,
                    format!("broker {id} is already running"),
                ));
            }
            NetMode::Isolated => return self.heal_broker(id),
            NetMode::Down => {}
        }
        let b = self
            .brokers
            .iter()
            .find(|b| b.id == id)
            .expect("net and brokers agree");
        let listener = TcpListener::bind((b.host.as_str(), b.port as u16))
            .and_then(|l| l.set_nonblocking(true).map(|()| l))
            .map_err(|e| {
                KafkaError::new(
                    ResponseError::BrokerNotAvailable,
                    format!(
                        "broker {id} cannot listen on {}:{} again: {e}",
                        b.host, b.port
                    ),
                )
            })?;
        *net.listener.lock().unwrap_or_else(|e| e.into_inner()) = Some(listener);
        net.mode.send_replace(NetMode::Up);
        self.shared.lock().unfence_broker(id, self.now_ms())?;
        self.changed();
        tracing::info!(broker = id, "broker started");
        Ok(())
    }

    /// `stop_broker` then `start_broker`.
    pub fn restart_broker(&self, id: i32) -> Result<(), KafkaError> {
        self.stop_broker(id)?;
        self.start_broker(id)
    }

    /// Cuts broker `id` off the network: clients' requests to it go unanswered (they time
    /// out rather than being refused) and the cluster fences it as it would a crashed
    /// broker, but it keeps its state and connections until [`Cluster::heal_broker`].
    pub fn isolate_broker(&self, id: i32) -> Result<(), KafkaError> {
        let net = self.net(id)?;
        if net.mode() != NetMode::Up {
            return Err(KafkaError::new(
                ResponseError::BrokerNotAvailable,
                format!("broker {id} is not running"),
            ));
        }
        self.shared.lock().fence_broker(id, self.now_ms())?;
        net.mode.send_replace(NetMode::Isolated);
        self.changed();
        tracing::info!(broker = id, "broker isolated");
        Ok(())
    }

    /// Reconnects an isolated broker; it then rejoins like a started one, and requests
    /// held while it was cut off are answered (if their clients are still waiting).
    pub fn heal_broker(&self, id: i32) -> Result<(), KafkaError> {
        let net = self.net(id)?;
        if net.mode() != NetMode::Isolated {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("broker {id} is not isolated"),
            ));
        }
        self.shared.lock().unfence_broker(id, self.now_ms())?;
        net.mode.send_replace(NetMode::Up);
        self.changed();
        tracing::info!(broker = id, "broker healed");
        Ok(())
    }

    /// Makes `broker` the leader of `topic`-`partition` (it must be an in-sync replica that
    /// is up), with a new leader epoch.
    pub fn move_leader(&self, topic: &str, partition: i32, broker: i32) -> Result<(), KafkaError> {
        let now = self.now_ms();
        self.shared
            .lock()
            .move_leader(topic, partition, broker, now)?;
        self.changed();
        Ok(())
    }

    /// Preferred leader election: every partition whose first replica is up and in sync
    /// but not leading gets it back as leader. Returns the partitions that moved.
    pub fn elect_preferred_leaders(&self) -> Vec<(String, i32)> {
        let now = self.now_ms();
        let moved = self.shared.lock().elect_preferred_leaders(now);
        self.changed();
        moved
    }

    /// Sets how long after an append followers copy it (see
    /// [`ClusterBuilder::replication_lag`]).
    pub fn set_replication_lag(&self, lag: Duration) {
        let now = self.now_ms();
        self.shared
            .lock()
            .set_replication_lag(lag.as_millis() as i64, now);
        self.changed();
    }

    /// Freezes the follower copies on `broker`: it falls behind, and after
    /// `replica.lag.time.max.ms` leaves the ISR of every partition it follows (it still
    /// leads its own). Undo with [`Cluster::resume_replication`].
    pub fn pause_replication(&self, broker: i32) -> Result<(), KafkaError> {
        let now = self.now_ms();
        self.shared.lock().pause_replication(broker, true, now)?;
        self.changed();
        Ok(())
    }

    /// Lets `broker`'s follower copies catch up again.
    pub fn resume_replication(&self, broker: i32) -> Result<(), KafkaError> {
        let now = self.now_ms();
        self.shared.lock().pause_replication(broker, false, now)?;
        self.changed();
        Ok(())
    }

    /// The cluster clock, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// Moves a manual clock (see [`ClusterBuilder::manual_clock`]) forward and fires
    /// everything that came due — session and rebalance timeouts, replication lag and
    /// ISR changes, long-poll fetch waits — before returning. Panics on a system clock,
    /// which a test cannot move.
    pub fn advance(&self, by: Duration) {
        let now = self
            .shared
            .clock
            .advance(by.as_millis() as i64)
            .expect("Cluster::advance needs a manual clock: ClusterBuilder::manual_clock");
        {
            let mut state = self.shared.lock();
            state.tick(now);
            state.apply_retention(now);
        }
        self.changed();
    }

    /// Stops every broker, closes every connection and frees the ports.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confluent_wire_format_schema_ids_are_read_from_keys_and_values() {
        let record = Record {
            topic: "t".into(),
            partition: 0,
            offset: 0,
            timestamp: 0,
            key: Some(Bytes::from_static(b"plain key")),
            value: Some(Bytes::from_static(&[0, 0, 0, 1, 44, 2, 4])),
            headers: Vec::new(),
        };
        assert_eq!(record.value_schema_id(), Some(300));
        assert_eq!(record.key_schema_id(), None);
        let short = Record {
            value: Some(Bytes::from_static(&[0, 0, 1])),
            ..record
        };
        assert_eq!(short.value_schema_id(), None);
    }
}
