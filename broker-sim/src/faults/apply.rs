//! Fault rules meeting real requests: the rule that fires decides what becomes of a
//! request, and this module carries that out around the ordinary handlers.
//!
//! Errors are exact where a request has partitions (Produce, Fetch, ListOffsets,
//! OffsetCommit, OffsetFetch, DeleteRecords, OffsetForLeaderEpoch): the partitions a rule
//! selects are taken out of the request before it is handed to the handler, so nothing
//! happens to them (a produce to them writes nothing, a fetch of them does not wait), and
//! their error entries are put back into the handler's answer in the request's order, as
//! Kafka builds one answer from per-partition results. Metadata errors are per topic (the
//! topic is not looked up, so not auto-created) or, for a rule with a partition, per
//! partition. Every other API is refused whole: an answer of the API's own response type
//! with the code at its top level, or on every item where the response has only per-item
//! codes (CreateTopics topics, DeleteGroups results, FindCoordinator v4+ coordinators).
//!
//! "Apply then" actions run the handler on the whole request first and then rewrite its
//! answer the same way (selected partitions, or the whole answer), or lose it.
//!
//! Answers are always built with `kafka-protocol`'s response types and encoded by the
//! server as usual; fields a version cannot carry are left at their defaults, which is
//! what makes the encoder accept them.

use std::time::Duration;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::delete_records_request::{
    DeleteRecordsPartition, DeleteRecordsTopic,
};
use kafka_protocol::messages::delete_records_response::{
    DeleteRecordsPartitionResult, DeleteRecordsTopicResult,
};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::describe_configs_response::DescribeConfigsResult;
use kafka_protocol::messages::describe_groups_response::DescribedGroup;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestTopic, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::offset_for_leader_epoch_request::{
    OffsetForLeaderPartition, OffsetForLeaderTopic,
};
use kafka_protocol::messages::offset_for_leader_epoch_response::{
    EpochEndOffset, OffsetForLeaderTopicResult,
};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::*;
use uuid::Uuid;

use super::FaultAction;
use super::rules::Fired;
use super::target::{self, topic_name};
use crate::cluster::Shared;
use crate::handlers::{self, Reply, RequestContext};

/// What becomes of a request while fault rules exist.
pub(crate) enum Served {
    /// Answer as the handler decided (which includes no answer, for acks=0).
    Reply(Reply),
    /// Answer, then read nothing more from the connection for a while (a throttle).
    ReplyThenPause(Reply, Duration),
    /// Close the connection without answering.
    Close(String),
    /// Never answer, nor anything after it on the connection.
    Hang,
}

/// Serves `request` through the first rule that fires for it, or plainly if none does.
pub(crate) async fn serve(ctx: &RequestContext<'_>, api: ApiKey, request: RequestKind) -> Served {
    let fired = {
        let target = target::target(
            ctx.shared,
            api,
            ctx.broker_id,
            ctx.client_id,
            &request,
            ctx.version,
        );
        ctx.shared.faults.fire(&target)
    };
    let Some(fired) = fired else {
        return Served::Reply(handlers::dispatch(ctx, request).await);
    };
    let rule = fired.id.0;
    tracing::info!(
        rule,
        action = ?fired.action,
        ?api,
        version = ctx.version,
        broker = ctx.broker_id,
        client_id = ctx.client_id,
        "fault rule fired"
    );
    match fired.action.clone() {
        FaultAction::CloseConnection => {
            Served::Close(format!("fault rule {rule}: close_connection"))
        }
        FaultAction::NoResponse => Served::Hang,
        FaultAction::Error { code } => refuse(ctx, api, &fired, code, request).await,
        FaultAction::Latency { ms } => {
            let reply = handlers::dispatch(ctx, request).await;
            tokio::time::sleep(Duration::from_millis(ms)).await;
            Served::Reply(reply)
        }
        FaultAction::Throttle { ms } => {
            let mut reply = handlers::dispatch(ctx, request).await;
            let pause = Duration::from_millis(ms.max(0) as u64);
            match &mut reply {
                Reply::Response(response) => {
                    set_throttle(response, ms);
                    Served::ReplyThenPause(reply, pause)
                }
                // acks=0 has no answer to carry the time; Kafka still mutes the channel,
                // and not returning for that long is the same to the client.
                Reply::NoResponse => {
                    tokio::time::sleep(pause).await;
                    Served::Reply(reply)
                }
                Reply::Close(_) => Served::Reply(reply),
            }
        }
        FaultAction::ApplyThenError { code } => {
            apply_then_error(ctx, api, &fired, code, request).await
        }
        FaultAction::ApplyThenNoResponse => {
            handlers::dispatch(ctx, request).await;
            Served::Hang
        }
        FaultAction::ApplyThenClose => {
            handlers::dispatch(ctx, request).await;
            Served::Close(format!("fault rule {rule}: applied, then closed"))
        }
    }
}

/// The refusal of an API whose partitions sit in `topics` of request and response:
/// take the selected partitions out, serve the rest (or nothing, if nothing is left), and
/// put an error entry back for each taken partition, in request order.
macro_rules! refuse_partitions {
    ($ctx:ident, $names:ident, $covers:ident, $kind:ident, $r:ident, $topics:ident, $error:expr) => {{
        let mut $r = $r;
        let plan = strip(&mut $r.$topics, $names, $covers);
        let reply = if plan.has_rest() {
            handlers::dispatch($ctx, RequestKind::$kind($r)).await
        } else {
            response(ResponseKind::$kind(Default::default()))
        };
        edit(reply, |answer| {
            if let ResponseKind::$kind(a) = answer {
                a.$topics = merge(&plan, std::mem::take(&mut a.$topics), $error);
            }
        })
    }};
}

