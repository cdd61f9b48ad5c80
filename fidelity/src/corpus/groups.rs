//! FindCoordinator and the group APIs, without a running member: offsets committed by a
//! "simple" consumer (generation -1), and the errors of requests naming unknown groups or
//! members.

use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::{
    ApiKey, DeleteGroupsRequest, DescribeGroupsRequest, FindCoordinatorRequest, HeartbeatRequest,
    JoinGroupRequest, LeaveGroupRequest, ListGroupsRequest, OffsetCommitRequest,
    OffsetDeleteRequest, OffsetFetchRequest, ResponseKind, SyncGroupRequest,
};

use super::helpers::{create_topic, group, s, scenario, topic, versions};
use crate::scenario::{Scenario, Step};

/// FindCoordinator for `key` (type 0 group, 1 transactional id), repeated until Kafka has
/// made its internal topic and answers without error.
pub(super) fn find(v: i16, key: &str, key_type: i8) -> Step {
    let mut r = FindCoordinatorRequest::default();
    if v >= 1 {
        r.key_type = key_type;
    }
    if v >= 4 {
        r.coordinator_keys = vec![s(key)];
    } else {
        r.key = s(key);
    }
    Step::new(ApiKey::FindCoordinator, v, r).until(|answer| match answer {
        ResponseKind::FindCoordinator(f) => {
            f.error_code == 0 && f.coordinators.iter().all(|c| c.error_code == 0)
        }
        _ => true,
    })
}

/// Commits offset 1 of partition 0 of `name` for `group_id` as a simple consumer.
pub(super) fn commit(v: i16, group_id: &str, name: &str) -> Step {
    let mut r = OffsetCommitRequest::default()
        .with_group_id(group(group_id))
        .with_generation_id_or_member_epoch(-1)
        .with_member_id(s(""))
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(topic(name))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(1)
                        .with_committed_metadata(Some(s("meta"))),
                ]),
        ]);
    if (2..=4).contains(&v) {
        r.retention_time_ms = -1;
    }
    Step::new(ApiKey::OffsetCommit, v, r)
}

pub(super) fn fetch_offsets(v: i16, group_id: &str, name: &str) -> Step {
    let r = if v >= 8 {
        OffsetFetchRequest::default().with_groups(vec![
            OffsetFetchRequestGroup::default()
                .with_group_id(group(group_id))
                .with_topics(Some(vec![
                    OffsetFetchRequestTopics::default()
                        .with_name(topic(name))
                        .with_partition_indexes(vec![0, 1]),
                ])),
        ])
    } else {
        OffsetFetchRequest::default()
            .with_group_id(group(group_id))
            .with_topics(Some(vec![
                OffsetFetchRequestTopic::default()
                    .with_name(topic(name))
                    .with_partition_indexes(vec![0, 1]),
            ]))
    };
    Step::new(ApiKey::OffsetFetch, v, r)
}

