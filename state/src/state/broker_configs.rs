//! Dynamic broker configs (IncrementalAlterConfigs and AlterConfigs on BROKER resources):
//! values set at run time for one broker (its id) or as the cluster-wide default (""),
//! validated as Kafka 4.1 validates them and described by DescribeConfigs.
//!
//! Kafka accepts a change only to a config it can reconfigure at run time; other known
//! broker configs are refused with INVALID_REQUEST ("Cannot update these configs
//! dynamically"), names it does not know are kept as they are. Values are checked
//! against the config's type, and thread pools grow at most to double and shrink at most
//! to half of their current size. As in a KRaft cluster with eligible leader replicas
//! (Kafka 4.1's default), the cluster default holds `min.insync.replicas` from the start
//! and it cannot be removed.
//!
//! A cluster-wide default of a log config (`log.retention.ms`, `log.cleanup.policy`,
//! `message.max.bytes`, `min.insync.replicas`…) applies at once to every topic that does
//! not override its topic-level synonym (`retention.ms`, `cleanup.policy`,
//! `max.message.bytes`…), through [`Topic::inherited`](super::topic::Topic). A per-broker
//! value is kept and described, but not applied: broker-sim's partitions have one log,
//! not one per broker.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kafka_protocol::ResponseError;

use super::State;
use crate::config::ConfigType::{self, Boolean, Double, Int, List, Long, String as Str};
use crate::config::{ConfigEntry, ConfigSource, list_op};
use crate::error::KafkaError;

/// A DescribeConfigs synonym: a config name, its value, and where it comes from.
pub type Synonym = (String, Option<String>, ConfigSource);

/// A broker config that can change at run time: its type, Kafka's default (`None`: no
/// value), and the topic config it stands for as a default.
pub struct DynamicDef {
    pub name: &'static str,
    pub kind: ConfigType,
    pub default: Option<&'static str>,
    pub topic: Option<&'static str>,
}

const fn dynamic(
    name: &'static str,
    kind: ConfigType,
    default: Option<&'static str>,
    topic: Option<&'static str>,
) -> DynamicDef {
    DynamicDef {
        name,
        kind,
        default,
        topic,
    }
}

/// The dynamic broker configs broker-sim knows, sorted by name.
pub const DYNAMIC: &[DynamicDef] = &[
    dynamic("background.threads", Int, Some("10"), None),
    dynamic(
        "compression.type",
        Str,
        Some("producer"),
        Some("compression.type"),
    ),
    dynamic(
        "log.cleaner.delete.retention.ms",
        Long,
        Some("86400000"),
        Some("delete.retention.ms"),
    ),
    dynamic(
        "log.cleaner.max.compaction.lag.ms",
        Long,
        Some("9223372036854775807"),
        Some("max.compaction.lag.ms"),
    ),
    dynamic(
        "log.cleaner.min.cleanable.ratio",
        Double,
        Some("0.5"),
        Some("min.cleanable.dirty.ratio"),
    ),
    dynamic(
        "log.cleaner.min.compaction.lag.ms",
        Long,
        Some("0"),
        Some("min.compaction.lag.ms"),
    ),
    dynamic("log.cleaner.threads", Int, Some("1"), None),
    dynamic(
        "log.cleanup.policy",
        List,
        Some("delete"),
        Some("cleanup.policy"),
    ),
    dynamic(
        "log.flush.interval.messages",
        Long,
        Some("9223372036854775807"),
        Some("flush.messages"),
    ),
    dynamic(
        "log.flush.interval.ms",
        Long,
        Some("9223372036854775807"),
        Some("flush.ms"),
    ),
    dynamic(
        "log.message.timestamp.after.max.ms",
        Long,
        Some("3600000"),
        Some("message.timestamp.after.max.ms"),
    ),
    dynamic(
        "log.message.timestamp.before.max.ms",
        Long,
        Some("9223372036854775807"),
        Some("message.timestamp.before.max.ms"),
    ),
    dynamic(
        "log.message.timestamp.type",
        Str,
        Some("CreateTime"),
        Some("message.timestamp.type"),
    ),
    dynamic(
        "log.retention.bytes",
        Long,
        Some("-1"),
        Some("retention.bytes"),
    ),
    dynamic("log.retention.ms", Long, None, Some("retention.ms")),
    dynamic("log.roll.ms", Long, None, Some("segment.ms")),
    dynamic(
        "log.segment.bytes",
        Int,
        Some("1073741824"),
        Some("segment.bytes"),
    ),
    dynamic("max.connections", Int, Some("2147483647"), None),
    dynamic("max.connections.per.ip", Int, Some("2147483647"), None),
    dynamic(
        "message.max.bytes",
        Int,
        Some("1048588"),
        Some("max.message.bytes"),
    ),
    dynamic(
        "min.insync.replicas",
        Int,
        Some("1"),
        Some("min.insync.replicas"),
    ),
    dynamic("num.io.threads", Int, Some("8"), None),
    dynamic("num.network.threads", Int, Some("3"), None),
    dynamic("num.replica.fetchers", Int, Some("1"), None),
    dynamic(
        "unclean.leader.election.enable",
        Boolean,
        Some("false"),
        Some("unclean.leader.election.enable"),
    ),
];

