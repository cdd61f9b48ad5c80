//! DescribeAcls (key 29), v1–3: the ACL bindings a filter matches, grouped by resource
//! pattern (Kafka's `AclApis.handleDescribeAcls`).
//!
//! Without an authorizer (the default, as in Kafka) every ACL request is answered
//! SECURITY_DISABLED with Kafka's message. With one, the request needs DESCRIBE on the
//! cluster (`ACCESS`); a filter with an UNKNOWN field cannot be parsed by Kafka, which
//! closes the connection. Kafka lists bindings in hash order; broker-sim in one sorted
//! order (`state::acls`).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::describe_acls_response::{AclDescription, DescribeAclsResource};
use kafka_protocol::messages::{DescribeAclsRequest, DescribeAclsResponse};

use crate::error::CloseReason;
use crate::state::acls::{AclBinding, AclFilter, Operation, PatternType, Permission, ResourceType};
use super::{Access, Api, Ctx, Names, Reply, str_bytes, LogDetails};

/// The request's filter.
fn filter(r: &DescribeAclsRequest) -> AclFilter {
    AclFilter {
        resource_type: ResourceType::from_code(r.resource_type_filter),
        resource_name: r.resource_name_filter.as_ref().map(|s| s.to_string()),
        pattern_type: PatternType::from_code(r.pattern_type_filter),
        principal: r.principal_filter.as_ref().map(|s| s.to_string()),
        host: r.host_filter.as_ref().map(|s| s.to_string()),
        operation: Operation::from_code(r.operation),
        permission: Permission::from_code(r.permission_type),
    }
}

/// Bindings as the answer lists them: one entry per resource pattern, in order.
fn resources(acls: Vec<AclBinding>) -> Vec<DescribeAclsResource> {
    let mut out: Vec<DescribeAclsResource> = Vec::new();
    for acl in acls {
        let description = AclDescription::default()
            .with_principal(str_bytes(acl.principal))
            .with_host(str_bytes(acl.host))
            .with_operation(acl.operation.code())
            .with_permission_type(acl.permission.code());
        match out.last_mut() {
            Some(last)
                if last.resource_type == acl.resource_type.code()
                    && *last.resource_name == *acl.resource_name
                    && last.pattern_type == acl.pattern_type.code() =>
            {
                last.acls.push(description)
            }
            _ => out.push(
                DescribeAclsResource::default()
                    .with_resource_type(acl.resource_type.code())
                    .with_resource_name(str_bytes(acl.resource_name))
                    .with_pattern_type(acl.pattern_type.code())
                    .with_acls(vec![description]),
            ),
        }
    }
    out
}

pub(crate) struct DescribeAcls;

impl Api for DescribeAcls {
    const KEY: ApiKey = ApiKey::DescribeAcls;
    const VERSIONS: (i16, i16) = (1, 3);
    type Request = DescribeAclsRequest;
    type Response = DescribeAclsResponse;
    const ACCESS: Access = Access::cluster(Operation::Describe);

    async fn handle(ctx: &Ctx<'_>, request: DescribeAclsRequest) -> Reply<DescribeAclsResponse> {
        let state = ctx.shared.read();
        if !state.config.authorizer.enabled {
            return Reply::Response(
                DescribeAclsResponse::default()
                    .with_error_code(ResponseError::SecurityDisabled.code())
                    .with_error_message(Some(str_bytes("No Authorizer is configured on the broker"))),
            );
        }
        let filter = filter(&request);
        if filter.has_unknown() {
            return Reply::Close(CloseReason::Malformed {
                api: Self::KEY,
                version: ctx.version,
                error: format!("DescribeAclsRequest contains UNKNOWN elements: {filter:?}"),
            });
        }
        Reply::Response(
            DescribeAclsResponse::default().with_resources(resources(state.acls.list(&filter))),
        )
    }

    fn names(_: &Ctx<'_>, _: &DescribeAclsRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &DescribeAclsRequest, _: i16, code: ResponseError) -> DescribeAclsResponse {
        DescribeAclsResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
    }

    fn set_throttle(response: &mut DescribeAclsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeAclsResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
