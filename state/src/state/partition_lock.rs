//! Each partition's own lock: produces and fetches of different partitions do not wait for
//! each other.
//!
//! The state sits behind a read-write lock (`broker_sim::shared::Shared`). Whatever
//! changes more than one partition's data — creating or deleting a topic, fencing a
//! broker, a transaction's markers, the timer's pass, a snapshot — takes it for writing and
//! reaches each partition through [`PartitionCell::get_mut`], which takes no lock: the
//! write guard already excludes everyone. A produce's append and a fetch's read take it
//! for reading, so any number run at once, and lock the one partition they touch
//! ([`PartitionCell::lock`]) for as long as they touch it.
//!
//! A thread holds at most one partition's lock at a time, and never takes the state lock
//! while it does: so two readers cannot wait for each other in a cycle, and a thread never
//! waits for a partition it already holds. Debug builds check both on every acquisition
//! ([`held_here`]). The order across the other locks is the state's, then a partition's,
//! then the groups', then the leaves (quotas, history).

use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

/// A partition behind its lock (generic only so this file need not know `topic.rs`).
#[derive(Debug)]
pub struct PartitionCell<P>(Mutex<P>);

impl<P> PartitionCell<P> {
    pub fn new(partition: P) -> Self {
        PartitionCell(Mutex::new(partition))
    }

    /// Locks the partition, for a reader of the state (or code that has only `&State`).
    /// A panic while holding the lock would be a broker bug; the partition is still the
    /// best information there is, so the poison is ignored.
    pub fn lock(&self) -> PartitionGuard<'_, P> {
        debug_assert!(
            !held_here(),
            "a thread holds one partition's lock at a time: this one already holds one"
        );
        let guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        #[cfg(debug_assertions)]
        HELD.with(|h| h.set(true));
        PartitionGuard { guard }
    }

    /// The partition, to a holder of the state's write lock: no lock taken.
    pub fn get_mut(&mut self) -> &mut P {
        self.0.get_mut().unwrap_or_else(|e| e.into_inner())
    }
}

/// A locked partition.
pub struct PartitionGuard<'a, P> {
    guard: MutexGuard<'a, P>,
}

impl<P> Deref for PartitionGuard<'_, P> {
    type Target = P;
    fn deref(&self) -> &P {
        &self.guard
    }
}

impl<P> DerefMut for PartitionGuard<'_, P> {
    fn deref_mut(&mut self) -> &mut P {
        &mut self.guard
    }
}

impl<P> Drop for PartitionGuard<'_, P> {
    fn drop(&mut self) {
        #[cfg(debug_assertions)]
        HELD.with(|h| h.set(false));
    }
}

#[cfg(debug_assertions)]
thread_local! {
    static HELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread holds a partition's lock (always false in release builds, which do
/// not track it).
pub fn held_here() -> bool {
    #[cfg(debug_assertions)]
    return HELD.with(|h| h.get());
    #[cfg(not(debug_assertions))]
    false
}