/// Thread pools: Kafka resizes them within half and double of their current size.
const THREAD_POOLS: &[&str] = &[
    "background.threads",
    "log.cleaner.threads",
    "num.io.threads",
    "num.network.threads",
    "num.replica.fetchers",
];

/// Known broker configs that only a restart changes.
const STATIC: &[&str] = &[
    "auto.create.topics.enable",
    "broker.id",
    "broker.rack",
    "controller.quorum.voters",
    "default.replication.factor",
    "delete.topic.enable",
    "group.initial.rebalance.delay.ms",
    "group.max.session.timeout.ms",
    "group.max.size",
    "group.min.session.timeout.ms",
    "listeners",
    "log.dir",
    "log.dirs",
    "log.retention.check.interval.ms",
    "log.retention.hours",
    "log.retention.minutes",
    "log.roll.hours",
    "node.id",
    "num.partitions",
    "offsets.topic.num.partitions",
    "offsets.topic.replication.factor",
    "process.roles",
    "replica.lag.time.max.ms",
    "socket.request.max.bytes",
    "transaction.state.log.num.partitions",
    "transaction.state.log.replication.factor",
];

pub fn dynamic_def(name: &str) -> Option<&'static DynamicDef> {
    DYNAMIC.iter().find(|d| d.name == name)
}

const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

/// The dynamic values: "" (the cluster default) or a broker id → config → value.
#[derive(Debug, Clone, Default)]
pub struct BrokerConfigs {
    pub(super) by_resource: BTreeMap<String, BTreeMap<String, String>>,
}

impl BrokerConfigs {
    /// A cluster formatted with eligible leader replicas: `min.insync.replicas` is a
    /// cluster-wide dynamic default from the start.
    pub fn new(min_insync_replicas: i32) -> Self {
        let mut by_resource = BTreeMap::new();
        by_resource.insert(
            String::new(),
            BTreeMap::from([(
                "min.insync.replicas".to_string(),
                min_insync_replicas.to_string(),
            )]),
        );
        BrokerConfigs { by_resource }
    }

    /// The values set for `resource` ("" or a broker id).
    pub fn of(&self, resource: &str) -> Option<&BTreeMap<String, String>> {
        self.by_resource.get(resource)
    }

    /// The topic configs the cluster default sets, by topic config name.
    pub fn topic_defaults(&self) -> BTreeMap<String, String> {
        self.of("")
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| dynamic_def(k)?.topic.map(|t| (t.to_string(), v.clone())))
            .collect()
    }

    /// The value a broker runs with for dynamic config `name`: its own, else the
    /// cluster's, else Kafka's default.
    fn current(&self, broker: &str, name: &str) -> Option<String> {
        [broker, ""]
            .iter()
            .find_map(|r| self.of(r).and_then(|m| m.get(name)).cloned())
            .or_else(|| {
                dynamic_def(name)
                    .and_then(|d| d.default)
                    .map(str::to_string)
            })
    }
}

fn invalid_request(message: String) -> KafkaError {
    KafkaError::new(ResponseError::InvalidRequest, message)
}

