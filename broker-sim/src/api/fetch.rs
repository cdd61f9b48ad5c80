//! Fetch (key 1), v4–18.
//!
//! Serves the stored batches as they were produced, starting at the batch that holds the
//! fetch offset and stopping below the high watermark. Limits as in Kafka: the request's
//! `max_bytes` across partitions and each partition's `partition_max_bytes`, except that
//! the first batch found is returned even when it alone exceeds them (KIP-74), so a
//! consumer always progresses. Long polling: without `min_bytes` of data and without an
//! error, the request waits up to `max_wait_ms` and is woken when a partition it reads moves
//! (see `state::waiters`: only a change to a partition it reads wakes it, or a cluster-wide
//! event). `max_bytes` is capped at Kafka's 55 MiB `fetch.max.bytes`. Topics are
//! named before v13 and given by id from v13.
//!
//! A read_committed consumer (`isolation_level` 1) reads only up to the last stable offset
//! and gets the aborted transactions that overlap the batches returned, to drop their
//! records (see `state::producers`); `last_stable_offset` is reported either way.
//!
//! Fetch sessions (KIP-227) are not kept: every answer carries session id 0, which tells
//! clients to send full fetch requests, as Kafka does when its session cache is full.

use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::{
    AbortedTransaction, FetchableTopicResponse, LeaderIdAndEpoch, NodeEndpoint, PartitionData,
};
use kafka_protocol::messages::{FetchRequest, FetchResponse};
use tokio::sync::Notify;

use crate::state::acls::Operation;
use super::partitioned::{self, indexed, topic};
use crate::state::quotas::QuotaKind;
use super::{Api, Ctx, Names, Refusal, Reply, str_bytes, topic_name, Access, LogDetails};
use crate::error::KafkaError;
use super::Select;
use crate::state::{Partition, State};

/// Kafka's broker `fetch.max.bytes` (55 MiB): no response is larger, whatever the client
/// asks, and `min_bytes` is capped by it so a fetch can always be satisfied.
const FETCH_MAX_BYTES: i32 = 57_671_680;

/// `isolation_level` of a read_committed consumer.
const READ_COMMITTED: i8 = 1;

async fn serve(ctx: &Ctx<'_>, mut request: FetchRequest) -> FetchResponse {
    // A partition named twice is read and answered once, as Kafka keys a fetch by
    // partition (the first entry's position and fields).
    request.topics = super::merge_by(
        std::mem::take(&mut request.topics),
        |t| (t.topic.clone(), t.topic_id),
        |first, later| first.partitions.extend(later.partitions),
    )
    .into_iter()
    .map(|mut t| {
        t.partitions = super::dedup_by(std::mem::take(&mut t.partitions), |p| p.partition, false);
        t
    })
    .collect();
    if ctx.version >= 7 && request.session_id != 0 {
        return FetchResponse::default()
            .with_error_code(ResponseError::FetchSessionIdNotFound.code());
    }
    let wait = Duration::from_millis(request.max_wait_ms.max(0) as u64);
    let deadline = tokio::time::Instant::now() + wait;
    // On a manual clock the wait also ends when `Cluster::advance` passes it (advancing
    // wakes every waiter); real time still bounds it so an idle consumer is answered.
    let clock = &ctx.shared.clock;
    let cluster_deadline = clock.now_ms() + i64::from(request.max_wait_ms.max(0));
    // Capped, as Kafka caps it, by the most an answer may carry: the request's maximum,
    // the broker's, and what the client's byte-rate quota allows in its window.
    let quota_cap = ctx
        .shared
        .quotas
        .max_in_window(QuotaKind::Fetch, ctx.client_id)
        .unwrap_or(usize::MAX);
    let min_bytes = (request
        .min_bytes
        .clamp(0, request.max_bytes.clamp(0, FETCH_MAX_BYTES)) as usize)
        .min(quota_cap);
    // This request's own wake-up, registered with every partition it waits on: an append
    // to another partition never wakes it (see `state::waiters`).
    let waker = Arc::new(Notify::new());
    loop {
        // Enabled before reading, so a change between the read and the wait still wakes us.
        let mut everything = pin!(ctx.shared.everything_changed());
        everything.as_mut().enable();
        {
            let state = ctx.shared.read();
            let pass = read(ctx, &state, &request, &waker);
            let waited = tokio::time::Instant::now() >= deadline
                || (clock.is_manual() && clock.now_ms() >= cluster_deadline);
            if pass.any_error || pass.bytes >= min_bytes || waited {
                // As Kafka: the answer counts against `consumer_byte_rate`; one that takes
                // the client over it is taken back and answered empty, with the throttle.
                if ctx.quota(QuotaKind::Fetch, pass.bytes) > 0 {
                    return FetchResponse::default().with_error_code(pass.response.error_code);
                }
                count_handed_out(ctx, &state, pass.handed_out);
                return pass.response;
            }
        }
        tokio::select! {
            _ = waker.notified() => {}
            _ = everything => {}
            _ = tokio::time::sleep_until(deadline) => {}
        }
    }
}

