//! [`ParsedSchema`]: one parsed schema of any type, dispatching the contract `schema`
//! describes to the type's module.
//!
//! The types' modules (and their parsers: apache-avro, jsonschema, protox) come with the
//! `registry` cargo feature. Without it there is no parsed schema at all: the registry
//! keeps its model and REST API, and refuses every registration as an invalid schema
//! whose message names the missing feature.

use serde_json::Value;

use super::schema::{Reference, SchemaType};
#[cfg(feature = "registry")]
use super::{avro::AvroSchema, json_schema::JsonSchema, protobuf::ProtobufSchema};

/// A parsed schema of any type.
pub enum ParsedSchema {
    #[cfg(feature = "registry")]
    Avro(AvroSchema),
    #[cfg(feature = "registry")]
    Json(JsonSchema),
    #[cfg(feature = "registry")]
    Protobuf(ProtobufSchema),
}

#[cfg(feature = "registry")]
impl ParsedSchema {
    /// Parses `text` as a `kind` schema; the error says why it is not one (Confluent's
    /// 42201, "invalid schema").
    pub fn parse(
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

    pub fn kind(&self) -> SchemaType {
        match self {
            ParsedSchema::Avro(_) => SchemaType::Avro,
            ParsedSchema::Json(_) => SchemaType::Json,
            ParsedSchema::Protobuf(_) => SchemaType::Protobuf,
        }
    }

    /// The form two registrations of the same schema share.
    pub fn canonical(&self) -> String {
        match self {
            ParsedSchema::Avro(s) => s.canonical(),
            ParsedSchema::Json(s) => s.canonical(),
            ParsedSchema::Protobuf(s) => s.canonical(),
        }
    }

    /// Why data written with `writer` cannot be read with `self` (empty: it can). Schemas
    /// of different types are never compatible.
    pub fn can_read(&self, writer: &ParsedSchema) -> Vec<String> {
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
    pub fn decode(&self, payload: &[u8]) -> Result<Value, String> {
        match self {
            ParsedSchema::Avro(s) => s.decode(payload),
            ParsedSchema::Json(s) => s.decode(payload),
            ParsedSchema::Protobuf(s) => s.decode(payload),
        }
    }

    /// A Protobuf schema as base64 of its FileDescriptorProto; None for other types.
    pub fn serialized(&self) -> Option<String> {
        match self {
            ParsedSchema::Protobuf(p) => Some(p.serialized()),
            _ => None,
        }
    }
}

#[cfg(not(feature = "registry"))]
impl ParsedSchema {
    pub fn parse(
        kind: SchemaType,
        _text: &str,
        _references: &[Reference<'_>],
    ) -> Result<Self, String> {
        Err(format!(
            "{} schemas need broker-sim's `registry` cargo feature, which this build leaves \
             out (default-features = false): add features = [\"registry\"] to the \
             broker-sim dependency",
            kind.name()
        ))
    }

    pub fn canonical(&self) -> String {
        match *self {}
    }

    pub fn can_read(&self, _writer: &ParsedSchema) -> Vec<String> {
        match *self {}
    }

    pub fn decode(&self, _payload: &[u8]) -> Result<Value, String> {
        match *self {}
    }

    pub fn serialized(&self) -> Option<String> {
        match *self {}
    }
}
