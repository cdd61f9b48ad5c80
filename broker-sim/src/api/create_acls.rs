//! CreateAcls (key 30), v1–3, with no authorizer: every creation is answered
//! SECURITY_DISABLED, as a Kafka broker without `authorizer.class.name` answers it (see
//! `describe_acls.rs`).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::create_acls_response::AclCreationResult;
use kafka_protocol::messages::{CreateAclsRequest, CreateAclsResponse};

use super::{Api, Ctx, Names, Reply, str_bytes};

fn answer(request: &CreateAclsRequest, code: ResponseError, message: Option<&str>) -> CreateAclsResponse {
    let result = AclCreationResult::default()
        .with_error_code(code.code())
        .with_error_message(message.map(str_bytes));
    CreateAclsResponse::default().with_results(vec![result; request.creations.len()])
}

pub(crate) struct CreateAcls;

impl Api for CreateAcls {
    const KEY: ApiKey = ApiKey::CreateAcls;
    const VERSIONS: (i16, i16) = (1, 3);
    type Request = CreateAclsRequest;
    type Response = CreateAclsResponse;

    async fn handle(_: &Ctx<'_>, request: CreateAclsRequest) -> Reply<CreateAclsResponse> {
        Reply::Response(answer(
            &request,
            ResponseError::SecurityDisabled,
            Some("No Authorizer is configured."),
        ))
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
}