/// The `error` action: the selected partitions (or the whole request) are answered with
/// `code` and not processed.
async fn refuse(
    ctx: &RequestContext<'_>,
    api: ApiKey,
    fired: &Fired,
    code: ResponseError,
    request: RequestKind,
) -> Served {
    let c = code.code();
    let names = |key: &Key| topic_name(ctx.shared, &key.name, &key.id);
    let covers = |name: &str, p: i32| fired.covers(None, name, p);
    let reply = match request {
        RequestKind::Produce(mut r) => {
            let plan = strip(&mut r.topic_data, names, covers);
            let acks = r.acks;
            let reply = if plan.has_rest() {
                handlers::dispatch(ctx, RequestKind::Produce(r)).await
            } else {
                response(ResponseKind::Produce(Default::default()))
            };
            // A failed acks=0 write closes the connection, as the handler does for its own
            // failures: the client has no other way to learn of it.
            if acks == 0 && plan.refused_any() {
                return Served::Close(format!(
                    "fault rule {}: acks=0 produce refused with {code:?}",
                    fired.id.0
                ));
            }
            edit(reply, |answer| {
                if let ResponseKind::Produce(a) = answer {
                    a.responses = merge(&plan, std::mem::take(&mut a.responses), |i| {
                        produce_error(i, c)
                    });
                }
            })
        }
        RequestKind::Fetch(mut r) => {
            let plan = strip(&mut r.topics, names, covers);
            if plan.refused_any() {
                // A fetch with a failed partition is answered at once, without long polling.
                r.max_wait_ms = 0;
            }
            let reply = if plan.has_rest() {
                handlers::dispatch(ctx, RequestKind::Fetch(r)).await
            } else {
                response(ResponseKind::Fetch(Default::default()))
            };
            edit(reply, |answer| {
                // A top-level error (an unknown fetch session) stands alone.
                if let ResponseKind::Fetch(a) = answer
                    && a.error_code == 0
                {
                    a.responses = merge(&plan, std::mem::take(&mut a.responses), |i| {
                        fetch_error(i, c)
                    });
                }
            })
        }
        RequestKind::ListOffsets(r) => {
            refuse_partitions!(ctx, names, covers, ListOffsets, r, topics, |i| {
                list_offsets_error(i, c)
            })
        }
        RequestKind::OffsetCommit(r) => {
            refuse_partitions!(ctx, names, covers, OffsetCommit, r, topics, |i| {
                offset_commit_error(i, c)
            })
        }
        RequestKind::DeleteRecords(r) => {
            refuse_partitions!(ctx, names, covers, DeleteRecords, r, topics, |i| {
                delete_records_error(i, c)
            })
        }
        RequestKind::OffsetForLeaderEpoch(r) => {
            refuse_partitions!(ctx, names, covers, OffsetForLeaderEpoch, r, topics, |i| {
                epoch_error(i, c)
            })
        }
        RequestKind::OffsetFetch(r) => refuse_offset_fetch(ctx, fired, c, r).await,
        RequestKind::Metadata(r) => refuse_metadata(ctx, fired, code, r).await,
        other => match refused(&other, ctx.version, c) {
            Some(answer) => response(answer),
            None => return no_error_answer(fired, api),
        },
    };
    Served::Reply(reply)
}

/// OffsetFetch: a rule without topics refuses the group (top-level error, or per group
/// from v8), one with topics refuses their partitions. A group-level error the handler
/// reports for the rest stands alone, as Kafka sends it.
async fn refuse_offset_fetch(
    ctx: &RequestContext<'_>,
    fired: &Fired,
    c: i16,
    mut r: OffsetFetchRequest,
) -> Reply {
    let v = ctx.version;
    let names = |key: &Key| topic_name(ctx.shared, &key.name, &key.id);
    if v < 8 {
        if fired.whole_request() {
            let mut answer = OffsetFetchResponse::default();
            if v >= 2 {
                answer.error_code = c;
            } else {
                // v1 has no top-level error: every partition asked for carries it.
                let mut topics = r.topics.unwrap_or_default();
                let plan = strip(&mut topics, names, |_, _| true);
                answer.topics = merge(&plan, Vec::new(), |i| offset_fetch_error(i, c));
            }
            return response(ResponseKind::OffsetFetch(answer));
        }
        let plan = match r.topics.as_mut() {
            Some(topics) => strip(topics, names, |name, p| fired.covers(None, name, p)),
            None => Plan::default(),
        };
        let reply = if plan.has_rest() || !plan.refused_any() {
            handlers::dispatch(ctx, RequestKind::OffsetFetch(r)).await
        } else {
            response(ResponseKind::OffsetFetch(Default::default()))
        };
        return edit(reply, |answer| {
            if let ResponseKind::OffsetFetch(a) = answer
                && a.error_code == 0
            {
                a.topics = merge(&plan, std::mem::take(&mut a.topics), |i| {
                    offset_fetch_error(i, c)
                });
            }
        });
    }
    /// What the rule does to each group of a v8+ request.
    enum Group {
        Untouched,
        Refused,
        Partly(Plan),
    }
    let mut groups = Vec::with_capacity(r.groups.len());
    r.groups.retain_mut(|g| {
        let id = g.group_id.clone();
        let plan = if !fired.covers_group(Some(&id)) {
            Group::Untouched
        } else if fired.whole_request() {
            Group::Refused
        } else {
            match g.topics.as_mut() {
                Some(topics) => Group::Partly(strip(topics, names, |name, p| {
                    fired.covers(Some(&id), name, p)
                })),
                None => Group::Untouched,
            }
        };
        let sent = match &plan {
            Group::Untouched => true,
            Group::Refused => false,
            Group::Partly(plan) => plan.has_rest() || !plan.refused_any(),
        };
        groups.push((id, plan, sent));
        sent
    });
    let reply = if r.groups.is_empty() {
        response(ResponseKind::OffsetFetch(Default::default()))
    } else {
        handlers::dispatch(ctx, RequestKind::OffsetFetch(r)).await
    };
    edit(reply, |answer| {
        let ResponseKind::OffsetFetch(a) = answer else {
            return;
        };
        let mut answered: Vec<Option<OffsetFetchResponseGroup>> = std::mem::take(&mut a.groups)
            .into_iter()
            .map(Some)
            .collect();
        for (id, plan, sent) in groups {
            let found = if sent {
                take_first(&mut answered, |g| g.group_id == id)
            } else {
                None
            };
            let mut group =
                found.unwrap_or_else(|| OffsetFetchResponseGroup::default().with_group_id(id));
            match plan {
                Group::Untouched => {}
                Group::Refused => group.error_code = c,
                Group::Partly(plan) if group.error_code == 0 => {
                    group.topics = merge(&plan, std::mem::take(&mut group.topics), |i| {
                        offset_fetch_group_error(i, c)
                    });
                }
                Group::Partly(_) => {}
            }
            a.groups.push(group);
        }
        a.groups.extend(answered.into_iter().flatten());
    })
}

