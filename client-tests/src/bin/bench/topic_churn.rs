//! How long creating and deleting one large topic takes in durable mode, for `bench
//! scale`. Both run under the state lock from start to end, so every other client's
//! request on the cluster waits that long: the figure is how long one admin request can
//! stall the rest. Deletion hands the partitions' directories to the flusher's thread
//! (`state/src/storage/flush.rs`); creation still makes each directory and segment file
//! under the lock.

use std::time::{Duration, Instant};

use broker_sim::Cluster;

/// (partitions, create, delete) for each count, on a fresh 3-broker cluster whose data
/// directory is under the system's temporary directory.
pub fn curve(counts: &[i32]) -> Result<Vec<(i32, Duration, Duration)>, String> {
    let mut points = Vec::new();
    for &n in counts {
        let dir =
            std::env::temp_dir().join(format!("broker-sim-bench-churn-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let cluster = Cluster::builder()
            .brokers(3)
            .data_dir(&dir)
            .start()
            .map_err(|e| e.to_string())?;
        let started = Instant::now();
        cluster
            .create_topic("churn", n)
            .map_err(|e| e.to_string())?;
        let created = started.elapsed();
        let started = Instant::now();
        cluster.delete_topic("churn").map_err(|e| e.to_string())?;
        let deleted = started.elapsed();
        drop(cluster);
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!(
            "durable topic of {n} partitions: create {:.1} ms, delete {:.1} ms",
            created.as_secs_f64() * 1e3,
            deleted.as_secs_f64() * 1e3
        );
        points.push((n, created, deleted));
    }
    Ok(points)
}
