//! [`ClusterBuilder`]: every setting a cluster starts with, and `start`, which binds each
//! broker's listener on the caller's thread (so `bootstrap_servers()` works at once) and
//! hands the brokers to the runtime.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use super::Cluster;
use crate::clock::Clock;
use crate::config::BrokerConfig;
use crate::net::BrokerNet;
use crate::runtime::Runtime;
use crate::security::{Listener, SaslMechanism};
use crate::shared::Shared;
use crate::state::{BrokerInfo, State, TopicSpec};

/// Configures and starts a [`Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    brokers: usize,
    host: String,
    port: u16,
    topics: Vec<TopicSpec>,
    seed: u64,
    config: BrokerConfig,
    replication_factor: Option<i16>,
    worker_threads: Option<usize>,
    manual_clock: Option<i64>,
    replication_lag_ms: i64,
    /// `broker.rack` of broker id `i + 1`, where set.
    racks: Vec<Option<String>>,
    /// Whether `listener` was called: the first call replaces the default PLAINTEXT one.
    listeners_given: bool,
    /// SASL users: (name, password).
    users: Vec<(String, String)>,
    /// Certificates of SSL and SASL_SSL listeners; generated when None.
    tls: Option<crate::tls::TlsConfig>,
    /// The data to start with (`snapshot.rs`).
    snapshot: Option<crate::state::snapshot::Snapshot>,
    /// Entries the request log keeps; 0 turns it off.
    request_log_size: usize,
    /// Schemas to register at start, in order (`registry.rs`).
    pub(super) schemas: Vec<(String, crate::registry::NewSchema)>,
    /// Durable mode's data directory (`durable.rs`).
    data_dir: Option<std::path::PathBuf>,
}

impl Default for ClusterBuilder {
    fn default() -> Self {
        ClusterBuilder {
            brokers: 3,
            host: "127.0.0.1".into(),
            port: 0,
            topics: Vec::new(),
            seed: 0,
            config: BrokerConfig::default(),
            replication_factor: None,
            worker_threads: None,
            manual_clock: None,
            replication_lag_ms: 0,
            racks: Vec::new(),
            listeners_given: false,
            users: Vec::new(),
            tls: None,
            snapshot: None,
            request_log_size: crate::request_log::DEFAULT_REQUEST_LOG_SIZE,
            schemas: Vec::new(),
            data_dir: None,
        }
    }
}

impl ClusterBuilder {
    /// Number of brokers (ids 1..=n). Default 3.
    pub fn brokers(mut self, n: usize) -> Self {
        self.brokers = n.max(1);
        self
    }

    /// `broker.rack` of broker `id` (KIP-392): Metadata and DescribeCluster report it,
    /// new topics spread their replicas over racks once every broker has one, and with
    /// [`ClusterBuilder::rack_aware_replica_selector`] consumers that say their
    /// `client.rack` read from a replica in it.
    pub fn broker_rack(mut self, id: i32, rack: impl Into<String>) -> Self {
        if let Ok(i) = usize::try_from(id - 1) {
            if self.racks.len() <= i {
                self.racks.resize(i + 1, None);
            }
            self.racks[i] = Some(rack.into());
        }
        self
    }

    /// `replica.selector.class=RackAwareReplicaSelector`: a leader tells a consumer whose
    /// `client.rack` differs from its own to fetch from an in-sync replica in that rack
    /// (Fetch's `preferred_read_replica`). Off by default, as in Kafka.
    pub fn rack_aware_replica_selector(mut self, on: bool) -> Self {
        self.config.rack_aware_replica_selector = on;
        self
    }

    /// A listener every broker has (Kafka's `listeners` with
    /// `listener.security.protocol.map`). Without one, brokers have a single PLAINTEXT
    /// listener; the first call replaces it, later calls add more. The first listener is
    /// the one [`Cluster::bootstrap_servers`] names; a client is told the addresses of the
    /// listener it connected to ([`Cluster::bootstrap_servers_for`]).
    pub fn listener(mut self, listener: Listener) -> Self {
        if !self.listeners_given {
            self.config.security.listeners.clear();
            self.listeners_given = true;
        }
        self.config.security.listeners.push(listener);
        self
    }

