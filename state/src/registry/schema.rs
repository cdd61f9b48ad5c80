//! One parsed schema, whatever its type, and the contract each type's module fulfils.
//!
//! A schema arrives as text (what the REST API's `schema` field carries) plus the schemas
//! its `references` name, already resolved by the registry (transitively: every schema
//! reachable through references, each once). Each type's module turns that into a parsed
//! value which can:
//! - give a **canonical** string, equal for two registrations Confluent would treat as
//!   the same schema (so that registering it again returns the same id);
//! - say whether it **can read** data written with another schema of its type, as a list
//!   of incompatibilities (empty: compatible) — BACKWARD is `new.can_read(old)`, FORWARD
//!   `old.can_read(new)`, FULL both;
//! - **decode** a payload (the bytes after the wire format's magic byte and schema id)
//!   into JSON, or say why it cannot.
//!
//! The dispatch over the types is `parsed::ParsedSchema`; this file holds only what the
//! types' modules themselves use (so that they and the dispatch form no cycle).

use serde::{Deserialize, Serialize};

/// The schema types the registry serves, named as Confluent's `schemaType` names them
/// (absent in a request means AVRO).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    #[default]
    Avro,
    Json,
    Protobuf,
}

impl SchemaType {
    /// Confluent's name for it.
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Json => "JSON",
            SchemaType::Protobuf => "PROTOBUF",
        }
    }
}

/// A schema that `references` names, resolved: the name it is referred to by (an Avro
/// full name, a JSON Schema `$ref` URL, a Protobuf import path), and its text.
#[derive(Debug, Clone, Copy)]
pub struct Reference<'a> {
    pub name: &'a str,
    pub schema: &'a str,
}

/// For the types' tables of compatibility cases: why `found` (a `can_read` answer) is not
/// what case `name` expects — compatible when `expected` is empty, else every expected
/// difference named — or `None` when it is.
#[cfg(all(test, feature = "registry"))]
pub fn unexpected_verdict(name: &str, expected: &[&str], found: &[String]) -> Option<String> {
    let ok = if expected.is_empty() {
        found.is_empty()
    } else {
        expected.iter().all(|e| found.iter().any(|f| f.contains(e)))
    };
    (!ok).then(|| format!("{name}: expected {expected:?}, found {found:?}"))
}
