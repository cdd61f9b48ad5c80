//! How a handler reaches a coordinator, and under which lock.
//!
//! Transaction coordinators live in the cluster state and run under the state's write lock
//! ([`Ctx::coordinated`]; a group request that only reads the state, its read lock:
//! [`Ctx::coordinated_read`]). Groups sit behind a lock of their own
//! (`state::groups::GroupsCell`): a group request that needs nothing else of the cluster
//! runs under it alone ([`Ctx::group`], [`Ctx::group_heartbeat`]), and one that needs the
//! topics reads them under the state lock first and lets go of it before its work
//! ([`Ctx::groups_after`]). The lock order is the state's, then the groups'.

use super::Ctx;
use crate::error::KafkaError;
use crate::state::State;
use crate::state::groups::Groups;

impl Ctx<'_> {
    /// Runs `op` on the state if this broker coordinates `group_id`, in the same lock
    /// acquisition as the check, so the coordinator cannot move in between;
    /// NOT_COORDINATOR otherwise (group requests must go where FindCoordinator sent the
    /// client). Wakes the group timer task afterwards: the operation may have moved a
    /// deadline.
    pub fn coordinated<T>(
        &self,
        group_id: &str,
        op: impl FnOnce(&mut State, i64) -> Result<T, KafkaError>,
    ) -> Result<T, KafkaError> {
        let result = self.coordinated_quietly(group_id, op);
        self.shared.wake_timers();
        result
    }

    /// Runs `op` on the groups if this broker coordinates `group_id`, under the groups
    /// lock alone (`state::groups::GroupsCell`): a group request that needs nothing else
    /// of the cluster never waits for the state lock, nor makes anyone wait for it. The
    /// check and the operation share one acquisition, so the coordinator cannot move in
    /// between; NOT_COORDINATOR otherwise. Wakes the timer task afterwards: the operation
    /// may have moved a deadline.
    pub fn group<T>(
        &self,
        group_id: &str,
        op: impl FnOnce(&mut Groups, i64) -> Result<T, KafkaError>,
    ) -> Result<T, KafkaError> {
        let result = self.group_quietly(group_id, op);
        self.shared.wake_timers();
        result
    }

    /// [`Ctx::group`] for an operation that changes no deadline but its group's (a
    /// Heartbeat): the timer task is woken only if that group's deadline now comes before
    /// the one the task sleeps until.
    pub fn group_heartbeat<T>(
        &self,
        group_id: &str,
        op: impl FnOnce(&mut Groups, i64) -> Result<T, KafkaError>,
    ) -> Result<T, KafkaError> {
        self.group_quietly(group_id, |groups, now| {
            let result = op(groups, now);
            self.shared.wake_timers_if_earlier(groups.next_deadline());
            result
        })
    }

    fn group_quietly<T>(
        &self,
        group_id: &str,
        op: impl FnOnce(&mut Groups, i64) -> Result<T, KafkaError>,
    ) -> Result<T, KafkaError> {
        let now = self.shared.clock.now_ms();
        let mut groups = self.shared.groups();
        groups.check_coordinator(group_id, self.broker_id)?;
        op(&mut groups, now)
    }

    /// Runs `op` on the groups with what it needs of the rest of the cluster, which `read`
    /// takes from the state: the state's read lock is held only while `read` runs and the
    /// groups lock is taken (before the state's is released: the lock order, and a topic
    /// deleted meanwhile has its offsets forgotten after `op`, not before), so `op`'s work,
    /// an assignment or a commit, runs beside produces and fetches, and `read` beside them
    /// too. Wakes the timer task
    /// afterwards. `op` checks the coordinator itself, where its API says it must.
    pub fn groups_after<P, T>(
        &self,
        read: impl FnOnce(&State) -> P,
        op: impl FnOnce(&mut Groups, P, i64) -> T,
    ) -> T {
        let now = self.shared.clock.now_ms();
        let result = {
            let state = self.shared.read();
            let input = read(&state);
            let mut groups = self.shared.groups();
            drop(state);
            op(&mut groups, input, now)
        };
        self.shared.wake_timers();
        result
    }

    /// [`Ctx::coordinated`] for an operation that only reads: the state's read lock, so
    /// it runs beside produces, fetches and other readers (OffsetFetch and
    /// ConsumerGroupDescribe, which read the ACLs and the topics' ids; DescribeTransactions
    /// and AddPartitionsToTxn's verify-only form, which read a transaction).
    pub fn coordinated_read<T>(
        &self,
        group_id: &str,
        op: impl FnOnce(&State, i64) -> Result<T, KafkaError>,
    ) -> Result<T, KafkaError> {
        let now = self.shared.clock.now_ms();
        let state = self.shared.read();
        state.check_coordinator(group_id, self.broker_id)?;
        op(&state, now)
    }

    fn coordinated_quietly<T>(
        &self,
        group_id: &str,
        op: impl FnOnce(&mut State, i64) -> Result<T, KafkaError>,
    ) -> Result<T, KafkaError> {
        let now = self.shared.clock.now_ms();
        let mut state = self.shared.lock();
        state.check_coordinator(group_id, self.broker_id)?;
        op(&mut state, now)
    }
}
