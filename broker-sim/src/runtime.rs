//! The running cluster: its own thread and tokio runtime, one task per broker (its accept
//! loop, `crate::net`) and the timer task that fires deadlines.
//!
//! The cluster runs on a dedicated thread so the embedding API works the same from a plain
//! `#[test]`, a current-thread `#[tokio::test]` or a multi-thread runtime, and dropping a
//! cluster never blocks an async executor on its own tasks.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::watch;

use crate::net::{self, BrokerNet};
use crate::shared::Shared;

pub(crate) struct Runtime {
    pub shared: Arc<Shared>,
    /// Each broker's network switch (up, stopped, isolated), in broker-id order.
    pub nets: Vec<Arc<BrokerNet>>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl Runtime {
    /// Starts serving every broker on its own thread with `worker_threads` workers.
    pub fn start(
        shared: Arc<Shared>,
        nets: Vec<Arc<BrokerNet>>,
        worker_threads: usize,
    ) -> std::io::Result<Runtime> {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(worker_threads)
            .thread_name("broker-sim")
            .enable_all()
            .build()?;
        let (thread_shared, thread_nets) = (shared.clone(), nets.clone());
        let thread = std::thread::Builder::new()
            .name("broker-sim-cluster".into())
            .spawn(move || {
                runtime.block_on(run(thread_shared, thread_nets, shutdown_rx));
                runtime.shutdown_timeout(Duration::from_secs(5));
            })?;
        Ok(Runtime {
            shared,
            nets,
            shutdown,
            thread: Some(thread),
        })
    }

    /// Stops every broker and waits for their connections to end.
    pub fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves every broker until `shutdown` turns true, then waits for their connections to end.
async fn run(shared: Arc<Shared>, nets: Vec<Arc<BrokerNet>>, shutdown: watch::Receiver<bool>) {
    let mut tasks = tokio::task::JoinSet::new();
    tasks.spawn(run_timers(shared.clone(), shutdown.clone()));
    for net in nets {
        tasks.spawn(net::run_broker(shared.clone(), net, shutdown.clone()));
    }
    while tasks.join_next().await.is_some() {}
}

/// Fires the cluster's deadlines (session and rebalance timeouts, the initial rebalance
/// delay, lagging followers' copies, retention) as they come due. It sleeps until the
/// earliest one, and wakes early whenever a request may have moved it
/// (`Shared::wake_timers`). On a manual clock it only waits for those wake-ups:
/// `Cluster::advance` fires deadlines itself.
async fn run_timers(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    loop {
        let mut woken = std::pin::pin!(shared.timers_changed());
        woken.as_mut().enable();
        let wait = {
            let now = shared.clock.now_ms();
            let mut state = shared.lock();
            if state.tick(now) {
                shared.wake_all();
            }
            let due = state.next_deadline();
            shared.set_timer_due(due);
            due.map(|d| (d - now).max(0))
        };
        shared.note_change();
        // With nothing due, an hour is as good as forever: any change notifies.
        let wait = match wait {
            Some(ms) if !shared.clock.is_manual() => ms as u64,
            _ => 3_600_000,
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = woken => {}
            _ = net::stopped(&mut shutdown) => return,
        }
    }
}
