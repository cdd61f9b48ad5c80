//! Client quotas (DescribeClientQuotas, AlterClientQuotas) and their enforcement, as
//! Kafka's controller stores them (`ClientQuotaControlManager`) and its brokers apply
//! them (`ClientQuotaManager`).
//!
//! A quota belongs to an entity: a user, a client id, both, or an IP, each named or the
//! default (a `None` name). A request's quota is the first of Kafka's eight levels that
//! sets the key: user and client id, user and default client, user, default user and
//! client id, default user and default client, default user, client id, default client.
//! With no SASL every client's user is `ANONYMOUS`, as Kafka's PLAINTEXT principal.
//!
//! Byte rates are enforced; `request_percentage` and `controller_mutation_rate` (and an
//! IP's `connection_creation_rate`) are stored and described but not enforced: they
//! measure broker thread time and controller work, which broker-sim does not model.
//!
//! Each broker measures and enforces a quota on its own, as Kafka's brokers do: a client
//! writing to three leaders may send three times its quota in all.
//!
//! Usage is measured as Kafka's sensors measure it, on the cluster clock: a rate over 11
//! samples of one second (`quota.window.num`, `quota.window.size.seconds`, see [`Rate`]),
//! whose window is at least ten seconds plus the current sample. A request that takes the rate over
//! the bound is throttled for `(rate - bound) / bound × window`, the time after which
//! the rate would be back at the bound.
//!
//! The quotas have a lock of their own ([`QuotasCell`]), a leaf: every produce and every
//! fetch answer is counted against its client's quota, and that bookkeeping has nothing to
//! do with the partitions written or read, so it takes neither the state lock nor, while
//! no quota is set, any lock at all.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use kafka_protocol::ResponseError;

use crate::error::KafkaError;

pub const USER: &str = "user";
pub const CLIENT_ID: &str = "client-id";
pub const IP: &str = "ip";

/// The user of every client until broker-sim authenticates them (Kafka's PLAINTEXT
/// principal).
pub const ANONYMOUS: &str = "ANONYMOUS";

/// A quota entity: entity type → name, `None` for the default.
pub type QuotaEntity = BTreeMap<String, Option<String>>;

/// An entity and its quotas (key, value), as DescribeClientQuotas lists them.
pub type DescribedQuotas = (QuotaEntity, Vec<(String, f64)>);

/// What a quota limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuotaKind {
    /// `producer_byte_rate`: produce request bytes per second.
    Produce,
    /// `consumer_byte_rate`: fetch response bytes per second.
    Fetch,
}

impl QuotaKind {
    pub fn key(self) -> &'static str {
        match self {
            QuotaKind::Produce => "producer_byte_rate",
            QuotaKind::Fetch => "consumer_byte_rate",
        }
    }
}

/// The config keys an entity of users and client ids takes, and whether each is integral.
const CLIENT_KEYS: [(&str, bool); 4] = [
    ("producer_byte_rate", true),
    ("consumer_byte_rate", true),
    ("request_percentage", false),
    ("controller_mutation_rate", false),
];
const IP_KEYS: [(&str, bool); 1] = [("connection_creation_rate", true)];

/// `quota.window.num` and `quota.window.size.seconds`.
const SAMPLES: usize = 11;
const SAMPLE_MS: i64 = 1000;

/// One sample of a [`Rate`].
#[derive(Debug)]
struct Sample {
    start: i64,
    last_event: i64,
    value: f64,
}

impl Sample {
    fn new(now: i64) -> Self {
        Sample {
            start: now,
            last_event: now,
            value: 0.0,
        }
    }

    fn reset(&mut self, now: i64) {
        self.start = now;
        self.value = 0.0;
    }
}

/// Kafka's `Rate` over a `SampledStat` (as of Kafka 3.8): up to `SAMPLES + 1` samples of
/// one second used in turn — the extra one holds a sample that overlaps the window — a
/// sample forgotten once its last event is `SAMPLES` seconds old, and a window measured
/// from the oldest sample's start, at least `SAMPLES - 1` whole samples long.
#[derive(Debug, Default)]
struct Rate {
    samples: Vec<Sample>,
    current: usize,
}

impl Rate {
    fn purge(&mut self, now: i64) {
        let expire = SAMPLES as i64 * SAMPLE_MS;
        for s in &mut self.samples {
            if now - s.last_event >= expire {
                s.reset(now);
            }
        }
    }

