//! The embedding API for client telemetry (KIP-714, `state/telemetry.rs`): subscribe
//! clients to their own metrics, and read what each client instance pushed.

use super::Cluster;
use crate::error::KafkaError;
use crate::state::telemetry::{ClientTelemetry, Subscription};

impl Cluster {
    /// Asks every client to push the metrics whose names start with one of `prefixes`
    /// (`"*"` for all) every `interval_ms`, as `kafka-client-metrics.sh --alter --name
    /// NAME --metrics … --interval …` does. Clients (Java 3.7+, librdkafka 2.5+, with the
    /// default `enable.metrics.push`) ask for their subscription when they start; one that
    /// asked while there was none asks again only after five minutes, so subscribe before
    /// the clients start.
    pub fn subscribe_client_metrics(
        &self,
        name: &str,
        prefixes: &[&str],
        interval_ms: i32,
    ) -> Result<(), KafkaError> {
        let subscription = Subscription {
            metrics: prefixes.iter().map(|p| p.to_string()).collect(),
            interval_ms,
            matches: Vec::new(),
        };
        self.shared()
            .lock()
            .telemetry
            .subscribe(name, Some(subscription))
    }

    /// Removes subscription `name`.
    pub fn unsubscribe_client_metrics(&self, name: &str) -> Result<(), KafkaError> {
        self.shared().lock().telemetry.subscribe(name, None)
    }

    /// Every client instance asked to push, with the latest value of each metric it
    /// pushed (by metric name and attributes), in instance-id order.
    pub fn client_metrics(&self) -> Vec<ClientTelemetry> {
        self.shared().lock().telemetry.clients().cloned().collect()
    }

    /// The subscriptions in place, by name.
    pub fn client_metrics_subscriptions(&self) -> Vec<(String, Subscription)> {
        self.shared()
            .lock()
            .telemetry
            .subscriptions()
            .iter()
            .map(|(n, s)| (n.clone(), s.clone()))
            .collect()
    }
}
