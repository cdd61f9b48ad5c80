//! The cluster state and its one owner.
//!
//! `State` holds brokers, topics, partition logs, producer ids and transactions. It sits
//! behind a read-write lock in `broker_sim::shared::Shared`, each of its partitions behind
//! a lock of its own for readers of the state (`partition_lock.rs`), and holds the groups,
//! which have a lock of their own (`groups/lock.rs`), and the client quotas and the
//! history, each behind a leaf lock (`quotas.rs`, `history.rs`); request handlers and the
//! embedding API both go through the methods here, so a rule (a topic-name check, a size
//! limit) is written once and a test's direct call fails exactly as a client's request
//! would.

pub mod acls;
mod append;
pub mod broker_configs;
pub mod cleaner;
mod client_metrics;
mod configs;
pub mod coordinators;
pub mod counters;
pub mod durable;
pub mod epochs;
pub mod groups;
pub mod history;
pub mod log;
pub mod partition_lock;
pub mod prepared;
pub mod producers;
pub mod quorum;
pub mod quotas;
mod reassignment;
mod replication;
pub mod scram;
pub mod snapshot;
pub mod telemetry;
pub mod topic;
pub mod transactions;
pub mod users;
pub mod waiters;

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;

use crate::config::{self, BrokerConfig};
use crate::error::KafkaError;
use crate::rng::SimRng;
pub use append::{AppendError, AppendOptions, Appended};
pub use coordinators::coordinator_partition;
pub use prepared::PreparedBatch;
pub use replication::Replication;
pub use topic::{Partition, PartitionGuard, Topic};

/// Kafka's controller refuses one operation that would write more than this many records
/// (one per new partition) as an "excessively large batch operation".
pub const MAX_PARTITIONS_PER_OPERATION: i32 = 10_000;

fn too_many_partitions(count: usize) -> Result<(), KafkaError> {
    if count > MAX_PARTITIONS_PER_OPERATION as usize {
        return Err(KafkaError::new(
            ResponseError::PolicyViolation,
            format!("Unable to perform excessively large batch operation: {count} new partitions"),
        ));
    }
    Ok(())
}

/// Kafka's `offsets.topic.num.partitions` and `transaction.state.log.num.partitions`
/// defaults: a group or transactional id is hashed onto one of these partitions.
pub const COORDINATOR_PARTITIONS: i32 = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
    /// `broker.rack`: where replicas are spread and consumers with a `client.rack` may
    /// read from (KIP-392).
    pub rack: Option<String>,
    /// The broker's port on each listener, in the order of `SecurityConfig::listeners`;
    /// `port` is the first.
    pub listener_ports: Vec<i32>,
}

impl BrokerInfo {
    /// The broker's port on listener `index`, which Kafka advertises to its clients.
    pub fn port_on(&self, index: usize) -> i32 {
        self.listener_ports.get(index).copied().unwrap_or(self.port)
    }
}

/// What to create: the parameters of a CreateTopics entry.
#[derive(Debug, Clone, Default)]
pub struct TopicSpec {
    pub name: String,
    /// -1 for the broker's `num.partitions`.
    pub partitions: i32,
    /// -1 for the broker's `default.replication.factor`.
    pub replication_factor: i16,
    /// Explicit replica lists, one per partition, instead of a count.
    pub assignments: Option<Vec<Vec<i32>>>,
    pub configs: BTreeMap<String, String>,
}

impl TopicSpec {
    pub fn new(name: impl Into<String>, partitions: i32) -> Self {
        TopicSpec {
            name: name.into(),
            partitions,
            replication_factor: -1,
            assignments: None,
            configs: BTreeMap::new(),
        }
    }
}

