//! Replica reassignments (AlterPartitionReassignments, ListPartitionReassignments): a
//! partition's replicas move to a target list. The added replicas copy the log from the
//! start as followers (at once, unless replication lags or is paused); once all are in
//! sync the reassignment completes (`replication.rs`: the removed replicas leave, a
//! removed leader hands over). Until then the partition lists the target followed by the
//! replicas being removed, and the reassignment can be cancelled, restoring the original
//! replicas.

use std::collections::BTreeSet;

use kafka_protocol::ResponseError;

use super::State;
use super::replication::sync_followers;
use super::topic::Reassignment;
use crate::error::KafkaError;

impl State {
    /// Starts reassigning `topic`-`partition` to `target` (replacing one in progress), or
    /// with `None` cancels the one in progress, as Kafka's controller checks them.
    pub fn reassign_partition(
        &mut self,
        topic: &str,
        partition: i32,
        target: Option<Vec<i32>>,
        now: i64,
    ) -> Result<(), KafkaError> {
        let brokers: BTreeSet<i32> = self.brokers.iter().map(|b| b.id).collect();
        if let Some(target) = &target {
            validate(target, &brokers)?;
        }
        let max_lag = self.max_lag_ms();
        let Some(t) = self.topics.get_mut(topic) else {
            return Err(KafkaError::new(
                ResponseError::UnknownTopicOrPartition,
                format!("Unable to find a topic named {topic}."),
            ));
        };
        let p = t.partition_mut(partition).ok_or_else(|| {
            KafkaError::new(
                ResponseError::UnknownTopicOrPartition,
                format!("Unable to find partition {topic}:{partition}."),
            )
        })?;
        match target {
            None => {
                let Some(re) = p.reassignment.take() else {
                    // Kafka sends this code without a message.
                    return Err(KafkaError::new(ResponseError::NoReassignmentInProgress, ""));
                };
                tracing::info!(topic, partition, replicas = ?re.original, "reassignment cancelled");
                for added in &re.adding {
                    p.follower_ends.remove(added);
                    p.caught_up_at.remove(added);
                }
                p.replicas = re.original;
                let replicas = p.replicas.clone();
                p.isr.retain(|i| replicas.contains(i));
            }
            Some(target) => {
                let original = p
                    .reassignment
                    .take()
                    .map_or_else(|| p.replicas.clone(), |re| re.original);
                let current = p.replicas.clone();
                let adding: Vec<i32> = target
                    .iter()
                    .copied()
                    .filter(|r| !current.contains(r))
                    .collect();
                let removing: Vec<i32> = current
                    .iter()
                    .copied()
                    .filter(|r| !target.contains(r))
                    .collect();
                tracing::info!(
                    topic,
                    partition,
                    ?target,
                    ?adding,
                    ?removing,
                    "reassignment started"
                );
                for added in &adding {
                    p.follower_ends.entry(*added).or_insert(0);
                }
                p.replicas = target.iter().chain(&removing).copied().collect();
                p.reassignment = Some(Reassignment {
                    target,
                    original,
                    adding,
                    removing,
                });
            }
        }
        // The new replicas copy what they can now; the reassignment may complete at once.
        sync_followers(p, topic, &self.replication, max_lag, now);
        Ok(())
    }

    /// The reassignments in progress: (topic, partition, reassignment), in order.
    pub fn reassignments(&self) -> Vec<(String, i32, Reassignment)> {
        self.topics()
            .flat_map(|t| {
                t.partitions().filter_map(|p| {
                    p.reassignment
                        .clone()
                        .map(|re| (t.name.clone(), p.index, re))
                })
            })
            .collect()
    }
}

/// Kafka's checks of a manual replica list.
fn validate(target: &[i32], brokers: &BTreeSet<i32>) -> Result<(), KafkaError> {
    let invalid =
        |message: String| KafkaError::new(ResponseError::InvalidReplicaAssignment, message);
    if target.is_empty() {
        return Err(invalid(
            "The manual partition assignment includes an empty replica list.".into(),
        ));
    }
    let mut seen = BTreeSet::new();
    for b in target {
        if !seen.insert(b) {
            return Err(invalid(format!(
                "The manual partition assignment includes the broker {b} more than once."
            )));
        }
        if !brokers.contains(b) {
            return Err(invalid(format!(
                "The manual partition assignment includes broker {b}, but no such broker is registered."
            )));
        }
    }
    Ok(())
}
