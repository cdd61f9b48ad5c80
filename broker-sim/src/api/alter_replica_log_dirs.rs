//! AlterReplicaLogDirs (key 34), v1–2: move replicas between the log directories of the
//! broker asked. broker-sim gives each broker one directory (`describe_log_dirs::log_dir`),
//! so a replica can only be "moved" to where it already is, which succeeds at once. As in
//! Kafka: a path that is not one of the broker's directories is LOG_DIR_NOT_FOUND, and a
//! partition the broker holds no replica of (or an unknown topic) is REPLICA_NOT_AVAILABLE.
//! Results are grouped by topic in the order topics first appear in the request.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::alter_replica_log_dirs_response::{
    AlterReplicaLogDirPartitionResult, AlterReplicaLogDirTopicResult,
};
use kafka_protocol::messages::{AlterReplicaLogDirsRequest, AlterReplicaLogDirsResponse};

use crate::state::acls::Operation;
use super::describe_log_dirs::log_dir;
use super::{Api, Ctx, Names, Reply, topic_name, Access, LogDetails};

/// Every (topic, partition, path) the request names, each partition once (Kafka reads
/// the request into a map, so a later entry for a partition replaces an earlier one).
fn moves(request: &AlterReplicaLogDirsRequest) -> Vec<(String, i32, String)> {
    let mut out: Vec<(String, i32, String)> = Vec::new();
    // Where each partition is in `out`: the request may be long, so no linear search.
    let mut at: HashMap<(&str, i32), usize> = HashMap::new();
    for dir in &request.dirs {
        for topic in &dir.topics {
            for &partition in &topic.partitions {
                let path = dir.path.to_string();
                match at.entry((topic.name.as_str(), partition)) {
                    Entry::Occupied(e) => out[*e.get()].2 = path,
                    Entry::Vacant(e) => {
                        e.insert(out.len());
                        out.push((topic.name.to_string(), partition, path));
                    }
                }
            }
        }
    }
    out
}

fn answer(results: Vec<(String, i32, i16)>) -> AlterReplicaLogDirsResponse {
    let mut topics: Vec<AlterReplicaLogDirTopicResult> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for (topic, partition, code) in results {
        let result = AlterReplicaLogDirPartitionResult::default()
            .with_partition_index(partition)
            .with_error_code(code);
        match at.entry(topic) {
            Entry::Occupied(e) => topics[*e.get()].partitions.push(result),
            Entry::Vacant(e) => {
                topics.push(
                    AlterReplicaLogDirTopicResult::default()
                        .with_topic_name(topic_name(e.key()))
                        .with_partitions(vec![result]),
                );
                e.insert(topics.len() - 1);
            }
        }
    }
    AlterReplicaLogDirsResponse::default().with_results(topics)
}

fn serve(ctx: &Ctx<'_>, request: AlterReplicaLogDirsRequest) -> AlterReplicaLogDirsResponse {
    let state = ctx.shared.read();
    let own = log_dir(ctx.broker_id);
    let results = moves(&request)
        .into_iter()
        .map(|(topic, partition, path)| {
            let hosted = state
                .topic(&topic)
                .and_then(|t| t.partition(partition))
                .is_some_and(|p| p.replicas.contains(&ctx.broker_id));
            let error = if path != own {
                tracing::info!(%topic, partition, %path, "AlterReplicaLogDirs: not a log directory of broker {}", ctx.broker_id);
                ResponseError::LogDirNotFound.code()
            } else if !hosted {
                ResponseError::ReplicaNotAvailable.code()
            } else {
                0
            };
            (topic, partition, error)
        })
        .collect();
    answer(results)
}

pub(crate) struct AlterReplicaLogDirs;

impl Api for AlterReplicaLogDirs {
    const KEY: ApiKey = ApiKey::AlterReplicaLogDirs;
    const VERSIONS: (i16, i16) = (1, 2);
    type Request = AlterReplicaLogDirsRequest;
    type Response = AlterReplicaLogDirsResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

    async fn handle(ctx: &Ctx<'_>, request: AlterReplicaLogDirsRequest) -> Reply<AlterReplicaLogDirsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &AlterReplicaLogDirsRequest) -> Names {
        Names::partitions(
            request
                .dirs
                .iter()
                .flat_map(|d| &d.topics)
                .map(|t| (t.name.to_string(), t.partitions.clone())),
        )
    }

    fn error_response(request: &AlterReplicaLogDirsRequest, _: i16, code: ResponseError) -> AlterReplicaLogDirsResponse {
        answer(
            moves(request)
                .into_iter()
                .map(|(t, p, _)| (t, p, code.code()))
                .collect(),
        )
    }

    fn set_throttle(response: &mut AlterReplicaLogDirsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &AlterReplicaLogDirsResponse, log: &mut LogDetails) {
        for result in &answer.results {
            for partition in &result.partitions {
                log.error(partition.error_code);
            }
        }
    }
}
