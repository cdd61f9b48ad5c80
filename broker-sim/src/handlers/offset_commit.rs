//! OffsetCommit (key 8), v2–9.
//!
//! Stores a group's committed offsets with their leader epoch (v6+) and metadata string.
//! Members commit under their current generation (v9 calls it the member epoch; a classic
//! group treats it the same); a standalone consumer commits with generation -1 to a group
//! without members. Unknown topics and partitions are answered before the coordinator is
//! asked, as Kafka's request handler does; a group-level refusal is reported on every
//! other partition, since the response has no top-level error. `retention_time_ms` (v2–4) is accepted and ignored:
//! broker-sim keeps offsets until the group or topic is deleted.

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use super::RequestContext;
use crate::state::groups::{CommitRequest, CommittedOffset};

pub(crate) fn handle(ctx: &RequestContext<'_>, r: OffsetCommitRequest) -> OffsetCommitResponse {
    let now = ctx.shared.clock.now_ms();
    let request = CommitRequest {
        group_id: r.group_id.to_string(),
        generation: r.generation_id_or_member_epoch,
        member_id: r.member_id.to_string(),
        instance_id: r.group_instance_id.as_ref().map(|s| s.to_string()),
        version: ctx.version,
    };
    let offsets = r
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| {
                (
                    t.name.to_string(),
                    p.partition_index,
                    CommittedOffset {
                        offset: p.committed_offset,
                        leader_epoch: p.committed_leader_epoch,
                        metadata: p.committed_metadata.as_ref().map(|m| m.to_string()),
                        commit_timestamp: now,
                    },
                )
            })
        })
        .collect();
    let results = ctx
        .shared
        .lock()
        .commit_offsets(ctx.broker_id, &request, offsets, now);
    ctx.groups_changed();
    let mut codes = results.into_iter().map(|r| r.err().map_or(0, |e| e.code()));
    let topics = r
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(codes.next().unwrap_or_default())
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}
