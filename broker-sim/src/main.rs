//! The `broker-sim` binary: a cluster for offline development, on fixed ports.
//!
//! Point any Kafka client or tool (kcat, Kafka UI) at the printed bootstrap list, and drive
//! the cluster (records, faults, brokers, groups) through the HTTP/JSON control API whose
//! address is the second line (see `broker_sim::control`). Stdout carries only those two
//! lines, bootstrap list first, for scripts; logs go to stderr. The process runs until
//! Ctrl-C, then closes every connection and frees the ports.
//!
//! With a subcommand (`broker-sim topics list`, `broker-sim faults add ...`) the binary is
//! instead a client of a running one's control API (`cli`); serving is the default, also
//! spelled `broker-sim serve`.

mod cli;

use std::sync::Arc;
use std::time::Duration;

use broker_sim::{Cluster, ClusterBuilder, ClusterConfig};
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use tracing_subscriber::EnvFilter;

#[derive(Debug, Parser)]
#[command(
    version,
    about = "A Kafka cluster in one process, speaking the real wire protocol",
    long_about = "A Kafka cluster in one process, speaking the real wire protocol.\n\n\
        Without a subcommand (or with `serve`), broker-sim serves a cluster with the options \
        below and prints its bootstrap list and control API address. The other subcommands \
        drive a running broker-sim through that control API (--control URL, env \
        BROKER_SIM_CONTROL).",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Args,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a cluster (what broker-sim does without a subcommand), with the same options.
    Serve(Box<Args>),
    #[command(flatten)]
    Client(Box<cli::Command>),
}

