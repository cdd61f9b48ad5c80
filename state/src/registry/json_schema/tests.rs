use serde_json::json;

use super::JsonSchema;
use crate::registry::schema::{Reference, unexpected_verdict};

fn schema(value: serde_json::Value) -> JsonSchema {
    JsonSchema::parse(&value.to_string(), &[]).expect("a valid schema")
}

#[test]
fn text_that_is_not_a_valid_schema_is_refused() {
    for (text, why) in [
        ("{", "not JSON"),
        ("42", "object or a boolean"),
        (r#"{"type": "strin"}"#, "invalid JSON schema"),
        (r#"{"minLength": -1}"#, "invalid JSON schema"),
        (
            r#"{"$schema": "https://example.com/mine", "type": "string"}"#,
            "unknown $schema",
        ),
        (r#"{"$ref": "missing.json"}"#, "invalid JSON schema"),
    ] {
        let err = JsonSchema::parse(text, &[])
            .err()
            .unwrap_or_else(|| panic!("{text} parsed"));
        assert!(err.contains(why), "{text}: {err}");
    }
    assert!(JsonSchema::parse("true", &[]).is_ok());
}

#[test]
fn key_order_and_whitespace_do_not_change_the_canonical_form() {
    let a = JsonSchema::parse(
        r#"{"type":"object","properties":{"b":{"type":"string"},"a":{"type":"integer"}}}"#,
        &[],
    )
    .unwrap();
    let b = JsonSchema::parse(
        "{\n  \"properties\": {\"a\": {\"type\": \"integer\"}, \"b\": {\"type\": \"string\"}},\n  \"type\": \"object\"\n}",
        &[],
    )
    .unwrap();
    assert_eq!(a.canonical(), b.canonical());
    assert_eq!(
        a.canonical(),
        r#"{"properties":{"a":{"type":"integer"},"b":{"type":"string"}},"type":"object"}"#
    );
}

#[test]
fn a_payload_decodes_to_its_json_or_names_what_is_wrong_where() {
    let s = schema(json!({
        "type": "object",
        "properties": {"id": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["id"]
    }));
    assert_eq!(
        s.decode(br#"{"id": 7, "tags": ["a"]}"#).unwrap(),
        json!({"id": 7, "tags": ["a"]})
    );
    let err = s
        .decode(br#"{"id": "seven", "tags": ["a", 2]}"#)
        .unwrap_err();
    assert!(err.contains("/id: ") && err.contains("/tags/1: "), "{err}");
    let err = s.decode(b"{}").unwrap_err();
    assert!(err.contains("/: ") && err.contains("\"id\""), "{err}");
    let err = s
        .decode(br#"{"id": 1.5, "tags": [1, 2, 3, 4]}"#)
        .unwrap_err();
    assert!(err.ends_with("(and 2 more)"), "{err}");
    assert!(s.decode(b"{\"id\": 1").unwrap_err().contains("not JSON"));
    assert!(s.decode(&[0xff, 0xfe]).unwrap_err().contains("not JSON"));
}

#[test]
fn a_ref_to_a_referenced_schema_is_resolved_from_memory() {
    let address =
        r#"{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}"#;
    let main = r#"{"type": "object", "properties": {"home": {"$ref": "address.json"}}}"#;
    let refs = [Reference {
        name: "address.json",
        schema: address,
    }];
    let s = JsonSchema::parse(main, &refs).unwrap();
    assert!(s.decode(br#"{"home": {"city": "Oslo"}}"#).is_ok());
    let err = s.decode(br#"{"home": {}}"#).unwrap_err();
    assert!(err.contains("/home: "), "{err}");
    // An absolute URL as the reference name works the same way.
    let main = r#"{"$ref": "https://example.com/schemas/address.json"}"#;
    let refs = [Reference {
        name: "https://example.com/schemas/address.json",
        schema: address,
    }];
    let s = JsonSchema::parse(main, &refs).unwrap();
    assert!(s.decode(br#"{"city": 3}"#).is_err());
}

#[test]
fn the_draft_comes_from_schema_and_defaults_to_draft_07() {
    // Draft 2020-12's prefixItems is not a keyword in draft-07: ignored there.
    let tuple = json!({"prefixItems": [{"type": "integer"}]});
    assert!(schema(tuple.clone()).decode(br#"["x"]"#).is_ok());
    let mut v2020 = tuple;
    v2020["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    assert!(schema(v2020).decode(br#"["x"]"#).is_err());
}

/// `(name, writer, reader, incompatibilities)`: the reader reads the writer's data when
/// the list is empty; otherwise each listed text is in one incompatibility.
fn compat_cases() -> Vec<(
    &'static str,
    serde_json::Value,
    serde_json::Value,
    Vec<&'static str>,
)> {
    let obj = |props: serde_json::Value| json!({"type": "object", "properties": props});
    let closed = |props: serde_json::Value| json!({"type": "object", "properties": props, "additionalProperties": false});
    vec![
        (
            "identical",
            obj(json!({"a": {"type": "string"}})),
            obj(json!({"a": {"type": "string"}})),
            vec![],
        ),
        (
            "integer widens to number",
            obj(json!({"total": {"type": "integer"}})),
            obj(json!({"total": {"type": "number"}})),
            vec![],
        ),
        (
            "number narrows to integer",
            obj(json!({"total": {"type": "number"}})),
            obj(json!({"total": {"type": "integer"}})),
            vec!["#/properties/total: TYPE_NARROWED"],
        ),
        (
            "string to number",
            obj(json!({"a": {"type": "string"}})),
            obj(json!({"a": {"type": "number"}})),
            vec!["#/properties/a: TYPE_CHANGED"],
        ),
        (
            "type widened to a union",
            json!({"type": "string"}),
            json!({"type": ["string", "null"]}),
            vec![],
        ),
        (
            "union narrowed to one type",
            json!({"type": ["string", "null"]}),
            json!({"type": "string"}),
            vec!["TYPE_CHANGED"],
        ),
        (
            "enum value added",
            json!({"enum": ["a", "b"]}),
            json!({"enum": ["a", "b", "c"]}),
            vec![],
        ),
        (
            "enum value removed",
            json!({"enum": ["a", "b"]}),
            json!({"enum": ["a"]}),
            vec!["#/: ENUM_ARRAY_NARROWED"],
        ),
        (
            "optional property added to open model",
            obj(json!({})),
            obj(json!({"b": {"type": "string"}})),
            vec!["#/properties/b: PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"],
        ),
        (
            "property with empty schema added to open model",
            obj(json!({})),
            obj(json!({"b": {}})),
            vec![],
        ),
        (
            "property removed from open model",
            obj(json!({"b": {"type": "string"}})),
            obj(json!({})),
            vec![],
        ),
        (
            "optional property added to closed model",
            closed(json!({})),
            closed(json!({"b": {"type": "string"}})),
            vec![],
        ),
        (
            "property removed from closed model",
            closed(json!({"b": {"type": "string"}})),
            closed(json!({})),
            vec!["#/properties/b: PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL"],
        ),
        (
            "required property added to closed model",
            closed(json!({})),
            json!({"type": "object", "properties": {"b": {"type": "string"}}, "required": ["b"], "additionalProperties": false}),
            vec!["REQUIRED_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL"],
        ),
        (
            "required property with a default added to closed model",
            closed(json!({})),
            json!({"type": "object", "properties": {"b": {"type": "string", "default": "x"}}, "required": ["b"], "additionalProperties": false}),
            vec![],
        ),
        (
            "reader requires what the writer did not",
            obj(json!({"a": {"type": "string"}})),
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}),
            vec!["#/required/a: REQUIRED_ATTRIBUTE_ADDED"],
        ),
        (
            "reader no longer requires",
            json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}),
            obj(json!({"a": {"type": "string"}})),
            vec![],
        ),
        (
            "property added under a covering additionalProperties schema",
            json!({"type": "object", "additionalProperties": {"type": "string"}}),
            json!({"type": "object", "properties": {"b": {"type": "string"}}, "additionalProperties": {"type": "string"}}),
            vec![],
        ),
        (
            "property added not covered by patternProperties",
            json!({"type": "object", "patternProperties": {"^b": {"type": "integer"}}}),
            json!({"type": "object", "properties": {"bee": {"type": "string"}}, "patternProperties": {"^b": {"type": "integer"}}}),
            vec!["PROPERTY_ADDED_NOT_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL"],
        ),
        (
            "closing the model",
            obj(json!({})),
            closed(json!({})),
            vec!["#/additionalProperties: ADDITIONAL_PROPERTIES_REMOVED"],
        ),
        (
            "opening the model",
            closed(json!({})),
            obj(json!({})),
            vec![],
        ),
        (
            "maxLength tightened",
            json!({"type": "string", "maxLength": 10}),
            json!({"type": "string", "maxLength": 5}),
            vec!["#/maxLength: MAX_LENGTH_DECREASED"],
        ),
        (
            "maxLength loosened",
            json!({"type": "string", "maxLength": 5}),
            json!({"type": "string", "maxLength": 10}),
            vec![],
        ),
        (
            "minLength added",
            json!({"type": "string"}),
            json!({"type": "string", "minLength": 1}),
            vec!["MIN_LENGTH_ADDED"],
        ),
        (
            "pattern removed",
            json!({"type": "string", "pattern": "^a"}),
            json!({"type": "string"}),
            vec![],
        ),
        (
            "pattern changed",
            json!({"type": "string", "pattern": "^a"}),
            json!({"type": "string", "pattern": "^b"}),
            vec!["PATTERN_CHANGED"],
        ),
        (
            "minimum raised",
            json!({"type": "number", "minimum": 0}),
            json!({"type": "number", "minimum": 1}),
            vec!["#/minimum: MINIMUM_INCREASED"],
        ),
        (
            "maximum raised",
            json!({"type": "number", "maximum": 1}),
            json!({"type": "number", "maximum": 2}),
            vec![],
        ),
        (
            "multipleOf reduced",
            json!({"type": "integer", "multipleOf": 4}),
            json!({"type": "integer", "multipleOf": 2}),
            vec![],
        ),
        (
            "multipleOf expanded",
            json!({"type": "integer", "multipleOf": 2}),
            json!({"type": "integer", "multipleOf": 4}),
            vec!["MULTIPLE_OF_EXPANDED"],
        ),
        (
            "items type changed",
            json!({"type": "array", "items": {"type": "string"}}),
            json!({"type": "array", "items": {"type": "integer"}}),
            vec!["#/items: TYPE_CHANGED"],
        ),
        (
            "items schema removed",
            json!({"type": "array", "items": {"type": "string"}}),
            json!({"type": "array"}),
            vec![],
        ),
        (
            "maxItems added",
            json!({"type": "array"}),
            json!({"type": "array", "maxItems": 3}),
            vec!["MAX_ITEMS_ADDED"],
        ),
        (
            "uniqueItems added",
            json!({"type": "array"}),
            json!({"type": "array", "uniqueItems": true}),
            vec!["UNIQUE_ITEMS_ADDED"],
        ),
        (
            "tuple item added to a closed tuple",
            json!({"type": "array", "items": [{"type": "string"}], "additionalItems": false}),
            json!({"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false}),
            vec![],
        ),
        (
            "tuple item removed from a closed tuple",
            json!({"type": "array", "items": [{"type": "string"}, {"type": "integer"}], "additionalItems": false}),
            json!({"type": "array", "items": [{"type": "string"}], "additionalItems": false}),
            vec!["#/items/1: ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL"],
        ),
        (
            "oneOf gains a branch",
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]}),
            vec![],
        ),
        (
            "oneOf loses a branch",
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
            json!({"oneOf": [{"type": "string"}]}),
            vec!["SUM_TYPE_NARROWED"],
        ),
        (
            "oneOf becomes anyOf",
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
            json!({"anyOf": [{"type": "string"}, {"type": "integer"}]}),
            vec![],
        ),
        (
            "anyOf becomes allOf",
            json!({"anyOf": [{"type": "string"}, {"minLength": 2}]}),
            json!({"allOf": [{"type": "string"}, {"minLength": 2}]}),
            vec!["COMBINED_TYPE_CHANGED"],
        ),
        (
            "allOf gains a part",
            json!({"allOf": [{"type": "string"}]}),
            json!({"allOf": [{"type": "string"}, {"maxLength": 3}]}),
            vec!["PRODUCT_TYPE_EXTENDED"],
        ),
        (
            "a branch's type changes",
            json!({"oneOf": [{"type": "string"}, {"type": "integer"}]}),
            json!({"oneOf": [{"type": "string"}, {"type": "boolean"}]}),
            vec!["COMBINED_TYPE_SUBSCHEMAS_CHANGED"],
        ),
        (
            "a single type becomes a union containing it",
            json!({"type": "integer"}),
            json!({"oneOf": [{"type": "null"}, {"type": "integer"}]}),
            vec![],
        ),
        (
            "anything to a typed reader",
            json!(true),
            json!({"type": "string"}),
            vec!["TYPE_CHANGED"],
        ),
        (
            "a typed writer to anything",
            json!({"type": "string"}),
            json!(true),
            vec![],
        ),
        (
            "a $ref in definitions narrows",
            json!({"definitions": {"n": {"type": "number"}}, "type": "object", "properties": {"x": {"$ref": "#/definitions/n"}}}),
            json!({"definitions": {"n": {"type": "integer"}}, "type": "object", "properties": {"x": {"$ref": "#/definitions/n"}}}),
            vec!["#/properties/x: TYPE_NARROWED"],
        ),
        (
            "a recursive schema terminates",
            json!({"definitions": {"node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/node"}}}}, "$ref": "#/definitions/node"}),
            json!({"definitions": {"node": {"type": "object", "properties": {"next": {"$ref": "#/definitions/node"}}}}, "$ref": "#/definitions/node"}),
            vec![],
        ),
    ]
}

#[test]
fn compatibility_follows_confluents_json_schema_rules() {
    let mut failures = Vec::new();
    for (name, writer, reader, expected) in compat_cases() {
        let found = schema(reader).can_read(&schema(writer));
        failures.extend(unexpected_verdict(name, &expected, &found));
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn compatibility_follows_refs_into_referenced_schemas() {
    let old_address = r#"{"type": "object", "properties": {"zip": {"type": "number"}}}"#;
    let new_address = r#"{"type": "object", "properties": {"zip": {"type": "integer"}}}"#;
    let main = r#"{"type": "object", "properties": {"home": {"$ref": "address.json"}}}"#;
    let writer = JsonSchema::parse(
        main,
        &[Reference {
            name: "address.json",
            schema: old_address,
        }],
    )
    .unwrap();
    let reader = JsonSchema::parse(
        main,
        &[Reference {
            name: "address.json",
            schema: new_address,
        }],
    )
    .unwrap();
    assert_eq!(
        reader.can_read(&writer),
        vec!["#/properties/home/properties/zip: TYPE_NARROWED"]
    );
    assert!(writer.can_read(&reader).is_empty());
}

#[test]
fn a_parsed_schema_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<JsonSchema>();
}
