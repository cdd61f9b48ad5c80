//! The registry's rules without HTTP: ids, versions, deletes, references, levels and
//! modes, decoding and the audit of one value.

use super::*;

const V1: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;
const V2: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}"#;
const V2_NO_DEFAULT: &str = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}"#;

fn code<T: std::fmt::Debug>(r: Result<T, RegistryError>) -> i32 {
    r.unwrap_err().error_code
}

#[test]
fn ids_are_sequential_and_shared_by_identical_schemas() {
    let r = SchemaRegistry::new();
    assert_eq!(r.register("a", NewSchema::avro(V1)).unwrap(), 1);
    assert_eq!(r.register("a", NewSchema::avro(V1)).unwrap(), 1);
    assert_eq!(r.register("b", NewSchema::avro(V1)).unwrap(), 1);
    assert_eq!(r.register("a", NewSchema::avro(V2)).unwrap(), 2);
    assert_eq!(r.versions("a").unwrap(), [1, 2]);
    assert_eq!(r.subjects_for_id(1, false), ["a", "b"]);
    assert_eq!(r.max_id(), 2);
    // The same text as another type is another schema.
    assert_eq!(
        r.register("c", NewSchema::of(SchemaType::Json, r#"{"type":"object"}"#))
            .unwrap(),
        3
    );
}

#[test]
fn an_incompatible_schema_is_refused_with_409_and_adds_nothing() {
    let r = SchemaRegistry::new();
    r.register("s", NewSchema::avro(V1)).unwrap();
    let e = r.register("s", NewSchema::avro(V2_NO_DEFAULT)).unwrap_err();
    assert_eq!((e.error_code, e.http_status()), (409, 409));
    assert!(e.message.contains("BACKWARD"), "{e}");
    assert_eq!(r.versions("s").unwrap(), [1]);
    assert_eq!(r.max_id(), 1);
    r.set_compatibility(Some("s"), Compatibility::None);
    assert_eq!(r.register("s", NewSchema::avro(V2_NO_DEFAULT)).unwrap(), 2);
}

#[test]
fn soft_deleted_versions_hide_and_permanent_deletes_need_them() {
    let r = SchemaRegistry::new();
    r.register("s", NewSchema::avro(V1)).unwrap();
    assert_eq!(code(r.delete_version("s", "1", true)), 40407);
    assert_eq!(r.delete_version("s", "latest", false).unwrap(), 1);
    assert_eq!(code(r.versions("s")), 40401);
    assert_eq!(r.versions_of("s", true).unwrap(), [1]);
    assert_eq!(r.subjects(), Vec::<String>::new());
    assert_eq!(r.subjects_matching("", false, true), ["s"]);
    assert!(r.schema_by_id(1).is_some());
    assert_eq!(r.delete_version("s", "1", true).unwrap(), 1);
    assert!(r.schema_by_id(1).is_none());
    assert_eq!(code(r.delete_subject("s", false)), 40401);
}

#[test]
fn a_referenced_version_stays_until_its_referrers_go() {
    let r = SchemaRegistry::new();
    let inner = r#"{"type":"enum","name":"Colour","symbols":["RED"]}"#;
    let outer = r#"{"type":"record","name":"Car","fields":[{"name":"c","type":"Colour"}]}"#;
    r.register("colour", NewSchema::avro(inner)).unwrap();
    let reference = SchemaReference {
        name: "Colour".into(),
        subject: "colour".into(),
        version: 1,
    };
    let id = r
        .register(
            "car",
            NewSchema::avro(outer).with_references(vec![reference]),
        )
        .unwrap();
    assert_eq!(r.referenced_by("colour", "1").unwrap(), [id]);
    assert_eq!(code(r.delete_subject("colour", false)), 42206);
    r.delete_subject("car", false).unwrap();
    assert_eq!(r.referenced_by("colour", "1").unwrap(), Vec::<i32>::new());
    r.delete_subject("colour", false).unwrap();
}

#[test]
fn read_only_refuses_writes_and_import_needs_an_empty_scope() {
    let r = SchemaRegistry::new();
    r.set_mode(Some("s"), Mode::Readonly, false).unwrap();
    assert_eq!(code(r.register("s", NewSchema::avro(V1))), 42205);
    assert_eq!(r.mode(Some("s")), Some(Mode::Readonly));
    assert_eq!(r.delete_mode(Some("s")).unwrap(), Mode::Readonly);
    assert_eq!(code(r.delete_mode(Some("s"))), 40409);
    r.register("s", NewSchema::avro(V1)).unwrap();
    assert_eq!(code(r.set_mode(None, Mode::Import, false)), 42205);
    r.set_mode(None, Mode::Import, true).unwrap();
    let imported = NewSchema {
        id: Some(7),
        version: Some(5),
        ..NewSchema::avro(V2)
    };
    assert_eq!(r.register("t", imported).unwrap(), 7);
    assert_eq!(r.version("t", 5).unwrap().id, 7);
}

#[test]
fn decoding_names_the_preferred_subject_and_the_audit_each_reason() {
    let r = SchemaRegistry::new();
    r.register("a", NewSchema::avro(V1)).unwrap();
    r.register("b", NewSchema::avro(V1)).unwrap();
    // {a: 3}: a zig-zag varint 6.
    let value = [0, 0, 0, 0, 1, 6];
    let d = r.decode(&value, Some("b")).unwrap();
    assert_eq!(d.subject.as_deref(), Some("b"));
    assert_eq!(d.value, Some(serde_json::json!({"a": 3})));
    assert_eq!(
        r.decode(&value, Some("x")).unwrap().subject.as_deref(),
        Some("a")
    );
    assert!(r.decode(b"text", None).is_none());
    assert!(r.decode(&[0, 0, 0, 0, 9, 6], None).unwrap().error.is_some());
    assert!(r.check(&value, "a").is_ok());
    let reason = |bytes: &[u8], subject: &str| r.check(bytes, subject).unwrap_err().0;
    assert_eq!(reason(b"text", "a"), ViolationReason::NotWireFormat);
    assert_eq!(
        reason(&[0, 0, 0, 0, 9, 6], "a"),
        ViolationReason::UnknownSchemaId
    );
    assert_eq!(
        reason(&[0, 0, 0, 0, 1, 6, 6], "a"),
        ViolationReason::DoesNotDecode
    );
    assert_eq!(reason(&value, "c"), ViolationReason::NotInSubject);
}
