//! The Confluent Schema Registry REST API, served from the cluster's embedded registry
//! ([`crate::SchemaRegistry`]) at the paths Confluent's clients call (no `/v1` prefix:
//! a client is given the control API's URL as its `schema.registry.url`):
//! `/schemas/...` and `/subjects/...` here, `/compatibility/...`, `/config`, `/mode` and
//! `/contexts` in `registry_config` (which uses this file's answers and errors).
//!
//! Answers are `application/vnd.schemaregistry.v1+json`; refusals are Confluent's
//! `{"error_code": 40401, "message": "..."}` with the HTTP status the code names, so a
//! Confluent client raises the same error it would against the real registry. Booleans in
//! queries are read in any case (the Python client sends both `true` and `False`); lists
//! take `offset` and `limit` as Confluent's do. Path segments are percent-decoded, so a
//! subject with a `/` is sent as `%2F`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Params;
use crate::Cluster;
use crate::registry::{
    NewSchema, RegisteredSchema, RegistryError, SchemaById, SchemaReference, SchemaRegistry,
    SchemaType,
};

/// Confluent's media type, which its clients ask for.
pub(super) const MEDIA_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// The registry's endpoints, merged into the control API's table.
pub(super) fn routes() -> Router<Arc<Cluster>> {
    Router::new()
        .route("/schemas/types", get(schema_types))
        .route("/schemas/ids/{id}", get(schema_by_id))
        .route("/schemas/ids/{id}/schema", get(schema_text_by_id))
        .route("/schemas/ids/{id}/subjects", get(subjects_by_id))
        .route("/schemas/ids/{id}/versions", get(versions_by_id))
        .route("/subjects", get(subjects))
        .route("/subjects/{subject}", post(lookup).delete(delete_subject))
        .route("/subjects/{subject}/versions", get(versions).post(register))
        .route(
            "/subjects/{subject}/versions/{version}",
            get(version).delete(delete_version),
        )
        .route(
            "/subjects/{subject}/versions/{version}/schema",
            get(version_schema),
        )
        .route(
            "/subjects/{subject}/versions/{version}/referencedby",
            get(referenced_by),
        )
}

/// A registry answer: Confluent's JSON, or its error.
pub(super) type SrResult = Result<Response, SrError>;

/// A refusal in Confluent's form.
pub(super) struct SrError(pub RegistryError);

impl From<RegistryError> for SrError {
    fn from(e: RegistryError) -> Self {
        SrError(e)
    }
}

impl IntoResponse for SrError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({ "error_code": self.0.error_code, "message": self.0.message });
        respond(status, body.to_string())
    }
}

fn respond(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, MEDIA_TYPE)], body).into_response()
}

pub(super) fn sr_ok(body: Value) -> SrResult {
    Ok(respond(StatusCode::OK, body.to_string()))
}

/// A request Confluent would refuse as malformed (not JSON, a bad number).
pub(super) fn unprocessable(message: impl Into<String>) -> SrError {
    SrError(RegistryError {
        error_code: 422,
        message: message.into(),
    })
}

/// The query parameters, by name (the last one of a name wins).
pub(super) struct QueryParams(BTreeMap<String, String>);

impl QueryParams {
    pub(super) fn from(
        query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    ) -> Result<Self, SrError> {
        let Query(pairs) = query.map_err(|e| unprocessable(e.body_text()))?;
        Ok(QueryParams(pairs.into_iter().collect()))
    }

