//! SaslHandshake (key 17), v0–1, on a listener without SASL.
//!
//! broker-sim's listeners are PLAINTEXT, where a Kafka broker answers a SASL handshake with
//! ILLEGAL_SASL_STATE and no mechanisms: authentication belongs to a SASL listener, which
//! broker-sim does not have yet. Served so that a client configured for SASL gets Kafka's
//! answer rather than a closed connection.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{SaslHandshakeRequest, SaslHandshakeResponse};

use super::{Api, Ctx, Names, Reply, Access};

pub(crate) struct SaslHandshake;

impl Api for SaslHandshake {
    const KEY: ApiKey = ApiKey::SaslHandshake;
    const VERSIONS: (i16, i16) = (0, 1);
    type Request = SaslHandshakeRequest;
    type Response = SaslHandshakeResponse;
    const ACCESS: Access = Access::OPEN;

    async fn handle(_: &Ctx<'_>, request: SaslHandshakeRequest) -> Reply<SaslHandshakeResponse> {
        tracing::info!(
            mechanism = %request.mechanism,
            "SASL handshake on a PLAINTEXT listener: ILLEGAL_SASL_STATE"
        );
        Reply::Response(Self::error_response(&request, 0, ResponseError::IllegalSaslState))
    }

    fn names(_: &Ctx<'_>, _: &SaslHandshakeRequest) -> Names {
        Names::default()
    }

    fn error_response(_: &SaslHandshakeRequest, _: i16, code: ResponseError) -> SaslHandshakeResponse {
        SaslHandshakeResponse::default().with_error_code(code.code())
    }

    fn set_throttle(_: &mut SaslHandshakeResponse, _: i32) {
        // The response has no throttle field.
    }
}
