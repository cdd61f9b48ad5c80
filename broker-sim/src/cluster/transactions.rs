//! The embedding API for transactions: what the coordinator knows of each transactional
//! id, what each partition knows of its producers, and aborting a transaction from a test
//! (as `kafka-transactions.sh abort` would). The control API's `/v1/transactions` and
//! `/v1/producers` endpoints are built on the same calls.

use super::{Cluster, ProducerInfo, TransactionInfo};
use crate::error::KafkaError;
use crate::state::State;
use crate::state::transactions::Transaction;

impl Cluster {
    /// Every transactional id the cluster knows, in id order.
    pub fn transactions(&self) -> Vec<TransactionInfo> {
        let state = self.shared().read();
        state
            .transactions()
            .iter()
            .map(|t| info(t, &state))
            .collect()
    }

    /// One transactional id, if the coordinator knows it.
    pub fn transaction(&self, transactional_id: &str) -> Option<TransactionInfo> {
        let state = self.shared().read();
        state
            .transactions()
            .get(transactional_id)
            .map(|t| info(t, &state))
    }

    /// Aborts the open transaction of `transactional_id` now: its producer is fenced (its
    /// epoch bumped), abort markers go to every partition, and the offsets it committed
    /// are dropped. TRANSACTIONAL_ID_NOT_FOUND for an unknown id, INVALID_TXN_STATE when
    /// no transaction is open.
    pub fn abort_transaction(&self, transactional_id: &str) -> Result<(), KafkaError> {
        let now = self.shared().clock.now_ms();
        self.shared()
            .lock()
            .abort_transaction(transactional_id, now)?;
        self.shared().wake_all();
        Ok(())
    }

    /// The producers `topic`-`partition` knows (idempotent and transactional), in id
    /// order; `None` for an unknown partition.
    pub fn producers(&self, topic: &str, partition: i32) -> Option<Vec<ProducerInfo>> {
        let state = self.shared().read();
        let p = state.topic(topic)?.partition(partition)?;
        Some(
            p.producers
                .iter()
                .map(|(id, entry)| ProducerInfo {
                    producer_id: id,
                    producer_epoch: entry.epoch,
                    last_sequence: entry.last_seq().unwrap_or(-1),
                    last_timestamp: entry.last_timestamp,
                    current_txn_start_offset: entry.txn_first_offset,
                })
                .collect(),
        )
    }

    /// The broker coordinating the group or transactional id `key` (where FindCoordinator
    /// sends clients), if any of its replicas is up.
    pub fn coordinator(&self, key: &str) -> Option<i32> {
        self.shared().lock().coordinator_for(key).map(|b| b.id)
    }

    /// The last stable offset of `topic`-`partition`: read_committed consumers read up to
    /// it. `None` for an unknown partition.
    pub fn last_stable_offset(&self, topic: &str, partition: i32) -> Option<i64> {
        let state = self.shared().read();
        Some(
            state
                .topic(topic)?
                .partition(partition)?
                .last_stable_offset(),
        )
    }
}

fn info(t: &Transaction, state: &State) -> TransactionInfo {
    TransactionInfo {
        transactional_id: t.transactional_id.clone(),
        producer_id: t.producer_id,
        producer_epoch: t.producer_epoch,
        state: t.state.name().to_string(),
        timeout_ms: t.timeout_ms,
        start_ms: t.start_ms,
        partitions: t.partitions.iter().cloned().collect(),
        groups: t.groups.iter().cloned().collect(),
        version: t.version,
        coordinator: state
            .coordinator_for(&t.transactional_id)
            .map_or(-1, |b| b.id),
    }
}
