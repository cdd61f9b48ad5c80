//! Protobuf: parsing a schema (`.proto` source or, as confluent-kafka-python's serializer
//! registers it, base64 of a serialized `FileDescriptorProto`) with its references, the
//! canonical and serialized forms, decoding a payload and, in `compat`, Confluent's
//! compatibility rules.
//!
//! A schema is one file compiled by protox (pure Rust, no protoc) from memory: the main
//! file, each reference under its name (the import path), and built-ins that clients
//! import without registering them: protox's well-known types (`google/protobuf/*.proto`)
//! and small stand-ins for Confluent's `confluent/meta.proto` and
//! `confluent/type/decimal.proto` (not for `google/type/*.proto`, which must then come as
//! references). A reference may itself be source or base64, as the Python client fetches
//! and registers them serialized.
//!
//! The canonical form is the main file's descriptor, minus what says nothing about the
//! schema (its file name, source positions, `json_name`s equal to the default, a
//! `proto2` syntax tag), encoded and in base64: the source and base64 forms of one file
//! then register as one schema.
//!
//! A payload (Confluent's framing) is the message indexes, then the message: a zigzag
//! varint count, then that many zigzag varints, the path to the message type among the
//! file's top-level messages and then their nested ones; the lone byte 0 stands for
//! `[0]`, the file's first message. It decodes to JSON (prost-reflect's mapping) with
//! every field that has no presence shown, defaults too, so that records of one type have
//! one shape (unset messages, proto3 `optional`s and oneof members stay absent), the
//! `.proto` field names, enum names, bytes in base64, and 64-bit integers as JSON numbers
//! (exact in `serde_json`, unlike proto3 JSON's strings). A payload with
//! fields its schema does not declare, or left-over bytes that do not parse, is an error:
//! the schema is the writer's own, so those bytes were not written with it.

mod compat;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost::Message;
use prost_reflect::{
    DynamicMessage, FileDescriptor, MessageDescriptor, ReflectMessage, SerializeOptions,
    Value as ProtoValue,
};
use protox::Compiler;
use protox::file::{ChainFileResolver, File, FileResolver, GoogleFileResolver};
use serde_json::Value;

use super::schema::Reference;

/// The file name a schema given as source is compiled under.
const MAIN_FILE: &str = "schema.proto";

/// More message indexes than this is not a real nesting depth.
const MAX_INDEXES: i64 = 100;

/// Confluent's metadata options, which its clients' generated files may import. Written
/// for this registry: the `Meta` message and the extensions that carry it.
const CONFLUENT_META: &str = r#"
syntax = "proto3";
package confluent;
import "google/protobuf/descriptor.proto";
message Meta {
  string doc = 1;
  map<string, string> params = 2;
  repeated string tags = 3;
}
extend google.protobuf.FileOptions { Meta file_meta = 1088; }
extend google.protobuf.MessageOptions { Meta message_meta = 1088; }
extend google.protobuf.FieldOptions { Meta field_meta = 1088; }
extend google.protobuf.EnumOptions { Meta enum_meta = 1088; }
extend google.protobuf.EnumValueOptions { Meta enum_value_meta = 1088; }
"#;

/// Confluent's decimal type (an unscaled big-endian two's complement value, a precision
/// and a scale).
const CONFLUENT_DECIMAL: &str = r#"
syntax = "proto3";
package confluent.type;
message Decimal {
  bytes value = 1;
  uint32 precision = 2;
  int32 scale = 3;
}
"#;

const JSON_OPTIONS: SerializeOptions = SerializeOptions::new()
    .skip_default_fields(false)
    .use_proto_field_name(true)
    .stringify_64_bit_integers(false);

pub struct ProtobufSchema {
    file: FileDescriptor,
}

