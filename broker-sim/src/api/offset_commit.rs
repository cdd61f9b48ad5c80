//! OffsetCommit (key 8), v2–9.
//!
//! Stores a group's committed offsets with their leader epoch (v6+) and metadata string.
//! Members commit under their current generation (v9 calls it the member epoch; a classic
//! group treats it the same); a standalone consumer commits with generation -1 to a group
//! without members. Unknown topics and partitions are answered before the coordinator is
//! asked, as Kafka's request handler does; a group-level refusal is reported on every
//! other partition, since the response has no top-level error. `retention_time_ms` (v2–4) is accepted and ignored:
//! broker-sim keeps offsets until the group or topic is deleted.

use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{OffsetCommitRequest, OffsetCommitResponse};

use crate::state::acls::Operation;
use super::partitioned::{by_partition, indexed, topic};
use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::state::groups::{CommitRequest, CommittedOffset};

fn serve(ctx: &Ctx<'_>, r: OffsetCommitRequest) -> OffsetCommitResponse {
    let now = ctx.shared.clock.now_ms();
    let request = CommitRequest {
        group_id: r.group_id.to_string(),
        generation: r.generation_id_or_member_epoch,
        member_id: r.member_id.to_string(),
        instance_id: r.group_instance_id.as_ref().map(|s| s.to_string()),
        version: ctx.version,
        transactional: false,
    };
    let offsets: Vec<(String, i32, CommittedOffset)> = r
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
    // Which partitions exist is read under the state lock; the commit is made under the
    // groups lock alone.
    let read = |state: &crate::state::State| {
        let known = state.known_partitions(offsets.iter().map(|(t, p, _)| (t.as_str(), *p)));
        (offsets, known)
    };
    let results = ctx.groups_after(read, |groups, (offsets, known), _| {
        groups.commit_offsets(ctx.broker_id, &request, offsets, known, now)
    });
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

pub(crate) struct OffsetCommit;

impl Api for OffsetCommit {
    const KEY: ApiKey = ApiKey::OffsetCommit;
    const VERSIONS: (i16, i16) = (2, 9);
    type Request = OffsetCommitRequest;
    type Response = OffsetCommitResponse;
    const ACCESS: Access = Access::group(Operation::Read).and_topic(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: OffsetCommitRequest) -> Reply<OffsetCommitResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(ctx: &Ctx<'_>, request: &OffsetCommitRequest) -> Names {
        let mut names = Names::partitions(request.topics.iter().map(|t| {
            let partitions = t.partitions.iter().map(|p| p.partition_index).collect();
            (ctx.topic_name(&t.name, &t.topic_id), partitions)
        }));
        names.groups.push(request.group_id.to_string());
        names
    }

    fn set_throttle(response: &mut OffsetCommitResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &OffsetCommitResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
    }

    by_partition!(request: topics, answer: topics, entry: error_entry);
}

/// A refused partition's answer.
fn error_entry(index: i32, code: i16) -> OffsetCommitResponsePartition {
    OffsetCommitResponsePartition::default()
        .with_partition_index(index)
        .with_error_code(code)
}

indexed!(
    OffsetCommitRequestPartition: partition_index,
    OffsetCommitResponsePartition: partition_index,
);
topic!(OffsetCommitRequestTopic, name, topic_id, partitions: OffsetCommitRequestPartition);
topic!(answer OffsetCommitResponseTopic, name, topic_id, partitions: OffsetCommitResponsePartition);