/// Kafka's type check of a dynamic config's value.
fn check_type(def: &DynamicDef, value: &str) -> Result<(), KafkaError> {
    let why = match def.kind {
        Boolean => (!matches!(value.trim().to_ascii_lowercase().as_str(), "true" | "false"))
            .then_some("Expected value to be either true or false"),
        Int => value
            .trim()
            .parse::<i32>()
            .is_err()
            .then_some("Not a number of type INT"),
        Long => value
            .trim()
            .parse::<i64>()
            .is_err()
            .then_some("Not a number of type LONG"),
        Double => value
            .trim()
            .parse::<f64>()
            .is_err()
            .then_some("Not a number of type DOUBLE"),
        Str | List => None,
    };
    match why {
        Some(why) => Err(invalid_request(format!(
            "Invalid value {value} for configuration {}: {why}",
            def.name
        ))),
        None => Ok(()),
    }
}

/// Kafka's check of a thread pool's new size against its current one.
fn check_threads(name: &str, value: &str, current: &str) -> Result<(), KafkaError> {
    let (Ok(new), Ok(cur)) = (value.trim().parse::<i64>(), current.trim().parse::<i64>()) else {
        return Ok(());
    };
    let why = if new < 1 {
        Some("value should be at least 1".to_string())
    } else if new > cur * 2 {
        Some(format!(
            "value should not be greater than double the current value {cur}"
        ))
    } else if new < cur / 2 {
        Some(format!(
            "value should be at least half the current value {cur}"
        ))
    } else {
        None
    };
    match why {
        Some(why) => Err(invalid_request(format!(
            "Invalid value org.apache.kafka.common.config.ConfigException: Dynamic thread count update validation failed for {name}={value}, {why} for configuration Invalid dynamic configuration"
        ))),
        None => Ok(()),
    }
}

impl State {
    /// Changes broker resource `resource` ("" for the cluster default, else this broker's
    /// id, which the handler checked): `ops` as IncrementalAlterConfigs gives them
    /// (config, operation, value), or with `replace` the legacy AlterConfigs' complete
    /// new set (operations all SET).
    pub fn alter_broker_configs(
        &mut self,
        resource: &str,
        ops: &[(String, i8, Option<String>)],
        replace: bool,
        validate_only: bool,
    ) -> Result<(), KafkaError> {
        let mut seen = BTreeSet::new();
        for (key, _, _) in ops {
            if !seen.insert(key) {
                return Err(invalid_request("Error due to duplicate config keys".into()));
            }
        }
        let current = self
            .broker_configs
            .of(resource)
            .cloned()
            .unwrap_or_default();
        let mut next = if replace {
            BTreeMap::new()
        } else {
            current.clone()
        };
        let not_dynamic: Vec<&str> = ops
            .iter()
            .map(|(k, _, _)| k.as_str())
            .filter(|k| STATIC.contains(k))
            .collect();
        if !not_dynamic.is_empty() {
            return Err(invalid_request(format!(
                "Cannot update these configs dynamically: Set({})",
                not_dynamic.join(", ")
            )));
        }
        for (key, op, value) in ops {
            let value = value.clone().unwrap_or_default();
            match *op {
                SET => {
                    next.insert(key.clone(), value);
                }
                DELETE => {
                    next.remove(key);
                }
                APPEND | SUBTRACT => {
                    let what = if *op == APPEND { "append" } else { "subtract" };
                    let Some(def) = dynamic_def(key).filter(|d| d.kind == List) else {
                        return Err(KafkaError::new(
                            ResponseError::InvalidConfig,
                            format!("Config value {what} is not allowed for config key: {key}"),
                        ));
                    };
                    let base = next
                        .get(key)
                        .cloned()
                        .or_else(|| def.default.map(str::to_string))
                        .unwrap_or_default();
                    next.insert(key.clone(), list_op(&base, &value, *op == APPEND));
                }
                other => {
                    return Err(KafkaError::new(
                        ResponseError::UnknownServerError,
                        format!("Unknown config operation {other}"),
                    ));
                }
            }
        }
        for (key, value) in &next {
            if current.get(key) == Some(value) {
                continue;
            }
            if let Some(def) = dynamic_def(key) {
                check_type(def, value)?;
            }
            if THREAD_POOLS.contains(&key.as_str()) {
                let now = self
                    .broker_configs
                    .current(resource, key)
                    .unwrap_or_default();
                check_threads(key, value, &now)?;
            }
        }
        if resource.is_empty() && !next.contains_key("min.insync.replicas") {
            return Err(KafkaError::new(
                ResponseError::InvalidConfig,
                "Cluster-level min.insync.replicas cannot be removed while ELR is enabled.",
            ));
        }
        if validate_only {
            return Ok(());
        }
        tracing::info!(resource, configs = ?next, "dynamic broker configs changed");
        self.broker_configs
            .by_resource
            .insert(resource.to_string(), next);
        if resource.is_empty() {
            let defaults = Arc::new(self.broker_configs.topic_defaults());
            for t in self.topics.values_mut() {
                t.inherited = Arc::clone(&defaults);
            }
        }
        Ok(())
    }
}

