//! Fault rules meeting real requests: what a decoded request names (for selectors), and
//! how an error or a throttle is written into an answer.
//!
//! Partition-level errors are precise where it matters most: a produce's selected
//! partitions are taken out of the request before it is served (nothing is written to
//! them) and answered with the error, while the rest is written for real. For reads
//! (Fetch, ListOffsets, Metadata, OffsetForLeaderEpoch) the answer is computed and the
//! selected entries overwritten, which a client cannot tell apart. APIs without
//! partitions get a response carrying the error at its top level; an API with neither
//! shape here closes the connection, with a log line saying so.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::*;

use super::rules::{Fired, Target};
use crate::cluster::Shared;

/// What `request` names, for matching.
pub(crate) fn target(
    shared: &Shared,
    api: ApiKey,
    broker: i32,
    client_id: &str,
    request: &RequestKind,
    version: i16,
) -> Target {
    let mut t = Target {
        api: Some(api),
        broker,
        client_id: client_id.to_string(),
        ..Target::default()
    };
    let by_id = |id: &uuid::Uuid| shared.lock().topic_name_by_id(id).map(str::to_string);
    let named = |name: &TopicName, id: &uuid::Uuid, ids: bool| -> String {
        if ids {
            by_id(id).unwrap_or_default()
        } else {
            name.to_string()
        }
    };
    match request {
        RequestKind::Produce(r) => {
            for d in &r.topic_data {
                let ps = d.partition_data.iter().map(|p| p.index).collect();
                t.topics
                    .push((named(&d.name, &d.topic_id, version >= 13), Some(ps)));
            }
        }
        RequestKind::Fetch(r) => {
            for f in &r.topics {
                let ps = f.partitions.iter().map(|p| p.partition).collect();
                t.topics
                    .push((named(&f.topic, &f.topic_id, version >= 13), Some(ps)));
            }
        }
        RequestKind::ListOffsets(r) => {
            for l in &r.topics {
                let ps = l.partitions.iter().map(|p| p.partition_index).collect();
                t.topics.push((l.name.to_string(), Some(ps)));
            }
        }
        RequestKind::OffsetForLeaderEpoch(r) => {
            for l in &r.topics {
                let ps = l.partitions.iter().map(|p| p.partition).collect();
                t.topics.push((l.topic.to_string(), Some(ps)));
            }
        }
        RequestKind::DeleteRecords(r) => {
            for d in &r.topics {
                let ps = d.partitions.iter().map(|p| p.partition_index).collect();
                t.topics.push((d.name.to_string(), Some(ps)));
            }
        }
        RequestKind::Metadata(r) => {
            for m in r.topics.iter().flatten() {
                if let Some(name) = &m.name {
                    t.topics.push((name.to_string(), None));
                }
            }
        }
        RequestKind::CreateTopics(r) => {
            t.topics = r
                .topics
                .iter()
                .map(|c| (c.name.to_string(), None))
                .collect();
        }
        RequestKind::DeleteTopics(r) => {
            t.topics = r
                .topic_names
                .iter()
                .map(|n| (n.to_string(), None))
                .chain(
                    r.topics
                        .iter()
                        .filter_map(|d| Some((d.name.as_ref()?.to_string(), None))),
                )
                .collect();
        }
        RequestKind::CreatePartitions(r) => {
            t.topics = r
                .topics
                .iter()
                .map(|c| (c.name.to_string(), None))
                .collect();
        }
        RequestKind::OffsetCommit(r) => {
            t.groups.push(r.group_id.to_string());
            for c in &r.topics {
                let ps = c.partitions.iter().map(|p| p.partition_index).collect();
                t.topics
                    .push((named(&c.name, &c.topic_id, version >= 10), Some(ps)));
            }
        }
        RequestKind::OffsetFetch(r) => {
            if version < 8 {
                t.groups.push(r.group_id.to_string());
                for o in r.topics.iter().flatten() {
                    t.topics
                        .push((o.name.to_string(), Some(o.partition_indexes.clone())));
                }
            }
            for g in &r.groups {
                t.groups.push(g.group_id.to_string());
                for o in g.topics.iter().flatten() {
                    t.topics
                        .push((o.name.to_string(), Some(o.partition_indexes.clone())));
                }
            }
        }
        RequestKind::OffsetDelete(r) => {
            t.groups.push(r.group_id.to_string());
            for o in &r.topics {
                let ps = o.partitions.iter().map(|p| p.partition_index).collect();
                t.topics.push((o.name.to_string(), Some(ps)));
            }
        }
        RequestKind::JoinGroup(r) => t.groups.push(r.group_id.to_string()),
        RequestKind::SyncGroup(r) => t.groups.push(r.group_id.to_string()),
        RequestKind::Heartbeat(r) => t.groups.push(r.group_id.to_string()),
        RequestKind::LeaveGroup(r) => t.groups.push(r.group_id.to_string()),
        RequestKind::DescribeGroups(r) => {
            t.groups = r.groups.iter().map(|g| g.to_string()).collect()
        }
        RequestKind::DeleteGroups(r) => {
            t.groups = r.groups_names.iter().map(|g| g.to_string()).collect()
        }
        RequestKind::FindCoordinator(r) if r.key_type == 0 => {
            if version < 4 {
                t.groups.push(r.key.to_string());
            }
            t.groups
                .extend(r.coordinator_keys.iter().map(|k| k.to_string()));
        }
        _ => {}
    }
    t
}