/// Metadata: a rule with a partition answers those partitions with the code (the rest of
/// the answer is real); otherwise the selected topics are answered with it at topic level.
/// Named topics are taken out of the request first, so a refused topic is not
/// auto-created; a request for every topic creates nothing, and is answered, then edited.
async fn refuse_metadata(
    ctx: &RequestContext<'_>,
    fired: &Fired,
    code: ResponseError,
    mut r: MetadataRequest,
) -> Reply {
    let v = ctx.version;
    let named = matches!(&r.topics, Some(list) if !(v == 0 && list.is_empty()));
    if fired.selects_partition() || !named {
        let reply = handlers::dispatch(ctx, RequestKind::Metadata(r)).await;
        return edit(reply, |answer| {
            if let ResponseKind::Metadata(a) = answer {
                mark_metadata(ctx.shared, a, fired, code);
            }
        });
    }
    let mut plan: Vec<(MetadataRequestTopic, bool)> = Vec::new();
    if let Some(list) = r.topics.as_mut() {
        list.retain(|t| {
            let name = match &t.name {
                Some(name) if !name.is_empty() => name.to_string(),
                _ => topic_name(ctx.shared, &TopicName::default(), &t.topic_id),
            };
            let refused = fired.covers_topic(None, &name);
            plan.push((t.clone(), refused));
            !refused
        });
    }
    // Still served when every topic was refused: the brokers and cluster id are real.
    // (A v0 request left empty asks for every topic; those extra answers are dropped.)
    let reply = handlers::dispatch(ctx, RequestKind::Metadata(r)).await;
    edit(reply, |answer| {
        let ResponseKind::Metadata(a) = answer else {
            return;
        };
        let mut answered: Vec<Option<MetadataResponseTopic>> = std::mem::take(&mut a.topics)
            .into_iter()
            .map(Some)
            .collect();
        a.topics = plan
            .into_iter()
            .filter_map(|(asked, refused)| {
                if refused {
                    return Some(
                        MetadataResponseTopic::default()
                            .with_name(asked.name.clone())
                            .with_topic_id(asked.topic_id)
                            .with_error_code(code.code()),
                    );
                }
                take_first(&mut answered, |t| match &asked.name {
                    Some(name) if !name.is_empty() => t.name.as_ref() == Some(name),
                    _ => t.topic_id == asked.topic_id,
                })
            })
            .collect();
    })
}

/// Writes `code` into a Metadata answer: on the selected partitions (no leader, unless
/// the code is REPLICA_NOT_AVAILABLE, which Kafka reports beside a live leader), or on
/// the selected topics, whose partitions are then not listed.
fn mark_metadata(
    shared: &Shared,
    answer: &mut MetadataResponse,
    fired: &Fired,
    code: ResponseError,
) {
    for t in &mut answer.topics {
        let name = topic_name(shared, &t.name.clone().unwrap_or_default(), &t.topic_id);
        if !fired.covers_topic(None, &name) {
            continue;
        }
        if !fired.selects_partition() {
            t.error_code = code.code();
            t.partitions.clear();
            continue;
        }
        for p in t
            .partitions
            .iter_mut()
            .filter(|p| fired.covers(None, &name, p.partition_index))
        {
            p.error_code = code.code();
            if code != ResponseError::ReplicaNotAvailable {
                p.leader_id = (-1).into();
                p.leader_epoch = -1;
            }
        }
    }
}

