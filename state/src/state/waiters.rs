//! Who waits on a partition: the long-polling fetches and acks=all produces that should
//! look again when its log or high watermark moves.
//!
//! Each waiting request owns one `Notify` and registers it with every partition it reads,
//! under that partition's lock, in the same hold as it reads the partition, so an append
//! after the read finds it registered. An append or a high-watermark
//! move wakes exactly the registered waiters of that partition (and forgets them: a woken
//! request registers again if it still waits), so a write to one partition never wakes a
//! fetch on another. `notify_one` keeps a permit when the waiter is not parked yet, so a
//! wake-up between the registration and the wait is not lost. Events that touch many
//! partitions at once (a broker stopping, a leader moving, the clock advancing) wake every
//! waiter through the cluster-wide signal in `Shared` instead.

use std::sync::{Arc, Weak};

use tokio::sync::Notify;

#[derive(Debug, Default)]
pub struct Waiters(Vec<Weak<Notify>>);

impl Waiters {
    /// Adds `waiter`, once, and drops waiters that went away (a request answered or its
    /// connection closed), so the list stays as long as the requests waiting now.
    pub fn register(&mut self, waiter: &Arc<Notify>) {
        self.0.retain(|w| w.strong_count() > 0);
        if !self
            .0
            .iter()
            .any(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(waiter)))
        {
            self.0.push(Arc::downgrade(waiter));
        }
    }

    /// Wakes and forgets every waiter.
    pub fn wake(&mut self) {
        for w in self.0.drain(..) {
            if let Some(n) = w.upgrade() {
                n.notify_one();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_reaches_each_registered_waiter_once_and_is_kept_until_awaited() {
        let mut waiters = Waiters::default();
        let (a, b) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
        waiters.register(&a);
        waiters.register(&a);
        waiters.register(&b);
        assert_eq!(waiters.0.len(), 2);
        drop(b);
        waiters.register(&a);
        assert_eq!(waiters.0.len(), 1, "a dropped waiter is forgotten");
        waiters.wake();
        assert!(waiters.0.is_empty());
        // The permit was stored: the next wait returns at once.
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(a.notified());
    }
}
