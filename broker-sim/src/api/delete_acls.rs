//! DeleteAcls (key 31), v1–3: removes the ACL bindings each filter matches, reporting
//! them per filter (Kafka's `AclApis.handleDeleteAcls` and
//! `AclControlManager.deleteAcls`).
//!
//! Without an authorizer every filter is answered SECURITY_DISABLED, as Kafka does. With
//! one, the request needs ALTER on the cluster (`ACCESS`); the filters are applied
//! together, so a binding two filters match is reported by both. A filter with an
//! UNKNOWN field cannot be parsed by Kafka, which closes the connection.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::delete_acls_response::{DeleteAclsFilterResult, DeleteAclsMatchingAcl};
use kafka_protocol::messages::{DeleteAclsRequest, DeleteAclsResponse};

use crate::error::CloseReason;
use crate::state::acls::{AclFilter, Operation, PatternType, Permission, ResourceType};
use super::{Access, Api, Ctx, Names, Reply, str_bytes, LogDetails};

fn answer(request: &DeleteAclsRequest, code: ResponseError, message: Option<&str>) -> DeleteAclsResponse {
    let result = DeleteAclsFilterResult::default()
        .with_error_code(code.code())
        .with_error_message(message.map(str_bytes));
    DeleteAclsResponse::default().with_filter_results(vec![result; request.filters.len()])
}

fn filter(f: &DeleteAclsFilter) -> AclFilter {
    AclFilter {
        resource_type: ResourceType::from_code(f.resource_type_filter),
        resource_name: f.resource_name_filter.as_ref().map(|s| s.to_string()),
        pattern_type: PatternType::from_code(f.pattern_type_filter),
        principal: f.principal_filter.as_ref().map(|s| s.to_string()),
        host: f.host_filter.as_ref().map(|s| s.to_string()),
        operation: Operation::from_code(f.operation),
        permission: Permission::from_code(f.permission_type),
    }
}

pub(crate) struct DeleteAcls;

impl Api for DeleteAcls {
    const KEY: ApiKey = ApiKey::DeleteAcls;
    const VERSIONS: (i16, i16) = (1, 3);
    type Request = DeleteAclsRequest;
    type Response = DeleteAclsResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

    async fn handle(ctx: &Ctx<'_>, request: DeleteAclsRequest) -> Reply<DeleteAclsResponse> {
        let filters: Vec<AclFilter> = request.filters.iter().map(filter).collect();
        let mut state = ctx.shared.lock();
        if !state.config.authorizer.enabled {
            return Reply::Response(answer(
                &request,
                ResponseError::SecurityDisabled,
                Some("No Authorizer is configured."),
            ));
        }
        if let Some(bad) = filters.iter().find(|f| f.has_unknown()) {
            return Reply::Close(CloseReason::Malformed {
                api: Self::KEY,
                version: ctx.version,
                error: format!("Filters contain UNKNOWN elements: {bad:?}"),
            });
        }
        let removed = state.acls.remove(&filters);
        if removed.iter().any(|r| !r.is_empty()) {
            tracing::info!(?removed, "ACLs deleted");
        }
        let results = removed
            .into_iter()
            .map(|acls| {
                let matching = acls
                    .into_iter()
                    .map(|acl| {
                        DeleteAclsMatchingAcl::default()
                            .with_resource_type(acl.resource_type.code())
                            .with_resource_name(str_bytes(acl.resource_name))
                            .with_pattern_type(acl.pattern_type.code())
                            .with_principal(str_bytes(acl.principal))
                            .with_host(str_bytes(acl.host))
                            .with_operation(acl.operation.code())
                            .with_permission_type(acl.permission.code())
                            .with_error_message(None)
                    })
                    .collect();
                DeleteAclsFilterResult::default()
                    .with_error_message(None)
                    .with_matching_acls(matching)
            })
            .collect();
        Reply::Response(DeleteAclsResponse::default().with_filter_results(results))
    }

    fn names(_: &Ctx<'_>, _: &DeleteAclsRequest) -> Names {
        Names::default()
    }

    fn error_response(request: &DeleteAclsRequest, _: i16, code: ResponseError) -> DeleteAclsResponse {
        answer(request, code, None)
    }

    fn set_throttle(response: &mut DeleteAclsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DeleteAclsResponse, log: &mut LogDetails) {
        for filter_result in &answer.filter_results {
            log.error(filter_result.error_code);
            for matching_acl in &filter_result.matching_acls {
                log.error(matching_acl.error_code);
            }
        }
    }
}
