//! The schema registry's parsers, compatibility rules and decoders: the inputs a test's
//! services and the REST API hand it are untrusted (a schema text from any client, record
//! bytes from any producer), and the records answer decodes every wire-format value it
//! lists, so none of these may panic or hang.
//!
//! Each input is a fresh registry holding one schema of each type with the shapes decoders
//! branch on (Avro records, unions, arrays, maps, enums, fixed, decimals; JSON Schema
//! objects, arrays, combinators and `$ref`s; Protobuf nested messages, oneofs, maps,
//! repeated and packed fields, enums). Then the fuzzed schema text is registered, as the
//! fuzzed type, under the subject of that type's fixed schema with FULL_TRANSITIVE
//! compatibility (parsing, then both directions of the compatibility check against it),
//! and under a subject of its own; and the fuzzed payload is decoded with every schema in
//! the registry (each id, in the Confluent wire format).
#![no_main]

use arbitrary::Arbitrary;
use broker_sim::{Compatibility, NewSchema, SchemaRegistry, SchemaType};
use libfuzzer_sys::fuzz_target;

const AVRO: &str = r#"{"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "string"},
  {"name": "total", "type": ["null", "double", {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}]},
  {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line",
    "fields": [{"name": "sku", "type": "string"}, {"name": "qty", "type": "int"}]}}},
  {"name": "tags", "type": {"type": "map", "values": "long"}},
  {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "PAID"]}},
  {"name": "hash", "type": {"type": "fixed", "name": "Hash", "size": 4}},
  {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}}
]}"#;

const JSON: &str = r##"{"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
  "definitions": {"line": {"type": "object", "properties": {"sku": {"type": "string"}}, "required": ["sku"]}},
  "properties": {"id": {"type": "string", "pattern": "^o-[0-9]+$"},
    "total": {"type": "number", "minimum": 0},
    "lines": {"type": "array", "items": {"$ref": "#/definitions/line"}, "maxItems": 8},
    "state": {"enum": ["NEW", "PAID"]},
    "note": {"oneOf": [{"type": "string"}, {"type": "null"}]}},
  "required": ["id"], "additionalProperties": false}"##;

const PROTOBUF: &str = r#"syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Order {
  string id = 1;
  double total = 2;
  repeated Line lines = 3;
  map<string, int64> tags = 4;
  State state = 5;
  oneof payment { string card = 6; bytes token = 7; }
  repeated int32 codes = 8;
  google.protobuf.Timestamp at = 9;
  message Line { string sku = 1; uint32 qty = 2; sint64 delta = 3; fixed32 f = 4; }
}
enum State { NEW = 0; PAID = 1; }
message Refund { string order_id = 1; Order.Line line = 2; }
"#;

const FIXED: [(SchemaType, &str, &str); 3] = [
    (SchemaType::Avro, "avro", AVRO),
    (SchemaType::Json, "json", JSON),
    (SchemaType::Protobuf, "protobuf", PROTOBUF),
];

#[derive(Arbitrary, Debug)]
struct Input {
    kind: u8,
    schema: String,
    payload: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let registry = SchemaRegistry::new();
    for (kind, subject, text) in FIXED {
        registry
            .register(subject, NewSchema::of(kind, text))
            .expect("the fixed schemas are valid");
        registry.set_compatibility(Some(subject), Compatibility::FullTransitive);
    }
    let (kind, subject, _) = FIXED[usize::from(input.kind) % FIXED.len()];
    let fuzzed = NewSchema::of(kind, input.schema.as_str());
    let _ = registry.check_compatibility(subject, None, &fuzzed);
    let _ = registry.register(subject, fuzzed.clone());
    let _ = registry.register("fuzzed", fuzzed);
    for id in 1..=registry.max_id() {
        let mut value = vec![0];
        value.extend(id.to_be_bytes());
        value.extend(&input.payload);
        let _ = registry.decode(&value, None);
    }
});