/// The `apply_then_error` action: the whole request is processed, then the selected
/// partitions' answers (or the whole answer) carry `code`.
async fn apply_then_error(
    ctx: &RequestContext<'_>,
    api: ApiKey,
    fired: &Fired,
    code: ResponseError,
    request: RequestKind,
) -> Served {
    let c = code.code();
    let v = ctx.version;
    let names = |key: &Key| topic_name(ctx.shared, &key.name, &key.id);
    let covers = |name: &str, p: i32| fired.covers(None, name, p);
    let copy = match &request {
        RequestKind::Produce(r) if r.acks == 0 => {
            handlers::dispatch(ctx, request).await;
            return Served::Close(format!(
                "fault rule {}: acks=0 produce applied, then failed with {code:?}",
                fired.id.0
            ));
        }
        RequestKind::Produce(_)
        | RequestKind::Fetch(_)
        | RequestKind::ListOffsets(_)
        | RequestKind::OffsetCommit(_)
        | RequestKind::OffsetFetch(_)
        | RequestKind::DeleteRecords(_)
        | RequestKind::OffsetForLeaderEpoch(_)
        | RequestKind::Metadata(_) => None,
        // Refusals echo what the request named, so the request is kept to build one.
        other => Some(other.clone()),
    };
    let reply = handlers::dispatch(ctx, request).await;
    let Reply::Response(mut answer) = reply else {
        return Served::Reply(reply);
    };
    if let Some(copy) = copy {
        return match refused(&copy, v, c) {
            Some(answer) => Served::Reply(response(answer)),
            None => no_error_answer(fired, api),
        };
    }
    match answer.as_mut() {
        ResponseKind::Produce(a) => {
            overwrite(&mut a.responses, names, covers, |i| produce_error(i, c))
        }
        ResponseKind::Fetch(a) if a.error_code == 0 => {
            overwrite(&mut a.responses, names, covers, |i| fetch_error(i, c))
        }
        ResponseKind::ListOffsets(a) => {
            overwrite(&mut a.topics, names, covers, |i| list_offsets_error(i, c))
        }
        ResponseKind::OffsetCommit(a) => {
            overwrite(&mut a.topics, names, covers, |i| offset_commit_error(i, c))
        }
        ResponseKind::DeleteRecords(a) => {
            overwrite(&mut a.topics, names, covers, |i| delete_records_error(i, c))
        }
        ResponseKind::OffsetForLeaderEpoch(a) => {
            overwrite(&mut a.topics, names, covers, |i| epoch_error(i, c))
        }
        ResponseKind::OffsetFetch(a) if v < 8 => {
            if fired.whole_request() && v >= 2 {
                a.error_code = c;
                a.topics.clear();
            } else if fired.whole_request() || a.error_code == 0 {
                overwrite(&mut a.topics, names, covers, |i| offset_fetch_error(i, c));
            }
        }
        ResponseKind::OffsetFetch(a) => {
            for g in &mut a.groups {
                let id = g.group_id.clone();
                if !fired.covers_group(Some(&id)) {
                    continue;
                }
                if fired.whole_request() {
                    g.error_code = c;
                    g.topics.clear();
                } else if g.error_code == 0 {
                    overwrite(
                        &mut g.topics,
                        names,
                        |name, p| fired.covers(Some(&id), name, p),
                        |i| offset_fetch_group_error(i, c),
                    );
                }
            }
        }
        ResponseKind::Metadata(a) => mark_metadata(ctx.shared, a, fired, code),
        _ => {}
    }
    Served::Reply(Reply::Response(answer))
}

/// A refusal for an API this module has no error answer for (one added to the broker
/// after it): the connection is closed instead, saying so.
fn no_error_answer(fired: &Fired, api: ApiKey) -> Served {
    Served::Close(format!(
        "fault rule {}: no error answer for {api:?} here; closing instead",
        fired.id.0
    ))
}

/// The answer refusing a whole request of an API without partitions: `code` at the top
/// level, or on every item the request named where the response has only per-item codes.
fn refused(request: &RequestKind, v: i16, c: i16) -> Option<ResponseKind> {
    use RequestKind as Rq;
    use ResponseKind as Rs;
    Some(match request {
        Rq::FindCoordinator(_) if v < 4 => Rs::FindCoordinator(
            FindCoordinatorResponse::default()
                .with_error_code(c)
                .with_error_message(None)
                .with_node_id((-1).into())
                .with_port(-1),
        ),
        Rq::FindCoordinator(r) => Rs::FindCoordinator(
            FindCoordinatorResponse::default().with_coordinators(
                r.coordinator_keys
                    .iter()
                    .map(|key| {
                        Coordinator::default()
                            .with_key(key.clone())
                            .with_error_code(c)
                            .with_error_message(None)
                            .with_node_id((-1).into())
                            .with_port(-1)
                    })
                    .collect(),
            ),
        ),
        Rq::JoinGroup(r) => Rs::JoinGroup(
            JoinGroupResponse::default()
                .with_error_code(c)
                .with_generation_id(-1)
                .with_member_id(r.member_id.clone())
                // A nullable string from v7; before, an empty one.
                .with_protocol_name((v < 7).then(Default::default)),
        ),
        Rq::SyncGroup(_) => Rs::SyncGroup(SyncGroupResponse::default().with_error_code(c)),
        Rq::Heartbeat(_) => Rs::Heartbeat(HeartbeatResponse::default().with_error_code(c)),
        Rq::LeaveGroup(_) => Rs::LeaveGroup(LeaveGroupResponse::default().with_error_code(c)),
        Rq::DescribeGroups(r) => Rs::DescribeGroups(
            DescribeGroupsResponse::default().with_groups(
                r.groups
                    .iter()
                    .map(|g| {
                        DescribedGroup::default()
                            .with_group_id(g.clone())
                            .with_error_code(c)
                    })
                    .collect(),
            ),
        ),
        Rq::DeleteGroups(r) => Rs::DeleteGroups(
            DeleteGroupsResponse::default().with_results(
                r.groups_names
                    .iter()
                    .map(|g| {
                        DeletableGroupResult::default()
                            .with_group_id(g.clone())
                            .with_error_code(c)
                    })
                    .collect(),
            ),
        ),
        Rq::ListGroups(_) => Rs::ListGroups(ListGroupsResponse::default().with_error_code(c)),
        Rq::ApiVersions(_) => Rs::ApiVersions(ApiVersionsResponse::default().with_error_code(c)),
        Rq::InitProducerId(_) => Rs::InitProducerId(
            InitProducerIdResponse::default()
                .with_error_code(c)
                .with_producer_id((-1).into())
                .with_producer_epoch(-1),
        ),
        Rq::DescribeCluster(r) => Rs::DescribeCluster(
            DescribeClusterResponse::default()
                .with_error_code(c)
                // Echoed from v1, where the request has it.
                .with_endpoint_type(if v >= 1 { r.endpoint_type } else { 1 }),
        ),
        Rq::OffsetDelete(_) => Rs::OffsetDelete(OffsetDeleteResponse::default().with_error_code(c)),
        Rq::CreateTopics(r) => Rs::CreateTopics(
            CreateTopicsResponse::default().with_topics(
                r.topics
                    .iter()
                    .map(|t| {
                        CreatableTopicResult::default()
                            .with_name(t.name.clone())
                            .with_error_code(c)
                            .with_error_message(None)
                    })
                    .collect(),
            ),
        ),
        Rq::DeleteTopics(r) => {
            Rs::DeleteTopics(DeleteTopicsResponse::default().with_responses(if v >= 6 {
                r.topics
                    .iter()
                    .map(|t| {
                        DeletableTopicResult::default()
                            .with_name(t.name.clone())
                            .with_topic_id(t.topic_id)
                            .with_error_code(c)
                    })
                    .collect()
            } else {
                r.topic_names
                    .iter()
                    .map(|name| {
                        DeletableTopicResult::default()
                            .with_name(Some(name.clone()))
                            .with_error_code(c)
                    })
                    .collect()
            }))
        }
        Rq::CreatePartitions(r) => Rs::CreatePartitions(
            CreatePartitionsResponse::default().with_results(
                r.topics
                    .iter()
                    .map(|t| {
                        CreatePartitionsTopicResult::default()
                            .with_name(t.name.clone())
                            .with_error_code(c)
                    })
                    .collect(),
            ),
        ),
        Rq::DescribeConfigs(r) => Rs::DescribeConfigs(
            DescribeConfigsResponse::default().with_results(
                r.resources
                    .iter()
                    .map(|res| {
                        DescribeConfigsResult::default()
                            .with_error_code(c)
                            .with_error_message(None)
                            .with_resource_type(res.resource_type)
                            .with_resource_name(res.resource_name.clone())
                    })
                    .collect(),
            ),
        ),
        _ => return None,
    })
}