#[derive(Debug)]
pub struct State {
    pub cluster_id: String,
    pub brokers: Vec<BrokerInfo>,
    pub controller_id: i32,
    pub config: BrokerConfig,
    topics: BTreeMap<String, Topic>,
    topic_ids: BTreeMap<uuid::Uuid, String>,
    rng: SimRng,
    next_producer_id: i64,
    transactions: transactions::Transactions,
    unkeyed_next: BTreeMap<String, i32>,
    /// The group coordinator, behind a lock of its own (`groups/lock.rs`).
    groups: groups::GroupsCell,
    pub replication: Replication,
    /// When retention next runs (`log.retention.check.interval.ms`).
    next_retention_check: i64,
    /// When expired offsets and empty groups are next removed
    /// (`offsets.retention.check.interval.ms`).
    next_offsets_check: i64,
    /// When the log cleaner next looks for work (`cleaner.rs`).
    next_cleaner_run: i64,
    /// What the checkers judge a run by (`history.rs`).
    pub history: history::Recorder,
    /// The finalized-features epoch ApiVersions reports: 1 at start, one more for each
    /// UpdateFeatures that changed a level.
    pub features_epoch: i64,
    scram: scram::ScramCredentials,
    /// SASL/PLAIN passwords (`users.rs`).
    plain_users: users::PlainUsers,
    /// Client quotas and the usage they are measured against, behind a leaf lock of their
    /// own (`quotas.rs`).
    pub quotas: quotas::QuotasCell,
    /// Client metrics subscriptions and what clients pushed (KIP-714).
    pub telemetry: telemetry::Telemetry,
    /// Dynamic broker configs, per broker and cluster-wide (`broker_configs.rs`).
    pub broker_configs: broker_configs::BrokerConfigs,
    /// The controller quorum DescribeQuorum shows (`quorum.rs`).
    quorum: quorum::Quorum,
    /// ACL bindings, judged when `config.authorizer` is enabled.
    pub acls: acls::Acls,
    /// Durable mode's data directory, which logs and metadata write through (`durable.rs`).
    storage: Option<crate::storage::Storage>,
}

impl State {
    pub fn new(seed: u64, brokers: Vec<BrokerInfo>, config: BrokerConfig) -> Self {
        let mut rng = SimRng::new(seed);
        let group_config = config.group;
        let broker_configs = broker_configs::BrokerConfigs::new(config.min_insync_replicas);
        let history = history::Recorder::new(history::History::with_limit(config.history_limit));
        let state = State {
            history: history.clone(),
            cluster_id: rng.cluster_id(),
            controller_id: brokers.first().map_or(-1, |b| b.id),
            brokers,
            config,
            topics: BTreeMap::new(),
            topic_ids: BTreeMap::new(),
            rng,
            next_producer_id: 0,
            transactions: transactions::Transactions::default(),
            unkeyed_next: BTreeMap::new(),
            groups: groups::GroupsCell::new(groups::Groups::for_cluster(
                group_config,
                seed,
                history.clone(),
            )),
            replication: Replication::default(),
            next_retention_check: i64::MAX,
            next_offsets_check: i64::MAX,
            next_cleaner_run: i64::MAX,
            features_epoch: 1,
            scram: scram::ScramCredentials::default(),
            plain_users: users::PlainUsers::default(),
            quotas: quotas::QuotasCell::default(),
            telemetry: telemetry::Telemetry::new(seed),
            broker_configs,
            quorum: quorum::Quorum::default(),
            acls: acls::Acls::default(),
            storage: None,
        };
        state.sync_coordinators();
        state
    }

    /// Fires everything that came due by `now`: group timeouts and replication (lagging
    /// followers copying, stuck ones leaving the ISR). Returns whether logs may have
    /// changed, so long-polling requests should look again.
    pub fn tick(&mut self, now: i64) -> bool {
        self.groups().tick(now);
        let ended = self.tick_transactions(now);
        let retained = now >= self.next_retention_check && {
            self.next_retention_check = now + self.config.log_retention_check_interval_ms;
            self.apply_retention(now)
        };
        let cleaned = now >= self.next_cleaner_run && {
            self.next_cleaner_run = now + cleaner::LOG_CLEANER_BACKOFF_MS;
            self.run_cleaner(now)
        };
        if now >= self.next_offsets_check {
            self.next_offsets_check = now + self.config.group.offsets_retention_check_interval_ms;
            self.groups().expire_group_offsets(now);
        }
        self.tick_replication(now) || retained || ended || cleaned
    }

    /// Deletes what `retention.ms` and `retention.bytes` no longer keep, from every
    /// partition (Kafka's periodic log cleanup, `cleanup.policy=delete`). Returns whether
    /// any log start moved.
    pub fn apply_retention(&mut self, now: i64) -> bool {
        let mut moved = false;
        for (topic, t) in &mut self.topics {
            let long = |name: &str| t.config(name).and_then(|v| v.trim().parse::<i64>().ok());
            let deletes = t
                .config("cleanup.policy")
                .is_some_and(|p| p.split(',').any(|p| p.trim() == "delete"));
            let max_age = long("retention.ms").filter(|ms| *ms >= 0 && deletes);
            let max_bytes = long("retention.bytes")
                .filter(|b| *b >= 0 && deletes)
                .map(|b| b as u64);
            if max_age.is_none() && max_bytes.is_none() {
                continue;
            }
            let cutoff = max_age.map(|ms| now.saturating_sub(ms));
            for p in t.partitions_mut() {
                let start = p.log.retention_point(cutoff, max_bytes, p.high_watermark());
                if start > p.log.log_start_offset() {
                    tracing::info!(topic = %topic, partition = p.index, log_start = start, "retention deleted records");
                    p.delete_before(start);
                    moved = true;
                }
            }
        }
        moved
    }

