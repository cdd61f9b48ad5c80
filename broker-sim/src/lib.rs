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
//! Layout: `cluster` is the embedding API, `state` the cluster state (topics, partition
//! logs, replication, groups) and its rules, `handlers` one module per Kafka API, `faults`
//! the fault rules, `control` the binary's HTTP API, `server` the sockets; the embedding
//! API, the fault types and the control server are public.

mod clock;
mod cluster;
mod config;
pub mod control;
mod error;
pub mod faults;
mod handlers;
mod rng;
mod server;
mod state;
mod stats;

pub use broker_sim_protocol::batch::NewRecord;
pub use broker_sim_protocol::partitioner::partition_for_key;
pub use cluster::{
    BrokerStatus, Cluster, ClusterBuilder, GroupInfo, GroupOffset, MemberInfo, PartitionInfo,
    Record,
};
pub use error::KafkaError;
pub use faults::{Fault, FaultAction, FaultId, FaultStatus, Selector};
pub use kafka_protocol::ResponseError;
pub use kafka_protocol::messages::ApiKey;
pub use state::groups::{GroupState, OffsetReset};
pub use state::{BrokerInfo, TopicSpec};
pub use stats::{PartitionStats, TopicStats};