    fn record(&mut self, value: f64, now: i64) {
        if self.samples.is_empty() {
            self.samples.push(Sample::new(now));
            self.current = 0;
        }
        if now - self.samples[self.current].start >= SAMPLE_MS {
            self.current = (self.current + 1) % (SAMPLES + 1);
            if self.current >= self.samples.len() {
                self.samples.push(Sample::new(now));
            } else {
                self.samples[self.current].reset(now);
            }
        }
        let sample = &mut self.samples[self.current];
        sample.value += value;
        sample.last_event = now;
    }

    /// The window the rate divides by, in ms.
    fn window_ms(&self, now: i64) -> i64 {
        let oldest = self.samples.iter().map(|s| s.start).min().unwrap_or(now);
        let elapsed = now - oldest;
        let full = elapsed / SAMPLE_MS;
        let min_full = SAMPLES as i64 - 1;
        if full < min_full {
            elapsed + (min_full - full) * SAMPLE_MS
        } else {
            elapsed
        }
    }

    /// Per second.
    fn measure(&mut self, now: i64) -> f64 {
        self.purge(now);
        let total: f64 = self.samples.iter().map(|s| s.value).sum();
        total * 1000.0 / self.window_ms(now).max(1) as f64
    }

    /// When anything was last recorded.
    fn last_event(&self) -> i64 {
        self.samples
            .iter()
            .map(|s| s.last_event)
            .max()
            .unwrap_or(i64::MIN)
    }
}

/// How long a meter nobody records to is kept (Kafka expires idle quota sensors after an
/// hour), and how many meters may exist before idle ones are looked for.
const METER_IDLE_MS: i64 = 3_600_000;
const METERS_BEFORE_SWEEP: usize = 1024;

/// The stored quotas, and the meters of the clients they apply to.
#[derive(Debug, Default)]
pub struct ClientQuotas {
    quotas: BTreeMap<QuotaEntity, BTreeMap<String, f64>>,
    /// By broker, kind and metric tags (user, client id), as Kafka's sensors are: each
    /// broker measures and enforces a quota on its own.
    meters: HashMap<(i32, QuotaKind, String, String), Rate>,
}

/// The quotas and their lock; clones share them. The lock is a leaf (held only for one
/// call of [`ClientQuotas`], taking no other), so it may be taken with or without the
/// state's.
#[derive(Debug, Clone, Default)]
pub struct QuotasCell(Arc<Cell>);

#[derive(Debug, Default)]
struct Cell {
    quotas: Mutex<ClientQuotas>,
    /// Whether any quota is set, as of the last alteration: while none is, recording
    /// usage is a no-op and needs no lock.
    any: AtomicBool,
}

impl QuotasCell {
    /// Locks the quotas (a panic under the lock leaves them usable: the poison is ignored).
    pub fn lock(&self) -> MutexGuard<'_, ClientQuotas> {
        self.0.quotas.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// [`ClientQuotas::alter`], keeping the no-quota shortcut up to date.
    pub fn alter(
        &self,
        alterations: &[QuotaAlteration],
        validate_only: bool,
    ) -> Vec<(QuotaEntity, Result<(), KafkaError>)> {
        let mut quotas = self.lock();
        let results = quotas.alter(alterations, validate_only);
        self.0.any.store(quotas.any(), Ordering::Release);
        results
    }

    /// [`ClientQuotas::record`], without a lock while no quota is set. With
    /// `take_back_if_over`, a value that earns a throttle is taken back in the same hold of
    /// the lock (a fetch answered empty), so a concurrent request never sees it.
    pub fn record(
        &self,
        broker: i32,
        kind: QuotaKind,
        client_id: &str,
        value: f64,
        now: i64,
        take_back_if_over: bool,
    ) -> i32 {
        if !self.0.any.load(Ordering::Acquire) {
            return 0;
        }
        let mut quotas = self.lock();
        let ms = quotas.record(broker, kind, client_id, value, now);
        if ms > 0 && take_back_if_over {
            quotas.unrecord(broker, kind, client_id, value, now);
        }
        ms
    }

    /// [`ClientQuotas::max_in_window`], without a lock while no quota is set.
    pub fn max_in_window(&self, kind: QuotaKind, client_id: &str) -> Option<usize> {
        if !self.0.any.load(Ordering::Acquire) {
            return None;
        }
        self.lock().max_in_window(kind, client_id)
    }
}

