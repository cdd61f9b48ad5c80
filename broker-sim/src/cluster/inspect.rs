//! Inspection and seeding: topics, partitions, records, traffic, groups; records and
//! offsets written by a test without a client.

use broker_sim_protocol::batch::{self, Codec, NewRecord};
use broker_sim_protocol::partitioner;
use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::builder::{bootstrap, to_config_map};
use super::views::ConsumerGroupInfo;
use super::{
    Cluster, ClusterBuilder, GroupInfo, GroupOffset, MemberInfo, PartitionInfo, Record, TxnStatus,
};
use crate::error::KafkaError;
use crate::state::counters::TopicStats;
use crate::state::groups::{GroupState, OffsetReset, decode_assignment};
use crate::state::{AppendOptions, BrokerInfo, TopicSpec};

impl Cluster {
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder::default()
    }

    /// `host:port` of every broker, comma-separated, for a client's `bootstrap.servers`.
    pub fn bootstrap_servers(&self) -> String {
        bootstrap(&self.brokers)
    }

    /// The brokers' addresses on the listener called `name` (see
    /// [`ClusterBuilder::listener`](crate::ClusterBuilder::listener)), or None if there is
    /// no such listener.
    pub fn bootstrap_servers_for(&self, name: &str) -> Option<String> {
        let index = self
            .shared()
            .lock()
            .config
            .security
            .listeners
            .iter()
            .position(|l| l.name == name)?;
        Some(super::builder::bootstrap_on(&self.brokers, index))
    }

    /// The CA certificate (PEM) clients of SSL and SASL_SSL listeners trust, when the
    /// cluster generated its certificates; None without TLS listeners or with
    /// certificates from files.
    pub fn tls_ca_pem(&self) -> Option<String> {
        self.tls.as_ref()?.ca_pem()
    }

    /// A client certificate and private key (PEM) with common name `name`, signed by the
    /// generated CA, for mutual TLS: its connections' principal is "User:CN=name".
    pub fn tls_client_certificate(&self, name: &str) -> Result<(String, String), KafkaError> {
        let material = self.tls.as_ref().ok_or_else(|| {
            KafkaError::new(
                kafka_protocol::ResponseError::InvalidRequest,
                "the cluster has no TLS listener",
            )
        })?;
        material
            .client_certificate(name)
            .map_err(|e| KafkaError::new(kafka_protocol::ResponseError::InvalidRequest, e))
    }

    /// The listeners every broker has, in order.
    pub fn listeners(&self) -> Vec<crate::security::Listener> {
        self.shared().read().config.security.listeners.clone()
    }

    /// Adds (or changes) a SASL user, who may then authenticate with PLAIN, SCRAM-SHA-256
    /// and SCRAM-SHA-512.
    pub fn add_sasl_user(&self, name: &str, password: &str) {
        self.shared().lock().add_user(name, password);
    }

    /// Removes a SASL user's password and SCRAM credentials; false if there was none.
    /// Connections it authenticated stay open until they must re-authenticate, as in Kafka.
    pub fn remove_sasl_user(&self, name: &str) -> bool {
        self.shared().lock().remove_user(name)
    }

    /// Users with a PLAIN password or a SCRAM credential, in name order.
    pub fn sasl_users(&self) -> Vec<String> {
        self.shared().read().users()
    }

    pub fn brokers(&self) -> Vec<BrokerInfo> {
        self.brokers.clone()
    }

    pub fn cluster_id(&self) -> String {
        self.shared().read().cluster_id.clone()
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
        self.shared().lock().create_topic(&spec).map(|_| ())
    }

    /// Changes topic configs as `kafka-configs --alter` does: `Some(value)` sets one,
    /// `None` removes its override. Validated like CreateTopics' configs, all or nothing;
    /// in effect at once (the next produce, fetch or retention check reads them).
    pub fn alter_topic_configs(
        &self,
        topic: &str,
        changes: &[(&str, Option<&str>)],
    ) -> Result<(), KafkaError> {
        self.shared().lock().change_topic_configs(topic, changes)?;
        // A retention change may already have something to delete.
        self.shared().wake_timers();
        Ok(())
    }

    /// Runs the log cleaner over `topic` now instead of waiting for it: each partition's
    /// active segment is rolled and everything below the last stable offset, the high
    /// watermark and `min.compaction.lag.ms` is compacted, keeping the latest record of
    /// each key and the tombstones younger than their `delete.retention.ms` horizon
    /// (`state/cleaner.rs`). Fails for an unknown topic, or one whose `cleanup.policy`
    /// lacks `compact`.
    pub fn compact_now(&self, topic: &str) -> Result<crate::Compaction, KafkaError> {
        let now = self.now_ms();
        let done = self.shared().lock().compact_now(topic, now)?;
        self.shared().wake_all();
        Ok(done)
    }

    /// Sets a client quota as `kafka-configs --alter --add-config` does, or removes it
    /// with `None`: `entity` names a user, a client id, both, or an IP (`None` for the
    /// default), e.g. `&[("client-id", Some("billing"))]`, and `key` is
    /// `producer_byte_rate`, `consumer_byte_rate`, `request_percentage`… Validated as
    /// AlterClientQuotas; the byte rates throttle the next produce or fetch
    /// (`state/quotas.rs`).
    pub fn set_client_quota(
        &self,
        entity: &[(&str, Option<&str>)],
        key: &str,
        value: Option<f64>,
    ) -> Result<(), KafkaError> {
        let alteration = crate::state::quotas::QuotaAlteration {
            entity: entity
                .iter()
                .map(|(t, n)| (t.to_string(), n.map(str::to_string)))
                .collect(),
            ops: vec![(key.to_string(), value)],
        };
        let mut results = self.shared().quotas.alter(&[alteration], false);
        results.pop().map_or(Ok(()), |(_, result)| result)
    }

    /// Topic `topic`'s config overrides (what differs from the defaults), by name.
    pub fn topic_configs(&self, topic: &str) -> Option<std::collections::BTreeMap<String, String>> {
        self.shared().read().topic(topic).map(|t| t.configs.clone())
    }

    pub fn delete_topic(&self, name: &str) -> Result<(), KafkaError> {
        let now = self.now_ms();
        self.shared().lock().delete_topic(name, now)?;
        // Long-polling fetches on the topic answer now, as Kafka's delayed fetches do.
        self.shared().wake_all();
        Ok(())
    }

    /// Topic names, sorted.
    pub fn topics(&self) -> Vec<String> {
        self.shared()
            .lock()
            .topics()
            .map(|t| t.name.clone())
            .collect()
    }

    /// The partitions of `topic` with leaders and offsets; `None` if it does not exist.
    pub fn partitions(&self, topic: &str) -> Option<Vec<PartitionInfo>> {
        let state = self.shared().read();
        let t = state.topic(topic)?;
        Some(
            t.partitions()
                .map(|p| PartitionInfo {
                    partition: p.index,
                    leader: p.leader,
                    leader_epoch: p.leader_epoch,
                    replicas: p.replicas.clone(),
                    isr: p.isr.clone(),
                    log_start_offset: p.log.log_start_offset(),
                    high_watermark: p.high_watermark(),
                    last_stable_offset: p.last_stable_offset(),
                    cleaned_to: p.log.cleaned_through(),
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
        let state = self.shared().read();
        let t = state.topic(topic)?;
        let partitions = t
            .partitions()
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
        let decoded: Vec<_> = {
            let state = self.shared().read();
            let Some(p) = state.topic(topic).and_then(|t| t.partition(partition)) else {
                return Vec::new();
            };
            p.log
                .records_with_producers()
                .into_iter()
                .map(|(r, producer)| {
                    let status = match producer {
                        None => TxnStatus::None,
                        Some(id) if p.producers.is_aborted(id, r.offset) => TxnStatus::Aborted,
                        Some(id) if p.producers.is_open(id, r.offset) => TxnStatus::Open,
                        Some(_) => TxnStatus::Committed,
                    };
                    (r, status)
                })
                .collect()
        };
        decoded
            .into_iter()
            .map(|(r, transaction)| Record {
                topic: topic.to_string(),
                partition,
                offset: r.offset,
                timestamp: r.timestamp,
                key: r.key,
                value: r.value,
                headers: r.headers,
                transaction,
            })
            .collect()
    }

    /// What a read_committed consumer of `topic` reads, by partition then offset: every
    /// record but those of aborted transactions, and only up to the first record of a
    /// transaction still open (the last stable offset), as Kafka's consumers see it.
    pub fn committed_records(&self, topic: &str) -> Vec<Record> {
        let count = self.partitions(topic).map_or(0, |p| p.len() as i32);
        (0..count)
            .flat_map(|p| {
                let stable = {
                    let state = self.shared().read();
                    state
                        .topic(topic)
                        .and_then(|t| t.partition(p))
                        .map_or(0, |p| p.last_stable_offset())
                };
                self.partition_records(topic, p)
                    .into_iter()
                    .filter(move |r| {
                        r.offset < stable && r.transaction.is_visible_to_read_committed()
                    })
            })
            .collect()
    }

    /// The partition the Java client's default partitioner picks for `key` in `topic`.
    pub fn partition_for_key(&self, topic: &str, key: &[u8]) -> Option<i32> {
        let count = self.shared().read().topic(topic)?.partition_count() as i32;
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
            timestamp: self.shared().clock.now_ms(),
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
            (None, None) => self.shared().lock().next_unkeyed_partition(topic)?,
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
            now_ms: self.shared().clock.now_ms(),
            allow_zstd: true,
            transactional_id: None,
            version: 13,
        };
        let appended = {
            let mut state = self.shared().lock();
            let appended = state
                .append(topic, partition, None, &bytes, options)
                .map_err(|e| e.error)?;
            let range = (appended.base_offset, appended.last_offset);
            state.record_ack(topic, partition, range, 1, options.now_ms);
            appended
        };
        self.shared().wake_all();
        Ok(appended.base_offset)
    }

    /// Group ids, sorted.
    pub fn groups(&self) -> Vec<String> {
        self.shared()
            .groups()
            .iter()
            .map(|g| g.id.clone())
            .collect()
    }

    /// A group's state, members with their assignments, committed offsets and lag.
    pub fn group(&self, group_id: &str) -> Option<GroupInfo> {
        group_info(&self.shared().lock(), group_id)
    }

    /// Removes a member now, as if its session had timed out — a consumer "crash" without
    /// waiting out `session.timeout.ms`. The rest of the group rebalances.
    pub fn expire_member(&self, group_id: &str, member_id: &str) -> Result<(), KafkaError> {
        let now = self.shared().clock.now_ms();
        let result = self
            .shared()
            .groups()
            .expire_member(group_id, member_id, now);
        self.shared().wake_timers();
        result.map_err(|e| {
            KafkaError::new(
                e.code,
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
        let now = self.shared().clock.now_ms();
        self.shared()
            .lock()
            .reset_group_offsets(group_id, topic, to, now)
    }

    /// Sets committed offsets of a group without members, each (topic, partition,
    /// offset) exactly as given, creating the group if need be, as Kafka's admin
    /// `alterConsumerGroupOffsets` does. All or nothing: an unknown partition, a negative
    /// offset or a group with members changes nothing.
    pub fn alter_group_offsets(
        &self,
        group_id: &str,
        offsets: &[(&str, i32, i64)],
    ) -> Result<(), KafkaError> {
        let now = self.shared().clock.now_ms();
        let offsets = offsets
            .iter()
            .map(|&(topic, partition, offset)| (topic.to_string(), partition, offset))
            .collect();
        self.shared()
            .lock()
            .alter_group_offsets(group_id, offsets, now)
    }
}

/// The inspection view of one group, read under the caller's lock (`Cluster::group` and
/// the waits in `waits`).
pub(super) fn group_info(state: &crate::state::State, group_id: &str) -> Option<GroupInfo> {
    let groups = state.groups();
    let g = groups.get(group_id)?;
    let members: Vec<MemberInfo> = match &g.consumer {
        None => g
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
                member_epoch: None,
                member_state: None,
                target_assignment: Vec::new(),
            })
            .collect(),
        Some(cg) => {
            let listed = |a: &crate::state::groups::assignors::Assignment| {
                a.iter()
                    .map(|(t, ps)| (t.clone(), ps.iter().copied().collect()))
                    .collect()
            };
            cg.members
                .values()
                .map(|m| MemberInfo {
                    member_id: m.id.clone(),
                    group_instance_id: m.instance_id.clone(),
                    client_id: m.client_id.clone(),
                    client_host: m.client_host.clone(),
                    session_timeout_ms: groups.config.consumer_session_timeout_ms,
                    rebalance_timeout_ms: m.rebalance_timeout_ms,
                    assignment: listed(&m.assigned),
                    member_epoch: Some(m.member_epoch),
                    member_state: Some(m.state.as_str().to_string()),
                    target_assignment: cg.target.get(&m.id).map(listed).unwrap_or_default(),
                })
                .collect()
        }
    };
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
    let consumer = g.consumer.as_ref().map(|cg| ConsumerGroupInfo {
        state: cg.state_name().to_string(),
        group_epoch: cg.epoch,
        assignment_epoch: cg.assignment_epoch,
        assignor: cg.assignor.clone(),
    });
    let group_state = match consumer.as_ref().map(|c| c.state.as_str()) {
        None => g.state,
        Some("Empty") => GroupState::Empty,
        Some("Stable") => GroupState::Stable,
        Some(_) => GroupState::PreparingRebalance,
    };
    Some(GroupInfo {
        group_id: g.id.clone(),
        state: group_state,
        group_type: g.group_type().to_string(),
        consumer,
        protocol_type: g.protocol_type.clone().unwrap_or_default(),
        protocol: g.protocol.clone(),
        generation: g.generation,
        leader: g.leader.clone(),
        members,
        offsets,
        coordinator: state.coordinator_for(group_id).map(|b| b.id),
    })
}
