//! Topic and broker configuration: Kafka 4.1's names, types and defaults.
//!
//! Topics store only their overrides; every read merges them over the defaults here, so
//! DescribeConfigs reports Kafka's defaults with `DEFAULT_CONFIG` as their source and an
//! override with `DYNAMIC_TOPIC_CONFIG`, as a real broker does. Unknown names and values
//! of the wrong type are refused with INVALID_CONFIG.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;

use crate::error::KafkaError;

/// Kafka's `ConfigType` as DescribeConfigs v3+ reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigType {
    Boolean = 1,
    String = 2,
    Int = 3,
    Long = 5,
    Double = 6,
    List = 7,
}

/// Kafka's `ConfigSource` as DescribeConfigs v1+ reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigSource {
    DynamicTopic = 1,
    /// Set at run time for one broker.
    DynamicBroker = 2,
    /// A cluster-wide dynamic default. Kafka 4.1 records `min.insync.replicas` so when a
    /// cluster is formatted (eligible leader replicas, KIP-966), and reports it so.
    DynamicDefaultBroker = 3,
    StaticBroker = 4,
    Default = 5,
    /// A client-metrics subscription's config (KIP-714).
    ClientMetrics = 7,
}

/// One topic-level config Kafka knows, with its default.
pub struct TopicConfigDef {
    pub name: &'static str,
    pub default: &'static str,
    pub kind: ConfigType,
}

const fn def(name: &'static str, default: &'static str, kind: ConfigType) -> TopicConfigDef {
    TopicConfigDef {
        name,
        default,
        kind,
    }
}

pub const MAX_MESSAGE_BYTES: &str = "max.message.bytes";
/// Kafka's default `max.message.bytes` / `message.max.bytes`.
pub const DEFAULT_MAX_MESSAGE_BYTES: i32 = 1_048_588;

use ConfigType::*;

/// Kafka 4.1's topic configs, sorted by name (DescribeConfigs lists them in this order).
pub const TOPIC_CONFIGS: &[TopicConfigDef] = &[
    def("cleanup.policy", "delete", List),
    def("compression.gzip.level", "-1", Int),
    def("compression.lz4.level", "9", Int),
    def("compression.type", "producer", String),
    def("compression.zstd.level", "3", Int),
    def("delete.retention.ms", "86400000", Long),
    def("file.delete.delay.ms", "60000", Long),
    def("flush.messages", "9223372036854775807", Long),
    def("flush.ms", "9223372036854775807", Long),
    def("follower.replication.throttled.replicas", "", List),
    def("index.interval.bytes", "4096", Int),
    def("leader.replication.throttled.replicas", "", List),
    def("local.retention.bytes", "-2", Long),
    def("local.retention.ms", "-2", Long),
    def("max.compaction.lag.ms", "9223372036854775807", Long),
    def(MAX_MESSAGE_BYTES, "1048588", Int),
    def("message.timestamp.after.max.ms", "3600000", Long),
    def(
        "message.timestamp.before.max.ms",
        "9223372036854775807",
        Long,
    ),
    def("message.timestamp.type", "CreateTime", String),
    def("min.cleanable.dirty.ratio", "0.5", Double),
    def("min.compaction.lag.ms", "0", Long),
    def("min.insync.replicas", "1", Int),
    def("preallocate", "false", Boolean),
    def("remote.log.copy.disable", "false", Boolean),
    def("remote.log.delete.on.disable", "false", Boolean),
    def("remote.storage.enable", "false", Boolean),
    def("retention.bytes", "-1", Long),
    def("retention.ms", "604800000", Long),
    def("segment.bytes", "1073741824", Int),
    def("segment.index.bytes", "10485760", Int),
    def("segment.jitter.ms", "0", Long),
    def("segment.ms", "604800000", Long),
    def("unclean.leader.election.enable", "false", Boolean),
];

/// IncrementalAlterConfigs' APPEND (or SUBTRACT) of the comma-separated `items` to (from)
/// list value `base`: appended items not already there go at the end, subtracted ones
/// go wherever they are.
pub fn list_op(base: &str, items: &str, append: bool) -> std::string::String {
    let split = |v: &str| -> Vec<std::string::String> {
        v.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    let mut list = split(base);
    for item in split(items) {
        if append {
            if !list.contains(&item) {
                list.push(item);
            }
        } else {
            list.retain(|i| *i != item);
        }
    }
    list.join(",")
}

pub fn topic_config_def(name: &str) -> Option<&'static TopicConfigDef> {
    TOPIC_CONFIGS.iter().find(|d| d.name == name)
}