    pub(super) fn text(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// `true` in any case; absent or anything else is false.
    pub(super) fn flag(&self, name: &str) -> bool {
        self.text(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    fn number(&self, name: &str, default: i64) -> Result<i64, SrError> {
        match self.text(name) {
            None => Ok(default),
            Some(v) => v
                .parse()
                .map_err(|_| unprocessable(format!("{name} {v:?} is not a number"))),
        }
    }

    /// `offset` and `limit` (negative: no limit) applied to a list.
    pub(super) fn page<T>(&self, items: Vec<T>) -> Result<Vec<T>, SrError> {
        let offset = self.number("offset", 0)?.max(0) as usize;
        let limit = self.number("limit", -1)?;
        let items = items.into_iter().skip(offset);
        Ok(match usize::try_from(limit) {
            Ok(limit) => items.take(limit).collect(),
            Err(_) => items.collect(),
        })
    }
}

/// The body of a registration, a lookup or a compatibility test.
#[derive(Deserialize)]
struct SchemaBody {
    schema: Option<String>,
    #[serde(rename = "schemaType")]
    schema_type: Option<String>,
    references: Option<Vec<SchemaReference>>,
    id: Option<i32>,
    version: Option<i32>,
}

/// The schema a request body carries; 42201 for a missing schema or an unknown type.
pub(super) fn new_schema(body: &[u8]) -> Result<NewSchema, SrError> {
    let body: SchemaBody = serde_json::from_slice(body)
        .map_err(|e| unprocessable(format!("the request body is not a schema: {e}")))?;
    let schema_type = match body.schema_type.as_deref() {
        None => SchemaType::Avro,
        Some(t) => [SchemaType::Avro, SchemaType::Json, SchemaType::Protobuf]
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| RegistryError::invalid_schema_type(t))?,
    };
    let Some(schema) = body.schema.filter(|s| !s.trim().is_empty()) else {
        return Err(RegistryError::invalid_schema("the schema is empty").into());
    };
    Ok(NewSchema {
        schema,
        schema_type,
        references: body.references.unwrap_or_default(),
        id: body.id.filter(|id| *id >= 0),
        version: body.version.filter(|v| *v > 0),
    })
}

/// Confluent's form of a type, references and text: `schemaType` only when not AVRO,
/// `references` only when there are some.
fn schema_fields(out: &mut Value, kind: SchemaType, references: &[SchemaReference], text: Value) {
    if kind != SchemaType::Avro {
        out["schemaType"] = json!(kind.name());
    }
    if !references.is_empty() {
        out["references"] = json!(references);
    }
    out["schema"] = text;
}

fn version_json(v: &RegisteredSchema) -> Value {
    let mut out = json!({ "subject": v.subject, "version": v.version, "id": v.id });
    schema_fields(&mut out, v.schema_type, &v.references, json!(v.schema));
    if v.deleted {
        out["deleted"] = json!(true);
    }
    out
}

/// The registry's text of a schema, as the answer's whole body.
fn raw(text: String) -> SrResult {
    Ok(respond(StatusCode::OK, text))
}

fn registry(cluster: &Cluster) -> &SchemaRegistry {
    cluster.schema_registry()
}

fn schema_id(text: &str) -> Result<i32, SrError> {
    text.parse()
        .map_err(|_| RegistryError::schema_not_found(format!("{text} ")).into())
}

/// The schema a `{id}` path segment names: 40403 for an id that is not a number or was
/// never given.
fn known_schema(registry: &SchemaRegistry, text: &str) -> Result<(i32, SchemaById), SrError> {
    let id = schema_id(text)?;
    let schema = registry
        .schema_by_id(id)
        .ok_or_else(|| RegistryError::schema_not_found(format!("{id} ")))?;
    Ok((id, schema))
}

async fn schema_types() -> SrResult {
    sr_ok(json!(["AVRO", "JSON", "PROTOBUF"]))
}

/// `GET /schemas/ids/{id}` (`?format=serialized`: a Protobuf schema as base64 of its
/// FileDescriptorProto; `?fetch_max_id=true` adds `maxId`).
async fn schema_by_id(
    State(cluster): State<Arc<Cluster>>,
    Params(id): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let registry = registry(&cluster);
    let (id, s) = known_schema(registry, &id)?;
    let text = match query.text("format") {
        Some("serialized") => registry.serialized(id).unwrap_or(s.schema),
        _ => s.schema,
    };
    let mut out = json!({});
    schema_fields(&mut out, s.schema_type, &s.references, json!(text));
    if query.flag("fetch_max_id") {
        out["maxId"] = json!(registry.max_id());
    }
    sr_ok(out)
}

async fn schema_text_by_id(
    State(cluster): State<Arc<Cluster>>,
    Params(id): Params<String>,
) -> SrResult {
    let (_, s) = known_schema(registry(&cluster), &id)?;
    raw(s.schema)
}

async fn subjects_by_id(
    State(cluster): State<Arc<Cluster>>,
    Params(id): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let registry = registry(&cluster);
    let (id, _) = known_schema(registry, &id)?;
    let mut subjects = registry.subjects_for_id(id, query.flag("deleted"));
    if let Some(only) = query.text("subject") {
        subjects.retain(|s| s == only);
    }
    sr_ok(json!(query.page(subjects)?))
}

async fn versions_by_id(
    State(cluster): State<Arc<Cluster>>,
    Params(id): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let registry = registry(&cluster);
    let (id, _) = known_schema(registry, &id)?;
    let mut pairs = registry.versions_for_id(id, query.flag("deleted"));
    if let Some(only) = query.text("subject") {
        pairs.retain(|(s, _)| s == only);
    }
    let pairs: Vec<Value> = pairs
        .into_iter()
        .map(|(subject, version)| json!({ "subject": subject, "version": version }))
        .collect();
    sr_ok(json!(query.page(pairs)?))
}

/// `GET /subjects` (`?subjectPrefix=` or the Python client's `?subject=`, `?deleted=`,
/// `?deleted_only=`).
async fn subjects(
    State(cluster): State<Arc<Cluster>>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let prefix = query
        .text("subjectPrefix")
        .or(query.text("subject"))
        .unwrap_or_default();
    let deleted_only = query.flag("deleted_only") || query.flag("deletedOnly");
    let subjects =
        registry(&cluster).subjects_matching(prefix, query.flag("deleted"), deleted_only);
    sr_ok(json!(query.page(subjects)?))
}

/// `POST /subjects/{subject}`: the version holding this schema.
async fn lookup(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
    body: Bytes,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let new = new_schema(&body)?;
    let found = registry(&cluster).lookup(&subject, &new, query.flag("deleted"))?;
    sr_ok(version_json(&found))
}

async fn delete_subject(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let versions = registry(&cluster).delete_subject(&subject, query.flag("permanent"))?;
    sr_ok(json!(versions))
}

async fn versions(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let registry = registry(&cluster);
    let versions = if query.flag("deleted_only") || query.flag("deletedOnly") {
        let live = registry.versions_of(&subject, false).unwrap_or_default();
        let mut all = registry.versions_of(&subject, true)?;
        all.retain(|v| !live.contains(v));
        all
    } else {
        registry.versions_of(&subject, query.flag("deleted"))?
    };
    sr_ok(json!(query.page(versions)?))
}

/// `POST /subjects/{subject}/versions`: registers, answers `{"id": n}`. `normalize` is
/// accepted: every schema is compared in its canonical form anyway.
async fn register(
    State(cluster): State<Arc<Cluster>>,
    Params(subject): Params<String>,
    body: Bytes,
) -> SrResult {
    let new = new_schema(&body)?;
    let id = registry(&cluster).register(&subject, new)?;
    sr_ok(json!({ "id": id }))
}

async fn version(
    State(cluster): State<Arc<Cluster>>,
    Params((subject, version)): Params<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let v = registry(&cluster).version_of(&subject, &version, query.flag("deleted"))?;
    sr_ok(version_json(&v))
}

async fn version_schema(
    State(cluster): State<Arc<Cluster>>,
    Params((subject, version)): Params<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let v = registry(&cluster).version_of(&subject, &version, query.flag("deleted"))?;
    raw(v.schema)
}

async fn delete_version(
    State(cluster): State<Arc<Cluster>>,
    Params((subject, version)): Params<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let deleted = registry(&cluster).delete_version(&subject, &version, query.flag("permanent"))?;
    sr_ok(json!(deleted))
}

async fn referenced_by(
    State(cluster): State<Arc<Cluster>>,
    Params((subject, version)): Params<(String, String)>,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> SrResult {
    let query = QueryParams::from(query)?;
    let ids = registry(&cluster).referenced_by(&subject, &version)?;
    sr_ok(json!(query.page(ids)?))
}
