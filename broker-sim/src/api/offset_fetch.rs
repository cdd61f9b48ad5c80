//! OffsetFetch (key 9), v1–9.
//!
//! Returns committed offsets: for the partitions asked, or (v2+, topics null) every
//! partition the group has committed. A partition without a commit gets offset -1 and no
//! error, as does every partition of an unknown group. v1–7 ask for one group (a
//! group-level error is top-level from v2, per partition in v1); v8+ ask for several at
//! once. With `require_stable` (v7+) a partition for which an open transaction holds
//! offsets (TxnOffsetCommit) is UNSTABLE_OFFSET_COMMIT with offset -1, so the consumer
//! retries once the transaction ends (KIP-447). v9's member id and epoch are checked for
//! a consumer group of the new protocol (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH; none given
//! is an admin's fetch), and accepted unchecked for a classic group.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::offset_fetch_request::{OffsetFetchRequestTopic, OffsetFetchRequestTopics};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{OffsetFetchRequest, OffsetFetchResponse, TopicName};

use crate::state::acls::{Operation, ResourceType};
use super::partitioned::{self, Plan, indexed, topic};
use super::{Api, Ctx, Names, Refusal, Reply, str_bytes, topic_name, Access, LogDetails};
use crate::faults::rules::TopicRef;
use super::Select;
use crate::state::groups::CommittedOffset;

/// One partition's answer: (partition, offset, leader epoch, metadata, error).
type Row = (i32, i64, i32, String, i16);

