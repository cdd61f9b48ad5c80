//! OffsetDelete (key 47), v0.
//!
//! Forgets committed offsets, which Kafka allows only for partitions of topics no member
//! of the group subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise); an unknown group is
//! GROUP_ID_NOT_FOUND.

use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use super::RequestContext;

pub(crate) fn handle(ctx: &RequestContext<'_>, r: OffsetDeleteRequest) -> OffsetDeleteResponse {
    let partitions = r
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (t.name.to_string(), p.partition_index))
        })
        .collect();
    let result = ctx
        .check_coordinator(&r.group_id)
        .and_then(|()| ctx.shared.lock().delete_offsets(&r.group_id, partitions));
    let results = match result {
        Ok(results) => results,
        Err(e) => return OffsetDeleteResponse::default().with_error_code(e.code()),
    };
    let mut codes = results.into_iter().map(|r| r.err().map_or(0, |e| e.code()));
    let topics = r
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(codes.next().unwrap_or_default())
                })
                .collect();
            OffsetDeleteResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetDeleteResponse::default().with_topics(topics)
}
