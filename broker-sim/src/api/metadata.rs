//! Metadata (key 3), v0–13.
//!
//! Every broker, every requested topic (all topics for a null list, or an empty one in v0),
//! partitions with leader, leader epoch, replicas and ISR; topics may be named or, from
//! v12, given by id (v10–11 carry ids in the schema, but Kafka refuses them: INVALID_REQUEST). A missing topic is auto-created with the broker's defaults when the
//! cluster allows it and the request does (always before v4). Unlike Kafka, which answers
//! LEADER_NOT_AVAILABLE until the new topic's metadata has propagated, the topic is usable
//! at once and reported without error: creation here is instant.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{MetadataRequest, MetadataResponse};

use super::partitioned::{self, take_first};
use super::{ALL_TOPIC_OPERATIONS, Api, Ctx, Names, Refusal, Reply, str_bytes, topic_name, Access, LogDetails};
use crate::error::KafkaError;
use crate::state::acls::{Operation, ResourceType};
use crate::faults::rules::TopicRef;
use super::Select;
use crate::state::{State, Topic, topic::validate_topic_name};

/// Answered under the state's read lock, beside produces and fetches; a request that
/// would auto-create a topic takes the write lock and is answered afresh under it: the
/// topics, ACLs and configs the read pass saw may have changed once it let go (a topic it
/// found may since have been deleted, and must then be created too, or not, as the
/// current ACLs say).
fn serve(ctx: &Ctx<'_>, request: MetadataRequest) -> MetadataResponse {
    let no_failures = BTreeMap::new();
    if let Ok(response) = answer(ctx, &ctx.shared.read(), &request, &no_failures) {
        return response;
    }
    let mut state = ctx.shared.lock();
    let missing = match answer(ctx, &state, &request, &no_failures) {
        Ok(response) => return response,
        Err(missing) => missing,
    };
    let mut failed = BTreeMap::new();
    for name in missing {
        if let Err(e) = state.auto_create_topic(&name) {
            failed.insert(name, e);
        }
    }
    // Under the same write lock every topic found missing now exists or failed to be
    // created, so this answer cannot ask for another creation.
    answer(ctx, &state, &request, &failed).unwrap_or_else(|missing| {
        tracing::error!(?missing, "metadata: topics still missing after auto-creation");
        MetadataResponse::default()
    })
}

/// The answer from `state`, or the topics it would auto-create (`Err`), whose creation
/// `failed` lists if it failed.
fn answer(
    ctx: &Ctx<'_>,
    state: &State,
    request: &MetadataRequest,
    failed: &BTreeMap<String, KafkaError>,
) -> Result<MetadataResponse, Vec<String>> {
    let v = ctx.version;
    let mut missing = Vec::new();
    let allow_auto_create =
        state.config.auto_create_topics && (v < 4 || request.allow_auto_topic_creation);
    let with_ops = v >= 8 && request.include_topic_authorized_operations;
    let topics = match &request.topics {
        Some(list) if !(v == 0 && list.is_empty()) => super::dedup_by(list.clone(), |t| (t.name.clone(), t.topic_id), false)
            .into_iter()
            .map(|t| match t.name {
                Some(name) if !name.is_empty() => {
                    let auto_create = allow_auto_create.then_some(failed);
                    named_topic(ctx, state, &name, auto_create, with_ops).unwrap_or_else(|()| {
                        missing.push(name.to_string());
                        MetadataResponseTopic::default()
                    })
                }
                // Ids are in the schema from v10 but Kafka resolves them only from v12.
                _ if v < 12 => MetadataResponseTopic::default()
                    .with_topic_id(t.topic_id)
                    .with_error_code(ResponseError::InvalidRequest.code()),
                _ => match state.topic_name_by_id(&t.topic_id).map(str::to_string) {
                    // Ids are not secret: an undescribable topic asked by id is refused
                    // with its id.
                    Some(name) if !ctx.allowed(state, ResourceType::Topic, &name, Operation::Describe) => {
                        MetadataResponseTopic::default()
                            .with_name(None)
                            .with_topic_id(t.topic_id)
                            .with_error_code(ResponseError::TopicAuthorizationFailed.code())
                    }
                    Some(name) => describe(
                        ctx,
                        state,
                        state.topic(&name).expect("id index is in step"),
                        with_ops,
                    ),
                    None => MetadataResponseTopic::default()
                        .with_name(None)
                        .with_topic_id(t.topic_id)
                        .with_error_code(ResponseError::UnknownTopicId.code()),
                },
            })
            .collect(),
        // Every topic: those the requester may not describe are left out.
        _ => state
            .topics()
            .filter(|t| ctx.allowed(state, ResourceType::Topic, &t.name, Operation::Describe))
            .map(|t| describe(ctx, state, t, with_ops))
            .collect(),
    };
    if !missing.is_empty() {
        return Err(missing);
    }
    let brokers = state
        .live_brokers()
        .map(|b| {
            MetadataResponseBroker::default()
                .with_node_id(b.id.into())
                .with_host(str_bytes(b.host.clone()))
                .with_port(b.port_on(ctx.session.listener))
                .with_rack(b.rack.clone().map(str_bytes))
        })
        .collect();
    let mut response = MetadataResponse::default();
    // The cluster's operations are in the schema only in v8–10; none without DESCRIBE.
    if (8..=10).contains(&v) && request.include_cluster_authorized_operations {
        response.cluster_authorized_operations =
            ctx.cluster_authorized_operations(state);
    }
    Ok(response
        .with_brokers(brokers)
        .with_cluster_id((v >= 2).then(|| str_bytes(state.cluster_id.clone())))
        .with_controller_id(if v >= 1 { state.controller_id } else { -1 }.into())
        .with_topics(topics))
}

