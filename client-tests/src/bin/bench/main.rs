//! `bench`: broker-sim against librdkafka's mock cluster and a null broker, with the same
//! rdkafka workload, in one run.
//!
//! ```text
//! cargo run --release -p client-tests --bin bench            # full run, ~2 minutes
//! cargo run --release -p client-tests --bin bench -- --quick # proves it works, seconds
//! ```
//!
//! Each figure is measured `--repeat` times with the clusters taking turns, and the median
//! is reported: this machine is shared and noisy, and the ratio of two figures taken side by
//! side is what counts. The table printed at the end (also written to `--markdown FILE`)
//! lists every figure, its target and whether the target is met. The RSS figure comes from
//! a child process (this binary's `serve-rss` mode) that holds nothing but the cluster, so
//! the client's own memory is not counted.
//!
//! `bench peers` puts broker-sim beside Apache Kafka 4.1, kfake and the mock, each in its
//! own process, and reads the brokers' CPU time and memory per record (`peers.rs`).
//!
//! `bench targets` prints issue 21's targets (CPU per record beside the peers, aggregate
//! produce, a cluster per test, scale, build cost, durable mode) in one run.
//!
//! `main.rs` runs the phases and the report, `workload.rs` is the client side,
//! `null_broker.rs` the null broker, `peers.rs` the peers run, `isolation.rs` how much a
//! hostile client delays another, `scale.rs` the growth curves, `targets.rs` the targets.

mod commit_load;
mod fork;
mod isolation;
mod null_broker;
mod peers;
mod raw;
mod scale;
mod targets;
mod topic_churn;
mod workload;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use broker_sim::Cluster;
use clap::Parser;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

use null_broker::NullBroker;

const TOPIC: &str = "bench";
const PARTITIONS: i32 = 6;
const LATENCY_TOPIC: &str = "latency";
const BROKERS: usize = 3;

#[derive(Parser, Debug)]
#[command(about = "Benchmark broker-sim against librdkafka's mock cluster and a null broker")]
struct Args {
    /// Records produced in the produce phase (and held for the RSS figure).
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// Records in the consume comparison: a set the mock cluster retains whole (it keeps at
    /// most 100,000 records or 5 MB per partition).
    #[arg(long, default_value_t = 200_000)]
    consume_records: usize,
    /// How often each throughput and latency figure is measured; the median is reported.
    #[arg(long, default_value_t = 5)]
    repeat: usize,
    /// Records per latency run.
    #[arg(long, default_value_t = 5_000)]
    latency_samples: usize,
    /// Seconds one latency run may take at most: the mock answers a waiting fetch only
    /// when its wait expires, so it manages two records a second.
    #[arg(long, default_value_t = 5)]
    latency_budget: u64,
    /// Cluster starts timed per cluster kind.
    #[arg(long, default_value_t = 21)]
    starts: usize,
    /// A short run that only proves the benchmark works; its figures mean nothing.
    #[arg(long)]
    quick: bool,
    /// Measure only these clusters (for profiling one of them); repeatable.
    #[arg(long, value_enum)]
    only: Vec<Kind>,
    /// Only the produce phase (for profiling it).
    #[arg(long)]
    produce_only: bool,
    /// Also write the result table (Markdown) to this file.
    #[arg(long)]
    markdown: Option<std::path::PathBuf>,
    #[command(subcommand)]
    mode: Option<Mode>,
}

