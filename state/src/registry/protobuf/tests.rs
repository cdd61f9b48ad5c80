use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use prost::Message;
use prost_reflect::{DynamicMessage, Value as ProtoValue};
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, FieldDescriptorProto, FileDescriptorProto};
use serde_json::json;

use super::ProtobufSchema;
use crate::registry::schema::{Reference, unexpected_verdict};

const ORDERS: &str = r#"
syntax = "proto3";
package shop;

message Order {
  string id = 1;
  int64 total_cents = 2;
  Line line = 3;
  message Line {
    string sku = 1;
    uint32 quantity = 2;
  }
}

message Refund {
  string order_id = 1;
}
"#;

fn parse(text: &str) -> ProtobufSchema {
    ProtobufSchema::parse(text, &[]).unwrap_or_else(|e| panic!("{e}"))
}

/// A payload: the message indexes as Confluent's serializers write them, then the bytes.
fn framed(indexes: &[i64], message: &DynamicMessage) -> Vec<u8> {
    let mut out = Vec::new();
    let zigzag = |n: i64| ((n << 1) ^ (n >> 63)) as u64;
    if indexes == [0] {
        out.push(0);
    } else {
        prost::encoding::encode_varint(zigzag(indexes.len() as i64), &mut out);
        for i in indexes {
            prost::encoding::encode_varint(zigzag(*i), &mut out);
        }
    }
    message.encode(&mut out).unwrap();
    out
}

fn message(schema: &ProtobufSchema, name: &str) -> DynamicMessage {
    let desc = schema.file.parent_pool().get_message_by_name(name).unwrap();
    DynamicMessage::new(desc)
}

#[test]
fn text_that_is_not_a_protobuf_schema_is_refused() {
    for (text, refs) in [
        ("message {", vec![]),
        ("syntax = \"proto3\"; message A { Missing m = 1; }", vec![]),
        (
            "syntax = \"proto3\"; import \"other.proto\"; message A { }",
            vec![],
        ),
        (
            "syntax = \"proto3\"; message A { string a = 1; string b = 1; }",
            vec![],
        ),
        (
            "syntax = \"proto3\"; import \"b.proto\"; message A { B b = 1; }",
            vec![Reference {
                name: "b.proto",
                schema: "message {",
            }],
        ),
    ] {
        let err = ProtobufSchema::parse(text, &refs)
            .err()
            .unwrap_or_else(|| panic!("{text} parsed"));
        assert!(err.contains("invalid Protobuf schema"), "{text}: {err}");
    }
}

/// The descriptor protoc embeds in generated code for `user.proto` (what the Python
/// serializer registers): no `json_name`s, no syntax tag for proto2.
fn user_descriptor() -> FileDescriptorProto {
    let field = |name: &str, number: i32, ty: Type, label: Label| FieldDescriptorProto {
        name: Some(name.into()),
        number: Some(number),
        r#type: Some(ty as i32),
        label: Some(label as i32),
        ..Default::default()
    };
    FileDescriptorProto {
        name: Some("user.proto".into()),
        package: Some("people".into()),
        message_type: vec![DescriptorProto {
            name: Some("User".into()),
            field: vec![
                field("full_name", 1, Type::String, Label::Required),
                field("age", 2, Type::Int32, Label::Optional),
            ],
            ..Default::default()
        }],
        ..Default::default()
    }
}

const USER: &str = r#"
// Same file, as source.
syntax = "proto2";
package people;
message User {
  required string full_name = 1;
  optional int32 age = 2;
}
"#;

#[test]
fn source_and_base64_forms_of_one_file_are_one_schema() {
    let base64 = BASE64.encode(user_descriptor().encode_to_vec());
    let from_text = parse(USER);
    let from_base64 = parse(&base64);
    assert_eq!(from_text.canonical(), from_base64.canonical());
    assert_eq!(from_base64.message_names(), vec!["people.User"]);
    // What the serialized format answers parses back to the same schema.
    assert_eq!(
        parse(&from_text.serialized()).canonical(),
        from_text.canonical()
    );
    // A real change is another schema.
    let other = parse(&USER.replace("int32 age", "int64 age"));
    assert_ne!(other.canonical(), from_text.canonical());
}

#[test]
fn message_names_are_the_top_level_messages_in_file_order() {
    assert_eq!(
        parse(ORDERS).message_names(),
        vec!["shop.Order", "shop.Refund"]
    );
}

