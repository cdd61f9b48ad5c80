//! Client telemetry (KIP-714): the metrics subscriptions clients are asked to push, and
//! what each client pushed. GetTelemetrySubscriptions hands a client its instance id and
//! the subscribed metric prefixes; PushTelemetry brings its OTLP metrics, decoded by
//! `broker_sim_protocol::otlp` and kept per client instance, latest value per metric
//! and attribute set, so a test can read a client's own producer and consumer metrics.
//! Decoding is the `telemetry` feature (on by default); without it pushes are counted
//! and their metrics left unread.
//!
//! With no subscription (the default) clients are told to push nothing, so they only
//! ask again every five minutes. `Cluster::subscribe_client_metrics` (or
//! `POST /v1/telemetry/subscriptions`) adds one; every subscription applies to every
//! client, and any change gives a new subscription id, which makes clients ask again
//! (UNKNOWN_SUBSCRIPTION_ID on their next push), as in Kafka.
//!
//! Sums are asked for cumulatively (`delta_temporality` false), so the value kept is
//! the client's running total.

use std::collections::BTreeMap;

use broker_sim_protocol::otlp::MetricPoint;
use kafka_protocol::ResponseError;
use uuid::Uuid;

use super::State;
use crate::error::KafkaError;
use crate::rng::SimRng;

/// How often a client with no subscription asks again (Kafka's default `interval.ms`).
pub const DEFAULT_PUSH_INTERVAL_MS: i32 = 300_000;
/// The largest payload accepted (Kafka's `telemetry.max.bytes`).
pub const TELEMETRY_MAX_BYTES: i32 = 1024 * 1024;
/// The most a compressed payload may expand to.
#[cfg(feature = "telemetry")]
pub const MAX_DECOMPRESSED: u64 = 16 * 1024 * 1024;
/// The most bytes of metric names and attributes one push may decode to (each point
/// carries its resource's attributes).
#[cfg(feature = "telemetry")]
pub const MAX_DECODED: usize = 32 * 1024 * 1024;
/// Mixed into the cluster seed for the client instance ids: a stream of their own, so
/// whether (and when) clients ask for telemetry never changes topic or member ids.
const RNG_SALT: u64 = 0x7e1e_4e7a_c11e_0714;
/// The most metric series (name and attributes) kept per client instance: a client that
/// pushes ever new names cannot grow the broker without bound.
const MAX_SERIES: usize = 10_000;
/// The most client instances kept: past it, the one that pushed least recently (or never)
/// is forgotten, as Kafka's client-instance cache forgets idle clients.
const MAX_CLIENTS: usize = 10_000;

/// A metrics subscription: metric name prefixes ("" or "*" for every metric), how
/// often to push them, and which clients it is for (`match`: selector and regular
/// expression pairs, all of which a client must match; none for every client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub metrics: Vec<String>,
    pub interval_ms: i32,
    pub matches: Vec<(String, String)>,
}

/// The client selectors a `match` may use (KIP-714). broker-sim knows a client's id,
/// instance id and address; a subscription that selects on the software name, version
/// or port never matches.
pub const SELECTORS: [&str; 6] = [
    "client_instance_id",
    "client_id",
    "client_software_name",
    "client_software_version",
    "client_source_address",
    "client_source_port",
];

/// Who asks for its subscriptions or pushes.
pub struct Client<'a> {
    pub client_id: &'a str,
    pub instance_id: Uuid,
}

impl Subscription {
    fn is_for(&self, client: &Client<'_>) -> bool {
        self.matches.iter().all(|(selector, pattern)| {
            let value = match selector.as_str() {
                "client_id" => client.client_id.to_string(),
                "client_instance_id" => client.instance_id.to_string(),
                _ => return false,
            };
            regex::RegexBuilder::new(&format!("^(?:{pattern})$"))
                .size_limit(1 << 20)
                .build()
                .is_ok_and(|re| re.is_match(&value))
        })
    }
}

/// One client instance, as its pushes describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientTelemetry {
    pub client_instance_id: Uuid,
    /// The client id of the request that made the instance.
    pub client_id: String,
    pub pushes: u64,
    /// Whether its last push said the client is closing.
    pub terminated: bool,
    /// The latest value of each metric, by name and attributes.
    pub metrics: BTreeMap<(String, Vec<(String, String)>), f64>,
    last_push_ms: Option<i64>,
}

#[derive(Debug)]
pub struct Telemetry {
    /// Client instance ids, from the cluster seed (see [`RNG_SALT`]).
    rng: SimRng,
    subscriptions: BTreeMap<String, Subscription>,
    /// Which of a subscription's configs were set through its config resource
    /// (`client_metrics.rs`); the others show their defaults there.
    configured: BTreeMap<String, std::collections::BTreeSet<&'static str>>,
    /// Grows with every change to the subscriptions; the subscription id clients see.
    generation: i32,
    clients: BTreeMap<Uuid, ClientTelemetry>,
}

