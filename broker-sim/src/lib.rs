//! broker-sim: a Kafka cluster that runs inside a test process and speaks the real wire
//! protocol.
//!
//! Start one with [`Cluster::builder`], point any Kafka client at
//! [`Cluster::bootstrap_servers`], and read back what was written with [`Cluster::records`].
//!
//! ```no_run
//! let cluster = broker_sim::Cluster::builder()
//!     .brokers(3)
//!     .topic("orders", 6)
//!     .auto_create_topics(true)
//!     .start()
//!     .expect("cluster starts");
//! let bootstrap = cluster.bootstrap_servers();
//! // ... produce with any client ...
//! for record in cluster.records("orders") {
//!     println!("{}:{} {:?}", record.partition, record.offset, record.value_str());
//! }
//! ```
//!
//! Cargo features, all on by default: `tls` (SSL and SASL_SSL listeners), `control-api`
//! (`broker_sim::control`, the HTTP API and web console), `registry` (the schema
//! registry's Avro, JSON Schema and Protobuf support), `telemetry` (decoding the metrics
//! clients push, KIP-714) and `cli` (the `broker-sim` binary). A test crate that only
//! embeds clusters can take `default-features = false`: it builds in pure Rust, without a
//! C compiler, and what it left out refuses clearly (a TLS listener fails the start, a
//! schema is refused, naming the feature to add) or is left unread (pushed metrics).
//!
//! Layout, bottom up (each module uses only those before it; `tests/layers.rs` checks;
//! `error` to `state`, and `sasl`, are the crate `broker-sim-state`, re-exported here
//! under the same paths):
//! `error`, `clock`, `rng`, `config`; `storage`, durable mode's files (`--data-dir`); `state`, the cluster state (topics, partition logs,
//! replication, groups) and its rules; `faults`, the fault rules; `request_log`, the ring
//! of requests answered; `shared`, the runtime
//! core (state lock, clock, wake-ups); `api`, one file per Kafka API and the registry;
//! `pipeline`, the layers every request passes; `net`, sockets; `runtime`, the cluster's
//! thread; `cluster`, the embedding API; `schedule`, fault schedules as values (with
//! proptest strategies behind the `proptest` feature); `checks`, the history checkers;
//! `control`, the binary's HTTP API. The embedding API, the fault types, the schedules,
//! the checkers and the control server are public.

// The lower layers live in `broker-sim-state` (a crate of its own so that the two
// compile side by side); they keep their paths here, `crate::state` and the rest.
pub use broker_sim_state::registry;
pub(crate) use broker_sim_state::{clock, config, error, rng, sasl, security, state, storage};

// In layer order: each module uses only those above it (`tests/layers.rs` checks).
mod api;
pub mod checks;
mod cluster;
#[cfg(feature = "control-api")]
pub mod control;
pub mod faults;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod net;
mod pipeline;
mod request_log;
mod runtime;
pub mod schedule;
mod shared;
mod tls;

pub use api::{
    BEYOND_DEFAULT_KAFKA, NOT_SERVED, SUPPORTED_APIS, beyond_default_kafka_markdown,
    not_served_markdown,
};
pub use broker_sim_protocol::batch::NewRecord;
pub use broker_sim_protocol::partitioner::partition_for_key;
pub use broker_sim_protocol::versions::ApiSupport;
pub use cluster::{
    BatchInfo, BrokerStatus, Cluster, ClusterBuilder, ConsumerGroupInfo, GroupInfo, GroupOffset,
    GroupWait, MemberInfo, PartitionInfo, PartitionLag, ProducerInfo, Record, TransactionInfo,
    TxnStatus, WaitTimeout,
};
pub use cluster::{ClusterConfig, ConfigError};
pub use error::KafkaError;
pub use faults::{Fault, FaultAction, FaultId, FaultStatus, Selector};
pub use kafka_protocol::ResponseError;
pub use kafka_protocol::messages::ApiKey;
pub use registry::{
    Compatibility, DecodedValue, Mode, NewSchema, RegisteredSchema, RegistryError, SchemaById,
    SchemaReference, SchemaRegistry, SchemaType, SchemaViolation, ViolationReason,
};
pub use request_log::{
    DEFAULT_REQUEST_LOG_SIZE, RequestFilter, RequestLogEntry, RequestLogStatus, RequestTopic,
};
pub use security::{Listener, SaslMechanism, SecurityProtocol};
pub use state::acls::{
    AclBinding, AclFilter, Operation as AclOperation, PatternType, Permission, ResourceType,
};
pub use state::counters::{PartitionStats, TopicStats};
pub use state::groups::{GroupState, OffsetReset};
pub use state::history::{AssignedMember, CommitSource, History, HistoryEvent};
pub use state::log::Compaction;
pub use state::snapshot::{
    Snapshot, SnapshotAcl, SnapshotBatch, SnapshotBroker, SnapshotClock, SnapshotError,
    SnapshotGroup, SnapshotOffset, SnapshotPartition, SnapshotScram, SnapshotTopic, SnapshotUsers,
};
pub use state::telemetry::{ClientTelemetry, Subscription as ClientMetricsSubscription};
pub use state::{BrokerInfo, TopicSpec};
pub use tls::{ClientAuth, TlsConfig};
