//! The runtime core: what every broker task, every handler and the embedding API share.
//!
//! It sits above `state` and `faults` and below the APIs: the state behind its lock, the
//! groups behind theirs (taken after the state's, never before: `state::groups::lock`),
//! the client quotas behind a leaf lock (`state::quotas::QuotasCell`),
//! the cluster clock, the signals that wake waiting requests and the timer task, and the
//! fault rules. It knows nothing of sockets, so a handler can be run against a `Shared`
//! built in a unit test (see [`Shared::new`]) without a listener.
//!
//! Waiting requests are woken per partition by the state itself (`state::waiters`); the
//! cluster-wide [`Shared::wake_all`] is for events that touch many partitions at once.
//!
//! The state's lock is a read-write lock: a produce's appends and a fetch's reads take it
//! for reading ([`Shared::read`]) and lock only the partitions they touch, one at a time
//! (`state::partition_lock`), so they run beside each other, as does every request and
//! embedding call that only reads (Metadata, the Describe and List requests, OffsetFetch,
//! an offset commit's look at the topics); whatever changes the state beyond one
//! partition takes it for writing ([`Shared::lock`]) and then needs no partition's lock.
//!
//! With the `fuzzing` feature the lock's guards also time how long they are held
//! (`held`), so the fuzz targets can fail on a request that keeps every other client
//! waiting; in other builds the guards are the lock's own and cost nothing.

use std::sync::{Mutex, RwLock};

use tokio::sync::Notify;

use crate::clock::Clock;
use crate::faults::rules::FaultRules;
use crate::registry::SchemaRegistry;
use crate::request_log::RequestLog;
use crate::state::State;

#[cfg(not(feature = "fuzzing"))]
pub(crate) type StateGuard<'a> = std::sync::RwLockWriteGuard<'a, State>;
#[cfg(not(feature = "fuzzing"))]
pub(crate) type StateReadGuard<'a> = std::sync::RwLockReadGuard<'a, State>;
#[cfg(feature = "fuzzing")]
pub(crate) use held::{StateGuard, StateReadGuard};

pub(crate) struct Shared {
    state: RwLock<State>,
    /// The state's groups, whose lock group requests take without the state's
    /// (`state::groups::GroupsCell`).
    groups: crate::state::groups::GroupsCell,
    /// The state's client quotas, counted on every produce and fetch without the state
    /// lock (`state::quotas::QuotasCell`, a leaf lock).
    pub quotas: crate::state::quotas::QuotasCell,
    /// `config.authorizer.enabled`, fixed at start: read on every request, so without the
    /// state lock.
    pub authorizer_enabled: bool,
    pub clock: Clock,
    /// Wakes every waiting fetch and acks=all produce: leadership moved, a broker stopped,
    /// a topic was deleted, the clock advanced or replication caught up.
    everything_changed: Notify,
    /// Wakes the timer task: a group deadline or a replication deadline may have moved.
    timers_changed: Notify,
    /// The cluster time the timer task sleeps until (`i64::MAX`: nothing due), written
    /// under the state lock; `i64::MIN` on a manual clock, whose timer task waits only
    /// for wake-ups. See [`Shared::wake_timers_if_earlier`].
    timer_due: std::sync::atomic::AtomicI64,
    /// The fault rules every request is matched against.
    pub faults: FaultRules,
    /// The requests answered lately (`crate::request_log`).
    pub requests: RequestLog,
    /// The embedded schema registry (`crate::registry`): beside the state, not in it,
    /// since brokers never read it.
    pub registry: SchemaRegistry,
    /// Bumped after every answered request and every timer pass, for the embedding API's
    /// waits (`Cluster::wait_for_group`…), which block a caller's thread, not a task.
    changes: Changes,
    /// Durable mode's data directory (`crate::storage`), set once at start; answers wait
    /// for its fsyncs.
    pub storage: std::sync::OnceLock<crate::storage::Storage>,
    /// How often the state lock was taken, and how often of those for writing (unit tests
    /// count a request's acquisitions).
    #[cfg(test)]
    acquisitions: std::sync::atomic::AtomicUsize,
    #[cfg(test)]
    exclusive: std::sync::atomic::AtomicUsize,
}

