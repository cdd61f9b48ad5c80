//! Snapshots: a cluster's data as one value, to prepare a test suite's data once and start
//! every test from its own copy.
//!
//! A [`Snapshot`] holds what a test would want back: the brokers (count and racks), the
//! topics (ids, replica lists, leaders and leader epochs, config overrides), every
//! partition's log as the stored batch bytes with their offsets (so keys, values, headers,
//! timestamps, producer fields and transaction markers all survive untouched), each
//! partition's idempotent-producer and transaction state, the transaction coordinator's
//! transactional ids, committed group offsets, dynamic broker configs, SASL users, ACLs,
//! the schema registry's content (`crate::registry::RegistryDump`, left out when empty),
//! the cluster id and the clock. It leaves out what belongs to live connections or to one
//! run: group members (a restored group is Empty), offsets committed inside transactions
//! not yet ended, quotas, client-metrics subscriptions, traffic counters, fault rules,
//! the checkers' history, reassignments in progress and stopped brokers (a fork starts
//! with every broker up and every replica in sync up to the high watermark). The static
//! broker settings (`auto.create.topics.enable`, group timeouts...) are the fork's
//! builder's, not the snapshot's. Producer and transaction state is kept in the serde
//! form of the state's own types (`producers`, `transactions`).
//!
//! Its JSON form is a versioned document (`{"format": "broker-sim-snapshot", "version":
//! 1, ...}`, batches in base64); [`Snapshot::from_json`] checks the format, the version
//! and that the data is consistent (offsets in order, replicas naming known brokers,
//! batch headers matching their offsets, CRCs) before a cluster is built from it, so a
//! bad file is refused with a message rather than served wrong. Batches are not decoded:
//! a fork starts as fast as a fresh cluster.
//!
//! `capture` takes a snapshot of a [`State`](super::State) under the state lock (cheap:
//! batch bytes are shared, not copied); `restore` fills a new state from one.

mod capture;
pub use capture::groups_snapshot;
mod restore;
mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::groups::CommittedOffset;
use super::producers::ProducerStates;
use super::transactions::Transaction;
use crate::registry::RegistryDump;

/// The `format` field of every snapshot document.
pub const FORMAT: &str = "broker-sim-snapshot";
/// The document version this build writes and reads.
pub const VERSION: u32 = 1;

/// Why a snapshot could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read snapshot {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("not a broker-sim snapshot: {0}")]
    Json(String),
    #[error("not a broker-sim snapshot: format is {0:?}, expected \"broker-sim-snapshot\"")]
    WrongFormat(String),
    #[error("unsupported snapshot version {0} (this broker-sim reads version 1)")]
    UnsupportedVersion(u32),
    #[error("inconsistent snapshot: {0}")]
    Inconsistent(String),
}

/// A cluster's data at one moment; see the module doc for what it holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    pub version: u32,
    pub cluster_id: String,
    pub clock: SnapshotClock,
    /// In id order; ids are 1..=n.
    pub brokers: Vec<SnapshotBroker>,
    /// The next producer id InitProducerId hands out, so a fork never reuses one.
    pub next_producer_id: i64,
    /// In name order.
    pub topics: Vec<SnapshotTopic>,
    /// In id order.
    pub groups: Vec<SnapshotGroup>,
    /// The transaction coordinator's transactional ids, in id order.
    #[serde(default)]
    pub transactions: Vec<Transaction>,
    /// Dynamic broker configs: "" (cluster-wide) or a broker id → name → value.
    #[serde(default)]
    pub broker_configs: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub users: SnapshotUsers,
    #[serde(default)]
    pub acls: Vec<SnapshotAcl>,
    /// The schema registry's schemas, subjects and settings.
    #[serde(default, skip_serializing_if = "RegistryDump::is_empty")]
    pub schema_registry: RegistryDump,
}

/// The cluster clock when the snapshot was taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotClock {
    /// Milliseconds since the Unix epoch.
    pub now_ms: i64,
    /// Whether the cluster ran on a manual clock: a fork then starts a manual clock at
    /// `now_ms` (unless its builder sets one).
    pub manual: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotBroker {
    pub id: i32,
    #[serde(default)]
    pub rack: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTopic {
    pub name: String,
    /// The topic id (a UUID).
    pub id: String,
    /// The topic's own config overrides.
    #[serde(default)]
    pub configs: BTreeMap<String, String>,
    /// In index order, from 0.
    pub partitions: Vec<SnapshotPartition>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotPartition {
    pub index: i32,
    pub replicas: Vec<i32>,
    /// The leader, one of `replicas` (a fork starts with every broker up).
    pub leader: i32,
    pub leader_epoch: i32,
    /// (epoch, start offset) of each leader epoch (OffsetForLeaderEpoch).
    #[serde(default)]
    pub epochs: Vec<(i32, i64)>,
    pub log_start_offset: i64,
    pub high_watermark: i64,
    pub log_end_offset: i64,
    /// The base offset of the log's active segment (the cleaner leaves it alone).
    #[serde(default)]
    pub active_segment_base: i64,
    /// Where the log cleaner's last compaction ended.
    #[serde(default)]
    pub cleaned_to: i64,
    /// The stored batches, in offset order.
    pub batches: Vec<SnapshotBatch>,
    /// Idempotent producers' epochs and last batches, open and aborted transactions.
    #[serde(default)]
    pub producers: ProducerStates,
}

/// One stored batch: its bytes as the log holds them, and what the log keeps beside them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotBatch {
    pub base_offset: i64,
    pub last_offset: i64,
    /// The largest record timestamp, as computed at append (or the log append time).
    pub max_timestamp: i64,
    /// The cluster time it was appended.
    pub appended_at: i64,
    /// When the cleaner may drop its tombstones, once it has cleaned it (KIP-534).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_horizon: Option<i64>,
    /// The batch, base64.
    #[serde(with = "base64_bytes")]
    pub bytes: Bytes,
}

/// A group's committed offsets; its members are not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotGroup {
    pub id: String,
    /// "classic" or "consumer" (KIP-848).
    #[serde(rename = "type", default = "classic")]
    pub kind: String,
    #[serde(default)]
    pub protocol_type: Option<String>,
    /// In (topic, partition) order.
    pub offsets: Vec<SnapshotOffset>,
}