/// Checks that `name` is a topic config and `value` parses as its type.
pub fn validate_topic_config(name: &str, value: &str) -> Result<(), KafkaError> {
    let Some(def) = topic_config_def(name) else {
        return Err(KafkaError::new(
            ResponseError::InvalidConfig,
            format!("Unknown topic config name: {name}"),
        ));
    };
    // Kafka's `ConfigDef` first parses the value as the config's type, then runs the
    // config's validator; each says why in its own words.
    let parsed = match def.kind {
        Boolean => matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "false")
            .then_some(())
            .ok_or("Expected value to be either true or false"),
        Int => value
            .trim()
            .parse::<i32>()
            .map(drop)
            .map_err(|_| "Not a number of type INT"),
        Long => value
            .trim()
            .parse::<i64>()
            .map(drop)
            .map_err(|_| "Not a number of type LONG"),
        Double => value
            .trim()
            .parse::<f64>()
            .map(drop)
            .map_err(|_| "Not a number of type DOUBLE"),
        String | List => Ok(()),
    };
    let valid = parsed.map_err(str::to_owned).and_then(|()| match name {
        MAX_MESSAGE_BYTES => at_least(value, 0),
        "min.insync.replicas" => at_least(value, 1),
        "message.timestamp.type" => matches!(value, "CreateTime" | "LogAppendTime")
            .then_some(())
            .ok_or_else(|| "String must be one of: CreateTime, LogAppendTime".to_string()),
        "cleanup.policy" => value
            .split(',')
            .all(|p| matches!(p.trim(), "delete" | "compact" | ""))
            .then_some(())
            .ok_or_else(|| "String must be one of: compact, delete".to_string()),
        _ => Ok(()),
    });
    valid.map_err(|why| {
        KafkaError::new(
            ResponseError::InvalidConfig,
            format!("Invalid value {value} for configuration {name}: {why}"),
        )
    })
}

/// Kafka's `Range.atLeast` validator.
fn at_least(value: &str, min: i64) -> Result<(), std::string::String> {
    match value.trim().parse::<i64>() {
        Ok(v) if v >= min => Ok(()),
        _ => Err(format!("Value must be at least {min}")),
    }
}

/// One config as DescribeConfigs reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    pub name: std::string::String,
    pub value: Option<std::string::String>,
    pub source: ConfigSource,
    pub kind: ConfigType,
    pub read_only: bool,
}

/// A topic's full configuration: every Kafka topic config, overrides applied. A default
/// that the broker sets differently from Kafka's (`message.max.bytes` for
/// `max.message.bytes`) is reported with the broker's value as STATIC_BROKER_CONFIG.
pub fn topic_entries(
    overrides: &BTreeMap<std::string::String, std::string::String>,
    inherited: &BTreeMap<std::string::String, std::string::String>,
    broker: &BrokerConfig,
) -> Vec<ConfigEntry> {
    TOPIC_CONFIGS
        .iter()
        .map(|d| {
            let (value, source) = match (overrides.get(d.name), inherited.get(d.name)) {
                (Some(v), _) => (v.clone(), ConfigSource::DynamicTopic),
                (None, Some(v)) => (v.clone(), ConfigSource::DynamicDefaultBroker),
                (None, None) => match broker.topic_default(d.name) {
                    Some(v) if v != d.default => (v, ConfigSource::StaticBroker),
                    _ => (d.default.to_string(), ConfigSource::Default),
                },
            };
            ConfigEntry {
                name: d.name.into(),
                value: Some(value),
                source,
                kind: d.kind,
                read_only: false,
            }
        })
        .collect()
}

/// Events the cluster's history keeps by default (`state::history`): about 100 bytes
/// each, so tens of MB at most.
pub const DEFAULT_HISTORY_LIMIT: usize = 500_000;

