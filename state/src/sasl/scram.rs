//! SASL/SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677), the server side: the
//! client's first message names the user, the server answers with its nonce, the salt and
//! the iteration count of the user's credential, and the client's final message proves it
//! knows the password; the server's final message proves the server knew it too.
//!
//! Failures are answered as Kafka's `ScramSaslServer` answers them: an unknown user or a
//! wrong proof is "invalid credentials", without saying which.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256, Sha512};

use super::{Step, decode_saslname};
use crate::security::SaslMechanism;
use crate::state::State;
use crate::state::scram::ScramCredential;

pub(super) struct Server {
    mechanism: SaslMechanism,
    /// After the first message: what the final one is checked against.
    expecting_final: Option<Expecting>,
}

struct Expecting {
    user: String,
    credential: ScramCredential,
    nonce: String,
    /// `client-first-message-bare "," server-first-message`, the start of the AuthMessage.
    auth_start: String,
}

impl Server {
    pub fn new(mechanism: SaslMechanism) -> Self {
        Server {
            mechanism,
            expecting_final: None,
        }
    }

    fn invalid(&self) -> Step {
        Step::Fail(format!(
            "Authentication failed during authentication due to invalid credentials with SASL mechanism {}",
            self.mechanism
        ))
    }

    pub fn step(&mut self, state: &mut State, token: &[u8]) -> Step {
        let Ok(text) = std::str::from_utf8(token) else {
            return self.invalid();
        };
        match self.expecting_final.take() {
            None => self.first(state, text),
            Some(expecting) => self.last(expecting, text),
        }
    }

    /// `gs2-header client-first-message-bare`: `n,[a=authzid],n=user,r=nonce[,ext]`.
    fn first(&mut self, state: &mut State, text: &str) -> Step {
        let mut fields = text.splitn(3, ',');
        let (Some(cbind), Some(authzid), Some(bare)) =
            (fields.next(), fields.next(), fields.next())
        else {
            return self.invalid();
        };
        // Kafka does not offer channel binding: "n" (client does not support it) or "y".
        if cbind != "n" && cbind != "y" {
            return self.invalid();
        }
        let mut user = None;
        let mut client_nonce = None;
        for attribute in bare.split(',') {
            if let Some(name) = attribute.strip_prefix("n=") {
                user = decode_saslname(name);
            } else if let Some(nonce) = attribute.strip_prefix("r=") {
                client_nonce = Some(nonce);
            }
        }
        let (Some(user), Some(client_nonce)) = (user, client_nonce) else {
            return self.invalid();
        };
        if let Some(authzid) = authzid.strip_prefix("a=")
            && decode_saslname(authzid).as_deref() != Some(user.as_str())
        {
            return Step::Fail(
                "Authentication failed: Client requested an authorization id that is different from username"
                    .into(),
            );
        }
        let Some(credential) = state.scram_credential(&user, self.mechanism).cloned() else {
            return self.invalid();
        };
        let nonce = format!("{client_nonce}{}", state.scram_nonce());
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&credential.salt),
            credential.iterations
        );
        self.expecting_final = Some(Expecting {
            user,
            credential,
            nonce,
            auth_start: format!("{bare},{server_first}"),
        });
        Step::Challenge(server_first.into_bytes())
    }

    /// `c=channel-binding,r=nonce[,ext],p=proof`.
    fn last(&mut self, expecting: Expecting, text: &str) -> Step {
        let Some((without_proof, proof)) = text.rsplit_once(",p=") else {
            return self.invalid();
        };
        let nonce = without_proof
            .split(',')
            .find_map(|attribute| attribute.strip_prefix("r="));
        if nonce != Some(expecting.nonce.as_str()) {
            return self.invalid();
        }
        let Ok(proof) = B64.decode(proof) else {
            return self.invalid();
        };
        let auth_message = format!("{},{without_proof}", expecting.auth_start);
        let salted = &expecting.credential.salted_password;
        let (stored_key, server_key) = match self.mechanism {
            SaslMechanism::ScramSha512 => keys::<Hmac<Sha512>, Sha512>(salted),
            _ => keys::<Hmac<Sha256>, Sha256>(salted),
        };
        let client_signature = match self.mechanism {
            SaslMechanism::ScramSha512 => {
                hmac::<Hmac<Sha512>>(&stored_key, auth_message.as_bytes())
            }
            _ => hmac::<Hmac<Sha256>>(&stored_key, auth_message.as_bytes()),
        };
        if proof.len() != client_signature.len() {
            return self.invalid();
        }
        let claimed_client_key: Vec<u8> = proof
            .iter()
            .zip(&client_signature)
            .map(|(p, s)| p ^ s)
            .collect();
        let claimed_stored_key = match self.mechanism {
            SaslMechanism::ScramSha512 => Sha512::digest(&claimed_client_key).to_vec(),
            _ => Sha256::digest(&claimed_client_key).to_vec(),
        };
        if claimed_stored_key != stored_key {
            return self.invalid();
        }
        let server_signature = match self.mechanism {
            SaslMechanism::ScramSha512 => {
                hmac::<Hmac<Sha512>>(&server_key, auth_message.as_bytes())
            }
            _ => hmac::<Hmac<Sha256>>(&server_key, auth_message.as_bytes()),
        };
        Step::Done {
            principal: format!("User:{}", expecting.user),
            response: format!("v={}", B64.encode(server_signature)).into_bytes(),
            expires_at: None,
        }
    }
}

fn hmac<M: Mac + hmac::digest::KeyInit>(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac =
        <M as hmac::digest::KeyInit>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// (StoredKey, ServerKey) from the salted password.
fn keys<M: Mac + hmac::digest::KeyInit, D: Digest>(salted: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let client_key = hmac::<M>(salted, b"Client Key");
    (
        D::digest(&client_key).to_vec(),
        hmac::<M>(salted, b"Server Key"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BrokerConfig;
    use crate::state::users::salt_password;

    /// RFC 7677's SCRAM-SHA-256 example, with the server's nonce part as the state's
    /// seeded stream makes it.
    #[test]
    fn the_rfc_7677_exchange_authenticates_user() {
        let mut state = State::new(0, Vec::new(), BrokerConfig::default());
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let credential = salt_password(SaslMechanism::ScramSha256, "pencil", &salt, 4096);
        state.set_scram_credential("user", SaslMechanism::ScramSha256, credential);
        let mut server = Server::new(SaslMechanism::ScramSha256);
        let Step::Challenge(first) = server.step(&mut state, b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        else {
            panic!("expected the server's first message");
        };
        let first = String::from_utf8(first).unwrap();
        assert!(first.starts_with("r=rOprNGfwEbeRWgbNEkqO"));
        assert!(first.ends_with(",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"));
        // A wrong proof fails without saying why.
        let mut wrong = Server::new(SaslMechanism::ScramSha256);
        wrong.step(&mut state, b"n,,n=user,r=abc");
        let nonce = wrong.expecting_final.as_ref().unwrap().nonce.clone();
        let bad = format!("c=biws,r={nonce},p={}", B64.encode([0u8; 32]));
        assert!(matches!(
            wrong.step(&mut state, bad.as_bytes()),
            Step::Fail(_)
        ));
        // An unknown user fails the same way.
        let mut unknown = Server::new(SaslMechanism::ScramSha256);
        assert!(matches!(
            unknown.step(&mut state, b"n,,n=nobody,r=abc"),
            Step::Fail(_)
        ));
    }
}
