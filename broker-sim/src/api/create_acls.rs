//! CreateAcls (key 30), v1–3: adds ACL bindings (Kafka's `AclApis.handleCreateAcls` and
//! `AclControlManager.createAcls`).
//!
//! Without an authorizer every creation is answered SECURITY_DISABLED, as Kafka does.
//! With one, the request needs ALTER on the cluster (`ACCESS`); each binding is checked
//! as Kafka checks it (INVALID_REQUEST with Kafka's message: a CLUSTER resource not named
//! `kafka-cluster`, an empty name, ANY or MATCH where a value is needed) and the valid
//! ones are added; one that exists already is a success that adds nothing. A binding with
//! an UNKNOWN field cannot be parsed by Kafka, which closes the connection; one with a
//! filter's value (ANY, MATCH) cannot be made into a binding by Kafka's broker, which
//! fails the whole request with UNKNOWN_SERVER_ERROR and creates nothing.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::{CreateAclsRequest, CreateAclsResponse};

use crate::error::CloseReason;
use crate::state::acls::{AclBinding, Operation, PatternType, Permission, ResourceType};
use super::{Access, Api, Ctx, Names, Reply, str_bytes, LogDetails};

fn answer(request: &CreateAclsRequest, code: ResponseError, message: Option<&str>) -> CreateAclsResponse {
    let result = AclCreationResult::default()
        .with_error_code(code.code())
        .with_error_message(message.map(str_bytes));
    CreateAclsResponse::default().with_results(vec![result; request.creations.len()])
}

/// The binding a creation asks for.
pub(crate) fn binding(c: &AclCreation) -> AclBinding {
    AclBinding {
        resource_type: ResourceType::from_code(c.resource_type),
        resource_name: c.resource_name.to_string(),
        pattern_type: PatternType::from_code(c.resource_pattern_type),
        principal: c.principal.to_string(),
        host: c.host.to_string(),
        operation: Operation::from_code(c.operation),
        permission: Permission::from_code(c.permission_type),
    }
}

pub(crate) struct CreateAcls;

impl Api for CreateAcls {
    const KEY: ApiKey = ApiKey::CreateAcls;
    const VERSIONS: (i16, i16) = (1, 3);
    type Request = CreateAclsRequest;
    type Response = CreateAclsResponse;
    const ACCESS: Access = Access::cluster(Operation::Alter);

    async fn handle(ctx: &Ctx<'_>, request: CreateAclsRequest) -> Reply<CreateAclsResponse> {
        let bindings: Vec<AclBinding> = request.creations.iter().map(binding).collect();
        let mut state = ctx.shared.lock();
        if !state.config.authorizer.enabled {
            return Reply::Response(answer(
                &request,
                ResponseError::SecurityDisabled,
                Some("No Authorizer is configured."),
            ));
        }
        if let Some(bad) = bindings.iter().find(|b| b.has_unknown()) {
            return Reply::Close(CloseReason::Malformed {
                api: Self::KEY,
                version: ctx.version,
                error: format!("CreatableAcls contain unknown elements: {bad:?}"),
            });
        }
        if bindings.iter().any(AclBinding::has_filter_value) {
            // Kafka's broker fails building the bindings, and the whole request with it.
            return Reply::Response(answer(&request, ResponseError::UnknownServerError, None));
        }
        let results = bindings
            .into_iter()
            .map(|acl| match acl.invalid() {
                Some(why) => AclCreationResult::default()
                    .with_error_code(ResponseError::InvalidRequest.code())
                    .with_error_message(Some(str_bytes(why))),
                None => {
                    tracing::info!(?acl, "ACL created");
                    state.acls.add(acl);
                    AclCreationResult::default()
                }
            })
            .collect();
        Reply::Response(CreateAclsResponse::default().with_results(results))
    }

    fn names(_: &Ctx<'_>, _: &CreateAclsRequest) -> Names {
        Names::default()
    }

    fn error_response(request: &CreateAclsRequest, _: i16, code: ResponseError) -> CreateAclsResponse {
        answer(request, code, None)
    }

    fn set_throttle(response: &mut CreateAclsResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &CreateAclsResponse, log: &mut LogDetails) {
        for result in &answer.results {
            log.error(result.error_code);
        }
    }
}