fn invalid(message: impl Into<String>) -> KafkaError {
    KafkaError::new(ResponseError::InvalidRequest, message)
}

/// Kafka's `ClientQuotaEntity.toString`, for its messages.
fn describe_entity(entity: &QuotaEntity) -> String {
    let entries: Vec<String> = entity
        .iter()
        .map(|(t, n)| format!("{t}={}", n.as_deref().unwrap_or("null")))
        .collect();
    format!("ClientQuotaEntity(entries={{{}}})", entries.join(", "))
}

/// The keys `entity` takes, or why it is not a valid entity.
fn keys_for(entity: &QuotaEntity) -> Result<&'static [(&'static str, bool)], KafkaError> {
    if entity.is_empty() {
        return Err(invalid("Invalid empty client quota entity"));
    }
    for (kind, name) in entity {
        if ![USER, CLIENT_ID, IP].contains(&kind.as_str()) {
            return Err(invalid(format!(
                "Unhandled client quota entity type: {kind}"
            )));
        }
        if name.as_deref() == Some("") {
            return Err(invalid(format!("Empty {kind} not supported")));
        }
    }
    if let Some(ip) = entity.get(IP) {
        if entity.len() > 1 {
            return Err(invalid(
                "Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId",
            ));
        }
        if ip
            .as_ref()
            .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_err() && ip != "localhost")
        {
            return Err(invalid(format!(
                "{} is not a valid IP or resolvable host.",
                ip.as_deref().unwrap_or_default()
            )));
        }
        return Ok(&IP_KEYS);
    }
    Ok(&CLIENT_KEYS)
}

fn check_value(keys: &[(&str, bool)], key: &str, value: f64) -> Result<(), KafkaError> {
    let Some((_, integral)) = keys.iter().find(|(k, _)| *k == key) else {
        return Err(invalid(format!("Invalid configuration key {key}")));
    };
    if value <= 0.0 {
        return Err(invalid(format!("Quota {key} must be greater than 0")));
    }
    if *integral {
        let (limit, what) = if key == "connection_creation_rate" {
            (i32::MAX as f64, "an INT")
        } else {
            (i64::MAX as f64, "a LONG")
        };
        if value > limit {
            return Err(invalid(format!(
                "Proposed value for {key} is too large for {what}."
            )));
        }
        if (value % 1.0).abs() > 1e-6 {
            return Err(invalid(format!("{key} cannot be a fractional value.")));
        }
    }
    Ok(())
}

/// One entry of an AlterClientQuotas request: the entity and its operations (`None`
/// removes a key).
pub struct QuotaAlteration {
    pub entity: QuotaEntity,
    pub ops: Vec<(String, Option<f64>)>,
}

/// A DescribeClientQuotas filter component: entity type and what it must match.
pub enum QuotaMatch {
    /// This name (`Some`) or the default (`None`).
    Exact(Option<String>),
    /// Any entity with this type.
    Specified,
}

impl ClientQuotas {
    /// AlterClientQuotas: validates and applies each entry, as Kafka's controller does;
    /// one result per entry, in request order. An entity named a second time is answered
    /// "Ignoring duplicate entity" (its first entry stands).
    fn alter(
        &mut self,
        alterations: &[QuotaAlteration],
        validate_only: bool,
    ) -> Vec<(QuotaEntity, Result<(), KafkaError>)> {
        let mut results: Vec<(QuotaEntity, Result<(), KafkaError>)> = Vec::new();
        // Where each entity's result is, so a long request costs one pass.
        let mut at: BTreeMap<QuotaEntity, usize> = BTreeMap::new();
        for a in alterations {
            let seen = at.get(&a.entity).copied();
            let mut keys: BTreeMap<&str, Option<f64>> = BTreeMap::new();
            let mut duplicate_key = None;
            for (key, value) in &a.ops {
                if keys.insert(key.as_str(), *value).is_some() {
                    duplicate_key = Some(key.clone());
                }
            }
            let result = if seen.is_some() || duplicate_key.is_some() {
                Err(match duplicate_key {
                    Some(key) if seen.is_none() => invalid(format!(
                        "Duplicate quota key {key} not updating quota for this entity {}",
                        describe_entity(&a.entity)
                    )),
                    _ => invalid(format!(
                        "Ignoring duplicate entity {}",
                        describe_entity(&a.entity)
                    )),
                })
            } else {
                self.alter_entity(&a.entity, &keys, validate_only)
            };
            match seen {
                Some(i) => results[i].1 = result,
                None => {
                    at.insert(a.entity.clone(), results.len());
                    results.push((a.entity.clone(), result));
                }
            }
        }
        results
    }

