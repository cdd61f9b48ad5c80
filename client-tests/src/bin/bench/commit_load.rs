//! `bench scale`'s busy clients. Committers: each commits the offsets of every partition
//! of one topic for its own group, back to back, as a Kafka Streams task or a consumer of
//! many partitions commits them all at once. Group work of this size is what the groups'
//! own lock keeps away from produces (`state::groups::lock`); in durable mode each commit
//! also rewrites the groups' document (`state::durable`), under that lock alone.
//! Describers: each asks the Metadata of every topic back to back, as an admin tool or a
//! client refreshing all its metadata does, in a cluster of [`DESCRIBED_PARTITIONS`]: a
//! read of the whole state, which takes the state lock for reading beside produces
//! (`state::partition_lock`).

use broker_sim_protocol::kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use broker_sim_protocol::kafka_protocol::messages::{GroupId, OffsetCommitRequest, TopicName};
use broker_sim_protocol::kafka_protocol::protocol::StrBytes;

/// The topic the committers commit, and its partition count.
pub const TOPIC: &str = "committed";
pub const PARTITIONS: i32 = 1_000;

/// The topic the describers' cluster holds besides the producer's, and its partitions.
pub const DESCRIBED: &str = "described";
pub const DESCRIBED_PARTITIONS: i32 = 10_000;

/// Asks the Metadata of every topic (v12) until the connection fails or the task is
/// dropped.
pub async fn describe_forever(bootstrap: String) -> Result<(), String> {
    use broker_sim_protocol::kafka_protocol::messages::MetadataRequest;
    let mut conn = tokio::net::TcpStream::connect(&bootstrap)
        .await
        .map_err(|e| format!("describer: {e}"))?;
    conn.set_nodelay(true).map_err(|e| e.to_string())?;
    let request = MetadataRequest::default()
        .with_topics(None)
        .with_allow_auto_topic_creation(false);
    loop {
        let answer = super::scale::call(&mut conn, 12, &request).await?;
        if answer.topics.iter().any(|t| t.error_code != 0) {
            return Err("Metadata of every topic: a topic failed".into());
        }
    }
}

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

/// `bench scale`'s rows for the committers: an acks=all producer's p99 beside N of them in
/// memory, and beside one in durable mode as the cluster's other partitions grow.
pub fn rows(
    quick: bool,
    produce_samples: usize,
    span: std::time::Duration,
    rounds: usize,
) -> Result<Vec<[String; 5]>, String> {
    let mut rows = Vec::new();
    // 2b. acks=all produce p99 beside clients committing 1,000 partitions back to back.
    let committers: &[usize] = if quick { &[1] } else { &[1, 4] };
    let mut points = Vec::new();
    for &k in committers {
        let (alone, loaded) =
            super::scale::load_point((0, 0, k, 0), None, produce_samples, span, rounds)?;
        eprintln!("load: {k} committers: produce p99 {alone:.3} → {loaded:.3} ms");
        points.push((k.to_string(), alone, loaded));
    }
    rows.push(curve_row(
        format!(
            "acks=all produce p99 beside N clients committing {} partitions' offsets back to back: alone → loaded, ms",
            super::scale::count(PARTITIONS as usize)
        ),
        &points,
    ));

    // 2c. The same beside one committer in durable mode, as the cluster's partitions grow:
    // every commit rewrites the groups' document before it is answered.
    let others: &[i32] = if quick { &[1_000] } else { &[1_000, 10_000] };
    let mut points = Vec::new();
    for &n in others {
        let (alone, loaded) =
            super::scale::load_point((0, 0, 1, 0), Some(n), produce_samples, span, rounds)?;
        eprintln!(
            "durable, {n} other partitions: produce p99 beside a committer {alone:.3} → {loaded:.3} ms"
        );
        points.push((super::scale::count(n as usize), alone, loaded));
    }
    rows.push(curve_row(
        format!(
            "durable mode: acks=all produce p99 beside one client committing {} partitions' offsets back to back, by the cluster's other partitions: alone → loaded, ms",
            super::scale::count(PARTITIONS as usize)
        ),
        &points,
    ));

    // 2d. acks=all produce p99 beside clients asking every topic's Metadata back to back.
    let describers: &[usize] = if quick { &[1] } else { &[1, 4] };
    let mut points = Vec::new();
    for &k in describers {
        let (alone, loaded) =
            super::scale::load_point((0, 0, 0, k), None, produce_samples, span, rounds)?;
        eprintln!("load: {k} describers: produce p99 {alone:.3} → {loaded:.3} ms");
        points.push((k.to_string(), alone, loaded));
    }
    rows.push(curve_row(
        format!(
            "acks=all produce p99 beside N clients asking the Metadata of every topic ({} partitions) back to back: alone → loaded, ms",
            super::scale::count(DESCRIBED_PARTITIONS as usize)
        ),
        &points,
    ));

    Ok(rows)
}

/// A curve's row: each point's label with its p99 alone → loaded, and the last point's
/// ratio.
fn curve_row(figure: String, points: &[(String, f64, f64)]) -> [String; 5] {
    [
        figure,
        points
            .iter()
            .map(|(label, a, l)| format!("{label}: {a:.3} → {l:.3}"))
            .collect::<Vec<_>>()
            .join("; "),
        points
            .last()
            .map(|(_, a, l)| format!("{:.2}", l / a))
            .unwrap_or_default(),
        "(curve)".into(),
        String::new(),
    ]
}