/// Takes the produce partitions `fired` selects out of `request`; returns them, so
/// they can be answered with the error.
pub(crate) fn strip_produce(
    request: &mut ProduceRequest,
    fired: &Fired,
    shared: &Shared,
    version: i16,
) -> Vec<(usize, i32)> {
    let mut stripped = Vec::new();
    for (i, topic) in request.topic_data.iter_mut().enumerate() {
        let name = if version >= 13 {
            shared
                .lock()
                .topic_name_by_id(&topic.topic_id)
                .map(str::to_string)
                .unwrap_or_default()
        } else {
            topic.name.to_string()
        };
        topic.partition_data.retain(|p| {
            let hit = fired.covers(&name, p.index);
            if hit {
                stripped.push((i, p.index));
            }
            !hit
        });
    }
    stripped
}

/// Answers stripped produce partitions with `code`, beside the real answers.
pub(crate) fn add_produce_errors(
    response: &mut ProduceResponse,
    request_topics: &[(TopicName, uuid::Uuid)],
    stripped: &[(usize, i32)],
    code: ResponseError,
) {
    for &(topic_index, partition) in stripped {
        let (name, id) = &request_topics[topic_index];
        let at = match response
            .responses
            .iter()
            .position(|t| t.name == *name && t.topic_id == *id)
        {
            Some(at) => at,
            None => {
                response.responses.push(
                    TopicProduceResponse::default()
                        .with_name(name.clone())
                        .with_topic_id(*id),
                );
                response.responses.len() - 1
            }
        };
        response.responses[at].partition_responses.push(
            PartitionProduceResponse::default()
                .with_index(partition)
                .with_error_code(code.code())
                .with_base_offset(-1)
                .with_log_start_offset(-1),
        );
    }
}