/// Cluster-wide settings that Kafka keeps in broker configs.
#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub auto_create_topics: bool,
    pub num_partitions: i32,
    pub default_replication_factor: i16,
    pub message_max_bytes: i32,
    pub max_request_size: usize,
    pub group: GroupConfig,
    /// `replica.selector.class` is Kafka's `RackAwareReplicaSelector` (KIP-392).
    pub rack_aware_replica_selector: bool,
    /// Kafka's broker-level `min.insync.replicas`, for topics that do not set their own.
    pub min_insync_replicas: i32,
    /// Kafka's broker-level `unclean.leader.election.enable`.
    pub unclean_leader_election: bool,
    /// Kafka's `replica.lag.time.max.ms`: a follower that has not caught up for this long
    /// leaves the ISR.
    pub replica_lag_time_max_ms: i64,
    /// Kafka's `log.retention.check.interval.ms`: how often retention runs.
    pub log_retention_check_interval_ms: i64,
    /// Kafka's `max.connections`: connections a broker holds at once (`None`: unbounded,
    /// as Kafka's default). At the limit a broker accepts nothing more until one closes.
    pub max_connections: Option<usize>,
    pub transactions: TransactionConfig,
    /// Events the cluster's history keeps for the checkers (`state::history`); 0 turns
    /// recording off.
    pub history_limit: usize,
    /// Listeners, SASL mechanisms and re-authentication.
    pub security: crate::security::SecurityConfig,
    /// Whether an authorizer runs, and its settings (`state::acls`).
    pub authorizer: AuthorizerConfig,
}

/// Kafka's authorizer settings: `authorizer.class.name` (Kafka's `StandardAuthorizer`
/// when enabled; none by default, when every request is allowed and the ACL APIs answer
/// SECURITY_DISABLED), `super.users` and `allow.everyone.if.no.acl.found`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizerConfig {
    pub enabled: bool,
    /// Principals ("User:admin") allowed everything.
    pub super_users: Vec<std::string::String>,
    /// Whether a resource no ACL names is open to everyone (Kafka's default: false).
    pub allow_everyone_if_no_acl_found: bool,
}

/// The transaction coordinator's settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransactionConfig {
    /// The `transaction.version` feature level ApiVersions finalizes (Kafka 4.1: 2). At 2,
    /// clients that know KIP-890 (the Java client 4.x) bump the epoch per transaction and
    /// let brokers add partitions implicitly; at 1 or 0 they use AddPartitionsToTxn.
    pub version: i16,
    /// Kafka's `transaction.max.timeout.ms`: the longest `transaction.timeout.ms` a
    /// producer may ask for.
    pub max_timeout_ms: i32,
    /// Kafka's `transactional.id.expiration.ms`: a transactional id unused this long is
    /// forgotten.
    pub id_expiration_ms: i64,
}

impl Default for TransactionConfig {
    /// Kafka 4.1's defaults.
    fn default() -> Self {
        TransactionConfig {
            version: 2,
            max_timeout_ms: 900_000,
            id_expiration_ms: 604_800_000,
        }
    }
}

impl BrokerConfig {
    /// The broker setting a topic config falls back to when the topic does not set it,
    /// for the ones broker-sim lets a cluster change.
    pub fn topic_default(&self, name: &str) -> Option<std::string::String> {
        match name {
            MAX_MESSAGE_BYTES => Some(self.message_max_bytes.to_string()),
            "min.insync.replicas" => Some(self.min_insync_replicas.to_string()),
            "unclean.leader.election.enable" => Some(self.unclean_leader_election.to_string()),
            _ => None,
        }
    }