#[test]
fn a_payload_decodes_by_its_message_indexes() {
    let schema = parse(ORDERS);
    let mut line = message(&schema, "shop.Order.Line");
    line.set_field_by_name("sku", ProtoValue::String("A-1".into()));
    line.set_field_by_name("quantity", ProtoValue::U32(3));
    let mut order = message(&schema, "shop.Order");
    order.set_field_by_name("id", ProtoValue::String("o1".into()));
    order.set_field_by_name("total_cents", ProtoValue::I64(1_234_567_890_123));
    order.set_field_by_name("line", ProtoValue::Message(line.clone()));

    // The lone 0 byte: the first message.
    let decoded = schema.decode(&framed(&[0], &order)).unwrap();
    assert_eq!(
        decoded,
        json!({"id": "o1", "total_cents": 1_234_567_890_123_i64, "line": {"sku": "A-1", "quantity": 3}})
    );
    // The same path written out in full: a count of one (zigzag 2), then index 0.
    let full = [vec![2, 0], order.encode_to_vec()].concat();
    assert_eq!(schema.decode(&full).unwrap(), decoded);
    // A nested message: [0, 0] is Order.Line.
    assert_eq!(
        schema.decode(&framed(&[0, 0], &line)).unwrap(),
        json!({"sku": "A-1", "quantity": 3})
    );
    // Defaults are shown: an empty Refund.
    let refund = message(&schema, "shop.Refund");
    assert_eq!(
        schema.decode(&framed(&[1], &refund)).unwrap(),
        json!({"order_id": ""})
    );
}

#[test]
fn malformed_payloads_are_errors() {
    let schema = parse(ORDERS);
    let mut order = message(&schema, "shop.Order");
    order.set_field_by_name("id", ProtoValue::String("o1".into()));
    let good = framed(&[0], &order);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("a negative count", vec![1]),
        ("a count out of range", vec![0xfe, 0x03]),
        ("a truncated varint", vec![0x80]),
        ("an index past the messages", framed(&[5], &order)),
        (
            "a nested index past the nested messages",
            framed(&[1, 1], &order),
        ),
        ("a negative index", vec![2, 1]),
        ("a truncated message", good[..good.len() - 1].to_vec()),
        (
            "an undeclared field",
            [good.clone(), vec![0x48, 0x01]].concat(),
        ),
        (
            "trailing garbage",
            [good.clone(), vec![0xff, 0xff, 0xff]].concat(),
        ),
        ("a bad wire type", [good.clone(), vec![0x0f]].concat()),
    ];
    for (name, payload) in cases {
        assert!(
            schema.decode(&payload).is_err(),
            "{name}: {payload:?} decoded"
        );
    }
    assert!(schema.decode(&good).is_ok());
}

const ADDRESS: &str = r#"
syntax = "proto3";
package common;
message Address { string city = 1; int32 zip = 2; }
"#;

const CUSTOMER: &str = r#"
syntax = "proto3";
package crm;
import "common/address.proto";
import "google/protobuf/timestamp.proto";
import "confluent/meta.proto";
message Customer {
  string name = 1 [(confluent.field_meta) = { doc: "the full name" }];
  common.Address address = 2;
  google.protobuf.Timestamp since = 3;
}
"#;

#[test]
fn imports_resolve_to_references_and_built_ins() {
    for address in [
        ADDRESS.to_string(),
        BASE64.encode(parse(ADDRESS).file.file_descriptor_proto().encode_to_vec()),
    ] {
        let refs = [Reference {
            name: "common/address.proto",
            schema: &address,
        }];
        let schema = ProtobufSchema::parse(CUSTOMER, &refs).unwrap_or_else(|e| panic!("{e}"));
        let mut addr = message(&schema, "common.Address");
        addr.set_field_by_name("city", ProtoValue::String("Oslo".into()));
        let mut customer = message(&schema, "crm.Customer");
        customer.set_field_by_name("address", ProtoValue::Message(addr));
        let decoded = schema.decode(&framed(&[0], &customer)).unwrap();
        assert_eq!(decoded["address"], json!({"city": "Oslo", "zip": 0}));
    }
    // The serialized form names its imports; a client registering it passes the reference.
    let refs = [Reference {
        name: "common/address.proto",
        schema: ADDRESS,
    }];
    let schema = ProtobufSchema::parse(CUSTOMER, &refs).unwrap();
    let again = ProtobufSchema::parse(&schema.serialized(), &refs).unwrap();
    assert_eq!(again.canonical(), schema.canonical());
}

