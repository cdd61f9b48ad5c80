//! Changing a topic's configs (AlterConfigs, IncrementalAlterConfigs and the embedding
//! API): the new overrides are validated as CreateTopics validates them and replace the
//! old ones at once. Nothing caches a config, so a change takes effect with the next
//! request or retention check that reads it.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;

use super::State;
use crate::config;
use crate::error::KafkaError;

impl State {
    /// Topic `name`'s overrides, or UNKNOWN_TOPIC_OR_PARTITION.
    pub fn topic_overrides(&self, name: &str) -> Result<&BTreeMap<String, String>, KafkaError> {
        self.topic(name).map(|t| &t.configs).ok_or_else(|| {
            KafkaError::new(
                ResponseError::UnknownTopicOrPartition,
                format!("The topic '{name}' does not exist."),
            )
        })
    }

    /// Replaces topic `name`'s overrides with `overrides` once each is valid; with
    /// `validate_only`, only checks.
    pub fn set_topic_configs(
        &mut self,
        name: &str,
        overrides: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<(), KafkaError> {
        self.topic_overrides(name)?;
        for (key, value) in &overrides {
            config::validate_topic_config(key, value)?;
        }
        if validate_only {
            return Ok(());
        }
        let topic = self.topics.get_mut(name).expect("checked above");
        tracing::info!(topic = %name, configs = ?overrides, "topic configs changed");
        topic.configs = overrides;
        Ok(())
    }
}

impl State {
    /// Changes some of topic `name`'s configs: `Some(value)` sets one, `None` removes its
    /// override (back to the default). All or nothing, like IncrementalAlterConfigs' SET
    /// and DELETE.
    pub fn change_topic_configs(
        &mut self,
        name: &str,
        changes: &[(&str, Option<&str>)],
    ) -> Result<(), KafkaError> {
        let mut overrides = self.topic_overrides(name)?.clone();
        for (key, value) in changes {
            match value {
                Some(v) => overrides.insert(key.to_string(), v.to_string()),
                None => overrides.remove(*key),
            };
        }
        self.set_topic_configs(name, overrides, false)
    }
}
