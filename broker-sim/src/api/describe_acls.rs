//! DescribeAcls (key 29), v1–3, with no authorizer.
//!
//! broker-sim runs as a Kafka broker with no `authorizer.class.name`: every ACL request is
//! answered SECURITY_DISABLED, with Kafka's message, and every operation is allowed. ACLs
//! that are stored and enforced come with the security issue (issue 18).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{DescribeAclsRequest, DescribeAclsResponse};

use super::{Api, Ctx, Names, Reply, str_bytes};

pub(crate) struct DescribeAcls;

impl Api for DescribeAcls {
    const KEY: ApiKey = ApiKey::DescribeAcls;
    const VERSIONS: (i16, i16) = (1, 3);
    type Request = DescribeAclsRequest;
    type Response = DescribeAclsResponse;

    async fn handle(_: &Ctx<'_>, _: DescribeAclsRequest) -> Reply<DescribeAclsResponse> {
        Reply::Response(
            DescribeAclsResponse::default()
                .with_error_code(ResponseError::SecurityDisabled.code())
                .with_error_message(Some(str_bytes("No Authorizer is configured on the broker"))),
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
}
