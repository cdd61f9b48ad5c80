//! What a PLAINTEXT listener with no authorizer answers to the security APIs: SASL
//! (ILLEGAL_SASL_STATE), ACLs (SECURITY_DISABLED) and delegation tokens
//! (DELEGATION_TOKEN_REQUEST_NOT_ALLOWED), as the reference Kafka runs without security.
//! The ACL answers need a Kafka without an authorizer (`fidelity/kafka/start.sh` without
//! `--authorizer`); `acls.rs` has the scenarios with one.

use kafka_protocol::messages::create_acls_request::AclCreation;
use kafka_protocol::messages::create_delegation_token_request::CreatableRenewers;
use kafka_protocol::messages::delete_acls_request::DeleteAclsFilter;
use kafka_protocol::messages::{
    ApiKey, CreateAclsRequest, CreateDelegationTokenRequest, DeleteAclsRequest,
    DescribeAclsRequest, DescribeDelegationTokenRequest, ExpireDelegationTokenRequest,
    RenewDelegationTokenRequest, SaslAuthenticateRequest, SaslHandshakeRequest,
};

use kafka_protocol::messages::ResponseKind;
use kafka_protocol::messages::describe_user_scram_credentials_response::DescribeUserScramCredentialsResult;

use super::helpers::{s, scenario, versions};
use crate::scenario::{Scenario, Step};

/// Resource type TOPIC, pattern LITERAL, operation READ, permission ALLOW.
const TOPIC: i8 = 2;
const LITERAL: i8 = 3;
const READ: i8 = 3;
const ALLOW: i8 = 3;

pub fn scenarios() -> Vec<Scenario> {
    let mut out = Vec::new();
    for v in versions(ApiKey::SaslHandshake) {
        out.push(scenario(
            ApiKey::SaslHandshake,
            v,
            "plaintext-listener",
            |_| {
                vec![Step::new(
                    ApiKey::SaslHandshake,
                    v,
                    SaslHandshakeRequest::default().with_mechanism(s("PLAIN")),
                )]
            },
        ));
    }
    for v in versions(ApiKey::SaslAuthenticate) {
        out.push(scenario(
            ApiKey::SaslAuthenticate,
            v,
            "plaintext-listener",
            |_| {
                vec![Step::new(
                    ApiKey::SaslAuthenticate,
                    v,
                    SaslAuthenticateRequest::default()
                        .with_auth_bytes(bytes::Bytes::from_static(b"\0user\0secret")),
                )]
            },
        ));
    }
    for v in versions(ApiKey::DescribeAcls) {
        out.push(
            scenario(ApiKey::DescribeAcls, v, "no-authorizer", |_| {
                let r = DescribeAclsRequest::default()
                    .with_resource_type_filter(1)
                    .with_pattern_type_filter(1)
                    .with_operation(1)
                    .with_permission_type(1);
                vec![Step::new(ApiKey::DescribeAcls, v, r)]
            })
            .needs_authorizer(false),
        );
    }
    for v in versions(ApiKey::CreateAcls) {
        out.push(
            scenario(ApiKey::CreateAcls, v, "no-authorizer", |p| {
                let acl = |name: &str| {
                    AclCreation::default()
                        .with_resource_type(TOPIC)
                        .with_resource_name(s(name))
                        .with_resource_pattern_type(LITERAL)
                        .with_principal(s("User:alice"))
                        .with_host(s("*"))
                        .with_operation(READ)
                        .with_permission_type(ALLOW)
                };
                let r = CreateAclsRequest::default()
                    .with_creations(vec![acl(&format!("{p}a")), acl(&format!("{p}b"))]);
                vec![Step::new(ApiKey::CreateAcls, v, r)]
            })
            .needs_authorizer(false),
        );
    }
    for v in versions(ApiKey::DeleteAcls) {
        out.push(
            scenario(ApiKey::DeleteAcls, v, "no-authorizer", |p| {
                let filter = DeleteAclsFilter::default()
                    .with_resource_type_filter(TOPIC)
                    .with_resource_name_filter(Some(s(format!("{p}a"))))
                    .with_pattern_type_filter(LITERAL)
                    .with_operation(1)
                    .with_permission_type(1);
                let r = DeleteAclsRequest::default().with_filters(vec![filter]);
                vec![Step::new(ApiKey::DeleteAcls, v, r)]
            })
            .needs_authorizer(false),
        );
    }
    for v in versions(ApiKey::CreateDelegationToken) {
        out.push(scenario(
            ApiKey::CreateDelegationToken,
            v,
            "plaintext-listener",
            |_| {
                let r = CreateDelegationTokenRequest::default()
                    .with_renewers(vec![
                        CreatableRenewers::default()
                            .with_principal_type(s("User"))
                            .with_principal_name(s("bob")),
                    ])
                    .with_max_lifetime_ms(-1);
                vec![Step::new(ApiKey::CreateDelegationToken, v, r)]
            },
        ));
        if v >= 3 {
            out.push(scenario(
                ApiKey::CreateDelegationToken,
                v,
                "for-an-owner",
                |_| {
                    let r = CreateDelegationTokenRequest::default()
                        .with_owner_principal_type(Some(s("User")))
                        .with_owner_principal_name(Some(s("carol")))
                        .with_max_lifetime_ms(60_000);
                    vec![Step::new(ApiKey::CreateDelegationToken, v, r)]
                },
            ));
        }
    }
    for v in versions(ApiKey::RenewDelegationToken) {
        out.push(scenario(
            ApiKey::RenewDelegationToken,
            v,
            "plaintext-listener",
            |_| {
                let r = RenewDelegationTokenRequest::default()
                    .with_hmac(bytes::Bytes::from_static(b"hmac"))
                    .with_renew_period_ms(60_000);
                vec![Step::new(ApiKey::RenewDelegationToken, v, r)]
            },
        ));
    }
    for v in versions(ApiKey::ExpireDelegationToken) {
        out.push(scenario(
            ApiKey::ExpireDelegationToken,
            v,
            "plaintext-listener",
            |_| {
                let r = ExpireDelegationTokenRequest::default()
                    .with_hmac(bytes::Bytes::from_static(b"hmac"))
                    .with_expiry_time_period_ms(-1);
                vec![Step::new(ApiKey::ExpireDelegationToken, v, r)]
            },
        ));
    }
    for v in versions(ApiKey::DescribeDelegationToken) {
        out.push(scenario(
            ApiKey::DescribeDelegationToken,
            v,
            "plaintext-listener",
            |_| {
                vec![Step::new(
                    ApiKey::DescribeDelegationToken,
                    v,
                    DescribeDelegationTokenRequest::default().with_owners(None),
                )]
            },
        ));
    }
    out
}