/// One pass over the requested partitions.
struct Pass {
    response: FetchResponse,
    /// Bytes of records in the response.
    bytes: usize,
    any_error: bool,
    /// (topic, partition, records, bytes) of every partition that returned records, for
    /// the traffic counters once this pass is the answer.
    handed_out: Vec<HandedOut>,
}

/// Registers `waker` with every partition it reads, under that partition's lock: a pass
/// that finds too little waits for them, and an append after the read wakes it.
fn read(ctx: &Ctx<'_>, state: &State, request: &FetchRequest, waker: &Arc<Notify>) -> Pass {
    let v = ctx.version;
    // An earlier pass's placeholders went with its answer, unsent.
    let mut splices = ctx.splices.lock().unwrap_or_else(|e| e.into_inner());
    *splices = Default::default();
    // A consumer under a byte-rate quota gets at most what the quota allows in its
    // window (Kafka's `getMaxValueInQuotaWindow`), so an answer can stay within it.
    let mut remaining = (request.max_bytes.clamp(0, FETCH_MAX_BYTES) as usize).min(
        ctx.shared
            .quotas
            .max_in_window(QuotaKind::Fetch, ctx.client_id)
            .unwrap_or(usize::MAX),
    );
    let mut total = 0usize;
    let mut any_error = false;
    let mut leaders = Vec::new();
    let mut handed_out = Vec::new();
    let mut responses = Vec::with_capacity(request.topics.len());
    // Replicas fetching (a replica id of 0 or more) are other brokers; broker-sim's
    // followers copy without fetching, so every fetch is a consumer's in practice.
    let replica_id = if v >= 15 {
        request.replica_state.replica_id.0
    } else {
        request.replica_id.0
    };
    let consumer = replica_id < 0;
    for topic in &request.topics {
        let name = if v >= 13 {
            state.topic_name_by_id(&topic.topic_id).map(str::to_string)
        } else {
            Some(topic.topic.to_string())
        };
        let mut partitions = Vec::with_capacity(topic.partitions.len());
        for fp in &topic.partitions {
            // Kafka lists aborted transactions to read_committed consumers; a partition read
            // for read_uncommitted has a null list.
            let mut data = PartitionData::default()
                .with_partition_index(fp.partition)
                .with_aborted_transactions(None)
                .with_records(Some(Bytes::new()));
            let found = match &name {
                None => Err(KafkaError::new(
                    ResponseError::UnknownTopicId,
                    "unknown topic id",
                )),
                // A consumer (Fetch v11+) may read from a follower (KIP-392).
                Some(name) => state.readable_partition(name, fp.partition, ctx.broker_id, v >= 11 && consumer),
            };
            let mut result = found.and_then(|(p, as_follower)| {
                check_position(&p, fp.current_leader_epoch, fp.fetch_offset)?;
                Ok((p, as_follower))
            });
            if let Ok((p, _)) = &mut result {
                p.waiters.register(waker);
            }
            match result {
                Ok((p, false))
                    if v >= 11
                        && consumer
                        && let Some(replica) = state.preferred_read_replica(
                            &p,
                            &request.rack_id,
                            fp.fetch_offset,
                        ) =>
                {
                    // The leader names the replica in the consumer's rack and sends no
                    // records: the consumer fetches from that replica from now on.
                    data.preferred_read_replica = replica.into();
                    data.high_watermark = p.high_watermark();
                    data.last_stable_offset = p.last_stable_offset();
                    data.log_start_offset = p.log.log_start_offset();
                }
                Ok((p, as_follower)) => {
                    // A follower serves what its own copy holds, below the high watermark.
                    let copied = if as_follower {
                        p.replica_end(ctx.broker_id)
                    } else {
                        i64::MAX
                    };
                    let hw = p.high_watermark().min(copied);
                    let lso = p.last_stable_offset().min(copied);
                    let committed = request.isolation_level == READ_COMMITTED;
                    let limit = remaining.min(fp.partition_max_bytes.max(0) as usize);
                    let until = if committed { lso } else { hw };
                    let read = p.log.read(fp.fetch_offset, until, limit, total == 0);
                    if committed {
                        data.aborted_transactions = Some(aborted(&p, fp.fetch_offset, read.end));
                    }
                    if read.records > 0 {
                        handed_out.push(HandedOut {
                            topic: name.clone().unwrap_or_default(),
                            partition: p.index,
                            records: read.records,
                            bytes: read.bytes as u64,
                            range: (fp.fetch_offset, read.start, read.end),
                            read_committed: committed,
                        });
                    }
                    remaining = remaining.saturating_sub(read.bytes);
                    total += read.bytes;
                    data.high_watermark = hw;
                    data.last_stable_offset = lso;
                    data.log_start_offset = p.log.log_start_offset();
                    data.records = Some(splices.add(read.batches));
                }
                Err(e) => {
                    any_error = true;
                    data.error_code = e.code();
                    data.high_watermark = -1;
                    data.last_stable_offset = -1;
                    data.log_start_offset = -1;
                    // Kafka answers partitions it cannot look up before reading (unknown
                    // topic, id or partition) with an empty list, the others with null.
                    if matches!(
                        e.code,
                        ResponseError::UnknownTopicOrPartition | ResponseError::UnknownTopicId
                    ) {
                        data.aborted_transactions = Some(Vec::new());
                    }
                    if v >= 12 && e.code == ResponseError::NotLeaderOrFollower {
                        data.current_leader = current_leader(state, name.as_deref(), fp.partition);
                        if v >= 16 {
                            leaders.push(data.current_leader.leader_id.0);
                        }
                    }
                }
            }
            partitions.push(data);
        }
        let mut response = FetchableTopicResponse::default().with_partitions(partitions);
        if v >= 13 {
            response.topic_id = topic.topic_id;
        } else {
            response.topic = topic_name(&topic.topic);
        }
        responses.push(response);
    }
    Pass {
        response: FetchResponse::default()
            .with_responses(responses)
            .with_node_endpoints(node_endpoints(state, leaders, ctx.session.listener)),
        bytes: total,
        any_error,
        handed_out,
    }
}