/// Sets `throttle_time_ms` on any answer that has the field (versions without it drop it
/// when encoding).
fn set_throttle(answer: &mut ResponseKind, ms: i32) {
    macro_rules! throttle {
        ($($kind:ident),* $(,)?) => {
            match answer {
                $(ResponseKind::$kind(r) => r.throttle_time_ms = ms,)*
                _ => {}
            }
        };
    }
    throttle!(
        Produce,
        Fetch,
        ListOffsets,
        Metadata,
        OffsetCommit,
        OffsetFetch,
        FindCoordinator,
        JoinGroup,
        Heartbeat,
        LeaveGroup,
        SyncGroup,
        DescribeGroups,
        ListGroups,
        ApiVersions,
        CreateTopics,
        DeleteTopics,
        DeleteRecords,
        InitProducerId,
        OffsetForLeaderEpoch,
        AddPartitionsToTxn,
        AddOffsetsToTxn,
        EndTxn,
        TxnOffsetCommit,
        DescribeAcls,
        CreateAcls,
        DeleteAcls,
        DescribeConfigs,
        AlterConfigs,
        AlterReplicaLogDirs,
        DescribeLogDirs,
        CreatePartitions,
        CreateDelegationToken,
        RenewDelegationToken,
        ExpireDelegationToken,
        DescribeDelegationToken,
        DeleteGroups,
        ElectLeaders,
        IncrementalAlterConfigs,
        AlterPartitionReassignments,
        ListPartitionReassignments,
        OffsetDelete,
        DescribeClientQuotas,
        AlterClientQuotas,
        DescribeUserScramCredentials,
        AlterUserScramCredentials,
        AlterPartition,
        UpdateFeatures,
        FetchSnapshot,
        DescribeCluster,
        DescribeProducers,
        BrokerRegistration,
        BrokerHeartbeat,
        UnregisterBroker,
        DescribeTransactions,
        ListTransactions,
        AllocateProducerIds,
        ConsumerGroupHeartbeat,
        ConsumerGroupDescribe,
        ControllerRegistration,
        GetTelemetrySubscriptions,
        PushTelemetry,
        AssignReplicasToDirs,
        ListConfigResources,
        DescribeTopicPartitions,
        ShareGroupHeartbeat,
        ShareGroupDescribe,
        ShareFetch,
        ShareAcknowledge,
        AddRaftVoter,
        RemoveRaftVoter,
        UpdateRaftVoter,
        DescribeShareGroupOffsets,
        AlterShareGroupOffsets,
        DeleteShareGroupOffsets,
    );
}

// Error entries, as the handlers write them for their own failures.

fn produce_error(index: i32, c: i16) -> PartitionProduceResponse {
    PartitionProduceResponse::default()
        .with_index(index)
        .with_error_code(c)
        .with_base_offset(-1)
        .with_log_start_offset(-1)
}

fn fetch_error(index: i32, c: i16) -> PartitionData {
    PartitionData::default()
        .with_partition_index(index)
        .with_error_code(c)
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
        .with_aborted_transactions(Some(Vec::new()))
        .with_records(Some(Default::default()))
}

fn list_offsets_error(index: i32, c: i16) -> ListOffsetsPartitionResponse {
    ListOffsetsPartitionResponse::default()
        .with_partition_index(index)
        .with_error_code(c)
}

fn offset_commit_error(index: i32, c: i16) -> OffsetCommitResponsePartition {
    OffsetCommitResponsePartition::default()
        .with_partition_index(index)
        .with_error_code(c)
}

