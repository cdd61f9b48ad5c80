//! ElectLeaders and DescribeLogDirs: the operations APIs a single-broker reference can
//! exercise (every leader there is already the preferred one).

use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::{ApiKey, DescribeLogDirsRequest, ElectLeadersRequest};

use super::helpers::{create_topic, scenario, topic, versions};
use super::records::{batch, produce};
use crate::scenario::{Scenario, Step};

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::ElectLeaders) {
        let elect = move |kind: i8, partitions: Option<Vec<(String, Vec<i32>)>>| {
            let r = ElectLeadersRequest::default()
                .with_election_type(kind)
                .with_timeout_ms(30_000)
                .with_topic_partitions(partitions.map(|ps| {
                    ps.into_iter()
                        .map(|(t, p)| {
                            TopicPartitions::default()
                                .with_topic(topic(&t))
                                .with_partitions(p)
                        })
                        .collect()
                }));
            Step::new(ApiKey::ElectLeaders, v, r)
        };
        out.push(scenario(
            ApiKey::ElectLeaders,
            v,
            "preferred-not-needed",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 2);
                steps.push(elect(0, Some(vec![(name.clone(), vec![0, 1])])));
                steps
            },
        ));
        if v >= 1 {
            out.push(scenario(
                ApiKey::ElectLeaders,
                v,
                "unclean-not-needed",
                |p| {
                    let name = format!("{p}t");
                    let mut steps = create_topic(&name, 1);
                    steps.push(elect(1, Some(vec![(name.clone(), vec![0])])));
                    steps
                },
            ));
        }
        out.push(scenario(ApiKey::ElectLeaders, v, "unknown", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 1);
            steps.push(elect(
                0,
                Some(vec![
                    (format!("{p}missing"), vec![0]),
                    (name.clone(), vec![5]),
                ]),
            ));
            steps
        }));
        out.push(scenario(ApiKey::ElectLeaders, v, "every-partition", |p| {
            let mut steps = create_topic(&format!("{p}t"), 2);
            steps.push(elect(0, None));
            steps
        }));
    }
    for v in versions(ApiKey::DescribeLogDirs) {
        let describe = move |topics: Option<Vec<(String, Vec<i32>)>>| {
            let r = DescribeLogDirsRequest::default().with_topics(topics.map(|ts| {
                ts.into_iter()
                    .map(|(t, p)| {
                        DescribableLogDirTopic::default()
                            .with_topic(topic(&t))
                            .with_partitions(p)
                    })
                    .collect()
            }));
            Step::new(ApiKey::DescribeLogDirs, v, r)
        };
        out.push(scenario(ApiKey::DescribeLogDirs, v, "sizes", |p| {
            let name = format!("{p}t");
            let mut steps = create_topic(&name, 2);
            steps.push(produce(9, &name, 0, -1, batch(&["a", "bb", "ccc"])).setup());
            steps.push(produce(9, &name, 0, -1, batch(&["dddd"])).setup());
            steps.push(describe(Some(vec![(name.clone(), vec![0, 1])])));
            steps.push(describe(Some(vec![(name.clone(), vec![1, 7])])));
            steps
        }));
        out.push(scenario(ApiKey::DescribeLogDirs, v, "unknown-topic", |p| {
            vec![describe(Some(vec![(format!("{p}missing"), vec![0])]))]
        }));
    }
    out
}