/// A topic asked for by name. As in Kafka, a topic the requester may not describe is
/// TOPIC_AUTHORIZATION_FAILED whether or not it exists (or its name is valid), and one
/// that would be auto-created needs CREATE on the cluster or on the topic. With
/// `auto_create` (the creations that failed), a missing topic not among those is `Err`:
/// the caller creates it and asks again.
fn named_topic(
    ctx: &Ctx<'_>,
    state: &State,
    name: &str,
    auto_create: Option<&BTreeMap<String, KafkaError>>,
    with_ops: bool,
) -> Result<MetadataResponseTopic, ()> {
    let unauthorized = || {
        MetadataResponseTopic::default()
            .with_name(Some(topic_name(name)))
            .with_error_code(ResponseError::TopicAuthorizationFailed.code())
    };
    if !ctx.allowed(state, ResourceType::Topic, name, Operation::Describe) {
        return Ok(unauthorized());
    }
    let topic = state.topic(name);
    if topic.is_none()
        && auto_create.is_some()
        && !ctx.allowed_on_cluster(state, Operation::Create)
        && !ctx.allowed(state, ResourceType::Topic, name, Operation::Create)
    {
        return Ok(unauthorized());
    }
    let result: Result<&Topic, KafkaError> = match (validate_topic_name(name), topic) {
        (Err(e), _) => Err(e),
        (Ok(()), Some(topic)) => Ok(topic),
        (Ok(()), None) => match auto_create.map(|failed| failed.get(name)) {
            Some(Some(e)) => Err(e.clone()),
            Some(None) => return Err(()),
            None => Err(KafkaError::new(ResponseError::UnknownTopicOrPartition, name)),
        },
    };
    Ok(match result {
        Ok(topic) => describe(ctx, state, topic, with_ops),
        Err(e) => MetadataResponseTopic::default()
            .with_name(Some(topic_name(name)))
            .with_error_code(e.code()),
    })
}

/// A topic's partitions as the brokers see them now: a partition without a leader says
/// LEADER_NOT_AVAILABLE, and replicas on stopped brokers are listed as offline (v5+).
fn describe(ctx: &Ctx<'_>, state: &State, topic: &Topic, with_ops: bool) -> MetadataResponseTopic {
    let partitions = topic
        .partitions()
        .map(|p| {
            let offline = state
                .offline_replicas(&p)
                .into_iter()
                .map(Into::into)
                .collect();
            let error = if p.leader < 0 {
                ResponseError::LeaderNotAvailable.code()
            } else {
                0
            };
            MetadataResponsePartition::default()
                .with_error_code(error)
                .with_partition_index(p.index)
                .with_leader_id(p.leader.into())
                .with_leader_epoch(p.leader_epoch)
                .with_replica_nodes(p.replicas.iter().map(|&b| b.into()).collect())
                .with_isr_nodes(p.isr.iter().map(|&b| b.into()).collect())
                .with_offline_replicas(offline)
        })
        .collect();
    let mut t = MetadataResponseTopic::default()
        .with_name(Some(topic_name(&topic.name)))
        .with_topic_id(topic.id)
        .with_partitions(partitions);
    if with_ops {
        t.topic_authorized_operations =
            ctx.authorized_operations(state, ResourceType::Topic, &topic.name, ALL_TOPIC_OPERATIONS);
    }
    t
}

pub(crate) struct Metadata;