/// A group with a committed offset and the coordinator found: setup.
fn committed_group(group_id: &str, name: &str) -> Vec<Step> {
    let mut steps = create_topic(name, 2);
    steps.push(find(4, group_id, 0).setup());
    steps.push(commit(9, group_id, name).setup());
    steps
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::FindCoordinator) {
        out.push(scenario(ApiKey::FindCoordinator, v, "group", |p| {
            vec![find(v, &format!("{p}g"), 0)]
        }));
        if v >= 1 {
            out.push(scenario(ApiKey::FindCoordinator, v, "transaction", |p| {
                vec![find(v, &format!("{p}tx"), 1)]
            }));
            out.push(scenario(ApiKey::FindCoordinator, v, "bad-key-type", |p| {
                let mut step = find(v, &format!("{p}x"), 7);
                step.until = None;
                vec![step]
            }));
        }
    }
    for v in versions(ApiKey::OffsetCommit) {
        out.push(scenario(ApiKey::OffsetCommit, v, "simple-consumer", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = create_topic(&t, 2);
            steps.push(find(4, &g, 0).setup());
            steps.push(commit(v, &g, &t));
            steps.push(fetch_offsets(8, &g, &t));
            steps
        }));
        out.push(scenario(
            ApiKey::OffsetCommit,
            v,
            "unknown-partition",
            |p| {
                let (g, t) = (format!("{p}g"), format!("{p}missing"));
                vec![find(4, &g, 0).setup(), commit(v, &g, &t)]
            },
        ));
    }
    for v in versions(ApiKey::OffsetFetch) {
        out.push(scenario(ApiKey::OffsetFetch, v, "committed", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = committed_group(&g, &t);
            steps.push(fetch_offsets(v, &g, &t));
            steps
        }));
        out.push(scenario(ApiKey::OffsetFetch, v, "unknown-group", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = create_topic(&t, 2);
            steps.push(find(4, &g, 0).setup());
            steps.push(fetch_offsets(v, &g, &t));
            steps
        }));
    }
    for v in versions(ApiKey::DescribeGroups) {
        let describe = move |g: &str| {
            let r = DescribeGroupsRequest::default().with_groups(vec![group(g)]);
            Step::new(ApiKey::DescribeGroups, v, r)
        };
        out.push(scenario(ApiKey::DescribeGroups, v, "unknown-group", |p| {
            let g = format!("{p}g");
            vec![find(4, &g, 0).setup(), describe(&g)]
        }));
        out.push(scenario(ApiKey::DescribeGroups, v, "empty-group", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = committed_group(&g, &t);
            steps.push(describe(&g));
            steps
        }));
    }
    for v in versions(ApiKey::ListGroups) {
        out.push(scenario(ApiKey::ListGroups, v, "lists", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = committed_group(&g, &t);
            steps.push(Step::new(
                ApiKey::ListGroups,
                v,
                ListGroupsRequest::default(),
            ));
            steps
        }));
        if v >= 4 {
            out.push(scenario(ApiKey::ListGroups, v, "state-filter", |p| {
                let (g, t) = (format!("{p}g"), format!("{p}t"));
                let mut steps = committed_group(&g, &t);
                let r = ListGroupsRequest::default().with_states_filter(vec![s("Stable")]);
                steps.push(Step::new(ApiKey::ListGroups, v, r));
                steps
            }));
        }
    }
    for v in versions(ApiKey::DeleteGroups) {
        let delete = move |g: &str| {
            Step::new(
                ApiKey::DeleteGroups,
                v,
                DeleteGroupsRequest::default().with_groups_names(vec![group(g)]),
            )
        };
        out.push(scenario(ApiKey::DeleteGroups, v, "unknown-group", |p| {
            let g = format!("{p}g");
            vec![find(4, &g, 0).setup(), delete(&g)]
        }));
        out.push(scenario(ApiKey::DeleteGroups, v, "empty-group", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = committed_group(&g, &t);
            steps.push(delete(&g));
            steps
        }));
    }
    for v in versions(ApiKey::OffsetDelete) {
        let delete = move |g: &str, t: &str| {
            let r = OffsetDeleteRequest::default()
                .with_group_id(group(g))
                .with_topics(vec![
                    OffsetDeleteRequestTopic::default()
                        .with_name(topic(t))
                        .with_partitions(vec![
                            OffsetDeleteRequestPartition::default().with_partition_index(0),
                        ]),
                ]);
            Step::new(ApiKey::OffsetDelete, v, r)
        };
        out.push(scenario(ApiKey::OffsetDelete, v, "empty-group", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = committed_group(&g, &t);
            steps.push(delete(&g, &t));
            steps.push(fetch_offsets(8, &g, &t));
            steps
        }));
        out.push(scenario(ApiKey::OffsetDelete, v, "unknown-group", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = create_topic(&t, 1);
            steps.push(find(4, &g, 0).setup());
            steps.push(delete(&g, &t));
            steps
        }));
    }
    for v in versions(ApiKey::Heartbeat) {
        out.push(scenario(ApiKey::Heartbeat, v, "unknown-group", |p| {
            let g = format!("{p}g");
            let r = HeartbeatRequest::default()
                .with_group_id(group(&g))
                .with_generation_id(1)
                .with_member_id(s("m-1"));
            vec![find(4, &g, 0).setup(), Step::new(ApiKey::Heartbeat, v, r)]
        }));
    }
    for v in versions(ApiKey::LeaveGroup) {
        out.push(scenario(ApiKey::LeaveGroup, v, "unknown-group", |p| {
            let g = format!("{p}g");
            let mut r = LeaveGroupRequest::default().with_group_id(group(&g));
            if v >= 3 {
                r.members = vec![
                    kafka_protocol::messages::leave_group_request::MemberIdentity::default()
                        .with_member_id(s("m-1")),
                ];
            } else {
                r.member_id = s("m-1");
            }
            vec![find(4, &g, 0).setup(), Step::new(ApiKey::LeaveGroup, v, r)]
        }));
    }
    for v in versions(ApiKey::SyncGroup) {
        out.push(scenario(ApiKey::SyncGroup, v, "unknown-group", |p| {
            let g = format!("{p}g");
            let mut r = SyncGroupRequest::default()
                .with_group_id(group(&g))
                .with_generation_id(1)
                .with_member_id(s("m-1"));
            if v >= 5 {
                r.protocol_type = Some(s("consumer"));
                r.protocol_name = Some(s("range"));
            }
            vec![find(4, &g, 0).setup(), Step::new(ApiKey::SyncGroup, v, r)]
        }));
    }
    for v in versions(ApiKey::JoinGroup) {
        out.push(scenario(ApiKey::JoinGroup, v, "unknown-member", |p| {
            let g = format!("{p}g");
            let mut r = JoinGroupRequest::default()
                .with_group_id(group(&g))
                .with_session_timeout_ms(10_000)
                .with_member_id(s("not-a-member"))
                .with_protocol_type(s("consumer"))
                .with_protocols(vec![
                    JoinGroupRequestProtocol::default()
                        .with_name(s("range"))
                        .with_metadata(Default::default()),
                ]);
            if v >= 1 {
                r.rebalance_timeout_ms = 10_000;
            }
            vec![find(4, &g, 0).setup(), Step::new(ApiKey::JoinGroup, v, r)]
        }));
        out.push(scenario(ApiKey::JoinGroup, v, "bad-session-timeout", |p| {
            let g = format!("{p}g");
            let mut r = JoinGroupRequest::default()
                .with_group_id(group(&g))
                .with_session_timeout_ms(10)
                .with_member_id(s(""))
                .with_protocol_type(s("consumer"))
                .with_protocols(vec![
                    JoinGroupRequestProtocol::default()
                        .with_name(s("range"))
                        .with_metadata(Default::default()),
                ]);
            if v >= 1 {
                r.rebalance_timeout_ms = 10_000;
            }
            vec![find(4, &g, 0).setup(), Step::new(ApiKey::JoinGroup, v, r)]
        }));
    }
    out
}
