//! The `broker-sim` binary: a cluster for offline development, on fixed ports.
//!
//! Point any Kafka client or tool (kcat, Kafka UI) at the printed bootstrap list. The
//! process runs until Ctrl-C, then closes every connection and frees the ports.

use broker_sim::Cluster;
use clap::Parser;
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "A Kafka cluster in one process, speaking the real wire protocol"
)]
struct Args {
    /// Number of brokers (ids 1..=N).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    brokers: u32,
    /// Port of the first broker; the others take the following ports.
    #[arg(long, default_value_t = 9092)]
    port: u16,
    /// Address to listen on and to advertise.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// A topic to create at start, as NAME:PARTITIONS (repeatable).
    #[arg(long = "topic", value_name = "NAME:PARTITIONS", value_parser = parse_topic)]
    topics: Vec<(String, i32)>,
    /// Refuse unknown topics instead of creating them on first use.
    #[arg(long)]
    no_auto_create: bool,
    /// Partitions of auto-created topics (Kafka's num.partitions).
    #[arg(long, default_value_t = 1)]
    default_partitions: i32,
    /// Kafka's group.initial.rebalance.delay.ms (Kafka's default is 3000).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..))]
    group_initial_rebalance_delay_ms: i32,
    /// Kafka's group.min.session.timeout.ms: shorter consumer sessions are refused.
    #[arg(long, default_value_t = 6000, value_parser = clap::value_parser!(i32).range(0..))]
    group_min_session_timeout_ms: i32,
    /// Seed for the identifiers the cluster makes up.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Log filter, e.g. info, debug, broker_sim=trace (RUST_LOG overrides it).
    #[arg(long, default_value = "info")]
    log_level: String,
}

fn parse_topic(s: &str) -> Result<(String, i32), String> {
    let (name, partitions) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("expected NAME:PARTITIONS, got {s:?}"))?;
    let partitions: i32 = partitions
        .parse()
        .map_err(|_| format!("partition count {partitions:?} is not a number"))?;
    if name.is_empty() || partitions < 1 {
        return Err(format!(
            "expected a name and at least one partition, got {s:?}"
        ));
    }
    Ok((name.to_string(), partitions))
}

fn main() -> std::process::ExitCode {
    match run(Args::parse()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("broker-sim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let filter =
        EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(&args.log_level))?;
    // Logs go to stderr so that stdout carries only the bootstrap list, for scripts.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let mut builder = Cluster::builder()
        .brokers(args.brokers as usize)
        .host(args.host)
        .port(args.port)
        .auto_create_topics(!args.no_auto_create)
        .default_partitions(args.default_partitions)
        .group_initial_rebalance_delay_ms(args.group_initial_rebalance_delay_ms)
        .group_min_session_timeout_ms(args.group_min_session_timeout_ms)
        .seed(args.seed);
    for (name, partitions) in args.topics {
        builder = builder.topic(name, partitions);
    }
    let cluster = builder.start()?;
    println!("{}", cluster.bootstrap_servers());

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(tokio::signal::ctrl_c())?;
    tracing::info!("shutting down");
    cluster.shutdown();
    Ok(())
}