impl State {
    /// DescribeConfigs of broker resource `resource`: "" lists the cluster-wide dynamic
    /// values; this broker's id lists the broker configs broker-sim knows with the value
    /// it runs with, each with its synonyms, most specific first (its own dynamic value,
    /// the cluster's, then the static or default one, as Kafka lists them).
    pub fn broker_config_entries(
        &self,
        resource: &str,
        broker_id: i32,
    ) -> Vec<(ConfigEntry, Vec<Synonym>)> {
        let kind_of = |name: &str| dynamic_def(name).map_or(Str, |d| d.kind);
        if resource.is_empty() {
            return self
                .broker_configs
                .of("")
                .into_iter()
                .flatten()
                .map(|(k, v)| {
                    let entry = ConfigEntry {
                        name: k.clone(),
                        value: Some(v.clone()),
                        source: ConfigSource::DynamicDefaultBroker,
                        kind: kind_of(k),
                        read_only: false,
                    };
                    (
                        entry,
                        vec![(
                            k.clone(),
                            Some(v.clone()),
                            ConfigSource::DynamicDefaultBroker,
                        )],
                    )
                })
                .collect();
        }
        let mut base: BTreeMap<String, ConfigEntry> = self
            .config
            .entries(broker_id)
            .into_iter()
            .map(|e| (e.name.clone(), e))
            .collect();
        for d in DYNAMIC {
            base.entry(d.name.to_string())
                .or_insert_with(|| ConfigEntry {
                    name: d.name.to_string(),
                    value: d.default.map(str::to_string),
                    source: ConfigSource::Default,
                    kind: d.kind,
                    read_only: false,
                });
        }
        let own = self.broker_configs.of(resource);
        let cluster = self.broker_configs.of("");
        for k in own.into_iter().chain(cluster).flat_map(|m| m.keys()) {
            base.entry(k.clone()).or_insert_with(|| ConfigEntry {
                name: k.clone(),
                value: None,
                source: ConfigSource::Default,
                kind: Str,
                read_only: false,
            });
        }
        base.into_values()
            .map(|mut e| {
                let mut synonyms: Vec<Synonym> = Vec::new();
                if let Some(v) = own.and_then(|m| m.get(&e.name)) {
                    synonyms.push((e.name.clone(), Some(v.clone()), ConfigSource::DynamicBroker));
                }
                if let Some(v) = cluster.and_then(|m| m.get(&e.name)) {
                    synonyms.push((
                        e.name.clone(),
                        Some(v.clone()),
                        ConfigSource::DynamicDefaultBroker,
                    ));
                }
                let fallback = (e.name.clone(), e.value.clone(), e.source);
                if fallback.1.is_some() {
                    synonyms.push(fallback);
                }
                // Kafka's retention falls back to hours, which are always set.
                if e.name == "log.retention.ms" {
                    synonyms.push((
                        "log.retention.hours".into(),
                        Some("168".into()),
                        ConfigSource::Default,
                    ));
                }
                if let Some((_, value, source)) = synonyms.first() {
                    e.value.clone_from(value);
                    e.source = *source;
                }
                e.read_only = dynamic_def(&e.name).is_none()
                    && !own
                        .into_iter()
                        .chain(cluster)
                        .any(|m| m.contains_key(&e.name));
                (e, synonyms)
            })
            .collect()
    }
}
