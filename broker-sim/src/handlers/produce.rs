//! Produce (key 0), v3–13.
//!
//! Each partition's record set is checked and appended by `State::append` (see
//! `state/append.rs` for Kafka's checks and their order, idempotent sequences included)
//! and gets its offsets there; this handler only maps requests and answers. acks outside
//! -1/0/1 is INVALID_REQUIRED_ACKS for every partition. Topics are named before v13 and
//! given by id from v13. acks=1 answers once the batch is in the leader's log; acks=all
//! once the ISR has it too, which is at once unless followers lag (see
//! `state/replication.rs`), and otherwise after a wait bounded by the request's timeout.
//! With acks=0 nothing is answered, and a failed write closes the connection, as Kafka
//! does, so the client notices. A NOT_LEADER_OR_FOLLOWER answer carries the current
//! leader (v10+, KIP-951) so clients can redirect without a metadata round trip.
//!
//! Not yet: transactions.

use std::pin::pin;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::produce_response::{
    LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, ResponseKind};

use super::{Reply, RequestContext, str_bytes};
use crate::error::KafkaError;
use crate::state::AppendOptions;

pub(crate) async fn handle(ctx: &RequestContext<'_>, request: ProduceRequest) -> Reply {
    let v = ctx.version;
    let acks = request.acks;
    let mut failures = Vec::new();
    let mut leaders = Vec::new();
    let options = AppendOptions {
        acks,
        now_ms: ctx.shared.clock.now_ms(),
        allow_zstd: v >= 7,
    };
    let timeout_ms = request.timeout_ms;
    let mut awaiting = Vec::new();
    let (mut responses, node_endpoints, lagging) = {
        let mut state = ctx.shared.lock();
        let mut responses = Vec::with_capacity(request.topic_data.len());
        for (topic_index, topic) in request.topic_data.into_iter().enumerate() {
            let name = if v >= 13 {
                state.topic_name_by_id(&topic.topic_id).map(str::to_string)
            } else {
                Some(topic.name.to_string())
            };
            let mut partition_responses = Vec::with_capacity(topic.partition_data.len());
            for (partition_index, data) in topic.partition_data.into_iter().enumerate() {
                let result = match (&name, data.records.as_deref()) {
                    (None, _) => Err(KafkaError::new(
                        ResponseError::UnknownTopicId,
                        "unknown topic id",
                    )),
                    (Some(_), _) if !matches!(acks, -1..=1) => Err(KafkaError::new(
                        ResponseError::InvalidRequiredAcks,
                        format!("acks must be -1, 0 or 1, not {acks}"),
                    )),
                    (Some(name), records) => state.append(
                        name,
                        data.index,
                        Some(ctx.broker_id),
                        records.unwrap_or_default(),
                        options,
                    ),
                };
                let mut response = PartitionProduceResponse::default().with_index(data.index);
                match result {
                    Ok(appended) => {
                        // Only a write the ISR does not have yet waits.
                        if acks == -1 && !appended.replicated {
                            awaiting.push(Awaiting {
                                topic: name.clone().unwrap_or_default(),
                                partition: data.index,
                                last_offset: appended.last_offset,
                                at: (topic_index, partition_index),
                            });
                        }
                        response.base_offset = appended.base_offset;
                        response.log_start_offset = appended.log_start_offset;
                        response.log_append_time_ms = appended.log_append_time;
                    }
                    Err(e) => {
                        response.base_offset = -1;
                        response.log_start_offset = -1;
                        tracing::debug!(topic = ?name, partition = data.index, error = %e, "produce refused");
                        response.error_code = e.code();
                        if v >= 8 {
                            response.error_message = Some(str_bytes(e.message.clone()));
                        }
                        let leader = super::current_leader(&state, name.as_deref(), data.index)
                            .filter(|_| v >= 10 && e.code == ResponseError::NotLeaderOrFollower);
                        if let Some((leader, epoch)) = leader {
                            response.current_leader = LeaderIdAndEpoch::default()
                                .with_leader_id(leader.into())
                                .with_leader_epoch(epoch);
                            leaders.push(leader);
                        }
                        failures.push(e);
                    }
                }
                partition_responses.push(response);
            }
            let mut response =
                TopicProduceResponse::default().with_partition_responses(partition_responses);
            if v >= 13 {
                response.topic_id = topic.topic_id;
            } else {
                response.name = topic.name;
            }
            responses.push(response);
        }
        let node_endpoints = node_endpoints(&state, leaders);
        let lagging = state.replication.can_lag();
        (responses, node_endpoints, lagging)
    };
    ctx.shared.logs_changed.notify_waiters();
    if lagging {
        // Followers copy later: the timer task must learn of the new deadline.
        ctx.groups_changed();
    }
    wait_for_replicas(ctx, awaiting, timeout_ms, &mut responses).await;
    if acks == 0 {
        return match failures.first() {
            None => Reply::NoResponse,
            Some(e) => Reply::Close(format!("acks=0 produce failed: {e}")),
        };
    }
    Reply::Response(Box::new(ResponseKind::Produce(
        ProduceResponse::default()
            .with_responses(responses)
            .with_node_endpoints(node_endpoints),
    )))
}

