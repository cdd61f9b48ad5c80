//! What the inspection API returns: plain values copied out of the state, so a test can
//! hold and compare them while the cluster goes on.

use bytes::Bytes;

use crate::state::groups::GroupState;

/// A broker as [`Cluster::broker_status`] shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BrokerStatus {
    pub id: i32,
    pub host: String,
    pub port: i32,
    /// Its `broker.rack`, if it has one.
    pub rack: Option<String>,
    /// Running (not stopped). An isolated broker is up but unreachable.
    pub up: bool,
    pub isolated: bool,
}

/// A partition as the inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionInfo {
    pub partition: i32,
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub log_start_offset: i64,
    pub high_watermark: i64,
    /// Where read_committed consumers stop: the first record of the oldest open
    /// transaction, else the high watermark.
    pub last_stable_offset: i64,
    /// Offsets below this have been through the log cleaner (compacted topics; 0
    /// otherwise): records superseded by a later one of their key may be gone.
    pub cleaned_to: i64,
}

/// A batch in a partition's log ([`Cluster::batches`](super::Cluster::batches)): where it
/// is, who wrote it, and its CRC, which names its content.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BatchInfo {
    pub base_offset: i64,
    pub last_offset: i64,
    /// -1 for a producer without an id.
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub base_sequence: i32,
    pub crc: u32,
    /// A transaction marker.
    pub control: bool,
    pub transactional: bool,
}

/// A stored record, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: i64,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(String, Option<Bytes>)>,
    /// Whether it was written in a transaction, and how that transaction ended.
    pub transaction: TxnStatus,
}

/// A record's place in transactions: what decides whether a read_committed consumer sees
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TxnStatus {
    /// Not written in a transaction: every consumer sees it.
    None,
    /// Its transaction committed: every consumer sees it.
    Committed,
    /// Its transaction aborted: read_committed consumers never see it.
    Aborted,
    /// Its transaction is still open: read_committed consumers wait for it to end.
    Open,
}

impl TxnStatus {
    /// Whether a read_committed consumer gets the record (once the transaction is over).
    pub fn is_visible_to_read_committed(self) -> bool {
        matches!(self, TxnStatus::None | TxnStatus::Committed)
    }
}

/// A transactional id as its coordinator sees it ([`Cluster::transaction`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TransactionInfo {
    pub transactional_id: String,
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// Kafka's state name: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit,
    /// CompleteAbort.
    pub state: String,
    pub timeout_ms: i32,
    /// When the current (or last) transaction started, in cluster time; -1 if none has.
    pub start_ms: i64,
    /// The partitions in the open transaction, (topic, partition) in order.
    pub partitions: Vec<(String, i32)>,
    /// Groups whose offsets the open transaction commits.
    pub groups: Vec<String>,
    /// The transaction version the producer uses (2: KIP-890).
    pub version: i16,
    /// The broker coordinating it now (FindCoordinator's answer), -1 if none is up.
    pub coordinator: i32,
}

/// A producer a partition knows ([`Cluster::producers`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProducerInfo {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// The sequence of its last retained batch, -1 if none.
    pub last_sequence: i32,
    pub last_timestamp: i64,
    /// The first offset of its open transaction here, if one is open.
    pub current_txn_start_offset: Option<i64>,
}