/// How to serve: the cluster's shape and its brokers' configuration (the flags of
/// `broker-sim` and of `broker-sim serve`).
#[derive(Debug, clap::Args)]
struct Args {
    /// Start from a snapshot file (the control API's POST /v1/snapshot): its brokers,
    /// topics, records, committed offsets, configs, users and ACLs. The broker count comes
    /// from the snapshot, so --brokers cannot be given with it.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["brokers", "config"])]
    snapshot: Option<std::path::PathBuf>,
    /// Keep the cluster's data in DIR so it survives a restart (default: in memory only):
    /// topics, records, committed offsets, idempotent producers, transactions, configs,
    /// users and ACLs. A DIR that holds a cluster is started from (its broker count wins
    /// over --brokers); --snapshot only seeds an empty one. Appends are fsynced per the
    /// topics' flush.messages / flush.ms (log.flush.interval.* broker-wide), by default never.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// A topology file (TOML): brokers, listeners, settings, topics, seed records and
    /// committed offsets. Flags given on the command line override what it says.
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
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
    /// A broker's broker.rack, as ID=RACK (repeatable; KIP-392).
    #[arg(long = "rack", value_name = "ID=RACK", value_parser = parse_rack)]
    racks: Vec<(i32, String)>,
    /// replica.selector.class=RackAwareReplicaSelector: consumers with a client.rack read
    /// from a replica in their rack.
    #[arg(long)]
    rack_aware_replica_selector: bool,
    /// Partitions of auto-created topics (Kafka's num.partitions).
    #[arg(long, default_value_t = 1)]
    default_partitions: i32,
    /// Kafka's group.initial.rebalance.delay.ms (Kafka's default is 3000).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..))]
    group_initial_rebalance_delay_ms: i32,
    /// Kafka's group.min.session.timeout.ms: shorter consumer sessions are refused.
    #[arg(long, default_value_t = 6000, value_parser = clap::value_parser!(i32).range(0..))]
    group_min_session_timeout_ms: i32,
    /// Kafka's group.max.session.timeout.ms: longer consumer sessions are refused.
    #[arg(long, default_value_t = 1_800_000, value_parser = clap::value_parser!(i32).range(0..))]
    group_max_session_timeout_ms: i32,
    /// Kafka's group.consumer.session.timeout.ms (KIP-848 groups).
    #[arg(long, default_value_t = 45_000, value_parser = clap::value_parser!(i32).range(1..))]
    group_consumer_session_timeout_ms: i32,
    /// Kafka's group.consumer.heartbeat.interval.ms (KIP-848 groups).
    #[arg(long, default_value_t = 5_000, value_parser = clap::value_parser!(i32).range(1..))]
    group_consumer_heartbeat_interval_ms: i32,
    /// Kafka's group.max.size: members beyond it are refused (default: unbounded).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    group_max_size: Option<i32>,
    /// Kafka's default.replication.factor for new topics (default: min(3, brokers)).
    #[arg(long, value_parser = clap::value_parser!(i16).range(1..))]
    replication_factor: Option<i16>,
    /// Kafka's message.max.bytes: the largest batch a topic accepts unless it sets its own.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    message_max_bytes: Option<i32>,
    /// Kafka's socket.request.max.bytes: larger requests close the connection.
    #[arg(long)]
    max_request_size: Option<usize>,
    /// Kafka's max.connections: connections each broker holds at once (default unbounded).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections: Option<u64>,
    /// Kafka's min.insync.replicas for topics that do not set their own.
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    min_insync_replicas: Option<i32>,
    /// Kafka's unclean.leader.election.enable: an out-of-sync replica may take over.
    #[arg(long)]
    unclean_leader_election: bool,
    /// Run an authorizer (Kafka's StandardAuthorizer): requests are judged by ACLs.
    #[arg(long)]
    authorizer: bool,
    /// Kafka's super.users: a principal allowed everything (repeatable).
    #[arg(long = "super-user", value_name = "PRINCIPAL")]
    super_users: Vec<String>,
    /// Kafka's allow.everyone.if.no.acl.found: a resource no ACL names is open to all.
    #[arg(long)]
    allow_everyone_if_no_acl_found: bool,
    /// Kafka's replica.lag.time.max.ms: a follower this far behind leaves the ISR.
    #[arg(long, value_name = "MS")]
    replica_lag_time_max_ms: Option<u64>,
    /// How long after an append followers copy it (default 0: at once).
    #[arg(long, value_name = "MS")]
    replication_lag_ms: Option<u64>,
    /// The transaction.version feature level (0-2; default 2, as Kafka 4.1): 1 makes
    /// KIP-890 clients use the transaction protocol of Kafka 3.x.
    #[arg(long, value_parser = clap::value_parser!(i16).range(0..=2))]
    transaction_version: Option<i16>,
    /// Kafka's transaction.max.timeout.ms: the longest transaction.timeout.ms allowed.
    #[arg(long, value_name = "MS")]
    transaction_max_timeout_ms: Option<u64>,
    /// Kafka's log.retention.check.interval.ms: how often retention deletes old segments.
    #[arg(long, value_name = "MS")]
    log_retention_check_interval_ms: Option<u64>,
    /// How many requests the request log keeps (GET /v1/requests); 0 turns it off.
    #[arg(long, value_name = "N", default_value_t = broker_sim::DEFAULT_REQUEST_LOG_SIZE)]
    request_log_size: usize,
    /// Kafka's offsets.retention.minutes: how long offsets of a group without members are
    /// kept (default 10080, 7 days); an empty group without offsets is deleted.
    #[arg(long, value_name = "MINUTES", value_parser = clap::value_parser!(u64).range(1..))]
    offsets_retention_minutes: Option<u64>,
    /// Kafka's offsets.retention.check.interval.ms: how often expired offsets and empty
    /// groups are removed (default 600000).
    #[arg(long, value_name = "MS")]
    offsets_retention_check_interval_ms: Option<u64>,
    /// Run on a manual clock that moves only through the control API's
    /// POST /v1/clock/advance, starting at START_MS (default: the time at startup).
    #[arg(long, value_name = "START_MS", num_args = 0..=1)]
    manual_clock: Option<Option<i64>>,
    /// Port of the HTTP/JSON control API, on --host (0: any free port).
    #[arg(long, default_value_t = 9644)]
    control_port: u16,
    /// Do not serve the control API.
    #[arg(long, conflicts_with = "control_port")]
    no_control: bool,
    /// A token every control API request must carry as `Authorization: Bearer TOKEN`.
    #[arg(long, env = "BROKER_SIM_CONTROL_TOKEN", hide_env_values = true)]
    control_token: Option<String>,
    /// A listener: NAME:PROTOCOL[:PORT] with PROTOCOL one of PLAINTEXT, SSL, SASL_PLAINTEXT,
    /// SASL_SSL; repeat for several. The first replaces the default PLAINTEXT listener
    /// and, without a port, listens on --port. Broker i listens on PORT + i.
    #[arg(long = "listener", value_name = "NAME:PROTOCOL[:PORT]")]
    listeners: Vec<broker_sim::Listener>,
    /// A SASL user (PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512); repeat for several.
    #[arg(long = "sasl-user", value_name = "NAME:PASSWORD", value_parser = parse_user)]
    sasl_users: Vec<(String, String)>,
    /// Kafka's sasl.enabled.mechanisms, comma-separated (default: PLAIN, SCRAM-SHA-256,
    /// SCRAM-SHA-512, OAUTHBEARER).
    #[arg(long, value_delimiter = ',')]
    sasl_mechanisms: Vec<broker_sim::SaslMechanism>,
    /// Kafka's connections.max.reauth.ms: SASL sessions expire after this long on the
    /// cluster clock (default 0: never).
    #[arg(long, value_name = "MS")]
    connections_max_reauth_ms: Option<u64>,
    /// PEM certificate chain SSL and SASL_SSL listeners present (default: generated with
    /// a CA, served at GET /v1/tls/ca.pem).
    #[arg(long, value_name = "PATH", requires = "ssl_key")]
    ssl_cert: Option<std::path::PathBuf>,
    /// PEM private key of --ssl-cert.
    #[arg(long, value_name = "PATH", requires = "ssl_cert")]
    ssl_key: Option<std::path::PathBuf>,
    /// PEM CAs client certificates are checked against (default: the generated CA).
    #[arg(long, value_name = "PATH")]
    ssl_client_ca: Option<std::path::PathBuf>,
    /// Kafka's ssl.client.auth: none, requested or required.
    #[arg(long, default_value = "none")]
    ssl_client_auth: broker_sim::ClientAuth,
    /// Kafka's max.connections.per.ip: further connections from an address are closed.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_connections_per_ip: Option<u64>,
    /// Kafka's connections.max.idle.ms: connections without a request this long are closed.
    #[arg(long, value_name = "MS", default_value_t = 600_000)]
    connections_max_idle_ms: u64,
    /// How long a request may take to arrive once its first byte has.
    #[arg(long, value_name = "MS", default_value_t = 60_000)]
    request_read_deadline_ms: u64,
    /// Memory the brokers may spend decoding requests over 256 KiB at once (40 times their
    /// size each); a request beyond it alone is refused.
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 30)]
    request_memory_budget: usize,
    /// Seed for the identifiers the cluster makes up.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Log filter, e.g. info, debug, broker_sim=trace (RUST_LOG overrides it).
    #[arg(long, default_value = "info")]
    log_level: String,
}