/// The aborted transactions a read_committed consumer needs to drop records of the
/// batches returned (`from` up to `end`): those that end at or after `from` and begin
/// before `end`. None when nothing was returned.
fn aborted(p: &Partition, from: i64, end: i64) -> Vec<AbortedTransaction> {
    p.producers
        .aborted_between(from, end)
        .map(|t| {
            AbortedTransaction::default()
                .with_producer_id(t.producer_id.into())
                .with_first_offset(t.first_offset)
        })
        .collect()
}

/// What an answer hands out of one partition.
struct HandedOut {
    topic: String,
    partition: i32,
    records: u64,
    bytes: u64,
    /// (fetch offset, first batch's base offset, offset after the last batch).
    range: (i64, i64, i64),
    read_committed: bool,
}

/// Adds what an answer carries to its partitions' traffic counters and to the cluster's
/// history (for the checkers), in the lock the answer was read under. Counted once the
/// pass is the answer, because a pass that finds too little is thrown away and read again.
fn count_handed_out(ctx: &Ctx<'_>, state: &State, handed_out: Vec<HandedOut>) {
    let now = ctx.shared.clock.now_ms();
    for h in handed_out {
        if let Some(mut p) = state.topic(&h.topic).and_then(|t| t.partition(h.partition)) {
            p.counters.fetched(h.records, h.bytes);
        }
        if !ctx.answer_lost {
            state.record_fetch(ctx.broker_id, ctx.client_id, &h.topic, h.partition, h.range, h.read_committed, now);
        }
    }
}

/// Kafka's checks of a fetch position: the client's leader epoch against ours, and the
/// offset against the log's range (the high watermark itself is valid and reads nothing).
fn check_position(p: &Partition, client_epoch: i32, offset: i64) -> Result<(), KafkaError> {
    p.check_leader_epoch(client_epoch)?;
    if offset < p.log.log_start_offset() || offset > p.high_watermark() {
        return Err(KafkaError::new(
            ResponseError::OffsetOutOfRange,
            format!(
                "offset {offset} outside [{}, {}]",
                p.log.log_start_offset(),
                p.high_watermark()
            ),
        ));
    }
    Ok(())
}

