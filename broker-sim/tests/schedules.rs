//! Fault schedules as values (`broker_sim::schedule`): their JSON is the control API's
//! vocabulary, they print one line per step, applying one does to a cluster what its
//! events say (a refused event is reported, not fatal), and the same schedule on two
//! clusters with the same seed leaves them the same; generated schedules (the `proptest`
//! feature, which the crate's own tests turn on) respect their shape's bounds.

use broker_sim::schedule::{At, Event, Schedule, Step};
use broker_sim::{ApiKey, Cluster, Fault, ResponseError};
use serde_json::json;

fn sample() -> Schedule {
    Schedule {
        steps: vec![
            Step {
                at: At::Ms(1_500),
                event: Event::StopBroker { broker: 2 },
            },
            Step {
                at: At::Records(100),
                event: Event::InjectFault {
                    fault: Fault::on(ApiKey::Produce)
                        .topic("orders")
                        .error(ResponseError::NotLeaderOrFollower)
                        .times(2),
                },
            },
            Step {
                at: At::Ms(3_000),
                event: Event::MoveLeader {
                    topic: "orders".into(),
                    partition: 0,
                    broker: 3,
                },
            },
            Step {
                at: At::Ms(4_000),
                event: Event::StartBroker { broker: 2 },
            },
        ],
    }
}

#[test]
fn a_schedule_is_json_in_the_control_apis_vocabulary_and_reads_back() {
    let schedule = sample();
    let value: serde_json::Value = serde_json::from_str(&schedule.to_json()).unwrap();
    assert_eq!(
        value["steps"][0],
        json!({"at": {"ms": 1500}, "type": "stop_broker", "broker": 2})
    );
    assert_eq!(
        value["steps"][1],
        json!({"at": {"records": 100}, "type": "inject_fault", "fault": {
            "match": {"api": "Produce", "topic": "orders"},
            "action": {"type": "error", "code": "NOT_LEADER_OR_FOLLOWER"},
            "times": 2,
        }})
    );
    assert_eq!(Schedule::from_json(&schedule.to_json()).unwrap(), schedule);
    let typo = r#"{"steps": [{"at": {"ms": 1}, "type": "stop_broker", "brocker": 2}]}"#;
    assert!(Schedule::from_json(typo).unwrap_err().contains("brocker"));
}

#[test]
fn a_schedule_prints_one_line_per_step() {
    let text = sample().to_string();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "at 1500 ms: stop broker 2");
    assert!(
        lines[1].starts_with("after 100 records: inject fault {"),
        "{}",
        lines[1]
    );
    assert_eq!(
        lines[2],
        "at 3000 ms: move the leader of orders-0 to broker 3"
    );
    assert_eq!(lines[3], "at 4000 ms: start broker 2");
    assert_eq!(Schedule::default().to_string(), "(no events)");
}

#[test]
fn applying_a_schedule_does_what_it_says_and_reports_refusals() {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("orders", 3)
        .start()
        .unwrap();
    let mut schedule = sample();
    // Stopping a broker twice: the second is refused, and the rest still applies.
    schedule.steps.insert(
        1,
        Step {
            at: At::Ms(1_600),
            event: Event::StopBroker { broker: 2 },
        },
    );
    let applied = schedule.apply(&cluster);
    let outcomes: Vec<bool> = applied.iter().map(|a| a.outcome.is_ok()).collect();
    assert_eq!(outcomes, [true, false, true, true, true]);
    assert_eq!(cluster.faults().len(), 1);
    assert_eq!(cluster.partition("orders", 0).unwrap().leader, 3);
    assert!(cluster.broker_status().iter().all(|b| b.up));
}

