//! Produce (key 0), v3–13.
//!
//! Each partition's record set is checked in two steps: first without the state lock
//! (`state/prepared.rs`: the batch's CRC and framing, every record walked and decompressed,
//! the whole request within one decompression budget, on a thread that may block; then the
//! copy the log keeps), then under the lock by `State::append_prepared` (see
//! `state/append.rs` for Kafka's checks and their order, idempotent sequences included),
//! which gives it its offsets; this handler only maps requests and answers. acks outside
//! -1/0/1 is INVALID_REQUIRED_ACKS for every partition. Topics are named before v13 and
//! given by id from v13. acks=1 answers once the batch is in the leader's log; acks=all
//! once the ISR has it too, which is at once unless followers lag (see
//! `state/replication.rs`), and otherwise after a wait bounded by the request's timeout.
//! With acks=0 nothing is answered, and a failed write closes the connection, as Kafka
//! does, so the client notices. A NOT_LEADER_OR_FOLLOWER answer carries the current leader
//! (v10+, KIP-951) so clients can redirect without a metadata round trip.
//!
//! Transactional batches are checked against their transaction (`state/append.rs`); from
//! v12 the partition joins the transaction implicitly (KIP-890, transaction version 2).

use std::pin::pin;
use std::sync::Arc;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use broker_sim_protocol::batch::BatchView;
use kafka_protocol::messages::produce_response::{
    BatchIndexAndErrorMessage, LeaderIdAndEpoch, NodeEndpoint, PartitionProduceResponse,
    TopicProduceResponse,
};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse};
use tokio::sync::Notify;

use crate::state::acls::Operation;
use super::partitioned::{self, indexed, topic};
use super::{Api, Ctx, Names, Refusal, Reply, str_bytes, Access, LogDetails};
use crate::error::{CloseReason, KafkaError};
use super::Select;
use crate::state::{AppendError, AppendOptions, Appended, PreparedBatch, State};
use broker_sim_protocol::batch::{DecompressionBudget, MAX_DECOMPRESSED_BYTES};