/// Writes `code` into the selected entries of an answer that has partitions or topics,
/// or at its top level. False when the response has no place for an error here.
pub(crate) fn set_error(
    response: &mut ResponseKind,
    fired: &Fired,
    code: ResponseError,
    shared: &Shared,
) -> bool {
    let c = code.code();
    let name_of = |name: &TopicName, id: &uuid::Uuid| -> String {
        if name.is_empty() {
            shared
                .lock()
                .topic_name_by_id(id)
                .map(str::to_string)
                .unwrap_or_default()
        } else {
            name.to_string()
        }
    };
    match response {
        ResponseKind::Produce(r) => {
            for t in &mut r.responses {
                let name = name_of(&t.name, &t.topic_id);
                for p in t
                    .partition_responses
                    .iter_mut()
                    .filter(|p| fired.covers(&name, p.index))
                {
                    p.error_code = c;
                    p.base_offset = -1;
                }
            }
        }
        ResponseKind::Fetch(r) => {
            for t in &mut r.responses {
                let name = name_of(&t.topic, &t.topic_id);
                for p in t
                    .partitions
                    .iter_mut()
                    .filter(|p| fired.covers(&name, p.partition_index))
                {
                    p.error_code = c;
                    p.high_watermark = -1;
                    p.last_stable_offset = -1;
                    p.log_start_offset = -1;
                    p.records = Some(Default::default());
                }
            }
        }
        ResponseKind::ListOffsets(r) => {
            for t in &mut r.topics {
                let name = t.name.to_string();
                for p in t
                    .partitions
                    .iter_mut()
                    .filter(|p| fired.covers(&name, p.partition_index))
                {
                    p.error_code = c;
                    p.offset = -1;
                    p.timestamp = -1;
                }
            }
        }
        ResponseKind::OffsetForLeaderEpoch(r) => {
            for t in &mut r.topics {
                let name = t.topic.to_string();
                for p in t
                    .partitions
                    .iter_mut()
                    .filter(|p| fired.covers(&name, p.partition))
                {
                    p.error_code = c;
                    p.leader_epoch = -1;
                    p.end_offset = -1;
                }
            }
        }
        ResponseKind::Metadata(r) => {
            for t in &mut r.topics {
                let name = t.name.as_ref().map(|n| n.to_string()).unwrap_or_default();
                if fired.covers_topic(&name) {
                    t.error_code = c;
                    t.partitions.clear();
                }
            }
        }
        ResponseKind::FindCoordinator(r) => {
            r.error_code = c;
            r.node_id = (-1).into();
            for k in &mut r.coordinators {
                k.error_code = c;
                k.node_id = (-1).into();
            }
        }
        ResponseKind::OffsetFetch(r) => {
            r.error_code = c;
            for g in &mut r.groups {
                g.error_code = c;
                g.topics.clear();
            }
            r.topics.clear();
        }
        ResponseKind::JoinGroup(r) => r.error_code = c,
        ResponseKind::SyncGroup(r) => r.error_code = c,
        ResponseKind::Heartbeat(r) => r.error_code = c,
        ResponseKind::LeaveGroup(r) => r.error_code = c,
        ResponseKind::ListGroups(r) => r.error_code = c,
        ResponseKind::ApiVersions(r) => r.error_code = c,
        ResponseKind::InitProducerId(r) => r.error_code = c,
        ResponseKind::DescribeCluster(r) => r.error_code = c,
        ResponseKind::OffsetDelete(r) => r.error_code = c,
        _ => return false,
    }
    true
}

/// An answer to a request that is refused outright, before it is processed: the
/// response type's defaults with the error at its top level.
pub(crate) fn refused(
    api: ApiKey,
    fired: &Fired,
    code: ResponseError,
    shared: &Shared,
) -> Option<ResponseKind> {
    let mut response = match api {
        ApiKey::FindCoordinator => ResponseKind::FindCoordinator(Default::default()),
        ApiKey::OffsetFetch => ResponseKind::OffsetFetch(Default::default()),
        ApiKey::JoinGroup => {
            ResponseKind::JoinGroup(JoinGroupResponse::default().with_generation_id(-1))
        }
        ApiKey::SyncGroup => ResponseKind::SyncGroup(Default::default()),
        ApiKey::Heartbeat => ResponseKind::Heartbeat(Default::default()),
        ApiKey::LeaveGroup => ResponseKind::LeaveGroup(Default::default()),
        ApiKey::ListGroups => ResponseKind::ListGroups(Default::default()),
        ApiKey::ApiVersions => ResponseKind::ApiVersions(Default::default()),
        ApiKey::InitProducerId => ResponseKind::InitProducerId(
            InitProducerIdResponse::default()
                .with_producer_id((-1).into())
                .with_producer_epoch(-1),
        ),
        ApiKey::DescribeCluster => ResponseKind::DescribeCluster(Default::default()),
        ApiKey::OffsetDelete => ResponseKind::OffsetDelete(Default::default()),
        _ => return None,
    };
    set_error(&mut response, fired, code, shared).then_some(response)
}

/// Sets `throttle_time_ms` on any answer that has it.
pub(crate) fn set_throttle(response: &mut ResponseKind, ms: i32) {
    macro_rules! throttle {
        ($($kind:ident),* $(,)?) => {
            match response {
                $(ResponseKind::$kind(r) => r.throttle_time_ms = ms,)*
                _ => {}
            }
        };
    }
    throttle!(
        Produce,
        Fetch,
        ListOffsets,
        Metadata,
        OffsetCommit,
        OffsetFetch,
        FindCoordinator,
        JoinGroup,
        Heartbeat,
        LeaveGroup,
        SyncGroup,
        DescribeGroups,
        ListGroups,
        ApiVersions,
        CreateTopics,
        DeleteTopics,
        DeleteRecords,
        InitProducerId,
        OffsetForLeaderEpoch,
        DescribeConfigs,
        CreatePartitions,
        DeleteGroups,
        OffsetDelete,
        DescribeCluster,
    );
}
