//! ConsumerGroupHeartbeat (key 68), v0–1 (KIP-848): a member of a consumer group of the
//! new protocol joins (epoch 0), heartbeats, and leaves (-1, or -2 for a static member
//! that will be back); every answer carries its member epoch and, when it changed, its
//! assignment. The group logic is `state/groups/consumer.rs`; this file converts topic
//! ids to names and back. v1 (KIP-1082) has the client pick its member id, and adds
//! regular-expression subscriptions.

use std::collections::BTreeMap;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::consumer_group_heartbeat_response::{Assignment, TopicPartitions};
use kafka_protocol::messages::{ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};
use crate::error::KafkaError;
use crate::state::State;
use crate::state::groups::assignors;
use crate::state::groups::consumer::ConsumerHeartbeat;

fn serve(ctx: &Ctx<'_>, r: ConsumerGroupHeartbeatRequest) -> ConsumerGroupHeartbeatResponse {
    let group_id = r.group_id.to_string();
    // The topics are read under the state lock; the heartbeat and the assignment it may
    // compute run under the groups lock alone.
    let read = |state: &State| {
        let owned = r.topic_partitions.as_ref().map(|tps| {
            let mut owned = assignors::Assignment::new();
            for tp in tps {
                if let Some(name) = state.topic_name_by_id(&tp.topic_id) {
                    owned
                        .entry(name.to_string())
                        .or_default()
                        .extend(tp.partitions.iter().copied());
                }
            }
            owned
        });
        let ids: BTreeMap<String, uuid::Uuid> =
            state.topics().map(|t| (t.name.clone(), t.id)).collect();
        (owned, state.partition_counts(), ids)
    };
    let result = ctx.groups_after(read, |groups, (owned, existing, ids), now| {
        groups.check_coordinator(&group_id, ctx.broker_id)?;
        let req = ConsumerHeartbeat {
            version: ctx.version,
            group_id: group_id.clone(),
            member_id: r.member_id.to_string(),
            member_epoch: r.member_epoch,
            instance_id: r.instance_id.as_ref().map(ToString::to_string),
            rack_id: r.rack_id.as_ref().map(ToString::to_string),
            rebalance_timeout_ms: r.rebalance_timeout_ms,
            subscribed_topic_names: r
                .subscribed_topic_names
                .as_ref()
                .map(|names| names.iter().map(|n| n.to_string()).collect()),
            subscribed_topic_regex: r.subscribed_topic_regex.as_ref().map(ToString::to_string),
            server_assignor: r.server_assignor.as_ref().map(ToString::to_string),
            owned,
            owned_listed: r
                .topic_partitions
                .as_ref()
                .is_some_and(|tps| !tps.is_empty()),
            client_id: ctx.client_id.to_string(),
            client_host: ctx.client_host.to_string(),
        };
        let answer = groups.consumer_group_heartbeat(req, &existing, now)?;
        Ok::<_, KafkaError>((answer, ids))
    });
    match result {
        Ok((answer, ids)) => {
            let assignment = answer.assignment.map(|a| {
                Assignment::default().with_topic_partitions(
                    a.into_iter()
                        .filter_map(|(topic, ps)| {
                            ids.get(&topic).map(|id| {
                                TopicPartitions::default()
                                    .with_topic_id(*id)
                                    .with_partitions(ps.into_iter().collect())
                            })
                        })
                        .collect(),
                )
            });
            ConsumerGroupHeartbeatResponse::default()
                .with_error_message(None)
                .with_member_id(Some(str_bytes(answer.member_id)))
                .with_member_epoch(answer.member_epoch)
                .with_heartbeat_interval_ms(answer.heartbeat_interval_ms)
                .with_assignment(assignment)
        }
        Err(e) => {
            tracing::info!(group = %group_id, member = %r.member_id, error = %e, "ConsumerGroupHeartbeat refused");
            ConsumerGroupHeartbeatResponse::default()
                .with_error_code(e.code())
                .with_error_message(Some(str_bytes(e.message.clone())))
                .with_member_id(None)
        }
    }
}

pub(crate) struct ConsumerGroupHeartbeat;

impl Api for ConsumerGroupHeartbeat {
    const KEY: ApiKey = ApiKey::ConsumerGroupHeartbeat;
    const VERSIONS: (i16, i16) = (0, 1);
    type Request = ConsumerGroupHeartbeatRequest;
    type Response = ConsumerGroupHeartbeatResponse;
    const ACCESS: Access = Access::group(Operation::Read);

    async fn handle(
        ctx: &Ctx<'_>,
        request: ConsumerGroupHeartbeatRequest,
    ) -> Reply<ConsumerGroupHeartbeatResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &ConsumerGroupHeartbeatRequest) -> Names {
        Names::group(&request.group_id)
    }

    fn error_response(
        _: &ConsumerGroupHeartbeatRequest,
        _: i16,
        code: ResponseError,
    ) -> ConsumerGroupHeartbeatResponse {
        ConsumerGroupHeartbeatResponse::default()
            .with_error_code(code.code())
            .with_member_id(None)
            .with_error_message(None)
    }

    fn set_throttle(response: &mut ConsumerGroupHeartbeatResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ConsumerGroupHeartbeatResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
