//! A connection's security session: who it is (its principal) and where it stands in SASL
//! authentication, as Kafka's `SaslServerAuthenticator` tracks it.
//!
//! A PLAINTEXT or SSL connection is authenticated from its first byte, as
//! `User:ANONYMOUS` (or the principal of its client certificate). A SASL connection
//! starts unauthenticated and may send only ApiVersions and SaslHandshake, then only
//! SaslAuthenticate until the mechanism's exchange completes ([`Session::admit`] is the
//! gate the connection applies before the pipeline; what does not pass closes the
//! connection, as Kafka closes it). After a SaslHandshake v0 the client sends the
//! mechanism's tokens as bare frames instead of SaslAuthenticate requests
//! ([`Session::expects_raw_token`]).
//!
//! With `connections.max.reauth.ms` (KIP-368) a session expires on the cluster clock: the
//! client must authenticate again on the same connection (SaslHandshake then
//! SaslAuthenticate, same mechanism and principal) before its next request, or the
//! connection is closed.
//!
//! The mechanisms' exchanges are `plain`, `scram` and `oauthbearer`; users and
//! credentials are the cluster state's (`state::users`).

mod oauthbearer;
mod plain;
mod scram;

use std::sync::Mutex;

use kafka_protocol::ResponseError;
use kafka_protocol::messages::ApiKey;

use crate::security::{ANONYMOUS, SaslMechanism, SecurityProtocol};
use crate::state::State;

/// The next step of a mechanism's exchange.
pub enum Step {
    /// Send this challenge and wait for the client's next token.
    Challenge(Vec<u8>),
    /// Authenticated as `principal` (Kafka's "User:name"), with a last message to send.
    Done {
        principal: String,
        response: Vec<u8>,
        /// When the credential itself expires (an OAUTHBEARER token), in ms on the clock.
        expires_at: Option<i64>,
    },
    /// Authentication failed: SASL_AUTHENTICATION_FAILED with this message.
    Fail(String),
}

/// One mechanism's server side, part-way through its exchange.
enum Exchange {
    Plain,
    Scram(scram::Server),
    OAuthBearer(oauthbearer::Server),
}

impl Exchange {
    fn new(mechanism: SaslMechanism) -> Self {
        match mechanism {
            SaslMechanism::Plain => Exchange::Plain,
            SaslMechanism::ScramSha256 | SaslMechanism::ScramSha512 => {
                Exchange::Scram(scram::Server::new(mechanism))
            }
            SaslMechanism::OAuthBearer => Exchange::OAuthBearer(oauthbearer::Server::default()),
        }
    }

    fn step(&mut self, state: &mut State, token: &[u8], now_ms: i64) -> Step {
        match self {
            Exchange::Plain => plain::authenticate(state, token),
            Exchange::Scram(server) => server.step(state, token),
            Exchange::OAuthBearer(server) => server.step(token, now_ms),
        }
    }
}

enum Phase {
    /// Not a SASL listener: nothing to authenticate.
    Open,
    /// A SASL listener before SaslHandshake.
    Handshake,
    Authenticating {
        mechanism: SaslMechanism,
        exchange: Exchange,
        /// After SaslHandshake v0: tokens arrive as bare frames.
        raw: bool,
        /// Re-authenticating an authenticated session (KIP-368).
        reauth: bool,
    },
    Authenticated {
        mechanism: SaslMechanism,
        /// When the session must be re-authenticated, on the cluster clock.
        expires_at: Option<i64>,
    },
    /// Authentication failed: nothing more is served.
    Failed,
}

struct Inner {
    phase: Phase,
    principal: String,
}

/// One connection's session.
pub struct Session {
    pub protocol: SecurityProtocol,
    /// The index of the listener the connection came in on (`SecurityConfig::listeners`).
    pub listener: usize,
    inner: Mutex<Inner>,
}

