//! `bench targets`: issue 21's table in one run — what broker-sim costs beside its peers
//! and whether it stays flat and cheap — each figure next to its target and whether the
//! target is met.
//!
//! - **CPU per record**: the peers run (`peers.rs`: broker-sim in memory and with
//!   `--data-dir`, kfake, Apache Kafka 4.1, librdkafka's mock, each in its own process),
//!   the broker's CPU time for producing and consuming the same records, as ratios;
//! - **time to the first record consumed** and **durable / in-memory produce rate**, from
//!   the same run;
//! - **aggregate produce**: four producer processes (this binary's `drive` mode) at once
//!   against broker-sim's binary and the mock's process, and meanwhile the acks=all round
//!   trips of a lone client in this process, one record at a time;
//! - **a cluster per test**: start, one record produced and read back, drop, in this
//!   process, fresh and from a snapshot (`fork.rs`);
//! - **flat at scale**: one-topic Metadata at 100 and 100,000 partitions and the acks=all
//!   p99 beside 10,000 idle connections and 1,000 groups (`scale.rs`, whose own run draws
//!   the whole curves);
//! - **build cost**: `client-tests/build-cost.sh lean embed`, the cold debug build of a crate
//!   that embeds broker-sim without default features, with no C compiler: with the dev
//!   profile the README suggests for such a crate (the target's row), and without it.
//!
//! ```text
//! cargo run --release -p client-tests --bin bench -- targets           # ~10 minutes
//! cargo run --release -p client-tests --bin bench -- targets --quick   # proves it works
//! ```

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use super::peers::{self, Peer, PeerArgs};
use super::{fork, scale};

#[derive(clap::Args, Debug)]
pub struct TargetArgs {
    /// Records produced and consumed per peers run, and by each aggregate producer.
    #[arg(long, default_value_t = 200_000)]
    records: usize,
    /// Runs per peer and per aggregate figure; the median is reported.
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// A short run that only proves the benchmark works (no Kafka, no build): its figures
    /// mean nothing.
    #[arg(long)]
    quick: bool,
    /// Also write the result table (Markdown) to this file.
    #[arg(long)]
    markdown: Option<std::path::PathBuf>,
}

/// Producer processes in the aggregate figure.
const PRODUCERS: usize = 4;

/// One row: figure, measured, target, met.
struct Row([String; 4]);

pub fn main(args: &TargetArgs) {
    if let Err(e) = run(args) {
        eprintln!("bench targets failed: {e}");
        std::process::exit(1);
    }
}

