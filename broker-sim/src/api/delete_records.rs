//! DeleteRecords (key 21), v0–2.
//!
//! Moves a partition's log start offset forward; offset -1 means the high watermark. An
//! offset beyond the high watermark is OFFSET_OUT_OF_RANGE; only the leader accepts the
//! request. The answer is the new low watermark (log start offset).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use crate::state::acls::Operation;
use super::partitioned::{by_partition, indexed, topic};
use super::{Api, Ctx, Names, Reply, Access, LogDetails};
use crate::error::KafkaError;

fn serve(
    ctx: &Ctx<'_>,
    request: DeleteRecordsRequest,
) -> DeleteRecordsResponse {
    let mut state = ctx.shared.lock();
    let topics = request
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|dp| {
                    let result = DeleteRecordsPartitionResult::default()
                        .with_partition_index(dp.partition_index);
                    let outcome = state
                        .led_partition_mut(&t.name, dp.partition_index, ctx.broker_id)
                        .and_then(|p| {
                            let hw = p.high_watermark();
                            let target = if dp.offset == -1 { hw } else { dp.offset };
                            if target < 0 || target > hw {
                                return Err(KafkaError::new(
                                    ResponseError::OffsetOutOfRange,
                                    format!("offset {target} is beyond the high watermark {hw}"),
                                ));
                            }
                            p.delete_before(target);
                            Ok(p.log.log_start_offset())
                        });
                    match outcome {
                        Ok(low) => result.with_low_watermark(low),
                        Err(e) => result.with_error_code(e.code()).with_low_watermark(-1),
                    }
                })
                .collect();
            DeleteRecordsTopicResult::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    drop(state);
    DeleteRecordsResponse::default().with_topics(topics)
}

pub(crate) struct DeleteRecords;

impl Api for DeleteRecords {
    const KEY: ApiKey = ApiKey::DeleteRecords;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = DeleteRecordsRequest;
    type Response = DeleteRecordsResponse;
    const ACCESS: Access = Access::topic(Operation::Delete);

    async fn handle(ctx: &Ctx<'_>, request: DeleteRecordsRequest) -> Reply<DeleteRecordsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &DeleteRecordsRequest) -> Names {
        Names::partitions(request.topics.iter().map(|t| {
            let partitions = t.partitions.iter().map(|p| p.partition_index).collect();
            (t.name.to_string(), partitions)
        }))
    }

    fn set_throttle(response: &mut DeleteRecordsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DeleteRecordsResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
    }

    by_partition!(request: topics, answer: topics, entry: error_entry);
}

/// A refused partition's answer.
fn error_entry(index: i32, code: i16) -> DeleteRecordsPartitionResult {
    DeleteRecordsPartitionResult::default()
        .with_partition_index(index)
        .with_low_watermark(-1)
        .with_error_code(code)
}

indexed!(DeleteRecordsPartition: partition_index, DeleteRecordsPartitionResult: partition_index);
topic!(DeleteRecordsTopic, name, -, partitions: DeleteRecordsPartition);
topic!(answer DeleteRecordsTopicResult, name, -, partitions: DeleteRecordsPartitionResult);
