//! `bench peers`: broker-sim (in memory, and with `--data-dir`) beside what a user would
//! otherwise run in a test — Apache Kafka 4.1 (three KRaft JVMs, `fidelity/kafka/start.sh`),
//! franz-go's kfake (a Go program, `client-tests/go/cmd/kfake`) and librdkafka's mock
//! cluster — each in a process
//! of its own, so that the broker's own CPU time (`/proc/PID/task/*/schedstat`) and memory
//! (`VmRSS`) can be read per record. The client-bound throughput figures hide what a
//! broker costs; CPU per record shows it.
//!
//! Every peer gets the same rdkafka workload as the main benchmark (3 brokers, 6
//! partitions, replication factor 3 where the peer replicates): a start, a produce phase,
//! a consume phase (`fetch.queue.backoff.ms` 10: librdkafka's own backoff otherwise
//! dominates every consume figure), a latency run. Each figure is taken
//! `--repeat` times with the peers taking turns; the table shows medians.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;

use super::workload;
use super::{LATENCY_TOPIC, PARTITIONS, TOPIC};

/// What a peers run measures.
pub struct PeerArgs {
    pub records: usize,
    pub repeat: usize,
    pub latency_samples: usize,
    pub latency_budget: Duration,
    pub markdown: Option<PathBuf>,
    /// Only these peers (for profiling one); all when empty.
    pub only: Vec<Peer>,
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug, clap::ValueEnum)]
pub enum Peer {
    Sim,
    /// The broker-sim binary with `--data-dir` (segment files, fsync off: the default
    /// flush policy, as Kafka's).
    SimDurable,
    Kfake,
    Kafka,
    Mock,
}

impl Peer {
    pub const ALL: [Peer; 5] = [
        Peer::Sim,
        Peer::SimDurable,
        Peer::Kfake,
        Peer::Kafka,
        Peer::Mock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Peer::Sim => "broker-sim (binary)",
            Peer::SimDurable => "broker-sim --data-dir",
            Peer::Kfake => "kfake",
            Peer::Kafka => "Apache Kafka 4.1",
            Peer::Mock => "librdkafka mock",
        }
    }
}

/// A peer running in its own process(es).
pub struct Running {
    child: Child,
    /// Closing it ends the peer (every peer but Kafka waits on its standard input).
    stdin: Option<ChildStdin>,
    /// The processes that are the brokers (Kafka's JVMs; otherwise the child).
    pub pids: Vec<u32>,
    pub bootstrap: String,
    started: Duration,
    /// A durable peer's data directory, removed when it stops.
    data_dir: Option<PathBuf>,
}

