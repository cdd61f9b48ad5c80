//! SCRAM credentials (DescribeUserScramCredentials, AlterUserScramCredentials): what the
//! controller stores per user and mechanism — salt, salted password and iteration count —
//! with Kafka's validation (`ScramControlManager`) and description (`ScramImage`).
//! SASL/SCRAM listeners authenticate against them (`crate::sasl`); `users.rs` adds them
//! from a password.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use kafka_protocol::ResponseError;

use super::State;
use crate::error::KafkaError;
use crate::security::SaslMechanism;

/// The mechanisms, by their wire type: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
pub const MECHANISMS: [(i8, &str); 2] = [(1, "SCRAM-SHA-256"), (2, "SCRAM-SHA-512")];

/// Both mechanisms' minimum iteration count, and Kafka's maximum.
const MIN_ITERATIONS: i32 = 4096;
const MAX_ITERATIONS: i32 = 16384;

/// What describing a credential tells: (mechanism type, iterations).
pub type CredentialInfo = (i8, i32);

/// A stored credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScramCredential {
    pub salt: bytes::Bytes,
    pub salted_password: bytes::Bytes,
    pub iterations: i32,
}

/// One upsertion of an AlterUserScramCredentials request.
#[derive(Debug, Clone)]
pub struct Upsertion {
    pub user: String,
    pub mechanism: i8,
    pub credential: ScramCredential,
}

/// The credentials of every user, by (user, mechanism type).
#[derive(Debug, Default)]
pub struct ScramCredentials {
    pub(super) by_user: BTreeMap<(String, i8), ScramCredential>,
}

impl ScramCredentials {
    /// The wire type AlterUserScramCredentials gives a mechanism.
    fn wire_type(mechanism: SaslMechanism) -> i8 {
        match mechanism {
            SaslMechanism::ScramSha512 => 2,
            _ => 1,
        }
    }

    pub fn set(&mut self, user: &str, mechanism: SaslMechanism, credential: ScramCredential) {
        self.by_user
            .insert((user.to_string(), Self::wire_type(mechanism)), credential);
    }

    pub fn get(&self, user: &str, mechanism: SaslMechanism) -> Option<&ScramCredential> {
        self.by_user
            .get(&(user.to_string(), Self::wire_type(mechanism)))
    }

    pub fn remove(&mut self, user: &str, mechanism: SaslMechanism) -> bool {
        self.by_user
            .remove(&(user.to_string(), Self::wire_type(mechanism)))
            .is_some()
    }

    /// Every user with a credential, in name order (each once).
    pub fn users(&self) -> impl Iterator<Item = String> + '_ {
        let mut last: Option<&str> = None;
        self.by_user.keys().filter_map(move |(u, _)| {
            if last == Some(u.as_str()) {
                return None;
            }
            last = Some(u.as_str());
            Some(u.clone())
        })
    }
}

fn known_mechanism(mechanism: i8) -> bool {
    MECHANISMS.iter().any(|(t, _)| *t == mechanism)
}

fn user_and_mechanism(user: &str, mechanism: i8) -> Result<(), KafkaError> {
    if user.is_empty() {
        return Err(KafkaError::new(
            ResponseError::UnacceptableCredential,
            "Username must not be empty",
        ));
    }
    if !known_mechanism(mechanism) {
        return Err(KafkaError::new(
            ResponseError::UnsupportedSaslMechanism,
            "Unknown SCRAM mechanism",
        ));
    }
    Ok(())
}

const TWICE: &str = "A user credential cannot be altered twice in the same request";

