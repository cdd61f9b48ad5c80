//! Avro schemas, on the `apache-avro` crate: parsing (with the named types its references
//! define), a canonical form, reader/writer compatibility and decoding a payload.
//!
//! - **References** are other Avro schemas defining named types (records, enums, fixed)
//!   this one uses by name; they are parsed together with it, and the schema is then
//!   *denormalized* (every reference inlined) so that compatibility and decoding work on
//!   one self-contained schema.
//! - **Canonical form**: the parsed schema serialized back to compact JSON. Unlike Avro's
//!   Parsing Canonical Form it keeps what Confluent keeps (defaults, docs, aliases, custom
//!   properties), so two schemas differing only in a default get different ids, as in
//!   Confluent; whitespace, key order and namespace spelling do not matter.
//! - **Compatibility** is `apache_avro::schema_compatibility`: a reader schema that may
//!   fail on some data of the writer's (a *partial* match: an enum symbol or a union
//!   branch it lacks) counts as incompatible, as Confluent's checker says.
//! - **Decoding** gives the JSON a person reads: records as objects, unions unwrapped
//!   (the branch's value, not Avro's `{"type": value}` JSON encoding), enums as their
//!   symbol, **bytes, fixed and decimals as base64 strings**, durations as
//!   `{"months","days","millis"}`, logical dates and times as their numbers, maps with
//!   sorted keys, non-finite floats as the strings "NaN", "Infinity", "-Infinity".

use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema_compatibility::{Compatibility, SchemaCompatibility};
use apache_avro::types::Value as AvroValue;
use base64::Engine;
use serde_json::{Map, Value};

use super::schema::Reference;

pub struct AvroSchema {
    /// Self-contained: every named type from the references inlined.
    full: Schema,
    canonical: String,
}

impl AvroSchema {
    pub fn parse(text: &str, references: &[Reference<'_>]) -> Result<Self, String> {
        let (schema, schemata) =
            Schema::parse_str_with_list(text, references.iter().map(|r| r.schema)).map_err(
                |e| {
                    let names: Vec<&str> = references.iter().map(|r| r.name).collect();
                    match names.is_empty() {
                        true => format!("invalid Avro schema: {e}"),
                        false => format!("invalid Avro schema (references {names:?}): {e}"),
                    }
                },
            )?;
        let canonical =
            serde_json::to_string(&schema).map_err(|e| format!("invalid Avro schema: {e}"))?;
        let mut full = schema;
        full.denormalize(&schemata)
            .map_err(|e| format!("invalid Avro schema: {e}"))?;
        Ok(AvroSchema { full, canonical })
    }

    pub fn canonical(&self) -> String {
        self.canonical.clone()
    }

    pub fn can_read(&self, writer: &Self) -> Vec<String> {
        match SchemaCompatibility::can_read(&writer.full, &self.full) {
            Ok(Compatibility::Full) => Vec::new(),
            Ok(Compatibility::Partial) => vec![
                "the reader cannot read every value of the writer's schema: it lacks an enum \
                 symbol or a union branch the writer has"
                    .to_string(),
            ],
            Err(e) => vec![readable(&e.to_string())],
        }
    }

    pub fn decode(&self, payload: &[u8]) -> Result<Value, String> {
        let reader = GenericDatumReader::builder(&self.full)
            .build()
            .map_err(|e| e.to_string())?;
        let mut cursor = payload;
        let value = reader
            .read_value(&mut cursor)
            .map_err(|e| format!("not Avro of this schema: {e}"))?;
        if !cursor.is_empty() {
            return Err(format!(
                "{} bytes left after the Avro value ({} bytes)",
                cursor.len(),
                payload.len() - cursor.len()
            ));
        }
        // apache-avro reads a string cut short by the end of the payload as a null rather
        // than failing; a null where the schema allows none is such a truncation.
        if !value.validate(&self.full) {
            return Err("not Avro of this schema: the payload ends inside a value".into());
        }
        Ok(to_json(value))
    }
}

/// apache-avro's messages start with "Incompatible schemata! "; the registry's answer
/// already says that.
fn readable(message: &str) -> String {
    message
        .trim_start_matches("Incompatible schemata!")
        .trim_start_matches("Incompatible schema types!")
        .trim()
        .to_string()
}

fn base64(bytes: &[u8]) -> Value {
    Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .unwrap_or_else(|| {
            Value::String(
                if f.is_nan() {
                    "NaN"
                } else if f > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                }
                .into(),
            )
        })
}