    fn alter_entity(
        &mut self,
        entity: &QuotaEntity,
        changes: &BTreeMap<&str, Option<f64>>,
        validate_only: bool,
    ) -> Result<(), KafkaError> {
        let allowed = keys_for(entity)?;
        for (key, value) in changes {
            if let Some(value) = value {
                check_value(allowed, key, *value)?;
            }
        }
        if validate_only {
            return Ok(());
        }
        let quotas = self.quotas.entry(entity.clone()).or_default();
        for (key, value) in changes {
            match value {
                Some(v) => quotas.insert(key.to_string(), *v),
                None => quotas.remove(*key),
            };
        }
        if quotas.is_empty() {
            self.quotas.remove(entity);
        }
        tracing::info!(entity = %describe_entity(entity), ?changes, "client quotas changed");
        Ok(())
    }

    /// DescribeClientQuotas: the entities matching every component (and, when `strict`,
    /// having no other entity type), each with its quotas, in entity order.
    pub fn describe(
        &self,
        components: &[(String, QuotaMatch)],
        strict: bool,
    ) -> Result<Vec<DescribedQuotas>, KafkaError> {
        let mut seen: Vec<&str> = Vec::new();
        for (kind, _) in components {
            if kind.is_empty() {
                return Err(invalid("Invalid empty entity type."));
            }
            if seen.contains(&kind.as_str()) {
                return Err(invalid(format!(
                    "Entity type {kind} cannot appear more than once in the filter."
                )));
            }
            if ![USER, CLIENT_ID, IP].contains(&kind.as_str()) {
                return Err(KafkaError::new(
                    ResponseError::UnsupportedVersion,
                    format!("Unsupported entity type {kind}"),
                ));
            }
            seen.push(kind);
        }
        if seen.contains(&IP) && (seen.contains(&USER) || seen.contains(&CLIENT_ID)) {
            return Err(invalid(
                "Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.",
            ));
        }
        let matches = |entity: &QuotaEntity| {
            (!strict || entity.len() == components.len())
                && components.iter().all(|(kind, m)| match m {
                    QuotaMatch::Exact(name) => entity.get(kind) == Some(name),
                    QuotaMatch::Specified => entity.contains_key(kind),
                })
        };
        Ok(self
            .quotas
            .iter()
            .filter(|(e, _)| matches(e))
            .map(|(e, q)| (e.clone(), q.iter().map(|(k, v)| (k.clone(), *v)).collect()))
            .collect())
    }

    /// The quota of `kind` that applies to `client_id` (as user `ANONYMOUS`), and the
    /// metric tags (user, client id) its usage is counted under.
    fn limit(&self, kind: QuotaKind, client_id: &str) -> Option<(f64, String, String)> {
        let user = ANONYMOUS;
        let some = |s: &str| Some(s.to_string());
        let entity = |parts: &[(&str, Option<String>)]| -> QuotaEntity {
            parts
                .iter()
                .map(|(t, n)| (t.to_string(), n.clone()))
                .collect()
        };
        let levels: [(QuotaEntity, &str, &str); 8] = [
            (
                entity(&[(USER, some(user)), (CLIENT_ID, some(client_id))]),
                user,
                client_id,
            ),
            (
                entity(&[(USER, some(user)), (CLIENT_ID, None)]),
                user,
                client_id,
            ),
            (entity(&[(USER, some(user))]), user, ""),
            (
                entity(&[(USER, None), (CLIENT_ID, some(client_id))]),
                user,
                client_id,
            ),
            (entity(&[(USER, None), (CLIENT_ID, None)]), user, client_id),
            (entity(&[(USER, None)]), user, ""),
            (entity(&[(CLIENT_ID, some(client_id))]), "", client_id),
            (entity(&[(CLIENT_ID, None)]), "", client_id),
        ];
        levels.into_iter().find_map(|(e, u, c)| {
            self.quotas
                .get(&e)
                .and_then(|q| q.get(kind.key()))
                .map(|bound| (*bound, u.to_string(), c.to_string()))
        })
    }