fn serve(ctx: &Ctx<'_>, r: OffsetFetchRequest) -> OffsetFetchResponse {
    let stable = r.require_stable;
    if ctx.version >= 8 {
        let groups = r
            .groups
            .into_iter()
            .map(|g| {
                let topics = g.topics.map(|topics| {
                    topics
                        .into_iter()
                        .map(|t| (t.name.to_string(), t.partition_indexes))
                        .collect()
                });
                let member = g.member_id.as_ref().map(|m| (m.to_string(), g.member_epoch));
                let (error, rows) = fetch(ctx, &g.group_id, topics, stable, member);
                let topics = rows
                    .into_iter()
                    .map(|(topic, rows)| {
                        let partitions = rows
                            .into_iter()
                            .map(|(p, offset, epoch, metadata, error)| {
                                OffsetFetchResponsePartitions::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(offset)
                                    .with_committed_leader_epoch(epoch)
                                    .with_metadata(Some(str_bytes(metadata)))
                                    .with_error_code(error)
                            })
                            .collect();
                        OffsetFetchResponseTopics::default()
                            .with_name(topic_name(&topic))
                            .with_partitions(partitions)
                    })
                    .collect();
                OffsetFetchResponseGroup::default()
                    .with_group_id(g.group_id)
                    .with_topics(topics)
                    .with_error_code(error)
            })
            .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let topics = r.topics.map(|topics| {
        topics
            .into_iter()
            .map(|t| (t.name.to_string(), t.partition_indexes))
            .collect()
    });
    let (error, rows) = fetch(ctx, &r.group_id, topics, stable, None);
    let topics = rows
        .into_iter()
        .map(|(topic, rows)| {
            let partitions = rows
                .into_iter()
                .map(|(p, offset, epoch, metadata, partition_error)| {
                    let partition = OffsetFetchResponsePartition::default()
                        .with_partition_index(p)
                        .with_committed_offset(offset)
                        .with_metadata(Some(str_bytes(metadata)))
                        // v1 has no top-level error: the group's goes on every partition.
                        .with_error_code(if ctx.version < 2 && error != 0 {
                            error
                        } else {
                            partition_error
                        });
                    if ctx.version >= 5 {
                        partition.with_committed_leader_epoch(epoch)
                    } else {
                        partition
                    }
                })
                .collect();
            OffsetFetchResponseTopic::default()
                .with_name(TopicName(str_bytes(topic)))
                .with_partitions(partitions)
        })
        .collect();
    let response = OffsetFetchResponse::default().with_topics(topics);
    if ctx.version >= 2 {
        response.with_error_code(error)
    } else {
        response
    }
}

/// The group-level error code and the rows for one group.
fn fetch(
    ctx: &Ctx<'_>,
    group_id: &str,
    topics: Option<Vec<(String, Vec<i32>)>>,
    require_stable: bool,
    member: Option<(String, i32)>,
) -> (i16, Vec<(String, Vec<Row>)>) {
    // Under the state's read lock and the groups': the ACLs, which decide what an
    // all-topics fetch shows, are the state's.
    let result = ctx.coordinated_read(group_id, |state, _| {
        let groups = state.groups();
        if let Some((member_id, epoch)) = &member {
            groups.validate_consumer_fetch(group_id, member_id, *epoch)?;
        }
        let found = groups.fetch_offsets(group_id, topics.clone())?;
        // Asked for every topic, the group's offsets of topics the requester may not
        // describe are left out, as Kafka does.
        let all = topics.is_none();
        Ok(found
            .into_iter()
            .filter(|(topic, _)| {
                !all || ctx.allowed(state, ResourceType::Topic, topic, Operation::Describe)
            })
            .map(|(topic, offsets)| {
                let rows = offsets
                    .into_iter()
                    .map(|(p, c)| {
                        if require_stable && groups.has_pending_txn_offset(group_id, &topic, p) {
                            (p, -1, -1, String::new(), ResponseError::UnstableOffsetCommit.code())
                        } else {
                            row(p, c)
                        }
                    })
                    .collect();
                (topic, rows)
            })
            .collect())
    });
    match result {
        Ok(found) => (0, found),
        // From v2 a group-level error stands alone, with no partitions.
        Err(e) if ctx.version >= 2 => (e.code(), Vec::new()),
        Err(e) => (e.code(), error_rows(topics, e.code)),
    }
}

/// One partition's row: its committed offset, or -1 when nothing is committed.
fn row(p: i32, committed: Option<CommittedOffset>) -> Row {
    match committed {
        Some(c) => (
            p,
            c.offset,
            c.leader_epoch,
            c.metadata.unwrap_or_default(),
            0,
        ),
        None => (p, -1, -1, String::new(), 0),
    }
}

/// The requested partitions, each with no offset (and, for v1, the error).
fn error_rows(
    topics: Option<Vec<(String, Vec<i32>)>>,
    e: ResponseError,
) -> Vec<(String, Vec<Row>)> {
    topics
        .unwrap_or_default()
        .into_iter()
        .map(|(topic, partitions)| {
            let rows = partitions
                .into_iter()
                .map(|p| (p, -1, -1, String::new(), e.code()))
                .collect();
            (topic, rows)
        })
        .collect()
}

pub(crate) struct OffsetFetch;

impl Api for OffsetFetch {
    const KEY: ApiKey = ApiKey::OffsetFetch;
    const VERSIONS: (i16, i16) = (1, 9);
    type Request = OffsetFetchRequest;
    type Response = OffsetFetchResponse;
    const ACCESS: Access = Access::group(Operation::Describe).and_topic(Operation::Describe);

    async fn handle(ctx: &Ctx<'_>, request: OffsetFetchRequest) -> Reply<OffsetFetchResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(ctx: &Ctx<'_>, request: &OffsetFetchRequest) -> Names {
        if ctx.version < 8 {
            let mut names = Names::partitions(
                request
                    .topics
                    .iter()
                    .flatten()
                    .map(|t| (t.name.to_string(), t.partition_indexes.clone())),
            );
            names.groups.push(request.group_id.to_string());
            return names;
        }
        let mut names = Names::default();
        for g in &request.groups {
            names.groups.push(g.group_id.to_string());
            names.topics.extend(g.topics.iter().flatten().map(|t| TopicRef {
                group: Some(g.group_id.to_string()),
                name: ctx.topic_name(&t.name, &t.topic_id),
                partitions: Some(t.partition_indexes.clone()),
            }));
        }
        names
    }

    fn error_response(
        request: &OffsetFetchRequest,
        version: i16,
        code: ResponseError,
    ) -> OffsetFetchResponse {
        let c = code.code();
        if version >= 8 {
            let groups = request
                .groups
                .iter()
                .map(|g| {
                    OffsetFetchResponseGroup::default()
                        .with_group_id(g.group_id.clone())
                        .with_error_code(c)
                })
                .collect();
            return OffsetFetchResponse::default().with_groups(groups);
        }
        if version >= 2 {
            return OffsetFetchResponse::default().with_error_code(c);
        }
        // v1 has no top-level error: every partition asked for carries it.
        let mut topics = request.topics.clone().unwrap_or_default();
        let plan = partitioned::strip(&mut topics, |k| k.name.to_string(), |_, _| true);
        OffsetFetchResponse::default()
            .with_topics(partitioned::merge(&plan, Vec::new(), |i| error_entry(i, c)))
    }

    fn set_throttle(response: &mut OffsetFetchResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &OffsetFetchResponse, log: &mut LogDetails) {
        for topic in &answer.topics {
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
        log.error(answer.error_code);
        for group in &answer.groups {
            for topic in &group.topics {
                for partition in &topic.partitions {
                    log.error(partition.error_code);
                }
            }
            log.error(group.error_code);
        }
    }

    /// A rule without topics refuses the group (top-level error, or per group from v8),
    /// one with topics refuses their partitions. A group-level error the handler reports
    /// for the rest stands alone, as Kafka sends it.
    fn refuse<'a>(
        ctx: &'a Ctx<'_>,
        mut r: OffsetFetchRequest,
        rule: &'a dyn Select,
        code: ResponseError,
    ) -> Refusal<'a, Self> {
        let (v, c) = (ctx.version, code.code());
        if v < 8 {
            if rule.whole_request() {
                return Refusal::whole(Self::error_response(&r, v, code));
            }
            let plan = match r.topics.as_mut() {
                Some(topics) => partitioned::strip_selected(ctx, topics, rule),
                None => Plan::default(),
            };
            let serve = plan.has_rest() || !plan.refused_any();
            return Refusal {
                rest: serve.then_some(r),
                finish: Box::new(move |reply| {
                    partitioned::edit(reply, |a| {
                        if a.error_code == 0 {
                            a.topics =
                                partitioned::merge(&plan, std::mem::take(&mut a.topics), |i| {
                                    error_entry(i, c)
                                });
                        }
                    })
                }),
            };
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
            let plan = if !rule.covers_group(Some(&id)) {
                Group::Untouched
            } else if rule.whole_request() {
                Group::Refused
            } else {
                match g.topics.as_mut() {
                    Some(topics) => Group::Partly(partitioned::strip(
                        topics,
                        |key| ctx.topic_name(&key.name, &key.id),
                        |name, p| rule.covers(Some(&id), name, p),
                    )),
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
        Refusal {
            rest: (!r.groups.is_empty()).then_some(r),
            finish: Box::new(move |reply| {
                partitioned::edit(reply, |a| {
                    let mut answered: Vec<Option<OffsetFetchResponseGroup>> =
                        std::mem::take(&mut a.groups).into_iter().map(Some).collect();
                    for (id, plan, sent) in groups {
                        let found = if sent {
                            partitioned::take_first(&mut answered, |g| g.group_id == id)
                        } else {
                            None
                        };
                        let mut group = found.unwrap_or_else(|| {
                            OffsetFetchResponseGroup::default().with_group_id(id)
                        });
                        match plan {
                            Group::Untouched => {}
                            Group::Refused => group.error_code = c,
                            Group::Partly(plan) if group.error_code == 0 => {
                                group.topics = partitioned::merge(
                                    &plan,
                                    std::mem::take(&mut group.topics),
                                    |i| group_error_entry(i, c),
                                );
                            }
                            Group::Partly(_) => {}
                        }
                        a.groups.push(group);
                    }
                    a.groups.extend(answered.into_iter().flatten());
                })
            }),
        }
    }

    fn fail(
        ctx: &Ctx<'_>,
        _request: &OffsetFetchRequest,
        reply: Reply<OffsetFetchResponse>,
        rule: &dyn Select,
        code: ResponseError,
    ) -> Reply<OffsetFetchResponse> {
        let (v, c) = (ctx.version, code.code());
        let names = |key: &partitioned::Key| ctx.topic_name(&key.name, &key.id);
        partitioned::edit(reply, |a| {
            if v < 8 {
                if rule.whole_request() && v >= 2 {
                    a.error_code = c;
                    a.topics.clear();
                } else if rule.whole_request() || a.error_code == 0 {
                    partitioned::overwrite(
                        &mut a.topics,
                        names,
                        |name, p| rule.covers(None, name, p),
                        |i| error_entry(i, c),
                    );
                }
                return;
            }
            for g in &mut a.groups {
                let id = g.group_id.clone();
                if !rule.covers_group(Some(&id)) {
                    continue;
                }
                if rule.whole_request() {
                    g.error_code = c;
                    g.topics.clear();
                } else if g.error_code == 0 {
                    partitioned::overwrite(
                        &mut g.topics,
                        names,
                        |name, p| rule.covers(Some(&id), name, p),
                        |i| group_error_entry(i, c),
                    );
                }
            }
        })
    }
}

/// A refused partition's answer (v1-7).
fn error_entry(index: i32, code: i16) -> OffsetFetchResponsePartition {
    OffsetFetchResponsePartition::default()
        .with_partition_index(index)
        .with_committed_offset(-1)
        .with_error_code(code)
}

/// A refused partition's answer within a group (v8+).
fn group_error_entry(index: i32, code: i16) -> OffsetFetchResponsePartitions {
    OffsetFetchResponsePartitions::default()
        .with_partition_index(index)
        .with_committed_offset(-1)
        .with_error_code(code)
}

indexed!(
    OffsetFetchResponsePartition: partition_index,
    OffsetFetchResponsePartitions: partition_index,
);
topic!(OffsetFetchRequestTopic, name, -, partition_indexes: i32);
topic!(OffsetFetchRequestTopics, name, topic_id, partition_indexes: i32);
topic!(answer OffsetFetchResponseTopic, name, -, partitions: OffsetFetchResponsePartition);
topic!(answer OffsetFetchResponseTopics, name, topic_id, partitions: OffsetFetchResponsePartitions);


