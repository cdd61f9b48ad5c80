//! DeleteAcls (key 31), v1–3, with no authorizer: every filter is answered
//! SECURITY_DISABLED, as a Kafka broker without `authorizer.class.name` answers it (see
//! `describe_acls.rs`).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::delete_acls_response::DeleteAclsFilterResult;
use kafka_protocol::messages::{DeleteAclsRequest, DeleteAclsResponse};

use super::{Api, Ctx, Names, Reply, str_bytes};

fn answer(request: &DeleteAclsRequest, code: ResponseError, message: Option<&str>) -> DeleteAclsResponse {
    let result = DeleteAclsFilterResult::default()
        .with_error_code(code.code())
        .with_error_message(message.map(str_bytes));
    DeleteAclsResponse::default().with_filter_results(vec![result; request.filters.len()])
}

pub(crate) struct DeleteAcls;

impl Api for DeleteAcls {
    const KEY: ApiKey = ApiKey::DeleteAcls;
    const VERSIONS: (i16, i16) = (1, 3);
    type Request = DeleteAclsRequest;
    type Response = DeleteAclsResponse;

    async fn handle(_: &Ctx<'_>, request: DeleteAclsRequest) -> Reply<DeleteAclsResponse> {
        Reply::Response(answer(
            &request,
            ResponseError::SecurityDisabled,
            Some("No Authorizer is configured."),
        ))
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
}