fn offset_fetch_error(index: i32, c: i16) -> OffsetFetchResponsePartition {
    OffsetFetchResponsePartition::default()
        .with_partition_index(index)
        .with_committed_offset(-1)
        .with_error_code(c)
}

fn offset_fetch_group_error(index: i32, c: i16) -> OffsetFetchResponsePartitions {
    OffsetFetchResponsePartitions::default()
        .with_partition_index(index)
        .with_committed_offset(-1)
        .with_error_code(c)
}

fn delete_records_error(index: i32, c: i16) -> DeleteRecordsPartitionResult {
    DeleteRecordsPartitionResult::default()
        .with_partition_index(index)
        .with_low_watermark(-1)
        .with_error_code(c)
}

fn epoch_error(index: i32, c: i16) -> EpochEndOffset {
    EpochEndOffset::default()
        .with_partition(index)
        .with_error_code(c)
}

fn response(answer: ResponseKind) -> Reply {
    Reply::Response(Box::new(answer))
}

/// Applies `f` to the answer, if there is one.
fn edit(mut reply: Reply, f: impl FnOnce(&mut ResponseKind)) -> Reply {
    if let Reply::Response(answer) = &mut reply {
        f(answer);
    }
    reply
}

/// Takes the first entry of `items` that satisfies `pick`.
fn take_first<T>(items: &mut [Option<T>], pick: impl Fn(&T) -> bool) -> Option<T> {
    items
        .iter_mut()
        .find(|slot| slot.as_ref().is_some_and(&pick))
        .and_then(Option::take)
}

// Topics and partitions of requests and answers, generically.

/// How a request or answer names a topic: by name, or (name empty) by id. A handler's
/// answer names each topic exactly as the request did, which is what pairs them up.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    name: TopicName,
    id: Uuid,
}

/// A topic entry with partitions, in a request or an answer.
trait Topic {
    type Partition: Indexed;
    fn key(&self) -> Key;
    fn partitions(&mut self) -> &mut Vec<Self::Partition>;
}

/// A topic entry of an answer, which can be made for a topic the handler never saw.
trait AnswerTopic: Topic + Clone {
    fn for_key(key: &Key) -> Self;
}

/// A partition entry: its index.
trait Indexed {
    fn index(&self) -> i32;
}

impl Indexed for i32 {
    fn index(&self) -> i32 {
        *self
    }
}

macro_rules! indexed {
    ($($ty:ty: $field:ident),* $(,)?) => {
        $(impl Indexed for $ty {
            fn index(&self) -> i32 {
                self.$field
            }
        })*
    };
}

indexed!(
    PartitionProduceData: index,
    PartitionProduceResponse: index,
    FetchPartition: partition,
    PartitionData: partition_index,
    ListOffsetsPartition: partition_index,
    ListOffsetsPartitionResponse: partition_index,
    OffsetCommitRequestPartition: partition_index,
    OffsetCommitResponsePartition: partition_index,
    OffsetFetchResponsePartition: partition_index,
    OffsetFetchResponsePartitions: partition_index,
    DeleteRecordsPartition: partition_index,
    DeleteRecordsPartitionResult: partition_index,
    OffsetForLeaderPartition: partition,
    EpochEndOffset: partition,
);

/// `topic!(Type, name_field, id_field or -, partitions_field: PartitionType)`; answer
/// types also get [`AnswerTopic`].
macro_rules! topic {
    ($ty:ty, $name:ident, $id:tt, $parts:ident: $part:ty) => {
        impl Topic for $ty {
            type Partition = $part;
            fn key(&self) -> Key {
                Key {
                    name: self.$name.clone(),
                    id: topic!(@id self, $id),
                }
            }
            fn partitions(&mut self) -> &mut Vec<$part> {
                &mut self.$parts
            }
        }
    };
    (answer $ty:ty, $name:ident, $id:tt, $parts:ident: $part:ty) => {
        topic!($ty, $name, $id, $parts: $part);
        impl AnswerTopic for $ty {
            fn for_key(key: &Key) -> Self {
                let mut topic = <$ty>::default();
                topic.$name = key.name.clone();
                topic!(@set_id topic, $id, key);
                topic
            }
        }
    };
    (@id $self:ident, -) => {
        Uuid::nil()
    };
    (@id $self:ident, $id:ident) => {
        $self.$id
    };
    (@set_id $topic:ident, -, $key:ident) => {};
    (@set_id $topic:ident, $id:ident, $key:ident) => {
        $topic.$id = $key.id
    };
}

topic!(TopicProduceData, name, topic_id, partition_data: PartitionProduceData);
topic!(FetchTopic, topic, topic_id, partitions: FetchPartition);
topic!(ListOffsetsTopic, name, -, partitions: ListOffsetsPartition);
topic!(OffsetCommitRequestTopic, name, topic_id, partitions: OffsetCommitRequestPartition);
topic!(OffsetFetchRequestTopic, name, -, partition_indexes: i32);
topic!(OffsetFetchRequestTopics, name, topic_id, partition_indexes: i32);
topic!(DeleteRecordsTopic, name, -, partitions: DeleteRecordsPartition);
topic!(OffsetForLeaderTopic, topic, -, partitions: OffsetForLeaderPartition);
topic!(answer TopicProduceResponse, name, topic_id, partition_responses: PartitionProduceResponse);
topic!(answer FetchableTopicResponse, topic, topic_id, partitions: PartitionData);
topic!(answer ListOffsetsTopicResponse, name, -, partitions: ListOffsetsPartitionResponse);
topic!(answer OffsetCommitResponseTopic, name, topic_id, partitions: OffsetCommitResponsePartition);
topic!(answer OffsetFetchResponseTopic, name, -, partitions: OffsetFetchResponsePartition);
topic!(answer OffsetFetchResponseTopics, name, topic_id, partitions: OffsetFetchResponsePartitions);
topic!(answer DeleteRecordsTopicResult, name, -, partitions: DeleteRecordsPartitionResult);
topic!(answer OffsetForLeaderTopicResult, topic, -, partitions: EpochEndOffset);