async fn serve(ctx: &Ctx<'_>, mut request: ProduceRequest) -> Reply<ProduceResponse> {
    let v = ctx.version;
    // A partition named twice gets one append, of the last batch given for it, and one
    // answer, as Kafka keys a produce by partition.
    request.topic_data = super::merge_by(
        std::mem::take(&mut request.topic_data),
        |t| (t.name.clone(), t.topic_id),
        |first, later| first.partition_data.extend(later.partition_data),
    )
    .into_iter()
    .map(|mut t| {
        t.partition_data = super::dedup_by(std::mem::take(&mut t.partition_data), |p| p.index, true);
        t
    })
    .collect();
    // Transactional records are authorized against the request's transactional id; with
    // none, Kafka refuses the whole request as TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
    let transactional = || {
        request
            .topic_data
            .iter()
            .flat_map(|t| &t.partition_data)
            .filter_map(|p| p.records.as_deref())
            .any(|r| BatchView::parse(r).is_ok_and(|b| b.is_transactional()))
    };
    if request.transactional_id.is_none() && transactional() {
        tracing::info!("transactional records without a transactional id refused");
        return Reply::Response(Produce::error_response(
            &request,
            v,
            ResponseError::TransactionalIdAuthorizationFailed,
        ));
    }
    let acks = request.acks;
    let options = AppendOptions {
        acks,
        now_ms: ctx.shared.clock.now_ms(),
        allow_zstd: v >= 7,
        transactional_id: request.transactional_id.as_deref().map(|t| &**t),
        version: v,
    };
    let timeout_ms = request.timeout_ms;
    let mut prepared = prepare(&request.topic_data, options.allow_zstd);
    // Each partition is appended under the state's read lock and its own lock, beside other
    // clients' appends; an append that needs the transaction coordinator too (a
    // transaction's first batch on the partition) is made after, under the write lock.
    let answered = {
        let state = ctx.shared.read();
        let names = topic_names(&state, &request.topic_data, v);
        let mut results: Vec<Vec<Option<Appending>>> = request
            .topic_data
            .iter()
            .zip(&mut prepared)
            .zip(&names)
            .map(|((topic, batches), name)| {
                topic
                    .partition_data
                    .iter()
                    .zip(batches)
                    .map(|(data, batch)| match refused_first(name.as_deref(), acks) {
                        Some(refused) => Some(Err(refused)),
                        None => state.try_append_shared(
                            name.as_deref().unwrap_or_default(),
                            data.index,
                            ctx.broker_id,
                            batch,
                            options,
                        ),
                    })
                    .collect()
            })
            .collect();
        // Acknowledged to the history under the lock the appends were made under: once
        // it is released the topic may be deleted and made again.
        for (t, results) in results.iter().enumerate() {
            for (i, result) in results.iter().enumerate() {
                record_ack(ctx, &state, &request, &names, (t, i), result.as_ref(), options);
            }
        }
        if results.iter().flatten().any(Option::is_none) {
            drop(state);
            let mut state = ctx.shared.lock();
            // Looked up again: the topic may have gone since.
            let names_now = topic_names(&state, &request.topic_data, v);
            for (t, topic) in request.topic_data.iter().enumerate() {
                for (i, data) in topic.partition_data.iter().enumerate() {
                    if results[t][i].is_none() {
                        let name = names_now[t].as_deref().filter(|n| Some(*n) == names[t].as_deref());
                        let result = match refused_first(name, acks) {
                            Some(refused) => Err(refused),
                            None => state.append_prepared(
                                name.unwrap_or_default(),
                                data.index,
                                Some(ctx.broker_id),
                                &mut prepared[t][i],
                                options,
                            ),
                        };
                        record_ack(ctx, &state, &request, &names, (t, i), Some(&result), options);
                        results[t][i] = Some(result);
                    }
                }
            }
            answer(ctx, &state, &request, &names, results, options)
        } else {
            answer(ctx, &state, &request, &names, results, options)
        }
    };
    let Answered {
        mut responses,
        node_endpoints,
        lagging,
        awaiting,
        failures,
        record_errors_due,
    } = answered;
    // Listed now the lock is released: the list is as long as the batch.
    for (t, p, (lowest, highest)) in record_errors_due {
        responses[t].partition_responses[p].record_errors = prepared[t][p]
            .record_errors(lowest, highest)
            .into_iter()
            .map(|(index, why)| {
                BatchIndexAndErrorMessage::default()
                    .with_batch_index(index)
                    .with_batch_index_error_message(Some(str_bytes(why)))
            })
            .collect();
    }
    drop(prepared);
    if lagging || options.transactional_id.is_some() {
        // Followers copy later, or a transaction began (its timeout is a deadline): the
        // timer task must learn of the new deadline.
        ctx.shared.wake_timers();
    }
    wait_for_replicas(ctx, awaiting, timeout_ms, &mut responses).await;
    if acks == 0 {
        return match failures.first() {
            None => Reply::NoResponse,
            Some(e) => Reply::Close(CloseReason::AcksZeroFailed(e.clone())),
        };
    }
    Reply::Response(
        ProduceResponse::default()
            .with_responses(responses)
            .with_node_endpoints(node_endpoints),
    )
}

/// One partition's append: `None` until it is made.
type Appending = Result<Appended, AppendError>;

/// Each topic's name: given before v13, looked up by id from v13 (`None`: unknown id).
fn topic_names(state: &State, topics: &[TopicProduceData], v: i16) -> Vec<Option<String>> {
    topics
        .iter()
        .map(|topic| {
            if v >= 13 {
                state.topic_name_by_id(&topic.topic_id).map(str::to_string)
            } else {
                Some(topic.name.to_string())
            }
        })
        .collect()
}

/// What refuses a partition's batch before its partition is looked at: an unknown topic
/// id, acks outside -1/0/1.
fn refused_first(name: Option<&str>, acks: i16) -> Option<AppendError> {
    if name.is_none() {
        return Some(KafkaError::new(ResponseError::UnknownTopicId, "unknown topic id").into());
    }
    (!matches!(acks, -1..=1)).then(|| {
        KafkaError::new(
            ResponseError::InvalidRequiredAcks,
            format!("acks must be -1, 0 or 1, not {acks}"),
        )
        .into()
    })
}

/// The answer the appends make, before any acks=all wait.
struct Answered {
    responses: Vec<TopicProduceResponse>,
    node_endpoints: Vec<NodeEndpoint>,
    /// Whether followers may lag (the timer task must learn of the new deadlines).
    lagging: bool,
    awaiting: Vec<Awaiting>,
    failures: Vec<KafkaError>,
    /// Record errors the lock left to build: (topic index, partition index, bounds).
    record_errors_due: Vec<(usize, usize, (i64, i64))>,
}