    /// Schedules the first retention run, cleaner run and offset expiration, each one
    /// interval after `now` (cluster start), as Kafka's schedulers start.
    pub fn start_retention(&mut self, now: i64) {
        self.next_retention_check = now.saturating_add(self.config.log_retention_check_interval_ms);
        self.next_cleaner_run = now.saturating_add(cleaner::LOG_CLEANER_BACKOFF_MS);
        self.next_offsets_check =
            now.saturating_add(self.config.group.offsets_retention_check_interval_ms);
    }

    /// The earliest cluster time at which `tick` has something to do.
    pub fn next_deadline(&self) -> Option<i64> {
        self.next_deadline_then(|_| ())
    }

    /// [`State::next_deadline`], handed to `publish` while the groups lock is still held:
    /// a group request that then moves its deadline sees what was published
    /// (`Shared::wake_timers_if_earlier`), and one before it was counted.
    pub fn next_deadline_then(&self, publish: impl FnOnce(Option<i64>)) -> Option<i64> {
        let mut groups = self.groups();
        let due = [
            groups.next_deadline(),
            self.next_replication_deadline(),
            Some(self.next_retention_check),
            Some(self.next_cleaner_run),
            Some(self.next_offsets_check),
            self.next_transaction_deadline(),
        ]
        .into_iter()
        .flatten()
        .min();
        publish(due);
        drop(groups);
        due
    }

    /// The brokers that are up, in id order.
    pub fn live_broker_ids(&self) -> Vec<i32> {
        self.live_brokers().map(|b| b.id).collect()
    }

    /// A new partition on `replicas`: led by the first one that is up, with the live ones
    /// in sync (an explicit assignment may name stopped brokers).
    fn new_partition(&self, index: i32, replicas: Vec<i32>) -> Partition {
        let mut p = Partition::new(index, replicas);
        let live: Vec<i32> = p
            .replicas
            .iter()
            .copied()
            .filter(|&b| !self.is_fenced(b))
            .collect();
        if live.len() < p.replicas.len() {
            p.leader = live.first().copied().unwrap_or(-1);
            p.isr = if live.is_empty() {
                vec![p.replicas[0]]
            } else {
                live
            };
            p.follower_ends.remove(&p.leader);
        }
        p
    }

    pub fn broker(&self, id: i32) -> Option<&BrokerInfo> {
        self.brokers.iter().find(|b| b.id == id)
    }

    /// Topics in name order.
    pub fn topics(&self) -> impl Iterator<Item = &Topic> {
        self.topics.values()
    }

    pub fn topic(&self, name: &str) -> Option<&Topic> {
        self.topics.get(name)
    }

    pub fn partition_mut(&mut self, topic: &str, partition: i32) -> Option<&mut Partition> {
        self.topics.get_mut(topic)?.partition_mut(partition)
    }

    pub fn topic_name_by_id(&self, id: &uuid::Uuid) -> Option<&str> {
        self.topic_ids.get(id).map(String::as_str)
    }

    /// Whether `topic` exists and has partition `partition`.
    pub fn has_partition(&self, topic: &str, partition: i32) -> bool {
        self.topics
            .get(topic)
            .and_then(|t| t.partition(partition))
            .is_some()
    }

    pub fn unknown_topic(name: &str) -> KafkaError {
        KafkaError::new(
            ResponseError::UnknownTopicOrPartition,
            format!("This server does not host this topic-partition: {name}"),
        )
    }

    /// The partition, if it exists and `broker` leads it; otherwise Kafka's error for a
    /// client that asked the wrong broker.
    /// The brokers `ids` in the order replicas are placed over: as given, or when every
    /// one has a rack (and there are two racks or more), alternating between racks as
    /// Kafka's rack-aware placement does — the first broker of each rack in rack order,
    /// then the second of each… — so a partition's consecutive replicas are in different
    /// racks.
    fn placement_order(&self, ids: &[i32]) -> Vec<i32> {
        let mut by_rack: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for id in ids {
            match self.broker(*id).and_then(|b| b.rack.as_deref()) {
                Some(rack) => by_rack.entry(rack).or_default().push(*id),
                None => return ids.to_vec(),
            }
        }
        if by_rack.len() < 2 {
            return ids.to_vec();
        }
        let mut lists: Vec<std::collections::VecDeque<i32>> = by_rack
            .into_values()
            .map(|mut v| {
                v.sort_unstable();
                v.into()
            })
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        while out.len() < ids.len() {
            for list in &mut lists {
                out.extend(list.pop_front());
            }
        }
        out
    }