    /// Whether any quota is set: when none is, nothing is measured.
    pub fn any(&self) -> bool {
        !self.quotas.is_empty()
    }

    /// Records `value` of `kind` for `client_id` on `broker` at `now`; the throttle time
    /// in ms (0 within the quota, or with none).
    pub fn record(
        &mut self,
        broker: i32,
        kind: QuotaKind,
        client_id: &str,
        value: f64,
        now: i64,
    ) -> i32 {
        if !self.any() {
            return 0;
        }
        let Some((bound, user, client)) = self.limit(kind, client_id) else {
            return 0;
        };
        if self.meters.len() >= METERS_BEFORE_SWEEP {
            self.meters
                .retain(|_, rate| now - rate.last_event() < METER_IDLE_MS);
        }
        let rate = self.meters.entry((broker, kind, user, client)).or_default();
        rate.record(value, now);
        let measured = rate.measure(now);
        if measured <= bound {
            return 0;
        }
        let throttle = (measured - bound) / bound * rate.window_ms(now) as f64;
        throttle.round().clamp(0.0, i32::MAX as f64) as i32
    }

    /// Takes back a recorded `value` (a fetch answered empty because it was throttled).
    pub fn unrecord(
        &mut self,
        broker: i32,
        kind: QuotaKind,
        client_id: &str,
        value: f64,
        now: i64,
    ) {
        if let Some((_, user, client)) = self.limit(kind, client_id)
            && let Some(rate) = self.meters.get_mut(&(broker, kind, user, client))
        {
            rate.record(-value, now);
        }
    }

    /// The most a fetch may return within the quota's window (Kafka's
    /// `getMaxValueInQuotaWindow`): the bound times ten seconds.
    pub fn max_in_window(&self, kind: QuotaKind, client_id: &str) -> Option<usize> {
        if !self.any() {
            return None;
        }
        self.limit(kind, client_id).map(|(bound, _, _)| {
            (bound * (SAMPLES as f64 - 1.0) * (SAMPLE_MS as f64 / 1000.0)).min(i32::MAX as f64)
                as usize
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_quota(client: &str, key: &str, value: f64) -> QuotaAlteration {
        QuotaAlteration {
            entity: [(CLIENT_ID.to_string(), Some(client.to_string()))].into(),
            ops: vec![(key.to_string(), Some(value))],
        }
    }

    /// Runs `op` on another thread while this one holds the quotas lock; whether it
    /// finished within a deadline far beyond its cost.
    fn finishes_while_locked(
        cell: &QuotasCell,
        op: impl FnOnce(QuotasCell) + Send + 'static,
    ) -> bool {
        let held = cell.lock();
        let (done, finished) = std::sync::mpsc::channel();
        let other = cell.clone();
        let worker = std::thread::spawn(move || {
            op(other);
            let _ = done.send(());
        });
        let answered = finished
            .recv_timeout(std::time::Duration::from_secs(60))
            .is_ok();
        drop(held);
        worker.join().expect("the operation does not panic");
        answered
    }

    #[test]
    fn usage_is_counted_without_the_lock_while_no_quota_is_set_and_under_it_once_one_is() {
        let cell = QuotasCell::default();
        assert!(finishes_while_locked(&cell, |q| {
            assert_eq!(q.record(0, QuotaKind::Produce, "app", 1e9, 0, false), 0);
            assert_eq!(q.max_in_window(QuotaKind::Fetch, "app"), None);
        }));
        let results = cell.alter(&[client_quota("app", "producer_byte_rate", 1000.0)], false);
        assert!(results.iter().all(|(_, r)| r.is_ok()), "{results:?}");
        // Now counted: well over 1,000 B/s earns a throttle.
        assert!(cell.record(0, QuotaKind::Produce, "app", 1e6, 0, false) > 0);
        // Removed again: back to no lock.
        let mut removal = client_quota("app", "producer_byte_rate", 0.0);
        removal.ops[0].1 = None;
        cell.alter(&[removal], false);
        assert!(finishes_while_locked(&cell, |q| {
            assert_eq!(q.record(0, QuotaKind::Produce, "app", 1e9, 0, false), 0);
        }));
    }
}