    /// The broker configs DescribeConfigs reports, sorted by name. Values that broker-sim
    /// sets differently from Kafka's defaults are `STATIC_BROKER_CONFIG`, as if they were in
    /// server.properties.
    pub fn entries(&self, broker_id: i32) -> Vec<ConfigEntry> {
        let fixed =
            |name: &str, value: std::string::String, kind: ConfigType, default: &str| ConfigEntry {
                source: if value == default {
                    ConfigSource::Default
                } else {
                    ConfigSource::StaticBroker
                },
                name: name.into(),
                value: Some(value),
                kind,
                read_only: true,
            };
        let mut entries = vec![
            fixed(
                "auto.create.topics.enable",
                self.auto_create_topics.to_string(),
                Boolean,
                "true",
            ),
            fixed("broker.id", broker_id.to_string(), Int, "-1"),
            fixed("compression.type", "producer".into(), String, "producer"),
            fixed(
                "default.replication.factor",
                self.default_replication_factor.to_string(),
                Int,
                "1",
            ),
            fixed("delete.topic.enable", "true".into(), Boolean, "true"),
            fixed(
                "group.initial.rebalance.delay.ms",
                self.group.initial_rebalance_delay_ms.to_string(),
                Int,
                "3000",
            ),
            fixed(
                "group.max.session.timeout.ms",
                self.group.max_session_timeout_ms.to_string(),
                Int,
                "1800000",
            ),
            fixed(
                "group.max.size",
                self.group.max_size.to_string(),
                Int,
                "2147483647",
            ),
            fixed(
                "group.min.session.timeout.ms",
                self.group.min_session_timeout_ms.to_string(),
                Int,
                "6000",
            ),
            fixed("log.cleanup.policy", "delete".into(), List, "delete"),
            fixed(
                "log.message.timestamp.type",
                "CreateTime".into(),
                String,
                "CreateTime",
            ),
            fixed("log.retention.bytes", "-1".into(), Long, "-1"),
            fixed(
                "log.retention.check.interval.ms",
                self.log_retention_check_interval_ms.to_string(),
                Long,
                "300000",
            ),
            fixed("log.retention.hours", "168".into(), Int, "168"),
            fixed("log.segment.bytes", "1073741824".into(), Int, "1073741824"),
            fixed(
                "message.max.bytes",
                self.message_max_bytes.to_string(),
                Int,
                "1048588",
            ),
            fixed(
                "min.insync.replicas",
                self.min_insync_replicas.to_string(),
                Int,
                "1",
            ),
            fixed("node.id", broker_id.to_string(), Int, "-1"),
            fixed("num.partitions", self.num_partitions.to_string(), Int, "1"),
            fixed(
                "offsets.retention.check.interval.ms",
                self.group.offsets_retention_check_interval_ms.to_string(),
                Long,
                "600000",
            ),
            fixed(
                "offsets.retention.minutes",
                (self.group.offsets_retention_ms / 60_000).to_string(),
                Int,
                "10080",
            ),
            fixed("offsets.topic.num.partitions", "50".into(), Int, "50"),
            fixed(
                "replica.lag.time.max.ms",
                self.replica_lag_time_max_ms.to_string(),
                Long,
                "30000",
            ),
            fixed(
                "socket.request.max.bytes",
                self.max_request_size.to_string(),
                Int,
                "104857600",
            ),
            fixed(
                "transaction.state.log.num.partitions",
                "50".into(),
                Int,
                "50",
            ),
            fixed(
                "unclean.leader.election.enable",
                self.unclean_leader_election.to_string(),
                Boolean,
                "false",
            ),
        ];
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        entries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_config_table_is_sorted_and_validates_types() {
        assert!(TOPIC_CONFIGS.windows(2).all(|w| w[0].name < w[1].name));
        assert!(validate_topic_config(MAX_MESSAGE_BYTES, "10000").is_ok());
        assert_eq!(
            validate_topic_config(MAX_MESSAGE_BYTES, "ten")
                .unwrap_err()
                .code,
            ResponseError::InvalidConfig
        );
        assert_eq!(
            validate_topic_config("no.such.config", "1")
                .unwrap_err()
                .code,
            ResponseError::InvalidConfig
        );
    }

    #[test]
    fn overrides_are_dynamic_and_the_rest_default() {
        let mut o = BTreeMap::new();
        o.insert("retention.ms".to_string(), "1000".to_string());
        let broker = BrokerConfig {
            auto_create_topics: true,
            num_partitions: 1,
            default_replication_factor: 1,
            message_max_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_request_size: 100,
            group: Default::default(),
            rack_aware_replica_selector: false,
            min_insync_replicas: 1,
            unclean_leader_election: false,
            replica_lag_time_max_ms: 30_000,
            log_retention_check_interval_ms: 300_000,
            max_connections: None,
            transactions: TransactionConfig::default(),
            history_limit: DEFAULT_HISTORY_LIMIT,
            security: crate::security::SecurityConfig::default(),
            authorizer: AuthorizerConfig::default(),
        };
        let described = broker.entries(1);
        let value = |name: &str| {
            let e = described.iter().find(|e| e.name == name).unwrap();
            (e.value.clone().unwrap(), e.source)
        };
        assert_eq!(
            value("offsets.retention.minutes"),
            ("10080".into(), ConfigSource::Default)
        );
        assert_eq!(
            value("offsets.retention.check.interval.ms"),
            ("600000".into(), ConfigSource::Default)
        );
        let entries = topic_entries(&o, &BTreeMap::new(), &broker);
        let r = entries.iter().find(|e| e.name == "retention.ms").unwrap();
        assert_eq!(r.source, ConfigSource::DynamicTopic);
        let m = entries
            .iter()
            .find(|e| e.name == MAX_MESSAGE_BYTES)
            .unwrap();
        assert_eq!(m.value.as_deref(), Some("1048588"));
        assert_eq!(m.source, ConfigSource::Default);
    }
}

/// Kafka's group settings (`group.*` broker configs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupConfig {
    /// `group.initial.rebalance.delay.ms`: how long the first rebalance of an empty group
    /// waits for more members. Kafka's default is 3000; broker-sim's is 0 so a test's
    /// first consumer gets its partitions at once.
    pub initial_rebalance_delay_ms: i32,
    /// `group.min.session.timeout.ms` (Kafka: 6000).
    pub min_session_timeout_ms: i32,
    /// `group.max.session.timeout.ms` (Kafka: 1800000).
    pub max_session_timeout_ms: i32,
    /// `group.max.size` (Kafka: unbounded).
    pub max_size: i32,
    /// `group.consumer.session.timeout.ms`: how long a member of a consumer group of the
    /// new protocol (KIP-848) lives without a heartbeat (Kafka: 45000).
    pub consumer_session_timeout_ms: i32,
    /// `group.consumer.heartbeat.interval.ms`: how often such members are told to
    /// heartbeat (Kafka: 5000).
    pub consumer_heartbeat_interval_ms: i32,
    /// `offsets.retention.minutes`, in milliseconds: how long committed offsets of a group
    /// without members outlive their commit, or the group's last member (Kafka: 7 days).
    pub offsets_retention_ms: i64,
    /// `offsets.retention.check.interval.ms`: how often expired offsets and empty groups
    /// are removed (Kafka: 600000).
    pub offsets_retention_check_interval_ms: i64,
}