impl Telemetry {
    pub fn new(seed: u64) -> Self {
        Telemetry {
            rng: SimRng::new(seed ^ RNG_SALT),
            subscriptions: BTreeMap::new(),
            configured: BTreeMap::new(),
            generation: 0,
            clients: BTreeMap::new(),
        }
    }

    /// The metric prefixes requested of `client` (`[""]` for every metric) and the push
    /// interval, from the subscriptions for it.
    fn requested(&self, client: &Client<'_>) -> (Vec<String>, i32) {
        let mine: Vec<&Subscription> = self
            .subscriptions
            .values()
            .filter(|s| s.is_for(client))
            .collect();
        if mine.is_empty() {
            return (Vec::new(), DEFAULT_PUSH_INTERVAL_MS);
        }
        let mut metrics: Vec<String> = Vec::new();
        for s in &mine {
            for m in &s.metrics {
                let m = if m == "*" { "" } else { m.as_str() };
                if !metrics.iter().any(|x| x == m) {
                    metrics.push(m.to_string());
                }
            }
        }
        if metrics.iter().any(String::is_empty) {
            metrics = vec![String::new()];
        }
        let interval = mine
            .iter()
            .map(|s| s.interval_ms)
            .min()
            .unwrap_or(DEFAULT_PUSH_INTERVAL_MS);
        (metrics, interval)
    }

    /// Client instance `id`, made on first sight (as Kafka's `ClientMetricsManager`).
    fn client(&mut self, id: Uuid, client_id: &str) -> &mut ClientTelemetry {
        if self.clients.len() >= MAX_CLIENTS && !self.clients.contains_key(&id) {
            let idle = self
                .clients
                .values()
                .min_by_key(|c| c.last_push_ms.unwrap_or(i64::MIN))
                .map(|c| c.client_instance_id);
            if let Some(idle) = idle {
                self.clients.remove(&idle);
            }
        }
        self.clients.entry(id).or_insert_with(|| ClientTelemetry {
            client_instance_id: id,
            client_id: client_id.to_string(),
            pushes: 0,
            terminated: false,
            metrics: BTreeMap::new(),
            last_push_ms: None,
        })
    }

    /// Every client instance asked to push, or that pushed, by id.
    pub fn clients(&self) -> impl Iterator<Item = &ClientTelemetry> {
        self.clients.values()
    }

    pub fn subscriptions(&self) -> &BTreeMap<String, Subscription> {
        &self.subscriptions
    }

    /// The configs of subscription `name` that were set through its config resource.
    pub fn set_configs(&self, name: &str) -> Option<&std::collections::BTreeSet<&'static str>> {
        self.configured.get(name)
    }

    /// Adds or replaces subscription `name` as a config resource with `keys` set; `None`
    /// removes it.
    pub fn subscribe_configured(
        &mut self,
        name: &str,
        subscription: Option<Subscription>,
        keys: std::collections::BTreeSet<&'static str>,
    ) -> Result<(), KafkaError> {
        self.subscribe(name, subscription)?;
        if keys.is_empty() {
            self.configured.remove(name);
        } else {
            self.configured.insert(name.to_string(), keys);
        }
        Ok(())
    }

    /// Adds or replaces subscription `name`; `None` removes it.
    pub fn subscribe(
        &mut self,
        name: &str,
        subscription: Option<Subscription>,
    ) -> Result<(), KafkaError> {
        if let Some(s) = &subscription
            && s.interval_ms <= 0
        {
            return Err(KafkaError::new(
                ResponseError::InvalidConfig,
                format!("interval.ms must be positive, not {}", s.interval_ms),
            ));
        }
        match subscription {
            Some(s) => {
                // Set through the embedding or control API: metrics and interval.
                self.configured
                    .entry(name.to_string())
                    .or_insert_with(|| ["metrics", "interval.ms"].into());
                self.subscriptions.insert(name.to_string(), s)
            }
            None => {
                self.configured.remove(name);
                self.subscriptions.remove(name)
            }
        };
        self.generation = self.generation.wrapping_add(1);
        tracing::info!(name, "client metrics subscription changed");
        Ok(())
    }
}

/// What GetTelemetrySubscriptions answers.
pub struct SubscriptionAnswer {
    pub client_instance_id: Uuid,
    pub subscription_id: i32,
    pub push_interval_ms: i32,
    pub requested_metrics: Vec<String>,
}

