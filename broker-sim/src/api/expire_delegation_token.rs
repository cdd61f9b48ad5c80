//! ExpireDelegationToken (key 40), v1–2, on a PLAINTEXT listener: answered
//! DELEGATION_TOKEN_REQUEST_NOT_ALLOWED with no expiry, as Kafka answers a client that did
//! not authenticate over SASL (see `create_delegation_token.rs`).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{ExpireDelegationTokenRequest, ExpireDelegationTokenResponse};

use super::{Api, Ctx, Names, Reply, Access, LogDetails};

pub(crate) struct ExpireDelegationToken;

impl Api for ExpireDelegationToken {
    const KEY: ApiKey = ApiKey::ExpireDelegationToken;
    const VERSIONS: (i16, i16) = (1, 2);
    type Request = ExpireDelegationTokenRequest;
    type Response = ExpireDelegationTokenResponse;
    const ACCESS: Access = Access::OPEN;

    async fn handle(ctx: &Ctx<'_>, request: ExpireDelegationTokenRequest) -> Reply<ExpireDelegationTokenResponse> {
        Reply::Response(Self::error_response(&request, ctx.version, ResponseError::DelegationTokenRequestNotAllowed))
    }

    fn names(_: &Ctx<'_>, _: &ExpireDelegationTokenRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &ExpireDelegationTokenRequest, _: i16, code: ResponseError) -> ExpireDelegationTokenResponse {
        ExpireDelegationTokenResponse::default()
            .with_error_code(code.code())
            .with_expiry_timestamp_ms(-1)
    }

    fn set_throttle(response: &mut ExpireDelegationTokenResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &ExpireDelegationTokenResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
