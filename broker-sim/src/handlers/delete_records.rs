//! DeleteRecords (key 21), v0–2.
//!
//! Moves a partition's log start offset forward; offset -1 means the high watermark. An
//! offset beyond the high watermark is OFFSET_OUT_OF_RANGE; only the leader accepts the
//! request. The answer is the new low watermark (log start offset).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::{DeleteRecordsRequest, DeleteRecordsResponse};

use super::RequestContext;
use crate::error::KafkaError;

pub(crate) fn handle(
    ctx: &RequestContext<'_>,
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
                            p.log.delete_before(target);
                            p.epochs.truncate_to_start(target);
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
    // Long-polling fetches on these partitions answer now, as Kafka's delayed fetches do.
    ctx.shared.logs_changed.notify_waiters();
    DeleteRecordsResponse::default().with_topics(topics)
}