/// What a SaslAuthenticate (or a bare v0 token) is answered with.
pub enum Answer {
    /// The mechanism's next challenge; the exchange goes on.
    Challenge(Vec<u8>),
    /// The exchange is complete: its last message, and SaslAuthenticate v1's
    /// `session_lifetime_ms` (0 when the session never expires).
    Authenticated {
        response: Vec<u8>,
        session_lifetime_ms: i64,
    },
    /// The answer's error; the session serves nothing more.
    Failed(ResponseError, String),
}

impl Session {
    /// A session on a listener of `protocol`; `principal` is the connection's until it
    /// authenticates (ANONYMOUS, or a client certificate's).
    pub fn new(protocol: SecurityProtocol, listener: usize, principal: Option<String>) -> Self {
        Session {
            protocol,
            listener,
            inner: Mutex::new(Inner {
                phase: if protocol.sasl() {
                    Phase::Handshake
                } else {
                    Phase::Open
                },
                principal: principal.unwrap_or_else(|| ANONYMOUS.to_string()),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection's principal, as Kafka prints it ("User:alice").
    pub fn principal(&self) -> String {
        self.lock().principal.clone()
    }

    /// Whether a request of `api` may be served now. `Err` says why the connection must
    /// close instead.
    pub fn admit(&self, api: ApiKey, now_ms: i64) -> Result<(), String> {
        let inner = self.lock();
        match &inner.phase {
            Phase::Open => Ok(()),
            Phase::Handshake => match api {
                ApiKey::ApiVersions | ApiKey::SaslHandshake => Ok(()),
                other => Err(format!(
                    "unexpected {other:?} request before SASL authentication"
                )),
            },
            Phase::Authenticating { raw: false, .. } => match api {
                ApiKey::SaslAuthenticate => Ok(()),
                other => Err(format!(
                    "unexpected {other:?} request during SASL authentication"
                )),
            },
            Phase::Authenticating { raw: true, .. } => {
                Err("a SaslHandshake v0 client must send bare SASL tokens".into())
            }
            Phase::Authenticated { expires_at, .. } => match (api, expires_at) {
                (ApiKey::SaslHandshake, _) => Ok(()),
                (_, Some(at)) if now_ms >= *at => Err(format!(
                    "SASL session expired (connections.max.reauth.ms) and the client sent {api:?} instead of re-authenticating"
                )),
                _ => Ok(()),
            },
            Phase::Failed => Err("SASL authentication failed".into()),
        }
    }

    /// Whether the next frame is a bare SASL token (after SaslHandshake v0).
    pub fn expects_raw_token(&self) -> bool {
        matches!(self.lock().phase, Phase::Authenticating { raw: true, .. })
    }

    /// SaslHandshake: starts `mechanism`'s exchange if it is enabled. A SASL session that
    /// has authenticated may start again only to re-authenticate with the same mechanism,
    /// and only when sessions expire (KIP-368).
    pub fn handshake(
        &self,
        mechanism: &str,
        version: i16,
        enabled: &[SaslMechanism],
        reauth_enabled: bool,
    ) -> Result<(), ResponseError> {
        let mut inner = self.lock();
        let wanted = mechanism
            .parse::<SaslMechanism>()
            .ok()
            .filter(|m| enabled.contains(m));
        let reauth = match &inner.phase {
            Phase::Handshake => false,
            Phase::Authenticated { mechanism: m, .. } if reauth_enabled => {
                if wanted != Some(*m) {
                    return Err(ResponseError::IllegalSaslState);
                }
                true
            }
            _ => return Err(ResponseError::IllegalSaslState),
        };
        let Some(mechanism) = wanted else {
            inner.phase = Phase::Failed;
            return Err(ResponseError::UnsupportedSaslMechanism);
        };
        inner.phase = Phase::Authenticating {
            mechanism,
            exchange: Exchange::new(mechanism),
            raw: version == 0,
            reauth,
        };
        Ok(())
    }

    /// One token of the exchange, from SaslAuthenticate or a bare v0 frame.
    pub fn authenticate(
        &self,
        state: &mut State,
        token: &[u8],
        now_ms: i64,
        max_reauth_ms: i64,
    ) -> Answer {
        let mut inner = self.lock();
        let Phase::Authenticating {
            mechanism,
            exchange,
            reauth,
            ..
        } = &mut inner.phase
        else {
            return Answer::Failed(
                ResponseError::IllegalSaslState,
                "Unexpected SaslAuthenticate request: no SASL handshake in progress".into(),
            );
        };
        let (mechanism, reauth) = (*mechanism, *reauth);
        match exchange.step(state, token, now_ms) {
            Step::Challenge(challenge) => Answer::Challenge(challenge),
            Step::Fail(message) => {
                tracing::info!(%mechanism, %message, "SASL authentication failed");
                inner.phase = Phase::Failed;
                Answer::Failed(ResponseError::SaslAuthenticationFailed, message)
            }
            Step::Done {
                principal,
                response,
                expires_at,
            } => {
                if reauth && principal != inner.principal {
                    inner.phase = Phase::Failed;
                    let message = format!(
                        "Cannot change principals during re-authentication from {}: {principal}",
                        inner.principal
                    );
                    return Answer::Failed(ResponseError::SaslAuthenticationFailed, message);
                }
                let session_end = (max_reauth_ms > 0).then(|| {
                    let by_config = now_ms.saturating_add(max_reauth_ms);
                    expires_at.map_or(by_config, |token_end| token_end.min(by_config))
                });
                let session_lifetime_ms = session_end.map_or(0, |end| (end - now_ms).max(0));
                tracing::info!(%principal, %mechanism, reauth, session_lifetime_ms, "SASL authentication succeeded");
                inner.principal = principal;
                inner.phase = Phase::Authenticated {
                    mechanism,
                    expires_at: session_end,
                };
                Answer::Authenticated {
                    response,
                    session_lifetime_ms,
                }
            }
        }
    }
}

/// SASL's `saslname` decoding (RFC 5802): "=2C" is a comma and "=3D" an equals sign; any
/// other '=' makes the name invalid.
fn decode_saslname(name: &str) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut rest = name;
    while let Some(at) = rest.find('=') {
        out.push_str(&rest[..at]);
        match rest.get(at..at + 3) {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return None,
        }
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saslnames_decode_commas_and_equals_signs() {
        assert_eq!(decode_saslname("a=2Cb=3Dc").as_deref(), Some("a,b=c"));
        assert_eq!(decode_saslname("plain").as_deref(), Some("plain"));
        assert_eq!(decode_saslname("bad=2"), None);
        assert_eq!(decode_saslname("bad=41"), None);
    }

    #[test]
    fn a_sasl_connection_may_only_handshake_before_it_authenticates() {
        let session = Session::new(SecurityProtocol::SaslPlaintext, 0, None);
        assert!(session.admit(ApiKey::ApiVersions, 0).is_ok());
        assert!(session.admit(ApiKey::Metadata, 0).is_err());
        assert!(session.admit(ApiKey::SaslAuthenticate, 0).is_err());
        let plaintext = Session::new(SecurityProtocol::Plaintext, 0, None);
        assert!(plaintext.admit(ApiKey::Metadata, 0).is_ok());
        assert_eq!(plaintext.principal(), ANONYMOUS);
    }

    #[test]
    fn an_unknown_mechanism_fails_the_handshake() {
        let session = Session::new(SecurityProtocol::SaslPlaintext, 0, None);
        assert_eq!(
            session.handshake("GSSAPI", 1, &SaslMechanism::ALL, false),
            Err(ResponseError::UnsupportedSaslMechanism)
        );
        assert!(session.admit(ApiKey::ApiVersions, 0).is_err());
    }
}
