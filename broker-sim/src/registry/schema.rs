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

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{avro::AvroSchema, json_schema::JsonSchema, protobuf::ProtobufSchema};

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
pub(crate) struct Reference<'a> {
    pub name: &'a str,
    pub schema: &'a str,
}

/// A parsed schema of any type.
pub(crate) enum ParsedSchema {
    Avro(AvroSchema),
    Json(JsonSchema),
    Protobuf(ProtobufSchema),
}

impl ParsedSchema {
    /// Parses `text` as a `kind` schema; the error says why it is not one (Confluent's
    /// 42201, "invalid schema").
    pub(crate) fn parse(
        kind: SchemaType,
        text: &str,
        references: &[Reference<'_>],
    ) -> Result<Self, String> {
        Ok(match kind {
            SchemaType::Avro => ParsedSchema::Avro(AvroSchema::parse(text, references)?),
            SchemaType::Json => ParsedSchema::Json(JsonSchema::parse(text, references)?),
            SchemaType::Protobuf => {
                ParsedSchema::Protobuf(ProtobufSchema::parse(text, references)?)
            }
        })
    }

    pub(crate) fn kind(&self) -> SchemaType {
        match self {
            ParsedSchema::Avro(_) => SchemaType::Avro,
            ParsedSchema::Json(_) => SchemaType::Json,
            ParsedSchema::Protobuf(_) => SchemaType::Protobuf,
        }
    }

    /// The form two registrations of the same schema share.
    pub(crate) fn canonical(&self) -> String {
        match self {
            ParsedSchema::Avro(s) => s.canonical(),
            ParsedSchema::Json(s) => s.canonical(),
            ParsedSchema::Protobuf(s) => s.canonical(),
        }
    }

    /// Why data written with `writer` cannot be read with `self` (empty: it can). Schemas
    /// of different types are never compatible.
    pub(crate) fn can_read(&self, writer: &ParsedSchema) -> Vec<String> {
        match (self, writer) {
            (ParsedSchema::Avro(r), ParsedSchema::Avro(w)) => r.can_read(w),
            (ParsedSchema::Json(r), ParsedSchema::Json(w)) => r.can_read(w),
            (ParsedSchema::Protobuf(r), ParsedSchema::Protobuf(w)) => r.can_read(w),
            (r, w) => vec![format!(
                "the schema type changed from {} to {}",
                w.kind().name(),
                r.kind().name()
            )],
        }
    }

    /// Decodes a payload written with this schema (the bytes after the wire format's
    /// magic byte and id; for Protobuf they start with the message indexes).
    pub(crate) fn decode(&self, payload: &[u8]) -> Result<Value, String> {
        match self {
            ParsedSchema::Avro(s) => s.decode(payload),
            ParsedSchema::Json(s) => s.decode(payload),
            ParsedSchema::Protobuf(s) => s.decode(payload),
        }
    }
}
