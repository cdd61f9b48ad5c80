//! SaslAuthenticate (key 36), v0–2, on a listener without SASL.
//!
//! On a PLAINTEXT listener the connection counts as authenticated from the start, so a
//! Kafka broker answers SaslAuthenticate with ILLEGAL_SASL_STATE, saying authentication
//! already succeeded; broker-sim answers the same until it has SASL listeners.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslAuthenticateResponse};

use super::{Api, Ctx, Names, Reply, str_bytes, Access};

pub(crate) struct SaslAuthenticate;

impl Api for SaslAuthenticate {
    const KEY: ApiKey = ApiKey::SaslAuthenticate;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = SaslAuthenticateRequest;
    type Response = SaslAuthenticateResponse;
    const ACCESS: Access = Access::OPEN;

    async fn handle(_: &Ctx<'_>, _: SaslAuthenticateRequest) -> Reply<SaslAuthenticateResponse> {
        tracing::info!("SaslAuthenticate on a PLAINTEXT listener: ILLEGAL_SASL_STATE");
        Reply::Response(
            SaslAuthenticateResponse::default()
                .with_error_code(ResponseError::IllegalSaslState.code())
                .with_error_message(Some(str_bytes(
                    "SaslAuthenticate request received after successful authentication",
                ))),
        )
    }

    fn names(_: &Ctx<'_>, _: &SaslAuthenticateRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &SaslAuthenticateRequest, _: i16, code: ResponseError) -> SaslAuthenticateResponse {
        SaslAuthenticateResponse::default()
            .with_error_code(code.code())
            .with_error_message(None)
    }

    fn set_throttle(_: &mut SaslAuthenticateResponse, _: i32) {
        // The response has no throttle field.
    }
}