/// SCRAM credentials: stored, described and deleted under the scenario's user names.
pub fn scram_scenarios() -> Vec<Scenario> {
    use kafka_protocol::messages::alter_user_scram_credentials_request::{
        ScramCredentialDeletion, ScramCredentialUpsertion,
    };
    use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
    use kafka_protocol::messages::{
        AlterUserScramCredentialsRequest, DescribeUserScramCredentialsRequest,
    };
    const SHA256: i8 = 1;
    const SHA512: i8 = 2;
    let upsert = |user: &str, mechanism: i8, iterations: i32| {
        ScramCredentialUpsertion::default()
            .with_name(s(user))
            .with_mechanism(mechanism)
            .with_iterations(iterations)
            .with_salt(bytes::Bytes::from_static(b"salt-salt-salt"))
            .with_salted_password(bytes::Bytes::from_static(&[7; 32]))
    };
    let delete = |user: &str, mechanism: i8| {
        ScramCredentialDeletion::default()
            .with_name(s(user))
            .with_mechanism(mechanism)
    };
    let alter = |deletions: Vec<ScramCredentialDeletion>,
                 upsertions: Vec<ScramCredentialUpsertion>| {
        Step::new(
            ApiKey::AlterUserScramCredentials,
            0,
            AlterUserScramCredentialsRequest::default()
                .with_deletions(deletions)
                .with_upsertions(upsertions),
        )
    };
    let describe = |users: Option<Vec<String>>| {
        Step::new(
            ApiKey::DescribeUserScramCredentials,
            0,
            DescribeUserScramCredentialsRequest::default().with_users(users.map(|us| {
                us.iter()
                    .map(|u| UserName::default().with_name(s(u.as_str())))
                    .collect()
            })),
        )
    };
    let mut out = Vec::new();
    out.push(scenario(
        ApiKey::AlterUserScramCredentials,
        0,
        "store-describe-delete",
        |p| {
            let (alice, bob) = (format!("{p}alice"), format!("{p}bob"));
            vec![
                alter(
                    Vec::new(),
                    vec![upsert(&alice, SHA256, 8192), upsert(&bob, SHA512, 4096)],
                ),
                alter(Vec::new(), vec![upsert(&alice, SHA512, 10000)]),
                describe(Some(vec![alice.clone(), bob.clone()])).until(two_mechanisms_then_one),
                alter(vec![delete(&alice, SHA256)], Vec::new()),
                describe(Some(vec![alice.clone()])).until(one_mechanism),
                alter(vec![delete(&bob, SHA512)], Vec::new()),
                describe(Some(vec![bob.clone()])).until(none_found),
            ]
        },
    ));
    out.push(scenario(
        ApiKey::AlterUserScramCredentials,
        0,
        "invalid",
        |p| {
            vec![alter(
                vec![
                    delete(&format!("{p}nobody"), SHA256),
                    delete(&format!("{p}m"), 0),
                ],
                vec![
                    upsert(&format!("{p}few"), SHA256, 100),
                    upsert(&format!("{p}many"), SHA512, 20000),
                    upsert("", SHA256, 4096),
                    upsert(&format!("{p}unknown"), 3, 4096),
                ],
            )]
        },
    ));
    out.push(scenario(
        ApiKey::AlterUserScramCredentials,
        0,
        "user-twice",
        |p| {
            let (a, b) = (format!("{p}a"), format!("{p}b"));
            vec![
                alter(
                    Vec::new(),
                    vec![upsert(&a, SHA256, 4096), upsert(&a, SHA512, 4096)],
                ),
                alter(vec![delete(&b, SHA256)], vec![upsert(&b, SHA256, 4096)]),
                describe(Some(vec![a, b])),
            ]
        },
    ));
    out.push(scenario(
        ApiKey::DescribeUserScramCredentials,
        0,
        "every-user",
        |p| {
            let (a, b) = (format!("{p}a"), format!("{p}b"));
            vec![
                alter(
                    Vec::new(),
                    vec![upsert(&a, SHA256, 4096), upsert(&b, SHA512, 4096)],
                ),
                describe(Some(vec![a.clone(), b.clone()]))
                    .until(all_found)
                    .setup(),
                describe(None),
                describe(Some(Vec::new())),
            ]
        },
    ));
    out.push(scenario(
        ApiKey::DescribeUserScramCredentials,
        0,
        "unknown-and-twice",
        |p| {
            let (a, b) = (format!("{p}a"), format!("{p}b"));
            vec![
                alter(Vec::new(), vec![upsert(&a, SHA256, 4096)]),
                describe(Some(vec![format!("{p}missing"), a.clone(), b.clone(), b]))
                    .until(any_found),
            ]
        },
    ));
    out
}

// Kafka's broker describes SCRAM credentials from its metadata image, which follows the
// controller's write a moment later: a describe after a change is repeated until it shows
// the change.

fn described(r: &ResponseKind) -> &[DescribeUserScramCredentialsResult] {
    match r {
        ResponseKind::DescribeUserScramCredentials(d) => &d.results,
        _ => &[],
    }
}

fn all_found(r: &ResponseKind) -> bool {
    described(r).iter().all(|u| u.error_code == 0)
}

fn any_found(r: &ResponseKind) -> bool {
    described(r).iter().any(|u| u.error_code == 0)
}

fn none_found(r: &ResponseKind) -> bool {
    described(r).iter().all(|u| u.error_code != 0)
}

/// Every user found, the first with two mechanisms.
fn two_mechanisms_then_one(r: &ResponseKind) -> bool {
    all_found(r)
        && described(r)
            .first()
            .is_some_and(|u| u.credential_infos.len() == 2)
}

fn one_mechanism(r: &ResponseKind) -> bool {
    described(r).iter().all(|u| u.credential_infos.len() == 1)
}