/// Kafka's `offsets.retention.minutes` default (7 days), in milliseconds.
pub const DEFAULT_OFFSETS_RETENTION_MS: i64 = 10_080 * 60_000;

impl Default for GroupConfig {
    fn default() -> Self {
        GroupConfig {
            initial_rebalance_delay_ms: 0,
            min_session_timeout_ms: 6000,
            max_session_timeout_ms: 1_800_000,
            max_size: i32::MAX,
            consumer_session_timeout_ms: 45_000,
            consumer_heartbeat_interval_ms: 5_000,
            offsets_retention_ms: DEFAULT_OFFSETS_RETENTION_MS,
            offsets_retention_check_interval_ms: 600_000,
        }
    }
}

impl Default for BrokerConfig {
    /// Kafka's defaults, except `default.replication.factor` (1 here; the cluster builder
    /// makes it min(3, brokers)) and the group settings noted on [`GroupConfig`].
    fn default() -> Self {
        BrokerConfig {
            auto_create_topics: true,
            num_partitions: 1,
            default_replication_factor: 1,
            message_max_bytes: DEFAULT_MAX_MESSAGE_BYTES,
            max_request_size: broker_sim_protocol::frame::DEFAULT_MAX_REQUEST_SIZE,
            group: GroupConfig::default(),
            rack_aware_replica_selector: false,
            min_insync_replicas: 1,
            unclean_leader_election: false,
            replica_lag_time_max_ms: 30_000,
            log_retention_check_interval_ms: 300_000,
            max_connections: None,
            transactions: TransactionConfig::default(),
            history_limit: DEFAULT_HISTORY_LIMIT,
            security: crate::security::SecurityConfig::default(),
            authorizer: AuthorizerConfig::default(),
        }
    }
}
