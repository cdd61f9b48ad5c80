//! Clusters share one process-wide runtime (`crate::runtime`). This file is its own test
//! binary, so its one test is the first to start a cluster in its process: clusters
//! starting at once from async contexts, the first time the runtime is needed, must all
//! start (the runtime is built once; a spare one dropped inside an async context panics),
//! and each must still serve and drop cleanly from there.

use std::sync::{Arc, Barrier};

use broker_sim::Cluster;

#[test]
fn clusters_started_at_once_from_async_contexts_all_serve() {
    const THREADS: usize = 8;
    let barrier = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("test runtime");
                runtime.block_on(async move {
                    barrier.wait();
                    let cluster = Cluster::builder()
                        .brokers(1)
                        .topic("orders", 1)
                        .start()
                        .expect("cluster starts");
                    let value = format!("order-{i}");
                    cluster
                        .produce("orders", None, value.as_bytes())
                        .expect("record is appended");
                    let records = cluster.records("orders");
                    assert_eq!(records.len(), 1);
                    assert_eq!(records[0].value_str(), Some(value.as_str()));
                    drop(cluster);
                });
            })
        })
        .collect();
    for thread in threads {
        thread
            .join()
            .expect("every cluster started, served and stopped");
    }
}