fn parse_user(s: &str) -> Result<(String, String), String> {
    match s.split_once(':') {
        Some((name, password)) if !name.is_empty() && !password.is_empty() => {
            Ok((name.to_string(), password.to_string()))
        }
        _ => Err(format!("expected NAME:PASSWORD, got {s:?}")),
    }
}

fn parse_rack(s: &str) -> Result<(i32, String), String> {
    let (id, rack) = s
        .split_once('=')
        .ok_or_else(|| format!("expected ID=RACK, got {s:?}"))?;
    let id: i32 = id
        .parse()
        .map_err(|_| format!("broker id {id:?} is not a number"))?;
    if id < 1 || rack.is_empty() {
        return Err(format!("expected a broker id from 1 and a rack, got {s:?}"));
    }
    Ok((id, rack.to_string()))
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
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let (args, serving) = match cli.command {
        None => (cli.serve, &matches),
        Some(Command::Serve(args)) => (
            *args,
            matches.subcommand_matches("serve").unwrap_or(&matches),
        ),
        Some(Command::Client(command)) => return cli::run(*command, Cli::command()),
    };
    // Which flags the command line gave: only those override a topology file.
    let given = |id: &str| serving.value_source(id) == Some(ValueSource::CommandLine);
    match run(args, &given) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("broker-sim: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(args: Args, given: &dyn Fn(&str) -> bool) -> Result<(), Box<dyn std::error::Error>> {
    let file = args.config.as_ref().map(ClusterConfig::load).transpose()?;
    let filter =
        EnvFilter::try_from_default_env().or_else(|_| EnvFilter::try_new(&args.log_level))?;
    // Logs go to stderr so that stdout carries only the bootstrap list and the control
    // address, for scripts.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    // A missing or malformed snapshot fails the start before anything is printed.
    let snapshot = match &args.snapshot {
        Some(path) => Some(broker_sim::Snapshot::load(path)?),
        None => None,
    };
    // The control port is bound before the brokers start, so a port in use fails the start
    // before anything is printed.
    let control = if args.no_control {
        None
    } else {
        Some(bind_control(&args.host, args.control_port)?)
    };

    let options = broker_sim::control::ControlOptions {
        token: args.control_token.clone().map(Into::into),
    };
    let data_dir = args.data_dir.clone();
    let mut builder = cluster_builder(args, file.as_ref(), given);
    if let Some(snapshot) = snapshot {
        builder = builder.snapshot(snapshot);
    }
    if let Some(dir) = data_dir {
        builder = builder.data_dir(dir);
    }
    let cluster = builder.start()?;
    if let Some(file) = &file {
        file.populate(&cluster)?;
    }
    let cluster = Arc::new(cluster);
    // Scripts read the first line as the bootstrap list; keep it first and alone.
    say(&cluster.bootstrap_servers());
    for listener in cluster.listeners() {
        if let Some(bootstrap) = cluster.bootstrap_servers_for(&listener.name) {
            tracing::info!(listener = %listener.name, protocol = %listener.protocol, %bootstrap, "listener");
        }
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let Some(listener) = control else {
            return tokio::signal::ctrl_c().await;
        };
        let addr = listener.local_addr()?;
        say(&format!("control=http://{addr}"));
        tracing::info!("control API listening on http://{addr}");
        let listener = tokio::net::TcpListener::from_std(listener)?;
        tokio::select! {
            served = broker_sim::control::serve_with(cluster.clone(), listener, options) => served,
            signal = tokio::signal::ctrl_c() => signal,
        }
    })?;
    tracing::info!("shutting down");
    // Shutting the runtime down drops the control connections and their handles on the
    // cluster (a control call still running gets a moment to finish); dropping the last
    // handle stops the brokers and frees the ports.
    runtime.shutdown_timeout(Duration::from_secs(5));
    drop(cluster);
    Ok(())
}