#[derive(clap::Subcommand, Debug)]
enum Mode {
    /// Internal: hold a broker-sim cluster, print its bootstrap servers, and answer each
    /// `rss` line on stdin with this process's resident and peak resident bytes.
    ServeRss,
    /// broker-sim beside Apache Kafka 4.1, kfake and librdkafka's mock, each in its own
    /// process: start, rates, latency, and the broker's CPU time and memory per record.
    /// Needs Java, Maven and Go (see `peers.rs`).
    Peers {
        /// Records produced and consumed per run.
        #[arg(long, default_value_t = 200_000)]
        records: usize,
        /// Runs per peer; the median is reported.
        #[arg(long, default_value_t = 3)]
        repeat: usize,
        /// Only these peers (for profiling one of them); repeatable.
        #[arg(long, value_enum)]
        peer: Vec<peers::Peer>,
    },
    /// Internal: hold librdkafka's mock cluster in this process (for `peers`).
    ServeMock,
    /// Runs one phase of the workload against a running cluster (for profiling a broker
    /// from outside: `perf stat -p PID` around it).
    Drive {
        #[arg(long)]
        bootstrap: String,
        #[arg(long, value_parser = ["produce", "consume"])]
        phase: String,
        #[arg(long, default_value_t = 200_000)]
        records: usize,
    },
    /// Whether broker-sim stays flat as partitions, connections and groups grow (`scale.rs`).
    Scale(scale::ScaleArgs),
    /// Issue 21's targets in one run: CPU per record beside the peers, aggregate produce,
    /// first record, a cluster per test, scale, build cost, durable mode (`targets.rs`).
    Targets(targets::TargetArgs),
}

fn main() {
    let mut args = Args::parse();
    match args.mode {
        Some(Mode::ServeRss) => return serve_rss(),
        Some(Mode::ServeMock) => return peers::serve_mock(),
        Some(Mode::Scale(ref scale)) => return scale::main(scale),
        Some(Mode::Targets(ref targets)) => return targets::main(targets),
        Some(Mode::Drive {
            ref bootstrap,
            ref phase,
            records,
        }) => {
            let took = match phase.as_str() {
                "produce" => workload::produce(bootstrap, TOPIC, records),
                _ => workload::consume(
                    bootstrap,
                    TOPIC,
                    PARTITIONS,
                    records,
                    workload::KEEP_FETCHING,
                )
                .map(|got| {
                    println!("first record after {:?}", got.first);
                    got.elapsed
                }),
            };
            match took {
                Ok(took) => println!("{phase} {records} records in {took:?}"),
                Err(e) => {
                    eprintln!("bench drive failed: {e}");
                    std::process::exit(1);
                }
            }
            return;
        }
        Some(Mode::Peers {
            records,
            repeat,
            peer,
        }) => {
            let peer_args = peers::PeerArgs {
                records,
                repeat,
                latency_samples: args.latency_samples,
                latency_budget: Duration::from_secs(args.latency_budget),
                markdown: args.markdown.clone(),
                only: peer,
            };
            if let Err(e) = peers::run(&peer_args) {
                eprintln!("bench peers failed: {e}");
                std::process::exit(1);
            }
            return;
        }
        None => {}
    }
    if args.quick {
        args.records = 20_000;
        args.consume_records = 10_000;
        args.repeat = 1;
        args.latency_samples = 100;
        args.latency_budget = 1;
        args.starts = 3;
    }
    if let Err(e) = run(&args) {
        eprintln!("bench failed: {e}");
        std::process::exit(1);
    }
}

/// One kind of cluster under test, started fresh for every measurement.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, clap::ValueEnum)]
enum Kind {
    Sim,
    Mock,
    Null,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Sim => "broker-sim",
            Kind::Mock => "librdkafka mock",
            Kind::Null => "null broker",
        }
    }
}

/// A started cluster of some kind; dropping it stops it.
enum Running {
    Sim(Cluster),
    Mock(MockCluster<'static, DefaultProducerContext>),
    Null(NullBroker),
}

impl Running {
    fn start(kind: Kind) -> Result<Running, String> {
        Ok(match kind {
            Kind::Sim => Running::Sim(sim_cluster()?),
            Kind::Mock => {
                let mock = MockCluster::new(BROKERS as i32).map_err(|e| e.to_string())?;
                mock.create_topic(TOPIC, PARTITIONS, BROKERS as i32)
                    .map_err(|e| e.to_string())?;
                mock.create_topic(LATENCY_TOPIC, 1, BROKERS as i32)
                    .map_err(|e| e.to_string())?;
                Running::Mock(mock)
            }
            Kind::Null => Running::Null(
                NullBroker::start(BROKERS, TOPIC, PARTITIONS).map_err(|e| e.to_string())?,
            ),
        })
    }

