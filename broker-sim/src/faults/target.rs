//! What a decoded request names, for rule selectors: its topics and partitions, and its
//! groups.
//!
//! Topics given by id (Produce and Fetch v13+, Metadata v12+, DeleteTopics v6+) are
//! resolved to names through the cluster state, since rules select topics by name; an
//! unknown id names the topic "". A Metadata request for every topic names every topic
//! there is, with its partitions, so a rule on one topic's metadata applies however the
//! client asks. Groups come from the group APIs, from OffsetCommit/OffsetFetch/
//! OffsetDelete, and from FindCoordinator when it asks for a group coordinator (key type 0).

use kafka_protocol::messages::*;
use uuid::Uuid;

use super::rules::{Target, TopicRef};
use crate::cluster::Shared;

/// FindCoordinator's key type for consumer groups (1 is transactional ids).
const GROUP_KEY: i8 = 0;
/// DescribeConfigs' resource type for topics.
const TOPIC_RESOURCE: i8 = 2;

/// The name of a topic a request gives by `name` or, when the name is empty, by `id`.
pub(crate) fn topic_name(shared: &Shared, name: &TopicName, id: &Uuid) -> String {
    if name.is_empty() && !id.is_nil() {
        shared
            .lock()
            .topic_name_by_id(id)
            .map(str::to_string)
            .unwrap_or_default()
    } else {
        name.to_string()
    }
}

