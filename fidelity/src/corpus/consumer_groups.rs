//! Consumer groups of the new protocol (KIP-848): ConsumerGroupHeartbeat's joins,
//! heartbeats, leaves, static members, reconciliation between two members and refusals;
//! ConsumerGroupDescribe; and what the classic group APIs say of such a group
//! (OffsetCommit and OffsetFetch with member epochs, ListGroups, DescribeGroups).
//!
//! v1 members pick their own ids (KIP-1082), so those scenarios use fixed ids; v0
//! members are given one by the coordinator, and later steps fill it in.

use kafka_protocol::messages::consumer_group_heartbeat_request::TopicPartitions;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::{
    ApiKey, ConsumerGroupDescribeRequest, ConsumerGroupHeartbeatRequest, DescribeGroupsRequest,
    ListGroupsRequest, OffsetCommitRequest, OffsetFetchRequest, RequestKind,
};

use super::helpers::{create_topic, group, s, scenario, topic, versions};
use crate::scenario::{Scenario, Step};

const MEMBER: &str = "0f9c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
const OTHER: &str = "1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d";

fn find(g: &str) -> Step {
    super::groups::find(4, g, 0).setup()
}

/// Waits until Kafka's group coordinator knows topic `t`: a probe member joins group
/// `{g}-probe` until it is given partitions. Kafka's coordinator learns of a new topic
/// from its metadata image, a little after the topic is created and served, and a
/// member that joins before that is first given nothing; broker-sim knows at once.
fn coordinator_knows(g: &str, t: &str) -> Step {
    step(1, join_request(1, &format!("{g}-probe"), t, MEMBER))
        .until(|answer| match answer {
            kafka_protocol::messages::ResponseKind::ConsumerGroupHeartbeat(h) => h
                .assignment
                .as_ref()
                .is_some_and(|a| !a.topic_partitions.is_empty()),
            _ => true,
        })
        .setup()
}

/// A topic of `partitions` and the group's coordinator, which knows the topic.
fn ready(g: &str, t: &str, partitions: i32) -> Vec<Step> {
    let mut steps = create_topic(t, partitions);
    steps.push(find(g));
    steps.push(coordinator_knows(g, t));
    steps
}

/// A first heartbeat (epoch 0) subscribing to `t`, as `member` ("" for v0).
fn join_request(v: i16, g: &str, t: &str, member: &str) -> ConsumerGroupHeartbeatRequest {
    ConsumerGroupHeartbeatRequest::default()
        .with_group_id(group(g))
        .with_member_id(s(if v >= 1 { member } else { "" }))
        .with_member_epoch(0)
        .with_instance_id(None)
        .with_rack_id(None)
        .with_rebalance_timeout_ms(30_000)
        .with_subscribed_topic_names(Some(vec![topic(t)]))
        .with_subscribed_topic_regex(None)
        .with_server_assignor(None)
        .with_topic_partitions(Some(vec![]))
}

fn step(v: i16, r: ConsumerGroupHeartbeatRequest) -> Step {
    Step::new(ApiKey::ConsumerGroupHeartbeat, v, r)
}

fn join(v: i16, g: &str, t: &str) -> Step {
    step(v, join_request(v, g, t, MEMBER))
}

/// A heartbeat with nothing changed, as `member` at `epoch`.
fn beat_request(g: &str, member: &str, epoch: i32) -> ConsumerGroupHeartbeatRequest {
    ConsumerGroupHeartbeatRequest::default()
        .with_group_id(group(g))
        .with_member_id(s(member))
        .with_member_epoch(epoch)
        .with_instance_id(None)
        .with_rack_id(None)
        .with_rebalance_timeout_ms(-1)
        .with_subscribed_topic_names(None)
        .with_subscribed_topic_regex(None)
        .with_server_assignor(None)
        .with_topic_partitions(None)
}

