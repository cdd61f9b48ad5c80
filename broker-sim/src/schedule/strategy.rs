//! proptest strategies for fault schedules (the `proptest` feature): schedules for a
//! cluster [`Shape`], with weights that favour what breaks services most often (crashes
//! and restarts, lost answers, leader moves) and bounds that keep the cluster able to
//! accept acks=all writes unless asked otherwise. Shrinking goes towards fewer events
//! (proptest drops steps from the list), earlier-listed and simpler ones (each event
//! shrinks to its first variant: a broker restart) and smaller numbers.
//!
//! [`schedules`] draws whole timed schedules. A test that interleaves cluster events with
//! its own operations (the crate's model test does) draws single ones from [`events`] and
//! keeps its sequence within the shape's down-broker bound with [`DownBrokers`], the same
//! bound `schedules` applies, so there is one definition of what may happen to a cluster.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::{At, Event, Schedule, Step};
use crate::{ApiKey, Fault, ResponseError};

/// What the schedules are for: the cluster's brokers and the topics and groups the code
/// under test uses.
#[derive(Debug, Clone)]
pub struct Shape {
    /// Broker ids 1..=brokers.
    pub brokers: i32,
    /// Topics with their partition counts.
    pub topics: Vec<(String, i32)>,
    pub groups: Vec<String>,
    /// How many brokers may be down (stopped or isolated) at once: by default
    /// replication factor − `min.insync.replicas`, so acks=all writes keep succeeding;
    /// `brokers` for "anything goes".
    pub max_down: i32,
    /// At most this many steps.
    pub max_steps: usize,
    /// Steps fall within this many cluster milliseconds.
    pub span_ms: u64,
}

impl Shape {
    /// `brokers` brokers, replication factor min(3, brokers), `min.insync.replicas` 2 (1
    /// with fewer than three brokers): at most one broker down at a time.
    pub fn new(brokers: i32) -> Shape {
        let rf = brokers.min(3);
        let min_isr = if rf >= 3 { 2 } else { 1 };
        Shape {
            brokers,
            topics: Vec::new(),
            groups: Vec::new(),
            max_down: (rf - min_isr).max(0),
            max_steps: 12,
            span_ms: 10_000,
        }
    }

    pub fn topic(mut self, name: impl Into<String>, partitions: i32) -> Shape {
        self.topics.push((name.into(), partitions));
        self
    }

    pub fn group(mut self, group: impl Into<String>) -> Shape {
        self.groups.push(group.into());
        self
    }

    /// At most `n` brokers down (stopped or isolated) at once.
    pub fn max_down(mut self, n: i32) -> Shape {
        self.max_down = n;
        self
    }

    /// Any number of brokers may be down at once.
    pub fn anything_goes(mut self) -> Shape {
        self.max_down = self.brokers;
        self
    }
}

/// Single events for `shape`, with the weights and shrinking of [`schedules`], drawn
/// without regard to `max_down`: pass a sequence of them through [`DownBrokers::admit`]
/// to keep it within the bound.
pub fn events(shape: &Shape) -> BoxedStrategy<Event> {
    let broker = 1..=shape.brokers.max(1);
    let mut choices: Vec<(u32, BoxedStrategy<Event>)> = vec![
        (
            4,
            broker
                .clone()
                .prop_map(|broker| Event::RestartBroker { broker })
                .boxed(),
        ),
        (
            3,
            broker
                .clone()
                .prop_map(|broker| Event::StopBroker { broker })
                .boxed(),
        ),
        (
            3,
            broker
                .clone()
                .prop_map(|broker| Event::StartBroker { broker })
                .boxed(),
        ),
        (
            1,
            broker
                .clone()
                .prop_map(|broker| Event::IsolateBroker { broker })
                .boxed(),
        ),
        (
            1,
            broker
                .clone()
                .prop_map(|broker| Event::HealBroker { broker })
                .boxed(),
        ),
        (
            1,
            broker
                .clone()
                .prop_map(|broker| Event::PauseReplication { broker })
                .boxed(),
        ),
        (
            1,
            broker
                .clone()
                .prop_map(|broker| Event::ResumeReplication { broker })
                .boxed(),
        ),
        (1, Just(Event::ElectPreferredLeaders).boxed()),
        (2, fault(shape)),
        (1, Just(Event::ClearFaults).boxed()),
    ];
    if !shape.topics.is_empty() {
        let topics = shape.topics.clone();
        let brokers = shape.brokers.max(1);
        choices.push((
            2,
            (0..topics.len(), 0..i32::MAX, 1..=brokers)
                .prop_map(move |(t, p, broker)| Event::MoveLeader {
                    topic: topics[t].0.clone(),
                    partition: p % topics[t].1.max(1),
                    broker,
                })
                .boxed(),
        ));
    }
    if !shape.groups.is_empty() {
        let groups = shape.groups.clone();
        choices.push((
            2,
            (0..groups.len())
                .prop_map(move |g| Event::ExpireMembers {
                    group: groups[g].clone(),
                })
                .boxed(),
        ));
    }
    proptest::strategy::Union::new_weighted(choices).boxed()
}