/// Tells the history of an append acknowledged now (acks=1, and acks=all already in the
/// ISR; a write that waits for replicas is told of when they have it, and acks=0 never
/// is), under the lock it was made under. `at` is (topic index, partition index) in the
/// request.
fn record_ack(
    ctx: &Ctx<'_>,
    state: &State,
    request: &ProduceRequest,
    names: &[Option<String>],
    (t, i): (usize, usize),
    result: Option<&Appending>,
    options: AppendOptions<'_>,
) {
    let acks = options.acks;
    if let Some(Ok(appended)) = result
        && acks != 0
        && !ctx.answer_lost
        && (acks != -1 || appended.replicated)
    {
        let range = (appended.base_offset, appended.last_offset);
        let topic = names[t].as_deref().unwrap_or_default();
        let partition = request.topic_data[t].partition_data[i].index;
        state.record_ack(topic, partition, range, acks, options.now_ms);
    }
}

/// Builds the answer from the appends' outcomes, under the lock the last of them was
/// made in: refusals name the current leader.
fn answer(
    ctx: &Ctx<'_>,
    state: &State,
    request: &ProduceRequest,
    names: &[Option<String>],
    results: Vec<Vec<Option<Appending>>>,
    options: AppendOptions<'_>,
) -> Answered {
    let (v, acks) = (ctx.version, options.acks);
    let mut out = Answered {
        responses: Vec::with_capacity(request.topic_data.len()),
        node_endpoints: Vec::new(),
        lagging: state.replication.can_lag(),
        awaiting: Vec::new(),
        failures: Vec::new(),
        record_errors_due: Vec::new(),
    };
    let mut leaders = Vec::new();
    for (topic_index, (topic, results)) in request.topic_data.iter().zip(results).enumerate() {
        let name = &names[topic_index];
        let mut partition_responses = Vec::with_capacity(topic.partition_data.len());
        for (partition_index, (data, result)) in topic.partition_data.iter().zip(results).enumerate() {
            let result = result.unwrap_or_else(|| {
                Err(KafkaError::new(ResponseError::UnknownServerError, "not appended").into())
            });
            let mut response = PartitionProduceResponse::default().with_index(data.index);
            match result {
                Ok(appended) => {
                    let range = (appended.base_offset, appended.last_offset);
                    // Only a write the ISR does not have yet waits; the others are
                    // acknowledged now (acks=0 never is).
                    if acks == -1 && !appended.replicated {
                        out.awaiting.push(Awaiting {
                            topic: name.clone().unwrap_or_default(),
                            partition: data.index,
                            range,
                            at: (topic_index, partition_index),
                        });
                    }
                    response.base_offset = appended.base_offset;
                    response.log_start_offset = appended.log_start_offset;
                    response.log_append_time_ms = appended.log_append_time;
                }
                Err(refused) => {
                    let e = refused.error;
                    response.base_offset = -1;
                    response.log_start_offset = refused.log_start_offset;
                    tracing::debug!(topic = ?name, partition = data.index, error = %e, "produce refused");
                    response.error_code = e.code();
                    if v >= 8 && refused.send_message {
                        response.error_message = Some(str_bytes(e.message.clone()));
                        if let Some(bounds) = refused.timestamp_bounds {
                            out.record_errors_due.push((topic_index, partition_index, bounds));
                        }
                        response.record_errors = refused
                            .record_errors
                            .iter()
                            .map(|(index, why)| {
                                BatchIndexAndErrorMessage::default()
                                    .with_batch_index(*index)
                                    .with_batch_index_error_message(Some(str_bytes(why.clone())))
                            })
                            .collect();
                    }
                    let leader = super::current_leader(state, name.as_deref(), data.index)
                        .filter(|_| v >= 10 && e.code == ResponseError::NotLeaderOrFollower);
                    if let Some((leader, epoch)) = leader {
                        response.current_leader = LeaderIdAndEpoch::default()
                            .with_leader_id(leader.into())
                            .with_leader_epoch(epoch);
                        leaders.push(leader);
                    }
                    out.failures.push(e);
                }
            }
            partition_responses.push(response);
        }
        let mut response =
            TopicProduceResponse::default().with_partition_responses(partition_responses);
        if v >= 13 {
            response.topic_id = topic.topic_id;
        } else {
            response.name = topic.name.clone();
        }
        out.responses.push(response);
    }
    out.node_endpoints = node_endpoints(state, leaders, ctx.session.listener);
    out
}

