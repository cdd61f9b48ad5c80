//! SASL users and listeners: `GET /v1/users` lists the users SASL listeners know, `POST
//! /v1/users` with `{"name": "...", "password": "..."}` adds (or changes) one for PLAIN,
//! SCRAM-SHA-256 and SCRAM-SHA-512, `DELETE /v1/users/{name}` removes it; `GET
//! /v1/listeners` names each listener with its protocol and bootstrap list, so a test in
//! another language finds the SASL port. For TLS listeners with generated certificates,
//! `GET /v1/tls/ca.pem` is the CA to trust and `POST /v1/tls/client-certificates` with
//! `{"name": "..."}` signs a client certificate for mutual TLS.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::json;

use super::{ApiError, ApiResult, ok, parse_body};
use crate::Cluster;

pub(super) async fn list(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    ok(json!({ "users": cluster.sasl_users() }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserBody {
    name: String,
    password: String,
}

pub(super) async fn add(State(cluster): State<Arc<Cluster>>, body: Bytes) -> ApiResult {
    let UserBody { name, password } = parse_body(
        &body,
        "user body (expected {\"name\": \"...\", \"password\": \"...\"})",
    )?;
    if name.is_empty() || password.is_empty() {
        return Err(ApiError::bad_request("a user needs a name and a password"));
    }
    cluster.add_sasl_user(&name, &password);
    ok(json!({ "name": name }))
}

pub(super) async fn remove(
    State(cluster): State<Arc<Cluster>>,
    Path(name): Path<String>,
) -> ApiResult {
    if !cluster.remove_sasl_user(&name) {
        return Err(ApiError::not_found(format!("no SASL user {name:?}")));
    }
    ok(json!({ "removed": name }))
}

pub(super) async fn ca_pem(State(cluster): State<Arc<Cluster>>) -> Result<String, ApiError> {
    cluster.tls_ca_pem().ok_or_else(|| {
        ApiError::not_found(
            "no generated CA: the cluster has no TLS listener, or its certificates came from files",
        )
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientCertificateBody {
    name: String,
}

pub(super) async fn client_certificate(
    State(cluster): State<Arc<Cluster>>,
    body: Bytes,
) -> ApiResult {
    let ClientCertificateBody { name } = parse_body(
        &body,
        "client certificate body (expected {\"name\": \"...\"})",
    )?;
    let (certificate, key) = cluster.tls_client_certificate(&name)?;
    ok(json!({ "certificate": certificate, "key": key }))
}

pub(super) async fn listeners(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    let listeners: Vec<_> = cluster
        .listeners()
        .into_iter()
        .map(|l| {
            json!({
                "name": l.name,
                "protocol": l.protocol.name(),
                "bootstrap": cluster.bootstrap_servers_for(&l.name),
            })
        })
        .collect();
    ok(json!({ "listeners": listeners }))
}
