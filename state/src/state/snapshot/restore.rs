//! Filling a new state from a snapshot (checked by `validate` when it was read). The
//! batches go into the logs as they are, with their offsets; nothing is decoded or
//! re-validated, so starting from a snapshot costs about what a fresh start does.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Snapshot;
use crate::state::State;
use crate::state::acls::{AclBinding, Operation, PatternType, Permission, ResourceType};
use crate::state::epochs::LeaderEpochCache;
use crate::state::log::{PartitionLog, StoredBatch};
use crate::state::scram::{MECHANISMS, ScramCredential};
use crate::state::topic::{Partition, Topic};

impl State {
    /// A topic id no topic has: a cluster started from a snapshot holds ids its seeded
    /// generator may draw again (a fork of a cluster with the same seed would).
    pub(in crate::state) fn new_topic_id(&mut self) -> uuid::Uuid {
        loop {
            let id = self.rng.uuid();
            if !self.topic_ids.contains_key(&id) {
                return id;
            }
        }
    }

    /// Replaces this (new, empty) state's data with the snapshot's, at cluster time `now`.
    /// The brokers were built from the snapshot's count; every one is up, and every
    /// replica in sync up to the snapshot's high watermark.
    pub fn restore(&mut self, snapshot: Snapshot, now: i64) {
        self.cluster_id = snapshot.cluster_id;
        self.next_producer_id = self.next_producer_id.max(snapshot.next_producer_id);
        self.broker_configs.by_resource = snapshot.broker_configs;
        let inherited = Arc::new(self.broker_configs.topic_defaults());
        for t in snapshot.topics {
            let partitions = t
                .partitions
                .into_iter()
                .map(|sp| {
                    let mut p = Partition::new(sp.index, sp.replicas);
                    p.leader = sp.leader;
                    p.leader_epoch = sp.leader_epoch;
                    p.follower_ends = p
                        .replicas
                        .iter()
                        .filter(|&&r| r != sp.leader)
                        .map(|&r| (r, sp.high_watermark))
                        .collect();
                    let mut epochs = LeaderEpochCache::default();
                    for (epoch, start) in &sp.epochs {
                        epochs.assign(*epoch, *start);
                    }
                    if sp.epochs.is_empty() {
                        epochs.assign(sp.leader_epoch, sp.log_start_offset);
                    }
                    p.epochs = epochs;
                    let batches = sp
                        .batches
                        .into_iter()
                        .map(|b| StoredBatch {
                            is_control: b.is_control(),
                            base_offset: b.base_offset,
                            last_offset: b.last_offset,
                            max_timestamp: b.max_timestamp,
                            appended_at: b.appended_at,
                            bytes: b.bytes,
                            delete_horizon: b.delete_horizon,
                        })
                        .collect();
                    p.log = PartitionLog::restored(
                        batches,
                        (sp.log_start_offset, sp.log_end_offset),
                        sp.active_segment_base,
                        sp.cleaned_to,
                        now,
                    );
                    p.high_watermark = sp.high_watermark;
                    p.producers = sp.producers;
                    p
                })
                .collect();
            // `validate` parsed every id.
            let id = uuid::Uuid::parse_str(&t.id).unwrap_or_default();
            self.topic_ids.insert(id, t.name.clone());
            self.topics.insert(
                t.name.clone(),
                Topic::new(t.name, id, partitions, t.configs, Arc::clone(&inherited)),
            );
        }
        for g in snapshot.groups {
            let offsets: BTreeMap<(String, i32), _> = g
                .offsets
                .iter()
                .map(|o| ((o.topic.clone(), o.partition), o.committed()))
                .collect();
            self.groups()
                .insert_empty(&g.id, g.protocol_type, g.kind == "consumer", offsets, now);
        }
        for t in snapshot.transactions {
            self.transactions.txns.insert(t.transactional_id.clone(), t);
        }
        self.plain_users.passwords = snapshot.users.plain;
        for s in snapshot.users.scram {
            let wire = MECHANISMS
                .iter()
                .find(|(_, name)| *name == s.mechanism)
                .map_or(1, |(t, _)| *t);
            let credential = ScramCredential {
                salt: s.salt,
                salted_password: s.salted_password,
                iterations: s.iterations,
            };
            self.scram.by_user.insert((s.user, wire), credential);
        }
        for a in snapshot.acls {
            // `validate` checked every name.
            let (Some(resource_type), Some(pattern_type), Some(operation), Some(permission)) = (
                ResourceType::parse(&a.resource_type),
                PatternType::parse(&a.pattern_type),
                Operation::parse(&a.operation),
                Permission::parse(&a.permission),
            ) else {
                continue;
            };
            self.acls.add(AclBinding {
                resource_type,
                resource_name: a.resource_name,
                pattern_type,
                principal: a.principal,
                host: a.host,
                operation,
                permission,
            });
        }
        self.metadata_changed();
        tracing::info!(
            topics = self.topics.len(),
            groups = self.groups().iter().count(),
            "state restored from a snapshot"
        );
    }
}