    pub fn led_partition(
        &self,
        topic: &str,
        partition: i32,
        broker: i32,
    ) -> Result<PartitionGuard<'_>, KafkaError> {
        let p = self
            .topics
            .get(topic)
            .and_then(|t| t.partition(partition))
            .ok_or_else(|| Self::unknown_topic(&format!("{topic}-{partition}")))?;
        check_leader(&p, topic, broker)?;
        Ok(p)
    }

    /// A partition a consumer may read from this broker: one it leads, or, when
    /// `followers_serve` (Fetch v11+, KIP-392), one it holds a live copy of. The flag says
    /// whether it is read as a follower (up to its own copy).
    pub fn readable_partition(
        &self,
        topic: &str,
        partition: i32,
        broker: i32,
        followers_serve: bool,
    ) -> Result<(PartitionGuard<'_>, bool), KafkaError> {
        let p = self
            .topics
            .get(topic)
            .and_then(|t| t.partition(partition))
            .ok_or_else(|| Self::unknown_topic(&format!("{topic}-{partition}")))?;
        if followers_serve
            && p.leader >= 0
            && p.leader != broker
            && p.replicas.contains(&broker)
            && !self.is_fenced(broker)
        {
            return Ok((p, true));
        }
        check_leader(&p, topic, broker)?;
        Ok((p, false))
    }

    /// KIP-392's `RackAwareReplicaSelector`, when configured: the replica a consumer in
    /// `rack` should read `p` from at `offset` — an in-sync, live replica in its rack
    /// holding the offset (the one that holds the most), unless the leader is in that
    /// rack. `None` means the leader.
    pub fn preferred_read_replica(&self, p: &Partition, rack: &str, offset: i64) -> Option<i32> {
        if !self.config.rack_aware_replica_selector || rack.is_empty() {
            return None;
        }
        let rack_of = |id: i32| self.broker(id).and_then(|b| b.rack.as_deref());
        if rack_of(p.leader) == Some(rack) {
            return None;
        }
        p.isr
            .iter()
            .copied()
            .filter(|&r| r != p.leader && !self.is_fenced(r) && rack_of(r) == Some(rack))
            .filter(|&r| p.replica_end(r) >= offset && p.log.log_start_offset() <= offset)
            .max_by_key(|&r| (p.replica_end(r), std::cmp::Reverse(r)))
    }

    pub fn led_partition_mut(
        &mut self,
        topic: &str,
        partition: i32,
        broker: i32,
    ) -> Result<&mut Partition, KafkaError> {
        let p = self
            .topics
            .get_mut(topic)
            .and_then(|t| t.partition_mut(partition))
            .ok_or_else(|| Self::unknown_topic(&format!("{topic}-{partition}")))?;
        check_leader(p, topic, broker)?;
        Ok(p)
    }

    /// Checks a CreateTopics entry and returns the replica list of each partition it would
    /// get, without creating anything (CreateTopics' `validate_only`).
    pub fn plan_topic(&self, spec: &TopicSpec) -> Result<Vec<Vec<i32>>, KafkaError> {
        topic::validate_topic_name(&spec.name)?;
        if self.topics.contains_key(&spec.name) {
            return Err(KafkaError::new(
                ResponseError::TopicAlreadyExists,
                format!("Topic '{}' already exists.", spec.name),
            ));
        }
        for (name, value) in &spec.configs {
            config::validate_topic_config(name, value)?;
        }
        let replicas = match &spec.assignments {
            Some(assignments) => {
                if spec.partitions != -1 || spec.replication_factor != -1 {
                    return Err(KafkaError::new(
                        ResponseError::InvalidRequest,
                        "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.",
                    ));
                }
                too_many_partitions(assignments.len())?;
                self.check_assignments(assignments)?;
                assignments.clone()
            }
            None => {
                let partitions = match spec.partitions {
                    -1 => self.config.num_partitions,
                    n if n <= 0 => {
                        return Err(KafkaError::new(
                            ResponseError::InvalidPartitions,
                            "Number of partitions was set to an invalid non-positive value.",
                        ));
                    }
                    n => n,
                };
                too_many_partitions(partitions as usize)?;
                let rf = match spec.replication_factor {
                    -1 => self.config.default_replication_factor,
                    n if n <= 0 => {
                        return Err(KafkaError::new(
                            ResponseError::InvalidReplicationFactor,
                            "Replication factor must be larger than 0, or -1 to use the default value.",
                        ));
                    }
                    n => n,
                };
                // Like KRaft's controller, only unfenced brokers get new replicas.
                let live = self.live_broker_ids();
                if rf as usize > live.len() {
                    return Err(KafkaError::new(
                        ResponseError::InvalidReplicationFactor,
                        format!(
                            "Unable to replicate the partition {rf} time(s): The target replication factor of {rf} cannot be reached because only {} broker(s) are registered.",
                            live.len()
                        ),
                    ));
                }
                let order = self.placement_order(&live);
                topic::place_replicas(&spec.name, &order, 0, partitions, rf as usize)
            }
        };
        Ok(replicas)
    }

    pub fn create_topic(&mut self, spec: &TopicSpec) -> Result<&Topic, KafkaError> {
        let replicas = self.plan_topic(spec)?;
        self.metadata_changed();
        let id = self.new_topic_id();
        let mut partitions: Vec<Partition> = replicas
            .into_iter()
            .enumerate()
            .map(|(i, r)| self.new_partition(i as i32, r))
            .collect();
        tracing::info!(topic = %spec.name, partitions = partitions.len(), "created topic");
        self.attach_files(&spec.name, &mut partitions);
        let topic = Topic::new(
            spec.name.clone(),
            id,
            partitions,
            spec.configs.clone(),
            std::sync::Arc::new(self.broker_configs.topic_defaults()),
        );
        self.topic_ids.insert(id, spec.name.clone());
        Ok(self.topics.entry(spec.name.clone()).or_insert(topic))
    }

    /// Creates `name` with the broker's defaults, as auto-creation on Metadata does.
    pub fn auto_create_topic(&mut self, name: &str) -> Result<&Topic, KafkaError> {
        self.create_topic(&TopicSpec::new(name, -1))
    }

    fn check_assignments(&self, assignments: &[Vec<i32>]) -> Result<(), KafkaError> {
        if assignments.is_empty() {
            return Err(KafkaError::new(
                ResponseError::InvalidReplicaAssignment,
                "A replica assignment needs at least one partition",
            ));
        }
        let rf = assignments.first().map_or(0, Vec::len);
        for replicas in assignments {
            let mut sorted = replicas.clone();
            sorted.sort_unstable();
            sorted.dedup();
            if replicas.is_empty() || sorted.len() != replicas.len() || replicas.len() != rf {
                return Err(KafkaError::new(
                    ResponseError::InvalidReplicaAssignment,
                    format!("Invalid replica assignment {replicas:?}"),
                ));
            }
            if let Some(b) = replicas.iter().find(|b| self.broker(**b).is_none()) {
                return Err(KafkaError::new(
                    ResponseError::InvalidReplicaAssignment,
                    format!("Unknown broker {b} in replica assignment"),
                ));
            }
        }
        Ok(())
    }

    pub fn delete_topic(&mut self, name: &str, now: i64) -> Result<uuid::Uuid, KafkaError> {
        let topic = self
            .topics
            .remove(name)
            .ok_or_else(|| Self::unknown_topic(name))?;
        self.metadata_changed();
        self.remove_topic_files(&topic);
        self.topic_ids.remove(&topic.id);
        self.unkeyed_next.remove(name);
        self.groups().forget_topic(name);
        self.history.record(history::HistoryEvent::TopicDeleted {
            at_ms: now,
            topic: name.to_string(),
        });
        tracing::info!(topic = %name, "deleted topic");
        Ok(topic.id)
    }

    /// Grows `name` to `count` partitions (CreatePartitions).
    pub fn create_partitions(
        &mut self,
        name: &str,
        count: i32,
        assignments: Option<&[Vec<i32>]>,
        validate_only: bool,
    ) -> Result<(), KafkaError> {
        let brokers = self.live_broker_ids();
        let topic = self
            .topics
            .get(name)
            .ok_or_else(|| Self::unknown_topic(name))?;
        let current = topic.partition_count() as i32;
        // Kafka 4.1's controller's words.
        if count == current {
            return Err(KafkaError::new(
                ResponseError::InvalidPartitions,
                format!("Topic already has {current} partition(s)."),
            ));
        }
        if count < current {
            return Err(KafkaError::new(
                ResponseError::InvalidPartitions,
                format!(
                    "The topic {name} currently has {current} partition(s); {count} would not be an increase."
                ),
            ));
        }
        too_many_partitions((count - current) as usize)?;
        let rf = topic.partition(0).map_or(1, |p| p.replicas.len());
        let new = match assignments {
            Some(a) => {
                if a.len() as i32 != count - current {
                    return Err(KafkaError::new(
                        ResponseError::InvalidReplicaAssignment,
                        format!(
                            "Increasing the number of partitions by {} but {} assignments provided.",
                            count - current,
                            a.len()
                        ),
                    ));
                }
                self.check_assignments(a)?;
                if a.iter().any(|replicas| replicas.len() != rf) {
                    return Err(KafkaError::new(
                        ResponseError::InvalidReplicaAssignment,
                        format!(
                            "New partitions need {rf} replicas, as the topic's other partitions have"
                        ),
                    ));
                }
                a.to_vec()
            }
            None => {
                // As KRaft's replica placer: only unfenced brokers take new replicas, and
                // never one broker twice for the same partition.
                if brokers.is_empty() {
                    return Err(KafkaError::new(
                        ResponseError::InvalidReplicationFactor,
                        "All brokers are currently fenced.",
                    ));
                }
                if rf > brokers.len() {
                    return Err(KafkaError::new(
                        ResponseError::InvalidReplicationFactor,
                        format!(
                            "The target replication factor of {rf} cannot be reached because only {} broker(s) are registered.",
                            brokers.len()
                        ),
                    ));
                }
                let order = self.placement_order(&brokers);
                topic::place_replicas(name, &order, current, count - current, rf)
            }
        };
        if validate_only {
            return Ok(());
        }
        let mut new: Vec<Partition> = new
            .into_iter()
            .enumerate()
            .map(|(i, replicas)| self.new_partition(current + i as i32, replicas))
            .collect();
        self.attach_files(name, &mut new);
        self.topics
            .get_mut(name)
            .ok_or_else(|| Self::unknown_topic(name))?
            .extend_partitions(new);
        Ok(())
    }

    /// The partition an unkeyed record from the test helper goes to: round robin per topic,
    /// so seeding is deterministic and even.
    pub fn next_unkeyed_partition(&mut self, topic: &str) -> Result<i32, KafkaError> {
        let count = self
            .topics
            .get(topic)
            .ok_or_else(|| Self::unknown_topic(topic))?
            .partition_count() as i32;
        let next = self.unkeyed_next.entry(topic.to_string()).or_insert(0);
        let p = *next % count;
        *next = (p + 1) % count;
        Ok(p)
    }
}

