//! OffsetDelete (key 47), v0.
//!
//! Forgets committed offsets, which Kafka allows only for partitions of topics no member
//! of the group subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise); an unknown group is
//! GROUP_ID_NOT_FOUND.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::offset_delete_response::{
    OffsetDeleteResponsePartition, OffsetDeleteResponseTopic,
};
use kafka_protocol::messages::offset_delete_request::{
    OffsetDeleteRequestPartition, OffsetDeleteRequestTopic,
};
use kafka_protocol::messages::{OffsetDeleteRequest, OffsetDeleteResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, code, Access, LogDetails};

fn serve(ctx: &Ctx<'_>, r: OffsetDeleteRequest) -> OffsetDeleteResponse {
    let partitions: Vec<(String, i32)> = r
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(|p| (t.name.to_string(), p.partition_index))
        })
        .collect();
    let read = |state: &crate::state::State| {
        let known = state.known_partitions(partitions.iter().map(|(t, p)| (t.as_str(), *p)));
        (partitions, known)
    };
    let result = ctx.groups_after(read, |groups, (partitions, known), now| {
        groups.check_coordinator(&r.group_id, ctx.broker_id)?;
        groups.delete_offsets(&r.group_id, partitions, known, now)
    });
    let results = match result {
        Ok(results) => results,
        Err(e) => return OffsetDeleteResponse::default().with_error_code(e.code()),
    };
    let mut codes = results.into_iter().map(|r| code(r.err()));
    let topics = r
        .topics
        .into_iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    OffsetDeleteResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(codes.next().unwrap_or_default())
                })
                .collect();
            OffsetDeleteResponseTopic::default()
                .with_name(t.name)
                .with_partitions(partitions)
        })
        .collect();
    OffsetDeleteResponse::default().with_topics(topics)
}

pub(crate) struct OffsetDelete;

impl Api for OffsetDelete {
    const KEY: ApiKey = ApiKey::OffsetDelete;
    const VERSIONS: (i16, i16) = (0, 0);
    type Request = OffsetDeleteRequest;
    type Response = OffsetDeleteResponse;
    const ACCESS: Access = Access::group(Operation::Delete).and_topic(Operation::Read);

    async fn handle(ctx: &Ctx<'_>, request: OffsetDeleteRequest) -> Reply<OffsetDeleteResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &OffsetDeleteRequest) -> Names {
        let mut names = Names::partitions(request.topics.iter().map(|t| {
            let partitions = t.partitions.iter().map(|p| p.partition_index).collect();
            (t.name.to_string(), partitions)
        }));
        names.groups.push(request.group_id.to_string());
        names
    }

    fn error_response(_: &OffsetDeleteRequest, _: i16, code: ResponseError) -> OffsetDeleteResponse {
        OffsetDeleteResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut OffsetDeleteResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &OffsetDeleteResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
        for topic in &answer.topics {
            for partition in &topic.partitions {
                log.error(partition.error_code);
            }
        }
    }

    /// The selected partitions answer the code, the rest are served; a group-level error
    /// the handler reports for the rest stands alone.
    fn refuse<'a>(
        ctx: &'a Ctx<'_>,
        mut request: OffsetDeleteRequest,
        rule: &'a dyn super::Select,
        code: ResponseError,
    ) -> super::Refusal<'a, Self> {
        use super::partitioned;
        let plan = partitioned::strip_selected(ctx, &mut request.topics, rule);
        super::Refusal {
            rest: plan.has_rest().then_some(request),
            finish: Box::new(move |reply| {
                partitioned::edit(reply, |a| {
                    if a.error_code == 0 {
                        a.topics = partitioned::merge(&plan, std::mem::take(&mut a.topics), |i| {
                            OffsetDeleteResponsePartition::default()
                                .with_partition_index(i)
                                .with_error_code(code.code())
                        });
                    }
                })
            }),
        }
    }
}

super::partitioned::indexed!(
    OffsetDeleteRequestPartition: partition_index,
    OffsetDeleteResponsePartition: partition_index
);
super::partitioned::topic!(OffsetDeleteRequestTopic, name, -, partitions: OffsetDeleteRequestPartition);
super::partitioned::topic!(answer OffsetDeleteResponseTopic, name, -, partitions: OffsetDeleteResponsePartition);
