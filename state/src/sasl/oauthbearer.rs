//! SASL/OAUTHBEARER (RFC 7628) with unsecured JWS tokens, as Kafka's development-only
//! validator (`OAuthBearerUnsecuredValidatorCallbackHandler`, default options) accepts
//! them: `alg` "none", an empty signature, a string `sub` (the principal), a numeric
//! `exp` not yet past on the cluster clock, an `iat` (if any) not after `exp`.
//!
//! The client's one message is `gs2-header ^A auth=Bearer <token> ^A [key=value ^A]* ^A`.
//! A token that fails is answered as Kafka answers it: a JSON error status as a challenge,
//! and once the client acknowledges it (a lone ^A) SASL_AUTHENTICATION_FAILED with that
//! status as the message.

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

use super::Step;

const INVALID_TOKEN: &str = r#"{"status":"invalid_token"}"#;

/// base64url with or without padding, as Java's URL decoder takes it.
const URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

#[derive(Default)]
pub(super) struct Server {
    /// The error status sent as a challenge, awaiting the client's acknowledgement.
    failed: Option<String>,
}

impl Server {
    pub fn step(&mut self, token: &[u8], now_ms: i64) -> Step {
        if let Some(status) = self.failed.take() {
            return Step::Fail(status);
        }
        match validate(token, now_ms) {
            Ok((principal, expires_at)) => Step::Done {
                principal: format!("User:{principal}"),
                response: Vec::new(),
                expires_at: Some(expires_at),
            },
            Err(why) => {
                tracing::info!(reason = %why, "OAUTHBEARER token refused");
                self.failed = Some(INVALID_TOKEN.to_string());
                Step::Challenge(INVALID_TOKEN.as_bytes().to_vec())
            }
        }
    }
}

/// The token's principal and expiry (ms), or why it is refused.
fn validate(message: &[u8], now_ms: i64) -> Result<(String, i64), String> {
    let text = std::str::from_utf8(message).map_err(|_| "the message is not UTF-8")?;
    let mut fields = text.splitn(3, ',');
    let (Some("n" | "y"), Some(authzid), Some(rest)) =
        (fields.next(), fields.next(), fields.next())
    else {
        return Err("no GS2 header".into());
    };
    let token = rest
        .split('\u{1}')
        .find_map(|kv| kv.strip_prefix("auth="))
        .and_then(|auth| {
            let (scheme, token) = auth.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then_some(token.trim())
        })
        .ok_or("no auth=Bearer token")?;
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts.as_slice() else {
        return Err("a JWS has three dot-separated parts".into());
    };
    if !signature.is_empty() {
        return Err("an unsecured JWS has an empty signature".into());
    }
    let json = |part: &str| -> Result<serde_json::Map<String, Value>, String> {
        let bytes = URL
            .decode(part)
            .map_err(|e| format!("not base64url: {e}"))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err("not a JSON object".into()),
        }
    };
    let header = json(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("none") {
        return Err("the JWS header's alg is not \"none\"".into());
    }
    let claims = json(payload)?;
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or("no sub claim")?;
    let seconds = |name: &str| -> Result<Option<f64>, String> {
        match claims.get(name) {
            None => Ok(None),
            Some(v) => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| format!("the {name} claim is not a number")),
        }
    };
    let exp = seconds("exp")?.ok_or("no exp claim")?;
    let expires_at = (exp * 1000.0) as i64;
    if now_ms > expires_at {
        return Err("the token has expired".into());
    }
    if let Some(iat) = seconds("iat")?
        && iat > exp
    {
        return Err("the token is issued after it expires".into());
    }
    if let Some(authzid) = authzid.strip_prefix("a=")
        && authzid != sub
    {
        return Err("the authorization id is not the token's principal".into());
    }
    Ok((sub.to_string(), expires_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: &str) -> String {
        let header = URL.encode(br#"{"alg":"none"}"#);
        let payload = URL.encode(claims.as_bytes());
        format!("n,,\u{1}auth=Bearer {header}.{payload}.\u{1}\u{1}")
    }

    #[test]
    fn an_unsecured_token_names_its_subject() {
        let message = token(r#"{"sub":"alice","iat":1000,"exp":2000}"#);
        let mut server = Server::default();
        match server.step(message.as_bytes(), 1_500_000) {
            Step::Done {
                principal,
                expires_at,
                ..
            } => {
                assert_eq!(principal, "User:alice");
                assert_eq!(expires_at, Some(2_000_000));
            }
            _ => panic!("a valid token authenticates"),
        }
    }

    #[test]
    fn an_expired_token_gets_kafkas_error_status_then_fails() {
        let message = token(r#"{"sub":"alice","exp":2000}"#);
        let mut server = Server::default();
        assert!(matches!(
            server.step(message.as_bytes(), 2_000_001),
            Step::Challenge(c) if c == INVALID_TOKEN.as_bytes()
        ));
        assert!(matches!(server.step(b"\x01", 2_000_001), Step::Fail(m) if m == INVALID_TOKEN));
        assert!(validate(token(r#"{"exp":2000}"#).as_bytes(), 0).is_err());
        assert!(validate(b"n,,\x01auth=Bearer a.b.c\x01\x01", 0).is_err());
    }
}
