//! The rule store: ids, hit counters, `times`, seeded probabilities, and matching a request
//! against the rules.
//!
//! Rules sit behind their own mutex, apart from the cluster state, so matching never waits
//! for a handler, and an atomic flag says whether there are any: with no rules (the normal
//! case) a request pays one atomic load and nothing else. Rules are tried in id order and
//! the first that matches and fires wins. A rule that has fired `times` times leaves the
//! active set at once, so spent rules cost later requests nothing; its id, rule and hits
//! move to a bounded history of the last [`SPENT_HISTORY`] spent rules, which listing,
//! `hits` and `wait` still read, so a test can ask how often a recently spent rule fired.
//! Probabilities come from a generator of their own,
//! seeded from the cluster seed and drawn only when a rule matches, so the same seed and
//! the same requests give the same hits. Each hit wakes the threads blocked in
//! [`FaultRules::wait`] (`Cluster::wait_for_fault`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;

use super::{Fault, FaultAction, FaultId, FaultStatus};
use crate::error::KafkaError;
use crate::rng::SimRng;

/// What a rule's selector can see of one request (see `target.rs` for how it is read).
#[derive(Debug)]
pub(crate) struct Target<'a> {
    pub api: ApiKey,
    /// The broker the request arrived at.
    pub broker: i32,
    /// The request header's client id ("" when null).
    pub client_id: &'a str,
    /// The connection's principal ("User:ANONYMOUS" before any authentication).
    pub principal: &'a str,
    /// Topics the request names, in its order.
    pub topics: Vec<TopicRef>,
    /// Groups the request names.
    pub groups: Vec<String>,
    /// Transactional ids the request names.
    pub transactional_ids: Vec<String>,
}

/// One topic a request names.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TopicRef {
    /// The group it is named under, for requests about several groups' offsets
    /// (OffsetFetch v8+), so a rule on group `a` and topic `t` does not match `t` asked
    /// for under group `b`.
    pub group: Option<String>,
    pub name: String,
    /// The partitions it names; `None` for requests about whole topics (CreateTopics,
    /// DeleteTopics), which a rule with a partition selector never matches.
    pub partitions: Option<Vec<i32>>,
}

/// A rule that fired for a request: what to do, and to which parts of it.
#[derive(Debug, Clone)]
pub(crate) struct Fired {
    pub id: FaultId,
    pub action: FaultAction,
    topic: Option<String>,
    partition: Option<i32>,
    group: Option<String>,
}

impl Fired {
    /// Whether the rule picks out no topic or partition, i.e. acts on the whole request.
    pub fn whole_request(&self) -> bool {
        self.topic.is_none() && self.partition.is_none()
    }

    /// Whether the rule selects a partition (not only a topic).
    pub fn selects_partition(&self) -> bool {
        self.partition.is_some()
    }

    /// Whether partition `partition` of `topic`, named under `group` where the request
    /// names several groups, is one the rule acts on.
    pub fn covers(&self, group: Option<&str>, topic: &str, partition: i32) -> bool {
        self.covers_topic(group, topic) && self.partition.is_none_or(|p| p == partition)
    }

    /// Whether `topic` (named under `group`) is one the rule acts on, partitions aside.
    pub fn covers_topic(&self, group: Option<&str>, topic: &str) -> bool {
        self.covers_group(group) && self.topic.as_deref().is_none_or(|t| t == topic)
    }

    /// Whether the rule acts on `group` (`None`: the request's only group, already matched).
    pub fn covers_group(&self, group: Option<&str>) -> bool {
        match (group, &self.group) {
            (Some(g), Some(selected)) => g == selected,
            _ => true,
        }
    }
}

struct Rule {
    fault: Fault,
    hits: u64,
}

impl Rule {
    /// Whether the rule fired as often as its `times` allows.
    fn spent(&self) -> bool {
        self.fault.times.is_some_and(|n| self.hits >= n)
    }

    fn status(&self, id: u64) -> FaultStatus {
        FaultStatus {
            id: FaultId(id),
            fault: self.fault.clone(),
            hits: self.hits,
        }
    }
}

/// How many spent rules the history keeps: enough for any test to read the hits of the
/// rules it just used up, while a client that adds rules forever cannot grow it.
pub(crate) const SPENT_HISTORY: usize = 1_000;

struct Inner {
    next_id: u64,
    /// The rules that may still fire: the only ones a request is matched against.
    rules: BTreeMap<u64, Rule>,
    /// Spent rules, oldest first, at most [`SPENT_HISTORY`].
    spent: VecDeque<(u64, Rule)>,
    rng: SimRng,
}

