//! ListGroups (key 16), v0–5.
//!
//! Lists the groups this broker coordinates, as Kafka does (admin clients ask every
//! broker and merge). v4+ filter by state and report it; v5+ filter by type and report
//! it: "classic", or "consumer" for a group of the new protocol (KIP-848).
//! Filters compare case-insensitively, like Kafka's. Without DESCRIBE on the cluster,
//! only the groups the requester may DESCRIBE are listed.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{GroupId, ListGroupsRequest, ListGroupsResponse};

use crate::state::acls::{Operation, ResourceType};
use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};

fn serve(ctx: &Ctx<'_>, r: ListGroupsRequest) -> ListGroupsResponse {
    let state = ctx.shared.read();
    let wanted = |filter: &[kafka_protocol::protocol::StrBytes], value: &str| {
        filter.is_empty() || filter.iter().any(|f| f.eq_ignore_ascii_case(value))
    };
    // Without DESCRIBE on the cluster, only the groups the requester may describe.
    let all = ctx.allowed_on_cluster(&state, Operation::Describe);
    let coordinator = state.groups();
    let groups = coordinator
        .iter()
        .filter(|g| state.is_coordinator(&g.id, ctx.broker_id))
        .filter(|g| all || ctx.allowed(&state, ResourceType::Group, &g.id, Operation::Describe))
        .filter(|g| wanted(&r.states_filter, g.state_name()))
        .filter(|g| wanted(&r.types_filter, g.group_type()))
        .map(|g| {
            let protocol_type = if g.consumer.is_some() {
                Some("consumer".to_string())
            } else {
                g.protocol_type.clone()
            };
            let listed = ListedGroup::default()
                .with_group_id(GroupId(str_bytes(&g.id)))
                .with_protocol_type(str_bytes(protocol_type.unwrap_or_default()));
            let listed = if ctx.version >= 4 {
                listed.with_group_state(str_bytes(g.state_name()))
            } else {
                listed
            };
            if ctx.version >= 5 {
                listed.with_group_type(str_bytes(g.group_type()))
            } else {
                listed
            }
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}

pub(crate) struct ListGroups;

impl Api for ListGroups {
    const KEY: ApiKey = ApiKey::ListGroups;
    const VERSIONS: (i16, i16) = (0, 5);
    type Request = ListGroupsRequest;
    type Response = ListGroupsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: ListGroupsRequest) -> Reply<ListGroupsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, _: &ListGroupsRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &ListGroupsRequest, _: i16, code: ResponseError) -> ListGroupsResponse {
        ListGroupsResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut ListGroupsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ListGroupsResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
