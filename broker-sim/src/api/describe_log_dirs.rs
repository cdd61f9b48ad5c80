//! DescribeLogDirs (key 35), v1–4: the log directory of the broker asked — broker-sim
//! names one per broker, `/var/lib/broker-sim/broker-<id>` — with the size of each
//! replica it holds (the bytes of the batches it has copied; the leader holds the whole
//! log) and how far it lags the leader's log end. Topics that do not exist are left out,
//! as Kafka leaves them out. The directory's `total_bytes` and `usable_bytes` (v4) are
//! memory, not a disk: the bytes held and `i64::MAX` free.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_log_dirs_response::{
    DescribeLogDirsPartition, DescribeLogDirsResult, DescribeLogDirsTopic,
};
use kafka_protocol::messages::{DescribeLogDirsRequest, DescribeLogDirsResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, topic_name, Access, LogDetails};

/// The directory a broker reports.
pub(crate) fn log_dir(broker_id: i32) -> String {
    format!("/var/lib/broker-sim/broker-{broker_id}")
}

fn serve(ctx: &Ctx<'_>, request: DescribeLogDirsRequest) -> DescribeLogDirsResponse {
    let state = ctx.shared.read();
    let broker = ctx.broker_id;
    // (topic, partitions asked), None: every partition of every topic.
    let asked: Vec<(String, Option<Vec<i32>>)> = match &request.topics {
        Some(topics) => topics
            .iter()
            .map(|t| (t.topic.to_string(), Some(t.partitions.clone())))
            .collect(),
        None => state.topics().map(|t| (t.name.clone(), None)).collect(),
    };
    let mut total = 0u64;
    let mut topics = Vec::new();
    for (name, partitions) in asked {
        let Some(t) = state.topic(&name) else {
            continue;
        };
        let described: Vec<DescribeLogDirsPartition> = t
            .partitions()
            .filter(|p| p.replicas.contains(&broker))
            .filter(|p| partitions.as_ref().is_none_or(|asked| asked.contains(&p.index)))
            .map(|p| {
                let end = p.replica_end(broker);
                let size = p.log.size_below(end);
                total += size;
                DescribeLogDirsPartition::default()
                    .with_partition_index(p.index)
                    .with_partition_size(size as i64)
                    .with_offset_lag((p.log.log_end_offset() - end).max(0))
                    .with_is_future_key(false)
            })
            .collect();
        if !described.is_empty() {
            topics.push(
                DescribeLogDirsTopic::default()
                    .with_name(topic_name(&name))
                    .with_partitions(described),
            );
        }
    }
    let result = DescribeLogDirsResult::default()
        .with_log_dir(str_bytes(log_dir(broker)))
        .with_topics(topics)
        .with_total_bytes(total as i64)
        .with_usable_bytes(i64::MAX);
    DescribeLogDirsResponse::default().with_results(vec![result])
}

pub(crate) struct DescribeLogDirs;

impl Api for DescribeLogDirs {
    const KEY: ApiKey = ApiKey::DescribeLogDirs;
    const VERSIONS: (i16, i16) = (1, 4);
    type Request = DescribeLogDirsRequest;
    type Response = DescribeLogDirsResponse;
    const ACCESS: Access = Access::cluster(Operation::Describe);

    async fn handle(
        ctx: &Ctx<'_>,
        request: DescribeLogDirsRequest,
    ) -> Reply<DescribeLogDirsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &DescribeLogDirsRequest) -> Names {
        Names::topics(request.topics.iter().flatten().map(|t| t.topic.to_string()))
    }

    /// The code at the top from v3; before it (no top-level code) on one log dir entry
    /// with no name, so the refusal is not lost.
    fn error_response(
        _: &DescribeLogDirsRequest,
        version: i16,
        code: ResponseError,
    ) -> DescribeLogDirsResponse {
        if version >= 3 {
            DescribeLogDirsResponse::default().with_error_code(code.code())
        } else {
            DescribeLogDirsResponse::default()
                .with_results(vec![DescribeLogDirsResult::default().with_error_code(code.code())])
        }
    }

    fn set_throttle(response: &mut DescribeLogDirsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeLogDirsResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for result in &answer.results {
            log.error(result.error_code);
        }
    }
}
