//! [`ParsedSchema`]: one parsed schema of any type, dispatching the contract `schema`
//! describes to the type's module.

use serde_json::Value;

use super::schema::{Reference, SchemaType};
use super::{avro::AvroSchema, json_schema::JsonSchema, protobuf::ProtobufSchema};

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