/// What `request`, sent to `broker` by `client_id`, names.
pub(crate) fn target<'a>(
    shared: &Shared,
    api: ApiKey,
    broker: i32,
    client_id: &'a str,
    request: &RequestKind,
    version: i16,
) -> Target<'a> {
    let mut t = Target {
        api,
        broker,
        client_id,
        topics: Vec::new(),
        groups: Vec::new(),
    };
    let partitioned = |name: String, partitions: Vec<i32>| TopicRef {
        group: None,
        name,
        partitions: Some(partitions),
    };
    let whole = |name: String| TopicRef {
        group: None,
        name,
        partitions: None,
    };
    match request {
        RequestKind::Produce(r) => {
            t.topics = r
                .topic_data
                .iter()
                .map(|d| {
                    partitioned(
                        topic_name(shared, &d.name, &d.topic_id),
                        d.partition_data.iter().map(|p| p.index).collect(),
                    )
                })
                .collect();
        }
        RequestKind::Fetch(r) => {
            t.topics = r
                .topics
                .iter()
                .map(|f| {
                    partitioned(
                        topic_name(shared, &f.topic, &f.topic_id),
                        f.partitions.iter().map(|p| p.partition).collect(),
                    )
                })
                .collect();
        }
        RequestKind::ListOffsets(r) => {
            t.topics = r
                .topics
                .iter()
                .map(|l| {
                    partitioned(
                        l.name.to_string(),
                        l.partitions.iter().map(|p| p.partition_index).collect(),
                    )
                })
                .collect();
        }
        RequestKind::OffsetForLeaderEpoch(r) => {
            t.topics = r
                .topics
                .iter()
                .map(|l| {
                    partitioned(
                        l.topic.to_string(),
                        l.partitions.iter().map(|p| p.partition).collect(),
                    )
                })
                .collect();
        }
        RequestKind::DeleteRecords(r) => {
            t.topics = r
                .topics
                .iter()
                .map(|d| {
                    partitioned(
                        d.name.to_string(),
                        d.partitions.iter().map(|p| p.partition_index).collect(),
                    )
                })
                .collect();
        }
        RequestKind::Metadata(r) => t.topics = metadata_topics(shared, r, version),
        RequestKind::CreateTopics(r) => {
            t.topics = r.topics.iter().map(|c| whole(c.name.to_string())).collect();
        }
        RequestKind::DeleteTopics(r) => {
            t.topics = r
                .topic_names
                .iter()
                .map(|n| whole(n.to_string()))
                .chain(r.topics.iter().map(|d| {
                    let name = d.name.clone().unwrap_or_default();
                    whole(topic_name(shared, &name, &d.topic_id))
                }))
                .collect();
        }
        RequestKind::CreatePartitions(r) => {
            t.topics = r.topics.iter().map(|c| whole(c.name.to_string())).collect();
        }
        RequestKind::DescribeConfigs(r) => {
            t.topics = r
                .resources
                .iter()
                .filter(|res| res.resource_type == TOPIC_RESOURCE)
                .map(|res| whole(res.resource_name.to_string()))
                .collect();
        }
        RequestKind::OffsetCommit(r) => {
            t.groups.push(r.group_id.to_string());
            t.topics = r
                .topics
                .iter()
                .map(|c| {
                    partitioned(
                        topic_name(shared, &c.name, &c.topic_id),
                        c.partitions.iter().map(|p| p.partition_index).collect(),
                    )
                })
                .collect();
        }
        RequestKind::OffsetFetch(r) if version < 8 => {
            t.groups.push(r.group_id.to_string());
            t.topics = r
                .topics
                .iter()
                .flatten()
                .map(|o| partitioned(o.name.to_string(), o.partition_indexes.clone()))
                .collect();
        }
        RequestKind::OffsetFetch(r) => {
            for g in &r.groups {
                t.groups.push(g.group_id.to_string());
                t.topics.extend(g.topics.iter().flatten().map(|o| TopicRef {
                    group: Some(g.group_id.to_string()),
                    name: topic_name(shared, &o.name, &o.topic_id),
                    partitions: Some(o.partition_indexes.clone()),
                }));
            }
        }
        RequestKind::OffsetDelete(r) => {
            t.groups.push(r.group_id.to_string());
            t.topics = r
                .topics
                .iter()
                .map(|o| {
                    partitioned(
                        o.name.to_string(),
                        o.partitions.iter().map(|p| p.partition_index).collect(),
                    )
                })
                .collect();
        }
        RequestKind::JoinGroup(r) => t.groups.push(r.group_id.to_string()),
        RequestKind::SyncGroup(r) => t.groups.push(r.group_id.to_string()),
        RequestKind::Heartbeat(r) => t.groups.push(r.group_id.to_string()),
        RequestKind::LeaveGroup(r) => t.groups.push(r.group_id.to_string()),
        RequestKind::DescribeGroups(r) => {
            t.groups = r.groups.iter().map(|g| g.to_string()).collect();
        }
        RequestKind::DeleteGroups(r) => {
            t.groups = r.groups_names.iter().map(|g| g.to_string()).collect();
        }
        RequestKind::FindCoordinator(r) if r.key_type == GROUP_KEY => {
            if version < 4 {
                t.groups.push(r.key.to_string());
            } else {
                t.groups = r.coordinator_keys.iter().map(|k| k.to_string()).collect();
            }
        }
        _ => {}
    }
    t
}

/// The topics a Metadata request is about, each with the partitions it has (none for a
/// topic that does not exist): the named ones, or every topic when it asks for all.
fn metadata_topics(shared: &Shared, r: &MetadataRequest, version: i16) -> Vec<TopicRef> {
    let state = shared.lock();
    let describe = |name: String| {
        let partitions = state
            .topic(&name)
            .map(|t| t.partitions.iter().map(|p| p.index).collect());
        TopicRef {
            group: None,
            name,
            partitions,
        }
    };
    match &r.topics {
        Some(list) if !(version == 0 && list.is_empty()) => list
            .iter()
            .map(|m| match &m.name {
                Some(name) if !name.is_empty() => describe(name.to_string()),
                _ => describe(
                    state
                        .topic_name_by_id(&m.topic_id)
                        .map(str::to_string)
                        .unwrap_or_default(),
                ),
            })
            .collect(),
        _ => state.topics().map(|t| describe(t.name.clone())).collect(),
    }
}