/// `(name, writer, reader, incompatibilities)`: compatible when the list is empty.
fn compat_cases() -> Vec<(&'static str, &'static str, &'static str, Vec<&'static str>)> {
    vec![
        (
            "identical",
            "message A { int32 a = 1; }",
            "message A { int32 a = 1; }",
            vec![],
        ),
        (
            "field added",
            "message A { int32 a = 1; }",
            "message A { int32 a = 1; string b = 2; }",
            vec![],
        ),
        (
            "field removed",
            "message A { int32 a = 1; string b = 2; }",
            "message A { int32 a = 1; }",
            vec![],
        ),
        (
            "field renamed",
            "message A { int32 a = 1; }",
            "message A { int32 renamed = 1; }",
            vec![],
        ),
        (
            "int32 to int64",
            "message A { int32 a = 1; }",
            "message A { int64 a = 1; }",
            vec![],
        ),
        (
            "int32 to sint32",
            "message A { int32 a = 1; }",
            "message A { sint32 a = 1; }",
            vec!["#/A/1: FIELD_SCALAR_KIND_CHANGED"],
        ),
        (
            "string to bytes",
            "message A { string a = 1; }",
            "message A { bytes a = 1; }",
            vec![],
        ),
        (
            "string to int32",
            "message A { string a = 1; }",
            "message A { int32 a = 1; }",
            vec!["#/A/1: FIELD_SCALAR_KIND_CHANGED"],
        ),
        (
            "fixed32 to sfixed32",
            "message A { fixed32 a = 1; }",
            "message A { sfixed32 a = 1; }",
            vec![],
        ),
        (
            "float to double",
            "message A { float a = 1; }",
            "message A { double a = 1; }",
            vec!["FIELD_SCALAR_KIND_CHANGED"],
        ),
        (
            "enum to int32",
            "enum E { X = 0; } message A { E a = 1; }",
            "enum E { X = 0; } message A { int32 a = 1; }",
            vec![],
        ),
        (
            "scalar to message",
            "message B {} message A { int32 a = 1; }",
            "message B {} message A { B a = 1; }",
            vec!["#/A/1: FIELD_KIND_CHANGED"],
        ),
        (
            "message type renamed",
            "message B {} message C {} message A { B a = 1; }",
            "message B {} message C {} message A { C a = 1; }",
            vec!["#/A/1: FIELD_NAMED_TYPE_CHANGED"],
        ),
        (
            "map value type changed",
            "message A { map<string, int32> m = 1; }",
            "message A { map<string, string> m = 1; }",
            vec!["#/A/1: FIELD_SCALAR_KIND_CHANGED"],
        ),
        (
            "numeric field made repeated",
            "message A { int32 a = 1; }",
            "message A { repeated int32 a = 1; }",
            vec!["FIELD_NUMERIC_LABEL_CHANGED"],
        ),
        (
            "string field made repeated",
            "message A { string a = 1; }",
            "message A { repeated string a = 1; }",
            vec![],
        ),
        (
            "message removed",
            "message A {} message B {}",
            "message A {}",
            vec!["#/B: MESSAGE_REMOVED"],
        ),
        (
            "message added",
            "message A {}",
            "message A {} message B {}",
            vec![],
        ),
        (
            "messages reordered",
            "message A {} message B {}",
            "message B {} message A {}",
            vec![],
        ),
        (
            "package changed",
            "package p; message A {}",
            "package q; message A {}",
            vec!["#/: PACKAGE_CHANGED"],
        ),
        (
            "nested field type changed",
            "message A { message N { string s = 1; } }",
            "message A { message N { double s = 1; } }",
            vec!["#/A/N/1: FIELD_SCALAR_KIND_CHANGED"],
        ),
        (
            "a field's message type changed inside",
            "message B { string s = 1; } message A { B b = 1; }",
            "message B { int32 s = 1; } message A { B b = 1; }",
            vec![
                "#/B/1: FIELD_SCALAR_KIND_CHANGED",
                "#/A/1: FIELD_NAMED_TYPE_CHANGED",
            ],
        ),
        (
            "required field added (proto2)",
            "syntax = \"proto2\"; message A { optional int32 a = 1; }",
            "syntax = \"proto2\"; message A { optional int32 a = 1; required int32 b = 2; }",
            vec!["#/A/2: REQUIRED_FIELD_ADDED"],
        ),
        (
            "required field removed (proto2)",
            "syntax = \"proto2\"; message A { required int32 a = 1; }",
            "syntax = \"proto2\"; message A { }",
            vec!["#/A/1: REQUIRED_FIELD_REMOVED"],
        ),
        (
            "oneof added around one field",
            "message A { int32 a = 1; }",
            "message A { oneof o { int32 a = 1; } }",
            vec![],
        ),
        (
            "two fields moved into a oneof",
            "message A { int32 a = 1; int32 b = 2; }",
            "message A { oneof o { int32 a = 1; int32 b = 2; } }",
            vec!["#/A/o: MULTIPLE_FIELDS_MOVED_TO_ONEOF"],
        ),
        (
            "field moved into an existing oneof",
            "message A { int32 a = 1; oneof o { int32 b = 2; } }",
            "message A { oneof o { int32 a = 1; int32 b = 2; } }",
            vec!["FIELD_MOVED_TO_EXISTING_ONEOF"],
        ),
        (
            "oneof field added",
            "message A { oneof o { int32 a = 1; } }",
            "message A { oneof o { int32 a = 1; string b = 2; } }",
            vec![],
        ),
        (
            "oneof field removed",
            "message A { oneof o { int32 a = 1; string b = 2; } }",
            "message A { oneof o { int32 a = 1; } }",
            vec!["#/A/o/2: ONEOF_FIELD_REMOVED"],
        ),
        (
            "field moved out of a oneof",
            "message A { oneof o { int32 a = 1; string b = 2; } }",
            "message A { oneof o { int32 a = 1; } string b = 2; }",
            vec![],
        ),
        (
            "proto3 optional is a plain field",
            "message A { int32 a = 1; }",
            "message A { optional int32 a = 1; }",
            vec![],
        ),
        (
            "enum value added and removed",
            "enum E { X = 0; Y = 1; } message A { E e = 1; }",
            "enum E { X = 0; Z = 2; } message A { E e = 1; }",
            vec![],
        ),
        (
            "recursive message",
            "message N { N next = 1; int32 v = 2; }",
            "message N { N next = 1; int64 v = 2; }",
            vec![],
        ),
    ]
}