    fn bootstrap(&self) -> String {
        match self {
            Running::Sim(c) => c.bootstrap_servers(),
            Running::Mock(m) => m.bootstrap_servers(),
            Running::Null(n) => n.bootstrap_servers(),
        }
    }
}

fn sim_cluster() -> Result<Cluster, String> {
    Cluster::builder()
        .brokers(BROKERS)
        .topic(TOPIC, PARTITIONS)
        .topic(LATENCY_TOPIC, 1)
        .start()
        .map_err(|e| e.to_string())
}

/// Every measurement taken, by figure and cluster kind; the report shows their medians.
#[derive(Default)]
struct Figures {
    samples: BTreeMap<(&'static str, Kind), Vec<f64>>,
    latency_records: BTreeMap<Kind, usize>,
    rss: Option<Rss>,
    isolation: Vec<isolation::Isolation>,
    fork: Option<fork::Fork>,
}

impl Figures {
    fn add(&mut self, figure: &'static str, kind: Kind, value: f64) {
        self.samples.entry((figure, kind)).or_default().push(value);
    }

    fn median(&self, figure: &'static str, kind: Kind) -> f64 {
        self.samples
            .get(&(figure, kind))
            .map_or(f64::NAN, |v| median(v))
    }
}

struct Rss {
    baseline: u64,
    holding: u64,
    peak: u64,
}

fn run(args: &Args) -> Result<(), String> {
    let mut f = Figures::default();
    let kinds: Vec<Kind> = [Kind::Sim, Kind::Mock, Kind::Null]
        .into_iter()
        .filter(|k| args.only.is_empty() || args.only.contains(k))
        .collect();
    for rep in 0..args.repeat {
        // Take turns, so a noisy neighbour does not always hit the same cluster.
        let order: Vec<Kind> = if rep % 2 == 0 {
            kinds.to_vec()
        } else {
            kinds.iter().rev().copied().collect()
        };
        for &kind in &order {
            let running = Running::start(kind)?;
            let bootstrap = running.bootstrap();
            let took = workload::produce(&bootstrap, TOPIC, args.records)
                .map_err(|e| format!("{} produce: {e}", kind.name()))?;
            let rate = args.records as f64 / took.as_secs_f64();
            progress(rep, kind, "produce", msgs(rate));
            f.add("produce", kind, rate);
            if kind == Kind::Sim && !args.produce_only {
                // broker-sim keeps everything: read the whole produce run back too.
                consume(&mut f, rep, kind, &bootstrap, args.records, &CONSUME_ALL)?;
            }
        }
        pair_ratio(&mut f, "produce", Kind::Null, "produce / null");
        pair_ratio(&mut f, "produce", Kind::Mock, "produce / mock");
        if args.produce_only {
            continue;
        }
        for &kind in order.iter().filter(|&&k| k != Kind::Null) {
            let running = Running::start(kind)?;
            let bootstrap = running.bootstrap();
            workload::produce(&bootstrap, TOPIC, args.consume_records)
                .map_err(|e| format!("{} produce: {e}", kind.name()))?;
            consume(
                &mut f,
                rep,
                kind,
                &bootstrap,
                args.consume_records,
                &CONSUME,
            )?;

            let mut lat = workload::latency(
                &bootstrap,
                LATENCY_TOPIC,
                args.latency_samples,
                Duration::from_secs(args.latency_budget),
            )
            .map_err(|e| format!("{} latency: {e}", kind.name()))?;
            lat.sort();
            let [p50, p99, p999] = [0.5, 0.99, 0.999].map(|q| ms(percentile(&lat, q)));
            progress(
                rep,
                kind,
                "latency",
                format!(
                    "{} records: p50 {p50:.3} ms, p99 {p99:.3} ms, p999 {p999:.3} ms",
                    lat.len()
                ),
            );
            f.add("p50", kind, p50);
            f.add("p99", kind, p99);
            f.add("p999", kind, p999);
            *f.latency_records.entry(kind).or_default() += lat.len();
        }
    }
    if args.produce_only {
        return Ok(());
    }
    for _ in 0..args.repeat {
        pair_ratio(&mut f, "consume", Kind::Mock, "consume / mock");
        pair_ratio(&mut f, "consume keep", Kind::Mock, "consume keep / mock");
    }
    for _ in 0..args.starts {
        for kind in [Kind::Sim, Kind::Mock] {
            let started = Instant::now();
            let running = Running::start(kind)?;
            f.add("start", kind, ms(started.elapsed()));
            drop(running);
        }
    }
    f.rss = Some(measure_rss(args.records)?);
    f.fork = Some(fork::measure(args.records / 10, args.starts)?);
    measure_quota(args, &mut f)?;
    f.isolation = isolation::measure(if args.quick { 50 } else { 500 })?;
    let table = report(args, &f);
    println!("{table}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &table).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// The `producer_byte_rate` quota the quota figure sets, bytes per second.
const QUOTA_BYTES_PER_S: f64 = 2_000_000.0;

/// A producer under a `producer_byte_rate` quota, once, for three of the quota's 11-second
/// windows: what it achieves, as a ratio to the quota. (A sampled rate lets a client send
/// a window's worth at once, then throttles it until that sample expires; over whole
/// windows the rate is the quota's.)
fn measure_quota(args: &Args, f: &mut Figures) -> Result<(), String> {
    let (duration, from) = if args.quick {
        (Duration::from_secs(2), Duration::ZERO)
    } else {
        (Duration::from_secs(33), Duration::ZERO)
    };
    let cluster = sim_cluster()?;
    cluster
        .set_client_quota(
            &[("client-id", Some("bench-quota"))],
            "producer_byte_rate",
            Some(QUOTA_BYTES_PER_S),
        )
        .map_err(|e| e.to_string())?;
    // One partition, so one broker measures and enforces the quota (each broker does on
    // its own, as Kafka's).
    let achieved = workload::produce_under_quota(
        &cluster.bootstrap_servers(),
        LATENCY_TOPIC,
        "bench-quota",
        duration,
        from,
    )?;
    eprintln!(
        "quota: {:.2} MB/s under a {:.2} MB/s producer_byte_rate",
        achieved / 1e6,
        QUOTA_BYTES_PER_S / 1e6
    );
    f.add("quota", Kind::Sim, achieved / QUOTA_BYTES_PER_S);
    Ok(())
}

/// One way of consuming, and the names its figures are kept under.
struct ConsumeVariant {
    settings: &'static [(&'static str, &'static str)],
    rate: &'static str,
    gap: &'static str,
    first: &'static str,
}

const CONSUME: [ConsumeVariant; 2] = [
    ConsumeVariant {
        settings: &[],
        rate: "consume",
        gap: "consume gap",
        first: "consume first",
    },
    ConsumeVariant {
        settings: workload::KEEP_FETCHING,
        rate: "consume keep",
        gap: "consume keep gap",
        first: "consume keep first",
    },
];

const CONSUME_ALL: [ConsumeVariant; 2] = [
    ConsumeVariant {
        settings: &[],
        rate: "consume all",
        gap: "consume all gap",
        first: "consume all first",
    },
    ConsumeVariant {
        settings: workload::KEEP_FETCHING,
        rate: "consume all keep",
        gap: "consume all keep gap",
        first: "consume all keep first",
    },
];

/// Records broker-sim's figure over `other`'s for the latest run of both as `name`: the
/// two were measured minutes apart at most, so their ratio is steadier than the ratio of
/// two medians on a shared machine.
fn pair_ratio(f: &mut Figures, figure: &'static str, other: Kind, name: &'static str) {
    let n = f.samples.get(&(name, Kind::Sim)).map_or(0, Vec::len);
    let nth = |kind| {
        f.samples
            .get(&(figure, kind))
            .and_then(|v| v.get(n))
            .copied()
    };
    if let (Some(sim), Some(other)) = (nth(Kind::Sim), nth(other)) {
        f.add(name, Kind::Sim, sim / other);
    }
}

/// Reads `records` back once per variant, recording rate, longest gap and time to the
/// first record under the variant's names.
fn consume(
    f: &mut Figures,
    rep: usize,
    kind: Kind,
    bootstrap: &str,
    records: usize,
    variants: &[ConsumeVariant],
) -> Result<(), String> {
    for v in variants {
        let (rate_name, gap_name, first_name) = (v.rate, v.gap, v.first);
        let got = workload::consume(bootstrap, TOPIC, PARTITIONS, records, v.settings)
            .map_err(|e| format!("{} {rate_name}: {e}", kind.name()))?;
        let rate = records as f64 / got.elapsed.as_secs_f64();
        progress(
            rep,
            kind,
            rate_name,
            format!(
                "{}, first record after {:.1} ms, longest gap {:.1} ms",
                msgs(rate),
                ms(got.first),
                ms(got.max_gap)
            ),
        );
        f.add(rate_name, kind, rate);
        f.add(gap_name, kind, ms(got.max_gap));
        f.add(first_name, kind, ms(got.first));
    }
    Ok(())
}

fn progress(rep: usize, kind: Kind, what: &str, figure: String) {
    eprintln!("run {} {:<16} {what:<17} {figure}", rep + 1, kind.name());
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn msgs(rate: f64) -> String {
    format!("{:.2} M msg/s", rate / 1e6)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Starts a cluster in a child process, fills it with `records` records and reads the
/// child's resident memory.
fn measure_rss(records: usize) -> Result<Rss, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut child = Command::new(exe)
        .arg("serve-rss")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("serve-rss: {e}"))?;
    let mut stdin = child.stdin.take().expect("piped");
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut bootstrap = String::new();
    stdout
        .read_line(&mut bootstrap)
        .map_err(|e| format!("serve-rss: {e}"))?;
    let (baseline, _) = ask_rss(&mut stdin, &mut stdout)?;
    workload::produce(bootstrap.trim(), TOPIC, records).map_err(|e| format!("rss produce: {e}"))?;
    let (holding, peak) = ask_rss(&mut stdin, &mut stdout)?;
    // Closing its stdin ends the child.
    drop(stdin);
    let _ = child.wait();
    Ok(Rss {
        baseline,
        holding,
        peak,
    })
}

/// The child's resident and peak resident bytes.
fn ask_rss(stdin: &mut impl Write, stdout: &mut impl BufRead) -> Result<(u64, u64), String> {
    let mut line = String::new();
    stdin.write_all(b"rss\n").map_err(|e| e.to_string())?;
    stdin.flush().map_err(|e| e.to_string())?;
    stdout.read_line(&mut line).map_err(|e| e.to_string())?;
    let mut it = line.split_whitespace().map(|n| n.parse::<u64>());
    match (it.next(), it.next()) {
        (Some(Ok(rss)), Some(Ok(peak))) => Ok((rss, peak)),
        _ => Err(format!("serve-rss said {line:?}")),
    }
}

fn serve_rss() {
    let cluster = sim_cluster().expect("cluster starts");
    println!("{}", cluster.bootstrap_servers());
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        if line.map(|l| l.trim() == "rss").unwrap_or(false) {
            let (rss, peak) = own_memory();
            println!("{rss} {peak}");
        } else {
            break;
        }
    }
}

/// This process's resident and peak resident bytes (VmRSS and VmHWM).
fn own_memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The result table, in Markdown, with the machine and the settings it was measured with.
fn report(args: &Args, f: &Figures) -> String {
    use Kind::{Mock, Null, Sim};
    let payload = workload::payload_bytes(1) as f64;
    let rate = |r: f64| format!("{:.2} M ({:.0} MB/s)", r / 1e6, r * payload / 1e6);
    let met = |ok: bool| {
        if args.quick {
            "(quick run)"
        } else if ok {
            "yes"
        } else {
            "**no**"
        }
    };
    let mut rows: Vec<[String; 6]> = Vec::new();
    let mut row = |cells: [&str; 6]| rows.push(cells.map(str::to_string));
    let produce = |k| f.median("produce", k);
    row([
        &format!("produce {} records, msg/s", args.records),
        &rate(produce(Sim)),
        &rate(produce(Mock)),
        &rate(produce(Null)),
        "",
        "",
    ]);
    let ratio = f.median("produce / null", Sim);
    row([
        "produce, broker-sim / null broker",
        &format!("{ratio:.2}"),
        "",
        "",
        "≥ 0.95",
        met(ratio >= 0.95),
    ]);
    let ratio = f.median("produce / mock", Sim);
    row([
        "produce, broker-sim / mock",
        &format!("{ratio:.2}"),
        "",
        "",
        "≥ 1.3",
        met(ratio >= 1.3),
    ]);
    for (name, how) in [
        ("consume", "librdkafka defaults"),
        ("consume keep", "`fetch.queue.backoff.ms` 10"),
    ] {
        let (gap, first, ratio) = match name {
            "consume" => ("consume gap", "consume first", "consume / mock"),
            _ => (
                "consume keep gap",
                "consume keep first",
                "consume keep / mock",
            ),
        };
        let cell = |k| {
            format!(
                "{}; first record after {:.1} ms",
                rate(f.median(name, k)),
                f.median(first, k)
            )
        };
        row([
            &format!(
                "consume {} records by assignment ({how}), msg/s",
                args.consume_records
            ),
            &cell(Sim),
            &cell(Mock),
            "",
            "",
            "",
        ]);
        let ratio = f.median(ratio, Sim);
        row([
            &format!("consume ({how}), broker-sim / mock"),
            &format!("{ratio:.2}"),
            "",
            "",
            "≥ 1.0",
            met(ratio >= 1.0),
        ]);
        row([
            &format!("longest gap between consumed records ({how})"),
            &format!("{:.1} ms", f.median(gap, Sim)),
            &format!("{:.1} ms", f.median(gap, Mock)),
            "",
            "≤ 50 ms",
            met(f.median(gap, Sim) <= 50.0),
        ]);
    }
    for (name, gap, how) in [
        ("consume all", "consume all gap", "librdkafka defaults"),
        (
            "consume all keep",
            "consume all keep gap",
            "`fetch.queue.backoff.ms` 10",
        ),
    ] {
        row([
            &format!(
                "consume all {} produced records ({how}); the mock keeps only 100,000 records or 5 MB a partition",
                args.records
            ),
            &format!(
                "{}; longest gap {:.1} ms",
                rate(f.median(name, Sim)),
                f.median(gap, Sim)
            ),
            "",
            "",
            "",
            "",
        ]);
    }
    row([
        "3-broker cluster start",
        &format!("{:.2} ms", f.median("start", Sim)),
        &format!("{:.2} ms", f.median("start", Mock)),
        "",
        "≤ 1 ms",
        met(f.median("start", Sim) <= 1.0),
    ]);
    if let Some(fork) = &f.fork {
        row([
            &format!(
                "3-broker cluster start: fresh → from a snapshot of {} × {} B records (a value) → \
                 from its {:.1} MB JSON document",
                fork.records,
                workload::VALUE_LEN,
                fork.bytes as f64 / 1e6,
            ),
            &format!(
                "{:.2} → {:.2} → {:.1} ms (snapshot taken in {:.2} ms)",
                fork.fresh_ms, fork.fork_ms, fork.load_fork_ms, fork.snapshot_ms
            ),
            "",
            "",
            "",
            "",
        ]);
        row([
            "a cluster per test: start 3 brokers, produce 1 record, read it back, drop — fresh / forked from a snapshot",
            &format!(
                "{:.0} µs / {:.0} µs",
                fork.per_test_fresh_us, fork.per_test_fork_us
            ),
            "",
            "",
            "≤ 100 µs",
            met(fork.per_test_fresh_us <= 100.0 && fork.per_test_fork_us <= 100.0),
        ]);
    }
    if let Some(rss) = &f.rss {
        let values = (args.records * workload::VALUE_LEN) as f64;
        let ratio = rss.holding as f64 / values;
        row([
            &format!(
                "broker RSS holding {} × {} B values",
                args.records,
                workload::VALUE_LEN
            ),
            &format!(
                "{:.0} MB = {ratio:.2} × the values (empty cluster {:.0} MB, peak {:.0} MB)",
                rss.holding as f64 / 1e6,
                rss.baseline as f64 / 1e6,
                rss.peak as f64 / 1e6
            ),
            "",
            "",
            "≤ 1.5 ×",
            met(ratio <= 1.5),
        ]);
    }
    let lat = |k| {
        format!(
            "{:.2} / {:.2} / {:.2} ms ({} records)",
            f.median("p50", k),
            f.median("p99", k),
            f.median("p999", k),
            f.latency_records.get(&k).copied().unwrap_or(0)
        )
    };
    row([
        "produce→consume latency p50 / p99 / p999, linger.ms 0",
        &lat(Sim),
        &lat(Mock),
        "",
        "p99 ≤ 1 ms",
        met(f.median("p99", Sim) <= 1.0),
    ]);

    let quota = f.median("quota", Sim);
    row([
        &format!(
            "producer under a {:.0} MB/s `producer_byte_rate` quota, over three 11 s quota windows: achieved / quota",
            QUOTA_BYTES_PER_S / 1e6
        ),
        &format!("{quota:.2}"),
        "",
        "",
        "0.8 – 1.1",
        met((0.8..=1.1).contains(&quota)),
    ]);

    for i in &f.isolation {
        let ratio = i.attacked_p99_ms / i.alone_p99_ms;
        row([
            &format!(
                "a client's acks=all produce p99 while another sends {}: alone → under attack",
                i.attack
            ),
            &format!(
                "{:.2} → {:.2} ms ({ratio:.1} ×)",
                i.alone_p99_ms, i.attacked_p99_ms
            ),
            "",
            "",
            &format!("≤ {} ms", isolation::BOUND_MS),
            met(i.attacked_p99_ms <= isolation::BOUND_MS),
        ]);
    }

    let mut out = String::new();
    out.push_str(&format!("Machine: {}\n\n", machine()));
    out.push_str(&format!(
        "Medians of {} runs (cluster starts: {}); a ratio is the median of the runs' ratios. \
         {}-byte values, {} keys, linger.ms 5, \
         batch.num.messages 10000, acks=all, {BROKERS} brokers, {PARTITIONS} partitions, \
         replication factor {BROKERS}; latency: up to {} records one at a time per run, at most \
         {} s a run.\n\n",
        args.repeat,
        args.starts,
        workload::VALUE_LEN,
        workload::KEYS,
        args.latency_samples,
        args.latency_budget,
    ));
    out.push_str("| figure | broker-sim | librdkafka mock | null broker | target | met |\n");
    out.push_str("|---|---|---|---|---|---|\n");
    for r in rows {
        out.push_str(&format!("| {} |\n", r.join(" | ")));
    }
    out
}

/// Prints a result table and, when asked, writes it to a Markdown file too.
fn emit(table: &str, markdown: Option<&std::path::Path>) -> Result<(), String> {
    println!("{table}");
    if let Some(path) = markdown {
        std::fs::write(path, table).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// CPU model, cores, memory, kernel and librdkafka version, for the table's caption.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gib = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / (1024.0 * 1024.0));
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let (_, librdkafka) = rdkafka::util::get_rdkafka_version();
    format!(
        "{model}, {cores} cores, {mem_gib:.0} GiB, Linux {}, librdkafka {librdkafka}",
        kernel.trim()
    )
}
