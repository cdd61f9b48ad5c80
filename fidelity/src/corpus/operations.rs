//! ElectLeaders, DescribeLogDirs, DescribeTopicPartitions and the reassignment APIs: the
//! operations a single-broker reference can exercise (every leader there is already the
//! preferred one, and a replica can only "move" to the broker it is on).

use kafka_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use kafka_protocol::messages::describe_log_dirs_request::DescribableLogDirTopic;
use kafka_protocol::messages::describe_topic_partitions_request::{Cursor, TopicRequest};
use kafka_protocol::messages::elect_leaders_request::TopicPartitions;
use kafka_protocol::messages::list_partition_reassignments_request::ListPartitionReassignmentsTopics;
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, ApiKey, DescribeLogDirsRequest,
    DescribeTopicPartitionsRequest, ElectLeadersRequest, ListPartitionReassignmentsRequest,
};

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
            // Partition 7 does not exist: left out. Kafka makes a new partition's log
            // when its broker applies the metadata, a moment after the topic is served:
            // asked until both logs exist.
            steps.push(
                describe(Some(vec![(name.clone(), vec![0, 1, 7])])).until(|answer| match answer {
                    kafka_protocol::messages::ResponseKind::DescribeLogDirs(d) => {
                        d.results
                            .iter()
                            .flat_map(|r| &r.topics)
                            .map(|t| t.partitions.len())
                            .sum::<usize>()
                            == 2
                    }
                    _ => true,
                }),
            );
            steps
        }));
        out.push(scenario(ApiKey::DescribeLogDirs, v, "unknown-topic", |p| {
            vec![describe(Some(vec![(format!("{p}missing"), vec![0])]))]
        }));
    }
    for v in versions(ApiKey::DescribeTopicPartitions) {
        let describe = move |names: Vec<String>, limit: i32, cursor: Option<(String, i32)>| {
            let r = DescribeTopicPartitionsRequest::default()
                .with_topics(
                    names
                        .iter()
                        .map(|n| TopicRequest::default().with_name(topic(n)))
                        .collect(),
                )
                .with_response_partition_limit(limit)
                .with_cursor(cursor.map(|(t, p)| {
                    Cursor::default()
                        .with_topic_name(topic(&t))
                        .with_partition_index(p)
                }));
            Step::new(ApiKey::DescribeTopicPartitions, v, r)
        };
        out.push(scenario(
            ApiKey::DescribeTopicPartitions,
            v,
            "two-topics",
            |p| {
                let (a, b) = (format!("{p}a"), format!("{p}b"));
                let mut steps = create_topic(&a, 3);
                steps.extend(create_topic(&b, 1));
                steps.push(describe(
                    vec![b.clone(), a.clone(), format!("{p}missing")],
                    2000,
                    None,
                ));
                steps
            },
        ));
        out.push(scenario(ApiKey::DescribeTopicPartitions, v, "pages", |p| {
            let (a, b) = (format!("{p}a"), format!("{p}b"));
            let mut steps = create_topic(&a, 3);
            steps.extend(create_topic(&b, 2));
            steps.push(describe(vec![a.clone(), b.clone()], 2, None));
            steps.push(describe(
                vec![a.clone(), b.clone()],
                2,
                Some((a.clone(), 2)),
            ));
            steps.push(describe(
                vec![a.clone(), b.clone()],
                2,
                Some((b.clone(), 1)),
            ));
            steps
        }));
    }
    for v in versions(ApiKey::AlterPartitionReassignments) {
        let reassign = move |name: &str, targets: Vec<(i32, Option<Vec<i32>>)>| {
            let r = AlterPartitionReassignmentsRequest::default()
                .with_timeout_ms(30_000)
                .with_topics(vec![
                    ReassignableTopic::default()
                        .with_name(topic(name))
                        .with_partitions(
                            targets
                                .into_iter()
                                .map(|(p, t)| {
                                    ReassignablePartition::default()
                                        .with_partition_index(p)
                                        .with_replicas(
                                            t.map(|t| t.into_iter().map(Into::into).collect()),
                                        )
                                })
                                .collect(),
                        ),
                ]);
            Step::new(ApiKey::AlterPartitionReassignments, v, r)
        };
        out.push(scenario(
            ApiKey::AlterPartitionReassignments,
            v,
            "same-broker",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 1);
                steps.push(reassign(&name, vec![(0, Some(vec![1]))]));
                steps
            },
        ));
        out.push(scenario(
            ApiKey::AlterPartitionReassignments,
            v,
            "invalid",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 3);
                steps.push(reassign(
                    &name,
                    vec![
                        (0, Some(vec![])),
                        (1, Some(vec![1, 1])),
                        (2, Some(vec![7])),
                        (5, Some(vec![1])),
                    ],
                ));
                steps.push(reassign(&name, vec![(0, None)]));
                steps.push(reassign(&format!("{p}missing"), vec![(0, Some(vec![1]))]));
                steps
            },
        ));
    }
    for v in versions(ApiKey::ListPartitionReassignments) {
        out.push(scenario(
            ApiKey::ListPartitionReassignments,
            v,
            "none-ongoing",
            |p| {
                let name = format!("{p}t");
                let mut steps = create_topic(&name, 2);
                let r = ListPartitionReassignmentsRequest::default()
                    .with_timeout_ms(30_000)
                    .with_topics(Some(vec![
                        ListPartitionReassignmentsTopics::default()
                            .with_name(topic(&name))
                            .with_partition_indexes(vec![0, 1, 9]),
                    ]));
                steps.push(Step::new(ApiKey::ListPartitionReassignments, v, r));
                steps
            },
        ));
    }
    out
}