impl Record {
    /// The value as UTF-8, if it is.
    pub fn value_str(&self) -> Option<&str> {
        self.value
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The key as UTF-8, if it is.
    pub fn key_str(&self) -> Option<&str> {
        self.key
            .as_deref()
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The schema id of a value in Confluent's wire format (magic byte 0, then a big-endian
    /// 4-byte schema id, then the Avro/Protobuf/JSON payload), if it is in that format.
    pub fn value_schema_id(&self) -> Option<i32> {
        confluent_schema_id(self.value.as_deref()?)
    }

    /// The schema id of a key in Confluent's wire format, if it is in that format.
    pub fn key_schema_id(&self) -> Option<i32> {
        confluent_schema_id(self.key.as_deref()?)
    }
}

fn confluent_schema_id(bytes: &[u8]) -> Option<i32> {
    match bytes {
        [0, a, b, c, d, ..] => Some(i32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// A consumer group as the inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub group_id: String,
    /// For a consumer group of the new protocol: Empty, Stable, or PreparingRebalance
    /// while it is assigning or reconciling (its own state is in `consumer`).
    pub state: GroupState,
    /// "classic", or "consumer" for a group of the new protocol (KIP-848).
    pub group_type: String,
    /// The new protocol's group state, epochs and assignor; `None` for a classic group.
    pub consumer: Option<ConsumerGroupInfo>,
    /// "consumer" for Kafka consumers; "" before anyone joined.
    pub protocol_type: String,
    /// The selected protocol (for consumers, the assignor: "range", "cooperative-sticky").
    pub protocol: Option<String>,
    pub generation: i32,
    pub leader: Option<String>,
    /// In member-id order.
    pub members: Vec<MemberInfo>,
    /// Committed offsets, by topic then partition.
    pub offsets: Vec<GroupOffset>,
    /// The broker coordinating the group now (what FindCoordinator answers); `None` while
    /// every broker that could is down.
    pub coordinator: Option<i32>,
}

impl GroupInfo {
    pub fn member(&self, member_id: &str) -> Option<&MemberInfo> {
        self.members.iter().find(|m| m.member_id == member_id)
    }

    /// The committed offset of one partition.
    pub fn offset(&self, topic: &str, partition: i32) -> Option<i64> {
        self.offsets
            .iter()
            .find(|o| o.topic == topic && o.partition == partition)
            .map(|o| o.offset)
    }

    /// The sum of every committed partition's lag.
    pub fn total_lag(&self) -> i64 {
        self.offsets.iter().map(|o| o.lag).sum()
    }
}

/// What a consumer group of the new protocol (KIP-848) adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerGroupInfo {
    /// Empty, Assigning, Reconciling or Stable, as ConsumerGroupDescribe names it.
    pub state: String,
    pub group_epoch: i32,
    pub assignment_epoch: i32,
    /// The server-side assignor of the target assignment ("uniform", "range").
    pub assignor: String,
}

/// A group member as the inspection API shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    /// As Kafka prints it: "/127.0.0.1".
    pub client_host: String,
    pub session_timeout_ms: i32,
    pub rebalance_timeout_ms: i32,
    /// The member's assignment decoded as the consumer protocol: (topic, sorted
    /// partitions), topics sorted. Empty before the leader assigned, or for a group that
    /// does not use the consumer protocol. For a member of a consumer group of the new
    /// protocol, what it currently owns.
    pub assignment: Vec<(String, Vec<i32>)>,
    /// New protocol only: the member's epoch (-2 for a static member that left for now).
    pub member_epoch: Option<i32>,
    /// New protocol only: "stable", "unrevoked_partitions" or "unreleased_partitions".
    pub member_state: Option<String>,
    /// New protocol only: what the assignor wants the member to own; `assignment` moves
    /// towards it as the member reconciles.
    pub target_assignment: Vec<(String, Vec<i32>)>,
}

impl MemberInfo {
    /// The assigned (topic, partition) pairs.
    pub fn partitions(&self) -> Vec<(String, i32)> {
        self.assignment
            .iter()
            .flat_map(|(t, ps)| ps.iter().map(move |p| (t.clone(), *p)))
            .collect()
    }
}

/// A committed offset and the lag behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub metadata: Option<String>,
    pub leader_epoch: i32,
    pub high_watermark: i64,
    /// High watermark − committed offset (0 if the commit is ahead, -1 if the partition
    /// no longer exists).
    pub lag: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confluent_wire_format_schema_ids_are_read_from_keys_and_values() {
        let record = Record {
            topic: "t".into(),
            partition: 0,
            offset: 0,
            timestamp: 0,
            key: Some(Bytes::from_static(b"plain key")),
            value: Some(Bytes::from_static(&[0, 0, 0, 1, 44, 2, 4])),
            headers: Vec::new(),
            transaction: TxnStatus::None,
        };
        assert_eq!(record.value_schema_id(), Some(300));
        assert_eq!(record.key_schema_id(), None);
        let short = Record {
            value: Some(Bytes::from_static(&[0, 0, 1])),
            ..record
        };
        assert_eq!(short.value_schema_id(), None);
    }
}