/// Whether `broker` leads `p` (of `topic`): NOT_LEADER_OR_FOLLOWER, or
/// LEADER_NOT_AVAILABLE while no replica can lead. Public so a caller holding a partition's
/// guard for another check can make this one on the same guard.
pub fn check_leader(p: &Partition, topic: &str, broker: i32) -> Result<(), KafkaError> {
    if p.leader == broker {
        return Ok(());
    }
    if p.leader < 0 {
        return Err(KafkaError::new(
            ResponseError::NotLeaderOrFollower,
            format!(
                "{topic}-{} has no leader: every in-sync replica is down",
                p.index
            ),
        ));
    }
    Err(KafkaError::new(
        ResponseError::NotLeaderOrFollower,
        format!(
            "Broker {broker} is not the leader of {topic}-{} (leader is {})",
            p.index, p.leader
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(brokers: i32) -> State {
        let brokers = (1..=brokers)
            .map(|id| BrokerInfo {
                id,
                host: "127.0.0.1".into(),
                port: 9091 + id,
                rack: None,
                listener_ports: vec![9091 + id],
            })
            .collect();
        State::new(0, brokers, BrokerConfig::default())
    }

    #[test]
    fn create_partitions_with_every_broker_fenced_is_refused_not_a_division_by_zero() {
        let mut state = state(2);
        state.create_topic(&TopicSpec::new("t", 1)).unwrap();
        state.fence_broker(1, 0).unwrap();
        state.fence_broker(2, 0).unwrap();
        let e = state.create_partitions("t", 2, None, false).unwrap_err();
        assert_eq!(e.code, ResponseError::InvalidReplicationFactor);
        assert_eq!(state.topic("t").unwrap().partition_count(), 1);
    }
}
