//! The consistency checks a snapshot passes before a cluster is built from it: what the
//! state's own rules would otherwise assume (offsets in order, replicas on known brokers,
//! a batch's header agreeing with the offsets beside it). Batches are checked by header and
//! CRC only, never decoded, so a large snapshot loads quickly.

use std::collections::BTreeSet;

use broker_sim_protocol::batch::BatchView;

use super::{Snapshot, SnapshotError, SnapshotPartition, SnapshotTopic};
use crate::state::acls::{Operation, PatternType, Permission, ResourceType};
use crate::state::topic::validate_topic_name;

fn inconsistent(message: String) -> SnapshotError {
    SnapshotError::Inconsistent(message)
}

impl Snapshot {
    /// Checks everything `restore` relies on.
    pub(crate) fn validate(&self) -> Result<(), SnapshotError> {
        if self.brokers.is_empty() {
            return Err(inconsistent("no brokers".into()));
        }
        for (i, b) in self.brokers.iter().enumerate() {
            if b.id != i as i32 + 1 {
                return Err(inconsistent(format!(
                    "broker ids must be 1..={} in order, found {} at position {}",
                    self.brokers.len(),
                    b.id,
                    i + 1
                )));
            }
        }
        if self.next_producer_id < 0 {
            return Err(inconsistent(format!(
                "next_producer_id {} is negative",
                self.next_producer_id
            )));
        }
        let mut names = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for t in &self.topics {
            if !names.insert(t.name.as_str()) {
                return Err(inconsistent(format!("topic {} appears twice", t.name)));
            }
            let id = uuid::Uuid::parse_str(&t.id).map_err(|e| {
                inconsistent(format!(
                    "topic {} has an invalid id {:?}: {e}",
                    t.name, t.id
                ))
            })?;
            if !ids.insert(id) {
                return Err(inconsistent(format!(
                    "topic id {} appears twice (topic {})",
                    t.id, t.name
                )));
            }
            self.validate_topic(t)?;
        }
        for g in &self.groups {
            if g.id.is_empty() {
                return Err(inconsistent("a group has an empty id".into()));
            }
            if !matches!(g.kind.as_str(), "classic" | "consumer") {
                return Err(inconsistent(format!(
                    "group {} has type {:?}, expected \"classic\" or \"consumer\"",
                    g.id, g.kind
                )));
            }
        }
        for s in &self.users.scram {
            if !matches!(s.mechanism.as_str(), "SCRAM-SHA-256" | "SCRAM-SHA-512") {
                return Err(inconsistent(format!(
                    "user {} has an unknown SCRAM mechanism {:?}",
                    s.user, s.mechanism
                )));
            }
        }
        for a in &self.acls {
            let known = ResourceType::parse(&a.resource_type).is_some()
                && PatternType::parse(&a.pattern_type).is_some()
                && Operation::parse(&a.operation).is_some()
                && Permission::parse(&a.permission).is_some();
            if !known {
                return Err(inconsistent(format!("ACL {a:?} names an unknown value")));
            }
        }
        Ok(())
    }

    fn validate_topic(&self, t: &SnapshotTopic) -> Result<(), SnapshotError> {
        validate_topic_name(&t.name).map_err(|e| inconsistent(e.message))?;
        if t.partitions.is_empty() {
            return Err(inconsistent(format!("topic {} has no partitions", t.name)));
        }
        for (i, p) in t.partitions.iter().enumerate() {
            let at = format!("{}-{}", t.name, p.index);
            if p.index != i as i32 {
                return Err(inconsistent(format!(
                    "topic {}: partition {} at position {i}; partitions must be 0..n in order",
                    t.name, p.index
                )));
            }
            let mut seen = BTreeSet::new();
            for r in &p.replicas {
                if *r < 1 || *r as usize > self.brokers.len() || !seen.insert(*r) {
                    return Err(inconsistent(format!(
                        "{at}: replica list {:?} names an unknown broker or one twice",
                        p.replicas
                    )));
                }
            }
            if !p.replicas.contains(&p.leader) {
                return Err(inconsistent(format!(
                    "{at}: leader {} is not one of the replicas {:?}",
                    p.leader, p.replicas
                )));
            }
            validate_log(&at, p)?;
        }
        Ok(())
    }
}

/// Offsets in order (log start ≤ high watermark ≤ log end, batches ascending and within
/// them), and each batch's header agreeing with its offsets and CRC.
fn validate_log(at: &str, p: &SnapshotPartition) -> Result<(), SnapshotError> {
    if !(0 <= p.log_start_offset
        && p.log_start_offset <= p.high_watermark
        && p.high_watermark <= p.log_end_offset)
    {
        return Err(inconsistent(format!(
            "{at}: offsets out of order: log start {}, high watermark {}, log end {}",
            p.log_start_offset, p.high_watermark, p.log_end_offset
        )));
    }
    if p.leader_epoch < 0 {
        return Err(inconsistent(format!(
            "{at}: leader epoch {} is negative",
            p.leader_epoch
        )));
    }
    let mut next = i64::MIN;
    for b in &p.batches {
        if b.base_offset < next || b.last_offset < b.base_offset {
            return Err(inconsistent(format!(
                "{at}: batch {}..={} is out of order (the previous one ends before {next})",
                b.base_offset, b.last_offset
            )));
        }
        if b.last_offset < p.log_start_offset || b.last_offset >= p.log_end_offset {
            return Err(inconsistent(format!(
                "{at}: batch {}..={} lies outside the log {}..{}",
                b.base_offset, b.last_offset, p.log_start_offset, p.log_end_offset
            )));
        }
        let view = BatchView::parse(&b.bytes)
            .map_err(|e| inconsistent(format!("{at}: batch at {}: {e}", b.base_offset)))?;
        if view.total_len() != b.bytes.len() {
            return Err(inconsistent(format!(
                "{at}: batch at {} has {} bytes after its end",
                b.base_offset,
                b.bytes.len() - view.total_len()
            )));
        }
        if view.base_offset() != b.base_offset || view.last_offset() != b.last_offset {
            return Err(inconsistent(format!(
                "{at}: batch bytes say offsets {}..={}, the snapshot {}..={}",
                view.base_offset(),
                view.last_offset(),
                b.base_offset,
                b.last_offset
            )));
        }
        view.verify_crc()
            .map_err(|e| inconsistent(format!("{at}: batch at {}: {e}", b.base_offset)))?;
        next = b.last_offset + 1;
    }
    let mut last_epoch = (i32::MIN, i64::MIN);
    for &(epoch, start) in &p.epochs {
        if epoch < 0 || start < 0 || epoch <= last_epoch.0 || start < last_epoch.1 {
            return Err(inconsistent(format!(
                "{at}: leader epochs {:?} are not ascending",
                p.epochs
            )));
        }
        last_epoch = (epoch, start);
    }
    Ok(())
}