impl Drop for Running {
    fn drop(&mut self) {
        drop(self.stdin.take());
        // start.sh stops its JVMs when told to end.
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
        if let Some(dir) = &self.data_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The workspace root, where the peers' programs live.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("client-tests sits in the workspace")
        .to_path_buf()
}

/// Builds what the peers need that cargo does not: the kfake program and the broker-sim
/// binary in the release profile.
pub fn prepare() -> Result<(PathBuf, PathBuf), String> {
    let root = root();
    let target = root.join("target");
    let kfake = target.join("kfake");
    let go = Command::new("go")
        .args(["build", "-o"])
        .arg(&kfake)
        .arg("./cmd/kfake")
        .current_dir(root.join("client-tests/go"))
        .status()
        .map_err(|e| format!("go build: {e}"))?;
    if !go.success() {
        return Err("go build of cmd/kfake failed".into());
    }
    let cargo = Command::new(env!("CARGO"))
        .args(["build", "--release", "-q", "-p", "broker-sim"])
        .current_dir(&root)
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !cargo.success() {
        return Err("cargo build of broker-sim failed".into());
    }
    Ok((kfake, target.join("release/broker-sim")))
}

pub fn start(peer: Peer, kfake: &Path, sim: &Path) -> Result<Running, String> {
    let began = Instant::now();
    let data_dir = (peer == Peer::SimDurable)
        .then(|| std::env::temp_dir().join(format!("broker-sim-bench-{}", std::process::id())));
    if let Some(dir) = &data_dir {
        // A directory left by an earlier run that was killed.
        let _ = std::fs::remove_dir_all(dir);
    }
    let mut command = match peer {
        Peer::Sim | Peer::SimDurable => {
            let mut c = Command::new(sim);
            if let Some(dir) = &data_dir {
                c.arg("--data-dir").arg(dir);
            }
            c.args(["--brokers", "3", "--port", "0", "--no-control"]);
            c.args(["--topic", &format!("{TOPIC}:{PARTITIONS}")]);
            c.args(["--topic", &format!("{LATENCY_TOPIC}:1")]);
            c.args(["--log-level", "warn"]);
            c
        }
        Peer::Kfake => {
            let mut c = Command::new(kfake);
            c.args(["-topic", &format!("{TOPIC}:{PARTITIONS}")]);
            c.args(["-topic", &format!("{LATENCY_TOPIC}:1")]);
            c
        }
        Peer::Kafka => {
            let mut c = Command::new(root().join("fidelity/kafka/start.sh"));
            c.args(["--brokers", "3", "--port", "29392"]);
            c
        }
        Peer::Mock => {
            let mut c = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
            c.arg("serve-mock");
            c
        }
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", peer.name()))?;
    let stdin = child.stdin.take();
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut pids = vec![child.id()];
    let mut bootstrap = String::new();
    let mut line = String::new();
    while bootstrap.is_empty() {
        line.clear();
        if stdout.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err(format!("{} exited before it listened", peer.name()));
        }
        let text = line.trim();
        if let Some(list) = text.strip_prefix("PIDS=") {
            pids = list.split(',').filter_map(|p| p.parse().ok()).collect();
        } else if let Some(list) = text.strip_prefix("BOOTSTRAP=") {
            bootstrap = list.to_string();
        } else if peer != Peer::Kafka && !text.is_empty() {
            // broker-sim and the mock print the bare list.
            bootstrap = text.to_string();
        }
    }
    let started = began.elapsed();
    let running = Running {
        child,
        stdin,
        pids,
        bootstrap,
        started,
        data_dir,
    };
    if peer == Peer::Kafka {
        create_topics(&running.bootstrap)?;
    }
    Ok(running)
}

/// Starts of spring-kafka-test's embedded KRaft cluster inside one running JVM, in ms
/// (`embedded/`: Maven resolves spring-kafka-test).
fn embedded_starts(runs: usize) -> Result<Vec<f64>, String> {
    let dir = root().join("client-tests/src/bin/bench/embedded");
    let built = Command::new("mvn")
        .args([
            "-q",
            "-B",
            "-Dstyle.color=never",
            "compile",
            "dependency:build-classpath",
        ])
        .arg("-Dmdep.outputFile=target/classpath.txt")
        .current_dir(&dir)
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("mvn: {e}"))?;
    if !built.success() {
        return Err("mvn could not build the embedded-Kafka program".into());
    }
    let classpath = std::fs::read_to_string(dir.join("target/classpath.txt"))
        .map_err(|e| format!("classpath: {e}"))?;
    let out = Command::new("java")
        .arg("-cp")
        .arg(format!(
            "{}:{}",
            dir.join("target/classes").display(),
            classpath.trim()
        ))
        .args(["dev.brokersim.bench.EmbeddedStart", &runs.to_string()])
        .stderr(Stdio::null())
        .output()
        .map_err(|e| format!("java: {e}"))?;
    let starts: Vec<f64> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("START_MS="))
        .filter_map(|ms| ms.trim().parse().ok())
        .collect();
    if starts.len() != runs {
        return Err(format!(
            "embedded Kafka started {} of {runs} times",
            starts.len()
        ));
    }
    Ok(starts)
}