    /// A user SASL listeners accept, with PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 (its
    /// SCRAM credentials are salted from the password at 4096 iterations).
    pub fn sasl_user(mut self, name: impl Into<String>, password: impl Into<String>) -> Self {
        self.users.push((name.into(), password.into()));
        self
    }

    /// Kafka's `sasl.enabled.mechanisms`. Default all of PLAIN, SCRAM-SHA-256,
    /// SCRAM-SHA-512 and OAUTHBEARER (unsecured tokens).
    pub fn sasl_mechanisms(mut self, mechanisms: &[SaslMechanism]) -> Self {
        self.config.security.sasl_mechanisms = mechanisms.to_vec();
        self
    }

    /// Kafka's `connections.max.reauth.ms` (KIP-368): SASL sessions expire after this
    /// long on the cluster clock and clients re-authenticate on the same connection.
    /// Default 0: sessions never expire.
    pub fn connections_max_reauth(mut self, after: Duration) -> Self {
        self.config.security.max_reauth_ms = after.as_millis().min(i64::MAX as u128) as i64;
        self
    }

    /// The certificates SSL and SASL_SSL listeners present and how they check clients'
    /// (`ssl.client.auth`). Default: a CA and broker certificate generated at start
    /// ([`Cluster::tls_ca_pem`], [`Cluster::tls_client_certificate`]), no client
    /// certificates asked for.
    pub fn tls(mut self, config: crate::tls::TlsConfig) -> Self {
        self.tls = Some(config);
        self
    }

    /// Kafka's `max.connections.per.ip`: a broker closes a new connection from an address
    /// that already has this many open to it. Default unbounded, as in Kafka.
    pub fn max_connections_per_ip(mut self, n: usize) -> Self {
        self.config.security.limits.max_per_ip = Some(n.max(1));
        self
    }

    /// Kafka's `connections.max.idle.ms`: a connection that sends no request for this
    /// long is closed, and so is one whose client does not read an answer for as long.
    /// Real time. Default 10 minutes, as in Kafka.
    pub fn connections_max_idle(mut self, after: Duration) -> Self {
        self.config.security.limits.max_idle_ms = (after.as_millis() as u64).max(1);
        self
    }

    /// How long a request may take to arrive once its first byte has: a client that
    /// trickles a request, or announces a large one and stops, is disconnected. Real
    /// time. Default 60 s.
    pub fn request_read_deadline(mut self, within: Duration) -> Self {
        self.config.security.limits.request_read_deadline_ms = (within.as_millis() as u64).max(1);
        self
    }

    /// How much memory the brokers together may spend decoding large requests (over 256
    /// KiB) at once, counted as 40 times a request's size: large requests beyond it wait
    /// their turn, and one whose estimate alone exceeds it is refused (its connection
    /// closed). Default 1 GiB, so requests up to 25 MiB are served.
    pub fn request_memory_budget(mut self, bytes: usize) -> Self {
        self.config.security.limits.request_memory_budget = bytes.max(1024);
        self
    }

    /// Address to listen on. Default 127.0.0.1.
    pub fn host(mut self, host: impl Into<String>) -> Self {
        self.host = host.into();
        self
    }

    /// Port of the first broker on the first listener (unless the listener sets its own);
    /// the others take the following ports. Default 0: every broker gets an ephemeral
    /// port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// A topic to create at start, with default replication.
    pub fn topic(mut self, name: impl Into<String>, partitions: i32) -> Self {
        self.topics.push(TopicSpec::new(name, partitions));
        self
    }

    /// A topic to create at start with configs, e.g. `max.message.bytes`.
    pub fn topic_with_configs(
        mut self,
        name: impl Into<String>,
        partitions: i32,
        configs: &[(&str, &str)],
    ) -> Self {
        let mut spec = TopicSpec::new(name, partitions);
        spec.configs = to_config_map(configs);
        self.topics.push(spec);
        self
    }

    /// A topic to create at start as `spec` describes it: partitions, replication factor
    /// or replica assignment, configs.
    pub fn topic_with(mut self, spec: TopicSpec) -> Self {
        self.topics.push(spec);
        self
    }

