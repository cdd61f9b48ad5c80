//! OffsetFetch (key 9), v1–9.
//!
//! Returns committed offsets: for the partitions asked, or (v2+, topics null) every
//! partition the group has committed. A partition without a commit gets offset -1 and no
//! error, as does every partition of an unknown group. v1–7 ask for one group (a
//! group-level error is top-level from v2, per partition in v1); v8+ ask for several at
//! once. `require_stable` (v7+) never finds pending transactional offsets, since
//! broker-sim has no transactions yet; v9's member id and epoch are accepted unchecked.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};

use super::{RequestContext, str_bytes, topic_name};
use crate::state::groups::CommittedOffset;

/// One partition's answer: (partition, offset, leader epoch, metadata, error).
type Row = (i32, i64, i32, String, i16);

pub(crate) fn handle(ctx: &RequestContext<'_>, r: OffsetFetchRequest) -> OffsetFetchResponse {
    if ctx.version >= 8 {
        let groups = r
            .groups
            .into_iter()
            .map(|g| {
                let topics = g.topics.map(|topics| {
                    topics
                        .into_iter()
                        .map(|t| (t.name.to_string(), t.partition_indexes))
                        .collect()
                });
                let (error, rows) = fetch(ctx, &g.group_id, topics);
                let topics = rows
                    .into_iter()
                    .map(|(topic, rows)| {
                        let partitions = rows
                            .into_iter()
                            .map(|(p, offset, epoch, metadata, error)| {
                                OffsetFetchResponsePartitions::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(offset)
                                    .with_committed_leader_epoch(epoch)
                                    .with_metadata(Some(str_bytes(metadata)))
                                    .with_error_code(error)
                            })
                            .collect();
                        OffsetFetchResponseTopics::default()
                            .with_name(topic_name(&topic))
                            .with_partitions(partitions)
                    })
                    .collect();
                OffsetFetchResponseGroup::default()
                    .with_group_id(g.group_id)
                    .with_topics(topics)
                    .with_error_code(error)
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let topics = r.topics.map(|topics| {
        topics
            .into_iter()
            .map(|t| (t.name.to_string(), t.partition_indexes))
            .collect()
    });
    let (error, rows) = fetch(ctx, &r.group_id, topics);
    let topics = rows
        .into_iter()
        .map(|(topic, rows)| {
            let partitions = rows
                .into_iter()
                .map(|(p, offset, epoch, metadata, partition_error)| {
                    let partition = OffsetFetchResponsePartition::default()
                        .with_partition_index(p)
                        .with_committed_offset(offset)
                        .with_metadata(Some(str_bytes(metadata)))
                        // v1 has no top-level error: the group's goes on every partition.
                        .with_error_code(if ctx.version < 2 && error != 0 {
                            error
                        } else {
                            partition_error
                        });
                    if ctx.version >= 5 {
                        partition.with_committed_leader_epoch(epoch)
                    } else {
                        partition
                    }
                })
                .collect();
            OffsetFetchResponseTopic::default()
                .with_name(TopicName(str_bytes(topic)))
                .with_partitions(partitions)
        })
        .collect();
    let response = OffsetFetchResponse::default().with_topics(topics);
    if ctx.version >= 2 {
        response.with_error_code(error)
    } else {
        response
    }
}

/// The group-level error code and the rows for one group.
fn fetch(
    ctx: &RequestContext<'_>,
    group_id: &str,
    topics: Option<Vec<(String, Vec<i32>)>>,
) -> (i16, Vec<(String, Vec<Row>)>) {
    let result = ctx
        .check_coordinator(group_id)
        .and_then(|()| ctx.shared.lock().fetch_offsets(group_id, topics.clone()));
    let row = |p: i32, committed: Option<CommittedOffset>| match committed {
        Some(c) => (
            p,
            c.offset,
            c.leader_epoch,
            c.metadata.unwrap_or_default(),
            0,
        ),
        None => (p, -1, -1, String::new(), 0),
    };
    match result {
        Ok(found) => (
            0,
            found
                .into_iter()
                .map(|(topic, offsets)| {
                    (topic, offsets.into_iter().map(|(p, c)| row(p, c)).collect())
                })
                .collect(),
        ),
        // From v2 a group-level error stands alone, with no partitions.
        Err(e) if ctx.version >= 2 => (e.code(), Vec::new()),
        Err(e) => (e.code(), error_rows(topics, e)),
    }
}

/// The requested partitions, each with no offset (and, for v1, the error).
fn error_rows(
    topics: Option<Vec<(String, Vec<i32>)>>,
    e: ResponseError,
) -> Vec<(String, Vec<Row>)> {
    topics
        .unwrap_or_default()
        .into_iter()
        .map(|(topic, partitions)| {
            let rows = partitions
                .into_iter()
                .map(|p| (p, -1, -1, String::new(), e.code()))
                .collect();
            (topic, rows)
        })
        .collect()
}
