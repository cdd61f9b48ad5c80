//! CreateDelegationToken (key 38), v1–3, on a PLAINTEXT listener.
//!
//! Kafka hands out delegation tokens only to clients authenticated over SASL; on a
//! PLAINTEXT listener, where every client is `User:ANONYMOUS`, it answers every token API
//! DELEGATION_TOKEN_REQUEST_NOT_ALLOWED. broker-sim's listeners are PLAINTEXT, so it
//! answers the same, with the owner and requester Kafka reports.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{CreateDelegationTokenRequest, CreateDelegationTokenResponse};

use super::{Api, Ctx, Names, Reply, str_bytes, Access, LogDetails};

/// The principal of every client on a PLAINTEXT listener.
const ANONYMOUS: (&str, &str) = ("User", "ANONYMOUS");

fn answer(request: &CreateDelegationTokenRequest, version: i16, code: ResponseError) -> CreateDelegationTokenResponse {
    let owner = match (&request.owner_principal_type, &request.owner_principal_name) {
        (Some(kind), Some(name)) if !name.is_empty() => (kind.to_string(), name.to_string()),
        _ => (ANONYMOUS.0.to_string(), ANONYMOUS.1.to_string()),
    };
    let mut response = CreateDelegationTokenResponse::default()
        .with_error_code(code.code())
        .with_principal_type(str_bytes(owner.0))
        .with_principal_name(str_bytes(owner.1))
        .with_issue_timestamp_ms(-1)
        .with_expiry_timestamp_ms(-1)
        .with_max_timestamp_ms(-1);
    if version >= 3 {
        response = response
            .with_token_requester_principal_type(str_bytes(ANONYMOUS.0))
            .with_token_requester_principal_name(str_bytes(ANONYMOUS.1));
    }
    response
}

pub(crate) struct CreateDelegationToken;

impl Api for CreateDelegationToken {
    const KEY: ApiKey = ApiKey::CreateDelegationToken;
    const VERSIONS: (i16, i16) = (1, 3);
    type Request = CreateDelegationTokenRequest;
    type Response = CreateDelegationTokenResponse;
    const ACCESS: Access = Access::OPEN;

    async fn handle(ctx: &Ctx<'_>, request: CreateDelegationTokenRequest) -> Reply<CreateDelegationTokenResponse> {
        Reply::Response(answer(&request, ctx.version, ResponseError::DelegationTokenRequestNotAllowed))
    }

    fn names(_: &Ctx<'_>, _: &CreateDelegationTokenRequest) -> Names {
        Names::default()
    }

    fn error_response(request: &CreateDelegationTokenRequest, version: i16, code: ResponseError) -> CreateDelegationTokenResponse {
        answer(request, version, code)
    }

    fn set_throttle(response: &mut CreateDelegationTokenResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &CreateDelegationTokenResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