/// A fault rule on the requests services depend on: refused, answered late, or processed
/// with the answer lost, a few times.
fn fault(shape: &Shape) -> BoxedStrategy<Event> {
    let api = prop_oneof![
        Just(ApiKey::Produce),
        Just(ApiKey::Fetch),
        Just(ApiKey::OffsetCommit),
        Just(ApiKey::Heartbeat),
        Just(ApiKey::JoinGroup),
        Just(ApiKey::Metadata),
    ];
    let topic = if shape.topics.is_empty() {
        Just(None).boxed()
    } else {
        let topics: Vec<String> = shape.topics.iter().map(|(t, _)| t.clone()).collect();
        prop_oneof![
            Just(None),
            (0..topics.len()).prop_map(move |i| Some(topics[i].clone()))
        ]
        .boxed()
    };
    let action = prop_oneof![
        Just(0u8), // a retriable refusal
        Just(1u8), // processed, then the answer lost (REQUEST_TIMED_OUT)
        Just(2u8), // late
        Just(3u8), // the connection closed
    ];
    (api, topic, action, 1u64..=3, 10u64..=500)
        .prop_map(|(api, topic, action, times, ms)| {
            let mut selector = Fault::on(api);
            if let Some(t) = topic
                && matches!(api, ApiKey::Produce | ApiKey::Fetch)
            {
                selector = selector.topic(t);
            }
            let code = match api {
                ApiKey::OffsetCommit | ApiKey::Heartbeat | ApiKey::JoinGroup => {
                    ResponseError::CoordinatorNotAvailable
                }
                _ => ResponseError::NotLeaderOrFollower,
            };
            let fault = match action {
                0 => selector.error(code),
                1 => selector.apply_then_error(ResponseError::RequestTimedOut),
                2 => selector.latency(std::time::Duration::from_millis(ms)),
                _ => selector.close_connection(),
            };
            Event::InjectFault {
                fault: fault.times(times),
            }
        })
        .boxed()
}

/// Schedules for `shape`: up to `max_steps` events at increasing moments within
/// `span_ms`, never more than `max_down` brokers down at once (an event that would pass
/// the bound becomes a restart of the same broker, see [`DownBrokers`]).
pub fn schedules(shape: Shape) -> impl Strategy<Value = Schedule> {
    let max_steps = shape.max_steps;
    let span = shape.span_ms.max(1);
    let max_down = shape.max_down;
    prop::collection::vec((0..span, events(&shape)), 0..=max_steps).prop_map(move |mut drawn| {
        drawn.sort_by_key(|(at, _)| *at);
        let mut down = DownBrokers::new(max_down);
        let steps = drawn
            .into_iter()
            .map(|(at, event)| Step {
                at: At::Ms(at),
                event: down.admit(event),
            })
            .collect();
        Schedule { steps }
    })
}

/// Which brokers a sequence of events, applied in order to a cluster whose brokers are
/// all up, has taken down (stopped or isolated), so that the sequence can be kept to a
/// bound: [`DownBrokers::admit`] passes each event through, or replaces one that would
/// take one broker too many down.
///
/// Refused events change nothing, as on the cluster: healing a stopped broker leaves it
/// down, isolating a stopped one is refused. The count errs only on the safe side: a
/// restart of an isolated broker brings it back, but it stays counted until it is
/// started or healed.
#[derive(Debug, Clone)]
pub struct DownBrokers {
    max_down: i32,
    stopped: BTreeSet<i32>,
    isolated: BTreeSet<i32>,
}

impl DownBrokers {
    /// No broker down yet; at most `max_down` at once.
    pub fn new(max_down: i32) -> DownBrokers {
        DownBrokers {
            max_down,
            stopped: BTreeSet::new(),
            isolated: BTreeSet::new(),
        }
    }

    /// `event`, or a restart of its broker where it would take one broker too many down;
    /// counts what it lets through.
    pub fn admit(&mut self, event: Event) -> Event {
        match event {
            Event::StopBroker { broker } | Event::IsolateBroker { broker }
                if !self.is_down(broker) && self.down() as i32 >= self.max_down =>
            {
                Event::RestartBroker { broker }
            }
            Event::StopBroker { broker } => {
                self.isolated.remove(&broker);
                self.stopped.insert(broker);
                event
            }
            Event::IsolateBroker { broker } => {
                // A stopped broker cannot be isolated.
                if !self.is_down(broker) {
                    self.isolated.insert(broker);
                }
                event
            }
            // Starting an isolated broker heals it.
            Event::StartBroker { broker } => {
                self.stopped.remove(&broker);
                self.isolated.remove(&broker);
                event
            }
            Event::HealBroker { broker } => {
                self.isolated.remove(&broker);
                event
            }
            other => other,
        }
    }

    fn is_down(&self, broker: i32) -> bool {
        self.stopped.contains(&broker) || self.isolated.contains(&broker)
    }

    fn down(&self) -> usize {
        self.stopped.len() + self.isolated.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(max_down: i32, events: Vec<Event>) -> Vec<Event> {
        let mut down = DownBrokers::new(max_down);
        events.into_iter().map(|e| down.admit(e)).collect()
    }

    #[test]
    fn a_stop_or_isolation_past_the_bound_becomes_a_restart() {
        let got = admitted(
            1,
            vec![
                Event::StopBroker { broker: 1 },
                Event::IsolateBroker { broker: 2 },
                Event::StartBroker { broker: 1 },
                Event::IsolateBroker { broker: 2 },
            ],
        );
        assert_eq!(
            got,
            vec![
                Event::StopBroker { broker: 1 },
                Event::RestartBroker { broker: 2 },
                Event::StartBroker { broker: 1 },
                Event::IsolateBroker { broker: 2 },
            ]
        );
    }

    #[test]
    fn healing_a_stopped_broker_is_refused_so_it_stays_down() {
        let got = admitted(
            1,
            vec![
                Event::StopBroker { broker: 1 },
                Event::HealBroker { broker: 1 },
                Event::StopBroker { broker: 2 },
            ],
        );
        assert_eq!(got[2], Event::RestartBroker { broker: 2 });
    }
}