fn run(args: &TargetArgs) -> Result<(), String> {
    let (records, repeat) = match args.quick {
        true => (10_000, 1),
        false => (args.records, args.repeat.max(1)),
    };
    let met = |ok: bool| match (args.quick, ok) {
        (true, _) => "(quick run)".to_string(),
        (false, true) => "yes".into(),
        (false, false) => "**no**".into(),
    };
    let mut rows = Vec::new();

    // 1. The peers, each in its own process.
    let only = match args.quick {
        true => vec![Peer::Sim, Peer::SimDurable, Peer::Kfake, Peer::Mock],
        false => Vec::new(),
    };
    let (samples, _) = peers::measure(&PeerArgs {
        records,
        repeat,
        latency_samples: if args.quick { 100 } else { 2_000 },
        latency_budget: std::time::Duration::from_secs(if args.quick { 1 } else { 5 }),
        markdown: None,
        only,
    })?;
    let cpu = |peer| samples.median("produce cpu", peer) + samples.median("consume cpu", peer);
    let sim_cpu = cpu(Peer::Sim);
    for (peer, target) in [(Peer::Mock, 0.5), (Peer::Kafka, 0.1), (Peer::Kfake, 0.5)] {
        let ratio = sim_cpu / cpu(peer);
        rows.push(Row([
            format!(
                "broker CPU per record, produce + consume, broker-sim / {}",
                peer.name()
            ),
            match ratio.is_nan() {
                true => "not measured (--quick)".into(),
                false => format!(
                    "{ratio:.2} ({:.3} / {:.3} µs: produce {:.3} / {:.3}, consume {:.3} / {:.3})",
                    sim_cpu,
                    cpu(peer),
                    samples.median("produce cpu", Peer::Sim),
                    samples.median("produce cpu", peer),
                    samples.median("consume cpu", Peer::Sim),
                    samples.median("consume cpu", peer),
                ),
            },
            format!("≤ {target}"),
            met(ratio <= target),
        ]));
    }

    // 2. Aggregate produce with several producer processes.
    let (kfake, sim) = peers::prepare()?;
    let mut rates = [Vec::new(), Vec::new()];
    let mut cpus = [Vec::new(), Vec::new()];
    // Each run's acks=all p50 and p99 of the lone client, ms.
    let mut p50s = [Vec::new(), Vec::new()];
    let mut p99s = [Vec::new(), Vec::new()];
    for rep in 0..repeat {
        let order = match rep % 2 {
            0 => [(0, Peer::Sim), (1, Peer::Mock)],
            _ => [(1, Peer::Mock), (0, Peer::Sim)],
        };
        for (slot, peer) in order {
            let run = aggregate(peer, &kfake, &sim, records)?;
            let [p50, p99] = [0.5, 0.99].map(|q| super::ms(super::percentile(&run.latencies, q)));
            eprintln!(
                "[targets {rep}] {}: {PRODUCERS} producers, {} in all, broker CPU {:.3} µs a record; a lone client's acks=all p50 {p50:.2} / p99 {p99:.2} ms over {} round trips",
                peer.name(),
                super::msgs(run.rate),
                run.cpu,
                run.latencies.len()
            );
            rates[slot].push(run.rate);
            cpus[slot].push(run.cpu);
            p50s[slot].push(p50);
            p99s[slot].push(p99);
        }
    }
    let [sim_rate, mock_rate] = [&rates[0], &rates[1]].map(|r| super::median(r));
    let ratio = sim_rate / mock_rate;
    rows.push(Row([
        format!(
            "aggregate produce rate, {PRODUCERS} producer processes (and the lone client below), broker-sim / mock"
        ),
        format!(
            "{ratio:.2} ({} / {}; broker CPU {:.3} / {:.3} µs a record)",
            super::msgs(sim_rate),
            super::msgs(mock_rate),
            super::median(&cpus[0]),
            super::median(&cpus[1])
        ),
        "≥ 1.3".into(),
        met(ratio >= 1.3),
    ]));
    let [sim_p50, mock_p50, sim_p99, mock_p99] =
        [&p50s[0], &p50s[1], &p99s[0], &p99s[1]].map(|v| super::median(v));
    rows.push(Row([
        format!(
            "a lone client's acks=all produce latency (one record at a time) while the {PRODUCERS} producers run, p50 / p99, broker-sim / mock"
        ),
        format!("{sim_p50:.2} / {sim_p99:.2} ms; mock {mock_p50:.2} / {mock_p99:.2} ms"),
        "(information)".into(),
        String::new(),
    ]));

    // 3. Time to the first record consumed, and durable mode, from the peers run.
    let (first_sim, first_mock) = (
        samples.median("first", Peer::Sim),
        samples.median("first", Peer::Mock),
    );
    rows.push(Row([
        "time to the first record consumed (consumer start to first record), broker-sim / mock"
            .into(),
        format!("{first_sim:.1} / {first_mock:.1} ms"),
        "≤ the mock's".into(),
        met(first_sim <= first_mock),
    ]));

    // 4. A cluster per test.
    let (fresh, forked) = fork::per_test(if args.quick { 20 } else { 500 })?;
    rows.push(Row([
        "a cluster per test (3 brokers: start, 1 record produced and read, drop), fresh / from a snapshot".into(),
        format!("{fresh:.0} / {forked:.0} µs"),
        "≤ 100 µs".into(),
        met(fresh <= 100.0 && forked <= 100.0),
    ]));

    // 5. Flat at scale.
    let flat = scale::headline(args.quick)?;
    let [(small, at_small), (large, at_large)] = flat.metadata;
    let ratio = at_large / at_small;
    rows.push(Row([
        format!(
            "one-topic Metadata p50 at {} / at {} partitions",
            scale::count(large),
            scale::count(small)
        ),
        format!("{ratio:.2} ({at_large:.0} / {at_small:.0} µs)"),
        "≤ 2".into(),
        met(ratio <= 2.0),
    ]));
    let ratio = flat.p99[1] / flat.p99[0];
    rows.push(Row([
        format!(
            "acks=all produce p99 with {} idle connections and {} groups / without",
            scale::count(flat.load.0),
            scale::count(flat.load.1)
        ),
        format!("{ratio:.2} ({:.3} / {:.3} ms)", flat.p99[1], flat.p99[0]),
        "≤ 1.5".into(),
        met(ratio <= 1.5),
    ]));

    // 6. Build cost.
    rows.push(match args.quick {
        true => Row([
            "cold debug build of a crate embedding broker-sim (2 cores), no C compiler".into(),
            "not measured (--quick)".into(),
            "≤ 40 s".into(),
            met(true),
        ]),
        false => {
            let [(lean, lean_cpu), (plain, plain_cpu)] = build_cost()?;
            Row([
                "cold debug build of a crate embedding broker-sim (`default-features = false`, -j2, the README's dev profile), no C compiler".into(),
                format!(
                    "{lean:.1} s ({lean_cpu:.0} CPU s); without the profile {plain:.1} s ({plain_cpu:.0} CPU s); built with CC=/bin/false"
                ),
                "≤ 40 s".into(),
                met(lean <= 40.0),
            ])
        }
    });

    // 7. Durable mode.
    let (durable, memory) = (
        samples.median("produce", Peer::SimDurable),
        samples.median("produce", Peer::Sim),
    );
    let ratio = durable / memory;
    rows.push(Row([
        "produce rate, `--data-dir` (fsync off) / in memory".into(),
        format!(
            "{ratio:.2} ({} / {}; broker CPU {:.3} / {:.3} µs a record)",
            super::msgs(durable),
            super::msgs(memory),
            samples.median("produce cpu", Peer::SimDurable),
            samples.median("produce cpu", Peer::Sim)
        ),
        "≥ 0.8".into(),
        met(ratio >= 0.8),
    ]));

    let mut out = format!("Machine: {}\n\n", super::machine());
    out.push_str(&format!(
        "{records} records of {} B per run, medians of {repeat} runs, every broker in its own \
         process but the in-process rows (a cluster per test, scale); the peers' own table: \
         `bench peers`, the scale curves: `bench scale`.\n\n",
        super::workload::payload_bytes(1)
    ));
    out.push_str("| figure | measured | target | met |\n|---|---|---|---|\n");
    for Row(cells) in rows {
        out.push_str(&format!("| {} |\n", cells.join(" | ")));
    }
    super::emit(&out, args.markdown.as_deref())
}

