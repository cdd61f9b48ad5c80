//! ACL bindings: `GET /v1/acls` (every binding), `POST /v1/acls` (one binding, answered
//! 201) and `DELETE /v1/acls` (the bindings a filter matches, answered with them): what
//! `cluster.acls()`, `cluster.add_acl` and `cluster.remove_acls` do, for tests in any
//! language. They are judged only when the cluster runs an authorizer (`--authorizer`).
//!
//! A binding is `{"resource_type": "TOPIC", "resource_name": "orders", "pattern_type":
//! "LITERAL", "principal": "User:alice", "host": "*", "operation": "READ",
//! "permission": "ALLOW"}` with Kafka's names (any case); `pattern_type` defaults to
//! LITERAL and `host` to `*`. A filter has the same fields, each optional: a missing one
//! matches anything (types ANY), and `pattern_type` MATCH matches every binding that
//! applies to the named resource. An empty body deletes every binding.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{ApiError, ApiResult, ok, parse_body};
use crate::Cluster;
use crate::{
    AclBinding, AclFilter, AclOperation as Operation, PatternType, Permission, ResourceType,
};

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Binding {
    resource_type: String,
    resource_name: String,
    #[serde(default = "literal")]
    pattern_type: String,
    principal: String,
    #[serde(default = "any_host")]
    host: String,
    operation: String,
    permission: String,
}

fn literal() -> String {
    "LITERAL".into()
}

fn any_host() -> String {
    "*".into()
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Filter {
    resource_type: Option<String>,
    resource_name: Option<String>,
    pattern_type: Option<String>,
    principal: Option<String>,
    host: Option<String>,
    operation: Option<String>,
    permission: Option<String>,
}

fn named<T>(text: &str, what: &str, parse: fn(&str) -> Option<T>) -> Result<T, ApiError> {
    parse(text).ok_or_else(|| ApiError::bad_request(format!("unknown {what} {text:?}")))
}

/// A filter field: the named value, or ANY when missing.
fn or_any<T>(
    text: Option<String>,
    what: &str,
    parse: fn(&str) -> Option<T>,
) -> Result<T, ApiError> {
    named(text.as_deref().unwrap_or("ANY"), what, parse)
}

fn to_json(acl: AclBinding) -> Binding {
    Binding {
        resource_type: acl.resource_type.to_string(),
        resource_name: acl.resource_name,
        pattern_type: acl.pattern_type.to_string(),
        principal: acl.principal,
        host: acl.host,
        operation: acl.operation.to_string(),
        permission: acl.permission.to_string(),
    }
}

pub(super) async fn list(State(cluster): State<Arc<Cluster>>) -> ApiResult {
    let acls: Vec<Binding> = cluster.acls().into_iter().map(to_json).collect();
    ok(json!({ "acls": acls }))
}

pub(super) async fn add(State(cluster): State<Arc<Cluster>>, body: Bytes) -> ApiResult {
    let b: Binding = parse_body(&body, "ACL binding")?;
    let acl = AclBinding {
        resource_type: named(&b.resource_type, "resource type", ResourceType::parse)?,
        resource_name: b.resource_name,
        pattern_type: named(&b.pattern_type, "pattern type", PatternType::parse)?,
        principal: b.principal,
        host: b.host,
        operation: named(&b.operation, "operation", Operation::parse)?,
        permission: named(&b.permission, "permission", Permission::parse)?,
    };
    cluster.add_acl(acl.clone())?;
    Ok((StatusCode::CREATED, axum::Json(json!(to_json(acl)))).into_response())
}

pub(super) async fn remove(State(cluster): State<Arc<Cluster>>, body: Bytes) -> ApiResult {
    let f: Filter = if body.is_empty() {
        Filter::default()
    } else {
        parse_body(&body, "ACL filter")?
    };
    let filter = AclFilter {
        resource_type: or_any(f.resource_type, "resource type", ResourceType::parse)?,
        resource_name: f.resource_name,
        pattern_type: or_any(f.pattern_type, "pattern type", PatternType::parse)?,
        principal: f.principal,
        host: f.host,
        operation: or_any(f.operation, "operation", Operation::parse)?,
        permission: or_any(f.permission, "permission", Permission::parse)?,
    };
    let removed: Vec<Binding> = cluster
        .remove_acls(&filter)
        .into_iter()
        .map(to_json)
        .collect();
    ok(json!({ "deleted": removed }))
}