/// Checks every partition's record set before the state lock is taken (see
/// `state/prepared.rs`), the request's batches sharing one decompression budget. When a
/// batch is compressed or large, the work runs with the worker's other tasks handed to
/// another thread (`block_in_place`), so connections served by the same worker are not
/// held up behind it.
fn prepare(topics: &[TopicProduceData], allow_zstd: bool) -> Vec<Vec<PreparedBatch<'_>>> {
    fn records(p: &PartitionProduceData) -> &[u8] {
        p.records.as_deref().unwrap_or_default()
    }
    let heavy = topics
        .iter()
        .flat_map(|t| &t.partition_data)
        .any(|p| PreparedBatch::is_heavy(records(p)));
    let work = || {
        let mut budget = DecompressionBudget::new(MAX_DECOMPRESSED_BYTES);
        topics
            .iter()
            .map(|t| {
                t.partition_data
                    .iter()
                    .map(|p| PreparedBatch::prepare(records(p), allow_zstd, &mut budget))
                    .collect()
            })
            .collect()
    };
    let multi_thread = tokio::runtime::Handle::try_current()
        .is_ok_and(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    if heavy && multi_thread {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

/// An acks=all write waiting for the ISR to copy it.
struct Awaiting {
    topic: String,
    partition: i32,
    /// Its first and last offsets.
    range: (i64, i64),
    /// (topic, partition) index of its answer.
    at: (usize, usize),
}

/// Holds acks=all answers until the high watermark passes every write, as Kafka's
/// delayed produce does: NOT_ENOUGH_REPLICAS_AFTER_APPEND if the ISR shrank below
/// `min.insync.replicas` meanwhile, NOT_LEADER_OR_FOLLOWER if leadership moved (the write
/// may be lost), REQUEST_TIMED_OUT after the request's `timeout_ms`. With followers
/// copying at once (the default) every write is already replicated and nothing waits.
async fn wait_for_replicas(
    ctx: &Ctx<'_>,
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
        // These errors carry no message in Kafka's answers.
        r.base_offset = -1;
    };
    // Woken when a partition it waits on moves its high watermark (`state::waiters`), or
    // by a cluster-wide change (the ISR shrinking, leadership moving).
    let waker = Arc::new(Notify::new());
    loop {
        let mut everything = pin!(ctx.shared.everything_changed());
        everything.as_mut().enable();
        {
            let state = ctx.shared.read();
            let now = ctx.shared.clock.now_ms();
            awaiting.retain(|w| match replicated(&state, ctx.broker_id, w, &waker) {
                None => true,
                Some(Ok(())) => {
                    if !ctx.answer_lost {
                        state.record_ack(&w.topic, w.partition, w.range, -1, now);
                    }
                    false
                }
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
                        format!("the ISR did not copy offset {} in time", w.range.1),
                    ),
                );
            }
            return;
        }
        tokio::select! {
            _ = waker.notified() => {}
            _ = everything => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// Whether a waiting write is settled: `None` while the ISR is still copying it, and then
/// `waker` is registered with its partition, under the partition's lock the answer was
/// read under, so a move of the high watermark after it cannot go unnoticed.
fn replicated(
    state: &State,
    broker: i32,
    w: &Awaiting,
    waker: &Arc<Notify>,
) -> Option<Result<(), KafkaError>> {
    let mut p = state.topic(&w.topic)?.partition(w.partition)?;
    if p.leader != broker || p.log.log_end_offset() <= w.range.1 {
        return Some(Err(KafkaError::new(
            ResponseError::NotLeaderOrFollower,
            format!(
                "leadership of {}-{} moved before the write was replicated",
                w.topic, w.partition
            ),
        )));
    }
    if p.high_watermark() <= w.range.1 {
        p.waiters.register(waker);
        return None;
    }
    let min_isr = state.min_insync_replicas(&w.topic, p.replicas.len());
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

fn node_endpoints(
    state: &crate::state::State,
    leaders: Vec<i32>,
    listener: usize,
) -> Vec<NodeEndpoint> {
    super::leader_endpoints(state, leaders)
        .into_iter()
        .map(|b| {
            NodeEndpoint::default()
                .with_node_id(b.id.into())
                .with_host(str_bytes(b.host.clone()))
                .with_port(b.port_on(listener))
        })
        .collect()
}

pub(crate) struct Produce;

impl Api for Produce {
    const KEY: ApiKey = ApiKey::Produce;
    const VERSIONS: (i16, i16) = (3, 13);
    /// Kafka 4.1 still advertises Produce from v0 although it refuses v0–2 (KIP-896 kept
    /// the advertised range for old clients); so does broker-sim, and refuses them too.
    const ADVERTISED_MIN: i16 = 0;
    type Request = ProduceRequest;
    type Response = ProduceResponse;
    const ACCESS: Access = Access::transactional_id(Operation::Write).and_topic(Operation::Write);

    async fn handle(ctx: &Ctx<'_>, request: ProduceRequest) -> Reply<ProduceResponse> {
        let reply = serve(ctx, request).await;
        // Kafka counts the whole request against `producer_byte_rate` once it is handled,
        // whatever became of it, acks=0 included (whose channel is muted all the same).
        ctx.quota(crate::state::quotas::QuotaKind::Produce, ctx.request_bytes);
        reply
    }

    fn names(ctx: &Ctx<'_>, request: &ProduceRequest) -> Names {
        Names::partitions(request.topic_data.iter().map(|t| {
            let partitions = t.partition_data.iter().map(|p| p.index).collect();
            (ctx.topic_name(&t.name, &t.topic_id), partitions)
        }))
        .with_transactional_id(request.transactional_id.as_deref().map(|t| &**t))
    }

    fn error_response(request: &ProduceRequest, _version: i16, code: ResponseError) -> ProduceResponse {
        partitioned::refuse_all::<Self, _, _>(
            request,
            |r| &mut r.topic_data,
            |a| &mut a.responses,
            error_entry,
            code,
        )
    }

    fn set_throttle(response: &mut ProduceResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ProduceResponse, log: &mut LogDetails) {
        for response in &answer.responses {
            for partition_response in &response.partition_responses {
                log.error(partition_response.error_code);
            }
        }
    }

    fn log_request(request: &ProduceRequest, log: &mut LogDetails) {
        log.acks = Some(request.acks);
        for topic in &request.topic_data {
            for partition in &topic.partition_data {
                log.count_records(partition.records.as_deref());
            }
        }
    }

    fn refuse<'a>(
        ctx: &'a Ctx<'_>,
        mut request: ProduceRequest,
        rule: &'a dyn Select,
        code: ResponseError,
    ) -> Refusal<'a, Self> {
        let plan = partitioned::strip_selected(ctx, &mut request.topic_data, rule);
        let acks = request.acks;
        let closing = rule.refused(format!("acks=0 produce refused with {code:?}"));
        Refusal {
            rest: plan.has_rest().then_some(request),
            finish: Box::new(move |reply| {
                // A failed acks=0 write closes the connection, as the handler does for its
                // own failures: the client has no other way to learn of it.
                if acks == 0 && plan.refused_any() {
                    return Reply::Close(closing);
                }
                partitioned::edit(reply, |a| {
                    a.responses = partitioned::merge(&plan, std::mem::take(&mut a.responses), |i| {
                        error_entry(i, code.code())
                    });
                })
            }),
        }
    }

    fn fail(
        ctx: &Ctx<'_>,
        request: &ProduceRequest,
        reply: Reply<ProduceResponse>,
        rule: &dyn Select,
        code: ResponseError,
    ) -> Reply<ProduceResponse> {
        if request.acks == 0 {
            return Reply::Close(rule.refused(format!(
                "acks=0 produce applied, then failed with {code:?}"
            )));
        }
        partitioned::fail(ctx, reply, rule, code, |a| &mut a.responses, error_entry)
    }
}

/// A refused partition's answer, as the handler writes its own failures.
fn error_entry(index: i32, code: i16) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(code)
        .with_base_offset(-1)
        .with_log_start_offset(-1)
}

indexed!(PartitionProduceData: index, PartitionProduceResponse: index);
topic!(TopicProduceData, name, topic_id, partition_data: PartitionProduceData);
topic!(answer TopicProduceResponse, name, topic_id, partition_responses: PartitionProduceResponse);

#[cfg(test)]
#[path = "produce_tests.rs"]
mod tests;
