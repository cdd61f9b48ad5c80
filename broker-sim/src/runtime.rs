//! The running cluster: one task per broker (its accept loop, `crate::net`) and the timer
//! task that fires deadlines, on a tokio runtime of broker-sim's own.
//!
//! The runtime is not the caller's, so the embedding API works the same from a plain
//! `#[test]`, a current-thread `#[tokio::test]` or a multi-thread runtime, and dropping a
//! cluster never blocks an async executor on its own tasks. By default every cluster of
//! the process shares one runtime, started with the first cluster and kept for the
//! process's life: a test that starts and drops a cluster of its own then pays for
//! binding its ports and spawning a few tasks, not for creating and joining threads,
//! which was two thirds of a fresh cluster's cost (start 44 µs and drop 98 µs of 145 µs
//! per start-produce-read-drop cycle, measured). A cluster built with
//! `ClusterBuilder::worker_threads` gets a runtime of its own with that many workers, on
//! its own thread, as before.

use std::sync::{Arc, OnceLock};
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
    serving: Option<Serving>,
}

/// Where the cluster's tasks run, and how to wait for them to end.
enum Serving {
    /// On the process's shared runtime: the receiver hears when `run` has returned.
    /// (A mutex only to keep `Cluster` `Sync`: `stop` takes it by `&mut self`.)
    Shared(std::sync::Mutex<std::sync::mpsc::Receiver<()>>),
    /// On a runtime of its own, on this thread.
    Own(JoinHandle<()>),
}

/// The runtime clusters share: as many workers as the machine has cores, at least two.
/// Built once, under the `OnceLock` (clusters starting at once wait for the first), and
/// never dropped: a runtime dropped inside an async context panics.
fn shared_runtime() -> std::io::Result<&'static tokio::runtime::Runtime> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            let workers = std::thread::available_parallelism().map_or(2, |n| n.get().max(2));
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(workers)
                .thread_name("broker-sim")
                .enable_all()
                .build()
                .map_err(|e| format!("broker-sim's runtime could not start: {e}"))
        })
        .as_ref()
        .map_err(|e| std::io::Error::other(e.clone()))
}

impl Runtime {
    /// Starts serving every broker: on the shared runtime, or, given `worker_threads`, on
    /// a runtime of its own with that many workers.
    pub fn start(
        shared: Arc<Shared>,
        nets: Vec<Arc<BrokerNet>>,
        worker_threads: Option<usize>,
    ) -> std::io::Result<Runtime> {
        let (shutdown, shutdown_rx) = watch::channel(false);
        let (task_shared, task_nets) = (shared.clone(), nets.clone());
        let serving = match worker_threads {
            None => {
                let (done, ended) = std::sync::mpsc::channel();
                shared_runtime()?.spawn(async move {
                    run(task_shared, task_nets, shutdown_rx).await;
                    let _ = done.send(());
                });
                Serving::Shared(std::sync::Mutex::new(ended))
            }
            Some(workers) => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(workers)
                    .thread_name("broker-sim")
                    .enable_all()
                    .build()?;
                let thread = std::thread::Builder::new()
                    .name("broker-sim-cluster".into())
                    .spawn(move || {
                        runtime.block_on(run(task_shared, task_nets, shutdown_rx));
                        runtime.shutdown_timeout(Duration::from_secs(5));
                    })?;
                Serving::Own(thread)
            }
        };
        Ok(Runtime {
            shared,
            nets,
            shutdown,
            serving: Some(serving),
        })
    }

    /// Stops every broker and waits for their connections to end.
    pub fn stop(&mut self) {
        let _ = self.shutdown.send(true);
        match self.serving.take() {
            Some(Serving::Shared(ended)) => {
                let ended = ended.into_inner().unwrap_or_else(|e| e.into_inner());
                wait_ended(&ended);
            }
            Some(Serving::Own(thread)) => {
                let _ = thread.join();
            }
            None => {}
        }
    }
}

/// Waits for the cluster's `run` to say it has returned. It looks again, yielding, for a
/// moment before it sleeps: the tasks usually end within tens of microseconds, and being
/// woken from a sleep costs about as much again on a virtual machine whose idle core must
/// be woken first (measured with a start, produce, read, drop loop on a 2-core VM: the drop
/// took 85 µs sleeping at once, 50 µs this way). `yield_now` lets the worker that ends the
/// tasks run first on a busy core.
fn wait_ended(ended: &std::sync::mpsc::Receiver<()>) {
    use std::sync::mpsc::TryRecvError;
    let look_until = std::time::Instant::now() + Duration::from_micros(200);
    while std::time::Instant::now() < look_until {
        match ended.try_recv() {
            Err(TryRecvError::Empty) => std::thread::yield_now(),
            // Ended, or the task is gone (the runtime is shutting down).
            _ => return,
        }
    }
    let _ = ended.recv();
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Serves every broker until `shutdown` turns true, then waits for their connections to end.
async fn run(shared: Arc<Shared>, nets: Vec<Arc<BrokerNet>>, shutdown: watch::Receiver<bool>) {
    if *shutdown.borrow() {
        // Dropped before its tasks ever ran (a test that starts a cluster, seeds and reads
        // it through the embedding API, and drops it): close the ports without
        // registering them with the runtime only to deregister them.
        for net in nets {
            drop(
                net.listener
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take(),
            );
        }
        return;
    }
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
            let due = state.next_deadline_then(|due| shared.set_timer_due(due));
            due.map(|d| (d - now).max(0))
        };
        shared.note_change();
        // Durable mode: what the pass changed (transactions timed out, retention), and
        // what the embedding and control APIs changed since the last pass, which no
        // request wrote, goes to the metadata document; passes come at least every second.
        let durable = shared.storage.get();
        if let (Some(storage), Err(e)) = (
            durable,
            crate::pipeline::persist_metadata(&shared, crate::pipeline::Documents::All).await,
        ) {
            storage.fail("writing the metadata document", &e);
        }
        // With nothing due, an hour is as good as forever: any change notifies.
        let wait = match wait {
            Some(ms) if !shared.clock.is_manual() => ms as u64,
            _ => 3_600_000,
        };
        let wait = if durable.is_some() {
            wait.min(1000)
        } else {
            wait
        };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(wait)) => {}
            _ = woken => {}
            _ = net::stopped(&mut shutdown) => return,
        }
    }
}
