//! The embedding API for fault rules: what a Rust test calls on its [`Cluster`]. The
//! control API's `/v1/faults` endpoints are built on the same calls.

use std::time::Duration;

use super::Cluster;
use crate::error::KafkaError;
use crate::faults::{Fault, FaultId, FaultStatus};

/// Fault injection (see [`crate::faults`] for the rule language and what each action does).
impl Cluster {
    /// Adds a fault rule; it applies to requests read from now on, after every rule added
    /// before it. Ids count up from 1. INVALID_REQUEST for a probability outside 0–1 or a
    /// negative throttle time.
    pub fn inject(&self, fault: Fault) -> Result<FaultId, KafkaError> {
        self.shared().faults.add(fault)
    }

    /// Every rule that may still fire and the last 1,000 spent ones (rules whose `times`
    /// ran out), in id order, with their hits so far.
    pub fn faults(&self) -> Vec<FaultStatus> {
        self.shared().faults.list()
    }

    /// How often rule `id` fired; `None` if there is no such rule (removed, or spent so
    /// long ago that the history of spent rules forgot it).
    pub fn fault_hits(&self, id: FaultId) -> Option<u64> {
        self.shared().faults.hits(id)
    }

    /// One rule with its hits, active or recently spent.
    pub fn fault(&self, id: FaultId) -> Option<FaultStatus> {
        self.shared().faults.get(id)
    }

    /// Removes rule `id`; false if there was none.
    pub fn remove_fault(&self, id: FaultId) -> bool {
        self.shared().faults.remove(id)
    }

    /// Removes every rule.
    pub fn clear_faults(&self) {
        self.shared().faults.clear()
    }

    /// Blocks the calling thread until rule `id` has fired `hits` times (true), or
    /// `timeout` passes or the rule is removed first (false); false at once for a spent
    /// rule that fired fewer times, since it never fires again. Call it from a thread that
    /// does not drive the client under test (in `#[tokio::test]`, `spawn_blocking`).
    pub fn wait_for_fault(&self, id: FaultId, hits: u64, timeout: Duration) -> bool {
        self.shared().faults.wait(id, hits, timeout)
    }
}