    /// Kafka's `auto.create.topics.enable`. Default true, as in Kafka.
    pub fn auto_create_topics(mut self, enabled: bool) -> Self {
        self.config.auto_create_topics = enabled;
        self
    }

    /// Kafka's `num.partitions` for auto-created topics. Default 1.
    pub fn default_partitions(mut self, n: i32) -> Self {
        self.config.num_partitions = n.max(1);
        self
    }

    /// Kafka's `default.replication.factor`. Default min(3, brokers).
    pub fn default_replication_factor(mut self, n: i16) -> Self {
        self.replication_factor = Some(n.max(1));
        self
    }

    /// Kafka's `message.max.bytes`: the `max.message.bytes` of topics that do not set their
    /// own. Default 1048588.
    pub fn message_max_bytes(mut self, n: i32) -> Self {
        self.config.message_max_bytes = n;
        self
    }

    /// Kafka's `socket.request.max.bytes`: larger frames close the connection. Default 100 MiB.
    pub fn max_request_size(mut self, bytes: usize) -> Self {
        self.config.max_request_size = bytes;
        self
    }

    /// Seed for every identifier the cluster makes up (cluster id, topic ids).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Kafka's `group.initial.rebalance.delay.ms`: how long an empty group's first
    /// rebalance waits for more members. Default 0 (Kafka's is 3000), so a test's first
    /// consumer is assigned at once.
    pub fn group_initial_rebalance_delay_ms(mut self, ms: i32) -> Self {
        self.config.group.initial_rebalance_delay_ms = ms.max(0);
        self
    }

    /// Kafka's `group.min.session.timeout.ms`: shorter consumer sessions are refused with
    /// INVALID_SESSION_TIMEOUT. Default 6000; lower it to test session expiry quickly.
    pub fn group_min_session_timeout_ms(mut self, ms: i32) -> Self {
        self.config.group.min_session_timeout_ms = ms.max(0);
        self
    }

    /// Kafka's `group.consumer.session.timeout.ms`: how long a member of a consumer
    /// group of the new protocol (KIP-848, `group.protocol=consumer`) lives without a
    /// heartbeat. Default 45000.
    pub fn group_consumer_session_timeout_ms(mut self, ms: i32) -> Self {
        self.config.group.consumer_session_timeout_ms = ms.max(1);
        self
    }

    /// Kafka's `group.consumer.heartbeat.interval.ms`: how often KIP-848 members
    /// heartbeat, and so how soon they learn of a new assignment. Default 5000; lower it
    /// for tests whose consumers join and leave.
    pub fn group_consumer_heartbeat_interval_ms(mut self, ms: i32) -> Self {
        self.config.group.consumer_heartbeat_interval_ms = ms.max(1);
        self
    }

    /// Kafka's `group.max.session.timeout.ms`. Default 1800000.
    pub fn group_max_session_timeout_ms(mut self, ms: i32) -> Self {
        self.config.group.max_session_timeout_ms = ms.max(0);
        self
    }

    /// Kafka's `group.max.size`: joins beyond it get GROUP_MAX_SIZE_REACHED. Default
    /// unbounded.
    pub fn group_max_size(mut self, n: i32) -> Self {
        self.config.group.max_size = n.max(1);
        self
    }

    /// Kafka's `offsets.retention.minutes`: committed offsets of a group without members
    /// are removed this long after the group's last member left (after their commit for
    /// offsets committed without a group, and for offsets of topics a group does not
    /// subscribe to), and a group without members or offsets is deleted. Checked every
    /// [`offsets_retention_check_interval`](Self::offsets_retention_check_interval) on the
    /// cluster clock. Default 7 days, as in Kafka.
    pub fn offsets_retention(mut self, retention: Duration) -> Self {
        self.config.group.offsets_retention_ms = (retention.as_millis() as i64).max(1);
        self
    }

