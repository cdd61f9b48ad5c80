//! The cluster's fault rules: storage, matching, hit counting, and the embedding calls.
//!
//! Rules sit behind their own mutex, apart from the cluster state, and an atomic flag says
//! whether there are any: with no rules (the normal case) a request pays one atomic load.
//! A rule that has fired `times` times stays listed, with its hits, but no longer fires.
//! Probabilities come from a generator seeded by the cluster seed, drawn only for
//! requests a rule matches, so the same seed and the same requests give the same hits.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;

use super::{Fault, FaultAction, FaultId, FaultStatus};
use crate::cluster::Cluster;
use crate::error::KafkaError;
use crate::rng::SimRng;

/// What selectors look at in one request.
#[derive(Debug, Default)]
pub(crate) struct Target {
    pub api: Option<ApiKey>,
    pub broker: i32,
    pub client_id: String,
    /// Topics named by the request, with the partitions it names (`None`: the request
    /// is about the whole topic, like Metadata or DeleteTopics).
    pub topics: Vec<(String, Option<Vec<i32>>)>,
    pub groups: Vec<String>,
}

/// A rule that fired for a request.
#[derive(Debug, Clone)]
pub(crate) struct Fired {
    pub id: FaultId,
    pub action: FaultAction,
    /// The partitions the selector picked, or `None` when it selects no topic or
    /// partition (the whole request is affected).
    pub partitions: Option<Vec<(String, i32)>>,
}

impl Fired {
    /// Whether `topic`-`partition` of the request is affected.
    pub fn covers(&self, topic: &str, partition: i32) -> bool {
        self.partitions
            .as_ref()
            .is_none_or(|ps| ps.iter().any(|(t, p)| t == topic && *p == partition))
    }

    /// Whether `topic` (as a whole) is affected.
    pub fn covers_topic(&self, topic: &str) -> bool {
        self.partitions
            .as_ref()
            .is_none_or(|ps| ps.iter().any(|(t, _)| t == topic))
    }
}

struct Rule {
    fault: Fault,
    hits: u64,
}

struct Inner {
    next_id: u64,
    rules: BTreeMap<u64, Rule>,
    rng: SimRng,
}

pub(crate) struct FaultRules {
    any: AtomicBool,
    inner: Mutex<Inner>,
    fired: Condvar,
}

