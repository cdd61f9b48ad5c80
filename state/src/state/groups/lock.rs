//! The group coordinator's own lock: groups do not wait for the cluster state's.
//!
//! Every group sits in one [`Groups`] behind this lock, beside (not inside) the state lock,
//! so a heartbeat, a join, a commit or a describe never waits behind a produce, a fetch or
//! a topic's creation, and those never wait behind a rebalance. What a group operation
//! needs of the rest of the cluster it has of its own or is handed:
//! - which broker coordinates each of the 50 coordinator partitions, a table the state
//!   refreshes whenever a broker is fenced or unfenced (`Groups::move_coordinators`);
//! - member ids from a seeded stream of its own, so they stay reproducible under a seed
//!   whatever the topics' and producers' requests drew from the state's stream;
//! - the history ([`Recorder`](crate::state::history::Recorder)), whose lock is a leaf;
//! - topics (partition counts, which partitions exist), read by the caller under the
//!   state lock before the groups lock is taken (`broker_sim::api::Ctx::groups_after`).
//!
//! The lock order is state, then groups, then history: state code that touches groups
//! (the timer tick, fencing, a transaction's end, a topic's deletion, snapshots) takes the
//! groups lock while holding the state's, and code holding the groups lock never takes the
//! state's. Debug builds check that order on every acquisition ([`held_here`]).

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};

use super::Groups;

/// The groups and their lock; clones share them.
#[derive(Debug, Clone)]
pub struct GroupsCell(Arc<Mutex<Groups>>);

impl GroupsCell {
    pub fn new(groups: Groups) -> Self {
        GroupsCell(Arc::new(Mutex::new(groups)))
    }

    /// Locks the groups. A panic while holding the lock would be a broker bug; the groups
    /// are still the best information there is, so the poison is ignored.
    pub fn lock(&self) -> GroupsGuard<'_> {
        debug_assert!(
            !held_here(),
            "the groups lock is not reentrant: this thread already holds it"
        );
        let guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        #[cfg(debug_assertions)]
        HELD.with(|h| h.set(true));
        GroupsGuard { guard }
    }
}

/// The locked groups.
pub struct GroupsGuard<'a> {
    guard: MutexGuard<'a, Groups>,
}

impl Deref for GroupsGuard<'_> {
    type Target = Groups;
    fn deref(&self) -> &Groups {
        &self.guard
    }
}

impl DerefMut for GroupsGuard<'_> {
    fn deref_mut(&mut self) -> &mut Groups {
        &mut self.guard
    }
}

impl Drop for GroupsGuard<'_> {
    fn drop(&mut self) {
        #[cfg(debug_assertions)]
        HELD.with(|h| h.set(false));
    }
}

#[cfg(debug_assertions)]
thread_local! {
    static HELD: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread holds the groups lock (always false in release builds, which do
/// not track it): whoever takes the state lock asserts it does not, the lock order.
pub fn held_here() -> bool {
    #[cfg(debug_assertions)]
    return HELD.with(|h| h.get());
    #[cfg(not(debug_assertions))]
    false
}