/// A generation counter and the condition variable its waiters block on. Bumping costs one
/// atomic add unless someone waits.
#[derive(Default)]
struct Changes {
    generation: std::sync::atomic::AtomicU64,
    waiting: std::sync::atomic::AtomicUsize,
    lock: Mutex<()>,
    bumped: std::sync::Condvar,
}

impl Shared {
    pub fn new(state: State, clock: Clock, seed: u64) -> Self {
        Shared {
            groups: state.groups_cell(),
            quotas: state.quotas.clone(),
            authorizer_enabled: state.config.authorizer.enabled,
            state: RwLock::new(state),
            clock,
            everything_changed: Notify::new(),
            timers_changed: Notify::new(),
            timer_due: std::sync::atomic::AtomicI64::new(i64::MIN),
            faults: FaultRules::new(seed),
            changes: Changes::default(),
            requests: RequestLog::default(),
            registry: SchemaRegistry::new(),
            storage: std::sync::OnceLock::new(),
            #[cfg(test)]
            acquisitions: Default::default(),
            #[cfg(test)]
            exclusive: Default::default(),
        }
    }

    /// Tells the embedding API's waits that the state may have changed.
    pub fn note_change(&self) {
        use std::sync::atomic::Ordering;
        let changes = &self.changes;
        changes.generation.fetch_add(1, Ordering::Release);
        if changes.waiting.load(Ordering::Acquire) > 0 {
            // Taking the lock orders the bump before a waiter's check-then-wait.
            drop(changes.lock.lock().unwrap_or_else(|e| e.into_inner()));
            changes.bumped.notify_all();
        }
    }

    /// Calls `check` on the state until it gives a value or `timeout` (real time) passes,
    /// looking again after every change [`Shared::note_change`] reports, and at least every
    /// 20 ms for changes made outside requests (the embedding API's own calls). On timeout
    /// the error is `last`'s view of the state then.
    pub fn wait_until<T, L>(
        &self,
        timeout: std::time::Duration,
        mut check: impl FnMut(&State) -> Option<T>,
        last: impl FnOnce(&State) -> L,
    ) -> Result<T, L> {
        use std::sync::atomic::Ordering;
        let changes = &self.changes;
        let deadline = std::time::Instant::now() + timeout;
        changes.waiting.fetch_add(1, Ordering::AcqRel);
        let outcome = loop {
            let seen = changes.generation.load(Ordering::Acquire);
            if let Some(found) = check(&self.read()) {
                break Ok(found);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break Err(last(&self.read()));
            }
            let guard = changes.lock.lock().unwrap_or_else(|e| e.into_inner());
            if changes.generation.load(Ordering::Acquire) == seen {
                let pause = left.min(std::time::Duration::from_millis(20));
                drop(changes.bumped.wait_timeout(guard, pause));
            }
        };
        changes.waiting.fetch_sub(1, Ordering::AcqRel);
        outcome
    }