/// Which of a request's partitions were refused, in the request's order.
#[derive(Debug, Default)]
struct Plan {
    topics: Vec<Planned>,
}

#[derive(Debug)]
struct Planned {
    key: Key,
    /// Whether the topic stayed in the request (some partition, or it named none).
    sent: bool,
    /// Each partition named, and whether it was refused.
    partitions: Vec<(i32, bool)>,
}

impl Plan {
    fn refused_any(&self) -> bool {
        self.topics
            .iter()
            .any(|t| t.partitions.iter().any(|(_, refused)| *refused))
    }

    /// Whether anything is left for the handler.
    fn has_rest(&self) -> bool {
        self.topics.iter().any(|t| t.sent)
    }
}

/// Takes the partitions `refuse` picks (by topic name and partition) out of a request's
/// topics, dropping topics left without partitions, and says what was taken.
fn strip<T: Topic>(
    topics: &mut Vec<T>,
    name_of: impl Fn(&Key) -> String,
    refuse: impl Fn(&str, i32) -> bool,
) -> Plan {
    let mut planned = Vec::with_capacity(topics.len());
    topics.retain_mut(|t| {
        let key = t.key();
        let name = name_of(&key);
        let parts = t.partitions();
        let named_any = !parts.is_empty();
        let mut partitions = Vec::with_capacity(parts.len());
        parts.retain(|p| {
            let refused = refuse(&name, p.index());
            partitions.push((p.index(), refused));
            !refused
        });
        let sent = !named_any || !parts.is_empty();
        planned.push(Planned {
            key,
            sent,
            partitions,
        });
        sent
    });
    Plan { topics: planned }
}

/// One topic of a handler's answer, taken apart for [`merge`]: its entry without
/// partitions, and the partitions not yet placed.
struct Pooled<T: Topic> {
    key: Key,
    template: T,
    partitions: Vec<Option<T::Partition>>,
}

/// The handler's answer to what was left of a request, with `refused` entries for what
/// was taken out, in the request's order. Answers are paired with the request by topic
/// key and partition index; anything the handler answered beyond that is kept at the end
/// rather than lost.
fn merge<T: AnswerTopic>(
    plan: &Plan,
    answered: Vec<T>,
    refused: impl Fn(i32) -> T::Partition,
) -> Vec<T> {
    let mut pool: Vec<Pooled<T>> = Vec::new();
    for mut template in answered {
        let key = template.key();
        let partitions = std::mem::take(template.partitions()).into_iter().map(Some);
        match pool.iter_mut().find(|p| p.key == key) {
            Some(pooled) => pooled.partitions.extend(partitions),
            None => pool.push(Pooled {
                key,
                template,
                partitions: partitions.collect(),
            }),
        }
    }
    let mut merged = Vec::with_capacity(plan.topics.len());
    for planned in &plan.topics {
        let mut pooled = pool.iter_mut().find(|p| p.key == planned.key);
        let mut topic = match &pooled {
            Some(p) => p.template.clone(),
            None => T::for_key(&planned.key),
        };
        for &(index, was_refused) in &planned.partitions {
            if was_refused {
                topic.partitions().push(refused(index));
            } else if let Some(p) = pooled.as_mut()
                && let Some(answer) = take_first(&mut p.partitions, |a| a.index() == index)
            {
                topic.partitions().push(answer);
            }
        }
        merged.push(topic);
    }
    for Pooled {
        mut template,
        partitions,
        ..
    } in pool
    {
        let rest: Vec<_> = partitions.into_iter().flatten().collect();
        if !rest.is_empty() {
            *template.partitions() = rest;
            merged.push(template);
        }
    }
    merged
}