impl Api for Metadata {
    const KEY: ApiKey = ApiKey::Metadata;
    const VERSIONS: (i16, i16) = (0, 13);
    type Request = MetadataRequest;
    type Response = MetadataResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: MetadataRequest) -> Reply<MetadataResponse> {
        Reply::Response(serve(ctx, request))
    }

    /// The topics the request is about, each with the partitions it has (none for a
    /// topic that does not exist): the named ones, or every topic when it asks for all,
    /// so a rule on one topic's metadata applies however the client asks.
    fn names(ctx: &Ctx<'_>, request: &MetadataRequest) -> Names {
        let state = ctx.shared.read();
        let describe = |name: String| {
            let partitions = state
                .topic(&name)
                .map(|t| (0..t.partition_count() as i32).collect());
            TopicRef {
                group: None,
                name,
                partitions,
            }
        };
        let topics = match &request.topics {
            Some(list) if !(ctx.version == 0 && list.is_empty()) => list
                .iter()
                .map(|m| match &m.name {
                    Some(name) if !name.is_empty() => describe(name.to_string()),
                    _ => describe(
                        state
                            .topic_name_by_id(&m.topic_id)
                            .map(str::to_string)
                            .unwrap_or_default(),
                    ),
                })
                .collect(),
            _ => state.topics().map(|t| describe(t.name.clone())).collect(),
        };
        Names {
            topics,
            ..Names::default()
        }
    }

    /// The topics the request lists, by name or id, without the partitions `names` adds
    /// for fault selectors, and none for a request for every topic.
    fn log_names(ctx: &Ctx<'_>, request: &MetadataRequest) -> Names {
        Names::topics(request.topics.iter().flatten().map(|m| match &m.name {
            Some(name) if !name.is_empty() => name.to_string(),
            _ => ctx.topic_name(&Default::default(), &m.topic_id),
        }))
    }

    fn error_response(request: &MetadataRequest, _version: i16, code: ResponseError) -> MetadataResponse {
        let topics = request
            .topics
            .iter()
            .flatten()
            .map(|t| {
                MetadataResponseTopic::default()
                    .with_name(t.name.clone())
                    .with_topic_id(t.topic_id)
                    .with_error_code(code.code())
            })
            .collect();
        MetadataResponse::default().with_topics(topics)
    }

    fn set_throttle(response: &mut MetadataResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &MetadataResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            log.error(topic.error_code);
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
        log.error(answer.error_code);
    }

    /// A rule with a partition answers those partitions with the code (the rest of the
    /// answer is real); otherwise the selected topics are answered with it at topic level.
    /// Named topics are taken out of the request first, so a refused topic is not
    /// auto-created; a request for every topic creates nothing, and is answered, then
    /// edited. The brokers and cluster id are always real.
    fn refuse<'a>(
        ctx: &'a Ctx<'_>,
        mut r: MetadataRequest,
        rule: &'a dyn Select,
        code: ResponseError,
    ) -> Refusal<'a, Self> {
        let named = matches!(&r.topics, Some(list) if !(ctx.version == 0 && list.is_empty()));
        if rule.selects_partition() || !named {
            return Refusal {
                rest: Some(r),
                finish: Box::new(move |reply| {
                    partitioned::edit(reply, |a| mark(ctx, a, rule, code))
                }),
            };
        }
        let mut plan: Vec<(MetadataRequestTopic, bool)> = Vec::new();
        if let Some(list) = r.topics.as_mut() {
            list.retain(|t| {
                let name = ctx.topic_name(&t.name.clone().unwrap_or_default(), &t.topic_id);
                let refused = rule.covers_topic(None, &name);
                plan.push((t.clone(), refused));
                !refused
            });
        }
        // Still served when every topic was refused. (A v0 request left empty asks for
        // every topic; those extra answers are dropped.)
        Refusal {
            rest: Some(r),
            finish: Box::new(move |reply| {
                partitioned::edit(reply, |a| {
                    let mut answered: Vec<Option<MetadataResponseTopic>> =
                        std::mem::take(&mut a.topics).into_iter().map(Some).collect();
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
            }),
        }
    }

    fn fail(
        ctx: &Ctx<'_>,
        _request: &MetadataRequest,
        reply: Reply<MetadataResponse>,
        rule: &dyn Select,
        code: ResponseError,
    ) -> Reply<MetadataResponse> {
        partitioned::edit(reply, |a| mark(ctx, a, rule, code))
    }
}

/// Writes `code` into an answer: on the selected partitions (no leader, unless the code
/// is REPLICA_NOT_AVAILABLE, which Kafka reports beside a live leader), or on the selected
/// topics, whose partitions are then not listed.
fn mark(ctx: &Ctx<'_>, answer: &mut MetadataResponse, rule: &dyn Select, code: ResponseError) {
    for t in &mut answer.topics {
        let name = ctx.topic_name(&t.name.clone().unwrap_or_default(), &t.topic_id);
        if !rule.covers_topic(None, &name) {
            continue;
        }
        if !rule.selects_partition() {
            t.error_code = code.code();
            t.partitions.clear();
            continue;
        }
        for p in t
            .partitions
            .iter_mut()
            .filter(|p| rule.covers(None, &name, p.partition_index))
        {
            p.error_code = code.code();
            if code != ResponseError::ReplicaNotAvailable {
                p.leader_id = (-1).into();
                p.leader_epoch = -1;
            }
        }
    }
}