#[test]
fn the_same_schedule_on_two_clusters_with_one_seed_leaves_them_the_same() {
    let run = || {
        let cluster = Cluster::builder()
            .brokers(3)
            .topic("orders", 6)
            .seed(7)
            .start()
            .unwrap();
        sample().apply(&cluster);
        Schedule {
            steps: vec![Step {
                at: At::Ms(0),
                event: Event::ElectPreferredLeaders,
            }],
        }
        .apply(&cluster);
        cluster
            .partitions("orders")
            .unwrap()
            .into_iter()
            .map(|p| (p.leader, p.leader_epoch, p.isr))
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

mod generated {
    use broker_sim::schedule::strategy::{Shape, schedules};
    use broker_sim::schedule::{At, Event};
    use proptest::prelude::*;

    proptest! {
        /// Never more brokers down than the shape allows; moments in order, within the
        /// span; names only the shape's topics and groups.
        #[test]
        fn generated_schedules_keep_to_their_shape(
            schedule in schedules(Shape::new(3).topic("orders", 6).group("billing")),
        ) {
            let mut down = std::collections::BTreeSet::new();
            let mut last = 0;
            prop_assert!(schedule.steps.len() <= 12);
            for step in &schedule.steps {
                let At::Ms(ms) = step.at else { panic!("generated steps are timed") };
                prop_assert!(ms >= last && ms < 10_000);
                last = ms;
                match &step.event {
                    Event::StopBroker { broker } | Event::IsolateBroker { broker } => {
                        down.insert(*broker);
                    }
                    Event::StartBroker { broker } | Event::HealBroker { broker } => {
                        down.remove(broker);
                    }
                    Event::MoveLeader { topic, partition, .. } => {
                        prop_assert_eq!(topic, "orders");
                        prop_assert!((0..6).contains(partition));
                    }
                    Event::ExpireMembers { group } => prop_assert_eq!(group, "billing"),
                    _ => {}
                }
                prop_assert!(down.len() <= 1, "{} down after: {}", down.len(), schedule);
            }
        }
    }
}

#[test]
fn a_runner_applies_each_step_when_its_record_count_or_cluster_time_comes() {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("orders", 3)
        .manual_clock(1_700_000_000_000)
        .start()
        .unwrap();
    let schedule = Schedule {
        steps: vec![
            Step {
                at: At::Records(3),
                event: Event::StopBroker { broker: 2 },
            },
            Step {
                at: At::Ms(5_000),
                event: Event::StartBroker { broker: 2 },
            },
        ],
    };
    let mut runner = broker_sim::schedule::Runner::new(&schedule, &cluster);
    for i in 0..2 {
        cluster
            .produce("orders", None, format!("{i}").as_bytes())
            .unwrap();
    }
    assert_eq!(runner.poll(&cluster), 0, "two records: not yet");
    cluster.produce("orders", None, b"2").unwrap();
    assert_eq!(runner.poll(&cluster), 1);
    assert!(!cluster.broker_status()[1].up);
    cluster.advance(std::time::Duration::from_millis(4_999));
    assert_eq!(runner.poll(&cluster), 0, "the clock has not reached 5 s");
    cluster.advance(std::time::Duration::from_millis(1));
    assert_eq!(runner.poll(&cluster), 1);
    assert!(runner.done() && cluster.broker_status()[1].up);
    assert!(runner.applied().iter().all(|a| a.outcome.is_ok()));
}

#[test]
fn run_while_applies_the_schedule_while_the_code_under_test_runs() {
    let cluster = Cluster::builder()
        .brokers(3)
        .topic("orders", 3)
        .start()
        .unwrap();
    let schedule = Schedule {
        steps: vec![Step {
            at: At::Records(5),
            event: Event::StopBroker { broker: 1 },
        }],
    };
    let (written, runner) = schedule.run_while(&cluster, || {
        for i in 0..10 {
            cluster
                .produce("orders", None, format!("{i}").as_bytes())
                .unwrap();
        }
        // The code under test goes on until it sees the broker go (bounded).
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while cluster.broker_status()[0].up && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        cluster.records("orders").len()
    });
    assert_eq!(written, 10);
    assert!(runner.done(), "pending: {:?}", runner.pending());
    assert!(!cluster.broker_status()[0].up);
}
