//! A SASL_PLAINTEXT listener, as the reference Kafka runs one (fidelity/kafka/start.sh:
//! PLAIN user alice, SCRAM, OAUTHBEARER with unsecured tokens, `connections.max.reauth.ms`
//! one hour): the handshake and its refusals, PLAIN logins right and wrong, a malformed
//! PLAIN message, SCRAM for an unknown user, OAUTHBEARER tokens valid and expired, and
//! requests sent before logging in.

use base64::Engine;
use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, MetadataRequest, SaslAuthenticateRequest, SaslHandshakeRequest,
};

use super::helpers::{s, scenario, versions};
use crate::scenario::{Scenario, Step};

fn handshake(version: i16, mechanism: &str) -> Step {
    Step::new(
        ApiKey::SaslHandshake,
        version,
        SaslHandshakeRequest::default().with_mechanism(s(mechanism)),
    )
}

fn authenticate(version: i16, token: &[u8]) -> Step {
    Step::new(
        ApiKey::SaslAuthenticate,
        version,
        SaslAuthenticateRequest::default().with_auth_bytes(Bytes::copy_from_slice(token)),
    )
}

/// An unsecured JWS (`alg` none) for `sub`, expiring at `exp` seconds since the epoch.
fn oauth_message(sub: &str, exp: i64) -> Vec<u8> {
    let url = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "n,,\u{1}auth=Bearer {}.{}.\u{1}\u{1}",
        url.encode(br#"{"alg":"none"}"#),
        url.encode(format!(r#"{{"sub":"{sub}","exp":{exp}}}"#))
    )
    .into_bytes()
}

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::SaslHandshake) {
        out.push(
            scenario(ApiKey::SaslHandshake, v, "sasl-listener", |_| {
                vec![handshake(v, "PLAIN")]
            })
            .over_sasl(),
        );
        out.push(
            scenario(ApiKey::SaslHandshake, v, "unknown-mechanism", |_| {
                vec![handshake(v, "GSSAPI")]
            })
            .over_sasl(),
        );
    }
    for v in versions(ApiKey::SaslAuthenticate) {
        let cases: [(&str, Vec<u8>); 4] = [
            ("plain-login", b"\0alice\0alice-secret".to_vec()),
            ("plain-wrong-password", b"\0alice\0wrong".to_vec()),
            ("plain-unknown-user", b"\0mallory\0alice-secret".to_vec()),
            ("plain-two-tokens", b"\0alice".to_vec()),
        ];
        for (what, token) in cases {
            out.push(
                scenario(ApiKey::SaslAuthenticate, v, what, |_| {
                    vec![handshake(1, "PLAIN").setup(), authenticate(v, &token)]
                })
                .over_sasl(),
            );
        }
        out.push(
            scenario(ApiKey::SaslAuthenticate, v, "scram-unknown-user", |_| {
                vec![
                    handshake(1, "SCRAM-SHA-256").setup(),
                    authenticate(v, b"n,,n=nobody,r=fyko+d2lbbFgONRv9qkxdawL"),
                ]
            })
            .over_sasl(),
        );
        out.push(
            scenario(
                ApiKey::SaslAuthenticate,
                v,
                "oauthbearer-valid-token",
                |_| {
                    vec![
                        handshake(1, "OAUTHBEARER").setup(),
                        authenticate(v, &oauth_message("alice", 4_102_444_800)),
                    ]
                },
            )
            .over_sasl(),
        );
        out.push(
            scenario(
                ApiKey::SaslAuthenticate,
                v,
                "oauthbearer-expired-token",
                |_| {
                    vec![
                        handshake(1, "OAUTHBEARER").setup(),
                        authenticate(v, &oauth_message("alice", 1_000)),
                        authenticate(v, b"\x01"),
                    ]
                },
            )
            .over_sasl(),
        );
        out.push(
            scenario(ApiKey::SaslAuthenticate, v, "without-handshake", |_| {
                vec![authenticate(v, b"\0alice\0alice-secret")]
            })
            .over_sasl(),
        );
    }
    out.push(
        scenario(ApiKey::Metadata, 12, "before-sasl-login", |_| {
            vec![
                Step::new(
                    ApiKey::ApiVersions,
                    3,
                    ApiVersionsRequest::default()
                        .with_client_software_name(s("fidelity"))
                        .with_client_software_version(s("1.0")),
                )
                .setup(),
                Step::new(ApiKey::Metadata, 12, MetadataRequest::default()),
            ]
        })
        .over_sasl(),
    );
    out.push(
        scenario(ApiKey::Metadata, 12, "after-sasl-login", |p| {
            vec![
                handshake(1, "PLAIN").setup(),
                authenticate(2, b"\0alice\0alice-secret").setup(),
                Step::new(
                    ApiKey::Metadata,
                    12,
                    MetadataRequest::default()
                        .with_allow_auto_topic_creation(false)
                        .with_topics(Some(vec![
                        kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
                            .with_name(Some(super::helpers::topic(&format!("{p}absent")))),
                    ])),
                ),
            ]
        })
        .over_sasl(),
    );
    out
}
