//! `bench scale`'s committing clients: each commits the offsets of every partition of one
//! topic for its own group, back to back, as a Kafka Streams task or a consumer of many
//! partitions commits them all at once. Group work of this size is what the groups' own
//! lock keeps away from produces (`state::groups::lock`).

use broker_sim_protocol::kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use broker_sim_protocol::kafka_protocol::messages::{GroupId, OffsetCommitRequest, TopicName};
use broker_sim_protocol::kafka_protocol::protocol::StrBytes;

/// The topic the committers commit, and its partition count.
pub const TOPIC: &str = "committed";
pub const PARTITIONS: i32 = 1_000;

/// Commits every partition of [`TOPIC`] for `group` (a standalone committer: no member,
/// generation -1) until the connection fails or the task is dropped; each round commits
/// one more than the last.
pub async fn commit_forever(bootstrap: String, group: String) -> Result<(), String> {
    let mut conn = super::scale::coordinator_conn(&bootstrap, &group).await?;
    let mut request = OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.clone())))
        .with_generation_id_or_member_epoch(-1);
    for offset in 0.. {
        let partitions = (0..PARTITIONS)
            .map(|p| {
                OffsetCommitRequestPartition::default()
                    .with_partition_index(p)
                    .with_committed_offset(offset)
            })
            .collect();
        request.topics = vec![
            OffsetCommitRequestTopic::default()
                .with_name(TopicName(StrBytes::from_static_str(TOPIC)))
                .with_partitions(partitions),
        ];
        let answer = super::scale::call(&mut conn, 8, &request).await?;
        let failed = answer
            .topics
            .iter()
            .flat_map(|t| &t.partitions)
            .find(|p| p.error_code != 0);
        if let Some(p) = failed {
            return Err(format!("OffsetCommit {group}: error {}", p.error_code));
        }
    }
    Ok(())
}