/// See the module doc for the choices.
fn to_json(value: AvroValue) -> Value {
    match value {
        AvroValue::Null => Value::Null,
        AvroValue::Boolean(b) => Value::Bool(b),
        AvroValue::Int(i) | AvroValue::Date(i) | AvroValue::TimeMillis(i) => i.into(),
        AvroValue::Long(l)
        | AvroValue::TimeMicros(l)
        | AvroValue::TimestampMillis(l)
        | AvroValue::TimestampMicros(l)
        | AvroValue::TimestampNanos(l)
        | AvroValue::LocalTimestampMillis(l)
        | AvroValue::LocalTimestampMicros(l)
        | AvroValue::LocalTimestampNanos(l) => l.into(),
        AvroValue::Float(f) => float(f64::from(f)),
        AvroValue::Double(d) => float(d),
        AvroValue::Bytes(b) | AvroValue::Fixed(_, b) => base64(&b),
        AvroValue::String(s) | AvroValue::Enum(_, s) => Value::String(s),
        AvroValue::Union(_, inner) => to_json(*inner),
        AvroValue::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        AvroValue::Map(items) => {
            let mut items: Vec<_> = items.into_iter().collect();
            items.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(items.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
        AvroValue::Record(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (k, to_json(v)))
                .collect::<Map<_, _>>(),
        ),
        AvroValue::Decimal(d) => Vec::<u8>::try_from(&d)
            .map(|b| base64(&b))
            .unwrap_or(Value::Null),
        AvroValue::BigDecimal(d) => Value::String(d.to_string()),
        AvroValue::Duration(d) => serde_json::json!({
            "months": u32::from(d.months()),
            "days": u32::from(d.days()),
            "millis": u32::from(d.millis()),
        }),
        AvroValue::Uuid(u) => Value::String(u.as_hyphenated().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use apache_avro::writer::datum::GenericDatumWriter;

    const USER: &str = r#"{"type":"record","name":"User","namespace":"t","fields":[
        {"name":"id","type":"long"},{"name":"name","type":"string"}]}"#;

    fn parse(text: &str) -> AvroSchema {
        AvroSchema::parse(text, &[]).unwrap()
    }

    fn encode(schema: &str, value: AvroValue) -> Vec<u8> {
        let schema = Schema::parse_str(schema).unwrap();
        GenericDatumWriter::builder(&schema)
            .build()
            .unwrap()
            .write_value_to_vec(value)
            .unwrap()
    }

    #[test]
    fn whitespace_and_key_order_do_not_change_the_canonical_form() {
        let other = r#"{"name":"User","type":"record","namespace":"t",
            "fields":[{"type":"long","name":"id"},{"name":"name","type":"string"}]}"#;
        assert_eq!(parse(USER).canonical(), parse(other).canonical());
    }

    #[test]
    fn a_default_changes_the_canonical_form() {
        let with_default = USER.replace(r#""type":"long"}"#, r#""type":"long","default":0}"#);
        assert_ne!(parse(USER).canonical(), parse(&with_default).canonical());
        assert!(parse(&with_default).canonical().contains("\"default\":0"));
    }

    #[test]
    fn garbage_is_not_a_schema() {
        assert!(AvroSchema::parse("{not json", &[]).is_err());
        assert!(AvroSchema::parse(r#"{"type":"record"}"#, &[]).is_err());
    }

    #[test]
    fn a_new_field_needs_a_default_for_the_new_schema_to_read_old_data() {
        let old = parse(USER);
        let added = |field: &str| {
            parse(&USER.replace(
                r#"{"name":"name","type":"string"}"#,
                &format!(r#"{{"name":"name","type":"string"}},{field}"#),
            ))
        };
        let without = added(r#"{"name":"email","type":"string"}"#);
        let problems = without.can_read(&old);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].contains("email"), "{problems:?}");
        assert!(
            added(r#"{"name":"email","type":"string","default":""}"#)
                .can_read(&old)
                .is_empty()
        );
        // The old schema reads data of the new one: it ignores the extra field.
        assert!(old.can_read(&without).is_empty());
    }

    #[test]
    fn a_missing_enum_symbol_is_incompatible() {
        let abc = parse(r#"{"type":"enum","name":"E","symbols":["A","B","C"]}"#);
        let ab = parse(r#"{"type":"enum","name":"E","symbols":["A","B"]}"#);
        assert!(abc.can_read(&ab).is_empty());
        assert!(!ab.can_read(&abc).is_empty());
    }

    #[test]
    fn references_define_named_types() {
        let address = r#"{"type":"record","name":"Address","namespace":"t","fields":[
            {"name":"city","type":"string"}]}"#;
        let person = r#"{"type":"record","name":"Person","namespace":"t","fields":[
            {"name":"home","type":"t.Address"}]}"#;
        assert!(AvroSchema::parse(person, &[]).is_err());
        let schema = AvroSchema::parse(
            person,
            &[Reference {
                name: "t.Address",
                schema: address,
            }],
        )
        .unwrap();
        let payload = encode(
            address,
            AvroValue::Record(vec![("city".into(), "Oslo".into())]),
        );
        assert_eq!(
            schema.decode(&payload).unwrap(),
            serde_json::json!({"home": {"city": "Oslo"}})
        );
    }

    #[test]
    fn decoding_gives_plain_json_and_refuses_leftovers() {
        let schema = parse(
            r#"{"type":"record","name":"R","fields":[
            {"name":"n","type":["null","int"]},{"name":"b","type":"bytes"},
            {"name":"m","type":{"type":"map","values":"long"}}]}"#,
        );
        let payload = encode(
            &schema.canonical(),
            AvroValue::Record(vec![
                ("n".into(), AvroValue::Union(1, Box::new(AvroValue::Int(7)))),
                ("b".into(), AvroValue::Bytes(vec![1, 2, 3])),
                (
                    "m".into(),
                    AvroValue::Map([("z".into(), 1i64.into()), ("a".into(), 2i64.into())].into()),
                ),
            ]),
        );
        let json = schema.decode(&payload).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"n": 7, "b": "AQID", "m": {"a": 2, "z": 1}})
        );
        let mut longer = payload.clone();
        longer.push(0);
        assert!(schema.decode(&longer).unwrap_err().contains("1 bytes left"));
        assert!(schema.decode(&payload[..2]).is_err());
    }

    #[test]
    fn a_string_cut_short_by_the_payload_end_does_not_decode() {
        let schema =
            parse(r#"{"type":"record","name":"R","fields":[{"name":"text","type":"string"}]}"#);
        // A length of 40 (zigzag 0x50), then only 5 bytes of text.
        let error = schema.decode(b"\x50short").unwrap_err();
        assert!(error.contains("ends inside a value"), "{error}");
        assert_eq!(
            schema.decode(b"\x0ashort").unwrap(),
            serde_json::json!({"text": "short"})
        );
    }
}