    /// Locks the cluster state for writing: nothing else reads or writes it meanwhile. A
    /// panic while holding the lock would be a broker bug; the state is still the best
    /// information there is, so the poison is ignored.
    pub fn lock(&self) -> StateGuard<'_> {
        self.check_order();
        #[cfg(test)]
        self.exclusive
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let guard = self.state.write().unwrap_or_else(|e| e.into_inner());
        #[cfg(feature = "fuzzing")]
        let guard = held::Held::new(guard);
        guard
    }

    /// Locks the cluster state for reading, beside other readers: for a produce's appends
    /// and a fetch's reads, which lock each partition they touch
    /// (`state::partition_lock`).
    pub fn read(&self) -> StateReadGuard<'_> {
        self.check_order();
        let guard = self.state.read().unwrap_or_else(|e| e.into_inner());
        #[cfg(feature = "fuzzing")]
        let guard = held::Held::new(guard);
        guard
    }

    /// The lock order: the state's lock is taken first (a thread waiting for it while
    /// holding the groups' or a partition's could wait for a holder that waits for those).
    fn check_order(&self) {
        debug_assert!(
            !crate::state::groups::held_here(),
            "lock order: the state lock is never taken while holding the groups lock"
        );
        debug_assert!(
            !crate::state::partition_lock::held_here(),
            "lock order: the state lock is never taken while holding a partition's lock"
        );
        #[cfg(test)]
        self.acquisitions
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// Locks the groups without the state: for group requests that need nothing else of
    /// the cluster (`state::groups::GroupsCell`). The state lock is never taken while
    /// holding this one.
    pub fn groups(&self) -> crate::state::groups::GroupsGuard<'_> {
        self.groups.lock()
    }

    /// How often the state lock has been taken so far (unit tests): (for reading or
    /// writing, for writing).
    #[cfg(test)]
    pub fn acquisitions(&self) -> (usize, usize) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.acquisitions.load(Relaxed),
            self.exclusive.load(Relaxed),
        )
    }

    /// Whether someone holds the state lock (unit tests' probes).
    #[cfg(test)]
    pub fn is_locked(&self) -> bool {
        matches!(
            self.state.try_write(),
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

    /// Wakes the timer task only if `deadline` (a group's new earliest deadline, computed
    /// under the groups lock) comes before the one it sleeps until. A heartbeat only moves its
    /// member's session later, so the timer task, which would wake early at worst, need
    /// not run after every one: with 1,000 live groups those wake-ups, each a thread woken
    /// on another core, were what delayed other clients' requests (`bench scale`).
    pub fn wake_timers_if_earlier(&self, deadline: Option<i64>) {
        let due = self.timer_due.load(std::sync::atomic::Ordering::Acquire);
        if deadline.is_some_and(|d| d < due) {
            self.wake_timers();
        }
    }

    /// Records when the timer task will next run by itself (call under the groups lock,
    /// `State::next_deadline_then`).
    pub fn set_timer_due(&self, due: Option<i64>) {
        let due = if self.clock.is_manual() {
            i64::MIN
        } else {
            due.unwrap_or(i64::MAX)
        };
        self.timer_due
            .store(due, std::sync::atomic::Ordering::Release);
    }

    pub fn timers_changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.timers_changed.notified()
    }
}

/// The state lock's guards in fuzzing builds: the lock's guard plus the instant it was
/// taken. On release it records the longest hold so far on this thread (a fuzz target runs
/// every request on one thread), which `crate::fuzzing` reads and resets per input.
#[cfg(feature = "fuzzing")]
pub(crate) mod held {
    use std::cell::Cell;
    use std::ops::{Deref, DerefMut};
    use std::sync::{RwLockReadGuard, RwLockWriteGuard};
    use std::time::{Duration, Instant};

    use crate::state::State;

    thread_local! {
        static LONGEST: Cell<Duration> = const { Cell::new(Duration::ZERO) };
    }

    /// The longest the lock was held on this thread since the last call.
    pub fn take_longest() -> Duration {
        LONGEST.with(|l| l.replace(Duration::ZERO))
    }

    pub type StateGuard<'a> = Held<RwLockWriteGuard<'a, State>>;
    pub type StateReadGuard<'a> = Held<RwLockReadGuard<'a, State>>;

    pub struct Held<G> {
        guard: G,
        since: Instant,
    }

    impl<G> Held<G> {
        pub fn new(guard: G) -> Self {
            Held {
                guard,
                since: Instant::now(),
            }
        }
    }

    impl<G: Deref<Target = State>> Deref for Held<G> {
        type Target = State;
        fn deref(&self) -> &State {
            &self.guard
        }
    }

    impl<G: DerefMut<Target = State>> DerefMut for Held<G> {
        fn deref_mut(&mut self) -> &mut State {
            &mut self.guard
        }
    }

    impl<G> Drop for Held<G> {
        fn drop(&mut self) {
            let held = self.since.elapsed();
            LONGEST.with(|l| l.set(l.get().max(held)));
        }
    }
}