    /// Kafka's `offsets.retention.check.interval.ms`: how often expired offsets and empty
    /// groups are removed. Default 10 minutes, as in Kafka.
    pub fn offsets_retention_check_interval(mut self, every: Duration) -> Self {
        self.config.group.offsets_retention_check_interval_ms = (every.as_millis() as i64).max(1);
        self
    }

    /// Kafka's `min.insync.replicas` for topics that do not set their own: acks=all
    /// writes fail with NOT_ENOUGH_REPLICAS when fewer replicas are in sync. Default 1.
    pub fn min_insync_replicas(mut self, n: i32) -> Self {
        self.config.min_insync_replicas = n.max(1);
        self
    }

    /// Runs an authorizer with Kafka's `StandardAuthorizer` semantics: requests are
    /// judged by ACLs (CreateAcls, `Cluster::add_acl`), and the ACL APIs work. Off by
    /// default, as in Kafka, where every request is allowed.
    pub fn authorizer(mut self, enabled: bool) -> Self {
        self.config.authorizer.enabled = enabled;
        self
    }

    /// Adds a principal ("User:admin") to Kafka's `super.users`, allowed everything.
    pub fn super_user(mut self, principal: &str) -> Self {
        self.config
            .authorizer
            .super_users
            .push(principal.to_string());
        self
    }

    /// Kafka's `allow.everyone.if.no.acl.found`: whether a resource no ACL names is open
    /// to everyone. Default false, as in Kafka.
    pub fn allow_everyone_if_no_acl_found(mut self, allow: bool) -> Self {
        self.config.authorizer.allow_everyone_if_no_acl_found = allow;
        self
    }

    /// Kafka's `unclean.leader.election.enable` for topics that do not set their own:
    /// whether an out-of-sync replica may take over (losing records) when no in-sync one
    /// is up. Default false.
    pub fn unclean_leader_election(mut self, enabled: bool) -> Self {
        self.config.unclean_leader_election = enabled;
        self
    }

    /// Kafka's `replica.lag.time.max.ms`: how long a follower may go without catching up
    /// before it leaves the ISR. Default 30 s.
    pub fn replica_lag_time_max(mut self, max: Duration) -> Self {
        self.config.replica_lag_time_max_ms = max.as_millis() as i64;
        self
    }

    /// How long after an append followers copy it. Default zero: followers copy at once,
    /// so acks=all answers immediately and the high watermark is the log end. With a lag,
    /// acks=all waits for it and consumers see records that much later.
    pub fn replication_lag(mut self, lag: Duration) -> Self {
        self.replication_lag_ms = lag.as_millis() as i64;
        self
    }

    /// A manual clock starting at `start_ms` (milliseconds since the Unix epoch): the
    /// cluster's time then moves only with [`Cluster::advance`], which fires session and
    /// rebalance timeouts, replication lag and long-poll waits at once. Record timestamps
    /// the broker assigns (LogAppendTime) come from it too.
    pub fn manual_clock(mut self, start_ms: i64) -> Self {
        self.manual_clock = Some(start_ms);
        self
    }

    /// Kafka's `log.retention.check.interval.ms`: how often `retention.ms` and
    /// `retention.bytes` are enforced. Default 5 minutes, as in Kafka; lower it to see
    /// retention act in a real-time test ([`Cluster::advance`] always enforces it).
    pub fn log_retention_check_interval(mut self, every: Duration) -> Self {
        self.config.log_retention_check_interval_ms = (every.as_millis() as i64).max(1);
        self
    }

    /// Kafka's `max.connections`: how many connections each broker holds at once. At the
    /// limit a broker accepts nothing more until one closes, as Kafka's acceptor does, so
    /// a new client's connection waits. Default unbounded, as in Kafka.
    pub fn max_connections(mut self, n: usize) -> Self {
        self.config.max_connections = Some(n.max(1));
        self
    }

    /// The `transaction.version` feature level the cluster finalizes (0–2). Default 2, as
    /// a fresh Kafka 4.1 cluster: the Java client 4.x then uses KIP-890 transactions
    /// (an epoch bump per transaction, partitions added by the broker). 1 runs the
    /// transaction protocol of Kafka 3.x clusters.
    pub fn transaction_version(mut self, level: i16) -> Self {
        self.config.transactions.version = level.clamp(0, 2);
        self
    }