fn fill_member(r: &mut RequestKind, seen: &crate::scenario::Seen) {
    if let RequestKind::ConsumerGroupHeartbeat(h) = r {
        h.member_id = s(seen.member_id.clone());
        if h.member_epoch >= 0 {
            h.member_epoch = seen.generation;
        }
    }
}

fn fill_member_ahead(r: &mut RequestKind, seen: &crate::scenario::Seen) {
    if let RequestKind::ConsumerGroupHeartbeat(h) = r {
        h.member_id = s(seen.member_id.clone());
        h.member_epoch = seen.generation + 5;
    }
}

/// The member's next heartbeat (id and epoch from its last answer).
fn beat(v: i16, g: &str) -> Step {
    step(v, beat_request(g, "", 0)).fill(fill_member)
}

/// The member leaves with `epoch` (-1, or -2 for a static member).
fn leave(v: i16, g: &str, epoch: i32, instance: Option<&str>) -> Step {
    step(
        v,
        beat_request(g, "", epoch).with_instance_id(instance.map(s)),
    )
    .fill(fill_member)
}

fn describe(v: i16, g: &str) -> Step {
    Step::new(
        ApiKey::ConsumerGroupDescribe,
        v,
        ConsumerGroupDescribeRequest::default().with_group_ids(vec![group(g)]),
    )
}

/// A topic of `partitions`, the group's coordinator, and one member that joined.
fn joined(v: i16, g: &str, t: &str, partitions: i32) -> Vec<Step> {
    let mut steps = ready(g, t, partitions);
    steps.push(join(v, g, t).setup());
    steps
}