fn classic() -> String {
    "classic".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    #[serde(default = "minus_one")]
    pub leader_epoch: i32,
    #[serde(default)]
    pub metadata: Option<String>,
    #[serde(default)]
    pub commit_timestamp: i64,
}

fn minus_one() -> i32 {
    -1
}

impl SnapshotOffset {
    fn committed(&self) -> CommittedOffset {
        CommittedOffset {
            offset: self.offset,
            leader_epoch: self.leader_epoch,
            metadata: self.metadata.clone(),
            commit_timestamp: self.commit_timestamp,
        }
    }
}

/// SASL users: PLAIN passwords and SCRAM credentials.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotUsers {
    /// User → PLAIN password.
    #[serde(default)]
    pub plain: BTreeMap<String, String>,
    #[serde(default)]
    pub scram: Vec<SnapshotScram>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotScram {
    pub user: String,
    /// "SCRAM-SHA-256" or "SCRAM-SHA-512".
    pub mechanism: String,
    #[serde(with = "base64_bytes")]
    pub salt: Bytes,
    #[serde(with = "base64_bytes")]
    pub salted_password: Bytes,
    pub iterations: i32,
}

/// An ACL binding, with Kafka's names for its enums ("TOPIC", "LITERAL", "READ", "ALLOW").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotAcl {
    pub resource_type: String,
    pub resource_name: String,
    pub pattern_type: String,
    pub principal: String,
    pub host: String,
    pub operation: String,
    pub permission: String,
}

/// Only the fields that say what a document is, read first so that a file of another
/// kind or version is named as such rather than as a missing field.
#[derive(Deserialize)]
struct Header {
    format: Option<String>,
    version: Option<u32>,
}

impl Snapshot {
    /// The JSON document.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a snapshot always serializes")
    }

    /// Writes the JSON document to `writer`.
    pub fn to_writer<W: std::io::Write>(&self, writer: W) -> std::io::Result<()> {
        serde_json::to_writer(writer, self).map_err(std::io::Error::other)
    }

    /// Reads a JSON document, checking its format, version and consistency.
    pub fn from_json(text: &str) -> Result<Snapshot, SnapshotError> {
        let header: Header =
            serde_json::from_str(text).map_err(|e| SnapshotError::Json(e.to_string()))?;
        match header.format.as_deref() {
            Some(FORMAT) => {}
            Some(other) => return Err(SnapshotError::WrongFormat(other.to_string())),
            None => return Err(SnapshotError::Json("no \"format\" field".into())),
        }
        match header.version {
            Some(VERSION) => {}
            Some(other) => return Err(SnapshotError::UnsupportedVersion(other)),
            None => return Err(SnapshotError::Json("no \"version\" field".into())),
        }
        let snapshot: Snapshot =
            serde_json::from_str(text).map_err(|e| SnapshotError::Json(e.to_string()))?;
        snapshot.validate()?;
        Ok(snapshot)
    }

    /// Writes the JSON document to `path` (through a buffer).
    pub fn save(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let file = std::fs::File::create(path)?;
        let mut writer = std::io::BufWriter::new(file);
        self.to_writer(&mut writer)?;
        std::io::Write::flush(&mut writer)
    }

    /// Reads and checks the JSON document at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<Snapshot, SnapshotError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| SnapshotError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// How many brokers the snapshot's cluster has.
    pub fn broker_count(&self) -> usize {
        self.brokers.len()
    }

    /// The offsets data batches span in every log (a compacted batch counts its whole
    /// span; transaction markers are not counted).
    pub fn record_count(&self) -> u64 {
        self.topics
            .iter()
            .flat_map(|t| &t.partitions)
            .flat_map(|p| &p.batches)
            .filter(|b| !b.is_control())
            .map(|b| (b.last_offset - b.base_offset + 1) as u64)
            .sum()
    }
}

impl SnapshotBatch {
    /// Whether the batch is a transaction marker (a control batch), from its attributes.
    pub fn is_control(&self) -> bool {
        broker_sim_protocol::batch::BatchView::parse(&self.bytes).is_ok_and(|v| v.is_control())
    }
}

/// `Bytes` as a base64 string (standard alphabet, padded).
mod base64_bytes {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use bytes::Bytes;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &Bytes, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Bytes, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        STANDARD
            .decode(text.as_bytes())
            .map(Bytes::from)
            .map_err(|e| serde::de::Error::custom(format!("invalid base64: {e}")))
    }
}