#[test]
fn compatibility_follows_confluents_protobuf_rules() {
    let mut failures = Vec::new();
    for (name, writer, reader, expected) in compat_cases() {
        let with_syntax = |text: &str| {
            if text.starts_with("syntax") {
                text.to_string()
            } else {
                format!("syntax = \"proto3\"; {text}")
            }
        };
        let found = parse(&with_syntax(reader)).can_read(&parse(&with_syntax(writer)));
        failures.extend(unexpected_verdict(name, &expected, &found));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn compatibility_compares_types_from_references() {
    let customer =
        "syntax = \"proto3\"; import \"common/address.proto\"; message C { common.Address a = 1; }";
    let old = ProtobufSchema::parse(
        customer,
        &[Reference {
            name: "common/address.proto",
            schema: ADDRESS,
        }],
    )
    .unwrap();
    let changed = ADDRESS.replace("int32 zip", "string zip");
    let new = ProtobufSchema::parse(
        customer,
        &[Reference {
            name: "common/address.proto",
            schema: &changed,
        }],
    )
    .unwrap();
    let found = new.can_read(&old);
    assert!(
        found
            .iter()
            .any(|f| f == "#/Address/2: FIELD_SCALAR_KIND_CHANGED"),
        "{found:?}"
    );
    assert!(
        found.iter().any(|f| f == "#/C/1: FIELD_NAMED_TYPE_CHANGED"),
        "{found:?}"
    );
    assert!(old.can_read(&old).is_empty());
}

#[test]
fn a_parsed_schema_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<ProtobufSchema>();
}

#[test]
fn decoded_json_has_every_field_without_presence_enum_names_and_exact_64_bit_numbers() {
    let schema = parse(
        "syntax = \"proto3\"; enum Color { RED = 0; BLUE = 1; } message B { int32 x = 1; }
         message A { Color c = 1; B b = 2; map<string, int32> m = 3; repeated string tags = 4;
           optional int32 maybe = 5; oneof o { string s = 6; int32 i = 7; } uint64 big = 8;
           bytes raw = 9; }",
    );
    let mut a = message(&schema, "A");
    a.set_field_by_name("c", ProtoValue::EnumNumber(1));
    a.set_field_by_name("big", ProtoValue::U64(u64::MAX));
    a.set_field_by_name("raw", ProtoValue::Bytes(vec![1, 2, 3].into()));
    a.set_field_by_name("i", ProtoValue::I32(0));
    assert_eq!(
        schema.decode(&framed(&[1], &a)).unwrap(),
        json!({"c": "BLUE", "m": {}, "tags": [], "i": 0, "big": u64::MAX, "raw": "AQID"})
    );
    // Unset fields with presence (a message, a proto3 optional, a oneof) stay absent.
    assert_eq!(
        schema
            .decode(&framed(&[1], &message(&schema, "A")))
            .unwrap(),
        json!({"c": "RED", "m": {}, "tags": [], "big": 0, "raw": ""})
    );
}
