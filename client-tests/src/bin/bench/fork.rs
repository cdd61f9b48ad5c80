//! The fork figure (issue 19): how long a cluster takes to start from a snapshot of a
//! seeded cluster, beside a fresh start of the same shape, both in this process — the
//! promise being that a suite prepares its data once and every test forks a copy of it
//! for about the price of a fresh cluster.

use std::time::Instant;

use broker_sim::{Cluster, NewRecord};
use bytes::Bytes;

use crate::{median, ms};

/// Records per seeded batch.
const BATCH: usize = 1_000;
const PARTITIONS: i32 = 6;

pub struct Fork {
    pub records: usize,
    /// Snapshot document size, JSON bytes.
    pub bytes: usize,
    pub fresh_ms: f64,
    pub snapshot_ms: f64,
    pub fork_ms: f64,
    /// Reading the JSON document back (`Snapshot::from_json`, which checks every batch's
    /// CRC) and forking: what `--snapshot FILE` and Python's `Cluster(snapshot=)` pay.
    pub load_fork_ms: f64,
    /// What a test pays for a cluster of its own: start (3 brokers, one topic), one record
    /// produced through the embedding API and read back, drop — fresh, and forked from a
    /// snapshot of the empty cluster. Microseconds.
    pub per_test_fresh_us: f64,
    pub per_test_fork_us: f64,
}

/// Seeds `records` 100-byte values over six partitions, snapshots them once, then times
/// `runs` fresh starts and `runs` forks (medians); every fork is checked to hold them all.
pub fn measure(records: usize, runs: usize) -> Result<Fork, String> {
    let start = || {
        Cluster::builder()
            .brokers(3)
            .topic("orders", PARTITIONS)
            .start()
            .map_err(|e| e.to_string())
    };
    let seeded = start()?;
    let value = Bytes::from(vec![b'x'; crate::workload::VALUE_LEN]);
    for (i, chunk) in (0..records).collect::<Vec<_>>().chunks(BATCH).enumerate() {
        let batch: Vec<NewRecord> = chunk
            .iter()
            .map(|n| NewRecord {
                timestamp: 0,
                key: Some(Bytes::from(format!("key-{n}"))),
                value: Some(value.clone()),
                headers: Vec::new(),
            })
            .collect();
        seeded
            .produce_records("orders", i as i32 % PARTITIONS, &batch)
            .map_err(|e| e.to_string())?;
    }
    let taken = Instant::now();
    let snapshot = seeded.snapshot();
    let snapshot_ms = ms(taken.elapsed());
    drop(seeded);
    let json = snapshot.to_json();
    let (mut fresh, mut forks, mut loads) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        drop(start()?);
        fresh.push(ms(started.elapsed()));
        let copy = snapshot.clone();
        let started = Instant::now();
        let fork = Cluster::from_snapshot(copy).map_err(|e| e.to_string())?;
        forks.push(ms(started.elapsed()));
        check(&fork, records)?;
        drop(fork);
        let started = Instant::now();
        let loaded = broker_sim::Snapshot::from_json(&json).map_err(|e| e.to_string())?;
        let fork = Cluster::from_snapshot(loaded).map_err(|e| e.to_string())?;
        loads.push(ms(started.elapsed()));
        check(&fork, records)?;
    }
    let (per_test_fresh_us, per_test_fork_us) = per_test(runs.max(50))?;
    Ok(Fork {
        per_test_fresh_us,
        per_test_fork_us,
        records,
        bytes: json.len(),
        fresh_ms: median(&fresh),
        snapshot_ms,
        fork_ms: median(&forks),
        load_fork_ms: median(&loads),
    })
}

/// The fork holds every seeded record.
fn check(fork: &Cluster, records: usize) -> Result<(), String> {
    let held: i64 = (0..PARTITIONS)
        .filter_map(|p| fork.partition("orders", p))
        .map(|p| p.high_watermark)
        .sum();
    if held != records as i64 {
        return Err(format!("a fork holds {held} records of {records}"));
    }
    Ok(())
}

/// Medians of `runs` per-test cycles (start, produce one record, read it back, drop),
/// fresh and from a snapshot, in µs.
pub fn per_test(runs: usize) -> Result<(f64, f64), String> {
    let builder = || Cluster::builder().brokers(3).topic("orders", 1);
    let cycle = |cluster: Cluster| -> Result<(), String> {
        cluster
            .produce("orders", Some(b"key"), b"value")
            .map_err(|e| e.to_string())?;
        if cluster.records("orders").len() != 1 {
            return Err("the record produced is not read back".into());
        }
        drop(cluster);
        Ok(())
    };
    let empty = builder().start().map_err(|e| e.to_string())?.snapshot();
    let (mut fresh, mut forked) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let started = Instant::now();
        cycle(builder().start().map_err(|e| e.to_string())?)?;
        fresh.push(ms(started.elapsed()) * 1e3);
        let copy = empty.clone();
        let started = Instant::now();
        cycle(Cluster::from_snapshot(copy).map_err(|e| e.to_string())?)?;
        forked.push(ms(started.elapsed()) * 1e3);
    }
    Ok((median(&fresh), median(&forked)))
}