impl ProtobufSchema {
    pub fn parse(text: &str, references: &[Reference<'_>]) -> Result<Self, String> {
        let mut files = BTreeMap::new();
        for (name, source) in [
            ("confluent/meta.proto", CONFLUENT_META),
            ("confluent/type/decimal.proto", CONFLUENT_DECIMAL),
        ] {
            files.insert(
                name.to_string(),
                File::from_source(name, source).expect("a built-in parses"),
            );
        }
        for reference in references {
            let file = load(Some(reference.name), reference.schema)
                .map_err(|e| format!("the referenced schema {}: {e}", reference.name))?;
            files.insert(reference.name.to_string(), file);
        }
        let main = load(None, text)?;
        let name = main.name().to_string();
        if references.iter().any(|r| r.name == name) {
            return Err(format!(
                "the schema's file name {name} is also a reference's name"
            ));
        }
        files.insert(name.clone(), main);
        let mut resolver = ChainFileResolver::new();
        resolver.add(Files(files));
        resolver.add(GoogleFileResolver::new());
        let mut compiler = Compiler::with_file_resolver(resolver);
        compiler
            .open_file(&name)
            .map_err(|e| format!("invalid Protobuf schema: {e}"))?;
        let file = compiler
            .descriptor_pool()
            .get_file_by_name(&name)
            .ok_or("invalid Protobuf schema: the file did not compile")?;
        Ok(ProtobufSchema { file })
    }

    pub fn canonical(&self) -> String {
        let mut proto = self.file.file_descriptor_proto().clone();
        proto.name = None;
        proto.source_code_info = None;
        if proto.syntax.as_deref() == Some("proto2") {
            proto.syntax = None;
        }
        for message in &mut proto.message_type {
            drop_default_json_names(message);
        }
        BASE64.encode(proto.encode_to_vec())
    }

    /// Base64 of the main file's `FileDescriptorProto` (extension options kept, source
    /// positions dropped): what `GET /schemas/ids/{id}?format=serialized` answers.
    pub fn serialized(&self) -> String {
        let file_type = prost_types::FileDescriptorProto::default().descriptor();
        match DynamicMessage::decode(file_type, self.file.encode_to_vec().as_slice()) {
            Ok(mut file) => {
                file.clear_field_by_name("source_code_info");
                BASE64.encode(file.encode_to_vec())
            }
            // The pool encoded it itself; should it not read back, the plain form will do.
            Err(_) => {
                let mut proto = self.file.file_descriptor_proto().clone();
                proto.source_code_info = None;
                BASE64.encode(proto.encode_to_vec())
            }
        }
    }

    /// The full names of the file's top-level messages, in file order (what the tests
    /// check a parse against).
    #[cfg(test)]
    pub fn message_names(&self) -> Vec<String> {
        self.file
            .messages()
            .map(|m| m.full_name().to_string())
            .collect()
    }

    pub fn can_read(&self, writer: &Self) -> Vec<String> {
        compat::incompatibilities(&writer.file, &self.file)
    }

    pub fn decode(&self, payload: &[u8]) -> Result<Value, String> {
        let (indexes, bytes) = message_indexes(payload)?;
        let message_type = self.message_at(&indexes)?;
        let message = DynamicMessage::decode(message_type.clone(), bytes)
            .map_err(|e| format!("the payload is not a {}: {e}", message_type.full_name()))?;
        if let Some(unknown) = first_unknown_field(&message) {
            return Err(format!(
                "the payload is not a {}: it has {unknown}",
                message_type.full_name()
            ));
        }
        message
            .serialize_with_options(serde_json::value::Serializer, &JSON_OPTIONS)
            .map_err(|e| {
                format!(
                    "the {} cannot be shown as JSON: {e}",
                    message_type.full_name()
                )
            })
    }

    /// The message type a path of indexes names.
    fn message_at(&self, indexes: &[usize]) -> Result<MessageDescriptor, String> {
        let unknown = || format!("the message indexes {indexes:?} name no message of the schema");
        let (first, rest) = indexes.split_first().ok_or_else(unknown)?;
        let mut message = self.file.messages().nth(*first).ok_or_else(unknown)?;
        for index in rest {
            let child = message.child_messages().nth(*index).ok_or_else(unknown)?;
            message = child;
        }
        Ok(message)
    }
}

/// A file from its text: base64 of a serialized descriptor, or `.proto` source. `name`
/// is a reference's import path; the main file keeps the name its descriptor has.
fn load(name: Option<&str>, text: &str) -> Result<File, String> {
    if let Some(mut bytes) = serialized_descriptor(text) {
        let own = prost_types::FileDescriptorProto::decode(bytes.as_slice())
            .map(|p| p.name.unwrap_or_default())
            .unwrap_or_default();
        let wanted = name.map(str::to_string).unwrap_or(if own.is_empty() {
            MAIN_FILE.to_string()
        } else {
            own.clone()
        });
        if wanted != own {
            // A later occurrence of a singular field wins: appending the name renames the
            // file without re-encoding (which would drop extension options).
            prost::encoding::string::encode(1, &wanted, &mut bytes);
        }
        return File::decode_file_descriptor_proto(bytes.as_slice())
            .map_err(|e| format!("invalid Protobuf schema: {e}"));
    }
    File::from_source(name.unwrap_or(MAIN_FILE), text)
        .map_err(|e| format!("invalid Protobuf schema: {e}"))
}

/// The bytes of a base64-encoded `FileDescriptorProto`, if that is what `text` is.
fn serialized_descriptor(text: &str) -> Option<Vec<u8>> {
    let bytes = BASE64.decode(text.trim()).ok()?;
    prost_types::FileDescriptorProto::decode(bytes.as_slice()).ok()?;
    Some(bytes)
}

/// Clears each `json_name` that is the one protobuf derives from the field name anyway
/// (protox writes them all; descriptors that clients embed have only explicit ones).
fn drop_default_json_names(message: &mut prost_types::DescriptorProto) {
    for field in &mut message.field {
        if field.json_name.as_deref() == Some(default_json_name(field.name()).as_str()) {
            field.json_name = None;
        }
    }
    for nested in &mut message.nested_type {
        drop_default_json_names(nested);
    }
}

/// lowerCamelCase as protobuf derives it: each `_` dropped, the letter after it upper-case.
fn default_json_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Splits a payload into its message indexes and the message bytes.
fn message_indexes(payload: &[u8]) -> Result<(Vec<usize>, &[u8]), String> {
    let mut buf = payload;
    let count = zigzag_varint(&mut buf).map_err(|e| format!("the message index count {e}"))?;
    if count == 0 {
        return Ok((vec![0], buf));
    }
    if !(1..=MAX_INDEXES).contains(&count) {
        return Err(format!("the message index count {count} is out of range"));
    }
    let mut indexes = Vec::new();
    for _ in 0..count {
        let index = zigzag_varint(&mut buf).map_err(|e| format!("a message index {e}"))?;
        indexes.push(
            usize::try_from(index).map_err(|_| format!("the message index {index} is negative"))?,
        );
    }
    Ok((indexes, buf))
}

fn zigzag_varint(buf: &mut &[u8]) -> Result<i64, String> {
    if buf.is_empty() {
        return Err("is missing (the payload is empty)".into());
    }
    let raw = prost::encoding::decode_varint(buf).map_err(|_| "is not a varint".to_string())?;
    Ok((raw >> 1) as i64 ^ -((raw & 1) as i64))
}

/// The first field number, in the message or any message inside it, that its type does
/// not declare.
fn first_unknown_field(message: &DynamicMessage) -> Option<String> {
    if let Some(field) = message.unknown_fields().next() {
        return Some(format!(
            "field number {} that {} does not declare",
            field.number(),
            message.descriptor().full_name()
        ));
    }
    message
        .fields()
        .find_map(|(_, value)| unknown_inside(value))
}

fn unknown_inside(value: &ProtoValue) -> Option<String> {
    match value {
        ProtoValue::Message(message) => first_unknown_field(message),
        ProtoValue::List(items) => items.iter().find_map(unknown_inside),
        // The smallest report, so that which map entry is named does not vary.
        ProtoValue::Map(entries) => entries.values().filter_map(unknown_inside).min(),
        _ => None,
    }
}

/// The schema's files by name, for protox.
struct Files(BTreeMap<String, File>);

impl FileResolver for Files {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| protox::Error::file_not_found(name))
    }
}
