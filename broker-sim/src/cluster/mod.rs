//! The embedding API: build, start, inspect and stop a cluster from a test.
//!
//! A [`Cluster`] owns the runtime (`crate::runtime`): a dedicated thread running its own
//! tokio runtime. Every inspection and control call locks the same state the brokers
//! serve from.
//!
//! Layout: `builder` has the settings and `start`; `views` the values inspection returns;
//! `inspect` reading and seeding topics, records and groups; `lifecycle` failures and
//! time; `faults` the fault-rule calls; `transactions` transactions and producers;
//! `history` what the checkers read; `telemetry` client metrics (KIP-714); `acls` ACL bindings;
//! `requests` the request log; `snapshot` snapshots and clusters started from them;
//! `registry` the embedded schema registry and the audit of records against it;
//! `topology` topology files (a cluster described in TOML); `waits` readiness and
//! quiescence waits; `durable` a data directory (`--data-dir`).

mod acls;
mod builder;
mod durable;
mod faults;
mod history;
mod inspect;
mod lifecycle;
mod registry;
mod requests;
mod snapshot;
mod telemetry;
mod topology;
mod transactions;
mod views;
mod waits;

pub use builder::ClusterBuilder;
pub use topology::{ClusterConfig, ConfigError};
pub use views::{
    BatchInfo, BrokerStatus, ConsumerGroupInfo, GroupInfo, GroupOffset, MemberInfo, PartitionInfo,
    ProducerInfo, Record, TransactionInfo, TxnStatus,
};
pub use waits::{GroupWait, PartitionLag, WaitTimeout};

use crate::runtime::Runtime;
use crate::shared::Shared;
use crate::state::BrokerInfo;

/// A running cluster. Dropping it stops every broker and frees its ports.
pub struct Cluster {
    runtime: Runtime,
    brokers: Vec<BrokerInfo>,
    /// What TLS listeners serve with, if there are any.
    tls: Option<std::sync::Arc<crate::tls::TlsMaterial>>,
}

impl Cluster {
    fn shared(&self) -> &Shared {
        &self.runtime.shared
    }

    /// Stops every broker, closes every connection and frees the ports.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.runtime.stop();
        durable::stopped(self.shared());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}
