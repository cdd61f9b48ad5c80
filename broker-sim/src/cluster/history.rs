//! The embedding API for the checkers: the cluster's recorded history and each partition's
//! batches as the log holds them (`crate::checks` builds its snapshot from these; the
//! control API's `/v1/history` shows the first).

use broker_sim_protocol::batch::BatchView;

use super::{BatchInfo, Cluster};
use crate::state::history::History;

impl Cluster {
    /// What the brokers recorded so far: acknowledged produces, fetch answers that carried
    /// records, group assignments, committed offsets and transaction outcomes, oldest
    /// first (see [`ClusterBuilder::history_limit`](super::ClusterBuilder::history_limit)).
    pub fn history(&self) -> History {
        self.shared().read().history()
    }

    /// The batches of one partition's log, in offset order, with the header fields the
    /// checkers compare. Empty if the partition does not exist.
    pub fn batches(&self, topic: &str, partition: i32) -> Vec<BatchInfo> {
        let state = self.shared().read();
        let Some(p) = state.topic(topic).and_then(|t| t.partition(partition)) else {
            return Vec::new();
        };
        p.log
            .batches_from(p.log.log_start_offset())
            .iter()
            .filter_map(|b| {
                let view = BatchView::parse(&b.bytes).ok()?;
                Some(BatchInfo {
                    base_offset: b.base_offset,
                    last_offset: b.last_offset,
                    producer_id: view.producer_id(),
                    producer_epoch: view.producer_epoch(),
                    base_sequence: view.base_sequence(),
                    crc: view.crc(),
                    control: b.is_control,
                    transactional: view.is_transactional(),
                })
            })
            .collect()
    }
}
