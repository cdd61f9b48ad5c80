//! WriteTxnMarkers (key 27), v1.
//!
//! Writes commit or abort markers into partitions this broker leads. Kafka's transaction
//! coordinators send it to partition leaders; broker-sim's coordinator writes its markers
//! directly (`state::transactions`), so this serves tools, such as
//! `kafka-transactions.sh abort` closing a hanging transaction the coordinator no longer
//! knows. Per partition: UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER on a broker
//! that does not lead it, TRANSACTION_COORDINATOR_FENCED for an older coordinator epoch
//! (`state::producers`),
//! UNKNOWN_SERVER_ERROR for a marker older than the producer's epoch (Kafka 4.1's
//! answer, where the partition's own check says INVALID_PRODUCER_EPOCH).
//! v0 was removed in Kafka 4.0 (KIP-896). Kafka requires CLUSTER_ACTION; broker-sim has
//! no authorizer.

use broker_sim_protocol::batch::ControlType;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::write_txn_markers_response::{
    WritableTxnMarkerPartitionResult, WritableTxnMarkerResult, WritableTxnMarkerTopicResult,
};
use kafka_protocol::messages::{WriteTxnMarkersRequest, WriteTxnMarkersResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, Access, LogDetails};

fn serve(ctx: &Ctx<'_>, request: WriteTxnMarkersRequest) -> WriteTxnMarkersResponse {
    let now = ctx.shared.clock.now_ms();
    let mut state = ctx.shared.lock();
    let markers = request
        .markers
        .iter()
        .map(|m| {
            let control = if m.transaction_result {
                ControlType::Commit
            } else {
                ControlType::Abort
            };
            let topics = m
                .topics
                .iter()
                .map(|t| {
                    let partitions = t
                        .partition_indexes
                        .iter()
                        .map(|&p| {
                            let written = state.append_marker(
                                &t.name,
                                p,
                                Some(ctx.broker_id),
                                m.producer_id.0,
                                m.producer_epoch,
                                m.coordinator_epoch,
                                control,
                                now,
                            );
                            let code = match written {
                                Ok(()) => 0,
                                // Kafka 4.1 answers a marker older than the producer's
                                // epoch with UNKNOWN_SERVER_ERROR, as the differential
                                // suite shows.
                                Err(e) if e.code == ResponseError::InvalidProducerEpoch => {
                                    ResponseError::UnknownServerError.code()
                                }
                                Err(e) => e.code(),
                            };
                            WritableTxnMarkerPartitionResult::default()
                                .with_partition_index(p)
                                .with_error_code(code)
                        })
                        .collect();
                    WritableTxnMarkerTopicResult::default()
                        .with_name(t.name.clone())
                        .with_partitions(partitions)
                })
                .collect();
            WritableTxnMarkerResult::default()
                .with_producer_id(m.producer_id)
                .with_topics(topics)
        })
        .collect();
    WriteTxnMarkersResponse::default().with_markers(markers)
}

pub(crate) struct WriteTxnMarkers;

impl Api for WriteTxnMarkers {
    const KEY: ApiKey = ApiKey::WriteTxnMarkers;
    const VERSIONS: (i16, i16) = (1, 1);
    type Request = WriteTxnMarkersRequest;
    type Response = WriteTxnMarkersResponse;
    const ACCESS: Access = Access::cluster(Operation::ClusterAction);

    async fn handle(ctx: &Ctx<'_>, request: WriteTxnMarkersRequest) -> Reply<WriteTxnMarkersResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &WriteTxnMarkersRequest) -> Names {
        Names::partitions(request.markers.iter().flat_map(|m| {
            m.topics
                .iter()
                .map(|t| (t.name.to_string(), t.partition_indexes.clone()))
        }))
    }

    fn error_response(
        request: &WriteTxnMarkersRequest,
        _: i16,
        code: ResponseError,
    ) -> WriteTxnMarkersResponse {
        let markers = request
            .markers
            .iter()
            .map(|m| {
                let topics = m
                    .topics
                    .iter()
                    .map(|t| {
                        WritableTxnMarkerTopicResult::default()
                            .with_name(t.name.clone())
                            .with_partitions(
                                t.partition_indexes
                                    .iter()
                                    .map(|&p| {
                                        WritableTxnMarkerPartitionResult::default()
                                            .with_partition_index(p)
                                            .with_error_code(code.code())
                                    })
                                    .collect(),
                            )
                    })
                    .collect();
                WritableTxnMarkerResult::default()
                    .with_producer_id(m.producer_id)
                    .with_topics(topics)
            })
            .collect();
        WriteTxnMarkersResponse::default().with_markers(markers)
    }

    fn set_throttle(_: &mut WriteTxnMarkersResponse, _: i32) {}

    fn log_answer(answer: &WriteTxnMarkersResponse, log: &mut LogDetails) {
        for marker in &answer.markers {
            for topic in &marker.topics {
                for partition in &topic.partitions {
                    log.error(partition.error_code);
                }
            }
        }
    }
}