impl State {
    /// AlterUserScramCredentials: deletions (user, mechanism) and upsertions, validated as
    /// Kafka's controller validates them; everything valid is applied together. A user
    /// altered twice in one request fails with DUPLICATE_RESOURCE and is left as it was;
    /// once a user has failed, its later entries are ignored. Results: deletions, then
    /// upsertions, then failures, each in request order (Kafka's follow its hash maps).
    pub fn alter_scram_credentials(
        &mut self,
        deletions: &[(String, i8)],
        upsertions: &[Upsertion],
    ) -> Vec<(String, Result<(), KafkaError>)> {
        let creds = &self.scram.by_user;
        // Each list with an index by user, so a long request costs one pass.
        let mut failed: Vec<(String, KafkaError)> = Vec::new();
        let mut failed_users: HashSet<String> = HashSet::new();
        let mut delete: Vec<Option<(String, i8)>> = Vec::new();
        let mut delete_at: HashMap<String, usize> = HashMap::new();
        let mut upsert: Vec<Option<&Upsertion>> = Vec::new();
        let mut upsert_at: HashMap<String, usize> = HashMap::new();
        let mut fail = |user: &str, e: KafkaError, failed_users: &mut HashSet<String>| {
            failed_users.insert(user.to_string());
            failed.push((user.to_string(), e));
        };
        for (user, mechanism) in deletions {
            if failed_users.contains(user) {
                continue;
            }
            if let Some(at) = delete_at.remove(user) {
                delete[at] = None;
                fail(
                    user,
                    KafkaError::new(ResponseError::DuplicateResource, TWICE),
                    &mut failed_users,
                );
                continue;
            }
            let check = user_and_mechanism(user, *mechanism).and_then(|()| {
                if creds.contains_key(&(user.clone(), *mechanism)) {
                    Ok(())
                } else {
                    Err(KafkaError::new(
                        ResponseError::ResourceNotFound,
                        "Attempt to delete a user credential that does not exist",
                    ))
                }
            });
            match check {
                Ok(()) => {
                    delete_at.insert(user.clone(), delete.len());
                    delete.push(Some((user.clone(), *mechanism)));
                }
                Err(e) => fail(user, e, &mut failed_users),
            }
        }
        for u in upsertions {
            let user = u.user.as_str();
            if failed_users.contains(user) {
                continue;
            }
            let earlier_delete = delete_at.remove(user).map(|at| delete[at] = None);
            let earlier_upsert = upsert_at.remove(user).map(|at| upsert[at] = None);
            if earlier_delete.is_some() || earlier_upsert.is_some() {
                fail(
                    user,
                    KafkaError::new(ResponseError::DuplicateResource, TWICE),
                    &mut failed_users,
                );
                continue;
            }
            let check = user_and_mechanism(user, u.mechanism).and_then(|()| {
                if u.credential.iterations < MIN_ITERATIONS {
                    Err(KafkaError::new(
                        ResponseError::UnacceptableCredential,
                        "Too few iterations",
                    ))
                } else if u.credential.iterations > MAX_ITERATIONS {
                    Err(KafkaError::new(
                        ResponseError::UnacceptableCredential,
                        "Too many iterations",
                    ))
                } else {
                    Ok(())
                }
            });
            match check {
                Ok(()) => {
                    upsert_at.insert(user.to_string(), upsert.len());
                    upsert.push(Some(u));
                }
                Err(e) => fail(user, e, &mut failed_users),
            }
        }
        let mut results: Vec<(String, Result<(), KafkaError>)> = Vec::new();
        for (user, mechanism) in delete.into_iter().flatten() {
            self.scram.by_user.remove(&(user.clone(), mechanism));
            tracing::info!(%user, mechanism, "SCRAM credential deleted");
            results.push((user, Ok(())));
        }
        for u in upsert.into_iter().flatten() {
            self.scram
                .by_user
                .insert((u.user.clone(), u.mechanism), u.credential.clone());
            tracing::info!(user = %u.user, mechanism = u.mechanism, "SCRAM credential stored");
            results.push((u.user.clone(), Ok(())));
        }
        results.extend(failed.into_iter().map(|(user, e)| (user, Err(e))));
        results
    }

    /// DescribeUserScramCredentials: for each user asked (every user with a credential
    /// when `users` is None or empty, in name order), the mechanisms and iteration counts
    /// it has; RESOURCE_NOT_FOUND for a user without any, DUPLICATE_RESOURCE for a user
    /// asked twice.
    pub fn describe_scram_credentials(
        &self,
        users: Option<&[String]>,
    ) -> Vec<(String, Result<Vec<CredentialInfo>, KafkaError>)> {
        let asked: Vec<(String, bool)> = match users {
            Some(users) if !users.is_empty() => {
                let mut count: HashMap<&str, usize> = HashMap::new();
                for u in users {
                    *count.entry(u.as_str()).or_default() += 1;
                }
                let mut listed = BTreeSet::new();
                users
                    .iter()
                    .filter(|u| listed.insert(u.as_str()))
                    .map(|u| (u.clone(), count[u.as_str()] > 1))
                    .collect()
            }
            _ => self
                .scram
                .by_user
                .keys()
                .map(|(u, _)| u.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .map(|u| (u, false))
                .collect(),
        };
        asked
            .into_iter()
            .map(|(user, twice)| {
                let result = if twice {
                    Err(KafkaError::new(
                        ResponseError::DuplicateResource,
                        format!("Cannot describe SCRAM credentials for the same user twice in a single request: {user}"),
                    ))
                } else {
                    let infos: Vec<CredentialInfo> = MECHANISMS
                        .iter()
                        .filter_map(|(m, _)| {
                            self.scram
                                .by_user
                                .get(&(user.clone(), *m))
                                .map(|c| (*m, c.iterations))
                        })
                        .collect();
                    if infos.is_empty() {
                        Err(KafkaError::new(
                            ResponseError::ResourceNotFound,
                            format!("Attempt to describe a user credential that does not exist: {user}"),
                        ))
                    } else {
                        Ok(infos)
                    }
                };
                (user, result)
            })
            .collect()
    }
}
