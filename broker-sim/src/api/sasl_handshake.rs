//! SaslHandshake (key 17), v0–1: picks the mechanism a SASL connection authenticates with
//! (`crate::sasl`).
//!
//! On a SASL listener it answers the enabled mechanisms (`sasl.enabled.mechanisms`) and,
//! when the asked one is among them, starts its exchange: SaslAuthenticate requests after
//! v1, bare tokens after v0. An unknown mechanism gets UNSUPPORTED_SASL_MECHANISM and the
//! connection serves nothing more. An authenticated session may hand-shake again only to
//! re-authenticate (KIP-368, with `connections.max.reauth.ms`); otherwise, and on a
//! PLAINTEXT or SSL listener, the answer is ILLEGAL_SASL_STATE, as Kafka's.

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;
use kafka_protocol::messages::{SaslHandshakeRequest, SaslHandshakeResponse};

use super::{Access, Api, Ctx, Names, Reply, str_bytes, LogDetails};
use crate::security::SaslMechanism;

pub(crate) struct SaslHandshake;

impl Api for SaslHandshake {
    const KEY: ApiKey = ApiKey::SaslHandshake;
    const VERSIONS: (i16, i16) = (0, 1);
    type Request = SaslHandshakeRequest;
    type Response = SaslHandshakeResponse;
    const ACCESS: Access = Access::OPEN;

    async fn handle(ctx: &Ctx<'_>, request: SaslHandshakeRequest) -> Reply<SaslHandshakeResponse> {
        if !ctx.session.protocol.sasl() {
            tracing::info!(
                mechanism = %request.mechanism,
                protocol = %ctx.session.protocol,
                "SASL handshake on a listener without SASL: ILLEGAL_SASL_STATE"
            );
            return Reply::Response(Self::error_response(&request, 0, ResponseError::IllegalSaslState));
        }
        let security = ctx.shared.lock().config.security.clone();
        let started = ctx.session.handshake(
            &request.mechanism,
            ctx.version,
            &security.sasl_mechanisms,
            security.max_reauth_ms > 0,
        );
        if let Err(code) = started {
            tracing::info!(mechanism = %request.mechanism, ?code, "SASL handshake refused");
        }
        Reply::Response(
            SaslHandshakeResponse::default()
                .with_error_code(started.err().map_or(0, |code| code.code()))
                .with_mechanisms(
                    kafka_order(&security.sasl_mechanisms)
                        .into_iter()
                        .map(str_bytes)
                        .collect(),
                ),
        )
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

    fn log_answer(answer: &SaslHandshakeResponse, log: &mut LogDetails) {
        log.error(answer.error_code);
    }
}

/// The enabled mechanisms in the order Kafka lists them: it keeps them in a Java
/// `HashSet` (16 buckets for up to 12 names), so they come in bucket order, and in
/// configured order within a bucket.
fn kafka_order(mechanisms: &[SaslMechanism]) -> Vec<&'static str> {
    let bucket = |name: &str| {
        let h = broker_sim_protocol::partitioner::java_string_hash(name) as u32;
        (h ^ (h >> 16)) & 15
    };
    let mut names: Vec<(u32, usize, &'static str)> = mechanisms
        .iter()
        .enumerate()
        .map(|(i, m)| (bucket(m.name()), i, m.name()))
        .collect();
    names.sort();
    names.dedup_by_key(|(_, _, name)| *name);
    names.into_iter().map(|(_, _, name)| name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mechanisms_are_listed_in_kafkas_hash_set_order() {
        assert_eq!(
            kafka_order(&SaslMechanism::ALL),
            ["PLAIN", "SCRAM-SHA-512", "SCRAM-SHA-256", "OAUTHBEARER"]
        );
    }
}