fn current_leader(state: &State, topic: Option<&str>, partition: i32) -> LeaderIdAndEpoch {
    super::current_leader(state, topic, partition)
        .map(|(leader, epoch)| {
            LeaderIdAndEpoch::default()
                .with_leader_id(leader.into())
                .with_leader_epoch(epoch)
        })
        .unwrap_or_default()
}

/// The endpoints of the leaders named in NOT_LEADER_OR_FOLLOWER answers (v16+, KIP-951).
fn node_endpoints(state: &State, leaders: Vec<i32>, listener: usize) -> Vec<NodeEndpoint> {
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

pub(crate) struct Fetch;

impl Api for Fetch {
    const KEY: ApiKey = ApiKey::Fetch;
    const VERSIONS: (i16, i16) = (4, 18);
    type Request = FetchRequest;
    type Response = FetchResponse;
    const ACCESS: Access = Access::topic(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: FetchRequest) -> Reply<FetchResponse> {
        Reply::Response(serve(ctx, request).await)
    }

    fn names(ctx: &Ctx<'_>, request: &FetchRequest) -> Names {
        Names::partitions(request.topics.iter().map(|t| {
            let partitions = t.partitions.iter().map(|p| p.partition).collect();
            (ctx.topic_name(&t.topic, &t.topic_id), partitions)
        }))
    }

    fn error_response(request: &FetchRequest, _version: i16, code: ResponseError) -> FetchResponse {
        partitioned::refuse_all::<Self, _, _>(
            request,
            |r| &mut r.topics,
            |a| &mut a.responses,
            error_entry,
            code,
        )
    }

    fn set_throttle(response: &mut FetchResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &FetchResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for response in &answer.responses {
            for partition in &response.partitions {
                log.error(partition.error_code);
                log.count_records(partition.records.as_deref());
            }
        }
    }

    fn log_request(request: &FetchRequest, log: &mut LogDetails) {
        log.max_wait_ms = Some(request.max_wait_ms);
    }

    fn refuse<'a>(
        ctx: &'a Ctx<'_>,
        mut request: FetchRequest,
        rule: &'a dyn Select,
        code: ResponseError,
    ) -> Refusal<'a, Self> {
        let plan = partitioned::strip_selected(ctx, &mut request.topics, rule);
        if plan.refused_any() {
            // A fetch with a failed partition is answered at once, without long polling.
            request.max_wait_ms = 0;
        }
        Refusal {
            rest: plan.has_rest().then_some(request),
            finish: Box::new(move |reply| {
                partitioned::edit(reply, |a| {
                    // A top-level error (an unknown fetch session) stands alone.
                    if a.error_code == 0 {
                        a.responses =
                            partitioned::merge(&plan, std::mem::take(&mut a.responses), |i| {
                                error_entry(i, code.code())
                            });
                    }
                })
            }),
        }
    }

    fn fail(
        ctx: &Ctx<'_>,
        _request: &FetchRequest,
        reply: Reply<FetchResponse>,
        rule: &dyn Select,
        code: ResponseError,
    ) -> Reply<FetchResponse> {
        match reply {
            Reply::Response(a) if a.error_code != 0 => Reply::Response(a),
            reply => partitioned::fail(ctx, reply, rule, code, |a| &mut a.responses, error_entry),
        }
    }
}

/// A refused partition's answer, as the handler writes its own failures: partitions
/// Kafka refuses before reading (unknown, or not authorized) have an empty list of
/// aborted transactions, the others a null one.
fn error_entry(index: i32, code: i16) -> PartitionData {
    let before_reading = [
        ResponseError::UnknownTopicOrPartition,
        ResponseError::UnknownTopicId,
        ResponseError::TopicAuthorizationFailed,
    ]
    .iter()
    .any(|e| e.code() == code);
    PartitionData::default()
        .with_partition_index(index)
        .with_error_code(code)
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
        .with_aborted_transactions(before_reading.then(Vec::new))
        .with_records(Some(Default::default()))
}

indexed!(FetchPartition: partition, PartitionData: partition_index);
topic!(FetchTopic, topic, topic_id, partitions: FetchPartition);
topic!(answer FetchableTopicResponse, topic, topic_id, partitions: PartitionData);
