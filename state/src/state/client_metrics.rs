//! Client-metrics subscriptions as config resources (KIP-714's CLIENT_METRICS, type 16):
//! what `kafka-client-metrics.sh` and the AdminClient set with IncrementalAlterConfigs
//! and read with DescribeConfigs. Each resource is a telemetry subscription
//! (`telemetry.rs`) of three configs: `metrics` (name prefixes), `interval.ms` (100 ms to
//! an hour, 5 minutes by default) and `match` (`selector=regex` pairs), validated with
//! Kafka's messages. A resource exists while any of them is set.

use std::collections::{BTreeMap, BTreeSet};

use kafka_protocol::ResponseError;

use super::State;
use super::telemetry::{DEFAULT_PUSH_INTERVAL_MS, SELECTORS, Subscription};
use crate::config::{ConfigEntry, ConfigSource, ConfigType, list_op};
use crate::error::KafkaError;

const METRICS: &str = "metrics";
const INTERVAL: &str = "interval.ms";
const MATCH: &str = "match";
const MIN_INTERVAL_MS: i64 = 100;
const MAX_INTERVAL_MS: i64 = 3_600_000;

const SET: i8 = 0;
const DELETE: i8 = 1;
const APPEND: i8 = 2;
const SUBTRACT: i8 = 3;

fn list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A subscription's configs as set (the ones not set are absent).
fn configs_of(s: &Subscription, set: &BTreeSet<&'static str>) -> BTreeMap<&'static str, String> {
    let mut out = BTreeMap::new();
    if set.contains(METRICS) {
        out.insert(METRICS, s.metrics.join(","));
    }
    if set.contains(INTERVAL) {
        out.insert(INTERVAL, s.interval_ms.to_string());
    }
    if set.contains(MATCH) {
        let pairs: Vec<String> = s.matches.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.insert(MATCH, pairs.join(","));
    }
    out
}

fn invalid_config(message: String) -> KafkaError {
    KafkaError::new(ResponseError::InvalidConfig, message)
}

/// Kafka's checks of the configs a resource would have.
fn validate(configs: &BTreeMap<&'static str, String>) -> Result<Subscription, KafkaError> {
    let interval_ms = match configs.get(INTERVAL) {
        None => DEFAULT_PUSH_INTERVAL_MS,
        Some(v) => {
            let ms: i64 = v.trim().parse().map_err(|_| {
                invalid_config(format!(
                    "Invalid value {v} for configuration {INTERVAL}: Not a number of type INT"
                ))
            })?;
            if !(MIN_INTERVAL_MS..=MAX_INTERVAL_MS).contains(&ms) {
                return Err(KafkaError::new(
                    ResponseError::InvalidRequest,
                    format!(
                        "Invalid value {v} for {INTERVAL}, interval must be between {MIN_INTERVAL_MS} and {MAX_INTERVAL_MS} (1 hour)"
                    ),
                ));
            }
            ms as i32
        }
    };
    let mut matches = Vec::new();
    for pattern in configs.get(MATCH).map(|v| list(v)).unwrap_or_default() {
        let illegal = || invalid_config(format!("Illegal client matching pattern: {pattern}"));
        let (selector, regex) = pattern.split_once('=').ok_or_else(illegal)?;
        if !SELECTORS.contains(&selector.trim())
            || regex::RegexBuilder::new(regex)
                .size_limit(1 << 20)
                .build()
                .is_err()
        {
            return Err(illegal());
        }
        matches.push((selector.trim().to_string(), regex.to_string()));
    }
    Ok(Subscription {
        metrics: configs.get(METRICS).map(|v| list(v)).unwrap_or_default(),
        interval_ms,
        matches,
    })
}

impl State {
    /// IncrementalAlterConfigs of client-metrics resource `name`.
    pub fn alter_client_metrics(
        &mut self,
        name: &str,
        ops: &[(String, i8, Option<String>)],
        validate_only: bool,
    ) -> Result<(), KafkaError> {
        if name.is_empty() {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                "Subscription name can't be empty",
            ));
        }
        let set = self
            .telemetry
            .set_configs(name)
            .cloned()
            .unwrap_or_default();
        let mut configs = match self.telemetry.subscriptions().get(name) {
            Some(s) => configs_of(s, &set),
            None => BTreeMap::new(),
        };
        for (key, op, value) in ops {
            let key: &'static str = match key.as_str() {
                METRICS => METRICS,
                INTERVAL => INTERVAL,
                MATCH => MATCH,
                other => {
                    return Err(KafkaError::new(
                        ResponseError::InvalidRequest,
                        format!("Unknown client metrics configuration: {other}"),
                    ));
                }
            };
            let value = value.clone().unwrap_or_default();
            match *op {
                SET => {
                    configs.insert(key, value);
                }
                DELETE => {
                    configs.remove(key);
                }
                APPEND | SUBTRACT if key != INTERVAL => {
                    let base = configs.get(key).cloned().unwrap_or_default();
                    configs.insert(key, list_op(&base, &value, *op == APPEND));
                }
                APPEND | SUBTRACT => {
                    let what = if *op == APPEND { "append" } else { "subtract" };
                    return Err(invalid_config(format!(
                        "Config value {what} is not allowed for config key: {key}"
                    )));
                }
                other => {
                    return Err(KafkaError::new(
                        ResponseError::UnknownServerError,
                        format!("Unknown config operation {other}"),
                    ));
                }
            }
        }
        let subscription = validate(&configs)?;
        if validate_only {
            return Ok(());
        }
        let keys: BTreeSet<&'static str> = configs.keys().copied().collect();
        if keys.is_empty() {
            self.telemetry.subscribe_configured(name, None, keys)
        } else {
            self.telemetry
                .subscribe_configured(name, Some(subscription), keys)
        }
    }

    /// DescribeConfigs of client-metrics resource `name`: its three configs, as set
    /// (CLIENT_METRICS_CONFIG) or at their defaults; an unknown name has the defaults.
    pub fn client_metrics_entries(&self, name: &str) -> Vec<ConfigEntry> {
        let set = self
            .telemetry
            .set_configs(name)
            .cloned()
            .unwrap_or_default();
        let values = self
            .telemetry
            .subscriptions()
            .get(name)
            .map(|s| configs_of(s, &set))
            .unwrap_or_default();
        [
            (
                INTERVAL,
                ConfigType::Int,
                DEFAULT_PUSH_INTERVAL_MS.to_string(),
            ),
            (MATCH, ConfigType::List, String::new()),
            (METRICS, ConfigType::List, String::new()),
        ]
        .into_iter()
        .map(|(key, kind, default)| {
            let (value, source) = match values.get(key) {
                Some(v) => (v.clone(), ConfigSource::ClientMetrics),
                None => (default, ConfigSource::Default),
            };
            ConfigEntry {
                name: key.to_string(),
                value: Some(value),
                source,
                kind,
                read_only: false,
            }
        })
        .collect()
    }
}