/// What one aggregate run measured.
struct Aggregate {
    /// Records a second the producers took in all.
    rate: f64,
    /// The broker's CPU µs a record.
    cpu: f64,
    /// acks=all round trips of a lone client meanwhile, sorted.
    latencies: Vec<std::time::Duration>,
}

/// [`PRODUCERS`] processes each producing `records` at once against `peer`: the records
/// a second they took in all (from their spawn to the last one's exit), the broker's
/// CPU µs a record, and the acks=all round trips a lone client in this process timed
/// meanwhile, one record at a time.
fn aggregate(peer: Peer, kfake: &Path, sim: &Path, records: usize) -> Result<Aggregate, String> {
    let running = peers::start(peer, kfake, sim)?;
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probe = {
        let (bootstrap, stop) = (running.bootstrap.clone(), stop.clone());
        std::thread::spawn(move || {
            super::workload::ack_latency(&bootstrap, super::LATENCY_TOPIC, &stop)
        })
    };
    let cpu0 = peers::cpu_ns(&running.pids);
    let began = Instant::now();
    let children = (0..PRODUCERS)
        .map(|_| {
            Command::new(&exe)
                .args(["drive", "--phase", "produce", "--bootstrap"])
                .arg(&running.bootstrap)
                .arg("--records")
                .arg(records.to_string())
                .stdout(Stdio::null())
                .spawn()
                .map_err(|e| format!("producer process: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    for mut child in children {
        let status = child.wait().map_err(|e| e.to_string())?;
        if !status.success() {
            return Err(format!("a producer process against {} failed", peer.name()));
        }
    }
    let took = began.elapsed().as_secs_f64();
    let all = (PRODUCERS * records) as f64;
    let cpu = (peers::cpu_ns(&running.pids) - cpu0) as f64 / all / 1e3;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut latencies = probe
        .join()
        .map_err(|_| "the latency probe panicked".to_string())??;
    latencies.sort();
    Ok(Aggregate {
        rate: all / took,
        cpu,
        latencies,
    })
}

/// `client-tests/build-cost.sh lean embed`: wall and CPU seconds of each, the lean
/// profile's first.
fn build_cost() -> Result<[(f64, f64); 2], String> {
    let script = peers::root().join("client-tests/build-cost.sh");
    let out = Command::new(script)
        .args(["lean", "embed"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("build-cost.sh: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    eprint!("{text}");
    if !out.status.success() {
        return Err("build-cost.sh lean embed failed".into());
    }
    // "embed      35.2 s wall,   61.0 s CPU (...)"
    let figures = |label: &str| {
        let line = text
            .lines()
            .find(|l| l.split_whitespace().next() == Some(label))
            .ok_or(format!("build-cost.sh printed no {label} figure"))?;
        let numbers: Vec<f64> = line
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        match numbers[..] {
            [wall, cpu, ..] => Ok((wall, cpu)),
            _ => Err(format!("build-cost.sh printed {line:?}")),
        }
    };
    Ok([figures("lean")?, figures("embed")?])
}