fn heartbeat_scenarios(v: i16, out: &mut Vec<Scenario>) {
    let key = ApiKey::ConsumerGroupHeartbeat;
    out.push(scenario(key, v, "member-joins", |p| {
        let (g, t) = (format!("{p}g"), format!("{p}t"));
        let mut steps = ready(&g, &t, 2);
        steps.push(join(v, &g, &t));
        steps.push(beat(v, &g));
        steps.push(describe(1, &g));
        steps
    }));
    out.push(scenario(key, v, "member-leaves", |p| {
        let (g, t) = (format!("{p}g"), format!("{p}t"));
        let mut steps = joined(v, &g, &t, 2);
        steps.push(leave(v, &g, -1, None));
        steps.push(describe(1, &g));
        steps
    }));
    out.push(scenario(key, v, "fenced-epoch", |p| {
        let (g, t) = (format!("{p}g"), format!("{p}t"));
        let mut steps = joined(v, &g, &t, 1);
        steps.push(step(v, beat_request(&g, "", 0)).fill(fill_member_ahead));
        steps
    }));
    out.push(scenario(key, v, "unknown-member", |p| {
        let (g, t) = (format!("{p}g"), format!("{p}t"));
        let mut steps = joined(v, &g, &t, 1);
        steps.push(step(v, beat_request(&g, OTHER, 1)));
        steps
    }));
    out.push(scenario(key, v, "unknown-group", |p| {
        let g = format!("{p}g");
        vec![find(&g), step(v, beat_request(&g, MEMBER, 1))]
    }));
    out.push(scenario(key, v, "range-assignor", |p| {
        let (g, t) = (format!("{p}g"), format!("{p}t"));
        let mut steps = ready(&g, &t, 3);
        steps.push(step(
            v,
            join_request(v, &g, &t, MEMBER).with_server_assignor(Some(s("range"))),
        ));
        steps.push(describe(1, &g));
        steps
    }));
    type Tweak = fn(ConsumerGroupHeartbeatRequest) -> ConsumerGroupHeartbeatRequest;
    let refusals: [(&str, Tweak); 7] = [
        ("no-rebalance-timeout", |r| r.with_rebalance_timeout_ms(-1)),
        ("owned-on-join", |r| {
            r.with_topic_partitions(Some(vec![
                TopicPartitions::default().with_partitions(vec![0]),
            ]))
        }),
        ("no-owned-on-join", |r| r.with_topic_partitions(None)),
        ("no-subscription", |r| r.with_subscribed_topic_names(None)),
        ("unknown-assignor", |r| {
            r.with_server_assignor(Some(s("sticky-ish")))
        }),
        ("invalid-epoch", |r| r.with_member_epoch(-3)),
        ("static-leave-without-instance", |r| r.with_member_epoch(-2)),
    ];
    for (what, tweak) in refusals {
        out.push(scenario(key, v, what, |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = create_topic(&t, 1);
            steps.push(find(&g));
            steps.push(step(v, tweak(join_request(v, &g, &t, MEMBER))));
            steps
        }));
    }
    out.push(scenario(
        key,
        v,
        "static-member-leaves-and-is-replaced",
        |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = ready(&g, &t, 2);
            steps.push(step(
                v,
                join_request(v, &g, &t, MEMBER).with_instance_id(Some(s("i1"))),
            ));
            steps.push(leave(v, &g, -2, Some("i1")));
            steps.push(describe(1, &g));
            steps.push(step(
                v,
                join_request(v, &g, &t, OTHER).with_instance_id(Some(s("i1"))),
            ));
            steps.push(describe(1, &g));
            steps
        },
    ));
    if v >= 1 {
        out.push(scenario(key, v, "instance-id-in-use", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = ready(&g, &t, 1);
            steps.push(step(
                v,
                join_request(v, &g, &t, MEMBER).with_instance_id(Some(s("i1"))),
            ));
            steps.push(step(
                v,
                join_request(v, &g, &t, OTHER).with_instance_id(Some(s("i1"))),
            ));
            steps
        }));
        out.push(scenario(key, v, "empty-member-id", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = create_topic(&t, 1);
            steps.push(find(&g));
            steps.push(step(v, join_request(v, &g, &t, "")));
            steps
        }));
        out.push(scenario(key, v, "regex-subscription", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = ready(&g, &t, 2);
            steps.push(
                step(
                    v,
                    join_request(v, &g, &t, MEMBER)
                        .with_subscribed_topic_names(None)
                        .with_subscribed_topic_regex(Some(s(format!("{p}.*")))),
                )
                .setup(),
            );
            // Kafka resolves expressions in the background: the member's heartbeats
            // are answered without the topic until it has.
            steps.push(
                step(v, beat_request(&g, MEMBER, 0))
                    .fill(fill_member)
                    .until(|answer| match answer {
                        kafka_protocol::messages::ResponseKind::ConsumerGroupHeartbeat(h) => {
                            h.assignment.is_some()
                        }
                        _ => true,
                    }),
            );
            steps.push(describe(1, &g));
            steps
        }));
        out.push(scenario(key, v, "invalid-regex", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = create_topic(&t, 1);
            steps.push(find(&g));
            steps.push(step(
                v,
                join_request(v, &g, &t, MEMBER)
                    .with_subscribed_topic_names(None)
                    .with_subscribed_topic_regex(Some(s("(unclosed"))),
            ));
            steps
        }));
        // Two members: the second joins, the first is told to give a partition up, acks,
        // and the second gets it.
        out.push(scenario(key, v, "two-members-reconcile", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = ready(&g, &t, 2);
            steps.push(step(v, join_request(v, &g, &t, MEMBER)));
            steps.push(step(v, join_request(v, &g, &t, OTHER)));
            steps.push(step(v, beat_request(&g, MEMBER, 1)));
            steps.push(describe(1, &g));
            steps.push(step(
                v,
                beat_request(&g, MEMBER, 1).with_topic_partitions(Some(vec![])),
            ));
            steps.push(step(v, beat_request(&g, OTHER, 2)));
            steps.push(describe(1, &g));
            steps
        }));
    }
}

fn member_commit(g: &str, t: &str, epoch_delta: i32) -> Step {
    let r = OffsetCommitRequest::default()
        .with_group_id(group(g))
        .with_generation_id_or_member_epoch(epoch_delta)
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(topic(t))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(0),
                ]),
        ]);
    Step::new(ApiKey::OffsetCommit, 9, r).fill(|r, seen| {
        if let RequestKind::OffsetCommit(c) = r {
            c.member_id = s(seen.member_id.clone());
            c.generation_id_or_member_epoch += seen.generation;
        }
    })
}