impl State {
    /// GetTelemetrySubscriptions: the client's instance (a new one, with an id from the
    /// seeded generator, when it sends the nil id) and what it should push.
    pub fn telemetry_subscriptions(
        &mut self,
        client_instance_id: Uuid,
        client_id: &str,
    ) -> SubscriptionAnswer {
        let id = if client_instance_id.is_nil() {
            self.telemetry.rng.uuid()
        } else {
            client_instance_id
        };
        // Only clients asked to push are kept: with no subscription every client that asks
        // would otherwise stay listed.
        if !self.telemetry.subscriptions.is_empty() {
            self.telemetry.client(id, client_id);
        }
        let (requested_metrics, push_interval_ms) = self.telemetry.requested(&Client {
            client_id,
            instance_id: id,
        });
        SubscriptionAnswer {
            client_instance_id: id,
            subscription_id: self.telemetry.generation,
            push_interval_ms,
            requested_metrics,
        }
    }

    /// PushTelemetry's checks, before its payload is decoded (outside the state lock):
    /// the instance, the subscription id, the size and the pace (no sooner than half the
    /// push interval after the last push, unless the client is closing).
    pub fn check_telemetry_push(
        &self,
        client_instance_id: Uuid,
        subscription_id: i32,
        terminating: bool,
        payload_len: usize,
        now: i64,
    ) -> Result<(), KafkaError> {
        if client_instance_id.is_nil() {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                "Invalid client instance id",
            ));
        }
        if subscription_id != self.telemetry.generation {
            return Err(KafkaError::new(
                ResponseError::UnknownSubscriptionId,
                format!("Unknown client subscription id for the client: {client_instance_id}"),
            ));
        }
        if payload_len > TELEMETRY_MAX_BYTES as usize {
            return Err(KafkaError::new(
                ResponseError::TelemetryTooLarge,
                format!(
                    "Telemetry request from [{client_instance_id}] is larger than the maximum allowed size [{TELEMETRY_MAX_BYTES}]"
                ),
            ));
        }
        let client_id = self
            .telemetry
            .clients
            .get(&client_instance_id)
            .map(|c| c.client_id.as_str())
            .unwrap_or_default();
        let (_, interval) = self.telemetry.requested(&Client {
            client_id,
            instance_id: client_instance_id,
        });
        let last = self
            .telemetry
            .clients
            .get(&client_instance_id)
            .and_then(|c| c.last_push_ms);
        if !terminating && last.is_some_and(|last| now - last < i64::from(interval) / 2) {
            return Err(KafkaError::new(
                ResponseError::ThrottlingQuotaExceeded,
                format!(
                    "Request from the client [{client_instance_id}] arrived before the next push interval time"
                ),
            ));
        }
        Ok(())
    }

    /// Keeps a checked push's decoded points (the instance is made here if it is new).
    pub fn store_telemetry_push(
        &mut self,
        client_id: &str,
        client_instance_id: Uuid,
        terminating: bool,
        points: Vec<MetricPoint>,
        now: i64,
    ) {
        let client = self.telemetry.client(client_instance_id, client_id);
        client.last_push_ms = Some(now);
        client.pushes += 1;
        client.terminated = terminating;
        for p in points {
            let key = (p.name, p.attributes);
            if client.metrics.len() < MAX_SERIES || client.metrics.contains_key(&key) {
                client.metrics.insert(key, p.value);
            }
        }
    }
}

/// Decodes a PushTelemetry payload (empty: no points) within the decompression and
/// decoded-size bounds; the error names Kafka's code for it.
#[cfg(feature = "telemetry")]
pub fn decode_push(
    client_instance_id: Uuid,
    compression_type: i8,
    payload: &bytes::Bytes,
) -> Result<Vec<MetricPoint>, KafkaError> {
    use broker_sim_protocol::{batch::BatchError, otlp};
    if payload.is_empty() {
        return Ok(Vec::new());
    }
    otlp::decode_metrics(compression_type, payload, MAX_DECOMPRESSED, MAX_DECODED).map_err(|e| {
        let code = if matches!(
            e,
            otlp::TelemetryError::Decompress(BatchError::UnknownCodec(_))
        ) {
            ResponseError::UnsupportedCompressionType
        } else {
            ResponseError::InvalidRecord
        };
        KafkaError::new(
            code,
            format!("Error decoding the telemetry of {client_instance_id}: {e}"),
        )
    })
}

/// Without the `telemetry` feature a push is taken (and counted) but not read: like a
/// Kafka broker whose telemetry receiver ignores metrics, it answers every well-formed
/// push with no error.
#[cfg(not(feature = "telemetry"))]
pub fn decode_push(
    client_instance_id: Uuid,
    _compression_type: i8,
    payload: &bytes::Bytes,
) -> Result<Vec<MetricPoint>, KafkaError> {
    tracing::trace!(
        "{} bytes of telemetry from {client_instance_id} not decoded: the `telemetry` feature is off",
        payload.len()
    );
    Ok(Vec::new())
}