/// One line on stdout, for scripts. A script that stopped reading (`head -n 1`) must not
/// stop the cluster: a closed stdout is ignored, where `println!` would panic.
fn say(line: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// The cluster the flags describe, over the topology file if there is one: then a flag
/// with a default value counts only when given on the command line (flags without one
/// count whenever given; repeatable ones add to the file's).
fn cluster_builder(
    args: Args,
    file: Option<&ClusterConfig>,
    given: &dyn Fn(&str) -> bool,
) -> ClusterBuilder {
    let given = |id: &str| file.is_none() || given(id);
    // The binary's port is 9092 unless the file sets one.
    let port_given = given("port") || file.is_some_and(|f| f.port().is_none());
    let mut builder = file
        .map_or_else(Cluster::builder, ClusterConfig::builder)
        .when(given("brokers"), |b| b.brokers(args.brokers as usize))
        .when(given("host"), |b| b.host(args.host))
        .when(port_given, |b| b.port(args.port))
        .when(given("no_auto_create"), |b| {
            b.auto_create_topics(!args.no_auto_create)
        })
        .when(given("default_partitions"), |b| {
            b.default_partitions(args.default_partitions)
        })
        .when(given("group_initial_rebalance_delay_ms"), |b| {
            b.group_initial_rebalance_delay_ms(args.group_initial_rebalance_delay_ms)
        })
        .when(given("group_min_session_timeout_ms"), |b| {
            b.group_min_session_timeout_ms(args.group_min_session_timeout_ms)
        })
        .when(given("group_consumer_session_timeout_ms"), |b| {
            b.group_consumer_session_timeout_ms(args.group_consumer_session_timeout_ms)
        })
        .when(given("group_consumer_heartbeat_interval_ms"), |b| {
            b.group_consumer_heartbeat_interval_ms(args.group_consumer_heartbeat_interval_ms)
        })
        .when(given("group_max_session_timeout_ms"), |b| {
            b.group_max_session_timeout_ms(args.group_max_session_timeout_ms)
        })
        .when(given("rack_aware_replica_selector"), |b| {
            b.rack_aware_replica_selector(args.rack_aware_replica_selector)
        })
        .when(given("request_log_size"), |b| {
            b.request_log_size(args.request_log_size)
        })
        .when(given("seed"), |b| b.seed(args.seed));
    for (id, rack) in args.racks {
        builder = builder.broker_rack(id, rack);
    }
    if let Some(n) = args.group_max_size {
        builder = builder.group_max_size(n);
    }
    if let Some(n) = args.replication_factor {
        builder = builder.default_replication_factor(n);
    }
    if let Some(n) = args.message_max_bytes {
        builder = builder.message_max_bytes(n);
    }
    if let Some(n) = args.max_request_size {
        builder = builder.max_request_size(n);
    }
    if let Some(n) = args.max_connections {
        builder = builder.max_connections(n as usize);
    }
    if let Some(n) = args.min_insync_replicas {
        builder = builder.min_insync_replicas(n);
    }
    builder = builder
        .when(given("authorizer"), |b| b.authorizer(args.authorizer))
        .when(given("allow_everyone_if_no_acl_found"), |b| {
            b.allow_everyone_if_no_acl_found(args.allow_everyone_if_no_acl_found)
        });
    for principal in &args.super_users {
        builder = builder.super_user(principal);
    }
    if args.unclean_leader_election {
        builder = builder.unclean_leader_election(true);
    }
    if let Some(ms) = args.replica_lag_time_max_ms {
        builder = builder.replica_lag_time_max(Duration::from_millis(ms));
    }
    if let Some(ms) = args.replication_lag_ms {
        builder = builder.replication_lag(Duration::from_millis(ms));
    }
    if let Some(ms) = args.log_retention_check_interval_ms {
        builder = builder.log_retention_check_interval(Duration::from_millis(ms));
    }
    if let Some(minutes) = args.offsets_retention_minutes {
        builder = builder.offsets_retention(Duration::from_secs(minutes.saturating_mul(60)));
    }
    if let Some(ms) = args.offsets_retention_check_interval_ms {
        builder = builder.offsets_retention_check_interval(Duration::from_millis(ms));
    }
    if let Some(level) = args.transaction_version {
        builder = builder.transaction_version(level);
    }
    if let Some(ms) = args.transaction_max_timeout_ms {
        builder = builder.transaction_max_timeout(Duration::from_millis(ms));
    }
    if let Some(start) = args.manual_clock {
        builder = builder.manual_clock(start.unwrap_or_else(now_ms));
    }
    let mut tls = match (args.ssl_cert, args.ssl_key) {
        (Some(cert), Some(key)) => broker_sim::TlsConfig::from_pem_files(cert, key),
        _ => broker_sim::TlsConfig::default(),
    };
    if let Some(ca) = args.ssl_client_ca {
        tls = tls.client_ca(ca);
    }
    builder = builder.tls(tls.client_auth(args.ssl_client_auth));
    if let Some(n) = args.max_connections_per_ip {
        builder = builder.max_connections_per_ip(n as usize);
    }
    builder = builder
        .when(given("connections_max_idle_ms"), |b| {
            b.connections_max_idle(Duration::from_millis(args.connections_max_idle_ms))
        })
        .request_read_deadline(Duration::from_millis(args.request_read_deadline_ms))
        .request_memory_budget(args.request_memory_budget);
    for listener in args.listeners {
        builder = builder.listener(listener);
    }
    for (name, password) in args.sasl_users {
        builder = builder.sasl_user(name, password);
    }
    if !args.sasl_mechanisms.is_empty() {
        builder = builder.sasl_mechanisms(&args.sasl_mechanisms);
    }
    if let Some(ms) = args.connections_max_reauth_ms {
        builder = builder.connections_max_reauth(Duration::from_millis(ms));
    }
    for (name, partitions) in args.topics {
        builder = builder.topic(name, partitions);
    }
    builder
}

/// A builder call made only when `on`, to keep the flags' chain in one piece.
trait When: Sized {
    fn when(self, on: bool, f: impl FnOnce(Self) -> Self) -> Self {
        if on { f(self) } else { self }
    }
}

impl When for ClusterBuilder {}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn bind_control(host: &str, port: u16) -> Result<std::net::TcpListener, String> {
    let listener = std::net::TcpListener::bind((host, port))
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|e| {
            format!(
                "control API cannot listen on {host}:{port}: {e} (pick another with \
                 --control-port, 0 for any free port, or pass --no-control)"
            )
        })?;
    Ok(listener)
}
