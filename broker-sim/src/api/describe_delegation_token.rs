//! DescribeDelegationToken (key 41), v1–3, on a PLAINTEXT listener: answered
//! DELEGATION_TOKEN_REQUEST_NOT_ALLOWED with no tokens, as Kafka answers a client that did
//! not authenticate over SASL (see `create_delegation_token.rs`).

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{DescribeDelegationTokenRequest, DescribeDelegationTokenResponse};

use super::{Api, Ctx, Names, Reply, Access, LogDetails};

pub(crate) struct DescribeDelegationToken;

impl Api for DescribeDelegationToken {
    const KEY: ApiKey = ApiKey::DescribeDelegationToken;
    const VERSIONS: (i16, i16) = (1, 3);
    type Request = DescribeDelegationTokenRequest;
    type Response = DescribeDelegationTokenResponse;
    const ACCESS: Access = Access::OPEN;

    async fn handle(ctx: &Ctx<'_>, request: DescribeDelegationTokenRequest) -> Reply<DescribeDelegationTokenResponse> {
        Reply::Response(Self::error_response(&request, ctx.version, ResponseError::DelegationTokenRequestNotAllowed))
    }

    fn names(_: &Ctx<'_>, _: &DescribeDelegationTokenRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &DescribeDelegationTokenRequest, _: i16, code: ResponseError) -> DescribeDelegationTokenResponse {
        DescribeDelegationTokenResponse::default().with_error_code(code.code())
    }

    fn set_throttle(response: &mut DescribeDelegationTokenResponse, ms: i32) {
        response.throttle_time_ms = ms;
    }

    fn log_answer(answer: &DescribeDelegationTokenResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}