impl FaultRules {
    pub fn new(seed: u64) -> Self {
        FaultRules {
            any: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                next_id: 1,
                rules: BTreeMap::new(),
                // A stream of its own, so adding rules never shifts the ids the cluster
                // draws from its main generator.
                rng: SimRng::new(seed ^ 0x6661_756c_7473),
            }),
            fired: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether any rule exists: the fast path for every request.
    pub fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Relaxed)
    }

    fn add(&self, fault: Fault) -> Result<FaultId, KafkaError> {
        if let Some(p) = fault.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("probability must be between 0 and 1, not {p}"),
            ));
        }
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        tracing::info!(id, ?fault, "fault rule added");
        inner.rules.insert(id, Rule { fault, hits: 0 });
        self.any.store(true, Ordering::Relaxed);
        Ok(FaultId(id))
    }

    fn remove(&self, id: FaultId) -> bool {
        let mut inner = self.lock();
        let removed = inner.rules.remove(&id.0).is_some();
        self.any.store(!inner.rules.is_empty(), Ordering::Relaxed);
        removed
    }

    fn clear(&self) {
        self.lock().rules.clear();
        self.any.store(false, Ordering::Relaxed);
    }

    fn list(&self) -> Vec<FaultStatus> {
        self.lock()
            .rules
            .iter()
            .map(|(id, r)| FaultStatus {
                id: FaultId(*id),
                fault: r.fault.clone(),
                hits: r.hits,
            })
            .collect()
    }

    fn hits(&self, id: FaultId) -> Option<u64> {
        self.lock().rules.get(&id.0).map(|r| r.hits)
    }

    /// The first rule (in id order) that matches `target` and fires, counting the hit.
    pub fn fire(&self, target: &Target) -> Option<Fired> {
        let mut inner = self.lock();
        let Inner { rules, rng, .. } = &mut *inner;
        for (id, rule) in rules.iter_mut() {
            if rule.fault.times.is_some_and(|n| rule.hits >= n) {
                continue;
            }
            let Some(partitions) = matches(&rule.fault, target) else {
                continue;
            };
            if let Some(p) = rule.fault.probability {
                // 53 random bits make a uniform f64 in [0, 1).
                let draw = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                if draw >= p {
                    continue;
                }
            }
            rule.hits += 1;
            self.fired.notify_all();
            return Some(Fired {
                id: FaultId(*id),
                action: rule.fault.action.clone(),
                partitions,
            });
        }
        None
    }

    fn wait(&self, id: FaultId, hits: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        loop {
            match inner.rules.get(&id.0) {
                None => return false,
                Some(r) if r.hits >= hits => return true,
                Some(_) => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            inner = self
                .fired
                .wait_timeout(inner, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Whether `fault` selects `target`: `None` if not; otherwise the partitions it picks
/// (`None` inside when it picks no topic or partition, i.e. the whole request).
fn matches(fault: &Fault, target: &Target) -> Option<Option<Vec<(String, i32)>>> {
    let s = &fault.selector;
    let ok = s.api.is_none_or(|api| Some(api) == target.api)
        && s.broker.is_none_or(|b| b == target.broker)
        && s.client_id.as_deref().is_none_or(|c| c == target.client_id)
        && s.group
            .as_deref()
            .is_none_or(|g| target.groups.iter().any(|t| t == g));
    if !ok {
        return None;
    }
    if s.topic.is_none() && s.partition.is_none() {
        return Some(None);
    }
    let mut picked = Vec::new();
    for (topic, partitions) in &target.topics {
        if s.topic.as_deref().is_some_and(|t| t != topic) {
            continue;
        }
        match partitions {
            // A request about whole topics (Metadata, DeleteTopics) is picked by topic.
            None => picked.push((topic.clone(), -1)),
            Some(ps) => picked.extend(
                ps.iter()
                    .filter(|p| s.partition.is_none_or(|sp| sp == **p))
                    .map(|p| (topic.clone(), *p)),
            ),
        }
    }
    (!picked.is_empty()).then_some(Some(picked))
}

/// Fault injection from a test (see [`super`] for the rule language).
impl Cluster {
    /// Adds a fault rule; it applies to requests read from now on. INVALID_REQUEST for a
    /// probability outside 0–1.
    pub fn inject(&self, fault: Fault) -> Result<FaultId, KafkaError> {
        self.shared.faults.add(fault)
    }

    /// Every rule, in id order, with its hits so far.
    pub fn faults(&self) -> Vec<FaultStatus> {
        self.shared.faults.list()
    }

    /// How often rule `id` fired; `None` if there is no such rule.
    pub fn fault_hits(&self, id: FaultId) -> Option<u64> {
        self.shared.faults.hits(id)
    }

    /// Removes rule `id`; false if there was none.
    pub fn remove_fault(&self, id: FaultId) -> bool {
        self.shared.faults.remove(id)
    }

    /// Removes every rule.
    pub fn clear_faults(&self) {
        self.shared.faults.clear()
    }

    /// Blocks until rule `id` has fired `hits` times (true) or `timeout` passed, or the
    /// rule is removed (false).
    pub fn wait_for_fault(&self, id: FaultId, hits: u64, timeout: Duration) -> bool {
        self.shared.faults.wait(id, hits, timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn produce_to(topic: &str, partitions: &[i32]) -> Target {
        Target {
            api: Some(ApiKey::Produce),
            broker: 1,
            client_id: "app".into(),
            topics: vec![(topic.into(), Some(partitions.to_vec()))],
            groups: vec![],
        }
    }

    #[test]
    fn selectors_are_anded_and_pick_partitions() {
        let rules = FaultRules::new(0);
        assert!(rules.is_empty());
        rules
            .add(
                Fault::on(ApiKey::Produce)
                    .topic("t")
                    .partition(1)
                    .broker(1)
                    .error(ResponseError::NotLeaderOrFollower),
            )
            .unwrap();
        assert!(!rules.is_empty());
        let fired = rules.fire(&produce_to("t", &[0, 1, 2])).unwrap();
        assert_eq!(fired.partitions, Some(vec![("t".to_string(), 1)]));
        assert!(fired.covers("t", 1) && !fired.covers("t", 0));
        assert!(rules.fire(&produce_to("t", &[0, 2])).is_none());
        assert!(rules.fire(&produce_to("other", &[1])).is_none());
        let mut elsewhere = produce_to("t", &[1]);
        elsewhere.broker = 2;
        assert!(rules.fire(&elsewhere).is_none());
    }

    #[test]
    fn times_limits_hits_and_the_rule_stays_listed() {
        let rules = FaultRules::new(0);
        let id = rules.add(Fault::any().close_connection().times(2)).unwrap();
        let target = produce_to("t", &[0]);
        assert!(rules.fire(&target).is_some());
        assert!(rules.fire(&target).is_some());
        assert!(rules.fire(&target).is_none());
        assert_eq!(rules.hits(id), Some(2));
        assert!(rules.wait(id, 2, Duration::ZERO));
        assert!(rules.remove(id));
        assert!(rules.is_empty());
    }

    #[test]
    fn probabilities_replay_with_the_same_seed() {
        let pattern = |seed| {
            let rules = FaultRules::new(seed);
            rules
                .add(Fault::any().no_response().probability(0.5))
                .unwrap();
            (0..64)
                .map(|_| rules.fire(&produce_to("t", &[0])).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(pattern(7), pattern(7));
        assert_ne!(pattern(7), pattern(8));
        let hits = pattern(7).iter().filter(|h| **h).count();
        assert!((16..=48).contains(&hits), "{hits} of 64");
        assert!(
            FaultRules::new(0)
                .add(Fault::any().no_response().probability(1.5))
                .is_err()
        );
    }
}
