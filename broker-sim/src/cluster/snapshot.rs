//! Snapshots of a running cluster, and clusters started from one: a test suite prepares
//! its data once, snapshots it, and gives every test its own fork
//! ([`Cluster::from_snapshot`]), independent of the others. What a snapshot holds is in
//! `crate::state::snapshot`.

use super::{Cluster, ClusterBuilder};
use crate::clock::Clock;
use crate::state::snapshot::Snapshot;

impl Cluster {
    /// The cluster's data at this moment, taken under the state lock (one consistent
    /// moment; the lock is held for a walk over the logs, whose batch bytes are shared,
    /// not copied), and the schema registry's content. Group members, quotas, fault rules
    /// and the history are not kept.
    pub fn snapshot(&self) -> Snapshot {
        let shared = self.shared();
        let mut snapshot = {
            let state = shared.lock();
            state.snapshot(shared.clock.now_ms(), shared.clock.is_manual())
        };
        // Taken after the state lock is released: the registry has its own lock, and
        // nothing ties its content to one moment of the logs.
        snapshot.schema_registry = shared.registry.export();
        snapshot
    }

    /// A new cluster serving `snapshot`'s data, with the builder's defaults otherwise
    /// (loopback, ephemeral ports): `Cluster::builder().snapshot(snapshot).start()`.
    pub fn from_snapshot(snapshot: Snapshot) -> std::io::Result<Cluster> {
        ClusterBuilder::default().snapshot(snapshot).start()
    }
}

/// The snapshot's broker count replaces the builder's; its racks fill the ones the builder
/// left unset.
pub(super) fn adopt_brokers(s: &Snapshot, brokers: &mut usize, racks: &mut Vec<Option<String>>) {
    *brokers = s.broker_count().max(1);
    if racks.len() < s.brokers.len() {
        racks.resize(s.brokers.len(), None);
    }
    for (rack, b) in racks.iter_mut().zip(&s.brokers) {
        if rack.is_none() {
            rack.clone_from(&b.rack);
        }
    }
}

/// The clock of a cluster whose builder set none: a manual one at the snapshot's time if
/// the snapshot's cluster ran on one, so a test on a manual clock carries on where the
/// snapshot was taken; else the system clock.
pub(super) fn clock_for(snapshot: Option<&Snapshot>) -> Clock {
    match snapshot {
        Some(s) if s.clock.manual => Clock::manual(s.clock.now_ms),
        _ => Clock::System,
    }
}