fn member_fetch(g: &str, t: &str, epoch_delta: i32) -> Step {
    let r = OffsetFetchRequest::default().with_groups(vec![
        OffsetFetchRequestGroup::default()
            .with_group_id(group(g))
            .with_member_epoch(epoch_delta)
            .with_topics(Some(vec![
                OffsetFetchRequestTopics::default()
                    .with_name(topic(t))
                    .with_partition_indexes(vec![0]),
            ])),
    ]);
    Step::new(ApiKey::OffsetFetch, 9, r).fill(|r, seen| {
        if let RequestKind::OffsetFetch(f) = r {
            for g in &mut f.groups {
                g.member_id = Some(s(seen.member_id.clone()));
                g.member_epoch += seen.generation;
            }
        }
    })
}

/// A classic consumer's JoinGroup v9 of `g` subscribing to `t` (its id and generation
/// filled from its own last JoinGroup answer).
fn classic_join(g: &str, t: &str) -> Step {
    use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
    use kafka_protocol::protocol::Encodable;
    let subscription =
        kafka_protocol::messages::ConsumerProtocolSubscription::default().with_topics(vec![s(t)]);
    let mut metadata = bytes::BytesMut::new();
    bytes::BufMut::put_i16(&mut metadata, 0);
    subscription
        .encode(&mut metadata, 0)
        .expect("a subscription encodes");
    let r = kafka_protocol::messages::JoinGroupRequest::default()
        .with_group_id(group(g))
        .with_session_timeout_ms(30_000)
        .with_rebalance_timeout_ms(30_000)
        .with_member_id(s(""))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![
            JoinGroupRequestProtocol::default()
                .with_name(s("range"))
                .with_metadata(metadata.freeze()),
        ]);
    Step::new(ApiKey::JoinGroup, 9, r).fill(|r, seen| {
        if let RequestKind::JoinGroup(j) = r {
            j.member_id = s(seen.classic_member_id.clone());
        }
    })
}

/// The classic member's SyncGroup v5; as the leader of a classic group it assigns
/// itself partitions 0 and 1 of `t`.
fn classic_sync(g: &str, t: &str, leader: bool) -> Step {
    use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition;
    use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
    use kafka_protocol::protocol::Encodable;
    let mut bytes = bytes::BytesMut::new();
    bytes::BufMut::put_i16(&mut bytes, 0);
    kafka_protocol::messages::ConsumerProtocolAssignment::default()
        .with_assigned_partitions(vec![
            TopicPartition::default()
                .with_topic(topic(t))
                .with_partitions(vec![0, 1]),
        ])
        .encode(&mut bytes, 0)
        .expect("an assignment encodes");
    let assignments = if leader {
        vec![SyncGroupRequestAssignment::default().with_assignment(bytes.freeze())]
    } else {
        Vec::new()
    };
    let r = kafka_protocol::messages::SyncGroupRequest::default()
        .with_group_id(group(g))
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(Some(s("range")))
        .with_assignments(assignments);
    Step::new(ApiKey::SyncGroup, 5, r).fill(|r, seen| {
        if let RequestKind::SyncGroup(sg) = r {
            sg.member_id = s(seen.classic_member_id.clone());
            sg.generation_id = seen.classic_generation;
            for a in &mut sg.assignments {
                a.member_id = s(seen.classic_member_id.clone());
            }
        }
    })
}

