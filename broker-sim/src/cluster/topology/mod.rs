//! Topology files: a cluster described in TOML (brokers, listeners, settings by Kafka's
//! broker config names, topics with partitions, replication and configs, seed records and
//! committed offsets, schemas for the embedded schema registry (`schemas`)), for `broker-sim --config FILE` and [`Cluster::from_config`].
//!
//! A file is read into a [`ClusterConfig`] and checked whole before anything starts:
//! unknown keys, settings and topic configs, replication beyond the brokers, partitions
//! out of range and offsets of topics the file does not create are errors naming the line.
//! Starting is then the builder's job ([`ClusterBuilder::config`]), so the binary's flags
//! can still change what the file gave; seeding records and offsets needs a running
//! cluster and happens after ([`ClusterConfig::populate`]).

mod schemas;
mod settings;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;
use std::path::{Path, PathBuf};

use broker_sim_protocol::batch::NewRecord;
use bytes::Bytes;
use serde::Deserialize;
use toml::Spanned;

use super::{Cluster, ClusterBuilder};
use crate::error::KafkaError;
use crate::security::Listener;
use crate::state::TopicSpec;

/// The most brokers a file may ask for, as the binary's `--brokers` allows.
const MAX_BROKERS: i64 = 1000;

/// A cluster as a topology file describes it, checked. Read one with
/// [`ClusterConfig::load`] or [`ClusterConfig::from_toml`]; start it with
/// [`Cluster::from_config`], or with [`ClusterConfig::builder`] and
/// [`ClusterConfig::populate`] to change something first.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    brokers: Option<usize>,
    host: Option<String>,
    port: Option<u16>,
    seed: Option<u64>,
    racks: Vec<(i32, String)>,
    listeners: Vec<Listener>,
    users: Vec<(String, String)>,
    settings: Vec<(&'static settings::Setting, settings::Value)>,
    topics: Vec<TopicSpec>,
    /// Seed records in file order: topic, partition (None: where a producer puts it).
    records: Vec<(String, Option<i32>, SeedRecord)>,
    /// Group id and its (topic, partition, offset) commits, in file order.
    groups: Vec<(String, Vec<Commit>)>,
    /// Schemas to register at start: subject and schema, in file order.
    schemas: Vec<(String, crate::registry::NewSchema)>,
}

/// A committed offset to seed: topic, partition, offset.
type Commit = (String, i32, i64);

/// A seed record and the partition it is pinned to, if any.
type PinnedRecord = (Option<i32>, SeedRecord);

#[derive(Debug, Clone)]
struct SeedRecord {
    key: Option<String>,
    value: Option<String>,
    timestamp: Option<i64>,
    headers: BTreeMap<String, String>,
}

/// Why a topology file could not be read, checked, started or seeded.
#[derive(Debug)]
pub enum ConfigError {
    /// The file could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file is not TOML, or does not describe a cluster broker-sim can start.
    Invalid {
        /// The file, when read with [`ClusterConfig::load`].
        path: Option<PathBuf>,
        /// 1-based line and column of the offending key or value, when known.
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    /// The cluster did not start (e.g. a port in use).
    Start(std::io::Error),
    /// Seeding a record or a group's offsets failed.
    Seed(KafkaError),
}

impl ConfigError {
    /// The line the error points at, for a file that is not valid.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Invalid { line, .. } => *line,
            _ => None,
        }
    }

    fn invalid(source: &str, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        let (line, column) = match span {
            Some(span) => {
                let before = &source[..span.start.min(source.len())];
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                let column = before[line_start..].chars().count() + 1;
                (Some(before.matches('\n').count() + 1), Some(column))
            }
            None => (None, None),
        };
        ConfigError::Invalid {
            path: None,
            line,
            column,
            message: message.into(),
        }
    }

    fn in_file(self, file: &Path) -> Self {
        match self {
            ConfigError::Invalid {
                line,
                column,
                message,
                ..
            } => ConfigError::Invalid {
                path: Some(file.to_path_buf()),
                line,
                column,
                message,
            },
            other => other,
        }
    }
}

impl std::fmt::Display for ConfigError {
    /// Like a compiler's: `FILE:LINE:COLUMN: message`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Read { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            ConfigError::Invalid {
                path,
                line,
                column,
                message,
            } => {
                let mut place = path.as_ref().map(|p| p.display().to_string());
                if let Some(line) = line {
                    let at = format!("{line}:{}", column.unwrap_or(1));
                    place = Some(place.map_or(format!("line {at}"), |p| format!("{p}:{at}")));
                }
                match place {
                    Some(place) => write!(f, "{place}: {message}"),
                    None => f.write_str(message),
                }
            }
            ConfigError::Start(e) => write!(f, "the cluster did not start: {e}"),
            ConfigError::Seed(e) => write!(f, "seeding failed: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::Read { source, .. } | ConfigError::Start(source) => Some(source),
            ConfigError::Seed(e) => Some(e),
            ConfigError::Invalid { .. } => None,
        }
    }
}