/// Kafka starts without the benchmark's topics.
fn create_topics(bootstrap: &str) -> Result<(), String> {
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .map_err(|e| format!("admin: {e}"))?;
    let topics = [
        NewTopic::new(TOPIC, PARTITIONS, TopicReplication::Fixed(3)),
        NewTopic::new(LATENCY_TOPIC, 1, TopicReplication::Fixed(3)),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let results = runtime
            .block_on(admin.create_topics(&topics, &AdminOptions::new()))
            .map_err(|e| format!("create topics: {e}"))?;
        if results.iter().all(|r| {
            matches!(
                r,
                Ok(_) | Err((_, rdkafka::types::RDKafkaErrorCode::TopicAlreadyExists))
            )
        }) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("create topics: {results:?}"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Nanoseconds the processes' threads have run (`/proc/PID/task/*/schedstat`, first field).
pub fn cpu_ns(pids: &[u32]) -> u64 {
    let mut total = 0;
    for pid in pids {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            if let Ok(text) = std::fs::read_to_string(task.path().join("schedstat")) {
                total += text
                    .split_whitespace()
                    .next()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

/// Resident bytes of the processes (`VmRSS`).
fn rss(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .sum()
}

/// Consumer settings for the first-record figure with small answers.
const SMALL_FETCHES: &[(&str, &str)] = &[
    ("fetch.queue.backoff.ms", "10"),
    ("max.partition.fetch.bytes", "65536"),
];

/// A row of the table: its label, the figure it shows and how to print a value.
type Row = (&'static str, &'static str, fn(f64) -> String);

/// Every measurement of a peers run, by figure and peer.
pub struct Samples(BTreeMap<(&'static str, Peer), Vec<f64>>);

impl Samples {
    /// The median of a figure (NaN if it was not measured).
    pub fn median(&self, figure: &'static str, peer: Peer) -> f64 {
        self.0
            .get(&(figure, peer))
            .map_or(f64::NAN, |v| super::median(v))
    }
}

pub fn run(args: &PeerArgs) -> Result<(), String> {
    let (samples, peers) = measure(args)?;
    table(args, &samples, &peers)
}

/// Runs the workload `args.repeat` times on every peer chosen, the peers taking turns.
/// Figures: start, produce, consume (records/s), produce cpu, consume cpu (µs a record),
/// rss (bytes a record), first (ms to the first record consumed), p50, p99 (ms).
pub fn measure(args: &PeerArgs) -> Result<(Samples, Vec<Peer>), String> {
    let (kfake, sim) = prepare()?;
    let mut samples: BTreeMap<(&'static str, Peer), Vec<f64>> = BTreeMap::new();
    let mut add = |figure: &'static str, peer: Peer, value: f64| {
        samples.entry((figure, peer)).or_default().push(value);
    };
    let records = args.records;
    let peers: Vec<Peer> = Peer::ALL
        .into_iter()
        .filter(|p| args.only.is_empty() || args.only.contains(p))
        .collect();
    for rep in 0..args.repeat {
        let order: Vec<Peer> = if rep % 2 == 0 {
            peers.clone()
        } else {
            peers.iter().rev().copied().collect()
        };
        for peer in order {
            let running = start(peer, &kfake, &sim)?;
            add("start", peer, running.started.as_secs_f64() * 1e3);
            let (rss0, cpu0) = (rss(&running.pids), cpu_ns(&running.pids));
            let took = workload::produce(&running.bootstrap, TOPIC, records)
                .map_err(|e| format!("{} produce: {e}", peer.name()))?;
            let (rss1, cpu1) = (rss(&running.pids), cpu_ns(&running.pids));
            add("produce", peer, records as f64 / took.as_secs_f64());
            add(
                "produce cpu",
                peer,
                (cpu1 - cpu0) as f64 / records as f64 / 1e3,
            );
            add(
                "rss",
                peer,
                rss1.saturating_sub(rss0) as f64 / records as f64,
            );
            let got = workload::consume(
                &running.bootstrap,
                TOPIC,
                PARTITIONS,
                records,
                workload::KEEP_FETCHING,
            )
            .map_err(|e| format!("{} consume: {e}", peer.name()))?;
            let cpu2 = cpu_ns(&running.pids);
            add("consume", peer, records as f64 / got.elapsed.as_secs_f64());
            add("first", peer, super::ms(got.first));
            // The first record waits for the client to take in the whole first answer,
            // which a broker fills up to `max.partition.fetch.bytes` (1 MiB) a partition
            // as Kafka does: the same read with 64 KiB a partition shows that share.
            let small = workload::consume(
                &running.bootstrap,
                TOPIC,
                PARTITIONS,
                records,
                SMALL_FETCHES,
            )
            .map_err(|e| format!("{} consume: {e}", peer.name()))?;
            add("first small", peer, super::ms(small.first));
            add(
                "consume cpu",
                peer,
                (cpu2 - cpu1) as f64 / records as f64 / 1e3,
            );
            let mut lat = workload::latency(
                &running.bootstrap,
                LATENCY_TOPIC,
                args.latency_samples,
                args.latency_budget,
            )
            .map_err(|e| format!("{} latency: {e}", peer.name()))?;
            lat.sort();
            add("p50", peer, super::ms(super::percentile(&lat, 0.5)));
            add("p99", peer, super::ms(super::percentile(&lat, 0.99)));
            eprintln!(
                "[peers {rep}] {}: started in {:.0} ms, produce {}, consume {}",
                peer.name(),
                running.started.as_secs_f64() * 1e3,
                super::msgs(records as f64 / took.as_secs_f64()),
                super::msgs(records as f64 / got.elapsed.as_secs_f64())
            );
        }
    }
    Ok((Samples(samples), peers))
}

fn table(args: &PeerArgs, samples: &Samples, peers: &[Peer]) -> Result<(), String> {
    let records = args.records;
    let median = |figure, peer| samples.median(figure, peer);
    let rows: [Row; 10] = [
        ("3-broker start (to listening)", "start", |v| {
            format!("{v:.1} ms")
        }),
        ("produce", "produce", super::msgs),
        (
            "consume (`fetch.queue.backoff.ms` 10)",
            "consume",
            super::msgs,
        ),
        ("time to the first record consumed", "first", |v| {
            format!("{v:.1} ms")
        }),
        (
            "time to the first record consumed, `max.partition.fetch.bytes` 64 KiB",
            "first small",
            |v| format!("{v:.1} ms"),
        ),
        ("produce→consume latency p50", "p50", |v| {
            format!("{v:.2} ms")
        }),
        ("produce→consume latency p99", "p99", |v| {
            format!("{v:.2} ms")
        }),
        ("broker CPU per record produced", "produce cpu", |v| {
            format!("{v:.2} µs")
        }),
        ("broker CPU per record consumed", "consume cpu", |v| {
            format!("{v:.2} µs")
        }),
        ("broker memory per record kept", "rss", |v| {
            format!("{v:.0} B")
        }),
    ];
    let mut table = format!(
        "{records} records of {} B per run, medians of {} runs; every broker in its own process.\n\n| figure |",
        workload::payload_bytes(1),
        args.repeat
    );
    for peer in peers {
        table.push_str(&format!(" {} |", peer.name()));
    }
    table.push_str(&format!("\n|---|{}\n", "---|".repeat(peers.len())));
    for (label, figure, show) in rows {
        table.push_str(&format!("| {label} |"));
        for &peer in peers {
            table.push_str(&format!(" {} |", show(median(figure, peer))));
        }
        table.push('\n');
    }
    // In-process starts, where a test would otherwise use @EmbeddedKafka or broker-sim's
    // Cluster: both inside an already running process.
    let sim_starts: Vec<f64> = (0..5)
        .map(|_| {
            let began = Instant::now();
            let cluster = broker_sim::Cluster::builder()
                .brokers(3)
                .topic(TOPIC, PARTITIONS)
                .start()
                .expect("cluster starts");
            let ms = began.elapsed().as_secs_f64() * 1e3;
            drop(cluster);
            ms
        })
        .collect();
    let embedded = match args.only.is_empty() {
        false => "not measured (--peer)".to_string(),
        true => match embedded_starts(5) {
            Ok(starts) => format!("{:.0} ms", super::median(&starts)),
            Err(e) => format!("not measured ({e})"),
        },
    };
    table.push_str(&format!(
        "\nIn-process 3-broker starts (median of 5, inside a running process): broker-sim's `Cluster` {:.2} ms; spring-kafka-test's `EmbeddedKafkaKraftBroker` (what `@EmbeddedKafka` starts) {embedded}.\n",
        super::median(&sim_starts)
    ));
    super::emit(&table, args.markdown.as_deref())
}

/// The mock cluster in a process of its own: 3 brokers and the benchmark's topics; prints
/// its bootstrap servers and runs until its standard input closes.
pub fn serve_mock() {
    let mock = rdkafka::mocking::MockCluster::new(3).expect("mock cluster starts");
    mock.create_topic(TOPIC, PARTITIONS, 3).expect("topic");
    mock.create_topic(LATENCY_TOPIC, 1, 3).expect("topic");
    println!("{}", mock.bootstrap_servers());
    let stdin = std::io::stdin();
    for _ in stdin.lock().lines() {}
}