fn classic_heartbeat(g: &str) -> Step {
    Step::new(
        ApiKey::Heartbeat,
        4,
        kafka_protocol::messages::HeartbeatRequest::default().with_group_id(group(g)),
    )
    .fill(|r, seen| {
        if let RequestKind::Heartbeat(h) = r {
            h.member_id = s(seen.classic_member_id.clone());
            h.generation_id = seen.classic_generation;
        }
    })
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    // The online upgrade: a classic member is in the group when the first member of the
    // new protocol joins; it is told to rejoin, and is then answered as a member of a
    // consumer group. The new member leaves, and the group is classic again.
    out.push(scenario(
        ApiKey::ConsumerGroupHeartbeat,
        1,
        "upgrade-with-a-classic-member",
        |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = ready(&g, &t, 2);
            // The first JoinGroup is answered MEMBER_ID_REQUIRED (so not a setup step).
            steps.push(classic_join(&g, &t));
            steps.push(classic_join(&g, &t).setup());
            steps.push(classic_sync(&g, &t, true).setup());
            steps.push(step(1, join_request(1, &g, &t, MEMBER)));
            steps.push(describe(1, &g));
            steps.push(classic_heartbeat(&g));
            steps.push(classic_join(&g, &t));
            steps.push(classic_sync(&g, &t, false));
            steps.push(step(1, beat_request(&g, MEMBER, 2)));
            steps.push(classic_heartbeat(&g));
            steps.push(step(1, beat_request(&g, MEMBER, -1)));
            steps.push(classic_heartbeat(&g));
            steps.push(Step::new(
                ApiKey::ListGroups,
                5,
                ListGroupsRequest::default(),
            ));
            steps
        },
    ));
    // A known dynamic member that rejoins with epoch 0 under its id.
    out.push(scenario(
        ApiKey::ConsumerGroupHeartbeat,
        1,
        "known-member-rejoins-with-epoch-0",
        |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = joined(1, &g, &t, 2);
            steps.push(join(1, &g, &t));
            steps
        },
    ));
    for v in versions(ApiKey::ConsumerGroupHeartbeat) {
        heartbeat_scenarios(v, &mut out);
    }
    for v in versions(ApiKey::ConsumerGroupDescribe) {
        let key = ApiKey::ConsumerGroupDescribe;
        out.push(scenario(key, v, "member", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = joined(1, &g, &t, 2);
            steps.push(describe(v, &g));
            steps
        }));
        out.push(scenario(key, v, "unknown-group", |p| {
            let g = format!("{p}g");
            vec![find(&g), describe(v, &g)]
        }));
        out.push(scenario(key, v, "classic-group", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = create_topic(&t, 1);
            steps.push(find(&g));
            steps.push(member_commit(&g, &t, -1).setup());
            steps.push(describe(v, &g));
            steps
        }));
    }
    out.push(scenario(
        ApiKey::OffsetCommit,
        9,
        "consumer-group-member-epochs",
        |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = joined(1, &g, &t, 1);
            steps.push(member_commit(&g, &t, 0));
            steps.push(member_commit(&g, &t, 1));
            steps.push(member_commit(&g, &t, -1));
            steps
        },
    ));
    out.push(scenario(
        ApiKey::OffsetFetch,
        9,
        "consumer-group-member-epochs",
        |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = joined(1, &g, &t, 1);
            steps.push(member_fetch(&g, &t, 0));
            steps.push(member_fetch(&g, &t, 1));
            steps
        },
    ));
    out.push(scenario(ApiKey::ListGroups, 5, "consumer-group", |p| {
        let (g, t) = (format!("{p}g"), format!("{p}t"));
        let mut steps = joined(1, &g, &t, 1);
        steps.push(Step::new(
            ApiKey::ListGroups,
            5,
            ListGroupsRequest::default().with_types_filter(vec![s("consumer")]),
        ));
        steps
    }));
    for v in [5, 6] {
        out.push(scenario(ApiKey::DescribeGroups, v, "consumer-group", |p| {
            let (g, t) = (format!("{p}g"), format!("{p}t"));
            let mut steps = joined(1, &g, &t, 1);
            steps.push(Step::new(
                ApiKey::DescribeGroups,
                v,
                DescribeGroupsRequest::default().with_groups(vec![group(&g)]),
            ));
            steps
        }));
    }
    out
}