    /// Kafka's `transaction.max.timeout.ms`: the longest `transaction.timeout.ms` a
    /// producer may ask for. Default 15 minutes.
    pub fn transaction_max_timeout(mut self, max: Duration) -> Self {
        self.config.transactions.max_timeout_ms = max.as_millis().clamp(1, i32::MAX as u128) as i32;
        self
    }

    /// Kafka's `transactional.id.expiration.ms`: a transactional id unused this long is
    /// forgotten. Default 7 days.
    pub fn transactional_id_expiration(mut self, after: Duration) -> Self {
        self.config.transactions.id_expiration_ms = (after.as_millis() as i64).max(1);
        self
    }

    /// How many events the cluster's history keeps for the checkers
    /// ([`crate::checks`]): acknowledged produces, fetch answers, assignments, commits and
    /// transaction outcomes. Default 500,000; 0 turns recording off. Past the limit
    /// recording stops and checks report the history as truncated.
    pub fn history_limit(mut self, events: usize) -> Self {
        self.config.history_limit = events;
        self
    }

    /// Starts with `snapshot`'s data ([`Cluster::snapshot`]): its brokers (the count
    /// replaces [`brokers`](Self::brokers); racks set here win), topics, records,
    /// committed offsets, configs, users, ACLs and cluster id. Every other setting applies
    /// as usual; the clock is this builder's manual clock if set, else a manual clock at the
    /// snapshot's time if the snapshot's cluster had one, else the system clock. Topics
    /// given with [`topic`](Self::topic) are created unless the snapshot has them.
    pub fn snapshot(mut self, snapshot: crate::state::snapshot::Snapshot) -> Self {
        self.snapshot = Some(snapshot);
        self
    }

    /// How many requests the request log keeps ([`Cluster::requests`]): the oldest leave
    /// once it is full. Default 10,000; 0 turns the log off.
    pub fn request_log_size(mut self, entries: usize) -> Self {
        self.request_log_size = entries;
        self
    }