// The file's shape. Spans are kept where a later check needs a line to point at.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    brokers: Option<Spanned<i64>>,
    host: Option<String>,
    port: Option<u16>,
    seed: Option<u64>,
    #[serde(default)]
    racks: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    listeners: Vec<Spanned<String>>,
    #[serde(default)]
    users: BTreeMap<String, String>,
    #[serde(default)]
    settings: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    topics: Vec<Spanned<TopicShape>>,
    #[serde(default)]
    groups: Vec<GroupShape>,
    #[serde(default)]
    schemas: Vec<Spanned<schemas::SchemaShape>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TopicShape {
    name: Spanned<String>,
    partitions: Option<Spanned<i64>>,
    replication_factor: Option<Spanned<i64>>,
    #[serde(default)]
    configs: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    records: Vec<Spanned<RecordShape>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordShape {
    key: Option<String>,
    value: Option<String>,
    partition: Option<i64>,
    timestamp: Option<i64>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupShape {
    id: Spanned<String>,
    #[serde(default)]
    offsets: Vec<Spanned<OffsetShape>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OffsetShape {
    topic: String,
    partition: Option<i64>,
    offset: i64,
}

impl ClusterConfig {
    /// Reads and checks a topology file.
    pub fn load(path: impl AsRef<Path>) -> Result<ClusterConfig, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        ClusterConfig::parse(&text, path.parent()).map_err(|e| e.in_file(path))
    }

    /// Parses and checks a topology file's text.
    pub fn from_toml(text: &str) -> Result<ClusterConfig, ConfigError> {
        ClusterConfig::parse(text, None)
    }

    /// Parses and checks a topology file's text; schema files are read relative to `dir`.
    fn parse(text: &str, dir: Option<&Path>) -> Result<ClusterConfig, ConfigError> {
        let file: FileShape = toml::from_str(text)
            .map_err(|e| ConfigError::invalid(text, e.span(), e.message().trim_end()))?;
        Checker { text, dir }.check(file)
    }

    /// Brokers the file asks for, if it says.
    pub fn brokers(&self) -> Option<usize> {
        self.brokers
    }

    /// The first broker's port, if the file sets one.
    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// A builder with everything the file describes but the records and offsets.
    pub fn builder(&self) -> ClusterBuilder {
        Cluster::builder().config(self)
    }

    /// Seeds the file's records (in file order) and then its groups' committed offsets
    /// into `cluster`, which was started from [`ClusterConfig::builder`].
    pub fn populate(&self, cluster: &Cluster) -> Result<(), ConfigError> {
        for (topic, partition, r) in &self.records {
            let record = NewRecord {
                timestamp: r.timestamp.unwrap_or_else(|| cluster.now_ms()),
                key: r.key.clone().map(Bytes::from),
                value: r.value.clone().map(Bytes::from),
                headers: r
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), Some(Bytes::from(v.clone()))))
                    .collect(),
            };
            cluster
                .produce_record(topic, *partition, record)
                .map_err(ConfigError::Seed)?;
        }
        for (group, offsets) in &self.groups {
            let offsets: Vec<(&str, i32, i64)> = offsets
                .iter()
                .map(|(t, p, o)| (t.as_str(), *p, *o))
                .collect();
            cluster
                .alter_group_offsets(group, &offsets)
                .map_err(ConfigError::Seed)?;
        }
        Ok(())
    }
}

impl ClusterBuilder {
    /// Everything `config` describes but the records and offsets
    /// ([`ClusterConfig::populate`] seeds those once the cluster runs): what the file
    /// sets replaces what the builder had; what it leaves out stays.
    pub fn config(mut self, config: &ClusterConfig) -> ClusterBuilder {
        if let Some(n) = config.brokers {
            self = self.brokers(n);
        }
        if let Some(host) = &config.host {
            self = self.host(host.clone());
        }
        if let Some(port) = config.port {
            self = self.port(port);
        }
        if let Some(seed) = config.seed {
            self = self.seed(seed);
        }
        for (id, rack) in &config.racks {
            self = self.broker_rack(*id, rack.clone());
        }
        for listener in &config.listeners {
            self = self.listener(listener.clone());
        }
        for (name, password) in &config.users {
            self = self.sasl_user(name.clone(), password.clone());
        }
        for (setting, value) in &config.settings {
            self = setting.apply(self, value);
        }
        for spec in &config.topics {
            self = self.topic_with(spec.clone());
        }
        for (subject, schema) in &config.schemas {
            self = self.schema_with(subject.clone(), schema.clone());
        }
        self
    }
}