/// An acks=all write waiting for the ISR to copy it.
struct Awaiting {
    topic: String,
    partition: i32,
    last_offset: i64,
    /// (topic, partition) index of its answer.
    at: (usize, usize),
}

/// Holds acks=all answers until the high watermark passes every write, as Kafka's
/// delayed produce does: NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below
/// `min.insync.replicas` meanwhile, NOT_LEADER_OR_FOLLOWER if leadership moved (the write
/// may be lost), REQUEST_TIMED_OUT after the request's `timeout_ms`. With followers
/// copying at once (the default) every write is already replicated and nothing waits.
async fn wait_for_replicas(
    ctx: &RequestContext<'_>,
    mut awaiting: Vec<Awaiting>,
    timeout_ms: i32,
    responses: &mut [TopicProduceResponse],
) {
    if awaiting.is_empty() {
        return;
    }
    let deadline =
        tokio::time::Instant::now() + std::time::Duration::from_millis(timeout_ms.max(0) as u64);
    let mut fail = |at: (usize, usize), e: KafkaError| {
        let r = &mut responses[at.0].partition_responses[at.1];
        tracing::debug!(partition = r.index, error = %e, "acks=all produce failed while waiting");
        r.error_code = e.code();
        r.base_offset = -1;
        if ctx.version >= 8 {
            r.error_message = Some(str_bytes(e.message));
        }
    };
    loop {
        let mut changed = pin!(ctx.shared.logs_changed.notified());
        changed.as_mut().enable();
        {
            let state = ctx.shared.lock();
            awaiting.retain(|w| match replicated(&state, ctx.broker_id, w) {
                None => true,
                Some(Ok(())) => false,
                Some(Err(e)) => {
                    fail(w.at, e);
                    false
                }
            });
        }
        if awaiting.is_empty() {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            for w in awaiting {
                fail(
                    w.at,
                    KafkaError::new(
                        ResponseError::RequestTimedOut,
                        format!("the ISR did not copy offset {} in time", w.last_offset),
                    ),
                );
            }
            return;
        }
        tokio::select! {
            _ = changed => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// Whether a waiting write is settled: `None` while the ISR is still copying it.
fn replicated(
    state: &crate::state::State,
    broker: i32,
    w: &Awaiting,
) -> Option<Result<(), KafkaError>> {
    let p = state.topic(&w.topic)?.partition(w.partition)?;
    if p.leader != broker || p.log.log_end_offset() <= w.last_offset {
        return Some(Err(KafkaError::new(
            ResponseError::NotLeaderOrFollower,
            format!(
                "leadership of {}-{} moved before the write was replicated",
                w.topic, w.partition
            ),
        )));
    }
    if p.high_watermark() <= w.last_offset {
        return None;
    }
    let min_isr = state.min_insync_replicas(&w.topic, w.partition);
    if p.isr.len() < min_isr {
        return Some(Err(KafkaError::new(
            ResponseError::NotEnoughReplicasAfterAppend,
            format!(
                "the ISR {:?} shrank below min.insync.replicas {min_isr} after the write",
                p.isr
            ),
        )));
    }
    Some(Ok(()))
}

fn node_endpoints(state: &crate::state::State, leaders: Vec<i32>) -> Vec<NodeEndpoint> {
    super::leader_endpoints(state, leaders)
        .into_iter()
        .map(|b| {
            NodeEndpoint::default()
                .with_node_id(b.id.into())
                .with_host(str_bytes(b.host.clone()))
                .with_port(b.port)
        })
        .collect()
}
