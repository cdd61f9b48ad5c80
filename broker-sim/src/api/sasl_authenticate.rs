//! SaslAuthenticate (key 36), v0–2: one token of the SASL exchange a SaslHandshake
//! started (`crate::sasl`), answered with the mechanism's next challenge or its last
//! message, and from v1 the session's lifetime (KIP-368: `connections.max.reauth.ms`, or
//! an OAUTHBEARER token's expiry if sooner; 0 when sessions do not expire).
//!
//! A failed authentication is SASL_AUTHENTICATION_FAILED with Kafka's message, and the
//! connection serves nothing more. On a PLAINTEXT or SSL listener the connection counts
//! as authenticated from the start, so, as Kafka, the answer is ILLEGAL_SASL_STATE.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{SaslAuthenticateRequest, SaslAuthenticateResponse};

use super::{Access, Api, Ctx, Names, Reply, str_bytes, LogDetails};
use crate::sasl::Answer;

pub(crate) struct SaslAuthenticate;

impl Api for SaslAuthenticate {
    const KEY: ApiKey = ApiKey::SaslAuthenticate;
    const VERSIONS: (i16, i16) = (0, 2);
    type Request = SaslAuthenticateRequest;
    type Response = SaslAuthenticateResponse;
    const ACCESS: Access = Access::OPEN;

    async fn handle(ctx: &Ctx<'_>, request: SaslAuthenticateRequest) -> Reply<SaslAuthenticateResponse> {
        if !ctx.session.protocol.sasl() {
            tracing::info!(protocol = %ctx.session.protocol, "SaslAuthenticate on a listener without SASL: ILLEGAL_SASL_STATE");
            return Reply::Response(
                SaslAuthenticateResponse::default()
                    .with_error_code(ResponseError::IllegalSaslState.code())
                    .with_error_message(Some(str_bytes(
                        "SaslAuthenticate request received after successful authentication",
                    ))),
            );
        }
        let now = ctx.shared.clock.now_ms();
        let answer = {
            let mut state = ctx.shared.lock();
            let max_reauth_ms = state.config.security.max_reauth_ms;
            ctx.session
                .authenticate(&mut state, &request.auth_bytes, now, max_reauth_ms)
        };
        Reply::Response(answer_response(answer))
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

    fn log_answer(answer: &SaslAuthenticateResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}

fn answer_response(answer: Answer) -> SaslAuthenticateResponse {
    match answer {
        Answer::Challenge(challenge) => {
            SaslAuthenticateResponse::default().with_auth_bytes(challenge.into())
        }
        Answer::Authenticated {
            response,
            session_lifetime_ms,
        } => SaslAuthenticateResponse::default()
            .with_auth_bytes(response.into())
            .with_session_lifetime_ms(session_lifetime_ms),
        Answer::Failed(code, message) => SaslAuthenticateResponse::default()
            .with_error_code(code.code())
            .with_error_message(Some(str_bytes(message))),
    }
}