impl Cluster {
    /// Starts the cluster a topology file describes and seeds its records and committed
    /// offsets. Without a `port` in the file, brokers take free ports.
    pub fn from_config(path: impl AsRef<Path>) -> Result<Cluster, ConfigError> {
        let config = ClusterConfig::load(path)?;
        let cluster = config.builder().start().map_err(ConfigError::Start)?;
        config.populate(&cluster)?;
        Ok(cluster)
    }
}

/// Turns the file's shape into a [`ClusterConfig`], refusing what could not start.
struct Checker<'a> {
    text: &'a str,
    /// Where schema files are read from: the topology file's directory.
    dir: Option<&'a Path>,
}

impl Checker<'_> {
    fn error(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        ConfigError::invalid(self.text, Some(span), message)
    }

    fn check(&self, file: FileShape) -> Result<ClusterConfig, ConfigError> {
        let brokers = match file.brokers {
            Some(n) if !(1..=MAX_BROKERS).contains(n.get_ref()) => {
                return Err(self.error(
                    n.span(),
                    format!(
                        "brokers must be between 1 and {MAX_BROKERS}, not {}",
                        n.get_ref()
                    ),
                ));
            }
            Some(n) => Some(*n.get_ref() as usize),
            None => None,
        };
        // The builder's default when the file does not say.
        let broker_count = brokers.unwrap_or(3);
        let racks = file
            .racks
            .into_iter()
            .map(|(id, rack)| match id.get_ref().parse::<i32>() {
                Ok(n) if n >= 1 && n as usize <= broker_count => Ok((n, rack)),
                _ => Err(self.error(
                    id.span(),
                    format!(
                        "racks: {:?} is not a broker id (1 to {broker_count})",
                        id.get_ref()
                    ),
                )),
            })
            .collect::<Result<_, _>>()?;
        let listeners = file
            .listeners
            .into_iter()
            .map(|l| l.get_ref().parse().map_err(|e| self.error(l.span(), e)))
            .collect::<Result<_, _>>()?;
        let mut settings = Vec::new();
        for (name, value) in &file.settings {
            let setting = settings::find(name.get_ref()).map_err(|e| self.error(name.span(), e))?;
            let parsed = setting
                .parse(value.get_ref())
                .map_err(|e| self.error(value.span(), e))?;
            if let ("default.replication.factor", settings::Value::Int(rf)) =
                (setting.name, &parsed)
                && *rf as usize > broker_count
            {
                return Err(self.error(
                    value.span(),
                    format!(
                        "setting \"default.replication.factor\" is {rf}, more than the {broker_count} brokers"
                    ),
                ));
            }
            settings.push((setting, parsed));
        }
        // Topics without a partition count get the file's, resolved here so that their
        // records and offsets can be checked.
        let default_partitions = settings
            .iter()
            .find_map(|(s, v)| match v {
                settings::Value::Int(n) if s.name == "num.partitions" => Some(*n as i32),
                _ => None,
            })
            .unwrap_or(1);

        let mut topics: Vec<TopicSpec> = Vec::new();
        let mut records = Vec::new();
        let mut partitions_of = BTreeMap::new();
        for topic in file.topics {
            let topic = topic.into_inner();
            if partitions_of.contains_key(topic.name.get_ref()) {
                let name = &topic.name;
                return Err(self.error(
                    name.span(),
                    format!("topic {:?} is defined twice", name.get_ref()),
                ));
            }
            let (spec, seeds) = self.topic(topic, broker_count, default_partitions)?;
            partitions_of.insert(spec.name.clone(), spec.partitions);
            records.extend(seeds.into_iter().map(|(p, r)| (spec.name.clone(), p, r)));
            topics.push(spec);
        }
        let mut groups = Vec::new();
        let mut group_ids = BTreeSet::new();
        for group in file.groups {
            if !group_ids.insert(group.id.get_ref().clone()) {
                let id = &group.id;
                return Err(self.error(
                    id.span(),
                    format!("group {:?} is defined twice", id.get_ref()),
                ));
            }
            groups.push(self.group(group, &partitions_of)?);
        }
        let schemas = self.schemas(file.schemas, self.dir)?;
        Ok(ClusterConfig {
            brokers,
            host: file.host,
            port: file.port,
            seed: file.seed,
            racks,
            listeners,
            users: file.users.into_iter().collect(),
            settings,
            topics,
            records,
            groups,
            schemas,
        })
    }

    /// A topic's spec, with its partition count resolved so records can be checked
    /// against it, and its records.
    fn topic(
        &self,
        t: TopicShape,
        brokers: usize,
        default_partitions: i32,
    ) -> Result<(TopicSpec, Vec<PinnedRecord>), ConfigError> {
        let name = t.name.get_ref();
        crate::state::topic::validate_topic_name(name)
            .map_err(|e| self.error(t.name.span(), format!("topic {name:?}: {}", e.message)))?;
        let partitions = match &t.partitions {
            Some(p) if !(1..=i32::MAX as i64).contains(p.get_ref()) => {
                return Err(self.error(
                    p.span(),
                    format!(
                        "topic {name:?}: partitions must be at least 1, not {}",
                        p.get_ref()
                    ),
                ));
            }
            Some(p) => *p.get_ref() as i32,
            None => default_partitions,
        };
        let replication_factor = match &t.replication_factor {
            Some(rf) if *rf.get_ref() < 1 => {
                return Err(self.error(
                    rf.span(),
                    format!(
                        "topic {name:?}: replication_factor must be at least 1, not {}",
                        rf.get_ref()
                    ),
                ));
            }
            Some(rf) if *rf.get_ref() as u64 > brokers as u64 => {
                return Err(self.error(
                    rf.span(),
                    format!(
                        "topic {name:?}: replication_factor {} is more than the {brokers} brokers",
                        rf.get_ref()
                    ),
                ));
            }
            Some(rf) => *rf.get_ref() as i16,
            None => -1,
        };
        let mut spec = TopicSpec::new(name.clone(), partitions);
        spec.replication_factor = replication_factor;
        for (key, value) in &t.configs {
            let text = match value.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(n) => n.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                toml::Value::Float(f) => f.to_string(),
                other => {
                    return Err(self.error(
                        value.span(),
                        format!(
                            "topic {name:?}: config {:?} must be a string, number or boolean, not {}",
                            key.get_ref(),
                            settings::shown(other)
                        ),
                    ));
                }
            };
            let span = match crate::config::topic_config_def(key.get_ref()) {
                Some(_) => value.span(),
                None => key.span(),
            };
            crate::config::validate_topic_config(key.get_ref(), &text)
                .map_err(|e| self.error(span, format!("topic {name:?}: {}", e.message)))?;
            spec.configs.insert(key.get_ref().clone(), text);
        }
        let mut records = Vec::with_capacity(t.records.len());
        for record in t.records {
            let span = record.span();
            let r = record.into_inner();
            let partition = match r.partition {
                Some(p) if !(0..partitions as i64).contains(&p) => {
                    return Err(self.error(
                        span,
                        format!(
                            "topic {name:?} has {partitions} partitions (0 to {}): a record's partition {p} is out of range",
                            partitions - 1
                        ),
                    ));
                }
                p => p.map(|p| p as i32),
            };
            let seed = SeedRecord {
                key: r.key,
                value: r.value,
                timestamp: r.timestamp,
                headers: r.headers,
            };
            records.push((partition, seed));
        }
        Ok((spec, records))
    }

    /// A group's commits, each checked against the file's topics.
    fn group(
        &self,
        g: GroupShape,
        partitions_of: &BTreeMap<String, i32>,
    ) -> Result<(String, Vec<Commit>), ConfigError> {
        let id = g.id.get_ref();
        if id.is_empty() {
            return Err(self.error(g.id.span(), "a group id cannot be empty"));
        }
        let mut commits = Vec::new();
        for offset in g.offsets {
            let span = offset.span();
            let o = offset.into_inner();
            let Some(&count) = partitions_of.get(&o.topic) else {
                return Err(self.error(
                    span,
                    format!(
                        "group {id:?}: topic {:?} is not one of the file's topics",
                        o.topic
                    ),
                ));
            };
            if o.offset < 0 {
                return Err(self.error(
                    span,
                    format!("group {id:?}: offset {} is negative", o.offset),
                ));
            }
            match o.partition {
                Some(p) if !(0..count as i64).contains(&p) => {
                    return Err(self.error(
                        span,
                        format!(
                            "group {id:?}: topic {:?} has {count} partitions (0 to {}), not partition {p}",
                            o.topic,
                            count - 1
                        ),
                    ));
                }
                Some(p) => commits.push((o.topic, p as i32, o.offset)),
                None => commits.extend((0..count).map(|p| (o.topic.clone(), p, o.offset))),
            }
        }
        Ok((id.clone(), commits))
    }
}
