//! The runtime core: what every broker task, every handler and the embedding API share.
//!
//! It sits above `state` and `faults` and below the APIs: the state behind its one lock,
//! the cluster clock, the signals that wake waiting requests and the timer task, and the
//! fault rules. It knows nothing of sockets, so a handler can be run against a `Shared`
//! built in a unit test (see [`Shared::new`]) without a listener.
//!
//! Waiting requests are woken per partition by the state itself (`state::waiters`); the
//! cluster-wide [`Shared::wake_all`] is for events that touch many partitions at once.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::faults::rules::FaultRules;
use crate::state::State;

pub(crate) struct Shared {
    state: Mutex<State>,
    pub clock: Clock,
    /// Wakes every waiting fetch and acks=all produce: leadership moved, a broker stopped,
    /// a topic was deleted, the clock advanced or replication caught up.
    everything_changed: Notify,
    /// Wakes the timer task: a group deadline or a replication deadline may have moved.
    timers_changed: Notify,
    /// The fault rules every request is matched against.
    pub faults: FaultRules,
}

impl Shared {
    pub fn new(state: State, clock: Clock, seed: u64) -> Self {
        Shared {
            state: Mutex::new(state),
            clock,
            everything_changed: Notify::new(),
            timers_changed: Notify::new(),
            faults: FaultRules::new(seed),
        }
    }

    /// Locks the cluster state. A panic while holding the lock would be a broker bug; the
    /// state is still the best information there is, so the poison is ignored.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether someone holds the state lock (unit tests' probes).
    #[cfg(test)]
    pub fn is_locked(&self) -> bool {
        matches!(
            self.state.try_lock(),
            Err(std::sync::TryLockError::WouldBlock)
        )
    }

    /// Wakes every waiting request to look again.
    pub fn wake_all(&self) {
        self.everything_changed.notify_waiters();
    }

    /// Resolves at the next [`Shared::wake_all`]; create it before checking what to wait
    /// for, and `enable` it, so a wake-up in between is not missed.
    pub fn everything_changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.everything_changed.notified()
    }

    /// Wakes the timer task: a request may have moved a deadline.
    pub fn wake_timers(&self) {
        self.timers_changed.notify_one();
    }

    pub fn timers_changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.timers_changed.notified()
    }
}
