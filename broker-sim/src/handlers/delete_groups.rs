//! DeleteGroups (key 42), v0–2.
//!
//! Deletes groups that have no members, with their committed offsets:
//! GROUP_ID_NOT_FOUND for an unknown group, NON_EMPTY_GROUP while it has members,
//! NOT_COORDINATOR when asked of the wrong broker. Results follow the request's order.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::{DeleteGroupsRequest, DeleteGroupsResponse};

use super::RequestContext;

pub(crate) fn handle(ctx: &RequestContext<'_>, r: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let results = r
        .groups_names
        .into_iter()
        .map(|id| {
            let result = if id.is_empty() {
                Err(ResponseError::InvalidGroupId)
            } else {
                ctx.check_coordinator(&id)
                    .and_then(|()| ctx.shared.lock().groups.delete(&id))
            };
            DeletableGroupResult::default()
                .with_group_id(id)
                .with_error_code(result.err().map_or(0, |e| e.code()))
        })
        .collect();
    ctx.groups_changed();
    DeleteGroupsResponse::default().with_results(results)
}