/// Replaces the answers of the partitions `refuse` picks with `refused` entries.
fn overwrite<T: Topic>(
    topics: &mut [T],
    name_of: impl Fn(&Key) -> String,
    refuse: impl Fn(&str, i32) -> bool,
    refused: impl Fn(i32) -> T::Partition,
) {
    for t in topics {
        let name = name_of(&t.key());
        for p in t.partitions().iter_mut() {
            if refuse(&name, p.index()) {
                *p = refused(p.index());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> TopicName {
        TopicName(kafka_protocol::protocol::StrBytes::from_string(s.into()))
    }

    fn produce_topic(topic: &str, partitions: &[i32]) -> TopicProduceData {
        TopicProduceData::default()
            .with_name(name(topic))
            .with_partition_data(
                partitions
                    .iter()
                    .map(|&p| PartitionProduceData::default().with_index(p))
                    .collect(),
            )
    }

    fn answered(topic: &str, partitions: &[i32]) -> TopicProduceResponse {
        TopicProduceResponse::default()
            .with_name(name(topic))
            .with_partition_responses(
                partitions
                    .iter()
                    .map(|&p| PartitionProduceResponse::default().with_index(p))
                    .collect(),
            )
    }

    fn layout(topics: &[TopicProduceResponse]) -> Vec<(String, Vec<(i32, i16)>)> {
        topics
            .iter()
            .map(|t| {
                (
                    t.name.to_string(),
                    t.partition_responses
                        .iter()
                        .map(|p| (p.index, p.error_code))
                        .collect(),
                )
            })
            .collect()
    }

    #[test]
    fn stripped_partitions_come_back_as_errors_in_the_request_order() {
        let mut request = vec![
            produce_topic("a", &[0, 1, 2]),
            produce_topic("b", &[1]),
            produce_topic("c", &[1, 0]),
        ];
        let plan = strip(&mut request, |k| k.name.to_string(), |_, p| p == 1);
        // "b" lost its only partition and is not sent; "a" and "c" keep the rest.
        let left: Vec<_> = request
            .iter()
            .map(|t| {
                (
                    t.name.to_string(),
                    t.partition_data.iter().map(|p| p.index).collect::<Vec<_>>(),
                )
            })
            .collect();
        assert_eq!(left, [("a".into(), vec![0, 2]), ("c".into(), vec![0])]);
        assert!(plan.refused_any() && plan.has_rest());
        // The handler may answer in its own order; the merge restores the request's.
        let merged = merge(
            &plan,
            vec![answered("c", &[0]), answered("a", &[2, 0])],
            |i| produce_error(i, 6),
        );
        assert_eq!(
            layout(&merged),
            [
                ("a".into(), vec![(0, 0), (1, 6), (2, 0)]),
                ("b".into(), vec![(1, 6)]),
                ("c".into(), vec![(1, 6), (0, 0)]),
            ]
        );
    }

    #[test]
    fn a_request_refused_entirely_has_nothing_left_to_send() {
        let mut request = vec![produce_topic("a", &[0]), produce_topic("a", &[1])];
        let plan = strip(&mut request, |k| k.name.to_string(), |_, _| true);
        assert!(request.is_empty() && !plan.has_rest());
        let merged = merge(&plan, Vec::new(), |i| produce_error(i, 6));
        assert_eq!(
            layout(&merged),
            [("a".into(), vec![(0, 6)]), ("a".into(), vec![(1, 6)])]
        );
        assert_eq!(merged[0].partition_responses[0].base_offset, -1);
    }

    #[test]
    fn duplicate_topics_and_unexpected_answers_are_not_lost() {
        let mut request = vec![produce_topic("a", &[0]), produce_topic("a", &[0, 1])];
        let plan = strip(&mut request, |k| k.name.to_string(), |_, p| p == 1);
        let merged = merge(
            &plan,
            vec![
                answered("a", &[0]),
                answered("a", &[0]),
                answered("z", &[9]),
            ],
            |i| produce_error(i, 6),
        );
        assert_eq!(
            layout(&merged),
            [
                ("a".into(), vec![(0, 0)]),
                ("a".into(), vec![(0, 0), (1, 6)]),
                ("z".into(), vec![(9, 0)]),
            ]
        );
    }

    #[test]
    fn topics_given_by_id_pair_up_by_id() {
        let id = Uuid::from_u128(7);
        let mut request = vec![
            TopicProduceData::default()
                .with_topic_id(id)
                .with_partition_data(vec![
                    PartitionProduceData::default().with_index(0),
                    PartitionProduceData::default().with_index(1),
                ]),
        ];
        let plan = strip(
            &mut request,
            |k| {
                if k.id == id {
                    "t".into()
                } else {
                    String::new()
                }
            },
            |topic, p| topic == "t" && p == 0,
        );
        let answer = TopicProduceResponse::default()
            .with_topic_id(id)
            .with_partition_responses(vec![PartitionProduceResponse::default().with_index(1)]);
        let merged = merge(&plan, vec![answer], |i| produce_error(i, 6));
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].topic_id, id);
        let codes: Vec<_> = merged[0]
            .partition_responses
            .iter()
            .map(|p| (p.index, p.error_code))
            .collect();
        assert_eq!(codes, [(0, 6), (1, 0)]);
    }

    #[test]
    fn overwrite_replaces_only_the_selected_answers() {
        let mut answer = vec![answered("a", &[0, 1]), answered("b", &[1])];
        answer[0].partition_responses[1].base_offset = 42;
        overwrite(
            &mut answer,
            |k| k.name.to_string(),
            |topic, p| topic == "a" && p == 1,
            |i| produce_error(i, 7),
        );
        assert_eq!(
            layout(&answer),
            [
                ("a".into(), vec![(0, 0), (1, 7)]),
                ("b".into(), vec![(1, 0)])
            ]
        );
        assert_eq!(answer[0].partition_responses[1].base_offset, -1);
    }

    #[test]
    fn every_supported_api_has_an_error_answer() {
        for api in broker_sim_protocol::versions::SUPPORTED_APIS {
            let partitioned = matches!(
                api.key,
                ApiKey::Produce
                    | ApiKey::Fetch
                    | ApiKey::ListOffsets
                    | ApiKey::Metadata
                    | ApiKey::OffsetCommit
                    | ApiKey::OffsetFetch
                    | ApiKey::DeleteRecords
                    | ApiKey::OffsetForLeaderEpoch
            );
            let request = default_request(api.key);
            assert!(
                partitioned || refused(&request, api.max, 15).is_some(),
                "{:?} has no error answer",
                api.key
            );
        }
    }

    fn default_request(api: ApiKey) -> RequestKind {
        macro_rules! defaults {
            ($($kind:ident),* $(,)?) => {
                match api {
                    $(ApiKey::$kind => RequestKind::$kind(Default::default()),)*
                    other => panic!("no default request for {other:?}"),
                }
            };
        }
        defaults!(
            Produce,
            Fetch,
            ListOffsets,
            Metadata,
            OffsetCommit,
            OffsetFetch,
            FindCoordinator,
            JoinGroup,
            Heartbeat,
            LeaveGroup,
            SyncGroup,
            DescribeGroups,
            ListGroups,
            ApiVersions,
            CreateTopics,
            DeleteTopics,
            DeleteRecords,
            InitProducerId,
            OffsetForLeaderEpoch,
            DescribeConfigs,
            CreatePartitions,
            DeleteGroups,
            OffsetDelete,
            DescribeCluster,
        )
    }
}
