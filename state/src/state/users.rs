//! The users SASL listeners authenticate: a password for SASL/PLAIN (what Kafka's
//! `PlainLoginModule` JAAS config lists as `user_NAME="password"`) and SCRAM credentials
//! (`scram.rs`, what AlterUserScramCredentials stores in Kafka's metadata log).
//!
//! A test adds a user with one call (builder, control API or [`State::add_user`]) and can
//! then log in with any mechanism: the password is kept for PLAIN and salted into both
//! SCRAM credentials, with a salt from the cluster's seeded random stream so the same seed
//! gives the same credentials.

use std::collections::BTreeMap;

use hmac::Hmac;
use sha2::{Sha256, Sha512};

use super::State;
use super::scram::ScramCredential;
use crate::security::SaslMechanism;

/// Kafka's minimum SCRAM iteration count, which `kafka-configs` uses by default.
pub const SCRAM_ITERATIONS: i32 = 4096;

/// PLAIN passwords by user name.
#[derive(Debug, Default)]
pub struct PlainUsers {
    pub(super) passwords: BTreeMap<String, String>,
}

impl State {
    /// Adds (or changes) a user who may authenticate with PLAIN, SCRAM-SHA-256 and
    /// SCRAM-SHA-512 using `password`.
    pub fn add_user(&mut self, name: &str, password: &str) {
        self.plain_users
            .passwords
            .insert(name.to_string(), password.to_string());
        for mechanism in [SaslMechanism::ScramSha256, SaslMechanism::ScramSha512] {
            let salt = self.next_salt();
            let credential = salt_password(mechanism, password, &salt, SCRAM_ITERATIONS);
            self.scram.set(name, mechanism, credential);
        }
        tracing::info!(user = name, "SASL user added");
    }

    /// Removes a user's PLAIN password and SCRAM credentials. Connections it already
    /// authenticated stay open, as in Kafka, until they must re-authenticate.
    pub fn remove_user(&mut self, name: &str) -> bool {
        let plain = self.plain_users.passwords.remove(name).is_some();
        let mut scram = false;
        for mechanism in [SaslMechanism::ScramSha256, SaslMechanism::ScramSha512] {
            scram |= self.scram.remove(name, mechanism);
        }
        plain || scram
    }

    /// The users with a PLAIN password or a SCRAM credential, in name order.
    pub fn users(&self) -> Vec<String> {
        let mut names: Vec<String> = self.plain_users.passwords.keys().cloned().collect();
        names.extend(self.scram.users());
        names.sort();
        names.dedup();
        names
    }

    /// Whether `password` is `user`'s PLAIN password.
    pub fn plain_password_matches(&self, user: &str, password: &str) -> bool {
        self.plain_users
            .passwords
            .get(user)
            .is_some_and(|p| p.as_bytes() == password.as_bytes())
    }

    /// Stores a SCRAM credential made elsewhere (a known salt, in tests).
    #[cfg(test)]
    pub fn set_scram_credential(
        &mut self,
        user: &str,
        mechanism: SaslMechanism,
        credential: ScramCredential,
    ) {
        self.scram.set(user, mechanism, credential);
    }

    /// `user`'s credential for a SCRAM mechanism.
    pub fn scram_credential(
        &self,
        user: &str,
        mechanism: SaslMechanism,
    ) -> Option<&ScramCredential> {
        self.scram.get(user, mechanism)
    }

    /// The server's part of a SCRAM nonce: printable, no commas, from the seeded stream.
    pub fn scram_nonce(&mut self) -> String {
        format!("{:016x}{:016x}", self.rng.next_u64(), self.rng.next_u64())
    }

    fn next_salt(&mut self) -> Vec<u8> {
        let mut salt = Vec::with_capacity(16);
        salt.extend_from_slice(&self.rng.next_u64().to_be_bytes());
        salt.extend_from_slice(&self.rng.next_u64().to_be_bytes());
        salt
    }
}

/// SCRAM's `Hi(password, salt, iterations)` (RFC 5802): PBKDF2 with the mechanism's HMAC.
pub fn salt_password(
    mechanism: SaslMechanism,
    password: &str,
    salt: &[u8],
    iterations: i32,
) -> ScramCredential {
    let rounds = iterations.max(1) as u32;
    let salted = match mechanism {
        SaslMechanism::ScramSha512 => {
            let mut out = [0u8; 64];
            pbkdf2::pbkdf2::<Hmac<Sha512>>(password.as_bytes(), salt, rounds, &mut out)
                .expect("HMAC takes keys of any length");
            out.to_vec()
        }
        _ => {
            let mut out = [0u8; 32];
            pbkdf2::pbkdf2::<Hmac<Sha256>>(password.as_bytes(), salt, rounds, &mut out)
                .expect("HMAC takes keys of any length");
            out.to_vec()
        }
    };
    ScramCredential {
        salt: bytes::Bytes::copy_from_slice(salt),
        salted_password: salted.into(),
        iterations,
    }
}