impl Inner {
    /// Rule `id`, active or recently spent.
    fn find(&self, id: u64) -> Option<&Rule> {
        self.rules
            .get(&id)
            .or_else(|| self.spent.iter().find(|(i, _)| *i == id).map(|(_, r)| r))
    }

    /// Moves a spent rule to the history, dropping the oldest entry past its bound.
    fn retire(&mut self, id: u64, rule: Rule) {
        tracing::info!(rule = id, hits = rule.hits, "fault rule spent");
        if self.spent.len() == SPENT_HISTORY {
            self.spent.pop_front();
        }
        self.spent.push_back((id, rule));
    }
}

/// The cluster's fault rules (`Shared::faults`).
pub(crate) struct FaultRules {
    /// Whether any rule exists: the one thing every request looks at.
    any: AtomicBool,
    inner: Mutex<Inner>,
    /// Notified on every hit and every removal, for [`FaultRules::wait`].
    changed: Condvar,
}

/// Mixed into the cluster seed so fault draws are a stream of their own: adding rules or
/// drawing for them never shifts the ids the cluster draws from its main generator.
const SEED_SALT: u64 = 0x6661_756c_7473; // "faults"

impl FaultRules {
    pub fn new(seed: u64) -> Self {
        FaultRules {
            any: AtomicBool::new(false),
            inner: Mutex::new(Inner {
                next_id: 1,
                rules: BTreeMap::new(),
                spent: VecDeque::new(),
                rng: SimRng::new(seed ^ SEED_SALT),
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding this lock cannot leave a rule half-written.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether there are no rules: the fast path every request takes. Acquire pairs with
    /// the Release in `add`, so a request read after `inject` returned sees the rule.
    pub fn is_empty(&self) -> bool {
        !self.any.load(Ordering::Acquire)
    }

    /// Adds a rule; INVALID_REQUEST for a probability outside 0–1 (NaN included) or a
    /// negative throttle time.
    pub fn add(&self, fault: Fault) -> Result<FaultId, KafkaError> {
        if let Some(p) = fault.probability
            && !(0.0..=1.0).contains(&p)
        {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("probability must be between 0 and 1, not {p}"),
            ));
        }
        if let FaultAction::Throttle { ms } = fault.action
            && ms < 0
        {
            return Err(KafkaError::new(
                ResponseError::InvalidRequest,
                format!("throttle time must not be negative, not {ms} ms"),
            ));
        }
        let mut inner = self.lock();
        let id = inner.next_id;
        inner.next_id += 1;
        tracing::info!(rule = id, ?fault, "fault rule added");
        let rule = Rule { fault, hits: 0 };
        // `times: 0` is spent before it ever fires.
        if rule.spent() {
            inner.retire(id, rule);
        } else {
            inner.rules.insert(id, rule);
            self.any.store(true, Ordering::Release);
        }
        Ok(FaultId(id))
    }

    /// Removes a rule, active or spent; false if there was none. Waiters on it give up.
    pub fn remove(&self, id: FaultId) -> bool {
        let mut inner = self.lock();
        let before = inner.spent.len();
        inner.spent.retain(|(i, _)| *i != id.0);
        let removed = inner.rules.remove(&id.0).is_some() || inner.spent.len() < before;
        self.any.store(!inner.rules.is_empty(), Ordering::Release);
        self.changed.notify_all();
        if removed {
            tracing::info!(rule = id.0, "fault rule removed");
        }
        removed
    }

    /// Removes every rule. Ids keep counting up, so an old id never names a new rule.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.rules.clear();
        inner.spent.clear();
        self.any.store(false, Ordering::Release);
        self.changed.notify_all();
        tracing::info!("fault rules cleared");
    }

    /// Every active rule and every spent rule the history still holds, in id order, with
    /// their hits (a spent rule's hits equal its `times`).
    pub fn list(&self) -> Vec<FaultStatus> {
        let inner = self.lock();
        let mut listed: Vec<FaultStatus> = inner
            .rules
            .iter()
            .map(|(id, r)| r.status(*id))
            .chain(inner.spent.iter().map(|(id, r)| r.status(*id)))
            .collect();
        listed.sort_by_key(|s| s.id);
        listed
    }

    /// Rule `id`'s status, active or recently spent.
    pub fn get(&self, id: FaultId) -> Option<FaultStatus> {
        self.lock().find(id.0).map(|r| r.status(id.0))
    }

    /// How many rules may still fire (spent ones are not counted).
    #[cfg(test)]
    pub fn active(&self) -> usize {
        self.lock().rules.len()
    }

    pub fn hits(&self, id: FaultId) -> Option<u64> {
        self.lock().find(id.0).map(|r| r.hits)
    }

    /// The first rule, in id order, that matches `target` and fires; its hit is counted.
    pub fn fire(&self, target: &Target<'_>) -> Option<Fired> {
        let mut inner = self.lock();
        let Inner { rules, rng, .. } = &mut *inner;
        let (id, fired, spent) = rules.iter_mut().find_map(|(id, rule)| {
            if !matches(&rule.fault, target) {
                return None;
            }
            if let Some(p) = rule.fault.probability {
                // The top 53 bits of a draw make a uniform f64 in [0, 1).
                let draw = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                if draw >= p {
                    return None;
                }
            }
            rule.hits += 1;
            let s = &rule.fault.selector;
            let fired = Fired {
                id: FaultId(*id),
                action: rule.fault.action.clone(),
                topic: s.topic.clone(),
                partition: s.partition,
                group: s.group.clone(),
            };
            Some((*id, fired, rule.spent()))
        })?;
        if spent && let Some(rule) = inner.rules.remove(&id) {
            inner.retire(id, rule);
            self.any.store(!inner.rules.is_empty(), Ordering::Release);
        }
        self.changed.notify_all();
        Some(fired)
    }

    /// Blocks until rule `id` has `hits` hits (true), or `timeout` passes or the rule is
    /// removed (or spent, or forgotten by the history) first (false).
    pub fn wait(&self, id: FaultId, hits: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut inner = self.lock();
        loop {
            match inner.find(id.0) {
                None => return false,
                Some(r) if r.hits >= hits => return true,
                // A spent rule fires no more.
                Some(r) if r.spent() => return false,
                Some(_) => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            inner = self
                .changed
                .wait_timeout(inner, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Whether `fault`'s selector matches `target`: every field it sets must. A topic or
/// partition selector needs one named topic (under a selected group, if one is set) that
/// satisfies both; a request that names no topics or groups never matches a rule that
/// selects them.
fn matches(fault: &Fault, target: &Target<'_>) -> bool {
    let s = &fault.selector;
    let plain = s.api.is_none_or(|api| api == target.api)
        && s.broker.is_none_or(|b| b == target.broker)
        && s.client_id.as_deref().is_none_or(|c| c == target.client_id)
        && s.principal.as_deref().is_none_or(|p| p == target.principal)
        && s.group
            .as_deref()
            .is_none_or(|g| target.groups.iter().any(|t| t == g))
        && s.transactional_id
            .as_deref()
            .is_none_or(|id| target.transactional_ids.iter().any(|t| t == id));
    if !plain {
        return false;
    }
    if s.topic.is_none() && s.partition.is_none() {
        return true;
    }
    target.topics.iter().any(|t| {
        let group_ok = match (&t.group, &s.group) {
            (Some(named), Some(selected)) => named == selected,
            _ => true,
        };
        group_ok
            && s.topic.as_deref().is_none_or(|topic| topic == t.name)
            && s.partition
                .is_none_or(|p| t.partitions.as_ref().is_some_and(|ps| ps.contains(&p)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn produce_to(topic: &str, partitions: &[i32]) -> Target<'static> {
        Target {
            api: ApiKey::Produce,
            broker: 1,
            client_id: "app",
            principal: "User:ANONYMOUS",
            topics: vec![TopicRef {
                group: None,
                name: topic.into(),
                partitions: Some(partitions.to_vec()),
            }],
            groups: vec![],
            transactional_ids: vec![],
        }
    }

    fn not_leader() -> ResponseError {
        ResponseError::NotLeaderOrFollower
    }

    #[test]
    fn selectors_are_anded_and_a_partition_selector_needs_that_partition() {
        let rules = FaultRules::new(0);
        assert!(rules.is_empty());
        rules
            .add(
                Fault::on(ApiKey::Produce)
                    .topic("t")
                    .partition(1)
                    .broker(1)
                    .client_id("app")
                    .error(not_leader()),
            )
            .unwrap();
        assert!(!rules.is_empty());
        let fired = rules.fire(&produce_to("t", &[0, 1, 2])).unwrap();
        assert!(fired.covers(None, "t", 1));
        assert!(!fired.covers(None, "t", 0) && !fired.covers(None, "u", 1));
        assert!(!fired.whole_request() && fired.selects_partition());
        assert!(rules.fire(&produce_to("t", &[0, 2])).is_none());
        assert!(rules.fire(&produce_to("other", &[1])).is_none());
        let mut elsewhere = produce_to("t", &[1]);
        elsewhere.broker = 2;
        assert!(rules.fire(&elsewhere).is_none());
        let mut someone_else = produce_to("t", &[1]);
        someone_else.client_id = "other-app";
        assert!(rules.fire(&someone_else).is_none());
        let mut fetch = produce_to("t", &[1]);
        fetch.api = ApiKey::Fetch;
        assert!(rules.fire(&fetch).is_none());
    }

    #[test]
    fn requests_without_the_selected_dimension_do_not_match() {
        let rules = FaultRules::new(0);
        rules.add(Fault::any().topic("t").no_response()).unwrap();
        rules.add(Fault::any().group("g").no_response()).unwrap();
        rules.add(Fault::any().partition(0).no_response()).unwrap();
        let join = Target {
            api: ApiKey::JoinGroup,
            broker: 1,
            client_id: "",
            principal: "User:ANONYMOUS",
            topics: vec![],
            groups: vec!["other".into()],
            transactional_ids: vec![],
        };
        assert!(rules.fire(&join).is_none(), "no topic, another group");
        let create = Target {
            api: ApiKey::CreateTopics,
            broker: 1,
            client_id: "",
            principal: "User:ANONYMOUS",
            topics: vec![TopicRef {
                group: None,
                name: "u".into(),
                partitions: None,
            }],
            groups: vec![],
            transactional_ids: vec![],
        };
        assert!(
            rules.fire(&create).is_none(),
            "a whole topic has no partition 0"
        );
        assert!(rules.fire(&produce_to("u", &[0])).is_some());
    }

    #[test]
    fn a_group_and_topic_rule_needs_the_topic_under_that_group() {
        let rules = FaultRules::new(0);
        rules
            .add(
                Fault::on(ApiKey::OffsetFetch)
                    .group("a")
                    .topic("t")
                    .error(not_leader()),
            )
            .unwrap();
        let named = |group: &str, topic: &str| TopicRef {
            group: Some(group.into()),
            name: topic.into(),
            partitions: Some(vec![0]),
        };
        let mut target = Target {
            api: ApiKey::OffsetFetch,
            broker: 1,
            client_id: "",
            principal: "User:ANONYMOUS",
            topics: vec![named("a", "u"), named("b", "t")],
            groups: vec!["a".into(), "b".into()],
            transactional_ids: vec![],
        };
        assert!(rules.fire(&target).is_none());
        target.topics.push(named("a", "t"));
        let fired = rules.fire(&target).unwrap();
        assert!(fired.covers(Some("a"), "t", 0));
        assert!(!fired.covers(Some("b"), "t", 0));
        assert!(fired.covers_group(Some("a")) && !fired.covers_group(Some("b")));
    }

    #[test]
    fn the_first_rule_in_id_order_that_fires_wins() {
        let rules = FaultRules::new(0);
        let first = rules.add(Fault::any().close_connection().once()).unwrap();
        let second = rules.add(Fault::any().no_response()).unwrap();
        let target = produce_to("t", &[0]);
        assert_eq!(rules.fire(&target).unwrap().id, first);
        assert_eq!(rules.fire(&target).unwrap().id, second);
        assert_eq!(rules.hits(first), Some(1));
        assert_eq!(rules.hits(second), Some(1));
    }

    #[test]
    fn times_limits_hits_and_a_spent_rule_leaves_the_active_set_but_stays_listed() {
        let rules = FaultRules::new(0);
        let id = rules.add(Fault::any().close_connection().times(2)).unwrap();
        let target = produce_to("t", &[0]);
        assert!(rules.fire(&target).is_some());
        assert_eq!(rules.active(), 1);
        assert!(rules.fire(&target).is_some());
        assert!(rules.is_empty(), "spent: requests no longer look at it");
        assert_eq!(rules.active(), 0);
        assert!(rules.fire(&target).is_none());
        assert_eq!(rules.hits(id), Some(2));
        assert_eq!(rules.list().len(), 1);
        assert_eq!(rules.list()[0].hits, 2);
        assert_eq!(rules.get(id).unwrap().fault.times, Some(2));
        assert!(rules.wait(id, 2, Duration::ZERO));
        assert!(
            !rules.wait(id, 3, Duration::from_secs(60)),
            "a spent rule never fires again: no need to wait"
        );
        assert!(rules.remove(id));
        assert!(!rules.remove(id));
        assert!(rules.is_empty() && rules.list().is_empty());
        assert_eq!(rules.hits(id), None);
    }

    #[test]
    fn many_spent_rules_keep_the_active_set_small_and_the_history_bounded() {
        let rules = FaultRules::new(0);
        let target = produce_to("t", &[0]);
        let forever = rules.add(Fault::on(ApiKey::Fetch).no_response()).unwrap();
        let total = 3 * SPENT_HISTORY as u64;
        let mut last = forever;
        for _ in 0..total {
            last = rules.add(Fault::any().close_connection().once()).unwrap();
            assert_eq!(rules.fire(&target).unwrap().id, last);
        }
        assert_eq!(rules.active(), 1, "only the rule that never runs out");
        let listed = rules.list();
        assert_eq!(listed.len(), 1 + SPENT_HISTORY);
        assert_eq!(listed[0].id, forever);
        // The most recent spent rules are remembered, in id order; older ones forgotten.
        assert_eq!(listed[1].id, FaultId(last.0 + 1 - SPENT_HISTORY as u64));
        assert_eq!(listed.last().unwrap().id, last);
        assert_eq!(rules.hits(last), Some(1));
        assert!(rules.wait(last, 1, Duration::ZERO));
        assert_eq!(rules.hits(FaultId(2)), None, "forgotten");
        assert!(!rules.remove(FaultId(2)));
        let zero = rules.add(Fault::any().no_response().times(0)).unwrap();
        assert_eq!((rules.active(), rules.hits(zero)), (1, Some(0)));
        assert!(rules.fire(&target).is_none());
    }

    #[test]
    fn ids_count_up_from_one_and_are_never_reused() {
        let rules = FaultRules::new(0);
        assert_eq!(rules.add(Fault::any().no_response()).unwrap(), FaultId(1));
        assert_eq!(rules.add(Fault::any().no_response()).unwrap(), FaultId(2));
        rules.clear();
        assert!(rules.is_empty() && rules.list().is_empty());
        assert_eq!(rules.add(Fault::any().no_response()).unwrap(), FaultId(3));
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
    }

    #[test]
    fn probabilities_zero_and_one_are_never_and_always() {
        let rules = FaultRules::new(1);
        let never = rules
            .add(Fault::any().no_response().probability(0.0))
            .unwrap();
        let always = rules
            .add(Fault::any().no_response().probability(1.0))
            .unwrap();
        for _ in 0..32 {
            assert_eq!(rules.fire(&produce_to("t", &[0])).unwrap().id, always);
        }
        assert_eq!(rules.hits(never), Some(0));
    }

    #[test]
    fn a_probability_outside_zero_to_one_or_a_negative_throttle_is_refused() {
        let rules = FaultRules::new(0);
        for p in [1.5, -0.1, f64::NAN] {
            let err = rules
                .add(Fault::any().no_response().probability(p))
                .unwrap_err();
            assert_eq!(err.code, ResponseError::InvalidRequest);
            assert!(err.message.contains("probability"), "{}", err.message);
        }
        let mut negative = Fault::any().throttle(Duration::ZERO);
        negative.action = FaultAction::Throttle { ms: -1 };
        assert!(rules.add(negative).is_err());
        assert!(rules.is_empty());
    }

    #[test]
    fn a_waiter_wakes_when_another_thread_fires_the_rule() {
        let rules = std::sync::Arc::new(FaultRules::new(0));
        let id = rules.add(Fault::any().no_response()).unwrap();
        let firing = {
            let rules = rules.clone();
            std::thread::spawn(move || {
                for _ in 0..3 {
                    rules.fire(&produce_to("t", &[0]));
                }
            })
        };
        assert!(rules.wait(id, 3, Duration::from_secs(30)));
        firing.join().unwrap();
    }

    #[test]
    fn removing_a_rule_releases_its_waiters() {
        let rules = std::sync::Arc::new(FaultRules::new(0));
        let id = rules.add(Fault::any().no_response()).unwrap();
        let waiter = {
            let rules = rules.clone();
            std::thread::spawn(move || rules.wait(id, 1, Duration::from_secs(60)))
        };
        // The waiter may start waiting before or after the removal; either way it ends.
        rules.remove(id);
        assert!(!waiter.join().unwrap());
    }
}
