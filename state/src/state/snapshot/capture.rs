//! Taking a snapshot of the state, under the state lock: one consistent moment. Batch
//! bytes are reference-counted, so the lock is held for a walk over the logs, not a copy
//! of them; encoding (base64, JSON) happens after it is released.

use super::{
    FORMAT, Snapshot, SnapshotAcl, SnapshotBatch, SnapshotBroker, SnapshotClock, SnapshotGroup,
    SnapshotOffset, SnapshotPartition, SnapshotScram, SnapshotTopic, SnapshotUsers, VERSION,
};
use crate::state::State;
use crate::state::acls::AclFilter;
use crate::state::scram::MECHANISMS;
use crate::state::topic::{Partition, Topic};

impl State {
    /// The state's data at cluster time `now_ms` (`manual`: whether the clock is manual).
    pub fn snapshot(&self, now_ms: i64, manual: bool) -> Snapshot {
        self.capture(now_ms, manual, true)
    }

    /// The snapshot without the logs' batches and producer state, nor the groups: what
    /// durable mode keeps beside the segment files and the groups' own document
    /// (`crate::state::durable`).
    pub fn metadata_snapshot(&self, now_ms: i64, manual: bool) -> Snapshot {
        self.capture(now_ms, manual, false)
    }

    /// `logs`: with the batches, producer state and groups (a whole snapshot), or without.
    fn capture(&self, now_ms: i64, manual: bool, logs: bool) -> Snapshot {
        Snapshot {
            format: FORMAT.into(),
            version: VERSION,
            cluster_id: self.cluster_id.clone(),
            clock: SnapshotClock { now_ms, manual },
            brokers: self
                .brokers
                .iter()
                .map(|b| SnapshotBroker {
                    id: b.id,
                    rack: b.rack.clone(),
                })
                .collect(),
            next_producer_id: self.next_producer_id,
            topics: self.topics.values().map(|t| topic(t, logs)).collect(),
            groups: if logs {
                groups_snapshot(&self.groups())
            } else {
                Vec::new()
            },
            transactions: self.transactions.iter().cloned().collect(),
            broker_configs: self.broker_configs.by_resource.clone(),
            users: self.snapshot_users(),
            acls: self
                .acls
                .list(&AclFilter::any())
                .into_iter()
                .map(|a| SnapshotAcl {
                    resource_type: a.resource_type.as_str().into(),
                    resource_name: a.resource_name,
                    pattern_type: a.pattern_type.as_str().into(),
                    principal: a.principal,
                    host: a.host,
                    operation: a.operation.as_str().into(),
                    permission: a.permission.as_str().into(),
                })
                .collect(),
            // The registry is beside the state, not in it: `Cluster::snapshot` fills this.
            schema_registry: Default::default(),
        }
    }

    fn snapshot_users(&self) -> SnapshotUsers {
        let scram = self
            .scram
            .by_user
            .iter()
            .map(|((user, mechanism), c)| SnapshotScram {
                user: user.clone(),
                mechanism: MECHANISMS
                    .iter()
                    .find(|(t, _)| t == mechanism)
                    .map_or("SCRAM-SHA-256", |(_, name)| name)
                    .to_string(),
                salt: c.salt.clone(),
                salted_password: c.salted_password.clone(),
                iterations: c.iterations,
            })
            .collect();
        SnapshotUsers {
            plain: self.plain_users.passwords.clone(),
            scram,
        }
    }
}

fn topic(t: &Topic, logs: bool) -> SnapshotTopic {
    SnapshotTopic {
        name: t.name.clone(),
        id: t.id.to_string(),
        configs: t.configs.clone(),
        partitions: t.partitions().map(|p| partition(&p, logs)).collect(),
    }
}

fn partition(p: &Partition, logs: bool) -> SnapshotPartition {
    let log = &p.log;
    SnapshotPartition {
        index: p.index,
        replicas: p.replicas.clone(),
        // A partition without a leader (every in-sync replica down) gets its first replica
        // back: a fork starts with every broker up.
        leader: if p.leader >= 0 {
            p.leader
        } else {
            p.replicas[0]
        },
        leader_epoch: p.leader_epoch,
        epochs: p
            .epochs
            .entries
            .iter()
            .map(|e| (e.epoch, e.start_offset))
            .collect(),
        log_start_offset: log.log_start_offset(),
        high_watermark: p.high_watermark(),
        log_end_offset: log.log_end_offset(),
        active_segment_base: log.active_segment_base(),
        cleaned_to: log.cleaned_through(),
        batches: log
            .batches_from(if logs { 0 } else { i64::MAX })
            .iter()
            .map(|b| SnapshotBatch {
                base_offset: b.base_offset,
                last_offset: b.last_offset,
                max_timestamp: b.max_timestamp,
                appended_at: b.appended_at,
                delete_horizon: b.delete_horizon,
                bytes: b.bytes.clone(),
            })
            .collect(),
        producers: if logs {
            p.producers.clone()
        } else {
            Default::default()
        },
    }
}

/// Every group with committed offsets (or a KIP-848 group's type), without members.
pub fn groups_snapshot(groups: &crate::state::groups::Groups) -> Vec<SnapshotGroup> {
    groups.iter().filter_map(group).collect()
}

/// A group with committed offsets (or a KIP-848 group's type), without its members.
fn group(g: &crate::state::groups::Group) -> Option<SnapshotGroup> {
    if g.state == crate::state::groups::GroupState::Dead {
        return None;
    }
    Some(SnapshotGroup {
        id: g.id.clone(),
        kind: if g.consumer.is_some() {
            "consumer"
        } else {
            "classic"
        }
        .into(),
        protocol_type: g.protocol_type.clone(),
        offsets: g
            .offsets
            .iter()
            .map(|((topic, partition), c)| SnapshotOffset {
                topic: topic.clone(),
                partition: *partition,
                offset: c.offset,
                leader_epoch: c.leader_epoch,
                metadata: c.metadata.clone(),
                commit_timestamp: c.commit_timestamp,
            })
            .collect(),
    })
}
