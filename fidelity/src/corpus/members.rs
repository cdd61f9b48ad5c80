//! A group with a real member, request by request: JoinGroup (with the member id round
//! trip of v4+), SyncGroup, Heartbeat, OffsetCommit with the generation, LeaveGroup and
//! DescribeGroups, each API in every version with the others at a fixed one.

use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ApiKey, DescribeGroupsRequest, HeartbeatRequest, JoinGroupRequest, LeaveGroupRequest,
    OffsetCommitRequest, RequestKind, SyncGroupRequest,
};

use super::helpers::{create_topic, group, s, scenario, topic, versions};
use crate::scenario::{Scenario, Step};

/// The group's coordinator, once Kafka has one: setup.
fn find(g: &str) -> Step {
    super::groups::find(4, g, 0).setup()
}

fn join(v: i16, g: &str, fill_member: bool) -> Step {
    let mut r = JoinGroupRequest::default()
        .with_group_id(group(g))
        .with_session_timeout_ms(30_000)
        .with_member_id(s(""))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![
            JoinGroupRequestProtocol::default()
                .with_name(s("range"))
                .with_metadata(bytes::Bytes::from_static(&[0, 1, 0, 0, 0, 0, 0, 0, 0, 0])),
        ]);
    if v >= 1 {
        r.rebalance_timeout_ms = 30_000;
    }
    let step = Step::new(ApiKey::JoinGroup, v, r);
    if fill_member {
        step.fill(|r, seen| {
            if let RequestKind::JoinGroup(j) = r {
                j.member_id = s(seen.member_id.clone());
            }
        })
    } else {
        step
    }
}

/// Joins as the group's only member: one JoinGroup before v4, two from v4 (the first is
/// answered MEMBER_ID_REQUIRED with the id to use).
fn joined(v: i16, g: &str) -> Vec<Step> {
    let mut steps = vec![find(g), join(v, g, false)];
    if v >= 4 {
        steps.push(join(v, g, true));
    }
    steps
}

fn sync(v: i16, g: &str) -> Step {
    let mut r = SyncGroupRequest::default().with_group_id(group(g));
    if v >= 5 {
        r.protocol_type = Some(s("consumer"));
        r.protocol_name = Some(s("range"));
    }
    Step::new(ApiKey::SyncGroup, v, r).fill(|r, seen| {
        if let RequestKind::SyncGroup(sg) = r {
            sg.member_id = s(seen.member_id.clone());
            sg.generation_id = seen.generation;
            sg.assignments = vec![
                SyncGroupRequestAssignment::default()
                    .with_member_id(s(seen.member_id.clone()))
                    .with_assignment(bytes::Bytes::from_static(&[0, 1, 0, 0, 0, 0, 0, 0])),
            ];
        }
    })
}

fn heartbeat(v: i16, g: &str) -> Step {
    Step::new(
        ApiKey::Heartbeat,
        v,
        HeartbeatRequest::default().with_group_id(group(g)),
    )
    .fill(|r, seen| {
        if let RequestKind::Heartbeat(h) = r {
            h.member_id = s(seen.member_id.clone());
            h.generation_id = seen.generation;
        }
    })
}

fn commit(v: i16, g: &str, t: &str) -> Step {
    let mut r = OffsetCommitRequest::default()
        .with_group_id(group(g))
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(topic(t))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(0),
                ]),
        ]);
    if (2..=4).contains(&v) {
        r.retention_time_ms = -1;
    }
    Step::new(ApiKey::OffsetCommit, v, r).fill(|r, seen| {
        if let RequestKind::OffsetCommit(c) = r {
            c.member_id = s(seen.member_id.clone());
            c.generation_id_or_member_epoch = seen.generation;
        }
    })
}

fn leave(v: i16, g: &str) -> Step {
    let step = Step::new(
        ApiKey::LeaveGroup,
        v,
        LeaveGroupRequest::default().with_group_id(group(g)),
    );
    if v >= 3 {
        step.fill(|r, seen| {
            if let RequestKind::LeaveGroup(l) = r {
                l.members =
                    vec![MemberIdentity::default().with_member_id(s(seen.member_id.clone()))];
            }
        })
    } else {
        step.fill(|r, seen| {
            if let RequestKind::LeaveGroup(l) = r {
                l.member_id = s(seen.member_id.clone());
            }
        })
    }
}

fn describe(v: i16, g: &str) -> Step {
    Step::new(
        ApiKey::DescribeGroups,
        v,
        DescribeGroupsRequest::default().with_groups(vec![group(g)]),
    )
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::JoinGroup) {
        out.push(scenario(
            ApiKey::JoinGroup,
            v,
            "member-joins-and-syncs",
            |p| {
                let g = format!("{p}g");
                let mut steps = joined(v, &g);
                steps.push(sync(5, &g));
                steps.push(describe(5, &g));
                steps
            },
        ));
    }
    for v in versions(ApiKey::SyncGroup) {
        out.push(scenario(ApiKey::SyncGroup, v, "leader-assigns", |p| {
            let g = format!("{p}g");
            let mut steps = joined(9, &g);
            steps.push(sync(v, &g));
            steps
        }));
    }
    for v in versions(ApiKey::Heartbeat) {
        out.push(scenario(ApiKey::Heartbeat, v, "stable-member", |p| {
            let g = format!("{p}g");
            let mut steps = joined(9, &g);
            steps.push(sync(5, &g));
            steps.push(heartbeat(v, &g));
            steps
        }));
    }
    for v in versions(ApiKey::OffsetCommit) {
        out.push(scenario(ApiKey::OffsetCommit, v, "member-commits", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = create_topic(&t, 1);
            steps.extend(joined(9, &g));
            steps.push(sync(5, &g));
            steps.push(commit(v, &g, &t));
            steps
        }));
    }
    for v in versions(ApiKey::LeaveGroup) {
        out.push(scenario(ApiKey::LeaveGroup, v, "member-leaves", |p| {
            let g = format!("{p}g");
            let mut steps = joined(9, &g);
            steps.push(sync(5, &g));
            steps.push(leave(v, &g));
            steps.push(describe(5, &g));
            steps
        }));
    }
    for v in versions(ApiKey::DescribeGroups) {
        out.push(scenario(ApiKey::DescribeGroups, v, "stable-group", |p| {
            let g = format!("{p}g");
            let mut steps = joined(9, &g);
            steps.push(sync(5, &g));
            steps.push(describe(v, &g));
            steps
        }));
    }
    out
}
