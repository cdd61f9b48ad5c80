//! The registry's public values: what a registration carries, what a version and an id
//! name, what decoding a record's bytes gives, and what the audit of a topic reports.
//! Their serde forms use Confluent's field names (`schemaType`, `references`…) where the
//! REST API shows them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::schema::SchemaType;

/// A reference from one schema to another registered one: the name the referring schema
/// uses for it (an Avro full name, a JSON Schema `$ref`, a Protobuf import path) and the
/// subject and version it is registered under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SchemaReference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// A schema to register (or to look up, or to test for compatibility).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewSchema {
    pub schema: String,
    pub schema_type: SchemaType,
    pub references: Vec<SchemaReference>,
    /// An explicit id: only in IMPORT mode.
    pub id: Option<i32>,
    /// An explicit version: the next one, or any free one in IMPORT mode.
    pub version: Option<i32>,
}

impl NewSchema {
    /// An Avro schema, without references.
    pub fn avro(text: impl Into<String>) -> Self {
        Self::of(SchemaType::Avro, text)
    }

    /// A schema of `kind`, without references.
    pub fn of(kind: SchemaType, text: impl Into<String>) -> Self {
        NewSchema {
            schema: text.into(),
            schema_type: kind,
            ..Default::default()
        }
    }

    pub fn with_references(mut self, references: Vec<SchemaReference>) -> Self {
        self.references = references;
        self
    }
}

/// A schema by id: its text as first registered, its type and references.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaById {
    pub id: i32,
    pub schema_type: SchemaType,
    pub schema: String,
    pub references: Vec<SchemaReference>,
}

/// One version of a subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegisteredSchema {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    pub schema_type: SchemaType,
    pub schema: String,
    pub references: Vec<SchemaReference>,
    /// Soft-deleted (only shown when deleted versions are asked for).
    pub deleted: bool,
}

/// A value in the Confluent wire format, decoded with the schema its id names.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecodedValue {
    pub schema_id: i32,
    /// The subject the value was read under: the one asked for if it has this id, else
    /// the first subject (by name) that has it; null when none has it live.
    pub subject: Option<String>,
    /// The schema's type; absent when the id is unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<SchemaType>,
    /// The value as JSON, when it decoded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// Why it did not decode (unknown id, bytes that do not fit the schema).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a record breaks its topic's schemas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViolationReason {
    /// Not a zero magic byte and a 4-byte id.
    NotWireFormat,
    /// The id names no schema.
    UnknownSchemaId,
    /// The bytes after the id do not decode with that schema.
    DoesNotDecode,
    /// The topic's subject (`<topic>-value`, `<topic>-key`) has no version with this id.
    NotInSubject,
}

/// A record whose value (or key) breaks the schemas of its topic (see
/// [`ViolationReason`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SchemaViolation {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    /// "value" or "key".
    pub part: &'static str,
    pub schema_id: Option<i32>,
    pub reason: ViolationReason,
    pub message: String,
}