    /// Gives the cluster a tokio runtime of its own with `n` worker threads. By default
    /// every cluster of the process shares one runtime (as many workers as cores, at least
    /// two), which makes starting and dropping a cluster cost microseconds.
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = Some(n.max(1));
        self
    }

    /// Keeps the cluster's data in `dir` (durable mode; the default keeps it in memory):
    /// topics, records, committed offsets, idempotent producers, transactions, configs,
    /// users and ACLs survive a restart of the process, however it stopped. A directory
    /// that holds a cluster is started from (its broker count replaces `brokers`, as a
    /// snapshot's does); an empty one is created. Appends are fsynced as the topics'
    /// `flush.messages` / `flush.ms` (broker-wide `log.flush.interval.*`) say, by default
    /// never, as in Kafka.
    pub fn data_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Binds every broker's listeners and starts serving.
    pub fn start(mut self) -> std::io::Result<Cluster> {
        let mut snapshot = self.snapshot.take();
        let opened = match &self.data_dir {
            Some(dir) => Some(super::durable::open(dir, &mut snapshot)?),
            None => None,
        };
        if let Some(s) = &snapshot {
            super::snapshot::adopt_brokers(s, &mut self.brokers, &mut self.racks);
        }
        let listeners_config = self.config.security.listeners.clone();
        let config_limits = self.config.security.limits;
        let tls = if listeners_config.iter().any(|l| l.protocol.tls()) {
            let config = self.tls.clone().unwrap_or_default();
            let material = crate::tls::TlsMaterial::new(&config, &self.host)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
            Some(Arc::new(material))
        } else {
            None
        };
        if listeners_config.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a cluster needs at least one listener",
            ));
        }
        let mut listeners = Vec::with_capacity(self.brokers);
        let mut brokers = Vec::with_capacity(self.brokers);
        for i in 0..self.brokers {
            let mut bound = Vec::with_capacity(listeners_config.len());
            let mut ports = Vec::with_capacity(listeners_config.len());
            for (l, listener) in listeners_config.iter().enumerate() {
                let first = match (l, listener.port) {
                    (0, 0) => self.port,
                    (_, port) => port,
                };
                let port = match first {
                    0 => 0,
                    first => u16::try_from(i)
                        .ok()
                        .and_then(|i| first.checked_add(i))
                        .ok_or_else(|| {
                            std::io::Error::new(
                                std::io::ErrorKind::InvalidInput,
                                format!(
                                    "{} brokers from port {first} run past port 65535",
                                    self.brokers
                                ),
                            )
                        })?,
                };
                let socket = bind(&self.host, port).map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!(
                            "broker {} cannot listen on {}:{port} ({}): {e}",
                            i + 1,
                            self.host,
                            listener.name
                        ),
                    )
                })?;
                ports.push(socket.local_addr()?.port() as i32);
                bound.push(socket);
            }
            brokers.push(BrokerInfo {
                id: i as i32 + 1,
                host: self.host.clone(),
                port: ports.first().copied().unwrap_or_default(),
                rack: self.racks.get(i).cloned().flatten(),
                listener_ports: ports,
            });
            listeners.push(bound);
        }
        let mut config = self.config;
        config.default_replication_factor = self
            .replication_factor
            .unwrap_or(self.brokers.min(3) as i16);
        let clock = match self.manual_clock {
            Some(start) => Clock::manual(start),
            None => super::snapshot::clock_for(snapshot.as_ref()),
        };
        let mut state = State::new(self.seed, brokers.clone(), config);
        let restored: Vec<String> = snapshot
            .iter()
            .flat_map(|s| &s.topics)
            .map(|t| t.name.clone())
            .collect();
        let registry = snapshot.as_ref().map(|s| s.schema_registry.clone());
        if let Some(s) = snapshot {
            state.restore(s, clock.now_ms());
        }
        state.set_replication_lag(self.replication_lag_ms, clock.now_ms());
        state.start_retention(clock.now_ms());
        for (name, password) in &self.users {
            state.add_user(name, password);
        }
        for spec in self.topics.iter().filter(|t| !restored.contains(&t.name)) {
            state
                .create_topic(spec)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        }
        let admission = Arc::new(crate::net::limits::Admission::new(&config_limits));
        let nets = brokers
            .iter()
            .zip(listeners)
            .map(|(b, l)| {
                let protocols = listeners_config.iter().map(|l| l.protocol).collect();
                let server = tls.as_ref().map(|t| t.acceptor());
                Arc::new(BrokerNet::new(
                    b.id,
                    l,
                    protocols,
                    server,
                    admission.clone(),
                ))
            })
            .collect();
        let storage = opened
            .map(|o| super::durable::attach(o, &mut state, clock.now_ms(), clock.is_manual()))
            .transpose()?;
        let shared = Arc::new(Shared::new(state, clock, self.seed));
        if let Some(storage) = storage {
            let _ = shared.storage.set(storage);
        }
        shared.requests.set_capacity(self.request_log_size);
        if let Some(dump) = registry.filter(|d| !d.is_empty()) {
            shared.registry.import(&dump).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("the snapshot's schema registry: {e}"),
                )
            })?;
        }
        super::registry::seed(&shared.registry, std::mem::take(&mut self.schemas))?;
        let runtime = Runtime::start(shared, nets, self.worker_threads)?;
        tracing::info!(bootstrap = %bootstrap(&brokers), "cluster started");
        Ok(Cluster {
            runtime,
            brokers,
            tls,
        })
    }
}

pub(super) fn to_config_map(configs: &[(&str, &str)]) -> BTreeMap<String, String> {
    configs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

pub(super) fn bootstrap(brokers: &[BrokerInfo]) -> String {
    bootstrap_on(brokers, 0)
}

/// The brokers' addresses on listener `index`.
pub(super) fn bootstrap_on(brokers: &[BrokerInfo], index: usize) -> String {
    brokers
        .iter()
        .map(|b| format!("{}:{}", b.host, b.port_on(index)))
        .collect::<Vec<_>>()
        .join(",")
}

/// A non-blocking listening socket, as the broker's task takes it up.
pub(super) fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    let socket = TcpListener::bind((host, port))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}
