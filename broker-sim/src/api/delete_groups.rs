//! DeleteGroups (key 42), v0–2.
//!
//! Deletes groups that have no members, with their committed offsets:
//! GROUP_ID_NOT_FOUND for an unknown group, NON_EMPTY_GROUP while it has members,
//! NOT_COORDINATOR when asked of the wrong broker, GROUP_AUTHORIZATION_FAILED without
//! DELETE on the group (listed last, as Kafka does). Results follow the request's order.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use crate::state::acls::Operation;
use super::{Api, Ctx, Names, Reply, code, Access, LogDetails};

fn serve(ctx: &Ctx<'_>, r: DeleteGroupsRequest) -> DeleteGroupsResponse {
    // Groups the requester may not delete are answered last, as Kafka does.
    let (allowed, refused) = super::split_groups(ctx, r.groups_names, Operation::Delete);
    let refused = refused.into_iter().map(|id| {
        DeletableGroupResult::default()
            .with_group_id(id)
            .with_error_code(ResponseError::GroupAuthorizationFailed.code())
    });
    let results = allowed
        .into_iter()
        .map(|id| {
            let result = if id.is_empty() {
                Err(ResponseError::InvalidGroupId.into())
            } else {
                ctx.group(&id, |groups, now| groups.delete_group(&id, now))
            };
            DeletableGroupResult::default()
                .with_group_id(id)
                .with_error_code(code(result.err()))
        })
        .chain(refused)
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}

pub(crate) struct DeleteGroups;

impl Api for DeleteGroups {
    const KEY: ApiKey = ApiKey::DeleteGroups;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = DeleteGroupsRequest;
    type Response = DeleteGroupsResponse;
    const ACCESS: Access = Access::HANDLER;

    async fn handle(ctx: &Ctx<'_>, request: DeleteGroupsRequest) -> Reply<DeleteGroupsResponse> {
        Reply::Response(serve(ctx, request))
    }

    fn names(_: &Ctx<'_>, request: &DeleteGroupsRequest) -> Names {
        Names {
            topics: Vec::new(),
            groups: request.groups_names.iter().map(|g| g.to_string()).collect(),
            transactional_ids: Vec::new(),
        }
    }

    fn error_response(request: &DeleteGroupsRequest, _: i16, code: ResponseError) -> DeleteGroupsResponse {
        DeleteGroupsResponse::default().with_results(
            request
                .groups_names
                .iter()
                .map(|g| {
                    DeletableGroupResult::default()
                        .with_group_id(g.clone())
                        .with_error_code(code.code())
                })
                .collect(),
        )
    }

    fn set_throttle(response: &mut DeleteGroupsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DeleteGroupsResponse, log: &mut LogDetails) {
        for result in &answer.results {
            log.error(result.error_code);
        }
    }
}
